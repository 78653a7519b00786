/*
 * doctype.c - the words of a document -> its type (lab_report, prescription,
 * radiology_report, discharge_summary, referral, ..., or "other").
 *
 * Each configured type has weighted keyword phrases. A phrase found as whole
 * words in a line adds its weight (at most KEYWORD_REPEATS times per
 * document, so one word repeated down a table does not decide alone); found in
 * the title area (first page: the top quarter, or a line in a clearly larger
 * font) it counts type_title_factor times once. The best type wins when it
 * reaches type_min_score and beats the runner-up by type_margin; otherwise
 * "other". "other" has words of its own too (fax covers, letters): a cover
 * whose "Re:" line names lab results is still a cover. A wrong type is a
 * nuisance, never a filing error: the type never blocks filing.
 */
#include <stdlib.h>
#include <string.h>

#include "ocr_internal.h"

#define KEYWORD_REPEATS 3
#define LINE_TEXT_MAX 4096
#define TITLE_TOP 0.25f   /* top quarter of the first page */
#define TITLE_FONT 1.5f   /* a line this much taller than the median is a title */

/* ---- built-in types ------------------------------------------------------------ */

typedef struct default_type {
    const char *name;
    const char *keywords; /* phrase:weight, ... */
} default_type;

static const default_type default_types[] = {
    {"lab_report",
     "laboratory report:12, lab report:12, laboratory results:10, lab results:8, "
     "laboratory:6, pathology:4, specimen:5, specimen type:4, reference range:8, "
     "ref range:6, reference interval:6, collected:3, received:1, result:2, results:2, "
     "units:3, flag:2, test name:4, hemoglobin:4, hematocrit:4, glucose:3, panel:4, "
     "cbc:5, cmp:4, bmp:4, lipid panel:5, cholesterol:3, triglycerides:3, creatinine:3, "
     "sodium:3, potassium:3, wbc:4, rbc:3, platelets:3, platelet count:3, urinalysis:5, "
     "a1c:3, tsh:3, mg dl:3, mmol l:3, accession:3, culture:3, abnormal:1, "
     "final report:2"},
    {"prescription",
     "prescription:12, rx:6, sig:6, dispense:6, disp:4, dispense as written:6, refills:6, "
     "refill:4, pharmacy:4, pharmacist:3, dea:5, prescriber:5, take:2, tablet:3, tablets:3, "
     "capsule:3, capsules:3, by mouth:3, orally:2, daily:2, twice daily:3, "
     "three times daily:3, every:1, as needed:2, prn:2, mg:2, mcg:2, quantity:3, qty:3, "
     "substitution:3, generic:2, no substitution:4, days supply:4"},
    {"radiology_report",
     "radiology report:12, radiology:10, imaging:6, diagnostic imaging:8, findings:4, "
     "impression:5, exam:3, examination:2, technique:4, comparison:4, clinical history:2, "
     "indication:2, ct:4, mri:5, x-ray:5, xray:5, radiograph:5, ultrasound:5, "
     "sonography:4, mammogram:5, mammography:5, contrast:4, without contrast:4, "
     "radiologist:6, views:3, ap and lateral:4, pa and lateral:4, chest:2, "
     "unremarkable:3, no acute:3, axial:3, dictated by:1"},
    {"discharge_summary",
     "discharge summary:14, hospital course:8, discharge diagnosis:8, "
     "discharge diagnoses:8, admission date:6, date of admission:6, discharge date:6, "
     "date of discharge:6, discharge medications:8, discharge instructions:6, "
     "admitting diagnosis:6, admission diagnosis:6, principal diagnosis:4, "
     "condition at discharge:6, discharge condition:6, discharge disposition:6, "
     "disposition:3, length of stay:5, attending physician:3, discharged:4, discharge:4, "
     "admitted:3, inpatient:3, follow-up:2, follow up:2"},
    {"referral",
     "referral:12, referral form:12, reason for referral:10, referred:5, referred by:6, "
     "referred to:5, referring physician:8, referring provider:8, referring doctor:8, "
     "consultation request:10, consult request:8, request for consultation:10, "
     "please evaluate:5, evaluate and treat:6, please see:3, thank you for seeing:6, "
     "specialist:4, specialty:3, urgency:3, routine:2, appointment:2, "
     "authorization:2"},
    {"other",
     "fax cover sheet:14, fax cover:12, cover sheet:10, facsimile transmittal:12, "
     "fax transmittal:12, fax transmission:12, facsimile:8, transmittal:6, "
     "including cover:8, confidentiality notice:4, intended only for:3, "
     "received this transmission:4, received this fax:4, to whom it may concern:8, "
     "dear:5, sincerely:6, yours sincerely:4, kind regards:4, best regards:4, "
     "enclosed:3, enclosures:3"},
};

void ocr_default_types(sv_ocr_rules *rules)
{
    char err[160];
    memset(rules->types, 0, sizeof rules->types);
    rules->n_types = 0;
    for (size_t i = 0; i < sizeof default_types / sizeof default_types[0]; i++)
        (void)sv_ocr_rules_set(rules, "types", default_types[i].name,
                               default_types[i].keywords, err, sizeof err);
}

/* ---- normalised text ----------------------------------------------------------- */

static bool is_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Append text to out (at *len, capacity cap) in matching form: lower case,
 * letters and digits and an inner '-' kept, anything else one space. out
 * always starts and ends with a space so " phrase " finds whole words. */
static void append_normalised(char *out, size_t *len, size_t cap, const char *text,
                              size_t text_len)
{
    for (size_t i = 0; i < text_len && *len + 2 < cap; i++) {
        unsigned char c = (unsigned char)text[i];
        char put;
        if (is_alnum(c))
            put = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        else if (c == '-' && i > 0 && i + 1 < text_len && is_alnum((unsigned char)text[i - 1]) &&
                 is_alnum((unsigned char)text[i + 1]))
            put = '-';
        else
            put = ' ';
        if (put == ' ' && out[*len - 1] == ' ')
            continue;
        out[(*len)++] = put;
    }
    if (out[*len - 1] != ' ' && *len + 1 < cap)
        out[(*len)++] = ' ';
    out[*len] = '\0';
}

int ocr_normalise_phrase(const char *text, char out[OCR_KEYWORD_MAX + 1])
{
    char wide[4 * OCR_KEYWORD_MAX + 4] = " ";
    size_t wide_len = 1, text_len = strlen(text);
    memset(out, 0, OCR_KEYWORD_MAX + 1);
    if (text_len > 4 * OCR_KEYWORD_MAX)
        return -1;
    append_normalised(wide, &wide_len, sizeof wide, text, text_len);
    /* wide is " words ": drop the framing spaces. */
    if (wide_len <= 2 || wide_len - 2 > OCR_KEYWORD_MAX)
        return -1;
    memcpy(out, wide + 1, wide_len - 2);
    out[wide_len - 2] = '\0';
    return 0;
}

/* How often " phrase " occurs in line (which is framed by spaces). */
static int count_phrase(const char *line, const char *phrase)
{
    char needle[OCR_KEYWORD_MAX + 3];
    size_t len = strlen(phrase);
    needle[0] = ' ';
    memcpy(needle + 1, phrase, len);
    needle[len + 1] = ' ';
    needle[len + 2] = '\0';
    int n = 0;
    for (const char *p = strstr(line, needle); p != NULL; p = strstr(p + len + 1, needle))
        n++;
    return n;
}

/* ---- scoring ------------------------------------------------------------------- */

typedef struct hits {
    int count[OCR_MAX_TYPES][OCR_MAX_KEYWORDS];
    bool in_title[OCR_MAX_TYPES][OCR_MAX_KEYWORDS];
} hits;

static void score_line(const sv_ocr_rules *rules, const char *line, bool is_title, hits *h)
{
    for (size_t t = 0; t < rules->n_types; t++) {
        const ocr_doctype *type = &rules->types[t];
        for (size_t k = 0; k < type->n_keywords; k++) {
            int n = count_phrase(line, type->keywords[k].phrase);
            if (n == 0)
                continue;
            h->count[t][k] += n;
            if (is_title)
                h->in_title[t][k] = true;
        }
    }
}

static void score_page(const sv_ocr_rules *rules, const ocr_page_words *page, bool first,
                       char *line, hits *h)
{
    int median = first ? ocr_median_word_height(page->words, page->n_words, false) : 0;
    size_t i = 0;
    while (i < page->n_words) {
        size_t len = 1;
        line[0] = ' ';
        line[1] = '\0';
        int top = page->words[i].box.y0, tallest = 0, number = page->words[i].line;
        for (; i < page->n_words && page->words[i].line == number; i++) {
            const ocr_word *w = &page->words[i];
            append_normalised(line, &len, LINE_TEXT_MAX, w->text, strnlen(w->text, OCR_WORD_MAX));
            top = w->box.y0 < top ? w->box.y0 : top;
            int hh = w->box.y1 - w->box.y0;
            tallest = hh > tallest ? hh : tallest;
        }
        bool is_title = first && ((float)top < TITLE_TOP * (float)page->height ||
                                  (median > 0 && (float)tallest >= TITLE_FONT * (float)median));
        score_line(rules, line, is_title, h);
    }
}

void ocr_score_type(const sv_ocr_rules *rules, const ocr_page_words *pages, size_t n_pages,
                    sv_ocr_result *out)
{
    memcpy(out->type, "other", sizeof "other");
    out->type_confidence = 0.0f;
    hits *h = calloc(1, sizeof *h);
    char *line = malloc(LINE_TEXT_MAX);
    if (h == NULL || line == NULL)
        goto out; /* "other": the type never blocks filing */
    for (size_t p = 0; p < n_pages; p++)
        score_page(rules, &pages[p], p == 0, line, h);

    float best = 0.0f, runner = 0.0f;
    size_t best_type = 0;
    for (size_t t = 0; t < rules->n_types; t++) {
        float score = 0.0f;
        for (size_t k = 0; k < rules->types[t].n_keywords; k++) {
            int n = h->count[t][k] < KEYWORD_REPEATS ? h->count[t][k] : KEYWORD_REPEATS;
            float times = (float)n;
            if (h->in_title[t][k])
                times += rules->type_title_factor - 1.0f;
            score += times * (float)rules->types[t].keywords[k].weight;
        }
        if (score > best) {
            runner = best;
            best = score;
            best_type = t;
        } else if (score > runner) {
            runner = score;
        }
    }
    float min = (float)rules->type_min_score;
    if (best >= min && best >= rules->type_margin * runner) {
        size_t len = strnlen(rules->types[best_type].name, SV_TYPE_MAX);
        memcpy(out->type, rules->types[best_type].name, len);
        out->type[len] = '\0';
        float strength = best / (2.0f * min) < 1.0f ? best / (2.0f * min) : 1.0f;
        out->type_confidence = strength * (1.0f - runner / best);
    } else if (best < min) {
        /* Sure it is "other" when nothing scored at all. */
        out->type_confidence = 1.0f - best / min;
    } else {
        /* Two types too close to call: the nearer the tie, the surer "other". */
        out->type_confidence = 1.0f - best / (rules->type_margin * runner);
    }
out:
    if (line != NULL)
        memset(line, 0, LINE_TEXT_MAX); /* page text is PHI */
    free(line);
    free(h);
}
