/*
 * maintain.c - what reindex and verify share: the one function that turns a
 * vault object's metadata into its index record (the pipeline's commit step
 * makes the same record), the field-by-field comparison of two records, the
 * progress clock, problem reports and the kind names.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "intake_internal.h"
#include "maintain_internal.h"

const char *sv_maint_kind_name(sv_maint_kind kind)
{
    switch (kind) {
    case SV_MAINT_DAMAGED: return "damaged";
    case SV_MAINT_OTHER_KEY: return "other_key";
    case SV_MAINT_UNREADABLE: return "unreadable";
    case SV_MAINT_STRAY: return "stray";
    case SV_MAINT_DUPLICATE: return "duplicate";
    case SV_MAINT_NO_ENTRY: return "no_entry";
    case SV_MAINT_NO_OBJECT: return "no_object";
    case SV_MAINT_MISMATCH: return "mismatch";
    case SV_MAINT_BAD_ENTRY: return "bad_entry";
    case SV_MAINT_INDEX: return "index";
    case SV_MAINT_DIFFERENT: return "different";
    }
    return "?";
}

int sv_maint_record_from_meta(const sv_keyring *ring, const sv_vault_meta *meta,
                              sv_index_record *rec)
{
    memset(rec, 0, sizeof *rec);
    /* The index's own rules, checked here so that one bad object is reported
     * by its docid instead of failing a whole bulk load. */
    if (meta->intake_time < 0)
        return intake_fail(SV_EINVAL, "%s: the sealed intake time is before 1970", meta->docid);
    if (!sv_index_type_ok(meta->type))
        return intake_fail(SV_EINVAL, "%s: the sealed type is not a type name", meta->docid);
    if (meta->state != SV_VAULT_FILED && !sv_index_reason_ok(meta->reason))
        return intake_fail(SV_EINVAL, "%s: the sealed reason is not a reason code", meta->docid);
    rec->state = (sv_index_state)meta->state;
    memcpy(rec->type, meta->type, sizeof rec->type);
    rec->intake_time = meta->intake_time;
    rec->pages = meta->pages;
    rec->size = meta->size;
    memcpy(rec->reason, meta->reason, sizeof rec->reason);
    int rc = sv_crypto_content_id(ring, meta->sha256, rec->content_id);
    if (rc == 0 && meta->state == SV_VAULT_FILED)
        rc = sv_crypto_blind_mrn(ring, meta->mrn, rec->blind_mrn);
    if (rc != 0) {
        memset(rec, 0, sizeof *rec);
        return intake_fail(rc, "%s: %s", meta->docid, sv_crypto_last_error());
    }
    return 0;
}

/* The index stores review_since 0 of a document in review as its intake time. */
static int64_t review_since_of(const sv_index_record *r)
{
    if (r->state == SV_INDEX_REVIEW && r->review_since == 0)
        return r->intake_time;
    return r->review_since;
}

static void add_field(char *diff, size_t len, size_t *used, const char *name)
{
    if (diff == NULL || len == 0)
        return;
    int n = snprintf(diff + *used, len - *used, "%s%s", *used > 0 ? " " : "", name);
    if (n > 0)
        *used = *used + (size_t)n < len ? *used + (size_t)n : len - 1;
}

bool sv_maint_records_equal(const sv_index_record *a, const sv_index_record *b, char *diff,
                            size_t diff_len)
{
    size_t used = 0;
    if (diff != NULL && diff_len > 0)
        diff[0] = '\0';
    bool is_equal = true;
#define SV_MAINT_FIELD(cond, name)                   \
    if (cond) {                                      \
        is_equal = false;                            \
        add_field(diff, diff_len, &used, name);      \
    }
    SV_MAINT_FIELD(a->state != b->state, "state")
    SV_MAINT_FIELD(strcmp(a->type, b->type) != 0, "type")
    SV_MAINT_FIELD(memcmp(a->blind_mrn, b->blind_mrn, sizeof a->blind_mrn) != 0, "blind_mrn")
    SV_MAINT_FIELD(memcmp(a->content_id, b->content_id, sizeof a->content_id) != 0,
                   "content_id")
    SV_MAINT_FIELD(strcmp(a->reason, b->reason) != 0, "reason")
    SV_MAINT_FIELD(a->pages != b->pages, "pages")
    SV_MAINT_FIELD(a->size != b->size, "size")
    SV_MAINT_FIELD(a->intake_time != b->intake_time, "intake_time")
    SV_MAINT_FIELD(review_since_of(a) != review_since_of(b), "review_since")
#undef SV_MAINT_FIELD
    return is_equal;
}

double maint_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void maint_progress_start(maint_progress *mp, sv_maint_progress_fn fn, void *ctx)
{
    memset(mp, 0, sizeof *mp);
    mp->fn = fn;
    mp->ctx = ctx;
    mp->start = mp->last = maint_now();
}

void maint_progress_step(maint_progress *mp, uint64_t done, uint64_t bytes, bool is_final)
{
    if (mp->fn == NULL)
        return;
    double now = maint_now();
    if (!is_final && now - mp->last < 0.1)
        return;
    mp->last = now;
    mp->p.done = done;
    mp->p.bytes = bytes;
    mp->p.elapsed_s = now - mp->start;
    /* Files may appear during the walk: never report more done than total. */
    if (mp->p.total < done)
        mp->p.total = done;
    mp->fn(&mp->p, mp->ctx);
}

void maint_problem(sv_maint_problem_fn fn, void *ctx, sv_maint_kind kind, const char *docid,
                   const char *fmt, ...)
{
    if (fn == NULL)
        return;
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    sv_maint_problem p = {.kind = kind, .docid = docid, .detail = detail};
    fn(&p, ctx);
}

static int count_one(const sv_vault_entry *entry, void *ctx)
{
    (void)entry;
    (*(uint64_t *)ctx)++;
    return 0;
}

int maint_count_files(sv_vault *vault, uint64_t *n)
{
    *n = 0;
    int rc = sv_vault_each_object(vault, count_one, n);
    if (rc != 0)
        return intake_fail(rc, "%s", sv_crypto_last_error());
    return 0;
}

sv_maint_kind maint_kind_of_open_error(int rc)
{
    if (rc == SV_EKEY)
        return SV_MAINT_OTHER_KEY;
    if (rc == SV_EERRNO)
        return SV_MAINT_UNREADABLE;
    return SV_MAINT_DAMAGED;
}
