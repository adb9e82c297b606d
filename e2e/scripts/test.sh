#!/usr/bin/env bash
# The end-to-end tests, in two runs of node's test runner (scripts/test-in-two-runs.sh).
#
# Files whose hub is fed by a fake collector or by stored windows (no BPF, nothing sampled from
# this machine) run two at a time, first. The files that run the real `firesight up` or
# collector run one at a time after them, so that no other browser and hub take the CPU their
# workloads' shares and live pages depend on. A new file is one of those unless listed here.
set -uo pipefail
cd "$(dirname "$0")/.."

exec bash ../scripts/test-in-two-runs.sh \
	src/dashboard.test.ts \
	src/diff.test.ts \
	src/endpoint-cpu-unlabelled.test.ts \
	src/endpoint-cpu.test.ts \
	src/hosts.test.ts \
	src/live-pages.test.ts \
	src/login.test.ts \
	src/request-lifetime-cpu.test.ts \
	src/requests-p99-link.test.ts \
	src/share.test.ts
