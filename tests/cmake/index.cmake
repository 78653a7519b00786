# index/: the LMDB index (DESIGN.md section 5, docs/index-schema.md).

# Unit tests: a real LMDB environment in a temporary directory. Links
# libgcrypt to make realistic blind MRNs and content ids (HMAC, SHA-256) and
# LMDB directly to damage the file on purpose.
sv_unit_test(test_index
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_index.c ${CMAKE_CURRENT_SOURCE_DIR}/unit/index_fixture.c
  LIBS sv_index PkgConfig::LMDB PkgConfig::GCRYPT)
sv_unit_test(test_index_env
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_index_env.c ${CMAKE_CURRENT_SOURCE_DIR}/unit/index_fixture.c
  LIBS sv_index PkgConfig::LMDB PkgConfig::GCRYPT)

# Benchmark of sv_index_find(): an executable only, never run by ctest.
#   build/tests/bench_find            10,000 and 1,000,000 documents
#   build/tests/bench_find 10000000   the sizes given
add_executable(bench_find ${CMAKE_CURRENT_SOURCE_DIR}/bench/bench_find.c)
target_link_libraries(bench_find PRIVATE sv_index)
target_compile_definitions(bench_find PRIVATE SV_BENCH_DIR="${CMAKE_BINARY_DIR}/bench-data")
