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

# The runs' output is kept too, so a failure thousands of lines up is named again at the end.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
turbo() { npx turbo "$@" 2>&1 | tee -a "$log"; return "${PIPESTATUS[0]}"; }

turbo run lint typecheck --concurrency=2 --continue --output-logs=new-only
checks=$?
turbo run test --concurrency=2 --continue --output-logs=new-only "${measuring[@]/#/--filter=!}"
light=$?
turbo run test --concurrency=1 --continue --output-logs=new-only "${measuring[@]/#/--filter=}"
heavy=$?
for rc in $checks $light $heavy; do
	((rc == 0)) && continue
	echo
	echo "firesight: what failed, from the output above:"
	# Each failed test with its error (node's TAP: "not ok" up to the end of its block), then
	# turbo's line for each failed task (a lint or type error is printed just above it).
	awk '/:test: *not ok /{n=40} n>0{print; n--; if (/:test: *\.\.\.$/) n=0}' "$log"
	grep -E '#[a-z]+: +ERROR|ERROR +run failed' "$log"
	exit "$rc"
done
