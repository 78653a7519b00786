/*
 * test_crypto_tamper.c - bad vault objects: every header byte flipped, a
 * sample of body bytes flipped, truncation at every chunk boundary and
 * inside chunks, chunks swapped, dropped, repeated, bytes appended, a header
 * from another object, another key, another key id, a renamed file. Each
 * must fail with an error naming the docid, and the sink must have received
 * only whole chunks that precede the damage, exactly as they were sealed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_crypto_util.h"

#define CHUNK 4096u
#define RECORD (CHUNK + 16u)
#define FULL_CHUNKS 5u
#define LAST_LEN 100u
#define BODY_PLAIN (FULL_CHUNKS * CHUNK + LAST_LEN)
#define BODY_SEALED (FULL_CHUNKS * RECORD + LAST_LEN + 16u)

static const char docid[] = "gbcdefghijklmnopqrstuvwxyz";

typedef struct fixture {
    tc_vault v;
    uint8_t plain[BODY_PLAIN];
    uint8_t *object; /* the sealed object as sealed */
    size_t len, header_len;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    tc_vault_open(&f->v, 0x10);
    uint64_t seed = 99;
    tc_fill(f->plain, sizeof f->plain, &seed);
    assert_int_equal(tc_seal(f->v.vault, f->v.ring, docid, f->plain, sizeof f->plain, CHUNK), 0);
    char path[512];
    assert_int_equal(sv_vault_object_path(f->v.vault, docid, path, sizeof path), 0);
    f->object = tc_read_file(path, &f->len);
    assert_true(f->len > BODY_SEALED);
    f->header_len = f->len - BODY_SEALED;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tc_vault_close(&f->v);
    free(f->object);
    free(f);
    return 0;
}

/*
 * Open bytes as docid's object with ring. Returns the code; checks that it
 * failed, that the message names the docid, and that what was released is
 * the first max_chunks chunks or fewer, whole and unchanged. *released gets
 * the number of chunks released.
 */
static int open_bad(const fixture *f, const sv_keyring *ring, const uint8_t *bytes, size_t len,
                    size_t max_chunks, size_t *released)
{
    int fd = tc_memfd(bytes, len);
    tc_buf out = {0};
    sv_vault_meta meta;
    int rc = sv_vault_open_fd(ring, fd, docid, tc_buf_sink, &out, &meta, 0);
    close(fd);
    if (rc == 0)
        print_error("opened a damaged object (length %zu)\n", len);
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(sv_crypto_last_error(), docid));
    assert_int_equal(out.len % CHUNK, 0);
    assert_true(out.len <= max_chunks * CHUNK);
    if (out.len > 0)
        assert_memory_equal(out.data, f->plain, out.len);
    assert_string_equal(meta.docid, ""); /* no metadata on failure */
    if (released != NULL)
        *released = out.len / CHUNK;
    tc_buf_free(&out);
    return rc;
}

static size_t chunk_at(const fixture *f, size_t k)
{
    return f->header_len + k * RECORD;
}

static void test_intact_object_opens(void **state)
{
    fixture *f = *state;
    int fd = tc_memfd(f->object, f->len);
    tc_buf out = {0};
    assert_int_equal(sv_vault_open_fd(f->v.ring, fd, docid, tc_buf_sink, &out, NULL,
                                      SV_VAULT_CHECK_CONTENT),
                     0);
    close(fd);
    assert_int_equal(out.len, BODY_PLAIN);
    assert_memory_equal(out.data, f->plain, BODY_PLAIN);
    tc_buf_free(&out);
}

static void test_header_byte_flips(void **state)
{
    fixture *f = *state;
    uint8_t *copy = malloc(f->len);
    sv_vault_meta meta;
    for (size_t i = 0; i < f->header_len; i++) {
        const uint8_t masks[] = {0x01, 0x80, 0xff};
        for (size_t m = 0; m < sizeof masks; m++) {
            memcpy(copy, f->object, f->len);
            copy[i] ^= masks[m];
            open_bad(f, f->v.ring, copy, f->len, 0, NULL);
            /* the metadata-only read fails too */
            int fd = tc_memfd(copy, f->len);
            assert_int_not_equal(sv_vault_read_meta_fd(f->v.ring, fd, docid, &meta), 0);
            close(fd);
        }
    }
    free(copy);
}

static void test_body_byte_flips(void **state)
{
    fixture *f = *state;
    uint8_t *copy = malloc(f->len);
    for (size_t at = f->header_len; at < f->len; at += 61) {
        for (int edge = 0; edge < 2; edge++) {
            /* also the first and last byte of the record the sample falls in */
            size_t k = (at - f->header_len) / RECORD;
            size_t i = edge == 0 ? at : chunk_at(f, k) + (k < FULL_CHUNKS ? RECORD - 1 : 0);
            memcpy(copy, f->object, f->len);
            copy[i] ^= 0x04;
            size_t released;
            assert_int_equal(open_bad(f, f->v.ring, copy, f->len, k, &released), SV_EAUTH);
            assert_int_equal(released, k);
        }
    }
    free(copy);
}

static void test_truncation(void **state)
{
    fixture *f = *state;
    size_t released;
    /* every byte of the header */
    for (size_t cut = 0; cut < f->header_len; cut++)
        open_bad(f, f->v.ring, f->object, cut, 0, NULL);
    /* every chunk boundary, and inside every chunk */
    for (size_t k = 0; k <= FULL_CHUNKS; k++) {
        size_t start = chunk_at(f, k);
        assert_int_equal(open_bad(f, f->v.ring, f->object, start, k, &released), SV_ETRUNC);
        assert_int_equal(released, k);
        size_t this_len = k < FULL_CHUNKS ? RECORD : LAST_LEN + 16;
        const size_t inside[] = {1, 15, 16, 17, this_len / 2, this_len - 1};
        for (size_t j = 0; j < sizeof inside / sizeof inside[0]; j++) {
            open_bad(f, f->v.ring, f->object, start + inside[j], k, &released);
            assert_int_equal(released, k);
        }
    }
}

/* Build an object from the header and the records listed in order. */
static size_t assemble(const fixture *f, uint8_t *out, const size_t *records, size_t n)
{
    memcpy(out, f->object, f->header_len);
    size_t len = f->header_len;
    for (size_t i = 0; i < n; i++) {
        size_t k = records[i];
        size_t rlen = k < FULL_CHUNKS ? RECORD : LAST_LEN + 16;
        memcpy(out + len, f->object + chunk_at(f, k), rlen);
        len += rlen;
    }
    return len;
}

static void test_chunk_reorder_drop_repeat_append(void **state)
{
    fixture *f = *state;
    uint8_t *buf = malloc(f->len + 2 * RECORD);
    size_t released, len;
    const struct {
        size_t records[8];
        size_t n;
        size_t good_prefix; /* chunks that are still in place */
    } cases[] = {
        {{1, 0, 2, 3, 4, 5}, 6, 0},       /* swap the first two */
        {{0, 1, 3, 2, 4, 5}, 6, 2},       /* swap two in the middle */
        {{0, 1, 2, 3, 5, 4}, 6, 4},       /* final chunk moved forward */
        {{0, 2, 3, 4, 5}, 5, 1},          /* drop one */
        {{0, 1, 2, 3, 4}, 5, 5},          /* drop the final chunk */
        {{1, 2, 3, 4, 5}, 5, 0},          /* drop the first */
        {{0, 1, 1, 2, 3, 4, 5}, 7, 2},    /* repeat one */
        {{0, 1, 2, 3, 4, 5, 5}, 7, 5},    /* repeat the final chunk */
        {{5}, 1, 0},                      /* only the final chunk */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        len = assemble(f, buf, cases[c].records, cases[c].n);
        open_bad(f, f->v.ring, buf, len, cases[c].good_prefix, &released);
        assert_int_equal(released, cases[c].good_prefix);
    }
    /* bytes appended after the final chunk */
    const size_t extra[] = {1, 16, 17, RECORD};
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++) {
        memcpy(buf, f->object, f->len);
        memset(buf + f->len, 0, extra[i]);
        open_bad(f, f->v.ring, buf, f->len + extra[i], FULL_CHUNKS, &released);
        assert_int_equal(released, FULL_CHUNKS);
    }
    free(buf);
}

static void test_other_keys_and_headers(void **state)
{
    fixture *f = *state;
    size_t released;
    /* another key: refused by key id, before anything is decrypted */
    sv_keyring *other = tc_ring(0x11);
    assert_int_equal(open_bad(f, other, f->object, f->len, 0, NULL), SV_EKEY);
    assert_non_null(strstr(sv_crypto_last_error(), "key id"));
    /* another key carrying this key's id: the data key does not unwrap */
    uint8_t id[SV_KEY_ID_LEN], mine[SV_KEY_ID_LEN];
    sv_keyring_id(other, id);
    sv_keyring_id(f->v.ring, mine);
    uint8_t *copy = malloc(f->len);
    memcpy(copy, f->object, f->len);
    uint8_t *at = memmem(copy, f->header_len, mine, sizeof mine);
    assert_non_null(at);
    memcpy(at, id, sizeof id);
    assert_int_equal(open_bad(f, other, copy, f->len, 0, NULL), SV_EAUTH);

    /* the same document sealed again (new data key): its header with the old body */
    char path[512];
    sv_vault_meta m;
    tc_meta(&m, docid, f->plain, sizeof f->plain);
    int fd = tc_memfd(f->plain, sizeof f->plain);
    sv_vault_seal_opts opts = {.chunk_size = CHUNK, .replace = true};
    assert_int_equal(sv_vault_seal_fd(f->v.vault, f->v.ring, fd, &m, &opts), 0);
    close(fd);
    assert_int_equal(sv_vault_object_path(f->v.vault, docid, path, sizeof path), 0);
    size_t len2;
    uint8_t *second = tc_read_file(path, &len2);
    assert_int_equal(len2, f->len);
    memcpy(copy, second, f->header_len);
    memcpy(copy + f->header_len, f->object + f->header_len, f->len - f->header_len);
    assert_int_equal(open_bad(f, f->v.ring, copy, f->len, 0, &released), SV_EAUTH);
    /* and one chunk of the other sealing in the middle */
    memcpy(copy, f->object, f->len);
    memcpy(copy + chunk_at(f, 2), second + chunk_at(f, 2), RECORD);
    assert_int_equal(open_bad(f, f->v.ring, copy, f->len, 2, &released), SV_EAUTH);
    assert_int_equal(released, 2);
    free(second);
    free(copy);
    sv_keyring_destroy(other);
}

static void test_renamed_file(void **state)
{
    fixture *f = *state;
    const char *other = "hbcdefghijklmnopqrstuvwxyz";
    /* open the object of docid as if it were other's */
    int fd = tc_memfd(f->object, f->len);
    tc_buf out = {0};
    assert_int_equal(sv_vault_open_fd(f->v.ring, fd, other, tc_buf_sink, &out, NULL, 0), SV_EAUTH);
    close(fd);
    assert_int_equal(out.len, 0);
    assert_non_null(strstr(sv_crypto_last_error(), other));
    /* the same through the vault: copy the file under other's name */
    char path[512];
    assert_int_equal(sv_vault_object_path(f->v.vault, other, path, sizeof path), 0);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    mkdir(path, 0700);
    *slash = '/';
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, f->object, f->len), (ssize_t)f->len);
    close(fd);
    sv_vault_meta meta;
    assert_int_equal(sv_vault_read_meta(f->v.vault, f->v.ring, other, &meta), SV_EAUTH);
    assert_int_equal(sv_vault_open(f->v.vault, f->v.ring, other, tc_buf_sink, &out, NULL, 0),
                     SV_EAUTH);
    assert_int_equal(out.len, 0);
    assert_int_equal(sv_vault_open(f->v.vault, f->v.ring, "hbcdefghijklmnopqrstuvwxy3", NULL, NULL,
                                   NULL, 0),
                     SV_ENOTFOUND);
}

int main(void)
{
    assert_int_equal(sv_crypto_global_init(), 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_intact_object_opens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_header_byte_flips, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_byte_flips, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chunk_reorder_drop_repeat_append, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_keys_and_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_renamed_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
