"""The JSON-Schema-Test-Suite through `qtr grammar`, summarised as Markdown tables for docs/structured-output.md.

Runs exactly what tests/python/test_json_schema_suite.py runs (one `qtr grammar --json-schema ... --check ...
--json` per test group, the same verdict rules) and prints, per draft, one row per keyword file: groups in the
file, compiled, passed (compiled with every instance's verdict right), refused (exit 2 with a message), and
wrong (compiled with at least one wrong verdict, or a crash / bad refusal), then a total line. With --failures it
also lists every wrong verdict; with --refusals every refusal message.

    .venv/bin/python tests/reference/json_schema_suite_table.py [--qtr build/qtr] [--vocab smollm2|llama3|PATH]
        [--jobs 2] [--failures] [--refusals]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "python"))
import test_json_schema_suite as suite  # noqa: E402


def table(draft: str, results: list[suite.GroupResult]) -> list[str]:
    rows: dict[str, list[suite.GroupResult]] = {}
    for r in results:
        if r.group.draft == draft:
            rows.setdefault(r.group.keyword, []).append(r)
    lines = [f"**{draft}**", "", "| keyword | groups | compiled | passed | refused | wrong |",
             "|---|---:|---:|---:|---:|---:|"]
    totals = [0, 0, 0, 0, 0]
    for kw in sorted(rows, key=lambda k: (k.startswith("format/"), k.lower())):
        rs = rows[kw]
        n = [len(rs), sum(r.status == "compiled" for r in rs), sum(r.passed for r in rs),
             sum(r.status == "refused" for r in rs), sum(bool(r.failures()) for r in rs)]
        totals = [a + b for a, b in zip(totals, n)]
        lines.append(f"| {kw} | " + " | ".join(str(x) for x in n) + " |")
    lines.append("| **total** | " + " | ".join(f"**{x}**" for x in totals) + " |")
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--qtr", default=str(REPO / "build" / "qtr"))
    ap.add_argument("--vocab", default="auto", help="smollm2, llama3, or a tokenizer.json / GGUF path")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--failures", action="store_true", help="also list every wrong verdict")
    ap.add_argument("--refusals", action="store_true", help="also list every refusal message")
    a = ap.parse_args()

    root = suite.suite_root()
    if not (root / "tests").is_dir():
        print(f"JSON-Schema-Test-Suite not found at {root}", file=sys.stderr)
        return 1
    groups = suite.load_groups(root)
    try:
        vocab = suite.vocab_args(a.vocab)
    except BaseException as e:  # pytest.skip's exception when the vocabulary is missing
        print(f"vocabulary not found: {e}", file=sys.stderr)
        return 1
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        results = suite.run_suite(Path(a.qtr), vocab, groups, Path(tmp), jobs=a.jobs)
    wall = time.monotonic() - t0

    n_inst = sum(len(r.verdicts) for r in results)
    print(f"JSON-Schema-Test-Suite ({(root / 'ORIGIN').read_text().strip() if (root / 'ORIGIN').is_file() else root}),"
          f" vocabulary {vocab[-1].rsplit('/', 1)[-1]}: {len(groups)} groups, {n_inst} instances checked in compiled"
          f" groups, {wall:.0f} s on {a.jobs} threads.\n")
    for draft in suite.DRAFTS:
        if any(r.group.draft == draft for r in results):
            print("\n".join(table(draft, results)) + "\n")
    if a.failures:
        print("Wrong verdicts:\n")
        for r in results:
            for line in r.failures():
                print(f"- {line}")
        print()
    if a.refusals:
        print("Refusals:\n")
        for r in results:
            if r.status == "refused":
                print(f"- {r.group.name}: {r.message}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
