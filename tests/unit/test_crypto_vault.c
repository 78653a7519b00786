/*
 * test_crypto_vault.c - the vault object format working as it should: the
 * metadata record codec, round trips at the chunk edges, a 100 MB stream in
 * constant memory, metadata-only reads, metadata updates, key rotation, the
 * durable-write rules (no temp file left, no overwrite), and a scan of the
 * whole data directory for the plaintext MRN and file name.
 *
 * SV_TEST_STREAM_MB sets the stream size (default 100).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <gcrypt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_crypto_util.h"

typedef tc_vault fixture;

/* ---------------------------- metadata codec ---------------------------- */

static void sample_meta(sv_vault_meta *m)
{
    tc_meta(m, "bcdefghijklmnopqrstuvwxyz2", (const uint8_t *)"x", 1);
}

static void test_meta_round_trip_and_rules(void **state)
{
    (void)state;
    sv_vault_meta m, back;
    sample_meta(&m);
    uint8_t buf[SV_META_RECORD_MAX];
    size_t len = 0;
    assert_int_equal(sv_vault_meta_encode(&m, buf, sizeof buf, &len), 0);
    assert_int_equal(sv_vault_meta_decode(buf, len, &back), 0);
    assert_memory_equal(&m, &back, sizeof m);

    /* review: reason instead of MRN; the longest fields fit the cap */
    m.state = SV_VAULT_REVIEW;
    memset(m.mrn, 0, sizeof m.mrn);
    snprintf(m.reason, sizeof m.reason, "conflicting_mrns");
    memset(m.original_name, 'n', SV_META_NAME_MAX);
    m.original_name[SV_META_NAME_MAX] = '\0';
    memset(m.ocr_summary, 's', SV_META_SUMMARY_MAX);
    m.ocr_summary[SV_META_SUMMARY_MAX] = '\0';
    memset(m.review_note, 'r', SV_META_NOTE_MAX);
    m.review_note[SV_META_NOTE_MAX] = '\0';
    m.intake_time = -1;
    assert_int_equal(sv_vault_meta_encode(&m, buf, sizeof buf, &len), 0);
    assert_int_equal(sv_vault_meta_decode(buf, len, &back), 0);
    assert_memory_equal(&m, &back, sizeof m);
    assert_int_equal(sv_vault_meta_encode(&m, buf, len - 1, &len), SV_ELIMIT);
    /* a note one byte too long breaks the rules */
    memset(m.review_note, 'r', sizeof m.review_note);
    assert_int_equal(sv_vault_meta_check(&m), SV_EINVAL);

    /* rules */
    sample_meta(&m);
    m.mrn[0] = '\0';
    assert_int_equal(sv_vault_meta_check(&m), SV_EINVAL); /* filed without MRN */
    sample_meta(&m);
    snprintf(m.reason, sizeof m.reason, "no_mrn");
    assert_int_equal(sv_vault_meta_check(&m), SV_EINVAL); /* filed with a reason */
    sample_meta(&m);
    m.state = SV_VAULT_QUARANTINED;
    snprintf(m.reason, sizeof m.reason, "corrupt");
    assert_int_equal(sv_vault_meta_check(&m), SV_EINVAL); /* MRN outside filed */
    m.mrn[0] = '\0';
    assert_int_equal(sv_vault_meta_check(&m), 0);
    snprintf(m.type, sizeof m.type, "lab2");
    assert_int_equal(sv_vault_meta_check(&m), SV_EINVAL); /* digits in a code */
    sample_meta(&m);
    m.state = (sv_vault_state)7;
    assert_int_equal(sv_vault_meta_check(&m), SV_EINVAL);
    sample_meta(&m);
    snprintf(m.mrn, sizeof m.mrn, "12a4");
    assert_int_equal(sv_vault_meta_check(&m), SV_EINVAL);
    assert_null(strstr(sv_crypto_last_error(), "12a4"));
    sample_meta(&m);
    m.docid[3] = 'A';
    assert_int_equal(sv_vault_meta_check(&m), SV_EINVAL);
}

static void test_meta_decoder_bounds(void **state)
{
    (void)state;
    sv_vault_meta m, out;
    sample_meta(&m);
    uint8_t buf[SV_META_RECORD_MAX + 64];
    size_t len = 0;
    assert_int_equal(sv_vault_meta_encode(&m, buf, SV_META_RECORD_MAX, &len), 0);
    /* every truncation */
    for (size_t cut = 0; cut < len; cut++) {
        int rc = sv_vault_meta_decode(buf, cut, &out);
        assert_true(rc == SV_EFORMAT || rc == SV_EVERSION);
    }
    /* trailing byte */
    buf[len] = 0;
    assert_int_equal(sv_vault_meta_decode(buf, len + 1, &out), SV_EFORMAT);
    /* version 2 */
    buf[3] = 2;
    assert_int_equal(sv_vault_meta_decode(buf, len, &out), SV_EVERSION);
    buf[3] = 1;
    /* an unknown ancillary field before the end is skipped; a critical one is refused */
    const uint8_t extra[] = {'q', 0, 2, 'h', 'i'};
    memmove(buf + len - 3 + sizeof extra, buf + len - 3, 3);
    memcpy(buf + len - 3, extra, sizeof extra);
    assert_int_equal(sv_vault_meta_decode(buf, len + sizeof extra, &out), 0);
    assert_memory_equal(&out, &m, sizeof m);
    buf[len - 3] = 'Q';
    assert_int_equal(sv_vault_meta_decode(buf, len + sizeof extra, &out), SV_EFORMAT);
    /* a field twice: put the 'V' record's neighbour 'D' again at the end */
    assert_int_equal(sv_vault_meta_encode(&m, buf, SV_META_RECORD_MAX, &len), 0);
    size_t dlen = 3 + strlen(m.docid);
    memmove(buf + len - 3 + dlen, buf + len - 3, 3);
    memcpy(buf + len - 3, buf + 4, dlen);
    assert_int_equal(sv_vault_meta_decode(buf, len + dlen, &out), SV_EFORMAT);
    /* a length that runs past the end */
    assert_int_equal(sv_vault_meta_encode(&m, buf, SV_META_RECORD_MAX, &len), 0);
    buf[5] = 0xff;
    assert_int_equal(sv_vault_meta_decode(buf, len, &out), SV_EFORMAT);
    /* a NUL inside a string */
    assert_int_equal(sv_vault_meta_encode(&m, buf, SV_META_RECORD_MAX, &len), 0);
    buf[7] = 0;
    assert_int_equal(sv_vault_meta_decode(buf, len, &out), SV_EFORMAT);
    uint8_t zero[sizeof out];
    memset(zero, 0, sizeof zero);
    assert_memory_equal(&out, zero, sizeof out);
}

/* ------------------------------ round trips ----------------------------- */

static void round_trip(fixture *f, size_t len, uint32_t chunk)
{
    uint8_t *data = malloc(len + 1);
    uint64_t seed = len + 1;
    tc_fill(data, len, &seed);
    char docid[SV_DOCID_MAX + 1];
    assert_int_equal(sv_docid_generate(NULL, docid), 0);
    assert_int_equal(tc_seal(f->vault, f->ring, docid, data, len, chunk), 0);

    char path[512];
    assert_int_equal(sv_vault_object_path(f->vault, docid, path, sizeof path), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    uint32_t c = chunk != 0 ? chunk : SV_VAULT_CHUNK_DEFAULT;
    /* body = chunks of c + 16, then a short final chunk (possibly empty) */
    size_t body = (len / c) * (c + 16) + (len % c) + 16;
    assert_true((size_t)st.st_size > body);
    assert_true((size_t)st.st_size - body < 300 + 32);
    assert_int_equal(st.st_mode & 0777, 0400);
    assert_int_equal(tc_tmp_entries(f), 0);

    tc_buf out = {0};
    sv_vault_meta meta;
    assert_int_equal(sv_vault_open(f->vault, f->ring, docid, tc_buf_sink, &out, &meta,
                                   SV_VAULT_CHECK_CONTENT),
                     0);
    assert_int_equal(out.len, len);
    if (len > 0)
        assert_memory_equal(out.data, data, len);
    assert_string_equal(meta.docid, docid);
    assert_int_equal(meta.size, len);
    assert_string_equal(meta.mrn, "40817265");
    tc_buf_free(&out);
    free(data);
}

static void test_round_trips(void **state)
{
    fixture *f = *state;
    const size_t c = SV_VAULT_CHUNK_DEFAULT;
    const size_t sizes[] = {0, 1, c - 1, c, c + 1, 3 * c, 3 * c + 17};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        round_trip(f, sizes[i], 0);
    const uint32_t small[] = {SV_VAULT_CHUNK_MIN, 4096};
    for (size_t k = 0; k < 2; k++) {
        size_t s = small[k];
        const size_t edges[] = {0, 1, 15, 16, 17, s - 1, s, s + 1, 2 * s - 1, 2 * s, 2 * s + 1};
        for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
            round_trip(f, edges[i], small[k]);
    }
}

static void test_read_meta_update_and_checks(void **state)
{
    fixture *f = *state;
    uint8_t data[5000];
    uint64_t seed = 3;
    tc_fill(data, sizeof data, &seed);
    const char *docid = "site7-cbcdefghijklmnopqrstuvwxyz";
    sv_vault_meta m, got;
    tc_meta(&m, docid, data, sizeof data);
    m.state = SV_VAULT_REVIEW;
    memset(m.mrn, 0, sizeof m.mrn);
    snprintf(m.reason, sizeof m.reason, "low_confidence");
    int fd = tc_memfd(data, sizeof data);
    assert_int_equal(sv_vault_seal_fd(f->vault, f->ring, fd, &m, NULL), 0);
    close(fd);
    assert_int_equal(sv_vault_read_meta(f->vault, f->ring, docid, &got), 0);
    assert_memory_equal(&m, &got, sizeof m);

    /* a review decision: filed under an MRN; the body is untouched */
    m.state = SV_VAULT_FILED;
    memset(m.reason, 0, sizeof m.reason);
    snprintf(m.mrn, sizeof m.mrn, "5550123");
    assert_int_equal(sv_vault_update_meta(f->vault, f->ring, &m), 0);
    assert_int_equal(sv_vault_read_meta(f->vault, f->ring, docid, &got), 0);
    assert_memory_equal(&m, &got, sizeof m);
    tc_buf out = {0};
    assert_int_equal(sv_vault_open(f->vault, f->ring, docid, tc_buf_sink, &out, NULL,
                                   SV_VAULT_CHECK_CONTENT),
                     0);
    assert_memory_equal(out.data, data, sizeof data);
    tc_buf_free(&out);
    /* size and content id describe the body: they cannot change */
    m.size++;
    assert_int_equal(sv_vault_update_meta(f->vault, f->ring, &m), SV_EINVAL);
    m.size--;
    m.sha256[0] ^= 1;
    assert_int_equal(sv_vault_update_meta(f->vault, f->ring, &m), SV_EINVAL);
    assert_int_equal(tc_tmp_entries(f), 0);

    /* no overwrite unless asked; replace works */
    m.sha256[0] ^= 1;
    fd = tc_memfd(data, sizeof data);
    assert_int_equal(sv_vault_seal_fd(f->vault, f->ring, fd, &m, NULL), SV_EEXIST);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    sv_vault_seal_opts replace = {.chunk_size = 0, .replace = true};
    assert_int_equal(sv_vault_seal_fd(f->vault, f->ring, fd, &m, &replace), 0);
    close(fd);

    /* the input must hold meta->size bytes: no object, no temp file */
    const char *other = "dbcdefghijklmnopqrstuvwxyz";
    snprintf(m.docid, sizeof m.docid, "%s", other);
    m.size = sizeof data + 1;
    fd = tc_memfd(data, sizeof data);
    assert_int_equal(sv_vault_seal_fd(f->vault, f->ring, fd, &m, NULL), SV_EINVAL);
    close(fd);
    assert_int_equal(sv_vault_read_meta(f->vault, f->ring, other, &got), SV_ENOTFOUND);
    assert_int_equal(tc_tmp_entries(f), 0);

    /* a wrong hash is caught when the content is checked */
    m.size = sizeof data;
    m.sha256[5] ^= 0x10;
    fd = tc_memfd(data, sizeof data);
    assert_int_equal(sv_vault_seal_fd(f->vault, f->ring, fd, &m, NULL), 0);
    close(fd);
    assert_int_equal(sv_vault_open(f->vault, f->ring, other, NULL, NULL, NULL, 0), 0);
    assert_int_equal(sv_vault_open(f->vault, f->ring, other, NULL, NULL, NULL,
                                   SV_VAULT_CHECK_CONTENT),
                     SV_EAUTH);
    assert_non_null(strstr(sv_crypto_last_error(), other));

    /* bad chunk sizes */
    sv_vault_seal_opts bad = {.chunk_size = 1000, .replace = true};
    fd = tc_memfd(data, sizeof data);
    assert_int_equal(sv_vault_seal_fd(f->vault, f->ring, fd, &m, &bad), SV_EINVAL);
    bad.chunk_size = 32;
    assert_int_equal(sv_vault_seal_fd(f->vault, f->ring, fd, &m, &bad), SV_EINVAL);
    close(fd);
    sv_vault_meta_wipe(&m);
}

static void test_rewrap(void **state)
{
    fixture *f = *state;
    uint8_t data[300000];
    uint64_t seed = 11;
    tc_fill(data, sizeof data, &seed);
    const char *docid = "ebcdefghijklmnopqrstuvwxyz";
    assert_int_equal(tc_seal(f->vault, f->ring, docid, data, sizeof data, 0), 0);
    char path[512];
    assert_int_equal(sv_vault_object_path(f->vault, docid, path, sizeof path), 0);
    size_t before_len, after_len;
    uint8_t *before = tc_read_file(path, &before_len);

    sv_keyring *next = tc_ring(0x99);
    assert_int_equal(sv_vault_rewrap(f->vault, next, f->ring, docid), SV_EKEY);
    assert_int_equal(sv_vault_rewrap(f->vault, f->ring, next, docid), 0);
    uint8_t *after = tc_read_file(path, &after_len);
    /* only the header changed: same length, same body bytes */
    assert_int_equal(before_len, after_len);
    size_t body = sizeof data + (sizeof data / SV_VAULT_CHUNK_DEFAULT + 1) * 16;
    assert_memory_equal(before + before_len - body, after + after_len - body, body);
    assert_memory_not_equal(before, after, before_len - body);

    sv_vault_meta meta;
    assert_int_equal(sv_vault_read_meta(f->vault, f->ring, docid, &meta), SV_EKEY);
    assert_non_null(strstr(sv_crypto_last_error(), docid));
    tc_buf out = {0};
    assert_int_equal(sv_vault_open(f->vault, next, docid, tc_buf_sink, &out, &meta,
                                   SV_VAULT_CHECK_CONTENT),
                     0);
    assert_int_equal(out.len, sizeof data);
    assert_memory_equal(out.data, data, sizeof data);
    assert_string_equal(meta.mrn, "40817265");
    assert_int_equal(tc_tmp_entries(f), 0);
    tc_buf_free(&out);
    free(before);
    free(after);
    sv_keyring_destroy(next);
}

/* ------------------------- no plaintext at rest ------------------------- */

static const char *scan_needles[] = {"40817265", "Smith_John_labs.pdf", "Smith_John"};
static int scan_hits;

static int scan_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)ftw;
    if (flag != FTW_F || !S_ISREG(st->st_mode))
        return 0;
    size_t len;
    uint8_t *buf = tc_read_file(path, &len);
    for (size_t i = 0; i < sizeof scan_needles / sizeof scan_needles[0]; i++)
        if (tc_contains_text(buf, len, scan_needles[i])) {
            print_error("plaintext '%s' found in %s\n", scan_needles[i], path);
            scan_hits++;
        }
    free(buf);
    return 0;
}

static void test_no_plaintext_at_rest(void **state)
{
    fixture *f = *state;
    /* the body itself carries the MRN and the name, in ASCII and UTF-16 */
    uint8_t data[20000];
    uint64_t seed = 5;
    tc_fill(data, sizeof data, &seed);
    memcpy(data + 100, "MRN: 40817265 Smith_John_labs.pdf", 33);
    const char *mrn16 = "4\0" "0\0" "8\0" "1\0" "7\0" "2\0" "6\0" "5\0";
    memcpy(data + 9000, mrn16, 16);
    char docid[SV_DOCID_MAX + 1];
    for (int i = 0; i < 5; i++) {
        assert_int_equal(sv_docid_generate(i % 2 ? "site1" : NULL, docid), 0);
        assert_int_equal(tc_seal(f->vault, f->ring, docid, data, sizeof data, i == 0 ? 64 : 0), 0);
    }
    uint8_t blind[SV_BLIND_LEN];
    assert_int_equal(sv_crypto_blind_mrn(f->ring, "40817265", blind), 0);
    char key[400];
    snprintf(key, sizeof key, "%s/scanvault.key", f->dir);
    assert_int_equal(sv_keyring_save(f->ring, key), 0);

    /* the scan can fail: a file with the plaintext is found */
    char probe[400];
    snprintf(probe, sizeof probe, "%s/probe", f->dir);
    int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, mrn16, 16), 16);
    close(fd);
    scan_hits = 0;
    assert_int_equal(nftw(f->dir, scan_one, 16, FTW_PHYS), 0);
    assert_int_equal(scan_hits, 1);
    unlink(probe);

    scan_hits = 0;
    assert_int_equal(nftw(f->dir, scan_one, 16, FTW_PHYS), 0);
    assert_int_equal(scan_hits, 0);
}

/* ------------------------ 100 MB, constant memory ----------------------- */

static size_t stream_bytes(void)
{
    const char *mb = getenv("SV_TEST_STREAM_MB");
    long n = mb != NULL ? strtol(mb, NULL, 10) : 100;
    return (size_t)(n > 0 ? n : 100) << 20;
}

/* Write the deterministic stream of total bytes to fd, then close it. */
static void write_stream(int fd, size_t total)
{
    static uint8_t block[1 << 16];
    uint64_t seed = 42;
    for (size_t done = 0; done < total;) {
        size_t n = total - done < sizeof block ? total - done : sizeof block;
        tc_fill(block, n, &seed);
        for (size_t w = 0; w < n;) {
            ssize_t k = write(fd, block + w, n - w);
            if (k <= 0)
                _exit(1);
            w += (size_t)k;
        }
        done += n;
    }
    close(fd);
}

static long peak_rss_kb(void)
{
    FILE *fp = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (fp != NULL && fgets(line, sizeof line, fp) != NULL)
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
            break;
    if (fp != NULL)
        fclose(fp);
    return kb;
}

/* Reset the peak RSS to the current RSS (Linux >= 4.0). */
static void reset_peak_rss(void)
{
    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0); /* /proc/self/clear_refs is root's otherwise */
    FILE *fp = fopen("/proc/self/clear_refs", "w");
    assert_non_null(fp);
    assert_true(fputs("5", fp) >= 0);
    assert_int_equal(fclose(fp), 0);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

typedef struct hash_sink {
    gcry_md_hd_t md;
    size_t len;
} hash_sink;

static int hash_sink_write(void *ctx, const uint8_t *buf, size_t len)
{
    hash_sink *h = ctx;
    gcry_md_write(h->md, buf, len);
    h->len += len;
    return 0;
}

static void test_big_stream_constant_memory(void **state)
{
    fixture *f = *state;
    size_t total = stream_bytes();
    /* the SHA-256, from a first run of the generator */
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t gen = fork();
    assert_true(gen >= 0);
    if (gen == 0) {
        close(p[0]);
        write_stream(p[1], total);
        _exit(0);
    }
    close(p[1]);
    sv_vault_meta m;
    tc_meta(&m, "fbcdefghijklmnopqrstuvwxyz", NULL, 0);
    uint64_t size = 0;
    assert_int_equal(sv_crypto_sha256_fd(p[0], m.sha256, &size), 0);
    close(p[0]);
    assert_int_equal(size, total);
    m.size = total;
    int st;
    assert_int_equal(waitpid(gen, &st, 0), gen);

    /* seal and open from a pipe in a child that measures its own peak RSS */
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        int q[2];
        if (pipe(q) != 0)
            _exit(2);
        pid_t g = fork();
        if (g == 0) {
            close(q[0]);
            write_stream(q[1], total);
            _exit(0);
        }
        close(q[1]);
        reset_peak_rss();
        long base = peak_rss_kb();
        if (sv_vault_seal_fd(f->vault, f->ring, q[0], &m, NULL) != 0)
            _exit(3);
        hash_sink hs = {NULL, 0};
        if (gcry_md_open(&hs.md, GCRY_MD_SHA256, 0) != 0)
            _exit(4);
        sv_vault_meta got;
        if (sv_vault_open(f->vault, f->ring, m.docid, hash_sink_write, &hs, &got,
                          SV_VAULT_CHECK_CONTENT) != 0)
            _exit(5);
        if (hs.len != total)
            _exit(6);
        long grew = peak_rss_kb() - base;
        fprintf(stderr, "stream of %zu MB: peak RSS grew by %ld kB\n", total >> 20, grew);
        _exit(grew >= 0 && grew < 8 * 1024 ? 0 : 7);
    }
    assert_int_equal(waitpid(child, &st, 0), child);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_int_equal(tc_tmp_entries(f), 0);
}

int main(void)
{
    assert_int_equal(sv_crypto_global_init(), 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_meta_round_trip_and_rules),
        cmocka_unit_test(test_meta_decoder_bounds),
        cmocka_unit_test_setup_teardown(test_round_trips, tc_vault_setup, tc_vault_teardown),
        cmocka_unit_test_setup_teardown(test_read_meta_update_and_checks, tc_vault_setup,
                                        tc_vault_teardown),
        cmocka_unit_test_setup_teardown(test_rewrap, tc_vault_setup, tc_vault_teardown),
        cmocka_unit_test_setup_teardown(test_no_plaintext_at_rest, tc_vault_setup,
                                        tc_vault_teardown),
        cmocka_unit_test_setup_teardown(test_big_stream_constant_memory, tc_vault_setup,
                                        tc_vault_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
