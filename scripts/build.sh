#!/usr/bin/env bash
# Configures and builds qtr in build/ (Release, baseline x86-64; fast paths are chosen at run time).
# Extra arguments go to cmake's configure step, e.g. scripts/build.sh -DQTR_NATIVE=ON.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" > /dev/null
cmake --build build
