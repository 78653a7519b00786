/*
 * test_crypto_durable.c - crash safety with real kill -9: a writer killed in
 * the middle of a stream, at random points of a seal, and at random points
 * of a key rotation leaves either no object / the old object, or the whole
 * new one; never a part under the final name. Also the error paths: a read
 * error and a write error (file size limit) leave no temp file and no
 * object; the start-up cleanup removes only temp files.
 *
 * SV_TEST_KILL_ROUNDS sets the number of random kills (default 40).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_crypto_util.h"

typedef tc_vault fixture;

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int kill_rounds(void)
{
    const char *s = getenv("SV_TEST_KILL_ROUNDS");
    long n = s != NULL ? strtol(s, NULL, 10) : 40;
    return n > 0 ? (int)n : 40;
}

/* Is docid's object absent (0) or whole and equal to data (1)? Anything
 * else fails the test. */
static int absent_or_whole(fixture *f, const sv_keyring *ring, const char *docid,
                           const uint8_t *data, size_t len)
{
    tc_buf out = {0};
    int rc = sv_vault_open(f->vault, ring, docid, tc_buf_sink, &out, NULL,
                           SV_VAULT_CHECK_CONTENT);
    if (rc == SV_ENOTFOUND) {
        tc_buf_free(&out);
        return 0;
    }
    if (rc != 0)
        print_error("object %s: %s\n", docid, sv_crypto_last_error());
    assert_int_equal(rc, 0);
    assert_int_equal(out.len, len);
    assert_memory_equal(out.data, data, len);
    tc_buf_free(&out);
    return 1;
}

static void test_kill_mid_stream(void **state)
{
    fixture *f = *state;
    const size_t total = 3u << 20, fed = 1u << 20;
    uint8_t *data = malloc(total);
    uint64_t seed = 1;
    tc_fill(data, total, &seed);
    const char *docid = "abcdefghijklmnopqrstuvwxyz";
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        close(p[1]);
        sv_vault_meta m;
        tc_meta(&m, docid, data, total);
        _exit(sv_vault_seal_fd(f->vault, f->ring, p[0], &m, NULL) == 0 ? 0 : 1);
    }
    close(p[0]);
    /* The pipe holds 64 KiB: once this write returns, the child has read
     * most of it and is writing chunks into its temp file. */
    for (size_t done = 0; done < fed;) {
        ssize_t n = write(p[1], data + done, fed - done);
        assert_true(n > 0);
        done += (size_t)n;
    }
    assert_int_equal(kill(child, SIGKILL), 0);
    int st;
    assert_int_equal(waitpid(child, &st, 0), child);
    assert_true(WIFSIGNALED(st));
    close(p[1]);
    assert_int_equal(absent_or_whole(f, f->ring, docid, data, total), 0);
    assert_int_equal(tc_tmp_entries(f), 1);
    size_t removed = 0;
    assert_int_equal(sv_vault_clean_tmp(f->vault, &removed), 0);
    assert_int_equal(removed, 1);
    assert_int_equal(tc_tmp_entries(f), 0);
    /* and the document can be sealed afterwards */
    assert_int_equal(tc_seal(f->vault, f->ring, docid, data, total, 0), 0);
    assert_int_equal(absent_or_whole(f, f->ring, docid, data, total), 1);
    free(data);
}

static void test_kill_seal_at_random_points(void **state)
{
    fixture *f = *state;
    const size_t len = 2u << 20;
    uint8_t *data = malloc(len);
    uint64_t seed = 2;
    tc_fill(data, len, &seed);
    char docid[SV_DOCID_MAX + 1];
    /* how long one seal takes here, fsync included */
    assert_int_equal(sv_docid_generate(NULL, docid), 0);
    double t0 = now_us();
    assert_int_equal(tc_seal(f->vault, f->ring, docid, data, len, 0), 0);
    double span = now_us() - t0;
    unsigned rnd = 20251123;
    int rounds = kill_rounds(), whole = 0, absent = 0;
    for (int i = 0; i < rounds; i++) {
        assert_int_equal(sv_docid_generate(NULL, docid), 0);
        pid_t child = fork();
        assert_true(child >= 0);
        if (child == 0)
            _exit(tc_seal(f->vault, f->ring, docid, data, len, 0) == 0 ? 0 : 1);
        useconds_t delay = (useconds_t)(span * 1.3 * (double)(rand_r(&rnd) % 1000) / 1000.0);
        usleep(delay);
        kill(child, SIGKILL);
        int st;
        assert_int_equal(waitpid(child, &st, 0), child);
        if (absent_or_whole(f, f->ring, docid, data, len) == 1)
            whole++;
        else
            absent++;
    }
    size_t removed = 0;
    assert_int_equal(sv_vault_clean_tmp(f->vault, &removed), 0);
    assert_int_equal(tc_tmp_entries(f), 0);
    print_message("seal %.0f us; %d kills: %d whole, %d absent, %zu temp files cleaned\n", span,
                  rounds, whole, absent, removed);
    free(data);
}

static void test_kill_rewrap_at_random_points(void **state)
{
    fixture *f = *state;
    const size_t len = 2u << 20;
    uint8_t *data = malloc(len);
    uint64_t seed = 3;
    tc_fill(data, len, &seed);
    const char *docid = "bbcdefghijklmnopqrstuvwxyz";
    assert_int_equal(tc_seal(f->vault, f->ring, docid, data, len, 0), 0);
    sv_keyring *rings[2] = {f->ring, tc_ring(0x71)};
    int holder = 0;
    double t0 = now_us();
    assert_int_equal(sv_vault_rewrap(f->vault, rings[0], rings[1], docid), 0);
    double span = now_us() - t0;
    holder = 1;
    unsigned rnd = 7;
    int rounds = kill_rounds(), moved = 0;
    for (int i = 0; i < rounds; i++) {
        pid_t child = fork();
        assert_true(child >= 0);
        if (child == 0)
            _exit(sv_vault_rewrap(f->vault, rings[holder], rings[1 - holder], docid) == 0 ? 0
                                                                                         : 1);
        usleep((useconds_t)(span * 1.3 * (double)(rand_r(&rnd) % 1000) / 1000.0));
        kill(child, SIGKILL);
        int st;
        assert_int_equal(waitpid(child, &st, 0), child);
        /* exactly one of the two keys opens it, and the body is whole */
        sv_vault_meta meta;
        int old_rc = sv_vault_read_meta(f->vault, rings[holder], docid, &meta);
        int new_rc = sv_vault_read_meta(f->vault, rings[1 - holder], docid, &meta);
        assert_true((old_rc == 0) != (new_rc == 0));
        assert_int_equal(old_rc == 0 ? new_rc : old_rc, SV_EKEY);
        if (new_rc == 0) {
            holder = 1 - holder;
            moved++;
        }
        assert_int_equal(absent_or_whole(f, rings[holder], docid, data, len), 1);
    }
    assert_int_equal(sv_vault_clean_tmp(f->vault, NULL), 0);
    print_message("rewrap %.0f us; %d kills: %d completed\n", span, rounds, moved);
    sv_keyring_destroy(rings[1]);
    free(data);
}

static void test_error_paths_leave_nothing(void **state)
{
    fixture *f = *state;
    const char *docid = "cbcdefghijklmnopqrstuvwxyz";
    sv_vault_meta m;
    tc_meta(&m, docid, NULL, 0);
    /* a read error: a directory as input */
    int dir = open(f->dir, O_RDONLY | O_DIRECTORY);
    assert_true(dir >= 0);
    assert_int_equal(sv_vault_seal_fd(f->vault, f->ring, dir, &m, NULL), SV_EERRNO);
    close(dir);
    assert_int_equal(tc_tmp_entries(f), 0);
    assert_int_equal(absent_or_whole(f, f->ring, docid, NULL, 0), 0);

    /* a write error: a file size limit below the object's size */
    const size_t len = 1u << 20;
    uint8_t *data = malloc(len);
    uint64_t seed = 4;
    tc_fill(data, len, &seed);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        tc_meta(&m, docid, data, len);
        int in = tc_memfd(data, len); /* before the limit: a memfd is a file too */
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {100000, 100000};
        setrlimit(RLIMIT_FSIZE, &rl);
        int rc = sv_vault_seal_fd(f->vault, f->ring, in, &m, NULL);
        _exit(rc == SV_EERRNO ? 0 : 1);
    }
    int st;
    assert_int_equal(waitpid(child, &st, 0), child);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_int_equal(tc_tmp_entries(f), 0);
    assert_int_equal(absent_or_whole(f, f->ring, docid, data, len), 0);

    /* the cleanup removes temp files only */
    char path[512];
    snprintf(path, sizeof path, "%s/tmp/keep-me", f->vault_dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    close(fd);
    snprintf(path, sizeof path, "%s/tmp/%s.0011223344556677.tmp", f->vault_dir, docid);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    close(fd);
    size_t removed = 0;
    assert_int_equal(sv_vault_clean_tmp(f->vault, &removed), 0);
    assert_int_equal(removed, 1);
    assert_int_equal(tc_tmp_entries(f), 1);
    free(data);
}

int main(void)
{
    assert_int_equal(sv_crypto_global_init(), 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_kill_mid_stream, tc_vault_setup, tc_vault_teardown),
        cmocka_unit_test_setup_teardown(test_kill_seal_at_random_points, tc_vault_setup,
                                        tc_vault_teardown),
        cmocka_unit_test_setup_teardown(test_kill_rewrap_at_random_points, tc_vault_setup,
                                        tc_vault_teardown),
        cmocka_unit_test_setup_teardown(test_error_paths_leave_nothing, tc_vault_setup,
                                        tc_vault_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
