#!/usr/bin/env bash
# Debian's busybox-static of a 32-bit arch for the compat execve test (i386 on
# x86_64 hosts and guests, armhf for arm64 guests), fetched with apt by package
# name through a private apt configuration. Idempotent.
#   scripts/fetch-compat-busybox.sh [i386|armhf]   -> build/<arch>/busybox
set -euo pipefail
cd "$(dirname "$0")/.."
arch=${1:-i386}
out=build/$arch
[ -x "$out/busybox" ] && exit 0
source scripts/lib/private-apt.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
papt_init "$work/apt" "$arch" "bookworm"
(cd "$work" && papt get -qq download busybox-static)
dpkg-deb -x "$work"/busybox-static_*_"$arch".deb "$work/root"
mkdir -p "$out"
cp "$work/root/bin/busybox" "$out/busybox"
echo "fetch-compat-busybox: $out/busybox ($(file -b "$out/busybox" 2>/dev/null | cut -d, -f1-2))"
