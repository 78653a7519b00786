/*
 * audit_read.c - verify and walk a whole audit log: every line, in order,
 * parsed with explicit bounds and its MAC checked against the line before,
 * in constant memory (one buffer, lines of at most SV_AUDIT_LINE_MAX bytes).
 *
 * The file is untrusted: a line that is too long, cut short, malformed, out
 * of sequence or that does not verify ends the walk with SV_EAUTH and its
 * line number. Nothing after it can be trusted either (its chain starts
 * from a MAC that was never authenticated), so the walk does not go on.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto_internal.h"

#define READ_BUF (64u << 10)
_Static_assert(READ_BUF >= 2 * SV_AUDIT_LINE_MAX, "read buffer smaller than two lines");

int cr_audit_flock(int fd, int op, const char *path)
{
    while (flock(fd, op) != 0) {
        if (errno != EINTR)
            return cr_fail_errno("audit log %s: cannot lock", path);
    }
    return 0;
}

int cr_audit_open_read(const char *path, bool keep_lock, int *fd_out, off_t *size_out)
{
    *fd_out = -1;
    *size_out = 0;
    /* O_NONBLOCK: a FIFO put in the log's place must not hang the reader
     * (it is refused below); it changes nothing for a regular file. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT)
            return cr_fail(SV_ENOTFOUND, "audit log %s does not exist (nothing logged yet, or "
                                         "a wrong path)",
                           path);
        return cr_fail_errno("audit log %s: cannot open", path);
    }
    int rc = 0;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = cr_fail_errno("audit log %s: cannot stat", path);
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = cr_fail(SV_EFORMAT, "audit log %s is not a regular file", path);
        goto out;
    }
    rc = cr_audit_flock(fd, LOCK_SH, path);
    if (rc != 0)
        goto out;
    if (fstat(fd, &st) != 0) {
        rc = cr_fail_errno("audit log %s: cannot stat", path);
        goto out;
    }
    if (!keep_lock)
        flock(fd, LOCK_UN);
    *fd_out = fd;
    *size_out = st.st_size;
    fd = -1;
out:
    if (fd >= 0) {
        int saved = errno;
        close(fd);
        errno = saved;
    }
    return rc;
}

/* The walk's state. */
typedef struct walker {
    const sv_keyring *ring;
    const char *path;
    uint64_t line_no;                   /* lines taken so far */
    uint8_t prev_mac[SV_AUDIT_MAC_LEN]; /* the last verified line's */
    uint64_t bad_line;                  /* the line that failed; 0 for none */
} walker;

static int bad_line(walker *w, const char *why, const char *what)
{
    w->bad_line = w->line_no;
    return cr_fail(SV_EAUTH, "audit log %s: line %" PRIu64 " %s%s%s; the lines after it are "
                             "not verified",
                   w->path, w->line_no, why, what[0] != '\0' ? ": " : "", what);
}

/* Verify one complete line (len bytes without its newline) and pass it on. */
static int take_line(walker *w, const char *line, size_t len, sv_audit_entry_fn fn, void *ctx)
{
    sv_audit_entry e;
    const char *what;
    w->line_no++;
    if (cr_audit_parse(line, len, &e, &what) != 0)
        return bad_line(w, "is malformed", what);
    int rc = cr_audit_check_mac(w->ring, w->prev_mac, line, len, &e);
    if (rc == SV_EAUTH)
        return bad_line(w, "does not verify (changed, inserted, removed, reordered, or "
                           "written under another key)",
                        "");
    if (rc != 0)
        return cr_fail(rc, "audit log %s: cannot compute a MAC (out of memory)", w->path);
    if (e.seq != w->line_no)
        return bad_line(w, "is out of sequence", "");
    memcpy(w->prev_mac, e.mac, sizeof w->prev_mac);
    if (fn == NULL)
        return 0;
    rc = fn(&e, ctx);
    if (rc < 0)
        return cr_fail(rc, "audit log %s: reading stopped by the caller at line %" PRIu64,
                       w->path, w->line_no);
    return rc;
}

/* Read and verify size bytes of fd, line by line. */
static int walk(walker *w, int fd, off_t size, char *buf, sv_audit_entry_fn fn, void *ctx)
{
    size_t have = 0, at = 0;
    off_t left = size;
    for (;;) {
        char *nl = memchr(buf + at, '\n', have - at);
        if (nl != NULL) {
            size_t len = (size_t)(nl - (buf + at));
            if (len >= SV_AUDIT_LINE_MAX) {
                w->line_no++;
                return bad_line(w, "is too long", "");
            }
            int rc = take_line(w, buf + at, len, fn, ctx);
            if (rc != 0)
                return rc < 0 ? rc : 0;
            at += len + 1;
            continue;
        }
        if (have - at >= SV_AUDIT_LINE_MAX) {
            w->line_no++;
            return bad_line(w, "is too long", "");
        }
        if (left == 0) {
            if (have > at) {
                w->line_no++;
                return bad_line(w, "is cut short (no newline: a torn write, replaced by the "
                                   "next append)",
                                "");
            }
            return 0;
        }
        /* Keep the partial line, fill the rest of the buffer. */
        memmove(buf, buf + at, have - at);
        have -= at;
        at = 0;
        size_t want = READ_BUF - have, got;
        if ((off_t)want > left)
            want = (size_t)left;
        if (cr_read_full(fd, (uint8_t *)buf + have, want, &got) != 0)
            return cr_fail_errno("audit log %s: read failed", w->path);
        /* Shorter than its size when we began: someone cut it meanwhile;
         * what is left is checked as it is. */
        left = got < want ? 0 : left - (off_t)got;
        have += got;
    }
}

int sv_audit_read(const sv_keyring *ring, const char *path, sv_audit_entry_fn fn, void *ctx,
                  uint64_t *bad_line_out)
{
    if (bad_line_out != NULL)
        *bad_line_out = 0;
    if (ring == NULL || path == NULL || path[0] == '\0')
        return cr_fail(SV_EINVAL, "audit log: no key ring or no path given");
    int fd;
    off_t size;
    int rc = cr_audit_open_read(path, false, &fd, &size);
    if (rc != 0)
        return rc;
    char *buf = malloc(READ_BUF);
    if (buf == NULL) {
        rc = cr_fail(SV_ENOMEM, "audit log %s: out of memory", path);
        goto out;
    }
    walker w = {.ring = ring, .path = path};
    rc = walk(&w, fd, size, buf, fn, ctx);
    if (bad_line_out != NULL)
        *bad_line_out = w.bad_line;
out:
    free(buf);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}
