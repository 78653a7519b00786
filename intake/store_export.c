/*
 * store_export.c - release of information: every filed document of one
 * patient, decrypted, into a new directory with a manifest, audited as one
 * action (docs/release-of-information.md). The command line calls
 * sv_store_export(); the service's socket calls sv_store_export_to(), the
 * same checks and audit with the documents streamed to its caller, who
 * writes the directory (store_export_dir.c does that for both).
 *
 * The order is what makes it safe:
 *   1. the MRN is checked and the directory must not exist (nothing is
 *      audited for a refused request: nothing was looked at);
 *   2. the patient's documents are listed from the index, and every object
 *      is authenticated in full (each chunk and the content hash) and its
 *      sealed record checked to be this patient's: a damaged object, or one
 *      the index lists under this patient but whose sealed record does not,
 *      stops the export before anything is written;
 *   3. the temp directory is made beside the target (a parent we may not
 *      write to stops here, unaudited), then one "export" audit line, before
 *      the first decrypted byte leaves;
 *   4. the documents are decrypted into the temp directory, each read back
 *      and hashed against its sealed SHA-256, the manifests written, every
 *      file and the directory fsync'ed;
 *   5. the temp directory is renamed to the target, never over an existing
 *      one, and the parent fsync'ed. A failure in 4 or 5 removes the temp
 *      directory and is audited with a second line.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "intake_internal.h"

#define EXPORT_MAGIC_LEN 8

typedef struct export_job {
    sv_store *store;
    const sv_store_export_options *opts;
    uint8_t blind[SV_BLIND_LEN];
    char blind_hex[2 * SV_BLIND_LEN + 1];
    sv_store_export_doc *docs;     /* only what the manifest needs: never the MRN
                                      or the scanner's file name */
    size_t n_docs;
    uint64_t bytes;
    size_t n_written;              /* documents handed over whole */
    bool is_interrupted;           /* the progress callback said stop */
} export_job;

/* The blind value of a typed MRN that passes the rules (as sv_store_find). */
static int blind_typed_mrn(export_job *job, const sv_ocr_rules *rules, const char *mrn)
{
    int rc = intake_blind_typed_mrn(job->store, rules, mrn, job->blind);
    if (rc == 0)
        intake_hex(job->blind, sizeof job->blind, job->blind_hex);
    return rc;
}

/* The patient's filed documents from the index, narrowed by the filter. */
static int list_documents(export_job *job)
{
    sv_index *ix = sv_store_index(job->store);
    const sv_index_filter *filter = job->opts != NULL ? job->opts->filter : NULL;
    size_t total = 0, got = 0;
    sv_index_hit *hits = NULL;
    int rc = sv_index_find(ix, job->blind, filter, NULL, 0, &total);
    if (rc == 0 && total > SV_STORE_EXPORT_MAX)
        return intake_fail(SV_ELIMIT,
                           "the patient has %zu documents, more than one export takes (%u): "
                           "export them in parts (by type or date)",
                           total, SV_STORE_EXPORT_MAX);
    if (rc == 0 && total > 0) {
        hits = calloc(total, sizeof *hits);
        job->docs = calloc(total, sizeof *job->docs);
        if (hits == NULL || job->docs == NULL) {
            rc = intake_fail(SV_ENOMEM, "out of memory listing %zu documents", total);
            goto out;
        }
        size_t again = 0;
        rc = sv_index_find(ix, job->blind, filter, hits, total, &again);
        /* A document filed in between is simply not exported. */
        got = again < total ? again : total;
    }
    if (rc != 0) {
        rc = intake_fail(rc, "%s", sv_index_last_error());
        goto out;
    }
    for (size_t i = 0; i < got; i++) {
        /* The docid becomes a file name: never trust the index with that. */
        if (!sv_docid_is_valid(hits[i].docid)) {
            rc = intake_fail(SV_EINDEX, "the index holds a malformed document id for this "
                                        "patient: nothing was exported; rebuild the index "
                                        "(scanvault reindex)");
            goto out;
        }
        memcpy(job->docs[i].docid, hits[i].docid, sizeof job->docs[i].docid);
    }
    job->n_docs = got;
out:
    free(hits);
    return rc;
}

/* The progress callback; non-zero stops the export as interrupted. */
static int report_progress(export_job *job, sv_store_export_phase phase, size_t done)
{
    if (job->opts == NULL || job->opts->progress == NULL)
        return 0;
    if (job->opts->progress(phase, done, job->n_docs, job->opts->progress_ctx) == 0)
        return 0;
    job->is_interrupted = true;
    errno = EINTR;
    return intake_fail(SV_EERRNO, "the export was interrupted%s",
                       phase == SV_STORE_EXPORT_CHECKING ? " before anything was written" : "");
}

/* Keeps the first bytes of a document, to name its file by format. */
typedef struct magic_capture {
    uint8_t bytes[EXPORT_MAGIC_LEN];
    size_t len;
} magic_capture;

static int capture_magic(void *ctx, const uint8_t *buf, size_t len)
{
    magic_capture *m = ctx;
    size_t want = sizeof m->bytes - m->len;
    if (want > len)
        want = len;
    memcpy(m->bytes + m->len, buf, want);
    m->len += want;
    return 0;
}

/* The file extension for these first bytes: the format, never the name the
 * scanner gave the file (it may carry a patient's name). */
static const char *extension_for(const uint8_t *b, size_t len)
{
    static const uint8_t png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (len >= 5 && memcmp(b, "%PDF-", 5) == 0)
        return "pdf";
    if (len >= 8 && memcmp(b, png, 8) == 0)
        return "png";
    if (len >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff)
        return "jpg";
    /* TIFF and BigTIFF, either byte order. */
    if (len >= 4 && ((b[0] == 'I' && b[1] == 'I' && (b[2] == 42 || b[2] == 43) && b[3] == 0) ||
                     (b[0] == 'M' && b[1] == 'M' && b[2] == 0 && (b[3] == 42 || b[3] == 43))))
        return "tif";
    return "bin";
}

static bool is_damage(int rc)
{
    return rc == SV_EAUTH || rc == SV_ETRUNC || rc == SV_EFORMAT || rc == SV_EKEY ||
           rc == SV_EVERSION;
}

/*
 * First pass over one document: authenticate the whole object and its
 * content hash, writing nothing, and check that its sealed record files it
 * under this patient (the index is a cache; the sealed record is the truth,
 * and exporting another patient's document is the one mistake this command
 * must not make).
 */
static int check_one(export_job *job, sv_store_export_doc *d, sv_vault_meta *meta)
{
    const sv_keyring *ring = sv_store_keyring(job->store);
    magic_capture magic = {.len = 0};
    int rc = sv_vault_open(sv_store_vault(job->store), ring, d->docid, capture_magic, &magic,
                           meta, SV_VAULT_CHECK_CONTENT);
    if (rc == SV_ENOTFOUND)
        return intake_fail(SV_EINDEX, "%s: the index lists it but the vault has no object: "
                                      "nothing was exported; run a verify of the vault",
                           d->docid);
    if (rc != 0)
        return intake_fail(rc, "%s: %s; nothing was exported", d->docid,
                           sv_crypto_last_error());
    uint8_t sealed_blind[SV_BLIND_LEN];
    bool is_same_patient = meta->state == SV_VAULT_FILED &&
                           sv_crypto_blind_mrn(ring, meta->mrn, sealed_blind) == 0 &&
                           memcmp(sealed_blind, job->blind, sizeof sealed_blind) == 0;
    memset(sealed_blind, 0, sizeof sealed_blind);
    if (!is_same_patient)
        return intake_fail(SV_EINDEX,
                           "%s: the index lists it under this patient but its sealed record "
                           "does not: nothing was exported; rebuild the index (scanvault reindex)",
                           d->docid);
    memcpy(d->type, meta->type, sizeof d->type);
    snprintf(d->ext, sizeof d->ext, "%s", extension_for(magic.bytes, magic.len));
    d->intake_time = meta->intake_time;
    d->pages = meta->pages;
    d->size = meta->size;
    memcpy(d->sha256, meta->sha256, sizeof d->sha256);
    memset(&magic, 0, sizeof magic);
    return 0;
}

static int check_all(export_job *job)
{
    sv_vault_meta *meta = calloc(1, sizeof *meta);
    if (meta == NULL)
        return intake_fail(SV_ENOMEM, "out of memory");
    int rc = 0;
    for (size_t i = 0; i < job->n_docs && rc == 0; i++) {
        if ((rc = report_progress(job, SV_STORE_EXPORT_CHECKING, i)) != 0)
            break;
        rc = check_one(job, &job->docs[i], meta);
        sv_vault_meta_wipe(meta);
        if (rc != 0 && rc != SV_EINDEX) {
            /* A damaged object is audited like a refused `get`: someone may
             * be tampering with this patient's documents. */
            char result[128];
            snprintf(result, sizeof result, "refused=%s blind=%s",
                     is_damage(rc) ? "damaged" : "unreadable", job->blind_hex);
            intake_audit(job->store, "export", job->docs[i].docid, result);
        }
        if (rc == 0)
            job->bytes += job->docs[i].size;
    }
    if (rc == 0)
        rc = report_progress(job, SV_STORE_EXPORT_CHECKING, job->n_docs);
    free(meta);
    return rc;
}

/* Stream every document to the sink, after the audit line. */
static int hand_over_all(export_job *job, const sv_store_export_sink *sink)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < job->n_docs; i++) {
        const sv_store_export_doc *d = &job->docs[i];
        if ((rc = report_progress(job, SV_STORE_EXPORT_WRITING, i)) != 0 ||
            (rc = sink->begin(d, sink->ctx)) != 0)
            break;
        rc = sv_vault_open(sv_store_vault(job->store), sv_store_keyring(job->store), d->docid,
                           sink->write, sink->ctx, NULL, 0);
        if (rc != 0) {
            if (is_damage(rc))
                return intake_fail(rc, "%s: writing the document failed: %s", d->docid,
                                   sv_crypto_last_error());
            /* The sink's own message, when it stopped the write, says more. */
            if (sv_intake_last_error()[0] == '\0')
                intake_fail(rc, "%s: writing the document failed", d->docid);
            return rc;
        }
        if ((rc = sink->end(d, sink->ctx)) == 0)
            job->n_written++;
    }
    if (rc == 0 && (rc = report_progress(job, SV_STORE_EXPORT_WRITING, job->n_docs)) == 0 &&
        sink->finish != NULL)
        rc = sink->finish(sink->ctx);
    return rc;
}

int sv_store_export_to(sv_store *store, const sv_ocr_rules *rules, const char *mrn,
                       const sv_store_export_options *opts, const sv_store_export_sink *sink,
                       sv_store_export_summary *summary)
{
    intake_clear_error();
    memset(summary, 0, sizeof *summary);
    export_job *job = calloc(1, sizeof *job);
    if (job == NULL)
        return intake_fail(SV_ENOMEM, "out of memory");
    job->store = store;
    job->opts = opts;
    int rc, lock_fd = -1;
    /* No review decision may move a document between the check of its
     * patient and its release: the decisions wait for the export. */
    if ((rc = blind_typed_mrn(job, rules, mrn)) != 0 ||
        (rc = intake_lock_decisions(sv_store_data_dir(store), &lock_fd)) != 0 ||
        (rc = intake_store_index_is_current(store)) != 0 || (rc = list_documents(job)) != 0 ||
        (rc = check_all(job)) != 0)
        goto out;
    /* The sink gets ready before the audit line: a target it cannot write
     * to is refused without claiming a release. */
    if (sink->ready != NULL && (rc = sink->ready(job->n_docs, job->bytes, sink->ctx)) != 0)
        goto out;
    char result[128];
    snprintf(result, sizeof result, "docs=%zu bytes=%" PRIu64 " blind=%s", job->n_docs,
             job->bytes, job->blind_hex);
    if ((rc = intake_audit(store, "export", NULL, result)) != 0) {
        rc = intake_fail(rc, "the export could not be audited, so nothing is written: %s",
                         sv_crypto_last_error());
        goto out;
    }
    if (job->n_docs == 0) {
        rc = intake_fail(SV_ENOTFOUND, "no filed documents for this MRN%s: nothing was "
                                       "written (check the MRN with 'scanvault find')",
                         opts != NULL && opts->filter != NULL ? " with these filters" : "");
        goto out;
    }
    if ((rc = hand_over_all(job, sink)) != 0) {
        int saved_errno = errno;
        const char *why = job->is_interrupted ? "interrupted" : is_damage(rc) ? "damaged"
                                                                              : "write";
        snprintf(result, sizeof result, "failed=%s docs_written=%zu", why, job->n_written);
        char message[512];
        snprintf(message, sizeof message, "%s", sv_intake_last_error());
        intake_audit(store, "export", NULL, result);
        intake_fail(rc, "%s", message);
        errno = saved_errno;
        goto out;
    }
    summary->docs = job->n_written;
    summary->bytes = job->bytes;
out:
    if (lock_fd >= 0)
        close(lock_fd);
    memset(job->blind, 0, sizeof job->blind);
    memset(job->blind_hex, 0, sizeof job->blind_hex);
    free(job->docs);
    free(job);
    return rc;
}

/* ---- sv_store_export: the directory written here ------------------------- */

static int dir_ready(size_t n_docs, uint64_t bytes, void *ctx)
{
    (void)bytes;
    return n_docs > 0 ? export_dir_make_temp(ctx) : 0;
}

static int dir_begin(const sv_store_export_doc *d, void *ctx) { return export_dir_begin(ctx, d); }

static int dir_end(const sv_store_export_doc *d, void *ctx)
{
    (void)d;
    return export_dir_end(ctx);
}

static int dir_finish(void *ctx) { return export_dir_finish(ctx); }

int sv_store_export(sv_store *store, const sv_ocr_rules *rules, const char *mrn,
                    const char *out_dir, const sv_store_export_options *opts,
                    sv_store_export_summary *summary)
{
    intake_clear_error();
    memset(summary, 0, sizeof *summary);
    uint8_t blind[SV_BLIND_LEN];
    /* A bad MRN is the first thing to hear about, before the directory. */
    int rc = intake_blind_typed_mrn(store, rules, mrn, blind);
    memset(blind, 0, sizeof blind);
    if (rc != 0)
        return rc;
    export_dir *dir = NULL;
    if ((rc = export_dir_open(&dir, out_dir)) != 0)
        return rc;
    sv_store_export_sink sink = {.ready = dir_ready,
                                 .begin = dir_begin,
                                 .write = export_dir_write,
                                 .end = dir_end,
                                 .finish = dir_finish,
                                 .ctx = dir};
    rc = sv_store_export_to(store, rules, mrn, opts, &sink, summary);
    export_dir_close(dir, rc);
    return rc;
}
