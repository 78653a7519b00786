/*
 * workers.c - the pool of OCR worker processes.
 *
 * Each worker is the scanvault-ocr program (intake/worker/), started with
 * posix_spawn: its socket on descriptor 3, /dev/null for stdin and stdout,
 * the supervisor's stderr, every other descriptor closed, signals at their
 * defaults, and a minimal environment (OMP_THREAD_LIMIT=1, TESSDATA_PREFIX,
 * LANG, LC_ALL - nothing else: no CREDENTIALS_DIRECTORY, no PATH). Being
 * exec'd, not only forked, it starts with none of the supervisor's memory:
 * no key, no index map, no other document.
 *
 * The first frame gives it the rules; it loads its engine, locks itself in
 * its sandbox (limits, seccomp: intake/worker/sandbox.c) and says READY.
 * Then it gets one document at a time as an open file descriptor over a
 * SOCK_SEQPACKET socketpair and answers with one framed result
 * (worker_proto.c), which is validated and re-checked here.
 *
 * Before each document the pool gives the worker `timeout` more seconds of
 * CPU time (RLIMIT_CPU, set from here with prlimit so the worker needs no
 * call to change it); past that the kernel kills it with SIGXCPU. A worker
 * that dies, answers garbage or runs past the wall-clock timeout is killed
 * and replaced; its document gets a REJECT result with the reason
 * (worker_crashed, or timeout for the wall clock and SIGXCPU) and the pool
 * keeps going.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "intake_internal.h"

/* How long a new worker may take to load its engine. */
#define WORKER_START_TIMEOUT_MS 60000

/* The worker program's name, looked for beside the running executable. */
#define WORKER_PROGRAM "scanvault-ocr"

/* Environment variables a worker inherits (when set); it gets
 * OMP_THREAD_LIMIT=1 besides, and nothing else. */
static const char *const passed_env[] = {"TESSDATA_PREFIX", "LANG", "LC_ALL"};

/* argv: program, --memory, BYTES, [extra], NULL. envp: OMP, passed_env, NULL. */
#define WORKER_ARGV_MAX 5
#define WORKER_ENVP_MAX (2 + sizeof passed_env / sizeof *passed_env)

typedef struct worker {
    pid_t pid;       /* -1 when this slot has no live worker */
    int sock;        /* supervisor's end */
    bool is_busy;
    uint64_t tag;
    double deadline; /* monotonic ms */
} worker;

struct sv_workers {
    const sv_ocr_rules *rules;
    unsigned n;
    unsigned timeout_s;
    uint8_t *encoded_rules; /* the RULES frame payload, made once */
    size_t encoded_len;
    char memory_arg[24];
    char *argv[WORKER_ARGV_MAX]; /* [0] and [3] malloc'd */
    char *envp[WORKER_ENVP_MAX]; /* all malloc'd */
    worker *slots;
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int sv_workers_find_program(char *buf, size_t len)
{
    if (len > 0)
        buf[0] = '\0';
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe);
    if (n < 0)
        return SV_EERRNO;
    if ((size_t)n >= sizeof exe)
        return SV_ELIMIT;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash == NULL)
        return SV_EINVAL;
    *slash = '\0';
    int w = snprintf(buf, len, "%s/%s", exe, WORKER_PROGRAM);
    if (w < 0 || (size_t)w >= len) {
        if (len > 0)
            buf[0] = '\0';
        return SV_ELIMIT;
    }
    return 0;
}

pid_t workers_pid(const sv_workers *pool, unsigned slot)
{
    return slot < pool->n ? pool->slots[slot].pid : -1;
}

/* Kill the worker if it still runs, reap it, close its socket. Returns its
 * wait status, or -1 when there was none. */
static int close_worker(worker *w)
{
    int status = -1;
    if (w->sock >= 0)
        close(w->sock);
    w->sock = -1;
    if (w->pid > 0) {
        kill(w->pid, SIGKILL); /* no effect on one that has already died */
        while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR)
            ;
    }
    w->pid = -1;
    w->is_busy = false;
    return status;
}

/* Why a worker that never said READY did not: its exit status, as an SV_E*
 * code with the message set. */
static int start_failure(const sv_workers *pool, int status, bool is_timeout)
{
    const char *program = pool->argv[0];
    if (is_timeout)
        return intake_fail(SV_EOCR, "cannot start the OCR workers: %s did not start within %d s",
                           program, WORKER_START_TIMEOUT_MS / 1000);
    if (status != -1 && WIFEXITED(status)) {
        switch (WEXITSTATUS(status)) {
        case WORKER_EXIT_ENGINE:
            return intake_fail(SV_EOCR, "cannot start the OCR workers: the OCR engine did not load "
                                        "(is tesseract-ocr-eng installed? TESSDATA_PREFIX?)");
        case WORKER_EXIT_RULES:
            return intake_fail(SV_ECONFIG, "cannot start the OCR workers: a worker could not "
                                           "take the rules (its message is above)");
        case WORKER_EXIT_SANDBOX:
            return intake_fail(SV_EWORKER, "cannot start the OCR workers: a worker could not "
                                           "enter its sandbox (its message is above)");
        default:
            return intake_fail(SV_EWORKER, "cannot start the OCR workers: %s exited with "
                                           "status %d (a scanvault-ocr of another version?)",
                               program, WEXITSTATUS(status));
        }
    }
    if (status != -1 && WIFSIGNALED(status))
        return intake_fail(SV_EWORKER, "cannot start the OCR workers: a worker died of signal %d",
                           WTERMSIG(status));
    return intake_fail(SV_EWORKER, "cannot start the OCR workers: %s did not start", program);
}

/* Wait for the READY frame of a new worker. 0, or the start failure. */
static int await_ready(const sv_workers *pool, worker *w)
{
    struct pollfd pfd = {.fd = w->sock, .events = POLLIN};
    int n;
    do {
        n = poll(&pfd, 1, WORKER_START_TIMEOUT_MS);
    } while (n < 0 && errno == EINTR);
    if (n <= 0)
        return start_failure(pool, close_worker(w), n == 0);
    worker_frame_header h;
    ssize_t got = recv(w->sock, &h, sizeof h, MSG_DONTWAIT);
    if (got != (ssize_t)sizeof h || h.magic != WORKER_MAGIC || h.version != WORKER_VERSION ||
        h.type != WORKER_MSG_READY || h.length != 0)
        return start_failure(pool, close_worker(w), false);
    return 0;
}

/* The child's descriptors: the socket on WORKER_SOCKET_FD (dup'd first, in
 * case it sits on 0..2), /dev/null on stdin and stdout, stderr kept, all
 * others closed. Signals: default actions, none blocked. */
static int spawn_setup(posix_spawn_file_actions_t *fa, posix_spawnattr_t *attr, int child_sock)
{
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    int err = posix_spawn_file_actions_adddup2(fa, child_sock, WORKER_SOCKET_FD);
    if (err == 0)
        err = posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDONLY, 0);
    if (err == 0)
        err = posix_spawn_file_actions_addopen(fa, 1, "/dev/null", O_WRONLY, 0);
    if (err == 0)
        err = posix_spawn_file_actions_addclosefrom_np(fa, WORKER_SOCKET_FD + 1);
    if (err == 0)
        err = posix_spawnattr_setsigdefault(attr, &all);
    if (err == 0)
        err = posix_spawnattr_setsigmask(attr, &none);
    if (err == 0)
        err = posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    return err;
}

static int spawn_worker(sv_workers *pool, worker *w)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
        return intake_fail(SV_EERRNO, "cannot make a socket for an OCR worker: %s",
                           strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    int err = posix_spawn_file_actions_init(&fa);
    if (err == 0 && (err = posix_spawnattr_init(&attr)) != 0)
        posix_spawn_file_actions_destroy(&fa);
    pid_t pid = -1;
    if (err == 0) {
        err = spawn_setup(&fa, &attr, sv[1]);
        if (err == 0)
            err = posix_spawn(&pid, pool->argv[0], &fa, &attr, pool->argv, pool->envp);
        posix_spawnattr_destroy(&attr);
        posix_spawn_file_actions_destroy(&fa);
    }
    close(sv[1]);
    if (err != 0) {
        close(sv[0]);
        errno = err;
        return intake_fail(SV_EERRNO, "cannot start the OCR workers: %s: %s%s", pool->argv[0],
                           strerror(err),
                           err == ENOENT ? " (scanvault-ocr is installed beside scanvault)" : "");
    }
    w->pid = pid;
    w->sock = sv[0];
    w->is_busy = false;
    if (worker_send_rules(w->sock, pool->encoded_rules, pool->encoded_len) != 0)
        return start_failure(pool, close_worker(w), false);
    return await_ready(pool, w);
}

/* A malloc'd "NAME=value" of the current environment, or NULL when unset. */
static char *env_entry(const char *name, bool *is_oom)
{
    const char *value = getenv(name);
    if (value == NULL)
        return NULL;
    size_t len = strlen(name) + 1 + strlen(value) + 1;
    char *entry = malloc(len);
    if (entry == NULL)
        *is_oom = true;
    else
        snprintf(entry, len, "%s=%s", name, value);
    return entry;
}

/* argv and envp of every worker, and the rules frame: made once. */
static int prepare_spawn(sv_workers *pool, const char *program, uint64_t memory_bytes,
                         const char *extra_arg)
{
    bool is_oom = false;
    size_t n_env = 0;
    pool->argv[0] = strdup(program);
    pool->argv[1] = "--memory";
    snprintf(pool->memory_arg, sizeof pool->memory_arg, "%llu",
             (unsigned long long)memory_bytes);
    pool->argv[2] = pool->memory_arg;
    if (extra_arg != NULL && (pool->argv[3] = strdup(extra_arg)) == NULL)
        is_oom = true;
    pool->envp[n_env++] = strdup("OMP_THREAD_LIMIT=1");
    for (size_t i = 0; i < sizeof passed_env / sizeof *passed_env; i++) {
        char *entry = env_entry(passed_env[i], &is_oom);
        if (entry != NULL)
            pool->envp[n_env++] = entry;
    }
    pool->encoded_rules = malloc(SV_OCR_RULES_WIRE_MAX);
    if (is_oom || pool->argv[0] == NULL || pool->envp[0] == NULL || pool->encoded_rules == NULL)
        return intake_fail(SV_ENOMEM, "out of memory");
    if (sv_ocr_rules_encode(pool->rules, pool->encoded_rules, SV_OCR_RULES_WIRE_MAX,
                            &pool->encoded_len) != 0)
        return intake_fail(SV_ELIMIT, "the OCR rules do not fit the worker frame");
    return 0;
}

int workers_create_with_arg(sv_workers **out, const sv_workers_options *opts,
                            const char *extra_arg)
{
    intake_clear_error();
    *out = NULL;
    if (opts == NULL || opts->rules == NULL || opts->n_workers == 0 ||
        opts->n_workers > SV_WORKERS_MAX)
        return intake_fail(SV_EINVAL, "OCR workers: give rules and a count from 1 to %d",
                           SV_WORKERS_MAX);
    char found[PATH_MAX];
    const char *program = opts->worker_path;
    if (program == NULL || program[0] == '\0') {
        int rc = sv_workers_find_program(found, sizeof found);
        if (rc != 0)
            return intake_fail(rc, "cannot find the OCR worker program (%s beside this "
                                   "program): %s",
                               WORKER_PROGRAM, rc == SV_EERRNO ? strerror(errno) : sv_strerror(rc));
        program = found;
    }
    sv_workers *pool = calloc(1, sizeof *pool);
    if (pool == NULL)
        return intake_fail(SV_ENOMEM, "out of memory");
    pool->rules = opts->rules;
    pool->n = opts->n_workers;
    pool->timeout_s =
        opts->timeout_s != 0 ? opts->timeout_s : sv_ocr_rules_timeout_seconds(opts->rules);
    uint64_t memory = opts->memory_bytes != 0 ? opts->memory_bytes
                                              : sv_ocr_rules_worker_memory(opts->rules);
    pool->slots = calloc(pool->n, sizeof *pool->slots);
    int rc = pool->slots == NULL ? intake_fail(SV_ENOMEM, "out of memory") : 0;
    for (unsigned i = 0; rc == 0 && i < pool->n; i++) {
        pool->slots[i].pid = -1;
        pool->slots[i].sock = -1;
    }
    if (rc == 0)
        rc = prepare_spawn(pool, program, memory, extra_arg);
    for (unsigned i = 0; rc == 0 && i < pool->n; i++)
        rc = spawn_worker(pool, &pool->slots[i]);
    if (rc != 0) {
        sv_workers_destroy(pool);
        return rc;
    }
    *out = pool;
    return 0;
}

int sv_workers_create(sv_workers **out, const sv_workers_options *opts)
{
    return workers_create_with_arg(out, opts, NULL);
}

void sv_workers_destroy(sv_workers *pool)
{
    if (pool == NULL)
        return;
    for (unsigned i = 0; pool->slots && i < pool->n; i++)
        close_worker(&pool->slots[i]);
    free(pool->slots);
    free(pool->argv[0]);
    free(pool->argv[3]);
    for (size_t i = 0; i < WORKER_ENVP_MAX; i++)
        free(pool->envp[i]);
    free(pool->encoded_rules);
    free(pool);
}

unsigned sv_workers_idle(const sv_workers *pool)
{
    unsigned idle = 0;
    for (unsigned i = 0; i < pool->n; i++)
        if (pool->slots[i].pid > 0 && !pool->slots[i].is_busy)
            idle++;
    return idle;
}

unsigned sv_workers_busy(const sv_workers *pool)
{
    unsigned busy = 0;
    for (unsigned i = 0; i < pool->n; i++)
        if (pool->slots[i].is_busy)
            busy++;
    return busy;
}

/*
 * Give the worker timeout_s more seconds of CPU time than it has used so far
 * (the soft RLIMIT_CPU; SIGXCPU kills it past that). The hard limit is left
 * as it is: lowering it would be for good, since only a privileged process
 * may raise it again for the next document. On any failure the wall-clock
 * timeout still holds.
 */
static void limit_cpu(const sv_workers *pool, pid_t pid)
{
    clockid_t clock;
    struct timespec used;
    struct rlimit lim;
    if (clock_getcpuclockid(pid, &clock) != 0 || clock_gettime(clock, &used) != 0 ||
        prlimit(pid, RLIMIT_CPU, NULL, &lim) != 0)
        return;
    rlim_t soft = (rlim_t)used.tv_sec + 1 + pool->timeout_s;
    lim.rlim_cur = lim.rlim_max != RLIM_INFINITY && soft > lim.rlim_max ? lim.rlim_max : soft;
    prlimit(pid, RLIMIT_CPU, &lim, NULL);
}

static int send_document(sv_workers *pool, worker *w, int fd)
{
    limit_cpu(pool, w->pid);
    return worker_send_fd(w->sock, fd);
}

int sv_workers_submit(sv_workers *pool, int fd, uint64_t tag)
{
    for (unsigned i = 0; i < pool->n; i++) {
        worker *w = &pool->slots[i];
        if (w->pid <= 0 || w->is_busy)
            continue;
        if (send_document(pool, w, fd) != 0) {
            /* It died while idle: replace it and try the next slot. */
            close_worker(w);
            if (spawn_worker(pool, w) != 0)
                continue;
            if (send_document(pool, w, fd) != 0)
                continue;
        }
        w->is_busy = true;
        w->tag = tag;
        w->deadline = now_ms() + 1000.0 * pool->timeout_s;
        return 0;
    }
    return sv_workers_idle(pool) == 0 && sv_workers_busy(pool) == 0 ? SV_EWORKER : SV_EINVAL;
}

static void reject_result(sv_ocr_result *r, sv_ocr_reason reason)
{
    memset(r, 0, sizeof *r);
    r->status = SV_OCR_REJECT;
    r->reason = reason;
    memcpy(r->type, "other", sizeof "other");
}

/* The worker failed its document: reject it, replace the worker. A worker
 * the kernel killed for its CPU time ran out of time, like one past the
 * wall-clock deadline. */
static void fail_worker(sv_workers *pool, worker *w, sv_ocr_reason reason, uint64_t *tag,
                        sv_ocr_result *result)
{
    *tag = w->tag;
    int status = close_worker(w);
    if (status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGXCPU)
        reason = SV_REASON_TIMEOUT;
    reject_result(result, reason);
    spawn_worker(pool, w); /* on failure the slot stays empty */
}

int sv_workers_collect(sv_workers *pool, int timeout_ms, uint64_t *tag, sv_ocr_result *result)
{
    memset(result, 0, sizeof *result);
    *tag = 0;
    struct pollfd pfds[SV_WORKERS_MAX];
    unsigned map[SV_WORKERS_MAX];
    double wait_until = now_ms() + (timeout_ms < 0 ? 1e12 : timeout_ms);
    for (;;) {
        nfds_t n = 0;
        double now = now_ms(), soonest = wait_until;
        for (unsigned i = 0; i < pool->n; i++) {
            worker *w = &pool->slots[i];
            if (!w->is_busy)
                continue;
            if (w->deadline <= now) {
                fail_worker(pool, w, SV_REASON_TIMEOUT, tag, result);
                return 0;
            }
            if (w->deadline < soonest)
                soonest = w->deadline;
            pfds[n] = (struct pollfd){.fd = w->sock, .events = POLLIN};
            map[n++] = i;
        }
        if (n == 0)
            return SV_ENOTFOUND;
        int wait = (int)(soonest - now) + 1;
        int ready = poll(pfds, n, wait < 0 ? 0 : wait);
        if (ready < 0)
            return SV_EERRNO; /* EINTR: the caller checks its signal flags */
        if (ready == 0) {
            if (now_ms() >= wait_until)
                return SV_ETIMEOUT;
            continue; /* a deadline passed: the loop top handles it */
        }
        for (nfds_t k = 0; k < n; k++) {
            if (pfds[k].revents == 0)
                continue;
            worker *w = &pool->slots[map[k]];
            uint8_t frame[WORKER_FRAME_MAX + 1];
            ssize_t got = recv(w->sock, frame, sizeof frame, MSG_DONTWAIT);
            if (got < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            if (got <= 0 || worker_frame_decode(frame, (size_t)got, result) != 0) {
                fail_worker(pool, w, SV_REASON_WORKER_CRASHED, tag, result);
                return 0;
            }
            *tag = w->tag;
            w->is_busy = false;
            worker_recheck_filing(pool->rules, result);
            return 0;
        }
    }
}
