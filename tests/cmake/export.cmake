# `scanvault export` (release of information): the real binary on a data
# directory filled by sv_make_data (tests/cmake/tools.cmake), no OCR.
add_test(NAME export_cli
         COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/export_cli.sh
                 $<TARGET_FILE:scanvault> $<TARGET_FILE:sv_make_data>)
set_tests_properties(export_cli PROPERTIES TIMEOUT 120 LABELS integration)

# A full disk while writing: nothing left behind, the failure audited.
add_test(NAME export_enospc
         COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/export_enospc.sh
                 $<TARGET_FILE:scanvault> $<TARGET_FILE:sv_make_data>)
set_tests_properties(export_enospc PROPERTIES TIMEOUT 120 SKIP_RETURN_CODE 77
                     LABELS integration)
