/*
 * config.c - the configuration file: a small, strict INI parser that hands
 * each key to the module that owns its section (a table of sections, so the
 * intake, vault and service sections can be added beside [mrn], [types] and
 * [ocr] without touching the parser).
 *
 * The file is trusted less than it looks: it is bounded (size, line length),
 * must be UTF-8 with no control characters, must not be writable by every
 * user, and every unknown or repeated name is an error rather than a silent
 * default, because a typo in [mrn] would change which documents file
 * automatically. Messages name the file and line, never the value.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sv_intake.h"

#define NAME_MAX_LEN 63
#define KEYS_MAX 4096

typedef struct seen_key {
    size_t section;
    char key[NAME_MAX_LEN + 1];
} seen_key;

typedef struct parser {
    const char *source;
    const sv_intake_config_section *sections;
    size_t n_sections;
    size_t line_no;
    size_t section; /* index into sections, or n_sections before the first */
    bool *section_seen;
    seen_key *keys;
    size_t n_keys;
    char *err;
    size_t err_len;
} parser;

__attribute__((format(printf, 2, 3))) static int parse_error(parser *p, const char *fmt, ...)
{
    if (p->err != NULL && p->err_len > 0) {
        int n = snprintf(p->err, p->err_len, "%s:%zu: ", p->source, p->line_no);
        if (n >= 0 && (size_t)n < p->err_len) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(p->err + n, p->err_len - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return SV_ECONFIG;
}

/* Length of the valid UTF-8 sequence at s (at most len bytes), or 0. Rejects
 * overlong forms, surrogates and code points above U+10FFFF. */
static size_t utf8_sequence(const unsigned char *s, size_t len)
{
    unsigned char c = s[0];
    size_t need;
    unsigned lo = 0x80, hi = 0xBF;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        need = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    } else
        return 0;
    if (len < need || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < need; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return need;
}

static bool is_name(const char *s, size_t len)
{
    if (len == 0 || len > NAME_MAX_LEN)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

static bool is_blank(char c) { return c == ' ' || c == '\t'; }

/* Trim blanks around s[0, *len); returns the new start. */
static const char *trim(const char *s, size_t *len)
{
    while (*len > 0 && is_blank(*s))
        s++, (*len)--;
    while (*len > 0 && is_blank(s[*len - 1]))
        (*len)--;
    return s;
}

static int section_line(parser *p, const char *s, size_t len)
{
    if (s[len - 1] != ']')
        return parse_error(p, "a section header must end with ']'");
    size_t name_len = len - 2;
    const char *name = trim(s + 1, &name_len);
    if (!is_name(name, name_len))
        return parse_error(p, "a section name is a-z, 0-9 and '_', at most %d characters",
                           NAME_MAX_LEN);
    for (size_t i = 0; i < p->n_sections; i++) {
        if (strlen(p->sections[i].name) != name_len ||
            memcmp(p->sections[i].name, name, name_len) != 0)
            continue;
        if (p->section_seen[i])
            return parse_error(p, "section [%s] appears twice", p->sections[i].name);
        p->section_seen[i] = true;
        p->section = i;
        return 0;
    }
    return parse_error(p, "unknown section [%.*s]", (int)name_len, name);
}

static int key_line(parser *p, const char *s, size_t len)
{
    const char *eq = memchr(s, '=', len);
    if (eq == NULL)
        return parse_error(p, "expected 'key = value' or '[section]'");
    size_t key_len = (size_t)(eq - s), value_len = len - key_len - 1;
    const char *key = trim(s, &key_len);
    const char *value = trim(eq + 1, &value_len);
    if (!is_name(key, key_len))
        return parse_error(p, "a key name is a-z, 0-9 and '_', at most %d characters",
                           NAME_MAX_LEN);
    if (p->section == p->n_sections)
        return parse_error(p, "key '%.*s' comes before any [section]", (int)key_len, key);
    char key_z[NAME_MAX_LEN + 1], value_z[SV_CONFIG_LINE_MAX + 1];
    memcpy(key_z, key, key_len);
    key_z[key_len] = '\0';
    memcpy(value_z, value, value_len);
    value_z[value_len] = '\0';
    const char *section = p->sections[p->section].name;
    for (size_t i = 0; i < p->n_keys; i++)
        if (p->keys[i].section == p->section && strcmp(p->keys[i].key, key_z) == 0)
            return parse_error(p, "key '%s' appears twice in [%s]", key_z, section);
    if (p->n_keys == KEYS_MAX)
        return parse_error(p, "more than %d keys", KEYS_MAX);
    p->keys[p->n_keys].section = p->section;
    memcpy(p->keys[p->n_keys].key, key_z, key_len + 1);
    p->n_keys++;

    char msg[512] = "";
    const sv_intake_config_section *owner = &p->sections[p->section];
    int rc = owner->set(owner->ctx, section, key_z, value_z, msg, sizeof msg);
    memset(value_z, 0, value_len); /* a value may be PHI (a path, an MRN) */
    if (rc == SV_ENOTFOUND)
        return parse_error(p, "unknown key '%s' in [%s]", key_z, section);
    if (rc == SV_ENOMEM)
        return rc;
    if (rc != 0) {
        parse_error(p, "%s", msg[0] != '\0' ? msg : sv_strerror(rc));
        return SV_ECONFIG;
    }
    return 0;
}

static int parse_line(parser *p, const char *line, size_t len)
{
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (len > SV_CONFIG_LINE_MAX)
        return parse_error(p, "line is longer than %u bytes", SV_CONFIG_LINE_MAX);
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)line[i];
        if (c == '\0')
            return parse_error(p, "NUL byte in the file");
        if ((c < 0x20 && c != '\t') || c == 0x7F)
            return parse_error(p, "control character in the file");
        size_t n = utf8_sequence((const unsigned char *)line + i, len - i);
        if (n == 0)
            return parse_error(p, "not valid UTF-8");
        i += n;
    }
    const char *s = trim(line, &len);
    if (len == 0 || s[0] == '#' || s[0] == ';')
        return 0;
    if (s[0] == '[')
        return section_line(p, s, len);
    return key_line(p, s, len);
}

int sv_intake_config_parse(const char *source, const char *buf, size_t len,
                           const sv_intake_config_section *sections, size_t n_sections,
                           char *err, size_t err_len)
{
    parser p;
    memset(&p, 0, sizeof p);
    p.source = source != NULL ? source : "(config)";
    p.sections = sections;
    p.n_sections = n_sections;
    p.section = n_sections;
    p.err = err;
    p.err_len = err_len;
    if (err != NULL && err_len > 0)
        err[0] = '\0';
    if (len > SV_CONFIG_FILE_MAX) {
        if (err != NULL && err_len > 0)
            snprintf(err, err_len, "%s: larger than %u bytes", p.source, SV_CONFIG_FILE_MAX);
        return SV_ECONFIG;
    }
    int rc = 0;
    p.section_seen = calloc(n_sections + 1, sizeof *p.section_seen);
    p.keys = calloc(KEYS_MAX, sizeof *p.keys);
    if (p.section_seen == NULL || p.keys == NULL) {
        rc = SV_ENOMEM;
        goto out;
    }
    size_t pos = 0;
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        pos = 3; /* a UTF-8 byte order mark, as some editors write */
    while (pos < len) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t line_len = nl != NULL ? (size_t)(nl - (buf + pos)) : len - pos;
        p.line_no++;
        rc = parse_line(&p, buf + pos, line_len);
        if (rc != 0)
            goto out;
        pos += line_len + (nl != NULL ? 1 : 0);
    }
out:
    free(p.keys);
    free(p.section_seen);
    return rc;
}

__attribute__((format(printf, 4, 5))) static int load_error(int rc, char *err, size_t err_len,
                                                            const char *fmt, ...)
{
    if (err != NULL && err_len > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
    }
    return rc;
}

int sv_intake_config_load_sections(const char *path, const sv_intake_config_section *sections,
                                   size_t n_sections, char *err, size_t err_len)
{
    char *buf = NULL;
    size_t len = 0;
    int rc = 0;
    if (err != NULL && err_len > 0)
        err[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return load_error(SV_EERRNO, err, err_len, "%s: cannot open: %s", path,
                          strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = load_error(SV_EERRNO, err, err_len, "%s: cannot stat: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = load_error(SV_ECONFIG, err, err_len, "%s: not a regular file", path);
        goto out;
    }
    if ((st.st_mode & S_IWOTH) != 0) {
        rc = load_error(SV_EPERM, err, err_len,
                        "%s: writable by every user; refusing it (run: chmod o-w %s)", path,
                        path);
        goto out;
    }
    if (st.st_size < 0 || (unsigned long long)st.st_size > SV_CONFIG_FILE_MAX) {
        rc = load_error(SV_ECONFIG, err, err_len, "%s: larger than %u bytes", path,
                        SV_CONFIG_FILE_MAX);
        goto out;
    }
    /* Read one byte past the limit to notice a file that grew meanwhile. */
    buf = malloc(SV_CONFIG_FILE_MAX + 1);
    if (buf == NULL) {
        rc = SV_ENOMEM;
        goto out;
    }
    for (;;) {
        ssize_t got = read(fd, buf + len, SV_CONFIG_FILE_MAX + 1 - len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = load_error(SV_EERRNO, err, err_len, "%s: cannot read: %s", path,
                            strerror(errno));
            goto out;
        }
        if (got == 0)
            break;
        len += (size_t)got;
        if (len > SV_CONFIG_FILE_MAX) {
            rc = load_error(SV_ECONFIG, err, err_len, "%s: larger than %u bytes", path,
                            SV_CONFIG_FILE_MAX);
            goto out;
        }
    }
    rc = sv_intake_config_parse(path, buf, len, sections, n_sections, err, err_len);
out:
    if (buf != NULL) {
        memset(buf, 0, len);
        free(buf);
    }
    close(fd);
    return rc;
}

/* The sections sv_ocr_rules owns, as a section handler. */
static int set_ocr_rules(void *ctx, const char *section, const char *key, const char *value,
                         char *err, size_t err_len)
{
    return sv_ocr_rules_set(ctx, section, key, value, err, err_len);
}

/* The service's own sections, as a section handler. */
static int set_service_setting(void *ctx, const char *section, const char *key,
                               const char *value, char *err, size_t err_len)
{
    return sv_intake_settings_set(ctx, section, key, value, err, err_len);
}

int sv_intake_config_load_all(const char *path, sv_ocr_rules *rules,
                              sv_intake_settings *settings, char *err, size_t err_len)
{
    sv_intake_settings ignored;
    sv_intake_settings_defaults(&ignored);
    if (settings == NULL)
        settings = &ignored;
    const sv_intake_config_section sections[] = {
        {"storage", set_service_setting, settings},
        {"intake", set_service_setting, settings},
        {"service", set_service_setting, settings},
        {"access", set_service_setting, settings},
        {"mrn", set_ocr_rules, rules},
        {"types", set_ocr_rules, rules},
        {"ocr", set_ocr_rules, rules},
    };
    int rc = sv_intake_config_load_sections(path, sections, sizeof sections / sizeof sections[0],
                                            err, err_len);
    if (rc != 0)
        return rc;
    char msg[512] = "";
    rc = sv_ocr_rules_finish(rules, msg, sizeof msg);
    if (rc != 0)
        return load_error(rc, err, err_len, "%s: %s", path,
                          msg[0] != '\0' ? msg : sv_strerror(rc));
    return 0;
}

int sv_intake_config_load(const char *path, sv_ocr_rules *rules, char *err, size_t err_len)
{
    return sv_intake_config_load_all(path, rules, NULL, err, err_len);
}
