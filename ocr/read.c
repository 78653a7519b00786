/*
 * read.c - Tesseract reads: the whole page into words, and the digits-only
 * second read of an MRN candidate.
 *
 * Per-character confidences come from the symbol level of the result
 * iterator. Handwriting is told from print by the geometry of the glyphs of a
 * number: printed digits share one height and one baseline; handwritten ones
 * do not. That is measured on connected components of our own binary image,
 * not on Tesseract's symbol boxes, which for the LSTM engine are estimates.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"

/* Table rules and specks come back as "words" with no visible character;
 * they carry nothing and would join unrelated lines together. */
static bool has_visible_text(const char *text)
{
    for (; *text; text++)
        if (!isspace((unsigned char)*text))
            return true;
    return false;
}

static int word_list_push(ocr_word_list *list, const ocr_word *word)
{
    if (!has_visible_text(word->text))
        return 0;
    if (list->n == list->cap) {
        if (list->cap >= OCR_MAX_WORDS) {
            list->is_truncated = true; /* the caller sends the document to review */
            return 0;
        }
        size_t cap = list->cap ? list->cap * 2 : 512;
        if (cap > OCR_MAX_WORDS)
            cap = OCR_MAX_WORDS;
        ocr_word *grown = realloc(list->words, cap * sizeof *grown);
        if (grown == NULL)
            return SV_ENOMEM;
        list->words = grown;
        list->cap = cap;
    }
    list->words[list->n++] = *word;
    return 0;
}

static size_t count_digits(const char *text)
{
    size_t n = 0;
    for (; *text; text++)
        if (isdigit((unsigned char)*text))
            n++;
    return n;
}

static int compare_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/*
 * 0 for glyphs of one height on one straight baseline; larger the more the
 * heights and the baseline wander, relative to the median glyph height.
 */
static float glyph_irregularity(PIX *binary, const ocr_box *box)
{
    enum { MAX_GLYPHS = 32 };
    float result = 0.0f;
    int word_h = box->y1 - box->y0;
    /* Tesseract's word box may shave a pixel row off some glyphs. */
    int pad = word_h / 4 + 1;
    BOX *clip = boxCreate(box->x0 - pad, box->y0 - pad, box->x1 - box->x0 + 2 * pad,
                          word_h + 2 * pad);
    PIX *crop = clip ? pixClipRectangle(binary, clip, NULL) : NULL;
    /* Faint print breaks strokes; closing rejoins the pieces of a glyph so
     * that one component is one glyph. */
    int brick = word_h >= 30 ? 3 : 2;
    PIX *word = crop ? pixCloseSafeBrick(NULL, crop, brick, brick) : NULL;
    BOXA *parts = word ? pixConnComp(word, NULL, 8) : NULL;
    int heights[MAX_GLYPHS], sorted[MAX_GLYPHS];
    float centres[MAX_GLYPHS], bottoms[MAX_GLYPHS];
    int n = 0;
    /* Pieces that stand one above the other within the same columns are one
     * glyph (a broken '2' is a curve and a bar); side-by-side glyphs that
     * lean into each other, as handwriting does, stay apart. */
    BOXA *sorted_parts = parts ? boxaSort(parts, L_SORT_BY_X, L_SORT_INCREASING, NULL) : NULL;
    int gx0 = 0, gy0 = 0, gx1 = -1, gy1 = 0;
    int count = sorted_parts ? boxaGetCount(sorted_parts) : 0;
    for (int i = 0; i <= count && n < MAX_GLYPHS; i++) {
        l_int32 x = 0, y = 0, w = 0, h = 0;
        bool is_last = i == count;
        if (!is_last && boxaGetBoxGeometry(sorted_parts, i, &x, &y, &w, &h) != 0)
            continue;
        int narrower = gx1 - gx0 < w ? gx1 - gx0 : w;
        int overlap_x = (x + w < gx1 ? x + w : gx1) - x;
        /* One above the other, close together, and not a speck. */
        int gap_y = y >= gy1 ? y - gy1 : gy0 - (y + h);
        bool is_stacked = (y >= gy1 || y + h <= gy0) && gap_y <= word_h / 5 + 1;
        bool is_substantial = 3 * w >= gx1 - gx0 && 3 * (gx1 - gx0) >= w;
        if (!is_last && gx1 >= gx0 && is_stacked && is_substantial &&
            overlap_x * 10 >= narrower * 7) {
            if (y < gy0)
                gy0 = y;
            if (y + h > gy1)
                gy1 = y + h;
            if (x + w > gx1)
                gx1 = x + w;
            continue;
        }
        int gw = gx1 - gx0, gh = gy1 - gy0;
        /* Close the glyph in hand unless it is a speck, dash or underline. */
        if (gx1 >= gx0 && gh >= word_h / 3 && gw <= 3 * gh) {
            heights[n] = gh;
            centres[n] = (float)gx0 + (float)gw / 2.0f;
            bottoms[n] = (float)gy1;
            n++;
        }
        gx0 = x;
        gy0 = y;
        gx1 = x + w;
        gy1 = y + h;
    }
    boxaDestroy(&sorted_parts);
    if (n >= 3) {
        memcpy(sorted, heights, (size_t)n * sizeof sorted[0]);
        qsort(sorted, (size_t)n, sizeof sorted[0], compare_int);
        float median_h = (float)sorted[n / 2];
        /* Height spread. */
        float dev = 0.0f;
        for (int i = 0; i < n; i++)
            dev += fabsf((float)heights[i] - median_h);
        float height_spread = dev / (float)n / median_h;
        /* Baseline: residuals of a least-squares line through the bottoms. */
        float mx = 0, my = 0, sxx = 0, sxy = 0;
        for (int i = 0; i < n; i++) {
            mx += centres[i];
            my += bottoms[i];
        }
        mx /= (float)n;
        my /= (float)n;
        for (int i = 0; i < n; i++) {
            sxx += (centres[i] - mx) * (centres[i] - mx);
            sxy += (centres[i] - mx) * (bottoms[i] - my);
        }
        float slope = sxx > 0 ? sxy / sxx : 0.0f;
        float res = 0.0f;
        for (int i = 0; i < n; i++) {
            float fit = my + slope * (centres[i] - mx);
            res += fabsf(bottoms[i] - fit);
        }
        float baseline_spread = res / (float)n / median_h;
        result = height_spread > baseline_spread ? height_spread : baseline_spread;
    }
    boxaDestroy(&parts);
    pixDestroy(&word);
    pixDestroy(&crop);
    boxDestroy(&clip);
    return result;
}

/* Copy Tesseract's UTF-8 word into a fixed buffer, cutting at a character
 * boundary. */
static void copy_word_text(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void scale_box(ocr_box *b, float factor)
{
    b->x0 = (int)((float)b->x0 * factor);
    b->y0 = (int)((float)b->y0 * factor);
    b->x1 = (int)((float)b->x1 * factor + 0.999f);
    b->y1 = (int)((float)b->y1 * factor + 0.999f);
}

/*
 * Recognise image with the given segmentation mode; append its words with
 * boxes mapped to page coordinates: image coordinates times to_page, plus
 * (dx, dy).
 */
static int read_words(TessBaseAPI *tess, PIX *image, int image_ppi, TessPageSegMode mode,
                      float to_page, int dx, int dy, PIX *binary, ocr_word_list *list)
{
    size_t first = list->n;
    TessBaseAPISetPageSegMode(tess, mode);
    TessBaseAPISetImage2(tess, image);
    TessBaseAPISetSourceResolution(tess, image_ppi);
    if (TessBaseAPIRecognize(tess, NULL) != 0)
        return SV_EOCR;
    TessResultIterator *it = TessBaseAPIGetIterator(tess);
    if (it == NULL)
        return 0; /* a blank page */
    const TessPageIterator *pit = TessResultIteratorGetPageIteratorConst(it);
    int rc = 0;
    ocr_word word;
    bool in_word = false;
    do {
        if (TessPageIteratorIsAtBeginningOf(pit, RIL_WORD)) {
            if (in_word && (rc = word_list_push(list, &word)) != 0)
                goto out;
            in_word = false;
            char *text = TessResultIteratorGetUTF8Text(it, RIL_WORD);
            if (text == NULL)
                continue;
            memset(&word, 0, sizeof word);
            copy_word_text(word.text, sizeof word.text, text);
            TessDeleteText(text);
            TessPageIteratorBoundingBox(pit, RIL_WORD, &word.box.x0, &word.box.y0, &word.box.x1,
                                        &word.box.y1);
            if (to_page != 1.0f)
                scale_box(&word.box, to_page);
            word.box.x0 += dx;
            word.box.x1 += dx;
            word.box.y0 += dy;
            word.box.y1 += dy;
            word.conf = TessResultIteratorConfidence(it, RIL_WORD);
            word.min_char_conf = 100.0f;
            in_word = true;
        }
        if (in_word) {
            float c = TessResultIteratorConfidence(it, RIL_SYMBOL);
            if (c < word.min_char_conf)
                word.min_char_conf = c;
        }
    } while (TessResultIteratorNext(it, RIL_SYMBOL));
    if (in_word)
        rc = word_list_push(list, &word);
out:
    TessResultIteratorDelete(it);
    TessBaseAPISetPageSegMode(tess, PSM_AUTO);
    if (rc == 0)
        rc = ocr_assign_lines(list->words + first, list->n - first);
    /* Irregularity only where it matters: words that carry a number. */
    for (size_t i = first; rc == 0 && i < list->n; i++) {
        ocr_word *w = &list->words[i];
        if (count_digits(w->text) >= 3)
            w->glyph_irregularity = glyph_irregularity(binary, &w->box);
    }
    return rc;
}

int ocr_read_page(TessBaseAPI *tess, PIX *image, int image_ppi, float to_page, PIX *binary,
                  ocr_word_list *list)
{
    return read_words(tess, image, image_ppi, PSM_AUTO, to_page, 0, 0, binary, list);
}

int ocr_read_region(TessBaseAPI *tess, PIX *grey, int ppi, const ocr_box *region, PIX *binary,
                    ocr_word_list *list)
{
    BOX *clip = boxCreate(region->x0, region->y0, region->x1 - region->x0,
                          region->y1 - region->y0);
    BOX *clipped = NULL;
    PIX *crop = clip ? pixClipRectangle(grey, clip, &clipped) : NULL;
    int rc = SV_ENOMEM;
    if (crop == NULL || clipped == NULL)
        goto out;
    l_int32 x0, y0;
    boxGetGeometry(clipped, &x0, &y0, NULL, NULL);
    /* Small print on labels reads better twice as large. */
    float scale = ppi < 250 ? 2.0f : 1.0f;
    PIX *big = scale != 1.0f ? pixScaleGrayLI(crop, scale, scale) : pixClone(crop);
    if (big == NULL)
        goto out;
    /* A white sticker on grey paper defeats one threshold for the whole
     * region (the paper can come out black and the print be lost with
     * it): threshold locally (Sauvola), for this read only. */
    TessBaseAPISetVariable(tess, "thresholding_method", "2");
    rc = read_words(tess, big, (int)((float)ppi * scale), PSM_SINGLE_BLOCK, 1.0f / scale, x0, y0,
                    binary, list);
    TessBaseAPISetVariable(tess, "thresholding_method", "0");
    pixDestroy(&big);
out:
    pixDestroy(&crop);
    boxDestroy(&clipped);
    boxDestroy(&clip);
    return rc;
}

/* Keep only the digits of text in out (capacity cap). */
static void digits_only(const char *text, char *out, size_t cap)
{
    size_t n = 0;
    for (; *text && n + 1 < cap; text++)
        if (isdigit((unsigned char)*text))
            out[n++] = *text;
    out[n] = '\0';
}

/* The value's region of the grey page, with a little margin: tight left and
 * right so that a label's '#' or ':' stays out. Caller destroys. */
static PIX *value_region(PIX *grey, const ocr_box *box)
{
    int h = box->y1 - box->y0;
    if (h <= 0 || box->x1 <= box->x0)
        return NULL;
    int pad_y = h / 5 + 2, pad_x = h / 3 + 2;
    BOX *clip = boxCreate(box->x0 - pad_x, box->y0 - pad_y, box->x1 - box->x0 + 2 * pad_x,
                          h + 2 * pad_y);
    PIX *region = clip ? pixClipRectangle(grey, clip, NULL) : NULL;
    boxDestroy(&clip);
    return region;
}

/* Scale that puts glyphs of height h near 40 px, within 0.5..4. */
static float digit_scale(int h)
{
    float scale = 40.0f / (float)(h > 0 ? h : 1);
    return scale < 0.5f ? 0.5f : (scale > 4.0f ? 4.0f : scale);
}

bool ocr_read_digits(TessBaseAPI *tess, PIX *grey, int ppi, const ocr_box *box, char *digits,
                     size_t cap)
{
    digits[0] = '\0';
    bool is_read = false;
    float scale = digit_scale(box->y1 - box->y0);
    PIX *region = value_region(grey, box);
    PIX *scaled = region ? pixScaleGrayLI(region, scale, scale) : NULL;
    /* The full-resolution grey value alone, thresholded by Tesseract on
     * this crop only (the page read was a reduced whole page), digits only. */
    if (scaled != NULL) {
        TessBaseAPISetVariable(tess, "tessedit_char_whitelist", "0123456789-");
        TessBaseAPISetPageSegMode(tess, PSM_SINGLE_LINE);
        TessBaseAPISetImage2(tess, scaled);
        TessBaseAPISetSourceResolution(tess, (int)((float)ppi * scale));
        char *text = TessBaseAPIGetUTF8Text(tess);
        if (text != NULL) {
            digits_only(text, digits, cap);
            is_read = true;
            TessDeleteText(text);
        }
        TessBaseAPISetVariable(tess, "tessedit_char_whitelist", "");
        TessBaseAPISetPageSegMode(tess, PSM_AUTO);
    }
    pixDestroy(&scaled);
    pixDestroy(&region);
    return is_read;
}

/*
 * Collect the digits of a value read symbol by symbol. Dashes and spaces may
 * sit between digits, punctuation only around them; any letter or other
 * character among the digits means the region is not a plain number.
 */
static bool collect_value_symbols(TessResultIterator *it, char *digits, size_t cap,
                                  float *min_conf)
{
    size_t n = 0;
    bool is_after_digits = false, is_plain = true;
    *min_conf = 100.0f;
    do {
        char *sym = TessResultIteratorGetUTF8Text(it, RIL_SYMBOL);
        if (sym == NULL)
            continue;
        unsigned char c = (unsigned char)sym[0];
        bool is_single = sym[0] != '\0' && sym[1] == '\0';
        if (is_single && isdigit(c)) {
            if (is_after_digits || n + 1 >= cap) {
                is_plain = false; /* digits, then other marks, then digits */
            } else {
                digits[n++] = (char)c;
                float conf = TessResultIteratorConfidence(it, RIL_SYMBOL);
                if (conf < *min_conf)
                    *min_conf = conf;
            }
        } else if (is_single && c == '-' && n > 0) {
            /* a group separator */
        } else if (is_single && strchr("#:.,;|'\"()[]", c) != NULL) {
            if (n > 0)
                is_after_digits = true;
        } else {
            is_plain = false;
        }
        TessDeleteText(sym);
    } while (is_plain && TessResultIteratorNext(it, RIL_SYMBOL));
    digits[n] = '\0';
    return is_plain && n > 0;
}

bool ocr_read_value(TessBaseAPI *tess, PIX *grey, int ppi, const ocr_box *box, char *digits,
                    size_t cap, float *min_conf)
{
    digits[0] = '\0';
    *min_conf = 0.0f;
    bool is_plain = false;
    float scale = digit_scale(box->y1 - box->y0);
    PIX *region = value_region(grey, box);
    PIX *scaled = region ? pixScaleGrayLI(region, scale, scale) : NULL;
    PIX *binary = NULL;
    /* Independent of both other reads: local (Sauvola) thresholds, all
     * characters allowed, so a letter in the value shows. */
    if (scaled != NULL)
        pixSauvolaBinarize(scaled, 15, 0.34f, 1, NULL, NULL, NULL, &binary);
    if (binary != NULL) {
        TessBaseAPISetPageSegMode(tess, PSM_SINGLE_LINE);
        TessBaseAPISetImage2(tess, binary);
        TessBaseAPISetSourceResolution(tess, (int)((float)ppi * scale));
        if (TessBaseAPIRecognize(tess, NULL) == 0) {
            TessResultIterator *it = TessBaseAPIGetIterator(tess);
            if (it != NULL) {
                is_plain = collect_value_symbols(it, digits, cap, min_conf);
                TessResultIteratorDelete(it);
            }
        }
        TessBaseAPISetPageSegMode(tess, PSM_AUTO);
    }
    pixDestroy(&binary);
    pixDestroy(&scaled);
    pixDestroy(&region);
    return is_plain;
}
