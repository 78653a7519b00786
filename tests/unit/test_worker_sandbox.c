/*
 * test_worker_sandbox.c - the OCR worker's sandbox with real scanvault-ocr
 * processes: hostile documents (the worker's SV_TEST_HOOKS triggers) that
 * crash or hang it cost only that document; a file cannot be opened by name
 * under the filter (and can without it, so the test means something); a
 * worker started by a process that holds the key has no key file open or
 * mapped, no CREDENTIALS_DIRECTORY, and runs under its limits and filter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "intake_internal.h"
#include "sv_crypto.h"
#include "sv_intake.h"
#include "sv_ocr.h"

#define SAMPLE SV_SOURCE_DIR "/samples/docs/doc-0001.png"
#define SAMPLE_MRN "44292951"

/* The rules of the bundled samples. */
static int setup(void **state)
{
    sv_ocr_rules *rules = NULL;
    char err[256];
    assert_int_equal(sv_ocr_rules_create(&rules), 0);
    assert_int_equal(sv_intake_config_load(SV_SOURCE_DIR "/samples/scanvault.conf", rules, err,
                                           sizeof err),
                     0);
    *state = rules;
    return 0;
}

static int teardown(void **state)
{
    sv_ocr_rules_destroy(*state);
    return 0;
}

static sv_workers *start_pool(const sv_ocr_rules *rules, unsigned n, const char *extra_arg)
{
    sv_workers_options o = {.worker_path = SV_OCR_WORKER, .rules = rules, .n_workers = n,
                            .timeout_s = 3};
    sv_workers *pool = NULL;
    if (workers_create_with_arg(&pool, &o, extra_arg) != 0)
        fail_msg("workers: %s", sv_intake_last_error());
    return pool;
}

/* A document in memory (a memfd: a regular file with an offset, as the
 * claimed files are). */
static int memory_document(const char *bytes)
{
    int fd = memfd_create("document", MFD_CLOEXEC);
    assert_true(fd >= 0);
    size_t len = strlen(bytes);
    assert_int_equal(write(fd, bytes, len), (ssize_t)len);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    return fd;
}

/* Submit fd (the caller closes it) and wait for its result. */
static sv_ocr_result run_document(sv_workers *pool, int fd, uint64_t tag)
{
    sv_ocr_result r;
    uint64_t got = 0;
    assert_int_equal(sv_workers_submit(pool, fd, tag), 0);
    assert_int_equal(sv_workers_collect(pool, -1, &got, &r), 0);
    assert_int_equal(got, tag);
    return r;
}

/* The real sample still reads right through this pool. */
static void assert_pool_reads_sample(sv_workers *pool, uint64_t tag)
{
    int fd = open(SAMPLE, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    sv_ocr_result r = run_document(pool, fd, tag);
    close(fd);
    assert_int_equal(r.status, SV_OCR_INDEX);
    assert_string_equal(r.mrn, SAMPLE_MRN);
}

static void test_crash_costs_one_document(void **state)
{
    sv_workers *pool = start_pool(*state, 1, NULL);
    pid_t first = workers_pid(pool, 0);
    int fd = memory_document("SV-TEST-CRASH and then some bytes");
    sv_ocr_result r = run_document(pool, fd, 1);
    close(fd);
    assert_int_equal(r.status, SV_OCR_REJECT);
    assert_int_equal(r.reason, SV_REASON_WORKER_CRASHED);
    assert_int_equal(sv_workers_idle(pool), 1);
    assert_true(workers_pid(pool, 0) != first); /* replaced */
    assert_pool_reads_sample(pool, 2);
    sv_workers_destroy(pool);
}

static void test_hang_costs_one_document(void **state)
{
    sv_workers *pool = start_pool(*state, 1, NULL);
    int fd = memory_document("SV-TEST-HANG");
    sv_ocr_result r = run_document(pool, fd, 1);
    close(fd);
    assert_int_equal(r.status, SV_OCR_REJECT);
    assert_int_equal(r.reason, SV_REASON_TIMEOUT);
    assert_pool_reads_sample(pool, 2);
    sv_workers_destroy(pool);
}

/* The kernel's SIGXCPU at the CPU-time limit is reported as a timeout (sent
 * by hand here: a single-threaded worker's CPU time never outruns the wall
 * clock, so the real limit is for a worker whose supervisor has stalled). */
static void test_cpu_limit_is_a_timeout(void **state)
{
    sv_workers *pool = start_pool(*state, 1, NULL);
    int fd = memory_document("SV-TEST-HANG");
    assert_int_equal(sv_workers_submit(pool, fd, 1), 0);
    close(fd);
    uint64_t tag = 0;
    sv_ocr_result r;
    assert_int_equal(sv_workers_collect(pool, 300, &tag, &r), SV_ETIMEOUT); /* spinning */
    assert_int_equal(kill(workers_pid(pool, 0), SIGXCPU), 0);
    assert_int_equal(sv_workers_collect(pool, 2000, &tag, &r), 0); /* before the 3 s */
    assert_int_equal(tag, 1);
    assert_int_equal(r.status, SV_OCR_REJECT);
    assert_int_equal(r.reason, SV_REASON_TIMEOUT);
    assert_pool_reads_sample(pool, 2);
    sv_workers_destroy(pool);
}

/* Under the filter, open() fails and the worker answers as for any junk;
 * without the filter the same document finds the file and aborts, so the
 * first answer is the filter's doing. */
static void test_filter_forbids_open(void **state)
{
    sv_workers *pool = start_pool(*state, 1, NULL);
    int fd = memory_document("SV-TEST-OPEN");
    sv_ocr_result r = run_document(pool, fd, 1);
    assert_int_equal(r.status, SV_OCR_REJECT);
    assert_int_equal(r.reason, SV_REASON_UNSUPPORTED_FORMAT);
    assert_pool_reads_sample(pool, 2);
    sv_workers_destroy(pool);

    if (access("/etc/hostname", R_OK) != 0) {
        close(fd);
        skip(); /* nothing to open: the control run would prove nothing */
    }
    pool = start_pool(*state, 1, "--test-no-seccomp");
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    r = run_document(pool, fd, 3);
    close(fd);
    assert_int_equal(r.reason, SV_REASON_WORKER_CRASHED);
    sv_workers_destroy(pool);
}

/* /proc/<pid>/<name> into buf (NUL-terminated; may hold NULs). Bytes read. */
static size_t read_proc(pid_t pid, const char *name, char *buf, size_t cap)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        fail_msg("%s: %s", path, strerror(errno));
    size_t len = 0;
    ssize_t n;
    while (len + 1 < cap && (n = read(fd, buf + len, cap - 1 - len)) > 0)
        len += (size_t)n;
    close(fd);
    buf[len] = '\0';
    return len;
}

/* Every open descriptor of the worker: stdin and stdout /dev/null, stderr
 * whatever ours is, its socket on 3, Tesseract's debug log (/dev/null),
 * nothing else. */
static void assert_only_expected_fds(pid_t pid, const char *key_path)
{
    char dir[64], our_stderr[PATH_MAX] = "";
    snprintf(dir, sizeof dir, "/proc/%d/fd", (int)pid);
    ssize_t n = readlink("/proc/self/fd/2", our_stderr, sizeof our_stderr - 1);
    if (n > 0)
        our_stderr[n] = '\0';
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    int count = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char link_path[PATH_MAX], target[PATH_MAX];
        snprintf(link_path, sizeof link_path, "%s/%s", dir, e->d_name);
        n = readlink(link_path, target, sizeof target - 1);
        assert_true(n > 0);
        target[n] = '\0';
        assert_null(strstr(target, key_path));
        long fd = strtol(e->d_name, NULL, 10);
        if (fd == 0 || fd == 1)
            assert_string_equal(target, "/dev/null");
        else if (fd == 2)
            assert_string_equal(target, our_stderr);
        else if (fd == WORKER_SOCKET_FD)
            assert_memory_equal(target, "socket:[", 8);
        else if (strcmp(target, "/dev/null") != 0)
            fail_msg("worker %d holds descriptor %ld: %s", (int)pid, fd, target);
        count++;
    }
    closedir(d);
    assert_in_range(count, 4, 5);
}

/* The environment: only the variables a worker is given. */
static void assert_minimal_environment(pid_t pid)
{
    static char env[65536];
    size_t len = read_proc(pid, "environ", env, sizeof env);
    static const char *const allowed[] = {"OMP_THREAD_LIMIT=", "TESSDATA_PREFIX=", "LANG=",
                                          "LC_ALL="};
    bool has_omp = false;
    for (size_t at = 0; at < len; at += strlen(env + at) + 1) {
        const char *var = env + at;
        bool is_allowed = false;
        for (size_t i = 0; i < sizeof allowed / sizeof *allowed; i++)
            if (strncmp(var, allowed[i], strlen(allowed[i])) == 0)
                is_allowed = true;
        if (!is_allowed)
            fail_msg("worker %d has %.*s in its environment", (int)pid,
                     (int)strcspn(var, "="), var);
        if (strcmp(var, "OMP_THREAD_LIMIT=1") == 0)
            has_omp = true;
    }
    assert_true(has_omp);
}

static rlim_t limit_of(pid_t pid, __rlimit_resource_t resource)
{
    struct rlimit lim;
    assert_int_equal(prlimit(pid, resource, NULL, &lim), 0);
    assert_int_equal(lim.rlim_cur, lim.rlim_max);
    return lim.rlim_cur;
}

static void test_worker_holds_no_key(void **state)
{
    if (geteuid() != 0)
        skip(); /* a non-dumpable worker's /proc files are root's to read */
    char dir[] = "/tmp/sv-creds-XXXXXX", key_path[256];
    assert_non_null(mkdtemp(dir));
    snprintf(key_path, sizeof key_path, "%s/scanvault.key", dir);
    assert_int_equal(sv_crypto_global_init(), 0);
    sv_keyring *ring = NULL;
    assert_int_equal(sv_keyring_generate(&ring), 0);
    assert_int_equal(sv_keyring_save(ring, key_path), 0);
    sv_keyring_destroy(ring);
    /* As under systemd: the key comes from $CREDENTIALS_DIRECTORY, and this
     * process keeps the key file open and inheritable while it starts the
     * workers. */
    assert_int_equal(setenv("CREDENTIALS_DIRECTORY", dir, 1), 0);
    assert_int_equal(sv_keyring_load_default(&ring, NULL), 0);
    int key_fd = open(key_path, O_RDONLY); /* no O_CLOEXEC, on purpose */
    assert_true(key_fd >= 0);

    sv_workers *pool = start_pool(*state, 2, NULL);
    static char maps[1 << 20];
    char status[4096];
    for (unsigned i = 0; i < 2; i++) {
        pid_t pid = workers_pid(pool, i);
        assert_true(pid > 0);
        read_proc(pid, "maps", maps, sizeof maps);
        assert_null(strstr(maps, key_path));
        assert_only_expected_fds(pid, key_path);
        assert_minimal_environment(pid);
        read_proc(pid, "status", status, sizeof status);
        assert_non_null(strstr(status, "NoNewPrivs:\t1"));
        assert_non_null(strstr(status, "Seccomp:\t2")); /* filter mode */
        assert_int_equal(limit_of(pid, RLIMIT_CORE), 0);
        assert_int_equal(limit_of(pid, RLIMIT_NOFILE), 16);
        assert_int_equal(limit_of(pid, RLIMIT_NPROC), 0);
#if !defined(__SANITIZE_ADDRESS__)
        assert_int_equal(limit_of(pid, RLIMIT_AS), sv_ocr_rules_worker_memory(*state));
#endif
    }
    /* And it works, with a CPU-time limit set for the document. */
    assert_pool_reads_sample(pool, 1);
    struct rlimit cpu;
    pid_t pid = workers_pid(pool, 0);
    assert_int_equal(prlimit(pid, RLIMIT_CPU, NULL, &cpu), 0);
    assert_true(cpu.rlim_cur != RLIM_INFINITY && cpu.rlim_cur <= 3 + 1 + 60);

    sv_workers_destroy(pool);
    close(key_fd);
    sv_keyring_destroy(ring);
    unsetenv("CREDENTIALS_DIRECTORY");
    unlink(key_path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crash_costs_one_document),
        cmocka_unit_test(test_hang_costs_one_document),
        cmocka_unit_test(test_cpu_limit_is_a_timeout),
        cmocka_unit_test(test_filter_forbids_open),
        cmocka_unit_test(test_worker_holds_no_key),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
