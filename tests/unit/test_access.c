/*
 * test_access.c - the parts of the local API that need no users or
 * processes (docs/access.md): the message codec (every field kind round
 * trip, every kind of bad message refused), the [access] settings, and a
 * caller's view of a store, whose audit lines name the caller while direct
 * use still names the process. The whole service with real users is
 * tests/integration/access_test.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "intake_internal.h"

static proto_out out;

static int decode_out(bool is_request, proto_msg *m)
{
    assert_int_equal(proto_finish(&out), 0);
    char why[256];
    return proto_decode(out.buf, out.len, is_request, m, why, sizeof why);
}

static void test_round_trip(void **state)
{
    (void)state;
    proto_start(&out, PM_END);
    proto_put_i32(&out, PT_CODE, SV_EAUTH);
    proto_put_text(&out, PT_TEXT, "x: damaged");
    proto_put_u64(&out, PT_SIZE, UINT64_MAX);
    int64_t v[3] = {-1, INT64_MIN, 42};
    proto_put_numbers(&out, PT_NUMBERS, v, 3);
    uint8_t mac[SV_AUDIT_MAC_LEN];
    memset(mac, 0xab, sizeof mac);
    proto_put_bytes(&out, PT_MAC, mac, sizeof mac);
    proto_msg m;
    assert_int_equal(decode_out(false, &m), 0);
    assert_int_equal(m.type, PM_END);
    assert_int_equal(proto_i32(&m, PT_CODE), SV_EAUTH);
    char text[64];
    assert_int_equal(proto_str(&m, PT_TEXT, text, sizeof text), 0);
    assert_string_equal(text, "x: damaged");
    assert_true(proto_u64(&m, PT_SIZE) == UINT64_MAX);
    int64_t back[3];
    assert_int_equal(proto_numbers(&m, PT_NUMBERS, back, 3), 3);
    assert_true(back[0] == -1 && back[1] == INT64_MIN && back[2] == 42);
    size_t len = 0;
    const uint8_t *p = proto_bytes(&m, PT_MAC, &len);
    assert_int_equal(len, sizeof mac);
    assert_memory_equal(p, mac, sizeof mac);
    assert_false(proto_has(&m, PT_COUNT));
    assert_int_equal(proto_u64(&m, PT_COUNT), 0);
    /* An answer is not a request, and the other way round. */
    assert_int_equal(decode_out(true, &m), SV_EFORMAT);
    proto_start(&out, PM_FIND);
    proto_put_str(&out, PT_MRN, "1234567");
    assert_int_equal(decode_out(false, &m), SV_EFORMAT);
    assert_int_equal(decode_out(true, &m), 0);
}

static void test_building_refuses_bad_fields(void **state)
{
    (void)state;
    char too_long[100];
    memset(too_long, 'a', sizeof too_long - 1);
    too_long[sizeof too_long - 1] = '\0';
    proto_start(&out, PM_FIND);
    proto_put_str(&out, PT_MRN, too_long); /* 99 > 64 */
    assert_int_equal(proto_finish(&out), SV_ELIMIT);
    proto_start(&out, PM_FIND);
    proto_put_u64(&out, PT_MRN, 1); /* wrong kind */
    assert_int_equal(proto_finish(&out), SV_ELIMIT);
    proto_start(&out, PM_ERROR);
    proto_put_text(&out, PT_MRN, too_long); /* text is cut to the bound */
    proto_put_i32(&out, PT_CODE, -1);
    proto_put_u8(&out, PT_KIND, 0);
    proto_put_text(&out, PT_TEXT, "t");
    assert_int_equal(proto_finish(&out), 0);
}

/* A frame by hand: header and raw payload. */
static size_t raw(uint8_t *buf, uint32_t magic, uint16_t version, uint16_t type,
                  const uint8_t *payload, uint32_t len, uint32_t claimed)
{
    uint8_t h[12] = {(uint8_t)magic,   (uint8_t)(magic >> 8),   (uint8_t)(magic >> 16),
                     (uint8_t)(magic >> 24), (uint8_t)version, (uint8_t)(version >> 8),
                     (uint8_t)type,    (uint8_t)(type >> 8),    (uint8_t)claimed,
                     (uint8_t)(claimed >> 8), (uint8_t)(claimed >> 16), (uint8_t)(claimed >> 24)};
    memcpy(buf, h, 12);
    if (len > 0)
        memcpy(buf + 12, payload, len);
    return 12 + len;
}

static void test_strict_decoding(void **state)
{
    (void)state;
    static uint8_t buf[PROTO_FRAME_MAX + 64];
    proto_msg m;
    char why[256];
    const uint8_t mrn[] = {PT_MRN, 3, 0, '1', '2', '3'};
    size_t n = raw(buf, PROTO_MAGIC, 1, PM_FIND, mrn, sizeof mrn, sizeof mrn);
    assert_int_equal(proto_decode(buf, n, true, &m, why, sizeof why), 0);
    /* Each of these is refused whole. */
    n = raw(buf, PROTO_MAGIC, 2, PM_FIND, mrn, sizeof mrn, sizeof mrn);
    assert_int_equal(proto_decode(buf, n, true, &m, why, sizeof why), SV_EVERSION);
    n = raw(buf, 0x12345678, 1, PM_FIND, mrn, sizeof mrn, sizeof mrn);
    assert_int_equal(proto_decode(buf, n, true, &m, why, sizeof why), SV_EFORMAT);
    n = raw(buf, PROTO_MAGIC, 1, 99, mrn, sizeof mrn, sizeof mrn);
    assert_int_equal(proto_decode(buf, n, true, &m, why, sizeof why), SV_EFORMAT);
    assert_non_null(strstr(why, "unknown message type"));
    n = raw(buf, PROTO_MAGIC, 1, PM_FIND, mrn, sizeof mrn, PROTO_PAYLOAD_MAX + 1);
    assert_int_equal(proto_decode(buf, n, true, &m, why, sizeof why), SV_ELIMIT);
    n = raw(buf, PROTO_MAGIC, 1, PM_FIND, mrn, sizeof mrn, sizeof mrn + 5);
    assert_int_equal(proto_decode(buf, n, true, &m, why, sizeof why), SV_ETRUNC);
    n = raw(buf, PROTO_MAGIC, 1, PM_FIND, mrn, sizeof mrn, sizeof mrn - 1);
    assert_int_equal(proto_decode(buf, n, true, &m, why, sizeof why), SV_EFORMAT); /* trailing */
    n = raw(buf, PROTO_MAGIC, 1, PM_FIND, NULL, 0, 0);
    assert_int_equal(proto_decode(buf, n, true, &m, why, sizeof why), SV_EFORMAT); /* missing */
    const uint8_t twice[] = {PT_MRN, 1, 0, '1', PT_MRN, 1, 0, '2'};
    n = raw(buf, PROTO_MAGIC, 1, PM_FIND, twice, sizeof twice, sizeof twice);
    assert_int_equal(proto_decode(buf, n, true, &m, why, sizeof why), SV_EFORMAT);
    const uint8_t foreign[] = {PT_MRN, 1, 0, '1', PT_NOTE, 1, 0, 'x'}; /* NOTE is not FIND's */
    n = raw(buf, PROTO_MAGIC, 1, PM_FIND, foreign, sizeof foreign, sizeof foreign);
    assert_int_equal(proto_decode(buf, n, true, &m, why, sizeof why), SV_EFORMAT);
    const uint8_t bad_len[] = {PT_MRN, 1, 0, '1', PT_SINCE, 3, 0, 1, 2, 3}; /* an i64 of 3 */
    n = raw(buf, PROTO_MAGIC, 1, PM_FIND, bad_len, sizeof bad_len, sizeof bad_len);
    assert_int_equal(proto_decode(buf, n, true, &m, why, sizeof why), SV_EFORMAT);
    const uint8_t nul[] = {PT_MRN, 3, 0, '1', 0, '3'};
    n = raw(buf, PROTO_MAGIC, 1, PM_FIND, nul, sizeof nul, sizeof nul);
    assert_int_equal(proto_decode(buf, n, true, &m, why, sizeof why), SV_EFORMAT);
    const uint8_t past_end[] = {PT_MRN, 9, 0, '1'};
    n = raw(buf, PROTO_MAGIC, 1, PM_FIND, past_end, sizeof past_end, sizeof past_end);
    assert_int_equal(proto_decode(buf, n, true, &m, why, sizeof why), SV_EFORMAT);
    assert_int_equal(proto_decode(buf, 5, true, &m, why, sizeof why), SV_ETRUNC);
}

static void test_access_settings(void **state)
{
    (void)state;
    sv_intake_settings s;
    sv_intake_settings_defaults(&s);
    assert_string_equal(s.access_socket, "/run/scanvault/scanvault.sock");
    assert_int_equal(s.access_clerk_docs_per_hour, 200);
    assert_int_equal(s.access_admin_docs_per_hour, 0);
    char err[256] = "";
    assert_int_equal(sv_intake_settings_set(&s, "access", "clerk_groups",
                                            "records, ward-3.clerks ,x_y", err, sizeof err),
                     0);
    assert_int_equal(sv_intake_settings_set(&s, "access", "admin_groups", "", err, sizeof err), 0);
    static const char *const bad_lists[] = {"a,,b", "a,", "-dash", "sp ace", "caf\xc3\xa9",
                                            "abcdefghijklmnopqrstuvwxyz0123456"};
    for (size_t i = 0; i < sizeof bad_lists / sizeof bad_lists[0]; i++) {
        assert_int_equal(sv_intake_settings_set(&s, "access", "reviewer_groups", bad_lists[i],
                                                err, sizeof err),
                         SV_ECONFIG);
        assert_null(strstr(err, bad_lists[i])); /* never echoed */
    }
    assert_int_equal(sv_intake_settings_set(&s, "access", "socket_group", "a,b", err, sizeof err),
                     SV_ECONFIG);
    assert_int_equal(sv_intake_settings_set(&s, "access", "socket", "relative.sock", err,
                                            sizeof err),
                     SV_ECONFIG);
    char long_path[200] = "/";
    memset(long_path + 1, 'p', 120);
    assert_int_equal(sv_intake_settings_set(&s, "access", "socket", long_path, err, sizeof err),
                     SV_ECONFIG);
    assert_non_null(strstr(err, "Unix socket"));
    assert_int_equal(sv_intake_settings_set(&s, "access", "clerk_docs_per_hour", "-1", err,
                                            sizeof err),
                     SV_ECONFIG);
    assert_int_equal(sv_intake_settings_set(&s, "access", "clerk_docs_per_hour", "5", err,
                                            sizeof err),
                     0);
    assert_int_equal(s.access_clerk_docs_per_hour, 5);
    assert_int_equal(sv_intake_settings_set(&s, "access", "colour", "blue", err, sizeof err),
                     SV_ENOTFOUND);
}

/* The last line of an audit log, split at its tabs. */
static void last_audit_line(const char *path, char fields[8][128])
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[600], last[600] = "";
    while (fgets(line, sizeof line, f) != NULL)
        memcpy(last, line, sizeof last);
    fclose(f);
    last[strcspn(last, "\n")] = '\0';
    char *p = last;
    for (int i = 0; i < 8; i++) {
        size_t len = p != NULL ? strcspn(p, "\t") : 0;
        snprintf(fields[i], sizeof fields[i], "%.*s", (int)len, p != NULL ? p : "");
        p = p != NULL && p[len] == '\t' ? p + len + 1 : NULL;
    }
}

static void test_caller_view_audits_as_the_caller(void **state)
{
    (void)state;
    char dir[] = "/tmp/sv-access-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char cmd[256], log[128];
    snprintf(cmd, sizeof cmd, "%s init --data %s/data >/dev/null", SV_SCANVAULT, dir);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s/data", dir);
    snprintf(log, sizeof log, "%s/data/audit/audit.log", dir);
    assert_int_equal(sv_crypto_global_init(), 0);
    sv_store *store = NULL, *view = NULL;
    sv_store_options o = {.data_dir = cmd};
    assert_int_equal(sv_store_create(&store, &o), 0);
    sv_ocr_rules *rules = NULL;
    char err[256];
    assert_int_equal(sv_ocr_rules_create(&rules), 0);
    assert_int_equal(sv_ocr_rules_finish(rules, err, sizeof err), 0);
    sv_store_doc *docs = NULL;
    size_t n = 0;
    assert_int_equal(sv_store_create_view(&view, store, 4242, "a\tclerk"), 0);
    assert_int_equal(sv_store_audit_count(view), 0);
    assert_int_equal(sv_store_find(view, rules, "12345678", NULL, &docs, &n), 0);
    assert_int_equal(sv_store_audit_count(view), 1);
    char f[8][128];
    last_audit_line(log, f);
    assert_string_equal(f[2], "4242");
    assert_string_equal(f[3], "a?clerk"); /* a tab in a name cannot split the line */
    assert_string_equal(f[4], "find");
    /* The store itself still audits as this process. */
    assert_int_equal(sv_store_find(store, rules, "12345678", NULL, &docs, &n), 0);
    last_audit_line(log, f);
    char uid[16];
    snprintf(uid, sizeof uid, "%u", (unsigned)getuid());
    assert_string_equal(f[2], uid);
    assert_int_equal(sv_store_audit_count(view), 1);
    sv_store_destroy(view); /* the view alone: the store still works */
    assert_int_equal(sv_store_find(store, rules, "12345678", NULL, &docs, &n), 0);
    sv_store_destroy(store);
    sv_ocr_rules_destroy(rules);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_building_refuses_bad_fields),
        cmocka_unit_test(test_strict_decoding),
        cmocka_unit_test(test_access_settings),
        cmocka_unit_test(test_caller_view_audits_as_the_caller),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
