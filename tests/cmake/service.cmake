# `scanvault run`: the intake service with real files, processes and signals.
# RUN_SERIAL: they measure settle intervals and time-outs, which a machine
# busy with other tests would stretch.

add_test(NAME service_behaviour
         COMMAND ${SV_PYTHON} ${CMAKE_SOURCE_DIR}/tests/integration/service_test.py
                 $<TARGET_FILE:scanvault> ${CMAKE_SOURCE_DIR}/samples
                 ${CMAKE_BINARY_DIR}/service-test rescan_only slow_writer drain reload odd_files
                 worker_kills key_removed
                 $<$<BOOL:${SV_TEST_HOOKS}>:hostile>)
set_tests_properties(service_behaviour PROPERTIES RUN_SERIAL TRUE TIMEOUT 900
                     LABELS integration)

# 50 kill -9 of the supervisor over 40 files (the issue's floor); the
# sanitizer build, much slower, does 15 over 20 files so the whole test
# command stays under 15 minutes on 2 cores.
if(SV_SANITIZE)
  set(SV_CRASH_KILLS 15)
  set(SV_CRASH_DOCS 20)
else()
  set(SV_CRASH_KILLS 50)
  set(SV_CRASH_DOCS 40)
endif()
add_test(NAME service_crash
         COMMAND ${SV_PYTHON} ${CMAKE_SOURCE_DIR}/tests/integration/service_crash.py
                 $<TARGET_FILE:scanvault> ${CMAKE_SOURCE_DIR}/samples
                 ${CMAKE_BINARY_DIR}/service-crash ${SV_CRASH_KILLS} ${SV_CRASH_DOCS})
set_tests_properties(service_crash PROPERTIES RUN_SERIAL TRUE TIMEOUT 1500
                     LABELS integration)
