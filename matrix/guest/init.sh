#!/bin/busybox sh
# Guest /init: load virtiofs, mount the host root read-only, prepare a chroot
# with fresh proc/sys/dev/bpffs/tracefs and tmpfs scratch on /run, run the payload,
# print its results between markers on the console, power off.
# A guest of another arch chroots into its own Debian root (a path of the host
# root named in /chroot-root), with the checkout (/checkout) bound into it.
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
R=/mnt
if [ -f /chroot-root ]; then
  R=/mnt$(cat /chroot-root)
  co=$(cat /checkout)
  if ! mount --bind "/mnt$co" "$R$co"; then
    echo "EXECLENS-GUEST: cannot bind the checkout $co into $R"
    poweroff -f
  fi
fi
mount -t proc proc $R/proc
mount -t sysfs sys $R/sys
mount -t devtmpfs dev $R/dev
mkdir -p $R/dev/pts 2>/dev/null; mount -t devpts devpts $R/dev/pts 2>/dev/null
# the links udev/systemd make on a real system (devtmpfs has none). Without /dev/fd an exec by fd fails with
# ENOENT on kernels with TOMOYO in their LSM list (Debian's 5.10): tomoyo_find_next_domain() looks up
# bprm->filename, which is "/dev/fd/N[/NAME]" for execveat(N, ...) and fexecve
ln -s /proc/self/fd $R/dev/fd 2>/dev/null
for i in 0:stdin 1:stdout 2:stderr; do ln -s "/proc/self/fd/${i%%:*}" "$R/dev/${i#*:}" 2>/dev/null; done
mount -t bpf bpf $R/sys/fs/bpf 2>/dev/null
mount -t tracefs tracefs $R/sys/kernel/tracing 2>/dev/null
mount -t debugfs debugfs $R/sys/kernel/debug 2>/dev/null
# writable scratch only where nothing of the host is hidden: the checkout may
# live under /tmp or /root (the payload sets TMPDIR=/run/tmp)
for d in run boot; do mount -t tmpfs tmpfs "$R/$d"; done
cp /config-* $R/boot/ 2>/dev/null
cp /payload.sh $R/run/payload.sh
echo "EXECLENS-GUEST: payload start"
chroot $R /bin/sh /run/payload.sh
echo "EXECLENS-GUEST: payload exit $?"
sync
poweroff -f
