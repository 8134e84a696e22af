#!/usr/bin/env bash
# A foreign-arch userspace for arm64/riscv64 guests (the host root is amd64):
# debootstrap of a Debian suite with Node, libbpf, bpftool and what the root
# tests run, the second stage run here through qemu-user-static (binfmt_misc).
# Built once, cached by suite/arch; prints the root's path.
#   scripts/matrix-rootfs.sh SUITE ARCH CACHE      (ARCH: Debian's name, arm64 or riscv64)
set -euo pipefail
suite=$1 arch=$2 cache=$3
root="$cache/roots/$suite-$arch"
# bump when the package list changes: the cached root is rebuilt
stamp="v1 nodejs libbpf1 bpftool busybox-static python3 procps passwd login util-linux gzip findutils"
if [ -f "$root/.done" ] && [ "$(cat "$root/.done")" = "$stamp" ]; then echo "$root"; exit 0; fi
case "$arch" in arm64) q=aarch64 ;; riscv64) q=riscv64 ;; *) echo "matrix-rootfs: no foreign root for $arch" >&2; exit 2 ;; esac
for b in debootstrap "qemu-$q-static" update-binfmts; do
  command -v "$b" >/dev/null || { echo "matrix-rootfs: $b not found (apt-get install debootstrap qemu-user-static binfmt-support)" >&2; exit 2; }
done
[ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
[ -e "/proc/sys/fs/binfmt_misc/qemu-$q" ] || update-binfmts --enable "qemu-$q"
# the registration has no F flag: the interpreter must exist at its path inside the chroot
interp=$(awk '/^interpreter/{print $2}' "/proc/sys/fs/binfmt_misc/qemu-$q")
source "$(dirname "$0")/lib/private-apt.sh"
mirror=$(papt_mirror)
rm -rf "$root" && mkdir -p "$root"
pkgs=${stamp#v1 }
echo "matrix-rootfs: debootstrap $suite $arch from $mirror (a few minutes, once)" >&2
debootstrap --arch="$arch" --variant=minbase --foreign --include="${pkgs// /,}" "$suite" "$root" "$mirror" >&2
mkdir -p "$root$(dirname "$interp")"
cp "/usr/bin/qemu-$q-static" "$root$interp"
chroot "$root" /debootstrap/debootstrap --second-stage >&2
rm -f "$root$interp"
rm -rf "$root/var/cache/apt/archives/"*.deb
echo "$stamp" > "$root/.done"
echo "$root"
