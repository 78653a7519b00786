/*
 * decide.c - what a well-formed MRN is (length, check digit), and all
 * candidates of a document (text and barcodes) -> index under one MRN, or
 * review with the reason (DESIGN.md section 3). Also the names of reasons.
 *
 * The checks run in a fixed priority order; the first that fails names the
 * reason. docs/mrn-decision.md explains the order and every reason code.
 *
 *   1. candidates overflowed, or two distinct well-formed MRNs -> conflicting_mrns
 *      (one printed value against one barcode value -> barcode_text_disagree)
 *   2. a labelled value with the wrong length / not digits     -> bad_format
 *   3. a labelled value with a wrong check digit                -> bad_check_digit
 *   4. no well-formed MRN at all          -> unclear_label / unreadable_value / no_mrn
 *   5. only handwritten print, no barcode                       -> handwritten_only
 *   6. a character under the confidence, no barcode             -> low_confidence
 *   7. no text read confirmed by the second read, no barcode    -> second_read_disagree
 *   8. only a barcode and barcode_alone is off                 -> barcode_only
 *   9. a known-MRN list is configured and the MRN is not on it -> unknown_mrn
 *  10. a near-miss label next to an MRN-shaped number          -> unclear_label
 *  11. a label heading a column over a cell that is not a number -> unreadable_value
 *  otherwise index.
 */
#include <ctype.h>
#include <string.h>

#include "ocr_internal.h"

/* ---- reason and status names ---------------------------------------------- */

const char *sv_ocr_reason_code(sv_ocr_reason reason)
{
    switch (reason) {
#define SV_OCR_REASON_CODE(name, code, words) \
    case name:                                \
        return code;
        SV_OCR_REASONS(SV_OCR_REASON_CODE)
#undef SV_OCR_REASON_CODE
    case SV_REASON_COUNT:
        break;
    }
    return "unknown";
}

const char *sv_ocr_reason_words(sv_ocr_reason reason)
{
    switch (reason) {
#define SV_OCR_REASON_WORDS(name, code, words) \
    case name:                                 \
        return words;
        SV_OCR_REASONS(SV_OCR_REASON_WORDS)
#undef SV_OCR_REASON_WORDS
    case SV_REASON_COUNT:
        break;
    }
    return "unknown reason";
}

const char *sv_ocr_status_name(sv_ocr_status status)
{
    switch (status) {
    case SV_OCR_INDEX:
        return "index";
    case SV_OCR_REVIEW:
        return "review";
    case SV_OCR_REJECT:
        return "reject";
    }
    return "unknown";
}

/* ---- MRN format and check digits --------------------------------------------- */

bool ocr_check_digit_ok(ocr_check_digit scheme, const char *digits)
{
    size_t len = strlen(digits);
    if (scheme == OCR_CHECK_NONE)
        return true;
    if (len < 2)
        return false;
    unsigned sum = 0;
    if (scheme == OCR_CHECK_LUHN) {
        /* From the right: the check digit as is, every second digit doubled. */
        for (size_t i = 0; i < len; i++) {
            unsigned d = (unsigned)(digits[len - 1 - i] - '0');
            if (i % 2 == 1) {
                d *= 2;
                if (d > 9)
                    d -= 9;
            }
            sum += d;
        }
        return sum % 10 == 0;
    }
    /* mod-11: weights 2,3,4,5,6,7,2,3,... from the rightmost data digit;
     * check = (11 - sum % 11) % 11; 10 cannot be written, so it is invalid. */
    for (size_t i = 0; i + 1 < len; i++)
        sum += (unsigned)(digits[len - 2 - i] - '0') * (unsigned)(2 + i % 6);
    unsigned check = (11 - sum % 11) % 11;
    return check != 10 && check == (unsigned)(digits[len - 1] - '0');
}

/* Digits of text with spaces and dashes dropped; false on any other byte or
 * more than SV_MRN_MAX digits. */
static bool normalise_digits(const char *text, char out[SV_MRN_MAX + 1])
{
    size_t n = 0;
    for (const char *p = text; *p != '\0'; p++) {
        if (*p == ' ' || *p == '-' || *p == '\t' || *p == '\r')
            continue;
        if (!isdigit((unsigned char)*p) || n == SV_MRN_MAX)
            return false;
        out[n++] = *p;
    }
    out[n] = '\0';
    return true;
}

sv_ocr_reason ocr_check_format(const sv_ocr_rules *rules, const char *text,
                               char digits[SV_MRN_MAX + 1])
{
    if (!normalise_digits(text, digits))
        return SV_REASON_BAD_FORMAT;
    size_t len = strlen(digits);
    if (len < rules->min_length || len > rules->max_length)
        return SV_REASON_BAD_FORMAT;
    if (!ocr_check_digit_ok(rules->check_digit, digits))
        return SV_REASON_BAD_CHECK_DIGIT;
    return SV_REASON_NONE;
}

sv_ocr_reason sv_ocr_check_mrn(const sv_ocr_rules *rules, const char *text,
                               char out[SV_MRN_MAX + 1])
{
    char digits[SV_MRN_MAX + 1];
    out[0] = '\0';
    sv_ocr_reason why = ocr_check_format(rules, text, digits);
    if (why == SV_REASON_NONE && rules->known_mrns_path[0] != '\0' &&
        !ocr_rules_is_known_mrn(rules, digits))
        why = SV_REASON_UNKNOWN_MRN;
    if (why == SV_REASON_NONE)
        memcpy(out, digits, sizeof digits);
    memset(digits, 0, sizeof digits);
    return why;
}

/* ---- the decision ------------------------------------------------------------- */

/* Everything seen about one document, flattened (text first, then barcodes). */
typedef struct tally {
    const char *text_value;    /* first well-formed printed value */
    const char *barcode_value; /* first well-formed barcode value */
    bool text_conflict;        /* a second, different printed value */
    bool barcode_conflict;     /* a second, different barcode value */
    bool bad_format, bad_check_digit;
} tally;

static bool is_handwritten(const sv_ocr_rules *rules, const ocr_candidate *c)
{
    return c->glyph_irregularity > rules->handwriting_irregularity;
}

/* The intrinsic problem of a text candidate: its format, then check digit. */
static sv_ocr_reason format_problem(const sv_ocr_rules *rules, const ocr_candidate *c)
{
    if (c->pub.problem == SV_REASON_BAD_FORMAT)
        return SV_REASON_BAD_FORMAT;
    size_t len = strnlen(c->pub.digits, sizeof c->pub.digits);
    if (len < rules->min_length || len > rules->max_length || len == sizeof c->pub.digits)
        return SV_REASON_BAD_FORMAT;
    if (!ocr_check_digit_ok(rules->check_digit, c->pub.digits))
        return SV_REASON_BAD_CHECK_DIGIT;
    return SV_REASON_NONE;
}

/* A barcode's value with spaces and dashes dropped, if it is a well-formed
 * MRN (length and check digit); otherwise false: not a patient barcode. */
static bool barcode_mrn(const sv_ocr_rules *rules, const ocr_barcode *b,
                        char digits[SV_MRN_MAX + 1])
{
    char value[OCR_BARCODE_MAX + 1];
    size_t len = strnlen(b->value, sizeof b->value);
    memcpy(value, b->value, len);
    value[len] = '\0';
    return ocr_check_format(rules, value, digits) == SV_REASON_NONE;
}

static void note_value(const char **first, bool *conflict, const char *value)
{
    if (*first == NULL)
        *first = value;
    else if (strcmp(*first, value) != 0)
        *conflict = true;
}

/* Append one candidate to the result (when there is room). */
static void report(sv_ocr_result *out, const sv_ocr_candidate *c)
{
    if (out->n_candidates < SV_OCR_MAX_CANDIDATES)
        out->candidates[out->n_candidates++] = *c;
}

/* The checks 5..9 for the one well-formed value: how it was read. */
static sv_ocr_reason check_reading(const sv_ocr_rules *rules, const ocr_evidence *ev,
                                   const char *value, bool barcode_agrees)
{
    bool any_text = false, any_printed = false, any_low = false, any_second = false;
    for (size_t i = 0; i < ev->n_candidates; i++) {
        const ocr_candidate *c = &ev->candidates[i];
        if (format_problem(rules, c) != SV_REASON_NONE || strcmp(c->pub.digits, value) != 0)
            continue;
        any_text = true;
        any_printed = any_printed || !is_handwritten(rules, c);
        any_low = any_low || c->pub.problem == SV_REASON_LOW_CONFIDENCE ||
                  c->pub.min_char_conf < rules->min_char_confidence;
        any_second = any_second || c->pub.second_read_agrees;
    }
    if (any_text && !any_printed && !barcode_agrees)
        return SV_REASON_HANDWRITTEN_ONLY;
    if (any_low && !barcode_agrees)
        return SV_REASON_LOW_CONFIDENCE;
    if (any_text && rules->require_second_read && !any_second && !barcode_agrees)
        return SV_REASON_SECOND_READ_DISAGREE;
    if (!any_text && !rules->barcode_alone)
        return SV_REASON_BARCODE_ONLY;
    if (rules->known_mrns_path[0] != '\0' && !ocr_rules_is_known_mrn(rules, value))
        return SV_REASON_UNKNOWN_MRN;
    return SV_REASON_NONE;
}

/* What is wrong with one text candidate on its own (for the reviewer). */
static sv_ocr_reason text_problem(const sv_ocr_rules *rules, const ocr_candidate *c)
{
    sv_ocr_reason why = format_problem(rules, c);
    if (why != SV_REASON_NONE)
        return why;
    if (rules->known_mrns_path[0] != '\0' && !ocr_rules_is_known_mrn(rules, c->pub.digits))
        return SV_REASON_UNKNOWN_MRN;
    if (c->pub.problem == SV_REASON_LOW_CONFIDENCE ||
        c->pub.min_char_conf < rules->min_char_confidence)
        return SV_REASON_LOW_CONFIDENCE;
    if (rules->require_second_read && !c->pub.second_read_agrees)
        return SV_REASON_SECOND_READ_DISAGREE;
    return SV_REASON_NONE;
}

void ocr_decide(const sv_ocr_rules *rules, const ocr_evidence *ev, sv_ocr_result *out)
{
    tally t;
    memset(&t, 0, sizeof t);
    char barcode_digits[SV_OCR_MAX_CANDIDATES][SV_MRN_MAX + 1];
    char digits[SV_MRN_MAX + 1];
    out->n_candidates = 0;
    memset(out->candidates, 0, sizeof out->candidates);
    memset(barcode_digits, 0, sizeof barcode_digits);

    for (size_t i = 0; i < ev->n_candidates; i++) {
        const ocr_candidate *c = &ev->candidates[i];
        sv_ocr_candidate pub = c->pub;
        pub.is_handwritten = is_handwritten(rules, c);
        pub.problem = text_problem(rules, c);
        switch (format_problem(rules, c)) {
        case SV_REASON_NONE:
            note_value(&t.text_value, &t.text_conflict, c->pub.digits);
            break;
        case SV_REASON_BAD_CHECK_DIGIT:
            t.bad_check_digit = true;
            break;
        default:
            t.bad_format = true;
            break;
        }
        report(out, &pub);
    }
    size_t n_barcode_values = 0;
    for (size_t i = 0; i < ev->n_barcodes; i++) {
        if (!barcode_mrn(rules, &ev->barcodes[i], digits))
            continue; /* not an MRN: an order, accession or device barcode */
        /* Remember at most SV_OCR_MAX_CANDIDATES distinct values; a further
         * distinct one is already a conflict. */
        const char *value = NULL;
        for (size_t k = 0; k < n_barcode_values && value == NULL; k++)
            if (strcmp(barcode_digits[k], digits) == 0)
                value = barcode_digits[k];
        if (value == NULL && n_barcode_values < SV_OCR_MAX_CANDIDATES) {
            memcpy(barcode_digits[n_barcode_values], digits, sizeof digits);
            value = barcode_digits[n_barcode_values++];
        }
        if (value == NULL)
            t.barcode_conflict = true;
        else
            note_value(&t.barcode_value, &t.barcode_conflict, value);
        sv_ocr_candidate pub;
        memset(&pub, 0, sizeof pub);
        memcpy(pub.digits, digits, sizeof digits);
        pub.source = SV_SOURCE_BARCODE;
        pub.page = ev->barcodes[i].page;
        pub.min_char_conf = 100.0f;
        if (rules->known_mrns_path[0] != '\0' && !ocr_rules_is_known_mrn(rules, digits))
            pub.problem = SV_REASON_UNKNOWN_MRN;
        report(out, &pub);
    }

    sv_ocr_reason why = SV_REASON_NONE;
    const char *value = t.text_value != NULL ? t.text_value : t.barcode_value;
    bool barcode_agrees = t.barcode_value != NULL && value != NULL &&
                          strcmp(t.barcode_value, value) == 0;
    if (ev->candidates_overflowed || t.text_conflict || t.barcode_conflict)
        why = SV_REASON_CONFLICTING_MRNS;
    else if (t.text_value != NULL && t.barcode_value != NULL && !barcode_agrees)
        why = SV_REASON_BARCODE_TEXT_DISAGREE;
    else if (t.bad_format)
        why = SV_REASON_BAD_FORMAT;
    else if (t.bad_check_digit)
        why = SV_REASON_BAD_CHECK_DIGIT;
    else if (value == NULL)
        why = ev->labels.unclear_label      ? SV_REASON_UNCLEAR_LABEL
              : ev->labels.unreadable_value ? SV_REASON_UNREADABLE_VALUE
                                            : SV_REASON_NO_MRN;
    else
        why = check_reading(rules, ev, value, barcode_agrees);
    if (why == SV_REASON_NONE && ev->labels.unclear_label)
        why = SV_REASON_UNCLEAR_LABEL;
    if (why == SV_REASON_NONE && ev->labels.unreadable_value)
        why = SV_REASON_UNREADABLE_VALUE;

    /* On a conflict, mark the well-formed candidates that are otherwise fine. */
    if (why == SV_REASON_CONFLICTING_MRNS || why == SV_REASON_BARCODE_TEXT_DISAGREE)
        for (size_t i = 0; i < out->n_candidates; i++)
            if (out->candidates[i].problem == SV_REASON_NONE)
                out->candidates[i].problem = why;

    out->status = why == SV_REASON_NONE ? SV_OCR_INDEX : SV_OCR_REVIEW;
    out->reason = why;
    memset(out->mrn, 0, sizeof out->mrn);
    if (why == SV_REASON_NONE)
        memcpy(out->mrn, value, strlen(value) + 1);
    memset(digits, 0, sizeof digits);
    memset(barcode_digits, 0, sizeof barcode_digits);
}
