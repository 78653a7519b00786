#!/bin/sh
# bench_socket.sh - `find` through the service's socket against direct mode
# at N documents (default 1,000,000): makes a data directory with
# `sv_make_data --index-only` (index entries only: find reads nothing else;
# about 80 s per million on the reference machine), then runs bench_socket.
# Prints figures, asserts nothing about time.
#
#   tests/bench/bench_socket.sh BUILD_DIR [N] [QUERIES]
#
# The data goes to BUILD_DIR/bench-socket (on disk: the audit line each find
# appends is fdatasync'ed there) and is kept for another run; delete it
# after.
set -eu
build=${1:?usage: bench_socket.sh BUILD_DIR [N] [QUERIES]}
n=${2:-1000000}
queries=${3:-5000}
dir=$build/bench-socket/$n
if [ ! -f "$dir/manifest.tsv" ]; then
    rm -rf "$dir"
    mkdir -p "$dir"
    "$build/cli/scanvault" init --data "$dir/data" >/dev/null
    start=$(date +%s)
    # About 20 documents per patient, 2% in review.
    "$build/tests/sv_make_data" --data "$dir/data" --count "$n" --patients $((n / 20 + 1)) \
        --review 2 --index-only --manifest "$dir/manifest.tsv.part"
    mv "$dir/manifest.tsv.part" "$dir/manifest.tsv"
    echo "made $n index entries in $(( $(date +%s) - start )) s"
fi
"$build/tests/bench_socket" --data "$dir/data" --manifest "$dir/manifest.tsv" --queries "$queries"
