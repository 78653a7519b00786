/*
 * load_fixture.c - the shared fixture of the loader unit tests.
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

static const char *const reason_code[] = {
#define REASON_CODE(name, code, words) code,
    SV_OCR_REASONS(REASON_CODE)
#undef REASON_CODE
};


void put(bytes *b, const void *data, size_t len)
{
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + len)
            cap *= 2;
        b->data = realloc(b->data, cap);
        assert_non_null(b->data);
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
}

void put_text(bytes *b, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof line);
    put(b, line, (size_t)n);
}

/* v as n_bytes bytes, little- or big-endian. */
void put_int(bytes *b, uint32_t v, int n_bytes, bool big_endian)
{
    for (int i = 0; i < n_bytes; i++) {
        int shift = 8 * (big_endian ? n_bytes - 1 - i : i);
        put(b, &(uint8_t){(uint8_t)(v >> shift)}, 1);
    }
}

/* Take ownership of a buffer a Leptonica writer returned. */
bytes from_lept(l_uint8 *data, size_t len)
{
    bytes b = {0};
    put(&b, data, len);
    lept_free(data);
    return b;
}

size_t find(const bytes *b, const void *needle, size_t len)
{
    const uint8_t *at = memmem(b->data, b->len, needle, len);
    assert_non_null(at);
    return (size_t)(at - b->data);
}

/* ---- the loader, timed ---------------------------------------------------- */

int setup_rules(void **state)
{
    sv_ocr_rules *rules = calloc(1, sizeof *rules);
    if (rules == NULL)
        return -1;
    rules->max_file_bytes = (size_t)100 << 20;
    rules->max_page_pixels = 60000000;
    rules->max_pages = 50;
    rules->pdf_dpi = 300;
    *state = rules;
    return 0;
}

int teardown_rules(void **state)
{
    free(*state);
    return 0;
}

double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void expect_reject(const sv_ocr_rules *rules, const uint8_t *data, size_t len,
                   sv_ocr_reason want)
{
    PIXA *pages = (PIXA *)&pages; /* must be cleared, never dereferenced */
    double start = now_seconds();
    sv_ocr_reason got = ocr_load_pages(rules, data, len, &pages);
    double took = now_seconds() - start;
    assert_string_equal(reason_code[got], reason_code[want]);
    assert_null(pages);
    assert_true(took < HANG_GUARD_SECONDS);
}

PIXA *expect_pages(const sv_ocr_rules *rules, const bytes *b, int n_pages)
{
    PIXA *pages = NULL;
    sv_ocr_reason got = ocr_load_pages(rules, b->data, b->len, &pages);
    assert_string_equal(reason_code[got], reason_code[SV_REASON_NONE]);
    assert_non_null(pages);
    assert_int_equal(pixaGetCount(pages), n_pages);
    return pages;
}

/* Page i is width x height, 8 bpp grey, res x res ppi. With a box, its box
 * (see test_page) is ink and its far corner paper, within tolerance. */
void expect_page(PIXA *pages, int i, int width, int height, int res, bool has_box,
                 unsigned tolerance)
{
    l_int32 xres = 0, yres = 0;
    l_uint32 ink = 255, paper = 0;
    PIX *pix = pixaGetPix(pages, i, L_CLONE);
    assert_non_null(pix);
    assert_int_equal(pixGetWidth(pix), width);
    assert_int_equal(pixGetHeight(pix), height);
    assert_int_equal(pixGetDepth(pix), 8);
    assert_null(pixGetColormap(pix));
    pixGetResolution(pix, &xres, &yres);
    assert_int_equal(xres, res);
    assert_int_equal(yres, res);
    if (has_box) {
        pixGetPixel(pix, width / 4 + width / 8, height / 4 + height / 8, &ink);
        pixGetPixel(pix, width - 2, height - 2, &paper);
        assert_true(ink <= tolerance);
        assert_true(paper >= 255 - tolerance);
    }
    pixDestroy(&pix);
}

/* Load b, which must be one page of width x height at res with its box;
 * frees b. */
void expect_one_page(const sv_ocr_rules *rules, bytes b, int width, int height, int res,
                     unsigned tolerance)
{
    PIXA *pages = expect_pages(rules, &b, 1);
    expect_page(pages, 0, width, height, res, true, tolerance);
    pixaDestroy(&pages);
    free(b.data);
}

/* expect_reject on all of b; frees b. */
void reject(const sv_ocr_rules *rules, bytes b, sv_ocr_reason want)
{
    expect_reject(rules, b.data, b.len, want);
    free(b.data);
}

/* ---- documents ------------------------------------------------------------ */

/* White page of the given depth with a black box at (w/4, h/4), w/4 x h/4. */
PIX *test_page(int width, int height, int depth, int res)
{
    PIX *pix = pixCreate(width, height, depth);
    assert_non_null(pix);
    BOX *box = boxCreate(width / 4, height / 4, width / 4, height / 4);
    if (depth == 1) {
        pixSetInRect(pix, box); /* 1 is black */
    } else {
        pixSetAll(pix);
        pixClearInRect(pix, box);
    }
    boxDestroy(&box);
    pixSetResolution(pix, res, res);
    return pix;
}

bytes png_of(PIX *pix)
{
    l_uint8 *data = NULL;
    size_t len = 0;
    assert_int_equal(pixWriteMemPng(&data, &len, pix, 0.0f), 0);
    pixDestroy(&pix);
    return from_lept(data, len);
}

bytes jpeg_of(PIX *pix, bool is_progressive)
{
    l_uint8 *data = NULL;
    size_t len = 0;
    assert_int_equal(pixWriteMemJpeg(&data, &len, pix, 90, is_progressive), 0);
    pixDestroy(&pix);
    return from_lept(data, len);
}

/* G4 TIFF of 1 bpp pages of the given sizes at 200 ppi. */
bytes g4_tiff(const int sizes[][2], int n)
{
    l_uint8 *data = NULL;
    size_t len = 0;
    PIXA *pixa = pixaCreate(n);
    for (int i = 0; i < n; i++)
        pixaAddPix(pixa, test_page(sizes[i][0], sizes[i][1], 1, 200), L_INSERT);
    assert_int_equal(pixaWriteMemMultipageTiff(&data, &len, pixa), 0);
    pixaDestroy(&pixa);
    return from_lept(data, len);
}

/*
 * A TIFF written byte by byte: n 1x1 uncompressed 1 bpp pages, each IFD
 * followed by its one data byte (the layout of writers that put the directory
 * first). Cheap enough for thousands of pages.
 */
bytes tiny_tiff(unsigned n, bool big_endian)
{
    bytes b = {0};
    put(&b, big_endian ? "MM\0*" : "II*\0", 4);
    put_int(&b, 8, 4, big_endian);
    static const uint16_t tags[8][2] = {{256, 1}, {257, 1}, {258, 1}, {259, 1},
                                        {262, 0}, {273, 0}, {278, 1}, {279, 1}};
    for (unsigned page = 0; page < n; page++) {
        uint32_t ifd = (uint32_t)b.len;
        put_int(&b, 8, 2, big_endian);
        for (int i = 0; i < 8; i++) {
            put_int(&b, tags[i][0], 2, big_endian);
            if (tags[i][0] == 273) { /* the strip offset: LONG */
                put_int(&b, 4, 2, big_endian);
                put_int(&b, 1, 4, big_endian);
                put_int(&b, ifd + 102, 4, big_endian);
            } else { /* SHORT, left-justified in the value field */
                put_int(&b, 3, 2, big_endian);
                put_int(&b, 1, 4, big_endian);
                put_int(&b, tags[i][1], 2, big_endian);
                put_int(&b, 0, 2, big_endian);
            }
        }
        put_int(&b, page + 1 < n ? ifd + 104 : 0, 4, big_endian);
        put(&b, "\x80\0", 2); /* the pixel (black), then padding */
    }
    return b;
}
