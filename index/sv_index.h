/*
 * sv_index.h - the document index of scanvault: one LMDB environment that
 * answers "which documents does this patient have", "is this content already
 * filed", "what waits for review" and "what is in the index at all".
 *
 * The index stores only opaque values handed to it by the caller:
 *   docid        the document's id (the claimed file's name, never the name
 *                the scanner gave it): 1..64 characters of [A-Za-z0-9_-],
 *                first one a letter or digit (no dot: a file name with an
 *                extension cannot pass for a docid);
 *   blind MRN    16 bytes, HMAC(blind-index key, normalised MRN), made by
 *                crypto/; all zero means "no MRN";
 *   content id   32 bytes, the content-hash MAC of the original bytes;
 *   a record     state, type, times, counts, reason (sv_index_record).
 * Type names and reason codes are restricted to [a-z_] (a letter first, at
 * most 31 characters): no digits, no spaces, no capitals, so a misused field
 * cannot carry an MRN, a date of birth or a file name into the LMDB file.
 * The on-disk schema is described in docs/index-schema.md.
 *
 * Layout: named databases in one LMDB environment (a directory holding
 * data.mdb and lock.mdb):
 *   docs     docid -> record (fixed little-endian layout, version byte)
 *   by_mrn   blind MRN -> (inverted intake time, docid, type), MDB_DUPSORT,
 *            filed documents only; LMDB's duplicate order is newest first
 *   by_hash  content id -> docid
 *   review   (review-since time, docid) -> reason; oldest first
 *   meta     schema version, key id, per state and type counters
 * Every write is one synchronous LMDB transaction (no MDB_NOSYNC): when a
 * function that writes returns 0 the change is on disk; when it returns an
 * error nothing of it was written. A full map is grown (doubled, up to
 * sv_index_options.map_max) and the transaction retried from its start.
 *
 * Typical use (the pipeline; error handling shortened):
 *
 *     sv_index_options o = {.path = dir, .create = true,
 *                           .key_id = id, .key_id_len = id_len};
 *     sv_index *ix;
 *     if (sv_index_create(&ix, &o) != 0) log(sv_index_last_error());
 *     // vault object durable first, then:
 *     char existing[SV_INDEX_DOCID_MAX + 1];
 *     int rc = sv_index_put(ix, docid, &rec, existing);
 *     if (rc == 0 || (rc == SV_EEXIST && strcmp(existing, docid) == 0))
 *         unlink the claimed file;           // indexed (now or by an earlier run)
 *     else if (rc == SV_EEXIST) ...           // same content as `existing`
 *     else ...                               // keep the claimed file, retry later
 *     // reader: sv_index_find(ix, blind, NULL, hits, cap, &n);
 *     sv_index_destroy(ix);
 *
 * Errors: every function that can fail returns 0 or a negative SV_E* code
 * (sv_err.h). sv_index_last_error() then gives a one-line message for the
 * calling thread (what failed, on which docid or path, what to do next; it
 * never holds a patient field because the index never sees one).
 *
 * Caveats:
 *   - One sv_index per environment per process: LMDB must not have the same
 *     environment open twice in one process (its advisory locks would break).
 *     Several processes may open it (one service writing, tools reading).
 *   - A handle may be shared by threads: read transactions are not bound to
 *     threads (MDB_NOTLS) and a map resize waits until no transaction of this
 *     process is running. Callbacks (the *_each functions) run inside a read
 *     transaction: they must not call any sv_index function on the same
 *     handle, and should return quickly, because a long read transaction
 *     keeps LMDB from reusing freed pages and delays a map resize.
 *   - Do not use a handle in a child after fork(); open a new one after exec.
 *   - Do not put the environment on a network filesystem (SMB/NFS): LMDB's
 *     locks and memory map need a local filesystem.
 *   - A read-only open still writes lock.mdb (reader slots): the tool needs
 *     write access to it, as LMDB requires.
 *   - The map size is per process until a write commits it: a read-only
 *     handle adopts a map grown by the service on its next transaction.
 *   - A crashed reader leaves a stale slot in lock.mdb; opening a handle
 *     clears stale slots (mdb_reader_check) and sv_index_get_stats() says how
 *     many were cleared.
 *   - The map size is address space, not disk: data.mdb grows as it fills.
 *     A map that cannot grow further (map_max) or a full disk gives
 *     SV_EFULL, and the document stays where the caller had it.
 *   - The index is a cache of the vault: `reindex` rebuilds it from the
 *     vault objects (sv_index_bulk_load()). Records of an unknown version or
 *     an unknown schema version are refused (SV_EVERSION), never guessed at.
 */
#ifndef SV_INDEX_H
#define SV_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sv_err.h"

/* Version of the on-disk schema stored in meta. A build opens only its own. */
#define SV_INDEX_SCHEMA_VERSION 1u
/* Version byte of the records in docs that this build writes and reads. */
#define SV_INDEX_RECORD_VERSION 1u

/* Longest docid, in bytes (a buffer for one needs SV_INDEX_DOCID_MAX + 1). */
#define SV_INDEX_DOCID_MAX 64
/* Size of a blind MRN and of a content id, in bytes. */
#define SV_INDEX_BLIND_LEN 16
#define SV_INDEX_CONTENT_ID_LEN 32
/* Longest type name and reason code ([a-z_], a letter first). */
#define SV_INDEX_TYPE_MAX 31
#define SV_INDEX_REASON_MAX 31
/* Longest key id (the key file's id, opaque bytes). */
#define SV_INDEX_KEY_ID_MAX 64
/* Most distinct types sv_index_get_stats() reports one by one. */
#define SV_INDEX_STATS_TYPES 64

/* Default initial map size and default growth limit (sv_index_options). */
#define SV_INDEX_MAP_DEFAULT ((size_t)256 << 20)
#define SV_INDEX_MAP_MAX_DEFAULT ((size_t)1 << 40)

/* Where a document is. 0 is not a state, so a zeroed record is invalid. */
typedef enum sv_index_state {
    SV_INDEX_FILED = 1,      /* filed under blind_mrn; listed by sv_index_find() */
    SV_INDEX_REVIEW = 2,     /* waits for a person; in the review queue */
    SV_INDEX_QUARANTINED = 3 /* unreadable or hostile input; reason says why */
} sv_index_state;
#define SV_INDEX_STATE_COUNT 4 /* array size for arrays indexed by state */

/*
 * What the index knows about one document. Fixed size, no pointers: it can
 * be copied over a socket as it is.
 *
 * Rules checked by every function that writes one (SV_EINVAL otherwise):
 *   state         one of sv_index_state;
 *   type          1..31 of [a-z_], a letter first ("lab_report");
 *   intake_time   unix seconds, >= 0;
 *   blind_mrn     FILED: not all zero; REVIEW: may hold the candidate MRN's
 *                 blind value (it is not indexed: a document in review is
 *                 never listed under a patient); QUARANTINED: any;
 *   content_id    not all zero;
 *   reason        FILED: "" ; REVIEW and QUARANTINED: 1..31 of [a-z_];
 *   review_since  REVIEW: unix seconds >= 0, 0 means "intake_time";
 *                 otherwise 0.
 */
typedef struct sv_index_record {
    sv_index_state state;
    char type[SV_INDEX_TYPE_MAX + 1];
    int64_t intake_time;
    uint32_t pages;
    uint64_t size;                               /* original bytes */
    uint8_t blind_mrn[SV_INDEX_BLIND_LEN];       /* all zero when none */
    uint8_t content_id[SV_INDEX_CONTENT_ID_LEN];
    char reason[SV_INDEX_REASON_MAX + 1];        /* "" when filed */
    int64_t review_since;                        /* 0 unless in review */
} sv_index_record;

/* One document to write: its docid and its record (sv_index_put_batch(),
 * sv_index_bulk_load()). The caller owns both. */
typedef struct sv_index_doc {
    const char *docid;
    sv_index_record rec;
} sv_index_doc;

/* What happened to one document of a batch. */
typedef struct sv_index_put_result {
    int status;                                   /* 0 written, SV_EEXIST duplicate */
    char existing_docid[SV_INDEX_DOCID_MAX + 1];  /* SV_EEXIST: who has the content */
} sv_index_put_result;

/* One document of a patient, as sv_index_find() lists it. */
typedef struct sv_index_hit {
    char docid[SV_INDEX_DOCID_MAX + 1];
    int64_t intake_time;
    char type[SV_INDEX_TYPE_MAX + 1];
} sv_index_hit;

/* Narrows sv_index_find(). A zeroed filter (or NULL) lists everything. */
typedef struct sv_index_filter {
    const char *type; /* only this type; NULL or "" for any */
    int64_t since;    /* intake_time >= since (0: no lower bound) */
    int64_t until;    /* intake_time <= until (0: no upper bound) */
} sv_index_filter;

/* One entry of the review queue. */
typedef struct sv_index_review_entry {
    char docid[SV_INDEX_DOCID_MAX + 1];
    int64_t since;
    char reason[SV_INDEX_REASON_MAX + 1];
} sv_index_review_entry;

/* Counts and sizes (sv_index_get_stats()). Fixed size, no pointers. */
typedef struct sv_index_stats {
    uint32_t schema_version;
    uint64_t docs;                               /* entries in docs */
    uint64_t by_state[SV_INDEX_STATE_COUNT];     /* indexed by sv_index_state */
    uint64_t review_queue;                       /* entries in review */
    size_t n_types;                              /* entries used in types[] */
    bool types_truncated;                        /* more than SV_INDEX_STATS_TYPES */
    struct {
        char type[SV_INDEX_TYPE_MAX + 1];
        uint64_t by_state[SV_INDEX_STATE_COUNT];
    } types[SV_INDEX_STATS_TYPES];               /* sorted by type name */
    uint64_t map_size;                           /* bytes of address space */
    uint64_t map_used;                           /* bytes of data.mdb in use */
    uint64_t map_max;                            /* growth limit of this handle */
    uint32_t page_size;
    uint32_t readers_used, readers_max;          /* lock table slots (used: high-water) */
    uint32_t stale_readers_cleared;              /* by this handle's open */
    uint8_t key_id[SV_INDEX_KEY_ID_MAX];
    size_t key_id_len;
} sv_index_stats;

/* What sv_index_check() found. All zero means consistent. */
typedef struct sv_index_check_report {
    uint64_t docs_checked;
    uint64_t bad_records;     /* undecodable records (version, layout) */
    uint64_t missing_links;   /* a record without its by_hash/by_mrn/review entry */
    uint64_t dangling_links;  /* a by_hash/by_mrn/review entry without its record */
    uint64_t bad_counters;    /* meta counters that disagree with docs */
} sv_index_check_report;

/* How to open an environment. Zero every field, then set what you need. */
typedef struct sv_index_options {
    const char *path;       /* the environment directory */
    bool create;            /* make the directory (0700) and the schema if missing */
    bool read_only;         /* MDB_RDONLY: for tools; every write gives SV_EPERM */
    const uint8_t *key_id;  /* id of the key the caller holds; see below */
    size_t key_id_len;      /* 1..SV_INDEX_KEY_ID_MAX */
    size_t map_size;        /* initial map size in bytes; 0: SV_INDEX_MAP_DEFAULT */
    size_t map_max;         /* the map never grows beyond; 0: SV_INDEX_MAP_MAX_DEFAULT */
    unsigned max_readers;   /* lock table slots; 0: LMDB's default (126) */
} sv_index_options;

typedef struct sv_index sv_index;

/*
 * Callbacks of the *_each functions. Return 0 to go on, a positive value to
 * stop early (the function then returns 0), or a negative SV_E* code to stop
 * with that code. They run inside a read transaction: see the Caveats.
 */
typedef int (*sv_index_hit_fn)(const sv_index_hit *hit, void *ctx);
typedef int (*sv_index_review_fn)(const sv_index_review_entry *entry, void *ctx);
/* rec_status is 0 with rec filled in, or SV_EVERSION / SV_EFORMAT with rec
 * zeroed (an unreadable record is reported, not skipped). */
typedef int (*sv_index_doc_fn)(const char *docid, const sv_index_record *rec,
                               int rec_status, void *ctx);

/*
 * The message for the last failure in the calling thread: what failed, on
 * which docid or path, and what to do next. Every sv_index function clears
 * it on entry and sets it when it fails. Never NULL; "" after success. The
 * text stays valid until the thread's next sv_index call.
 */
const char *sv_index_last_error(void);

/* "filed", "review", "quarantined", or "invalid". Never NULL. */
const char *sv_index_state_name(sv_index_state state);

/*
 * Is this a valid docid / type name / reason code? The same checks every
 * writing function makes, for callers that want to check early.
 */
bool sv_index_docid_ok(const char *docid);
bool sv_index_type_ok(const char *type);
bool sv_index_reason_ok(const char *reason);

/*
 * Open the environment at opts->path and check that it is an index this
 * build can use.
 *
 * With create, a missing directory is made (mode 0700) and an empty
 * environment gets the schema: the five databases, the schema version and
 * the key id (which must then be given). An existing index is checked:
 *   - its schema version must be SV_INDEX_SCHEMA_VERSION;
 *   - if opts->key_id is given, it must equal the stored key id. A read-write
 *     open must give it; a read-only open may leave it NULL (no check).
 * Stale reader slots left by crashed processes are cleared.
 *
 * @param[out] out   the handle; NULL on failure. Free it with sv_index_destroy().
 * @param[in]  opts  how to open; the strings and bytes are copied.
 * @return 0 on success, or:
 *   SV_EINVAL    bad options (no path, key id too long, create + read_only,
 *                map_size > map_max, read-write open without key id)
 *   SV_ENOTFOUND no index at path and create not set
 *   SV_EVERSION  the index has another schema version (the message gives
 *                both versions; run `scanvault reindex` into a new directory),
 *                or data.mdb was written by an incompatible LMDB
 *   SV_EKEY      the index was built with another key id (use that key, or
 *                reindex with this one)
 *   SV_EPERM     no permission on the directory or its files
 *   SV_EINDEX    data.mdb is corrupt, or another LMDB failure
 *   SV_ENOMEM, SV_EERRNO (errno set)
 */
int sv_index_create(sv_index **out, const sv_index_options *opts);

/*
 * Close the handle and free it. NULL is accepted. No other thread may be
 * using the handle. Committed data is already on disk: nothing is flushed.
 */
void sv_index_destroy(sv_index *ix);

/*
 * Write one document: its record, its content id, and, by state, its entry
 * under its blind MRN (FILED) or in the review queue (REVIEW). One
 * synchronous transaction: all of it is written, or nothing.
 *
 * @param[in]  docid     the document's id (see the top of this file)
 * @param[in]  rec       its record (rules at sv_index_record)
 * @param[out] existing  on SV_EEXIST, the docid that already has this content
 *                       (may equal docid: the document was indexed before,
 *                       e.g. by a run that crashed after the commit);
 *                       "" otherwise. May be NULL. SV_INDEX_DOCID_MAX + 1 bytes.
 * @return 0, or:
 *   SV_EEXIST    the content id is already indexed; nothing written
 *   SV_EINVAL    bad docid or record, or the docid is already used by a
 *                document with another content id
 *   SV_EPERM     read-only handle
 *   SV_EFULL     map at map_max, or disk full; nothing written
 *   SV_EINDEX, SV_ENOMEM, SV_EERRNO
 */
int sv_index_put(sv_index *ix, const char *docid, const sv_index_record *rec,
                 char existing[SV_INDEX_DOCID_MAX + 1]);

/*
 * Write n documents in one synchronous transaction (the pipeline commits
 * the documents that finished together, then unlinks their sources). A
 * document whose content id is already indexed (also by an earlier document
 * of the same batch) is skipped and reported in results[i] as SV_EEXIST
 * with the existing docid; the others are written.
 *
 * @param[in]  docs     n documents; n may be 0
 * @param[out] results  n results, cleared on entry
 * @return 0 when the transaction committed (see results for each document),
 *   or an error as for sv_index_put() except SV_EEXIST: then nothing at all
 *   was written, and results[i].status holds the error for the document
 *   that caused it, if one did (0 for the others).
 */
int sv_index_put_batch(sv_index *ix, const sv_index_doc *docs, size_t n,
                       sv_index_put_result *results);

/*
 * Read the record of one document.
 *
 * @param[out] rec  the record; zeroed on failure
 * @return 0, or SV_ENOTFOUND, SV_EINVAL (bad docid), SV_EVERSION (a record
 *   version this build does not read), SV_EFORMAT (a damaged record),
 *   SV_EINDEX
 */
int sv_index_get(sv_index *ix, const char *docid, sv_index_record *rec);

/*
 * Which document has this content? For idempotent intake: look before doing
 * expensive work, and compare with your own docid after a crash.
 *
 * @param[out] docid  the docid; "" on failure. SV_INDEX_DOCID_MAX + 1 bytes.
 * @return 0, or SV_ENOTFOUND, SV_EINVAL, SV_EINDEX
 */
int sv_index_lookup_content(sv_index *ix, const uint8_t content_id[SV_INDEX_CONTENT_ID_LEN],
                            char docid[SV_INDEX_DOCID_MAX + 1]);

/*
 * The filed documents of one patient, newest first (intake time descending,
 * then docid ascending), narrowed by an optional filter. One cursor range
 * scan over by_mrn; no record is read.
 *
 * @param[in]  blind_mrn  the patient's blind MRN (not all zero)
 * @param[in]  filter     NULL for all documents
 * @param[out] hits       room for cap hits; the first min(cap, *n_total)
 *                        are written. May be NULL when cap is 0 (count only).
 * @param[out] n_total    how many documents match (may exceed cap)
 * @return 0 (also when nothing matches: *n_total is 0), or SV_EINVAL (bad
 *   filter type, since > until, all-zero blind MRN), SV_EFORMAT (a damaged
 *   entry), SV_EINDEX
 */
int sv_index_find(sv_index *ix, const uint8_t blind_mrn[SV_INDEX_BLIND_LEN],
                  const sv_index_filter *filter, sv_index_hit *hits, size_t cap,
                  size_t *n_total);

/* The same scan, calling fn for each hit in order. Returns as sv_index_find(),
 * or the callback's negative code. */
int sv_index_find_each(sv_index *ix, const uint8_t blind_mrn[SV_INDEX_BLIND_LEN],
                       const sv_index_filter *filter, sv_index_hit_fn fn, void *ctx);

/*
 * The review queue, oldest first (review_since ascending, then docid).
 *
 * @param[out] entries  room for cap entries; the first min(cap, *n_total)
 *                      are written. May be NULL when cap is 0.
 * @param[out] n_total  the length of the queue
 * @return 0, or SV_EVERSION (an entry of a version this build cannot read),
 *   SV_EFORMAT (a damaged entry), SV_EINDEX
 */
int sv_index_review_list(sv_index *ix, sv_index_review_entry *entries, size_t cap,
                         size_t *n_total);

/* The same walk, calling fn for each entry in order. Returns as
 * sv_index_review_list(), or the callback's negative code. */
int sv_index_review_each(sv_index *ix, sv_index_review_fn fn, void *ctx);

/*
 * A person decided: file a document that waits for review under a blind MRN.
 * One transaction: state becomes FILED, reason and review_since are cleared,
 * the review entry goes, the by_mrn entry comes.
 *
 * @param[in] blind_mrn  the patient's blind MRN (not all zero)
 * @param[in] type       the corrected type, or NULL to keep it
 * @return 0, or SV_ENOTFOUND, SV_EINVAL (the document is not in review, bad
 *   type, all-zero blind MRN), SV_EVERSION/SV_EFORMAT (its record), SV_EPERM,
 *   SV_EFULL, SV_EINDEX
 */
int sv_index_file_review(sv_index *ix, const char *docid,
                         const uint8_t blind_mrn[SV_INDEX_BLIND_LEN], const char *type);

/*
 * A person decided that a document waiting for review is not to be filed
 * under any patient (a blank page, another hospital's record): one
 * transaction, state becomes QUARANTINED with reason (a code such as
 * "rejected"), the review entry goes. It stays in the index and the vault,
 * listed with the quarantine.
 *
 * @return 0, or SV_ENOTFOUND, SV_EINVAL (not in review, bad reason code),
 *   SV_EVERSION/SV_EFORMAT, SV_EPERM, SV_EFULL, SV_EINDEX
 */
int sv_index_reject_review(sv_index *ix, const char *docid, const char *reason);

/*
 * Move a filed document to another patient (a misfile corrected). One
 * transaction: the by_mrn entry moves, the record's blind MRN changes.
 * Reassigning to the blind MRN it already has does nothing and returns 0.
 *
 * @return 0, or SV_ENOTFOUND, SV_EINVAL (not filed, all-zero blind MRN),
 *   SV_EVERSION/SV_EFORMAT, SV_EPERM, SV_EFULL, SV_EINDEX
 */
int sv_index_reassign(sv_index *ix, const char *docid,
                      const uint8_t blind_mrn[SV_INDEX_BLIND_LEN]);

/*
 * Remove a document and every entry that points to it (content id, by_mrn,
 * review queue, counters), in one transaction. The vault object is the
 * caller's business.
 *
 * @return 0, or SV_ENOTFOUND, SV_EINVAL, SV_EVERSION/SV_EFORMAT (a record
 *   this build cannot read cannot be unlinked safely: reindex), SV_EPERM,
 *   SV_EFULL, SV_EINDEX
 */
int sv_index_delete(sv_index *ix, const char *docid);

/*
 * Counts by state and type (kept as counters in meta, so this does not scan
 * the documents), map size and use, reader slots and the key id.
 *
 * @param[out] st  zeroed, then filled in
 * @return 0, or SV_EINDEX
 */
int sv_index_get_stats(sv_index *ix, sv_index_stats *st);

/*
 * Every document in docid order, for verify and reindex. One read
 * transaction over the whole index: on a large index the walk takes seconds
 * and holds back page reuse meanwhile (see the Caveats).
 *
 * @return 0, the callback's negative code, or SV_EINDEX
 */
int sv_index_docs_each(sv_index *ix, sv_index_doc_fn fn, void *ctx);

/*
 * Load many documents in one transaction (reindex, benchmarks). The
 * documents are sorted internally so each database is written in key order,
 * with MDB_APPEND wherever the new keys sort after the existing ones (always
 * on an empty index). All or nothing: a duplicate content id or docid (in
 * the index or within docs) fails the whole load. The map is grown up front
 * for the load.
 *
 * @return 0, or SV_EEXIST (a duplicate; the message names the docid),
 *   SV_EINVAL (a bad document; the message names it), SV_EPERM, SV_EFULL,
 *   SV_ENOMEM, SV_EINDEX
 */
int sv_index_bulk_load(sv_index *ix, const sv_index_doc *docs, size_t n);

/*
 * Check that the databases agree with each other: every record readable and
 * linked from by_hash (and by_mrn or review by state), no entry pointing to
 * a missing or different document, the counters equal to a recount. Reads
 * everything in one read transaction.
 *
 * @param[out] rep  zeroed, then filled in
 * @return 0 when consistent, SV_EINDEX when rep counts a problem or LMDB
 *   failed (rep says which)
 */
int sv_index_check(sv_index *ix, sv_index_check_report *rep);

#endif
