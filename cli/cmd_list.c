/*
 * cmd_list.c - `scanvault list`: the documents of one state, for the admin
 * (above all the quarantine: what could not be read, and why).
 */
#include <getopt.h>
#include <string.h>

#include "cli.h"

static const char list_usage[] =
    "usage: scanvault list [--state quarantined|review|filed|all] [--json]\n"
    "                      [--data DIR] [--config FILE] [--key FILE]\n"
    "\n"
    "Every document in one state (default: quarantined), in docid order: docid,\n"
    "state, reason, type, pages, size, intake date (UTC). Never an MRN. A\n"
    "quarantined document is sealed like any other: 'scanvault get DOCID' gives\n"
    "its bytes back. The listing is audited.\n"
    "\n"
    "Options:\n"
    "  --state S      quarantined (default), review, filed or all\n"
    "  --json         one JSON object per document and line: {\"docid\", \"state\",\n"
    "                 \"reason\", \"type\", \"pages\", \"size\", \"intake_time\", \"intake_date\"}\n"
    "  --data DIR, --config FILE, --key FILE   as for 'scanvault ingest'\n"
    CLI_SESSION_HELP
    "  -h, --help     this text\n"
    "\n"
    "When the service runs, the listing comes through its socket (admin role);\n"
    "otherwise the data directory is opened here (direct mode).\n"
    "\n"
    "Exit status: 0 listed; 2 usage error; 3 environment error (also: refused by\n"
    "the service).\n";

static int print_document(const char *docid, const sv_index_record *rec, void *ctx)
{
    const bool *as_json = ctx;
    char date[32];
    cli_format_time(rec->intake_time, *as_json, date, sizeof date);
    if (*as_json) {
        fputs("{\"docid\": ", stdout);
        cli_json_string(stdout, docid);
        printf(", \"state\": \"%s\", \"reason\": ", sv_index_state_name(rec->state));
        cli_json_string(stdout, rec->reason[0] ? rec->reason : NULL);
        fputs(", \"type\": ", stdout);
        cli_json_string(stdout, rec->type);
        printf(", \"pages\": %u, \"size\": %llu, \"intake_time\": %lld, \"intake_date\": \"%s\"}\n",
               rec->pages, (unsigned long long)rec->size, (long long)rec->intake_time, date);
    } else {
        printf("%-26s %-11s %-22s %-17s %5u %10llu  %s\n", docid, sv_index_state_name(rec->state),
               rec->reason[0] ? rec->reason : "-", rec->type, rec->pages,
               (unsigned long long)rec->size, date);
    }
    return 0;
}

int cmd_list(int argc, char **argv)
{
    static const struct option options[] = {{"state", required_argument, NULL, 's'},
                                            {"json", no_argument, NULL, 'j'},
                                            {"data", required_argument, NULL, 'd'},
                                            {"config", required_argument, NULL, 'c'},
                                            {"key", required_argument, NULL, 'k'},
                                            {"help", no_argument, NULL, 'h'},
                                            CLI_SESSION_OPTIONS,
                                            {NULL, 0, NULL, 0}};
    cli_target t = {0};
    sv_index_state state = SV_INDEX_QUARANTINED;
    bool as_json = false;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case 's':
            if (strcmp(optarg, "quarantined") == 0)
                state = SV_INDEX_QUARANTINED;
            else if (strcmp(optarg, "review") == 0)
                state = SV_INDEX_REVIEW;
            else if (strcmp(optarg, "filed") == 0)
                state = SV_INDEX_FILED;
            else if (strcmp(optarg, "all") == 0)
                state = 0;
            else {
                cli_error("--state is quarantined, review, filed or all");
                return SV_EXIT_USAGE;
            }
            break;
        case 'j': as_json = true; break;
        case 'd': t.data_dir = optarg; break;
        case 'c': t.config_path = optarg; break;
        case 'k': t.key_file = optarg; break;
        case 'h': fputs(list_usage, stdout); return SV_EXIT_OK;
        default:
            if (cli_target_option(&t, opt, optarg))
                break;
            fputs(list_usage, stderr);
            return SV_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        cli_error("list takes no arguments");
        return SV_EXIT_USAGE;
    }
    cli_session s;
    int code = cli_session_open(&t, CLI_DIRECT_READ_ONLY, &s);
    if (code != SV_EXIT_OK)
        return code;
    if (!as_json)
        printf("%-26s %-11s %-22s %-17s %5s %10s  %s\n", "DOCID", "STATE", "REASON", "TYPE",
               "PAGES", "BYTES", "INTAKE (UTC)");
    int rc = s.client != NULL ? sv_client_list(s.client, state, print_document, &as_json)
                              : sv_store_list(s.store, state, print_document, &as_json);
    if (rc != 0)
        code = cli_session_failed(&s, rc, SV_EXIT_ENV);
    cli_session_close(&s);
    return code;
}
