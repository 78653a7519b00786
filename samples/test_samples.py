#!/usr/bin/python3
"""Self-test of the sample generator, the bundled set and the scorer.

    /usr/bin/python3 samples/test_samples.py

Generates a small set into a temporary directory and checks the files
against their manifest (format, compression, dpi, page count, MRN rules),
checks determinism, the class mix, the bundled set's size and coverage, and
that tests/integration/score_extract.py passes an oracle result file and
fails a bad one.  Exits 1 on the first failed group, printing what failed.
"""

import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, HERE)

import generate  # noqa: E402
from sampgen import common, page, plan, words  # noqa: E402
from PIL import Image, ImageSequence  # noqa: E402

SCORER = os.path.join(TOP, "tests", "integration", "score_extract.py")
PY = "/usr/bin/python3"
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL: " + what)
    return cond


def pdf_info(path):
    out = subprocess.run(["pdfinfo", path], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", out, re.M).group(1))
    lst = subprocess.run(["pdfimages", "-list", path], capture_output=True, text=True, check=True).stdout
    ppi = set()
    for line in lst.splitlines()[2:]:
        cols = line.split()
        if len(cols) > 13:
            ppi.add(int(round(float(cols[12]))))
    return pages, ppi


def check_file(d, e):
    path = os.path.join(d, e["file"])
    name = e["file"]
    if not check(os.path.isfile(path), "%s exists" % name):
        return
    check(re.fullmatch(r"doc-\d{4}\.(png|jpg|tif|pdf)", os.path.basename(name)) is not None,
          "%s: file name carries no MRN or name" % name)
    mrns = e["mrns"]
    for m in mrns:
        check(re.fullmatch(r"[1-9]\d{7}", m) and words.luhn_ok(m), "%s: MRN is 8 digits with Luhn digit" % name)
        check(m not in name, "%s: MRN not in file name" % name)
    check(len(set(mrns)) == len(mrns), "%s: mrns distinct" % name)
    want_index = len(mrns) == 1 and e["printed_mrn"]
    check((e["expect"] == "index") == want_index, "%s: expect=index iff one printed MRN" % name)
    check(e["merged"] == (len(mrns) == 2), "%s: merged iff two MRNs" % name)
    check(not (e["handwritten_mrn_only"] and e["printed_mrn"]), "%s: handwritten-only is not printed" % name)
    check(e["type"] in plan.TYPES, "%s: known type" % name)
    check(e["type"] != "other" or not mrns, "%s: type other carries no MRN" % name)
    if e["format"] == "pdf":
        pages, ppi = pdf_info(path)
        check(pages == e["pages"], "%s: pdf page count %d == %d" % (name, pages, e["pages"]))
        check(ppi == {e["dpi"]}, "%s: pdf image ppi %s == %d" % (name, ppi, e["dpi"]))
        return
    im = Image.open(path)
    fmt = {"PNG": "png", "JPEG": "jpeg", "TIFF": "tiff"}.get(im.format)
    check(fmt == e["format"], "%s: format %s == %s" % (name, fmt, e["format"]))
    dpi = im.info.get("dpi", (0, 0))
    check(abs(float(dpi[0]) - e["dpi"]) < 0.5, "%s: dpi %s == %d" % (name, dpi, e["dpi"]))
    frames = [f.size for f in ImageSequence.Iterator(im)]
    check(len(frames) == e["pages"], "%s: %d frames == %d pages" % (name, len(frames), e["pages"]))
    if fmt == "tiff":
        want = {"group4": "group4", "lzw": "tiff_lzw"}[e["tiff_compression"]]
        check(im.info.get("compression") == want, "%s: tiff compression %s" % (name, want))
    w, h = frames[0]
    portrait = e["rotation"] in (0, 180)
    check((h > w) == portrait, "%s: orientation matches rotation %d" % (name, e["rotation"]))


def test_generated(tmp):
    out = os.path.join(tmp, "set")
    generate.main(["--out", out, "--count", "24", "--seed", "3", "--quiet"])
    rows = [json.loads(x) for x in open(os.path.join(out, "manifest.jsonl"))]
    check(len(rows) == 24, "24 manifest lines")
    for e in rows:
        check_file(out, e)
    again = os.path.join(tmp, "again")
    generate.main(["--out", again, "--count", "24", "--seed", "3", "--quiet"])
    for n in sorted(os.listdir(out)):
        with open(os.path.join(out, n), "rb") as a, open(os.path.join(again, n), "rb") as b:
            check(a.read() == b.read(), "deterministic output: %s" % n)
    return rows


def test_mix():
    plans = generate.plans_for(9, 150)
    cls = collections.Counter(p["class"] for p in plans)
    check(abs(cls["index"] / 150 - 0.72) < 0.03, "class mix index ~72%% (%d)" % cls["index"])
    for c, f in (("none", 0.10), ("merged", 0.09), ("hand", 0.09)):
        check(abs(cls[c] / 150 - f) < 0.02, "class mix %s ~%d%% (%d)" % (c, f * 100, cls[c]))
    check(set(p["type"] for p in plans) == set(plan.TYPES), "every type in a 150 set")
    small = generate.plans_for(1, 12)
    check(set(p["type"] for p in small) == set(plan.TYPES), "every type even in a 12 set")


def coverage(rows):
    """Categories the bundle must contain at least once."""
    have = collections.defaultdict(set)
    for e in rows:
        fmt = e["format"] + ("/" + e["tiff_compression"] if e["tiff_compression"] else "")
        have["type"].add(e["type"])
        have["format"].add(fmt)
        have["multipage"].add(e["format"] if e["pages"] > 1 else "single")
        have["dpi"].add(e["dpi"])
        have["rotation"].add(e["rotation"])
        have["skewed"].add(bool(e["skew"]))
        have["degradation"].update(e["degradations"])
        have["class"].add(e["class"])
        have["variant"].add(str(e["variant"]))
        style = e["mrn_style"]
        base = style.split("+")[0]
        have["style"].add(base[6:] if base.startswith("upper_") else base)
        have["valfmt"].add(style.split("+")[1] if "+" in style else "plain")
        have["upper"].add(base.startswith("upper_"))
        have["barcode"].add(e["barcode"])
        have["repeat"].add(e["mrn_repeat"])
        have["paper_size"].add(e["paper_size"])
        have["font"].add(e["font"])
        have["decoys"].update(e["decoys"])
        if e["class"] == "none":
            have["none_type"].add("other" if e["type"] == "other" else "clinical")
        if e["variant"] == "rx_hand" and e["expect"] == "index":
            have["rx_hand_label"].add(True)
    need = {
        "type": set(plan.TYPES), "format": {"png", "jpeg", "pdf", "tiff/lzw", "tiff/group4"},
        "multipage": {"tiff", "pdf"}, "dpi": {150, 200, 300}, "rotation": {0, 90, 180, 270},
        "skewed": {True, False},
        "degradation": {"blur", "speckle", "faint", "grey_paper", "yellow_paper", "low_jpeg_quality",
                        "fax_g4", "edge_shadow"},
        "class": {"index", "none", "merged", "hand"},
        "variant": {"fax", "letter", "rx_hand", "merged_pages", "merged_stickers", "merged_block_sticker"},
        "style": {k for k, _ in common.LABEL_STYLES} | {k for k, _ in common.TABLE_HEADERS} |
                 {"sticker", "handwritten_value", "handwritten_full", "handwritten_margin", "none"},
        "valfmt": {"plain", "dashed", "spaced"}, "upper": {True}, "barcode": {"code128", "code39"},
        "repeat": {"header", "footer"}, "paper_size": {"letter", "a4"}, "font": set(page.FAMILIES),
        "decoys": {"phone", "fax", "account", "accession", "specimen", "npi", "dea", "order", "encounter",
                   "date", "page_of", "zip"},
        "none_type": {"other", "clinical"}, "rx_hand_label": {True},
    }
    for k, want in need.items():
        missing = want - have[k]
        check(not missing, "bundle covers %s: missing %s" % (k, sorted(map(str, missing))))


def test_bundle():
    man = os.path.join(HERE, "manifest.jsonl")
    docs = os.path.join(HERE, "docs")
    if not check(os.path.isfile(man), "bundle manifest exists (run generate.py --bundle)"):
        return []
    rows = [json.loads(x) for x in open(man)]
    check(len(rows) <= 40, "bundle has <= 40 documents (%d)" % len(rows))
    files = sorted(n for n in os.listdir(docs) if n.startswith("doc-"))
    check(files == sorted(e["file"] for e in rows), "bundle files == manifest entries")
    size = sum(os.path.getsize(os.path.join(docs, n)) for n in files)
    check(size < 10 * 1024 * 1024, "bundle < 10 MB (%.1f MB)" % (size / 1048576.0))
    for e in rows:
        check_file(docs, e)
    coverage(rows)
    return rows


def run_scorer(tmp, rows, results, name):
    man = os.path.join(tmp, name + "-manifest.jsonl")
    res = os.path.join(tmp, name + "-results.jsonl")
    with open(man, "w") as f:
        f.write("".join(json.dumps(e) + "\n" for e in rows))
    with open(res, "w") as f:
        f.write("".join(json.dumps(r) + "\n" for r in results))
    p = subprocess.run([PY, SCORER, man, res], capture_output=True, text=True)
    return p.returncode, p.stdout


def oracle(rows):
    out = []
    for e in rows:
        if e["expect"] == "index":
            out.append({"file": "/in/" + e["file"], "status": "index", "mrn": e["mrns"][0], "type": e["type"],
                        "reason": None, "pages": e["pages"], "ms": 1000})
        else:
            out.append({"file": e["file"], "status": "review", "mrn": None, "type": e["type"],
                        "reason": "no_mrn", "pages": e["pages"], "ms": 1000})
    return out


def test_scorer(tmp, rows):
    rc, out = run_scorer(tmp, rows, oracle(rows), "oracle")
    check(rc == 0 and out.rstrip().endswith("accuracy: 4 passed, 0 failed"), "scorer passes an oracle:\n" + out)
    bad = oracle(rows)
    merged = [i for i, e in enumerate(rows) if e["merged"]]
    if check(merged, "test set has a merged document"):
        i = merged[0]
        bad[i].update(status="index", mrn=rows[i]["mrns"][1], reason=None)
        rc, out = run_scorer(tmp, rows, bad, "wrong")
        check(rc == 1 and "wrong filings: 1" in out and "accuracy: 3 passed, 1 failed" in out,
              "scorer fails a merged chart filed:\n" + out)
    rc, out = run_scorer(tmp, rows, oracle(rows)[1:], "missing")
    check(rc == 1 and "1 missing" in out, "scorer fails a missing result:\n" + out)
    typo = oracle(rows)
    i = [k for k, e in enumerate(rows) if e["expect"] == "index"][0]
    typo[i]["mrn"] = typo[i]["mrn"][:-1] + str((int(typo[i]["mrn"][-1]) + 1) % 10)
    rc, out = run_scorer(tmp, rows, typo, "digit")
    check(rc == 1 and "wrong filings: 1" in out, "scorer fails a one-digit-off MRN:\n" + out)


def test_barcodes(rows):
    if shutil.which("zbarimg") is None:
        print("skip: zbarimg not installed, barcodes not decoded")
        return
    for e in rows:
        if not e["barcode"] or e["format"] == "pdf":
            continue
        im = Image.open(os.path.join(HERE, "docs", e["file"]))
        with tempfile.TemporaryDirectory() as t:
            paths = []
            for i, fr in enumerate(ImageSequence.Iterator(im)):
                paths.append(os.path.join(t, "%d.png" % i))
                fr.convert("L").save(paths[-1])
            got = set(subprocess.run(["zbarimg", "-q", "--raw"] + paths, capture_output=True,
                                     text=True).stdout.split())
        check(got and got <= set(e["mrns"]), "%s: barcode decodes to a document MRN" % e["file"])


def main():
    src = "".join(open(os.path.join(HERE, "sampgen", n)).read() for n in os.listdir(os.path.join(HERE, "sampgen"))
                  if n.endswith(".py"))
    check("Patient ID" not in src, "the label 'Patient ID' is never used")
    with tempfile.TemporaryDirectory() as tmp:
        rows = test_generated(tmp)
        test_mix()
        brows = test_bundle()
        test_scorer(tmp, brows or rows)
        test_barcodes(brows)
    print("samples self-test: %d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
