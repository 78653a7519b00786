/*
 * check.c - do the five databases agree? Every record readable and linked
 * from by_hash and, by its state, from by_mrn or review; every by_hash,
 * by_mrn and review entry pointing at a record that says the same; every
 * meta counter equal to a recount. Used by `scanvault verify` and by the
 * tests after every kind of write (a half-written document shows up here).
 */
#include <stdlib.h>
#include <string.h>

#include "index_internal.h"

/* Recounted (state, type) counters; a handful in practice. */
#define IX_CHECK_MAX_COUNTERS 4096

struct tally {
    char key[IX_COUNT_KEY_MAX];
    uint64_t n;
    bool seen;
};

struct check {
    sv_index *ix;
    MDB_txn *txn;
    sv_index_check_report *rep;
    struct tally *t;
    size_t n_t, cap_t;
};

static void tally_add(struct check *c, const sv_index_record *rec)
{
    char key[IX_COUNT_KEY_MAX];
    size_t i;

    ix_count_key(rec->state, rec->type, key);
    for (i = 0; i < c->n_t && strcmp(c->t[i].key, key) != 0; i++)
        ;
    if (i == c->n_t) {
        if (c->n_t == c->cap_t) {
            size_t cap = c->cap_t ? c->cap_t * 2 : 16;
            struct tally *t = cap <= IX_CHECK_MAX_COUNTERS ? realloc(c->t, cap * sizeof *t) : NULL;
            if (t == NULL) {
                c->rep->bad_counters++;
                return;
            }
            c->t = t;
            c->cap_t = cap;
        }
        memset(&c->t[i], 0, sizeof c->t[i]);
        memcpy(c->t[i].key, key, sizeof key);
        c->n_t++;
    }
    c->t[i].n++;
}

/* The record of docid, or false when missing or unreadable. */
static bool find_record(struct check *c, const char *docid, sv_index_record *rec)
{
    MDB_val k = {strlen(docid), (void *)docid}, v;
    return mdb_get(c->txn, c->ix->docs, &k, &v) == 0 && ix_record_decode(&v, rec) == 0;
}

/* The links a readable record must have. Returns an LMDB code. */
static int check_links(struct check *c, const char *docid, const sv_index_record *rec)
{
    uint8_t buf[IX_DUP_MAX], val[IX_REVIEW_VAL_MAX];
    MDB_cursor *cur = NULL;
    MDB_val k = {SV_INDEX_CONTENT_ID_LEN, (void *)rec->content_id}, v;
    bool ok;
    int mrc;

    mrc = mdb_get(c->txn, c->ix->by_hash, &k, &v);
    ok = mrc == 0 && v.mv_size == strlen(docid) && memcmp(v.mv_data, docid, v.mv_size) == 0;
    if (rec->state == SV_INDEX_FILED && ok) {
        if ((mrc = mdb_cursor_open(c->txn, c->ix->by_mrn, &cur)) != 0)
            return mrc;
        k = (MDB_val){SV_INDEX_BLIND_LEN, (void *)rec->blind_mrn};
        v.mv_size = ix_dup_encode(rec->intake_time, docid, rec->type, buf);
        v.mv_data = buf;
        ok = mdb_cursor_get(cur, &k, &v, MDB_GET_BOTH) == 0;
        mdb_cursor_close(cur);
    } else if (rec->state == SV_INDEX_REVIEW && ok) {
        k.mv_size = ix_review_key(rec->review_since, docid, buf);
        k.mv_data = buf;
        mrc = mdb_get(c->txn, c->ix->review, &k, &v);
        ok = mrc == 0 && v.mv_size == ix_review_val(rec->reason, val) &&
             memcmp(v.mv_data, val, v.mv_size) == 0;
    }
    if (!ok)
        c->rep->missing_links++;
    return 0;
}

/* Walk one database; visit gets each entry. Returns an LMDB code. */
static int walk(struct check *c, MDB_dbi dbi,
                int (*visit)(struct check *c, const MDB_val *k, const MDB_val *v))
{
    MDB_cursor *cur = NULL;
    MDB_cursor_op op = MDB_FIRST;
    MDB_val k, v;
    int mrc = mdb_cursor_open(c->txn, dbi, &cur);

    for (; mrc == 0; op = MDB_NEXT) {
        mrc = mdb_cursor_get(cur, &k, &v, op);
        if (mrc == 0)
            mrc = visit(c, &k, &v);
    }
    if (cur != NULL)
        mdb_cursor_close(cur);
    return mrc == MDB_NOTFOUND ? 0 : mrc;
}

static int visit_doc(struct check *c, const MDB_val *k, const MDB_val *v)
{
    char docid[SV_INDEX_DOCID_MAX + 1];
    sv_index_record rec;

    c->rep->docs_checked++;
    if (ix_docid_copy(k, docid) != 0 || ix_record_decode(v, &rec) != 0) {
        c->rep->bad_records++;
        return 0;
    }
    tally_add(c, &rec);
    return check_links(c, docid, &rec);
}

static int visit_hash(struct check *c, const MDB_val *k, const MDB_val *v)
{
    char docid[SV_INDEX_DOCID_MAX + 1];
    sv_index_record rec;

    if (ix_docid_copy(v, docid) != 0 || !find_record(c, docid, &rec) ||
        memcmp(rec.content_id, k->mv_data, SV_INDEX_CONTENT_ID_LEN) != 0)
        c->rep->dangling_links++;
    return 0;
}

static int visit_mrn(struct check *c, const MDB_val *k, const MDB_val *v)
{
    sv_index_hit hit;
    sv_index_record rec;

    if (k->mv_size != SV_INDEX_BLIND_LEN || ix_dup_decode(v, &hit) != 0 ||
        !find_record(c, hit.docid, &rec) || rec.state != SV_INDEX_FILED ||
        memcmp(rec.blind_mrn, k->mv_data, SV_INDEX_BLIND_LEN) != 0 ||
        rec.intake_time != hit.intake_time || strcmp(rec.type, hit.type) != 0)
        c->rep->dangling_links++;
    return 0;
}

static int visit_review(struct check *c, const MDB_val *k, const MDB_val *v)
{
    sv_index_review_entry e;
    sv_index_record rec;

    if (ix_review_decode(k, v, &e) != 0 || !find_record(c, e.docid, &rec) ||
        rec.state != SV_INDEX_REVIEW || rec.review_since != e.since ||
        strcmp(rec.reason, e.reason) != 0)
        c->rep->dangling_links++;
    return 0;
}

static int visit_meta(struct check *c, const MDB_val *k, const MDB_val *v)
{
    size_t plen = strlen(IX_META_COUNT_PREFIX);
    size_t i;

    if (k->mv_size <= plen || memcmp(k->mv_data, IX_META_COUNT_PREFIX, plen) != 0)
        return 0;
    for (i = 0; i < c->n_t; i++)
        if (strlen(c->t[i].key) == k->mv_size && memcmp(c->t[i].key, k->mv_data, k->mv_size) == 0)
            break;
    if (i == c->n_t || v->mv_size != 8 || ix_get_le64(v->mv_data) != c->t[i].n)
        c->rep->bad_counters++;
    if (i < c->n_t)
        c->t[i].seen = true;
    return 0;
}

int sv_index_check(sv_index *ix, sv_index_check_report *rep)
{
    struct check c = {.ix = ix, .rep = rep};
    int rc, mrc;

    ix_clear_error();
    if (rep == NULL)
        return SV_EINVAL;
    memset(rep, 0, sizeof *rep);
    if (ix == NULL)
        return SV_EINVAL;
    if ((rc = ix_read_begin(ix, &c.txn)) != 0)
        return rc;
    if ((mrc = walk(&c, ix->docs, visit_doc)) != 0 ||
        (mrc = walk(&c, ix->by_hash, visit_hash)) != 0 ||
        (mrc = walk(&c, ix->by_mrn, visit_mrn)) != 0 ||
        (mrc = walk(&c, ix->review, visit_review)) != 0 ||
        (mrc = walk(&c, ix->meta, visit_meta)) != 0) {
        rc = ix_mdb_error(mrc, "check", NULL);
        goto out;
    }
    for (size_t i = 0; i < c.n_t; i++)
        if (!c.t[i].seen)
            rep->bad_counters++;
    if (rep->bad_records || rep->missing_links || rep->dangling_links || rep->bad_counters) {
        ix_set_error("index check %s: %llu unreadable records, %llu missing and %llu "
                     "dangling links, %llu wrong counters; rebuild with 'scanvault reindex'",
                     ix->path, (unsigned long long)rep->bad_records,
                     (unsigned long long)rep->missing_links,
                     (unsigned long long)rep->dangling_links,
                     (unsigned long long)rep->bad_counters);
        rc = SV_EINDEX;
    }
out:
    ix_read_end(ix, c.txn);
    free(c.t);
    return rc;
}
