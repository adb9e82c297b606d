#!/usr/bin/env bash
# A throw-away ClickHouse server for tests and for trying the ClickHouse store:
#
#   scripts/clickhouse.sh start [--port N] [--dir DIR]   prints clickhouse://127.0.0.1:PORT/firesight
#   scripts/clickhouse.sh stop [--dir DIR]               stops it and deletes its data
#   scripts/clickhouse.sh url [--dir DIR]                prints the URL of the running server
#
# Installs Debian's clickhouse-server when it is missing (as root). The server listens on
# 127.0.0.1 only, HTTP alone (no native, interserver or TLS port), keeps its data, logs and PID
# file in DIR ($FIRESIGHT_CLICKHOUSE_DIR, or firesight-clickhouse under $TMPDIR), and is started
# from a config file written there. Starting a running server again prints its URL.
set -euo pipefail

usage() {
	echo "usage: scripts/clickhouse.sh start|stop|url [--port N] [--dir DIR]" >&2
	exit 2
}

cmd=${1:-}
[ $# -gt 0 ] && shift
port=${FIRESIGHT_CLICKHOUSE_PORT:-}
dir=${FIRESIGHT_CLICKHOUSE_DIR:-${TMPDIR:-/tmp}/firesight-clickhouse}
while [ $# -gt 0 ]; do
	case $1 in
	--port) port=${2:?--port needs a number}; shift 2 ;;
	--dir) dir=${2:?--dir needs a directory}; shift 2 ;;
	*) usage ;;
	esac
done
case $cmd in start | stop | url) ;; *) usage ;; esac
if [ -n "$port" ] && ! [[ $port =~ ^[0-9]+$ && $port -gt 0 && $port -lt 65536 ]]; then
	echo "clickhouse.sh: --port must be a port number, got '$port'" >&2
	exit 2
fi
pidfile=$dir/clickhouse.pid
portfile=$dir/port
database=firesight

# The PID file names a live clickhouse-server (not a process that reused the number).
running() {
	[ -f "$pidfile" ] && grep -q clickhouse "/proc/$(cat "$pidfile")/cmdline" 2>/dev/null
}

# True when the server on $1 answers /ping (bash's /dev/tcp: no curl needed).
answers() {
	local reply
	reply=$(
		exec 2>/dev/null
		exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf 'GET /ping HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
		timeout 2 cat <&3
	) || return 1
	[[ $reply == *"Ok."* ]]
}

print_url() {
	echo "clickhouse://127.0.0.1:$(cat "$portfile")/$database"
}

install_server() {
	command -v clickhouse-server >/dev/null && return 0
	[ -x /usr/sbin/clickhouse-server ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "clickhouse.sh: clickhouse-server is not installed; run as root, or: apt-get install clickhouse-server" >&2
		return 1
	fi
	echo "clickhouse.sh: installing Debian's clickhouse-server" >&2
	export DEBIAN_FRONTEND=noninteractive
	# Wait for another apt run rather than fail on its lock.
	apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
	apt-get -o DPkg::Lock::Timeout=600 install -y -qq clickhouse-server >&2
}

free_port() {
	node -e "const s = require('node:net').createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); });"
}

write_config() {
	# Only what this server needs. 18.16 sends no telemetry; the caches are kept small for a
	# test machine; the default user may come from loopback only.
	cat >"$dir/config.xml" <<EOF
<?xml version="1.0"?>
<yandex>
	<logger>
		<level>warning</level>
		<log>$dir/log/clickhouse-server.log</log>
		<errorlog>$dir/log/clickhouse-server.err.log</errorlog>
		<size>10M</size>
		<count>1</count>
	</logger>
	<listen_host>127.0.0.1</listen_host>
	<http_port>$1</http_port>
	<path>$dir/data/</path>
	<tmp_path>$dir/tmp/</tmp_path>
	<user_files_path>$dir/user_files/</user_files_path>
	<format_schema_path>$dir/format_schemas/</format_schema_path>
	<timezone>UTC</timezone>
	<mark_cache_size>268435456</mark_cache_size>
	<uncompressed_cache_size>268435456</uncompressed_cache_size>
	<max_concurrent_queries>64</max_concurrent_queries>
	<users>
		<default>
			<password></password>
			<networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
			<profile>default</profile>
			<quota>default</quota>
		</default>
	</users>
	<profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
	<quotas><default></default></quotas>
</yandex>
EOF
}

start() {
	if running && [ -f "$portfile" ] && answers "$(cat "$portfile")"; then
		print_url
		return 0
	fi
	install_server
	local server
	server=$(command -v clickhouse-server || echo /usr/sbin/clickhouse-server)
	if running; then
		kill "$(cat "$pidfile")" 2>/dev/null || true
		sleep 1
	fi
	mkdir -p "$dir/log" "$dir/data" "$dir/tmp" "$dir/user_files" "$dir/format_schemas"
	[ -n "$port" ] || port=$(free_port)
	write_config "$port"
	echo "$port" >"$portfile"
	# setsid: the server outlives this script and the shell that ran it, until `stop`.
	setsid "$server" --config-file="$dir/config.xml" >"$dir/log/stdout.log" 2>&1 </dev/null &
	echo $! >"$pidfile"
	local deadline=$((SECONDS + 60))
	until answers "$port"; do
		if ! running; then
			echo "clickhouse.sh: clickhouse-server exited; its log:" >&2
			tail -n 20 "$dir/log/clickhouse-server.err.log" "$dir/log/stdout.log" >&2 2>/dev/null || true
			return 1
		fi
		if [ $SECONDS -ge $deadline ]; then
			echo "clickhouse.sh: clickhouse-server did not answer on 127.0.0.1:$port within 60 s" >&2
			stop
			return 1
		fi
		sleep 0.2
	done
	print_url
}

stop() {
	if running; then
		local pid deadline=$((SECONDS + 30))
		pid=$(cat "$pidfile")
		kill "$pid"
		while kill -0 "$pid" 2>/dev/null; do
			if [ $SECONDS -ge $deadline ]; then
				kill -9 "$pid" 2>/dev/null || true
				break
			fi
			sleep 0.2
		done
	fi
	# Only a directory this script made: it holds our config file (or nothing at all).
	if [ -d "$dir" ] && { [ -f "$dir/config.xml" ] || [ -z "$(ls -A "$dir")" ]; }; then
		rm -rf "$dir"
	fi
}

case $cmd in
start) start ;;
stop) stop ;;
url)
	if running && [ -f "$portfile" ]; then print_url; else
		echo "clickhouse.sh: no server running in $dir" >&2
		exit 1
	fi
	;;
esac
