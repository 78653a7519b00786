/*
 * cmd_extract.c - `scanvault extract`: run the extraction core over files and
 * print what would happen to each. Stores nothing, needs no key.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "sv_intake.h"
#include "sv_ocr.h"

static const char extract_usage[] =
    "usage: scanvault extract [--json] [--config FILE] [--jobs N] FILE...\n"
    "\n"
    "Read each scanned document (PNG, JPEG, TIFF, PDF; every page), find the\n"
    "patient's MRN and the document type, and print what scanvault would do\n"
    "with it. Nothing is stored and no key is needed.\n"
    "\n"
    "  status  index   would be filed automatically under the MRN shown\n"
    "          review  would be held for a person; the reason says why\n"
    "          reject  not a readable document; the reason says why\n"
    "\n"
    "Options:\n"
    "  --json          one JSON object per file and line:\n"
    "                  {\"file\", \"status\", \"mrn\", \"type\", \"reason\", \"pages\", \"ms\", ...}\n"
    "  --config FILE   rules to use (default: $SCANVAULT_CONFIG, else\n"
    "                  " CLI_DEFAULT_CONFIG " if it exists, else built-in defaults)\n"
    "  --jobs N        documents read in parallel, one OCR process each (default 1)\n"
    "  -h, --help      this text\n"
    "\n"
    "Output keeps the order of the FILE arguments. Each document is read in its\n"
    "own worker process: a file that crashes or hangs the reader is rejected\n"
    "(worker_crashed, timeout) and the others go on.\n"
    "\n"
    "Exit status: 0 every file was processed (whatever its status); 1 some file\n"
    "could not be opened; 2 usage error; 3 environment error (configuration,\n"
    "OCR language data, processes).\n";

typedef struct extract_item {
    const char *path;
    bool is_done;
    bool is_open_error;
    sv_ocr_result result;
} extract_item;

typedef struct extract_totals {
    size_t n_index, n_review, n_reject, n_pages;
} extract_totals;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void print_json(const extract_item *item)
{
    const sv_ocr_result *r = &item->result;
    fputs("{\"file\": ", stdout);
    cli_json_string(stdout, item->path);
    printf(", \"status\": \"%s\", \"mrn\": ", sv_ocr_status_name(r->status));
    cli_json_string(stdout, r->status == SV_OCR_INDEX ? r->mrn : NULL);
    fputs(", \"type\": ", stdout);
    cli_json_string(stdout, r->type);
    fputs(", \"reason\": ", stdout);
    cli_json_string(stdout, r->status == SV_OCR_INDEX ? NULL : sv_ocr_reason_code(r->reason));
    printf(", \"pages\": %d, \"ms\": %.0f", r->pages, r->ms.total);
    fputs(", \"reason_text\": ", stdout);
    cli_json_string(stdout, r->status == SV_OCR_INDEX ? NULL : sv_ocr_reason_words(r->reason));
    printf(", \"type_confidence\": %.2f, \"candidates\": %zu", (double)r->type_confidence,
           r->n_candidates);
    printf(", \"timing_ms\": {\"load\": %.1f, \"orient\": %.1f, \"ocr\": %.1f, "
           "\"second_read\": %.1f, \"barcode\": %.1f, \"decide\": %.1f}}\n",
           r->ms.load, r->ms.orient, r->ms.ocr, r->ms.second_read, r->ms.barcode, r->ms.decide);
}

static void print_table_header(void)
{
    printf("%-7s %-11s %-18s %5s %7s  %-22s %s\n", "STATUS", "MRN", "TYPE", "PAGES", "MS",
           "REASON", "FILE");
}

static void print_table_row(const extract_item *item)
{
    const sv_ocr_result *r = &item->result;
    printf("%-7s %-11s %-18s %5d %7.0f  %-22s ", sv_ocr_status_name(r->status),
           r->status == SV_OCR_INDEX ? r->mrn : "-", r->type, r->pages, r->ms.total,
           r->status == SV_OCR_INDEX ? "-" : sv_ocr_reason_code(r->reason));
    cli_print_safe(stdout, item->path);
    fputc('\n', stdout);
}

static void count_result(extract_totals *t, const sv_ocr_result *r)
{
    t->n_pages += (size_t)(r->pages > 0 ? r->pages : 0);
    if (r->status == SV_OCR_INDEX)
        t->n_index++;
    else if (r->status == SV_OCR_REVIEW)
        t->n_review++;
    else
        t->n_reject++;
}

/* Open a document for reading without hanging on FIFOs or devices. Returns
 * the descriptor, or -1 with a reject reason in *why. */
static int open_document(const char *path, sv_ocr_reason *why)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        cli_error("cannot open '%s': %s", path, strerror(errno));
        *why = SV_REASON_UNREADABLE;
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        cli_error("'%s' is not a regular file", path);
        close(fd);
        *why = SV_REASON_UNREADABLE;
        return -1;
    }
    /* Regular files: blocking reads from here on. */
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}

/* Print every finished item from *next on, in argument order. */
static void flush_in_order(extract_item *items, size_t n, size_t *next, bool as_json,
                           extract_totals *totals)
{
    while (*next < n && items[*next].is_done) {
        extract_item *item = &items[*next];
        if (as_json)
            print_json(item);
        else
            print_table_row(item);
        fflush(stdout);
        count_result(totals, &item->result);
        memset(&item->result, 0, sizeof item->result); /* holds an MRN */
        (*next)++;
    }
}

static int run_extract(sv_workers *pool, extract_item *items, size_t n, bool as_json,
                       extract_totals *totals)
{
    size_t submitted = 0, next_to_print = 0;
    int exit_code = SV_EXIT_OK;
    while (next_to_print < n) {
        while (submitted < n && sv_workers_idle(pool) > 0) {
            extract_item *item = &items[submitted];
            sv_ocr_reason why = SV_REASON_NONE;
            int fd = open_document(item->path, &why);
            if (fd < 0) {
                item->result.status = SV_OCR_REJECT;
                item->result.reason = why;
                memcpy(item->result.type, "other", sizeof "other");
                item->is_done = item->is_open_error = true;
                exit_code = SV_EXIT_FAILURE;
            } else {
                int rc = sv_workers_submit(pool, fd, submitted);
                close(fd);
                if (rc != 0) {
                    cli_error("no OCR worker is running: %s", sv_strerror(rc));
                    return SV_EXIT_ENV;
                }
            }
            submitted++;
        }
        flush_in_order(items, n, &next_to_print, as_json, totals);
        if (next_to_print >= n)
            break;
        uint64_t tag = 0;
        sv_ocr_result result;
        int rc = sv_workers_collect(pool, -1, &tag, &result);
        if (rc == SV_EERRNO && errno == EINTR)
            continue;
        if (rc == SV_ENOTFOUND && submitted < n) {
            if (sv_workers_idle(pool) > 0)
                continue;
            cli_error("no OCR worker could be started again; stopping");
            return SV_EXIT_ENV;
        }
        if (rc != 0 || tag >= n) {
            cli_error("OCR workers failed: %s", sv_strerror(rc));
            return SV_EXIT_ENV;
        }
        items[tag].result = result;
        items[tag].is_done = true;
        memset(&result, 0, sizeof result);
    }
    return exit_code;
}

int cmd_extract(int argc, char **argv)
{
    static const struct option options[] = {{"json", no_argument, NULL, 'j'},
                                            {"config", required_argument, NULL, 'c'},
                                            {"jobs", required_argument, NULL, 'n'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    bool as_json = false;
    const char *config_path = NULL;
    unsigned long jobs = 1;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case 'j':
            as_json = true;
            break;
        case 'c':
            config_path = optarg;
            break;
        case 'n': {
            char *end = NULL;
            errno = 0;
            jobs = strtoul(optarg, &end, 10);
            if (errno != 0 || end == optarg || *end != '\0' || jobs < 1 ||
                jobs > SV_WORKERS_MAX) {
                cli_error("--jobs takes a number from 1 to %d", SV_WORKERS_MAX);
                return SV_EXIT_USAGE;
            }
            break;
        }
        case 'h':
            fputs(extract_usage, stdout);
            return SV_EXIT_OK;
        default:
            fputs(extract_usage, stderr);
            return SV_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        cli_error("extract needs at least one FILE");
        fputs(extract_usage, stderr);
        return SV_EXIT_USAGE;
    }
    size_t n = (size_t)(argc - optind);
    if (jobs > n)
        jobs = n;

    sv_ocr_rules *rules = NULL;
    sv_intake_settings settings;
    int code = cli_load_config(config_path, &rules, &settings);
    if (code != SV_EXIT_OK)
        return code;
    extract_item *items = calloc(n, sizeof *items);
    sv_workers *pool = NULL;
    if (items == NULL) {
        cli_error("out of memory");
        code = SV_EXIT_ENV;
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        items[i].path = argv[optind + (int)i];
    char worker_path[PATH_MAX];
    if ((code = cli_ocr_worker_path(worker_path, sizeof worker_path)) != SV_EXIT_OK)
        goto out;
    sv_workers_options wo = {.worker_path = worker_path,
                             .rules = rules,
                             .n_workers = (unsigned)jobs};
    if (sv_workers_create(&pool, &wo) != 0) {
        cli_error("%s", sv_intake_last_error());
        code = SV_EXIT_ENV;
        goto out;
    }
    if (!as_json)
        print_table_header();
    extract_totals totals = {0};
    double start = now_seconds();
    code = run_extract(pool, items, n, as_json, &totals);
    double elapsed = now_seconds() - start;
    FILE *summary = as_json ? stderr : stdout;
    fprintf(summary, "%zu files: %zu index, %zu review, %zu reject; %zu pages in %.1f s (%.2f pages/s)\n",
            n, totals.n_index, totals.n_review, totals.n_reject, totals.n_pages, elapsed,
            elapsed > 0 ? (double)totals.n_pages / elapsed : 0.0);
out:
    sv_workers_destroy(pool);
    free(items);
    sv_ocr_rules_destroy(rules);
    return code;
}
