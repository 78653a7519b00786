/*
 * cmd_audit.c - `scanvault audit` (the verified lines of the audit log,
 * filtered) and `scanvault audit verify` (the whole chain, a kept anchor and
 * the rotation archives). Every check is in the store (intake/store_audit.c);
 * this file parses the command line and prints.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char audit_usage[] =
    "usage: scanvault audit [--from DATE] [--to DATE] [--docid DOCID] [--action A]\n"
    "                       [--json] [--data DIR] [--config FILE] [--key FILE]\n"
    "       scanvault audit verify [--anchor SEQ:MAC] [--json]\n"
    "                       [--data DIR] [--config FILE] [--key FILE]\n"
    "\n"
    "'audit' prints the lines of the audit log (DIR/audit/audit.log) that match\n"
    "the filters, oldest first: line number, time (UTC), user id and name,\n"
    "action, docid ('-' for none) and result. A line is printed only once its\n"
    "MAC verified against the chain: when the chain breaks, the lines before\n"
    "the break are printed, then an error names the first bad line.\n"
    "\n"
    "'audit verify' verifies the whole chain and prints a summary: the lines,\n"
    "the first and last time, torn ends that were replaced, the rotation\n"
    "archives (each must still hold the SHA-256 and line count its rotation\n"
    "line pins, however many rotations back), and the anchor of the last line,\n"
    "SEQ:MAC. Keep that anchor outside this machine: a log that no longer\n"
    "holds line SEQ with that MAC was cut back, and lines cut off the end of\n"
    "the log show in no other way.\n"
    "\n"
    "Both are audited: one line (audit_read, audit_verify) is appended once\n"
    "the log has been read. The log holds docids and codes, never an MRN.\n"
    "\n"
    "Options:\n"
    "  --from DATE      audit: lines on or after DATE (YYYY-MM-DD, UTC)\n"
    "  --to DATE        audit: lines on or before DATE (to the end of that day)\n"
    "  --docid DOCID    audit: lines about this document ('-': about none)\n"
    "  --action A       audit: lines with this action (find, get, list,\n"
    "                   audit_read, audit_verify, audit_repair, ...)\n"
    "  --anchor SEQ:MAC verify: line SEQ must be there with this MAC (64 hex\n"
    "                   digits), as an earlier verify printed it\n"
    "  --json           audit: one JSON object per line: {\"seq\", \"time\", \"uid\",\n"
    "                   \"user\", \"action\", \"docid\", \"result\"} (docid and\n"
    "                   result null for '-'); verify: one JSON object, the summary\n"
    "  --data DIR, --config FILE, --key FILE   as for 'scanvault ingest'\n"
    "  --socket PATH    the service's socket (default: $SCANVAULT_SOCKET, else\n"
    "                   [access] socket of the configuration)\n"
    "  --direct         open the data directory here even when the service runs\n"
    "                   (needs the key: the service user, offline work)\n"
    "  -h, --help       this text\n"
    "\n"
    "When the service runs, both go through its socket (admin role); otherwise\n"
    "the data directory is opened here (direct mode).\n"
    "\n"
    "Exit status: 0 every line verified (and the anchor and the archives held);\n"
    "1 the chain is broken, the anchor or an archive does not match, or this\n"
    "command could not be audited; 2 usage error; 3 environment error (data\n"
    "directory, key, the log unreadable, refused by the service).\n";

/* The command line, parsed. */
typedef struct audit_args {
    bool is_verify;
    bool as_json;
    sv_store_audit_filter filter;
    bool has_filter;
    sv_store_audit_verify_options verify;
    cli_target target;
} audit_args;

static void mac_hex(const uint8_t mac[SV_AUDIT_MAC_LEN], char out[2 * SV_AUDIT_MAC_LEN + 1])
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < SV_AUDIT_MAC_LEN; i++) {
        out[2 * i] = digits[mac[i] >> 4];
        out[2 * i + 1] = digits[mac[i] & 15];
    }
    out[2 * SV_AUDIT_MAC_LEN] = '\0';
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* --anchor SEQ:MAC, as verify prints it. 0 or -1 (printed). */
static int parse_anchor(const char *text, sv_store_audit_verify_options *v)
{
    const char *colon = strchr(text, ':');
    char *end = NULL;
    errno = 0;
    unsigned long long seq = text[0] >= '1' && text[0] <= '9' ? strtoull(text, &end, 10) : 0;
    if (seq == 0 || errno != 0 || colon == NULL || end != colon ||
        strlen(colon + 1) != 2 * SV_AUDIT_MAC_LEN) {
        cli_error("--anchor takes SEQ:MAC, a line number and 64 hex digits, as 'scanvault "
                  "audit verify' prints it");
        return -1;
    }
    for (size_t i = 0; i < SV_AUDIT_MAC_LEN; i++) {
        int hi = hex_digit(colon[1 + 2 * i]), lo = hex_digit(colon[2 + 2 * i]);
        if (hi < 0 || lo < 0) {
            cli_error("--anchor: the MAC is 64 hex digits");
            return -1;
        }
        v->anchor_mac[i] = (uint8_t)(hi << 4 | lo);
    }
    v->anchor_seq = (uint64_t)seq;
    return 0;
}

/* How `audit` prints. */
typedef struct print_state {
    bool as_json;
    bool is_header_done;
} print_state;

/* One verified line of `audit` (the table's header before the first). */
static int print_line(const sv_audit_entry *e, void *ctx)
{
    print_state *ps = ctx;
    char when[32];
    cli_format_time(e->time, ps->as_json, when, sizeof when);
    if (!ps->as_json && !ps->is_header_done) {
        printf("%6s  %-16s  %6s  %-12s  %-14s  %-26s  %s\n", "LINE", "TIME (UTC)", "UID",
               "USER", "ACTION", "DOCID", "RESULT");
        ps->is_header_done = true;
    }
    if (ps->as_json) {
        printf("{\"seq\": %" PRIu64 ", \"time\": \"%s\", \"uid\": %" PRIu32 ", \"user\": ",
               e->seq, when, e->uid);
        cli_json_string(stdout, e->user);
        fputs(", \"action\": ", stdout);
        cli_json_string(stdout, e->action);
        fputs(", \"docid\": ", stdout);
        cli_json_string(stdout, strcmp(e->docid, "-") != 0 ? e->docid : NULL);
        fputs(", \"result\": ", stdout);
        cli_json_string(stdout, strcmp(e->result, "-") != 0 ? e->result : NULL);
        fputs("}\n", stdout);
        return 0;
    }
    printf("%6" PRIu64 "  %-16s  %6" PRIu32 "  ", e->seq, when, e->uid);
    cli_print_safe(stdout, e->user);
    printf("%*s  %-14s  %-26s  ", strlen(e->user) < 12 ? (int)(12 - strlen(e->user)) : 0, "",
           e->action, e->docid);
    cli_print_safe(stdout, e->result);
    fputc('\n', stdout);
    return 0;
}

/* A repair or rotation line met by `audit verify` (text output only). */
static int print_notable(const sv_audit_entry *e, void *ctx)
{
    (void)ctx;
    char when[32];
    cli_format_time(e->time, false, when, sizeof when);
    bool is_repair = strcmp(e->action, SV_AUDIT_ACTION_REPAIR) == 0;
    printf("line %" PRIu64 " (%s UTC): %s: ", e->seq, when,
           is_repair ? "a torn end was replaced (a writer crashed mid-line)"
                     : "key rotation, the old log archived");
    cli_print_safe(stdout, e->result);
    fputc('\n', stdout);
    return 0;
}

static const char *verdict_name(sv_store_audit_verdict v)
{
    switch (v) {
    case SV_STORE_AUDIT_OK: return "ok";
    case SV_STORE_AUDIT_BROKEN: return "broken";
    case SV_STORE_AUDIT_ANCHOR_MISSING: return "anchor_missing";
    case SV_STORE_AUDIT_ANCHOR_DIFFERS: return "anchor_differs";
    case SV_STORE_AUDIT_ARCHIVE: return "archive";
    case SV_STORE_AUDIT_ERROR: return "error";
    }
    return "error";
}

static void print_time_json(const char *name, int64_t t, bool is_set)
{
    char when[32];
    printf(", \"%s\": ", name);
    if (!is_set) {
        fputs("null", stdout);
        return;
    }
    cli_format_time(t, true, when, sizeof when);
    printf("\"%s\"", when);
}

static void print_summary_json(const sv_store_audit_report *r, const char *error)
{
    char mac[2 * SV_AUDIT_MAC_LEN + 1];
    mac_hex(r->anchor_mac, mac);
    printf("{\"ok\": %s, \"verdict\": \"%s\", \"lines\": %" PRIu64,
           r->verdict == SV_STORE_AUDIT_OK && r->logged == 0 ? "true" : "false",
           verdict_name(r->verdict), r->lines);
    print_time_json("first_time", r->first_time, r->lines > 0);
    print_time_json("last_time", r->last_time, r->lines > 0);
    if (r->anchor_seq > 0)
        printf(", \"anchor\": \"%" PRIu64 ":%s\"", r->anchor_seq, mac);
    else
        fputs(", \"anchor\": null", stdout);
    if (r->bad_line > 0)
        printf(", \"bad_line\": %" PRIu64, r->bad_line);
    else
        fputs(", \"bad_line\": null", stdout);
    printf(", \"repairs\": %" PRIu64 ", \"rotations\": %" PRIu64 ", \"archives\": %" PRIu64
           ", \"archive_lines\": %" PRIu64 ", \"bad_archive\": ",
           r->repairs, r->rotations, r->archives, r->archive_lines);
    cli_json_string(stdout, r->verdict == SV_STORE_AUDIT_ARCHIVE ? r->bad_archive : NULL);
    printf(", \"logged\": %s, \"error\": ", r->logged == 0 ? "true" : "false");
    cli_json_string(stdout, error);
    fputs("}\n", stdout);
}

static void print_summary_text(const sv_store_audit_report *r, const char *data_dir)
{
    char first[32], last[32], mac[2 * SV_AUDIT_MAC_LEN + 1];
    if (r->lines == 0) {
        printf("audit log %s/audit/audit.log: empty, nothing to verify\n", data_dir);
    } else {
        cli_format_time(r->first_time, false, first, sizeof first);
        cli_format_time(r->last_time, false, last, sizeof last);
        printf("audit log %s/audit/audit.log: %" PRIu64 " lines verified, %s to %s (UTC)\n",
               data_dir, r->lines, first, last);
    }
    if (r->repairs > 0)
        printf("torn ends replaced: %" PRIu64 " (listed above)\n", r->repairs);
    if (r->rotations > 0)
        printf("rotation archives: %" PRIu64 " intact (%" PRIu64 " lines), each holding the "
               "SHA-256 and line count its rotation line pins\n",
               r->archives, r->archive_lines);
    if (r->verdict != SV_STORE_AUDIT_OK || r->anchor_seq == 0)
        return;
    mac_hex(r->anchor_mac, mac);
    printf("anchor: %" PRIu64 ":%s\n", r->anchor_seq, mac);
    printf("keep this anchor outside this machine; a log that no longer holds this line with "
           "this MAC was cut back ('scanvault audit verify --anchor %" PRIu64 ":...')\n",
           r->anchor_seq);
}

/* What a verdict means, for the person reading the error. */
static void explain(const sv_store_audit_report *r)
{
    switch (r->verdict) {
    case SV_STORE_AUDIT_BROKEN: {
        char verified[48] = "No line verified";
        if (r->bad_line > 1)
            snprintf(verified, sizeof verified, "Lines 1..%" PRIu64 " verified", r->bad_line - 1);
        cli_error("the chain breaks at line %" PRIu64 ": there a line was edited, removed (the "
                  "next line now stands in its place), inserted or repeated, two lines were "
                  "swapped, the end was torn, or the line was written under another key. "
                  "%s. Keep the file as it is and compare it with a backup",
                  r->bad_line, verified);
        break;
    }
    case SV_STORE_AUDIT_ANCHOR_MISSING:
    case SV_STORE_AUDIT_ANCHOR_DIFFERS:
        cli_error("the log does not hold the anchor kept earlier: lines were removed from "
                  "its end or it was replaced. Keep the file as it is and compare it with a "
                  "backup");
        break;
    case SV_STORE_AUDIT_ARCHIVE:
        cli_error("an archived log (before a key rotation) is not the one its rotation line "
                  "pins: restore it from a backup; keep this copy for investigation");
        break;
    default: break;
    }
}

/* A refusal or a lost service: nothing was read, no summary to show. */
static bool is_refused(const cli_session *s, int rc)
{
    return s->client != NULL && (rc == SV_EPERM || rc == SV_ETIMEOUT || rc == SV_ETRUNC ||
                                 rc == SV_EFORMAT || rc == SV_EVERSION);
}

static int exit_code(int rc, const sv_store_audit_report *r)
{
    if (rc == 0)
        return SV_EXIT_OK;
    if (rc == SV_EINVAL)
        return SV_EXIT_USAGE;
    if (r->verdict == SV_STORE_AUDIT_ERROR && r->logged == 0)
        return SV_EXIT_ENV;
    return SV_EXIT_FAILURE;
}

static int run_audit(cli_session *s, const audit_args *a)
{
    sv_store_audit_report report;
    print_state ps = {.as_json = a->as_json};
    const sv_store_audit_filter *f = a->has_filter ? &a->filter : NULL;
    int rc = s->client != NULL ? sv_client_audit_read(s->client, f, print_line, &ps, &report)
                               : sv_store_audit_read(s->store, f, print_line, &ps, &report);
    fflush(stdout);
    if (is_refused(s, rc))
        return cli_session_failed(s, rc, SV_EXIT_ENV);
    if (rc != 0) {
        cli_error("%s", sv_intake_last_error());
        explain(&report);
    }
    return exit_code(rc, &report);
}

static int run_verify(cli_session *s, const audit_args *a)
{
    sv_store_audit_report report;
    sv_store_audit_verify_options v = a->verify;
    v.notable = a->as_json ? NULL : print_notable;
    int rc = s->client != NULL ? sv_client_audit_verify(s->client, &v, &report)
                               : sv_store_audit_verify(s->store, &v, &report);
    if (is_refused(s, rc))
        return cli_session_failed(s, rc, SV_EXIT_ENV);
    if (a->as_json)
        print_summary_json(&report, rc != 0 ? sv_intake_last_error() : NULL);
    else
        print_summary_text(&report, s->client != NULL ? sv_client_data_dir(s->client)
                                                      : sv_store_data_dir(s->store));
    fflush(stdout);
    if (rc != 0) {
        cli_error("%s", sv_intake_last_error());
        explain(&report);
    }
    return exit_code(rc, &report);
}

/* Parse argv into a. Returns an exit code; SV_EXIT_OK to go on. */
static int parse_args(int argc, char **argv, audit_args *a, bool *is_help)
{
    static const struct option options[] = {{"from", required_argument, NULL, 'f'},
                                            {"to", required_argument, NULL, 't'},
                                            {"docid", required_argument, NULL, 'D'},
                                            {"action", required_argument, NULL, 'a'},
                                            {"anchor", required_argument, NULL, 'A'},
                                            {"json", no_argument, NULL, 'j'},
                                            {"data", required_argument, NULL, 'd'},
                                            {"config", required_argument, NULL, 'c'},
                                            {"key", required_argument, NULL, 'k'},
                                            {"help", no_argument, NULL, 'h'},
                                            CLI_SESSION_OPTIONS,
                                            {NULL, 0, NULL, 0}};
    bool has_anchor = false;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case 'f':
            if (cli_parse_date("--from", optarg, false, &a->filter.from) != 0)
                return SV_EXIT_USAGE;
            a->has_filter = true;
            break;
        case 't':
            if (cli_parse_date("--to", optarg, true, &a->filter.to) != 0)
                return SV_EXIT_USAGE;
            a->has_filter = true;
            break;
        case 'D':
            if (strcmp(optarg, "-") != 0 && !sv_docid_is_valid(optarg)) {
                cli_error("--docid takes a document id (as 'scanvault find' prints them), "
                          "or '-'");
                return SV_EXIT_USAGE;
            }
            a->filter.docid = optarg;
            a->has_filter = true;
            break;
        case 'a':
            a->filter.action = optarg;
            a->has_filter = true;
            break;
        case 'A':
            if (parse_anchor(optarg, &a->verify) != 0)
                return SV_EXIT_USAGE;
            has_anchor = true;
            break;
        case 'j': a->as_json = true; break;
        case 'd': a->target.data_dir = optarg; break;
        case 'c': a->target.config_path = optarg; break;
        case 'k': a->target.key_file = optarg; break;
        case 'h': *is_help = true; return SV_EXIT_OK;
        default:
            if (cli_target_option(&a->target, opt, optarg))
                break;
            fputs(audit_usage, stderr);
            return SV_EXIT_USAGE;
        }
    }
    if (argc - optind == 1 && strcmp(argv[optind], "verify") == 0) {
        a->is_verify = true;
    } else if (argc != optind) {
        cli_error("audit takes no argument but 'verify'");
        fputs(audit_usage, stderr);
        return SV_EXIT_USAGE;
    }
    if (a->is_verify && a->has_filter) {
        cli_error("--from, --to, --docid and --action are for 'scanvault audit', not verify");
        return SV_EXIT_USAGE;
    }
    if (!a->is_verify && has_anchor) {
        cli_error("--anchor is for 'scanvault audit verify'");
        return SV_EXIT_USAGE;
    }
    if (a->filter.to != 0 && a->filter.from > a->filter.to) {
        cli_error("--from is after --to");
        return SV_EXIT_USAGE;
    }
    return SV_EXIT_OK;
}

int cmd_audit(int argc, char **argv)
{
    audit_args a;
    memset(&a, 0, sizeof a);
    bool is_help = false;
    int code = parse_args(argc, argv, &a, &is_help);
    if (is_help) {
        fputs(audit_usage, stdout);
        return SV_EXIT_OK;
    }
    if (code != SV_EXIT_OK)
        return code;
    /* Direct mode opens for writing: the command appends its own audit line,
     * and a data directory where nothing was ingested yet gets its (empty)
     * index, so the log can be read before the first document. */
    cli_session s;
    code = cli_session_open(&a.target, CLI_DIRECT_READ_WRITE, &s);
    if (code != SV_EXIT_OK)
        return code;
    code = a.is_verify ? run_verify(&s, &a) : run_audit(&s, &a);
    cli_session_close(&s);
    return code;
}
