#!/usr/bin/env bash
# The issue-5 measurements on one machine, qtr and llama.cpp side by side on the same random-weight 1.1B-shape
# Q4_0 model (kernel speed does not depend on the weights), same thread count:
#   - aggregate generation tokens/s with 1, 4 and 16 sequences decoded together (qtr bench --parallel);
#   - time to first token for a 512-token system prompt + 64-token request, cold (pp576) and with the system
#     prompt's KV cached (pp64 at depth 512);
#   - generation at depth 4096 and a 4096-token prompt, with llama-bench's -d for llama.cpp;
#   - KV bytes per token for f16 and q8_0.
# Usage: bench/concurrency_bench.sh OUT_DIR [THREADS] [QTR] [LLAMA_BENCH]; prints markdown-ready JSON lines.
set -euo pipefail
out=${1:?OUT_DIR}
threads=${2:-2}
qtr=${3:-build/qtr}
llama_bench=${4:-.cache/llama.cpp/build/bin/llama-bench}
mkdir -p "$out"
model=$out/tinyllama-1.1b-q4_0.gguf
[ -f "$model" ] || "$qtr" synth --shape tinyllama-1.1b --type q4_0 --out "$model" >&2
"$qtr" inspect --system > "$out/system.txt"
run() { echo "+ $*" >&2; "$@"; }
{
  run "$qtr" bench -m "$model" -p 0 -n 32 -t "$threads" --parallel 1,4,16 -r 3 --json
  run "$qtr" bench -m "$model" -p 576 -n 0 -t "$threads" -r 3 --json
  run "$qtr" bench -m "$model" -p 64 -n 0 --depth 512 -t "$threads" -r 3 --json
  for kv in f16 q8_0; do
    run "$qtr" bench -m "$model" -p 0 -n 32 --depth 4096 -t "$threads" -r 3 --kv-type "$kv" --json
  done
  run "$qtr" bench -m "$model" -p 4096 -n 0 -t "$threads" -r 1 --json
} > "$out/qtr.jsonl"
if [ -x "$llama_bench" ]; then
  {
    run "$llama_bench" -m "$model" -p 0 -n 32 -t "$threads" -r 3 -o jsonl
    run "$llama_bench" -m "$model" -p 576 -n 0 -t "$threads" -r 3 -o jsonl
    run "$llama_bench" -m "$model" -p 64 -n 0 -d 512 -t "$threads" -r 3 -o jsonl
    for kv in f16 q8_0; do
      run "$llama_bench" -m "$model" -p 0 -n 32 -d 4096 -t "$threads" -r 3 -ctk "$kv" -ctv "$kv" -fa on -o jsonl
    done
    run "$llama_bench" -m "$model" -p 4096 -n 0 -t "$threads" -r 1 -o jsonl
  } > "$out/llama.jsonl"
fi
python3 - "$out" <<'PY'
import json, sys, pathlib
out = pathlib.Path(sys.argv[1])
for name in ("qtr", "llama"):
    p = out / f"{name}.jsonl"
    if not p.exists():
        continue
    for line in p.read_text().splitlines():
        if not line.startswith("{"):
            continue
        r = json.loads(line)
        print(f"{name:6s} n_prompt={r['n_prompt']:5d} n_gen={r['n_gen']:3d} depth={r.get('n_depth', 0):5d} "
              f"parallel={r.get('n_parallel', 1):3d} kv={r.get('type_k', 'f16'):5s} threads={r['n_threads']:3d} "
              f"t/s={r['avg_ts']:.2f} ± {r['stddev_ts']:.2f}")
PY
