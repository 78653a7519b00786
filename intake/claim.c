/*
 * claim.c - taking a document into the spool: spool/claimed/<docid>.
 *
 * The claimed file's name is the docid, never the incoming name (which may
 * carry a patient's name). What the pipeline must remember about the claim
 * across a crash (the incoming file name, for the sealed metadata, and the
 * intake time) goes into a sealed claim record beside it,
 * spool/claimed/<docid>.claim, encrypted with the metadata key, so no
 * plaintext name rests in the spool.
 *
 * Order, so a crash at any point loses nothing and files nothing twice:
 *   1. claim record: temp, fsync, rename to <docid>.claim
 *   2. the document: rename(source, <docid>) (move), or copy to a temp,
 *      fsync, rename to <docid> (copy, and move across filesystems, which
 *      then unlinks the source)
 *   3. fsync the spool directory
 * A claim record without its document is removed on recovery; a document
 * without a record is recovered with an empty name.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "intake_internal.h"

#define CLAIM_RECORD_VERSION 1
#define CLAIM_AAD_PREFIX "scanvault-claim:"
#define COPY_BUF (256u << 10)

/* The associated data that binds a claim record to its docid. */
static size_t claim_aad(const char *docid, uint8_t *aad, size_t cap)
{
    int n = snprintf((char *)aad, cap, "%s%s", CLAIM_AAD_PREFIX, docid);
    return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

static int fsync_dirfd(int dfd, const char *what)
{
    if (fsync(dfd) != 0)
        return intake_fail(SV_EERRNO, "cannot make %s durable (fsync): %s", what, strerror(errno));
    return 0;
}

/* Write buf to a new temp in dfd, fsync it, rename it to name. */
static int write_file_durably(int dfd, const char *name, const uint8_t *buf, size_t len)
{
    char tmp[SV_DOCID_MAX + 32];
    snprintf(tmp, sizeof tmp, ".tmp-%s", name);
    int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return intake_fail(SV_EERRNO, "cannot write in the spool: %s", strerror(errno));
    size_t done = 0;
    int rc = 0;
    while (done < len) {
        ssize_t w = write(fd, buf + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            rc = intake_fail(errno == ENOSPC ? SV_EFULL : SV_EERRNO,
                             "cannot write in the spool: %s", strerror(errno));
            break;
        }
        done += (size_t)w;
    }
    if (rc == 0 && fsync(fd) != 0)
        rc = intake_fail(errno == ENOSPC ? SV_EFULL : SV_EERRNO,
                         "cannot make a spool file durable: %s", strerror(errno));
    if (close(fd) != 0 && rc == 0)
        rc = intake_fail(SV_EERRNO, "cannot close a spool file: %s", strerror(errno));
    if (rc == 0 && renameat(dfd, tmp, dfd, name) != 0)
        rc = intake_fail(SV_EERRNO, "cannot rename in the spool: %s", strerror(errno));
    if (rc != 0)
        unlinkat(dfd, tmp, 0);
    return rc;
}

int claim_record_write(int spool_dfd, const sv_keyring *ring, const char *docid,
                       const char *original_name, int64_t intake_time)
{
    size_t name_len = strnlen(original_name, SV_META_NAME_MAX + 1);
    if (name_len > SV_META_NAME_MAX)
        name_len = SV_META_NAME_MAX;
    uint8_t plain[1 + 8 + 2 + SV_META_NAME_MAX];
    size_t len = 0;
    plain[len++] = CLAIM_RECORD_VERSION;
    uint64_t t = (uint64_t)intake_time;
    for (int i = 0; i < 8; i++)
        plain[len++] = (uint8_t)(t >> (8 * i));
    plain[len++] = (uint8_t)(name_len & 0xff);
    plain[len++] = (uint8_t)(name_len >> 8);
    memcpy(plain + len, original_name, name_len);
    len += name_len;

    uint8_t aad[64], sealed[sizeof plain + SV_RECORD_OVERHEAD];
    size_t aad_len = claim_aad(docid, aad, sizeof aad), sealed_len = 0;
    int rc = sv_crypto_seal_record(ring, aad, aad_len, plain, len, sealed, sizeof sealed,
                                   &sealed_len);
    memset(plain, 0, sizeof plain);
    if (rc != 0)
        return intake_fail(rc, "%s: cannot seal the claim record: %s", docid,
                           sv_crypto_last_error());
    char name[SV_DOCID_MAX + 8];
    snprintf(name, sizeof name, "%s.claim", docid);
    return write_file_durably(spool_dfd, name, sealed, sealed_len);
}

int claim_record_read(int spool_dfd, const sv_keyring *ring, const char *docid,
                      char original_name[SV_META_NAME_MAX + 1], int64_t *intake_time)
{
    original_name[0] = '\0';
    *intake_time = 0;
    char name[SV_DOCID_MAX + 8];
    snprintf(name, sizeof name, "%s.claim", docid);
    int fd = openat(spool_dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? SV_ENOTFOUND
                               : intake_fail(SV_EERRNO, "%s: cannot read its claim record: %s",
                                             docid, strerror(errno));
    uint8_t sealed[1 + 8 + 2 + SV_META_NAME_MAX + SV_RECORD_OVERHEAD + 1];
    ssize_t got = read(fd, sealed, sizeof sealed);
    close(fd);
    if (got <= 0 || (size_t)got == sizeof sealed)
        return intake_fail(SV_EFORMAT, "%s: its claim record is damaged", docid);
    uint8_t aad[64], plain[1 + 8 + 2 + SV_META_NAME_MAX];
    size_t aad_len = claim_aad(docid, aad, sizeof aad), len = 0;
    int rc = sv_crypto_open_record(ring, aad, aad_len, sealed, (size_t)got, plain, sizeof plain,
                                   &len);
    if (rc != 0)
        return intake_fail(rc, "%s: its claim record is damaged or of another key", docid);
    size_t name_len = len >= 11 ? (size_t)plain[9] | (size_t)plain[10] << 8 : 0;
    if (len < 11 || plain[0] != CLAIM_RECORD_VERSION || name_len != len - 11 ||
        name_len > SV_META_NAME_MAX) {
        memset(plain, 0, sizeof plain);
        return intake_fail(SV_EFORMAT, "%s: its claim record is damaged", docid);
    }
    uint64_t t = 0;
    for (int i = 0; i < 8; i++)
        t |= (uint64_t)plain[1 + i] << (8 * i);
    *intake_time = (int64_t)t;
    memcpy(original_name, plain + 11, name_len);
    original_name[name_len] = '\0';
    memset(plain, 0, sizeof plain);
    return 0;
}

/* Copy everything from src_fd into a new temp in the spool, fsync, rename
 * it to docid. */
static int copy_into_spool(int spool_dfd, int src_fd, const char *docid)
{
    char tmp[SV_DOCID_MAX + 8];
    snprintf(tmp, sizeof tmp, ".tmp-%s", docid);
    int fd = openat(spool_dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return intake_fail(SV_EERRNO, "%s: cannot create a file in the spool: %s", docid,
                           strerror(errno));
    uint8_t *buf = malloc(COPY_BUF);
    int rc = buf == NULL ? intake_fail(SV_ENOMEM, "out of memory") : 0;
    while (rc == 0) {
        ssize_t got = read(src_fd, buf, COPY_BUF);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = intake_fail(SV_EERRNO, "%s: cannot read the file: %s", docid, strerror(errno));
            break;
        }
        if (got == 0)
            break;
        for (ssize_t done = 0; done < got && rc == 0;) {
            ssize_t w = write(fd, buf + done, (size_t)(got - done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                rc = intake_fail(errno == ENOSPC ? SV_EFULL : SV_EERRNO,
                                 "%s: cannot copy into the spool: %s", docid, strerror(errno));
            else
                done += w;
        }
    }
    free(buf);
    if (rc == 0 && fsync(fd) != 0)
        rc = intake_fail(errno == ENOSPC ? SV_EFULL : SV_EERRNO,
                         "%s: cannot make the spool copy durable: %s", docid, strerror(errno));
    if (close(fd) != 0 && rc == 0)
        rc = intake_fail(SV_EERRNO, "%s: cannot close the spool copy: %s", docid,
                         strerror(errno));
    if (rc == 0 && renameat(spool_dfd, tmp, spool_dfd, docid) != 0)
        rc = intake_fail(SV_EERRNO, "%s: cannot rename in the spool: %s", docid, strerror(errno));
    if (rc != 0)
        unlinkat(spool_dfd, tmp, 0);
    return rc;
}

/* Open a source document for claiming: a regular file, no FIFO or device
 * (which could hang us); with move (the inbox) a link is not followed and a
 * file with a second name (a hard link to a file elsewhere) is refused. */
static int open_source(const char *path, bool is_move, const char *docid, struct stat *st)
{
    int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | (is_move ? O_NOFOLLOW : 0);
    int fd = open(path, flags);
    if (fd < 0)
        return intake_fail(errno == ELOOP ? SV_EFORMAT : SV_EERRNO,
                           "%s: cannot open the file: %s", docid,
                           errno == ELOOP ? "it is a symbolic link" : strerror(errno));
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        close(fd);
        return intake_fail(SV_EFORMAT, "%s: not a regular file", docid);
    }
    if (is_move && st->st_nlink != 1) {
        close(fd);
        return intake_fail(SV_EFORMAT, "%s: the file has another name (a hard link): left alone",
                           docid);
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}

/*
 * The name was moved into the spool after the file was opened and checked:
 * if someone replaced the file in between (with a link to a secret, say),
 * the spool now holds that instead. Put it back where it was and give up
 * this claim; what cannot be put back and is no plain file is removed (a
 * link or a FIFO carries no document).
 */
static int check_moved_is_opened(int spool_dfd, const char *path, const char *docid,
                                 const struct stat *opened)
{
    struct stat moved;
    if (fstatat(spool_dfd, docid, &moved, AT_SYMLINK_NOFOLLOW) == 0 &&
        moved.st_ino == opened->st_ino && moved.st_dev == opened->st_dev)
        return 0;
    if (renameat2(spool_dfd, docid, AT_FDCWD, path, RENAME_NOREPLACE) != 0 &&
        fstatat(spool_dfd, docid, &moved, AT_SYMLINK_NOFOLLOW) == 0 &&
        !(S_ISREG(moved.st_mode) && moved.st_nlink == 1))
        unlinkat(spool_dfd, docid, 0);
    return intake_fail(SV_EFORMAT, "%s: the file was replaced while it was being claimed; left "
                                   "in the inbox",
                       docid);
}

int claim_document(int spool_dfd, const sv_keyring *ring, const char *path, bool is_move,
                   const char *docid, int64_t intake_time)
{
    struct stat st;
    int src_fd = open_source(path, is_move, docid, &st);
    if (src_fd < 0)
        return src_fd;
    const char *slash = strrchr(path, '/');
    int rc = claim_record_write(spool_dfd, ring, docid, slash != NULL ? slash + 1 : path,
                                intake_time);
    if (rc != 0)
        goto out;
    bool is_copied = !is_move;
    if (is_move && renameat(AT_FDCWD, path, spool_dfd, docid) != 0) {
        if (errno != EXDEV) {
            rc = intake_fail(SV_EERRNO, "%s: cannot move the file into the spool: %s", docid,
                             strerror(errno));
            goto out;
        }
        is_copied = true; /* another filesystem: copy, then unlink the source */
    }
    if (is_move && !is_copied && (rc = check_moved_is_opened(spool_dfd, path, docid, &st)) != 0)
        goto out;
    if (is_copied && (rc = copy_into_spool(spool_dfd, src_fd, docid)) != 0)
        goto out;
    if ((rc = fsync_dirfd(spool_dfd, "the spool")) != 0)
        goto out;
    /* A source that cannot be unlinked comes again later as a duplicate,
     * which the content id catches. */
    if (is_move && is_copied)
        (void)unlink(path);
out:
    if (rc != 0) {
        char name[SV_DOCID_MAX + 8];
        snprintf(name, sizeof name, "%s.claim", docid);
        unlinkat(spool_dfd, name, 0);
        /* A plain copy goes too (its source is still in place); a moved
         * document is the only copy and stays for recovery. */
        if (!is_move)
            unlinkat(spool_dfd, docid, 0);
    }
    close(src_fd);
    return rc;
}

void claim_release(int spool_dfd, const char *docid)
{
    char name[SV_DOCID_MAX + 8];
    unlinkat(spool_dfd, docid, 0);
    snprintf(name, sizeof name, "%s.claim", docid);
    unlinkat(spool_dfd, name, 0);
}
