"""Constrained generation in use: `qtr run --chat --json-schema/--grammar` on SmolLM2-135M-Instruct (the default
model, .cache/models; skipped when absent) at temperature 0.8, a few seeds each.

Every output that stopped at "end of sequence" (the constraint completed, or EOS, which a constraint only allows
once it is complete) must be a valid instance: JSON outputs parse with json.loads and validate with the jsonschema
package (formats checked), GBNF outputs match an equivalent Python check (a regular expression, or a small
recursive-descent parser for the arithmetic grammar). Outputs cut by --n-predict are counted and must be few.
bench/structured_validity.py is the long version (hundreds of generations, not run in CI).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest

from conftest import REPO_ROOT, TESTS_DIR

jsonschema = pytest.importorskip("jsonschema")

SMOLLM2 = REPO_ROOT / ".cache" / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
GRAMMARS_DIR = TESTS_DIR.parent / "fixtures" / "grammars"
SEEDS = (1, 2, 3)
N_PREDICT = 200
TEMP = 0.8
RUN_TIMEOUT_S = 120

# ---------------------------------------------------------------------------------------------------------------
# schemas: (name, prompt, schema)

SCHEMAS: list[tuple[str, str, dict]] = [
    ("person",
     "Give me a JSON object describing a fictional employee: name, age, role, a list of skills, an address and "
     "whether they are active.",
     {"type": "object",
      "properties": {
          "name": {"type": "string", "minLength": 1, "maxLength": 40},
          "age": {"type": "integer", "minimum": 18, "maximum": 99},
          "role": {"enum": ["engineer", "manager", "designer", "intern"]},
          "skills": {"type": "array", "items": {"type": "string", "maxLength": 30}, "minItems": 1, "maxItems": 4},
          "address": {"type": "object",
                      "properties": {"city": {"type": "string", "maxLength": 30},
                                     "country": {"type": "string", "maxLength": 30}},
                      "required": ["city", "country"], "additionalProperties": False},
          "active": {"type": "boolean"}},
      "required": ["name", "age", "role", "skills", "address", "active"],
      "additionalProperties": False}),
    ("tree",
     'Give me a small tree of integers as JSON, for example {"value": 1, "children": [{"value": 2, "children": []}]}.',
     {"$defs": {"node": {"type": "object",
                         "properties": {"value": {"type": "integer"},
                                        "children": {"type": "array", "items": {"$ref": "#/$defs/node"},
                                                     "maxItems": 2}},
                         "required": ["value", "children"], "additionalProperties": False}},
      "$ref": "#/$defs/node"}),
    ("date",
     "On what date did the first person walk on the Moon? Answer with the date as a JSON string.",
     {"type": "string", "format": "date"}),
    ("bounded_integer",
     "How many days are there in a leap year? Answer with a JSON number.",
     {"type": "integer", "minimum": -20, "maximum": 1000}),
    ("event",
     "Describe a concert as a JSON object with a title, a start time (date-time), a list of tags and whether "
     "tickets are sold out.",
     {"type": "object",
      "properties": {
          "title": {"type": "string", "maxLength": 60},
          "start": {"type": "string", "format": "date-time"},
          "tags": {"type": "array", "items": {"enum": ["music", "outdoor", "family", "night"]}, "maxItems": 4},
          "sold_out": {"type": "boolean"}},
      "required": ["title", "start", "tags", "sold_out"], "additionalProperties": False}),
    ("products",
     "List one to three products in stock as a JSON array of objects with sku, price and in_stock.",
     {"type": "array",
      "items": {"type": "object",
                "properties": {"sku": {"type": "string", "minLength": 3, "maxLength": 12},
                               "price": {"type": "number", "minimum": 0},
                               "in_stock": {"type": "boolean"},
                               "note": {"anyOf": [{"type": "string", "maxLength": 40}, {"type": "null"}]}},
                "required": ["sku", "price", "in_stock"], "additionalProperties": False},
      "minItems": 1, "maxItems": 3}),
]

# ---------------------------------------------------------------------------------------------------------------
# grammars: (fixture file, prompt, checker)

BULLETS_RE = re.compile(r"(- [A-Z][a-zA-Z0-9 ,.;:'()!?-]{0,80}\n){2,5}")
_CHESS_MOVE = r"(?:(?:O-O|O-O-O)|[KQRBN][a-h1-8]?x?[a-h][1-8]|(?:[a-h]x)?[a-h][1-8](?:=[QRBN])?)[+#]?"
_CHESS_PAIR = rf"[1-9][0-9]?\. {_CHESS_MOVE} {_CHESS_MOVE}"
CHESS_RE = re.compile(rf"{_CHESS_PAIR}(?: {_CHESS_PAIR}){{0,3}}")


def arithmetic_ok(text: str) -> bool:
    """Recursive descent for arithmetic.gbnf: expr = term (sp [-+] sp term){0,4}; term = factor (sp [*/] sp
    factor){0,2}; factor = number | "(" sp expr sp ")"; number = "0" | [1-9][0-9]{0,3}; sp = " "?."""
    pos = 0

    def sp() -> None:
        nonlocal pos
        if text.startswith(" ", pos):
            pos += 1

    def number() -> bool:
        nonlocal pos
        m = re.compile(r"0|[1-9][0-9]{0,3}").match(text, pos)
        if not m:
            return False
        pos = m.end()
        return True

    def factor() -> bool:
        nonlocal pos
        if text.startswith("(", pos):
            pos += 1
            sp()
            if not expr():
                return False
            sp()
            if not text.startswith(")", pos):
                return False
            pos += 1
            return True
        return number()

    def repeat(item: Callable[[], bool], ops: str, most: int) -> bool:
        nonlocal pos
        if not item():
            return False
        for _ in range(most):
            save = pos
            sp()
            if pos < len(text) and text[pos] in ops:
                pos += 1
                sp()
                if item():
                    continue
            pos = save  # the optional tail did not match: leave it to the caller
            break
        return True

    def term() -> bool:
        return repeat(factor, "*/", 2)

    def expr() -> bool:
        return repeat(term, "+-", 4)

    # The grammar is ambiguous about where a space belongs; greedy descent is exact for it because a space is only
    # ever followed by an operator, a factor or ")", each of which fixes the parse.
    return expr() and pos == len(text)


GRAMMARS: list[tuple[str, str, Callable[[str], bool]]] = [
    ("arithmetic.gbnf",
     "Write one short arithmetic expression using + - * / and parentheses, for example (3 + 4) * 2.",
     arithmetic_ok),
    ("bullets.gbnf", "List three benefits of regular exercise as bullet points.",
     lambda t: BULLETS_RE.fullmatch(t) is not None),
    ("chess.gbnf", "Write the first moves of a chess game in algebraic notation, like 1. e4 e5 2. Nf3 Nc6.",
     lambda t: CHESS_RE.fullmatch(t) is not None),
]


# ---------------------------------------------------------------------------------------------------------------
# running and judging


@dataclass
class Generation:
    kind: str       # "schema" or "grammar"
    name: str
    seed: int
    text: str
    stop: str       # "eos", "length" or the unexpected last stderr line
    error: str = ""  # why a finished output is invalid ("" when valid)

    @property
    def finished(self) -> bool:
        return self.stop == "eos"

    def describe(self) -> str:
        return f"{self.kind} {self.name} seed {self.seed}: stop={self.stop!r} text={self.text[:400]!r} {self.error}"


def stop_reason(stderr: str) -> str:
    last = stderr.strip().splitlines()[-1] if stderr.strip() else ""
    if "stopped at end of sequence" in last:
        return "eos"
    if "stopped at --n-predict" in last:
        return "length"
    return last or "(no stderr)"


def validate_json(schema: dict, text: str) -> str:
    """'' when text is one JSON value valid under schema (formats asserted), else why not."""
    try:
        value = json.loads(text)
    except ValueError as e:
        return f"not JSON: {e}"
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    errors = sorted(cls(schema, format_checker=cls.FORMAT_CHECKER).iter_errors(value), key=str)
    return "; ".join(f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors[:3])


def generate(qtr, model: Path, prompt: str, constraint: list[Any], seed: int, n_predict: int = N_PREDICT,
             temp: float = TEMP) -> tuple[str, str, int, str]:
    """(stdout, stop reason, exit code, stderr) of one constrained chat generation."""
    r = qtr("run", "--model", model, "--chat", "--prompt", prompt, *constraint, "--temp", temp, "--seed", seed,
            "--n-predict", n_predict, timeout=RUN_TIMEOUT_S)
    return r.out, stop_reason(r.err), r.returncode, r.err


def judge_schema(qtr, model, name, prompt, schema, seed, tmp: Path, **kw) -> Generation:
    f = tmp / f"{name}.schema.json"
    f.write_text(json.dumps(schema), encoding="utf-8")
    out, stop, rc, err = generate(qtr, model, prompt, ["--json-schema", f], seed, **kw)
    g = Generation("schema", name, seed, out, stop if rc == 0 else f"exit {rc}: {err.strip()[-300:]}")
    if g.finished:
        g.error = validate_json(schema, out)
    return g


def judge_grammar(qtr, model, file, prompt, check, seed, **kw) -> Generation:
    out, stop, rc, err = generate(qtr, model, prompt, ["--grammar", GRAMMARS_DIR / file], seed, **kw)
    g = Generation("grammar", file, seed, out, stop if rc == 0 else f"exit {rc}: {err.strip()[-300:]}")
    if g.finished and not check(out):
        g.error = "does not match the grammar's Python equivalent"
    return g


# ---------------------------------------------------------------------------------------------------------------
# the tests


@pytest.fixture(scope="module")
def model() -> Path:
    if not SMOLLM2.is_file():
        pytest.skip(f"{SMOLLM2} not found: fetch it with scripts/fetch_models.sh")
    return SMOLLM2


@pytest.fixture(scope="module")
def generations(qtr, model, tmp_path_factory) -> dict[str, list[Generation]]:
    """Every generation of the module, once: {case name: [one per seed]}."""
    tmp = tmp_path_factory.mktemp("structured")
    out: dict[str, list[Generation]] = {}
    for name, prompt, schema in SCHEMAS:
        out[name] = [judge_schema(qtr, model, name, prompt, schema, s, tmp) for s in SEEDS]
    for file, prompt, check in GRAMMARS:
        out[file] = [judge_grammar(qtr, model, file, prompt, check, s) for s in SEEDS]
    return out


CASES = [name for name, _, _ in SCHEMAS] + [file for file, _, _ in GRAMMARS]


def test_grammar_checkers_agree_with_examples():
    """The Python equivalents accept what the grammars mean and refuse near misses."""
    for ok in ["0", "12", "(3 + 4) * 2", "(3+4)*2/(1 - 5)", "1 + 2 + 3 + 4 + 5", "((7))"]:
        assert arithmetic_ok(ok), ok
    for bad in ["", "01", "1 +", "(3 + 4", "1  + 2", "1 + 2 + 3 + 4 + 5 + 6", "1 * 2 * 3 * 4", "12345", " 1"]:
        assert not arithmetic_ok(bad), bad
    assert BULLETS_RE.fullmatch("- One\n- Two, three.\n") and not BULLETS_RE.fullmatch("- One\n")
    assert not BULLETS_RE.fullmatch("- one\n- Two\n") and not BULLETS_RE.fullmatch("- One\n- Two")
    assert CHESS_RE.fullmatch("1. e4 e5 2. Nf3 Nc6 3. Bb5 a6 4. O-O Nf6+")
    assert CHESS_RE.fullmatch("1. exd5 Qxd5") and CHESS_RE.fullmatch("9. e8=Q Rxe8#")
    assert not CHESS_RE.fullmatch("1. e9 e5") and not CHESS_RE.fullmatch("1. e4") and not CHESS_RE.fullmatch("e4 e5")


@pytest.mark.parametrize("case", CASES)
def test_finished_outputs_are_valid(generations, case):
    gens = generations[case]
    bad = [g.describe() for g in gens if g.stop not in ("eos", "length")]
    assert not bad, "runs that did not stop at end of sequence or --n-predict:\n" + "\n".join(bad)
    invalid = [g.describe() for g in gens if g.finished and g.error]
    assert not invalid, "finished outputs that are not valid:\n" + "\n".join(invalid)


def test_few_outputs_are_cut_by_n_predict(generations):
    gens = [g for gs in generations.values() for g in gs]
    cut = [g for g in gens if g.stop == "length"]
    assert gens and len(cut) <= len(gens) // 4, (
        f"{len(cut)}/{len(gens)} generations stopped at --n-predict {N_PREDICT}:\n"
        + "\n".join(g.describe() for g in cut))


def test_seeds_give_different_outputs(generations):
    """Sampling is still sampling under a constraint: the seeds do not all give the same text everywhere."""
    distinct = sum(len({g.text for g in gs}) > 1 for gs in generations.values())
    assert distinct >= len(generations) // 2, {k: [g.text[:60] for g in gs] for k, gs in generations.items()}
