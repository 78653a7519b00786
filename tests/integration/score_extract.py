#!/usr/bin/python3
"""Score `scanvault extract --json` output against a sample-set manifest.

    score_extract.py MANIFEST RESULTS_JSONL [--min-auto 0.95] [--min-type 0.95]

MANIFEST is the manifest.jsonl written by samples/generate.py; RESULTS_JSONL
has one JSON object per line:
    {"file": ..., "status": "index"|"review"|"reject", "mrn": "<digits>"|null,
     "type": ..., "reason": ...|null, "pages": N, "ms": N}
Results are matched to manifest entries by the basename of "file".

Checks (exit 1 if any fails):
  1. wrong filings == 0: status "index" while the document does not carry
     exactly one MRN, or the filed MRN differs from it;
  2. auto-filed rate >= --min-auto: correctly filed / documents expected "index";
  3. type accuracy >= --min-type over the documents that have a result;
  4. every manifest document has a result.
The last line is always "accuracy: N passed, M failed".  The sets are
synthetic (samples/generate.py), so printing their numbers is harmless.
"""

import argparse
import collections
import json
import os
import sys


def load_jsonl(path, what):
    rows = []
    bad = 0
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                bad += 1
                print("warning: %s line %d is not JSON, skipped" % (what, n))
                continue
            if not isinstance(obj, dict) or "file" not in obj:
                bad += 1
                print("warning: %s line %d has no \"file\", skipped" % (what, n))
                continue
            rows.append(obj)
    return rows, bad


def category(doc):
    """A short description of what kind of document this is."""
    parts = [doc.get("class") or doc.get("expect"), doc.get("type"), doc.get("mrn_style")]
    fmt = doc.get("format")
    if fmt == "tiff" and doc.get("tiff_compression"):
        fmt += "/" + doc["tiff_compression"]
    parts += [fmt, "%sdpi" % doc.get("dpi"), "rot%s" % doc.get("rotation", 0)]
    if doc.get("skew"):
        parts.append("skew%+.1f" % doc["skew"])
    if doc.get("degradations"):
        parts.append("+".join(doc["degradations"]))
    if doc.get("barcode"):
        parts.append(doc["barcode"])
    return " ".join(str(p) for p in parts if p)


def breakdown_keys(doc):
    """(dimension, value) pairs a miss is counted under."""
    fmt = doc.get("format")
    if fmt == "tiff" and doc.get("tiff_compression"):
        fmt += "/" + doc["tiff_compression"]
    keys = [("class", doc.get("class", doc.get("expect"))), ("type", doc.get("type")), ("format", fmt),
            ("dpi", doc.get("dpi")), ("rotation", doc.get("rotation", 0)),
            ("skew", "skewed" if doc.get("skew") else "straight"), ("mrn_style", doc.get("mrn_style")),
            ("barcode", doc.get("barcode") or "none"), ("pages", doc.get("pages"))]
    degr = doc.get("degradations") or []
    keys += [("degradation", d) for d in degr] or [("degradation", "none")]
    return keys


def score(manifest, results, min_auto, min_type):
    by_name = {}
    dup = 0
    for r in results:
        name = os.path.basename(str(r["file"]))
        if name in by_name:
            dup += 1
        by_name[name] = r
    docs = {os.path.basename(d["file"]): d for d in manifest}
    extra = sorted(set(by_name) - set(docs))
    missing = sorted(set(docs) - set(by_name))

    wrong = []
    filed_review = []          # filed with the right single MRN although review was expected
    misses = []
    expect_index = auto_ok = 0
    typed = type_ok = 0
    reasons = collections.Counter()
    reasons_by_class = collections.defaultdict(collections.Counter)
    status_count = collections.Counter()
    total_ms = 0.0
    total_pages = 0
    confusion = collections.Counter()
    for name in sorted(docs):
        d = docs[name]
        r = by_name.get(name)
        mrns = [str(m) for m in d.get("mrns", [])]
        if d.get("expect") == "index":
            expect_index += 1
        if r is None:
            continue
        status = r.get("status")
        status_count[status] += 1
        got = r.get("mrn")
        got = None if got is None else str(got)
        filed = status == "index"
        if filed and (len(mrns) != 1 or got != mrns[0]):
            wrong.append((name, d, got))
        elif filed and d.get("expect") != "index":
            filed_review.append((name, d))
        ok = (filed and len(mrns) == 1 and got == mrns[0]) if d.get("expect") == "index" else not filed
        if d.get("expect") == "index" and ok:
            auto_ok += 1
        if not ok:
            misses.append((name, d, r))
        if not filed:
            code = r.get("reason") or "(none)"
            reasons["%s:%s" % (status, code)] += 1
            reasons_by_class[d.get("class", d.get("expect"))][code] += 1
        typed += 1
        if r.get("type") == d.get("type"):
            type_ok += 1
        else:
            confusion[(d.get("type"), r.get("type"))] += 1
        try:
            ms = float(r.get("ms") or 0)
            pages = int(r.get("pages") or d.get("pages") or 1)
        except (TypeError, ValueError):
            ms, pages = 0.0, 1
        total_ms += ms
        total_pages += pages

    auto_rate = auto_ok / expect_index if expect_index else 1.0
    type_acc = type_ok / typed if typed else 0.0

    print("documents: %d in manifest, %d results matched, %d missing, %d extra results%s" %
          (len(docs), len(docs) - len(missing), len(missing), len(extra),
           ", %d duplicate result lines (last one used)" % dup if dup else ""))
    print("status: " + ", ".join("%s %d" % (k, v) for k, v in sorted(status_count.items(), key=str)))
    for name in missing[:20]:
        print("  missing result: %s (%s)" % (name, category(docs[name])))
    if len(missing) > 20:
        print("  ... %d more missing" % (len(missing) - 20))
    for name in extra[:5]:
        print("  result for a file not in the manifest: %s" % name)
    print("wrong filings: %d" % len(wrong))
    for name, d, got in wrong:
        mrns = d.get("mrns", [])
        why = ("document has %d MRNs" % len(mrns)) if len(mrns) != 1 else \
            "filed under %s, document MRN %s" % (got, mrns[0])
        print("  WRONG %s [%s]: %s" % (name, category(d), why))
    if filed_review:
        print("filed although review was expected (right MRN, not counted as wrong): %d" % len(filed_review))
        for name, d in filed_review:
            print("  %s [%s]" % (name, category(d)))
    print("auto-filed: %d/%d expected-index documents = %.1f%% (min %.1f%%)" %
          (auto_ok, expect_index, 100.0 * auto_rate, 100.0 * min_auto))
    print("type accuracy: %d/%d = %.1f%% (min %.1f%%)" % (type_ok, typed, 100.0 * type_acc, 100.0 * min_type))
    if confusion:
        print("  type confusions (expected -> got): " +
              ", ".join("%s->%s %d" % (a, b, n) for (a, b), n in confusion.most_common(10)))
    print("review/reject reasons:")
    for code, n in reasons.most_common():
        print("  %-32s %d" % (code, n))
    for cls in sorted(reasons_by_class, key=str):
        print("  by class %-10s %s" % (cls, ", ".join("%s %d" % kv for kv in reasons_by_class[cls].most_common())))
    if misses:
        print("misses (expected outcome not reached): %d" % len(misses))
        for name, d, r in misses[:40]:
            print("  %s [%s] -> %s %s" % (name, category(d), r.get("status"), r.get("reason") or ""))
        totals = collections.Counter()
        missed = collections.Counter()
        for d in docs.values():
            for k in breakdown_keys(d):
                totals[k] += 1
        for _, d, _ in misses:
            for k in breakdown_keys(d):
                missed[k] += 1
        print("misses by category (misses/documents):")
        for dim in ["class", "type", "format", "dpi", "rotation", "skew", "degradation", "mrn_style",
                    "barcode", "pages"]:
            vals = [(v, missed[(dim, v)], totals[(dim, v)]) for (dd, v) in totals if dd == dim]
            vals = [x for x in vals if x[1]]
            if vals:
                vals.sort(key=lambda x: (-x[1] / x[2], str(x[0])))
                print("  %-12s %s" % (dim, "  ".join("%s %d/%d" % x for x in vals)))
    if total_pages:
        print("time: %.0f ms/page mean over %d pages (%.0f ms/document)" %
              (total_ms / total_pages, total_pages, total_ms / max(1, typed)))

    checks = [("no wrong filings", len(wrong) == 0),
              ("auto-filed rate >= %.3f" % min_auto, auto_rate >= min_auto),
              ("type accuracy >= %.3f" % min_type, type_acc >= min_type),
              ("every document has a result", not missing)]
    for label, ok in checks:
        print("check %-32s %s" % (label, "ok" if ok else "FAILED"))
    passed = sum(1 for _, ok in checks if ok)
    failed = len(checks) - passed
    print("accuracy: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("manifest")
    ap.add_argument("results")
    ap.add_argument("--min-auto", type=float, default=0.95)
    ap.add_argument("--min-type", type=float, default=0.95)
    a = ap.parse_args(argv)
    try:
        manifest, bad_m = load_jsonl(a.manifest, "manifest")
        results, _ = load_jsonl(a.results, "results")
    except OSError as e:
        print("error: cannot read %s: %s" % (e.filename, e.strerror))
        print("accuracy: 0 passed, 4 failed")
        return 1
    if not manifest or bad_m:
        print("error: manifest %s is empty or damaged" % a.manifest)
        print("accuracy: 0 passed, 4 failed")
        return 1
    return score(manifest, results, a.min_auto, a.min_type)


if __name__ == "__main__":
    sys.exit(main())
