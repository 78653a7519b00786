#!/usr/bin/env bash
# Every page of every document of a generated set as a greyscale PNG at its
# scanned resolution, for the `tesseract` command line that the benchmarks
# compare against (PDF: the embedded scanned images, as they are).
#   render_pages.sh SET_DIR OUT_DIR      prints the number of pages
set -euo pipefail
set_dir=$1 out=$2
mkdir -p "$out"
for f in "$set_dir"/doc-*; do
    base=$(basename "${f%.*}")
    case "$f" in
    *.pdf) pdfimages -png "$f" "$out/$base" ;;
    *) /usr/bin/python3 - "$f" "$out/$base" <<'PY'
import sys
from PIL import Image, ImageSequence
im = Image.open(sys.argv[1])
for i, page in enumerate(ImageSequence.Iterator(im)):
    dpi = page.info.get("dpi", (300, 300))
    page.convert("L").save("%s-%d.png" % (sys.argv[2], i + 1), dpi=tuple(int(round(d)) for d in dpi))
PY
    ;;
    esac
done
ls "$out" | wc -l
