#!/usr/bin/env python3
"""Cut the kernel's BTF out of a boot image that is not ELF (arm64 `Image`,
riscv64 `Image`, possibly gzip-compressed), for building a CO-RE object for an
arch other than the host's: vmlinux.h comes from this BTF.
  scripts/carve-btf.py VMLINUZ OUT.btf
The .BTF section is stored as is in the image: find the header (magic 0xeB9F,
version 1, 24-byte header) whose type and string sections fit, and keep the
largest such blob. bpftool then validates it (btf dump).
"""
import gzip
import struct
import sys


def image_bytes(path: str) -> bytes:
    data = open(path, 'rb').read()
    if data[:2] == b'\x1f\x8b':
        return gzip.decompress(data)
    return data


def carve(data: bytes) -> bytes:
    best = b''
    magic = b'\x9f\xeb\x01\x00'
    i = data.find(magic)
    while i >= 0:
        if i + 24 <= len(data):
            hdr_len, type_off, type_len, str_off, str_len = struct.unpack_from('<IIIII', data, i + 4)
            end = i + hdr_len + str_off + str_len
            if (hdr_len == 24 and type_off == 0 and str_off == type_len and type_len > 0 and str_len > 0
                    and end <= len(data) and data[i + hdr_len + str_off] == 0 and end - i > len(best)):
                best = data[i:end]
        i = data.find(magic, i + 1)
    return best


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    blob = carve(image_bytes(sys.argv[1]))
    if not blob:
        print(f'carve-btf: no BTF found in {sys.argv[1]} (kernel built without CONFIG_DEBUG_INFO_BTF?)', file=sys.stderr)
        return 1
    with open(sys.argv[2], 'wb') as f:
        f.write(blob)
    print(f'carve-btf: {len(blob)} bytes of BTF from {sys.argv[1]}', file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
