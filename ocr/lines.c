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
 * speck or a logo made tall joins a line without moving it. Words far apart
 * on one row are different lines; nothing that reads across (a label and its
 * value, at most LABEL_GAP heights apart in candidates.c) is ever cut.
 */
#include <limits.h>
#include <stdlib.h>

#include "ocr_internal.h"

/* Most space between two neighbours of one line, in heights. */
#define LINE_CHAIN_GAP 8

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
    return (x->box.x0 > y->box.x0) - (x->box.x0 < y->box.x0);
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
    int lines = 0, widest = 0, tallest = 0;
    for (size_t i = 0; i < n; i++) {
        ocr_word *w = &words[i];
        int best_gap = INT_MAX, line = -1;
        /* A neighbour ends at most LINE_CHAIN_GAP heights before w, so it
         * starts no further left than that plus the widest word so far: a
         * window, not the whole page, even on a page of specks. */
        int h = box_height(&w->box);
        long reach = (long)LINE_CHAIN_GAP * (h > tallest ? h : tallest) + widest;
        for (size_t k = i; k-- > 0 && (long)words[k].box.x0 >= (long)w->box.x0 - reach;) {
            const ocr_word *left = &words[k];
            const band *b = &bands[left->line];
            int band_h = band_bottom(b) - band_top(b);
            int gap = w->box.x0 - left->box.x1;
            if (gap < best_gap && gap <= LINE_CHAIN_GAP * (h > band_h ? h : band_h) &&
                overlaps_band(b, &w->box)) {
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
        if (w->box.x1 - w->box.x0 > widest)
            widest = w->box.x1 - w->box.x0;
        if (h > tallest)
            tallest = h;
    }
    free(bands);
    int rc = number_lines_top_down(words, n, lines);
    qsort(words, n, sizeof *words, compare_line_x);
    return rc;
}
