/*
 * index_fixture.h - shared by the index unit tests (test_index.c,
 * test_index_env.c): a real LMDB environment in a temporary directory,
 * realistic blind MRNs (HMAC-SHA-256) and content ids (SHA-256).
 */
#ifndef SV_TEST_INDEX_FIXTURE_H
#define SV_TEST_INDEX_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sv_index.h"

/* Two key ids: the environment's own and a foreign one. */
extern const uint8_t key_a[9];
extern const uint8_t key_b[9];

typedef struct fixture {
    char dir[64];
    sv_index *ix;
} fixture;

/* The blind value and content id the pipeline would make for a test MRN or
 * content text. */
void blind_of(const char *mrn, uint8_t out[SV_INDEX_BLIND_LEN]);
void content_of(const char *text, uint8_t out[SV_INDEX_CONTENT_ID_LEN]);
/* A record with those values (NULL mrn / reason: none). */
sv_index_record rec_of(sv_index_state state, const char *type, int64_t t, const char *mrn,
                       const char *content, const char *reason);
/* Open the environment in dir with these options. */
int open_at(const char *dir, sv_index **ix, bool create, bool ro, const uint8_t *key,
            size_t map_size, size_t map_max);
/* cmocka setup/teardown: a fresh environment in a new temporary directory. */
int setup(void **state);
int teardown(void **state);
void remove_env(const char *dir);
/* Close and open the fixture's environment again. */
void reopen(fixture *f);
/* The five databases agree (sv_index_check). */
void assert_consistent(sv_index *ix);
uint64_t count_docs(sv_index *ix);

#endif
