"""qtr on real GGUF models (SmolLM2-135M-Instruct Q4_1, Gemma 3 270M Q4_K_M) against transformers.

The reference distributions are committed (tests/fixtures/real-models/<model>.npz, made by
tests/reference/make_real_model_reference.py with transformers dequantizing the same GGUF file to float32); the
models are not: they are fetched by `scripts/fetch_models.sh [smollm2|gemma3-270m]` into .cache/models, and the tests
of a model that is not there skip (they never download). Targets (qtr issue 4): over the first 256 tokens of
tests/data/public-domain-en.txt, mean KL(transformers || qtr) <= 0.01 and top-1 agreement >= 95%.
Run with -s to see the measured numbers.

Reference tier: with QTR_REF_PYTHON naming a python that has torch + transformers (e.g. .cache/ref-venv/bin/python),
test_reference_fixture_is_reproducible re-derives each fixture and compares it with the committed one.
"""
from __future__ import annotations

import math
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO_ROOT, ids_arg

MODELS_DIR = REPO_ROOT / ".cache" / "models"
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "real-models"
TEXT = REPO_ROOT / "tests" / "data" / "public-domain-en.txt"
ACCURACY_DOC = REPO_ROOT / "docs" / "accuracy.md"
MAKE_REFERENCE = REPO_ROOT / "tests" / "reference" / "make_real_model_reference.py"

MEAN_KL_MAX = 0.01
TOP1_MIN = 0.95
# Bounds per `--matmul-inputs` mode. precise (the default) measures KL 0.0006-0.0009 and top-1 98-100% on every ISA;
# its bounds are tighter than the targets to catch regressions. int8 (one int8 term per block of 32, as
# llama.cpp does) measures KL 0.0097-0.0125 and top-1 94-98%, moving with float summation order (another ISA's
# attention re-draws which inputs round which way): it does not meet the targets, and is held to looser bounds.
BOUNDS = {"precise": (0.003, 0.97), "int8": (0.015, 0.93)}
KEPT_MASS_MIN = 0.99
ROWS_PER_READ = 16  # logits rows read at a time: Gemma's 262144-wide rows make the whole file 268 MB
QTR_SLOW_TIMEOUT_S = 600


@dataclass(frozen=True)
class RealModel:
    key: str   # the argument of scripts/fetch_models.sh
    gguf: str  # file name in .cache/models

    @property
    def fixture(self) -> Path:
        return FIXTURES / (self.gguf.removesuffix(".gguf") + ".npz")


MODELS = [RealModel("smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"), RealModel("gemma3-270m", "gemma-3-270m-q4_k_m.gguf")]


@pytest.fixture(params=MODELS, ids=[m.key for m in MODELS])
def real_model(request) -> RealModel:
    m = request.param
    if not (MODELS_DIR / m.gguf).is_file():
        pytest.skip(f"real model not found: {MODELS_DIR / m.gguf} (fetch it with: bash scripts/fetch_models.sh {m.key})")
    return m


@dataclass
class Reference:
    """One fixture: per position, the reference's most likely next tokens and the mass of all the others."""
    tokens: np.ndarray        # int32 [n]
    starts: np.ndarray        # int64 [n + 1]: position i's entries are ids[starts[i]:starts[i+1]]
    ids: np.ndarray           # int32 [sum k], best first within a position
    logprobs: np.ndarray      # float64 [sum k]
    rest_logprob: np.ndarray  # float64 [n]

    @staticmethod
    def load(path: Path) -> "Reference":
        with np.load(path) as z:
            k = z["k"].astype(np.int64)
            return Reference(z["tokens"], np.concatenate([[0], np.cumsum(k)]), z["ids"],
                             z["logprobs"].astype(np.float64), z["rest_logprob"].astype(np.float64))

    def head(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        return self.ids[self.starts[i]:self.starts[i + 1]], self.logprobs[self.starts[i]:self.starts[i + 1]]


def log_softmax(rows: np.ndarray) -> np.ndarray:
    z = rows.astype(np.float64)
    z -= z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def logsumexp(x: np.ndarray) -> float:
    if x.size == 0:
        return -math.inf
    m = x.max()
    return float(m + np.log(np.exp(x - m).sum())) if np.isfinite(m) else float(m)


def kl_lower_bound(ref_ids: np.ndarray, ref_logprobs: np.ndarray, ref_rest_logprob: float,
                   qtr_logprobs: np.ndarray) -> float:
    """KL(reference || qtr) of one position, over the stored tokens plus one "rest" bucket.

    The fixture keeps only the reference's most likely tokens (>= 99% of its mass) and the total mass of the others.
    Merging all the other tokens into one outcome, in both distributions, is a coarsening, and KL never grows under
    a coarsening (log-sum inequality), so this is a true lower bound of the full KL; it is tight when the rest is
    small, which test_reference_mass_is_tight checks. The reference's stored probabilities are renormalised
    together with its rest (float16 storage leaves their sum ~1e-4 off 1).
    """
    p = np.exp(np.append(ref_logprobs, ref_rest_logprob))
    logp = np.log(p / p.sum())
    others = np.ones(qtr_logprobs.shape[0], dtype=bool)
    others[ref_ids] = False
    logq = np.append(qtr_logprobs[ref_ids], logsumexp(qtr_logprobs[others]))  # the rest, summed exactly
    return float(np.sum(np.exp(logp) * (logp - logq)))


def qtr_logits(qtr, model: Path, tokens: np.ndarray, out: Path, matmul_inputs: str) -> np.memmap:
    r = qtr("logits", "--model", str(model), "--ids", ids_arg(tokens), "--out", str(out),
            "--matmul-inputs", matmul_inputs, timeout=QTR_SLOW_TIMEOUT_S)
    if r.returncode != 0 and "unsupported architecture" in r.err:
        pytest.skip(f"qtr cannot run {model.name} yet: {r.err.strip()}")
    r.check()
    n = len(tokens)
    size = out.stat().st_size
    assert size % (4 * n) == 0, (size, n)
    return np.memmap(out, dtype="<f4", mode="r", shape=(n, size // (4 * n)))


@pytest.fixture
def reference(real_model: RealModel) -> Reference:
    assert real_model.fixture.is_file(), f"{real_model.fixture} is missing: make it with {MAKE_REFERENCE}"
    return Reference.load(real_model.fixture)


def test_reference_mass_is_tight(real_model, reference):
    kept = 1.0 - np.exp(reference.rest_logprob)
    print(f"\n{real_model.key}: reference keeps {len(reference.ids)} tokens over {len(reference.tokens)} positions, "
          f"mass mean {kept.mean():.5f}, min {kept.min():.5f}")
    assert kept.mean() >= KEPT_MASS_MIN


def test_tokens_match_qtr_tokenizer(qtr, real_model, reference):
    ids = [int(t) for t in qtr.ok("tokenize", "--model", MODELS_DIR / real_model.gguf, "--file", TEXT).out.split()]
    assert ids[:len(reference.tokens)] == reference.tokens.tolist()


@pytest.mark.parametrize("matmul_inputs", ["precise", "int8"])
def test_logits_match_transformers(qtr, real_model, reference, tmp_path, matmul_inputs):
    logits = qtr_logits(qtr, MODELS_DIR / real_model.gguf, reference.tokens, tmp_path / "logits.f32", matmul_inputs)
    n = len(reference.tokens)
    kl = np.empty(n)
    top1 = np.empty(n, dtype=bool)
    for first in range(0, n, ROWS_PER_READ):
        rows = log_softmax(np.asarray(logits[first:first + ROWS_PER_READ]))
        for j, row in enumerate(rows):
            i = first + j
            ids, logprobs = reference.head(i)
            kl[i] = kl_lower_bound(ids, logprobs, reference.rest_logprob[i], row)
            top1[i] = int(np.argmax(row)) == int(ids[0])
    print(f"\n{real_model.key} ({matmul_inputs}): KL(transformers || qtr) over {n} positions: mean {kl.mean():.5f} "
          f"(median {np.median(kl):.5f}, p95 {np.percentile(kl, 95):.5f}, max {kl.max():.5f}); "
          f"top-1 agreement {top1.sum()}/{n} = {top1.mean():.2%}")
    kl_max, top1_min = BOUNDS[matmul_inputs]
    if matmul_inputs == "precise":  # the default mode meets the targets, with room
        assert kl_max <= MEAN_KL_MAX and top1_min >= TOP1_MIN
    assert kl.mean() <= kl_max and top1.mean() >= top1_min, (kl.mean(), top1.mean())


# --- perplexity -------------------------------------------------------------------------------------------------

# `qtr perplexity --model SmolLM2-135M-Instruct.Q4_1.gguf --file tests/data/public-domain-en.txt --ctx 512`, as
# docs/accuracy.md records it (default f16 KV cache). The same for every thread count; other ISAs move it a little.
SMOLLM2_PERPLEXITY = 24.9088
PERPLEXITY_RTOL = 5e-3  # float summation order (ISA) moves it a little


def test_smollm2_perplexity_is_the_documented_one(qtr):
    model = MODELS_DIR / MODELS[0].gguf
    if not model.is_file():
        pytest.skip(f"real model not found: {model} (fetch it with: bash scripts/fetch_models.sh smollm2)")
    r = qtr.ok("perplexity", "--model", model, "--file", TEXT, "--ctx", "512", timeout=QTR_SLOW_TIMEOUT_S)
    m = re.search(r"perplexity: ([0-9.]+) \((\d+) tokens scored in (\d+) chunks", r.out)
    assert m, r.out
    print(f"\nsmollm2: {m.group(0)}")
    assert abs(float(m.group(1)) - SMOLLM2_PERPLEXITY) <= PERPLEXITY_RTOL * SMOLLM2_PERPLEXITY
    assert f"{SMOLLM2_PERPLEXITY}" in ACCURACY_DOC.read_text(encoding="utf-8"), "docs/accuracy.md disagrees"


# --- reference tier ---------------------------------------------------------------------------------------------

def test_reference_fixture_is_reproducible(qtr_bin, real_model, reference, tmp_path):
    python = os.environ.get("QTR_REF_PYTHON")
    if not python:
        pytest.skip("reference tier: set QTR_REF_PYTHON to a python with torch and transformers "
                    "(e.g. .cache/ref-venv/bin/python)")
    subprocess.run([python, str(MAKE_REFERENCE), "--qtr", str(qtr_bin), "--out-dir", str(tmp_path), real_model.key],
                   check=True, timeout=QTR_SLOW_TIMEOUT_S)
    fresh = Reference.load(tmp_path / real_model.fixture.name)
    assert fresh.tokens.tolist() == reference.tokens.tolist()
    np.testing.assert_allclose(fresh.rest_logprob, reference.rest_logprob, rtol=1e-3, atol=1e-4)
    for i in range(len(reference.tokens)):
        ids, logprobs = reference.head(i)
        fresh_ids, fresh_logprobs = fresh.head(i)
        assert fresh_ids[0] == ids[0], f"position {i}: top-1 {fresh_ids[0]} != {ids[0]}"
        # Near the cut-off the kept sets may differ by tokens of equal probability; compare the ones in both.
        common, a, b = np.intersect1d(ids, fresh_ids, return_indices=True)
        assert len(common) >= 0.9 * min(len(ids), len(fresh_ids)), f"position {i}"
        np.testing.assert_allclose(fresh_logprobs[b], logprobs[a], rtol=1e-3, atol=1e-3, err_msg=f"position {i}")
