/*
 * cmd_init.c - `scanvault init`: create the data directory layout and a new
 * master key. Offline admin work, run once as the service user; it never
 * overwrites a key (objects sealed under a lost key are lost).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "sv_crypto.h"

static const char init_usage[] =
    "usage: scanvault init --data DIR [--key FILE]\n"
    "\n"
    "Create the scanvault data directory DIR (mode 0700; its parent must exist)\n"
    "and a new 256-bit master key from libgcrypt's strongest random source.\n"
    "Existing directories are kept as they are; an existing key file is never\n"
    "overwritten (init then fails and changes nothing).\n"
    "\n"
    "  DIR/keys/scanvault.key   the master key, mode 0600 (directory 0700)\n"
    "  DIR/vault/objects/       encrypted vault objects\n"
    "  DIR/vault/tmp/           temp files of objects being written\n"
    "  DIR/index/               the LMDB index (rebuildable from the vault)\n"
    "  DIR/spool/claimed/       documents taken from the inbox, not yet filed\n"
    "  DIR/audit/               the hash-chained audit log\n"
    "\n"
    "Options:\n"
    "  --data DIR    the data directory (required)\n"
    "  --key FILE    write the key to FILE instead of DIR/keys/scanvault.key,\n"
    "                e.g. for systemd LoadCredential= (the service then reads\n"
    "                $CREDENTIALS_DIRECTORY/scanvault.key)\n"
    "  -h, --help    this text\n"
    "\n"
    "Prints the key id. Back up the key file at once, apart from the vault:\n"
    "without it no document can be read. See docs/keys.md.\n"
    "\n"
    "Exit status: 0 created; 2 usage error; 3 environment error (a key file\n"
    "exists, a directory cannot be created, no secure memory).\n";

/* Directories under DIR besides the vault's, parents first. */
static const char *const layout[] = {"index", "spool", "spool/claimed", "audit"};

static int make_dir(const char *dir, const char *sub)
{
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s", dir, sub);
    if (n < 0 || (size_t)n >= sizeof path) {
        cli_error("%s: path too long", dir);
        return -1;
    }
    if (sv_durable_mkdir(path, 0700) != 0) {
        cli_error("%s", sv_crypto_last_error());
        return -1;
    }
    return 0;
}

int cmd_init(int argc, char **argv)
{
    static const struct option options[] = {{"data", required_argument, NULL, 'd'},
                                            {"key", required_argument, NULL, 'k'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    const char *dir = NULL, *key_arg = NULL;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case 'd':
            dir = optarg;
            break;
        case 'k':
            key_arg = optarg;
            break;
        case 'h':
            fputs(init_usage, stdout);
            return SV_EXIT_OK;
        default:
            fputs(init_usage, stderr);
            return SV_EXIT_USAGE;
        }
    }
    if (dir == NULL || dir[0] == '\0' || optind != argc ||
        (key_arg != NULL && key_arg[0] == '\0')) {
        fputs(init_usage, stderr);
        return SV_EXIT_USAGE;
    }
    char key_path[4096];
    int n = key_arg != NULL ? snprintf(key_path, sizeof key_path, "%s", key_arg)
                            : snprintf(key_path, sizeof key_path, "%s/keys/%s", dir,
                                       SV_KEY_FILE_NAME);
    if (n < 0 || (size_t)n >= sizeof key_path) {
        cli_error("%s: path too long", dir);
        return SV_EXIT_USAGE;
    }
    if (sv_crypto_global_init() != 0) {
        cli_error("%s", sv_crypto_last_error());
        return SV_EXIT_ENV;
    }
    /* Refuse before anything is created: a second init is a mistake. */
    struct stat st;
    if (lstat(key_path, &st) == 0) {
        cli_error("key file %s exists; init never overwrites a key (objects sealed under "
                  "it would be lost). Nothing was changed.",
                  key_path);
        return SV_EXIT_ENV;
    }

    int rc = SV_EXIT_ENV;
    sv_keyring *ring = NULL;
    if (sv_durable_mkdir(dir, 0700) != 0) {
        cli_error("%s", sv_crypto_last_error());
        goto out;
    }
    if (stat(dir, &st) == 0 && (st.st_mode & 077) != 0)
        cli_error("warning: %s has mode %04o; only the service user should be able to "
                  "enter it (chmod 700 %s)",
                  dir, (unsigned)(st.st_mode & 07777), dir);
    char vault_dir[4200];
    snprintf(vault_dir, sizeof vault_dir, "%s/vault", dir);
    if (sv_vault_init_dir(vault_dir) != 0) {
        cli_error("%s", sv_crypto_last_error());
        goto out;
    }
    for (size_t i = 0; i < sizeof layout / sizeof layout[0]; i++)
        if (make_dir(dir, layout[i]) != 0)
            goto out;
    if (key_arg == NULL && make_dir(dir, "keys") != 0)
        goto out;
    if (sv_keyring_generate(&ring) != 0 || sv_keyring_save(ring, key_path) != 0) {
        cli_error("%s", sv_crypto_last_error());
        goto out;
    }
    char id[SV_KEY_ID_HEX_LEN + 1];
    sv_keyring_id_hex(ring, id);
    printf("created %s\nkey id %s written to %s\n"
           "Back up the key file now, apart from the vault: without it no document can "
           "be read.\n",
           dir, id, key_path);
    rc = SV_EXIT_OK;
out:
    sv_keyring_destroy(ring);
    return rc;
}
