/*
 * cmd_reindex.c - `scanvault reindex`: rebuild the index from the vault
 * objects alone and swap it in atomically. Offline admin work: it takes the
 * data directory's lock, so the service must be stopped.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "maint_cli.h"

static const char reindex_usage[] =
    "usage: scanvault reindex [--skip-damaged] [-q] [--data DIR] [--config FILE]\n"
    "                         [--key FILE]\n"
    "\n"
    "Rebuild the index from the vault objects alone (each carries its sealed\n"
    "metadata). Every object's header is authenticated and its entry made from\n"
    "its metadata; the new index is built beside the old one (DIR/index.new),\n"
    "compared with it entry for entry, and then swapped in with one atomic\n"
    "rename. A crash at any point leaves the old index or the new one, never a\n"
    "part of one: run reindex again. Document bodies are not read ('scanvault\n"
    "verify' checks them). Of several objects with the same content, the\n"
    "earliest is indexed. The run is audited.\n"
    "\n"
    "The service must be stopped first (systemctl stop scanvault): reindex takes\n"
    "the data directory's lock, which a running service or ingest holds.\n"
    "\n"
    "Prints one line per object left out (damaged, other_key, unreadable,\n"
    "duplicate, stray) and per difference from the old index (different), then a\n"
    "summary that says \"identical to the index it replaced\" or how many\n"
    "entries differ. docs/maintenance.md says what each kind means.\n"
    "\n"
    "Options:\n"
    "  --skip-damaged index every object that authenticates and leave out the\n"
    "                 damaged ones; without it, a damaged object stops the\n"
    "                 reindex and nothing is replaced. Objects sealed under\n"
    "                 another key always stop it (wrong --key?)\n"
    "  -q, --quiet    no progress line (it is shown only on a terminal anyway)\n"
    "  --data DIR, --config FILE, --key FILE   as for 'scanvault ingest'\n"
    "  -h, --help     this text\n"
    "\n"
    "Exit status: 0 the new index is in place; 1 damaged objects: left out\n"
    "(--skip-damaged; the new index is in place) or nothing replaced; 2 usage\n"
    "error; 3 environment error (service running, data directory, key, disk).\n";

/* The key as the store would load it: --key or [storage] key_file, else
 * $CREDENTIALS_DIRECTORY/scanvault.key, else DIR/keys/scanvault.key. */
static int load_key(const sv_intake_settings *settings, sv_keyring **ring)
{
    char default_path[SV_INTAKE_PATH_MAX];
    const char *path = settings->key_file;
    if (path[0] == '\0') {
        int n = snprintf(default_path, sizeof default_path, "%s/keys/scanvault.key",
                         settings->data_dir);
        if (n < 0 || (size_t)n >= sizeof default_path) {
            cli_error("--data: path too long");
            return SV_EXIT_USAGE;
        }
        path = default_path;
    }
    if (sv_crypto_global_init() != 0) {
        cli_error("%s", sv_crypto_last_error());
        return SV_EXIT_ENV;
    }
    int rc = sv_keyring_load_default(ring, path);
    if (rc != 0) {
        cli_error("%s%s", sv_crypto_last_error(),
                  rc == SV_EERRNO ? " (restore the key file from its backup, or give --key)"
                                  : "");
        return SV_EXIT_ENV;
    }
    return SV_EXIT_OK;
}

static void print_summary(const sv_reindex_report *rep)
{
    char rates[64];
    cli_format_rates(rep->objects, rep->bytes, rep->seconds, rates, sizeof rates);
    printf("reindex: %llu objects read (headers), %llu indexed (%.1f MB of documents) in "
           "%.1f s: %s\n",
           (unsigned long long)rep->objects, (unsigned long long)rep->indexed,
           (double)rep->bytes / 1e6, rep->seconds, rates);
    if (rep->damaged + rep->duplicates + rep->strays > 0)
        printf("left out: %llu damaged (%llu under another key), %llu duplicate(s); "
               "%llu stray file(s) left alone\n",
               (unsigned long long)rep->damaged, (unsigned long long)rep->other_key,
               (unsigned long long)rep->duplicates, (unsigned long long)rep->strays);
    if (!rep->had_old)
        printf("there was no index before\n");
    else if (rep->compared && rep->differences == 0)
        printf("identical to the index it replaced\n");
    else if (rep->compared)
        printf("%llu difference(s) from the index it replaced (listed above)\n",
               (unsigned long long)rep->differences);
    else if (rep->not_compared[0] != '\0')
        printf("not compared with the old index: %s\n", rep->not_compared);
    printf(rep->replaced ? "the new index is in place\n" : "nothing was replaced\n");
}

int cmd_reindex(int argc, char **argv)
{
    static const struct option options[] = {{"skip-damaged", no_argument, NULL, 's'},
                                            {"quiet", no_argument, NULL, 'q'},
                                            {"data", required_argument, NULL, 'd'},
                                            {"config", required_argument, NULL, 'c'},
                                            {"key", required_argument, NULL, 'k'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    const char *data_dir = NULL, *config_path = NULL, *key_file = NULL;
    bool is_skipping = false, is_quiet = false;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "hq", options, NULL)) != -1) {
        switch (opt) {
        case 's': is_skipping = true; break;
        case 'q': is_quiet = true; break;
        case 'd': data_dir = optarg; break;
        case 'c': config_path = optarg; break;
        case 'k': key_file = optarg; break;
        case 'h': fputs(reindex_usage, stdout); return SV_EXIT_OK;
        default: fputs(reindex_usage, stderr); return SV_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        cli_error("reindex takes no arguments");
        fputs(reindex_usage, stderr);
        return SV_EXIT_USAGE;
    }
    sv_intake_settings settings;
    int code = cli_load_storage_settings(config_path, data_dir, key_file, &settings);
    sv_keyring *ring = NULL;
    if (code == SV_EXIT_OK)
        code = load_key(&settings, &ring);
    if (code != SV_EXIT_OK)
        return code;
    cli_progress progress;
    cli_progress_init(&progress, "reindex", is_quiet);
    cli_problems problems = {.progress = &progress};
    sv_reindex_options o = {.data_dir = settings.data_dir,
                            .ring = ring,
                            .skip_damaged = is_skipping,
                            .compare_old = true,
                            .progress = progress.is_on ? cli_progress_show : NULL,
                            .progress_ctx = &progress,
                            .problem = cli_print_problem,
                            .problem_ctx = &problems};
    sv_reindex_report rep;
    int rc = sv_reindex_run(&o, &rep);
    cli_progress_clear(&progress);
    if (rc == 0 || rc == SV_EAUTH)
        print_summary(&rep);
    fflush(stdout);
    if (rc != 0)
        cli_error("%s", sv_intake_last_error());
    if (rc == 0)
        code = rep.damaged > 0 ? SV_EXIT_FAILURE : SV_EXIT_OK;
    else
        code = rc == SV_EAUTH ? SV_EXIT_FAILURE : SV_EXIT_ENV;
    sv_keyring_destroy(ring);
    return code;
}
