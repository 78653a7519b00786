/*
 * read.c - every question the index answers: a record by docid, a docid by
 * content id, a patient's documents, the review queue, all documents, and
 * the statistics. Each call is one read transaction; none blocks a writer.
 */
#include <string.h>

#include "index_internal.h"

int sv_index_get(sv_index *ix, const char *docid, sv_index_record *rec)
{
    MDB_txn *txn = NULL;
    MDB_val k, v;
    int rc, mrc;

    ix_clear_error();
    if (rec == NULL)
        return SV_EINVAL;
    memset(rec, 0, sizeof *rec);
    if (ix == NULL || !sv_index_docid_ok(docid)) {
        ix_set_error("index get: invalid handle or docid");
        return SV_EINVAL;
    }
    if ((rc = ix_read_begin(ix, &txn)) != 0)
        return rc;
    k = (MDB_val){strlen(docid), (void *)docid};
    mrc = mdb_get(txn, ix->docs, &k, &v);
    if (mrc == MDB_NOTFOUND) {
        ix_set_error("index get %s: no such document in the index", docid);
        rc = SV_ENOTFOUND;
    } else if (mrc != 0) {
        rc = ix_mdb_error(mrc, "get", docid);
    } else if ((rc = ix_record_decode(&v, rec)) == SV_EVERSION) {
        ix_set_error("index get %s: the record has a version this build cannot read; "
                     "use a matching scanvault or reindex", docid);
    } else if (rc != 0) {
        ix_set_error("index get %s: the record is damaged; reindex", docid);
    }
    ix_read_end(ix, txn);
    return rc;
}

int sv_index_lookup_content(sv_index *ix, const uint8_t content_id[SV_INDEX_CONTENT_ID_LEN],
                            char docid[SV_INDEX_DOCID_MAX + 1])
{
    MDB_txn *txn = NULL;
    MDB_val k, v;
    int rc, mrc;

    ix_clear_error();
    if (docid == NULL)
        return SV_EINVAL;
    docid[0] = '\0';
    if (ix == NULL || content_id == NULL) {
        ix_set_error("index lookup: invalid arguments");
        return SV_EINVAL;
    }
    if ((rc = ix_read_begin(ix, &txn)) != 0)
        return rc;
    k = (MDB_val){SV_INDEX_CONTENT_ID_LEN, (void *)content_id};
    mrc = mdb_get(txn, ix->by_hash, &k, &v);
    if (mrc == MDB_NOTFOUND) {
        ix_set_error("index lookup: no document has this content");
        rc = SV_ENOTFOUND;
    } else if (mrc != 0) {
        rc = ix_mdb_error(mrc, "lookup", NULL);
    } else if ((rc = ix_docid_copy(&v, docid)) != 0) {
        ix_set_error("index lookup: a content id entry is damaged; reindex");
    }
    ix_read_end(ix, txn);
    return rc;
}

/* The walk behind sv_index_find() and sv_index_find_each(). */
int sv_index_find_each(sv_index *ix, const uint8_t blind_mrn[SV_INDEX_BLIND_LEN],
                       const sv_index_filter *filter, sv_index_hit_fn fn, void *ctx)
{
    static const sv_index_filter everything;
    const sv_index_filter *f = filter ? filter : &everything;
    bool by_type = f->type != NULL && f->type[0] != '\0';
    int64_t since = f->since > 0 ? f->since : 0;
    uint8_t seek[8];
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    MDB_cursor_op op = MDB_SET_KEY;
    sv_index_hit hit;
    int rc, mrc;

    ix_clear_error();
    if (ix == NULL || fn == NULL || blind_mrn == NULL ||
        ix_is_zero(blind_mrn, SV_INDEX_BLIND_LEN)) {
        ix_set_error("index find: invalid handle, callback or blind MRN");
        return SV_EINVAL;
    }
    if ((by_type && !sv_index_type_ok(f->type)) || (f->until > 0 && since > f->until)) {
        ix_set_error("index find: invalid filter (type name or time range)");
        return SV_EINVAL;
    }
    if ((rc = ix_read_begin(ix, &txn)) != 0)
        return rc;
    if ((mrc = mdb_cursor_open(txn, ix->by_mrn, &cur)) != 0) {
        rc = ix_mdb_error(mrc, "find", NULL);
        goto out;
    }
    k = (MDB_val){SV_INDEX_BLIND_LEN, (void *)blind_mrn};
    v = (MDB_val){0, NULL};
    if (f->until > 0) {
        /* Start at the first entry not newer than until: the dups sort by
         * inverted time, so that is the first dup >= ~until. */
        ix_put_be64(seek, ~(uint64_t)f->until);
        v = (MDB_val){sizeof seek, seek};
        op = MDB_GET_BOTH_RANGE;
    }
    for (;; op = MDB_NEXT_DUP) {
        mrc = mdb_cursor_get(cur, &k, &v, op);
        if (mrc == MDB_NOTFOUND)
            break;
        if (mrc != 0) {
            rc = ix_mdb_error(mrc, "find", NULL);
            goto out;
        }
        if (ix_dup_decode(&v, &hit) != 0) {
            ix_set_error("index find: a patient entry is damaged; reindex");
            rc = SV_EFORMAT;
            goto out;
        }
        if (hit.intake_time < since)
            break; /* everything after this is older still */
        if (by_type && strcmp(hit.type, f->type) != 0)
            continue;
        rc = fn(&hit, ctx);
        if (rc != 0) {
            rc = rc > 0 ? 0 : rc;
            goto out;
        }
    }
    rc = 0;
out:
    if (cur != NULL)
        mdb_cursor_close(cur);
    ix_read_end(ix, txn);
    return rc;
}

struct collect_ctx {
    void *items;
    size_t item_size, cap, n;
};

static int collect(const void *item, struct collect_ctx *c)
{
    if (c->n < c->cap)
        memcpy((char *)c->items + c->n * c->item_size, item, c->item_size);
    c->n++;
    return 0;
}

static int collect_hit(const sv_index_hit *hit, void *ctx)
{
    return collect(hit, ctx);
}

int sv_index_find(sv_index *ix, const uint8_t blind_mrn[SV_INDEX_BLIND_LEN],
                  const sv_index_filter *filter, sv_index_hit *hits, size_t cap,
                  size_t *n_total)
{
    struct collect_ctx c = {hits, sizeof *hits, cap, 0};
    int rc;

    if (n_total == NULL || (hits == NULL && cap > 0)) {
        ix_set_error("index find: invalid arguments");
        return SV_EINVAL;
    }
    *n_total = 0;
    rc = sv_index_find_each(ix, blind_mrn, filter, collect_hit, &c);
    if (rc == 0)
        *n_total = c.n;
    return rc;
}

int sv_index_review_each(sv_index *ix, sv_index_review_fn fn, void *ctx)
{
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    MDB_cursor_op op = MDB_FIRST;
    sv_index_review_entry e;
    int rc, mrc;

    ix_clear_error();
    if (ix == NULL || fn == NULL) {
        ix_set_error("index review: invalid arguments");
        return SV_EINVAL;
    }
    if ((rc = ix_read_begin(ix, &txn)) != 0)
        return rc;
    if ((mrc = mdb_cursor_open(txn, ix->review, &cur)) != 0) {
        rc = ix_mdb_error(mrc, "review", NULL);
        goto out;
    }
    for (;; op = MDB_NEXT) {
        mrc = mdb_cursor_get(cur, &k, &v, op);
        if (mrc == MDB_NOTFOUND)
            break;
        if (mrc != 0) {
            rc = ix_mdb_error(mrc, "review", NULL);
            goto out;
        }
        if ((rc = ix_review_decode(&k, &v, &e)) != 0) {
            ix_set_error("index review: a review queue entry is damaged or of an unknown "
                         "version; reindex");
            goto out;
        }
        rc = fn(&e, ctx);
        if (rc != 0) {
            rc = rc > 0 ? 0 : rc;
            goto out;
        }
    }
    rc = 0;
out:
    if (cur != NULL)
        mdb_cursor_close(cur);
    ix_read_end(ix, txn);
    return rc;
}

static int collect_review(const sv_index_review_entry *e, void *ctx)
{
    return collect(e, ctx);
}

int sv_index_review_list(sv_index *ix, sv_index_review_entry *entries, size_t cap,
                         size_t *n_total)
{
    struct collect_ctx c = {entries, sizeof *entries, cap, 0};
    int rc;

    if (n_total == NULL || (entries == NULL && cap > 0)) {
        ix_set_error("index review: invalid arguments");
        return SV_EINVAL;
    }
    *n_total = 0;
    rc = sv_index_review_each(ix, collect_review, &c);
    if (rc == 0)
        *n_total = c.n;
    return rc;
}

int sv_index_docs_each(sv_index *ix, sv_index_doc_fn fn, void *ctx)
{
    char docid[SV_INDEX_DOCID_MAX + 1];
    sv_index_record rec;
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    MDB_cursor_op op = MDB_FIRST;
    int rc, mrc;

    ix_clear_error();
    if (ix == NULL || fn == NULL) {
        ix_set_error("index docs: invalid arguments");
        return SV_EINVAL;
    }
    if ((rc = ix_read_begin(ix, &txn)) != 0)
        return rc;
    if ((mrc = mdb_cursor_open(txn, ix->docs, &cur)) != 0) {
        rc = ix_mdb_error(mrc, "docs", NULL);
        goto out;
    }
    for (;; op = MDB_NEXT) {
        mrc = mdb_cursor_get(cur, &k, &v, op);
        if (mrc == MDB_NOTFOUND)
            break;
        if (mrc != 0) {
            rc = ix_mdb_error(mrc, "docs", NULL);
            goto out;
        }
        /* A bad key or record is reported to the callback, not skipped:
         * verify wants to count it. */
        int rec_status = ix_docid_copy(&k, docid);
        if (rec_status == 0)
            rec_status = ix_record_decode(&v, &rec);
        else
            memset(&rec, 0, sizeof rec);
        rc = fn(docid, &rec, rec_status, ctx);
        if (rc != 0) {
            rc = rc > 0 ? 0 : rc;
            goto out;
        }
    }
    rc = 0;
out:
    if (cur != NULL)
        mdb_cursor_close(cur);
    ix_read_end(ix, txn);
    return rc;
}

/* Add one meta counter ("count:<state>:<type>") to the statistics. */
static void add_counter(sv_index_stats *st, const MDB_val *k, const MDB_val *v)
{
    static const sv_index_state states[] = {SV_INDEX_FILED, SV_INDEX_REVIEW,
                                            SV_INDEX_QUARANTINED};
    const char *key = (const char *)k->mv_data + strlen(IX_META_COUNT_PREFIX);
    size_t len = k->mv_size - strlen(IX_META_COUNT_PREFIX), pos;
    char type[SV_INDEX_TYPE_MAX + 1];
    uint64_t n;

    if (v->mv_size != 8)
        return;
    n = ix_get_le64(v->mv_data);
    for (size_t s = 0; s < sizeof states / sizeof states[0]; s++) {
        const char *name = sv_index_state_name(states[s]);
        size_t nl = strlen(name);
        if (len <= nl + 1 || len - nl - 1 > SV_INDEX_TYPE_MAX ||
            memcmp(key, name, nl) != 0 || key[nl] != ':')
            continue;
        memcpy(type, key + nl + 1, len - nl - 1);
        type[len - nl - 1] = '\0';
        st->by_state[states[s]] += n;
        /* types[] stays sorted by name: find the slot or insert one. */
        for (pos = 0; pos < st->n_types && strcmp(st->types[pos].type, type) < 0; pos++)
            ;
        if (pos == st->n_types || strcmp(st->types[pos].type, type) != 0) {
            if (st->n_types == SV_INDEX_STATS_TYPES) {
                st->types_truncated = true;
                return;
            }
            memmove(&st->types[pos + 1], &st->types[pos],
                    (st->n_types - pos) * sizeof st->types[0]);
            memset(&st->types[pos], 0, sizeof st->types[0]);
            memcpy(st->types[pos].type, type, strlen(type) + 1);
            st->n_types++;
        }
        st->types[pos].by_state[states[s]] += n;
        return;
    }
}

/* The LMDB part of sv_index_get_stats(): entry counts and the meta counters.
 * Returns an LMDB code. */
static int read_counts(sv_index *ix, MDB_txn *txn, sv_index_stats *st)
{
    size_t plen = strlen(IX_META_COUNT_PREFIX);
    MDB_cursor *cur = NULL;
    MDB_cursor_op op = MDB_SET_RANGE;
    MDB_stat ms;
    MDB_val k, v;
    int mrc;

    if ((mrc = mdb_stat(txn, ix->docs, &ms)) != 0)
        return mrc;
    st->docs = ms.ms_entries;
    if ((mrc = mdb_stat(txn, ix->review, &ms)) != 0)
        return mrc;
    st->review_queue = ms.ms_entries;
    if ((mrc = mdb_cursor_open(txn, ix->meta, &cur)) != 0)
        return mrc;
    /* The counters are the meta keys starting with "count:", in key order. */
    k = (MDB_val){plen, (void *)IX_META_COUNT_PREFIX};
    for (;; op = MDB_NEXT) {
        mrc = mdb_cursor_get(cur, &k, &v, op);
        if (mrc != 0 || k.mv_size <= plen || memcmp(k.mv_data, IX_META_COUNT_PREFIX, plen) != 0)
            break;
        add_counter(st, &k, &v);
    }
    mdb_cursor_close(cur);
    return mrc == MDB_NOTFOUND ? 0 : mrc;
}

int sv_index_get_stats(sv_index *ix, sv_index_stats *st)
{
    MDB_txn *txn = NULL;
    MDB_envinfo info;
    int rc, mrc;

    ix_clear_error();
    if (st == NULL)
        return SV_EINVAL;
    memset(st, 0, sizeof *st);
    if (ix == NULL)
        return SV_EINVAL;
    if ((rc = ix_read_begin(ix, &txn)) != 0)
        return rc;
    mrc = read_counts(ix, txn, st);
    if (mrc != 0) {
        rc = ix_mdb_error(mrc, "stats", NULL);
        goto out;
    }
    mdb_env_info(ix->env, &info);
    st->schema_version = SV_INDEX_SCHEMA_VERSION;
    st->map_size = info.me_mapsize;
    st->map_used = (info.me_last_pgno + 1) * (uint64_t)ix->page_size;
    st->map_max = ix->map_max;
    st->page_size = (uint32_t)ix->page_size;
    st->readers_used = info.me_numreaders;
    st->readers_max = info.me_maxreaders;
    st->stale_readers_cleared = ix->stale_readers_cleared;
    memcpy(st->key_id, ix->key_id, ix->key_id_len);
    st->key_id_len = ix->key_id_len;
out:
    ix_read_end(ix, txn);
    return rc;
}
