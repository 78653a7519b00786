#!/usr/bin/env python3
"""Key rotation with real kill -9, on a real data directory of synthetic
documents (sv_make_data, no OCR):

  - refused while the service's lock is held;
  - killed with SIGKILL while re-wrapping (twice, at chosen points, and at
    random moments after), the data directory refuses every other command
    until the rotation is finished, and each object is whole under one key;
  - run again, it resumes and commits: every object is under the new key
    and authenticates (verify), find still finds every document of every
    patient, the records are unchanged, the audit chain verifies across the
    archived log, and the old key opens nothing any more.

usage: rotate_test.py SCANVAULT SV_MAKE_DATA WORKDIR [COUNT]
"""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time


def check(cond, msg):
    if not cond:
        raise SystemExit("FAIL: " + msg)


def key_id_of_object(path):
    with open(path, "rb") as f:
        head = f.read(64)
    n = head[10]
    return head[11 + n:19 + n].hex()


def key_id_of_file(path):
    """The key id stored in a key file: bytes 8..16 (docs/keys.md)."""
    with open(path, "rb") as f:
        data = f.read()
    return data[8:16].hex()


class Data:
    def __init__(self, scanvault, work):
        self.scanvault = scanvault
        self.data = os.path.join(work, "data")
        self.config = os.path.join(work, "defaults.conf")
        open(self.config, "w").close()
        os.chmod(self.config, 0o600)
        self.env = dict(os.environ)
        for k in ("CREDENTIALS_DIRECTORY", "SCANVAULT_DATA", "SCANVAULT_CONFIG"):
            self.env.pop(k, None)

    def args(self, *args):
        return [self.scanvault] + list(args) + ["--data", self.data, "--config", self.config]

    def run(self, *args):
        r = subprocess.run(self.args(*args), capture_output=True, env=self.env)
        return r.returncode, r.stdout.decode(), r.stderr.decode()

    def ok(self, *args):
        rc, out, err = self.run(*args)
        check(rc == 0, "%s: exit %d: %s" % (" ".join(args), rc, err))
        return out

    def objects(self):
        top = os.path.join(self.data, "vault", "objects")
        for sub in sorted(os.listdir(top)):
            for name in sorted(os.listdir(os.path.join(top, sub))):
                yield os.path.join(top, sub, name)

    def key_ids(self):
        ids = {}
        for path in self.objects():
            k = key_id_of_object(path)
            ids[k] = ids.get(k, 0) + 1
        return ids


def main():
    scanvault, make_data, work = sys.argv[1:4]
    count = int(sys.argv[4]) if len(sys.argv) > 4 else 3000
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    d = Data(scanvault, work)
    check(subprocess.run([scanvault, "init", "--data", d.data], capture_output=True,
                         env=d.env).returncode == 0, "init")
    manifest = os.path.join(work, "manifest.tsv")
    r = subprocess.run([make_data, "--data", d.data, "--count", str(count), "--seed", "11",
                        "--review", "10", "--quarantine", "2", "--patients", "40",
                        "--manifest", manifest], capture_output=True)
    check(r.returncode == 0, "sv_make_data: " + r.stderr.decode())
    rows = [line.split("\t") for line in open(manifest).read().splitlines()]
    by_patient = {}
    for row in rows:
        if row[1] == "filed":
            by_patient.setdefault(row[2], set()).add(row[0])
    key_path = os.path.join(d.data, "keys", "scanvault.key")
    old_key = os.path.join(work, "old.key")
    shutil.copy2(key_path, old_key)
    old_id = key_id_of_file(key_path)
    records_before = sorted(d.ok("list", "--state", "all", "--json").splitlines())
    # An anchor kept off the box before the rotation must still verify after
    # it (its line then lives in the pinned archive).
    anchor = [l.split()[1] for l in d.ok("audit", "verify").splitlines()
              if l.startswith("anchor: ")][0]

    # Refused beside a running service (its lock held).
    lock = subprocess.Popen(["flock", os.path.join(d.data, "spool", "lock"), "sleep", "30"],
                            start_new_session=True)
    time.sleep(0.3)
    rc, _, err = d.run("rotate-key", "-q")
    os.killpg(lock.pid, signal.SIGKILL)  # flock and the sleep that holds the lock
    lock.wait()
    check(rc == 3 and "stop it first" in err, "rotate-key beside the service: %d %s" % (rc, err))
    check(d.key_ids() == {old_id: count}, "a refused rotation changed objects")

    # A key that is not this data directory's: refused, nothing pending.
    other = os.path.join(work, "other")
    check(subprocess.run([scanvault, "init", "--data", other], capture_output=True,
                         env=d.env).returncode == 0, "init of another data directory")
    rc, _, err = d.run("rotate-key", "-q", "--key", os.path.join(other, "keys", "scanvault.key"))
    check(rc == 3 and "not the key" in err, "rotate-key with another key: %d %s" % (rc, err))
    check(not os.path.exists(key_path + ".new"), "a wrong key left a pending rotation")
    d.ok("find", next(iter(by_patient)))

    # The vault's storage not mounted (objects/ empty): nothing committed.
    objects = os.path.join(d.data, "vault", "objects")
    os.rename(objects, objects + ".away")
    os.mkdir(objects, 0o700)
    rc, _, err = d.run("rotate-key", "-q")
    check(rc == 1 and "mounted" in err, "rotate-key over an empty vault: %d %s" % (rc, err))
    check(key_id_of_file(key_path) == old_id, "the key was replaced over an empty vault")
    os.rmdir(objects)
    os.rename(objects + ".away", objects)

    # Kill it while it re-wraps: at about a third, then about two thirds.
    # Objects are re-wrapped in the order of the vault's walk (fan-out
    # directory, then name): watching the one at the wanted position is
    # cheap enough to poll every millisecond.
    in_order = list(d.objects())
    kills, mixed_seen = 0, 0
    for fraction in (0.3, 0.7):
        marker = in_order[int(fraction * count)]
        p = subprocess.Popen(d.args("rotate-key", "-q"), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=d.env)
        deadline = time.time() + 120
        while p.poll() is None and time.time() < deadline:
            try:
                if key_id_of_object(marker) != old_id:
                    break
            except FileNotFoundError:
                pass  # between the rename's two names: not possible, but harmless
            time.sleep(0.001)
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            kills += 1
        p.wait()
        ids = d.key_ids()
        check(sum(ids.values()) == count, "an object was lost: %r" % ids)
        check(len(ids) <= 2, "objects under more than two keys: %r" % ids)
        mixed_seen += len(ids) == 2
        # Nothing else opens the data directory meanwhile.
        rc, _, err = d.run("find", next(iter(by_patient)))
        check(rc == 3 and "rotation" in err, "find during an interrupted rotation: %d %s %r" % (rc, err, ids))
    check(kills == 2 and mixed_seen == 2, "the kills did not land while re-wrapping")

    # Then at random moments (the reindex, the audit log, the commit).
    rng = random.Random(20261124)
    pending = key_path + ".new"
    for _ in range(4):
        p = subprocess.Popen(d.args("rotate-key", "-q"), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=d.env)
        time.sleep(rng.uniform(0.02, 0.4))
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            kills += 1
        p.wait()
        check(sum(d.key_ids().values()) == count, "an object was lost")
        if not os.path.exists(pending):
            check(p.returncode == 0, "a rotation ended without committing")
            break  # this run had time to finish: it resumed and committed

    out = ""
    if os.path.exists(pending):
        out = d.ok("rotate-key", "-q")
        check("resumed" in out or "had committed" in out, "the last run did not resume: " + out)
    new_id = key_id_of_file(key_path)
    check(new_id != old_id, "the key file still holds the old key")
    check(not os.path.exists(key_path + ".new"), "the pending key was left behind")
    check(d.key_ids() == {new_id: count}, "objects not all under the new key: %r" % d.key_ids())

    # Every object authenticates, index and vault agree.
    d.ok("verify", "-q")
    # find finds every document of every patient.
    for mrn, docids in by_patient.items():
        found = {x["docid"] for x in json.loads(d.ok("find", mrn, "--json"))["documents"]}
        check(found == docids, "find after the rotation: %d of %d" % (len(found & docids),
                                                                     len(docids)))
    check(sorted(d.ok("list", "--state", "all", "--json").splitlines()) == records_before,
          "records changed by the rotation")
    # The audit chain verifies, the archive of the old log included, and
    # the anchor kept before the rotation is found in that archive.
    d.ok("audit", "verify")
    d.ok("audit", "verify", "--anchor", anchor)
    rc, _, err = d.run("audit", "verify", "--anchor", anchor[:-1] + ("0" if anchor[-1] != "0"
                                                                      else "1"))
    check(rc == 1, "a wrong anchor passed after the rotation: %d %s" % (rc, err))
    archive = os.path.join(d.data, "audit", "audit-%s.log" % old_id)
    check(os.path.exists(archive), "the old audit log was not archived")
    # The old key opens nothing any more.
    some = rows[0][0]
    rc, _, err = d.run("get", some, "-o", os.path.join(work, "x"), "--key", old_key)
    check(rc != 0, "the old key still opens the data directory")
    os.remove(old_key)
    rc, _, _ = d.run("get", some, "-o", os.path.join(work, "y"))
    check(rc == 0, "get with the new key")
    # A second rotation with an object out of its place: refused until it
    # is back, so no document is left under a key that is then replaced.
    victim = next(d.objects())
    stray_dir = os.path.join(d.data, "vault", "objects", "zz")
    os.makedirs(stray_dir, exist_ok=True)
    os.rename(victim, os.path.join(stray_dir, os.path.basename(victim)))
    rc, _, err = d.run("rotate-key", "-q")
    check(rc == 1 and "fan-out" in err, "rotate-key with a misplaced object: %d %s" % (rc, err))
    check(key_id_of_file(key_path) == new_id, "the key was replaced with an object out of place")
    os.rename(os.path.join(stray_dir, os.path.basename(victim)), victim)
    os.rmdir(stray_dir)
    d.ok("rotate-key", "-q")
    check(key_id_of_file(key_path) != new_id, "the second rotation did not commit")
    d.ok("verify", "-q")
    d.ok("audit", "verify", "--anchor", anchor)  # two archives deep
    print("rotate-key: %d objects, %d kills, then resumed to the new key %s" %
          (count, kills, new_id))


if __name__ == "__main__":
    main()
