"""`qtr logits` against the independent float64 NumPy reference (reference_llama.py): stories260K from
../shared, and small synthetic llama GGUFs written with gguf.GGUFWriter (GQA/MQA, partial RoPE, tied output, F16)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import ids_arg, parse_ids
from reference_llama import ReferenceLlama, kl_divergence

# BOS + `qtr tokenize` of "Once upon a time, there was a little dog named Max who loved to run." with the
# stories260K vocabulary (kept literal so the forward-pass check does not depend on the tokenizer;
# test_prompt_ids_match_tokenizer re-derives them).
PROMPT_TEXT = "Once upon a time, there was a little dog named Max who loved to run."
PROMPT_IDS = [1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 400, 428, 395, 392, 412, 444, 263, 415, 414, 401,
              396, 267, 352, 379, 426]

MAX_ABS_ERR = 1e-4
MAX_KL = 1e-6


@pytest.fixture(scope="module")
def reference(stories_model: Path) -> ReferenceLlama:
    return ReferenceLlama(stories_model)


@pytest.fixture(scope="module")
def story_ids(qtr, stories_model, stories_expected, tmp_path_factory) -> list[int]:
    """A longer sequence: BOS + the first 127 tokens of the expected story."""
    f = tmp_path_factory.mktemp("story") / "story.txt"
    f.write_bytes(stories_expected)
    ids = parse_ids(qtr.ok("tokenize", "--model", stories_model, "--file", f).out)
    assert ids[0] == 1 and len(ids) > 128
    return ids[:128]


def random_ids(n_vocab: int) -> list[int]:
    rng = np.random.default_rng(1234)
    return [1] + rng.integers(0, n_vocab, size=63).tolist()


def qtr_logits(qtr, model: Path, ids: list[int], out: Path, *extra: object) -> np.ndarray:
    r = qtr.ok("logits", "--model", model, "--ids", ids_arg(ids), "--out", out, *extra)
    assert r.stdout == b"", "logits writes nothing on stdout"
    raw = out.read_bytes()
    assert len(raw) % (4 * len(ids)) == 0, f"{len(raw)} bytes is not a whole number of float32 rows"
    return np.frombuffer(raw, dtype="<f4").reshape(len(ids), -1)


def test_prompt_ids_match_tokenizer(qtr, stories_model):
    ids = parse_ids(qtr.ok("tokenize", "--model", stories_model, "--text", PROMPT_TEXT).out)
    assert ids == PROMPT_IDS


@pytest.mark.parametrize("case", ["prompt", "story", "random"])
def test_logits_match_reference(case, qtr, stories_model, reference, tmp_path, record_property, request):
    if case == "prompt":
        ids = PROMPT_IDS
    elif case == "story":
        ids = request.getfixturevalue("story_ids")
    else:
        ids = random_ids(reference.hp.n_vocab)
    got = qtr_logits(qtr, stories_model, ids, tmp_path / "logits.f32")
    assert got.shape == (len(ids), reference.hp.n_vocab)
    assert np.isfinite(got).all()
    want = reference.forward(ids)

    err = np.abs(got.astype(np.float64) - want)
    kl = kl_divergence(want, got)
    top1 = float(np.mean(got.argmax(axis=1) == want.argmax(axis=1)))
    summary = (f"{case}: n={len(ids)} max|err|={err.max():.3e} (at position {int(err.max(axis=1).argmax())}) "
               f"top1={top1:.3f} KL max={kl.max():.3e} mean={kl.mean():.3e}")
    print(summary)
    record_property("max_abs_err", float(err.max()))
    record_property("kl_max", float(kl.max()))
    record_property("kl_mean", float(kl.mean()))
    record_property("top1_agreement", top1)

    assert err.max() <= MAX_ABS_ERR, summary
    assert top1 == 1.0, summary
    assert kl.max() < MAX_KL, summary


def test_logits_threads_bit_identical(qtr, stories_model, story_ids, tmp_path):
    base = qtr_logits(qtr, stories_model, story_ids, tmp_path / "t1.f32", "--threads", "1")
    for n in (2, 3):
        other = qtr_logits(qtr, stories_model, story_ids, tmp_path / f"t{n}.f32", "--threads", str(n))
        assert base.tobytes() == other.tobytes(), (
            f"--threads 1 and --threads {n} logits differ: max |diff| {np.abs(base - other).max():.3e}")


def test_logits_prefix_is_causal(qtr, stories_model, tmp_path):
    """Row i depends only on ids[0..i]: the logits of a prefix equal the first rows of the full run."""
    full = qtr_logits(qtr, stories_model, PROMPT_IDS, tmp_path / "full.f32")
    for k in (1, 7):
        part = qtr_logits(qtr, stories_model, PROMPT_IDS[:k], tmp_path / f"p{k}.f32")
        np.testing.assert_allclose(part, full[:k], rtol=0, atol=1e-5)


def test_reference_sanity(reference):
    """Guards the reference itself: the model's hyper-parameters as the shared README describes them."""
    hp = reference.hp
    assert (hp.n_embd, hp.n_layer, hp.n_head, hp.n_head_kv, hp.n_vocab) == (64, 5, 8, 4, 512)


# ---------------------------------------------------------------------------------------------------------------
# synthetic llama models written with gguf.GGUFWriter: configurations stories260K does not cover
# (needs no ../shared data)

SYNTHETIC = {
    # GQA 3:1, partial RoPE (n_rot < head_dim), non-default base and eps, tied output, F16 matrices
    "gqa3-partial-rope-tied-f16": dict(n_vocab=97, n_embd=48, n_layer=2, n_head=6, n_head_kv=2, n_ff=40,
                                       n_rot=4, rope_base=50000.0, eps=1e-6, tied=True, dtype=np.float16),
    # plain multi-head attention from defaults (no head_count_kv, rope.dimension_count, rope.freq_base keys),
    # attention.key_length larger than n_embd / n_head, separate output matrix, F32
    "mha-defaults-key-length": dict(n_vocab=64, n_embd=32, n_layer=3, n_head=4, n_head_kv=None, n_ff=24,
                                    key_length=16, n_rot=None, rope_base=None, eps=1e-5, tied=False,
                                    dtype=np.float32),
    # a single KV head shared by all query heads (multi-query attention)
    "mqa": dict(n_vocab=50, n_embd=32, n_layer=1, n_head=4, n_head_kv=1, n_ff=16, n_rot=8, rope_base=10000.0,
                eps=1e-5, tied=False, dtype=np.float32),
}


def write_synthetic_llama(path: Path, cfg: dict, seed: int = 0) -> None:
    import gguf

    rng = np.random.default_rng(seed)
    n_vocab, d, n_head, n_ff = cfg["n_vocab"], cfg["n_embd"], cfg["n_head"], cfg["n_ff"]
    n_head_kv = cfg["n_head_kv"] or n_head
    hd = cfg.get("key_length") or d // n_head

    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name("synthetic")
    w.add_context_length(512)
    w.add_embedding_length(d)
    w.add_block_count(cfg["n_layer"])
    w.add_feed_forward_length(n_ff)
    w.add_head_count(n_head)
    if cfg["n_head_kv"] is not None:
        w.add_head_count_kv(n_head_kv)
    if cfg.get("key_length"):
        w.add_key_length(hd)
        w.add_value_length(hd)
    if cfg["n_rot"] is not None:
        w.add_rope_dimension_count(cfg["n_rot"])
    if cfg["rope_base"] is not None:
        w.add_rope_freq_base(cfg["rope_base"])
    w.add_layer_norm_rms_eps(cfg["eps"])
    # a minimal SentencePiece-style vocabulary of n_vocab tokens
    tokens = ["<unk>", "<s>", "</s>"] + [f"\u2581tok{i}" for i in range(n_vocab - 3)]
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores([0.0, 0.0, 0.0] + [-float(i) for i in range(n_vocab - 3)])
    w.add_token_types([2, 3, 3] + [1] * (n_vocab - 3))
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)

    def mat(n_out, n_in):  # numpy (n_out, n_in) = GGML ne [n_in, n_out]
        return (rng.standard_normal((n_out, n_in)) / np.sqrt(n_in)).astype(cfg["dtype"])

    def norm():
        return (1.0 + 0.1 * rng.standard_normal(d)).astype(np.float32)

    w.add_tensor("token_embd.weight", rng.standard_normal((n_vocab, d)).astype(cfg["dtype"]))
    for i in range(cfg["n_layer"]):
        w.add_tensor(f"blk.{i}.attn_norm.weight", norm())
        w.add_tensor(f"blk.{i}.attn_q.weight", mat(n_head * hd, d))
        w.add_tensor(f"blk.{i}.attn_k.weight", mat(n_head_kv * hd, d))
        w.add_tensor(f"blk.{i}.attn_v.weight", mat(n_head_kv * hd, d))
        w.add_tensor(f"blk.{i}.attn_output.weight", mat(d, n_head * hd))
        w.add_tensor(f"blk.{i}.ffn_norm.weight", norm())
        w.add_tensor(f"blk.{i}.ffn_gate.weight", mat(n_ff, d))
        w.add_tensor(f"blk.{i}.ffn_up.weight", mat(n_ff, d))
        w.add_tensor(f"blk.{i}.ffn_down.weight", mat(d, n_ff))
    w.add_tensor("output_norm.weight", norm())
    if not cfg["tied"]:
        w.add_tensor("output.weight", mat(n_vocab, d))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


@pytest.mark.parametrize("name", list(SYNTHETIC))
def test_synthetic_llama_matches_reference(name, qtr, tmp_path, record_property):
    cfg = SYNTHETIC[name]
    model = tmp_path / f"{name}.gguf"
    write_synthetic_llama(model, cfg)
    ref = ReferenceLlama(model)
    assert (ref.output is ref.tok_embd) == cfg["tied"]
    rng = np.random.default_rng(7)
    ids = [1] + rng.integers(0, cfg["n_vocab"], size=255).tolist()
    got = qtr_logits(qtr, model, ids, tmp_path / "logits.f32")
    assert got.shape == (len(ids), cfg["n_vocab"])
    want = ref.forward(ids)
    err = np.abs(got.astype(np.float64) - want)
    kl = kl_divergence(want, got)
    top1 = float(np.mean(got.argmax(axis=1) == want.argmax(axis=1)))
    summary = (f"{name}: n={len(ids)} max|err|={err.max():.3e} top1={top1:.3f} "
               f"KL max={kl.max():.3e} mean={kl.mean():.3e}")
    print(summary)
    record_property("max_abs_err", float(err.max()))
    record_property("kl_max", float(kl.max()))
    assert err.max() <= MAX_ABS_ERR, summary
    assert top1 == 1.0, summary
    assert kl.max() < MAX_KL, summary
