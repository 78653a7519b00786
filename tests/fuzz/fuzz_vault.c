/*
 * fuzz_vault.c - libFuzzer harness for the vault object parser and the
 * sealed metadata record decoder, the two parsers of stored bytes.
 *
 * Each input is tried three ways:
 *   1. as a whole vault object, opened with a fixed fuzzing key
 *      (sv_vault_open_fd: header parse, key id, unwrap, header MAC,
 *      metadata, chunk framing), expected docid unknown;
 *   2. the same with the metadata-only read;
 *   3. as a metadata record (sv_vault_meta_decode), which in a real object
 *      is reached only after authentication, so the fuzzer could not get
 *      there through 1.
 * The seeds in corpus/vault/ are valid objects under the fuzzing key (so
 * mutations start from the deep paths) and valid metadata records.
 *
 * To rewrite the seeds: SV_FUZZ_VAULT_SEEDS=tests/fuzz/corpus/vault
 * build/tests/fuzz_vault_replay /dev/null   (or the libFuzzer binary).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sv_crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sv_keyring *ring;
static int memfd = -1;

static void write_seed(const char *dir, const char *name, const uint8_t *buf, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    if (fp == NULL || fwrite(buf, 1, len, fp) != len || fclose(fp) != 0) {
        perror(path);
        exit(1);
    }
}

/* Seal size bytes as docid with chunk size chunk into vault_dir, then copy
 * the object into the seed directory. */
static void seed_object(sv_vault *vault, const char *seeds, const char *docid, size_t size,
                        uint32_t chunk, sv_vault_state state)
{
    uint8_t *body = malloc(size + 1);
    for (size_t i = 0; i < size; i++)
        body[i] = (uint8_t)(i * 7 + 1);
    sv_vault_meta m;
    memset(&m, 0, sizeof m);
    snprintf(m.docid, sizeof m.docid, "%s", docid);
    m.state = state;
    if (state == SV_VAULT_FILED)
        snprintf(m.mrn, sizeof m.mrn, "1234567");
    else
        snprintf(m.reason, sizeof m.reason, "no_mrn");
    snprintf(m.type, sizeof m.type, "referral");
    snprintf(m.original_name, sizeof m.original_name, "scan_0001.pdf");
    snprintf(m.ocr_summary, sizeof m.ocr_summary, "two pages");
    m.intake_time = 1700000000;
    m.pages = 2;
    m.size = size;
    int in = memfd_create("seed", 0);
    if (write(in, body, size) != (ssize_t)size || lseek(in, 0, SEEK_SET) != 0)
        exit(1);
    sv_crypto_sha256_fd(in, m.sha256, NULL);
    lseek(in, 0, SEEK_SET);
    sv_vault_seal_opts opts = {.chunk_size = chunk, .replace = true};
    if (sv_vault_seal_fd(vault, ring, in, &m, &opts) != 0) {
        fprintf(stderr, "seed %s: %s\n", docid, sv_crypto_last_error());
        exit(1);
    }
    close(in);
    char path[4096], name[128];
    sv_vault_object_path(vault, docid, path, sizeof path);
    int fd = open(path, O_RDONLY);
    uint8_t *obj = malloc(size * 2 + 65536);
    ssize_t n = read(fd, obj, size * 2 + 65536);
    close(fd);
    snprintf(name, sizeof name, "object-%zu-%u", size, chunk);
    write_seed(seeds, name, obj, (size_t)n);
    uint8_t rec[SV_META_RECORD_MAX];
    size_t len = 0;
    sv_vault_meta_encode(&m, rec, sizeof rec, &len);
    snprintf(name, sizeof name, "meta-%s", sv_vault_state_name(state));
    write_seed(seeds, name, rec, len);
    free(obj);
    free(body);
}

static void write_seeds(const char *seeds)
{
    char vault_dir[] = "/tmp/fuzz_vault_seeds.XXXXXX";
    if (mkdtemp(vault_dir) == NULL || sv_vault_init_dir(vault_dir) != 0)
        exit(1);
    sv_vault *vault = NULL;
    if (sv_vault_create(&vault, vault_dir) != 0)
        exit(1);
    seed_object(vault, seeds, "abcdefghijklmnopqrstuvwxyz", 0, 64, SV_VAULT_REVIEW);
    seed_object(vault, seeds, "site1-bbcdefghijklmnopqrstuvwxyz", 200, 64, SV_VAULT_FILED);
    seed_object(vault, seeds, "cbcdefghijklmnopqrstuvwxyz", 1000, 256, SV_VAULT_QUARANTINED);
    sv_vault_destroy(vault);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", vault_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", vault_dir);
    fprintf(stderr, "seeds written to %s\n", seeds);
    exit(0);
}

static void init_once(void)
{
    if (ring != NULL)
        return;
    /* A fixed key, so seeds made once stay valid objects. */
    uint8_t key[SV_KEY_LEN];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)(0xa0 + i);
    if (sv_crypto_global_init() != 0 || sv_keyring_from_bytes(&ring, key) != 0)
        abort();
    memfd = memfd_create("fuzz_vault", MFD_CLOEXEC);
    if (memfd < 0)
        abort();
    const char *seeds = getenv("SV_FUZZ_VAULT_SEEDS");
    if (seeds != NULL && seeds[0] != '\0')
        write_seeds(seeds);
}

static int discard(void *ctx, const uint8_t *buf, size_t len)
{
    size_t *total = ctx;
    /* touch every byte, so a read past what was authenticated would show */
    uint8_t x = 0;
    for (size_t i = 0; i < len; i++)
        x ^= buf[i];
    *total += len + (x & 0);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_once();
    if (ftruncate(memfd, 0) != 0 || pwrite(memfd, data, size, 0) != (ssize_t)size)
        abort();
    sv_vault_meta meta;
    size_t total = 0;
    lseek(memfd, 0, SEEK_SET);
    if (sv_vault_open_fd(ring, memfd, NULL, discard, &total, &meta, SV_VAULT_CHECK_CONTENT) == 0 &&
        total != meta.size)
        abort();
    lseek(memfd, 0, SEEK_SET);
    sv_vault_read_meta_fd(ring, memfd, NULL, &meta);
    if (sv_vault_meta_decode(data, size, &meta) == 0) {
        /* what decodes must encode to the same bytes unless it had
         * ancillary fields this version skips */
        uint8_t again[SV_META_RECORD_MAX];
        size_t len = 0;
        if (sv_vault_meta_encode(&meta, again, sizeof again, &len) != 0)
            abort();
        if (len > size)
            abort();
    }
    return 0;
}
