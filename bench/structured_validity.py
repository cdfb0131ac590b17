"""Validity of constrained generation at scale (not run in CI; tests/python/test_structured_generation.py is the
small version): `qtr run --chat` on SmolLM2-135M-Instruct at temperature 0.8 under 32 JSON schemas (8 seeds each)
and 6 GBNF grammars (10 seeds each), --n-predict 200: 316 generations.

Each output that stopped at "end of sequence" must parse and validate (jsonschema, formats checked) or match the
grammar's Python equivalent; outputs cut by --n-predict are counted as length-limited. Prints a summary table
(schemas, generations, finished, valid %, length-limited), then every invalid output; --per-case adds one row per
schema or grammar. Exit 1 when an output that finished is invalid.

    .venv/bin/python bench/structured_validity.py [--qtr build/qtr] [--model .cache/models/SmolLM2-...gguf]
        [--schema-seeds 8] [--grammar-seeds 10] [--n-predict 200] [--per-case]
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "python"))
import test_structured_generation as sg  # noqa: E402  (schemas, grammars, checkers, judges)
from conftest import QtrRunner  # noqa: E402

S = {"type": "string", "maxLength": 40}
I = {"type": "integer"}

EXTRA_SCHEMAS: list[tuple[str, str, dict]] = [
    ("user_uuid", "Create a user record as JSON with an id (a UUID), a username and an email address.",
     {"type": "object", "properties": {"id": {"type": "string", "format": "uuid"},
                                       "username": {"type": "string", "minLength": 3, "maxLength": 20},
                                       "email": {"type": "string", "format": "email"}},
      "required": ["id", "username", "email"], "additionalProperties": False}),
    ("server", "Describe a web server as JSON: hostname, IPv4 address, port and whether TLS is on.",
     {"type": "object", "properties": {"hostname": {"type": "string", "format": "hostname"},
                                       "ip": {"type": "string", "format": "ipv4"},
                                       "port": {"type": "integer", "minimum": 1, "maximum": 65535},
                                       "tls": {"type": "boolean"}},
      "required": ["hostname", "ip", "port", "tls"], "additionalProperties": False}),
    ("link", "Give a bookmark as JSON with a title and a URL.",
     {"type": "object", "properties": {"title": S, "url": {"type": "string", "format": "uri"}},
      "required": ["title", "url"], "additionalProperties": False}),
    ("alarm", "Set an alarm as JSON: a label and a time of day.",
     {"type": "object", "properties": {"label": S, "at": {"type": "string", "format": "time"}},
      "required": ["label", "at"], "additionalProperties": False}),
    ("sentiment", "Classify the sentiment of 'I love this phone' as JSON with a label and a confidence.",
     {"type": "object", "properties": {"label": {"enum": ["positive", "negative", "neutral"]},
                                       "confidence": {"type": "number", "minimum": 0, "maximum": 1}},
      "required": ["label", "confidence"], "additionalProperties": False}),
    ("color_enum", "What color is the sky? Answer with a JSON string.",
     {"enum": ["red", "green", "blue", "yellow", "black", "white"]}),
    ("boolean", "Is water wet? Answer true or false as JSON.", {"type": "boolean"}),
    ("nullable", "Give the middle name of Albert Einstein as JSON, or null.",
     {"anyOf": [{"type": "string", "maxLength": 30}, {"type": "null"}]}),
    ("const_version", "Write a JSON object with the API version and a message.",
     {"type": "object", "properties": {"version": {"const": "v2"}, "message": S},
      "required": ["version", "message"], "additionalProperties": False}),
    ("point_tuple", "Give a 3D point as a JSON array [x, y, z] of numbers.",
     {"type": "array", "prefixItems": [{"type": "number"}, {"type": "number"}, {"type": "number"}],
      "items": False, "minItems": 3}),
    ("matrix", "Write a 2 by 2 matrix of small integers as a JSON array of arrays.",
     {"type": "array", "items": {"type": "array", "items": {"type": "integer", "minimum": -9, "maximum": 9},
                                 "minItems": 2, "maxItems": 2}, "minItems": 2, "maxItems": 2}),
    ("word_list", "List three colors as a JSON array of strings.",
     {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 15}, "minItems": 3,
      "maxItems": 3}),
    ("zip_pattern", "Give a US address as JSON with a street, a city and a five-digit zip code.",
     {"type": "object", "properties": {"street": S, "city": S, "zip": {"type": "string", "pattern": "^[0-9]{5}$"}},
      "required": ["street", "city", "zip"], "additionalProperties": False}),
    ("sku_pattern", "Give a product code like AB-1234 as a JSON string.",
     {"type": "string", "pattern": "^[A-Z]{2}-[0-9]{4}$"}),
    ("shape_oneof", "Describe a shape as JSON: a circle with a radius or a rectangle with a width and a height.",
     {"oneOf": [{"type": "object", "properties": {"kind": {"const": "circle"}, "radius": {"type": "number", "minimum": 0}},
                 "required": ["kind", "radius"], "additionalProperties": False},
                {"type": "object", "properties": {"kind": {"const": "rectangle"}, "width": {"type": "number", "minimum": 0},
                                                  "height": {"type": "number", "minimum": 0}},
                 "required": ["kind", "width", "height"], "additionalProperties": False}]}),
    ("allof_merge", "Write a JSON object for a pet with a name, a species and an age.",
     {"allOf": [{"type": "object", "properties": {"name": S}, "required": ["name"]},
                {"properties": {"species": {"enum": ["cat", "dog", "bird"]}, "age": {"type": "integer", "minimum": 0,
                                                                                       "maximum": 30}},
                 "required": ["species", "age"]}]}),
    ("scores_map", "Give the scores of three players as a JSON object mapping names to integers.",
     {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0, "maximum": 100},
      "minProperties": 1, "maxProperties": 5}),
    ("env_vars", "Write three environment variables as a JSON object with upper-case names and string values.",
     {"type": "object", "patternProperties": {"^[A-Z][A-Z_]{0,15}$": {"type": "string", "maxLength": 30}},
      "additionalProperties": False, "maxProperties": 4}),
    ("many_props", "Describe a car as JSON: make, model, year, color, doors, electric, price, mileage, owner, vin.",
     {"type": "object", "properties": {"make": S, "model": S, "year": {"type": "integer", "minimum": 1900, "maximum": 2030},
                                       "color": S, "doors": {"type": "integer", "minimum": 2, "maximum": 5},
                                       "electric": {"type": "boolean"}, "price": {"type": "number", "minimum": 0},
                                       "mileage": {"type": "integer", "minimum": 0}, "owner": S, "vin": S},
      "required": ["make", "model", "year"], "additionalProperties": False}),
    ("todo_list", "Write a to-do list as JSON: a list of items each with a title and a done flag.",
     {"type": "object", "properties": {"items": {"type": "array", "maxItems": 4, "items": {
         "type": "object", "properties": {"title": S, "done": {"type": "boolean"}}, "required": ["title", "done"],
         "additionalProperties": False}}}, "required": ["items"], "additionalProperties": False}),
    ("order_defs", "Write a shop order as JSON with a customer and a shipping and a billing address.",
     {"$defs": {"addr": {"type": "object", "properties": {"city": S, "zip": {"type": "string", "maxLength": 10}},
                         "required": ["city"], "additionalProperties": False}},
      "type": "object", "properties": {"customer": S, "shipping": {"$ref": "#/$defs/addr"},
                                       "billing": {"$ref": "#/$defs/addr"}},
      "required": ["customer", "shipping", "billing"], "additionalProperties": False}),
    ("linked_list", 'Write a short linked list of words as JSON, like {"word": "a", "next": {"word": "b", "next": null}}.',
     {"$defs": {"cell": {"type": "object", "properties": {"word": {"type": "string", "maxLength": 12},
                                                          "next": {"anyOf": [{"$ref": "#/$defs/cell"}, {"type": "null"}]}},
                         "required": ["word", "next"], "additionalProperties": False}},
      "$ref": "#/$defs/cell"}),
    ("temperature", "What is a pleasant room temperature in Celsius? Answer with a JSON number.",
     {"type": "number", "minimum": -50, "maximum": 60}),
    ("negative_int", "What is the lowest temperature ever recorded on Earth, in whole degrees Celsius? Answer in JSON.",
     {"type": "integer", "minimum": -100, "maximum": 0}),
    ("short_string", "Give a one-word name for a cat as a JSON string.",
     {"type": "string", "minLength": 2, "maxLength": 10}),
    ("unicode_text", "Translate 'good morning' into French and German as a JSON object.",
     {"type": "object", "properties": {"fr": S, "de": S}, "required": ["fr", "de"], "additionalProperties": False}),
    ("meeting", "Schedule a meeting as JSON with a subject, a date, a start date-time and a list of attendee emails.",
     {"type": "object", "properties": {"subject": S, "day": {"type": "string", "format": "date"},
                                       "start": {"type": "string", "format": "date-time"},
                                       "attendees": {"type": "array", "items": {"type": "string", "format": "email"},
                                                     "maxItems": 3}},
      "required": ["subject", "day", "start", "attendees"], "additionalProperties": False}),
    ("any_object", "Describe your favourite book as a JSON object.", {"type": "object", "maxProperties": 6}),
    ("typed_union", "Give me one JSON value: a number, a string or a list of numbers.",
     {"type": ["number", "string", "array"], "items": {"type": "number"}, "maxItems": 4, "maxLength": 30}),
    ("weather_call", "Call the weather function for Paris as JSON with a name and arguments.",
     {"type": "object", "properties": {"name": {"const": "get_weather"},
                                       "arguments": {"type": "object", "properties": {
                                           "city": S, "unit": {"enum": ["celsius", "fahrenheit"]}},
                                           "required": ["city", "unit"], "additionalProperties": False}},
      "required": ["name", "arguments"], "additionalProperties": False}),
]


def json_object_ok(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


CSV_RE = re.compile(r"[a-z][a-z_]{0,15},[a-z][a-z_]{0,15},[a-z][a-z_]{0,15}\n"
                    r"((?:[A-Za-z][A-Za-z ]{0,20}|-?[0-9]{1,6}(?:\.[0-9]{1,2})?)"
                    r"(?:,(?:[A-Za-z][A-Za-z ]{0,20}|-?[0-9]{1,6}(?:\.[0-9]{1,2})?)){2}\n){1,4}")
VERDICT_RE = re.compile(r"(yes|no): [A-Z][a-zA-Z0-9 ,'-]{0,100}\.")

EXTRA_GRAMMARS = [
    ("json.gbnf", "Describe a city as a JSON object.", json_object_ok),
    ("csv.gbnf", "Write a CSV table of three fruits with columns name, color and price.",
     lambda t: CSV_RE.fullmatch(t) is not None),
    ("verdict.gbnf", "Is the Earth round? Answer yes or no with a reason.",
     lambda t: VERDICT_RE.fullmatch(t) is not None),
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--qtr", default=str(REPO / "build" / "qtr"))
    ap.add_argument("--model", default=str(sg.SMOLLM2))
    ap.add_argument("--schema-seeds", type=int, default=8)
    ap.add_argument("--grammar-seeds", type=int, default=10)
    ap.add_argument("--n-predict", type=int, default=sg.N_PREDICT)
    ap.add_argument("--temp", type=float, default=sg.TEMP)
    ap.add_argument("--per-case", action="store_true", help="one row per schema / grammar as well")
    a = ap.parse_args()

    qtr, model = QtrRunner(Path(a.qtr)), Path(a.model)
    schemas = sg.SCHEMAS + EXTRA_SCHEMAS
    grammars = sg.GRAMMARS + EXTRA_GRAMMARS
    kw = {"n_predict": a.n_predict, "temp": a.temp}
    t0 = time.monotonic()
    rows: dict[str, list[sg.Generation]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, prompt, schema in schemas:
            rows[name] = [sg.judge_schema(qtr, model, name, prompt, schema, s, Path(tmp), **kw)
                          for s in range(1, a.schema_seeds + 1)]
            print(f"  {name}: {sum(g.finished and not g.error for g in rows[name])}/{len(rows[name])} valid",
                  file=sys.stderr)
    for file, prompt, check in grammars:
        rows[file] = [sg.judge_grammar(qtr, model, file, prompt, check, s, **kw) for s in range(1, a.grammar_seeds + 1)]
        print(f"  {file}: {sum(g.finished and not g.error for g in rows[file])}/{len(rows[file])} valid",
              file=sys.stderr)
    wall = time.monotonic() - t0

    def line(label: str, n_cases: int, gens: list[sg.Generation]) -> str:
        fin = [g for g in gens if g.finished]
        valid = sum(not g.error for g in fin)
        pct = f"{100.0 * valid / len(fin):.1f}" if fin else "-"
        other = sum(g.stop not in ("eos", "length") for g in gens)
        return (f"| {label} | {n_cases} | {len(gens)} | {len(fin)} | {pct} | "
                f"{sum(g.stop == 'length' for g in gens)} | {other} |")

    schema_gens = [g for name, _, _ in schemas for g in rows[name]]
    grammar_gens = [g for file, _, _ in grammars for g in rows[file]]
    print(f"Constrained generation with {model.name}, temperature {a.temp}, --n-predict {a.n_predict}, --chat "
          f"({wall:.0f} s). valid % is of the finished outputs.\n")
    print("| constraint | schemas | generations | finished | valid % | length-limited | other stop |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    print(line("JSON Schema", len(schemas), schema_gens))
    print(line("GBNF", len(grammars), grammar_gens))
    print(line("**total**", len(schemas) + len(grammars), schema_gens + grammar_gens))
    if a.per_case:
        print("\n| case | | generations | finished | valid % | length-limited | other stop |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for name, gens in rows.items():
            print(line(name, 1, gens))
    bad = [g for gens in rows.values() for g in gens if (g.finished and g.error) or g.stop not in ("eos", "length")]
    if bad:
        print("\nInvalid finished outputs, or runs that stopped otherwise:\n")
        for g in bad:
            print(f"- {g.describe()}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
