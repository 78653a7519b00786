#!/usr/bin/env bash
# A full disk while filing: nothing lost, nothing half-filed, and the next
# run succeeds once space is back. The vault and then the index are each put
# on a small tmpfs of their own (in a private mount namespace made by this
# test), filled up with a filler file, and documents are ingested.
#   ingest_enospc.sh SCANVAULT SAMPLES_DIR
# Exit 77 (skipped) where mount namespaces are not available.
set -euo pipefail
scanvault=$1 samples=$2

if [ "${SV_IN_NAMESPACE:-}" != 1 ]; then
    if ! unshare -rm true 2>/dev/null; then
        echo "SKIP: no mount namespace (unshare -rm) on this machine"
        exit 77
    fi
    SV_IN_NAMESPACE=1 exec unshare -rm "$0" "$@"
fi

work=$(mktemp -d)
trap 'umount "$work/data/vault" 2>/dev/null || true; umount "$work/data/index" 2>/dev/null || true; rm -rf "$work"' EXIT
export SCANVAULT_CONFIG=$samples/scanvault.conf
unset CREDENTIALS_DIRECTORY
data=$work/data
"$scanvault" init --data "$data" >/dev/null

fail() { echo "FAIL: $*"; exit 1; }
# The vault object layout must be rebuilt after mounting over vault/.
remount() { # DIR SIZE
    mount -t tmpfs -o size="$2",mode=0700 tmpfs "$1"
}
fill() { # DIR: leave almost no space
    dd if=/dev/zero of="$1/filler" bs=64k 2>/dev/null || true
}
field() { # JSON-LINE KEY
    python3 -c 'import json,sys; v=json.loads(sys.argv[1]).get(sys.argv[2]); print("" if v is None else v)' "$1" "$2"
}

# Three small documents of the bundled set that file automatically.
docs=()
for f in doc-0001.png doc-0007.png doc-0003.jpg; do
    cp "$samples/docs/$f" "$work/$f"
    docs+=("$work/$f")
done

echo "== the vault's filesystem is full"
remount "$data/vault" 16m
mkdir -m 0700 "$data/vault/objects" "$data/vault/tmp"
fill "$data/vault"
set +e
out=$("$scanvault" ingest --data "$data" --json "${docs[0]}" 2>"$work/err")
rc=$?
set -e
[ "$rc" = 1 ] || fail "ingest on a full vault exited $rc, not 1"
[ "$(field "$out" status)" = failed ] || fail "not reported as failed: $out"
grep -q "nothing was filed" "$work/err" || fail "no clear message: $(cat "$work/err")"
cmp -s "${docs[0]}" "$samples/docs/doc-0001.png" || fail "the source changed"
[ -z "$(ls -A "$data/spool/claimed")" ] || fail "the spool is not empty: $(ls -A "$data/spool/claimed")"
[ -z "$(ls -A "$data/vault/tmp")" ] || fail "a temp object was left in the vault"
[ -z "$(find "$data/vault/objects" -type f)" ] || fail "an object was left in the vault"
"$scanvault" stats --data "$data" --json | grep -q '"documents": 0' || fail "the index holds something"

echo "== a moved document on a full vault stays in the spool"
cp "${docs[1]}" "$work/inbox-copy.png"
set +e
out=$("$scanvault" ingest --data "$data" --json --move "$work/inbox-copy.png" 2>"$work/err")
rc=$?
set -e
[ "$rc" = 1 ] || fail "ingest --move on a full vault exited $rc"
docid=$(field "$out" docid)
[ -f "$data/spool/claimed/$docid" ] || fail "the moved document is not in the spool"
grep -q "stays in the spool" "$work/err" || fail "no clear message: $(cat "$work/err")"

echo "== space is back: the next run files everything once"
rm "$data/vault/filler"
out=$("$scanvault" ingest --data "$data" --json "${docs[0]}" 2>"$work/err") || fail "ingest after freeing: $(cat "$work/err")"
grep -q "interrupted run" "$work/err" || fail "the spool document was not recovered"
statuses=$(python3 -c 'import json,sys; print(" ".join(sorted(json.loads(l)["status"] for l in sys.stdin)))' <<<"$out")
[ "$statuses" = "filed filed" ] || fail "expected two filed documents, got: $statuses"
[ -z "$(ls -A "$data/spool/claimed")" ] || fail "the spool is not empty after recovery"

echo "== the index's filesystem is full"
mv "$data/index" "$data/index.old"
mkdir -m 0700 "$data/index"
remount "$data/index" 4m
cp -a "$data/index.old/." "$data/index/"
fill "$data/index"
set +e
out=$("$scanvault" ingest --data "$data" --json "${docs[2]}" 2>"$work/err")
rc=$?
set -e
[ "$rc" = 1 ] || [ "$rc" = 3 ] || fail "ingest on a full index exited $rc"
cmp -s "${docs[2]}" "$samples/docs/doc-0003.jpg" || fail "the source changed"
[ -z "$(ls -A "$data/spool/claimed")" ] || fail "the spool is not empty"
objects=$(find "$data/vault/objects" -type f | wc -l)
[ "$objects" = 2 ] || fail "$objects objects in the vault after a failed commit, expected 2"
rm "$data/index/filler"
out=$("$scanvault" ingest --data "$data" --json "${docs[2]}" 2>"$work/err") || fail "ingest after freeing the index: $(cat "$work/err")"
[ "$(field "$out" status)" = filed ] || fail "not filed after freeing: $out"
"$scanvault" stats --data "$data" --json | grep -q '"documents": 3' || fail "the index does not hold 3 documents"
for f in "${docs[@]}"; do
    id=$("$scanvault" ingest --data "$data" --json "$f" 2>/dev/null | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["duplicate_of"])')
    "$scanvault" get --data "$data" "$id" -o "$work/back" && cmp -s "$work/back" "$f" || fail "get $id differs"
    rm -f "$work/back"
done
echo "== a move across filesystems (an inbox on another mount): copy, fsync, rename, unlink"
mkdir "$work/other-fs"
remount "$work/other-fs" 16m
cp "$samples/docs/doc-0005.jpg" "$work/other-fs/moved.jpg"
out=$("$scanvault" ingest --data "$data" --json --move "$work/other-fs/moved.jpg" 2>"$work/err") || fail "ingest --move across filesystems: $(cat "$work/err")"
[ "$(field "$out" status)" = filed ] || [ "$(field "$out" status)" = review ] || fail "not filed: $out"
[ ! -e "$work/other-fs/moved.jpg" ] || fail "the source was not removed after the cross-filesystem move"
"$scanvault" get --data "$data" "$(field "$out" docid)" -o "$work/moved.back"
cmp -s "$work/moved.back" "$samples/docs/doc-0005.jpg" || fail "the moved document differs"
umount "$work/other-fs"

echo "== a new data directory whose index filesystem is full: an error, not a crash"
fresh=$work/fresh
"$scanvault" init --data "$fresh" >/dev/null
remount "$fresh/index" 1m
fill "$fresh/index"
set +e
"$scanvault" ingest --data "$fresh" "${docs[0]}" >/dev/null 2>"$work/err"
rc=$?
set -e
umount "$fresh/index"
[ "$rc" = 3 ] || fail "ingest with a full new index exited $rc (a signal is 128+): $(cat "$work/err")"
grep -q "disk is full" "$work/err" || fail "no clear message: $(cat "$work/err")"
[ -z "$(ls -A "$fresh/spool/claimed")" ] || fail "the spool is not empty"
echo PASS
