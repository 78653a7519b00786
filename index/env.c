/*
 * env.c - the LMDB environment of the index: open (create the schema, or
 * check the schema version and the key id), close, the transaction helpers
 * every other file uses, the growth of the map, and the per-thread error
 * message.
 *
 * Map growth: LMDB reports MDB_MAP_FULL inside a write transaction, which
 * must then be aborted. ix_write() aborts, doubles the map (up to map_max)
 * while no transaction of this process runs, and runs the write step again
 * from its start. The caller sees either a committed write or an error with
 * nothing written.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "index_internal.h"

/* Resize attempts before giving up on a map another process keeps growing. */
#define IX_MAX_ATTEMPTS 64

static _Thread_local char ix_errbuf[256];

const char *sv_index_last_error(void)
{
    return ix_errbuf;
}

void ix_clear_error(void)
{
    ix_errbuf[0] = '\0';
}

void ix_set_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ix_errbuf, sizeof ix_errbuf, fmt, ap);
    va_end(ap);
}

/*
 * Map an LMDB return code to an SV_E* code and set the message. what names
 * the operation, docid (may be NULL) the document. MDB_MAP_FULL becomes
 * IX_EMAPFULL so that ix_write() can grow the map and retry.
 */
int ix_mdb_error(int mdb_rc, const char *what, const char *docid)
{
    const char *on = docid ? docid : "";
    const char *sep = docid ? " " : "";

    if (mdb_rc == MDB_MAP_FULL)
        return IX_EMAPFULL;
    ix_set_error("index %s%s%s: %s", what, sep, on, mdb_strerror(mdb_rc));
    switch (mdb_rc) {
    case MDB_NOTFOUND:
        return SV_ENOTFOUND;
    case MDB_KEYEXIST:
        return SV_EEXIST;
    case MDB_VERSION_MISMATCH:
        return SV_EVERSION;
    case MDB_READERS_FULL:
        return SV_ELIMIT;
    case ENOMEM:
        return SV_ENOMEM;
    case ENOSPC:
        return SV_EFULL;
    case EACCES:
    case EPERM:
    case EROFS:
        return SV_EPERM;
    default:
        break;
    }
    if (mdb_rc > 0) {
        errno = mdb_rc;
        return SV_EERRNO;
    }
    return SV_EINDEX;
}

static size_t current_map_size(sv_index *ix)
{
    MDB_envinfo info;
    if (mdb_env_info(ix->env, &info) != 0)
        return 0;
    return info.me_mapsize;
}

/* Another process grew the map: adopt its size (no transaction may run). */
static int adopt_map_size(sv_index *ix)
{
    int rc;
    pthread_rwlock_wrlock(&ix->lock);
    rc = mdb_env_set_mapsize(ix->env, 0);
    pthread_rwlock_unlock(&ix->lock);
    return rc;
}

/*
 * Make the map at least want bytes (rounded up to pages, capped at map_max)
 * unless it is already larger than seen (another thread grew it since).
 * Returns 0 or SV_EFULL when the map is at map_max already.
 */
static int grow_map(sv_index *ix, size_t seen, size_t want, const char *what,
                    const char *docid)
{
    size_t now, target;
    int dead = 0, mrc, rc = 0;

    pthread_rwlock_wrlock(&ix->lock);
    now = current_map_size(ix);
    if (now > seen || now >= want)
        goto out;
    if (now >= ix->map_max) {
        ix_set_error("index %s %s: the index map is at its limit of %zu MiB; raise "
                     "the index map limit in the configuration or free disk space",
                     what, docid ? docid : "", ix->map_max >> 20);
        rc = SV_EFULL;
        goto out;
    }
    /* Pages held by crashed readers cannot be reused: clear them first. */
    mdb_reader_check(ix->env, &dead);
    target = want > ix->map_max ? ix->map_max : want;
    target = (target + ix->page_size - 1) / ix->page_size * ix->page_size;
    mrc = mdb_env_set_mapsize(ix->env, target);
    if (mrc != 0)
        rc = ix_mdb_error(mrc, what, docid);
out:
    pthread_rwlock_unlock(&ix->lock);
    return rc;
}

int ix_reserve(sv_index *ix, size_t extra_bytes)
{
    MDB_envinfo info;
    size_t used, want;

    pthread_rwlock_rdlock(&ix->lock);
    mdb_env_info(ix->env, &info);
    pthread_rwlock_unlock(&ix->lock);
    used = (info.me_last_pgno + 1) * ix->page_size;
    if (extra_bytes > SIZE_MAX - used)
        want = SIZE_MAX;
    else
        want = used + extra_bytes;
    if (want <= info.me_mapsize)
        return 0;
    if (want > ix->map_max)
        want = ix->map_max;
    if (want <= info.me_mapsize)
        return 0;
    return grow_map(ix, info.me_mapsize, want, "reserve", NULL);
}

int ix_read_begin(sv_index *ix, MDB_txn **txn)
{
    int mrc = 0;

    *txn = NULL;
    for (int attempt = 0; attempt < IX_MAX_ATTEMPTS; attempt++) {
        pthread_rwlock_rdlock(&ix->lock);
        mrc = mdb_txn_begin(ix->env, NULL, MDB_RDONLY, txn);
        if (mrc == 0)
            return 0; /* the lock stays read-held until ix_read_end() */
        pthread_rwlock_unlock(&ix->lock);
        *txn = NULL;
        if (mrc != MDB_MAP_RESIZED)
            break;
        mrc = adopt_map_size(ix);
        if (mrc != 0)
            break;
        mrc = MDB_MAP_RESIZED;
    }
    return ix_mdb_error(mrc, "read", NULL);
}

void ix_read_end(sv_index *ix, MDB_txn *txn)
{
    if (txn == NULL)
        return;
    mdb_txn_abort(txn);
    pthread_rwlock_unlock(&ix->lock);
}

int ix_write(sv_index *ix, const char *what, const char *docid, ix_write_fn fn, void *ctx)
{
    MDB_txn *txn = NULL;
    size_t seen;
    int rc = SV_EINDEX, mrc;

    if (ix->read_only) {
        ix_set_error("index %s: the index was opened read-only", what);
        return SV_EPERM;
    }
    for (int attempt = 0; attempt < IX_MAX_ATTEMPTS; attempt++) {
        pthread_rwlock_rdlock(&ix->lock);
        seen = current_map_size(ix);
        mrc = mdb_txn_begin(ix->env, NULL, 0, &txn);
        if (mrc != 0) {
            pthread_rwlock_unlock(&ix->lock);
            if (mrc == MDB_MAP_RESIZED && adopt_map_size(ix) == 0)
                continue;
            return ix_mdb_error(mrc, what, docid);
        }
        rc = fn(ix, txn, ctx);
        if (rc == 0) {
            mrc = mdb_txn_commit(txn); /* frees txn, also on failure */
            rc = mrc == 0 ? 0 : ix_mdb_error(mrc, what, docid);
        } else {
            mdb_txn_abort(txn);
        }
        txn = NULL;
        pthread_rwlock_unlock(&ix->lock);
        if (rc != IX_EMAPFULL)
            return rc;
        if (seen > SIZE_MAX / 2)
            seen = SIZE_MAX / 2;
        rc = grow_map(ix, seen, seen * 2, what, docid);
        if (rc != 0)
            return rc;
    }
    ix_set_error("index %s %s: the map kept filling up while growing; try again",
                 what, docid ? docid : "");
    return SV_EFULL;
}

static int check_options(const sv_index_options *opts)
{
    size_t map_max;

    if (opts == NULL || opts->path == NULL || opts->path[0] == '\0') {
        ix_set_error("index open: no index directory given");
        return SV_EINVAL;
    }
    if (opts->create && opts->read_only) {
        ix_set_error("index open %s: cannot create an index read-only", opts->path);
        return SV_EINVAL;
    }
    if (opts->key_id_len > SV_INDEX_KEY_ID_MAX || (opts->key_id == NULL) != (opts->key_id_len == 0)) {
        ix_set_error("index open %s: the key id must be 1 to %d bytes", opts->path,
                     SV_INDEX_KEY_ID_MAX);
        return SV_EINVAL;
    }
    if (!opts->read_only && opts->key_id == NULL) {
        ix_set_error("index open %s: a read-write open needs the key id", opts->path);
        return SV_EINVAL;
    }
    map_max = opts->map_max ? opts->map_max : SV_INDEX_MAP_MAX_DEFAULT;
    if (opts->map_size > map_max) {
        ix_set_error("index open %s: the initial map size exceeds the map limit", opts->path);
        return SV_EINVAL;
    }
    return 0;
}

/* Make the directory if asked; without create, a missing data.mdb means
 * there is no index. */
static int prepare_directory(const sv_index_options *opts)
{
    char data[4096];
    struct stat st;

    if (opts->create && mkdir(opts->path, 0700) != 0 && errno != EEXIST) {
        int saved = errno;
        ix_set_error("index open %s: cannot create the directory: %s", opts->path,
                     strerror(saved));
        errno = saved;
        return saved == EACCES ? SV_EPERM : SV_EERRNO;
    }
    if (opts->create)
        return 0;
    if ((size_t)snprintf(data, sizeof data, "%s/data.mdb", opts->path) >= sizeof data) {
        ix_set_error("index open: the index path is too long");
        return SV_EINVAL;
    }
    if (stat(data, &st) != 0) {
        ix_set_error("index open %s: no index there (%s); create one or check the "
                     "configured index path", opts->path, strerror(errno));
        return errno == EACCES ? SV_EPERM : SV_ENOTFOUND;
    }
    return 0;
}

static int open_db(sv_index *ix, MDB_txn *txn, const char *name, unsigned flags, MDB_dbi *dbi)
{
    int mrc = mdb_dbi_open(txn, name, flags, dbi);
    if (mrc == MDB_NOTFOUND) {
        ix_set_error("index open %s: the database '%s' is missing: this is not a "
                     "scanvault index, or it is damaged (reindex)", ix->path, name);
        return SV_ENOTFOUND;
    }
    if (mrc != 0)
        return ix_mdb_error(mrc, "open", ix->path);
    return 0;
}

/* A fresh environment: write the schema version and the key id. */
static int write_schema(sv_index *ix, MDB_txn *txn)
{
    uint8_t version[4];
    MDB_val k = {sizeof IX_META_SCHEMA - 1, (void *)IX_META_SCHEMA};
    MDB_val v = {sizeof version, version};
    int mrc;

    ix_put_le32(version, SV_INDEX_SCHEMA_VERSION);
    mrc = mdb_put(txn, ix->meta, &k, &v, MDB_NOOVERWRITE);
    if (mrc == 0) {
        k = (MDB_val){sizeof IX_META_KEY_ID - 1, (void *)IX_META_KEY_ID};
        v = (MDB_val){ix->key_id_len, ix->key_id};
        mrc = mdb_put(txn, ix->meta, &k, &v, MDB_NOOVERWRITE);
    }
    return mrc == 0 ? 0 : ix_mdb_error(mrc, "create schema", ix->path);
}

/* An existing environment: the schema version must be ours, the key id the
 * caller's (when given). */
static int check_schema(sv_index *ix, MDB_txn *txn, const MDB_val *version)
{
    MDB_val k = {sizeof IX_META_KEY_ID - 1, (void *)IX_META_KEY_ID}, v;
    uint32_t found;
    int mrc;

    if (version->mv_size != 4) {
        ix_set_error("index open %s: the schema version entry is damaged; reindex",
                     ix->path);
        return SV_EFORMAT;
    }
    found = ix_get_le32(version->mv_data);
    if (found != SV_INDEX_SCHEMA_VERSION) {
        ix_set_error("index open %s: the index has schema version %u but this build of "
                     "scanvault reads version %u; rebuild it with 'scanvault reindex' or "
                     "use a matching scanvault", ix->path, (unsigned)found,
                     (unsigned)SV_INDEX_SCHEMA_VERSION);
        return SV_EVERSION;
    }
    mrc = mdb_get(txn, ix->meta, &k, &v);
    if (mrc != 0 || v.mv_size == 0 || v.mv_size > SV_INDEX_KEY_ID_MAX) {
        ix_set_error("index open %s: the key id entry is missing or damaged; reindex",
                     ix->path);
        return SV_EINDEX;
    }
    if (ix->key_id_len != 0 &&
        (v.mv_size != ix->key_id_len || memcmp(v.mv_data, ix->key_id, v.mv_size) != 0)) {
        ix_set_error("index open %s: the index was built with a different key (key id "
                     "differs); use the key it was built with, or reindex with this key",
                     ix->path);
        return SV_EKEY;
    }
    memcpy(ix->key_id, v.mv_data, v.mv_size);
    ix->key_id_len = v.mv_size;
    return 0;
}

/* Open the five databases; on a fresh environment (create) make them. */
static int open_schema(sv_index *ix, bool create)
{
    MDB_txn *txn = NULL;
    MDB_val k = {sizeof IX_META_SCHEMA - 1, (void *)IX_META_SCHEMA}, v;
    unsigned mk = 0;
    bool is_new = false;
    int rc, mrc;

    mrc = mdb_txn_begin(ix->env, NULL, ix->read_only ? MDB_RDONLY : 0, &txn);
    if (mrc != 0)
        return ix_mdb_error(mrc, "open", ix->path);
    rc = open_db(ix, txn, IX_DB_META, create ? MDB_CREATE : 0, &ix->meta);
    if (rc != 0)
        goto out;
    mrc = mdb_get(txn, ix->meta, &k, &v);
    if (mrc == MDB_NOTFOUND && create) {
        is_new = true;
        mk = MDB_CREATE;
    } else if (mrc == MDB_NOTFOUND) {
        ix_set_error("index open %s: no schema version: not a scanvault index", ix->path);
        rc = SV_ENOTFOUND;
        goto out;
    } else if (mrc != 0) {
        rc = ix_mdb_error(mrc, "open", ix->path);
        goto out;
    } else if ((rc = check_schema(ix, txn, &v)) != 0) {
        goto out;
    }
    if ((rc = open_db(ix, txn, IX_DB_DOCS, mk, &ix->docs)) != 0 ||
        (rc = open_db(ix, txn, IX_DB_BY_MRN, mk | MDB_DUPSORT, &ix->by_mrn)) != 0 ||
        (rc = open_db(ix, txn, IX_DB_BY_HASH, mk, &ix->by_hash)) != 0 ||
        (rc = open_db(ix, txn, IX_DB_REVIEW, mk, &ix->review)) != 0)
        goto out;
    if (is_new && (rc = write_schema(ix, txn)) != 0)
        goto out;
    mrc = mdb_txn_commit(txn); /* also makes the dbi handles usable later */
    txn = NULL;
    if (mrc != 0)
        rc = ix_mdb_error(mrc, "open", ix->path);
out:
    if (txn != NULL)
        mdb_txn_abort(txn);
    return rc;
}

/*
 * LMDB maps lock.mdb and writes reader slots through the mapping. A lock
 * file made sparse (LMDB only ftruncate()s it) on a full filesystem then
 * kills the process with SIGBUS on the first slot write. Allocate its
 * blocks first, so a full disk is an error we can report. The size is
 * LMDB's own: a 192-byte header plus 64 bytes per reader slot after the
 * first.
 */
static int preallocate_lock_file(const sv_index *ix, unsigned max_readers)
{
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/lock.mdb", ix->path);
    if (n < 0 || (size_t)n >= sizeof path) {
        ix_set_error("index open %s: path too long", ix->path);
        return SV_EINVAL;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        if (errno == ENOENT || errno == EROFS || errno == EACCES)
            return 0; /* mdb_env_open reports these in its own words */
        ix_set_error("index open %s: cannot create lock.mdb: %s", ix->path, strerror(errno));
        return SV_EERRNO;
    }
    off_t want = (off_t)(192 + 64 * ((max_readers ? max_readers : 126) - 1));
    want = (want + 4095) / 4096 * 4096;
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) == 0 && st.st_size > want)
        want = st.st_size;
    int err = posix_fallocate(fd, 0, want);
    if (err == ENOSPC || err == EDQUOT) {
        ix_set_error("index open %s: the disk is full (no room for lock.mdb); free space "
                     "and try again",
                     ix->path);
        rc = SV_EFULL;
    }
    /* Other errors (a filesystem without fallocate): let LMDB go on. */
    close(fd);
    return rc;
}

static int open_env(sv_index *ix, const sv_index_options *opts)
{
    size_t map_size = opts->map_size ? opts->map_size : SV_INDEX_MAP_DEFAULT;
    unsigned flags = MDB_NOTLS | (opts->read_only ? MDB_RDONLY : 0);
    MDB_stat st;
    int mrc, dead = 0;

    if (map_size > ix->map_max)
        map_size = ix->map_max;
    int rc = preallocate_lock_file(ix, opts->max_readers);
    if (rc != 0)
        return rc;
    mrc = mdb_env_create(&ix->env);
    if (mrc == 0)
        mrc = mdb_env_set_maxdbs(ix->env, 8);
    if (mrc == 0)
        mrc = mdb_env_set_mapsize(ix->env, map_size);
    if (mrc == 0 && opts->max_readers)
        mrc = mdb_env_set_maxreaders(ix->env, opts->max_readers);
    if (mrc == 0)
        mrc = mdb_env_open(ix->env, ix->path, flags, 0600);
    if (mrc == MDB_INVALID) {
        ix_set_error("index open %s: data.mdb is not an LMDB file or is damaged; restore "
                     "it or reindex", ix->path);
        return SV_EINDEX;
    }
    if (mrc != 0)
        return ix_mdb_error(mrc, "open", ix->path);
    mrc = mdb_reader_check(ix->env, &dead);
    if (mrc != 0)
        return ix_mdb_error(mrc, "open", ix->path);
    ix->stale_readers_cleared = dead > 0 ? (unsigned)dead : 0;
    mrc = mdb_env_stat(ix->env, &st);
    if (mrc != 0)
        return ix_mdb_error(mrc, "open", ix->path);
    ix->page_size = st.ms_psize;
    return 0;
}

int sv_index_create(sv_index **out, const sv_index_options *opts)
{
    pthread_rwlockattr_t attr;
    sv_index *ix = NULL;
    int rc;

    ix_clear_error();
    if (out == NULL)
        return SV_EINVAL;
    *out = NULL;
    if ((rc = check_options(opts)) != 0 || (rc = prepare_directory(opts)) != 0)
        return rc;
    ix = calloc(1, sizeof *ix);
    if (ix == NULL || (ix->path = strdup(opts->path)) == NULL) {
        ix_set_error("index open: out of memory");
        rc = SV_ENOMEM;
        goto out;
    }
    ix->read_only = opts->read_only;
    ix->map_max = opts->map_max ? opts->map_max : SV_INDEX_MAP_MAX_DEFAULT;
    if (opts->key_id_len) {
        memcpy(ix->key_id, opts->key_id, opts->key_id_len);
        ix->key_id_len = opts->key_id_len;
    }
    /* Writers first: a resize must not starve behind a stream of readers. */
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    rc = pthread_rwlock_init(&ix->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    if (rc != 0) {
        ix_set_error("index open: cannot make a lock");
        rc = SV_ENOMEM;
        goto out;
    }
    ix->lock_ready = true;
    if ((rc = open_env(ix, opts)) != 0 || (rc = open_schema(ix, opts->create)) != 0)
        goto out;
    *out = ix;
    ix = NULL;
out:
    if (ix != NULL) {
        int saved = errno;
        sv_index_destroy(ix);
        errno = saved;
    }
    return rc;
}

void sv_index_destroy(sv_index *ix)
{
    if (ix == NULL)
        return;
    if (ix->env != NULL)
        mdb_env_close(ix->env); /* also closes the dbi handles */
    if (ix->lock_ready)
        pthread_rwlock_destroy(&ix->lock);
    free(ix->path);
    free(ix);
}
