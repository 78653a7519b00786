/*
 * sv_intake.h - the intake module: configuration file, inbox watcher,
 * stability check, claim, the pipeline and its ordering, worker processes,
 * quarantine, recovery on start.
 *
 * Caveats:
 *   - Error messages name a file and a line, never a patient field: a
 *     configuration value is never echoed back (it may be an MRN or a path
 *     under a patient's name).
 */
#ifndef SV_INTAKE_H
#define SV_INTAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sv_err.h"
#include "sv_ocr.h"

/* ==== OCR worker pool (workers.c) ==========================================
 * Each worker is a child process with one OCR engine; documents travel to it
 * as open file descriptors and come back as validated, framed results. */

/* Most worker processes in one pool. */
#define SV_WORKERS_MAX 64

typedef struct sv_workers sv_workers;

/*
 * Start n_workers OCR worker processes (1..SV_WORKERS_MAX), each with its own
 * engine built from rules (the rules must outlive the pool); a document may
 * take at most timeout_s seconds of wall clock. Waits until every worker has
 * loaded its engine. Returns 0; SV_EINVAL for a bad count or timeout;
 * SV_ENOMEM; SV_EERRNO when a process or socket cannot be made; SV_EOCR when
 * a worker could not load the engine. *out is NULL on failure.
 */
int sv_workers_create(sv_workers **out, const sv_ocr_rules *rules, unsigned n_workers,
                      unsigned timeout_s);

/* Kill and reap every worker and free the pool. NULL is a no-op. */
void sv_workers_destroy(sv_workers *pool);

/* Workers alive and waiting for a document. */
unsigned sv_workers_idle(const sv_workers *pool);
/* Workers holding a document. */
unsigned sv_workers_busy(const sv_workers *pool);

/*
 * Hand the open document fd to an idle worker (the fd is passed over the
 * socket; the caller still owns and closes its copy). tag comes back with the
 * result. Returns 0; SV_EINVAL when no worker is idle; SV_EWORKER when the
 * pool has no live worker at all.
 */
int sv_workers_submit(sv_workers *pool, int fd, uint64_t tag);

/*
 * Wait up to timeout_ms (-1: no limit) for one result. A worker that crashed,
 * sent a bad frame or ran past the timeout is replaced and its document gets
 * a REJECT result (worker_crashed, timeout). Returns 0 with *tag and *result
 * set; SV_ENOTFOUND when no document is in flight; SV_ETIMEOUT when none
 * finished in time; SV_EERRNO (errno EINTR) when a signal interrupted the wait.
 */
int sv_workers_collect(sv_workers *pool, int timeout_ms, uint64_t *tag, sv_ocr_result *result);

/* ==== end of OCR worker pool ============================================== */

/* ==== configuration file (config.c) =====================================
 *
 * An INI file, UTF-8 only, at most SV_CONFIG_FILE_MAX bytes and lines of at
 * most SV_CONFIG_LINE_MAX bytes:
 *
 *     # a comment (a line whose first non-blank character is '#' or ';')
 *     [section]
 *     key = value
 *
 * Section and key names are a-z, 0-9 and '_'. Values run to the end of the
 * line, trimmed; there are no inline comments and no quoting, so a value may
 * hold '#' or ';' (labels = MRN, MR#). An unknown section or key, a section
 * or key given twice, or a line that is none of the above is an error
 * "FILE:LINE: message". Every key is documented in docs/configuration.md.
 */

#define SV_CONFIG_FILE_MAX (1024u * 1024u)
#define SV_CONFIG_LINE_MAX 4096u

/*
 * Set one key of a section. Returns 0; SV_ENOTFOUND when the key is not
 * known (the parser reports "unknown key"); SV_ECONFIG with a message that
 * names the key but not the value in err; or another SV_E* code.
 */
typedef int (*sv_intake_config_set_fn)(void *ctx, const char *section, const char *key,
                                       const char *value, char *err, size_t err_len);

/* One section the parser accepts, and who takes its keys. */
typedef struct sv_intake_config_section {
    const char *name;            /* without brackets: "mrn" */
    sv_intake_config_set_fn set; /* called once per key, in file order */
    void *ctx;                   /* passed to set */
} sv_intake_config_section;

/*
 * Parse a configuration held in memory (buf, len; need not be NUL-terminated)
 * and hand every key to the section that owns it. source names the input in
 * messages ("FILE:LINE: ..."). Stops at the first error. Returns 0,
 * SV_ECONFIG (message in err), or SV_ENOMEM. Does not call any finish step.
 */
int sv_intake_config_parse(const char *source, const char *buf, size_t len,
                           const sv_intake_config_section *sections, size_t n_sections,
                           char *err, size_t err_len);

/*
 * Read a configuration file and parse it with the given sections. Refuses a
 * file that is not a regular file, is writable by every user (SV_EPERM), or
 * is larger than SV_CONFIG_FILE_MAX (SV_ECONFIG). Returns 0, SV_EERRNO when
 * it cannot be opened or read (message with the reason in err), SV_EPERM,
 * SV_ECONFIG or SV_ENOMEM.
 */
int sv_intake_config_load_sections(const char *path, const sv_intake_config_section *sections,
                                   size_t n_sections, char *err, size_t err_len);

/*
 * Load the configuration file at path into rules (which holds the defaults
 * from sv_ocr_rules_create): sections [mrn], [types] and [ocr]; then
 * sv_ocr_rules_finish (cross-checks, known-MRN list). Returns 0 or an SV_E*
 * code as sv_intake_config_load_sections, with "FILE:LINE: message" or
 * "FILE: message" in err. On failure rules may hold some of the file's keys:
 * destroy it rather than use it.
 */
int sv_intake_config_load(const char *path, sv_ocr_rules *rules, char *err, size_t err_len);

/* ==== end of configuration file ========================================== */

#endif
