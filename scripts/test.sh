#!/usr/bin/env bash
# The whole test suite: lint, unit tests (no root), root tests (real BPF).
# Root tests skip visibly when not root; under CI=true a skipped root test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${CI:-}" = true ] && export EXECLENS_REQUIRE_ROOT_TESTS=1
npx --no-install eslint --max-warnings 0 .
exec node --test --test-concurrency=1 dist/test/unit/ dist/test/root/
