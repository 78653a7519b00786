/*
 * inbox.c - watching the inbox: which files are there, which are stable
 * enough to claim. Two sources, because neither is enough alone:
 *   - inotify (IN_CLOSE_WRITE, IN_MOVED_TO, IN_CREATE, IN_MODIFY, ...) for
 *     local writers: at once, and it tells us who still has a file open for
 *     writing (created or modified, not yet closed);
 *   - a full listing every rescan interval, because files written over SMB
 *     or NFS by another host raise no inotify event.
 * A file is ready when it is a regular file with an ordinary name, its size
 * and mtime have not changed for the settle interval, and no local writer
 * has it open. Links, directories, FIFOs, sockets and devices are never
 * claimed; each is logged once.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "intake_internal.h"

#define WATCH_EVENTS                                                                       \
    (IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_MODIFY | IN_DELETE | IN_MOVED_FROM |    \
     IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)

struct inbox {
    char path[SV_INTAKE_PATH_MAX];
    int dir_fd;
    int inotify_fd;                /* -1 when inotify is off */
    inbox_entry *entries;
    size_t n, cap;
    uint64_t next_tag;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Names a scanner or a copy tool uses while a file is not finished, and
 * hidden files: never claimed. */
bool inbox_name_is_ignored(const char *name)
{
    static const char *const suffixes[] = {"~", ".tmp", ".part", ".partial", ".crdownload",
                                           ".swp", ".filepart"};
    if (name[0] == '.' || name[0] == '\0')
        return true;
    size_t len = strlen(name);
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        size_t sl = strlen(suffixes[i]);
        if (len >= sl && strcasecmp(name + len - sl, suffixes[i]) == 0)
            return true;
    }
    return false;
}

int inbox_open(inbox **out, const char *path, bool use_inotify)
{
    *out = NULL;
    inbox *ib = calloc(1, sizeof *ib);
    if (ib == NULL)
        return intake_fail(SV_ENOMEM, "out of memory");
    ib->inotify_fd = -1;
    int rc = 0;
    size_t len = strlen(path);
    if (len >= sizeof ib->path) {
        rc = intake_fail(SV_ELIMIT, "inbox path too long");
        goto out;
    }
    memcpy(ib->path, path, len + 1);
    ib->dir_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (ib->dir_fd < 0) {
        rc = intake_fail(SV_EERRNO, "cannot open the inbox %s: %s", path, strerror(errno));
        goto out;
    }
    if (use_inotify) {
        ib->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (ib->inotify_fd < 0 || inotify_add_watch(ib->inotify_fd, path, WATCH_EVENTS) < 0) {
            rc = intake_fail(SV_EERRNO, "cannot watch the inbox %s: %s (set inotify = false "
                                        "to rely on rescans)",
                             path, strerror(errno));
            goto out;
        }
    }
out:
    if (rc != 0) {
        inbox_close(ib);
        return rc;
    }
    *out = ib;
    return 0;
}

void inbox_close(inbox *ib)
{
    if (ib == NULL)
        return;
    if (ib->inotify_fd >= 0)
        close(ib->inotify_fd);
    if (ib->dir_fd >= 0)
        close(ib->dir_fd);
    free(ib->entries);
    free(ib);
}

int inbox_event_fd(const inbox *ib) { return ib->inotify_fd; }

const char *inbox_path(const inbox *ib) { return ib->path; }

static inbox_entry *find_entry(inbox *ib, const char *name)
{
    for (size_t i = 0; i < ib->n; i++)
        if (strcmp(ib->entries[i].name, name) == 0)
            return &ib->entries[i];
    return NULL;
}

inbox_entry *inbox_entry_by_tag(inbox *ib, uint64_t tag)
{
    for (size_t i = 0; i < ib->n; i++)
        if (ib->entries[i].is_queued && ib->entries[i].tag == tag)
            return &ib->entries[i];
    return NULL;
}

static inbox_entry *add_entry(inbox *ib, const char *name)
{
    inbox_entry *e = find_entry(ib, name);
    if (e != NULL)
        return e;
    if (strlen(name) >= sizeof e->name)
        return NULL;
    if (ib->n == ib->cap) {
        size_t cap = ib->cap ? ib->cap * 2 : 64;
        inbox_entry *grown = realloc(ib->entries, cap * sizeof *grown);
        if (grown == NULL)
            return NULL;
        ib->entries = grown;
        ib->cap = cap;
    }
    e = &ib->entries[ib->n++];
    memset(e, 0, sizeof *e);
    memcpy(e->name, name, strlen(name) + 1);
    e->first_seen = e->changed_at = now_s();
    e->size = -1;
    return e;
}

void inbox_remove(inbox *ib, inbox_entry *e)
{
    size_t i = (size_t)(e - ib->entries);
    if (i >= ib->n)
        return;
    ib->entries[i] = ib->entries[ib->n - 1];
    ib->n--;
}

/* Look at the file again: a change of size, mtime or inode restarts the
 * settle clock. */
static void refresh_entry(inbox *ib, inbox_entry *e, double now)
{
    struct stat st;
    if (fstatat(ib->dir_fd, e->name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        e->is_gone = true;
        return;
    }
    e->is_gone = false;
    /* A second name makes it someone else's file too (a hard link to a
     * file elsewhere on the share's filesystem): never claimed. */
    e->is_regular = S_ISREG(st.st_mode) && st.st_nlink == 1;
    if (st.st_size != e->size || st.st_mtim.tv_sec != e->mtime.tv_sec ||
        st.st_mtim.tv_nsec != e->mtime.tv_nsec || st.st_ino != e->ino) {
        e->size = st.st_size;
        e->mtime = st.st_mtim;
        e->ino = st.st_ino;
        e->changed_at = now;
    }
}

int inbox_read_events(inbox *ib)
{
    if (ib->inotify_fd < 0)
        return 0;
    _Alignas(struct inotify_event) char buf[16384];
    bool must_rescan = false;
    for (;;) {
        ssize_t got = read(ib->inotify_fd, buf, sizeof buf);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0 && errno == EAGAIN)
            break;
        if (got <= 0)
            return intake_fail(SV_EERRNO, "inotify read failed: %s", strerror(errno));
        for (char *p = buf; p < buf + got;) {
            const struct inotify_event *ev = (const struct inotify_event *)(void *)p;
            p += sizeof *ev + ev->len;
            if (ev->mask & IN_Q_OVERFLOW)
                must_rescan = true;
            if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF))
                return intake_fail(SV_ENOTFOUND, "the inbox %s was removed or moved", ib->path);
            if (ev->len == 0 || inbox_name_is_ignored(ev->name))
                continue;
            inbox_entry *e = (ev->mask & (IN_DELETE | IN_MOVED_FROM)) ? find_entry(ib, ev->name)
                                                                      : add_entry(ib, ev->name);
            if (e == NULL)
                continue;
            if (ev->mask & (IN_DELETE | IN_MOVED_FROM)) {
                if (!e->is_queued)
                    inbox_remove(ib, e);
                continue;
            }
            /* Created or written by a local process: it is open for writing
             * until IN_CLOSE_WRITE. */
            if (ev->mask & (IN_CREATE | IN_MODIFY))
                e->is_writing = true;
            if (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO))
                e->is_writing = false;
            refresh_entry(ib, e, now_s());
        }
    }
    return must_rescan ? inbox_rescan(ib) : 0;
}

int inbox_rescan(inbox *ib)
{
    int fd = openat(ib->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *dir = fd < 0 ? NULL : fdopendir(fd);
    if (dir == NULL) {
        if (fd >= 0)
            close(fd);
        return intake_fail(SV_EERRNO, "cannot list the inbox %s: %s", ib->path, strerror(errno));
    }
    for (size_t i = 0; i < ib->n; i++)
        ib->entries[i].is_listed = false;
    double now = now_s();
    struct dirent *d;
    while ((d = readdir(dir)) != NULL) {
        if (inbox_name_is_ignored(d->d_name))
            continue;
        inbox_entry *e = add_entry(ib, d->d_name);
        if (e == NULL)
            continue; /* out of memory or an over-long name: next rescan */
        e->is_listed = true;
        refresh_entry(ib, e, now);
    }
    closedir(dir);
    /* Entries that vanished without an event (network shares). */
    for (size_t i = ib->n; i-- > 0;)
        if (!ib->entries[i].is_listed && !ib->entries[i].is_queued)
            inbox_remove(ib, &ib->entries[i]);
    return 0;
}

inbox_entry *inbox_next_ready(inbox *ib, unsigned settle_seconds)
{
    double now = now_s();
    for (size_t i = 0; i < ib->n; i++) {
        inbox_entry *e = &ib->entries[i];
        if (e->is_queued || e->is_gone || now < e->retry_at)
            continue;
        refresh_entry(ib, e, now);
        if (e->is_gone || e->is_writing || now - e->changed_at < (double)settle_seconds)
            continue;
        if (!e->is_regular) {
            if (!e->is_reported)
                intake_log(SV_LOG_WARNING, "inbox: an entry that is not a regular file with one "
                                           "name (a symbolic or hard link, directory, FIFO, "
                                           "socket or device) is left alone");
            e->is_reported = true;
            continue;
        }
        e->tag = ib->next_tag++;
        e->is_queued = true;
        return e;
    }
    return NULL;
}

void inbox_counts(const inbox *ib, size_t *waiting, double *oldest_seconds)
{
    double now = now_s(), oldest = 0;
    size_t n = 0;
    for (size_t i = 0; i < ib->n; i++) {
        const inbox_entry *e = &ib->entries[i];
        if (e->is_gone || !e->is_regular)
            continue;
        n++;
        if (now - e->first_seen > oldest)
            oldest = now - e->first_seen;
    }
    *waiting = n;
    *oldest_seconds = oldest;
}

int inbox_entry_path(const inbox *ib, const inbox_entry *e, char *buf, size_t len)
{
    return intake_path(buf, len, ib->path, e->name);
}
