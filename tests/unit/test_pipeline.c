/*
 * test_pipeline.c - the filing pipeline with the real OCR workers, the real
 * vault, index and audit log on disk: recovery of claimed documents (before
 * and after their commit), duplicates in one run, one pipeline per data
 * directory, and bad sources that fail or go to quarantine, never lost.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "intake_internal.h"
#include "sv_crypto.h"
#include "sv_intake.h"

#define SAMPLE SV_SOURCE_DIR "/samples/docs/doc-0001.png"

typedef struct fixture {
    char dir[64];
    char data[128];
    sv_ocr_rules *rules;
    sv_pipeline_report reports[8];
    size_t n_reports;
} fixture;

static void on_report(const sv_pipeline_report *r, void *ctx)
{
    fixture *f = ctx;
    assert_true(f->n_reports < 8);
    f->reports[f->n_reports++] = *r;
}

static void make_dir(const char *base, const char *sub)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", base, sub);
    assert_int_equal(mkdir(path, 0700), 0);
}

/* A data directory as `scanvault init` makes it. */
static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/sv-pipeline-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->data, sizeof f->data, "%s/data", f->dir);
    assert_int_equal(mkdir(f->data, 0700), 0);
    static const char *const dirs[] = {"keys", "index", "spool", "spool/claimed", "audit"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
        make_dir(f->data, dirs[i]);
    char path[256];
    snprintf(path, sizeof path, "%s/vault", f->data);
    assert_int_equal(sv_vault_init_dir(path), 0);
    sv_keyring *ring = NULL;
    assert_int_equal(sv_keyring_generate(&ring), 0);
    snprintf(path, sizeof path, "%s/keys/scanvault.key", f->data);
    assert_int_equal(sv_keyring_save(ring, path), 0);
    sv_keyring_destroy(ring);
    assert_int_equal(sv_ocr_rules_create(&f->rules), 0);
    char err[256];
    assert_int_equal(sv_intake_config_load(SV_SOURCE_DIR "/samples/scanvault.conf", f->rules, err,
                                           sizeof err),
                     0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    sv_ocr_rules_destroy(f->rules);
    free(f);
    return 0;
}

static sv_pipeline *open_pipeline(fixture *f, unsigned workers)
{
    sv_pipeline_options o = {.data_dir = f->data,
                             .rules = f->rules,
                             .n_workers = workers,
                             .worker_path = SV_OCR_WORKER,
                             .report = on_report,
                             .report_ctx = f};
    sv_pipeline *p = NULL;
    int rc = sv_pipeline_create(&p, &o);
    if (rc != 0)
        fail_msg("pipeline: %s", sv_intake_last_error());
    return p;
}

static int count_entries(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "find '%s' -type f | wc -l", dir);
    FILE *pipe = popen(cmd, "r");
    assert_non_null(pipe);
    int n = -1;
    assert_int_equal(fscanf(pipe, "%d", &n), 1);
    pclose(pipe);
    return n;
}

static void copy_file(const char *from, const char *to)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", from, to);
    assert_int_equal(system(cmd), 0);
}

static int open_spool(const fixture *f)
{
    char path[256];
    snprintf(path, sizeof path, "%s/spool/claimed", f->data);
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    assert_true(fd >= 0);
    return fd;
}

/* A crash right after the claim: the next start files the document under
 * the docid of the claim, with the name the claim record kept. */
static void test_recovers_a_claimed_document(void **state)
{
    fixture *f = *state;
    char path[256];
    snprintf(path, sizeof path, "%s/Smith John lab.png", f->dir);
    copy_file(SAMPLE, path);
    char docid[SV_DOCID_MAX + 1];
    assert_int_equal(sv_docid_generate(NULL, docid), 0);
    {
        sv_keyring *ring = NULL;
        char key[256];
        snprintf(key, sizeof key, "%s/keys/scanvault.key", f->data);
        assert_int_equal(sv_keyring_load(&ring, key), 0);
        int spool = open_spool(f);
        assert_int_equal(claim_document(spool, ring, path, true, docid, 1700000000), 0);
        close(spool);
        sv_keyring_destroy(ring);
    }
    assert_int_equal(access(path, F_OK), -1); /* moved into the spool */

    sv_pipeline *p = open_pipeline(f, 1);
    size_t found = 0;
    assert_int_equal(sv_pipeline_recover(p, &found), 0);
    assert_int_equal(found, 1);
    assert_int_equal(sv_pipeline_drain(p), 0);
    assert_int_equal(f->n_reports, 1);
    assert_true(f->reports[0].is_recovered);
    assert_string_equal(f->reports[0].docid, docid);
    assert_int_equal(f->reports[0].status, SV_PIPELINE_FILED);

    sv_store *store = sv_pipeline_store(p);
    sv_vault_meta meta;
    assert_int_equal(sv_vault_read_meta(sv_store_vault(store), sv_store_keyring(store), docid, &meta),
                     0);
    assert_string_equal(meta.original_name, "Smith John lab.png");
    assert_int_equal(meta.intake_time, 1700000000);
    sv_vault_meta_wipe(&meta);
    sv_pipeline_destroy(p);

    snprintf(path, sizeof path, "%s/spool/claimed", f->data);
    assert_int_equal(count_entries(path), 0);
}

/* A crash after the commit but before the claimed file went: the next start
 * files nothing twice. */
static void test_recovery_after_commit_files_nothing_twice(void **state)
{
    fixture *f = *state;
    sv_pipeline *p = open_pipeline(f, 1);
    assert_int_equal(sv_pipeline_enqueue(p, SAMPLE, 0, 7), 0);
    assert_int_equal(sv_pipeline_drain(p), 0);
    assert_int_equal(f->n_reports, 1);
    assert_int_equal(f->reports[0].status, SV_PIPELINE_FILED);
    assert_int_equal(f->reports[0].tag, 7);
    char docid[SV_DOCID_MAX + 1];
    memcpy(docid, f->reports[0].docid, sizeof docid);
    /* Put the claimed file back, as if the release had not happened. */
    char path[256];
    snprintf(path, sizeof path, "%s/spool/claimed/%s", f->data, docid);
    copy_file(SAMPLE, path);
    sv_pipeline_destroy(p);

    p = open_pipeline(f, 1);
    size_t found = 0;
    assert_int_equal(sv_pipeline_recover(p, &found), 0);
    assert_int_equal(found, 1);
    assert_int_equal(sv_pipeline_drain(p), 0);
    assert_int_equal(f->n_reports, 2);
    assert_int_equal(f->reports[1].status, SV_PIPELINE_FILED);
    assert_string_equal(f->reports[1].docid, docid);
    assert_true(f->reports[1].ms.ocr == 0); /* not read again */
    sv_index_stats st;
    assert_int_equal(sv_index_get_stats(sv_store_index(sv_pipeline_store(p)), &st), 0);
    assert_int_equal(st.docs, 1);
    sv_pipeline_destroy(p);
    snprintf(path, sizeof path, "%s/vault/objects", f->data);
    assert_int_equal(count_entries(path), 1);
    snprintf(path, sizeof path, "%s/spool/claimed", f->data);
    assert_int_equal(count_entries(path), 0);
}

/* The same bytes twice in one run, read in parallel: one filing. */
static void test_same_content_twice_in_one_run(void **state)
{
    fixture *f = *state;
    char copy[256];
    snprintf(copy, sizeof copy, "%s/again.png", f->dir);
    copy_file(SAMPLE, copy);
    sv_pipeline *p = open_pipeline(f, 2);
    assert_int_equal(sv_pipeline_enqueue(p, SAMPLE, 0, 0), 0);
    assert_int_equal(sv_pipeline_enqueue(p, copy, 0, 1), 0);
    assert_int_equal(sv_pipeline_drain(p), 0);
    assert_int_equal(f->n_reports, 2);
    const sv_pipeline_report *filed = NULL, *dup = NULL;
    for (size_t i = 0; i < 2; i++) {
        if (f->reports[i].status == SV_PIPELINE_FILED)
            filed = &f->reports[i];
        else if (f->reports[i].status == SV_PIPELINE_DUPLICATE)
            dup = &f->reports[i];
    }
    assert_non_null(filed);
    assert_non_null(dup);
    assert_string_equal(dup->existing_docid, filed->docid);
    sv_index_stats st;
    assert_int_equal(sv_index_get_stats(sv_store_index(sv_pipeline_store(p)), &st), 0);
    assert_int_equal(st.docs, 1);
    sv_pipeline_destroy(p);
    assert_int_equal(access(copy, F_OK), 0); /* copy mode leaves sources */
}

static void test_one_pipeline_per_data_directory(void **state)
{
    fixture *f = *state;
    sv_pipeline *p = open_pipeline(f, 1);
    sv_pipeline_options o = {.data_dir = f->data,
                             .rules = f->rules,
                             .n_workers = 1,
                             .worker_path = SV_OCR_WORKER,
                             .report = on_report,
                             .report_ctx = f};
    sv_pipeline *second = NULL;
    assert_int_equal(sv_pipeline_create(&second, &o), SV_EEXIST);
    assert_null(second);
    assert_non_null(strstr(sv_intake_last_error(), "in use"));
    sv_pipeline_destroy(p);
    assert_int_equal(sv_pipeline_create(&second, &o), 0);
    sv_pipeline_destroy(second);
}

/* A missing source fails with a message and leaves nothing behind; a file
 * that is not an image is sealed in quarantine with the reason. */
static void test_bad_sources(void **state)
{
    fixture *f = *state;
    char junk[256], missing[256];
    snprintf(junk, sizeof junk, "%s/junk.png", f->dir);
    snprintf(missing, sizeof missing, "%s/no-such-file.png", f->dir);
    FILE *out = fopen(junk, "wb");
    assert_non_null(out);
    for (int i = 0; i < 5000; i++)
        fputc((i * 7919) & 0xff, out);
    fclose(out);
    sv_pipeline *p = open_pipeline(f, 1);
    assert_int_equal(sv_pipeline_enqueue(p, missing, 0, 0), 0);
    assert_int_equal(sv_pipeline_enqueue(p, junk, 0, 1), 0);
    assert_int_equal(sv_pipeline_drain(p), 0);
    assert_int_equal(f->n_reports, 2);
    for (size_t i = 0; i < 2; i++) {
        const sv_pipeline_report *r = &f->reports[i];
        if (r->tag == 0) {
            assert_int_equal(r->status, SV_PIPELINE_FAILED);
            assert_non_null(strstr(r->message, "cannot open"));
            assert_null(strstr(r->message, "no-such-file")); /* no file name */
        } else {
            assert_int_equal(r->status, SV_PIPELINE_QUARANTINED);
            assert_string_equal(r->reason, "unsupported_format");
            sv_index_record rec;
            assert_int_equal(sv_index_get(sv_store_index(sv_pipeline_store(p)), r->docid, &rec), 0);
            assert_int_equal(rec.state, SV_INDEX_QUARANTINED);
            assert_string_equal(rec.reason, "unsupported_format");
        }
    }
    sv_pipeline_destroy(p);
    char path[256];
    snprintf(path, sizeof path, "%s/spool/claimed", f->data);
    assert_int_equal(count_entries(path), 0);
}

int main(void)
{
    if (sv_crypto_global_init() != 0) {
        fprintf(stderr, "%s\n", sv_crypto_last_error());
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_recovers_a_claimed_document, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recovery_after_commit_files_nothing_twice, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_same_content_twice_in_one_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_pipeline_per_data_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_sources, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
