#!/usr/bin/env python3
"""Side-by-side speed of qtr and llama.cpp on the same GGUF files, same threads, interleaved.

Each round runs, for every model and thread count, `qtr bench --json` and `llama-bench -o jsonl` with the same
-p/-n/-r, alternating which goes first (A B, then B A, ...), and measures memory-read bandwidth at the start of the
round (`qtr inspect --system --bandwidth`). Reported: the median over rounds of each tool's mean tokens/s, the
ratio qtr / llama.cpp, and for generation the fraction of the read-bandwidth roofline
(bandwidth / bytes of weights read per token, i.e. every tensor but the token-embedding table).

    python3 bench/compare_llama_cpp.py --model a.gguf --model b.gguf -t 1,2 --rounds 3 --markdown out.md

llama-bench comes from bench/build_llama_cpp.sh (llama.cpp as shipped in the llama-cpp-python sdist on PyPI), or
from $LLAMA_BENCH.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def weight_bytes_per_token(path):
    from gguf import GGUFReader

    reader = GGUFReader(path)
    total = 0
    for t in reader.tensors:
        if t.name != "token_embd.weight":
            total += int(t.n_bytes)
    return total


def run_json_lines(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def bandwidth(qtr):
    out = subprocess.run([qtr, "inspect", "--system", "--bandwidth"], check=True, capture_output=True, text=True).stdout
    result = {}
    for line in out.splitlines():
        if line.startswith("read_bandwidth"):
            fields = dict(f.split("=") for f in line.split()[1:])
            result[int(fields["threads"])] = float(fields["gbps"]) * 1e9
    return result


def test_name(row):
    return f"pp{row['n_prompt']}" if row["n_prompt"] > 0 else f"tg{row['n_gen']}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", action="append", required=True)
    ap.add_argument("-p", default="512")
    ap.add_argument("-n", default="128")
    ap.add_argument("-t", default="1,2")
    ap.add_argument("-r", default="3")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--qtr", default=os.path.join(ROOT, "build", "qtr"))
    ap.add_argument("--llama-bench", default=os.environ.get("LLAMA_BENCH",
                                                            os.path.join(ROOT, ".cache/llama.cpp/build/bin/llama-bench")))
    ap.add_argument("--markdown", help="also write the table to this file")
    args = ap.parse_args()

    threads = [int(t) for t in args.t.split(",")]
    samples = {}   # (model, test, threads, tool) -> [avg_ts per round]
    bw_rounds = {t: [] for t in threads}
    for rnd in range(args.rounds):
        bw = bandwidth(args.qtr)
        for t in threads:
            bw_rounds[t].append(bw.get(t, bw[max(bw)]))
        for model in args.model:
            for t in threads:
                qtr_cmd = [args.qtr, "bench", "-m", model, "-p", args.p, "-n", args.n, "-t", str(t), "-r", args.r, "--json"]
                llama_cmd = [args.llama_bench, "-m", model, "-p", args.p, "-n", args.n, "-t", str(t), "-r", args.r,
                             "-o", "jsonl"]
                order = [("qtr", qtr_cmd), ("llama.cpp", llama_cmd)]
                if rnd % 2:
                    order.reverse()
                for tool, cmd in order:
                    for row in run_json_lines(cmd):
                        key = (model, test_name(row), t, tool)
                        samples.setdefault(key, []).append(row["avg_ts"])
                print(f"round {rnd + 1}/{args.rounds}: {os.path.basename(model)} t={t} done", file=sys.stderr, flush=True)

    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    cpu = subprocess.run([args.qtr, "inspect", "--system"], capture_output=True, text=True).stdout.splitlines()
    lines = [
        f"machine: {cpu[0].removeprefix('cpu: ')}, {os.cpu_count()} cores; {cpu[2]}",
        f"qtr commit {commit}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"{args.rounds} interleaved rounds x {args.r} repetitions; medians over rounds",
        "read bandwidth (median over rounds): " + ", ".join(
            f"{t} thread{'s' if t > 1 else ''} {statistics.median(bw_rounds[t]) / 1e9:.1f} GB/s" for t in threads),
        "",
        "| model | test | threads | qtr t/s | llama.cpp t/s | qtr / llama.cpp | qtr % of roofline | llama.cpp % of roofline |",
        "| ----- | ---- | ------: | ------: | ------------: | --------------: | ----------------: | ----------------------: |",
    ]
    for model in args.model:
        per_token = weight_bytes_per_token(model)
        tests = sorted({k[1] for k in samples if k[0] == model}, key=lambda s: (s[:2] != "pp", s))
        for test in tests:
            for t in threads:
                q = samples.get((model, test, t, "qtr"))
                l = samples.get((model, test, t, "llama.cpp"))
                if not q or not l:
                    continue
                qm, lm = statistics.median(q), statistics.median(l)
                roof_q = roof_l = ""
                if test.startswith("tg"):
                    roofline = statistics.median(bw_rounds[t]) / per_token
                    roof_q, roof_l = f"{100 * qm / roofline:.0f}%", f"{100 * lm / roofline:.0f}%"
                lines.append(f"| {os.path.basename(model)} | {test} | {t} | {qm:.2f} | {lm:.2f} | {qm / lm:.2f}x | "
                             f"{roof_q} | {roof_l} |")
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
