"""Generation: greedy output equals `qtr run --temp 0`, streaming, cancellation, stop strings, sampling options."""
from __future__ import annotations

import subprocess

import pytest

import qtr

PROMPT = "Once upon a time"


def cli_run(qtr_bin, model_path, prompt: str, n: int) -> str:
    out = subprocess.run(
        [str(qtr_bin), "run", "--model", str(model_path), "--prompt", prompt, "--temp", "0", "--n-predict", str(n)],
        capture_output=True, check=True, timeout=60,
    )
    return out.stdout.decode("utf-8")


@pytest.mark.parametrize("prompt,n", [(PROMPT, 64), ("Lily", 200), ("", 32)])
def test_greedy_equals_cli(stories, stories_path, qtr_bin, prompt, n):
    text = "".join(stories.generate(prompt, max_tokens=n, temperature=0))
    assert text == cli_run(qtr_bin, stories_path, prompt, n)


def test_greedy_matches_shared_expected_text(stories, stories_path):
    expected = (stories_path.parent / "stories260K.expected.txt")
    if not expected.is_file():
        pytest.skip(f"../shared not found: {expected} is missing")
    text = "Once upon" + "".join(stories.generate("Once upon", max_tokens=40, temperature=0))
    assert expected.read_text().startswith(text)


def test_stream_pieces_concatenate_to_full_text(stories):
    stream = stories.generate(PROMPT, max_tokens=80, temperature=0)
    assert stream.stop_reason is None and not stream.finished
    pieces = list(stream)
    assert len(pieces) > 10 and all(isinstance(p, str) and p for p in pieces)
    assert "".join(pieces) == stream.text
    assert stream.finished and stream.stop_reason == "max_tokens"
    assert len(stream.tokens) == 80
    assert stream.n_prompt_tokens == len(stories.tokenize(PROMPT))
    assert stories.detokenize(stories.tokenize(PROMPT) + stream.tokens).endswith(stream.text)
    with pytest.raises(StopIteration):
        next(stream)  # stays exhausted
    assert "".join(stories.generate(PROMPT, max_tokens=80, temperature=0)) == stream.text


def test_early_close_cancels(stories):
    stream = stories.generate(PROMPT, max_tokens=1500, temperature=0)
    first = next(stream)
    stream.close()
    assert stream.finished and stream.stop_reason == "cancelled"
    assert 1 <= len(stream.tokens) < 100  # stopped within the queue's few pieces, far from 1500
    assert stream.text == first
    with pytest.raises(StopIteration):
        next(stream)
    stream.close()  # twice is fine


def test_close_before_start_and_with_block(stories):
    stream = stories.generate(PROMPT, max_tokens=50)
    stream.close()
    assert stream.stop_reason == "cancelled" and list(stream) == []
    with stories.generate(PROMPT, max_tokens=1500, temperature=0) as s:
        next(s)
    assert s.stop_reason == "cancelled"


def test_dropping_an_unfinished_stream_is_safe(stories):
    for _ in range(20):
        s = stories.generate(PROMPT, max_tokens=1000, temperature=0)
        next(s)
        del s
    assert "".join(stories.generate(PROMPT, max_tokens=8, temperature=0))


def test_stop_strings(stories):
    full = "".join(stories.generate(PROMPT, max_tokens=64, temperature=0))
    assert "Lily" in full
    stream = stories.generate(PROMPT, max_tokens=64, temperature=0, stop=["Lily"])
    text = "".join(stream)
    assert text == full[: full.index("Lily")]
    assert stream.stop_reason == "stop_string" and stream.stop_string == "Lily"
    # several stop strings: the first to appear wins; a str is one stop string
    assert "".join(stories.generate(PROMPT, max_tokens=64, temperature=0, stop=["zzz", ","])) == full[: full.index(",")]
    assert "".join(stories.generate(PROMPT, max_tokens=64, temperature=0, stop=",")) == full[: full.index(",")]


def test_stop_string_across_pieces(stories):
    full = "".join(stories.generate(PROMPT, max_tokens=64, temperature=0))
    # a stop string spanning a word boundary (several tokens)
    i = full.index("little girl")
    assert "".join(stories.generate(PROMPT, max_tokens=64, temperature=0, stop="le gi")) == full[: i + len("litt")]


def test_seeded_sampling_is_reproducible(stories):
    a = "".join(stories.generate(PROMPT, max_tokens=40, temperature=1.0, seed=42))
    b = "".join(stories.generate(PROMPT, max_tokens=40, temperature=1.0, seed=42))
    c = "".join(stories.generate(PROMPT, max_tokens=40, temperature=1.0, seed=43))
    assert a == b and a != c


def test_seeded_sampling_equals_cli(stories, stories_path, qtr_bin):
    out = subprocess.run(
        [str(qtr_bin), "run", "--model", str(stories_path), "--prompt", PROMPT, "--n-predict", "40", "--seed", "7",
         "--temp", "0.9", "--top-k", "20", "--top-p", "0.9", "--min-p", "0.02", "--repeat-penalty", "1.1"],
        capture_output=True, check=True, timeout=60,
    ).stdout.decode()
    text = "".join(stories.generate(PROMPT, max_tokens=40, seed=7, temperature=0.9, top_k=20, top_p=0.9,
                                    min_p=0.02, repeat_penalty=1.1))
    assert text == out


def test_token_prompt_and_logit_bias(stories):
    ids = stories.tokenize(PROMPT)
    assert "".join(stories.generate(ids, max_tokens=20, temperature=0)) == "".join(
        stories.generate(PROMPT, max_tokens=20, temperature=0))
    greedy = stories.generate(PROMPT, max_tokens=1, temperature=0)
    list(greedy)
    banned = greedy.tokens[0]
    s = stories.generate(PROMPT, max_tokens=1, temperature=0, logit_bias={banned: float("-inf")})
    list(s)
    assert s.tokens[0] != banned


def test_max_tokens_zero_and_context_full(stories_path):
    model = qtr.Model(stories_path, n_ctx=32)
    assert model.n_ctx == 32
    s = model.generate(PROMPT, max_tokens=0)
    assert list(s) == [] and s.stop_reason == "max_tokens"
    s = model.generate(PROMPT, max_tokens=100, temperature=0)
    list(s)
    assert s.stop_reason == "context_full"
    assert len(s.tokens) + s.n_prompt_tokens == 33  # the last sampled token needs no room
