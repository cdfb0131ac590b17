#!/usr/bin/env python3
"""Chat with a model through its chat template, streaming the answers.

    python examples/python/chat.py [--model PATH] [--system TEXT] [QUESTION ...]

With questions on the command line, each is asked in turn (one conversation) and the script exits; without, it
reads questions from stdin, one a line ("/reset" starts over). The default model is SmolLM2-135M-Instruct
(scripts/fetch_models.sh smollm2)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import qtr

REPO_MODELS = Path(__file__).resolve().parents[2] / ".cache" / "models"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="GGUF model with a chat template (default: SmolLM2-135M-Instruct)")
    parser.add_argument("--system", default="You are a helpful assistant.", help="system message")
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (reproducible)")
    parser.add_argument("questions", nargs="*", help="questions to ask in turn (default: read stdin)")
    args = parser.parse_args()

    model = qtr.Model(args.model or qtr.find_default_model(REPO_MODELS))
    messages = [{"role": "system", "content": args.system}] if args.system else []
    questions = args.questions or (line.rstrip("\n") for line in sys.stdin)
    for question in questions:
        if question.strip() == "/reset":
            del messages[1 if args.system else 0 :]
            continue
        if not question.strip():
            continue
        messages.append({"role": "user", "content": question})
        print(f"> {question}", flush=True)
        with model.chat(messages, stream=True, max_tokens=args.max_tokens, temperature=args.temperature, seed=0) as answer:
            for piece in answer:
                print(piece, end="", flush=True)
        print(flush=True)
        messages.append({"role": "assistant", "content": answer.text})
    return 0


if __name__ == "__main__":
    sys.exit(main())
