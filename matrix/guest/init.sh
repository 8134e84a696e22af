#!/bin/busybox sh
# Guest /init: load virtiofs, mount the host root read-only, prepare a chroot
# with fresh proc/sys/dev/bpffs/tracefs and tmpfs scratch on /run, run the payload,
# print its results between markers on the console, power off.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
echo "EXECLENS-GUEST: kernel $(uname -r) booted"
while read -r m; do
  [ -n "$m" ] && insmod "/modules/$m" 2>/dev/null
done < /modules.order
mkdir -p /mnt
if ! mount -t virtiofs hostroot /mnt -o ro; then
  echo "EXECLENS-GUEST: cannot mount virtiofs host root"
  poweroff -f
fi
mount -t proc proc /mnt/proc
mount -t sysfs sys /mnt/sys
mount -t devtmpfs dev /mnt/dev
mkdir -p /mnt/dev/pts 2>/dev/null; mount -t devpts devpts /mnt/dev/pts 2>/dev/null
mount -t bpf bpf /mnt/sys/fs/bpf 2>/dev/null
mount -t tracefs tracefs /mnt/sys/kernel/tracing 2>/dev/null
mount -t debugfs debugfs /mnt/sys/kernel/debug 2>/dev/null
# writable scratch only where nothing of the host is hidden: the checkout may
# live under /tmp or /root (the payload sets TMPDIR=/run/tmp)
for d in run boot; do mount -t tmpfs tmpfs "/mnt/$d"; done
cp /config-* /mnt/boot/ 2>/dev/null
cp /payload.sh /mnt/run/payload.sh
echo "EXECLENS-GUEST: payload start"
chroot /mnt /bin/sh /run/payload.sh
echo "EXECLENS-GUEST: payload exit $?"
sync
poweroff -f
