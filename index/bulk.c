/*
 * bulk.c - load many documents in one transaction (reindex, benchmarks).
 *
 * The documents are sorted once per database (docid; content id; blind MRN
 * and newest first; review time) and each database is written in its key
 * order through one cursor. Keys that sort after the last key already in a
 * database go in with MDB_APPEND (MDB_APPENDDUP for the further duplicates
 * of a new blind MRN): LMDB then fills pages completely and never searches
 * the tree. On an empty index that is every key. Keys that fall among
 * existing ones take the ordinary path.
 *
 * All or nothing: a docid or content id that is already present, or present
 * twice in the load, fails the whole load before anything is committed.
 */
#include <stdlib.h>
#include <string.h>

#include "index_internal.h"

/* Bytes of data.mdb a loaded document needs, generously: bench_find
 * measured 311 bytes/doc for 1M documents loaded into an empty index and
 * 454 for 3M loaded 1M at a time (later loads land among existing keys, in
 * half-full pages). The map is grown by this much per document before the
 * load so that the one big transaction rarely has to restart. */
#define IX_BULK_BYTES_PER_DOC 768

/* LMDB's default key order: memcmp over the shorter length, then shorter
 * first. The sorts below must agree with it for MDB_APPEND to be valid. */
static int cmp_bytes(const void *a, size_t alen, const void *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c != 0)
        return c;
    return alen < blen ? -1 : alen > blen;
}

static int by_docid(const void *pa, const void *pb, void *arg)
{
    const sv_index_doc *d = arg;
    return strcmp(d[*(const size_t *)pa].docid, d[*(const size_t *)pb].docid);
}

static int by_content(const void *pa, const void *pb, void *arg)
{
    const sv_index_doc *d = arg;
    return memcmp(d[*(const size_t *)pa].rec.content_id, d[*(const size_t *)pb].rec.content_id,
                  SV_INDEX_CONTENT_ID_LEN);
}

/* blind MRN, then newest first, then docid: the by_mrn order. */
static int by_mrn(const void *pa, const void *pb, void *arg)
{
    const sv_index_doc *a = (const sv_index_doc *)arg + *(const size_t *)pa;
    const sv_index_doc *b = (const sv_index_doc *)arg + *(const size_t *)pb;
    int c = memcmp(a->rec.blind_mrn, b->rec.blind_mrn, SV_INDEX_BLIND_LEN);
    if (c != 0)
        return c;
    if (a->rec.intake_time != b->rec.intake_time)
        return a->rec.intake_time > b->rec.intake_time ? -1 : 1;
    return strcmp(a->docid, b->docid);
}

static int64_t since_of(const sv_index_record *rec)
{
    return rec->review_since != 0 ? rec->review_since : rec->intake_time;
}

static int by_review(const void *pa, const void *pb, void *arg)
{
    const sv_index_doc *a = (const sv_index_doc *)arg + *(const size_t *)pa;
    const sv_index_doc *b = (const sv_index_doc *)arg + *(const size_t *)pb;
    if (since_of(&a->rec) != since_of(&b->rec))
        return since_of(&a->rec) < since_of(&b->rec) ? -1 : 1;
    return strcmp(a->docid, b->docid);
}

/* State, then type: runs of equal counters. */
static int by_counter(const void *pa, const void *pb, void *arg)
{
    const sv_index_doc *a = (const sv_index_doc *)arg + *(const size_t *)pa;
    const sv_index_doc *b = (const sv_index_doc *)arg + *(const size_t *)pb;
    if (a->rec.state != b->rec.state)
        return a->rec.state < b->rec.state ? -1 : 1;
    return strcmp(a->rec.type, b->rec.type);
}

struct bulk {
    const sv_index_doc *docs;
    size_t n;
    size_t *ord_docid, *ord_content, *ord_mrn, *ord_review, *ord_count;
    size_t n_mrn, n_review;
};

/* The last key of a database, copied (the map memory may change under a
 * write). *has_last is false for an empty database. */
static int last_key(MDB_cursor *cur, uint8_t *buf, size_t cap, size_t *len, bool *has_last)
{
    MDB_val k, v;
    int mrc = mdb_cursor_get(cur, &k, &v, MDB_LAST);

    *has_last = false;
    *len = 0;
    if (mrc == MDB_NOTFOUND)
        return 0;
    if (mrc != 0)
        return mrc;
    *len = k.mv_size < cap ? k.mv_size : cap;
    memcpy(buf, k.mv_data, *len);
    *has_last = true;
    return 0;
}

/* Write one database in sorted order. key_of/val_of build the entry of a
 * document; dupsort databases get MDB_APPENDDUP for further duplicates. */
typedef void (*entry_fn)(const sv_index_doc *doc, MDB_val *k, MDB_val *v, uint8_t *kbuf,
                         uint8_t *vbuf);

static int load_db(MDB_txn *txn, MDB_dbi dbi, const struct bulk *b,
                   const size_t *ord, size_t n, entry_fn entry, bool dupsort)
{
    uint8_t last[IX_REVIEW_KEY_MAX + 8], kbuf[IX_DUP_MAX + 8], vbuf[IX_REC_SIZE + 8];
    uint8_t prev[IX_REVIEW_KEY_MAX + 8];
    size_t last_len, prev_len = 0;
    bool has_last, appending = false, have_prev = false;
    const sv_index_doc *doc = NULL;
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    int mrc;

    if ((mrc = mdb_cursor_open(txn, dbi, &cur)) != 0)
        return ix_mdb_error(mrc, "bulk load", NULL);
    if ((mrc = last_key(cur, last, sizeof last, &last_len, &has_last)) != 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        unsigned flags;

        doc = &b->docs[ord[i]];
        entry(doc, &k, &v, kbuf, vbuf);
        if (!appending)
            appending = !has_last || cmp_bytes(k.mv_data, k.mv_size, last, last_len) > 0;
        if (appending && dupsort && have_prev &&
            cmp_bytes(k.mv_data, k.mv_size, prev, prev_len) == 0)
            flags = MDB_APPENDDUP;
        else if (appending)
            flags = MDB_APPEND;
        else
            flags = dupsort ? MDB_NODUPDATA : MDB_NOOVERWRITE;
        if ((mrc = mdb_cursor_put(cur, &k, &v, flags)) != 0)
            goto out;
        prev_len = k.mv_size < sizeof prev ? k.mv_size : sizeof prev;
        memcpy(prev, k.mv_data, prev_len);
        have_prev = true;
    }
out:
    mdb_cursor_close(cur);
    if (mrc == MDB_KEYEXIST) {
        ix_set_error("index bulk load %s: already in the index (docid or content id)",
                     doc ? doc->docid : "");
        return SV_EEXIST;
    }
    return mrc == 0 ? 0 : ix_mdb_error(mrc, "bulk load", doc ? doc->docid : NULL);
}

static void docs_entry(const sv_index_doc *doc, MDB_val *k, MDB_val *v, uint8_t *kbuf,
                       uint8_t *vbuf)
{
    (void)kbuf;
    *k = (MDB_val){strlen(doc->docid), (void *)doc->docid};
    ix_record_encode(&doc->rec, vbuf);
    *v = (MDB_val){IX_REC_SIZE, vbuf};
}

static void content_entry(const sv_index_doc *doc, MDB_val *k, MDB_val *v, uint8_t *kbuf,
                          uint8_t *vbuf)
{
    (void)kbuf;
    (void)vbuf;
    *k = (MDB_val){SV_INDEX_CONTENT_ID_LEN, (void *)doc->rec.content_id};
    *v = (MDB_val){strlen(doc->docid), (void *)doc->docid};
}

static void mrn_entry(const sv_index_doc *doc, MDB_val *k, MDB_val *v, uint8_t *kbuf,
                      uint8_t *vbuf)
{
    (void)kbuf;
    *k = (MDB_val){SV_INDEX_BLIND_LEN, (void *)doc->rec.blind_mrn};
    v->mv_size = ix_dup_encode(doc->rec.intake_time, doc->docid, doc->rec.type, vbuf);
    v->mv_data = vbuf;
}

static void review_entry(const sv_index_doc *doc, MDB_val *k, MDB_val *v, uint8_t *kbuf,
                         uint8_t *vbuf)
{
    k->mv_size = ix_review_key(since_of(&doc->rec), doc->docid, kbuf);
    k->mv_data = kbuf;
    v->mv_size = ix_review_val(doc->rec.reason, vbuf);
    v->mv_data = vbuf;
}

static int bulk_step(sv_index *ix, MDB_txn *txn, void *arg)
{
    const struct bulk *b = arg;
    int rc;

    if ((rc = load_db(txn, ix->docs, b, b->ord_docid, b->n, docs_entry, false)) != 0 ||
        (rc = load_db(txn, ix->by_hash, b, b->ord_content, b->n, content_entry, false)) != 0 ||
        (rc = load_db(txn, ix->by_mrn, b, b->ord_mrn, b->n_mrn, mrn_entry, true)) != 0 ||
        (rc = load_db(txn, ix->review, b, b->ord_review, b->n_review, review_entry,
                      false)) != 0)
        return rc;
    /* One counter update per run of equal (state, type). */
    for (size_t i = 0, run; i < b->n; i += run) {
        const sv_index_record *r = &b->docs[b->ord_count[i]].rec;
        for (run = 1; i + run < b->n; run++) {
            const sv_index_record *s = &b->docs[b->ord_count[i + run]].rec;
            if (s->state != r->state || strcmp(s->type, r->type) != 0)
                break;
        }
        if ((rc = ix_count_add(ix, txn, r->state, r->type, (int64_t)run)) != 0)
            return rc;
    }
    return 0;
}

/* Sort, and find a docid or content id given twice. */
static int prepare(struct bulk *b)
{
    const sv_index_doc *d = b->docs;

    for (size_t i = 0; i < b->n; i++) {
        b->ord_docid[i] = b->ord_content[i] = b->ord_count[i] = i;
        if (d[i].rec.state == SV_INDEX_FILED)
            b->ord_mrn[b->n_mrn++] = i;
        else if (d[i].rec.state == SV_INDEX_REVIEW)
            b->ord_review[b->n_review++] = i;
    }
    qsort_r(b->ord_docid, b->n, sizeof(size_t), by_docid, (void *)d);
    qsort_r(b->ord_content, b->n, sizeof(size_t), by_content, (void *)d);
    qsort_r(b->ord_mrn, b->n_mrn, sizeof(size_t), by_mrn, (void *)d);
    qsort_r(b->ord_review, b->n_review, sizeof(size_t), by_review, (void *)d);
    qsort_r(b->ord_count, b->n, sizeof(size_t), by_counter, (void *)d);
    for (size_t i = 1; i < b->n; i++) {
        if (by_docid(&b->ord_docid[i - 1], &b->ord_docid[i], (void *)d) == 0) {
            ix_set_error("index bulk load %s: the docid is given twice",
                         d[b->ord_docid[i]].docid);
            return SV_EEXIST;
        }
        if (by_content(&b->ord_content[i - 1], &b->ord_content[i], (void *)d) == 0) {
            ix_set_error("index bulk load %s: the same content as %s",
                         d[b->ord_content[i]].docid, d[b->ord_content[i - 1]].docid);
            return SV_EEXIST;
        }
    }
    return 0;
}

int sv_index_bulk_load(sv_index *ix, const sv_index_doc *docs, size_t n)
{
    struct bulk b = {.docs = docs, .n = n};
    int rc;

    ix_clear_error();
    if (ix == NULL || (n > 0 && docs == NULL)) {
        ix_set_error("index bulk load: invalid arguments");
        return SV_EINVAL;
    }
    if (ix->read_only) {
        ix_set_error("index bulk load: the index was opened read-only");
        return SV_EPERM;
    }
    for (size_t i = 0; i < n; i++)
        if ((rc = ix_check_record(docs[i].docid, &docs[i].rec)) != 0)
            return rc;
    if (n == 0)
        return 0;
    if (n > SIZE_MAX / (5 * sizeof(size_t))) {
        ix_set_error("index bulk load: too many documents for one load");
        return SV_ELIMIT;
    }
    b.ord_docid = malloc(5 * n * sizeof(size_t));
    if (b.ord_docid == NULL) {
        ix_set_error("index bulk load: out of memory for %zu documents; load fewer at once", n);
        return SV_ENOMEM;
    }
    b.ord_content = b.ord_docid + n;
    b.ord_mrn = b.ord_content + n;
    b.ord_review = b.ord_mrn + n;
    b.ord_count = b.ord_review + n;
    if ((rc = prepare(&b)) != 0)
        goto out;
    if (n > SIZE_MAX / IX_BULK_BYTES_PER_DOC)
        rc = ix_reserve(ix, SIZE_MAX);
    else
        rc = ix_reserve(ix, n * IX_BULK_BYTES_PER_DOC);
    if (rc != 0)
        goto out;
    rc = ix_write(ix, "bulk load", NULL, bulk_step, &b);
out:
    free(b.ord_docid);
    return rc;
}
