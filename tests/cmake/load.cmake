# ocr/ document loader (ocr/load.c, ocr/load_pdf.c): unit test and fuzz harness.
sv_unit_test(test_load
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_load.c ${CMAKE_CURRENT_SOURCE_DIR}/unit/load_fixture.c
  LIBS sv_ocr)
target_compile_definitions(test_load PRIVATE
  SV_LOAD_SEED_DIR="${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/load")
sv_unit_test(test_load_pdf
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_load_pdf.c ${CMAKE_CURRENT_SOURCE_DIR}/unit/load_fixture.c
  LIBS sv_ocr)

sv_fuzz_target(fuzz_load
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_load.c
  LIBS sv_ocr
  CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/load
  SECONDS 12)
