#!/usr/bin/env bash
# Bad environments and bad arguments for ingest, find, get and stats: a clear
# error with the right exit status, the source left in place, nothing
# half-filed, and the next run succeeds once the cause is gone.
#   ingest_bad_env.sh SCANVAULT SAMPLES_DIR
set -euo pipefail
scanvault=$1 samples=$2
work=$(mktemp -d)
trap 'umount "$work/data/vault" 2>/dev/null || true; rm -rf "$work"' EXIT
export SCANVAULT_CONFIG=$samples/scanvault.conf
unset CREDENTIALS_DIRECTORY SCANVAULT_DATA
data=$work/data
doc=$work/doc.png
cp "$samples/docs/doc-0001.png" "$doc"
mrn=$(python3 -c 'import json; print(json.loads(open("'"$samples"'/manifest.jsonl").readline())["mrns"][0])')

fail() { echo "FAIL: $*"; exit 1; }
# expect STATUS MESSAGE-PART COMMAND...: run it, check exit status and stderr.
expect() {
    local want=$1 part=$2
    shift 2
    set +e
    "$@" >"$work/out" 2>"$work/err"
    local rc=$?
    set -e
    [ "$rc" = "$want" ] || fail "$* exited $rc, expected $want: $(cat "$work/err")"
    grep -qi -- "$part" "$work/err" || fail "$*: message lacks '$part': $(cat "$work/err")"
    ! grep -q "$mrn" "$work/err" || fail "$*: the message holds the MRN"
}
spool_empty() { [ -z "$(ls -A "$data/spool/claimed")" ] || fail "the spool is not empty"; }

echo "== no data directory"
expect 3 "scanvault init" "$scanvault" ingest --data "$work/none" "$doc"
expect 3 "scanvault init" "$scanvault" find --data "$work/none" "$mrn"
"$scanvault" init --data "$data" >/dev/null

echo "== no index yet: find says so"
expect 3 "nothing has been ingested" "$scanvault" find --data "$data" "$mrn"

echo "== the key file is missing"
mv "$data/keys/scanvault.key" "$work/key.saved"
expect 3 "key" "$scanvault" ingest --data "$data" "$doc"
cmp -s "$doc" "$samples/docs/doc-0001.png" || fail "the source changed"
spool_empty
mv "$work/key.saved" "$data/keys/scanvault.key"

echo "== the key file is readable by others"
chmod 0644 "$data/keys/scanvault.key"
expect 3 "lets other users read it" "$scanvault" ingest --data "$data" "$doc"
chmod 0600 "$data/keys/scanvault.key"

echo "== it works once the cause is gone"
"$scanvault" ingest --data "$data" --json "$doc" >"$work/first" || fail "ingest failed"
docid=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["docid"])' "$work/first")

echo "== the data directory of another key"
"$scanvault" init --data "$work/other" >/dev/null
expect 3 "different key" "$scanvault" ingest --data "$data" --key "$work/other/keys/scanvault.key" "$doc"
expect 3 "different key" "$scanvault" find --data "$data" --key "$work/other/keys/scanvault.key" "$mrn"
spool_empty

echo "== usage errors"
expect 2 "not well-formed" "$scanvault" find --data "$data" 12345
expect 2 "check digit" "$scanvault" find --data "$data" "${mrn%?}$(( (${mrn: -1} + 1) % 10 ))"
expect 2 "YYYY-MM-DD" "$scanvault" find --data "$data" --from 2026/01/01 "$mrn"
expect 2 "no such date" "$scanvault" find --data "$data" --to 2026-02-30 "$mrn"
expect 2 "document id" "$scanvault" get --data "$data" "../../etc/passwd" -o "$work/x"
expect 2 "exactly one" "$scanvault" find --data "$data"
expect 2 "at least one" "$scanvault" ingest --data "$data"
expect 3 "no document" "$scanvault" get --data "$data" aaaaaaaaaaaaaaaaaaaaaaaaaa -o "$work/x"
[ ! -e "$work/x" ] || fail "get of an unknown docid created the output file"
touch "$work/exists"
expect 2 "exists" "$scanvault" get --data "$data" "$docid" -o "$work/exists"
[ ! -s "$work/exists" ] || fail "get overwrote an existing file"

echo "== a tampered vault object: get writes nothing"
object=$(find "$data/vault/objects" -name "$docid.svd")
cp "$object" "$work/object.saved"
python3 - "$object" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[len(b) // 2] ^= 0x01
open(p, "wb").write(bytes(b))
PY
expect 1 "$docid" "$scanvault" get --data "$data" "$docid" -o "$work/tampered"
[ ! -e "$work/tampered" ] || fail "get of a tampered object created the output file"
set +e
"$scanvault" get --data "$data" "$docid" >"$work/stdout.bin" 2>/dev/null
rc=$?
set -e
[ "$rc" = 1 ] && [ ! -s "$work/stdout.bin" ] || fail "get to stdout of a tampered object wrote bytes (exit $rc)"
grep -q "refused=damaged" "$data/audit/audit.log" || fail "the refused retrieval is not audited"
cp "$work/object.saved" "$object"

echo "== a corrupt index"
cp "$data/index/data.mdb" "$work/data.mdb.saved"
head -c 8192 /dev/urandom >"$data/index/data.mdb"
expect 3 "index" "$scanvault" find --data "$data" "$mrn"
cp "$doc" "$work/second.png"
printf 'x' >>"$work/second.png"
expect 3 "index" "$scanvault" ingest --data "$data" "$work/second.png"
spool_empty
cp "$work/data.mdb.saved" "$data/index/data.mdb"

echo "== a read-only vault (a read-only bind mount in a private namespace)"
if unshare -rm true 2>/dev/null; then
    unshare -rm bash -c '
        set -e
        mount --bind "$1/vault" "$1/vault"
        mount -o remount,bind,ro "$1/vault"
        set +e
        "$2" ingest --data "$1" --json "$3" >"$4/ro.out" 2>"$4/ro.err"
        echo $? >"$4/ro.rc"' _ "$data" "$scanvault" "$work/second.png" "$work"
    [ "$(cat "$work/ro.rc")" = 1 ] || fail "ingest into a read-only vault exited $(cat "$work/ro.rc")"
    grep -q "nothing was filed" "$work/ro.err" || fail "no clear message: $(cat "$work/ro.err")"
    spool_empty
else
    echo "(skipped: no mount namespace)"
fi

echo "== and then everything works"
"$scanvault" ingest --data "$data" --json "$work/second.png" >"$work/out2" || fail "ingest after repair"
grep -q '"status": "filed"\|"status": "review"' "$work/out2" || fail "not filed after repair: $(cat "$work/out2")"
"$scanvault" find --data "$data" --json "$mrn" | grep -q "$docid" || fail "find lost the first document"
"$scanvault" get --data "$data" "$docid" -o "$work/back" && cmp -s "$work/back" "$doc" || fail "get after repair"
"$scanvault" stats --data "$data" --json | grep -q '"documents": 2' || fail "stats: not 2 documents"
echo PASS
