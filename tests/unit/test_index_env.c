/*
 * test_index_env.c - the index/ environment against real LMDB: schema and
 * key id checks, records of an unknown version, map growth and its limit, no
 * plaintext in the file, read-only opens, stale readers of killed processes,
 * bulk loads, threads and other processes during growth. Damage is done with
 * LMDB directly, following docs/index-schema.md.
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
    return cmocka_run_group_tests(tests, NULL, NULL);
}
