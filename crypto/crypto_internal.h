/*
 * crypto_internal.h - shared by the files of crypto/ only (and by the
 * known-answer tests, which pin these wrappers to published vectors).
 *
 * Files:
 *   init.c         process set-up, last error, secure memory, small helpers
 *   kdf.c          HMAC-SHA256, HKDF-SHA256, AES key wrap, AES-256-GCM
 *   keys.c         the key ring and the key file
 *   docid.c        docid generation and validation
 *   mac.c          blind MRN, content id, audit MAC, sealed records
 *   meta.c         the sealed metadata record format
 *   object.c       the vault object header: build, parse, authenticate
 *   vault_write.c  sealing a stream into an object
 *   vault_read.c   opening an object, reading its metadata
 *   vault.c        the vault directory handle, header rewrites, tmp cleanup
 *   durable.c      read/write loops, temp files, fsync, atomic publish
 *   audit_line.c   one audit log line: field rules, format, parse, chain MAC
 *   audit.c        the audit log handle: append under flock, torn-end repair
 *   audit_tail.c   reading the end of an audit log: torn end, last line, anchor
 *   audit_read.c   verifying and walking a whole audit log
 */
#ifndef SV_CRYPTO_INTERNAL_H
#define SV_CRYPTO_INTERNAL_H

#include <gcrypt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sv_crypto.h"

/* ============================== init.c ================================= */

/* Set this thread's last error message and return code. */
int cr_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same with ": strerror(errno)" appended; returns SV_EERRNO. errno kept. */
int cr_fail_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Zeroed secure memory (libgcrypt's locked pool), or NULL. */
void *cr_secure_alloc(size_t n);
/* Wipe n bytes and free secure memory. NULL is fine. */
void cr_secure_free(void *p, size_t n);
/* Wipe memory (never optimised away). */
void cr_wipe(void *p, size_t n);
/* Compare in time independent of the contents. */
bool cr_equal_ct(const uint8_t *a, const uint8_t *b, size_t n);
/* Lowercase hex of n bytes into out (2n + 1 bytes). */
void cr_hex(const uint8_t *in, size_t n, char *out);

/* Big-endian load/store. */
void cr_put_be16(uint8_t *p, uint16_t v);
void cr_put_be32(uint8_t *p, uint32_t v);
void cr_put_be64(uint8_t *p, uint64_t v);
uint16_t cr_get_be16(const uint8_t *p);
uint32_t cr_get_be32(const uint8_t *p);
uint64_t cr_get_be64(const uint8_t *p);

/* =============================== kdf.c ================================= */

#define CR_GCM_NONCE_LEN 12
#define CR_GCM_TAG_LEN 16
#define CR_WRAP_OVERHEAD 8

/* One piece of a message fed to HMAC. */
typedef struct cr_span {
    const void *data;
    size_t len;
} cr_span;

/* HMAC-SHA256 over the concatenation of parts. Returns 0 or SV_ENOMEM. */
int cr_hmac_sha256(const uint8_t *key, size_t key_len, const cr_span *parts, size_t n_parts,
                   uint8_t out[32]);

/* HKDF-SHA256 (RFC 5869): extract with salt, expand with info to out_len
 * (at most 255 * 32) bytes. Returns 0, SV_EINVAL or SV_ENOMEM. */
int cr_hkdf_sha256(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                   const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len);

/* AES key wrap (RFC 3394) under a 256-bit KEK: out gets len + 8 bytes. len is
 * a multiple of 8, at least 16. Returns 0, SV_EINVAL or SV_ENOMEM. */
int cr_aes_wrap(const uint8_t kek[SV_KEY_LEN], const uint8_t *in, size_t len, uint8_t *out);
/* Unwrap: out gets len - 8 bytes. Returns 0; SV_EAUTH when the integrity
 * check fails (other KEK or changed bytes), out then wiped. */
int cr_aes_unwrap(const uint8_t kek[SV_KEY_LEN], const uint8_t *in, size_t len, uint8_t *out);

/* An AES-256-GCM handle (key schedule in secure memory). */
int cr_gcm_new(gcry_cipher_hd_t *out, const uint8_t key[SV_KEY_LEN]);
/* Encrypt buf in place and write the tag. Returns 0 or SV_ENOMEM. */
int cr_gcm_seal(gcry_cipher_hd_t h, const uint8_t nonce[CR_GCM_NONCE_LEN], const uint8_t *aad,
                size_t aad_len, uint8_t *buf, size_t len, uint8_t tag[CR_GCM_TAG_LEN]);
/* Decrypt buf in place and check the tag. Returns 0, or SV_EAUTH with buf
 * wiped (nothing unauthenticated survives). */
int cr_gcm_open(gcry_cipher_hd_t h, const uint8_t nonce[CR_GCM_NONCE_LEN], const uint8_t *aad,
                size_t aad_len, uint8_t *buf, size_t len, const uint8_t tag[CR_GCM_TAG_LEN]);
/* The same, reading len bytes from in (NULL: buf itself) and writing them to
 * buf: no copy when the input sits in another buffer. */
int cr_gcm_seal_from(gcry_cipher_hd_t h, const uint8_t nonce[CR_GCM_NONCE_LEN],
                     const uint8_t *aad, size_t aad_len, const uint8_t *in, uint8_t *buf,
                     size_t len, uint8_t tag[CR_GCM_TAG_LEN]);
int cr_gcm_open_from(gcry_cipher_hd_t h, const uint8_t nonce[CR_GCM_NONCE_LEN],
                     const uint8_t *aad, size_t aad_len, const uint8_t *in, uint8_t *buf,
                     size_t len, const uint8_t tag[CR_GCM_TAG_LEN]);

/* ============================== keys.c ================================= */

/* Lives in secure memory; every key is derived at load (docs/keys.md). */
struct sv_keyring {
    uint8_t master[SV_KEY_LEN];
    uint8_t id[SV_KEY_ID_LEN];
    uint8_t wrap[SV_KEY_LEN];
    uint8_t blind[SV_KEY_LEN];
    uint8_t hash[SV_KEY_LEN];
    uint8_t meta[SV_KEY_LEN];
    uint8_t audit[SV_KEY_LEN];
};

/* ============================== source.c =============================== */

/* A source as the stream code holds it: the function and its context. */
typedef struct cr_source {
    sv_vault_source fn;
    void *ctx;
} cr_source;

/* Take up to want bytes from src. Returns 0; the source's own code
 * (SV_EERRNO with errno set for an I/O error); SV_EINVAL when the source
 * broke its contract (more than want bytes, or none where it said some). */
int cr_source_take(const cr_source *src, size_t want, const uint8_t **data, size_t *got);

/* A source reading a file descriptor into its own buffer, which grows to
 * the largest piece asked for and is wiped when freed (it may hold
 * plaintext). It reads exactly what is asked, never ahead, so the
 * descriptor's offset is always where its reader stands. */
typedef struct cr_fd_source {
    int fd;
    uint8_t *buf;
    size_t cap;
} cr_fd_source;

void cr_fd_source_init(cr_fd_source *s, int fd);
void cr_fd_source_free(cr_fd_source *s);
/* An sv_vault_source over a cr_fd_source. */
int cr_fd_source_read(void *ctx, size_t want, const uint8_t **data, size_t *got);

/* ============================== object.c =============================== */

#define CR_MAGIC_LEN 8
#define CR_FORMAT_VERSION 1
#define CR_WRAPPED_LEN (SV_KEY_LEN + CR_WRAP_OVERHEAD)
#define CR_HEADER_MAC_LEN 32
#define CR_SEALED_META_MAX (SV_META_RECORD_MAX + CR_GCM_TAG_LEN)
/* magic, version, log2 chunk, docid length */
#define CR_HEADER_PREFIX_LEN (CR_MAGIC_LEN + 3)
/* key id, wrapped key, metadata nonce, sealed metadata length */
#define CR_HEADER_KEYS_LEN (SV_KEY_ID_LEN + CR_WRAPPED_LEN + CR_GCM_NONCE_LEN + 2)
#define CR_HEADER_MAX                                                                  \
    (CR_HEADER_PREFIX_LEN + SV_DOCID_MAX + CR_HEADER_KEYS_LEN + CR_SEALED_META_MAX +   \
     CR_HEADER_MAC_LEN)

extern const uint8_t cr_magic[CR_MAGIC_LEN];

/* The per-object keys: the data key and what is derived from it. Secure
 * memory. */
typedef struct cr_object_keys {
    uint8_t data[SV_KEY_LEN];   /* wrapped in the header */
    uint8_t body[SV_KEY_LEN];   /* AES-256-GCM of the body chunks */
    uint8_t meta[SV_KEY_LEN];   /* AES-256-GCM of the sealed metadata */
    uint8_t header[SV_KEY_LEN]; /* HMAC-SHA256 of the header */
} cr_object_keys;

/* A header as bytes plus where its fields are. */
typedef struct cr_header {
    uint8_t raw[CR_HEADER_MAX];
    size_t len;             /* bytes of raw in use (the whole header) */
    uint32_t chunk_size;
    char docid[SV_DOCID_MAX + 1];
    size_t key_id_at;       /* offsets into raw */
    size_t wrapped_at;
    size_t nonce_at;
    size_t sealed_at;
    size_t sealed_len;
} cr_header;

/* New random data key and its derived keys. Free with cr_object_keys_free. */
int cr_object_keys_new(cr_object_keys **out);
void cr_object_keys_free(cr_object_keys *keys);

/*
 * Build a header for docid under ring with these object keys. The metadata
 * is sealed afresh (new random nonce) from meta when meta is given;
 * otherwise the sealed metadata of keep (an authenticated header of the
 * same object) is copied as it is.
 */
int cr_header_build(cr_header *h, const sv_keyring *ring, const cr_object_keys *keys,
                    uint32_t chunk_size, const char *docid, const sv_vault_meta *meta,
                    const cr_header *keep);

/* Read and parse a header from src (bounds only, nothing authenticated yet),
 * taking exactly its bytes. who names the object in messages (the expected
 * docid, or NULL). */
int cr_header_read(const cr_source *src, cr_header *h, const char *who);

/*
 * Authenticate a parsed header with ring: key id, unwrap, header MAC,
 * sealed metadata, docid. *keys_out (may be NULL) gets the object keys,
 * meta_out (may be NULL) the metadata. expected_docid may be NULL.
 */
int cr_header_unlock(const cr_header *h, const sv_keyring *ring, const char *expected_docid,
                     cr_object_keys **keys_out, sv_vault_meta *meta_out);

/* The body cipher and one chunk's buffer: record = chunk_size + 16 bytes,
 * plaintext at buf[0..len), its tag right after it. */
typedef struct cr_chunker {
    uint8_t *buf;
    size_t record;
    gcry_cipher_hd_t gcm;
} cr_chunker;

int cr_chunker_init(cr_chunker *c, const cr_object_keys *keys, uint32_t chunk_size,
                    const char *who);
/* Wipe the buffer, free it, close the cipher. Fine on a zeroed chunker. */
void cr_chunker_free(cr_chunker *c);
/* Encrypt chunk index (len bytes at plain) into c->buf and write its tag
 * after it: the record is c->buf[0 .. len + 16). */
int cr_chunk_seal(cr_chunker *c, uint64_t index, bool is_final, const uint8_t *plain, size_t len);
/* Decrypt chunk index (a record at record: len bytes, then the tag) into
 * c->buf and check its tag; SV_EAUTH with c->buf wiped on failure. */
int cr_chunk_open(cr_chunker *c, uint64_t index, bool is_final, const uint8_t *record,
                  size_t len);

/* ============================== vault_read.c =========================== */

/* Stream the body that follows an unlocked header on src to sink. */
int cr_body_open(const cr_source *src, const cr_header *h, const cr_object_keys *keys,
                 const sv_vault_meta *meta, sv_vault_sink sink, void *ctx, unsigned flags);

/* ============================== vault.c ================================ */

/* The vault's tmp/ directory handle. */
int cr_vault_tmp_dirfd(const sv_vault *vault);
/* The vault's objects/ directory handle (owned by the vault). */
int cr_vault_objects_dirfd(const sv_vault *vault);
/* The fan-out directory of docid's object: two characters and a NUL. */
void cr_vault_fanout_of(const char *docid, char out[3]);
/* 0 when docid has no object yet; SV_EEXIST when it has one. */
int cr_vault_object_absent(const sv_vault *vault, const char *docid);
/* Move tmp (in tmp/) to docid's object name, making objects/xx/ first when
 * needed; fsync of the directories. */
int cr_vault_publish(sv_vault *vault, const char *tmp, const char *docid, bool replace);

/* ============================== durable.c ============================== */

#define CR_TMP_NAME_MAX 80

/* Read until len bytes or end of file; *got says how many. SV_EERRNO. */
int cr_read_full(int fd, uint8_t *buf, size_t len, size_t *got);
/* Write all len bytes (retrying short writes and EINTR). SV_EERRNO. */
int cr_write_all(int fd, const uint8_t *buf, size_t len);
/* fsync a directory handle. SV_EERRNO. */
int cr_fsync_dirfd(int dirfd, const char *what);
/* Create a new temp file "<stem>.<random>.tmp" in dirfd, mode. */
int cr_tmp_create(int dirfd, const char *stem, unsigned mode, char name[CR_TMP_NAME_MAX],
                  int *fd_out);
/* The error path of a temp file: close *fd if open, remove name (in dirfd)
 * if set. */
void cr_tmp_abandon(int dirfd, const char *name, int *fd);
/* fsync and close fd (setting it to -1); a failing close is an error. */
int cr_sync_close(int *fd, const char *what);
/* Move src (in src_dirfd) to dst (in dst_dirfd): over an existing dst when
 * replace, else SV_EEXIST. Then fsync dst_dirfd. */
int cr_publish(int src_dirfd, const char *src, int dst_dirfd, const char *dst, bool replace,
               const char *what);
/* fsync the directory that holds path (a new entry made durable).
 * SV_EERRNO, SV_ENOMEM. */
int cr_fsync_parent(const char *path);
/* Copy everything from in_fd (current offset) to out_fd. SV_EERRNO. */
int cr_copy_rest(int in_fd, int out_fd, const char *what);

/* ============================= audit_line.c ============================ */

#define CR_AUDIT_FIELDS 8                       /* seq .. mac */
#define CR_AUDIT_MAC_HEX_LEN (2 * SV_AUDIT_MAC_LEN)

/*
 * Check the caller's fields and fill e with them (seq, time and mac zero).
 * user is cleaned (see sv_audit_append_as); NULL docid/result become "-".
 * The reserved repair action is refused unless is_repair. Returns 0 or
 * SV_EINVAL; the message names path and the field, never its value.
 */
int cr_audit_entry_fill(sv_audit_entry *e, uint32_t uid, const char *user, const char *action,
                        const char *docid, const char *result, bool is_repair,
                        const char *path);

/*
 * Format e (fields already checked, e->seq and e->time set) as one line
 * chained on prev_mac: e->mac gets its MAC, out the line with its newline
 * (cap at least SV_AUDIT_LINE_MAX), *len its length. Returns 0, SV_EINVAL
 * (a time outside the years 1970..9999) or SV_ENOMEM; messages name path.
 */
int cr_audit_format(const sv_keyring *ring, const uint8_t prev_mac[SV_AUDIT_MAC_LEN],
                    sv_audit_entry *e, char *out, size_t cap, size_t *len, const char *path);

/*
 * Parse one line of len bytes (without its newline) with explicit bounds:
 * e gets every field and the stored MAC (zeroed on failure). Nothing is
 * authenticated yet. Returns 0 or SV_EAUTH with *what naming the part that
 * is wrong (for the caller's message; never a value). Sets no message.
 */
int cr_audit_parse(const char *line, size_t len, sv_audit_entry *e, const char **what);

/* Does the stored MAC of a parsed line (e->mac) match the line's bytes
 * chained on prev_mac? Returns 0, SV_EAUTH or SV_ENOMEM. Sets no message
 * for SV_EAUTH. */
int cr_audit_check_mac(const sv_keyring *ring, const uint8_t prev_mac[SV_AUDIT_MAC_LEN],
                       const char *line, size_t len, const sv_audit_entry *e);

/* ============================= audit_tail.c ============================ */

/* What an append or the anchor needs from the end of the log. */
typedef struct cr_audit_tail {
    uint64_t seq;                  /* the last complete line's; 0 for none */
    uint8_t mac[SV_AUDIT_MAC_LEN]; /* its MAC; zeros for none */
    off_t torn_at;                 /* where the torn end starts */
    size_t torn_len;               /* its length; 0 when none */
    uint8_t torn_sha256[SV_SHA256_LEN];
} cr_audit_tail;

/*
 * Read the end of the log on fd (size bytes; the caller holds its flock):
 * find the torn end, and check that the last complete line is well formed
 * and verifies, chained on the line before it. Returns 0; SV_EAUTH (a
 * damaged end, another key); SV_EERRNO; SV_ENOMEM. Messages name path.
 */
int cr_audit_scan_tail(int fd, off_t size, const sv_keyring *ring, const char *path,
                       cr_audit_tail *t);

/* ============================= audit_read.c ============================ */

/* flock(fd, op), retried on EINTR. Returns 0 or SV_EERRNO (message names
 * path). */
int cr_audit_flock(int fd, int op, const char *path);

/*
 * Open the log at path for reading (a regular file) and take its size under
 * a shared flock(): every line an append finished is in it, none is half
 * written. The lock is kept when keep_lock (released by closing *fd_out).
 * Returns 0; SV_ENOTFOUND; SV_EFORMAT (not a regular file); SV_EERRNO.
 */
int cr_audit_open_read(const char *path, bool keep_lock, int *fd_out, off_t *size_out);

#endif
