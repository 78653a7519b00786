/*
 * make_data.c - fill a data directory with synthetic documents without OCR,
 * for the tests and benchmarks of the admin tools (review, reindex, verify,
 * rotate-key, export), which need thousands of real vault objects and index
 * entries but not the minutes of OCR that real scans would cost.
 *
 *   sv_make_data --data DIR --count N [--seed S] [--patients P]
 *                [--review PCT] [--quarantine PCT] [--size BYTES]
 *                [--manifest FILE] [--index-only]
 *
 * DIR must have been made by `scanvault init`. Each document is N random
 * bytes (deterministic from the seed and its number) sealed into the vault
 * exactly as the pipeline seals a scan, and indexed in batches of 500 per
 * transaction. Filed documents spread over P synthetic patients whose MRNs
 * are 8 digits, the last a Luhn check digit (they pass the default rules
 * and those of samples/scanvault.conf).
 * The manifest (tab-separated, one line per document: docid, state, MRN or
 * "-", type, size) is test data: every MRN in it is synthetic.
 *
 * --index-only writes the index entries alone, with no vault object behind
 * them (each "document" has a made-up SHA-256): enough for find, list,
 * stats and the review list, which read only the index, at millions of
 * documents (tests/bench/bench_socket). get, verify and export on such a
 * directory fail, as they should.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sv_crypto.h"
#include "sv_index.h"
#include "sv_intake.h"

#define BATCH 500u
#define BASE_TIME 1700000000

static const char *const types[] = {"lab_report", "prescription", "radiology_report",
                                    "discharge_summary", "referral", "other"};
static const char *const review_reasons[] = {"no_mrn", "conflicting_mrns", "low_confidence",
                                             "handwritten_only"};

typedef struct options {
    const char *data_dir, *manifest;
    unsigned long count, patients, review_pct, quarantine_pct, size;
    uint64_t seed;
    bool is_index_only;
} options;

static uint64_t mix(uint64_t x)
{
    /* splitmix64: a good, cheap, stateless mixer. */
    x += 0x9e3779b97f4a7c15u;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

static void fill_bytes(uint8_t *buf, size_t len, uint64_t seed)
{
    for (size_t i = 0; i < len; i += 8) {
        uint64_t v = mix(seed + i);
        size_t n = len - i < 8 ? len - i : 8;
        memcpy(buf + i, &v, n);
    }
}

/* One document's bytes in a memfd, offset at 0. */
static int make_content(const options *o, unsigned long i, uint8_t *buf)
{
    fill_bytes(buf, o->size, mix(o->seed) ^ (uint64_t)i * 0x100000001b3u);
    int fd = memfd_create("sv-make-data", MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t off = 0;
    while (off < o->size) {
        ssize_t n = write(fd, buf + off, o->size - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            close(fd);
            return -1;
        }
        off += (size_t)n;
    }
    if (lseek(fd, 0, SEEK_SET) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* 7 digits and their Luhn check digit. */
static void luhn_mrn(unsigned long body, char out[9])
{
    snprintf(out, 9, "%07lu", body % 10000000ul);
    int sum = 0;
    for (int i = 6, pos = 0; i >= 0; i--, pos++) {
        int d = out[i] - '0';
        if (pos % 2 == 0) {
            d *= 2;
            if (d > 9)
                d -= 9;
        }
        sum += d;
    }
    out[7] = (char)('0' + (10 - sum % 10) % 10);
    out[8] = '\0';
}

static void describe(const options *o, unsigned long i, sv_vault_meta *m)
{
    uint64_t r = mix(o->seed * 31 + i);
    unsigned long pct = (unsigned long)(r % 100);
    snprintf(m->type, sizeof m->type, "%s", types[(r >> 8) % 6]);
    if (pct < o->quarantine_pct) {
        m->state = SV_VAULT_QUARANTINED;
        snprintf(m->reason, sizeof m->reason, "%s", "unreadable");
    } else if (pct < o->quarantine_pct + o->review_pct) {
        m->state = SV_VAULT_REVIEW;
        snprintf(m->reason, sizeof m->reason, "%s", review_reasons[(r >> 16) % 4]);
        char candidate[9];
        luhn_mrn(1000000ul + (unsigned long)(r >> 40) % 1000ul * 7919ul, candidate);
        snprintf(m->ocr_summary, sizeof m->ocr_summary,
                 "verdict=review reason=%s type_confidence=0.50 candidates=1\n"
                 "candidate=%s source=label page=1 min_char_conf=62 second_read=no "
                 "handwritten=no problem=low_confidence",
                 m->reason, candidate);
    } else {
        m->state = SV_VAULT_FILED;
        unsigned long patient = (unsigned long)((r >> 24) % o->patients);
        luhn_mrn(1000000ul + patient * 7919ul, m->mrn);
    }
    snprintf(m->original_name, sizeof m->original_name, "synthetic-%lu.pdf", i);
    m->intake_time = BASE_TIME + (int64_t)i * 60;
    m->pages = (uint32_t)(1 + (r >> 32) % 4);
}

/* Seal document i and fill its index entry. */
static int seal_one(sv_store *store, const options *o, unsigned long i, uint8_t *buf,
                    sv_index_doc *doc, char *docid, FILE *manifest)
{
    sv_vault_meta *m = calloc(1, sizeof *m);
    if (m == NULL)
        return SV_ENOMEM;
    int rc = SV_EERRNO;
    int fd = -1;
    describe(o, i, m);
    if ((rc = sv_docid_generate(NULL, docid)) != 0)
        goto out;
    memcpy(m->docid, docid, sizeof m->docid);
    if (o->is_index_only) {
        /* No bytes, no object: a distinct made-up content hash. */
        fill_bytes(m->sha256, sizeof m->sha256, mix(o->seed) ^ (uint64_t)i * 0x100000001b3u);
        m->size = o->size;
    } else {
        rc = SV_EERRNO;
        if ((fd = make_content(o, i, buf)) < 0)
            goto out;
        if ((rc = sv_crypto_sha256_fd(fd, m->sha256, &m->size)) != 0)
            goto out;
        rc = SV_EERRNO;
        if (lseek(fd, 0, SEEK_SET) != 0)
            goto out;
        if ((rc = sv_vault_seal_fd(sv_store_vault(store), sv_store_keyring(store), fd, m,
                                   NULL)) != 0)
            goto out;
    }
    sv_index_record *rec = &doc->rec;
    memset(rec, 0, sizeof *rec);
    rec->state = (sv_index_state)m->state;
    memcpy(rec->type, m->type, sizeof rec->type);
    memcpy(rec->reason, m->reason, sizeof rec->reason);
    rec->intake_time = m->intake_time;
    rec->pages = m->pages;
    rec->size = m->size;
    if ((rc = sv_crypto_content_id(sv_store_keyring(store), m->sha256, rec->content_id)) != 0)
        goto out;
    if (m->state == SV_VAULT_FILED &&
        (rc = sv_crypto_blind_mrn(sv_store_keyring(store), m->mrn, rec->blind_mrn)) != 0)
        goto out;
    doc->docid = docid;
    if (manifest != NULL)
        fprintf(manifest, "%s\t%s\t%s\t%s\t%" PRIu64 "\n", docid, sv_vault_state_name(m->state),
                m->mrn[0] ? m->mrn : "-", m->type, m->size);
out:
    if (fd >= 0)
        close(fd);
    sv_vault_meta_wipe(m);
    free(m);
    return rc;
}

static int make_documents(sv_store *store, const options *o, FILE *manifest)
{
    uint8_t *buf = malloc(o->size > 0 ? o->size : 1);
    sv_index_doc *docs = calloc(BATCH, sizeof *docs);
    sv_index_put_result *results = calloc(BATCH, sizeof *results);
    char (*ids)[SV_DOCID_MAX + 1] = calloc(BATCH, sizeof *ids);
    int rc = SV_ENOMEM;
    if (buf == NULL || docs == NULL || results == NULL || ids == NULL)
        goto out;
    for (unsigned long start = 0; start < o->count; start += BATCH) {
        size_t n = 0;
        for (unsigned long i = start; i < o->count && n < BATCH; i++, n++) {
            if ((rc = seal_one(store, o, i, buf, &docs[n], ids[n], manifest)) != 0) {
                fprintf(stderr, "sv_make_data: document %lu: %s\n", i, sv_crypto_last_error());
                goto out;
            }
        }
        if ((rc = sv_index_put_batch(sv_store_index(store), docs, n, results)) != 0) {
            fprintf(stderr, "sv_make_data: %s\n", sv_index_last_error());
            goto out;
        }
        for (size_t k = 0; k < n; k++)
            if (results[k].status != 0) {
                fprintf(stderr, "sv_make_data: %s was not indexed\n", ids[k]);
                rc = results[k].status;
                goto out;
            }
    }
    rc = 0;
out:
    free(ids);
    free(results);
    free(docs);
    free(buf);
    return rc;
}

static int parse_ulong(const char *s, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"data", required_argument, NULL, 'd'},     {"count", required_argument, NULL, 'n'},
        {"seed", required_argument, NULL, 's'},     {"patients", required_argument, NULL, 'p'},
        {"review", required_argument, NULL, 'r'},   {"quarantine", required_argument, NULL, 'q'},
        {"size", required_argument, NULL, 'z'},     {"manifest", required_argument, NULL, 'm'},
        {"index-only", no_argument, NULL, 'i'},     {NULL, 0, NULL, 0}};
    options o = {.count = 100, .patients = 50, .review_pct = 10, .size = 4096, .seed = 1};
    int opt;
    unsigned long seed = 1;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        int bad = 0;
        switch (opt) {
        case 'd': o.data_dir = optarg; break;
        case 'm': o.manifest = optarg; break;
        case 'n': bad = parse_ulong(optarg, &o.count); break;
        case 's': bad = parse_ulong(optarg, &seed); break;
        case 'p': bad = parse_ulong(optarg, &o.patients); break;
        case 'r': bad = parse_ulong(optarg, &o.review_pct); break;
        case 'q': bad = parse_ulong(optarg, &o.quarantine_pct); break;
        case 'z': bad = parse_ulong(optarg, &o.size); break;
        case 'i': o.is_index_only = true; break;
        default: bad = 1; break;
        }
        if (bad) {
            fprintf(stderr, "usage: sv_make_data --data DIR --count N [--seed S] [--patients P] "
                            "[--review PCT] [--quarantine PCT] [--size BYTES] [--manifest F] "
                            "[--index-only]\n");
            return 2;
        }
    }
    o.seed = seed;
    if (o.data_dir == NULL || o.patients == 0 || o.review_pct + o.quarantine_pct > 100) {
        fprintf(stderr, "sv_make_data: give --data DIR, --patients > 0, review + quarantine <= 100\n");
        return 2;
    }
    if (sv_crypto_global_init() != 0)
        return 3;
    sv_store *store = NULL;
    sv_store_options so = {.data_dir = o.data_dir};
    if (sv_store_create(&store, &so) != 0) {
        fprintf(stderr, "sv_make_data: %s\n", sv_intake_last_error());
        return 3;
    }
    FILE *manifest = NULL;
    if (o.manifest != NULL && (manifest = fopen(o.manifest, "w")) == NULL) {
        fprintf(stderr, "sv_make_data: %s: %s\n", o.manifest, strerror(errno));
        sv_store_destroy(store);
        return 3;
    }
    int rc = make_documents(store, &o, manifest);
    if (manifest != NULL && fclose(manifest) != 0)
        rc = SV_EERRNO;
    sv_store_destroy(store);
    return rc == 0 ? 0 : 1;
}
