"""Just enough PDF reading to check what a reportlab PDF says, without a PDF library: inflate the
content streams (ASCII85 + Flate) and decode the literal strings drawn in the CID font (UCS-2)."""

from __future__ import annotations

import base64
import re
import zlib

_STREAM_RE = re.compile(rb"stream\r?\n(.*?)endstream", re.S)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def streams(pdf: bytes) -> list[bytes]:
    out = []
    for m in _STREAM_RE.finditer(pdf):
        data = m.group(1).strip()
        if data.endswith(b"~>"):
            data = base64.a85decode(data[:-2].replace(b"\n", b"").replace(b"\r", b""))
        try:
            out.append(zlib.decompress(data))
        except zlib.error:
            out.append(data)
    return out


def literal_strings(content: bytes) -> list[tuple[int, bytes]]:
    """Every (…) string of a content stream with its position, escapes resolved."""
    result, i, n = [], 0, len(content)
    while i < n:
        if content[i : i + 1] != b"(":
            i += 1
            continue
        start, depth, i, buf = i, 1, i + 1, bytearray()
        while i < n and depth:
            c = content[i : i + 1]
            if c == b"\\":
                nxt = content[i + 1 : i + 2]
                if nxt.isdigit():
                    j = i + 1
                    while j < min(i + 4, n) and content[j : j + 1].isdigit():
                        j += 1
                    buf.append(int(content[i + 1 : j], 8) & 0xFF)
                    i = j
                    continue
                buf += _ESCAPES.get(nxt, nxt)
                i += 2
                continue
            if c == b"(":
                depth += 1
            elif c == b")":
                depth -= 1
                if depth == 0:
                    i += 1
                    break
            buf += c
            i += 1
        result.append((start, bytes(buf)))
    return result


def pdf_text(pdf: bytes) -> str:
    """The text drawn on the pages: strings in a UCS-2 CID font decoded, others as Latin-1."""
    cid_fonts = set(re.findall(rb"/Encoding /UniGB-UCS2-H /Name /(F\d+)", pdf))
    parts = []
    for content in streams(pdf):
        fonts = [(m.start(), m.group(1)) for m in re.finditer(rb"/(F\d+) [\d.]+ Tf", content)]
        for pos, s in literal_strings(content):
            font = next((name for at, name in reversed(fonts) if at < pos), b"")
            parts.append(
                s.decode("utf-16-be", errors="replace") if font in cid_fonts else s.decode("latin-1")
            )
    return "".join(parts)


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b(?!s)", pdf))
