/*
 * load_pdf.c - PDF -> pages with poppler-glib and cairo, in process, no
 * helper programs.
 *
 * Every page is rendered at rules->pdf_dpi onto white, in poppler's printing
 * mode, and reduced to 8 bpp grey. A scanned page (one full-page image) is
 * rendered too rather than extracted: poppler_page_get_image() allocates the
 * image at the size its dictionary claims (up to 32767 x 32767 x 4 bytes)
 * before we could check it, while the rendered raster is the size we have
 * checked, and printing mode caps each embedded image at 8192 pixels a side.
 * Before the first page is rendered, every page's size is checked, and so are
 * the sizes of the embedded images as their dictionaries and JPEG headers give
 * them (poppler decodes all of an image's rows however small it is drawn, and
 * libjpeg at the size the JPEG says).
 * Decisions: docs/ocr-loading.md.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <cairo.h>
#include <glib.h>
#include <poppler.h>

#include "load_internal.h"

/* How far before the end the "%%EOF" marker may sit (some writers append a
 * newline, padding or junk after it). */
#define PDF_EOF_WINDOW 1024

/* A PDF header may sit after some junk; readers search this far for it (as
 * load.c does to tell a PDF). */
#define PDF_HEADER_WINDOW 1024

/* Declared image XObjects may hold this many times the page pixel limit. */
#define PDF_IMAGE_PIXEL_FACTOR 4

/* Poppler opens a damaged file by rebuilding its cross-reference table, so a
 * file it still refuses is truncated when its end marker is missing. */
static bool has_eof_marker(const uint8_t *buf, size_t len)
{
    size_t from = len > PDF_EOF_WINDOW ? len - PDF_EOF_WINDOW : 0;
    return memmem(buf + from, len - from, "%%EOF", 5) != NULL;
}

static bool is_pdf_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\0';
}

static bool is_pdf_delimiter(uint8_t c)
{
    return strchr("()<>[]{}/%", c) != NULL && c != '\0';
}

/* Largest number following the name key (e.g. "/Width 2480") anywhere in the
 * file, 0 when none. Image dictionaries are stream dictionaries, which are
 * never inside compressed object streams, so they are plain text here even
 * in PDF 1.5 files and encrypted ones. */
static uint64_t largest_key_value(const uint8_t *buf, size_t len, const char *key)
{
    size_t key_len = strlen(key);
    const uint8_t *at = buf, *end = buf + len;
    uint64_t largest = 0;

    while ((at = memmem(at, (size_t)(end - at), key, key_len)) != NULL) {
        at += key_len;
        if (at < end && !is_pdf_space(*at) && !is_pdf_delimiter(*at))
            continue; /* a longer name, e.g. /Widths */
        while (at < end && is_pdf_space(*at))
            at++;
        if (at < end && *at == '+')
            at++;
        /* Nine digits at most: the product of two cannot overflow. */
        uint64_t value = 0;
        for (int digits = 0; at < end && *at >= '0' && *at <= '9' && digits < 9; digits++)
            value = value * 10 + (uint64_t)(*at++ - '0');
        if (value > largest)
            largest = value;
    }
    return largest;
}

/*
 * Poppler decodes every row of an embedded image even to draw it small: a
 * 700-byte file declaring a 30000 x 30000 image costs over 10 s of CPU. The
 * widest and tallest declared images together must stay within
 * PDF_IMAGE_PIXEL_FACTOR page limits. Inline images and sizes given by
 * indirect reference escape this check; the worker's time limit remains.
 */
static sv_ocr_reason check_declared_images(const sv_ocr_rules *rules, const uint8_t *buf,
                                           size_t len)
{
    uint64_t width = largest_key_value(buf, len, "/Width");
    uint64_t height = largest_key_value(buf, len, "/Height");
    if (width > 0 && height > 0 &&
        width * height / PDF_IMAGE_PIXEL_FACTOR > rules->max_page_pixels)
        return SV_REASON_TOO_MANY_PIXELS;
    return SV_REASON_NONE;
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

/* Frame size of the JPEG at p (len bytes available), found by walking the
 * length-delimited segments before its frame header. False when p does not
 * hold a JPEG (a chained filter, another stream). */
static bool jpeg_frame_size(const uint8_t *p, size_t len, uint64_t *pixels, bool *is_progressive)
{
    if (len < 2 || p[0] != 0xff || p[1] != 0xd8)
        return false;
    for (size_t pos = 2; len - pos >= 9;) {
        uint8_t marker = p[pos + 1];
        if (p[pos] != 0xff)
            return false;
        if (marker == 0xff) {
            pos++;
            continue;
        }
        if (marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 &&
            marker != 0xcc) {
            *pixels = (uint64_t)be16(p + pos + 5) * be16(p + pos + 7);
            *is_progressive = (marker & 0x03) == 0x02; /* SOF2, SOF6, SOF10, SOF14 */
            return true;
        }
        size_t segment = be16(p + pos + 2);
        if (segment < 2 || marker == 0xda || (marker >= 0xd0 && marker <= 0xd9))
            return false;
        if (segment > len - pos - 2)
            return false;
        pos += 2 + segment;
    }
    return false;
}

/* The next "stream" keyword (not the end of "endstream") at or after at. */
static const uint8_t *next_stream_keyword(const uint8_t *at, const uint8_t *end,
                                          const uint8_t *buf)
{
    while ((at = memmem(at, (size_t)(end - at), "stream", 6)) != NULL) {
        if (at == buf || at[-1] != 'd')
            return at;
        at += 6;
    }
    return NULL;
}

/*
 * libjpeg decodes a DCTDecode image at the size its own frame header gives,
 * whatever the image dictionary says: a 1 KB progressive JPEG claiming
 * 65000 x 65000 took 41 s and 8 GB before this check. For each /DCTDecode,
 * the data after the next "stream" keyword is read as a JPEG; its frame must
 * stay within PDF_IMAGE_PIXEL_FACTOR page limits, a progressive one (which
 * holds all its coefficients in memory) within one. Each byte is searched
 * once. Chained filters ([/FlateDecode /DCTDecode]) hide the JPEG: the
 * worker's limits remain for those.
 */
static sv_ocr_reason check_embedded_jpegs(const sv_ocr_rules *rules, const uint8_t *buf,
                                          size_t len)
{
    const uint8_t *at = buf, *end = buf + len;

    while ((at = memmem(at, (size_t)(end - at), "/DCTDecode", 10)) != NULL) {
        const uint8_t *keyword = next_stream_keyword(at + 10, end, buf);
        if (keyword == NULL)
            break;
        const uint8_t *data = keyword + 6;
        if (data < end && *data == '\r')
            data++;
        if (data < end && *data == '\n')
            data++;
        uint64_t pixels = 0;
        bool is_progressive = false;
        if (jpeg_frame_size(data, (size_t)(end - data), &pixels, &is_progressive)) {
            uint64_t limit = rules->max_page_pixels * (is_progressive ? 1 : PDF_IMAGE_PIXEL_FACTOR);
            if (pixels > limit)
                return SV_REASON_TOO_MANY_PIXELS;
        }
        at = data;
    }
    return SV_REASON_NONE;
}

/* Raster size of a page at pdf_dpi (crop box, rotation applied). */
static sv_ocr_reason page_raster_size(const sv_ocr_rules *rules, PopplerPage *page, int *width,
                                      int *height)
{
    double width_pt = 0.0, height_pt = 0.0;
    double scale = (double)rules->pdf_dpi / 72.0;

    poppler_page_get_size(page, &width_pt, &height_pt);
    double width_px = width_pt * scale, height_px = height_pt * scale;
    /* Written so that NaN fails too. */
    if (!(width_px >= 0.5 && height_px >= 0.5 && width_px < OCR_LOAD_MAX_SIDE &&
          height_px < OCR_LOAD_MAX_SIDE))
        return SV_REASON_TOO_MANY_PIXELS;
    /* Positive here, so adding a half and truncating rounds (no libm). */
    *width = (int)(width_px + 0.5);
    *height = (int)(height_px + 0.5);
    return ocr_load_check_pixels(rules, (uint64_t)*width, (uint64_t)*height);
}

/* ITU-R BT.601 luma of each 0x00RRGGBB pixel into an 8 bpp PIX. */
static PIX *surface_to_grey(cairo_surface_t *surface, int width, int height)
{
    PIX *pix = pixCreate(width, height, 8);
    if (pix == NULL)
        return NULL;
    const unsigned char *data = cairo_image_surface_get_data(surface);
    int stride = cairo_image_surface_get_stride(surface);
    l_uint32 *pix_data = pixGetData(pix);
    l_int32 wpl = pixGetWpl(pix);
    for (int y = 0; y < height; y++) {
        const uint32_t *row = (const uint32_t *)(const void *)(data + (size_t)y * (size_t)stride);
        l_uint32 *line = pix_data + (size_t)y * (size_t)wpl;
        for (int x = 0; x < width; x++) {
            uint32_t rgb = row[x];
            uint32_t luma = ((rgb >> 16 & 0xff) * 19595u + (rgb >> 8 & 0xff) * 38470u +
                             (rgb & 0xff) * 7471u + 32768u) >> 16;
            SET_DATA_BYTE(line, x, (l_uint8)luma);
        }
    }
    return pix;
}

static sv_ocr_reason render_page(const sv_ocr_rules *rules, PopplerPage *page, int width,
                                 int height, PIXA *pages)
{
    sv_ocr_reason reason = SV_REASON_OCR_FAILED;
    cairo_t *cr = NULL;
    PIX *pix = NULL;
    double scale = (double)rules->pdf_dpi / 72.0;

    cairo_surface_t *surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
    if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS)
        goto out;
    cr = cairo_create(surface);
    if (cairo_status(cr) != CAIRO_STATUS_SUCCESS)
        goto out;
    cairo_set_source_rgb(cr, 1.0, 1.0, 1.0);
    cairo_paint(cr);
    cairo_scale(cr, scale, scale);
    poppler_page_render_for_printing(page, cr);
    if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
        reason = SV_REASON_CORRUPT;
        goto out;
    }
    cairo_destroy(cr);
    cr = NULL;
    cairo_surface_flush(surface);
    pix = surface_to_grey(surface, width, height);
    if (pix == NULL)
        goto out;
    /* Free the colour raster before the page joins the others. */
    cairo_surface_destroy(surface);
    surface = NULL;
    reason = ocr_load_add_page(pages, &pix, (int)rules->pdf_dpi, (int)rules->pdf_dpi);
out:
    pixDestroy(&pix);
    if (cr != NULL)
        cairo_destroy(cr);
    if (surface != NULL)
        cairo_surface_destroy(surface);
    return reason;
}

/* Render page index (0-based), its size checked again on the way. */
static sv_ocr_reason load_page(const sv_ocr_rules *rules, PopplerDocument *doc, int index,
                               PIXA *pages, bool render)
{
    int width = 0, height = 0;
    PopplerPage *page = poppler_document_get_page(doc, index);
    if (page == NULL)
        return SV_REASON_CORRUPT;
    sv_ocr_reason reason = page_raster_size(rules, page, &width, &height);
    if (reason == SV_REASON_NONE && render)
        reason = render_page(rules, page, width, height, pages);
    g_object_unref(page);
    return reason;
}

sv_ocr_reason ocr_load_pdf(const sv_ocr_rules *rules, const uint8_t *buf, size_t len,
                           PIXA *pages)
{
    GError *error = NULL;
    PopplerDocument *doc = NULL;
    sv_ocr_reason reason;

    /* No copy: buf outlives the document, which is gone before we return. */
    GBytes *bytes = g_bytes_new_static(buf, len);
    doc = poppler_document_new_from_bytes(bytes, NULL, &error);
    if (doc == NULL) {
        if (error != NULL && error->domain == POPPLER_ERROR &&
            error->code == POPPLER_ERROR_ENCRYPTED)
            reason = SV_REASON_ENCRYPTED_PDF;
        else
            reason = has_eof_marker(buf, len) ? SV_REASON_CORRUPT : SV_REASON_TRUNCATED;
        goto out;
    }
    int n_pages = poppler_document_get_n_pages(doc);
    if (n_pages <= 0) {
        reason = SV_REASON_NO_PAGES;
        goto out;
    }
    if ((unsigned)n_pages > rules->max_pages) {
        reason = SV_REASON_TOO_MANY_PAGES;
        goto out;
    }
    /* Sizes of all images and pages first: a huge last page fails before any
     * work is done. */
    reason = check_declared_images(rules, buf, len);
    if (reason == SV_REASON_NONE)
        reason = check_embedded_jpegs(rules, buf, len);
    for (int i = 0; i < n_pages && reason == SV_REASON_NONE; i++)
        reason = load_page(rules, doc, i, pages, false);
    for (int i = 0; i < n_pages && reason == SV_REASON_NONE; i++)
        reason = load_page(rules, doc, i, pages, true);
out:
    if (doc != NULL)
        g_object_unref(doc);
    g_bytes_unref(bytes);
    g_clear_error(&error);
    return reason;
}

bool ocr_pdf_needs_system_fonts(const uint8_t *buf, size_t len)
{
    if (memmem(buf, len < PDF_HEADER_WINDOW ? len : PDF_HEADER_WINDOW, "%PDF-", 5) == NULL)
        return false;
    GBytes *bytes = g_bytes_new_static(buf, len);
    PopplerDocument *doc = poppler_document_new_from_bytes(bytes, NULL, NULL);
    bool needs_system_fonts = false;
    if (doc != NULL) {
        PopplerFontInfo *info = poppler_font_info_new(doc);
        PopplerFontsIter *iter = NULL;
        int n_pages = poppler_document_get_n_pages(doc);
        if (info != NULL && n_pages > 0 && poppler_font_info_scan(info, n_pages, &iter) &&
            iter != NULL) {
            do {
                /* Type 3 fonts are drawn from the file itself. */
                if (!poppler_fonts_iter_is_embedded(iter) &&
                    poppler_fonts_iter_get_font_type(iter) != POPPLER_FONT_TYPE_TYPE3)
                    needs_system_fonts = true;
            } while (!needs_system_fonts && poppler_fonts_iter_next(iter));
        }
        if (iter != NULL)
            poppler_fonts_iter_free(iter);
        if (info != NULL)
            poppler_font_info_free(info);
        g_object_unref(doc);
    }
    g_bytes_unref(bytes);
    return needs_system_fonts;
}

/* One page with a line in each of the 14 standard fonts, which a PDF may use
 * without embedding them: rendering it loads fontconfig's configuration and
 * caches and poppler's global parameters. */
static const char preload_pdf[] =
    "%PDF-1.4\n"
    "1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    "2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
    "3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Resources << /Font << /F1 "
    "5 0 R /F2 6 0 R /F3 7 0 R /F4 8 0 R /F5 9 0 R /F6 10 0 R /F7 11 0 R /F8 12 0 R /F9 13 0 "
    "R /F10 14 0 R /F11 15 0 R /F12 16 0 R /F13 17 0 R /F14 18 0 R >> >> /Contents 4 0 R >> "
    "endobj\n"
    "4 0 obj << /Length 374 >>\n"
    "stream\n"
    "BT /F1 8 Tf 2 190 Td (A1) Tj /F2 8 Tf 2 -12 Td (A1) Tj /F3 8 Tf 2 -12 Td (A1) Tj /F4 8 "
    "Tf 2 -12 Td (A1) Tj /F5 8 Tf 2 -12 Td (A1) Tj /F6 8 Tf 2 -12 Td (A1) Tj /F7 8 Tf 2 -12 "
    "Td (A1) Tj /F8 8 Tf 2 -12 Td (A1) Tj /F9 8 Tf 2 -12 Td (A1) Tj /F10 8 Tf 2 -12 Td (A1) "
    "Tj /F11 8 Tf 2 -12 Td (A1) Tj /F12 8 Tf 2 -12 Td (A1) Tj /F13 8 Tf 2 -12 Td (A1) Tj "
    "/F14 8 Tf 2 -12 Td (A1) Tj ET\n"
    "endstream endobj\n"
    "5 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> endobj\n"
    "6 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold >> endobj\n"
    "7 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Oblique >> endobj\n"
    "8 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica-BoldOblique >> endobj\n"
    "9 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Times-Roman >> endobj\n"
    "10 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Times-Bold >> endobj\n"
    "11 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Times-Italic >> endobj\n"
    "12 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Times-BoldItalic >> endobj\n"
    "13 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Courier >> endobj\n"
    "14 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Courier-Bold >> endobj\n"
    "15 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Courier-Oblique >> endobj\n"
    "16 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Courier-BoldOblique >> endobj\n"
    "17 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Symbol >> endobj\n"
    "18 0 obj << /Type /Font /Subtype /Type1 /BaseFont /ZapfDingbats >> endobj\n"
    "xref\n"
    "0 19\n"
    "0000000000 65535 f \n"
    "0000000009 00000 n \n"
    "0000000058 00000 n \n"
    "0000000115 00000 n \n"
    "0000000385 00000 n \n"
    "0000000810 00000 n \n"
    "0000000880 00000 n \n"
    "0000000955 00000 n \n"
    "0000001033 00000 n \n"
    "0000001115 00000 n \n"
    "0000001187 00000 n \n"
    "0000001259 00000 n \n"
    "0000001333 00000 n \n"
    "0000001411 00000 n \n"
    "0000001480 00000 n \n"
    "0000001554 00000 n \n"
    "0000001631 00000 n \n"
    "0000001712 00000 n \n"
    "0000001780 00000 n \n"
    "trailer << /Size 19 /Root 1 0 R >>\n"
    "startxref\n"
    "1854\n"
    "%%EOF\n";

int ocr_pdf_preload(void)
{
    /* Kept for the life of the process: poppler-glib keeps its global
     * parameters (the poppler-data directories: CMaps, name-to-Unicode
     * tables) only while some document exists. Font files themselves are
     * opened again for each document, so in a sandbox a font a PDF does not
     * embed stays unavailable (ocr_pdf_needs_system_fonts). */
    static PopplerDocument *kept;
    if (kept != NULL)
        return 0;
    GError *error = NULL;
    GBytes *bytes = g_bytes_new_static(preload_pdf, sizeof preload_pdf - 1);
    PopplerDocument *doc = poppler_document_new_from_bytes(bytes, NULL, &error);
    PopplerPage *page = doc != NULL ? poppler_document_get_page(doc, 0) : NULL;
    cairo_surface_t *surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 200, 200);
    cairo_t *cr = cairo_create(surface);
    int rc = SV_EOCR;
    if (page != NULL && cairo_status(cr) == CAIRO_STATUS_SUCCESS) {
        poppler_page_render_for_printing(page, cr);
        rc = cairo_status(cr) == CAIRO_STATUS_SUCCESS ? 0 : SV_EOCR;
    }
    cairo_destroy(cr);
    cairo_surface_destroy(surface);
    if (page != NULL)
        g_object_unref(page);
    if (rc == 0)
        kept = doc;
    else if (doc != NULL)
        g_object_unref(doc);
    g_bytes_unref(bytes);
    g_clear_error(&error);
    return rc;
}
