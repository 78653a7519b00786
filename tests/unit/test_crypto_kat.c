/*
 * test_crypto_kat.c - known-answer tests that pin our use of libgcrypt to
 * published vectors: AES-256-GCM (NIST / McGrew-Viega test cases 13-16),
 * HMAC-SHA256 (RFC 4231), AES key wrap (RFC 3394), HKDF-SHA256 (RFC 5869);
 * then the whole key derivation chain against values computed by an
 * independent implementation (Python hmac/hashlib; the same values are in
 * docs/vault-format.md for anyone writing another reader).
 *
 * This test includes crypto_internal.h on purpose: the vectors must hit the
 * very wrappers the vault uses, not libgcrypt directly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>
#include <unistd.h>

#include "crypto_internal.h"
#include "test_crypto_util.h"

typedef struct gcm_vector {
    const char *name, *key, *iv, *pt, *aad, *ct, *tag;
} gcm_vector;

static const char p64[] = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
                          "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
static const char c64[] = "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
                          "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad";
static const char k16[] = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308";
static const char zero32[] = "0000000000000000000000000000000000000000000000000000000000000000";

static const gcm_vector gcm_vectors[] = {
    {"case 13", zero32, "000000000000000000000000", "", "", "",
     "530f8afbc74536b9a963b4f1c4cb738b"},
    {"case 14", zero32, "000000000000000000000000", "00000000000000000000000000000000", "",
     "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
    {"case 15", k16, "cafebabefacedbaddecaf888", p64, "", c64,
     "b094dac5d93471bdec1a502270e3cc6c"},
    /* case 16: the first 60 bytes of case 15 with authenticated data */
    {"case 16", k16, "cafebabefacedbaddecaf888",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
};

static void test_gcm_nist(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof gcm_vectors / sizeof gcm_vectors[0]; i++) {
        const gcm_vector *v = &gcm_vectors[i];
        uint8_t key[32], iv[12], pt[64], aad[32], ct[64], tag[16], buf[64], got_tag[16];
        assert_int_equal(tc_unhex(v->key, key, sizeof key), 32);
        assert_int_equal(tc_unhex(v->iv, iv, sizeof iv), 12);
        size_t n = tc_unhex(v->pt, pt, sizeof pt);
        size_t aad_len = tc_unhex(v->aad, aad, sizeof aad);
        assert_int_equal(tc_unhex(v->ct, ct, sizeof ct), n);
        tc_unhex(v->tag, tag, sizeof tag);

        gcry_cipher_hd_t h;
        assert_int_equal(cr_gcm_new(&h, key), 0);
        memcpy(buf, pt, n);
        assert_int_equal(cr_gcm_seal(h, iv, aad, aad_len, buf, n, got_tag), 0);
        assert_memory_equal(buf, ct, n);
        assert_memory_equal(got_tag, tag, 16);

        assert_int_equal(cr_gcm_open(h, iv, aad, aad_len, buf, n, tag), 0);
        assert_memory_equal(buf, pt, n);

        /* A changed tag, ciphertext byte or aad byte is refused. */
        memcpy(buf, ct, n);
        got_tag[15] ^= 1;
        assert_int_equal(cr_gcm_open(h, iv, aad, aad_len, buf, n, got_tag), SV_EAUTH);
        if (n > 0) {
            memcpy(buf, ct, n);
            buf[n / 2] ^= 0x80;
            assert_int_equal(cr_gcm_open(h, iv, aad, aad_len, buf, n, tag), SV_EAUTH);
            /* nothing unauthenticated is left in the buffer */
            uint8_t zero[64] = {0};
            assert_memory_equal(buf, zero, n);
        }
        if (aad_len > 0) {
            memcpy(buf, ct, n);
            aad[0] ^= 1;
            assert_int_equal(cr_gcm_open(h, iv, aad, aad_len, buf, n, tag), SV_EAUTH);
        }
        gcry_cipher_close(h);
    }
}

typedef struct hmac_vector {
    const char *key, *data, *mac; /* data as hex */
} hmac_vector;

static void test_hmac_rfc4231(void **state)
{
    (void)state;
    /* cases 6 and 7: a 131-byte key of 0xaa */
    char key6[2 * 131 + 1];
    memset(key6, 'a', 2 * 131);
    key6[2 * 131] = '\0';
    const struct {
        const char *key;
        const char *text; /* ASCII, or NULL: use data_hex */
        const char *data_hex;
        const char *mac;
    } v[] = {
        {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "Hi There", NULL,
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
        {"4a656665", "what do ya want for nothing?", NULL,
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL,
         "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
         "dddddddddddddddd",
         "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
        {"0102030405060708090a0b0c0d0e0f10111213141516171819", NULL,
         "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
         "cdcdcdcdcdcdcdcd",
         "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
        /* case 5: the first 128 bits */
        {"0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c", "Test With Truncation", NULL,
         "a3b6167473100ee06e0c796c2955552b"},
        {key6, "Test Using Larger Than Block-Size Key - Hash Key First", NULL,
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
        {key6,
         "This is a test using a larger than block-size key and a larger than block-size "
         "data. The key needs to be hashed before being used by the HMAC algorithm.",
         NULL, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t key[131], data[160], want[32], mac[32];
        size_t key_len = tc_unhex(v[i].key, key, sizeof key);
        size_t len;
        if (v[i].text != NULL) {
            len = strlen(v[i].text);
            memcpy(data, v[i].text, len);
        } else {
            len = tc_unhex(v[i].data_hex, data, sizeof data);
        }
        size_t want_len = tc_unhex(v[i].mac, want, sizeof want);
        cr_span one = {data, len};
        assert_int_equal(cr_hmac_sha256(key, key_len, &one, 1, mac), 0);
        assert_memory_equal(mac, want, want_len);
        /* The same message in three pieces gives the same MAC. */
        cr_span three[3] = {
            {data, 1}, {data + 1, len / 2}, {data + 1 + len / 2, len - 1 - len / 2}};
        memset(mac, 0, sizeof mac);
        assert_int_equal(cr_hmac_sha256(key, key_len, three, 3, mac), 0);
        assert_memory_equal(mac, want, want_len);
    }
}

static void test_aes_wrap_rfc3394(void **state)
{
    (void)state;
    const struct {
        const char *data, *wrapped;
    } v[] = {
        /* 4.3: 128 bits of key data with a 256-bit KEK */
        {"00112233445566778899aabbccddeeff", "64e8c3f9ce0f5ba263e9777905818a2a93c8191e7d6e8ae7"},
        /* 4.6: 256 bits of key data with a 256-bit KEK */
        {"00112233445566778899aabbccddeeff000102030405060708090a0b0c0d0e0f",
         "28c9f404c4b810f4cbccb35cfb87f8263f5786e2d80ed326cbc7f0e71a99f43bfb988b9b7a02dd21"},
    };
    uint8_t kek[32];
    tc_unhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", kek, sizeof kek);
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t data[32], want[40], out[40], back[32];
        size_t n = tc_unhex(v[i].data, data, sizeof data);
        assert_int_equal(tc_unhex(v[i].wrapped, want, sizeof want), n + 8);
        assert_int_equal(cr_aes_wrap(kek, data, n, out), 0);
        assert_memory_equal(out, want, n + 8);
        assert_int_equal(cr_aes_unwrap(kek, want, n + 8, back), 0);
        assert_memory_equal(back, data, n);
        /* Integrity: any changed byte or another KEK is refused. */
        for (size_t b = 0; b < n + 8; b++) {
            want[b] ^= 0x01;
            assert_int_equal(cr_aes_unwrap(kek, want, n + 8, back), SV_EAUTH);
            want[b] ^= 0x01;
        }
        kek[0] ^= 1;
        assert_int_equal(cr_aes_unwrap(kek, want, n + 8, back), SV_EAUTH);
        kek[0] ^= 1;
    }
}

static void test_hkdf_rfc5869(void **state)
{
    (void)state;
    uint8_t ikm[22], salt[13], info[10], okm[42], want[42];
    memset(ikm, 0x0b, sizeof ikm);
    for (size_t i = 0; i < sizeof salt; i++)
        salt[i] = (uint8_t)i;
    for (size_t i = 0; i < sizeof info; i++)
        info[i] = (uint8_t)(0xf0 + i);
    /* Test case 1 */
    tc_unhex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
             want, sizeof want);
    assert_int_equal(cr_hkdf_sha256(salt, sizeof salt, ikm, sizeof ikm, info, sizeof info, okm,
                                    sizeof okm),
                     0);
    assert_memory_equal(okm, want, sizeof want);
    /* Test case 3: no salt, no info */
    tc_unhex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
             want, sizeof want);
    assert_int_equal(cr_hkdf_sha256(NULL, 0, ikm, sizeof ikm, NULL, 0, okm, sizeof okm), 0);
    assert_memory_equal(okm, want, sizeof want);
    assert_int_equal(cr_hkdf_sha256(NULL, 0, ikm, sizeof ikm, NULL, 0, okm, 0), SV_EINVAL);
}

/* The derivation chain of docs/keys.md for master key 00 01 .. 1f, checked
 * against an independent implementation. */
static void test_derivation_chain(void **state)
{
    (void)state;
    sv_keyring *ring = tc_ring(0x00);
    char id[SV_KEY_ID_HEX_LEN + 1];
    sv_keyring_id_hex(ring, id);
    assert_string_equal(id, "0f9bb5b2ab70d7cf");
    const struct {
        const uint8_t *key;
        const char *hex;
    } sub[] = {
        {ring->wrap, "6a0f8ce925e371e51ad98963b8bd29a4c465edf97b11175f48b2662b63f1f10e"},
        {ring->blind, "bbbd9579be1bb5032b95a2c08ff8d7505782c87c5bb58a8c599947502862bda0"},
        {ring->hash, "683dde8001414e0b9b92983ce953b0278906c5234c5b96146d403e8b26f12fb6"},
        {ring->meta, "cf1e49265b242093ec99fde015eac41e5c9ed66cee7d01cc29c32e1a7a5bbbe1"},
        {ring->audit, "1e208108ff9b1d41d2287cd8f815334605baf71073eede8ece4049f950a5ae2c"},
    };
    for (size_t i = 0; i < sizeof sub / sizeof sub[0]; i++) {
        uint8_t want[32];
        tc_unhex(sub[i].hex, want, sizeof want);
        assert_memory_equal(sub[i].key, want, 32);
    }
    uint8_t blind[SV_BLIND_LEN], want16[16];
    assert_int_equal(sv_crypto_blind_mrn(ring, "1234-5678", blind), 0);
    tc_unhex("8de589a3c46ef7b1386b9b37e687fa9b", want16, sizeof want16);
    assert_memory_equal(blind, want16, 16);

    uint8_t content[32], want32[32], sha[32];
    int fd = tc_memfd(NULL, 0);
    uint64_t size = 1;
    assert_int_equal(sv_crypto_sha256_fd(fd, sha, &size), 0);
    close(fd);
    assert_int_equal(size, 0);
    assert_int_equal(sv_crypto_content_id(ring, sha, content), 0);
    tc_unhex("873258e24ed94447d8a6ab866514c15f479ad45bdc703ad5d995715f5ab12907", want32,
             sizeof want32);
    assert_memory_equal(content, want32, 32);

    uint8_t mac[32];
    assert_int_equal(sv_crypto_audit_mac(ring, (const uint8_t *)"scanvault", 9, mac), 0);
    tc_unhex("174427a11c333da79b76e97f3aa1f72e8579548ebfba78c3b5af98871d7c7c45", want32,
             sizeof want32);
    assert_memory_equal(mac, want32, 32);
    sv_keyring_destroy(ring);
}

int main(void)
{
    assert_int_equal(sv_crypto_global_init(), 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gcm_nist),
        cmocka_unit_test(test_hmac_rfc4231),
        cmocka_unit_test(test_aes_wrap_rfc3394),
        cmocka_unit_test(test_hkdf_rfc5869),
        cmocka_unit_test(test_derivation_chain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
