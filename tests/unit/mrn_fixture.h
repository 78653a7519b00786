/*
 * mrn_fixture.h - synthetic pages for the MRN rule tests (test_mrn_rules.c,
 * test_mrn_tables.c): word lists laid out like a 300 dpi scan of 10 pt print
 * (digits 30 px high, about 22 px a character, 12 px between words), which
 * is what the engine hands to ocr_find_candidates, and the engine's own
 * sequence of candidates, second read and decision over them.
 */
#ifndef MRN_FIXTURE_H
#define MRN_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

#include "ocr_internal.h"
#include "sv_ocr.h"

#define CHAR_W 22
#define CHAR_H 30
#define SPACE 12
#define MAX_WORDS 128

typedef struct page {
    ocr_word w[MAX_WORDS];
    size_t n;
    int line, x, y;
} page;

typedef struct doc {
    page pages[3];
    size_t n_pages;
    ocr_barcode barcodes[4];
    size_t n_barcodes;
    bool second_read_agrees;
} doc;

/* Start a new line at y; the pen goes to the left margin. */
void line_at(page *p, int y);
/* A printed word at the pen position; the pen moves on by one space. */
ocr_word *word(page *p, const char *text);
/* Words of one line, separated by single spaces. */
void words(page *p, int y, const char *text);
/* The built-in rules, finished. */
sv_ocr_rules *rules_default(void);
/* Set one key of r and finish it again (fails the test on an error). */
void set(sv_ocr_rules *r, const char *section, const char *key, const char *value);
/* The page as the engine hands it over. */
ocr_page_words view(const page *p, int page_no);
/* Candidates of one page (fresh), for the candidate tests. */
size_t find(const sv_ocr_rules *r, const page *p, ocr_candidate *c, size_t max,
            ocr_label_findings *found);
/* What the engine does: candidates page by page, second read, decide. */
sv_ocr_result decide(const sv_ocr_rules *r, doc *d);
/* An empty document of n_pages pages whose second reads agree. */
doc blank_doc(size_t n_pages);
/* A one-page document: a patient line, then text. */
doc one_line(const char *text);
/* A barcode with value on page page_no. */
void add_barcode(doc *d, const char *value, int page_no);

#endif
