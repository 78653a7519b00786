/*
 * test_crypto_audit.c - the hash-chained audit log, on real files: lines
 * read back as written (the longest fields too; user names cleaned); bad
 * fields refused with nothing written; the file created 0600, a
 * group-writable one refused; a torn end replaced by the next append with
 * a repair line that names its length and SHA-256; the reader's callback
 * stopping the walk; two processes and several threads appending at once
 * keep one valid chain. Tampering: test_crypto_audit_tamper.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <gcrypt.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audit_fixture.h"

static void test_round_trip(void **state)
{
    fixture *f = *state;
    time_t before = time(NULL);
    make_log(f->path, f->ring, 7);
    time_t after = time(NULL);
    collected *c = malloc(sizeof *c);
    uint64_t bad;
    assert_int_equal(read_log(f, f->path, c, &bad), 0);
    assert_int_equal(c->n, 7);
    char me[SV_AUDIT_USER_MAX + 1];
    struct passwd *pw = getpwuid(getuid());
    if (pw != NULL)
        snprintf(me, sizeof me, "%s", pw->pw_name);
    else
        snprintf(me, sizeof me, "%u", (unsigned)getuid());
    for (size_t i = 0; i < c->n; i++) {
        const sv_audit_entry *e = &c->e[i];
        char result[32];
        snprintf(result, sizeof result, "ok %zu", i);
        assert_int_equal(e->seq, i + 1);
        assert_true(e->time >= (int64_t)before && e->time <= (int64_t)after);
        assert_string_equal(e->result, result);
        if (i % 3 == 2) {
            assert_int_equal(e->uid, getuid());
            assert_string_equal(e->user, me);
            assert_string_equal(e->action, "verify");
            assert_string_equal(e->docid, "-");
        } else {
            assert_int_equal(e->uid, 1000 + i);
            assert_string_equal(e->user, "alice");
            assert_string_equal(e->action, "open");
            assert_string_equal(e->docid, docids[i % 3]);
        }
    }
    /* the anchor is the last line */
    uint64_t seq;
    uint8_t mac[SV_AUDIT_MAC_LEN];
    assert_int_equal(sv_audit_tail(f->ring, f->path, &seq, mac), 0);
    assert_int_equal(seq, 7);
    assert_memory_equal(mac, c->e[6].mac, SV_AUDIT_MAC_LEN);
    free(c);
}

/* The next append replaces a torn end with a repair line. */
static void check_repaired(fixture *f, const char *torn, size_t torn_len, int lines_before)
{
    make_log(f->path, f->ring, lines_before);
    append_bytes(f->path, torn, torn_len);
    uint64_t bad;
    assert_int_equal(read_log(f, f->path, NULL, &bad), SV_EAUTH);
    assert_int_equal(bad, (uint64_t)lines_before + 1);

    sv_audit *a = NULL;
    assert_int_equal(sv_audit_create(&a, f->ring, f->path), 0);
    int rc = sv_audit_append_as(a, 7, "bob", "print", NULL, "ok");
    if (rc != 0)
        print_error("append: %s\n", sv_crypto_last_error());
    assert_int_equal(rc, 0);
    assert_int_equal(sv_audit_append_as(a, 7, "bob", "print", NULL, "again"), 0);
    sv_audit_destroy(a);

    collected *c = malloc(sizeof *c);
    assert_int_equal(read_log(f, f->path, c, &bad), 0);
    assert_int_equal(c->n, lines_before + 3);
    const sv_audit_entry *r = &c->e[lines_before];
    assert_string_equal(r->action, SV_AUDIT_ACTION_REPAIR);
    assert_int_equal(r->uid, getuid());
    uint8_t sha[32];
    char hex[65], want[SV_AUDIT_RESULT_MAX + 1];
    gcry_md_hash_buffer(GCRY_MD_SHA256, sha, torn, torn_len);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", sha[i]);
    snprintf(want, sizeof want, "torn end of %zu bytes replaced, sha256 %s", torn_len, hex);
    assert_string_equal(r->result, want);
    assert_string_equal(c->e[lines_before + 1].result, "ok");
    assert_string_equal(c->e[lines_before + 2].result, "again");
    free(c);
    unlink(f->path);
}

static void test_torn_end_repaired(void **state)
{
    fixture *f = *state;
    /* a crash in the middle of line 4 */
    check_repaired(f, "4\t2026-11-23T10:1", 17, 3);
    /* the first line torn */
    check_repaired(f, "1\t2026", 6, 0);
    /* blocks of NUL bytes, with and without a newline at the end */
    char zeros[300] = {0};
    check_repaired(f, zeros, 200, 2);
    zeros[299] = '\n';
    check_repaired(f, zeros, 300, 2);
    /* a torn end longer than what replaces it (cut back after) */
    char big[1500];
    memset(big, 'x', sizeof big);
    check_repaired(f, big, sizeof big, 4);
    /* a log larger than what an append reads of its end */
    check_repaired(f, "61\t2026-11", 10, 60);
}

/* A write that fails part-way (here the file size limit, as a full disk
 * would) leaves no partial line: the log is as it was. */
static void test_failed_write_leaves_nothing(void **state)
{
    fixture *f = *state;
    make_log(f->path, f->ring, 3);
    struct stat before;
    assert_int_equal(stat(f->path, &before), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        sv_audit *a = NULL;
        if (sv_audit_create(&a, f->ring, f->path) != 0)
            _exit(2);
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {(rlim_t)before.st_size + 40, (rlim_t)before.st_size + 40};
        setrlimit(RLIMIT_FSIZE, &rl);
        int rc = sv_audit_append(a, "open", NULL, "a result long enough to cross the limit");
        _exit(rc == SV_EERRNO && strstr(sv_crypto_last_error(), f->path) != NULL ? 0 : 1);
    }
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    struct stat after;
    assert_int_equal(stat(f->path, &after), 0);
    assert_int_equal(after.st_size, before.st_size);
    uint64_t bad;
    assert_int_equal(read_log(f, f->path, NULL, &bad), 0);
}

static void test_bad_fields_refused(void **state)
{
    fixture *f = *state;
    sv_audit *a = NULL;
    assert_int_equal(sv_audit_create(&a, f->ring, f->path), 0);
    const char *bad_actions[] = {"", "Open", "1open", "_open", "op-en", "op en", "open\t",
                                 "abcdefghijklmnopqrstuvwxyzabcdef", SV_AUDIT_ACTION_REPAIR, NULL};
    for (size_t i = 0; i < sizeof bad_actions / sizeof bad_actions[0]; i++)
        assert_int_equal(sv_audit_append(a, bad_actions[i], NULL, "ok"), SV_EINVAL);
    char long_result[SV_AUDIT_RESULT_MAX + 2];
    memset(long_result, 'r', sizeof long_result - 1);
    long_result[sizeof long_result - 1] = '\0';
    const char *bad_results[] = {"", "a\tb", "a\nb", "a\\b", "caf\xc3\xa9", "a\rb", "\x7f",
                                 long_result};
    for (size_t i = 0; i < sizeof bad_results / sizeof bad_results[0]; i++)
        assert_int_equal(sv_audit_append(a, "open", NULL, bad_results[i]), SV_EINVAL);
    const char *bad_docids[] = {"", "-", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abc", "1234567"};
    for (size_t i = 0; i < sizeof bad_docids / sizeof bad_docids[0]; i++)
        assert_int_equal(sv_audit_append(a, "open", bad_docids[i], "ok"), SV_EINVAL);
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_size, 0);

    /* the longest fields fit; user names are cleaned, not refused */
    char user[200], result[SV_AUDIT_RESULT_MAX + 1], action[SV_AUDIT_ACTION_MAX + 1];
    memset(user, 'u', sizeof user - 1);
    user[sizeof user - 1] = '\0';
    memset(result, '~', sizeof result - 1);
    result[sizeof result - 1] = '\0';
    memset(action, 'z', sizeof action - 1);
    action[sizeof action - 1] = '\0';
    assert_int_equal(sv_audit_append_as(a, UINT32_MAX, user, action,
                                        "abcdefgh-abcdefghijklmnopqrstuvwxyz", result),
                     0);
    assert_int_equal(sv_audit_append_as(a, 5, "al\tice\xc3\xa9\\x\n", "open", NULL, NULL), 0);
    assert_int_equal(sv_audit_append_as(a, 42, NULL, "open", NULL, " spaced out "), 0);
    assert_int_equal(sv_audit_append_as(a, 43, "", "open", NULL, "ok"), 0);
    sv_audit_destroy(a);

    collected *c = malloc(sizeof *c);
    uint64_t bad;
    assert_int_equal(read_log(f, f->path, c, &bad), 0);
    assert_int_equal(c->n, 4);
    assert_int_equal(c->e[0].uid, UINT32_MAX);
    assert_int_equal(strlen(c->e[0].user), SV_AUDIT_USER_MAX);
    assert_string_equal(c->e[0].action, action);
    assert_string_equal(c->e[0].docid, "abcdefgh-abcdefghijklmnopqrstuvwxyz");
    assert_string_equal(c->e[0].result, result);
    assert_string_equal(c->e[1].user, "al?ice???x?");
    assert_string_equal(c->e[1].result, "-");
    assert_string_equal(c->e[2].user, "42");
    assert_string_equal(c->e[2].result, " spaced out ");
    assert_string_equal(c->e[3].user, "43");
    free(c);
    /* the longest line is below the limit */
    lines l;
    split_lines(f->path, &l);
    assert_true(l.line_len[0] <= SV_AUDIT_LINE_MAX);
    free(l.buf);
}

static void test_file_mode_and_paths(void **state)
{
    fixture *f = *state;
    mode_t old = umask(0);
    sv_audit *a = NULL;
    assert_int_equal(sv_audit_create(&a, f->ring, f->path), 0);
    umask(old);
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_true(S_ISREG(st.st_mode));
    sv_audit_destroy(a);
    sv_audit_destroy(NULL);

    /* an empty log is valid; its anchor is seq 0 */
    uint64_t bad, seq = 9;
    uint8_t mac[SV_AUDIT_MAC_LEN], zero[SV_AUDIT_MAC_LEN] = {0};
    assert_int_equal(read_log(f, f->path, NULL, &bad), 0);
    assert_int_equal(sv_audit_tail(f->ring, f->path, &seq, mac), 0);
    assert_int_equal(seq, 0);
    assert_memory_equal(mac, zero, sizeof mac);

    /* writable by group: refused */
    assert_int_equal(chmod(f->path, 0620), 0);
    a = (sv_audit *)1;
    assert_int_equal(sv_audit_create(&a, f->ring, f->path), SV_EPERM);
    assert_null(a);
    assert_int_equal(chmod(f->path, 0600), 0);

    char path[400];
    snprintf(path, sizeof path, "%s/missing/audit.log", f->dir);
    assert_int_equal(sv_audit_create(&a, f->ring, path), SV_ENOTFOUND);
    assert_int_equal(sv_audit_read(f->ring, path, NULL, NULL, &bad), SV_ENOTFOUND);
    assert_int_equal(sv_audit_create(&a, f->ring, f->dir), SV_EFORMAT);
    assert_int_equal(sv_audit_read(f->ring, f->dir, NULL, NULL, &bad), SV_EFORMAT);
    assert_int_equal(sv_audit_create(&a, NULL, f->path), SV_EINVAL);
    assert_int_equal(sv_audit_append(NULL, "open", NULL, "ok"), SV_EINVAL);
}

/* The callback stops the walk (> 0) or fails it (< 0). */
static int stop_at_two(const sv_audit_entry *e, void *ctx)
{
    (void)ctx;
    if (e->seq == 2)
        return 1;
    return e->seq == 3 ? SV_ENOMEM : 0;
}

static int fail_at_three(const sv_audit_entry *e, void *ctx)
{
    (void)ctx;
    return e->seq == 3 ? SV_EEXIST : 0;
}

static void test_callback_stops(void **state)
{
    fixture *f = *state;
    make_log(f->path, f->ring, 4);
    uint64_t bad = 9;
    assert_int_equal(sv_audit_read(f->ring, f->path, stop_at_two, NULL, &bad), 0);
    assert_int_equal(bad, 0);
    assert_int_equal(sv_audit_read(f->ring, f->path, fail_at_three, NULL, &bad), SV_EEXIST);
    assert_int_equal(bad, 0);
}

static void append_many(const fixture *f, uint32_t uid, int n)
{
    sv_audit *a = NULL;
    if (sv_audit_create(&a, f->ring, f->path) != 0)
        _exit(2);
    for (int i = 0; i < n; i++) {
        char result[32];
        snprintf(result, sizeof result, "n=%d", i);
        if (sv_audit_append_as(a, uid, "worker", "open", NULL, result) != 0) {
            fprintf(stderr, "append: %s\n", sv_crypto_last_error());
            _exit(3);
        }
    }
    sv_audit_destroy(a);
}

static void test_two_processes(void **state)
{
    fixture *f = *state;
    pid_t child[2];
    for (int p = 0; p < 2; p++) {
        child[p] = fork();
        assert_true(child[p] >= 0);
        if (child[p] == 0) {
            append_many(f, 1000u + (uint32_t)p, 200);
            _exit(0);
        }
    }
    for (int p = 0; p < 2; p++) {
        int status;
        assert_int_equal(waitpid(child[p], &status, 0), child[p]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    collected *c = malloc(sizeof *c);
    uint64_t bad;
    assert_int_equal(read_log(f, f->path, c, &bad), 0);
    assert_int_equal(c->n, 400);
    int per[2] = {0, 0}, next[2] = {0, 0};
    for (size_t i = 0; i < c->n; i++) {
        int p = (int)(c->e[i].uid - 1000);
        assert_true(p == 0 || p == 1);
        /* each writer's lines appear in its own order */
        char want[32];
        snprintf(want, sizeof want, "n=%d", next[p]++);
        assert_string_equal(c->e[i].result, want);
        per[p]++;
    }
    assert_int_equal(per[0], 200);
    assert_int_equal(per[1], 200);
    free(c);
}

typedef struct thread_arg {
    sv_audit *a;
    uint32_t uid;
    int rc;
} thread_arg;

static void *thread_append(void *p)
{
    thread_arg *t = p;
    for (int i = 0; i < 50 && t->rc == 0; i++)
        t->rc = sv_audit_append_as(t->a, t->uid, "thread", "open", NULL, "ok");
    return NULL;
}

static void test_threads_share_a_handle(void **state)
{
    fixture *f = *state;
    sv_audit *a = NULL;
    assert_int_equal(sv_audit_create(&a, f->ring, f->path), 0);
    pthread_t th[4];
    thread_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (thread_arg){a, (uint32_t)i, 0};
        assert_int_equal(pthread_create(&th[i], NULL, thread_append, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(args[i].rc, 0);
    }
    sv_audit_destroy(a);
    collected *c = malloc(sizeof *c);
    uint64_t bad;
    assert_int_equal(read_log(f, f->path, c, &bad), 0);
    assert_int_equal(c->n, 200);
    free(c);
}

int main(void)
{
    assert_int_equal(sv_crypto_global_init(), 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, af_setup, af_teardown),
        cmocka_unit_test_setup_teardown(test_torn_end_repaired, af_setup, af_teardown),
        cmocka_unit_test_setup_teardown(test_failed_write_leaves_nothing, af_setup, af_teardown),
        cmocka_unit_test_setup_teardown(test_bad_fields_refused, af_setup, af_teardown),
        cmocka_unit_test_setup_teardown(test_file_mode_and_paths, af_setup, af_teardown),
        cmocka_unit_test_setup_teardown(test_callback_stops, af_setup, af_teardown),
        cmocka_unit_test_setup_teardown(test_two_processes, af_setup, af_teardown),
        cmocka_unit_test_setup_teardown(test_threads_share_a_handle, af_setup, af_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
