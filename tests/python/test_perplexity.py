"""qtr perplexity against the same quantity computed here from `qtr logits` with NumPy (float64 log-softmax)."""
from __future__ import annotations

import math
import re

import numpy as np

from conftest import ids_arg, parse_ids


def test_perplexity_matches_an_independent_computation(qtr, stories_model, stories_expected, tmp_path):
    text = tmp_path / "story.txt"
    text.write_bytes(stories_expected * 2)
    ctx = 64
    r = qtr.ok("perplexity", "--model", str(stories_model), "--file", str(text), "--ctx", str(ctx))
    m = re.search(r"perplexity: ([0-9.]+) \((\d+) tokens scored in (\d+) chunks", r.out)
    assert m, r.out
    reported, scored, chunks = float(m.group(1)), int(m.group(2)), int(m.group(3))

    tokens = parse_ids(qtr.ok("tokenize", "--model", str(stories_model), "--file", str(text), "--no-bos").out)
    body = ctx - 1  # BOS opens each chunk
    assert chunks == len(tokens) // body
    nll, count = 0.0, 0
    for c in range(chunks):
        chunk = [1] + tokens[c * body:(c + 1) * body]
        out = tmp_path / f"chunk{c}.f32"
        qtr.ok("logits", "--model", str(stories_model), "--ids", ids_arg(chunk), "--out", str(out))
        logits = np.fromfile(out, dtype=np.float32).reshape(len(chunk), -1).astype(np.float64)
        for i in range(ctx // 2, len(chunk) - 1):
            row = logits[i]
            lse = row.max() + math.log(np.exp(row - row.max()).sum())
            nll += lse - row[chunk[i + 1]]
            count += 1
    assert count == scored
    assert abs(math.exp(nll / count) - reported) < 1e-3 * reported


def test_perplexity_rejects_a_text_shorter_than_one_chunk(qtr, stories_model, tmp_path):
    text = tmp_path / "short.txt"
    text.write_text("Once upon a time")
    r = qtr("perplexity", "--model", str(stories_model), "--file", str(text), "--ctx", "512")
    assert r.returncode == 1 and "fewer than one chunk" in r.err and len(r.err.strip().splitlines()) == 1
