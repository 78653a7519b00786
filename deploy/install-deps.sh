#!/usr/bin/env bash
# Install the Debian packages listed in deploy/debian-packages.txt.
#   deploy/install-deps.sh             apt-get update, then install the list
#   deploy/install-deps.sh --missing   only when some package is missing
# Needs root (or sudo) when anything must be installed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
list="$here/debian-packages.txt"
mapfile -t pkgs < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$list" | grep -v '^$')

if [ "${1:-}" = "--missing" ]; then
    missing=()
    for p in "${pkgs[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && exit 0
    echo "install-deps: missing packages: ${missing[*]}"
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update
$sudo apt-get install -y --no-install-recommends "${pkgs[@]}"
