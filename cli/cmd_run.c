/*
 * cmd_run.c - `scanvault run`: the intake service in the foreground (under
 * systemd, or by hand).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char run_usage[] =
    "usage: scanvault run [--config FILE] [--data DIR] [--key FILE] [--inbox DIR] [--jobs N]\n"
    "\n"
    "The intake service. Watches the inbox ([intake] inbox) with inotify and a\n"
    "full listing every rescan_seconds (files written over SMB/NFS by another\n"
    "host raise no event), and claims a file once it is stable: size and mtime\n"
    "unchanged for settle_seconds and, for local writers, closed. Hidden and\n"
    "temporary names (.x, x~, *.tmp, *.part, *.crdownload) are ignored; links,\n"
    "directories, FIFOs and devices are left alone. Each claimed file is filed\n"
    "like 'scanvault ingest --move' does: filed, review or quarantined, never\n"
    "dropped. Documents left in the spool by a crash are filed first.\n"
    "\n"
    "Logs one line per document to stderr (the journal under systemd): docid,\n"
    "status, reason, pages, milliseconds; never an MRN or a file name. Writes\n"
    "its status every second for 'scanvault status' ([service] status_file) and\n"
    "in Prometheus text format for node_exporter ([service] metrics_file).\n"
    "\n"
    "Serves people's commands (find, get, review, ...) on a Unix socket\n"
    "([access] socket, mode 0660, group [access] socket_group): each caller is\n"
    "identified by the kernel, gets a role by OS group, and every request is\n"
    "audited under the caller's name (docs/access.md). A socket that cannot be\n"
    "set up is logged; filing goes on.\n"
    "\n"
    "Signals: SIGTERM or SIGINT drain (no new claims, documents in flight are\n"
    "filed, then exit 0); SIGHUP reloads the configuration file (a bad one is\n"
    "refused with a log line and the running configuration is kept).\n"
    "\n"
    "Options:\n"
    "  --config FILE  configuration (default: $SCANVAULT_CONFIG, else\n"
    "                 " CLI_DEFAULT_CONFIG " if it exists, else built-in defaults)\n"
    "  --data DIR     overrides [storage] data_dir ($SCANVAULT_DATA too)\n"
    "  --key FILE     overrides [storage] key_file\n"
    "  --inbox DIR    overrides [intake] inbox\n"
    "  --jobs N       overrides [intake] workers\n"
    "  -h, --help     this text\n"
    "\n"
    "Exit status: 0 stopped after a drain; 2 usage error; 3 cannot start or\n"
    "cannot go on (configuration, data directory, key, inbox, OCR workers).\n";

int cmd_run(int argc, char **argv)
{
    static const struct option options[] = {{"config", required_argument, NULL, 'c'},
                                            {"data", required_argument, NULL, 'd'},
                                            {"key", required_argument, NULL, 'k'},
                                            {"inbox", required_argument, NULL, 'i'},
                                            {"jobs", required_argument, NULL, 'n'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    sv_service_options o = {0};
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case 'c': o.config_path = optarg; break;
        case 'd': o.data_dir = optarg; break;
        case 'k': o.key_file = optarg; break;
        case 'i': o.inbox = optarg; break;
        case 'n': {
            char *end = NULL;
            errno = 0;
            unsigned long n = strtoul(optarg, &end, 10);
            if (errno != 0 || end == optarg || *end != '\0' || optarg[0] == '-' || n < 1 ||
                n > SV_WORKERS_MAX) {
                cli_error("--jobs takes a number from 1 to %d", SV_WORKERS_MAX);
                return SV_EXIT_USAGE;
            }
            o.n_workers = (unsigned)n;
            break;
        }
        case 'h': fputs(run_usage, stdout); return SV_EXIT_OK;
        default: fputs(run_usage, stderr); return SV_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        cli_error("run takes no arguments");
        return SV_EXIT_USAGE;
    }
    if (o.config_path == NULL) {
        const char *env = getenv("SCANVAULT_CONFIG");
        if (env != NULL && env[0] != '\0')
            o.config_path = env;
        else if (access(CLI_DEFAULT_CONFIG, F_OK) == 0)
            o.config_path = CLI_DEFAULT_CONFIG;
    }
    const char *env_data = getenv("SCANVAULT_DATA");
    if (o.data_dir == NULL && env_data != NULL && env_data[0] != '\0')
        o.data_dir = env_data;
    if (sv_crypto_global_init() != 0) {
        cli_error("%s", sv_crypto_last_error());
        return SV_EXIT_ENV;
    }
    if (sv_service_run(&o) != 0) {
        cli_error("%s", sv_intake_last_error());
        return SV_EXIT_ENV;
    }
    return SV_EXIT_OK;
}
