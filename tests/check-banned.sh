#!/usr/bin/env bash
# Fails when a banned function (STYLE.md) appears in the project's C sources.
set -euo pipefail
cd "$(dirname "$0")/.."
hits=$(git ls-files -co --exclude-standard -- '*.c' '*.h' |
       xargs -r grep -nE '\b(strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi|atol)[[:space:]]*\(' || true)
if [ -n "$hits" ]; then
    echo "banned functions (see STYLE.md):"
    echo "$hits"
    exit 1
fi
echo "check-banned: no banned functions"
