/*
 * cli.h - shared by the files of cli/ only: the subcommand table and the few
 * helpers every subcommand uses. Each subcommand lives in cmd_<name>.c and
 * only parses arguments, calls the modules and prints.
 */
#ifndef SV_CLI_H
#define SV_CLI_H

#include <stdio.h>

/* X(name, function, one-line summary). Keep in the order `--help` shows. */
#define SV_COMMANDS(X)                                                            \
    X("init", cmd_init, "create the data directory and a new master key")        \
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

/* Print "scanvault: <message>" to stderr (printf-style). */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
