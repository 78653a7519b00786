/*
 * deploy_syscall_filter.c - run a program under the system-call filters that
 * deploy/systemd/scanvault.service asks systemd for, so that a test can
 * check the service works under them without systemd as PID 1.
 *
 *     deploy_syscall_filter ALLOW_LIST DENY_LIST PROGRAM [ARG...]
 *
 * ALLOW_LIST: a file of system-call names, one per line (the expansion of
 * SystemCallFilter=@system-service seccomp, made by the test with
 * `systemd-analyze syscall-filter`); any other call kills the process, as
 * systemd's allow list does. DENY_LIST: names removed from it
 * (SystemCallFilter=~@privileged). On top, what MemoryDenyWriteExecute=yes
 * installs (systemd's seccomp_memory_deny_write_execute()): mmap with both
 * PROT_WRITE and PROT_EXEC, and mprotect/pkey_mprotect adding PROT_EXEC,
 * fail with EPERM; shmat with SHM_EXEC too. Then PR_SET_NO_NEW_PRIVS
 * (NoNewPrivileges=yes) and exec.
 *
 * Names unknown on this architecture are skipped, as systemd does.
 * Exit status: 127 when it cannot set the filters up (with a message);
 * otherwise the program's.
 */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <unistd.h>

#define NAMES_MAX 2048
#define NAME_LEN 64

typedef struct name_list {
    char names[NAMES_MAX][NAME_LEN];
    size_t n;
} name_list;

static int read_names(const char *path, name_list *list)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "deploy_syscall_filter: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[256];
    list->n = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        line[strcspn(line, " \t\r\n#")] = '\0';
        if (line[0] == '\0')
            continue;
        size_t len = strlen(line);
        if (list->n == NAMES_MAX || len >= NAME_LEN) {
            fprintf(stderr, "deploy_syscall_filter: %s: too many or too long names\n", path);
            fclose(f);
            return -1;
        }
        memcpy(list->names[list->n++], line, len + 1);
    }
    fclose(f);
    return 0;
}

static int is_listed(const name_list *list, const char *name)
{
    for (size_t i = 0; i < list->n; i++)
        if (strcmp(list->names[i], name) == 0)
            return 1;
    return 0;
}

/* The allow list: default kill, every allowed and not denied name allowed. */
static int load_allow_list(const name_list *allow, const name_list *deny)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
    if (ctx == NULL)
        return -ENOMEM;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < allow->n; i++) {
        if (is_listed(deny, allow->names[i]))
            continue;
        int nr = seccomp_syscall_resolve_name(allow->names[i]);
        if (nr == __NR_SCMP_ERROR || nr < 0)
            continue;
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
    }
    if (rc == 0)
        rc = seccomp_load(ctx);
    seccomp_release(ctx);
    return rc;
}

/* MemoryDenyWriteExecute=yes, as systemd builds it. */
static int load_memory_deny_write_execute(void)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (ctx == NULL)
        return -ENOMEM;
    uint32_t deny = SCMP_ACT_ERRNO(EPERM);
    int rc = seccomp_rule_add(ctx, deny, SCMP_SYS(mmap), 1,
                              SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC | PROT_WRITE,
                                      PROT_EXEC | PROT_WRITE));
    if (rc == 0)
        rc = seccomp_rule_add(ctx, deny, SCMP_SYS(mprotect), 1,
                              SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC));
    if (rc == 0)
        rc = seccomp_rule_add(ctx, deny, SCMP_SYS(pkey_mprotect), 1,
                              SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC));
    if (rc == 0)
        rc = seccomp_rule_add(ctx, deny, SCMP_SYS(shmat), 1,
                              SCMP_A2(SCMP_CMP_MASKED_EQ, SHM_EXEC, SHM_EXEC));
    if (rc == 0)
        rc = seccomp_load(ctx);
    seccomp_release(ctx);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fputs("usage: deploy_syscall_filter ALLOW_LIST DENY_LIST PROGRAM [ARG...]\n", stderr);
        return 127;
    }
    static name_list allow, deny;
    if (read_names(argv[1], &allow) != 0 || read_names(argv[2], &deny) != 0)
        return 127;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        perror("deploy_syscall_filter: PR_SET_NO_NEW_PRIVS");
        return 127;
    }
    int rc = load_memory_deny_write_execute();
    if (rc == 0)
        rc = load_allow_list(&allow, &deny);
    if (rc != 0) {
        fprintf(stderr, "deploy_syscall_filter: cannot load the filters: %s\n", strerror(-rc));
        return 127;
    }
    execv(argv[3], argv + 3);
    fprintf(stderr, "deploy_syscall_filter: %s: %s\n", argv[3], strerror(errno));
    return 127;
}
