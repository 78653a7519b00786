/*
 * meta.c - the sealed metadata record: what a vault object says about
 * itself, so `reindex` can rebuild the index from the objects alone.
 *
 * A record validates itself, in the manner of Postfix queue files: a
 * sequence of typed, length-prefixed fields
 *     type (1 byte) | length (2 bytes, big-endian) | value (length bytes)
 * opened by a version field ('V', 1 byte, value 1) and closed by an end
 * marker ('E', length 0) that must be the last byte. Each known field
 * appears at most once. Lowercase types are ancillary: a reader that does
 * not know one skips it (room for later OCR details); any other unknown type
 * is critical and refuses the record. The fields are listed in
 * docs/vault-format.md.
 *
 * The record is only ever decoded after its GCM tag was checked, but the
 * decoder still trusts nothing: every length is checked against what is
 * left, and the result must pass sv_vault_meta_check().
 */
#include <stdio.h>
#include <string.h>

#include "crypto_internal.h"

#define META_VERSION 1
#define F_VERSION 'V'
#define F_END 'E'
#define F_DOCID 'D'
#define F_STATE 'S'
#define F_MRN 'M'
#define F_REASON 'R'
#define F_TYPE 'T'
#define F_NAME 'N'
#define F_INTAKE 'I'
#define F_PAGES 'P'
#define F_SIZE 'Z'
#define F_SHA256 'H'
#define F_SUMMARY 'o'
#define F_NOTE 'n'

const char *sv_vault_state_name(sv_vault_state state)
{
    switch (state) {
    case SV_VAULT_FILED:
        return "filed";
    case SV_VAULT_REVIEW:
        return "review";
    case SV_VAULT_QUARANTINED:
        return "quarantined";
    }
    return "?";
}

void sv_vault_meta_wipe(sv_vault_meta *meta)
{
    if (meta != NULL)
        cr_wipe(meta, sizeof *meta);
}

/* Length of a NUL-terminated field held in an array of size cap, or cap
 * when it has no NUL (which breaks the rules). */
static size_t field_len(const char *s, size_t cap)
{
    return strnlen(s, cap);
}

/* [a-z_], a letter first, 1..SV_META_CODE_MAX: no digits, so the field can
 * never carry an MRN. */
static bool code_ok(const char *s, size_t cap)
{
    size_t n = field_len(s, cap);
    if (n == 0 || n > SV_META_CODE_MAX || s[0] < 'a' || s[0] > 'z')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_'))
            return false;
    return true;
}

static bool digits_ok(const char *s, size_t cap)
{
    size_t n = field_len(s, cap);
    if (n == 0 || n > SV_META_MRN_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

int sv_vault_meta_check(const sv_vault_meta *meta)
{
    if (meta == NULL)
        return cr_fail(SV_EINVAL, "metadata: none given");
    if (!sv_docid_is_valid(meta->docid))
        return cr_fail(SV_EINVAL, "metadata: docid is not a valid docid");
    const char *who = meta->docid;
    bool filed = meta->state == SV_VAULT_FILED;
    if (!filed && meta->state != SV_VAULT_REVIEW && meta->state != SV_VAULT_QUARANTINED)
        return cr_fail(SV_EINVAL, "metadata of %s: unknown state %d", who, (int)meta->state);
    if (filed && !digits_ok(meta->mrn, sizeof meta->mrn))
        return cr_fail(SV_EINVAL, "metadata of %s: a filed document needs an MRN of 1..%d "
                                  "digits",
                       who, SV_META_MRN_MAX);
    if (!filed && field_len(meta->mrn, sizeof meta->mrn) != 0)
        return cr_fail(SV_EINVAL, "metadata of %s: only a filed document carries an MRN", who);
    if (filed && field_len(meta->reason, sizeof meta->reason) != 0)
        return cr_fail(SV_EINVAL, "metadata of %s: a filed document has no reason", who);
    if (!filed && !code_ok(meta->reason, sizeof meta->reason))
        return cr_fail(SV_EINVAL, "metadata of %s: reason must be 1..%d of [a-z_]", who,
                       SV_META_CODE_MAX);
    if (!code_ok(meta->type, sizeof meta->type))
        return cr_fail(SV_EINVAL, "metadata of %s: type must be 1..%d of [a-z_]", who,
                       SV_META_CODE_MAX);
    if (field_len(meta->original_name, sizeof meta->original_name) > SV_META_NAME_MAX)
        return cr_fail(SV_EINVAL, "metadata of %s: original name longer than %d bytes", who,
                       SV_META_NAME_MAX);
    if (field_len(meta->ocr_summary, sizeof meta->ocr_summary) > SV_META_SUMMARY_MAX)
        return cr_fail(SV_EINVAL, "metadata of %s: OCR summary longer than %d bytes", who,
                       SV_META_SUMMARY_MAX);
    if (field_len(meta->review_note, sizeof meta->review_note) > SV_META_NOTE_MAX)
        return cr_fail(SV_EINVAL, "metadata of %s: review note longer than %d bytes", who,
                       SV_META_NOTE_MAX);
    return 0;
}

/* Appends fields to a buffer with a hard cap. */
typedef struct writer {
    uint8_t *buf;
    size_t cap, len;
    bool full;
} writer;

static void put_field(writer *w, uint8_t type, const void *value, size_t len)
{
    if (w->full || len > UINT16_MAX || w->cap - w->len < 3 || w->cap - w->len - 3 < len) {
        w->full = true;
        return;
    }
    w->buf[w->len] = type;
    cr_put_be16(w->buf + w->len + 1, (uint16_t)len);
    if (len > 0)
        memcpy(w->buf + w->len + 3, value, len);
    w->len += 3 + len;
}

static void put_string(writer *w, uint8_t type, const char *s, size_t cap)
{
    put_field(w, type, s, field_len(s, cap));
}

int sv_vault_meta_encode(const sv_vault_meta *meta, uint8_t *buf, size_t cap, size_t *len_out)
{
    *len_out = 0;
    int rc = sv_vault_meta_check(meta);
    if (rc != 0)
        return rc;
    writer w = {buf, cap, 0, false};
    uint8_t version = META_VERSION, state = (uint8_t)meta->state;
    uint8_t pages[4], intake[8], size[8];
    cr_put_be32(pages, meta->pages);
    cr_put_be64(intake, (uint64_t)meta->intake_time);
    cr_put_be64(size, meta->size);
    put_field(&w, F_VERSION, &version, 1);
    put_string(&w, F_DOCID, meta->docid, sizeof meta->docid);
    put_field(&w, F_STATE, &state, 1);
    if (meta->state == SV_VAULT_FILED)
        put_string(&w, F_MRN, meta->mrn, sizeof meta->mrn);
    else
        put_string(&w, F_REASON, meta->reason, sizeof meta->reason);
    put_string(&w, F_TYPE, meta->type, sizeof meta->type);
    put_string(&w, F_NAME, meta->original_name, sizeof meta->original_name);
    put_field(&w, F_INTAKE, intake, sizeof intake);
    put_field(&w, F_PAGES, pages, sizeof pages);
    put_field(&w, F_SIZE, size, sizeof size);
    put_field(&w, F_SHA256, meta->sha256, SV_SHA256_LEN);
    if (meta->ocr_summary[0] != '\0')
        put_string(&w, F_SUMMARY, meta->ocr_summary, sizeof meta->ocr_summary);
    if (meta->review_note[0] != '\0')
        put_string(&w, F_NOTE, meta->review_note, sizeof meta->review_note);
    put_field(&w, F_END, NULL, 0);
    if (w.full) {
        cr_wipe(buf, cap);
        return cr_fail(SV_ELIMIT, "metadata of %s: does not fit in %zu bytes", meta->docid,
                       cap);
    }
    *len_out = w.len;
    return 0;
}

/* Copy a string field into its array: at most max bytes, no NUL inside. */
static bool get_string(char *dst, size_t max, const uint8_t *v, size_t len)
{
    if (len > max || memchr(v, '\0', len) != NULL)
        return false;
    memcpy(dst, v, len);
    dst[len] = '\0';
    return true;
}

/* Store one known field; false when its length or value is wrong. */
static bool decode_field(sv_vault_meta *m, uint8_t type, const uint8_t *v, size_t len)
{
    switch (type) {
    case F_DOCID:
        return get_string(m->docid, SV_DOCID_MAX, v, len);
    case F_STATE:
        if (len != 1)
            return false;
        m->state = (sv_vault_state)v[0];
        return true;
    case F_MRN:
        return get_string(m->mrn, SV_META_MRN_MAX, v, len);
    case F_REASON:
        return get_string(m->reason, SV_META_CODE_MAX, v, len);
    case F_TYPE:
        return get_string(m->type, SV_META_CODE_MAX, v, len);
    case F_NAME:
        return get_string(m->original_name, SV_META_NAME_MAX, v, len);
    case F_SUMMARY:
        return get_string(m->ocr_summary, SV_META_SUMMARY_MAX, v, len);
    case F_NOTE:
        return get_string(m->review_note, SV_META_NOTE_MAX, v, len);
    case F_INTAKE:
        if (len != 8)
            return false;
        m->intake_time = (int64_t)cr_get_be64(v);
        return true;
    case F_PAGES:
        if (len != 4)
            return false;
        m->pages = cr_get_be32(v);
        return true;
    case F_SIZE:
        if (len != 8)
            return false;
        m->size = cr_get_be64(v);
        return true;
    case F_SHA256:
        if (len != SV_SHA256_LEN)
            return false;
        memcpy(m->sha256, v, len);
        return true;
    default:
        return false;
    }
}

/* The field types this version knows, and those every record must have. */
static const char known_fields[] = "DSMRTNIPZHon";
static const char required_fields[] = "DSTNIPZH";

static int decode(const uint8_t *buf, size_t len, sv_vault_meta *out)
{
    if (len < 4 || buf[0] != F_VERSION || cr_get_be16(buf + 1) != 1)
        return cr_fail(SV_EFORMAT, "metadata record: no version field");
    if (buf[3] != META_VERSION)
        return cr_fail(SV_EVERSION, "metadata record: version %u, this build reads %d", buf[3],
                       META_VERSION);
    bool seen[sizeof known_fields] = {false};
    size_t pos = 4;
    for (;;) {
        if (len - pos < 3)
            return cr_fail(SV_EFORMAT, "metadata record: truncated (no end marker)");
        uint8_t type = buf[pos];
        size_t flen = cr_get_be16(buf + pos + 1);
        pos += 3;
        if (flen > len - pos)
            return cr_fail(SV_EFORMAT, "metadata record: field '%c' runs past the end",
                           type >= 0x20 && type < 0x7f ? type : '?');
        const uint8_t *value = buf + pos;
        pos += flen;
        if (type == F_END) {
            if (flen != 0 || pos != len)
                return cr_fail(SV_EFORMAT, "metadata record: bytes after the end marker");
            break;
        }
        const char *k = type != 0 ? memchr(known_fields, type, sizeof known_fields - 1) : NULL;
        if (k == NULL) {
            if (type >= 'a' && type <= 'z')
                continue; /* ancillary field of a later version */
            return cr_fail(SV_EFORMAT, "metadata record: unknown critical field 0x%02x", type);
        }
        size_t idx = (size_t)(k - known_fields);
        if (seen[idx])
            return cr_fail(SV_EFORMAT, "metadata record: field '%c' appears twice", type);
        seen[idx] = true;
        if (!decode_field(out, type, value, flen))
            return cr_fail(SV_EFORMAT, "metadata record: field '%c' has a bad length or value",
                           type);
    }
    for (const char *r = required_fields; *r != '\0'; r++) {
        const char *k = memchr(known_fields, *r, sizeof known_fields - 1);
        if (k != NULL && !seen[k - known_fields])
            return cr_fail(SV_EFORMAT, "metadata record: field '%c' is missing", *r);
    }
    if (sv_vault_meta_check(out) != 0) {
        char why[160];
        snprintf(why, sizeof why, "%s", sv_crypto_last_error());
        return cr_fail(SV_EFORMAT, "%s (in a stored record)", why);
    }
    return 0;
}

int sv_vault_meta_decode(const uint8_t *buf, size_t len, sv_vault_meta *out)
{
    memset(out, 0, sizeof *out);
    if (buf == NULL && len > 0)
        return cr_fail(SV_EINVAL, "metadata record: no buffer");
    int rc = decode(buf, len, out);
    if (rc != 0)
        sv_vault_meta_wipe(out);
    return rc;
}
