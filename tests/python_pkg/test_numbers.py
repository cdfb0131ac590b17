"""Logits (bit-identical with `qtr logits`) and embeddings (shape, normalisation, determinism)."""
from __future__ import annotations

import subprocess

import numpy as np
import pytest

IDS = [1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421]


def test_logits_bit_identical_with_cli(stories_f32, stories_path, qtr_bin, tmp_path):
    out = tmp_path / "logits.bin"
    subprocess.run([str(qtr_bin), "logits", "--model", str(stories_path), "--ids", ",".join(map(str, IDS)),
                    "--out", str(out), "--kv-type", "f32"], check=True, capture_output=True, timeout=60)
    expected = np.fromfile(out, dtype="<f4").reshape(len(IDS), -1)
    logits = stories_f32.logits(IDS)
    assert logits.dtype == np.float32 and logits.shape == (len(IDS), stories_f32.n_vocab)
    assert logits.tobytes() == expected.tobytes()


def test_logits_layout_and_ownership(stories):
    logits = stories.logits(np.array(IDS[:4], dtype=np.int32))
    assert logits.shape == (4, stories.n_vocab) and logits.flags["C_CONTIGUOUS"]
    assert not logits.flags["OWNDATA"] and type(logits.base).__name__ == "PyCapsule"  # the C++ buffer, no copy
    # the last row is the next-token distribution greedy generation picks from
    s = stories.generate(IDS[:4], max_tokens=1, temperature=0)
    list(s)
    assert s.tokens[0] == int(np.argmax(logits[-1]))
    # independent calls: the context is fresh each time
    np.testing.assert_array_equal(stories.logits(IDS[:4]), logits)


def test_logits_of_a_prefix_are_a_prefix(stories_f32):
    full = stories_f32.logits(IDS)
    head = stories_f32.logits(IDS[:5])
    np.testing.assert_allclose(head, full[:5], rtol=0, atol=1e-4)


def test_embed_shape_norm_determinism(stories):
    texts = ["Once upon a time", "The cat sat.", "Lily went to the park with her mom."]
    e = stories.embed(texts)
    assert e.dtype == np.float32 and e.shape == (3, stories.n_embd)
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(stories.embed(texts), e)
    one = stories.embed(texts[1])
    assert one.shape == (stories.n_embd,)
    np.testing.assert_array_equal(one, e[1])
    assert stories.embed([]).shape == (0, stories.n_embd)


def test_embed_pooling_and_normalize(stories):
    raw = stories.embed("Once upon a time", normalize=False)
    unit = stories.embed("Once upon a time")
    assert abs(np.linalg.norm(raw) - 1.0) > 1e-3
    np.testing.assert_allclose(raw / np.linalg.norm(raw), unit, atol=1e-6)
    last = stories.embed("Once upon a time", pooling="last")
    assert not np.allclose(last, unit)
    np.testing.assert_allclose(np.linalg.norm(last), 1.0, atol=1e-5)


def test_cosine_similarity_helper(stories):
    import qtr

    e = stories.embed(["a", "b", "c"])
    sims = qtr.cosine_similarity(e, e)
    assert sims.shape == (3, 3)
    np.testing.assert_allclose(np.diag(sims), 1.0, atol=1e-5)
    assert qtr.cosine_similarity(e[0], e[0]) == pytest.approx(1.0, abs=1e-5)


def test_reading_instead_of_mapping_gives_the_same_logits(stories_path):
    import numpy as np
    import qtr

    mapped = qtr.Model(stories_path, kv_type="f32")
    read = qtr.Model(stories_path, kv_type="f32", mmap=False)
    ids = mapped.tokenize("Once upon a time")
    assert np.array_equal(mapped.logits(ids), read.logits(ids))
