"""Chat with the default model (SmolLM2-135M-Instruct) and the examples in examples/python."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

EXAMPLES = REPO_ROOT / "examples" / "python"
SYSTEM = "You are a helpful assistant."
# SmolLM2-135M is fragile on this question: its first answer token is a near-tie between "The", "La" and "Le", and
# greedy decoding drifts into French for many system messages, in transformers too (float32, same GGUF). With this
# one transformers answers "The capital of France is Paris." (p("The") = 0.198 against 0.180 for "La"), as qtr does.
QUESTION = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "What is the capital of France?"}]


def run_example(name: str, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run([sys.executable, str(EXAMPLES / name), *args], input=stdin, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_default_model_chat(default_model, qtr_bin, default_model_path):
    assert default_model.chat_template and default_model.architecture == "llama"
    reply = default_model.chat(QUESTION, temperature=0, max_tokens=40)
    assert "Paris" in reply
    # the same answer as `qtr run --chat --temp 0`
    cli = subprocess.run([str(qtr_bin), "run", "--model", str(default_model_path), "--chat", "--system", SYSTEM,
                          "--prompt", QUESTION[1]["content"], "--temp", "0", "--n-predict", "40"],
                         capture_output=True, check=True, timeout=120).stdout.decode()
    assert reply == cli


def test_default_model_chat_stream_and_template(default_model):
    stream = default_model.chat(QUESTION, stream=True, temperature=0, max_tokens=40)
    pieces = list(stream)
    assert "".join(pieces) == default_model.chat(QUESTION, temperature=0, max_tokens=40)
    assert stream.stop_reason == "eog"
    text = default_model.apply_chat_template(QUESTION)
    assert "<|im_start|>user\nWhat is the capital of France?<|im_end|>" in text
    assert text.endswith("<|im_start|>assistant\n")
    ids = default_model.apply_chat_template(QUESTION, tokenize=True)
    assert ids == default_model.tokenize(text, add_special=False, parse_special=True)
    assert not default_model.apply_chat_template(QUESTION, add_generation_prompt=False).endswith("assistant\n")
    # a multi-turn conversation continues from the previous answer
    turn2 = QUESTION + [{"role": "assistant", "content": "The capital of France is Paris."},
                        {"role": "user", "content": "And of Germany?"}]
    assert "Berlin" in default_model.chat(turn2, temperature=0, max_tokens=40)


def test_example_embeddings_similarity(stories_path):
    out = run_example("embeddings_similarity.py", "--model", str(stories_path), "--query", "Lily",
                      "Lily played.", "The dog ran.", "Once upon a time.")
    lines = out.strip().splitlines()
    assert len(lines) == 3
    scores = [float(line.split("\t")[0]) for line in lines]
    assert scores == sorted(scores, reverse=True) and all(-1.0 <= s <= 1.0001 for s in scores)


def test_example_embeddings_similarity_default_model(default_model_path):
    out = run_example("embeddings_similarity.py", "--model", str(default_model_path))
    first = out.splitlines()[0]
    assert "cat" in first or "kitten" in first  # the query is about a cat


def test_example_chat(default_model_path):
    out = run_example("chat.py", "--model", str(default_model_path), "What is the capital of France?")
    assert out.startswith("> What is the capital of France?\n") and "Paris" in out
    out = run_example("chat.py", "--model", str(default_model_path),
                      stdin="What is the capital of France?\n/reset\nAnd of Germany?\n")
    assert "Paris" in out and out.count("> ") == 2


def test_example_extract_json(default_model_path):
    out = run_example("extract_json.py", "--model", str(default_model_path))
    obj = json.loads(out)
    assert obj == {"name": "Maria Lopez", "age": 34, "city": "Madrid"}


def test_example_chat_needs_a_template(stories_path):
    result = subprocess.run([sys.executable, str(EXAMPLES / "chat.py"), "--model", str(stories_path), "hi"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "Unsupported" in result.stderr and "chat template" in result.stderr


def test_example_structured_output(default_model_path):
    out = run_example("structured_output.py", "--model", str(default_model_path))
    assert json.loads(out) == {"name": "Maria Lopez", "age": 34, "city": "Madrid"}
