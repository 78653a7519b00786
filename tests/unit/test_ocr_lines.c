/*
 * test_ocr_lines.c - which words stand on one text line (ocr/lines.c), with
 * word boxes as Tesseract reported them on scans that went wrong before:
 * a patient sticker a few pixels lower than the address beside it, a value
 * whose box a speck made tall, a tall logo beside two lines, and columns
 * far apart on one row.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "ocr_internal.h"

typedef struct {
    const char *text;
    int x0, y0, x1, y1;
} box_word;

static size_t load(ocr_word *out, const box_word *in, size_t n)
{
    memset(out, 0, n * sizeof *out);
    for (size_t i = 0; i < n; i++) {
        snprintf(out[i].text, sizeof out[i].text, "%s", in[i].text);
        out[i].box = (ocr_box){in[i].x0, in[i].y0, in[i].x1, in[i].y1};
        out[i].line = -1;
    }
    return n;
}

static const ocr_word *find(const ocr_word *w, size_t n, const char *text)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(w[i].text, text) == 0)
            return &w[i];
    fail_msg("no word '%s'", text);
    return NULL;
}

/* The words in their new order, one line per "|". */
static void reading_order(const ocr_word *w, size_t n, char *out, size_t cap)
{
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *sep = i == 0 ? "" : w[i].line != w[i - 1].line ? " | " : " ";
        strncat(out, sep, cap - strlen(out) - 1);
        strncat(out, w[i].text, cap - strlen(out) - 1);
    }
}

static void test_sticker_beside_address(void **state)
{
    (void)state;
    /* the address line, then a sticker 570 px to its right and 7 px lower */
    static const box_word in[] = {
        {"Salem,", 344, 280, 410, 299},   {"MA", 420, 281, 450, 296},
        {"01980", 457, 281, 516, 296},    {"4550", 150, 281, 198, 296},
        {"26065193", 1152, 288, 1284, 308}, {"MRN", 1084, 290, 1132, 309},
        {"Phone:", 152, 300, 212, 337},   {"(978)", 225, 311, 276, 332},
        {"Acct:", 1084, 325, 1161, 350},  {"65246837", 1187, 323, 1316, 343},
    };
    ocr_word w[16];
    size_t n = load(w, in, sizeof in / sizeof in[0]);
    assert_int_equal(ocr_assign_lines(w, n), 0);
    assert_int_equal(find(w, n, "MRN")->line, find(w, n, "26065193")->line);
    assert_int_not_equal(find(w, n, "MRN")->line, find(w, n, "01980")->line);
    char order[256];
    reading_order(w, n, order, sizeof order);
    assert_string_equal(order,
                        "4550 Salem, MA 01980 | MRN 26065193 | Phone: (978) | Acct: 65246837");
}

static void test_tall_words(void **state)
{
    (void)state;
    static const box_word in[] = {
        /* a value whose box a speck stretched to twice the line's height */
        {"MRN:", 1276, 567, 1356, 591},
        {"9268-", 1383, 567, 1488, 591},
        {"0768", 1495, 544, 1584, 603},
        /* a logo as tall as two lines, left of both: it joins one of them
         * at most, and the lines stay apart */
        {"LOGO", 100, 700, 300, 780},
        {"Name:", 340, 705, 420, 730},
        {"Example", 430, 705, 540, 730},
        {"DOB:", 340, 750, 410, 775},
        {"01/02/1960", 420, 750, 560, 775},
    };
    ocr_word w[16];
    size_t n = load(w, in, sizeof in / sizeof in[0]);
    assert_int_equal(ocr_assign_lines(w, n), 0);
    assert_int_equal(find(w, n, "9268-")->line, find(w, n, "0768")->line);
    assert_int_equal(find(w, n, "MRN:")->line, find(w, n, "0768")->line);
    assert_int_equal(find(w, n, "Name:")->line, find(w, n, "Example")->line);
    assert_int_equal(find(w, n, "DOB:")->line, find(w, n, "01/02/1960")->line);
    assert_int_not_equal(find(w, n, "Name:")->line, find(w, n, "DOB:")->line);
    /* lines are numbered top to bottom, words left to right */
    for (size_t i = 1; i < n; i++) {
        assert_true(w[i].line >= w[i - 1].line);
        if (w[i].line == w[i - 1].line)
            assert_true(w[i].box.x0 >= w[i - 1].box.x0);
    }
}

static void test_gaps_and_waves(void **state)
{
    (void)state;
    /* one line whose baseline drifts 3 px a word, then two columns 900 px
     * apart at the same height: two lines */
    static const box_word in[] = {
        {"a", 100, 100, 150, 130}, {"b", 160, 103, 210, 133}, {"c", 220, 106, 270, 136},
        {"d", 280, 109, 330, 139}, {"e", 340, 112, 390, 142}, {"f", 400, 115, 450, 145},
        {"left", 100, 300, 200, 330}, {"right", 1100, 300, 1200, 330},
    };
    ocr_word w[16];
    size_t n = load(w, in, sizeof in / sizeof in[0]);
    assert_int_equal(ocr_assign_lines(w, n), 0);
    assert_int_equal(find(w, n, "a")->line, find(w, n, "f")->line);
    assert_int_not_equal(find(w, n, "left")->line, find(w, n, "right")->line);
    char order[256];
    reading_order(w, n, order, sizeof order);
    assert_string_equal(order, "a b c d e f | left | right");
    /* nothing to do */
    assert_int_equal(ocr_assign_lines(w, 0), 0);
}

/* A rule down the page edge read as '|' must not gather every row into one
 * line: the MRN row and the account row below it stay apart. */
static void test_page_rule(void **state)
{
    (void)state;
    static const box_word in[] = {
        {"|", 40, 100, 52, 3200},
        {"Name:", 150, 500, 250, 530},   {"Jane", 262, 500, 340, 530},
        {"MRN:", 150, 560, 250, 590},    {"12345678", 262, 560, 440, 590},
        {"Acct:", 140, 620, 240, 650},   {"87654321", 255, 620, 433, 650},
    };
    ocr_word w[16];
    size_t n = load(w, in, sizeof in / sizeof in[0]);
    assert_int_equal(ocr_assign_lines(w, n), 0);
    assert_int_equal(find(w, n, "MRN:")->line, find(w, n, "12345678")->line);
    assert_int_equal(find(w, n, "Acct:")->line, find(w, n, "87654321")->line);
    assert_int_not_equal(find(w, n, "MRN:")->line, find(w, n, "Acct:")->line);
    assert_int_not_equal(find(w, n, "|")->line, find(w, n, "Name:")->line);
}

/* A page of specks with one blob as tall and wide as the page: lines are
 * still found, word by word, without comparing every pair. */
static void test_page_of_specks(void **state)
{
    (void)state;
    enum { N = 60000 };
    static ocr_word w[N];
    memset(w, 0, sizeof w);
    for (size_t i = 0; i < N - 3; i++) {
        int x = (int)(i % 600) * 4, y = (int)(i / 600) * 33;
        snprintf(w[i].text, sizeof w[i].text, "%s", i % 2 ? "." : "a");
        w[i].box = (ocr_box){x, y, x + 3, y + 3};
    }
    w[N - 3].box = (ocr_box){0, 0, 2500, 3300};
    snprintf(w[N - 3].text, sizeof w[N - 3].text, "blob");
    w[N - 2].box = (ocr_box){100, 1000, 180, 1003};
    snprintf(w[N - 2].text, sizeof w[N - 2].text, "MRN");
    w[N - 1].box = (ocr_box){183, 1000, 260, 1003};
    snprintf(w[N - 1].text, sizeof w[N - 1].text, "12345678");
    assert_int_equal(ocr_assign_lines(w, N), 0);
    assert_int_equal(find(w, N, "MRN")->line, find(w, N, "12345678")->line);
    for (size_t i = 1; i < N; i++)
        assert_true(w[i].line >= w[i - 1].line);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sticker_beside_address),
        cmocka_unit_test(test_tall_words),
        cmocka_unit_test(test_gaps_and_waves),
        cmocka_unit_test(test_page_rule),
        cmocka_unit_test(test_page_of_specks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
