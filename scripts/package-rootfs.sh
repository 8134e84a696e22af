#!/usr/bin/env bash
# A fresh Debian root for the package test (test/root/package.test.ts): debootstrap minbase of the host's
# suite and arch, plus libbpf1 and Debian's nodejs (bookworm: Node 18, the oldest package.json's engines
# allows) and nothing of the build (no compiler, no clang, no bpftool). The test also brings the host's
# node binary, for npm. Built once, cached by suite/arch/package list; prints the root.
#   scripts/package-rootfs.sh CACHE
set -euo pipefail
cache=$1
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
arch=$(dpkg --print-architecture)
root="$cache/roots/package-$suite-$arch"
# bump when the package list changes: the cached root is rebuilt
stamp="v1 libbpf1 nodejs"
if [ -f "$root/.done" ] && [ "$(cat "$root/.done")" = "$stamp" ]; then echo "$root"; exit 0; fi
command -v debootstrap >/dev/null || { echo "package-rootfs: debootstrap not found (apt-get install debootstrap)" >&2; exit 2; }
source "$(dirname "$0")/lib/private-apt.sh"
mirror=$(papt_mirror)
rm -rf "$root" && mkdir -p "$root"
echo "package-rootfs: debootstrap $suite $arch from $mirror (a minute or two, once)" >&2
debootstrap --variant=minbase --include="${stamp#v1 }" "$suite" "$root" "$mirror" >&2
rm -rf "$root/var/cache/apt/archives/"*.deb
echo "$stamp" > "$root/.done"
echo "$root"
