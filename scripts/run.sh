#!/usr/bin/env bash
# The main job: set up, build, and generate text with the default model.
# Until real models are packaged, the default model is stories260K from ../shared beside the checkout
# (override with QTR_MODEL=path/to/model.gguf). Extra arguments go to `qtr run`.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/setup.sh
bash scripts/build.sh
model=${QTR_MODEL:-$root/../shared/models/stories260K.gguf}
if [ ! -f "$model" ]; then
  echo "run: the default model is not here: $model" >&2
  echo "run: it comes from ../shared beside the checkout; or set QTR_MODEL to any llama GGUF file" >&2
  exit 1
fi
exec ./build/qtr run --model "$model" --n-predict 200 --temp 0 "$@"
