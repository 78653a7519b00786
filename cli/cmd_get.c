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
    "  -h, --help     this text\n"
    "\n"
    "Exit status: 0 written; 1 the document is damaged or could not be written;\n"
    "2 usage error; 3 environment error (data directory, key, no such document).\n";

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
    sv_store *store;
    const char *docid;
} get_job;

static int write_document(int fd, void *ctx)
{
    const get_job *job = ctx;
    int rc = sv_store_get(job->store, job->docid, fd, NULL);
    if (rc == 0)
        return SV_EXIT_OK;
    cli_error("%s", sv_intake_last_error());
    return rc == SV_ENOTFOUND || rc == SV_EINVAL ? SV_EXIT_ENV : SV_EXIT_FAILURE;
}

int cmd_get(int argc, char **argv)
{
    static const struct option options[] = {{"data", required_argument, NULL, 'd'},
                                            {"config", required_argument, NULL, 'c'},
                                            {"key", required_argument, NULL, 'k'},
                                            {"output", required_argument, NULL, 'o'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    const char *data_dir = NULL, *config_path = NULL, *key_file = NULL, *out_path = NULL;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "ho:", options, NULL)) != -1) {
        switch (opt) {
        case 'd': data_dir = optarg; break;
        case 'c': config_path = optarg; break;
        case 'k': key_file = optarg; break;
        case 'o': out_path = optarg; break;
        case 'h': fputs(get_usage, stdout); return SV_EXIT_OK;
        default: fputs(get_usage, stderr); return SV_EXIT_USAGE;
        }
    }
    if (argc - optind != 1) {
        cli_error("get takes exactly one DOCID");
        fputs(get_usage, stderr);
        return SV_EXIT_USAGE;
    }
    const char *docid = argv[optind];
    if (!sv_docid_is_valid(docid)) {
        cli_error("'%s' is not a document id (as 'scanvault find' prints them)", docid);
        return SV_EXIT_USAGE;
    }
    bool to_stdout = out_path == NULL || strcmp(out_path, "-") == 0;
    if (to_stdout && isatty(STDOUT_FILENO)) {
        cli_error("standard output is a terminal; give -o FILE");
        return SV_EXIT_USAGE;
    }
    sv_store *store = NULL;
    int code = cli_open_data_read_only(config_path, data_dir, key_file, &store);
    if (code != SV_EXIT_OK)
        return code;
    if (!to_stdout) {
        get_job job = {store, docid};
        code = cli_write_new_file(out_path, write_document, &job);
    } else {
        int rc = sv_store_get(store, docid, STDOUT_FILENO, NULL);
        if (rc != 0) {
            cli_error("%s", sv_intake_last_error());
            code = rc == SV_ENOTFOUND ? SV_EXIT_ENV : SV_EXIT_FAILURE;
        }
    }
    sv_store_destroy(store);
    return code;
}
