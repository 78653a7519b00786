#!/usr/bin/env bash
# `scanvault export` onto a full disk: exit 1, no directory, no temp
# directory with decrypted documents left behind, and the audit log holds the
# export line followed by "failed=write docs_written=K". The export goes into
# a small tmpfs of its own, in a private mount namespace made by this test.
#   export_enospc.sh SCANVAULT SV_MAKE_DATA
# Exit 77 (skipped) where mount namespaces are not available.
set -euo pipefail
scanvault=$1 make_data=$2

if [ "${SV_IN_NAMESPACE:-}" != 1 ]; then
    if ! unshare -rm true 2>/dev/null; then
        echo "SKIP: no mount namespace (unshare -rm) on this machine"
        exit 77
    fi
    SV_IN_NAMESPACE=1 exec unshare -rm "$0" "$@"
fi

work=$(mktemp -d)
trap 'umount "$work/small" 2>/dev/null || true; rm -rf "$work"' EXIT
unset CREDENTIALS_DIRECTORY SCANVAULT_DATA
: >"$work/scanvault.conf"
export SCANVAULT_CONFIG=$work/scanvault.conf
data=$work/data
audit=$data/audit/audit.log
fail() { echo "FAIL: $*"; exit 1; }

"$scanvault" init --data "$data" >/dev/null
# One patient, documents of 256 KiB: a few fit in 1 MiB, not all of them.
"$make_data" --data "$data" --count 12 --patients 1 --review 0 --quarantine 0 \
    --size 262144 --seed 5 --manifest "$work/made.tsv"
mrn=$(cut -f3 "$work/made.tsv" | head -1)
mkdir "$work/small"
mount -t tmpfs -o size=1m,mode=0700 tmpfs "$work/small"

before=$(wc -l <"$audit")
set +e
"$scanvault" export --data "$data" -o "$work/small/roi" "$mrn" >"$work/out" 2>"$work/err"
rc=$?
set -e
[ "$rc" = 1 ] || fail "export onto a full disk exited $rc, expected 1: $(cat "$work/err")"
[ ! -e "$work/small/roi" ] || fail "a directory was left on the full disk"
[ -z "$(ls -A "$work/small")" ] || fail "something was left: $(ls -A "$work/small")"
! grep -q "$mrn" "$work/err" || fail "the message holds the MRN"
tail -n +$((before + 1)) "$audit" | cut -f5-7 >"$work/added"
[ "$(wc -l <"$work/added")" = 2 ] || fail "expected two audit lines: $(cat "$work/added")"
sed -n 1p "$work/added" | grep -q $'^export\t-\tdocs=12 bytes=3145728 blind=' ||
    fail "first line: $(sed -n 1p "$work/added")"
sed -n 2p "$work/added" | grep -Eq $'^export\t-\tfailed=write docs_written=[0-9]+$' ||
    fail "second line: $(sed -n 2p "$work/added")"

echo "== with room, the same export succeeds"
"$scanvault" export --data "$data" -o "$work/roi" "$mrn" >/dev/null 2>&1 || fail "export failed"
[ "$(find "$work/roi" -name '*.bin' | wc -l)" = 12 ] || fail "not every document was written"
echo "PASS"
