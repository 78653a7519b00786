/*
 * lines.c - which words of a page stand on one text line, by geometry.
 *
 * Not Tesseract's blocks: a table or a two-column form puts a label and its
 * value into different blocks, yet for a reader they stand on one line. Not a
 * page-wide band either: a patient sticker beside an address block sits a few
 * pixels lower than the address, and a band that crosses the page can take
 * the sticker's value into the address line and leave its label on the next
 * one. So a line is a chain of neighbours, built left to right: a word
 * continues the line of the nearest word to its left, no more than
 * LINE_CHAIN_GAP heights away, whose line's band it shares at least half of
 * its height (or of the band's) with. The band is the mean top and bottom of
 * the line's ordinary words: it follows a wavy baseline, and a word that a
 * speck made tall joins a line without moving it, while a band never swallows
 * words less than half its height. Rules, frames and blobs (far taller than
 * the page's median word, or far wider than tall) are lines of their own and
 * never neighbours. Words far apart on one row are different lines; nothing
 * that reads across (a label and its value, at most LABEL_GAP heights apart
 * in candidates.c) is ever cut.
 */
#include <limits.h>
#include <stdlib.h>

#include "ocr_internal.h"

/* Most space between two neighbours of one line, in heights. */
#define LINE_CHAIN_GAP 8
/* A line's band is at most this many times as tall as a word joining it (a
 * word a speck stretched may be taller than the band, not the reverse). */
#define BAND_OVER_WORD 2
/* Text-sized words: at most TEXT_TALL median heights tall, at most TEXT_WIDE
 * of their own heights wide. */
#define TEXT_TALL 4
#define TEXT_WIDE 40
#define HEIGHT_BUCKETS 512

static int box_height(const ocr_box *b) { return b->y1 - b->y0 > 1 ? b->y1 - b->y0 : 1; }

static int compare_x0(const void *a, const void *b)
{
    const ocr_word *x = a, *y = b;
    if (x->box.x0 != y->box.x0)
        return (x->box.x0 > y->box.x0) - (x->box.x0 < y->box.x0);
    return (x->box.y0 > y->box.y0) - (x->box.y0 < y->box.y0);
}

static int compare_line_x(const void *a, const void *b)
{
    const ocr_word *x = a, *y = b;
    if (x->line != y->line)
        return (x->line > y->line) - (x->line < y->line);
    if (x->box.x0 != y->box.x0)
        return (x->box.x0 > y->box.x0) - (x->box.x0 < y->box.x0);
    return (x->box.y0 > y->box.y0) - (x->box.y0 < y->box.y0);
}

/* A line's band: the mean top and bottom of its ordinary words. */
typedef struct band {
    double top, bottom;
    int members;
} band;

static int band_top(const band *b) { return (int)(b->top / b->members); }
static int band_bottom(const band *b) { return (int)(b->bottom / b->members); }

/* Does box share at least half of its height, or of the band's, with b? */
static bool overlaps_band(const band *b, const ocr_box *box)
{
    int bt = band_top(b), bb = band_bottom(b);
    int band_h = bb - bt > 1 ? bb - bt : 1, word_h = box_height(box);
    int smaller = word_h < band_h ? word_h : band_h;
    int top = box->y0 > bt ? box->y0 : bt, bottom = box->y1 < bb ? box->y1 : bb;
    return 2 * (bottom - top) >= smaller;
}

/* Add box to b, unless it is unusually tall for the line. */
static void extend_band(band *b, const ocr_box *box)
{
    int band_h = band_bottom(b) - band_top(b);
    if (2 * box_height(box) > 3 * (band_h > 1 ? band_h : 1))
        return;
    b->top += box->y0;
    b->bottom += box->y1;
    b->members++;
}

/* Order of the lines: by their mean centre, top first; on a tie, leftmost
 * first. rank[line] gets the reading-order number. */
typedef struct line_key {
    double centre;
    int x0, line;
} line_key;

static int compare_line_key(const void *a, const void *b)
{
    const line_key *x = a, *y = b;
    if (x->centre != y->centre)
        return (x->centre > y->centre) - (x->centre < y->centre);
    return (x->x0 > y->x0) - (x->x0 < y->x0);
}

static int number_lines_top_down(ocr_word *words, size_t n, int lines)
{
    line_key *keys = calloc((size_t)lines, sizeof *keys);
    int *count = calloc((size_t)lines, sizeof *count);
    int rc = 0;
    if (keys == NULL || count == NULL) {
        rc = SV_ENOMEM;
        goto out;
    }
    for (int l = 0; l < lines; l++) {
        keys[l].line = l;
        keys[l].x0 = INT_MAX;
    }
    for (size_t i = 0; i < n; i++) {
        line_key *k = &keys[words[i].line];
        k->centre += (words[i].box.y0 + words[i].box.y1) / 2.0;
        count[words[i].line]++;
        if (words[i].box.x0 < k->x0)
            k->x0 = words[i].box.x0;
    }
    for (int l = 0; l < lines; l++)
        keys[l].centre /= count[l];
    qsort(keys, (size_t)lines, sizeof *keys, compare_line_key);
    for (int rank = 0; rank < lines; rank++)
        count[keys[rank].line] = rank; /* count[] now maps line -> rank */
    for (size_t i = 0; i < n; i++)
        words[i].line = count[words[i].line];
out:
    free(keys);
    free(count);
    return rc;
}

bool ocr_has_letter_or_digit(const char *text)
{
    for (; *text != '\0'; text++)
        if ((*text >= 'a' && *text <= 'z') || (*text >= 'A' && *text <= 'Z') ||
            (*text >= '0' && *text <= '9'))
            return true;
    return false;
}

int ocr_median_word_height(const ocr_word *words, size_t n, bool text_only)
{
    unsigned counts[HEIGHT_BUCKETS] = {0};
    size_t counted = 0;
    for (size_t i = 0; i < n; i++) {
        int h = words[i].box.y1 - words[i].box.y0;
        if (h <= 0 || (text_only && !ocr_has_letter_or_digit(words[i].text)))
            continue;
        counts[h < HEIGHT_BUCKETS ? h : HEIGHT_BUCKETS - 1]++;
        counted++;
    }
    size_t seen = 0;
    for (int h = 0; h < HEIGHT_BUCKETS; h++) {
        seen += counts[h];
        if (counted > 0 && seen * 2 >= counted)
            return h;
    }
    return 0;
}

/* The typical height of a page's text: the median of the words that hold a
 * letter or a digit (specks read as '.' or ',' do not count), of all words
 * when none does; at least 1. */
static int text_height(const ocr_word *words, size_t n)
{
    int h = ocr_median_word_height(words, n, true);
    if (h == 0)
        h = ocr_median_word_height(words, n, false);
    return h > 0 ? h : 1;
}

/* Text, not a rule, a frame or a blob: no taller than TEXT_TALL median
 * heights and no wider than TEXT_WIDE of its own heights. Anything else is a
 * line of its own and never a neighbour: a page-edge rule read as '|' must
 * not gather every row into one line. */
static bool is_text_sized(const ocr_box *b, int median)
{
    int h = box_height(b);
    return h <= TEXT_TALL * median && b->x1 - b->x0 <= TEXT_WIDE * h;
}

int ocr_assign_lines(ocr_word *words, size_t n)
{
    if (n == 0)
        return 0;
    if (n > INT_MAX)
        return SV_ELIMIT;
    band *bands = malloc(n * sizeof *bands);
    if (bands == NULL)
        return SV_ENOMEM;
    qsort(words, n, sizeof *words, compare_x0);
    int median = text_height(words, n), lines = 0, widest = 0;
    for (size_t i = 0; i < n; i++) {
        ocr_word *w = &words[i];
        int best_gap = INT_MAX, line = -1, h = box_height(&w->box);
        bool text = is_text_sized(&w->box, median);
        /* A neighbour's band is at most BAND_OVER_WORD times w's height, so
         * the neighbour ends at most LINE_CHAIN_GAP of that before w and
         * starts no further left than that plus the widest text word: a
         * window, not the whole page, even on a page of specks. */
        long reach = (long)LINE_CHAIN_GAP * BAND_OVER_WORD * h + widest;
        for (size_t k = i; text && k-- > 0 && (long)words[k].box.x0 >= (long)w->box.x0 - reach;) {
            const ocr_word *left = &words[k];
            if (!is_text_sized(&left->box, median))
                continue;
            const band *b = &bands[left->line];
            int band_h = band_bottom(b) - band_top(b);
            int gap = w->box.x0 - left->box.x1;
            if (gap < best_gap && band_h <= BAND_OVER_WORD * h &&
                gap <= LINE_CHAIN_GAP * (h > band_h ? h : band_h) && overlaps_band(b, &w->box)) {
                best_gap = gap;
                line = left->line;
            }
        }
        if (line < 0) {
            line = lines++;
            bands[line] = (band){.top = w->box.y0, .bottom = w->box.y1, .members = 1};
        } else {
            extend_band(&bands[line], &w->box);
        }
        w->line = line;
        if (text && w->box.x1 - w->box.x0 > widest)
            widest = w->box.x1 - w->box.x0;
    }
    free(bands);
    int rc = number_lines_top_down(words, n, lines);
    qsort(words, n, sizeof *words, compare_line_x);
    return rc;
}
