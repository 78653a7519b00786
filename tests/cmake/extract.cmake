# End-to-end tests of `scanvault extract` with the real binary, the real
# Tesseract and real files.

# The accuracy set: freshly generated (fixed seed, not the bundled samples),
# made once per build tree by a fixture.
set(SV_ACCURACY_DIR ${CMAKE_BINARY_DIR}/accuracy-set)
add_test(NAME accuracy_set_generate
         COMMAND ${SV_PYTHON} ${CMAKE_SOURCE_DIR}/samples/generate.py
                 --out ${SV_ACCURACY_DIR} --count 150 --seed 20261123)
set_tests_properties(accuracy_set_generate PROPERTIES FIXTURES_SETUP accuracy_set)

add_test(NAME extract_accuracy
         COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/extract_accuracy.sh
                 $<TARGET_FILE:scanvault> ${SV_ACCURACY_DIR} ${SV_PYTHON})
set_tests_properties(extract_accuracy PROPERTIES FIXTURES_REQUIRED accuracy_set
                     RUN_SERIAL TRUE TIMEOUT 1800 LABELS integration)

add_test(NAME extract_bad_input
         COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/extract_bad_input.sh
                 $<TARGET_FILE:scanvault> ${SV_PYTHON})
set_tests_properties(extract_bad_input PROPERTIES TIMEOUT 300 LABELS integration)

add_test(NAME extract_cli
         COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/extract_cli.sh
                 $<TARGET_FILE:scanvault> ${CMAKE_SOURCE_DIR}/samples)
set_tests_properties(extract_cli PROPERTIES TIMEOUT 600 LABELS integration)
