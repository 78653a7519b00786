#!/usr/bin/python3
"""Crash test: `kill -9` of the supervisor at random moments while files are
being dropped into the inbox (some in one go, some in pieces over seconds,
some under a .part name renamed at the end), restarting it each time. At the
end every file must be filed exactly once: each appears once in the vault
and the index, `get` returns its exact bytes, `find` lists each patient's
filed documents once, and the spool, the vault's tmp and the inbox are empty.

  service_crash.py SCANVAULT SAMPLES_DIR WORK_DIR [KILLS] [DOCUMENTS] [SEED]
"""
import json
import os
import random
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from svtest import Fail, Site, check, drop  # noqa: E402


def make_documents(samples, count, rng):
    """count distinct files from the bundled samples: the same scans with a
    few unique trailing bytes (ignored by every decoder), so each has its own
    content id but reads the same."""
    manifest = [json.loads(l) for l in open(os.path.join(samples, "manifest.jsonl")) if l.strip()]
    docs = []
    for i in range(count):
        m = manifest[i % len(manifest)]
        data = open(os.path.join(samples, "docs", m["file"]), "rb").read()
        data += b"\n%%scanvault-crash-test %d %d\n" % (i, rng.randrange(1 << 30))
        name = "scan-%03d%s" % (i, os.path.splitext(m["file"])[1])
        docs.append((name, data, m))
    return docs


def writer(site, docs, rng, done):
    for name, data, _ in docs:
        style = rng.random()
        path = os.path.join(site.inbox, name)
        if style < 0.3:
            drop(path, data, chunks=rng.randint(3, 6), pause=rng.uniform(0.2, 0.6))
        elif style < 0.5:
            drop(path, data, chunks=3, pause=0.1, via_part=True)
        else:
            drop(path, data)
        time.sleep(rng.uniform(0.0, 0.8))
    done.set()


def main():
    scanvault, samples, work = sys.argv[1:4]
    kills = int(sys.argv[4]) if len(sys.argv) > 4 else 50
    count = int(sys.argv[5]) if len(sys.argv) > 5 else 40
    seed = int(sys.argv[6]) if len(sys.argv) > 6 else 20261123
    rng = random.Random(seed)
    site = Site(scanvault, samples, work, settle=1, rescan=1)
    docs = make_documents(samples, count, rng)
    done = threading.Event()
    t = threading.Thread(target=writer, args=(site, docs, random.Random(seed + 1), done))
    t0 = time.time()
    t.start()
    for k in range(kills):
        site.start()
        time.sleep(rng.uniform(0.2, 2.5))
        site.kill9()
    t.join()
    print("%d kill -9 in %.0f s while %d files were dropped" % (kills, time.time() - t0, len(docs)))
    try:
        site.start()
        site.wait_until("every file to be filed", site.idle, timeout=900)
        check(site.stop() == 0, "the final run did not stop cleanly")
    except Fail as e:
        print("FAIL:", e)
        print(site.log()[-3000:])
        sys.exit(1)
    try:
        check(not os.listdir(site.inbox), "files left in the inbox: %s" % os.listdir(site.inbox))
        check(not site.spool(), "files left in the spool: %s" % site.spool())
        check(not site.vault_tmp(), "temp objects left in the vault: %s" % site.vault_tmp())
        filed = site.filed_docids()
        objects = site.vault_objects()
        st = site.stats()
        check(len(objects) == len(docs), "%d vault objects for %d files" % (len(objects), len(docs)))
        check(st["documents"] == len(docs), "%d index entries for %d files" % (st["documents"], len(docs)))
        check(set(o[:-4] for o in objects) == set(filed),
              "the vault and the audit log disagree on the docids")
        by_bytes = {}
        for docid in filed:
            by_bytes.setdefault(site.get(docid), []).append(docid)
        for name, data, _ in docs:
            check(len(by_bytes.get(data, [])) == 1,
                  "%s is filed %d times" % (name, len(by_bytes.get(data, []))))
        # find: each patient's filed documents once.
        for mrn in sorted({m for _, _, meta in docs for m in meta["mrns"]}):
            r = subprocess.run([scanvault, "find", "--data", site.data, "--json", mrn],
                               capture_output=True, env=site.env)
            check(r.returncode == 0, "find: " + r.stderr.decode())
            ids = [d["docid"] for d in json.loads(r.stdout)["documents"]]
            check(len(ids) == len(set(ids)), "find lists a document twice")
            for docid in ids:
                check(filed.get(docid, "").startswith("filed"), "find lists %s, not filed" % docid)
        recovered = site.log().count("recovered=yes")
        print("every file filed exactly once (%d documents; %d finished by a recovery)"
              % (len(docs), recovered))
    except Fail as e:
        print("FAIL:", e)
        sys.exit(1)
    print("PASS")


if __name__ == "__main__":
    main()
