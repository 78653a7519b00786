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


def white_png(w=20000, h=20000):
    """A valid grey PNG, all white: 400 MB of pixels for 20000 x 20000 in a
    ~430 KB file (zlib level 9). Every byte is real; only the size is wrong."""
    z = zlib.compressobj(9)
    row = b"\x00" + b"\xff" * w  # filter type None, then the pixels
    idat = b"".join(z.compress(row) for _ in range(h)) + z.flush()
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat)
            + png_chunk(b"IEND", b""))


def zeros_after_png(w=100, h=100, extra_mib=4096):
    """A valid w x h grey PNG whose one zlib stream goes on after the image's
    rows with extra_mib MiB of zeros (4 GiB in a 4 MB file). libpng inflates
    and discards all of it (17 s for 8 GiB); the loader stops at the rows the
    header declares. The zeros are repeated byte-aligned deflate blocks (each
    MiB compresses alike after a full flush), the Adler-32 worked out."""
    z = zlib.compressobj(9)
    rows = (b"\x00" + b"\xff" * w) * h
    mib = b"\x00" * (1 << 20)
    head = z.compress(rows) + z.flush(zlib.Z_FULL_FLUSH)
    block = z.compress(mib) + z.flush(zlib.Z_FULL_FLUSH)
    tail = z.flush()[:-4]  # the final empty block, without the checksum
    # Adler-32 of rows then n zero bytes: a stays, b grows by n * a.
    adler = zlib.adler32(rows)
    a, b = adler & 0xFFFF, adler >> 16
    b = (b + (extra_mib << 20) * a) % 65521
    idat = head + block * extra_mib + tail + struct.pack(">I", b << 16 | a)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
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


def tiff_file(w, h, bits, compression, photometric, strip):
    """A one-page little-endian TIFF, one strip holding strip."""
    tags = [
        (256, 4, w), (257, 4, h), (258, 3, bits), (259, 3, compression),
        (262, 3, photometric), (273, 4, 0), (277, 3, 1), (278, 4, h), (279, 4, len(strip)),
    ]
    ifd_at = 8
    strip_at = ifd_at + 2 + 12 * len(tags) + 4
    out = bytearray(b"II*\x00" + struct.pack("<I", ifd_at) + struct.pack("<H", len(tags)))
    for tag, kind, value in tags:
        value = strip_at if tag == 273 else value
        packed = struct.pack("<H", value) + b"\x00\x00" if kind == 3 else struct.pack("<I", value)
        out += struct.pack("<HHI", tag, kind, 1) + packed
    out += struct.pack("<I", 0) + strip
    return bytes(out)


def g4_white(w, h):
    """A white w x h page in CCITT Group 4: every row is one vertical-mode
    code (bit 1) against the white row above, then the end-of-block code.
    A 30000 x 30000 page is 3.7 KB; decoded it is 112 MB at 1 bpp and
    900 MB as the 8 bpp grey the OCR reads."""
    bits = "1" * h + "000000000001" * 2
    bits += "0" * (-len(bits) % 8)
    return tiff_file(w, h, 1, 4, 0, int(bits, 2).to_bytes(len(bits) // 8, "big"))


def huge_deflate_tiff():
    """8-bit grey, deflate, claiming 60000 x 60000 (3.6 GB of pixels) with a
    body of the first few white rows."""
    return tiff_file(60000, 60000, 8, 8, 1, zlib.compress(b"\xff" * 60000 * 4, 9))


def pdf_file(objs, trailer=b""):
    """A PDF of the given object bodies (object 1 the catalog), with a
    correct cross-reference table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\n" % (len(objs) + 1, trailer)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def many_pages_pdf(pages=5000):
    """pages empty 1-inch pages (about 350 KB)."""
    kids = b" ".join(b"%d 0 R" % (3 + i) for i in range(pages))
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages]
    objs += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 72 72] >>"] * pages
    return pdf_file(objs)


def huge_page_pdf(side_pt):
    """One page of side_pt x side_pt points with a line of text on it; at
    300 dpi 200000 pt is 833333 pixels a side, 7000 pt is 29167 (850 Mpx)."""
    text = b"BT /F1 12 Tf 72 72 Td (MRN 12345678) Tj ET"
    return pdf_file([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>" % (side_pt, side_pt),
        b"<< /Length %d >>\nstream\n" % len(text) + text + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ])


def encrypted_pdf():
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
        b"<< /Filter /Standard /V 1 /R 2 /O <" + b"11" * 32 + b"> /U <" + b"22" * 32
        + b"> /P -44 >>",
    ]
    return pdf_file(objs, b" /Encrypt 4 0 R /ID [<%s><%s>]" % (b"ab" * 16, b"ab" * 16))


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
        # Resource bombs: each refused from its header or page tree, before
        # anything of the claimed size exists (docs/ocr-loading.md).
        "too_many_pixels--png-20000x20000-valid-white.png": white_png(),
        "corrupt--png-100x100-then-4gib-of-zeros.png": zeros_after_png(),
        "too_many_pixels--tiff-g4-30000x30000-valid-white.tif": g4_white(30000, 30000),
        "too_many_pixels--tiff-deflate-60000x60000.tif": huge_deflate_tiff(),
        "too_many_pages--pdf-5000-pages.pdf": many_pages_pdf(5000),
        "too_many_pixels--pdf-mediabox-200000pt.pdf": huge_page_pdf(200000),
        "too_many_pixels--pdf-mediabox-7000pt.pdf": huge_page_pdf(7000),
        "unsupported_format--random.bin": bytes((i * 7919 + 13) % 251 for i in range(4096)),
    }
    for name, data in files.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
