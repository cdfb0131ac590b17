"""Quantized models end to end: accuracy of qtr-quantized stories260K against its F32 logits, results independent
of the ISA and the thread count, and the contracts of `quantize`, `synth`, `bench --json` and `inspect --system`."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from conftest import ids_arg, parse_ids


def supported_isas(qtr) -> list[str]:
    out = qtr.ok("inspect", "--system").out
    line = next(l for l in out.splitlines() if l.startswith("isas supported here:"))
    return line.split(":", 1)[1].split()


@pytest.fixture(scope="module")
def story_ids(qtr, stories_model, stories_expected, tmp_path_factory) -> list[int]:
    text = tmp_path_factory.mktemp("story") / "story.txt"
    text.write_bytes(stories_expected)
    return parse_ids(qtr.ok("tokenize", "--model", str(stories_model), "--file", str(text)).out)


BLOCK32_TYPES = ("q8_0", "q4_0", "q4_1", "q5_0", "q5_1")
K_TYPES = ("q4_K", "q5_K", "q6_K")


@pytest.fixture(scope="module")
def quantized(qtr, stories_model, tmp_path_factory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("quantized")
    out = {}
    for t in BLOCK32_TYPES:
        path = d / f"stories-{t}.gguf"
        r = qtr.ok("quantize", "--model", str(stories_model), "--out", str(path), "--type", t)
        # the ffn_down rows (172) are not a multiple of the block: kept in F32, said on stderr
        assert b"keeping blk.0.ffn_down.weight as F32" in r.stderr
        out[t] = str(path)
    return out


def logits(qtr, model, ids, tmp_path, name, env=None, threads=None) -> np.ndarray:
    out = tmp_path / f"{name}.f32"
    args = ["logits", "--model", str(model), "--ids", ids_arg(ids), "--out", str(out)]
    if threads:
        args += ["--threads", str(threads)]
    r = qtr(*args, env=env) if env else qtr(*args)
    assert r.returncode == 0, r.err
    return np.fromfile(out, dtype=np.float32).reshape(len(ids), -1)


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_q8_0_keeps_top1_agreement_with_f32(qtr, stories_model, quantized, story_ids, tmp_path):
    ref = logits(qtr, stories_model, story_ids, tmp_path, "f32")
    q8 = logits(qtr, quantized["q8_0"], story_ids, tmp_path, "q8")
    agreement = float((ref.argmax(-1) == q8.argmax(-1)).mean())
    p, q = softmax(ref.astype(np.float64)), softmax(q8.astype(np.float64))
    kl = float((p * (np.log(p) - np.log(q))).sum(-1).mean())
    print(f"Q8_0 vs F32 over {len(story_ids)} positions: top-1 {agreement:.4f}, mean KL {kl:.2e}")
    assert agreement >= 0.99
    assert kl < 1e-3


def test_q4_0_stays_close_to_f32(qtr, stories_model, quantized, story_ids, tmp_path):
    ref = logits(qtr, stories_model, story_ids, tmp_path, "f32")
    q4 = logits(qtr, quantized["q4_0"], story_ids, tmp_path, "q4")
    agreement = float((ref.argmax(-1) == q4.argmax(-1)).mean())
    print(f"Q4_0 vs F32: top-1 {agreement:.4f}")
    assert agreement >= 0.85  # 4-bit weights on a 260K-parameter model: a coarse check only


@pytest.fixture(scope="module")
def k_models(qtr, tmp_path_factory) -> dict[str, str]:
    """Small random models whose widths are multiples of 256, so every matrix can be a K-quant."""
    d = tmp_path_factory.mktemp("kquants")
    out = {}
    for t in K_TYPES:
        path = d / f"synth-{t}.gguf"
        qtr.ok("synth", "--shape", "custom", "--n-embd", "256", "--n-ff", "512", "--n-layer", "2", "--n-head", "4",
               "--n-head-kv", "2", "--n-vocab", "512", "--type", t, "--out", str(path))
        out[t] = str(path)
    return out


def check_identical_everywhere(qtr, model, ids, tmp_path, label):
    """Bit-identical for every thread count on each ISA. Across ISAs the matmul kernels give the same bits, but the
    fused attention kernels sum in a different order on AVX2/AVX-512 (docs/kernels.md, "Paged attention"), so the
    logits agree within float rounding, amplified at most by int8 activation rounding flips downstream."""
    base = logits(qtr, model, ids, tmp_path, "scalar", env={"QTR_ISA": "scalar"}, threads=1)
    assert np.isfinite(base).all()
    scale = max(1.0, float(np.abs(base).max()))
    for isa in supported_isas(qtr):
        first = None
        for threads in (1, 2, 3):
            got = logits(qtr, model, ids, tmp_path, f"{isa}{threads}", env={"QTR_ISA": isa}, threads=threads)
            if first is None:
                first = got
                err, mean = float(np.abs(got - base).max()), float(np.abs(got - base).mean())
                top1 = float((got.argmax(-1) == base.argmax(-1)).mean())
                print(f"{label}: {isa} vs scalar: max abs difference {err:.2e}, mean {mean:.2e}, top-1 {top1:.3f} "
                      f"(logit scale {scale:.1f})")
                # A rounding difference in attention can flip an int8 activation rounding downstream, which moves
                # some logits by more than float noise; the bulk stays at float noise.
                assert mean <= 5e-3 * scale and err <= 0.05 * scale, f"{label} on {isa} is {err} away from scalar"
                assert top1 >= 0.975
            assert np.array_equal(got, first), f"{label} on {isa} differs with {threads} threads"


@pytest.mark.parametrize("kind", BLOCK32_TYPES)
def test_logits_are_identical_on_every_isa_and_thread_count(qtr, quantized, story_ids, tmp_path, kind):
    check_identical_everywhere(qtr, quantized[kind], story_ids[:40], tmp_path, kind)


def test_f32_logits_are_identical_on_every_isa_and_thread_count(qtr, stories_model, story_ids, tmp_path):
    check_identical_everywhere(qtr, stories_model, story_ids[:40], tmp_path, "f32")


@pytest.mark.parametrize("kind", K_TYPES)
def test_k_quant_logits_are_identical_on_every_isa_and_thread_count(qtr, k_models, tmp_path, kind):
    check_identical_everywhere(qtr, k_models[kind], list(range(1, 40, 3)), tmp_path, kind)


@pytest.mark.parametrize("kind", BLOCK32_TYPES[2:])
def test_other_block32_types_stay_close_to_f32(qtr, stories_model, quantized, story_ids, tmp_path, kind):
    ref = logits(qtr, stories_model, story_ids, tmp_path, "f32")
    got = logits(qtr, quantized[kind], story_ids, tmp_path, kind)
    agreement = float((ref.argmax(-1) == got.argmax(-1)).mean())
    print(f"{kind} vs F32: top-1 {agreement:.4f}")
    assert agreement >= 0.85


def test_an_isa_the_cpu_lacks_is_a_one_line_error(qtr, quantized):
    isas = supported_isas(qtr)
    missing = next((i for i in ("avx512", "avx2", "neon") if i not in isas and not (i == "avx512" and "avx512vnni" in isas)), None)
    if missing is None:
        pytest.skip("this CPU supports every ISA qtr knows")
    r = qtr("run", "--model", quantized["q8_0"], "--n-predict", "1", "--temp", "0", env={"QTR_ISA": missing})
    assert r.returncode == 1
    assert len(r.err.strip().splitlines()) == 1 and "not supported by this CPU" in r.err
    r = qtr("run", "--model", quantized["q8_0"], "--n-predict", "1", "--temp", "0", env={"QTR_ISA": "sse9"})
    assert r.returncode == 1 and "is not one of" in r.err


def test_inspect_system_names_the_chosen_kernels(qtr):
    out = qtr.ok("inspect", "--system").out
    assert out.startswith("cpu: ")
    assert "isa: " in out
    assert "gemm_q4_0_q8a_" in out and "gemm_q8_0_q8a_" in out
    forced = qtr("inspect", "--system", env={"QTR_ISA": "scalar"})
    assert "gemm_q4_0_q8a_16x1__scalar" in forced.out and "forced by QTR_ISA" in forced.out


def test_quantize_rejects_unknown_types(qtr, stories_model, tmp_path):
    r = qtr("quantize", "--model", str(stories_model), "--out", str(tmp_path / "x.gguf"), "--type", "q3_xl")
    assert r.returncode == 2 and "cannot quantize" in r.err


def test_synth_writes_a_model_that_runs(qtr, tmp_path):
    path = tmp_path / "synth.gguf"
    qtr.ok("synth", "--shape", "custom", "--n-embd", "64", "--n-ff", "96", "--n-layer", "2", "--n-head", "4",
           "--n-head-kv", "2", "--n-vocab", "300", "--type", "q8_0", "--out", str(path))
    info = qtr.ok("inspect", str(path)).out
    assert "blk.1.ffn_down.weight" in info and "Q8_0" in info
    r = qtr.ok("run", "--model", str(path), "--n-predict", "5", "--temp", "0", "--prompt", "hello")
    assert "5 generated" in r.err


def test_bench_json_lines_have_llama_bench_fields(qtr, quantized):
    r = qtr.ok("bench", "-m", quantized["q8_0"], "-p", "16", "-n", "4", "-t", "1,2", "-r", "2", "--json")
    rows = [json.loads(line) for line in r.out.splitlines()]
    assert len(rows) == 4
    for row in rows:
        for field in ("n_prompt", "n_gen", "n_threads", "avg_ts", "stddev_ts", "avg_ns", "samples_ts", "model_size"):
            assert field in row
        assert row["avg_ts"] > 0 and len(row["samples_ts"]) == 2
    assert {(r["n_prompt"], r["n_gen"], r["n_threads"]) for r in rows} == {(16, 0, 1), (0, 4, 1), (16, 0, 2), (0, 4, 2)}
    table = qtr.ok("bench", "-m", quantized["q8_0"], "-p", "8", "-n", "0", "-r", "1").out
    assert "| pp8 |" in table


@pytest.mark.parametrize("kind", K_TYPES + BLOCK32_TYPES[2:])
def test_integer_kernels_match_their_dequantized_weights(qtr, k_models, quantized, story_ids, tmp_path, kind):
    """The same weights dequantized exactly to F32 (qtr quantize --type f32) and run in float: the integer kernels
    differ only by the int8 rounding of the activations."""
    model = k_models.get(kind) or quantized[kind]
    ids = list(range(1, 40, 3)) if kind in K_TYPES else story_ids[:64]
    f32 = tmp_path / "dequantized.gguf"
    qtr.ok("quantize", "--model", model, "--out", str(f32), "--type", "f32")
    ref = logits(qtr, f32, ids, tmp_path, "ref")
    got = logits(qtr, model, ids, tmp_path, "int")
    agreement = float((ref.argmax(-1) == got.argmax(-1)).mean())
    p, q = softmax(ref.astype(np.float64)), softmax(got.astype(np.float64))
    kl = float((p * (np.log(p) - np.log(q))).sum(-1).mean())
    print(f"{kind}: integer kernels vs dequantized F32: top-1 {agreement:.3f}, mean KL {kl:.2e}")
    assert agreement >= 0.9
    assert kl < 5e-3


@pytest.mark.parametrize("kind", K_TYPES + BLOCK32_TYPES)
def test_in_place_kernels_give_the_packed_results(qtr, k_models, quantized, story_ids, tmp_path, kind):
    """--no-repack runs the in-place kernels on the GGUF rows: the same numbers, only the layout differs."""
    model = k_models.get(kind) or quantized[kind]
    ids = list(range(1, 40, 3)) if kind in K_TYPES else story_ids[:24]
    packed = logits(qtr, model, ids, tmp_path, "packed")
    out = tmp_path / "rows.f32"
    qtr.ok("logits", "--model", model, "--ids", ids_arg(ids), "--out", str(out), "--no-repack")
    assert np.array_equal(np.fromfile(out, dtype=np.float32).reshape(len(ids), -1), packed)
