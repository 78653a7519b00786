/*
 * sv_intake_maint.h - part of sv_intake.h, the intake module's one public
 * header; include that, never this file (docs/decisions.md). Offline and
 * admin maintenance of a data directory: reindex, verify, key rotation.
 */
#ifndef SV_INTAKE_H
#error "include sv_intake.h, not sv_intake_maint.h"
#endif
#ifndef SV_INTAKE_MAINT_H
#define SV_INTAKE_MAINT_H

/* ==== maintenance: reindex and verify (maintain.c, reindex.c, verify.c) ====
 *
 * The index is a cache of the vault: every object carries, sealed, what its
 * index entry holds. sv_reindex_run() rebuilds the whole index from the
 * objects alone and swaps it in atomically; sv_verify_run() checks every
 * object and that index and vault agree both ways. Both call a progress
 * function now and then and a problem function once per problem found (a
 * docid and a kind, never an MRN or a file name), and both append one audit
 * line. docs/maintenance.md is the admin's page.
 */

/* How far a run is. bytes: original bytes of the documents done. */
typedef struct sv_maint_progress {
    uint64_t done, total;   /* files under vault/objects seen, and how many there are */
    uint64_t bytes;
    double elapsed_s;
} sv_maint_progress;

/* Called at most 10 times a second, and once more when the walk is done. */
typedef void (*sv_maint_progress_fn)(const sv_maint_progress *p, void *ctx);

/* What can be wrong (docs/maintenance.md says what each means and what to do). */
typedef enum sv_maint_kind {
    SV_MAINT_DAMAGED = 1,    /* the object does not authenticate (changed, truncated,
                                not an object), or its metadata cannot be indexed */
    SV_MAINT_OTHER_KEY = 2,  /* the object is sealed under another key id */
    SV_MAINT_UNREADABLE = 3, /* the object cannot be read (permissions, I/O) */
    SV_MAINT_STRAY = 4,      /* a file under vault/objects that is not <docid>.svd
                                in its fan-out directory */
    SV_MAINT_DUPLICATE = 5,  /* the object has the same content as another document,
                                the one the index keeps */
    SV_MAINT_NO_ENTRY = 6,   /* an object without an index entry */
    SV_MAINT_NO_OBJECT = 7,  /* an index entry without an object */
    SV_MAINT_MISMATCH = 8,   /* the index entry differs from what the object says */
    SV_MAINT_BAD_ENTRY = 9,  /* an index record that cannot be decoded */
    SV_MAINT_INDEX = 10,     /* the index disagrees with itself (sv_index_check) */
    SV_MAINT_DIFFERENT = 11  /* reindex: the new index differs from the old one here */
} sv_maint_kind;
#define SV_MAINT_KIND_COUNT 12 /* array size for arrays indexed by kind */

/* "damaged", "other_key", "unreadable", "stray", "duplicate", "no_entry",
 * "no_object", "mismatch", "bad_entry", "index", "different"; "?" otherwise. */
const char *sv_maint_kind_name(sv_maint_kind kind);

/* One problem. The strings are valid during the call only. */
typedef struct sv_maint_problem {
    sv_maint_kind kind;
    const char *docid;   /* the document concerned; NULL when there is none (a
                            stray not named like an object, the index as a whole) */
    const char *detail;  /* one line: what was found (fields that differ, the
                            error, the docid kept); never an MRN or a file name */
} sv_maint_problem;

typedef void (*sv_maint_problem_fn)(const sv_maint_problem *p, void *ctx);

/*
 * The index record a vault object's metadata implies, exactly as the
 * pipeline commits it: state, type, reason, intake time, pages, size,
 * content id = sv_crypto_content_id(ring, sha256), blind MRN =
 * sv_crypto_blind_mrn(ring, mrn) when filed (zero otherwise), review_since 0
 * (the index reads that as the intake time). *rec is zeroed first. Returns
 * 0; SV_EINVAL when the metadata breaks the index's rules (negative intake
 * time, bad type or reason: message in sv_intake_last_error(), no value
 * echoed); SV_ENOMEM.
 */
int sv_maint_record_from_meta(const sv_keyring *ring, const sv_vault_meta *meta,
                              sv_index_record *rec);

/*
 * Do two records say the same, field by field (review_since 0 counts as the
 * intake time for a document in review, as the index stores it)? When not,
 * the names of the fields that differ ("state type blind_mrn ...") go to
 * diff (may be NULL), never their values.
 */
bool sv_maint_records_equal(const sv_index_record *a, const sv_index_record *b, char *diff,
                            size_t diff_len);

typedef struct sv_reindex_options {
    const char *data_dir;          /* required */
    const sv_keyring *ring;        /* required: the key every object is sealed under;
                                      the new index gets its key id */
    bool skip_damaged;             /* index what authenticates; otherwise any damaged
                                      object stops the reindex with nothing replaced.
                                      Objects under another key always stop it. */
    bool compare_old;              /* compare the new index with the one it replaces
                                      and count the differences */
    bool lock_held;                /* the caller holds the data directory's lock (key
                                      rotation); otherwise sv_reindex_run takes it */
    sv_audit *audit;               /* where the "reindex" line goes; NULL: the data
                                      directory's audit/audit.log opened with ring */
    size_t batch;                  /* documents per index load (one transaction);
                                      0: 65536 (about 24 MiB of buffers) */
    sv_maint_progress_fn progress; void *progress_ctx;   /* may be NULL */
    sv_maint_problem_fn problem; void *problem_ctx;      /* may be NULL */
} sv_reindex_options;

typedef struct sv_reindex_report {
    uint64_t objects;      /* files under vault/objects that are objects in their place */
    uint64_t indexed;      /* entries in the new index */
    uint64_t damaged;      /* objects whose header did not authenticate, could not be
                              read, or whose metadata cannot be indexed */
    uint64_t other_key;    /* objects sealed under another key id (also in damaged) */
    uint64_t duplicates;   /* objects left out: the same content as an earlier one */
    uint64_t strays;       /* other files under vault/objects, left alone */
    uint64_t differences;  /* compare_old: docids whose entry differs, or that only
                              one of the two indexes has */
    uint64_t old_entries;  /* compare_old: entries in the old index (its counter) */
    uint64_t bytes;        /* original bytes of the documents indexed */
    double seconds;
    bool had_old;          /* there was an index to replace */
    bool compared;         /* compare_old, and the old index could be read with
                              this key: differences is meaningful */
    bool replaced;         /* the new index is now <data_dir>/index */
    char not_compared[256]; /* had_old and compare_old but not compared: why */
} sv_reindex_report;

/*
 * Rebuild the index of data_dir from its vault objects alone. Every object's
 * header is authenticated and its metadata read (bodies are not read: that
 * is verify's work); sv_maint_record_from_meta() makes its entry. Objects
 * with the same content: the earliest (intake time, then docid) is indexed,
 * the others are reported as duplicates. The new index is built in
 * <data_dir>/index.new (a leftover one is removed first) in loads of
 * o->batch documents (bounded memory), checked with sv_index_check(),
 * compared with the old one if asked, audited, and then exchanged with
 * <data_dir>/index in one renameat2(RENAME_EXCHANGE) (a plain rename when
 * there was none), the data directory fsync'ed and the old environment
 * removed. A crash at any point leaves the old index or the new one as
 * <data_dir>/index, never a part of one: run it again.
 *
 * Unless o->lock_held, it takes the data directory's lock, which the service
 * and ingest hold while they run, and refuses to run during an unfinished key
 * rotation. Processes that have the old index open (a find at that moment)
 * finish on it. rep is zeroed, then filled in as far as the run got.
 *
 * Returns 0 when the new index replaced the old one (rep->replaced); else
 * nothing was replaced (but for a failed fsync after the rename: then
 * rep->replaced is true, the old index is kept as index.new, SV_EERRNO) and: SV_EEXIST (the service or an ingest runs: stop
 * it first); SV_EAUTH (damaged objects without skip_damaged, listed through
 * o->problem); SV_EKEY (objects under another key, or a key rotation is not
 * finished); SV_ENOTFOUND (not a data directory; or, with compare_old, no
 * object could be indexed while the old index has entries: storage not
 * mounted?);
 * SV_EINVAL (options);
 * SV_EINDEX, SV_EFULL, SV_ENOMEM, SV_EERRNO; an audit error. The message is
 * in sv_intake_last_error().
 */
int sv_reindex_run(const sv_reindex_options *o, sv_reindex_report *rep);

typedef struct sv_verify_options {
    bool fast;                     /* headers and sealed metadata only
                                      (sv_vault_read_meta): a changed body byte
                                      is not seen */
    sv_maint_progress_fn progress; void *progress_ctx;   /* may be NULL */
    sv_maint_problem_fn problem; void *problem_ctx;      /* may be NULL */
} sv_verify_options;

typedef struct sv_verify_report {
    uint64_t objects;       /* objects checked */
    uint64_t bytes;         /* their original bytes */
    uint64_t entries;       /* index entries checked */
    uint64_t pending;       /* objects whose intake has not finished yet (the claimed
                               file is still in the spool): not a problem */
    uint64_t problems;      /* the sum of by_kind */
    uint64_t by_kind[SV_MAINT_KIND_COUNT];
    sv_index_check_report check; /* the index's own consistency */
    double seconds;
} sv_verify_report;

/*
 * Check the store's vault and index against each other: every file under
 * vault/objects (strays reported), every object authenticated (in full:
 * each chunk and the content hash; o->fast: the header only), its index
 * entry present and equal to the record its metadata implies; then every
 * index entry must have its object, and sv_index_check() must pass. Works on
 * a store opened read-only, beside a running service: an object whose intake
 * has not committed yet counts as pending, and an entry is looked up again
 * before it is called missing. Each problem goes to o->problem. Appends one
 * audit line ("verify", "objects=N problems=N mode=full|fast").
 *
 * Returns 0 when the check ran to the end, whatever it found (see
 * rep->problems); SV_EINDEX (the index could not be read), SV_EERRNO (the
 * vault could not be listed), SV_ENOMEM, or an audit error: then rep holds
 * what was done so far. The message is in sv_intake_last_error().
 */
int sv_verify_run(sv_store *store, const sv_verify_options *o, sv_verify_report *rep);

/* ==== end of maintenance ================================================== */

/* ==== key rotation (rotate.c) =============================================
 *
 * A new master key for a data directory: every object's data key re-wrapped
 * under it, the index rebuilt under its subkeys, the audit log continued
 * under its audit key. Offline work: the service and ingest must be stopped
 * (the data directory's lock). Resumable: a crash or kill at any point is
 * finished by running it again, and until it has committed the old key file
 * is left as it was and nothing but rotate-key opens the data directory.
 * docs/key-rotation.md is the admin's page.
 */

typedef struct sv_rotate_options {
    const char *data_dir;          /* required */
    const char *key_file;          /* the key file to replace; NULL or "":
                                      <data_dir>/keys/scanvault.key. Refused when
                                      $CREDENTIALS_DIRECTORY is set (run it as the
                                      admin, naming the key file itself) */
    sv_maint_progress_fn progress; void *progress_ctx;   /* re-wrapping; may be NULL */
    sv_maint_problem_fn problem; void *problem_ctx;      /* from the reindex; may be NULL */
} sv_rotate_options;

typedef struct sv_rotate_report {
    bool resumed;                  /* an interrupted rotation was finished */
    bool was_committed;            /* ... it had committed already: only tidied up */
    char old_key_id[SV_KEY_ID_HEX_LEN + 1];
    char new_key_id[SV_KEY_ID_HEX_LEN + 1];
    uint64_t objects;              /* objects in the vault */
    uint64_t rewrapped;            /* re-wrapped by this run */
    uint64_t already_new;          /* found under the new key (an earlier run) */
    sv_reindex_report reindex;     /* the index rebuilt under the new key */
    double seconds;
    char warning[256];             /* committed, but the last audit line could not be
                                      written (why); "" normally */
} sv_rotate_report;

/*
 * Rotate the master key of o->data_dir (see above). Returns 0 when the new
 * key is in force and the old one is no longer needed; otherwise the old
 * key file is untouched and running it again resumes: SV_EEXIST (the
 * service or an ingest runs); SV_EINVAL ($CREDENTIALS_DIRECTORY, options);
 * SV_EKEY (a fresh start with a key that is not the index's: nothing
 * changed, no rotation pending); SV_EKEY / SV_EAUTH (an object under neither
 * key, or damaged: restore it from a backup first; the message names the
 * docid); SV_EAUTH (fewer objects moved than the index lists, or objects out
 * of place: nothing committed); the errors of key loading, sv_reindex_run()
 * and the audit log. The message is in sv_intake_last_error().
 */
int sv_rotate_key(const sv_rotate_options *o, sv_rotate_report *rep);

/* ==== end of key rotation ================================================= */

#endif
