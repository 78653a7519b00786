#!/usr/bin/python3
"""`scanvault run` with real files, real processes and real signals.

  service_test.py SCANVAULT SAMPLES_DIR WORK_DIR [CASE...]

Cases: rescan_only, slow_writer, drain, reload, hostile (all by default).
"""
import json
import os
import random
import signal
import socket
import stat
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


def case_odd_files(scanvault, samples, work):
    """Everything odd that lands in a share: links out of the inbox (to
    /etc/shadow, the key, the vault), a hard link to a file elsewhere, a
    FIFO, a socket, a device, a directory, names with a newline, invalid
    UTF-8 or 255 bytes, an empty file, a file nobody may read. Each has its
    defined outcome, nothing is followed out of the inbox, no name is
    logged, and the ordinary documents among them flow."""
    site = Site(scanvault, samples, work, settle=1, rescan=1)
    inbox = site.inbox.encode()
    secret = os.path.join(work, "secret.txt")
    with open(secret, "wb") as f:
        f.write(b"SECRET-NOT-A-SCAN " * 64)
    left_alone = {b"link-shadow": "symlink", b"link-key": "symlink", b"link-vault": "symlink",
                  b"hard-link.png": "hardlink", b"fifo.png": "fifo", b"sock-entry": "socket",
                  b"a-directory": "dir", b"unreadable.png": "unreadable"}
    os.symlink("/etc/shadow", os.path.join(inbox, b"link-shadow"))
    os.symlink(os.path.join(site.data, "keys", "scanvault.key"), os.path.join(inbox, b"link-key"))
    os.symlink(os.path.join(site.data, "vault"), os.path.join(inbox, b"link-vault"))
    os.link(secret, os.path.join(inbox, b"hard-link.png"))
    os.mkfifo(os.path.join(inbox, b"fifo.png"))
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(os.path.join(inbox, b"sock-entry"))
    os.mkdir(os.path.join(inbox, b"a-directory"))
    drop(os.path.join(site.inbox, "a-directory", "inside.png"), sample(samples, "doc-0025.png"))
    if os.geteuid() == 0:
        os.mknod(os.path.join(inbox, b"dev-node"), 0o600 | stat.S_IFCHR, os.makedev(1, 3))
        left_alone[b"dev-node"] = "device"
    with open(os.path.join(inbox, b"unreadable.png"), "wb") as f:
        f.write(sample(samples, "doc-0013.png"))
    os.chmod(os.path.join(inbox, b"unreadable.png"), 0)
    odd_names = {b"new\nline.png": "doc-0001.png", b"bad-\xff\xfe-utf8.png": "doc-0007.png",
                 b"n" * 251 + b".png": "doc-0003.jpg", b"-rf --help.png": "doc-0004.pdf"}
    for name, src in odd_names.items():
        drop(os.path.join(inbox, name), sample(samples, src))
    open(os.path.join(inbox, b"empty.png"), "wb").close()
    # As root, drop the capabilities that read any file, so "unreadable"
    # means what it says for the service too.
    prefix = (["setpriv", "--bounding-set=-dac_override,-dac_read_search"]
              if os.geteuid() == 0 else [])
    site.start(prefix)
    want = len(odd_names) + 1
    site.wait_until("the odd names and the empty file to be filed",
                    lambda: len(site.filed_docids()) >= want, timeout=180)
    time.sleep(3)  # a few more rescans over what is left alone
    check(site.stop() == 0, "the service did not stop cleanly")
    sock.close()
    left = set(os.listdir(inbox))
    check(left == set(left_alone), "the inbox holds %r, expected %r" % (left, set(left_alone)))
    check(os.listdir(os.path.join(inbox, b"a-directory")) == [b"inside.png"],
          "a directory in the inbox was entered")
    check(os.stat(secret).st_nlink == 2, "the hard-linked file was moved")
    results = site.filed_docids()
    check(len(results) == want, "filed %d, expected %d: %r" % (len(results), want, results))
    check(sum("reason=empty_file" in r for r in results.values()) == 1,
          "the empty file was not quarantined as empty_file: %r" % results)
    got = {site.get(d) for d in results}
    expected = {sample(samples, s) for s in odd_names.values()} | {b""}
    check(got == expected, "the vault holds something other than the dropped documents")
    log = open(site.log_path, "rb").read()
    check(b"left alone" in log, "nothing was logged about the entries left alone")
    check(b"Permission denied" in log, "the unreadable file was not reported")
    for name in list(left_alone) + list(odd_names):
        check(name not in log, "the service log names an inbox entry: %r" % name)


def worker_pids(service_pid):
    try:
        with open("/proc/%d/task/%d/children" % (service_pid, service_pid)) as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def case_worker_kills(scanvault, samples, work):
    """OCR workers killed with SIGKILL at random while they read: each
    document still ends filed, held or quarantined (worker_crashed), never
    lost, the workers are replaced and the service goes on."""
    site = Site(scanvault, samples, work, settle=1, rescan=1)
    site.start()
    site.wait_until("the first status", lambda: site.status() is not None)
    names = ["doc-0001.png", "doc-0003.jpg", "doc-0007.png", "doc-0013.png", "doc-0025.png",
             "doc-0004.pdf"]
    for n in names:
        drop(os.path.join(site.inbox, n), sample(samples, n))
    rng = random.Random(20261124)
    kills = 0
    deadline = time.time() + 120
    while kills < 4 and time.time() < deadline and os.listdir(site.inbox) + site.spool():
        time.sleep(rng.uniform(0.3, 1.2))
        pids = worker_pids(site.proc.pid)
        if pids:
            try:
                os.kill(rng.choice(pids), signal.SIGKILL)
                kills += 1
            except ProcessLookupError:
                pass
    check(kills > 0, "no worker was killed")
    site.wait_until("the inbox to empty", site.idle, timeout=180)
    drop(os.path.join(site.inbox, "after.png"), sample(samples, "doc-0030.tif"))
    site.wait_until("a document after the kills", site.idle, timeout=120)
    check(site.stop() == 0, "the service did not stop cleanly")
    results = site.filed_docids()
    check(len(results) == len(names) + 1, "%d of %d documents accounted for: %r" %
          (len(results), len(names) + 1, results))
    check(all(r.startswith(("filed", "review", "quarantined reason=worker_crashed"))
              for r in results.values()), "an unexpected outcome: %r" % results)
    print("     %d worker kills, %d documents: %s" % (kills, len(results), sorted(
        r.split()[0] + ("/crashed" if "worker_crashed" in r else "") for r in results.values())))


def case_key_removed(scanvault, samples, work):
    """The key file removed while the service runs: the key is in memory,
    filing goes on, a reload keeps working; the next start refuses with a
    clear message until the key file is restored."""
    site = Site(scanvault, samples, work, settle=1, rescan=1)
    key = os.path.join(site.data, "keys", "scanvault.key")
    site.start()
    site.wait_until("the first status", lambda: site.status() is not None)
    os.rename(key, key + ".away")
    drop(os.path.join(site.inbox, "a.png"), sample(samples, "doc-0001.png"))
    site.wait_until("the inbox to empty", site.idle, timeout=120)
    site.proc.send_signal(signal.SIGHUP)
    drop(os.path.join(site.inbox, "b.png"), sample(samples, "doc-0007.png"))
    site.wait_until("the inbox to empty after a reload", site.idle, timeout=120)
    check(site.stop() == 0, "the service did not stop cleanly")
    check(len(site.filed_docids()) == 2, "documents were not filed without the key file")
    log = open(site.log_path, "a")
    r = subprocess.run([scanvault, "run", "--config", site.config, "--data", site.data],
                       stderr=log, env=site.env, timeout=60)
    log.close()
    check(r.returncode == 3, "a start without the key file exited %d, not 3" % r.returncode)
    check("restore the key file" in site.log(), "no clear message about the missing key")
    os.rename(key + ".away", key)
    drop(os.path.join(site.inbox, "c.png"), sample(samples, "doc-0013.png"))
    site.start()
    site.wait_until("the inbox to empty after the key is back", site.idle, timeout=120)
    check(site.stop() == 0, "the service did not stop cleanly")
    check(len(site.filed_docids()) == 3, "not filed once the key is back")


CASES = {"rescan_only": case_rescan_only, "slow_writer": case_slow_writer, "drain": case_drain,
         "reload": case_reload, "hostile": case_hostile, "odd_files": case_odd_files,
         "worker_kills": case_worker_kills, "key_removed": case_key_removed}


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
