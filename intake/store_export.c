/*
 * store_export.c - release of information: every filed document of one
 * patient, decrypted, into a new directory with a manifest, audited as one
 * action (docs/release-of-information.md). The command line calls
 * sv_store_export(); the service's socket will call the same function, so
 * every check and the audit live here.
 *
 * The order is what makes it safe:
 *   1. the MRN is checked and the directory must not exist (nothing is
 *      audited for a refused request: nothing was looked at);
 *   2. the patient's documents are listed from the index, and every object
 *      is authenticated in full (each chunk and the content hash) and its
 *      sealed record checked to be this patient's: a damaged object, or one
 *      the index lists under this patient but whose sealed record does not,
 *      stops the export before anything is written;
 *   3. the temp directory is made beside the target (a parent we may not
 *      write to stops here, unaudited), then one "export" audit line, before
 *      the first decrypted byte leaves;
 *   4. the documents are decrypted into the temp directory, each read back
 *      and hashed against its sealed SHA-256, the manifests written, every
 *      file and the directory fsync'ed;
 *   5. the temp directory is renamed to the target, never over an existing
 *      one, and the parent fsync'ed. A failure in 4 or 5 removes the temp
 *      directory and is audited with a second line.
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
#define EXPORT_MAGIC_LEN 8

/* One document to export: only what the manifest needs, never the MRN or
 * the scanner's file name. */
typedef struct export_doc {
    char docid[SV_DOCID_MAX + 1];
    char type[SV_META_CODE_MAX + 1];
    const char *ext;             /* from the original bytes' magic */
    int64_t intake_time;
    uint32_t pages;
    uint64_t size;
    uint8_t sha256[SV_SHA256_LEN]; /* sealed; the written bytes must match */
} export_doc;

typedef struct export_job {
    sv_store *store;
    const sv_store_export_options *opts;
    uint8_t blind[SV_BLIND_LEN];
    char blind_hex[2 * SV_BLIND_LEN + 1];
    export_doc *docs;
    size_t n_docs;
    uint64_t bytes;
    size_t n_written;              /* documents complete in the temp directory */
    bool is_interrupted;           /* the progress callback said stop */
    int64_t exported_at;
    char parent[SV_INTAKE_PATH_MAX]; /* the target's parent directory */
    char base[SV_INTAKE_PATH_MAX];   /* the target's name in it */
    char temp_name[64];              /* the temp directory's name in parent */
    const char *dir_name;            /* our directory's current name in parent:
                                        temp_name, or base once renamed */
    int parent_dfd;
    int temp_dfd;
} export_job;

static void format_iso_time(int64_t t, char *buf, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, len, "?");
}

/* The blind value of a typed MRN that passes the rules (as sv_store_find). */
static int blind_typed_mrn(export_job *job, const sv_ocr_rules *rules, const char *mrn)
{
    int rc = intake_blind_typed_mrn(job->store, rules, mrn, job->blind);
    if (rc == 0)
        intake_hex(job->blind, sizeof job->blind, job->blind_hex);
    return rc;
}

/*
 * Split out_dir into parent and name, refuse a target that exists, and open
 * the parent. Nothing is created here.
 */
static int prepare_target(export_job *job, const char *out_dir)
{
    size_t len = out_dir != NULL ? strlen(out_dir) : 0;
    while (len > 1 && out_dir[len - 1] == '/')
        len--;
    if (len == 0)
        return intake_fail(SV_EINVAL, "no export directory given");
    if (len >= sizeof job->parent)
        return intake_fail(SV_ELIMIT, "the export directory's path is too long");
    const char *slash = memrchr(out_dir, '/', len);
    size_t base_start = slash != NULL ? (size_t)(slash - out_dir) + 1 : 0;
    memcpy(job->base, out_dir + base_start, len - base_start);
    job->base[len - base_start] = '\0';
    if (slash == NULL) {
        snprintf(job->parent, sizeof job->parent, ".");
    } else if (slash == out_dir) {
        snprintf(job->parent, sizeof job->parent, "/");
    } else {
        memcpy(job->parent, out_dir, (size_t)(slash - out_dir));
        job->parent[slash - out_dir] = '\0';
    }
    if (job->base[0] == '\0' || strcmp(job->base, ".") == 0 || strcmp(job->base, "..") == 0)
        return intake_fail(SV_EINVAL, "%s: give the name of a new directory", out_dir);
    job->parent_dfd = open(job->parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (job->parent_dfd < 0) {
        int err = errno;
        return intake_fail(err == ENOENT || err == ENOTDIR ? SV_EINVAL : SV_EERRNO,
                           "cannot open %s, where the export directory would be made: %s",
                           job->parent, strerror(err));
    }
    struct stat st;
    if (fstatat(job->parent_dfd, job->base, &st, AT_SYMLINK_NOFOLLOW) == 0)
        return intake_fail(SV_EEXIST,
                           "%s exists: an export is only written into a new directory; "
                           "choose another name",
                           out_dir);
    if (errno != ENOENT)
        return intake_fail(SV_EERRNO, "cannot check %s: %s", out_dir, strerror(errno));
    return 0;
}

/* The patient's filed documents from the index, narrowed by the filter. */
static int list_documents(export_job *job)
{
    sv_index *ix = sv_store_index(job->store);
    const sv_index_filter *filter = job->opts != NULL ? job->opts->filter : NULL;
    size_t total = 0, got = 0;
    sv_index_hit *hits = NULL;
    int rc = sv_index_find(ix, job->blind, filter, NULL, 0, &total);
    if (rc == 0 && total > SV_STORE_EXPORT_MAX)
        return intake_fail(SV_ELIMIT,
                           "the patient has %zu documents, more than one export takes (%u): "
                           "export them in parts (by type or date)",
                           total, SV_STORE_EXPORT_MAX);
    if (rc == 0 && total > 0) {
        hits = calloc(total, sizeof *hits);
        job->docs = calloc(total, sizeof *job->docs);
        if (hits == NULL || job->docs == NULL) {
            rc = intake_fail(SV_ENOMEM, "out of memory listing %zu documents", total);
            goto out;
        }
        size_t again = 0;
        rc = sv_index_find(ix, job->blind, filter, hits, total, &again);
        /* A document filed in between is simply not exported. */
        got = again < total ? again : total;
    }
    if (rc != 0) {
        rc = intake_fail(rc, "%s", sv_index_last_error());
        goto out;
    }
    for (size_t i = 0; i < got; i++) {
        /* The docid becomes a file name: never trust the index with that. */
        if (!sv_docid_is_valid(hits[i].docid)) {
            rc = intake_fail(SV_EINDEX, "the index holds a malformed document id for this "
                                        "patient: nothing was exported; rebuild the index "
                                        "(scanvault reindex)");
            goto out;
        }
        memcpy(job->docs[i].docid, hits[i].docid, sizeof job->docs[i].docid);
    }
    job->n_docs = got;
out:
    free(hits);
    return rc;
}

/* The progress callback; non-zero stops the export as interrupted. */
static int report_progress(export_job *job, sv_store_export_phase phase, size_t done)
{
    if (job->opts == NULL || job->opts->progress == NULL)
        return 0;
    if (job->opts->progress(phase, done, job->n_docs, job->opts->progress_ctx) == 0)
        return 0;
    job->is_interrupted = true;
    errno = EINTR;
    return intake_fail(SV_EERRNO, "the export was interrupted%s",
                       phase == SV_STORE_EXPORT_CHECKING ? " before anything was written" : "");
}

/* Keeps the first bytes of a document, to name its file by format. */
typedef struct magic_capture {
    uint8_t bytes[EXPORT_MAGIC_LEN];
    size_t len;
} magic_capture;

static int capture_magic(void *ctx, const uint8_t *buf, size_t len)
{
    magic_capture *m = ctx;
    size_t want = sizeof m->bytes - m->len;
    if (want > len)
        want = len;
    memcpy(m->bytes + m->len, buf, want);
    m->len += want;
    return 0;
}

/* The file extension for these first bytes: the format, never the name the
 * scanner gave the file (it may carry a patient's name). */
static const char *extension_for(const uint8_t *b, size_t len)
{
    static const uint8_t png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (len >= 5 && memcmp(b, "%PDF-", 5) == 0)
        return "pdf";
    if (len >= 8 && memcmp(b, png, 8) == 0)
        return "png";
    if (len >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff)
        return "jpg";
    /* TIFF and BigTIFF, either byte order. */
    if (len >= 4 && ((b[0] == 'I' && b[1] == 'I' && (b[2] == 42 || b[2] == 43) && b[3] == 0) ||
                     (b[0] == 'M' && b[1] == 'M' && b[2] == 0 && (b[3] == 42 || b[3] == 43))))
        return "tif";
    return "bin";
}

static bool is_damage(int rc)
{
    return rc == SV_EAUTH || rc == SV_ETRUNC || rc == SV_EFORMAT || rc == SV_EKEY ||
           rc == SV_EVERSION;
}

/*
 * First pass over one document: authenticate the whole object and its
 * content hash, writing nothing, and check that its sealed record files it
 * under this patient (the index is a cache; the sealed record is the truth,
 * and exporting another patient's document is the one mistake this command
 * must not make).
 */
static int check_one(export_job *job, export_doc *d, sv_vault_meta *meta)
{
    const sv_keyring *ring = sv_store_keyring(job->store);
    magic_capture magic = {.len = 0};
    int rc = sv_vault_open(sv_store_vault(job->store), ring, d->docid, capture_magic, &magic,
                           meta, SV_VAULT_CHECK_CONTENT);
    if (rc == SV_ENOTFOUND)
        return intake_fail(SV_EINDEX, "%s: the index lists it but the vault has no object: "
                                      "nothing was exported; run a verify of the vault",
                           d->docid);
    if (rc != 0)
        return intake_fail(rc, "%s: %s; nothing was exported", d->docid,
                           sv_crypto_last_error());
    uint8_t sealed_blind[SV_BLIND_LEN];
    bool is_same_patient = meta->state == SV_VAULT_FILED &&
                           sv_crypto_blind_mrn(ring, meta->mrn, sealed_blind) == 0 &&
                           memcmp(sealed_blind, job->blind, sizeof sealed_blind) == 0;
    memset(sealed_blind, 0, sizeof sealed_blind);
    if (!is_same_patient)
        return intake_fail(SV_EINDEX,
                           "%s: the index lists it under this patient but its sealed record "
                           "does not: nothing was exported; rebuild the index (scanvault reindex)",
                           d->docid);
    memcpy(d->type, meta->type, sizeof d->type);
    d->ext = extension_for(magic.bytes, magic.len);
    d->intake_time = meta->intake_time;
    d->pages = meta->pages;
    d->size = meta->size;
    memcpy(d->sha256, meta->sha256, sizeof d->sha256);
    memset(&magic, 0, sizeof magic);
    return 0;
}

static int check_all(export_job *job)
{
    sv_vault_meta *meta = calloc(1, sizeof *meta);
    if (meta == NULL)
        return intake_fail(SV_ENOMEM, "out of memory");
    int rc = 0;
    for (size_t i = 0; i < job->n_docs && rc == 0; i++) {
        if ((rc = report_progress(job, SV_STORE_EXPORT_CHECKING, i)) != 0)
            break;
        rc = check_one(job, &job->docs[i], meta);
        sv_vault_meta_wipe(meta);
        if (rc != 0 && rc != SV_EINDEX) {
            /* A damaged object is audited like a refused `get`: someone may
             * be tampering with this patient's documents. */
            char result[128];
            snprintf(result, sizeof result, "refused=%s blind=%s",
                     is_damage(rc) ? "damaged" : "unreadable", job->blind_hex);
            sv_audit_append(sv_store_audit(job->store), "export", job->docs[i].docid, result);
        }
        if (rc == 0)
            job->bytes += job->docs[i].size;
    }
    if (rc == 0)
        rc = report_progress(job, SV_STORE_EXPORT_CHECKING, job->n_docs);
    free(meta);
    return rc;
}

static int make_temp_dir(export_job *job)
{
    char path[SV_INTAKE_PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/" EXPORT_TEMP_PREFIX "XXXXXX", job->parent);
    if (n < 0 || (size_t)n >= sizeof path)
        return intake_fail(SV_ELIMIT, "the export directory's path is too long");
    if (mkdtemp(path) == NULL)
        return intake_fail(SV_EERRNO, "cannot create a directory in %s: %s", job->parent,
                           strerror(errno));
    snprintf(job->temp_name, sizeof job->temp_name, "%s", strrchr(path, '/') + 1);
    job->dir_name = job->temp_name;
    job->temp_dfd = openat(job->parent_dfd, job->temp_name,
                           O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (job->temp_dfd < 0 || fchmod(job->temp_dfd, 0700) != 0) {
        int err = errno;
        if (job->temp_dfd < 0)
            unlinkat(job->parent_dfd, job->temp_name, AT_REMOVEDIR);
        return intake_fail(SV_EERRNO, "cannot open %s: %s", path, strerror(err));
    }
    return 0;
}

/*
 * Remove our directory (the temp one, or after a late failure the renamed
 * one) and every file in it. The export only ever makes regular files there.
 * Returns 0, or -1 when something is left (errno set).
 */
static int remove_written(export_job *job)
{
    int fd = dup(job->temp_dfd);
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
    return unlinkat(job->parent_dfd, job->dir_name, AT_REMOVEDIR);
}

/* Create name in the temp directory, mode 0600. Returns the descriptor, or
 * a negative SV_E* code (message set; what names the docid or manifest). */
static int open_output(export_job *job, const char *name, const char *what)
{
    int fd = openat(job->temp_dfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                    0600);
    if (fd >= 0 && fchmod(fd, 0600) == 0)
        return fd;
    int err = errno;
    if (fd >= 0)
        close(fd);
    errno = err;
    return intake_fail(SV_EERRNO, "%s: cannot create its file in %s/%s: %s", what, job->parent,
                       job->temp_name, strerror(err));
}

/* Second pass over one document: decrypt it into its file, make it durable,
 * then hash what the file holds and compare with the sealed SHA-256. */
static int write_one(export_job *job, const export_doc *d)
{
    char name[EXPORT_FILE_NAME_MAX + 1];
    snprintf(name, sizeof name, "%s.%s", d->docid, d->ext);
    int fd = open_output(job, name, d->docid);
    if (fd < 0)
        return fd;
    int rc = sv_vault_open(sv_store_vault(job->store), sv_store_keyring(job->store), d->docid,
                           sv_vault_sink_fd, &fd, NULL, 0);
    if (rc != 0) {
        rc = intake_fail(rc, "%s: writing the document failed: %s", d->docid,
                         sv_crypto_last_error());
        goto out;
    }
    if (fsync(fd) != 0 || lseek(fd, 0, SEEK_SET) != 0) {
        rc = intake_fail(SV_EERRNO, "%s: cannot write its file: %s", d->docid, strerror(errno));
        goto out;
    }
    uint8_t written[SV_SHA256_LEN];
    uint64_t size = 0;
    if ((rc = sv_crypto_sha256_fd(fd, written, &size)) != 0) {
        rc = intake_fail(rc, "%s: cannot read its file back: %s", d->docid, strerror(errno));
        goto out;
    }
    if (size != d->size || memcmp(written, d->sha256, sizeof written) != 0)
        rc = intake_fail(SV_EAUTH, "%s: the bytes written differ from the sealed ones: "
                                   "nothing was exported",
                         d->docid);
out:
    if (close(fd) != 0 && rc == 0)
        rc = intake_fail(SV_EERRNO, "%s: cannot write its file: %s", d->docid, strerror(errno));
    return rc;
}

/* fflush, fsync and fclose a manifest, reporting the first failure. */
static int finish_manifest(export_job *job, FILE *f, const char *name)
{
    int err = 0;
    if (ferror(f) || fflush(f) != 0 || fsync(fileno(f)) != 0)
        err = errno != 0 ? errno : EIO;
    if (fclose(f) != 0 && err == 0)
        err = errno;
    if (err == 0)
        return 0;
    errno = err;
    return intake_fail(SV_EERRNO, "cannot write %s in %s/%s: %s", name, job->parent,
                       job->temp_name, strerror(err));
}

static FILE *open_manifest(export_job *job, const char *name, int *rc)
{
    int fd = open_output(job, name, name);
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
static int write_manifests(export_job *job)
{
    int rc = 0;
    errno = 0;
    FILE *json = open_manifest(job, EXPORT_MANIFEST_JSON, &rc);
    if (json == NULL)
        return rc;
    char when[32], date[32], sha[2 * SV_SHA256_LEN + 1];
    format_iso_time(job->exported_at, when, sizeof when);
    fprintf(json, "{\"format\": \"scanvault-export\", \"version\": 1, \"exported_at\": \"%s\",\n"
                  " \"documents\": [",
            when);
    for (size_t i = 0; i < job->n_docs; i++) {
        const export_doc *d = &job->docs[i];
        format_iso_time(d->intake_time, date, sizeof date);
        intake_hex(d->sha256, sizeof d->sha256, sha);
        fprintf(json,
                "%s\n  {\"docid\": \"%s\", \"file\": \"%s.%s\", \"type\": \"%s\", "
                "\"date\": \"%s\", \"pages\": %" PRIu32 ", \"size\": %" PRIu64
                ", \"sha256\": \"%s\"}",
                i > 0 ? "," : "", d->docid, d->docid, d->ext, d->type, date, d->pages, d->size,
                sha);
    }
    fputs(job->n_docs > 0 ? "\n ]}\n" : "]}\n", json);
    if ((rc = finish_manifest(job, json, EXPORT_MANIFEST_JSON)) != 0)
        return rc;
    errno = 0;
    FILE *tsv = open_manifest(job, EXPORT_MANIFEST_TSV, &rc);
    if (tsv == NULL)
        return rc;
    fputs("docid\tfile\ttype\tdate\tpages\tsize\tsha256\n", tsv);
    for (size_t i = 0; i < job->n_docs; i++) {
        const export_doc *d = &job->docs[i];
        format_iso_time(d->intake_time, date, sizeof date);
        intake_hex(d->sha256, sizeof d->sha256, sha);
        fprintf(tsv, "%s\t%s.%s\t%s\t%s\t%" PRIu32 "\t%" PRIu64 "\t%s\n", d->docid, d->docid,
                d->ext, d->type, date, d->pages, d->size, sha);
    }
    return finish_manifest(job, tsv, EXPORT_MANIFEST_TSV);
}

/* Rename the finished temp directory to the target. RENAME_NOREPLACE: a
 * plain rename() would replace an empty directory that appeared meanwhile.
 * A filesystem without it (EINVAL) gets a check, then rename(), whose only
 * window is an empty directory made in between. */
static int publish(export_job *job)
{
    if (fsync(job->temp_dfd) != 0)
        return intake_fail(SV_EERRNO, "cannot write %s/%s: %s", job->parent, job->temp_name,
                           strerror(errno));
    int r = renameat2(job->parent_dfd, job->temp_name, job->parent_dfd, job->base,
                      RENAME_NOREPLACE);
    if (r != 0 && errno == EINVAL) {
        struct stat st;
        if (fstatat(job->parent_dfd, job->base, &st, AT_SYMLINK_NOFOLLOW) == 0)
            errno = EEXIST;
        else
            r = renameat(job->parent_dfd, job->temp_name, job->parent_dfd, job->base);
    }
    if (r != 0) {
        int err = errno;
        return intake_fail(err == EEXIST || err == ENOTEMPTY ? SV_EEXIST : SV_EERRNO,
                           "cannot rename %s/%s to %s/%s: %s", job->parent, job->temp_name,
                           job->parent, job->base,
                           err == EEXIST || err == ENOTEMPTY ? "it appeared meanwhile"
                                                             : strerror(err));
    }
    job->dir_name = job->base;
    if (fsync(job->parent_dfd) != 0) {
        int err = errno;
        /* Not durable: take it back so nothing is left that may vanish. */
        if (renameat2(job->parent_dfd, job->base, job->parent_dfd, job->temp_name,
                      RENAME_NOREPLACE) == 0)
            job->dir_name = job->temp_name;
        errno = err;
        return intake_fail(SV_EERRNO, "cannot make %s durable: %s", job->parent, strerror(err));
    }
    return 0;
}

/* The second pass and the publication, after the audit line, into the temp
 * directory made before it. */
static int write_all(export_job *job)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < job->n_docs; i++) {
        if ((rc = report_progress(job, SV_STORE_EXPORT_WRITING, i)) == 0 &&
            (rc = write_one(job, &job->docs[i])) == 0)
            job->n_written++;
    }
    if (rc == 0 && (rc = report_progress(job, SV_STORE_EXPORT_WRITING, job->n_docs)) == 0 &&
        (rc = write_manifests(job)) == 0)
        rc = publish(job);
    return rc;
}

/* After a failed second pass: remove everything, then audit what happened. */
static void undo_write(export_job *job, int rc)
{
    int saved_errno = errno;
    char message[512];
    snprintf(message, sizeof message, "%s", sv_intake_last_error());
    if (job->temp_dfd >= 0 && remove_written(job) != 0)
        intake_fail(rc, "%s; %s/%s could not be removed (%s): delete it, it holds decrypted "
                        "documents",
                    message, job->parent, job->dir_name, strerror(errno));
    else
        intake_fail(rc, "%s; nothing was exported and nothing left in %s", message, job->parent);
    const char *why = job->is_interrupted ? "interrupted" : is_damage(rc) ? "damaged" : "write";
    char result[96];
    snprintf(result, sizeof result, "failed=%s docs_written=%zu", why, job->n_written);
    sv_audit_append(sv_store_audit(job->store), "export", NULL, result);
    errno = saved_errno;
}

int sv_store_export(sv_store *store, const sv_ocr_rules *rules, const char *mrn,
                    const char *out_dir, const sv_store_export_options *opts,
                    sv_store_export_summary *summary)
{
    intake_clear_error();
    memset(summary, 0, sizeof *summary);
    export_job *job = calloc(1, sizeof *job);
    if (job == NULL)
        return intake_fail(SV_ENOMEM, "out of memory");
    job->store = store;
    job->opts = opts;
    job->parent_dfd = -1;
    job->temp_dfd = -1;
    int rc;
    if ((rc = blind_typed_mrn(job, rules, mrn)) != 0 || (rc = prepare_target(job, out_dir)) != 0 ||
        (rc = list_documents(job)) != 0 || (rc = check_all(job)) != 0)
        goto out;
    /* The temp directory before the audit line: a parent we may not write
     * to is refused without claiming a release. */
    if (job->n_docs > 0 && (rc = make_temp_dir(job)) != 0)
        goto out;
    char result[128];
    snprintf(result, sizeof result, "docs=%zu bytes=%" PRIu64 " blind=%s", job->n_docs,
             job->bytes, job->blind_hex);
    if ((rc = sv_audit_append(sv_store_audit(store), "export", NULL, result)) != 0) {
        rc = intake_fail(rc, "the export could not be audited, so nothing is written: %s",
                         sv_crypto_last_error());
        if (job->temp_dfd >= 0)
            remove_written(job);
        goto out;
    }
    if (job->n_docs == 0) {
        rc = intake_fail(SV_ENOTFOUND, "no filed documents for this MRN%s: nothing was "
                                       "written (check the MRN with 'scanvault find')",
                         opts != NULL && opts->filter != NULL ? " with these filters" : "");
        goto out;
    }
    job->exported_at = (int64_t)time(NULL);
    if ((rc = write_all(job)) != 0) {
        undo_write(job, rc);
        goto out;
    }
    summary->docs = job->n_written;
    summary->bytes = job->bytes;
out:
    if (job->temp_dfd >= 0)
        close(job->temp_dfd);
    if (job->parent_dfd >= 0)
        close(job->parent_dfd);
    memset(job->blind, 0, sizeof job->blind);
    memset(job->blind_hex, 0, sizeof job->blind_hex);
    free(job->docs);
    free(job);
    return rc;
}
