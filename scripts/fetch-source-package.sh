#!/usr/bin/env bash
# A Debian source package, unpacked, fetched with `apt-get source` through the private apt configuration
# (scripts/lib/private-apt.sh: the system's apt setup is left untouched). For the root test that builds a
# real package under `execlens collect -F compile-commands`. Idempotent: an unpacked tree is kept.
#   scripts/fetch-source-package.sh PKG DIR   -> DIR/PKG-VERSION/ (the path is printed)
set -euo pipefail
pkg=$1 dir=$2
cd "$(dirname "$0")/.."
existing=$(find "$dir" -mindepth 1 -maxdepth 1 -type d -name "$pkg-*" 2>/dev/null | head -n1 || true)
if [ -n "$existing" ] && [ -f "$existing/.fetched" ]; then echo "$existing"; exit 0; fi
source scripts/lib/private-apt.sh
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
papt_init "$work/apt" "$(dpkg --print-architecture)" "$suite" src >&2
mkdir -p "$dir"
(cd "$dir" && papt get -qq source "$pkg" >&2)
tree=$(find "$dir" -mindepth 1 -maxdepth 1 -type d -name "$pkg-*" | head -n1)
[ -n "$tree" ] || { echo "fetch-source-package: apt-get source $pkg unpacked nothing in $dir" >&2; exit 1; }
touch "$tree/.fetched"
echo "$tree"
