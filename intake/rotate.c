/*
 * rotate.c - key rotation: a new master key, every object's data key
 * re-wrapped under it, the index rebuilt under its blind-index and
 * content-hash keys, the audit log continued under its audit key; resumable
 * after a crash at any point, with the old key kept until the end.
 *
 * The steps, each idempotent, so a second run after a crash simply does
 * them again (docs/key-rotation.md):
 *   1. lock the data directory (the service and ingest must be stopped);
 *   2. the new key: keys/scanvault.key.new, written durably once; found
 *      there, it is resumed. While it exists, sv_store_create() refuses to
 *      open the data directory, because objects may be under either key;
 *   3. every object still under the old key id is re-wrapped (header
 *      rewritten atomically: each object is whole under one key or the
 *      other, never neither);
 *   4. the index is rebuilt from the objects with the new key
 *      (sv_reindex_run: built beside, swapped in atomically);
 *   5. the audit log: a last line under the old key, the file kept as
 *      audit/audit-<old key id>.log, and a new audit.log whose first line
 *      pins the archive (its line count and SHA-256), so the old log stays
 *      verifiable without the old key;
 *   6. commit: the new key replaces the key file (temp, fsync, rename,
 *      fsync the directory); then keys/scanvault.key.new goes. From here
 *      the old key is no longer needed.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "intake_internal.h"

typedef struct rotation {
    const sv_rotate_options *o;
    sv_rotate_report *rep;
    uint64_t index_docs;      /* documents the index lists before the rebuild */
    uint64_t misplaced;       /* objects found out of their place (strays named as objects) */
    char key_path[SV_INTAKE_PATH_MAX];
    char new_path[SV_INTAKE_PATH_MAX];
    sv_keyring *old_ring, *new_ring;
    sv_vault *vault;
    struct timespec started, last_progress;
} rotation;

static double seconds_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

/* ---- before anything changes: is this the right key, the whole vault? --- */

/* The index as it is now: how many documents it lists and under which key
 * id (read-only, no key check). No index yet: 0 documents, any key. */
static int read_index_facts(rotation *r, uint8_t key_id[SV_KEY_ID_LEN], bool *has_index)
{
    char path[SV_INTAKE_PATH_MAX];
    int rc = intake_path(path, sizeof path, r->o->data_dir, "index");
    if (rc != 0)
        return rc;
    sv_index *ix = NULL;
    sv_index_options io = {.path = path, .read_only = true};
    rc = sv_index_create(&ix, &io);
    *has_index = rc == 0;
    if (rc == SV_ENOTFOUND)
        return 0;
    if (rc != 0)
        return intake_fail(rc, "%s", sv_index_last_error());
    sv_index_stats *st = calloc(1, sizeof *st);
    rc = st == NULL ? SV_ENOMEM : sv_index_get_stats(ix, st);
    if (rc == 0) {
        r->index_docs = st->docs;
        memset(key_id, 0, SV_KEY_ID_LEN);
        memcpy(key_id, st->key_id, st->key_id_len < SV_KEY_ID_LEN ? st->key_id_len : SV_KEY_ID_LEN);
    }
    free(st);
    sv_index_destroy(ix);
    if (rc != 0)
        return intake_fail(rc, "%s", rc == SV_ENOMEM ? "out of memory" : sv_index_last_error());
    return 0;
}

/* A fresh rotation starts only from the key the index was built with: a
 * wrong --key must not leave a pending rotation behind. */
static int check_old_key_is_the_index_key(rotation *r)
{
    uint8_t index_id[SV_KEY_ID_LEN], old_id[SV_KEY_ID_LEN];
    bool has_index = false;
    int rc = read_index_facts(r, index_id, &has_index);
    if (rc != 0 || !has_index)
        return rc;
    sv_keyring_id(r->old_ring, old_id);
    if (memcmp(index_id, old_id, sizeof old_id) != 0)
        return intake_fail(SV_EKEY, "the key given (%s) is not the key this data directory's "
                                    "index was built with; nothing changed: give the right "
                                    "--key",
                           r->rep->old_key_id);
    return 0;
}

/* Before the commit: every document the index lists must have been found
 * and moved to the new key, and no object may lie out of its place. A vault
 * whose storage is not mounted, or an object moved aside, would otherwise be
 * left under a key that is about to be replaced. */
static int check_whole_vault_moved(rotation *r)
{
    uint64_t moved = r->rep->rewrapped + r->rep->already_new;
    if (r->misplaced > 0)
        return intake_fail(SV_EAUTH, "%llu object(s) lie outside their fan-out directory "
                                     "('scanvault verify' names them as strays): move them "
                                     "back, then run rotate-key again; nothing committed",
                           (unsigned long long)r->misplaced);
    if (moved < r->index_docs)
        return intake_fail(SV_EAUTH, "the vault holds %llu object(s) but the index lists %llu "
                                     "document(s): is the vault's storage mounted? Run "
                                     "'scanvault verify'; nothing committed, the old key is "
                                     "still in force",
                           (unsigned long long)moved, (unsigned long long)r->index_docs);
    return 0;
}

/* ---- step 2: the key pair ---------------------------------------------- */

static int resolve_key_path(rotation *r)
{
    const char *cred = getenv("CREDENTIALS_DIRECTORY");
    if (cred != NULL && cred[0] != '\0')
        return intake_fail(SV_EINVAL,
                           "the key comes from $CREDENTIALS_DIRECTORY (systemd); run "
                           "rotate-key outside the service with --key naming the key file "
                           "itself");
    const char *key = r->o->key_file;
    if (key == NULL || key[0] == '\0')
        return intake_path(r->key_path, sizeof r->key_path, r->o->data_dir,
                           "keys/scanvault.key");
    int n = snprintf(r->key_path, sizeof r->key_path, "%s", key);
    if (n < 0 || (size_t)n >= sizeof r->key_path)
        return intake_fail(SV_ELIMIT, "key file path too long");
    return 0;
}

static int load_ring(const char *path, sv_keyring **ring)
{
    int rc = sv_keyring_load(ring, path);
    if (rc != 0)
        return intake_fail(rc, "%s", sv_crypto_last_error());
    return 0;
}

/* The new key: the pending one when a rotation was interrupted, else a new
 * one written durably before anything else changes. */
static int take_new_key(rotation *r)
{
    int rc = intake_path(r->new_path, sizeof r->new_path, r->o->data_dir, INTAKE_ROTATION_KEY);
    if (rc != 0)
        return rc;
    if (access(r->new_path, F_OK) == 0) {
        r->rep->resumed = true;
        return load_ring(r->new_path, &r->new_ring);
    }
    if ((rc = sv_keyring_generate(&r->new_ring)) != 0)
        return intake_fail(rc, "cannot make a new key: %s", sv_crypto_last_error());
    /* An installation that keeps its key outside the data directory (a
     * systemd credential) has no keys/ there yet. */
    char keys_dir[SV_INTAKE_PATH_MAX];
    if ((rc = intake_path(keys_dir, sizeof keys_dir, r->o->data_dir, "keys")) != 0)
        return rc;
    if ((rc = sv_durable_mkdir(keys_dir, 0700)) != 0)
        return intake_fail(rc, "cannot make %s: %s", keys_dir, sv_crypto_last_error());
    if ((rc = sv_keyring_save(r->new_ring, r->new_path)) != 0)
        return intake_fail(rc, "cannot write the new key: %s", sv_crypto_last_error());
    return 0;
}

/* ---- step 3: re-wrap ---------------------------------------------------- */

static void report_progress(rotation *r, uint64_t done, bool is_last)
{
    if (r->o->progress == NULL)
        return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double since = (double)(now.tv_sec - r->last_progress.tv_sec) +
                   (double)(now.tv_nsec - r->last_progress.tv_nsec) / 1e9;
    if (!is_last && since < 0.1)
        return;
    r->last_progress = now;
    sv_maint_progress p = {.done = done, .total = r->rep->objects,
                           .elapsed_s = seconds_since(&r->started)};
    r->o->progress(&p, r->o->progress_ctx);
}

static int count_entry(const sv_vault_entry *e, void *ctx)
{
    rotation *r = ctx;
    if (!e->is_stray)
        r->rep->objects++;
    return 0;
}

/* Re-wrap one object, unless it already is under the new key. */
static int rewrap_entry(const sv_vault_entry *e, void *ctx)
{
    rotation *r = ctx;
    if (e->is_stray) {
        /* Not an object in its place. One named like an object would be
         * left under the old key: counted, and the commit refused. */
        if (e->docid != NULL)
            r->misplaced++;
        return 0;
    }
    int rc = sv_vault_rewrap(r->vault, r->old_ring, r->new_ring, e->docid);
    if (rc == 0) {
        r->rep->rewrapped++;
    } else if (rc == SV_EKEY) {
        /* Not under the old key id: done by an interrupted run, if it
         * authenticates under the new key. */
        sv_vault_meta *m = calloc(1, sizeof *m);
        if (m == NULL)
            return intake_fail(SV_ENOMEM, "out of memory");
        rc = sv_vault_read_meta(r->vault, r->new_ring, e->docid, m);
        sv_vault_meta_wipe(m);
        free(m);
        if (rc != 0)
            return intake_fail(SV_EKEY,
                               "%s is sealed under neither the old nor the new key: nothing "
                               "committed; run 'scanvault verify' and restore it from a backup",
                               e->docid);
        r->rep->already_new++;
    } else {
        return intake_fail(rc, "%s cannot be re-wrapped (%s): nothing committed; run "
                               "'scanvault verify', restore it from a backup, then run "
                               "rotate-key again",
                           e->docid, sv_crypto_last_error());
    }
    report_progress(r, r->rep->rewrapped + r->rep->already_new, false);
    return 0;
}

static int rewrap_all(rotation *r)
{
    size_t removed = 0;
    int rc = sv_vault_clean_tmp(r->vault, &removed); /* an interrupted rewrap's temp file */
    if (rc == 0)
        rc = sv_vault_each_object(r->vault, count_entry, r);
    if (rc != 0)
        return intake_fail(rc, "%s", sv_crypto_last_error());
    clock_gettime(CLOCK_MONOTONIC, &r->last_progress);
    rc = sv_vault_each_object(r->vault, rewrap_entry, r);
    if (rc != 0 && sv_intake_last_error()[0] == '\0')
        rc = intake_fail(rc, "%s", sv_crypto_last_error());
    report_progress(r, r->rep->rewrapped + r->rep->already_new, true);
    return rc;
}

/* ---- step 5: the audit log ---------------------------------------------- */

/* The SHA-256 and line count of a whole file. */
static int hash_file(const char *path, uint8_t sha[SV_SHA256_LEN], uint64_t *lines)
{
    *lines = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return intake_fail(SV_EERRNO, "cannot read %s: %s", path, strerror(errno));
    uint64_t size = 0;
    int rc = sv_crypto_sha256_fd(fd, sha, &size);
    char buf[65536];
    ssize_t n;
    if (rc == 0 && lseek(fd, 0, SEEK_SET) == 0) {
        while ((n = read(fd, buf, sizeof buf)) > 0)
            for (ssize_t i = 0; i < n; i++)
                *lines += buf[i] == '\n';
        if (n < 0)
            rc = SV_EERRNO;
    }
    close(fd);
    if (rc != 0)
        return intake_fail(rc, "cannot read %s", path);
    return 0;
}

static int append_line(const sv_keyring *ring, const char *path, const char *action,
                       const char *result)
{
    sv_audit *log = NULL;
    int rc = sv_audit_create(&log, ring, path);
    if (rc == 0)
        rc = sv_audit_append(log, action, NULL, result);
    sv_audit_destroy(log);
    if (rc != 0)
        return intake_fail(rc, "audit log %s: %s", path, sv_crypto_last_error());
    return 0;
}

/* audit/audit.log and audit/audit-<old key id>.log. */
static int audit_paths(rotation *r, char *log_path, char *archive, size_t len)
{
    char name[64];
    snprintf(name, sizeof name, "audit/audit-%s.log", r->rep->old_key_id);
    int rc = intake_path(log_path, len, r->o->data_dir, "audit/audit.log");
    return rc != 0 ? rc : intake_path(archive, len, r->o->data_dir, name);
}

/* Close the old log with a last line and keep it as audit-<old id>.log.
 * Done once: an archive that exists means an interrupted run got this far. */
static int archive_old_log(rotation *r)
{
    char log_path[SV_INTAKE_PATH_MAX], archive[SV_INTAKE_PATH_MAX], dir[SV_INTAKE_PATH_MAX];
    int rc = audit_paths(r, log_path, archive, sizeof log_path);
    if (rc != 0 || access(archive, F_OK) == 0)
        return rc;
    char result[128];
    snprintf(result, sizeof result, "closed new_key=%s objects=%llu", r->rep->new_key_id,
             (unsigned long long)r->rep->objects);
    if ((rc = append_line(r->old_ring, log_path, "key_rotate", result)) != 0)
        return rc;
    if (rename(log_path, archive) != 0)
        return intake_fail(SV_EERRNO, "cannot archive the audit log: %s", strerror(errno));
    if ((rc = intake_path(dir, sizeof dir, r->o->data_dir, "audit")) != 0)
        return rc;
    if ((rc = sv_durable_fsync_dir(dir)) != 0)
        return intake_fail(rc, "%s", sv_crypto_last_error());
    return 0;
}

/* Begin the new log, under the new key, with a line that pins the archive
 * (its line count and SHA-256), unless an interrupted run began it. */
static int start_new_log(rotation *r)
{
    char log_path[SV_INTAKE_PATH_MAX], archive[SV_INTAKE_PATH_MAX];
    int rc = audit_paths(r, log_path, archive, sizeof log_path);
    if (rc != 0)
        return rc;
    struct stat st;
    if (stat(log_path, &st) == 0 && st.st_size > 0)
        return 0;
    uint8_t sha[SV_SHA256_LEN];
    uint64_t lines = 0;
    if ((rc = hash_file(archive, sha, &lines)) != 0)
        return rc;
    char sha_hex[2 * SV_SHA256_LEN + 1], result[SV_AUDIT_RESULT_MAX + 1];
    intake_hex(sha, sizeof sha, sha_hex);
    snprintf(result, sizeof result, "archive=audit-%s.log lines=%llu sha256=%s",
             r->rep->old_key_id, (unsigned long long)lines, sha_hex);
    return append_line(r->new_ring, log_path, SV_STORE_AUDIT_ACTION_ROTATE, result);
}

/* ---- step 6: commit ----------------------------------------------------- */

/* The new key over the key file: beside it first (never over an existing
 * name), then renamed over it, then the pending key removed. */
static int commit_new_key(rotation *r)
{
    char next[SV_INTAKE_PATH_MAX + 8];
    snprintf(next, sizeof next, "%s.next", r->key_path);
    unlink(next); /* an interrupted commit's copy of the same new key */
    int rc = sv_keyring_save(r->new_ring, next);
    if (rc != 0)
        return intake_fail(rc, "cannot write the new key beside %s: %s", r->key_path,
                           sv_crypto_last_error());
    if (rename(next, r->key_path) != 0) {
        rc = intake_fail(SV_EERRNO, "cannot put the new key in place of %s: %s", r->key_path,
                         strerror(errno));
        unlink(next);
        return rc;
    }
    char *copy = strdup(r->key_path);
    if (copy == NULL)
        return intake_fail(SV_ENOMEM, "out of memory");
    rc = sv_durable_fsync_dir(dirname(copy));
    free(copy);
    if (rc != 0)
        return intake_fail(rc, "%s", sv_crypto_last_error());
    if (unlink(r->new_path) != 0 && errno != ENOENT)
        return intake_fail(SV_EERRNO, "the new key is in place, but %s cannot be removed: %s; "
                                      "remove it by hand",
                           r->new_path, strerror(errno));
    char keys_dir[SV_INTAKE_PATH_MAX];
    if (intake_path(keys_dir, sizeof keys_dir, r->o->data_dir, "keys") == 0)
        sv_durable_fsync_dir(keys_dir);
    return 0;
}

/* ---- the whole rotation ------------------------------------------------- */

static int open_vault(rotation *r)
{
    char path[SV_INTAKE_PATH_MAX];
    int rc = intake_path(path, sizeof path, r->o->data_dir, "vault");
    if (rc == 0 && (rc = sv_vault_create(&r->vault, path)) != 0)
        rc = intake_fail(rc, "%s", sv_crypto_last_error());
    return rc;
}

static int rotate_with_lock(rotation *r)
{
    int rc;
    if ((rc = resolve_key_path(r)) != 0 || (rc = load_ring(r->key_path, &r->old_ring)) != 0)
        return rc;
    sv_keyring_id_hex(r->old_ring, r->rep->old_key_id);
    char pending[SV_INTAKE_PATH_MAX];
    if ((rc = intake_path(pending, sizeof pending, r->o->data_dir, INTAKE_ROTATION_KEY)) != 0)
        return rc;
    if (access(pending, F_OK) != 0 && (rc = check_old_key_is_the_index_key(r)) != 0)
        return rc;
    if ((rc = take_new_key(r)) != 0)
        return rc;
    sv_keyring_id_hex(r->new_ring, r->rep->new_key_id);
    uint8_t old_id[SV_KEY_ID_LEN], new_id[SV_KEY_ID_LEN];
    sv_keyring_id(r->old_ring, old_id);
    sv_keyring_id(r->new_ring, new_id);
    if (memcmp(old_id, new_id, sizeof old_id) == 0) {
        /* An interrupted run had put the new key in place already. */
        r->rep->was_committed = true;
        if (unlink(r->new_path) != 0 && errno != ENOENT)
            return intake_fail(SV_EERRNO, "cannot remove %s: %s", r->new_path, strerror(errno));
        char log_path[SV_INTAKE_PATH_MAX], result[64];
        snprintf(result, sizeof result, "committed new_key=%s finished=after_interruption",
                 r->rep->new_key_id);
        if ((rc = intake_path(log_path, sizeof log_path, r->o->data_dir, "audit/audit.log")) != 0)
            return rc;
        return append_line(r->new_ring, log_path, "key_rotate", result);
    }
    if (!r->rep->resumed) {
        char result[64];
        snprintf(result, sizeof result, "started new_key=%s", r->rep->new_key_id);
        char log_path[SV_INTAKE_PATH_MAX];
        if ((rc = intake_path(log_path, sizeof log_path, r->o->data_dir, "audit/audit.log")) != 0 ||
            (rc = append_line(r->old_ring, log_path, "key_rotate", result)) != 0)
            return rc;
    }
    uint8_t unused_id[SV_KEY_ID_LEN];
    bool has_index = false;
    if ((rc = read_index_facts(r, unused_id, &has_index)) != 0 || (rc = open_vault(r)) != 0 ||
        (rc = rewrap_all(r)) != 0 || (rc = check_whole_vault_moved(r)) != 0)
        return rc;
    /* The log of the key in force gets the reindex line: the old one, or,
     * when an interrupted run archived it already, the new one (begun
     * first with its pinning line). */
    char log_path[SV_INTAKE_PATH_MAX], archive[SV_INTAKE_PATH_MAX];
    if ((rc = audit_paths(r, log_path, archive, sizeof log_path)) != 0)
        return rc;
    bool is_archived = access(archive, F_OK) == 0;
    if (is_archived && (rc = start_new_log(r)) != 0)
        return rc;
    sv_audit *log = NULL;
    if ((rc = sv_audit_create(&log, is_archived ? r->new_ring : r->old_ring, log_path)) != 0)
        return intake_fail(rc, "%s", sv_crypto_last_error());
    sv_reindex_options ro = {.data_dir = r->o->data_dir,
                             .ring = r->new_ring,
                             .lock_held = true,
                             .audit = log,
                             .problem = r->o->problem,
                             .problem_ctx = r->o->problem_ctx};
    rc = sv_reindex_run(&ro, &r->rep->reindex);
    sv_audit_destroy(log);
    if (rc != 0)
        return rc;
    if ((rc = archive_old_log(r)) != 0 || (rc = start_new_log(r)) != 0 ||
        (rc = commit_new_key(r)) != 0)
        return rc;
    char result[128];
    snprintf(result, sizeof result, "committed old_key=%s new_key=%s rewrapped=%llu",
             r->rep->old_key_id, r->rep->new_key_id, (unsigned long long)r->rep->rewrapped);
    /* Committed: a failure to log that is reported, not a failed rotation
     * (running it again would start another one). */
    if (append_line(r->new_ring, log_path, "key_rotate", result) != 0)
        snprintf(r->rep->warning, sizeof r->rep->warning, "%s", sv_intake_last_error());
    return 0;
}

int sv_rotate_key(const sv_rotate_options *o, sv_rotate_report *rep)
{
    intake_clear_error();
    memset(rep, 0, sizeof *rep);
    if (o == NULL || o->data_dir == NULL || o->data_dir[0] == '\0')
        return intake_fail(SV_EINVAL, "rotate-key: no data directory given");
    rotation r = {.o = o, .rep = rep};
    clock_gettime(CLOCK_MONOTONIC, &r.started);
    int lock_fd = -1, decisions_fd = -1;
    int rc = intake_lock_data_dir(o->data_dir,
                                  "the service or an ingest; stop it first (systemctl stop "
                                  "scanvault)",
                                  &lock_fd);
    if (rc == 0)
        rc = intake_lock_decisions(o->data_dir, &decisions_fd);
    if (rc == 0)
        rc = rotate_with_lock(&r);
    if (decisions_fd >= 0)
        close(decisions_fd);
    sv_vault_destroy(r.vault);
    sv_keyring_destroy(r.old_ring);
    sv_keyring_destroy(r.new_ring);
    if (lock_fd >= 0)
        close(lock_fd);
    rep->seconds = seconds_since(&r.started);
    return rc;
}
