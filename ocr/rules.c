/*
 * rules.c - sv_ocr_rules: the built-in defaults, one configuration key at a
 * time (sv_ocr_rules_set), the cross-checks and the known-MRN list
 * (sv_ocr_rules_finish). What makes an MRN well-formed (format, check digit)
 * is in decide.c.
 *
 * Every key, its type and default is listed in docs/configuration.md; the
 * check-digit schemes are spelled out in docs/mrn-decision.md. Error messages
 * name the key and never echo the value (a value may be an MRN).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ocr_internal.h"

static const char *const default_labels[] = {
    "MRN",          "MR#",       "MR No",      "MR Number",         "Medical Record",
    "Medical Record No", "Medical Record Number", "Med Rec", "Med Rec No", "Hospital No",
};

/* ---- create / destroy ------------------------------------------------------ */

static void free_known_mrns(sv_ocr_rules *rules)
{
    if (rules->known_mrns != NULL) {
        /* The list is PHI: wipe before handing the memory back. */
        memset(rules->known_mrns, 0, rules->n_known_mrns * sizeof *rules->known_mrns);
        free(rules->known_mrns);
    }
    rules->known_mrns = NULL;
    rules->n_known_mrns = 0;
}

/* Is label (normalised) among the first n of labels? ("MR#" and "MR No" are
 * one label once normalised.) */
static bool has_label(char labels[][OCR_LABEL_MAX + 1], size_t n, const char *label)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(labels[i], label) == 0)
            return true;
    return false;
}

int sv_ocr_rules_create(sv_ocr_rules **out)
{
    *out = NULL;
    sv_ocr_rules *rules = calloc(1, sizeof *rules);
    if (rules == NULL)
        return SV_ENOMEM;
    for (size_t i = 0; i < sizeof default_labels / sizeof default_labels[0]; i++) {
        char label[OCR_LABEL_MAX + 1];
        if (ocr_normalise_label(default_labels[i], label) == 0 &&
            !has_label(rules->labels, rules->n_labels, label))
            memcpy(rules->labels[rules->n_labels++], label, sizeof label);
    }
    rules->min_length = 6;
    rules->max_length = 10;
    rules->check_digit = OCR_CHECK_NONE;
    rules->min_char_confidence = 80.0f;
    rules->require_second_read = true;
    rules->barcode_alone = false;
    rules->handwriting_irregularity = 0.05f;
    ocr_default_types(rules);
    rules->type_min_score = 12;
    rules->type_title_factor = 3.0f;
    rules->type_margin = 1.5f;
    rules->max_file_bytes = (size_t)100 * 1024 * 1024;
    rules->max_page_pixels = 60000000u;
    rules->max_pages = 50;
    rules->pdf_dpi = 300;
    rules->ocr_dpi = 200;
    rules->detect_orientation = true;
    rules->deskew = true;
    rules->timeout_seconds = 120;
    rules->worker_memory = (uint64_t)2 << 30;
    *out = rules;
    return 0;
}

void sv_ocr_rules_destroy(sv_ocr_rules *rules)
{
    if (rules == NULL)
        return;
    free_known_mrns(rules);
    free(rules);
}

/* ---- value parsers ----------------------------------------------------------- */

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t err_len,
                                                      const char *fmt, ...)
{
    if (err != NULL && err_len > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
    }
    return SV_ECONFIG;
}

static bool parse_bool(const char *v, bool *out)
{
    static const char *const yes[] = {"true", "yes", "1"}, *const no[] = {"false", "no", "0"};
    for (size_t i = 0; i < 3; i++) {
        if (strcasecmp(v, yes[i]) == 0 || strcasecmp(v, no[i]) == 0) {
            *out = strcasecmp(v, yes[i]) == 0;
            return true;
        }
    }
    return false;
}

/* A plain decimal number (no sign, no spaces) within [lo, hi]. */
static bool parse_u64(const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
    if (!isdigit((unsigned char)v[0]))
        return false;
    errno = 0;
    char *end = NULL;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno != 0 || *end != '\0' || n < lo || n > hi)
        return false;
    *out = n;
    return true;
}

static bool parse_unsigned(const char *v, unsigned lo, unsigned hi, unsigned *out)
{
    uint64_t n;
    if (!parse_u64(v, lo, hi, &n))
        return false;
    *out = (unsigned)n;
    return true;
}

/* A byte size: a number with an optional K, M or G suffix (powers of 1024). */
static bool parse_size(const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char digits[32];
    size_t len = strlen(v);
    if (len == 0 || len >= sizeof digits)
        return false;
    memcpy(digits, v, len + 1);
    uint64_t unit = 1;
    switch (digits[len - 1]) {
    case 'K': case 'k': unit = 1024u; break;
    case 'M': case 'm': unit = 1024u * 1024u; break;
    case 'G': case 'g': unit = 1024u * 1024u * 1024u; break;
    default: break;
    }
    if (unit != 1)
        digits[len - 1] = '\0';
    uint64_t n;
    if (!parse_u64(digits, 0, UINT64_MAX, &n) || n > UINT64_MAX / unit)
        return false;
    n *= unit;
    if (n < lo || n > hi)
        return false;
    *out = n;
    return true;
}

static bool parse_float(const char *v, double lo, double hi, float *out)
{
    if (!isdigit((unsigned char)v[0]) && v[0] != '.')
        return false;
    errno = 0;
    char *end = NULL;
    double d = strtod(v, &end);
    if (errno != 0 || *end != '\0' || !isfinite(d) || d < lo || d > hi)
        return false;
    *out = (float)d;
    return true;
}

/* Copy the comma-separated item starting at *pos (trimmed) into item. Returns
 * false at the end of the list; sets *too_long when an item did not fit. */
static bool next_item(const char *list, size_t *pos, char *item, size_t item_len,
                      bool *too_long)
{
    const char *s = list + *pos;
    if (*s == '\0')
        return false;
    const char *comma = strchr(s, ',');
    size_t len = comma != NULL ? (size_t)(comma - s) : strlen(s);
    *pos += len + (comma != NULL ? 1 : 0);
    while (len > 0 && isspace((unsigned char)*s))
        s++, len--;
    while (len > 0 && isspace((unsigned char)s[len - 1]))
        len--;
    *too_long = len >= item_len;
    if (*too_long)
        len = item_len - 1;
    memcpy(item, s, len);
    item[len] = '\0';
    return true;
}

static int set_labels(sv_ocr_rules *rules, const char *v, char *err, size_t err_len)
{
    char labels[OCR_MAX_LABELS][OCR_LABEL_MAX + 1];
    size_t n = 0, pos = 0;
    memset(labels, 0, sizeof labels);
    char item[256];
    bool too_long;
    while (next_item(v, &pos, item, sizeof item, &too_long)) {
        if (n == OCR_MAX_LABELS)
            return fail(err, err_len, "[mrn] labels: more than %d labels", OCR_MAX_LABELS);
        if (too_long || ocr_normalise_label(item, labels[n]) != 0)
            return fail(err, err_len,
                        "[mrn] labels: label %zu is empty, has digits or is longer than %d "
                        "characters",
                        n + 1, OCR_LABEL_MAX);
        if (!has_label(labels, n, labels[n]))
            n++;
        else
            memset(labels[n], 0, sizeof labels[n]);
    }
    if (n == 0)
        return fail(err, err_len, "[mrn] labels: at least one label is needed");
    memcpy(rules->labels, labels, sizeof labels);
    rules->n_labels = n;
    return 0;
}

static int set_mrn(sv_ocr_rules *rules, const char *key, const char *v, char *err,
                   size_t err_len)
{
    if (strcmp(key, "labels") == 0)
        return set_labels(rules, v, err, err_len);
    if (strcmp(key, "min_length") == 0 || strcmp(key, "max_length") == 0) {
        unsigned n;
        if (!parse_unsigned(v, 1, SV_MRN_MAX, &n))
            return fail(err, err_len, "[mrn] %s: must be a whole number from 1 to %d", key,
                        SV_MRN_MAX);
        if (strcmp(key, "min_length") == 0)
            rules->min_length = n;
        else
            rules->max_length = n;
        return 0;
    }
    if (strcmp(key, "check_digit") == 0) {
        if (strcmp(v, "none") == 0)
            rules->check_digit = OCR_CHECK_NONE;
        else if (strcmp(v, "luhn") == 0 || strcmp(v, "mod10") == 0)
            rules->check_digit = OCR_CHECK_LUHN;
        else if (strcmp(v, "mod11") == 0)
            rules->check_digit = OCR_CHECK_MOD11;
        else
            return fail(err, err_len, "[mrn] check_digit: must be none, luhn (mod10) or mod11");
        return 0;
    }
    if (strcmp(key, "min_char_confidence") == 0) {
        if (!parse_float(v, 0.0, 100.0, &rules->min_char_confidence))
            return fail(err, err_len, "[mrn] min_char_confidence: must be a number from 0 to 100");
        return 0;
    }
    if (strcmp(key, "require_second_read") == 0 || strcmp(key, "barcode_alone") == 0) {
        bool b;
        if (!parse_bool(v, &b))
            return fail(err, err_len, "[mrn] %s: must be true or false", key);
        if (strcmp(key, "require_second_read") == 0)
            rules->require_second_read = b;
        else
            rules->barcode_alone = b;
        return 0;
    }
    if (strcmp(key, "handwriting_irregularity") == 0) {
        if (!parse_float(v, 0.0, 10.0, &rules->handwriting_irregularity))
            return fail(err, err_len,
                        "[mrn] handwriting_irregularity: must be a number from 0 to 10");
        return 0;
    }
    if (strcmp(key, "known_mrns") == 0) {
        size_t len = strlen(v);
        if (len >= sizeof rules->known_mrns_path)
            return fail(err, err_len, "[mrn] known_mrns: path is too long");
        if (len > 0 && v[0] != '/')
            return fail(err, err_len, "[mrn] known_mrns: must be an absolute path (or empty)");
        memcpy(rules->known_mrns_path, v, len + 1);
        return 0;
    }
    return SV_ENOTFOUND;
}

static bool is_type_name(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > SV_TYPE_MAX || !islower((unsigned char)name[0]))
        return false;
    for (size_t i = 0; i < len; i++)
        if (!islower((unsigned char)name[i]) && !isdigit((unsigned char)name[i]) &&
            name[i] != '_')
            return false;
    return true;
}

/* "phrase:weight, phrase:weight, ..." replaces the keywords of one type; an
 * empty value removes the type. */
static int set_type(sv_ocr_rules *rules, const char *name, const char *v, char *err,
                    size_t err_len)
{
    if (!is_type_name(name))
        return fail(err, err_len,
                    "[types] %s: a type name is a-z, 0-9 and '_', at most %d characters",
                    name, SV_TYPE_MAX);
    ocr_doctype type;
    memset(&type, 0, sizeof type);
    memcpy(type.name, name, strlen(name) + 1);
    size_t pos = 0;
    char item[256];
    bool too_long;
    while (next_item(v, &pos, item, sizeof item, &too_long)) {
        if (type.n_keywords == OCR_MAX_KEYWORDS)
            return fail(err, err_len, "[types] %s: more than %d keywords", name,
                        OCR_MAX_KEYWORDS);
        ocr_keyword *kw = &type.keywords[type.n_keywords];
        char *colon = strrchr(item, ':');
        uint64_t weight;
        if (too_long || colon == NULL)
            return fail(err, err_len, "[types] %s: keyword %zu is not phrase:weight", name,
                        type.n_keywords + 1);
        *colon = '\0';
        const char *w = colon + 1;
        while (isspace((unsigned char)*w))
            w++;
        if (ocr_normalise_phrase(item, kw->phrase) != 0 || !parse_u64(w, 1, 1000, &weight))
            return fail(err, err_len,
                        "[types] %s: keyword %zu needs a phrase of at most %d characters and "
                        "a weight from 1 to 1000",
                        name, type.n_keywords + 1, OCR_KEYWORD_MAX);
        kw->weight = (int)weight;
        type.n_keywords++;
    }
    size_t at = 0;
    while (at < rules->n_types && strcmp(rules->types[at].name, name) != 0)
        at++;
    if (type.n_keywords == 0) {
        if (at < rules->n_types) {
            memmove(&rules->types[at], &rules->types[at + 1],
                    (rules->n_types - at - 1) * sizeof rules->types[0]);
            rules->n_types--;
        }
        return 0;
    }
    if (at == rules->n_types) {
        if (rules->n_types == OCR_MAX_TYPES)
            return fail(err, err_len, "[types] %s: more than %d types", name, OCR_MAX_TYPES);
        rules->n_types++;
    }
    rules->types[at] = type;
    return 0;
}

static int set_types(sv_ocr_rules *rules, const char *key, const char *v, char *err,
                     size_t err_len)
{
    if (strcmp(key, "min_score") == 0) {
        unsigned n;
        if (!parse_unsigned(v, 1, 100000, &n))
            return fail(err, err_len, "[types] min_score: must be a whole number from 1 to 100000");
        rules->type_min_score = (int)n;
        return 0;
    }
    if (strcmp(key, "title_factor") == 0) {
        if (!parse_float(v, 1.0, 20.0, &rules->type_title_factor))
            return fail(err, err_len, "[types] title_factor: must be a number from 1 to 20");
        return 0;
    }
    if (strcmp(key, "margin") == 0) {
        if (!parse_float(v, 1.0, 10.0, &rules->type_margin))
            return fail(err, err_len, "[types] margin: must be a number from 1 to 10");
        return 0;
    }
    return set_type(rules, key, v, err, err_len);
}

static int set_ocr(sv_ocr_rules *rules, const char *key, const char *v, char *err,
                   size_t err_len)
{
    uint64_t n;
    if (strcmp(key, "max_file_bytes") == 0) {
        if (!parse_size(v, 1024, (uint64_t)1 << 30, &n))
            return fail(err, err_len, "[ocr] max_file_bytes: must be a size from 1K to 1G");
        rules->max_file_bytes = (size_t)n;
        return 0;
    }
    if (strcmp(key, "max_page_pixels") == 0) {
        if (!parse_u64(v, 10000, 1000000000, &n))
            return fail(err, err_len,
                        "[ocr] max_page_pixels: must be a whole number from 10000 to 1000000000");
        rules->max_page_pixels = n;
        return 0;
    }
    if (strcmp(key, "max_pages") == 0) {
        if (!parse_unsigned(v, 1, 1000, &rules->max_pages))
            return fail(err, err_len, "[ocr] max_pages: must be a whole number from 1 to 1000");
        return 0;
    }
    if (strcmp(key, "pdf_dpi") == 0) {
        if (!parse_unsigned(v, 72, 1200, &rules->pdf_dpi))
            return fail(err, err_len, "[ocr] pdf_dpi: must be a whole number from 72 to 1200");
        return 0;
    }
    if (strcmp(key, "ocr_dpi") == 0) {
        if (strcmp(v, "0") == 0) {
            rules->ocr_dpi = 0;
            return 0;
        }
        if (!parse_unsigned(v, 100, 600, &rules->ocr_dpi))
            return fail(err, err_len,
                        "[ocr] ocr_dpi: must be 0 (as scanned) or a whole number from 100 to 600");
        return 0;
    }
    if (strcmp(key, "detect_orientation") == 0 || strcmp(key, "deskew") == 0) {
        bool b;
        if (!parse_bool(v, &b))
            return fail(err, err_len, "[ocr] %s: must be true or false", key);
        if (strcmp(key, "deskew") == 0)
            rules->deskew = b;
        else
            rules->detect_orientation = b;
        return 0;
    }
    if (strcmp(key, "timeout_seconds") == 0) {
        if (!parse_unsigned(v, 1, 3600, &rules->timeout_seconds))
            return fail(err, err_len,
                        "[ocr] timeout_seconds: must be a whole number from 1 to 3600");
        return 0;
    }
    if (strcmp(key, "worker_memory") == 0) {
        if (!parse_size(v, (uint64_t)256 << 20, (uint64_t)64 << 30, &rules->worker_memory))
            return fail(err, err_len, "[ocr] worker_memory: must be a size from 256M to 64G");
        return 0;
    }
    return SV_ENOTFOUND;
}

int sv_ocr_rules_set(sv_ocr_rules *rules, const char *section, const char *key,
                     const char *value, char *err, size_t err_len)
{
    if (err != NULL && err_len > 0)
        err[0] = '\0';
    if (rules == NULL || section == NULL || key == NULL || value == NULL)
        return SV_EINVAL;
    int rc;
    if (strcmp(section, "mrn") == 0)
        rc = set_mrn(rules, key, value, err, err_len);
    else if (strcmp(section, "types") == 0)
        rc = set_types(rules, key, value, err, err_len);
    else if (strcmp(section, "ocr") == 0)
        rc = set_ocr(rules, key, value, err, err_len);
    else
        rc = SV_ENOTFOUND;
    if (rc == SV_ENOTFOUND && err != NULL && err_len > 0)
        snprintf(err, err_len, "unknown key");
    return rc;
}

static int compare_mrn(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

bool ocr_rules_is_known_mrn(const sv_ocr_rules *rules, const char *digits)
{
    if (rules->known_mrns == NULL || strlen(digits) > SV_MRN_MAX)
        return false;
    char key[SV_MRN_MAX + 1] = {0};
    memcpy(key, digits, strlen(digits));
    return bsearch(key, rules->known_mrns, rules->n_known_mrns, sizeof rules->known_mrns[0],
                   compare_mrn) != NULL;
}

/* ---- the known-MRN list -------------------------------------------------------- */

/* Add one line of the list (without its newline) to rules. */
static int add_known_line(sv_ocr_rules *rules, char *line, size_t len, size_t line_no,
                          size_t *cap, char *err, size_t err_len)
{
    /* The checks below read the line as a C string: a NUL byte would cut it
     * short and let "12345678<NUL>junk" (a record padded with NULs, a
     * UTF-16 export) pass as 12345678. A text file has none. */
    if (memchr(line, '\0', len) != NULL)
        return fail(err, err_len,
                    "[mrn] known_mrns: line %zu has a NUL byte; save the list as plain text "
                    "(not UTF-16)",
                    line_no);
    while (len > 0 && isspace((unsigned char)line[len - 1]))
        len--;
    line[len] = '\0';
    const char *s = line;
    while (isspace((unsigned char)*s))
        s++;
    if (*s == '\0' || *s == '#')
        return 0;
    char digits[SV_MRN_MAX + 1];
    if (ocr_check_format(rules, s, digits) != SV_REASON_NONE)
        return fail(err, err_len,
                    "[mrn] known_mrns: line %zu is not a well-formed MRN (length or check digit)",
                    line_no);
    if (rules->n_known_mrns == *cap) {
        if (*cap == OCR_KNOWN_MRNS_MAX)
            return fail(err, err_len, "[mrn] known_mrns: more than %u entries",
                        OCR_KNOWN_MRNS_MAX);
        size_t bigger = *cap == 0 ? 4096 : *cap * 2;
        if (bigger > OCR_KNOWN_MRNS_MAX)
            bigger = OCR_KNOWN_MRNS_MAX;
        void *grown = realloc(rules->known_mrns, bigger * sizeof rules->known_mrns[0]);
        if (grown == NULL)
            return SV_ENOMEM;
        rules->known_mrns = grown;
        *cap = bigger;
    }
    memset(rules->known_mrns[rules->n_known_mrns], 0, SV_MRN_MAX + 1);
    memcpy(rules->known_mrns[rules->n_known_mrns], digits, strlen(digits));
    rules->n_known_mrns++;
    return 0;
}

/* Where the list's bytes come from: up to cap bytes into buf; returns how
 * many (0 at the end), or -1 with errno set. */
typedef ssize_t (*known_source)(void *ctx, char *buf, size_t cap);

static ssize_t read_known_fd(void *ctx, char *buf, size_t cap)
{
    return read(*(const int *)ctx, buf, cap);
}

typedef struct known_memory {
    const uint8_t *buf;
    size_t len, pos;
    size_t piece; /* most bytes handed out at a time; 0 = no limit */
} known_memory;

static ssize_t read_known_memory(void *ctx, char *buf, size_t cap)
{
    known_memory *m = ctx;
    size_t n = m->len - m->pos;
    if (n > cap)
        n = cap;
    if (m->piece > 0 && n > m->piece)
        n = m->piece;
    if (n > 0)
        memcpy(buf, m->buf + m->pos, n);
    m->pos += n;
    return (ssize_t)n;
}

/* The list's bytes, as source gives them, line by line into rules (sorted
 * at the end). Messages name rules->known_mrns_path. On failure the list is
 * empty. */
static int parse_known_mrns(sv_ocr_rules *rules, known_source source, void *ctx, char *err,
                            size_t err_len)
{
    int rc = 0;
    size_t cap = 0, line_no = 0, used = 0;
    char buf[1 << 16];
    for (;;) {
        ssize_t got = source(ctx, buf + used, sizeof buf - 1 - used);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = fail(err, err_len, "[mrn] known_mrns: cannot read %s: %s",
                      rules->known_mrns_path, strerror(errno));
            goto out;
        }
        used += (size_t)got;
        size_t start = 0;
        for (size_t i = 0; i < used; i++) {
            if (buf[i] != '\n' && !(got == 0 && i + 1 == used))
                continue;
            size_t end = buf[i] == '\n' ? i : i + 1;
            rc = add_known_line(rules, buf + start, end - start, ++line_no, &cap, err, err_len);
            if (rc != 0)
                goto out;
            start = i + 1;
        }
        if (got == 0)
            break;
        memmove(buf, buf + start, used - start);
        used -= start;
        if (used == sizeof buf - 1) {
            rc = fail(err, err_len, "[mrn] known_mrns: line %zu is too long", line_no + 1);
            goto out;
        }
    }
    if (rules->n_known_mrns == 0) {
        rc = fail(err, err_len, "[mrn] known_mrns: %s lists no MRN", rules->known_mrns_path);
        goto out;
    }
    qsort(rules->known_mrns, rules->n_known_mrns, sizeof rules->known_mrns[0], compare_mrn);
out:
    memset(buf, 0, sizeof buf);
    if (rc != 0)
        free_known_mrns(rules);
    return rc;
}

static int load_known_mrns(sv_ocr_rules *rules, char *err, size_t err_len)
{
    int rc = 0;
    int fd = open(rules->known_mrns_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(err, err_len, "[mrn] known_mrns: cannot open %s: %s",
                    rules->known_mrns_path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = fail(err, err_len, "[mrn] known_mrns: %s is not a regular file",
                  rules->known_mrns_path);
        goto out;
    }
    if ((st.st_mode & S_IWOTH) != 0) {
        rc = fail(err, err_len, "[mrn] known_mrns: %s is writable by every user; chmod o-w it",
                  rules->known_mrns_path);
        goto out;
    }
    if ((uint64_t)st.st_size > OCR_KNOWN_MRNS_FILE_MAX) {
        rc = fail(err, err_len, "[mrn] known_mrns: %s is larger than %u MiB",
                  rules->known_mrns_path, OCR_KNOWN_MRNS_FILE_MAX >> 20);
        goto out;
    }
    rc = parse_known_mrns(rules, read_known_fd, &fd, err, err_len);
out:
    close(fd);
    return rc;
}

int ocr_rules_parse_known_mrns(sv_ocr_rules *rules, const uint8_t *buf, size_t len,
                               size_t piece, char *err, size_t err_len)
{
    if (err != NULL && err_len > 0)
        err[0] = '\0';
    if (rules == NULL || (buf == NULL && len > 0))
        return SV_EINVAL;
    free_known_mrns(rules);
    known_memory memory = {buf, len, 0, piece};
    return parse_known_mrns(rules, read_known_memory, &memory, err, err_len);
}

int sv_ocr_rules_finish(sv_ocr_rules *rules, char *err, size_t err_len)
{
    if (err != NULL && err_len > 0)
        err[0] = '\0';
    if (rules == NULL)
        return SV_EINVAL;
    free_known_mrns(rules);
    if (rules->min_length > rules->max_length)
        return fail(err, err_len, "[mrn] min_length is greater than max_length");
    if (rules->check_digit != OCR_CHECK_NONE && rules->min_length < 2)
        return fail(err, err_len, "[mrn] a check digit needs min_length of at least 2");
    if (rules->n_labels == 0)
        return fail(err, err_len, "[mrn] labels: at least one label is needed");
    if (rules->known_mrns_path[0] != '\0')
        return load_known_mrns(rules, err, err_len);
    return 0;
}
