#!/usr/bin/env bash
# Idempotent set-up for `npm start`, `npm test` and `npm run bench` on a fresh Debian machine:
# Debian packages that are missing, npm packages from the lockfile, then a turbo build.
set -euo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1 NEXT_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1

# Build chain (clang, libbpf, bpftool), the test peers (openssl, curl, nftables, perf, bpftrace;
# gcc and Debian's python3 for the unwinding known-answer tests; libssl's headers for a TLS
# fixture) and the browser for end-to-end tests.
debs=(clang clang-format llvm libbpf-dev bpftool libelf-dev zlib1g-dev pkg-config make g++ binutils
	openssl libssl-dev curl nftables iproute2 linux-perf bpftrace chromium golang-go gcc python3)
missing=()
for p in "${debs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
	echo "firesight: installing Debian packages: ${missing[*]}"
	if [ "$(id -u)" -ne 0 ]; then
		echo "firesight: run as root (or install these packages yourself): ${missing[*]}" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Tracepoint programs are attached through tracefs; some machines boot without it mounted.
if [ "$(id -u)" -eq 0 ] && [ -d /sys/kernel/tracing ] && ! mountpoint -q /sys/kernel/tracing; then
	mount -t tracefs nodev /sys/kernel/tracing || echo "firesight: could not mount tracefs; tracepoint programs may not attach" >&2
fi

# npm packages: reinstall only when the lockfile changed since the last install.
stamp=node_modules/.firesight-lock
want=$(sha256sum package-lock.json | cut -d' ' -f1)
scripts=
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
	echo "firesight: installing npm packages from the lockfile"
	npm ci --no-audit --no-fund --loglevel=error --ignore-scripts
	# The packages' install scripts (better-sqlite3 compiling SQLite: a minute on one core) run
	# beside the build, which needs none of them.
	npm rebuild --loglevel=error &
	scripts=$!
fi

built=0
npx turbo run build --output-logs=errors-only || built=$?
if [ -n "$scripts" ]; then
	wait "$scripts" || exit
	echo "$want" >"$stamp"
fi
exit "$built"
