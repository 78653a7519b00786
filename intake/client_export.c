/*
 * client_export.c - release of information through the service: the
 * service checks, audits and streams the documents (server_export.c); this
 * process writes the new directory with the same writer direct mode uses
 * (store_export_dir.c), each file hashed against the SHA-256 sealed in the
 * vault, which the service sends with each document.
 *
 * The temp directory is made before the request, so a directory the caller
 * cannot write to is refused before the service audits a release. A caller
 * that stops (Ctrl-C: progress returns non-zero) hangs up; the service then
 * audits the release as failed with the documents it had sent.
 */
#include <errno.h>
#include <string.h>

#include "intake_internal.h"

/* What an EXPORT_DOC frame announces. */
static void export_doc_of(const proto_msg *m, sv_store_export_doc *d)
{
    memset(d, 0, sizeof *d);
    proto_str(m, PT_DOCID, d->docid, sizeof d->docid);
    proto_str(m, PT_EXT, d->ext, sizeof d->ext);
    proto_str(m, PT_TYPE, d->type, sizeof d->type);
    d->intake_time = proto_i64(m, PT_INTAKE_TIME);
    d->pages = proto_u32(m, PT_PAGES);
    d->size = proto_u64(m, PT_SIZE);
    size_t len = 0;
    const uint8_t *sha = proto_bytes(m, PT_SHA256, &len);
    if (sha != NULL && len == sizeof d->sha256)
        memcpy(d->sha256, sha, sizeof d->sha256);
}

/* Read the answer into dir, up to its END. */
static int receive_export(sv_client *c, export_dir *dir, const sv_store_export_options *opts,
                          sv_store_export_summary *summary)
{
    bool is_in_doc = false;
    proto_msg m;
    int rc = client_send(c);
    while (rc == 0 && (rc = client_next(c, &m)) == 0) {
        if (m.type == PM_PROGRESS) {
            int64_t v[3] = {0};
            proto_numbers(&m, PT_NUMBERS, v, 3);
            if (opts != NULL && opts->progress != NULL &&
                opts->progress((sv_store_export_phase)v[0], (size_t)v[1], (size_t)v[2],
                               opts->progress_ctx) != 0) {
                client_hang_up(c);
                errno = EINTR;
                return intake_fail(SV_EERRNO, "the export was interrupted%s",
                                   v[0] == SV_STORE_EXPORT_CHECKING
                                       ? " before anything was written"
                                       : "");
            }
            continue;
        }
        if (m.type == PM_DATA && is_in_doc) {
            size_t len = 0;
            const uint8_t *p = proto_bytes(&m, PT_BYTES, &len);
            rc = export_dir_write(dir, p, len);
            continue;
        }
        if ((m.type == PM_EXPORT_DOC || m.type == PM_END) && is_in_doc) {
            is_in_doc = false;
            if ((rc = export_dir_end(dir)) != 0)
                break;
        }
        if (m.type == PM_EXPORT_DOC) {
            sv_store_export_doc d;
            export_doc_of(&m, &d);
            if ((rc = export_dir_begin(dir, &d)) == 0)
                is_in_doc = true;
        } else if (m.type == PM_END) {
            if ((rc = client_ended(&m)) != 0)
                return rc;
            if ((rc = export_dir_finish(dir)) != 0)
                break;
            summary->docs = (size_t)proto_u64(&m, PT_COUNT);
            summary->bytes = proto_u64(&m, PT_SIZE);
            if (summary->docs != export_dir_written(dir))
                rc = intake_fail(SV_ETRUNC, "the service announced %zu documents and sent %zu",
                                 summary->docs, export_dir_written(dir));
            return rc;
        } else if (m.type == PM_ERROR) {
            return client_refused(&m);
        } else {
            return client_unexpected(c, &m);
        }
    }
    client_hang_up(c); /* a local failure: the service sees the export fail */
    return rc;
}

int sv_client_export(sv_client *c, const char *mrn, const char *out_dir,
                     const sv_store_export_options *opts, sv_store_export_summary *summary)
{
    intake_clear_error();
    memset(summary, 0, sizeof *summary);
    export_dir *dir = NULL;
    int rc = export_dir_open(&dir, out_dir);
    if (rc != 0)
        return rc;
    if ((rc = export_dir_make_temp(dir)) == 0) {
        const sv_index_filter *f = opts != NULL ? opts->filter : NULL;
        proto_start(&c->out, PM_EXPORT);
        proto_put_str(&c->out, PT_MRN, mrn);
        if (f != NULL && f->type != NULL && f->type[0] != '\0')
            proto_put_str(&c->out, PT_TYPE, f->type);
        if (f != NULL && f->since != 0)
            proto_put_i64(&c->out, PT_SINCE, f->since);
        if (f != NULL && f->until != 0)
            proto_put_i64(&c->out, PT_UNTIL, f->until);
        rc = receive_export(c, dir, opts, summary);
        memset(c->out.buf, 0, c->out.len); /* the MRN */
    }
    if (rc != 0)
        memset(summary, 0, sizeof *summary);
    export_dir_close(dir, rc);
    return rc;
}
