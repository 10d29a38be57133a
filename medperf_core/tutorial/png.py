"""Write and read 8-bit grayscale PNGs in pure Python (zlib + struct): the client needs no numpy or PIL."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from pathlib import Path

_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def encode_gray_png(rows: Sequence[Sequence[int]]) -> bytes:
    """PNG bytes of a grayscale image given as rows of 0..255 ints."""
    height, width = len(rows), len(rows[0]) if rows else 0
    if not height or not width or any(len(r) != width for r in rows):
        raise ValueError("an image needs equal-length, non-empty rows")
    raw = b"".join(b"\x00" + bytes(max(0, min(255, int(v))) for v in row) for row in rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grayscale, no interlace
    return (
        _SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b"")
    )


def write_gray_png(path: Path, rows: Sequence[Sequence[int]]) -> None:
    path.write_bytes(encode_gray_png(rows))


def decode_gray_png(data: bytes) -> list[list[int]]:
    """Rows of an 8-bit grayscale, non-interlaced PNG written by `encode_gray_png` (filter type 0 only)."""
    if not data.startswith(_SIGNATURE):
        raise ValueError("not a PNG")
    pos, width, height, idat = len(_SIGNATURE), 0, 0, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
    raw = zlib.decompress(idat)
    stride = width + 1
    return [list(raw[r * stride + 1 : (r + 1) * stride]) for r in range(height)]
