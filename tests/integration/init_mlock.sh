#!/usr/bin/env bash
# `scanvault init` refuses to make a key when its memory cannot be locked
# (keys must never reach swap), with a message saying what to raise, and
# leaves no key file behind. Needs root to run the command as another user
# with a low locked-memory limit; elsewhere it says so and passes nothing.
#   init_mlock.sh SCANVAULT
set -uo pipefail
scanvault=$1
if [ "$(id -u)" -ne 0 ] || ! id nobody >/dev/null 2>&1; then
    echo "init_mlock: needs root and the user nobody; not run"
    exit 77
fi
dir=$(mktemp -d)
chmod 0777 "$dir"
trap 'rm -rf "$dir"' EXIT
out=$(su nobody -s /bin/bash -c "ulimit -l 64; '$scanvault' init --data '$dir/data'" 2>&1)
rc=$?
passed=0 failed=0
check() { if eval "$2"; then echo "ok   $1"; passed=$((passed+1)); else echo "FAIL $1"; failed=$((failed+1)); fi; }
check "exit status 3 (environment)" '[ "$rc" -eq 3 ]'
check "message names mlock and the limit to raise" 'grep -q "mlock" <<<"$out" && grep -q "LimitMEMLOCK" <<<"$out"'
check "no libgcrypt warning of its own" '! grep -qi "insecure memory" <<<"$out"'
check "no key file written" '[ ! -e "$dir/data/keys/scanvault.key" ]'
echo "init_mlock: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
