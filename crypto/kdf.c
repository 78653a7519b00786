/*
 * kdf.c - the only place that calls libgcrypt's primitives: HMAC-SHA256,
 * HKDF-SHA256 built on it, AES key wrap and AES-256-GCM. Each wrapper is
 * pinned to published vectors by tests/unit/test_crypto_kat.c.
 *
 * Every handle that sees key material is opened with the secure flag, so
 * key schedules live in libgcrypt's locked pool and are wiped on close.
 */
#include <string.h>

#include "crypto_internal.h"

#define CR_SHA256_LEN 32

int cr_hmac_sha256(const uint8_t *key, size_t key_len, const cr_span *parts, size_t n_parts,
                   uint8_t out[32])
{
    gcry_mac_hd_t h = NULL;
    int rc = SV_ENOMEM;
    if (gcry_mac_open(&h, GCRY_MAC_HMAC_SHA256, GCRY_MAC_FLAG_SECURE, NULL) != 0)
        goto out;
    if (gcry_mac_setkey(h, key, key_len) != 0)
        goto out;
    for (size_t i = 0; i < n_parts; i++) {
        if (parts[i].len > 0 && gcry_mac_write(h, parts[i].data, parts[i].len) != 0)
            goto out;
    }
    size_t len = CR_SHA256_LEN;
    if (gcry_mac_read(h, out, &len) != 0 || len != CR_SHA256_LEN)
        goto out;
    rc = 0;
out:
    if (h != NULL)
        gcry_mac_close(h);
    if (rc != 0)
        cr_fail(rc, "HMAC-SHA256 failed (libgcrypt; secure memory exhausted?)");
    return rc;
}

int cr_hkdf_sha256(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                   const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len)
{
    if (out_len == 0 || out_len > 255 * CR_SHA256_LEN)
        return cr_fail(SV_EINVAL, "HKDF: output length %zu out of range", out_len);
    uint8_t *prk = cr_secure_alloc(CR_SHA256_LEN);
    uint8_t *block = cr_secure_alloc(CR_SHA256_LEN);
    int rc = SV_ENOMEM;
    if (prk == NULL || block == NULL) {
        rc = cr_fail(SV_ENOMEM, "HKDF: secure memory exhausted");
        goto out;
    }
    /* RFC 5869: an absent salt is HashLen zero bytes. */
    static const uint8_t zero_salt[CR_SHA256_LEN];
    if (salt == NULL || salt_len == 0) {
        salt = zero_salt;
        salt_len = sizeof zero_salt;
    }
    cr_span extract = {ikm, ikm_len};
    rc = cr_hmac_sha256(salt, salt_len, &extract, 1, prk);
    if (rc != 0)
        goto out;
    size_t done = 0;
    for (uint8_t counter = 1; done < out_len; counter++) {
        cr_span parts[3] = {
            {block, counter == 1 ? 0 : CR_SHA256_LEN}, {info, info_len}, {&counter, 1}};
        rc = cr_hmac_sha256(prk, CR_SHA256_LEN, parts, 3, block);
        if (rc != 0)
            goto out;
        size_t take = out_len - done < CR_SHA256_LEN ? out_len - done : CR_SHA256_LEN;
        memcpy(out + done, block, take);
        done += take;
    }
    rc = 0;
out:
    cr_secure_free(prk, CR_SHA256_LEN);
    cr_secure_free(block, CR_SHA256_LEN);
    if (rc != 0)
        cr_wipe(out, out_len);
    return rc;
}

static int wrap_open(gcry_cipher_hd_t *h, const uint8_t kek[SV_KEY_LEN])
{
    *h = NULL;
    if (gcry_cipher_open(h, GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_AESWRAP,
                         GCRY_CIPHER_SECURE) != 0) {
        *h = NULL;
        return cr_fail(SV_ENOMEM, "AES key wrap: cannot open cipher (secure memory?)");
    }
    if (gcry_cipher_setkey(*h, kek, SV_KEY_LEN) != 0) {
        gcry_cipher_close(*h);
        *h = NULL;
        return cr_fail(SV_ENOMEM, "AES key wrap: cannot set key");
    }
    return 0;
}

int cr_aes_wrap(const uint8_t kek[SV_KEY_LEN], const uint8_t *in, size_t len, uint8_t *out)
{
    if (len < 16 || len % 8 != 0)
        return cr_fail(SV_EINVAL, "AES key wrap: %zu bytes cannot be wrapped", len);
    gcry_cipher_hd_t h;
    int rc = wrap_open(&h, kek);
    if (rc != 0)
        return rc;
    if (gcry_cipher_encrypt(h, out, len + CR_WRAP_OVERHEAD, in, len) != 0)
        rc = cr_fail(SV_ENOMEM, "AES key wrap failed");
    gcry_cipher_close(h);
    return rc;
}

int cr_aes_unwrap(const uint8_t kek[SV_KEY_LEN], const uint8_t *in, size_t len, uint8_t *out)
{
    if (len < 24 || len % 8 != 0)
        return cr_fail(SV_EINVAL, "AES key unwrap: %zu bytes cannot be unwrapped", len);
    gcry_cipher_hd_t h;
    int rc = wrap_open(&h, kek);
    if (rc != 0)
        return rc;
    gcry_error_t err = gcry_cipher_decrypt(h, out, len - CR_WRAP_OVERHEAD, in, len);
    gcry_cipher_close(h);
    if (err != 0) {
        cr_wipe(out, len - CR_WRAP_OVERHEAD);
        /* The integrity check value did not come out: another KEK or changed
         * bytes; libgcrypt says GPG_ERR_CHECKSUM. */
        return cr_fail(SV_EAUTH, "AES key unwrap: integrity check failed");
    }
    return 0;
}

int cr_gcm_new(gcry_cipher_hd_t *out, const uint8_t key[SV_KEY_LEN])
{
    *out = NULL;
    gcry_cipher_hd_t h;
    if (gcry_cipher_open(&h, GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_GCM, GCRY_CIPHER_SECURE) != 0)
        return cr_fail(SV_ENOMEM, "AES-GCM: cannot open cipher (secure memory?)");
    if (gcry_cipher_setkey(h, key, SV_KEY_LEN) != 0) {
        gcry_cipher_close(h);
        return cr_fail(SV_ENOMEM, "AES-GCM: cannot set key");
    }
    *out = h;
    return 0;
}

static int gcm_start(gcry_cipher_hd_t h, const uint8_t nonce[CR_GCM_NONCE_LEN],
                     const uint8_t *aad, size_t aad_len)
{
    if (gcry_cipher_setiv(h, nonce, CR_GCM_NONCE_LEN) != 0)
        return cr_fail(SV_ENOMEM, "AES-GCM: cannot set nonce");
    if (aad_len > 0 && gcry_cipher_authenticate(h, aad, aad_len) != 0)
        return cr_fail(SV_ENOMEM, "AES-GCM: cannot add authenticated data");
    return 0;
}

int cr_gcm_seal_from(gcry_cipher_hd_t h, const uint8_t nonce[CR_GCM_NONCE_LEN],
                     const uint8_t *aad, size_t aad_len, const uint8_t *in, uint8_t *buf,
                     size_t len, uint8_t tag[CR_GCM_TAG_LEN])
{
    int rc = gcm_start(h, nonce, aad, aad_len);
    if (rc != 0)
        return rc;
    /* One call per message: libgcrypt then needs no gcry_cipher_final(). */
    if (gcry_cipher_encrypt(h, buf, len, in, in != NULL ? len : 0) != 0 ||
        gcry_cipher_gettag(h, tag, CR_GCM_TAG_LEN) != 0)
        return cr_fail(SV_ENOMEM, "AES-GCM: encryption failed");
    return 0;
}

int cr_gcm_seal(gcry_cipher_hd_t h, const uint8_t nonce[CR_GCM_NONCE_LEN], const uint8_t *aad,
                size_t aad_len, uint8_t *buf, size_t len, uint8_t tag[CR_GCM_TAG_LEN])
{
    return cr_gcm_seal_from(h, nonce, aad, aad_len, NULL, buf, len, tag);
}

int cr_gcm_open_from(gcry_cipher_hd_t h, const uint8_t nonce[CR_GCM_NONCE_LEN],
                     const uint8_t *aad, size_t aad_len, const uint8_t *in, uint8_t *buf,
                     size_t len, const uint8_t tag[CR_GCM_TAG_LEN])
{
    int rc = gcm_start(h, nonce, aad, aad_len);
    if (rc != 0)
        return rc;
    if (gcry_cipher_decrypt(h, buf, len, in, in != NULL ? len : 0) != 0) {
        cr_wipe(buf, len);
        return cr_fail(SV_ENOMEM, "AES-GCM: decryption failed");
    }
    if (gcry_cipher_checktag(h, tag, CR_GCM_TAG_LEN) != 0) {
        cr_wipe(buf, len);
        return cr_fail(SV_EAUTH, "AES-GCM: authentication failed");
    }
    return 0;
}

int cr_gcm_open(gcry_cipher_hd_t h, const uint8_t nonce[CR_GCM_NONCE_LEN], const uint8_t *aad,
                size_t aad_len, uint8_t *buf, size_t len, const uint8_t tag[CR_GCM_TAG_LEN])
{
    return cr_gcm_open_from(h, nonce, aad, aad_len, NULL, buf, len, tag);
}
