/*
 * sandbox.c - the OCR worker's sandbox: resource limits, no new privileges,
 * and a seccomp filter that allows what reading one document needs and
 * nothing else (DESIGN.md section 6; docs/pipeline.md "Worker sandbox").
 *
 * The filter is an allow list, default KILL_PROCESS (as OpenSSH's): the
 * worker parses hostile images, so anything it was not seen to need is an
 * attack or a bug, and either way the document is quarantined
 * (worker_crashed) rather than read by a process doing something new.
 * The kernel logs the killing call (audit log / dmesg: "type=SECCOMP ...
 * syscall=N"), which is how a legitimate need would be found.
 *
 * Two groups are listed apart from the default:
 *   - calls that open, create or change files by name fail with EPERM: the
 *     libraries (fontconfig, poppler, Tesseract's debug log) probe for files
 *     at times we do not control, and an EPERM makes them do without, where
 *     a kill would turn a harmless probe into a lost document;
 *   - exec, sockets, ptrace and process creation kill outright: no library
 *     does them while reading a document, so they are attempts.
 *
 * The policy was checked on x86_64 only (the syscall set differs by
 * architecture): elsewhere the worker refuses to start.
 */
#include <errno.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "worker_sandbox.h"

#if defined(__SANITIZE_ADDRESS__)
#define WORKER_HAS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WORKER_HAS_ASAN 1
#endif
#endif

/* What reading a document takes: the descriptor and the socket, memory,
 * time, and the exits (abort() signals itself: tgkill, added below). */
static const char *const allowed_calls[] = {
    "read",         "readv",         "pread64",      "lseek",     "close",
    "fstat",        "newfstatat",    "recvmsg",      "recvfrom",  "sendmsg",
    "sendto",       "write",         "writev",       "brk",       "munmap",
    "mremap",       "madvise",       "futex",        "getrandom", "sched_yield",
    "clock_gettime", "clock_getres", "gettimeofday", "getpid",    "gettid",
    "rt_sigprocmask", "rt_sigreturn", "exit",        "exit_group", "restart_syscall",
};

/* Opening, creating or changing files by name, and probing paths: EPERM. */
static const char *const file_calls[] = {
    "open",       "openat",     "openat2",   "creat",      "mkdir",     "mkdirat",
    "mknod",      "mknodat",    "rmdir",     "unlink",     "unlinkat",  "rename",
    "renameat",   "renameat2",  "link",      "linkat",     "symlink",   "symlinkat",
    "chmod",      "fchmod",     "fchmodat",  "chown",      "fchown",    "lchown",
    "fchownat",   "truncate",   "ftruncate", "utime",      "utimes",    "utimensat",
    "futimesat",  "access",     "faccessat", "faccessat2", "readlink",  "readlinkat",
    "stat",       "lstat",      "statx",     "statfs",     "chdir",     "fchdir",
    "getcwd",     "inotify_init", "inotify_init1", "memfd_create",
};

/* Attempts, never needs: kill the process. (The default kills them too, and
 * libseccomp refuses a rule that repeats the default; they are listed so
 * that they stay killed should the default ever change.) */
static const char *const attack_calls[] = {
    "execve",     "execveat",   "socket",         "socketpair",        "connect",
    "bind",       "listen",     "accept",         "accept4",           "ptrace",
    "process_vm_readv", "process_vm_writev", "fork", "vfork",          "clone",
    "clone3",     "kill",       "tkill",          "setsockopt",        "mount",
    "umount2",    "chroot",     "pivot_root",     "unshare",           "setns",
    "prctl",      "seccomp",    "bpf",            "perf_event_open",   "keyctl",
    "add_key",    "request_key", "userfaultfd",   "io_uring_setup",    "personality",
    "setrlimit",  "prlimit64",  "rt_sigaction",   "sigaltstack",       "pkey_mprotect",
};

static int fail(char *err, size_t err_len, const char *what, int error)
{
    snprintf(err, err_len, "%s: %s", what, strerror(error));
    return -1;
}

/* glibc types the resource as an enum when _GNU_SOURCE is defined. */
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
typedef __rlimit_resource_t rlimit_resource;
#else
typedef int rlimit_resource;
#endif

/* Set both limits to value, or to the hard limit already in force when that
 * is lower (only a privileged process may raise a hard limit). */
static int limit(rlimit_resource resource, rlim_t value, const char *name, char *err,
                 size_t err_len)
{
    struct rlimit lim;
    if (getrlimit(resource, &lim) != 0)
        return fail(err, err_len, name, errno);
    if (lim.rlim_max != RLIM_INFINITY && lim.rlim_max < value)
        value = lim.rlim_max;
    lim.rlim_cur = lim.rlim_max = value;
    if (setrlimit(resource, &lim) != 0)
        return fail(err, err_len, name, errno);
    return 0;
}

static int set_limits(const worker_sandbox_options *opts, char *err, size_t err_len)
{
#ifndef WORKER_HAS_ASAN
    /* AddressSanitizer reserves terabytes of shadow address space: its
     * builds run without this limit. */
    if (limit(RLIMIT_AS, (rlim_t)opts->memory_bytes, "RLIMIT_AS", err, err_len) != 0)
        return -1;
#else
    (void)opts;
#endif
    if (limit(RLIMIT_CORE, 0, "RLIMIT_CORE", err, err_len) != 0 ||
        limit(RLIMIT_NOFILE, WORKER_MAX_FILES, "RLIMIT_NOFILE", err, err_len) != 0 ||
        limit(RLIMIT_NPROC, 0, "RLIMIT_NPROC", err, err_len) != 0 ||
        limit(RLIMIT_MEMLOCK, 0, "RLIMIT_MEMLOCK", err, err_len) != 0)
        return -1;
    return 0;
}

/* What the filter does with any call not listed. */
#define DEFAULT_ACTION SCMP_ACT_KILL_PROCESS

static int add_calls(scmp_filter_ctx ctx, uint32_t action, const char *const *names, size_t n,
                     char *err, size_t err_len)
{
    if (action == DEFAULT_ACTION)
        return 0;
    for (size_t i = 0; i < n; i++) {
        int nr = seccomp_syscall_resolve_name(names[i]);
        if (nr == __NR_SCMP_ERROR)
            continue; /* no such call on this architecture */
        int rc = seccomp_rule_add(ctx, action, nr, 0);
        if (rc != 0)
            return fail(err, err_len, names[i], -rc);
    }
    return 0;
}

/* mmap and mprotect, but never executable memory: nothing in the worker
 * generates code, and an exploit would want to. */
static int add_memory_calls(scmp_filter_ctx ctx, char *err, size_t err_len)
{
    int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
                              SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
                              SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
    /* abort() raises SIGABRT with tgkill: to this process only. */
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
                              SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid(), 0));
    return rc == 0 ? 0 : fail(err, err_len, "mmap/mprotect/tgkill rule", -rc);
}

static int install_filter(char *err, size_t err_len)
{
    if (seccomp_arch_native() != SCMP_ARCH_X86_64) {
        snprintf(err, err_len, "the worker's system-call filter has been checked on x86_64 "
                               "only; refusing to run without it on this architecture");
        return -1;
    }
    scmp_filter_ctx ctx = seccomp_init(DEFAULT_ACTION);
    if (ctx == NULL)
        return fail(err, err_len, "seccomp_init", ENOMEM);
    int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
    /* Every thread, should a library have started one. */
    if (rc == 0)
        rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
    if (rc != 0) {
        fail(err, err_len, "seccomp attributes", -rc);
        goto out;
    }
    if ((rc = add_calls(ctx, SCMP_ACT_ALLOW, allowed_calls,
                        sizeof allowed_calls / sizeof *allowed_calls, err, err_len)) != 0 ||
        (rc = add_calls(ctx, SCMP_ACT_ERRNO(EPERM), file_calls,
                        sizeof file_calls / sizeof *file_calls, err, err_len)) != 0 ||
        (rc = add_calls(ctx, SCMP_ACT_KILL_PROCESS, attack_calls,
                        sizeof attack_calls / sizeof *attack_calls, err, err_len)) != 0 ||
        (rc = add_memory_calls(ctx, err, err_len)) != 0)
        goto out;
    rc = seccomp_load(ctx);
    if (rc != 0)
        rc = fail(err, err_len, "seccomp_load", -rc);
out:
    seccomp_release(ctx);
    return rc == 0 ? 0 : -1;
}

int worker_sandbox_enter(const worker_sandbox_options *opts, char *err, size_t err_len)
{
    err[0] = '\0';
    if (set_limits(opts, err, err_len) != 0)
        return -1;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return fail(err, err_len, "PR_SET_NO_NEW_PRIVS", errno);
    if (opts->use_seccomp && install_filter(err, err_len) != 0)
        return -1;
    return 0;
}
