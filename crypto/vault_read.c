/*
 * vault_read.c - opening a vault object: authenticate the header, then the
 * body one chunk at a time, releasing each chunk's plaintext only after its
 * tag was checked. Memory use is one chunk (two when reading a file: the read
 * buffer too) whatever the object's size.
 *
 * Framing needs no length fields: every chunk but the last holds exactly
 * chunk_size bytes of plaintext (a record of chunk_size + 16 bytes) and the
 * last holds fewer (0 .. chunk_size - 1), with the final flag in its
 * authenticated data. So a full record is never the last one, a short record
 * must be the last one, and end of file right after a full record means the
 * last chunk was cut off. Truncation, a dropped, swapped or repeated chunk,
 * and bytes appended after the last chunk all fail a tag check (or the
 * missing-last-chunk rule).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto_internal.h"

int sv_vault_sink_fd(void *ctx, const uint8_t *buf, size_t len)
{
    if (ctx == NULL)
        return cr_fail(SV_EINVAL, "sink: no file descriptor");
    return cr_write_all(*(const int *)ctx, buf, len);
}

/* The hash of what was released must be the sealed one. */
static int check_content(gcry_md_hd_t md, const sv_vault_meta *meta)
{
    if (!cr_equal_ct(gcry_md_read(md, GCRY_MD_SHA256), meta->sha256, SV_SHA256_LEN))
        return cr_fail(SV_EAUTH,
                       "vault object %s: the body does not match the sealed SHA-256",
                       meta->docid);
    return 0;
}

int cr_body_open(const cr_source *src, const cr_header *h, const cr_object_keys *keys,
                 const sv_vault_meta *meta, sv_vault_sink sink, void *ctx, unsigned flags)
{
    const char *who = meta->docid;
    cr_chunker c;
    gcry_md_hd_t md = NULL;
    uint64_t index = 0, total = 0;
    int rc = cr_chunker_init(&c, keys, h->chunk_size, who);
    if (rc != 0)
        return rc;
    if ((flags & SV_VAULT_CHECK_CONTENT) != 0 && gcry_md_open(&md, GCRY_MD_SHA256, 0) != 0) {
        md = NULL;
        rc = cr_fail(SV_ENOMEM, "vault object %s: cannot open SHA-256", who);
        goto out;
    }
    for (;; index++) {
        const uint8_t *record = NULL;
        size_t got = 0;
        rc = cr_source_take(src, c.record, &record, &got);
        if (rc == SV_EERRNO)
            rc = cr_fail_errno("vault object %s: cannot read chunk %llu", who,
                               (unsigned long long)index);
        if (rc != 0)
            goto out;
        bool is_final = got < c.record;
        if (is_final && got < CR_GCM_TAG_LEN) {
            rc = cr_fail(SV_ETRUNC,
                         "vault object %s: truncated %s chunk %llu (the last chunk is "
                         "missing); restore the object from a backup",
                         who, got == 0 ? "before" : "inside", (unsigned long long)index);
            goto out;
        }
        size_t len = got - CR_GCM_TAG_LEN;
        rc = cr_chunk_open(&c, index, is_final, record, len);
        if (rc != 0) {
            rc = cr_fail(rc,
                         "vault object %s: chunk %llu failed authentication (changed, "
                         "truncated, reordered, or another key); restore the object from "
                         "a backup",
                         who, (unsigned long long)index);
            goto out;
        }
        total += len;
        if (md != NULL)
            gcry_md_write(md, c.buf, len);
        if (sink != NULL && len > 0) {
            rc = sink(ctx, c.buf, len);
            if (rc > 0)
                rc = SV_EINVAL; /* the contract is 0 or a negative SV_E* code */
            if (rc != 0)
                goto out;
        }
        if (is_final)
            break;
    }
    if (total != meta->size) {
        rc = cr_fail(SV_EFORMAT, "vault object %s: body holds %llu bytes, metadata says %llu",
                     who, (unsigned long long)total, (unsigned long long)meta->size);
        goto out;
    }
    if (md != NULL)
        rc = check_content(md, meta);
out:
    cr_chunker_free(&c);
    if (md != NULL)
        gcry_md_close(md);
    return rc;
}

static int check_open_args(const sv_keyring *ring, bool has_input, const char *expected_docid)
{
    if (ring == NULL || !has_input)
        return cr_fail(SV_EINVAL, "vault object: no key or no input");
    if (expected_docid != NULL && !sv_docid_is_valid(expected_docid))
        return cr_fail(SV_EINVAL, "vault object: not a valid docid");
    return 0;
}

int sv_vault_open_stream(const sv_keyring *ring, const char *expected_docid,
                         sv_vault_source source, void *source_ctx, sv_vault_sink sink,
                         void *sink_ctx, sv_vault_meta *meta_out, unsigned flags)
{
    if (meta_out != NULL)
        memset(meta_out, 0, sizeof *meta_out);
    int rc = check_open_args(ring, source != NULL, expected_docid);
    if (rc != 0)
        return rc;
    cr_source src = {.fn = source, .ctx = source_ctx};
    cr_header *h = malloc(sizeof *h);
    sv_vault_meta *meta = malloc(sizeof *meta);
    cr_object_keys *keys = NULL;
    if (h == NULL || meta == NULL) {
        rc = cr_fail(SV_ENOMEM, "vault object: out of memory");
        goto out;
    }
    rc = cr_header_read(&src, h, expected_docid);
    if (rc != 0)
        goto out;
    rc = cr_header_unlock(h, ring, expected_docid, &keys, meta);
    if (rc != 0)
        goto out;
    rc = cr_body_open(&src, h, keys, meta, sink, sink_ctx, flags);
    if (rc == 0 && meta_out != NULL)
        memcpy(meta_out, meta, sizeof *meta);
out:
    cr_object_keys_free(keys);
    sv_vault_meta_wipe(meta);
    free(meta);
    free(h);
    return rc;
}

int sv_vault_open_fd(const sv_keyring *ring, int fd, const char *expected_docid,
                     sv_vault_sink sink, void *ctx, sv_vault_meta *meta_out, unsigned flags)
{
    if (meta_out != NULL)
        memset(meta_out, 0, sizeof *meta_out);
    int rc = check_open_args(ring, fd >= 0, expected_docid);
    if (rc != 0)
        return rc;
    /* A hint for a cold read from disk (a larger readahead window); harmless
     * when it does not apply (a pipe). */
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    cr_fd_source in;
    cr_fd_source_init(&in, fd);
    rc = sv_vault_open_stream(ring, expected_docid, cr_fd_source_read, &in, sink, ctx, meta_out,
                              flags);
    cr_fd_source_free(&in);
    return rc;
}

int sv_vault_read_meta_fd(const sv_keyring *ring, int fd, const char *expected_docid,
                          sv_vault_meta *out)
{
    if (out == NULL)
        return cr_fail(SV_EINVAL, "vault object: no output for the metadata");
    memset(out, 0, sizeof *out);
    int rc = check_open_args(ring, fd >= 0, expected_docid);
    if (rc != 0)
        return rc;
    cr_header *h = malloc(sizeof *h);
    if (h == NULL)
        return cr_fail(SV_ENOMEM, "vault object: out of memory");
    cr_fd_source in;
    cr_fd_source_init(&in, fd);
    cr_source src = {.fn = cr_fd_source_read, .ctx = &in};
    rc = cr_header_read(&src, h, expected_docid);
    if (rc == 0)
        rc = cr_header_unlock(h, ring, expected_docid, NULL, out);
    cr_fd_source_free(&in);
    free(h);
    return rc;
}
