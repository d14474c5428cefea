#!/bin/sh
# Regenerates tests/core-wasm/vectors/*.json on the real processor. Needs an x86 host that can
# run 32-bit code, gcc with -m32 (gcc-multilib) and node. CI does not run this: the vectors are
# checked in. Usage: tests/core-wasm/gen/generate.sh [group ...]   (default: every group)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gcc -m32 -O2 -Wall -Wextra -Werror -o "$tmp/runner" "$here/runner.c"
node "$here/generate.mjs" "$tmp/runner" "$@"
