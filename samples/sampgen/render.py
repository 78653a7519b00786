"""Turn a plan into page images (before scanner damage)."""

from . import admin, clinical, common, page, words


def _builder(plan):
    t, v = plan["type"], plan["variant"]
    if t == "lab_report":
        return clinical.build_lab
    if t == "radiology_report":
        return clinical.build_radiology
    if t == "discharge_summary":
        return clinical.build_discharge
    if t == "referral":
        return admin.build_referral
    if t == "prescription":
        return admin.build_rx_hand if v == "rx_hand" else admin.build_rx_printed
    return admin.build_fax if v == "fax" else admin.build_letter


def _style(plan):
    return page.Style(plan["dpi"], plan["paper_size"], plan["family"], plan["body_pt"],
                      plan["paper"], plan["ink"], plan["mode"])


def _one(rng, plan, patient, stickers, mm=None):
    """Write one logical document for one patient; returns (ctx, names)."""
    if mm is not None:
        plan = dict(plan, mrn=mm)
    c = common.Ctx(rng, _style(plan), plan, patient, plan["type"])
    c.stickers = stickers
    common.start_writer(c)
    c.text_right = c.w.right
    names = _builder(plan)(c)
    common.finish_bottom_sticker(c)
    common.running_marks(c)
    if plan["mrn"]["kind"] == "hand_margin":
        common.hand_margin_note(c)
    if names is None:
        names = [patient.full]
    return c, names


def render(rng, plan):
    """Pages (PIL images), patient names and decoy kinds for the plan."""
    mm = plan["mrn"]
    mrns = plan["all_mrns"]
    pa = words.Patient(rng, mrns[0])
    if plan["class"] == "merged":
        pb = words.Patient(rng, mrns[1])
        while pb.last == pa.last:
            pb = words.Patient(rng, mrns[1])
        v = plan["variant"]
        if v == "merged_pages":
            ca, _ = _one(rng, plan, pa, [])
            cb, _ = _one(rng, dict(plan, target_pages=1), pb, [])
            return ca.w.pages + cb.w.pages, [pa.full, pb.full], ca.decoys | cb.decoys
        if v == "merged_stickers":
            st = [(pa, mm["sticker"], "top"), (pb, mm["sticker"], "bottom")]
        else:
            st = [(pb, mm["sticker"], rng.choice(["top", "bottom"]))]
        c, _ = _one(rng, plan, pa, st)
        return c.w.pages, [pa.full, pb.full], c.decoys
    stickers = []
    if mm["sticker"]:
        where = "top" if mm["kind"] == "sticker_only" or rng.random() < 0.7 else "bottom"
        stickers = [(pa, mm["sticker"], where)]
    c, names = _one(rng, plan, pa, stickers)
    if plan["class"] == "none" and plan["type"] == "other" and plan["variant"] == "fax":
        names = []
    return c.w.pages, names, c.decoys
