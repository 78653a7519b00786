"""Scanner artefacts and file output.

All randomness comes from the document's random.Random, so output bytes
depend only on the seed (no PIL noise generators, which use C rand()).
"""

import datetime

from PIL import Image, ImageDraw, ImageFilter


def speckle(img, rng, dpi, density):
    """Dust and toner specks: small dark dots, a few short streaks."""
    d = ImageDraw.Draw(img)
    w, h = img.size
    n = int(w * h * density / 10000.0)
    scale = dpi / 300.0
    for _ in range(n):
        x = rng.randrange(w)
        y = rng.randrange(h)
        r = rng.choice([0.5, 0.8, 1.0, 1.0, 1.5, 2.5]) * scale + 0.3
        level = rng.randint(0, 90)
        fill = level if img.mode == "L" else (level, level, level)
        d.ellipse([x - r, y - r, x + r, y + r], fill=fill)
    for _ in range(rng.randint(0, 3)):
        x = rng.randrange(w)
        y = rng.randrange(h)
        ln = int(rng.uniform(0.05, 0.4) * dpi)
        level = rng.randint(60, 160)
        fill = level if img.mode == "L" else (level, level, level)
        if rng.random() < 0.5:
            d.line([x, y, x + ln, y + rng.randint(-2, 2)], fill=fill, width=1)
        else:
            d.line([x, y, x + rng.randint(-2, 2), y + ln], fill=fill, width=1)
    return img


def edge_shadow(img, rng, dpi, paper):
    """The dark band a scanner lid leaves along one edge."""
    d = ImageDraw.Draw(img)
    w, h = img.size
    band = int(rng.uniform(0.04, 0.15) * dpi)
    level = rng.randint(40, 120)
    fill = level if img.mode == "L" else (level, level, level)
    side = rng.choice(["left", "right", "top", "bottom"])
    box = {"left": [0, 0, band, h], "right": [w - band, 0, w, h],
           "top": [0, 0, w, band], "bottom": [0, h - band, w, h]}[side]
    d.rectangle(box, fill=fill)
    return img


def apply(img, plan, rng, paper):
    """Skew, blur, specks, shadow, then the 90/180/270 rotation of the feed."""
    dpi = plan["dpi"]
    if plan["skew"]:
        img = img.rotate(plan["skew"], resample=Image.BICUBIC, expand=False, fillcolor=paper)
    if "edge_shadow" in plan["degradations"]:
        img = edge_shadow(img, rng, dpi, paper)
    if "blur" in plan["degradations"]:
        img = img.filter(ImageFilter.GaussianBlur(plan["blur_px"]))
    if "speckle" in plan["degradations"]:
        img = speckle(img, rng, dpi, plan["speckle_density"])
    rot = plan["rotation"]
    if rot == 90:
        img = img.transpose(Image.ROTATE_90)
    elif rot == 180:
        img = img.transpose(Image.ROTATE_180)
    elif rot == 270:
        img = img.transpose(Image.ROTATE_270)
    return img


def to_bilevel(img, threshold):
    g = img.convert("L") if img.mode != "L" else img
    return g.point(lambda v: 255 if v >= threshold else 0).convert("1", dither=Image.NONE)


def save(pages, path, plan, seed_date):
    """Write pages in the planned format with the dpi recorded in the file."""
    dpi = plan["dpi"]
    fmt = plan["format"]
    if fmt == "png":
        pages[0].save(path, "PNG", dpi=(dpi, dpi), optimize=False, compress_level=6)
    elif fmt == "jpeg":
        im = pages[0]
        im.save(path, "JPEG", quality=plan["jpeg_quality"], dpi=(dpi, dpi),
                subsampling=0 if plan["jpeg_quality"] >= 90 else 2)
    elif fmt == "tiff":
        if plan["tiff_compression"] == "group4":
            bi = [to_bilevel(p, plan["g4_threshold"]) for p in pages]
            bi[0].save(path, "TIFF", compression="group4", dpi=(dpi, dpi), save_all=True,
                       append_images=bi[1:])
        else:
            gray = [p.convert("L") for p in pages]
            gray[0].save(path, "TIFF", compression="tiff_lzw", dpi=(dpi, dpi), save_all=True,
                         append_images=gray[1:])
    elif fmt == "pdf":
        when = datetime.datetime(seed_date[0], seed_date[1], seed_date[2], 9, 0, 0).timetuple()
        pages[0].save(path, "PDF", resolution=float(dpi), save_all=True, append_images=pages[1:],
                      creationDate=when, modDate=when, producer="scanner", title="scan")
    else:
        raise ValueError("unknown format " + fmt)
