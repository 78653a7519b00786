/*
 * index_fixture.c - the shared fixture of the index unit tests.
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
const uint8_t key_a[9] = "key-id-A";
const uint8_t key_b[9] = "key-id-B";


void blind_of(const char *mrn, uint8_t out[SV_INDEX_BLIND_LEN])
{
    gcry_md_hd_t h;
    assert_int_equal(gcry_md_open(&h, GCRY_MD_SHA256, GCRY_MD_FLAG_HMAC), 0);
    assert_int_equal(gcry_md_setkey(h, "test blind-index key", 20), 0);
    gcry_md_write(h, mrn, strlen(mrn));
    memcpy(out, gcry_md_read(h, GCRY_MD_SHA256), SV_INDEX_BLIND_LEN);
    gcry_md_close(h);
}

void content_of(const char *text, uint8_t out[SV_INDEX_CONTENT_ID_LEN])
{
    gcry_md_hash_buffer(GCRY_MD_SHA256, out, text, strlen(text));
}

/* A record; the content id is derived from docid unless content is given. */
sv_index_record rec_of(sv_index_state state, const char *type, int64_t t,
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

int open_at(const char *dir, sv_index **ix, bool create, bool ro, const uint8_t *key,
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

int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/sv_test_index.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(open_at(f->dir, &f->ix, true, false, key_a, 0, 0), 0);
    *state = f;
    return 0;
}

void remove_env(const char *dir)
{
    char p[128];
    snprintf(p, sizeof p, "%s/data.mdb", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/lock.mdb", dir);
    unlink(p);
    rmdir(dir);
}

int teardown(void **state)
{
    fixture *f = *state;
    sv_index_destroy(f->ix);
    remove_env(f->dir);
    free(f);
    return 0;
}

void reopen(fixture *f)
{
    sv_index_destroy(f->ix);
    f->ix = NULL;
    assert_int_equal(open_at(f->dir, &f->ix, false, false, key_a, 0, 0), 0);
}

void assert_consistent(sv_index *ix)
{
    sv_index_check_report rep;
    int rc = sv_index_check(ix, &rep);
    if (rc != 0)
        fail_msg("index inconsistent: %s", sv_index_last_error());
    assert_true(rep.docs_checked > 0 || rep.bad_records == 0);
}

uint64_t count_docs(sv_index *ix)
{
    sv_index_stats st;
    assert_int_equal(sv_index_get_stats(ix, &st), 0);
    return st.docs;
}
