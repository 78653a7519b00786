/*
 * audit_fixture.h - shared by the audit log unit tests (test_crypto_audit.c,
 * test_crypto_audit_tamper.c): a log path in a new temp directory, two key
 * rings, logs written through the real appender, and a log file taken
 * apart into lines and put together again. Real files throughout.
 */
#ifndef SV_TEST_AUDIT_FIXTURE_H
#define SV_TEST_AUDIT_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "test_crypto_util.h"

#define MAX_ENTRIES 1024
#define MAX_LINES 32

typedef struct fixture {
    char dir[256];
    char path[300];    /* dir/audit.log, not created */
    sv_keyring *ring;  /* the log's key */
    sv_keyring *other; /* another key */
} fixture;

/* cmocka setup/teardown: *state is a fixture. */
int af_setup(void **state);
int af_teardown(void **state);

/* Every entry sv_audit_read passes on. */
typedef struct collected {
    sv_audit_entry e[MAX_ENTRIES];
    size_t n;
} collected;
/* An sv_audit_entry_fn that adds to the collected *ctx. */
int collect(const sv_audit_entry *e, void *ctx);

/* sv_audit_read of path under f->ring: returns its code, *bad its bad
 * line, c (may be NULL) the entries. */
int read_log(const fixture *f, const char *path, collected *c, uint64_t *bad);
/* Assert that path reads as SV_EAUTH at want_line, every line before it
 * passed on, and a message that names path. */
void expect_bad(const fixture *f, const char *path, uint64_t want_line);

/* Write (replace) / append raw bytes. */
void write_file(const char *path, const char *data, size_t len);
void append_bytes(const char *path, const char *data, size_t len);

/* Docids the logs of make_log use (the third is NULL: none). */
extern const char *const docids[3];
/* A log of n lines at path under ring: line i+1 is "open" of docids[i % 3]
 * by uid 1000+i "alice" with result "ok i", but every third is "verify" by
 * the process itself (sv_audit_append). */
void make_log(const char *path, const sv_keyring *ring, int n);

/* A log file taken apart: each line with its newline. */
typedef struct lines {
    char *buf; /* the whole file (free it) */
    size_t len;
    char *line[MAX_LINES];
    size_t line_len[MAX_LINES];
    size_t n;
} lines;
void split_lines(const char *path, lines *l);
/* Write lines order[0..n) (indexes into l) to path. */
void write_lines(const char *path, const lines *l, const int *order, size_t n);

#endif
