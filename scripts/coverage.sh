#!/usr/bin/env bash
# sudo npm run coverage: which lines of bpf/ and src/ the test suite ran (docs/coverage.md).
#   COVERAGE_TESTS="dist/test/root/log.test.js ..." narrows the test files (default: unit + root, bar the matrix)
#   COVERAGE_NO_BUILD=1 skips `npm run build` (.ci/run has just built)
# Builds the coverage flavour of the BPF object (scripts/build-bpf-coverage.sh; the production object is not
# touched), runs each test file with EXECLENS_COVERAGE (every tracer run dumps its BPF counters) and
# NODE_V8_COVERAGE (every Node process, the execlens runs included, writes its V8 coverage), then reports:
#   build/coverage/{bpf.profdata,bpf.lcov,src.lcov,summary.txt,html/,bpf-html/}
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "coverage: the root tests load BPF: run it as root (sudo npm run coverage)" >&2; exit 77; }
[ "${COVERAGE_NO_BUILD:-0}" = 1 ] || npm run --silent build
scripts/build-bpf-coverage.sh
OUT=build/coverage
rm -rf "$OUT"
mkdir -p "$OUT/bpf-counters" "$OUT/v8"
# tests run execlens as nobody too: its processes write their coverage here as well
chmod 1777 "$OUT/bpf-counters" "$OUT/v8"
if [ -n "${COVERAGE_TESTS:-}" ]; then
  read -r -a files <<<"$COVERAGE_TESTS"
else
  # the QEMU matrix test boots other kernels: its counters would not be this host's
  files=(dist/test/unit/*.test.js $(ls dist/test/root/*.test.js | grep -v '/matrix\.test\.js$'))
fi
failed=()
pass=0 fail=0 skipped=0
for f in "${files[@]}"; do
  echo "coverage: $f"
  # dots on the terminal, TAP to a file for the counts
  EXECLENS_COVERAGE="$PWD/$OUT/bpf-counters" NODE_V8_COVERAGE="$PWD/$OUT/v8" \
    node --test --test-concurrency=1 --test-reporter=dot --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$OUT/tap.txt" "$f" || failed+=("$f")
  for k in pass fail skipped; do
    n=$(sed -n "s/^# $k \\([0-9]*\\)\$/\\1/p" "$OUT/tap.txt" 2>/dev/null | tail -1)
    eval "$k=\$(( $k + ${n:-0} ))"
  done
done
rm -f "$OUT/tap.txt"
node dist/src/coverage/cli.js report --dumps "$OUT/bpf-counters" --v8 "$OUT/v8" \
  --layout build/bpf-cov/execlens.bpf.o.cov.json --mapping build/bpf-cov/execlens.bpf.covmap.o --out "$OUT"
[ ${#failed[@]} -eq 0 ] || echo "coverage: ${#failed[@]} test files failed (their runs are counted): ${failed[*]}" >&2
echo "coverage: $pass passed, $fail failed, $skipped skipped"
[ ${#failed[@]} -eq 0 ]
