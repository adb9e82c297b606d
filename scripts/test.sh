#!/usr/bin/env bash
# `npm test`: the set-up, then lint and typecheck, then the tests.
#
# Lint and typecheck measure nothing, so they run two tasks at a time. So do the tests of the
# workspaces that measure none either (parsers, stores, the hub): they wait on servers and files.
# Then the workspaces whose tests compare CPU (samples against perf, shares of known workloads,
# pages under load) run one at a time, with the machine to themselves (each also says which of
# its files may share it). Every run goes on past a failure, so every check and test runs, and
# the exit code is non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."

measuring=(@firesight/collector @firesight/native @firesight/e2e)

bash scripts/bootstrap.sh || exit
npx turbo run lint typecheck --concurrency=2 --continue --output-logs=new-only
checks=$?
npx turbo run test --concurrency=2 --continue --output-logs=new-only "${measuring[@]/#/--filter=!}"
light=$?
npx turbo run test --concurrency=1 --continue --output-logs=new-only "${measuring[@]/#/--filter=}"
heavy=$?
for rc in $checks $light $heavy; do ((rc == 0)) || exit "$rc"; done
