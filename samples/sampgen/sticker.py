"""Patient label stickers with a Code 128 / Code 39 barcode made by zint."""

import io
import subprocess

from PIL import Image, ImageDraw

from . import page

_barcode_cache = {}

ZINT_SYMBOLOGY = {"code128": "20", "code39": "8"}


def barcode(data, kind):
    """The barcode of data at one pixel per module, no quiet zone, mode "L"."""
    key = (data, kind)
    img = _barcode_cache.get(key)
    if img is None:
        out = subprocess.run(
            ["zint", "-b", ZINT_SYMBOLOGY[kind], "--notext", "--scale=0.5", "--height=10",
             "--filetype=PNG", "--direct", "-d", data],
            check=True, capture_output=True).stdout
        img = Image.open(io.BytesIO(out)).convert("L")
        _barcode_cache[key] = img
    return img


def module_px(dpi):
    """Bar module width that a scanner at dpi resolves: 10-13 mil."""
    return {150: 2, 200: 3, 300: 4}.get(dpi, max(2, round(dpi / 75)))


def make_sticker(st, rng, patient, kind, label="MRN:", acct=None, visit_date=None):
    """Render a patient label sticker; returns an image (mode of the page, white label)."""
    dpi = st.dpi
    pt = rng.choice([9, 10, 10, 11]) if dpi >= 200 else rng.choice([10, 11])
    fam = rng.choice(["DejaVu Sans", "Liberation Sans", "DejaVu Sans Mono",
                      "Liberation Mono", "FreeSans"])
    reg, bold = page.FAMILIES[fam]
    fpx = int(round(pt * dpi / 72.0))
    f_reg = page.font(reg, fpx)
    f_bold = page.font(bold, fpx)
    lines = [(patient.last_first.upper(), f_bold),
             ("DOB: %s   Sex: %s" % (patient.dob.us(), patient.sex), f_reg),
             ("%s %s" % (label, patient.mrn), f_bold if rng.random() < 0.5 else f_reg)]
    if acct:
        lines.append(("Acct: %s" % acct, f_reg))
    if visit_date:
        lines.append(("Adm: %s" % visit_date.us(), f_reg))
    bc = None
    if kind:
        raw = barcode(patient.mrn, kind)
        m = module_px(dpi)
        quiet = 10 * m
        bar_h = int(dpi * rng.uniform(0.32, 0.42))
        bc = raw.resize((raw.size[0] * m, bar_h), Image.NEAREST)
        bc_w = bc.size[0] + 2 * quiet
    else:
        bc_w = 0
    pad = int(dpi * 0.08)
    lh = int(fpx * 1.3)
    text_w = max(int(f.getlength(s)) for s, f in lines)
    w = max(text_w, bc_w) + 2 * pad
    h = pad * 2 + lh * len(lines) + (bc.size[1] + pad if bc else 0)
    label_bg = 255 if st.mode == "L" else (255, 255, 255)
    ink = st.color(min(st.ink, 40))
    img = Image.new(st.mode, (w, h), label_bg)
    d = ImageDraw.Draw(img)
    y = pad
    for s, f in lines:
        d.text((pad, y), s, font=f, fill=ink)
        y += lh
    if bc:
        bx = (w - bc.size[0]) // 2
        mask = bc.point(lambda v: 255 if v < 128 else 0)
        img.paste(ink, (bx, y + pad // 2, bx + bc.size[0], y + pad // 2 + bc.size[1]), mask)
    d.rectangle([0, 0, w - 1, h - 1], outline=ink, width=max(1, dpi // 150))
    angle = rng.uniform(-1.5, 1.5)
    if abs(angle) > 0.3:
        img = img.rotate(angle, resample=Image.BICUBIC, expand=True, fillcolor=st.paper)
    return img


def place(writer, img, x, y):
    writer.pages[-1].paste(img, (int(x), int(y)))
