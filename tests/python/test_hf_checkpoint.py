"""Hugging Face checkpoints (llama, llama with Llama-3 RoPE scaling, qwen2, qwen3, phi3: config.json +
model.safetensors + tokenizer.model or tokenizer.json), loaded directly and through `qtr quantize`, against the logits
transformers computed for them (tests/fixtures/make_hf_fixtures.py). Malformed inputs: test_hf_bad_input.py."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO_ROOT, ids_arg, parse_ids

FIXTURES = REPO_ROOT / "tests" / "fixtures"
VARIANTS = ["hf-llama-tiny", "hf-llama-tiny-bf16-tied", "hf-qwen2-tiny", "hf-qwen3-tiny", "hf-llama3-rope-tiny",
            "hf-phi3-tiny"]
LLAMA3 = FIXTURES / "hf-llama3-rope-tiny"  # rope_type llama3; tokenizer.json (byte-level BPE) only


def reference(name):
    ref = json.loads((FIXTURES / name / "reference.json").read_text())
    return ref["ids"], np.array(ref["logits"], dtype=np.float64)


def qtr_logits(qtr, model, ids, out):
    qtr.ok("logits", "--model", str(model), "--ids", ids_arg(ids), "--out", str(out))
    return np.fromfile(out, dtype=np.float32).reshape(len(ids), -1)


@pytest.mark.parametrize("name", VARIANTS)
def test_checkpoint_logits_match_transformers(qtr, tmp_path, name):
    ids, want = reference(name)
    got = qtr_logits(qtr, FIXTURES / name, ids, tmp_path / "direct.f32")
    err = float(np.abs(got - want).max())
    print(f"{name}: max abs error {err:.2e} over {len(ids)} positions")
    assert err <= 1e-3
    assert (got.argmax(-1) == want.argmax(-1)).all()


@pytest.mark.parametrize("name", VARIANTS)
def test_checkpoint_converted_to_gguf_gives_the_same_logits(qtr, tmp_path, name):
    ids, want = reference(name)
    direct = qtr_logits(qtr, FIXTURES / name, ids, tmp_path / "direct.f32")
    for kind in ("f32", "f16"):
        gguf = tmp_path / f"{kind}.gguf"
        qtr.ok("quantize", "--model", str(FIXTURES / name), "--out", str(gguf), "--type", kind)
        info = qtr.ok("inspect", str(gguf), "--no-tensors").out
        arch = json.loads((FIXTURES / name / "config.json").read_text())["model_type"]
        assert f'"{arch}"' in info or (arch == "llama" and '"llama"' in info)
        got = qtr_logits(qtr, gguf, ids, tmp_path / f"{kind}.f32")
        if kind == "f32":
            assert np.array_equal(got, direct)
        assert np.abs(got - want).max() <= (1e-3 if kind == "f32" else 2e-2)
    q8 = tmp_path / "q8.gguf"
    qtr.ok("quantize", "--model", str(FIXTURES / name), "--out", str(q8), "--type", "q8_0")
    got = qtr_logits(qtr, q8, ids, tmp_path / "q8.f32")
    assert (got.argmax(-1) == want.argmax(-1)).mean() >= 0.8  # tiny random models: many near-ties; coarse check


def test_checkpoint_tokenizer_matches_sentencepiece(qtr):
    spm = pytest.importorskip("sentencepiece")
    sp = spm.SentencePieceProcessor(model_file=str(FIXTURES / "hf-llama-tiny" / "tokenizer.model"))
    for text in ("Once upon a time, the clockmaker", "Numbers: 1, 2, 42!", "unseen wörds ✓"):
        got = parse_ids(qtr.ok("tokenize", "--model", str(FIXTURES / "hf-llama-tiny"), "--text", text, "--no-bos").out)
        assert got == sp.encode(text), text


def test_checkpoint_generates_text(qtr):
    r = qtr.ok("run", "--model", str(FIXTURES / "hf-llama-tiny"), "--prompt", "Once upon", "--n-predict", "8",
               "--temp", "0")
    assert "8 generated" in r.err or "stopped at end of sequence" in r.err


def test_llama3_rope_freqs_follow_the_transformers_formula(qtr, tmp_path):
    """rope_freqs.weight holds, per rotated pair, inv_freq / transformers' scaled inv_freq (computed here in NumPy
    from config.json, as _compute_llama3_parameters does)."""
    gguf = pytest.importorskip("gguf")
    config = json.loads((LLAMA3 / "config.json").read_text())
    p = config["rope_parameters"]
    head_dim = config["hidden_size"] // config["num_attention_heads"]
    inv_freq = 1.0 / p["rope_theta"] ** (np.arange(0, head_dim, 2) / head_dim)
    wavelen = 2 * np.pi / inv_freq
    orig = p["original_max_position_embeddings"]
    scaled = np.where(wavelen > orig / p["low_freq_factor"], inv_freq / p["factor"], inv_freq)
    smooth = (orig / wavelen - p["low_freq_factor"]) / (p["high_freq_factor"] - p["low_freq_factor"])
    medium = (wavelen >= orig / p["high_freq_factor"]) & (wavelen <= orig / p["low_freq_factor"])
    scaled = np.where(medium, (1 - smooth) * scaled / p["factor"] + smooth * scaled, scaled)
    want = inv_freq / scaled
    assert want.min() == 1.0 and want.max() == p["factor"] and ((want > 1) & (want < p["factor"])).any()  # all bands

    out = tmp_path / "f32.gguf"
    qtr.ok("quantize", "--model", str(LLAMA3), "--out", str(out), "--type", "f32")
    tensors = {t.name: t for t in gguf.GGUFReader(str(out)).tensors}
    got = np.asarray(tensors["rope_freqs.weight"].data, dtype=np.float64)
    assert got.shape == (head_dim // 2,)
    assert np.allclose(got, want, rtol=1e-6)


def test_linear_rope_scaling_matches_transformers(qtr, tmp_path):
    """The llama3 fixture's weights with rope_parameters {rope_type: linear, factor: 4}: transformers' logits for the
    last positions are in reference.json ("linear"). Directly and as GGUF (rope.scaling.type = linear)."""
    ref = json.loads((LLAMA3 / "reference.json").read_text())
    ids, linear = ref["ids"], ref["linear"]
    want = np.array(linear["logits"], dtype=np.float64)
    d = tmp_path / "linear"
    shutil.copytree(LLAMA3, d)
    config = json.loads((d / "config.json").read_text())
    config["rope_parameters"] = linear["rope_parameters"]
    (d / "config.json").write_text(json.dumps(config))
    gguf_path = tmp_path / "linear.gguf"
    qtr.ok("quantize", "--model", str(d), "--out", str(gguf_path), "--type", "f32")
    info = qtr.ok("inspect", str(gguf_path)).out
    assert "llama.rope.scaling.type" in info and "linear" in info and "rope_freqs.weight" not in info
    for model in (d, gguf_path):
        got = qtr_logits(qtr, model, ids, tmp_path / "linear.f32")[linear["first_row"]:]
        assert np.abs(got - want).max() <= 1e-3, model
        assert (got.argmax(-1) == want.argmax(-1)).all()
    # and the scaling matters: without it the logits are far off
    unscaled = qtr_logits(qtr, LLAMA3, ids, tmp_path / "llama3.f32")[linear["first_row"]:]
    assert np.abs(unscaled - want).max() > 0.1


@pytest.mark.parametrize("no_bos", [False, True])
def test_tokenizer_json_checkpoint_matches_tokenizers(qtr, tmp_path, no_bos):
    """A checkpoint with tokenizer.json and no tokenizer.model: `qtr tokenize` through the directory, and through a
    GGUF written from it, gives the ids the `tokenizers` package gave (reference.json "tokenize"). Special tokens
    written in the text are matched, as `tokenizers` matches added tokens."""
    assert not (LLAMA3 / "tokenizer.model").exists()
    cases = json.loads((LLAMA3 / "reference.json").read_text())["tokenize"]
    gguf_path = tmp_path / "f32.gguf"
    qtr.ok("quantize", "--model", str(LLAMA3), "--out", str(gguf_path), "--type", "f32")
    flags = ["--parse-special"] + (["--no-bos"] if no_bos else [])
    for case in cases:
        want = case["ids_no_special" if no_bos else "ids"]
        for model in (LLAMA3, gguf_path):
            got = parse_ids(qtr.ok("tokenize", "--model", str(model), "--text", case["text"], *flags).out)
            assert got == want, (model, case["text"])


def test_phi3_gguf_has_fused_tensors_and_partial_rotary(qtr, tmp_path):
    gguf_path = tmp_path / "phi3.gguf"
    qtr.ok("quantize", "--model", str(FIXTURES / "hf-phi3-tiny"), "--out", str(gguf_path), "--type", "f32")
    info = qtr.ok("inspect", str(gguf_path)).out
    for name in ("blk.0.attn_qkv.weight", "blk.1.ffn_up.weight", "phi3.rope.dimension_count",
                 "phi3.attention.sliding_window"):
        assert name in info, name
    assert "attn_q.weight" not in info and "ffn_gate" not in info


def broken_copy(tmp_path, edit_config=None, drop_tensor=None):
    d = tmp_path / "broken"
    shutil.copytree(FIXTURES / "hf-llama-tiny", d)
    if edit_config:
        config = json.loads((d / "config.json").read_text())
        edit_config(config)
        (d / "config.json").write_text(json.dumps(config))
    if drop_tensor:
        from safetensors.numpy import load_file, save_file

        tensors = load_file(str(d / "model.safetensors"))
        del tensors[drop_tensor]
        save_file(tensors, str(d / "model.safetensors"))
    return d


@pytest.mark.parametrize("case, edit, drop, message", [
    ("unknown-architecture", lambda c: c.update(model_type="gpt_neox"), None, "unsupported model_type 'gpt_neox'"),
    ("missing-key", lambda c: c.pop("hidden_size"), None, 'missing key "hidden_size"'),
    ("rope-scaling", lambda c: c.update(rope_scaling={"type": "dynamic", "factor": 2.0}), None,
     "rope_scaling.type 'dynamic' is not supported"),
    ("rope-type", lambda c: c.update(rope_parameters={"rope_type": "yarn", "rope_theta": 1e4}), None, "rope_type 'yarn'"),
    ("missing-tensor", None, "model.layers.1.mlp.up_proj.weight", "missing tensor 'model.layers.1.mlp.up_proj.weight'"),
    ("misshaped-tensor", None, None, None),
])
def test_bad_checkpoints_name_the_problem(qtr, tmp_path, case, edit, drop, message):
    if case == "misshaped-tensor":
        from safetensors.numpy import load_file, save_file

        d = broken_copy(tmp_path)
        tensors = load_file(str(d / "model.safetensors"))
        tensors["model.layers.0.mlp.down_proj.weight"] = tensors["model.layers.0.mlp.down_proj.weight"][:, :32].copy()
        save_file(tensors, str(d / "model.safetensors"))
        message = "blk.0.ffn_down.weight"
    else:
        d = broken_copy(tmp_path, edit, drop)
    r = qtr("run", "--model", str(d), "--n-predict", "1", "--temp", "0")
    assert r.returncode == 1
    assert len(r.err.strip().splitlines()) == 1 and message in r.err, r.err


def test_reference_tier_regenerates_the_fixtures(tmp_path):
    """With QTR_REF_PYTHON pointing at a Python that has torch and transformers, the fixtures are made again from
    scratch and must give the committed reference logits."""
    python = os.environ.get("QTR_REF_PYTHON")
    if not python:
        pytest.skip("reference tier: set QTR_REF_PYTHON to a Python with torch + transformers + sentencepiece")
    subprocess.run([python, str(FIXTURES / "make_hf_fixtures.py"), str(tmp_path)], check=True, capture_output=True)
    for name in VARIANTS:
        _, committed = reference(name)
        fresh = np.array(json.loads((tmp_path / name / "reference.json").read_text())["logits"])
        assert np.allclose(fresh, committed, atol=1e-5)
