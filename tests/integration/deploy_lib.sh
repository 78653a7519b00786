# shellcheck shell=bash
# deploy_lib.sh - what the deploy_*.sh tests share (sourced, not run).
#   check "what a user would notice" 'shell condition'   one ok/FAIL line
#   report NAME                                          the totals; exit status
passed=0 failed=0
check() {
    if eval "$2"; then
        echo "ok   $1"
        passed=$((passed + 1))
    else
        echo "FAIL $1"
        failed=$((failed + 1))
    fi
}
report() {
    echo "$1: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
