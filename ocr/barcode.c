/*
 * barcode.c - Code 128 and Code 39 on patient-label stickers, via zbar.
 *
 * Pages are upright before they get here, so the bars stand vertical and
 * horizontal scan lines suffice; scanning every second row instead of every
 * row and no columns keeps a full page in tens of milliseconds.
 */
#include <string.h>

#include <zbar.h>

#include "engine_internal.h"

zbar_image_scanner_t *ocr_barcode_scanner_create(void)
{
    zbar_image_scanner_t *scanner = zbar_image_scanner_create();
    if (scanner == NULL)
        return NULL;
    zbar_image_scanner_set_config(scanner, ZBAR_NONE, ZBAR_CFG_ENABLE, 0);
    zbar_image_scanner_set_config(scanner, ZBAR_CODE128, ZBAR_CFG_ENABLE, 1);
    zbar_image_scanner_set_config(scanner, ZBAR_CODE39, ZBAR_CFG_ENABLE, 1);
    zbar_image_scanner_set_config(scanner, ZBAR_NONE, ZBAR_CFG_X_DENSITY, 0);
    zbar_image_scanner_set_config(scanner, ZBAR_NONE, ZBAR_CFG_Y_DENSITY, 2);
    return scanner;
}

void ocr_barcode_scanner_destroy(zbar_image_scanner_t *scanner)
{
    if (scanner != NULL)
        zbar_image_scanner_destroy(scanner);
}

/* The bounding box of the points where zbar's scan lines crossed the symbol. */
static void set_symbol_box(const zbar_symbol_t *sym, ocr_box *box)
{
    unsigned n = zbar_symbol_get_loc_size(sym);
    for (unsigned i = 0; i < n; i++) {
        int x = zbar_symbol_get_loc_x(sym, i), y = zbar_symbol_get_loc_y(sym, i);
        if (i == 0 || x < box->x0)
            box->x0 = x;
        if (i == 0 || y < box->y0)
            box->y0 = y;
        if (i == 0 || x + 1 > box->x1)
            box->x1 = x + 1;
        if (i == 0 || y + 1 > box->y1)
            box->y1 = y + 1;
    }
}

int ocr_read_barcodes(zbar_image_scanner_t *scanner, PIX *grey, int page, ocr_barcode *out,
                      size_t max, size_t *n)
{
    l_uint8 *raster = NULL;
    size_t nbytes = 0;
    /* Byte-packed 8 bpp raster, one byte per pixel, rows without padding. */
    if (pixGetRasterData(grey, &raster, &nbytes) != 0)
        return SV_ENOMEM;
    zbar_image_t *image = zbar_image_create();
    if (image == NULL) {
        lept_free(raster);
        return SV_ENOMEM;
    }
    zbar_image_set_format(image, zbar_fourcc('Y', '8', '0', '0'));
    zbar_image_set_size(image, (unsigned)pixGetWidth(grey), (unsigned)pixGetHeight(grey));
    zbar_image_set_data(image, raster, nbytes, NULL);
    int rc = 0;
    int found = zbar_scan_image(scanner, image);
    if (found < 0)
        rc = SV_ELIMIT;
    for (const zbar_symbol_t *sym = found > 0 ? zbar_image_first_symbol(image) : NULL; sym;
         sym = zbar_symbol_next(sym)) {
        const char *data = zbar_symbol_get_data(sym);
        unsigned len = zbar_symbol_get_data_length(sym);
        if (data == NULL || len == 0)
            continue;
        /* One we cannot keep whole might be a second patient's label. */
        if (*n >= max || len >= OCR_BARCODE_MAX || memchr(data, '\0', len) != NULL) {
            rc = SV_ELIMIT;
            continue;
        }
        ocr_barcode *b = &out[(*n)++];
        memset(b, 0, sizeof *b);
        memcpy(b->value, data, len);
        b->page = page;
        set_symbol_box(sym, &b->box);
    }
    zbar_image_destroy(image);
    lept_free(raster);
    return rc;
}
