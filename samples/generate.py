#!/usr/bin/python3
"""Synthetic scanned medical documents with a ground-truth manifest.

    generate.py --out DIR --count N --seed S    N documents + DIR/manifest.jsonl
    generate.py --bundle                        the bundled set: samples/docs/ +
                                                samples/manifest.jsonl

Everything on the documents is made up (names from small built-in lists,
555-01xx phone numbers, Luhn-valid 8-digit MRNs).  Output depends only on
the arguments: the same seed gives the same bytes.  See docs/samples.md.
"""

import argparse
import json
import os
import random
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sampgen import degrade, plan, render  # noqa: E402

BUNDLE_SEED = 20240917
EXT = {"png": "png", "jpeg": "jpg", "tiff": "tif", "pdf": "pdf"}

# One line per bundled document: (class, forced choices).  Together they hit
# every type, format, dpi, rotation, damage, MRN style and class at least once.
BUNDLE = [
    ("index", dict(type="lab_report", format="png", dpi=200, mrn_key="mrn_colon", valfmt="plain",
                   sticker=None, repeat=None, rotation=0, skew=0.0, paper="white", faint=False,
                   blur=False, speckle=False, edge_shadow=False)),
    ("index", dict(type="lab_report", format="tiff", tiff_compression="group4", dpi=300,
                   mrn_key="table_mrn", valfmt="plain", rotation=90, skew=0.0, sticker=None)),
    ("index", dict(type="lab_report", format="jpeg", jpeg_quality=35, dpi=300, mrn_key="upper_mrn_hash",
                   valfmt="dashed", speckle=True, rotation=0, sticker=None, long=False, body_pt=11)),
    ("index", dict(type="prescription", rx_hand=False, format="pdf", dpi=200, mrn_key="mr_no",
                   sticker="code128", rotation=0)),
    ("index", dict(type="prescription", rx_hand=True, format="jpeg", jpeg_quality=80, dpi=200,
                   sticker="code39", paper="yellow", rotation=0, skew=1.1)),
    ("index", dict(type="radiology_report", format="tiff", tiff_compression="lzw", dpi=150,
                   mrn_key="medical_record_no", skew=2.5, rotation=0, sticker=None)),
    ("index", dict(type="radiology_report", format="png", dpi=150, mrn_key="med_rec_hash", valfmt="spaced",
                   paper="grey", rotation=0, sticker=None, blur=False)),
    ("index", dict(type="radiology_report", format="pdf", dpi=300, mrn_key="table_medical_record_no",
                   rotation=180, blur=True, sticker=None, faint=False)),
    ("index", dict(type="discharge_summary", format="tiff", tiff_compression="group4", dpi=200,
                   mrn_key="medical_record_number", repeat="header", target_pages=3, rotation=0,
                   sticker=None)),
    ("index", dict(type="discharge_summary", format="pdf", dpi=150, mrn_key="mrn_space", repeat="footer",
                   faint=True, skew=-1.2, rotation=0, sticker=None, blur=False)),
    ("index", dict(type="discharge_summary", format="tiff", tiff_compression="lzw", dpi=200,
                   mrn_key="upper_medical_record_no", paper_size="a4", rotation=0, sticker=None,
                   target_pages=2)),
    ("index", dict(type="referral", format="jpeg", jpeg_quality=60, dpi=200, mrn_key="mr_hash",
                   rotation=270, sticker=None)),
    ("index", dict(type="referral", format="png", dpi=200, mrn_key="sticker", sticker="code128",
                   edge_shadow=True, rotation=0)),
    ("index", dict(type="referral", format="tiff", tiff_compression="group4", dpi=150,
                   mrn_key="table_mr_hash", valfmt="dashed", speckle=True, skew=3.8, rotation=0,
                   sticker=None)),
    ("index", dict(type="lab_report", format="pdf", dpi=200, mrn_key="upper_med_rec_hash",
                   sticker="code39", rotation=0)),
    ("index", dict(type="lab_report", format="jpeg", jpeg_quality=95, dpi=150, mrn_key="mrn_hash_colon",
                   faint=True, blur=False, rotation=0, sticker=None)),
    ("index", dict(type="prescription", rx_hand=False, format="tiff", tiff_compression="group4", dpi=300,
                   mrn_key="upper_mr_hash", skew=-3.0, rotation=0, sticker=None)),
    ("index", dict(type="radiology_report", format="jpeg", jpeg_quality=25, dpi=300, mrn_key="mrn_hash",
                   valfmt="spaced", rotation=0, sticker=None, blur=False, faint=False)),
    ("index", dict(type="referral", format="pdf", dpi=300, mrn_key="table_med_rec_no", repeat="footer",
                   rotation=0, sticker=None)),
    ("index", dict(type="lab_report", format="png", dpi=300, mrn_key="table_medical_record_number",
                   paper="grey", rotation=0, sticker=None, speckle=False)),
    ("index", dict(type="prescription", rx_hand=False, format="png", dpi=150, mrn_key="mrn_colon",
                   valfmt="dashed", paper_size="a4", rotation=0, sticker=None, speckle=False)),
    ("index", dict(type="discharge_summary", format="pdf", dpi=200, mrn_key="sticker", sticker="code39",
                   rotation=0)),
    ("index", dict(type="radiology_report", format="tiff", tiff_compression="group4", dpi=200,
                   mrn_key="upper_mrn_colon", rotation=90, blur=True, sticker=None)),
    ("index", dict(type="lab_report", format="tiff", tiff_compression="lzw", dpi=150,
                   mrn_key="medical_record_number", valfmt="spaced", rotation=0, sticker=None)),
    ("none", dict(type="other", variant="fax", format="png", dpi=200, rotation=0)),
    ("none", dict(type="other", variant="letter", format="tiff", tiff_compression="group4", dpi=200)),
    ("none", dict(type="other", variant="letter", format="pdf", dpi=150, skew=1.7)),
    ("none", dict(type="lab_report", format="jpeg", jpeg_quality=70, dpi=200, rotation=0)),
    ("none", dict(type="referral", format="tiff", tiff_compression="group4", dpi=300, rotation=0)),
    ("merged", dict(type="lab_report", merged_mode="pages", format="tiff", tiff_compression="group4",
                    dpi=200, rotation=0)),
    ("merged", dict(type="discharge_summary", merged_mode="pages", format="pdf", dpi=150, target_pages=2)),
    ("merged", dict(type="referral", merged_mode="stickers", sticker="code128", format="png", dpi=200,
                    rotation=0)),
    ("merged", dict(type="radiology_report", merged_mode="block_sticker", sticker="code39", format="jpeg",
                    jpeg_quality=70, dpi=300, rotation=0)),
    ("hand", dict(type="prescription", hand_kind="hand_value", format="png", dpi=200, rotation=0)),
    ("hand", dict(type="prescription", hand_kind="hand_full", format="jpeg", jpeg_quality=75, dpi=200)),
    ("hand", dict(type="lab_report", hand_kind="hand_margin", format="tiff", tiff_compression="group4",
                  dpi=200, rotation=0)),
    ("hand", dict(type="referral", hand_kind="hand_value", format="pdf", dpi=200, rotation=180)),
]


def mrn_style(p):
    mm = p["mrn"]
    if p["class"] == "hand":
        return "handwritten_" + mm["kind"][5:]
    if p["class"] == "none":
        return "none"
    if mm["kind"] == "sticker_only":
        return "sticker"
    return mm["key"] + ("" if mm["valfmt"] == "plain" else "+" + mm["valfmt"])


def manifest_entry(p, name, pages, names, decoys):
    cls = p["class"]
    mrns = [] if cls == "none" else list(p["all_mrns"])
    return {
        "file": name, "type": p["type"], "mrns": mrns,
        "expect": "index" if cls == "index" else "review",
        "printed_mrn": cls in ("index", "merged"), "pages": pages, "format": p["format"],
        "dpi": p["dpi"], "rotation": p["rotation"], "skew": p["skew"],
        "degradations": p["degradations"], "mrn_style": mrn_style(p),
        "barcode": p["mrn"]["sticker"] if cls in ("index", "merged") else None,
        "handwritten_mrn_only": cls == "hand", "merged": cls == "merged", "names": names,
        "class": cls, "variant": p["variant"], "tiff_compression": p["tiff_compression"],
        "jpeg_quality": p["jpeg_quality"], "paper_size": p["paper_size"], "font": p["family"],
        "body_pt": p["body_pt"], "mrn_repeat": p["mrn"].get("repeat"), "decoys": sorted(decoys),
    }


def make_doc(seed, p, out_dir):
    """Render, damage and save one planned document; returns its manifest entry."""
    rng = random.Random("%d:render:%d" % (seed, p["idx"]))
    pages, names, decoys = render.render(rng, p)
    if len(pages) > 1 and p["format"] in ("png", "jpeg"):
        # the content ran over one page: a single-image format cannot hold it
        p["format"] = rng.choice(["tiff", "pdf"])
        if p["format"] == "tiff":
            p["tiff_compression"] = "lzw"
        p["jpeg_quality"] = None
        p["degradations"] = [d for d in p["degradations"] if d != "low_jpeg_quality"]
    pages = [degrade.apply(img, p, rng, p["paper"]) for img in pages]
    name = "doc-%04d.%s" % (p["idx"], EXT[p["format"]])
    degrade.save(pages, os.path.join(out_dir, name), p, (2024, 1 + seed % 12, 1 + seed % 28))
    return manifest_entry(p, name, len(pages), names, decoys)


def plans_for(seed, count):
    rng = random.Random("%d:plan" % seed)
    classes = plan.class_list(rng, count)
    taken = set()
    slots = {}
    out = []
    for i, cls in enumerate(classes):
        slot = slots.get(cls, 0)
        slots[cls] = slot + 1
        prng = random.Random("%d:plan:%d" % (seed, i + 1))
        out.append(plan.make_plan(prng, i + 1, cls, slot, taken))
    return out


def bundle_plans(seed):
    taken = set()
    out = []
    for i, (cls, force) in enumerate(BUNDLE):
        prng = random.Random("%d:plan:%d" % (seed, i + 1))
        out.append(plan.make_plan(prng, i + 1, cls, i, taken, force))
    return out


def write_set(plans, seed, out_dir, manifest_path, quiet):
    os.makedirs(out_dir, exist_ok=True)
    t0 = time.time()
    lines = []
    for p in plans:
        e = make_doc(seed, p, out_dir)
        lines.append(json.dumps(e, sort_keys=False))
        if not quiet:
            print("%s %-17s %-6s %s" % (e["file"], e["type"], e["expect"], e["mrn_style"]), file=sys.stderr)
    tmp = manifest_path + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, manifest_path)
    return time.time() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", help="output directory (documents + manifest.jsonl)")
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--bundle", action="store_true", help="write the bundled set into samples/docs/")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args(argv)
    here = os.path.dirname(os.path.abspath(__file__))
    if a.bundle:
        out_dir = os.path.join(here, "docs")
        if os.path.isdir(out_dir):
            for n in os.listdir(out_dir):
                if n.startswith("doc-"):
                    os.unlink(os.path.join(out_dir, n))
        secs = write_set(bundle_plans(BUNDLE_SEED), BUNDLE_SEED, out_dir,
                         os.path.join(here, "manifest.jsonl"), a.quiet)
        print("bundle: %d documents in %.1f s" % (len(BUNDLE), secs), file=sys.stderr)
        return 0
    if not a.out or a.count < 1:
        ap.error("--out DIR and --count N >= 1 are required (or --bundle)")
    secs = write_set(plans_for(a.seed, a.count), a.seed, a.out, os.path.join(a.out, "manifest.jsonl"), a.quiet)
    print("%d documents in %.1f s" % (a.count, secs), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
