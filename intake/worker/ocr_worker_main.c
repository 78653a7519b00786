/*
 * ocr_worker_main.c - scanvault-ocr, the OCR worker program.
 *
 * Started by the worker pool (intake/workers.c), never by hand:
 *     scanvault-ocr --memory BYTES
 * with its end of a SOCK_SEQPACKET socketpair on descriptor 3
 * (WORKER_SOCKET_FD), /dev/null on stdin and stdout, the supervisor's
 * stderr, and a minimal environment. It is linked from the OCR engine and
 * the worker frames only; no key code is in the program, so it holds no key
 * by construction, and it never sees the supervisor's memory (it is exec'd,
 * not just forked).
 *
 * Its life, in this order (as OpenSSH's unprivileged child):
 *   1. receive the rules (first frame) and load the known-MRN list they name;
 *   2. load the engine: Tesseract's models, the OSD model, fonts
 *      (sv_ocr_create, sv_ocr_preload) - the last files it opens by name;
 *   3. enter the sandbox: resource limits, PR_SET_NO_NEW_PRIVS, seccomp;
 *   4. send READY, then one document at a time: receive its descriptor,
 *      extract, answer with one RESULT frame; exit when the supervisor
 *      hangs up.
 * A failure before READY exits with a WORKER_EXIT_* status and one line on
 * stderr; the pool reports it. The CPU-time limit of each document is set
 * by the pool from outside (prlimit), so the worker has no call to raise it.
 *
 * With SV_TEST_HOOKS (a build option, OFF in production builds) a document
 * that starts with one of the test triggers makes the worker misbehave on
 * purpose, so the tests can prove the crash and timeout handling and the
 * filter (see run_test_hook).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "intake_internal.h"
#include "sv_ocr.h"
#include "worker_sandbox.h"

typedef struct worker_args {
    uint64_t memory_bytes;
    bool use_seccomp;
} worker_args;

static void usage_error(const char *why)
{
    fprintf(stderr,
            "scanvault-ocr: %s\n"
            "scanvault-ocr is the OCR worker that scanvault starts for itself; it is not a\n"
            "command to run by hand.\n",
            why);
}

static int parse_args(int argc, char **argv, worker_args *args)
{
    static const struct option options[] = {{"memory", required_argument, NULL, 'm'},
#ifdef SV_TEST_HOOKS
                                            {"test-no-seccomp", no_argument, NULL, 'n'},
#endif
                                            {NULL, 0, NULL, 0}};
    memset(args, 0, sizeof *args);
    args->use_seccomp = true;
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'm': {
            char *end = NULL;
            errno = 0;
            unsigned long long n = strtoull(optarg, &end, 10);
            if (errno != 0 || end == optarg || *end != '\0' || optarg[0] == '-' || n == 0) {
                usage_error("--memory takes a number of bytes");
                return -1;
            }
            args->memory_bytes = n;
            break;
        }
#ifdef SV_TEST_HOOKS
        case 'n':
            args->use_seccomp = false;
            break;
#endif
        default:
            usage_error("unknown argument");
            return -1;
        }
    }
    if (optind != argc || args->memory_bytes == 0) {
        usage_error("expected --memory BYTES and nothing else");
        return -1;
    }
    return 0;
}

/* Descriptor 3 must be the pool's SOCK_SEQPACKET socket. */
static bool has_pool_socket(void)
{
    struct stat st;
    int type = 0;
    socklen_t len = sizeof type;
    return fstat(WORKER_SOCKET_FD, &st) == 0 && S_ISSOCK(st.st_mode) &&
           getsockopt(WORKER_SOCKET_FD, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
           type == SOCK_SEQPACKET;
}

/* No signal ignored or blocked, whatever the process that started us had
 * (the pool already resets them; this is for any other starter): SIGXCPU,
 * the CPU-time limit, in particular must kill. Handlers installed before
 * main (a sanitizer's) are kept. */
static void reset_signals(void)
{
    for (int sig = 1; sig < NSIG; sig++) {
        struct sigaction sa;
        if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
            signal(sig, SIG_DFL);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

#ifdef SV_TEST_HOOKS
static void reject(sv_ocr_result *r, sv_ocr_reason reason)
{
    memset(r, 0, sizeof *r);
    r->status = SV_OCR_REJECT;
    r->reason = reason;
    memcpy(r->type, "other", sizeof "other");
}

static bool starts_with(const char *head, size_t len, const char *trigger)
{
    size_t n = strlen(trigger);
    return len >= n && memcmp(head, trigger, n) == 0;
}

/*
 * Test builds only. A document starting with
 *   SV-TEST-CRASH  aborts the worker (worker_crashed);
 *   SV-TEST-HANG   spins forever (timeout);
 *   SV-TEST-OPEN   tries to open /etc/hostname: if that works the filter is
 *                  not there and the worker aborts; if it fails the document
 *                  is rejected as unsupported_format, as any other junk.
 * Returns true when the document was a trigger and *result is set. Pipes
 * (no offset) are never triggers: the head is read without consuming it.
 */
static bool run_test_hook(int fd, sv_ocr_result *result)
{
    char head[16];
    off_t at = lseek(fd, 0, SEEK_CUR);
    if (at < 0)
        return false;
    ssize_t n = pread(fd, head, sizeof head, at);
    if (n <= 0)
        return false;
    if (starts_with(head, (size_t)n, "SV-TEST-CRASH"))
        abort();
    if (starts_with(head, (size_t)n, "SV-TEST-HANG")) {
        volatile unsigned long spins = 0;
        for (;;)
            spins++;
    }
    if (starts_with(head, (size_t)n, "SV-TEST-OPEN")) {
        int probe = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
        if (probe >= 0)
            abort(); /* the sandbox let a file be opened by name */
        reject(result, SV_REASON_UNSUPPORTED_FORMAT);
        return true;
    }
    return false;
}
#endif

/* One document at a time until the supervisor hangs up. */
static int serve(int sock, sv_ocr *ocr)
{
    for (;;) {
        int fd = -1;
        int rc = worker_recv_fd(sock, &fd);
        if (rc == SV_ENOTFOUND)
            return WORKER_EXIT_OK;
        if (rc != 0)
            return WORKER_EXIT_PROTOCOL;
        sv_ocr_result result;
        bool is_done = false;
#ifdef SV_TEST_HOOKS
        is_done = run_test_hook(fd, &result);
#endif
        if (!is_done)
            sv_ocr_extract_fd(ocr, fd, &result); /* a failure is a REJECT result */
        close(fd);
        rc = worker_send_result(sock, &result);
        memset(&result, 0, sizeof result); /* it holds an MRN */
        if (rc != 0)
            return WORKER_EXIT_PROTOCOL;
    }
}

int main(int argc, char **argv)
{
    worker_args args;
    if (parse_args(argc, argv, &args) != 0)
        _exit(WORKER_EXIT_USAGE);
    if (!has_pool_socket()) {
        usage_error("descriptor 3 is not a worker socket");
        _exit(WORKER_EXIT_USAGE);
    }
    /* Die with the supervisor; no core files, no ptrace by other processes
     * of the same user (the worker holds a patient's document). */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    prctl(PR_SET_DUMPABLE, 0);
    reset_signals();

    int code;
    sv_ocr_rules *rules = NULL;
    sv_ocr *ocr = NULL;
    char err[512] = "";
    int rc = worker_recv_rules(WORKER_SOCKET_FD, &rules, err, sizeof err);
    if (rc != 0) {
        if (rc == SV_ENOTFOUND)
            _exit(WORKER_EXIT_OK);
        fprintf(stderr, "scanvault-ocr: %s\n", err[0] ? err : sv_strerror(rc));
        _exit(WORKER_EXIT_RULES);
    }
    if (sv_ocr_create(&ocr, rules) != 0 || sv_ocr_preload(ocr) != 0) {
        /* The pool's message names the likely cause (language data). */
        code = WORKER_EXIT_ENGINE;
        goto out;
    }
    worker_sandbox_options so = {.memory_bytes = args.memory_bytes,
                                 .use_seccomp = args.use_seccomp};
    if (worker_sandbox_enter(&so, err, sizeof err) != 0) {
        fprintf(stderr, "scanvault-ocr: cannot enter the sandbox: %s\n", err);
        code = WORKER_EXIT_SANDBOX;
        goto out;
    }
    if (worker_send_ready(WORKER_SOCKET_FD) != 0) {
        code = WORKER_EXIT_PROTOCOL;
        goto out;
    }
    code = serve(WORKER_SOCKET_FD, ocr);
out:
    /* No cleanup: freeing the engine under the filter gains nothing, and
     * exit handlers (and sanitizer leak checks) would run in the sandbox.
     * The process's memory goes with it. */
    _exit(code);
}
