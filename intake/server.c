/*
 * server.c - the service's socket: who is calling, with which role, how
 * many documents they took this hour, and the threads that serve them
 * (docs/access.md). What each request does is in server_requests.c.
 *
 * Identity comes from the kernel only: SO_PEERCRED gives the caller's uid
 * and SO_PEERGROUPS its groups as they were when it connected; the user
 * name is the one getpwuid_r() gives for that uid. Nothing the client sends
 * names a user.
 *
 * One thread accepts; each connection gets a thread of its own, at most
 * SV_SERVER_CONNECTIONS at once. The store is shared: a request holds a
 * read lock on it for its whole run, and the service takes the write lock
 * to swap the store on a configuration reload, so a reload waits for the
 * requests in flight and no request ever sees a store being closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "intake_internal.h"

#define RATE_WINDOW_S 3600

/* One user's retrievals in the last hour, oldest first. */
typedef struct rate_user {
    uint32_t uid;
    int64_t *times;   /* monotonic seconds, one per document */
    size_t n, cap;
} rate_user;

typedef struct conn_slot {
    pthread_t thread;
    bool is_used;     /* a thread was started and not yet joined */
    bool is_done;     /* ... and it has finished */
    int fd;           /* the connection (guarded by mutex; -1 once closed) */
    uid_t uid;        /* its peer, as SO_PEERCRED gave it at accept */
} conn_slot;

/* Connections one user (other than root and the service user) may hold at
 * once: one account must not be able to take every slot and lock the
 * others out. */
#define CONNECTIONS_PER_UID 4

/* How long a reload waits for requests in flight before cutting them. */
#define DETACH_GRACE_S 10

struct sv_server {
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    int listen_fd;
    int wake_fd;
    dev_t dev;
    ino_t ino;
    uid_t self_uid;
    pthread_t accept_thread;
    bool has_accept_thread;

    pthread_mutex_t mutex; /* slots, active, is_stopping, has_store */
    pthread_cond_t idle;
    pthread_cond_t attached; /* has_store became true, or is_stopping */
    bool has_store;
    conn_slot slots[SV_SERVER_CONNECTIONS];
    size_t active;
    bool is_stopping;

    pthread_rwlock_t lock; /* everything below, up to the rate table */
    sv_store *store;
    const sv_ocr_rules *rules;
    char real_data_dir[PATH_MAX];
    char role_lists[ROLE_COUNT][SV_INTAKE_GROUPS_MAX + 1]; /* as configured */
    gid_t *role_gids[ROLE_COUNT];
    size_t n_role_gids[ROLE_COUNT];
    unsigned caps[ROLE_COUNT];

    pthread_mutex_t rate_mutex;
    rate_user *rates;
    size_t n_rates;

    pthread_mutex_t status_mutex;
    char status[16384];
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *server_role_name(server_role role)
{
    static const char *const names[ROLE_COUNT] = {"none", "reviewer", "clerk", "admin"};
    return role < ROLE_COUNT ? names[role] : "none";
}

/* ---- roles ---------------------------------------------------------------- */

/* The gids of a comma-separated list of group names; a name with no group
 * on this system is logged and left out. */
static void resolve_groups(const char *key, const char *list, bool is_quiet, gid_t **out,
                           size_t *n)
{
    *out = NULL;
    *n = 0;
    size_t cap = 1;
    for (const char *p = list; *p; p++)
        cap += *p == ',';
    gid_t *gids = calloc(cap, sizeof *gids);
    if (gids == NULL)
        return;
    char buf[16384];
    for (const char *p = list; *p != '\0';) {
        const char *comma = strchr(p, ',');
        const char *end = comma != NULL ? comma : p + strlen(p);
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        size_t len = (size_t)(end - p);
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        char name[SV_INTAKE_GROUP_NAME_MAX + 1];
        if (len > 0 && len < sizeof name) {
            memcpy(name, p, len);
            name[len] = '\0';
            struct group gr, *found = NULL;
            if (getgrnam_r(name, &gr, buf, sizeof buf, &found) == 0 && found != NULL)
                gids[(*n)++] = found->gr_gid;
            else if (!is_quiet)
                intake_log(SV_LOG_WARNING, "[access] %s: there is no group %s on this system; "
                                           "it gives nobody a role",
                           key, name);
        }
        p = comma != NULL ? comma + 1 : end;
    }
    *out = gids;
}

/* Roles and caps from s. Group names are looked up again each time (a group
 * made since counts); a missing one is logged when the lists changed. */
static void set_roles(sv_server *srv, const sv_intake_settings *s)
{
    bool is_quiet = strcmp(srv->role_lists[ROLE_REVIEWER], s->access_reviewer_groups) == 0 &&
                    strcmp(srv->role_lists[ROLE_CLERK], s->access_clerk_groups) == 0 &&
                    strcmp(srv->role_lists[ROLE_ADMIN], s->access_admin_groups) == 0;
    snprintf(srv->role_lists[ROLE_REVIEWER], sizeof srv->role_lists[0], "%s",
             s->access_reviewer_groups);
    snprintf(srv->role_lists[ROLE_CLERK], sizeof srv->role_lists[0], "%s", s->access_clerk_groups);
    snprintf(srv->role_lists[ROLE_ADMIN], sizeof srv->role_lists[0], "%s", s->access_admin_groups);
    for (int r = 0; r < ROLE_COUNT; r++) {
        free(srv->role_gids[r]);
        srv->role_gids[r] = NULL;
        srv->n_role_gids[r] = 0;
    }
    resolve_groups("reviewer_groups", s->access_reviewer_groups, is_quiet,
                   &srv->role_gids[ROLE_REVIEWER], &srv->n_role_gids[ROLE_REVIEWER]);
    resolve_groups("clerk_groups", s->access_clerk_groups, is_quiet, &srv->role_gids[ROLE_CLERK],
                   &srv->n_role_gids[ROLE_CLERK]);
    resolve_groups("admin_groups", s->access_admin_groups, is_quiet, &srv->role_gids[ROLE_ADMIN],
                   &srv->n_role_gids[ROLE_ADMIN]);
    srv->caps[ROLE_NONE] = 0;
    srv->caps[ROLE_REVIEWER] = s->access_reviewer_docs_per_hour;
    srv->caps[ROLE_CLERK] = s->access_clerk_docs_per_hour;
    srv->caps[ROLE_ADMIN] = s->access_admin_docs_per_hour;
}

server_role server_role_of(const sv_server *srv, const server_conn *c)
{
    if (c->uid == 0 || c->uid == srv->self_uid)
        return ROLE_ADMIN;
    for (int r = ROLE_ADMIN; r > ROLE_NONE; r--)
        for (size_t i = 0; i < srv->n_role_gids[r]; i++)
            for (size_t k = 0; k < c->n_gids; k++)
                if (c->gids[k] == srv->role_gids[r][i])
                    return (server_role)r;
    return ROLE_NONE;
}

unsigned server_cap_of(const sv_server *srv, server_role role)
{
    return role < ROLE_COUNT ? srv->caps[role] : 0;
}

void server_hold(sv_server *srv) { pthread_rwlock_rdlock(&srv->lock); }

bool server_hold_store(sv_server *srv, unsigned wait_s)
{
    server_hold(srv);
    if (srv->store != NULL || wait_s == 0)
        return srv->store != NULL;
    /* A reload closes and reopens the store: wait for it, not holding it. */
    server_release(srv);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += wait_s;
    pthread_mutex_lock(&srv->mutex);
    while (!srv->has_store && !srv->is_stopping)
        if (pthread_cond_timedwait(&srv->attached, &srv->mutex, &deadline) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&srv->mutex);
    server_hold(srv);
    return srv->store != NULL;
}
void server_release(sv_server *srv) { pthread_rwlock_unlock(&srv->lock); }
sv_store *server_held_store(sv_server *srv) { return srv->store; }
const sv_ocr_rules *server_held_rules(sv_server *srv) { return srv->rules; }

/* Does data_dir name another directory than the store's? (lock held) */
static bool is_other_data_dir(sv_server *srv, const char *data_dir)
{
    if (srv->store == NULL)
        return false;
    char real[PATH_MAX];
    if (realpath(data_dir, real) != NULL)
        return strcmp(real, srv->real_data_dir) != 0;
    return strcmp(data_dir, sv_store_data_dir(srv->store)) != 0;
}

/* ---- retrieval caps ------------------------------------------------------- */

int server_take_docs(server_conn *c, uint64_t n)
{
    sv_server *srv = c->srv;
    unsigned cap = server_cap_of(srv, c->role);
    if (cap == 0 || n == 0)
        return 0;
    int64_t now = (int64_t)now_s();
    int rc = 0;
    pthread_mutex_lock(&srv->rate_mutex);
    rate_user *u = NULL;
    for (size_t i = 0; i < srv->n_rates && u == NULL; i++)
        if (srv->rates[i].uid == c->uid)
            u = &srv->rates[i];
    if (u == NULL) {
        rate_user *grown = realloc(srv->rates, (srv->n_rates + 1) * sizeof *grown);
        if (grown == NULL) {
            rc = intake_fail(SV_ENOMEM, "out of memory");
            goto out;
        }
        srv->rates = grown;
        u = &srv->rates[srv->n_rates++];
        memset(u, 0, sizeof *u);
        u->uid = c->uid;
    }
    size_t old = 0;
    while (old < u->n && u->times[old] <= now - RATE_WINDOW_S)
        old++;
    if (old > 0) {
        memmove(u->times, u->times + old, (u->n - old) * sizeof *u->times);
        u->n -= old;
    }
    if ((uint64_t)u->n + n > cap) {
        rc = intake_fail(SV_ELIMIT,
                         "%s has retrieved %zu document(s) in the last hour; the %s role "
                         "allows %u an hour ([access] %s_docs_per_hour): refused",
                         c->user, u->n, server_role_name(c->role), cap,
                         server_role_name(c->role));
        goto out;
    }
    if (u->n + n > u->cap) {
        size_t want = u->n + (size_t)n > 2 * u->cap ? u->n + (size_t)n : 2 * u->cap;
        int64_t *grown = realloc(u->times, want * sizeof *grown);
        if (grown == NULL) {
            rc = intake_fail(SV_ENOMEM, "out of memory");
            goto out;
        }
        u->times = grown;
        u->cap = want;
    }
    for (uint64_t i = 0; i < n; i++)
        u->times[u->n++] = now;
out:
    pthread_mutex_unlock(&srv->rate_mutex);
    return rc;
}

void server_give_back_docs(server_conn *c, uint64_t n)
{
    sv_server *srv = c->srv;
    pthread_mutex_lock(&srv->rate_mutex);
    for (size_t i = 0; i < srv->n_rates; i++)
        if (srv->rates[i].uid == c->uid)
            srv->rates[i].n -= n < srv->rates[i].n ? (size_t)n : srv->rates[i].n;
    pthread_mutex_unlock(&srv->rate_mutex);
}

void server_status_copy(sv_server *srv, char *buf, size_t len)
{
    pthread_mutex_lock(&srv->status_mutex);
    snprintf(buf, len, "%s", srv->status);
    pthread_mutex_unlock(&srv->status_mutex);
}

void sv_server_set_status(sv_server *srv, const char *json)
{
    if (srv == NULL)
        return;
    pthread_mutex_lock(&srv->status_mutex);
    snprintf(srv->status, sizeof srv->status, "%s", json);
    pthread_mutex_unlock(&srv->status_mutex);
}

/* ---- one connection -------------------------------------------------------- */

/* An audit line as the caller, outside a request (refusals at the door). */
static void audit_as_caller(server_conn *c, const char *action, const char *result)
{
    server_hold(c->srv);
    sv_store *view = NULL;
    if (c->srv->store != NULL && sv_store_create_view(&view, c->srv->store, c->uid, c->user) == 0)
        intake_audit(view, action, NULL, result);
    sv_store_destroy(view);
    server_release(c->srv);
}

static void answer_hello(server_conn *c, const proto_msg *m)
{
    char data_dir[SV_INTAKE_PATH_MAX];
    proto_str(m, PT_DATA_DIR, data_dir, sizeof data_dir);
    server_hold(c->srv);
    bool is_other = data_dir[0] != '\0' && is_other_data_dir(c->srv, data_dir);
    server_role role = server_role_of(c->srv, c);
    server_release(c->srv);
    if (is_other) {
        server_error(c, PROTO_ERR_OTHER_DATA, SV_EINVAL,
                     "this service serves another data directory");
        return;
    }
    proto_start(&c->out, PM_OK);
    proto_put_u32(&c->out, PT_UID, c->uid);
    proto_put_text(&c->out, PT_USER, c->user);
    proto_put_str(&c->out, PT_TEXT, server_role_name(role));
    server_hold(c->srv);
    if (c->srv->store != NULL)
        proto_put_text(&c->out, PT_DATA_DIR, sv_store_data_dir(c->srv->store));
    server_release(c->srv);
    server_send(c);
}

static void serve_connection(server_conn *c)
{
    struct timeval tv = {.tv_sec = SV_SERVER_IO_TIMEOUT_S};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (server_identify(c) != 0) {
        intake_log(SV_LOG_ERROR, "a connection on the socket could not be identified: %s",
                   strerror(errno));
        return;
    }
    server_hold(c->srv);
    server_role role = server_role_of(c->srv, c);
    server_release(c->srv);
    if (role == ROLE_NONE) {
        intake_log(SV_LOG_WARNING, "uid %u (%s) refused at the socket: in no scanvault role "
                                   "group",
                   c->uid, c->user);
        audit_as_caller(c, "connect", "refused=not_authorised");
        server_error(c, PROTO_ERR_NOT_AUTHORISED, SV_EPERM,
                     "not authorised: you are in none of the scanvault role groups (ask the "
                     "admin to add you to the reviewer, clerk or admin group)");
        server_flush(c);
        return;
    }
    for (;;) {
        proto_msg m;
        char why[256] = "";
        int rc = proto_read(&c->in, true, &m, why, sizeof why);
        if (rc == SV_ENOTFOUND || rc == SV_ETIMEOUT || rc == SV_EERRNO)
            return; /* hung up, idle too long, or gone */
        if (rc != 0) {
            intake_log(SV_LOG_WARNING, "uid %u (%s): a bad message on the socket: %s; "
                                       "connection closed",
                       c->uid, c->user, why);
            char result[64];
            snprintf(result, sizeof result, "refused=protocol error=%s",
                     rc == SV_EVERSION ? "version"
                     : rc == SV_ELIMIT ? "too_long"
                     : rc == SV_ETRUNC ? "truncated"
                                       : "malformed");
            audit_as_caller(c, "request", result);
            server_error(c, PROTO_ERR_PROTOCOL, rc, why);
            server_flush(c);
            return;
        }
        if (m.type == PM_HELLO)
            answer_hello(c, &m);
        else
            server_run_request(c, &m);
        server_flush(c);
        if (c->send_rc != 0)
            return;
    }
}

static void finish_slot(sv_server *srv, size_t slot)
{
    pthread_mutex_lock(&srv->mutex);
    if (srv->slots[slot].fd >= 0)
        close(srv->slots[slot].fd);
    srv->slots[slot].fd = -1;
    srv->slots[slot].is_done = true;
    srv->active--;
    pthread_cond_broadcast(&srv->idle);
    pthread_mutex_unlock(&srv->mutex);
}

static void *connection_main(void *arg)
{
    server_conn *c = arg;
    serve_connection(c);
    sv_server *srv = c->srv;
    size_t slot = c->slot;
    free(c->gids);
    free(c);
    finish_slot(srv, slot);
    return NULL;
}

/* Join the threads that have finished (mutex held). */
static void reap_slots(sv_server *srv)
{
    for (size_t i = 0; i < SV_SERVER_CONNECTIONS; i++) {
        if (srv->slots[i].is_used && srv->slots[i].is_done) {
            pthread_join(srv->slots[i].thread, NULL);
            srv->slots[i].is_used = false;
            srv->slots[i].is_done = false;
        }
    }
}

/* Tell a caller there is no room, without waiting on it. */
static void refuse_busy(int fd)
{
    proto_out *o = malloc(sizeof *o);
    if (o != NULL) {
        proto_start(o, PM_ERROR);
        proto_put_i32(o, PT_CODE, SV_ETIMEOUT);
        proto_put_u8(o, PT_KIND, PROTO_ERR_BUSY);
        proto_put_str(o, PT_TEXT, "the service is busy (too many connections): try again");
        fcntl(fd, F_SETFL, O_NONBLOCK);
        proto_send(fd, o);
        free(o);
    }
    close(fd);
}

static void start_connection(sv_server *srv, int fd)
{
    struct ucred cred = {.uid = (uid_t)-1};
    socklen_t cred_len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cred_len) != 0) {
        close(fd);
        return;
    }
    pthread_mutex_lock(&srv->mutex);
    reap_slots(srv);
    size_t slot = SV_SERVER_CONNECTIONS, held = 0;
    for (size_t i = 0; i < SV_SERVER_CONNECTIONS; i++) {
        if (!srv->slots[i].is_used && slot == SV_SERVER_CONNECTIONS)
            slot = i;
        else if (srv->slots[i].is_used && srv->slots[i].uid == cred.uid)
            held++;
    }
    if (held >= CONNECTIONS_PER_UID && cred.uid != 0 && cred.uid != srv->self_uid) {
        pthread_mutex_unlock(&srv->mutex);
        intake_log(SV_LOG_WARNING, "a connection of uid %u refused: it holds %d already",
                   (unsigned)cred.uid, CONNECTIONS_PER_UID);
        refuse_busy(fd);
        return;
    }
    server_conn *c = slot < SV_SERVER_CONNECTIONS ? calloc(1, sizeof *c) : NULL;
    if (c == NULL) {
        pthread_mutex_unlock(&srv->mutex);
        intake_log(SV_LOG_WARNING, "a connection refused: %d connections are being served",
                   SV_SERVER_CONNECTIONS);
        refuse_busy(fd);
        return;
    }
    c->srv = srv;
    c->slot = slot;
    c->fd = fd;
    c->in.fd = fd;
    srv->slots[slot].fd = fd;
    srv->slots[slot].uid = cred.uid;
    srv->slots[slot].is_used = true;
    srv->slots[slot].is_done = false;
    srv->active++;
    if (pthread_create(&srv->slots[slot].thread, NULL, connection_main, c) != 0) {
        srv->slots[slot].is_used = false;
        srv->slots[slot].fd = -1;
        srv->active--;
        pthread_mutex_unlock(&srv->mutex);
        free(c);
        intake_log(SV_LOG_ERROR, "cannot start a thread for a connection: %s", strerror(errno));
        refuse_busy(fd);
        return;
    }
    pthread_mutex_unlock(&srv->mutex);
}

static void *accept_main(void *arg)
{
    sv_server *srv = arg;
    for (;;) {
        struct pollfd fds[2] = {{.fd = srv->listen_fd, .events = POLLIN},
                                {.fd = srv->wake_fd, .events = POLLIN}};
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            intake_log(SV_LOG_ERROR, "the socket cannot be watched: %s", strerror(errno));
            break;
        }
        if (fds[1].revents != 0)
            break;
        int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED)
                intake_log(SV_LOG_ERROR, "accept on the socket: %s", strerror(errno));
            if (errno == EMFILE || errno == ENFILE)
                poll(NULL, 0, 100); /* let descriptors free up */
            continue;
        }
        start_connection(srv, fd);
    }
    return NULL;
}

/* ---- the socket ------------------------------------------------------------- */

/* Remove the socket file if it is still ours. */
static void remove_socket(sv_server *srv)
{
    if (srv->path[0] != '\0')
        server_socket_remove(srv->path, srv->dev, srv->ino);
}

int sv_server_create(sv_server **out, const sv_intake_settings *settings)
{
    intake_clear_error();
    *out = NULL;
    sv_server *srv = calloc(1, sizeof *srv);
    if (srv == NULL)
        return intake_fail(SV_ENOMEM, "out of memory");
    srv->listen_fd = -1;
    srv->wake_fd = -1;
    srv->self_uid = geteuid();
    for (size_t i = 0; i < SV_SERVER_CONNECTIONS; i++)
        srv->slots[i].fd = -1;
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    /* A reload must not wait behind an endless stream of new requests. */
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&srv->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    pthread_mutex_init(&srv->mutex, NULL);
    pthread_cond_init(&srv->idle, NULL);
    pthread_cond_init(&srv->attached, NULL);
    pthread_mutex_init(&srv->rate_mutex, NULL);
    pthread_mutex_init(&srv->status_mutex, NULL);
    snprintf(srv->status, sizeof srv->status, "{\"state\": \"starting\"}\n");
    set_roles(srv, settings);
    srv->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    int rc = srv->wake_fd < 0 ? intake_fail(SV_EERRNO, "eventfd: %s", strerror(errno))
                              : server_socket_open(settings, &srv->listen_fd, srv->path,
                                                   sizeof srv->path, &srv->dev, &srv->ino);
    if (rc == 0 && pthread_create(&srv->accept_thread, NULL, accept_main, srv) != 0)
        rc = intake_fail(SV_EERRNO, "cannot start the socket's thread: %s", strerror(errno));
    if (rc != 0) {
        remove_socket(srv);
        sv_server_destroy(srv);
        return rc;
    }
    srv->has_accept_thread = true;
    *out = srv;
    return 0;
}

void sv_server_attach(sv_server *srv, sv_store *store, const sv_ocr_rules *rules,
                      const sv_intake_settings *settings)
{
    pthread_rwlock_wrlock(&srv->lock);
    srv->store = store;
    srv->rules = rules;
    if (store == NULL || realpath(sv_store_data_dir(store), srv->real_data_dir) == NULL)
        snprintf(srv->real_data_dir, sizeof srv->real_data_dir, "%s",
                 store != NULL ? sv_store_data_dir(store) : "");
    if (settings != NULL)
        set_roles(srv, settings);
    pthread_rwlock_unlock(&srv->lock);
    pthread_mutex_lock(&srv->mutex);
    srv->has_store = store != NULL;
    pthread_cond_broadcast(&srv->attached);
    pthread_mutex_unlock(&srv->mutex);
}

void sv_server_detach(sv_server *srv)
{
    if (srv == NULL)
        return;
    pthread_mutex_lock(&srv->mutex);
    srv->has_store = false;
    pthread_mutex_unlock(&srv->mutex);
    /* Requests in flight finish first, but a client that reads slowly must
     * not hold the reload (and with it the filing) for long: after a grace
     * period the connections are cut, so their sends fail and the requests
     * end. */
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += DETACH_GRACE_S;
    if (pthread_rwlock_timedwrlock(&srv->lock, &deadline) != 0) {
        intake_log(SV_LOG_WARNING, "reload: requests still running after %d s are cut off",
                   DETACH_GRACE_S);
        pthread_mutex_lock(&srv->mutex);
        for (size_t i = 0; i < SV_SERVER_CONNECTIONS; i++)
            if (srv->slots[i].is_used && srv->slots[i].fd >= 0)
                shutdown(srv->slots[i].fd, SHUT_RDWR);
        pthread_mutex_unlock(&srv->mutex);
        pthread_rwlock_wrlock(&srv->lock);
    }
    srv->store = NULL;
    srv->rules = NULL;
    pthread_rwlock_unlock(&srv->lock);
}

/* Shut down the read side (or both) of every open connection. */
static void cut_connections(sv_server *srv, int how)
{
    for (size_t i = 0; i < SV_SERVER_CONNECTIONS; i++)
        if (srv->slots[i].is_used && srv->slots[i].fd >= 0)
            shutdown(srv->slots[i].fd, how);
}

void sv_server_destroy(sv_server *srv)
{
    if (srv == NULL)
        return;
    pthread_mutex_lock(&srv->mutex);
    srv->is_stopping = true;
    pthread_cond_broadcast(&srv->attached);
    pthread_mutex_unlock(&srv->mutex);
    if (srv->has_accept_thread) {
        uint64_t one = 1;
        if (write(srv->wake_fd, &one, sizeof one) != (ssize_t)sizeof one)
            intake_log(SV_LOG_ERROR, "cannot stop the socket's thread: %s", strerror(errno));
        pthread_join(srv->accept_thread, NULL);
    }
    if (srv->listen_fd >= 0) {
        remove_socket(srv);
        close(srv->listen_fd);
    }
    /* Idle connections end now; requests in flight get the grace period. */
    pthread_mutex_lock(&srv->mutex);
    cut_connections(srv, SHUT_RD);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += SV_SERVER_STOP_GRACE_S;
    while (srv->active > 0)
        if (pthread_cond_timedwait(&srv->idle, &srv->mutex, &deadline) == ETIMEDOUT)
            break;
    if (srv->active > 0) {
        intake_log(SV_LOG_WARNING, "%zu request(s) on the socket still running after %d s: "
                                   "their connections are cut",
                   srv->active, SV_SERVER_STOP_GRACE_S);
        cut_connections(srv, SHUT_RDWR);
    }
    pthread_mutex_unlock(&srv->mutex);
    for (size_t i = 0; i < SV_SERVER_CONNECTIONS; i++)
        if (srv->slots[i].is_used)
            pthread_join(srv->slots[i].thread, NULL);
    if (srv->wake_fd >= 0)
        close(srv->wake_fd);
    for (int r = 0; r < ROLE_COUNT; r++)
        free(srv->role_gids[r]);
    for (size_t i = 0; i < srv->n_rates; i++)
        free(srv->rates[i].times);
    free(srv->rates);
    pthread_rwlock_destroy(&srv->lock);
    pthread_mutex_destroy(&srv->mutex);
    pthread_cond_destroy(&srv->idle);
    pthread_cond_destroy(&srv->attached);
    pthread_mutex_destroy(&srv->rate_mutex);
    pthread_mutex_destroy(&srv->status_mutex);
    free(srv);
}
