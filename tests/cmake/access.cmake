# Who may see what (docs/access.md): the service's socket, roles by OS group,
# the retrieval cap, the protocol's decoder. access_roles makes real users and
# groups (it must run as root, as the test command does; otherwise it is
# skipped) and runs the real `scanvault run` with one worker and no OCR.
add_test(NAME access_roles
         COMMAND ${SV_PYTHON} ${CMAKE_SOURCE_DIR}/tests/integration/access_test.py
                 $<TARGET_FILE:scanvault> $<TARGET_FILE:sv_make_data>
                 ${CMAKE_BINARY_DIR}/access-test)
set_tests_properties(access_roles PROPERTIES TIMEOUT 180 LABELS integration
                     SKIP_RETURN_CODE 77)

# The request decoder under libFuzzer (SV_FUZZ builds), else its corpus
# replayed once (tests/fuzz/corpus/request: one file per message type, and
# the bad messages access_roles sends).
sv_fuzz_target(fuzz_request SOURCES ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_request.c
               LIBS sv_intake sv_ocr sv_crypto sv_index
               CORPUS ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/request SECONDS 10)
if(TARGET fuzz_request)
  target_include_directories(fuzz_request PRIVATE ${CMAKE_SOURCE_DIR}/intake)
else()
  target_include_directories(fuzz_request_replay PRIVATE ${CMAKE_SOURCE_DIR}/intake)
endif()

# The benchmark (not a test: it prints figures and asserts nothing about
# time): tests/bench/bench_socket.sh BUILD_DIR [N] [QUERIES].
add_executable(bench_socket ${CMAKE_SOURCE_DIR}/tests/bench/bench_socket.c)
target_link_libraries(bench_socket PRIVATE sv_intake sv_ocr sv_crypto sv_index)

# The codec, the [access] settings and a caller's view of a store, without
# users or processes (tests/unit/test_access.c).
sv_unit_test(test_access SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_access.c
             LIBS sv_intake sv_ocr sv_crypto sv_index)
target_include_directories(test_access PRIVATE ${CMAKE_SOURCE_DIR}/intake)
target_compile_definitions(test_access PRIVATE SV_SCANVAULT="$<TARGET_FILE:scanvault>")
add_dependencies(test_access scanvault)
