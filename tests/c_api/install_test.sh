#!/bin/sh
# Installs the build into a temporary prefix, then builds against the installed files only:
#   1. examples/c/generate.c as C99 with `pkg-config --cflags --libs qtr`, and runs it;
#   2. a find_package(qtr) project (tests/c_api/consumer), configured, built and run.
# usage: install_test.sh BUILD_DIR SOURCE_DIR MODEL CMAKE CC [EXTRA_CFLAGS]
set -eu
build=$1 src=$2 model=$3 cmake=$4 cc=$5 extra=${6:-}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/qtr-install-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

"$cmake" --install "$build" --prefix "$prefix" > "$tmp/install.log"
for f in include/qtr.h bin/qtr; do
  test -f "$prefix/$f" || { echo "install: $f is missing"; cat "$tmp/install.log"; exit 1; }
done
pc=$(find "$prefix" -name qtr.pc)
config=$(find "$prefix" -name qtrConfig.cmake)
lib=$(find "$prefix" -name 'libqtr.so.*.*.*')
test -n "$pc" && test -n "$config" && test -n "$lib" || { echo "install: qtr.pc, qtrConfig.cmake or libqtr.so missing"; exit 1; }
libdir=$(dirname "$lib")
test -L "$libdir/libqtr.so" && test -L "$libdir/libqtr.so.1" || { echo "install: libqtr.so symlinks missing"; exit 1; }
if find "$prefix" -name '*.hpp' | grep -q .; then echo "install: C++ headers were installed"; exit 1; fi
echo "installed: $(cd "$prefix" && find . -type f -o -type l | sort | tr '\n' ' ')"

# 1. pkg-config
export PKG_CONFIG_PATH="$(dirname "$pc")"
flags=$(pkg-config --cflags --libs qtr)
echo "pkg-config --cflags --libs qtr: $flags"
test "$(pkg-config --variable=includedir qtr)" -ef "$prefix/include" || { echo "qtr.pc: wrong includedir"; exit 1; }
# shellcheck disable=SC2086
"$cc" -std=c99 -Wall -Wextra -pedantic -Werror $extra "$src/examples/c/generate.c" $flags -o "$tmp/generate"
LD_LIBRARY_PATH="$libdir" "$tmp/generate" "$model" "Once upon a time" 12 > "$tmp/generate.out" 2> "$tmp/generate.err" ||
  { cat "$tmp/generate.err"; exit 1; }
grep -q "^Once upon a time" "$tmp/generate.out" || { echo "generate printed:"; cat "$tmp/generate.out"; exit 1; }
grep -q "generated 12 tokens\|stopped: end of generation" "$tmp/generate.err" || { cat "$tmp/generate.err"; exit 1; }
echo "pkg-config build of examples/c/generate.c: ok ($(head -c 80 "$tmp/generate.out" | tr '\n' ' '))"

# 2. find_package(qtr)
"$cmake" -S "$src/tests/c_api/consumer" -B "$tmp/consumer" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_C_FLAGS="$extra" -DCMAKE_BUILD_TYPE=Release > "$tmp/consumer.log" 2>&1 ||
  { cat "$tmp/consumer.log"; exit 1; }
"$cmake" --build "$tmp/consumer" >> "$tmp/consumer.log" 2>&1 || { cat "$tmp/consumer.log"; exit 1; }
"$tmp/consumer/consumer" "$model"  # the build RPATH points at the installed library
echo "find_package(qtr) consumer: ok"
