/*
 * worker_sandbox.h - the OCR worker's sandbox (sandbox.c). Used by
 * scanvault-ocr (ocr_worker_main.c) only; docs/pipeline.md "Worker sandbox"
 * explains the policy.
 */
#ifndef SV_WORKER_SANDBOX_H
#define SV_WORKER_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Most descriptors a sandboxed worker may hold (RLIMIT_NOFILE): stdio, its
 * socket, the document in hand, and room for what the libraries keep. */
#define WORKER_MAX_FILES 16

typedef struct worker_sandbox_options {
    uint64_t memory_bytes; /* RLIMIT_AS (not applied in AddressSanitizer builds) */
    bool use_seccomp;      /* false only for the tests' --test-no-seccomp */
} worker_sandbox_options;

/*
 * Enter the sandbox, in OpenSSH's order: resource limits (address space,
 * no core files, few descriptors, no new processes), PR_SET_NO_NEW_PRIVS,
 * then the seccomp filter. Call once the engine is loaded and before the
 * first document: afterwards the process cannot open a file by name, make a
 * process, touch the network or change its limits. Returns 0, or -1 with
 * what failed in err (then the worker must exit, not run unsandboxed).
 */
int worker_sandbox_enter(const worker_sandbox_options *opts, char *err, size_t err_len);

#endif
