/*
 * test_mrn_rules.c - the patient-safety core: which words become MRN
 * candidates (labels, values, tables, decoys) and what the decision makes of
 * them (index, or review with the right reason).
 *
 * Pages are synthetic word lists (mrn_fixture.h). Labels heading table
 * columns are in test_mrn_tables.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mrn_fixture.h"

/* ---- candidates ------------------------------------------------------------------ */

static void test_label_variants(void **state)
{
    (void)state;
    static const char *const lines[] = {
        "MRN: 12345678",        "MRN 12345678",           "MRN:12345678",
        "MRN#: 12345678",       "MR# 12345678",           "MR # 12345678",
        "MR No. 12345678",      "MR Number: 12345678",    "Medical Record No. 12345678",
        "Medical Record Number: 12345678", "Medical Record: 12345678", "Med Rec # 12345678",
        "Med. Rec. No.: 12345678", "mrn: 12345678",       "MEDICAL RECORD NUMBER 12345678",
        "Hospital No: 12345678", "Patient MRN : 12345678", "MR\xE2\x84\x96 12345678",
    };
    sv_ocr_rules *r = rules_default();
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        doc d = one_line(lines[i]);
        ocr_candidate c[4];
        ocr_label_findings found;
        size_t n = find(r, &d.pages[0], c, 4, &found);
        if (n != 1)
            fail_msg("'%s': %zu candidates", lines[i], n);
        assert_string_equal(c[0].pub.digits, "12345678");
        assert_int_equal(c[0].pub.source, SV_SOURCE_LABEL_RIGHT);
        assert_int_equal(c[0].pub.page, 1);
        assert_true(c[0].needs_second_read);
        /* The box is the value's, for the second read. */
        const ocr_word *last = &d.pages[0].w[d.pages[0].n - 1];
        assert_int_equal(c[0].box.x1, last->box.x1);
        sv_ocr_result res = decide(r, &d);
        if (res.status != SV_OCR_INDEX)
            fail_msg("'%s': %s", lines[i], sv_ocr_reason_code(res.reason));
        assert_string_equal(res.mrn, "12345678");
    }
    sv_ocr_rules_destroy(r);
}

static void test_label_split_over_lines_is_no_label(void **state)
{
    (void)state;
    sv_ocr_rules *r = rules_default();
    doc d = one_line("Dr Example MR");
    words(&d.pages[0], 420, "No 12345678 visits");
    sv_ocr_result res = decide(r, &d);
    assert_int_equal(res.n_candidates, 0);
    assert_int_equal(res.reason, SV_REASON_NO_MRN);
    sv_ocr_rules_destroy(r);
}

static void test_dashes_and_spaces_in_values(void **state)
{
    (void)state;
    static const char *const lines[] = {"MRN: 1234-5678", "MRN: 1234 5678", "MRN: 12 345 678",
                                        "MRN: 1234 - 5678", "MRN: 12-34-56-78"};
    sv_ocr_rules *r = rules_default();
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        doc d = one_line(lines[i]);
        sv_ocr_result res = decide(r, &d);
        if (res.status != SV_OCR_INDEX || strcmp(res.mrn, "12345678") != 0)
            fail_msg("'%s': %s '%s'", lines[i], sv_ocr_reason_code(res.reason),
                     res.n_candidates ? res.candidates[0].digits : "");
    }
    /* Monospace print: the word space is as wide as a digit is high. */
    doc m = one_line("MRN");
    page *mp = &m.pages[0];
    word(mp, "33");
    mp->x += CHAR_H - SPACE;
    word(mp, "585");
    mp->x += CHAR_H - SPACE;
    word(mp, "399");
    sv_ocr_result mres = decide(r, &m);
    assert_int_equal(mres.status, SV_OCR_INDEX);
    assert_string_equal(mres.mrn, "33585399");
    /* Stray quote marks and brackets from the scan are not part of it. */
    static const char *const noisy[] = {"MRN 12345678'", "MRN: \"12345678\"",
                                        "MRN: [12345678]", ("MRN \xE2\x80\x9C" "12345678\xE2\x80\x9D")};
    for (size_t i = 0; i < sizeof noisy / sizeof noisy[0]; i++) {
        doc q = one_line(noisy[i]);
        sv_ocr_result qres = decide(r, &q);
        if (qres.status != SV_OCR_INDEX || strcmp(qres.mrn, "12345678") != 0)
            fail_msg("'%s': %s", noisy[i], sv_ocr_reason_code(qres.reason));
    }
    /* A wide gap starts a new field: the phone number is not joined. */
    doc d = one_line("MRN: 12345678");
    page *p = &d.pages[0];
    p->x += 400;
    word(p, "555");
    word(p, "0134");
    sv_ocr_result res = decide(r, &d);
    assert_int_equal(res.status, SV_OCR_INDEX);
    assert_string_equal(res.mrn, "12345678");
    /* A gap of a few characters ends the value too (another field). */
    d = one_line("MRN: 123456");
    p = &d.pages[0];
    p->x += 250;
    word(p, "78");
    res = decide(r, &d);
    assert_int_equal(res.status, SV_OCR_INDEX);
    assert_string_equal(res.mrn, "123456");
    /* Close groups stop before max_length is passed. */
    d = one_line("MRN: 12345678 555 0134");
    res = decide(r, &d);
    assert_int_equal(res.status, SV_OCR_INDEX);
    assert_string_equal(res.mrn, "12345678");
    sv_ocr_rules_destroy(r);
}

static void test_label_to_value_distance(void **state)
{
    (void)state;
    sv_ocr_rules *r = rules_default();
    /* A form with the value at a tab stop: still the label's value. */
    doc d = one_line("MRN:");
    d.pages[0].x += 140;
    word(&d.pages[0], "12345678");
    sv_ocr_result res = decide(r, &d);
    assert_int_equal(res.status, SV_OCR_INDEX);
    /* Across the page it is some other field's number. */
    d = one_line("MRN:");
    d.pages[0].x += 1200;
    word(&d.pages[0], "12345678");
    res = decide(r, &d);
    assert_int_equal(res.n_candidates, 0);
    assert_int_equal(res.reason, SV_REASON_NO_MRN);
    sv_ocr_rules_destroy(r);
}

static void test_decoys_are_never_candidates(void **state)
{
    (void)state;
    static const char *const decoys[] = {
        "Account #: 12345678",  "Acct No. 87654321",     "NPI: 1234567893",
        "DEA: AB1234563",       "Phone: (555) 123-4567", "Fax: 555-123-4568",
        "DOB: 01/02/1960",      "Page 1 of 2",           "Mr. Smith 20 Main St",
        "Order # 55512345",     "Encounter #: 99887766", "12345678",
        "Accession: 24681357",  "Patient ID: 31415926",  "Date: 2024-03-05",
    };
    sv_ocr_rules *r = rules_default();
    doc d = blank_doc(1);
    for (size_t i = 0; i < sizeof decoys / sizeof decoys[0]; i++)
        words(&d.pages[0], 200 + 60 * (int)i, decoys[i]);
    sv_ocr_result res = decide(r, &d);
    assert_int_equal(res.n_candidates, 0);
    assert_int_equal(res.status, SV_OCR_REVIEW);
    assert_int_equal(res.reason, SV_REASON_NO_MRN);
    /* Among the same decoys one labelled MRN is found, and only it. */
    words(&d.pages[0], 2000, "MRN: 10293847");
    res = decide(r, &d);
    assert_int_equal(res.n_candidates, 1);
    assert_int_equal(res.status, SV_OCR_INDEX);
    assert_string_equal(res.mrn, "10293847");
    sv_ocr_rules_destroy(r);
}

/* ---- decision ---------------------------------------------------------------------- */

static void test_two_mrns_conflict_same_twice_indexes(void **state)
{
    (void)state;
    sv_ocr_rules *r = rules_default();
    doc d = one_line("MRN: 12345678");
    words(&d.pages[0], 3000, "MRN 12345678");
    d.n_pages = 2;
    words(&d.pages[1], 200, "Medical Record Number: 1234-5678");
    sv_ocr_result res = decide(r, &d);
    assert_int_equal(res.status, SV_OCR_INDEX);
    assert_int_equal(res.n_candidates, 3);
    assert_int_equal(res.candidates[2].page, 2);

    words(&d.pages[1], 260, "Mother MRN: 87654321");
    res = decide(r, &d);
    assert_int_equal(res.status, SV_OCR_REVIEW);
    assert_int_equal(res.reason, SV_REASON_CONFLICTING_MRNS);
    assert_int_equal(res.candidates[3].problem, SV_REASON_CONFLICTING_MRNS);
    sv_ocr_rules_destroy(r);
}

static void test_check_digits(void **state)
{
    (void)state;
    assert_true(ocr_check_digit_ok(OCR_CHECK_LUHN, "79927398713"));
    assert_true(ocr_check_digit_ok(OCR_CHECK_LUHN, "87654323"));
    assert_false(ocr_check_digit_ok(OCR_CHECK_LUHN, "79927398710"));
    assert_false(ocr_check_digit_ok(OCR_CHECK_LUHN, "87654321"));
    assert_true(ocr_check_digit_ok(OCR_CHECK_MOD11, "12345674"));
    assert_true(ocr_check_digit_ok(OCR_CHECK_MOD11, "24681351"));
    assert_true(ocr_check_digit_ok(OCR_CHECK_MOD11, "10000009"));
    assert_false(ocr_check_digit_ok(OCR_CHECK_MOD11, "12345675"));
    assert_false(ocr_check_digit_ok(OCR_CHECK_MOD11, "24681355"));
    /* Data 0000006 needs check value 10: no last digit makes it valid. */
    char s[] = "00000060";
    for (char d = '0'; d <= '9'; d++) {
        s[7] = d;
        assert_false(ocr_check_digit_ok(OCR_CHECK_MOD11, s));
    }
    assert_true(ocr_check_digit_ok(OCR_CHECK_NONE, "87654321"));

    sv_ocr_rules *r = rules_default();
    set(r, "mrn", "check_digit", "mod11");
    doc d = one_line("MRN: 12345674");
    assert_int_equal(decide(r, &d).status, SV_OCR_INDEX);
    d = one_line("MRN: 12345675");
    sv_ocr_result res = decide(r, &d);
    assert_int_equal(res.reason, SV_REASON_BAD_CHECK_DIGIT);
    assert_int_equal(res.candidates[0].problem, SV_REASON_BAD_CHECK_DIGIT);
    set(r, "mrn", "check_digit", "luhn");
    d = one_line("MRN: 8765-4323");
    assert_int_equal(decide(r, &d).status, SV_OCR_INDEX);
    d = one_line("MRN: 24681351");
    assert_int_equal(decide(r, &d).reason, SV_REASON_BAD_CHECK_DIGIT);
    char out[SV_MRN_MAX + 1];
    assert_int_equal(sv_ocr_check_mrn(r, "8765 4323", out), SV_REASON_NONE);
    assert_string_equal(out, "87654323");
    assert_int_equal(sv_ocr_check_mrn(r, "87654321", out), SV_REASON_BAD_CHECK_DIGIT);
    assert_string_equal(out, "");
    assert_int_equal(sv_ocr_check_mrn(r, "8765432x", out), SV_REASON_BAD_FORMAT);
    assert_int_equal(sv_ocr_check_mrn(r, "1234", out), SV_REASON_BAD_FORMAT);
    sv_ocr_rules_destroy(r);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

static void test_known_mrn_list(void **state)
{
    (void)state;
    char dir[] = "/tmp/sv-known-XXXXXX", path[128];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/known.txt", dir);
    write_file(path, "# patient index export\n55500011\n\n10293847\r\n 00123456 \n", 0600);
    sv_ocr_rules *r = rules_default();
    set(r, "mrn", "known_mrns", path);
    assert_int_equal(r->n_known_mrns, 3);
    assert_true(ocr_rules_is_known_mrn(r, "00123456"));
    assert_false(ocr_rules_is_known_mrn(r, "00123457"));
    doc d = one_line("MRN: 10293847");
    assert_int_equal(decide(r, &d).status, SV_OCR_INDEX);
    d = one_line("MRN: 10293848");
    sv_ocr_result res = decide(r, &d);
    assert_int_equal(res.reason, SV_REASON_UNKNOWN_MRN);
    assert_int_equal(res.candidates[0].problem, SV_REASON_UNKNOWN_MRN);
    char out[SV_MRN_MAX + 1];
    assert_int_equal(sv_ocr_check_mrn(r, "10293848", out), SV_REASON_UNKNOWN_MRN);

    /* Refusals of malformed list files: test_config.c. */
    unlink(path);
    rmdir(dir);
    sv_ocr_rules_destroy(r);
}

static void test_confidence_and_second_read(void **state)
{
    (void)state;
    sv_ocr_rules *r = rules_default();
    doc d = one_line("MRN: 12345678");
    d.pages[0].w[d.pages[0].n - 1].min_char_conf = 61.0f;
    sv_ocr_result res = decide(r, &d);
    assert_int_equal(res.reason, SV_REASON_LOW_CONFIDENCE);
    assert_float_equal(res.candidates[0].min_char_conf, 61.0f, 0.01f);
    /* A barcode with the same value corroborates it. */
    add_barcode(&d, "12345678", 1);
    res = decide(r, &d);
    assert_int_equal(res.status, SV_OCR_INDEX);
    assert_int_equal(res.n_candidates, 2);
    assert_int_equal(res.candidates[1].source, SV_SOURCE_BARCODE);

    d = one_line("MRN: 12345678");
    d.second_read_agrees = false;
    assert_int_equal(decide(r, &d).reason, SV_REASON_SECOND_READ_DISAGREE);
    add_barcode(&d, "1234-5678", 1);
    assert_int_equal(decide(r, &d).status, SV_OCR_INDEX);
    set(r, "mrn", "require_second_read", "false");
    d = one_line("MRN: 12345678");
    d.second_read_agrees = false;
    assert_int_equal(decide(r, &d).status, SV_OCR_INDEX);

    /* A look-alike letter inside digits is mapped, never trusted. */
    d = one_line("MRN: 1234S678");
    res = decide(r, &d);
    assert_string_equal(res.candidates[0].digits, "12345678");
    assert_int_equal(res.reason, SV_REASON_LOW_CONFIDENCE);
    sv_ocr_rules_destroy(r);
}

static void test_barcodes(void **state)
{
    (void)state;
    sv_ocr_rules *r = rules_default();
    doc d = one_line("MRN: 12345678");
    add_barcode(&d, "12345679", 1);
    sv_ocr_result res = decide(r, &d);
    assert_int_equal(res.reason, SV_REASON_BARCODE_TEXT_DISAGREE);
    /* Barcodes that are no MRN (letters, wrong length) are ignored. */
    d = one_line("MRN: 12345678");
    add_barcode(&d, "ORD-55512", 1);
    add_barcode(&d, "123", 1);
    res = decide(r, &d);
    assert_int_equal(res.status, SV_OCR_INDEX);
    assert_int_equal(res.n_candidates, 1);
    /* Only a barcode: review unless barcode_alone. */
    doc b;
    memset(&b, 0, sizeof b);
    b.n_pages = 1;
    words(&b.pages[0], 300, "Progress note");
    add_barcode(&b, "12345678", 1);
    assert_int_equal(decide(r, &b).reason, SV_REASON_BARCODE_ONLY);
    add_barcode(&b, "87654321", 1);
    assert_int_equal(decide(r, &b).reason, SV_REASON_CONFLICTING_MRNS);
    b.n_barcodes = 1;
    set(r, "mrn", "barcode_alone", "yes");
    res = decide(r, &b);
    assert_int_equal(res.status, SV_OCR_INDEX);
    assert_string_equal(res.mrn, "12345678");
    sv_ocr_rules_destroy(r);
}

static void test_handwritten_only(void **state)
{
    (void)state;
    sv_ocr_rules *r = rules_default();
    doc d = one_line("MRN: 12345678");
    d.pages[0].w[d.pages[0].n - 1].glyph_irregularity = 0.31f;
    sv_ocr_result res = decide(r, &d);
    assert_int_equal(res.reason, SV_REASON_HANDWRITTEN_ONLY);
    assert_true(res.candidates[0].is_handwritten);
    /* The same MRN printed elsewhere corroborates it. */
    words(&d.pages[0], 3000, "MRN 12345678");
    res = decide(r, &d);
    assert_int_equal(res.status, SV_OCR_INDEX);
    assert_false(res.candidates[1].is_handwritten);
    sv_ocr_rules_destroy(r);
}

static void test_unclear_label(void **state)
{
    (void)state;
    sv_ocr_rules *r = rules_default();
    doc d = one_line("MPN: 12345678");
    assert_int_equal(decide(r, &d).reason, SV_REASON_UNCLEAR_LABEL);
    d = one_line("NRN 12345678");
    assert_int_equal(decide(r, &d).reason, SV_REASON_UNCLEAR_LABEL);
    /* Even beside a good MRN: the blurred label might be a second one. */
    d = one_line("MRN: 12345678");
    words(&d.pages[0], 500, "MRM: 12345678");
    assert_int_equal(decide(r, &d).reason, SV_REASON_UNCLEAR_LABEL);
    /* Real words, lower case, or no MRN-shaped number: not a label. */
    static const char *const fine[] = {"MRI 12345678", "Mrs 12345678", "man 12345678",
                                       "MPN: 12", "MPN: Example"};
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++) {
        d = one_line("MRN: 12345678");
        words(&d.pages[0], 500, fine[i]);
        sv_ocr_result res = decide(r, &d);
        if (res.status != SV_OCR_INDEX)
            fail_msg("'%s': %s", fine[i], sv_ocr_reason_code(res.reason));
    }
    sv_ocr_rules_destroy(r);
}

static void test_bad_format(void **state)
{
    (void)state;
    static const char *const bad[] = {"MRN: 1234", "MRN: 12345678901", "MRN: A1234567",
                                      "MRN: 01/02/1960", "MRN: 1234567890123456789012345"};
    sv_ocr_rules *r = rules_default();
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        doc d = one_line(bad[i]);
        sv_ocr_result res = decide(r, &d);
        if (res.reason != SV_REASON_BAD_FORMAT || res.n_candidates != 1)
            fail_msg("'%s': %s, %zu candidates", bad[i], sv_ocr_reason_code(res.reason),
                     res.n_candidates);
        /* ... and a good MRN elsewhere does not hide it. */
        words(&d.pages[0], 600, "MRN: 12345678");
        assert_int_equal(decide(r, &d).reason, SV_REASON_BAD_FORMAT);
    }
    sv_ocr_rules_destroy(r);
}

static void test_overflow_and_configured_labels(void **state)
{
    (void)state;
    sv_ocr_rules *r = rules_default();
    /* The same MRN more often than there is room: folded, not a conflict ... */
    doc d = one_line("MRN: 12345678");
    for (int i = 0; i < 6; i++)
        words(&d.pages[0], 500 + 60 * i, "MRN: 12345678");
    d.pages[0].w[d.pages[0].n - 1].min_char_conf = 55.0f; /* the last, folded one */
    ocr_candidate c[4];
    size_t n = 0;
    ocr_label_findings found = {0};
    ocr_page_words pw = view(&d.pages[0], 1);
    assert_int_equal(ocr_find_candidates(r, &pw, c, 4, &n, &found), 0);
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i++)
        c[i].pub.second_read_agrees = true;
    ocr_evidence ev = {.candidates = c, .n_candidates = n};
    sv_ocr_result res;
    ocr_decide(r, &ev, &res);
    /* ... but its doubtful reading still counts. */
    assert_int_equal(res.reason, SV_REASON_LOW_CONFIDENCE);
    /* A different value with no room left overflows: a review. */
    words(&d.pages[0], 1000, "MRN: 87654321");
    pw = view(&d.pages[0], 1);
    n = 0;
    assert_int_equal(ocr_find_candidates(r, &pw, c, 4, &n, &found), SV_ELIMIT);
    ev = (ocr_evidence){.candidates = c, .n_candidates = n, .candidates_overflowed = true};
    ocr_decide(r, &ev, &res);
    assert_int_equal(res.reason, SV_REASON_CONFLICTING_MRNS);

    set(r, "mrn", "labels", "Chart No, Unit Record Number");
    d = one_line("Chart #: 12345678");
    assert_int_equal(decide(r, &d).status, SV_OCR_INDEX);
    d = one_line("MRN: 12345678");
    assert_int_equal(decide(r, &d).reason, SV_REASON_NO_MRN);
    sv_ocr_rules_destroy(r);
}

static void test_names(void **state)
{
    (void)state;
    for (int i = 0; i < SV_REASON_COUNT; i++)
        for (int k = i + 1; k < SV_REASON_COUNT; k++)
            assert_string_not_equal(sv_ocr_reason_code((sv_ocr_reason)i),
                                    sv_ocr_reason_code((sv_ocr_reason)k));
    assert_string_equal(sv_ocr_reason_code(SV_REASON_UNCLEAR_LABEL), "unclear_label");
    assert_string_equal(sv_ocr_reason_code(SV_REASON_UNREADABLE_VALUE), "unreadable_value");
    assert_string_equal(sv_ocr_reason_words(SV_REASON_NO_MRN), "no labelled MRN found");
    assert_string_equal(sv_ocr_reason_code(SV_REASON_COUNT), "unknown");
    assert_string_equal(sv_ocr_status_name(SV_OCR_REVIEW), "review");
    assert_string_equal(sv_ocr_status_name(SV_OCR_INDEX), "index");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_label_variants),
        cmocka_unit_test(test_label_split_over_lines_is_no_label),
        cmocka_unit_test(test_dashes_and_spaces_in_values),
        cmocka_unit_test(test_label_to_value_distance),
        cmocka_unit_test(test_decoys_are_never_candidates),
        cmocka_unit_test(test_two_mrns_conflict_same_twice_indexes),
        cmocka_unit_test(test_check_digits),
        cmocka_unit_test(test_known_mrn_list),
        cmocka_unit_test(test_confidence_and_second_read),
        cmocka_unit_test(test_barcodes),
        cmocka_unit_test(test_handwritten_only),
        cmocka_unit_test(test_unclear_label),
        cmocka_unit_test(test_bad_format),
        cmocka_unit_test(test_overflow_and_configured_labels),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
