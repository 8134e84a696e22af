#!/usr/bin/env bash
# Build the BPF object: bpf/execlens.bpf.c -> build/bpf/execlens.bpf.o
#   CLANG=clang-19 ARCH=x86_64 VMLINUX_BTF=/sys/kernel/btf/vmlinux OUT=build/bpf ./scripts/build-bpf.sh
#   REGEN_LAYOUT=1 ./scripts/build-bpf.sh   also rewrites src/events/layout.ts from the object's BTF
# vmlinux.h is generated from the BTF of the build host's kernel (or VMLINUX_BTF);
# CO-RE relocations make the object load on other kernels of the same arch.
set -euo pipefail
cd "$(dirname "$0")/.."
CLANG=${CLANG:-clang}
ARCH=${ARCH:-$(uname -m)}
OUT=${OUT:-build/bpf}
BTF=${VMLINUX_BTF:-/sys/kernel/btf/vmlinux}
case "$ARCH" in
  x86_64|amd64) TARGET_ARCH=x86 ;;
  aarch64|arm64) TARGET_ARCH=arm64 ;;
  riscv64) TARGET_ARCH=riscv ;;
  *) echo "build-bpf: unsupported arch $ARCH" >&2; exit 2 ;;
esac
command -v "$CLANG" >/dev/null || { echo "build-bpf: $CLANG not found (apt-get install clang)" >&2; exit 2; }
command -v bpftool >/dev/null || { echo "build-bpf: bpftool not found (apt-get install bpftool)" >&2; exit 2; }
mkdir -p "$OUT/$ARCH"
VMH="$OUT/$ARCH/vmlinux.h"
if [ ! -s "$VMH" ] || [ "${REGEN_VMLINUX:-0}" = 1 ]; then
  [ -r "$BTF" ] || { echo "build-bpf: no kernel BTF at $BTF (set VMLINUX_BTF)" >&2; exit 2; }
  bpftool btf dump file "$BTF" format c > "$VMH.tmp" && mv "$VMH.tmp" "$VMH"
fi
"$CLANG" -target bpf -O2 -g -Wall -Wno-unused-function -Wno-unknown-warning-option \
  -Wno-default-const-init-var-unsafe -D__TARGET_ARCH_$TARGET_ARCH ${BPF_CFLAGS:-} \
  -I "$OUT/$ARCH" -I bpf/include -I bpf -c bpf/execlens.bpf.c -o "$OUT/execlens.bpf.o.tmp"
# BPF_EMIT_IR=1 (scripts/build-bpf-coverage.sh, BPF_CFLAGS with -S -emit-llvm): the output is LLVM IR, kept as is
if [ "${BPF_EMIT_IR:-0}" = 1 ]; then mv "$OUT/execlens.bpf.o.tmp" "$OUT/execlens.bpf.ll"; exit 0; fi
# strip DWARF but keep BTF/BTF.ext (CO-RE needs them)
llvm-strip -g "$OUT/execlens.bpf.o.tmp" 2>/dev/null || true
# older verifiers refuse loops whose back-edge is a fall-through (6.1) and bpf_loop anywhere (5.10)
python3 scripts/check-bpf-object.py "$OUT/execlens.bpf.o.tmp" || { rm -f "$OUT/execlens.bpf.o.tmp"; exit 1; }
mv "$OUT/execlens.bpf.o.tmp" "$OUT/execlens.bpf.o"
# src/events/layout.ts is generated from the object's BTF (the record layout has one source: the C header)
LAYOUT=src/events/layout.ts
if [ "${REGEN_LAYOUT:-0}" = 1 ]; then
  python3 scripts/gen-layout.py "$OUT/execlens.bpf.o" --out "$LAYOUT"
  echo "build-bpf: regenerated $LAYOUT"
elif ! python3 scripts/gen-layout.py "$OUT/execlens.bpf.o" --check "$LAYOUT" >/dev/null; then
  echo "build-bpf: warning: $LAYOUT differs from the layout in the object's BTF; rewrite it with REGEN_LAYOUT=1 $0" >&2
fi
# what built it, beside it: `execlens --version` names the clang (src/version.ts)
python3 -c 'import json, sys; print(json.dumps({"clang": sys.argv[1], "arch": sys.argv[2], "btf": sys.argv[3]}))' \
  "$("$CLANG" --version | head -1)" "$ARCH" "$([ "$BTF" = /sys/kernel/btf/vmlinux ] && echo "$BTF ($(uname -r))" || echo "${BTF#"$PWD"/}")" \
  > "$OUT/execlens.bpf.json"
echo "build-bpf: $OUT/execlens.bpf.o ($("$CLANG" --version | head -1), $ARCH)"
