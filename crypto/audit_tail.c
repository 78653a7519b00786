/*
 * audit_tail.c - what appending and the anchor read of the audit log: only
 * its end (at most TAIL_WINDOW bytes), whatever its size.
 *
 * Why only the end: an append must cost the same whatever the size of the
 * log. The appender needs the last line's seq and MAC to chain on, and it
 * checks that MAC against the line before (two lines, O(1)): a log written
 * under another key (a rotated master key) or a damaged end is refused at
 * the first append instead of being chained on and found at the next
 * verify. The whole chain is sv_audit_read()'s job (audit_read.c).
 *
 * The torn end (see audit.c) is found here: a last piece without newline,
 * and complete lines holding NUL bytes before it.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "crypto_internal.h"

/* How much of the end of the file is read: the torn end (at most the two
 * lines of one repair write) and the two lines before it, with room to
 * spare. Anything that needs more is not a crash but damage. */
#define TAIL_WINDOW (8 * SV_AUDIT_LINE_MAX)

static int pread_full(int fd, char *buf, size_t len, off_t at, size_t *got)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, buf + done, len - done, at + (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            *got = done;
            return -1;
        }
        if (n == 0)
            break;
        done += (size_t)n;
    }
    *got = done;
    return 0;
}

/* Start of the line that ends at end (just before a newline, or at the end
 * of the data): the byte after the previous newline, or 0. */
static size_t line_start(const char *buf, size_t end)
{
    while (end > 0 && buf[end - 1] != '\n')
        end--;
    return end;
}

static int tail_damaged(const char *path, const char *what)
{
    return cr_fail(SV_EAUTH, "audit log %s: %s; run 'scanvault audit verify' and keep the "
                             "file for investigation",
                   path, what);
}

/* Find the torn end (a last piece without newline, and complete lines
 * holding NUL bytes before it) in buf, which holds the file's last w bytes
 * from offset base. *end_out gets where the complete lines end. */
static int find_torn_end(const char *buf, size_t w, off_t base, const char *path,
                         size_t *end_out)
{
    size_t end = w;
    if (buf[w - 1] != '\n') {
        end = line_start(buf, w);
        if (end == 0 && base > 0)
            return tail_damaged(path, "the end of the file holds no complete line");
    }
    while (end > 0) {
        size_t start = line_start(buf, end - 1);
        if (start == 0 && base > 0)
            return tail_damaged(path, "the last lines are too long");
        if (memchr(buf + start, '\0', end - start) == NULL)
            break;
        end = start;
    }
    *end_out = end;
    return 0;
}

/* The last complete line of buf (ending at end, which is > 0, just after a
 * newline) must parse and verify, chained on the line before it. */
static int check_last_line(const sv_keyring *ring, const char *buf, size_t end, off_t base,
                           const char *path, sv_audit_entry *last)
{
    const char *what;
    size_t start = line_start(buf, end - 1);
    if (cr_audit_parse(buf + start, end - 1 - start, last, &what) != 0)
        return tail_damaged(path, "the last line is malformed");
    uint8_t prev_mac[SV_AUDIT_MAC_LEN] = {0};
    if (last->seq == 1) {
        if (start > 0 || base > 0)
            return tail_damaged(path, "the last line has seq 1 but is not the first");
    } else {
        if (start == 0)
            return tail_damaged(path, base > 0 ? "the line before the last is too long"
                                               : "the first line does not have seq 1");
        size_t prev_start = line_start(buf, start - 1);
        if (prev_start == 0 && base > 0)
            return tail_damaged(path, "the line before the last is too long");
        sv_audit_entry prev;
        if (cr_audit_parse(buf + prev_start, start - 1 - prev_start, &prev, &what) != 0)
            return tail_damaged(path, "the line before the last is malformed");
        if (prev.seq != last->seq - 1)
            return tail_damaged(path, "the last two lines are out of sequence");
        memcpy(prev_mac, prev.mac, sizeof prev_mac);
    }
    int rc = cr_audit_check_mac(ring, prev_mac, buf + start, end - 1 - start, last);
    if (rc == SV_EAUTH)
        return cr_fail(SV_EAUTH, "audit log %s: the last line does not verify under this key "
                                 "(changed, or written under another key: after a key "
                                 "rotation start a new log); run 'scanvault audit verify'",
                       path);
    if (rc != 0)
        return cr_fail(rc, "audit log %s: cannot compute a MAC (out of memory)", path);
    return 0;
}

int cr_audit_scan_tail(int fd, off_t size, const sv_keyring *ring, const char *path,
                       cr_audit_tail *t)
{
    memset(t, 0, sizeof *t);
    t->torn_at = size;
    if (size == 0)
        return 0;
    char buf[TAIL_WINDOW];
    size_t w = size < (off_t)sizeof buf ? (size_t)size : sizeof buf, got;
    off_t base = size - (off_t)w;
    if (pread_full(fd, buf, w, base, &got) != 0)
        return cr_fail_errno("audit log %s: cannot read its end", path);
    if (got != w)
        return cr_fail(SV_EAUTH, "audit log %s: cut short while locked (a program that does "
                                 "not lock it writes to it)",
                       path);
    size_t end = 0;
    int rc = find_torn_end(buf, w, base, path, &end);
    if (rc != 0)
        return rc;
    t->torn_at = base + (off_t)end;
    t->torn_len = w - end;
    if (t->torn_len > 0)
        gcry_md_hash_buffer(GCRY_MD_SHA256, t->torn_sha256, buf + end, t->torn_len);
    if (end == 0) /* then base is 0: an empty log with a torn first line */
        return 0;
    sv_audit_entry last;
    rc = check_last_line(ring, buf, end, base, path, &last);
    if (rc != 0)
        return rc;
    t->seq = last.seq;
    memcpy(t->mac, last.mac, sizeof t->mac);
    return 0;
}

int sv_audit_tail(const sv_keyring *ring, const char *path, uint64_t *seq,
                  uint8_t mac[SV_AUDIT_MAC_LEN])
{
    if (seq != NULL)
        *seq = 0;
    if (mac != NULL)
        memset(mac, 0, SV_AUDIT_MAC_LEN);
    if (ring == NULL || path == NULL || path[0] == '\0' || seq == NULL || mac == NULL)
        return cr_fail(SV_EINVAL, "audit log tail: bad arguments");
    int fd;
    off_t size;
    /* Shared lock held while reading: an append may be replacing a torn end. */
    int rc = cr_audit_open_read(path, true, &fd, &size);
    if (rc != 0)
        return rc;
    cr_audit_tail t;
    rc = cr_audit_scan_tail(fd, size, ring, path, &t);
    close(fd);
    if (rc != 0)
        return rc;
    *seq = t.seq;
    memcpy(mac, t.mac, SV_AUDIT_MAC_LEN);
    return 0;
}
