/*
 * object.c - the vault object header (docs/vault-format.md):
 *
 *   magic (8) | version (1) | log2 chunk size (1) | docid length (1) | docid
 *   | key id (8) | wrapped data key (40) | metadata nonce (12)
 *   | sealed metadata length (2) | sealed metadata | header MAC (32)
 *
 * The data key is random per object and wrapped (RFC 3394) under the key
 * ring's wrap key. Everything else comes from it: the body key, the metadata
 * key and the header MAC key. The MAC covers every header byte before it, so
 * the key id, the wrapped key, the docid and the chunk size are all
 * authenticated; the body chunks are bound to the header because only this
 * object's data key yields their key. A rewrap changes the key id, the
 * wrapped key and the MAC; the metadata and the body stay as they are.
 */
#include <stdlib.h>
#include <string.h>

#include "crypto_internal.h"

static const char object_salt[] = "scanvault/v1/object";

static const char *name_of(const char *who, const cr_header *h)
{
    if (who != NULL)
        return who;
    if (h->docid[0] != '\0')
        return h->docid;
    return "(unknown docid)";
}

/* Body chunk i: nonce 00 00 00 00 | i (8 bytes); aad one byte, 1 for the
 * last chunk, 0 for the others. */
static void chunk_nonce(uint64_t index, uint8_t nonce[CR_GCM_NONCE_LEN])
{
    memset(nonce, 0, 4);
    cr_put_be64(nonce + 4, index);
}

int cr_chunker_init(cr_chunker *c, const cr_object_keys *keys, uint32_t chunk_size,
                    const char *who)
{
    memset(c, 0, sizeof *c);
    c->record = (size_t)chunk_size + CR_GCM_TAG_LEN;
    c->buf = malloc(c->record);
    if (c->buf == NULL)
        return cr_fail(SV_ENOMEM, "vault object %s: out of memory for a chunk", who);
    int rc = cr_gcm_new(&c->gcm, keys->body);
    if (rc != 0)
        cr_chunker_free(c);
    return rc;
}

void cr_chunker_free(cr_chunker *c)
{
    if (c->buf != NULL)
        cr_wipe(c->buf, c->record);
    free(c->buf);
    if (c->gcm != NULL)
        gcry_cipher_close(c->gcm);
    memset(c, 0, sizeof *c);
}

int cr_chunk_seal(cr_chunker *c, uint64_t index, bool is_final, const uint8_t *plain, size_t len)
{
    uint8_t nonce[CR_GCM_NONCE_LEN], flag = is_final ? 1 : 0;
    chunk_nonce(index, nonce);
    return cr_gcm_seal_from(c->gcm, nonce, &flag, 1, plain, c->buf, len, c->buf + len);
}

int cr_chunk_open(cr_chunker *c, uint64_t index, bool is_final, const uint8_t *record,
                  size_t len)
{
    uint8_t nonce[CR_GCM_NONCE_LEN], flag = is_final ? 1 : 0;
    chunk_nonce(index, nonce);
    return cr_gcm_open_from(c->gcm, nonce, &flag, 1, record, c->buf, len, record + len);
}

static int derive_object_keys(cr_object_keys *k)
{
    static const struct {
        const char *info;
        size_t offset;
    } parts[] = {{"body", offsetof(cr_object_keys, body)},
                 {"metadata", offsetof(cr_object_keys, meta)},
                 {"header", offsetof(cr_object_keys, header)}};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        int rc = cr_hkdf_sha256((const uint8_t *)object_salt, strlen(object_salt), k->data,
                                SV_KEY_LEN, (const uint8_t *)parts[i].info,
                                strlen(parts[i].info), (uint8_t *)k + parts[i].offset,
                                SV_KEY_LEN);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int cr_object_keys_new(cr_object_keys **out)
{
    *out = NULL;
    cr_object_keys *k = cr_secure_alloc(sizeof *k);
    if (k == NULL)
        return cr_fail(SV_ENOMEM, "no secure memory for a data key");
    gcry_randomize(k->data, SV_KEY_LEN, GCRY_STRONG_RANDOM);
    int rc = derive_object_keys(k);
    if (rc != 0) {
        cr_object_keys_free(k);
        return rc;
    }
    *out = k;
    return 0;
}

void cr_object_keys_free(cr_object_keys *keys)
{
    cr_secure_free(keys, sizeof *keys);
}

static unsigned log2_exact(uint32_t v)
{
    unsigned n = 0;
    while ((1u << n) < v)
        n++;
    return n;
}

/* Fill the offsets that follow from a docid of n bytes. */
static void set_offsets(cr_header *h, size_t n)
{
    h->key_id_at = CR_HEADER_PREFIX_LEN + n;
    h->wrapped_at = h->key_id_at + SV_KEY_ID_LEN;
    h->nonce_at = h->wrapped_at + CR_WRAPPED_LEN;
    h->sealed_at = h->nonce_at + CR_GCM_NONCE_LEN + 2;
}

static int header_mac(const cr_object_keys *k, const cr_header *h, size_t covered,
                      uint8_t out[CR_HEADER_MAC_LEN])
{
    cr_span part = {h->raw, covered};
    return cr_hmac_sha256(k->header, SV_KEY_LEN, &part, 1, out);
}

/* Seal meta into h->raw at sealed_at with a fresh nonce. */
static int seal_meta(cr_header *h, const cr_object_keys *keys, const sv_vault_meta *meta)
{
    uint8_t *plain = h->raw + h->sealed_at;
    size_t len = 0;
    int rc = sv_vault_meta_encode(meta, plain, SV_META_RECORD_MAX, &len);
    if (rc != 0)
        return rc;
    gcry_cipher_hd_t gcm;
    rc = cr_gcm_new(&gcm, keys->meta);
    if (rc != 0)
        goto out;
    /* The metadata key is used again only when the metadata changes (a
     * review decision): a random nonce each time keeps nonces unique. */
    gcry_create_nonce(h->raw + h->nonce_at, CR_GCM_NONCE_LEN);
    rc = cr_gcm_seal(gcm, h->raw + h->nonce_at, h->raw, h->key_id_at, plain, len, plain + len);
    gcry_cipher_close(gcm);
    if (rc == 0)
        h->sealed_len = len + CR_GCM_TAG_LEN;
out:
    if (rc != 0)
        cr_wipe(plain, len);
    return rc;
}

int cr_header_build(cr_header *h, const sv_keyring *ring, const cr_object_keys *keys,
                    uint32_t chunk_size, const char *docid, const sv_vault_meta *meta,
                    const cr_header *keep)
{
    memset(h, 0, sizeof *h);
    size_t n = strnlen(docid, SV_DOCID_MAX + 1);
    if (!sv_docid_is_valid(docid))
        return cr_fail(SV_EINVAL, "not a valid docid");
    if (meta != NULL && strcmp(meta->docid, docid) != 0)
        return cr_fail(SV_EINVAL, "vault object %s: metadata is for another docid", docid);
    memcpy(h->raw, cr_magic, CR_MAGIC_LEN);
    h->raw[CR_MAGIC_LEN] = CR_FORMAT_VERSION;
    h->raw[CR_MAGIC_LEN + 1] = (uint8_t)log2_exact(chunk_size);
    h->raw[CR_MAGIC_LEN + 2] = (uint8_t)n;
    memcpy(h->raw + CR_HEADER_PREFIX_LEN, docid, n);
    memcpy(h->docid, docid, n + 1);
    h->chunk_size = chunk_size;
    set_offsets(h, n);
    memcpy(h->raw + h->key_id_at, ring->id, SV_KEY_ID_LEN);
    int rc = cr_aes_wrap(ring->wrap, keys->data, SV_KEY_LEN, h->raw + h->wrapped_at);
    if (rc != 0)
        return rc;
    if (meta != NULL) {
        rc = seal_meta(h, keys, meta);
        if (rc != 0)
            return rc;
    } else {
        memcpy(h->raw + h->nonce_at, keep->raw + keep->nonce_at, CR_GCM_NONCE_LEN);
        memcpy(h->raw + h->sealed_at, keep->raw + keep->sealed_at, keep->sealed_len);
        h->sealed_len = keep->sealed_len;
    }
    cr_put_be16(h->raw + h->nonce_at + CR_GCM_NONCE_LEN, (uint16_t)h->sealed_len);
    size_t covered = h->sealed_at + h->sealed_len;
    rc = header_mac(keys, h, covered, h->raw + covered);
    h->len = covered + CR_HEADER_MAC_LEN;
    return rc;
}

/* Read exactly len bytes of the header; a short read is a truncation. */
static int read_part(const cr_source *src, cr_header *h, size_t len, const char *who)
{
    const uint8_t *data = NULL;
    size_t got = 0;
    int rc = cr_source_take(src, len, &data, &got);
    if (rc == SV_EERRNO)
        return cr_fail_errno("vault object %s: cannot read the header", name_of(who, h));
    if (rc != 0)
        return rc;
    if (got > 0)
        memcpy(h->raw + h->len, data, got);
    h->len += got;
    if (got != len)
        return cr_fail(SV_ETRUNC, "vault object %s: truncated inside the header",
                       name_of(who, h));
    return 0;
}

int cr_header_read(const cr_source *src, cr_header *h, const char *who)
{
    memset(h, 0, sizeof *h);
    int rc = read_part(src, h, CR_HEADER_PREFIX_LEN, who);
    if (rc != 0)
        return rc;
    if (memcmp(h->raw, cr_magic, CR_MAGIC_LEN) != 0)
        return cr_fail(SV_EFORMAT, "vault object %s: not a scanvault object (bad magic)",
                       name_of(who, h));
    if (h->raw[CR_MAGIC_LEN] != CR_FORMAT_VERSION)
        return cr_fail(SV_EVERSION,
                       "vault object %s: format version %u, this build reads version %d",
                       name_of(who, h), h->raw[CR_MAGIC_LEN], CR_FORMAT_VERSION);
    unsigned shift = h->raw[CR_MAGIC_LEN + 1];
    if (shift > 31 || (1u << shift) < SV_VAULT_CHUNK_MIN || (1u << shift) > SV_VAULT_CHUNK_MAX)
        return cr_fail(SV_EFORMAT, "vault object %s: chunk size 2^%u out of range",
                       name_of(who, h), shift);
    h->chunk_size = 1u << shift;
    size_t n = h->raw[CR_MAGIC_LEN + 2];
    if (n == 0 || n > SV_DOCID_MAX)
        return cr_fail(SV_EFORMAT, "vault object %s: docid length %zu out of range",
                       name_of(who, h), n);
    set_offsets(h, n);
    rc = read_part(src, h, n + CR_HEADER_KEYS_LEN, who);
    if (rc != 0)
        return rc;
    memcpy(h->docid, h->raw + CR_HEADER_PREFIX_LEN, n);
    h->docid[n] = '\0';
    if (!sv_docid_is_valid(h->docid)) {
        h->docid[0] = '\0';
        return cr_fail(SV_EFORMAT, "vault object %s: the header holds no valid docid",
                       name_of(who, h));
    }
    h->sealed_len = cr_get_be16(h->raw + h->nonce_at + CR_GCM_NONCE_LEN);
    if (h->sealed_len <= CR_GCM_TAG_LEN || h->sealed_len > CR_SEALED_META_MAX)
        return cr_fail(SV_EFORMAT, "vault object %s: sealed metadata length %zu out of range",
                       name_of(who, h), h->sealed_len);
    return read_part(src, h, h->sealed_len + CR_HEADER_MAC_LEN, who);
}

/* Check the header MAC, then open and decode the sealed metadata. */
static int verify_and_open_meta(const cr_header *h, const cr_object_keys *k, const char *who,
                                sv_vault_meta *meta)
{
    uint8_t mac[CR_HEADER_MAC_LEN];
    size_t covered = h->len - CR_HEADER_MAC_LEN;
    int rc = header_mac(k, h, covered, mac);
    if (rc != 0)
        return rc;
    if (!cr_equal_ct(mac, h->raw + covered, CR_HEADER_MAC_LEN))
        return cr_fail(SV_EAUTH,
                       "vault object %s: header authentication failed (the header was "
                       "changed); restore the object from a backup",
                       who);
    uint8_t plain[SV_META_RECORD_MAX];
    size_t len = h->sealed_len - CR_GCM_TAG_LEN;
    memcpy(plain, h->raw + h->sealed_at, len);
    gcry_cipher_hd_t gcm;
    rc = cr_gcm_new(&gcm, k->meta);
    if (rc != 0)
        goto out;
    rc = cr_gcm_open(gcm, h->raw + h->nonce_at, h->raw, h->key_id_at, plain, len,
                     h->raw + h->sealed_at + len);
    gcry_cipher_close(gcm);
    if (rc != 0) {
        rc = cr_fail(rc, "vault object %s: metadata authentication failed", who);
        goto out;
    }
    rc = sv_vault_meta_decode(plain, len, meta);
    if (rc != 0) {
        rc = cr_fail(rc == SV_EVERSION ? SV_EVERSION : SV_EFORMAT,
                     "vault object %s: sealed metadata is malformed", who);
        goto out;
    }
    if (strcmp(meta->docid, h->docid) != 0)
        rc = cr_fail(SV_EFORMAT, "vault object %s: sealed metadata names another docid", who);
out:
    cr_wipe(plain, sizeof plain);
    return rc;
}

int cr_header_unlock(const cr_header *h, const sv_keyring *ring, const char *expected_docid,
                     cr_object_keys **keys_out, sv_vault_meta *meta_out)
{
    if (keys_out != NULL)
        *keys_out = NULL;
    if (meta_out != NULL)
        memset(meta_out, 0, sizeof *meta_out);
    const char *who = name_of(expected_docid, h);
    if (!cr_equal_ct(h->raw + h->key_id_at, ring->id, SV_KEY_ID_LEN)) {
        char have[SV_KEY_ID_HEX_LEN + 1], want[SV_KEY_ID_HEX_LEN + 1];
        cr_hex(h->raw + h->key_id_at, SV_KEY_ID_LEN, have);
        cr_hex(ring->id, SV_KEY_ID_LEN, want);
        return cr_fail(SV_EKEY,
                       "vault object %s: sealed under key id %s, the loaded key is %s "
                       "(load that key, or rewrap the object)",
                       who, have, want);
    }
    cr_object_keys *k = cr_secure_alloc(sizeof *k);
    sv_vault_meta *meta = cr_secure_alloc(sizeof *meta);
    int rc;
    if (k == NULL || meta == NULL) {
        rc = cr_fail(SV_ENOMEM, "vault object %s: no secure memory", who);
        goto out;
    }
    rc = cr_aes_unwrap(ring->wrap, h->raw + h->wrapped_at, CR_WRAPPED_LEN, k->data);
    if (rc != 0) {
        rc = cr_fail(rc, "vault object %s: the data key does not unwrap under this key "
                         "(header changed, or another key with the same id)",
                     who);
        goto out;
    }
    rc = derive_object_keys(k);
    if (rc != 0)
        goto out;
    rc = verify_and_open_meta(h, k, who, meta);
    if (rc != 0)
        goto out;
    if (expected_docid != NULL && strcmp(expected_docid, h->docid) != 0) {
        rc = cr_fail(SV_EAUTH,
                     "vault object %s: the file holds document %s (renamed or swapped file)",
                     expected_docid, h->docid);
        goto out;
    }
    if (meta_out != NULL)
        memcpy(meta_out, meta, sizeof *meta);
    if (keys_out != NULL) {
        *keys_out = k;
        k = NULL;
    }
out:
    cr_object_keys_free(k);
    if (meta != NULL)
        cr_secure_free(meta, sizeof *meta);
    return rc;
}
