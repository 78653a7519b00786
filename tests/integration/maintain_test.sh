#!/usr/bin/env bash
# scanvault reindex and verify on real data directories (synthetic documents
# from sv_make_data, no OCR): reindex gives back the same index entry for
# entry; reindex is refused while the data directory is locked; verify is
# clean on a good vault and names each kind of damage by docid.
#   maintain_test.sh SCANVAULT SV_MAKE_DATA
set -euo pipefail
scanvault=$1 make_data=$2
work=$(mktemp -d)
flock_pid=
trap '[ -n "$flock_pid" ] && kill "$flock_pid" 2>/dev/null; rm -rf "$work"' EXIT
unset CREDENTIALS_DIRECTORY SCANVAULT_DATA
# An empty configuration: the built-in [mrn] rules (6..10 digits), whatever
# /etc/scanvault holds on this machine.
: >"$work/empty.conf"
export SCANVAULT_CONFIG=$work/empty.conf

fail() { echo "FAIL: $*"; exit 1; }
# run WANT COMMAND...: run it, stdout to $work/out, stderr to $work/err, and
# check the exit status.
run() {
    local want=$1
    shift
    set +e
    "$@" >"$work/out" 2>"$work/err"
    local rc=$?
    set -e
    [ "$rc" = "$want" ] || fail "$* exited $rc, expected $want: $(cat "$work/out" "$work/err")"
}
has() { grep -q -- "$1" "$work/out" || fail "output lacks '$1': $(cat "$work/out")"; }
hasnt() { ! grep -q -- "$1" "$work/out" || fail "output has '$1': $(cat "$work/out")"; }
# no_mrn FILE...: no MRN of the manifest ($work/mrns) appears in the files.
no_mrn() { ! grep -qF -f "$work/mrns" "$@" || fail "an MRN appears in $*"; }
object_of() { find "$1/vault/objects" -name "$2.svd"; }
# flip DATA DOCID OFFSET: flip one bit of the object at OFFSET (negative:
# from the end).
flip() {
    local f
    f=$(object_of "$1" "$2")
    chmod u+w "$f"
    python3 - "$f" "$3" <<'EOF'
import sys
path, offset = sys.argv[1], int(sys.argv[2])
data = bytearray(open(path, "rb").read())
data[offset] ^= 0x01
open(path, "wb").write(data)
EOF
}
# snapshot DATA NAME: everything a user sees of the index.
snapshot() {
    "$scanvault" list --data "$1" --state all --json >"$work/$2.list"
    for mrn in $(head -5 "$work/mrns"); do
        "$scanvault" find --data "$1" --json "$mrn"
    done >"$work/$2.find"
    "$scanvault" stats --data "$1" --json |
        python3 -c 'import json,sys; d=json.load(sys.stdin); [d.pop(k) for k in ("index_bytes","index_map_bytes")]; print(json.dumps(d, sort_keys=True))' \
        >"$work/$2.stats"
}
same_snapshot() {
    for part in list find stats; do
        cmp -s "$work/$1.$part" "$work/$2.$part" || fail "$part differs after the reindex:
$(diff "$work/$1.$part" "$work/$2.$part" | head -20)"
    done
}
copy() { rm -rf "$2"; cp -a "$1" "$2"; }

data=$work/data
"$scanvault" init --data "$data" >/dev/null
"$make_data" --data "$data" --count 500 --patients 40 --review 10 --quarantine 5 \
    --size 3000 --manifest "$work/manifest"
[ "$(wc -l <"$work/manifest")" = 500 ] || fail "sv_make_data made no 500 documents"
cut -f3 "$work/manifest" | grep -v '^-$' | sort -u >"$work/mrns"
filed=$(awk -F'\t' '$2 == "filed" && n++ < 3 {print $1}' "$work/manifest")
review=$(awk -F'\t' '$2 == "review" {print $1; exit}' "$work/manifest")
quarantined=$(awk -F'\t' '$2 == "quarantined" {print $1; exit}' "$work/manifest")
[ -n "$review" ] && [ -n "$quarantined" ] || fail "no document in review or quarantine"
read -r doc_a doc_b doc_c <<<"$(echo $filed)"

echo "== verify on a good vault: clean, exit 0"
run 0 "$scanvault" verify --data "$data"
has "no problems found"
has "verify: 500 objects"
has "500 index entries"
run 0 "$scanvault" verify --data "$data" --fast --json
python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).read().splitlines()[-1]); assert d["objects"] == 500 and d["problems"] == 0 and d["mode"] == "fast", d' "$work/out" ||
    fail "verify --fast --json summary: $(cat "$work/out")"

echo "== reindex gives back the same index, entry for entry"
snapshot "$data" before
[ "$(wc -l <"$work/before.list")" = 500 ] || fail "list does not show 500 documents"
grep -q '"count": [1-9]' "$work/before.find" || fail "find found nothing"
run 0 "$scanvault" reindex --data "$data"
has "reindex: 500 objects read (headers), 500 indexed"
has "identical to the index it replaced"
has "the new index is in place"
[ ! -e "$data/index.new" ] || fail "index.new was left behind"
snapshot "$data" after
same_snapshot before after
run 0 "$scanvault" verify --data "$data" -q
has "no problems found"
grep -q "	reindex	-	objects=500 indexed=500 damaged=0 duplicates=0 strays=0 differences=0 replaced=yes	" \
    "$data/audit/audit.log" || fail "no reindex line in the audit log: $(tail -3 "$data/audit/audit.log")"
grep -q "	verify	-	objects=500 problems=0 mode=full	" "$data/audit/audit.log" ||
    fail "no verify line in the audit log"
no_mrn "$data/audit/audit.log"

echo "== kill -9 at any moment of a reindex: the index is the old or the new one, whole"
dk=$work/dk
copy "$data" "$dk"
start=$(date +%s%N)
"$scanvault" reindex --data "$dk" -q >/dev/null
took=$(( ($(date +%s%N) - start) / 1000 ))
# From a quarter of a run (process start-up comes first) to past its end.
for i in $(seq 4 19); do
    "$scanvault" reindex --data "$dk" -q >/dev/null 2>&1 &
    pid=$!
    sleep "$(awk -v t="$took" -v i="$i" 'BEGIN { printf "%.6f", t * i / 16 / 1e6 }')"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    "$scanvault" list --data "$dk" --state all --json >"$work/killed.list" ||
        fail "kill $i: the index cannot be read"
    cmp -s "$work/before.list" "$work/killed.list" || fail "kill $i: the index changed"
done
run 0 "$scanvault" reindex --data "$dk"
has "identical to the index it replaced"
[ ! -e "$dk/index.new" ] || fail "index.new was left behind"
run 0 "$scanvault" verify --data "$dk" -q

echo "== reindex is refused while the data directory is locked (a running service)"
inode_before=$(stat -c %i "$data/index")
# A process that holds the lock as the service does (flock(1) on the lock
# file's descriptor, then exec: the sleep itself holds it and dies by kill).
(exec 9<>"$data/spool/lock" && flock -n 9 && exec sleep 30) </dev/null >/dev/null 2>&1 &
flock_pid=$!
for _ in $(seq 50); do
    ! flock -n "$data/spool/lock" true 2>/dev/null && break
    sleep 0.1
done
run 3 "$scanvault" reindex --data "$data"
grep -q "stop the service first" "$work/err" || fail "no clear message: $(cat "$work/err")"
[ "$(stat -c %i "$data/index")" = "$inode_before" ] || fail "the index was replaced"
[ ! -e "$data/index.new" ] || fail "index.new was made"
run 0 "$scanvault" verify --data "$data" -q # verify runs beside the service
kill "$flock_pid"
wait "$flock_pid" 2>/dev/null || true
flock_pid=

echo "== a flipped byte in a body: verify names it; verify --fast does not see it"
d1=$work/d1
copy "$data" "$d1"
flip "$d1" "$doc_a" -100
run 1 "$scanvault" verify --data "$d1"
has "^damaged  *$doc_a "
has "1 problem(s): damaged 1"
run 0 "$scanvault" verify --data "$d1" --fast

echo "== a flipped byte in a header: verify --fast names it; reindex refuses, or skips it"
flip "$d1" "$doc_b" 60
run 1 "$scanvault" verify --data "$d1" --fast
has "^damaged  *$doc_b "
hasnt "$doc_a"
run 1 "$scanvault" reindex --data "$d1"
has "^damaged  *$doc_b "
has "nothing was replaced"
[ ! -e "$d1/index.new" ] || fail "index.new was left behind"
run 1 "$scanvault" reindex --data "$d1" --skip-damaged
has "the new index is in place"
has "1 difference(s) from the index it replaced"
has "^different  *$doc_b  *only in the old index"
"$scanvault" list --data "$d1" --state all >"$work/out"
hasnt "$doc_b"

echo "== a deleted object: an index entry without an object"
d2=$work/d2
copy "$data" "$d2"
rm -f "$(object_of "$d2" "$doc_c")"
run 1 "$scanvault" verify --data "$d2" --fast
has "^no_object  *$doc_c "
has "1 problem(s): no_object 1"

echo "== objects without index entries, then reindex takes them in"
d3=$work/d3
copy "$data" "$d3"
cp -a "$d3/index" "$work/index.saved"
"$make_data" --data "$d3" --count 3 --seed 77 --manifest "$work/manifest.new"
rm -rf "$d3/index"
cp -a "$work/index.saved" "$d3/index"
run 1 "$scanvault" verify --data "$d3"
has "3 problem(s): no_entry 3"
for id in $(cut -f1 "$work/manifest.new"); do has "^no_entry  *$id "; done
# An object whose claimed file is still in the spool is being filed: pending.
first_new=$(head -1 "$work/manifest.new" | cut -f1)
touch "$d3/spool/claimed/$first_new"
run 1 "$scanvault" verify --data "$d3"
has "pending: 1 document"
has "2 problem(s): no_entry 2"
rm "$d3/spool/claimed/$first_new"
run 0 "$scanvault" reindex --data "$d3"
has "3 difference(s) from the index it replaced"
for id in $(cut -f1 "$work/manifest.new"); do has "^different  *$id  *only in the new index"; done
run 0 "$scanvault" verify --data "$d3"

echo "== stray files under vault/objects"
d4=$work/d4
copy "$data" "$d4"
fan=$(basename "$(dirname "$(object_of "$d4" "$review")")")
printf 'not an object' >"$d4/vault/objects/$fan/Jane Doe scan.pdf"
mkdir "$d4/vault/objects/zz"
cp -p "$(object_of "$d4" "$quarantined")" "$d4/vault/objects/zz/"
run 1 "$scanvault" verify --data "$d4"
has "2 problem(s): stray 2"
has "^stray  *$quarantined  *named like an object"
hasnt "Jane"
run 0 "$scanvault" reindex --data "$d4"
has "2 stray file(s) left alone"
has "identical to the index it replaced"
hasnt "Jane"

echo "== duplicates of content: the earliest is kept, the others reported"
d5=$work/d5
copy "$data" "$d5"
# The same seed seals the same bytes again under new docids; indexing them
# fails (the content is indexed), so sv_make_data exits 1 and leaves them.
"$make_data" --data "$d5" --count 2 --seed 1 --size 3000 --manifest "$work/manifest.dup" >/dev/null 2>&1 || true
run 1 "$scanvault" verify --data "$d5"
has "2 problem(s): duplicate 2"
run 0 "$scanvault" reindex --data "$d5"
has "500 indexed"
has "2 duplicate(s)"
run 1 "$scanvault" verify --data "$d5" -q
has "2 problem(s): duplicate 2"
hasnt "no_entry"

echo "== an empty vault under a full index (storage not mounted): nothing replaced"
d6=$work/d6
copy "$data" "$d6"
rm -rf "$d6"/vault/objects/*
run 3 "$scanvault" reindex --data "$d6"
grep -q "is the vault's storage mounted" "$work/err" || fail "no clear message: $(cat "$work/err")"
[ "$("$scanvault" list --data "$d6" --state all --json | wc -l)" = 500 ] || fail "the index was replaced"
[ ! -s "$work/out" ] || fail "reindex listed differences it did not need: $(head -3 "$work/out")"

no_mrn "$data/audit/audit.log" "$d1/audit/audit.log" "$d3/audit/audit.log"
echo "maintain_test: all passed"
