/*
 * test_config.c - the configuration file loader with real files: every
 * documented key of [mrn], [types] and [ocr] is read; every kind of mistake
 * is refused with FILE:LINE and without echoing the value; the shipped
 * example (deploy/scanvault.conf) loads and equals the built-in defaults.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ocr_internal.h"
#include "sv_intake.h"
#include "sv_ocr.h"

static char dir[] = "/tmp/sv-config-XXXXXX";
static char conf_path[128], list_path[128];

static void write_file(const char *path, const char *text, size_t len, mode_t mode)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

/* Load text as a config file; returns the code, the message in err. */
static int load_text(const char *text, sv_ocr_rules **rules, char *err, size_t err_len)
{
    write_file(conf_path, text, strlen(text), 0640);
    assert_int_equal(sv_ocr_rules_create(rules), 0);
    return sv_intake_config_load(conf_path, *rules, err, err_len);
}

/* Expect text to be refused with "FILE:LINE:" and a phrase in the message. */
static void refused(const char *text, int line, const char *phrase)
{
    sv_ocr_rules *r = NULL;
    char err[512], where[160];
    int rc = load_text(text, &r, err, sizeof err);
    if (rc != SV_ECONFIG)
        fail_msg("accepted or wrong code %d: %s", rc, text);
    snprintf(where, sizeof where, "%s:%d: ", conf_path, line);
    if (strncmp(err, where, strlen(where)) != 0 || strstr(err, phrase) == NULL)
        fail_msg("message '%s' lacks '%s' / '%s'", err, where, phrase);
    sv_ocr_rules_destroy(r);
}

static int setup(void **state)
{
    (void)state;
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(conf_path, sizeof conf_path, "%s/scanvault.conf", dir);
    snprintf(list_path, sizeof list_path, "%s/known.txt", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(conf_path);
    unlink(list_path);
    rmdir(dir);
    return 0;
}

static void test_every_key(void **state)
{
    (void)state;
    write_file(list_path, "87654323\n79927398713\n", 11 + 9 + 1, 0600);
    char text[4096];
    snprintf(text, sizeof text,
             "\xEF\xBB\xBF# scanvault test configuration\r\n"
             "; both comment styles\n"
             "\n"
             "[mrn]\n"
             "labels = MRN, MR#, Chart No.\n"
             "  min_length = 8  \n"
             "max_length=12\n"
             "check_digit = luhn\n"
             "min_char_confidence = 72.5\n"
             "require_second_read = no\n"
             "barcode_alone = YES\n"
             "handwriting_irregularity = 0.2\n"
             "known_mrns = %s\n"
             "[types]\n"
             "min_score = 20\n"
             "title_factor = 2.5\n"
             "margin = 1.25\n"
             "lab_report = laboratory:9, lab report:12\n"
             "consent_form = informed consent:12, consent:6\n"
             "referral =\n"
             "[ocr]\n"
             "max_file_bytes = 20M\n"
             "max_page_pixels = 40000000\n"
             "max_pages = 12\n"
             "pdf_dpi = 200\n"
             "detect_orientation = false\n"
             "deskew = 0\n"
             "timeout_seconds = 30\n",
             list_path);
    sv_ocr_rules *r = NULL;
    char err[512] = "";
    int rc = load_text(text, &r, err, sizeof err);
    if (rc != 0)
        fail_msg("%s", err);
    assert_int_equal(r->n_labels, 3);
    assert_string_equal(r->labels[0], "mrn");
    assert_string_equal(r->labels[1], "mr no");
    assert_string_equal(r->labels[2], "chart no");
    assert_int_equal(r->min_length, 8);
    assert_int_equal(r->max_length, 12);
    assert_int_equal(r->check_digit, OCR_CHECK_LUHN);
    assert_float_equal(r->min_char_confidence, 72.5f, 0.001f);
    assert_false(r->require_second_read);
    assert_true(r->barcode_alone);
    assert_float_equal(r->handwriting_irregularity, 0.2f, 0.001f);
    assert_string_equal(r->known_mrns_path, list_path);
    assert_int_equal(r->n_known_mrns, 2);
    assert_true(ocr_rules_is_known_mrn(r, "79927398713"));
    assert_int_equal(r->type_min_score, 20);
    assert_float_equal(r->type_title_factor, 2.5f, 0.001f);
    assert_float_equal(r->type_margin, 1.25f, 0.001f);
    /* Six built-in types ("other" has words too), referral removed,
     * consent_form added. */
    assert_int_equal(r->n_types, 6);
    assert_string_equal(r->types[0].name, "lab_report");
    assert_int_equal(r->types[0].n_keywords, 2);
    assert_string_equal(r->types[0].keywords[1].phrase, "lab report");
    assert_int_equal(r->types[0].keywords[1].weight, 12);
    assert_string_equal(r->types[4].name, "other");
    assert_string_equal(r->types[5].name, "consent_form");
    for (size_t i = 0; i < r->n_types; i++)
        assert_string_not_equal(r->types[i].name, "referral");
    assert_int_equal(r->max_file_bytes, 20u * 1024 * 1024);
    assert_int_equal(r->max_page_pixels, 40000000u);
    assert_int_equal(r->max_pages, 12);
    assert_int_equal(r->pdf_dpi, 200);
    assert_false(r->detect_orientation);
    assert_false(r->deskew);
    assert_int_equal(r->timeout_seconds, 30);
    sv_ocr_rules_destroy(r);
}

static void test_example_file_is_the_defaults(void **state)
{
    (void)state;
    sv_ocr_rules *from_file = NULL, *defaults = NULL;
    char err[512] = "";
    assert_int_equal(sv_ocr_rules_create(&from_file), 0);
    assert_int_equal(sv_ocr_rules_create(&defaults), 0);
    sv_intake_settings settings_from_file, settings_defaults;
    sv_intake_settings_defaults(&settings_from_file);
    sv_intake_settings_defaults(&settings_defaults);
    settings_from_file.workers = 99; /* the file must set it back to 0 */
    int rc = sv_intake_config_load_all(SV_SOURCE_DIR "/deploy/scanvault.conf", from_file,
                                       &settings_from_file, err, sizeof err);
    if (rc != 0)
        fail_msg("%s", err);
    assert_int_equal(sv_ocr_rules_finish(defaults, err, sizeof err), 0);
    /* Every field, type keywords included, as the built-in defaults. */
    assert_memory_equal(from_file, defaults, sizeof *defaults);
    assert_memory_equal(&settings_from_file, &settings_defaults, sizeof settings_defaults);
    sv_ocr_rules_destroy(from_file);
    sv_ocr_rules_destroy(defaults);
}

static void test_storage_and_intake_settings(void **state)
{
    (void)state;
    sv_intake_settings s;
    sv_intake_settings_defaults(&s);
    char err[256] = "";
    assert_int_equal(sv_intake_settings_set(&s, "storage", "data_dir", "/srv/sv", err, sizeof err), 0);
    assert_string_equal(s.data_dir, "/srv/sv");
    assert_int_equal(sv_intake_settings_set(&s, "storage", "data_dir", "relative/dir", err, sizeof err),
                     SV_ECONFIG);
    assert_non_null(strstr(err, "absolute"));
    assert_null(strstr(err, "relative")); /* the value is never echoed */
    assert_int_equal(sv_intake_settings_set(&s, "storage", "docid_prefix", "site1", err, sizeof err), 0);
    assert_int_equal(sv_intake_settings_set(&s, "storage", "docid_prefix", "Site-1", err, sizeof err),
                     SV_ECONFIG);
    assert_int_equal(sv_intake_settings_set(&s, "storage", "docid_prefix", "toolongprefix", err,
                                            sizeof err),
                     SV_ECONFIG);
    assert_string_equal(s.docid_prefix, "site1");
    assert_int_equal(sv_intake_settings_set(&s, "intake", "workers", "3", err, sizeof err), 0);
    assert_int_equal(sv_intake_settings_workers(&s), 3);
    assert_int_equal(sv_intake_settings_set(&s, "intake", "workers", "-1", err, sizeof err), SV_ECONFIG);
    assert_int_equal(sv_intake_settings_set(&s, "intake", "workers", "65", err, sizeof err), SV_ECONFIG);
    assert_int_equal(sv_intake_settings_set(&s, "intake", "workers", "0", err, sizeof err), 0);
    assert_true(sv_intake_settings_workers(&s) >= 1);
    assert_int_equal(sv_intake_settings_set(&s, "intake", "nonsense", "1", err, sizeof err), SV_ENOTFOUND);
}

static void test_mistakes_are_refused_with_file_and_line(void **state)
{
    (void)state;
    refused("[mrn]\nmin_length = 6\ncolour = blue\n", 3, "unknown key 'colour' in [mrn]");
    refused("# c\n[vault]\npath = /x\n", 2, "unknown section [vault]");
    refused("[mrn]\nmin_length = 6\n\nmin_length = 7\n", 4, "appears twice");
    refused("[mrn]\n[ocr]\n[mrn]\n", 3, "section [mrn] appears twice");
    refused("[ocr]\nmax_pages = many\n", 2, "max_pages");
    refused("[ocr]\nmax_file_bytes = 10X\n", 2, "max_file_bytes");
    refused("[ocr]\nmax_file_bytes = 99999999999999999999G\n", 2, "max_file_bytes");
    refused("[mrn]\nrequire_second_read = perhaps\n", 2, "require_second_read");
    refused("[mrn]\ncheck_digit = mod97\n", 2, "check_digit");
    refused("[mrn]\nmin_char_confidence = 101\n", 2, "min_char_confidence");
    refused("[mrn]\nmin_char_confidence = nan\n", 2, "min_char_confidence");
    refused("[mrn]\nmax_length = 21\n", 2, "max_length");
    refused("[mrn]\nlabels = MRN, , MR#\n", 2, "labels");
    refused("[mrn]\nknown_mrns = relative/list.txt\n", 2, "absolute");
    refused("[types]\nlab_report = laboratory\n", 2, "phrase:weight");
    refused("[types]\nlab_report = laboratory:0\n", 2, "weight");
    refused("[types]\nabcdefghijklmnopqrstuvwxyzabcdef = fax:3\n", 2, "type name");
    refused("[types]\nmin_score = -1\n", 2, "min_score");
    refused("min_length = 6\n", 1, "before any [section]");
    refused("[mrn]\nmin_length 6\n", 2, "expected 'key = value'");
    refused("[mrn\n", 1, "must end with ']'");
    refused("[MRN]\n", 1, "section name");
    refused("[mrn]\nMin_Length = 6\n", 2, "key name");
    refused("[mrn]\nmin_length = 6\xff\n", 2, "UTF-8");
    refused("[mrn]\nmin_length = \xc0\xb6\n", 2, "UTF-8"); /* overlong '6' */
    refused("[mrn]\nmin_length = 6\x01\n", 2, "control character");
    char longline[5000];
    memset(longline, 'x', sizeof longline);
    memcpy(longline, "[mrn]\nlabels = ", 15);
    longline[sizeof longline - 2] = '\n';
    longline[sizeof longline - 1] = '\0';
    refused(longline, 2, "longer than 4096");
}

static void test_exposed_key_file_is_refused_at_its_line(void **state)
{
    (void)state;
    char key_path[300], text[512];
    snprintf(key_path, sizeof key_path, "%s/scanvault.key", dir);
    write_file(key_path, "not a real key, only its mode matters here\n", 44, 0644);
    snprintf(text, sizeof text, "[storage]\ndata_dir = /var/lib/scanvault\nkey_file = %s\n",
             key_path);
    refused(text, 3, "chmod 600");
    assert_int_equal(chmod(key_path, 0640), 0);
    refused(text, 3, "group or others");
    assert_int_equal(chmod(key_path, 0600), 0);
    sv_ocr_rules *r = NULL;
    char err[512] = "";
    if (load_text(text, &r, err, sizeof err) != 0)
        fail_msg("a 0600 key file was refused: %s", err);
    sv_ocr_rules_destroy(r);
    snprintf(text, sizeof text, "[storage]\nkey_file = %s\n", dir);
    refused(text, 2, "not a file");
    unlink(key_path);
}

static void test_values_are_never_echoed(void **state)
{
    (void)state;
    sv_ocr_rules *r = NULL;
    char err[512];
    assert_int_equal(load_text("[mrn]\nmin_length = 98765432\n", &r, err, sizeof err),
                     SV_ECONFIG);
    assert_null(strstr(err, "98765432"));
    assert_non_null(strstr(err, "min_length"));
    sv_ocr_rules_destroy(r);
    write_file(list_path, "87654321\n1234567X9\n", 19, 0600);
    char text[256];
    snprintf(text, sizeof text, "[mrn]\nknown_mrns = %s\n", list_path);
    assert_int_equal(load_text(text, &r, err, sizeof err), SV_ECONFIG);
    assert_null(strstr(err, "1234567"));
    assert_non_null(strstr(err, "line 2"));
    assert_int_equal(strncmp(err, conf_path, strlen(conf_path)), 0);
    sv_ocr_rules_destroy(r);
}

static void test_file_checks(void **state)
{
    (void)state;
    sv_ocr_rules *r = NULL;
    char err[512];
    /* Cross-check at the end: "FILE: message" without a line. */
    assert_int_equal(load_text("[mrn]\nmin_length = 9\nmax_length = 8\n", &r, err, sizeof err),
                     SV_ECONFIG);
    assert_non_null(strstr(err, "min_length is greater than max_length"));
    sv_ocr_rules_destroy(r);

    write_file(conf_path, "[mrn]\n", 6, 0646);
    assert_int_equal(sv_ocr_rules_create(&r), 0);
    assert_int_equal(sv_intake_config_load(conf_path, r, err, sizeof err), SV_EPERM);
    assert_non_null(strstr(err, "writable by every user"));
    unlink(conf_path);
    assert_int_equal(sv_intake_config_load(conf_path, r, err, sizeof err), SV_EERRNO);
    assert_non_null(strstr(err, "cannot open"));
    assert_int_equal(sv_intake_config_load(dir, r, err, sizeof err), SV_ECONFIG);
    size_t big = SV_CONFIG_FILE_MAX + 1;
    char *text = malloc(big);
    assert_non_null(text);
    memset(text, '#', big);
    text[big - 1] = '\n';
    write_file(conf_path, text, big, 0600);
    assert_int_equal(sv_intake_config_load(conf_path, r, err, sizeof err), SV_ECONFIG);
    assert_non_null(strstr(err, "larger than"));
    /* NUL bytes are refused even inside a comment. */
    write_file(conf_path, "[mrn]\n# a\0b\n", 12, 0600);
    assert_int_equal(sv_intake_config_load(conf_path, r, err, sizeof err), SV_ECONFIG);
    assert_non_null(strstr(err, ":2: NUL"));
    free(text);
    sv_ocr_rules_destroy(r);
}

static void test_known_mrn_list_file(void **state)
{
    (void)state;
    sv_ocr_rules *r = NULL;
    char err[512], text[256], out[SV_MRN_MAX + 1];
    snprintf(text, sizeof text, "[mrn]\nknown_mrns = %s\n", list_path);
    const char good[] = "# patient index export\n55500011\n\n10293847\r\n 0012-3456 \n";
    write_file(list_path, good, sizeof good - 1, 0600);
    assert_int_equal(load_text(text, &r, err, sizeof err), 0);
    assert_int_equal(r->n_known_mrns, 3);
    assert_true(ocr_rules_is_known_mrn(r, "00123456"));
    assert_int_equal(sv_ocr_check_mrn(r, "5550-0011", out), SV_REASON_NONE);
    assert_int_equal(sv_ocr_check_mrn(r, "55500012", out), SV_REASON_UNKNOWN_MRN);
    /* Every refusal names the file and line, never the entry; the list is
     * dropped whole. */
    static const struct {
        const char *list;
        mode_t mode;
        const char *phrase;
    } bad[] = {
        {"55500011\n10293847\n1029384X7\n", 0600, "line 3 is not a well-formed MRN"},
        {"55500011\n123\n", 0600, "line 2 is not a well-formed MRN"}, /* min_length 6 */
        {"# nothing\n\n", 0600, "lists no MRN"},
        {"55500011\n", 0606, "writable by every user"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_file(list_path, bad[i].list, strlen(bad[i].list), bad[i].mode);
        assert_int_equal(sv_ocr_rules_finish(r, err, sizeof err), SV_ECONFIG);
        if (strstr(err, bad[i].phrase) == NULL || strstr(err, "1029384") != NULL)
            fail_msg("list %zu: '%s'", i, err);
        assert_int_equal(r->n_known_mrns, 0);
    }
    unlink(list_path);
    assert_int_equal(sv_ocr_rules_finish(r, err, sizeof err), SV_ECONFIG);
    assert_non_null(strstr(err, "cannot open"));
    sv_ocr_rules_destroy(r);
}

/* A section owned by someone else, added through the section table. */
typedef struct extra {
    int calls;
    char last_value[64];
} extra;

static int set_extra(void *ctx, const char *section, const char *key, const char *value,
                     char *err, size_t err_len)
{
    extra *e = ctx;
    assert_string_equal(section, "vault");
    if (strcmp(key, "path") != 0)
        return SV_ENOTFOUND;
    if (value[0] != '/') {
        snprintf(err, err_len, "[vault] path: must be absolute");
        return SV_ECONFIG;
    }
    e->calls++;
    snprintf(e->last_value, sizeof e->last_value, "%s", value);
    return 0;
}

static void test_more_sections_through_the_table(void **state)
{
    (void)state;
    sv_ocr_rules *r = NULL;
    assert_int_equal(sv_ocr_rules_create(&r), 0);
    extra e = {0};
    const sv_intake_config_section sections[] = {{"vault", set_extra, &e}};
    const char text[] = "[vault]\n  path =  /srv/scanvault/vault  \n; done\n";
    char err[256];
    assert_int_equal(sv_intake_config_parse("mem", text, sizeof text - 1, sections, 1, err,
                                            sizeof err),
                     0);
    assert_int_equal(e.calls, 1);
    assert_string_equal(e.last_value, "/srv/scanvault/vault");
    const char bad[] = "[vault]\npath = relative\n";
    assert_int_equal(sv_intake_config_parse("mem", bad, sizeof bad - 1, sections, 1, err,
                                            sizeof err),
                     SV_ECONFIG);
    assert_string_equal(err, "mem:2: [vault] path: must be absolute");
    const char other[] = "[vault]\nsize = 1\n";
    assert_int_equal(sv_intake_config_parse("mem", other, sizeof other - 1, sections, 1, err,
                                            sizeof err),
                     SV_ECONFIG);
    assert_string_equal(err, "mem:2: unknown key 'size' in [vault]");
    /* No trailing newline, CRLF, empty input. */
    const char tail[] = "[vault]\r\npath=/a";
    assert_int_equal(sv_intake_config_parse("mem", tail, sizeof tail - 1, sections, 1, err,
                                            sizeof err),
                     0);
    assert_string_equal(e.last_value, "/a");
    assert_int_equal(sv_intake_config_parse("mem", "", 0, sections, 1, err, sizeof err), 0);
    sv_ocr_rules_destroy(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_key),
        cmocka_unit_test(test_example_file_is_the_defaults),
        cmocka_unit_test(test_storage_and_intake_settings),
        cmocka_unit_test(test_mistakes_are_refused_with_file_and_line),
        cmocka_unit_test(test_exposed_key_file_is_refused_at_its_line),
        cmocka_unit_test(test_values_are_never_echoed),
        cmocka_unit_test(test_file_checks),
        cmocka_unit_test(test_known_mrn_list_file),
        cmocka_unit_test(test_more_sections_through_the_table),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
