/*
 * vault_write.c - sealing a stream into a vault object.
 *
 * Order (docs/vault-format.md, "Writing"): temp file in the vault's tmp/,
 * header, body chunks, fsync, checked close, rename into objects/xx/, fsync
 * of objects/xx/. The final name appears only by the rename, so a reader (or
 * a crash) sees no object or the whole object. The input is read once, in
 * chunk-sized pieces: memory use does not depend on its size.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto_internal.h"

static int check_chunk_size(uint32_t size)
{
    if (size < SV_VAULT_CHUNK_MIN || size > SV_VAULT_CHUNK_MAX || (size & (size - 1)) != 0)
        return cr_fail(SV_EINVAL, "chunk size %u: must be a power of two in [%u, %u]", size,
                       SV_VAULT_CHUNK_MIN, SV_VAULT_CHUNK_MAX);
    return 0;
}

/* Pass sealed bytes on; an I/O error of the sink gets the object's name. */
static int put(sv_vault_sink sink, void *ctx, const uint8_t *buf, size_t len, const char *who)
{
    int rc = sink(ctx, buf, len);
    if (rc > 0) /* the contract is 0 or a negative SV_E* code */
        return cr_fail(SV_EINVAL, "vault object %s: the sink returned %d, not an error code", who,
                       rc);
    if (rc == SV_EERRNO)
        rc = cr_fail_errno("vault object %s: cannot write the sealed bytes", who);
    return rc;
}

/* Seal the body: each chunk straight from the source's bytes into one
 * record, passed to sink; a full chunk is never the last, so the last chunk
 * is the short one (possibly empty) at the end of the input. */
static int seal_body(const cr_source *src, sv_vault_sink sink, void *sink_ctx,
                     const cr_object_keys *keys, uint32_t chunk_size, const sv_vault_meta *meta)
{
    const char *who = meta->docid;
    cr_chunker c;
    uint64_t total = 0;
    int rc = cr_chunker_init(&c, keys, chunk_size, who);
    if (rc != 0)
        return rc;
    for (uint64_t index = 0;; index++) {
        const uint8_t *plain = NULL;
        size_t got = 0;
        rc = cr_source_take(src, chunk_size, &plain, &got);
        if (rc == SV_EERRNO)
            rc = cr_fail_errno("vault object %s: cannot read the input", who);
        if (rc != 0)
            goto out;
        bool is_final = got < chunk_size;
        rc = cr_chunk_seal(&c, index, is_final, plain, got);
        if (rc != 0)
            goto out;
        rc = put(sink, sink_ctx, c.buf, got + CR_GCM_TAG_LEN, who);
        if (rc != 0)
            goto out;
        total += got;
        if (is_final)
            break;
    }
    if (total != meta->size)
        rc = cr_fail(SV_EINVAL,
                     "vault object %s: the input held %llu bytes, the metadata says %llu "
                     "(did the file change?)",
                     who, (unsigned long long)total, (unsigned long long)meta->size);
out:
    cr_chunker_free(&c);
    return rc;
}

int sv_vault_seal_stream(const sv_keyring *ring, const sv_vault_meta *meta, uint32_t chunk_size,
                         sv_vault_source source, void *source_ctx, sv_vault_sink sink,
                         void *sink_ctx)
{
    if (ring == NULL || source == NULL || sink == NULL)
        return cr_fail(SV_EINVAL, "seal: no key, input or output");
    int rc = sv_vault_meta_check(meta);
    if (rc != 0)
        return rc;
    if (chunk_size == 0)
        chunk_size = SV_VAULT_CHUNK_DEFAULT;
    rc = check_chunk_size(chunk_size);
    if (rc != 0)
        return rc;
    const char *who = meta->docid;
    cr_object_keys *keys = NULL;
    cr_header *h = malloc(sizeof *h);
    if (h == NULL) {
        rc = cr_fail(SV_ENOMEM, "vault object %s: out of memory", who);
        goto out;
    }
    rc = cr_object_keys_new(&keys);
    if (rc == 0)
        rc = cr_header_build(h, ring, keys, chunk_size, who, meta, NULL);
    if (rc == 0)
        rc = put(sink, sink_ctx, h->raw, h->len, who);
    if (rc == 0) {
        cr_source src = {.fn = source, .ctx = source_ctx};
        rc = seal_body(&src, sink, sink_ctx, keys, chunk_size, meta);
    }
out:
    cr_object_keys_free(keys);
    if (h != NULL)
        cr_wipe(h, sizeof *h);
    free(h);
    return rc;
}

int sv_vault_seal_fd(sv_vault *vault, const sv_keyring *ring, int in_fd,
                     const sv_vault_meta *meta, const sv_vault_seal_opts *opts)
{
    if (vault == NULL || ring == NULL || in_fd < 0)
        return cr_fail(SV_EINVAL, "seal: no vault, key or input");
    int rc = sv_vault_meta_check(meta);
    if (rc != 0)
        return rc;
    uint32_t chunk_size = opts != NULL ? opts->chunk_size : 0;
    rc = check_chunk_size(chunk_size != 0 ? chunk_size : SV_VAULT_CHUNK_DEFAULT);
    if (rc != 0)
        return rc;
    bool replace = opts != NULL && opts->replace;
    const char *who = meta->docid;
    char tmp[CR_TMP_NAME_MAX] = "";
    int fd = -1;
    cr_fd_source in;
    cr_fd_source_init(&in, in_fd);
    if (!replace) {
        rc = cr_vault_object_absent(vault, who);
        if (rc != 0)
            goto out;
    }
    rc = cr_tmp_create(cr_vault_tmp_dirfd(vault), who, 0400, tmp, &fd);
    if (rc != 0)
        goto out;
    posix_fadvise(in_fd, 0, 0, POSIX_FADV_SEQUENTIAL); /* a hint; fails on a pipe */
    rc = sv_vault_seal_stream(ring, meta, chunk_size, cr_fd_source_read, &in, sv_vault_sink_fd,
                              &fd);
    if (rc != 0)
        goto out;
    rc = cr_sync_close(&fd, who);
    if (rc != 0)
        goto out;
    rc = cr_vault_publish(vault, tmp, who, replace);
    if (rc == 0)
        tmp[0] = '\0';
out:
    cr_tmp_abandon(cr_vault_tmp_dirfd(vault), tmp, &fd);
    cr_fd_source_free(&in);
    return rc;
}
