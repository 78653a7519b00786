/*
 * bench_socket.c - what does the service's socket add to a `find`?
 *
 * On a data directory filled by `sv_make_data --index-only` (index entries
 * without vault objects: find reads only the index), time, for the same
 * random patients, interleaved:
 *   direct    sv_store_find() in this process (what direct mode runs)
 *   socket    sv_client_find() on one kept connection to an sv_server
 *             running in this process (its own threads), which runs the
 *             same sv_store_find() on a caller's view of the same store
 *   connect   sv_client_connect() (connect + HELLO) + sv_client_find() +
 *             hang up: what one `scanvault find` pays, less exec
 * Each find appends one audit line (fdatasync'ed) on every path, so the
 * difference is the socket's own cost: printed per query (socket less
 * direct for the same patient, the three run one after the other in a
 * rotating order), median, p99 and max in microseconds. Asserts nothing about time, but checks that every path
 * returns the same number of documents for each patient.
 *
 *   bench_socket --data DIR --manifest FILE [--queries Q]
 *
 * tests/bench/bench_socket.sh makes the data directory and runs this.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sv_intake.h"

#define MRN_MAX 32

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report(const char *what, double *t, size_t n)
{
    qsort(t, n, sizeof *t, by_value);
    size_t p99 = n * 99 / 100;
    printf("  %-9s median %8.1f us   p99 %8.1f us   max %8.1f us\n", what, t[n / 2],
           t[p99 < n ? p99 : n - 1], t[n - 1]);
}

/* The MRN of each filed document in the manifest (a patient with more
 * documents comes up more often, as at a records desk). */
static char (*read_mrns(const char *path, size_t *n))[MRN_MAX]
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    size_t cap = 1024;
    char(*mrns)[MRN_MAX] = malloc(cap * sizeof *mrns);
    char line[512];
    *n = 0;
    while (mrns != NULL && fgets(line, sizeof line, f) != NULL) {
        char docid[80], state[16], mrn[MRN_MAX];
        if (sscanf(line, "%79s %15s %31s", docid, state, mrn) != 3 || strcmp(state, "filed"))
            continue;
        if (*n == cap) {
            cap *= 2;
            char(*grown)[MRN_MAX] = realloc(mrns, cap * sizeof *mrns);
            if (grown == NULL) {
                free(mrns);
                mrns = NULL;
                break;
            }
            mrns = grown;
        }
        memcpy(mrns[(*n)++], mrn, MRN_MAX);
    }
    fclose(f);
    return mrns;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {{"data", required_argument, NULL, 'd'},
                                             {"manifest", required_argument, NULL, 'm'},
                                             {"queries", required_argument, NULL, 'q'},
                                             {NULL, 0, NULL, 0}};
    const char *data_dir = NULL, *manifest = NULL;
    size_t queries = 5000;
    int opt;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (opt == 'd')
            data_dir = optarg;
        else if (opt == 'm')
            manifest = optarg;
        else if (opt == 'q')
            queries = strtoul(optarg, NULL, 10);
        else
            return 2;
    }
    if (data_dir == NULL || manifest == NULL || queries < 100) {
        fprintf(stderr, "usage: bench_socket --data DIR --manifest FILE [--queries Q >= 100]\n");
        return 2;
    }
    size_t n_mrns = 0;
    char(*mrns)[MRN_MAX] = read_mrns(manifest, &n_mrns);
    if (mrns == NULL || n_mrns == 0) {
        fprintf(stderr, "bench_socket: no filed documents in %s\n", manifest);
        return 3;
    }
    sv_ocr_rules *rules = NULL;
    char err[256];
    sv_store *store = NULL;
    sv_server *server = NULL;
    sv_client *client = NULL;
    sv_intake_settings settings;
    sv_intake_settings_defaults(&settings);
    snprintf(settings.access_socket, sizeof settings.access_socket, "/tmp/sv-bench-%d.sock",
             (int)getpid());
    /* root and this process's uid are admin; no group is looked up. */
    settings.access_socket_group[0] = '\0';
    settings.access_admin_groups[0] = '\0';
    settings.access_clerk_groups[0] = '\0';
    settings.access_reviewer_groups[0] = '\0';
    sv_store_options so = {.data_dir = data_dir};
    if (sv_crypto_global_init() != 0 || sv_ocr_rules_create(&rules) != 0 ||
        sv_ocr_rules_finish(rules, err, sizeof err) != 0 || sv_store_create(&store, &so) != 0 ||
        sv_server_create(&server, &settings) != 0) {
        fprintf(stderr, "bench_socket: %s\n", sv_intake_last_error());
        return 3;
    }
    sv_server_attach(server, store, rules, &settings);
    if (sv_client_connect(&client, settings.access_socket, NULL) != 0) {
        fprintf(stderr, "bench_socket: %s\n", sv_intake_last_error());
        return 3;
    }
    sv_index_stats st;
    sv_index_get_stats(sv_store_index(store), &st);
    double *t_direct = calloc(queries, sizeof(double));
    double *t_socket = calloc(queries, sizeof(double));
    double *t_connect = calloc(queries, sizeof(double));
    /* Each query's socket time less its direct time: the pairs share the
     * patient and the moment, so the disk's noise (the audit's fdatasync)
     * cancels better than in a difference of medians. */
    double *d_socket = calloc(queries, sizeof(double)), *d_connect = calloc(queries, sizeof(double));
    if (t_direct == NULL || t_socket == NULL || t_connect == NULL || d_socket == NULL ||
        d_connect == NULL) {
        fprintf(stderr, "bench_socket: out of memory\n");
        return 3;
    }
    uint64_t rng = 0x9e3779b97f4a7c15u;
    int rc = 0;
    size_t warmup = 200;
    for (size_t i = 0; i < queries + warmup && rc == 0; i++) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        const char *mrn = mrns[rng % n_mrns];
        sv_store_doc *a = NULL, *b = NULL, *c = NULL;
        size_t na = 0, nb = 0, nc = 0;
        /* The three in turn, in a rotating order: whichever runs first
         * meets this patient's index pages cold. */
        double t[3] = {0};
        for (size_t k = 0; k < 3 && rc == 0; k++) {
            size_t which = (i + k) % 3;
            double start = now_us();
            if (which == 0) {
                rc = sv_store_find(store, rules, mrn, NULL, &a, &na);
            } else if (which == 1) {
                rc = sv_client_find(client, mrn, NULL, &b, &nb);
            } else {
                sv_client *once = NULL;
                if ((rc = sv_client_connect(&once, settings.access_socket, NULL)) == 0)
                    rc = sv_client_find(once, mrn, NULL, &c, &nc);
                sv_client_destroy(once);
            }
            t[which] = now_us() - start;
        }
        if (rc == 0 && (na != nb || na != nc)) {
            fprintf(stderr, "bench_socket: %zu documents direct, %zu and %zu by the socket\n",
                    na, nb, nc);
            rc = SV_EINDEX;
        }
        free(a), free(b), free(c);
        if (i >= warmup) {
            t_direct[i - warmup] = t[0];
            t_socket[i - warmup] = t[1];
            t_connect[i - warmup] = t[2];
            d_socket[i - warmup] = t[1] - t[0];
            d_connect[i - warmup] = t[2] - t[0];
        }
    }
    if (rc != 0) {
        fprintf(stderr, "bench_socket: %s\n", sv_intake_last_error());
    } else {
        printf("find at %llu documents (%zu filed), %zu queries each, warm cache:\n",
               (unsigned long long)st.docs, n_mrns, queries);
        report("direct", t_direct, queries);
        report("socket", t_socket, queries);
        report("connect", t_connect, queries);
        printf("  the socket adds, per query (socket less direct, same patient):\n");
        report("kept", d_socket, queries);
        report("new conn", d_connect, queries);
    }
    free(t_direct), free(t_socket), free(t_connect), free(d_socket), free(d_connect);
    sv_client_destroy(client);
    sv_server_destroy(server);
    sv_store_destroy(store);
    sv_ocr_rules_destroy(rules);
    free(mrns);
    return rc == 0 ? 0 : 1;
}
