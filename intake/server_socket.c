/*
 * server_socket.c - the socket file of the service (docs/access.md): its
 * directory, a stale one left by a crash, its mode and group. The socket is
 * bound, given mode 0660 and its group, and only then listened on, so there
 * is no moment at which someone outside the group could connect.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "intake_internal.h"

/* Make the socket's directory when it is missing (one level, 0755). */
static int make_parent(const char *path)
{
    char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == NULL || slash == dir)
        return 0;
    *slash = '\0';
    struct stat st;
    if (stat(dir, &st) == 0)
        return S_ISDIR(st.st_mode) ? 0 : intake_fail(SV_EERRNO, "%s is not a directory", dir);
    if (errno != ENOENT || (mkdir(dir, 0755) != 0 && errno != EEXIST))
        return intake_fail(SV_EERRNO, "cannot create %s for the socket: %s", dir,
                           strerror(errno));
    chmod(dir, 0755);
    return 0;
}

/* A socket file already at the path: another live service, or a leftover. */
static int clear_stale_socket(const struct sockaddr_un *addr)
{
    struct stat st;
    if (lstat(addr->sun_path, &st) != 0)
        return errno == ENOENT ? 0
                               : intake_fail(SV_EERRNO, "cannot check %s: %s", addr->sun_path,
                                             strerror(errno));
    if (!S_ISSOCK(st.st_mode))
        return intake_fail(SV_EEXIST, "%s exists and is not a socket: move it away or set "
                                      "[access] socket",
                           addr->sun_path);
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe < 0)
        return intake_fail(SV_EERRNO, "socket: %s", strerror(errno));
    int r = connect(probe, (const struct sockaddr *)addr, sizeof *addr);
    int err = errno;
    close(probe);
    if (r == 0)
        return intake_fail(SV_EEXIST, "another scanvault service answers on %s: give this "
                                      "one its own [access] socket",
                           addr->sun_path);
    if (err != ECONNREFUSED && err != ENOENT)
        return intake_fail(SV_EERRNO, "cannot check %s: %s", addr->sun_path, strerror(err));
    if (unlink(addr->sun_path) != 0 && errno != ENOENT)
        return intake_fail(SV_EERRNO, "cannot remove the stale socket %s: %s", addr->sun_path,
                           strerror(errno));
    return 0;
}

/* Group of the socket; a missing group is a warning, not a failure. */
static void set_socket_group(const char *path, const char *group)
{
    if (group[0] == '\0')
        return;
    char buf[16384];
    struct group gr, *found = NULL;
    if (getgrnam_r(group, &gr, buf, sizeof buf, &found) != 0 || found == NULL) {
        intake_log(SV_LOG_WARNING, "[access] socket_group: there is no group %s; the socket "
                                   "keeps the service's group (mode 0660)",
                   group);
        return;
    }
    if (chown(path, (uid_t)-1, found->gr_gid) != 0)
        intake_log(SV_LOG_WARNING, "cannot give the socket %s to group %s: %s; it keeps the "
                                   "service's group",
                   path, group, strerror(errno));
}

int server_socket_open(const sv_intake_settings *s, int *fd, char *path, size_t path_len,
                       dev_t *dev, ino_t *ino)
{
    *fd = -1;
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    size_t len = strlen(s->access_socket);
    if (len == 0 || len >= sizeof addr.sun_path || len >= path_len)
        return intake_fail(SV_ELIMIT, "[access] socket: the path must be 1 to %zu bytes",
                           sizeof addr.sun_path - 1);
    memcpy(addr.sun_path, s->access_socket, len + 1);
    int rc;
    if ((rc = make_parent(addr.sun_path)) != 0 || (rc = clear_stale_socket(&addr)) != 0)
        return rc;
    *fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (*fd < 0)
        return intake_fail(SV_EERRNO, "socket: %s", strerror(errno));
    /* Nobody can connect before listen(): mode and group are set first. */
    if (bind(*fd, (struct sockaddr *)&addr, sizeof addr) != 0)
        return intake_fail(SV_EERRNO, "cannot bind %s: %s", addr.sun_path, strerror(errno));
    memcpy(path, s->access_socket, len + 1);
    struct stat st;
    if (chmod(addr.sun_path, 0660) != 0 || lstat(addr.sun_path, &st) != 0) {
        rc = intake_fail(SV_EERRNO, "cannot set up %s: %s", addr.sun_path, strerror(errno));
        unlink(addr.sun_path);
        return rc;
    }
    *dev = st.st_dev;
    *ino = st.st_ino;
    set_socket_group(addr.sun_path, s->access_socket_group);
    if (listen(*fd, 64) != 0) {
        rc = intake_fail(SV_EERRNO, "cannot listen on %s: %s", addr.sun_path, strerror(errno));
        unlink(addr.sun_path);
        return rc;
    }
    return 0;
}

void server_socket_remove(const char *path, dev_t dev, ino_t ino)
{
    struct stat st;
    if (lstat(path, &st) == 0 && st.st_dev == dev && st.st_ino == ino)
        unlink(path);
}

/* Most groups read for a caller (the kernel allows 65536). */
#define PEER_GROUPS_MAX 65536

/* The caller as the kernel sees it: uid, groups (primary included), name. */
int server_identify(server_conn *c)
{
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
        return SV_EERRNO;
    c->uid = (uint32_t)cred.uid;
    size_t cap = 64;
    for (;;) {
        gid_t *gids = realloc(c->gids, (cap + 1) * sizeof *gids);
        if (gids == NULL)
            return SV_ENOMEM;
        c->gids = gids;
        socklen_t glen = (socklen_t)(cap * sizeof *gids);
        if (getsockopt(c->fd, SOL_SOCKET, SO_PEERGROUPS, gids, &glen) == 0) {
            c->n_gids = glen / sizeof *gids;
            break;
        }
        if (errno != ERANGE || cap >= PEER_GROUPS_MAX)
            return SV_EERRNO;
        cap = glen / sizeof *gids > cap ? glen / sizeof *gids : 2 * cap;
    }
    c->gids[c->n_gids++] = cred.gid;
    char buf[16384];
    struct passwd pw, *found = NULL;
    if (getpwuid_r(cred.uid, &pw, buf, sizeof buf, &found) == 0 && found != NULL)
        snprintf(c->user, sizeof c->user, "%s", found->pw_name);
    else
        snprintf(c->user, sizeof c->user, "%u", c->uid);
    return 0;
}
