#!/usr/bin/env bash
# Every broken or hostile file gets status "reject" with its reason, through
# the real CLI and worker processes, quickly, and the run still exits 0.
#   extract_bad_input.sh SCANVAULT PYTHON
set -euo pipefail
scanvault=$1 python=$2
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$python" "$here/make_bad_inputs.py" "$dir/in"
start=$(date +%s)
status=0
(cd "$dir/in" && "$scanvault" extract --json --jobs 2 *) >"$dir/out.jsonl" 2>"$dir/err" || status=$?
elapsed=$(( $(date +%s) - start ))
cat "$dir/err"
"$python" - "$dir/out.jsonl" "$status" "$elapsed" "$dir/in" <<'PY'
import json, os, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
status, elapsed = int(sys.argv[2]), int(sys.argv[3])
n_files = len(os.listdir(sys.argv[4]))
passed = failed = 0
def check(ok, what):
    global passed, failed
    print(("ok   " if ok else "FAIL ") + what)
    if ok: passed += 1
    else: failed += 1
check(status == 0, "exit status 0 (every file processed), got %d" % status)
check(len(rows) == n_files, "one result per file (%d of %d)" % (len(rows), n_files))
for r in rows:
    want = r["file"].split("--")[0]
    check(r["status"] == "reject" and r["reason"] == want and r["mrn"] is None,
          "%s -> %s/%s (want reject/%s)" % (r["file"], r["status"], r["reason"], want))
check(elapsed < 60, "all bad inputs handled in %d s (< 60)" % elapsed)
print("bad_input: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
PY
