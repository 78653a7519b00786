/*
 * store.c - a data directory opened with its key: the key ring, the vault,
 * the index and the audit log, and the clerk-facing operations on them
 * (find, get, stats). The command line calls these; the service's socket
 * will call the same functions, so the checks and the audit live here.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "intake_internal.h"

struct sv_store {
    char data_dir[SV_INTAKE_PATH_MAX];
    sv_keyring *ring;
    sv_vault *vault;
    sv_index *index;
    sv_audit *audit;
    /* A caller's view (sv_store_create_view): the parts above are borrowed
     * from base, and every audit line names the caller, not this process. */
    const sv_store *base;
    uint32_t caller_uid;
    char caller_user[SV_AUDIT_USER_MAX + 1];
    uint64_t audited; /* audit lines this handle appended */
    dev_t index_dev;  /* the index directory this store opened: a reindex or */
    ino_t index_ino;  /* key rotation swaps in another one */
};

sv_index *sv_store_index(sv_store *store) { return store->index; }
sv_vault *sv_store_vault(sv_store *store) { return store->vault; }
sv_audit *sv_store_audit(sv_store *store) { return store->audit; }
const sv_keyring *sv_store_keyring(const sv_store *store) { return store->ring; }
const char *sv_store_data_dir(const sv_store *store) { return store->data_dir; }

int sv_store_create_view(sv_store **out, const sv_store *store, uint32_t uid, const char *user)
{
    *out = NULL;
    sv_store *view = malloc(sizeof *view);
    if (view == NULL)
        return intake_fail(SV_ENOMEM, "out of memory");
    *view = *store;
    view->base = store->base != NULL ? store->base : store;
    view->caller_uid = uid;
    snprintf(view->caller_user, sizeof view->caller_user, "%s", user != NULL ? user : "");
    view->audited = 0;
    *out = view;
    return 0;
}

uint64_t sv_store_audit_count(const sv_store *store) { return store->audited; }

int intake_audit(sv_store *store, const char *action, const char *docid, const char *result)
{
    int rc = store->base != NULL
                 ? sv_audit_append_as(store->audit, store->caller_uid, store->caller_user,
                                      action, docid, result)
                 : sv_audit_append(store->audit, action, docid, result);
    if (rc == 0)
        store->audited++;
    return rc;
}

int intake_path(char *buf, size_t len, const char *dir, const char *sub)
{
    int n = snprintf(buf, len, "%s/%s", dir, sub);
    if (n < 0 || (size_t)n >= len)
        return intake_fail(SV_ELIMIT, "%s: path too long", dir);
    return 0;
}

static int check_layout(const char *data_dir)
{
    struct stat st;
    if (stat(data_dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return intake_fail(SV_ENOTFOUND,
                           "no data directory at %s: run 'scanvault init --data %s' first",
                           data_dir, data_dir);
    static const char *const parts[] = {"vault/objects", "vault/tmp", "spool/claimed", "audit"};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        char path[SV_INTAKE_PATH_MAX];
        if (intake_path(path, sizeof path, data_dir, parts[i]) != 0)
            return SV_ELIMIT;
        if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
            return intake_fail(SV_ENOTFOUND,
                               "%s is not a scanvault data directory (no %s): run "
                               "'scanvault init --data %s'",
                               data_dir, parts[i], data_dir);
    }
    return 0;
}

int intake_lock_data_dir(const char *data_dir, const char *held_by, int *lock_fd)
{
    *lock_fd = -1;
    char path[SV_INTAKE_PATH_MAX];
    if (intake_path(path, sizeof path, data_dir, "spool/lock") != 0)
        return SV_ELIMIT;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 && errno == ENOENT)
        return intake_fail(SV_ENOTFOUND,
                           "%s is not a scanvault data directory (no spool): run "
                           "'scanvault init --data %s'",
                           data_dir, data_dir);
    if (fd < 0)
        return intake_fail(SV_EERRNO, "cannot open %s: %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        close(fd);
        return intake_fail(err == EWOULDBLOCK ? SV_EEXIST : SV_EERRNO,
                           "%s is in use by %s", data_dir, held_by);
    }
    *lock_fd = fd;
    return 0;
}

int intake_lock_decisions(const char *data_dir, int *lock_fd)
{
    *lock_fd = -1;
    char path[SV_INTAKE_PATH_MAX];
    int rc = intake_path(path, sizeof path, data_dir, "spool/review.lock");
    if (rc != 0)
        return rc;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return intake_fail(SV_EERRNO, "cannot open %s: %s", path, strerror(errno));
    while (flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            int err = errno;
            close(fd);
            return intake_fail(SV_EERRNO, "cannot lock %s: %s", path, strerror(err));
        }
    }
    *lock_fd = fd;
    return 0;
}

/* A key rotation that has not committed leaves objects under two keys and an
 * index that may belong to either: nothing but rotate-key may open the data
 * directory until it has finished. */
static int check_no_rotation(const char *data_dir)
{
    char path[SV_INTAKE_PATH_MAX];
    if (intake_path(path, sizeof path, data_dir, INTAKE_ROTATION_KEY) != 0)
        return SV_ELIMIT;
    if (access(path, F_OK) == 0)
        return intake_fail(SV_EKEY,
                           "%s: a key rotation was interrupted; run 'scanvault rotate-key' "
                           "again to finish it before anything else",
                           data_dir);
    return 0;
}

/* The key named (--key, or [storage] key_file) comes first; only without
 * one does $CREDENTIALS_DIRECTORY (systemd) or <data_dir>/keys/ apply
 * (docs/configuration.md). */
static int load_key(sv_store *s, const char *key_file)
{
    char default_path[SV_INTAKE_PATH_MAX];
    int rc;
    if (key_file != NULL && key_file[0] != '\0') {
        rc = sv_keyring_load(&s->ring, key_file);
    } else {
        if (intake_path(default_path, sizeof default_path, s->data_dir, "keys/scanvault.key") != 0)
            return SV_ELIMIT;
        rc = sv_keyring_load_default(&s->ring, default_path);
    }
    if (rc == SV_EERRNO)
        return intake_fail(rc, "%s (restore the key file from its backup, or give --key)",
                           sv_crypto_last_error());
    if (rc != 0)
        return intake_fail(rc, "%s", sv_crypto_last_error());
    return 0;
}

static int open_index(sv_store *s, bool read_only)
{
    char path[SV_INTAKE_PATH_MAX];
    if (intake_path(path, sizeof path, s->data_dir, "index") != 0)
        return SV_ELIMIT;
    uint8_t key_id[SV_KEY_ID_LEN];
    sv_keyring_id(s->ring, key_id);
    sv_index_options o = {.path = path,
                          .create = !read_only,
                          .read_only = read_only,
                          .key_id = key_id,
                          .key_id_len = sizeof key_id};
    int rc = sv_index_create(&s->index, &o);
    if (rc == SV_ENOTFOUND)
        return intake_fail(rc, "no index in %s yet: nothing has been ingested", s->data_dir);
    if (rc != 0)
        return intake_fail(rc, "%s", sv_index_last_error());
    struct stat st;
    if (stat(path, &st) != 0)
        return intake_fail(SV_EERRNO, "%s: %s", path, strerror(errno));
    s->index_dev = st.st_dev;
    s->index_ino = st.st_ino;
    return 0;
}

int intake_store_index_is_current(sv_store *store)
{
    char path[SV_INTAKE_PATH_MAX];
    struct stat st;
    if (intake_path(path, sizeof path, store->data_dir, "index") != 0)
        return SV_ELIMIT;
    if (stat(path, &st) == 0 && st.st_dev == store->index_dev && st.st_ino == store->index_ino)
        return 0;
    return intake_fail(SV_EINDEX, "the index was rebuilt (reindex or key rotation) while this "
                                  "command waited; nothing changed: run it again");
}

int sv_store_create(sv_store **out, const sv_store_options *opts)
{
    intake_clear_error();
    *out = NULL;
    if (opts == NULL || opts->data_dir == NULL || opts->data_dir[0] == '\0')
        return intake_fail(SV_EINVAL, "no data directory given");
    sv_store *s = calloc(1, sizeof *s);
    if (s == NULL)
        return intake_fail(SV_ENOMEM, "out of memory");
    int rc;
    size_t len = strlen(opts->data_dir);
    if (len >= sizeof s->data_dir) {
        rc = intake_fail(SV_ELIMIT, "data directory path too long");
        goto out;
    }
    memcpy(s->data_dir, opts->data_dir, len + 1);
    /* From here on the process holds keys: no core dumps, no ptrace by
     * other processes of the same user. */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    if ((rc = check_layout(s->data_dir)) != 0 || (rc = check_no_rotation(s->data_dir)) != 0 ||
        (rc = load_key(s, opts->key_file)) != 0)
        goto out;
    char path[SV_INTAKE_PATH_MAX];
    if ((rc = intake_path(path, sizeof path, s->data_dir, "vault")) != 0)
        goto out;
    if ((rc = sv_vault_create(&s->vault, path)) != 0) {
        rc = intake_fail(rc, "%s", sv_crypto_last_error());
        goto out;
    }
    if ((rc = open_index(s, opts->read_only)) != 0)
        goto out;
    if ((rc = intake_path(path, sizeof path, s->data_dir, "audit/audit.log")) != 0)
        goto out;
    if ((rc = sv_audit_create(&s->audit, s->ring, path)) != 0) {
        rc = intake_fail(rc, "%s", sv_crypto_last_error());
        goto out;
    }
    /* A review decision interrupted between the vault header and the index
     * is completed now. One that cannot be stays noted for the next open
     * (verify names it meanwhile): it must not keep the store shut. */
    size_t replayed = 0;
    if (!opts->read_only)
        (void)intake_journal_replay(s, &replayed);
    intake_clear_error();
out:
    if (rc != 0) {
        sv_store_destroy(s);
        return rc;
    }
    *out = s;
    return 0;
}

void sv_store_destroy(sv_store *store)
{
    if (store == NULL)
        return;
    if (store->base != NULL) { /* a view owns nothing but itself */
        free(store);
        return;
    }
    sv_audit_destroy(store->audit);
    sv_index_destroy(store->index);
    sv_vault_destroy(store->vault);
    sv_keyring_destroy(store->ring);
    free(store);
}

void intake_hex(const uint8_t *bytes, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * n] = '\0';
}

int intake_blind_typed_mrn(sv_store *store, const sv_ocr_rules *rules, const char *mrn,
                           uint8_t blind[SV_BLIND_LEN])
{
    char digits[SV_MRN_MAX + 1];
    sv_ocr_reason why = sv_ocr_check_mrn(rules, mrn, digits);
    if (why != SV_REASON_NONE && why != SV_REASON_UNKNOWN_MRN)
        return intake_fail(SV_EINVAL, "the MRN given is not well-formed: %s",
                           sv_ocr_reason_words(why));
    int rc = sv_crypto_blind_mrn(store->ring, digits, blind);
    memset(digits, 0, sizeof digits);
    if (rc != 0)
        return intake_fail(rc, "%s", sv_crypto_last_error());
    return 0;
}

/* Fill docs[i] from the hits and each document's record. */
static int describe_hits(sv_store *s, const sv_index_hit *hits, size_t n, sv_store_doc *docs)
{
    for (size_t i = 0; i < n; i++) {
        sv_index_record rec;
        int rc = sv_index_get(s->index, hits[i].docid, &rec);
        if (rc != 0)
            return intake_fail(rc, "%s", sv_index_last_error());
        memcpy(docs[i].docid, hits[i].docid, sizeof docs[i].docid);
        memcpy(docs[i].type, hits[i].type, sizeof docs[i].type);
        docs[i].intake_time = hits[i].intake_time;
        docs[i].pages = rec.pages;
        docs[i].size = rec.size;
    }
    return 0;
}

int sv_store_find(sv_store *store, const sv_ocr_rules *rules, const char *mrn,
                  const sv_index_filter *filter, sv_store_doc **docs, size_t *n)
{
    intake_clear_error();
    *docs = NULL;
    *n = 0;
    uint8_t blind[SV_BLIND_LEN];
    sv_index_hit *hits = NULL;
    sv_store_doc *found = NULL;
    size_t total = 0, got = 0;
    int rc = intake_blind_typed_mrn(store, rules, mrn, blind);
    if (rc != 0)
        return rc;
    /* Count, then fetch; a document filed in between is simply not listed. */
    rc = sv_index_find(store->index, blind, filter, NULL, 0, &total);
    if (rc == 0 && total > 0) {
        hits = calloc(total, sizeof *hits);
        found = calloc(total, sizeof *found);
        if (hits == NULL || found == NULL) {
            rc = intake_fail(SV_ENOMEM, "out of memory listing %zu documents", total);
            goto out;
        }
        size_t again = 0;
        rc = sv_index_find(store->index, blind, filter, hits, total, &again);
        got = again < total ? again : total;
    }
    if (rc != 0) {
        rc = intake_fail(rc, "%s", sv_index_last_error());
        goto out;
    }
    if ((rc = describe_hits(store, hits, got, found)) != 0)
        goto out;
    char blind_hex[2 * SV_BLIND_LEN + 1], result[128];
    intake_hex(blind, sizeof blind, blind_hex);
    snprintf(result, sizeof result, "hits=%zu blind=%s", got, blind_hex);
    if ((rc = intake_audit(store, "find", NULL, result)) != 0) {
        rc = intake_fail(rc, "the search could not be audited, so no result is shown: %s",
                         sv_crypto_last_error());
        goto out;
    }
    *docs = got > 0 ? found : NULL;
    *n = got;
    if (got > 0)
        found = NULL;
out:
    free(hits);
    free(found);
    memset(blind, 0, sizeof blind);
    return rc;
}

static int discard_bytes(void *ctx, const uint8_t *buf, size_t len)
{
    (void)ctx, (void)buf, (void)len;
    return 0;
}

int sv_store_get(sv_store *store, const char *docid, int out_fd, sv_vault_meta *meta_out)
{
    return sv_store_get_to(store, docid, sv_vault_sink_fd, &out_fd, meta_out);
}

int sv_store_get_to(sv_store *store, const char *docid, sv_vault_sink sink, void *sink_ctx,
                    sv_vault_meta *meta_out)
{
    intake_clear_error();
    if (meta_out != NULL)
        memset(meta_out, 0, sizeof *meta_out);
    if (docid == NULL || !sv_docid_is_valid(docid))
        return intake_fail(SV_EINVAL, "not a document id (26 letters and digits, with an "
                                      "optional site prefix)");
    sv_index_record rec;
    int rc = sv_index_get(store->index, docid, &rec);
    if (rc == SV_ENOTFOUND)
        return intake_fail(rc, "no document %s in the index", docid);
    if (rc != 0)
        return intake_fail(rc, "%s", sv_index_last_error());
    /* First pass: authenticate every chunk and the content hash, write nothing. */
    sv_vault_meta *meta = calloc(1, sizeof *meta);
    if (meta == NULL)
        return intake_fail(SV_ENOMEM, "out of memory");
    rc = sv_vault_open(store->vault, store->ring, docid, discard_bytes, NULL, meta,
                       SV_VAULT_CHECK_CONTENT);
    if (rc != 0) {
        rc = intake_fail(rc, "%s: %s", docid, sv_crypto_last_error());
        intake_audit(store, "get", docid, rc == SV_EAUTH ? "refused=damaged" : "failed");
        goto out;
    }
    if ((rc = intake_audit(store, "get", docid, "ok")) != 0) {
        rc = intake_fail(rc, "%s: the retrieval could not be audited, so nothing is written: %s",
                         docid, sv_crypto_last_error());
        goto out;
    }
    rc = sv_vault_open(store->vault, store->ring, docid, sink, sink_ctx, NULL, 0);
    if (rc != 0) {
        rc = intake_fail(rc, "%s: writing the document failed: %s", docid,
                         sv_crypto_last_error());
        intake_audit(store, "get", docid, "failed=write");
        goto out;
    }
    if (meta_out != NULL)
        *meta_out = *meta;
out:
    sv_vault_meta_wipe(meta);
    free(meta);
    return rc;
}

/* Count the files under dir (two levels: objects/xx/) and their bytes. */
static int walk_objects(const char *dir, uint64_t *files, uint64_t *bytes)
{
    DIR *top = opendir(dir);
    if (top == NULL)
        return intake_fail(SV_EERRNO, "cannot list %s: %s", dir, strerror(errno));
    struct dirent *e;
    while ((e = readdir(top)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        int sub_fd = openat(dirfd(top), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sub_fd < 0)
            continue;
        DIR *sub = fdopendir(sub_fd);
        if (sub == NULL) {
            close(sub_fd);
            continue;
        }
        struct dirent *f;
        while ((f = readdir(sub)) != NULL) {
            struct stat st;
            if (f->d_name[0] == '.' || fstatat(dirfd(sub), f->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
                !S_ISREG(st.st_mode))
                continue;
            (*files)++;
            *bytes += (uint64_t)st.st_size;
        }
        closedir(sub);
    }
    closedir(top);
    return 0;
}

static uint64_t count_spool(const char *spool)
{
    uint64_t n = 0;
    DIR *d = opendir(spool);
    if (d == NULL)
        return 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (sv_docid_is_valid(e->d_name))
            n++;
    closedir(d);
    return n;
}

int sv_store_get_stats(sv_store *store, sv_store_stats *st)
{
    intake_clear_error();
    memset(st, 0, sizeof *st);
    int rc = sv_index_get_stats(store->index, &st->index);
    if (rc != 0)
        return intake_fail(rc, "%s", sv_index_last_error());
    char path[SV_INTAKE_PATH_MAX];
    struct stat sb;
    if (intake_path(path, sizeof path, store->data_dir, "index/data.mdb") == 0 &&
        stat(path, &sb) == 0)
        st->index_bytes = (uint64_t)sb.st_size;
    if ((rc = intake_path(path, sizeof path, store->data_dir, "vault/objects")) != 0 ||
        (rc = walk_objects(path, &st->vault_objects, &st->vault_bytes)) != 0)
        return rc;
    if (intake_path(path, sizeof path, store->data_dir, "spool/claimed") == 0)
        st->spool_files = count_spool(path);
    return 0;
}

typedef struct list_walk {
    sv_index_state state;
    sv_store_list_fn fn;
    void *ctx;
    size_t n;
} list_walk;

static int list_one(const char *docid, const sv_index_record *rec, int rec_status, void *ctx)
{
    list_walk *w = ctx;
    if (rec_status != 0 || (w->state != 0 && rec->state != w->state))
        return 0;
    w->n++;
    return w->fn(docid, rec, w->ctx);
}

int sv_store_list(sv_store *store, sv_index_state state, sv_store_list_fn fn, void *ctx)
{
    intake_clear_error();
    list_walk w = {.state = state, .fn = fn, .ctx = ctx};
    int rc = sv_index_docs_each(store->index, list_one, &w);
    if (rc != 0)
        return intake_fail(rc, "%s", rc == SV_EINDEX ? sv_index_last_error() : "listing stopped");
    char result[64];
    snprintf(result, sizeof result, "state=%s hits=%zu",
             state != 0 ? sv_index_state_name(state) : "any", w.n);
    if ((rc = intake_audit(store, "list", NULL, result)) != 0)
        return intake_fail(rc, "the listing could not be audited: %s", sv_crypto_last_error());
    return 0;
}
