/*
 * keys.c - the key ring (master key and derived subkeys) and the key file.
 *
 * Key file (48 bytes, docs/keys.md):
 *   0   6  magic "SVKEY\n"
 *   6   2  version, big-endian, 1
 *   8   8  key id = HKDF-Expand(PRK, "scanvault/v1/key-id", 8)
 *   16 32  master key
 * The key id is derived from the key, so a damaged file (or a key pasted
 * beside the wrong id) is caught at load instead of at the first object.
 *
 * Subkeys: PRK = HMAC-SHA256("scanvault/v1", master) (HKDF-Extract); each
 * subkey = HKDF-Expand(PRK, label, 32) with its own label. A leak of one
 * subkey reveals neither the master key nor the others.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto_internal.h"

#define KEY_FILE_VERSION 1
static const uint8_t key_magic[6] = {'S', 'V', 'K', 'E', 'Y', '\n'};
static const char kdf_salt[] = "scanvault/v1";

typedef struct subkey_label {
    const char *label;
    size_t offset;
    size_t len;
} subkey_label;

static const subkey_label subkeys[] = {
    {"scanvault/v1/key-id", offsetof(sv_keyring, id), SV_KEY_ID_LEN},
    {"scanvault/v1/wrap", offsetof(sv_keyring, wrap), SV_KEY_LEN},
    {"scanvault/v1/blind-index", offsetof(sv_keyring, blind), SV_KEY_LEN},
    {"scanvault/v1/content-hash", offsetof(sv_keyring, hash), SV_KEY_LEN},
    {"scanvault/v1/metadata", offsetof(sv_keyring, meta), SV_KEY_LEN},
    {"scanvault/v1/audit", offsetof(sv_keyring, audit), SV_KEY_LEN},
};

/* Derive every subkey of ring from ring->master. */
static int derive_subkeys(sv_keyring *ring)
{
    for (size_t i = 0; i < sizeof subkeys / sizeof subkeys[0]; i++) {
        const subkey_label *s = &subkeys[i];
        int rc = cr_hkdf_sha256((const uint8_t *)kdf_salt, strlen(kdf_salt), ring->master,
                                SV_KEY_LEN, (const uint8_t *)s->label, strlen(s->label),
                                (uint8_t *)ring + s->offset, s->len);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int ring_from(sv_keyring **out, const uint8_t key[SV_KEY_LEN], bool random)
{
    *out = NULL;
    sv_keyring *ring = cr_secure_alloc(sizeof *ring);
    if (ring == NULL)
        return cr_fail(SV_ENOMEM, "no secure memory for a key ring");
    if (random)
        gcry_randomize(ring->master, SV_KEY_LEN, GCRY_VERY_STRONG_RANDOM);
    else
        memcpy(ring->master, key, SV_KEY_LEN);
    int rc = derive_subkeys(ring);
    if (rc != 0) {
        sv_keyring_destroy(ring);
        return rc;
    }
    *out = ring;
    return 0;
}

int sv_keyring_generate(sv_keyring **out)
{
    return ring_from(out, NULL, true);
}

int sv_keyring_from_bytes(sv_keyring **out, const uint8_t key[SV_KEY_LEN])
{
    if (out == NULL || key == NULL)
        return cr_fail(SV_EINVAL, "sv_keyring_from_bytes: no key");
    return ring_from(out, key, false);
}

void sv_keyring_destroy(sv_keyring *ring)
{
    cr_secure_free(ring, sizeof *ring);
}

void sv_keyring_id(const sv_keyring *ring, uint8_t out[SV_KEY_ID_LEN])
{
    memcpy(out, ring->id, SV_KEY_ID_LEN);
}

void sv_keyring_id_hex(const sv_keyring *ring, char out[SV_KEY_ID_HEX_LEN + 1])
{
    cr_hex(ring->id, SV_KEY_ID_LEN, out);
}

/* Check what fstat says about an open key file. */
static int check_key_file_stat(int fd, const char *path)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return cr_fail_errno("key file %s: cannot stat", path);
    if (!S_ISREG(st.st_mode))
        return cr_fail(SV_EFORMAT, "key file %s: not a regular file", path);
    if ((st.st_mode & 077) != 0)
        return cr_fail(SV_EPERM,
                       "key file %s: mode %04o lets other users read it; refusing to use it "
                       "(chmod 600 %s, and consider the key exposed)",
                       path, (unsigned)(st.st_mode & 07777), path);
    if (st.st_size != SV_KEY_FILE_LEN)
        return cr_fail(SV_EFORMAT, "key file %s: %lld bytes, a scanvault key file has %d", path,
                       (long long)st.st_size, SV_KEY_FILE_LEN);
    return 0;
}

int sv_keyring_load(sv_keyring **out, const char *path)
{
    if (out == NULL)
        return cr_fail(SV_EINVAL, "sv_keyring_load: no output");
    *out = NULL;
    if (path == NULL || path[0] == '\0')
        return cr_fail(SV_EINVAL, "no key file given");
    sv_keyring *ring = NULL;
    /* One byte more than a key file, to see a file that grew after fstat. */
    uint8_t *buf = cr_secure_alloc(SV_KEY_FILE_LEN + 1);
    int fd = -1, rc;
    if (buf == NULL) {
        rc = cr_fail(SV_ENOMEM, "no secure memory to read a key");
        goto out;
    }
    /* O_NONBLOCK: a FIFO planted at the key path must not hang start-up. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        rc = cr_fail_errno("key file %s: cannot open (run 'scanvault init' or check "
                           "the key path)",
                           path);
        goto out;
    }
    rc = check_key_file_stat(fd, path);
    if (rc != 0)
        goto out;
    size_t got = 0;
    rc = cr_read_full(fd, buf, SV_KEY_FILE_LEN + 1, &got);
    if (rc != 0)
        goto out;
    if (got != SV_KEY_FILE_LEN) {
        rc = cr_fail(SV_EFORMAT, "key file %s: %zu bytes, a scanvault key file has %d", path,
                     got, SV_KEY_FILE_LEN);
        goto out;
    }
    if (memcmp(buf, key_magic, sizeof key_magic) != 0) {
        rc = cr_fail(SV_EFORMAT, "key file %s: not a scanvault key file (bad magic)", path);
        goto out;
    }
    uint16_t version = cr_get_be16(buf + 6);
    if (version != KEY_FILE_VERSION) {
        rc = cr_fail(SV_EVERSION,
                     "key file %s: version %u, this build reads version %d; use a matching "
                     "scanvault",
                     path, version, KEY_FILE_VERSION);
        goto out;
    }
    rc = ring_from(&ring, buf + 16, false);
    if (rc != 0)
        goto out;
    if (!cr_equal_ct(ring->id, buf + 8, SV_KEY_ID_LEN)) {
        rc = cr_fail(SV_EKEY,
                     "key file %s: the key id does not match the key; the file is damaged "
                     "(restore it from the backup)",
                     path);
        goto out;
    }
    *out = ring;
    ring = NULL;
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    cr_secure_free(buf, SV_KEY_FILE_LEN + 1);
    sv_keyring_destroy(ring);
    return rc;
}

int sv_keyring_load_default(sv_keyring **out, const char *configured_path)
{
    if (out == NULL)
        return cr_fail(SV_EINVAL, "sv_keyring_load_default: no output");
    *out = NULL;
    const char *creds = getenv("CREDENTIALS_DIRECTORY");
    if (creds != NULL && creds[0] != '\0') {
        char path[4096];
        int n = snprintf(path, sizeof path, "%s/%s", creds, SV_KEY_FILE_NAME);
        if (n < 0 || (size_t)n >= sizeof path)
            return cr_fail(SV_ELIMIT, "$CREDENTIALS_DIRECTORY is too long");
        return sv_keyring_load(out, path);
    }
    if (configured_path == NULL || configured_path[0] == '\0')
        return cr_fail(SV_EINVAL, "no key: set the key path in the configuration, or run "
                                  "under systemd with LoadCredential=" SV_KEY_FILE_NAME);
    return sv_keyring_load(out, configured_path);
}

/* Split path into its directory (opened) and its last component. */
static int open_parent(const char *path, int *dirfd, char *base, size_t base_len)
{
    *dirfd = -1;
    char *copy_dir = strdup(path), *copy_base = strdup(path);
    int rc = 0;
    if (copy_dir == NULL || copy_base == NULL) {
        rc = cr_fail(SV_ENOMEM, "out of memory");
        goto out;
    }
    const char *b = basename(copy_base);
    if (strlen(b) >= base_len || strcmp(b, "/") == 0 || strcmp(b, ".") == 0 ||
        strcmp(b, "..") == 0) {
        rc = cr_fail(SV_EINVAL, "key file %s: not a file name", path);
        goto out;
    }
    memcpy(base, b, strlen(b) + 1);
    const char *d = dirname(copy_dir);
    *dirfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (*dirfd < 0)
        rc = cr_fail_errno("key directory %s: cannot open", d);
out:
    free(copy_dir);
    free(copy_base);
    return rc;
}

int sv_keyring_save(const sv_keyring *ring, const char *path)
{
    if (ring == NULL || path == NULL || path[0] == '\0')
        return cr_fail(SV_EINVAL, "sv_keyring_save: no key or no path");
    int dirfd = -1, fd = -1, rc;
    char base[256], tmp[CR_TMP_NAME_MAX] = "";
    uint8_t *buf = cr_secure_alloc(SV_KEY_FILE_LEN);
    if (buf == NULL) {
        rc = cr_fail(SV_ENOMEM, "no secure memory to write a key");
        goto out;
    }
    rc = open_parent(path, &dirfd, base, sizeof base);
    if (rc != 0)
        goto out;
    struct stat st;
    if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        rc = cr_fail(SV_EEXIST,
                     "key file %s exists; refusing to overwrite a key (objects sealed "
                     "under it would be lost)",
                     path);
        goto out;
    }
    memcpy(buf, key_magic, sizeof key_magic);
    cr_put_be16(buf + 6, KEY_FILE_VERSION);
    memcpy(buf + 8, ring->id, SV_KEY_ID_LEN);
    memcpy(buf + 16, ring->master, SV_KEY_LEN);
    rc = cr_tmp_create(dirfd, ".scanvault-key", 0600, tmp, &fd);
    if (rc != 0)
        goto out;
    rc = cr_write_all(fd, buf, SV_KEY_FILE_LEN);
    if (rc != 0)
        goto out;
    rc = cr_sync_close(&fd, path);
    if (rc != 0)
        goto out;
    /* No replace: if another init won the race, its key stays. */
    rc = cr_publish(dirfd, tmp, dirfd, base, false, path);
    if (rc == SV_EEXIST)
        cr_fail(SV_EEXIST, "key file %s exists; refusing to overwrite a key", path);
    if (rc == 0)
        tmp[0] = '\0';
out:
    cr_tmp_abandon(dirfd, tmp, &fd);
    if (dirfd >= 0)
        close(dirfd);
    cr_secure_free(buf, SV_KEY_FILE_LEN);
    return rc;
}
