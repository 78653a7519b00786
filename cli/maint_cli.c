/*
 * maint_cli.c - the progress line and the problem lines of `scanvault
 * reindex` and `scanvault verify`.
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "maint_cli.h"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void cli_progress_init(cli_progress *p, const char *what, bool is_quiet)
{
    *p = (cli_progress){.what = what, .is_on = !is_quiet && isatty(STDERR_FILENO)};
}

void cli_format_rates(uint64_t docs, uint64_t bytes, double seconds, char *buf, size_t len)
{
    if (seconds <= 0.0)
        seconds = 1e-6;
    snprintf(buf, len, "%.0f documents/s, %.1f MB/s", (double)docs / seconds,
             (double)bytes / 1e6 / seconds);
}

void cli_progress_show(const sv_maint_progress *mp, void *ctx)
{
    cli_progress *p = ctx;
    if (!p->is_on)
        return;
    double now = now_seconds();
    bool is_final = mp->done >= mp->total;
    if (!is_final && p->is_shown && now - p->last < 0.25)
        return;
    p->last = now;
    double rate = mp->elapsed_s > 0 ? (double)mp->done / mp->elapsed_s : 0.0;
    char left[32] = "--:--";
    if (rate > 0 && mp->elapsed_s >= 1.0 && mp->total >= mp->done) {
        double s = (double)(mp->total - mp->done) / rate;
        if (s < 360000)
            snprintf(left, sizeof left, "%d:%02d", (int)s / 60, (int)s % 60);
    }
    char rates[64];
    cli_format_rates(mp->done, mp->bytes, mp->elapsed_s, rates, sizeof rates);
    fprintf(stderr, "\r\033[K%s: %llu/%llu files, %s, %s left", p->what,
            (unsigned long long)mp->done, (unsigned long long)mp->total, rates, left);
    fflush(stderr);
    p->is_shown = true;
}

void cli_progress_clear(cli_progress *p)
{
    if (p == NULL || !p->is_shown)
        return;
    fputs("\r\033[K", stderr);
    fflush(stderr);
    p->is_shown = false;
}

void cli_print_problem(const sv_maint_problem *p, void *ctx)
{
    cli_problems *c = ctx;
    cli_progress_clear(c->progress);
    if (c->as_json) {
        printf("{\"problem\": \"%s\", \"docid\": ", sv_maint_kind_name(p->kind));
        cli_json_string(stdout, p->docid);
        fputs(", \"detail\": ", stdout);
        cli_json_string(stdout, p->detail);
        fputs("}\n", stdout);
    } else {
        printf("%-10s %-26s ", sv_maint_kind_name(p->kind), p->docid ? p->docid : "-");
        cli_print_safe(stdout, p->detail);
        fputc('\n', stdout);
    }
    fflush(stdout);
}
