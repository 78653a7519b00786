/*
 * settings.c - the service's own configuration sections: [storage] (where
 * the data directory and the key are), [intake] (how many OCR workers),
 * [service] (status, logging) and [access] (the socket people's commands
 * use, the groups that give roles, the retrieval caps; docs/access.md).
 * The OCR rules ([mrn], [types], [ocr]) belong to ocr/; config.c hands each
 * section to its owner.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sv_intake.h"

#define DEFAULT_DATA_DIR "/var/lib/scanvault"
#define DEFAULT_INBOX "/srv/scanvault/inbox"
#define DEFAULT_SOCKET "/run/scanvault/scanvault.sock"
#define DEFAULT_SOCKET_GROUP "scanvault-users"
#define DEFAULT_ADMIN_GROUPS "scanvault-admins"
#define DEFAULT_CLERK_GROUPS "scanvault-clerks"
#define DEFAULT_REVIEWER_GROUPS "scanvault-reviewers"
/* The longest path a Unix socket address takes (sun_path, with its NUL). */
#define SOCKET_PATH_MAX 108

void sv_intake_settings_defaults(sv_intake_settings *s)
{
    memset(s, 0, sizeof *s);
    memcpy(s->data_dir, DEFAULT_DATA_DIR, sizeof DEFAULT_DATA_DIR);
    memcpy(s->inbox, DEFAULT_INBOX, sizeof DEFAULT_INBOX);
    s->settle_seconds = 5;
    s->rescan_seconds = 10;
    s->use_inotify = true;
    s->log_level = SV_LOG_INFO;
    memcpy(s->access_socket, DEFAULT_SOCKET, sizeof DEFAULT_SOCKET);
    memcpy(s->access_socket_group, DEFAULT_SOCKET_GROUP, sizeof DEFAULT_SOCKET_GROUP);
    memcpy(s->access_admin_groups, DEFAULT_ADMIN_GROUPS, sizeof DEFAULT_ADMIN_GROUPS);
    memcpy(s->access_clerk_groups, DEFAULT_CLERK_GROUPS, sizeof DEFAULT_CLERK_GROUPS);
    memcpy(s->access_reviewer_groups, DEFAULT_REVIEWER_GROUPS, sizeof DEFAULT_REVIEWER_GROUPS);
    s->access_clerk_docs_per_hour = 200;
    s->access_reviewer_docs_per_hour = 100;
    s->access_admin_docs_per_hour = 0;
}

__attribute__((format(printf, 3, 4))) static int setting_error(char *err, size_t err_len,
                                                               const char *fmt, ...)
{
    if (err != NULL && err_len > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
    }
    return SV_ECONFIG;
}

/* An absolute path without control characters that fits the field. */
static int set_path(char *field, size_t cap, const char *key, const char *value, bool may_be_empty,
                    char *err, size_t err_len)
{
    size_t len = strlen(value);
    if (len == 0 && may_be_empty) {
        field[0] = '\0';
        return 0;
    }
    if (len == 0 || value[0] != '/')
        return setting_error(err, err_len, "%s must be an absolute path", key);
    if (len >= cap)
        return setting_error(err, err_len, "%s is longer than %zu bytes", key, cap - 1);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)value[i] < 0x20 || value[i] == 0x7f)
            return setting_error(err, err_len, "%s holds a control character", key);
    memcpy(field, value, len + 1);
    return 0;
}

/* The key file, when it exists, must be a regular file that only its owner
 * may read: a configuration naming an exposed key is refused at this line
 * (scanvault run, SIGHUP, config check), not only when the key is loaded.
 * A missing file is the service's business at start (it may come later). */
static int set_key_file(sv_intake_settings *s, const char *value, char *err, size_t err_len)
{
    int rc = set_path(s->key_file, sizeof s->key_file, "key_file", value, true, err, err_len);
    if (rc != 0 || s->key_file[0] == '\0')
        return rc;
    struct stat st;
    if (stat(s->key_file, &st) != 0)
        return 0;
    if (!S_ISREG(st.st_mode))
        return setting_error(err, err_len, "key_file names something that is not a file");
    if ((st.st_mode & 077) != 0)
        return setting_error(err, err_len,
                             "key_file: the key file can be read or written by group or others "
                             "(mode %03o): chmod 600 it, and treat the key as exposed",
                             (unsigned)(st.st_mode & 0777));
    return 0;
}

static int set_prefix(sv_intake_settings *s, const char *value, char *err, size_t err_len)
{
    size_t len = strlen(value);
    if (len > SV_INTAKE_PREFIX_MAX)
        return setting_error(err, err_len, "docid_prefix is 1 to %d of a-z and 0-9, or empty",
                             SV_INTAKE_PREFIX_MAX);
    for (size_t i = 0; i < len; i++)
        if (!((value[i] >= 'a' && value[i] <= 'z') || (value[i] >= '0' && value[i] <= '9')))
            return setting_error(err, err_len,
                                 "docid_prefix is 1 to %d of a-z and 0-9, or empty",
                                 SV_INTAKE_PREFIX_MAX);
    memcpy(s->docid_prefix, value, len + 1);
    return 0;
}

/* A whole number in [min, max]. */
static int set_count(unsigned *field, const char *key, const char *value, unsigned long min,
                     unsigned long max, char *err, size_t err_len)
{
    char *end = NULL;
    errno = 0;
    unsigned long n = strtoul(value, &end, 10);
    if (errno != 0 || end == value || *end != '\0' || value[0] == '-' || value[0] == '+' ||
        n < min || n > max)
        return setting_error(err, err_len, "%s is a whole number from %lu to %lu", key, min, max);
    *field = (unsigned)n;
    return 0;
}

static int set_bool(bool *field, const char *key, const char *value, char *err, size_t err_len)
{
    static const char *const yes[] = {"true", "yes", "1"}, *const no[] = {"false", "no", "0"};
    for (size_t i = 0; i < 3; i++) {
        if (strcasecmp(value, yes[i]) == 0) {
            *field = true;
            return 0;
        }
        if (strcasecmp(value, no[i]) == 0) {
            *field = false;
            return 0;
        }
    }
    return setting_error(err, err_len, "%s is true or false", key);
}

static int set_log_level(sv_intake_settings *s, const char *value, char *err, size_t err_len)
{
    static const char *const names[] = {"error", "warning", "info", "debug"};
    for (int i = 0; i < 4; i++)
        if (strcasecmp(value, names[i]) == 0) {
            s->log_level = i;
            return 0;
        }
    return setting_error(err, err_len, "log_level is error, warning, info or debug");
}

/* A group name as shadow-utils accepts it: 1..32 of [a-z0-9_.-] (and
 * upper case), not starting with '-'. */
static bool is_group_name(const char *name, size_t len)
{
    if (len == 0 || len > SV_INTAKE_GROUP_NAME_MAX || name[0] == '-')
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

/* A comma-separated list of group names (each trimmed), or empty; kept as
 * written. With is_single, at most one name. */
static int set_groups(char *field, size_t cap, const char *key, const char *value,
                      bool is_single, char *err, size_t err_len)
{
    size_t len = strlen(value);
    if (len >= cap)
        return setting_error(err, err_len, "%s is longer than %zu bytes", key, cap - 1);
    size_t names = 0;
    for (const char *p = value; *p != '\0';) {
        const char *comma = strchr(p, ',');
        const char *end = comma != NULL ? comma : p + strlen(p);
        const char *a = p, *b = end;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        if (!is_group_name(a, (size_t)(b - a)))
            return setting_error(err, err_len,
                                 "%s: each group name is 1 to %d of a-z, A-Z, 0-9, '_', '.' "
                                 "and '-', separated by commas",
                                 key, SV_INTAKE_GROUP_NAME_MAX);
        names++;
        p = comma != NULL ? comma + 1 : end;
        if (comma != NULL && *p == '\0')
            return setting_error(err, err_len, "%s ends with a comma", key);
    }
    if (is_single && names > 1)
        return setting_error(err, err_len, "%s takes one group name", key);
    memcpy(field, value, len + 1);
    return 0;
}

/* The socket's path must fit a Unix socket address. */
static int set_socket(sv_intake_settings *s, const char *value, char *err, size_t err_len)
{
    if (strlen(value) >= SOCKET_PATH_MAX)
        return setting_error(err, err_len, "socket is longer than %d bytes (the limit of a "
                                           "Unix socket's path)",
                             SOCKET_PATH_MAX - 1);
    return set_path(s->access_socket, sizeof s->access_socket, "socket", value, false, err,
                    err_len);
}

static int set_access(sv_intake_settings *s, const char *key, const char *value, char *err,
                      size_t err_len)
{
    if (strcmp(key, "socket") == 0)
        return set_socket(s, value, err, err_len);
    if (strcmp(key, "socket_group") == 0)
        return set_groups(s->access_socket_group, sizeof s->access_socket_group, key, value,
                          true, err, err_len);
    if (strcmp(key, "admin_groups") == 0)
        return set_groups(s->access_admin_groups, sizeof s->access_admin_groups, key, value,
                          false, err, err_len);
    if (strcmp(key, "clerk_groups") == 0)
        return set_groups(s->access_clerk_groups, sizeof s->access_clerk_groups, key, value,
                          false, err, err_len);
    if (strcmp(key, "reviewer_groups") == 0)
        return set_groups(s->access_reviewer_groups, sizeof s->access_reviewer_groups, key,
                          value, false, err, err_len);
    if (strcmp(key, "admin_docs_per_hour") == 0)
        return set_count(&s->access_admin_docs_per_hour, key, value, 0, 1000000, err, err_len);
    if (strcmp(key, "clerk_docs_per_hour") == 0)
        return set_count(&s->access_clerk_docs_per_hour, key, value, 0, 1000000, err, err_len);
    if (strcmp(key, "reviewer_docs_per_hour") == 0)
        return set_count(&s->access_reviewer_docs_per_hour, key, value, 0, 1000000, err,
                         err_len);
    return SV_ENOTFOUND;
}

int sv_intake_settings_set(sv_intake_settings *s, const char *section, const char *key,
                           const char *value, char *err, size_t err_len)
{
    if (strcmp(section, "storage") == 0) {
        if (strcmp(key, "data_dir") == 0)
            return set_path(s->data_dir, sizeof s->data_dir, key, value, false, err, err_len);
        if (strcmp(key, "key_file") == 0)
            return set_key_file(s, value, err, err_len);
        if (strcmp(key, "docid_prefix") == 0)
            return set_prefix(s, value, err, err_len);
    } else if (strcmp(section, "intake") == 0) {
        if (strcmp(key, "workers") == 0)
            return set_count(&s->workers, key, value, 0, SV_WORKERS_MAX, err, err_len);
        if (strcmp(key, "inbox") == 0)
            return set_path(s->inbox, sizeof s->inbox, key, value, false, err, err_len);
        if (strcmp(key, "settle_seconds") == 0)
            return set_count(&s->settle_seconds, key, value, 1, 3600, err, err_len);
        if (strcmp(key, "rescan_seconds") == 0)
            return set_count(&s->rescan_seconds, key, value, 1, 3600, err, err_len);
        if (strcmp(key, "inotify") == 0)
            return set_bool(&s->use_inotify, key, value, err, err_len);
    } else if (strcmp(section, "service") == 0) {
        if (strcmp(key, "status_file") == 0)
            return set_path(s->status_file, sizeof s->status_file, key, value, true, err, err_len);
        if (strcmp(key, "metrics_file") == 0)
            return set_path(s->metrics_file, sizeof s->metrics_file, key, value, true, err,
                            err_len);
        if (strcmp(key, "log_level") == 0)
            return set_log_level(s, value, err, err_len);
    } else if (strcmp(section, "access") == 0) {
        return set_access(s, key, value, err, err_len);
    }
    return SV_ENOTFOUND;
}

unsigned sv_intake_settings_workers(const sv_intake_settings *s)
{
    if (s->workers > 0)
        return s->workers;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1)
        return 1;
    return cores > SV_WORKERS_MAX ? SV_WORKERS_MAX : (unsigned)cores;
}
