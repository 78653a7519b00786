# samples/: the generator's self-test (manifest truth, determinism, class mix,
# bundle coverage, and that the scorer can fail).
add_test(NAME samples_selftest COMMAND ${SV_PYTHON} ${CMAKE_SOURCE_DIR}/samples/test_samples.py)
set_tests_properties(samples_selftest PROPERTIES TIMEOUT 600 LABELS integration)
