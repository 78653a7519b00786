/*
 * cmd_rotate_key.c - `scanvault rotate-key`: replace the master key. Offline
 * admin work with the service stopped; resumable by running it again.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "maint_cli.h"

static const char rotate_usage[] =
    "usage: scanvault rotate-key [--data DIR] [--config FILE] [--key FILE] [-q]\n"
    "\n"
    "Make a new master key and move the data directory onto it: every vault\n"
    "object's data key is re-wrapped (only its header is rewritten), the index\n"
    "is rebuilt under the new blind-index and content-hash keys, and the audit\n"
    "log is continued under the new audit key (the old log is kept as\n"
    "audit/audit-<old key id>.log, pinned by the first line of the new one).\n"
    "Last, the new key replaces the key file. Until then the old key file is\n"
    "left as it was; after it, the old key is no longer needed.\n"
    "\n"
    "Stop the service first (systemctl stop scanvault): rotate-key refuses to\n"
    "run beside it or an ingest. If it is interrupted (a crash, a power cut,\n"
    "kill -9), run it again: it resumes where it was, and until it has finished\n"
    "no other scanvault command opens the data directory.\n"
    "\n"
    "Options:\n"
    "  --key FILE     the key file to replace (default: [storage] key_file, else\n"
    "                 DIR/keys/scanvault.key; under systemd credentials name the\n"
    "                 key file itself)\n"
    "  -q, --quiet    no progress line\n"
    "  --data DIR, --config FILE   as for 'scanvault ingest'\n"
    "  -h, --help     this text\n"
    "\n"
    "Back up the new key file at once, apart from the vault. Keep the old key's\n"
    "backup only as long as you keep vault backups made before the rotation.\n"
    "\n"
    "Exit status: 0 the new key is in force; 1 the rotation could not finish\n"
    "(an object that cannot be re-wrapped: run 'scanvault verify'); 2 usage\n"
    "error; 3 environment error (service running, key, data directory).\n";

int cmd_rotate_key(int argc, char **argv)
{
    static const struct option options[] = {{"data", required_argument, NULL, 'd'},
                                            {"config", required_argument, NULL, 'c'},
                                            {"key", required_argument, NULL, 'k'},
                                            {"quiet", no_argument, NULL, 'q'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    const char *data_dir = NULL, *config_path = NULL, *key_file = NULL;
    bool is_quiet = false;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "hq", options, NULL)) != -1) {
        switch (opt) {
        case 'd': data_dir = optarg; break;
        case 'c': config_path = optarg; break;
        case 'k': key_file = optarg; break;
        case 'q': is_quiet = true; break;
        case 'h': fputs(rotate_usage, stdout); return SV_EXIT_OK;
        default: fputs(rotate_usage, stderr); return SV_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        cli_error("rotate-key takes no arguments");
        return SV_EXIT_USAGE;
    }
    sv_intake_settings settings;
    int code = cli_load_storage_settings(config_path, data_dir, key_file, &settings);
    if (code != SV_EXIT_OK)
        return code;
    if (sv_crypto_global_init() != 0) {
        cli_error("%s", sv_crypto_last_error());
        return SV_EXIT_ENV;
    }
    cli_progress progress;
    cli_progress_init(&progress, "rotate-key", is_quiet);
    cli_problems problems = {.progress = &progress};
    sv_rotate_options o = {.data_dir = settings.data_dir,
                           .key_file = settings.key_file,
                           .progress = progress.is_on ? cli_progress_show : NULL,
                           .progress_ctx = &progress,
                           .problem = cli_print_problem,
                           .problem_ctx = &problems};
    sv_rotate_report rep;
    int rc = sv_rotate_key(&o, &rep);
    cli_progress_clear(&progress);
    if (rc != 0) {
        cli_error("%s", sv_intake_last_error());
        if (rep.new_key_id[0] != '\0')
            cli_error("the old key %s is still in force; run 'scanvault rotate-key' again to "
                      "finish", rep.old_key_id);
        return rc == SV_EEXIST || rc == SV_EINVAL || rc == SV_ENOTFOUND || rc == SV_EKEY ||
                       rc == SV_EPERM || rc == SV_EFORMAT || rc == SV_EVERSION || rc == SV_EERRNO
                   ? SV_EXIT_ENV
                   : SV_EXIT_FAILURE;
    }
    if (rep.was_committed) {
        printf("the interrupted rotation had committed; key %s is in force\n", rep.new_key_id);
        return SV_EXIT_OK;
    }
    printf("%s%llu objects re-wrapped (%llu already under the new key), %llu index entries "
           "rebuilt, in %.1f s\n",
           rep.resumed ? "resumed an interrupted rotation: " : "",
           (unsigned long long)rep.rewrapped, (unsigned long long)rep.already_new,
           (unsigned long long)rep.reindex.indexed, rep.seconds);
    printf("key %s replaced by key %s; the old key is no longer needed.\n"
           "Back up the new key file now, apart from the vault.\n",
           rep.old_key_id, rep.new_key_id);
    if (rep.warning[0] != '\0')
        cli_error("the rotation committed, but its last audit line was not written: %s",
                  rep.warning);
    return SV_EXIT_OK;
}
