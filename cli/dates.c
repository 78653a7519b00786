/*
 * dates.c - the dates clerks type (--from, --to) and the dates we print.
 * Always UTC, so the same command gives the same answer on every machine.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"

int cli_parse_date(const char *option, const char *text, bool end_of_day, int64_t *out)
{
    *out = 0;
    unsigned y = 0, m = 0, d = 0;
    char extra = 0;
    if (strlen(text) != 10 || sscanf(text, "%4u-%2u-%2u%c", &y, &m, &d, &extra) != 3 ||
        y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31) {
        cli_error("%s takes a date as YYYY-MM-DD", option);
        return -1;
    }
    struct tm tm = {.tm_year = (int)y - 1900, .tm_mon = (int)m - 1, .tm_mday = (int)d};
    time_t t = timegm(&tm);
    /* timegm normalises 2026-02-31 to March: refuse dates that moved. */
    if (t == (time_t)-1 || tm.tm_mday != (int)d || tm.tm_mon != (int)m - 1) {
        cli_error("%s: no such date", option);
        return -1;
    }
    *out = (int64_t)t + (end_of_day ? 86399 : 0);
    return 0;
}

void cli_format_time(int64_t t, bool is_iso, char *buf, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, is_iso ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d %H:%M", &tm) == 0)
        snprintf(buf, len, "?");
}
