/*
 * sv_ocr.h - the extraction core: load a scanned document, OCR it, find the
 * patient's MRN and the document type, and decide whether it can be filed
 * automatically.
 *
 * This module never sees a key and never writes a file. It reads untrusted
 * bytes, so every input is bounded by the limits in sv_ocr_rules.
 *
 * Two handles:
 *   sv_ocr_rules  the decision rules and limits (labels, MRN format, check
 *                 digit, confidences, known-MRN list, type keywords). Built
 *                 from defaults, then changed key by key (the configuration
 *                 file loader feeds it section/key/value triples).
 *   sv_ocr        one initialised OCR engine (Tesseract, barcode scanner)
 *                 reused for many documents. Not thread-safe: one per thread
 *                 or process.
 *
 * Caveats:
 *   - The result never carries page text: only the decision, the MRN when the
 *     decision is "index", and figures. Callers must still treat the MRN as PHI.
 */
#ifndef SV_OCR_H
#define SV_OCR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sv_err.h"

/* Longest MRN (digits) any configuration may allow. */
#define SV_MRN_MAX 20
/* Longest document type name. */
#define SV_TYPE_MAX 31
/* Most candidates reported in a result. */
#define SV_OCR_MAX_CANDIDATES 8

/* What should happen to a document. */
typedef enum sv_ocr_status {
    SV_OCR_INDEX = 0,  /* file automatically under result.mrn */
    SV_OCR_REVIEW = 1, /* hold for a person; result.reason says why */
    SV_OCR_REJECT = 2  /* not a readable document; result.reason says why */
} sv_ocr_status;

/*
 * Reason codes (machine-readable, stable). X(enum, "code", "words").
 * Review reasons first, then reject reasons, then later additions of either
 * kind (append only: the numbers are stored).
 */
#define SV_OCR_REASONS(X)                                                              \
    X(SV_REASON_NONE, "none", "no reason")                                             \
    X(SV_REASON_NO_MRN, "no_mrn", "no labelled MRN found")                             \
    X(SV_REASON_CONFLICTING_MRNS, "conflicting_mrns", "two or more different MRNs")   \
    X(SV_REASON_LOW_CONFIDENCE, "low_confidence", "MRN read with low confidence")      \
    X(SV_REASON_SECOND_READ_DISAGREE, "second_read_disagree",                          \
      "a second read of the MRN disagrees")                                            \
    X(SV_REASON_BAD_CHECK_DIGIT, "bad_check_digit", "MRN check digit is wrong")        \
    X(SV_REASON_BAD_FORMAT, "bad_format", "labelled value is not a well-formed MRN")   \
    X(SV_REASON_UNKNOWN_MRN, "unknown_mrn", "MRN is not on the known-MRN list")        \
    X(SV_REASON_BARCODE_TEXT_DISAGREE, "barcode_text_disagree",                        \
      "barcode and printed MRN disagree")                                              \
    X(SV_REASON_HANDWRITTEN_ONLY, "handwritten_only", "MRN is only handwritten")       \
    X(SV_REASON_UNCLEAR_LABEL, "unclear_label",                                        \
      "a label that may be an MRN label could not be read clearly")                    \
    X(SV_REASON_BARCODE_ONLY, "barcode_only", "MRN only in a barcode, not in print")   \
    X(SV_REASON_EMPTY_FILE, "empty_file", "the file is empty")                         \
    X(SV_REASON_UNSUPPORTED_FORMAT, "unsupported_format",                              \
      "not a PNG, JPEG, TIFF or PDF file")                                             \
    X(SV_REASON_TRUNCATED, "truncated", "the file is truncated")                       \
    X(SV_REASON_CORRUPT, "corrupt", "the image data cannot be decoded")                \
    X(SV_REASON_FILE_TOO_BIG, "file_too_big", "the file exceeds the size limit")       \
    X(SV_REASON_TOO_MANY_PIXELS, "too_many_pixels",                                    \
      "a page exceeds the pixel limit")                                                \
    X(SV_REASON_TOO_MANY_PAGES, "too_many_pages", "the document exceeds the page limit") \
    X(SV_REASON_ENCRYPTED_PDF, "encrypted_pdf", "the PDF is encrypted")                \
    X(SV_REASON_NO_PAGES, "no_pages", "the document has no pages")                     \
    X(SV_REASON_OCR_FAILED, "ocr_failed", "the OCR engine failed on this document")    \
    X(SV_REASON_WORKER_CRASHED, "worker_crashed", "the OCR worker crashed")            \
    X(SV_REASON_TIMEOUT, "timeout", "the OCR worker ran out of time")                  \
    X(SV_REASON_UNREADABLE, "unreadable", "the file cannot be read")                   \
    X(SV_REASON_FONTS_NOT_EMBEDDED, "fonts_not_embedded",                              \
      "the PDF's text is in fonts it does not embed, which the sandboxed reader cannot load") \
    X(SV_REASON_UNREADABLE_VALUE, "unreadable_value",                                  \
      "an MRN label heads a value that could not be read as a number")

typedef enum sv_ocr_reason {
#define SV_OCR_REASON_ENUM(name, code, words) name,
    SV_OCR_REASONS(SV_OCR_REASON_ENUM)
#undef SV_OCR_REASON_ENUM
        SV_REASON_COUNT
} sv_ocr_reason;

/* Where an MRN candidate came from. */
typedef enum sv_ocr_source {
    SV_SOURCE_LABEL_RIGHT = 0, /* value right of a label on the same line */
    SV_SOURCE_LABEL_BELOW = 1, /* value below a label (table layout) */
    SV_SOURCE_BARCODE = 2      /* Code 128 / Code 39 on the page */
} sv_ocr_source;

/* One MRN candidate as seen on the document (for review, never logged). */
typedef struct sv_ocr_candidate {
    char digits[SV_MRN_MAX + 1]; /* normalised: digits only */
    sv_ocr_source source;
    int page;                    /* 1-based */
    float min_char_conf;         /* lowest per-character confidence, 0..100 */
    bool second_read_agrees;     /* digits-only re-read matched */
    bool is_handwritten;         /* glyphs irregular like handwriting */
    sv_ocr_reason problem;       /* what is wrong with it, or NONE */
} sv_ocr_candidate;

/* Where the time went, in milliseconds. */
typedef struct sv_ocr_timing {
    double load, orient, ocr, second_read, barcode, decide, total;
} sv_ocr_timing;

/*
 * The outcome for one document. Fixed size, no pointers: it can be copied
 * over a socket as it is (the worker protocol frames it).
 */
typedef struct sv_ocr_result {
    sv_ocr_status status;
    sv_ocr_reason reason;        /* NONE when status is INDEX */
    char mrn[SV_MRN_MAX + 1];    /* set only when status is INDEX, else "" */
    char type[SV_TYPE_MAX + 1];  /* document type; "other" when unsure */
    float type_confidence;       /* 0..1 */
    int pages;
    size_t n_candidates;
    sv_ocr_candidate candidates[SV_OCR_MAX_CANDIDATES];
    sv_ocr_timing ms;
} sv_ocr_result;

typedef struct sv_ocr_rules sv_ocr_rules;
typedef struct sv_ocr sv_ocr;

/* The stable code ("no_mrn") and the words ("no labelled MRN found") of a
 * reason; never NULL. */
const char *sv_ocr_reason_code(sv_ocr_reason reason);
const char *sv_ocr_reason_words(sv_ocr_reason reason);
/* "index", "review" or "reject". */
const char *sv_ocr_status_name(sv_ocr_status status);

/*
 * Rules with the built-in defaults (documented in docs/configuration.md).
 * Returns 0, or SV_ENOMEM. *out is NULL on failure.
 */
int sv_ocr_rules_create(sv_ocr_rules **out);
void sv_ocr_rules_destroy(sv_ocr_rules *rules);

/*
 * Set one configuration key of the sections this module owns: [mrn], [types]
 * and [ocr]. Returns 0; SV_ENOTFOUND for a section or key this module does not
 * know (the caller decides whether that is an error); SV_ECONFIG for a bad
 * value, with a message (no value echoed back) written to err.
 */
int sv_ocr_rules_set(sv_ocr_rules *rules, const char *section, const char *key,
                     const char *value, char *err, size_t err_len);

/*
 * Check the rules as a whole after all keys are set (min <= max, known-MRN
 * list readable, ...). Loads the known-MRN list if one is configured.
 * Returns 0 or SV_ECONFIG with a message in err.
 */
int sv_ocr_rules_finish(sv_ocr_rules *rules, char *err, size_t err_len);

/*
 * Is this string (spaces and dashes allowed) a well-formed MRN under the rules:
 * length range, check digit, known list? Writes the normalised digits to out
 * (size SV_MRN_MAX + 1) on success. Returns SV_REASON_NONE or the reason it
 * is not (BAD_FORMAT, BAD_CHECK_DIGIT, UNKNOWN_MRN). Used for MRNs typed by
 * people as well as read by OCR.
 */
sv_ocr_reason sv_ocr_check_mrn(const sv_ocr_rules *rules, const char *text,
                               char out[SV_MRN_MAX + 1]);

/* The configured wall-clock limit for one document, in seconds (enforced by
 * whoever runs the engine in a worker process). */
unsigned sv_ocr_rules_timeout_seconds(const sv_ocr_rules *rules);

/* The configured address-space limit of a worker process, in bytes ([ocr]
 * worker_memory; applied by the worker itself before its first document). */
uint64_t sv_ocr_rules_worker_memory(const sv_ocr_rules *rules);

/* Largest encoding sv_ocr_rules_encode() ever writes. */
#define SV_OCR_RULES_WIRE_MAX (64u * 1024u)

/*
 * Encode the rules, field by field, for a worker process of the same build
 * (ocr/rules_wire.c; the known-MRN list goes by its path, not its entries).
 * Writes at most cap bytes to buf and the length to *len. Returns 0, or
 * SV_ELIMIT when cap is too small (SV_OCR_RULES_WIRE_MAX always suffices).
 */
int sv_ocr_rules_encode(const sv_ocr_rules *rules, uint8_t *buf, size_t cap, size_t *len);

/*
 * Rebuild rules from sv_ocr_rules_encode() bytes (exactly len of them), then
 * sv_ocr_rules_finish (cross-checks; loads the known-MRN list from its path).
 * Free *out with sv_ocr_rules_destroy. Returns 0; SV_EFORMAT (malformed,
 * another format version, trailing bytes); the errors of
 * sv_ocr_rules_finish; SV_ENOMEM. The message is in err. *out is NULL on
 * failure.
 */
int sv_ocr_rules_decode(sv_ocr_rules **out, const uint8_t *buf, size_t len, char *err,
                        size_t err_len);

/*
 * Initialise one engine with these rules (the rules must outlive the engine).
 * Loads Tesseract's English model once. Returns 0, SV_ENOMEM, or SV_EOCR when
 * the language data cannot be loaded.
 */
int sv_ocr_create(sv_ocr **out, const sv_ocr_rules *rules);
void sv_ocr_destroy(sv_ocr *ocr);

/*
 * Prepare the engine for a process about to lose the right to open files by
 * name (the worker sandbox): load now what it would otherwise open on first
 * need (Tesseract's OSD model, its debug log, the PDF renderer's
 * configuration and standard fonts). From then on the engine assumes it
 * cannot open files: a PDF that draws text in a font it does not embed
 * (which poppler would load from the system) may have lost that text, so it
 * is never filed automatically: its verdict becomes REVIEW with reason
 * fonts_not_embedded (unless it is rejected). A missing OSD model is not an
 * error (orientation then rests on Leptonica, as without the model).
 * Returns 0, or SV_EOCR when the PDF renderer could not be set up.
 */
int sv_ocr_preload(sv_ocr *ocr);

/*
 * Extract from a document held in memory (buf, len). Never fails on bad
 * input: an unreadable document is a result with status REJECT and a reason.
 * Returns 0, or SV_ENOMEM / SV_EOCR when the engine itself failed (then *out
 * is a REJECT with SV_REASON_OCR_FAILED).
 */
int sv_ocr_extract_mem(sv_ocr *ocr, const uint8_t *buf, size_t len, sv_ocr_result *out);

/*
 * Extract from an open file descriptor (read from its current offset to EOF,
 * at most the configured byte limit). The descriptor is not closed.
 * Same returns as sv_ocr_extract_mem; a read error gives REJECT/unreadable.
 */
int sv_ocr_extract_fd(sv_ocr *ocr, int fd, sv_ocr_result *out);

#endif
