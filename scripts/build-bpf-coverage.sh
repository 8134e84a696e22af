#!/usr/bin/env bash
# Build the coverage flavour of the BPF object (the production build/bpf/execlens.bpf.o is not touched):
#   build/bpf-cov/execlens.bpf.o          loadable: the counters in .data.profc, a global-data map libbpf loads
#   build/bpf-cov/execlens.bpf.covmap.o   the same code with the coverage mapping: what llvm-cov reads
#   build/bpf-cov/execlens.bpf.o.cov.json the counters' layout: per function its PGO name, hash, count, offset
#   CLANG=clang-19 OUT=build/bpf-cov ./scripts/build-bpf-coverage.sh      (needs `npm run build:ts` first)
# clang's source-based coverage, then src/coverage/ir.ts rewrites the IR text (no LLVM pass plugin): see
# docs/coverage.md for why.
set -euo pipefail
cd "$(dirname "$0")/.."
CLANG=${CLANG:-clang}
OUT=${OUT:-build/bpf-cov}
command -v "$CLANG" >/dev/null || { echo "build-bpf-coverage: $CLANG not found (apt-get install clang llvm)" >&2; exit 2; }
LLVM_BIN=${LLVM_BIN:-$(dirname "$(readlink -f "$(command -v "$CLANG")")")}
export LLVM_BIN
[ -x "$LLVM_BIN/llc" ] || { echo "build-bpf-coverage: no llc beside $CLANG in $LLVM_BIN (apt-get install llvm)" >&2; exit 2; }
[ -f dist/src/coverage/cli.js ] || { echo "build-bpf-coverage: run 'npm run build:ts' first" >&2; exit 2; }
mkdir -p "$OUT"
# the flags of the production build (build-bpf.sh) plus coverage, stopped at the IR; file names relative to here
BPF_EMIT_IR=1 OUT="$OUT" CLANG="$CLANG" \
  BPF_CFLAGS="-fprofile-instr-generate -fcoverage-mapping -fcoverage-compilation-dir=. -S -emit-llvm ${BPF_CFLAGS:-}" \
  scripts/build-bpf.sh
node dist/src/coverage/cli.js split "$OUT/execlens.bpf.ll" "$OUT"
# llc only generates code: the IR is clang's -O2 output already (inlined, CO-RE relocations recorded)
"$LLVM_BIN/llc" -march=bpf -O2 -filetype=obj "$OUT/execlens.bpf.load.ll" -o "$OUT/execlens.bpf.o.tmp" & load=$!
"$LLVM_BIN/llc" -march=bpf -O2 -filetype=obj "$OUT/execlens.bpf.map.ll" -o "$OUT/execlens.bpf.covmap.o.tmp" & map=$!
wait "$load"
wait "$map"
"$LLVM_BIN/llvm-strip" -g "$OUT/execlens.bpf.o.tmp"
# the loadable object must pass the production object's checks: old kernels load it too
python3 scripts/check-bpf-object.py "$OUT/execlens.bpf.o.tmp" || { rm -f "$OUT/execlens.bpf.o.tmp"; exit 1; }
mv "$OUT/execlens.bpf.covmap.o.tmp" "$OUT/execlens.bpf.covmap.o"
mv "$OUT/execlens.bpf.o.tmp" "$OUT/execlens.bpf.o"
node dist/src/coverage/cli.js layout "$OUT/execlens.bpf.o" "$OUT/functions.json" "$OUT/execlens.bpf.o.cov.json"
rm -f "$OUT/execlens.bpf.ll" "$OUT/execlens.bpf.load.ll" "$OUT/execlens.bpf.map.ll"
echo "build-bpf-coverage: $OUT/execlens.bpf.o ($("$CLANG" --version | head -1))"
