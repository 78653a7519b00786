#!/usr/bin/env python3
"""`scanvault config check` against the documentation, with the real binary:

  - every key docs/configuration.md documents is in deploy/scanvault.conf
    under the same section, and the other way round;
  - each key, alone in its section with its documented default, is parsed;
    the whole example file is valid;
  - an unknown key, a bad value, a key file readable by others and a
    configuration writable by everyone are refused, naming file and line
    (and never echoing the value).

usage: config_check.py SCANVAULT SOURCE_DIR WORKDIR
"""
import os
import re
import shutil
import subprocess
import sys


def check(cond, msg):
    if not cond:
        raise SystemExit("FAIL: " + msg)


def documented_keys(path):
    keys, section = {}, None
    for line in open(path):
        m = re.match(r"^## `\[([a-z]+)\]`", line)
        if m:
            section = m.group(1)
            keys.setdefault(section, set())
            continue
        if line.startswith("## "):
            section = None
        m = re.match(r"^\| `([a-z_]+)` \|", line)
        if m and section:
            keys[section].add(m.group(1))
    return keys


def example_settings(path):
    settings, section = {}, None
    for line in open(path):
        line = line.rstrip("\n")
        m = re.match(r"^\[([a-z]+)\]$", line)
        if m:
            section = m.group(1)
            settings.setdefault(section, {})
            continue
        m = re.match(r"^([a-z_]+) =(.*)$", line)
        if m:
            settings[section][m.group(1)] = m.group(2).strip()
    return settings


def main():
    scanvault, source, work = sys.argv[1:4]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    env = dict(os.environ)
    for k in ("CREDENTIALS_DIRECTORY", "SCANVAULT_DATA", "SCANVAULT_CONFIG"):
        env.pop(k, None)

    def config_check(text, mode=0o600):
        path = os.path.join(work, "scanvault.conf")
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        r = subprocess.run([scanvault, "config", "check", path], capture_output=True, env=env)
        return r.returncode, r.stdout.decode(), r.stderr.decode(), path

    doc = documented_keys(os.path.join(source, "docs", "configuration.md"))
    example = example_settings(os.path.join(source, "deploy", "scanvault.conf"))
    check(set(doc) == set(example), "sections: documented %s, example %s" %
          (sorted(doc), sorted(example)))
    for section in doc:
        check(doc[section] == set(example[section]),
              "[%s]: documented but not in the example: %s; in the example but not documented: %s"
              % (section, sorted(doc[section] - set(example[section])),
                 sorted(set(example[section]) - doc[section])))

    rc, out, err, _ = config_check(open(os.path.join(source, "deploy", "scanvault.conf")).read())
    check(rc == 0 and ": valid" in out, "the example file: %d %s" % (rc, err))
    n = 0
    for section, keys in example.items():
        for key, value in keys.items():
            rc, out, err, _ = config_check("[%s]\n%s = %s\n" % (section, key, value))
            check(rc == 0, "[%s] %s = %s refused: %s" % (section, key, value, err))
            n += 1

    # Mistakes name the file and the line, and never echo the value.
    rc, _, err, path = config_check("[mrn]\nmin_length = 6\ncolour = blue\n")
    check(rc == 3 and "%s:3:" % path in err and "colour" in err, "unknown key: " + err)
    rc, _, err, path = config_check("[intake]\ninbox = /srv/in\nsettle_seconds = 98765432\n")
    check(rc == 3 and "%s:3:" % path in err and "98765432" not in err, "bad value: " + err)
    key = os.path.join(work, "scanvault.key")
    with open(key, "wb") as f:
        f.write(b"\0" * 48)
    os.chmod(key, 0o644)
    rc, _, err, path = config_check("[storage]\n\nkey_file = %s\n" % key)
    check(rc == 3 and "%s:3:" % path in err and "chmod 600" in err, "exposed key: " + err)
    os.chmod(key, 0o600)
    rc, _, err, _ = config_check("[storage]\nkey_file = %s\n" % key)
    check(rc == 0, "a 0600 key file: " + err)
    rc, _, err, path = config_check("[mrn]\nmin_length = 6\n", mode=0o646)
    check(rc == 3 and "writable by every user" in err, "world-writable configuration: " + err)
    rc, out, _, _ = config_check("[storage]\ndata_dir = %s/nowhere\n" % work)
    check(rc == 0 and "warning: the data directory" in out, "missing data directory: " + out)
    print("config check: %d documented keys parsed one by one; 4 mistakes refused at their line"
          % n)


if __name__ == "__main__":
    main()
