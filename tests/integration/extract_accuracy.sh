#!/usr/bin/env bash
# The accuracy bar of `scanvault extract` on a freshly generated set:
# 0 documents filed under a wrong MRN, >= 95% of printed-MRN documents filed
# automatically, document type right on >= 95%.
#   extract_accuracy.sh SCANVAULT SET_DIR PYTHON [score_extract.py options]
set -euo pipefail
scanvault=$1 set_dir=$2 python=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
results=$(mktemp)
trap 'rm -f "$results"' EXIT
mapfile -t files < <("$python" -c '
import json, sys
for line in open(sys.argv[1]):
    if line.strip():
        print(json.loads(line)["file"])' "$set_dir/manifest.jsonl")
(cd "$set_dir" && "$scanvault" extract --json --jobs 2 --config "$here/../../samples/scanvault.conf" "${files[@]}") >"$results"
"$python" "$here/score_extract.py" "$set_dir/manifest.jsonl" "$results" "$@"
