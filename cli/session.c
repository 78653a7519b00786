/*
 * session.c - how a command reaches the data (docs/access.md): through the
 * running service's socket, or, when none answers, by opening the data
 * directory with its key (direct mode, for the service user and offline
 * work). The configuration file may be unreadable for the people who use
 * the socket (it is the service's); then the socket's path comes from
 * --socket, $SCANVAULT_SOCKET or the built-in default.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

bool cli_target_option(cli_target *t, int opt, const char *arg)
{
    if (opt == CLI_OPT_SOCKET)
        t->socket_path = arg;
    else if (opt == CLI_OPT_DIRECT)
        t->is_direct = true;
    else
        return false;
    return true;
}

/* The configuration's rules and settings, without printing: a failure is
 * reported only if direct mode needs the file. */
static int load_quietly(const char *config_path, sv_ocr_rules **rules,
                        sv_intake_settings *settings, char *err, size_t err_len)
{
    *rules = NULL;
    sv_intake_settings_defaults(settings);
    bool is_explicit = config_path != NULL;
    if (config_path == NULL)
        config_path = getenv("SCANVAULT_CONFIG");
    if (config_path != NULL && config_path[0] == '\0')
        config_path = NULL;
    is_explicit = is_explicit || config_path != NULL;
    if (config_path == NULL && access(CLI_DEFAULT_CONFIG, F_OK) == 0)
        config_path = CLI_DEFAULT_CONFIG;
    sv_ocr_rules *r = NULL;
    if (sv_ocr_rules_create(&r) != 0) {
        snprintf(err, err_len, "out of memory");
        return SV_ENOMEM;
    }
    int rc = config_path != NULL ? sv_intake_config_load_all(config_path, r, settings, err, err_len)
                                 : sv_ocr_rules_finish(r, err, err_len);
    if (rc != 0) {
        if (err[0] == '\0')
            snprintf(err, err_len, "%s", sv_strerror(rc));
        if (!is_explicit) {
            size_t used = strlen(err);
            snprintf(err + used, err_len - used, " (the default configuration)");
        }
        sv_ocr_rules_destroy(r);
        sv_intake_settings_defaults(settings);
        return rc;
    }
    *rules = r;
    return 0;
}

/* --data DIR or $SCANVAULT_DATA as an absolute path, for the service to
 * compare with its own; "" when neither is given. */
static void data_dir_meant(const char *given, char *buf, size_t len)
{
    buf[0] = '\0';
    const char *env = getenv("SCANVAULT_DATA");
    if (given == NULL && env != NULL && env[0] != '\0')
        given = env;
    if (given == NULL || given[0] == '\0')
        return;
    char real[PATH_MAX];
    if (realpath(given, real) != NULL) {
        snprintf(buf, len, "%s", real);
    } else if (given[0] != '/') {
        char cwd[PATH_MAX];
        int n = getcwd(cwd, sizeof cwd) != NULL ? snprintf(buf, len, "%s/%s", cwd, given) : -1;
        if (n < 0 || (size_t)n >= len)
            buf[0] = '\0'; /* the service then serves whatever it serves */
    } else {
        snprintf(buf, len, "%s", given);
    }
}

void cli_session_load(const cli_target *t, cli_session *s)
{
    memset(s, 0, sizeof *s);
    s->load_rc = load_quietly(t->config_path, &s->rules, &s->settings, s->load_error,
                              sizeof s->load_error);
}

int cli_session_open(const cli_target *t, cli_direct direct, cli_session *s)
{
    cli_session_load(t, s);
    return cli_session_reach(t, direct, s);
}

int cli_session_reach(const cli_target *t, cli_direct direct, cli_session *s)
{
    const char *why_direct = "the service is not running";
    if (!t->is_direct) {
        const char *socket_path = t->socket_path;
        const char *env = getenv("SCANVAULT_SOCKET");
        if (socket_path == NULL && env != NULL && env[0] != '\0')
            socket_path = env;
        if (socket_path == NULL)
            socket_path = s->settings.access_socket;
        char meant[SV_INTAKE_PATH_MAX];
        data_dir_meant(t->data_dir, meant, sizeof meant);
        int rc = sv_client_connect(&s->client, socket_path, meant[0] ? meant : NULL);
        if (rc == 0)
            return SV_EXIT_OK;
        if (rc == SV_EINVAL) {
            why_direct = "the service on its socket serves another data directory";
        } else if (rc != SV_ENOTFOUND) {
            cli_error("%s", sv_intake_last_error());
            cli_session_close(s);
            return SV_EXIT_ENV;
        }
    } else {
        why_direct = "asked for with --direct";
    }
    if (s->load_rc != 0) {
        cli_error("%s", s->load_error);
        cli_session_close(s);
        return SV_EXIT_ENV;
    }
    int code = cli_apply_storage_options(&s->settings, t->data_dir, t->key_file);
    if (code != SV_EXIT_OK) {
        cli_session_close(s);
        return code;
    }
    if (direct == CLI_DIRECT_NOTHING)
        return SV_EXIT_OK;
    fprintf(stderr, "scanvault: direct mode: %s; opening %s with the key (service user only)\n",
            why_direct, s->settings.data_dir);
    if ((code = cli_open_store(&s->settings, direct == CLI_DIRECT_READ_ONLY, &s->store)) !=
        SV_EXIT_OK)
        cli_session_close(s);
    return code;
}

void cli_session_close(cli_session *s)
{
    sv_client_destroy(s->client);
    sv_store_destroy(s->store);
    sv_ocr_rules_destroy(s->rules);
    s->client = NULL;
    s->store = NULL;
    s->rules = NULL;
}

int cli_session_failed(const cli_session *s, int rc, int other_code)
{
    cli_error("%s", sv_intake_last_error());
    if (s->client != NULL && (rc == SV_EPERM || rc == SV_ETIMEOUT || rc == SV_ETRUNC ||
                              rc == SV_EFORMAT || rc == SV_EVERSION))
        return SV_EXIT_ENV;
    return other_code;
}
