#!/usr/bin/env bash
# Builds llama.cpp's llama-bench (and libggml) from the source that the PyPI package llama-cpp-python ships, for
# side-by-side benchmarks and as an independent reference for quantization. Output: .cache/llama.cpp/build/bin.
# Tuned for this machine (GGML_NATIVE), as a user would build it. Idempotent.
# Arguments name the targets to build (default: llama-bench llama-quantize); the tests need only ggml-base.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
version=${LLAMA_CPP_PYTHON_VERSION:-0.3.36}
cache=$root/.cache/llama.cpp
mkdir -p "$cache"
if [ ! -d "$cache/src" ]; then
  python3 -m pip download --no-deps --no-binary :all: --no-build-isolation -d "$cache/dl" "llama-cpp-python==$version" >/dev/null
  mkdir -p "$cache/unpack"
  tar -xzf "$cache"/dl/llama_cpp_python-"$version".tar.gz -C "$cache/unpack"
  mv "$cache/unpack/llama_cpp_python-$version/vendor/llama.cpp" "$cache/src"
  rm -rf "$cache/unpack"
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(llama-bench llama-quantize)
if [ ! -f "$cache/build/build.ninja" ]; then
  cmake -S "$cache/src" -B "$cache/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON \
    -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=ON \
    -DLLAMA_BUILD_SERVER=OFF -DBUILD_SHARED_LIBS=ON >/dev/null
fi
cmake --build "$cache/build" --target "${targets[@]}" >/dev/null
echo "$cache/build/bin"
