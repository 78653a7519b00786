/*
 * test_workers.c - the OCR worker pool with real scanvault-ocr processes:
 * frames from a worker are validated field by field; the rules reach the
 * worker whole; a worker that hangs is killed at the timeout and one that
 * dies is replaced, and the pool keeps working; a PDF whose fonts the
 * sandboxed worker cannot load goes to review. The sandbox itself is tested
 * in test_worker_sandbox.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
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

/* Every configuration key, set to a value other than its default: each must
 * reach the worker (change the encoding), and decode to the same rules. */
static const char *const every_key[][3] = {
    {"mrn", "labels", "Chart No"},
    {"mrn", "min_length", "7"},
    {"mrn", "max_length", "9"},
    {"mrn", "check_digit", "luhn"},
    {"mrn", "min_char_confidence", "85"},
    {"mrn", "require_second_read", "false"},
    {"mrn", "barcode_alone", "true"},
    {"mrn", "handwriting_irregularity", "0.07"},
    {"types", "min_score", "13"},
    {"types", "title_factor", "2.5"},
    {"types", "margin", "1.6"},
    {"types", "lab_report", "lab report:12, analyte:3"},
    {"types", "consent_form", "consent:10"},
    {"ocr", "max_file_bytes", "50M"},
    {"ocr", "max_page_pixels", "50000000"},
    {"ocr", "max_pages", "40"},
    {"ocr", "pdf_dpi", "200"},
    {"ocr", "ocr_dpi", "300"},
    {"ocr", "detect_orientation", "false"},
    {"ocr", "deskew", "false"},
    {"ocr", "timeout_seconds", "60"},
    {"ocr", "worker_memory", "3G"},
};

static size_t encode(const sv_ocr_rules *rules, uint8_t *buf)
{
    size_t len = 0;
    assert_int_equal(sv_ocr_rules_encode(rules, buf, SV_OCR_RULES_WIRE_MAX, &len), 0);
    return len;
}

static void test_rules_reach_the_worker_whole(void **state)
{
    (void)state;
    static uint8_t base[SV_OCR_RULES_WIRE_MAX], got[SV_OCR_RULES_WIRE_MAX],
        again[SV_OCR_RULES_WIRE_MAX];
    char err[256];
    sv_ocr_rules *rules = NULL, *copy = NULL;
    assert_int_equal(sv_ocr_rules_create(&rules), 0);
    assert_int_equal(sv_ocr_rules_finish(rules, err, sizeof err), 0);
    size_t base_len = encode(rules, base);
    sv_ocr_rules_destroy(rules);
    for (size_t i = 0; i < sizeof every_key / sizeof every_key[0]; i++) {
        assert_int_equal(sv_ocr_rules_create(&rules), 0);
        int rc = sv_ocr_rules_set(rules, every_key[i][0], every_key[i][1], every_key[i][2], err,
                                  sizeof err);
        if (rc != 0)
            fail_msg("[%s] %s: %s", every_key[i][0], every_key[i][1], err);
        assert_int_equal(sv_ocr_rules_finish(rules, err, sizeof err), 0);
        size_t len = encode(rules, got);
        if (len == base_len && memcmp(got, base, len) == 0)
            fail_msg("[%s] %s does not reach the worker", every_key[i][0], every_key[i][1]);
        assert_int_equal(sv_ocr_rules_decode(&copy, got, len, err, sizeof err), 0);
        assert_int_equal(encode(copy, again), len);
        assert_memory_equal(again, got, len);
        sv_ocr_rules_destroy(copy);
        sv_ocr_rules_destroy(rules);
    }
    /* The known-MRN list goes by its path; the worker loads it. */
    char list[] = "/tmp/sv-known-XXXXXX";
    int fd = mkstemp(list);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "12345674\n87654325\n", 18), 18);
    close(fd);
    assert_int_equal(sv_ocr_rules_create(&rules), 0);
    assert_int_equal(sv_ocr_rules_set(rules, "mrn", "known_mrns", list, err, sizeof err), 0);
    assert_int_equal(sv_ocr_rules_finish(rules, err, sizeof err), 0);
    size_t len = encode(rules, got);
    assert_int_equal(sv_ocr_rules_decode(&copy, got, len, err, sizeof err), 0);
    char digits[SV_MRN_MAX + 1];
    assert_int_equal(sv_ocr_check_mrn(copy, "87654325", digits), SV_REASON_NONE);
    assert_int_equal(sv_ocr_check_mrn(copy, "11111111", digits), SV_REASON_UNKNOWN_MRN);
    sv_ocr_rules_destroy(copy);
    sv_ocr_rules_destroy(rules);
    unlink(list);
    /* Truncated, trailing bytes, another format: refused. */
    assert_int_equal(sv_ocr_rules_decode(&copy, base, base_len - 1, err, sizeof err),
                     SV_EFORMAT);
    assert_null(copy);
    assert_int_equal(sv_ocr_rules_decode(&copy, base, base_len + 1, err, sizeof err),
                     SV_EFORMAT);
    base[4] ^= 0x40; /* format version */
    assert_int_equal(sv_ocr_rules_decode(&copy, base, base_len, err, sizeof err), SV_EFORMAT);
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

/* One worker of this build with the default rules (*rules: destroy after
 * the pool); timeout_s 0: the rules' timeout. */
static sv_workers *start_default_pool(sv_ocr_rules **rules, unsigned timeout_s)
{
    char err[256];
    assert_int_equal(sv_ocr_rules_create(rules), 0);
    assert_int_equal(sv_ocr_rules_finish(*rules, err, sizeof err), 0);
    sv_workers *pool = NULL;
    sv_workers_options o = {.worker_path = SV_OCR_WORKER, .rules = *rules, .n_workers = 1,
                            .timeout_s = timeout_s};
    assert_int_equal(sv_workers_create(&pool, &o), 0);
    return pool;
}

static void test_pool_timeout_and_crash(void **state)
{
    (void)state;
    sv_ocr_rules *rules = NULL;
    sv_workers *pool = start_default_pool(&rules, 2);
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

/* A one-page PDF whose text is in Helvetica, not embedded, written into a
 * memfd: readable outside a sandbox (poppler substitutes a system font). */
static int text_pdf_unembedded_font(void)
{
    static const char *const objects[] = {
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R "
        ">> >> /Contents 5 0 R >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        "<< /Length 103 >>\nstream\nBT /F1 24 Tf 1 0 0 1 60 700 Tm (LABORATORY REPORT) Tj "
        "/F1 14 Tf 1 0 0 1 60 650 Tm (MRN: 41486648) Tj ET\nendstream",
    };
    enum { N = sizeof objects / sizeof objects[0] };
    static char pdf[4096];
    size_t len = 0, offsets[N];
    len += (size_t)snprintf(pdf + len, sizeof pdf - len, "%%PDF-1.4\n");
    for (size_t i = 0; i < N; i++) {
        offsets[i] = len;
        len += (size_t)snprintf(pdf + len, sizeof pdf - len, "%zu 0 obj %s endobj\n", i + 1,
                                objects[i]);
    }
    size_t xref = len;
    len += (size_t)snprintf(pdf + len, sizeof pdf - len, "xref\n0 %d\n0000000000 65535 f \n",
                            N + 1);
    for (size_t i = 0; i < N; i++)
        len += (size_t)snprintf(pdf + len, sizeof pdf - len, "%010zu 00000 n \n", offsets[i]);
    len += (size_t)snprintf(pdf + len, sizeof pdf - len,
                            "trailer << /Size %d /Root 1 0 R >>\nstartxref\n%zu\n%%%%EOF\n",
                            N + 1, xref);
    assert_true(len < sizeof pdf);
    int fd = memfd_create("text.pdf", MFD_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, pdf, len), (ssize_t)len);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    return fd;
}

/* In the sandbox poppler cannot open the system font that stands in for a
 * font the PDF does not embed, so its text may be missing: such a PDF goes
 * to review (fonts_not_embedded), never filed on what was left. */
static void test_unembedded_fonts_go_to_review(void **state)
{
    (void)state;
    sv_ocr_rules *rules = NULL;
    sv_workers *pool = start_default_pool(&rules, 0);
    int fd = text_pdf_unembedded_font();
    uint64_t tag = 0;
    sv_ocr_result r;
    assert_int_equal(sv_workers_submit(pool, fd, 7), 0);
    assert_int_equal(sv_workers_collect(pool, -1, &tag, &r), 0);
    close(fd);
    assert_int_equal(tag, 7);
    assert_int_equal(r.status, SV_OCR_REVIEW);
    assert_int_equal(r.reason, SV_REASON_FONTS_NOT_EMBEDDED);
    assert_string_equal(r.mrn, "");
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
        cmocka_unit_test(test_rules_reach_the_worker_whole),
        cmocka_unit_test(test_pool_timeout_and_crash),
        cmocka_unit_test(test_unembedded_fonts_go_to_review),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
