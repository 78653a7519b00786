/*
 * preprocess.c - make a loaded page ready for OCR: upright, straight, clean.
 *
 * Orientation is decided by Leptonica's text-orientation statistics on a
 * binarised copy (milliseconds); only when that is unsure does the caller fall
 * back to Tesseract's OSD model (hundreds of milliseconds). Skew is measured on
 * the same binary copy and corrected on the grey image.
 */
#include <math.h>

#include <leptonica/allheaders.h>

#include "engine_internal.h"

/* Orientation evidence (Leptonica's up/left confidences): "sure" needs the
 * stronger direction at ORIENT_SURE_CONF and ORIENT_SURE_RATIO times the
 * other; "likely" less. Below both, the page's orientation is unknown. */
#define ORIENT_SURE_CONF 6.0f
#define ORIENT_SURE_RATIO 2.5f
#define ORIENT_LIKELY_CONF 5.0f
#define ORIENT_LIKELY_RATIO 1.4f
/* Skew smaller than this (degrees) is left alone: Tesseract copes. */
#define SKEW_MIN_DEGREES 0.25f
/* Leptonica's skew confidence below this is noise. */
#define SKEW_MIN_CONF 2.0f

PIX *ocr_binarize(PIX *grey)
{
    PIX *binary = NULL;
    /* Otsu over large tiles: adapts to grey paper and uneven scans, and is
     * one pass over the image. */
    if (pixOtsuAdaptiveThreshold(grey, 1000, 1000, 0, 0, 0.0f, NULL, &binary) != 0)
        return pixConvertTo1(grey, 160);
    return binary;
}

/* A binary copy at about 150 ppi: Leptonica's orientation and skew finders
 * are tuned for 150-300 ppi and run four times faster at the low end. */
static PIX *analysis_copy(PIX *binary, int ppi)
{
    if (ppi >= 250)
        return pixReduceRankBinary2(binary, 1, NULL);
    return pixClone(binary);
}

int ocr_orientation_quads(PIX *binary, int ppi, ocr_orient_certainty *certainty)
{
    *certainty = OCR_ORIENT_UNKNOWN;
    PIX *small = analysis_copy(binary, ppi);
    if (small == NULL)
        return 0;
    l_float32 upconf = 0.0f, leftconf = 0.0f;
    l_int32 orient = L_TEXT_ORIENT_UNKNOWN;
    if (pixOrientDetect(small, &upconf, &leftconf, 0, 0) == 0) {
        /* Leptonica's own thresholds: sure. */
        makeOrientDecision(upconf, leftconf, ORIENT_SURE_CONF, ORIENT_SURE_RATIO, &orient, 0);
        if (orient != L_TEXT_ORIENT_UNKNOWN) {
            *certainty = OCR_ORIENT_SURE;
        } else {
            /* Weaker but one-sided evidence: likely; the caller checks the
             * read and asks the OSD model when the read is poor. */
            makeOrientDecision(upconf, leftconf, ORIENT_LIKELY_CONF, ORIENT_LIKELY_RATIO, &orient,
                               0);
            if (orient != L_TEXT_ORIENT_UNKNOWN)
                *certainty = OCR_ORIENT_LIKELY;
        }
    }
    pixDestroy(&small);
    /* Quarter turns clockwise that make the text upright. */
    switch (orient) {
    case L_TEXT_ORIENT_LEFT:
        return 1;
    case L_TEXT_ORIENT_DOWN:
        return 2;
    case L_TEXT_ORIENT_RIGHT:
        return 3;
    default:
        return 0;
    }
}

float ocr_skew_degrees(PIX *binary, int ppi)
{
    PIX *small = analysis_copy(binary, ppi);
    if (small == NULL)
        return 0.0f;
    l_float32 angle = 0.0f, conf = 0.0f;
    /* Already reduced: sweep at reduction 2, search at 1 of the copy. */
    int rc = pixFindSkewSweepAndSearch(small, &angle, &conf, 2, 1, 7.0f, 1.0f, 0.01f);
    pixDestroy(&small);
    if (rc != 0 || conf < SKEW_MIN_CONF || fabsf(angle) < SKEW_MIN_DEGREES)
        return 0.0f;
    return angle;
}

PIX *ocr_rotate_grey(PIX *grey, int quads, float skew_degrees)
{
    PIX *upright = (quads % 4 != 0) ? pixRotateOrth(grey, quads % 4) : pixClone(grey);
    if (upright == NULL || skew_degrees == 0.0f)
        return upright;
    float radians = skew_degrees * (float)M_PI / 180.0f;
    PIX *straight = pixRotate(upright, radians, L_ROTATE_AREA_MAP, L_BRING_IN_WHITE, 0, 0);
    pixDestroy(&upright);
    return straight;
}
