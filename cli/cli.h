/*
 * cli.h - shared by the files of cli/ only: the subcommand table and the few
 * helpers every subcommand uses. Each subcommand lives in cmd_<name>.c and
 * only parses arguments, calls the modules and prints.
 */
#ifndef SV_CLI_H
#define SV_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "sv_intake.h"
#include "sv_ocr.h"

/* The configuration file used when neither --config nor $SCANVAULT_CONFIG is given. */
#define CLI_DEFAULT_CONFIG "/etc/scanvault/scanvault.conf"

/* X(name, function, one-line summary). Keep in the order `--help` shows. */
#define SV_COMMANDS(X)                                                            \
    X("init", cmd_init, "create the data directory and a new master key")        \
    X("run", cmd_run, "the intake service: watch the inbox and file what arrives") \
    X("status", cmd_status, "what the running service reports about itself")      \
    X("ingest", cmd_ingest, "file documents now: OCR, encrypt, index")             \
    X("find", cmd_find, "list a patient's documents by MRN")                      \
    X("get", cmd_get, "write a document's original bytes")                        \
    X("export", cmd_export, "release of information: every document of a patient into a new directory") \
    X("list", cmd_list, "documents of one state, e.g. the quarantine")            \
    X("review", cmd_review, "the review queue: list, show, assign, reject, reassign") \
    X("stats", cmd_stats, "counts by state and type, index and vault size")       \
    X("verify", cmd_verify, "check every vault object and that index and vault agree") \
    X("reindex", cmd_reindex, "rebuild the index from the vault objects (service stopped)") \
    X("audit", cmd_audit, "print and verify the audit log")                       \
    X("rotate-key", cmd_rotate_key, "a new master key for the data directory (service stopped)") \
    X("config", cmd_config, "check the configuration file without starting anything") \
    X("extract", cmd_extract, "read the MRN and document type of scans; store nothing")

#define SV_CLI_DECLARE(name, fn, summary) int fn(int argc, char **argv);
SV_COMMANDS(SV_CLI_DECLARE)
#undef SV_CLI_DECLARE

/* Exit codes shared by every subcommand (docs/decisions.md, `scanvault --help`). */
enum {
    SV_EXIT_OK = 0,
    SV_EXIT_FAILURE = 1, /* the work was done but some of it failed */
    SV_EXIT_USAGE = 2,   /* bad command line */
    SV_EXIT_ENV = 3      /* environment: missing data, engine, key, ... */
};

/* Write s as a JSON string (quoted, escaped, invalid UTF-8 as U+FFFD);
 * NULL writes null. */
void cli_json_string(FILE *out, const char *s);
/* Write s for a terminal, control characters shown as '?'. */
void cli_print_safe(FILE *out, const char *s);

/*
 * Load the configuration: --config FILE, else $SCANVAULT_CONFIG, else
 * CLI_DEFAULT_CONFIG if it exists, else the built-in defaults. Fills *rules
 * (free with sv_ocr_rules_destroy) and settings. Returns an exit code; the
 * error is printed.
 */
int cli_load_config(const char *config_path, sv_ocr_rules **rules, sv_intake_settings *settings);
/* --data DIR (else $SCANVAULT_DATA, else the configuration) and --key FILE
 * override the settings. Returns an exit code; the error is printed. */
int cli_apply_storage_options(sv_intake_settings *settings, const char *data_dir,
                              const char *key_file);
/* The OCR worker program, scanvault-ocr beside this executable, into buf
 * (it must exist and be executable). Returns an exit code; the error is
 * printed. */
int cli_ocr_worker_path(char *buf, size_t len);
/* Open the data directory of settings with its key. Returns an exit code;
 * the error is printed. */
int cli_open_store(const sv_intake_settings *settings, bool read_only, sv_store **out);
/* cli_load_config and cli_apply_storage_options for the commands that need
 * only the storage settings (the rules are checked, then dropped). Returns
 * an exit code; the error is printed. */
int cli_load_storage_settings(const char *config_path, const char *data_dir, const char *key_file,
                              sv_intake_settings *settings);
/* The three steps above for the commands that only read (get, stats, list):
 * configuration, --data/--key, then the data directory opened read-only.
 * Returns an exit code; the error is printed. */
int cli_open_data_read_only(const char *config_path, const char *data_dir, const char *key_file,
                            sv_store **out);
/* ---- through the service or directly (session.c; docs/access.md) ----
 *
 * find, get, review, status, list, stats, verify, audit and export ask the
 * running service over its socket, so the person running them needs no
 * access to the key, the vault or the index. When no service answers (or
 * --direct), they open the data directory themselves (direct mode, for the
 * service user and offline work), and say so on standard error. */

/* getopt_long codes of the two options every such command takes. */
enum { CLI_OPT_SOCKET = 0x100, CLI_OPT_DIRECT = 0x101 };
#define CLI_SESSION_OPTIONS                                          \
    {"socket", required_argument, NULL, CLI_OPT_SOCKET},             \
    {"direct", no_argument, NULL, CLI_OPT_DIRECT}
/* Their lines in a --help text. */
#define CLI_SESSION_HELP                                                            \
    "  --socket PATH  the service's socket (default: $SCANVAULT_SOCKET, else\n"     \
    "                 [access] socket of the configuration)\n"                     \
    "  --direct       open the data directory here even when the service runs\n"   \
    "                 (needs the key: the service user, offline work)\n"

/* What the command line says about where the data is. */
typedef struct cli_target {
    const char *config_path, *data_dir, *key_file, *socket_path;
    bool is_direct;
} cli_target;

/* Handle CLI_OPT_SOCKET / CLI_OPT_DIRECT into t; false for another code. */
bool cli_target_option(cli_target *t, int opt, const char *arg);

/* How the data is reached: exactly one of client and store is set. */
typedef struct cli_session {
    sv_client *client;         /* through the service */
    sv_store *store;           /* direct mode */
    sv_ocr_rules *rules;       /* the configuration's rules; NULL when the file
                                  could not be read (possible through the service) */
    sv_intake_settings settings;
    int load_rc;               /* why the configuration could not be read ... */
    char load_error[512];      /* ... and the message */
} cli_session;

/* What direct mode opens. */
typedef enum cli_direct {
    CLI_DIRECT_READ_ONLY = 0,  /* the store, index read-only */
    CLI_DIRECT_READ_WRITE = 1, /* the store */
    CLI_DIRECT_NOTHING = 2     /* only the configuration (status) */
} cli_direct;

/*
 * Reach the data: the service's socket unless t->is_direct, else (no service
 * listening, or one that serves another data directory) the data directory
 * opened with its key as `direct` says, after one line on standard error
 * (none for CLI_DIRECT_NOTHING, which uses no key). Returns an exit code;
 * the error is printed.
 */
int cli_session_open(const cli_target *t, cli_direct direct, cli_session *s);
/* The same in two steps, for commands that check their arguments against
 * the rules before anything is opened or asked: load the configuration
 * (s->rules NULL when it cannot be read; never fails), then reach the data
 * (returns as cli_session_open; closes s on failure). */
void cli_session_load(const cli_target *t, cli_session *s);
int cli_session_reach(const cli_target *t, cli_direct direct, cli_session *s);
/* Close what cli_session_open opened. */
void cli_session_close(cli_session *s);
/* Print the message of a failed call and give its exit code: through the
 * service, a refusal (SV_EPERM: role or hourly cap), a busy or lost service
 * (SV_ETIMEOUT, SV_ETRUNC) or a protocol error (SV_EFORMAT, SV_EVERSION) is
 * an environment error (3); anything else is other_code. */
int cli_session_failed(const cli_session *s, int rc, int other_code);

/* Writes a file's content to fd; returns an exit code (the error printed). */
typedef int (*cli_writer_fn)(int fd, void *ctx);
/* Create out_path (mode 0600; it must not exist) with what write_fn writes:
 * into a temp file beside it, fsync, then link() to the name, so the file
 * appears only complete and never replaces one that appeared meanwhile.
 * Returns an exit code; the error is printed. */
int cli_write_new_file(const char *out_path, cli_writer_fn write_fn, void *ctx);
/* Parse a DATE (YYYY-MM-DD, UTC) into unix seconds at 00:00:00, plus
 * end_of_day ? 86399 : 0. Returns 0, or -1 (the error is printed). */
int cli_parse_date(const char *option, const char *text, bool end_of_day, int64_t *out);
/* Format unix seconds as YYYY-MM-DD HH:MM (UTC) or, with is_iso,
 * YYYY-MM-DDTHH:MM:SSZ. */
void cli_format_time(int64_t t, bool is_iso, char *buf, size_t len);

/* Print "scanvault: <message>" to stderr (printf-style). */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
