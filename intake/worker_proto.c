/*
 * worker_proto.c - the frames between the supervisor and an OCR worker.
 *
 * The worker parses hostile images, so the supervisor trusts nothing it says:
 * every answer has a fixed header (magic, version, type, length), a length
 * that must equal the one payload type it may carry, and a payload whose every
 * field is range-checked before use. Anything else is a protocol error and the
 * worker is replaced.
 *
 *   rules    (supervisor -> worker, once, first): header, type RULES,
 *            length, sv_ocr_rules_encode() bytes
 *   ready    (worker -> supervisor, once): header, type READY, length 0
 *   request  (supervisor -> worker): header, type EXTRACT, length 0, and the
 *            document as an open file descriptor (SCM_RIGHTS)
 *   answer   (worker -> supervisor): header, type RESULT, length
 *            sizeof(sv_ocr_result), the result
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "intake_internal.h"

static bool is_terminated(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL;
}

static bool is_digits(const char *s)
{
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

static bool is_type_name(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s; s++)
        if (!(islower((unsigned char)*s) || *s == '_' || isdigit((unsigned char)*s)))
            return false;
    return true;
}

/* A bool read from untrusted bytes must be 0 or 1, checked as a byte before
 * the struct is used (any other value would be undefined behaviour). */
static bool is_bool_byte(const uint8_t *raw, size_t offset)
{
    return raw[offset] <= 1;
}

static bool is_in_range(double v, double lo, double hi)
{
    return isfinite(v) && v >= lo && v <= hi;
}

/* The bool fields of a result, checked in its raw bytes. */
static bool bools_are_valid(const uint8_t *raw)
{
    for (size_t i = 0; i < SV_OCR_MAX_CANDIDATES; i++) {
        size_t base = offsetof(sv_ocr_result, candidates) + i * sizeof(sv_ocr_candidate);
        if (!is_bool_byte(raw, base + offsetof(sv_ocr_candidate, second_read_agrees)) ||
            !is_bool_byte(raw, base + offsetof(sv_ocr_candidate, is_handwritten)))
            return false;
    }
    return true;
}

int worker_result_validate(const sv_ocr_result *r)
{
    if (r->status != SV_OCR_INDEX && r->status != SV_OCR_REVIEW && r->status != SV_OCR_REJECT)
        return SV_EFORMAT;
    if ((unsigned)r->reason >= SV_REASON_COUNT)
        return SV_EFORMAT;
    if (!is_terminated(r->mrn, sizeof r->mrn) || !is_digits(r->mrn))
        return SV_EFORMAT;
    if ((r->status == SV_OCR_INDEX) != (r->mrn[0] != '\0'))
        return SV_EFORMAT;
    if (r->status == SV_OCR_INDEX && r->reason != SV_REASON_NONE)
        return SV_EFORMAT;
    if (!is_terminated(r->type, sizeof r->type) || !is_type_name(r->type))
        return SV_EFORMAT;
    if (r->pages < 0 || r->pages > 100000 || r->n_candidates > SV_OCR_MAX_CANDIDATES)
        return SV_EFORMAT;
    if (!is_in_range(r->type_confidence, 0.0, 1.0))
        return SV_EFORMAT;
    const double *ms = &r->ms.load;
    for (size_t i = 0; i < sizeof r->ms / sizeof *ms; i++)
        if (!is_in_range(ms[i], 0.0, 1e9))
            return SV_EFORMAT;
    for (size_t i = 0; i < r->n_candidates; i++) {
        const sv_ocr_candidate *c = &r->candidates[i];
        if (!is_terminated(c->digits, sizeof c->digits) || !is_digits(c->digits))
            return SV_EFORMAT;
        if ((unsigned)c->problem >= SV_REASON_COUNT || (unsigned)c->source > SV_SOURCE_BARCODE)
            return SV_EFORMAT;
        if (!is_in_range(c->min_char_conf, 0.0, 100.0) || c->page < 0)
            return SV_EFORMAT;
    }
    return 0;
}

int worker_frame_decode(const uint8_t *buf, size_t len, sv_ocr_result *out)
{
    memset(out, 0, sizeof *out);
    worker_frame_header h;
    if (len < sizeof h)
        return SV_ETRUNC;
    memcpy(&h, buf, sizeof h);
    if (h.magic != WORKER_MAGIC || h.version != WORKER_VERSION || h.type != WORKER_MSG_RESULT)
        return SV_EFORMAT;
    if (h.length != sizeof *out)
        return SV_EFORMAT;
    if (len < sizeof h + sizeof *out)
        return SV_ETRUNC;
    if (len > sizeof h + sizeof *out)
        return SV_EFORMAT; /* trailing bytes */
    if (!bools_are_valid(buf + sizeof h))
        return SV_EFORMAT;
    sv_ocr_result r;
    memcpy(&r, buf + sizeof h, sizeof r);
    int rc = worker_result_validate(&r);
    if (rc == 0)
        *out = r;
    return rc;
}

/*
 * The worker parses hostile images and is trusted with nothing: an INDEX
 * verdict must name an MRN that passes the rules here too (format, check
 * digit, known list) and that is among the candidates it reported, or the
 * document goes to review with the reason.
 */
void worker_recheck_filing(const sv_ocr_rules *rules, sv_ocr_result *r)
{
    if (r->status != SV_OCR_INDEX)
        return;
    char digits[SV_MRN_MAX + 1];
    sv_ocr_reason why = sv_ocr_check_mrn(rules, r->mrn, digits);
    bool is_candidate = false;
    for (size_t i = 0; i < r->n_candidates; i++)
        if (strcmp(r->candidates[i].digits, r->mrn) == 0)
            is_candidate = true;
    if (why == SV_REASON_NONE && is_candidate && strcmp(digits, r->mrn) == 0)
        return;
    r->status = SV_OCR_REVIEW;
    r->reason = why != SV_REASON_NONE ? why : SV_REASON_CONFLICTING_MRNS;
    memset(r->mrn, 0, sizeof r->mrn);
}

int worker_send_fd(int sock, int fd)
{
    worker_frame_header h = {WORKER_MAGIC, WORKER_VERSION, WORKER_MSG_EXTRACT, 0};
    struct iovec iov = {.iov_base = &h, .iov_len = sizeof h};
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } control;
    memset(&control, 0, sizeof control);
    struct msghdr msg = {.msg_iov = &iov,
                         .msg_iovlen = 1,
                         .msg_control = control.buf,
                         .msg_controllen = sizeof control.buf};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof fd);
    ssize_t n;
    do {
        n = sendmsg(sock, &msg, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof h)
        return SV_EWORKER;
    return 0;
}

int worker_recv_fd(int sock, int *fd)
{
    *fd = -1;
    worker_frame_header h;
    struct iovec iov = {.iov_base = &h, .iov_len = sizeof h};
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } control;
    memset(&control, 0, sizeof control);
    struct msghdr msg = {.msg_iov = &iov,
                         .msg_iovlen = 1,
                         .msg_control = control.buf,
                         .msg_controllen = sizeof control.buf};
    ssize_t n;
    do {
        n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n == 0)
        return SV_ENOTFOUND; /* supervisor closed: time to exit */
    if (n < 0)
        return SV_EFORMAT;
    int received = -1;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
            cm->cmsg_len == CMSG_LEN(sizeof(int)))
            memcpy(&received, CMSG_DATA(cm), sizeof received);
    if (n != (ssize_t)sizeof h || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
        h.magic != WORKER_MAGIC || h.version != WORKER_VERSION ||
        h.type != WORKER_MSG_EXTRACT || h.length != 0 || received < 0) {
        if (received >= 0)
            close(received);
        return SV_EFORMAT;
    }
    *fd = received;
    return 0;
}

int worker_send_result(int sock, const sv_ocr_result *r)
{
    uint8_t frame[sizeof(worker_frame_header) + sizeof *r];
    worker_frame_header h = {WORKER_MAGIC, WORKER_VERSION, WORKER_MSG_RESULT,
                             (uint32_t)sizeof *r};
    memcpy(frame, &h, sizeof h);
    memcpy(frame + sizeof h, r, sizeof *r);
    ssize_t n;
    do {
        n = send(sock, frame, sizeof frame, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n == (ssize_t)sizeof frame ? 0 : SV_EWORKER;
}

int worker_send_ready(int sock)
{
    worker_frame_header h = {WORKER_MAGIC, WORKER_VERSION, WORKER_MSG_READY, 0};
    ssize_t n;
    do {
        n = send(sock, &h, sizeof h, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n == (ssize_t)sizeof h ? 0 : SV_EWORKER;
}

int worker_send_rules(int sock, const uint8_t *encoded, size_t len)
{
    if (len > SV_OCR_RULES_WIRE_MAX)
        return SV_EWORKER;
    worker_frame_header h = {WORKER_MAGIC, WORKER_VERSION, WORKER_MSG_RULES, (uint32_t)len};
    struct iovec iov[2] = {{.iov_base = &h, .iov_len = sizeof h},
                           {.iov_base = (void *)encoded, .iov_len = len}};
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
    ssize_t n;
    do {
        n = sendmsg(sock, &msg, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n == (ssize_t)(sizeof h + len) ? 0 : SV_EWORKER;
}

int worker_recv_rules(int sock, sv_ocr_rules **rules, char *err, size_t err_len)
{
    *rules = NULL;
    if (err != NULL && err_len > 0)
        err[0] = '\0';
    /* One byte more than the largest frame, to notice a longer one. */
    size_t cap = sizeof(worker_frame_header) + SV_OCR_RULES_WIRE_MAX + 1;
    uint8_t *frame = malloc(cap);
    if (frame == NULL)
        return SV_ENOMEM;
    ssize_t n;
    do {
        n = recv(sock, frame, cap, 0);
    } while (n < 0 && errno == EINTR);
    int rc = SV_EFORMAT;
    worker_frame_header h;
    if (n == 0) {
        rc = SV_ENOTFOUND;
        goto out;
    }
    if (n < (ssize_t)sizeof h || (size_t)n == cap)
        goto out;
    memcpy(&h, frame, sizeof h);
    if (h.magic != WORKER_MAGIC || h.version != WORKER_VERSION || h.type != WORKER_MSG_RULES ||
        h.length != (size_t)n - sizeof h)
        goto out;
    rc = sv_ocr_rules_decode(rules, frame + sizeof h, h.length, err, err_len);
out:
    free(frame);
    return rc;
}
