#!/usr/bin/env python3
"""Structured output, side by side: qtr's constraint engine against llguidance on the same schemas, instances and
vocabulary, single-threaded, interleaved, medians reported.

For each schema in bench/schemas (NAME.json with NAME.instance*.txt documents):
  - qtr:        `qtr grammar --hf-tokenizer T --json-schema NAME.json --check INSTANCE... --json` (compile time, and
                the full next-token mask computed and timed before every token of every instance);
  - llguidance: LLTokenizer(T), LLMatcher(grammar_from_json_schema(schema)); before every token
                llguidance.numpy.fill_next_token_bitmask is timed, then consume_token.
Both walk the token sequence llguidance's tokenizer produces for the instance (they agree on byte-level BPE).
Rounds alternate qtr and llguidance; each figure is the median over rounds.

Also, with --decode: SmolLM2 generation speed under a JSON schema against unconstrained (2 threads).

Needs `pip install llguidance` (not a test dependency). Usage:
  .venv/bin/python bench/structured_bench.py --qtr build/qtr --tokenizer ../shared/tokenizers/llama3.tokenizer.json
  .venv/bin/python bench/structured_bench.py --qtr build/qtr --gguf .cache/models/SmolLM2-135M-Instruct.Q4_1.gguf
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def tokenizer_json_from_gguf(gguf_path, out_path):
    """A Hugging Face tokenizer.json (byte-level BPE) from a GGUF vocabulary, for llguidance."""
    import gguf
    r = gguf.GGUFReader(gguf_path)

    def field(name):
        f = r.fields[name]
        return [bytes(f.parts[i]).decode("utf-8") for i in f.data]

    tokens = field("tokenizer.ggml.tokens")
    merges = field("tokenizer.ggml.merges")
    tf = r.fields["tokenizer.ggml.token_type"]
    types = [int(tf.parts[i][0]) for i in tf.data]
    eos = int(r.fields["tokenizer.ggml.eos_token_id"].parts[-1][0])
    added = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False,
              "special": True} for i, t in enumerate(tokens) if types[i] == 3]
    doc = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                  "vocab": {t: i for i, t in enumerate(tokens)}, "merges": merges},
    }
    Path(out_path).write_text(json.dumps(doc))
    return eos


def percentile(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else 0.0


def run_qtr(qtr, tokenizer, schema, instances, warm=False):
    """warm: every instance is walked twice in one process and the second walks are reported (a server that has
    seen the schema before)."""
    cmd = [qtr, "grammar", "--hf-tokenizer", tokenizer, "--json-schema", str(schema), "--json"]
    for i in instances * (2 if warm else 1):
        cmd += ["--check", str(i)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        return {"error": p.stderr.strip()}
    lines = [json.loads(x) for x in p.stdout.splitlines()]
    checks = lines[1:][len(instances):] if warm else lines[1:]
    n = sum(c["tokens"] for c in checks)
    return {"compile_ms": lines[0]["compile_ms"], "tokens": n,
            "mean_us": sum(c["mask_us"]["mean"] * c["tokens"] for c in checks) / max(n, 1),
            "p99_us": max(c["mask_us"]["p99"] for c in checks), "max_us": max(c["mask_us"]["max"] for c in checks),
            "accepted": all(c["accepted"] for c in checks)}


def run_llguidance(llg, tok, schema_text, instances, warm=False):
    import numpy as np
    import llguidance.numpy as lnp
    t0 = time.perf_counter()
    grammar = llg.LLMatcher.grammar_from_json_schema(schema_text)
    m = llg.LLMatcher(tok, grammar, log_level=0)
    compile_ms = (time.perf_counter() - t0) * 1e3
    if m.is_error():
        return {"error": m.get_error()}
    times = []
    accepted = True
    mask = lnp.allocate_token_bitmask(1, tok.vocab_size)
    for n_pass, inst in enumerate(instances * (2 if warm else 1)):
        if warm and n_pass == len(instances):
            times = []  # report the second pass
        m.reset()
        ids = tok.tokenize_str(Path(inst).read_text())
        ok = True
        for t in ids:
            t1 = time.perf_counter_ns()
            lnp.fill_next_token_bitmask(m, mask)
            times.append((time.perf_counter_ns() - t1) / 1e3)
            if not m.consume_token(t):
                ok = False
                break
        accepted = accepted and ok and m.is_accepting()
    return {"compile_ms": compile_ms, "tokens": len(times), "mean_us": statistics.fmean(times) if times else 0,
            "p99_us": percentile(times, 0.99), "max_us": max(times) if times else 0, "accepted": accepted}


def decode_speed(qtr, gguf, schema, threads, n):
    def tps(extra):
        p = subprocess.run([qtr, "run", "--model", gguf, "--chat", "--prompt",
                            "Write a realistic example record as JSON.", "--temp", "0.8", "--seed", "1",
                            "--n-predict", str(n), "--threads", str(threads)] + extra, capture_output=True, text=True)
        m = re.search(r"(\d+) generated in [0-9.]+ s \(([0-9.]+) tokens/s\)", p.stderr)
        return float(m.group(2)) if m else 0.0
    return tps([]), tps(["--json-schema", str(schema)])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--qtr", default="build/qtr")
    ap.add_argument("--tokenizer", help="a Hugging Face tokenizer.json")
    ap.add_argument("--gguf", help="take the vocabulary from this GGUF model instead (written as tokenizer.json)")
    ap.add_argument("--schemas", default=str(HERE / "schemas"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--decode", action="store_true", help="also SmolLM2 decode speed with and without a schema")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warm", action="store_true", help="report a second walk of each instance in the same process")
    args = ap.parse_args()
    import llguidance as llg

    tmp = tempfile.mkdtemp()
    tokenizer = args.tokenizer
    if args.gguf:
        tokenizer = os.path.join(tmp, "tokenizer.json")
        tokenizer_json_from_gguf(args.gguf, tokenizer)
    tok = llg.LLTokenizer(tokenizer)
    schemas = sorted(Path(args.schemas).glob("*.json"))
    rows = []
    for schema in schemas:
        instances = sorted(schema.parent.glob(schema.stem + ".instance*.txt"))
        text = schema.read_text()
        q, l = [], []
        for _ in range(args.rounds):  # interleaved
            q.append(run_qtr(args.qtr, tokenizer, schema, instances, args.warm))
            l.append(run_llguidance(llg, tok, text, instances, args.warm))
        rows.append((schema.stem, q, l))

    def med(results, key):
        vals = [r[key] for r in results if key in r]
        return statistics.median(vals) if vals else float("nan")

    print(f"vocabulary: {tokenizer} ({tok.vocab_size} tokens); rounds: {args.rounds}; single thread; "
          f"{'warm (second walk of each instance)' if args.warm else 'cold (first walk)'}")
    print("| schema | tokens | qtr compile ms | llg compile ms | qtr mask mean µs | llg mask mean µs | qtr p99 µs | llg p99 µs | both accept |")
    print("|---|---|---|---|---|---|---|---|---|")
    all_q, all_l = [], []
    for name, q, l in rows:
        if "error" in q[0] or "error" in l[0]:
            print(f"| {name} | - | {q[0].get('error', '')[:60]} | {l[0].get('error', '')[:60]} | | | | | |")
            continue
        all_q.append(q)
        all_l.append(l)
        print(f"| {name} | {q[0]['tokens']} | {med(q, 'compile_ms'):.2f} | {med(l, 'compile_ms'):.2f} | "
              f"{med(q, 'mean_us'):.1f} | {med(l, 'mean_us'):.1f} | {med(q, 'p99_us'):.0f} | {med(l, 'p99_us'):.0f} | "
              f"{q[0]['accepted'] and l[0]['accepted']} |")
    if all_q:
        tq = sum(q[0]["tokens"] for q in all_q)
        mq = sum(med(q, "mean_us") * q[0]["tokens"] for q in all_q) / tq
        ml = sum(med(l, "mean_us") * l[0]["tokens"] for l in all_l) / sum(l[0]["tokens"] for l in all_l)
        print(f"\ntoken-weighted mean mask: qtr {mq:.1f} µs, llguidance {ml:.1f} µs (ratio {mq / ml:.2f}); "
              f"compile p50: qtr {statistics.median(med(q, 'compile_ms') for q in all_q):.2f} ms, "
              f"llguidance {statistics.median(med(l, 'compile_ms') for l in all_l):.2f} ms; "
              f"schemas compiled: qtr {len(all_q)}/{len(rows)}")
    if args.decode and args.gguf:
        base, constrained = decode_speed(args.qtr, args.gguf, Path(args.schemas) / "person.json", args.threads, 128)
        print(f"\ndecode ({args.threads} threads): unconstrained {base:.1f} t/s, under a schema {constrained:.1f} t/s "
              f"({constrained / base * 100:.0f}%)")


if __name__ == "__main__":
    sys.exit(main())
