/*
 * test_maintain.c - the maintenance library on real data directories:
 * sv_vault_each_object() lists objects in order and reports every stray;
 * sv_reindex_run() keeps the earliest of duplicate contents also when the
 * later-walked copy is the earlier document (found in a later batch: the
 * one already loaded must leave the new index), refuses objects under
 * another key and damaged objects unless told to skip them, refuses a
 * locked data directory, and replaces nothing when it refuses;
 * sv_maint_records_equal() names the fields that differ.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sv_crypto.h"
#include "sv_intake.h"
#include "test_crypto_util.h"

/* Fan-out "aa" (walked first) but later in docid order than WALKED_LAST. */
#define WALKED_FIRST "z-aaaaaaaaaaaaaaaaaaaaaaaaaa"
/* Fan-out "ha" (walked last), earlier in docid order. */
#define WALKED_LAST "a-haaaaaaaaaaaaaaaaaaaaaaaaa"

typedef struct fixture {
    char dir[256];
    char data[300];
    sv_vault *vault;
    sv_keyring *ring;
    /* problems seen by the last run */
    size_t n_problems;
    sv_maint_kind kinds[64];
    char docids[64][SV_DOCID_MAX + 1];
} fixture;

static void path_of(const fixture *f, const char *sub, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", f->data, sub);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    tc_mkdtemp(f->dir);
    snprintf(f->data, sizeof f->data, "%s/data", f->dir);
    assert_int_equal(mkdir(f->data, 0700), 0);
    char path[400];
    static const char *const dirs[] = {"spool", "spool/claimed", "audit"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        path_of(f, dirs[i], path, sizeof path);
        assert_int_equal(mkdir(path, 0700), 0);
    }
    path_of(f, "vault", path, sizeof path);
    assert_int_equal(sv_vault_init_dir(path), 0);
    assert_int_equal(sv_vault_create(&f->vault, path), 0);
    f->ring = tc_ring(0x10);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sv_vault_destroy(f->vault);
    sv_keyring_destroy(f->ring);
    tc_rm_rf(f->dir);
    free(f);
    return 0;
}

/* Seal docid: content from content_seed, filed unless is_review. */
static void seal(fixture *f, const sv_keyring *ring, const char *docid, uint64_t content_seed,
                 int64_t intake_time, bool is_review)
{
    uint8_t data[300];
    tc_fill(data, sizeof data, &content_seed);
    sv_vault_meta m;
    tc_meta(&m, docid, data, sizeof data);
    m.intake_time = intake_time;
    if (is_review) {
        m.state = SV_VAULT_REVIEW;
        m.mrn[0] = '\0';
        snprintf(m.reason, sizeof m.reason, "%s", "no_mrn");
    }
    int fd = tc_memfd(data, sizeof data);
    if (sv_vault_seal_fd(f->vault, ring, fd, &m, NULL) != 0)
        fail_msg("seal %s: %s", docid, sv_crypto_last_error());
    close(fd);
}

static void on_problem(const sv_maint_problem *p, void *ctx)
{
    fixture *f = ctx;
    assert_true(f->n_problems < 64);
    f->kinds[f->n_problems] = p->kind;
    snprintf(f->docids[f->n_problems], sizeof f->docids[0], "%s", p->docid ? p->docid : "-");
    f->n_problems++;
}

static int reindex(fixture *f, size_t batch, bool skip_damaged, sv_reindex_report *rep)
{
    f->n_problems = 0;
    sv_reindex_options o = {.data_dir = f->data,
                            .ring = f->ring,
                            .skip_damaged = skip_damaged,
                            .compare_old = true,
                            .batch = batch,
                            .problem = on_problem,
                            .problem_ctx = f};
    return sv_reindex_run(&o, rep);
}

static sv_index *open_index(const fixture *f)
{
    char path[400];
    path_of(f, "index", path, sizeof path);
    sv_index_options o = {.path = path, .read_only = true};
    sv_index *ix = NULL;
    if (sv_index_create(&ix, &o) != 0)
        fail_msg("index: %s", sv_index_last_error());
    return ix;
}

static bool is_indexed(const fixture *f, const char *docid)
{
    sv_index *ix = open_index(f);
    sv_index_record rec;
    int rc = sv_index_get(ix, docid, &rec);
    sv_index_check_report check;
    assert_int_equal(sv_index_check(ix, &check), 0);
    sv_index_destroy(ix);
    assert_true(rc == 0 || rc == SV_ENOTFOUND);
    return rc == 0;
}

/* Five ordinary documents besides the ones a test adds. */
static void seal_fillers(fixture *f)
{
    static const char *const ids[] = {"bbbbbbbbbbbbbbbbbbbbbbbbbb", "cccccccccccccccccccccccccc",
                                      "dddddddddddddddddddddddddd", "eeeeeeeeeeeeeeeeeeeeeeeeee",
                                      "ffffffffffffffffffffffffff"};
    for (size_t i = 0; i < 5; i++)
        seal(f, f->ring, ids[i], 1000 + i, 200 + (int64_t)i, i == 2);
}

typedef struct listing {
    size_t n;
    char docids[16][SV_DOCID_MAX + 1];
    bool is_stray[16];
} listing;

static int collect(const sv_vault_entry *e, void *ctx)
{
    listing *l = ctx;
    assert_true(l->n < 16);
    snprintf(l->docids[l->n], sizeof l->docids[0], "%s", e->docid ? e->docid : "-");
    l->is_stray[l->n] = e->is_stray;
    l->n++;
    return 0;
}

static void test_each_object_reports_strays(void **state)
{
    fixture *f = *state;
    seal(f, f->ring, WALKED_LAST, 1, 100, false);
    seal(f, f->ring, WALKED_FIRST, 2, 100, false);
    seal(f, f->ring, "cccccccccccccccccccccccccc", 3, 100, false);
    char path[512], from[512];
    /* A copy of an object in the wrong fan-out directory, a file named by
     * someone, a directory inside a fan-out directory, a file in objects/. */
    path_of(f, "vault/objects/zz", path, sizeof path);
    assert_int_equal(mkdir(path, 0700), 0);
    path_of(f, "vault/objects/cc/cccccccccccccccccccccccccc.svd", from, sizeof from);
    snprintf(path, sizeof path, "%s/vault/objects/zz/cccccccccccccccccccccccccc.svd", f->data);
    assert_int_equal(link(from, path), 0);
    snprintf(path, sizeof path, "%s/vault/objects/cc/Jane Doe.pdf", f->data);
    close(open(path, O_CREAT | O_WRONLY, 0600));
    snprintf(path, sizeof path, "%s/vault/objects/aa/sub", f->data);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/vault/objects/notes", f->data);
    close(open(path, O_CREAT | O_WRONLY, 0600));

    listing l = {0};
    assert_int_equal(sv_vault_each_object(f->vault, collect, &l), 0);
    /* By name: aa/sub, aa/z-..., cc/Jane..., cc/ccc..., ha/a-h..., notes,
     * zz/ccc... (a stray that still gets its docid). */
    static const char *const want[] = {"-", WALKED_FIRST, "-", "cccccccccccccccccccccccccc",
                                       WALKED_LAST, "-", "cccccccccccccccccccccccccc"};
    static const bool stray[] = {true, false, true, false, false, true, true};
    assert_int_equal(l.n, 7);
    for (size_t i = 0; i < 7; i++) {
        assert_string_equal(l.docids[i], want[i]);
        assert_int_equal(l.is_stray[i], stray[i]);
    }
}

/* The copy walked last is the earlier document: with one document per
 * batch it arrives after its twin was loaded, and the twin must leave. */
static void test_duplicate_found_in_a_later_batch(void **state)
{
    fixture *f = *state;
    seal_fillers(f);
    seal(f, f->ring, WALKED_FIRST, 42, 100, false);
    seal(f, f->ring, WALKED_LAST, 42, 50, false);
    sv_reindex_report rep;
    if (reindex(f, 1, false, &rep) != 0)
        fail_msg("reindex: %s", sv_intake_last_error());
    assert_true(rep.replaced);
    assert_false(rep.had_old);
    assert_int_equal(rep.objects, 7);
    assert_int_equal(rep.indexed, 6);
    assert_int_equal(rep.duplicates, 1);
    assert_int_equal(rep.bytes, 6 * 300);
    assert_int_equal(f->n_problems, 1);
    assert_int_equal(f->kinds[0], SV_MAINT_DUPLICATE);
    assert_string_equal(f->docids[0], WALKED_FIRST);
    assert_true(is_indexed(f, WALKED_LAST));
    assert_false(is_indexed(f, WALKED_FIRST));

    /* One batch: the same answer, and identical to the index it replaces. */
    if (reindex(f, 0, false, &rep) != 0)
        fail_msg("reindex: %s", sv_intake_last_error());
    assert_true(rep.had_old && rep.compared && rep.replaced);
    assert_int_equal(rep.differences, 0);
    assert_int_equal(rep.indexed, 6);
    assert_int_equal(rep.duplicates, 1);
    assert_true(is_indexed(f, WALKED_LAST));
    assert_false(is_indexed(f, WALKED_FIRST));
    char path[400];
    path_of(f, "index.new", path, sizeof path);
    assert_int_equal(access(path, F_OK), -1);
}

static void test_other_key_and_damage_refused(void **state)
{
    fixture *f = *state;
    seal_fillers(f);
    sv_reindex_report rep;
    assert_int_equal(reindex(f, 2, false, &rep), 0);
    struct stat before;
    char index_path[400];
    path_of(f, "index", index_path, sizeof index_path);
    assert_int_equal(stat(index_path, &before), 0);

    /* An object under another key stops it, even with skip_damaged. */
    sv_keyring *other = tc_ring(0x77);
    seal(f, other, "gggggggggggggggggggggggggg", 7, 300, false);
    sv_keyring_destroy(other);
    assert_int_equal(reindex(f, 2, true, &rep), SV_EKEY);
    assert_false(rep.replaced);
    assert_int_equal(rep.other_key, 1);
    assert_int_equal(f->n_problems, 1);
    assert_int_equal(f->kinds[0], SV_MAINT_OTHER_KEY);
    char path[512];
    snprintf(path, sizeof path, "%s/vault/objects/gg/gggggggggggggggggggggggggg.svd", f->data);
    assert_int_equal(unlink(path), 0);

    /* Metadata the index cannot take (an intake time before 1970). */
    seal(f, f->ring, "hhhhhhhhhhhhhhhhhhhhhhhhhh", 8, -5, false);
    assert_int_equal(reindex(f, 2, false, &rep), SV_EAUTH);
    assert_false(rep.replaced);
    assert_int_equal(f->kinds[0], SV_MAINT_DAMAGED);
    assert_string_equal(f->docids[0], "hhhhhhhhhhhhhhhhhhhhhhhhhh");
    struct stat after;
    assert_int_equal(stat(index_path, &after), 0);
    assert_int_equal(after.st_ino, before.st_ino); /* nothing replaced */
    assert_int_equal(reindex(f, 2, true, &rep), 0);
    assert_true(rep.replaced && rep.compared);
    assert_int_equal(rep.damaged, 1);
    assert_int_equal(rep.indexed, 5);
    assert_int_equal(rep.differences, 0);
}

static void test_locked_data_directory(void **state)
{
    fixture *f = *state;
    seal_fillers(f);
    char path[400];
    path_of(f, "spool/lock", path, sizeof path);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
    sv_reindex_report rep;
    assert_int_equal(reindex(f, 0, false, &rep), SV_EEXIST);
    assert_non_null(strstr(sv_intake_last_error(), "stop the service first"));
    path_of(f, "index", path, sizeof path);
    assert_int_equal(access(path, F_OK), -1);
    /* Key rotation holds the lock itself and says so. */
    sv_reindex_options o = {.data_dir = f->data, .ring = f->ring, .lock_held = true};
    assert_int_equal(sv_reindex_run(&o, &rep), 0);
    assert_int_equal(rep.indexed, 5);
    close(fd);
}

static void test_records_equal(void **state)
{
    (void)state;
    sv_index_record a = {.state = SV_INDEX_REVIEW, .intake_time = 100, .pages = 2, .size = 10};
    snprintf(a.type, sizeof a.type, "%s", "other");
    snprintf(a.reason, sizeof a.reason, "%s", "no_mrn");
    a.content_id[0] = 1;
    sv_index_record b = a;
    b.review_since = 100; /* as the index stores a review_since of 0 */
    char diff[128];
    assert_true(sv_maint_records_equal(&a, &b, diff, sizeof diff));
    assert_string_equal(diff, "");
    b.pages = 3;
    b.blind_mrn[5] = 9;
    b.review_since = 200;
    assert_false(sv_maint_records_equal(&a, &b, diff, sizeof diff));
    assert_string_equal(diff, "blind_mrn pages review_since");
}

int main(void)
{
    assert_int_equal(sv_crypto_global_init(), 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_each_object_reports_strays, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_found_in_a_later_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_key_and_damage_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_locked_data_directory, setup, teardown),
        cmocka_unit_test(test_records_equal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
