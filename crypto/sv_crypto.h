/*
 * sv_crypto.h - keys, the vault object format and the blind index of
 * scanvault. The manual for every caller; the byte formats are specified in
 * docs/vault-format.md and the key handling in docs/keys.md.
 *
 * Pieces:
 *   sv_crypto_global_init  once per process, before anything else here.
 *   sv_keyring             the master key and the subkeys derived from it
 *                          (wrap, blind index, content hash, metadata, audit),
 *                          all in libgcrypt secure memory.
 *   docids                 the random document ids that name vault objects.
 *   MACs                   blind MRN, content id, audit chain MAC, sealed
 *                          records (for the index).
 *   sv_vault_meta          what a vault object carries, sealed, so the index
 *                          can be rebuilt from the objects alone.
 *   sv_vault               a vault directory (objects/, tmp/): seal an fd into
 *                          an object, open one to a sink, read only its
 *                          metadata, rewrap it under a new key, update its
 *                          metadata; list every file under objects/.
 *   sv_audit               the hash-chained audit log: append a line under a
 *                          file lock, verify and walk the whole chain, read
 *                          the last line as an anchor (docs/audit-format.md).
 *
 * Errors: every function that can fail returns 0 or a negative SV_E* code
 * (sv_err.h). sv_crypto_last_error() then gives a one-line message for the
 * calling thread: what failed, on which docid or path, what to do next. It
 * never holds a key, an MRN, a file name from the scanner or any plaintext.
 *
 * Caveats:
 *   - Call sv_crypto_global_init() from main before threads start. It also
 *     makes the process non-dumpable (no core dumps, no ptrace by other
 *     processes of the same user), because this process now holds keys;
 *     its /proc/<pid> files then belong to root (the process itself can
 *     still read its own /proc/self/fd and status). exec() undoes it, so
 *     workers started by fork + exec are ordinary processes without keys.
 *   - A failed sv_vault_open() may already have passed some authenticated
 *     chunks to the sink; it never passes a byte that was not authenticated.
 *     A consumer that needs all or nothing must hold the output aside (a temp
 *     file) until sv_vault_open() returns 0.
 *   - Sealing does not hash the input (that would halve its speed): the
 *     caller hashes it first (sv_crypto_sha256_fd(), which intake needs
 *     anyway to detect duplicates) and passes the hash in the metadata. The
 *     size is checked while sealing; the hash when opening with
 *     SV_VAULT_CHECK_CONTENT.
 *   - Header rewrites of one object (sv_vault_rewrap(), sv_vault_update_meta())
 *     must be serialised by the caller; the last rename wins.
 *   - sv_vault_clean_tmp() removes every temp file: run it only at start-up,
 *     when no other process writes to the vault.
 */
#ifndef SV_CRYPTO_H
#define SV_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sv_err.h"

/* ============================== sizes ================================== */

#define SV_KEY_LEN 32           /* master key and every subkey, bytes */
#define SV_KEY_ID_LEN 8         /* key id, bytes */
#define SV_KEY_ID_HEX_LEN 16    /* key id as lowercase hex, characters */
#define SV_KEY_FILE_LEN 48      /* the key file, bytes (docs/keys.md) */
#define SV_KEY_FILE_NAME "scanvault.key" /* name under $CREDENTIALS_DIRECTORY */
#define SV_BLIND_LEN 16         /* blind MRN, bytes */
#define SV_CONTENT_ID_LEN 32    /* content id, bytes */
#define SV_SHA256_LEN 32
#define SV_AUDIT_MAC_LEN 32

/* docid: [prefix "-"] 26 characters of lowercase base32 (RFC 4648 alphabet
 * a-z2-7) holding 128 random bits, so the first of them is one of a-h. The
 * optional site prefix is 1..8 of [a-z0-9]. */
#define SV_DOCID_RANDOM_LEN 26
#define SV_DOCID_PREFIX_MAX 8
#define SV_DOCID_MAX (SV_DOCID_PREFIX_MAX + 1 + SV_DOCID_RANDOM_LEN)

/* Sealed metadata limits (characters, without the terminating NUL). */
#define SV_META_MRN_MAX 20      /* digits */
#define SV_META_CODE_MAX 31     /* type name, reason code: [a-z_], letter first */
#define SV_META_NAME_MAX 1023   /* original file name, bytes */
#define SV_META_SUMMARY_MAX 4095 /* OCR summary, bytes */
#define SV_META_NOTE_MAX 511    /* a reviewer's note, bytes */
#define SV_META_RECORD_MAX 8192 /* an encoded metadata record, bytes */

/* Body chunk size: a power of two in [SV_VAULT_CHUNK_MIN, SV_VAULT_CHUNK_MAX]. */
#define SV_VAULT_CHUNK_DEFAULT 65536u
#define SV_VAULT_CHUNK_MIN 64u
#define SV_VAULT_CHUNK_MAX (16u << 20)

/* Sealed record (sv_crypto_seal_record): bytes added to the plaintext. */
#define SV_RECORD_OVERHEAD (1 + 12 + 16)

/* ========================= process set-up ============================== */

/*
 * Initialise libgcrypt for this process: version check, 1 MiB of locked
 * secure memory, initialisation finished, and no core dumps
 * (PR_SET_DUMPABLE 0, RLIMIT_CORE 0). Safe to call more than once and from
 * several threads. Returns 0; SV_EVERSION when libgcrypt is too old;
 * SV_EERRNO when core dumps cannot be turned off.
 */
int sv_crypto_global_init(void);

/* The message of the last failure of an sv_crypto/sv_vault/sv_keyring/
 * sv_docid/sv_audit function in this thread; "" when none. Never NULL. */
const char *sv_crypto_last_error(void);

/* ============================== key ring =============================== */

typedef struct sv_keyring sv_keyring;

/* A new master key from libgcrypt's strongest random source
 * (GCRY_VERY_STRONG_RANDOM). Returns 0 or SV_ENOMEM; *out NULL on failure.
 * Free with sv_keyring_destroy(). */
int sv_keyring_generate(sv_keyring **out);

/* A key ring from a known master key (tests, fuzzing, disaster recovery from
 * a printed key). The caller wipes its copy. Returns 0 or SV_ENOMEM. */
int sv_keyring_from_bytes(sv_keyring **out, const uint8_t key[SV_KEY_LEN]);

/*
 * Load a key file. Refused: not a regular file or group/world permissions
 * (mode & 077) -> SV_EPERM; wrong size, bad magic -> SV_EFORMAT; unknown
 * version -> SV_EVERSION; key id that does not match the key (a damaged
 * file) -> SV_EKEY; missing or unreadable -> SV_EERRNO. *out NULL on failure.
 */
int sv_keyring_load(sv_keyring **out, const char *path);

/*
 * Load the service key: $CREDENTIALS_DIRECTORY/scanvault.key when that
 * variable is set and not empty (systemd LoadCredential=), otherwise
 * configured_path. Same returns as sv_keyring_load(); SV_EINVAL when neither
 * is given.
 */
int sv_keyring_load_default(sv_keyring **out, const char *configured_path);

/*
 * Write the key ring's master key to a new key file, mode 0600: temp file in
 * the same directory, fsync, link to path (never over an existing file),
 * fsync the directory. Returns 0; SV_EEXIST when path exists (a key is never
 * overwritten); SV_EERRNO otherwise.
 */
int sv_keyring_save(const sv_keyring *ring, const char *path);

/* Wipe and free. NULL is fine. */
void sv_keyring_destroy(sv_keyring *ring);

/* The key id (not secret: it is written in every vault object header). */
void sv_keyring_id(const sv_keyring *ring, uint8_t out[SV_KEY_ID_LEN]);
/* The key id as 16 lowercase hex characters and a NUL. */
void sv_keyring_id_hex(const sv_keyring *ring, char out[SV_KEY_ID_HEX_LEN + 1]);

/* ================================ docids =============================== */

/* A new random docid (128 bits from GCRY_STRONG_RANDOM; never derived from
 * content or an MRN), with site_prefix (NULL or "" for none) in front.
 * Returns 0; SV_EINVAL for a bad prefix. */
int sv_docid_generate(const char *site_prefix, char out[SV_DOCID_MAX + 1]);

/* Is this a well-formed docid (the format above, nothing else)? */
bool sv_docid_is_valid(const char *docid);

/* ================================= MACs ================================ */

/*
 * Blind MRN: HMAC-SHA256(blind-index key, normalised MRN), first 16 bytes.
 * Normalised: spaces and dashes removed; what is left must be 1..20 digits
 * (leading zeros are kept: "0042" and "42" are different MRNs).
 * Returns 0; SV_EINVAL for anything else (out is then zeroed).
 */
int sv_crypto_blind_mrn(const sv_keyring *ring, const char *mrn, uint8_t out[SV_BLIND_LEN]);

/* Content id: HMAC-SHA256(content-hash key, SHA-256 of the original bytes).
 * Returns 0 or SV_ENOMEM. */
int sv_crypto_content_id(const sv_keyring *ring, const uint8_t sha256[SV_SHA256_LEN],
                         uint8_t out[SV_CONTENT_ID_LEN]);

/* SHA-256 and size of everything readable from fd, from its current offset
 * to end of file (the offset is left at the end; lseek back before sealing).
 * The hash goes into the sealed metadata; sv_crypto_content_id() turns it
 * into the content id for the index. Returns 0; SV_EERRNO on a read error. */
int sv_crypto_sha256_fd(int fd, uint8_t sha256[SV_SHA256_LEN], uint64_t *size_out);

/* Audit chain MAC: HMAC-SHA256(audit key, data). Returns 0 or SV_ENOMEM. */
int sv_crypto_audit_mac(const sv_keyring *ring, const uint8_t *data, size_t len,
                        uint8_t out[SV_AUDIT_MAC_LEN]);

/*
 * Seal a small record (an index value) under the metadata key: AES-256-GCM
 * with a random 96-bit nonce, aad authenticated but not stored. out receives
 * len + SV_RECORD_OVERHEAD bytes (version byte, nonce, ciphertext, tag).
 * Returns 0; SV_ELIMIT when out_cap is too small. The nonce is random: seal
 * at most 2^32 records under one key (rotate keys long before).
 */
int sv_crypto_seal_record(const sv_keyring *ring, const uint8_t *aad, size_t aad_len,
                          const uint8_t *plain, size_t len, uint8_t *out, size_t out_cap,
                          size_t *out_len);

/* Open a sealed record. Returns 0; SV_EAUTH when it was changed, sealed with
 * other aad or another key; SV_EVERSION for an unknown version byte;
 * SV_EFORMAT/SV_ELIMIT for bad lengths. Nothing is written on failure. */
int sv_crypto_open_record(const sv_keyring *ring, const uint8_t *aad, size_t aad_len,
                          const uint8_t *sealed, size_t len, uint8_t *out, size_t out_cap,
                          size_t *out_len);

/* ============================ sealed metadata ========================== */

typedef enum sv_vault_state {
    SV_VAULT_FILED = 1,      /* filed under mrn */
    SV_VAULT_REVIEW = 2,     /* waits for a person; reason says why */
    SV_VAULT_QUARANTINED = 3 /* unreadable or hostile input; reason says why */
} sv_vault_state;

/*
 * Everything needed to rebuild the index entry of one document. Fixed size,
 * no pointers. Holds PHI (mrn, original_name, ocr_summary, review_note):
 * wipe it with sv_vault_meta_wipe() when done, never log it.
 *
 * Rules (sv_vault_meta_check()):
 *   docid          a valid docid;
 *   state          one of sv_vault_state;
 *   mrn            FILED: 1..20 digits; otherwise "";
 *   reason         FILED: ""; otherwise 1..31 of [a-z_], a letter first;
 *   type           1..31 of [a-z_], a letter first;
 *   original_name  0..1023 bytes (any but NUL);
 *   ocr_summary    0..4095 bytes (any but NUL);
 *   review_note    0..511 bytes (any but NUL): what a person wrote when
 *                  deciding (review reject); PHI like the rest;
 *   intake_time, pages, size, sha256: any value.
 *
 * The metadata holds the plain SHA-256 of the original bytes, not the
 * content id: the content id depends on the key, and after a key rotation
 * `reindex` must compute the new one without decrypting every body.
 */
typedef struct sv_vault_meta {
    char docid[SV_DOCID_MAX + 1];
    sv_vault_state state;
    char mrn[SV_META_MRN_MAX + 1];
    char reason[SV_META_CODE_MAX + 1];
    char type[SV_META_CODE_MAX + 1];
    char original_name[SV_META_NAME_MAX + 1];
    int64_t intake_time;    /* unix seconds */
    uint32_t pages;
    uint64_t size;          /* original bytes */
    uint8_t sha256[SV_SHA256_LEN]; /* of the original bytes */
    char ocr_summary[SV_META_SUMMARY_MAX + 1];
    char review_note[SV_META_NOTE_MAX + 1];
} sv_vault_meta;

/* "filed", "review", "quarantined", or "?" for anything else. */
const char *sv_vault_state_name(sv_vault_state state);

/* Check the rules above. Returns 0 or SV_EINVAL (message names the field,
 * never its value). */
int sv_vault_meta_check(const sv_vault_meta *meta);

/* Encode as a metadata record (typed, length-prefixed fields, version first,
 * end marker last; docs/vault-format.md). Returns 0; SV_EINVAL (rules);
 * SV_ELIMIT when cap is too small (SV_META_RECORD_MAX always suffices). */
int sv_vault_meta_encode(const sv_vault_meta *meta, uint8_t *buf, size_t cap, size_t *len_out);

/* Decode a metadata record with explicit bounds. Returns 0; SV_EVERSION for
 * an unknown record version; SV_EFORMAT for anything malformed (truncated
 * field, duplicate or missing field, unknown critical field, trailing bytes,
 * a value that breaks the rules). *out is zeroed on failure. */
int sv_vault_meta_decode(const uint8_t *buf, size_t len, sv_vault_meta *out);

/* Overwrite the whole structure with zeros (not optimised away). */
void sv_vault_meta_wipe(sv_vault_meta *meta);

/* ============================ vault objects ============================ */

typedef struct sv_vault sv_vault;

/* Receives authenticated plaintext, in order. Return 0 to go on, a negative
 * SV_E* code to stop (sv_vault_open then returns that code). */
typedef int (*sv_vault_sink)(void *ctx, const uint8_t *buf, size_t len);

/* A sink that writes everything to the file descriptor *(int *)ctx
 * (retrying short writes and EINTR). Returns 0 or SV_EERRNO. */
int sv_vault_sink_fd(void *ctx, const uint8_t *buf, size_t len);

/* Supplies a stream's input: *data points at the next bytes (valid until
 * the next call), *got of them, at most want; fewer than want only at the
 * end of the input. Return 0, or a negative SV_E* code to stop (the stream
 * function then returns that code). */
typedef int (*sv_vault_source)(void *ctx, size_t want, const uint8_t **data, size_t *got);

/* A source over bytes in memory, handed over without a copy: ctx is an
 * sv_vault_memory, whose pos advances. Returns 0 or SV_EINVAL. */
typedef struct sv_vault_memory {
    const uint8_t *data;
    size_t len;
    size_t pos;
} sv_vault_memory;
int sv_vault_source_memory(void *ctx, size_t want, const uint8_t **data, size_t *got);

/* Options for sealing; a NULL pointer means all defaults. */
typedef struct sv_vault_seal_opts {
    uint32_t chunk_size; /* 0: SV_VAULT_CHUNK_DEFAULT */
    bool replace;        /* replace an existing object of this docid */
} sv_vault_seal_opts;

/* sv_vault_open() flags. */
#define SV_VAULT_CHECK_CONTENT 1u /* also hash the body and compare it with the
                                     sealed SHA-256 (SV_EAUTH at the end) */

/*
 * Create the vault directory layout under vault_dir (vault_dir itself,
 * objects/, tmp/; mode 0700; parents must exist), each creation made durable
 * (fsync of the parent). Existing directories are kept as they are.
 * Returns 0 or SV_EERRNO.
 */
int sv_vault_init_dir(const char *vault_dir);

/* Open a vault directory (must hold objects/ and tmp/ on one filesystem).
 * Returns 0; SV_ENOTFOUND when the layout is missing; SV_EERRNO; SV_ENOMEM. */
int sv_vault_create(sv_vault **out, const char *vault_dir);

/* Close the directory handles and free. NULL is fine. */
void sv_vault_destroy(sv_vault *vault);

/* The path of docid's object: <vault_dir>/objects/<2 chars>/<docid>.svd.
 * Returns 0; SV_EINVAL for a bad docid; SV_ELIMIT when len is too small. */
int sv_vault_object_path(const sv_vault *vault, const char *docid, char *buf, size_t len);

/*
 * Seal everything readable from in_fd (current offset to end of file; a
 * pipe is fine) into the object of meta->docid: temp file in tmp/, chunks
 * streamed in constant memory, fsync, rename into objects/xx/, fsync of the
 * directory. A crash leaves no object or the whole object, never a part.
 * Returns 0; SV_EINVAL (meta breaks the rules, bad options, or the input did
 * not hold meta->size bytes: the file changed); SV_EEXIST (object exists and
 * opts->replace is false); SV_EERRNO (I/O). No temp file is left on failure.
 */
int sv_vault_seal_fd(sv_vault *vault, const sv_keyring *ring, int in_fd,
                     const sv_vault_meta *meta, const sv_vault_seal_opts *opts);

/*
 * Open docid's object: authenticate the header, then pass the body to sink
 * one chunk at a time, each only after its tag was verified (sink NULL: the
 * whole body is authenticated and discarded, as a verify does). meta_out
 * (may be NULL) receives the sealed metadata, only on success. flags: 0 or
 * SV_VAULT_CHECK_CONTENT. Memory use is two chunks (one read, one
 * decrypted), whatever the size.
 * Returns 0; SV_ENOTFOUND (no object); SV_EKEY (sealed under another key
 * id); SV_EAUTH (tampered, swapped, renamed or wrong key); SV_ETRUNC
 * (truncated); SV_EFORMAT (not a vault object); SV_EVERSION; SV_EERRNO; or
 * the sink's code. The message names the docid.
 */
int sv_vault_open(sv_vault *vault, const sv_keyring *ring, const char *docid,
                  sv_vault_sink sink, void *ctx, sv_vault_meta *meta_out, unsigned flags);

/* Authenticate only the header and return the sealed metadata; the body is
 * not read (reindex, verify --fast). Same returns as sv_vault_open(). */
int sv_vault_read_meta(sv_vault *vault, const sv_keyring *ring, const char *docid,
                       sv_vault_meta *out);

/*
 * Key rotation: re-wrap docid's data key from old_ring to new_ring. Only the
 * header is rewritten (the body is copied as it is) into a temp file, fsync,
 * rename over the object, fsync of the directory: the object opens under the
 * old key or the new one, never neither. Returns as sv_vault_open() for the
 * old object; SV_EERRNO for I/O.
 */
int sv_vault_rewrap(sv_vault *vault, const sv_keyring *old_ring, const sv_keyring *new_ring,
                    const char *docid);

/*
 * Replace the sealed metadata of meta->docid's object (a review decision),
 * rewriting only the header, atomically like sv_vault_rewrap(). Returns as
 * sv_vault_open(); SV_EINVAL when meta breaks the rules or its size or
 * sha256 differ from the object's (they describe the body, which does not
 * change).
 */
int sv_vault_update_meta(sv_vault *vault, const sv_keyring *ring, const sv_vault_meta *meta);

/* Remove every temp file left in tmp/ by a crash. Start-up only (see the
 * caveats). *removed (may be NULL) gets the count. Returns 0 or SV_EERRNO. */
int sv_vault_clean_tmp(sv_vault *vault, size_t *removed);

/* One file found under objects/ by sv_vault_each_object(). */
typedef struct sv_vault_entry {
    const char *docid;  /* the docid its name gives ("<docid>.svd"), also for
                           a stray in the wrong place; NULL for any other name */
    bool is_stray;      /* not a regular file named <docid>.svd in the fan-out
                           directory sv_vault_object_path() gives for it */
    uint64_t inode;     /* its inode number: how a message names a stray
                           (find <vault>/objects -inum N) */
    const char *path;   /* its path under objects/. A stray's name may be
                           anything, a patient's name too: never log it */
} sv_vault_entry;

/* Receives each entry of sv_vault_each_object(); the strings are valid
 * during the call only. Return 0 to go on, > 0 to stop (the walk returns 0),
 * or a negative SV_E* code to stop with that code. */
typedef int (*sv_vault_entry_fn)(const sv_vault_entry *entry, void *ctx);

/*
 * Every file under objects/ (reindex, verify): the objects, and every other
 * file, link or directory found there as a stray (is_stray), never skipped.
 * Directories directly in objects/ are listed (any name); a directory inside
 * one is itself a stray and not entered. Order: by name, fan-out directory
 * first, so without a site prefix the objects come in docid order. An object
 * written during the walk may or may not be seen. Memory: the names of one
 * directory. Returns 0; SV_EERRNO (a directory cannot be listed); SV_ENOMEM;
 * SV_ELIMIT (a directory holds more than 64 Mi names); or the callback's
 * code. Messages never name a directory other than a fan-out one.
 */
int sv_vault_each_object(sv_vault *vault, sv_vault_entry_fn fn, void *ctx);

/* The same as sv_vault_open()/sv_vault_read_meta() on an open object file
 * (read from its current offset). expected_docid may be NULL: then any docid
 * is accepted and the header's is used in messages. */
int sv_vault_open_fd(const sv_keyring *ring, int fd, const char *expected_docid,
                     sv_vault_sink sink, void *ctx, sv_vault_meta *meta_out, unsigned flags);
int sv_vault_read_meta_fd(const sv_keyring *ring, int fd, const char *expected_docid,
                          sv_vault_meta *out);

/*
 * The object format as a stream, with no vault directory and no file:
 * sv_vault_seal_stream() seals the body that source supplies (exactly
 * meta->size bytes) into an object's bytes, passed to sink in order (the
 * header, then one record per chunk); sv_vault_open_stream() opens an
 * object's bytes from source. sv_vault_seal_fd() and sv_vault_open_fd() are
 * these with a file on each side: same format, same code, same checks and
 * returns (a source's or sink's own code is passed on). chunk_size 0 means
 * SV_VAULT_CHUNK_DEFAULT. Memory use is one chunk, whatever the size (with
 * a file descriptor as the source, two: the read buffer too); a
 * full chunk is encrypted or decrypted straight from the source's bytes.
 */
int sv_vault_seal_stream(const sv_keyring *ring, const sv_vault_meta *meta, uint32_t chunk_size,
                         sv_vault_source source, void *source_ctx, sv_vault_sink sink,
                         void *sink_ctx);
int sv_vault_open_stream(const sv_keyring *ring, const char *expected_docid,
                         sv_vault_source source, void *source_ctx, sv_vault_sink sink,
                         void *sink_ctx, sv_vault_meta *meta_out, unsigned flags);

/* ========================= durable file helpers ======================== */

/* mkdir path with mode unless it exists as a directory; when it was made,
 * fsync its parent directory. Returns 0; SV_EEXIST when path exists but is
 * not a directory; SV_EERRNO. */
int sv_durable_mkdir(const char *path, unsigned mode);

/* fsync the directory at path. Returns 0 or SV_EERRNO. */
int sv_durable_fsync_dir(const char *path);

/* ============================== audit log ============================== */

/*
 * One text line per event, tab-separated, each line's MAC chained on the
 * line before (docs/audit-format.md is the specification):
 *
 *   seq TAB time TAB uid TAB user TAB action TAB docid TAB result TAB mac LF
 *
 * seq is the line number (1, 2, 3 ...); mac = HMAC-SHA256(audit key,
 * previous line's MAC (32 zero bytes for line 1) || the line up to and
 * including the tab before the MAC), as 64 lowercase hex characters.
 * Editing, removing, inserting or reordering lines, or a line made under
 * another key, breaks the chain at that line. Removing lines from the END
 * does not (nothing follows them): only a copy of a recent (seq, MAC) kept
 * elsewhere (sv_audit_tail()) shows it.
 *
 * The log carries docids and codes, never an MRN, a patient name or a file
 * name from the scanner: the library cannot tell, so callers must not put
 * them in action or result.
 *
 * Caveats:
 *   - A handle may be shared by the threads of a process (a mutex orders
 *     them), and any number of processes may append to one file at once (an
 *     exclusive flock() per append). A handle must not be used in a child
 *     after fork(): parent and child would share its lock.
 *   - Appending reads only the end of the file (O(1)): it checks that the
 *     last line is well formed and that its MAC verifies under this key ring
 *     (SV_EAUTH otherwise: another key, or a damaged end; nothing is
 *     written). It does not verify the rest of the chain.
 *   - A torn end (a writer crashed in the middle of a line: the file does not
 *     end with a newline, or its last lines hold NUL bytes) is replaced by
 *     the next append with an SV_AUDIT_ACTION_REPAIR line that records its
 *     length and SHA-256, chained like any other, followed by the new line.
 *     Until then sv_audit_read() reports the torn line (SV_EAUTH).
 *   - The audit key is derived from the master key: after a key rotation
 *     start a new log file (the old one verifies under the old key only).
 *   - sv_audit_read() passes each line to the callback after that line
 *     verified, so lines before a broken one have been passed when it
 *     returns SV_EAUTH; lines appended after it started are not read.
 */

typedef struct sv_audit sv_audit;

#define SV_AUDIT_USER_MAX 64    /* user name, bytes */
#define SV_AUDIT_ACTION_MAX 31  /* [a-z_], a letter first */
#define SV_AUDIT_RESULT_MAX 255 /* printable ASCII but backslash */
#define SV_AUDIT_LINE_MAX 512   /* one line with its newline, bytes (at most 507) */
/* The action of the line an append writes in place of a torn end. Callers
 * cannot append it themselves. */
#define SV_AUDIT_ACTION_REPAIR "audit_repair"

/* One line of the log. Strings are NUL-terminated. */
typedef struct sv_audit_entry {
    uint64_t seq;                          /* 1, 2, 3 ...: the line number */
    int64_t time;                          /* unix seconds, UTC */
    uint32_t uid;                          /* who: the user id ... */
    char user[SV_AUDIT_USER_MAX + 1];      /* ... and its name, 1..64 bytes */
    char action[SV_AUDIT_ACTION_MAX + 1];  /* what: a code, e.g. "open" */
    char docid[SV_DOCID_MAX + 1];          /* on which document; "-" for none */
    char result[SV_AUDIT_RESULT_MAX + 1];  /* outcome, 1..255 bytes; "-" for none */
    uint8_t mac[SV_AUDIT_MAC_LEN];         /* this line's chain MAC */
} sv_audit_entry;

/*
 * Open the audit log at path for appending with ring (which must outlive
 * the handle). A missing file is created, mode 0600, and its directory
 * fsync'ed; the directory must exist. Nothing is read yet. Returns 0;
 * SV_EINVAL (no ring or path); SV_ENOTFOUND (no such directory); SV_EFORMAT
 * (not a regular file); SV_EPERM (writable by group or others: chmod 600);
 * SV_ENOMEM; SV_EERRNO. *out NULL on failure. Close with sv_audit_destroy().
 */
int sv_audit_create(sv_audit **out, const sv_keyring *ring, const char *path);

/* Close the file and free. NULL is fine. */
void sv_audit_destroy(sv_audit *audit);

/*
 * Append one line as the calling process: its real uid, and the user name
 * getpwuid_r() gives for it (the uid in decimal when there is none).
 *   action  1..31 of [a-z_], a letter first, not SV_AUDIT_ACTION_REPAIR;
 *   docid   a valid docid (sv_docid_is_valid()), or NULL for none ("-");
 *   result  1..255 printable ASCII characters (space to '~') without
 *           backslash, or NULL for none ("-").
 * The line is written with one write() on the O_APPEND descriptor under an
 * exclusive flock() and made durable (fdatasync) before this returns.
 * Returns 0; SV_EINVAL (a field breaks the rules: nothing written);
 * SV_EAUTH (the end of the log is damaged or was written under another
 * key: nothing written, run `scanvault audit verify`); SV_ELIMIT (seq would
 * pass 2^64-1); SV_EFULL (no space left: the line is not logged);
 * SV_EERRNO (I/O; after a failed fdatasync the line may or may not be in
 * the file).
 */
int sv_audit_append(sv_audit *audit, const char *action, const char *docid, const char *result);

/*
 * The same with an identity the caller vouches for (the service passes the
 * SO_PEERCRED uid of a client and its name). user NULL or "" means the uid
 * in decimal; bytes other than printable ASCII, and backslashes, become
 * '?'; a longer name is cut to SV_AUDIT_USER_MAX bytes. Same returns.
 */
int sv_audit_append_as(sv_audit *audit, uint32_t uid, const char *user, const char *action,
                       const char *docid, const char *result);

/* Receives each verified line in order: return 0 to go on, > 0 to stop
 * (sv_audit_read() then returns 0), or a negative SV_E* code to stop with
 * that code. */
typedef int (*sv_audit_entry_fn)(const sv_audit_entry *entry, void *ctx);

/*
 * Verify the whole log at path with ring, line by line from the first, and
 * pass each line to fn (may be NULL: verify only) once it verified. Used by
 * `scanvault audit` (print) and `scanvault audit verify`. The file is read
 * up to its size when the call starts (taken under a shared flock(), so no
 * half-written line is seen), in constant memory.
 * *bad_line (may be NULL) gets the 1-based number of the first line that
 * fails, 0 when none did. Returns 0 (every line verified, or fn stopped);
 * SV_EAUTH with *bad_line set, for the first line that is too long, cut
 * short (no newline), malformed, out of sequence, or whose MAC does not
 * verify (edited, removed, inserted or reordered lines, another key);
 * SV_ENOTFOUND (no log); SV_EFORMAT (not a regular file); SV_ENOMEM;
 * SV_EERRNO; or fn's negative code.
 */
int sv_audit_read(const sv_keyring *ring, const char *path, sv_audit_entry_fn fn, void *ctx,
                  uint64_t *bad_line);

/*
 * An anchor: the seq and MAC of the last complete line of the log at path,
 * after checking that line's MAC against the line before it (O(1), like an
 * append; a torn end is skipped). Keep a recent anchor outside the host
 * (with the backups, or in the central log): a log that no longer holds
 * line seq with this MAC was cut back. An empty log gives seq 0 and a MAC
 * of zeros. Returns 0; SV_EAUTH (the end is damaged or written under
 * another key); SV_ENOTFOUND; SV_EFORMAT; SV_EERRNO. seq and mac are
 * cleared on failure.
 */
int sv_audit_tail(const sv_keyring *ring, const char *path, uint64_t *seq,
                  uint8_t mac[SV_AUDIT_MAC_LEN]);

#endif
