#!/usr/bin/env python3
"""Extracts fields from free text with a chat model whose answer is constrained to a JSON Schema, so that it always
parses and has the fields asked for (compare extract_json.py, which primes the answer and retries).

    python examples/python/structured_output.py [--model PATH] [TEXT]

The reply is generated under response_format={"type": "json_schema", ...} (OpenAI's shape): every token the model
writes keeps the text a prefix of JSON valid under the schema, and generation stops when the object is complete.
Prints the object as JSON on stdout. The default model is SmolLM2-135M-Instruct (scripts/fetch_models.sh smollm2)."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import qtr

REPO_MODELS = Path(__file__).resolve().parents[2] / ".cache" / "models"

DEFAULT_TEXT = "Maria Lopez is 34 years old and lives in Madrid, where she works as an architect."

PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 40},
        "age": {"type": "integer", "minimum": 0, "maximum": 150},
        "city": {"type": "string", "maxLength": 40},
    },
    "required": ["name", "age", "city"],
    "additionalProperties": False,
}


def extract(model: qtr.Model, text: str) -> dict:
    messages = [
        {"role": "system", "content": "You extract facts from text and answer with one JSON object only."},
        {"role": "user", "content": f'Text: "{text}"\nGive the person\'s name, age and city as JSON.'},
    ]
    reply = model.chat(
        messages,
        temperature=0,
        max_tokens=128,
        response_format={"type": "json_schema", "json_schema": {"name": "person", "schema": PERSON, "strict": True}},
    )
    return json.loads(reply)  # cannot fail once generation completed: the reply is JSON valid under PERSON


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="GGUF model with a chat template (default: SmolLM2-135M-Instruct)")
    parser.add_argument("text", nargs="?", default=DEFAULT_TEXT)
    args = parser.parse_args()
    model = qtr.Model(args.model or qtr.find_default_model(REPO_MODELS))
    print(json.dumps(extract(model, args.text)))


if __name__ == "__main__":
    main()
