#!/usr/bin/env bash
# The README's first command: on a fresh Debian 12 machine, install what
# scanvault needs, build it, and run the main job on the bundled samples.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
deploy/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)"
echo
echo "== scanvault extract over the bundled samples (samples/docs) =="
build/cli/scanvault extract --jobs "$(nproc)" --config samples/scanvault.conf samples/docs/*
