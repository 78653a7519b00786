# intake/: the OCR worker pool and its frames.
sv_unit_test(test_workers SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_workers.c
             LIBS sv_intake sv_ocr)
target_include_directories(test_workers PRIVATE ${CMAKE_SOURCE_DIR}/intake)
set_tests_properties(test_workers PROPERTIES TIMEOUT 120)

sv_fuzz_target(fuzz_worker_frame SOURCES ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_worker_frame.c
               LIBS sv_intake sv_ocr CORPUS ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/worker_frame
               SECONDS 10)
if(TARGET fuzz_worker_frame)
  target_include_directories(fuzz_worker_frame PRIVATE ${CMAKE_SOURCE_DIR}/intake)
else()
  target_include_directories(fuzz_worker_frame_replay PRIVATE ${CMAKE_SOURCE_DIR}/intake)
endif()
