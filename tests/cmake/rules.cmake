# ocr/ patient-safety core (rules, MRN candidates, decision, document type)
# and intake/ configuration file loader.

sv_unit_test(test_mrn_rules SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_mrn_rules.c
                                    ${CMAKE_SOURCE_DIR}/tests/unit/mrn_fixture.c
             LIBS sv_ocr)
sv_unit_test(test_mrn_tables SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_mrn_tables.c
                                     ${CMAKE_SOURCE_DIR}/tests/unit/mrn_fixture.c
             LIBS sv_ocr)
sv_unit_test(test_ocr_lines SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_ocr_lines.c
             LIBS sv_ocr)
sv_unit_test(test_doctype SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_doctype.c
             LIBS sv_ocr)
sv_unit_test(test_config SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_config.c
             LIBS sv_intake sv_ocr)
# The shipped example configuration must load and equal the built-in defaults.
target_compile_definitions(test_config PRIVATE SV_SOURCE_DIR="${CMAKE_SOURCE_DIR}")

sv_fuzz_target(fuzz_config SOURCES ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_config.c
               LIBS sv_intake sv_ocr CORPUS ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/config
               SECONDS 12)

# The known-MRN list parser (the bytes of the file [mrn] known_mrns names),
# in memory through ocr_rules_parse_known_mrns.
sv_fuzz_target(fuzz_known_mrns SOURCES ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_known_mrns.c
               LIBS sv_ocr CORPUS ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/known_mrns
               SECONDS 10)
