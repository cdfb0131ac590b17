"""Hugging Face checkpoints (llama, qwen2, qwen3: config.json + model.safetensors + tokenizer.model), loaded directly
and through `qtr quantize`, against the logits transformers computed for them (tests/fixtures/make_hf_fixtures.py)."""
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
VARIANTS = ["hf-llama-tiny", "hf-llama-tiny-bf16-tied", "hf-qwen2-tiny", "hf-qwen3-tiny"]


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
    ("rope-scaling", lambda c: c.update(rope_scaling={"type": "linear", "factor": 2.0}), None, "rope_scaling"),
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
