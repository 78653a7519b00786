/*
 * cmd_config.c - `scanvault config check [FILE]`: validate the configuration
 * the way `scanvault run` reads it, without starting anything, and say what
 * the service would find on this machine.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static const char config_usage[] =
    "usage: scanvault config check [FILE]\n"
    "\n"
    "Read the configuration FILE (default: $SCANVAULT_CONFIG, else\n"
    "/etc/scanvault/scanvault.conf if it exists, else the built-in defaults are\n"
    "checked) exactly as 'scanvault run' and a SIGHUP reload read it: every section and key, every value, the file's\n"
    "permissions, the known-MRN list it names and the key file's permissions.\n"
    "A mistake is reported as FILE:LINE: what is wrong (values are never\n"
    "echoed). Nothing is started and nothing is changed.\n"
    "\n"
    "When the file is valid, the settings in force are printed, followed by a\n"
    "warning for each thing the service would miss on this machine: the data\n"
    "directory (run 'scanvault init'), the inbox, the key file.\n"
    "\n"
    "Options:\n"
    "  --config FILE  the same as giving FILE\n"
    "  -h, --help     this text\n"
    "\n"
    "Exit status: 0 valid (warnings do not change it); 2 usage error; 3 the\n"
    "configuration is invalid or cannot be read.\n";

static const char *log_level_name(int level)
{
    static const char *const names[] = {"error", "warning", "info", "debug"};
    return level >= 0 && level < 4 ? names[level] : "?";
}

/* A warning when path is not a directory. */
static int warn_unless_directory(const char *what, const char *path, const char *what_to_do)
{
    struct stat st;
    int found = stat(path, &st) == 0;
    if (found && S_ISDIR(st.st_mode))
        return 0;
    printf("warning: %s %s %s; %s\n", what, path,
           !found && errno == ENOENT ? "does not exist" : "is not a usable directory",
           what_to_do);
    return 1;
}

static int warn_about_environment(const sv_intake_settings *s)
{
    int n = 0;
    char path[SV_INTAKE_PATH_MAX + 32];
    n += warn_unless_directory("the data directory", s->data_dir,
                               "run 'scanvault init --data DIR' (deploy/install.sh does)");
    snprintf(path, sizeof path, "%s/vault/objects", s->data_dir);
    if (n == 0)
        n += warn_unless_directory("the vault", path, "run 'scanvault init --data DIR'");
    n += warn_unless_directory("the inbox", s->inbox, "create it (deploy/install.sh does)");
    const char *cred = getenv("CREDENTIALS_DIRECTORY");
    if (cred != NULL && cred[0] != '\0') {
        snprintf(path, sizeof path, "%s/%s", cred, SV_KEY_FILE_NAME);
    } else if (s->key_file[0] != '\0') {
        snprintf(path, sizeof path, "%s", s->key_file);
    } else {
        snprintf(path, sizeof path, "%s/keys/%s", s->data_dir, SV_KEY_FILE_NAME);
    }
    struct stat st;
    if (stat(path, &st) != 0) {
        printf("warning: no key file at %s (%s); under systemd the key comes from the "
               "credential (LoadCredential=)\n",
               path, strerror(errno));
        n++;
    } else if ((st.st_mode & 077) != 0) {
        printf("warning: the key file %s can be read or written by group or others; chmod "
               "600 it, and treat the key as exposed\n",
               path);
        n++;
    }
    return n;
}

static void print_settings(const sv_intake_settings *s)
{
    printf("[storage] data_dir = %s\n", s->data_dir);
    printf("[storage] key_file = %s\n", s->key_file[0] ? s->key_file : "(default)");
    printf("[storage] docid_prefix = %s\n", s->docid_prefix[0] ? s->docid_prefix : "(none)");
    printf("[intake] workers = %u%s\n", sv_intake_settings_workers(s),
           s->workers == 0 ? " (one per core)" : "");
    printf("[intake] inbox = %s\n", s->inbox);
    printf("[intake] settle_seconds = %u, rescan_seconds = %u, inotify = %s\n",
           s->settle_seconds, s->rescan_seconds, s->use_inotify ? "true" : "false");
    printf("[service] log_level = %s\n", log_level_name(s->log_level));
    printf("[access] socket = %s (group %s)\n", s->access_socket,
           s->access_socket_group[0] ? s->access_socket_group : "(the service's)");
    printf("[access] roles: admin = %s; clerk = %s; reviewer = %s\n",
           s->access_admin_groups[0] ? s->access_admin_groups : "(none)",
           s->access_clerk_groups[0] ? s->access_clerk_groups : "(none)",
           s->access_reviewer_groups[0] ? s->access_reviewer_groups : "(none)");
    printf("[access] documents per hour: admin %u, clerk %u, reviewer %u (0: no cap)\n",
           s->access_admin_docs_per_hour, s->access_clerk_docs_per_hour,
           s->access_reviewer_docs_per_hour);
    printf("[mrn], [types], [ocr]: valid\n");
}

int cmd_config(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(config_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? SV_EXIT_USAGE : SV_EXIT_OK;
    }
    if (strcmp(argv[1], "check") != 0) {
        cli_error("unknown config command '%s'; 'scanvault config check [FILE]'", argv[1]);
        return SV_EXIT_USAGE;
    }
    const char *path = NULL;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(config_usage, stdout);
            return SV_EXIT_OK;
        }
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc && path == NULL) {
            path = argv[++i];
        } else if (argv[i][0] != '-' && path == NULL) {
            path = argv[i];
        } else {
            fputs(config_usage, stderr);
            return SV_EXIT_USAGE;
        }
    }
    sv_ocr_rules *rules = NULL;
    sv_intake_settings settings;
    int code = cli_load_config(path, &rules, &settings);
    sv_ocr_rules_destroy(rules);
    if (code != SV_EXIT_OK)
        return code;
    const char *shown = path != NULL ? path : getenv("SCANVAULT_CONFIG");
    if (shown == NULL || shown[0] == '\0')
        shown = access(CLI_DEFAULT_CONFIG, F_OK) == 0 ? CLI_DEFAULT_CONFIG : "(built-in defaults)";
    printf("%s: valid\n", shown);
    print_settings(&settings);
    int warnings = warn_about_environment(&settings);
    if (warnings > 0)
        printf("%d warning(s): the service would not start here as it is\n", warnings);
    return SV_EXIT_OK;
}
