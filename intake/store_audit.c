/*
 * store_audit.c - the store's audit log read back: every line verified
 * (sv_audit_read() walks the chain), printed through a filter or summed up
 * in a verify report, with the kept anchor and the rotation archives
 * checked. The command line (`scanvault audit`, `audit verify`) and, later,
 * the service's socket call these, so every check lives here.
 *
 * Why the audit_read / audit_verify line is appended after the walk and
 * not before: the walk reads the log up to its size when it starts, and the
 * line records what the walk found (lines, first bad line). A broken chain
 * in the middle does not stop the append (appending checks only the last
 * line); a damaged end does, and the caller is told.
 *
 * Rotation archives (sv_intake.h, "the audit log"): the old log is pinned
 * by its SHA-256 and line count in the first line of the new log, which the
 * new key authenticates. An archive's own first line is read without a MAC
 * check (its key is gone): it is trusted only because the hash that pins
 * the archive covers it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "intake_internal.h"

#define ARCHIVE_READ_BUF (64u << 10)

/* The state of one walk over the log, shared by read and verify. */
typedef struct audit_walk {
    sv_store *store;
    sv_store_audit_report *rep;
    const sv_store_audit_filter *filter;      /* read */
    sv_audit_entry_fn fn;                     /* read: fn; verify: notable */
    void *ctx;
    bool is_verify;
    const sv_store_audit_verify_options *opts; /* verify; may be NULL */
    char audit_dir[SV_INTAKE_PATH_MAX];
    bool is_anchor_seen;
    bool is_anchor_equal;
    bool is_anchor_archived;                  /* the anchor's line is in a pinned archive */
    bool is_stopped;                          /* read: fn asked to stop */
    char archive_why[320];                    /* the first archive failure */
} audit_walk;

/* What a rotation line pins: "archive=audit-<16 hex>.log lines=N sha256=<64 hex>". */
typedef struct archive_pin {
    char name[SV_STORE_AUDIT_ARCHIVE_NAME_MAX + 1];
    uint64_t lines;
    uint8_t sha256[SV_SHA256_LEN];
} archive_pin;

/* What one archive file holds. */
typedef struct archive_facts {
    uint64_t lines;
    uint8_t sha256[SV_SHA256_LEN];
    bool is_rotated;                      /* its first line is a rotation line */
    char next_pin[SV_AUDIT_RESULT_MAX + 1]; /* that line's result */
    bool has_anchor;                      /* a line with the anchor's seq and MAC */
} archive_facts;

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1; /* upper case is refused: the log has one spelling */
}

/* n bytes from exactly 2n lowercase hex digits at s. 0 or -1. */
static int hex_decode(const char *s, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i++) {
        int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

/* [a-z_], a letter first, 1..SV_AUDIT_ACTION_MAX: the rule of the log. */
static bool is_action_code(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > SV_AUDIT_ACTION_MAX || s[0] < 'a' || s[0] > 'z')
        return false;
    for (size_t i = 0; i < n; i++)
        if ((s[i] < 'a' || s[i] > 'z') && s[i] != '_')
            return false;
    return true;
}

/* A decimal without sign or leading zero, at most 2^64-1, ending at *end. */
static int parse_count(const char *s, const char **end, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;
    while (s[i] >= '0' && s[i] <= '9') {
        unsigned d = (unsigned)(s[i] - '0');
        if ((i == 1 && s[0] == '0') || v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
        i++;
    }
    if (i == 0)
        return -1;
    *end = s + i;
    *out = v;
    return 0;
}

/* Parse a rotation line's result, which must be exactly
 * "archive=audit-<16 hex>.log lines=<N> sha256=<64 hex>". 0 or -1. */
static int parse_pin(const char *result, archive_pin *pin)
{
    static const char head[] = "archive=audit-", mid[] = ".log lines=", tail[] = " sha256=";
    memset(pin, 0, sizeof *pin);
    const char *p = result;
    if (strncmp(p, head, sizeof head - 1) != 0)
        return -1;
    p += sizeof head - 1;
    uint8_t key_id[SV_KEY_ID_LEN];
    if (strnlen(p, SV_KEY_ID_HEX_LEN) != SV_KEY_ID_HEX_LEN ||
        hex_decode(p, SV_KEY_ID_LEN, key_id) != 0)
        return -1;
    p += SV_KEY_ID_HEX_LEN;
    if (strncmp(p, mid, sizeof mid - 1) != 0)
        return -1;
    p += sizeof mid - 1;
    if (parse_count(p, &p, &pin->lines) != 0 || strncmp(p, tail, sizeof tail - 1) != 0)
        return -1;
    p += sizeof tail - 1;
    if (strlen(p) != 2 * SV_SHA256_LEN || hex_decode(p, SV_SHA256_LEN, pin->sha256) != 0)
        return -1;
    /* The name is "audit-" and the key id as written (lowercase hex, checked
     * above): it cannot hold a slash or "..". */
    snprintf(pin->name, sizeof pin->name, "audit-%.*s.log", SV_KEY_ID_HEX_LEN,
             result + sizeof head - 1);
    return 0;
}

/* The first line of an archive (len bytes, no newline), split on its tabs
 * without a MAC check: is it a rotation line, and what is its result? */
static void read_first_line(const char *line, size_t len, archive_facts *facts)
{
    const char *field[8];
    size_t field_len[8], n = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && line[i] != '\t')
            continue;
        if (n == 8)
            return; /* more than eight fields: not a log line */
        field[n] = line + start;
        field_len[n] = i - start;
        n++;
        start = i + 1;
    }
    static const char rotate[] = SV_STORE_AUDIT_ACTION_ROTATE;
    if (n != 8 || field_len[4] != sizeof rotate - 1 ||
        memcmp(field[4], rotate, sizeof rotate - 1) != 0 || field_len[6] > SV_AUDIT_RESULT_MAX)
        return;
    facts->is_rotated = true;
    memcpy(facts->next_pin, field[6], field_len[6]);
    facts->next_pin[field_len[6]] = '\0';
}

/* Is this archive line (len bytes, no newline) the anchor's: its seq first,
 * its MAC (64 hex) last? An anchor kept before a key rotation names a line
 * that now lives in an archive, whose bytes the rotation line pins. */
static bool is_anchor_line(const char *line, size_t len, const sv_store_audit_verify_options *o)
{
    char seq_text[24];
    size_t n = 0;
    while (n < len && n < sizeof seq_text - 1 && line[n] != '\t') {
        seq_text[n] = line[n];
        n++;
    }
    seq_text[n] = '\0';
    const char *end = NULL;
    uint64_t seq = 0;
    if (n == len || line[n] != '\t' || parse_count(seq_text, &end, &seq) != 0 || *end != '\0' ||
        seq != o->anchor_seq || len < 2 * SV_AUDIT_MAC_LEN + 1 ||
        line[len - 2 * SV_AUDIT_MAC_LEN - 1] != '\t')
        return false;
    char mac_hex[2 * SV_AUDIT_MAC_LEN + 1];
    memcpy(mac_hex, line + len - 2 * SV_AUDIT_MAC_LEN, 2 * SV_AUDIT_MAC_LEN);
    mac_hex[2 * SV_AUDIT_MAC_LEN] = '\0';
    uint8_t mac[SV_AUDIT_MAC_LEN];
    return hex_decode(mac_hex, SV_AUDIT_MAC_LEN, mac) == 0 &&
           memcmp(mac, o->anchor_mac, sizeof mac) == 0;
}

/* Count the lines of the open archive (its line feeds, as the rotation
 * counts them: a log's lines each end with one), keep its first line, and
 * hash it whole. The size is compared between the two passes, so a file that
 * changes while it is read is not taken for the one that was pinned. */
static int measure_archive(int fd, const char *path, const sv_store_audit_verify_options *o,
                           archive_facts *facts)
{
    bool is_looking = o != NULL && o->anchor_seq != 0;
    char line[SV_AUDIT_LINE_MAX];
    size_t line_len = 0;
    bool is_line_too_long = false;
    char *buf = malloc(ARCHIVE_READ_BUF);
    if (buf == NULL)
        return intake_fail(SV_ENOMEM, "out of memory reading %s", path);
    char first[SV_AUDIT_LINE_MAX];
    size_t first_len = 0;
    bool is_first_done = false, is_first_complete = false;
    uint64_t size = 0, hashed_size = 0;
    int rc = 0;
    for (;;) {
        ssize_t got = read(fd, buf, ARCHIVE_READ_BUF);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = intake_fail(SV_EERRNO, "cannot read %s: %s", path, strerror(errno));
            goto out;
        }
        if (got == 0)
            break;
        for (size_t i = 0; i < (size_t)got; i++) {
            if (is_looking && buf[i] != '\n') {
                if (line_len < sizeof line)
                    line[line_len++] = buf[i];
                else
                    is_line_too_long = true;
            }
            if (is_looking && buf[i] == '\n') {
                if (!is_line_too_long && is_anchor_line(line, line_len, o))
                    facts->has_anchor = true;
                line_len = 0;
                is_line_too_long = false;
            }
            if (buf[i] == '\n') {
                facts->lines++;
                is_first_complete = is_first_complete || !is_first_done;
                is_first_done = true;
            } else if (!is_first_done) {
                if (first_len == sizeof first)
                    is_first_done = true; /* too long to be a log line */
                else
                    first[first_len++] = buf[i];
            }
        }
        size += (uint64_t)got;
    }
    if (is_first_complete)
        read_first_line(first, first_len, facts);
    if (lseek(fd, 0, SEEK_SET) != 0) {
        rc = intake_fail(SV_EERRNO, "cannot read %s: %s", path, strerror(errno));
        goto out;
    }
    if (sv_crypto_sha256_fd(fd, facts->sha256, &hashed_size) != 0) {
        rc = intake_fail(SV_EERRNO, "cannot read %s: %s", path, strerror(errno));
        goto out;
    }
    if (hashed_size != size)
        rc = intake_fail(SV_EAUTH, "%s changed while it was being read", path);
out:
    free(buf);
    return rc;
}

/* Open DIR/audit/<name> (not through a link) and measure it. SV_ENOTFOUND
 * when it is not there. */
static int open_archive(const audit_walk *w, const char *name, archive_facts *facts)
{
    memset(facts, 0, sizeof *facts);
    char path[SV_INTAKE_PATH_MAX];
    int rc = intake_path(path, sizeof path, w->audit_dir, name);
    if (rc != 0)
        return rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return intake_fail(errno == ENOENT ? SV_ENOTFOUND : SV_EERRNO, "cannot open %s: %s",
                           path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0)
        rc = intake_fail(SV_EERRNO, "cannot stat %s: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        rc = intake_fail(SV_EFORMAT, "%s is not a regular file", path);
    else
        rc = measure_archive(fd, path, w->opts, facts);
    close(fd);
    return rc;
}

/* Keep the first archive failure for the report and the final message. */
static void archive_failed(audit_walk *w, uint64_t seq, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void archive_failed(audit_walk *w, uint64_t seq, const char *name, const char *fmt, ...)
{
    if (w->rep->bad_archive_line != 0)
        return;
    w->rep->bad_archive_line = seq;
    snprintf(w->rep->bad_archive, sizeof w->rep->bad_archive, "%s", name);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->archive_why, sizeof w->archive_why, fmt, ap);
    va_end(ap);
}

/*
 * The rotation line seq of the log pins an archive; that archive may begin
 * with a rotation line pinning an older one, and so on. Check each: there,
 * the pinned SHA-256, the pinned line count. Failures are kept in the
 * report (the walk goes on: the rest of the chain still deserves a
 * verdict); only out of memory stops it.
 */
static int check_archives(audit_walk *w, uint64_t seq, const char *result)
{
    char pin_text[SV_AUDIT_RESULT_MAX + 1];
    snprintf(pin_text, sizeof pin_text, "%s", result);
    /* The archive whose first line is pin_text; "" for the log itself. */
    char holder[SV_STORE_AUDIT_ARCHIVE_NAME_MAX + 1] = "";
    for (unsigned depth = 0;; depth++) {
        /* Who pins the next archive, for the messages. */
        char by[SV_STORE_AUDIT_ARCHIVE_NAME_MAX + 48];
        if (holder[0] != '\0')
            snprintf(by, sizeof by, "the first line of archive %s", holder);
        else
            snprintf(by, sizeof by, "line %" PRIu64 " of the log", seq);
        archive_pin pin;
        if (parse_pin(pin_text, &pin) != 0) {
            archive_failed(w, seq, holder,
                           "%s is a rotation line but does not name an archive as "
                           "'archive=audit-<key id>.log lines=N sha256=<hex>'",
                           by);
            return 0;
        }
        if (depth == SV_STORE_AUDIT_ARCHIVES_MAX) {
            archive_failed(w, seq, pin.name, "more than %d archives, each pinned by the next",
                           SV_STORE_AUDIT_ARCHIVES_MAX);
            return 0;
        }
        archive_facts facts;
        int rc = open_archive(w, pin.name, &facts);
        if (rc == SV_ENOMEM)
            return rc;
        if (rc == SV_ENOTFOUND) {
            archive_failed(w, seq, pin.name, "archive %s, pinned by %s, is missing from %s: "
                                             "restore it from the backups (it is the log "
                                             "before a key rotation)",
                           pin.name, by, w->audit_dir);
            return 0;
        }
        if (rc != 0) {
            archive_failed(w, seq, pin.name, "archive %s, pinned by %s: %s", pin.name, by,
                           sv_intake_last_error());
            return 0;
        }
        if (memcmp(facts.sha256, pin.sha256, sizeof pin.sha256) != 0) {
            archive_failed(w, seq, pin.name, "archive %s does not hold the bytes %s pins (its "
                                             "SHA-256 differs): it was changed, cut or "
                                             "replaced after the rotation",
                           pin.name, by);
            return 0;
        }
        if (facts.lines != pin.lines) {
            archive_failed(w, seq, pin.name, "archive %s has %" PRIu64 " lines, %s says "
                                             "%" PRIu64,
                           pin.name, facts.lines, by, pin.lines);
            return 0;
        }
        w->rep->archives++;
        w->rep->archive_lines += facts.lines;
        w->is_anchor_archived = w->is_anchor_archived || facts.has_anchor;
        if (!facts.is_rotated)
            return 0;
        memcpy(pin_text, facts.next_pin, sizeof pin_text);
        memcpy(holder, pin.name, sizeof holder);
    }
}

static bool filter_matches(const sv_store_audit_filter *f, const sv_audit_entry *e)
{
    if (f == NULL)
        return true;
    return (f->from == 0 || e->time >= f->from) && (f->to == 0 || e->time <= f->to) &&
           (f->docid == NULL || strcmp(e->docid, f->docid) == 0) &&
           (f->action == NULL || strcmp(e->action, f->action) == 0);
}

/* Called by sv_audit_read() with each line once it verified. */
static int on_verified_line(const sv_audit_entry *e, void *ctx)
{
    audit_walk *w = ctx;
    sv_store_audit_report *rep = w->rep;
    rep->lines = e->seq;
    if (e->seq == 1)
        rep->first_time = e->time;
    rep->last_time = e->time;
    rep->anchor_seq = e->seq;
    memcpy(rep->anchor_mac, e->mac, sizeof rep->anchor_mac);
    bool is_repair = strcmp(e->action, SV_AUDIT_ACTION_REPAIR) == 0;
    bool is_rotation = strcmp(e->action, SV_STORE_AUDIT_ACTION_ROTATE) == 0;
    rep->repairs += is_repair;
    rep->rotations += is_rotation;
    if (!w->is_verify) {
        if (!filter_matches(w->filter, e))
            return 0;
        rep->shown++;
        int rc = w->fn != NULL ? w->fn(e, w->ctx) : 0;
        w->is_stopped = rc > 0;
        return rc;
    }
    if (w->opts != NULL && w->opts->anchor_seq == e->seq) {
        w->is_anchor_seen = true;
        w->is_anchor_equal = memcmp(w->opts->anchor_mac, e->mac, sizeof e->mac) == 0;
    }
    if (is_rotation) {
        int rc = check_archives(w, e->seq, e->result);
        if (rc != 0)
            return rc;
    }
    if ((is_repair || is_rotation) && w->fn != NULL) {
        int rc = w->fn(e, w->ctx);
        return rc < 0 ? rc : 0;
    }
    return 0;
}

static int check_filter(const sv_store_audit_filter *f)
{
    if (f == NULL)
        return 0;
    if (f->from < 0 || f->to < 0 || (f->to != 0 && f->from > f->to))
        return intake_fail(SV_EINVAL, "the time range is empty or negative (from after to)");
    if (f->docid != NULL && strcmp(f->docid, "-") != 0 && !sv_docid_is_valid(f->docid))
        return intake_fail(SV_EINVAL, "the docid filter is not a document id (or '-' for "
                                      "lines about none)");
    if (f->action != NULL && !is_action_code(f->action))
        return intake_fail(SV_EINVAL, "the action filter is not an action code (1..31 of "
                                      "a-z and '_', a letter first)");
    return 0;
}

static int begin_walk(audit_walk *w, sv_store *store, sv_store_audit_report *rep, char *log_path,
                      size_t log_len)
{
    memset(rep, 0, sizeof *rep);
    w->store = store;
    w->rep = rep;
    int rc = intake_path(w->audit_dir, sizeof w->audit_dir, sv_store_data_dir(store), "audit");
    if (rc == 0)
        rc = intake_path(log_path, log_len, w->audit_dir, "audit.log");
    return rc;
}

/*
 * Append this call's own line (rep->logged gets the append's code) and
 * return the call's result: walk_rc (the verdict's) with its message, or,
 * when the walk found nothing wrong, the append's. When the append fails the
 * message says so too.
 */
static int log_outcome(audit_walk *w, const char *action, int walk_rc, const char *outcome,
                       const char *message)
{
    char result[SV_AUDIT_RESULT_MAX + 1];
    int n;
    if (w->is_verify)
        n = snprintf(result, sizeof result, "lines=%" PRIu64 " %s", w->rep->lines, outcome);
    else
        n = snprintf(result, sizeof result, "lines=%" PRIu64 " shown=%" PRIu64 " %s",
                     w->rep->lines, w->rep->shown, outcome);
    if (n > 0 && w->rep->archives > 0 && (size_t)n < sizeof result)
        snprintf(result + n, sizeof result - (size_t)n, " archives=%" PRIu64, w->rep->archives);
    int rc = intake_audit(w->store, action, NULL, result);
    w->rep->logged = rc;
    if (rc == 0 && walk_rc == 0)
        return 0;
    if (rc == 0)
        return intake_fail(walk_rc, "%s", message);
    return intake_fail(walk_rc != 0 ? walk_rc : rc,
                       "%s%sthis %s could not be recorded in the audit log: %s", message,
                       message[0] != '\0' ? "; " : "", w->is_verify ? "verify" : "reading",
                       sv_crypto_last_error());
}

/* The verdict after the walk, first problem first, and its message. */
static int judge(audit_walk *w, int rc, uint64_t bad_line, char *outcome, size_t outcome_len,
                 char *message, size_t message_len)
{
    sv_store_audit_report *rep = w->rep;
    if (rc == SV_EAUTH && bad_line != 0) {
        rep->verdict = SV_STORE_AUDIT_BROKEN;
        rep->bad_line = bad_line;
        snprintf(outcome, outcome_len, "bad_line=%" PRIu64, bad_line);
        snprintf(message, message_len, "%s", sv_crypto_last_error());
        return rc;
    }
    if (rc != 0) {
        rep->verdict = SV_STORE_AUDIT_ERROR;
        snprintf(outcome, outcome_len, "error");
        snprintf(message, message_len, "%s", sv_crypto_last_error());
        return rc;
    }
    const sv_store_audit_verify_options *o = w->opts;
    /* An anchor kept before a key rotation: its line is in an archive the
     * log pins (seq numbers start again in the new log). */
    if (w->is_anchor_archived)
        o = NULL;
    if (o != NULL && o->anchor_seq != 0 && !w->is_anchor_seen) {
        rep->verdict = SV_STORE_AUDIT_ANCHOR_MISSING;
        snprintf(outcome, outcome_len, "bad_anchor=%" PRIu64, o->anchor_seq);
        snprintf(message, message_len,
                 "the audit log holds %" PRIu64 " lines, not line %" PRIu64 " of the anchor: "
                 "it was cut back (lines removed from its end, or the file replaced)",
                 rep->lines, o->anchor_seq);
        return SV_EAUTH;
    }
    if (o != NULL && o->anchor_seq != 0 && !w->is_anchor_equal) {
        rep->verdict = SV_STORE_AUDIT_ANCHOR_DIFFERS;
        snprintf(outcome, outcome_len, "bad_anchor=%" PRIu64, o->anchor_seq);
        snprintf(message, message_len,
                 "line %" PRIu64 " of the audit log does not have the anchor's MAC: the log "
                 "was replaced or rewritten from that line on (or the anchor is of another "
                 "log)",
                 o->anchor_seq);
        return SV_EAUTH;
    }
    if (rep->bad_archive_line != 0) {
        rep->verdict = SV_STORE_AUDIT_ARCHIVE;
        snprintf(outcome, outcome_len, "bad_archive=%s",
                 rep->bad_archive[0] != '\0' ? rep->bad_archive : "-");
        snprintf(message, message_len, "%s", w->archive_why);
        return SV_EAUTH;
    }
    rep->verdict = SV_STORE_AUDIT_OK;
    snprintf(outcome, outcome_len, "ok");
    message[0] = '\0';
    return 0;
}

int sv_store_audit_read(sv_store *store, const sv_store_audit_filter *filter,
                        sv_audit_entry_fn fn, void *ctx, sv_store_audit_report *rep)
{
    intake_clear_error();
    audit_walk w = {.filter = filter, .fn = fn, .ctx = ctx};
    char log_path[SV_INTAKE_PATH_MAX];
    int rc = begin_walk(&w, store, rep, log_path, sizeof log_path);
    if (rc != 0)
        return rc;
    if ((rc = check_filter(filter)) != 0)
        return rc;
    uint64_t bad_line = 0;
    rc = sv_audit_read(sv_store_keyring(store), log_path, on_verified_line, &w, &bad_line);
    char outcome[SV_STORE_AUDIT_ARCHIVE_NAME_MAX + 32], message[sizeof w.archive_why + 256];
    rc = judge(&w, rc, bad_line, outcome, sizeof outcome, message, sizeof message);
    if (rc == 0 && w.is_stopped)
        snprintf(outcome, sizeof outcome, "stopped");
    return log_outcome(&w, "audit_read", rc, outcome, message);
}

int sv_store_audit_verify(sv_store *store, const sv_store_audit_verify_options *opts,
                          sv_store_audit_report *rep)
{
    intake_clear_error();
    audit_walk w = {.is_verify = true,
                    .opts = opts,
                    .fn = opts != NULL ? opts->notable : NULL,
                    .ctx = opts != NULL ? opts->ctx : NULL};
    char log_path[SV_INTAKE_PATH_MAX];
    int rc = begin_walk(&w, store, rep, log_path, sizeof log_path);
    if (rc != 0)
        return rc;
    uint64_t bad_line = 0;
    rc = sv_audit_read(sv_store_keyring(store), log_path, on_verified_line, &w, &bad_line);
    char outcome[SV_STORE_AUDIT_ARCHIVE_NAME_MAX + 32], message[sizeof w.archive_why + 256];
    rc = judge(&w, rc, bad_line, outcome, sizeof outcome, message, sizeof message);
    return log_outcome(&w, "audit_verify", rc, outcome, message);
}
