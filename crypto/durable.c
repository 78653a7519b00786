/*
 * durable.c - the crash-safe write, in the Redis rdbSave / fsyncFileDir
 * manner: write a temp file in a directory on the same filesystem, fsync it,
 * close it checking the result, rename it to its final name, fsync the
 * directory that holds the final name. After a crash at any point the final
 * name holds the old file or the new one, never a part; a leftover temp file
 * is harmless and removed at start-up (sv_vault_clean_tmp()).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto_internal.h"

#define COPY_BUF (256u << 10)

int cr_read_full(int fd, uint8_t *buf, size_t len, size_t *got)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = read(fd, buf + done, len - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            *got = done;
            return cr_fail_errno("read failed");
        }
        if (n == 0)
            break;
        done += (size_t)n;
    }
    *got = done;
    return 0;
}

int cr_write_all(int fd, const uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return cr_fail_errno("write failed");
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

int cr_fsync_dirfd(int dirfd, const char *what)
{
    if (fsync(dirfd) != 0)
        return cr_fail_errno("%s: cannot fsync the directory", what);
    return 0;
}

int cr_tmp_create(int dirfd, const char *stem, unsigned mode, char name[CR_TMP_NAME_MAX],
                  int *fd_out)
{
    *fd_out = -1;
    for (int attempt = 0; attempt < 8; attempt++) {
        uint8_t rnd[8];
        char hex[2 * sizeof rnd + 1];
        gcry_create_nonce(rnd, sizeof rnd);
        cr_hex(rnd, sizeof rnd, hex);
        int n = snprintf(name, CR_TMP_NAME_MAX, "%s.%s.tmp", stem, hex);
        if (n < 0 || n >= CR_TMP_NAME_MAX) {
            name[0] = '\0'; /* nothing was created: nothing to abandon */
            return cr_fail(SV_ELIMIT, "temp file name too long");
        }
        int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                        (mode_t)mode);
        if (fd >= 0) {
            *fd_out = fd;
            return 0;
        }
        if (errno != EEXIST) {
            int rc = cr_fail_errno("cannot create a temp file %s", name);
            name[0] = '\0'; /* nothing was created: nothing to abandon */
            return rc;
        }
    }
    name[0] = '\0';
    return cr_fail(SV_EEXIST, "cannot find a free temp file name");
}

void cr_tmp_abandon(int dirfd, const char *name, int *fd)
{
    int saved = errno; /* the caller's SV_EERRNO refers to it */
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
    if (name[0] != '\0')
        unlinkat(dirfd, name, 0);
    errno = saved;
}

int cr_sync_close(int *fd, const char *what)
{
    int rc = 0, saved = 0;
    if (fsync(*fd) != 0) {
        rc = cr_fail_errno("%s: fsync failed", what);
        saved = errno;
    }
    /* close() can report a delayed write error (NFS): never ignore it. */
    if (close(*fd) != 0 && rc == 0)
        rc = cr_fail_errno("%s: close failed", what);
    else if (rc != 0)
        errno = saved; /* keep the fsync error, not close's */
    *fd = -1;
    return rc;
}

/* rename without replacing: renameat2 where the filesystem has it, else
 * link + unlink (link fails with EEXIST just the same). */
static int rename_noreplace(int src_dirfd, const char *src, int dst_dirfd, const char *dst)
{
    if (renameat2(src_dirfd, src, dst_dirfd, dst, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
        return -1;
    if (linkat(src_dirfd, src, dst_dirfd, dst, 0) != 0)
        return -1;
    /* The final name is complete now; a leftover src is only a temp file. */
    unlinkat(src_dirfd, src, 0);
    return 0;
}

int cr_publish(int src_dirfd, const char *src, int dst_dirfd, const char *dst, bool replace,
               const char *what)
{
    int r = replace ? renameat(src_dirfd, src, dst_dirfd, dst)
                    : rename_noreplace(src_dirfd, src, dst_dirfd, dst);
    if (r != 0) {
        if (errno == EEXIST)
            return cr_fail(SV_EEXIST, "%s exists already", what);
        return cr_fail_errno("%s: cannot rename the temp file into place", what);
    }
    return cr_fsync_dirfd(dst_dirfd, what);
}

int cr_copy_rest(int in_fd, int out_fd, const char *what)
{
    /* copy_file_range first: in-kernel, and a reflink on filesystems that
     * share extents. Fall back to read/write where it is not supported. */
    for (;;) {
        ssize_t n = copy_file_range(in_fd, NULL, out_fd, NULL, 1u << 30, 0);
        if (n > 0)
            continue;
        if (n == 0)
            return 0;
        if (errno == EINTR)
            continue;
        if (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP ||
            errno == EBADF)
            break;
        return cr_fail_errno("%s: copy failed", what);
    }
    uint8_t *buf = malloc(COPY_BUF);
    if (buf == NULL)
        return cr_fail(SV_ENOMEM, "%s: out of memory", what);
    int rc = 0;
    for (;;) {
        size_t got;
        rc = cr_read_full(in_fd, buf, COPY_BUF, &got);
        if (rc == 0 && got > 0)
            rc = cr_write_all(out_fd, buf, got);
        if (rc != 0 || got < COPY_BUF)
            break;
    }
    free(buf);
    return rc;
}

int sv_durable_fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return cr_fail_errno("%s: cannot open the directory", path);
    int rc = cr_fsync_dirfd(fd, path);
    close(fd);
    return rc;
}

int cr_fsync_parent(const char *path)
{
    char *copy = strdup(path);
    if (copy == NULL)
        return cr_fail(SV_ENOMEM, "out of memory");
    int rc = sv_durable_fsync_dir(dirname(copy));
    free(copy);
    return rc;
}

int sv_durable_mkdir(const char *path, unsigned mode)
{
    if (path == NULL || path[0] == '\0')
        return cr_fail(SV_EINVAL, "no directory given");
    if (mkdir(path, (mode_t)mode) != 0) {
        if (errno != EEXIST)
            return cr_fail_errno("%s: cannot create the directory", path);
        struct stat st;
        if (stat(path, &st) != 0)
            return cr_fail_errno("%s: cannot stat", path);
        if (!S_ISDIR(st.st_mode))
            return cr_fail(SV_EEXIST, "%s exists and is not a directory", path);
        return 0;
    }
    /* The new entry lives in the parent: make it durable there. */
    return cr_fsync_parent(path);
}
