/*
 * test_workers.c - the OCR worker pool with real processes: frames from a
 * worker are validated field by field; a worker that hangs is killed at the
 * timeout and one that dies is replaced, and the pool keeps working.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "intake_internal.h"
#include "sv_intake.h"
#include "sv_ocr.h"

static sv_ocr_result good_result(void)
{
    sv_ocr_result r;
    memset(&r, 0, sizeof r);
    r.status = SV_OCR_INDEX;
    r.reason = SV_REASON_NONE;
    memcpy(r.mrn, "12345674", 9);
    memcpy(r.type, "lab_report", 11);
    r.pages = 2;
    r.n_candidates = 1;
    memcpy(r.candidates[0].digits, "12345674", 9);
    return r;
}

static size_t make_frame(uint8_t *buf, const sv_ocr_result *r)
{
    worker_frame_header h = {WORKER_MAGIC, WORKER_VERSION, WORKER_MSG_RESULT,
                             (uint32_t)sizeof *r};
    memcpy(buf, &h, sizeof h);
    memcpy(buf + sizeof h, r, sizeof *r);
    return sizeof h + sizeof *r;
}

static void test_frame_valid_round_trip(void **state)
{
    (void)state;
    uint8_t buf[WORKER_FRAME_MAX + 8];
    sv_ocr_result in = good_result(), out;
    size_t len = make_frame(buf, &in);
    assert_int_equal(worker_frame_decode(buf, len, &out), 0);
    assert_string_equal(out.mrn, "12345674");
    assert_int_equal(out.pages, 2);
}

static void test_frame_bad_header_truncated_trailing(void **state)
{
    (void)state;
    uint8_t buf[WORKER_FRAME_MAX + 8];
    sv_ocr_result in = good_result(), out;
    size_t len = make_frame(buf, &in);
    assert_int_equal(worker_frame_decode(buf, 3, &out), SV_ETRUNC);
    assert_int_equal(worker_frame_decode(buf, len - 1, &out), SV_ETRUNC);
    assert_int_equal(worker_frame_decode(buf, len + 1, &out), SV_EFORMAT);
    buf[0] ^= 1; /* magic */
    assert_int_equal(worker_frame_decode(buf, len, &out), SV_EFORMAT);
    buf[0] ^= 1;
    buf[4] = 9; /* version */
    assert_int_equal(worker_frame_decode(buf, len, &out), SV_EFORMAT);
    /* A rejected frame leaves no half-copied MRN behind. */
    assert_string_equal(out.mrn, "");
}

static void test_frame_fields_checked(void **state)
{
    (void)state;
    uint8_t buf[WORKER_FRAME_MAX + 8];
    sv_ocr_result out;
    sv_ocr_result bad[8];
    for (int i = 0; i < 8; i++)
        bad[i] = good_result();
    bad[0].status = (sv_ocr_status)7;
    bad[1].reason = SV_REASON_COUNT;
    memset(bad[2].mrn, '1', sizeof bad[2].mrn); /* no terminator */
    memcpy(bad[3].mrn, "1234x674", 9);          /* not digits */
    bad[4].mrn[0] = '\0';                       /* INDEX without an MRN */
    memcpy(bad[5].type, "Lab Report!", 12);     /* not a type name */
    bad[6].n_candidates = SV_OCR_MAX_CANDIDATES + 1;
    bad[7].status = SV_OCR_REVIEW;              /* REVIEW carrying an MRN */
    for (int i = 0; i < 8; i++) {
        size_t len = make_frame(buf, &bad[i]);
        assert_int_equal(worker_frame_decode(buf, len, &out), SV_EFORMAT);
    }
}

static void test_frame_bool_bytes_checked(void **state)
{
    (void)state;
    uint8_t buf[WORKER_FRAME_MAX + 8];
    sv_ocr_result in = good_result(), out;
    size_t len = make_frame(buf, &in);
    size_t at = sizeof(worker_frame_header) + offsetof(sv_ocr_result, candidates) +
                offsetof(sv_ocr_candidate, second_read_agrees);
    buf[at] = 2; /* neither false nor true */
    assert_int_equal(worker_frame_decode(buf, len, &out), SV_EFORMAT);
    buf[at] = 1;
    assert_int_equal(worker_frame_decode(buf, len, &out), 0);
}

static void test_supervisor_rechecks_filing(void **state)
{
    (void)state;
    sv_ocr_rules *rules = NULL;
    char err[256];
    assert_int_equal(sv_ocr_rules_create(&rules), 0);
    assert_int_equal(sv_ocr_rules_set(rules, "mrn", "check_digit", "luhn", err, sizeof err), 0);
    assert_int_equal(sv_ocr_rules_finish(rules, err, sizeof err), 0);

    sv_ocr_result r = good_result(); /* 12345674 is Luhn-valid */
    worker_recheck_filing(rules, &r);
    assert_int_equal(r.status, SV_OCR_INDEX);
    assert_string_equal(r.mrn, "12345674");

    r = good_result(); /* a worker claims an MRN that fails the check digit */
    memcpy(r.mrn, "12345675", 9);
    memcpy(r.candidates[0].digits, "12345675", 9);
    worker_recheck_filing(rules, &r);
    assert_int_equal(r.status, SV_OCR_REVIEW);
    assert_int_equal(r.reason, SV_REASON_BAD_CHECK_DIGIT);
    assert_string_equal(r.mrn, "");

    r = good_result(); /* a valid MRN it never reported as a candidate */
    memcpy(r.candidates[0].digits, "87654325", 9);
    worker_recheck_filing(rules, &r);
    assert_int_equal(r.status, SV_OCR_REVIEW);
    assert_string_equal(r.mrn, "");
    sv_ocr_rules_destroy(rules);
}

/* Kill every child process of this test (the workers) with SIGKILL. */
static int kill_children(void)
{
    int killed = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        char path[300], buf[512];
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL)
            continue;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        char *close_paren = strrchr(buf, ')');
        int pid = 0, ppid = 0;
        char st;
        if (close_paren && sscanf(buf, "%d", &pid) == 1 &&
            sscanf(close_paren + 1, " %c %d", &st, &ppid) == 2 && ppid == getpid()) {
            kill(pid, SIGKILL);
            killed++;
        }
    }
    if (d)
        closedir(d);
    return killed;
}

static void test_pool_timeout_and_crash(void **state)
{
    (void)state;
    sv_ocr_rules *rules = NULL;
    char err[256];
    assert_int_equal(sv_ocr_rules_create(&rules), 0);
    assert_int_equal(sv_ocr_rules_finish(rules, err, sizeof err), 0);
    sv_workers *pool = NULL;
    assert_int_equal(sv_workers_create(&pool, rules, 1, 2), 0);
    assert_int_equal(sv_workers_idle(pool), 1);

    /* A document that never ends: the read blocks until the timeout. */
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(write(p[1], "\x89PNG", 4), 4);
    assert_int_equal(sv_workers_submit(pool, p[0], 41), 0);
    assert_int_equal(sv_workers_submit(pool, p[0], 42), SV_EINVAL); /* none idle */
    uint64_t tag = 0;
    sv_ocr_result r;
    assert_int_equal(sv_workers_collect(pool, 100, &tag, &r), SV_ETIMEOUT);
    assert_int_equal(sv_workers_collect(pool, -1, &tag, &r), 0);
    assert_int_equal(tag, 41);
    assert_int_equal(r.status, SV_OCR_REJECT);
    assert_int_equal(r.reason, SV_REASON_TIMEOUT);
    assert_int_equal(sv_workers_idle(pool), 1); /* replaced */

    /* The worker is killed while it holds a document. */
    assert_int_equal(sv_workers_submit(pool, p[0], 43), 0);
    usleep(200 * 1000);
    assert_true(kill_children() >= 1);
    assert_int_equal(sv_workers_collect(pool, -1, &tag, &r), 0);
    assert_int_equal(tag, 43);
    assert_int_equal(r.reason, SV_REASON_WORKER_CRASHED);
    assert_int_equal(sv_workers_idle(pool), 1);

    /* And the replacement does real work: an empty file is rejected as such. */
    int q[2];
    assert_int_equal(pipe(q), 0);
    close(q[1]);
    assert_int_equal(sv_workers_submit(pool, q[0], 44), 0);
    assert_int_equal(sv_workers_collect(pool, -1, &tag, &r), 0);
    assert_int_equal(tag, 44);
    assert_int_equal(r.reason, SV_REASON_EMPTY_FILE);
    assert_int_equal(sv_workers_collect(pool, 0, &tag, &r), SV_ENOTFOUND);

    close(q[0]);
    close(p[0]);
    close(p[1]);
    sv_workers_destroy(pool);
    sv_ocr_rules_destroy(rules);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame_valid_round_trip),
        cmocka_unit_test(test_frame_bad_header_truncated_trailing),
        cmocka_unit_test(test_frame_fields_checked),
        cmocka_unit_test(test_frame_bool_bytes_checked),
        cmocka_unit_test(test_supervisor_rechecks_filing),
        cmocka_unit_test(test_pool_timeout_and_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
