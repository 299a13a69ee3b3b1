"""A tiny writer of legacy .xls workbooks (BIFF8 in an OLE2 compound document) for tests.

No maintained writer for the legacy format is installed (xlwt is archived), so the tests
build the few records xlrd needs: BOF, BOUNDSHEET, LABEL (unicode strings) and EOF.
"""

from __future__ import annotations

import struct


def rec(rtype, data):
    return struct.pack("<HH", rtype, len(data)) + data


def bof(kind):
    # BIFF8 BOF: version 0x0600, type, build, year, history, lowest version
    return rec(0x0809, struct.pack("<HHHHII", 0x0600, kind, 0x0DBB, 0x07CC, 0, 0x0600))


def ustr(text, lenlen):
    raw = text.encode("utf-16-le")
    head = struct.pack("<B" if lenlen == 1 else "<H", len(text))
    return head + b"\x01" + raw


def xls_bytes(sheets):
    """A bare BIFF8 workbook stream (no OLE container): xlrd reads it."""
    sheet_streams = []
    for _name, rows in sheets.items():
        body = bof(0x0010)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None:
                    continue
                body += rec(0x0204, struct.pack("<HHH", r, c, 0) + ustr(str(value), 2))
        body += rec(0x000A, b"")
        sheet_streams.append(body)
    names = list(sheets)

    def globals_(offsets):
        g = bof(0x0005)
        for name, off in zip(names, offsets, strict=True):
            g += rec(0x0085, struct.pack("<IBB", off, 0, 0) + ustr(name, 1))
        return g + rec(0x000A, b"")

    size = len(globals_([0] * len(names)))
    offsets, pos = [], size
    for s in sheet_streams:
        offsets.append(pos)
        pos += len(s)
    return globals_(offsets) + b"".join(sheet_streams)


def ole_wrap(stream: bytes, name: str = "Workbook") -> bytes:
    """Wrap a stream in a minimal OLE2 compound document (version 3, 512-byte sectors)."""
    ENDOFCHAIN, FREESECT, FATSECT, NOSTREAM = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
    if len(stream) < 4096:  # stay out of the mini stream
        stream = stream + b"\0" * (4096 - len(stream))
    size = len(stream)
    stream += b"\0" * (-len(stream) % 512)
    n = len(stream) // 512
    fat_count = 1
    while n + 1 + fat_count > 128 * fat_count:
        fat_count += 1
    assert fat_count <= 109, "stream too large for a header-only DIFAT"
    dir_sector = n
    fat_sectors = list(range(n + 1, n + 1 + fat_count))
    fat = [i + 1 for i in range(n - 1)] + [ENDOFCHAIN, ENDOFCHAIN] + [FATSECT] * fat_count
    fat += [FREESECT] * (128 * fat_count - len(fat))

    def entry(ename, etype, child, start, length):
        raw = (ename + "\0").encode("utf-16-le") if ename else b""
        return (
            raw.ljust(64, b"\0")
            + struct.pack("<HBB", len(raw), etype, 1)
            + struct.pack("<III", NOSTREAM, NOSTREAM, child)
            + b"\0" * 16
            + struct.pack("<I", 0)
            + b"\0" * 16
            + struct.pack("<III", start, length, 0)
        )

    directory = (
        entry("Root Entry", 5, 1, ENDOFCHAIN, 0)
        + entry(name, 2, NOSTREAM, 0, size)
        + entry("", 0, NOSTREAM, 0, 0)
        + entry("", 0, NOSTREAM, 0, 0)
    )
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\0" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\0" * 6
        + struct.pack("<IIIIIIIII", 0, fat_count, dir_sector, 0, 4096, ENDOFCHAIN, 0, ENDOFCHAIN, 0)
        + struct.pack(f"<{fat_count}I", *fat_sectors)
        + struct.pack("<I", FREESECT) * (109 - fat_count)
    )
    assert len(header) == 512 and len(directory) == 512
    return header + stream + directory + struct.pack(f"<{len(fat)}I", *fat)
