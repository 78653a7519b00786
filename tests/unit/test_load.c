/*
 * test_load.c - ocr_load_pages() on real files made at test time.
 *
 * Good documents are written by the real writers (Leptonica for PNG, JPEG and
 * G4 TIFF, cairo's PDF surface for PDF) plus the Pillow-written seed corpus of
 * fuzz_load; bad ones are made from good ones (cut, patched headers, garbled
 * data) or written byte by byte (a 5000-page TIFF, an encrypted PDF, a PDF
 * with a 200000 pt media box). Every bad input must be refused with its
 * reason, leave *out NULL, and take under HANG_GUARD_SECONDS (a hang guard,
 * not a benchmark: the real figures are milliseconds).
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

#define HANG_GUARD_SECONDS 2.0

static const char *const reason_code[] = {
#define REASON_CODE(name, code, words) code,
    SV_OCR_REASONS(REASON_CODE)
#undef REASON_CODE
};

/* A growable byte buffer: documents under construction. */
typedef struct bytes {
    uint8_t *data;
    size_t len, cap;
} bytes;

static void put(bytes *b, const void *data, size_t len)
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

static void put_text(bytes *b, const char *fmt, ...)
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
static void put_int(bytes *b, uint32_t v, int n_bytes, bool big_endian)
{
    for (int i = 0; i < n_bytes; i++) {
        int shift = 8 * (big_endian ? n_bytes - 1 - i : i);
        put(b, &(uint8_t){(uint8_t)(v >> shift)}, 1);
    }
}

/* Take ownership of a buffer a Leptonica writer returned. */
static bytes from_lept(l_uint8 *data, size_t len)
{
    bytes b = {0};
    put(&b, data, len);
    lept_free(data);
    return b;
}

static size_t find(const bytes *b, const void *needle, size_t len)
{
    const uint8_t *at = memmem(b->data, b->len, needle, len);
    assert_non_null(at);
    return (size_t)(at - b->data);
}

/* ---- the loader, timed ---------------------------------------------------- */

static int setup_rules(void **state)
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

static int teardown_rules(void **state)
{
    free(*state);
    return 0;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void expect_reject(const sv_ocr_rules *rules, const uint8_t *data, size_t len,
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

static PIXA *expect_pages(const sv_ocr_rules *rules, const bytes *b, int n_pages)
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
static void expect_page(PIXA *pages, int i, int width, int height, int res, bool has_box,
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
static void expect_one_page(const sv_ocr_rules *rules, bytes b, int width, int height, int res,
                            unsigned tolerance)
{
    PIXA *pages = expect_pages(rules, &b, 1);
    expect_page(pages, 0, width, height, res, true, tolerance);
    pixaDestroy(&pages);
    free(b.data);
}

/* expect_reject on all of b; frees b. */
static void reject(const sv_ocr_rules *rules, bytes b, sv_ocr_reason want)
{
    expect_reject(rules, b.data, b.len, want);
    free(b.data);
}

/* ---- documents ------------------------------------------------------------ */

/* White page of the given depth with a black box at (w/4, h/4), w/4 x h/4. */
static PIX *test_page(int width, int height, int depth, int res)
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

static bytes png_of(PIX *pix)
{
    l_uint8 *data = NULL;
    size_t len = 0;
    assert_int_equal(pixWriteMemPng(&data, &len, pix, 0.0f), 0);
    pixDestroy(&pix);
    return from_lept(data, len);
}

static bytes jpeg_of(PIX *pix, bool is_progressive)
{
    l_uint8 *data = NULL;
    size_t len = 0;
    assert_int_equal(pixWriteMemJpeg(&data, &len, pix, 90, is_progressive), 0);
    pixDestroy(&pix);
    return from_lept(data, len);
}

/* G4 TIFF of 1 bpp pages of the given sizes at 200 ppi. */
static bytes g4_tiff(const int sizes[][2], int n)
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
static bytes tiny_tiff(unsigned n, bool big_endian)
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
static uint32_t crc32_of(const uint8_t *p, size_t len)
{
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    return crc ^ 0xffffffffu;
}

static void put_be32_at(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* A valid PNG whose IHDR (CRC fixed) claims width x height. */
static bytes png_claiming(uint32_t width, uint32_t height)
{
    bytes b = png_of(test_page(16, 16, 8, 0));
    put_be32_at(b.data + 16, width);
    put_be32_at(b.data + 20, height);
    put_be32_at(b.data + 29, crc32_of(b.data + 12, 17));
    return b;
}

/* ---- good documents ------------------------------------------------------- */

static void test_png_to_grey(void **state)
{
    expect_one_page(*state, png_of(test_page(300, 200, 8, 150)), 300, 200, 150, 0);
    /* RGB without a resolution: 300 ppi is assumed. */
    expect_one_page(*state, png_of(test_page(120, 80, 32, 0)), 120, 80, 300, 0);
    expect_one_page(*state, png_of(test_page(64, 48, 16, 400)), 64, 48, 400, 0);

    PIX *pix = test_page(64, 48, 1, 200);
    PIX *mapped = pixConvert1To8Cmap(pix); /* 8 bpp with a white/black palette */
    pixDestroy(&pix);
    pixSetResolution(mapped, 200, 200);
    expect_one_page(*state, png_of(mapped), 64, 48, 200, 0);

    /* Transparent black around an opaque black box: flattened over white. */
    pix = pixCreate(80, 60, 32);
    pixSetSpp(pix, 4);
    BOX *box = boxCreate(20, 15, 20, 15);
    pixSetInRectArbitrary(pix, box, 0x000000ff);
    boxDestroy(&box);
    expect_one_page(*state, png_of(pix), 80, 60, 300, 0);
}

static void test_jpeg_grey_and_colour(void **state)
{
    expect_one_page(*state, jpeg_of(test_page(320, 240, 8, 200), false), 320, 240, 200, 24);
    expect_one_page(*state, jpeg_of(test_page(320, 240, 32, 150), false), 320, 240, 150, 24);
    expect_one_page(*state, jpeg_of(test_page(320, 240, 32, 150), true), 320, 240, 150, 24);
}

static void test_tiff_g4_multipage(void **state)
{
    static const int sizes[3][2] = {{400, 300}, {300, 400}, {200, 200}};
    bytes b = g4_tiff(sizes, 3);
    PIXA *pages = expect_pages(*state, &b, 3);
    for (int i = 0; i < 3; i++)
        expect_page(pages, i, sizes[i][0], sizes[i][1], 200, true, 0);
    pixaDestroy(&pages);
    free(b.data);
}

static void test_tiff_directory_first_layout(void **state)
{
    sv_ocr_rules *rules = *state;
    for (int big_endian = 0; big_endian <= 1; big_endian++) {
        bytes b = tiny_tiff(2, big_endian);
        PIXA *pages = expect_pages(rules, &b, 2);
        expect_page(pages, 1, 1, 1, 300, false, 0);
        PIX *pix = pixaGetPix(pages, 1, L_CLONE);
        l_uint32 value = 255;
        pixGetPixel(pix, 0, 0, &value);
        assert_int_equal(value, 0); /* its one pixel is black */
        pixDestroy(&pix);
        pixaDestroy(&pages);
        /* Exactly at the page limit is fine. */
        rules->max_pages = 2;
        pages = expect_pages(rules, &b, 2);
        pixaDestroy(&pages);
        free(b.data);
        rules->max_pages = 50;
    }
}

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

static bytes read_seed(const char *name)
{
    char path[1024];
    bytes b = {0};
    uint8_t chunk[4096];
    size_t got;
    int n = snprintf(path, sizeof path, "%s/%s", SV_LOAD_SEED_DIR, name);
    assert_true(n > 0 && (size_t)n < sizeof path);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        put(&b, chunk, got);
    fclose(f);
    return b;
}

/* The Pillow-written fuzz seeds: another writer's idea of each format. */
static void test_seed_corpus(void **state)
{
    static const struct {
        const char *name;
        int pages, width[3], height[3], res;
    } seeds[] = {
        {"seed_grey.png", 1, {96}, {64}, 150},
        {"seed_palette.png", 1, {96}, {64}, 300},
        {"seed_rgb.jpg", 1, {96}, {64}, 200},
        {"seed_g4_3pages.tif", 3, {120, 80, 64}, {80, 120, 64}, 200},
        {"seed_rgb_lzw.tif", 1, {80}, {60}, 100},
        {"seed_2pages.pdf", 2, {200, 200}, {280, 280}, 100}, /* 144 x 201.6 pt */
    };
    sv_ocr_rules *rules = *state;
    rules->pdf_dpi = 100;
    for (size_t s = 0; s < sizeof seeds / sizeof seeds[0]; s++) {
        bytes b = read_seed(seeds[s].name);
        PIXA *pages = expect_pages(rules, &b, seeds[s].pages);
        for (int i = 0; i < seeds[s].pages; i++)
            expect_page(pages, i, seeds[s].width[i], seeds[s].height[i], seeds[s].res, true,
                        40);
        pixaDestroy(&pages);
        free(b.data);
    }
}

/* ---- bad documents -------------------------------------------------------- */

static void test_empty_too_big_and_unknown(void **state)
{
    sv_ocr_rules *rules = *state;
    static const uint8_t nothing[1] = {0};
    expect_reject(rules, nothing, 0, SV_REASON_EMPTY_FILE);

    /* A text file whatever its name ("letter.pdf"): no magic, no %PDF-. */
    static const char letter[] = "Dear colleague,\nplease find the discharge summary.\n";
    expect_reject(rules, (const uint8_t *)letter, sizeof letter - 1,
                  SV_REASON_UNSUPPORTED_FORMAT);

    /* A binary blob; then a %PDF- that starts after the first 1024 bytes. */
    bytes b = {0};
    uint32_t x = 2463534242u;
    for (int i = 0; i < 4096; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        put(&b, &x, 1);
    }
    expect_reject(rules, b.data, b.len, SV_REASON_UNSUPPORTED_FORMAT);
    memcpy(b.data + 1100, "%PDF-1.4", 8);
    reject(rules, b, SV_REASON_UNSUPPORTED_FORMAT);

    b = png_of(test_page(64, 64, 8, 0));
    rules->max_file_bytes = b.len - 1;
    reject(rules, b, SV_REASON_FILE_TOO_BIG);
}

static void test_truncated_images(void **state)
{
    static const int sizes[3][2] = {{400, 300}, {300, 400}, {200, 200}};
    sv_ocr_rules *rules = *state;

    bytes b = png_of(test_page(300, 200, 32, 0));
    expect_reject(rules, b.data, b.len / 2, SV_REASON_TRUNCATED);
    expect_reject(rules, b.data, b.len - 12, SV_REASON_TRUNCATED); /* no IEND */
    free(b.data);

    b = jpeg_of(test_page(300, 200, 32, 0), false);
    expect_reject(rules, b.data, b.len / 2, SV_REASON_TRUNCATED);
    expect_reject(rules, b.data, b.len - 2, SV_REASON_TRUNCATED); /* no EOI */
    free(b.data);

    b = g4_tiff(sizes, 3);
    expect_reject(rules, b.data, b.len / 2, SV_REASON_TRUNCATED);
    expect_reject(rules, b.data, 6, SV_REASON_TRUNCATED);
    free(b.data);

    b = tiny_tiff(3, true); /* directories intact, last strip cut off */
    expect_reject(rules, b.data, b.len - 2, SV_REASON_TRUNCATED);
    free(b.data);
}

static void test_corrupt_images(void **state)
{
    sv_ocr_rules *rules = *state;

    /* Garbled compressed data inside a well-formed PNG. */
    bytes b = png_of(test_page(300, 200, 8, 0));
    size_t idat = find(&b, "IDAT", 4);
    for (size_t i = idat + 8; i < idat + 24; i++)
        b.data[i] ^= 0x5a;
    reject(rules, b, SV_REASON_CORRUPT);

    /* Garbled entropy-coded data inside a well-formed JPEG (no new markers). */
    b = jpeg_of(test_page(300, 200, 8, 0), false);
    size_t scan = find(&b, "\xff\xda", 2);
    for (size_t i = scan + 20; i < b.len - 2; i += 3)
        if (b.data[i] != 0xff && b.data[i - 1] != 0xff && (b.data[i] ^ 0x3c) != 0xff)
            b.data[i] ^= 0x3c;
    reject(rules, b, SV_REASON_CORRUPT);

    /* A TIFF whose last directory points back at the first. */
    b = tiny_tiff(3, false);
    memset(b.data + b.len - 6, 0, 4);
    b.data[b.len - 6] = 8;
    reject(rules, b, SV_REASON_CORRUPT);
}

static void test_pixel_limit_from_header(void **state)
{
    sv_ocr_rules *rules = *state;

    reject(rules, png_claiming(100000, 100000), SV_REASON_TOO_MANY_PIXELS);
    reject(rules, png_claiming(7000, 9000), SV_REASON_TOO_MANY_PIXELS); /* 63 Mpx */
    reject(rules, png_claiming(0, 10), SV_REASON_TOO_MANY_PIXELS);

    /* A valid JPEG whose frame header claims 65000 x 65000. */
    bytes b = jpeg_of(test_page(64, 64, 8, 0), false);
    size_t frame = find(&b, "\xff\xc0", 2);
    b.data[frame + 5] = 0xfd, b.data[frame + 6] = 0xe8; /* height 65000 */
    b.data[frame + 7] = 0xfd, b.data[frame + 8] = 0xe8; /* width 65000 */
    reject(rules, b, SV_REASON_TOO_MANY_PIXELS);

    /* A real G4 page over a lowered limit. */
    static const int sizes[2][2] = {{100, 100}, {400, 300}};
    rules->max_page_pixels = 100000;
    reject(rules, g4_tiff(sizes, 2), SV_REASON_TOO_MANY_PIXELS);
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
        TEST(test_png_to_grey),
        TEST(test_jpeg_grey_and_colour),
        TEST(test_tiff_g4_multipage),
        TEST(test_tiff_directory_first_layout),
        TEST(test_pdf_multipage_rendered_on_white),
        TEST(test_seed_corpus),
        TEST(test_empty_too_big_and_unknown),
        TEST(test_truncated_images),
        TEST(test_corrupt_images),
        TEST(test_pixel_limit_from_header),
        TEST(test_page_limits),
        TEST(test_hostile_pdfs),
#undef TEST
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
