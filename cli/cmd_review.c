/*
 * cmd_review.c - `scanvault review`: the clerks' review queue. Lists what
 * waits, shows one document with the MRN candidates OCR saw, and records a
 * person's decision (assign, reject, reassign) through the store, which
 * audits it and keeps vault and index in step.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static const char review_usage[] =
    "usage: scanvault review list [--json]\n"
    "       scanvault review show DOCID [-o FILE]\n"
    "       scanvault review assign DOCID MRN [--confirm MRN] [--type TYPE]\n"
    "       scanvault review reject DOCID --reason TEXT\n"
    "       scanvault review reassign DOCID NEW_MRN [--confirm MRN]\n"
    "  each also takes --data DIR, --config FILE, --key FILE (as for 'scanvault ingest'),\n"
    "  --socket PATH and --direct (below)\n"
    "\n"
    "The review queue holds the documents scanvault would not file on its own\n"
    "(no MRN, two different MRNs, a doubtful read, ...).\n"
    "\n"
    "  list      the queue, oldest first: docid, why it waits (in words), type\n"
    "            guess, pages, waiting since (UTC). --json: one object per line\n"
    "            {\"docid\", \"reason\", \"reason_words\", \"type\", \"pages\", \"size\",\n"
    "            \"intake_date\", \"since\", \"since_date\"}.\n"
    "  show      what scanvault saw: state, reason, type, and each MRN candidate\n"
    "            with where it was found and what is wrong with it. -o FILE also\n"
    "            writes the original scan to FILE (mode 0600, must not exist) for\n"
    "            a person to look at.\n"
    "  assign    file the document under MRN. The MRN is typed twice: --confirm\n"
    "            MRN, or a second prompt when standard input is a terminal. Both\n"
    "            must pass the format and check-digit rules of the configuration\n"
    "            and, when a known-MRN list is configured, be on it. '-' for MRN\n"
    "            prompts for it too (keeps it out of the shell history).\n"
    "            --type TYPE corrects the type guess.\n"
    "  reject    the document is not to be filed under any patient. It moves to\n"
    "            the quarantine with reason 'rejected'; TEXT (your reason, up to\n"
    "            511 bytes) is sealed with it, never logged.\n"
    "  reassign  move a filed document to another patient (a misfile); the new\n"
    "            MRN is typed twice as for assign. The audit log keeps the old\n"
    "            filing.\n"
    "\n"
    "Every look and every decision is audited with your user name; the audit\n"
    "log holds docids and blind values, never an MRN. When the service runs,\n"
    "each command goes through its socket: list, show, assign and reject need\n"
    "the reviewer, clerk or admin role, reassign the clerk or admin role, and\n"
    "show -o counts against the role's hourly cap; -o FILE is written by this\n"
    "command, never by the service. Otherwise the data directory is opened\n"
    "here (direct mode).\n"
    "\n"
    CLI_SESSION_HELP
    "\n"
    "Exit status: 0 done; 1 the decision could not be written; 2 usage error,\n"
    "or the MRN or confirmation was refused (nothing changed); 3 environment\n"
    "error (data directory, key, no such document, refused by the service).\n";

typedef struct review_args {
    cli_target target;
    const char *out_path, *confirm, *type, *reason;
    bool as_json;
} review_args;

/* Parse the options shared by every review subcommand; argv[0] is the
 * subcommand. Returns an exit code, or -1 to go on. */
static int parse_review_options(int argc, char **argv, review_args *a)
{
    static const struct option options[] = {{"data", required_argument, NULL, 'd'},
                                            {"config", required_argument, NULL, 'c'},
                                            {"key", required_argument, NULL, 'k'},
                                            {"output", required_argument, NULL, 'o'},
                                            {"confirm", required_argument, NULL, 'C'},
                                            {"type", required_argument, NULL, 't'},
                                            {"reason", required_argument, NULL, 'r'},
                                            {"json", no_argument, NULL, 'j'},
                                            {"help", no_argument, NULL, 'h'},
                                            CLI_SESSION_OPTIONS,
                                            {NULL, 0, NULL, 0}};
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "ho:", options, NULL)) != -1) {
        switch (opt) {
        case 'd': a->target.data_dir = optarg; break;
        case 'c': a->target.config_path = optarg; break;
        case 'k': a->target.key_file = optarg; break;
        case 'o': a->out_path = optarg; break;
        case 'C': a->confirm = optarg; break;
        case 't': a->type = optarg; break;
        case 'r': a->reason = optarg; break;
        case 'j': a->as_json = true; break;
        case 'h': fputs(review_usage, stdout); return SV_EXIT_OK;
        default:
            if (cli_target_option(&a->target, opt, optarg))
                break;
            fputs(review_usage, stderr);
            return SV_EXIT_USAGE;
        }
    }
    return -1;
}

/* Read one line from the terminal (the controlling tty, so a pipe on
 * standard input cannot answer for a person). */
static int prompt_line(const char *question, char *buf, size_t len)
{
    FILE *tty = fopen("/dev/tty", "r+");
    if (tty == NULL || !isatty(STDIN_FILENO)) {
        if (tty != NULL)
            fclose(tty);
        cli_error("give the MRN again with --confirm MRN (standard input is not a terminal)");
        return -1;
    }
    fputs(question, tty);
    fflush(tty);
    char *got = fgets(buf, (int)len, tty);
    fclose(tty);
    if (got == NULL) {
        cli_error("no answer; nothing changed");
        return -1;
    }
    buf[strcspn(buf, "\r\n")] = '\0';
    return 0;
}

static void print_item_json(const sv_store_review_item *it)
{
    char intake[32], since[32];
    cli_format_time(it->intake_time, true, intake, sizeof intake);
    cli_format_time(it->since, true, since, sizeof since);
    fputs("{\"docid\": ", stdout);
    cli_json_string(stdout, it->docid);
    fputs(", \"reason\": ", stdout);
    cli_json_string(stdout, it->reason);
    fputs(", \"reason_words\": ", stdout);
    cli_json_string(stdout, sv_store_reason_words(it->reason));
    fputs(", \"type\": ", stdout);
    cli_json_string(stdout, it->type[0] ? it->type : NULL);
    printf(", \"pages\": %u, \"size\": %llu, \"intake_date\": \"%s\", \"since\": %lld, "
           "\"since_date\": \"%s\"}\n",
           it->pages, (unsigned long long)it->size, intake, (long long)it->since, since);
}

static int review_list(cli_session *s, const review_args *a)
{
    sv_store_review_item *items = NULL;
    size_t n = 0;
    int rc = s->client != NULL ? sv_client_review_list(s->client, &items, &n)
                               : sv_store_review_list(s->store, &items, &n);
    if (rc != 0)
        return cli_session_failed(s, rc, SV_EXIT_ENV);
    if (!a->as_json)
        printf("%-26s %-17s %5s  %-16s  %s\n", "DOCID", "TYPE GUESS", "PAGES", "WAITING SINCE",
               "WHY");
    for (size_t i = 0; i < n; i++) {
        if (a->as_json) {
            print_item_json(&items[i]);
            continue;
        }
        char since[32];
        cli_format_time(items[i].since, false, since, sizeof since);
        printf("%-26s %-17s %5u  %-16s  %s\n", items[i].docid,
               items[i].type[0] ? items[i].type : "?", items[i].pages, since,
               sv_store_reason_words(items[i].reason));
    }
    if (!a->as_json)
        printf("%zu document(s) waiting for review\n", n);
    free(items);
    return SV_EXIT_OK;
}

/* One "candidate=... source=... ..." line of the OCR summary, for a person. */
static void print_candidate(const char *line)
{
    char digits[32] = "", source[16] = "", second[8] = "", hand[8] = "", problem[40] = "";
    int page = 0;
    double conf = 0;
    if (sscanf(line,
               "candidate=%31s source=%15s page=%d min_char_conf=%lf second_read=%7s "
               "handwritten=%7s problem=%39s",
               digits, source, &page, &conf, second, hand, problem) != 7) {
        fputs("  candidate (unreadable summary line)\n", stdout);
        return;
    }
    printf("  candidate %-12s from the %s on page %d, lowest character confidence %.0f, "
           "second read %s%s; %s\n",
           digits, source, page, conf, strcmp(second, "agrees") == 0 ? "agrees" : "differs",
           strcmp(hand, "yes") == 0 ? ", handwritten" : "",
           strcmp(problem, "none") == 0 ? "no problem of its own"
                                        : sv_store_reason_words(problem));
    memset(digits, 0, sizeof digits);
}

static void print_review_meta(const sv_vault_meta *m)
{
    char intake[32];
    cli_format_time(m->intake_time, false, intake, sizeof intake);
    printf("docid       %s\nstate       %s\n", m->docid, sv_vault_state_name(m->state));
    if (m->reason[0])
        printf("why         %s (%s)\n", sv_store_reason_words(m->reason), m->reason);
    printf("type guess  %s\npages       %u\nsize        %llu bytes\nintake      %s UTC\n",
           m->type, m->pages, (unsigned long long)m->size, intake);
    if (m->review_note[0]) {
        fputs("note        ", stdout);
        cli_print_safe(stdout, m->review_note);
        fputc('\n', stdout);
    }
    size_t n = 0;
    for (const char *line = m->ocr_summary; line != NULL && *line != '\0';) {
        const char *next = strchr(line, '\n');
        size_t len = next != NULL ? (size_t)(next - line) : strlen(line);
        char buf[512];
        if (len < sizeof buf && strncmp(line, "candidate=", 10) == 0) {
            memcpy(buf, line, len);
            buf[len] = '\0';
            if (n++ == 0)
                fputs("MRN candidates seen by OCR:\n", stdout);
            print_candidate(buf);
            memset(buf, 0, sizeof buf);
        }
        line = next != NULL ? next + 1 : NULL;
    }
    if (n == 0)
        fputs("MRN candidates seen by OCR: none\n", stdout);
}

typedef struct show_job {
    cli_session *session;
    const char *docid;
    sv_vault_meta *meta;
} show_job;

static int show(cli_session *s, const char *docid, int fd, sv_vault_meta *meta)
{
    return s->client != NULL ? sv_client_review_show(s->client, docid, fd, meta)
                             : sv_store_review_show(s->store, docid, fd, meta);
}

static int write_original(int fd, void *ctx)
{
    show_job *job = ctx;
    int rc = show(job->session, job->docid, fd, job->meta);
    if (rc == 0)
        return SV_EXIT_OK;
    return cli_session_failed(job->session, rc,
                              rc == SV_ENOTFOUND || rc == SV_EINVAL ? SV_EXIT_ENV
                                                                    : SV_EXIT_FAILURE);
}

static int review_show(cli_session *s, const char *docid, const review_args *a)
{
    sv_vault_meta *meta = calloc(1, sizeof *meta);
    if (meta == NULL) {
        cli_error("out of memory");
        return SV_EXIT_ENV;
    }
    int code = SV_EXIT_OK;
    show_job job = {s, docid, meta};
    int rc;
    if (a->out_path != NULL)
        code = cli_write_new_file(a->out_path, write_original, &job);
    else if ((rc = show(s, docid, -1, meta)) != 0)
        code = cli_session_failed(s, rc, SV_EXIT_ENV);
    if (code == SV_EXIT_OK) {
        print_review_meta(meta);
        if (a->out_path != NULL)
            printf("original scan written to %s\n", a->out_path);
    }
    sv_vault_meta_wipe(meta);
    free(meta);
    return code;
}

/* The exit code for a failed decision. */
static int decision_failed(const cli_session *s, int rc)
{
    return cli_session_failed(s, rc,
                              rc == SV_EINVAL || rc == SV_EEXIST ? SV_EXIT_USAGE
                              : rc == SV_ENOTFOUND               ? SV_EXIT_ENV
                                                                 : SV_EXIT_FAILURE);
}

/* The MRN and its confirmation, prompting on the terminal for what is
 * missing ("-" as the MRN prompts for it as well). */
static int typed_twice(const char *given, const char *confirm_opt, char *mrn, size_t mrn_len,
                       char *confirm, size_t confirm_len)
{
    /* Longer than the buffers: refused, never cut (two long entries that
     * differ only past the cut would otherwise compare equal). */
    if ((strcmp(given, "-") != 0 && strlen(given) >= mrn_len) ||
        (confirm_opt != NULL && strlen(confirm_opt) >= confirm_len)) {
        cli_error("the MRN given is far too long; nothing changed");
        return SV_EXIT_USAGE;
    }
    if (strcmp(given, "-") == 0) {
        if (prompt_line("MRN: ", mrn, mrn_len) != 0)
            return SV_EXIT_USAGE;
    } else {
        snprintf(mrn, mrn_len, "%s", given);
    }
    if (confirm_opt != NULL)
        snprintf(confirm, confirm_len, "%s", confirm_opt);
    else if (prompt_line("Type the MRN again to confirm: ", confirm, confirm_len) != 0) {
        memset(mrn, 0, mrn_len);
        return SV_EXIT_USAGE;
    }
    return SV_EXIT_OK;
}

/* The MRN and its confirmation for assign and reassign, asked before the
 * data is reached: a person may take longer to type than the service keeps
 * an idle connection open. */
typedef struct typed_mrn {
    char mrn[64], confirm[64];
} typed_mrn;

static int ask_before(const char *verb, char **args, int n_args, const review_args *a,
                      typed_mrn *t)
{
    if (strcmp(verb, "reject") == 0) {
        if (a->reason == NULL) {
            cli_error("review reject needs --reason TEXT");
            return SV_EXIT_USAGE;
        }
        return SV_EXIT_OK;
    }
    if (n_args != 2) {
        cli_error("review %s takes DOCID and MRN", verb);
        return SV_EXIT_USAGE;
    }
    return typed_twice(args[1], a->confirm, t->mrn, sizeof t->mrn, t->confirm,
                       sizeof t->confirm);
}

static int review_decide(cli_session *s, const char *verb, char **args, const review_args *a,
                         const typed_mrn *t)
{
    const char *docid = args[0];
    const char *mrn = t->mrn, *confirm = t->confirm;
    int rc;
    if (strcmp(verb, "reject") == 0) {
        rc = s->client != NULL ? sv_client_review_reject(s->client, docid, a->reason)
                               : sv_store_review_reject(s->store, docid, a->reason);
        if (rc != 0)
            return decision_failed(s, rc);
        printf("%s rejected: moved to the quarantine (reason: rejected)\n", docid);
        return SV_EXIT_OK;
    }
    if (strcmp(verb, "assign") == 0)
        rc = s->client != NULL
                 ? sv_client_review_assign(s->client, docid, mrn, confirm, a->type)
                 : sv_store_review_assign(s->store, s->rules, docid, mrn, confirm, a->type);
    else
        rc = s->client != NULL ? sv_client_review_reassign(s->client, docid, mrn, confirm)
                               : sv_store_review_reassign(s->store, s->rules, docid, mrn,
                                                          confirm);
    if (rc != 0)
        return decision_failed(s, rc);
    printf("%s %s under the MRN given\n", docid,
           strcmp(verb, "assign") == 0 ? "filed" : "moved");
    return SV_EXIT_OK;
}

int cmd_review(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(review_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? SV_EXIT_USAGE : SV_EXIT_OK;
    }
    const char *verb = argv[1];
    static const char *const verbs[] = {"list", "show", "assign", "reject", "reassign"};
    int wanted_args = -1;
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (strcmp(verb, verbs[i]) == 0)
            wanted_args = i == 0 ? 0 : (i == 2 || i == 4) ? 2 : 1;
    if (wanted_args < 0) {
        cli_error("unknown review command '%s': list, show, assign, reject or reassign", verb);
        return SV_EXIT_USAGE;
    }
    review_args a = {0};
    int code = parse_review_options(argc - 1, argv + 1, &a);
    if (code >= 0)
        return code;
    int n_args = argc - 1 - optind;
    char **args = argv + 1 + optind;
    if (n_args != wanted_args) {
        cli_error("review %s takes %s", verb,
                  wanted_args == 0 ? "no arguments"
                  : wanted_args == 1 ? "one DOCID"
                                     : "DOCID and MRN");
        return SV_EXIT_USAGE;
    }
    if (n_args > 0 && !sv_docid_is_valid(args[0])) {
        /* Not echoed: it may be an MRN given in the wrong place. */
        cli_error("the first argument is not a document id (as 'scanvault review list' prints "
                  "them)");
        return SV_EXIT_USAGE;
    }
    typed_mrn typed = {"", ""};
    bool is_decision = strcmp(verb, "list") != 0 && strcmp(verb, "show") != 0;
    if (is_decision && (code = ask_before(verb, args, n_args, &a, &typed)) != SV_EXIT_OK)
        return code;
    cli_session s;
    code = cli_session_open(&a.target, CLI_DIRECT_READ_WRITE, &s);
    if (code == SV_EXIT_OK) {
        if (strcmp(verb, "list") == 0)
            code = review_list(&s, &a);
        else if (strcmp(verb, "show") == 0)
            code = review_show(&s, args[0], &a);
        else
            code = review_decide(&s, verb, args, &a, &typed);
        cli_session_close(&s);
    }
    memset(&typed, 0, sizeof typed);
    return code;
}
