/*
 * vault.c - the vault directory: <vault>/objects/<xx>/<docid>.svd for the
 * objects, <vault>/tmp/ for temp files on the same filesystem (so a rename
 * publishes an object atomically). Also the header rewrites (key rotation,
 * metadata update) and the start-up cleanup of temp files.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto_internal.h"

#define OBJECT_SUFFIX ".svd"
#define TMP_SUFFIX ".tmp"
/* "xx/" + docid + ".svd" */
#define RELPATH_MAX (3 + SV_DOCID_MAX + sizeof OBJECT_SUFFIX)

struct sv_vault {
    char *dir;
    int dir_fd;
    int objects_fd;
    int tmp_fd;
};

int sv_vault_init_dir(const char *vault_dir)
{
    if (vault_dir == NULL || vault_dir[0] == '\0')
        return cr_fail(SV_EINVAL, "no vault directory given");
    char path[4096];
    int rc = sv_durable_mkdir(vault_dir, 0700);
    for (int i = 0; rc == 0 && i < 2; i++) {
        int n = snprintf(path, sizeof path, "%s/%s", vault_dir, i == 0 ? "objects" : "tmp");
        if (n < 0 || (size_t)n >= sizeof path)
            return cr_fail(SV_ELIMIT, "vault directory path too long");
        rc = sv_durable_mkdir(path, 0700);
    }
    return rc;
}

void sv_vault_destroy(sv_vault *vault)
{
    if (vault == NULL)
        return;
    if (vault->tmp_fd >= 0)
        close(vault->tmp_fd);
    if (vault->objects_fd >= 0)
        close(vault->objects_fd);
    if (vault->dir_fd >= 0)
        close(vault->dir_fd);
    free(vault->dir);
    free(vault);
}

static int open_subdir(int dir_fd, const char *name, const char *vault_dir, int *out)
{
    *out = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (*out >= 0)
        return 0;
    if (errno == ENOENT)
        return cr_fail(SV_ENOTFOUND, "vault %s has no %s/ directory (run 'scanvault init')",
                       vault_dir, name);
    return cr_fail_errno("vault %s: cannot open %s/", vault_dir, name);
}

int sv_vault_create(sv_vault **out, const char *vault_dir)
{
    if (out == NULL)
        return cr_fail(SV_EINVAL, "sv_vault_create: no output");
    *out = NULL;
    if (vault_dir == NULL || vault_dir[0] == '\0')
        return cr_fail(SV_EINVAL, "no vault directory given");
    sv_vault *v = calloc(1, sizeof *v);
    if (v == NULL)
        return cr_fail(SV_ENOMEM, "out of memory");
    v->dir_fd = v->objects_fd = v->tmp_fd = -1;
    int rc;
    v->dir = strdup(vault_dir);
    if (v->dir == NULL) {
        rc = cr_fail(SV_ENOMEM, "out of memory");
        goto out;
    }
    v->dir_fd = open(vault_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (v->dir_fd < 0) {
        rc = errno == ENOENT ? cr_fail(SV_ENOTFOUND, "vault %s does not exist (run "
                                                     "'scanvault init')",
                                       vault_dir)
                             : cr_fail_errno("vault %s: cannot open", vault_dir);
        goto out;
    }
    rc = open_subdir(v->dir_fd, "objects", vault_dir, &v->objects_fd);
    if (rc == 0)
        rc = open_subdir(v->dir_fd, "tmp", vault_dir, &v->tmp_fd);
    if (rc != 0)
        goto out;
    struct stat a, b;
    if (fstat(v->objects_fd, &a) != 0 || fstat(v->tmp_fd, &b) != 0) {
        rc = cr_fail_errno("vault %s: cannot stat", vault_dir);
        goto out;
    }
    /* A rename is atomic only within one filesystem. */
    if (a.st_dev != b.st_dev) {
        rc = cr_fail(SV_ECONFIG, "vault %s: objects/ and tmp/ are on different filesystems",
                     vault_dir);
        goto out;
    }
    *out = v;
    v = NULL;
out:
    sv_vault_destroy(v);
    return rc;
}

int cr_vault_tmp_dirfd(const sv_vault *vault)
{
    return vault->tmp_fd;
}

int cr_vault_objects_dirfd(const sv_vault *vault)
{
    return vault->objects_fd;
}

/* The two characters naming docid's fan-out directory. */
void cr_vault_fanout_of(const char *docid, char out[3])
{
    const char *dash = strchr(docid, '-');
    const char *r = dash != NULL ? dash + 1 : docid;
    out[0] = r[0];
    out[1] = r[1];
    out[2] = '\0';
}

static int relpath(const char *docid, char out[RELPATH_MAX])
{
    if (!sv_docid_is_valid(docid))
        return cr_fail(SV_EINVAL, "not a valid docid");
    char fan[3];
    cr_vault_fanout_of(docid, fan);
    snprintf(out, RELPATH_MAX, "%s/%s%s", fan, docid, OBJECT_SUFFIX);
    return 0;
}

int sv_vault_object_path(const sv_vault *vault, const char *docid, char *buf, size_t len)
{
    if (buf != NULL && len > 0)
        buf[0] = '\0';
    if (vault == NULL || buf == NULL)
        return cr_fail(SV_EINVAL, "vault object path: no vault or no buffer");
    char rel[RELPATH_MAX];
    int rc = relpath(docid, rel);
    if (rc != 0)
        return rc;
    int n = snprintf(buf, len, "%s/objects/%s", vault->dir, rel);
    if (n < 0 || (size_t)n >= len) {
        if (len > 0)
            buf[0] = '\0';
        return cr_fail(SV_ELIMIT, "vault object %s: path does not fit", docid);
    }
    return 0;
}

int cr_vault_object_absent(const sv_vault *vault, const char *docid)
{
    char rel[RELPATH_MAX];
    int rc = relpath(docid, rel);
    if (rc != 0)
        return rc;
    struct stat st;
    if (fstatat(vault->objects_fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0)
        return cr_fail(SV_EEXIST, "vault object %s exists already", docid);
    if (errno != ENOENT)
        return cr_fail_errno("vault object %s: cannot stat", docid);
    return 0;
}

int cr_vault_publish(sv_vault *vault, const char *tmp, const char *docid, bool replace)
{
    char fan[3], name[SV_DOCID_MAX + sizeof OBJECT_SUFFIX];
    cr_vault_fanout_of(docid, fan);
    snprintf(name, sizeof name, "%s%s", docid, OBJECT_SUFFIX);
    if (mkdirat(vault->objects_fd, fan, 0700) == 0) {
        /* A new fan-out directory must itself survive a crash. */
        int rc = cr_fsync_dirfd(vault->objects_fd, "vault objects/");
        if (rc != 0)
            return rc;
    } else if (errno != EEXIST) {
        return cr_fail_errno("vault object %s: cannot create objects/%s/", docid, fan);
    }
    int fan_fd = openat(vault->objects_fd, fan, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fan_fd < 0)
        return cr_fail_errno("vault object %s: cannot open objects/%s/", docid, fan);
    char what[SV_DOCID_MAX + 32];
    snprintf(what, sizeof what, "vault object %s", docid);
    int rc = cr_publish(vault->tmp_fd, tmp, fan_fd, name, replace, what);
    close(fan_fd);
    return rc;
}

/* Open docid's object file for reading. */
static int open_object(sv_vault *vault, const char *docid, int *fd_out)
{
    *fd_out = -1;
    char rel[RELPATH_MAX];
    int rc = relpath(docid, rel);
    if (rc != 0)
        return rc;
    int fd = openat(vault->objects_fd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT)
            return cr_fail(SV_ENOTFOUND, "vault object %s: not in the vault", docid);
        return cr_fail_errno("vault object %s: cannot open", docid);
    }
    *fd_out = fd;
    return 0;
}

int sv_vault_open(sv_vault *vault, const sv_keyring *ring, const char *docid,
                  sv_vault_sink sink, void *ctx, sv_vault_meta *meta_out, unsigned flags)
{
    if (meta_out != NULL)
        memset(meta_out, 0, sizeof *meta_out);
    if (vault == NULL)
        return cr_fail(SV_EINVAL, "vault object: no vault");
    int fd;
    int rc = open_object(vault, docid, &fd);
    if (rc != 0)
        return rc;
    rc = sv_vault_open_fd(ring, fd, docid, sink, ctx, meta_out, flags);
    close(fd);
    return rc;
}

int sv_vault_read_meta(sv_vault *vault, const sv_keyring *ring, const char *docid,
                       sv_vault_meta *out)
{
    if (out != NULL)
        memset(out, 0, sizeof *out);
    if (vault == NULL)
        return cr_fail(SV_EINVAL, "vault object: no vault");
    int fd;
    int rc = open_object(vault, docid, &fd);
    if (rc != 0)
        return rc;
    rc = sv_vault_read_meta_fd(ring, fd, docid, out);
    close(fd);
    return rc;
}

/*
 * Rewrite the header of docid's object: unlock it with old_ring, build a new
 * one under new_ring (with new_meta sealed afresh, or the old sealed
 * metadata kept), copy the body as it is, publish over the old object.
 */
static int rewrite_header(sv_vault *vault, const sv_keyring *old_ring,
                          const sv_keyring *new_ring, const char *docid,
                          const sv_vault_meta *new_meta)
{
    int fd = -1, tmp_fd = -1, rc;
    char tmp[CR_TMP_NAME_MAX] = "";
    cr_header *old_h = malloc(sizeof *old_h), *new_h = malloc(sizeof *new_h);
    sv_vault_meta *old_meta = malloc(sizeof *old_meta);
    cr_object_keys *keys = NULL;
    cr_fd_source in;
    cr_fd_source_init(&in, -1);
    cr_source src = {.fn = cr_fd_source_read, .ctx = &in};
    if (old_h == NULL || new_h == NULL || old_meta == NULL) {
        rc = cr_fail(SV_ENOMEM, "vault object %s: out of memory", docid);
        goto out;
    }
    rc = open_object(vault, docid, &fd);
    in.fd = fd;
    if (rc == 0)
        rc = cr_header_read(&src, old_h, docid);
    if (rc == 0)
        rc = cr_header_unlock(old_h, old_ring, docid, &keys, old_meta);
    if (rc != 0)
        goto out;
    if (new_meta != NULL &&
        (new_meta->size != old_meta->size ||
         !cr_equal_ct(new_meta->sha256, old_meta->sha256, SV_SHA256_LEN))) {
        rc = cr_fail(SV_EINVAL,
                     "vault object %s: new metadata must keep the size and SHA-256",
                     docid);
        goto out;
    }
    rc = cr_header_build(new_h, new_ring, keys, old_h->chunk_size, docid, new_meta, old_h);
    if (rc != 0)
        goto out;
    rc = cr_tmp_create(vault->tmp_fd, docid, 0400, tmp, &tmp_fd);
    if (rc == 0)
        rc = cr_write_all(tmp_fd, new_h->raw, new_h->len);
    if (rc == 0)
        rc = cr_copy_rest(fd, tmp_fd, docid);
    if (rc == 0)
        rc = cr_sync_close(&tmp_fd, docid);
    if (rc == 0)
        rc = cr_vault_publish(vault, tmp, docid, true);
    if (rc == 0)
        tmp[0] = '\0';
out:
    cr_tmp_abandon(vault->tmp_fd, tmp, &tmp_fd);
    cr_fd_source_free(&in);
    if (fd >= 0)
        close(fd);
    cr_object_keys_free(keys);
    sv_vault_meta_wipe(old_meta);
    free(old_meta);
    free(old_h);
    if (new_h != NULL)
        cr_wipe(new_h, sizeof *new_h);
    free(new_h);
    return rc;
}

int sv_vault_rewrap(sv_vault *vault, const sv_keyring *old_ring, const sv_keyring *new_ring,
                    const char *docid)
{
    if (vault == NULL || old_ring == NULL || new_ring == NULL)
        return cr_fail(SV_EINVAL, "rewrap: no vault or no key");
    return rewrite_header(vault, old_ring, new_ring, docid, NULL);
}

int sv_vault_update_meta(sv_vault *vault, const sv_keyring *ring, const sv_vault_meta *meta)
{
    if (vault == NULL || ring == NULL)
        return cr_fail(SV_EINVAL, "update metadata: no vault or no key");
    int rc = sv_vault_meta_check(meta);
    if (rc != 0)
        return rc;
    return rewrite_header(vault, ring, ring, meta->docid, meta);
}

int sv_vault_clean_tmp(sv_vault *vault, size_t *removed)
{
    if (removed != NULL)
        *removed = 0;
    if (vault == NULL)
        return cr_fail(SV_EINVAL, "clean tmp: no vault");
    int fd = dup(vault->tmp_fd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (d == NULL) {
        if (fd >= 0)
            close(fd);
        return cr_fail_errno("vault %s: cannot list tmp/", vault->dir);
    }
    rewinddir(d);
    int rc = 0;
    size_t count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n <= strlen(TMP_SUFFIX) || strcmp(e->d_name + n - strlen(TMP_SUFFIX), TMP_SUFFIX) != 0)
            continue;
        if (unlinkat(vault->tmp_fd, e->d_name, 0) == 0)
            count++;
        else if (errno != ENOENT)
            rc = cr_fail_errno("vault %s: cannot remove a temp file", vault->dir);
    }
    closedir(d);
    if (rc == 0 && count > 0)
        rc = cr_fsync_dirfd(vault->tmp_fd, "vault tmp/");
    if (removed != NULL)
        *removed = count;
    return rc;
}
