/*
 * sv_intake.h - the intake module: configuration file, inbox watcher,
 * stability check, claim, the pipeline and its ordering, worker processes,
 * quarantine, recovery on start; the store (a data directory opened with its
 * key) and what clerks and admins do with it. This is the module's one
 * public header; three parts of it live in files of their own so that each
 * stays readable (sv_intake_store.h, sv_intake_maint.h, sv_intake_api.h,
 * included below).
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

#include "sv_crypto.h"
#include "sv_err.h"
#include "sv_index.h"
#include "sv_ocr.h"

/*
 * The message for the last failure of an sv_store, sv_pipeline or
 * sv_workers_create function in the calling thread: what failed, on which
 * docid or path, and what to do next. Never a patient field. "" after
 * success; never NULL.
 */
const char *sv_intake_last_error(void);

/* ==== OCR worker pool (workers.c) ==========================================
 * Each worker is a scanvault-ocr process (intake/worker/) with one OCR
 * engine, in a sandbox (resource limits, seccomp; docs/pipeline.md "Worker
 * sandbox"), holding no key; documents travel to it as open file descriptors
 * and come back as validated, framed results. */

/* Most worker processes in one pool. */
#define SV_WORKERS_MAX 64

typedef struct sv_workers sv_workers;

typedef struct sv_workers_options {
    const char *worker_path;   /* the scanvault-ocr program; NULL or "": the one
                                  beside this process's executable */
    const sv_ocr_rules *rules; /* required: sent to every worker, and used here
                                  to re-check each filing; must outlive the pool */
    unsigned n_workers;        /* 1..SV_WORKERS_MAX */
    unsigned timeout_s;        /* wall clock and CPU seconds per document;
                                  0: [ocr] timeout_seconds of the rules */
    uint64_t memory_bytes;     /* address space of each worker (RLIMIT_AS);
                                  0: [ocr] worker_memory of the rules */
} sv_workers_options;

/*
 * Start opts->n_workers OCR worker processes and wait until every one has
 * its rules and engine and is in its sandbox. Returns 0; SV_EINVAL (no rules,
 * bad count); SV_ENOMEM; SV_EERRNO when a process or socket cannot be made
 * (errno set; e.g. ENOENT: no worker program); SV_EOCR when a worker could
 * not load the engine (language data) or did not start in time; SV_ECONFIG
 * when it could not take the rules (known-MRN list unreadable); SV_EWORKER
 * when it could not enter its sandbox or died starting. The message is in
 * sv_intake_last_error() (the worker's own reason, if any, is on stderr).
 * *out is NULL on failure.
 */
int sv_workers_create(sv_workers **out, const sv_workers_options *opts);

/*
 * The path of the scanvault-ocr beside the running executable (from
 * /proc/self/exe) into buf; whether it exists is not checked. Returns 0;
 * SV_EERRNO (no /proc); SV_ELIMIT (does not fit len).
 */
int sv_workers_find_program(char *buf, size_t len);

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

/* ==== service settings: [storage], [intake], [service], [access] (settings.c) */

#define SV_INTAKE_PATH_MAX 4096
#define SV_INTAKE_PREFIX_MAX 8
/* Longest [access] group list (a comma-separated line of group names). */
#define SV_INTAKE_GROUPS_MAX 511
/* Longest group name in it (the shadow-utils limit). */
#define SV_INTAKE_GROUP_NAME_MAX 32

/* What the service needs besides the OCR rules (docs/configuration.md). */
typedef struct sv_intake_settings {
    char data_dir[SV_INTAKE_PATH_MAX];  /* [storage] data_dir: absolute path */
    char key_file[SV_INTAKE_PATH_MAX];  /* [storage] key_file: "" means
                                           <data_dir>/keys/scanvault.key */
    char docid_prefix[SV_INTAKE_PREFIX_MAX + 1]; /* [storage] docid_prefix: "" or
                                                    1..8 of [a-z0-9] */
    unsigned workers;                   /* [intake] workers: 0 = one per core */
    char inbox[SV_INTAKE_PATH_MAX];     /* [intake] inbox: the watched folder */
    unsigned settle_seconds;            /* [intake] settle_seconds: size and mtime
                                           unchanged this long before a claim */
    unsigned rescan_seconds;            /* [intake] rescan_seconds: full listing
                                           every so often (network shares) */
    bool use_inotify;                   /* [intake] inotify: also watch events */
    char status_file[SV_INTAKE_PATH_MAX];  /* [service] status_file: "" means
                                              <data_dir>/status/status.json */
    char metrics_file[SV_INTAKE_PATH_MAX]; /* [service] metrics_file: "" means
                                              <data_dir>/status/scanvault.prom */
    int log_level;                      /* [service] log_level: SV_LOG_* */
    char access_socket[SV_INTAKE_PATH_MAX]; /* [access] socket: the Unix socket
                                               people's commands reach the service on */
    char access_socket_group[SV_INTAKE_GROUPS_MAX + 1]; /* [access] socket_group: one
                                               group name, or "" (the service's group) */
    char access_admin_groups[SV_INTAKE_GROUPS_MAX + 1];    /* [access] admin_groups */
    char access_clerk_groups[SV_INTAKE_GROUPS_MAX + 1];    /* [access] clerk_groups */
    char access_reviewer_groups[SV_INTAKE_GROUPS_MAX + 1]; /* [access] reviewer_groups:
                                               comma-separated group names, or "" */
    unsigned access_admin_docs_per_hour;    /* [access] *_docs_per_hour: documents one
                                               user of the role may retrieve in any */
    unsigned access_clerk_docs_per_hour;    /* hour through the socket; 0: no cap */
    unsigned access_reviewer_docs_per_hour;
} sv_intake_settings;

/* Log levels ([service] log_level = error | warning | info | debug). */
enum { SV_LOG_ERROR = 0, SV_LOG_WARNING = 1, SV_LOG_INFO = 2, SV_LOG_DEBUG = 3 };

/* The built-in defaults (docs/configuration.md): data_dir
 * /var/lib/scanvault, inbox /srv/scanvault/inbox, settle 5 s, rescan 10 s,
 * inotify on, log level info; socket /run/scanvault/scanvault.sock, group
 * scanvault-users, roles from scanvault-admins, scanvault-clerks and
 * scanvault-reviewers, 200 documents an hour for a clerk and 100 for a
 * reviewer (admins: no cap); everything else empty or 0. */
void sv_intake_settings_defaults(sv_intake_settings *s);

/*
 * Set one key of [storage], [intake], [service] or [access]. Returns 0; SV_ENOTFOUND for a key
 * these sections do not have; SV_ECONFIG with a message in err (the value is
 * never echoed: a path may carry a name).
 */
int sv_intake_settings_set(sv_intake_settings *s, const char *section, const char *key,
                           const char *value, char *err, size_t err_len);

/* The number of OCR workers to start: the setting, or one per online core. */
unsigned sv_intake_settings_workers(const sv_intake_settings *s);

/*
 * Load the whole configuration file: [storage], [intake], [service] and
 * [access] into settings (which holds the defaults; NULL checks them and throws them away), [mrn],
 * [types] and [ocr] into rules; then sv_ocr_rules_finish. Returns as
 * sv_intake_config_load.
 */
int sv_intake_config_load_all(const char *path, sv_ocr_rules *rules,
                              sv_intake_settings *settings, char *err, size_t err_len);

/*
 * Load the configuration file at path into rules (which holds the defaults
 * from sv_ocr_rules_create): sections [mrn], [types] and [ocr] ([storage]
 * and [intake] are checked, not kept); then
 * sv_ocr_rules_finish (cross-checks, known-MRN list). Returns 0 or an SV_E*
 * code as sv_intake_config_load_sections, with "FILE:LINE: message" or
 * "FILE: message" in err. On failure rules may hold some of the file's keys:
 * destroy it rather than use it.
 */
int sv_intake_config_load(const char *path, sv_ocr_rules *rules, char *err, size_t err_len);

/* ==== end of configuration file ========================================== */

#include "sv_intake_store.h" /* the store, its clerk and admin operations */
#include "sv_intake_maint.h" /* reindex, verify, key rotation */
#include "sv_intake_api.h"   /* the socket server and its client */

/* ==== the filing pipeline (pipeline.c) =====================================
 *
 * One document goes through these steps, in this order (DESIGN.md section
 * 1), each its own function:
 *   claim        into spool/claimed/<docid> (claim.c)
 *   identify     SHA-256, content id, duplicate check against the index and
 *                the documents in flight
 *   read         OCR in a worker process that holds no key and gets the
 *                claimed file as an open descriptor
 *   decide       the worker's verdict, re-checked: filed, review, quarantined
 *   seal         the vault object, durable (temp, fsync, rename, fsync dir)
 *   commit       one synchronous index transaction
 *   audit        one line in the hash-chained audit log
 *   release      unlink the claimed file: only now
 * A crash anywhere leaves the claimed file in the spool; recovery runs it
 * again under the same docid, and the content id makes that a no-op when the
 * first pass had committed. One pipeline per data directory at a time: it
 * holds an exclusive lock on spool/lock.
 */

typedef struct sv_pipeline sv_pipeline;

/* What happened to one document. */
typedef enum sv_pipeline_status {
    SV_PIPELINE_FILED = 1,       /* filed under its MRN */
    SV_PIPELINE_REVIEW = 2,      /* sealed and held for a person (reason) */
    SV_PIPELINE_QUARANTINED = 3, /* unreadable or hostile; sealed (reason) */
    SV_PIPELINE_DUPLICATE = 4,   /* same content as existing_docid; not filed again */
    SV_PIPELINE_FAILED = 5       /* not filed; the message says where it is and why */
} sv_pipeline_status;

/* Milliseconds per step (0 for steps not taken). */
typedef struct sv_pipeline_timing {
    double wait;  /* queued before a worker was free (from sv_pipeline_enqueue) */
    double claim, identify, ocr, seal, commit, audit, release;
    double total; /* from the start of the claim to the release */
} sv_pipeline_timing;

/* The report for one document. Never holds an MRN or the incoming name. */
typedef struct sv_pipeline_report {
    uint64_t tag;                              /* as given to sv_pipeline_enqueue */
    bool is_recovered;                         /* found in the spool at start */
    char docid[SV_DOCID_MAX + 1];              /* "" when the claim failed */
    sv_pipeline_status status;
    char reason[SV_META_CODE_MAX + 1];         /* review/quarantine reason code */
    char type[SV_META_CODE_MAX + 1];
    char existing_docid[SV_DOCID_MAX + 1];     /* DUPLICATE: who has the content */
    int pages;
    uint64_t size;
    int error;                                 /* FAILED: the SV_E* code */
    char message[512];                         /* FAILED: what, and what to do */
    sv_pipeline_timing ms;
} sv_pipeline_report;

/* Called once per document, as it finishes (in finishing order). */
typedef void (*sv_pipeline_report_fn)(const sv_pipeline_report *report, void *ctx);

typedef struct sv_pipeline_options {
    const char *data_dir;             /* required */
    const char *key_file;             /* as sv_store_options */
    const char *docid_prefix;         /* NULL or "": none */
    const sv_ocr_rules *rules;        /* must outlive the pipeline */
    unsigned n_workers;               /* 1..SV_WORKERS_MAX */
    const char *worker_path;          /* scanvault-ocr, as sv_workers_options */
    sv_pipeline_report_fn report;     /* required */
    void *report_ctx;
} sv_pipeline_options;

/* sv_pipeline_enqueue() flags. */
#define SV_PIPELINE_MOVE 1u /* move the source into the spool (the inbox);
                               default: copy it and leave the source */

/*
 * Start the OCR workers (separate scanvault-ocr programs that never hold
 * the key), take the spool lock, then open the store. Returns 0; SV_EEXIST
 * when another pipeline (scanvault run or ingest) uses the data directory; the
 * errors of sv_workers_create() and sv_store_create(). Message in
 * sv_intake_last_error().
 */
int sv_pipeline_create(sv_pipeline **out, const sv_pipeline_options *opts);

/* Stop the workers, release the lock, close the store. Documents still
 * queued are not claimed; claimed ones stay in the spool. NULL is fine. */
void sv_pipeline_destroy(sv_pipeline *p);

/* The store the pipeline files into (for stats and tests). */
sv_store *sv_pipeline_store(sv_pipeline *p);

/*
 * Queue every document left in the spool by an interrupted run (they are
 * reported with is_recovered) and remove leftover temp files of the spool
 * and the vault. Call once, before new documents. *n_found: documents queued.
 */
int sv_pipeline_recover(sv_pipeline *p, size_t *n_found);

/* Queue the file at path (copied; the caller keeps its string). Returns 0 or
 * SV_ENOMEM. */
int sv_pipeline_enqueue(sv_pipeline *p, const char *path, unsigned flags, uint64_t tag);

/* Documents queued or in flight. */
size_t sv_pipeline_pending(const sv_pipeline *p);

/*
 * Make progress: claim and hand queued documents to idle workers, then wait
 * up to timeout_ms (-1: no limit) for one worker to finish and file that
 * document. Every finished document is reported. Returns 0 (also when
 * nothing was pending); SV_EERRNO with errno EINTR when a signal interrupted
 * the wait; SV_EWORKER when no OCR worker can be started any more.
 */
int sv_pipeline_step(sv_pipeline *p, int timeout_ms);

/* Step until nothing is pending. Returns as sv_pipeline_step (EINTR is
 * retried). */
int sv_pipeline_drain(sv_pipeline *p);

/* "filed", "review", "quarantined", "duplicate", "failed". */
const char *sv_pipeline_status_name(sv_pipeline_status status);

/* Drop every queued document not yet claimed (a draining service): their
 * files stay where they are (inbox, or spool for recovered ones). Returns
 * how many were dropped; documents in flight are not touched. */
size_t sv_pipeline_cancel_queued(sv_pipeline *p);

/* Documents handed to a worker and not yet finished. */
size_t sv_pipeline_in_flight(const sv_pipeline *p);

/* Workers waiting for a document and workers reading one. */
void sv_pipeline_worker_counts(const sv_pipeline *p, unsigned *idle, unsigned *busy);

/* ==== end of the filing pipeline ========================================= */

/* ==== the service: scanvault run (service.c, inbox.c) =====================
 *
 * Watches [intake] inbox (inotify and a periodic full listing), claims each
 * file once it is stable (size and mtime unchanged for settle_seconds, no
 * local writer), files it through the pipeline, and logs one line per
 * document (docid, status, reason, pages, milliseconds; never an MRN or a
 * file name). Writes its status (JSON, for `scanvault status`) and the same
 * figures for node_exporter every second. SIGTERM/SIGINT drain: no new
 * claims, documents in flight finish, then it returns. SIGHUP reloads the
 * configuration file; a bad one is refused and the running one kept.
 */

typedef struct sv_service_options {
    const char *config_path;  /* the file read at start and on SIGHUP; NULL:
                                 built-in defaults */
    const char *data_dir;     /* overrides [storage] data_dir when not NULL */
    const char *key_file;     /* overrides [storage] key_file when not NULL */
    const char *inbox;        /* overrides [intake] inbox when not NULL */
    unsigned n_workers;       /* overrides [intake] workers when not 0 */
} sv_service_options;

/*
 * Run the service until SIGTERM or SIGINT has drained it. Returns 0 after a
 * drain; an SV_E* code when it cannot start (configuration, data directory,
 * key, inbox, workers: message in sv_intake_last_error()) or when no OCR
 * worker can be started any more.
 */
int sv_service_run(const sv_service_options *opts);

/* ==== end of the service ================================================== */

#endif
