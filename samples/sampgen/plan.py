"""Deciding what each document is: class, type, MRN presentation, look, damage.

A plan is a plain dict; render.py turns it into pages and generate.py into
a manifest line.  force (a dict) pins any choice, which is how the bundled
set makes sure every category appears at least once.
"""

from . import common, page, words

TYPES = ["lab_report", "prescription", "radiology_report", "discharge_summary", "referral", "other"]
CLINICAL = TYPES[:5]
FORMATS = ["png", "jpeg", "tiff", "pdf"]


def _pick(force, key, fn):
    return force[key] if key in force else fn()


def class_list(rng, n):
    """72% one printed MRN, 10% none, 9% merged, 9% handwritten only (rounded)."""
    n_none = max(1, round(n * 0.10)) if n >= 4 else 0
    n_merged = max(1, round(n * 0.09)) if n >= 4 else 0
    n_hand = max(1, round(n * 0.09)) if n >= 4 else 0
    n_index = n - n_none - n_merged - n_hand
    classes = ["index"] * n_index + ["none"] * n_none + ["merged"] * n_merged + ["hand"] * n_hand
    rng.shuffle(classes)
    return classes


def type_for(rng, cls, slot):
    """Type of a document of a class; slot cycles so small sets still see every type."""
    if cls == "none":
        return "other" if slot % 5 in (0, 2, 4) else CLINICAL[(slot // 2) % 5]
    if cls == "hand":
        return "prescription" if slot % 2 == 0 else rng.choice(["lab_report", "radiology_report", "referral",
                                                               "discharge_summary"])
    if cls == "merged":
        return CLINICAL[slot % 5]
    return CLINICAL[slot % 5]


def _label_mode(rng, force):
    if rng.random() < 0.2:
        key, label = rng.choice(common.TABLE_HEADERS)
        kind = "table"
    else:
        key, label = rng.choice(common.LABEL_STYLES)
        kind = "label"
        if rng.random() < 0.3:
            key, label = "upper_" + key, label.upper()
    key = force.get("mrn_key", key)
    if key != "none" and "mrn_key" in force:
        table = dict(common.TABLE_HEADERS)
        plain = dict(common.LABEL_STYLES)
        if key in table:
            kind, label = "table", table[key]
        elif key.startswith("upper_"):
            kind, label = "label", plain[key[6:]].upper()
        else:
            kind, label = "label", plain[key]
    valfmt = _pick(force, "valfmt", lambda: rng.choice(["plain"] * 7 + ["dashed"] * 3 + ["spaced"] * 2))
    return {"kind": kind, "label": label, "key": key, "valfmt": valfmt}


def _mrn_mode(rng, cls, dtype, force):
    mm = {"kind": "none", "key": "none", "valfmt": "plain", "repeat": None, "sticker": None}
    variant = None
    code = lambda: rng.choice(["code128", "code128", "code39"])  # noqa: E731
    if cls == "index":
        if dtype == "prescription" and _pick(force, "rx_hand", lambda: rng.random() < 0.35):
            variant = "rx_hand"
            mm.update(kind="sticker_only", key="sticker", sticker=_pick(force, "sticker", code))
        elif force.get("mrn_key") == "sticker" or ("mrn_key" not in force and rng.random() < 0.15):
            mm.update(kind="sticker_only", key="sticker", sticker=_pick(force, "sticker", code))
        else:
            mm.update(_label_mode(rng, force))
            mm["sticker"] = _pick(force, "sticker", lambda: code() if rng.random() < 0.22 else None)
        rep_p = 0.55 if dtype == "discharge_summary" else 0.2
        if mm["kind"] != "sticker_only":
            mm["repeat"] = _pick(force, "repeat",
                                 lambda: rng.choice(["header", "footer"]) if rng.random() < rep_p else None)
    elif cls == "merged":
        mode = _pick(force, "merged_mode", lambda: rng.choice(["pages", "pages", "stickers", "block_sticker"]))
        variant = "merged_" + mode
        if mode == "stickers":
            mm.update(kind="sticker_only", key="sticker", sticker=_pick(force, "sticker", code))
        else:
            mm.update(_label_mode(rng, force))
            if mode == "block_sticker":
                mm["sticker"] = _pick(force, "sticker", code)
            elif rng.random() < 0.4:
                mm["repeat"] = _pick(force, "repeat", lambda: rng.choice(["header", "footer"]))
    elif cls == "hand":
        if dtype == "prescription":
            variant = "rx_hand"
            kind = _pick(force, "hand_kind", lambda: rng.choice(["hand_value", "hand_full"]))
        else:
            kind = _pick(force, "hand_kind", lambda: rng.choice(["hand_value", "hand_margin"]))
        mm.update(kind=kind, key="handwritten", label=rng.choice(["MRN:", "MRN", "MR #:", "Med Rec #"]),
                  valfmt=rng.choice(["plain", "plain", "spaced"]))
    else:
        if dtype == "other":
            variant = _pick(force, "variant", lambda: rng.choice(["fax", "letter"]))
        elif dtype == "prescription" and rng.random() < 0.4:
            variant = "rx_hand"
    return mm, _pick(force, "variant", lambda: variant)


def make_plan(rng, idx, cls, slot, all_mrns_taken, force=None):
    force = force or {}
    dtype = _pick(force, "type", lambda: type_for(rng, cls, slot))
    mm, variant = _mrn_mode(rng, cls, dtype, force)
    n_pat = 2 if cls == "merged" else 1
    mrns = []
    for _ in range(n_pat):
        m = words.make_mrn(rng, avoid=all_mrns_taken)
        all_mrns_taken.add(m)
        mrns.append(m)
    dpi = _pick(force, "dpi", lambda: rng.choice([150, 150, 200, 200, 200, 300, 300]))
    multi = dtype == "discharge_summary" or variant == "merged_pages"
    fmt_choices = ["tiff", "tiff", "pdf", "pdf"] if multi else ["png", "png", "jpeg", "jpeg", "jpeg",
                                                                 "tiff", "tiff", "pdf", "pdf"]
    fmt = _pick(force, "format", lambda: rng.choice(fmt_choices))
    tiff_comp = _pick(force, "tiff_compression", lambda: rng.choice(["lzw", "group4", "group4"])) \
        if fmt == "tiff" else None
    tone = _pick(force, "paper", lambda: rng.choice(["white"] * 13 + ["grey"] * 4 + ["yellow"] * 3))
    degr = []
    faint = _pick(force, "faint", lambda: rng.random() < 0.15)
    blur = _pick(force, "blur", lambda: rng.random() < 0.18)
    spk = _pick(force, "speckle", lambda: rng.random() < 0.25)
    shadow = _pick(force, "edge_shadow", lambda: rng.random() < 0.1)
    jq = _pick(force, "jpeg_quality", lambda: rng.randint(25, 95)) if fmt == "jpeg" else None
    # Keep the MRN legible: never stack every kind of damage on a low-resolution page.
    if "jpeg_quality" not in force and jq is not None and dpi == 150:
        jq = max(jq, 45 if not blur else 60)
    if "faint" not in force and faint and dpi == 150 and (blur or (jq is not None and jq < 50)):
        faint = False
    ink = rng.randint(95, 130) if faint else rng.randint(0, 40)
    if faint and fmt == "tiff" and tiff_comp == "group4":
        ink = min(ink, 110)
    paper_level = {"white": 255, "grey": rng.randint(212, 232), "yellow": 236}[tone]
    if faint:
        degr.append("faint")
    if tone == "grey":
        degr.append("grey_paper")
    if tone == "yellow":
        degr.append("yellow_paper")
    if blur:
        degr.append("blur")
    if spk:
        degr.append("speckle")
    if shadow:
        degr.append("edge_shadow")
    if jq is not None and jq < 50:
        degr.append("low_jpeg_quality")
    if tiff_comp == "group4":
        degr.append("fax_g4")
    hand_any = variant == "rx_hand" or cls == "hand"
    rgb = fmt in ("png", "jpeg", "pdf") and (tone == "yellow" or (hand_any and rng.random() < 0.6))
    if rgb:
        paper = (248, 240, 205) if tone == "yellow" else (paper_level,) * 3
    else:
        paper = paper_level if tone != "yellow" else 236
    rot = _pick(force, "rotation", lambda: rng.choice([0] * 17 + [90, 180, 270]))
    skew = _pick(force, "skew", lambda: round(rng.choice([-1, 1]) * rng.uniform(0.5, 4.0), 2)
                 if rng.random() < 0.45 else 0.0)
    family = _pick(force, "font", lambda: rng.choice(sorted(page.FAMILIES)))
    lo_pt = 10 if dpi == 150 else 9
    hi_pt = 12 if dtype == "discharge_summary" else 14
    body_pt = _pick(force, "body_pt", lambda: rng.randint(lo_pt, hi_pt))
    plan = {
        "idx": idx, "class": cls, "type": dtype, "variant": variant, "mrn": mm, "all_mrns": mrns,
        "dpi": dpi, "format": fmt, "tiff_compression": tiff_comp, "jpeg_quality": jq,
        "paper_size": _pick(force, "paper_size", lambda: rng.choice(["letter"] * 7 + ["a4"] * 3)),
        "tone": tone, "paper": paper, "paper_level": paper_level, "ink": ink, "mode": "RGB" if rgb else "L",
        "family": family, "body_pt": body_pt, "rotation": rot, "skew": skew, "degradations": degr,
        "blur_px": round(rng.uniform(0.5, 1.0) * dpi / 200.0, 2) if dpi > 150 else round(rng.uniform(0.4, 0.6), 2),
        "speckle_density": rng.uniform(0.4, 2.5),
        "g4_threshold": (paper_level + ink) // 2 + 10,
        "target_pages": _pick(force, "target_pages", lambda: rng.choice([2, 2, 3])),
        "outside": cls == "none",
        "long": _pick(force, "long", lambda: rng.random() < 0.3),
    }
    return plan
