"""Real label bytes for the sandbox: a valid single-page PDF, a ZPL II program and a PNG.

Hand-built (no PDF library) so the sandbox has no extra dependency; the PDF has a correct xref
table so strict readers open it, and the ZPL is what a Zebra printer would accept.
"""

from __future__ import annotations

import struct
import zlib


def _pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdf_label(tracking_number: str, lines: list[str]) -> bytes:
    """A 4x6 inch label page with the tracking number and address lines as text."""
    y = 400
    ops = ["BT", "/F1 18 Tf", f"20 {y} Td", f"({_pdf_escape(tracking_number)}) Tj", "ET"]
    for line in lines[:12]:
        y -= 22
        ops += ["BT", "/F1 11 Tf", f"20 {y} Td", f"({_pdf_escape(line[:60])}) Tj", "ET"]
    # a barcode-ish block so the page is visibly a label
    ops += ["0 0 0 rg", "20 20 248 60 re f"]
    stream = "\n".join(ops).encode("latin-1", errors="replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 288 432] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def zpl_label(tracking_number: str, lines: list[str]) -> bytes:
    """A 4x6 inch ZPL II label at 203 dpi with a Code 128 barcode of the tracking number."""
    parts = ["^XA", "^CI28", "^PW812", "^LL1218", "^CF0,40", f"^FO40,40^FD{tracking_number}^FS"]
    y = 110
    for line in lines[:12]:
        parts.append(f"^CF0,28^FO40,{y}^FD{line[:45]}^FS")
        y += 40
    parts += [f"^FO40,{y + 40}^BY3^BCN,160,Y,N,N^FD{tracking_number}^FS", "^XZ"]
    return ("\n".join(parts) + "\n").encode("utf-8")


def png_label(tracking_number: str, width: int = 96, height: int = 48) -> bytes:
    """A small valid PNG (striped from the tracking number's digits)."""
    seed = sum(ord(c) for c in tracking_number)
    rows = bytearray()
    for y in range(height):
        rows.append(0)
        for x in range(width):
            rows.append(0 if ((x + seed) // 3 + y // 8) % 2 else 255)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows)))
        + chunk(b"IEND", b"")
    )
