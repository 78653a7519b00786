/*
 * workers.c - the pool of OCR worker processes.
 *
 * Each worker is a child process with one OCR engine, loaded once. It gets a
 * document as an open file descriptor over a SOCK_SEQPACKET socketpair and
 * answers with one framed result (worker_proto.c). It opens nothing by name
 * for a document and holds nothing of the supervisor's but the rules.
 *
 * A worker that dies, answers garbage or runs past the per-document timeout is
 * killed and replaced; its document gets a REJECT result with the reason
 * (worker_crashed or timeout) and the pool keeps going.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "intake_internal.h"

/* How long a new worker may take to load its engine. */
#define WORKER_START_TIMEOUT_MS 60000

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
    worker *slots;
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The child: load the engine, say READY, then one document at a time. */
static void worker_main(int sock, const sv_ocr_rules *rules, unsigned timeout_s)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    prctl(PR_SET_DUMPABLE, 0);
    struct rlimit core = {0, 0};
    setrlimit(RLIMIT_CORE, &core);
    /* The per-document limit is the supervisor's wall-clock timeout, which
     * kills the worker. The sandbox of DESIGN.md section 6 (address-space and
     * CPU limits, no-new-privileges, seccomp, a separate executable holding
     * no key) comes with the intake service; `extract` holds no key. */
    (void)timeout_s;

    sv_ocr *ocr = NULL;
    if (sv_ocr_create(&ocr, rules) != 0)
        _exit(3);
    if (worker_send_ready(sock) != 0)
        _exit(4);
    for (;;) {
        int fd = -1;
        int rc = worker_recv_fd(sock, &fd);
        if (rc == SV_ENOTFOUND)
            break;
        if (rc != 0)
            _exit(5);
        sv_ocr_result result;
        sv_ocr_extract_fd(ocr, fd, &result);
        close(fd);
        if (worker_send_result(sock, &result) != 0)
            _exit(6);
    }
    sv_ocr_destroy(ocr);
    _exit(0);
}

static void close_worker(worker *w)
{
    if (w->sock >= 0)
        close(w->sock);
    w->sock = -1;
    if (w->pid > 0) {
        kill(w->pid, SIGKILL);
        while (waitpid(w->pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    w->pid = -1;
    w->is_busy = false;
}

/* Wait for the READY frame of a new worker. */
static int await_ready(worker *w)
{
    struct pollfd pfd = {.fd = w->sock, .events = POLLIN};
    int n;
    do {
        n = poll(&pfd, 1, WORKER_START_TIMEOUT_MS);
    } while (n < 0 && errno == EINTR);
    if (n <= 0)
        return SV_EOCR;
    worker_frame_header h;
    ssize_t got = recv(w->sock, &h, sizeof h, 0);
    if (got != (ssize_t)sizeof h || h.magic != WORKER_MAGIC || h.version != WORKER_VERSION ||
        h.type != WORKER_MSG_READY || h.length != 0)
        return SV_EOCR; /* the engine did not load in the child */
    return 0;
}

static int spawn_worker(sv_workers *pool, worker *w)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
        return SV_EERRNO;
    pid_t pid = fork();
    if (pid < 0) {
        int saved = errno;
        close(sv[0]);
        close(sv[1]);
        errno = saved;
        return SV_EERRNO;
    }
    if (pid == 0) {
        /* A replacement worker is forked from a supervisor that holds keys
         * and the index: keep only stdio and this worker's socket, and wipe
         * the key memory. */
        int sock = sv[1];
        if (sock > 3)
            close_range(3, (unsigned)sock - 1, 0);
        close_range((unsigned)sock + 1, ~0u, 0);
        sv_crypto_forget_keys_after_fork();
        worker_main(sv[1], pool->rules, pool->timeout_s);
        _exit(0);
    }
    close(sv[1]);
    w->pid = pid;
    w->sock = sv[0];
    w->is_busy = false;
    int rc = await_ready(w);
    if (rc != 0)
        close_worker(w);
    return rc;
}

int sv_workers_create(sv_workers **out, const sv_ocr_rules *rules, unsigned n_workers,
                      unsigned timeout_s)
{
    *out = NULL;
    if (n_workers == 0 || n_workers > SV_WORKERS_MAX || timeout_s == 0)
        return SV_EINVAL;
    sv_workers *pool = calloc(1, sizeof *pool);
    if (pool == NULL)
        return SV_ENOMEM;
    pool->rules = rules;
    pool->n = n_workers;
    pool->timeout_s = timeout_s;
    pool->slots = calloc(n_workers, sizeof *pool->slots);
    if (pool->slots == NULL) {
        free(pool);
        return SV_ENOMEM;
    }
    for (unsigned i = 0; i < n_workers; i++) {
        pool->slots[i].pid = -1;
        pool->slots[i].sock = -1;
    }
    for (unsigned i = 0; i < n_workers; i++) {
        int rc = spawn_worker(pool, &pool->slots[i]);
        if (rc != 0) {
            sv_workers_destroy(pool);
            return rc;
        }
    }
    *out = pool;
    return 0;
}

void sv_workers_destroy(sv_workers *pool)
{
    if (pool == NULL)
        return;
    for (unsigned i = 0; pool->slots && i < pool->n; i++)
        close_worker(&pool->slots[i]);
    free(pool->slots);
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

int sv_workers_submit(sv_workers *pool, int fd, uint64_t tag)
{
    for (unsigned i = 0; i < pool->n; i++) {
        worker *w = &pool->slots[i];
        if (w->pid <= 0 || w->is_busy)
            continue;
        if (worker_send_fd(w->sock, fd) != 0) {
            /* It died while idle: replace it and try the next slot. */
            close_worker(w);
            if (spawn_worker(pool, w) != 0)
                continue;
            if (worker_send_fd(w->sock, fd) != 0)
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

/* The worker failed its document: reject it, replace the worker. */
static void fail_worker(sv_workers *pool, worker *w, sv_ocr_reason reason, uint64_t *tag,
                        sv_ocr_result *result)
{
    *tag = w->tag;
    reject_result(result, reason);
    close_worker(w);
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
