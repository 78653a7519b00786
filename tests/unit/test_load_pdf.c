/*
 * test_load_pdf.c - ocr_load_pages() on PDFs made at test time: multi-page
 * documents from cairo's PDF surface, page limits, and hostile PDFs written
 * byte by byte (encrypted, huge media box, images claiming huge sizes).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <cairo-pdf.h>
#include <cairo.h>
#include <leptonica/allheaders.h>
#include "ocr_internal.h"

#include "load_fixture.h"

static cairo_status_t write_bytes(void *closure, const unsigned char *data, unsigned int len)
{
    put(closure, data, len);
    return CAIRO_STATUS_SUCCESS;
}

/* PDF from cairo: one page per size (points), each with test_page's box. */
static bytes cairo_pdf(const double sizes[][2], int n)
{
    bytes b = {0};
    cairo_surface_t *surface =
        cairo_pdf_surface_create_for_stream(write_bytes, &b, sizes[0][0], sizes[0][1]);
    cairo_t *cr = cairo_create(surface);
    for (int i = 0; i < n; i++) {
        double w = sizes[i][0], h = sizes[i][1];
        cairo_pdf_surface_set_size(surface, w, h);
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_rectangle(cr, w / 4, h / 4, w / 4, h / 4);
        cairo_fill(cr);
        cairo_show_page(cr);
    }
    cairo_destroy(cr);
    cairo_surface_finish(surface);
    assert_int_equal(cairo_surface_status(surface), CAIRO_STATUS_SUCCESS);
    cairo_surface_destroy(surface);
    return b;
}

/* A PDF written by hand: objects 1..n (1 is the catalog), the last one a
 * stream object holding stream when that is not NULL, a correct xref table,
 * and extra trailer entries. */
static bytes hand_pdf(const char *const *objects, size_t n, const char *trailer_extra,
                      const bytes *stream)
{
    bytes b = {0};
    size_t offsets[16];
    assert_true(n < 16);
    put_text(&b, "%%PDF-1.4\n");
    for (size_t i = 0; i < n; i++) {
        offsets[i] = b.len;
        put_text(&b, "%zu 0 obj\n%s\n", i + 1, objects[i]);
        if (stream != NULL && i + 1 == n) {
            put_text(&b, "stream\n");
            put(&b, stream->data, stream->len);
            put_text(&b, "\nendstream\n");
        }
        put_text(&b, "endobj\n");
    }
    size_t xref = b.len;
    put_text(&b, "xref\n0 %zu\n0000000000 65535 f \n", n + 1);
    for (size_t i = 0; i < n; i++)
        put_text(&b, "%010zu 00000 n \n", offsets[i]);
    put_text(&b, "trailer\n<< /Size %zu /Root 1 0 R %s >>\nstartxref\n%zu\n%%%%EOF\n", n + 1,
             trailer_extra, xref);
    return b;
}

static const char *const pdf_catalog = "<< /Type /Catalog /Pages 2 0 R >>";
/* Objects 2-4 of a one-page PDF whose page draws image 5 over all of it. */
#define PDF_IMAGE_PAGE                                                                   \
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",                                         \
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792]"                           \
        " /Resources << /XObject << /Im1 5 0 R >> >> /Contents 4 0 R >>",                \
        "<< /Length 30 >>\nstream\nq 612 0 0 792 0 0 cm /Im1 Do Q\nendstream"

/* PNG chunk CRC (ISO 3309), to patch headers into otherwise valid files. */

static void test_pdf_multipage_rendered_on_white(void **state)
{
    sv_ocr_rules *rules = *state;
    static const double sizes[3][2] = {{612, 792}, {595, 842}, {792, 612}};
    rules->pdf_dpi = 150;
    bytes b = cairo_pdf(sizes, 3);
    PIXA *pages = expect_pages(rules, &b, 3);
    expect_page(pages, 0, 1275, 1650, 150, true, 2);
    expect_page(pages, 1, 1240, 1754, 150, true, 2); /* A4: 1239.6 x 1754.2 */
    expect_page(pages, 2, 1650, 1275, 150, true, 2);
    pixaDestroy(&pages);
    free(b.data);

    /* A page turned by /Rotate and one cut down by its /CropBox. */
    const char *const turned[] = {
        pdf_catalog,
        "<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Rotate 90 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /CropBox [0 0 306 396] >>",
    };
    rules->pdf_dpi = 72;
    b = hand_pdf(turned, 4, "", NULL);
    pages = expect_pages(rules, &b, 2);
    expect_page(pages, 0, 792, 612, 72, false, 0);
    expect_page(pages, 1, 306, 396, 72, false, 0);
    pixaDestroy(&pages);
    free(b.data);
}


static void test_page_limits(void **state)
{
    sv_ocr_rules *rules = *state;
    static const double sizes[3][2] = {{200, 200}, {200, 200}, {200, 200}};
    const char *const no_pages[] = {pdf_catalog, "<< /Type /Pages /Kids [] /Count 0 >>"};

    reject(rules, tiny_tiff(5000, false), SV_REASON_TOO_MANY_PAGES);
    rules->max_pages = 2;
    reject(rules, cairo_pdf(sizes, 3), SV_REASON_TOO_MANY_PAGES);
    reject(rules, tiny_tiff(3, true), SV_REASON_TOO_MANY_PAGES);
    reject(rules, hand_pdf(no_pages, 2, "", NULL), SV_REASON_NO_PAGES);
}


static void test_hostile_pdfs(void **state)
{
    sv_ocr_rules *rules = *state;

    /* Standard security handler, RC4-40: the empty user password does not
     * match /U, so poppler needs a password. */
    const char *const encrypted[] = {
        pdf_catalog,
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
        "<< /Filter /Standard /V 1 /R 2 /P -44"
        " /O <0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef>"
        " /U <fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210> >>",
    };
    reject(rules,
           hand_pdf(encrypted, 4,
                    "/Encrypt 4 0 R /ID [<00112233445566778899aabbccddeeff>"
                    " <00112233445566778899aabbccddeeff>]",
                    NULL),
           SV_REASON_ENCRYPTED_PDF);

    const char *const huge[] = {
        pdf_catalog,
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200000 200000] >>",
    };
    reject(rules, hand_pdf(huge, 3, "", NULL), SV_REASON_TOO_MANY_PIXELS);

    /* A good page before a huge one: refused before anything is rendered. */
    const char *const mixed[] = {
        pdf_catalog,
        "<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 14400 14400] >>",
    };
    reject(rules, hand_pdf(mixed, 4, "", NULL), SV_REASON_TOO_MANY_PIXELS);

    /* An image that claims 16000 x 16000 pixels (over 4 page limits) in a
     * 700-byte file: poppler would spend seconds decoding its rows to draw it
     * on a Letter page (11 s at 30000 x 30000). */
    static const bytes eight = {(uint8_t *)"\x01\x02\x03\x04\x05\x06\x07\x08", 8, 8};
    const char *const big_image[] = {
        pdf_catalog, PDF_IMAGE_PAGE,
        "<< /Type /XObject /Subtype /Image /Width 16000 /Height 16000 /ColorSpace"
        " /DeviceGray /BitsPerComponent 8 /Length 8 >>"};
    reject(rules, hand_pdf(big_image, 5, "", &eight), SV_REASON_TOO_MANY_PIXELS);

    /* A JPEG behind an image dictionary of 64 x 64 loads. libjpeg decodes at
     * the size the JPEG's frame says (a progressive one claiming 65000 x 65000
     * took 41 s and 8 GB), so a baseline frame over 4 page limits and a
     * progressive one over 1 are refused. */
    char image[160];
    const char *const jpeg_image[] = {pdf_catalog, PDF_IMAGE_PAGE, image};
    rules->pdf_dpi = 72;
    for (int is_progressive = 0; is_progressive <= 1; is_progressive++) {
        bytes jpeg = jpeg_of(test_page(64, 64, 8, 0), is_progressive);
        snprintf(image, sizeof image,
                 "<< /Type /XObject /Subtype /Image /Width 64 /Height 64 /ColorSpace"
                 " /DeviceGray /BitsPerComponent 8 /Filter /DCTDecode /Length %zu >>",
                 jpeg.len);
        bytes b = hand_pdf(jpeg_image, 5, "", &jpeg);
        PIXA *pages = expect_pages(rules, &b, 1);
        expect_page(pages, 0, 612, 792, 72, true, 24);
        pixaDestroy(&pages);
        free(b.data);
        size_t frame = find(&jpeg, is_progressive ? "\xff\xc2" : "\xff\xc0", 2);
        /* 65000 x 65000 baseline; 8000 x 8000 (64 Mpx) progressive */
        memcpy(jpeg.data + frame + 5, is_progressive ? "\x1f\x40\x1f\x40" : "\xfd\xe8\xfd\xe8", 4);
        reject(rules, hand_pdf(jpeg_image, 5, "", &jpeg), SV_REASON_TOO_MANY_PIXELS);
        free(jpeg.data);
    }

    /* A header and junk: truncated without its end marker, else corrupt. */
    static const char junk[] = "%PDF-1.7\n\x01\x02 this is not a document at all \x7f\n";
    expect_reject(rules, (const uint8_t *)junk, sizeof junk - 1, SV_REASON_TRUNCATED);
    static const char junk_eof[] = "%PDF-1.7\n\x01\x02 not a document \x7f\n%%EOF\n";
    expect_reject(rules, (const uint8_t *)junk_eof, sizeof junk_eof - 1, SV_REASON_CORRUPT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define TEST(fn) cmocka_unit_test_setup_teardown(fn, setup_rules, teardown_rules)
        TEST(test_pdf_multipage_rendered_on_white),
        TEST(test_page_limits),
        TEST(test_hostile_pdfs),
#undef TEST
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
