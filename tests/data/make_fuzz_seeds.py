#!/usr/bin/python3
"""Write the seed corpus of fuzz_load (tests/fuzz/corpus/load/).

Tiny valid documents of every format the loader takes, written by Pillow (a
different writer from the Leptonica and cairo writers the unit test uses), so
the fuzzer starts from real container layouts: PNG (grey, palette), JPEG,
TIFF (G4 multi-page, LZW RGB) and PDF (two image pages, the way scanners and
Pillow write them). test_load also loads these and checks their page counts
and sizes, so keep the sizes below in step with tests/unit/test_load.c.

Run with Debian's python3 (python3-pil):
    /usr/bin/python3 tests/data/make_fuzz_seeds.py [out_dir]
The output is deterministic; the corpus in the repository is its output.
"""
import os
import sys
import time

from PIL import Image, ImageDraw


# PDF dates are fixed so that the output is the same on every run.
FIXED_DATE = time.gmtime(1767225600)  # 2026-01-01T00:00:00Z


def page(mode, size, label):
    """A white page with a black frame, a filled box and a line of text."""
    img = Image.new(mode, size, "white")
    draw = ImageDraw.Draw(img)
    w, h = size
    draw.rectangle([2, 2, w - 3, h - 3], outline="black")
    # The box test_load checks: (w/4, h/4) to (w/2, h/2), its centre is ink.
    draw.rectangle([w // 4, h // 4, w // 2 - 1, h // 2 - 1], fill="black")
    draw.text((6, 6), label, fill="black")
    return img


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "fuzz", "corpus", "load")
    os.makedirs(out, exist_ok=True)

    page("L", (96, 64), "MRN 1").save(os.path.join(out, "seed_grey.png"), dpi=(150, 150))
    page("L", (96, 64), "MRN 2").convert("P").save(os.path.join(out, "seed_palette.png"))
    page("RGB", (96, 64), "MRN 3").save(os.path.join(out, "seed_rgb.jpg"), quality=80,
                                         dpi=(200, 200))

    g4 = [page("1", size, "p%d" % (i + 1)) for i, size in
          enumerate([(120, 80), (80, 120), (64, 64)])]
    g4[0].save(os.path.join(out, "seed_g4_3pages.tif"), save_all=True,
               append_images=g4[1:], compression="group4", dpi=(200, 200))
    page("RGB", (80, 60), "MRN 4").save(os.path.join(out, "seed_rgb_lzw.tif"),
                                         compression="tiff_lzw", dpi=(100, 100))

    # 100 x 140 pixels at 50 dpi: pages of 144 x 201.6 points.
    pdf = [page("L", (100, 140), "page %d" % (i + 1)) for i in range(2)]
    pdf[0].save(os.path.join(out, "seed_2pages.pdf"), save_all=True, append_images=pdf[1:],
                resolution=50.0, creationDate=FIXED_DATE, modDate=FIXED_DATE)

    for name in sorted(os.listdir(out)):
        size = os.path.getsize(os.path.join(out, name))
        assert size < 20000, name
        print("%-22s %6d bytes" % (name, size))


if __name__ == "__main__":
    main()
