"""Parts shared by every document type: letterhead, patient block, stickers,
running headers and footers, handwritten annotations.

A Ctx carries one document's random source, style, writer and plan.  The
plan's "mrn" entry says how the MRN appears (see generate.py):
  kind     label | table | sticker_only | none | hand_value | hand_full | hand_margin
  label    the printed label text (label / table kinds)
  valfmt   plain | dashed | spaced
  repeat   None | header | footer  (MRN repeated on every page)
  sticker  None | code128 | code39 (patient label sticker, same patient)
"""

from . import page, sticker, words

LABEL_STYLES = [
    ("mrn_colon", "MRN:"), ("mrn_space", "MRN"), ("mrn_hash", "MRN#"),
    ("mrn_hash_colon", "MRN #:"), ("mr_hash", "MR #:"), ("mr_no", "MR No."),
    ("medical_record_no", "Medical Record No."),
    ("medical_record_number", "Medical Record Number:"), ("med_rec_hash", "Med Rec #"),
]

TABLE_HEADERS = [
    ("table_mrn", "MRN"), ("table_medical_record_no", "Medical Record No."),
    ("table_mr_hash", "MR #"), ("table_med_rec_no", "Med Rec No."),
    ("table_medical_record_number", "MEDICAL RECORD NUMBER"),
]

ACCOUNT_LABELS = ["Account #:", "Acct No.", "Acct #:", "ACCOUNT NO.", "Billing Acct:", "Account Number:"]
ENCOUNTER_LABELS = ["Encounter #:", "Visit #:", "CSN:", "Encounter No.", "FIN:"]

DEPARTMENTS = {
    "lab_report": ["Department of Pathology and Laboratory Medicine", "Clinical Laboratory",
                   "Core Laboratory Services", "Laboratory Medicine"],
    "radiology_report": ["Department of Radiology", "Diagnostic Imaging Services",
                         "Medical Imaging", "Department of Diagnostic Radiology"],
    "discharge_summary": ["Hospital Medicine Service", "Department of Internal Medicine",
                          "Inpatient Services", "Health Information Management"],
    "referral": ["Patient Access Center", "Referral Coordination Office",
                 "Ambulatory Care Services", "Primary Care"],
    "prescription": ["Outpatient Pharmacy", "Ambulatory Clinic", "Family Medicine Clinic",
                     "Emergency Department"],
    "other": ["Health Information Management", "Release of Information", "Medical Records",
              "Patient Financial Services"],
}


class Ctx:
    """One document being written."""

    def __init__(self, rng, st, plan, patient, dtype):
        self.rng = rng
        self.st = st
        self.plan = plan
        self.p = patient
        self.type = dtype
        self.decoys = set()
        self.mm = plan["mrn"]
        self.city = rng.choice(words.CITIES)
        self.org = rng.choice(words.HOSPITALS)
        self.org_street, self.org_cityline = words.address(rng, self.city)
        self.decoys.add("zip")
        self.tel = words.phone(rng, self.city[3])
        self.fax = words.phone(rng, self.city[3])
        self.day = words.random_date(rng, 2021, 2025)
        self.date_style = rng.choice(["us", "us", "iso", "long", "dmy"])
        self.w = None
        self.sticker_bottom = 0
        self.stickers = []       # (patient, kind, where)

    def date(self, d=None):
        return (d or self.day).styled(self.date_style)

    def acct(self):
        self.decoys.add("account")
        if not hasattr(self, "_acct"):
            self._acct = words.make_account(self.rng, avoid=set(self.plan["all_mrns"]))
        return self._acct


def mrn_value(c, patient=None):
    p = patient or c.p
    return words.format_mrn(p.mrn, c.mm.get("valfmt", "plain"))


def start_writer(c, header_lines=0, footer=True):
    """Create the writer, with room for running header/footer when planned."""
    c.w = page.Writer(c.st)
    rep = c.mm.get("repeat")
    top = c.w.line_h(9) * (2 if rep == "header" else 0)
    bottom = c.w.line_h(9) * (2 if (rep == "footer" or footer) else 0)
    c.w.reserve_top, c.w.reserve_bottom = top, bottom
    c.w.y += top
    return c.w


def place_stickers(c):
    """Paste planned top stickers now; bottom stickers keep room on page 1."""
    w = c.w
    x_right = w.right
    for patient, kind, where in c.stickers:
        img = sticker.make_sticker(
            c.st, c.rng, patient, kind,
            label=c.rng.choice(["MRN:", "MRN:", "MRN", "MR#:"]),
            acct=(c.acct() if patient is c.p else words.make_account(c.rng, set(c.plan["all_mrns"])))
            if c.rng.random() < 0.5 else None,
            visit_date=c.day if c.rng.random() < 0.5 else None)
        if where == "top":
            x = x_right - img.size[0]
            w.pages[0].paste(img, (x, w.y))
            x_right = x - w.inch(0.15)
            c.sticker_bottom = max(c.sticker_bottom, w.y + img.size[1] + w.inch(0.1))
        else:
            c.bottom_sticker = img
            w.first_page_bottom_extra = img.size[1] + w.inch(0.15)
    c.text_right = x_right


def finish_bottom_sticker(c):
    img = getattr(c, "bottom_sticker", None)
    if img is None:
        return
    w = c.w
    pg = w.pages[0]
    y = pg.size[1] - w.inch(c.st.margin_in * 0.8) - w.reserve_bottom - img.size[1]
    pg.paste(img, (w.right - img.size[0], y))


def letterhead(c, org=None, dept=None, extra_lines=()):
    w, rng = c.w, c.rng
    org = org or c.org
    dept = dept if dept is not None else rng.choice(DEPARTMENTS[c.type])
    limited = c.text_right < w.right
    style = "left" if limited else rng.choice(["center", "left", "split", "band"])
    name_pt = rng.choice([13, 14, 15, 16, 18])
    max_w = c.text_right - w.left
    name_pt = w.fit_pt(org, name_pt, max_w, bold=True)
    small = max(8, min(c.st.body_pt - 1, 10))
    addr = "%s, %s" % (c.org_street, c.org_cityline)
    phones = "%s %s   %s %s" % (rng.choice(["Tel", "Phone:", "Ph", "Tel."]), c.tel,
                                rng.choice(["Fax", "Fax:", "FAX"]), c.fax)
    c.decoys.update(["phone", "fax"])
    if style == "center":
        w.text(org, name_pt, True, "center")
        if dept:
            w.text(dept, small + 1, False, "center")
        w.text(addr, small, False, "center")
        w.text(phones, small, False, "center")
    elif style == "band":
        h = w.line_h(name_pt) + w.px(6)
        w.draw.rectangle([w.left, w.y, w.right, w.y + h], fill=w.ink(min(235, c.st.ink + 190)))
        w.y += w.px(3)
        w.text(org, name_pt, True, "left", x=w.left + w.px(6))
        w.y += w.px(3)
        w.text((dept + "  |  " if dept else "") + addr, small)
        w.text(phones, small)
    elif style == "split":
        y0 = w.y
        w.text(org, name_pt, True)
        if dept:
            w.text(dept, small + 1)
        y1 = w.y
        w.y = y0
        for s in (c.org_street, c.org_cityline, phones.split("   ")[0], phones.split("   ")[1]):
            w.text(s, small, align="right")
        w.y = max(w.y, y1)
    else:
        w.text(org, name_pt, True, x=w.left)
        if dept:
            w.text(dept, small + 1)
        w.text(addr, small)
        w.text(phones, small)
    for s in extra_lines:
        w.text(s, small)
    w.y = max(w.y, c.sticker_bottom)
    if style != "band" or rng.random() < 0.5:
        w.hr(rng.choice([0.6, 1.0, 1.6]))
    w.gap(4)


def title(c, choices, pt=None):
    w = c.w
    t = c.rng.choice(choices)
    pt = pt or c.rng.choice([12, 13, 14, 16])
    align = c.rng.choice(["center", "center", "left"])
    w.text(t, pt, True, align)
    w.gap(4)
    return t


def _mrn_item(c, patient):
    mm = c.mm
    if mm["kind"] == "label":
        return (mm["label"], mrn_value(c, patient))
    if mm["kind"] == "hand_value":
        return (mm.get("label", "MRN:"), None)     # value filled in by hand later
    return None


def patient_block(c, patient=None, extra=()):
    """Name, DOB, MRN (as planned) and a few decoy numbers."""
    w, rng = c.w, c.rng
    p = patient or c.p
    kind = c.mm["kind"]
    if kind == "table":
        _patient_table(c, p)
        return
    items = [(rng.choice(["Patient:", "Patient Name:", "Name:", "PATIENT:"]), p.styled_name(rng)),
             (rng.choice(["DOB:", "Date of Birth:", "D.O.B.", "Birth Date:"]),
              p.dob.styled(rng.choice(["us", "us", "iso", "dmy"])))]
    c.decoys.add("date")
    mi = _mrn_item(c, p)
    if mi is not None and mi[1] is not None:
        items.insert(rng.choice([1, 2]), mi)
    if rng.random() < 0.6:
        items.append(("Sex:", {"F": rng.choice(["F", "Female"]), "M": rng.choice(["M", "Male"])}[p.sex]))
    if rng.random() < 0.7:
        items.append((rng.choice(ACCOUNT_LABELS), c.acct()))
    if rng.random() < 0.5:
        c.decoys.add("encounter")
        items.append((rng.choice(ENCOUNTER_LABELS), words.encounter_no(rng)))
    if rng.random() < 0.3:
        c.decoys.add("phone")
        items.append(("Phone:", p.phone))
    items.extend(extra)
    layout = rng.choice(["grid", "grid", "lines", "boxed"])
    pt = c.st.body_pt
    y0 = w.y
    if layout == "lines":
        i = 0
        while i < len(items):
            chunk = items[i:i + 2]
            w.labelled_row([(lab, val, 0.5 * k) for k, (lab, val) in enumerate(chunk)], pt)
            i += 2
    else:
        if layout == "boxed":
            w.y += w.px(4)
        half = (len(items) + 1) // 2
        left, right = items[:half], items[half:]
        for k in range(half):
            row = [(left[k][0], left[k][1], 0.02)]
            if k < len(right):
                row.append((right[k][0], right[k][1], 0.52))
            w.labelled_row(row, pt)
        if layout == "boxed":
            w.box(w.left - w.px(2), y0, w.right, w.y + w.px(2))
            w.y += w.px(4)
    if kind == "hand_value":
        _hand_value_field(c, mi[0])
    w.gap(6)


def _patient_table(c, p):
    w, rng = c.w, c.rng
    mlabel = c.mm["label"]
    cols = [("Patient Name", p.last_first.upper() if rng.random() < 0.5 else p.last_first),
            ("DOB", p.dob.us()), (mlabel, mrn_value(c, p))]
    if rng.random() < 0.5:
        cols.insert(2, ("Sex", p.sex))
    if rng.random() < 0.7:
        cols.append((rng.choice(["Acct No.", "Account #", "Account"]), c.acct()))
    elif rng.random() < 0.5:
        c.decoys.add("encounter")
        cols.append((rng.choice(["Encounter #", "Visit No."]), words.encounter_no(rng)))
    c.decoys.add("date")
    pt = c.st.body_pt
    span = w.right - w.left
    widths = [max(w.measure(h, pt, True), w.measure(v, pt)) + w.px(pt * 1.4) for h, v in cols]
    while sum(widths) > span and pt > 9:
        pt -= 0.5
        widths = [max(w.measure(h, pt, True), w.measure(v, pt)) + w.px(pt * 1.4) for h, v in cols]
    extra = max(0, span - sum(widths)) / len(cols)
    fracs, acc = [], 0.0
    for wd in widths:
        fracs.append(acc / span)
        acc += wd + extra
    w.table([h for h, _ in cols], [[v for _, v in cols]], fracs, pt=pt,
            border=rng.random() < 0.8, shade=rng.random() < 0.3)
    w.gap(4)


def _hand_value_field(c, label):
    """A printed label with a blank line; the digits are written by hand."""
    w = c.w
    pt = c.st.body_pt
    w.ensure(w.line_h(pt) * 2)
    x = w.left + w.px(2)
    y = w.y + w.px(4)
    x += w.text_at(x, y, label, pt, True) + w.px(6)
    line_y = y + w.px(pt * 1.15)
    w.draw.line([x, line_y, x + w.inch(2.0), line_y], fill=w.ink(), width=max(1, w.px(0.5)))
    hand_write(c, x + w.px(4), y - w.px(pt * 0.45), mrn_value(c), 1.45)
    w.y = y + w.line_h(pt) * 2


def hand_write(c, x, y, s, scale=1.4, page_index=-1):
    """Handwrite s at (x, y) on a page with the document's pen and hand."""
    if not hasattr(c, "hand_font"):
        c.hand_font = page.HAND_FONTS[c.rng.choice(list(page.HAND_FONTS))]
        c.hand_ink = page.hand_ink(c.st, c.rng)
    size = c.w.px(c.st.body_pt * scale)
    size = max(size, c.w.px(12))
    return page.hand_text(c.w.pages[page_index], x, y, s, size, c.rng, c.hand_font, c.hand_ink,
                          slope_deg=c.rng.uniform(-2.0, 2.0))


def hand_margin_note(c):
    """A clerk's handwritten MRN in the top margin of page 1."""
    w, rng = c.w, c.rng
    label = rng.choice(["MRN ", "MRN# ", "MR# ", "Med Rec ", ""])
    s = label + words.format_mrn(c.p.mrn, rng.choice(["plain", "plain", "spaced"]))
    x = w.left + int((w.right - w.left) * rng.uniform(0.35, 0.55))
    y = max(w.px(4), int(w.inch(c.st.margin_in * 0.8) * 0.15))
    hand_write(c, x, y, s, 1.35, page_index=0)


def running_marks(c, writer=None, patient=None):
    """Running header / footer on every page, drawn once the page count is known."""
    w = writer or c.w
    p = patient or c.p
    rng = c.rng
    rep = c.mm.get("repeat")
    n = len(w.pages)
    pt = 9 if c.st.dpi >= 200 else 10
    lab = rng.choice(["MRN:", "MRN", "MR#:", "Med Rec #"])
    ident = "%s   DOB: %s   %s %s" % (p.last_first.upper(), p.dob.us(), lab, mrn_value(c, p))
    printed = "Printed %s %02d:%02d" % (c.day.plus(rng.randint(0, 3)).us(), rng.randint(6, 22),
                                        rng.randint(0, 59))
    show_pages = n > 1 or rng.random() < 0.6
    if show_pages:
        c.decoys.add("page_of")
    pg_fmt = rng.choice(["Page %d of %d", "Page %d of %d", "Pg %d/%d", "- %d of %d -"])
    left = printed if rng.random() < 0.5 else c.org
    for i, img in enumerate(w.pages):
        d = page.ImageDraw.Draw(img)
        f = w.font(pt)
        ink = w.ink()
        top_y = w.inch(c.st.margin_in * 0.45)
        bot_y = img.size[1] - w.inch(c.st.margin_in * 0.6)
        pg = pg_fmt % (i + 1, n) if show_pages else ""
        if rep == "header":
            d.text((w.left, top_y), ident, font=f, fill=ink)
        if rep == "footer":
            d.text((w.left, bot_y), ident, font=f, fill=ink)
            if pg:
                d.text((w.right - int(f.getlength(pg)), bot_y), pg, font=f, fill=ink)
        else:
            d.text((w.left, bot_y), left, font=f, fill=ink)
            if pg:
                d.text((w.right - int(f.getlength(pg)), bot_y), pg, font=f, fill=ink)


def signature(c, who, caption=None):
    w, rng = c.w, c.rng
    w.ensure(w.inch(0.9))
    w.gap(10)
    if not hasattr(c, "hand_ink"):
        c.hand_ink = page.hand_ink(c.st, rng)
    page.scribble(w.draw, w.left + w.px(6), w.y, w.inch(rng.uniform(1.4, 2.2)), w.inch(0.35),
                  rng, c.hand_ink, max(1, w.px(1.1)))
    w.y += w.inch(0.4)
    w.draw.line([w.left, w.y, w.left + w.inch(2.8), w.y], fill=w.ink(), width=max(1, w.px(0.5)))
    w.y += w.px(3)
    w.text(who, c.st.body_pt)
    if caption:
        w.text(caption, max(8, c.st.body_pt - 1))
