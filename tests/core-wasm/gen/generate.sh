#!/bin/sh
# Regenerates tests/core-wasm/vectors/*.json on the real processor. Needs an x86 host, gcc and
# node. The groups of groups.mjs need 32-bit code (gcc -m32 from gcc-multilib, and a kernel with
# IA32 emulation); those of groups64.mjs run in 64-bit mode (runner64.c). A runner that cannot
# run here is skipped and its groups' files stay as checked in. CI does not run this.
# Usage: tests/core-wasm/gen/generate.sh [group ...]   (default: every group)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
r32=- r64=-
if gcc -m32 -O2 -Wall -Wextra -Werror -o "$tmp/runner" "$here/runner.c" 2>/dev/null && "$tmp/runner" </dev/null 2>/dev/null; then
  r32="$tmp/runner"
else
  echo "generate.sh: this host cannot build or run 32-bit code; only the 64-bit groups are recorded" >&2
fi
if gcc -O2 -Wall -Wextra -Werror -o "$tmp/runner64" "$here/runner64.c" && "$tmp/runner64" </dev/null; then
  r64="$tmp/runner64"
fi
node "$here/generate.mjs" "$r32" "$r64" "$@"
