/*
 * init.c - process set-up for everything that holds keys, the per-thread
 * last error, secure memory and small byte helpers.
 *
 * Why the process is made non-dumpable here: every process that calls
 * sv_crypto_global_init() is about to load a key. A core dump or a ptrace
 * attach by another process of the service user would copy the key out of
 * locked memory, so both are turned off before any key exists.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "crypto_internal.h"

/* libgcrypt 1.8 has everything used here (AES key wrap, GCM, HKDF-able MAC). */
#define CR_GCRYPT_NEED "1.8.0"
#define CR_SECMEM_BYTES (1u << 20)
#define CR_ERR_MAX 256

static _Thread_local char last_error[CR_ERR_MAX];
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_result;

const uint8_t cr_magic[CR_MAGIC_LEN] = {0x89, 'S', 'V', 'D', '\r', '\n', 0x1a, '\n'};

__attribute__((format(printf, 1, 0))) static void set_message(const char *fmt, va_list ap,
                                                             const char *suffix)
{
    int n = vsnprintf(last_error, sizeof last_error, fmt, ap);
    if (n < 0) {
        last_error[0] = '\0';
        return;
    }
    if (suffix != NULL && (size_t)n < sizeof last_error)
        snprintf(last_error + n, sizeof last_error - (size_t)n, ": %s", suffix);
}

int cr_fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_message(fmt, ap, NULL);
    va_end(ap);
    return code;
}

int cr_fail_errno(const char *fmt, ...)
{
    int saved = errno;
    va_list ap;
    va_start(ap, fmt);
    set_message(fmt, ap, strerror(saved));
    va_end(ap);
    errno = saved;
    return SV_EERRNO;
}

const char *sv_crypto_last_error(void)
{
    return last_error;
}

static void global_init_once(void)
{
    if (gcry_check_version(CR_GCRYPT_NEED) == NULL) {
        init_result = cr_fail(SV_EVERSION, "libgcrypt %s or newer is needed, found %s",
                              CR_GCRYPT_NEED, gcry_check_version(NULL));
        return;
    }
    /* The secure pool must exist before the first key; it is mlock()ed, so
     * keys never reach swap. If it cannot be locked, libgcrypt would go on
     * with an unlocked pool and print its own warning: refuse instead, and
     * keep libgcrypt quiet (our message says what to do). */
    gcry_control(GCRYCTL_DISABLE_SECMEM_WARN);
    gcry_error_t secmem = gcry_control(GCRYCTL_INIT_SECMEM, CR_SECMEM_BYTES, 0);
    if (secmem != 0) {
        init_result = cr_fail(SV_EKEY,
                              "cannot lock %u KiB of memory for keys (mlock); raise the "
                              "locked-memory limit (ulimit -l, or LimitMEMLOCK= under systemd)",
                              CR_SECMEM_BYTES / 1024);
        return;
    }
    gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);

    struct rlimit no_core = {0, 0};
    if (setrlimit(RLIMIT_CORE, &no_core) != 0) {
        init_result = cr_fail_errno("cannot turn off core dumps (RLIMIT_CORE)");
        return;
    }
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
        init_result = cr_fail_errno("cannot make the process non-dumpable");
        return;
    }
    init_result = 0;
}

int sv_crypto_global_init(void)
{
    int rc = pthread_once(&init_once, global_init_once);
    if (rc != 0) {
        errno = rc;
        return cr_fail_errno("libgcrypt initialisation failed");
    }
    return init_result;
}

void *cr_secure_alloc(size_t n)
{
    void *p = gcry_calloc_secure(1, n);
    return p;
}

void cr_wipe(void *p, size_t n)
{
    if (p != NULL)
        explicit_bzero(p, n);
}

void cr_secure_free(void *p, size_t n)
{
    if (p == NULL)
        return;
    cr_wipe(p, n);
    gcry_free(p);
}

bool cr_equal_ct(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint8_t diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= (uint8_t)(a[i] ^ b[i]);
    return diff == 0;
}

void cr_hex(const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0x0f];
    }
    out[2 * n] = '\0';
}

void cr_put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

void cr_put_be32(uint8_t *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

void cr_put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

uint16_t cr_get_be16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

uint32_t cr_get_be32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v = v << 8 | p[i];
    return v;
}

uint64_t cr_get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}
