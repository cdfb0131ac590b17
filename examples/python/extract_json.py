#!/usr/bin/env python3
"""Extracts fields from free text as JSON with a chat model, a prompt that starts the JSON object, and a stop
string at its end.

    python examples/python/extract_json.py [--model PATH] [TEXT]

The assistant's answer is primed with the opening of the object ('{"name": "'), generation stops at the closing
'}', and the script parses the result, retrying with another seed when the model's JSON does not parse. Prints the
object as JSON on stdout. The default model is SmolLM2-135M-Instruct (scripts/fetch_models.sh smollm2)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import qtr

REPO_MODELS = Path(__file__).resolve().parents[2] / ".cache" / "models"

DEFAULT_TEXT = "Maria Lopez is 34 years old and lives in Madrid, where she works as an architect."
FIELDS = ("name", "age", "city")
OPENING = '{"name": "'


def extract(model: qtr.Model, text: str, seed: int) -> dict | None:
    """One attempt: the parsed object, or None when the model's output is not the JSON asked for."""
    messages = [
        {"role": "system", "content": "You extract facts from text and answer with one JSON object only."},
        {
            "role": "user",
            "content": f'Text: "{text}"\nGive the person\'s name, age and city as JSON with the keys '
            '"name", "age" (a number) and "city".',
        },
    ]
    # The prompt ends inside the assistant's turn with the object already opened: the model only fills it in.
    ids = model.apply_chat_template(messages, tokenize=True) + model.tokenize(OPENING, add_special=False)
    # Stop at the end of the object; the stop string is left out of the text, so it is added back.
    stream = model.generate(ids, max_tokens=64, temperature=0.0 if seed == 0 else 0.7, seed=seed, stop="}")
    body = "".join(stream)
    if stream.stop_reason != "stop_string":
        return None
    try:
        obj = json.loads(OPENING + body + "}")
    except json.JSONDecodeError:
        return None
    if not isinstance(obj, dict) or not all(k in obj for k in FIELDS):
        return None
    return {k: obj[k] for k in FIELDS}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="GGUF chat model (default: SmolLM2-135M-Instruct)")
    parser.add_argument("--attempts", type=int, default=5, help="tries (the first greedy, then sampled)")
    parser.add_argument("text", nargs="?", default=DEFAULT_TEXT)
    args = parser.parse_args()

    model = qtr.Model(args.model or qtr.find_default_model(REPO_MODELS))
    for seed in range(args.attempts):
        obj = extract(model, args.text, seed)
        if obj is not None:
            print(json.dumps(obj, ensure_ascii=False))
            return 0
    print(f"extract_json: no valid JSON after {args.attempts} attempts", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
