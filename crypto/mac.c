/*
 * mac.c - the keyed values the index and the audit log store instead of
 * secrets: blind MRN, content id, audit chain MAC, and small sealed records
 * under the metadata key.
 *
 * MRNs are low-entropy (a few million possible values), so a plain hash of
 * one is reversed by trying them all. A blind MRN is a MAC under a key that
 * lives only in the key file: without the key, the index reveals nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto_internal.h"

#define HASH_BUF (256u << 10)
#define RECORD_VERSION 1

int sv_crypto_blind_mrn(const sv_keyring *ring, const char *mrn, uint8_t out[SV_BLIND_LEN])
{
    memset(out, 0, SV_BLIND_LEN);
    if (ring == NULL || mrn == NULL)
        return cr_fail(SV_EINVAL, "blind MRN: no key or no MRN");
    char digits[SV_META_MRN_MAX];
    size_t n = 0;
    int rc = 0;
    /* Normalise as people type MRNs: "123 456-7" is 1234567. */
    for (const char *p = mrn; *p != '\0'; p++) {
        if (*p == ' ' || *p == '-')
            continue;
        if (*p < '0' || *p > '9' || n == sizeof digits) {
            rc = cr_fail(SV_EINVAL, "blind MRN: not an MRN (1..%d digits, spaces and "
                                    "dashes allowed)",
                         SV_META_MRN_MAX);
            goto out;
        }
        digits[n++] = *p;
    }
    if (n == 0) {
        rc = cr_fail(SV_EINVAL, "blind MRN: empty MRN");
        goto out;
    }
    uint8_t mac[32];
    cr_span part = {digits, n};
    rc = cr_hmac_sha256(ring->blind, SV_KEY_LEN, &part, 1, mac);
    if (rc == 0)
        memcpy(out, mac, SV_BLIND_LEN);
    cr_wipe(mac, sizeof mac);
out:
    cr_wipe(digits, sizeof digits);
    return rc;
}

int sv_crypto_content_id(const sv_keyring *ring, const uint8_t sha256[SV_SHA256_LEN],
                         uint8_t out[SV_CONTENT_ID_LEN])
{
    if (out == NULL)
        return cr_fail(SV_EINVAL, "content id: no output");
    memset(out, 0, SV_CONTENT_ID_LEN);
    if (ring == NULL || sha256 == NULL)
        return cr_fail(SV_EINVAL, "content id: no key or no hash");
    cr_span part = {sha256, SV_SHA256_LEN};
    int rc = cr_hmac_sha256(ring->hash, SV_KEY_LEN, &part, 1, out);
    if (rc != 0)
        memset(out, 0, SV_CONTENT_ID_LEN);
    return rc;
}

int sv_crypto_sha256_fd(int fd, uint8_t sha256[SV_SHA256_LEN], uint64_t *size_out)
{
    memset(sha256, 0, SV_SHA256_LEN);
    if (size_out != NULL)
        *size_out = 0;
    gcry_md_hd_t md = NULL;
    uint8_t *buf = NULL;
    uint64_t total = 0;
    int rc;
    if (gcry_md_open(&md, GCRY_MD_SHA256, 0) != 0) {
        md = NULL;
        rc = cr_fail(SV_ENOMEM, "SHA-256: cannot open the hash");
        goto out;
    }
    buf = malloc(HASH_BUF);
    if (buf == NULL) {
        rc = cr_fail(SV_ENOMEM, "SHA-256: out of memory");
        goto out;
    }
    for (;;) {
        size_t got;
        rc = cr_read_full(fd, buf, HASH_BUF, &got);
        if (rc != 0)
            goto out;
        gcry_md_write(md, buf, got);
        total += got;
        if (got < HASH_BUF)
            break;
    }
    memcpy(sha256, gcry_md_read(md, GCRY_MD_SHA256), SV_SHA256_LEN);
    if (size_out != NULL)
        *size_out = total;
out:
    if (buf != NULL)
        cr_wipe(buf, HASH_BUF);
    free(buf);
    if (md != NULL)
        gcry_md_close(md);
    return rc;
}

int sv_crypto_audit_mac(const sv_keyring *ring, const uint8_t *data, size_t len,
                        uint8_t out[SV_AUDIT_MAC_LEN])
{
    if (out == NULL)
        return cr_fail(SV_EINVAL, "audit MAC: no output");
    memset(out, 0, SV_AUDIT_MAC_LEN);
    if (ring == NULL || (data == NULL && len > 0))
        return cr_fail(SV_EINVAL, "audit MAC: no key or no data");
    cr_span part = {data, len};
    int rc = cr_hmac_sha256(ring->audit, SV_KEY_LEN, &part, 1, out);
    if (rc != 0)
        memset(out, 0, SV_AUDIT_MAC_LEN);
    return rc;
}

int sv_crypto_seal_record(const sv_keyring *ring, const uint8_t *aad, size_t aad_len,
                          const uint8_t *plain, size_t len, uint8_t *out, size_t out_cap,
                          size_t *out_len)
{
    *out_len = 0;
    if (ring == NULL || (plain == NULL && len > 0) || (aad == NULL && aad_len > 0))
        return cr_fail(SV_EINVAL, "seal record: bad arguments");
    if (out_cap < SV_RECORD_OVERHEAD || out_cap - SV_RECORD_OVERHEAD < len)
        return cr_fail(SV_ELIMIT, "seal record: output buffer too small");
    gcry_cipher_hd_t h;
    int rc = cr_gcm_new(&h, ring->meta);
    if (rc != 0)
        return rc;
    uint8_t *body = out + 1 + CR_GCM_NONCE_LEN;
    if (len > 0)
        memmove(body, plain, len);
    out[0] = RECORD_VERSION;
    gcry_create_nonce(out + 1, CR_GCM_NONCE_LEN);
    rc = cr_gcm_seal(h, out + 1, aad, aad_len, body, len, body + len);
    gcry_cipher_close(h);
    if (rc != 0) {
        cr_wipe(out, out_cap);
        return rc;
    }
    *out_len = len + SV_RECORD_OVERHEAD;
    return 0;
}

int sv_crypto_open_record(const sv_keyring *ring, const uint8_t *aad, size_t aad_len,
                          const uint8_t *sealed, size_t len, uint8_t *out, size_t out_cap,
                          size_t *out_len)
{
    *out_len = 0;
    if (ring == NULL || sealed == NULL || (aad == NULL && aad_len > 0))
        return cr_fail(SV_EINVAL, "open record: bad arguments");
    if (len < SV_RECORD_OVERHEAD)
        return cr_fail(SV_EFORMAT, "open record: %zu bytes is too short for a sealed record",
                       len);
    if (sealed[0] != RECORD_VERSION)
        return cr_fail(SV_EVERSION, "open record: unknown record version %u", sealed[0]);
    size_t plain_len = len - SV_RECORD_OVERHEAD;
    if (out_cap < plain_len)
        return cr_fail(SV_ELIMIT, "open record: output buffer too small");
    gcry_cipher_hd_t h;
    int rc = cr_gcm_new(&h, ring->meta);
    if (rc != 0)
        return rc;
    /* Nonce and tag first: out may overlap sealed. */
    uint8_t nonce[CR_GCM_NONCE_LEN], tag[CR_GCM_TAG_LEN];
    const uint8_t *body = sealed + 1 + CR_GCM_NONCE_LEN;
    memcpy(nonce, sealed + 1, sizeof nonce);
    memcpy(tag, body + plain_len, sizeof tag);
    if (plain_len > 0)
        memmove(out, body, plain_len);
    rc = cr_gcm_open(h, nonce, aad, aad_len, out, plain_len, tag);
    gcry_cipher_close(h);
    if (rc != 0)
        return cr_fail(rc, "open record: authentication failed (changed, or sealed under "
                           "another key)");
    *out_len = plain_len;
    return 0;
}
