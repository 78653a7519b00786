/*
 * bench_find.c - how fast is sv_index_find() on a large index?
 *
 * For each N given (default 10,000 and 1,000,000): build an index of N
 * documents directly (no OCR, no vault) with sv_index_bulk_load(), spread
 * over patients with 1 to 50 documents each (uniformly random per patient),
 * 2% of them in review; then time sv_index_find() for random patients with
 * a warm cache: median, p99 and max in microseconds, unfiltered and with a
 * type + one-year filter. Prints figures and asserts nothing about time; it
 * does check every answer's count, so a fast wrong answer fails.
 *
 *   bench_find [--queries Q] [--dir DIR] [--keep] [N ...]
 *
 * The environment goes to DIR (default: bench-data in the build directory,
 * on disk, not tmpfs) and is deleted afterwards unless --keep.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sv_index.h"

#ifndef SV_BENCH_DIR
#define SV_BENCH_DIR "bench-data"
#endif

/* Documents per bulk load (one transaction each): bounds the memory. */
#define CHUNK 1000000u
#define MAX_PER_MRN 50
#define TEN_YEARS (10 * 365 * 86400)
#define BASE_TIME 1500000000

static const char *types[] = {"lab_report", "prescription", "radiology_report",
                              "discharge_summary", "referral", "other"};

typedef struct patient {
    uint8_t blind[SV_INDEX_BLIND_LEN];
    uint8_t filed;                     /* documents expected from find */
    uint8_t filed_of_type;             /* ... of type "lab_report" */
} patient;

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rng(void)
{
    /* xorshift64*: fast and good enough for spreading keys. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1du;
}

static void rng_bytes(uint8_t *out, size_t len)
{
    for (size_t i = 0; i < len; i += 8) {
        uint64_t r = rng();
        memcpy(out + i, &r, len - i < 8 ? len - i : 8);
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void remove_env(const char *dir)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/data.mdb", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/lock.mdb", dir);
    unlink(p);
    rmdir(dir);
}

/* Fill the index with n documents; returns the patients (caller frees). */
static patient *populate(sv_index *ix, size_t n, size_t *n_patients, double *load_s)
{
    size_t cap = n / 10 + 16, np = 0, made = 0, left_of_patient = 0;
    patient *pts = calloc(cap, sizeof *pts);
    sv_index_doc *docs = calloc(CHUNK, sizeof *docs);
    char (*ids)[24] = calloc(CHUNK, sizeof *ids);

    *load_s = 0;
    if (pts == NULL || docs == NULL || ids == NULL) {
        fprintf(stderr, "bench_find: out of memory\n");
        exit(1);
    }
    while (made < n) {
        size_t k = n - made < CHUNK ? n - made : CHUNK;
        for (size_t i = 0; i < k; i++) {
            sv_index_record *r = &docs[i].rec;
            if (left_of_patient == 0) {
                if (np == cap) {
                    cap *= 2;
                    pts = realloc(pts, cap * sizeof *pts);
                    if (pts == NULL)
                        exit(1);
                }
                memset(&pts[np], 0, sizeof pts[np]);
                rng_bytes(pts[np].blind, SV_INDEX_BLIND_LEN);
                np++;
                left_of_patient = 1 + rng() % MAX_PER_MRN;
            }
            left_of_patient--;
            snprintf(ids[i], sizeof ids[i], "b%012zu", made + i);
            docs[i].docid = ids[i];
            memset(r, 0, sizeof *r);
            snprintf(r->type, sizeof r->type, "%s", types[rng() % 6]);
            r->intake_time = BASE_TIME + (int64_t)(rng() % TEN_YEARS);
            r->pages = 1 + (uint32_t)(rng() % 8);
            r->size = 20000 + rng() % 2000000;
            rng_bytes(r->content_id, SV_INDEX_CONTENT_ID_LEN);
            memcpy(r->blind_mrn, pts[np - 1].blind, SV_INDEX_BLIND_LEN);
            if (rng() % 50 == 0) { /* 2% wait for review: never listed by find */
                r->state = SV_INDEX_REVIEW;
                snprintf(r->reason, sizeof r->reason, "low_confidence");
            } else {
                r->state = SV_INDEX_FILED;
                pts[np - 1].filed++;
                if (strcmp(r->type, "lab_report") == 0 &&
                    r->intake_time >= BASE_TIME + TEN_YEARS - 365 * 86400)
                    pts[np - 1].filed_of_type++;
            }
        }
        double t0 = now_s();
        int rc = sv_index_bulk_load(ix, docs, k);
        *load_s += now_s() - t0;
        if (rc != 0) {
            fprintf(stderr, "bench_find: bulk load: %s\n", sv_index_last_error());
            exit(1);
        }
        made += k;
    }
    free(ids);
    free(docs);
    *n_patients = np;
    return pts;
}

/* Time q finds of random patients; every count is checked. */
static void time_finds(sv_index *ix, const patient *pts, size_t np, size_t q, bool filtered,
                       uint64_t *ns, double *mean_hits)
{
    sv_index_filter f = {"lab_report", BASE_TIME + TEN_YEARS - 365 * 86400, 0};
    sv_index_hit hits[MAX_PER_MRN];
    size_t total, sum = 0;

    for (size_t i = 0; i < q; i++) {
        const patient *p = &pts[rng() % np];
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        int rc = sv_index_find(ix, p->blind, filtered ? &f : NULL, hits, MAX_PER_MRN, &total);
        clock_gettime(CLOCK_MONOTONIC, &b);
        if (rc != 0 || total != (filtered ? p->filed_of_type : p->filed)) {
            fprintf(stderr, "bench_find: wrong answer (rc %d, %zu documents, expected %u)\n",
                    rc, total, filtered ? p->filed_of_type : p->filed);
            exit(1);
        }
        sum += total;
        ns[i] = (uint64_t)((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec));
    }
    qsort(ns, q, sizeof ns[0], cmp_u64);
    *mean_hits = (double)sum / (double)q;
}

static void run(const char *dir, size_t n, size_t q, bool keep)
{
    static const uint8_t key_id[] = "bench-key";
    sv_index_options o = {.path = dir, .create = true, .key_id = key_id, .key_id_len = 9};
    sv_index_stats st;
    sv_index *ix = NULL;
    struct stat sb;
    char data[4096];
    double load_s, mean_hits;
    size_t np;
    uint64_t *ns = malloc(q * sizeof *ns);

    remove_env(dir);
    if (ns == NULL || sv_index_create(&ix, &o) != 0) {
        fprintf(stderr, "bench_find: open %s: %s\n", dir, sv_index_last_error());
        exit(1);
    }
    double t0 = now_s();
    patient *pts = populate(ix, n, &np, &load_s);
    double total_s = now_s() - t0;
    snprintf(data, sizeof data, "%s/data.mdb", dir);
    if (stat(data, &sb) != 0 || sv_index_get_stats(ix, &st) != 0) {
        fprintf(stderr, "bench_find: stat: %s\n", strerror(errno));
        exit(1);
    }
    printf("N=%zu documents, %zu patients (1..%d each), %" PRIu64 " filed\n", n, np,
           MAX_PER_MRN, st.by_state[SV_INDEX_FILED]);
    printf("  populate: %.2f s in bulk loads (%.0f docs/s), %.2f s with generation\n", load_s,
           (double)n / load_s, total_s);
    printf("  data.mdb: %.1f MiB (%.0f bytes/doc), map %.0f MiB\n",
           (double)sb.st_size / 1048576.0, (double)sb.st_size / (double)n,
           (double)st.map_size / 1048576.0);
    for (int filtered = 0; filtered < 2; filtered++) {
        time_finds(ix, pts, np, q, filtered, ns, &mean_hits); /* warm the cache */
        time_finds(ix, pts, np, q, filtered, ns, &mean_hits);
        printf("  find%s: %zu queries, %.1f hits avg: median %.2f us, p99 %.2f us, max %.1f us\n",
               filtered ? " lab_report, last year" : " all", q, mean_hits,
               (double)ns[q / 2] / 1000.0, (double)ns[q * 99 / 100] / 1000.0,
               (double)ns[q - 1] / 1000.0);
    }
    fflush(stdout);
    sv_index_destroy(ix);
    if (!keep)
        remove_env(dir);
    free(pts);
    free(ns);
}

static int parse_size(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v == 0 || v > 1000000000ull)
        return -1;
    *out = (size_t)v;
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir = SV_BENCH_DIR;
    size_t q = 100000, sizes[16], n_sizes = 0;
    bool keep = false;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--queries") == 0 && i + 1 < argc) {
            if (parse_size(argv[++i], &q) != 0)
                goto usage;
        } else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
            dir = argv[++i];
        } else if (strcmp(argv[i], "--keep") == 0) {
            keep = true;
        } else if (n_sizes < 16 && parse_size(argv[i], &sizes[n_sizes]) == 0) {
            n_sizes++;
        } else {
            goto usage;
        }
    }
    if (n_sizes == 0) {
        sizes[n_sizes++] = 10000;
        sizes[n_sizes++] = 1000000;
    }
    printf("bench_find: index in %s, %zu timed queries per series (after as many to warm)\n",
           dir, q);
    for (size_t i = 0; i < n_sizes; i++)
        run(dir, sizes[i], q, keep);
    return 0;
usage:
    fprintf(stderr, "usage: bench_find [--queries Q] [--dir DIR] [--keep] [N ...]\n");
    return 2;
}
