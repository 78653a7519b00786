#!/usr/bin/env bash
# Pages per second of `scanvault extract --jobs 2` against the `tesseract`
# command-line tool run on the same pages, 2 in parallel, OMP_THREAD_LIMIT=1.
# Prints figures; asserts nothing about time (see tests/extract_accuracy for
# the accuracy bar, which this also reports for the same run).
#
#   tests/bench/bench_extract.sh [BUILD_DIR] [COUNT] [SEED]
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
count=${2:-150}
seed=${3:-20261123}
scanvault=$build/cli/scanvault
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python=/usr/bin/python3

echo "generating $count documents (seed $seed)..."
"$python" "$top/samples/generate.py" --out "$work/set" --count "$count" --seed "$seed" >/dev/null 2>&1
mapfile -t files < <("$python" -c '
import json, sys
for l in open(sys.argv[1]):
    if l.strip(): print(json.loads(l)["file"])' "$work/set/manifest.jsonl")

# Page images for the command-line tool (not timed).
npages=$("$top/tests/bench/render_pages.sh" "$work/set" "$work/pages")

echo "scanvault extract --jobs 2 over ${#files[@]} documents..."
t0=$(date +%s.%N)
(cd "$work/set" && "$scanvault" extract --json --jobs 2 --config "$top/samples/scanvault.conf" "${files[@]}") >"$work/results.jsonl" 2>/dev/null
t1=$(date +%s.%N)

echo "tesseract CLI, 2 in parallel, over $npages pages..."
t2=$(date +%s.%N)
ls "$work/pages"/*.png | OMP_THREAD_LIMIT=1 xargs -P 2 -I{} sh -c 'tesseract "$1" - >/dev/null 2>&1' _ {}
t3=$(date +%s.%N)

"$python" - "$work/results.jsonl" "$npages" "$t0" "$t1" "$t2" "$t3" <<'PY'
import json, sys, statistics
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
npages_cli = int(sys.argv[2])
t0, t1, t2, t3 = map(float, sys.argv[3:7])
pages = sum(r["pages"] for r in rows)
ours, cli = pages / (t1 - t0), npages_cli / (t3 - t2)
print("scanvault extract --jobs 2: %d docs, %d pages in %.1f s = %.3f pages/s" % (len(rows), pages, t1 - t0, ours))
print("tesseract CLI -P 2:         %d pages in %.1f s = %.3f pages/s" % (npages_cli, t3 - t2, cli))
print("speed-up: %.2fx" % (ours / cli))
keys = ["load", "orient", "ocr", "second_read", "barcode", "decide"]
tot = {k: sum(r.get("timing_ms", {}).get(k, 0) for r in rows) for k in keys}
allms = sum(tot.values()) or 1
print("where the time goes (sum over documents): " +
      ", ".join("%s %.0f%%" % (k, 100 * v / allms) for k, v in tot.items()))
print("ms per page: median %.0f" % statistics.median(r["ms"] / max(r["pages"], 1) for r in rows))
PY
"$python" "$top/tests/integration/score_extract.py" "$work/set/manifest.jsonl" "$work/results.jsonl" || true
