/*
 * bench_crypto.c - seal and open throughput of vault objects against
 * libgcrypt's raw AES-256-GCM, measured in the same run on the same machine.
 * Prints figures; asserts nothing about time.
 *
 *   bench_crypto [MB] [DIR]     (defaults: 256 MB, $TMPDIR or /tmp)
 *
 * Figures (best of 3 runs each, MB = 10^6 bytes):
 *   raw gcm encrypt/decrypt  libgcrypt AES-256-GCM alone: one nonce, 64 KiB
 *                            calls over one buffer in cache (no I/O)
 *   raw gcm, same input      the same, reading the input from memory (a
 *                            buffer of MB bytes) into one 64 KiB buffer
 *   seal / open in memory    the object format alone: sv_vault_seal_stream
 *                            of the input in memory, sv_vault_open_stream of
 *                            the object in memory, records and plaintext
 *                            discarded as raw GCM discards its output
 *   ... 1 MiB documents      the same for MB objects of 1 MiB each (a scan's
 *                            size; in cache, as a scan just read is): each a
 *                            whole object with its own data key and header
 *   file copy, no crypto     read the input file, write a new file in DIR,
 *                            fsync: the I/O a seal cannot avoid
 *   raw gcm + same I/O       the same copy with raw GCM on the way (encrypt),
 *                            or reading the object file and raw-decrypting it
 *   seal                     sv_vault_seal_fd of the input file into a vault
 *                            in DIR (temp file, chunks, fsync, rename)
 *   open                     sv_vault_open of that object, output discarded
 *   open + check             the same, also hashing the body (SHA-256)
 * seal and open are given as a share of raw GCM alone and of raw GCM with
 * the same I/O (the second is the cost of the format itself).
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
#define RUNS 5

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

/* Raw GCM over total bytes: in place in one 64 KiB buffer when input is
 * NULL, else from input (total bytes in memory) into that buffer. */
static double raw_gcm(size_t total, int decrypt, const uint8_t *input)
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
        const uint8_t *in = input != NULL ? input + done : NULL;
        size_t in_len = input != NULL ? PIECE : 0;
        if (decrypt)
            gcry_cipher_decrypt(h, buf, PIECE, in, in_len);
        else
            gcry_cipher_encrypt(h, buf, PIECE, in, in_len);
    }
    gcry_cipher_gettag(h, tag, sizeof tag);
    double t = now_s() - t0;
    gcry_cipher_close(h);
    return t;
}

/* Read in_path in 64 KiB pieces and write them to a new file in dir, then
 * fsync; with crypt, encrypt each piece on the way (one nonce, one tag at
 * the end: raw GCM with the same I/O as a seal). */
static double file_pass(const char *in_path, const char *dir, int crypt)
{
    static uint8_t buf[PIECE];
    char out_path[4200];
    snprintf(out_path, sizeof out_path, "%s/bench-copy", dir);
    gcry_cipher_hd_t h = NULL;
    uint8_t key[32], iv[12] = {0}, tag[16];
    gcry_randomize(key, sizeof key, GCRY_STRONG_RANDOM);
    if (crypt && (gcry_cipher_open(&h, GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_GCM,
                                   GCRY_CIPHER_SECURE) != 0 ||
                  gcry_cipher_setkey(h, key, sizeof key) != 0))
        die("gcm");
    double t0 = now_s();
    int in = open(in_path, O_RDONLY);
    int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0)
        die("copy open");
    if (h != NULL)
        gcry_cipher_setiv(h, iv, sizeof iv);
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0) {
        if (h != NULL)
            gcry_cipher_encrypt(h, buf, (size_t)n, NULL, 0);
        if (write(out, buf, (size_t)n) != n)
            die("copy write");
    }
    if (h != NULL)
        gcry_cipher_gettag(h, tag, sizeof tag);
    fsync(out);
    close(out);
    close(in);
    double t = now_s() - t0;
    if (h != NULL)
        gcry_cipher_close(h);
    unlink(out_path);
    return t;
}

/* Read path in 64 KiB pieces and decrypt them (raw GCM with the same I/O
 * as an open). */
static double file_decrypt(const char *path)
{
    static uint8_t buf[PIECE];
    uint8_t key[32], iv[12] = {0}, tag[16];
    gcry_randomize(key, sizeof key, GCRY_STRONG_RANDOM);
    gcry_cipher_hd_t h;
    if (gcry_cipher_open(&h, GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_GCM, GCRY_CIPHER_SECURE) != 0 ||
        gcry_cipher_setkey(h, key, sizeof key) != 0)
        die("gcm");
    double t0 = now_s();
    int in = open(path, O_RDONLY);
    if (in < 0)
        die("open object");
    gcry_cipher_setiv(h, iv, sizeof iv);
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        gcry_cipher_decrypt(h, buf, (size_t)n, NULL, 0);
    gcry_cipher_gettag(h, tag, sizeof tag);
    close(in);
    double t = now_s() - t0;
    gcry_cipher_close(h);
    return t;
}

static int discard(void *ctx, const uint8_t *buf, size_t len)
{
    (void)ctx;
    (void)buf;
    (void)len;
    return 0;
}

/* An object in memory: a sink into a buffer allocated up front. */
typedef struct mem_object {
    uint8_t *data;
    size_t len, cap;
} mem_object;

static int mem_sink(void *ctx, const uint8_t *buf, size_t len)
{
    mem_object *m = ctx;
    if (len > m->cap - m->len)
        return SV_ELIMIT;
    memcpy(m->data + m->len, buf, len);
    m->len += len;
    return 0;
}

static double seal_in_memory(const sv_keyring *ring, const sv_vault_meta *m,
                             const uint8_t *input, sv_vault_sink sink, void *ctx)
{
    sv_vault_memory in = {.data = input, .len = m->size};
    double t0 = now_s();
    if (sv_vault_seal_stream(ring, m, 0, sv_vault_source_memory, &in, sink, ctx) != 0)
        die("seal in memory");
    return now_s() - t0;
}

static double open_in_memory(const sv_keyring *ring, const mem_object *obj, const char *docid)
{
    sv_vault_memory in = {.data = obj->data, .len = obj->len};
    double t0 = now_s();
    if (sv_vault_open_stream(ring, docid, sv_vault_source_memory, &in, discard, NULL, NULL, 0) !=
        0)
        die("open in memory");
    return now_s() - t0;
}

#define DOC_SIZE (1u << 20)

/* Seal the first DOC_SIZE bytes of input as total / DOC_SIZE objects. */
static double seal_documents(const sv_keyring *ring, const sv_vault_meta *m,
                             const uint8_t *input, size_t total)
{
    sv_vault_meta doc = *m;
    doc.size = DOC_SIZE;
    double t = 0;
    for (size_t done = 0; done < total; done += DOC_SIZE)
        t += seal_in_memory(ring, &doc, input, discard, NULL);
    return t;
}

/* Open one object of DOC_SIZE bytes total / DOC_SIZE times. */
static double open_documents(const sv_keyring *ring, const sv_vault_meta *m,
                             const uint8_t *input, size_t total)
{
    sv_vault_meta doc = *m;
    doc.size = DOC_SIZE;
    static uint8_t room[DOC_SIZE + (DOC_SIZE / SV_VAULT_CHUNK_DEFAULT + 1) * 16 + 4096];
    mem_object obj = {.data = room, .cap = sizeof room};
    seal_in_memory(ring, &doc, input, mem_sink, &obj);
    double t = 0;
    for (size_t done = 0; done < total; done += DOC_SIZE)
        t += open_in_memory(ring, &obj, doc.docid);
    return t;
}

static void report(const char *what, size_t total, double best, double raw, double other,
                   const char *other_name)
{
    printf("%-26s %6.0f MB/s", what, (double)total / 1e6 / best);
    if (raw > 0)
        printf("  %5.1f%% of raw gcm, %5.1f%% of raw gcm %s", 100.0 * raw / best,
               100.0 * other / best, other_name);
    putchar('\n');
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

    /* the same input in memory, and room for its object */
    uint8_t *input = malloc(total);
    mem_object obj = {.cap = total + (total / SV_VAULT_CHUNK_DEFAULT + 1) * 16 + 4096};
    obj.data = malloc(obj.cap);
    if (input == NULL || obj.data == NULL || pread(in, input, total, 0) != (ssize_t)total)
        die("input in memory");

    enum { RAW_ENC, RAW_DEC, RAW_ENC_IN, RAW_DEC_IN, MEM_SEAL, MEM_OPEN, DOC_SEAL, DOC_OPEN,
           COPY, IO_ENC, IO_DEC, SEAL, OPEN, CHECK, N_FIGURES };
    double best[N_FIGURES];
    for (int i = 0; i < N_FIGURES; i++)
        best[i] = 1e9;
    char object[4200];
    sv_vault_seal_opts opts = {.chunk_size = 0, .replace = true};
    for (int r = 0; r < RUNS; r++) {
        double t[N_FIGURES];
        t[RAW_ENC] = raw_gcm(total, 0, NULL);
        t[RAW_DEC] = raw_gcm(total, 1, NULL);
        t[RAW_ENC_IN] = raw_gcm(total, 0, input);
        sv_docid_generate(NULL, m.docid);
        t[MEM_SEAL] = seal_in_memory(ring, &m, input, discard, NULL);
        obj.len = 0;
        seal_in_memory(ring, &m, input, mem_sink, &obj);
        t[MEM_OPEN] = open_in_memory(ring, &obj, m.docid);
        t[RAW_DEC_IN] = raw_gcm(total, 1, obj.data);
        t[DOC_SEAL] = seal_documents(ring, &m, input, total);
        t[DOC_OPEN] = open_documents(ring, &m, input, total);
        t[COPY] = file_pass(in_path, dir, 0);
        t[IO_ENC] = file_pass(in_path, dir, 1);
        sv_docid_generate(NULL, m.docid);
        lseek(in, 0, SEEK_SET);
        t0 = now_s();
        if (sv_vault_seal_fd(vault, ring, in, &m, &opts) != 0)
            die("seal");
        t[SEAL] = now_s() - t0;
        t0 = now_s();
        if (sv_vault_open(vault, ring, m.docid, discard, NULL, NULL, 0) != 0)
            die("open");
        t[OPEN] = now_s() - t0;
        t0 = now_s();
        if (sv_vault_open(vault, ring, m.docid, discard, NULL, NULL, SV_VAULT_CHECK_CONTENT) != 0)
            die("open + check");
        t[CHECK] = now_s() - t0;
        sv_vault_object_path(vault, m.docid, object, sizeof object);
        t[IO_DEC] = file_decrypt(object);
        for (int i = 0; i < N_FIGURES; i++)
            if (t[i] < best[i])
                best[i] = t[i];
    }
    printf("bench_crypto: %zu MiB, chunk %u, dir %s, best of %d\n", mb, SV_VAULT_CHUNK_DEFAULT,
           base, RUNS);
    printf("in memory (the format alone):\n");
    report("raw gcm encrypt", total, best[RAW_ENC], 0, 0, NULL);
    report("raw gcm decrypt", total, best[RAW_DEC], 0, 0, NULL);
    report("raw gcm encrypt, same input", total, best[RAW_ENC_IN], 0, 0, NULL);
    report("raw gcm decrypt, same input", total, best[RAW_DEC_IN], 0, 0, NULL);
    report("seal in memory", total, best[MEM_SEAL], best[RAW_ENC], best[RAW_ENC_IN],
           "on the same input");
    report("open in memory", total, best[MEM_OPEN], best[RAW_DEC], best[RAW_DEC_IN],
           "on the same input");
    report("seal in memory, 1 MiB docs", total, best[DOC_SEAL], best[RAW_ENC], best[RAW_ENC_IN],
           "on the same input");
    report("open in memory, 1 MiB docs", total, best[DOC_OPEN], best[RAW_DEC], best[RAW_DEC_IN],
           "on the same input");
    printf("through files in %s:\n", base);
    report("sha256 (intake hash)", total, sha, 0, 0, NULL);
    report("file copy, no crypto", total, best[COPY], 0, 0, NULL);
    report("raw gcm encrypt + same I/O", total, best[IO_ENC], 0, 0, NULL);
    report("raw gcm decrypt + same I/O", total, best[IO_DEC], 0, 0, NULL);
    report("seal", total, best[SEAL], best[RAW_ENC], best[IO_ENC], "+ same I/O");
    report("open", total, best[OPEN], best[RAW_DEC], best[IO_DEC], "+ same I/O");
    report("open + check", total, best[CHECK], best[RAW_DEC], best[IO_DEC], "+ same I/O");

    free(input);
    free(obj.data);
    close(in);
    sv_vault_destroy(vault);
    sv_keyring_destroy(ring);
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_crypto: could not remove %s\n", dir);
    return 0;
}
