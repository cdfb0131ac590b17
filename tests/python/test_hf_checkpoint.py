"""Hugging Face checkpoints (llama, llama with Llama-3 RoPE scaling, qwen2, qwen3, phi3, gemma3: config.json +
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
            "hf-phi3-tiny", "hf-gemma3-tiny"]
LLAMA3 = FIXTURES / "hf-llama3-rope-tiny"  # rope_type llama3; tokenizer.json (byte-level BPE) only
GEMMA3 = FIXTURES / "hf-gemma3-tiny"  # BF16; sliding window 16 < the 64-token prompt; global layers 2 and 6
GGUF_ARCH = {"mistral": "llama", "gemma3_text": "gemma3"}  # model_type -> general.architecture where they differ
# Top-1 agreement of the q8_0 GGUF with transformers. The gemma3 fixture (sharp attention from its (1 + w) Q/K norms,
# 7 layers) is more sensitive to rounding: transformers itself, run on q8_0-rounded weights, agrees on 78% only.
Q8_TOP1 = {"hf-gemma3-tiny": 0.7}


def reference(name):
    ref = json.loads((FIXTURES / name / "reference.json").read_text())
    return ref["ids"], np.array(ref["logits"], dtype=np.float64)


def qtr_logits(qtr, model, ids, out):
    qtr.ok("logits", "--model", str(model), "--ids", ids_arg(ids), "--out", str(out))
    return np.fromfile(out, dtype=np.float32).reshape(len(ids), -1)


def edited_copy(src: Path, dst: Path, edit_config=None, edit_header=None, append: bytes = b"") -> Path:
    """A copy of a checkpoint directory with config.json edited, and the safetensors header's tensor entries edited
    (renamed: the data stays as it is, so any dtype works, BF16 included; `append` goes after the data, for entries
    the edit adds there)."""
    shutil.copytree(src, dst)
    if edit_config:
        config = json.loads((dst / "config.json").read_text())
        edit_config(config)
        (dst / "config.json").write_text(json.dumps(config))
    if edit_header:
        blob = (dst / "model.safetensors").read_bytes()
        n = int.from_bytes(blob[:8], "little")
        header = edit_header(json.loads(blob[8:8 + n]))
        text = json.dumps(header).encode()
        (dst / "model.safetensors").write_bytes(len(text).to_bytes(8, "little") + text + blob[8 + n:] + append)
    return dst


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
        model_type = json.loads((FIXTURES / name / "config.json").read_text())["model_type"]
        assert f'"{GGUF_ARCH.get(model_type, model_type)}"' in info
        got = qtr_logits(qtr, gguf, ids, tmp_path / f"{kind}.f32")
        if kind == "f32":
            assert np.array_equal(got, direct)
        assert np.abs(got - want).max() <= (1e-3 if kind == "f32" else 2e-2)
    q8 = tmp_path / "q8.gguf"
    qtr.ok("quantize", "--model", str(FIXTURES / name), "--out", str(q8), "--type", "q8_0")
    got = qtr_logits(qtr, q8, ids, tmp_path / "q8.f32")
    assert (got.argmax(-1) == want.argmax(-1)).mean() >= Q8_TOP1.get(name, 0.8)  # many near-ties; coarse check


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


@pytest.mark.parametrize("name", ["hf-llama3-rope-tiny", "hf-gemma3-tiny"])
def test_linear_rope_scaling_matches_transformers(qtr, tmp_path, name):
    """The fixture's weights with rope_parameters {rope_type: linear, factor: 4} (for gemma3: on its global layers
    only): transformers' logits for the last positions are in reference.json ("linear"). Directly and as GGUF
    (rope.scaling.type = linear); for gemma3 also written the transformers 4.x way (rope_scaling, rope_theta and
    rope_local_base_freq at the top level)."""
    src = FIXTURES / name
    ref = json.loads((src / "reference.json").read_text())
    ids, linear = ref["ids"], ref["linear"]
    want = np.array(linear["logits"], dtype=np.float64)
    d = tmp_path / "linear"
    shutil.copytree(src, d)
    config = json.loads((d / "config.json").read_text())
    config["rope_parameters"] = linear["rope_parameters"]
    (d / "config.json").write_text(json.dumps(config))
    arch = GGUF_ARCH.get(config["model_type"], config["model_type"])
    gguf_path = tmp_path / "linear.gguf"
    qtr.ok("quantize", "--model", str(d), "--out", str(gguf_path), "--type", "f32")
    info = qtr.ok("inspect", str(gguf_path)).out
    assert f"{arch}.rope.scaling.type" in info and "linear" in info and "rope_freqs.weight" not in info
    models = [d, gguf_path]
    if arch == "gemma3":
        full, local = linear["rope_parameters"]["full_attention"], linear["rope_parameters"]["sliding_attention"]
        del config["rope_parameters"]
        config.update(rope_theta=full["rope_theta"], rope_local_base_freq=local["rope_theta"],
                      rope_scaling={"rope_type": "linear", "factor": full["factor"]})
        models.append(edited_copy(src, tmp_path / "old-style", edit_config=lambda c: c.clear() or c.update(config)))
    for model in models:
        got = qtr_logits(qtr, model, ids, tmp_path / "linear.f32")[linear["first_row"]:]
        assert np.abs(got - want).max() <= 1e-3, model
        assert (got.argmax(-1) == want.argmax(-1)).all()
    # and the scaling matters: without it the logits are far off
    unscaled = qtr_logits(qtr, src, ids, tmp_path / "unscaled.f32")[linear["first_row"]:]
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


def test_gemma3_sliding_window_matters(qtr, tmp_path):
    """The same weights with sliding_window 1000 (no layer sees fewer keys than it would without a window): the first
    16 positions keep transformers' logits, every later one is far from them. So the window-16 logits that
    test_checkpoint_logits_match_transformers matches could not come from a graph that ignores the window or
    shifts it by one."""
    ids, want = reference("hf-gemma3-tiny")
    wide = edited_copy(GEMMA3, tmp_path / "wide", edit_config=lambda c: c.update(sliding_window=1000))
    got = qtr_logits(qtr, wide, ids, tmp_path / "wide.f32")
    window = json.loads((GEMMA3 / "config.json").read_text())["sliding_window"]
    assert window == 16 and len(ids) > 3 * window
    assert np.abs(got[:window] - want[:window]).max() <= 1e-3
    assert np.abs(got[window:] - want[window:]).max(axis=1).min() > 0.1  # from the first position the window drops


def test_gemma3_older_config_keys_give_the_same_logits(qtr, tmp_path):
    """transformers 4.x configs (as Google's gemma-3 config.json files): rope_theta, rope_local_base_freq and
    rope_scaling at the top level instead of rope_parameters per layer type; sliding_window_pattern with the
    default layer pattern where layer_types is absent."""
    ids, want = reference("hf-gemma3-tiny")
    direct = qtr_logits(qtr, GEMMA3, ids, tmp_path / "direct.f32")

    def old_style(c):
        params = c.pop("rope_parameters")
        c.update(rope_theta=params["full_attention"]["rope_theta"],
                 rope_local_base_freq=params["sliding_attention"]["rope_theta"], rope_scaling=None)

    old = edited_copy(GEMMA3, tmp_path / "old", edit_config=old_style)
    assert np.array_equal(qtr_logits(qtr, old, ids, tmp_path / "old.f32"), direct)
    # thetas swapped: not the same model any more (the keys are read, not defaulted)
    swapped = edited_copy(GEMMA3, tmp_path / "swapped", edit_config=lambda c: (
        old_style(c), c.update(rope_theta=c["rope_local_base_freq"], rope_local_base_freq=c["rope_theta"])))
    assert np.abs(qtr_logits(qtr, swapped, ids, tmp_path / "swapped.f32") - want).max() > 0.1
    # no layer_types: every 6th layer global (layers 5 only, here): differs from layers 2 and 6 being global
    pattern = edited_copy(GEMMA3, tmp_path / "pattern", edit_config=lambda c: (c.pop("layer_types"),
                                                                                c.update(sliding_window_pattern=6)))
    gguf_path = tmp_path / "pattern.gguf"
    qtr.ok("quantize", "--model", str(pattern), "--out", str(gguf_path), "--type", "f32")
    assert "[true, true, true, true, true, false, true]" in qtr.ok("inspect", str(gguf_path), "--no-tensors").out


def test_gemma3_gguf_keys_and_norms(qtr, tmp_path):
    """The GGUF written from the checkpoint: key_length from head_dim (not hidden / heads), attention.scale =
    query_pre_attn_scalar^-0.5, the window and its per-layer pattern, both RoPE bases; every norm weight is the
    checkpoint's BF16 w plus 1, in F32."""
    gguf = pytest.importorskip("gguf")
    out = tmp_path / "gemma3.gguf"
    qtr.ok("quantize", "--model", str(GEMMA3), "--out", str(out), "--type", "f32")
    r = gguf.GGUFReader(str(out))
    kv = {k: f.contents() for k, f in r.fields.items()}
    assert kv["general.architecture"] == "gemma3"
    assert kv["gemma3.attention.key_length"] == 32 and kv["gemma3.embedding_length"] == 64
    assert kv["gemma3.attention.scale"] == pytest.approx(24 ** -0.5, rel=1e-7)
    assert kv["gemma3.attention.sliding_window"] == 16
    assert kv["gemma3.attention.sliding_window_pattern"] == [True, True, False, True, True, True, False]
    assert kv["gemma3.rope.freq_base"] == 1e6 and kv["gemma3.rope.freq_base_swa"] == 1e4
    assert "gemma3.rope.scaling.type" not in kv
    tensors = {t.name: t for t in r.tensors}
    assert "output.weight" not in tensors  # tied

    blob = (GEMMA3 / "model.safetensors").read_bytes()
    n = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8:8 + n])

    def bf16(name):
        info = header[name]
        assert info["dtype"] == "BF16"
        lo, hi = info["data_offsets"]
        return (np.frombuffer(blob[8 + n + lo:8 + n + hi], dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)

    pairs = {"model.norm.weight": "output_norm.weight"}
    for hf, gg in [("input_layernorm", "attn_norm"), ("self_attn.q_norm", "attn_q_norm"),
                   ("self_attn.k_norm", "attn_k_norm"), ("post_attention_layernorm", "post_attention_norm"),
                   ("pre_feedforward_layernorm", "ffn_norm"), ("post_feedforward_layernorm", "post_ffw_norm")]:
        pairs[f"model.layers.3.{hf}.weight"] = f"blk.3.{gg}.weight"
    for hf, gg in pairs.items():
        w = bf16(hf)
        got = np.asarray(tensors[gg].data, dtype=np.float32)
        assert tensors[gg].tensor_type == gguf.GGMLQuantizationType.F32
        assert np.array_equal(got, w + np.float32(1)), gg
        assert (got.view(np.uint32) & 0xFFFF).any(), gg  # w + 1 is not a BF16 number: the sum was not rounded


def test_gemma3_multimodal_checkpoint_text_model(qtr, tmp_path):
    """model_type "gemma3" (Gemma3ForConditionalGeneration): text_config holds the text model's keys, the tensors
    are under model.language_model. (transformers 5) or language_model.model. (4.x); the vision tower's tensors
    and keys are ignored. Same logits as the text-only checkpoint."""
    ids, _ = reference("hf-gemma3-tiny")
    direct = qtr_logits(qtr, GEMMA3, ids, tmp_path / "direct.f32")

    def nest(c):
        text = dict(c)
        c.clear()
        c.update(model_type="gemma3", architectures=["Gemma3ForConditionalGeneration"], text_config=text,
                 vision_config={"model_type": "siglip_vision_model", "hidden_size": 16})

    for prefix in ("model.language_model.", "language_model.model."):
        def rename(header, prefix=prefix):
            out = {k: v for k, v in header.items() if k == "__metadata__"}
            out.update({prefix + k[len("model."):]: v for k, v in header.items() if k.startswith("model.")})
            end = max(v["data_offsets"][1] for k, v in header.items() if k != "__metadata__")
            out["vision_tower.vision_model.post_layernorm.weight"] = {  # ignored
                "dtype": "F32", "shape": [16], "data_offsets": [end, end + 64]}
            return out

        d = edited_copy(GEMMA3, tmp_path / prefix.strip("."), edit_config=nest, edit_header=rename,
                        append=bytes(64))
        assert np.array_equal(qtr_logits(qtr, d, ids, tmp_path / "nested.f32"), direct), prefix


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
