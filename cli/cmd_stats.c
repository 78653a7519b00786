/*
 * cmd_stats.c - `scanvault stats`: what the vault holds, in figures only.
 */
#include <getopt.h>
#include <string.h>

#include "cli.h"

static const char stats_usage[] =
    "usage: scanvault stats [--data DIR] [--config FILE] [--key FILE] [--json]\n"
    "\n"
    "Counts of documents by state (filed, review, quarantined) and by type,\n"
    "the review queue, the index size and the vault size, and documents still\n"
    "in the spool. No patient data.\n"
    "\n"
    "Options:\n"
    "  --json         one JSON object: {\"documents\", \"filed\", \"review\",\n"
    "                 \"quarantined\", \"review_queue\", \"types\": {TYPE: {\"filed\",\n"
    "                 \"review\", \"quarantined\"}}, \"index_bytes\", \"index_map_bytes\",\n"
    "                 \"vault_objects\", \"vault_bytes\", \"spool_files\"}\n"
    "  --data DIR, --config FILE, --key FILE   as for 'scanvault ingest'\n"
    CLI_SESSION_HELP
    "  -h, --help     this text\n"
    "\n"
    "When the service runs, the figures come through its socket (admin role);\n"
    "otherwise the data directory is opened here (direct mode).\n"
    "\n"
    "Exit status: 0 printed; 2 usage error; 3 environment error (also: refused by\n"
    "the service).\n";

static void print_stats_json(const sv_store_stats *st)
{
    const sv_index_stats *ix = &st->index;
    printf("{\"documents\": %llu, \"filed\": %llu, \"review\": %llu, \"quarantined\": %llu, "
           "\"review_queue\": %llu, \"types\": {",
           (unsigned long long)ix->docs, (unsigned long long)ix->by_state[SV_INDEX_FILED],
           (unsigned long long)ix->by_state[SV_INDEX_REVIEW],
           (unsigned long long)ix->by_state[SV_INDEX_QUARANTINED],
           (unsigned long long)ix->review_queue);
    for (size_t i = 0; i < ix->n_types; i++) {
        printf("%s", i ? ", " : "");
        cli_json_string(stdout, ix->types[i].type);
        printf(": {\"filed\": %llu, \"review\": %llu, \"quarantined\": %llu}",
               (unsigned long long)ix->types[i].by_state[SV_INDEX_FILED],
               (unsigned long long)ix->types[i].by_state[SV_INDEX_REVIEW],
               (unsigned long long)ix->types[i].by_state[SV_INDEX_QUARANTINED]);
    }
    printf("}, \"types_truncated\": %s, \"index_bytes\": %llu, \"index_map_bytes\": %llu, "
           "\"vault_objects\": %llu, \"vault_bytes\": %llu, \"spool_files\": %llu}\n",
           ix->types_truncated ? "true" : "false", (unsigned long long)st->index_bytes,
           (unsigned long long)ix->map_size, (unsigned long long)st->vault_objects,
           (unsigned long long)st->vault_bytes, (unsigned long long)st->spool_files);
}

static void print_stats_table(const sv_store_stats *st)
{
    const sv_index_stats *ix = &st->index;
    printf("documents     %llu\n", (unsigned long long)ix->docs);
    printf("  filed       %llu\n", (unsigned long long)ix->by_state[SV_INDEX_FILED]);
    printf("  review      %llu (queue: %llu)\n", (unsigned long long)ix->by_state[SV_INDEX_REVIEW],
           (unsigned long long)ix->review_queue);
    printf("  quarantined %llu\n", (unsigned long long)ix->by_state[SV_INDEX_QUARANTINED]);
    printf("\n%-20s %8s %8s %12s\n", "TYPE", "FILED", "REVIEW", "QUARANTINED");
    for (size_t i = 0; i < ix->n_types; i++)
        printf("%-20s %8llu %8llu %12llu\n", ix->types[i].type,
               (unsigned long long)ix->types[i].by_state[SV_INDEX_FILED],
               (unsigned long long)ix->types[i].by_state[SV_INDEX_REVIEW],
               (unsigned long long)ix->types[i].by_state[SV_INDEX_QUARANTINED]);
    if (ix->types_truncated)
        printf("(more types than shown)\n");
    printf("\nindex         %.1f MiB on disk (map %.0f MiB)\n", (double)st->index_bytes / 1048576.0,
           (double)ix->map_size / 1048576.0);
    printf("vault         %llu objects, %.1f MiB\n", (unsigned long long)st->vault_objects,
           (double)st->vault_bytes / 1048576.0);
    printf("spool         %llu document(s) waiting to be filed\n",
           (unsigned long long)st->spool_files);
}

int cmd_stats(int argc, char **argv)
{
    static const struct option options[] = {{"data", required_argument, NULL, 'd'},
                                            {"config", required_argument, NULL, 'c'},
                                            {"key", required_argument, NULL, 'k'},
                                            {"json", no_argument, NULL, 'j'},
                                            {"help", no_argument, NULL, 'h'},
                                            CLI_SESSION_OPTIONS,
                                            {NULL, 0, NULL, 0}};
    cli_target t = {0};
    bool as_json = false;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case 'd': t.data_dir = optarg; break;
        case 'c': t.config_path = optarg; break;
        case 'k': t.key_file = optarg; break;
        case 'j': as_json = true; break;
        case 'h': fputs(stats_usage, stdout); return SV_EXIT_OK;
        default:
            if (cli_target_option(&t, opt, optarg))
                break;
            fputs(stats_usage, stderr);
            return SV_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        cli_error("stats takes no arguments");
        return SV_EXIT_USAGE;
    }
    cli_session s;
    sv_store_stats st;
    int code = cli_session_open(&t, CLI_DIRECT_READ_ONLY, &s);
    if (code != SV_EXIT_OK)
        return code;
    int rc = s.client != NULL ? sv_client_get_stats(s.client, &st)
                              : sv_store_get_stats(s.store, &st);
    if (rc != 0) {
        code = cli_session_failed(&s, rc, SV_EXIT_ENV);
        goto out;
    }
    if (as_json)
        print_stats_json(&st);
    else
        print_stats_table(&st);
out:
    cli_session_close(&s);
    return code;
}
