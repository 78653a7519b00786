/*
 * proto.c - the messages between `scanvault` commands and the service's
 * socket (docs/access.md): encode, send, receive and decode.
 *
 * The service holds the key and people's commands do not, so everything a
 * client sends is untrusted input to the key-holding process, parsed here
 * the way OpenSMTPD's privileged process reads its imsgs: a fixed header, a
 * maximum size, a table saying which typed fields each message type must
 * and may carry, typed getters, and a hard error for anything else,
 * trailing bytes included. The same decoder reads the service's answers in
 * the client, with the reply half of the table.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "intake_internal.h"

typedef struct tag_rule {
    proto_kind kind;
    size_t max;
} tag_rule;

static const tag_rule tag_rules[PROTO_TAG_LIMIT] = {
#define PROTO_TAG_RULE(name, tag, kind, max) [tag] = {kind, max},
    PROTO_TAGS(PROTO_TAG_RULE)
#undef PROTO_TAG_RULE
};

typedef struct message_rule {
    uint16_t type;
    const char *name;
    uint64_t required, optional;
} message_rule;

static const message_rule message_rules[] = {
#define PROTO_MESSAGE_RULE(name, type, required, optional) \
    {type, &#name[3], required, optional}, /* "FIND" of PM_FIND */
    PROTO_MESSAGES(PROTO_MESSAGE_RULE)
#undef PROTO_MESSAGE_RULE
};

__attribute__((format(printf, 4, 5))) static int refuse(int code, char *why, size_t why_len,
                                                        const char *fmt, ...)
{
    if (why != NULL && why_len > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, why_len, fmt, ap);
        va_end(ap);
    }
    return code;
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p) { return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32; }

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static const message_rule *rule_for(uint16_t type, bool is_request)
{
    if ((type < 64) != is_request)
        return NULL;
    for (size_t i = 0; i < sizeof message_rules / sizeof message_rules[0]; i++)
        if (message_rules[i].type == type)
            return &message_rules[i];
    return NULL;
}

int proto_check_header(const uint8_t *hdr, uint32_t *payload_len, char *why, size_t why_len)
{
    *payload_len = 0;
    if (get32(hdr) != PROTO_MAGIC)
        return refuse(SV_EFORMAT, why, why_len, "not a scanvault message (bad magic)");
    uint16_t version = get16(hdr + 4);
    if (version != PROTO_VERSION)
        return refuse(SV_EVERSION, why, why_len,
                      "protocol version %u; this service speaks version %d (use the scanvault "
                      "command of the same release)",
                      version, PROTO_VERSION);
    uint32_t len = get32(hdr + 8);
    if (len > PROTO_PAYLOAD_MAX)
        return refuse(SV_ELIMIT, why, why_len, "a message of %u bytes; at most %u are accepted",
                      len, PROTO_PAYLOAD_MAX);
    *payload_len = len;
    return 0;
}

/* Is this field's length one its kind allows? */
static bool is_length_ok(const tag_rule *r, const uint8_t *value, size_t len)
{
    switch (r->kind) {
    case PROTO_STR: return len <= r->max && memchr(value, '\0', len) == NULL;
    case PROTO_U8: return len == 1;
    case PROTO_I32:
    case PROTO_U32: return len == 4;
    case PROTO_I64:
    case PROTO_U64: return len == 8;
    case PROTO_BYTES: return len <= r->max;
    case PROTO_FIXED: return len == r->max;
    case PROTO_NUMBERS: return len <= r->max && len % 8 == 0;
    }
    return false;
}

int proto_decode(const uint8_t *buf, size_t len, bool is_request, proto_msg *out, char *why,
                 size_t why_len)
{
    memset(out, 0, sizeof *out);
    if (len < PROTO_HEADER_LEN)
        return refuse(SV_ETRUNC, why, why_len, "a message cut short in its header");
    uint32_t payload_len = 0;
    int rc = proto_check_header(buf, &payload_len, why, why_len);
    if (rc != 0)
        return rc;
    if (len - PROTO_HEADER_LEN < payload_len)
        return refuse(SV_ETRUNC, why, why_len, "a message cut short: %zu of %u payload bytes",
                      len - PROTO_HEADER_LEN, payload_len);
    if (len - PROTO_HEADER_LEN > payload_len)
        return refuse(SV_EFORMAT, why, why_len, "%zu bytes after the end of the message",
                      len - PROTO_HEADER_LEN - payload_len);
    uint16_t type = get16(buf + 6);
    const message_rule *mr = rule_for(type, is_request);
    if (mr == NULL)
        return refuse(SV_EFORMAT, why, why_len, "unknown message type %u", type);
    const uint8_t *p = buf + PROTO_HEADER_LEN, *end = p + payload_len;
    uint64_t present = 0;
    while (p < end) {
        if (end - p < 3)
            return refuse(SV_EFORMAT, why, why_len, "%td bytes after the last field", end - p);
        unsigned tag = p[0];
        uint16_t field_len = get16(p + 1);
        p += 3;
        if ((size_t)(end - p) < field_len)
            return refuse(SV_EFORMAT, why, why_len, "field %u runs past the end of the message",
                          tag);
        if (tag == 0 || tag >= PROTO_TAG_LIMIT || ((mr->required | mr->optional) & PT(tag)) == 0)
            return refuse(SV_EFORMAT, why, why_len, "field %u is not one a %s message carries",
                          tag, mr->name);
        if (present & PT(tag))
            return refuse(SV_EFORMAT, why, why_len, "field %u appears twice", tag);
        if (!is_length_ok(&tag_rules[tag], p, field_len))
            return refuse(SV_EFORMAT, why, why_len, "field %u has a length of %u bytes, which "
                                                    "its kind does not allow",
                          tag, field_len);
        present |= PT(tag);
        out->field[tag].at = p;
        out->field[tag].len = field_len;
        p += field_len;
    }
    uint64_t missing = mr->required & ~present;
    if (missing != 0)
        return refuse(SV_EFORMAT, why, why_len, "a %s message without its field %d", mr->name,
                      __builtin_ctzll(missing));
    out->type = type;
    out->present = present;
    return 0;
}

/* ---- typed getters ------------------------------------------------------ */

/* The field of tag when it is present and of this kind; NULL otherwise. */
static const uint8_t *field_of(const proto_msg *m, unsigned tag, proto_kind kind)
{
    if (tag >= PROTO_TAG_LIMIT || (m->present & PT(tag)) == 0 || tag_rules[tag].kind != kind)
        return NULL;
    return m->field[tag].at;
}

bool proto_has(const proto_msg *m, unsigned tag)
{
    return tag < PROTO_TAG_LIMIT && (m->present & PT(tag)) != 0;
}

uint8_t proto_u8(const proto_msg *m, unsigned tag)
{
    const uint8_t *p = field_of(m, tag, PROTO_U8);
    return p != NULL ? p[0] : 0;
}

int32_t proto_i32(const proto_msg *m, unsigned tag)
{
    const uint8_t *p = field_of(m, tag, PROTO_I32);
    if (p == NULL)
        return 0;
    uint32_t v = get32(p);
    /* Two's complement without implementation-defined conversion. */
    return v <= INT32_MAX ? (int32_t)v : -(int32_t)(UINT32_MAX - v) - 1;
}

uint32_t proto_u32(const proto_msg *m, unsigned tag)
{
    const uint8_t *p = field_of(m, tag, PROTO_U32);
    return p != NULL ? get32(p) : 0;
}

static int64_t to_i64(uint64_t v)
{
    return v <= INT64_MAX ? (int64_t)v : -(int64_t)(UINT64_MAX - v) - 1;
}

int64_t proto_i64(const proto_msg *m, unsigned tag)
{
    const uint8_t *p = field_of(m, tag, PROTO_I64);
    return p != NULL ? to_i64(get64(p)) : 0;
}

uint64_t proto_u64(const proto_msg *m, unsigned tag)
{
    const uint8_t *p = field_of(m, tag, PROTO_U64);
    return p != NULL ? get64(p) : 0;
}

int proto_str(const proto_msg *m, unsigned tag, char *buf, size_t cap)
{
    if (cap == 0)
        return SV_ELIMIT;
    buf[0] = '\0';
    const uint8_t *p = field_of(m, tag, PROTO_STR);
    if (p == NULL)
        return 0;
    size_t len = m->field[tag].len;
    if (len >= cap)
        return SV_ELIMIT;
    memcpy(buf, p, len);
    buf[len] = '\0';
    return 0;
}

const uint8_t *proto_bytes(const proto_msg *m, unsigned tag, size_t *len)
{
    const uint8_t *p = field_of(m, tag, PROTO_BYTES);
    if (p == NULL)
        p = field_of(m, tag, PROTO_FIXED);
    *len = p != NULL ? m->field[tag].len : 0;
    return p;
}

size_t proto_numbers(const proto_msg *m, unsigned tag, int64_t *out, size_t max)
{
    const uint8_t *p = field_of(m, tag, PROTO_NUMBERS);
    if (p == NULL)
        return 0;
    size_t n = m->field[tag].len / 8;
    for (size_t i = 0; i < n && i < max; i++)
        out[i] = to_i64(get64(p + 8 * i));
    return n;
}

/* ---- building ------------------------------------------------------------ */

void proto_start(proto_out *o, uint16_t type)
{
    put32(o->buf, PROTO_MAGIC);
    put16(o->buf + 4, PROTO_VERSION);
    put16(o->buf + 6, type);
    put32(o->buf + 8, 0);
    o->len = PROTO_HEADER_LEN;
    o->is_bad = false;
}

/* Room for a field of n value bytes of tag's kind; NULL (marked bad)
 * otherwise. The field header is written. */
static uint8_t *add_field(proto_out *o, unsigned tag, proto_kind kind, size_t n)
{
    if (o->is_bad || tag == 0 || tag >= PROTO_TAG_LIMIT || tag_rules[tag].kind != kind ||
        n > tag_rules[tag].max || n > UINT16_MAX || PROTO_FRAME_MAX - o->len < 3 + n) {
        o->is_bad = true;
        return NULL;
    }
    uint8_t *p = o->buf + o->len;
    p[0] = (uint8_t)tag;
    put16(p + 1, (uint16_t)n);
    o->len += 3 + n;
    return p + 3;
}

void proto_put_str(proto_out *o, unsigned tag, const char *s)
{
    size_t n = strlen(s);
    uint8_t *p = add_field(o, tag, PROTO_STR, n);
    if (p != NULL)
        memcpy(p, s, n);
}

void proto_put_text(proto_out *o, unsigned tag, const char *s)
{
    size_t n = strlen(s);
    if (tag < PROTO_TAG_LIMIT && n > tag_rules[tag].max)
        n = tag_rules[tag].max;
    uint8_t *p = add_field(o, tag, PROTO_STR, n);
    if (p != NULL)
        memcpy(p, s, n);
}

void proto_put_u8(proto_out *o, unsigned tag, uint8_t v)
{
    uint8_t *p = add_field(o, tag, PROTO_U8, 1);
    if (p != NULL)
        p[0] = v;
}

void proto_put_i32(proto_out *o, unsigned tag, int32_t v)
{
    uint8_t *p = add_field(o, tag, PROTO_I32, 4);
    if (p != NULL)
        put32(p, (uint32_t)v);
}

void proto_put_u32(proto_out *o, unsigned tag, uint32_t v)
{
    uint8_t *p = add_field(o, tag, PROTO_U32, 4);
    if (p != NULL)
        put32(p, v);
}

void proto_put_i64(proto_out *o, unsigned tag, int64_t v)
{
    uint8_t *p = add_field(o, tag, PROTO_I64, 8);
    if (p != NULL)
        put64(p, (uint64_t)v);
}

void proto_put_u64(proto_out *o, unsigned tag, uint64_t v)
{
    uint8_t *p = add_field(o, tag, PROTO_U64, 8);
    if (p != NULL)
        put64(p, v);
}

void proto_put_bytes(proto_out *o, unsigned tag, const uint8_t *bytes, size_t n)
{
    proto_kind kind = tag < PROTO_TAG_LIMIT && tag_rules[tag].kind == PROTO_FIXED ? PROTO_FIXED
                                                                                   : PROTO_BYTES;
    if (kind == PROTO_FIXED && n != tag_rules[tag].max) {
        o->is_bad = true;
        return;
    }
    uint8_t *p = add_field(o, tag, kind, n);
    if (p != NULL && n > 0)
        memcpy(p, bytes, n);
}

void proto_put_numbers(proto_out *o, unsigned tag, const int64_t *v, size_t n)
{
    if (n > PROTO_NUMBERS_MAX) {
        o->is_bad = true;
        return;
    }
    uint8_t *p = add_field(o, tag, PROTO_NUMBERS, 8 * n);
    for (size_t i = 0; p != NULL && i < n; i++)
        put64(p + 8 * i, (uint64_t)v[i]);
}

int proto_finish(proto_out *o)
{
    if (o->is_bad)
        return SV_ELIMIT;
    put32(o->buf + 8, (uint32_t)(o->len - PROTO_HEADER_LEN));
    return 0;
}

/* ---- the wire ------------------------------------------------------------ */

int proto_send(int fd, proto_out *o)
{
    int rc = proto_finish(o);
    if (rc != 0)
        return rc;
    size_t off = 0;
    while (off < o->len) {
        ssize_t n = send(fd, o->buf + off, o->len - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return SV_EERRNO;
        off += (size_t)n;
    }
    return 0;
}

/* Make at least need bytes readable at r->buf + r->start (need <=
 * PROTO_FRAME_MAX). 0; SV_ENOTFOUND (closed before any byte of this
 * message); SV_ETIMEOUT (timed out before any); SV_ETRUNC (closed or timed
 * out after some); SV_EERRNO. */
static int fill(proto_reader *r, size_t need)
{
    if (r->start + need > sizeof r->buf) {
        size_t unread = r->end - r->start;
        memmove(r->buf, r->buf + r->start, unread);
        memset(r->buf + unread, 0, r->end - unread); /* what was decoded may hold an MRN */
        r->start = 0;
        r->end = unread;
    }
    while (r->end - r->start < need) {
        ssize_t got = recv(r->fd, r->buf + r->end, sizeof r->buf - r->end, 0);
        bool is_fresh = r->end == r->start;
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return is_fresh ? SV_ETIMEOUT : SV_ETRUNC;
        if (got < 0)
            return SV_EERRNO;
        if (got == 0)
            return is_fresh ? SV_ENOTFOUND : SV_ETRUNC;
        r->end += (size_t)got;
    }
    return 0;
}

int proto_read(proto_reader *r, bool is_request, proto_msg *out, char *why, size_t why_len)
{
    memset(out, 0, sizeof *out);
    int rc = fill(r, PROTO_HEADER_LEN);
    if (rc == SV_ETRUNC)
        return refuse(rc, why, why_len, "a message cut short in its header");
    if (rc != 0)
        return refuse(rc, why, why_len, "%s", rc == SV_EERRNO ? strerror(errno) : "no message");
    uint32_t payload_len = 0;
    if ((rc = proto_check_header(r->buf + r->start, &payload_len, why, why_len)) != 0)
        return rc;
    size_t len = PROTO_HEADER_LEN + payload_len;
    rc = fill(r, len);
    if (rc == SV_ENOTFOUND || rc == SV_ETIMEOUT || rc == SV_ETRUNC)
        return refuse(SV_ETRUNC, why, why_len, "a message cut short: the header announces %u "
                                               "payload bytes",
                      payload_len);
    if (rc != 0)
        return refuse(rc, why, why_len, "%s", strerror(errno));
    const uint8_t *msg = r->buf + r->start;
    r->start += len;
    return proto_decode(msg, len, is_request, out, why, why_len);
}

void proto_reader_wipe(proto_reader *r) { memset(r->buf, 0, r->start); }
