/*
 * rules_wire.c - sv_ocr_rules as bytes, for the OCR worker process.
 *
 * The supervisor holds the rules it loaded (a file, or the built-in
 * defaults); a worker process (scanvault-ocr) must decide with exactly the
 * same ones, also when it is started hours later as a replacement and the
 * file has been edited meanwhile. So the rules travel over the worker's
 * socket rather than the worker re-reading the file.
 *
 * Field by field, never the struct's bytes: padding could carry whatever
 * the supervisor's stack held, and the worker is the less trusted side.
 *
 *   "SVRL" (4 bytes), format version (u32), then every field in the order
 *   below: integers as u64 little-endian, floats as their IEEE-754 bits
 *   (u32), booleans as one byte 0/1, strings as a u16 length and the bytes
 *   (no NUL). Nothing may follow the last field.
 *
 * The known-MRN list is not sent (up to 20 million entries): its path is,
 * and sv_ocr_rules_decode loads it as sv_ocr_rules_finish does. A list
 * changed in between is harmless: the supervisor re-checks every filing
 * against its own list (worker_recheck_filing).
 *
 * Every field of struct sv_ocr_rules that a configuration key sets must be
 * here; tests/unit/test_workers.c sets every key and checks that the bytes
 * change.
 */
#include <stdio.h>
#include <string.h>

#include "ocr_internal.h"

#define WIRE_MAGIC "SVRL"
#define WIRE_VERSION 1u

typedef struct wire_writer {
    uint8_t *buf;
    size_t cap, len;
    bool is_full;
} wire_writer;

typedef struct wire_reader {
    const uint8_t *buf;
    size_t len, at;
    bool is_bad;
} wire_reader;

static void put_bytes(wire_writer *w, const void *p, size_t n)
{
    if (w->is_full || n > w->cap - w->len) {
        w->is_full = true;
        return;
    }
    memcpy(w->buf + w->len, p, n);
    w->len += n;
}

static void put_u64(wire_writer *w, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    put_bytes(w, b, sizeof b);
}

static void put_u32(wire_writer *w, uint32_t v)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    put_bytes(w, b, sizeof b);
}

static void put_float(wire_writer *w, float f)
{
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    put_u32(w, bits);
}

static void put_bool(wire_writer *w, bool b)
{
    uint8_t v = b ? 1 : 0;
    put_bytes(w, &v, 1);
}

/* s holds at most cap bytes before its NUL. */
static void put_str(wire_writer *w, const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    uint8_t b[2] = {(uint8_t)n, (uint8_t)(n >> 8)};
    put_bytes(w, b, sizeof b);
    put_bytes(w, s, n);
}

static const uint8_t *get_bytes(wire_reader *r, size_t n)
{
    if (r->is_bad || n > r->len - r->at) {
        r->is_bad = true;
        return NULL;
    }
    const uint8_t *p = r->buf + r->at;
    r->at += n;
    return p;
}

static uint64_t get_u64(wire_reader *r)
{
    const uint8_t *p = get_bytes(r, 8);
    uint64_t v = 0;
    for (int i = 0; p != NULL && i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static uint32_t get_u32(wire_reader *r)
{
    const uint8_t *p = get_bytes(r, 4);
    uint32_t v = 0;
    for (int i = 0; p != NULL && i < 4; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

/* A count or number that must not exceed max. */
static uint64_t get_upto(wire_reader *r, uint64_t max)
{
    uint64_t v = get_u64(r);
    if (v > max) {
        r->is_bad = true;
        return 0;
    }
    return v;
}

static unsigned get_unsigned(wire_reader *r)
{
    return (unsigned)get_upto(r, UINT32_MAX);
}

static float get_float(wire_reader *r)
{
    uint32_t bits = get_u32(r);
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static bool get_bool(wire_reader *r)
{
    const uint8_t *p = get_bytes(r, 1);
    if (p != NULL && *p > 1)
        r->is_bad = true;
    return p != NULL && *p == 1;
}

/* Into out (cap bytes before the NUL); no NUL inside the string. */
static void get_str(wire_reader *r, char *out, size_t cap)
{
    const uint8_t *b = get_bytes(r, 2);
    size_t n = b == NULL ? 0 : (size_t)b[0] | (size_t)b[1] << 8;
    const uint8_t *p = n > cap ? NULL : get_bytes(r, n);
    if (p == NULL || memchr(p, '\0', n) != NULL) {
        r->is_bad = true;
        out[0] = '\0';
        return;
    }
    memcpy(out, p, n);
    out[n] = '\0';
}

int sv_ocr_rules_encode(const sv_ocr_rules *rules, uint8_t *buf, size_t cap, size_t *len)
{
    *len = 0;
    wire_writer w = {.buf = buf, .cap = cap};
    put_bytes(&w, WIRE_MAGIC, 4);
    put_u32(&w, WIRE_VERSION);
    /* [mrn] */
    put_u64(&w, rules->n_labels);
    for (size_t i = 0; i < rules->n_labels; i++)
        put_str(&w, rules->labels[i], OCR_LABEL_MAX);
    put_u64(&w, rules->min_length);
    put_u64(&w, rules->max_length);
    put_u64(&w, (uint64_t)rules->check_digit);
    put_float(&w, rules->min_char_confidence);
    put_bool(&w, rules->require_second_read);
    put_bool(&w, rules->barcode_alone);
    put_float(&w, rules->handwriting_irregularity);
    put_str(&w, rules->known_mrns_path, sizeof rules->known_mrns_path - 1);
    /* [types] */
    put_u64(&w, rules->n_types);
    for (size_t t = 0; t < rules->n_types; t++) {
        const ocr_doctype *type = &rules->types[t];
        put_str(&w, type->name, SV_TYPE_MAX);
        put_u64(&w, type->n_keywords);
        for (size_t k = 0; k < type->n_keywords; k++) {
            put_str(&w, type->keywords[k].phrase, OCR_KEYWORD_MAX);
            put_u64(&w, (uint64_t)(int64_t)type->keywords[k].weight);
        }
    }
    put_u64(&w, (uint64_t)(int64_t)rules->type_min_score);
    put_float(&w, rules->type_title_factor);
    put_float(&w, rules->type_margin);
    /* [ocr] */
    put_u64(&w, rules->max_file_bytes);
    put_u64(&w, rules->max_page_pixels);
    put_u64(&w, rules->max_pages);
    put_u64(&w, rules->pdf_dpi);
    put_bool(&w, rules->detect_orientation);
    put_bool(&w, rules->deskew);
    put_u64(&w, rules->timeout_seconds);
    put_u64(&w, rules->ocr_dpi);
    put_u64(&w, rules->worker_memory);
    if (w.is_full)
        return SV_ELIMIT;
    *len = w.len;
    return 0;
}

/* A signed value sent as u64 two's complement, within [lo, hi]. */
static int get_int(wire_reader *r, int lo, int hi)
{
    int64_t v = (int64_t)get_u64(r);
    if (v < lo || v > hi) {
        r->is_bad = true;
        return 0;
    }
    return (int)v;
}

static void decode_fields(wire_reader *r, sv_ocr_rules *rules)
{
    const uint8_t *magic = get_bytes(r, 4);
    if (magic == NULL || memcmp(magic, WIRE_MAGIC, 4) != 0 || get_u32(r) != WIRE_VERSION) {
        r->is_bad = true;
        return;
    }
    rules->n_labels = (size_t)get_upto(r, OCR_MAX_LABELS);
    for (size_t i = 0; i < rules->n_labels; i++)
        get_str(r, rules->labels[i], OCR_LABEL_MAX);
    rules->min_length = (unsigned)get_upto(r, SV_MRN_MAX);
    rules->max_length = (unsigned)get_upto(r, SV_MRN_MAX);
    rules->check_digit = (ocr_check_digit)get_upto(r, OCR_CHECK_MOD11);
    rules->min_char_confidence = get_float(r);
    rules->require_second_read = get_bool(r);
    rules->barcode_alone = get_bool(r);
    rules->handwriting_irregularity = get_float(r);
    get_str(r, rules->known_mrns_path, sizeof rules->known_mrns_path - 1);
    rules->n_types = (size_t)get_upto(r, OCR_MAX_TYPES);
    for (size_t t = 0; t < rules->n_types; t++) {
        ocr_doctype *type = &rules->types[t];
        get_str(r, type->name, SV_TYPE_MAX);
        type->n_keywords = (size_t)get_upto(r, OCR_MAX_KEYWORDS);
        for (size_t k = 0; k < type->n_keywords; k++) {
            get_str(r, type->keywords[k].phrase, OCR_KEYWORD_MAX);
            type->keywords[k].weight = get_int(r, -1000000, 1000000);
        }
    }
    rules->type_min_score = get_int(r, -1000000, 1000000);
    rules->type_title_factor = get_float(r);
    rules->type_margin = get_float(r);
    rules->max_file_bytes = (size_t)get_upto(r, SIZE_MAX);
    rules->max_page_pixels = get_u64(r);
    rules->max_pages = get_unsigned(r);
    rules->pdf_dpi = get_unsigned(r);
    rules->detect_orientation = get_bool(r);
    rules->deskew = get_bool(r);
    rules->timeout_seconds = get_unsigned(r);
    rules->ocr_dpi = get_unsigned(r);
    rules->worker_memory = get_u64(r);
    if (r->at != r->len)
        r->is_bad = true; /* trailing bytes */
}

int sv_ocr_rules_decode(sv_ocr_rules **out, const uint8_t *buf, size_t len, char *err,
                        size_t err_len)
{
    *out = NULL;
    if (err != NULL && err_len > 0)
        err[0] = '\0';
    sv_ocr_rules *rules = NULL;
    int rc = sv_ocr_rules_create(&rules);
    if (rc != 0)
        return rc;
    wire_reader r = {.buf = buf, .len = len};
    decode_fields(&r, rules);
    if (r.is_bad) {
        if (err != NULL && err_len > 0)
            snprintf(err, err_len, "the rules from the supervisor are malformed "
                                   "(scanvault and scanvault-ocr from different builds?)");
        rc = SV_EFORMAT;
        goto out;
    }
    rc = sv_ocr_rules_finish(rules, err, err_len); /* cross-checks, known-MRN list */
out:
    if (rc != 0) {
        sv_ocr_rules_destroy(rules);
        return rc;
    }
    *out = rules;
    return 0;
}
