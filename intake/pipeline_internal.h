/*
 * pipeline_internal.h - shared by pipeline.c (life cycle, queue, recovery)
 * and pipeline_steps.c (the steps of one document) only.
 */
#ifndef SV_PIPELINE_INTERNAL_H
#define SV_PIPELINE_INTERNAL_H

#include "intake_internal.h"

typedef struct pipeline_doc {
    struct pipeline_doc *next;
    char *path;                 /* NULL when recovered from the spool */
    unsigned flags;
    int claimed_fd;             /* spool/claimed/<docid>, -1 before the claim */
    int64_t intake_time;
    char original_name[SV_META_NAME_MAX + 1];
    uint8_t sha256[SV_SHA256_LEN];
    uint8_t content_id[SV_CONTENT_ID_LEN];
    double queued, started, submitted; /* monotonic ms */
    sv_pipeline_report rep;
} pipeline_doc;

struct sv_pipeline {
    sv_workers *workers;
    sv_store *store;
    const sv_ocr_rules *rules;
    int spool_dfd, lock_fd;
    char docid_prefix[SV_INTAKE_PREFIX_MAX + 1];
    sv_pipeline_report_fn report;
    void *report_ctx;
    pipeline_doc *queue_head, *queue_tail;
    size_t n_queued, n_inflight;
    pipeline_doc *inflight[SV_WORKERS_MAX]; /* by worker tag */
};

/* Monotonic milliseconds, for the step timings. */
double pipeline_now_ms(void);
/* Close, wipe (the original name) and free one document. NULL is fine. */
void pipeline_free_doc(pipeline_doc *d);
/* Claim, identify and hand d to an idle worker; documents that finish here
 * (failures, duplicates, recovered ones already indexed) are reported. */
void pipeline_start_document(sv_pipeline *p, pipeline_doc *d);
/* A worker finished d: decide, seal, commit, audit, release, report. */
void pipeline_file_document(sv_pipeline *p, pipeline_doc *d, const sv_ocr_result *r);

#endif
