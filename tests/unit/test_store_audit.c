/*
 * test_store_audit.c - sv_store_audit_read() and sv_store_audit_verify() on
 * a real data directory: filters and a callback that stops, the line each
 * call appends, a kept anchor (missing, other MAC), a chain broken in the
 * middle (logged) and at the end (the append is refused and reported), and
 * rotation archives written through the crypto API under keys the store
 * does not hold: intact two deep, changed, wrong line count, malformed.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sv_crypto.h"
#include "sv_intake.h"
#include "test_crypto_util.h"

#define DOCID "abcdefghijklmnopqrstuvwxyz"

typedef struct fixture {
    char dir[256];
    char data[300];
    char audit_dir[320];
    char log[340];
    sv_store *store;
} fixture;

static void make_dir(const char *base, const char *sub)
{
    char path[400];
    snprintf(path, sizeof path, "%s/%s", base, sub);
    assert_int_equal(mkdir(path, 0700), 0);
}

/* A data directory as `scanvault init` makes it, opened as a store. */
static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    tc_mkdtemp(f->dir);
    snprintf(f->data, sizeof f->data, "%s/data", f->dir);
    assert_int_equal(mkdir(f->data, 0700), 0);
    static const char *const dirs[] = {"keys", "index", "spool", "spool/claimed", "audit"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
        make_dir(f->data, dirs[i]);
    char path[400];
    snprintf(path, sizeof path, "%s/vault", f->data);
    assert_int_equal(sv_vault_init_dir(path), 0);
    sv_keyring *ring = NULL;
    assert_int_equal(sv_keyring_generate(&ring), 0);
    snprintf(path, sizeof path, "%s/keys/scanvault.key", f->data);
    assert_int_equal(sv_keyring_save(ring, path), 0);
    sv_keyring_destroy(ring);
    snprintf(f->audit_dir, sizeof f->audit_dir, "%s/audit", f->data);
    snprintf(f->log, sizeof f->log, "%s/audit.log", f->audit_dir);
    sv_store_options o = {.data_dir = f->data};
    if (sv_store_create(&f->store, &o) != 0)
        fail_msg("store: %s", sv_intake_last_error());
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sv_store_destroy(f->store);
    tc_rm_rf(f->dir);
    free(f);
    return 0;
}

static void append(fixture *f, const char *action, const char *docid, const char *result)
{
    assert_int_equal(sv_audit_append_as(sv_store_audit(f->store), 1000, "alice", action, docid,
                                        result),
                     0);
}

static uint64_t tail_seq(fixture *f)
{
    uint64_t seq = 0;
    uint8_t mac[SV_AUDIT_MAC_LEN];
    assert_int_equal(sv_audit_tail(sv_store_keyring(f->store), f->log, &seq, mac), 0);
    return seq;
}

/* The last line's result field. */
static void last_result(fixture *f, char *out, size_t len)
{
    size_t n = 0;
    uint8_t *data = tc_read_file(f->log, &n);
    assert_true(n > 1 && data[n - 1] == '\n');
    size_t start = n - 1;
    while (start > 0 && data[start - 1] != '\n')
        start--;
    /* Fields 7 of 8: between the 6th and the 7th tab. */
    size_t tabs = 0, from = 0, to = 0;
    for (size_t i = start; i < n - 1; i++) {
        if (data[i] != '\t')
            continue;
        tabs++;
        if (tabs == 6)
            from = i + 1;
        if (tabs == 7)
            to = i;
    }
    assert_true(to > from && to - from < len);
    memcpy(out, data + from, to - from);
    out[to - from] = '\0';
    free(data);
}

typedef struct seen {
    uint64_t seq[64];
    size_t n;
    size_t stop_after; /* 0: never */
} seen;

static int remember(const sv_audit_entry *e, void *ctx)
{
    seen *s = ctx;
    assert_true(s->n < 64);
    s->seq[s->n++] = e->seq;
    return s->stop_after != 0 && s->n == s->stop_after ? 1 : 0;
}

static void test_read_filters(void **state)
{
    fixture *f = *state;
    append(f, "open", DOCID, "ok");
    append(f, "print", DOCID, "ok");
    append(f, "open", NULL, "ok");
    sv_store_audit_report rep;
    seen s = {0};
    sv_store_audit_filter by_action = {.action = "open"};
    assert_int_equal(sv_store_audit_read(f->store, &by_action, remember, &s, &rep), 0);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.seq[0], 1);
    assert_int_equal(s.seq[1], 3);
    assert_int_equal(rep.lines, 3);
    assert_int_equal(rep.shown, 2);
    assert_int_equal(rep.verdict, SV_STORE_AUDIT_OK);
    assert_int_equal(rep.logged, 0);
    char result[256];
    last_result(f, result, sizeof result);
    assert_string_equal(result, "lines=3 shown=2 ok");

    memset(&s, 0, sizeof s);
    sv_store_audit_filter by_docid = {.docid = DOCID};
    assert_int_equal(sv_store_audit_read(f->store, &by_docid, remember, &s, &rep), 0);
    assert_int_equal(s.n, 2);
    memset(&s, 0, sizeof s);
    sv_store_audit_filter none = {.docid = "-", .action = "open"};
    assert_int_equal(sv_store_audit_read(f->store, &none, remember, &s, &rep), 0);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.seq[0], 3);
    memset(&s, 0, sizeof s);
    sv_store_audit_filter long_ago = {.from = 86400, .to = 2 * 86400};
    assert_int_equal(sv_store_audit_read(f->store, &long_ago, remember, &s, &rep), 0);
    assert_int_equal(s.n, 0);
    assert_int_equal(rep.lines, 6);

    /* The callback stops: the read says so. */
    memset(&s, 0, sizeof s);
    s.stop_after = 2;
    assert_int_equal(sv_store_audit_read(f->store, NULL, remember, &s, &rep), 0);
    assert_int_equal(rep.shown, 2);
    last_result(f, result, sizeof result);
    assert_string_equal(result, "lines=2 shown=2 stopped");

    /* A bad filter reads and logs nothing. */
    uint64_t before = tail_seq(f);
    sv_store_audit_filter bad_action = {.action = "Open"};
    sv_store_audit_filter bad_docid = {.docid = "nope"};
    sv_store_audit_filter bad_range = {.from = 2 * 86400, .to = 86400};
    assert_int_equal(sv_store_audit_read(f->store, &bad_action, remember, &s, &rep), SV_EINVAL);
    assert_int_equal(sv_store_audit_read(f->store, &bad_docid, remember, &s, &rep), SV_EINVAL);
    assert_int_equal(sv_store_audit_read(f->store, &bad_range, remember, &s, &rep), SV_EINVAL);
    assert_int_equal(tail_seq(f), before);
}

static void test_verify_and_anchor(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < 4; i++)
        append(f, "open", DOCID, "ok");
    sv_store_audit_report rep;
    assert_int_equal(sv_store_audit_verify(f->store, NULL, &rep), 0);
    assert_int_equal(rep.lines, 4);
    assert_int_equal(rep.anchor_seq, 4);
    assert_true(rep.first_time > 0 && rep.last_time >= rep.first_time);
    char result[256];
    last_result(f, result, sizeof result);
    assert_string_equal(result, "lines=4 ok");

    sv_store_audit_verify_options o = {.anchor_seq = rep.anchor_seq};
    memcpy(o.anchor_mac, rep.anchor_mac, sizeof o.anchor_mac);
    assert_int_equal(sv_store_audit_verify(f->store, &o, &rep), 0);
    assert_int_equal(rep.verdict, SV_STORE_AUDIT_OK);

    o.anchor_mac[0] ^= 1;
    assert_int_equal(sv_store_audit_verify(f->store, &o, &rep), SV_EAUTH);
    assert_int_equal(rep.verdict, SV_STORE_AUDIT_ANCHOR_DIFFERS);
    last_result(f, result, sizeof result);
    assert_string_equal(result, "lines=6 bad_anchor=4");

    o.anchor_seq = 100;
    assert_int_equal(sv_store_audit_verify(f->store, &o, &rep), SV_EAUTH);
    assert_int_equal(rep.verdict, SV_STORE_AUDIT_ANCHOR_MISSING);
    assert_non_null(strstr(sv_intake_last_error(), "cut back"));
}

/* Put c at offset from the start of the file (>= 0) or its end (< 0);
 * returns the byte that was there. */
static char put_byte(const char *path, long offset, char c)
{
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    off_t at = offset >= 0 ? (off_t)offset : lseek(fd, 0, SEEK_END) + (off_t)offset;
    char was;
    assert_int_equal(pread(fd, &was, 1, at), 1);
    assert_int_equal(pwrite(fd, &c, 1, at), 1);
    close(fd);
    return was;
}

/* Change the byte at offset to one it is not; returns the old one. */
static char change_byte(const char *path, long offset)
{
    char was = put_byte(path, offset, 'a');
    if (was == 'a')
        put_byte(path, offset, 'b');
    return was;
}

static void test_broken_chain(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < 5; i++)
        append(f, "open", DOCID, "ok");
    /* Line 1 is shorter than 200 bytes: offset 250 is in line 2 or 3. */
    size_t n = 0;
    uint8_t *data = tc_read_file(f->log, &n);
    const uint8_t *nl = memchr(data, '\n', n);
    assert_non_null(nl);
    long line2 = (long)(nl - data) + 1;
    free(data);
    change_byte(f->log, line2 + 3);
    sv_store_audit_report rep;
    seen s = {0};
    assert_int_equal(sv_store_audit_read(f->store, NULL, remember, &s, &rep), SV_EAUTH);
    assert_int_equal(s.n, 1);
    assert_int_equal(rep.bad_line, 2);
    assert_int_equal(rep.verdict, SV_STORE_AUDIT_BROKEN);
    assert_int_equal(rep.logged, 0); /* the end is intact: logged */
    assert_int_equal(sv_store_audit_verify(f->store, NULL, &rep), SV_EAUTH);
    assert_int_equal(rep.bad_line, 2);
    assert_non_null(strstr(sv_intake_last_error(), "line 2"));
    char result[256];
    last_result(f, result, sizeof result);
    assert_string_equal(result, "lines=1 bad_line=2");

    /* The end damaged: the verify is not logged, and says so. */
    uint64_t before = tail_seq(f);
    char was = change_byte(f->log, -3); /* in the last MAC */
    assert_int_equal(sv_store_audit_verify(f->store, NULL, &rep), SV_EAUTH);
    assert_int_equal(rep.bad_line, 2);
    assert_int_equal(rep.logged, SV_EAUTH);
    assert_non_null(strstr(sv_intake_last_error(), "could not be recorded"));
    put_byte(f->log, -3, was);
    assert_int_equal(tail_seq(f), before);
}

/* A log of n lines under ring at dir/name, beginning with first_result as an
 * audit_rotate line when not NULL. */
static void write_old_log(const char *dir, const char *name, const sv_keyring *ring,
                          const char *first_result, int n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    sv_audit *log = NULL;
    assert_int_equal(sv_audit_create(&log, ring, path), 0);
    if (first_result != NULL)
        assert_int_equal(sv_audit_append(log, SV_STORE_AUDIT_ACTION_ROTATE, NULL, first_result), 0);
    for (int i = 0; i < n; i++)
        assert_int_equal(sv_audit_append(log, "open", DOCID, "ok"), 0);
    sv_audit_destroy(log);
}

/* The rotation line's result that pins dir/<archive name of ring>. */
static void pin_of(const char *dir, const sv_keyring *ring, char *name, size_t name_len,
                   char *result, size_t len, long lines_delta)
{
    char id[SV_KEY_ID_HEX_LEN + 1], path[512], hex[2 * SV_SHA256_LEN + 1];
    sv_keyring_id_hex(ring, id);
    snprintf(name, name_len, "audit-%s.log", id);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    uint8_t sha[SV_SHA256_LEN];
    uint64_t size = 0;
    assert_int_equal(sv_crypto_sha256_fd(fd, sha, &size), 0);
    close(fd);
    size_t n = 0;
    uint8_t *data = tc_read_file(path, &n);
    long lines = 0;
    for (size_t i = 0; i < n; i++)
        lines += data[i] == '\n';
    free(data);
    for (size_t i = 0; i < SV_SHA256_LEN; i++)
        snprintf(hex + 2 * i, 3, "%02x", sha[i]);
    snprintf(result, len, "archive=%s lines=%ld sha256=%s", name, lines + lines_delta, hex);
}

static void test_archives(void **state)
{
    fixture *f = *state;
    sv_keyring *oldest = tc_ring(0x10), *old = tc_ring(0x40);
    char oldest_name[64], old_name[64], pin[256], id[SV_KEY_ID_HEX_LEN + 1];
    /* Two rotations: oldest (3 lines) <- old (rotation + 2) <- the store's log. */
    sv_keyring_id_hex(oldest, id);
    snprintf(oldest_name, sizeof oldest_name, "audit-%s.log", id);
    write_old_log(f->audit_dir, oldest_name, oldest, NULL, 3);
    pin_of(f->audit_dir, oldest, oldest_name, sizeof oldest_name, pin, sizeof pin, 0);
    sv_keyring_id_hex(old, id);
    snprintf(old_name, sizeof old_name, "audit-%s.log", id);
    write_old_log(f->audit_dir, old_name, old, pin, 2);
    pin_of(f->audit_dir, old, old_name, sizeof old_name, pin, sizeof pin, 0);
    append(f, SV_STORE_AUDIT_ACTION_ROTATE, NULL, pin);
    append(f, "open", DOCID, "ok");

    sv_store_audit_report rep;
    char was;
    assert_int_equal(sv_store_audit_verify(f->store, NULL, &rep), 0);
    assert_int_equal(rep.rotations, 1);
    assert_int_equal(rep.archives, 2);
    assert_int_equal(rep.archive_lines, 3 + 3);
    char result[256];
    last_result(f, result, sizeof result);
    assert_string_equal(result, "lines=2 ok archives=2");

    /* The oldest archive changed: found through the first line of the other. */
    char path[512];
    snprintf(path, sizeof path, "%s/%s", f->audit_dir, oldest_name);
    was = change_byte(path, 30);
    assert_int_equal(sv_store_audit_verify(f->store, NULL, &rep), SV_EAUTH);
    assert_int_equal(rep.verdict, SV_STORE_AUDIT_ARCHIVE);
    assert_string_equal(rep.bad_archive, oldest_name);
    assert_int_equal(rep.bad_archive_line, 1);
    assert_int_equal(rep.archives, 1);
    assert_non_null(strstr(sv_intake_last_error(), old_name));
    put_byte(path, 30, was);
    assert_int_equal(sv_store_audit_verify(f->store, NULL, &rep), 0);

    /* A rotation line with the right hash but another line count. */
    pin_of(f->audit_dir, old, old_name, sizeof old_name, pin, sizeof pin, 1);
    append(f, SV_STORE_AUDIT_ACTION_ROTATE, NULL, pin);
    assert_int_equal(sv_store_audit_verify(f->store, NULL, &rep), SV_EAUTH);
    assert_int_equal(rep.verdict, SV_STORE_AUDIT_ARCHIVE);
    assert_int_equal(rep.bad_archive_line, 6);
    assert_non_null(strstr(sv_intake_last_error(), "lines"));

    /* A rotation line that names no archive file as it should. */
    sv_store_destroy(f->store);
    f->store = NULL;
    assert_int_equal(unlink(f->log), 0);
    sv_store_options o = {.data_dir = f->data};
    assert_int_equal(sv_store_create(&f->store, &o), 0);
    append(f, SV_STORE_AUDIT_ACTION_ROTATE, NULL, "archive=audit-../../etc.log lines=1 sha256=00");
    assert_int_equal(sv_store_audit_verify(f->store, NULL, &rep), SV_EAUTH);
    assert_int_equal(rep.verdict, SV_STORE_AUDIT_ARCHIVE);
    assert_string_equal(rep.bad_archive, "");
    last_result(f, result, sizeof result);
    assert_string_equal(result, "lines=1 bad_archive=-");
    sv_keyring_destroy(oldest);
    sv_keyring_destroy(old);
}

int main(void)
{
    assert_int_equal(sv_crypto_global_init(), 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_read_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_and_anchor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_broken_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_archives, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
