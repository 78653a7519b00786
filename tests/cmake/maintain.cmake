# `scanvault reindex` and `scanvault verify` on data directories filled by
# sv_make_data (synthetic documents, no OCR): a few seconds.
add_test(NAME maintain_reindex_verify
         COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/maintain_test.sh
                 $<TARGET_FILE:scanvault> $<TARGET_FILE:sv_make_data>)
set_tests_properties(maintain_reindex_verify PROPERTIES TIMEOUT 300 LABELS integration)

# The library: vault listing and strays, duplicates across batches, refusals.
sv_unit_test(test_maintain
             SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_maintain.c
                     ${CMAKE_SOURCE_DIR}/tests/unit/test_crypto_util.c
             LIBS sv_intake sv_ocr sv_crypto sv_index)
