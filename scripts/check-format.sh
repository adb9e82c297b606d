#!/usr/bin/env bash
# Fails when a C or C++ file of bpf/ or native/src/ is not as clang-format lays it out with the
# repository's .clang-format (kernel style); `--fix` rewrites them instead. The layout is the one
# of Debian 12's clang-format (14); other versions may differ in details.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v clang-format >/dev/null; then
	echo "check-format: clang-format is missing (Debian package clang-format; scripts/bootstrap.sh installs it)" >&2
	exit 1
fi

# Depth 1: bpf/build/ holds generated code (vmlinux.h, skeletons) that is not ours to format.
mapfile -t files < <(find bpf native/src -maxdepth 1 -type f \( -name '*.c' -o -name '*.h' -o -name '*.cc' \) | sort)

if [ "${1:-}" = "--fix" ]; then
	clang-format -i --style=file "${files[@]}"
	exit 0
fi
if ! clang-format --dry-run --Werror --style=file "${files[@]}"; then
	echo "check-format: the files above are not formatted; run: bash scripts/check-format.sh --fix" >&2
	exit 1
fi
