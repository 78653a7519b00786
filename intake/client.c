/*
 * client.c - the `scanvault` command's end of the service's socket: connect,
 * introduce itself, and read the answers (docs/access.md). Each call of the
 * API (client_calls.c) sends one request and reads frames until END or
 * ERROR; this file turns those frames into SV_E* codes and messages.
 *
 * The client proves nothing about who it is: the service asks the kernel.
 * It only says which data directory it means, so that a command given
 * --data for another directory never talks to the wrong service.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "intake_internal.h"

int client_send(sv_client *c)
{
    if (c->fd < 0)
        return intake_fail(SV_EERRNO, "the connection to the service was given up");
    int rc = proto_send(c->fd, &c->out);
    if (rc == SV_ELIMIT)
        return intake_fail(rc, "the request is too large for the service's protocol");
    if (rc != 0)
        return intake_fail(rc, "the service hung up: %s", strerror(errno));
    return 0;
}

void client_hang_up(sv_client *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

int client_next(sv_client *c, proto_msg *m)
{
    if (c->fd < 0)
        return intake_fail(SV_EERRNO, "the connection to the service was given up");
    char why[256] = "";
    int rc = proto_read(&c->in, false, m, why, sizeof why);
    if (rc == 0)
        return 0;
    client_hang_up(c);
    if (rc == SV_ENOTFOUND || rc == SV_ETRUNC)
        return intake_fail(SV_ETRUNC, "the service hung up before its answer was complete (see "
                                      "its log)");
    if (rc == SV_EERRNO)
        return intake_fail(rc, "reading the service's answer: %s", strerror(errno));
    return intake_fail(rc, "a bad answer from the service: %s", why);
}

/* A code from the service, kept to the SV_E* table. */
static int known_code(int32_t code)
{
    if (code < 0 && strcmp(sv_strerror(code), sv_strerror(1)) != 0) /* not "unknown error" */
        return code;
    return SV_EFORMAT;
}

int client_refused(const proto_msg *m)
{
    char text[1025];
    proto_str(m, PT_TEXT, text, sizeof text);
    int code;
    switch (proto_u8(m, PT_KIND)) {
    case PROTO_ERR_NOT_AUTHORISED:
    case PROTO_ERR_ROLE:
    case PROTO_ERR_RATE_LIMIT: code = SV_EPERM; break;
    case PROTO_ERR_BUSY:
    case PROTO_ERR_UNAVAILABLE: code = SV_ETIMEOUT; break;
    case PROTO_ERR_OTHER_DATA: code = SV_EINVAL; break;
    case PROTO_ERR_PROTOCOL: code = known_code(proto_i32(m, PT_CODE)); break;
    default: code = known_code(proto_i32(m, PT_CODE)); break;
    }
    return intake_fail(code, "%s", text[0] != '\0' ? text : sv_strerror(code));
}

int client_ended(const proto_msg *m)
{
    int32_t code = proto_i32(m, PT_CODE);
    if (code == 0)
        return 0;
    char text[1025];
    proto_str(m, PT_TEXT, text, sizeof text);
    int rc = known_code(code);
    return intake_fail(rc, "%s", text[0] != '\0' ? text : sv_strerror(rc));
}

int client_unexpected(sv_client *c, const proto_msg *m)
{
    client_hang_up(c);
    return intake_fail(SV_EFORMAT, "an answer of type %u the request does not expect from the "
                                   "service",
                       m->type);
}

int sv_client_connect(sv_client **out, const char *socket_path, const char *data_dir)
{
    intake_clear_error();
    *out = NULL;
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    size_t len = socket_path != NULL ? strlen(socket_path) : 0;
    if (len == 0 || len >= sizeof addr.sun_path)
        return intake_fail(SV_ELIMIT, "the socket's path must be 1 to %zu bytes",
                           sizeof addr.sun_path - 1);
    if (data_dir != NULL && strlen(data_dir) >= SV_INTAKE_PATH_MAX)
        return intake_fail(SV_ELIMIT, "the data directory's path is too long");
    memcpy(addr.sun_path, socket_path, len + 1);
    sv_client *c = calloc(1, sizeof *c);
    if (c == NULL)
        return intake_fail(SV_ENOMEM, "out of memory");
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int rc = 0;
    if (c->fd < 0) {
        rc = intake_fail(SV_EERRNO, "socket: %s", strerror(errno));
        goto out;
    }
    c->in.fd = c->fd;
    if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        int err = errno;
        if (err == ENOENT || err == ECONNREFUSED || err == ENOTDIR)
            rc = intake_fail(SV_ENOTFOUND, "no service is listening on %s", socket_path);
        else if (err == EACCES || err == EPERM)
            rc = intake_fail(SV_EPERM, "the service's socket %s refuses you (%s): it is for "
                                       "the members of [access] socket_group",
                             socket_path, strerror(err));
        else
            rc = intake_fail(SV_EERRNO, "cannot connect to %s: %s", socket_path, strerror(err));
        goto out;
    }
    proto_start(&c->out, PM_HELLO);
    if (data_dir != NULL && data_dir[0] != '\0')
        proto_put_str(&c->out, PT_DATA_DIR, data_dir);
    /* A refusal may already be waiting: read it even when the send fails. */
    int send_rc = proto_send(c->fd, &c->out);
    proto_msg m;
    if ((rc = client_next(c, &m)) != 0) {
        if (send_rc != 0)
            rc = intake_fail(SV_EPERM, "the service at %s hung up at once", socket_path);
        goto out;
    }
    if (m.type == PM_ERROR) {
        rc = client_refused(&m);
        goto out;
    }
    if (m.type != PM_OK) {
        rc = client_unexpected(c, &m);
        goto out;
    }
    proto_str(&m, PT_TEXT, c->role, sizeof c->role);
    proto_str(&m, PT_DATA_DIR, c->data_dir, sizeof c->data_dir);
out:
    if (rc != 0) {
        sv_client_destroy(c);
        return rc;
    }
    *out = c;
    return 0;
}

void sv_client_destroy(sv_client *c)
{
    if (c == NULL)
        return;
    client_hang_up(c);
    /* The buffers held MRNs and documents (only what was used). */
    memset(c->in.buf, 0, c->in.end);
    memset(c->out.buf, 0, c->out.len);
    free(c);
}

const char *sv_client_role(const sv_client *c) { return c->role; }
const char *sv_client_data_dir(const sv_client *c) { return c->data_dir; }
