#!/usr/bin/env python3
"""Tool calls in use: with tool_choice required and with a named function, over many random tool sets, how often
does a model produce exactly one parseable call to an allowed function with arguments valid under its schema?

  .venv/bin/python bench/tool_call_validity.py --model .cache/models/SmolLM2-135M-Instruct.Q4_1.gguf --sets 100
  .venv/bin/python bench/tool_call_validity.py --model .cache/models/gemma-3-270m-Q4_K_M.gguf --sets 100 \\
      --chat-template tests/fixtures/chat-templates/google-gemma-3-it.jinja

Uses the same tool generator and checker as tests/python/test_tool_calls.py (which runs a few sets in CI).
"""
import argparse
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "python"))
from test_tool_calls import random_tool, valid_arguments  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--qtr", default="build/qtr")
    ap.add_argument("--model", required=True)
    ap.add_argument("--chat-template")
    ap.add_argument("--sets", type=int, default=100)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(2026)
    prompts = ["Please help me with this.", "Do it now.", "What should happen next?", "Use a tool for my request.",
               "I need this done by tomorrow.", "Can you take care of it?"]
    tmp = Path(tempfile.mkdtemp())
    total = ok = length_limited = 0
    failures = []
    for k in range(args.sets):
        tools = [random_tool(rng, i) for i in range(rng.randint(1, 5))]
        (tmp / "tools.json").write_text(json.dumps(tools))
        for choice in ["required", rng.choice(tools)["function"]["name"]]:
            cmd = [args.qtr, "run", "--model", args.model, "--chat", "--prompt", rng.choice(prompts), "--tools",
                   str(tmp / "tools.json"), "--tool-choice", choice, "--temp", "0.8", "--seed", str(k), "--n-predict",
                   "256", "--threads", str(args.threads), "--no-parallel-tools"]
            if args.chat_template:
                cmd += ["--chat-template", args.chat_template]
            p = subprocess.run(cmd, capture_output=True, text=True)
            total += 1
            length_limited += "stopped at --n-predict" in p.stderr
            try:
                msg = json.loads(p.stdout)
            except json.JSONDecodeError:
                failures.append((choice, p.stdout[-200:], p.stderr[-200:]))
                continue
            calls = msg.get("tool_calls") or []
            by_name = {t["function"]["name"]: t["function"]["parameters"] for t in tools}
            good = len(calls) == 1 and calls[0]["function"]["name"] in by_name and (
                choice == "required" or calls[0]["function"]["name"] == choice) and valid_arguments(
                json.loads(calls[0]["function"]["arguments"]), by_name[calls[0]["function"]["name"]])
            ok += good
            if not good:
                failures.append((choice, msg))
    print(f"model: {args.model}\ntool sets: {args.sets}, generations: {total}, valid calls: {ok} "
          f"({100.0 * ok / max(total, 1):.1f}%), stopped at the length limit: {length_limited}")
    for f in failures[:5]:
        print("  failure:", str(f)[:300])
    return 0 if ok == total else 1


if __name__ == "__main__":
    sys.exit(main())
