"""Tokenizer round trips, properties, and errors: Python exceptions carrying the C++ message, never a crash."""
from __future__ import annotations

import builtins

import numpy as np
import pytest

import qtr


def test_tokenize_detokenize(stories):
    ids = stories.tokenize("Once upon a time")
    assert ids[0] == stories.bos_token_id and all(isinstance(i, int) for i in ids)
    assert stories.tokenize("Once upon a time", add_special=False) == ids[1:]
    assert stories.detokenize(ids) == "Once upon a time"
    assert stories.detokenize(np.array(ids, dtype=np.int64)) == "Once upon a time"
    assert stories.detokenize(tuple(ids)) == "Once upon a time"
    assert stories.detokenize([]) == ""
    assert stories.tokenize("<s>x", add_special=False, parse_special=True)[0] == stories.bos_token_id
    assert stories.token_to_piece(stories.bos_token_id) == b""
    assert stories.token_to_piece(stories.bos_token_id, special=True) == b"<s>"


def test_properties(stories):
    assert stories.n_vocab == 512 and stories.n_embd == 64 and stories.architecture == "llama"
    assert stories.n_ctx_train > 0 and 0 < stories.n_ctx <= 4096 and stories.n_layer > 0
    assert stories.eos_token_id in stories.eog_token_ids
    assert stories.chat_template is None
    assert stories.kv_type == "f16" and stories.threads >= 1 and stories.isa
    assert stories.matmul_inputs == "precise"
    assert "stories260K" in repr(stories) and stories.path.endswith("stories260K.gguf")


def test_matmul_inputs_option(stories_path):
    assert qtr.Model(stories_path, matmul_inputs="int8").matmul_inputs == "int8"
    with pytest.raises(qtr.InvalidArgument, match="precise or int8"):
        qtr.Model(stories_path, matmul_inputs="int16")


def test_exception_hierarchy():
    assert issubclass(qtr.Error, RuntimeError)
    assert issubclass(qtr.InvalidArgument, qtr.Error) and issubclass(qtr.InvalidArgument, ValueError)
    assert issubclass(qtr.Unsupported, NotImplementedError)
    assert issubclass(qtr.IOError, OSError) and issubclass(qtr.FileNotFoundError, builtins.FileNotFoundError)
    assert issubclass(qtr.FileNotFoundError, qtr.IOError) and issubclass(qtr.OutOfMemory, MemoryError)
    for cls in (qtr.BadFormat, qtr.InternalError, qtr.OutOfMemory, qtr.Unsupported):
        assert issubclass(cls, qtr.Error)


def test_missing_file(tmp_path):
    path = tmp_path / "missing.gguf"
    with pytest.raises(FileNotFoundError) as info:  # the built-in class catches it
        qtr.Model(path)
    e = info.value
    assert isinstance(e, qtr.FileNotFoundError) and isinstance(e, qtr.Error)
    assert "missing.gguf" in str(e) and e.code == "io" and e.errno == 2 and e.path == str(path)


def test_bad_files(tmp_path):
    garbage = tmp_path / "garbage.gguf"
    garbage.write_bytes(b"this is not a model file at all" * 4)
    with pytest.raises(qtr.BadFormat, match="garbage.gguf") as info:
        qtr.Model(garbage)
    assert info.value.code == "bad_format"
    with pytest.raises(qtr.Error):
        qtr.Model(tmp_path)  # a directory without a checkpoint


def test_bad_load_options(stories_path):
    with pytest.raises(qtr.InvalidArgument, match="f8"):
        qtr.Model(stories_path, kv_type="f8")
    with pytest.raises(ValueError):
        qtr.Model(stories_path, threads=-1)
    with pytest.raises(ValueError):
        qtr.Model(stories_path, n_ctx=-5)
    with pytest.raises(TypeError):
        qtr.Model(stories_path, n_ctx="big")
    with pytest.raises(TypeError):
        qtr.Model(42)


@pytest.mark.parametrize("kwargs,match", [
    ({"temperature": -1.0}, "temperature"),
    ({"top_p": 0.0}, "top_p"),
    ({"min_p": 2.0}, "min_p"),
    ({"repeat_penalty": 0.0}, "repeat_penalty"),
    ({"max_tokens": -1}, "max_tokens"),
    ({"stop": [""]}, "stop"),
    ({"seed": -1}, "seed"),
    ({"logit_bias": {100000: 1.0}}, "100000"),
])
def test_bad_sampling_arguments_raise_at_call(stories, kwargs, match):
    with pytest.raises(qtr.InvalidArgument, match=match):
        stories.generate("Once", **kwargs)


@pytest.mark.parametrize("kwargs", [
    {"temperature": "hot"}, {"top_k": 1.5}, {"stop": 5}, {"stop": ["a", 3]}, {"seed": 1.5},
    {"logit_bias": [1, 2]}, {"max_tokens": None}, {"no_such_option": 1},
])
def test_wrong_types_are_type_errors(stories, kwargs):
    with pytest.raises(TypeError):
        stories.generate("Once", **kwargs)


def test_bad_token_ids(stories):
    for ids in ([stories.n_vocab], [-1], [1, 2, 10**12]):
        with pytest.raises(qtr.InvalidArgument, match="outside the vocabulary"):
            stories.logits(ids)
        with pytest.raises(qtr.InvalidArgument):
            stories.detokenize(ids)
        with pytest.raises(qtr.InvalidArgument):
            stories.generate(ids)
    with pytest.raises(qtr.InvalidArgument):
        stories.logits([])
    with pytest.raises(qtr.InvalidArgument):
        stories.token_to_piece(stories.n_vocab)
    with pytest.raises(qtr.InvalidArgument, match="context"):
        stories.logits([1] * (stories.n_ctx + 1))


@pytest.mark.parametrize("call", [
    lambda m: m.logits("1 2 3"),
    lambda m: m.logits([1.5, 2.0]),
    lambda m: m.logits(np.zeros((2, 2), dtype=np.int32)),
    lambda m: m.logits(None),
    lambda m: m.detokenize("abc"),
    lambda m: m.tokenize(123),
    lambda m: m.tokenize("x", add_special="yes"),
    lambda m: m.embed(5),
    lambda m: m.embed(["ok", 5]),
    lambda m: m.generate(3.5),
    lambda m: m.chat("hello"),
    lambda m: m.chat([("user", "hi")]),
    lambda m: m.chat([{"role": "user", "content": 5}]),
])
def test_wrong_argument_types(stories, call):
    with pytest.raises(TypeError):
        call(stories)


def test_other_argument_errors(stories):
    with pytest.raises(qtr.InvalidArgument, match="pooling"):
        stories.embed("x", pooling="max")
    with pytest.raises(qtr.Unsupported, match="chat template"):
        stories.chat([{"role": "user", "content": "hi"}])
    with pytest.raises(qtr.InvalidArgument, match="content"):
        stories.chat([{"role": "user"}])
    # still fine afterwards
    assert stories.detokenize(stories.tokenize("Once")) == "Once"
