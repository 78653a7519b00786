/*
 * candidates.c - the words of one page -> labelled MRN candidates.
 *
 * A candidate is a digit group that a configured label points at: right of
 * the label on the same line, or, when the label heads a table column, the
 * first value below it. Unlabelled numbers (phone, NPI, account, dates) are
 * never candidates. A labelled value that is not a clean digit group is still
 * reported (problem BAD_FORMAT) so that it sends the document to review
 * instead of being ignored. The rules are written out in docs/mrn-decision.md.
 */
#include <stdlib.h>
#include <string.h>

#include "ocr_internal.h"

/* Geometry, in multiples of the character (box) height. */
#define JOIN_GAP 1.25f  /* most space between two digit groups of one value (a
                          * monospace word space is about 1 digit height) */
#define LABEL_GAP 6.0f  /* most space between a label and its value */
#define COLUMN_GAP 1.5f /* a label with nothing nearer than this may head a column */
#define BELOW_ROWS 3.0f /* how far under a column label its value may start */

#define LABEL_TOKENS_MAX 8
#define WORD_TOKENS_MAX 64

/* Upper-case words one edit away from "MRN" that are words of their own. */
static const char *const near_miss_words[] = {"mri", "mrs", "mra", "mrt", "man", "men",
                                              "min", "mon", "mrna"};

static bool is_upper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
static bool is_lower(unsigned char c) { return c >= 'a' && c <= 'z'; }
static bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static bool is_alpha(unsigned char c) { return is_upper(c) || is_lower(c); }

/* ---- tokens -------------------------------------------------------------------- */

/* Token n of out (when it fits): text[start, end) lower-cased, or "no" when
 * is_no; the words that mean "number" all become "no". */
static void put_token(ocr_token *out, size_t max, size_t n, const char *text, size_t start,
                      size_t end, bool is_no)
{
    if (n >= max)
        return;
    ocr_token *t = &out[n];
    size_t len = is_no ? 0 : end - start;
    if (len > OCR_TOKEN_MAX)
        len = OCR_TOKEN_MAX;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[start + i];
        t->text[i] = (char)(is_upper(c) ? c - 'A' + 'a' : c);
    }
    t->text[len] = '\0';
    static const char *const no_words[] = {"no", "number", "num", "nbr", "nr"};
    for (size_t i = 0; i < sizeof no_words / sizeof no_words[0]; i++)
        if (strcmp(t->text, no_words[i]) == 0)
            is_no = true;
    if (is_no)
        memcpy(t->text, "no", 3);
    t->start = start;
    t->end = end;
}

size_t ocr_tokenize(const char *text, ocr_token *out, size_t max)
{
    size_t n = 0, i = 0;
    while (text[i] != '\0') {
        unsigned char c = (unsigned char)text[i];
        size_t start = i;
        if (c == '#') {
            put_token(out, max, n++, text, start, ++i, true);
        } else if (c == 0xE2 && (unsigned char)text[i + 1] == 0x84 &&
                   (unsigned char)text[i + 2] == 0x96) { /* U+2116 NUMERO SIGN */
            i += 3;
            put_token(out, max, n++, text, start, i, true);
        } else if (is_alpha(c) || is_digit(c)) {
            bool alpha = is_alpha(c);
            while (text[i] != '\0' && (alpha ? is_alpha((unsigned char)text[i])
                                             : is_digit((unsigned char)text[i])))
                i++;
            put_token(out, max, n++, text, start, i, false);
        } else {
            i++;
        }
    }
    return n;
}

int ocr_normalise_label(const char *text, char out[OCR_LABEL_MAX + 1])
{
    ocr_token tokens[LABEL_TOKENS_MAX];
    memset(out, 0, OCR_LABEL_MAX + 1);
    size_t n = ocr_tokenize(text, tokens, LABEL_TOKENS_MAX);
    if (n == 0 || n > LABEL_TOKENS_MAX)
        return -1;
    size_t len = 0;
    bool only_no = true;
    for (size_t i = 0; i < n; i++) {
        size_t tlen = strlen(tokens[i].text);
        if (is_digit((unsigned char)tokens[i].text[0]) || tlen == OCR_TOKEN_MAX)
            return -1;
        if (strcmp(tokens[i].text, "no") != 0)
            only_no = false;
        if (len + (i > 0) + tlen > OCR_LABEL_MAX)
            return -1;
        if (i > 0)
            out[len++] = ' ';
        memcpy(out + len, tokens[i].text, tlen);
        len += tlen;
    }
    out[len] = '\0';
    if (only_no) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}

/* ---- page tokens --------------------------------------------------------------- */

typedef struct page_token {
    ocr_token tok;
    size_t word;
} page_token;

typedef struct label_form {
    size_t n;
    char tok[LABEL_TOKENS_MAX][OCR_TOKEN_MAX + 1];
} label_form;

typedef struct scan {
    const sv_ocr_rules *rules;
    const ocr_page_words *page;
    page_token *toks;
    size_t n_toks;
    label_form labels[OCR_MAX_LABELS];
    ocr_candidate *out;
    size_t max, *n;
    bool overflowed;
    ocr_label_findings *found;
} scan;

static int height(const ocr_box *b) { return b->y1 - b->y0 > 1 ? b->y1 - b->y0 : 1; }

static float maxf(float a, float b) { return a > b ? a : b; }

static int build_tokens(scan *s)
{
    const ocr_page_words *page = s->page;
    ocr_token word_toks[WORD_TOKENS_MAX];
    char text[OCR_WORD_MAX];
    size_t total = 0;
    /* The engine NUL-terminates; do not trust it beyond the array. */
    for (size_t w = 0; w < page->n_words; w++) {
        memcpy(text, page->words[w].text, sizeof text);
        text[OCR_WORD_MAX - 1] = '\0';
        size_t n = ocr_tokenize(text, NULL, 0);
        total += n < WORD_TOKENS_MAX ? n : WORD_TOKENS_MAX;
    }
    s->toks = total > 0 ? calloc(total, sizeof *s->toks) : NULL;
    if (total > 0 && s->toks == NULL)
        return SV_ENOMEM;
    for (size_t w = 0; w < page->n_words; w++) {
        memcpy(text, page->words[w].text, sizeof text);
        text[OCR_WORD_MAX - 1] = '\0';
        size_t n = ocr_tokenize(text, word_toks, WORD_TOKENS_MAX);
        for (size_t i = 0; i < n && i < WORD_TOKENS_MAX && s->n_toks < total; i++) {
            s->toks[s->n_toks].tok = word_toks[i];
            s->toks[s->n_toks].word = w;
            s->n_toks++;
        }
    }
    return 0;
}

static int tok_line(const scan *s, size_t i) { return s->page->words[s->toks[i].word].line; }

static bool tok_is(const scan *s, size_t i, const char *text)
{
    return strcmp(s->toks[i].tok.text, text) == 0;
}

/* ---- values -------------------------------------------------------------------- */

typedef enum value_kind { VALUE_NONE, VALUE_DIGITS, VALUE_MIXED } value_kind;

/* Map an OCR look-alike of a digit, or return 0. */
static char look_alike_digit(unsigned char c)
{
    switch (c) {
    case 'O': case 'o': return '0';
    case 'l': case 'I': case '|': return '1';
    case 'S': return '5';
    case 'B': return '8';
    default: return 0;
    }
}

static bool is_dash(const char *s, size_t i, size_t len, size_t *width)
{
    *width = 1;
    if (s[i] == '-')
        return true;
    if (i + 2 < len && (unsigned char)s[i] == 0xE2 && (unsigned char)s[i + 1] == 0x80 &&
        ((unsigned char)s[i + 2] == 0x93 || (unsigned char)s[i + 2] == 0x94)) {
        *width = 3;
        return true;
    }
    return false;
}

/* Bytes of a UTF-8 mark that specks and smudges are read as, at the start
 * (or the end) of s[0, len), or 0: curly quotes (U+2018, U+2019, U+201C,
 * U+201D), the bullet (U+2022), the degree sign (U+00B0) and the middle dot
 * (U+00B7). None of them is a digit, so trimming them invents nothing. */
static size_t stray_mark_width(const char *s, size_t len, bool at_start)
{
    if (len >= 3) {
        const unsigned char *q = (const unsigned char *)(at_start ? s : s + len - 3);
        if (q[0] == 0xE2 && q[1] == 0x80 &&
            (q[2] == 0x98 || q[2] == 0x99 || q[2] == 0x9C || q[2] == 0x9D || q[2] == 0xA2))
            return 3;
    }
    if (len >= 2) {
        const unsigned char *q = (const unsigned char *)(at_start ? s : s + len - 2);
        if (q[0] == 0xC2 && (q[1] == 0xB0 || q[1] == 0xB7))
            return 2;
    }
    return 0;
}

/*
 * What text (from byte off) is as a value: digits with dashes (look-alike
 * letters mapped when the word is otherwise digits), digits mixed with other
 * things, or no digits at all. Writes the digits (at most OCR_WORD_MAX - 1).
 */
static value_kind classify_word(const char *text, size_t off, char *digits, size_t *n_digits,
                                bool *mapped, bool *dash_only)
{
    char w[OCR_WORD_MAX];
    memcpy(w, text, sizeof w);
    w[OCR_WORD_MAX - 1] = '\0';
    size_t len = strlen(w);
    const char *s = off < len ? w + off : w + len;
    len = strlen(s);
    /* Punctuation and stray quote marks around a value are not part of it
     * ('|' is: it may be a misread 1). */
    size_t cut;
    while (len > 0 && ((cut = stray_mark_width(s, len, true)) > 0 || strchr(":#([{'\"`", *s) != NULL)) {
        cut = cut > 0 ? cut : 1;
        s += cut;
        len -= cut;
    }
    while (len > 0 && ((cut = stray_mark_width(s, len, false)) > 0 ||
                       strchr(":.;,)]}'\"`", s[len - 1]) != NULL))
        len -= cut > 0 ? cut : 1;
    size_t real = 0, look = 0, other = 0, dashes = 0, width;
    char mapped_digits[OCR_WORD_MAX];
    size_t n_mapped = 0;
    for (size_t i = 0; i < len; i += width) {
        unsigned char c = (unsigned char)s[i];
        width = 1;
        if (is_digit(c)) {
            digits[real++] = (char)c;
            mapped_digits[n_mapped++] = (char)c;
        } else if (is_dash(s, i, len, &width)) {
            dashes++;
        } else if (look_alike_digit(c) != 0) {
            look++;
            mapped_digits[n_mapped++] = look_alike_digit(c);
        } else {
            other++;
        }
    }
    *dash_only = len > 0 && dashes > 0 && real == 0 && look == 0 && other == 0;
    *mapped = false;
    *n_digits = real;
    if (real == 0)
        return VALUE_NONE;
    if (other > 0 || look * 2 > real)
        return VALUE_MIXED;
    if (look > 0) {
        memcpy(digits, mapped_digits, n_mapped);
        *n_digits = n_mapped;
        *mapped = true;
    }
    return VALUE_DIGITS;
}

typedef struct value_read {
    char digits[SV_MRN_MAX + 1];
    size_t n_digits, n_words;
    bool too_long, mapped;
    value_kind kind;
    ocr_box box;
    float min_conf, irregularity;
} value_read;

static void add_word(value_read *v, const ocr_word *word, const char *digits, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (v->n_digits == SV_MRN_MAX)
            v->too_long = true;
        else
            v->digits[v->n_digits++] = digits[i];
    }
    v->digits[v->n_digits] = '\0';
    if (v->n_words++ == 0) {
        v->box = word->box;
        v->min_conf = word->min_char_conf;
    } else {
        v->box.x0 = word->box.x0 < v->box.x0 ? word->box.x0 : v->box.x0;
        v->box.y0 = word->box.y0 < v->box.y0 ? word->box.y0 : v->box.y0;
        v->box.x1 = word->box.x1 > v->box.x1 ? word->box.x1 : v->box.x1;
        v->box.y1 = word->box.y1 > v->box.y1 ? word->box.y1 : v->box.y1;
        if (word->min_char_conf < v->min_conf)
            v->min_conf = word->min_char_conf;
    }
    v->irregularity = maxf(v->irregularity, word->glyph_irregularity);
}

/* Read the value that starts in word w at byte off, joining the following
 * digit groups of the same line that sit close enough. */
static value_kind read_value(const scan *s, size_t w, size_t off, value_read *v)
{
    const ocr_word *words = s->page->words;
    char digits[OCR_WORD_MAX];
    size_t n;
    bool mapped, dash_only;
    memset(v, 0, sizeof *v);
    v->kind = classify_word(words[w].text, off, digits, &n, &mapped, &dash_only);
    if (v->kind == VALUE_NONE)
        return VALUE_NONE;
    add_word(v, &words[w], digits, n);
    v->mapped = mapped;
    if (v->kind == VALUE_MIXED || n > s->rules->max_length)
        return v->kind;
    size_t prev = w;
    for (size_t k = w + 1; k < s->page->n_words && words[k].line == words[w].line; k++) {
        int gap = words[k].box.x0 - words[prev].box.x1;
        int h = height(&words[prev].box) > height(&words[k].box) ? height(&words[prev].box)
                                                                 : height(&words[k].box);
        if ((float)gap > JOIN_GAP * (float)h)
            break;
        value_kind kind = classify_word(words[k].text, 0, digits, &n, &mapped, &dash_only);
        if (dash_only) {
            prev = k;
            continue;
        }
        if (kind != VALUE_DIGITS || v->n_digits + n > s->rules->max_length)
            break;
        add_word(v, &words[k], digits, n);
        v->mapped = v->mapped || mapped;
        prev = k;
    }
    return v->kind;
}

/*
 * When out is full, a reading of a value already in it (same digits, same
 * problem) is folded into that candidate instead of overflowing: its lowest
 * confidence and highest irregularity are kept, which can only make the
 * decision stricter. So an MRN in the header of each of 50 pages does not
 * look like a conflict. Returns false when there is no such candidate.
 */
static bool fold_repeat(scan *s, const value_read *v, sv_ocr_reason problem)
{
    for (size_t i = 0; i < *s->n; i++) {
        ocr_candidate *c = &s->out[i];
        if (c->pub.problem != problem || strcmp(c->pub.digits, v->digits) != 0)
            continue;
        if (v->min_conf < c->pub.min_char_conf)
            c->pub.min_char_conf = v->min_conf;
        c->glyph_irregularity = maxf(c->glyph_irregularity, v->irregularity);
        return true;
    }
    return false;
}

static int emit(scan *s, const value_read *v, sv_ocr_source source)
{
    sv_ocr_reason problem = SV_REASON_NONE;
    if (v->kind == VALUE_MIXED || v->too_long)
        problem = SV_REASON_BAD_FORMAT;
    else if (v->mapped)
        problem = SV_REASON_LOW_CONFIDENCE;
    if (*s->n >= s->max) {
        if (fold_repeat(s, v, problem))
            return 0;
        s->overflowed = true;
        return SV_ELIMIT;
    }
    ocr_candidate *c = &s->out[(*s->n)++];
    memset(c, 0, sizeof *c);
    memcpy(c->pub.digits, v->digits, sizeof c->pub.digits);
    c->pub.source = source;
    c->pub.page = s->page->page;
    c->pub.min_char_conf = v->min_conf;
    c->pub.problem = problem;
    c->box = v->box;
    c->glyph_irregularity = v->irregularity;
    c->needs_second_read = true;
    return 0;
}

/* ---- labels -------------------------------------------------------------------- */

/* Tokens of the longest label that starts at token i on one line, or 0. */
static size_t match_label(const scan *s, size_t i)
{
    size_t best = 0;
    for (size_t l = 0; l < s->rules->n_labels; l++) {
        const label_form *f = &s->labels[l];
        if (f->n <= best || i + f->n > s->n_toks)
            continue;
        size_t j = 0;
        while (j < f->n && tok_line(s, i + j) == tok_line(s, i) &&
               strcmp(s->toks[i + j].tok.text, f->tok[j]) == 0)
            j++;
        if (j == f->n)
            best = f->n;
    }
    return best;
}

/* After the label (and its "no" filler) ending before token j: where the
 * value would start, and the gap to it. False when the line ends first. */
static bool value_start(const scan *s, size_t j, size_t *word, size_t *off, int *gap)
{
    if (j >= s->n_toks || tok_line(s, j) != tok_line(s, j - 1))
        return false;
    const ocr_word *words = s->page->words;
    size_t w = s->toks[j].word, before = s->toks[j - 1].word;
    *word = w;
    *off = w == before ? s->toks[j].tok.start : 0;
    /* Measure from the word just left of the value (a ':' or a dot leader
     * between label and value counts as part of the label). */
    size_t left = w > before && words[w - 1].line == words[w].line ? w - 1 : before;
    *gap = w == before ? 0 : words[w].box.x0 - words[left].box.x1;
    return true;
}

/* A mark that is a table rule read as '|' (taller than twice its width) or
 * a speck (under half a label height both ways): it is not a cell, so it
 * never hides the value below it. A dash is a cell: in a table it means
 * "none", and the next row's number must not stand in for it. */
static bool is_rule_or_speck(const ocr_word *word, int label_h)
{
    if (ocr_has_letter_or_digit(word->text))
        return false;
    int w = word->box.x1 - word->box.x0, h = word->box.y1 - word->box.y0;
    return h >= 2 * w || (2 * w < label_h && 2 * h < label_h);
}

static bool is_under(const ocr_word *word, const ocr_box *label, int line)
{
    const ocr_box *b = &word->box;
    int h = height(label);
    return !is_rule_or_speck(word, h) && word->line != line && b->y0 >= label->y0 + h / 2 &&
           (float)b->y0 <= (float)label->y1 + BELOW_ROWS * (float)h && b->x1 > label->x0 &&
           b->x0 < label->x1;
}

/* The first word under the label box that overlaps it horizontally: on the
 * nearest line below, the leftmost such word (a value in groups "43 239 458"
 * starts at its first group, whichever group's box sits a pixel higher). */
static bool word_below(const scan *s, const ocr_box *label, int line, size_t *found)
{
    const ocr_word *words = s->page->words;
    size_t best = 0;
    bool any = false;
    for (size_t k = 0; k < s->page->n_words; k++)
        if (is_under(&words[k], label, line) && (!any || words[k].box.y0 < words[best].box.y0)) {
            best = k;
            any = true;
        }
    if (!any)
        return false;
    int row = words[best].line;
    for (size_t k = 0; k < s->page->n_words; k++)
        if (words[k].line == row && is_under(&words[k], label, line) &&
            words[k].box.x0 < words[best].box.x0)
            best = k;
    *found = best;
    return true;
}

/* A word that is itself a field's label: it ends with ':' ("DOB:"). */
static bool is_field_label(const char *text)
{
    size_t n = strlen(text);
    return n > 1 && text[n - 1] == ':';
}

/* The label (and its "no" filler) ending before token j is followed by ':',
 * in its own word or as a word of its own: "MRN:", "MR #:", "MRN :". */
static bool has_colon_after(const scan *s, size_t j)
{
    const ocr_word *words = s->page->words;
    size_t wl = s->toks[j - 1].word;
    const char *after = words[wl].text + s->toks[j - 1].tok.end;
    while (*after == ' ' || *after == '.' || *after == '#')
        after++;
    if (*after == ':')
        return true;
    for (size_t k = wl + 1; k < s->toks[j].word; k++)
        if (strchr(words[k].text, ':') != NULL)
            return true;
    return false;
}

/* Most of the word's letters and digits are letters that OCR makes of
 * digits (O, o, l, I, S, B): a number read badly, not a word. */
static bool may_be_misread_number(const char *text)
{
    size_t alike = 0, other = 0;
    for (; *text != '\0'; text++) {
        unsigned char c = (unsigned char)*text;
        if (is_digit(c) || look_alike_digit(c) != 0)
            alike++;
        else if (is_alpha(c))
            other++;
    }
    return alike >= 3 && alike > 2 * other;
}

/* The label starting at token first follows a word of its own line closely:
 * it is part of running text ("quote the MRN"), not a field or a column head. */
static bool is_in_running_text(const scan *s, size_t first, const ocr_box *label)
{
    const ocr_word *words = s->page->words;
    size_t w = s->toks[first].word;
    if (w == 0 || words[w - 1].line != words[w].line ||
        !ocr_has_letter_or_digit(words[w - 1].text))
        return false;
    return (float)(label->x0 - words[w - 1].box.x1) <= COLUMN_GAP * (float)height(label);
}

/* A label spans tokens first..last: find its value right or below. A label
 * standing alone as a column head over something that is not a number
 * marks the page (unreadable_value): that cell may hold another patient's
 * MRN. */
static int take_label(scan *s, size_t first, size_t last)
{
    const ocr_word *words = s->page->words;
    ocr_box label = words[s->toks[first].word].box;
    for (size_t w = s->toks[first].word; w <= s->toks[last].word; w++) {
        label.x1 = words[w].box.x1 > label.x1 ? words[w].box.x1 : label.x1;
        label.y0 = words[w].box.y0 < label.y0 ? words[w].box.y0 : label.y0;
        label.y1 = words[w].box.y1 > label.y1 ? words[w].box.y1 : label.y1;
    }
    size_t j = last + 1;
    while (j < s->n_toks && tok_line(s, j) == tok_line(s, last) && tok_is(s, j, "no"))
        j++;
    size_t w, off;
    int gap;
    value_read v;
    bool followed_closely = false;
    if (value_start(s, j, &w, &off, &gap)) {
        float h = (float)(height(&label) > height(&words[w].box) ? height(&label)
                                                                 : height(&words[w].box));
        bool near = (float)gap <= LABEL_GAP * h, close = (float)gap <= COLUMN_GAP * h;
        if (read_value(s, w, off, &v) != VALUE_NONE && near)
            return emit(s, &v, SV_SOURCE_LABEL_RIGHT);
        /* A lower-case word close after the label: running text. */
        if (close && is_lower((unsigned char)words[w].text[off]))
            return 0;
        /* The field's own value, and not a number: "MRN: Pending", or
         * digits misread as letters ("MRN OOSBI0"). Whatever stands under
         * the label is another field's: hold the document. */
        if (near && !is_field_label(words[w].text) &&
            (has_colon_after(s, j) || may_be_misread_number(words[w].text + off))) {
            s->found->unreadable_value = true;
            return 0;
        }
        /* A capitalised word or another field's label ("DOB:"): the next
         * column's head of a tightly set table, the rest of a heading
         * ("Medical Record Request"), or a blank field's neighbour. Look
         * below; only a number counts. */
        followed_closely = close || (near && is_field_label(words[w].text));
    }
    size_t below = 0;
    if (!word_below(s, &label, tok_line(s, first), &below))
        return 0;
    if (read_value(s, below, 0, &v) != VALUE_NONE)
        return emit(s, &v, SV_SOURCE_LABEL_BELOW);
    if (!followed_closely && !is_in_running_text(s, first, &label))
        s->found->unreadable_value = true;
    return 0;
}

/* ---- labels that cannot be read clearly --------------------------------------------- */

static bool one_edit_apart(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la < lb)
        return one_edit_apart(b, a);
    if (la - lb > 1)
        return false;
    size_t i = 0;
    while (i < lb && a[i] == b[i])
        i++;
    if (la == lb)
        return i < la && strcmp(a + i + 1, b + i + 1) == 0;
    return strcmp(a + i + 1, b + i) == 0;
}

/* Token i is an upper-case word one edit from a one-word label, followed by
 * an MRN-shaped number: the label may have been misread. */
static bool is_unclear_label(const scan *s, size_t i)
{
    const ocr_token *t = &s->toks[i].tok;
    size_t len = strlen(t->text);
    if (len < 3 || len > 5 || !is_alpha((unsigned char)t->text[0]) ||
        (i > 0 && s->toks[i - 1].word == s->toks[i].word))
        return false;
    const char *raw = s->page->words[s->toks[i].word].text;
    for (size_t k = t->start; k < t->end; k++)
        if (!is_upper((unsigned char)raw[k]))
            return false;
    for (size_t k = 0; k < sizeof near_miss_words / sizeof near_miss_words[0]; k++)
        if (strcmp(t->text, near_miss_words[k]) == 0)
            return false;
    bool near = false;
    for (size_t l = 0; l < s->rules->n_labels && !near; l++)
        near = s->labels[l].n == 1 && strlen(s->labels[l].tok[0]) >= 3 &&
               one_edit_apart(t->text, s->labels[l].tok[0]);
    if (!near)
        return false;
    size_t j = i + 1;
    while (j < s->n_toks && tok_line(s, j) == tok_line(s, i) && tok_is(s, j, "no"))
        j++;
    size_t w, off;
    int gap;
    value_read v;
    if (!value_start(s, j, &w, &off, &gap) || read_value(s, w, off, &v) != VALUE_DIGITS)
        return false;
    float h = (float)height(&s->page->words[s->toks[i].word].box);
    return (float)gap <= LABEL_GAP * h && v.n_digits >= s->rules->min_length &&
           v.n_digits <= s->rules->max_length;
}

int ocr_find_candidates(const sv_ocr_rules *rules, const ocr_page_words *page,
                        ocr_candidate *out, size_t max, size_t *n, ocr_label_findings *found)
{
    scan s;
    memset(&s, 0, sizeof s);
    s.rules = rules;
    s.page = page;
    s.out = out;
    s.max = max;
    s.n = n;
    s.found = found;
    for (size_t l = 0; l < rules->n_labels; l++) {
        ocr_token t[LABEL_TOKENS_MAX];
        size_t k = ocr_tokenize(rules->labels[l], t, LABEL_TOKENS_MAX);
        s.labels[l].n = k <= LABEL_TOKENS_MAX ? k : 0;
        for (size_t j = 0; j < s.labels[l].n; j++)
            memcpy(s.labels[l].tok[j], t[j].text, sizeof t[j].text);
    }
    int rc = build_tokens(&s);
    if (rc != 0) {
        /* Without the words no second MRN can be ruled out: force a review. */
        found->unclear_label = true;
        goto out;
    }
    for (size_t i = 0; i < s.n_toks;) {
        size_t len = match_label(&s, i);
        if (len > 0) {
            if (take_label(&s, i, i + len - 1) != 0) {
                rc = SV_ELIMIT;
                goto out;
            }
            i += len;
            continue;
        }
        if (!found->unclear_label && is_unclear_label(&s, i))
            found->unclear_label = true;
        i++;
    }
out:
    if (s.toks != NULL) {
        memset(s.toks, 0, s.n_toks * sizeof *s.toks); /* page text is PHI */
        free(s.toks);
    }
    return rc;
}
