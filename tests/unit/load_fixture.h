/*
 * load_fixture.h - shared by the loader unit tests (test_load.c,
 * test_load_pdf.c): a growable byte buffer, documents made by real writers
 * (Leptonica, cairo) or byte by byte, and the checks every case makes.
 */
#ifndef SV_TEST_LOAD_FIXTURE_H
#define SV_TEST_LOAD_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <leptonica/allheaders.h>

#include "ocr_internal.h"

/* A bad input must be refused within this (a hang guard, not a benchmark). */
#define HANG_GUARD_SECONDS 2.0

/* A growable byte buffer: documents under construction. */
typedef struct bytes {
    uint8_t *data;
    size_t len, cap;
} bytes;

void put(bytes *b, const void *data, size_t len);
void put_text(bytes *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void put_int(bytes *b, uint32_t v, int n_bytes, bool big_endian);
bytes from_lept(l_uint8 *data, size_t len);
size_t find(const bytes *b, const void *needle, size_t len);
int setup_rules(void **state);
int teardown_rules(void **state);
double now_seconds(void);
void expect_reject(const sv_ocr_rules *rules, const uint8_t *data, size_t len, sv_ocr_reason want);
PIXA *expect_pages(const sv_ocr_rules *rules, const bytes *b, int n_pages);
void expect_page(PIXA *pages, int i, int width, int height, int res, bool has_box, unsigned tolerance);
void expect_one_page(const sv_ocr_rules *rules, bytes b, int width, int height, int res, unsigned tolerance);
void reject(const sv_ocr_rules *rules, bytes b, sv_ocr_reason want);
PIX *test_page(int width, int height, int depth, int res);
bytes png_of(PIX *pix);
bytes jpeg_of(PIX *pix, bool is_progressive);
bytes g4_tiff(const int sizes[][2], int n);
bytes tiny_tiff(unsigned n, bool big_endian);

#endif
