#!/usr/bin/python3
"""Who may see what (docs/access.md), with real OS users and groups, the real
`scanvault run` and the real command run as each user.

  access_test.py SCANVAULT SV_MAKE_DATA WORK_DIR

Runs as root (the test command does, CI=true): it creates four users and
four groups with unique names (svt_*_<pid>) and removes them afterwards,
also when a check fails. Not root: exit 77 (skipped).

  - the users cannot read the data directory (0700, root's), yet a clerk
    retrieves a document through the service bit for bit;
  - a reviewer lists and decides the review queue but find and get are
    refused; a clerk finds and gets but verify and audit (admin) are
    refused; a user in no role group is refused at the socket; each
    refusal is in the audit log under the right uid and user name;
  - malformed, oversized, truncated, unknown-version requests (raw bytes)
    each get an ERROR, and the service keeps answering;
  - the hourly retrieval cap refuses the request past it, audited;
  - stopped, the service removes its socket and the command says it runs
    in direct mode.
"""
import grp
import os
import pwd
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time

SKIPPED = 77
PID = os.getpid()
MAGIC, VERSION = 0x50415653, 1
PM_FIND, PM_ERROR, PM_END, PM_DOC = 1, 64, 66, 68
PT_MRN, PT_CODE, PT_KIND, PT_TEXT, PT_DOCID = 1, 14, 15, 16, 3
CLERK_CAP = 4


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


# ---- raw frames ------------------------------------------------------------

def field(tag, value):
    return struct.pack("<BH", tag, len(value)) + value


def frame(mtype, payload=b"", version=VERSION, length=None):
    n = len(payload) if length is None else length
    return struct.pack("<IHHI", MAGIC, version, mtype, n) + payload


def read_frames(sock, until_types=(PM_END, PM_ERROR), timeout=10):
    """Frames (type, {tag: bytes}) until one of until_types or EOF."""
    sock.settimeout(timeout)
    buf, out = b"", []
    while True:
        while len(buf) >= 12:
            _, _, mtype, n = struct.unpack("<IHHI", buf[:12])
            if len(buf) < 12 + n:
                break
            payload, buf = buf[12:12 + n], buf[12 + n:]
            fields, i = {}, 0
            while i < len(payload):
                tag, flen = struct.unpack("<BH", payload[i:i + 3])
                fields[tag] = payload[i + 3:i + 3 + flen]
                i += 3 + flen
            out.append((mtype, fields))
            if mtype in until_types:
                return out
        chunk = sock.recv(65536)
        if not chunk:
            return out
        buf += chunk


def is_closed(sock):
    sock.settimeout(5)
    try:
        return sock.recv(1) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True


# ---- users and groups --------------------------------------------------------

class Accounts:
    """Groups and users made for the test; remove() undoes whatever was made."""

    def __init__(self):
        self.groups, self.users = [], []
        self.remove_stale()

    @staticmethod
    def remove_stale():
        """Users and groups a killed run (a ctest time-out) left behind."""
        def is_stale(name):
            parts = name.split("_")
            if len(parts) != 3 or parts[0] != "svt" or not parts[2].isdigit():
                return False
            return not os.path.exists("/proc/%s" % parts[2])
        for u in [p.pw_name for p in pwd.getpwall() if is_stale(p.pw_name)]:
            subprocess.run(["userdel", u], stderr=subprocess.DEVNULL)
        for g in [e.gr_name for e in grp.getgrall() if is_stale(e.gr_name)]:
            subprocess.run(["groupdel", g], stderr=subprocess.DEVNULL)

    def group(self, role):
        name = "svt_%s_%d" % (role, PID)
        subprocess.run(["groupadd", name], check=True)
        self.groups.append(name)
        return name

    def user(self, role, primary, extra=None):
        name = "svt_%s_%d" % (role, PID)
        cmd = ["useradd", "-M", "-N", "-s", "/usr/sbin/nologin", "-g", primary]
        if extra:
            cmd += ["-G", extra]
        subprocess.run(cmd + [name], check=True)
        self.users.append(name)
        return name

    def remove(self):
        for u in self.users:
            subprocess.run(["userdel", u], stderr=subprocess.DEVNULL)
        for g in self.groups:
            subprocess.run(["groupdel", g], stderr=subprocess.DEVNULL)


# ---- the site ------------------------------------------------------------------

class Site:
    def __init__(self, scanvault, make_data, work, accounts):
        self.scanvault, self.work = scanvault, work
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        os.chmod(work, 0o755)
        self.data = os.path.join(work, "data")
        self.inbox = os.path.join(work, "inbox")
        self.sock = os.path.join(work, "run", "scanvault.sock")
        self.config = os.path.join(work, "scanvault.conf")
        self.log_path = os.path.join(work, "service.log")
        os.makedirs(self.inbox)
        self.env = dict(os.environ, OMP_THREAD_LIMIT="1")
        for k in ("CREDENTIALS_DIRECTORY", "SCANVAULT_DATA", "SCANVAULT_CONFIG",
                  "SCANVAULT_SOCKET"):
            self.env.pop(k, None)
        g = accounts
        self.g_users, self.g_rev, self.g_clk, self.g_adm = (
            g.group("use"), g.group("rev"), g.group("clk"), g.group("adm"))
        with open(self.config, "w") as f:
            f.write("[storage]\ndata_dir = %s\n[intake]\ninbox = %s\nworkers = 1\n"
                    "[access]\nsocket = %s\nsocket_group = %s\nadmin_groups = %s\n"
                    "clerk_groups = %s\nreviewer_groups = %s\nclerk_docs_per_hour = %d\n"
                    % (self.data, self.inbox, self.sock, self.g_users, self.g_adm,
                       self.g_clk, self.g_rev, CLERK_CAP))
        os.chmod(self.config, 0o644)  # people's commands read it; the key is elsewhere
        r = subprocess.run([scanvault, "init", "--data", self.data], capture_output=True,
                           env=self.env)
        check(r.returncode == 0, "init: " + r.stderr.decode())
        os.chmod(self.data, 0o700)
        self.manifest = os.path.join(work, "manifest.tsv")
        r = subprocess.run([make_data, "--data", self.data, "--count", "40", "--patients", "3",
                            "--review", "25", "--manifest", self.manifest],
                           capture_output=True, env=self.env)
        check(r.returncode == 0, "sv_make_data: " + r.stderr.decode())
        self.docs = [l.rstrip("\n").split("\t") for l in open(self.manifest)]
        self.proc = None

    def start(self):
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen([self.scanvault, "run", "--config", self.config],
                                     stderr=log, env=self.env)
        log.close()
        end = time.time() + 60
        while time.time() < end and not os.path.exists(self.sock):
            check(self.proc.poll() is None, "the service exited at start:\n" + self.log())
            time.sleep(0.1)
        check(os.path.exists(self.sock), "no socket after 60 s:\n" + self.log())

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=120)
        self.proc = None
        return rc

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def run(self, user, *args, config=True, env_extra=None):
        """`scanvault ARGS` as user (None: root). (exit, stdout bytes, stderr str)."""
        cmd = [self.scanvault] + list(args) + (["--config", self.config] if config else [])
        if env_extra:
            cmd = ["env"] + ["%s=%s" % kv for kv in env_extra.items()] + cmd
        if user is not None:
            cmd = ["runuser", "-u", user, "--"] + cmd
        r = subprocess.run(cmd, capture_output=True, env=self.env, stdin=subprocess.DEVNULL,
                           timeout=60)
        return r.returncode, r.stdout, r.stderr.decode()

    def audit(self):
        with open(os.path.join(self.data, "audit", "audit.log")) as f:
            return [l.rstrip("\n").split("\t") for l in f if l.endswith("\n")]

    def refusals(self, uid):
        return [l for l in self.audit() if l[2] == str(uid) and "refused=" in l[6]]


def raw_request(site, data, shut=False):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(site.sock)
    s.sendall(data)
    if shut:
        s.shutdown(socket.SHUT_WR)
    return s


def check_protocol(site, mrn):
    """Each bad message gets an ERROR and the connection closes; the service
    keeps answering."""
    good = frame(PM_FIND, field(PT_MRN, mrn.encode()))
    bad = {
        "unknown type": frame(99),
        "unknown tag": frame(PM_FIND, field(PT_MRN, mrn.encode()) + field(60, b"x")),
        "duplicate tag": frame(PM_FIND, field(PT_MRN, b"1") + field(PT_MRN, b"2")),
        "missing field": frame(PM_FIND),
        "bad field length": frame(PM_FIND, field(PT_MRN, mrn.encode()) + field(5, b"123")),
        "trailing bytes": frame(PM_FIND, field(PT_MRN, mrn.encode()) + b"\x01\x00"),
        "oversized": frame(PM_FIND, b"", length=10 * 1024 * 1024),
        "unknown version": frame(PM_FIND, field(PT_MRN, mrn.encode()), version=2),
        "bad magic": b"GET / HTTP/1.0\r\n\r\n",
    }
    for name, data in bad.items():
        s = raw_request(site, data)
        frames = read_frames(s)
        check(frames and frames[-1][0] == PM_ERROR, "%s: no ERROR answer: %r" % (name, frames))
        code = struct.unpack("<i", frames[-1][1][PT_CODE])[0]
        check(frames[-1][1][PT_KIND] == b"\x01", "%s: ERROR kind is not protocol" % name)
        check(is_closed(s), "%s: the connection stayed open" % name)
        s.close()
        check(site.proc.poll() is None, "the service died on: " + name)
        if name == "unknown version":
            check(code == -13, "unknown version: code %d, not SV_EVERSION" % code)
        if name == "oversized":
            check(code == -6, "oversized: code %d, not SV_ELIMIT" % code)
    # Truncated: the header promises more than comes, then the writer is done.
    s = raw_request(site, frame(PM_FIND, field(PT_MRN, mrn.encode()))[:16], shut=True)
    frames = read_frames(s)
    check(frames and frames[-1][0] == PM_ERROR and
          struct.unpack("<i", frames[-1][1][PT_CODE])[0] == -14,
          "truncated: no ERROR SV_ETRUNC: %r" % frames)
    s.close()
    # And a good request still works, twice on one connection.
    s = raw_request(site, good + good)
    first, second = read_frames(s), read_frames(s)
    s.close()
    for answer in (first, second):
        check(answer and answer[-1][0] == PM_END, "a valid request after the bad ones: %r" % answer)
        check(any(t == PM_DOC for t, _ in answer), "the valid find found nothing")
    bad_lines = [l for l in site.audit() if l[4] == "request" and "refused=protocol" in l[6]]
    check(len(bad_lines) >= len(bad) + 1, "protocol refusals audited: %d" % len(bad_lines))


def main():
    scanvault, make_data, work = sys.argv[1:4]
    if os.geteuid() != 0:
        print("access test: not root, cannot make users and groups; skipped")
        return SKIPPED
    accounts = Accounts()
    site = None
    try:
        site = Site(scanvault, make_data, work, accounts)
        reviewer = accounts.user("rev", site.g_users, site.g_rev)
        clerk = accounts.user("clk", site.g_users, site.g_clk)
        admin = accounts.user("adm", site.g_users, site.g_adm)
        nobody = accounts.user("none", site.g_users)
        uid = {u: pwd.getpwnam(u).pw_uid for u in (reviewer, clerk, admin, nobody)}
        filed = [d for d in site.docs if d[1] == "filed"]
        review = [d for d in site.docs if d[1] == "review"]
        mrn = filed[0][2]
        check(len(review) >= 2, "sv_make_data made fewer than 2 documents in review")

        # The users cannot touch the data: only the service can.
        r = subprocess.run(["runuser", "-u", clerk, "--", "ls", site.data], capture_output=True)
        check(r.returncode != 0, "the clerk can list the data directory")
        rc, _, err = site.run(clerk, "find", "--direct", mrn)
        check(rc == 3, "the clerk's direct-mode find did not fail: %d %s" % (rc, err))

        site.start()
        check(grp.getgrgid(os.stat(site.sock).st_gid).gr_name == site.g_users and
              (os.stat(site.sock).st_mode & 0o777) == 0o660, "socket mode or group")

        # Clerk: find (same output as root's direct find), get bit for bit.
        rc, out, err = site.run(clerk, "find", "--json", mrn)
        check(rc == 0 and "direct mode" not in err, "clerk find: %d %s" % (rc, err))
        rc_d, out_d, err_d = site.run(None, "find", "--json", "--direct", mrn)
        check(rc_d == 0 and "direct mode" in err_d, "root direct find: %s" % err_d)
        check(out == out_d, "find through the service differs from direct mode")
        docid = filed[0][0]
        rc, got, err = site.run(clerk, "get", docid, "-o", "-")
        check(rc == 0, "clerk get: " + err)
        _, want, _ = site.run(None, "get", "--direct", docid, "-o", "-")
        check(got == want and len(got) == int(filed[0][4]), "get through the service is not "
              "bit for bit the direct-mode get (%d vs %d bytes)" % (len(got), len(want)))
        outs = os.path.join(work, "out")  # where the users write their copies
        os.makedirs(outs)
        os.chmod(outs, 0o1777)
        out_file = os.path.join(outs, "clerk-copy")
        rc, _, err = site.run(clerk, "get", docid, "-o", out_file)
        check(rc == 0 and open(out_file, "rb").read() == want, "clerk get -o: " + err)
        check(os.stat(out_file).st_uid == uid[clerk], "the copy is not the clerk's own file")
        for cmd in (["verify"], ["audit"], ["audit", "verify"], ["stats"], ["status"]):
            rc, _, err = site.run(clerk, *cmd)
            check(rc == 3 and "needs the admin role; you are clerk" in err,
                  "clerk %s was not refused: %d %s" % (" ".join(cmd), rc, err))

        # Reviewer: the queue yes, find and get no.
        rc, out, err = site.run(reviewer, "review", "list")
        check(rc == 0 and review[0][0].encode() in out, "reviewer list: " + err)
        rc, out, err = site.run(reviewer, "review", "show", review[0][0])
        check(rc == 0 and b"candidate" in out, "reviewer show: " + err)
        rc, _, err = site.run(reviewer, "review", "assign", review[0][0], mrn, "--confirm", mrn)
        check(rc == 0, "reviewer assign: " + err)
        rc, _, err = site.run(reviewer, "find", mrn)
        check(rc == 3 and "find needs the clerk or admin role; you are reviewer" in err,
              "reviewer find: %d %s" % (rc, err))
        rc, _, err = site.run(reviewer, "get", docid, "-o", "-")
        check(rc == 3 and "needs the clerk or admin role" in err, "reviewer get: " + err)
        rc, _, err = site.run(reviewer, "review", "reassign", filed[1][0], mrn, "--confirm", mrn)
        check(rc == 3 and "you are reviewer" in err, "reviewer reassign: " + err)

        # No role: refused at the socket.
        rc, _, err = site.run(nobody, "review", "list")
        check(rc == 3 and "not authorised" in err, "no-role user: %d %s" % (rc, err))

        # Admin: everything the socket offers.
        for cmd in (["verify"], ["audit", "verify"], ["stats", "--json"], ["status"],
                    ["list", "--state", "all"]):
            rc, _, err = site.run(admin, *cmd)
            check(rc == 0, "admin %s: %d %s" % (" ".join(cmd), rc, err))
        rc, out, _ = site.run(admin, "audit", "--json")
        check(rc == 0 and ("\"uid\": %d" % uid[clerk]).encode() in out, "admin audit")
        # Export: the admin's own process writes the directory, the same as direct mode's.
        rc, _, err = site.run(admin, "export", "-o", os.path.join(outs, "roi-admin"), mrn)
        check(rc == 0, "admin export: " + err)
        rc, _, err = site.run(None, "export", "--direct", "-o", os.path.join(outs, "roi-root"), mrn)
        check(rc == 0, "root direct export: " + err)
        names = sorted(os.listdir(os.path.join(outs, "roi-root")))
        check(names == sorted(os.listdir(os.path.join(outs, "roi-admin"))) and
              all(open(os.path.join(outs, "roi-root", n), "rb").read() ==
                  open(os.path.join(outs, "roi-admin", n), "rb").read()
                  for n in names if n.endswith(".bin")),
              "the export through the service differs from direct mode's")
        check(os.stat(os.path.join(outs, "roi-admin")).st_uid == uid[admin],
              "the export directory is not the admin's own")
        rc, _, err = site.run(clerk, "export", "-o", os.path.join(outs, "roi-clerk"), mrn)
        check(rc == 3 and "export needs the admin role; you are clerk" in err,
              "clerk export: %d %s" % (rc, err))

        # The configuration unreadable to a user: the socket from the environment.
        os.chmod(site.config, 0o600)
        rc, out, err = site.run(clerk, "find", mrn, config=False,
                                env_extra={"SCANVAULT_SOCKET": site.sock})
        check(rc == 0 and docid.encode() in out, "find with SCANVAULT_SOCKET: " + err)
        rc, _, err = site.run(clerk, "find", "123", config=False,
                              env_extra={"SCANVAULT_SOCKET": site.sock})
        check(rc == 2 and "123" not in err, "a malformed MRN checked by the service: %d %s"
              % (rc, err))
        os.chmod(site.config, 0o644)

        # Each refusal is audited under the caller's uid and name.
        rev = site.refusals(uid[reviewer])
        check({l[4] for l in rev} >= {"find", "get", "review_reassign"} and
              all(l[3] == reviewer for l in rev), "reviewer refusals audited: %s" % rev)
        clk = site.refusals(uid[clerk])
        check({l[4] for l in clk} >= {"verify", "audit_read", "audit_verify", "stats", "status",
                                      "export"},
              "clerk refusals audited: %s" % clk)
        nob = site.refusals(uid[nobody])
        check(any(l[4] == "connect" and "not_authorised" in l[6] for l in nob),
              "the no-role refusal is not audited: %s" % nob)
        assigned = [l for l in site.audit() if l[4] == "review_assign"]
        check(assigned and assigned[-1][2] == str(uid[reviewer]),
              "the assignment is not audited as the reviewer")

        check_protocol(site, mrn)

        # The cap: the clerk has had 2 documents this hour (get twice).
        for i in range(CLERK_CAP - 2):
            rc, _, err = site.run(clerk, "get", filed[2 + i][0], "-o", "-")
            check(rc == 0, "get %d under the cap: %s" % (i, err))
        rc, out, err = site.run(clerk, "get", filed[2][0], "-o", "-")
        check(rc == 3 and out == b"" and "an hour" in err, "past the cap: %d %s" % (rc, err))
        limited = [l for l in site.refusals(uid[clerk]) if "refused=rate_limit" in l[6]]
        check(len(limited) == 1 and limited[0][4] == "get" and limited[0][5] == filed[2][0],
              "the capped get is not audited: %s" % limited)
        rc, _, err = site.run(admin, "get", filed[2][0], "-o", "-")
        check(rc == 0, "admin (no cap) get: " + err)

        check(site.stop() == 0, "the service did not stop cleanly:\n" + site.log())
        check(not os.path.exists(site.sock), "the socket is left after the stop")
        rc, out, err = site.run(None, "find", mrn)
        check(rc == 0 and "direct mode: the service is not running" in err,
              "root without the service: %d %s" % (rc, err))
        print("access: 4 users and their roles, %d refusals audited, 10 bad messages refused, "
              "the cap held" % (len(rev) + len(clk) + len(nob)))
        return 0
    except Fail as e:
        print("FAIL:", e)
        if site is not None and os.path.exists(site.log_path):
            print("---- service log ----\n" + site.log())
        return 1
    finally:
        if site is not None and site.proc is not None:
            site.proc.kill()
            site.proc.wait()
        accounts.remove()


if __name__ == "__main__":
    sys.exit(main())
