/*
 * load.c - untrusted bytes -> one 8 bpp grey PIX per page, inside the limits
 * of the rules. PNG, JPEG and TIFF here; PDF in load_pdf.c.
 *
 * The format comes from magic bytes only. Before a decoder sees the bytes,
 * the container is walked here with explicit bounds:
 *   - the page size is read from the header and refused before any pixel
 *     buffer exists (a 100000 x 100000 PNG header costs nothing);
 *   - truncation is found in the container itself (PNG IEND, JPEG EOI, TIFF
 *     IFDs and strips inside the file), because libpng and libjpeg pad a
 *     short file with grey and call it a warning;
 *   - TIFF pages are counted by following the IFD chain, stopping one past
 *     the page limit, so a 5000-page file is refused after 51 small reads;
 *   - a PNG's compressed image data is inflated here, into a small scratch
 *     buffer, only as far as its header's rows need: libpng inflates every
 *     byte after the last row too (an 8 MB file holding 8 GB of zeros after a
 *     100 x 100 image took 17 s), so more than that is refused first.
 * Then Leptonica decodes one page at a time; each page is reduced to 8 bpp
 * grey before the next is decoded. Decisions: docs/ocr-loading.md.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "load_internal.h"

typedef enum doc_format {
    FORMAT_UNKNOWN = 0,
    FORMAT_PNG,
    FORMAT_JPEG,
    FORMAT_TIFF,
    FORMAT_PDF
} doc_format;

/* A PDF header may sit after some junk; readers search this far for it. */
#define PDF_HEADER_WINDOW 1024
/* Most scans in a progressive JPEG: libjpeg redoes work per scan, and a few
 * thousand tiny scans make a decode take minutes. Encoders write about 10. */
#define JPEG_MAX_SCANS 256
/* A PNG's compressed data may inflate to this much more than its rows hold
 * (sloppy writers that libpng tolerates) before it is refused as corrupt. */
#define PNG_EXTRA_DATA_MAX 65536u
/* Resolutions outside this range (dots per inch) are treated as unknown. */
#define PPI_MIN 50
#define PPI_MAX 4800

/* TIFF tags and field types the walker reads. */
enum {
    TIFF_TAG_WIDTH = 256,
    TIFF_TAG_LENGTH = 257,
    TIFF_TAG_STRIP_OFFSETS = 273,
    TIFF_TAG_STRIP_BYTE_COUNTS = 279,
    TIFF_TAG_TILE_WIDTH = 322,
    TIFF_TAG_TILE_OFFSETS = 324,
    TIFF_TYPE_SHORT = 3,
    TIFF_TYPE_LONG = 4
};

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

sv_ocr_reason ocr_load_check_pixels(const sv_ocr_rules *rules, uint64_t width, uint64_t height)
{
    if (width == 0 || height == 0 || width > OCR_LOAD_MAX_SIDE || height > OCR_LOAD_MAX_SIDE)
        return SV_REASON_TOO_MANY_PIXELS;
    if (width * height > rules->max_page_pixels)
        return SV_REASON_TOO_MANY_PIXELS;
    return SV_REASON_NONE;
}

static bool is_plausible_ppi(int ppi)
{
    return ppi >= PPI_MIN && ppi <= PPI_MAX;
}

sv_ocr_reason ocr_load_add_page(PIXA *pages, PIX **pix, int xres, int yres)
{
    PIX *page = *pix;
    PIX *grey = NULL;
    sv_ocr_reason reason = SV_REASON_OCR_FAILED;

    *pix = NULL;
    if (page == NULL)
        goto out;
    if (pixGetDepth(page) == 32 && pixGetSpp(page) == 4) {
        /* Transparent areas are paper: black-on-transparent must not turn
         * into black-on-black. */
        PIX *flat = pixAlphaBlendUniform(page, 0xffffff00);
        if (flat == NULL)
            goto out;
        pixDestroy(&page);
        page = flat;
    }
    if (pixGetDepth(page) == 8 && pixGetColormap(page) == NULL) {
        grey = page;
        page = NULL;
    } else {
        grey = pixConvertTo8(page, 0);
        if (grey == NULL)
            goto out;
    }
    if (!is_plausible_ppi(xres))
        xres = yres;
    if (!is_plausible_ppi(yres))
        yres = xres;
    if (!is_plausible_ppi(xres) || !is_plausible_ppi(yres))
        xres = yres = OCR_LOAD_DEFAULT_PPI;
    pixSetResolution(grey, xres, yres);
    if (pixaAddPix(pages, grey, L_INSERT) != 0)
        goto out;
    grey = NULL;
    reason = SV_REASON_NONE;
out:
    pixDestroy(&grey);
    pixDestroy(&page);
    return reason;
}

/* Hand a decoded page to ocr_load_add_page with the resolution it carries. */
static sv_ocr_reason add_decoded_page(PIXA *pages, PIX **pix)
{
    l_int32 xres = 0, yres = 0;
    pixGetResolution(*pix, &xres, &yres);
    return ocr_load_add_page(pages, pix, xres, yres);
}

static doc_format sniff_format(const uint8_t *buf, size_t len)
{
    static const uint8_t png_magic[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};

    if (len >= sizeof png_magic && memcmp(buf, png_magic, sizeof png_magic) == 0)
        return FORMAT_PNG;
    if (len >= 3 && buf[0] == 0xff && buf[1] == 0xd8 && buf[2] == 0xff)
        return FORMAT_JPEG;
    if (len >= 4 && (memcmp(buf, "II*\0", 4) == 0 || memcmp(buf, "MM\0*", 4) == 0))
        return FORMAT_TIFF;
    if (memmem(buf, len < PDF_HEADER_WINDOW ? len : PDF_HEADER_WINDOW, "%PDF-", 5) != NULL)
        return FORMAT_PDF;
    return FORMAT_UNKNOWN;
}

/* ---- PNG ----------------------------------------------------------------- */

/* IHDR first and within limits, then every chunk inside the file up to IEND,
 * with at least one IDAT on the way. CRCs are libpng's business. */
static sv_ocr_reason check_png(const sv_ocr_rules *rules, const uint8_t *buf, size_t len)
{
    size_t pos = 8;
    bool seen_idat = false;

    if (len < 8 + 8 + 13)
        return SV_REASON_TRUNCATED;
    if (be32(buf + 8) != 13 || memcmp(buf + 12, "IHDR", 4) != 0)
        return SV_REASON_CORRUPT;
    sv_ocr_reason reason = ocr_load_check_pixels(rules, be32(buf + 16), be32(buf + 20));
    if (reason != SV_REASON_NONE)
        return reason;
    for (;;) {
        if (len - pos < 12)
            return SV_REASON_TRUNCATED;
        uint32_t chunk_len = be32(buf + pos);
        if (chunk_len > 0x7fffffffu)
            return SV_REASON_CORRUPT;
        if (chunk_len > len - pos - 12)
            return SV_REASON_TRUNCATED;
        const uint8_t *type = buf + pos + 4;
        if (memcmp(type, "IDAT", 4) == 0)
            seen_idat = true;
        else if (memcmp(type, "IEND", 4) == 0)
            return seen_idat ? SV_REASON_NONE : SV_REASON_CORRUPT;
        pos += 12 + (size_t)chunk_len;
    }
}

/* Bytes of filtered rows (a filter byte per row) the IHDR at buf + 16
 * describes, over the seven Adam7 passes when interlaced; 0 for a colour type
 * or bit depth PNG does not have. width and height are within the pixel
 * limits here, so nothing overflows. */
static uint64_t png_image_bytes(const uint8_t *buf)
{
    static const uint8_t channels_of_type[7] = {1, 0, 3, 1, 2, 0, 4};
    static const uint8_t adam7[7][4] = {/* x0, y0, dx, dy */
                                        {0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4},
                                        {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}};
    static const uint8_t whole[1][4] = {{0, 0, 1, 1}};
    uint64_t width = be32(buf + 16), height = be32(buf + 20);
    uint8_t depth = buf[24], type = buf[25], interlace = buf[28];

    if (type > 6 || channels_of_type[type] == 0 || depth == 0 || depth > 16 ||
        (depth & (depth - 1)) != 0 || interlace > 1)
        return 0;
    uint64_t bits_per_pixel = (uint64_t)channels_of_type[type] * depth;
    const uint8_t(*passes)[4] = interlace ? adam7 : whole;
    size_t n_passes = interlace ? 7 : 1;
    uint64_t total = 0;
    for (size_t i = 0; i < n_passes; i++) {
        if (width <= passes[i][0] || height <= passes[i][1])
            continue;
        uint64_t pass_width = (width - passes[i][0] + passes[i][2] - 1) / passes[i][2];
        uint64_t pass_height = (height - passes[i][1] + passes[i][3] - 1) / passes[i][3];
        total += pass_height * (1 + (pass_width * bits_per_pixel + 7) / 8);
    }
    return total;
}

/* Inflate the IDAT chunks (inside the file: check_png walked them) into a
 * scratch buffer and refuse more than the header's rows plus
 * PNG_EXTRA_DATA_MAX. Whatever else is wrong with the data (a zlib error, a
 * short stream, a bad checksum) stays libpng's verdict. */
static sv_ocr_reason check_png_data(const uint8_t *buf, size_t len)
{
    uint64_t image_bytes = png_image_bytes(buf);
    if (image_bytes == 0)
        return SV_REASON_CORRUPT;
    uint64_t limit = image_bytes + PNG_EXTRA_DATA_MAX;
    uint8_t scratch[1 << 16];
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit(&z) != Z_OK)
        return SV_REASON_OCR_FAILED;
    sv_ocr_reason reason = SV_REASON_NONE;
    uint64_t inflated = 0;
    int zrc = Z_OK;
    for (size_t pos = 8;
         zrc != Z_STREAM_END && len - pos >= 12 && memcmp(buf + pos + 4, "IEND", 4) != 0;) {
        uint32_t chunk_len = be32(buf + pos);
        if (memcmp(buf + pos + 4, "IDAT", 4) == 0) {
            /* chunk_len < 2^31 (check_png), so it fits avail_in. */
            z.next_in = (Bytef *)(uintptr_t)(buf + pos + 8);
            z.avail_in = (uInt)chunk_len;
            do {
                z.next_out = scratch;
                z.avail_out = sizeof scratch;
                zrc = inflate(&z, Z_NO_FLUSH);
                inflated += sizeof scratch - z.avail_out;
                if (inflated > limit) {
                    reason = SV_REASON_CORRUPT;
                    goto out;
                }
            } while (zrc == Z_OK && (z.avail_in > 0 || z.avail_out == 0));
            if (zrc != Z_OK && zrc != Z_BUF_ERROR && zrc != Z_STREAM_END)
                break; /* libpng's verdict */
            zrc = zrc == Z_STREAM_END ? zrc : Z_OK;
        }
        pos += 12 + (size_t)chunk_len;
    }
out:
    inflateEnd(&z);
    return reason;
}

static sv_ocr_reason load_png(const sv_ocr_rules *rules, const uint8_t *buf, size_t len,
                              PIXA *pages)
{
    sv_ocr_reason reason = check_png(rules, buf, len);
    if (reason == SV_REASON_NONE)
        reason = check_png_data(buf, len);
    if (reason != SV_REASON_NONE)
        return reason;
    PIX *pix = pixReadMemPng(buf, len);
    if (pix == NULL)
        return SV_REASON_CORRUPT;
    return add_decoded_page(pages, &pix);
}

/* ---- JPEG ---------------------------------------------------------------- */

static bool is_jpeg_frame_marker(uint8_t marker)
{
    /* SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC). */
    return marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 &&
           marker != 0xcc;
}

/* From a byte just after a scan header, move *pos to the 0xFF of the next
 * real marker, skipping stuffed bytes (FF 00), restarts (FF D0..D7) and fill
 * bytes (FF FF). */
static sv_ocr_reason skip_jpeg_entropy_data(const uint8_t *buf, size_t len, size_t *pos)
{
    size_t at = *pos;
    for (;;) {
        if (at >= len)
            return SV_REASON_TRUNCATED;
        const uint8_t *ff = memchr(buf + at, 0xff, len - at);
        if (ff == NULL)
            return SV_REASON_TRUNCATED;
        at = (size_t)(ff - buf);
        if (len - at < 2)
            return SV_REASON_TRUNCATED;
        uint8_t next = buf[at + 1];
        if (next == 0x00 || (next >= 0xd0 && next <= 0xd7))
            at += 2;
        else if (next == 0xff)
            at += 1;
        else
            break;
    }
    *pos = at;
    return SV_REASON_NONE;
}

/* Walk the markers from SOI to EOI: one Huffman frame (baseline, extended or
 * progressive) within limits, at most JPEG_MAX_SCANS scans, every segment
 * inside the file. *components is the frame's component count. */
static sv_ocr_reason check_jpeg(const sv_ocr_rules *rules, const uint8_t *buf, size_t len,
                                int *components)
{
    size_t pos = 2;
    bool seen_frame = false;
    unsigned scans = 0;
    sv_ocr_reason reason;

    for (;;) {
        if (pos >= len)
            return SV_REASON_TRUNCATED;
        if (buf[pos] != 0xff)
            return SV_REASON_CORRUPT;
        while (pos < len && buf[pos] == 0xff)
            pos++;
        if (pos >= len)
            return SV_REASON_TRUNCATED;
        uint8_t marker = buf[pos++];
        if (marker == 0xd9)
            return scans > 0 ? SV_REASON_NONE : SV_REASON_CORRUPT;
        if (marker == 0x00 || marker == 0xd8)
            return SV_REASON_CORRUPT;
        if (marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7))
            continue; /* no length field */
        if (len - pos < 2)
            return SV_REASON_TRUNCATED;
        size_t segment = be16(buf + pos);
        if (segment < 2)
            return SV_REASON_CORRUPT;
        if (segment > len - pos)
            return SV_REASON_TRUNCATED;
        if (is_jpeg_frame_marker(marker)) {
            /* Lossless, hierarchical and arithmetic-coded frames: no scanner
             * writes them, and they are where decoders are slow or absent. */
            if (seen_frame || segment < 8 || marker > 0xc2)
                return SV_REASON_CORRUPT;
            reason = ocr_load_check_pixels(rules, be16(buf + pos + 5), be16(buf + pos + 3));
            if (reason != SV_REASON_NONE)
                return reason;
            *components = buf[pos + 7];
            seen_frame = true;
        } else if (marker == 0xda) {
            if (!seen_frame || ++scans > JPEG_MAX_SCANS)
                return SV_REASON_CORRUPT;
            pos += segment;
            reason = skip_jpeg_entropy_data(buf, len, &pos);
            if (reason != SV_REASON_NONE)
                return reason;
            continue;
        }
        pos += segment;
    }
}

static sv_ocr_reason load_jpeg(const sv_ocr_rules *rules, const uint8_t *buf, size_t len,
                               PIXA *pages)
{
    int components = 0;
    l_int32 width = 0, height = 0, spp = 0, ycck = 0, cmyk = 0, warnings = 0;

    sv_ocr_reason reason = check_jpeg(rules, buf, len, &components);
    if (reason != SV_REASON_NONE)
        return reason;
    /* libjpeg's own reading of the header, the one the decode will use. */
    if (readHeaderMemJpeg(buf, len, &width, &height, &spp, &ycck, &cmyk) != 0)
        return SV_REASON_CORRUPT;
    reason = ocr_load_check_pixels(rules, (uint64_t)width, (uint64_t)height);
    if (reason != SV_REASON_NONE)
        return reason;
    /* Grey and YCbCr decode straight to luminance (a quarter of the memory);
     * libjpeg cannot do that from CMYK/YCCK, so those go through RGB. */
    l_int32 hint = (components == 4 || ycck || cmyk) ? 0 : L_JPEG_READ_LUMINANCE;
    PIX *pix = pixReadMemJpeg(buf, len, 0, 1, &warnings, hint);
    if (pix == NULL)
        return SV_REASON_CORRUPT;
    return add_decoded_page(pages, &pix);
}

/* ---- TIFF ---------------------------------------------------------------- */

typedef struct tiff_bytes {
    const uint8_t *buf;
    size_t len;
    bool big_endian;
} tiff_bytes;

/* A SHORT or LONG array of an IFD entry, known to lie inside the file. */
typedef struct tiff_array {
    size_t pos;
    uint32_t count;
    unsigned size;
} tiff_array;

static uint16_t tiff16(const tiff_bytes *t, size_t pos)
{
    const uint8_t *p = t->buf + pos;
    return t->big_endian ? be16(p) : (uint16_t)((unsigned)p[1] << 8 | p[0]);
}

static uint32_t tiff32(const tiff_bytes *t, size_t pos)
{
    const uint8_t *p = t->buf + pos;
    return t->big_endian ? be32(p)
                         : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static uint32_t tiff_array_at(const tiff_bytes *t, const tiff_array *a, uint32_t i)
{
    size_t pos = a->pos + (size_t)i * a->size;
    return a->size == 2 ? tiff16(t, pos) : tiff32(t, pos);
}

/* Locate the values of the 12-byte IFD entry at entry (inside the file). */
static sv_ocr_reason tiff_entry_array(const tiff_bytes *t, size_t entry, tiff_array *out)
{
    uint16_t type = tiff16(t, entry + 2);
    uint32_t count = tiff32(t, entry + 4);
    unsigned size = type == TIFF_TYPE_SHORT ? 2 : type == TIFF_TYPE_LONG ? 4 : 0;

    if (size == 0 || count == 0)
        return SV_REASON_CORRUPT;
    if (count > t->len / size)
        return SV_REASON_TRUNCATED;
    size_t bytes = (size_t)count * size;
    size_t pos = bytes <= 4 ? entry + 8 : tiff32(t, entry + 8);
    if (pos > t->len || bytes > t->len - pos)
        return SV_REASON_TRUNCATED;
    out->pos = pos;
    out->count = count;
    out->size = size;
    return SV_REASON_NONE;
}

/* One IFD at offset: entries inside the file, page size within limits,
 * striped (Leptonica reads no tiles), every strip inside the file. */
static sv_ocr_reason check_tiff_ifd(const sv_ocr_rules *rules, const tiff_bytes *t,
                                    uint32_t offset, uint32_t *next)
{
    tiff_array value, offsets = {0}, counts = {0};
    uint32_t width = 0, height = 0;
    bool is_tiled = false;
    sv_ocr_reason reason;

    if (offset < 8)
        return SV_REASON_CORRUPT;
    if (offset > t->len || t->len - offset < 2)
        return SV_REASON_TRUNCATED;
    uint16_t n_entries = tiff16(t, offset);
    if (n_entries == 0)
        return SV_REASON_CORRUPT;
    size_t end = (size_t)offset + 2 + (size_t)n_entries * 12;
    if (end > t->len || t->len - end < 4)
        return SV_REASON_TRUNCATED;
    for (size_t entry = (size_t)offset + 2; entry < end; entry += 12) {
        uint16_t tag = tiff16(t, entry);
        reason = SV_REASON_NONE;
        if (tag == TIFF_TAG_WIDTH || tag == TIFF_TAG_LENGTH) {
            reason = tiff_entry_array(t, entry, &value);
            if (reason == SV_REASON_NONE && value.count != 1)
                reason = SV_REASON_CORRUPT;
            if (reason == SV_REASON_NONE) {
                if (tag == TIFF_TAG_WIDTH)
                    width = tiff_array_at(t, &value, 0);
                else
                    height = tiff_array_at(t, &value, 0);
            }
        } else if (tag == TIFF_TAG_STRIP_OFFSETS) {
            reason = tiff_entry_array(t, entry, &offsets);
        } else if (tag == TIFF_TAG_STRIP_BYTE_COUNTS) {
            reason = tiff_entry_array(t, entry, &counts);
        } else if (tag >= TIFF_TAG_TILE_WIDTH && tag <= TIFF_TAG_TILE_OFFSETS + 1) {
            is_tiled = true;
        }
        if (reason != SV_REASON_NONE)
            return reason;
    }
    reason = ocr_load_check_pixels(rules, width, height);
    if (reason != SV_REASON_NONE)
        return reason;
    /* At most one strip per row and sample (4 samples at most for us). */
    if (is_tiled || offsets.count == 0 || offsets.count > (uint64_t)height * 4)
        return SV_REASON_CORRUPT;
    bool has_counts = counts.count == offsets.count;
    for (uint32_t i = 0; i < offsets.count; i++) {
        uint32_t start = tiff_array_at(t, &offsets, i);
        if (start > t->len)
            return SV_REASON_TRUNCATED;
        if (has_counts && tiff_array_at(t, &counts, i) > t->len - start)
            return SV_REASON_TRUNCATED;
    }
    *next = tiff32(t, end);
    return SV_REASON_NONE;
}

/* Follow the IFD chain, checking each page, until its end or one page past
 * the limit. A chain that comes back on itself is corrupt. */
static sv_ocr_reason check_tiff(const sv_ocr_rules *rules, const uint8_t *buf, size_t len,
                                unsigned *n_pages)
{
    tiff_bytes t = {buf, len, buf[0] == 'M'};
    uint32_t *seen = NULL;
    unsigned n = 0;
    sv_ocr_reason reason = SV_REASON_NONE;

    *n_pages = 0;
    if (len < 8)
        return SV_REASON_TRUNCATED;
    /* calloc checks the product; max_pages + 1 cannot wrap in a size_t here. */
    _Static_assert(sizeof(size_t) > sizeof(unsigned), "page count + 1 must fit a size_t");
    seen = calloc((size_t)rules->max_pages + 1, sizeof *seen);
    if (seen == NULL)
        return SV_REASON_OCR_FAILED;
    for (uint32_t offset = tiff32(&t, 4); offset != 0;) {
        for (unsigned i = 0; i < n; i++) {
            if (seen[i] == offset) {
                reason = SV_REASON_CORRUPT;
                goto out;
            }
        }
        uint32_t current = offset;
        reason = check_tiff_ifd(rules, &t, current, &offset);
        if (reason != SV_REASON_NONE)
            goto out;
        if (n == rules->max_pages) {
            reason = SV_REASON_TOO_MANY_PAGES;
            goto out;
        }
        seen[n++] = current;
    }
    reason = n == 0 ? SV_REASON_NO_PAGES : SV_REASON_NONE;
    *n_pages = n;
out:
    free(seen);
    return reason;
}

static sv_ocr_reason load_tiff(const sv_ocr_rules *rules, const uint8_t *buf, size_t len,
                               PIXA *pages)
{
    unsigned n_pages = 0;
    sv_ocr_reason reason = check_tiff(rules, buf, len, &n_pages);

    for (unsigned i = 0; i < n_pages && reason == SV_REASON_NONE; i++) {
        l_int32 width = 0, height = 0;
        /* libtiff's own reading of this page's header before its decode. */
        if (readHeaderMemTiff(buf, len, (l_int32)i, &width, &height, NULL, NULL, NULL, NULL,
                              NULL) != 0)
            return SV_REASON_CORRUPT;
        reason = ocr_load_check_pixels(rules, (uint64_t)width, (uint64_t)height);
        if (reason != SV_REASON_NONE)
            return reason;
        PIX *pix = pixReadMemTiff(buf, len, (l_int32)i);
        if (pix == NULL)
            return SV_REASON_CORRUPT;
        reason = add_decoded_page(pages, &pix);
    }
    return reason;
}

/* ---- dispatch ------------------------------------------------------------ */

/* Leptonica prints some messages straight to its stderr handler. */
static void discard_message(const char *message)
{
    (void)message;
}

sv_ocr_reason ocr_load_pages(const sv_ocr_rules *rules, const uint8_t *buf, size_t len,
                             struct Pixa **out)
{
    PIXA *pages = NULL;
    sv_ocr_reason reason;

    if (out == NULL)
        return SV_REASON_UNREADABLE;
    *out = NULL;
    if (rules == NULL || (buf == NULL && len > 0))
        return SV_REASON_UNREADABLE;
    if (len == 0)
        return SV_REASON_EMPTY_FILE;
    if (len > rules->max_file_bytes)
        return SV_REASON_FILE_TOO_BIG;
    doc_format format = sniff_format(buf, len);
    if (format == FORMAT_UNKNOWN)
        return SV_REASON_UNSUPPORTED_FORMAT;

    l_int32 old_severity = setMsgSeverity(L_SEVERITY_NONE);
    leptSetStderrHandler(discard_message);
    pages = pixaCreate(0);
    if (pages == NULL) {
        reason = SV_REASON_OCR_FAILED;
        goto out;
    }
    switch (format) {
    case FORMAT_PNG:
        reason = load_png(rules, buf, len, pages);
        break;
    case FORMAT_JPEG:
        reason = load_jpeg(rules, buf, len, pages);
        break;
    case FORMAT_TIFF:
        reason = load_tiff(rules, buf, len, pages);
        break;
    case FORMAT_PDF:
        reason = ocr_load_pdf(rules, buf, len, pages);
        break;
    case FORMAT_UNKNOWN:
    default:
        reason = SV_REASON_UNSUPPORTED_FORMAT;
        break;
    }
    if (reason == SV_REASON_NONE && pixaGetCount(pages) == 0)
        reason = SV_REASON_NO_PAGES;
out:
    leptSetStderrHandler(NULL);
    setMsgSeverity(old_severity);
    if (reason != SV_REASON_NONE)
        pixaDestroy(&pages);
    *out = pages;
    return reason;
}
