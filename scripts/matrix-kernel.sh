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
rel=()
# backports are not the candidate by default: make the named suite the default release
case "$suite" in *-backports) suites="${suite%-backports} $suite"; rel=(-o "APT::Default-Release=$suite") ;; esac
papt_init "$cache/apt/$suite-$arch" "$arch" "$suites" >&2
meta=linux-image-$flavour
pkg=$(papt cache "${rel[@]}" depends "$meta" 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
[ -n "$pkg" ] || { echo "matrix-kernel: $meta not found in $suite/$arch" >&2; exit 3; }
ver=$(papt cache "${rel[@]}" policy "$pkg" | awk '/Candidate:/{print $2; exit}')
dir="$cache/kernels/${pkg}_${ver}"
kver=${pkg#linux-image-}
kver=${kver%-unsigned}
if [ ! -f "$dir/.done" ]; then
  rm -rf "$dir" && mkdir -p "$dir"
  # the image package, plus where newer Debian packaging (sid, 7.x) moved the
  # kernel and modules: linux-binary-<kver> / linux-modules-<kver>
  extra=$(papt cache "${rel[@]}" depends "$pkg" 2>/dev/null | awk '/Depends: linux-(binary|modules)-/{print $2}' | sort -u)
  (cd "$dir" && papt get "${rel[@]}" -qq download "$pkg=$ver" $extra >&2 && for d in ./*.deb; do dpkg-deb -x "$d" root; done && rm -f ./*.deb)
  if [ -d "$dir/root/lib/modules/$kver" ]; then depmod -b "$dir/root" "$kver"
  elif [ -d "$dir/root/usr/lib/modules/$kver" ]; then depmod -b "$dir/root/usr" "$kver"
  fi
  touch "$dir/.done"
fi
# riscv64 packages name the (EFI-stub) Image vmlinux-<kver>
vmlinuz=$(find "$dir/root" \( -name "vmlinuz-$kver" -o -name "vmlinuz" -o -name "vmlinux-$kver" \) -type f | head -n1)
[ -n "$vmlinuz" ] || { echo "matrix-kernel: no vmlinuz in $pkg (and its linux-binary/modules packages)" >&2; exit 3; }
echo "$dir $kver $vmlinuz"
