#!/usr/bin/env bash
# Build the ptrace backend's helper (native/ptrace) with the system C compiler.
#   CC=aarch64-linux-gnu-gcc OUT=build/matrix/native-arm64 scripts/build-native.sh   (cross-build for a guest)
#   NATIVE_LDFLAGS=-static ...                                                    (what npm pack ships)
set -euo pipefail
cd "$(dirname "$0")/.."
CC=${CC:-cc}
OUT=${OUT:-build/native}
mkdir -p "$OUT"
# NATIVE_LDFLAGS=-static: the helper npm pack ships runs on any libc (it uses no NSS)
"$CC" -O2 -g -Wall -Wextra -I bpf/include -o "$OUT/execlens-ptrace.tmp" native/ptrace/execlens-ptrace.c ${NATIVE_LDFLAGS:-}
mv "$OUT/execlens-ptrace.tmp" "$OUT/execlens-ptrace"
echo "build-native: $OUT/execlens-ptrace ($("$CC" --version | head -n1))"
# test programs beside it (test/root/*.test.ts find them next to the helper): built with the same compiler, so
# a guest of another arch, which has no compiler, has them too; not part of the package (build/native is not)
mkdir -p "$OUT/test"
"$CC" -O2 -Wall -Wextra -o "$OUT/test/efault-exec" test/programs/efault-exec.c ${NATIVE_LDFLAGS:-}

# The x32 test program (test/root/x32.test.ts), where the compiler can target x32 (x86_64 with Debian's
# libc6-dev-x32 and libx32gcc-12-dev): not part of the product, a static binary the test runs.
if [ "$(uname -m)" = x86_64 ] && [ "$CC" = cc ] && [ -z "${NATIVE_LDFLAGS:-}" ]; then
  # the kernel headers' asm/ from the amd64 directory (its unistd.h picks the x32 numbers by __ILP32__):
  # without gcc-multilib (which conflicts with the cross compilers) -mx32 has no asm/ of its own
  x32flags=(-mx32 -static -idirafter /usr/include/x86_64-linux-gnu)
  if printf '#include <sys/syscall.h>\nint main(void){return SYS_execveat;}\n' | "$CC" "${x32flags[@]}" -x c - -o /dev/null 2>/dev/null; then
    mkdir -p build/x32
    "$CC" "${x32flags[@]}" -O2 -Wall -Wextra -o build/x32/x32-exec.tmp test/programs/x32-exec.c
    mv build/x32/x32-exec.tmp build/x32/x32-exec
    echo "build-native: build/x32/x32-exec (x32, static)"
  else
    echo "build-native: no x32 toolchain (apt: libc6-dev-x32 libx32gcc-12-dev): the x32 test will skip" >&2
  fi
fi
