#!/usr/bin/env python3
"""The review queue end to end with the real binary on a real data directory
(synthetic documents sealed by sv_make_data, no OCR):

  - list shows every held document, oldest first, with the reason in words;
  - show writes the original bytes and the MRN candidates;
  - assign refuses a mistyped confirmation, an ill-formed MRN, a bad check
    digit and an MRN missing from the known-MRN list, and changes nothing;
  - assign files the document: find returns it, the queue no longer has it;
  - reject moves a document to the quarantine with its sealed note;
  - reassign moves a filed document to another patient in one step, also
    while the service (its lock) runs;
  - every decision is audited with the docid, never the MRN.

  - with the build's test hooks: a reassign killed (SIGKILL) between the
    vault header and the index is completed by the next command.

usage: review_test.py SCANVAULT SV_MAKE_DATA WORKDIR [hooks]
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time


def check(cond, msg):
    if not cond:
        raise SystemExit("FAIL: " + msg)


def luhn_ok(s):
    total = 0
    for i, c in enumerate(reversed(s)):
        d = int(c)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def luhn_complete(body):
    for last in "0123456789":
        if luhn_ok(body + last):
            return body + last
    raise AssertionError


class Data:
    def __init__(self, scanvault, work, config):
        self.scanvault, self.work, self.config = scanvault, work, config
        self.data = os.path.join(work, "data")
        self.env = dict(os.environ)
        for k in ("CREDENTIALS_DIRECTORY", "SCANVAULT_DATA", "SCANVAULT_CONFIG"):
            self.env.pop(k, None)

    def run(self, *args, config=None, stdin=subprocess.DEVNULL):
        r = subprocess.run([self.scanvault] + list(args) +
                           ["--data", self.data, "--config", config or self.config],
                           capture_output=True, env=self.env, stdin=stdin)
        return r.returncode, r.stdout.decode(), r.stderr.decode()

    def ok(self, *args, config=None):
        rc, out, err = self.run(*args, config=config)
        check(rc == 0, "%s: exit %d: %s" % (" ".join(args), rc, err))
        return out

    def queue(self):
        out = self.ok("review", "list", "--json")
        return [json.loads(line) for line in out.splitlines()]

    def find(self, mrn, config=None):
        out = self.ok("find", mrn, "--json", config=config)
        return [d["docid"] for d in json.loads(out)["documents"]]

    def state_of(self, docid):
        out = self.ok("list", "--state", "all", "--json")
        for line in out.splitlines():
            d = json.loads(line)
            if d["docid"] == docid:
                return d
        return None

    def audit(self):
        with open(os.path.join(self.data, "audit", "audit.log")) as f:
            return [line.rstrip("\n").split("\t") for line in f]


def main():
    scanvault, make_data, work = sys.argv[1:4]
    has_hooks = len(sys.argv) > 4 and sys.argv[4] == "hooks"
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    # The known-MRN list and the rules of the synthetic hospital.
    new_patient = luhn_complete("7654321")
    other_patient = luhn_complete("7654322")
    unlisted = luhn_complete("7654323")
    known = os.path.join(work, "known.txt")
    with open(known, "w") as f:
        f.write("%s\n%s\n" % (new_patient, other_patient))
    config = os.path.join(work, "scanvault.conf")
    with open(config, "w") as f:
        f.write("[mrn]\nmin_length = 8\nmax_length = 8\ncheck_digit = luhn\n"
                "known_mrns = %s\n" % known)
    os.chmod(config, 0o600)
    defaults = os.path.join(work, "defaults.conf")  # built-in rules: any 6..10 digits
    open(defaults, "w").close()
    os.chmod(defaults, 0o600)
    d = Data(scanvault, work, config)
    r = subprocess.run([scanvault, "init", "--data", d.data], capture_output=True, env=d.env)
    check(r.returncode == 0, "init: " + r.stderr.decode())
    manifest = os.path.join(work, "manifest.tsv")
    r = subprocess.run([make_data, "--data", d.data, "--count", "80", "--seed", "7",
                        "--review", "25", "--manifest", manifest], capture_output=True)
    check(r.returncode == 0, "sv_make_data: " + r.stderr.decode())
    rows = [line.split("\t") for line in open(manifest).read().splitlines()]
    held = {row[0] for row in rows if row[1] == "review"}
    filed = [row for row in rows if row[1] == "filed"]
    check(len(held) >= 6 and len(filed) >= 20, "the set needs held and filed documents")

    # list: every held document, oldest first, reasons in words.
    queue = d.queue()
    check({q["docid"] for q in queue} == held, "review list is not the set of held documents")
    check([q["since"] for q in queue] == sorted(q["since"] for q in queue),
          "review list is not oldest first")
    check(all(q["reason_words"] and q["reason_words"] != q["reason"] for q in queue),
          "a reason is not given in words")
    text = d.ok("review", "list")
    check("%d document(s) waiting" % len(held) in text, "the table has no count")

    # show: the original bytes (same as get) and the candidates.
    first = queue[0]["docid"]
    shown = os.path.join(work, "shown.bin")
    out = d.ok("review", "show", first, "-o", shown)
    check("candidate" in out and "MRN candidates seen by OCR" in out, "show lists no candidate")
    got = subprocess.run([scanvault, "get", first, "--data", d.data, "--config", config],
                         capture_output=True, env=d.env)
    check(got.returncode == 0 and open(shown, "rb").read() == got.stdout,
          "show -o did not write the original bytes")
    rc, _, err = d.run("review", "show", first, "-o", shown)
    check(rc == 2 and "exists" in err, "show -o over an existing file was not refused")
    rc, _, err = d.run("review", "show", filed[0][0])
    check(rc == 3 and "not in review" in err, "show of a filed document was not refused")

    # assign: refusals change nothing.
    before = d.queue()
    audit_before = len(d.audit())
    refusals = [
        (new_patient, other_patient, "does not match"),       # mistyped confirmation
        ("12AB5678", "12AB5678", "refused"),                  # ill-formed
        (new_patient[:-1] + str((int(new_patient[-1]) + 1) % 10),) * 2 + ("check digit",),
        (unlisted, unlisted, "known-MRN list"),               # not on the list
    ]
    for mrn, confirm, words in refusals:
        rc, out, err = d.run("review", "assign", first, mrn, "--confirm", confirm)
        check(rc == 2, "assign %s/%s: exit %d, want 2" % (mrn, confirm, rc))
        check(words in err and "nothing changed" in err, "assign refusal says: " + err)
        check(mrn not in err and confirm not in err, "the refusal echoes the MRN")
    rc, _, err = d.run("review", "assign", first, new_patient)
    check(rc == 2 and "--confirm" in err, "assign without a confirmation off a terminal")
    check(d.queue() == before, "a refused assign changed the queue")
    check(d.find(new_patient) == [], "a refused assign filed the document")
    check(not any(line[4] == "review_assign" for line in d.audit()[audit_before:]),
          "a refused assign was audited as a decision")

    # assign: filed under the patient, out of the queue, audited without the MRN.
    out = d.ok("review", "assign", first, new_patient, "--confirm", new_patient[:4] + "-" +
               new_patient[4:], "--type", "referral")
    check(d.find(new_patient) == [first], "find does not return the assigned document")
    check(first not in {q["docid"] for q in d.queue()}, "the assigned document is still held")
    st = d.state_of(first)
    check(st["state"] == "filed" and st["type"] == "referral", "assigned record: %r" % st)
    rc, _, err = d.run("review", "assign", first, new_patient, "--confirm", new_patient)
    check(rc == 2 and "not in review" in err, "assigning a filed document twice: " + err)
    lines = d.audit()
    decisions = [line for line in lines if line[4] == "review_assign"]
    check(len(decisions) == 1 and decisions[0][5] == first, "assign audit lines: %r" % decisions)
    check(decisions[0][3] and decisions[0][2].isdigit(), "the audit line has no OS user")

    # reject: out of the queue, into the quarantine, note sealed not logged.
    second = queue[1]["docid"]
    note = "page belongs to another hospital (Ms Synthetic Example)"
    rc, _, err = d.run("review", "reject", second)
    check(rc == 2 and "--reason" in err, "reject without --reason was accepted")
    d.ok("review", "reject", second, "--reason", note)
    st = d.state_of(second)
    check(st["state"] == "quarantined" and st["reason"] == "rejected", "rejected: %r" % st)
    check(second not in {q["docid"] for q in d.queue()}, "the rejected document is still held")
    out = d.ok("review", "show", second)
    check(note in out, "show does not give the reviewer's note back")
    with open(os.path.join(d.data, "audit", "audit.log")) as f:
        log = f.read()
    check("Synthetic" not in log, "the reviewer's note reached the audit log")

    # reassign: a filed document moves from its patient to another at once.
    docid, old_mrn = filed[0][0], filed[0][2]
    check(docid in d.find(old_mrn, config=defaults), "the filed document is not found")
    rc, _, err = d.run("review", "reassign", docid, other_patient, "--confirm", new_patient)
    check(rc == 2 and docid in d.find(old_mrn, config=defaults), "mistyped reassign")
    # Decisions are taken while the service runs: hold its lock meanwhile.
    lock = subprocess.Popen(["flock", os.path.join(d.data, "spool", "lock"), "sleep", "30"],
                            start_new_session=True)
    time.sleep(0.2)
    try:
        d.ok("review", "reassign", docid, other_patient, "--confirm", other_patient)
    finally:
        os.killpg(lock.pid, signal.SIGKILL)
        lock.wait()
    check(docid not in d.find(old_mrn, config=defaults), "still under the old patient")
    check(docid in d.find(other_patient), "not under the new patient")
    moves = [line for line in d.audit() if line[4] == "review_reassign"]
    check(len(moves) == 1 and moves[0][5] == docid and "from=" in moves[0][6] and
          "to=" in moves[0][6], "reassign audit: %r" % moves)
    rc, _, err = d.run("review", "reassign", docid, other_patient, "--confirm", other_patient)
    check(rc == 2 and "already filed" in err, "reassign to the same patient: " + err)

    if has_hooks:
        # Killed between the vault header and the index: the next command
        # that opens the data directory for writing completes the index.
        victim, victim_mrn = filed[1][0], filed[1][2]
        env = dict(d.env, SCANVAULT_TEST_KILL_AFTER_HEADER="1")
        r = subprocess.run([scanvault, "review", "reassign", victim, new_patient, "--confirm",
                            new_patient, "--data", d.data, "--config", config],
                           capture_output=True, env=env)
        check(r.returncode == -signal.SIGKILL, "the test hook did not kill: %d" % r.returncode)
        journal = os.path.join(d.data, "spool", "decisions")
        check(os.listdir(journal) == [victim], "no journal entry for the interrupted decision")
        check(victim in d.find(victim_mrn, config=defaults),
              "the index moved before the kill: the test proves nothing")
        d.ok("review", "list")  # a read-write open replays the journal
        check(os.listdir(journal) == [], "the journal entry was not replayed")
        check(victim not in d.find(victim_mrn, config=defaults), "still under the old patient")
        check(victim in d.find(new_patient), "not under the new patient after the replay")

    # No MRN anywhere in the audit log.
    for mrn in (new_patient, other_patient, old_mrn):
        check(mrn not in log and mrn not in open(os.path.join(d.data, "audit", "audit.log")).read(),
              "an MRN reached the audit log")
    # The vault agrees with the index after every decision.
    rc, out, err = d.run("verify")
    check(rc == 0, "verify after the decisions: %s %s" % (out, err))
    print("review: %d held, assign/reject/reassign and 5 refusals checked" % len(held))


if __name__ == "__main__":
    main()
