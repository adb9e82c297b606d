#!/usr/bin/env bash
# A workspace's tests in two runs of node's test runner, from the workspace's directory: the
# files named as arguments two at a time, then every other *.test.ts under src one at a time.
# The caller says which of its files may share the CPU and why; a file not named runs alone.
# FIRESIGHT_TEST_RUN=shared or =alone runs only that part (scripts/test.sh runs the shared part
# beside the workspaces that measure nothing); both, one after the other, when unset.
# Both runs go on past a failure; the exit code is the first failing run's.
set -uo pipefail

run=${FIRESIGHT_TEST_RUN:-both}
case $run in
shared | alone | both) ;;
*)
	echo "test-in-two-runs.sh: FIRESIGHT_TEST_RUN must be shared, alone or unset, got '$run'" >&2
	exit 2
	;;
esac

shared=("$@")
alone=()
while IFS= read -r file; do
	[[ " ${shared[*]} " == *" $file "* ]] || alone+=("$file")
done < <(find src -name '*.test.ts' | sort)

first=0
second=0
if [[ $run != alone ]]; then
	node --import tsx --test --test-timeout=300000 --test-concurrency=2 "${shared[@]}"
	first=$?
fi
if [[ $run != shared ]]; then
	node --import tsx --test --test-timeout=300000 --test-concurrency=1 "${alone[@]}"
	second=$?
fi
exit $((first != 0 ? first : second))
