"""`qtr chat`, `qtr run --chat` and the default model.

Most tests run stories260K (../shared) with a small explicit chat template, so they need no fetched model; the
tests on SmolLM2-135M-Instruct (its own template, the default model) skip when it has not been fetched
(scripts/fetch_models.sh puts it in .cache/models).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import REPO_ROOT

SMOLLM2 = REPO_ROOT / ".cache" / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"

# A template without special tokens, so the stories260K SentencePiece vocabulary can carry it.
PLAIN_TEMPLATE = ("{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
                  "{% if add_generation_prompt %}assistant:{% endif %}")


@pytest.fixture
def plain_template(tmp_path: Path) -> Path:
    p = tmp_path / "plain.jinja"
    p.write_text(PLAIN_TEMPLATE)
    return p


@pytest.fixture(scope="session")
def smollm2() -> Path:
    if not SMOLLM2.is_file():
        pytest.skip(f"default model not fetched: {SMOLLM2} is missing (run scripts/fetch_models.sh)")
    return SMOLLM2


GREEDY = ("--temp", 0, "--n-predict", 24)


def test_run_chat_renders_the_template_and_continues_it(qtr, stories_model, plain_template):
    # One chat turn equals plain continuation of the rendered conversation text (same tokens: the template writes
    # no special tokens, and the vocabulary's BOS is added in both cases).
    chat = qtr.ok("run", "--model", stories_model, "--chat", "--chat-template", plain_template,
                  "--prompt", "Once upon a time", *GREEDY)
    plain = qtr.ok("run", "--model", stories_model, "--prompt", "user: Once upon a time\nassistant:", *GREEDY)
    assert chat.stdout == plain.stdout
    assert chat.stdout


def test_run_chat_with_system_message(qtr, stories_model, plain_template):
    chat = qtr.ok("run", "--model", stories_model, "--chat", "--chat-template", plain_template, "--system",
                  "Tell a story.", "--prompt", "Lily", *GREEDY)
    plain = qtr.ok("run", "--model", stories_model, "--prompt", "system: Tell a story.\nuser: Lily\nassistant:",
                   *GREEDY)
    assert chat.stdout == plain.stdout


def test_chat_first_turn_equals_run_chat(qtr, stories_model, plain_template):
    one = qtr.ok("run", "--model", stories_model, "--chat", "--chat-template", plain_template, "--prompt",
                 "Once upon a time", *GREEDY)
    r = qtr.ok("chat", "--model", stories_model, "--chat-template", plain_template, *GREEDY,
               input=b"Once upon a time\n")
    assert r.stdout == one.stdout + b"\n"


def test_chat_second_turn_reuses_the_conversation(qtr, stories_model, plain_template):
    """Turn 2 sees turn 1's question and answer: its output equals continuing the whole rendered conversation."""
    r = qtr.ok("chat", "--model", stories_model, "--chat-template", plain_template, *GREEDY,
               input=b"Once upon a time\nThe cat\n")
    lines = r.out.split("\n")
    assert len(lines) >= 3, r.out
    answer1 = qtr.ok("run", "--model", stories_model, "--chat", "--chat-template", plain_template,
                     "--prompt", "Once upon a time", *GREEDY).out
    assert r.out.startswith(answer1 + "\n")
    answer2 = r.out[len(answer1) + 1:]
    # PLAIN_TEMPLATE renders the answer verbatim after "assistant: ".
    conversation = f"user: Once upon a time\nassistant: {answer1}\nuser: The cat\nassistant:"
    expected = qtr.ok("run", "--model", stories_model, "--prompt", conversation, *GREEDY).out
    assert answer2 == expected + "\n"


def test_chat_reset_forgets_the_conversation(qtr, stories_model, plain_template):
    r = qtr.ok("chat", "--model", stories_model, "--chat-template", plain_template, *GREEDY,
               input=b"Once upon a time\n/reset\nOnce upon a time\n")
    first, second = r.out.split("\n")[:2]
    assert first == second


def test_chat_without_a_template_is_one_line_error(qtr, stories_model):
    r = qtr("chat", "--model", stories_model, input=b"hello\n")
    assert r.returncode == 1
    assert r.stdout == b""
    assert len(r.err.strip().splitlines()) == 1
    assert "no chat template" in r.err and "--chat-template" in r.err


def test_run_chat_unsupported_jinja_is_one_line_error(qtr, stories_model, tmp_path):
    bad = tmp_path / "bad.jinja"
    bad.write_text("{% for m in messages %}{% include 'x.jinja' %}{% endfor %}")
    r = qtr("run", "--model", stories_model, "--chat", "--chat-template", bad, "--prompt", "hi")
    assert r.returncode == 1
    assert len(r.err.strip().splitlines()) == 1
    assert "include" in r.err and ":1:" in r.err, r.err


def test_system_without_chat_is_a_usage_error(qtr, stories_model):
    r = qtr("run", "--model", stories_model, "--system", "x", "--prompt", "hi")
    assert r.returncode == 2
    assert "--chat" in r.err


def test_run_uses_qtr_model_when_no_model_is_given(qtr, stories_model, stories_expected):
    r = qtr.ok("run", "--n-predict", 200, "--temp", 0, env={"QTR_MODEL": str(stories_model)})
    assert r.stdout == stories_expected


def test_default_model_run_chat_answers_on_topic(qtr, smollm2):
    r = qtr.ok("run", "--chat", "--prompt", "What is the capital of France? Answer in one sentence.",
               "--temp", 0, "--repeat-penalty", 1.1, "--n-predict", 40, env={"QTR_MODEL": ""})
    assert "Paris" in r.out, r.out
    assert "stopped at end of sequence" in r.err, r.err


def test_default_model_chat_two_turns(qtr, smollm2):
    r = qtr.ok("chat", "--temp", 0, "--repeat-penalty", 1.1, "--n-predict", 60, env={"QTR_MODEL": ""},
               input=b"What is the capital of France?\nGive me three tips for staying healthy.\n")
    assert "Paris" in r.out, r.out
    assert "1." in r.out and "2." in r.out, r.out


def test_qtr_model_pointing_nowhere_is_one_line_error(qtr, tmp_path):
    r = qtr("run", "--temp", 0, "--prompt", "hi", env={"QTR_MODEL": str(tmp_path / "missing.gguf")})
    assert r.returncode == 1
    assert r.stdout == b""
    assert len(r.err.strip().splitlines()) == 1 and "missing.gguf" in r.err, r.err
