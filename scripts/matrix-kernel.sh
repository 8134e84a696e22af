#!/usr/bin/env bash
# Resolve the newest kernel of a Debian suite/flavour by package name, download
# it with apt (private config), unpack it into the cache keyed by package and
# version, and run depmod. Prints: <dir> <kernel release> <vmlinuz path>
#   scripts/matrix-kernel.sh SUITE ARCH FLAVOUR CACHE
set -euo pipefail
suite=$1 arch=$2 flavour=$3 cache=$4
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/private-apt.sh"
suites="$suite"
case "$suite" in *-backports) suites="${suite%-backports} $suite" ;; esac
papt_init "$cache/apt/$suite-$arch" "$arch" "$suites" >&2
meta=linux-image-$flavour
pkg=$(papt cache depends "$meta" 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
[ -n "$pkg" ] || { echo "matrix-kernel: $meta not found in $suite/$arch" >&2; exit 3; }
ver=$(papt cache policy "$pkg" | awk '/Candidate:/{print $2; exit}')
dir="$cache/kernels/${pkg}_${ver}"
kver=${pkg#linux-image-}
kver=${kver%-unsigned}
if [ ! -f "$dir/.done" ]; then
  rm -rf "$dir" && mkdir -p "$dir"
  (cd "$dir" && papt get -qq download "$pkg=$ver" >&2 && dpkg-deb -x ./*.deb root && rm -f ./*.deb)
  depmod -b "$dir/root" "$kver" 2>/dev/null || depmod -b "$dir/root/usr" "$kver"
  touch "$dir/.done"
fi
vmlinuz=$(ls "$dir"/root/boot/vmlinuz-* | head -n1)
echo "$dir $kver $vmlinuz"
