"""Helpers shared by the service tests: a data directory with an inbox and
a configuration, starting and stopping `scanvault run`, reading its status,
the audit log and the vault."""
import json
import os
import shutil
import signal
import subprocess
import time


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


class Site:
    """A data directory, an inbox and a configuration file under work."""

    def __init__(self, scanvault, samples, work, settle=1, rescan=2, inotify=True, extra=""):
        self.scanvault, self.samples, self.work = scanvault, samples, work
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        self.data = os.path.join(work, "data")
        self.inbox = os.path.join(work, "inbox")
        os.makedirs(self.inbox)
        self.config = os.path.join(work, "scanvault.conf")
        self.write_config(settle, rescan, inotify, extra)
        self.env = dict(os.environ, OMP_THREAD_LIMIT="1")
        for k in ("CREDENTIALS_DIRECTORY", "SCANVAULT_DATA", "SCANVAULT_CONFIG"):
            self.env.pop(k, None)
        r = subprocess.run([scanvault, "init", "--data", self.data], capture_output=True,
                           env=self.env)
        check(r.returncode == 0, "init: " + r.stderr.decode())
        self.proc = None
        self.log_path = os.path.join(work, "service.log")

    def write_config(self, settle=1, rescan=2, inotify=True, extra=""):
        with open(os.path.join(self.samples, "scanvault.conf")) as f:
            rules = f.read()
        text = ("[intake]\ninbox = %s\nsettle_seconds = %d\nrescan_seconds = %d\n"
                "inotify = %s\nworkers = 2\n%s\n" % (self.inbox, settle, rescan,
                                                     "true" if inotify else "false", extra))
        with open(self.config, "w") as f:
            f.write(text + rules)
        os.chmod(self.config, 0o600)

    def start(self, prefix=()):
        """prefix: a command to run the service under (e.g. setpriv)."""
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen(list(prefix) + [self.scanvault, "run", "--config",
                                                     self.config, "--data", self.data],
                                     stderr=log, env=self.env)
        log.close()
        return self.proc

    def stop(self, sig=signal.SIGTERM, timeout=300):
        if self.proc is None:
            return None
        self.proc.send_signal(sig)
        rc = self.proc.wait(timeout=timeout)
        self.proc = None
        return rc

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        self.proc = None

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def status(self):
        try:
            with open(os.path.join(self.data, "status", "status.json")) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def wait_until(self, what, cond, timeout=300):
        end = time.time() + timeout
        while time.time() < end:
            if self.proc is not None and self.proc.poll() is not None:
                raise Fail("the service exited (%s) while waiting for %s" % (self.proc.returncode, what))
            if cond():
                return
            time.sleep(0.2)
        raise Fail("timed out waiting for " + what)

    def idle(self):
        """Inbox, queue and spool empty."""
        st = self.status()
        return (st is not None and not os.listdir(self.inbox) and st["in_flight"] == 0
                and st["queued"] == 0 and not self.spool())

    def spool(self):
        return [n for n in os.listdir(os.path.join(self.data, "spool", "claimed"))]

    def vault_objects(self):
        out = []
        for root, _, names in os.walk(os.path.join(self.data, "vault", "objects")):
            out += [n for n in names if n.endswith(".svd")]
        return out

    def vault_tmp(self):
        return os.listdir(os.path.join(self.data, "vault", "tmp"))

    def audit_lines(self):
        path = os.path.join(self.data, "audit", "audit.log")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [l.rstrip("\n").split("\t") for l in f if l.endswith("\n")]

    def filed_docids(self):
        """docid -> audit result of every ingest that was not a duplicate."""
        out = {}
        for f in self.audit_lines():
            if len(f) >= 7 and f[4] == "ingest" and not f[6].startswith("duplicate"):
                out[f[5]] = f[6]
        return out

    def get(self, docid):
        r = subprocess.run([self.scanvault, "get", "--data", self.data, docid, "-o", "-"],
                           capture_output=True, env=self.env)
        check(r.returncode == 0, "get %s: %s" % (docid, r.stderr.decode()))
        return r.stdout

    def stats(self):
        r = subprocess.run([self.scanvault, "stats", "--data", self.data, "--json"],
                           capture_output=True, env=self.env)
        check(r.returncode == 0, "stats: " + r.stderr.decode())
        return json.loads(r.stdout)


def drop(path, data, chunks=1, pause=0.0, via_part=False):
    """Write a file into the inbox: in one go, in chunks (each an open,
    append, close, like a network writer), or under a .part name renamed at
    the end."""
    target = path + ".part" if via_part else path
    step = max(1, (len(data) + chunks - 1) // chunks)
    for i in range(0, len(data), step):
        with open(target, "ab") as f:
            f.write(data[i:i + step])
        if pause:
            time.sleep(pause)
    if via_part:
        os.rename(target, path)
