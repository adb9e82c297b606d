#!/usr/bin/env bash
# A workspace's tests in two runs of node's test runner, from the workspace's directory: the
# files named as arguments two at a time, then every other *.test.ts under src one at a time.
# The caller says which of its files may share the CPU and why; a file not named runs alone.
# Both runs go on past a failure; the exit code is the first failing run's.
set -uo pipefail

shared=("$@")
alone=()
while IFS= read -r file; do
	[[ " ${shared[*]} " == *" $file "* ]] || alone+=("$file")
done < <(find src -name '*.test.ts' | sort)

node --import tsx --test --test-timeout=300000 --test-concurrency=2 "${shared[@]}"
first=$?
node --import tsx --test --test-timeout=300000 --test-concurrency=1 "${alone[@]}"
second=$?
exit $((first != 0 ? first : second))
