#!/usr/bin/env bash
# `npm test`: the set-up, then the checks and the tests.
#
# First, side by side: on one side lint and typecheck, then the tests of the workspaces that
# measure nothing (parsers, stores, the hub: they wait on servers and files), two tasks at a time;
# on the other the files of the measuring workspaces that may share the CPU (each workspace's
# scripts/test.sh names them and says why). Then the files that compare CPU (samples against perf, shares of known workloads, pages
# under load) run one at a time, with the machine to themselves. Every run goes on past a
# failure, so every check and test runs, and the exit code is non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."

measuring=(@firesight/collector @firesight/native @firesight/e2e)
# The measuring workspaces whose scripts/test.sh splits their files into the two runs.
split=(apps/collector e2e)

bash scripts/bootstrap.sh || exit

# A split workspace's shared files, outside turbo (the set-up built everything), its lines
# prefixed the way turbo prefixes a task's.
shared_runs() {
	local rc=0 dir name
	for dir in "${split[@]}"; do
		name=$(node -p "require('./$dir/package.json').name")
		(cd "$dir" && FIRESIGHT_TEST_RUN=shared bash scripts/test.sh) 2>&1 | sed -u "s|^|$name:test: |"
		((${PIPESTATUS[0]} == 0)) || rc=1
	done
	return $rc
}
shared_runs &
shared_pid=$!
npx turbo run lint typecheck --concurrency=2 --continue --output-logs=new-only
checks=$?
npx turbo run test --concurrency=2 --continue --output-logs=new-only "${measuring[@]/#/--filter=!}"
light=$?
wait "$shared_pid"
shared=$?

FIRESIGHT_TEST_RUN=alone npx turbo run test --concurrency=1 --continue --output-logs=new-only "${measuring[@]/#/--filter=}"
heavy=$?
for rc in $checks $light $shared $heavy; do ((rc == 0)) || exit "$rc"; done
