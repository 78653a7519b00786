/*
 * error.c - the intake module's last-error message, one per thread, like
 * sv_index_last_error() and sv_crypto_last_error(): what failed, on which
 * docid or path, and what to do next. Never a patient field.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "intake_internal.h"

static _Thread_local char last_error[512];

const char *sv_intake_last_error(void) { return last_error; }

void intake_clear_error(void) { last_error[0] = '\0'; }

int intake_fail(int code, const char *fmt, ...)
{
    int saved = errno;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    errno = saved;
    return code;
}
