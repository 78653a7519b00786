# Tools the tests and benchmarks of the admin commands share.
#   sv_make_data: fill a data directory with synthetic vault objects and index
#   entries, without OCR (tests/tools/make_data.c).
add_executable(sv_make_data ${CMAKE_SOURCE_DIR}/tests/tools/make_data.c)
target_link_libraries(sv_make_data PRIVATE sv_intake sv_ocr sv_crypto sv_index)
