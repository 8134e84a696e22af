#!/usr/bin/env bash
# Build a cell's initramfs: static busybox, the kernel's own virtiofs modules in
# dependency order (decompressed: busybox insmod cannot read .xz/.zst), the
# kernel config, the guest init and the payload.
#   scripts/matrix-initramfs.sh KDIR KVER PAYLOAD OUT [CHROOT_ROOT CHECKOUT]
# With CHROOT_ROOT (a foreign-arch Debian root, scripts/matrix-rootfs.sh), the
# guest's busybox is that root's and the payload runs chrooted there, the
# checkout bound in at its own path.
set -euo pipefail
kdir=$1 kver=$2 payload=$3 out=$4 croot=${5:-} checkout=${6:-}
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"/{bin,proc,sys,dev,mnt,modules}
if [ -n "$croot" ]; then
  cp "$croot/bin/busybox" "$tmp/bin/busybox"
  echo "$croot" > "$tmp/chroot-root"
  echo "$checkout" > "$tmp/checkout"
else
  cp /bin/busybox "$tmp/bin/busybox"
fi
cp "$here/matrix/guest/init.sh" "$tmp/init"
chmod +x "$tmp/init"
cp "$payload" "$tmp/payload.sh"
cfg=$(find "$kdir/root" -name "config-$kver" -type f | head -n1)
[ -n "$cfg" ] && cp "$cfg" "$tmp/config-$kver"
modroot="$kdir/root"
[ -d "$modroot/lib/modules/$kver" ] || modroot="$kdir/root/usr"
: > "$tmp/modules.order"
# virtiofs and what it needs; built-in ones print "builtin" and are skipped
for m in virtio_pci virtiofs; do
  modprobe -d "$modroot" -S "$kver" --show-depends "$m" 2>/dev/null | awk '$1=="insmod"{print $2}' || true
done | awk '!seen[$0]++' | while read -r ko; do
  base=$(basename "$ko"); name=${base%.xz}; name=${name%.zst}; name=${name%.gz}
  case "$ko" in
    *.xz) xz -dc "$ko" > "$tmp/modules/$name" ;;
    *.zst) zstd -qdc "$ko" > "$tmp/modules/$name" ;;
    *.gz) gzip -dc "$ko" > "$tmp/modules/$name" ;;
    *) cp "$ko" "$tmp/modules/$name" ;;
  esac
  echo "$name" >> "$tmp/modules.order"
done
(cd "$tmp" && find . | cpio -o -H newc --quiet | gzip -1) > "$out"
