#!/usr/bin/env bash
# Builds the hub and collector images from the committed tree (git archive HEAD, so nothing
# uncommitted goes in) and runs each once: the CLI's --version, the collector's --help, and a
# hub that answers /healthz on a free port.
#
#   sudo deploy/containers/build-and-smoke.sh [--stand-in-base] [--only hub|collector] [--smoke-only]
#
# --smoke-only runs images built before (localhost/firesight-{hub,collector}:smoke) again.
#
# Needs root and buildah (Debian package `buildah`), no daemon. With a registry to pull
# node:20-bookworm-slim from, that is all. Without one, --stand-in-base first makes a local image
# of that name: Debian bookworm made by debootstrap from this machine's Debian mirror
# ($DEBIAN_MIRROR, else the first URIs: line of /etc/apt/sources.list.d/debian.sources), plus this
# machine's Node 20 and npm with its npm settings (registry CA file, node-gyp headers), so the
# images' own `npm ci` and `apt-get` reach what this machine reaches.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
stand_in=0
only=''
smoke_only=0
while [ $# -gt 0 ]; do
	case "$1" in
	--stand-in-base) stand_in=1 ;;
	--only) only=$2; shift ;;
	--smoke-only) smoke_only=1 ;;
	*) echo "usage: $0 [--stand-in-base] [--only hub|collector] [--smoke-only]" >&2; exit 2 ;;
	esac
	shift
done
command -v buildah >/dev/null || { echo "buildah is not installed (apt-get install buildah)" >&2; exit 2; }

work=$(mktemp -d)
cleanup() {
	for c in "${containers[@]:-}"; do [ -n "$c" ] && buildah rm "$c" >/dev/null 2>&1 || true; done
	[ -n "${hub_pid:-}" ] && kill "$hub_pid" 2>/dev/null || true
	rm -rf "$work"
}
containers=()
trap cleanup EXIT

base=docker.io/library/node:20-bookworm-slim
if [ "$stand_in" = 1 ] && ! buildah inspect --type image "$base" >/dev/null 2>&1; then
	command -v debootstrap >/dev/null || { echo "debootstrap is not installed (apt-get install debootstrap)" >&2; exit 2; }
	mirror=${DEBIAN_MIRROR:-$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)}
	[ -n "$mirror" ] || { echo "no Debian mirror: set DEBIAN_MIRROR" >&2; exit 2; }
	node_major=$(node -p 'process.versions.node.split(".")[0]')
	[ "$node_major" = 20 ] || { echo "the stand-in base needs this machine's Node to be 20, not $node_major" >&2; exit 2; }
	rootfs=$work/rootfs
	echo "== stand-in $base: debootstrap bookworm from $mirror"
	debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log"
	npm_root=$(npm root -g)
	mkdir -p "$rootfs/usr/lib" "$rootfs/usr/etc" "$rootfs/usr/include"
	cp -a "$(command -v node)" "$rootfs/usr/bin/node"
	cp -a "$npm_root" "$rootfs/usr/lib/"
	ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/bin/npm"
	ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/bin/npx"
	[ -d /usr/include/node ] && cp -a /usr/include/node "$rootfs/usr/include/"
	# npm's settings, and the CA file they name, as npm on this machine reads them.
	for rc in /etc/npmrc "$(npm config get globalconfig)"; do
		[ -f "$rc" ] || continue
		mkdir -p "$rootfs$(dirname "$rc")" && cp "$rc" "$rootfs$rc"
		ca=$(sed -n 's/^cafile *= *//p' "$rc" | head -1)
		[ -n "$ca" ] && [ -f "$ca" ] && mkdir -p "$rootfs$(dirname "$ca")" && cp "$ca" "$rootfs$ca"
	done
	# node-gyp takes Node's headers from here instead of downloading them (turbo passes no
	# npm_config_* variables on to the builds, so this goes into npm's global settings).
	if [ -d /usr/include/node ]; then
		global_rc=$(npm config get globalconfig)
		mkdir -p "$rootfs$(dirname "$global_rc")" && echo 'nodedir=/usr' >>"$rootfs$global_rc"
	fi
	chroot "$rootfs" sh -c 'groupadd -g 1000 node && useradd -u 1000 -g node -s /bin/bash -m node'
	c=$(buildah from scratch)
	containers+=("$c")
	cp -a "$rootfs/." "$(buildah mount "$c")/"
	buildah umount "$c" >/dev/null
	buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd node "$c"
	buildah commit -q "$c" "$base" >/dev/null
	rm -rf "$rootfs"
fi

context=$work/context
mkdir -p "$context"
git -C "$repo" archive HEAD | tar -x -C "$context"
cli=/opt/firesight/apps/collector/bin/firesight.js

build() {
	echo "== build firesight-$1 ($(git -C "$repo" rev-parse --short HEAD))"
	buildah bud --pull=never --isolation chroot --layers -f "$context/deploy/containers/$1.Dockerfile" \
		-t "localhost/firesight-$1:smoke" "$context"
}

smoke_hub() {
	local c port
	c=$(buildah from "localhost/firesight-hub:smoke")
	containers+=("$c")
	buildah run --isolation chroot --user node "$c" -- node "$cli" --version
	port=$(node -e 's=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
	buildah run --isolation chroot --user node "$c" -- node "$cli" hub --listen "127.0.0.1:$port" \
		--data /var/lib/firesight --token smoke-token-0123456789 >"$work/hub.log" 2>&1 &
	hub_pid=$!
	for _ in $(seq 1 240); do
		if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
			# The dashboard is in the image too: its login page renders.
			curl -fsS "http://127.0.0.1:$port/login" | grep -q '<html' || { echo "the hub image serves no dashboard page" >&2; return 1; }
			echo "== hub image answers /healthz and serves the dashboard on port $port"
			kill "$hub_pid"; wait "$hub_pid" 2>/dev/null || true; hub_pid=''
			return 0
		fi
		kill -0 "$hub_pid" 2>/dev/null || break
		sleep 0.5
	done
	cat "$work/hub.log" >&2
	echo "the hub image did not answer /healthz" >&2
	return 1
}

smoke_collector() {
	local c
	c=$(buildah from "localhost/firesight-collector:smoke")
	containers+=("$c")
	buildah run --isolation chroot "$c" -- node "$cli" --version
	buildah run --isolation chroot "$c" -- node "$cli" collector --help >/dev/null
	echo "== collector image runs its CLI"
}

for image in hub collector; do
	[ -n "$only" ] && [ "$only" != "$image" ] && continue
	[ "$smoke_only" = 1 ] || build "$image"
	"smoke_$image"
done
echo "== images built and run"
