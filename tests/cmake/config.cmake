# `scanvault config check` against docs/configuration.md and
# deploy/scanvault.conf (the unit tests of the parser are in rules.cmake).
add_test(NAME config_check
         COMMAND ${SV_PYTHON} ${CMAKE_SOURCE_DIR}/tests/integration/config_check.py
                 $<TARGET_FILE:scanvault> ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR}/config-check)
set_tests_properties(config_check PROPERTIES TIMEOUT 120 LABELS integration)
