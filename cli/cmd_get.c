/*
 * cmd_get.c - `scanvault get`: a document's original bytes, authenticated.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static const char get_usage[] =
    "usage: scanvault get [--data DIR] [--config FILE] [--key FILE] DOCID [-o FILE|-]\n"
    "\n"
    "Write the original bytes of document DOCID, bit for bit. Every encrypted\n"
    "chunk and the content hash are checked first: a damaged or tampered object\n"
    "writes nothing. Every retrieval is audited.\n"
    "\n"
    "Options:\n"
    "  -o FILE        write to FILE (created with mode 0600; it must not exist;\n"
    "                 it appears only once complete). '-' or no -o: standard\n"
    "                 output, which must not be a terminal\n"
    "  --data DIR, --config FILE, --key FILE   as for 'scanvault ingest'\n"
    CLI_SESSION_HELP
    "  -h, --help     this text\n"
    "\n"
    "When the service runs, the document comes through its socket (clerk or admin\n"
    "role; it counts against the role's hourly cap) and this command writes it;\n"
    "otherwise the data directory is opened here (direct mode).\n"
    "\n"
    "Exit status: 0 written; 1 the document is damaged or could not be written;\n"
    "2 usage error; 3 environment error (data directory, key, no such document,\n"
    "refused by the service).\n";

/* A temp file beside out_path, for writing the document before it appears
 * under its name. */
static int open_temp_beside(const char *out_path, char *tmp, size_t len)
{
    char *copy = strdup(out_path);
    if (copy == NULL)
        return -1;
    int n = snprintf(tmp, len, "%s/.scanvault-get-XXXXXX", dirname(copy));
    free(copy);
    if (n < 0 || (size_t)n >= len) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return mkostemp(tmp, O_CLOEXEC); /* mode 0600 */
}

int cli_write_new_file(const char *out_path, cli_writer_fn write_fn, void *ctx)
{
    struct stat st;
    if (lstat(out_path, &st) == 0) {
        cli_error("%s exists; remove it or choose another name", out_path);
        return SV_EXIT_USAGE;
    }
    char tmp[4096 + 32];
    int fd = open_temp_beside(out_path, tmp, sizeof tmp);
    if (fd < 0) {
        cli_error("cannot create a file beside %s: %s", out_path, strerror(errno));
        return SV_EXIT_ENV;
    }
    int code = write_fn(fd, ctx);
    if (code != SV_EXIT_OK) {
        /* write_fn printed why */
    } else if (fsync(fd) != 0 || close(fd) != 0) {
        cli_error("cannot write %s: %s", out_path, strerror(errno));
        code = SV_EXIT_FAILURE;
        fd = -1;
    } else {
        fd = -1;
        /* link() refuses an existing name: never overwrite a file that
         * appeared meanwhile. */
        if (link(tmp, out_path) != 0) {
            cli_error("cannot create %s: %s", out_path, strerror(errno));
            code = SV_EXIT_FAILURE;
        }
    }
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return code;
}

typedef struct get_job {
    const cli_session *session;
    const char *docid;
} get_job;

static int write_document(int fd, void *ctx)
{
    const get_job *job = ctx;
    int rc = job->session->client != NULL ? sv_client_get(job->session->client, job->docid, fd)
                                          : sv_store_get(job->session->store, job->docid, fd,
                                                         NULL);
    if (rc == 0)
        return SV_EXIT_OK;
    return cli_session_failed(job->session, rc,
                              rc == SV_ENOTFOUND || rc == SV_EINVAL ? SV_EXIT_ENV
                                                                    : SV_EXIT_FAILURE);
}

int cmd_get(int argc, char **argv)
{
    static const struct option options[] = {{"data", required_argument, NULL, 'd'},
                                            {"config", required_argument, NULL, 'c'},
                                            {"key", required_argument, NULL, 'k'},
                                            {"output", required_argument, NULL, 'o'},
                                            {"help", no_argument, NULL, 'h'},
                                            CLI_SESSION_OPTIONS,
                                            {NULL, 0, NULL, 0}};
    cli_target t = {0};
    const char *out_path = NULL;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "ho:", options, NULL)) != -1) {
        switch (opt) {
        case 'd': t.data_dir = optarg; break;
        case 'c': t.config_path = optarg; break;
        case 'k': t.key_file = optarg; break;
        case 'o': out_path = optarg; break;
        case 'h': fputs(get_usage, stdout); return SV_EXIT_OK;
        default:
            if (cli_target_option(&t, opt, optarg))
                break;
            fputs(get_usage, stderr);
            return SV_EXIT_USAGE;
        }
    }
    if (argc - optind != 1) {
        cli_error("get takes exactly one DOCID");
        fputs(get_usage, stderr);
        return SV_EXIT_USAGE;
    }
    const char *docid = argv[optind];
    if (!sv_docid_is_valid(docid)) {
        /* Not echoed: a clerk may have typed an MRN in its place. */
        cli_error("that is not a document id (as 'scanvault find' prints them)");
        return SV_EXIT_USAGE;
    }
    bool to_stdout = out_path == NULL || strcmp(out_path, "-") == 0;
    if (to_stdout && isatty(STDOUT_FILENO)) {
        cli_error("standard output is a terminal; give -o FILE");
        return SV_EXIT_USAGE;
    }
    cli_session s;
    int code = cli_session_open(&t, CLI_DIRECT_READ_ONLY, &s);
    if (code != SV_EXIT_OK)
        return code;
    if (!to_stdout) {
        get_job job = {&s, docid};
        code = cli_write_new_file(out_path, write_document, &job);
    } else {
        int rc = s.client != NULL ? sv_client_get(s.client, docid, STDOUT_FILENO)
                                  : sv_store_get(s.store, docid, STDOUT_FILENO, NULL);
        if (rc != 0)
            code = cli_session_failed(&s, rc,
                                      rc == SV_ENOTFOUND ? SV_EXIT_ENV : SV_EXIT_FAILURE);
    }
    cli_session_close(&s);
    return code;
}
