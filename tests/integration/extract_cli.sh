#!/usr/bin/env bash
# The command line of `scanvault extract`: usage errors, --help, exit codes,
# JSON shape and order, a missing file, and no wrong filing on the bundled
# samples.
#   extract_cli.sh SCANVAULT SAMPLES_DIR
set -uo pipefail
scanvault=$1 samples=$2
python=/usr/bin/python3
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
check() { # check DESCRIPTION COMMAND...
    local what=$1; shift
    if "$@"; then echo "ok   $what"; passed=$((passed + 1)); else echo "FAIL $what"; failed=$((failed + 1)); fi
}
exit_is() { local want=$1; shift; "$@" >"$tmp/out" 2>"$tmp/err"; [ $? -eq "$want" ]; }

check "--help exits 0"                 exit_is 0 "$scanvault" extract --help
check "--help names every option"      grep -q -- '--jobs N' "$tmp/out"
check "--help documents the JSON keys" grep -q '"status"' "$tmp/out"
check "no FILE is a usage error (2)"   exit_is 2 "$scanvault" extract
check "--jobs 0 is a usage error (2)"  exit_is 2 "$scanvault" extract --jobs 0 x.png
check "--jobs abc is a usage error"    exit_is 2 "$scanvault" extract --jobs abc x.png
check "unknown option is usage error"  exit_is 2 "$scanvault" extract --frobnicate x.png
check "unknown command is usage error" exit_is 2 "$scanvault" frobnicate
check "missing config file: env error" exit_is 3 "$scanvault" extract --config "$tmp/none.conf" x.png

mapfile -t docs < <(cd "$samples/docs" && ls | head -6)
missing="$tmp/does-not-exist.png"
(cd "$samples/docs" && "$scanvault" extract --json --jobs 2 "${docs[@]:0:3}" "$missing" "${docs[@]:3}") \
    >"$tmp/out.jsonl" 2>"$tmp/err"
rc=$?
check "a missing file gives exit 1"    [ "$rc" -eq 1 ]
check "the error names the missing path" grep -q "does-not-exist.png" "$tmp/err"
check "JSON lines: shape, order, missing file rejected" "$python" - "$tmp/out.jsonl" "$missing" "${docs[@]}" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
missing, docs = sys.argv[2], sys.argv[3:]
want_files = docs[:3] + [missing] + docs[3:]
assert [r["file"] for r in rows] == want_files, [r["file"] for r in rows]
for r in rows:
    for key, kind in (("file", str), ("status", str), ("type", str), ("pages", int), ("ms", (int, float))):
        assert isinstance(r[key], kind), (key, r)
    assert r["status"] in ("index", "review", "reject")
    assert (r["mrn"] is not None) == (r["status"] == "index"), r
    assert (r["reason"] is None) == (r["status"] == "index"), r
    if r["mrn"] is not None:
        assert r["mrn"].isdigit()
miss = rows[3]
assert miss["status"] == "reject" and miss["reason"] == "unreadable", miss
PY

(cd "$samples/docs" && "$scanvault" extract "${docs[0]}" "${docs[1]}") >"$tmp/table" 2>/dev/null
check "table output: a header, one row per file, a summary" \
    bash -c "head -1 '$tmp/table' | grep -q '^STATUS' && [ \$(wc -l < '$tmp/table') -eq 4 ] && tail -1 '$tmp/table' | grep -q '^2 files: '"

# The bundled set: no document filed under a wrong MRN.
mapfile -t all < <(cd "$samples/docs" && ls)
(cd "$samples/docs" && "$scanvault" extract --json --jobs 2 --config "$samples/scanvault.conf" "${all[@]}") >"$tmp/all.jsonl" 2>/dev/null
check "bundled samples: no wrong filing" \
    "$python" "$here/score_extract.py" "$samples/manifest.jsonl" "$tmp/all.jsonl" --min-auto 0 --min-type 0

echo "extract_cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
