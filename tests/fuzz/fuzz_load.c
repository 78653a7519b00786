/*
 * fuzz_load.c - libFuzzer harness for ocr_load_pages(): any bytes, small
 * limits (4 Mpx a page, 8 pages, PDF at 100 dpi so a Letter page fits).
 *
 * Beyond "no crash, no leak, no hang", it checks the contract: a success
 * holds 1..8 pages of 8 bpp grey within the limits and with a resolution, a
 * failure leaves *out NULL and gives a reject reason.
 */
#include <stdint.h>
#include <stdlib.h>

#include <leptonica/allheaders.h>

#include "ocr_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_pages(const sv_ocr_rules *rules, PIXA *pages)
{
    l_int32 n = pixaGetCount(pages);
    if (n < 1 || (unsigned)n > rules->max_pages)
        abort();
    for (l_int32 i = 0; i < n; i++) {
        PIX *pix = pixaGetPix(pages, i, L_CLONE);
        l_int32 xres = 0, yres = 0;
        if (pix == NULL)
            abort();
        uint64_t pixels = (uint64_t)pixGetWidth(pix) * (uint64_t)pixGetHeight(pix);
        pixGetResolution(pix, &xres, &yres);
        if (pixGetDepth(pix) != 8 || pixGetColormap(pix) != NULL || pixels == 0 ||
            pixels > rules->max_page_pixels || xres <= 0 || yres <= 0)
            abort();
        pixDestroy(&pix);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sv_ocr_rules rules;
    rules.max_file_bytes = (size_t)4 << 20;
    rules.max_page_pixels = 4000000;
    rules.max_pages = 8;
    rules.pdf_dpi = 100;

    PIXA *pages = NULL;
    sv_ocr_reason reason = ocr_load_pages(&rules, data, size, &pages);
    if (reason == SV_REASON_NONE) {
        if (pages == NULL)
            abort();
        check_pages(&rules, pages);
    } else if (pages != NULL || reason < SV_REASON_EMPTY_FILE || reason >= SV_REASON_COUNT) {
        abort();
    }
    pixaDestroy(&pages);
    return 0;
}
