# Filesystem faults: a full spool, the vault or the index read-only (each on
# a tmpfs of its own in a private mount namespace). The full vault and index
# are in ingest.cmake (ingest_enospc); the service-level faults (workers
# killed, the key file removed) are cases of service_behaviour.
add_test(NAME faults_fs
         COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/faults_fs.sh
                 $<TARGET_FILE:scanvault> ${CMAKE_SOURCE_DIR}/samples)
set_tests_properties(faults_fs PROPERTIES TIMEOUT 300 SKIP_RETURN_CODE 77 LABELS integration)
