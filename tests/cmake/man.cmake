# The manual page docs/scanvault.1 against the real --help texts
# (tests/integration/man_help.py): every command of `scanvault --help` has
# its section, the same options both ways, its subcommands and exit codes;
# the page needs EXIT STATUS, ENVIRONMENT and FILES for what the --help texts
# name; groff -man -ww formats it without a warning. The second test breaks
# copies of the page in known ways and fails unless the check finds each
# one. No data directory, no OCR: a few seconds. Without groff (Debian:
# groff-base) the formatting check is skipped and ctest reports "Skipped".
find_program(SV_GROFF groff)
if(NOT SV_GROFF)
  set(SV_GROFF "")
  message(STATUS "groff not found: the man page formatting check will be skipped")
endif()
add_test(NAME man_help
         COMMAND ${SV_PYTHON} ${CMAKE_SOURCE_DIR}/tests/integration/man_help.py
                 $<TARGET_FILE:scanvault> ${CMAKE_SOURCE_DIR}/docs/scanvault.1 "${SV_GROFF}")
add_test(NAME man_help_self_test
         COMMAND ${SV_PYTHON} ${CMAKE_SOURCE_DIR}/tests/integration/man_help.py --self-test
                 $<TARGET_FILE:scanvault> ${CMAKE_SOURCE_DIR}/docs/scanvault.1 "${SV_GROFF}")
set_tests_properties(man_help man_help_self_test PROPERTIES
                     TIMEOUT 120 LABELS integration SKIP_RETURN_CODE 77)
