#!/usr/bin/env python3
"""Ranks sentences by cosine similarity of their embeddings to a query.

    python examples/python/embeddings_similarity.py [--model PATH] [--query TEXT] [SENTENCE ...]

Prints one line per sentence, most similar first: "<similarity>\t<sentence>". Embeddings are the mean of the
model's final hidden states, L2-normalised, so the dot product is the cosine similarity."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import qtr

REPO_MODELS = Path(__file__).resolve().parents[2] / ".cache" / "models"

SENTENCES = [
    "The cat sat on the mat and purred.",
    "A kitten was sleeping on the rug.",
    "Stock markets fell sharply after the announcement.",
    "The recipe needs two eggs and a cup of flour.",
    "Interest rates were raised by the central bank.",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="GGUF model (default: SmolLM2-135M-Instruct)")
    parser.add_argument("--query", default="A cat is lying on a carpet.")
    parser.add_argument("--pooling", choices=["mean", "last"], default="mean")
    parser.add_argument("sentences", nargs="*", help="sentences to rank (default: a few built-in ones)")
    args = parser.parse_args()

    model = qtr.Model(args.model or qtr.find_default_model(REPO_MODELS))
    sentences = args.sentences or SENTENCES
    query = model.embed(args.query, pooling=args.pooling)          # [n_embd], unit length
    vectors = model.embed(sentences, pooling=args.pooling)         # [n, n_embd], unit length
    scores = vectors @ query                                       # cosine similarities
    for i in np.argsort(-scores, kind="stable"):
        print(f"{scores[i]:.4f}\t{sentences[i]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
