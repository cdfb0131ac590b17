"""How much each way of rounding matmul inputs to integers costs, on a real llama-family GGUF (docs/accuracy.md).

Runs the float64 NumPy reference (tests/python/reference_llama.py) once exactly, then again with the inputs of
chosen matmuls rounded the way an integer kernel would, and prints KL(exact || rounded) and top-1 agreement over
the first 256 tokens of tests/data/public-domain-en.txt. Needs numpy and gguf (the dev venv has both) and a qtr
binary for the token ids.

    .venv/bin/python tests/reference/activation_rounding_study.py --qtr build/qtr \\
        --model .cache/models/SmolLM2-135M-Instruct.Q4_1.gguf
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "python"))
from reference_llama import ReferenceLlama, kl_divergence  # noqa: E402

SITES = ("qkv", "o", "gate_up", "down", "output")


def int8(x: np.ndarray, block: int = 32) -> np.ndarray:
    """Blocks of `block` values: d = max|x| / 127 (in f32), q = round(x / d), returned as d * q."""
    xb = x.reshape(-1, block)
    d = (np.abs(xb).max(axis=1, keepdims=True) / 127.0).astype(np.float32).astype(np.float64)
    q = np.clip(np.round(xb / np.where(d > 0, d, 1.0)), -127, 127)
    return (q * d).reshape(x.shape)


def int8x2(x: np.ndarray) -> np.ndarray:
    """qtr's MatmulInputs::precise: one int8 term, plus one for its rounding error."""
    main = int8(x)
    return main + int8(x - main)


class RoundedLlama(ReferenceLlama):
    """The reference with a rounding function applied to the input of each matmul site."""

    def __init__(self, path):
        super().__init__(path)
        self.rounding: dict[str, callable] = {}

    def _in(self, site: str, x: np.ndarray) -> np.ndarray:
        f = self.rounding.get(site)
        return f(x) if f else x

    def forward(self, ids):
        hp = self.hp
        ids = np.asarray(ids)
        n = len(ids)
        pos = np.arange(n)
        x = self.tok_embd[ids].copy()
        for L in self.layers:
            h = self._in("qkv", self.rmsnorm(x, L["attn_norm"]))
            q = self.rope((h @ L["wq"].T).reshape(n, hp.n_head, hp.head_dim), pos)
            k = self.rope((h @ L["wk"].T).reshape(n, hp.n_head_kv, hp.head_dim), pos)
            v = (h @ L["wv"].T).reshape(n, hp.n_head_kv, hp.head_dim_v)
            x = x + self._in("o", self.attention(q, k, v)) @ L["wo"].T
            h = self._in("gate_up", self.rmsnorm(x, L["ffn_norm"]))
            g = h @ L["w_gate"].T
            u = h @ L["w_up"].T
            x = x + self._in("down", g / (1.0 + np.exp(-g)) * u) @ L["w_down"].T
        return self._in("output", self.rmsnorm(x, self.output_norm)) @ self.output.T


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--qtr", default=str(REPO / "build" / "qtr"))
    ap.add_argument("--model", default=str(REPO / ".cache" / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--tokens", type=int, default=256)
    args = ap.parse_args()
    text = REPO / "tests" / "data" / "public-domain-en.txt"
    out = subprocess.run([args.qtr, "tokenize", "--model", args.model, "--file", str(text)],
                         check=True, capture_output=True, text=True).stdout
    ids = [int(t) for t in out.split()][:args.tokens]
    model = RoundedLlama(args.model)
    exact = model.forward(ids)

    def row(name: str, rounding: dict) -> None:
        model.rounding = rounding
        logits = model.forward(ids)
        kl = kl_divergence(exact, logits).mean()
        top1 = (logits.argmax(-1) == exact.argmax(-1)).mean()
        print(f"| {name} | {kl:.5f} | {top1:.2%} |", flush=True)

    every = lambda f: {s: f for s in SITES}  # noqa: E731
    print("| inputs rounded | KL vs exact | top-1 |\n|---|---|---|")
    row("int8, blocks of 32, every matmul (llama.cpp; qtr `int8`)", every(int8))
    for site in SITES:
        row(f"int8, blocks of 32, only the input of {site}", {site: int8})
    row("int8, blocks of 16, every matmul", every(lambda x: int8(x, 16)))
    row("int8, blocks of 8, every matmul", every(lambda x: int8(x, 8)))
    row("two int8 terms at qkv and gate/up, int8 elsewhere", {**every(int8), "qkv": int8x2, "gate_up": int8x2})
    row("two int8 terms at qkv, gate/up, down; int8 at o, output (qtr `precise`)",
        {**every(int8), "qkv": int8x2, "gate_up": int8x2, "down": int8x2})
    row("two int8 terms everywhere", every(int8x2))


if __name__ == "__main__":
    main()
