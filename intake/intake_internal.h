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

/* ---- the access protocol (proto.c; docs/access.md) ----
 *
 * Between `scanvault` commands and the service's socket. Every message is a
 * fixed header {magic u32 "SVAP", version u16, type u16, length u32} (little
 * endian) and `length` payload bytes of typed fields {tag u8, length u16,
 * value}. A message is at most PROTO_FRAME_MAX bytes. Each type has the tags
 * it must carry and the tags it may carry; anything else (unknown type or
 * tag, a tag twice, a required tag missing, a field whose length its kind
 * does not allow, bytes after the last field, another version) is refused
 * whole. */

#define PROTO_MAGIC 0x50415653u /* "SVAP" little-endian */
#define PROTO_VERSION 1
#define PROTO_HEADER_LEN 12u
#define PROTO_FRAME_MAX 65536u
#define PROTO_PAYLOAD_MAX (PROTO_FRAME_MAX - PROTO_HEADER_LEN)
/* Document bytes in one DATA frame: the payload less one field header. */
#define PROTO_DATA_MAX (PROTO_PAYLOAD_MAX - 3u)
/* Most values in one NUMBERS field. */
#define PROTO_NUMBERS_MAX 32u
/* Tags are 1..PROTO_TAG_LIMIT-1 (a tag set is one uint64_t bit mask). */
#define PROTO_TAG_LIMIT 64u

/* What a field's value is: its length is fixed by the kind, or bounded. */
typedef enum proto_kind {
    PROTO_STR = 1,     /* 0..max bytes, no NUL */
    PROTO_U8 = 2,      /* 1 byte */
    PROTO_I32 = 3,     /* 4 bytes, two's complement */
    PROTO_U32 = 4,     /* 4 bytes */
    PROTO_I64 = 5,     /* 8 bytes, two's complement */
    PROTO_U64 = 6,     /* 8 bytes */
    PROTO_BYTES = 7,   /* 0..max bytes */
    PROTO_FIXED = 8,   /* exactly max bytes */
    PROTO_NUMBERS = 9  /* 0..max/8 values of 8 bytes (i64) */
} proto_kind;

/* X(NAME, tag, kind, max bytes) */
#define PROTO_TAGS(X)                                                \
    X(PT_MRN, 1, PROTO_STR, 64)                                      \
    X(PT_CONFIRM, 2, PROTO_STR, 64)                                  \
    X(PT_DOCID, 3, PROTO_STR, SV_INDEX_DOCID_MAX)                    \
    X(PT_TYPE, 4, PROTO_STR, SV_INDEX_TYPE_MAX)                      \
    X(PT_SINCE, 5, PROTO_I64, 8)                                     \
    X(PT_UNTIL, 6, PROTO_I64, 8)                                     \
    X(PT_STATE, 7, PROTO_U8, 1)                                      \
    X(PT_WITH_DOCUMENT, 8, PROTO_U8, 1)                              \
    X(PT_FAST, 9, PROTO_U8, 1)                                       \
    X(PT_NOTE, 10, PROTO_STR, SV_META_NOTE_MAX)                      \
    X(PT_ACTION, 11, PROTO_STR, SV_AUDIT_ACTION_MAX)                 \
    X(PT_ANCHOR_SEQ, 12, PROTO_U64, 8)                               \
    X(PT_MAC, 13, PROTO_FIXED, SV_AUDIT_MAC_LEN)                     \
    X(PT_CODE, 14, PROTO_I32, 4)                                     \
    X(PT_KIND, 15, PROTO_U8, 1)                                      \
    X(PT_TEXT, 16, PROTO_STR, 1024)                                  \
    X(PT_BYTES, 17, PROTO_BYTES, PROTO_DATA_MAX)                     \
    X(PT_REASON, 18, PROTO_STR, SV_INDEX_REASON_MAX)                 \
    X(PT_PAGES, 19, PROTO_U32, 4)                                    \
    X(PT_SIZE, 20, PROTO_U64, 8)                                     \
    X(PT_INTAKE_TIME, 21, PROTO_I64, 8)                              \
    X(PT_COUNT, 22, PROTO_U64, 8)                                    \
    X(PT_SEQ, 23, PROTO_U64, 8)                                      \
    X(PT_TIME, 24, PROTO_I64, 8)                                     \
    X(PT_UID, 25, PROTO_U32, 4)                                      \
    X(PT_USER, 26, PROTO_STR, SV_AUDIT_USER_MAX)                     \
    X(PT_RESULT, 27, PROTO_STR, SV_AUDIT_RESULT_MAX)                 \
    X(PT_DETAIL, 28, PROTO_STR, 1024)                                \
    X(PT_JSON, 29, PROTO_STR, 16384)                                 \
    X(PT_EXT, 30, PROTO_STR, 8)                                      \
    X(PT_SHA256, 31, PROTO_FIXED, SV_SHA256_LEN)                     \
    X(PT_NUMBERS, 32, PROTO_NUMBERS, 8 * PROTO_NUMBERS_MAX)          \
    X(PT_SUMMARY, 33, PROTO_STR, SV_META_SUMMARY_MAX)                \
    X(PT_DATA_DIR, 34, PROTO_STR, SV_INTAKE_PATH_MAX - 1)            \
    X(PT_NOTABLE, 35, PROTO_U8, 1)                                   \
    X(PT_NAME, 36, PROTO_STR, SV_STORE_AUDIT_ARCHIVE_NAME_MAX)

enum proto_tag {
#define PROTO_TAG_ENUM(name, tag, kind, max) name = tag,
    PROTO_TAGS(PROTO_TAG_ENUM)
#undef PROTO_TAG_ENUM
};

#define PT(tag) (UINT64_C(1) << (tag))

/* X(NAME, type, required tags, optional tags). Requests are 1..63, replies
 * 64 and up. */
#define PROTO_MESSAGES(X)                                                                    \
    X(PM_FIND, 1, PT(PT_MRN), PT(PT_TYPE) | PT(PT_SINCE) | PT(PT_UNTIL))                     \
    X(PM_GET, 2, PT(PT_DOCID), 0)                                                            \
    X(PM_REVIEW_LIST, 3, 0, 0)                                                               \
    X(PM_REVIEW_SHOW, 4, PT(PT_DOCID), PT(PT_WITH_DOCUMENT))                                 \
    X(PM_REVIEW_ASSIGN, 5, PT(PT_DOCID) | PT(PT_MRN) | PT(PT_CONFIRM), PT(PT_TYPE))          \
    X(PM_REVIEW_REJECT, 6, PT(PT_DOCID) | PT(PT_NOTE), 0)                                    \
    X(PM_REVIEW_REASSIGN, 7, PT(PT_DOCID) | PT(PT_MRN) | PT(PT_CONFIRM), 0)                  \
    X(PM_STATUS, 8, 0, 0)                                                                    \
    X(PM_LIST, 9, PT(PT_STATE), 0)                                                           \
    X(PM_STATS, 10, 0, 0)                                                                    \
    X(PM_VERIFY, 11, 0, PT(PT_FAST))                                                         \
    X(PM_AUDIT_READ, 12, 0, PT(PT_SINCE) | PT(PT_UNTIL) | PT(PT_DOCID) | PT(PT_ACTION))      \
    X(PM_AUDIT_VERIFY, 13, 0, PT(PT_ANCHOR_SEQ) | PT(PT_MAC) | PT(PT_NOTABLE))              \
    X(PM_EXPORT, 14, PT(PT_MRN), PT(PT_TYPE) | PT(PT_SINCE) | PT(PT_UNTIL))                  \
    X(PM_HELLO, 15, 0, PT(PT_DATA_DIR))                                                      \
    X(PM_ERROR, 64, PT(PT_CODE) | PT(PT_KIND) | PT(PT_TEXT), 0)                              \
    X(PM_OK, 65, 0, PT(PT_SIZE) | PT(PT_UID) | PT(PT_USER) | PT(PT_TEXT) | PT(PT_DATA_DIR))  \
    X(PM_END, 66, PT(PT_CODE),                                                               \
      PT(PT_TEXT) | PT(PT_SIZE) | PT(PT_COUNT) | PT(PT_NUMBERS) | PT(PT_MAC) | PT(PT_NAME))  \
    X(PM_DATA, 67, PT(PT_BYTES), 0)                                                          \
    X(PM_DOC, 68, PT(PT_DOCID) | PT(PT_TYPE) | PT(PT_INTAKE_TIME) | PT(PT_PAGES) |           \
                      PT(PT_SIZE), 0)                                                        \
    X(PM_REVIEW_ITEM, 69, PT(PT_DOCID) | PT(PT_REASON) | PT(PT_TYPE) | PT(PT_PAGES) |        \
                              PT(PT_SIZE) | PT(PT_INTAKE_TIME) | PT(PT_SINCE), 0)            \
    X(PM_REVIEW_META, 70, PT(PT_DOCID) | PT(PT_STATE) | PT(PT_REASON) | PT(PT_TYPE) |        \
                              PT(PT_PAGES) | PT(PT_SIZE) | PT(PT_INTAKE_TIME) |              \
                              PT(PT_NOTE) | PT(PT_SUMMARY), 0)                               \
    X(PM_RECORD, 71, PT(PT_DOCID) | PT(PT_STATE) | PT(PT_REASON) | PT(PT_TYPE) |             \
                         PT(PT_PAGES) | PT(PT_SIZE) | PT(PT_INTAKE_TIME), 0)                 \
    X(PM_FIGURES, 72, PT(PT_NUMBERS), 0)                                                     \
    X(PM_TYPE_COUNT, 73, PT(PT_TYPE) | PT(PT_NUMBERS), 0)                                    \
    X(PM_STATUS_JSON, 74, PT(PT_JSON), 0)                                                    \
    X(PM_PROBLEM, 75, PT(PT_KIND) | PT(PT_DETAIL), PT(PT_DOCID))                             \
    X(PM_PROGRESS, 76, PT(PT_NUMBERS), 0)                                                    \
    X(PM_AUDIT_LINE, 77, PT(PT_SEQ) | PT(PT_TIME) | PT(PT_UID) | PT(PT_USER) |               \
                             PT(PT_ACTION) | PT(PT_DOCID) | PT(PT_RESULT) | PT(PT_MAC), 0)   \
    X(PM_EXPORT_DOC, 78, PT(PT_DOCID) | PT(PT_EXT) | PT(PT_TYPE) | PT(PT_INTAKE_TIME) |      \
                             PT(PT_PAGES) | PT(PT_SIZE) | PT(PT_SHA256), 0)

enum proto_type {
#define PROTO_TYPE_ENUM(name, type, required, optional) name = type,
    PROTO_MESSAGES(PROTO_TYPE_ENUM)
#undef PROTO_TYPE_ENUM
};

/* Why an ERROR frame was sent (its KIND field). */
typedef enum proto_error_kind {
    PROTO_ERR_FAILED = 0,         /* the request ran and failed: CODE is its SV_E* code */
    PROTO_ERR_PROTOCOL = 1,       /* the message broke the protocol: the service hangs up */
    PROTO_ERR_NOT_AUTHORISED = 2, /* the caller has no role: the service hangs up */
    PROTO_ERR_BUSY = 3,           /* too many connections: try again */
    PROTO_ERR_OTHER_DATA = 4,     /* the request names another data directory */
    PROTO_ERR_ROLE = 5,           /* the caller's role does not allow the request */
    PROTO_ERR_RATE_LIMIT = 6,     /* the caller's retrieval cap is reached */
    PROTO_ERR_UNAVAILABLE = 7     /* the service is restarting its intake: try again */
} proto_error_kind;

/* A decoded message: where each field's value lies in the frame, which must
 * outlive it. Read it with the typed getters below. */
typedef struct proto_msg {
    uint16_t type;
    uint64_t present; /* PT(tag) for each tag present */
    struct {
        const uint8_t *at;
        uint16_t len;
    } field[PROTO_TAG_LIMIT];
} proto_msg;

/*
 * Check a message header (PROTO_HEADER_LEN bytes): magic, version, and that
 * the payload length fits PROTO_FRAME_MAX. *payload_len gets the length.
 * Returns 0; SV_EFORMAT (not this protocol); SV_EVERSION; SV_ELIMIT (too
 * long). why (may be NULL) gets one line for the ERROR reply.
 */
int proto_check_header(const uint8_t *hdr, uint32_t *payload_len, char *why, size_t why_len);

/*
 * Decode one whole message, buf[0..len) = header and payload, strictly
 * (above). is_request: only request types are known; otherwise only
 * replies. *out is cleared first and set on success. Returns 0; SV_ETRUNC
 * (fewer bytes than the header says); SV_EFORMAT, SV_EVERSION, SV_ELIMIT,
 * with one line in why.
 */
int proto_decode(const uint8_t *buf, size_t len, bool is_request, proto_msg *out, char *why,
                 size_t why_len);

/* Typed getters: the value of tag, or 0 / "" / NULL when it is absent (the
 * decoder checked each field's length against its kind). */
bool proto_has(const proto_msg *m, unsigned tag);
uint8_t proto_u8(const proto_msg *m, unsigned tag);
int32_t proto_i32(const proto_msg *m, unsigned tag);
uint32_t proto_u32(const proto_msg *m, unsigned tag);
int64_t proto_i64(const proto_msg *m, unsigned tag);
uint64_t proto_u64(const proto_msg *m, unsigned tag);
/* A string into buf (cap bytes, NUL-terminated; SV_ELIMIT when it does not
 * fit: buf is then ""). */
int proto_str(const proto_msg *m, unsigned tag, char *buf, size_t cap);
const uint8_t *proto_bytes(const proto_msg *m, unsigned tag, size_t *len);
/* Up to max NUMBERS values into out; returns how many there were (may be
 * more than max: the rest are not copied). */
size_t proto_numbers(const proto_msg *m, unsigned tag, int64_t *out, size_t max);

/* A message being built. put_* of a tag whose kind or bound the value
 * breaks marks it bad: proto_send() then refuses it (a bug, not input). */
typedef struct proto_out {
    uint8_t buf[PROTO_FRAME_MAX];
    size_t len;
    bool is_bad;
} proto_out;

void proto_start(proto_out *o, uint16_t type);
void proto_put_str(proto_out *o, unsigned tag, const char *s);
/* As proto_put_str, but a longer string is cut to the tag's bound. */
void proto_put_text(proto_out *o, unsigned tag, const char *s);
void proto_put_u8(proto_out *o, unsigned tag, uint8_t v);
void proto_put_i32(proto_out *o, unsigned tag, int32_t v);
void proto_put_u32(proto_out *o, unsigned tag, uint32_t v);
void proto_put_i64(proto_out *o, unsigned tag, int64_t v);
void proto_put_u64(proto_out *o, unsigned tag, uint64_t v);
void proto_put_bytes(proto_out *o, unsigned tag, const uint8_t *p, size_t n);
void proto_put_numbers(proto_out *o, unsigned tag, const int64_t *v, size_t n);
/* Set the header's length. 0, or SV_ELIMIT when a put failed. */
int proto_finish(proto_out *o);

/* Finish o and write it whole to fd (no SIGPIPE). 0; SV_ELIMIT (bad
 * message); SV_EERRNO (the peer is gone, or the send timed out). */
int proto_send(int fd, proto_out *o);

/* A buffered reader of messages from one descriptor: each recv() takes
 * whatever has arrived, so a stream of small frames costs few calls. */
typedef struct proto_reader {
    int fd;
    size_t start, end;            /* buf[start..end): read, not yet decoded */
    uint8_t buf[2 * PROTO_FRAME_MAX];
} proto_reader;

/*
 * Read and decode the next message. *out points into r->buf and stays
 * valid until the next call. Returns 0; SV_ENOTFOUND when the peer closed
 * before a message began; SV_ETIMEOUT when none began before the
 * descriptor's receive timeout; SV_ETRUNC (the peer closed or went silent
 * inside a message); SV_EERRNO; the header and decoding errors above (why
 * says which).
 */
int proto_read(proto_reader *r, bool is_request, proto_msg *out, char *why, size_t why_len);

/* Wipe what has been decoded (it may hold an MRN); the unread rest stays. */
void proto_reader_wipe(proto_reader *r);

/* ---- the socket server's parts (server.c, server_requests.c) ---- */

/* Roles, each allowing what the one below allows and more. */
typedef enum server_role {
    ROLE_NONE = 0,
    ROLE_REVIEWER = 1, /* review list, show, assign, reject */
    ROLE_CLERK = 2,    /* + find, get, review reassign */
    ROLE_ADMIN = 3     /* + status, list, stats, verify, audit, export */
} server_role;
#define ROLE_COUNT 4

/* One connection, served by one thread. The caller's identity is the
 * kernel's (SO_PEERCRED, SO_PEERGROUPS), taken once at accept. */
typedef struct server_conn {
    sv_server *srv;
    size_t slot;
    int fd;
    uint32_t uid;
    char user[SV_AUDIT_USER_MAX + 1];
    gid_t *gids;
    size_t n_gids;
    /* during one request (server_run_request) */
    server_role role;
    sv_store *view;             /* the store as this caller */
    const sv_ocr_rules *rules;
    bool is_started;            /* a reply frame other than ERROR went out */
    int send_rc;                /* the first failed send: the peer is gone */
    uint64_t bytes;             /* document bytes sent */
    double last_progress;       /* when the last PROGRESS frame went out */
    proto_reader in;
    proto_out out;              /* the frame being built */
    size_t pending;             /* small frames gathered in wbuf, not yet sent */
    uint8_t wbuf[PROTO_FRAME_MAX];
} server_conn;

/* "admin", "clerk", "reviewer", "none". */
const char *server_role_name(server_role role);

/* The caller as the kernel sees it (SO_PEERCRED, SO_PEERGROUPS): uid, groups
 * (primary included), user name (server_socket.c). 0, SV_EERRNO, SV_ENOMEM. */
int server_identify(server_conn *c);

/*
 * Run one decoded request for c: takes the store (waiting while the
 * service swaps it), checks the caller's role, makes the caller's view,
 * dispatches, audits what the store did not. Replies on c->fd.
 */
void server_run_request(server_conn *c, const proto_msg *m);

/* Hold the store (and roles, caps) for one request: the service's swap on
 * a reload waits until it is released. Never held twice by one thread. */
void server_hold(sv_server *srv);
void server_release(sv_server *srv);
/* server_hold(), waiting up to wait_s seconds while no store is attached (a
 * reload). Held either way; returns whether a store is there. */
bool server_hold_store(sv_server *srv, unsigned wait_s);
/* With the store held: the store and rules (NULL while detached), the
 * caller's role under the current groups, and a role's hourly cap (0:
 * none). */
sv_store *server_held_store(sv_server *srv);
const sv_ocr_rules *server_held_rules(sv_server *srv);
server_role server_role_of(const sv_server *srv, const server_conn *c);
unsigned server_cap_of(const sv_server *srv, server_role role);

/*
 * Count n documents against the caller's hourly cap. Returns 0 (counted);
 * SV_ELIMIT when they would pass it (nothing counted; message set).
 */
int server_take_docs(server_conn *c, uint64_t n);
/* Uncount n documents that were not retrieved after all. */
void server_give_back_docs(server_conn *c, uint64_t n);
/* The last status JSON the service handed over, into buf. */
void server_status_copy(sv_server *srv, char *buf, size_t len);

/*
 * The listening socket at s->access_socket (server_socket.c): a missing
 * parent directory made (0755), a stale socket replaced, mode 0660, group
 * s->access_socket_group when it exists (else a warning). *fd, path, *dev,
 * *ino describe it. Returns 0; SV_EEXIST (another service answers there, or
 * something else has the name); SV_ELIMIT; SV_EERRNO. Message set.
 */
int server_socket_open(const sv_intake_settings *s, int *fd, char *path, size_t path_len,
                       dev_t *dev, ino_t *ino);
/* Remove the socket file at path if it is still the one made (dev, ino). */
void server_socket_remove(const char *path, dev_t dev, ino_t ino);

/* Release of information through the socket (server_export.c). */
int server_export(server_conn *c, const proto_msg *m);

/* Queue c->out for sending (small frames are gathered and go out together;
 * nothing once a send has failed). 0 or the send's error. */
int server_send(server_conn *c);
/* Send what is queued: at the end of each answer, and before waiting. */
int server_flush(server_conn *c);
/* Send an ERROR frame. */
void server_error(server_conn *c, proto_error_kind kind, int code, const char *text);
/* Send document bytes as DATA frames (at most PROTO_DATA_MAX each), counted
 * in c->bytes. 0, or SV_EERRNO once the caller is gone. */
int server_send_data(server_conn *c, const uint8_t *buf, size_t len);

/* ---- the client's parts (client.c, client_calls.c) ---- */

struct sv_client {
    int fd;                 /* -1 once the connection is given up */
    char role[16];          /* as the service named it */
    char data_dir[SV_INTAKE_PATH_MAX]; /* the one the service serves */
    proto_reader in;
    proto_out out;
};

/* Send c->out as a request. 0 or SV_EERRNO (message set). */
int client_send(sv_client *c);
/* Read the next answer frame into *m. 0, or an error (message set; the
 * connection is then given up). */
int client_next(sv_client *c, proto_msg *m);
/* The failure an ERROR frame reports, as an SV_E* code (message set). */
int client_refused(const proto_msg *m);
/* The outcome an END frame reports: 0, or its code (message set). */
int client_ended(const proto_msg *m);
/* An answer of a type this request does not expect: SV_EFORMAT (message
 * set; the connection is given up). */
int client_unexpected(sv_client *c, const proto_msg *m);
/* Give the connection up (it is out of step or the caller stopped). */
void client_hang_up(sv_client *c);

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

/* Append one audit line for store: as this process, or on a caller's view
 * (sv_store_create_view) as that caller. Counts it (sv_store_audit_count).
 * Returns as sv_audit_append(). Every store function audits through this. */
int intake_audit(sv_store *store, const char *action, const char *docid, const char *result);

/* ---- the export directory (store_export_dir.c) ----
 * A new directory made whole or not at all: temp directory beside it (0700,
 * files 0600), each document hashed against its sealed SHA-256 after it is
 * written and fsync'ed, the manifests, then a rename that never replaces
 * anything. Each returns 0 or an SV_E* code with the message set. */
typedef struct export_dir export_dir;
/* Refuse a target that exists; open its parent. Nothing is created. */
int export_dir_open(export_dir **out, const char *out_dir);
/* Make the temp directory beside the target. */
int export_dir_make_temp(export_dir *d);
/* Start doc's file (named by its docid and extension). */
int export_dir_begin(export_dir *d, const sv_store_export_doc *doc);
/* An sv_vault_sink (ctx: the export_dir): bytes of the current document. */
int export_dir_write(void *ctx, const uint8_t *buf, size_t len);
/* The current document is whole: fsync, hash, compare. */
int export_dir_end(export_dir *d);
/* Documents written whole so far. */
size_t export_dir_written(const export_dir *d);
/* The manifests, then the rename to the target. */
int export_dir_finish(export_dir *d);
/* rc != 0: remove everything written (the message says what could not be)
 * before closing. NULL is fine. */
void export_dir_close(export_dir *d, int rc);

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

/* 0 when <data_dir>/index is still the environment the store opened;
 * SV_EINDEX (message set) when a reindex or a key rotation swapped in
 * another one meanwhile: a write to the old one would be lost. Check it
 * after taking intake_lock_decisions(). */
int intake_store_index_is_current(sv_store *store);

/* ---- the decision journal (store_journal.c) ---- */

/* Note, durably, that a review decision on docid is about to rewrite its
 * vault header. 0; SV_EERRNO. */
int intake_journal_begin(const char *data_dir, const char *docid);
/* The index has followed (or the header was put back): forget the note. */
void intake_journal_end(const char *data_dir, const char *docid);
/* For every note left by a process that died mid-decision, bring the index
 * entry in line with the object's sealed metadata (under the decisions
 * lock), then drop the note. *n_replayed: notes handled. 0, or the first
 * error (that note stays for the next open). */
int intake_journal_replay(sv_store *store, size_t *n_replayed);

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
