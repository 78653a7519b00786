/*
 * test_mrn_tables.c - MRN labels heading table columns: the value found
 * under its label past table rules and a tightly set header row, and the
 * document held when the cell under a label, or the field's own value, is
 * not a number (a second patient's MRN may be there).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "mrn_fixture.h"

static void test_value_below_label(void **state)
{
    (void)state;
    sv_ocr_rules *r = rules_default();
    doc d = blank_doc(1);
    page *p = &d.pages[0];
    /* Name        MRN        DOB            (column heads)
     * Example     00123456   01/02/1960 */
    line_at(p, 500);
    p->x = 150, word(p, "Name");
    p->x = 700, word(p, "MRN");
    p->x = 1200, word(p, "DOB");
    line_at(p, 560);
    p->x = 150, word(p, "Example,");
    word(p, "Jane");
    p->x = 700, word(p, "00123456");
    p->x = 1200, word(p, "01/02/1960");
    ocr_candidate c[4];
    ocr_label_findings found;
    assert_int_equal(find(r, p, c, 4, &found), 1);
    assert_int_equal(c[0].pub.source, SV_SOURCE_LABEL_BELOW);
    assert_string_equal(c[0].pub.digits, "00123456");
    sv_ocr_result res = decide(r, &d);
    assert_int_equal(res.status, SV_OCR_INDEX);
    assert_string_equal(res.mrn, "00123456");

    /* Grouped value below a long label; the last group's box sits a pixel
     * higher (as Tesseract reports it): the value still starts at the left. */
    d = blank_doc(1);
    p = &d.pages[0];
    line_at(p, 626);
    p->x = 150, word(p, "Patient");
    p->x = 1703, word(p, "Medical");
    word(p, "Record");
    word(p, "No.");
    line_at(p, 707);
    p->x = 150, word(p, "EXAMPLE,");
    p->x = 1703, word(p, "43");
    word(p, "239");
    word(p, "458")->box.y0 -= 1;
    res = decide(r, &d);
    assert_int_equal(res.status, SV_OCR_INDEX);
    assert_string_equal(res.mrn, "43239458");

    /* A tightly set table: the next column's head follows the label as
     * closely as a word of text, but it is capitalised; the value below is
     * still found. */
    d = blank_doc(1);
    p = &d.pages[0];
    line_at(p, 500);
    p->x = 150, word(p, "Sex");
    p->x = 668, word(p, "Medical");
    word(p, "Record");
    word(p, "No.,");
    word(p, "Encounter");
    word(p, "#");
    line_at(p, 560);
    p->x = 150, word(p, "F");
    p->x = 668, word(p, "00123456");
    p->x = 1150, word(p, "V69991735");
    res = decide(r, &d);
    assert_int_equal(res.status, SV_OCR_INDEX);
    assert_string_equal(res.mrn, "00123456");
    assert_int_equal(res.candidates[0].source, SV_SOURCE_LABEL_BELOW);

    /* Running text: "medical record" followed by words never looks below. */
    d = blank_doc(1);
    words(&d.pages[0], 500, "was added to the medical record of the");
    words(&d.pages[0], 560, "patient chart 12345678 on admission");
    res = decide(r, &d);
    assert_int_equal(res.n_candidates, 0);
    assert_int_equal(res.reason, SV_REASON_NO_MRN);
    sv_ocr_rules_destroy(r);
}

/* A table on page 1 whose MRN column holds cell (after an optional rule
 * mark '|' read as a word of its own); page 2 carries a good MRN. */
static doc table_then_mrn(const char *mark, const char *cell)
{
    doc d = blank_doc(2);
    page *p = &d.pages[0];
    line_at(p, 500);
    p->x = 150, word(p, "Patient");
    word(p, "Name");
    p->x = 700, word(p, "Med");
    word(p, "Rec");
    word(p, "No.");
    p->x = 1300, word(p, "Account");
    line_at(p, 570);
    p->x = 150, word(p, "EXAMPLE,");
    word(p, "JANE");
    if (mark != NULL) {
        p->x = 690, word(p, mark);
        /* a rule: thin, and taller than the text */
        p->w[p->n - 1].box.y0 = 560;
        p->w[p->n - 1].box.x1 = p->w[p->n - 1].box.x0 + 4;
    }
    p->x = 712, word(p, cell);
    p->x = 1300, word(p, "54619663");
    words(&d.pages[1], 300, "MRN: 12345678");
    return d;
}

/* A label over a cell that is not a number may hide another patient's MRN:
 * the document is held, not filed by the MRN of another page. */
static void test_unreadable_value(void **state)
{
    (void)state;
    sv_ocr_rules *r = rules_default();
    /* a table rule read as '|' does not hide the value under the label */
    doc d = table_then_mrn("|", "87654321");
    sv_ocr_result res = decide(r, &d);
    assert_int_equal(res.reason, SV_REASON_CONFLICTING_MRNS);
    d = table_then_mrn("|", "12345678");
    assert_int_equal(decide(r, &d).status, SV_OCR_INDEX);
    /* a cell that cannot be read as a number holds the document */
    static const char *const cells[] = {"SlOO", "Pending", "illegible"};
    for (size_t i = 0; i < sizeof cells / sizeof cells[0]; i++) {
        d = table_then_mrn(NULL, cells[i]);
        res = decide(r, &d);
        if (res.reason != SV_REASON_UNREADABLE_VALUE)
            fail_msg("'%s': %s", cells[i], sv_ocr_reason_code(res.reason));
        assert_string_equal(res.mrn, "");
        d = table_then_mrn("|", cells[i]);
        assert_int_equal(decide(r, &d).reason, SV_REASON_UNREADABLE_VALUE);
    }
    /* alone, it says why there is no MRN */
    d = table_then_mrn(NULL, "Pending");
    d.n_pages = 1;
    assert_int_equal(decide(r, &d).reason, SV_REASON_UNREADABLE_VALUE);
    /* a label in running text with more text below is not a column head */
    d = one_line("MRN: 12345678");
    words(&d.pages[0], 500, "Please quote the patient's MRN");
    words(&d.pages[0], 560, "when you call the ward");
    assert_int_equal(decide(r, &d).status, SV_OCR_INDEX);
    /* The field's own value is not a number: what stands under the label
     * belongs to another field, and must not file the document. */
    static const char *const values[] = {"MRN: Pending", "MRN: (see sticker)", "MRN OOSBIO",
                                         "MRN:     Pending"};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        d = blank_doc(1);
        words(&d.pages[0], 300, "Patient: Jane Q Example");
        words(&d.pages[0], 360, values[i]);
        words(&d.pages[0], 420, "87654321");
        res = decide(r, &d);
        if (res.status == SV_OCR_INDEX || res.reason != SV_REASON_UNREADABLE_VALUE)
            fail_msg("'%s' over a number: %s", values[i], sv_ocr_reason_code(res.reason));
    }
    /* A dash in the MRN column means "none" for that row: the next row's
     * number must not stand in for it. */
    d = blank_doc(1);
    page *p = &d.pages[0];
    line_at(p, 500);
    p->x = 150, word(p, "Name");
    p->x = 700, word(p, "MRN");
    p->x = 1200, word(p, "DOB");
    line_at(p, 560);
    p->x = 150, word(p, "EXAMPLE,");
    word(p, "BABY");
    p->x = 700, word(p, "\xE2\x80\x94"); /* an em dash */
    p->x = 1200, word(p, "01/02/2024");
    line_at(p, 600);
    p->x = 700, word(p, "87654321");
    res = decide(r, &d);
    assert_int_not_equal(res.status, SV_OCR_INDEX);
    /* a blank field beside another field's label is no column head */
    d = one_line("MRN: 12345678");
    words(&d.pages[0], 500, "Referring MRN: DOB: 01/02/1960");
    words(&d.pages[0], 560, "Name: Jane Q Example");
    assert_int_equal(decide(r, &d).status, SV_OCR_INDEX);
    /* nor a heading that starts with a label, over body text */
    d = one_line("MRN: 12345678");
    words(&d.pages[0], 500, "MEDICAL RECORD REQUEST");
    words(&d.pages[0], 560, "Please send the enclosed pages");
    assert_int_equal(decide(r, &d).status, SV_OCR_INDEX);
    /* nor is an empty field: nothing under it, nothing right of it */
    d = one_line("MRN: 12345678");
    words(&d.pages[0], 900, "Referring MRN:");
    assert_int_equal(decide(r, &d).status, SV_OCR_INDEX);
    sv_ocr_rules_destroy(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_value_below_label),
        cmocka_unit_test(test_unreadable_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
