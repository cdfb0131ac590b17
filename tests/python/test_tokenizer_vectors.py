"""qtr's SentencePiece tokenizer on a vocabulary written by `qtr vocab`:

* llama.cpp's 46 llama-spm test vectors (tokenizer-tests/ggml-vocab-llama-spm.gguf.{inp,out}), one test each;
* more strings cross-checked against the `sentencepiece` package on the same .model file;
* the GGUF vocabulary qtr wrote, read back with gguf.GGUFReader, against what sentencepiece reports.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import gguf
from conftest import N_VOCAB_TESTS as N_VECTORS, load_vocab_vectors, parse_ids, vector_slug






def vector_params():
    try:
        vectors = load_vocab_vectors("llama-spm")
    except OSError as e:  # ../shared absent: one placeholder that skips at run time
        return [pytest.param(None, None, id="vectors-missing",
                             marks=pytest.mark.skip(reason=f"../shared not found: {e}"))]
    return [pytest.param(text, ids, id=f"{i:02d}-{vector_slug(text)}") for i, (text, ids) in enumerate(vectors)]


def qtr_tokenize_bytes(qtr, vocab: Path, text: bytes, tmp_path: Path, *extra: str) -> list[int]:
    f = tmp_path / "text.bin"
    f.write_bytes(text)
    r = qtr.ok("tokenize", "--model", vocab, "--file", f, "--no-bos", *extra)
    assert r.stdout.endswith(b"\n")
    return parse_ids(r.out)


@pytest.mark.parametrize("text,expected", vector_params())
def test_llama_spm_vector(text, expected, qtr, llama2_vocab_gguf, tmp_path):
    got = qtr_tokenize_bytes(qtr, llama2_vocab_gguf, text, tmp_path)
    assert got == expected, f"text {text[:80]!r}\n got {got}\nwant {expected}"


# ---------------------------------------------------------------------------------------------------------------
# against the sentencepiece package


@pytest.fixture(scope="module")
def sp(llama2_spm):
    sentencepiece = pytest.importorskip("sentencepiece")
    return sentencepiece.SentencePieceProcessor(model_file=str(llama2_spm))


CROSS_CHECK_TEXTS = {
    "german": "Grüße aus München — Straße, Äpfel und Öl.",
    "french": "L'élève a déjà répondu : « ça va ? »",
    "russian": "Съешь же ещё этих мягких французских булок, да выпей чаю.",
    "greek": "Ξεσκεπάζω την ψυχοφθόρα βδελυγμία",
    "japanese": "日本語のテキストをトークン化します。カタカナ、ひらがな、漢字",
    "chinese": "我爱自然语言处理，今天天气很好！",
    "korean": "안녕하세요, 세계! 한국어 토큰화 테스트",
    "arabic": "مرحبا بالعالم، هذا اختبار",
    "hindi": "नमस्ते दुनिया, यह एक परीक्षण है",
    "thai": "สวัสดีชาวโลก",
    "emoji": "I ❤️ 🦙s 🏳️‍🌈 👨‍👩‍👧‍👦 🇫🇷 🤖🚀✨",
    "rare-chars": "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ℵ₀ ∮ E⋅da = Q 𐍈 \U0010FFFD",
    "whitespace-runs": "a  b   c    d\t\te\n\n\nf \u00a0g\u3000h      ",
    "leading-spaces": "     indented\n        more indented",
    "tabs-newlines": "\t\tx\r\ny\r\n\r\nz",
    "code": "def f(x):\n    return {'k': [1, 2, 3]}  # comment\n",
    "digits-punct": "3.14159, 2,718; 1e-9 -- $100.00 (50%) #tag @user https://example.com/a?b=c",
    "long-word": "Pneumonoultramicroscopicsilicovolcanoconiosis antidisestablishmentarianism",
    "control-lookalikes": "<s> </s> <unk> <0x41> ▁▁",
    "nul-and-controls": "a\x00b\x01c\x7f d",
    "combining-marks": "e\u0301 n\u0303 a\u030a Z\u0335\u0321a\u0336l\u0337g\u0334o",
}


@pytest.mark.parametrize("name", sorted(CROSS_CHECK_TEXTS))
def test_matches_sentencepiece(name, qtr, llama2_vocab_gguf, sp, tmp_path):
    text = CROSS_CHECK_TEXTS[name]
    want = sp.encode(text)
    got = qtr_tokenize_bytes(qtr, llama2_vocab_gguf, text.encode("utf-8"), tmp_path)
    assert got == want, (f"{name}: {text!r}\n got {got}\nwant {want}\n"
                         f"want pieces {[sp.id_to_piece(i) for i in want]}")


def test_matches_sentencepiece_with_bos(qtr, llama2_vocab_gguf, sp):
    text = "Hello world, this is a test."
    got = parse_ids(qtr.ok("tokenize", "--model", llama2_vocab_gguf, "--text", text).out)
    assert got == [sp.bos_id()] + sp.encode(text)


def test_vocab_gguf_matches_sentencepiece(llama2_vocab_gguf, sp):
    reader = gguf.GGUFReader(str(llama2_vocab_gguf))

    def value(key):
        field = reader.fields.get(key)
        assert field is not None, f"qtr vocab wrote no {key}"
        return field.contents()

    n = sp.get_piece_size()
    assert value("tokenizer.ggml.model") == "llama"
    assert value("general.architecture") == "llama"
    tokens = value("tokenizer.ggml.tokens")
    scores = np.asarray(reader.fields["tokenizer.ggml.scores"].contents(), dtype=np.float32)
    types = value("tokenizer.ggml.token_type")
    assert len(tokens) == len(scores) == len(types) == n

    want_tokens = [sp.id_to_piece(i) for i in range(n)]
    want_scores = np.asarray([sp.get_score(i) for i in range(n)], dtype=np.float32)
    # GGUF token types (llama.cpp): 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte
    want_types = [2 if sp.is_unknown(i) else 3 if sp.is_control(i) else 6 if sp.is_byte(i)
                  else 5 if sp.is_unused(i) else 1 for i in range(n)]

    bad_tokens = [i for i in range(n) if tokens[i] != want_tokens[i]]
    assert not bad_tokens, [(i, tokens[i], want_tokens[i]) for i in bad_tokens[:10]]
    bad_scores = np.flatnonzero(scores != want_scores)
    assert bad_scores.size == 0, [(int(i), scores[i], want_scores[i]) for i in bad_scores[:10]]
    bad_types = [i for i in range(n) if types[i] != want_types[i]]
    assert not bad_types, [(i, tokens[i], types[i], want_types[i]) for i in bad_types[:10]]

    assert value("tokenizer.ggml.bos_token_id") == sp.bos_id()
    assert value("tokenizer.ggml.eos_token_id") == sp.eos_id()
    assert value("tokenizer.ggml.unknown_token_id") == sp.unk_id()
    if sp.pad_id() >= 0:
        assert value("tokenizer.ggml.padding_token_id") == sp.pad_id()
    elif "tokenizer.ggml.padding_token_id" in reader.fields:
        assert value("tokenizer.ggml.padding_token_id") in (2**32 - 1, -1)
    assert len(reader.tensors) == 0


def test_vocab_gguf_is_deterministic(qtr, llama2_spm, llama2_vocab_gguf, tmp_path):
    again = tmp_path / "again.gguf"
    qtr.ok("vocab", "--spm", llama2_spm, "--out", again)
    assert again.read_bytes() == llama2_vocab_gguf.read_bytes()


def test_vocab_leaves_no_temp_file(qtr, llama2_spm, tmp_path):
    out = tmp_path / "v.gguf"
    r = qtr.ok("vocab", "--spm", llama2_spm, "--out", out)
    assert r.stdout == b""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.gguf"]


def test_shared_vectors_present(shared_dir):
    """Fails loudly (rather than silently testing nothing) when ../shared exists but the vectors do not."""
    for ext in (".inp", ".out"):
        assert shared_dir.joinpath("tokenizer-tests", "ggml-vocab-llama-spm.gguf" + ext).is_file()
    assert len(load_vocab_vectors("llama-spm")) == N_VECTORS
