#!/usr/bin/env python3
"""The manual page (docs/scanvault.1) against the real --help texts.

For every command `scanvault --help` lists:

  - `scanvault CMD --help` exits 0 and prints its usage;
  - the man page has a section `.SS "scanvault CMD ..."` for it;
  - the options (`--xxx`, `-x`) the --help text names and the ones the man
    page section names are the same set, both ways. An option named after
    "scanvault OTHER" on the same line is a reference to another command's
    option and counts for neither;
  - every subcommand of its usage lines (`scanvault review assign`,
    `scanvault audit verify`) is named in the section;
  - the exit codes of its "Exit status:" paragraph are those of the
    section's "Exit status:" paragraph (or, without one, are in the general
    EXIT STATUS section).

And for the page as a whole: the sections a man page needs are there; the
exit codes of `scanvault --help` are in EXIT STATUS; every $VARIABLE a
--help text names is in ENVIRONMENT; every DIR/path a --help text names is
in FILES; no section describes a command the binary does not have (except
the ones in PENDING, being written); `groff -man -ww` gives no warning.

    man_help.py SCANVAULT MANPAGE [GROFF]           the check
    man_help.py --self-test SCANVAULT MANPAGE [GROFF]
        breaks copies of the page in known ways and fails unless the check
        finds each one (so the check itself cannot rot into always passing).

GROFF empty or missing: the groff check is skipped and the exit status is 77
(ctest: skipped) when everything else passed.
"""
import functools
import os
import re
import subprocess
import sys
import tempfile

# Commands the man page may describe before this build has them: name ->
# why. Once the binary lists the command, it is checked like any other.
PENDING = {}

REQUIRED_SECTIONS = ["NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "EXIT STATUS",
                     "ENVIRONMENT", "FILES", "SEE ALSO"]

SKIPPED = 77

OPTION_RE = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*[a-z0-9]|-[a-zA-Z])(?![\w-])")
CROSS_REF_RE = re.compile(r"\bscanvault\s+([a-z][a-z-]*)")
EXIT_CODE_RE = re.compile(r"(?:^|[:;])\s*(\d+)\s")
ENV_VAR_RE = re.compile(r"\$([A-Z][A-Z0-9_]+)")
DIR_PATH_RE = re.compile(r"\bDIR/([\w./-]*[\w/])")


# ---- the --help side ------------------------------------------------------

def clean_env():
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    for k in ("CREDENTIALS_DIRECTORY", "SCANVAULT_DATA", "SCANVAULT_CONFIG"):
        env.pop(k, None)
    return env


@functools.lru_cache(maxsize=None)
def run_help(scanvault, *args):
    r = subprocess.run([scanvault, *args, "--help"], capture_output=True, text=True,
                       env=clean_env(), timeout=30, stdin=subprocess.DEVNULL)
    return r.returncode, r.stdout, r.stderr


def paragraph_after(lines, start_re):
    """The lines from the first one matching start_re to the next blank one."""
    for i, line in enumerate(lines):
        if re.match(start_re, line.strip()):
            out = []
            for l in lines[i:]:
                if not l.strip():
                    break
                out.append(l.strip())
            return " ".join(out)
    return None


def exit_codes(paragraph):
    text = re.sub(r"^\s*Exit status:", ":", paragraph)
    return {int(n) for n in EXIT_CODE_RE.findall(text + " ")}


def options_in(lines, command, commands):
    """Options named in lines, leaving out references to other commands'."""
    found = set()
    for line in lines:
        for m in CROSS_REF_RE.finditer(line):
            if m.group(1) != command and m.group(1) in commands:
                line = line[:m.start()]
                break
        found.update(OPTION_RE.findall(line))
    return found


def subcommands_in_usage(help_text, command):
    subs = []
    for line in help_text.splitlines():
        if not line.strip():
            break
        words = line.replace("usage:", " ").split()
        if len(words) >= 3 and words[0] == "scanvault" and words[1] == command and \
                re.fullmatch(r"[a-z][a-z-]*", words[2]):
            subs.append(words[2])
    return subs


def main_help(scanvault):
    rc, out, err = run_help(scanvault)
    if rc != 0:
        raise SystemExit(f"FAIL: scanvault --help exited {rc}: {err.strip()}")
    lines = out.splitlines()
    commands = []
    if "Commands:" not in out:
        raise SystemExit("FAIL: scanvault --help has no 'Commands:' list")
    in_list = False
    for line in lines:
        if line.startswith("Commands:"):
            in_list = True
            continue
        m = re.match(r"^  (\S+)\s", line)
        if in_list and m:
            commands.append(m.group(1))
        elif in_list and commands and not line.strip():
            break
    if not commands:
        raise SystemExit("FAIL: no command found in scanvault --help")
    codes = exit_codes(paragraph_after(lines, r"Exit status:") or "")
    return commands, codes, out


# ---- the man page side ----------------------------------------------------

FONT_MACROS = {"B": " ", "I": " ", "SB": " ", "SM": " ",
               "BR": "", "BI": "", "IB": "", "IR": "", "RB": "", "RI": ""}
BREAK_MACROS = {"PP", "P", "LP", "IP", "HP", "TP", "RS", "RE", "SH", "SS"}
ESCAPES = [(r"\(dq", '"'), (r"\(lq", '"'), (r"\(rq", '"'), (r"\(aq", "'"),
           (r"\(em", "--"), (r"\(en", "-"), (r"\-", "-"), (r"\&", ""), (r"\%", ""),
           (r"\:", ""), (r"\e", "\\"), (r"\ ", " ")]


def unescape(text):
    text = re.sub(r"\\f(\(..|\[[^]]*\]|.)", "", text)
    for esc, plain in ESCAPES:
        text = text.replace(esc, plain)
    return text


def macro_args(rest):
    # roff quoting: "a b" is one argument, "" inside quotes is a quote.
    args, i = [], 0
    while i < len(rest):
        if rest[i] == " ":
            i += 1
        elif rest[i] == '"':
            j, buf = i + 1, []
            while j < len(rest):
                if rest[j] == '"' and rest[j + 1:j + 2] == '"':
                    buf.append('"')
                    j += 2
                elif rest[j] == '"':
                    j += 1
                    break
                else:
                    buf.append(rest[j])
                    j += 1
            args.append("".join(buf))
            i = j
        else:
            j = rest.find(" ", i)
            j = len(rest) if j < 0 else j
            args.append(rest[i:j])
            i = j
    return args


class ManPage:
    """The page as text lines: the top sections (.SH) and the command
    sections (.SS "scanvault CMD ..."), each a list of plain lines with ""
    at every paragraph break."""

    def __init__(self, source):
        self.sections = {}   # .SH name -> lines
        self.commands = {}   # command -> (title, lines)
        self.duplicates = []
        section, current = None, None
        for raw in source.splitlines():
            if raw.startswith(('.\\"', "'\\\"")):
                continue
            raw = re.sub(r'\\".*$', "", raw)
            if raw.startswith((".", "'")):
                name, _, rest = raw[1:].strip().partition(" ")
                args = macro_args(rest.strip())
                if name == "SH":
                    section = unescape(" ".join(args))
                    current = self.sections.setdefault(section, [])
                    continue
                if name == "SS":
                    title = " ".join(unescape(" ".join(args)).split())
                    words = title.split()
                    if section == "COMMANDS" and len(words) >= 2 and words[0] == "scanvault":
                        if words[1] in self.commands:
                            self.duplicates.append(words[1])
                        current = [title]
                        self.commands[words[1]] = (title, current)
                    else:
                        current = self.sections.setdefault(section, [])
                        current.append(title)
                    continue
                if current is None:
                    continue
                if name in BREAK_MACROS:
                    current.append("")
                    if args:
                        current.append(unescape(" ".join(args)))
                elif name in FONT_MACROS:
                    current.append(unescape(FONT_MACROS[name].join(args)))
                continue  # .br, .nf, .TH, ... carry no text we check
            if current is not None:
                current.append(unescape(raw))

    def exit_status_tags(self):
        return {int(l) for l in self.sections.get("EXIT STATUS", []) if re.fullmatch(r"\d+", l)}


# ---- the check --------------------------------------------------------------

def check(scanvault, man_source, groff, is_quiet=False):
    """Returns the list of problems found (empty: consistent)."""
    problems = []
    commands, main_codes, main_text = main_help(scanvault)
    page = ManPage(man_source)
    known = set(commands) | set(page.commands)
    all_help = [main_text]

    for name in REQUIRED_SECTIONS:
        if name not in page.sections:
            problems.append(f"the man page has no .SH {name} section")
    for name in page.duplicates:
        problems.append(f"the man page has two sections for 'scanvault {name}'")
    missing_codes = main_codes - page.exit_status_tags()
    if not main_codes:
        problems.append("scanvault --help names no exit status")
    if missing_codes:
        problems.append(f"EXIT STATUS lacks {sorted(missing_codes)}, which scanvault --help names")

    for command in commands:
        rc, out, err = run_help(scanvault, command)
        if rc != 0 or not out.startswith(f"usage: scanvault {command}"):
            problems.append(f"'scanvault {command} --help' exited {rc} or printed no usage "
                            f"({err.strip()[:200]})")
            continue
        all_help.append(out)
        if command not in page.commands:
            problems.append(f"{command}: no section .SS \"scanvault {command}\" in the man page")
            continue
        _, man_lines = page.commands[command]
        help_lines = out.splitlines()

        help_options = options_in(help_lines, command, known)
        man_options = options_in(man_lines, command, known)
        for opt in sorted(help_options - man_options):
            problems.append(f"{command}: {opt} is in --help but not in the man page section")
        for opt in sorted(man_options - help_options):
            problems.append(f"{command}: {opt} is in the man page section but not in --help")

        man_text = " ".join(" ".join(man_lines).split())
        for sub in subcommands_in_usage(out, command):
            if f"scanvault {command} {sub}" not in man_text:
                problems.append(f"{command}: subcommand '{sub}' of --help is not in the man page")

        help_exit = paragraph_after(help_lines, r"Exit status:")
        if help_exit is None:
            problems.append(f"{command}: --help has no 'Exit status:' paragraph")
            continue
        help_codes = exit_codes(help_exit)
        man_exit = paragraph_after(man_lines, r"Exit status:")
        if man_exit is not None:
            man_codes = exit_codes(man_exit)
            if man_codes != help_codes:
                problems.append(f"{command}: exit codes {sorted(man_codes)} in the man page, "
                                f"{sorted(help_codes)} in --help")
        else:
            lacking = help_codes - page.exit_status_tags()
            if lacking:
                problems.append(f"{command}: exit codes {sorted(lacking)} of --help are "
                                f"nowhere in the man page")

    for command in sorted(set(page.commands) - set(commands)):
        if command in PENDING:
            if not is_quiet:
                print(f"note: 'scanvault {command}' is in the man page but not in this "
                      f"build ({PENDING[command]}); not compared")
        else:
            problems.append(f"the man page describes 'scanvault {command}', which "
                            f"scanvault --help does not list")

    help_text = "\n".join(all_help)
    env_text = " ".join(page.sections.get("ENVIRONMENT", []))
    for var in sorted(set(ENV_VAR_RE.findall(help_text))):
        if not re.search(rf"\b{var}\b", env_text):
            problems.append(f"${var} is named by a --help text but not in ENVIRONMENT")
    files_text = " ".join(page.sections.get("FILES", []))
    for path in sorted(set(DIR_PATH_RE.findall(help_text))):
        if path.rstrip("/") not in files_text:
            problems.append(f"DIR/{path} is named by a --help text but not in FILES")

    if groff:
        with tempfile.NamedTemporaryFile("w", suffix=".1") as f:
            f.write(man_source)
            f.flush()
            r = subprocess.run([groff, "-man", "-Tutf8", "-ww", "-z", f.name],
                               capture_output=True, text=True, timeout=60)
        said = (r.stdout + r.stderr).strip()
        if r.returncode != 0 or said:
            problems.append(f"groff -man -ww: exit {r.returncode}: {said[:1000]}")
    return problems


# ---- the self-test ----------------------------------------------------------

def section_span(source, command):
    start = source.index(f'.SS "scanvault {command}')
    end = source.find("\n.SS ", start + 1)
    end2 = source.find("\n.SH ", start + 1)
    end = min(e for e in (end, end2, len(source)) if e >= 0)
    return start, end


def in_section(source, command, old, new, count=1):
    """source with old replaced by new in the section of command (count
    times; -1: everywhere in it)."""
    start, end = section_span(source, command)
    part = source[start:end]
    if old not in part:
        raise SystemExit(f"FAIL: self-test: '{old}' not in the section of {command}")
    return source[:start] + part.replace(old, new, count) + source[end:]


# A scanvault whose `ARGS --help` prints the real text with OLD replaced by NEW.
FAKE_SCANVAULT = """#!{python}
import subprocess, sys
r = subprocess.run([{real!r}] + sys.argv[1:], capture_output=True, text=True)
out = r.stdout
if sys.argv[1:] == {args!r} + ["--help"]:
    out = out.replace({old!r}, {new!r})
sys.stdout.write(out)
sys.stderr.write(r.stderr)
sys.exit(r.returncode)
"""


def self_test(scanvault, man_source, groff):
    base = check(scanvault, man_source, groff)
    if base:
        raise SystemExit("FAIL: self-test needs a consistent page to start from:\n  " +
                         "\n  ".join(base))
    start, end = section_span(man_source, "stats")
    mutations = [
        ("an option renamed", "verify: --fast is in --help",
         in_section(man_source, "verify", r"\-\-fast", r"\-\-quick", -1)),
        ("an option the binary lacks", "find: --bogus is in the man page",
         in_section(man_source, "find", ".TP\n.B \\-\\-json",
                    ".TP\n.B \\-\\-bogus\nNot an option.\n.TP\n.B \\-\\-json")),
        ("a short option dropped", "get: -o is in --help",
         in_section(man_source, "get", r"\-o", "", -1)),
        ("a command section missing", "stats: no section",
         man_source[:start] + man_source[end:]),
        ("an exit code added", "list: exit codes [0, 1, 2, 3] in the man page",
         in_section(man_source, "list", "Exit status: 0 listed;",
                    "Exit status: 0 listed; 1 some failed;")),
        ("a subcommand missing", "review: subcommand 'reassign'",
         man_source.replace("scanvault review reassign", "scanvault review move")),
        ("a command the binary lacks", "describes 'scanvault frobnicate'",
         man_source.replace('.SS "scanvault stats"',
                            '.SS "scanvault frobnicate"\nFrobnicate.\n.SS "scanvault stats"')),
        ("ENVIRONMENT without a variable", "$SCANVAULT_DATA is named",
         man_source.replace(".B SCANVAULT_DATA\n", ".B SCANVAULT_DATUM\n")),
    ]
    if groff:
        mutations.append(("a groff warning", "groff -man -ww",
                          man_source.replace(".SH ENVIRONMENT", ".XX undefined\n.SH ENVIRONMENT")))
    failed = []
    for what, expected, source in mutations:
        found = check(scanvault, source, groff, is_quiet=True)
        if not any(expected in p for p in found):
            failed.append(f"{what}: not found (wanted a problem with '{expected}'; got {found})")
        else:
            print(f"ok: {what}: found")
    # The other side: a binary whose --help texts changed.
    help_mutations = [
        ("an option added to --help", "find: --limit is in --help but not in the man page",
         ["find"], "  -h, --help", "  --limit N      at most N documents\n  -h, --help"),
        ("an exit code added to --help", "stats: exit codes [0, 2, 3] in the man page",
         ["stats"], "Exit status: 0 printed;", "Exit status: 0 printed; 1 partly;"),
        ("a command added to scanvault --help", "'scanvault purge --help' exited",
         [], "  extract ", "  purge      delete everything\n  extract "),
    ]
    with tempfile.TemporaryDirectory() as work:
        for i, (what, expected, args, old, new) in enumerate(help_mutations):
            fake = os.path.join(work, f"scanvault-{i}")  # run_help() caches by path
            with open(fake, "w") as f:
                f.write(FAKE_SCANVAULT.format(python=sys.executable, real=os.path.abspath(scanvault),
                                              args=args, old=old, new=new))
            os.chmod(fake, 0o755)
            found = check(fake, man_source, groff, is_quiet=True)
            if not any(expected in p for p in found):
                failed.append(f"{what}: not found (wanted '{expected}'; got {found})")
            else:
                print(f"ok: {what}: found")
    if failed:
        raise SystemExit("FAIL: the check missed:\n  " + "\n  ".join(failed))
    print(f"man_help self-test: all {len(mutations) + len(help_mutations)} breakages found")


def main():
    args = sys.argv[1:]
    is_self_test = bool(args) and args[0] == "--self-test"
    if is_self_test:
        args = args[1:]
    if len(args) not in (2, 3):
        raise SystemExit(__doc__)
    scanvault, man_path = args[0], args[1]
    groff = args[2] if len(args) == 3 and args[2] else None
    with open(man_path, encoding="utf-8") as f:
        man_source = f.read()
    if is_self_test:
        self_test(scanvault, man_source, groff)
    else:
        problems = check(scanvault, man_source, groff)
        if problems:
            raise SystemExit("FAIL: the man page and the --help texts disagree:\n  " +
                             "\n  ".join(problems))
        print(f"man_help: {man_path} agrees with every --help text")
    if groff is None:
        print("groff not found: the formatting check was skipped")
        sys.exit(SKIPPED)


if __name__ == "__main__":
    main()
