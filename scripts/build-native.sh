#!/usr/bin/env bash
# Build the ptrace backend's helper (native/ptrace) with the system C compiler.
#   CC=aarch64-linux-gnu-gcc OUT=build/matrix/native-arm64 scripts/build-native.sh   (cross-build for a guest)
#   NATIVE_LDFLAGS=-static ...                                                    (what npm pack ships)
set -euo pipefail
cd "$(dirname "$0")/.."
CC=${CC:-cc}
OUT=${OUT:-build/native}
mkdir -p "$OUT"
# NATIVE_LDFLAGS=-static: the helper npm pack ships runs on any libc (it uses no NSS)
"$CC" -O2 -g -Wall -Wextra -I bpf/include -o "$OUT/execlens-ptrace.tmp" native/ptrace/execlens-ptrace.c ${NATIVE_LDFLAGS:-}
mv "$OUT/execlens-ptrace.tmp" "$OUT/execlens-ptrace"
echo "build-native: $OUT/execlens-ptrace ($("$CC" --version | head -n1))"
