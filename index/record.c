/*
 * record.c - what may go into the index, and the bytes it becomes.
 *
 * Validation is strict on purpose: the index must hold only opaque values.
 * A type name or reason code is [a-z_] with a letter first, so no digit run
 * (MRN, date of birth), no space and no capital (a person's name, a file
 * name) can pass. A docid is [A-Za-z0-9_-]: no dot, so no file name with
 * an extension ("Smith_J.pdf") can be used as one.
 *
 * Byte layouts (docs/index-schema.md is the reference):
 *   record v1   144 bytes, little-endian, version byte first
 *   by_mrn dup  be64(~time) | docid | 0x00 | type  (memcmp order = newest first)
 *   review key  be64(since) | docid                (memcmp order = oldest first)
 *   review val  version byte | reason
 * Decoders never trust the bytes: every length and character is checked, an
 * unknown version is SV_EVERSION, anything else wrong is SV_EFORMAT.
 */
#include <string.h>

#include "index_internal.h"

/* Record v1 field offsets. */
enum {
    REC_VERSION = 0,
    REC_STATE = 1,
    REC_PAGES = 4,
    REC_INTAKE = 8,
    REC_SIZE = 16,
    REC_SINCE = 24,
    REC_BLIND = 32,
    REC_CONTENT = 48,
    REC_TYPE = 80,
    REC_REASON = 112,
    REC_TEXT_FIELD = 32
};

void ix_put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

uint64_t ix_get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

void ix_put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

uint64_t ix_get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

void ix_put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

uint32_t ix_get_le32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

bool ix_is_zero(const uint8_t *bytes, size_t len)
{
    uint8_t any = 0;
    for (size_t i = 0; i < len; i++)
        any |= bytes[i];
    return any == 0;
}

static bool is_lower(unsigned char c)
{
    return c >= 'a' && c <= 'z';
}

static bool is_alnum(unsigned char c)
{
    return is_lower(c) || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool docid_bytes_ok(const unsigned char *s, size_t len)
{
    if (len == 0 || len > SV_INDEX_DOCID_MAX || !is_alnum(s[0]))
        return false;
    for (size_t i = 1; i < len; i++)
        if (!is_alnum(s[i]) && s[i] != '_' && s[i] != '-')
            return false;
    return true;
}

/* [a-z_], a letter first, 1..max bytes. */
static bool name_bytes_ok(const unsigned char *s, size_t len, size_t max)
{
    if (len == 0 || len > max || !is_lower(s[0]))
        return false;
    for (size_t i = 1; i < len; i++)
        if (!is_lower(s[i]) && s[i] != '_')
            return false;
    return true;
}

bool sv_index_docid_ok(const char *docid)
{
    return docid != NULL &&
           docid_bytes_ok((const unsigned char *)docid, strnlen(docid, SV_INDEX_DOCID_MAX + 1));
}

bool sv_index_type_ok(const char *type)
{
    return type != NULL && name_bytes_ok((const unsigned char *)type,
                                         strnlen(type, SV_INDEX_TYPE_MAX + 1),
                                         SV_INDEX_TYPE_MAX);
}

bool sv_index_reason_ok(const char *reason)
{
    return reason != NULL && name_bytes_ok((const unsigned char *)reason,
                                           strnlen(reason, SV_INDEX_REASON_MAX + 1),
                                           SV_INDEX_REASON_MAX);
}

const char *sv_index_state_name(sv_index_state state)
{
    switch (state) {
    case SV_INDEX_FILED:
        return "filed";
    case SV_INDEX_REVIEW:
        return "review";
    case SV_INDEX_QUARANTINED:
        return "quarantined";
    default:
        return "invalid";
    }
}

/* Messages never echo a value that failed its check: a misused field may
 * hold exactly what must not be logged. */
int ix_check_record(const char *docid, const sv_index_record *rec)
{
    const char *bad = NULL;

    if (!sv_index_docid_ok(docid)) {
        ix_set_error("index: invalid docid (1 to %d of A-Z a-z 0-9 _ -, a letter or "
                     "digit first); it is not shown here", SV_INDEX_DOCID_MAX);
        return SV_EINVAL;
    }
    if (rec == NULL)
        bad = "no record";
    else if (rec->state != SV_INDEX_FILED && rec->state != SV_INDEX_REVIEW &&
             rec->state != SV_INDEX_QUARANTINED)
        bad = "invalid state";
    else if (memchr(rec->type, '\0', sizeof rec->type) == NULL || !sv_index_type_ok(rec->type))
        bad = "invalid type name (1 to 31 of a-z and _, a letter first)";
    else if (rec->intake_time < 0)
        bad = "negative intake time";
    else if (ix_is_zero(rec->content_id, sizeof rec->content_id))
        bad = "all-zero content id";
    else if (memchr(rec->reason, '\0', sizeof rec->reason) == NULL)
        bad = "invalid reason code";
    else if (rec->state == SV_INDEX_FILED && ix_is_zero(rec->blind_mrn, sizeof rec->blind_mrn))
        bad = "a filed document needs a blind MRN";
    else if (rec->state == SV_INDEX_FILED && (rec->reason[0] != '\0' || rec->review_since != 0))
        bad = "a filed document has no reason and no review time";
    else if (rec->state != SV_INDEX_FILED && !sv_index_reason_ok(rec->reason))
        bad = "invalid reason code (1 to 31 of a-z and _, a letter first)";
    else if (rec->state == SV_INDEX_REVIEW && rec->review_since < 0)
        bad = "negative review time";
    else if (rec->state == SV_INDEX_QUARANTINED && rec->review_since != 0)
        bad = "a quarantined document has no review time";
    if (bad == NULL)
        return 0;
    ix_set_error("index: document %s: %s", docid, bad);
    return SV_EINVAL;
}

static void put_text(uint8_t *field, const char *text)
{
    size_t len = strnlen(text, REC_TEXT_FIELD - 1);
    memset(field, 0, REC_TEXT_FIELD);
    memcpy(field, text, len);
}

/* A NUL-terminated name in a 32-byte field, zero padded; empty allowed when
 * may_be_empty. */
static bool get_text(const uint8_t *field, char *out, bool may_be_empty)
{
    const uint8_t *nul = memchr(field, '\0', REC_TEXT_FIELD);
    size_t len;

    if (nul == NULL)
        return false;
    len = (size_t)(nul - field);
    if (!ix_is_zero(nul, REC_TEXT_FIELD - len))
        return false;
    if (len == 0 ? !may_be_empty : !name_bytes_ok(field, len, REC_TEXT_FIELD - 1))
        return false;
    memcpy(out, field, len);
    out[len] = '\0';
    return true;
}

void ix_record_encode(const sv_index_record *rec, uint8_t out[IX_REC_SIZE])
{
    int64_t since = rec->review_since;

    if (rec->state == SV_INDEX_REVIEW && since == 0)
        since = rec->intake_time;
    memset(out, 0, IX_REC_SIZE);
    out[REC_VERSION] = SV_INDEX_RECORD_VERSION;
    out[REC_STATE] = (uint8_t)rec->state;
    ix_put_le32(out + REC_PAGES, rec->pages);
    ix_put_le64(out + REC_INTAKE, (uint64_t)rec->intake_time);
    ix_put_le64(out + REC_SIZE, rec->size);
    ix_put_le64(out + REC_SINCE, (uint64_t)since);
    memcpy(out + REC_BLIND, rec->blind_mrn, SV_INDEX_BLIND_LEN);
    memcpy(out + REC_CONTENT, rec->content_id, SV_INDEX_CONTENT_ID_LEN);
    put_text(out + REC_TYPE, rec->type);
    put_text(out + REC_REASON, rec->reason);
}

int ix_record_decode(const MDB_val *val, sv_index_record *rec)
{
    const uint8_t *p = val->mv_data;
    uint64_t intake, since;

    memset(rec, 0, sizeof *rec);
    if (val->mv_size < 1)
        return SV_EFORMAT;
    if (p[REC_VERSION] != SV_INDEX_RECORD_VERSION)
        return SV_EVERSION;
    if (val->mv_size != IX_REC_SIZE)
        return SV_EFORMAT;
    intake = ix_get_le64(p + REC_INTAKE);
    since = ix_get_le64(p + REC_SINCE);
    if (p[REC_STATE] < SV_INDEX_FILED || p[REC_STATE] > SV_INDEX_QUARANTINED ||
        intake > INT64_MAX || since > INT64_MAX)
        goto bad;
    rec->state = (sv_index_state)p[REC_STATE];
    rec->pages = ix_get_le32(p + REC_PAGES);
    rec->intake_time = (int64_t)intake;
    rec->size = ix_get_le64(p + REC_SIZE);
    rec->review_since = (int64_t)since;
    memcpy(rec->blind_mrn, p + REC_BLIND, SV_INDEX_BLIND_LEN);
    memcpy(rec->content_id, p + REC_CONTENT, SV_INDEX_CONTENT_ID_LEN);
    if (!get_text(p + REC_TYPE, rec->type, false) ||
        !get_text(p + REC_REASON, rec->reason, rec->state == SV_INDEX_FILED))
        goto bad;
    return 0;
bad:
    memset(rec, 0, sizeof *rec);
    return SV_EFORMAT;
}

size_t ix_dup_encode(int64_t intake_time, const char *docid, const char *type,
                     uint8_t out[IX_DUP_MAX])
{
    size_t id_len = strnlen(docid, SV_INDEX_DOCID_MAX);
    size_t type_len = strnlen(type, SV_INDEX_TYPE_MAX);

    /* ~t: a later time sorts first under LMDB's memcmp order. */
    ix_put_be64(out, ~(uint64_t)intake_time);
    memcpy(out + 8, docid, id_len);
    out[8 + id_len] = 0;
    memcpy(out + 9 + id_len, type, type_len);
    return 9 + id_len + type_len;
}

int ix_dup_decode(const MDB_val *val, sv_index_hit *hit)
{
    const uint8_t *p = val->mv_data;
    const uint8_t *nul;
    size_t id_len, type_len;
    uint64_t t;

    memset(hit, 0, sizeof *hit);
    if (val->mv_size < 11 || val->mv_size > IX_DUP_MAX)
        return SV_EFORMAT;
    nul = memchr(p + 8, '\0', val->mv_size - 8);
    if (nul == NULL)
        return SV_EFORMAT;
    id_len = (size_t)(nul - (p + 8));
    type_len = val->mv_size - 9 - id_len;
    t = ~ix_get_be64(p);
    if (t > INT64_MAX || !docid_bytes_ok(p + 8, id_len) ||
        !name_bytes_ok(nul + 1, type_len, SV_INDEX_TYPE_MAX))
        return SV_EFORMAT;
    hit->intake_time = (int64_t)t;
    memcpy(hit->docid, p + 8, id_len);
    memcpy(hit->type, nul + 1, type_len);
    return 0;
}

size_t ix_review_key(int64_t since, const char *docid, uint8_t out[IX_REVIEW_KEY_MAX])
{
    size_t id_len = strnlen(docid, SV_INDEX_DOCID_MAX);

    ix_put_be64(out, (uint64_t)since);
    memcpy(out + 8, docid, id_len);
    return 8 + id_len;
}

size_t ix_review_val(const char *reason, uint8_t out[IX_REVIEW_VAL_MAX])
{
    size_t len = strnlen(reason, SV_INDEX_REASON_MAX);

    out[0] = IX_REVIEW_VERSION;
    memcpy(out + 1, reason, len);
    return 1 + len;
}

int ix_review_decode(const MDB_val *key, const MDB_val *val, sv_index_review_entry *e)
{
    const uint8_t *k = key->mv_data, *v = val->mv_data;
    uint64_t since;

    memset(e, 0, sizeof *e);
    if (val->mv_size >= 1 && v[0] != IX_REVIEW_VERSION)
        return SV_EVERSION;
    if (key->mv_size < 9 || key->mv_size > IX_REVIEW_KEY_MAX || val->mv_size < 2 ||
        val->mv_size > IX_REVIEW_VAL_MAX)
        return SV_EFORMAT;
    since = ix_get_be64(k);
    if (since > INT64_MAX || !docid_bytes_ok(k + 8, key->mv_size - 8) ||
        !name_bytes_ok(v + 1, val->mv_size - 1, SV_INDEX_REASON_MAX))
        return SV_EFORMAT;
    e->since = (int64_t)since;
    memcpy(e->docid, k + 8, key->mv_size - 8);
    memcpy(e->reason, v + 1, val->mv_size - 1);
    return 0;
}

int ix_docid_copy(const MDB_val *val, char out[SV_INDEX_DOCID_MAX + 1])
{
    out[0] = '\0';
    if (!docid_bytes_ok(val->mv_data, val->mv_size))
        return SV_EFORMAT;
    memcpy(out, val->mv_data, val->mv_size);
    out[val->mv_size] = '\0';
    return 0;
}

size_t ix_count_key(sv_index_state state, const char *type, char out[IX_COUNT_KEY_MAX])
{
    const char *parts[4] = {IX_META_COUNT_PREFIX, sv_index_state_name(state), ":", type};
    size_t len = 0;

    for (int i = 0; i < 4; i++) {
        size_t n = strnlen(parts[i], IX_COUNT_KEY_MAX - 1 - len);
        memcpy(out + len, parts[i], n);
        len += n;
    }
    out[len] = '\0';
    return len;
}
