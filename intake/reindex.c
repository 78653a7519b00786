/*
 * reindex.c - rebuild the index from the vault objects alone, beside the old
 * one, and swap it in atomically (sv_reindex_run() in sv_intake.h).
 *
 * Order, and why it is crash-safe:
 *   1. the data directory's lock (no service, no ingest writes meanwhile);
 *   2. <data>/index.new removed if a crash left one, then created empty;
 *   3. every object's header authenticated and its record loaded, one
 *      batch per transaction (bounded memory), duplicates of content
 *      resolved to the earliest document, also across batches;
 *   4. the new index checked (sv_index_check) and compared with the old one;
 *   5. the audit line, then renameat2(index.new, index, RENAME_EXCHANGE) and
 *      an fsync of the data directory: <data>/index is the old environment
 *      or the new one, whole, at every instant;
 *   6. the old environment, now under index.new, removed (a crash before
 *      that leaves it for step 2 of the next run).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "intake_internal.h"
#include "maintain_internal.h"

/* Documents per bulk load by default: one synchronous transaction each, and
 * about 24 MiB of buffers. Later loads land among the keys of earlier ones (content
 * ids are random), in half-full pages: measured on 100,000 documents, loads
 * of 8192 made a 66 MB index, of 65536 a 43 MB one, one single load 31 MB,
 * all in the same 2.3 s (docs/maintenance.md). */
#define BATCH_DEFAULT 65536u

#define LOCK_HOLDER "the service or an ingest: stop the service first (systemctl stop scanvault)"

typedef struct reindex {
    const sv_reindex_options *o;
    sv_reindex_report *rep;
    sv_vault *vault;
    sv_audit *audit;                 /* o->audit, or own_audit */
    sv_audit *own_audit;             /* opened here when o->audit is NULL */
    sv_index *ix;                    /* the new index, in index.new */
    sv_vault_meta *meta;             /* one object's metadata: holds PHI, wiped */
    sv_index_doc *docs;              /* the batch being filled */
    char (*ids)[SV_DOCID_MAX + 1];   /* docs[i].docid points into ids[i] */
    size_t *order;                   /* batch order by content, time, docid */
    sv_index_doc *load;              /* the batch's documents that are loaded */
    size_t n, batch;
    bool has_loaded;                 /* the new index is not empty */
    uint64_t seen, bytes_seen;       /* files walked, original bytes read about */
    maint_progress mp;
} reindex;

static void problem(reindex *r, sv_maint_kind kind, const char *docid, const char *detail)
{
    maint_problem(r->o->problem, r->o->problem_ctx, kind, docid, "%s", detail);
}

/* Is (time a, docid a) earlier than (time b, docid b)? */
static bool is_earlier(int64_t ta, const char *da, int64_t tb, const char *db)
{
    return ta != tb ? ta < tb : strcmp(da, db) < 0;
}

static int by_content_time_docid(const void *pa, const void *pb, void *arg)
{
    const sv_index_doc *a = (const sv_index_doc *)arg + *(const size_t *)pa;
    const sv_index_doc *b = (const sv_index_doc *)arg + *(const size_t *)pb;
    int c = memcmp(a->rec.content_id, b->rec.content_id, sizeof a->rec.content_id);
    if (c != 0)
        return c;
    if (a->rec.intake_time != b->rec.intake_time)
        return a->rec.intake_time < b->rec.intake_time ? -1 : 1;
    return strcmp(a->docid, b->docid);
}

static void duplicate(reindex *r, const char *docid, const char *kept)
{
    char detail[SV_INDEX_DOCID_MAX + 64];
    snprintf(detail, sizeof detail, "same content as %s, which is indexed; not indexed", kept);
    problem(r, SV_MAINT_DUPLICATE, docid, detail);
    r->rep->duplicates++;
}

/*
 * Should d go into the index, given what an earlier load holds? An earlier
 * load may hold a later copy of the same content: that one then leaves.
 * winner gets the docid the index keeps for this content.
 */
static int settle_with_index(reindex *r, const sv_index_doc *d, bool *is_kept,
                             char winner[SV_INDEX_DOCID_MAX + 1])
{
    char existing[SV_INDEX_DOCID_MAX + 1];
    sv_index_record have;
    *is_kept = true;
    snprintf(winner, SV_INDEX_DOCID_MAX + 1, "%s", d->docid);
    int rc = sv_index_lookup_content(r->ix, d->rec.content_id, existing);
    if (rc == SV_ENOTFOUND)
        return 0;
    if (rc == 0)
        rc = sv_index_get(r->ix, existing, &have);
    if (rc != 0)
        return intake_fail(rc, "%s", sv_index_last_error());
    if (is_earlier(have.intake_time, existing, d->rec.intake_time, d->docid)) {
        *is_kept = false;
        snprintf(winner, SV_INDEX_DOCID_MAX + 1, "%s", existing);
        duplicate(r, d->docid, existing);
        return 0;
    }
    if ((rc = sv_index_delete(r->ix, existing)) != 0)
        return intake_fail(rc, "%s", sv_index_last_error());
    r->rep->indexed--;
    r->rep->bytes -= have.size;
    duplicate(r, existing, d->docid);
    return 0;
}

/* Load the batch: the earliest of each content, then one bulk load. */
static int flush(reindex *r)
{
    if (r->n == 0)
        return 0;
    for (size_t i = 0; i < r->n; i++)
        r->order[i] = i;
    qsort_r(r->order, r->n, sizeof *r->order, by_content_time_docid, r->docs);
    size_t m = 0;
    const sv_index_doc *run = NULL; /* the first of the current run of one content */
    char winner[SV_INDEX_DOCID_MAX + 1] = "";
    for (size_t i = 0; i < r->n; i++) {
        const sv_index_doc *d = &r->docs[r->order[i]];
        if (run != NULL &&
            memcmp(d->rec.content_id, run->rec.content_id, SV_CONTENT_ID_LEN) == 0) {
            duplicate(r, d->docid, winner);
            continue;
        }
        run = d;
        bool is_kept = true;
        snprintf(winner, sizeof winner, "%s", d->docid);
        int rc = r->has_loaded ? settle_with_index(r, d, &is_kept, winner) : 0;
        if (rc != 0)
            return rc;
        if (is_kept)
            r->load[m++] = *d;
    }
    int rc = sv_index_bulk_load(r->ix, r->load, m);
    if (rc != 0)
        return intake_fail(rc, "building the new index: %s", sv_index_last_error());
    for (size_t i = 0; i < m; i++)
        r->rep->bytes += r->load[i].rec.size;
    r->rep->indexed += m;
    r->has_loaded = r->has_loaded || m > 0;
    r->n = 0;
    return 0;
}

static int on_entry(const sv_vault_entry *e, void *ctx)
{
    reindex *r = ctx;
    r->seen++;
    int rc = 0;
    if (e->is_stray) {
        char detail[128];
        snprintf(detail, sizeof detail,
                 "not an object in its place, left alone (find vault/objects -inum %llu)",
                 (unsigned long long)e->inode);
        problem(r, SV_MAINT_STRAY, e->docid, detail);
        r->rep->strays++;
        goto out;
    }
    r->rep->objects++;
    rc = sv_vault_read_meta(r->vault, r->o->ring, e->docid, r->meta);
    if (rc == SV_ENOMEM)
        return intake_fail(rc, "%s", sv_crypto_last_error());
    if (rc != 0) {
        r->rep->damaged++;
        if (rc == SV_EKEY)
            r->rep->other_key++;
        problem(r, maint_kind_of_open_error(rc), e->docid, sv_crypto_last_error());
        rc = 0;
        goto out;
    }
    r->bytes_seen += r->meta->size;
    sv_index_doc *d = &r->docs[r->n];
    rc = sv_maint_record_from_meta(r->o->ring, r->meta, &d->rec);
    sv_vault_meta_wipe(r->meta);
    if (rc == SV_EINVAL) {
        r->rep->damaged++;
        problem(r, SV_MAINT_DAMAGED, e->docid, sv_intake_last_error());
        intake_clear_error();
        rc = 0;
        goto out;
    }
    if (rc != 0)
        return rc;
    snprintf(r->ids[r->n], sizeof r->ids[r->n], "%s", e->docid);
    d->docid = r->ids[r->n];
    if (++r->n == r->batch && (rc = flush(r)) != 0)
        return rc;
out:
    maint_progress_step(&r->mp, r->seen, r->bytes_seen, false);
    return rc;
}

/* Remove an LMDB environment directory: its files, then itself. Anything but
 * regular files inside is refused. A missing directory is fine. */
static int remove_env(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return 0;
    if (fd < 0)
        return intake_fail(SV_EERRNO, "cannot open %s: %s; remove it by hand", path,
                           strerror(errno));
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        return intake_fail(SV_EERRNO, "cannot list %s: %s", path, strerror(errno));
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        struct stat st;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            rc = intake_fail(SV_EEXIST, "%s holds more than an index; remove it by hand", path);
        else if (unlinkat(dirfd(d), e->d_name, 0) != 0)
            rc = intake_fail(SV_EERRNO, "cannot remove a file of %s: %s", path, strerror(errno));
    }
    closedir(d);
    if (rc == 0 && rmdir(path) != 0)
        rc = intake_fail(SV_EERRNO, "cannot remove %s: %s", path, strerror(errno));
    return rc;
}

typedef struct compare {
    reindex *r;
    sv_index *other;     /* the index the walked one is compared with */
    bool is_old_walk;    /* walking the old index (else the new one) */
    int error;
} compare;

static void different(compare *c, const char *docid, const char *detail)
{
    problem(c->r, SV_MAINT_DIFFERENT, docid, detail);
    c->r->rep->differences++;
}

/* One entry of the walked index against the other index. */
static int compare_entry(const char *docid, const sv_index_record *rec, int rec_status,
                         void *ctx)
{
    compare *c = ctx;
    sv_index_record twin;
    int rc = sv_index_get(c->other, docid, &twin);
    if (rc == SV_ENOTFOUND) {
        different(c, docid, c->is_old_walk ? "only in the old index (no object has it)"
                                           : "only in the new index");
        return 0;
    }
    if (!c->is_old_walk)
        return 0; /* the entries both have were compared in the first walk */
    char fields[128], detail[192];
    if (rec_status != 0 || rc == SV_EVERSION || rc == SV_EFORMAT) {
        different(c, docid, "the old entry could not be decoded");
    } else if (rc != 0) {
        c->error = intake_fail(rc, "comparing with the old index: %s", sv_index_last_error());
        return rc;
    } else if (!sv_maint_records_equal(rec, &twin, fields, sizeof fields)) {
        snprintf(detail, sizeof detail, "old and new entry differ in: %s", fields);
        different(c, docid, detail);
    }
    return 0;
}

/* Compare the new index with the one at index_path, both ways, in docid
 * order. Sets rep->compared, or says in rep->not_compared why not. */
static int compare_with_old(reindex *r, const char *index_path)
{
    sv_reindex_report *rep = r->rep;
    sv_index *old = NULL;
    sv_index_options io = {.path = index_path, .read_only = true};
    int rc = sv_index_create(&old, &io);
    if (rc != 0) {
        snprintf(rep->not_compared, sizeof rep->not_compared, "the old index cannot be read: %s",
                 sv_index_last_error());
        return 0;
    }
    sv_index_stats *st = calloc(1, sizeof *st);
    uint8_t id[SV_KEY_ID_LEN];
    sv_keyring_id(r->o->ring, id);
    if (st == NULL) {
        rc = intake_fail(SV_ENOMEM, "out of memory");
    } else if ((rc = sv_index_get_stats(old, st)) != 0) {
        snprintf(rep->not_compared, sizeof rep->not_compared, "the old index cannot be read: %s",
                 sv_index_last_error());
        rc = 0;
    } else if (st->key_id_len != sizeof id || memcmp(st->key_id, id, sizeof id) != 0) {
        snprintf(rep->not_compared, sizeof rep->not_compared,
                 "the old index was built under another key");
    } else if ((rep->old_entries = st->docs) > 0 && rep->indexed == 0) {
        /* An empty objects/ under a full index is more likely storage that
         * is not mounted than a vault that lost everything. */
        rc = intake_fail(SV_ENOTFOUND,
                         "%s/vault holds no object the index could take, but the old index "
                         "lists %llu documents: is the vault's storage mounted? Nothing "
                         "replaced",
                         r->o->data_dir, (unsigned long long)st->docs);
    } else {
        compare c = {.r = r, .other = r->ix, .is_old_walk = true};
        rc = sv_index_docs_each(old, compare_entry, &c);
        if (rc == 0) {
            c = (compare){.r = r, .other = old, .is_old_walk = false};
            rc = sv_index_docs_each(r->ix, compare_entry, &c);
        }
        if (rc != 0 && c.error == 0)
            rc = intake_fail(rc, "comparing with the old index: %s", sv_index_last_error());
        rep->compared = rc == 0;
    }
    free(st);
    sv_index_destroy(old);
    return rc;
}

static void audit_result(const sv_reindex_report *rep, bool is_replacing, char *buf, size_t len)
{
    char diff[48] = "compared=no";
    if (rep->compared)
        snprintf(diff, sizeof diff, "differences=%llu", (unsigned long long)rep->differences);
    snprintf(buf, len,
             "objects=%llu indexed=%llu damaged=%llu duplicates=%llu strays=%llu %s "
             "replaced=%s",
             (unsigned long long)rep->objects, (unsigned long long)rep->indexed,
             (unsigned long long)rep->damaged, (unsigned long long)rep->duplicates,
             (unsigned long long)rep->strays, diff, is_replacing ? "yes" : "no");
}

/* Put index.new in the place of index: exchange with the old one, or a plain
 * rename when there was none; then make it durable. *is_swapped says whether
 * the rename happened (also when the fsync after it failed). */
static int swap_in(const char *data_dir, const char *new_path, const char *index_path,
                   bool had_old, bool *is_swapped)
{
    *is_swapped = false;
    int rc = sv_durable_fsync_dir(new_path);
    if (rc != 0)
        return intake_fail(rc, "%s", sv_crypto_last_error());
    if (had_old) {
        if (renameat2(AT_FDCWD, new_path, AT_FDCWD, index_path, RENAME_EXCHANGE) != 0)
            return intake_fail(SV_EERRNO,
                               "cannot exchange %s with %s (renameat2 RENAME_EXCHANGE: %s); the "
                               "old index is kept. The filesystem must support an atomic "
                               "exchange (ext4, xfs, btrfs, tmpfs do)",
                               new_path, index_path, strerror(errno));
    } else if (renameat2(AT_FDCWD, new_path, AT_FDCWD, index_path, RENAME_NOREPLACE) != 0) {
        if (errno != EINVAL || rename(new_path, index_path) != 0)
            return intake_fail(errno == EEXIST ? SV_EEXIST : SV_EERRNO,
                               "cannot rename %s to %s: %s", new_path, index_path,
                               strerror(errno));
    }
    *is_swapped = true;
    if ((rc = sv_durable_fsync_dir(data_dir)) != 0)
        return intake_fail(rc, "the new index is in place but maybe not on disk yet, and the "
                               "old one is kept as %s: %s. Run reindex again",
                           new_path, sv_crypto_last_error());
    return 0;
}

/* Walk the vault into the new index at new_path (created empty here). */
static int build(reindex *r, const char *new_path)
{
    uint8_t id[SV_KEY_ID_LEN];
    sv_keyring_id(r->o->ring, id);
    sv_index_options io = {.path = new_path, .create = true, .key_id = id,
                           .key_id_len = sizeof id};
    int rc = sv_index_create(&r->ix, &io);
    if (rc != 0)
        return intake_fail(rc, "cannot create the new index: %s", sv_index_last_error());
    r->meta = calloc(1, sizeof *r->meta);
    r->batch = r->o->batch > 0 ? r->o->batch : BATCH_DEFAULT;
    if (r->batch > SIZE_MAX / sizeof *r->docs)
        return intake_fail(SV_EINVAL, "reindex: batch too large");
    r->docs = calloc(r->batch, sizeof *r->docs);
    r->ids = calloc(r->batch, sizeof *r->ids);
    r->order = calloc(r->batch, sizeof *r->order);
    r->load = calloc(r->batch, sizeof *r->load);
    if (r->meta == NULL || r->docs == NULL || r->ids == NULL || r->order == NULL ||
        r->load == NULL)
        return intake_fail(SV_ENOMEM, "out of memory");
    uint64_t total = 0;
    if (r->o->progress != NULL && (rc = maint_count_files(r->vault, &total)) != 0)
        return rc;
    maint_progress_start(&r->mp, r->o->progress, r->o->progress_ctx);
    r->mp.p.total = total;
    rc = sv_vault_each_object(r->vault, on_entry, r);
    if (rc != 0)
        return sv_intake_last_error()[0] != '\0' ? rc
                                                : intake_fail(rc, "%s", sv_crypto_last_error());
    if ((rc = flush(r)) != 0)
        return rc;
    maint_progress_step(&r->mp, r->seen, r->bytes_seen, true);
    sv_index_check_report check;
    if ((rc = sv_index_check(r->ix, &check)) != 0)
        return intake_fail(rc, "the new index is not consistent (%llu bad records, %llu missing "
                               "and %llu dangling links, %llu bad counters); nothing replaced",
                           (unsigned long long)check.bad_records,
                           (unsigned long long)check.missing_links,
                           (unsigned long long)check.dangling_links,
                           (unsigned long long)check.bad_counters);
    return 0;
}

/* Refuse what must stop a reindex before anything is replaced. */
static int refuse_damage(const sv_reindex_report *rep, bool skip_damaged)
{
    if (rep->other_key > 0)
        return intake_fail(SV_EKEY,
                           "%llu object(s) are sealed under another key (listed above): wrong "
                           "--key, or an unfinished key rotation; nothing replaced",
                           (unsigned long long)rep->other_key);
    if (rep->damaged > 0 && !skip_damaged)
        return intake_fail(SV_EAUTH,
                           "%llu damaged object(s) (listed above); nothing replaced. Restore "
                           "them from a backup, or run with --skip-damaged to index the rest",
                           (unsigned long long)rep->damaged);
    return 0;
}

static int open_parts(reindex *r, char *index_path, char *new_path, size_t len)
{
    const char *data_dir = r->o->data_dir;
    char path[SV_INTAKE_PATH_MAX];
    int rc;
    if ((rc = intake_path(index_path, len, data_dir, "index")) != 0 ||
        (rc = intake_path(new_path, len, data_dir, "index.new")) != 0 ||
        (rc = intake_path(path, sizeof path, data_dir, "vault")) != 0)
        return rc;
    if ((rc = sv_vault_create(&r->vault, path)) != 0)
        return intake_fail(rc, "%s", sv_crypto_last_error());
    r->audit = r->o->audit;
    if (r->audit == NULL) {
        if ((rc = intake_path(path, sizeof path, data_dir, "audit/audit.log")) != 0)
            return rc;
        if ((rc = sv_audit_create(&r->own_audit, r->o->ring, path)) != 0)
            return intake_fail(rc, "%s", sv_crypto_last_error());
        r->audit = r->own_audit;
    }
    struct stat st;
    r->rep->had_old = stat(index_path, &st) == 0 && S_ISDIR(st.st_mode);
    return remove_env(new_path);
}

/* Append the reindex line. On failure the message keeps first_error when
 * there is one (the reason the run failed is the news). */
static int append_audit(const reindex *r, const char *result, const char *first_error)
{
    int rc = sv_audit_append(r->audit, "reindex", NULL, result);
    if (first_error != NULL)
        intake_fail(rc, "%s", first_error);
    else if (rc != 0)
        rc = intake_fail(rc, "the reindex could not be audited, so nothing is replaced: %s",
                         sv_crypto_last_error());
    return rc;
}

static int check_options(const sv_reindex_options *o)
{
    if (o == NULL || o->data_dir == NULL || o->data_dir[0] == '\0' || o->ring == NULL)
        return intake_fail(SV_EINVAL, "reindex: no data directory or no key given");
    if (o->lock_held)
        return 0;
    char path[SV_INTAKE_PATH_MAX];
    int rc = intake_path(path, sizeof path, o->data_dir, INTAKE_ROTATION_KEY);
    if (rc == 0 && access(path, F_OK) == 0)
        rc = intake_fail(SV_EKEY, "%s: a key rotation was interrupted; run 'scanvault "
                                  "rotate-key' again to finish it (it rebuilds the index)",
                         o->data_dir);
    return rc;
}

/* Build, check, compare, audit and swap in; r's parts are open. */
static int rebuild(reindex *r, const char *index_path, const char *new_path)
{
    const sv_reindex_options *o = r->o;
    sv_reindex_report *rep = r->rep;
    char result[256];
    int rc = build(r, new_path);
    if (rc == 0)
        rc = refuse_damage(rep, o->skip_damaged);
    if (rc == 0 && o->compare_old && rep->had_old)
        rc = compare_with_old(r, index_path);
    if (rc != 0) {
        /* A refused run is audited too; its own error is what the caller sees. */
        char message[512];
        snprintf(message, sizeof message, "%s", sv_intake_last_error());
        audit_result(rep, false, result, sizeof result);
        append_audit(r, result, message);
        return rc;
    }
    sv_index_destroy(r->ix);
    r->ix = NULL;
    audit_result(rep, true, result, sizeof result);
    if ((rc = append_audit(r, result, NULL)) != 0)
        return rc;
    bool is_swapped = false;
    rc = swap_in(o->data_dir, new_path, index_path, rep->had_old, &is_swapped);
    rep->replaced = is_swapped;
    if (rc != 0 && !is_swapped) {
        char message[512];
        snprintf(message, sizeof message, "%s", sv_intake_last_error());
        append_audit(r, "failed=swap replaced=no", message);
    }
    return rc;
}

int sv_reindex_run(const sv_reindex_options *o, sv_reindex_report *rep)
{
    intake_clear_error();
    memset(rep, 0, sizeof *rep);
    double start = maint_now();
    int rc = check_options(o);
    if (rc != 0)
        return rc;
    int lock_fd = -1, decisions_fd = -1;
    /* Review decisions rewrite headers and the index: none may fall between
     * the header read here and the swap, or the new index would miss it. */
    if (!o->lock_held && ((rc = intake_lock_data_dir(o->data_dir, LOCK_HOLDER, &lock_fd)) != 0 ||
                          (rc = intake_lock_decisions(o->data_dir, &decisions_fd)) != 0)) {
        if (lock_fd >= 0)
            close(lock_fd);
        return rc;
    }
    reindex r = {.o = o, .rep = rep};
    char index_path[SV_INTAKE_PATH_MAX], new_path[SV_INTAKE_PATH_MAX] = "";
    rc = open_parts(&r, index_path, new_path, sizeof index_path);
    bool is_building = rc == 0;
    if (rc == 0)
        rc = rebuild(&r, index_path, new_path);
    sv_index_destroy(r.ix);
    /* After the exchange index.new is the old environment; after a failure
     * it is the unfinished new one: either way it goes (a failure to remove
     * it only leaves it for the next reindex, which removes it first). But
     * swapped and not durable: the old one stays, in case the rename does
     * not survive a crash. */
    bool is_keeping_old = rc != 0 && rep->replaced;
    if (is_building && !is_keeping_old) {
        char message[512];
        snprintf(message, sizeof message, "%s", sv_intake_last_error());
        remove_env(new_path);
        intake_clear_error();
        if (rc != 0)
            intake_fail(rc, "%s", message);
    }
    if (r.meta != NULL)
        sv_vault_meta_wipe(r.meta);
    free(r.meta);
    free(r.docs);
    free(r.ids);
    free(r.order);
    free(r.load);
    sv_audit_destroy(r.own_audit);
    sv_vault_destroy(r.vault);
    if (decisions_fd >= 0)
        close(decisions_fd);
    if (lock_fd >= 0)
        close(lock_fd);
    rep->seconds = maint_now() - start;
    return rc;
}
