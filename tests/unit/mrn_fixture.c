/*
 * mrn_fixture.c - synthetic pages for the MRN rule tests; see mrn_fixture.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "mrn_fixture.h"

void line_at(page *p, int y)
{
    p->line++;
    p->y = y;
    p->x = 150;
}

/* A printed word at the pen position; the pen moves on by one space. */
ocr_word *word(page *p, const char *text)
{
    assert_true(p->n < MAX_WORDS);
    ocr_word *w = &p->w[p->n++];
    memset(w, 0, sizeof *w);
    size_t len = strnlen(text, sizeof w->text - 1);
    memcpy(w->text, text, len);
    w->text[len] = '\0';
    int width = CHAR_W * (int)strlen(text);
    w->box = (ocr_box){p->x, p->y, p->x + width, p->y + CHAR_H};
    w->conf = 95.0f;
    w->min_char_conf = 92.0f;
    w->glyph_irregularity = 0.03f;
    w->line = p->line;
    p->x += width + SPACE;
    return w;
}

/* Words of one line, separated by single spaces. */
void words(page *p, int y, const char *text)
{
    line_at(p, y);
    for (const char *s = text; *s != '\0'; s += s[0] == ' ') {
        size_t len = strcspn(s, " ");
        char w[OCR_WORD_MAX];
        snprintf(w, sizeof w, "%.*s", (int)len, s);
        if (len > 0)
            word(p, w);
        s += len;
    }
}

sv_ocr_rules *rules_default(void)
{
    sv_ocr_rules *r = NULL;
    char err[256];
    assert_int_equal(sv_ocr_rules_create(&r), 0);
    assert_int_equal(sv_ocr_rules_finish(r, err, sizeof err), 0);
    return r;
}

void set(sv_ocr_rules *r, const char *section, const char *key, const char *value)
{
    char err[256];
    assert_int_equal(sv_ocr_rules_set(r, section, key, value, err, sizeof err), 0);
    assert_int_equal(sv_ocr_rules_finish(r, err, sizeof err), 0);
}

ocr_page_words view(const page *p, int page_no)
{
    return (ocr_page_words){.page = page_no, .width = 2550, .height = 3300,
                            .words = p->w, .n_words = p->n};
}

/* Candidates of one page (fresh), for the candidate tests. */
size_t find(const sv_ocr_rules *r, const page *p, ocr_candidate *c, size_t max,
                   ocr_label_findings *found)
{
    size_t n = 0;
    memset(found, 0, sizeof *found);
    ocr_page_words pw = view(p, 1);
    int rc = ocr_find_candidates(r, &pw, c, max, &n, found);
    assert_true(rc == 0 || rc == SV_ELIMIT);
    return n;
}

/* What the engine does: candidates page by page, second read, decide. */
sv_ocr_result decide(const sv_ocr_rules *r, doc *d)
{
    ocr_candidate c[32];
    size_t n = 0;
    ocr_label_findings found = {0};
    bool overflowed = false;
    for (size_t i = 0; i < d->n_pages; i++) {
        ocr_page_words pw = view(&d->pages[i], (int)i + 1);
        if (ocr_find_candidates(r, &pw, c, 32, &n, &found) == SV_ELIMIT)
            overflowed = true;
    }
    for (size_t i = 0; i < n; i++)
        c[i].pub.second_read_agrees = d->second_read_agrees;
    ocr_evidence ev = {.candidates = c, .n_candidates = n, .candidates_overflowed = overflowed,
                       .labels = found, .barcodes = d->barcodes,
                       .n_barcodes = d->n_barcodes};
    sv_ocr_result out;
    memset(&out, 0x5a, sizeof out);
    ocr_decide(r, &ev, &out);
    if (out.status != SV_OCR_INDEX)
        assert_string_equal(out.mrn, "");
    else
        assert_int_equal(out.reason, SV_REASON_NONE);
    return out;
}

doc blank_doc(size_t n_pages)
{
    doc d;
    memset(&d, 0, sizeof d);
    d.n_pages = n_pages;
    d.second_read_agrees = true;
    return d;
}

doc one_line(const char *text)
{
    doc d = blank_doc(1);
    words(&d.pages[0], 300, "Patient: Jane Q Example");
    words(&d.pages[0], 360, text);
    return d;
}

void add_barcode(doc *d, const char *value, int page_no)
{
    ocr_barcode *b = &d->barcodes[d->n_barcodes++];
    snprintf(b->value, sizeof b->value, "%s", value);
    b->page = page_no;
}
