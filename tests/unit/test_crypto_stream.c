/*
 * test_crypto_stream.c - the object format as a stream (sv_vault_seal_stream,
 * sv_vault_open_stream): memory in, memory out, and the same objects as the
 * file functions write and read; tampering found in memory too; sources and
 * sinks that fail or break their contract stopped with a clear code.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_crypto_util.h"

#define DOCID "bcdefghijklmnopqrstuvwxyz2"

typedef tc_vault fixture;

/* Seal len pseudo-random bytes in memory; returns the object's bytes in *obj
 * and the plaintext (malloc'd). */
static uint8_t *seal_in_memory(const sv_keyring *ring, size_t len, uint32_t chunk, tc_buf *obj,
                               sv_vault_meta *meta)
{
    uint64_t seed = 0x5eed + len;
    uint8_t *data = malloc(len ? len : 1);
    assert_non_null(data);
    tc_fill(data, len, &seed);
    tc_meta(meta, DOCID, data, len);
    sv_vault_memory in = {.data = data, .len = len};
    memset(obj, 0, sizeof *obj);
    assert_int_equal(sv_vault_seal_stream(ring, meta, chunk, sv_vault_source_memory, &in,
                                          tc_buf_sink, obj),
                     0);
    assert_int_equal(in.pos, len);
    return data;
}

static int open_in_memory(const sv_keyring *ring, const tc_buf *obj, tc_buf *out,
                          sv_vault_meta *meta, unsigned flags)
{
    sv_vault_memory in = {.data = obj->data, .len = obj->len};
    memset(out, 0, sizeof *out);
    return sv_vault_open_stream(ring, DOCID, sv_vault_source_memory, &in, tc_buf_sink, out, meta,
                                flags);
}

static void test_memory_round_trips(void **state)
{
    fixture *f = *state;
    const uint32_t chunk = 256;
    const size_t sizes[] = {0, 1, chunk - 1, chunk, chunk + 1, 3 * chunk, 70000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        tc_buf obj, out;
        sv_vault_meta meta, back;
        uint8_t *data = seal_in_memory(f->ring, sizes[i], chunk, &obj, &meta);
        /* header, then one record per chunk, the last one short */
        size_t records = sizes[i] / chunk + 1;
        assert_true(obj.len > sizes[i] + records * 16);
        assert_int_equal(open_in_memory(f->ring, &obj, &out, &back, SV_VAULT_CHECK_CONTENT), 0);
        assert_int_equal(out.len, sizes[i]);
        if (sizes[i] > 0)
            assert_memory_equal(out.data, data, sizes[i]);
        assert_string_equal(back.docid, DOCID);
        assert_int_equal(back.size, sizes[i]);
        tc_buf_free(&obj);
        tc_buf_free(&out);
        free(data);
    }
}

/* A stream-sealed object placed in the vault opens with sv_vault_open(), and
 * a vault object read as a stream opens with sv_vault_open_stream(). */
static void test_same_objects_as_the_file_functions(void **state)
{
    fixture *f = *state;
    tc_buf obj, out;
    sv_vault_meta meta;
    uint8_t *data = seal_in_memory(f->ring, 200000, 0, &obj, &meta);
    char path[512];
    assert_int_equal(sv_vault_object_path(f->vault, DOCID, path, sizeof path), 0);
    char dir[520];
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    (void)mkdir(dir, 0700);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(obj.data, 1, obj.len, fp), obj.len);
    assert_int_equal(fclose(fp), 0);
    memset(&out, 0, sizeof out);
    assert_int_equal(sv_vault_open(f->vault, f->ring, DOCID, tc_buf_sink, &out, NULL,
                                   SV_VAULT_CHECK_CONTENT),
                     0);
    assert_int_equal(out.len, 200000);
    assert_memory_equal(out.data, data, 200000);
    tc_buf_free(&out);
    tc_buf_free(&obj);

    /* the other way: sealed by the file function, opened from memory */
    assert_int_equal(unlink(path), 0);
    assert_int_equal(tc_seal(f->vault, f->ring, DOCID, data, 200000, 0), 0);
    size_t len = 0;
    uint8_t *bytes = tc_read_file(path, &len);
    tc_buf file_obj = {.data = bytes, .len = len, .cap = len};
    assert_int_equal(open_in_memory(f->ring, &file_obj, &out, NULL, SV_VAULT_CHECK_CONTENT), 0);
    assert_int_equal(out.len, 200000);
    assert_memory_equal(out.data, data, 200000);
    tc_buf_free(&out);
    free(bytes);
    free(data);
}

static void test_tampering_found_in_memory(void **state)
{
    fixture *f = *state;
    tc_buf obj, out;
    sv_vault_meta meta;
    uint8_t *data = seal_in_memory(f->ring, 1000, 256, &obj, &meta);
    size_t header = obj.len - (1000 + 4 * 16); /* 3 full chunks and a short one */
    const size_t where[] = {0, header / 2, header, header + 300, obj.len - 1};
    for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
        obj.data[where[i]] ^= 0x20;
        int rc = open_in_memory(f->ring, &obj, &out, NULL, 0);
        /* nothing released from the chunk that failed, or after it */
        if (where[i] >= header) {
            assert_int_equal(rc, SV_EAUTH);
            assert_int_equal(out.len, (where[i] - header) / (256 + 16) * 256);
        } else {
            assert_true(rc == SV_EAUTH || rc == SV_EFORMAT || rc == SV_EKEY || rc == SV_ETRUNC);
            assert_int_equal(out.len, 0);
        }
        tc_buf_free(&out);
        obj.data[where[i]] ^= 0x20;
    }
    /* cut after a full record: the last chunk is missing */
    size_t full = obj.len;
    obj.len = header + 3 * (256 + 16);
    assert_int_equal(open_in_memory(f->ring, &obj, &out, NULL, 0), SV_ETRUNC);
    tc_buf_free(&out);
    obj.len = full;
    /* sealed under another key */
    sv_keyring *other = tc_ring(0x77);
    assert_int_equal(open_in_memory(other, &obj, &out, NULL, 0), SV_EKEY);
    tc_buf_free(&out);
    sv_keyring_destroy(other);
    tc_buf_free(&obj);
    free(data);
}

/* A memory source that fails on a given call (with SV_ETIMEOUT, or with
 * SV_EERRNO and errno EIO when io_error), or claims more than asked. */
typedef struct trickle {
    sv_vault_memory mem;
    int fail_at_call; /* > 0: fail on that call */
    bool io_error;
    int calls;
    size_t overrun;   /* > 0: claim this many bytes more than asked */
} trickle;

static int trickle_source(void *ctx, size_t want, const uint8_t **data, size_t *got)
{
    trickle *t = ctx;
    if (++t->calls == t->fail_at_call) {
        errno = EIO;
        return t->io_error ? SV_EERRNO : SV_ETIMEOUT;
    }
    int rc = sv_vault_source_memory(&t->mem, want, data, got);
    if (rc == 0 && t->overrun > 0)
        *got = want + t->overrun;
    return rc;
}

static int failing_sink(void *ctx, const uint8_t *buf, size_t len)
{
    (void)buf;
    (void)len;
    int *left = ctx;
    return --*left < 0 ? SV_ELIMIT : 0;
}

static void test_bad_sources_and_sinks(void **state)
{
    fixture *f = *state;
    uint8_t data[5000];
    uint64_t seed = 9;
    tc_fill(data, sizeof data, &seed);
    sv_vault_meta meta;
    tc_meta(&meta, DOCID, data, sizeof data);
    tc_buf obj = {0};

    /* a source that fails: its code comes back, nothing is released */
    trickle t = {.mem = {.data = data, .len = sizeof data}, .fail_at_call = 2};
    assert_int_equal(sv_vault_seal_stream(f->ring, &meta, 1024, trickle_source, &t, tc_buf_sink,
                                          &obj),
                     SV_ETIMEOUT);
    tc_buf_free(&obj);
    /* an I/O error of the source: named with the object and errno's words */
    t = (trickle){.mem = {.data = data, .len = sizeof data}, .fail_at_call = 1, .io_error = true};
    assert_int_equal(sv_vault_seal_stream(f->ring, &meta, 1024, trickle_source, &t, tc_buf_sink,
                                          &obj),
                     SV_EERRNO);
    assert_non_null(strstr(sv_crypto_last_error(), "cannot read the input"));
    assert_non_null(strstr(sv_crypto_last_error(), DOCID));
    assert_non_null(strstr(sv_crypto_last_error(), strerror(EIO)));
    tc_buf_free(&obj);
    /* a source that returns more than asked is stopped */
    t = (trickle){.mem = {.data = data, .len = sizeof data}, .overrun = 1};
    assert_int_equal(sv_vault_seal_stream(f->ring, &meta, 1024, trickle_source, &t, tc_buf_sink,
                                          &obj),
                     SV_EINVAL);
    tc_buf_free(&obj);
    /* an input shorter than the metadata says */
    t = (trickle){.mem = {.data = data, .len = sizeof data - 1}};
    assert_int_equal(sv_vault_seal_stream(f->ring, &meta, 1024, trickle_source, &t, tc_buf_sink,
                                          &obj),
                     SV_EINVAL);
    tc_buf_free(&obj);
    /* a sink that stops: its code comes back */
    int left = 2;
    sv_vault_memory in = {.data = data, .len = sizeof data};
    assert_int_equal(sv_vault_seal_stream(f->ring, &meta, 1024, sv_vault_source_memory, &in,
                                          failing_sink, &left),
                     SV_ELIMIT);
    /* no source, no sink, a bad chunk size */
    assert_int_equal(sv_vault_seal_stream(f->ring, &meta, 0, NULL, &in, tc_buf_sink, &obj),
                     SV_EINVAL);
    assert_int_equal(sv_vault_seal_stream(f->ring, &meta, 0, sv_vault_source_memory, &in, NULL,
                                          NULL),
                     SV_EINVAL);
    in.pos = 0;
    assert_int_equal(sv_vault_seal_stream(f->ring, &meta, 1000, sv_vault_source_memory, &in,
                                          tc_buf_sink, &obj),
                     SV_EINVAL);
    tc_buf_free(&obj);

    /* opening: the header is taken in 3 parts, then one record per call; a
     * source failing on call 6 leaves the 2 chunks that were authenticated */
    in = (sv_vault_memory){.data = data, .len = sizeof data};
    assert_int_equal(sv_vault_seal_stream(f->ring, &meta, 1024, sv_vault_source_memory, &in,
                                          tc_buf_sink, &obj),
                     0);
    tc_buf out = {0};
    t = (trickle){.mem = {.data = obj.data, .len = obj.len}, .fail_at_call = 6};
    assert_int_equal(sv_vault_open_stream(f->ring, DOCID, trickle_source, &t, tc_buf_sink, &out,
                                          NULL, 0),
                     SV_ETIMEOUT);
    assert_int_equal(out.len, 2048);
    assert_memory_equal(out.data, data, 2048);
    tc_buf_free(&out);
    /* no bytes at all: a truncation, not a crash */
    sv_vault_memory none = {0};
    assert_int_equal(sv_vault_open_stream(f->ring, DOCID, sv_vault_source_memory, &none,
                                          tc_buf_sink, &out, NULL, 0),
                     SV_ETRUNC);
    assert_int_equal(out.len, 0);
    /* and one claiming more than asked is stopped before anything is read */
    t = (trickle){.mem = {.data = obj.data, .len = obj.len}, .overrun = 5};
    assert_int_equal(sv_vault_open_stream(f->ring, DOCID, trickle_source, &t, tc_buf_sink, &out,
                                          NULL, 0),
                     SV_EINVAL);
    assert_int_equal(out.len, 0);
    tc_buf_free(&out);
    tc_buf_free(&obj);
}

int main(void)
{
    assert_int_equal(sv_crypto_global_init(), 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_memory_round_trips, tc_vault_setup,
                                        tc_vault_teardown),
        cmocka_unit_test_setup_teardown(test_same_objects_as_the_file_functions, tc_vault_setup,
                                        tc_vault_teardown),
        cmocka_unit_test_setup_teardown(test_tampering_found_in_memory, tc_vault_setup,
                                        tc_vault_teardown),
        cmocka_unit_test_setup_teardown(test_bad_sources_and_sinks, tc_vault_setup,
                                        tc_vault_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
