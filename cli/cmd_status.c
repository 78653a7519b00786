/*
 * cmd_status.c - `scanvault status`: what the running service last wrote
 * about itself. Needs no key.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

#define STALE_AFTER_S 15

static const char status_usage[] =
    "usage: scanvault status [--config FILE] [--data DIR] [--json] [--socket PATH]\n"
    "                        [--direct]\n"
    "\n"
    "What the intake service reports about itself (written every second by\n"
    "'scanvault run'): whether it runs, files waiting in the inbox and the age of\n"
    "the oldest, documents queued and in flight, OCR workers idle and busy,\n"
    "documents per state (since start, and in the index), the last error.\n"
    "\n"
    "Options:\n"
    "  --json         one JSON object: {\"running\", \"state\", \"pid\", \"inbox_waiting\",\n"
    "                 \"oldest_waiting_seconds\", \"queued\", \"in_flight\", \"workers\",\n"
    "                 \"since_start\", \"index\", \"last_error\", ...}\n"
    "  --config FILE, --data DIR   as for 'scanvault ingest'\n"
    "  --socket PATH  the service's socket (default: $SCANVAULT_SOCKET, else\n"
    "                 [access] socket of the configuration)\n"
    "  --direct       read the status file even when the service runs\n"
    "  -h, --help     this text\n"
    "\n"
    "When the service runs, the status comes through its socket (admin role);\n"
    "otherwise the status file the service last wrote is read.\n"
    "\n"
    "Exit status: 0 the service runs; 1 it does not (the last status is shown);\n"
    "2 usage error; 3 no status at all (the service never ran on this data), or\n"
    "refused by the service.\n";

/* The value of a number field in our own flat JSON, or -1. */
static long long json_number(const char *json, const char *key)
{
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\": ", key);
    const char *p = strstr(json, pattern);
    if (p == NULL)
        return -1;
    return strtoll(p + strlen(pattern), NULL, 10);
}

static bool is_service_running(const char *json)
{
    long long pid = json_number(json, "pid"), updated = json_number(json, "updated");
    if (strstr(json, "\"state\": \"stopped\"") != NULL || pid <= 0)
        return false;
    if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
        return false;
    return (long long)time(NULL) - updated <= STALE_AFTER_S;
}

static int print_status(const char *json, bool as_json);

int cmd_status(int argc, char **argv)
{
    static const struct option options[] = {{"config", required_argument, NULL, 'c'},
                                            {"data", required_argument, NULL, 'd'},
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
        case 'c': t.config_path = optarg; break;
        case 'd': t.data_dir = optarg; break;
        case 'j': as_json = true; break;
        case 'h': fputs(status_usage, stdout); return SV_EXIT_OK;
        default:
            if (cli_target_option(&t, opt, optarg))
                break;
            fputs(status_usage, stderr);
            return SV_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        cli_error("status takes no arguments");
        return SV_EXIT_USAGE;
    }
    cli_session s;
    int code = cli_session_open(&t, CLI_DIRECT_NOTHING, &s);
    if (code != SV_EXIT_OK)
        return code;
    char json[8192];
    if (s.client != NULL) {
        int rc = sv_client_status(s.client, json, sizeof json);
        if (rc != 0)
            code = cli_session_failed(&s, rc, SV_EXIT_ENV);
        cli_session_close(&s);
        return code != SV_EXIT_OK ? code : print_status(json, as_json);
    }
    const sv_intake_settings settings = s.settings;
    cli_session_close(&s);
    char path[SV_INTAKE_PATH_MAX + 32];
    if (settings.status_file[0] != '\0')
        snprintf(path, sizeof path, "%s", settings.status_file);
    else
        snprintf(path, sizeof path, "%s/status/status.json", settings.data_dir);
    FILE *in = fopen(path, "r");
    if (in == NULL) {
        cli_error("no status at %s: %s (has 'scanvault run' ever run with this data "
                  "directory?)",
                  path, strerror(errno));
        return SV_EXIT_ENV;
    }
    size_t len = fread(json, 1, sizeof json - 1, in);
    fclose(in);
    json[len] = '\0';
    if (len == 0 || json[0] != '{') {
        cli_error("%s is empty or damaged", path);
        return SV_EXIT_ENV;
    }
    return print_status(json, as_json);
}

/* Print the service's status JSON; the exit code says whether it runs. */
static int print_status(const char *json, bool as_json)
{
    if (json[0] != '{') {
        cli_error("the service's status is empty or damaged");
        return SV_EXIT_ENV;
    }
    bool is_running = is_service_running(json);
    if (as_json) {
        printf("{\"running\": %s, %s", is_running ? "true" : "false", json + 1);
    } else {
        long long updated = json_number(json, "updated");
        printf("service       %s (pid %lld, status written %lld s ago)\n",
               is_running ? "running" : "NOT running", json_number(json, "pid"),
               (long long)time(NULL) - updated);
        printf("inbox         %lld file(s) waiting, oldest %lld s\n",
               json_number(json, "inbox_waiting"), json_number(json, "oldest_waiting_seconds"));
        printf("pipeline      %lld queued, %lld in flight; workers %lld idle, %lld busy\n",
               json_number(json, "queued"), json_number(json, "in_flight"),
               json_number(json, "idle"), json_number(json, "busy"));
        printf("since start   %lld filed, %lld review, %lld quarantined, %lld duplicate, "
               "%lld failed\n",
               json_number(json, "filed"), json_number(json, "review"),
               json_number(json, "quarantined"), json_number(json, "duplicate"),
               json_number(json, "failed"));
        const char *err = strstr(json, "\"last_error\": ");
        printf("last error    ");
        if (err == NULL || strncmp(err + 14, "null", 4) == 0) {
            puts("none");
        } else {
            const char *end = strstr(err + 15, "\", \"last_error_at\"");
            printf("%.*s\n", end != NULL ? (int)(end - err - 15) : 0, err + 15);
        }
    }
    return is_running ? SV_EXIT_OK : SV_EXIT_FAILURE;
}
