/*
 * cmd_export.c - `scanvault export`: release of information. Every filed
 * document of one patient, decrypted, into a new directory with a manifest
 * (sv_store_export() does the work, the checks and the audit; this file
 * parses, shows progress and prints).
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static const char export_usage[] =
    "usage: scanvault export [--data DIR] [--config FILE] [--key FILE] [--type TYPE]\n"
    "                        [--from DATE] [--to DATE] [--json] -o DIR MRN\n"
    "\n"
    "Release of information: write every filed document of the patient with this\n"
    "MRN, decrypted, into the new directory DIR, as <docid>.<pdf|png|jpg|tif|bin>,\n"
    "with manifest.json and manifest.tsv (docid, file, type, date, pages, size,\n"
    "SHA-256 of the bytes written; no MRN). Every document is authenticated before\n"
    "anything is written; DIR appears only once complete, and a failure leaves\n"
    "nothing behind. The export is audited as one action (without the MRN).\n"
    "Documents held for review or quarantined are under no MRN and are not\n"
    "exported. DIR holds decrypted patient documents: hand it over securely and\n"
    "delete it when done (docs/release-of-information.md).\n"
    "\n"
    "Options:\n"
    "  -o DIR         the new directory (required; it must not exist, its parent\n"
    "                 must); created with mode 0700, files 0600\n"
    "  --type TYPE    only this document type (lab_report, prescription, ...)\n"
    "  --from DATE    only documents taken in on or after DATE (YYYY-MM-DD, UTC)\n"
    "  --to DATE      only documents taken in on or before DATE\n"
    "  --json         print the summary as one JSON object: {\"docs\", \"bytes\",\n"
    "                 \"directory\", \"manifest\"}\n"
    "  --data DIR, --config FILE, --key FILE   as for 'scanvault ingest'\n"
    CLI_SESSION_HELP
    "  -h, --help     this text\n"
    "\n"
    "When the service runs, it checks, audits and sends the documents through\n"
    "its socket (admin role; each document counts against the role's hourly\n"
    "cap) and this command writes DIR; the service never writes decrypted bytes\n"
    "to disk. Otherwise the data directory is opened here (direct mode).\n"
    "\n"
    "Exit status: 0 exported; 1 nothing exported: no filed document for this MRN\n"
    "(and filters), a damaged document, a write error or an interruption (nothing\n"
    "is left behind); 2 usage error (no -o, DIR exists, an MRN that is not\n"
    "well-formed); 3 environment error (data directory, key, DIR's parent not\n"
    "writable, refused by the service).\n";

static volatile sig_atomic_t is_stop_requested;

static void request_stop(int sig)
{
    (void)sig;
    is_stop_requested = 1;
}

typedef struct export_progress {
    bool is_terminal;  /* report on stderr only when it is a terminal */
    bool is_line_open; /* a progress line without its newline is showing */
} export_progress;

static int show_progress(sv_store_export_phase phase, size_t done, size_t total, void *ctx)
{
    export_progress *p = ctx;
    if (p->is_terminal && total > 0) {
        fprintf(stderr, "\r%s %zu/%zu documents%s",
                phase == SV_STORE_EXPORT_CHECKING ? "checking" : "writing ", done, total,
                done == total ? "\n" : "");
        p->is_line_open = done != total;
    }
    return is_stop_requested ? 1 : 0;
}

enum { N_STOP_SIGNALS = 3 };
static const int stop_signals[N_STOP_SIGNALS] = {SIGINT, SIGTERM, SIGHUP};

/* Catch Ctrl-C and the like so the library can remove what it wrote (the
 * default action would leave decrypted documents in a temp directory);
 * saved gets the actions to restore. A signal the caller ignores stays
 * ignored. */
static void catch_stop_signals(struct sigaction saved[N_STOP_SIGNALS])
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = request_stop;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < N_STOP_SIGNALS; i++) {
        sigaction(stop_signals[i], NULL, &saved[i]);
        if (saved[i].sa_handler != SIG_IGN)
            sigaction(stop_signals[i], &sa, NULL);
    }
}

static void restore_signals(const struct sigaction saved[N_STOP_SIGNALS])
{
    for (size_t i = 0; i < N_STOP_SIGNALS; i++)
        sigaction(stop_signals[i], &saved[i], NULL);
}

/* The checks a clerk should hear about before the store is opened: DIR must
 * be new, its parent a directory we may write to. */
static int check_target(const char *out_dir)
{
    struct stat st;
    if (lstat(out_dir, &st) == 0) {
        cli_error("%s exists: an export is only written into a new directory; choose "
                  "another name",
                  out_dir);
        return SV_EXIT_USAGE;
    }
    char *copy = strdup(out_dir);
    if (copy == NULL) {
        cli_error("out of memory");
        return SV_EXIT_ENV;
    }
    const char *parent = dirname(copy);
    int code = SV_EXIT_OK;
    if (stat(parent, &st) != 0 || !S_ISDIR(st.st_mode)) {
        cli_error("%s is not a directory: create it first, the export directory goes in it",
                  parent);
        code = SV_EXIT_USAGE;
    } else if (access(parent, W_OK | X_OK) != 0) {
        cli_error("cannot create a directory in %s: %s", parent, strerror(errno));
        code = SV_EXIT_ENV;
    }
    free(copy);
    return code;
}

static void print_summary(const sv_store_export_summary *s, const char *out_dir, bool as_json)
{
    if (as_json) {
        printf("{\"docs\": %zu, \"bytes\": %llu, \"directory\": ", s->docs,
               (unsigned long long)s->bytes);
        cli_json_string(stdout, out_dir);
        fputs(", \"manifest\": \"manifest.json\"}\n", stdout);
    } else {
        printf("exported %zu document%s (%llu bytes) to ", s->docs, s->docs == 1 ? "" : "s",
               (unsigned long long)s->bytes);
        cli_print_safe(stdout, out_dir);
        fputs("\nmanifest: manifest.json and manifest.tsv in that directory\n", stdout);
    }
    fputs("scanvault: the directory holds decrypted patient documents (PHI): hand it over "
          "securely and delete it when done\n",
          stderr);
}

/* Library errors to exit codes: the request itself was wrong (2), or
 * nothing was exported (1). Environment errors (3) come earlier. */
static int exit_code_for(int rc)
{
    if (rc == SV_EINVAL || rc == SV_EEXIST || rc == SV_ELIMIT)
        return SV_EXIT_USAGE;
    return SV_EXIT_FAILURE;
}

int cmd_export(int argc, char **argv)
{
    static const struct option options[] = {{"data", required_argument, NULL, 'd'},
                                            {"config", required_argument, NULL, 'c'},
                                            {"key", required_argument, NULL, 'k'},
                                            {"output", required_argument, NULL, 'o'},
                                            {"type", required_argument, NULL, 't'},
                                            {"from", required_argument, NULL, 'f'},
                                            {"to", required_argument, NULL, 'u'},
                                            {"json", no_argument, NULL, 'j'},
                                            {"help", no_argument, NULL, 'h'},
                                            CLI_SESSION_OPTIONS,
                                            {NULL, 0, NULL, 0}};
    cli_target t = {0};
    const char *out_dir = NULL;
    sv_index_filter filter = {0};
    bool as_json = false, has_filter = false;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "ho:", options, NULL)) != -1) {
        switch (opt) {
        case 'd': t.data_dir = optarg; break;
        case 'c': t.config_path = optarg; break;
        case 'k': t.key_file = optarg; break;
        case 'o': out_dir = optarg; break;
        case 't':
            if (!sv_index_type_ok(optarg)) {
                cli_error("--type takes a type name such as lab_report (a-z and '_')");
                return SV_EXIT_USAGE;
            }
            filter.type = optarg;
            has_filter = true;
            break;
        case 'f':
            if (cli_parse_date("--from", optarg, false, &filter.since) != 0)
                return SV_EXIT_USAGE;
            has_filter = true;
            break;
        case 'u':
            if (cli_parse_date("--to", optarg, true, &filter.until) != 0)
                return SV_EXIT_USAGE;
            has_filter = true;
            break;
        case 'j': as_json = true; break;
        case 'h': fputs(export_usage, stdout); return SV_EXIT_OK;
        default:
            if (cli_target_option(&t, opt, optarg))
                break;
            fputs(export_usage, stderr);
            return SV_EXIT_USAGE;
        }
    }
    if (argc - optind != 1) {
        cli_error("export takes exactly one MRN");
        fputs(export_usage, stderr);
        return SV_EXIT_USAGE;
    }
    if (out_dir == NULL || out_dir[0] == '\0') {
        cli_error("give the new directory to export into with -o DIR");
        return SV_EXIT_USAGE;
    }
    if (filter.since != 0 && filter.until != 0 && filter.since > filter.until) {
        cli_error("--from is after --to");
        return SV_EXIT_USAGE;
    }
    const char *mrn = argv[optind];
    /* Check the MRN and DIR before anything is opened or asked: a typo is a
     * usage error. (Through the service, with a configuration this user
     * cannot read, the service checks the MRN.) */
    cli_session s;
    int code = SV_EXIT_OK;
    cli_session_load(&t, &s);
    if (s.rules != NULL) {
        char digits[SV_MRN_MAX + 1];
        sv_ocr_reason why = sv_ocr_check_mrn(s.rules, mrn, digits);
        memset(digits, 0, sizeof digits);
        if (why != SV_REASON_NONE && why != SV_REASON_UNKNOWN_MRN) {
            cli_error("the MRN given is not well-formed: %s", sv_ocr_reason_words(why));
            code = SV_EXIT_USAGE;
            goto out;
        }
    }
    if ((code = check_target(out_dir)) != SV_EXIT_OK ||
        (code = cli_session_reach(&t, CLI_DIRECT_READ_ONLY, &s)) != SV_EXIT_OK)
        goto out;
    export_progress progress = {.is_terminal = isatty(STDERR_FILENO) == 1};
    sv_store_export_options opts = {.filter = has_filter ? &filter : NULL,
                                    .progress = show_progress,
                                    .progress_ctx = &progress};
    sv_store_export_summary summary;
    struct sigaction saved[N_STOP_SIGNALS];
    catch_stop_signals(saved);
    int rc = s.client != NULL ? sv_client_export(s.client, mrn, out_dir, &opts, &summary)
                              : sv_store_export(s.store, s.rules, mrn, out_dir, &opts, &summary);
    restore_signals(saved);
    if (rc != 0) {
        if (progress.is_line_open)
            fputc('\n', stderr);
        code = cli_session_failed(&s, rc, exit_code_for(rc));
        goto out;
    }
    print_summary(&summary, out_dir, as_json);
out:
    cli_session_close(&s);
    return code;
}
