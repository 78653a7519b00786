/*
 * test_index.c - the index/ operations against a real LMDB environment in a
 * temporary directory: put, get, duplicates, find with filters, batches, the
 * review queue, delete and stats. Environment-level behaviour (schema, keys,
 * map growth, readers, processes) is in test_index_env.c.
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

#include "index_fixture.h"

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

static void test_reject_review(void **state)
{
    fixture *f = *state;
    sv_index_record r = rec_of(SV_INDEX_REVIEW, "other", 10, NULL, "r0", "no_mrn"), got;
    sv_index_review_entry q[2];
    sv_index_stats st;
    size_t total;

    assert_int_equal(sv_index_put(f->ix, "r0", &r, NULL), 0);
    r = rec_of(SV_INDEX_FILED, "other", 11, "555", "f0", NULL);
    assert_int_equal(sv_index_put(f->ix, "f0", &r, NULL), 0);
    assert_int_equal(sv_index_reject_review(f->ix, "r0", "Rejected"), SV_EINVAL); /* code */
    assert_int_equal(sv_index_reject_review(f->ix, "f0", "rejected"), SV_EINVAL); /* filed */
    assert_int_equal(sv_index_reject_review(f->ix, "nope", "rejected"), SV_ENOTFOUND);
    assert_int_equal(sv_index_get(f->ix, "r0", &got), 0);
    assert_int_equal(got.state, SV_INDEX_REVIEW); /* refusals changed nothing */

    assert_int_equal(sv_index_reject_review(f->ix, "r0", "rejected"), 0);
    assert_int_equal(sv_index_get(f->ix, "r0", &got), 0);
    assert_int_equal(got.state, SV_INDEX_QUARANTINED);
    assert_string_equal(got.reason, "rejected");
    assert_int_equal(got.review_since, 0);
    assert_int_equal(sv_index_review_list(f->ix, q, 2, &total), 0);
    assert_int_equal(total, 0);
    assert_int_equal(sv_index_get_stats(f->ix, &st), 0);
    assert_int_equal(st.by_state[SV_INDEX_QUARANTINED], 1);
    assert_int_equal(st.by_state[SV_INDEX_REVIEW], 0);
    assert_int_equal(sv_index_reject_review(f->ix, "r0", "rejected"), SV_EINVAL); /* twice */
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
        cmocka_unit_test_setup_teardown(test_reject_review, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_and_stats, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
