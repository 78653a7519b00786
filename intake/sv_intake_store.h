/*
 * sv_intake_store.h - part of sv_intake.h, the intake module's one public
 * header; include that, never this file (it is split only to keep each file
 * readable in one sitting, docs/decisions.md). The store and what clerks and
 * admins do with it: find, get, list, stats, the audit log, release of
 * information, the review queue.
 */
#ifndef SV_INTAKE_H
#error "include sv_intake.h, not sv_intake_store.h"
#endif
#ifndef SV_INTAKE_STORE_H
#define SV_INTAKE_STORE_H

/* ==== the store: a data directory opened with its key (store.c) ==========
 *
 * The data directory (scanvault init) holds keys/, vault/, index/, spool/
 * and audit/. An sv_store is that directory opened with its key: the vault,
 * the index and the audit log. Every clerk-facing operation (find, get,
 * stats) is one call here, so the command line and, later, the service's
 * socket run the same code. Each retrieval and search is audited before any
 * document data leaves the call; when the audit line cannot be written the
 * call fails.
 */

typedef struct sv_store sv_store;

typedef struct sv_store_options {
    const char *data_dir;   /* the data directory (required) */
    const char *key_file;   /* NULL or "": $CREDENTIALS_DIRECTORY/scanvault.key
                               when set, else <data_dir>/keys/scanvault.key */
    bool read_only;         /* open the index read-only (find, get, stats) */
} sv_store_options;

/*
 * Open the data directory with its key. Marks the process non-dumpable (it
 * now holds keys; OCR workers are exec'd programs, so they may be started
 * before or after and never inherit the key). A read-write open
 * creates an empty index on first use; a read-only open of a directory that
 * has no index yet fails with SV_ENOTFOUND.
 * Returns 0; SV_ENOTFOUND (no data directory or layout: run scanvault init),
 * SV_EKEY / SV_EPERM / SV_EFORMAT / SV_EVERSION / SV_EERRNO (the key file),
 * SV_EKEY (the index belongs to another key), SV_EINDEX (a damaged index),
 * SV_ENOMEM. The message is in sv_intake_last_error(). *out NULL on failure.
 */
int sv_store_create(sv_store **out, const sv_store_options *opts);

/* Close everything and wipe the keys. NULL is fine. */
void sv_store_destroy(sv_store *store);

/*
 * A caller's view of an open store, for a service that acts for other
 * people (the socket server, sv_intake_api.h): every call on the view does
 * what it does on store, but each audit line it appends names uid and user
 * (sv_audit_append_as(): an identity the caller vouches for, e.g. from
 * SO_PEERCRED) instead of this process. A view borrows everything from store
 * and must not outlive it; views of one store may be used by several threads
 * at once, one view per thread. sv_store_destroy() frees a view alone.
 * Returns 0 or SV_ENOMEM. *out NULL on failure.
 */
int sv_store_create_view(sv_store **out, const sv_store *store, uint32_t uid, const char *user);

/* Audit lines appended through this handle since it was made: a server
 * tells by it whether a failed call was audited already. */
uint64_t sv_store_audit_count(const sv_store *store);

/* The open parts, for the pipeline and for offline tools. Never NULL on a
 * store that was created. */
sv_index *sv_store_index(sv_store *store);
sv_vault *sv_store_vault(sv_store *store);
sv_audit *sv_store_audit(sv_store *store);
const sv_keyring *sv_store_keyring(const sv_store *store);
const char *sv_store_data_dir(const sv_store *store);

/* One filed document of a patient, as sv_store_find() lists it. */
typedef struct sv_store_doc {
    char docid[SV_INDEX_DOCID_MAX + 1];
    char type[SV_INDEX_TYPE_MAX + 1];
    int64_t intake_time;     /* unix seconds */
    uint32_t pages;
    uint64_t size;           /* bytes of the original file */
} sv_store_doc;

/*
 * Every filed document of the patient with this MRN (spaces and dashes
 * allowed), newest first, narrowed by filter (NULL: all). The MRN must be
 * well-formed under rules (length, check digit; an MRN missing from a
 * known-MRN list is still searched). The search is audited ("find", with
 * the number of hits and the blind value, never the MRN) before the result
 * is returned.
 * @param[out] docs  an array of *n documents (malloc'd; free() it); NULL
 *                   when *n is 0 or on failure
 * @return 0; SV_EINVAL (MRN not well-formed: the message says how, without
 *   echoing it; bad filter); SV_EINDEX; SV_EAUTH... from the audit; SV_ENOMEM
 */
int sv_store_find(sv_store *store, const sv_ocr_rules *rules, const char *mrn,
                  const sv_index_filter *filter, sv_store_doc **docs, size_t *n);

/*
 * Write the original bytes of docid to out_fd, bit for bit. Every chunk and
 * the content hash are authenticated before the first byte is written (two
 * passes: authenticate, audit "get", then decrypt to out_fd), so a damaged
 * object writes nothing. A write error after the audit line is audited as
 * well.
 * @param[out] meta_out  the document's sealed metadata (NULL: not wanted);
 *                       wipe it with sv_vault_meta_wipe() (it holds the MRN)
 * @return 0; SV_EINVAL (bad docid); SV_ENOTFOUND (no such document);
 *   SV_EAUTH (the object was changed or belongs to another key; nothing
 *   written); SV_EERRNO (reading the object or writing out_fd); others from
 *   the vault and the audit log
 */
int sv_store_get(sv_store *store, const char *docid, int out_fd, sv_vault_meta *meta_out);

/*
 * sv_store_get(), with the bytes going to sink (sv_crypto.h: called with
 * each decrypted piece, in order; a non-zero return stops the write and is
 * reported as a write failure, audited "failed=write"). Everything is
 * authenticated and audited before sink sees the first byte. Same returns.
 */
int sv_store_get_to(sv_store *store, const char *docid, sv_vault_sink sink, void *sink_ctx,
                    sv_vault_meta *meta_out);

/* Receives one document of sv_store_list(); return 0 to go on, > 0 to stop,
 * < 0 to fail with that code. Runs inside an index read transaction: no
 * sv_store or sv_index call from here. */
typedef int (*sv_store_list_fn)(const char *docid, const sv_index_record *rec, void *ctx);

/*
 * Every document in the given state (0: every state), in docid order, with
 * its record (state, reason, type, pages, size, intake time; no MRN). For
 * the admin: quarantined documents are found this way, then retrieved with
 * sv_store_get(). Audited ("list", the state and the count). Returns 0, the
 * callback's code, SV_EINDEX, or the audit's error.
 */
int sv_store_list(sv_store *store, sv_index_state state, sv_store_list_fn fn, void *ctx);

/* Figures for `scanvault stats`. */
typedef struct sv_store_stats {
    sv_index_stats index;
    uint64_t index_bytes;     /* size of data.mdb on disk */
    uint64_t vault_objects;   /* files in vault/objects */
    uint64_t vault_bytes;     /* their total size */
    uint64_t spool_files;     /* documents claimed but not yet filed */
} sv_store_stats;

/* Fill st (zeroed first). Walks vault/objects: seconds at millions of
 * documents. Returns 0, SV_EINDEX or SV_EERRNO. */
int sv_store_get_stats(sv_store *store, sv_store_stats *st);

/* ---- the audit log: print it, verify it (store_audit.c) ------------------
 *
 * DIR/audit/audit.log (docs/audit-format.md), read with the store's key and
 * verified line by line from the first (sv_audit_read()): a line is passed
 * on only once it verified. Each call is itself audited with one line,
 * appended AFTER the log was read so that it never races the walk:
 *   audit_read    "lines=N shown=M ok", "... bad_line=K", "... stopped",
 *                 "... error"
 *   audit_verify  "lines=N ok", "lines=N bad_line=K", "lines=N
 *                 bad_anchor=SEQ", "lines=N bad_archive=NAME", "lines=N
 *                 error", each followed by " archives=A" when A > 0
 * Appending checks only the last line of the log: when the end is damaged
 * the append is refused, and the report says so (logged). A log cut back at
 * its end still verifies; only a kept anchor (seq, MAC) shows it.
 *
 * Key rotation archives the old log as DIR/audit/audit-<old key id>.log
 * (written under the old key, which is then destroyed) and starts a new
 * log whose first line is
 *   action SV_STORE_AUDIT_ACTION_ROTATE, docid "-", result exactly
 *   "archive=audit-<16 lowercase hex>.log lines=<N> sha256=<64 lowercase hex>"
 * so the new key pins the old log's bytes. sv_store_audit_verify() checks,
 * for every such verified line, that the archive exists in the same
 * directory with that SHA-256 and N lines, then follows the archive's own
 * first line when it is a rotation line too (read without a MAC check: its
 * key is gone, its bytes are pinned by the hash), at most
 * SV_STORE_AUDIT_ARCHIVES_MAX archives deep.
 */

#define SV_STORE_AUDIT_ACTION_ROTATE "audit_rotate"
#define SV_STORE_AUDIT_ARCHIVES_MAX 64
/* "audit-" 16 hex ".log" */
#define SV_STORE_AUDIT_ARCHIVE_NAME_MAX (6 + SV_KEY_ID_HEX_LEN + 4)

/* Which lines sv_store_audit_read() passes on; a zero or NULL field matches
 * every line. */
typedef struct sv_store_audit_filter {
    int64_t from;       /* lines at or after this time (unix seconds); 0: no bound */
    int64_t to;         /* lines at or before this time; 0: no bound */
    const char *docid;  /* lines about this docid (a valid docid, or "-" for
                           lines about none); NULL: any */
    const char *action; /* lines with this action (1..31 of [a-z_], a letter
                           first); NULL: any */
} sv_store_audit_filter;

/* What was wrong, first problem first. */
typedef enum sv_store_audit_verdict {
    SV_STORE_AUDIT_OK = 0,             /* every line verified, anchor and archives held */
    SV_STORE_AUDIT_BROKEN = 1,         /* the chain breaks at bad_line */
    SV_STORE_AUDIT_ANCHOR_MISSING = 2, /* no line anchor_seq: the log was cut back */
    SV_STORE_AUDIT_ANCHOR_DIFFERS = 3, /* line anchor_seq has another MAC: replaced */
    SV_STORE_AUDIT_ARCHIVE = 4,        /* a rotation archive is missing or changed */
    SV_STORE_AUDIT_ERROR = 5           /* the log could not be read (I/O, memory) */
} sv_store_audit_verdict;

/* The outcome of one read or verify. Cleared on entry. */
typedef struct sv_store_audit_report {
    sv_store_audit_verdict verdict;
    uint64_t lines;                       /* lines verified */
    uint64_t shown;                       /* read: lines passed to fn */
    uint64_t bad_line;                    /* the first line that failed; 0: none */
    int64_t first_time, last_time;        /* of line 1 and the last verified line */
    uint64_t anchor_seq;                  /* the last verified line (0: none) ... */
    uint8_t anchor_mac[SV_AUDIT_MAC_LEN]; /* ... and its MAC: keep it elsewhere */
    uint64_t repairs;                     /* SV_AUDIT_ACTION_REPAIR lines verified */
    uint64_t rotations;                   /* rotation lines verified */
    uint64_t archives;                    /* verify: archives found intact */
    uint64_t archive_lines;               /* lines in them */
    uint64_t bad_archive_line;            /* ARCHIVE: the rotation line of the log
                                             whose archive chain failed */
    char bad_archive[SV_STORE_AUDIT_ARCHIVE_NAME_MAX + 1]; /* ARCHIVE: the file that
                                             failed; "" when the line was malformed */
    int logged;                           /* 0: this call's own line was appended;
                                             else the append's SV_E* code */
} sv_store_audit_report;

/*
 * Verify the store's audit log and pass each verified line that matches
 * filter (NULL: every line) to fn, in order; fn returns 0 to go on, > 0 to
 * stop, < 0 to fail with that code. Lines appended after the call started
 * are not read. Then append the "audit_read" line.
 * @return 0 (read to the end or stopped by fn, and logged); SV_EINVAL (bad
 *   filter: nothing read or logged); SV_EAUTH: the chain breaks at
 *   rep->bad_line (the lines before it were passed on), or the log's end is
 *   damaged so the audit_read line was refused (rep->logged); SV_EFORMAT (the
 *   log is not a regular file); SV_ENOMEM; SV_EERRNO; fn's code; a failed
 *   append's code. Message in sv_intake_last_error().
 */
int sv_store_audit_read(sv_store *store, const sv_store_audit_filter *filter,
                        sv_audit_entry_fn fn, void *ctx, sv_store_audit_report *rep);

/* What sv_store_audit_verify() checks besides the chain. NULL: nothing. */
typedef struct sv_store_audit_verify_options {
    uint64_t anchor_seq;                  /* a kept anchor: line seq must exist ... */
    uint8_t anchor_mac[SV_AUDIT_MAC_LEN]; /* ... with this MAC; seq 0: no anchor */
    sv_audit_entry_fn notable;            /* NULL, or given each verified repair
                                             and rotation line: return 0, or a
                                             negative SV_E* code to stop with it */
    void *ctx;                            /* passed to notable */
} sv_store_audit_verify_options;

/*
 * Verify the whole audit log of the store, the anchor of opts and the
 * rotation archives (above); fill rep; then append the "audit_verify" line.
 * @return 0 (rep->verdict SV_STORE_AUDIT_OK and logged); SV_EAUTH when
 *   rep->verdict is BROKEN, ANCHOR_MISSING, ANCHOR_DIFFERS or ARCHIVE (the
 *   message says which line or file, and what it means), or when the
 *   audit_verify line was refused (the end of the log is damaged; verdict
 *   may still be OK: rep->logged); SV_EFORMAT, SV_ENOMEM, SV_EERRNO (verdict
 *   ERROR); notable's negative code; a failed append's code. Message in
 *   sv_intake_last_error().
 */
int sv_store_audit_verify(sv_store *store, const sv_store_audit_verify_options *opts,
                          sv_store_audit_report *rep);

/* ---- release of information (store_export.c) ----
 * docs/release-of-information.md describes what an export writes. */

/* Most documents one export writes; a patient with more is exported in parts
 * (by type or date). */
#define SV_STORE_EXPORT_MAX 100000u

/* The two passes of sv_store_export(), for progress reports. */
typedef enum sv_store_export_phase {
    SV_STORE_EXPORT_CHECKING = 1, /* authenticating every object; nothing written */
    SV_STORE_EXPORT_WRITING = 2   /* decrypting into the temp directory */
} sv_store_export_phase;

/* Called before each document of a pass (done = documents finished) and once
 * at its end (done == total). Return 0 to go on; anything else stops the
 * export (a clerk's Ctrl-C): it removes what it wrote and returns SV_EERRNO
 * with errno EINTR. No sv_store call from here. */
typedef int (*sv_store_export_progress_fn)(sv_store_export_phase phase, size_t done,
                                           size_t total, void *ctx);

typedef struct sv_store_export_options {
    const sv_index_filter *filter;        /* NULL: every filed document */
    sv_store_export_progress_fn progress; /* NULL: no reports */
    void *progress_ctx;
} sv_store_export_options;

/* What an export wrote. */
typedef struct sv_store_export_summary {
    size_t docs;    /* documents written */
    uint64_t bytes; /* their original bytes in total (manifests not counted) */
} sv_store_export_summary;

/*
 * Release of information: every filed document of the patient with this MRN
 * (spaces and dashes allowed; well-formed under rules, as sv_store_find()),
 * narrowed by opts->filter (opts may be NULL), decrypted into the new
 * directory out_dir as <docid>.<pdf|png|jpg|tif|bin>, with manifest.json and
 * manifest.tsv (docid, file, type, date, pages, size, SHA-256; never the MRN).
 *
 * out_dir must not exist and its parent must. Everything is written into a
 * temp directory beside it (".scanvault-export-XXXXXX", mode 0700, files
 * 0600), each file read back and hashed against its sealed SHA-256, fsync'ed,
 * then renamed to out_dir, never over an existing directory: out_dir appears
 * complete or not at all, and a failure leaves nothing behind.
 *
 * Audit: every object is authenticated in full and its sealed record checked
 * to be this patient's before anything is written; then ONE line, action
 * "export", no docid, "docs=N bytes=B blind=HEX" (never the MRN or a path),
 * before the first decrypted byte. A failure after it adds
 * "failed=write|damaged|interrupted docs_written=K"; a damaged object adds
 * "refused=damaged blind=HEX" under its docid. A refused request (bad MRN,
 * out_dir exists) is not audited: nothing was read.
 *
 * @param[out] summary  cleared on entry; set on success
 * @return 0; SV_EINVAL (MRN not well-formed, bad filter, out_dir's parent
 *   missing or not a directory); SV_EEXIST (out_dir exists, or appeared
 *   meanwhile); SV_ENOTFOUND (no filed document matches: audited with docs=0,
 *   no directory made); SV_ELIMIT (more than SV_STORE_EXPORT_MAX documents;
 *   path too long); SV_EAUTH, SV_ETRUNC, SV_EFORMAT, SV_EKEY, SV_EVERSION (an
 *   object is damaged or under another key: the message names the docid);
 *   SV_EINDEX (the index failed, or lists a document its sealed record does
 *   not file under this patient); SV_EERRNO (I/O; errno EINTR when stopped by
 *   progress); SV_ENOMEM; the audit log's errors (nothing written). The
 *   message is in sv_intake_last_error().
 *
 * Caveats: out_dir holds decrypted PHI; deleting it is the caller's
 * responsibility. A crash (kill -9, power loss) while writing leaves the temp
 * directory, with decrypted documents, beside out_dir: delete it.
 */
int sv_store_export(sv_store *store, const sv_ocr_rules *rules, const char *mrn,
                    const char *out_dir, const sv_store_export_options *opts,
                    sv_store_export_summary *summary);

/* One document of an export, as its writer needs it: never the MRN or the
 * scanner's file name. */
typedef struct sv_store_export_doc {
    char docid[SV_DOCID_MAX + 1];
    char type[SV_META_CODE_MAX + 1];
    char ext[4];                   /* pdf, png, jpg, tif or bin: from the bytes */
    int64_t intake_time;
    uint32_t pages;
    uint64_t size;
    uint8_t sha256[SV_SHA256_LEN]; /* sealed: what was written must hash to it */
} sv_store_export_doc;

/* Where sv_store_export_to() hands the documents. Each function returns 0,
 * or a negative SV_E* code (message set) that stops the export. */
typedef struct sv_store_export_sink {
    /* After every check, before the audit line: n_docs documents, bytes in
     * all. Failing here refuses the export unaudited. May be NULL. */
    int (*ready)(size_t n_docs, uint64_t bytes, void *ctx);
    int (*begin)(const sv_store_export_doc *doc, void *ctx); /* a document starts */
    sv_vault_sink write;                                     /* ... its bytes ... */
    int (*end)(const sv_store_export_doc *doc, void *ctx);   /* ... it is whole */
    int (*finish)(void *ctx); /* after the last document; may be NULL */
    void *ctx;
} sv_store_export_sink;

/*
 * sv_store_export() with the documents going to sink instead of a
 * directory: the same checks (the MRN, every object authenticated and its
 * sealed record this patient's), then sink->ready, the same "export" audit
 * line, then each document in turn, then sink->finish. A failure after the
 * audit line is audited as for sv_store_export ("failed=write|damaged|
 * interrupted docs_written=K"); undoing what the sink wrote is the sink's
 * owner's business. Returns as sv_store_export(), or the sink's code.
 */
int sv_store_export_to(sv_store *store, const sv_ocr_rules *rules, const char *mrn,
                       const sv_store_export_options *opts, const sv_store_export_sink *sink,
                       sv_store_export_summary *summary);

/* ==== end of the store ==================================================== */

/* ==== the review queue (store_review.c) ===================================
 *
 * Documents held for a person (state review) wait in the queue, oldest
 * first. A reviewer looks at one (the original bytes and the MRN candidates
 * OCR saw) and decides: assign it to a patient, or reject it (it is not to
 * be filed under anyone: it joins the quarantine with reason "rejected" and
 * the reviewer's note, sealed). A filed document found under the wrong
 * patient is moved with reassign. Each decision is audited (with the OS
 * user, the docid and blind values, never the MRN) before it is made, then
 * written to the vault object's sealed metadata and to the index. Decisions
 * are serialised per data directory; the service may run meanwhile.
 */

/* One document waiting for review. */
typedef struct sv_store_review_item {
    char docid[SV_INDEX_DOCID_MAX + 1];
    char reason[SV_INDEX_REASON_MAX + 1]; /* code; sv_store_reason_words() */
    char type[SV_INDEX_TYPE_MAX + 1];     /* the type guess ("" if unknown) */
    uint32_t pages;
    uint64_t size;
    int64_t intake_time;
    int64_t since;                        /* waiting since (unix seconds) */
} sv_store_review_item;

/* A reason code in words for people ("no labelled MRN found"); the code
 * itself when unknown. Never NULL. */
const char *sv_store_reason_words(const char *code);

/*
 * The review queue, oldest first. Audited ("review_list", the count).
 * @param[out] items  an array of *n items (malloc'd; free() it); NULL when
 *                    the queue is empty or on failure
 * @return 0; SV_EINDEX; SV_ENOMEM; the audit's error (nothing returned)
 */
int sv_store_review_list(sv_store *store, sv_store_review_item **items, size_t *n);

/*
 * Look at a held document (review or quarantined): with out_fd >= 0 its
 * original bytes are authenticated, audited ("get") and written to out_fd,
 * as sv_store_get(); with out_fd < 0 only its sealed metadata is read and
 * the look is audited ("review_show"). meta_out receives the metadata: the
 * OCR summary lists the MRN candidates (one "candidate=..." line each). It
 * holds PHI: show it to the reviewer only, then sv_vault_meta_wipe() it.
 * @return 0; SV_EINVAL (bad docid, or the document is filed); SV_ENOTFOUND;
 *   the errors of sv_store_get() and of the audit
 */
int sv_store_review_show(sv_store *store, const char *docid, int out_fd, sv_vault_meta *meta_out);

/* sv_store_review_show() with the original bytes going to sink, as
 * sv_store_get_to(); sink NULL: the metadata only. Same returns. */
int sv_store_review_show_to(sv_store *store, const char *docid, sv_vault_sink sink,
                            void *sink_ctx, sv_vault_meta *meta_out);

/*
 * File a held document under the MRN a person typed, twice: mrn and
 * confirm must both pass the rules (format, check digit, and the known-MRN
 * list when one is configured) and be the same digits. type, when not NULL
 * or "", corrects the type guess. Audited ("review_assign": blind value,
 * type, former reason).
 * @return 0; SV_EINVAL (MRN refused, confirmation differs, bad type, not in
 *   review: nothing changed; the message says which without echoing the
 *   MRN); SV_ENOTFOUND; SV_EAUTH/SV_EKEY (the object); SV_EINDEX/SV_EFULL;
 *   the audit's error (nothing changed)
 */
int sv_store_review_assign(sv_store *store, const sv_ocr_rules *rules, const char *docid,
                           const char *mrn, const char *confirm, const char *type);

/*
 * Reject a held document: it is not filed under any patient. Its state
 * becomes quarantined with reason "rejected", and note (1..511 bytes, no
 * control characters; it may name the patient, so it is only sealed, never
 * audited) is kept in its sealed metadata. Audited ("review_reject").
 * @return as sv_store_review_assign()
 */
int sv_store_review_reject(sv_store *store, const char *docid, const char *note);

/*
 * Move a filed document to another patient (a misfile corrected), the new
 * MRN typed twice as for assign. One index transaction moves it from the
 * old blind value to the new; the audit line ("review_reassign") keeps both
 * blind values, so the old filing stays in the trail.
 * @return as sv_store_review_assign(); SV_EEXIST when it is already filed
 *   under that MRN (nothing changed)
 */
int sv_store_review_reassign(sv_store *store, const sv_ocr_rules *rules, const char *docid,
                             const char *new_mrn, const char *confirm);

/* ==== end of the review queue ============================================= */

#endif
