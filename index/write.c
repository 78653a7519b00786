/*
 * write.c - everything that changes the index one document at a time: put
 * (alone or as a batch), file a document from review, reassign, delete.
 *
 * Each public function checks its arguments before any transaction, then
 * hands one write step to ix_write(), which runs it in one synchronous
 * transaction (again from the start after a map resize). A step either
 * completes every entry of a document (record, content id, by_mrn or review
 * entry, counters) or returns an error and the transaction is aborted: no
 * document is ever half in the index.
 */
#include <string.h>

#include "index_internal.h"

/* The review time a record is queued under (0 means "its intake time"). */
static int64_t review_since_of(const sv_index_record *rec)
{
    return rec->review_since != 0 ? rec->review_since : rec->intake_time;
}

int ix_count_add(sv_index *ix, MDB_txn *txn, sv_index_state state, const char *type,
                 int64_t delta)
{
    char key[IX_COUNT_KEY_MAX];
    uint8_t bytes[8];
    MDB_val k, v;
    uint64_t n = 0;
    int mrc;

    k.mv_size = ix_count_key(state, type, key);
    k.mv_data = key;
    mrc = mdb_get(txn, ix->meta, &k, &v);
    if (mrc == 0 && v.mv_size == 8)
        n = ix_get_le64(v.mv_data);
    else if (mrc != 0 && mrc != MDB_NOTFOUND)
        return ix_mdb_error(mrc, "count", NULL);
    /* A counter never goes below zero; sv_index_check() reports a drift. */
    if (delta < 0)
        n = n > (uint64_t)-delta ? n - (uint64_t)-delta : 0;
    else
        n += (uint64_t)delta;
    if (n == 0) {
        mrc = mdb_del(txn, ix->meta, &k, NULL);
        if (mrc == MDB_NOTFOUND)
            mrc = 0;
    } else {
        ix_put_le64(bytes, n);
        v = (MDB_val){sizeof bytes, bytes};
        mrc = mdb_put(txn, ix->meta, &k, &v, 0);
    }
    return mrc == 0 ? 0 : ix_mdb_error(mrc, "count", NULL);
}

/* The entries beside the record: by_mrn (filed) or review (in review), and
 * the counter. The by_hash entry is the caller's (put and bulk differ). */
int ix_put_links(sv_index *ix, MDB_txn *txn, const char *docid, const sv_index_record *rec)
{
    uint8_t buf[IX_DUP_MAX], val[IX_REVIEW_VAL_MAX];
    MDB_val k, v;
    int mrc = 0;

    if (rec->state == SV_INDEX_FILED) {
        k = (MDB_val){SV_INDEX_BLIND_LEN, (void *)rec->blind_mrn};
        v.mv_size = ix_dup_encode(rec->intake_time, docid, rec->type, buf);
        v.mv_data = buf;
        mrc = mdb_put(txn, ix->by_mrn, &k, &v, MDB_NODUPDATA);
    } else if (rec->state == SV_INDEX_REVIEW) {
        k.mv_size = ix_review_key(review_since_of(rec), docid, buf);
        k.mv_data = buf;
        v.mv_size = ix_review_val(rec->reason, val);
        v.mv_data = val;
        mrc = mdb_put(txn, ix->review, &k, &v, MDB_NOOVERWRITE);
    }
    if (mrc != 0)
        return ix_mdb_error(mrc, "put", docid);
    return ix_count_add(ix, txn, rec->state, rec->type, 1);
}

/* Undo ix_put_links() and the by_hash entry for a record being removed or
 * changed. Missing entries are tolerated so that a damaged index can still
 * be cleaned up document by document. */
static int unlink_doc(sv_index *ix, MDB_txn *txn, const char *docid, const sv_index_record *rec,
                      bool drop_hash)
{
    uint8_t buf[IX_DUP_MAX];
    MDB_val k, v;
    int mrc = 0;

    if (rec->state == SV_INDEX_FILED) {
        k = (MDB_val){SV_INDEX_BLIND_LEN, (void *)rec->blind_mrn};
        v.mv_size = ix_dup_encode(rec->intake_time, docid, rec->type, buf);
        v.mv_data = buf;
        mrc = mdb_del(txn, ix->by_mrn, &k, &v);
    } else if (rec->state == SV_INDEX_REVIEW) {
        k.mv_size = ix_review_key(review_since_of(rec), docid, buf);
        k.mv_data = buf;
        mrc = mdb_del(txn, ix->review, &k, NULL);
    }
    if (mrc == 0 && drop_hash) {
        k = (MDB_val){SV_INDEX_CONTENT_ID_LEN, (void *)rec->content_id};
        mrc = mdb_get(txn, ix->by_hash, &k, &v);
        if (mrc == 0 && v.mv_size == strlen(docid) && memcmp(v.mv_data, docid, v.mv_size) == 0)
            mrc = mdb_del(txn, ix->by_hash, &k, NULL);
    }
    if (mrc != 0 && mrc != MDB_NOTFOUND)
        return ix_mdb_error(mrc, "unlink", docid);
    return ix_count_add(ix, txn, rec->state, rec->type, -1);
}

static int put_record(sv_index *ix, MDB_txn *txn, const char *docid, const sv_index_record *rec,
                      unsigned flags)
{
    uint8_t bytes[IX_REC_SIZE];
    MDB_val k = {strlen(docid), (void *)docid}, v = {sizeof bytes, bytes};
    int mrc;

    ix_record_encode(rec, bytes);
    mrc = mdb_put(txn, ix->docs, &k, &v, flags);
    if (mrc == MDB_KEYEXIST) {
        ix_set_error("index put %s: the docid is already used by a document with other "
                     "content; docids must be unique", docid);
        return SV_EINVAL;
    }
    return mrc == 0 ? 0 : ix_mdb_error(mrc, "put", docid);
}

/* Read and decode the record of docid inside txn, with a message on failure. */
static int load_record(sv_index *ix, MDB_txn *txn, const char *what, const char *docid,
                       sv_index_record *rec)
{
    MDB_val k = {strlen(docid), (void *)docid}, v;
    int mrc = mdb_get(txn, ix->docs, &k, &v);
    int rc;

    if (mrc == MDB_NOTFOUND) {
        memset(rec, 0, sizeof *rec);
        ix_set_error("index %s %s: no such document in the index", what, docid);
        return SV_ENOTFOUND;
    }
    if (mrc != 0)
        return ix_mdb_error(mrc, what, docid);
    rc = ix_record_decode(&v, rec);
    if (rc == SV_EVERSION)
        ix_set_error("index %s %s: the record has a version this build cannot read; "
                     "use a matching scanvault or reindex", what, docid);
    else if (rc != 0)
        ix_set_error("index %s %s: the record is damaged; reindex", what, docid);
    return rc;
}

static int put_one(sv_index *ix, MDB_txn *txn, const sv_index_doc *doc,
                   sv_index_put_result *res)
{
    MDB_val k = {SV_INDEX_CONTENT_ID_LEN, (void *)doc->rec.content_id};
    MDB_val v = {strlen(doc->docid), (void *)doc->docid};
    int mrc, rc;

    mrc = mdb_get(txn, ix->by_hash, &k, &v);
    if (mrc == 0) {
        if (ix_docid_copy(&v, res->existing_docid) != 0) {
            ix_set_error("index put %s: a content id entry is damaged; reindex", doc->docid);
            return SV_EFORMAT;
        }
        res->status = SV_EEXIST;
        return 0;
    }
    if (mrc != MDB_NOTFOUND)
        return ix_mdb_error(mrc, "put", doc->docid);
    v = (MDB_val){strlen(doc->docid), (void *)doc->docid};
    mrc = mdb_put(txn, ix->by_hash, &k, &v, MDB_NOOVERWRITE);
    if (mrc != 0)
        return ix_mdb_error(mrc, "put", doc->docid);
    if ((rc = put_record(ix, txn, doc->docid, &doc->rec, MDB_NOOVERWRITE)) != 0)
        return rc;
    return ix_put_links(ix, txn, doc->docid, &doc->rec);
}

struct batch_ctx {
    const sv_index_doc *docs;
    size_t n;
    sv_index_put_result *results;
};

static int batch_step(sv_index *ix, MDB_txn *txn, void *arg)
{
    struct batch_ctx *c = arg;

    memset(c->results, 0, c->n * sizeof c->results[0]);
    for (size_t i = 0; i < c->n; i++) {
        int rc = put_one(ix, txn, &c->docs[i], &c->results[i]);
        if (rc != 0) {
            if (rc != IX_EMAPFULL)
                c->results[i].status = rc;
            return rc;
        }
    }
    return 0;
}

int sv_index_put_batch(sv_index *ix, const sv_index_doc *docs, size_t n,
                       sv_index_put_result *results)
{
    struct batch_ctx c = {docs, n, results};
    int rc;

    ix_clear_error();
    if (results != NULL)
        memset(results, 0, n * sizeof results[0]);
    if (ix == NULL || (n > 0 && (docs == NULL || results == NULL))) {
        ix_set_error("index put: invalid arguments");
        return SV_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        if ((rc = ix_check_record(docs[i].docid, &docs[i].rec)) != 0) {
            results[i].status = rc;
            return rc;
        }
    }
    if (n == 0)
        return 0;
    rc = ix_write(ix, "put", n == 1 ? docs[0].docid : NULL, batch_step, &c);
    if (rc != 0) {
        /* Nothing was written: only the document at fault keeps a status. */
        for (size_t i = 0; i < n; i++)
            if (results[i].status == SV_EEXIST)
                results[i] = (sv_index_put_result){0};
    }
    return rc;
}

int sv_index_put(sv_index *ix, const char *docid, const sv_index_record *rec,
                 char existing[SV_INDEX_DOCID_MAX + 1])
{
    sv_index_doc doc;
    sv_index_put_result res;
    int rc;

    if (existing != NULL)
        existing[0] = '\0';
    ix_clear_error();
    if ((rc = ix_check_record(docid, rec)) != 0)
        return rc;
    doc.docid = docid;
    doc.rec = *rec;
    rc = sv_index_put_batch(ix, &doc, 1, &res);
    if (rc == 0 && res.status == SV_EEXIST) {
        if (existing != NULL)
            memcpy(existing, res.existing_docid, sizeof res.existing_docid);
        ix_set_error("index put %s: this content is already indexed as %s", docid,
                     res.existing_docid);
        rc = SV_EEXIST;
    }
    return rc;
}

struct move_ctx {
    const char *docid;
    const uint8_t *blind;
    const char *type;
};

static int file_review_step(sv_index *ix, MDB_txn *txn, void *arg)
{
    struct move_ctx *c = arg;
    sv_index_record rec;
    int rc;

    if ((rc = load_record(ix, txn, "file review", c->docid, &rec)) != 0)
        return rc;
    if (rec.state != SV_INDEX_REVIEW) {
        ix_set_error("index file review %s: the document is not in review (it is %s)",
                     c->docid, sv_index_state_name(rec.state));
        return SV_EINVAL;
    }
    if ((rc = unlink_doc(ix, txn, c->docid, &rec, false)) != 0)
        return rc;
    rec.state = SV_INDEX_FILED;
    memcpy(rec.blind_mrn, c->blind, SV_INDEX_BLIND_LEN);
    if (c->type != NULL) {
        memset(rec.type, 0, sizeof rec.type);
        memcpy(rec.type, c->type, strlen(c->type));
    }
    memset(rec.reason, 0, sizeof rec.reason);
    rec.review_since = 0;
    if ((rc = put_record(ix, txn, c->docid, &rec, 0)) != 0)
        return rc;
    return ix_put_links(ix, txn, c->docid, &rec);
}

static int check_move_args(sv_index *ix, const char *what, const char *docid,
                           const uint8_t *blind, const char *type)
{
    if (ix == NULL || !sv_index_docid_ok(docid)) {
        ix_set_error("index %s: invalid handle or docid", what);
        return SV_EINVAL;
    }
    if (blind == NULL || ix_is_zero(blind, SV_INDEX_BLIND_LEN)) {
        ix_set_error("index %s %s: no blind MRN given", what, docid);
        return SV_EINVAL;
    }
    if (type != NULL && !sv_index_type_ok(type)) {
        ix_set_error("index %s %s: invalid type name (1 to 31 of a-z and _)", what, docid);
        return SV_EINVAL;
    }
    return 0;
}

int sv_index_file_review(sv_index *ix, const char *docid,
                         const uint8_t blind_mrn[SV_INDEX_BLIND_LEN], const char *type)
{
    struct move_ctx c = {docid, blind_mrn, type};
    int rc;

    ix_clear_error();
    if ((rc = check_move_args(ix, "file review", docid, blind_mrn, type)) != 0)
        return rc;
    return ix_write(ix, "file review", docid, file_review_step, &c);
}

static int reassign_step(sv_index *ix, MDB_txn *txn, void *arg)
{
    struct move_ctx *c = arg;
    sv_index_record rec;
    int rc;

    if ((rc = load_record(ix, txn, "reassign", c->docid, &rec)) != 0)
        return rc;
    if (rec.state != SV_INDEX_FILED) {
        ix_set_error("index reassign %s: only a filed document can be reassigned (it is %s)",
                     c->docid, sv_index_state_name(rec.state));
        return SV_EINVAL;
    }
    if (memcmp(rec.blind_mrn, c->blind, SV_INDEX_BLIND_LEN) == 0)
        return 0;
    if ((rc = unlink_doc(ix, txn, c->docid, &rec, false)) != 0)
        return rc;
    memcpy(rec.blind_mrn, c->blind, SV_INDEX_BLIND_LEN);
    if ((rc = put_record(ix, txn, c->docid, &rec, 0)) != 0)
        return rc;
    return ix_put_links(ix, txn, c->docid, &rec);
}

int sv_index_reassign(sv_index *ix, const char *docid,
                      const uint8_t blind_mrn[SV_INDEX_BLIND_LEN])
{
    struct move_ctx c = {docid, blind_mrn, NULL};
    int rc;

    ix_clear_error();
    if ((rc = check_move_args(ix, "reassign", docid, blind_mrn, NULL)) != 0)
        return rc;
    return ix_write(ix, "reassign", docid, reassign_step, &c);
}

struct reject_ctx {
    const char *docid;
    const char *reason;
};

static int reject_review_step(sv_index *ix, MDB_txn *txn, void *arg)
{
    struct reject_ctx *c = arg;
    sv_index_record rec;
    int rc;

    if ((rc = load_record(ix, txn, "reject review", c->docid, &rec)) != 0)
        return rc;
    if (rec.state != SV_INDEX_REVIEW) {
        ix_set_error("index reject review %s: the document is not in review (it is %s)",
                     c->docid, sv_index_state_name(rec.state));
        return SV_EINVAL;
    }
    if ((rc = unlink_doc(ix, txn, c->docid, &rec, false)) != 0)
        return rc;
    rec.state = SV_INDEX_QUARANTINED;
    memset(rec.reason, 0, sizeof rec.reason);
    memcpy(rec.reason, c->reason, strlen(c->reason));
    rec.review_since = 0;
    if ((rc = put_record(ix, txn, c->docid, &rec, 0)) != 0)
        return rc;
    return ix_put_links(ix, txn, c->docid, &rec);
}

int sv_index_reject_review(sv_index *ix, const char *docid, const char *reason)
{
    struct reject_ctx c = {docid, reason};

    ix_clear_error();
    if (ix == NULL || !sv_index_docid_ok(docid)) {
        ix_set_error("index reject review: invalid handle or docid");
        return SV_EINVAL;
    }
    if (reason == NULL || !sv_index_reason_ok(reason)) {
        ix_set_error("index reject review %s: invalid reason code (1 to 31 of a-z and _)", docid);
        return SV_EINVAL;
    }
    return ix_write(ix, "reject review", docid, reject_review_step, &c);
}

static int delete_step(sv_index *ix, MDB_txn *txn, void *arg)
{
    const char *docid = arg;
    MDB_val k = {strlen(docid), (void *)docid};
    sv_index_record rec;
    int rc, mrc;

    if ((rc = load_record(ix, txn, "delete", docid, &rec)) != 0)
        return rc;
    if ((rc = unlink_doc(ix, txn, docid, &rec, true)) != 0)
        return rc;
    mrc = mdb_del(txn, ix->docs, &k, NULL);
    return mrc == 0 ? 0 : ix_mdb_error(mrc, "delete", docid);
}

int sv_index_delete(sv_index *ix, const char *docid)
{
    ix_clear_error();
    if (ix == NULL || !sv_index_docid_ok(docid)) {
        ix_set_error("index delete: invalid handle or docid");
        return SV_EINVAL;
    }
    return ix_write(ix, "delete", docid, delete_step, (void *)docid);
}
