#!/usr/bin/env bash
# Documents that were once decided wrongly, each with the outcome it must
# have (tests/data/regressions/expected.tsv): the real engine, the real
# files. A merged chart must never be filed; a clear label must be.
#   extract_regressions.sh SCANVAULT CONFIG
set -euo pipefail
scanvault=$1 config=$2
dir=$(cd "$(dirname "$0")/../data/regressions" && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
mapfile -t files < <(grep -v '^#' "$dir/expected.tsv" | cut -f1)
(cd "$dir" && "$scanvault" extract --json --jobs 2 --config "$config" "${files[@]}") >"$out"
fail=0
while IFS=$'\t' read -r file status mrn why; do
  [[ $file == \#* || -z $file ]] && continue
  line=$(grep -F "\"file\": \"$file\"" "$out" || true)
  got_status=$(sed -n 's/.*"status": "\([a-z]*\)".*/\1/p' <<<"$line")
  got_mrn=$(sed -n 's/.*"mrn": "\([0-9]*\)".*/\1/p' <<<"$line")
  want_mrn=$([[ $mrn == - ]] && echo "" || echo "$mrn")
  if [[ $got_status != "$status" || $got_mrn != "$want_mrn" ]]; then
    echo "FAIL $file: got ${got_status:-nothing} ${got_mrn:-(no MRN)}, want $status ${want_mrn:-(no MRN)} ($why)"
    fail=1
  else
    echo "ok   $file: $status ${got_mrn:-(no MRN)}"
  fi
done <"$dir/expected.tsv"
exit $fail
