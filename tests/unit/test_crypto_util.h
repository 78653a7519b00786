/*
 * test_crypto_util.h - helpers shared by the crypto unit tests: hex, temp
 * directories, in-memory files and sinks, sample metadata. Real files and
 * the real library throughout; nothing is mocked.
 */
#ifndef TEST_CRYPTO_UTIL_H
#define TEST_CRYPTO_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sv_crypto.h"

/* Decode hex into out (cap bytes); returns the byte count (fails the test
 * on bad hex). */
size_t tc_unhex(const char *hex, uint8_t *out, size_t cap);

/* A new empty directory under $TMPDIR (or /tmp); path gets its name. */
void tc_mkdtemp(char path[256]);
/* Remove a directory tree (best effort). */
void tc_rm_rf(const char *path);

/* A memfd holding len bytes, offset 0. */
int tc_memfd(const uint8_t *data, size_t len);
/* Read a whole file (malloc'd; *len gets the size). */
uint8_t *tc_read_file(const char *path, size_t *len);

/* Deterministic pseudo-random bytes (xorshift) from seed. */
void tc_fill(uint8_t *buf, size_t len, uint64_t *seed);

/* A key ring from 32 bytes that start at first (first, first+1, ...). */
sv_keyring *tc_ring(uint8_t first);

/* A growable in-memory sink (sv_vault_sink). */
typedef struct tc_buf {
    uint8_t *data;
    size_t len, cap;
} tc_buf;
int tc_buf_sink(void *ctx, const uint8_t *buf, size_t len);
void tc_buf_free(tc_buf *b);

/* Metadata for docid describing data (its size and SHA-256). */
void tc_meta(sv_vault_meta *m, const char *docid, const uint8_t *data, size_t len);

/* Seal data into the vault as docid with chunk_size (0: default). */
int tc_seal(sv_vault *v, const sv_keyring *ring, const char *docid, const uint8_t *data,
            size_t len, uint32_t chunk_size);

/* A vault in a new temp directory (dir/vault) and a key ring (tc_ring). */
typedef struct tc_vault {
    char dir[256];
    char vault_dir[300];
    sv_vault *vault;
    sv_keyring *ring;
} tc_vault;
void tc_vault_open(tc_vault *t, uint8_t ring_first);
/* Free everything and remove the directory. */
void tc_vault_close(tc_vault *t);
/* cmocka setup/teardown: *state is a tc_vault with ring tc_ring(0x40). */
int tc_vault_setup(void **state);
int tc_vault_teardown(void **state);
/* Entries in the vault's tmp/ (temp files left behind). */
size_t tc_tmp_entries(const tc_vault *t);

/* Does haystack contain needle as ASCII, UTF-16LE or UTF-16BE? */
bool tc_contains_text(const uint8_t *hay, size_t hay_len, const char *needle);

#endif
