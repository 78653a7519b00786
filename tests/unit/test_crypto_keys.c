/*
 * test_crypto_keys.c - the key file (create, refuse to overwrite, refuse
 * loose modes, wrong sizes, unknown versions, damage), systemd credentials,
 * docids, blind MRNs, content ids, audit MACs, sealed records, and the
 * process set-up (no core dumps).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <gcrypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_crypto_util.h"

typedef struct fixture {
    char dir[256];
    char key[300];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    tc_mkdtemp(f->dir);
    snprintf(f->key, sizeof f->key, "%s/scanvault.key", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tc_rm_rf(f->dir);
    free(f);
    return 0;
}

static void write_bytes(const char *path, const uint8_t *buf, size_t len, mode_t mode)
{
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, buf, len), (ssize_t)len);
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

static void test_generate_save_load(void **state)
{
    fixture *f = *state;
    sv_keyring *a = NULL, *b = NULL;
    assert_int_equal(sv_keyring_generate(&a), 0);
    assert_int_equal(sv_keyring_save(a, f->key), 0);
    struct stat st;
    assert_int_equal(stat(f->key, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, SV_KEY_FILE_LEN);
    assert_int_equal(sv_keyring_load(&b, f->key), 0);
    char ida[17], idb[17];
    sv_keyring_id_hex(a, ida);
    sv_keyring_id_hex(b, idb);
    assert_string_equal(ida, idb);
    uint8_t ba[16], bb[16];
    assert_int_equal(sv_crypto_blind_mrn(a, "4081726", ba), 0);
    assert_int_equal(sv_crypto_blind_mrn(b, "4081726", bb), 0);
    assert_memory_equal(ba, bb, 16);
    /* No temp file is left beside the key. */
    char cmd[400];
    snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) -eq 1", f->dir);
    assert_int_equal(system(cmd), 0);
    sv_keyring_destroy(a);
    sv_keyring_destroy(b);
}

static void test_refuses_overwrite(void **state)
{
    fixture *f = *state;
    sv_keyring *a = NULL, *b = NULL, *c = NULL;
    assert_int_equal(sv_keyring_generate(&a), 0);
    assert_int_equal(sv_keyring_generate(&b), 0);
    assert_int_equal(sv_keyring_save(a, f->key), 0);
    assert_int_equal(sv_keyring_save(b, f->key), SV_EEXIST);
    assert_non_null(strstr(sv_crypto_last_error(), "refusing to overwrite"));
    assert_int_equal(sv_keyring_load(&c, f->key), 0);
    uint8_t ida[8], idc[8];
    sv_keyring_id(a, ida);
    sv_keyring_id(c, idc);
    assert_memory_equal(ida, idc, 8);
    sv_keyring_destroy(a);
    sv_keyring_destroy(b);
    sv_keyring_destroy(c);
}

static void test_refuses_loose_modes(void **state)
{
    fixture *f = *state;
    sv_keyring *a = NULL, *b = NULL;
    assert_int_equal(sv_keyring_generate(&a), 0);
    assert_int_equal(sv_keyring_save(a, f->key), 0);
    const mode_t bad[] = {0640, 0604, 0660, 0644, 0601, 0610, 0400 | 0040};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(chmod(f->key, bad[i]), 0);
        b = (sv_keyring *)0x1;
        assert_int_equal(sv_keyring_load(&b, f->key), SV_EPERM);
        assert_null(b);
        assert_non_null(strstr(sv_crypto_last_error(), "chmod 600"));
    }
    assert_int_equal(chmod(f->key, 0400), 0);
    assert_int_equal(sv_keyring_load(&b, f->key), 0);
    sv_keyring_destroy(a);
    sv_keyring_destroy(b);
}

static void test_refuses_bad_files(void **state)
{
    fixture *f = *state;
    sv_keyring *a = NULL, *b = NULL;
    assert_int_equal(sv_keyring_generate(&a), 0);
    assert_int_equal(sv_keyring_save(a, f->key), 0);
    size_t len;
    uint8_t *good = tc_read_file(f->key, &len);
    assert_int_equal(len, SV_KEY_FILE_LEN);
    uint8_t buf[SV_KEY_FILE_LEN + 1];

    /* wrong sizes */
    const size_t sizes[] = {0, 1, 32, 47, 49};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        memset(buf, 0, sizeof buf);
        memcpy(buf, good, sizes[i] < len ? sizes[i] : len);
        write_bytes(f->key, buf, sizes[i], 0600);
        assert_int_equal(sv_keyring_load(&b, f->key), SV_EFORMAT);
        assert_null(b);
    }
    /* bad magic */
    memcpy(buf, good, len);
    buf[0] = 'X';
    write_bytes(f->key, buf, len, 0600);
    assert_int_equal(sv_keyring_load(&b, f->key), SV_EFORMAT);
    /* unknown versions */
    const uint16_t versions[] = {0, 2, 0x0100, 0xffff};
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
        memcpy(buf, good, len);
        buf[6] = (uint8_t)(versions[i] >> 8);
        buf[7] = (uint8_t)versions[i];
        write_bytes(f->key, buf, len, 0600);
        assert_int_equal(sv_keyring_load(&b, f->key), SV_EVERSION);
        assert_null(b);
    }
    /* a damaged key or key id: every byte after the version */
    for (size_t i = 8; i < len; i++) {
        memcpy(buf, good, len);
        buf[i] ^= 0x04;
        write_bytes(f->key, buf, len, 0600);
        assert_int_equal(sv_keyring_load(&b, f->key), SV_EKEY);
        assert_null(b);
    }
    /* missing, a directory */
    unlink(f->key);
    assert_int_equal(sv_keyring_load(&b, f->key), SV_EERRNO);
    assert_int_equal(sv_keyring_load(&b, f->dir), SV_EFORMAT);
    /* the original bytes load again */
    write_bytes(f->key, good, len, 0600);
    assert_int_equal(sv_keyring_load(&b, f->key), 0);
    free(good);
    sv_keyring_destroy(a);
    sv_keyring_destroy(b);
}

static void test_credentials_directory(void **state)
{
    fixture *f = *state;
    char creds[300], configured[300];
    snprintf(creds, sizeof creds, "%s/creds", f->dir);
    snprintf(configured, sizeof configured, "%s/configured.key", f->dir);
    assert_int_equal(mkdir(creds, 0700), 0);
    char in_creds[400];
    snprintf(in_creds, sizeof in_creds, "%s/%s", creds, SV_KEY_FILE_NAME);
    sv_keyring *a = NULL, *b = NULL, *got = NULL;
    assert_int_equal(sv_keyring_generate(&a), 0);
    assert_int_equal(sv_keyring_generate(&b), 0);
    assert_int_equal(sv_keyring_save(a, in_creds), 0);
    assert_int_equal(sv_keyring_save(b, configured), 0);
    uint8_t want[8], have[8];

    assert_int_equal(setenv("CREDENTIALS_DIRECTORY", creds, 1), 0);
    assert_int_equal(sv_keyring_load_default(&got, configured), 0);
    sv_keyring_id(a, want);
    sv_keyring_id(got, have);
    assert_memory_equal(want, have, 8);
    sv_keyring_destroy(got);
    /* Set but without our credential: an error, no silent fallback. */
    unlink(in_creds);
    assert_int_equal(sv_keyring_load_default(&got, configured), SV_EERRNO);
    assert_null(got);

    assert_int_equal(unsetenv("CREDENTIALS_DIRECTORY"), 0);
    assert_int_equal(sv_keyring_load_default(&got, configured), 0);
    sv_keyring_id(b, want);
    sv_keyring_id(got, have);
    assert_memory_equal(want, have, 8);
    sv_keyring_destroy(got);
    assert_int_equal(sv_keyring_load_default(&got, NULL), SV_EINVAL);
    sv_keyring_destroy(a);
    sv_keyring_destroy(b);
}

static void test_docids(void **state)
{
    (void)state;
    enum { N = 2000 };
    static char ids[N][SV_DOCID_MAX + 1];
    for (size_t i = 0; i < N; i++) {
        assert_int_equal(sv_docid_generate(i % 2 ? "site1" : NULL, ids[i]), 0);
        assert_true(sv_docid_is_valid(ids[i]));
        const char *r = i % 2 ? ids[i] + 6 : ids[i];
        assert_int_equal(strlen(r), SV_DOCID_RANDOM_LEN);
        assert_true(r[0] >= 'a' && r[0] <= 'h');
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(ids[i], ids[j]);
    }
    char out[SV_DOCID_MAX + 1];
    const char *bad_prefix[] = {"Site", "toolongsite", "a-b", "a b", "\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad_prefix / sizeof bad_prefix[0]; i++)
        assert_int_equal(sv_docid_generate(bad_prefix[i], out), SV_EINVAL);
    const char *bad[] = {"",
                         "abcdefghijklmnopqrstuvwxy",   /* 25 */
                         "abcdefghijklmnopqrstuvwxyz2", /* 27 */
                         "ibcdefghijklmnopqrstuvwxyz",  /* first char > h */
                         "abcdefghijklmnopqrstuvwxy1",  /* 1 is not base32 */
                         "abcdefghijklmnopqrstuvwxyA",
                         "-abcdefghijklmnopqrstuvwxyz",
                         "site-site-abcdefghijklmnopqrstuvwxyz",
                         "sitesite9-abcdefghijklmnopqrstuvwxyz",
                         "../bcdefghijklmnopqrstuvwxyz",
                         "abcdefghijklmnopqrstuvwxy/"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(sv_docid_is_valid(bad[i]));
    assert_false(sv_docid_is_valid(NULL));
    assert_true(sv_docid_is_valid("sitesit9-habcdefghijklmnopqrstuvwxy"));
}

static void test_blind_mrn(void **state)
{
    (void)state;
    sv_keyring *a = tc_ring(1), *b = tc_ring(2);
    uint8_t x[16], y[16];
    assert_int_equal(sv_crypto_blind_mrn(a, "123-456 7", x), 0);
    assert_int_equal(sv_crypto_blind_mrn(a, "1234567", y), 0);
    assert_memory_equal(x, y, 16);
    assert_int_equal(sv_crypto_blind_mrn(a, "0042", x), 0);
    assert_int_equal(sv_crypto_blind_mrn(a, "42", y), 0);
    assert_memory_not_equal(x, y, 16);
    /* another key, another value */
    assert_int_equal(sv_crypto_blind_mrn(a, "1234567", x), 0);
    assert_int_equal(sv_crypto_blind_mrn(b, "1234567", y), 0);
    assert_memory_not_equal(x, y, 16);
    /* the blind key is not the content-hash key */
    uint8_t zero16[16] = {0};
    const char *bad[] = {"", " - ", "12a45", "123456789012345678901", "１２３", "12\n3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(x, 0xff, sizeof x);
        assert_int_equal(sv_crypto_blind_mrn(a, bad[i], x), SV_EINVAL);
        assert_memory_equal(x, zero16, 16);
        assert_null(strstr(sv_crypto_last_error(), "12a45"));
    }
    assert_int_equal(sv_crypto_blind_mrn(a, "12345678901234567890", x), 0);
    sv_keyring_destroy(a);
    sv_keyring_destroy(b);
}

static void test_content_id_and_audit(void **state)
{
    (void)state;
    sv_keyring *a = tc_ring(1), *b = tc_ring(2);
    uint8_t data[100000];
    uint64_t seed = 7;
    tc_fill(data, sizeof data, &seed);
    uint8_t x[32], y[32], sha[32], sha_fd[32];
    int fd = tc_memfd(data, sizeof data);
    uint64_t size = 0;
    assert_int_equal(sv_crypto_sha256_fd(fd, sha_fd, &size), 0);
    assert_int_equal(size, sizeof data);
    close(fd);
    gcry_md_hash_buffer(GCRY_MD_SHA256, sha, data, sizeof data);
    assert_memory_equal(sha, sha_fd, 32);
    assert_int_equal(sv_crypto_content_id(a, sha_fd, x), 0);
    assert_int_equal(sv_crypto_content_id(a, sha, y), 0);
    assert_memory_equal(x, y, 32);
    /* neither the hash itself nor another key's value */
    assert_memory_not_equal(x, sha, 32);
    assert_int_equal(sv_crypto_content_id(b, sha, y), 0);
    assert_memory_not_equal(x, y, 32);
    data[500] ^= 1;
    gcry_md_hash_buffer(GCRY_MD_SHA256, sha, data, sizeof data);
    assert_int_equal(sv_crypto_content_id(a, sha, y), 0);
    assert_memory_not_equal(x, y, 32);

    assert_int_equal(sv_crypto_audit_mac(a, data, 10, x), 0);
    assert_int_equal(sv_crypto_audit_mac(a, data, 10, y), 0);
    assert_memory_equal(x, y, 32);
    assert_int_equal(sv_crypto_audit_mac(b, data, 10, y), 0);
    assert_memory_not_equal(x, y, 32);
    sv_keyring_destroy(a);
    sv_keyring_destroy(b);
}

static void test_sealed_records(void **state)
{
    (void)state;
    sv_keyring *a = tc_ring(1), *b = tc_ring(2);
    const uint8_t plain[] = "state=filed type=lab_report";
    const uint8_t aad[] = "docid-1";
    uint8_t sealed[128], sealed2[128], out[128];
    size_t n = 0, n2 = 0, m = 0;
    assert_int_equal(sv_crypto_seal_record(a, aad, sizeof aad, plain, sizeof plain, sealed,
                                           sizeof sealed, &n),
                     0);
    assert_int_equal(n, sizeof plain + SV_RECORD_OVERHEAD);
    assert_int_equal(sv_crypto_seal_record(a, aad, sizeof aad, plain, sizeof plain, sealed2,
                                           sizeof sealed2, &n2),
                     0);
    assert_memory_not_equal(sealed, sealed2, n); /* fresh nonce each time */
    assert_null(memmem(sealed, n, "lab_report", 10));
    assert_int_equal(sv_crypto_open_record(a, aad, sizeof aad, sealed, n, out, sizeof out, &m), 0);
    assert_int_equal(m, sizeof plain);
    assert_memory_equal(out, plain, m);
    /* every byte flipped, other aad, other key, version, too small */
    for (size_t i = 1; i < n; i++) {
        sealed[i] ^= 0x20;
        assert_int_equal(sv_crypto_open_record(a, aad, sizeof aad, sealed, n, out, sizeof out, &m),
                         SV_EAUTH);
        assert_int_equal(m, 0);
        sealed[i] ^= 0x20;
    }
    assert_int_equal(sv_crypto_open_record(a, aad, 3, sealed, n, out, sizeof out, &m), SV_EAUTH);
    assert_int_equal(sv_crypto_open_record(b, aad, sizeof aad, sealed, n, out, sizeof out, &m),
                     SV_EAUTH);
    sealed[0] = 2;
    assert_int_equal(sv_crypto_open_record(a, aad, sizeof aad, sealed, n, out, sizeof out, &m),
                     SV_EVERSION);
    assert_int_equal(sv_crypto_open_record(a, aad, sizeof aad, sealed, 10, out, sizeof out, &m),
                     SV_EFORMAT);
    assert_int_equal(sv_crypto_seal_record(a, aad, sizeof aad, plain, sizeof plain, sealed, 40, &n),
                     SV_ELIMIT);
    sv_keyring_destroy(a);
    sv_keyring_destroy(b);
}

static void test_process_not_dumpable(void **state)
{
    (void)state;
    assert_int_equal(sv_crypto_global_init(), 0); /* again: harmless */
    assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
    struct rlimit rl;
    assert_int_equal(getrlimit(RLIMIT_CORE, &rl), 0);
    assert_int_equal(rl.rlim_cur, 0);
}

int main(void)
{
    assert_int_equal(sv_crypto_global_init(), 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_generate_save_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_overwrite, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_loose_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_bad_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_credentials_directory, setup, teardown),
        cmocka_unit_test(test_docids),
        cmocka_unit_test(test_blind_mrn),
        cmocka_unit_test(test_content_id_and_audit),
        cmocka_unit_test(test_sealed_records),
        cmocka_unit_test(test_process_not_dumpable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
