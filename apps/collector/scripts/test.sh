#!/usr/bin/env bash
# The collector's tests, in two runs of node's test runner (scripts/test-in-two-runs.sh).
#
# Files that compare CPU (shares against perf, samples per second and per CPU, stacks walked
# under a known workload, process churn) run one at a time, so that no other test takes the CPU
# they measure. The rest mostly wait on hubs, stores, sockets and child processes (the lifecycle
# tests follow their own collector's kernel objects by id, not the host's; the TLS capture tests
# load captures of their own peers' pids, and the retransmit test counts in its own namespaces):
# they run two files at a time, before the others. A new file is one of the measuring ones unless
# it is listed below.
set -uo pipefail
cd "$(dirname "$0")/.."

exec bash ../../scripts/test-in-two-runs.sh \
	src/collector-lifecycle.test.ts \
	src/commands/args-fuzz.test.ts \
	src/commands/cli-input.test.ts \
	src/commands/collector-auth.test.ts \
	src/commands/hub-access-options.test.ts \
	src/commands/query-profile-endpoint.test.ts \
	src/commands/query-requests.test.ts \
	src/commands/query.test.ts \
	src/commands/share.test.ts \
	src/commands/token-and-store-options.test.ts \
	src/drop-descriptions.test.ts \
	src/fleet.test.ts \
	src/hub-backpressure.test.ts \
	src/hub-outage.test.ts \
	src/hub-stream.test.ts \
	src/profiling/symbolize-window.test.ts \
	src/profiling/unwind/executable-mappings.test.ts \
	src/profiling/unwind/mapping-tracker.test.ts \
	src/profiling/unwind/table-builder.test.ts \
	src/request-attribution.test.ts \
	src/spool.test.ts \
	src/tcp/connection-table.test.ts \
	src/tcp/retransmit-loss.test.ts \
	src/tcp/tcp-feature.test.ts \
	src/tls-caps.test.ts \
	src/tls-socket-ties.test.ts \
	src/tls/request-aggregates.test.ts \
	src/tls/target-discovery.test.ts \
	src/tls/tls-capture.test.ts \
	src/tls/tls-feature.test.ts
