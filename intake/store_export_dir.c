/*
 * store_export_dir.c - the directory a release of information is written
 * into (docs/release-of-information.md): a temp directory beside the
 * target, one file per document read back and hashed against its sealed
 * SHA-256, the manifests, then a rename that never replaces anything. The
 * documents come from sv_store_export_to(): in the same process for
 * `scanvault export` in direct mode (sv_store_export), or over the
 * service's socket for the client (sv_client_export), so that the service
 * itself never writes decrypted bytes to disk.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "intake_internal.h"

#define EXPORT_TEMP_PREFIX ".scanvault-export-"
#define EXPORT_MANIFEST_JSON "manifest.json"
#define EXPORT_MANIFEST_TSV "manifest.tsv"
/* "<docid>.<ext>": the longest extension is three letters. */
#define EXPORT_FILE_NAME_MAX (SV_DOCID_MAX + 4)

struct export_dir {
    char parent[SV_INTAKE_PATH_MAX]; /* the target's parent directory */
    char base[SV_INTAKE_PATH_MAX];   /* the target's name in it */
    char temp_name[64];              /* the temp directory's name in parent */
    const char *dir_name;            /* our directory's current name in parent:
                                        temp_name, or base once renamed */
    int parent_dfd;
    int temp_dfd;
    int fd;                          /* the document being written, or -1 */
    sv_store_export_doc *docs;       /* the documents written, for the manifests */
    size_t n_docs, cap;
    int64_t exported_at;
};

static void format_iso_time(int64_t t, char *buf, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, len, "?");
}

/*
 * Split out_dir into parent and name, refuse a target that exists, and open
 * the parent. Nothing is created here.
 */
static int prepare_target(export_dir *d, const char *out_dir)
{
    size_t len = out_dir != NULL ? strlen(out_dir) : 0;
    while (len > 1 && out_dir[len - 1] == '/')
        len--;
    if (len == 0)
        return intake_fail(SV_EINVAL, "no export directory given");
    if (len >= sizeof d->parent)
        return intake_fail(SV_ELIMIT, "the export directory's path is too long");
    const char *slash = memrchr(out_dir, '/', len);
    size_t base_start = slash != NULL ? (size_t)(slash - out_dir) + 1 : 0;
    memcpy(d->base, out_dir + base_start, len - base_start);
    d->base[len - base_start] = '\0';
    if (slash == NULL) {
        snprintf(d->parent, sizeof d->parent, ".");
    } else if (slash == out_dir) {
        snprintf(d->parent, sizeof d->parent, "/");
    } else {
        memcpy(d->parent, out_dir, (size_t)(slash - out_dir));
        d->parent[slash - out_dir] = '\0';
    }
    if (d->base[0] == '\0' || strcmp(d->base, ".") == 0 || strcmp(d->base, "..") == 0)
        return intake_fail(SV_EINVAL, "%s: give the name of a new directory", out_dir);
    d->parent_dfd = open(d->parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d->parent_dfd < 0) {
        int err = errno;
        return intake_fail(err == ENOENT || err == ENOTDIR ? SV_EINVAL : SV_EERRNO,
                           "cannot open %s, where the export directory would be made: %s",
                           d->parent, strerror(err));
    }
    struct stat st;
    if (fstatat(d->parent_dfd, d->base, &st, AT_SYMLINK_NOFOLLOW) == 0)
        return intake_fail(SV_EEXIST,
                           "%s exists: an export is only written into a new directory; "
                           "choose another name",
                           out_dir);
    if (errno != ENOENT)
        return intake_fail(SV_EERRNO, "cannot check %s: %s", out_dir, strerror(errno));
    return 0;
}

int export_dir_open(export_dir **out, const char *out_dir)
{
    *out = NULL;
    export_dir *d = calloc(1, sizeof *d);
    if (d == NULL)
        return intake_fail(SV_ENOMEM, "out of memory");
    d->parent_dfd = -1;
    d->temp_dfd = -1;
    d->fd = -1;
    int rc = prepare_target(d, out_dir);
    if (rc != 0) {
        export_dir_close(d, 0);
        return rc;
    }
    *out = d;
    return 0;
}

int export_dir_make_temp(export_dir *d)
{
    char path[SV_INTAKE_PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/" EXPORT_TEMP_PREFIX "XXXXXX", d->parent);
    if (n < 0 || (size_t)n >= sizeof path)
        return intake_fail(SV_ELIMIT, "the export directory's path is too long");
    if (mkdtemp(path) == NULL)
        return intake_fail(SV_EERRNO, "cannot create a directory in %s: %s", d->parent,
                           strerror(errno));
    snprintf(d->temp_name, sizeof d->temp_name, "%s", strrchr(path, '/') + 1);
    d->dir_name = d->temp_name;
    d->temp_dfd = openat(d->parent_dfd, d->temp_name,
                         O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (d->temp_dfd < 0 || fchmod(d->temp_dfd, 0700) != 0) {
        int err = errno;
        if (d->temp_dfd < 0)
            unlinkat(d->parent_dfd, d->temp_name, AT_REMOVEDIR);
        return intake_fail(SV_EERRNO, "cannot open %s: %s", path, strerror(err));
    }
    return 0;
}

/*
 * Remove our directory (the temp one, or after a late failure the renamed
 * one) and every file in it. The export only ever makes regular files there.
 * Returns 0, or -1 when something is left (errno set).
 */
static int remove_written(export_dir *d)
{
    int fd = dup(d->temp_dfd);
    DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
    if (dir == NULL) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    rewinddir(dir);
    struct dirent *e;
    while ((e = readdir(dir)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            unlinkat(dirfd(dir), e->d_name, 0);
    closedir(dir);
    return unlinkat(d->parent_dfd, d->dir_name, AT_REMOVEDIR);
}

/* Create name in the temp directory, mode 0600. Returns the descriptor, or
 * a negative SV_E* code (message set; what names the docid or manifest). */
static int open_output(export_dir *d, const char *name, const char *what)
{
    int fd = openat(d->temp_dfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                    0600);
    if (fd >= 0 && fchmod(fd, 0600) == 0)
        return fd;
    int err = errno;
    if (fd >= 0)
        close(fd);
    errno = err;
    return intake_fail(SV_EERRNO, "%s: cannot create its file in %s/%s: %s", what, d->parent,
                       d->temp_name, strerror(err));
}

int export_dir_begin(export_dir *d, const sv_store_export_doc *doc)
{
    if (d->temp_dfd < 0 || d->fd >= 0)
        return intake_fail(SV_EINVAL, "%s: the export directory is not ready for it",
                           doc->docid);
    /* The docid and extension become a file name: never trust them blindly. */
    if (!sv_docid_is_valid(doc->docid) || strlen(doc->ext) > 3 || strchr(doc->ext, '/') ||
        strchr(doc->ext, '.') || doc->ext[0] == '\0')
        return intake_fail(SV_EFORMAT, "a document id or file type that cannot name a file");
    if (d->n_docs == d->cap) {
        size_t cap = d->cap == 0 ? 64 : 2 * d->cap;
        if (cap > SV_STORE_EXPORT_MAX)
            cap = SV_STORE_EXPORT_MAX;
        if (d->n_docs >= cap)
            return intake_fail(SV_ELIMIT, "more than %u documents", SV_STORE_EXPORT_MAX);
        sv_store_export_doc *grown = realloc(d->docs, cap * sizeof *grown);
        if (grown == NULL)
            return intake_fail(SV_ENOMEM, "out of memory");
        d->docs = grown;
        d->cap = cap;
    }
    if (d->exported_at == 0)
        d->exported_at = (int64_t)time(NULL);
    char name[EXPORT_FILE_NAME_MAX + 1];
    snprintf(name, sizeof name, "%s.%s", doc->docid, doc->ext);
    int fd = open_output(d, name, doc->docid);
    if (fd < 0)
        return fd;
    d->fd = fd;
    d->docs[d->n_docs] = *doc;
    return 0;
}

int export_dir_write(void *ctx, const uint8_t *buf, size_t len)
{
    export_dir *d = ctx;
    while (len > 0) {
        ssize_t w = write(d->fd, buf, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return intake_fail(SV_EERRNO, "%s: cannot write its file: %s",
                               d->docs[d->n_docs].docid, strerror(errno));
        }
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

int export_dir_end(export_dir *d)
{
    const sv_store_export_doc *doc = &d->docs[d->n_docs];
    int rc = 0;
    uint8_t written[SV_SHA256_LEN];
    uint64_t size = 0;
    /* Durable, then hash what the file holds against the sealed SHA-256. */
    if (fsync(d->fd) != 0 || lseek(d->fd, 0, SEEK_SET) != 0)
        rc = intake_fail(SV_EERRNO, "%s: cannot write its file: %s", doc->docid,
                         strerror(errno));
    else if ((rc = sv_crypto_sha256_fd(d->fd, written, &size)) != 0)
        rc = intake_fail(rc, "%s: cannot read its file back: %s", doc->docid, strerror(errno));
    else if (size != doc->size || memcmp(written, doc->sha256, sizeof written) != 0)
        rc = intake_fail(SV_EAUTH, "%s: the bytes written differ from the sealed ones: "
                                   "nothing was exported",
                         doc->docid);
    if (close(d->fd) != 0 && rc == 0)
        rc = intake_fail(SV_EERRNO, "%s: cannot write its file: %s", doc->docid,
                         strerror(errno));
    d->fd = -1;
    if (rc == 0)
        d->n_docs++;
    return rc;
}

size_t export_dir_written(const export_dir *d) { return d->n_docs; }

/* fflush, fsync and fclose a manifest, reporting the first failure. */
static int finish_manifest(export_dir *d, FILE *f, const char *name)
{
    int err = 0;
    if (ferror(f) || fflush(f) != 0 || fsync(fileno(f)) != 0)
        err = errno != 0 ? errno : EIO;
    if (fclose(f) != 0 && err == 0)
        err = errno;
    if (err == 0)
        return 0;
    errno = err;
    return intake_fail(SV_EERRNO, "cannot write %s in %s/%s: %s", name, d->parent, d->temp_name,
                       strerror(err));
}

static FILE *open_manifest(export_dir *d, const char *name, int *rc)
{
    int fd = open_output(d, name, name);
    if (fd < 0) {
        *rc = fd;
        return NULL;
    }
    FILE *f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        *rc = intake_fail(SV_ENOMEM, "out of memory");
    }
    return f;
}

/*
 * manifest.json for programs and manifest.tsv for a person, the same
 * columns. Docids are [a-z0-9-] and types [a-z_] (sealed-record rules), so
 * neither needs JSON escaping. No MRN, no scanner file name.
 */
static int write_manifests(export_dir *d)
{
    int rc = 0;
    errno = 0;
    FILE *json = open_manifest(d, EXPORT_MANIFEST_JSON, &rc);
    if (json == NULL)
        return rc;
    char when[32], date[32], sha[2 * SV_SHA256_LEN + 1];
    format_iso_time(d->exported_at, when, sizeof when);
    fprintf(json, "{\"format\": \"scanvault-export\", \"version\": 1, \"exported_at\": \"%s\",\n"
                  " \"documents\": [",
            when);
    for (size_t i = 0; i < d->n_docs; i++) {
        const sv_store_export_doc *doc = &d->docs[i];
        format_iso_time(doc->intake_time, date, sizeof date);
        intake_hex(doc->sha256, sizeof doc->sha256, sha);
        fprintf(json,
                "%s\n  {\"docid\": \"%s\", \"file\": \"%s.%s\", \"type\": \"%s\", "
                "\"date\": \"%s\", \"pages\": %" PRIu32 ", \"size\": %" PRIu64
                ", \"sha256\": \"%s\"}",
                i > 0 ? "," : "", doc->docid, doc->docid, doc->ext, doc->type, date, doc->pages,
                doc->size, sha);
    }
    fputs(d->n_docs > 0 ? "\n ]}\n" : "]}\n", json);
    if ((rc = finish_manifest(d, json, EXPORT_MANIFEST_JSON)) != 0)
        return rc;
    errno = 0;
    FILE *tsv = open_manifest(d, EXPORT_MANIFEST_TSV, &rc);
    if (tsv == NULL)
        return rc;
    fputs("docid\tfile\ttype\tdate\tpages\tsize\tsha256\n", tsv);
    for (size_t i = 0; i < d->n_docs; i++) {
        const sv_store_export_doc *doc = &d->docs[i];
        format_iso_time(doc->intake_time, date, sizeof date);
        intake_hex(doc->sha256, sizeof doc->sha256, sha);
        fprintf(tsv, "%s\t%s.%s\t%s\t%s\t%" PRIu32 "\t%" PRIu64 "\t%s\n", doc->docid, doc->docid,
                doc->ext, doc->type, date, doc->pages, doc->size, sha);
    }
    return finish_manifest(d, tsv, EXPORT_MANIFEST_TSV);
}

/* Rename the finished temp directory to the target. RENAME_NOREPLACE: a
 * plain rename() would replace an empty directory that appeared meanwhile.
 * A filesystem without it (EINVAL) gets a check, then rename(), whose only
 * window is an empty directory made in between. */
static int publish(export_dir *d)
{
    if (fsync(d->temp_dfd) != 0)
        return intake_fail(SV_EERRNO, "cannot write %s/%s: %s", d->parent, d->temp_name,
                           strerror(errno));
    int r = renameat2(d->parent_dfd, d->temp_name, d->parent_dfd, d->base, RENAME_NOREPLACE);
    if (r != 0 && errno == EINVAL) {
        struct stat st;
        if (fstatat(d->parent_dfd, d->base, &st, AT_SYMLINK_NOFOLLOW) == 0)
            errno = EEXIST;
        else
            r = renameat(d->parent_dfd, d->temp_name, d->parent_dfd, d->base);
    }
    if (r != 0) {
        int err = errno;
        return intake_fail(err == EEXIST || err == ENOTEMPTY ? SV_EEXIST : SV_EERRNO,
                           "cannot rename %s/%s to %s/%s: %s", d->parent, d->temp_name,
                           d->parent, d->base,
                           err == EEXIST || err == ENOTEMPTY ? "it appeared meanwhile"
                                                             : strerror(err));
    }
    d->dir_name = d->base;
    if (fsync(d->parent_dfd) != 0) {
        int err = errno;
        /* Not durable: take it back so nothing is left that may vanish. */
        if (renameat2(d->parent_dfd, d->base, d->parent_dfd, d->temp_name, RENAME_NOREPLACE) ==
            0)
            d->dir_name = d->temp_name;
        errno = err;
        return intake_fail(SV_EERRNO, "cannot make %s durable: %s", d->parent, strerror(err));
    }
    return 0;
}

int export_dir_finish(export_dir *d)
{
    if (d->exported_at == 0)
        d->exported_at = (int64_t)time(NULL);
    int rc = write_manifests(d);
    return rc != 0 ? rc : publish(d);
}

void export_dir_close(export_dir *d, int rc)
{
    if (d == NULL)
        return;
    int saved_errno = errno;
    bool has_begun = d->n_docs > 0 || d->fd >= 0;
    if (d->fd >= 0)
        close(d->fd);
    d->fd = -1;
    if (rc != 0 && d->temp_dfd >= 0) {
        char message[512];
        snprintf(message, sizeof message, "%s", sv_intake_last_error());
        if (remove_written(d) != 0)
            intake_fail(rc, "%s; %s/%s could not be removed (%s): delete it, it holds "
                            "decrypted documents",
                        message, d->parent, d->dir_name, strerror(errno));
        else if (has_begun && strstr(message, "nothing was exported") == NULL)
            intake_fail(rc, "%s; nothing was exported and nothing left in %s", message,
                        d->parent);
    }
    if (d->temp_dfd >= 0)
        close(d->temp_dfd);
    if (d->parent_dfd >= 0)
        close(d->parent_dfd);
    free(d->docs);
    free(d);
    errno = saved_errno;
}
