#!/usr/bin/env bash
# Build the ptrace backend's helper (native/ptrace) with the system C compiler.
set -euo pipefail
cd "$(dirname "$0")/.."
CC=${CC:-cc}
mkdir -p build/native
"$CC" -O2 -g -Wall -Wextra -I bpf/include -o build/native/execlens-ptrace.tmp native/ptrace/execlens-ptrace.c
mv build/native/execlens-ptrace.tmp build/native/execlens-ptrace
echo "build-native: build/native/execlens-ptrace ($("$CC" --version | head -n1))"
