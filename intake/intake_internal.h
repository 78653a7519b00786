/*
 * intake_internal.h - shared by the files of intake/ only.
 */
#ifndef SV_INTAKE_INTERNAL_H
#define SV_INTAKE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "sv_intake.h"
#include "sv_ocr.h"

/* ---- worker frames (worker_proto.c) ---- */

#define WORKER_MAGIC 0x4b575653u /* "SVWK" little-endian */
#define WORKER_VERSION 2
enum {
    WORKER_MSG_READY = 1,   /* worker: engine loaded, sandbox on; no payload */
    WORKER_MSG_EXTRACT = 2, /* supervisor: a document (fd attached); no payload */
    WORKER_MSG_RESULT = 3,  /* worker: an sv_ocr_result */
    WORKER_MSG_RULES = 4    /* supervisor, first frame: sv_ocr_rules_encode() bytes */
};

typedef struct worker_frame_header {
    uint32_t magic;
    uint16_t version;
    uint16_t type;
    uint32_t length; /* payload bytes after the header */
} worker_frame_header;

/* Largest frame either side ever sends. */
#define WORKER_FRAME_MAX (sizeof(worker_frame_header) + sizeof(sv_ocr_result))

/* Range-check every field of a result from a worker. 0 or SV_EFORMAT. */
int worker_result_validate(const sv_ocr_result *r);
/* Decode a RESULT frame of exactly len bytes into *out (cleared on entry).
 * 0, SV_ETRUNC or SV_EFORMAT (bad header, length, trailing bytes, field). */
int worker_frame_decode(const uint8_t *buf, size_t len, sv_ocr_result *out);
/* Supervisor: an INDEX verdict whose MRN fails the rules or is not among the
 * reported candidates becomes REVIEW with the reason, MRN cleared. */
void worker_recheck_filing(const sv_ocr_rules *rules, sv_ocr_result *r);
/* Supervisor: send an EXTRACT request carrying fd. 0 or SV_EWORKER. */
int worker_send_fd(int sock, int fd);
/* Worker: receive an EXTRACT request; *fd is the document (close it).
 * 0; SV_ENOTFOUND when the supervisor hung up; SV_EFORMAT on a bad frame. */
int worker_recv_fd(int sock, int *fd);
/* Worker: send a RESULT frame. 0 or SV_EWORKER. */
int worker_send_result(int sock, const sv_ocr_result *r);
/* Worker: send the READY frame once the engine is loaded. */
int worker_send_ready(int sock);
/* Supervisor: send the RULES frame (encoded rules, len bytes). 0 or SV_EWORKER. */
int worker_send_rules(int sock, const uint8_t *encoded, size_t len);
/* Worker: receive the RULES frame and decode it (sv_ocr_rules_decode: loads
 * the known-MRN list). 0; SV_ENOTFOUND when the supervisor hung up;
 * SV_EFORMAT on a bad frame; the errors of sv_ocr_rules_decode (message in
 * err). */
int worker_recv_rules(int sock, sv_ocr_rules **rules, char *err, size_t err_len);

/* ---- the worker program (intake/worker/, scanvault-ocr) ---- */

/* The descriptor the worker finds its socket on. */
#define WORKER_SOCKET_FD 3

/* Exit statuses of scanvault-ocr before it is READY; the pool turns them
 * into the sv_workers_create() error. */
enum {
    WORKER_EXIT_OK = 0,      /* the supervisor hung up */
    WORKER_EXIT_USAGE = 2,   /* bad arguments, or not started by a pool */
    WORKER_EXIT_RULES = 3,   /* the rules frame, or the known-MRN list it names */
    WORKER_EXIT_ENGINE = 4,  /* the OCR engine could not be loaded */
    WORKER_EXIT_SANDBOX = 5, /* limits or seccomp filter could not be set */
    WORKER_EXIT_PROTOCOL = 6 /* a bad frame from the supervisor */
};

/* Tests: the pid of the worker in slot (-1: none). */
pid_t workers_pid(const sv_workers *pool, unsigned slot);
/* sv_workers_create, with one more argument for every worker program (the
 * tests' --test-no-seccomp; NULL: none). */
int workers_create_with_arg(sv_workers **out, const sv_workers_options *opts,
                            const char *extra_arg);

/* ---- paths (store.c) ---- */

/* "<dir>/<sub>" into buf. 0 or SV_ELIMIT (message set). */
int intake_path(char *buf, size_t len, const char *dir, const char *sub);

/*
 * Take the data directory's exclusive lock (flock on spool/lock) without
 * waiting: held by a pipeline (scanvault run, ingest) and by the offline
 * tools that must not run beside one (reindex, rotate-key). *lock_fd gets
 * the descriptor; closing it releases the lock. Returns 0; SV_EEXIST when
 * another process holds it ("<data_dir> is in use by <held_by>");
 * SV_ENOTFOUND (no spool: not a data directory); SV_EERRNO.
 */
int intake_lock_data_dir(const char *data_dir, const char *held_by, int *lock_fd);

/* n bytes as 2n lowercase hex digits and a NUL into out. */
void intake_hex(const uint8_t *bytes, size_t n, char *out);

/* The blind value of an MRN a person typed (spaces and dashes allowed) that
 * is well-formed under rules (an MRN missing from a known-MRN list is still
 * looked up). 0; SV_EINVAL (the message says why without echoing it). */
int intake_blind_typed_mrn(sv_store *store, const sv_ocr_rules *rules, const char *mrn,
                           uint8_t blind[SV_BLIND_LEN]);

/*
 * Take the lock that serialises everything that rewrites vault headers and
 * the index entries they imply: review decisions, reindex, key rotation
 * (flock on spool/review.lock, waiting for it). Not held by the service,
 * which only adds objects. 0; SV_EERRNO.
 */
int intake_lock_decisions(const char *data_dir, int *lock_fd);

/* <data_dir>/keys/scanvault.key.new: the new key of a key rotation that has
 * not committed yet (rotate.c). While it exists the store refuses to open. */
#define INTAKE_ROTATION_KEY "keys/scanvault.key.new"

/* ---- the spool (claim.c) ---- */

/*
 * Claim the document at path as spool/claimed/<docid> (spool_dfd is that
 * directory): write the sealed claim record (original name, intake time),
 * then move (rename; copy + unlink across filesystems) or copy the file in,
 * then fsync the spool. A link is not followed when moving. On failure the
 * source is where it was (or, moved, in the spool under docid) and no claim
 * record is left. Returns 0 or an SV_E* code with the message set.
 */
int claim_document(int spool_dfd, const sv_keyring *ring, const char *path, bool is_move,
                   const char *docid, int64_t intake_time);
/* The sealed claim record of docid (claim.c). */
int claim_record_write(int spool_dfd, const sv_keyring *ring, const char *docid,
                       const char *original_name, int64_t intake_time);
/* Returns 0; SV_ENOTFOUND when there is none; SV_EFORMAT/SV_EAUTH damaged. */
int claim_record_read(int spool_dfd, const sv_keyring *ring, const char *docid,
                      char original_name[SV_META_NAME_MAX + 1], int64_t *intake_time);
/* Remove the claimed document and its record (after the index commit). */
void claim_release(int spool_dfd, const char *docid);

/* ---- the inbox (inbox.c) ---- */

typedef struct inbox inbox;

/* One file seen in the inbox. */
typedef struct inbox_entry {
    char name[256];
    long long size;          /* -1 until first seen */
    struct timespec mtime;
    unsigned long ino;
    double first_seen;       /* monotonic seconds */
    double changed_at;       /* last change of size, mtime or inode */
    double retry_at;         /* not before (after a failed claim) */
    uint64_t tag;            /* pipeline tag while queued */
    bool is_queued;          /* handed to the pipeline, not yet reported */
    bool is_gone;            /* no longer there */
    bool is_regular;         /* a regular file (lstat: links are not) */
    bool is_writing;         /* a local writer has it open (inotify) */
    bool is_listed;          /* seen by the current rescan */
    bool is_reported;        /* "left alone" was logged */
} inbox_entry;

/* Open the inbox directory, with an inotify watch when use_inotify. */
int inbox_open(inbox **out, const char *path, bool use_inotify);
void inbox_close(inbox *ib);
/* The inotify descriptor to poll, or -1. */
int inbox_event_fd(const inbox *ib);
const char *inbox_path(const inbox *ib);
/* Hidden and temporary names (".x", "x~", ".tmp", ".part", ...). */
bool inbox_name_is_ignored(const char *name);
/* Drain pending inotify events into the table. 0 or an SV_E* code. */
int inbox_read_events(inbox *ib);
/* List the directory in full and update the table. 0 or SV_EERRNO. */
int inbox_rescan(inbox *ib);
/* The next stable regular file not yet queued (marked queued, with a new
 * tag), or NULL. */
inbox_entry *inbox_next_ready(inbox *ib, unsigned settle_seconds);
inbox_entry *inbox_entry_by_tag(inbox *ib, uint64_t tag);
void inbox_remove(inbox *ib, inbox_entry *e);
/* Regular files waiting and the age of the oldest, in seconds. */
void inbox_counts(const inbox *ib, size_t *waiting, double *oldest_seconds);
int inbox_entry_path(const inbox *ib, const inbox_entry *e, char *buf, size_t len);

/* ---- logging (service.c) ---- */

/* One line to stderr at level (SV_LOG_*) when the service's level allows it:
 * "<time> <level>: <message>". Never pass a patient field or a file name. */
void intake_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- errors (error.c) ---- */

/* Set the calling thread's sv_intake_last_error() message and return code;
 * errno is preserved. */
int intake_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Clear it (on entry to each public function that sets it). */
void intake_clear_error(void);

#endif
