/*
 * pipeline_steps.c - the steps one document goes through, one function per
 * step, called in this order: claim, identify, read (OCR worker), decide,
 * seal, commit, audit, release.
 *
 * The order is what makes a crash harmless: the vault object is durable
 * before the index commit, the commit is durable before the audit line, and
 * the claimed file goes last. Every step after the claim can run again under
 * the same docid: sealing replaces the object of that docid, and the commit
 * finds its own content id already indexed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pipeline_internal.h"

/* ---- finishing a document ---------------------------------------------- */

static bool is_copy(const pipeline_doc *d) { return d->path != NULL && !(d->flags & SV_PIPELINE_MOVE); }

/* Report the document and free it. */
static void finish(sv_pipeline *p, pipeline_doc *d)
{
    d->rep.ms.total = pipeline_now_ms() - d->started;
    p->report(&d->rep, p->report_ctx);
    pipeline_free_doc(d);
}

/* The document failed before it was indexed: say where it is now. A copy is
 * dropped from the spool (its source is still in place); a moved or
 * recovered document stays in the spool for the next start. */
static void fail_before_commit(sv_pipeline *p, pipeline_doc *d, int code, const char *why)
{
    d->rep.status = SV_PIPELINE_FAILED;
    d->rep.error = code;
    bool is_claimed = d->claimed_fd >= 0;
    if (is_claimed && is_copy(d))
        claim_release(p->spool_dfd, d->rep.docid);
    const char *where = is_copy(d)     ? "nothing was filed and the file is where it was"
                        : is_claimed   ? "it stays in the spool and the next start files it"
                        : d->path != NULL ? "nothing was filed; the file is still in the inbox "
                                            "(or, if it was moved before the failure, in the "
                                            "spool, and the next start files it)"
                                       : "it stays in the spool and the next start files it";
    snprintf(d->rep.message, sizeof d->rep.message, "%s; %s", why, where);
    finish(p, d);
}

/* After the commit: the document is filed; what is left is bookkeeping. */
static void fail_after_commit(sv_pipeline *p, pipeline_doc *d, int code, const char *why)
{
    d->rep.status = SV_PIPELINE_FAILED;
    d->rep.error = code;
    snprintf(d->rep.message, sizeof d->rep.message,
             "%s; the document is filed, and stays in the spool until the next start "
             "completes its audit line",
             why);
    finish(p, d);
}

/* audit, then release: the last two steps of every document. */
static void audit_and_release(sv_pipeline *p, pipeline_doc *d, const char *result)
{
    double t = pipeline_now_ms();
    int rc = sv_audit_append(sv_store_audit(p->store), "ingest", d->rep.docid, result);
    d->rep.ms.audit = pipeline_now_ms() - t;
    if (rc != 0) {
        fail_after_commit(p, d, rc, sv_crypto_last_error());
        return;
    }
    t = pipeline_now_ms();
    close(d->claimed_fd);
    d->claimed_fd = -1;
    claim_release(p->spool_dfd, d->rep.docid);
    d->rep.ms.release = pipeline_now_ms() - t;
    finish(p, d);
}

static void finish_duplicate(sv_pipeline *p, pipeline_doc *d, const char *existing)
{
    d->rep.status = SV_PIPELINE_DUPLICATE;
    snprintf(d->rep.existing_docid, sizeof d->rep.existing_docid, "%s", existing);
    char result[SV_AUDIT_RESULT_MAX + 1];
    snprintf(result, sizeof result, "duplicate of=%s", existing);
    audit_and_release(p, d, result);
}

static void audit_result(const pipeline_doc *d, char *buf, size_t len)
{
    if (d->rep.status == SV_PIPELINE_FILED)
        snprintf(buf, len, "filed type=%s pages=%d%s", d->rep.type, d->rep.pages,
                 d->rep.is_recovered ? " recovered" : "");
    else
        snprintf(buf, len, "%s reason=%s type=%s pages=%d%s",
                 sv_pipeline_status_name(d->rep.status), d->rep.reason, d->rep.type,
                 d->rep.pages, d->rep.is_recovered ? " recovered" : "");
}

/* A recovered document that an earlier run had already committed. */
static void finish_already_indexed(sv_pipeline *p, pipeline_doc *d)
{
    sv_index_record rec;
    int rc = sv_index_get(sv_store_index(p->store), d->rep.docid, &rec);
    if (rc != 0) {
        fail_after_commit(p, d, rc, sv_index_last_error());
        return;
    }
    d->rep.status = (sv_pipeline_status)rec.state;
    snprintf(d->rep.reason, sizeof d->rep.reason, "%s", rec.reason);
    snprintf(d->rep.type, sizeof d->rep.type, "%s", rec.type);
    d->rep.pages = (int)rec.pages;
    char result[SV_AUDIT_RESULT_MAX + 1];
    audit_result(d, result, sizeof result);
    audit_and_release(p, d, result);
}

/* ---- claim and identify ------------------------------------------------ */

static int claim_step(sv_pipeline *p, pipeline_doc *d)
{
    double t = pipeline_now_ms();
    int rc;
    if (d->path != NULL) {
        if ((rc = sv_docid_generate(p->docid_prefix, d->rep.docid)) != 0)
            return intake_fail(rc, "%s", sv_crypto_last_error());
        d->intake_time = (int64_t)time(NULL);
        const char *slash = strrchr(d->path, '/');
        snprintf(d->original_name, sizeof d->original_name, "%s",
                 slash != NULL ? slash + 1 : d->path);
        rc = claim_document(p->spool_dfd, sv_store_keyring(p->store), d->path,
                            (d->flags & SV_PIPELINE_MOVE) != 0, d->rep.docid, d->intake_time);
        if (rc != 0)
            return rc;
    }
    d->claimed_fd = openat(p->spool_dfd, d->rep.docid, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (d->claimed_fd < 0)
        return intake_fail(SV_EERRNO, "%s: cannot open the claimed file: %s", d->rep.docid,
                           strerror(errno));
    d->rep.ms.claim = pipeline_now_ms() - t;
    return 0;
}

/* The docid of an in-flight document with this content, or NULL. */
static const char *inflight_with_content(const sv_pipeline *p, const uint8_t *content_id)
{
    for (size_t i = 0; i < SV_WORKERS_MAX; i++)
        if (p->inflight[i] != NULL &&
            memcmp(p->inflight[i]->content_id, content_id, SV_CONTENT_ID_LEN) == 0)
            return p->inflight[i]->rep.docid;
    return NULL;
}

/* SHA-256 and content id; "" in existing, or who already has the content. */
static int identify_step(sv_pipeline *p, pipeline_doc *d, char existing[SV_INDEX_DOCID_MAX + 1])
{
    double t = pipeline_now_ms();
    existing[0] = '\0';
    if (lseek(d->claimed_fd, 0, SEEK_SET) != 0)
        return intake_fail(SV_EERRNO, "%s: cannot read the claimed file: %s", d->rep.docid,
                           strerror(errno));
    int rc = sv_crypto_sha256_fd(d->claimed_fd, d->sha256, &d->rep.size);
    if (rc != 0)
        return intake_fail(rc, "%s: cannot read the claimed file: %s", d->rep.docid,
                           sv_crypto_last_error());
    if ((rc = sv_crypto_content_id(sv_store_keyring(p->store), d->sha256, d->content_id)) != 0)
        return intake_fail(rc, "%s", sv_crypto_last_error());
    rc = sv_index_lookup_content(sv_store_index(p->store), d->content_id, existing);
    if (rc == SV_ENOTFOUND) {
        const char *twin = inflight_with_content(p, d->content_id);
        if (twin != NULL)
            snprintf(existing, SV_INDEX_DOCID_MAX + 1, "%s", twin);
        rc = 0;
    } else if (rc != 0) {
        rc = intake_fail(rc, "%s", sv_index_last_error());
    }
    d->rep.ms.identify = pipeline_now_ms() - t;
    return rc;
}

/* Hand the claimed file to an idle worker (a descriptor of its own, so the
 * worker's reads do not move our offset). */
static int read_step(sv_pipeline *p, pipeline_doc *d)
{
    size_t slot = 0;
    while (slot < SV_WORKERS_MAX && p->inflight[slot] != NULL)
        slot++;
    if (slot == SV_WORKERS_MAX)
        return intake_fail(SV_EINVAL, "no free worker slot");
    int fd = openat(p->spool_dfd, d->rep.docid, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return intake_fail(SV_EERRNO, "%s: cannot open the claimed file: %s", d->rep.docid,
                           strerror(errno));
    int rc = sv_workers_submit(p->workers, fd, slot);
    close(fd);
    if (rc != 0)
        return intake_fail(rc, "%s: no OCR worker took the document", d->rep.docid);
    d->submitted = pipeline_now_ms();
    p->inflight[slot] = d;
    p->n_inflight++;
    return 0;
}

/* Claim, identify and submit one queued document. Finished documents
 * (failures, duplicates, recovered ones already indexed) are reported. */
void pipeline_start_document(sv_pipeline *p, pipeline_doc *d)
{
    d->started = pipeline_now_ms();
    d->rep.ms.wait = d->queued > 0 ? d->started - d->queued : 0;
    int rc = claim_step(p, d);
    if (rc != 0) {
        fail_before_commit(p, d, rc, sv_intake_last_error());
        return;
    }
    char existing[SV_INDEX_DOCID_MAX + 1];
    if ((rc = identify_step(p, d, existing)) != 0) {
        fail_before_commit(p, d, rc, sv_intake_last_error());
        return;
    }
    if (existing[0] != '\0' && strcmp(existing, d->rep.docid) == 0) {
        finish_already_indexed(p, d);
        return;
    }
    if (existing[0] != '\0') {
        finish_duplicate(p, d, existing);
        return;
    }
    if ((rc = read_step(p, d)) != 0)
        fail_before_commit(p, d, rc, sv_intake_last_error());
}

/* ---- decide, seal, commit ---------------------------------------------- */

static const char *source_name(sv_ocr_source s)
{
    return s == SV_SOURCE_LABEL_RIGHT ? "label" : s == SV_SOURCE_LABEL_BELOW ? "table" : "barcode";
}

/* The OCR summary sealed in the object: what a reviewer needs to see. */
static void write_summary(const sv_ocr_result *r, char *buf, size_t len)
{
    size_t used = 0;
    int n = snprintf(buf, len, "verdict=%s reason=%s type_confidence=%.2f candidates=%zu",
                     sv_ocr_status_name(r->status), sv_ocr_reason_code(r->reason),
                     (double)r->type_confidence, r->n_candidates);
    used = n > 0 ? (size_t)n : 0;
    for (size_t i = 0; i < r->n_candidates && i < SV_OCR_MAX_CANDIDATES && used < len; i++) {
        const sv_ocr_candidate *c = &r->candidates[i];
        n = snprintf(buf + used, len - used,
                     "\ncandidate=%s source=%s page=%d min_char_conf=%.0f second_read=%s "
                     "handwritten=%s problem=%s",
                     c->digits, source_name(c->source), c->page, (double)c->min_char_conf,
                     c->second_read_agrees ? "agrees" : "no", c->is_handwritten ? "yes" : "no",
                     sv_ocr_reason_code(c->problem));
        used += n > 0 ? (size_t)n : 0;
    }
}

/* The worker's verdict (already re-checked by the pool) as the sealed
 * metadata and the report. */
static void decide_step(pipeline_doc *d, const sv_ocr_result *r, sv_vault_meta *meta)
{
    memset(meta, 0, sizeof *meta);
    memcpy(meta->docid, d->rep.docid, sizeof meta->docid);
    if (r->status == SV_OCR_INDEX) {
        meta->state = SV_VAULT_FILED;
        d->rep.status = SV_PIPELINE_FILED;
        snprintf(meta->mrn, sizeof meta->mrn, "%s", r->mrn);
    } else {
        meta->state = r->status == SV_OCR_REVIEW ? SV_VAULT_REVIEW : SV_VAULT_QUARANTINED;
        d->rep.status = r->status == SV_OCR_REVIEW ? SV_PIPELINE_REVIEW : SV_PIPELINE_QUARANTINED;
        snprintf(meta->reason, sizeof meta->reason, "%s", sv_ocr_reason_code(r->reason));
        snprintf(d->rep.reason, sizeof d->rep.reason, "%s", meta->reason);
    }
    snprintf(meta->type, sizeof meta->type, "%s", r->type[0] != '\0' ? r->type : "other");
    snprintf(d->rep.type, sizeof d->rep.type, "%s", meta->type);
    memcpy(meta->original_name, d->original_name, sizeof meta->original_name);
    meta->intake_time = d->intake_time;
    meta->pages = r->pages > 0 ? (uint32_t)r->pages : 0;
    d->rep.pages = r->pages > 0 ? r->pages : 0;
    meta->size = d->rep.size;
    memcpy(meta->sha256, d->sha256, sizeof meta->sha256);
    write_summary(r, meta->ocr_summary, sizeof meta->ocr_summary);
}

static int seal_step(sv_pipeline *p, pipeline_doc *d, const sv_vault_meta *meta)
{
    double t = pipeline_now_ms();
    if (lseek(d->claimed_fd, 0, SEEK_SET) != 0)
        return intake_fail(SV_EERRNO, "%s: cannot read the claimed file: %s", d->rep.docid,
                           strerror(errno));
    /* Replace: a run that crashed after sealing left an object of this
     * docid that the index never saw. */
    sv_vault_seal_opts o = {.replace = true};
    int rc = sv_vault_seal_fd(sv_store_vault(p->store), sv_store_keyring(p->store),
                              d->claimed_fd, meta, &o);
    d->rep.ms.seal = pipeline_now_ms() - t;
    if (rc != 0)
        return intake_fail(rc, "%s: cannot seal the vault object: %s", d->rep.docid,
                           sv_crypto_last_error());
    return 0;
}

static void remove_object(sv_pipeline *p, const char *docid)
{
    char path[SV_INTAKE_PATH_MAX];
    if (sv_vault_object_path(sv_store_vault(p->store), docid, path, sizeof path) == 0)
        unlink(path);
}

/* One synchronous index transaction. existing: as identify_step. */
static int commit_step(sv_pipeline *p, pipeline_doc *d, const sv_vault_meta *meta,
                       char existing[SV_INDEX_DOCID_MAX + 1])
{
    double t = pipeline_now_ms();
    sv_index_record rec;
    memset(&rec, 0, sizeof rec);
    rec.state = (sv_index_state)meta->state;
    memcpy(rec.type, meta->type, sizeof rec.type);
    rec.intake_time = meta->intake_time;
    rec.pages = meta->pages;
    rec.size = meta->size;
    memcpy(rec.content_id, d->content_id, sizeof rec.content_id);
    memcpy(rec.reason, meta->reason, sizeof rec.reason);
    int rc = 0;
    if (meta->state == SV_VAULT_FILED)
        rc = sv_crypto_blind_mrn(sv_store_keyring(p->store), meta->mrn, rec.blind_mrn);
    if (rc != 0)
        rc = intake_fail(rc, "%s: %s", d->rep.docid, sv_crypto_last_error());
    else if ((rc = sv_index_put(sv_store_index(p->store), d->rep.docid, &rec, existing)) != 0 &&
             rc != SV_EEXIST)
        rc = intake_fail(rc, "%s", sv_index_last_error());
    memset(rec.blind_mrn, 0, sizeof rec.blind_mrn);
    d->rep.ms.commit = pipeline_now_ms() - t;
    return rc;
}

/* A worker finished d: decide, seal, commit, audit, release. */
void pipeline_file_document(sv_pipeline *p, pipeline_doc *d, const sv_ocr_result *r)
{
    d->rep.ms.ocr = pipeline_now_ms() - d->submitted;
    sv_vault_meta *meta = calloc(1, sizeof *meta);
    if (meta == NULL) {
        fail_before_commit(p, d, SV_ENOMEM, "out of memory");
        return;
    }
    decide_step(d, r, meta);
    char existing[SV_INDEX_DOCID_MAX + 1] = "";
    int rc = seal_step(p, d, meta);
    if (rc == 0) {
        rc = commit_step(p, d, meta, existing);
        if (rc != 0 && !(rc == SV_EEXIST && strcmp(existing, d->rep.docid) == 0))
            remove_object(p, d->rep.docid); /* nothing half-filed */
        if (rc == SV_EEXIST && strcmp(existing, d->rep.docid) == 0)
            rc = 0;
    }
    sv_vault_meta_wipe(meta);
    free(meta);
    if (rc == SV_EEXIST) {
        finish_duplicate(p, d, existing);
    } else if (rc != 0) {
        fail_before_commit(p, d, rc, sv_intake_last_error());
    } else {
        char result[SV_AUDIT_RESULT_MAX + 1];
        audit_result(d, result, sizeof result);
        audit_and_release(p, d, result);
    }
}
