/*
 * load_internal.h - shared between load.c (dispatch, PNG, JPEG, TIFF) and
 * load_pdf.c (PDF) only. Never included from outside this folder; the rest of
 * ocr/ sees only ocr_load_pages() in ocr_internal.h.
 */
#ifndef SV_OCR_LOAD_INTERNAL_H
#define SV_OCR_LOAD_INTERNAL_H

#include <stdint.h>

#include <leptonica/allheaders.h>

#include "ocr_internal.h"

/* Longest side of any page in pixels, whatever the pixel limit: cairo's image
 * surface limit, 2.7 m of paper at 300 dpi. Keeps row sizes sane too. */
#define OCR_LOAD_MAX_SIDE 32767

/* Resolution given to a page whose file states none, or an implausible one. */
#define OCR_LOAD_DEFAULT_PPI 300

/*
 * Is a page of width x height pixels acceptable under the rules? Returns
 * SV_REASON_NONE, or SV_REASON_TOO_MANY_PIXELS when a side is zero or longer
 * than OCR_LOAD_MAX_SIDE, or the product exceeds rules->max_page_pixels.
 * Called with header values, before anything of that size is allocated.
 */
sv_ocr_reason ocr_load_check_pixels(const sv_ocr_rules *rules, uint64_t width, uint64_t height);

/*
 * Append one decoded page to pages as 8 bpp grey: alpha is flattened over
 * white, colour maps, RGB, 1/2/4/16 bpp are converted; the resolution becomes
 * xres x yres (OCR_LOAD_DEFAULT_PPI when unknown or implausible). Takes *pix
 * in every case and sets it to NULL. Returns SV_REASON_NONE, or
 * SV_REASON_OCR_FAILED when a conversion could not allocate.
 */
sv_ocr_reason ocr_load_add_page(PIXA *pages, PIX **pix, int xres, int yres);

/*
 * Decode a PDF (buf starts with or contains "%PDF-" near its start) into
 * pages with poppler-glib: password needed -> ENCRYPTED_PDF, more pages than
 * rules->max_pages -> TOO_MANY_PAGES, none -> NO_PAGES, a page whose raster at
 * rules->pdf_dpi breaks the pixel limit -> TOO_MANY_PIXELS (checked for every
 * page before the first is rendered). Pages are rendered at pdf_dpi on white.
 * On failure pages may hold some pages already; the caller discards them.
 */
sv_ocr_reason ocr_load_pdf(const sv_ocr_rules *rules, const uint8_t *buf, size_t len,
                           PIXA *pages);

#endif
