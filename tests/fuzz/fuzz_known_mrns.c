/*
 * fuzz_known_mrns.c - libFuzzer harness for the known-MRN list parser
 * (ocr/rules.c, the file [mrn] known_mrns names: an export from the patient
 * index that passes through other hands before it reaches the server).
 *
 * Each input is the whole list file, parsed in memory with
 * ocr_rules_parse_known_mrns (the parser sv_ocr_rules_finish runs on the
 * file's bytes, without the open/fstat checks around it) under two rule sets:
 * the built-in defaults (6..10 digits, no check digit) and the sample
 * hospital's (8 digits, Luhn), so both format checks are reached. Each time:
 *   1. the result must equal an independent reading of
 *      docs/mrn-decision.md section 5 (one MRN a line, spaces and dashes
 *      allowed, '#' comments and blank lines ignored, CRLF accepted; the
 *      whole list refused at the first bad line, naming that line; a line
 *      with a NUL byte anywhere, even in a comment, is a bad line): same
 *      verdict, same line number, and on success the same entries, sorted,
 *      each one found by the lookup;
 *   2. a refusal leaves no list, has a message, and never echoes an entry
 *      (no run of min_length digits in the message);
 *   3. fed in small pieces (as short reads would), the parser must give
 *      the same verdict, message and entries as fed all at once.
 * Seeds (corpus/known_mrns/): small exports with comments, blank lines,
 * CRLF, dashes and spaces, and bad ones (check digit, an extra column,
 * UTF-16, NUL padding, comments only, too many digits).
 */
#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocr_internal.h"
#include "sv_ocr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* rules.c's read buffer holds 65535 bytes: a longer line is refused. */
#define LINE_MAX_BYTES 65534u

typedef char mrn_text[SV_MRN_MAX + 1];

/* What the list should come to, worked out without the parser. */
typedef struct expected {
    bool is_ok;
    size_t bad_line; /* first refused line, 1-based; 0 = "lists no MRN" */
    mrn_text *entries;
    size_t n_entries;
} expected;

static int compare_text(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

static bool is_c_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* One line (without its '\n'): 1 an entry (digits written), 0 skipped,
 * -1 refused. */
static int expect_line(const sv_ocr_rules *rules, const uint8_t *line, size_t len,
                       mrn_text digits)
{
    if (memchr(line, '\0', len) != NULL)
        return -1; /* even in a comment: not a text file */
    while (len > 0 && is_c_space(line[len - 1]))
        len--;
    while (len > 0 && is_c_space(line[0]))
        line++, len--;
    if (len == 0 || line[0] == '#')
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (line[i] == ' ' || line[i] == '-' || line[i] == '\t' || line[i] == '\r')
            continue;
        if (line[i] < '0' || line[i] > '9' || n == SV_MRN_MAX)
            return -1;
        digits[n++] = (char)line[i];
    }
    digits[n] = '\0';
    if (n < rules->min_length || n > rules->max_length ||
        !ocr_check_digit_ok(rules->check_digit, digits))
        return -1;
    return 1;
}

static void expect_list(const sv_ocr_rules *rules, const uint8_t *data, size_t size,
                        expected *want)
{
    memset(want, 0, sizeof *want);
    want->entries = malloc((size / 2 + 1) * sizeof *want->entries);
    if (want->entries == NULL)
        abort();
    size_t line_no = 0;
    for (size_t start = 0; start < size;) {
        const uint8_t *newline = memchr(data + start, '\n', size - start);
        size_t end = newline != NULL ? (size_t)(newline - data) : size;
        line_no++;
        /* The raw line, whitespace and all, must fit the reader's buffer. */
        if (end - start > LINE_MAX_BYTES) {
            want->bad_line = line_no;
            return;
        }
        int kind = expect_line(rules, data + start, end - start, want->entries[want->n_entries]);
        if (kind < 0) {
            want->bad_line = line_no;
            return;
        }
        if (kind > 0)
            want->n_entries++;
        start = end + 1;
    }
    if (want->n_entries == 0)
        return;
    qsort(want->entries, want->n_entries, sizeof *want->entries, compare_text);
    want->is_ok = true;
}

/* A message may name a line, never an entry. */
static bool echoes_digits(const char *message, unsigned min_length)
{
    unsigned run = 0;
    for (const char *p = message; *p != '\0'; p++) {
        run = isdigit((unsigned char)*p) ? run + 1 : 0;
        if (run >= min_length)
            return true;
    }
    return false;
}

static void check_against(const sv_ocr_rules *rules, int rc, const char *err, const expected *want)
{
    if (memchr(err, '\0', 512) == NULL)
        abort();
    if (!want->is_ok) {
        if (rc != SV_ECONFIG || rules->known_mrns != NULL || rules->n_known_mrns != 0 ||
            err[0] == '\0' || echoes_digits(err, rules->min_length))
            abort();
        char phrase[64];
        if (want->bad_line == 0)
            memcpy(phrase, "lists no MRN", sizeof "lists no MRN");
        else
            snprintf(phrase, sizeof phrase, "line %zu ", want->bad_line);
        if (strstr(err, phrase) == NULL)
            abort();
        return;
    }
    if (rc != 0 || rules->n_known_mrns != want->n_entries)
        abort();
    for (size_t i = 0; i < want->n_entries; i++) {
        if (strcmp(rules->known_mrns[i], want->entries[i]) != 0 ||
            !ocr_rules_is_known_mrn(rules, want->entries[i]))
            abort();
    }
    /* And the public check agrees: an entry is known, a changed one may not be. */
    char out[SV_MRN_MAX + 1];
    if (sv_ocr_check_mrn(rules, want->entries[0], out) != SV_REASON_NONE ||
        strcmp(out, want->entries[0]) != 0)
        abort();
}

/* The list a successful parse left, copied, to compare two parses. */
static mrn_text *copy_list(const sv_ocr_rules *rules)
{
    if (rules->n_known_mrns == 0)
        return NULL;
    mrn_text *copy = malloc(rules->n_known_mrns * sizeof *copy);
    if (copy == NULL)
        abort();
    memcpy(copy, rules->known_mrns, rules->n_known_mrns * sizeof *copy);
    return copy;
}

static void run_rules(sv_ocr_rules *rules, const uint8_t *data, size_t size)
{
    char err[512], err_pieces[512];
    expected want;
    expect_list(rules, data, size, &want);

    int rc = ocr_rules_parse_known_mrns(rules, data, size, 0, err, sizeof err);
    check_against(rules, rc, err, &want);
    size_t n_whole = rules->n_known_mrns;
    mrn_text *whole = copy_list(rules);

    /* A piece size that varies with the input, so lines are cut across
     * reads at every offset. */
    size_t piece = 1 + size % 29;
    int rc_pieces = ocr_rules_parse_known_mrns(rules, data, size, piece, err_pieces,
                                               sizeof err_pieces);
    if (rc_pieces != rc || strcmp(err_pieces, err) != 0 || rules->n_known_mrns != n_whole ||
        (n_whole > 0 && memcmp(whole, rules->known_mrns, n_whole * sizeof *whole) != 0))
        abort();
    free(whole);
    free(want.entries);
}

static sv_ocr_rules *defaults, *luhn8;

static void init_once(void)
{
    if (defaults != NULL)
        return;
    char err[256];
    if (sv_ocr_rules_create(&defaults) != 0 || sv_ocr_rules_create(&luhn8) != 0 ||
        sv_ocr_rules_set(luhn8, "mrn", "min_length", "8", err, sizeof err) != 0 ||
        sv_ocr_rules_set(luhn8, "mrn", "max_length", "8", err, sizeof err) != 0 ||
        sv_ocr_rules_set(luhn8, "mrn", "check_digit", "luhn", err, sizeof err) != 0)
        abort();
    /* Messages name the path; a path also puts the list in force for
     * sv_ocr_check_mrn. Nothing is opened. */
    static const char path[] = "/fuzz/known_mrns.txt";
    memcpy(defaults->known_mrns_path, path, sizeof path);
    memcpy(luhn8->known_mrns_path, path, sizeof path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_once();
    run_rules(defaults, data, size);
    run_rules(luhn8, data, size);
    return 0;
}
