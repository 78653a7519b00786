/*
 * ocr_internal.h - shared between the files of ocr/ only. Never included from
 * outside this folder.
 *
 * Pieces and who owns them:
 *   rules.c     sv_ocr_rules: defaults, sv_ocr_rules_set, known-MRN list
 *   load.c      bytes -> pages (PIX), with the size/pixel/page limits
 *   candidates.c words on a page -> labelled MRN candidates
 *   decide.c    MRN format and check digits, sv_ocr_check_mrn, reason
 *               names; all candidates + barcodes -> index / review + reason
 *   doctype.c   words -> document type
 *   engine.c    sv_ocr: Tesseract, orientation, deskew, second read, zbar,
 *               and the glue of sv_ocr_extract_*
 */
#ifndef SV_OCR_INTERNAL_H
#define SV_OCR_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sv_ocr.h"

struct Pix;
struct Pixa;

/* ---- rules --------------------------------------------------------------- */

#define OCR_MAX_LABELS 32
#define OCR_LABEL_MAX 48
#define OCR_MAX_TYPES 16
#define OCR_MAX_KEYWORDS 48
#define OCR_KEYWORD_MAX 40

typedef enum ocr_check_digit {
    OCR_CHECK_NONE = 0,
    OCR_CHECK_LUHN = 1,  /* mod-10, Luhn, last digit is the check digit */
    OCR_CHECK_MOD11 = 2  /* mod-11, weights 2..7 from the right, last digit */
} ocr_check_digit;

typedef struct ocr_keyword {
    char phrase[OCR_KEYWORD_MAX + 1]; /* lower case, single spaces */
    int weight;
} ocr_keyword;

typedef struct ocr_doctype {
    char name[SV_TYPE_MAX + 1];
    size_t n_keywords;
    ocr_keyword keywords[OCR_MAX_KEYWORDS];
} ocr_doctype;

/* A field added here that a configuration key sets must also go into the
 * worker's copy (rules_wire.c). */
struct sv_ocr_rules {
    /* [mrn] */
    size_t n_labels;
    char labels[OCR_MAX_LABELS][OCR_LABEL_MAX + 1]; /* normalised label phrases */
    unsigned min_length, max_length;
    ocr_check_digit check_digit;
    float min_char_confidence;  /* 0..100, every MRN character must reach it */
    bool require_second_read;   /* a digits-only re-read must agree (or a barcode) */
    bool barcode_alone;         /* a barcode alone may file a document */
    float handwriting_irregularity; /* glyph irregularity above this = handwritten */
    char known_mrns_path[4096]; /* "" = no list */
    char (*known_mrns)[SV_MRN_MAX + 1]; /* sorted, loaded by rules_finish */
    size_t n_known_mrns;

    /* [types] */
    size_t n_types;
    ocr_doctype types[OCR_MAX_TYPES];
    int type_min_score;      /* below: "other" */
    float type_title_factor; /* keyword in the title area counts this many times */
    float type_margin;       /* best score must be >= margin x the runner-up */

    /* [ocr] limits and engine settings */
    size_t max_file_bytes;
    uint64_t max_page_pixels;
    unsigned max_pages;
    unsigned pdf_dpi;        /* rendering resolution for PDF pages without one image */
    bool detect_orientation;
    bool deskew;
    unsigned timeout_seconds; /* wall clock per document, enforced by the caller */
    uint64_t worker_memory;   /* address space of a worker process (RLIMIT_AS) */
    unsigned ocr_dpi;        /* full-page read on a copy reduced to this; 0 = as scanned */
};

/* Hard caps on the known-MRN list (rules.c refuses a bigger list). */
#define OCR_KNOWN_MRNS_MAX 20000000u
#define OCR_KNOWN_MRNS_FILE_MAX (512u * 1024u * 1024u)

/*
 * rules.c: the known-MRN list parser on bytes in memory (the file's contents)
 * instead of the file at rules->known_mrns_path, for tests and fuzzing: the
 * same parsing, checks and messages (which name known_mrns_path) as
 * sv_ocr_rules_finish, under rules' length and check-digit settings. Replaces
 * any list rules holds. piece > 0 hands the parser at most piece bytes at a
 * time, as short reads would; 0 = as much as its buffer takes. The caller
 * keeps buf. Returns 0 (rules->known_mrns sorted, at least one entry), or
 * SV_ECONFIG with the message in err, SV_ENOMEM, SV_EINVAL; the list is
 * empty after a failure.
 */
int ocr_rules_parse_known_mrns(sv_ocr_rules *rules, const uint8_t *buf, size_t len,
                               size_t piece, char *err, size_t err_len);

/* Exact-match search in the sorted known-MRN list. */
bool ocr_rules_is_known_mrn(const sv_ocr_rules *rules, const char *digits);

/* Is digits valid under the configured check-digit scheme? (decide.c) */
bool ocr_check_digit_ok(ocr_check_digit scheme, const char *digits);

/*
 * decide.c: text (spaces and dashes allowed) as an MRN under the length and
 * check-digit rules, ignoring the known-MRN list. Writes the digits to
 * digits (even when the check digit is wrong). Returns SV_REASON_NONE,
 * SV_REASON_BAD_FORMAT or SV_REASON_BAD_CHECK_DIGIT.
 */
sv_ocr_reason ocr_check_format(const sv_ocr_rules *rules, const char *text,
                               char digits[SV_MRN_MAX + 1]);

/* ---- text normalisation shared by rules, candidates and doctype ----------- */

#define OCR_TOKEN_MAX 24

/* One label token of a word: lower-case letters or digits; "#", "no",
 * "number", "num", "nbr", "nr" and U+2116 all become "no". start/end are
 * byte offsets into the text the token came from. */
typedef struct ocr_token {
    char text[OCR_TOKEN_MAX + 1];
    size_t start, end;
} ocr_token;

/*
 * candidates.c: split text into label tokens (runs of ASCII letters or of
 * digits; every other byte separates, '#' is a token of its own). Writes at
 * most max tokens and returns how many there are in all (may exceed max).
 */
size_t ocr_tokenize(const char *text, ocr_token *out, size_t max);

/*
 * candidates.c: a configured label in its matching form (tokens joined by
 * single spaces, letters only, not only "no"). Returns 0, or -1 when the
 * label is empty, has digits or is too long.
 */
int ocr_normalise_label(const char *text, char out[OCR_LABEL_MAX + 1]);

/*
 * doctype.c: a type keyword in its matching form (lower case; every byte but
 * letters, digits and an inner '-' is a space; single spaces). Returns 0, or
 * -1 when empty or too long.
 */
int ocr_normalise_phrase(const char *text, char out[OCR_KEYWORD_MAX + 1]);

/* doctype.c: replace rules->types with the built-in types and keywords. */
void ocr_default_types(sv_ocr_rules *rules);

/* ---- pages (load.c) ------------------------------------------------------ */

/* load_pdf.c: render a small built-in PDF in the standard fonts once, so that
 * poppler, cairo and fontconfig load their configuration and caches now,
 * before a sandbox forbids opening files (sv_ocr_preload). 0 or SV_EOCR. */
int ocr_pdf_preload(void);

/* load_pdf.c: is buf a PDF that draws text in a font it does not embed
 * (poppler would have to load a system font)? false for anything else. */
bool ocr_pdf_needs_system_fonts(const uint8_t *buf, size_t len);

/*
 * Decode every page of a document in memory into 8 bpp grey PIXs (one per
 * page, in order) within the rules' limits. On success *out holds the pages
 * (caller frees with pixaDestroy) and returns SV_REASON_NONE; otherwise *out
 * is NULL and the reject reason is returned. Never reads past len.
 */
sv_ocr_reason ocr_load_pages(const sv_ocr_rules *rules, const uint8_t *buf, size_t len,
                             struct Pixa **out);

/* ---- words (engine.c fills them) ------------------------------------------ */

typedef struct ocr_box {
    int x0, y0, x1, y1; /* page pixels, x1/y1 exclusive */
} ocr_box;

#define OCR_WORD_MAX 64

typedef struct ocr_word {
    char text[OCR_WORD_MAX];  /* UTF-8 as recognised, NUL-terminated */
    ocr_box box;
    float conf;               /* word confidence, 0..100 */
    float min_char_conf;      /* lowest symbol confidence in the word */
    float glyph_irregularity; /* 0 = printed-regular; larger = handwriting-like */
    int line;                 /* text line number on the page, reading order */
} ocr_word;

typedef struct ocr_page_words {
    int page; /* 1-based */
    int width, height;
    const ocr_word *words;
    size_t n_words;
} ocr_page_words;

/* Number the text lines of one page's words by geometry (lines.c says how)
 * and sort the words into reading order: line by line, top to bottom, each
 * left to right. Returns 0, SV_ENOMEM or SV_ELIMIT. */
int ocr_assign_lines(ocr_word *words, size_t n);

/* Does text hold an ASCII letter or digit? A word without one is a mark: a
 * table rule read as '|', a speck read as '.', a dash. */
bool ocr_has_letter_or_digit(const char *text);

/* The median height of the words with a positive height (text_only: only
 * those that hold a letter or a digit); 0 when there are none. */
int ocr_median_word_height(const ocr_word *words, size_t n, bool text_only);

/* ---- candidates (candidates.c) ------------------------------------------- */

typedef struct ocr_candidate {
    sv_ocr_candidate pub;       /* what the result reports */
    ocr_box box;                /* value region on its page, for the second read */
    float glyph_irregularity;   /* max over the value's words */
    bool needs_second_read;
} ocr_candidate;

/* What the labels of a document's pages showed besides candidates; the
 * finder only ever sets these, so one struct gathers a whole document. */
typedef struct ocr_label_findings {
    bool unclear_label;    /* a word one edit from a label next to an
                              MRN-shaped number (or a page's words lost) */
    bool unreadable_value; /* a label heading a column over a cell that is not
                              a number */
} ocr_label_findings;

/*
 * Find the labelled MRN candidates on one page: a configured label followed on
 * the same line by a digit group (dashes/spaces allowed), or a label with the
 * value directly below it (table layout). Unlabelled numbers are never
 * candidates. Sets found's flags (see there). Appends to out (capacity max),
 * *n is in/out. Returns 0 or SV_ELIMIT when out is full (extra candidates
 * already make the document a review).
 */
int ocr_find_candidates(const sv_ocr_rules *rules, const ocr_page_words *page,
                        ocr_candidate *out, size_t max, size_t *n, ocr_label_findings *found);

/* ---- barcodes (engine.c fills them) --------------------------------------- */

#define OCR_BARCODE_MAX 64

typedef struct ocr_barcode {
    char value[OCR_BARCODE_MAX]; /* as decoded */
    int page;
    ocr_box box;                 /* where the scan lines crossed it on its page */
} ocr_barcode;

/* ---- decision (decide.c) -------------------------------------------------- */

typedef struct ocr_evidence {
    const ocr_candidate *candidates; /* text candidates, all pages */
    size_t n_candidates;
    bool candidates_overflowed;
    ocr_label_findings labels;
    const ocr_barcode *barcodes;     /* all barcodes, all pages */
    size_t n_barcodes;
} ocr_evidence;

/*
 * DESIGN.md section 3: exactly one distinct well-formed, confident,
 * corroborated MRN across all pages and sources, else review with a reason.
 * Fills status, reason, mrn and candidates of out; leaves the rest alone.
 */
void ocr_decide(const sv_ocr_rules *rules, const ocr_evidence *evidence, sv_ocr_result *out);

/* ---- document type (doctype.c) -------------------------------------------- */

/*
 * Score the configured types over the words of all pages; the first page's
 * top area counts as the title. Writes the best type (or "other") and a
 * confidence 0..1 into out->type / out->type_confidence.
 */
void ocr_score_type(const sv_ocr_rules *rules, const ocr_page_words *pages, size_t n_pages,
                    sv_ocr_result *out);

#endif
