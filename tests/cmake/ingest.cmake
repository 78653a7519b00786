# The filing pipeline (intake/) and `scanvault ingest`, `find`, `get`, `stats`
# end to end, with the real OCR workers, vault, index and audit log on disk.

sv_unit_test(test_pipeline SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_pipeline.c
             LIBS sv_intake sv_ocr sv_crypto sv_index)
target_include_directories(test_pipeline PRIVATE ${CMAKE_SOURCE_DIR}/intake)
target_compile_definitions(test_pipeline PRIVATE SV_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
                           SV_OCR_WORKER="$<TARGET_FILE:scanvault-ocr>")
add_dependencies(test_pipeline scanvault-ocr)
set_tests_properties(test_pipeline PROPERTIES TIMEOUT 300 ENVIRONMENT OMP_THREAD_LIMIT=1)

# A generated set of its own (another seed than the accuracy set), made once
# per build tree.
# The sanitizer build (about three times slower) files 20 of them, so the
# whole test command stays under 15 minutes on 2 cores.
set(SV_INGEST_SET_DIR ${CMAKE_BINARY_DIR}/ingest-set)
if(SV_SANITIZE)
  set(SV_INGEST_COUNT 20)
else()
  set(SV_INGEST_COUNT 40)
endif()
add_test(NAME ingest_set_generate
         COMMAND ${SV_PYTHON} ${CMAKE_SOURCE_DIR}/samples/generate.py
                 --out ${SV_INGEST_SET_DIR} --count ${SV_INGEST_COUNT} --seed 20261124)
set_tests_properties(ingest_set_generate PROPERTIES FIXTURES_SETUP ingest_set)

add_test(NAME ingest_e2e
         COMMAND ${SV_PYTHON} ${CMAKE_SOURCE_DIR}/tests/integration/ingest_e2e.py
                 $<TARGET_FILE:scanvault> ${SV_INGEST_SET_DIR}
                 ${CMAKE_SOURCE_DIR}/samples/scanvault.conf ${CMAKE_BINARY_DIR}/ingest-e2e)
set_tests_properties(ingest_e2e PROPERTIES FIXTURES_REQUIRED ingest_set RUN_SERIAL TRUE
                     TIMEOUT 1200 LABELS integration)

add_test(NAME ingest_enospc
         COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/ingest_enospc.sh
                 $<TARGET_FILE:scanvault> ${CMAKE_SOURCE_DIR}/samples)
set_tests_properties(ingest_enospc PROPERTIES TIMEOUT 300 SKIP_RETURN_CODE 77
                     LABELS integration)

add_test(NAME ingest_bad_env
         COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/ingest_bad_env.sh
                 $<TARGET_FILE:scanvault> ${CMAKE_SOURCE_DIR}/samples)
set_tests_properties(ingest_bad_env PROPERTIES TIMEOUT 300 LABELS integration)
