#!/usr/bin/env python3
"""`scanvault audit` and `scanvault audit verify` with the real binary on real
data directories: lines printed and filtered, the chain verified, and copies
of the log that were edited, cut, reordered or padded caught at the right
line; a cut end caught by a kept anchor; rotation archives pinned by SHA-256
and line count, two rotations deep, and a changed or missing archive caught.

No OCR: the lines come from `find` (an MRN that matches nothing), `list` and
the audit commands themselves.

    audit_cli.py SCANVAULT WORKDIR
"""
import datetime
import hashlib
import hmac
import json
import os
import pwd
import re
import shutil
import subprocess
import sys

SCANVAULT, WORK = sys.argv[1], sys.argv[2]
ENV = dict(os.environ, OMP_THREAD_LIMIT="1")
for k in ("CREDENTIALS_DIRECTORY", "SCANVAULT_DATA", "SCANVAULT_CONFIG"):
    ENV.pop(k, None)
MRN = "123456"


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def run(*args, want=0):
    r = subprocess.run([SCANVAULT] + list(args), capture_output=True, env=ENV, timeout=60)
    out, err = r.stdout.decode(), r.stderr.decode()
    if r.returncode != want:
        fail("%s: exit %d, want %d\nstdout: %s\nstderr: %s"
             % (" ".join(args), r.returncode, want, out, err))
    if MRN in err:
        fail("%s: the MRN appears in a message" % " ".join(args))
    return out, err


def log_path(data):
    return os.path.join(data, "audit", "audit.log")


def read_log(data):
    with open(log_path(data), "rb") as f:
        return f.read().split(b"\n")[:-1]


def write_log(data, lines, torn=b""):
    with open(log_path(data), "wb") as f:
        f.write(b"".join(l + b"\n" for l in lines) + torn)
    os.chmod(log_path(data), 0o600)


def copy_data(data, name):
    dst = os.path.join(WORK, name)
    shutil.copytree(data, dst)
    return dst


def audit_lines(data, *extra):
    """The JSON lines `audit` prints."""
    out, _ = run("audit", "--json", "--data", data, *extra)
    return [json.loads(l) for l in out.splitlines()]


def expect_break(data, line, *extra):
    out, err = run("audit", "verify", "--data", data, *extra, want=1)
    if not re.search(r"\bline %d\b" % line, err):
        fail("verify of %s: want line %d named\n%s" % (data, line, err))
    return out, err


def new_site(name):
    data = os.path.join(WORK, name)
    run("init", "--data", data)
    return data


def key_of(data):
    with open(os.path.join(data, "keys", "scanvault.key"), "rb") as f:
        raw = f.read()
    return raw[8:16].hex(), raw[16:48]


def audit_key(master):
    """docs/audit-format.md section 2."""
    prk = hmac.new(b"scanvault/v1", master, hashlib.sha256).digest()
    return hmac.new(prk, b"scanvault/v1/audit\x01", hashlib.sha256).digest()


def rotation_line(master, archive_path, key_id_hex):
    """Line 1 of a new log under master, pinning the archived old log."""
    with open(archive_path, "rb") as f:
        old = f.read()
    result = "archive=audit-%s.log lines=%d sha256=%s" % (
        key_id_hex, old.count(b"\n"), hashlib.sha256(old).hexdigest())
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    uid = os.getuid()
    user = pwd.getpwuid(uid).pw_name
    body = "1\t%s\t%d\t%s\taudit_rotate\t-\t%s\t" % (now, uid, user, result)
    mac = hmac.new(audit_key(master), bytes(32) + body.encode(), hashlib.sha256).hexdigest()
    return (body + mac).encode()


def rotate(old_data, new_data):
    """What a key rotation leaves: old_data's log archived in new_data's
    audit directory, and new_data's log beginning with the rotation line."""
    old_id, _ = key_of(old_data)
    _, new_master = key_of(new_data)
    old_dir, new_dir = os.path.join(old_data, "audit"), os.path.join(new_data, "audit")
    for name in os.listdir(old_dir):  # older archives stay beside the log
        if re.fullmatch(r"audit-[0-9a-f]{16}\.log", name):
            shutil.copyfile(os.path.join(old_dir, name), os.path.join(new_dir, name))
    archive = os.path.join(new_dir, "audit-%s.log" % old_id)
    shutil.copyfile(log_path(old_data), archive)
    write_log(new_data, [rotation_line(new_master, archive, old_id)])
    return archive


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)

    print("== usage")
    out, _ = run("audit", "--help")
    for part in ("usage: scanvault audit", "audit verify", "--anchor SEQ:MAC", "Exit status"):
        if part not in out:
            fail("--help lacks " + part)
    out, _ = run("--help")
    if not re.search(r"^  audit ", out, re.M):
        fail("audit missing from scanvault --help")
    run("audit", "nonsense", want=2)
    run("audit", "verify", "--from", "2026-01-01", want=2)
    run("audit", "--anchor", "1:" + "0" * 64, want=2)
    run("audit", "verify", "--anchor", "x", want=2)
    run("audit", "--from", "2026-02-31", want=2)
    run("audit", "--docid", "not-a-docid", want=2)
    run("audit", "--data", os.path.join(WORK, "none"), want=3)

    print("== a fresh data directory: an empty log verifies")
    data = new_site("d")
    out, _ = run("audit", "verify", "--data", data)
    if "empty" not in out:
        fail("fresh verify: " + out)
    for _ in range(3):
        run("find", MRN, "--data", data)
    run("list", "--data", data)
    run("audit", "--data", data, "--action", "BAD", want=2)

    print("== audit prints verified lines, and filters")
    lines = audit_lines(data)
    actions = [l["action"] for l in lines]
    if actions[:5] != ["audit_verify", "find", "find", "find", "list"]:
        fail("unexpected lines: %s" % actions)
    if [l["seq"] for l in lines] != list(range(1, len(lines) + 1)):
        fail("seq not 1..n")
    first = lines[0]
    if set(first) != {"seq", "time", "uid", "user", "action", "docid", "result"}:
        fail("JSON fields: %s" % sorted(first))
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", first["time"]) \
            or first["docid"] is not None or first["result"] != "lines=0 ok" \
            or first["uid"] != os.getuid():
        fail("first line: %s" % first)
    if any(MRN in l["result"] for l in lines):
        fail("the MRN is in the log")
    # The previous `audit --json` was audited too: "audit_read" after it.
    finds = audit_lines(data, "--action", "find")
    if len(finds) != 3 or any(not l["result"].startswith("hits=0 ") for l in finds):
        fail("--action find: %s" % finds)
    reads = audit_lines(data, "--action", "audit_read")
    if len(reads) < 2 or not re.fullmatch(r"lines=\d+ shown=\d+ ok", reads[0]["result"]):
        fail("audit_read lines: %s" % reads)
    today = datetime.datetime.now(datetime.timezone.utc).date()
    day = datetime.timedelta(days=1)
    if audit_lines(data, "--from", str(today + day)) != []:
        fail("--from tomorrow shows lines")
    if audit_lines(data, "--to", str(today - day)) != []:
        fail("--to yesterday shows lines")
    if len(audit_lines(data, "--from", str(today), "--to", str(today))) < 8:
        fail("--from/--to today hides lines")
    if audit_lines(data, "--docid", "abcdefghijklmnopqrstuvwxyz") != []:
        fail("--docid of no line shows lines")
    if len(audit_lines(data, "--docid", "-")) < 8:
        fail("--docid - hides lines")
    out, _ = run("audit", "--data", data, "--action", "list")
    rows = out.splitlines()
    if len(rows) != 2 or not rows[0].split()[:2] == ["LINE", "TIME"] \
            or " list " not in rows[1] or "state=quarantined hits=0" not in rows[1]:
        fail("text output: %s" % out)

    print("== audit verify: summary and anchor")
    out, _ = run("audit", "verify", "--data", data)
    m = re.search(r"^anchor: (\d+):([0-9a-f]{64})$", out, re.M)
    if not m or "lines verified" not in out or "keep this anchor outside" not in out:
        fail("verify summary: " + out)
    anchor = m.group(1) + ":" + m.group(2)
    n_verified = int(m.group(1))
    if not re.search(r": %d lines verified" % n_verified, out):
        fail("anchor seq is not the last verified line: " + out)
    run("audit", "verify", "--data", data, "--anchor", anchor)
    out, _ = run("audit", "verify", "--json", "--data", data)
    summary = json.loads(out)
    if not summary["ok"] or summary["verdict"] != "ok" or summary["bad_line"] is not None \
            or summary["lines"] < n_verified + 1 or not summary["logged"]:
        fail("verify --json: %s" % summary)
    wrong_mac = m.group(1) + ":" + ("0" * 64)
    _, err = run("audit", "verify", "--data", data, "--anchor", wrong_mac, want=1)
    if "anchor" not in err:
        fail("a wrong anchor MAC: " + err)
    verifies = audit_lines(data, "--action", "audit_verify")
    if not re.fullmatch(r"lines=\d+ bad_anchor=%d" % n_verified, verifies[-1]["result"]):
        fail("the failed verify is not logged as such: %s" % verifies[-1])

    good = read_log(data)
    if len(good) < 12:
        fail("too few lines to tamper with: %d" % len(good))

    print("== a changed byte in line 4")
    d = copy_data(data, "edited")
    lines = list(good)
    lines[3] = lines[3].replace(b"hits=0", b"hits=1")
    if lines[3] == good[3]:
        fail("nothing edited")
    write_log(d, lines)
    expect_break(d, 4)
    # The verify of a log broken in the middle is itself logged (the end is intact).
    if not read_log(d)[-1].split(b"\t")[6].endswith(b"bad_line=4"):
        fail("the broken verify is not logged")
    out, err = run("audit", "--json", "--data", d, want=1)
    if [json.loads(l)["seq"] for l in out.splitlines()] != [1, 2, 3] or "line 4" not in err:
        fail("audit of a broken log must print lines 1..3, then name line 4:\n" + out + err)

    print("== line 4 removed")
    d = copy_data(data, "removed")
    write_log(d, good[:3] + good[4:])
    expect_break(d, 4)

    print("== lines 4 and 5 swapped")
    d = copy_data(data, "swapped")
    write_log(d, good[:3] + [good[4], good[3]] + good[5:])
    expect_break(d, 4)

    print("== line 2 repeated after line 6")
    d = copy_data(data, "inserted")
    write_log(d, good[:6] + [good[1]] + good[6:])
    expect_break(d, 7)

    print("== the last lines cut off: only the anchor shows it")
    d = copy_data(data, "cut")
    write_log(d, good[:n_verified - 2])
    _, err = run("audit", "verify", "--data", d, "--anchor", anchor, want=1)
    if "cut back" not in err:
        fail("cut log: " + err)
    # Now lines n-2 and n-1 exist again (the verify lines), with other MACs.
    run("audit", "verify", "--data", d)
    run("audit", "verify", "--data", d, "--anchor", anchor, want=1)

    print("== a torn end: reported, then replaced by a repair line and listed")
    d = copy_data(data, "torn")
    write_log(d, good, torn=b"%d\t2026-11-" % (len(good) + 1))
    expect_break(d, len(good) + 1)
    out, _ = run("audit", "verify", "--data", d)
    if "torn end was replaced" not in out or "torn ends replaced: 1" not in out:
        fail("repair line not listed: " + out)

    print("== rotation archives, two rotations deep")
    old = new_site("r0")
    run("audit", "verify", "--data", old)
    run("find", MRN, "--data", old)
    run("find", MRN, "--data", old)
    mid = new_site("r1")
    archive0 = rotate(old, mid)
    out, _ = run("audit", "verify", "--data", mid)
    if "rotation archives: 1 intact (3 lines)" not in out or "key rotation" not in out:
        fail("one rotation: " + out)
    run("find", MRN, "--data", mid)
    new = new_site("r2")
    archive1 = rotate(mid, new)
    out, _ = run("audit", "verify", "--json", "--data", new)
    summary = json.loads(out)
    if not summary["ok"] or summary["archives"] != 2 or summary["rotations"] != 1 \
            or summary["archive_lines"] != 3 + 3:
        fail("two rotations: %s" % summary)
    if not audit_lines(new, "--action", "audit_verify")[-1]["result"].endswith(" archives=2"):
        fail("the verify line does not count the archives")

    print("== the older archive changed: caught through the newer one's first line")
    d = copy_data(new, "r2-old-changed")
    path = os.path.join(d, "audit", os.path.basename(archive0))
    with open(path, "r+b") as f:
        f.seek(40)
        byte = f.read(1)
        f.seek(40)
        f.write(b"x" if byte != b"x" else b"y")
    _, err = run("audit", "verify", "--data", d, want=1)
    if os.path.basename(archive0) not in err or "SHA-256" not in err:
        fail("changed older archive: " + err)

    print("== the newer archive cut short, or missing")
    d = copy_data(new, "r2-cut")
    path = os.path.join(d, "audit", os.path.basename(archive1))
    with open(path, "rb") as f:
        body = f.read()
    with open(path, "wb") as f:
        f.write(body[:body.rindex(b"\n", 0, len(body) - 1) + 1])
    _, err = run("audit", "verify", "--data", d, want=1)
    if os.path.basename(archive1) not in err:
        fail("cut archive: " + err)
    d = copy_data(new, "r2-missing")
    os.unlink(os.path.join(d, "audit", os.path.basename(archive0)))
    out, err = run("audit", "verify", "--json", "--data", d, want=1)
    summary = json.loads(out)
    if summary["verdict"] != "archive" or summary["bad_archive"] != os.path.basename(archive0) \
            or "missing" not in err:
        fail("missing archive: %s %s" % (summary, err))
    print("audit_cli: ok")


main()
