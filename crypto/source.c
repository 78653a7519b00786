/*
 * source.c - where the stream code (vault_write.c, vault_read.c) takes its
 * input: bytes in memory, handed over without a copy, or a file descriptor
 * read into one buffer. The object format itself never touches a file.
 */
#include <stdlib.h>
#include <string.h>

#include "crypto_internal.h"

int cr_source_take(const cr_source *src, size_t want, const uint8_t **data, size_t *got)
{
    *data = NULL;
    *got = 0;
    int rc = src->fn(src->ctx, want, data, got);
    if (rc > 0) /* the contract is 0 or a negative SV_E* code */
        return cr_fail(SV_EINVAL, "vault stream: the source returned %d, not an error code", rc);
    if (rc != 0)
        return rc;
    if (*got > want || (*got > 0 && *data == NULL))
        return cr_fail(SV_EINVAL, "vault stream: the source returned more than was asked");
    return 0;
}

int sv_vault_source_memory(void *ctx, size_t want, const uint8_t **data, size_t *got)
{
    sv_vault_memory *m = ctx;
    if (m == NULL || m->pos > m->len || (m->data == NULL && m->len > 0))
        return cr_fail(SV_EINVAL, "vault stream: no memory to read");
    size_t left = m->len - m->pos;
    *got = want < left ? want : left;
    *data = *got > 0 ? m->data + m->pos : NULL;
    m->pos += *got;
    return 0;
}

void cr_fd_source_init(cr_fd_source *s, int fd)
{
    s->fd = fd;
    s->buf = NULL;
    s->cap = 0;
}

void cr_fd_source_free(cr_fd_source *s)
{
    if (s->buf != NULL)
        cr_wipe(s->buf, s->cap);
    free(s->buf);
    s->buf = NULL;
    s->cap = 0;
}

int cr_fd_source_read(void *ctx, size_t want, const uint8_t **data, size_t *got)
{
    cr_fd_source *s = ctx;
    if (want > s->cap) {
        uint8_t *bigger = malloc(want);
        if (bigger == NULL)
            return cr_fail(SV_ENOMEM, "vault stream: out of memory for a read buffer");
        cr_fd_source_free(s);
        s->buf = bigger;
        s->cap = want;
    }
    *data = s->buf;
    return cr_read_full(s->fd, s->buf, want, got);
}
