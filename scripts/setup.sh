#!/usr/bin/env bash
# Everything a fresh Debian 12 machine needs: apt packages, npm packages, the
# BPF object and TypeScript build, and the i386 busybox for the ia32 test.
# Idempotent: a second run only rebuilds.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
# clang/llvm/libbpf/bpftool: BPF build and load. gcc: the ptrace backend's helper. qemu-system-x86, busybox-static,
# cpio, kmod, xz-utils, zstd: the kernel-matrix cell that runs in the test suite.
# strace, bpftrace, time: the peers and the CPU/RSS figures of `npm run bench`. sudo: the README runs
# execlens with it (a fresh root machine may not have it). make, dpkg-dev (apt-get source unpacks with
# dpkg-source), bear: the compile_commands.json test builds zlib from Debian's source and compares with bear.
# jq: the streams test pipes the events into it. tmux: the `execlens tui` tests (a real terminal).
# npm pack (prepack) and its test: the cross compilers of the static ptrace helpers for arm64 and riscv64,
# debootstrap for the fresh root the package is installed into, zsh/fish/man-db to run the completions and
# the man page.
pkgs=(clang llvm libbpf-dev libbpf1 bpftool python3 file gcc libc6-dev
      qemu-system-x86 busybox-static cpio kmod xz-utils zstd gzip
      strace bpftrace time sudo make dpkg-dev bear jq tmux
      gcc-aarch64-linux-gnu libc6-dev-arm64-cross gcc-riscv64-linux-gnu libc6-dev-riscv64-cross
      debootstrap zsh fish man-db)
pkgs+=(lcov)  # genhtml: the HTML report of npm run coverage (docs/coverage.md)
need=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: apt-get install ${need[*]}"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
# the x32 test program (scripts/build-native.sh, test/root/x32.test.ts), x86_64 only, without the packages
# they recommend: gcc-multilib conflicts with the arm64/riscv64 cross compilers above (apt removes those)
if [ "$(uname -m)" = x86_64 ]; then
  x32=()
  for p in libc6-dev-x32 libx32gcc-12-dev; do dpkg -s "$p" >/dev/null 2>&1 || x32+=("$p"); done
  if [ ${#x32[@]} -gt 0 ]; then
    echo "setup: apt-get install --no-install-recommends ${x32[*]}"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${x32[@]}" >/dev/null
  fi
fi
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run --silent build
./scripts/fetch-compat-busybox.sh i386 || echo "setup: could not fetch busybox-static:i386; the ia32 test will skip" >&2
