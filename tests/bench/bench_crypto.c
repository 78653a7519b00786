/*
 * bench_crypto.c - seal and open throughput of vault objects against
 * libgcrypt's raw AES-256-GCM, measured in the same run on the same machine.
 * Prints figures; asserts nothing about time.
 *
 *   bench_crypto [MB] [DIR]     (defaults: 256 MB, $TMPDIR or /tmp)
 *
 * Figures (best of 3 runs each, MB = 10^6 bytes):
 *   raw gcm encrypt/decrypt  one nonce, 64 KiB calls over a buffer in cache
 *   file copy                read the input file, write a new file in DIR,
 *                            fsync: the I/O a seal cannot avoid, no crypto
 *   seal                     sv_vault_seal_fd of the input file into a vault
 *                            in DIR (temp file, chunks, fsync, rename)
 *   open                     sv_vault_open of that object, output discarded
 *   open + check             the same, also hashing the body (SHA-256)
 * The input file is in the page cache. Use a DIR on tmpfs (/dev/shm) to see
 * the CPU cost, on the data disk to see what the disk allows.
 */
#include <fcntl.h>
#include <gcrypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sv_crypto.h"

#define PIECE (64u << 10)
#define RUNS 3

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_crypto: %s: %s\n", what, sv_crypto_last_error());
    exit(1);
}

static double raw_gcm(size_t total, int decrypt)
{
    static uint8_t buf[PIECE];
    uint8_t key[32], iv[12] = {0}, tag[16];
    gcry_randomize(key, sizeof key, GCRY_STRONG_RANDOM);
    memset(buf, 0x5a, sizeof buf);
    gcry_cipher_hd_t h;
    if (gcry_cipher_open(&h, GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_GCM, GCRY_CIPHER_SECURE) != 0 ||
        gcry_cipher_setkey(h, key, sizeof key) != 0)
        die("gcm");
    double t0 = now_s();
    gcry_cipher_setiv(h, iv, sizeof iv);
    for (size_t done = 0; done < total; done += PIECE) {
        if (decrypt)
            gcry_cipher_decrypt(h, buf, PIECE, NULL, 0);
        else
            gcry_cipher_encrypt(h, buf, PIECE, NULL, 0);
    }
    gcry_cipher_gettag(h, tag, sizeof tag);
    double t = now_s() - t0;
    gcry_cipher_close(h);
    return t;
}

static double file_copy(const char *in_path, const char *dir)
{
    static uint8_t buf[PIECE];
    char out_path[4200];
    snprintf(out_path, sizeof out_path, "%s/bench-copy", dir);
    double t0 = now_s();
    int in = open(in_path, O_RDONLY);
    int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0)
        die("copy open");
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n)
            die("copy write");
    fsync(out);
    close(out);
    close(in);
    double t = now_s() - t0;
    unlink(out_path);
    return t;
}

static int discard(void *ctx, const uint8_t *buf, size_t len)
{
    (void)ctx;
    (void)buf;
    (void)len;
    return 0;
}

static void report(const char *what, size_t total, double best, double raw)
{
    double mbs = (double)total / 1e6 / best;
    if (raw > 0)
        printf("%-22s %8.0f MB/s  %5.1f%% of raw gcm\n", what, mbs, 100.0 * raw / best);
    else
        printf("%-22s %8.0f MB/s\n", what, mbs);
}

int main(int argc, char **argv)
{
    size_t mb = argc > 1 ? strtoul(argv[1], NULL, 10) : 256;
    const char *tmp = getenv("TMPDIR");
    const char *base = argc > 2 ? argv[2] : (tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    size_t total = mb << 20;
    if (sv_crypto_global_init() != 0)
        die("init");
    char dir[4096], vault_dir[4200], in_path[4200];
    snprintf(dir, sizeof dir, "%s/bench_crypto.XXXXXX", base);
    if (mkdtemp(dir) == NULL)
        die("mkdtemp");
    snprintf(vault_dir, sizeof vault_dir, "%s/vault", dir);
    snprintf(in_path, sizeof in_path, "%s/input", dir);
    sv_keyring *ring = NULL;
    sv_vault *vault = NULL;
    if (sv_keyring_generate(&ring) != 0 || sv_vault_init_dir(vault_dir) != 0 ||
        sv_vault_create(&vault, vault_dir) != 0)
        die("set-up");

    /* the input: random bytes, written once, then in the page cache */
    int in = open(in_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    static uint8_t block[1 << 20];
    for (size_t done = 0; done < total; done += sizeof block) {
        gcry_create_nonce(block, sizeof block);
        if (write(in, block, sizeof block) != (ssize_t)sizeof block)
            die("input write");
    }
    sv_vault_meta m;
    memset(&m, 0, sizeof m);
    m.state = SV_VAULT_REVIEW;
    snprintf(m.reason, sizeof m.reason, "no_mrn");
    snprintf(m.type, sizeof m.type, "other");
    m.size = total;
    lseek(in, 0, SEEK_SET);
    double t0 = now_s();
    if (sv_crypto_sha256_fd(in, m.sha256, NULL) != 0)
        die("sha256");
    double sha = now_s() - t0;

    double best[6] = {1e9, 1e9, 1e9, 1e9, 1e9, 1e9};
    sv_vault_seal_opts opts = {.chunk_size = 0, .replace = true};
    for (int r = 0; r < RUNS; r++) {
        double t;
        if ((t = raw_gcm(total, 0)) < best[0])
            best[0] = t;
        if ((t = raw_gcm(total, 1)) < best[1])
            best[1] = t;
        if ((t = file_copy(in_path, dir)) < best[2])
            best[2] = t;
        sv_docid_generate(NULL, m.docid);
        lseek(in, 0, SEEK_SET);
        t0 = now_s();
        if (sv_vault_seal_fd(vault, ring, in, &m, &opts) != 0)
            die("seal");
        if ((t = now_s() - t0) < best[3])
            best[3] = t;
        t0 = now_s();
        if (sv_vault_open(vault, ring, m.docid, discard, NULL, NULL, 0) != 0)
            die("open");
        if ((t = now_s() - t0) < best[4])
            best[4] = t;
        t0 = now_s();
        if (sv_vault_open(vault, ring, m.docid, discard, NULL, NULL, SV_VAULT_CHECK_CONTENT) != 0)
            die("open + check");
        if ((t = now_s() - t0) < best[5])
            best[5] = t;
    }
    printf("bench_crypto: %zu MiB, chunk %u, dir %s, best of %d\n", mb, SV_VAULT_CHUNK_DEFAULT,
           base, RUNS);
    report("raw gcm encrypt", total, best[0], 0);
    report("raw gcm decrypt", total, best[1], 0);
    report("sha256 (intake hash)", total, sha, 0);
    report("file copy (no crypto)", total, best[2], 0);
    report("seal", total, best[3], best[0]);
    report("open", total, best[4], best[1]);
    report("open + check", total, best[5], best[1]);
    printf("seal vs file copy: %.1f%%\n", 100.0 * best[2] / best[3]);

    close(in);
    sv_vault_destroy(vault);
    sv_keyring_destroy(ring);
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_crypto: could not remove %s\n", dir);
    return 0;
}
