# crypto/: known-answer, key, vault, tamper, durability and audit log tests
# (cmocka), the vault object and audit log parser fuzz harnesses, and the
# throughput benchmark.
# Paths are relative to this file so it works from any including directory.
set(sv_crypto_tests ${CMAKE_CURRENT_LIST_DIR}/..)

foreach(t kat keys vault stream tamper durable)
  sv_unit_test(test_crypto_${t}
               SOURCES ${sv_crypto_tests}/unit/test_crypto_${t}.c
                       ${sv_crypto_tests}/unit/test_crypto_util.c
               LIBS sv_crypto)
endforeach()
# The audit log: behaviour, and tampering found at the right line.
foreach(t audit audit_tamper)
  sv_unit_test(test_crypto_${t}
               SOURCES ${sv_crypto_tests}/unit/test_crypto_${t}.c
                       ${sv_crypto_tests}/unit/audit_fixture.c
                       ${sv_crypto_tests}/unit/test_crypto_util.c
               LIBS sv_crypto)
endforeach()
# The 100 MB stream and the kill -9 loops take a few seconds, more under ASan.
set_tests_properties(test_crypto_vault test_crypto_durable PROPERTIES TIMEOUT 600)

# The vault object and metadata record parsers (seeds: valid objects under
# the harness's fixed key; see the top of fuzz_vault.c to rewrite them).
sv_fuzz_target(fuzz_vault
               SOURCES ${sv_crypto_tests}/fuzz/fuzz_vault.c
               LIBS sv_crypto
               CORPUS ${sv_crypto_tests}/fuzz/corpus/vault
               SECONDS 12)

# The audit log reader and the appender's reading of the end of the file
# (seeds: logs under the same fixed key; see the top of fuzz_audit.c).
sv_fuzz_target(fuzz_audit
               SOURCES ${sv_crypto_tests}/fuzz/fuzz_audit.c
               LIBS sv_crypto
               CORPUS ${sv_crypto_tests}/fuzz/corpus/audit
               SECONDS 12)

# Benchmark: a plain executable, not a ctest test (it asserts nothing and
# wants a quiet machine). Run: build/tests/bench_crypto [MB] [dir]
add_executable(bench_crypto ${sv_crypto_tests}/bench/bench_crypto.c)
target_link_libraries(bench_crypto PRIVATE sv_crypto)

# `scanvault init` with the real binary: layout, modes, key file, the
# refusal to overwrite a key, usage errors and --help.
set(sv_init_script [=[
set -u
bin="$1"; work="$2"
rm -rf "$work"; mkdir -p "$work"
fail() { echo "FAIL: $*"; exit 1; }
"$bin" init --help | grep -q 'usage: scanvault init --data DIR' || fail "--help"
"$bin" --help | grep -q '^  init ' || fail "init missing from scanvault --help"
"$bin" init >/dev/null 2>&1; test $? -eq 2 || fail "no --data: want exit 2"
"$bin" init --data "$work/d" extra >/dev/null 2>&1; test $? -eq 2 || fail "extra arg"
"$bin" init --data "$work/d" > "$work/out" || fail "init"
grep -q '^key id [0-9a-f]\{16\} written to' "$work/out" || fail "no key id printed"
for d in d d/keys d/vault d/vault/objects d/vault/tmp d/index d/spool d/spool/claimed d/audit; do
  test -d "$work/$d" || fail "missing $d"
  test "$(stat -c %a "$work/$d")" = 700 || fail "$d mode $(stat -c %a "$work/$d")"
done
key="$work/d/keys/scanvault.key"
test "$(stat -c %a:%s "$key")" = 600:48 || fail "key mode/size $(stat -c %a:%s "$key")"
sum=$(sha256sum < "$key")
"$bin" init --data "$work/d" > /dev/null 2> "$work/err"; test $? -eq 3 || fail "second init"
grep -q 'exists' "$work/err" || fail "second init message"
test "$(sha256sum < "$key")" = "$sum" || fail "key changed"
test -z "$(ls -A "$work/d/keys" | grep -v '^scanvault.key$')" || fail "temp file left"
"$bin" init --data "$work/e" --key "$work/e.key" > /dev/null || fail "--key"
test -f "$work/e.key" -a ! -e "$work/e/keys" || fail "--key layout"
"$bin" init --data "$work/missing/parent" > /dev/null 2>&1; test $? -eq 3 || fail "no parent"
echo "init: ok"
]=])
add_test(NAME crypto_init_cli
         COMMAND sh -c "${sv_init_script}" sh $<TARGET_FILE:scanvault>
                 ${CMAKE_CURRENT_BINARY_DIR}/crypto-init-cli)
set_tests_properties(crypto_init_cli PROPERTIES LABELS integration)

# The Python reader printed in docs/vault-format.md (independent of the C
# code) must read objects this build writes and the committed example
# objects. Needs Debian's python3-cryptography.
execute_process(COMMAND ${SV_PYTHON} -c "import cryptography"
                RESULT_VARIABLE sv_no_py_cryptography OUTPUT_QUIET ERROR_QUIET)
if(NOT SV_FUZZ AND sv_no_py_cryptography EQUAL 0)
  set(sv_reader_script [=[
set -e
work="$1"; doc="$2"; corpus="$3"; python="$4"; writer="$5"
rm -rf "$work"; mkdir -p "$work/fresh"
sed -n '/^```python$/,/^```$/p' "$doc" | sed '1d;$d' > "$work/reader.py"
SV_FUZZ_VAULT_SEEDS="$work/fresh" "$writer" /dev/null
key=a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf
n=0
for f in "$work"/fresh/object-* "$corpus"/object-*; do
  "$python" "$work/reader.py" "$key" "$f"; n=$((n + 1))
done
test "$n" -ge 6
]=])
  add_test(NAME vault_format_reader
           COMMAND sh -c "${sv_reader_script}" sh ${CMAKE_CURRENT_BINARY_DIR}/vault-format-reader
                   ${CMAKE_SOURCE_DIR}/docs/vault-format.md ${sv_crypto_tests}/fuzz/corpus/vault
                   ${SV_PYTHON} $<TARGET_FILE:fuzz_vault_replay>)
  set_tests_properties(vault_format_reader PROPERTIES LABELS unit)
elseif(NOT SV_FUZZ)
  message(STATUS "python3-cryptography not found: test vault_format_reader left out")
endif()

# The Python verifier printed in docs/audit-format.md (standard library
# only, independent of the C code) must accept the logs this build writes and
# the committed example logs, and find a torn end and a changed byte.
if(NOT SV_FUZZ)
  set(sv_audit_verifier_script [=[
set -e
work="$1"; doc="$2"; corpus="$3"; python="$4"; writer="$5"
rm -rf "$work"; mkdir -p "$work/fresh"
sed -n '/^```python$/,/^```$/p' "$doc" | sed '1d;$d' > "$work/verify.py"
SV_FUZZ_AUDIT_SEEDS="$work/fresh" "$writer" /dev/null 2>/dev/null
key=a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf
n=0
for f in "$work"/fresh/log-* "$corpus"/log-*; do
  "$python" "$work/verify.py" "$key" "$f" > "$work/out"; n=$((n + 1))
done
test "$n" -ge 6
for f in "$work/fresh/torn" "$corpus/torn"; do
  if "$python" "$work/verify.py" "$key" "$f" > "$work/out"; then exit 1; fi
  grep -q ': line 4: cut short' "$work/out"
done
sed 's/alice/alicf/' "$work/fresh/log-valid" > "$work/changed"
if "$python" "$work/verify.py" "$key" "$work/changed" > "$work/out"; then exit 1; fi
grep -q ': line 1: does not verify' "$work/out"
]=])
  add_test(NAME audit_format_verifier
           COMMAND sh -c "${sv_audit_verifier_script}" sh ${CMAKE_CURRENT_BINARY_DIR}/audit-format-verifier
                   ${CMAKE_SOURCE_DIR}/docs/audit-format.md ${sv_crypto_tests}/fuzz/corpus/audit
                   ${SV_PYTHON} $<TARGET_FILE:fuzz_audit_replay>)
  set_tests_properties(audit_format_verifier PROPERTIES LABELS unit)
endif()

# Keys only in locked memory: init refuses when mlock is not allowed. Not in
# sanitizer builds: AddressSanitizer intercepts mlock() and lets it succeed.
if(NOT SV_SANITIZE AND NOT SV_FUZZ)
  add_test(NAME crypto_init_mlock
           COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/init_mlock.sh $<TARGET_FILE:scanvault>)
  set_tests_properties(crypto_init_mlock PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 60 LABELS integration)
endif()
