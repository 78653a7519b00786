#!/usr/bin/env bash
# `scanvault export` (release of information) with the real binary on a real
# data directory filled by sv_make_data (synthetic documents, no OCR):
#   - the directory holds exactly the patient's filed documents, each equal to
#     `scanvault get` and to the manifest's SHA-256; no MRN in the manifest;
#   - one "export" audit line, without the MRN;
#   - DIR existing, an ill-formed MRN, no -o: refused (2), nothing changed;
#   - no filed document: 1, no directory, audited;
#   - a flipped byte in one of the patient's objects: 1, no directory, no
#     temp directory, the docid named.
#   export_cli.sh SCANVAULT SV_MAKE_DATA
set -euo pipefail
scanvault=$1 make_data=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unset CREDENTIALS_DIRECTORY SCANVAULT_DATA
# An empty configuration: the built-in rules (8-digit MRNs pass), whatever
# /etc/scanvault holds.
: >"$work/scanvault.conf"
export SCANVAULT_CONFIG=$work/scanvault.conf
data=$work/data
audit=$data/audit/audit.log

fail() { echo "FAIL: $*"; exit 1; }
# run STATUS COMMAND...: run it, check the exit status; output in out/err.
run() {
    local want=$1
    shift
    set +e
    "$@" >"$work/out" 2>"$work/err"
    local rc=$?
    set -e
    [ "$rc" = "$want" ] || fail "$* exited $rc, expected $want: $(cat "$work/err")"
}
audit_lines() { wc -l <"$audit"; }
no_temp_dirs() {
    [ -z "$(find "$work" -maxdepth 2 -name '.scanvault-export-*')" ] ||
        fail "a temp directory was left: $(find "$work" -maxdepth 2 -name '.scanvault-export-*')"
}
# The state of a directory tree: names, modes, sizes, contents.
tree_state() { (cd "$1" && find . -printf '%p %m %s\n' | sort && find . -type f -exec sha256sum {} + | sort); }

"$scanvault" init --data "$data" >/dev/null
"$make_data" --data "$data" --count 80 --patients 6 --review 10 --quarantine 5 \
    --size 3000 --seed 11 --manifest "$work/made.tsv"

# The patient with the most filed documents, and that patient's docids.
mrn=$(awk -F'\t' '$2 == "filed" { n[$3]++ } END { for (m in n) print n[m], m }' "$work/made.tsv" |
      sort -k1,1nr -k2 | head -1 | cut -d' ' -f2)
awk -F'\t' -v m="$mrn" '$2 == "filed" && $3 == m { print $1 }' "$work/made.tsv" | sort >"$work/want"
n_want=$(wc -l <"$work/want")
[ "$n_want" -ge 3 ] || fail "the test data gives the patient only $n_want documents"
# A document of another patient and one held for review must not be exported.
awk -F'\t' -v m="$mrn" '$3 != m { print $1 }' "$work/made.tsv" >"$work/others"
grep -q . "$work/others" || fail "no other documents in the test data"

echo "== export a patient with $n_want documents"
before=$(audit_lines)
out=$work/roi
run 0 "$scanvault" export --data "$data" -o "$out" "$mrn"
grep -q "exported $n_want documents" "$work/out" || fail "summary: $(cat "$work/out")"
grep -qi "decrypted" "$work/err" || fail "no PHI reminder: $(cat "$work/err")"
! grep -q "$mrn" "$work/out" "$work/err" || fail "the output holds the MRN"
[ "$(stat -c %a "$out")" = 700 ] || fail "the directory is mode $(stat -c %a "$out")"
no_temp_dirs

echo "== exactly the patient's documents, plus the manifests"
(cd "$out" && ls -A) | sort >"$work/got"
{ sed 's/$/.bin/' "$work/want"; echo manifest.json; echo manifest.tsv; } | sort >"$work/want_files"
diff "$work/want_files" "$work/got" || fail "the directory does not hold exactly the patient's documents"
for f in "$out"/*; do
    [ "$(stat -c %a "$f")" = 600 ] || fail "$f is mode $(stat -c %a "$f")"
done

echo "== one audit line, without the MRN"
after=$(audit_lines)
[ $((after - before)) = 1 ] || fail "the audit log gained $((after - before)) lines, expected 1"
line=$(tail -n 1 "$audit")
[ "$(cut -f5 <<<"$line")" = export ] || fail "last audit line is not an export: $line"
[ "$(cut -f6 <<<"$line")" = - ] || fail "the export line names a docid: $line"
bytes=$(awk -F'\t' -v m="$mrn" '$2 == "filed" && $3 == m { s += $5 } END { print s }' "$work/made.tsv")
cut -f7 <<<"$line" | grep -Eq "^docs=$n_want bytes=$bytes blind=[0-9a-f]{32}\$" ||
    fail "audit result: $(cut -f7 <<<"$line")"
! grep -q "$mrn" <<<"$line" || fail "the audit line holds the MRN"
! grep -q "$out" <<<"$line" || fail "the audit line holds the directory"

echo "== each file equals 'scanvault get' and the manifest's SHA-256; no MRN in the manifests"
! grep -rq "$mrn" "$out/manifest.json" "$out/manifest.tsv" || fail "a manifest holds the MRN"
python3 - "$out" "$work/want" <<'EOF' || fail "manifest.json"
import hashlib, json, os, sys
out, want = sys.argv[1], sys.argv[2]
m = json.load(open(os.path.join(out, "manifest.json")))
assert m["format"] == "scanvault-export" and m["version"] == 1, m
assert m["exported_at"].endswith("Z"), m["exported_at"]
ids = sorted(d["docid"] for d in m["documents"])
assert ids == sorted(open(want).read().split()), "manifest docids differ"
tsv = [l.rstrip("\n").split("\t") for l in open(os.path.join(out, "manifest.tsv"))]
assert tsv[0] == ["docid", "file", "type", "date", "pages", "size", "sha256"], tsv[0]
assert len(tsv) == len(ids) + 1
rows = {r[0]: r for r in tsv[1:]}
for d in m["documents"]:
    data = open(os.path.join(out, d["file"]), "rb").read()
    assert d["file"] == d["docid"] + ".bin", d["file"]
    assert hashlib.sha256(data).hexdigest() == d["sha256"], d["docid"]
    assert len(data) == d["size"], d["docid"]
    assert 1 <= d["pages"] <= 4 and d["date"].endswith("Z") and d["type"], d
    assert rows[d["docid"]] == [d["docid"], d["file"], d["type"], d["date"], str(d["pages"]),
                                str(d["size"]), d["sha256"]], rows[d["docid"]]
EOF
while read -r docid; do
    run 0 "$scanvault" get --data "$data" "$docid" -o "$work/get-$docid"
    cmp -s "$work/get-$docid" "$out/$docid.bin" || fail "$docid differs from 'scanvault get'"
done <"$work/want"

echo "== DIR exists: refused, nothing changed"
state=$(tree_state "$out")
before=$(audit_lines)
run 2 "$scanvault" export --data "$data" -o "$out" "$mrn"
grep -q "exists" "$work/err" || fail "message: $(cat "$work/err")"
[ "$(tree_state "$out")" = "$state" ] || fail "the existing directory changed"
mkdir "$work/empty"
run 2 "$scanvault" export --data "$data" -o "$work/empty" "$mrn"
[ -z "$(ls -A "$work/empty")" ] || fail "an existing empty directory was written into"
[ "$(audit_lines)" = "$before" ] || fail "a refused export was audited"
no_temp_dirs

echo "== usage errors: ill-formed MRN, no -o, missing parent"
run 2 "$scanvault" export --data "$data" -o "$work/bad" 12ab34
grep -q "not well-formed" "$work/err" || fail "message: $(cat "$work/err")"
run 2 "$scanvault" export --data "$data" -o "$work/bad" 123
run 2 "$scanvault" export --data "$data" "$mrn"
run 2 "$scanvault" export --data "$data" -o "$work/none/bad" "$mrn"
[ ! -e "$work/bad" ] && [ ! -e "$work/none" ] || fail "a refused export made a directory"
[ "$(audit_lines)" = "$before" ] || fail "a refused export was audited"

echo "== --type narrows it; --json"
type=$(awk -F'\t' -v m="$mrn" '$2 == "filed" && $3 == m { print $4; exit }' "$work/made.tsv")
n_type=$(awk -F'\t' -v m="$mrn" -v t="$type" '$2 == "filed" && $3 == m && $4 == t' "$work/made.tsv" | wc -l)
run 0 "$scanvault" export --data "$data" --type "$type" --json -o "$work/typed" "$mrn"
python3 -c 'import json,sys; s = json.load(open(sys.argv[1])); assert s["docs"] == int(sys.argv[2]), s' \
    "$work/out" "$n_type" || fail "--json summary: $(cat "$work/out")"
[ "$(find "$work/typed" -name '*.bin' | wc -l)" = "$n_type" ] || fail "--type exported other types"

echo "== a patient with no filed documents: 1, no directory, audited"
before=$(audit_lines)
run 1 "$scanvault" export --data "$data" -o "$work/nobody" 99999998
grep -q "no filed documents" "$work/err" || fail "message: $(cat "$work/err")"
[ ! -e "$work/nobody" ] || fail "a directory was made for nobody"
[ $(($(audit_lines) - before)) = 1 ] || fail "the empty export was not audited once"
tail -n 1 "$audit" | cut -f7 | grep -q '^docs=0 bytes=0 blind=' || fail "empty export audit line"

echo "== a flipped byte in one of the patient's objects: 1, nothing written"
victim=$(sed -n 2p "$work/want")
object=$(find "$data/vault/objects" -name "$victim.svd")
[ -f "$object" ] || fail "no object for $victim"
size=$(stat -c %s "$object")
python3 - "$object" $((size / 2)) <<'EOF'
import sys
path, at = sys.argv[1], int(sys.argv[2])
with open(path, "r+b") as f:
    f.seek(at)
    b = f.read(1)
    f.seek(at)
    f.write(bytes([b[0] ^ 0x01]))
EOF
before=$(audit_lines)
run 1 "$scanvault" export --data "$data" -o "$work/damaged" "$mrn"
grep -q "$victim" "$work/err" || fail "the message does not name $victim: $(cat "$work/err")"
[ ! -e "$work/damaged" ] || fail "a directory was made despite a damaged object"
no_temp_dirs
added=$(tail -n +$((before + 1)) "$audit" | cut -f5-7)
grep -q "^export"$'\t'"$victim"$'\t'"refused=damaged blind=" <<<"$added" ||
    fail "the refusal was not audited under $victim: $added"
! grep -q $'^export\t-\tdocs=' <<<"$added" || fail "a refused export was audited as a release"
echo "PASS"
