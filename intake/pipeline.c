/*
 * pipeline.c - the filing pipeline's life cycle: set-up and the spool lock,
 * the queue, driving documents through the steps (pipeline_steps.c) as
 * workers free up, and recovery of what a crash left in the spool
 * (sv_intake.h has the contract, DESIGN.md section 1 the why).
 *
 * The order is what makes a crash harmless: the vault object is durable
 * before the index commit, the commit is durable before the audit line, and
 * the claimed file goes last. Every step after the claim can run again under
 * the same docid: sealing replaces the object of that docid, and the commit
 * finds its own content id already indexed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "pipeline_internal.h"

double pipeline_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

const char *sv_pipeline_status_name(sv_pipeline_status status)
{
    switch (status) {
    case SV_PIPELINE_FILED: return "filed";
    case SV_PIPELINE_REVIEW: return "review";
    case SV_PIPELINE_QUARANTINED: return "quarantined";
    case SV_PIPELINE_DUPLICATE: return "duplicate";
    case SV_PIPELINE_FAILED: return "failed";
    }
    return "?";
}

sv_store *sv_pipeline_store(sv_pipeline *p) { return p->store; }

size_t sv_pipeline_pending(const sv_pipeline *p) { return p->n_queued + p->n_inflight; }

/* ---- set-up ------------------------------------------------------------ */

static int lock_spool(sv_pipeline *p, const char *data_dir)
{
    int rc = intake_lock_data_dir(data_dir, "another scanvault run or ingest; wait for it, or "
                                            "drop the files into the service's inbox",
                                  &p->lock_fd);
    if (rc != 0)
        return rc;
    char path[SV_INTAKE_PATH_MAX];
    if (intake_path(path, sizeof path, data_dir, "spool/claimed") != 0)
        return SV_ELIMIT;
    p->spool_dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (p->spool_dfd < 0)
        return intake_fail(SV_EERRNO, "cannot open %s: %s", path, strerror(errno));
    return 0;
}

int sv_pipeline_create(sv_pipeline **out, const sv_pipeline_options *opts)
{
    intake_clear_error();
    *out = NULL;
    if (opts == NULL || opts->rules == NULL || opts->report == NULL || opts->data_dir == NULL)
        return intake_fail(SV_EINVAL, "pipeline: missing options");
    size_t prefix_len = opts->docid_prefix == NULL ? 0 : strlen(opts->docid_prefix);
    if (prefix_len > SV_INTAKE_PREFIX_MAX)
        return intake_fail(SV_EINVAL, "docid prefix longer than %d", SV_INTAKE_PREFIX_MAX);
    sv_pipeline *p = calloc(1, sizeof *p);
    if (p == NULL)
        return intake_fail(SV_ENOMEM, "out of memory");
    p->spool_dfd = p->lock_fd = -1;
    p->rules = opts->rules;
    p->report = opts->report;
    p->report_ctx = opts->report_ctx;
    if (prefix_len > 0)
        memcpy(p->docid_prefix, opts->docid_prefix, prefix_len + 1);
    /* Workers first: a start-up failure then costs no key load. (They are
     * separate programs that never hold the key, whenever they start.) */
    sv_workers_options wo = {.worker_path = opts->worker_path,
                             .rules = opts->rules,
                             .n_workers = opts->n_workers};
    int rc = sv_workers_create(&p->workers, &wo); /* sets the message */
    if (rc != 0)
        goto out;
    /* The lock before the store: a second pipeline in this process must not
     * open the index a second time (LMDB forbids it). */
    if ((rc = lock_spool(p, opts->data_dir)) != 0)
        goto out;
    sv_store_options so = {.data_dir = opts->data_dir, .key_file = opts->key_file};
    rc = sv_store_create(&p->store, &so);
out:
    if (rc != 0) {
        sv_pipeline_destroy(p);
        return rc;
    }
    *out = p;
    return 0;
}

void pipeline_free_doc(pipeline_doc *d)
{
    if (d == NULL)
        return;
    if (d->claimed_fd >= 0)
        close(d->claimed_fd);
    free(d->path);
    memset(d, 0, sizeof *d); /* the original name */
    free(d);
}

void sv_pipeline_destroy(sv_pipeline *p)
{
    if (p == NULL)
        return;
    sv_workers_destroy(p->workers);
    for (size_t i = 0; i < SV_WORKERS_MAX; i++)
        pipeline_free_doc(p->inflight[i]);
    while (p->queue_head != NULL) {
        pipeline_doc *d = p->queue_head;
        p->queue_head = d->next;
        pipeline_free_doc(d);
    }
    if (p->spool_dfd >= 0)
        close(p->spool_dfd);
    if (p->lock_fd >= 0)
        close(p->lock_fd);
    sv_store_destroy(p->store);
    free(p);
}

/* ---- the queue --------------------------------------------------------- */

static pipeline_doc *new_doc(uint64_t tag)
{
    pipeline_doc *d = calloc(1, sizeof *d);
    if (d == NULL)
        return NULL;
    d->claimed_fd = -1;
    d->rep.tag = tag;
    return d;
}

static void push_doc(sv_pipeline *p, pipeline_doc *d)
{
    if (p->queue_tail != NULL)
        p->queue_tail->next = d;
    else
        p->queue_head = d;
    p->queue_tail = d;
    p->n_queued++;
}

int sv_pipeline_enqueue(sv_pipeline *p, const char *path, unsigned flags, uint64_t tag)
{
    intake_clear_error();
    pipeline_doc *d = new_doc(tag);
    if (d == NULL || (d->path = strdup(path)) == NULL) {
        free(d);
        return intake_fail(SV_ENOMEM, "out of memory");
    }
    d->flags = flags;
    d->queued = pipeline_now_ms();
    push_doc(p, d);
    return 0;
}

/* ---- driving it -------------------------------------------------------- */

static void start_queued(sv_pipeline *p)
{
    while (p->queue_head != NULL && sv_workers_idle(p->workers) > 0) {
        pipeline_doc *d = p->queue_head;
        p->queue_head = d->next;
        if (p->queue_head == NULL)
            p->queue_tail = NULL;
        d->next = NULL;
        p->n_queued--;
        pipeline_start_document(p, d);
    }
}

int sv_pipeline_step(sv_pipeline *p, int timeout_ms)
{
    intake_clear_error();
    start_queued(p);
    if (p->n_inflight == 0) {
        if (p->n_queued > 0 && sv_workers_idle(p->workers) == 0)
            return intake_fail(SV_EWORKER, "no OCR worker is running");
        return 0;
    }
    uint64_t tag = 0;
    sv_ocr_result *r = calloc(1, sizeof *r);
    if (r == NULL)
        return intake_fail(SV_ENOMEM, "out of memory");
    int rc = sv_workers_collect(p->workers, timeout_ms, &tag, r);
    if (rc == SV_ETIMEOUT || (rc == SV_EERRNO && errno == EINTR)) {
        free(r);
        return rc == SV_ETIMEOUT ? 0 : rc;
    }
    if (rc != 0 || tag >= SV_WORKERS_MAX || p->inflight[tag] == NULL) {
        free(r);
        return intake_fail(SV_EWORKER, "the OCR workers failed: %s", sv_strerror(rc));
    }
    pipeline_doc *d = p->inflight[tag];
    p->inflight[tag] = NULL;
    p->n_inflight--;
    pipeline_file_document(p, d, r);
    memset(r, 0, sizeof *r); /* holds an MRN */
    free(r);
    start_queued(p);
    return 0;
}

int sv_pipeline_drain(sv_pipeline *p)
{
    while (sv_pipeline_pending(p) > 0) {
        int rc = sv_pipeline_step(p, -1);
        if (rc == SV_EERRNO && errno == EINTR)
            continue;
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* ---- recovery ---------------------------------------------------------- */

/* Queue one document found in the spool under its docid. */
static int recover_document(sv_pipeline *p, const char *docid)
{
    pipeline_doc *d = new_doc(0);
    if (d == NULL)
        return intake_fail(SV_ENOMEM, "out of memory");
    d->rep.is_recovered = true;
    memcpy(d->rep.docid, docid, strlen(docid) + 1);
    int rc = claim_record_read(p->spool_dfd, sv_store_keyring(p->store), docid,
                               d->original_name, &d->intake_time);
    if (rc != 0) {
        /* No (readable) record: the claim was interrupted before it was
         * written, or it is damaged. The document itself still counts. */
        d->original_name[0] = '\0';
        d->intake_time = (int64_t)time(NULL);
    }
    push_doc(p, d);
    return 0;
}

/* A claim record whose document is gone (claim interrupted, or released
 * before the record was). */
static bool is_orphan_record(int dfd, const char *name)
{
    size_t len = strlen(name);
    if (len <= 6 || strcmp(name + len - 6, ".claim") != 0)
        return false;
    char docid[SV_DOCID_MAX + 1];
    if (len - 6 > SV_DOCID_MAX)
        return false;
    memcpy(docid, name, len - 6);
    docid[len - 6] = '\0';
    return sv_docid_is_valid(docid) && faccessat(dfd, docid, F_OK, AT_SYMLINK_NOFOLLOW) != 0;
}

int sv_pipeline_recover(sv_pipeline *p, size_t *n_found)
{
    intake_clear_error();
    *n_found = 0;
    size_t removed = 0;
    int rc = sv_vault_clean_tmp(sv_store_vault(p->store), &removed);
    if (rc != 0)
        return intake_fail(rc, "%s", sv_crypto_last_error());
    int dfd = dup(p->spool_dfd);
    DIR *dir = dfd < 0 ? NULL : fdopendir(dfd);
    if (dir == NULL) {
        if (dfd >= 0)
            close(dfd);
        return intake_fail(SV_EERRNO, "cannot list the spool: %s", strerror(errno));
    }
    rewinddir(dir);
    struct dirent *e;
    while (rc == 0 && (e = readdir(dir)) != NULL) {
        if (strncmp(e->d_name, ".tmp-", 5) == 0 || is_orphan_record(p->spool_dfd, e->d_name)) {
            unlinkat(p->spool_dfd, e->d_name, 0);
        } else if (sv_docid_is_valid(e->d_name)) {
            rc = recover_document(p, e->d_name);
            *n_found += rc == 0;
        }
    }
    closedir(dir);
    return rc;
}

/* ---- for the service --------------------------------------------------- */

size_t sv_pipeline_cancel_queued(sv_pipeline *p)
{
    size_t dropped = 0;
    while (p->queue_head != NULL) {
        pipeline_doc *d = p->queue_head;
        p->queue_head = d->next;
        pipeline_free_doc(d); /* not claimed yet: still in the inbox or the spool */
        dropped++;
    }
    p->queue_tail = NULL;
    p->n_queued = 0;
    return dropped;
}

size_t sv_pipeline_in_flight(const sv_pipeline *p) { return p->n_inflight; }

void sv_pipeline_worker_counts(const sv_pipeline *p, unsigned *idle, unsigned *busy)
{
    *idle = sv_workers_idle(p->workers);
    *busy = sv_workers_busy(p->workers);
}
