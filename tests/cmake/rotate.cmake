# Key rotation (`scanvault rotate-key`) with real kill -9, on synthetic
# documents (no OCR).
add_test(NAME rotate_key_crash
         COMMAND ${SV_PYTHON} ${CMAKE_SOURCE_DIR}/tests/integration/rotate_test.py
                 $<TARGET_FILE:scanvault> $<TARGET_FILE:sv_make_data>
                 ${CMAKE_BINARY_DIR}/rotate-test)
set_tests_properties(rotate_key_crash PROPERTIES TIMEOUT 600 LABELS integration)
