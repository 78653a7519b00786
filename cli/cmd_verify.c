/*
 * cmd_verify.c - `scanvault verify`: every vault object authenticated, and
 * index and vault in agreement both ways.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "maint_cli.h"

static const char verify_usage[] =
    "usage: scanvault verify [--fast] [--json] [-q] [--data DIR] [--config FILE]\n"
    "                        [--key FILE]\n"
    "\n"
    "Check the vault and the index against each other. Every vault object is\n"
    "authenticated in full (each encrypted chunk and the content hash; with\n"
    "--fast only its header and sealed metadata), its index entry must exist\n"
    "and agree with it (state, type, blind MRN, content id, reason, pages, size,\n"
    "intake time), every index entry must have its object, and the index must\n"
    "agree with itself. Any other file under the vault's objects/ is reported.\n"
    "Prints one line per problem (kind, docid, what was found; never an MRN),\n"
    "then a summary. docs/maintenance.md says what each kind means and what to do.\n"
    "\n"
    "It may run while the service runs: a document the service is filing at that\n"
    "moment counts as pending, not as a problem. The run is audited.\n"
    "\n"
    "Options:\n"
    "  --fast         authenticate headers only: much faster, but a changed byte\n"
    "                 in a document's body is not seen\n"
    "  --json         one JSON object per line: each problem {\"problem\", \"docid\",\n"
    "                 \"detail\"}, then the summary {\"objects\", \"bytes\", \"entries\",\n"
    "                 \"pending\", \"problems\", \"kinds\": {KIND: N}, \"mode\", \"seconds\"}\n"
    "  -q, --quiet    no progress line (it is shown only on a terminal anyway)\n"
    "  --data DIR, --config FILE, --key FILE   as for 'scanvault ingest'\n"
    CLI_SESSION_HELP
    "  -h, --help     this text\n"
    "\n"
    "When the service runs, the check runs in the service, asked through its\n"
    "socket (admin role); otherwise the data directory is opened here (direct\n"
    "mode).\n"
    "\n"
    "Exit status: 0 no problem found; 1 problems found (listed); 2 usage error;\n"
    "3 environment error (data directory, key, index unreadable, audit log,\n"
    "refused by the service).\n";

static void print_summary_json(const sv_verify_report *rep, bool is_fast)
{
    printf("{\"objects\": %llu, \"bytes\": %llu, \"entries\": %llu, \"pending\": %llu, "
           "\"problems\": %llu, \"kinds\": {",
           (unsigned long long)rep->objects, (unsigned long long)rep->bytes,
           (unsigned long long)rep->entries, (unsigned long long)rep->pending,
           (unsigned long long)rep->problems);
    bool is_first = true;
    for (int k = 1; k < SV_MAINT_KIND_COUNT; k++) {
        if (rep->by_kind[k] == 0)
            continue;
        printf("%s\"%s\": %llu", is_first ? "" : ", ", sv_maint_kind_name((sv_maint_kind)k),
               (unsigned long long)rep->by_kind[k]);
        is_first = false;
    }
    printf("}, \"mode\": \"%s\", \"seconds\": %.3f}\n", is_fast ? "fast" : "full", rep->seconds);
}

static void print_summary_text(const sv_verify_report *rep, bool is_fast)
{
    char rates[64];
    cli_format_rates(rep->objects, rep->bytes, rep->seconds, rates, sizeof rates);
    printf("verify: %llu objects (%.1f MB of documents, %s) and %llu index entries "
           "checked in %.1f s: %s\n",
           (unsigned long long)rep->objects, (double)rep->bytes / 1e6,
           is_fast ? "headers only" : "in full", (unsigned long long)rep->entries, rep->seconds,
           rates);
    if (rep->pending > 0)
        printf("pending: %llu document(s) being filed right now (not a problem)\n",
               (unsigned long long)rep->pending);
    if (rep->problems == 0) {
        printf("no problems found\n");
        return;
    }
    printf("%llu problem(s):", (unsigned long long)rep->problems);
    const char *sep = " ";
    for (int k = 1; k < SV_MAINT_KIND_COUNT; k++) {
        if (rep->by_kind[k] == 0)
            continue;
        printf("%s%s %llu", sep, sv_maint_kind_name((sv_maint_kind)k),
               (unsigned long long)rep->by_kind[k]);
        sep = ", ";
    }
    printf("\n");
}

int cmd_verify(int argc, char **argv)
{
    static const struct option options[] = {{"fast", no_argument, NULL, 'f'},
                                            {"json", no_argument, NULL, 'j'},
                                            {"quiet", no_argument, NULL, 'q'},
                                            {"data", required_argument, NULL, 'd'},
                                            {"config", required_argument, NULL, 'c'},
                                            {"key", required_argument, NULL, 'k'},
                                            {"help", no_argument, NULL, 'h'},
                                            CLI_SESSION_OPTIONS,
                                            {NULL, 0, NULL, 0}};
    cli_target t = {0};
    bool is_fast = false, as_json = false, is_quiet = false;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "hq", options, NULL)) != -1) {
        switch (opt) {
        case 'f': is_fast = true; break;
        case 'j': as_json = true; break;
        case 'q': is_quiet = true; break;
        case 'd': t.data_dir = optarg; break;
        case 'c': t.config_path = optarg; break;
        case 'k': t.key_file = optarg; break;
        case 'h': fputs(verify_usage, stdout); return SV_EXIT_OK;
        default:
            if (cli_target_option(&t, opt, optarg))
                break;
            fputs(verify_usage, stderr);
            return SV_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        cli_error("verify takes no arguments");
        fputs(verify_usage, stderr);
        return SV_EXIT_USAGE;
    }
    cli_session s;
    int code = cli_session_open(&t, CLI_DIRECT_READ_ONLY, &s);
    if (code != SV_EXIT_OK)
        return code;
    cli_progress progress;
    cli_progress_init(&progress, "verify", is_quiet);
    cli_problems problems = {.progress = &progress, .as_json = as_json};
    sv_verify_options o = {.fast = is_fast,
                           .progress = progress.is_on ? cli_progress_show : NULL,
                           .progress_ctx = &progress,
                           .problem = cli_print_problem,
                           .problem_ctx = &problems};
    sv_verify_report rep;
    int rc = s.client != NULL ? sv_client_verify(s.client, &o, &rep)
                              : sv_verify_run(s.store, &o, &rep);
    cli_progress_clear(&progress);
    /* A refusal (or a lost service) checked nothing: no summary of nothing. */
    bool is_refused = s.client != NULL && (rc == SV_EPERM || rc == SV_ETIMEOUT ||
                                           rc == SV_ETRUNC || rc == SV_EFORMAT);
    if (!is_refused && as_json)
        print_summary_json(&rep, is_fast);
    else if (!is_refused)
        print_summary_text(&rep, is_fast);
    fflush(stdout);
    if (rc != 0)
        code = cli_session_failed(&s, rc, SV_EXIT_ENV);
    else
        code = rep.problems > 0 ? SV_EXIT_FAILURE : SV_EXIT_OK;
    cli_session_close(&s);
    return code;
}
