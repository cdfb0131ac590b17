"""Malformed Hugging Face checkpoints and GGUF files: each gives one line on stderr naming the file and the key or
tensor at fault, and exit code 1 (never a crash, a hang or a wrong answer). The inputs are copies of the committed
fixtures (tests/fixtures/hf-*), broken in temporary directories; test_hf_checkpoint.py has the first few cases."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO_ROOT

FIXTURES = REPO_ROOT / "tests" / "fixtures"


def copy_fixture(tmp_path: Path, name: str) -> Path:
    d = tmp_path / name
    shutil.copytree(FIXTURES / name, d)
    return d


def edit_json(path: Path, edit) -> None:
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))


def edit_tensors(d: Path, edit) -> None:
    from safetensors.numpy import load_file, save_file

    tensors = load_file(str(d / "model.safetensors"))
    edit(tensors)
    save_file(tensors, str(d / "model.safetensors"))


def assert_one_line_error(qtr, model: Path, *needles: str, command: str = "run") -> None:
    if command == "run":
        r = qtr("run", "--model", str(model), "--n-predict", "1", "--temp", "0")
    else:
        r = qtr("tokenize", "--model", str(model), "--text", "hello")
    assert r.returncode == 1, r.describe()
    lines = r.err.strip().splitlines()
    assert len(lines) == 1, r.err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


# --- config.json ---------------------------------------------------------------------------------------------------

CONFIG_CASES = {
    # case: (fixture, edit of the parsed config, text the error must hold besides "config.json")
    "wrong-type-int": ("hf-llama-tiny", lambda c: c.update(hidden_size="64"), "hidden_size"),
    "wrong-type-float": ("hf-llama-tiny", lambda c: c.update(rms_norm_eps="small"), "rms_norm_eps"),
    "wrong-type-model-type": ("hf-llama-tiny", lambda c: c.update(model_type=7), "model_type"),
    "missing-layers": ("hf-llama-tiny", lambda c: c.pop("num_hidden_layers"), 'missing key "num_hidden_layers"'),
    "missing-heads": ("hf-qwen2-tiny", lambda c: c.pop("num_attention_heads"), 'missing key "num_attention_heads"'),
    "missing-model-type": ("hf-llama-tiny", lambda c: c.pop("model_type"), 'missing key "model_type"'),
    "unknown-model-type": ("hf-phi3-tiny", lambda c: c.update(model_type="phi4mm"), "unsupported model_type 'phi4mm'"),
    "rope-parameters-not-object": ("hf-llama-tiny", lambda c: c.update(rope_parameters=[1, 2]), "rope_parameters"),
    "rope-theta-wrong-type": ("hf-llama-tiny", lambda c: c["rope_parameters"].update(rope_theta="big"),
                              "rope_parameters.rope_theta"),
    "rope-theta-negative": ("hf-llama-tiny", lambda c: c["rope_parameters"].update(rope_theta=-1.0),
                            "rope_parameters.rope_theta"),
    "llama3-missing-factor": ("hf-llama3-rope-tiny", lambda c: c["rope_parameters"].pop("factor"),
                              'missing key "rope_parameters.factor"'),
    "llama3-factor-wrong-type": ("hf-llama3-rope-tiny", lambda c: c["rope_parameters"].update(low_freq_factor=[1]),
                                 "rope_parameters.low_freq_factor"),
    "llama3-low-above-high": ("hf-llama3-rope-tiny", lambda c: c["rope_parameters"].update(low_freq_factor=4.0),
                              "rope_parameters.low_freq_factor"),
    "linear-missing-factor": ("hf-llama-tiny", lambda c: c.update(rope_parameters={"rope_type": "linear"}),
                              'missing key "rope_parameters.factor"'),
    "rope-type-wrong-type": ("hf-llama-tiny", lambda c: c["rope_parameters"].update(rope_type=3),
                             "rope_parameters.rope_type"),
    "phi3-longrope": ("hf-phi3-tiny", lambda c: c["rope_parameters"].update(
        rope_type="longrope", short_factor=[1.0] * 4, long_factor=[2.0] * 4),
        "rope_parameters.rope_type 'longrope' is not supported"),
    "phi3-su-old-style": ("hf-phi3-tiny", lambda c: c.update(rope_scaling={"type": "su", "short_factor": [1.0] * 4,
                                                                           "long_factor": [2.0] * 4}),
                          "rope_scaling.type 'su' is not supported"),
    "partial-rotary-odd": ("hf-phi3-tiny", lambda c: c["rope_parameters"].update(partial_rotary_factor=0.1),
                           "partial_rotary_factor"),
    "partial-rotary-above-one": ("hf-phi3-tiny", lambda c: c["rope_parameters"].update(partial_rotary_factor=2.0),
                                 "partial_rotary_factor"),
    "head-dim-huge": ("hf-llama3-rope-tiny", lambda c: c.update(head_dim=100000), "head_dim"),
    "heads-zero": ("hf-llama-tiny", lambda c: c.update(num_attention_heads=0), "num_attention_heads"),
    "heads-above-width": ("hf-phi3-tiny", lambda c: c.update(num_attention_heads=128, num_key_value_heads=128),
                          "hidden_size / num_attention_heads"),
    "sliding-window-wrong-type": ("hf-phi3-tiny", lambda c: c.update(sliding_window="wide"), "sliding_window"),
    "sliding-window-negative": ("hf-phi3-tiny", lambda c: c.update(sliding_window=-4), "sliding_window"),
    # Gemma 3: what its graph does not compute is refused, naming the key
    "gemma3-attn-softcapping": ("hf-gemma3-tiny", lambda c: c.update(attn_logit_softcapping=50.0),
                                "attn_logit_softcapping is not supported"),
    "gemma3-final-softcapping": ("hf-gemma3-tiny", lambda c: c.update(final_logit_softcapping=30.0),
                                 "final_logit_softcapping is not supported"),
    "gemma3-activation": ("hf-gemma3-tiny", lambda c: c.update(hidden_activation="silu"),
                          "hidden_activation 'silu' is not supported"),
    "gemma3-activation-wrong-type": ("hf-gemma3-tiny", lambda c: c.update(hidden_activation=None), "hidden_activation"),
    "gemma3-bidirectional": ("hf-gemma3-tiny", lambda c: c.update(use_bidirectional_attention=True),
                             "use_bidirectional_attention = true is not supported"),
    "gemma3-attention-bias": ("hf-gemma3-tiny", lambda c: c.update(attention_bias=True),
                              "attention_bias = true is not supported"),
    "gemma3-scalar-zero": ("hf-gemma3-tiny", lambda c: c.update(query_pre_attn_scalar=0), "query_pre_attn_scalar"),
    "gemma3-window-null": ("hf-gemma3-tiny", lambda c: c.update(sliding_window=None), "sliding_window = null"),
    "gemma3-layer-types-short": ("hf-gemma3-tiny", lambda c: c["layer_types"].pop(),
                                 "layer_types has 6 entries, num_hidden_layers is 7"),
    "gemma3-layer-type-unknown": ("hf-gemma3-tiny", lambda c: c["layer_types"].__setitem__(1, "chunked_attention"),
                                  "layer_types[1] 'chunked_attention' is not supported"),
    "gemma3-layer-type-wrong-type": ("hf-gemma3-tiny", lambda c: c["layer_types"].__setitem__(4, 1), "layer_types[4]"),
    "gemma3-pattern-zero": ("hf-gemma3-tiny", lambda c: (c.pop("layer_types"), c.update(sliding_window_pattern=0)),
                            "sliding_window_pattern"),
    "gemma3-rope-flat": ("hf-gemma3-tiny", lambda c: c.update(rope_parameters={"rope_type": "default",
                                                                               "rope_theta": 1e6}),
                         "rope_parameters must hold objects \"full_attention\" and \"sliding_attention\""),
    "gemma3-rope-local-linear": ("hf-gemma3-tiny", lambda c: c["rope_parameters"]["sliding_attention"].update(
        rope_type="linear", factor=2.0), "rope_parameters.sliding_attention.rope_type 'linear' is not supported"),
    "gemma3-rope-global-yarn": ("hf-gemma3-tiny", lambda c: c["rope_parameters"]["full_attention"].update(
        rope_type="yarn", factor=2.0), "rope_parameters.full_attention.rope_type 'yarn' is not supported"),
    "gemma3-rope-linear-no-factor": ("hf-gemma3-tiny", lambda c: c["rope_parameters"]["full_attention"].update(
        rope_type="linear"), 'missing key "rope_parameters.full_attention.factor"'),
    "gemma3-rope-theta-negative": ("hf-gemma3-tiny", lambda c: c["rope_parameters"]["sliding_attention"].update(
        rope_theta=-1.0), "rope_parameters.sliding_attention.rope_theta"),
    "gemma3-old-rope-scaling-dynamic": ("hf-gemma3-tiny", lambda c: c.update(rope_scaling={"type": "dynamic",
                                                                                           "factor": 2.0}),
                                        "rope_scaling.type 'dynamic' is not supported"),
    "gemma3-missing-hidden-size": ("hf-gemma3-tiny", lambda c: c.pop("hidden_size"), 'missing key "hidden_size"'),
    "gemma3-nested-without-text-config": ("hf-gemma3-tiny", lambda c: c.update(model_type="gemma3"),
                                          'missing key "text_config"'),
}


@pytest.mark.parametrize("case", list(CONFIG_CASES))
def test_malformed_config_json(qtr, tmp_path, case):
    fixture, edit, needle = CONFIG_CASES[case]
    d = copy_fixture(tmp_path, fixture)
    edit_json(d / "config.json", edit)
    assert_one_line_error(qtr, d, "config.json", needle)


@pytest.mark.parametrize("text", ["{not json", "", "[1, 2, 3]", '{"model_type": "llama", "hidden_size": 64,}'])
def test_config_json_that_is_not_a_json_object(qtr, tmp_path, text):
    d = copy_fixture(tmp_path, "hf-llama-tiny")
    (d / "config.json").write_text(text)
    assert_one_line_error(qtr, d, "config.json")


# --- tokenizer.json (a checkpoint without tokenizer.model) ---------------------------------------------------------

def tokenizer_edit(path: Path, edit) -> None:
    edit_json(path, edit)


TOKENIZER_CASES = {
    "missing-model": (lambda t: t.pop("model"), "'model'"),
    "missing-vocab": (lambda t: t["model"].pop("vocab"), "model.vocab"),
    "vocab-not-object": (lambda t: t["model"].update(vocab=["a", "b"]), "model.vocab"),
    "vocab-id-wrong-type": (lambda t: t["model"]["vocab"].update({"a": "one"}), 'model.vocab["a"]'),
    "vocab-id-negative": (lambda t: t["model"]["vocab"].update({"a": -5}), 'model.vocab["a"]'),
    "merges-wrong-type": (lambda t: t["model"].update(merges=5), "model.merges"),
    "merge-item-wrong-type": (lambda t: t["model"]["merges"].insert(0, 7), "model.merges[0]"),
    "merge-pair-of-three": (lambda t: t["model"]["merges"].insert(0, ["a", "b", "c"]), "model.merges[0]"),
    "missing-merges": (lambda t: t["model"].pop("merges"), "model.merges"),
    "unknown-model-type": (lambda t: t["model"].update(type="WordPiece"), "model.type"),
    "added-token-without-id": (lambda t: t["added_tokens"][0].pop("id"), "added_tokens[0].id"),
    "unknown-pre-tokenizer": (lambda t: t.update(pre_tokenizer={"type": "Whitespace"}), "pre_tokenizer"),
}


@pytest.mark.parametrize("command", ["run", "tokenize"])
@pytest.mark.parametrize("case", list(TOKENIZER_CASES))
def test_malformed_tokenizer_json(qtr, tmp_path, case, command):
    edit, needle = TOKENIZER_CASES[case]
    d = copy_fixture(tmp_path, "hf-llama3-rope-tiny")
    tokenizer_edit(d / "tokenizer.json", edit)
    assert_one_line_error(qtr, d, "tokenizer.json", needle, command=command)


@pytest.mark.parametrize("text", ["{not json", "", "[]"])
def test_tokenizer_json_that_is_not_a_json_object(qtr, tmp_path, text):
    d = copy_fixture(tmp_path, "hf-llama3-rope-tiny")
    (d / "tokenizer.json").write_text(text)
    assert_one_line_error(qtr, d, "tokenizer.json")


def test_checkpoint_without_any_tokenizer(qtr, tmp_path):
    d = copy_fixture(tmp_path, "hf-llama3-rope-tiny")
    (d / "tokenizer.json").unlink()
    assert_one_line_error(qtr, d, str(d), "tokenizer.model", "tokenizer.json")


# --- tensors -------------------------------------------------------------------------------------------------------

def test_phi3_missing_fused_tensor(qtr, tmp_path):
    d = copy_fixture(tmp_path, "hf-phi3-tiny")
    edit_tensors(d, lambda t: t.pop("model.layers.1.self_attn.qkv_proj.weight"))
    assert_one_line_error(qtr, d, "missing tensor 'model.layers.1.self_attn.qkv_proj.weight'")


@pytest.mark.parametrize("hf_name, gguf_name", [
    ("model.layers.0.self_attn.qkv_proj.weight", "blk.0.attn_qkv.weight"),
    ("model.layers.1.mlp.gate_up_proj.weight", "blk.1.ffn_up.weight"),
])
def test_phi3_misshaped_fused_tensor(qtr, tmp_path, hf_name, gguf_name):
    d = copy_fixture(tmp_path, "hf-phi3-tiny")
    edit_tensors(d, lambda t: t.update({hf_name: t[hf_name][:-16].copy()}))  # 16 rows short
    assert_one_line_error(qtr, d, gguf_name, "expected")


def edit_raw_tensors(d: Path, edit) -> None:
    """Like edit_tensors, for any dtype (numpy has no BF16): `edit` gets name -> (dtype, shape, raw bytes)."""
    blob = (d / "model.safetensors").read_bytes()
    n = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8:8 + n])
    header.pop("__metadata__", None)
    tensors = {k: (v["dtype"], v["shape"], blob[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]])
               for k, v in header.items()}
    edit(tensors)
    header, data = {}, b""
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header).encode()
    (d / "model.safetensors").write_bytes(len(text).to_bytes(8, "little") + text + data)


def test_gemma3_missing_post_feedforward_norm(qtr, tmp_path):
    d = copy_fixture(tmp_path, "hf-gemma3-tiny")
    edit_raw_tensors(d, lambda t: t.pop("model.layers.4.post_feedforward_layernorm.weight"))
    assert_one_line_error(qtr, d, "missing tensor 'model.layers.4.post_feedforward_layernorm.weight'")


def test_gemma3_norm_that_is_not_a_vector(qtr, tmp_path):
    d = copy_fixture(tmp_path, "hf-gemma3-tiny")
    name = "model.layers.2.self_attn.k_norm.weight"
    edit_raw_tensors(d, lambda t: t.update({name: (t[name][0], [2, 16], t[name][2])}))
    assert_one_line_error(qtr, d, name, "expected a vector")


def test_gemma3_integer_norm(qtr, tmp_path):
    d = copy_fixture(tmp_path, "hf-gemma3-tiny")
    edit_raw_tensors(d, lambda t: t.update({"model.norm.weight": ("I32", [64], bytes(256))}))
    assert_one_line_error(qtr, d, "model.norm.weight", "I32")


def test_gemma3_raw_edit_roundtrip_still_runs(qtr, tmp_path):
    """The raw editing helper itself: an unedited rewrite loads and gives the same logits."""
    d = copy_fixture(tmp_path, "hf-gemma3-tiny")
    edit_raw_tensors(d, lambda t: None)
    a = qtr.ok("logits", "--model", str(FIXTURES / "hf-gemma3-tiny"), "--ids", "1,5,9", "--out", str(tmp_path / "a"))
    b = qtr.ok("logits", "--model", str(d), "--ids", "1,5,9", "--out", str(tmp_path / "b"))
    assert a.returncode == b.returncode == 0
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes()


def test_misshaped_vector_tensor(qtr, tmp_path):
    d = copy_fixture(tmp_path, "hf-qwen2-tiny")
    edit_tensors(d, lambda t: t.update({"model.layers.0.self_attn.k_proj.bias": np.zeros(5, dtype=np.float32)}))
    assert_one_line_error(qtr, d, "blk.0.attn_k.bias")


def test_integer_tensor_dtype(qtr, tmp_path):
    d = copy_fixture(tmp_path, "hf-llama-tiny")
    edit_tensors(d, lambda t: t.update({"model.norm.weight": np.ones(64, dtype=np.int32)}))
    assert_one_line_error(qtr, d, "model.norm.weight", "I32")


# --- GGUF files (written by `qtr quantize`, then edited with the gguf package) -------------------------------------

def rewrite_gguf(src: Path, dst: Path, *, arch: str | None = None, set_kv: dict | None = None,
                 tensors=None) -> None:
    """Copies a GGUF with the gguf package: general.architecture replaced by `arch`, string keys added or replaced
    from `set_kv`, and `tensors(dict name -> ndarray)` editing the tensors (all F32 here)."""
    gguf = pytest.importorskip("gguf")
    r = gguf.GGUFReader(str(src))
    w = gguf.GGUFWriter(str(dst), arch or r.fields["general.architecture"].contents())
    for key, field in r.fields.items():
        if key.startswith("GGUF.") or key == "general.architecture" or (set_kv and key in set_kv):
            continue
        vtype = field.types[0]
        sub = field.types[-1] if vtype == gguf.GGUFValueType.ARRAY else None
        w.add_key_value(key, field.contents(), vtype, sub_type=sub)
    for key, value in (set_kv or {}).items():
        w.add_key_value(key, value, gguf.GGUFValueType.STRING)
    arrays = {}
    for t in r.tensors:
        assert t.tensor_type == gguf.GGMLQuantizationType.F32, t.name
        arrays[t.name] = np.array(t.data, dtype=np.float32).reshape([int(x) for x in reversed(t.shape)])
    if tensors:
        tensors(arrays)
    for name, a in arrays.items():
        w.add_tensor(name, a)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


@pytest.fixture
def llama3_gguf(qtr, tmp_path) -> Path:
    out = tmp_path / "llama3.gguf"
    qtr.ok("quantize", "--model", str(FIXTURES / "hf-llama3-rope-tiny"), "--out", str(out), "--type", "f32")
    return out


def test_gguf_rewrite_roundtrip_still_runs(qtr, tmp_path, llama3_gguf):
    """The editing helper itself: an unedited copy loads and gives the same logits."""
    copy = tmp_path / "copy.gguf"
    rewrite_gguf(llama3_gguf, copy)
    a = qtr.ok("logits", "--model", str(llama3_gguf), "--ids", "0,5,9", "--out", str(tmp_path / "a.f32"))
    b = qtr.ok("logits", "--model", str(copy), "--ids", "0,5,9", "--out", str(tmp_path / "b.f32"))
    assert a.returncode == b.returncode == 0
    assert (tmp_path / "a.f32").read_bytes() == (tmp_path / "b.f32").read_bytes()


def test_gguf_unknown_architecture(qtr, tmp_path, llama3_gguf):
    bad = tmp_path / "bad.gguf"
    rewrite_gguf(llama3_gguf, bad, arch="mamba")
    assert_one_line_error(qtr, bad, "bad.gguf", "unsupported architecture 'mamba'")


def test_gguf_unsupported_rope_scaling_type(qtr, tmp_path, llama3_gguf):
    bad = tmp_path / "bad.gguf"
    rewrite_gguf(llama3_gguf, bad, set_kv={"llama.rope.scaling.type": "yarn"})
    assert_one_line_error(qtr, bad, "bad.gguf", "llama.rope.scaling.type", "yarn")


def test_gguf_linear_scaling_without_factor(qtr, tmp_path, llama3_gguf):
    bad = tmp_path / "bad.gguf"
    rewrite_gguf(llama3_gguf, bad, set_kv={"llama.rope.scaling.type": "linear"})
    assert_one_line_error(qtr, bad, "bad.gguf", "llama.rope.scaling.factor")


@pytest.mark.parametrize("values", [np.ones(3, dtype=np.float32), np.array([1, 2, 0, 4, 4, 4, 4, 4], np.float32)])
def test_gguf_bad_rope_freqs(qtr, tmp_path, llama3_gguf, values):
    bad = tmp_path / "bad.gguf"
    rewrite_gguf(llama3_gguf, bad, tensors=lambda t: t.update({"rope_freqs.weight": values}))
    assert_one_line_error(qtr, bad, "rope_freqs.weight")


def test_gguf_missing_tensor(qtr, tmp_path, llama3_gguf):
    bad = tmp_path / "bad.gguf"
    rewrite_gguf(llama3_gguf, bad, tensors=lambda t: t.pop("blk.1.attn_v.weight"))
    assert_one_line_error(qtr, bad, "bad.gguf", "blk.1.attn_v.weight")


def test_gguf_phi3_longrope_factors_are_refused(qtr, tmp_path):
    src = tmp_path / "phi3.gguf"
    qtr.ok("quantize", "--model", str(FIXTURES / "hf-phi3-tiny"), "--out", str(src), "--type", "f32")
    bad = tmp_path / "bad.gguf"
    rewrite_gguf(src, bad, tensors=lambda t: t.update({"rope_factors_long.weight": np.ones(4, np.float32),
                                                       "rope_factors_short.weight": np.ones(4, np.float32)}))
    assert_one_line_error(qtr, bad, "bad.gguf", "rope_factors_long.weight", "LongRoPE")


def test_gguf_phi3_misshaped_fused_qkv(qtr, tmp_path):
    src = tmp_path / "phi3.gguf"
    qtr.ok("quantize", "--model", str(FIXTURES / "hf-phi3-tiny"), "--out", str(src), "--type", "f32")
    bad = tmp_path / "bad.gguf"
    rewrite_gguf(src, bad, tensors=lambda t: t.update({"blk.0.attn_qkv.weight": t["blk.0.attn_qkv.weight"][:64]}))
    assert_one_line_error(qtr, bad, "blk.0.attn_qkv.weight", "[64, 64]", "expected [64, 128]")
