# Deployment: deploy/install.sh, deploy/systemd/scanvault.service and
# deploy/Containerfile (docs/install.md). Seconds each, one small OCR in
# deploy_install and one in deploy_live.
#
#   deploy_install    install.sh into a temporary --destdir (any user), twice;
#                     then the installed programs, configuration and key at work
#   deploy_unit       systemd-analyze verify and security on the installed unit
#                     (skipped only without systemd-analyze)
#   deploy_live       as root: a live install on a copy-on-write view of this
#                     machine, the inbox's permissions between scanning
#                     stations, and the installed service run the way the
#                     unit runs it (user, credential, read-only system,
#                     the unit's system-call filters); skipped without root,
#                     namespaces or overlayfs
#   deploy_container  the Containerfile reads the same package list as
#                     install-deps.sh, and the rest of it that can be checked
#                     without a container engine
#
# The three that run install.sh share RESOURCE_LOCK: cmake --install writes
# install_manifest.txt into this build directory.

set(SV_DEPLOY_SAMPLE ${CMAKE_SOURCE_DIR}/samples/docs/doc-0026.tif)

add_test(NAME deploy_install
         COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/deploy_install.sh
                 ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR} ${SV_DEPLOY_SAMPLE})

add_test(NAME deploy_unit
         COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/deploy_unit.sh
                 ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR})

# Loads the unit's SystemCallFilter= (as expanded by systemd-analyze) and
# MemoryDenyWriteExecute= the way systemd does, then execs the service.
add_executable(deploy_syscall_filter ${CMAKE_SOURCE_DIR}/tests/integration/deploy_syscall_filter.c)
target_link_libraries(deploy_syscall_filter PRIVATE PkgConfig::SECCOMP)
add_test(NAME deploy_live
         COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/deploy_live.sh
                 ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR} $<TARGET_FILE:deploy_syscall_filter>
                 ${SV_DEPLOY_SAMPLE})

set_tests_properties(deploy_install deploy_unit deploy_live PROPERTIES
                     TIMEOUT 300 LABELS integration SKIP_RETURN_CODE 77
                     RESOURCE_LOCK sv_install_manifest)

add_test(NAME deploy_container
         COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/deploy_container.sh ${CMAKE_SOURCE_DIR})
set_tests_properties(deploy_container PROPERTIES TIMEOUT 60 LABELS integration)
