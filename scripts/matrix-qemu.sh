#!/usr/bin/env bash
# A newer QEMU for riscv64 guests, unpacked into the cache (not installed):
# bookworm's QEMU 7.2 emulates no RVA23 CPU, and Node's native addons for
# riscv64 (koffi) are built for RVA23 (zicond, zcb, zfa, ...): they die of SIGILL.
# bookworm-backports has QEMU 10 with `-cpu rva23s64`; its libraries are
# bookworm's. Fetched by package name through the private apt configuration.
# Prints: <qemu-system-riscv64 path> <OpenSBI firmware path>
#   scripts/matrix-qemu.sh CACHE
set -euo pipefail
cache=$1
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/private-apt.sh"
dir="$cache/qemu/riscv64-bookworm-backports"
if [ ! -f "$dir/.done" ]; then
  papt_init "$cache/apt/bookworm-backports-amd64" amd64 "bookworm bookworm-backports" >&2
  rm -rf "$dir" && mkdir -p "$dir"
  (cd "$dir" && papt get -o APT::Default-Release=bookworm-backports -qq download qemu-system-riscv opensbi >&2 \
    && for d in ./*.deb; do dpkg-deb -x "$d" root; done && rm -f ./*.deb)
  missing=$(ldd "$dir/root/usr/bin/qemu-system-riscv64" | awk '/not found/{print $1}')
  [ -z "$missing" ] || { echo "matrix-qemu: qemu-system-riscv64 needs libraries this host lacks: $missing" >&2; exit 3; }
  touch "$dir/.done"
fi
echo "$dir/root/usr/bin/qemu-system-riscv64 $dir/root/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin"
