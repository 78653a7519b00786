/*
 * test_load.c - ocr_load_pages() on real image files made at test time
 * (PNG, JPEG, TIFF; PDF is in test_load_pdf.c).
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

#include "load_fixture.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
#define TEST(fn) cmocka_unit_test_setup_teardown(fn, setup_rules, teardown_rules)
        TEST(test_png_to_grey),
        TEST(test_jpeg_grey_and_colour),
        TEST(test_tiff_g4_multipage),
        TEST(test_tiff_directory_first_layout),
        TEST(test_seed_corpus),
        TEST(test_empty_too_big_and_unknown),
        TEST(test_truncated_images),
        TEST(test_corrupt_images),
        TEST(test_pixel_limit_from_header),
#undef TEST
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
