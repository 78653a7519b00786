#!/usr/bin/env bash
# Filesystem faults beyond a full vault or index (ingest_enospc.sh): a full
# spool, and the vault or the index on a read-only filesystem. Each time:
# a clear error, the source untouched, nothing half-filed, and the next run
# files the document once the fault is cleared. Each part of the data
# directory is put on a small tmpfs of its own, in a private mount namespace.
#   faults_fs.sh SCANVAULT SAMPLES_DIR
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
cleanup() {
    for m in spool vault index; do umount "$work/data/$m" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
export SCANVAULT_CONFIG=$samples/scanvault.conf
unset CREDENTIALS_DIRECTORY
data=$work/data
"$scanvault" init --data "$data" >/dev/null
fail() { echo "FAIL: $*"; exit 1; }
field() { # JSON-LINE KEY
    python3 -c 'import json,sys; v=json.loads(sys.argv[1]).get(sys.argv[2]); print("" if v is None else v)' "$1" "$2"
}
# Move DIR onto a tmpfs of SIZE, keeping what it holds.
onto_tmpfs() { # DIR SIZE
    mv "$1" "$1.disk"
    mkdir -m 0700 "$1"
    mount -t tmpfs -o size="$2",mode=0700 tmpfs "$1"
    cp -a "$1.disk/." "$1/"
    rm -rf "$1.disk"
}
documents() { "$scanvault" stats --data "$data" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["documents"])'; }
objects() { find "$data/vault/objects" -type f | wc -l; }
ingest() { # FILE...: exit status in rc, JSON lines in out, stderr in $work/err
    set +e
    out=$("$scanvault" ingest --data "$data" --json "$@" 2>"$work/err")
    rc=$?
    set -e
}
cp "$samples/docs/doc-0001.png" "$work/a.png"
cp "$samples/docs/doc-0007.png" "$work/b.png"
cp "$samples/docs/doc-0003.jpg" "$work/c.jpg"

echo "== the spool's filesystem is full"
onto_tmpfs "$data/spool" 2m
dd if=/dev/zero of="$data/spool/filler" bs=4k 2>/dev/null || true
ingest "$work/a.png"
[ "$rc" = 1 ] || fail "ingest on a full spool exited $rc, not 1: $(cat "$work/err")"
[ "$(field "$out" status)" = failed ] || fail "not reported as failed: $out"
grep -q "nothing was filed" "$work/err" || fail "no clear message: $(cat "$work/err")"
cmp -s "$work/a.png" "$samples/docs/doc-0001.png" || fail "the source changed"
[ -z "$(ls -A "$data/spool/claimed")" ] || fail "a partial copy was left in the spool"
[ "$(objects)" = 0 ] && [ "$(documents)" = 0 ] || fail "something was filed"
rm "$data/spool/filler"
ingest "$work/a.png"
[ "$rc" = 0 ] && [ "$(field "$out" status)" = filed ] || fail "not filed once space is back: $out $(cat "$work/err")"

echo "== the vault on a read-only filesystem"
onto_tmpfs "$data/vault" 16m
mount -o remount,ro "$data/vault"
ingest "$work/b.png"
[ "$rc" = 1 ] || fail "ingest on a read-only vault exited $rc: $(cat "$work/err")"
grep -qi "read-only" "$work/err" || fail "the message does not say read-only: $(cat "$work/err")"
cmp -s "$work/b.png" "$samples/docs/doc-0007.png" || fail "the source changed"
[ -z "$(ls -A "$data/spool/claimed")" ] || fail "the spool is not empty"
[ "$(documents)" = 1 ] || fail "the index changed"
mount -o remount,rw "$data/vault"
ingest "$work/b.png"
[ "$rc" = 0 ] && [ "$(field "$out" status)" = filed ] || fail "not filed once writable: $out $(cat "$work/err")"

echo "== the index on a read-only filesystem"
onto_tmpfs "$data/index" 16m
mount -o remount,ro "$data/index"
ingest "$work/c.jpg"
[ "$rc" = 1 ] || [ "$rc" = 3 ] || fail "ingest on a read-only index exited $rc: $(cat "$work/err")"
grep -qi "read-only" "$work/err" || fail "the message does not say read-only: $(cat "$work/err")"
cmp -s "$work/c.jpg" "$samples/docs/doc-0003.jpg" || fail "the source changed"
[ -z "$(ls -A "$data/spool/claimed")" ] || fail "the spool is not empty"
[ "$(objects)" = 2 ] || fail "$(objects) objects: a half-filed document was left in the vault"
mount -o remount,rw "$data/index"
ingest "$work/c.jpg"
[ "$rc" = 0 ] || fail "ingest once the index is writable: $(cat "$work/err")"
[ "$(documents)" = 3 ] && [ "$(objects)" = 3 ] || fail "not 3 documents and 3 objects"
"$scanvault" verify --data "$data" -q >/dev/null || fail "verify after the faults"
echo PASS
