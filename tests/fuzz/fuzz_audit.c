/*
 * fuzz_audit.c - libFuzzer harness for the audit log reader and the
 * appender's reading of the end of the file, the two parsers of the audit
 * log (an untrusted file: anyone who can write it can put anything in it).
 *
 * Each input is the whole log file (a memfd, opened by path as
 * /proc/self/fd/N), under a fixed fuzzing key:
 *   1. sv_audit_read() walks it; every line it passes on must print back,
 *      with an independent formatter (docs/audit-format.md), to exactly the
 *      input's bytes (one spelling per log), and on SV_EAUTH the bad line
 *      is the one after the last line passed on;
 *   2. sv_audit_tail() must agree with a log that read as valid;
 *   3. an append must succeed on a valid log and leave it valid with one
 *      more line, and must never make an earlier line bad.
 * The seeds in corpus/audit/ are logs written under the fuzzing key (valid,
 * repaired after a torn end, torn, longest fields), so mutations start from
 * lines whose MACs verify.
 *
 * To rewrite the seeds: SV_FUZZ_AUDIT_SEEDS=tests/fuzz/corpus/audit
 * build/tests/fuzz_audit_replay /dev/null   (or the libFuzzer binary).
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sv_crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sv_keyring *ring;
static sv_audit *appender;
static int memfd = -1;
static char memfd_path[64];

/* --------------------------------- seeds -------------------------------- */

static void check(int rc, const char *what)
{
    if (rc != 0) {
        fprintf(stderr, "%s: %s\n", what, sv_crypto_last_error());
        exit(1);
    }
}

static void copy_seed(const char *from, const char *dir, const char *name)
{
    char path[4096], buf[1 << 16];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *in = fopen(from, "rb"), *out = fopen(path, "wb");
    if (in == NULL || out == NULL) {
        perror(path);
        exit(1);
    }
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            exit(1);
    fclose(in);
    if (fclose(out) != 0)
        exit(1);
}

static void append_raw(const char *path, const char *bytes, size_t len)
{
    FILE *fp = fopen(path, "ab");
    if (fp == NULL || fwrite(bytes, 1, len, fp) != len || fclose(fp) != 0)
        exit(1);
}

static void write_seeds(const char *seeds)
{
    char dir[] = "/tmp/fuzz_audit_seeds.XXXXXX", path[4096];
    if (mkdtemp(dir) == NULL)
        exit(1);
    snprintf(path, sizeof path, "%s/audit.log", dir);
    sv_audit *a = NULL;
    check(sv_audit_create(&a, ring, path), "create");
    check(sv_audit_append_as(a, 1000, "alice", "open", "abcdefghijklmnopqrstuvwxyz", "ok"), "a");
    check(sv_audit_append_as(a, 0, "root", "rewrap", NULL, "key 0f9bb5b2ab70d7cf"), "a");
    check(sv_audit_append_as(a, 1001, "bob", "print", "site1-bbcdefghijklmnopqrstuvwxyz",
                             "denied: not_reviewer"),
          "a");
    copy_seed(path, seeds, "log-valid");
    append_raw(path, "4\t2026-11-23T10:1", 17);
    copy_seed(path, seeds, "torn");
    check(sv_audit_append_as(a, 1002, "carol", "review", NULL, "filed"), "a");
    copy_seed(path, seeds, "log-repaired");
    sv_audit_destroy(a);
    unlink(path);
    char user[SV_AUDIT_USER_MAX + 1], action[SV_AUDIT_ACTION_MAX + 1],
        result[SV_AUDIT_RESULT_MAX + 1];
    memset(user, 'u', SV_AUDIT_USER_MAX);
    user[SV_AUDIT_USER_MAX] = '\0';
    memset(action, 'z', SV_AUDIT_ACTION_MAX);
    action[SV_AUDIT_ACTION_MAX] = '\0';
    memset(result, '~', SV_AUDIT_RESULT_MAX);
    result[SV_AUDIT_RESULT_MAX] = '\0';
    check(sv_audit_create(&a, ring, path), "create");
    check(sv_audit_append_as(a, UINT32_MAX, user, action, "abcdefgh-abcdefghijklmnopqrstuvwxyz",
                             result),
          "a");
    check(sv_audit_append_as(a, 7, "x y", "a", NULL, NULL), "a");
    copy_seed(path, seeds, "log-longest");
    sv_audit_destroy(a);
    unlink(path);
    rmdir(dir);
    fprintf(stderr, "seeds written to %s\n", seeds);
    exit(0);
}

static void init_once(void)
{
    if (ring != NULL)
        return;
    /* The same fixed key as fuzz_vault, so seeds made once stay valid. */
    uint8_t key[SV_KEY_LEN];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)(0xa0 + i);
    if (sv_crypto_global_init() != 0 || sv_keyring_from_bytes(&ring, key) != 0)
        abort();
    const char *seeds = getenv("SV_FUZZ_AUDIT_SEEDS");
    if (seeds != NULL && seeds[0] != '\0')
        write_seeds(seeds);
    memfd = memfd_create("fuzz_audit", MFD_CLOEXEC);
    if (memfd < 0 || fchmod(memfd, 0600) != 0)
        abort();
    snprintf(memfd_path, sizeof memfd_path, "/proc/self/fd/%d", memfd);
    if (sv_audit_create(&appender, ring, memfd_path) != 0) {
        fprintf(stderr, "%s\n", sv_crypto_last_error());
        abort();
    }
}

/* ------------------------------- checks -------------------------------- */

/* Follows sv_audit_read along the input. */
typedef struct follower {
    const uint8_t *data;
    size_t size;
    size_t pos;      /* where the next line starts */
    uint64_t n;      /* lines passed on */
    uint8_t last_mac[SV_AUDIT_MAC_LEN];
} follower;

/* The line of e as docs/audit-format.md spells it, written independently
 * of crypto/audit_line.c. */
static size_t print_line(const sv_audit_entry *e, char *out, size_t cap)
{
    time_t t = (time_t)e->time;
    struct tm tm;
    char when[32];
    if (gmtime_r(&t, &tm) == NULL || strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm) != 20)
        abort();
    int n = snprintf(out, cap, "%" PRIu64 "\t%s\t%" PRIu32 "\t%s\t%s\t%s\t%s\t", e->seq, when,
                     e->uid, e->user, e->action, e->docid, e->result);
    if (n < 0 || (size_t)n + 66 > cap)
        abort();
    for (int i = 0; i < SV_AUDIT_MAC_LEN; i++)
        snprintf(out + n + 2 * i, 3, "%02x", e->mac[i]);
    out[n + 64] = '\n';
    return (size_t)n + 65;
}

static int follow(const sv_audit_entry *e, void *ctx)
{
    follower *f = ctx;
    char line[2 * SV_AUDIT_LINE_MAX];
    size_t len = print_line(e, line, sizeof line);
    if (len > SV_AUDIT_LINE_MAX || e->seq != f->n + 1 || f->size - f->pos < len ||
        memcmp(f->data + f->pos, line, len) != 0)
        abort();
    f->pos += len;
    f->n++;
    memcpy(f->last_mac, e->mac, sizeof f->last_mac);
    return 0;
}

/* Read the memfd's log; returns the code, fills *f and *bad. */
static int read_log(const uint8_t *data, size_t size, follower *f, uint64_t *bad)
{
    memset(f, 0, sizeof *f);
    f->data = data;
    f->size = size;
    int rc = sv_audit_read(ring, memfd_path, follow, f, bad);
    if (rc == 0 && (*bad != 0 || f->pos != size))
        abort();
    if (rc == SV_EAUTH && *bad != f->n + 1)
        abort();
    if (rc != 0 && rc != SV_EAUTH)
        abort();
    return rc;
}

static uint8_t *file_bytes(size_t *len)
{
    struct stat st;
    if (fstat(memfd, &st) != 0)
        abort();
    uint8_t *buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL || pread(memfd, buf, (size_t)st.st_size, 0) != st.st_size)
        abort();
    *len = (size_t)st.st_size;
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_once();
    if (ftruncate(memfd, 0) != 0 || pwrite(memfd, data, size, 0) != (ssize_t)size)
        abort();
    follower f;
    uint64_t bad;
    int rc = read_log(data, size, &f, &bad);

    uint64_t seq;
    uint8_t mac[SV_AUDIT_MAC_LEN];
    int tail_rc = sv_audit_tail(ring, memfd_path, &seq, mac);
    if (rc == 0 && (tail_rc != 0 || seq != f.n || memcmp(mac, f.last_mac, sizeof mac) != 0))
        abort();

    int append_rc = sv_audit_append_as(appender, 1, "fuzz", "fuzz", NULL, "ok");
    if (rc == 0 && append_rc != 0)
        abort();
    if (append_rc == 0) {
        size_t len;
        uint8_t *now = file_bytes(&len);
        follower g;
        uint64_t bad_after;
        int rc_after = read_log(now, len, &g, &bad_after);
        if (rc == 0 && (rc_after != 0 || g.n != f.n + 1))
            abort();
        /* An append rewrites only a torn end, after every good line. */
        if (rc == SV_EAUTH && rc_after == SV_EAUTH && bad_after < bad)
            abort();
        if (sv_audit_tail(ring, memfd_path, &seq, mac) != 0)
            abort();
        free(now);
    }
    return 0;
}
