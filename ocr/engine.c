/*
 * engine.c - sv_ocr: one initialised Tesseract + zbar engine and the order of
 * work for one document: load every page, make it upright, read it, find the
 * MRN candidates of the page and re-read them, read its barcodes; then decide
 * over all pages together and score the type.
 *
 * Every page is read in full: a second, conflicting MRN may sit anywhere, and
 * skipping text to save time could file a merged chart under one patient.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine_internal.h"

struct sv_ocr {
    const sv_ocr_rules *rules;
    TessBaseAPI *tess;
    TessBaseAPI *osd;        /* created on first need; NULL when unavailable */
    bool osd_tried;
    bool cannot_open_files;  /* after sv_ocr_preload: no system fonts for PDFs */
    zbar_image_scanner_t *scanner;
    ocr_word_list words;
    ocr_candidate candidates[OCR_MAX_TEXT_CANDIDATES];
    ocr_barcode barcodes[OCR_MAX_BARCODES];
};

/* Per-page bookkeeping of one extraction. */
typedef struct page_state {
    size_t n_candidates, n_barcodes;
    bool candidates_overflowed;
    ocr_label_findings labels;
} page_state;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

unsigned sv_ocr_rules_timeout_seconds(const sv_ocr_rules *rules)
{
    return rules->timeout_seconds;
}

uint64_t sv_ocr_rules_worker_memory(const sv_ocr_rules *rules)
{
    return rules->worker_memory;
}

int sv_ocr_create(sv_ocr **out, const sv_ocr_rules *rules)
{
    *out = NULL;
    /* One single-threaded engine per process: OpenMP inside Tesseract only
     * oversubscribes the cores when several documents run at once. Must be
     * set before the OpenMP runtime first starts. */
    setenv("OMP_THREAD_LIMIT", "1", 0);
    /* Leptonica reports through stderr; our callers report the outcome. */
    setMsgSeverity(L_SEVERITY_NONE);

    sv_ocr *ocr = calloc(1, sizeof *ocr);
    if (ocr == NULL)
        return SV_ENOMEM;
    ocr->rules = rules;
    int rc = SV_EOCR;
    ocr->tess = TessBaseAPICreate();
    if (ocr->tess == NULL)
        goto fail;
    if (TessBaseAPIInit2(ocr->tess, NULL, "eng", OEM_LSTM_ONLY) != 0)
        goto fail;
    /* Inverted-text retries double the work on every weak line and find
     * nothing on scanned forms. */
    TessBaseAPISetVariable(ocr->tess, "tessedit_do_invert", "0");
    /* Tesseract's debug chatter ("Detected N diacritics") is not ours to log. */
    TessBaseAPISetVariable(ocr->tess, "debug_file", "/dev/null");
    ocr->scanner = ocr_barcode_scanner_create();
    if (ocr->scanner == NULL) {
        rc = SV_ENOMEM;
        goto fail;
    }
    *out = ocr;
    return 0;
fail:
    sv_ocr_destroy(ocr);
    return rc;
}

void sv_ocr_destroy(sv_ocr *ocr)
{
    if (ocr == NULL)
        return;
    if (ocr->tess != NULL) {
        TessBaseAPIEnd(ocr->tess);
        TessBaseAPIDelete(ocr->tess);
    }
    if (ocr->osd != NULL) {
        TessBaseAPIEnd(ocr->osd);
        TessBaseAPIDelete(ocr->osd);
    }
    ocr_barcode_scanner_destroy(ocr->scanner);
    free(ocr->words.words);
    free(ocr);
}

/* Tesseract's OSD model, loaded on first need or by sv_ocr_preload (a
 * second engine: its own parameters). ocr->osd stays NULL when the model is
 * not installed. */
static void load_osd(sv_ocr *ocr)
{
    if (ocr->osd_tried)
        return;
    ocr->osd_tried = true;
    ocr->osd = TessBaseAPICreate();
    if (ocr->osd != NULL && TessBaseAPIInit3(ocr->osd, NULL, "osd") != 0) {
        TessBaseAPIDelete(ocr->osd);
        ocr->osd = NULL;
    }
    if (ocr->osd != NULL) {
        TessBaseAPISetPageSegMode(ocr->osd, PSM_OSD_ONLY);
        TessBaseAPISetVariable(ocr->osd, "debug_file", "/dev/null");
    }
}

int sv_ocr_preload(sv_ocr *ocr)
{
    load_osd(ocr);
    /* Tesseract opens its debug_file (/dev/null: sv_ocr_create) on the first
     * message it logs and keeps it. Have it log one now, while it may still
     * open files: a config file that does not exist ("Can't open ...").
     * Otherwise the open would fail later and its chatter would go to
     * stderr. */
    TessBaseAPIReadConfigFile(ocr->tess, "scanvault-preload-no-such-config");
    ocr->cannot_open_files = true;
    return ocr_pdf_preload();
}

/* Tesseract's OSD model, for pages Leptonica could not orient. Quarter turns
 * clockwise that make the page upright, -1 when it cannot tell (no model,
 * weak evidence). */
static int osd_orientation_quads(sv_ocr *ocr, PIX *grey, int ppi)
{
    load_osd(ocr);
    if (ocr->osd == NULL)
        return -1;
    int degrees = 0;
    float orient_conf = 0.0f, script_conf = 0.0f;
    const char *script = NULL;
    /* OSD needs no more than about 150 ppi and runs twice as fast there. */
    PIX *small = ppi >= 250 ? pixScaleGrayLI(grey, 0.5f, 0.5f) : pixClone(grey);
    if (small == NULL)
        return -1;
    TessBaseAPISetImage2(ocr->osd, small);
    TessBaseAPISetSourceResolution(ocr->osd, ppi >= 250 ? ppi / 2 : ppi);
    BOOL ok = TessBaseAPIDetectOrientationScript(ocr->osd, &degrees, &orient_conf, &script,
                                                 &script_conf);
    TessBaseAPIClear(ocr->osd);
    pixDestroy(&small);
    if (!ok || orient_conf < 1.0f)
        return -1;
    /* Tesseract reports the turn the page has had, counter-clockwise; turning
     * it back is (360 - degrees) clockwise. */
    return ((360 - degrees) / 90 % 4 + 4) % 4;
}

/*
 * Upright, straight copy of a page and its binary twin; both owned by the
 * caller. quads < 0: detect the orientation (Leptonica, then the OSD model if
 * Leptonica has no evidence) and report how sure it is in *certainty;
 * otherwise use quads as given. Returns 0 or SV_ENOMEM.
 */
static int prepare_page(sv_ocr *ocr, PIX *grey, int ppi, int quads, PIX **upright,
                        PIX **binary, ocr_orient_certainty *certainty, int *used_quads)
{
    *upright = NULL;
    *binary = NULL;
    *certainty = OCR_ORIENT_SURE;
    PIX *first = ocr_binarize(grey);
    if (first == NULL)
        return SV_ENOMEM;
    if (quads < 0 && ocr->rules->detect_orientation) {
        quads = ocr_orientation_quads(first, ppi, certainty);
        if (*certainty == OCR_ORIENT_UNKNOWN)
            quads = osd_orientation_quads(ocr, grey, ppi); /* -1: keep as is */
    }
    if (quads < 0)
        quads = 0;
    *used_quads = quads;
    float skew = 0.0f;
    if (ocr->rules->deskew) {
        PIX *turned = quads ? pixRotateOrth(first, quads) : pixClone(first);
        if (turned != NULL)
            skew = ocr_skew_degrees(turned, ppi);
        if (quads == 0 || skew != 0.0f) {
            pixDestroy(&turned);
        } else {
            pixDestroy(&first);
            first = turned;
        }
    } else if (quads != 0) {
        PIX *turned = pixRotateOrth(first, quads);
        pixDestroy(&first);
        first = turned;
    }
    if (quads == 0 && skew == 0.0f) {
        *upright = pixClone(grey);
        *binary = first;
    } else if (skew == 0.0f) {
        *upright = pixRotateOrth(grey, quads);
        *binary = first;
    } else {
        pixDestroy(&first);
        *upright = ocr_rotate_grey(grey, quads, skew);
        *binary = *upright ? ocr_binarize(*upright) : NULL;
    }
    if (*upright == NULL || *binary == NULL) {
        pixDestroy(upright);
        pixDestroy(binary);
        return SV_ENOMEM;
    }
    return 0;
}

/* Mean confidence of the words read since first (words of 2+ characters);
 * 100 when there are none, so that an empty page is not re-read. */
static float mean_word_confidence(const ocr_word_list *list, size_t first)
{
    double sum = 0.0;
    size_t n = 0;
    for (size_t i = first; i < list->n; i++) {
        if (strlen(list->words[i].text) < 2)
            continue;
        sum += list->words[i].conf;
        n++;
    }
    return n ? (float)(sum / (double)n) : 100.0f;
}

/*
 * The full-page read runs on a copy reduced to about rules->ocr_dpi: most of
 * Tesseract's time grows with the pixels it segments, while print at 150-200
 * ppi reads as well. The MRN's second read uses the full-resolution page.
 */
static int read_page_reduced(sv_ocr *ocr, PIX *upright, PIX *binary, int ppi)
{
    unsigned target = ocr->rules->ocr_dpi;
    if (target == 0 || (unsigned)ppi <= target + target / 10)
        return ocr_read_page(ocr->tess, upright, ppi, 1.0f, binary, &ocr->words);
    float scale = (float)target / (float)ppi;
    PIX *small = pixScaleGrayLI(upright, scale, scale);
    if (small == NULL)
        return SV_ENOMEM;
    int rc = ocr_read_page(ocr->tess, small, (int)target, 1.0f / scale, binary, &ocr->words);
    pixDestroy(&small);
    return rc;
}

/* The barcode value as an MRN (spaces and dashes dropped, as the decision
 * does) into digits, if it is MRN-shaped: digits only, a length the rules
 * allow. */
static bool mrn_shaped_value(const sv_ocr_rules *rules, const char *value,
                             char digits[SV_MRN_MAX + 1])
{
    size_t n = 0;
    for (; *value; value++) {
        if (*value == ' ' || *value == '-')
            continue;
        if (*value < '0' || *value > '9' || n == SV_MRN_MAX)
            return false;
        digits[n++] = *value;
    }
    digits[n] = '\0';
    return n >= rules->min_length && n <= rules->max_length;
}

static bool page_has_candidate(const sv_ocr *ocr, const page_state *st, int page_no,
                               const char *digits)
{
    for (size_t i = 0; i < st->n_candidates; i++)
        if (ocr->candidates[i].pub.page == page_no &&
            strcmp(ocr->candidates[i].pub.digits, digits) == 0)
            return true;
    return false;
}

static bool is_allowed_length(const sv_ocr_rules *rules, const char *digits)
{
    size_t n = strlen(digits);
    return n >= rules->min_length && n <= rules->max_length;
}

/*
 * Corroborate one candidate. The page read is made at reduced resolution, so
 * the value is read again from the full-resolution page, digits only. When
 * the two differ, a third independent full-resolution read decides: if it is
 * a plain number, agrees digit for digit with the digits-only read and every
 * character is confident, those two full-resolution reads replace the page
 * read (two independent reads agreeing is the rule, DESIGN.md section 3).
 * Otherwise the candidate keeps the page read and fails its second read.
 */
static void corroborate_candidate(sv_ocr *ocr, PIX *upright, int ppi, ocr_candidate *c)
{
    char second[SV_MRN_MAX * 2 + 2], third[SV_MRN_MAX * 2 + 2];
    if (!ocr_read_digits(ocr->tess, upright, ppi, &c->box, second, sizeof second))
        return;
    if (strcmp(second, c->pub.digits) == 0) {
        c->pub.second_read_agrees = is_allowed_length(ocr->rules, second);
        explicit_bzero(second, sizeof second);
        return;
    }
    float conf = 0.0f;
    /* Only a clean page reading may be replaced: a look-alike letter or a
     * malformed value stays a reason for review, whatever later reads say. */
    if (c->pub.problem != SV_REASON_NONE || !is_allowed_length(ocr->rules, second) ||
        !ocr_read_value(ocr->tess, upright, ppi, &c->box, third, sizeof third, &conf) ||
        strcmp(second, third) != 0 || conf < ocr->rules->min_char_confidence) {
        explicit_bzero(second, sizeof second);
        explicit_bzero(third, sizeof third);
        return;
    }
    memcpy(c->pub.digits, third, strlen(third) + 1);
    if (conf < c->pub.min_char_conf)
        c->pub.min_char_conf = conf;
    c->pub.second_read_agrees = true;
    explicit_bzero(second, sizeof second);
    explicit_bzero(third, sizeof third);
}

/* Find and corroborate the candidates among freshly read words of one page. */
static void take_candidates(sv_ocr *ocr, const ocr_page_words *pw, PIX *upright, int ppi,
                            page_state *st)
{
    size_t before = st->n_candidates;
    if (ocr_find_candidates(ocr->rules, pw, ocr->candidates, OCR_MAX_TEXT_CANDIDATES,
                            &st->n_candidates, &st->labels) == SV_ELIMIT)
        st->candidates_overflowed = true;
    for (size_t i = before; i < st->n_candidates; i++)
        if (ocr->candidates[i].needs_second_read)
            corroborate_candidate(ocr, upright, ppi, &ocr->candidates[i]);
}

/*
 * A patient label: a barcode with an MRN-shaped value that no printed
 * candidate of this page matches. Its small print is often lost in the
 * full-page read; read the label around the barcode again, as one block and
 * enlarged, and take its labelled candidates like any others. Never the
 * barcode's value itself: the print must say it.
 */
static int reread_labels(sv_ocr *ocr, PIX *upright, PIX *binary, int ppi, int page_no,
                         size_t first_barcode, page_state *st)
{
    for (size_t i = first_barcode; i < st->n_barcodes; i++) {
        const ocr_barcode *b = &ocr->barcodes[i];
        char digits[SV_MRN_MAX + 1];
        if (!mrn_shaped_value(ocr->rules, b->value, digits) ||
            page_has_candidate(ocr, st, page_no, digits))
            continue;
        int w = b->box.x1 - b->box.x0;
        ocr_box label = {b->box.x0 - w / 2, b->box.y0 - w * 6 / 5, b->box.x1 + w / 2,
                         b->box.y1 + w / 3};
        ocr_word_list words = {0};
        int rc = ocr_read_region(ocr->tess, upright, ppi, &label, binary, &words);
        if (rc == 0) {
            ocr_page_words pw = {.page = page_no,
                                 .width = pixGetWidth(upright),
                                 .height = pixGetHeight(upright),
                                 .words = words.words,
                                 .n_words = words.n};
            take_candidates(ocr, &pw, upright, ppi, st);
        }
        if (words.words != NULL)
            memset(words.words, 0, words.cap * sizeof *words.words);
        free(words.words);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Below this mean word confidence a page whose orientation was only
 * "likely" is checked with the OSD model. */
#define REREAD_BELOW_CONFIDENCE 55.0f

/* Read one page: words, candidates (each re-read), barcodes. */
static int extract_page(sv_ocr *ocr, PIX *grey, int page_no, page_state *st,
                        sv_ocr_timing *ms, size_t *first_word)
{
    int ppi = pixGetXRes(grey);
    if (ppi < 70 || ppi > 1200)
        ppi = 300;
    PIX *upright = NULL, *binary = NULL;
    ocr_orient_certainty certainty;
    int quads = 0;
    double t = now_ms();
    int rc = prepare_page(ocr, grey, ppi, -1, &upright, &binary, &certainty, &quads);
    ms->orient += now_ms() - t;
    if (rc != 0)
        return rc;

    t = now_ms();
    *first_word = ocr->words.n;
    rc = read_page_reduced(ocr, upright, binary, ppi);
    ms->ocr += now_ms() - t;
    if (rc != 0)
        goto out;
    if (certainty == OCR_ORIENT_LIKELY &&
        mean_word_confidence(&ocr->words, *first_word) < REREAD_BELOW_CONFIDENCE) {
        /* A poor read of a page whose orientation was a guess: ask the OSD
         * model, and read again only if it says otherwise. */
        t = now_ms();
        int osd_quads = osd_orientation_quads(ocr, grey, ppi);
        ms->orient += now_ms() - t;
        /* Only a confident, different answer replaces the read in hand. */
        if (osd_quads >= 0 && osd_quads != quads) {
            pixDestroy(&binary);
            pixDestroy(&upright);
            t = now_ms();
            rc = prepare_page(ocr, grey, ppi, osd_quads, &upright, &binary, &certainty, &quads);
            ms->orient += now_ms() - t;
            if (rc != 0)
                return rc;
            t = now_ms();
            ocr->words.n = *first_word;
            rc = read_page_reduced(ocr, upright, binary, ppi);
            ms->ocr += now_ms() - t;
            if (rc != 0)
                goto out;
        }
    }

    if (ocr->words.is_truncated)
        st->candidates_overflowed = true; /* not all text seen: review */
    t = now_ms();
    ocr_page_words pw = {.page = page_no,
                         .width = pixGetWidth(upright),
                         .height = pixGetHeight(upright),
                         .words = ocr->words.words + *first_word,
                         .n_words = ocr->words.n - *first_word};
    take_candidates(ocr, &pw, upright, ppi, st);
    ms->second_read += now_ms() - t;

    t = now_ms();
    size_t first_barcode = st->n_barcodes;
    rc = ocr_read_barcodes(ocr->scanner, upright, page_no, ocr->barcodes, OCR_MAX_BARCODES,
                           &st->n_barcodes);
    ms->barcode += now_ms() - t;
    if (rc == SV_ELIMIT) {
        st->candidates_overflowed = true; /* a barcode may have been missed */
        rc = 0;
    }
    if (rc != 0)
        goto out;
    t = now_ms();
    rc = reread_labels(ocr, upright, binary, ppi, page_no, first_barcode, st);
    ms->second_read += now_ms() - t;
out:
    pixDestroy(&binary);
    pixDestroy(&upright);
    return rc;
}

static void set_reject(sv_ocr_result *out, sv_ocr_reason reason)
{
    out->status = SV_OCR_REJECT;
    out->reason = reason;
    out->mrn[0] = '\0';
    memcpy(out->type, "other", sizeof "other");
    out->type_confidence = 0.0f;
}

int sv_ocr_extract_mem(sv_ocr *ocr, const uint8_t *buf, size_t len, sv_ocr_result *out)
{
    memset(out, 0, sizeof *out);
    double start = now_ms();
    PIXA *pages = NULL;
    ocr_page_words *page_words = NULL;
    size_t *first_words = NULL;
    int rc = 0;

    sv_ocr_reason why = ocr_load_pages(ocr->rules, buf, len, &pages);
    out->ms.load = now_ms() - start;
    if (why != SV_REASON_NONE) {
        set_reject(out, why);
        goto out;
    }
    int n_pages = pixaGetCount(pages);
    out->pages = n_pages;
    page_words = calloc((size_t)n_pages, sizeof *page_words);
    first_words = calloc((size_t)n_pages + 1, sizeof *first_words);
    if (page_words == NULL || first_words == NULL) {
        rc = SV_ENOMEM;
        goto fail;
    }
    ocr->words.n = 0;
    ocr->words.is_truncated = false;
    page_state st = {0};
    for (int i = 0; i < n_pages; i++) {
        PIX *grey = pixaGetPix(pages, i, L_CLONE);
        if (grey == NULL) {
            rc = SV_ENOMEM;
            goto fail;
        }
        rc = extract_page(ocr, grey, i + 1, &st, &out->ms, &first_words[i]);
        page_words[i].page = i + 1;
        page_words[i].width = pixGetWidth(grey);
        page_words[i].height = pixGetHeight(grey);
        pixDestroy(&grey);
        if (rc != 0)
            goto fail;
    }
    first_words[n_pages] = ocr->words.n;
    /* The word array may have moved while it grew: point into it only now. */
    for (int i = 0; i < n_pages; i++) {
        page_words[i].words = ocr->words.words + first_words[i];
        page_words[i].n_words = first_words[i + 1] - first_words[i];
    }

    double t = now_ms();
    ocr_evidence ev = {.candidates = ocr->candidates,
                       .n_candidates = st.n_candidates,
                       .candidates_overflowed = st.candidates_overflowed,
                       .labels = st.labels,
                       .barcodes = ocr->barcodes,
                       .n_barcodes = st.n_barcodes};
    ocr_decide(ocr->rules, &ev, out);
    /* Text in a font the PDF does not embed was drawn only if poppler could
     * load a system font; without it the page may lack a second MRN (a
     * merged chart) or the MRN itself. A person decides. */
    if (ocr->cannot_open_files && ocr_pdf_needs_system_fonts(buf, len)) {
        out->status = SV_OCR_REVIEW;
        out->reason = SV_REASON_FONTS_NOT_EMBEDDED;
        memset(out->mrn, 0, sizeof out->mrn);
    }
    ocr_score_type(ocr->rules, page_words, (size_t)n_pages, out);
    out->ms.decide = now_ms() - t;
    goto out;
fail:
    set_reject(out, SV_REASON_OCR_FAILED);
out:
    /* Page text is PHI: do not leave it in the reusable buffer. */
    if (ocr->words.words != NULL)
        memset(ocr->words.words, 0, ocr->words.cap * sizeof *ocr->words.words);
    ocr->words.n = 0;
    ocr->words.is_truncated = false;
    /* Tesseract keeps the last image and its results until told otherwise. */
    TessBaseAPIClear(ocr->tess);
    memset(ocr->candidates, 0, sizeof ocr->candidates);
    memset(ocr->barcodes, 0, sizeof ocr->barcodes);
    free(first_words);
    free(page_words);
    pixaDestroy(&pages);
    out->ms.total = now_ms() - start;
    return rc;
}

int sv_ocr_extract_fd(sv_ocr *ocr, int fd, sv_ocr_result *out)
{
    memset(out, 0, sizeof *out);
    size_t limit = ocr->rules->max_file_bytes;
    size_t cap = 1 << 20, len = 0;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        if ((uint64_t)st.st_size > limit) {
            set_reject(out, SV_REASON_FILE_TOO_BIG);
            return 0;
        }
        cap = (size_t)st.st_size + 1;
    }
    uint8_t *buf = malloc(cap);
    if (buf == NULL) {
        set_reject(out, SV_REASON_OCR_FAILED);
        return SV_ENOMEM;
    }
    for (;;) {
        if (len == cap) {
            if (cap > limit) {
                free(buf);
                set_reject(out, SV_REASON_FILE_TOO_BIG);
                return 0;
            }
            size_t bigger = cap > limit / 2 ? limit + 1 : cap * 2;
            uint8_t *grown = realloc(buf, bigger);
            if (grown == NULL) {
                free(buf);
                set_reject(out, SV_REASON_OCR_FAILED);
                return SV_ENOMEM;
            }
            buf = grown;
            cap = bigger;
        }
        ssize_t got = read(fd, buf + len, cap - len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            free(buf);
            set_reject(out, SV_REASON_UNREADABLE);
            return 0;
        }
        if (got == 0)
            break;
        len += (size_t)got;
    }
    if (len > limit) {
        free(buf);
        set_reject(out, SV_REASON_FILE_TOO_BIG);
        return 0;
    }
    int rc = sv_ocr_extract_mem(ocr, buf, len, out);
    explicit_bzero(buf, len); /* the document itself is PHI */
    free(buf);
    return rc;
}
