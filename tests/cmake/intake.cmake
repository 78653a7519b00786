# intake/: the OCR worker pool and its frames, and the worker program's
# sandbox. The tests start the real scanvault-ocr of this build.
sv_unit_test(test_workers SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_workers.c
             LIBS sv_intake sv_ocr)
target_include_directories(test_workers PRIVATE ${CMAKE_SOURCE_DIR}/intake)
target_compile_definitions(test_workers PRIVATE SV_OCR_WORKER="$<TARGET_FILE:scanvault-ocr>")
add_dependencies(test_workers scanvault-ocr)
set_tests_properties(test_workers PROPERTIES TIMEOUT 120)

# The hostile-document triggers exist only in SV_TEST_HOOKS builds of the worker.
if(SV_TEST_HOOKS)
  sv_unit_test(test_worker_sandbox SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_worker_sandbox.c
               LIBS sv_intake sv_ocr sv_crypto)
  target_include_directories(test_worker_sandbox PRIVATE ${CMAKE_SOURCE_DIR}/intake)
  target_compile_definitions(test_worker_sandbox PRIVATE
                             SV_OCR_WORKER="$<TARGET_FILE:scanvault-ocr>"
                             SV_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  add_dependencies(test_worker_sandbox scanvault-ocr)
  set_tests_properties(test_worker_sandbox PROPERTIES TIMEOUT 300)
endif()

sv_fuzz_target(fuzz_worker_frame SOURCES ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_worker_frame.c
               LIBS sv_intake sv_ocr CORPUS ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/worker_frame
               SECONDS 10)
if(TARGET fuzz_worker_frame)
  target_include_directories(fuzz_worker_frame PRIVATE ${CMAKE_SOURCE_DIR}/intake)
else()
  target_include_directories(fuzz_worker_frame_replay PRIVATE ${CMAKE_SOURCE_DIR}/intake)
endif()

# The worker program holds no key by construction: no key, vault, index or
# audit code is linked into it.
add_test(NAME worker_links_no_key_code
         COMMAND sh -c "nm \"$0\" > /dev/null && ! nm \"$0\" | grep -E ' sv_(keyring|crypto|vault|audit|index|store|docid)_'"
                 $<TARGET_FILE:scanvault-ocr>)
set_tests_properties(worker_links_no_key_code PROPERTIES LABELS unit)
