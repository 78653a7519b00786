/*
 * audit.c - the audit log handle: open or create the file, append a line
 * under an exclusive flock(), replace a torn end. What is read of the end
 * of the file is audit_tail.c's.
 *
 * Why a torn end is replaced by a repair line rather than kept or cut off:
 * a writer that crashed in the middle of write() leaves a line without its
 * newline (or, on some filesystems, with blocks of NUL bytes). Kept, it
 * would break the chain for every later line, and verify would fail
 * forever; cut off, the fact that something was being logged would vanish.
 * So the next appender writes, over the torn bytes, a line with the
 * reserved action SV_AUDIT_ACTION_REPAIR whose result holds their length
 * and SHA-256, chained like any other line, then its own line. At every
 * point of a crash during that, the file holds either the torn bytes (seen
 * by verify, replaced by the next append) or the repair line.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crypto_internal.h"

#define PASSWD_BUF 16384

struct sv_audit {
    const sv_keyring *ring;
    char *path;
    int fd; /* O_RDWR | O_APPEND */
    /* flock() does not order the threads of one process (they share the
     * open file description that holds the lock): this does. */
    pthread_mutex_t mutex;
    bool has_mutex;
    bool has_name;
    uint32_t name_uid; /* whose name is cached in name */
    char name[SV_AUDIT_USER_MAX + 1];
};

/* ------------------------------ opening -------------------------------- */

static int check_log_file(int fd, const char *path)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return cr_fail_errno("audit log %s: cannot stat", path);
    if (!S_ISREG(st.st_mode))
        return cr_fail(SV_EFORMAT, "audit log %s is not a regular file", path);
    if ((st.st_mode & 022) != 0)
        return cr_fail(SV_EPERM, "audit log %s is writable by group or others: chmod 600 it "
                                 "and check it with 'scanvault audit verify'",
                       path);
    return 0;
}

static int open_log(const char *path, int *fd_out)
{
    *fd_out = -1;
    int fd = -1, rc = 0;
    /* Two opens (create, else open) so a new file is known to be new: its
     * mode is then set exactly and its directory entry made durable. The
     * file can vanish between them: try again. */
    for (int attempt = 0; attempt < 3; attempt++) {
        fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            if (fchmod(fd, 0600) != 0) /* the umask only takes bits away; be exact */
                rc = cr_fail_errno("audit log %s: cannot chmod", path);
            if (rc == 0)
                rc = cr_fsync_parent(path);
            goto out;
        }
        if (errno == ENOENT)
            return cr_fail(SV_ENOTFOUND, "audit log %s: its directory does not exist (run "
                                         "'scanvault init')",
                           path);
        if (errno != EEXIST)
            return cr_fail_errno("audit log %s: cannot create", path);
        fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
        if (fd >= 0) {
            rc = check_log_file(fd, path);
            goto out;
        }
        if (errno == EISDIR)
            return cr_fail(SV_EFORMAT, "audit log %s is not a regular file", path);
        if (errno != ENOENT)
            return cr_fail_errno("audit log %s: cannot open", path);
    }
    return cr_fail_errno("audit log %s: cannot open", path);
out:
    if (rc != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return rc;
    }
    *fd_out = fd;
    return 0;
}

void sv_audit_destroy(sv_audit *audit)
{
    if (audit == NULL)
        return;
    if (audit->fd >= 0)
        close(audit->fd);
    if (audit->has_mutex)
        pthread_mutex_destroy(&audit->mutex);
    free(audit->path);
    free(audit);
}

int sv_audit_create(sv_audit **out, const sv_keyring *ring, const char *path)
{
    if (out == NULL)
        return cr_fail(SV_EINVAL, "sv_audit_create: no output");
    *out = NULL;
    if (ring == NULL || path == NULL || path[0] == '\0')
        return cr_fail(SV_EINVAL, "audit log: no key ring or no path given");
    sv_audit *a = calloc(1, sizeof *a);
    if (a == NULL)
        return cr_fail(SV_ENOMEM, "out of memory");
    a->fd = -1;
    a->ring = ring;
    int rc = pthread_mutex_init(&a->mutex, NULL);
    if (rc != 0) {
        errno = rc;
        rc = cr_fail_errno("audit log %s: cannot make a mutex", path);
        goto out;
    }
    a->has_mutex = true;
    a->path = strdup(path);
    if (a->path == NULL) {
        rc = cr_fail(SV_ENOMEM, "out of memory");
        goto out;
    }
    rc = open_log(path, &a->fd);
    if (rc != 0)
        goto out;
    *out = a;
    a = NULL;
out:
    sv_audit_destroy(a);
    return rc;
}

/* ----------------------------- appending ------------------------------- */

/* The user name of uid from the password database, else uid in decimal.
 * Cached: the lookup may ask a directory server. */
static const char *own_name(sv_audit *a, uint32_t uid)
{
    if (a->has_name && a->name_uid == uid)
        return a->name;
    char buf[PASSWD_BUF];
    struct passwd pw, *found = NULL;
    if (getpwuid_r((uid_t)uid, &pw, buf, sizeof buf, &found) == 0 && found != NULL &&
        found->pw_name != NULL && found->pw_name[0] != '\0')
        snprintf(a->name, sizeof a->name, "%s", found->pw_name);
    else
        snprintf(a->name, sizeof a->name, "%" PRIu32, uid);
    a->name_uid = uid;
    a->has_name = true;
    return a->name;
}

static int write_failed(const char *path)
{
    if (errno == ENOSPC || errno == EDQUOT)
        return cr_fail(SV_EFULL, "audit log %s: no space left for the line (nothing was "
                                 "logged): free space on its filesystem",
                       path);
    return cr_fail_errno("audit log %s: cannot write the line", path);
}

/* The usual case: one write() at the end of the file (O_APPEND). */
static int write_appended(sv_audit *a, const char *buf, size_t len, off_t old_size)
{
    if (cr_write_all(a->fd, (const uint8_t *)buf, len) == 0)
        return 0;
    int saved = errno;
    /* Take back the part of the line that reached the file: the caller is
     * told it failed, and it would be a torn end for the next append. We
     * hold the exclusive lock, so nothing else was written after it. */
    if (ftruncate(a->fd, old_size) != 0) {
        /* then it stays a torn end, which the next append replaces */
    }
    errno = saved;
    return write_failed(a->path);
}

static int pwrite_all(int fd, const char *buf, size_t len, off_t at)
{
    while (len > 0) {
        ssize_t n = pwrite(fd, buf, len, at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        buf += n;
        len -= (size_t)n;
        at += n;
    }
    return 0;
}

/* After a torn end: the repair line and the new line over the torn bytes. */
static int write_over_torn(sv_audit *a, const char *buf, size_t len, const cr_audit_tail *t,
                           off_t old_size)
{
    /* pwrite() ignores its offset on an O_APPEND descriptor (Linux): drop
     * the flag for this write. The mutex and the exclusive flock keep every
     * other writer of this descriptor and of the file out meanwhile. */
    int flags = fcntl(a->fd, F_GETFL);
    if (flags < 0 || fcntl(a->fd, F_SETFL, flags & ~O_APPEND) != 0)
        return cr_fail_errno("audit log %s: cannot change the descriptor's flags", a->path);
    int rc = 0;
    off_t new_end = t->torn_at + (off_t)len;
    if (pwrite_all(a->fd, buf, len, t->torn_at) != 0)
        rc = write_failed(a->path);
    /* When the torn bytes were longer than what replaced them, cut the rest
     * only once the repair line is durable: a crash in between must leave
     * either torn bytes or the repair line, never neither. */
    if (rc == 0 && new_end < old_size) {
        if (fdatasync(a->fd) != 0 || ftruncate(a->fd, new_end) != 0)
            rc = cr_fail_errno("audit log %s: cannot cut the torn end", a->path);
    }
    int saved = errno;
    if (fcntl(a->fd, F_SETFL, flags) != 0 && rc == 0)
        rc = cr_fail_errno("audit log %s: cannot restore the descriptor's flags", a->path);
    else
        errno = saved;
    return rc;
}

/* The repair line for a torn end: who found it (this process), its length
 * and SHA-256 (so a copy of the torn bytes from a backup can be matched). */
static int format_repair(sv_audit *a, const cr_audit_tail *t, uint64_t seq, int64_t now,
                         uint8_t prev_mac[SV_AUDIT_MAC_LEN], char *out, size_t cap,
                         size_t *len)
{
    char sha_hex[2 * SV_SHA256_LEN + 1], result[SV_AUDIT_RESULT_MAX + 1];
    cr_hex(t->torn_sha256, SV_SHA256_LEN, sha_hex);
    snprintf(result, sizeof result, "torn end of %zu bytes replaced, sha256 %s", t->torn_len,
             sha_hex);
    uint32_t uid = (uint32_t)getuid();
    sv_audit_entry r;
    int rc = cr_audit_entry_fill(&r, uid, own_name(a, uid), SV_AUDIT_ACTION_REPAIR, NULL,
                                 result, true, a->path);
    if (rc != 0)
        return rc;
    r.seq = seq;
    r.time = now;
    rc = cr_audit_format(a->ring, prev_mac, &r, out, cap, len, a->path);
    if (rc == 0)
        memcpy(prev_mac, r.mac, SV_AUDIT_MAC_LEN);
    return rc;
}

/* Under the mutex and the exclusive flock: chain e on the last line. */
static int append_locked(sv_audit *a, sv_audit_entry *e)
{
    struct stat st;
    if (fstat(a->fd, &st) != 0)
        return cr_fail_errno("audit log %s: cannot stat", a->path);
    cr_audit_tail t;
    int rc = cr_audit_scan_tail(a->fd, st.st_size, a->ring, a->path, &t);
    if (rc != 0)
        return rc;
    char buf[2 * SV_AUDIT_LINE_MAX];
    size_t len = 0, n;
    uint64_t seq = t.seq;
    uint8_t prev_mac[SV_AUDIT_MAC_LEN];
    memcpy(prev_mac, t.mac, sizeof prev_mac);
    int64_t now = (int64_t)time(NULL);
    if (seq >= UINT64_MAX - 1)
        return cr_fail(SV_ELIMIT, "audit log %s has reached the last seq: start a new log",
                       a->path);
    if (t.torn_len > 0) {
        rc = format_repair(a, &t, ++seq, now, prev_mac, buf, sizeof buf, &len);
        if (rc != 0)
            return rc;
    }
    e->seq = seq + 1;
    e->time = now;
    rc = cr_audit_format(a->ring, prev_mac, e, buf + len, sizeof buf - len, &n, a->path);
    if (rc != 0)
        return rc;
    len += n;
    rc = t.torn_len > 0 ? write_over_torn(a, buf, len, &t, st.st_size)
                        : write_appended(a, buf, len, st.st_size);
    if (rc == 0 && fdatasync(a->fd) != 0)
        rc = cr_fail_errno("audit log %s: fdatasync failed (the line may or may not be on "
                           "disk)",
                           a->path);
    return rc;
}

static int append(sv_audit *a, bool as_self, uint32_t uid, const char *user,
                  const char *action, const char *docid, const char *result)
{
    if (a == NULL)
        return cr_fail(SV_EINVAL, "audit log: no handle");
    int rc = pthread_mutex_lock(&a->mutex);
    if (rc != 0) {
        errno = rc;
        return cr_fail_errno("audit log %s: cannot lock the handle", a->path);
    }
    if (as_self) {
        uid = (uint32_t)getuid();
        user = own_name(a, uid);
    }
    sv_audit_entry e;
    rc = cr_audit_entry_fill(&e, uid, user, action, docid, result, false, a->path);
    if (rc == 0)
        rc = cr_audit_flock(a->fd, LOCK_EX, a->path);
    if (rc == 0) {
        rc = append_locked(a, &e);
        int saved = errno;
        flock(a->fd, LOCK_UN);
        errno = saved;
    }
    pthread_mutex_unlock(&a->mutex);
    return rc;
}

int sv_audit_append(sv_audit *audit, const char *action, const char *docid, const char *result)
{
    return append(audit, true, 0, NULL, action, docid, result);
}

int sv_audit_append_as(sv_audit *audit, uint32_t uid, const char *user, const char *action,
                       const char *docid, const char *result)
{
    return append(audit, false, uid, user, action, docid, result);
}
