# The review queue (`scanvault review`) on synthetic documents (no OCR).
add_test(NAME review_queue
         COMMAND ${SV_PYTHON} ${CMAKE_SOURCE_DIR}/tests/integration/review_test.py
                 $<TARGET_FILE:scanvault> $<TARGET_FILE:sv_make_data>
                 ${CMAKE_BINARY_DIR}/review-test $<$<BOOL:${SV_TEST_HOOKS}>:hooks>)
set_tests_properties(review_queue PROPERTIES TIMEOUT 120 LABELS integration)
