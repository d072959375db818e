#!/usr/bin/env python3
"""Prints the sizes of an ELF file's sections, from its section headers.

    ci/elf-sizes.py FILE [SECTION...]

Prints one `name size` line per section asked for (default: .vector_table .text .rodata
.data .bss), 0 for a section the file lacks. A few lines of `struct` instead of binutils:
ci/firmware.sh needs nothing installed to measure the firmware.
"""

import struct
import sys

DEFAULT_SECTIONS = [".vector_table", ".text", ".rodata", ".data", ".bss"]


def section_sizes(path):
    """Maps each section name of the ELF file at `path` to its size in bytes."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF":
        raise SystemExit(f"{path}: not an ELF file")
    wide = data[4] == 2  # EI_CLASS: 1 = 32-bit, 2 = 64-bit
    order = "<" if data[5] == 1 else ">"  # EI_DATA: 1 = little endian
    if wide:
        shoff, = struct.unpack_from(order + "Q", data, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from(order + "HHH", data, 0x3A)
        header = order + "IIQQQQIIQQ"
    else:
        shoff, = struct.unpack_from(order + "I", data, 0x20)
        shentsize, shnum, shstrndx = struct.unpack_from(order + "HHH", data, 0x2E)
        header = order + "IIIIIIIIII"
    headers = [struct.unpack_from(header, data, shoff + i * shentsize) for i in range(shnum)]
    # Fields: name, type, flags, addr, offset, size, link, info, addralign, entsize.
    names_at = headers[shstrndx][4]
    sizes = {}
    for h in headers:
        start = names_at + h[0]
        name = data[start:data.index(b"\0", start)].decode()
        sizes[name] = h[5]
    return sizes


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    sizes = section_sizes(sys.argv[1])
    for name in sys.argv[2:] or DEFAULT_SECTIONS:
        print(name, sizes.get(name, 0))


if __name__ == "__main__":
    main()
