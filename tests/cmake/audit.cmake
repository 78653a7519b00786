# `scanvault audit` and `scanvault audit verify` (intake/store_audit.c,
# cli/cmd_audit.c) with the real binary on real data directories: filters,
# a log edited, cut, reordered or padded, a kept anchor, rotation archives.
# No OCR: a few seconds.
add_test(NAME audit_cli
         COMMAND ${SV_PYTHON} ${CMAKE_SOURCE_DIR}/tests/integration/audit_cli.py
                 $<TARGET_FILE:scanvault> ${CMAKE_CURRENT_BINARY_DIR}/audit-cli)
set_tests_properties(audit_cli PROPERTIES TIMEOUT 120 LABELS integration)

# The library calls behind them, on a real data directory, with archives
# written through the crypto API under keys the store does not hold.
sv_unit_test(test_store_audit
             SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_store_audit.c
                     ${CMAKE_SOURCE_DIR}/tests/unit/test_crypto_util.c
             LIBS sv_intake sv_ocr sv_crypto sv_index)
