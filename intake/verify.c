/*
 * verify.c - check every vault object and that index and vault agree both
 * ways (sv_verify_run() in sv_intake.h).
 *
 * Two walks: the vault (each object authenticated, its entry looked up and
 * compared with the record its metadata implies), then the index (each entry
 * must have its object); then the index's own check. It runs beside a live
 * service, which files a document in this order: object sealed, index
 * commit, claimed file unlinked from the spool. So an object without an
 * entry whose claimed file is still in the spool is pending, not a problem;
 * when the claimed file is gone, the entry is looked up once more (it was
 * committed before the unlink). An entry without an object, or an entry that
 * differs from its object, is looked at again once before it is reported.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "intake_internal.h"
#include "maintain_internal.h"

/* Entries without an object held for a second look, at most; beyond that
 * they are reported at once (a vault that lost that much is not racing). */
#define RECHECK_MAX 65536u

typedef struct verify {
    const sv_verify_options *o;
    sv_verify_report *rep;
    sv_vault *vault;
    sv_index *ix;
    const sv_keyring *ring;
    sv_vault_meta *meta;        /* one object's metadata: holds PHI, wiped */
    int spool_fd;               /* spool/claimed, or -1 */
    uint64_t seen;              /* files walked */
    maint_progress mp;
    char (*recheck)[SV_INDEX_DOCID_MAX + 1]; /* entries whose object was missing */
    size_t n_recheck;
} verify;

static void found(verify *v, sv_maint_kind kind, const char *docid, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void found(verify *v, sv_maint_kind kind, const char *docid, const char *fmt, ...)
{
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    v->rep->by_kind[kind]++;
    v->rep->problems++;
    maint_problem(v->o->problem, v->o->problem_ctx, kind, docid, "%s", detail);
}

/* The object's metadata: the whole object authenticated, or only its header. */
static int read_object(verify *v, const char *docid, bool is_fast)
{
    if (is_fast)
        return sv_vault_read_meta(v->vault, v->ring, docid, v->meta);
    return sv_vault_open(v->vault, v->ring, docid, NULL, NULL, v->meta, SV_VAULT_CHECK_CONTENT);
}

static bool is_in_spool(const verify *v, const char *docid)
{
    struct stat st;
    return v->spool_fd >= 0 && fstatat(v->spool_fd, docid, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* The entry differs from want: look again (a review decision may have been
 * between its two writes), then report what still differs. */
static int recheck_mismatch(verify *v, const char *docid)
{
    sv_index_record want, have;
    char fields[128];
    int rc = sv_vault_read_meta(v->vault, v->ring, docid, v->meta);
    if (rc == 0)
        rc = sv_maint_record_from_meta(v->ring, v->meta, &want);
    sv_vault_meta_wipe(v->meta);
    if (rc == SV_ENOMEM)
        return intake_fail(rc, "out of memory");
    if (rc == 0)
        rc = sv_index_get(v->ix, docid, &have);
    if (rc == SV_EINDEX)
        return intake_fail(rc, "%s", sv_index_last_error());
    if (rc == 0 && sv_maint_records_equal(&want, &have, fields, sizeof fields))
        return 0;
    if (rc == 0)
        found(v, SV_MAINT_MISMATCH, docid, "the index entry differs from the object in: %s",
              fields);
    else
        found(v, SV_MAINT_MISMATCH, docid, "the index entry or the object changed meanwhile: %s",
              sv_strerror(rc));
    return 0;
}

/* What sv_index_get() gave for an object's docid, other than not found. */
static int settle_entry(verify *v, const char *docid, const sv_index_record *want,
                        const sv_index_record *have, int rc)
{
    if (rc == 0)
        return sv_maint_records_equal(want, have, NULL, 0) ? 0 : recheck_mismatch(v, docid);
    if (rc == SV_EVERSION || rc == SV_EFORMAT) {
        found(v, SV_MAINT_BAD_ENTRY, docid, "the index record cannot be decoded: %s",
              sv_strerror(rc));
        return 0;
    }
    return intake_fail(rc, "%s", sv_index_last_error());
}

/* An object without an entry: pending, a duplicate, or missing. */
static int no_entry(verify *v, const char *docid, const sv_index_record *want)
{
    if (is_in_spool(v, docid)) {
        v->rep->pending++;
        return 0;
    }
    /* The claimed file is gone, so a commit that was coming has happened. */
    sv_index_record have;
    int rc = sv_index_get(v->ix, docid, &have);
    if (rc != SV_ENOTFOUND)
        return settle_entry(v, docid, want, &have, rc);
    char existing[SV_INDEX_DOCID_MAX + 1];
    rc = sv_index_lookup_content(v->ix, want->content_id, existing);
    if (rc == 0 && strcmp(existing, docid) == 0)
        rc = SV_ENOTFOUND; /* a dangling content link: the index check reports it */
    if (rc == 0) {
        found(v, SV_MAINT_DUPLICATE, docid,
              "same content as %s, which is indexed; this object is a leftover", existing);
        return 0;
    }
    if (rc == SV_ENOTFOUND) {
        found(v, SV_MAINT_NO_ENTRY, docid, "the object has no index entry");
        return 0;
    }
    return intake_fail(rc, "%s", sv_index_last_error());
}

/* Compare an authenticated object with its entry. */
static int check_entry(verify *v, const char *docid, const sv_index_record *want)
{
    sv_index_record have;
    int rc = sv_index_get(v->ix, docid, &have);
    if (rc == SV_ENOTFOUND)
        return no_entry(v, docid, want);
    return settle_entry(v, docid, want, &have, rc);
}

static int on_object(const sv_vault_entry *e, void *ctx)
{
    verify *v = ctx;
    v->seen++;
    int rc = 0;
    if (e->is_stray) {
        if (e->docid != NULL)
            found(v, SV_MAINT_STRAY, e->docid,
                  "named like an object but not a file in its fan-out directory "
                  "(find vault/objects -inum %llu)",
                  (unsigned long long)e->inode);
        else
            found(v, SV_MAINT_STRAY, NULL,
                  "a file under vault/objects that is not an object (find vault/objects "
                  "-inum %llu)",
                  (unsigned long long)e->inode);
        goto out;
    }
    rc = read_object(v, e->docid, v->o->fast);
    if (rc == SV_ENOTFOUND) {
        rc = 0; /* gone since the listing: a losing duplicate the service removed */
        goto out;
    }
    v->rep->objects++;
    if (rc == SV_ENOMEM)
        return intake_fail(rc, "%s", sv_crypto_last_error());
    if (rc != 0) {
        found(v, maint_kind_of_open_error(rc), e->docid, "%s", sv_crypto_last_error());
        rc = 0;
        goto out;
    }
    v->rep->bytes += v->meta->size;
    sv_index_record want;
    rc = sv_maint_record_from_meta(v->ring, v->meta, &want);
    sv_vault_meta_wipe(v->meta);
    if (rc == SV_EINVAL) {
        found(v, SV_MAINT_DAMAGED, e->docid, "%s", sv_intake_last_error());
        intake_clear_error();
        rc = 0;
    } else if (rc == 0) {
        rc = check_entry(v, e->docid, &want);
    }
    memset(&want, 0, sizeof want);
out:
    maint_progress_step(&v->mp, v->seen, v->rep->bytes, false);
    return rc;
}

/* Does docid's object exist? 0 yes; SV_ENOTFOUND; SV_EINVAL (not a vault
 * docid); SV_EERRNO (errno set). */
static int object_exists(verify *v, const char *docid)
{
    char path[PATH_MAX];
    if (sv_vault_object_path(v->vault, docid, path, sizeof path) != 0)
        return SV_EINVAL;
    struct stat st;
    if (lstat(path, &st) == 0)
        return 0;
    return errno == ENOENT ? SV_ENOTFOUND : SV_EERRNO;
}

static void no_object(verify *v, const char *docid, int rc)
{
    if (rc == SV_EINVAL)
        found(v, SV_MAINT_NO_OBJECT, docid, "the index lists a docid no vault object can have");
    else if (rc == SV_ENOTFOUND)
        found(v, SV_MAINT_NO_OBJECT, docid, "the index lists it but its object is missing");
    else
        found(v, SV_MAINT_UNREADABLE, docid, "its object cannot be looked at: %s",
              strerror(errno));
}

/* Runs inside the index's read transaction: no sv_index call here. */
static int on_entry(const char *docid, const sv_index_record *rec, int rec_status, void *ctx)
{
    (void)rec, (void)rec_status; /* a bad record was reported by the object walk or the check */
    verify *v = ctx;
    v->rep->entries++;
    int rc = object_exists(v, docid);
    if (rc == 0)
        return 0;
    if (rc == SV_ENOTFOUND && v->n_recheck < RECHECK_MAX) {
        snprintf(v->recheck[v->n_recheck++], sizeof v->recheck[0], "%s", docid);
        return 0;
    }
    no_object(v, docid, rc);
    return 0;
}

/* Entries whose object was missing: still listed, still no object? */
static int recheck_missing(verify *v)
{
    for (size_t i = 0; i < v->n_recheck; i++) {
        sv_index_record rec;
        int rc = sv_index_get(v->ix, v->recheck[i], &rec);
        if (rc == SV_ENOTFOUND)
            continue; /* removed meanwhile, with its object */
        if (rc == SV_EINDEX)
            return intake_fail(rc, "%s", sv_index_last_error());
        if ((rc = object_exists(v, v->recheck[i])) != 0)
            no_object(v, v->recheck[i], rc);
    }
    return 0;
}

static int check_index(verify *v)
{
    int rc = sv_index_check(v->ix, &v->rep->check);
    const sv_index_check_report *c = &v->rep->check;
    uint64_t bad = c->bad_records + c->missing_links + c->dangling_links + c->bad_counters;
    if (rc != 0 && bad == 0)
        return intake_fail(rc, "%s", sv_index_last_error());
    if (bad > 0)
        found(v, SV_MAINT_INDEX, NULL,
              "the index disagrees with itself: %llu undecodable records, %llu missing and "
              "%llu dangling links, %llu wrong counters; run 'scanvault reindex'",
              (unsigned long long)c->bad_records, (unsigned long long)c->missing_links,
              (unsigned long long)c->dangling_links, (unsigned long long)c->bad_counters);
    return 0;
}

static int walk_all(verify *v)
{
    int rc = 0;
    uint64_t total = 0;
    if (v->o->progress != NULL && (rc = maint_count_files(v->vault, &total)) != 0)
        return rc;
    maint_progress_start(&v->mp, v->o->progress, v->o->progress_ctx);
    v->mp.p.total = total;
    if ((rc = sv_vault_each_object(v->vault, on_object, v)) != 0)
        return sv_intake_last_error()[0] != '\0' ? rc
                                                : intake_fail(rc, "%s", sv_crypto_last_error());
    maint_progress_step(&v->mp, v->seen, v->rep->bytes, true);
    if ((rc = sv_index_docs_each(v->ix, on_entry, v)) != 0)
        return intake_fail(rc, "%s", sv_index_last_error());
    if ((rc = recheck_missing(v)) != 0)
        return rc;
    return check_index(v);
}

static void open_spool(verify *v, sv_store *store)
{
    char path[SV_INTAKE_PATH_MAX];
    v->spool_fd = -1;
    if (intake_path(path, sizeof path, sv_store_data_dir(store), "spool/claimed") == 0)
        v->spool_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    intake_clear_error();
}

int sv_verify_run(sv_store *store, const sv_verify_options *o, sv_verify_report *rep)
{
    intake_clear_error();
    memset(rep, 0, sizeof *rep);
    if (store == NULL || o == NULL)
        return intake_fail(SV_EINVAL, "verify: no store or no options");
    double start = maint_now();
    verify v = {.o = o,
                .rep = rep,
                .vault = sv_store_vault(store),
                .ix = sv_store_index(store),
                .ring = sv_store_keyring(store)};
    open_spool(&v, store);
    v.meta = calloc(1, sizeof *v.meta);
    v.recheck = calloc(RECHECK_MAX, sizeof *v.recheck);
    int rc = v.meta == NULL || v.recheck == NULL ? intake_fail(SV_ENOMEM, "out of memory")
                                                 : walk_all(&v);
    rep->seconds = maint_now() - start;
    char result[128], message[512];
    snprintf(result, sizeof result, "objects=%llu problems=%llu mode=%s%s",
             (unsigned long long)rep->objects, (unsigned long long)rep->problems,
             o->fast ? "fast" : "full", rc != 0 ? " incomplete=yes" : "");
    snprintf(message, sizeof message, "%s", sv_intake_last_error());
    int audit_rc = intake_audit(store, "verify", NULL, result);
    if (rc != 0)
        intake_fail(rc, "%s", message);
    else if (audit_rc != 0)
        rc = intake_fail(audit_rc, "the verify could not be audited: %s",
                         sv_crypto_last_error());
    if (v.meta != NULL)
        sv_vault_meta_wipe(v.meta);
    free(v.meta);
    free(v.recheck);
    if (v.spool_fd >= 0)
        close(v.spool_fd);
    return rc;
}
