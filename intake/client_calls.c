/*
 * client_calls.c - the sv_client_* calls: one request each, then the
 * answer's frames turned back into the results the matching sv_store_*
 * call gives (docs/access.md lists the frames of each answer). A frame the
 * request does not expect ends the call with SV_EFORMAT and the connection.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "intake_internal.h"

/* Most items one answer may list before the client refuses to hold more. */
#define LIST_MAX (64u * 1024 * 1024)

/* Send the request in c->out and read its first frame. */
static int ask(sv_client *c, proto_msg *m)
{
    int rc = client_send(c);
    return rc != 0 ? rc : client_next(c, m);
}

/* Grow *items (n used, *cap allocated, each size bytes) by one. */
static int grow(void **items, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return 0;
    size_t want = *cap == 0 ? 64 : 2 * *cap;
    if (want > LIST_MAX || want > SIZE_MAX / size)
        return intake_fail(SV_ENOMEM, "the service's answer lists too many items");
    void *grown = realloc(*items, want * size);
    if (grown == NULL)
        return intake_fail(SV_ENOMEM, "out of memory");
    *items = grown;
    *cap = want;
    return 0;
}

static void put_filter(proto_out *o, const sv_index_filter *f)
{
    if (f == NULL)
        return;
    if (f->type != NULL && f->type[0] != '\0')
        proto_put_str(o, PT_TYPE, f->type);
    if (f->since != 0)
        proto_put_i64(o, PT_SINCE, f->since);
    if (f->until != 0)
        proto_put_i64(o, PT_UNTIL, f->until);
}

/* The last frame of an answer: END (its outcome) or ERROR. */
static int answer_end(sv_client *c, const proto_msg *m)
{
    if (m->type == PM_END)
        return client_ended(m);
    if (m->type == PM_ERROR)
        return client_refused(m);
    return client_unexpected(c, m);
}

/* A request whose answer is END or ERROR alone. */
static int simple_answer(sv_client *c)
{
    proto_msg m;
    int rc = ask(c, &m);
    return rc != 0 ? rc : answer_end(c, &m);
}

int sv_client_find(sv_client *c, const char *mrn, const sv_index_filter *filter,
                   sv_store_doc **docs, size_t *n)
{
    intake_clear_error();
    *docs = NULL;
    *n = 0;
    proto_start(&c->out, PM_FIND);
    proto_put_str(&c->out, PT_MRN, mrn);
    put_filter(&c->out, filter);
    sv_store_doc *found = NULL;
    size_t count = 0, cap = 0;
    proto_msg m;
    int rc = ask(c, &m);
    while (rc == 0 && m.type == PM_DOC) {
        if ((rc = grow((void **)&found, count, &cap, sizeof *found)) != 0)
            break;
        sv_store_doc *d = &found[count++];
        memset(d, 0, sizeof *d);
        proto_str(&m, PT_DOCID, d->docid, sizeof d->docid);
        proto_str(&m, PT_TYPE, d->type, sizeof d->type);
        d->intake_time = proto_i64(&m, PT_INTAKE_TIME);
        d->pages = proto_u32(&m, PT_PAGES);
        d->size = proto_u64(&m, PT_SIZE);
        rc = client_next(c, &m);
    }
    if (rc == 0)
        rc = answer_end(c, &m);
    memset(c->out.buf, 0, c->out.len); /* the MRN */
    if (rc != 0) {
        free(found);
        return rc;
    }
    *docs = found;
    *n = count;
    return 0;
}

/* Write all of buf to fd. 0 or -1 (errno). */
static int write_all(int fd, const uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

/*
 * Read a document stream after its OK: DATA frames to out_fd, until the
 * frame that follows the bytes (returned in *m). *bytes gets the count.
 */
static int receive_document(sv_client *c, const char *docid, int out_fd, proto_msg *m,
                            uint64_t *bytes)
{
    *bytes = 0;
    for (;;) {
        int rc = client_next(c, m);
        if (rc != 0 || m->type != PM_DATA)
            return rc;
        size_t len = 0;
        const uint8_t *p = proto_bytes(m, PT_BYTES, &len);
        if (write_all(out_fd, p, len) != 0) {
            int err = errno;
            client_hang_up(c);
            return intake_fail(SV_EERRNO, "%s: writing the document failed: %s", docid,
                               strerror(err));
        }
        *bytes += len;
    }
}

/* The END of a document stream: its outcome, and every byte arrived. */
static int document_end(sv_client *c, const char *docid, const proto_msg *m, uint64_t bytes)
{
    if (m->type == PM_ERROR)
        return client_refused(m);
    if (m->type != PM_END)
        return client_unexpected(c, m);
    int rc = client_ended(m);
    if (rc == 0 && proto_has(m, PT_SIZE) && proto_u64(m, PT_SIZE) != bytes)
        rc = intake_fail(SV_ETRUNC, "%s: the service sent %llu bytes but announced %llu", docid,
                         (unsigned long long)bytes, (unsigned long long)proto_u64(m, PT_SIZE));
    return rc;
}

int sv_client_get(sv_client *c, const char *docid, int out_fd)
{
    intake_clear_error();
    proto_start(&c->out, PM_GET);
    proto_put_str(&c->out, PT_DOCID, docid);
    proto_msg m;
    int rc = ask(c, &m);
    if (rc != 0)
        return rc;
    if (m.type == PM_ERROR)
        return client_refused(&m);
    if (m.type != PM_OK)
        return client_unexpected(c, &m);
    uint64_t bytes = 0;
    if ((rc = receive_document(c, docid, out_fd, &m, &bytes)) != 0)
        return rc;
    return document_end(c, docid, &m, bytes);
}

int sv_client_review_list(sv_client *c, sv_store_review_item **items, size_t *n)
{
    intake_clear_error();
    *items = NULL;
    *n = 0;
    proto_start(&c->out, PM_REVIEW_LIST);
    sv_store_review_item *got = NULL;
    size_t count = 0, cap = 0;
    proto_msg m;
    int rc = ask(c, &m);
    while (rc == 0 && m.type == PM_REVIEW_ITEM) {
        if ((rc = grow((void **)&got, count, &cap, sizeof *got)) != 0)
            break;
        sv_store_review_item *it = &got[count++];
        memset(it, 0, sizeof *it);
        proto_str(&m, PT_DOCID, it->docid, sizeof it->docid);
        proto_str(&m, PT_REASON, it->reason, sizeof it->reason);
        proto_str(&m, PT_TYPE, it->type, sizeof it->type);
        it->pages = proto_u32(&m, PT_PAGES);
        it->size = proto_u64(&m, PT_SIZE);
        it->intake_time = proto_i64(&m, PT_INTAKE_TIME);
        it->since = proto_i64(&m, PT_SINCE);
        rc = client_next(c, &m);
    }
    if (rc == 0)
        rc = answer_end(c, &m);
    if (rc != 0) {
        free(got);
        return rc;
    }
    *items = got;
    *n = count;
    return 0;
}

int sv_client_review_show(sv_client *c, const char *docid, int out_fd, sv_vault_meta *meta_out)
{
    intake_clear_error();
    memset(meta_out, 0, sizeof *meta_out);
    proto_start(&c->out, PM_REVIEW_SHOW);
    proto_put_str(&c->out, PT_DOCID, docid);
    proto_put_u8(&c->out, PT_WITH_DOCUMENT, out_fd >= 0 ? 1 : 0);
    proto_msg m;
    int rc = ask(c, &m);
    if (rc != 0)
        return rc;
    if (m.type == PM_ERROR)
        return client_refused(&m);
    uint64_t bytes = 0;
    if (out_fd >= 0) {
        if (m.type != PM_OK)
            return client_unexpected(c, &m);
        if ((rc = receive_document(c, docid, out_fd, &m, &bytes)) != 0)
            return rc;
    }
    if (m.type != PM_REVIEW_META)
        return m.type == PM_END ? client_ended(&m) : client_unexpected(c, &m);
    proto_str(&m, PT_DOCID, meta_out->docid, sizeof meta_out->docid);
    meta_out->state = (sv_vault_state)proto_u8(&m, PT_STATE);
    proto_str(&m, PT_REASON, meta_out->reason, sizeof meta_out->reason);
    proto_str(&m, PT_TYPE, meta_out->type, sizeof meta_out->type);
    meta_out->pages = proto_u32(&m, PT_PAGES);
    meta_out->size = proto_u64(&m, PT_SIZE);
    meta_out->intake_time = proto_i64(&m, PT_INTAKE_TIME);
    proto_str(&m, PT_NOTE, meta_out->review_note, sizeof meta_out->review_note);
    proto_str(&m, PT_SUMMARY, meta_out->ocr_summary, sizeof meta_out->ocr_summary);
    proto_reader_wipe(&c->in); /* the MRN candidates */
    if ((rc = client_next(c, &m)) == 0)
        rc = document_end(c, docid, &m, bytes);
    if (rc != 0)
        sv_vault_meta_wipe(meta_out);
    return rc;
}

static int review_decision(sv_client *c, uint16_t type, const char *docid, const char *mrn,
                           const char *confirm, const char *type_name, const char *note)
{
    intake_clear_error();
    proto_start(&c->out, type);
    proto_put_str(&c->out, PT_DOCID, docid != NULL ? docid : "");
    if (type != PM_REVIEW_REJECT) {
        proto_put_str(&c->out, PT_MRN, mrn != NULL ? mrn : "");
        proto_put_str(&c->out, PT_CONFIRM, confirm != NULL ? confirm : "");
    }
    if (type_name != NULL && type_name[0] != '\0')
        proto_put_str(&c->out, PT_TYPE, type_name);
    if (type == PM_REVIEW_REJECT)
        proto_put_str(&c->out, PT_NOTE, note != NULL ? note : "");
    int rc = simple_answer(c);
    memset(c->out.buf, 0, c->out.len);
    return rc;
}

int sv_client_review_assign(sv_client *c, const char *docid, const char *mrn,
                            const char *confirm, const char *type)
{
    return review_decision(c, PM_REVIEW_ASSIGN, docid, mrn, confirm, type, NULL);
}

int sv_client_review_reject(sv_client *c, const char *docid, const char *note)
{
    return review_decision(c, PM_REVIEW_REJECT, docid, NULL, NULL, NULL, note);
}

int sv_client_review_reassign(sv_client *c, const char *docid, const char *new_mrn,
                              const char *confirm)
{
    return review_decision(c, PM_REVIEW_REASSIGN, docid, new_mrn, confirm, NULL, NULL);
}

int sv_client_status(sv_client *c, char *buf, size_t len)
{
    intake_clear_error();
    if (len > 0)
        buf[0] = '\0';
    proto_start(&c->out, PM_STATUS);
    proto_msg m;
    int rc = ask(c, &m);
    if (rc != 0)
        return rc;
    if (m.type == PM_ERROR)
        return client_refused(&m);
    if (m.type != PM_STATUS_JSON)
        return client_unexpected(c, &m);
    if (proto_str(&m, PT_JSON, buf, len) != 0)
        rc = intake_fail(SV_ELIMIT, "the service's status does not fit");
    proto_msg end;
    int end_rc = client_next(c, &end);
    if (end_rc == 0)
        end_rc = end.type == PM_END ? client_ended(&end) : client_unexpected(c, &end);
    return rc != 0 ? rc : end_rc;
}

int sv_client_list(sv_client *c, sv_index_state state, sv_store_list_fn fn, void *ctx)
{
    intake_clear_error();
    proto_start(&c->out, PM_LIST);
    proto_put_u8(&c->out, PT_STATE, (uint8_t)state);
    proto_msg m;
    int rc = ask(c, &m);
    while (rc == 0 && m.type == PM_RECORD) {
        char docid[SV_INDEX_DOCID_MAX + 1];
        sv_index_record rec;
        memset(&rec, 0, sizeof rec);
        proto_str(&m, PT_DOCID, docid, sizeof docid);
        rec.state = (sv_index_state)proto_u8(&m, PT_STATE);
        proto_str(&m, PT_REASON, rec.reason, sizeof rec.reason);
        proto_str(&m, PT_TYPE, rec.type, sizeof rec.type);
        rec.pages = proto_u32(&m, PT_PAGES);
        rec.size = proto_u64(&m, PT_SIZE);
        rec.intake_time = proto_i64(&m, PT_INTAKE_TIME);
        int stop = fn(docid, &rec, ctx);
        if (stop != 0) {
            client_hang_up(c); /* the rest of the answer is not wanted */
            return stop < 0 ? stop : 0;
        }
        rc = client_next(c, &m);
    }
    if (rc != 0)
        return rc;
    return answer_end(c, &m);
}

int sv_client_get_stats(sv_client *c, sv_store_stats *st)
{
    intake_clear_error();
    memset(st, 0, sizeof *st);
    proto_start(&c->out, PM_STATS);
    proto_msg m;
    int rc = ask(c, &m);
    if (rc != 0)
        return rc;
    if (m.type == PM_ERROR)
        return client_refused(&m);
    if (m.type != PM_FIGURES)
        return client_unexpected(c, &m);
    int64_t v[11] = {0};
    proto_numbers(&m, PT_NUMBERS, v, 11);
    sv_index_stats *ix = &st->index;
    ix->docs = (uint64_t)v[0];
    ix->by_state[SV_INDEX_FILED] = (uint64_t)v[1];
    ix->by_state[SV_INDEX_REVIEW] = (uint64_t)v[2];
    ix->by_state[SV_INDEX_QUARANTINED] = (uint64_t)v[3];
    ix->review_queue = (uint64_t)v[4];
    ix->types_truncated = v[5] != 0;
    ix->map_size = (uint64_t)v[6];
    st->index_bytes = (uint64_t)v[7];
    st->vault_objects = (uint64_t)v[8];
    st->vault_bytes = (uint64_t)v[9];
    st->spool_files = (uint64_t)v[10];
    while ((rc = client_next(c, &m)) == 0 && m.type == PM_TYPE_COUNT) {
        if (ix->n_types >= SV_INDEX_STATS_TYPES) {
            ix->types_truncated = true;
            continue;
        }
        int64_t counts[3] = {0};
        proto_numbers(&m, PT_NUMBERS, counts, 3);
        proto_str(&m, PT_TYPE, ix->types[ix->n_types].type, sizeof ix->types[0].type);
        ix->types[ix->n_types].by_state[SV_INDEX_FILED] = (uint64_t)counts[0];
        ix->types[ix->n_types].by_state[SV_INDEX_REVIEW] = (uint64_t)counts[1];
        ix->types[ix->n_types].by_state[SV_INDEX_QUARANTINED] = (uint64_t)counts[2];
        ix->n_types++;
    }
    if (rc != 0)
        return rc;
    return m.type == PM_END ? client_ended(&m) : client_unexpected(c, &m);
}

int sv_client_verify(sv_client *c, const sv_verify_options *o, sv_verify_report *rep)
{
    intake_clear_error();
    memset(rep, 0, sizeof *rep);
    proto_start(&c->out, PM_VERIFY);
    if (o != NULL && o->fast)
        proto_put_u8(&c->out, PT_FAST, 1);
    proto_msg m;
    int rc = ask(c, &m);
    for (; rc == 0; rc = client_next(c, &m)) {
        int64_t v[6 + SV_MAINT_KIND_COUNT] = {0};
        if (m.type == PM_PROGRESS) {
            proto_numbers(&m, PT_NUMBERS, v, 4);
            sv_maint_progress p = {.done = (uint64_t)v[0], .total = (uint64_t)v[1],
                                   .bytes = (uint64_t)v[2], .elapsed_s = (double)v[3] / 1e6};
            if (o != NULL && o->progress != NULL)
                o->progress(&p, o->progress_ctx);
        } else if (m.type == PM_PROBLEM) {
            char docid[SV_INDEX_DOCID_MAX + 1], detail[1025];
            proto_str(&m, PT_DOCID, docid, sizeof docid);
            proto_str(&m, PT_DETAIL, detail, sizeof detail);
            sv_maint_problem p = {.kind = (sv_maint_kind)proto_u8(&m, PT_KIND),
                                  .docid = proto_has(&m, PT_DOCID) ? docid : NULL,
                                  .detail = detail};
            if (o != NULL && o->problem != NULL)
                o->problem(&p, o->problem_ctx);
        } else if (m.type == PM_END) {
            proto_numbers(&m, PT_NUMBERS, v, sizeof v / sizeof v[0]);
            rep->objects = (uint64_t)v[0];
            rep->bytes = (uint64_t)v[1];
            rep->entries = (uint64_t)v[2];
            rep->pending = (uint64_t)v[3];
            rep->problems = (uint64_t)v[4];
            rep->seconds = (double)v[5] / 1e6;
            for (int k = 0; k < SV_MAINT_KIND_COUNT; k++)
                rep->by_kind[k] = (uint64_t)v[6 + k];
            return client_ended(&m);
        } else if (m.type == PM_ERROR) {
            return client_refused(&m);
        } else {
            return client_unexpected(c, &m);
        }
    }
    return rc;
}

/* One AUDIT_LINE frame as an entry. */
static void audit_entry_of(const proto_msg *m, sv_audit_entry *e)
{
    memset(e, 0, sizeof *e);
    e->seq = proto_u64(m, PT_SEQ);
    e->time = proto_i64(m, PT_TIME);
    e->uid = proto_u32(m, PT_UID);
    proto_str(m, PT_USER, e->user, sizeof e->user);
    proto_str(m, PT_ACTION, e->action, sizeof e->action);
    proto_str(m, PT_DOCID, e->docid, sizeof e->docid);
    proto_str(m, PT_RESULT, e->result, sizeof e->result);
    size_t len = 0;
    const uint8_t *mac = proto_bytes(m, PT_MAC, &len);
    if (mac != NULL && len == sizeof e->mac)
        memcpy(e->mac, mac, sizeof e->mac);
}

/* The END of an audit read or verify: the report, then the outcome. */
static int audit_end(const proto_msg *m, sv_store_audit_report *r)
{
    int64_t v[13] = {0};
    proto_numbers(m, PT_NUMBERS, v, 13);
    r->verdict = (sv_store_audit_verdict)v[0];
    r->lines = (uint64_t)v[1];
    r->shown = (uint64_t)v[2];
    r->bad_line = (uint64_t)v[3];
    r->first_time = v[4];
    r->last_time = v[5];
    r->anchor_seq = (uint64_t)v[6];
    r->repairs = (uint64_t)v[7];
    r->rotations = (uint64_t)v[8];
    r->archives = (uint64_t)v[9];
    r->archive_lines = (uint64_t)v[10];
    r->bad_archive_line = (uint64_t)v[11];
    r->logged = (int)v[12];
    size_t len = 0;
    const uint8_t *mac = proto_bytes(m, PT_MAC, &len);
    if (mac != NULL && len == sizeof r->anchor_mac)
        memcpy(r->anchor_mac, mac, sizeof r->anchor_mac);
    proto_str(m, PT_NAME, r->bad_archive, sizeof r->bad_archive);
    return client_ended(m);
}

/* Read AUDIT_LINE frames (each to fn) up to the END. */
static int audit_answer(sv_client *c, sv_audit_entry_fn fn, void *ctx,
                        sv_store_audit_report *rep)
{
    proto_msg m;
    int rc = ask(c, &m);
    for (; rc == 0; rc = client_next(c, &m)) {
        if (m.type == PM_AUDIT_LINE) {
            sv_audit_entry e;
            audit_entry_of(&m, &e);
            int stop = fn != NULL ? fn(&e, ctx) : 0;
            if (stop != 0) {
                client_hang_up(c); /* the rest is not wanted */
                return stop < 0 ? stop : 0;
            }
        } else if (m.type == PM_END) {
            return audit_end(&m, rep);
        } else if (m.type == PM_ERROR) {
            return client_refused(&m);
        } else {
            return client_unexpected(c, &m);
        }
    }
    return rc;
}

int sv_client_audit_read(sv_client *c, const sv_store_audit_filter *filter,
                         sv_audit_entry_fn fn, void *ctx, sv_store_audit_report *rep)
{
    intake_clear_error();
    memset(rep, 0, sizeof *rep);
    proto_start(&c->out, PM_AUDIT_READ);
    if (filter != NULL) {
        if (filter->from != 0)
            proto_put_i64(&c->out, PT_SINCE, filter->from);
        if (filter->to != 0)
            proto_put_i64(&c->out, PT_UNTIL, filter->to);
        if (filter->docid != NULL)
            proto_put_str(&c->out, PT_DOCID, filter->docid);
        if (filter->action != NULL)
            proto_put_str(&c->out, PT_ACTION, filter->action);
    }
    if (c->out.is_bad)
        return intake_fail(SV_EINVAL, "--action or --docid is too long");
    return audit_answer(c, fn, ctx, rep);
}

int sv_client_audit_verify(sv_client *c, const sv_store_audit_verify_options *opts,
                           sv_store_audit_report *rep)
{
    intake_clear_error();
    memset(rep, 0, sizeof *rep);
    proto_start(&c->out, PM_AUDIT_VERIFY);
    if (opts != NULL && opts->anchor_seq != 0) {
        proto_put_u64(&c->out, PT_ANCHOR_SEQ, opts->anchor_seq);
        proto_put_bytes(&c->out, PT_MAC, opts->anchor_mac, sizeof opts->anchor_mac);
    }
    if (opts != NULL && opts->notable != NULL)
        proto_put_u8(&c->out, PT_NOTABLE, 1);
    return audit_answer(c, opts != NULL ? opts->notable : NULL, opts != NULL ? opts->ctx : NULL,
                        rep);
}
