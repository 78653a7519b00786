/*
 * vault_list.c - every file under <vault>/objects/, for reindex and verify.
 *
 * A vault object lives at objects/<xx>/<docid>.svd, where <xx> is the fan-out
 * directory sv_vault_object_path() gives for that docid. Anything else found
 * there (a file with another name, an object in the wrong fan-out directory,
 * a link, a directory inside a fan-out directory, a file directly in
 * objects/) is a stray: it is passed to the callback like an object, never
 * skipped, so verify can report it and reindex can count it. Names are sorted
 * (fan-out directories, then the files of each), so the walk is in docid
 * order when no site prefix is used, and always deterministic. Memory: the
 * names of one directory at a time.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto_internal.h"

#define OBJECT_SUFFIX ".svd"
#define SUFFIX_LEN (sizeof OBJECT_SUFFIX - 1)
/* Names of one directory held at once, at most (a fan-out directory of a
 * vault of 10^9 documents holds about 4 million). */
#define NAMES_MAX ((size_t)64 << 20)

typedef struct name_entry {
    char *name;
    ino_t ino;
    unsigned char type; /* d_type: DT_UNKNOWN when the filesystem does not say */
} name_entry;

typedef struct name_list {
    name_entry *v;
    size_t n, cap;
} name_list;

static void names_free(name_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].name);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const name_entry *)a)->name, ((const name_entry *)b)->name);
}

/* Every name in the directory dir_fd but "." and "..", sorted. dir_fd stays
 * open (the listing works on a duplicate). */
static int names_read(int dir_fd, const char *what, name_list *out)
{
    int fd = dup(dir_fd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (d == NULL) {
        if (fd >= 0)
            close(fd);
        return cr_fail_errno("vault: cannot list %s", what);
    }
    rewinddir(d);
    int rc = 0;
    struct dirent *e;
    errno = 0;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (out->n == out->cap) {
            size_t cap = out->cap ? out->cap * 2 : 256;
            if (cap > NAMES_MAX) {
                rc = cr_fail(SV_ELIMIT, "vault: %s holds more than %zu names", what, NAMES_MAX);
                break;
            }
            name_entry *v = realloc(out->v, cap * sizeof *v);
            if (v == NULL) {
                rc = cr_fail(SV_ENOMEM, "vault: out of memory listing %s", what);
                break;
            }
            out->v = v;
            out->cap = cap;
        }
        char *copy = strdup(e->d_name);
        if (copy == NULL) {
            rc = cr_fail(SV_ENOMEM, "vault: out of memory listing %s", what);
            break;
        }
        out->v[out->n++] = (name_entry){copy, e->d_ino, e->d_type};
        errno = 0;
    }
    if (rc == 0 && errno != 0)
        rc = cr_fail_errno("vault: cannot list %s", what);
    closedir(d);
    if (rc == 0 && out->n > 1)
        qsort(out->v, out->n, sizeof *out->v, by_name);
    return rc;
}

/* The file type, asking the filesystem only when readdir did not say. */
static unsigned char type_of(int dir_fd, const name_entry *e)
{
    if (e->type != DT_UNKNOWN)
        return e->type;
    struct stat st;
    if (fstatat(dir_fd, e->name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return DT_UNKNOWN;
    return S_ISREG(st.st_mode) ? DT_REG : S_ISDIR(st.st_mode) ? DT_DIR : DT_LNK;
}

typedef struct walk {
    sv_vault *vault;
    sv_vault_entry_fn fn;
    void *ctx;
    char docid[SV_DOCID_MAX + 1];
    char where[PATH_MAX];
} walk;

/* The docid of a name "<docid>.svd" into w->docid; "" for any other name. */
static void docid_of_name(walk *w, const char *name)
{
    w->docid[0] = '\0';
    size_t len = strlen(name);
    if (len <= SUFFIX_LEN || len - SUFFIX_LEN > SV_DOCID_MAX ||
        strcmp(name + len - SUFFIX_LEN, OBJECT_SUFFIX) != 0)
        return;
    memcpy(w->docid, name, len - SUFFIX_LEN);
    w->docid[len - SUFFIX_LEN] = '\0';
    if (!sv_docid_is_valid(w->docid))
        w->docid[0] = '\0';
}

/* Is fan/name, named after w->docid, where the vault puts that docid's
 * object? (The name was made from the docid, so only the fan-out matters.) */
static bool is_in_place(walk *w, const char *fan)
{
    if (w->docid[0] == '\0')
        return false;
    char expected[3];
    cr_vault_fanout_of(w->docid, expected);
    return strcmp(fan, expected) == 0;
}

/* A directory name fit for a message: a fan-out name (two of [a-z2-7]) as it
 * is, anything else (it may carry a patient's name) by its inode. */
static void dir_label(const char *fan, ino_t ino, char *out, size_t len)
{
    bool is_fanout = strlen(fan) == 2;
    for (size_t i = 0; is_fanout && i < 2; i++)
        is_fanout = (fan[i] >= 'a' && fan[i] <= 'z') || (fan[i] >= '2' && fan[i] <= '7');
    if (is_fanout)
        snprintf(out, len, "objects/%s/", fan);
    else
        snprintf(out, len, "the directory with inode %llu under objects/",
                 (unsigned long long)ino);
}

static int report(walk *w, const char *fan, const name_entry *e, bool is_stray)
{
    if (fan != NULL)
        snprintf(w->where, sizeof w->where, "%s/%s", fan, e->name);
    else
        snprintf(w->where, sizeof w->where, "%s", e->name);
    sv_vault_entry entry = {.docid = w->docid[0] != '\0' ? w->docid : NULL,
                            .is_stray = is_stray,
                            .inode = (uint64_t)e->ino,
                            .path = w->where};
    return w->fn(&entry, w->ctx);
}

/* The files of one directory under objects/. */
static int walk_fanout(walk *w, int objects_fd, const name_entry *dir)
{
    char what[96];
    dir_label(dir->name, dir->ino, what, sizeof what);
    int fd = openat(objects_fd, dir->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return cr_fail_errno("vault: cannot open %s", what);
    name_list names = {0};
    int rc = names_read(fd, what, &names);
    for (size_t i = 0; rc == 0 && i < names.n; i++) {
        const name_entry *e = &names.v[i];
        docid_of_name(w, e->name);
        bool is_object = type_of(fd, e) == DT_REG && is_in_place(w, dir->name);
        rc = report(w, dir->name, e, !is_object);
    }
    names_free(&names);
    close(fd);
    return rc;
}

static int open_objects_dir(sv_vault *vault, int *out)
{
    /* A descriptor of our own: the walk reads it with fdopendir-like calls. */
    *out = openat(cr_vault_objects_dirfd(vault), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (*out < 0)
        return cr_fail_errno("vault: cannot open objects/");
    return 0;
}

int sv_vault_each_object(sv_vault *vault, sv_vault_entry_fn fn, void *ctx)
{
    if (vault == NULL || fn == NULL)
        return cr_fail(SV_EINVAL, "vault listing: no vault or no callback");
    walk *w = calloc(1, sizeof *w);
    if (w == NULL)
        return cr_fail(SV_ENOMEM, "vault listing: out of memory");
    *w = (walk){.vault = vault, .fn = fn, .ctx = ctx};
    int objects_fd = -1;
    name_list top = {0};
    int rc = open_objects_dir(vault, &objects_fd);
    if (rc == 0)
        rc = names_read(objects_fd, "objects/", &top);
    for (size_t i = 0; rc == 0 && i < top.n; i++) {
        if (type_of(objects_fd, &top.v[i]) == DT_DIR) {
            rc = walk_fanout(w, objects_fd, &top.v[i]);
        } else {
            docid_of_name(w, top.v[i].name);
            rc = report(w, NULL, &top.v[i], true);
        }
    }
    /* A callback's positive value stops the walk without an error. */
    if (rc > 0)
        rc = 0;
    names_free(&top);
    if (objects_fd >= 0)
        close(objects_fd);
    free(w);
    return rc;
}
