/*
 * maintain_internal.h - shared by reindex.c, verify.c and maintain.c only:
 * the progress clock, problem reports and the count of vault files.
 */
#ifndef SV_MAINTAIN_INTERNAL_H
#define SV_MAINTAIN_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "sv_intake.h"

/* Seconds on the monotonic clock. */
double maint_now(void);

/* A progress function, called no more than 10 times a second. */
typedef struct maint_progress {
    sv_maint_progress_fn fn;
    void *ctx;
    double start, last;
    sv_maint_progress p;
} maint_progress;

/* Start the clock (fn may be NULL: then nothing is ever called). */
void maint_progress_start(maint_progress *mp, sv_maint_progress_fn fn, void *ctx);
/* One more file done (bytes: its original bytes); calls fn when 0.1 s passed
 * since the last call, or always when is_final. */
void maint_progress_step(maint_progress *mp, uint64_t done, uint64_t bytes, bool is_final);

/* Pass one problem to fn (NULL: nobody listens). detail is printf-style. */
void maint_problem(sv_maint_problem_fn fn, void *ctx, sv_maint_kind kind, const char *docid,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* How many files sv_vault_each_object() will pass (for the progress total).
 * Returns 0 or the walk's error (message set). */
int maint_count_files(sv_vault *vault, uint64_t *n);

/* The kind for an sv_vault_open/read_meta failure. */
sv_maint_kind maint_kind_of_open_error(int rc);

#endif
