#!/usr/bin/env bash
# The cost of filing besides OCR: claim, hash and duplicate check, seal
# (encrypt + fsyncs), index commit, audit line and release of the spool file,
# per document, as a fraction of the OCR time of the same document. Figures
# come from `scanvault ingest --json` (timing_ms per step). Prints figures;
# asserts nothing about time.
#
#   tests/bench/bench_ingest.sh [BUILD_DIR] [COUNT] [SEED] [JOBS]
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
count=${2:-60}
seed=${3:-20261125}
jobs=${4:-2}
scanvault=$build/cli/scanvault
work=$(mktemp -d "${TMPDIR:-/var/tmp}/sv-bench-ingest.XXXXXX")
trap 'rm -rf "$work"' EXIT
python=/usr/bin/python3

echo "generating $count documents (seed $seed) in $work..."
"$python" "$top/samples/generate.py" --out "$work/set" --count "$count" --seed "$seed" >/dev/null 2>&1
mapfile -t files < <("$python" -c '
import json, sys
for l in open(sys.argv[1]):
    if l.strip(): print(sys.argv[2] + "/" + json.loads(l)["file"])' "$work/set/manifest.jsonl" "$work/set")
"$scanvault" init --data "$work/data" >/dev/null
echo "ingesting with --jobs $jobs (data directory on $(df --output=fstype "$work" | tail -1))..."
SCANVAULT_CONFIG=$top/samples/scanvault.conf "$scanvault" ingest --data "$work/data" --json \
    --jobs "$jobs" "${files[@]}" >"$work/results.jsonl"
"$python" - "$work/results.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
steps = ["claim", "identify", "seal", "commit", "audit", "release"]
def q(xs, p):
    xs = sorted(xs); return xs[min(len(xs) - 1, int(p * len(xs)))]
print("%d documents, %d pages" % (len(rows), sum(r["pages"] for r in rows)))
print("%-9s %9s %9s %9s" % ("step", "median", "p95", "total"))
for s in steps + ["ocr"]:
    xs = [r["timing_ms"][s] for r in rows]
    print("%-9s %7.2fms %7.2fms %8.0fms" % (s, statistics.median(xs), q(xs, 0.95), sum(xs)))
other = [sum(r["timing_ms"][s] for s in steps) for r in rows]
ocr = [r["timing_ms"]["ocr"] for r in rows]
frac = [o / c for o, c in zip(other, ocr) if c > 0]
print("everything but OCR: %.1f ms median per document, %.2f%% of the OCR time in total "
      "(per document: median %.2f%%, p95 %.2f%%, max %.2f%%)"
      % (statistics.median(other), 100 * sum(other) / sum(ocr), 100 * statistics.median(frac),
         100 * q(frac, 0.95), 100 * max(frac)))
PY
