/*
 * maint_cli.h - shared by cmd_reindex.c, cmd_verify.c and cmd_rotate_key.c
 * only: the progress line on a terminal and the problem lines.
 */
#ifndef SV_MAINT_CLI_H
#define SV_MAINT_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "sv_intake.h"

typedef struct cli_progress {
    const char *what;  /* "reindex", "verify" */
    bool is_on;        /* standard error is a terminal and -q was not given */
    bool is_shown;     /* a progress line is on the screen */
    double last;       /* when it was last written (monotonic seconds) */
} cli_progress;

/* On only when standard error is a terminal and not quiet. */
void cli_progress_init(cli_progress *p, const char *what, bool is_quiet);
/* An sv_maint_progress_fn (ctx: the cli_progress): one line on standard
 * error rewritten with \r at most 4 times a second: count/total, documents
 * per second, MB per second, time left. */
void cli_progress_show(const sv_maint_progress *mp, void *ctx);
/* Erase the progress line (before other output). */
void cli_progress_clear(cli_progress *p);

/* What the problem printer needs. */
typedef struct cli_problems {
    cli_progress *progress;
    bool as_json;        /* one JSON object per line instead of text */
} cli_problems;

/* An sv_maint_problem_fn (ctx: the cli_problems): one line on standard
 * output, "KIND DOCID DETAIL" (DOCID "-" when there is none) or
 * {"problem": KIND, "docid": DOCID|null, "detail": DETAIL}. */
void cli_print_problem(const sv_maint_problem *p, void *ctx);

/* "12.3 MB/s, 456 documents/s" style rates into buf. */
void cli_format_rates(uint64_t docs, uint64_t bytes, double seconds, char *buf, size_t len);

#endif
