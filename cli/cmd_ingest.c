/*
 * cmd_ingest.c - `scanvault ingest`: file documents now, through the same
 * pipeline the service runs (claim, OCR in a worker, seal, index, audit).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static const char ingest_usage[] =
    "usage: scanvault ingest [--data DIR] [--config FILE] [--key FILE] [--jobs N]\n"
    "                        [--move] [--json] FILE...\n"
    "\n"
    "File these documents now: read each one (OCR in a separate process that\n"
    "holds no key), decide, encrypt it into the vault and index it. One line per\n"
    "file, as each finishes: the docid, what happened and why. Never the MRN,\n"
    "and never the file's name (it may carry a patient's name): FILE# is the\n"
    "file's position among the arguments.\n"
    "\n"
    "  filed        filed under the MRN read from it (see 'scanvault find')\n"
    "  review       encrypted and held for a person; the reason says why\n"
    "  quarantined  not a readable document; encrypted and kept with the reason\n"
    "  duplicate    the same bytes are already in the vault (the docid given);\n"
    "               not filed twice\n"
    "  failed       not filed; the message on stderr says why and where the\n"
    "               file is; run ingest again once the cause is fixed\n"
    "\n"
    "Documents left in the spool by an interrupted ingest or service are filed\n"
    "first (FILE# is then '-').\n"
    "\n"
    "Options:\n"
    "  --data DIR     the data directory (default: $SCANVAULT_DATA, else\n"
    "                 [storage] data_dir of the configuration, /var/lib/scanvault)\n"
    "  --config FILE  configuration (default: $SCANVAULT_CONFIG, else\n"
    "                 " CLI_DEFAULT_CONFIG " if it exists, else built-in defaults)\n"
    "  --key FILE     the key file (default: $CREDENTIALS_DIRECTORY/scanvault.key,\n"
    "                 else [storage] key_file, else DIR/keys/scanvault.key)\n"
    "  --jobs N       OCR worker processes (default: [intake] workers, else one per core)\n"
    "  --move         remove each file once it is filed (as the service does with\n"
    "                 its inbox); default: leave the files where they are\n"
    "  --json         one JSON object per file and line: {\"arg\", \"docid\", \"status\",\n"
    "                 \"reason\", \"type\", \"pages\", \"size\", \"duplicate_of\", \"ms\", ...}\n"
    "  -h, --help     this text\n"
    "\n"
    "Only one ingest or service may use a data directory at a time.\n"
    "\n"
    "Exit status: 0 every file was filed, held, quarantined or found duplicate;\n"
    "1 some file failed; 2 usage error; 3 environment error (data directory,\n"
    "key, configuration, OCR engine).\n";

typedef struct ingest_run {
    bool as_json;
    size_t n_args;
    size_t by_status[SV_PIPELINE_FAILED + 1];
    size_t pages;
} ingest_run;

static void print_report_json(const sv_pipeline_report *r)
{
    fputs("{\"arg\": ", stdout);
    if (r->is_recovered)
        fputs("null", stdout);
    else
        printf("%llu", (unsigned long long)r->tag + 1);
    fputs(", \"docid\": ", stdout);
    cli_json_string(stdout, r->docid[0] ? r->docid : NULL);
    printf(", \"status\": \"%s\", \"reason\": ", sv_pipeline_status_name(r->status));
    cli_json_string(stdout, r->reason[0] ? r->reason : NULL);
    fputs(", \"type\": ", stdout);
    cli_json_string(stdout, r->type[0] ? r->type : NULL);
    printf(", \"pages\": %d, \"size\": %llu, \"duplicate_of\": ", r->pages,
           (unsigned long long)r->size);
    cli_json_string(stdout, r->existing_docid[0] ? r->existing_docid : NULL);
    fputs(", \"error\": ", stdout);
    cli_json_string(stdout, r->status == SV_PIPELINE_FAILED ? r->message : NULL);
    printf(", \"recovered\": %s, \"ms\": %.0f, \"timing_ms\": {\"claim\": %.2f, "
           "\"identify\": %.2f, \"ocr\": %.1f, \"seal\": %.2f, \"commit\": %.2f, "
           "\"audit\": %.2f, \"release\": %.2f}}\n",
           r->is_recovered ? "true" : "false", r->ms.total, r->ms.claim, r->ms.identify,
           r->ms.ocr, r->ms.seal, r->ms.commit, r->ms.audit, r->ms.release);
}

static void print_report_row(const sv_pipeline_report *r)
{
    char arg[24] = "-";
    if (!r->is_recovered)
        snprintf(arg, sizeof arg, "%llu", (unsigned long long)r->tag + 1);
    const char *why = r->status == SV_PIPELINE_DUPLICATE ? r->existing_docid
                      : r->reason[0]                     ? r->reason
                                                         : "-";
    printf("%-26s %-11s %-26s %-17s %5d %6s\n", r->docid[0] ? r->docid : "-",
           sv_pipeline_status_name(r->status), why, r->type[0] ? r->type : "-", r->pages, arg);
}

static void on_report(const sv_pipeline_report *r, void *ctx)
{
    ingest_run *run = ctx;
    if (r->status >= SV_PIPELINE_FILED && r->status <= SV_PIPELINE_FAILED)
        run->by_status[r->status]++;
    run->pages += (size_t)(r->pages > 0 ? r->pages : 0);
    if (r->status == SV_PIPELINE_FAILED)
        cli_error("%s", r->message);
    if (run->as_json)
        print_report_json(r);
    else
        print_report_row(r);
    fflush(stdout);
}

static int parse_jobs(const char *text, unsigned *jobs)
{
    char *end = NULL;
    errno = 0;
    unsigned long n = strtoul(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || n < 1 ||
        n > SV_WORKERS_MAX) {
        cli_error("--jobs takes a number from 1 to %d", SV_WORKERS_MAX);
        return -1;
    }
    *jobs = (unsigned)n;
    return 0;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run_ingest(sv_pipeline *p, ingest_run *run, char **files, unsigned flags)
{
    size_t recovered = 0;
    if (sv_pipeline_recover(p, &recovered) != 0) {
        cli_error("%s", sv_intake_last_error());
        return SV_EXIT_ENV;
    }
    if (recovered > 0)
        fprintf(stderr, "scanvault: %zu document(s) left in the spool by an interrupted run "
                        "are filed first\n",
                recovered);
    for (size_t i = 0; i < run->n_args; i++) {
        if (sv_pipeline_enqueue(p, files[i], flags, i) != 0) {
            cli_error("%s", sv_intake_last_error());
            return SV_EXIT_ENV;
        }
    }
    if (!run->as_json)
        printf("%-26s %-11s %-26s %-17s %5s %6s\n", "DOCID", "STATUS", "REASON / FIRST COPY", "TYPE",
               "PAGES", "FILE#");
    double start = now_seconds();
    if (sv_pipeline_drain(p) != 0) {
        cli_error("%s; documents not yet filed stay where they were or in the spool",
                  sv_intake_last_error());
        return SV_EXIT_ENV;
    }
    double elapsed = now_seconds() - start;
    size_t total = 0;
    for (size_t s = SV_PIPELINE_FILED; s <= SV_PIPELINE_FAILED; s++)
        total += run->by_status[s];
    fprintf(run->as_json ? stderr : stdout,
            "%zu documents: %zu filed, %zu review, %zu quarantined, %zu duplicate, %zu failed; "
            "%zu pages in %.1f s\n",
            total, run->by_status[SV_PIPELINE_FILED], run->by_status[SV_PIPELINE_REVIEW],
            run->by_status[SV_PIPELINE_QUARANTINED], run->by_status[SV_PIPELINE_DUPLICATE],
            run->by_status[SV_PIPELINE_FAILED], run->pages, elapsed);
    return run->by_status[SV_PIPELINE_FAILED] > 0 ? SV_EXIT_FAILURE : SV_EXIT_OK;
}

int cmd_ingest(int argc, char **argv)
{
    static const struct option options[] = {{"data", required_argument, NULL, 'd'},
                                            {"config", required_argument, NULL, 'c'},
                                            {"key", required_argument, NULL, 'k'},
                                            {"jobs", required_argument, NULL, 'n'},
                                            {"move", no_argument, NULL, 'm'},
                                            {"json", no_argument, NULL, 'j'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    const char *data_dir = NULL, *config_path = NULL, *key_file = NULL;
    unsigned jobs = 0, flags = 0;
    ingest_run run = {0};
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case 'd': data_dir = optarg; break;
        case 'c': config_path = optarg; break;
        case 'k': key_file = optarg; break;
        case 'n':
            if (parse_jobs(optarg, &jobs) != 0)
                return SV_EXIT_USAGE;
            break;
        case 'm': flags |= SV_PIPELINE_MOVE; break;
        case 'j': run.as_json = true; break;
        case 'h': fputs(ingest_usage, stdout); return SV_EXIT_OK;
        default: fputs(ingest_usage, stderr); return SV_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        cli_error("ingest needs at least one FILE");
        fputs(ingest_usage, stderr);
        return SV_EXIT_USAGE;
    }
    run.n_args = (size_t)(argc - optind);
    sv_ocr_rules *rules = NULL;
    sv_intake_settings settings;
    int code = cli_load_config(config_path, &rules, &settings);
    if (code != SV_EXIT_OK)
        return code;
    if ((code = cli_apply_storage_options(&settings, data_dir, key_file)) != SV_EXIT_OK) {
        sv_ocr_rules_destroy(rules);
        return code;
    }
    if (jobs == 0)
        jobs = sv_intake_settings_workers(&settings);
    if (jobs > run.n_args)
        jobs = (unsigned)run.n_args;
    char worker_path[PATH_MAX];
    if ((code = cli_ocr_worker_path(worker_path, sizeof worker_path)) != SV_EXIT_OK) {
        sv_ocr_rules_destroy(rules);
        return code;
    }
    sv_pipeline *p = NULL;
    sv_pipeline_options po = {.data_dir = settings.data_dir,
                              .key_file = settings.key_file,
                              .docid_prefix = settings.docid_prefix,
                              .rules = rules,
                              .n_workers = jobs,
                              .worker_path = worker_path,
                              .report = on_report,
                              .report_ctx = &run};
    if (sv_crypto_global_init() != 0) {
        cli_error("%s", sv_crypto_last_error());
        code = SV_EXIT_ENV;
    } else if (sv_pipeline_create(&p, &po) != 0) {
        cli_error("%s", sv_intake_last_error());
        code = SV_EXIT_ENV;
    } else {
        code = run_ingest(p, &run, argv + optind, flags);
    }
    sv_pipeline_destroy(p);
    sv_ocr_rules_destroy(rules);
    return code;
}
