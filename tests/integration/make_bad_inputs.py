#!/usr/bin/env python3
"""Write hostile and broken documents into a directory, each named for the
reason `scanvault extract` must reject it with: <reason>--<what>.<ext>.
Run with Debian's python3 (python3-pil)."""
import io
import os
import struct
import sys
import zlib

from PIL import Image


def png_bytes(w=200, h=100):
    buf = io.BytesIO()
    Image.new("L", (w, h), 255).save(buf, "PNG")
    return buf.getvalue()


def png_chunk(kind, data):
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def huge_png():
    """A valid PNG header claiming 100000 x 100000 pixels, with a tiny body."""
    ihdr = struct.pack(">IIBBBBB", 100000, 100000, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat)
            + png_chunk(b"IEND", b""))


def jpeg_bytes():
    buf = io.BytesIO()
    Image.new("L", (400, 300), 200).save(buf, "JPEG", quality=80)
    return buf.getvalue()


def huge_jpeg():
    """A JPEG whose frame header claims 65000 x 65000."""
    data = bytearray(jpeg_bytes())
    i = 2
    while i < len(data):
        marker = data[i + 1]
        seglen = struct.unpack(">H", data[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            data[i + 5:i + 9] = struct.pack(">HH", 65000, 65000)
            break
        i += 2 + seglen
    return bytes(data)


def tiff_bytes(pages=3):
    buf = io.BytesIO()
    imgs = [Image.new("1", (64, 64), 1) for _ in range(pages)]
    imgs[0].save(buf, "TIFF", save_all=True, append_images=imgs[1:], compression="group4")
    return buf.getvalue()


def encrypted_pdf():
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
        b"<< /Filter /Standard /V 1 /R 2 /O <" + b"11" * 32 + b"> /U <" + b"22" * 32
        + b"> /P -44 >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += (b"trailer\n<< /Size %d /Root 1 0 R /Encrypt 4 0 R /ID [<%s><%s>] >>\n"
            % (len(objs) + 1, b"ab" * 16, b"ab" * 16))
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    png, jpg, tif = png_bytes(), jpeg_bytes(), tiff_bytes()
    files = {
        "empty_file--empty.png": b"",
        "truncated--png.png": png[: len(png) // 2],
        "truncated--jpeg.jpg": jpg[: len(jpg) // 2],
        "truncated--tiff.tif": tif[: len(tif) // 3],
        "unsupported_format--text-named.pdf": b"This is a plain text file, not a PDF.\n" * 20,
        "too_many_pixels--png-100000x100000.png": huge_png(),
        "too_many_pixels--jpeg-65000x65000.jpg": huge_jpeg(),
        "too_many_pages--tiff-3000-pages.tif": tiff_bytes(3000),
        "encrypted_pdf--encrypted.pdf": encrypted_pdf(),
        "unsupported_format--random.bin": bytes((i * 7919 + 13) % 251 for i in range(4096)),
    }
    for name, data in files.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
