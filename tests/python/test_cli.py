"""Contracts of the qtr command-line tool (see tools/qtr/main.cpp):

* `run` prints only the generated text on stdout; diagnostics go to stderr.
* every error is ONE line on stderr, nothing on stdout, and a non-zero exit: 1 for failures, 2 for usage errors.
* `<command> --help` exits 0 and lists the command's options.
"""
from __future__ import annotations

import re

import gguf
import pytest

from conftest import parse_ids

# ---------------------------------------------------------------------------------------------------------------
# run: output contracts


def first_difference(a: bytes, b: bytes) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


def test_run_greedy_matches_expected(qtr, stories_model, stories_expected):
    r = qtr.ok("run", "--model", stories_model, "--n-predict", 200, "--temp", 0)
    at = first_difference(r.stdout, stories_expected)
    assert r.stdout == stories_expected, (
        f"stdout differs from stories260K.expected.txt at byte {at} (got {len(r.stdout)} bytes, want "
        f"{len(stories_expected)})\n got: {r.stdout[max(0, at - 60):at + 60]!r}\n"
        f"want: {stories_expected[max(0, at - 60):at + 60]!r}")


def test_run_greedy_matches_expected_single_thread(qtr, stories_model, stories_expected):
    r = qtr.ok("run", "--model", stories_model, "--n-predict", 200, "--temp", 0, "--threads", 1)
    assert r.stdout == stories_expected


def test_run_inline_option_values(qtr, stories_model, stories_expected):
    """--name=value is accepted like --name value."""
    r = qtr.ok("run", f"--model={stories_model}", "--n-predict=200", "--temp=0")
    assert r.stdout == stories_expected


def test_run_prompt_is_not_echoed(qtr, stories_model, stories_expected):
    prompt = "Once upon a time"
    r = qtr.ok("run", "--model", stories_model, "--prompt", prompt, "--n-predict", 20, "--temp", 0)
    assert r.stdout, "nothing generated"
    assert not r.out.startswith(prompt), f"the prompt was echoed on stdout: {r.out!r}"
    # Greedy continuation of the prompt = the expected story (which starts with the prompt) minus the prompt.
    assert stories_expected.startswith(prompt.encode())
    assert stories_expected[len(prompt):].startswith(r.stdout[:20]), r.out


def test_run_n_predict_zero_prints_nothing(qtr, stories_model):
    r = qtr.ok("run", "--model", stories_model, "--n-predict", 0, "--temp", 0)
    assert r.stdout == b""


def sample(qtr, model, seed, *extra):
    return qtr.ok("run", "--model", model, "--n-predict", 60, "--temp", 0.8, "--seed", seed, *extra).stdout


def test_run_seed_reproducible(qtr, stories_model):
    a = sample(qtr, stories_model, 42)
    b = sample(qtr, stories_model, 42)
    assert a and a == b


def test_run_seed_reproducible_across_threads(qtr, stories_model):
    assert sample(qtr, stories_model, 7, "--threads", 1) == sample(qtr, stories_model, 7, "--threads", 2)


def test_run_different_seeds_differ(qtr, stories_model):
    outputs = {sample(qtr, stories_model, seed) for seed in range(1, 6)}
    assert len(outputs) >= 4, f"5 seeds gave only {len(outputs)} distinct texts"


def test_run_default_seed_is_printed_and_reproduces(qtr, stories_model):
    """Without --seed a random seed is chosen and printed on stderr; passing it back reproduces the text."""
    r = qtr.ok("run", "--model", stories_model, "--n-predict", 60, "--temp", 0.8)
    m = re.search(r"seed (\d+)", r.err)
    assert m, f"no seed on stderr: {r.err!r}"
    assert b"qtr run" not in r.stdout, "diagnostics leaked to stdout"
    assert sample(qtr, stories_model, m.group(1)) == r.stdout


# ---------------------------------------------------------------------------------------------------------------
# errors: one line on stderr, nothing on stdout, exit 1 (failure) or 2 (usage)

@pytest.fixture(scope="module")
def bad_files(tmp_path_factory, stories_model):
    d = tmp_path_factory.mktemp("bad")
    (d / "not.gguf").write_bytes(b"hello, I am not a GGUF file\n")
    (d / "empty.gguf").write_bytes(b"")
    (d / "truncated.gguf").write_bytes(stories_model.read_bytes()[:100])
    return d


# argv: {M} = the stories model, {D} = the bad-files directory, {S} = llama2.tokenizer.model;
# want_rc: the expected exit code.
def case(case_id, argv, want_rc, xfail=None):
    marks = [pytest.mark.xfail(reason=xfail, strict=True)] if xfail else []
    return pytest.param(argv, want_rc, id=case_id, marks=marks)


ERROR_CASES = [
    case("run-missing-file", ["run", "--model", "{D}/does-not-exist.gguf", "--temp", "0"], 1),
    case("run-missing-file-default-sampling", ["run", "--model", "{D}/does-not-exist.gguf"], 1),
    case("run-not-gguf", ["run", "--model", "{D}/not.gguf", "--temp", "0"], 1),
    case("run-not-gguf-default-sampling", ["run", "--model", "{D}/not.gguf"], 1),
    case("run-empty-file", ["run", "--model", "{D}/empty.gguf", "--temp", "0"], 1),
    case("run-truncated-gguf", ["run", "--model", "{D}/truncated.gguf", "--temp", "0"], 1),
    case("run-directory-as-model", ["run", "--model", "{D}", "--temp", "0"], 1),
    case("run-unknown-option", ["run", "--model", "{M}", "--bogus"], 2),
    case("run-unknown-option-inline", ["run", "--model", "{M}", "--bogus=3"], 2),
    case("run-unexpected-argument", ["run", "--model", "{M}", "--temp", "0", "extra"], 2),
    case("run-n-predict-not-a-number", ["run", "--model", "{M}", "--n-predict", "abc"], 2),
    case("run-n-predict-negative", ["run", "--model", "{M}", "--n-predict", "-5"], 2),
    case("run-n-predict-trailing-junk", ["run", "--model", "{M}", "--n-predict", "12x"], 2),
    case("run-n-predict-overflow", ["run", "--model", "{M}", "--n-predict", "99999999999999999999999"], 2),
    case("run-n-predict-missing-value", ["run", "--model", "{M}", "--n-predict"], 2),
    case("run-option-twice", ["run", "--model", "{M}", "--temp", "0", "--temp", "0"], 2),
    case("run-temp-negative", ["run", "--model", "{M}", "--temp", "-1"], 2),
    case("run-temp-nan", ["run", "--model", "{M}", "--temp", "nan"], 2),
    case("run-threads-zero", ["run", "--model", "{M}", "--threads", "0"], 2),
    case("run-seed-negative", ["run", "--model", "{M}", "--seed", "-1"], 2),
    case("run-context-too-small", ["run", "--model", "{M}", "--temp", "0", "--ctx", "1", "--prompt", "Once upon"], 1),
    case("logits-id-out-of-range", ["logits", "--model", "{M}", "--ids", "1,512", "--out", "{D}/x.f32"], 1),
    case("logits-id-far-out-of-range", ["logits", "--model", "{M}", "--ids", "1,99999", "--out", "{D}/x.f32"], 1),
    case("logits-id-int32-max", ["logits", "--model", "{M}", "--ids", "2147483647", "--out", "{D}/x.f32"], 1),
    case("logits-id-negative", ["logits", "--model", "{M}", "--ids", "1,-1", "--out", "{D}/x.f32"], 2),
    case("logits-id-leading-space", ["logits", "--model", "{M}", "--ids", " 1", "--out", "{D}/x.f32"], 2),
    case("logits-id-plus-sign", ["logits", "--model", "{M}", "--ids", "+1", "--out", "{D}/x.f32"], 2),
    case("vocab-missing-out-is-usage", ["vocab", "--spm", "{D}/not.gguf"], 2),
    case("logits-id-empty-item", ["logits", "--model", "{M}", "--ids", "1,,2", "--out", "{D}/x.f32"], 2),
    case("logits-id-too-big-for-int32", ["logits", "--model", "{M}", "--ids", "2147483648", "--out", "{D}/x.f32"], 2),
    case("logits-missing-ids", ["logits", "--model", "{M}", "--out", "{D}/x.f32"], 2),
    case("logits-unwritable-out", ["logits", "--model", "{M}", "--ids", "1", "--out", "{D}/no/such/dir/x.f32"], 1),
    case("logits-missing-file", ["logits", "--model", "{D}/nope.gguf", "--ids", "1", "--out", "{D}/x.f32"], 1),
    case("inspect-missing-file", ["inspect", "{D}/does-not-exist.gguf"], 1),
    case("inspect-not-gguf", ["inspect", "{D}/not.gguf"], 1),
    case("inspect-no-file", ["inspect"], 2),
    case("inspect-two-files", ["inspect", "{M}", "{M}"], 2),
    case("tokenize-missing-model", ["tokenize", "--model", "{D}/nope.gguf", "--text", "hi"], 1),
    case("tokenize-not-gguf", ["tokenize", "--model", "{D}/not.gguf", "--text", "hi"], 1),
    case("tokenize-missing-text-file", ["tokenize", "--model", "{M}", "--file", "{D}/nope.txt"], 1),
    case("tokenize-no-text", ["tokenize", "--model", "{M}"], 2),
    case("tokenize-text-and-file", ["tokenize", "--model", "{M}", "--text", "a", "--file", "{D}/not.gguf"], 2),
    case("tokenize-flag-with-value", ["tokenize", "--model", "{M}", "--text", "a", "--no-bos=1"], 2),
    case("vocab-missing-spm", ["vocab", "--spm", "{D}/nope.model", "--out", "{D}/v.gguf"], 1),
    case("vocab-not-spm", ["vocab", "--spm", "{D}/not.gguf", "--out", "{D}/v.gguf"], 1),
    case("vocab-no-spm", ["vocab", "--out", "{D}/v.gguf"], 2),
    case("vocab-no-out", ["vocab", "--spm", "{S}"], 2),
    case("unknown-command", ["frobnicate", "--model", "{M}"], 2),
]


@pytest.mark.parametrize("argv,want_rc", ERROR_CASES)
def test_error_is_one_line(argv, want_rc, qtr, stories_model, bad_files, llama2_spm):
    subst = {"{M}": str(stories_model), "{D}": str(bad_files), "{S}": str(llama2_spm)}
    args = list(argv)
    for key, value in subst.items():
        args = [a.replace(key, value) for a in args]
    r = qtr(*args)
    assert r.returncode != 0, r.describe()
    assert r.stdout == b"", "an error must print nothing on stdout\n" + r.describe()
    assert r.stderr.endswith(b"\n") and r.stderr.count(b"\n") == 1, (
        "an error must be exactly one line on stderr\n" + r.describe())
    assert r.err.startswith("qtr"), r.describe()
    assert r.returncode == want_rc, f"exit code {r.returncode}, want {want_rc}\n" + r.describe()


def test_no_arguments_is_usage_error(qtr):
    r = qtr()
    assert r.returncode == 2
    assert r.stdout == b""
    assert "usage: qtr" in r.err


# ---------------------------------------------------------------------------------------------------------------
# --help

COMMAND_OPTIONS = {
    "run": ["--model", "--prompt", "--n-predict", "--temp", "--seed", "--threads", "--ctx"],
    "inspect": ["--model", "--no-tensors", "--full-arrays"],
    "tokenize": ["--model", "--text", "--file", "--no-bos", "--parse-special"],
    "logits": ["--model", "--ids", "--out", "--threads"],
    "vocab": ["--spm", "--out"],
}


@pytest.mark.parametrize("command", sorted(COMMAND_OPTIONS))
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_command_help(command, flag, qtr):
    r = qtr(command, flag)
    assert r.returncode == 0, r.describe()
    assert r.out.startswith(f"usage: qtr {command}"), r.out
    for option in COMMAND_OPTIONS[command] + ["--help"]:
        assert re.search(rf"^\s+{re.escape(option)}\b", r.out, re.M), f"{command} --help lacks {option}:\n{r.out}"


def test_help_wins_over_bad_options(qtr):
    r = qtr("run", "--bogus", "--help")
    assert r.returncode == 0 and r.out.startswith("usage: qtr run")


@pytest.mark.parametrize("flag", ["--help", "-h", "help"])
def test_overview_help(flag, qtr):
    r = qtr(flag)
    assert r.returncode == 0, r.describe()
    for command in COMMAND_OPTIONS:
        assert re.search(rf"^\s+{command}\s", r.out, re.M), f"overview lacks {command}:\n{r.out}"


# ---------------------------------------------------------------------------------------------------------------
# inspect, tokenize


def test_inspect_stories(qtr, stories_model):
    out = qtr.ok("inspect", stories_model).out
    assert "GGUF v3" in out
    assert re.search(r"^\s+blk\.0\.attn_q\.weight\s+F32\s+\[64, 64\]", out, re.M), out
    assert re.search(r"^\s+llama\.attention\.head_count_kv\s+u32\s+4$", out, re.M), out
    assert "tensors (48):" in out

    # Every tensor, as gguf's own reader sees it: name, type, GGML shape (ne order) and byte size.
    rows = {m.group(1): m.groups()[1:] for m in re.finditer(
        r"^\s+(\S+)\s+(\S+)\s+\[([0-9, ]+)\]\s+(\d+)\s+(\d+)$", out, re.M)}
    reader = gguf.GGUFReader(str(stories_model))
    assert len(rows) == len(reader.tensors)
    for t in reader.tensors:
        ttype, shape, offset, nbytes = rows[t.name]
        assert ttype == t.tensor_type.name
        assert [int(s) for s in shape.split(",")] == [int(x) for x in t.shape]
        assert int(nbytes) == int(t.n_bytes)
        assert int(offset) + reader.data_offset == int(t.data_offset)


def test_inspect_no_tensors_and_model_option(qtr, stories_model):
    out = qtr.ok("inspect", "--model", stories_model, "--no-tensors").out
    assert "llama.block_count" in out
    assert "blk.0.attn_q.weight" not in out


def test_tokenize_bos(qtr, stories_model):
    with_bos = parse_ids(qtr.ok("tokenize", "--model", stories_model, "--text", "Hello").out)
    without = parse_ids(qtr.ok("tokenize", "--model", stories_model, "--text", "Hello", "--no-bos").out)
    assert with_bos[0] == 1
    assert with_bos[1:] == without
    assert without and 1 not in without


def test_tokenize_output_format(qtr, stories_model):
    r = qtr.ok("tokenize", "--model", stories_model, "--text", "Hello world")
    assert re.fullmatch(rb"\d+( \d+)*\n", r.stdout), r.stdout
    assert r.stderr == b""


def test_tokenize_empty_text(qtr, stories_model):
    assert qtr.ok("tokenize", "--model", stories_model, "--text", "").stdout == b"1\n"
    assert qtr.ok("tokenize", "--model", stories_model, "--text", "", "--no-bos").stdout == b"\n"


def test_tokenize_parse_special(qtr, stories_model):
    plain = parse_ids(qtr.ok("tokenize", "--model", stories_model, "--text", "</s>", "--no-bos").out)
    special = parse_ids(qtr.ok("tokenize", "--model", stories_model, "--text", "</s>", "--no-bos",
                               "--parse-special").out)
    assert special == [2]
    assert plain != [2]


def test_run_says_when_the_context_cut_generation_short(qtr, stories_model):
    r = qtr.ok("run", "--model", str(stories_model), "--temp", "0", "--ctx", "5", "--n-predict", "20")
    assert b"context full" in r.stderr
