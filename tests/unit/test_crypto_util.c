/*
 * test_crypto_util.c - see test_crypto_util.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_crypto_util.h"

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t tc_unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex);
    assert_int_equal(n % 2, 0);
    assert_true(n / 2 <= cap);
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
        assert_true(hi >= 0 && lo >= 0);
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return n / 2;
}

void tc_mkdtemp(char path[256])
{
    const char *base = getenv("TMPDIR");
    snprintf(path, 256, "%s/svcrypto.XXXXXX", base != NULL && base[0] != '\0' ? base : "/tmp");
    assert_non_null(mkdtemp(path));
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void tc_rm_rf(const char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int tc_memfd(const uint8_t *data, size_t len)
{
    int fd = memfd_create("tc", MFD_CLOEXEC);
    assert_true(fd >= 0);
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, data + done, len - done);
        assert_true(n > 0);
        done += (size_t)n;
    }
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    return fd;
}

uint8_t *tc_read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    uint8_t *buf = malloc((size_t)st.st_size + 1);
    assert_non_null(buf);
    size_t done = 0;
    while (done < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);
        assert_true(n > 0);
        done += (size_t)n;
    }
    close(fd);
    *len = done;
    return buf;
}

void tc_fill(uint8_t *buf, size_t len, uint64_t *seed)
{
    uint64_t x = *seed != 0 ? *seed : 0x9e3779b97f4a7c15u;
    size_t i = 0;
    while (i < len) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        for (int b = 0; b < 8 && i < len; b++, i++)
            buf[i] = (uint8_t)(x >> (8 * b));
    }
    *seed = x;
}

sv_keyring *tc_ring(uint8_t first)
{
    uint8_t key[SV_KEY_LEN];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)(first + i);
    sv_keyring *ring = NULL;
    assert_int_equal(sv_keyring_from_bytes(&ring, key), 0);
    return ring;
}

int tc_buf_sink(void *ctx, const uint8_t *buf, size_t len)
{
    tc_buf *b = ctx;
    if (b->len + len > b->cap) {
        size_t cap = b->cap == 0 ? 4096 : b->cap;
        while (cap < b->len + len)
            cap *= 2;
        uint8_t *p = realloc(b->data, cap);
        if (p == NULL)
            return SV_ENOMEM;
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, buf, len);
    b->len += len;
    return 0;
}

void tc_buf_free(tc_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

void tc_meta(sv_vault_meta *m, const char *docid, const uint8_t *data, size_t len)
{
    memset(m, 0, sizeof *m);
    snprintf(m->docid, sizeof m->docid, "%s", docid);
    m->state = SV_VAULT_FILED;
    snprintf(m->mrn, sizeof m->mrn, "%s", "40817265");
    snprintf(m->type, sizeof m->type, "%s", "lab_report");
    snprintf(m->original_name, sizeof m->original_name, "%s", "Smith_John_labs.pdf");
    m->intake_time = 1767225600;
    m->pages = 3;
    m->size = len;
    snprintf(m->ocr_summary, sizeof m->ocr_summary, "%s", "CBC panel, two pages of results");
    int fd = tc_memfd(data, len);
    uint64_t size = 0;
    assert_int_equal(sv_crypto_sha256_fd(fd, m->sha256, &size), 0);
    assert_int_equal(size, len);
    close(fd);
}

int tc_seal(sv_vault *v, const sv_keyring *ring, const char *docid, const uint8_t *data,
            size_t len, uint32_t chunk_size)
{
    sv_vault_meta m;
    tc_meta(&m, docid, data, len);
    int fd = tc_memfd(data, len);
    sv_vault_seal_opts opts = {.chunk_size = chunk_size, .replace = false};
    int rc = sv_vault_seal_fd(v, ring, fd, &m, &opts);
    close(fd);
    sv_vault_meta_wipe(&m);
    return rc;
}

void tc_vault_open(tc_vault *t, uint8_t ring_first)
{
    memset(t, 0, sizeof *t);
    tc_mkdtemp(t->dir);
    snprintf(t->vault_dir, sizeof t->vault_dir, "%s/vault", t->dir);
    assert_int_equal(sv_vault_init_dir(t->vault_dir), 0);
    assert_int_equal(sv_vault_create(&t->vault, t->vault_dir), 0);
    t->ring = tc_ring(ring_first);
}

void tc_vault_close(tc_vault *t)
{
    sv_vault_destroy(t->vault);
    sv_keyring_destroy(t->ring);
    tc_rm_rf(t->dir);
    memset(t, 0, sizeof *t);
}

int tc_vault_setup(void **state)
{
    tc_vault *t = calloc(1, sizeof *t);
    assert_non_null(t);
    tc_vault_open(t, 0x40);
    *state = t;
    return 0;
}

int tc_vault_teardown(void **state)
{
    tc_vault_close(*state);
    free(*state);
    return 0;
}

size_t tc_tmp_entries(const tc_vault *t)
{
    char tmp[400];
    snprintf(tmp, sizeof tmp, "%s/tmp", t->vault_dir);
    DIR *d = opendir(tmp);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static bool contains(const uint8_t *hay, size_t hay_len, const uint8_t *needle, size_t n)
{
    return n > 0 && hay_len >= n && memmem(hay, hay_len, needle, n) != NULL;
}

bool tc_contains_text(const uint8_t *hay, size_t hay_len, const char *needle)
{
    size_t n = strlen(needle);
    uint8_t le[512], be[512];
    assert_true(2 * n <= sizeof le);
    for (size_t i = 0; i < n; i++) {
        le[2 * i] = (uint8_t)needle[i];
        le[2 * i + 1] = 0;
        be[2 * i] = 0;
        be[2 * i + 1] = (uint8_t)needle[i];
    }
    return contains(hay, hay_len, (const uint8_t *)needle, n) ||
           contains(hay, hay_len, le, 2 * n) || contains(hay, hay_len, be, 2 * n);
}
