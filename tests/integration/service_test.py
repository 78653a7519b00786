#!/usr/bin/python3
"""`scanvault run` with real files, real processes and real signals.

  service_test.py SCANVAULT SAMPLES_DIR WORK_DIR [CASE...]

Cases: rescan_only, slow_writer, drain, reload, hostile (all by default).
"""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from svtest import Fail, Site, check, drop  # noqa: E402


def sample(samples, name):
    with open(os.path.join(samples, "docs", name), "rb") as f:
        return f.read()


def case_rescan_only(scanvault, samples, work):
    """inotify off: files are found by the periodic listing alone, as on a
    network share."""
    site = Site(scanvault, samples, work, settle=1, rescan=1, inotify=False)
    site.start()
    site.wait_until("the first status", lambda: site.status() is not None)
    names = ["doc-0001.png", "doc-0003.jpg"]
    for n in names:
        drop(os.path.join(site.inbox, n), sample(samples, n))
    site.wait_until("the inbox to empty", site.idle, timeout=120)
    check(site.stop() == 0, "the service did not stop cleanly")
    check("inotify off" in site.log(), "the service did not say inotify is off")
    filed = site.filed_docids()
    check(len(filed) == 2, "expected 2 documents, the audit log has %d" % len(filed))
    got = sorted(site.get(d) for d in filed)
    check(got == sorted(sample(samples, n) for n in names), "get does not return the dropped bytes")


def case_slow_writer(scanvault, samples, work):
    """A file written in pieces (open, append, close each time, as over a
    network share) over longer than the settle interval is never claimed
    half-written."""
    site = Site(scanvault, samples, work, settle=2, rescan=1)
    site.start()
    site.wait_until("the first status", lambda: site.status() is not None)
    data = sample(samples, "doc-0004.pdf")
    drop(os.path.join(site.inbox, "slow.pdf"), data, chunks=8, pause=0.7)  # 5.6 s > 2 s settle
    site.wait_until("the inbox to empty", site.idle, timeout=120)
    check(site.stop() == 0, "the service did not stop cleanly")
    filed = site.filed_docids()
    check(len(filed) == 1, "a slowly written file gave %d documents" % len(filed))
    check(site.get(next(iter(filed))) == data, "the filed document is not the whole file")


def case_drain(scanvault, samples, work):
    """SIGTERM while documents are in flight: they are filed, nothing new is
    claimed, the service exits 0, nothing is left in the spool."""
    site = Site(scanvault, samples, work, settle=1, rescan=1)
    names = ["doc-0004.pdf", "doc-0008.pdf", "doc-0001.png", "doc-0002.tif", "doc-0003.jpg",
             "doc-0005.jpg"]
    site.start()
    site.wait_until("the first status", lambda: site.status() is not None)
    for n in names:
        drop(os.path.join(site.inbox, n), sample(samples, n))
    site.wait_until("a document in flight", lambda: (site.status() or {}).get("in_flight", 0) > 0,
                    timeout=60)
    check(site.stop(signal.SIGTERM) == 0, "the drained service did not exit 0")
    check("draining" in site.log(), "no drain log line")
    check(not site.spool(), "the spool is not empty after a drain: %s" % site.spool())
    check(not site.vault_tmp(), "temp objects left in the vault")
    filed = site.filed_docids()
    left = os.listdir(site.inbox)
    check(len(filed) >= 1, "the documents in flight were not filed")
    check(len(filed) + len(left) == len(names),
          "%d filed + %d left in the inbox != %d dropped" % (len(filed), len(left), len(names)))
    # The rest is filed by the next start.
    site.start()
    site.wait_until("the inbox to empty", site.idle, timeout=180)
    check(site.stop() == 0, "the second run did not stop cleanly")
    check(len(site.filed_docids()) == len(names), "not every document was filed once")
    check(site.stats()["documents"] == len(names), "the index does not hold each document once")


def case_reload(scanvault, samples, work):
    """SIGHUP with a bad configuration: refused with a log line, the service
    goes on with the old one. With a good one: reloaded, still filing."""
    site = Site(scanvault, samples, work, settle=1, rescan=1)
    site.start()
    site.wait_until("the first status", lambda: site.status() is not None)
    with open(site.config, "a") as f:
        f.write("\n[mrn]\nmin_length = 99\n")  # a section twice: refused
    site.proc.send_signal(signal.SIGHUP)
    site.wait_until("the refusal", lambda: "reload refused" in site.log(), timeout=30)
    drop(os.path.join(site.inbox, "a.png"), sample(samples, "doc-0001.png"))
    site.wait_until("a.png filed", site.idle, timeout=60)
    check(len(site.filed_docids()) == 1, "the service stopped filing after a refused reload")
    site.write_config(settle=1, rescan=1, extra="[service]\nlog_level = debug\n")
    site.proc.send_signal(signal.SIGHUP)
    site.wait_until("the reload", lambda: "configuration reloaded" in site.log(), timeout=60)
    drop(os.path.join(site.inbox, "b.jpg"), sample(samples, "doc-0003.jpg"))
    site.wait_until("b.jpg filed", site.idle, timeout=60)
    check(len(site.filed_docids()) == 2, "the service stopped filing after a reload")
    check(site.stop() == 0, "the service did not stop cleanly")
    prom = open(os.path.join(site.data, "status", "scanvault.prom")).read()
    check('scanvault_documents_total{status="filed"}' in prom, "no Prometheus figures")


def case_hostile(scanvault, samples, work):
    """A file that crashes the OCR worker and one that hangs it end in
    quarantine with the reason, sealed like any document; the others keep
    flowing. Needs the build-time test hooks (SV_TEST_HOOKS)."""
    site = Site(scanvault, samples, work, settle=1, rescan=1,
                extra="[ocr]\ntimeout_seconds = 20\n")
    site.start()
    site.wait_until("the first status", lambda: site.status() is not None)
    drop(os.path.join(site.inbox, "crash.png"), b"SV-TEST-CRASH" + b"\0" * 100)
    drop(os.path.join(site.inbox, "hang.png"), b"SV-TEST-HANG" + b"\0" * 100)
    good = ["doc-0001.png", "doc-0003.jpg", "doc-0007.png"]
    for n in good:
        drop(os.path.join(site.inbox, n), sample(samples, n))
    site.wait_until("the inbox to empty", site.idle, timeout=180)
    check(site.stop() == 0, "the service did not stop cleanly")
    filed = site.filed_docids()
    results = sorted(filed.values())
    check(any("quarantined reason=worker_crashed" in r for r in results),
          "no quarantine for the crashing file: %s" % results)
    check(any("quarantined reason=timeout" in r for r in results),
          "no quarantine for the hanging file: %s" % results)
    check(sum(r.startswith("filed") for r in results) == len(good),
          "the other documents did not flow: %s" % results)
    st = site.stats()
    check(st["quarantined"] == 2 and st["vault_objects"] == 5, "quarantined files are not sealed: %s" % st)
    # The admin lists the quarantine and gets the bytes back.
    r = subprocess.run([scanvault, "list", "--data", site.data, "--json"], capture_output=True,
                       env=site.env)
    check(r.returncode == 0, "list: " + r.stderr.decode())
    listed = [json.loads(l) for l in r.stdout.decode().splitlines()]
    check(sorted(d["reason"] for d in listed) == ["timeout", "worker_crashed"],
          "list --state quarantined: %s" % listed)
    crashed = next(d["docid"] for d in listed if d["reason"] == "worker_crashed")
    check(site.get(crashed) == b"SV-TEST-CRASH" + b"\0" * 100, "get of a quarantined file")


CASES = {"rescan_only": case_rescan_only, "slow_writer": case_slow_writer, "drain": case_drain,
         "reload": case_reload, "hostile": case_hostile}


def main():
    scanvault, samples, work = sys.argv[1:4]
    names = [n for n in sys.argv[4:] if n] or list(CASES)
    for name in names:
        t = time.time()
        try:
            CASES[name](scanvault, samples, os.path.join(work, name))
        except Fail as e:
            print("FAIL %s: %s" % (name, e))
            log = os.path.join(work, name, "service.log")
            if os.path.exists(log):
                print("--- service log ---\n" + open(log).read()[-4000:])
            sys.exit(1)
        print("ok   %s (%.0f s)" % (name, time.time() - t))
    print("PASS")


if __name__ == "__main__":
    main()
