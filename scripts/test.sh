#!/usr/bin/env bash
# `npm test`: the set-up, then lint and typecheck, then the tests.
#
# Lint and typecheck measure nothing, so they run two tasks at a time. The tests run one
# workspace at a time: several compare CPU (samples against perf, shares of known workloads)
# and need the machine to themselves. Both runs go on past a failure, so every check and test
# runs, and the exit code is non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh || exit
npx turbo run lint typecheck --concurrency=2 --continue --output-logs=new-only
checks=$?
npx turbo run test --concurrency=1 --continue --output-logs=new-only
tests=$?
exit $((checks != 0 ? checks : tests))
