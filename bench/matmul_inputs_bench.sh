#!/usr/bin/env bash
# What the two-term matmul inputs (the default, --matmul-inputs precise) cost against one int8 term
# (--matmul-inputs int8) and llama.cpp: prompt (pp) and generation (tg) tokens/s on the same models and threads,
# the three programs in turn for ROUNDS rounds (A B C A B C ...), medians printed as a markdown table.
# Usage: bench/matmul_inputs_bench.sh [THREADS] [ROUNDS] MODEL.gguf...
#   QTR (default build/qtr), LLAMA_BENCH (default .cache/llama.cpp/build/bin/llama-bench; skipped when absent),
#   PP (default 256), TG (default 64).
set -euo pipefail
threads=${1:-2}
rounds=${2:-3}
shift 2 || true
qtr=${QTR:-build/qtr}
llama_bench=${LLAMA_BENCH:-.cache/llama.cpp/build/bin/llama-bench}
pp=${PP:-256}
tg=${TG:-64}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for model in "$@"; do
  name=$(basename "$model" .gguf)
  for r in $(seq "$rounds"); do
    for mode in precise int8; do
      "$qtr" bench -m "$model" -p "$pp" -n "$tg" -t "$threads" -r 3 --matmul-inputs "$mode" --json \
        | sed "s/^/$name qtr-$mode /" >> "$tmp/results"
    done
    if [ -x "$llama_bench" ]; then
      "$llama_bench" -m "$model" -p "$pp" -n "$tg" -t "$threads" -r 3 -o jsonl 2>/dev/null \
        | sed "s/^/$name llama.cpp /" >> "$tmp/results"
    fi
  done
done
python3 - "$tmp/results" "$pp" "$tg" <<'PY'
import json, statistics, sys
from collections import defaultdict
runs = defaultdict(list)
for line in open(sys.argv[1]):
    model, prog, js = line.split(" ", 2)
    j = json.loads(js)
    test = f"pp{j['n_prompt']}" if j["n_prompt"] else f"tg{j['n_gen']}"
    runs[(model, prog, test)].append(j["avg_ts"])
models = sorted({k[0] for k in runs})
tests = [f"pp{sys.argv[2]}", f"tg{sys.argv[3]}"]
print("| model | test | qtr precise | qtr int8 | llama.cpp | precise / int8 | precise / llama.cpp |")
print("|---|---|---|---|---|---|---|")
for m in models:
    for t in tests:
        med = {p: statistics.median(runs[(m, p, t)]) for p in ("qtr-precise", "qtr-int8", "llama.cpp") if runs.get((m, p, t))}
        lc = med.get("llama.cpp")
        print(f"| {m} | {t} | {med['qtr-precise']:.1f} | {med['qtr-int8']:.1f} | {lc:.1f} | "
              f"{med['qtr-precise'] / med['qtr-int8']:.2f} | {med['qtr-precise'] / lc:.2f} |" if lc else
              f"| {m} | {t} | {med['qtr-precise']:.1f} | {med['qtr-int8']:.1f} | - | "
              f"{med['qtr-precise'] / med['qtr-int8']:.2f} | - |")
PY
