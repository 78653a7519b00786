/*
 * test_doctype.c - document type scoring over realistic page texts: each
 * built-in type is recognised, fax covers and letters come out "other", the
 * title area counts more, close calls fall back to "other", and the type list
 * is configurable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "ocr_internal.h"
#include "sv_ocr.h"

#define MAX_WORDS 400

typedef struct page {
    ocr_word w[MAX_WORDS];
    size_t n;
    int line, y;
} page;

/* One line of words at y in a font of height h (30 px is 10 pt at 300 dpi). */
static void line(page *p, int h, const char *text)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", text);
    p->line++;
    if (p->y == 0)
        p->y = 150;
    int x = 150;
    for (char *s = buf, *end; *s != '\0'; s = end) {
        while (*s == ' ')
            s++;
        if (*s == '\0')
            break;
        end = strchr(s, ' ');
        if (end == NULL)
            end = s + strlen(s);
        else
            *end++ = '\0';
        assert_true(p->n < MAX_WORDS);
        ocr_word *w = &p->w[p->n++];
        memset(w, 0, sizeof *w);
        size_t len = strnlen(s, sizeof w->text - 1);
        memcpy(w->text, s, len);
        w->text[len] = '\0';
        int width = (int)strlen(s) * h * 3 / 4;
        w->box = (ocr_box){x, p->y, x + width, p->y + h};
        w->conf = 93.0f;
        w->min_char_conf = 90.0f;
        w->line = p->line;
        x += width + h / 3;
    }
    p->y += h * 2;
}

/* Body text starts below the title area (the top quarter of 3300 px). */
static void body(page *p)
{
    if (p->y < 900)
        p->y = 900;
}

static sv_ocr_result score(const sv_ocr_rules *r, const page *pages, size_t n)
{
    ocr_page_words pw[3];
    for (size_t i = 0; i < n; i++)
        pw[i] = (ocr_page_words){.page = (int)i + 1, .width = 2550, .height = 3300,
                                 .words = pages[i].w, .n_words = pages[i].n};
    sv_ocr_result out;
    memset(&out, 0, sizeof out);
    ocr_score_type(r, pw, n, &out);
    assert_true(out.type_confidence >= 0.0f && out.type_confidence <= 1.0f);
    return out;
}

static sv_ocr_rules *rules(void)
{
    sv_ocr_rules *r = NULL;
    char err[256];
    assert_int_equal(sv_ocr_rules_create(&r), 0);
    assert_int_equal(sv_ocr_rules_finish(r, err, sizeof err), 0);
    return r;
}

static page pg[2];

static void reset(void) { memset(pg, 0, sizeof pg); }

static void lab_report(void)
{
    line(&pg[0], 45, "GENERAL HOSPITAL LABORATORY");
    line(&pg[0], 45, "LABORATORY REPORT");
    body(&pg[0]);
    line(&pg[0], 30, "Patient: Example, Jane MRN: 12345678");
    line(&pg[0], 30, "Collected: 03/05/2024 08:15 Received: 03/05/2024 09:02");
    line(&pg[0], 30, "Specimen: Blood");
    line(&pg[0], 30, "Test Result Units Reference Range Flag");
    line(&pg[0], 30, "Hemoglobin 13.2 g/dL 12.0-16.0");
    line(&pg[0], 30, "Glucose 104 mg/dL 70-99 H");
    line(&pg[0], 30, "Sodium 139 mmol/L 135-145");
    line(&pg[0], 30, "Potassium 4.1 mmol/L 3.5-5.1");
    line(&pg[0], 30, "Creatinine 0.9 mg/dL 0.6-1.2");
    line(&pg[0], 30, "WBC 6.8 K/uL 4.0-11.0");
    line(&pg[0], 30, "Final report");
}

static void prescription(void)
{
    line(&pg[0], 30, "A. Example, MD Internal Medicine");
    line(&pg[0], 30, "DEA# AB1234563 NPI 1234567893");
    body(&pg[0]);
    line(&pg[0], 45, "Rx");
    line(&pg[0], 30, "Amoxicillin 500 mg capsules");
    line(&pg[0], 30, "Sig: Take 1 capsule by mouth three times daily for 10 days");
    line(&pg[0], 30, "Disp: 30 (thirty) capsules");
    line(&pg[0], 30, "Refills: 0");
    line(&pg[0], 30, "Dispense as written");
}

static void radiology(void)
{
    line(&pg[0], 45, "DIAGNOSTIC IMAGING");
    line(&pg[0], 45, "RADIOLOGY REPORT");
    body(&pg[0]);
    line(&pg[0], 30, "Exam: CT ABDOMEN AND PELVIS WITH CONTRAST");
    line(&pg[0], 30, "Clinical history: abdominal pain");
    line(&pg[0], 30, "Technique: Axial images were obtained after IV contrast.");
    line(&pg[0], 30, "Comparison: None.");
    line(&pg[0], 30, "Findings: The liver, spleen and pancreas are unremarkable.");
    line(&pg[0], 30, "Impression: No acute abnormality.");
    line(&pg[0], 30, "Electronically signed by the radiologist");
}

static void discharge(void)
{
    line(&pg[0], 45, "DISCHARGE SUMMARY");
    body(&pg[0]);
    line(&pg[0], 30, "Admission Date: 03/01/2024 Discharge Date: 03/05/2024");
    line(&pg[0], 30, "Attending Physician: Dr. Example");
    line(&pg[0], 30, "Discharge Diagnosis: Community acquired pneumonia");
    line(&pg[0], 30, "Hospital Course: The patient was admitted with fever and cough.");
    line(&pg[0], 30, "Discharge Medications: amoxicillin 500 mg three times daily");
    line(&pg[0], 30, "Condition at discharge: stable");
    line(&pg[0], 30, "Follow-up with primary care in one week.");
}

static void referral(void)
{
    line(&pg[0], 45, "REFERRAL FORM");
    body(&pg[0]);
    line(&pg[0], 30, "Referring Physician: Dr. A. Example");
    line(&pg[0], 30, "Referred to: Cardiology");
    line(&pg[0], 30, "Reason for referral: chest pain on exertion");
    line(&pg[0], 30, "Urgency: Routine");
    line(&pg[0], 30, "Please evaluate and treat. Thank you for seeing this patient.");
}

static void test_each_type(void **state)
{
    (void)state;
    static const struct {
        void (*make)(void);
        const char *type;
    } cases[] = {{lab_report, "lab_report"},         {prescription, "prescription"},
                 {radiology, "radiology_report"},     {discharge, "discharge_summary"},
                 {referral, "referral"}};
    sv_ocr_rules *r = rules();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        reset();
        cases[i].make();
        sv_ocr_result out = score(r, pg, 1);
        if (strcmp(out.type, cases[i].type) != 0)
            fail_msg("expected %s, got %s (%.2f)", cases[i].type, out.type,
                     (double)out.type_confidence);
        assert_true(out.type_confidence > 0.3f);
    }
    sv_ocr_rules_destroy(r);
}

static void test_fax_cover_and_letter_are_other(void **state)
{
    (void)state;
    sv_ocr_rules *r = rules();
    reset();
    line(&pg[0], 45, "FAX COVER SHEET");
    line(&pg[0], 30, "To: Medical Records Dept Fax: 555-123-4567");
    line(&pg[0], 30, "From: Example Clinic Phone: 555-123-4568");
    line(&pg[0], 30, "Date: 03/05/2024 Pages (including cover): 3");
    line(&pg[0], 30, "Re: Records request");
    line(&pg[0], 30, "[x] Urgent [ ] For Review [ ] Please Comment [ ] Please Reply");
    body(&pg[0]);
    line(&pg[0], 30, "CONFIDENTIALITY NOTICE: The documents accompanying this facsimile");
    line(&pg[0], 30, "transmission contain confidential information belonging to the sender");
    line(&pg[0], 30, "which is legally privileged. If you have received this fax in error,");
    line(&pg[0], 30, "please notify us by telephone immediately.");
    sv_ocr_result out = score(r, pg, 1);
    assert_string_equal(out.type, "other");
    assert_true(out.type_confidence > 0.5f);

    reset();
    line(&pg[0], 40, "Example Family Practice");
    line(&pg[0], 30, "12 Main Street, Springfield");
    body(&pg[0]);
    line(&pg[0], 30, "March 5, 2024");
    line(&pg[0], 30, "Dear Dr. Example,");
    line(&pg[0], 30, "I saw Ms. Example today for a follow-up appointment. Her results from");
    line(&pg[0], 30, "last month were reviewed and she is doing well. I will see her again");
    line(&pg[0], 30, "in six months. Please do not hesitate to call with any questions.");
    line(&pg[0], 30, "Sincerely,");
    line(&pg[0], 30, "B. Example, MD");
    out = score(r, pg, 1);
    assert_string_equal(out.type, "other");

    reset();
    out = score(r, pg, 1);
    assert_string_equal(out.type, "other");
    assert_float_equal(out.type_confidence, 1.0f, 0.001f);

    /* A cover whose "Re:" line, in the title area, names what it covers
     * is still a cover ... */
    reset();
    line(&pg[0], 40, "Example Internal Medicine");
    line(&pg[0], 30, "Phone: (555) 555-0118 Fax: (555) 555-0188");
    line(&pg[0], 45, "FAX");
    line(&pg[0], 30, "Date: 2024-06-25 Pages: 4 (including cover)");
    line(&pg[0], 30, "Re: Lab results attached");
    body(&pg[0]);
    line(&pg[0], 30, "Attached are the results discussed by phone today.");
    line(&pg[0], 30, "CONFIDENTIALITY NOTICE: This facsimile contains confidential information");
    line(&pg[0], 30, "intended only for the recipient named above. If you have received this");
    line(&pg[0], 30, "transmission in error, please notify the sender by telephone.");
    out = score(r, pg, 1);
    if (strcmp(out.type, "other") != 0)
        fail_msg("fax cover naming lab results: %s", out.type);
    /* ... and a lab report that ends with a fax confidentiality notice is
     * still a lab report. */
    reset();
    lab_report();
    line(&pg[0], 30, "CONFIDENTIALITY NOTICE: This facsimile is intended only for the");
    line(&pg[0], 30, "recipient. If you have received this transmission in error, call us.");
    out = score(r, pg, 1);
    assert_string_equal(out.type, "lab_report");
    sv_ocr_rules_destroy(r);
}

static void test_title_area_counts_more(void **state)
{
    (void)state;
    sv_ocr_rules *r = rules();
    char err[128];
    assert_int_equal(sv_ocr_rules_set(r, "types", "min_score", "30", err, sizeof err), 0);
    reset();
    line(&pg[0], 45, "REFERRAL");
    assert_string_equal(score(r, pg, 1).type, "referral");
    /* The same word low on the page in body print is not enough ... */
    reset();
    body(&pg[0]);
    line(&pg[0], 30, "Referral");
    assert_string_equal(score(r, pg, 1).type, "other");
    /* ... but a large-font heading counts as a title anywhere on page 1. */
    reset();
    body(&pg[0]);
    line(&pg[0], 30, "Patient Example");
    line(&pg[0], 30, "Clinic Example");
    line(&pg[0], 70, "Referral");
    assert_string_equal(score(r, pg, 1).type, "referral");
    /* Page 2 has no title area. */
    reset();
    line(&pg[0], 30, "continued");
    line(&pg[1], 45, "REFERRAL");
    assert_string_equal(score(r, pg, 2).type, "other");
    sv_ocr_rules_destroy(r);
}

static void test_close_call_is_other(void **state)
{
    (void)state;
    sv_ocr_rules *r = rules();
    reset();
    body(&pg[0]);
    line(&pg[0], 30, "Laboratory and imaging summary");
    line(&pg[0], 30, "Specimen collected; ultrasound findings; impression pending");
    sv_ocr_result out = score(r, pg, 1);
    /* laboratory 6 + specimen 5 + collected 3 = 14 against imaging 6 +
     * ultrasound 5 + findings 4 + impression 5 = 20: within the margin. */
    assert_string_equal(out.type, "other");
    char err[128];
    assert_int_equal(sv_ocr_rules_set(r, "types", "margin", "1.2", err, sizeof err), 0);
    assert_string_equal(score(r, pg, 1).type, "radiology_report");
    sv_ocr_rules_destroy(r);
}

static void test_configured_types(void **state)
{
    (void)state;
    sv_ocr_rules *r = rules();
    char err[256];
    assert_int_equal(sv_ocr_rules_set(r, "types", "consent_form",
                                      "informed consent:12, consent:8, risks:3, benefits:3, "
                                      "I understand:3",
                                      err, sizeof err),
                     0);
    reset();
    line(&pg[0], 45, "INFORMED CONSENT FOR SURGERY");
    body(&pg[0]);
    line(&pg[0], 30, "I understand the risks, benefits and alternatives of the procedure.");
    assert_string_equal(score(r, pg, 1).type, "consent_form");
    /* An empty keyword list removes a type. */
    reset();
    referral();
    assert_string_equal(score(r, pg, 1).type, "referral");
    assert_int_equal(sv_ocr_rules_set(r, "types", "referral", "", err, sizeof err), 0);
    assert_string_equal(score(r, pg, 1).type, "other");
    /* Keywords match whole words only, in any case, across punctuation. */
    assert_int_equal(sv_ocr_rules_set(r, "types", "consent_form", "x-ray:40", err, sizeof err),
                     0);
    reset();
    body(&pg[0]);
    line(&pg[0], 30, "Chest X-RAY, 2 views");
    assert_string_equal(score(r, pg, 1).type, "consent_form");
    reset();
    body(&pg[0]);
    line(&pg[0], 30, "Chest x-rays, 2 views");
    assert_string_equal(score(r, pg, 1).type, "other");
    sv_ocr_rules_destroy(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_type),
        cmocka_unit_test(test_fax_cover_and_letter_are_other),
        cmocka_unit_test(test_title_area_counts_more),
        cmocka_unit_test(test_close_call_is_other),
        cmocka_unit_test(test_configured_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
