#!/usr/bin/env bash
# deploy_unit.sh - `systemd-analyze verify` and `systemd-analyze security` on
# the unit deploy/install.sh installs.
#
#   deploy_unit.sh SOURCE_DIR BUILD_DIR
#
# The unit is installed into a temporary --destdir, so its ExecStart= names
# /usr/local/bin/scanvault, which this machine need not have. verify checks
# that every Exec*= program exists, so it runs on a copy whose ExecStart=
# names the same program inside the destdir; the test first checks that
# this one path is the only difference. Documentation=man:scanvault(1) is
# checked against the installed man page when there is one (MANPATH into
# the destdir), else skipped (--man=no).
#
# security --offline must report an overall exposure of at most 1.0 (on
# systemd's 0..10 scale; printed in the log): a hardening setting dropped
# from the unit makes this fail.
#
# Exits 77 (skipped) only when systemd-analyze is not installed
# (deploy/install-deps.sh installs the package systemd).
set -uo pipefail
source_dir=$1 build=$2
if ! command -v systemd-analyze >/dev/null; then
    echo "deploy_unit: systemd-analyze is missing (package systemd; deploy/install-deps.sh installs it); skipped"
    exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage=$work/stage
. "$(dirname "$0")/deploy_lib.sh"

"$source_dir/deploy/install.sh" --build "$build" --destdir "$stage" --no-key >"$work/install.log" 2>&1
rc=$?
check "install.sh --destdir succeeds" '[ "$rc" -eq 0 ] || { cat "$work/install.log"; false; }'
unit=$stage/usr/local/lib/systemd/system/scanvault.service
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
program=${exec_start%% *}
check "the installed unit starts /usr/local/bin/scanvault, and the destdir has it" \
    '[ "$program" = /usr/local/bin/scanvault ] && [ -x "$stage$program" ]'

mkdir "$work/verify"
copy=$work/verify/scanvault.service
sed "s|^ExecStart=$program |ExecStart=$stage$program |" "$unit" >"$copy"
diff "$unit" "$copy" >"$work/copy.diff"
check "the copy differs from the installed unit in ExecStart= only" \
    '[ "$(grep -c "^[<>]" "$work/copy.diff")" -eq 2 ] && grep -q "^> ExecStart=$stage$program run " "$work/copy.diff"'

man_page=$(find "$stage/usr/local" -path '*/man1/scanvault.1*' -print -quit)
if [ -n "$man_page" ] && command -v man >/dev/null; then
    MANPATH=$(dirname "$(dirname "$man_page")") systemd-analyze verify --man=yes "$copy" >"$work/verify.log" 2>&1
else
    echo "note: no installed man page (or no man command): Documentation= not checked"
    systemd-analyze verify --man=no "$copy" >"$work/verify.log" 2>&1
fi
rc=$?
# verify reports unknown keys and bad values as warnings with exit 0:
# any line about this unit is a failure.
check "systemd-analyze verify passes with nothing to say about the unit" \
    '[ "$rc" -eq 0 ] && ! grep -q "scanvault" "$work/verify.log" || { cat "$work/verify.log"; false; }'

systemd-analyze security --offline=yes "$copy" >"$work/security.log" 2>&1
exposure=$(sed -n 's/.*Overall exposure level for scanvault.service: \([0-9.]*\).*/\1/p' "$work/security.log")
echo "systemd-analyze security --offline=yes: overall exposure ${exposure:-unknown}"
grep '✗' "$work/security.log" | sed 's/^/    /'
check "exposure at most 1.0 (SAFE)" \
    '[ -n "$exposure" ] && awk -v e="$exposure" "BEGIN { exit !(e <= 1.0) }" || { cat "$work/security.log"; false; }'

report deploy_unit
