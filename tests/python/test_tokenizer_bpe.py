"""qtr's byte-level BPE tokenizer on vocabularies written by `qtr vocab --hf-tokenizer`:

* llama.cpp's 46 llama-bpe vectors with the Llama-3 tokenizer.json, and its 46 qwen2 vectors with the Qwen3
  tokenizer.json (tokenizer-tests/ggml-vocab-{llama-bpe,qwen2}.gguf.{inp,out}), one test each;
* the GGUF metadata qtr wrote, read back with gguf.GGUFReader.
"""
from __future__ import annotations

from pathlib import Path

import pytest

import gguf
from conftest import N_VOCAB_TESTS as N_VECTORS, QtrRunner, load_vocab_vectors, parse_ids, shared_path, vector_slug

# vector file (tokenizer-tests/ggml-vocab-<name>.gguf.*) -> tokenizer.json it goes with (tokenizers/<name>...)
VOCABS = {"llama-bpe": "llama3", "qwen2": "qwen3"}





def vector_params():
    params = []
    for name in VOCABS:
        try:
            vectors = load_vocab_vectors(name)
        except OSError as e:  # ../shared absent: one placeholder that skips at run time
            params.append(pytest.param(name, None, None, id=f"{name}-vectors-missing",
                                       marks=pytest.mark.skip(reason=f"../shared not found: {e}")))
            continue
        params += [pytest.param(name, text, ids, id=f"{name}-{i:02d}-{vector_slug(text)}")
                   for i, (text, ids) in enumerate(vectors)]
    return params


@pytest.fixture(scope="module")
def bpe_vocabs(qtr: QtrRunner, shared_dir: Path, tmp_path_factory) -> dict[str, Path]:
    """vector-file name -> the vocabulary-only GGUF `qtr vocab --hf-tokenizer` wrote for its tokenizer.json."""
    out_dir = tmp_path_factory.mktemp("bpe-vocab")
    vocabs = {}
    for name, tokenizer in VOCABS.items():
        src = shared_path("tokenizers", f"{tokenizer}.tokenizer.json")
        out = out_dir / f"{tokenizer}-vocab.gguf"
        r = qtr.ok("vocab", "--hf-tokenizer", src, "--out", out)
        assert r.stdout == b"" and out.is_file() and out.stat().st_size > 0, r.describe()
        vocabs[name] = out
    return vocabs


@pytest.mark.parametrize("name,text,expected", vector_params())
def test_bpe_vector(name, text, expected, qtr, bpe_vocabs, tmp_path):
    f = tmp_path / "text.bin"
    f.write_bytes(text)
    r = qtr.ok("tokenize", "--model", bpe_vocabs[name], "--file", f, "--no-bos")
    assert r.stdout.endswith(b"\n")
    got = parse_ids(r.out)
    assert got == expected, f"{name}: text {text[:80]!r}\n got {got}\nwant {expected}"


@pytest.mark.parametrize("name", sorted(VOCABS))
def test_vocab_gguf_metadata(name, bpe_vocabs):
    reader = gguf.GGUFReader(str(bpe_vocabs[name]))

    def value(key):
        field = reader.fields.get(key)
        assert field is not None, f"qtr vocab wrote no {key}"
        return field.contents()

    assert value("tokenizer.ggml.model") == "gpt2"
    tokens = value("tokenizer.ggml.tokens")
    types = value("tokenizer.ggml.token_type")
    merges = value("tokenizer.ggml.merges")
    assert len(tokens) == len(types)
    assert merges[0] == "\u0120 \u0120"  # "Ġ Ġ": both files start with the merge of two spaces
    assert len(reader.tensors) == 0
    if name == "llama-bpe":
        assert value("tokenizer.ggml.pre") == "llama-bpe"
        assert len(tokens) == 128256 and len(merges) == 280147
        assert tokens[128000] == "<|begin_of_text|>" and types[128000] == 3  # control
        assert value("tokenizer.ggml.bos_token_id") == 128000
        assert value("tokenizer.ggml.eos_token_id") == 128001
        assert value("tokenizer.ggml.add_bos_token") is True
    else:
        assert value("tokenizer.ggml.pre") == "qwen2"
        assert len(tokens) == 151669 and len(merges) == 151387
        assert tokens[151643] == "<|endoftext|>" and types[151643] == 3
        assert tokens[151667] == "<think>" and types[151667] == 4  # user-defined
        assert value("tokenizer.ggml.bos_token_id") == 2**32 - 1  # none
        assert value("tokenizer.ggml.eos_token_id") == 151643
        assert value("tokenizer.ggml.add_bos_token") is False


def test_tokenize_adds_llama3_bos(qtr, bpe_vocabs):
    r = qtr.ok("tokenize", "--model", bpe_vocabs["llama-bpe"], "--text", "Hello world")
    assert parse_ids(r.out) == [128000, 9906, 1917]


def test_vocab_rejects_malformed_tokenizer_json(qtr, tmp_path):
    bad = tmp_path / "tokenizer.json"
    bad.write_text('{"model": {"type": "BPE", "merges": []}}')
    r = qtr("vocab", "--hf-tokenizer", bad, "--out", tmp_path / "v.gguf")
    assert r.returncode == 1 and r.stdout == b"", r.describe()
    assert "model.vocab" in r.err and str(bad) in r.err, r.describe()
    assert r.stderr.count(b"\n") == 1, r.describe()
    assert not (tmp_path / "v.gguf").exists()


def test_vocab_wants_one_source(qtr, tmp_path):
    r = qtr("vocab", "--spm", tmp_path / "a", "--hf-tokenizer", tmp_path / "b", "--out", tmp_path / "v.gguf")
    assert r.returncode == 2, r.describe()


def test_shared_bpe_vectors_present(shared_dir):
    """Fails loudly (rather than silently testing nothing) when ../shared exists but the vectors do not."""
    for name, tokenizer in VOCABS.items():
        for ext in (".inp", ".out"):
            assert shared_dir.joinpath("tokenizer-tests", f"ggml-vocab-{name}.gguf{ext}").is_file()
        assert shared_dir.joinpath("tokenizers", f"{tokenizer}.tokenizer.json").is_file()
        assert len(load_vocab_vectors(name)) == N_VECTORS
