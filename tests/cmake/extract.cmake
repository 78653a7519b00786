# End-to-end tests of `scanvault extract` with the real binary, the real
# Tesseract and real files.

# The accuracy set: freshly generated (fixed seed, not the bundled samples),
# made once per build tree by a fixture. The accuracy bar (auto-filed and
# type rates) is a property of the algorithm, the same in every build: the
# release build asserts it on 150 documents. The sanitizer build, about
# three times slower, reads 60 of them for what it is there to find (memory
# and undefined-behaviour errors on the OCR path) and still asserts that
# none is filed under a wrong MRN and every one has a result; this keeps the
# whole test command under 15 minutes on 2 cores.
set(SV_ACCURACY_DIR ${CMAKE_BINARY_DIR}/accuracy-set)
if(SV_SANITIZE)
  set(SV_ACCURACY_COUNT 60)
  set(SV_ACCURACY_BARS --min-auto 0 --min-type 0)
else()
  set(SV_ACCURACY_COUNT 150)
  set(SV_ACCURACY_BARS)
endif()
add_test(NAME accuracy_set_generate
         COMMAND ${SV_PYTHON} ${CMAKE_SOURCE_DIR}/samples/generate.py
                 --out ${SV_ACCURACY_DIR} --count ${SV_ACCURACY_COUNT} --seed 20261123)
set_tests_properties(accuracy_set_generate PROPERTIES FIXTURES_SETUP accuracy_set)

add_test(NAME extract_accuracy
         COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/extract_accuracy.sh
                 $<TARGET_FILE:scanvault> ${SV_ACCURACY_DIR} ${SV_PYTHON} ${SV_ACCURACY_BARS})
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

# Documents that were once decided wrongly (two merged charts filed under one
# patient, two clear labels not read), each with the outcome it must have.
add_test(NAME extract_regressions
         COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/extract_regressions.sh
                 $<TARGET_FILE:scanvault> ${CMAKE_SOURCE_DIR}/samples/scanvault.conf)
set_tests_properties(extract_regressions PROPERTIES TIMEOUT 600 LABELS integration)
