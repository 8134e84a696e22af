#!/usr/bin/env bash
# Debian's busybox-static:i386 for the ia32 (compat execve) test, fetched with
# apt by package name through a private apt configuration. Idempotent.
#   -> build/i386/busybox
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/i386
[ -x "$out/busybox" ] && exit 0
source scripts/lib/private-apt.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
papt_init "$work/apt" i386 "bookworm"
(cd "$work" && papt get -qq download busybox-static)
dpkg-deb -x "$work"/busybox-static_*_i386.deb "$work/root"
mkdir -p "$out"
cp "$work/root/bin/busybox" "$out/busybox"
echo "fetch-ia32-busybox: $out/busybox ($(file -b "$out/busybox" 2>/dev/null | cut -d, -f1-2))"
