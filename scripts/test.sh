#!/usr/bin/env bash
# The whole test suite: lint (ESLint, Prettier), unit tests (no root), root tests (real BPF). Under CI=true
# (or EXECLENS_TEST_COVERAGE=1) the root tests then run once more with the coverage flavour of the BPF object
# (docs/coverage.md: build/coverage/{bpf,src}.lcov, summary.txt). Root tests skip visibly when not root;
# under CI=true a skipped root test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${CI:-}" = true ] && export EXECLENS_REQUIRE_ROOT_TESTS=1
npx --no-install eslint --max-warnings 0 .
npx --no-install prettier --check --log-level warn . || { echo 'test: run npm run format' >&2; exit 1; }
node --test --test-concurrency=1 dist/test/unit/ dist/test/root/
if [ "${CI:-}" = true ] || [ "${EXECLENS_TEST_COVERAGE:-}" = 1 ]; then
  COVERAGE_NO_BUILD=1 npm run --silent coverage
fi
