/*
 * server_requests.c - what the service's socket does for each request
 * (docs/access.md): the role each one needs, the retrieval cap, and the
 * sv_store_* call it runs on the caller's view of the store, whose audit
 * lines name the caller. The replies stream: content frames as the store
 * produces them, then END with the outcome; a request that fails before
 * any content gets one ERROR frame instead.
 *
 * Every request leaves at least one audit line: the store's own (find,
 * get, review_*, list, verify, audit_*, export), or, when the store wrote
 * none (refused by role or cap, a bad docid, stats, status), one written
 * here with the outcome.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "intake_internal.h"

#define PROGRESS_EVERY_S 0.25

typedef int (*handler_fn)(server_conn *c, const proto_msg *m);

/* One request type: who may ask, and under which audit action. */
typedef struct request_rule {
    uint16_t type;
    const char *verb;   /* for messages: "find", "review show" */
    const char *action; /* audit action */
    server_role role;   /* the least role that may ask */
    handler_fn handle;
} request_rule;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- replies -------------------------------------------------------------- */

/* Write n bytes whole (no SIGPIPE). 0 or SV_EERRNO. */
static int send_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return SV_EERRNO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int server_flush(server_conn *c)
{
    if (c->send_rc == 0 && c->pending > 0)
        c->send_rc = send_all(c->fd, c->wbuf, c->pending);
    memset(c->wbuf, 0, c->pending); /* frames may carry MRN candidates */
    c->pending = 0;
    return c->send_rc;
}

int server_send(server_conn *c)
{
    if (c->send_rc != 0)
        return c->send_rc;
    int rc = proto_finish(&c->out);
    if (rc != 0) {
        intake_log(SV_LOG_ERROR, "an answer frame could not be built (a bug): connection closed");
        return c->send_rc = rc;
    }
    /* Small frames are gathered; a large one (document bytes) goes at once. */
    if (c->pending + c->out.len > sizeof c->wbuf && server_flush(c) != 0)
        return c->send_rc;
    if (c->out.len * 4 > sizeof c->wbuf) {
        if (server_flush(c) == 0)
            c->send_rc = send_all(c->fd, c->out.buf, c->out.len);
        return c->send_rc;
    }
    memcpy(c->wbuf + c->pending, c->out.buf, c->out.len);
    c->pending += c->out.len;
    return 0;
}

void server_error(server_conn *c, proto_error_kind kind, int code, const char *text)
{
    proto_start(&c->out, PM_ERROR);
    proto_put_i32(&c->out, PT_CODE, code);
    proto_put_u8(&c->out, PT_KIND, (uint8_t)kind);
    proto_put_text(&c->out, PT_TEXT, text);
    server_send(c);
}

/* Send a content frame that has been built in c->out. */
static int send_content(server_conn *c)
{
    c->is_started = true;
    return server_send(c);
}

static const char *last_error_or(int rc)
{
    const char *msg = sv_intake_last_error();
    return msg[0] != '\0' ? msg : sv_strerror(rc);
}

/* The request failed: ERROR when nothing went out yet, else END with it. */
static int fail(server_conn *c, int rc)
{
    if (!c->is_started) {
        server_error(c, PROTO_ERR_FAILED, rc, last_error_or(rc));
        return rc;
    }
    proto_start(&c->out, PM_END);
    proto_put_i32(&c->out, PT_CODE, rc);
    proto_put_text(&c->out, PT_TEXT, last_error_or(rc));
    server_send(c);
    return rc;
}

static int end_ok(server_conn *c, uint64_t count)
{
    proto_start(&c->out, PM_END);
    proto_put_i32(&c->out, PT_CODE, 0);
    proto_put_u64(&c->out, PT_COUNT, count);
    return server_send(c);
}

int server_send_data(server_conn *c, const uint8_t *buf, size_t len)
{
    while (len > 0 && c->send_rc == 0) {
        size_t n = len < PROTO_DATA_MAX ? len : PROTO_DATA_MAX;
        proto_start(&c->out, PM_DATA);
        proto_put_bytes(&c->out, PT_BYTES, buf, n);
        send_content(c);
        buf += n;
        len -= n;
        c->bytes += n;
    }
    return c->send_rc == 0 ? 0 : SV_EERRNO;
}

/* An sv_vault_sink: document bytes as DATA frames, after an OK. */
static int send_document_bytes(void *ctx, const uint8_t *buf, size_t len)
{
    server_conn *c = ctx;
    if (!c->is_started) {
        proto_start(&c->out, PM_OK);
        send_content(c);
    }
    return server_send_data(c, buf, len);
}

/* Count one retrieval against the caller's cap, or refuse (audited). */
static int take_or_refuse(server_conn *c, uint64_t n, const char *action, const char *docid)
{
    int rc = server_take_docs(c, n);
    if (rc == 0)
        return 0;
    intake_log(SV_LOG_WARNING, "uid %u (%s): %s refused: hourly retrieval cap reached", c->uid,
               c->user, action);
    char result[64];
    snprintf(result, sizeof result, "refused=rate_limit docs=%llu", (unsigned long long)n);
    intake_audit(c->view, action, docid, result);
    server_error(c, rc == SV_ELIMIT ? PROTO_ERR_RATE_LIMIT : PROTO_ERR_FAILED, rc,
                 sv_intake_last_error());
    return rc;
}

/* ---- the clerks' requests ----------------------------------------------- */

static void read_filter(const proto_msg *m, sv_index_filter *f, char *type, size_t type_len)
{
    proto_str(m, PT_TYPE, type, type_len);
    f->type = type[0] != '\0' ? type : NULL;
    f->since = proto_i64(m, PT_SINCE);
    f->until = proto_i64(m, PT_UNTIL);
}

static int do_find(server_conn *c, const proto_msg *m)
{
    char mrn[65], type[SV_INDEX_TYPE_MAX + 1];
    sv_index_filter filter = {0};
    proto_str(m, PT_MRN, mrn, sizeof mrn);
    read_filter(m, &filter, type, sizeof type);
    sv_store_doc *docs = NULL;
    size_t n = 0;
    int rc = sv_store_find(c->view, c->rules, mrn, &filter, &docs, &n);
    memset(mrn, 0, sizeof mrn);
    if (rc != 0)
        return fail(c, rc);
    for (size_t i = 0; i < n && c->send_rc == 0; i++) {
        proto_start(&c->out, PM_DOC);
        proto_put_str(&c->out, PT_DOCID, docs[i].docid);
        proto_put_str(&c->out, PT_TYPE, docs[i].type);
        proto_put_i64(&c->out, PT_INTAKE_TIME, docs[i].intake_time);
        proto_put_u32(&c->out, PT_PAGES, docs[i].pages);
        proto_put_u64(&c->out, PT_SIZE, docs[i].size);
        send_content(c);
    }
    free(docs);
    return end_ok(c, n);
}

static int do_get(server_conn *c, const proto_msg *m)
{
    char docid[SV_INDEX_DOCID_MAX + 1];
    proto_str(m, PT_DOCID, docid, sizeof docid);
    if (!sv_docid_is_valid(docid))
        return fail(c, intake_fail(SV_EINVAL, "not a document id"));
    int rc = take_or_refuse(c, 1, "get", docid);
    if (rc != 0)
        return rc;
    rc = sv_store_get_to(c->view, docid, send_document_bytes, c, NULL);
    if (rc != 0) {
        if (!c->is_started)
            server_give_back_docs(c, 1);
        return fail(c, rc);
    }
    if (!c->is_started) { /* an empty document */
        proto_start(&c->out, PM_OK);
        send_content(c);
    }
    proto_start(&c->out, PM_END);
    proto_put_i32(&c->out, PT_CODE, 0);
    proto_put_u64(&c->out, PT_SIZE, c->bytes);
    return server_send(c);
}

/* ---- the review queue ------------------------------------------------------ */

static int do_review_list(server_conn *c, const proto_msg *m)
{
    (void)m;
    sv_store_review_item *items = NULL;
    size_t n = 0;
    int rc = sv_store_review_list(c->view, &items, &n);
    if (rc != 0)
        return fail(c, rc);
    for (size_t i = 0; i < n && c->send_rc == 0; i++) {
        proto_start(&c->out, PM_REVIEW_ITEM);
        proto_put_str(&c->out, PT_DOCID, items[i].docid);
        proto_put_str(&c->out, PT_REASON, items[i].reason);
        proto_put_str(&c->out, PT_TYPE, items[i].type);
        proto_put_u32(&c->out, PT_PAGES, items[i].pages);
        proto_put_u64(&c->out, PT_SIZE, items[i].size);
        proto_put_i64(&c->out, PT_INTAKE_TIME, items[i].intake_time);
        proto_put_i64(&c->out, PT_SINCE, items[i].since);
        send_content(c);
    }
    free(items);
    return end_ok(c, n);
}

static int do_review_show(server_conn *c, const proto_msg *m)
{
    char docid[SV_INDEX_DOCID_MAX + 1];
    proto_str(m, PT_DOCID, docid, sizeof docid);
    bool with_document = proto_u8(m, PT_WITH_DOCUMENT) != 0;
    if (!sv_docid_is_valid(docid))
        return fail(c, intake_fail(SV_EINVAL, "not a document id"));
    /* A reviewer sees the review queue and nothing else: not the quarantine
     * (rejected documents included) that review show also opens to clerks. */
    sv_index_record rec;
    if (c->role == ROLE_REVIEWER && (sv_index_get(sv_store_index(c->view), docid, &rec) != 0 ||
                                     rec.state != SV_INDEX_REVIEW))
        return fail(c, intake_fail(SV_EPERM, "review show of %s: the reviewer role sees only "
                                             "documents waiting for review",
                                   docid));
    int rc = with_document ? take_or_refuse(c, 1, "get", docid) : 0;
    if (rc != 0)
        return rc;
    sv_vault_meta *meta = calloc(1, sizeof *meta);
    if (meta == NULL)
        return fail(c, intake_fail(SV_ENOMEM, "out of memory"));
    rc = sv_store_review_show_to(c->view, docid, with_document ? send_document_bytes : NULL, c,
                                 meta);
    if (rc != 0) {
        if (with_document && !c->is_started)
            server_give_back_docs(c, 1);
        fail(c, rc);
        goto out;
    }
    if (with_document && !c->is_started) {
        proto_start(&c->out, PM_OK);
        send_content(c);
    }
    /* What a reviewer is shown; never the scanner's file name. */
    proto_start(&c->out, PM_REVIEW_META);
    proto_put_str(&c->out, PT_DOCID, meta->docid);
    proto_put_u8(&c->out, PT_STATE, (uint8_t)meta->state);
    proto_put_str(&c->out, PT_REASON, meta->reason);
    proto_put_str(&c->out, PT_TYPE, meta->type);
    proto_put_u32(&c->out, PT_PAGES, meta->pages);
    proto_put_u64(&c->out, PT_SIZE, meta->size);
    proto_put_i64(&c->out, PT_INTAKE_TIME, meta->intake_time);
    proto_put_str(&c->out, PT_NOTE, meta->review_note);
    proto_put_str(&c->out, PT_SUMMARY, meta->ocr_summary);
    send_content(c);
    proto_start(&c->out, PM_END);
    proto_put_i32(&c->out, PT_CODE, 0);
    proto_put_u64(&c->out, PT_SIZE, c->bytes);
    server_send(c);
out:
    sv_vault_meta_wipe(meta);
    free(meta);
    return rc;
}

static int do_review_decide(server_conn *c, const proto_msg *m)
{
    char docid[SV_INDEX_DOCID_MAX + 1], mrn[65], confirm[65], type[SV_INDEX_TYPE_MAX + 1];
    char note[SV_META_NOTE_MAX + 1];
    proto_str(m, PT_DOCID, docid, sizeof docid);
    proto_str(m, PT_MRN, mrn, sizeof mrn);
    proto_str(m, PT_CONFIRM, confirm, sizeof confirm);
    proto_str(m, PT_TYPE, type, sizeof type);
    proto_str(m, PT_NOTE, note, sizeof note);
    int rc;
    if (m->type == PM_REVIEW_ASSIGN)
        rc = sv_store_review_assign(c->view, c->rules, docid, mrn, confirm,
                                    type[0] != '\0' ? type : NULL);
    else if (m->type == PM_REVIEW_REJECT)
        rc = sv_store_review_reject(c->view, docid, note);
    else
        rc = sv_store_review_reassign(c->view, c->rules, docid, mrn, confirm);
    memset(mrn, 0, sizeof mrn);
    memset(confirm, 0, sizeof confirm);
    memset(note, 0, sizeof note);
    return rc != 0 ? fail(c, rc) : end_ok(c, 1);
}

/* ---- the admins' requests --------------------------------------------------- */

static int do_status(server_conn *c, const proto_msg *m)
{
    (void)m;
    char *json = malloc(16384);
    if (json == NULL)
        return fail(c, intake_fail(SV_ENOMEM, "out of memory"));
    server_status_copy(c->srv, json, 16384);
    proto_start(&c->out, PM_STATUS_JSON);
    proto_put_text(&c->out, PT_JSON, json);
    free(json);
    send_content(c);
    return end_ok(c, 1);
}

static int send_record(const char *docid, const sv_index_record *rec, void *ctx)
{
    server_conn *c = ctx;
    if (c->send_rc != 0)
        return 0; /* the caller is gone: finish the walk so it is audited */
    proto_start(&c->out, PM_RECORD);
    proto_put_str(&c->out, PT_DOCID, docid);
    proto_put_u8(&c->out, PT_STATE, (uint8_t)rec->state);
    proto_put_str(&c->out, PT_REASON, rec->reason);
    proto_put_str(&c->out, PT_TYPE, rec->type);
    proto_put_u32(&c->out, PT_PAGES, rec->pages);
    proto_put_u64(&c->out, PT_SIZE, rec->size);
    proto_put_i64(&c->out, PT_INTAKE_TIME, rec->intake_time);
    send_content(c);
    return 0;
}

static int do_list(server_conn *c, const proto_msg *m)
{
    uint8_t state = proto_u8(m, PT_STATE);
    if (state >= SV_INDEX_STATE_COUNT)
        return fail(c, intake_fail(SV_EINVAL, "no such document state"));
    int rc = sv_store_list(c->view, (sv_index_state)state, send_record, c);
    return rc != 0 ? fail(c, rc) : end_ok(c, 0);
}

static int do_stats(server_conn *c, const proto_msg *m)
{
    (void)m;
    sv_store_stats *st = malloc(sizeof *st);
    if (st == NULL)
        return fail(c, intake_fail(SV_ENOMEM, "out of memory"));
    int rc = sv_store_get_stats(c->view, st);
    if (rc != 0) {
        free(st);
        return fail(c, rc);
    }
    const sv_index_stats *ix = &st->index;
    int64_t figures[] = {(int64_t)ix->docs,
                         (int64_t)ix->by_state[SV_INDEX_FILED],
                         (int64_t)ix->by_state[SV_INDEX_REVIEW],
                         (int64_t)ix->by_state[SV_INDEX_QUARANTINED],
                         (int64_t)ix->review_queue,
                         ix->types_truncated ? 1 : 0,
                         (int64_t)ix->map_size,
                         (int64_t)st->index_bytes,
                         (int64_t)st->vault_objects,
                         (int64_t)st->vault_bytes,
                         (int64_t)st->spool_files};
    proto_start(&c->out, PM_FIGURES);
    proto_put_numbers(&c->out, PT_NUMBERS, figures, sizeof figures / sizeof figures[0]);
    send_content(c);
    for (size_t i = 0; i < ix->n_types && i < SV_INDEX_STATS_TYPES; i++) {
        int64_t counts[3] = {(int64_t)ix->types[i].by_state[SV_INDEX_FILED],
                             (int64_t)ix->types[i].by_state[SV_INDEX_REVIEW],
                             (int64_t)ix->types[i].by_state[SV_INDEX_QUARANTINED]};
        proto_start(&c->out, PM_TYPE_COUNT);
        proto_put_str(&c->out, PT_TYPE, ix->types[i].type);
        proto_put_numbers(&c->out, PT_NUMBERS, counts, 3);
        send_content(c);
    }
    free(st);
    return end_ok(c, 1);
}

static void send_progress(const sv_maint_progress *p, void *ctx)
{
    server_conn *c = ctx;
    double now = now_s();
    if (c->send_rc != 0 || (p->done < p->total && now - c->last_progress < PROGRESS_EVERY_S))
        return;
    c->last_progress = now;
    int64_t v[4] = {(int64_t)p->done, (int64_t)p->total, (int64_t)p->bytes,
                    (int64_t)(p->elapsed_s * 1e6)};
    proto_start(&c->out, PM_PROGRESS);
    proto_put_numbers(&c->out, PT_NUMBERS, v, 4);
    send_content(c);
    server_flush(c); /* a person is watching it */
}

static void send_problem(const sv_maint_problem *p, void *ctx)
{
    server_conn *c = ctx;
    if (c->send_rc != 0)
        return;
    proto_start(&c->out, PM_PROBLEM);
    proto_put_u8(&c->out, PT_KIND, (uint8_t)p->kind);
    proto_put_text(&c->out, PT_DETAIL, p->detail != NULL ? p->detail : "");
    if (p->docid != NULL)
        proto_put_text(&c->out, PT_DOCID, p->docid);
    send_content(c);
}

static int do_verify(server_conn *c, const proto_msg *m)
{
    sv_verify_options o = {.fast = proto_u8(m, PT_FAST) != 0,
                           .progress = send_progress,
                           .progress_ctx = c,
                           .problem = send_problem,
                           .problem_ctx = c};
    sv_verify_report rep;
    int rc = sv_verify_run(c->view, &o, &rep);
    int64_t v[6 + SV_MAINT_KIND_COUNT] = {(int64_t)rep.objects, (int64_t)rep.bytes,
                                          (int64_t)rep.entries, (int64_t)rep.pending,
                                          (int64_t)rep.problems, (int64_t)(rep.seconds * 1e6)};
    for (int k = 0; k < SV_MAINT_KIND_COUNT; k++)
        v[6 + k] = (int64_t)rep.by_kind[k];
    proto_start(&c->out, PM_END);
    proto_put_i32(&c->out, PT_CODE, rc);
    if (rc != 0)
        proto_put_text(&c->out, PT_TEXT, last_error_or(rc));
    proto_put_numbers(&c->out, PT_NUMBERS, v, sizeof v / sizeof v[0]);
    server_send(c);
    return rc;
}

static int send_audit_line(const sv_audit_entry *e, void *ctx)
{
    server_conn *c = ctx;
    if (c->send_rc != 0)
        return 1; /* the caller is gone: stop reading (the read is still audited) */
    proto_start(&c->out, PM_AUDIT_LINE);
    proto_put_u64(&c->out, PT_SEQ, e->seq);
    proto_put_i64(&c->out, PT_TIME, e->time);
    proto_put_u32(&c->out, PT_UID, e->uid);
    proto_put_text(&c->out, PT_USER, e->user);
    proto_put_text(&c->out, PT_ACTION, e->action);
    proto_put_text(&c->out, PT_DOCID, e->docid);
    proto_put_text(&c->out, PT_RESULT, e->result);
    proto_put_bytes(&c->out, PT_MAC, e->mac, sizeof e->mac);
    send_content(c);
    return 0;
}

/* END for audit read and verify: the code and the whole report. */
static int end_audit(server_conn *c, int rc, const sv_store_audit_report *r)
{
    int64_t v[] = {r->verdict,    (int64_t)r->lines,    (int64_t)r->shown,
                   (int64_t)r->bad_line, r->first_time, r->last_time,
                   (int64_t)r->anchor_seq, (int64_t)r->repairs, (int64_t)r->rotations,
                   (int64_t)r->archives, (int64_t)r->archive_lines,
                   (int64_t)r->bad_archive_line, r->logged};
    proto_start(&c->out, PM_END);
    proto_put_i32(&c->out, PT_CODE, rc);
    if (rc != 0)
        proto_put_text(&c->out, PT_TEXT, last_error_or(rc));
    proto_put_numbers(&c->out, PT_NUMBERS, v, sizeof v / sizeof v[0]);
    proto_put_bytes(&c->out, PT_MAC, r->anchor_mac, sizeof r->anchor_mac);
    proto_put_text(&c->out, PT_NAME, r->bad_archive);
    server_send(c);
    return rc;
}

static int do_audit_read(server_conn *c, const proto_msg *m)
{
    char docid[SV_INDEX_DOCID_MAX + 1], action[SV_AUDIT_ACTION_MAX + 1];
    proto_str(m, PT_DOCID, docid, sizeof docid);
    proto_str(m, PT_ACTION, action, sizeof action);
    sv_store_audit_filter f = {.from = proto_i64(m, PT_SINCE),
                               .to = proto_i64(m, PT_UNTIL),
                               .docid = proto_has(m, PT_DOCID) ? docid : NULL,
                               .action = proto_has(m, PT_ACTION) ? action : NULL};
    sv_store_audit_report rep;
    int rc = sv_store_audit_read(c->view, &f, send_audit_line, c, &rep);
    return end_audit(c, rc, &rep);
}

static int do_audit_verify(server_conn *c, const proto_msg *m)
{
    sv_store_audit_verify_options o = {.anchor_seq = proto_u64(m, PT_ANCHOR_SEQ),
                                       .notable = proto_u8(m, PT_NOTABLE) ? send_audit_line
                                                                          : NULL,
                                       .ctx = c};
    size_t mac_len = 0;
    const uint8_t *mac = proto_bytes(m, PT_MAC, &mac_len);
    if (o.anchor_seq != 0 && mac == NULL)
        return fail(c, intake_fail(SV_EINVAL, "an anchor needs its MAC"));
    if (mac != NULL)
        memcpy(o.anchor_mac, mac, sizeof o.anchor_mac);
    sv_store_audit_report rep;
    int rc = sv_store_audit_verify(c->view, &o, &rep);
    return end_audit(c, rc, &rep);
}


static const request_rule request_rules[] = {
    {PM_FIND, "find", "find", ROLE_CLERK, do_find},
    {PM_GET, "get", "get", ROLE_CLERK, do_get},
    {PM_REVIEW_LIST, "review list", "review_list", ROLE_REVIEWER, do_review_list},
    {PM_REVIEW_SHOW, "review show", "review_show", ROLE_REVIEWER, do_review_show},
    {PM_REVIEW_ASSIGN, "review assign", "review_assign", ROLE_REVIEWER, do_review_decide},
    {PM_REVIEW_REJECT, "review reject", "review_reject", ROLE_REVIEWER, do_review_decide},
    {PM_REVIEW_REASSIGN, "review reassign", "review_reassign", ROLE_CLERK, do_review_decide},
    {PM_STATUS, "status", "status", ROLE_ADMIN, do_status},
    {PM_LIST, "list", "list", ROLE_ADMIN, do_list},
    {PM_STATS, "stats", "stats", ROLE_ADMIN, do_stats},
    {PM_VERIFY, "verify", "verify", ROLE_ADMIN, do_verify},
    {PM_AUDIT_READ, "audit", "audit_read", ROLE_ADMIN, do_audit_read},
    {PM_AUDIT_VERIFY, "audit verify", "audit_verify", ROLE_ADMIN, do_audit_verify},
    {PM_EXPORT, "export", "export", ROLE_ADMIN, server_export},
};

/* A word for an outcome the store did not audit. */
static const char *outcome_word(int rc)
{
    switch (rc) {
    case 0: return "ok";
    case SV_EINVAL: return "failed=invalid";
    case SV_ENOTFOUND: return "failed=not_found";
    case SV_EEXIST: return "failed=exists";
    case SV_ELIMIT: return "failed=limit";
    case SV_EAUTH: return "failed=damaged";
    default: return "failed=error";
    }
}

/* The roles that may ask, for the refusal: "the clerk or admin role". */
static void roles_from(server_role least, char *buf, size_t len)
{
    if (least == ROLE_ADMIN)
        snprintf(buf, len, "the admin role");
    else if (least == ROLE_CLERK)
        snprintf(buf, len, "the clerk or admin role");
    else
        snprintf(buf, len, "a reviewer, clerk or admin role");
}

void server_run_request(server_conn *c, const proto_msg *m)
{
    const request_rule *r = NULL;
    for (size_t i = 0; i < sizeof request_rules / sizeof request_rules[0] && r == NULL; i++)
        if (request_rules[i].type == m->type)
            r = &request_rules[i];
    if (r == NULL) {
        server_error(c, PROTO_ERR_PROTOCOL, SV_EFORMAT, "not a request");
        return;
    }
    intake_clear_error();
    c->is_started = false;
    c->bytes = 0;
    c->last_progress = 0;
    server_hold_store(c->srv, SV_SERVER_IO_TIMEOUT_S);
    sv_store *store = server_held_store(c->srv);
    c->rules = server_held_rules(c->srv);
    c->role = server_role_of(c->srv, c);
    char docid[SV_INDEX_DOCID_MAX + 1] = "";
    proto_str(m, PT_DOCID, docid, sizeof docid);
    const char *audit_docid = sv_docid_is_valid(docid) ? docid : NULL;
    if (store == NULL) {
        server_error(c, PROTO_ERR_UNAVAILABLE, SV_ETIMEOUT,
                     "the service is restarting its intake (configuration reload): try again "
                     "in a moment");
    } else if (sv_store_create_view(&c->view, store, c->uid, c->user) != 0) {
        server_error(c, PROTO_ERR_FAILED, SV_ENOMEM, "out of memory");
    } else if (c->role < r->role) {
        char who[48], result[64];
        roles_from(r->role, who, sizeof who);
        snprintf(result, sizeof result, "refused=%s role=%s",
                 c->role == ROLE_NONE ? "not_authorised" : "role", server_role_name(c->role));
        intake_audit(c->view, r->action, audit_docid, result);
        char text[160];
        snprintf(text, sizeof text, "%s needs %s; you are %s", r->verb, who,
                 c->role == ROLE_NONE ? "in no scanvault role group" : server_role_name(c->role));
        intake_log(SV_LOG_INFO, "uid %u (%s): %s refused (%s)", c->uid, c->user, r->verb,
                   server_role_name(c->role));
        server_error(c, PROTO_ERR_ROLE, SV_EPERM, text);
    } else {
        int rc = r->handle(c, m);
        if (sv_store_audit_count(c->view) == 0)
            intake_audit(c->view, r->action, audit_docid, outcome_word(rc));
    }
    sv_store_destroy(c->view);
    c->view = NULL;
    server_release(c->srv);
    /* The request may have carried an MRN; the reply a reviewer's view. */
    server_flush(c);
    proto_reader_wipe(&c->in);
    memset(c->out.buf, 0, c->out.len);
}
