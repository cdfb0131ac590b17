#!/usr/bin/env python3
"""Makes tests/fixtures/real-models/<model>.npz: transformers' next-token distributions on real GGUF models.

For each model (fetched by scripts/fetch_models.sh into .cache/models), the text tests/data/public-domain-en.txt is
tokenized by qtr (`qtr tokenize`, special tokens as qtr adds them) and its first N_TOKENS ids are run through the
same GGUF file loaded by transformers (which dequantizes every tensor to float32). Stored per model, compactly, is
each position's next-token distribution cut to its head: the most likely tokens, best first, until they hold
MASS_TARGET of the probability (at least K_MIN, at most K_MAX of them), plus the log of the mass left over.
(A fixed top-64 holds only ~95% of the mass on average for SmolLM2-135M on this text; ~1000 would be needed.)
  tokens        int32   [N_TOKENS]   the ids that were run
  k             int32   [N_TOKENS]   how many tokens are kept at each position
  ids           int32   [sum(k)]     the kept token ids, position after position, best first within a position
  logprobs      float16 [sum(k)]     their log-probabilities (float64 log-softmax of transformers' float32 logits)
  rest_logprob  float32 [N_TOKENS]   log of the probability of all the other tokens (computed in float64)
  model_sha256, transformers_version, torch_version (strings)
float16 keeps the files small (a few hundred KB); its rounding (<= 2.5e-4 relative) moves the KL measured from
these files negligibly (first order: sum p*d*(log p - log q - KL); 1.5e-8 of 0.0122 measured for SmolLM2).
tests/python/test_real_models.py compares qtr's logits with these.

Needs torch and transformers (the reference tier); run with the reference venv:
    .cache/ref-venv/bin/pip install torch==2.13.0 transformers==5.23.0 gguf accelerate
    bash scripts/fetch_models.sh smollm2 && bash scripts/fetch_models.sh gemma3-270m
    .cache/ref-venv/bin/python tests/reference/make_real_model_reference.py --qtr build/qtr [--out-dir DIR]
        [--perplexity-ctx 512] [MODEL...]
MODEL is a key of MODELS (default: all). It also prints whether transformers' own tokenizer of the GGUF gives the
same ids as qtr for the whole text (a report only: the stored ids are qtr's), and with --perplexity-ctx 512 the
perplexity that `qtr perplexity --ctx 512` measures, computed with transformers on the same chunks (a report only).
"""
from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer

REPO_ROOT = Path(__file__).resolve().parents[2]
MODELS_DIR = REPO_ROOT / ".cache" / "models"
TEXT = REPO_ROOT / "tests" / "data" / "public-domain-en.txt"
N_TOKENS = 256
MASS_TARGET = 0.99
K_MIN = 16
K_MAX = 4096

# key (as scripts/fetch_models.sh names it) -> GGUF file name in .cache/models
MODELS = {
    "smollm2": "SmolLM2-135M-Instruct.Q4_1.gguf",
    "gemma3-270m": "gemma-3-270m-q4_k_m.gguf",
}


def fixture_name(gguf_name: str) -> str:
    return gguf_name.removesuffix(".gguf") + ".npz"


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def qtr_tokenize(qtr: str, model: Path, *flags: str) -> list[int]:
    out = subprocess.run([qtr, "tokenize", "--model", str(model), "--file", str(TEXT), *flags], check=True,
                         stdout=subprocess.PIPE).stdout
    return [int(t) for t in out.split()]


def compare_tokenizers(model: Path, qtr_ids: list[int]) -> None:
    """Reports whether transformers' tokenizer (built from the GGUF's metadata) agrees with qtr on the whole text."""
    try:
        tok = AutoTokenizer.from_pretrained(str(model.parent), gguf_file=model.name)
        hf_ids = tok(TEXT.read_text(encoding="utf-8"))["input_ids"]
    except Exception as e:  # a report, not a requirement
        print(f"  tokenizer cross-check: transformers could not tokenize: {type(e).__name__}: {e}")
        return
    if hf_ids == qtr_ids:
        print(f"  tokenizer cross-check: transformers and qtr agree on all {len(qtr_ids)} ids")
        return
    first = next((i for i, (a, b) in enumerate(zip(hf_ids, qtr_ids)) if a != b), min(len(hf_ids), len(qtr_ids)))
    print(f"  tokenizer cross-check: DIFFER (transformers {len(hf_ids)} ids, qtr {len(qtr_ids)}); first difference "
          f"at {first}: transformers {hf_ids[first:first + 8]} qtr {qtr_ids[first:first + 8]}")


def load_hf(model: Path):
    hf = AutoModelForCausalLM.from_pretrained(str(model.parent), gguf_file=model.name, dtype=torch.float32,
                                              attn_implementation="eager")
    return hf.eval()


def log_probs(hf, ids: list[int]) -> np.ndarray:
    """float64 log-softmax of transformers' float32 logits: [len(ids)][n_vocab]."""
    with torch.no_grad():
        logits = hf(torch.tensor([ids], dtype=torch.long)).logits[0]
    return torch.log_softmax(logits.to(torch.float64), dim=-1).numpy()


def perplexity(hf, text_ids: list[int], bos: int | None, ctx: int) -> tuple[float, int, int]:
    """`qtr perplexity --ctx ctx` computed with transformers: the same chunks (BOS first when the model adds one),
    each from an empty context, the second half of each scored. Returns (perplexity, tokens scored, chunks)."""
    body = ctx - 1 if bos is not None else ctx
    n_chunks = len(text_ids) // body
    nll, scored = 0.0, 0
    for c in range(n_chunks):
        chunk = ([bos] if bos is not None else []) + text_ids[c * body:(c + 1) * body]
        lp = log_probs(hf, chunk)
        for i in range(ctx // 2, len(chunk) - 1):
            nll -= lp[i, chunk[i + 1]]
            scored += 1
    return float(np.exp(nll / scored)), scored, n_chunks


def reference(hf, ids: list[int]) -> dict[str, np.ndarray]:
    """transformers' next-token distributions at every position of ids, cut to their heads (see the docstring)."""
    logprobs = log_probs(hf, ids)
    ks, kept_ids, kept_logprobs, rest = [], [], [], []
    for row in logprobs:
        order = np.argsort(-row, kind="stable")[:K_MAX]
        mass = np.cumsum(np.exp(row[order]))
        k = int(min(max(np.searchsorted(mass, MASS_TARGET) + 1, K_MIN), K_MAX))
        ks.append(k)
        kept_ids.append(order[:k])
        kept_logprobs.append(row[order[:k]])
        rest.append(np.log(max(1.0 - mass[k - 1], 1e-300)))
    return dict(k=np.asarray(ks, dtype=np.int32), ids=np.concatenate(kept_ids).astype(np.int32),
                logprobs=np.concatenate(kept_logprobs).astype(np.float16),
                rest_logprob=np.asarray(rest, dtype=np.float32))


def make(qtr: str, key: str, out_dir: Path, perplexity_ctx: int) -> Path:
    model = MODELS_DIR / MODELS[key]
    if not model.is_file():
        sys.exit(f"{model} is missing: run scripts/fetch_models.sh {key}")
    print(f"{key}: {model.name}")
    all_ids = qtr_tokenize(qtr, model)
    if len(all_ids) < N_TOKENS:
        sys.exit(f"{TEXT} gives only {len(all_ids)} tokens with {model.name}; {N_TOKENS} are needed")
    compare_tokenizers(model, all_ids)
    ids = all_ids[:N_TOKENS]
    hf = load_hf(model)
    ref = reference(hf, ids)
    kept = 1.0 - np.exp(ref["rest_logprob"].astype(np.float64))
    print(f"  kept {ref['k'].sum()} (token, logprob) pairs, {ref['k'].min()}..{ref['k'].max()} a position; kept mass: "
          f"mean {kept.mean():.6f}, min {kept.min():.6f}")
    out = out_dir / fixture_name(model.name)
    np.savez_compressed(out, tokens=np.asarray(ids, dtype=np.int32), **ref,
                        model_sha256=np.str_(sha256_of(model)), transformers_version=np.str_(transformers.__version__),
                        torch_version=np.str_(torch.__version__))
    print(f"  wrote {out} ({out.stat().st_size} bytes)")
    if perplexity_ctx:
        text_ids = qtr_tokenize(qtr, model, "--no-bos")
        bos = all_ids[0] if len(all_ids) == len(text_ids) + 1 else None
        ppl, scored, chunks = perplexity(hf, text_ids, bos, perplexity_ctx)
        print(f"  transformers perplexity: {ppl:.4f} ({scored} tokens scored in {chunks} chunks of {perplexity_ctx})")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--qtr", default=os.environ.get("QTR_BIN") or str(REPO_ROOT / "build" / "qtr"))
    ap.add_argument("--out-dir", type=Path, default=REPO_ROOT / "tests" / "fixtures" / "real-models")
    ap.add_argument("--perplexity-ctx", type=int, default=0, metavar="N",
                    help="also print `qtr perplexity --ctx N` as transformers computes it (a report only)")
    ap.add_argument("models", nargs="*", metavar="MODEL", help=f"any of {', '.join(MODELS)} (default: all)")
    args = ap.parse_args()
    unknown = [m for m in args.models if m not in MODELS]
    if unknown:
        ap.error(f"unknown model(s) {unknown}; known: {list(MODELS)}")
    torch.manual_seed(0)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for key in args.models or list(MODELS):
        make(args.qtr, key, args.out_dir, args.perplexity_ctx)


if __name__ == "__main__":
    main()
