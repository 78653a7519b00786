/*
 * cmd_find.c - `scanvault find`: every filed document of one patient.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char find_usage[] =
    "usage: scanvault find [--data DIR] [--config FILE] [--key FILE] [--type TYPE]\n"
    "                      [--from DATE] [--to DATE] [--json] MRN\n"
    "\n"
    "List every filed document of the patient with this MRN, newest first:\n"
    "docid, type, intake date (UTC), pages and size. Documents held for review\n"
    "or quarantined are under no MRN and are not listed. The MRN may be typed\n"
    "with spaces or dashes; it must be well-formed under the [mrn] rules of the\n"
    "configuration (length, check digit). Every search is audited (without the\n"
    "MRN).\n"
    "\n"
    "Options:\n"
    "  --type TYPE    only this document type (lab_report, prescription, ...)\n"
    "  --from DATE    only documents taken in on or after DATE (YYYY-MM-DD, UTC)\n"
    "  --to DATE      only documents taken in on or before DATE\n"
    "  --json         one JSON object: {\"count\", \"documents\": [{\"docid\", \"type\",\n"
    "                 \"intake_time\", \"intake_date\", \"pages\", \"size\"}]}\n"
    "  --data DIR, --config FILE, --key FILE   as for 'scanvault ingest'\n"
    CLI_SESSION_HELP
    "  -h, --help     this text\n"
    "\n"
    "When the service runs, the search goes through its socket and needs the clerk\n"
    "or admin role; otherwise the data directory is opened here (direct mode).\n"
    "\n"
    "Exit status: 0 searched (also when nothing was found); 2 usage error (also an\n"
    "MRN that is not well-formed); 3 environment error (also: refused by the\n"
    "service).\n";

static void print_docs_json(const sv_store_doc *docs, size_t n)
{
    printf("{\"count\": %zu, \"documents\": [", n);
    for (size_t i = 0; i < n; i++) {
        char date[32];
        cli_format_time(docs[i].intake_time, true, date, sizeof date);
        printf("%s{\"docid\": ", i ? ", " : "");
        cli_json_string(stdout, docs[i].docid);
        fputs(", \"type\": ", stdout);
        cli_json_string(stdout, docs[i].type);
        printf(", \"intake_time\": %lld, \"intake_date\": \"%s\", \"pages\": %u, \"size\": %llu}",
               (long long)docs[i].intake_time, date, docs[i].pages,
               (unsigned long long)docs[i].size);
    }
    fputs("]}\n", stdout);
}

static void print_docs_table(const sv_store_doc *docs, size_t n)
{
    printf("%-26s %-17s %-16s %5s %10s\n", "DOCID", "TYPE", "INTAKE (UTC)", "PAGES", "BYTES");
    for (size_t i = 0; i < n; i++) {
        char date[32];
        cli_format_time(docs[i].intake_time, false, date, sizeof date);
        printf("%-26s %-17s %-16s %5u %10llu\n", docs[i].docid, docs[i].type, date,
               docs[i].pages, (unsigned long long)docs[i].size);
    }
    printf("%zu document%s\n", n, n == 1 ? "" : "s");
}

int cmd_find(int argc, char **argv)
{
    static const struct option options[] = {{"data", required_argument, NULL, 'd'},
                                            {"config", required_argument, NULL, 'c'},
                                            {"key", required_argument, NULL, 'k'},
                                            {"type", required_argument, NULL, 't'},
                                            {"from", required_argument, NULL, 'f'},
                                            {"to", required_argument, NULL, 'u'},
                                            {"json", no_argument, NULL, 'j'},
                                            {"help", no_argument, NULL, 'h'},
                                            CLI_SESSION_OPTIONS,
                                            {NULL, 0, NULL, 0}};
    cli_target t = {0};
    sv_index_filter filter = {0};
    bool as_json = false;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case 'd': t.data_dir = optarg; break;
        case 'c': t.config_path = optarg; break;
        case 'k': t.key_file = optarg; break;
        case 't':
            if (!sv_index_type_ok(optarg)) {
                cli_error("--type takes a type name such as lab_report (a-z and '_')");
                return SV_EXIT_USAGE;
            }
            filter.type = optarg;
            break;
        case 'f':
            if (cli_parse_date("--from", optarg, false, &filter.since) != 0)
                return SV_EXIT_USAGE;
            break;
        case 'u':
            if (cli_parse_date("--to", optarg, true, &filter.until) != 0)
                return SV_EXIT_USAGE;
            break;
        case 'j': as_json = true; break;
        case 'h': fputs(find_usage, stdout); return SV_EXIT_OK;
        default:
            if (cli_target_option(&t, opt, optarg))
                break;
            fputs(find_usage, stderr);
            return SV_EXIT_USAGE;
        }
    }
    if (argc - optind != 1) {
        cli_error("find takes exactly one MRN");
        fputs(find_usage, stderr);
        return SV_EXIT_USAGE;
    }
    if (filter.since != 0 && filter.until != 0 && filter.since > filter.until) {
        cli_error("--from is after --to");
        return SV_EXIT_USAGE;
    }
    cli_session s;
    sv_store_doc *docs = NULL;
    size_t n = 0;
    int code = SV_EXIT_OK;
    cli_session_load(&t, &s);
    /* Check the MRN before anything is opened or asked: a typo is a usage
     * error. (The service checks it too, with its rules, when this
     * configuration could not be read.) */
    if (s.rules != NULL) {
        char digits[SV_MRN_MAX + 1];
        sv_ocr_reason why = sv_ocr_check_mrn(s.rules, argv[optind], digits);
        memset(digits, 0, sizeof digits);
        if (why != SV_REASON_NONE && why != SV_REASON_UNKNOWN_MRN) {
            cli_error("the MRN given is not well-formed: %s", sv_ocr_reason_words(why));
            code = SV_EXIT_USAGE;
            goto out;
        }
    }
    if ((code = cli_session_reach(&t, CLI_DIRECT_READ_ONLY, &s)) != SV_EXIT_OK)
        goto out;
    int rc = s.client != NULL ? sv_client_find(s.client, argv[optind], &filter, &docs, &n)
                              : sv_store_find(s.store, s.rules, argv[optind], &filter, &docs, &n);
    if (rc != 0) {
        code = cli_session_failed(&s, rc, s.client != NULL && rc == SV_EINVAL ? SV_EXIT_USAGE
                                                                             : SV_EXIT_ENV);
        goto out;
    }
    if (as_json)
        print_docs_json(docs, n);
    else
        print_docs_table(docs, n);
out:
    free(docs);
    cli_session_close(&s);
    return code;
}
