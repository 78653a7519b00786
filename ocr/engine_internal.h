/*
 * engine_internal.h - the engine side of ocr/ (engine.c, preprocess.c,
 * read.c, barcode.c). Never included from outside this folder.
 */
#ifndef SV_OCR_ENGINE_INTERNAL_H
#define SV_OCR_ENGINE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <leptonica/allheaders.h>
#include <tesseract/capi.h>

#include "ocr_internal.h"

/* Most words kept for one document (all pages). Past it, words are dropped
 * and the list says so (is_truncated): a document whose text was not all
 * seen goes to review, since a second MRN may be among the dropped words. */
#define OCR_MAX_WORDS 60000
/* Most barcodes kept for one document; more sends it to review likewise. */
#define OCR_MAX_BARCODES 64
/* Most text candidates kept for one document (more means review anyway). */
#define OCR_MAX_TEXT_CANDIDATES 32

/* ---- preprocess.c ---- */

/* A 1 bpp copy of an 8 bpp page (adaptive Otsu). Caller destroys. */
PIX *ocr_binarize(PIX *grey);
typedef enum ocr_orient_certainty {
    OCR_ORIENT_UNKNOWN = 0, /* no usable evidence; 0 quads returned */
    OCR_ORIENT_LIKELY = 1,  /* weak but one-sided evidence */
    OCR_ORIENT_SURE = 2
} ocr_orient_certainty;

/* Quarter turns clockwise that make the text upright (0..3), and how sure
 * the text statistics are of it. */
int ocr_orientation_quads(PIX *binary, int ppi, ocr_orient_certainty *certainty);
/* The skew of the text lines in degrees, 0 when small or unsure. */
float ocr_skew_degrees(PIX *binary, int ppi);
/* A new grey page turned by quads quarter turns clockwise, then by
 * skew_degrees. Caller destroys; NULL on allocation failure. */
PIX *ocr_rotate_grey(PIX *grey, int quads, float skew_degrees);

/* ---- read.c ---- */

typedef struct ocr_word_list {
    ocr_word *words;
    size_t n, cap;
    bool is_truncated; /* a word was dropped at OCR_MAX_WORDS */
} ocr_word_list;

/*
 * Recognise a whole page (already upright; image may be a reduced copy at
 * image_ppi) and append its words in reading order to list, with line
 * numbers, confidences, and boxes in page coordinates (image coordinates times
 * to_page). For digit words, the glyph irregularity is measured on binary, the
 * full-resolution binary page. Returns 0, SV_ENOMEM or SV_EOCR.
 */
int ocr_read_page(TessBaseAPI *tess, PIX *image, int image_ppi, float to_page, PIX *binary,
                  ocr_word_list *list);

/*
 * Read one region of an upright grey page as a single block of text (2x
 * enlarged below 250 ppi); append its words with page coordinates. For
 * small print the full-page read missed, such as a patient label.
 * Returns 0, SV_ENOMEM or SV_EOCR.
 */
int ocr_read_region(TessBaseAPI *tess, PIX *grey, int ppi, const ocr_box *region, PIX *binary,
                    ocr_word_list *list);

/*
 * The second read of an MRN value: its box on the full-resolution grey page,
 * digits only. Writes the digits read (possibly "") to digits (capacity cap);
 * false when the engine gave no text.
 */
bool ocr_read_digits(TessBaseAPI *tess, PIX *grey, int ppi, const ocr_box *box, char *digits,
                     size_t cap);

/*
 * A third, independent read of an MRN value box (full resolution, local
 * thresholds, every character allowed, per-character confidences). True only
 * when the region holds a plain number: digits with dashes between them and
 * at most punctuation around them; then digits and the lowest character
 * confidence are set.
 */
bool ocr_read_value(TessBaseAPI *tess, PIX *grey, int ppi, const ocr_box *box, char *digits,
                    size_t cap, float *min_conf);

/* ---- barcode.c ---- */

typedef struct zbar_image_scanner_s zbar_image_scanner_t;

/* A scanner for Code 128 and Code 39 on horizontal scan lines. */
zbar_image_scanner_t *ocr_barcode_scanner_create(void);
void ocr_barcode_scanner_destroy(zbar_image_scanner_t *scanner);
/*
 * Decode the barcodes on an upright grey page; append up to max - *n of them
 * to out with their page number. Returns 0; SV_ENOMEM; SV_ELIMIT when a
 * barcode could not be kept (out full, or one whose data holds a NUL byte)
 * or zbar failed: then barcodes may have been missed.
 */
int ocr_read_barcodes(zbar_image_scanner_t *scanner, PIX *grey, int page, ocr_barcode *out,
                      size_t max, size_t *n);

#endif
