/*
 * audit_fixture.c - see audit_fixture.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit_fixture.h"

int af_setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    tc_mkdtemp(f->dir);
    snprintf(f->path, sizeof f->path, "%s/audit.log", f->dir);
    f->ring = tc_ring(0x10);
    f->other = tc_ring(0x50);
    *state = f;
    return 0;
}

int af_teardown(void **state)
{
    fixture *f = *state;
    sv_keyring_destroy(f->ring);
    sv_keyring_destroy(f->other);
    tc_rm_rf(f->dir);
    free(f);
    return 0;
}

int collect(const sv_audit_entry *e, void *ctx)
{
    collected *c = ctx;
    assert_true(c->n < MAX_ENTRIES);
    c->e[c->n++] = *e;
    return 0;
}

int read_log(const fixture *f, const char *path, collected *c, uint64_t *bad)
{
    if (c != NULL)
        memset(c, 0, sizeof *c);
    *bad = 12345;
    int rc = sv_audit_read(f->ring, path, c != NULL ? collect : NULL, c, bad);
    if (rc == 0)
        assert_int_equal(*bad, 0);
    return rc;
}

void write_file(const char *path, const char *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(close(fd), 0);
}

void append_bytes(const char *path, const char *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(close(fd), 0);
}

const char *const docids[3] = {"abcdefghijklmnopqrstuvwxyz",
                               "site7-bbcdefghijklmnopqrstuvwxyz", NULL};

void make_log(const char *path, const sv_keyring *ring, int n)
{
    sv_audit *a = NULL;
    assert_int_equal(sv_audit_create(&a, ring, path), 0);
    for (int i = 0; i < n; i++) {
        char result[32];
        snprintf(result, sizeof result, "ok %d", i);
        int rc = i % 3 == 2 ? sv_audit_append(a, "verify", NULL, result)
                            : sv_audit_append_as(a, 1000u + (unsigned)i, "alice", "open",
                                                 docids[i % 3], result);
        if (rc != 0)
            print_error("append %d: %s\n", i, sv_crypto_last_error());
        assert_int_equal(rc, 0);
    }
    sv_audit_destroy(a);
}

void split_lines(const char *path, lines *l)
{
    memset(l, 0, sizeof *l);
    l->buf = (char *)tc_read_file(path, &l->len);
    size_t start = 0;
    for (size_t i = 0; i < l->len; i++) {
        if (l->buf[i] != '\n')
            continue;
        assert_true(l->n < MAX_LINES);
        l->line[l->n] = l->buf + start;
        l->line_len[l->n] = i + 1 - start;
        l->n++;
        start = i + 1;
    }
    assert_int_equal(start, l->len);
}

void write_lines(const char *path, const lines *l, const int *order, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    for (size_t i = 0; i < n; i++) {
        size_t k = (size_t)order[i];
        assert_int_equal(write(fd, l->line[k], l->line_len[k]), (ssize_t)l->line_len[k]);
    }
    assert_int_equal(close(fd), 0);
}

void expect_bad(const fixture *f, const char *path, uint64_t want_line)
{
    collected *c = malloc(sizeof *c);
    assert_non_null(c);
    uint64_t bad;
    int rc = read_log(f, path, c, &bad);
    if (rc != SV_EAUTH || bad != want_line)
        print_error("want line %" PRIu64 " bad, got rc %d line %" PRIu64 ": %s\n", want_line, rc,
                    bad, sv_crypto_last_error());
    assert_int_equal(rc, SV_EAUTH);
    assert_int_equal(bad, want_line);
    /* every line before the bad one was passed on, none after */
    assert_int_equal(c->n, want_line - 1);
    assert_non_null(strstr(sv_crypto_last_error(), path));
    free(c);
}
