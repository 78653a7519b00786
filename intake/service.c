/*
 * service.c - `scanvault run`: the long-running supervisor. It watches the
 * inbox (inbox.c), hands stable files to the filing pipeline (pipeline.c),
 * logs one line per document, writes its status for `scanvault status` and
 * node_exporter, serves people's commands on its socket (server.c, in
 * threads of their own), drains on SIGTERM/SIGINT and reloads its
 * configuration on SIGHUP (a bad new configuration is refused and the old
 * one kept).
 *
 * Signals arrive through a signalfd and are handled between steps, so no
 * work is ever interrupted half-way: a document in flight always finishes.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "intake_internal.h"

#define STATUS_EVERY_S 1.0
#define RETRY_FAILED_CLAIM_S 60.0

static int log_level = SV_LOG_INFO;

void intake_log(int level, const char *fmt, ...)
{
    static const char *const names[] = {"error", "warning", "info", "debug"};
    if (level > log_level || level < 0 || level > SV_LOG_DEBUG)
        return;
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s scanvault[%d] %s: %s\n", when, (int)getpid(), names[level], line);
}

typedef struct service {
    const sv_service_options *opts;
    sv_ocr_rules *rules;
    sv_intake_settings settings;
    sv_pipeline *pipe;
    inbox *ib;
    sv_server *server;      /* NULL when the socket could not be set up */
    int signal_fd;
    bool is_draining;
    time_t started;
    uint64_t by_status[SV_PIPELINE_FAILED + 1];
    uint64_t pages;
    char last_error[256];
    time_t last_error_at;
    double next_rescan, next_status;
    int stop_code; /* returned after the drain: 0, or why the service had to stop */
} service;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void note_error(service *sv, const char *msg)
{
    size_t len = strnlen(msg, sizeof sv->last_error - 1);
    memcpy(sv->last_error, msg, len);
    sv->last_error[len] = '\0';
    sv->last_error_at = time(NULL);
}

/* ---- configuration ------------------------------------------------------ */

/* Rules and settings from the file (or the defaults), with the command-line
 * overrides. On failure the message is in err and nothing is returned. */
static int load_configuration(const sv_service_options *o, sv_ocr_rules **rules_out,
                              sv_intake_settings *settings, char *err, size_t err_len)
{
    *rules_out = NULL;
    sv_ocr_rules *rules = NULL;
    sv_intake_settings_defaults(settings);
    if (sv_ocr_rules_create(&rules) != 0) {
        snprintf(err, err_len, "out of memory");
        return SV_ENOMEM;
    }
    int rc = o->config_path != NULL
                 ? sv_intake_config_load_all(o->config_path, rules, settings, err, err_len)
                 : sv_ocr_rules_finish(rules, err, err_len);
    const char *overrides[][2] = {{o->data_dir, settings->data_dir},
                                  {o->key_file, settings->key_file},
                                  {o->inbox, settings->inbox}};
    for (size_t i = 0; rc == 0 && i < 3; i++) {
        if (overrides[i][0] == NULL)
            continue;
        if (strlen(overrides[i][0]) >= SV_INTAKE_PATH_MAX) {
            snprintf(err, err_len, "a path given on the command line is too long");
            rc = SV_ELIMIT;
        } else {
            memcpy((char *)overrides[i][1], overrides[i][0], strlen(overrides[i][0]) + 1);
        }
    }
    if (rc != 0) {
        if (err[0] == '\0')
            snprintf(err, err_len, "%s", sv_strerror(rc));
        sv_ocr_rules_destroy(rules);
        return rc;
    }
    *rules_out = rules;
    return 0;
}

static void on_report(const sv_pipeline_report *r, void *ctx);

/* Start the pipeline and the inbox watch for the current configuration. */
static int start_intake(service *sv)
{
    log_level = sv->settings.log_level;
    sv_pipeline_options po = {.data_dir = sv->settings.data_dir,
                              .key_file = sv->settings.key_file,
                              .docid_prefix = sv->settings.docid_prefix,
                              .rules = sv->rules,
                              .n_workers = sv->opts->n_workers > 0
                                               ? sv->opts->n_workers
                                               : sv_intake_settings_workers(&sv->settings),
                              .report = on_report,
                              .report_ctx = sv};
    int rc = sv_pipeline_create(&sv->pipe, &po);
    if (rc != 0)
        return rc;
    size_t recovered = 0;
    if ((rc = sv_pipeline_recover(sv->pipe, &recovered)) != 0)
        return rc;
    if (recovered > 0)
        intake_log(SV_LOG_INFO, "recovery: %zu document(s) left in the spool are filed again",
                   recovered);
    if ((rc = inbox_open(&sv->ib, sv->settings.inbox, sv->settings.use_inotify)) != 0)
        return rc;
    sv->next_rescan = 0;
    return 0;
}

/* The socket serves the pipeline's store; it is swapped with the store. */
static void attach_server(service *sv)
{
    if (sv->server != NULL && sv->pipe != NULL)
        sv_server_attach(sv->server, sv_pipeline_store(sv->pipe), sv->rules, &sv->settings);
}

static void start_server(service *sv)
{
    if (sv_server_create(&sv->server, &sv->settings) != 0) {
        intake_log(SV_LOG_ERROR, "the socket for people's commands cannot be set up: %s; the "
                                 "service files documents, but find, get and review must run "
                                 "in direct mode (service user only)",
                   sv_intake_last_error());
        note_error(sv, "the socket for people's commands cannot be set up");
        return;
    }
    attach_server(sv);
    intake_log(SV_LOG_INFO, "listening on %s for people's commands", sv->settings.access_socket);
}

static void stop_intake(service *sv)
{
    sv_server_detach(sv->server); /* waits for the requests in flight */
    sv_pipeline_destroy(sv->pipe);
    sv->pipe = NULL;
    inbox_close(sv->ib);
    sv->ib = NULL;
}

/* The key the new configuration names must load before the running intake
 * stops for a reload: a reload after the key file went away (the running
 * service holds the key in memory) must not stop the filing. */
static int check_key_loads(const sv_intake_settings *s)
{
    char path[SV_INTAKE_PATH_MAX];
    const char *key = s->key_file;
    if (key[0] == '\0') {
        if (intake_path(path, sizeof path, s->data_dir, "keys/" SV_KEY_FILE_NAME) != 0)
            return SV_ELIMIT;
        key = path;
    }
    sv_keyring *ring = NULL;
    int rc = sv_keyring_load_default(&ring, key);
    sv_keyring_destroy(ring);
    if (rc != 0)
        return intake_fail(rc, "the key cannot be loaded: %s", sv_crypto_last_error());
    return 0;
}

/* SIGHUP: read the file again; a bad one is refused and the running
 * configuration kept. A good one takes effect once the documents in flight
 * are filed (the workers are restarted with the new rules). */
static void reload_configuration(service *sv)
{
    char err[512] = "";
    sv_ocr_rules *rules = NULL;
    sv_intake_settings settings;
    if (load_configuration(sv->opts, &rules, &settings, err, sizeof err) != 0 ||
        check_key_loads(&settings) != 0) {
        intake_log(SV_LOG_ERROR, "configuration reload refused, the running configuration is "
                                 "kept: %s",
                   err[0] != '\0' ? err : sv_intake_last_error());
        note_error(sv, "configuration reload refused");
        sv_ocr_rules_destroy(rules);
        return;
    }
    intake_log(SV_LOG_INFO, "configuration reload: finishing %zu document(s) in flight first",
               sv_pipeline_in_flight(sv->pipe));
    sv_pipeline_cancel_queued(sv->pipe);
    while (sv_pipeline_in_flight(sv->pipe) > 0)
        if (sv_pipeline_step(sv->pipe, 1000) != 0 && errno != EINTR)
            break;
    sv_ocr_rules *old_rules = sv->rules;
    sv_intake_settings old_settings = sv->settings;
    stop_intake(sv);
    sv->rules = rules;
    sv->settings = settings;
    if (start_intake(sv) == 0) {
        attach_server(sv);
        if (strcmp(settings.access_socket, old_settings.access_socket) != 0 ||
            strcmp(settings.access_socket_group, old_settings.access_socket_group) != 0)
            intake_log(SV_LOG_WARNING, "[access] socket and socket_group take effect at the "
                                       "next start; the socket stays %s",
                       old_settings.access_socket);
        intake_log(SV_LOG_INFO, "configuration reloaded");
        sv_ocr_rules_destroy(old_rules);
        return;
    }
    intake_log(SV_LOG_ERROR, "the new configuration cannot start (%s); going back to the "
                             "previous one",
               sv_intake_last_error());
    note_error(sv, "configuration reload failed to start");
    stop_intake(sv);
    sv_ocr_rules_destroy(rules);
    sv->rules = old_rules;
    sv->settings = old_settings;
    int rc = start_intake(sv);
    if (rc != 0) {
        intake_log(SV_LOG_ERROR, "cannot start again: %s; stopping", sv_intake_last_error());
        sv->is_draining = true;
        sv->stop_code = rc; /* a failure: systemd's Restart=on-failure must see it */
        return;
    }
    attach_server(sv);
}

/* ---- reports and status -------------------------------------------------- */

static void on_report(const sv_pipeline_report *r, void *ctx)
{
    service *sv = ctx;
    if (r->status >= SV_PIPELINE_FILED && r->status <= SV_PIPELINE_FAILED)
        sv->by_status[r->status]++;
    sv->pages += (uint64_t)(r->pages > 0 ? r->pages : 0);
    const char *why = r->status == SV_PIPELINE_DUPLICATE ? r->existing_docid
                      : r->reason[0]                     ? r->reason
                                                         : "-";
    intake_log(r->status == SV_PIPELINE_FAILED ? SV_LOG_ERROR : SV_LOG_INFO,
               "docid=%s status=%s reason=%s type=%s pages=%d ms=%.0f wait_ms=%.0f%s",
               r->docid[0] ? r->docid : "-", sv_pipeline_status_name(r->status), why,
               r->type[0] ? r->type : "-", r->pages, r->ms.total, r->ms.wait,
               r->is_recovered ? " recovered=yes" : "");
    if (r->status == SV_PIPELINE_FAILED) {
        intake_log(SV_LOG_ERROR, "docid=%s: %s", r->docid[0] ? r->docid : "-", r->message);
        note_error(sv, r->message);
    }
    if (r->is_recovered || sv->ib == NULL)
        return;
    inbox_entry *e = inbox_entry_by_tag(sv->ib, r->tag);
    if (e == NULL)
        return;
    if (r->status == SV_PIPELINE_FAILED && r->docid[0] != '\0' && r->ms.claim == 0) {
        /* Not claimed (unreadable, vanished): it stays in the inbox; try
         * again later rather than in a tight loop. */
        e->is_queued = false;
        e->retry_at = now_s() + RETRY_FAILED_CLAIM_S;
        return;
    }
    inbox_remove(sv->ib, e);
}

static void status_path(const service *sv, const char *configured, const char *name, char *buf,
                        size_t len)
{
    char sub[64];
    snprintf(sub, sizeof sub, "status/%s", name);
    if (configured[0] != '\0')
        snprintf(buf, len, "%s", configured);
    else if (intake_path(buf, len, sv->settings.data_dir, sub) != 0)
        buf[0] = '\0';
}

/* Write text to path atomically (temp + rename), creating its directory. */
static void write_atomically(const char *path, const char *text)
{
    if (path[0] == '\0')
        return;
    char dir[SV_INTAKE_PATH_MAX + 64], tmp[SV_INTAKE_PATH_MAX + 80];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash != NULL && slash != dir) {
        *slash = '\0';
        mkdir(dir, 0750);
    }
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (fd < 0)
        return;
    size_t len = strlen(text);
    bool is_ok = write(fd, text, len) == (ssize_t)len;
    if (close(fd) != 0 || !is_ok || rename(tmp, path) != 0)
        unlink(tmp);
}

static void write_status(service *sv, const char *state)
{
    size_t waiting = 0;
    double oldest = 0;
    if (sv->ib != NULL)
        inbox_counts(sv->ib, &waiting, &oldest);
    unsigned idle = 0, busy = 0;
    if (sv->pipe != NULL)
        sv_pipeline_worker_counts(sv->pipe, &idle, &busy);
    size_t in_flight = sv->pipe != NULL ? sv_pipeline_in_flight(sv->pipe) : 0;
    size_t queued = sv->pipe != NULL ? sv_pipeline_pending(sv->pipe) - in_flight : 0;
    sv_store_stats st;
    memset(&st, 0, sizeof st);
    if (sv->pipe != NULL)
        sv_index_get_stats(sv_store_index(sv_pipeline_store(sv->pipe)), &st.index);
    time_t now = time(NULL);

    char json[4096];
    int n = snprintf(
        json, sizeof json,
        "{\"state\": \"%s\", \"pid\": %d, \"started\": %lld, \"updated\": %lld, "
        "\"inbox_waiting\": %zu, \"oldest_waiting_seconds\": %.0f, \"queued\": %zu, "
        "\"in_flight\": %zu, \"workers\": {\"idle\": %u, \"busy\": %u}, "
        "\"since_start\": {\"filed\": %llu, \"review\": %llu, \"quarantined\": %llu, "
        "\"duplicate\": %llu, \"failed\": %llu, \"pages\": %llu}, "
        "\"index\": {\"documents\": %llu, \"filed\": %llu, \"review\": %llu, "
        "\"quarantined\": %llu}, \"last_error\": ",
        state, (int)getpid(), (long long)sv->started, (long long)now, waiting, oldest, queued,
        in_flight, idle, busy, (unsigned long long)sv->by_status[SV_PIPELINE_FILED],
        (unsigned long long)sv->by_status[SV_PIPELINE_REVIEW],
        (unsigned long long)sv->by_status[SV_PIPELINE_QUARANTINED],
        (unsigned long long)sv->by_status[SV_PIPELINE_DUPLICATE],
        (unsigned long long)sv->by_status[SV_PIPELINE_FAILED], (unsigned long long)sv->pages,
        (unsigned long long)st.index.docs, (unsigned long long)st.index.by_state[SV_INDEX_FILED],
        (unsigned long long)st.index.by_state[SV_INDEX_REVIEW],
        (unsigned long long)st.index.by_state[SV_INDEX_QUARANTINED]);
    /* The last error is our own message (docids, no names); keep it JSON-safe. */
    size_t used = n > 0 && (size_t)n < sizeof json ? (size_t)n : 0;
    if (sv->last_error[0] == '\0') {
        used += (size_t)snprintf(json + used, sizeof json - used, "null");
    } else {
        json[used++] = '"';
        for (const char *p = sv->last_error; *p && used + 4 < sizeof json; p++)
            json[used++] = (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20) ? '\'' : *p;
        json[used++] = '"';
    }
    snprintf(json + used, sizeof json - used, ", \"last_error_at\": %lld}\n",
             (long long)sv->last_error_at);
    sv_server_set_status(sv->server, json);
    char path[SV_INTAKE_PATH_MAX + 64];
    status_path(sv, sv->settings.status_file, "status.json", path, sizeof path);
    write_atomically(path, json);

    char prom[4096];
    snprintf(prom, sizeof prom,
             "# HELP scanvault_up 1 while the service runs.\n# TYPE scanvault_up gauge\n"
             "scanvault_up %d\n"
             "# HELP scanvault_inbox_waiting Files in the inbox not yet claimed.\n"
             "# TYPE scanvault_inbox_waiting gauge\nscanvault_inbox_waiting %zu\n"
             "# HELP scanvault_inbox_oldest_seconds Age of the oldest file waiting.\n"
             "# TYPE scanvault_inbox_oldest_seconds gauge\nscanvault_inbox_oldest_seconds %.0f\n"
             "# HELP scanvault_in_flight Documents being read by a worker.\n"
             "# TYPE scanvault_in_flight gauge\nscanvault_in_flight %zu\n"
             "# HELP scanvault_workers OCR workers by state.\n# TYPE scanvault_workers gauge\n"
             "scanvault_workers{state=\"idle\"} %u\nscanvault_workers{state=\"busy\"} %u\n"
             "# HELP scanvault_documents_total Documents finished since the service started.\n"
             "# TYPE scanvault_documents_total counter\n"
             "scanvault_documents_total{status=\"filed\"} %llu\n"
             "scanvault_documents_total{status=\"review\"} %llu\n"
             "scanvault_documents_total{status=\"quarantined\"} %llu\n"
             "scanvault_documents_total{status=\"duplicate\"} %llu\n"
             "scanvault_documents_total{status=\"failed\"} %llu\n"
             "# HELP scanvault_index_documents Documents in the index by state.\n"
             "# TYPE scanvault_index_documents gauge\n"
             "scanvault_index_documents{state=\"filed\"} %llu\n"
             "scanvault_index_documents{state=\"review\"} %llu\n"
             "scanvault_index_documents{state=\"quarantined\"} %llu\n"
             "# HELP scanvault_last_error_timestamp_seconds When the last error happened.\n"
             "# TYPE scanvault_last_error_timestamp_seconds gauge\n"
             "scanvault_last_error_timestamp_seconds %lld\n",
             strcmp(state, "running") == 0 ? 1 : 0, waiting, oldest, in_flight, idle, busy,
             (unsigned long long)sv->by_status[SV_PIPELINE_FILED],
             (unsigned long long)sv->by_status[SV_PIPELINE_REVIEW],
             (unsigned long long)sv->by_status[SV_PIPELINE_QUARANTINED],
             (unsigned long long)sv->by_status[SV_PIPELINE_DUPLICATE],
             (unsigned long long)sv->by_status[SV_PIPELINE_FAILED],
             (unsigned long long)st.index.by_state[SV_INDEX_FILED],
             (unsigned long long)st.index.by_state[SV_INDEX_REVIEW],
             (unsigned long long)st.index.by_state[SV_INDEX_QUARANTINED],
             (long long)sv->last_error_at);
    status_path(sv, sv->settings.metrics_file, "scanvault.prom", path, sizeof path);
    write_atomically(path, prom);
}

/* ---- the loop ------------------------------------------------------------ */

static int open_signal_fd(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
        return -1;
    signal(SIGPIPE, SIG_IGN);
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static void handle_signals(service *sv)
{
    struct signalfd_siginfo si;
    while (read(sv->signal_fd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGHUP && !sv->is_draining) {
            intake_log(SV_LOG_INFO, "SIGHUP: reloading the configuration");
            reload_configuration(sv);
        } else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
            if (!sv->is_draining)
                intake_log(SV_LOG_INFO, "%s: draining (no new files; %zu document(s) in flight "
                                        "finish first)",
                           si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT",
                           sv->pipe != NULL ? sv_pipeline_in_flight(sv->pipe) : 0);
            sv->is_draining = true;
            if (sv->pipe != NULL)
                sv_pipeline_cancel_queued(sv->pipe);
        }
    }
}

/* Take in what the inbox has ready, keeping at most one document per worker
 * queued: the rest stays in the inbox, unclaimed. */
static void take_ready_files(service *sv, unsigned n_workers)
{
    double now = now_s();
    if (inbox_read_events(sv->ib) != 0) {
        intake_log(SV_LOG_ERROR, "%s", sv_intake_last_error());
        note_error(sv, sv_intake_last_error());
    }
    if (now >= sv->next_rescan) {
        sv->next_rescan = now + sv->settings.rescan_seconds;
        if (inbox_rescan(sv->ib) != 0) {
            intake_log(SV_LOG_ERROR, "%s", sv_intake_last_error());
            note_error(sv, sv_intake_last_error());
        }
        /* Documents a fault left in the spool (disk full, ...) are tried
         * again whenever the pipeline is idle. */
        size_t again = 0;
        if (sv_pipeline_pending(sv->pipe) == 0 && sv_pipeline_recover(sv->pipe, &again) == 0 &&
            again > 0)
            intake_log(SV_LOG_INFO, "retrying %zu document(s) left in the spool", again);
    }
    while (sv_pipeline_pending(sv->pipe) < 2 * (size_t)n_workers) {
        inbox_entry *e = inbox_next_ready(sv->ib, sv->settings.settle_seconds);
        if (e == NULL)
            break;
        char path[SV_INTAKE_PATH_MAX];
        if (inbox_entry_path(sv->ib, e, path, sizeof path) != 0 ||
            sv_pipeline_enqueue(sv->pipe, path, SV_PIPELINE_MOVE, e->tag) != 0) {
            e->is_queued = false;
            break;
        }
    }
}

static int serve(service *sv)
{
    unsigned n_workers = sv->opts->n_workers > 0 ? sv->opts->n_workers
                                                 : sv_intake_settings_workers(&sv->settings);
    while (!(sv->is_draining && (sv->pipe == NULL || sv_pipeline_in_flight(sv->pipe) == 0))) {
        handle_signals(sv);
        if (sv->pipe == NULL)
            break;
        if (!sv->is_draining)
            take_ready_files(sv, n_workers);
        bool is_busy = sv_pipeline_in_flight(sv->pipe) > 0 || sv_pipeline_pending(sv->pipe) > 0;
        int rc = sv_pipeline_step(sv->pipe, is_busy ? 200 : 0);
        if (rc == SV_EWORKER) {
            intake_log(SV_LOG_ERROR, "%s; stopping", sv_intake_last_error());
            return rc;
        }
        if (!is_busy) {
            struct pollfd fds[2] = {{.fd = sv->signal_fd, .events = POLLIN},
                                    {.fd = inbox_event_fd(sv->ib), .events = POLLIN}};
            poll(fds, fds[1].fd >= 0 ? 2 : 1, 250);
        }
        if (now_s() >= sv->next_status) {
            sv->next_status = now_s() + STATUS_EVERY_S;
            write_status(sv, sv->is_draining ? "draining" : "running");
        }
    }
    return sv->stop_code;
}

int sv_service_run(const sv_service_options *opts)
{
    intake_clear_error();
    service sv;
    memset(&sv, 0, sizeof sv);
    sv.opts = opts;
    sv.started = time(NULL);
    sv.signal_fd = open_signal_fd();
    if (sv.signal_fd < 0)
        return intake_fail(SV_EERRNO, "cannot set up signal handling: %s", strerror(errno));
    char err[512] = "";
    int rc = load_configuration(opts, &sv.rules, &sv.settings, err, sizeof err);
    if (rc != 0) {
        rc = intake_fail(rc, "%s", err);
        goto out;
    }
    if ((rc = start_intake(&sv)) != 0)
        goto out;
    intake_log(SV_LOG_INFO, "watching the inbox (settle %u s, rescan every %u s, inotify %s)",
               sv.settings.settle_seconds, sv.settings.rescan_seconds,
               sv.settings.use_inotify ? "on" : "off");
    start_server(&sv);
    rc = serve(&sv);
    write_status(&sv, "stopped");
    /* Requests in flight finish (with a grace period) before the store closes. */
    sv_server_destroy(sv.server);
    sv.server = NULL;
    if (rc == 0)
        intake_log(SV_LOG_INFO, "stopped: %llu filed, %llu review, %llu quarantined, %llu "
                                "duplicate, %llu failed",
                   (unsigned long long)sv.by_status[SV_PIPELINE_FILED],
                   (unsigned long long)sv.by_status[SV_PIPELINE_REVIEW],
                   (unsigned long long)sv.by_status[SV_PIPELINE_QUARANTINED],
                   (unsigned long long)sv.by_status[SV_PIPELINE_DUPLICATE],
                   (unsigned long long)sv.by_status[SV_PIPELINE_FAILED]);
out:
    sv_server_destroy(sv.server);
    sv.server = NULL;
    stop_intake(&sv);
    sv_ocr_rules_destroy(sv.rules);
    close(sv.signal_fd);
    return rc;
}
