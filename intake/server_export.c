/*
 * server_export.c - release of information through the service's socket
 * (docs/access.md). The service runs sv_store_export_to(): every check and
 * the one "export" audit line, as in direct mode, under the caller's name;
 * the documents go to the caller as EXPORT_DOC frames (docid, file type,
 * type, date, pages, size, sealed SHA-256), each followed by its DATA
 * frames, and the caller writes the directory (client_export.c). The
 * service never writes a decrypted byte to disk. Every document counts
 * against the caller's hourly cap, all of them before the first is sent.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "intake_internal.h"

#define PROGRESS_EVERY_S 0.25

typedef struct export_stream {
    server_conn *c;
    size_t n_docs;
    bool is_capped; /* refused by the hourly cap */
} export_stream;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int send_frame(server_conn *c)
{
    c->is_started = true;
    return server_send(c) == 0 ? 0 : SV_EERRNO;
}

/* Progress for the caller's terminal; a caller that hung up stops it. */
static int on_progress(sv_store_export_phase phase, size_t done, size_t total, void *ctx)
{
    export_stream *x = ctx;
    server_conn *c = x->c;
    double now = now_s();
    if (c->send_rc != 0)
        return 1;
    if (done < total && now - c->last_progress < PROGRESS_EVERY_S)
        return 0;
    c->last_progress = now;
    int64_t v[3] = {phase, (int64_t)done, (int64_t)total};
    proto_start(&c->out, PM_PROGRESS);
    proto_put_numbers(&c->out, PT_NUMBERS, v, 3);
    return send_frame(c) == 0 && server_flush(c) == 0 ? 0 : 1;
}

static int on_ready(size_t n_docs, uint64_t bytes, void *ctx)
{
    (void)bytes;
    export_stream *x = ctx;
    x->n_docs = n_docs;
    int rc = server_take_docs(x->c, n_docs);
    x->is_capped = rc == SV_ELIMIT;
    return rc;
}

static int on_begin(const sv_store_export_doc *d, void *ctx)
{
    server_conn *c = ((export_stream *)ctx)->c;
    proto_start(&c->out, PM_EXPORT_DOC);
    proto_put_str(&c->out, PT_DOCID, d->docid);
    proto_put_str(&c->out, PT_EXT, d->ext);
    proto_put_str(&c->out, PT_TYPE, d->type);
    proto_put_i64(&c->out, PT_INTAKE_TIME, d->intake_time);
    proto_put_u32(&c->out, PT_PAGES, d->pages);
    proto_put_u64(&c->out, PT_SIZE, d->size);
    proto_put_bytes(&c->out, PT_SHA256, d->sha256, sizeof d->sha256);
    return send_frame(c);
}

static int on_write(void *ctx, const uint8_t *buf, size_t len)
{
    return server_send_data(((export_stream *)ctx)->c, buf, len);
}

static int on_end(const sv_store_export_doc *d, void *ctx)
{
    (void)d;
    return ((export_stream *)ctx)->c->send_rc == 0 ? 0 : SV_EERRNO;
}

int server_export(server_conn *c, const proto_msg *m)
{
    char mrn[65], type[SV_INDEX_TYPE_MAX + 1];
    proto_str(m, PT_MRN, mrn, sizeof mrn);
    proto_str(m, PT_TYPE, type, sizeof type);
    sv_index_filter filter = {.type = type[0] != '\0' ? type : NULL,
                              .since = proto_i64(m, PT_SINCE),
                              .until = proto_i64(m, PT_UNTIL)};
    bool has_filter = filter.type != NULL || filter.since != 0 || filter.until != 0;
    export_stream x = {.c = c};
    sv_store_export_options opts = {.filter = has_filter ? &filter : NULL,
                                    .progress = on_progress,
                                    .progress_ctx = &x};
    sv_store_export_sink sink = {.ready = on_ready,
                                 .begin = on_begin,
                                 .write = on_write,
                                 .end = on_end,
                                 .ctx = &x};
    sv_store_export_summary summary;
    int rc = sv_store_export_to(c->view, c->rules, mrn, &opts, &sink, &summary);
    memset(mrn, 0, sizeof mrn);
    if (x.is_capped) {
        intake_log(SV_LOG_WARNING, "uid %u (%s): export refused: hourly retrieval cap reached",
                   c->uid, c->user);
        char result[64];
        snprintf(result, sizeof result, "refused=rate_limit docs=%zu", x.n_docs);
        intake_audit(c->view, "export", NULL, result);
        server_error(c, PROTO_ERR_RATE_LIMIT, rc, sv_intake_last_error());
        return rc;
    }
    if (rc != 0) {
        if (c->is_started) {
            proto_start(&c->out, PM_END);
            proto_put_i32(&c->out, PT_CODE, rc);
            proto_put_text(&c->out, PT_TEXT, sv_intake_last_error());
            server_send(c);
        } else {
            server_error(c, PROTO_ERR_FAILED, rc, sv_intake_last_error());
        }
        return rc;
    }
    proto_start(&c->out, PM_END);
    proto_put_i32(&c->out, PT_CODE, 0);
    proto_put_u64(&c->out, PT_COUNT, summary.docs);
    proto_put_u64(&c->out, PT_SIZE, summary.bytes);
    return server_send(c);
}
