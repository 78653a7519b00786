/*
 * audit_line.c - one line of the audit log: the rules of each field,
 * formatting a line with its chain MAC, and parsing a line read back from
 * the file (untrusted bytes: every field is bounded and checked, and the
 * parse is strict, so that one log has exactly one spelling and an
 * independent verifier can re-create every line byte for byte).
 *
 *   seq TAB time TAB uid TAB user TAB action TAB docid TAB result TAB mac LF
 *
 * The specification is docs/audit-format.md; audit.c appends lines and
 * audit_read.c walks a whole log.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "crypto_internal.h"

#define TIME_LEN 20        /* 2026-11-23T10:15:02Z */
#define SEQ_DIGITS_MAX 20  /* 18446744073709551615 */
#define UID_DIGITS_MAX 10  /* 4294967295 */
#define YEAR_MIN 1970
#define YEAR_MAX 9999

/* The longest line: every field at its maximum, 7 tabs, the newline. */
_Static_assert(SEQ_DIGITS_MAX + TIME_LEN + UID_DIGITS_MAX + SV_AUDIT_USER_MAX +
                       SV_AUDIT_ACTION_MAX + SV_DOCID_MAX + SV_AUDIT_RESULT_MAX +
                       CR_AUDIT_MAC_HEX_LEN + (CR_AUDIT_FIELDS - 1) + 1 <=
                   SV_AUDIT_LINE_MAX,
               "SV_AUDIT_LINE_MAX too small for the longest line");

typedef struct field {
    const char *p;
    size_t len;
} field;

/* Printable ASCII but backslash (kept free for an escape in a later
 * version). Tab, newline and NUL are outside the range. */
static bool is_text_char(char c)
{
    return c >= 0x20 && c <= 0x7e && c != '\\';
}

static bool is_text(const char *s, size_t len, size_t max)
{
    if (len == 0 || len > max)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!is_text_char(s[i]))
            return false;
    return true;
}

/* 1..31 of [a-z_], a letter first (like the metadata's codes). */
static bool is_action(const char *s, size_t len)
{
    if (len == 0 || len > SV_AUDIT_ACTION_MAX || s[0] < 'a' || s[0] > 'z')
        return false;
    for (size_t i = 0; i < len; i++)
        if ((s[i] < 'a' || s[i] > 'z') && s[i] != '_')
            return false;
    return true;
}

static bool is_repair_action(const char *s)
{
    return strcmp(s, SV_AUDIT_ACTION_REPAIR) == 0;
}

int cr_audit_entry_fill(sv_audit_entry *e, uint32_t uid, const char *user, const char *action,
                        const char *docid, const char *result, bool is_repair,
                        const char *path)
{
    memset(e, 0, sizeof *e);
    e->uid = uid;
    if (user == NULL || user[0] == '\0') {
        snprintf(e->user, sizeof e->user, "%" PRIu32, uid);
    } else {
        /* Cleaned, not refused: the name comes from the password database
         * or a peer, and an event must be logged whatever its spelling. */
        size_t n = strnlen(user, SV_AUDIT_USER_MAX);
        for (size_t i = 0; i < n; i++)
            e->user[i] = is_text_char(user[i]) ? user[i] : '?';
    }
    if (action == NULL || !is_action(action, strnlen(action, SV_AUDIT_ACTION_MAX + 1)))
        return cr_fail(SV_EINVAL, "audit log %s: bad action (1..%d of a-z and _, a letter "
                                  "first)",
                       path, SV_AUDIT_ACTION_MAX);
    if (is_repair_action(action) != is_repair)
        return cr_fail(SV_EINVAL, "audit log %s: the action %s is reserved for the log itself",
                       path, SV_AUDIT_ACTION_REPAIR);
    memcpy(e->action, action, strlen(action) + 1);
    if (docid == NULL) {
        memcpy(e->docid, "-", 2);
    } else if (sv_docid_is_valid(docid)) {
        memcpy(e->docid, docid, strlen(docid) + 1);
    } else {
        return cr_fail(SV_EINVAL, "audit log %s: bad docid (a valid docid, or none)", path);
    }
    if (result == NULL) {
        memcpy(e->result, "-", 2);
    } else if (is_text(result, strnlen(result, SV_AUDIT_RESULT_MAX + 1), SV_AUDIT_RESULT_MAX)) {
        memcpy(e->result, result, strlen(result) + 1);
    } else {
        return cr_fail(SV_EINVAL, "audit log %s: bad result (1..%d printable ASCII "
                                  "characters, no tab, newline or backslash)",
                       path, SV_AUDIT_RESULT_MAX);
    }
    return 0;
}

/* ------------------------------ time ----------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil), and back. No time zone, no locale, no time_t range. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned mp = m > 2 ? m - 3 : m + 9;
    unsigned doy = (153 * mp + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
    static const unsigned days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* ISO 8601 UTC, seconds: "YYYY-MM-DDTHH:MM:SSZ". false when the year is
 * outside 1970..9999. */
static bool format_time(int64_t t, char out[TIME_LEN + 1])
{
    if (t < 0)
        return false;
    int64_t days = t / 86400, secs = t % 86400, y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    if (y > YEAR_MAX)
        return false;
    int n = snprintf(out, TIME_LEN + 1, "%04d-%02u-%02uT%02d:%02d:%02dZ", (int)y, m, d,
                     (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
    return n == TIME_LEN;
}

/* n decimal digits at s (no sign, nothing else), or false. */
static bool digits_value(const char *s, size_t n, unsigned *out)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return true;
}

static bool parse_time(field f, int64_t *out)
{
    /* YYYY-MM-DDTHH:MM:SSZ, every position fixed */
    const char *s = f.p;
    unsigned y, mo, d, h, mi, sec;
    if (f.len != TIME_LEN || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':' || s[19] != 'Z')
        return false;
    if (!digits_value(s, 4, &y) || !digits_value(s + 5, 2, &mo) ||
        !digits_value(s + 8, 2, &d) || !digits_value(s + 11, 2, &h) ||
        !digits_value(s + 14, 2, &mi) || !digits_value(s + 17, 2, &sec))
        return false;
    if (y < YEAR_MIN || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
        mi > 59 || sec > 59)
        return false;
    *out = days_from_civil(y, mo, d) * 86400 + (int64_t)(h * 3600 + mi * 60 + sec);
    return true;
}

/* ---------------------------- numbers, hex ----------------------------- */

/* Decimal without sign, leading zeros or anything else, at most max. */
static bool parse_decimal(field f, size_t max_digits, uint64_t max, uint64_t *out)
{
    if (f.len == 0 || f.len > max_digits || (f.len > 1 && f.p[0] == '0'))
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < f.len; i++) {
        if (f.p[i] < '0' || f.p[i] > '9')
            return false;
        uint64_t digit = (uint64_t)(f.p[i] - '0');
        if (v > (max - digit) / 10)
            return false;
        v = v * 10 + digit;
    }
    *out = v;
    return true;
}

static int lower_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static bool parse_mac(field f, uint8_t out[SV_AUDIT_MAC_LEN])
{
    if (f.len != CR_AUDIT_MAC_HEX_LEN)
        return false;
    for (size_t i = 0; i < SV_AUDIT_MAC_LEN; i++) {
        int hi = lower_hex_digit(f.p[2 * i]), lo = lower_hex_digit(f.p[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

/* Copy a checked field into a NUL-terminated buffer of cap bytes. */
static void copy_field(field f, char *out, size_t cap)
{
    size_t n = f.len < cap ? f.len : cap - 1;
    memcpy(out, f.p, n);
    out[n] = '\0';
}

/* ------------------------------ lines ---------------------------------- */

/* The chain MAC of a line: HMAC(K_audit, prev_mac || line[0..covered)). */
static int line_mac(const sv_keyring *ring, const uint8_t prev_mac[SV_AUDIT_MAC_LEN],
                    const char *line, size_t covered, uint8_t out[SV_AUDIT_MAC_LEN])
{
    cr_span parts[2] = {{prev_mac, SV_AUDIT_MAC_LEN}, {line, covered}};
    return cr_hmac_sha256(ring->audit, SV_KEY_LEN, parts, 2, out);
}

int cr_audit_format(const sv_keyring *ring, const uint8_t prev_mac[SV_AUDIT_MAC_LEN],
                    sv_audit_entry *e, char *out, size_t cap, size_t *len, const char *path)
{
    *len = 0;
    char when[TIME_LEN + 1];
    if (!format_time(e->time, when))
        return cr_fail(SV_EINVAL, "audit log %s: the clock is outside the years %d..%d "
                                  "(check the system time)",
                       path, YEAR_MIN, YEAR_MAX);
    int n = snprintf(out, cap, "%" PRIu64 "\t%s\t%" PRIu32 "\t%s\t%s\t%s\t%s\t", e->seq, when,
                     e->uid, e->user, e->action, e->docid, e->result);
    if (n < 0 || (size_t)n + CR_AUDIT_MAC_HEX_LEN + 2 > cap)
        return cr_fail(SV_ELIMIT, "audit log %s: line buffer too small", path);
    int rc = line_mac(ring, prev_mac, out, (size_t)n, e->mac);
    if (rc != 0)
        return rc;
    cr_hex(e->mac, SV_AUDIT_MAC_LEN, out + n);
    out[(size_t)n + CR_AUDIT_MAC_HEX_LEN] = '\n';
    out[(size_t)n + CR_AUDIT_MAC_HEX_LEN + 1] = '\0';
    *len = (size_t)n + CR_AUDIT_MAC_HEX_LEN + 1;
    return 0;
}

/* Split line into exactly CR_AUDIT_FIELDS tab-separated fields. */
static bool split_fields(const char *line, size_t len, field f[CR_AUDIT_FIELDS])
{
    size_t n = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && line[i] != '\t')
            continue;
        if (n == CR_AUDIT_FIELDS)
            return false;
        f[n].p = line + start;
        f[n].len = i - start;
        n++;
        start = i + 1;
    }
    return n == CR_AUDIT_FIELDS;
}

static int parse_fields(const field f[CR_AUDIT_FIELDS], sv_audit_entry *e, const char **what)
{
    uint64_t v;
    *what = "seq";
    if (!parse_decimal(f[0], SEQ_DIGITS_MAX, UINT64_MAX, &e->seq) || e->seq == 0)
        return SV_EAUTH;
    *what = "time";
    if (!parse_time(f[1], &e->time))
        return SV_EAUTH;
    *what = "uid";
    if (!parse_decimal(f[2], UID_DIGITS_MAX, UINT32_MAX, &v))
        return SV_EAUTH;
    e->uid = (uint32_t)v;
    *what = "user";
    if (!is_text(f[3].p, f[3].len, SV_AUDIT_USER_MAX))
        return SV_EAUTH;
    copy_field(f[3], e->user, sizeof e->user);
    *what = "action";
    if (!is_action(f[4].p, f[4].len))
        return SV_EAUTH;
    copy_field(f[4], e->action, sizeof e->action);
    *what = "docid";
    if (f[5].len > SV_DOCID_MAX)
        return SV_EAUTH;
    copy_field(f[5], e->docid, sizeof e->docid);
    /* The line holds no NUL (checked by the caller), so the copy is the
     * whole field and the check sees all of it. */
    if (strcmp(e->docid, "-") != 0 && !sv_docid_is_valid(e->docid))
        return SV_EAUTH;
    *what = "result";
    if (!is_text(f[6].p, f[6].len, SV_AUDIT_RESULT_MAX))
        return SV_EAUTH;
    copy_field(f[6], e->result, sizeof e->result);
    *what = "MAC";
    if (!parse_mac(f[7], e->mac))
        return SV_EAUTH;
    return 0;
}

int cr_audit_parse(const char *line, size_t len, sv_audit_entry *e, const char **what)
{
    memset(e, 0, sizeof *e);
    *what = "length";
    if (len >= SV_AUDIT_LINE_MAX)
        return SV_EAUTH;
    *what = "NUL byte";
    if (memchr(line, '\0', len) != NULL)
        return SV_EAUTH;
    field f[CR_AUDIT_FIELDS];
    *what = "number of fields";
    if (!split_fields(line, len, f))
        return SV_EAUTH;
    int rc = parse_fields(f, e, what);
    if (rc != 0)
        memset(e, 0, sizeof *e);
    return rc;
}

int cr_audit_check_mac(const sv_keyring *ring, const uint8_t prev_mac[SV_AUDIT_MAC_LEN],
                       const char *line, size_t len, const sv_audit_entry *e)
{
    /* A parsed line ends with its 64 hex digits; the MAC covers what is
     * before them (up to and including the tab). */
    if (len < CR_AUDIT_MAC_HEX_LEN)
        return SV_EAUTH;
    uint8_t want[SV_AUDIT_MAC_LEN];
    int rc = line_mac(ring, prev_mac, line, len - CR_AUDIT_MAC_HEX_LEN, want);
    if (rc == 0 && !cr_equal_ct(want, e->mac, SV_AUDIT_MAC_LEN))
        rc = SV_EAUTH;
    cr_wipe(want, sizeof want);
    return rc;
}
