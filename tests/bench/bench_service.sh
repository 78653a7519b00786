#!/usr/bin/env bash
# End-to-end throughput of the running service (`scanvault run`, 2 workers)
# over a generated set dropped into its inbox at once, and the `tesseract`
# command line over the same pages, 2 in parallel, in the same run. Also:
# memory per worker (peak RSS), and the time from a file being claimed as
# stable to its index commit (median, p95). Prints figures; asserts nothing
# about time.
#
#   tests/bench/bench_service.sh [BUILD_DIR] [COUNT] [SEED]
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
count=${2:-200}
seed=${3:-20261126}
scanvault=$build/cli/scanvault
work=$(mktemp -d "${TMPDIR:-/var/tmp}/sv-bench-service.XXXXXX")
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
python=/usr/bin/python3
pid=

echo "generating $count documents (seed $seed)..."
"$python" "$top/samples/generate.py" --out "$work/set" --count "$count" --seed "$seed" >/dev/null 2>&1
mkdir -p "$work/inbox" "$work/pages"
"$scanvault" init --data "$work/data" >/dev/null
{ printf '[intake]\ninbox = %s\nsettle_seconds = 1\nrescan_seconds = 2\nworkers = 2\n' "$work/inbox"
  cat "$top/samples/scanvault.conf"; } >"$work/scanvault.conf"
chmod 600 "$work/scanvault.conf"

# Page images for the command-line tool (not timed).
npages=$("$top/tests/bench/render_pages.sh" "$work/set" "$work/pages")

"$scanvault" run --config "$work/scanvault.conf" --data "$work/data" 2>"$work/service.log" &
pid=$!
until [ -f "$work/data/status/status.json" ]; do sleep 0.2; done
echo "dropping $count documents into the inbox of the running service..."
t0=$(date +%s.%N)
cp "$work"/set/doc-* "$work/inbox/"
until "$python" -c '
import json, os, sys
st = json.load(open(sys.argv[1]))
sys.exit(0 if st["since_start"]["filed"] + st["since_start"]["review"] + st["since_start"]["quarantined"] >= int(sys.argv[2]) and st["in_flight"] == 0 else 1)' "$work/data/status/status.json" "$count" 2>/dev/null; do
    sleep 0.5
done
t1=$(date +%s.%N)
workers=$(pgrep -P "$pid" | tr '\n' ' ')
rss=$(for w in $workers; do awk '/VmHWM/ {print $2}' "/proc/$w/status"; done | tr '\n' ' ')
kill -TERM "$pid"; wait "$pid" || true; pid=

echo "tesseract CLI, 2 in parallel, over $npages pages..."
t2=$(date +%s.%N)
ls "$work/pages"/*.png | OMP_THREAD_LIMIT=1 xargs -P 2 -I{} sh -c 'tesseract "$1" - >/dev/null 2>&1' _ {}
t3=$(date +%s.%N)

"$python" - "$work/service.log" "$npages" "$t0" "$t1" "$t2" "$t3" "$rss" <<'PY'
import re, statistics, sys
log = open(sys.argv[1]).read()
npages_cli = int(sys.argv[2])
t0, t1, t2, t3 = map(float, sys.argv[3:7])
rss = [int(x) for x in sys.argv[7].split()]
rows = re.findall(r"status=(\w+) .* pages=(\d+) ms=(\d+) wait_ms=(\d+)", log)
docs, pages = len(rows), sum(int(r[1]) for r in rows)
minutes = (t1 - t0) / 60
print("service: %d documents, %d pages in %.1f s = %.1f documents/min, %.1f pages/min"
      % (docs, pages, t1 - t0, docs / minutes, pages / minutes))
cli = npages_cli / ((t3 - t2) / 60)
print("tesseract CLI -P 2: %d pages in %.1f s = %.1f pages/min" % (npages_cli, t3 - t2, cli))
print("service / CLI (pages per minute): %.2fx" % ((pages / minutes) / cli))
lat = sorted(int(r[2]) + int(r[3]) for r in rows)
print("claimed as stable -> index commit: median %.1f s, p95 %.1f s (includes the wait for a "
      "free worker of a batch dropped at once)" % (statistics.median(lat) / 1e3,
                                                   lat[int(0.95 * (len(lat) - 1))] / 1e3))
own = sorted(int(r[2]) for r in rows)
print("claim -> commit of the document itself: median %.1f s, p95 %.1f s"
      % (statistics.median(own) / 1e3, own[int(0.95 * (len(own) - 1))] / 1e3))
print("peak RSS per worker: %s MiB" % ", ".join("%.0f" % (k / 1024) for k in rss))
print("statuses: " + ", ".join("%s %d" % (s, sum(1 for r in rows if r[0] == s))
                               for s in sorted({r[0] for r in rows})))
PY
