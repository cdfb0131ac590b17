"""`qtr run`'s sampling and stop options on stories260K (../shared; skipped when absent):
--temp --top-k --top-p --min-p --repeat-penalty --repeat-last-n --presence-penalty --frequency-penalty --seed
--stop (repeatable) --logit-bias ID=BIAS (repeatable).
"""
from __future__ import annotations

import pytest

from conftest import parse_ids

ALL_SAMPLING_FLAGS = ["--top-k", 20, "--top-p", 0.9, "--min-p", 0.02, "--repeat-penalty", 1.1, "--repeat-last-n",
                      32, "--presence-penalty", 0.2, "--frequency-penalty", 0.1, "--logit-bias", "13=1.5",
                      "--logit-bias", "20=-inf"]


def run(qtr, model, *args):
    return qtr.ok("run", "--model", model, *args)


def greedy(qtr, model, *args, n=200):
    return run(qtr, model, "--n-predict", n, "--temp", 0, *args)


# ---------------------------------------------------------------------------------------------------------------
# seeds and greedy


def test_same_seed_same_output_with_every_flag(qtr, stories_model):
    a = run(qtr, stories_model, "--n-predict", 80, "--temp", 0.9, "--seed", 11, *ALL_SAMPLING_FLAGS).stdout
    b = run(qtr, stories_model, "--n-predict", 80, "--temp", 0.9, "--seed", 11, *ALL_SAMPLING_FLAGS).stdout
    assert a and a == b


def test_different_seeds_differ(qtr, stories_model):
    outs = {run(qtr, stories_model, "--n-predict", 60, "--temp", 1.0, "--top-k", 0, "--seed", s).stdout
            for s in range(1, 5)}
    assert len(outs) >= 3


def test_temp_zero_is_the_expected_greedy_text(qtr, stories_model, stories_expected):
    out = greedy(qtr, stories_model, n=60).stdout
    assert out and stories_expected.startswith(out)


def test_temp_zero_ignores_the_filters(qtr, stories_model, stories_expected):
    """top-k / top-p / min-p do not change the most likely token, so greedy output stays the same."""
    out = greedy(qtr, stories_model, "--top-k", 3, "--top-p", 0.5, "--min-p", 0.3).stdout
    assert out == stories_expected


def test_top_k_one_is_greedy_at_any_temperature(qtr, stories_model, stories_expected):
    out = run(qtr, stories_model, "--n-predict", 200, "--temp", 5, "--top-k", 1, "--seed", 3).stdout
    assert out == stories_expected


def test_repeat_penalty_changes_greedy_text(qtr, stories_model, stories_expected):
    out = greedy(qtr, stories_model, "--repeat-penalty", 1.5).stdout
    assert out and out != stories_expected
    # --repeat-last-n 0 turns the penalties off.
    assert greedy(qtr, stories_model, "--repeat-penalty", 1.5, "--repeat-last-n", 0).stdout == stories_expected


def test_logit_bias_minus_inf_bans_a_token(qtr, stories_model, stories_expected):
    first = greedy(qtr, stories_model, n=1).stdout
    ids = parse_ids(qtr.ok("tokenize", "--model", stories_model, "--text", first.decode(), "--no-bos").out)
    assert len(ids) == 1, ids
    out = greedy(qtr, stories_model, "--logit-bias", f"{ids[0]}=-inf", n=20).stdout
    assert out and not out.startswith(first)
    # A large positive bias forces a token.
    forced = greedy(qtr, stories_model, "--logit-bias", f"{ids[0]}=100", n=3).out
    assert parse_ids(qtr.ok("tokenize", "--model", stories_model, "--text", forced, "--no-bos").out) == [ids[0]] * 3


# ---------------------------------------------------------------------------------------------------------------
# stop strings


def test_stop_cuts_the_text_before_the_stop_string(qtr, stories_model, stories_expected):
    r = greedy(qtr, stories_model, "--stop", "Lily")
    want = stories_expected[:stories_expected.index(b"Lily")]
    assert r.stdout == want
    assert "stop string 'Lily'" in r.err


def test_stop_spanning_tokens_and_earliest_of_several(qtr, stories_model, stories_expected):
    text = stories_expected.decode()
    r = greedy(qtr, stories_model, "--stop", "the park.", "--stop", "red ball", "--stop", "not in the text")
    assert r.stdout.decode() == text[:text.index("the park.")]
    r = greedy(qtr, stories_model, "--stop", "red ball", "--stop", "mom said")
    assert r.stdout.decode() == text[:text.index("red ball")]


def test_stop_not_found_changes_nothing(qtr, stories_model, stories_expected):
    assert greedy(qtr, stories_model, "--stop", "zebra!").stdout == stories_expected


# ---------------------------------------------------------------------------------------------------------------
# errors: one line on stderr, nothing on stdout, non-zero exit


@pytest.mark.parametrize("args,want_rc", [
    (["--temp", "-1"], 2),
    (["--top-k", "-1"], 2),
    (["--top-k", "abc"], 2),
    (["--top-p", "0"], 2),
    (["--top-p", "1.5"], 2),
    (["--min-p", "2"], 2),
    (["--min-p", "nan"], 2),
    (["--repeat-penalty", "0"], 2),
    (["--repeat-penalty", "-1"], 2),
    (["--repeat-last-n", "-2"], 2),
    (["--presence-penalty", "nan"], 2),
    (["--frequency-penalty", "inf"], 2),
    (["--seed", "-1"], 2),
    (["--logit-bias", "5"], 2),
    (["--logit-bias", "5="], 2),
    (["--logit-bias", "=3"], 2),
    (["--logit-bias", "x=3"], 2),
    (["--logit-bias", "5=inf"], 2),
    (["--logit-bias", "5=abc"], 2),
    (["--logit-bias", "-5=1"], 2),
    (["--logit-bias", "512=1"], 1),  # the vocabulary has 512 tokens
    (["--stop", ""], 2),
    (["--top-k", "5", "--top-k", "6"], 2),
], ids=lambda v: "_".join(map(str, v)) if isinstance(v, list) else str(v))
def test_bad_values_are_one_line_errors(qtr, stories_model, args, want_rc):
    r = qtr("run", "--model", stories_model, "--n-predict", 5, *args)
    assert r.returncode == want_rc, r.describe()
    assert r.stdout == b"", r.describe()
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qtr run: "), r.describe()


def test_help_lists_the_sampling_flags(qtr):
    out = qtr.ok("run", "--help").out
    for flag in ("--temp", "--top-k", "--top-p", "--min-p", "--repeat-penalty", "--repeat-last-n",
                 "--presence-penalty", "--frequency-penalty", "--seed", "--stop", "--logit-bias"):
        assert flag in out, flag
