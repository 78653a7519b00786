/*
 * index_internal.h - shared by the files of index/ only: the handle, the
 * transaction helpers, the byte layouts of keys and values.
 *
 *   env.c     open/close, schema and key id check, transactions, map growth,
 *             error messages
 *   record.c  validation and the byte layouts (record, by_mrn dup, review)
 *   write.c   put, batch, file from review, reassign, delete, counters
 *   read.c    get, lookup, find, review list, iterate, stats
 *   bulk.c    the bulk loader
 *   check.c   the consistency check
 */
#ifndef SV_INDEX_INTERNAL_H
#define SV_INDEX_INTERNAL_H

#include <lmdb.h>
#include <pthread.h>

#include "sv_index.h"

/* Names of the databases and of the meta keys (docs/index-schema.md). */
#define IX_DB_DOCS "docs"
#define IX_DB_BY_MRN "by_mrn"
#define IX_DB_BY_HASH "by_hash"
#define IX_DB_REVIEW "review"
#define IX_DB_META "meta"
#define IX_META_SCHEMA "schema_version"
#define IX_META_KEY_ID "key_id"
#define IX_META_COUNT_PREFIX "count:" /* count:<state>:<type> -> u64 LE */

/* Record layout, version 1: fixed size, little-endian. */
#define IX_REC_SIZE 144
/* by_mrn duplicate: inverted big-endian time (8), docid, NUL, type. */
#define IX_DUP_MAX (8 + SV_INDEX_DOCID_MAX + 1 + SV_INDEX_TYPE_MAX)
/* review key: big-endian time (8), docid. Value: version byte, reason. */
#define IX_REVIEW_KEY_MAX (8 + SV_INDEX_DOCID_MAX)
#define IX_REVIEW_VAL_MAX (1 + SV_INDEX_REASON_MAX)
#define IX_REVIEW_VERSION 1u
/* Longest meta counter key: "count:" state ":" type. */
#define IX_COUNT_KEY_MAX 64

/* Internal only, never returned to a caller: the map is full, grow and
 * retry. Far from the SV_E* codes and from LMDB's codes. */
#define IX_EMAPFULL (-1000)

struct sv_index {
    MDB_env *env;
    MDB_dbi docs, by_mrn, by_hash, review, meta;
    /* Read-held by every transaction of this process, write-held to resize
     * the map: LMDB requires no active transaction during a resize. */
    pthread_rwlock_t lock;
    bool lock_ready;
    bool read_only;
    size_t map_max;
    size_t page_size;
    unsigned stale_readers_cleared;
    char *path;
    uint8_t key_id[SV_INDEX_KEY_ID_MAX];
    size_t key_id_len;
};

/* A write step run inside ix_write(). It may run more than once (after a
 * map resize), so it must reset its outputs at its start. Returns 0, SV_E*,
 * or IX_EMAPFULL. */
typedef int (*ix_write_fn)(sv_index *ix, MDB_txn *txn, void *ctx);

/* env.c */
void ix_clear_error(void);
void ix_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int ix_mdb_error(int mdb_rc, const char *what, const char *docid);
int ix_read_begin(sv_index *ix, MDB_txn **txn);
void ix_read_end(sv_index *ix, MDB_txn *txn);
int ix_write(sv_index *ix, const char *what, const char *docid, ix_write_fn fn, void *ctx);
int ix_reserve(sv_index *ix, size_t extra_bytes);

/* record.c */
bool ix_is_zero(const uint8_t *bytes, size_t len);
int ix_check_record(const char *docid, const sv_index_record *rec);
void ix_record_encode(const sv_index_record *rec, uint8_t out[IX_REC_SIZE]);
int ix_record_decode(const MDB_val *val, sv_index_record *rec);
size_t ix_dup_encode(int64_t intake_time, const char *docid, const char *type,
                     uint8_t out[IX_DUP_MAX]);
int ix_dup_decode(const MDB_val *val, sv_index_hit *hit);
size_t ix_review_key(int64_t since, const char *docid, uint8_t out[IX_REVIEW_KEY_MAX]);
size_t ix_review_val(const char *reason, uint8_t out[IX_REVIEW_VAL_MAX]);
int ix_review_decode(const MDB_val *key, const MDB_val *val, sv_index_review_entry *e);
int ix_docid_copy(const MDB_val *val, char out[SV_INDEX_DOCID_MAX + 1]);
size_t ix_count_key(sv_index_state state, const char *type, char out[IX_COUNT_KEY_MAX]);
void ix_put_be64(uint8_t *p, uint64_t v);
uint64_t ix_get_be64(const uint8_t *p);
void ix_put_le64(uint8_t *p, uint64_t v);
uint64_t ix_get_le64(const uint8_t *p);
void ix_put_le32(uint8_t *p, uint32_t v);
uint32_t ix_get_le32(const uint8_t *p);

/* write.c */
int ix_count_add(sv_index *ix, MDB_txn *txn, sv_index_state state, const char *type,
                 int64_t delta);
int ix_put_links(sv_index *ix, MDB_txn *txn, const char *docid, const sv_index_record *rec);

#endif
