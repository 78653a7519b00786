/*
 * intake_internal.h - shared by the files of intake/ only.
 */
#ifndef SV_INTAKE_INTERNAL_H
#define SV_INTAKE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sv_intake.h"
#include "sv_ocr.h"

/* ---- worker frames (worker_proto.c) ---- */

#define WORKER_MAGIC 0x4b575653u /* "SVWK" little-endian */
#define WORKER_VERSION 1
enum { WORKER_MSG_READY = 1, WORKER_MSG_EXTRACT = 2, WORKER_MSG_RESULT = 3 };

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

#endif
