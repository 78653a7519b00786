/*
 * test_index.c - the index/ module against a real LMDB environment in a
 * temporary directory. Blind MRNs are real HMAC-SHA-256 values and content
 * ids real SHA-256 digests (libgcrypt), as the pipeline will make them.
 * Damage (another schema version, a record of an unknown version) is done
 * with LMDB directly, following docs/index-schema.md.
 */
#include <errno.h>
#include <gcrypt.h>
#include <lmdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sv_index.h"

static const uint8_t key_a[] = "key-id-A";
static const uint8_t key_b[] = "key-id-B";

typedef struct fixture {
    char dir[64];
    sv_index *ix;
} fixture;

static void blind_of(const char *mrn, uint8_t out[SV_INDEX_BLIND_LEN])
{
    gcry_md_hd_t h;
    assert_int_equal(gcry_md_open(&h, GCRY_MD_SHA256, GCRY_MD_FLAG_HMAC), 0);
    assert_int_equal(gcry_md_setkey(h, "test blind-index key", 20), 0);
    gcry_md_write(h, mrn, strlen(mrn));
    memcpy(out, gcry_md_read(h, GCRY_MD_SHA256), SV_INDEX_BLIND_LEN);
    gcry_md_close(h);
}

static void content_of(const char *text, uint8_t out[SV_INDEX_CONTENT_ID_LEN])
{
    gcry_md_hash_buffer(GCRY_MD_SHA256, out, text, strlen(text));
}

/* A record; the content id is derived from docid unless content is given. */
static sv_index_record rec_of(sv_index_state state, const char *type, int64_t t,
                              const char *mrn, const char *content, const char *reason)
{
    sv_index_record r;
    memset(&r, 0, sizeof r);
    r.state = state;
    snprintf(r.type, sizeof r.type, "%s", type);
    r.intake_time = t;
    r.pages = 3;
    r.size = 12345;
    if (mrn != NULL)
        blind_of(mrn, r.blind_mrn);
    content_of(content, r.content_id);
    snprintf(r.reason, sizeof r.reason, "%s", reason ? reason : "");
    return r;
}

static int open_at(const char *dir, sv_index **ix, bool create, bool ro, const uint8_t *key,
                   size_t map_size, size_t map_max)
{
    sv_index_options o;
    memset(&o, 0, sizeof o);
    o.path = dir;
    o.create = create;
    o.read_only = ro;
    o.key_id = key;
    o.key_id_len = key ? 8 : 0;
    o.map_size = map_size;
    o.map_max = map_max;
    return sv_index_create(ix, &o);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/sv_test_index.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(open_at(f->dir, &f->ix, true, false, key_a, 0, 0), 0);
    *state = f;
    return 0;
}

static void remove_env(const char *dir)
{
    char p[128];
    snprintf(p, sizeof p, "%s/data.mdb", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/lock.mdb", dir);
    unlink(p);
    rmdir(dir);
}

static int teardown(void **state)
{
    fixture *f = *state;
    sv_index_destroy(f->ix);
    remove_env(f->dir);
    free(f);
    return 0;
}

static void reopen(fixture *f)
{
    sv_index_destroy(f->ix);
    f->ix = NULL;
    assert_int_equal(open_at(f->dir, &f->ix, false, false, key_a, 0, 0), 0);
}

static void assert_consistent(sv_index *ix)
{
    sv_index_check_report rep;
    int rc = sv_index_check(ix, &rep);
    if (rc != 0)
        fail_msg("index inconsistent: %s", sv_index_last_error());
    assert_true(rep.docs_checked > 0 || rep.bad_records == 0);
}

static uint64_t count_docs(sv_index *ix)
{
    sv_index_stats st;
    assert_int_equal(sv_index_get_stats(ix, &st), 0);
    return st.docs;
}

static void test_open_rules(void **state)
{
    fixture *f = *state;
    sv_index *ix = (sv_index *)1;
    char missing[96];

    snprintf(missing, sizeof missing, "%s/nothing-here", f->dir);
    assert_int_equal(open_at(missing, &ix, false, false, key_a, 0, 0), SV_ENOTFOUND);
    assert_null(ix);
    assert_int_equal(open_at(missing, &ix, true, true, key_a, 0, 0), SV_EINVAL);
    assert_int_equal(open_at(missing, &ix, true, false, NULL, 0, 0), SV_EINVAL);
    assert_int_equal(open_at(missing, &ix, true, false, key_a, 1 << 30, 1 << 20), SV_EINVAL);
    assert_true(strlen(sv_index_last_error()) > 0);
    sv_index_destroy(NULL);
}

static void test_put_get_lookup_reopen(void **state)
{
    fixture *f = *state;
    sv_index_record r = rec_of(SV_INDEX_FILED, "lab_report", 1700000000, "123456", "c1", NULL);
    sv_index_record got;
    char docid[SV_INDEX_DOCID_MAX + 1];
    char existing[SV_INDEX_DOCID_MAX + 1];

    assert_int_equal(sv_index_put(f->ix, "d1", &r, existing), 0);
    assert_string_equal(existing, "");
    reopen(f);
    assert_int_equal(sv_index_get(f->ix, "d1", &got), 0);
    assert_memory_equal(&got, &r, sizeof r);
    assert_int_equal(sv_index_lookup_content(f->ix, r.content_id, docid), 0);
    assert_string_equal(docid, "d1");
    assert_int_equal(sv_index_get(f->ix, "d2", &got), SV_ENOTFOUND);
    assert_int_equal(got.state, 0);
    content_of("other", r.content_id);
    assert_int_equal(sv_index_lookup_content(f->ix, r.content_id, docid), SV_ENOTFOUND);
    assert_string_equal(docid, "");
    assert_consistent(f->ix);
}

static void test_invalid_records_write_nothing(void **state)
{
    fixture *f = *state;
    sv_index_record good = rec_of(SV_INDEX_FILED, "lab_report", 100, "9", "c", NULL);
    sv_index_record r;

    const char *bad_ids[] = {"", "-lead", "has space", "x.pdf", "a/b", "\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++)
        assert_int_equal(sv_index_put(f->ix, bad_ids[i], &good, NULL), SV_EINVAL);
    assert_int_equal(sv_index_put(f->ix, NULL, &good, NULL), SV_EINVAL);
    char long_id[80];
    memset(long_id, 'a', 65);
    long_id[65] = '\0';
    assert_int_equal(sv_index_put(f->ix, long_id, &good, NULL), SV_EINVAL);

    const char *bad_types[] = {"", "Lab", "lab report", "lab2", "_lab", "a_very_long_type_name_over_31_ch"};
    for (size_t i = 0; i < sizeof bad_types / sizeof bad_types[0]; i++) {
        r = good;
        snprintf(r.type, sizeof r.type, "%s", bad_types[i]);
        assert_int_equal(sv_index_put(f->ix, "d", &r, NULL), SV_EINVAL);
    }
    r = good;
    memset(r.blind_mrn, 0, sizeof r.blind_mrn); /* filed needs an MRN */
    assert_int_equal(sv_index_put(f->ix, "d", &r, NULL), SV_EINVAL);
    r = good;
    snprintf(r.reason, sizeof r.reason, "no_mrn"); /* filed has no reason */
    assert_int_equal(sv_index_put(f->ix, "d", &r, NULL), SV_EINVAL);
    r = rec_of(SV_INDEX_REVIEW, "other", 100, NULL, "c", ""); /* review needs one */
    assert_int_equal(sv_index_put(f->ix, "d", &r, NULL), SV_EINVAL);
    r = good;
    r.intake_time = -1;
    assert_int_equal(sv_index_put(f->ix, "d", &r, NULL), SV_EINVAL);
    r = good;
    memset(r.content_id, 0, sizeof r.content_id);
    assert_int_equal(sv_index_put(f->ix, "d", &r, NULL), SV_EINVAL);
    r = good;
    r.state = (sv_index_state)7;
    assert_int_equal(sv_index_put(f->ix, "d", &r, NULL), SV_EINVAL);
    assert_int_equal(count_docs(f->ix), 0);
}

static void test_duplicate_content(void **state)
{
    fixture *f = *state;
    sv_index_record a = rec_of(SV_INDEX_FILED, "referral", 10, "77", "same bytes", NULL);
    sv_index_record b = rec_of(SV_INDEX_REVIEW, "other", 20, NULL, "same bytes", "no_mrn");
    sv_index_record got;
    char existing[SV_INDEX_DOCID_MAX + 1];

    assert_int_equal(sv_index_put(f->ix, "docA", &a, existing), 0);
    assert_int_equal(sv_index_put(f->ix, "docB", &b, existing), SV_EEXIST);
    assert_string_equal(existing, "docA");
    assert_int_equal(sv_index_get(f->ix, "docB", &got), SV_ENOTFOUND);
    /* The same document again (a rerun after a crash): EEXIST, itself. */
    assert_int_equal(sv_index_put(f->ix, "docA", &a, existing), SV_EEXIST);
    assert_string_equal(existing, "docA");
    /* The same docid for other content is a caller bug. */
    b = rec_of(SV_INDEX_FILED, "referral", 10, "77", "other bytes", NULL);
    assert_int_equal(sv_index_put(f->ix, "docA", &b, existing), SV_EINVAL);
    assert_int_equal(sv_index_lookup_content(f->ix, b.content_id, existing), SV_ENOTFOUND);
    assert_int_equal(count_docs(f->ix), 1);
    assert_consistent(f->ix);
}

/* Fifty documents of one patient with times in random order (some equal),
 * twenty of another; the expected order is computed here by brute force. */
typedef struct gen_doc {
    char docid[16];
    int64_t t;
    const char *type;
} gen_doc;

static int newest_first(const void *pa, const void *pb)
{
    const gen_doc *a = pa, *b = pb;
    if (a->t != b->t)
        return a->t > b->t ? -1 : 1;
    return strcmp(a->docid, b->docid);
}

static void check_find(sv_index *ix, const uint8_t *blind, gen_doc *all, size_t n,
                       const sv_index_filter *flt)
{
    sv_index_hit hits[64];
    size_t expect = 0, total = 99;

    assert_int_equal(sv_index_find(ix, blind, flt, hits, 64, &total), 0);
    for (size_t i = 0; i < n; i++) {
        const gen_doc *g = &all[i];
        if (flt && flt->type && strcmp(flt->type, g->type) != 0)
            continue;
        if (flt && (g->t < flt->since || (flt->until > 0 && g->t > flt->until)))
            continue;
        assert_true(expect < total);
        assert_string_equal(hits[expect].docid, g->docid);
        assert_int_equal(hits[expect].intake_time, g->t);
        assert_string_equal(hits[expect].type, g->type);
        expect++;
    }
    assert_int_equal(total, expect);
}

static int stop_after_two(const sv_index_hit *hit, void *ctx)
{
    (void)hit;
    return ++*(int *)ctx == 2 ? 1 : 0;
}

static void test_find_newest_first_with_filters(void **state)
{
    fixture *f = *state;
    const char *types[] = {"lab_report", "prescription", "referral"};
    gen_doc docs[50];
    uint8_t blind[SV_INDEX_BLIND_LEN], none[SV_INDEX_BLIND_LEN];
    sv_index_hit hits[64];
    size_t total;

    srand(42);
    for (int i = 0; i < 70; i++) {
        char docid[16];
        int64_t t = 1600000000 + (rand() % 40) * 86400; /* 40 days: equal times too */
        const char *type = types[rand() % 3];
        snprintf(docid, sizeof docid, "doc%03d", (i * 37) % 70);
        sv_index_record r = rec_of(SV_INDEX_FILED, type, t, i < 50 ? "1000001" : "2000002",
                                   docid, NULL);
        assert_int_equal(sv_index_put(f->ix, docid, &r, NULL), 0);
        if (i < 50)
            docs[i] = (gen_doc){"", t, type};
        if (i < 50)
            snprintf(docs[i].docid, sizeof docs[i].docid, "%s", docid);
    }
    qsort(docs, 50, sizeof docs[0], newest_first);
    blind_of("1000001", blind);
    check_find(f->ix, blind, docs, 50, NULL);
    check_find(f->ix, blind, docs, 50, &(sv_index_filter){"prescription", 0, 0});
    int64_t lo = docs[35].t, hi = docs[10].t;
    check_find(f->ix, blind, docs, 50, &(sv_index_filter){NULL, lo, hi});
    check_find(f->ix, blind, docs, 50, &(sv_index_filter){"lab_report", lo, 0});
    check_find(f->ix, blind, docs, 50, &(sv_index_filter){NULL, 0, docs[20].t});
    check_find(f->ix, blind, docs, 50, &(sv_index_filter){NULL, docs[0].t + 1, 0});
    /* A small array gets the newest; the total still counts all. */
    assert_int_equal(sv_index_find(f->ix, blind, NULL, hits, 5, &total), 0);
    assert_int_equal(total, 50);
    assert_string_equal(hits[4].docid, docs[4].docid);
    assert_int_equal(sv_index_find(f->ix, blind, NULL, NULL, 0, &total), 0);
    assert_int_equal(total, 50);
    int seen = 0;
    assert_int_equal(sv_index_find_each(f->ix, blind, NULL, stop_after_two, &seen), 0);
    assert_int_equal(seen, 2);
    blind_of("2000002", blind);
    assert_int_equal(sv_index_find(f->ix, blind, NULL, hits, 64, &total), 0);
    assert_int_equal(total, 20);
    blind_of("3000003", blind);
    assert_int_equal(sv_index_find(f->ix, blind, NULL, hits, 64, &total), 0);
    assert_int_equal(total, 0);
    memset(none, 0, sizeof none);
    assert_int_equal(sv_index_find(f->ix, none, NULL, hits, 64, &total), SV_EINVAL);
    assert_int_equal(sv_index_find(f->ix, blind, &(sv_index_filter){NULL, 50, 40}, hits, 64,
                                   &total), SV_EINVAL);
    assert_int_equal(sv_index_find(f->ix, blind, &(sv_index_filter){"Lab", 0, 0}, hits, 64,
                                   &total), SV_EINVAL);
}

static void test_batch(void **state)
{
    fixture *f = *state;
    sv_index_doc d[4];
    sv_index_put_result res[4];
    sv_index_record got;

    d[0] = (sv_index_doc){"old", rec_of(SV_INDEX_FILED, "other", 5, "1", "old", NULL)};
    assert_int_equal(sv_index_put(f->ix, d[0].docid, &d[0].rec, NULL), 0);
    d[0] = (sv_index_doc){"b1", rec_of(SV_INDEX_FILED, "other", 6, "1", "b1", NULL)};
    d[1] = (sv_index_doc){"b2", rec_of(SV_INDEX_FILED, "other", 7, "1", "old", NULL)};
    d[2] = (sv_index_doc){"b3", rec_of(SV_INDEX_REVIEW, "other", 8, NULL, "b3", "no_mrn")};
    d[3] = (sv_index_doc){"b4", rec_of(SV_INDEX_QUARANTINED, "other", 9, NULL, "b1", "corrupt")};
    assert_int_equal(sv_index_put_batch(f->ix, d, 4, res), 0);
    assert_int_equal(res[0].status, 0);
    assert_int_equal(res[1].status, SV_EEXIST);
    assert_string_equal(res[1].existing_docid, "old");
    assert_int_equal(res[2].status, 0);
    assert_int_equal(res[3].status, SV_EEXIST); /* same content as b1, same batch */
    assert_string_equal(res[3].existing_docid, "b1");
    assert_int_equal(count_docs(f->ix), 3);
    /* One bad document: nothing of the batch is written. */
    d[0] = (sv_index_doc){"c1", rec_of(SV_INDEX_FILED, "other", 6, "1", "c1", NULL)};
    d[1] = (sv_index_doc){"c2", rec_of(SV_INDEX_FILED, "Other", 7, "1", "c2", NULL)};
    assert_int_equal(sv_index_put_batch(f->ix, d, 2, res), SV_EINVAL);
    assert_int_equal(res[0].status, 0);
    assert_int_equal(res[1].status, SV_EINVAL);
    /* A docid clash found inside the transaction: also nothing written. */
    d[1] = (sv_index_doc){"b1", rec_of(SV_INDEX_FILED, "other", 7, "1", "c2", NULL)};
    assert_int_equal(sv_index_put_batch(f->ix, d, 2, res), SV_EINVAL);
    assert_int_equal(res[1].status, SV_EINVAL);
    assert_int_equal(sv_index_get(f->ix, "c1", &got), SV_ENOTFOUND);
    assert_int_equal(count_docs(f->ix), 3);
    assert_consistent(f->ix);
}

static void test_review_queue_file_and_reassign(void **state)
{
    fixture *f = *state;
    const int64_t since[] = {500, 100, 300, 100, 200};
    const char *ids[] = {"r0", "r1", "r2", "r3", "r4"};
    sv_index_review_entry q[8];
    sv_index_record r, got;
    sv_index_hit hits[4];
    uint8_t a[SV_INDEX_BLIND_LEN], b[SV_INDEX_BLIND_LEN];
    size_t total;

    for (int i = 0; i < 5; i++) {
        r = rec_of(SV_INDEX_REVIEW, "other", 50 + i, NULL, ids[i], "low_confidence");
        r.review_since = since[i];
        assert_int_equal(sv_index_put(f->ix, ids[i], &r, NULL), 0);
    }
    r = rec_of(SV_INDEX_FILED, "other", 1, "555", "f1", NULL);
    assert_int_equal(sv_index_put(f->ix, "f1", &r, NULL), 0);
    assert_int_equal(sv_index_review_list(f->ix, q, 8, &total), 0);
    assert_int_equal(total, 5);
    const char *order[] = {"r1", "r3", "r4", "r2", "r0"};
    for (int i = 0; i < 5; i++)
        assert_string_equal(q[i].docid, order[i]);
    assert_int_equal(q[0].since, 100);
    assert_string_equal(q[0].reason, "low_confidence");

    blind_of("555", a);
    blind_of("666", b);
    assert_int_equal(sv_index_file_review(f->ix, "r3", a, "discharge_summary"), 0);
    assert_int_equal(sv_index_get(f->ix, "r3", &got), 0);
    assert_int_equal(got.state, SV_INDEX_FILED);
    assert_string_equal(got.type, "discharge_summary");
    assert_string_equal(got.reason, "");
    assert_int_equal(got.review_since, 0);
    assert_memory_equal(got.blind_mrn, a, sizeof a);
    assert_int_equal(sv_index_review_list(f->ix, q, 8, &total), 0);
    assert_int_equal(total, 4);
    assert_string_equal(q[1].docid, "r4");
    assert_int_equal(sv_index_find(f->ix, a, NULL, hits, 4, &total), 0);
    assert_int_equal(total, 2);
    assert_string_equal(hits[0].docid, "r3"); /* intake 53 is newer than 1 */
    assert_int_equal(sv_index_file_review(f->ix, "r3", a, NULL), SV_EINVAL);
    assert_int_equal(sv_index_file_review(f->ix, "nope", a, NULL), SV_ENOTFOUND);

    assert_int_equal(sv_index_reassign(f->ix, "r3", b), 0);
    assert_int_equal(sv_index_find(f->ix, a, NULL, hits, 4, &total), 0);
    assert_int_equal(total, 1);
    assert_string_equal(hits[0].docid, "f1");
    assert_int_equal(sv_index_find(f->ix, b, NULL, hits, 4, &total), 0);
    assert_int_equal(total, 1);
    assert_string_equal(hits[0].docid, "r3");
    assert_int_equal(sv_index_get(f->ix, "r3", &got), 0);
    assert_memory_equal(got.blind_mrn, b, sizeof b);
    assert_int_equal(sv_index_reassign(f->ix, "r3", b), 0);
    assert_int_equal(sv_index_reassign(f->ix, "r0", b), SV_EINVAL); /* in review */
    assert_consistent(f->ix);
}

static void test_delete_and_stats(void **state)
{
    fixture *f = *state;
    sv_index_record r;
    sv_index_stats st;
    char existing[SV_INDEX_DOCID_MAX + 1];

    r = rec_of(SV_INDEX_FILED, "lab_report", 1, "1", "x1", NULL);
    assert_int_equal(sv_index_put(f->ix, "x1", &r, NULL), 0);
    r = rec_of(SV_INDEX_FILED, "lab_report", 2, "1", "x2", NULL);
    assert_int_equal(sv_index_put(f->ix, "x2", &r, NULL), 0);
    r = rec_of(SV_INDEX_REVIEW, "referral", 3, "1", "x3", "unknown_mrn");
    assert_int_equal(sv_index_put(f->ix, "x3", &r, NULL), 0);
    r = rec_of(SV_INDEX_QUARANTINED, "other", 4, NULL, "x4", "truncated");
    assert_int_equal(sv_index_put(f->ix, "x4", &r, NULL), 0);
    assert_int_equal(sv_index_get_stats(f->ix, &st), 0);
    assert_int_equal(st.docs, 4);
    assert_int_equal(st.by_state[SV_INDEX_FILED], 2);
    assert_int_equal(st.by_state[SV_INDEX_REVIEW], 1);
    assert_int_equal(st.by_state[SV_INDEX_QUARANTINED], 1);
    assert_int_equal(st.review_queue, 1);
    assert_int_equal(st.n_types, 3);
    assert_string_equal(st.types[0].type, "lab_report");
    assert_int_equal(st.types[0].by_state[SV_INDEX_FILED], 2);
    assert_string_equal(st.types[2].type, "referral");
    assert_int_equal(st.types[2].by_state[SV_INDEX_REVIEW], 1);
    assert_int_equal(st.schema_version, SV_INDEX_SCHEMA_VERSION);
    assert_true(st.map_used > 0 && st.map_used <= st.map_size);
    assert_int_equal(st.key_id_len, 8);
    assert_memory_equal(st.key_id, key_a, 8);

    for (int i = 1; i <= 4; i++) {
        char id[8];
        snprintf(id, sizeof id, "x%d", i);
        if (i != 2)
            assert_int_equal(sv_index_delete(f->ix, id), 0);
        assert_consistent(f->ix);
    }
    assert_int_equal(sv_index_delete(f->ix, "x1"), SV_ENOTFOUND);
    r = rec_of(SV_INDEX_FILED, "lab_report", 1, "1", "x1", NULL);
    assert_int_equal(sv_index_put(f->ix, "x1b", &r, existing), 0); /* content free again */
    assert_int_equal(sv_index_get_stats(f->ix, &st), 0);
    assert_int_equal(st.docs, 2);
    assert_int_equal(st.by_state[SV_INDEX_FILED], 2);
    assert_int_equal(st.review_queue, 0);
    assert_int_equal(st.n_types, 1);
}

static int count_each(const char *docid, const sv_index_record *rec, int rec_status, void *ctx)
{
    char *last = ctx;
    (void)rec;
    assert_int_equal(rec_status, 0);
    assert_true(strcmp(last, docid) < 0);
    snprintf(last, SV_INDEX_DOCID_MAX + 1, "%s", docid);
    return 0;
}

/* Changes the index with LMDB directly, as a damaged or foreign file would. */
static void raw_put(const char *dir, const char *db, const void *k, size_t klen, const void *v,
                    size_t vlen)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_val key = {klen, (void *)k}, val = {vlen, (void *)v};
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
    assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, db, 0, &dbi), 0);
    assert_int_equal(mdb_put(txn, dbi, &key, &val, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

static void test_schema_and_key_checks(void **state)
{
    fixture *f = *state;
    sv_index *ix = NULL;
    const uint8_t v2[4] = {2, 0, 0, 0};

    sv_index_destroy(f->ix);
    f->ix = NULL;
    assert_int_equal(open_at(f->dir, &ix, false, false, key_b, 0, 0), SV_EKEY);
    assert_null(ix);
    assert_non_null(strstr(sv_index_last_error(), "different key"));
    assert_int_equal(open_at(f->dir, &ix, false, true, key_b, 0, 0), SV_EKEY);
    assert_int_equal(open_at(f->dir, &ix, false, true, NULL, 0, 0), 0); /* tool, no key */
    sv_index_destroy(ix);
    raw_put(f->dir, "meta", "schema_version", 14, v2, sizeof v2);
    assert_int_equal(open_at(f->dir, &ix, false, false, key_a, 0, 0), SV_EVERSION);
    assert_non_null(strstr(sv_index_last_error(), "schema version 2"));
    assert_int_equal(open_at(f->dir, &ix, true, false, key_a, 0, 0), SV_EVERSION);
    const uint8_t v1[4] = {1, 0, 0, 0};
    raw_put(f->dir, "meta", "schema_version", 14, v1, sizeof v1);
    assert_int_equal(open_at(f->dir, &f->ix, false, false, key_a, 0, 0), 0);
}

static void test_unknown_record_version(void **state)
{
    fixture *f = *state;
    sv_index_record r = rec_of(SV_INDEX_FILED, "other", 1, "1", "v1", NULL), got;
    sv_index_check_report rep;
    uint8_t rec[144];
    char last[SV_INDEX_DOCID_MAX + 1] = "";

    assert_int_equal(sv_index_put(f->ix, "v1", &r, NULL), 0);
    assert_int_equal(sv_index_docs_each(f->ix, count_each, last), 0);
    assert_string_equal(last, "v1");
    sv_index_destroy(f->ix);
    f->ix = NULL;
    memset(rec, 0, sizeof rec);
    rec[0] = 2; /* a version this build does not know */
    raw_put(f->dir, "docs", "v2", 2, rec, sizeof rec);
    rec[0] = 1;
    raw_put(f->dir, "docs", "v3", 2, rec, 100); /* version 1, truncated */
    reopen(f);
    assert_int_equal(sv_index_get(f->ix, "v2", &got), SV_EVERSION);
    assert_int_equal(got.state, 0);
    assert_int_equal(sv_index_get(f->ix, "v3", &got), SV_EFORMAT);
    assert_int_equal(sv_index_delete(f->ix, "v2"), SV_EVERSION);
    assert_int_equal(sv_index_check(f->ix, &rep), SV_EINDEX);
    assert_int_equal(rep.bad_records, 2);
    assert_int_equal(rep.docs_checked, 3);
}

static void test_map_full_grows_and_limit(void **state)
{
    fixture *f = *state;
    sv_index_doc d[100];
    sv_index_put_result res[100];
    sv_index_stats st;
    char ids[100][16];
    int rc = 0, batches = 0;

    sv_index_destroy(f->ix);
    remove_env(f->dir);
    assert_int_equal(open_at(f->dir, &f->ix, true, false, key_a, 64 << 10, 0), 0);
    for (int b = 0; b < 20; b++) {
        for (int i = 0; i < 100; i++) {
            snprintf(ids[i], sizeof ids[i], "g%02d_%03d", b, i);
            d[i] = (sv_index_doc){ids[i], rec_of(SV_INDEX_FILED, "other", b * 100 + i,
                                                  i % 2 ? "1" : "2", ids[i], NULL)};
        }
        assert_int_equal(sv_index_put_batch(f->ix, d, 100, res), 0);
    }
    assert_int_equal(sv_index_get_stats(f->ix, &st), 0);
    assert_int_equal(st.docs, 2000);
    assert_true(st.map_size > (64 << 10));
    assert_consistent(f->ix);
    reopen(f);
    assert_int_equal(count_docs(f->ix), 2000);

    /* With a limit the map stops growing: SV_EFULL, nothing of the batch. */
    sv_index_destroy(f->ix);
    assert_int_equal(open_at(f->dir, &f->ix, false, false, key_a, 0, 2 << 20), 0);
    for (int b = 20; rc == 0 && b < 400; b++, batches++) {
        for (int i = 0; i < 100; i++) {
            snprintf(ids[i], sizeof ids[i], "g%03d_%03d", b, i);
            d[i] = (sv_index_doc){ids[i], rec_of(SV_INDEX_FILED, "other", b * 100 + i, "3",
                                                  ids[i], NULL)};
        }
        rc = sv_index_put_batch(f->ix, d, 100, res);
    }
    assert_int_equal(rc, SV_EFULL);
    assert_non_null(strstr(sv_index_last_error(), "limit"));
    assert_int_equal(count_docs(f->ix), 2000 + (uint64_t)(batches - 1) * 100);
    sv_index_record got;
    assert_int_equal(sv_index_get(f->ix, ids[0], &got), SV_ENOTFOUND);
    assert_consistent(f->ix);
}

/* The LMDB file must not hold an MRN or a file name, whatever the caller
 * tries: the fields that take text refuse it. */
static void test_no_plaintext_in_file(void **state)
{
    fixture *f = *state;
    const char *mrn = "4711080815", *name = "Mustermann", *file = "Mustermann_Erika_4711080815.pdf";
    sv_index_record r = rec_of(SV_INDEX_FILED, "lab_report", 1700000000, mrn, file, NULL);
    uint8_t blind[SV_INDEX_BLIND_LEN];
    char path[128];

    assert_int_equal(sv_index_put(f->ix, file, &r, NULL), SV_EINVAL);
    assert_null(strstr(sv_index_last_error(), mrn));
    snprintf(r.type, sizeof r.type, "mrn_%s", mrn);
    assert_int_equal(sv_index_put(f->ix, "s1", &r, NULL), SV_EINVAL);
    snprintf(r.type, sizeof r.type, "%s", name);
    assert_int_equal(sv_index_put(f->ix, "s1", &r, NULL), SV_EINVAL);
    assert_null(strstr(sv_index_last_error(), name));
    r = rec_of(SV_INDEX_REVIEW, "other", 1, NULL, "s2", "x");
    snprintf(r.reason, sizeof r.reason, "mustermann erika");
    assert_int_equal(sv_index_put(f->ix, "s2", &r, NULL), SV_EINVAL);
    r = rec_of(SV_INDEX_FILED, "lab_report", 1700000000, mrn, file, NULL);
    assert_int_equal(sv_index_put(f->ix, "s1", &r, NULL), 0);
    r = rec_of(SV_INDEX_REVIEW, "referral", 1700000001, mrn, "scan 2", "unknown_mrn");
    assert_int_equal(sv_index_put(f->ix, "s2", &r, NULL), 0);
    sv_index_destroy(f->ix);
    f->ix = NULL;

    snprintf(path, sizeof path, "%s/data.mdb", f->dir);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    static uint8_t buf[8 << 20];
    size_t len = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    assert_true(len > 0 && len < sizeof buf);
    blind_of(mrn, blind);
    /* The scan sees the data (the blind value and the docid are there) ... */
    assert_non_null(memmem(buf, len, blind, sizeof blind));
    assert_non_null(memmem(buf, len, "lab_report", 10));
    /* ... and no plaintext: not the MRN, not the name, not the file name. */
    assert_null(memmem(buf, len, mrn, strlen(mrn)));
    assert_null(memmem(buf, len, name, strlen(name)));
    assert_null(memmem(buf, len, "Erika", 5));
    assert_null(memmem(buf, len, ".pdf", 4));
}

static void test_read_only(void **state)
{
    fixture *f = *state;
    sv_index_record r = rec_of(SV_INDEX_FILED, "other", 1, "1", "ro", NULL), got;
    sv_index *ro = NULL;
    uint8_t blind[SV_INDEX_BLIND_LEN];
    size_t total;

    assert_int_equal(sv_index_put(f->ix, "ro", &r, NULL), 0);
    sv_index_destroy(f->ix);
    f->ix = NULL;
    assert_int_equal(open_at(f->dir, &ro, false, true, NULL, 0, 0), 0);
    assert_int_equal(sv_index_get(ro, "ro", &got), 0);
    blind_of("1", blind);
    assert_int_equal(sv_index_find(ro, blind, NULL, NULL, 0, &total), 0);
    assert_int_equal(total, 1);
    r = rec_of(SV_INDEX_FILED, "other", 1, "1", "ro2", NULL);
    assert_int_equal(sv_index_put(ro, "ro2", &r, NULL), SV_EPERM);
    assert_int_equal(sv_index_delete(ro, "ro"), SV_EPERM);
    assert_int_equal(sv_index_bulk_load(ro, &(sv_index_doc){"ro2", r}, 1), SV_EPERM);
    sv_index_destroy(ro);
}

/* A reader that was killed inside a read transaction leaves a stale slot;
 * the next open clears it. Another process keeps the environment open so
 * that the lock file is not simply reset. */
static void test_stale_reader_cleared(void **state)
{
    fixture *f = *state;
    int ready[2], hold[2];
    pid_t keeper, victim;
    sv_index_stats st;
    char c;

    sv_index_destroy(f->ix);
    f->ix = NULL;
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(hold), 0);
    keeper = fork();
    assert_true(keeper >= 0);
    if (keeper == 0) {
        MDB_env *env;
        close(hold[1]);
        if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 8) || mdb_env_open(env, f->dir, 0, 0600))
            _exit(1);
        if (write(ready[1], "k", 1) != 1 || read(hold[0], &c, 1) < 0)
            _exit(1);
        _exit(0);
    }
    assert_int_equal(read(ready[0], &c, 1), 1);
    victim = fork();
    assert_true(victim >= 0);
    if (victim == 0) {
        MDB_env *env;
        MDB_txn *txn;
        if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 8) || mdb_env_open(env, f->dir, 0, 0600) ||
            mdb_txn_begin(env, NULL, MDB_RDONLY, &txn))
            _exit(1);
        raise(SIGKILL); /* dies holding the reader slot */
        _exit(1);
    }
    int status;
    assert_int_equal(waitpid(victim, &status, 0), victim);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(open_at(f->dir, &f->ix, false, false, key_a, 0, 0), 0);
    assert_int_equal(sv_index_get_stats(f->ix, &st), 0);
    assert_int_equal(st.stale_readers_cleared, 1);
    close(hold[1]); /* lets the keeper exit */
    assert_int_equal(waitpid(keeper, &status, 0), keeper);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(hold[0]);
    close(ready[0]);
    close(ready[1]);
}

static void test_bulk_load(void **state)
{
    fixture *f = *state;
    enum { N = 600 };
    static sv_index_doc d[N];
    static char ids[N][16];
    sv_index_hit hits[64];
    sv_index_stats st;
    uint8_t blind[SV_INDEX_BLIND_LEN];
    size_t total;

    /* Some docids sort before an existing one, so both paths are used. */
    sv_index_record r = rec_of(SV_INDEX_FILED, "other", 1, "m0", "pre", NULL);
    assert_int_equal(sv_index_put(f->ix, "k300", &r, NULL), 0);
    for (int i = 0; i < N; i++) {
        char mrn[8];
        snprintf(ids[i], sizeof ids[i], "k%03d", (i * 7) % N == 300 ? 999 : (i * 7) % N);
        snprintf(mrn, sizeof mrn, "m%d", i % 13);
        d[i] = (sv_index_doc){ids[i], rec_of(i % 10 ? SV_INDEX_FILED : SV_INDEX_REVIEW,
                                              i % 3 ? "lab_report" : "referral",
                                              1000 + (i % 17), i % 10 ? mrn : NULL, ids[i],
                                              i % 10 ? NULL : "no_mrn")};
    }
    assert_int_equal(sv_index_bulk_load(f->ix, d, N), 0);
    assert_consistent(f->ix);
    assert_int_equal(sv_index_get_stats(f->ix, &st), 0);
    assert_int_equal(st.docs, N + 1);
    assert_int_equal(st.by_state[SV_INDEX_REVIEW], N / 10);
    assert_int_equal(st.review_queue, N / 10);
    blind_of("m4", blind);
    assert_int_equal(sv_index_find(f->ix, blind, NULL, hits, 64, &total), 0);
    assert_true(total > 30);
    for (size_t i = 1; i < total; i++)
        assert_true(hits[i - 1].intake_time > hits[i].intake_time ||
                    (hits[i - 1].intake_time == hits[i].intake_time &&
                     strcmp(hits[i - 1].docid, hits[i].docid) < 0));
    /* All or nothing: one duplicate content id fails the whole load. */
    sv_index_doc more[2] = {{"z1", rec_of(SV_INDEX_FILED, "other", 1, "m1", "z1", NULL)},
                            {"z2", rec_of(SV_INDEX_FILED, "other", 1, "m1", "pre", NULL)}};
    assert_int_equal(sv_index_bulk_load(f->ix, more, 2), SV_EEXIST);
    more[1] = (sv_index_doc){"z1", rec_of(SV_INDEX_FILED, "other", 1, "m1", "z3", NULL)};
    assert_int_equal(sv_index_bulk_load(f->ix, more, 2), SV_EEXIST);
    assert_int_equal(count_docs(f->ix), N + 1);
    assert_consistent(f->ix);
}

/* Readers keep going while a writer grows a tiny map under them. */
struct race {
    sv_index *ix;
    atomic_int done;
    int errors;
};

static void *reader(void *arg)
{
    struct race *r = arg;
    uint8_t blind[SV_INDEX_BLIND_LEN];
    size_t total;
    blind_of("1", blind);
    while (!r->done)
        if (sv_index_find(r->ix, blind, NULL, NULL, 0, &total) != 0)
            r->errors++;
    return NULL;
}

static void test_threads_during_growth(void **state)
{
    fixture *f = *state;
    struct race race = {0};
    pthread_t t;
    sv_index_doc d[50];
    sv_index_put_result res[50];
    char ids[50][16];
    sv_index_stats st;

    sv_index_destroy(f->ix);
    remove_env(f->dir);
    assert_int_equal(open_at(f->dir, &f->ix, true, false, key_a, 32 << 10, 0), 0);
    race.ix = f->ix;
    assert_int_equal(pthread_create(&t, NULL, reader, &race), 0);
    for (int b = 0; b < 20; b++) {
        for (int i = 0; i < 50; i++) {
            snprintf(ids[i], sizeof ids[i], "t%02d_%02d", b, i);
            d[i] = (sv_index_doc){ids[i], rec_of(SV_INDEX_FILED, "other", i, "1", ids[i], NULL)};
        }
        assert_int_equal(sv_index_put_batch(f->ix, d, 50, res), 0);
    }
    race.done = 1;
    pthread_join(t, NULL);
    assert_int_equal(race.errors, 0);
    assert_int_equal(sv_index_get_stats(f->ix, &st), 0);
    assert_true(st.map_size > (32 << 10));
    assert_consistent(f->ix);
}

/* Another process (the service) grows the map far beyond this handle's
 * (a tool's): the next read adopts the new size instead of failing. */
static void test_other_process_grows_map(void **state)
{
    fixture *f = *state;
    int go[2];
    pid_t writer;
    sv_index_stats st;
    sv_index_record got;
    char c;

    sv_index_destroy(f->ix);
    f->ix = NULL;
    remove_env(f->dir);
    assert_int_equal(pipe(go), 0);
    writer = fork();
    assert_true(writer >= 0);
    if (writer == 0) {
        sv_index *ix = NULL;
        sv_index_doc d[100];
        sv_index_put_result res[100];
        char ids[100][16];
        close(go[1]);
        if (read(go[0], &c, 1) != 1 || open_at(f->dir, &ix, false, false, key_a, 0, 0) != 0)
            _exit(1);
        for (int b = 0; b < 30; b++) {
            for (int i = 0; i < 100; i++) {
                snprintf(ids[i], sizeof ids[i], "w%02d_%03d", b, i);
                d[i] = (sv_index_doc){ids[i], rec_of(SV_INDEX_FILED, "other", i, "1", ids[i], NULL)};
            }
            if (sv_index_put_batch(ix, d, 100, res) != 0)
                _exit(2);
        }
        sv_index_destroy(ix);
        _exit(0);
    }
    close(go[0]);
    assert_int_equal(open_at(f->dir, &f->ix, true, false, key_a, 32 << 10, 0), 0);
    assert_int_equal(sv_index_get(f->ix, "w29_099", &got), SV_ENOTFOUND);
    assert_int_equal(write(go[1], "g", 1), 1);
    int status;
    assert_int_equal(waitpid(writer, &status, 0), writer);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(go[1]);
    assert_int_equal(sv_index_get(f->ix, "w29_099", &got), 0);
    assert_int_equal(sv_index_get_stats(f->ix, &st), 0);
    assert_int_equal(st.docs, 3000);
    assert_true(st.map_size > (32 << 10));
    assert_consistent(f->ix);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_get_lookup_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_records_write_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_content, setup, teardown),
        cmocka_unit_test_setup_teardown(test_find_newest_first_with_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_review_queue_file_and_reassign, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_and_stats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_and_key_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_record_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_full_grows_and_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_plaintext_in_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_reader_cleared, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bulk_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads_during_growth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_process_grows_map, setup, teardown),
    };
    if (!gcry_check_version(NULL))
        return 1;
    gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
