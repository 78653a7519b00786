#!/usr/bin/env bash
# The README's first command: on a fresh Debian 12 machine, install what
# scanvault needs, build it, and run the main job on the bundled samples:
# a local vault next to the build (build/demo-data), every bundled document
# ingested into it, then one `find` and one `get`, the figures, the review
# queue, a verify of the whole vault and of the audit log.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
deploy/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)"

scanvault=build/cli/scanvault
data=build/demo-data
export SCANVAULT_CONFIG=samples/scanvault.conf # the samples' MRN rules (Luhn check digit)
unset CREDENTIALS_DIRECTORY

echo
echo "== a new local vault: $data (made again on every run)"
rm -rf "$data" build/demo-get.out
"$scanvault" init --data "$data"

echo
echo "== scanvault ingest: the bundled samples (samples/docs)"
"$scanvault" ingest --data "$data" --jobs "$(nproc)" samples/docs/*

# The demo picks a patient from the samples' ground truth (synthetic data).
read -r mrn file < <(/usr/bin/python3 -c '
import json
for line in open("samples/manifest.jsonl"):
    d = json.loads(line)
    if d["expect"] == "index" and len(d["mrns"]) == 1:
        print(d["mrns"][0], d["file"]); break')
echo
echo "== scanvault find $mrn   (a synthetic MRN from samples/manifest.jsonl)"
"$scanvault" find --data "$data" "$mrn"
docid=$("$scanvault" find --data "$data" --json "$mrn" | /usr/bin/python3 -c '
import json, sys
docs = json.load(sys.stdin)["documents"]
print(docs[0]["docid"] if docs else "")')
if [ -z "$docid" ]; then
    echo "scanvault: no document was filed under $mrn" >&2
    exit 1
fi
echo
echo "== scanvault get $docid -o build/demo-get.out"
"$scanvault" get --data "$data" "$docid" -o build/demo-get.out
if cmp -s build/demo-get.out "samples/docs/$file"; then
    echo "identical to samples/docs/$file ($(stat -c %s build/demo-get.out) bytes)"
else
    echo "build/demo-get.out differs from samples/docs/$file" >&2
    exit 1
fi
echo
echo "== scanvault stats"
"$scanvault" stats --data "$data"
echo
echo "== scanvault review list   (what waits for a person, and why)"
"$scanvault" review list --data "$data"
echo
echo "== scanvault verify   (every object authenticated; index and vault agree)"
"$scanvault" verify --data "$data"
echo
echo "== scanvault audit verify   (the hash-chained audit log)"
"$scanvault" audit verify --data "$data"
