#!/usr/bin/env bash
# Rates of `scanvault reindex`, `scanvault verify` and `scanvault verify
# --fast` over COUNT synthetic documents (sv_make_data: no OCR), for each
# document size given: documents per second and MB of documents per second,
# as the commands report them, and the wall time of each command. The
# objects were just written, so they are read from the page cache (warm);
# the load average before and after is printed because other work on the
# machine moves the figures. The "cold" runs first evict the data
# directory's files from the page cache (posix_fadvise DONTNEED on each file:
# only these files, so other work on the machine keeps its cache; the host
# under a virtual disk may still cache them). Prints figures; asserts nothing
# about time.
#
#   tests/bench/bench_maintain.sh [BUILD_DIR] [COUNT] [SIZES]
#   e.g. tests/bench/bench_maintain.sh build 10000 "200000 4096"
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
count=${2:-10000}
sizes=${3:-200000 4096}
scanvault=$build/cli/scanvault
make_data=$build/tests/sv_make_data
work=$(mktemp -d "${TMPDIR:-/var/tmp}/sv-bench-maintain.XXXXXX")
trap 'rm -rf "$work"' EXIT
unset CREDENTIALS_DIRECTORY SCANVAULT_DATA
: >"$work/empty.conf"
export SCANVAULT_CONFIG=$work/empty.conf

load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "data directory on $(df --output=fstype "$work" | tail -1) ($work)"

# evict DIR: drop DIR's files from the page cache.
evict() {
    sync
    python3 - "$1" <<'PY'
import os, sys
for root, dirs, files in os.walk(sys.argv[1]):
    for name in files:
        try:
            fd = os.open(os.path.join(root, name), os.O_RDONLY)
        except OSError:
            continue
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(fd)
PY
}

# timed NAME COMMAND...: run it, keep its output, print its summary line and
# the wall time.
timed() {
    local name=$1
    shift
    local start end
    start=$(date +%s.%N)
    "$@" >"$work/out" 2>"$work/err" || { echo "$name failed:"; cat "$work/out" "$work/err"; exit 1; }
    end=$(date +%s.%N)
    printf '  %-14s %6.2f s wall  | %s\n' "$name" "$(echo "$end - $start" | bc)" \
        "$(grep -E '^(reindex|verify):' "$work/out" | sed 's/^[a-z]*: //')"
}

for size in $sizes; do
    data=$work/data-$size
    "$scanvault" init --data "$data" >/dev/null
    echo
    echo "== $count documents of $size bytes (load before: $(load))"
    start=$(date +%s.%N)
    "$make_data" --data "$data" --count "$count" --size "$size" --review 10 --quarantine 2
    printf '  %-14s %6.2f s wall\n' "sv_make_data" "$(echo "$(date +%s.%N) - $start" | bc)"
    echo "  vault: $(du -sh "$data/vault/objects" | cut -f1), index: $(du -sh "$data/index" | cut -f1)"
    sync
    timed "reindex" "$scanvault" reindex --data "$data" -q
    grep -q "identical to the index it replaced" "$work/out" ||
        { echo "reindex did not give the same index:"; cat "$work/out"; exit 1; }
    timed "verify" "$scanvault" verify --data "$data" -q
    timed "verify --fast" "$scanvault" verify --data "$data" -q --fast
    timed "reindex again" "$scanvault" reindex --data "$data" -q
    evict "$data"
    timed "verify, cold" "$scanvault" verify --data "$data" -q
    evict "$data"
    timed "fast, cold" "$scanvault" verify --data "$data" -q --fast
    evict "$data"
    timed "reindex, cold" "$scanvault" reindex --data "$data" -q
    echo "  load after: $(load)"
    rm -rf "$data"
done
