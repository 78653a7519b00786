#!/usr/bin/python3
"""End to end: ingest a generated set into a new data directory, then check
what a records department relies on.

  ingest_e2e.py SCANVAULT SET_DIR CONFIG WORK_DIR

- every document gets one line: filed / review / quarantined, never failed;
- no document is filed under an MRN that is not its own;
- `find` of each true MRN lists exactly the documents filed for it, and
  documents held for review or quarantined are under no MRN at all;
- `get` of every docid returns the original bytes, bit for bit;
- ingesting a file again reports it as a duplicate of the first docid and
  files nothing twice; `stats` agrees with what was filed;
- no MRN and no patient name appears anywhere in the data directory (index,
  vault, spool, audit log), in any output line of ingest, or in file names.
"""
import json
import os
import shutil
import subprocess
import sys


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, **kw)


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def main():
    scanvault, set_dir, config, work = sys.argv[1:5]
    manifest = [json.loads(l) for l in open(os.path.join(set_dir, "manifest.jsonl")) if l.strip()]
    data = os.path.join(work, "data")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    env = dict(os.environ, SCANVAULT_CONFIG=config)
    env.pop("CREDENTIALS_DIRECTORY", None)

    r = run([scanvault, "init", "--data", data], env=env)
    if r.returncode != 0:
        fail("init: " + r.stderr.decode())

    files = [os.path.join(set_dir, d["file"]) for d in manifest]
    r = run([scanvault, "ingest", "--data", data, "--json", "--jobs", "2"] + files, env=env)
    ingest_out = r.stdout.decode()
    if r.returncode != 0:
        fail("ingest exit %d: %s" % (r.returncode, r.stderr.decode()[-2000:]))
    reports = {}
    for line in ingest_out.splitlines():
        rep = json.loads(line)
        if rep["arg"] in reports:
            fail("two lines for argument %d" % rep["arg"])
        reports[rep["arg"]] = rep
    if sorted(reports) != list(range(1, len(files) + 1)):
        fail("not one line per file: %d lines for %d files" % (len(reports), len(files)))

    filed_by_mrn, held = {}, set()
    counts = {"filed": 0, "review": 0, "quarantined": 0}
    for i, doc in enumerate(manifest, start=1):
        rep = reports[i]
        if rep["status"] not in counts:
            fail("%s: status %s (%s)" % (doc["file"], rep["status"], rep.get("error")))
        counts[rep["status"]] += 1
        if rep["status"] == "filed":
            filed_by_mrn.setdefault(rep["docid"], doc)
        else:
            held.add(rep["docid"])
    print("ingest: %(filed)d filed, %(review)d review, %(quarantined)d quarantined" % counts)
    if counts["filed"] == 0:
        fail("nothing was filed automatically")

    # find: every MRN of the set, once each.
    listed = {}
    all_mrns = sorted({m for d in manifest for m in d.get("mrns", [])})
    for mrn in all_mrns:
        r = run([scanvault, "find", "--data", data, "--json", mrn], env=env)
        if r.returncode != 0:
            fail("find exit %d: %s" % (r.returncode, r.stderr.decode()))
        out = json.loads(r.stdout)
        if out["count"] != len(out["documents"]):
            fail("find: count disagrees with the list")
        for d in out["documents"]:
            if d["docid"] in listed:
                fail("%s listed under two MRNs" % d["docid"])
            listed[d["docid"]] = mrn
            if d["docid"] in held:
                fail("%s is held for review but listed under an MRN" % d["docid"])
    for docid, doc in filed_by_mrn.items():
        if docid not in listed:
            fail("%s (%s) was filed but no find of its MRNs lists it" % (docid, doc["file"]))
        if listed[docid] not in doc["mrns"]:
            fail("%s (%s) is filed under a wrong MRN" % (docid, doc["file"]))
    if set(listed) != set(filed_by_mrn):
        fail("find lists documents that ingest did not file")
    print("find: %d MRNs searched, %d documents listed, each under its own MRN"
          % (len(all_mrns), len(listed)))

    # get: every document, bit for bit.
    out_dir = os.path.join(work, "out")
    os.makedirs(out_dir)
    for i, doc in enumerate(manifest, start=1):
        docid = reports[i]["docid"]
        target = os.path.join(out_dir, docid)
        r = run([scanvault, "get", "--data", data, docid, "-o", target], env=env)
        if r.returncode != 0:
            fail("get %s: %s" % (docid, r.stderr.decode()))
        with open(target, "rb") as got, open(files[i - 1], "rb") as want:
            if got.read() != want.read():
                fail("get %s: bytes differ from %s" % (docid, doc["file"]))
        if os.stat(target).st_mode & 0o077:
            fail("get wrote %s readable by others" % target)
    print("get: %d documents returned bit for bit" % len(manifest))

    # The same file again: a duplicate, not a second filing.
    first = next(i for i in reports if reports[i]["status"] == "filed")
    r = run([scanvault, "ingest", "--data", data, "--json", files[first - 1]], env=env)
    again = json.loads(r.stdout.decode().splitlines()[0])
    if r.returncode != 0 or again["status"] != "duplicate" or \
            again["duplicate_of"] != reports[first]["docid"]:
        fail("re-ingest was not reported as a duplicate of %s: %s" % (reports[first]["docid"], again))
    mrn = manifest[first - 1]["mrns"][0]
    out = json.loads(run([scanvault, "find", "--data", data, "--json", mrn], env=env).stdout)
    if [d["docid"] for d in out["documents"]].count(reports[first]["docid"]) != 1:
        fail("a duplicate was filed twice")

    r = run([scanvault, "stats", "--data", data, "--json"], env=env)
    st = json.loads(r.stdout)
    if (st["filed"], st["review"], st["quarantined"]) != \
            (counts["filed"], counts["review"], counts["quarantined"]):
        fail("stats disagree with ingest: %s" % st)
    if st["vault_objects"] != len(manifest) or st["spool_files"] != 0:
        fail("stats: %d objects for %d documents, %d in the spool"
             % (st["vault_objects"], len(manifest), st["spool_files"]))
    print("duplicate and stats: consistent")

    # No PHI anywhere: contents and names of every file under the data
    # directory, and every line ingest printed. Text files (audit log,
    # status) are searched without regard to case for every name part; the
    # encrypted objects and the index are binary, where a short part would
    # turn up by chance (4 letters in 8 MB of ciphertext, any case: about
    # one run in ten), so there the search is exact and for parts of at
    # least 6 characters, whole names and MRNs.
    exact, loose = set(), set()
    for d in manifest:
        for m in d.get("mrns", []):
            exact.add(m.encode())
            loose.add(m.encode())
        for name in d.get("names", []):
            exact.add(name.encode())
            loose.add(name.lower().encode())
            for part in name.split():
                if len(part) >= 6:
                    exact.add(part.encode())
                if len(part) >= 4:
                    loose.add(part.lower().encode())
    scanned = 0
    for root, dirs, names in os.walk(data):
        for n in dirs + names:
            for s in loose:
                if s in n.lower().encode():
                    fail("a file name under the data directory holds PHI")
        for n in names:
            path = os.path.join(root, n)
            blob = open(path, "rb").read()
            scanned += 1
            is_binary = n.endswith((".svd", ".mdb"))
            hay, needles = (blob, exact) if is_binary else (blob.lower(), loose)
            for s in needles:
                if s in hay:
                    fail("%s holds an MRN or a patient name" % os.path.relpath(path, data))
    text = (ingest_out + r.stdout.decode()).lower().encode()
    for s in loose:
        if s in text:
            fail("ingest or stats output holds an MRN or a patient name")
    lowered = loose | exact
    print("phi: %d strings searched in %d files of the data directory: no hit" % (len(lowered), scanned))
    print("PASS")


if __name__ == "__main__":
    main()
