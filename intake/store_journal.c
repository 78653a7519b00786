/*
 * store_journal.c - the journal of review decisions in progress.
 *
 * A decision rewrites the vault object's header first (the truth a reindex
 * rebuilds from), then the index. A process killed between the two leaves
 * the index one decision behind: a reassigned document still listed under
 * the old patient. So before the header is rewritten, an empty file
 * spool/decisions/<docid> is made durable; it goes once the index has
 * followed. Every read-write open of the store replays what is left: for
 * each journalled docid the index entry is brought in line with what the
 * object's sealed metadata says (filed under which patient, held, rejected),
 * with the same index operations the decisions use. The journal names
 * docids only; it holds no MRN and no decision.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "intake_internal.h"

#define JOURNAL_DIR "spool/decisions"

static int open_journal_dir(const char *data_dir, bool may_create, int *dfd)
{
    char path[SV_INTAKE_PATH_MAX];
    int rc = intake_path(path, sizeof path, data_dir, JOURNAL_DIR);
    if (rc != 0)
        return rc;
    if (may_create && (rc = sv_durable_mkdir(path, 0700)) != 0)
        return intake_fail(rc, "cannot make %s: %s", path, sv_crypto_last_error());
    *dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (*dfd < 0 && errno == ENOENT && !may_create)
        return SV_ENOTFOUND;
    if (*dfd < 0)
        return intake_fail(SV_EERRNO, "cannot open %s: %s", path, strerror(errno));
    return 0;
}

int intake_journal_begin(const char *data_dir, const char *docid)
{
    int dfd = -1;
    int rc = open_journal_dir(data_dir, true, &dfd);
    if (rc != 0)
        return rc;
    int fd = openat(dfd, docid, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 || close(fd) != 0 || fsync(dfd) != 0)
        rc = intake_fail(SV_EERRNO, "%s: cannot journal the decision: %s", docid,
                         strerror(errno));
    close(dfd);
    return rc;
}

void intake_journal_end(const char *data_dir, const char *docid)
{
    int dfd = -1;
    if (open_journal_dir(data_dir, false, &dfd) != 0)
        return;
    /* Not made durable: an entry that reappears after a crash is replayed,
     * and replaying a decision the index already has changes nothing. */
    unlinkat(dfd, docid, 0);
    close(dfd);
}

/* Bring docid's index entry in line with its object's sealed metadata. */
static int reconcile(sv_store *store, const char *docid)
{
    sv_vault_meta *meta = calloc(1, sizeof *meta);
    if (meta == NULL)
        return intake_fail(SV_ENOMEM, "out of memory");
    sv_index *ix = sv_store_index(store);
    sv_index_record want, have;
    int rc = sv_vault_read_meta(sv_store_vault(store), sv_store_keyring(store), docid, meta);
    if (rc == SV_ENOTFOUND) {
        rc = 0; /* no object: no decision was written */
        goto out;
    }
    if (rc != 0) {
        rc = intake_fail(rc, "%s: %s", docid, sv_crypto_last_error());
        goto out;
    }
    if ((rc = sv_maint_record_from_meta(sv_store_keyring(store), meta, &want)) != 0)
        goto out;
    if ((rc = sv_index_get(ix, docid, &have)) != 0) {
        rc = intake_fail(rc, "%s", sv_index_last_error());
        goto out;
    }
    if (sv_maint_records_equal(&want, &have, NULL, 0))
        goto out;
    if (have.state == SV_INDEX_REVIEW && want.state == SV_INDEX_FILED)
        rc = sv_index_file_review(ix, docid, want.blind_mrn, want.type);
    else if (have.state == SV_INDEX_FILED && want.state == SV_INDEX_FILED)
        rc = sv_index_reassign(ix, docid, want.blind_mrn);
    else if (have.state == SV_INDEX_REVIEW && want.state == SV_INDEX_QUARANTINED)
        rc = sv_index_reject_review(ix, docid, want.reason);
    else
        rc = SV_EINDEX;
    if (rc != 0)
        rc = intake_fail(rc,
                         "%s: the index could not follow an interrupted review decision (%s); "
                         "run 'scanvault reindex'",
                         docid, rc == SV_EINDEX ? "an unexpected state" : sv_index_last_error());
out:
    memset(&want, 0, sizeof want);
    sv_vault_meta_wipe(meta);
    free(meta);
    return rc;
}

int intake_journal_replay(sv_store *store, size_t *n_replayed)
{
    *n_replayed = 0;
    const char *data_dir = sv_store_data_dir(store);
    int dfd = -1;
    int rc = open_journal_dir(data_dir, false, &dfd);
    if (rc == SV_ENOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    DIR *dir = fdopendir(dfd);
    if (dir == NULL) {
        close(dfd);
        return intake_fail(SV_EERRNO, "cannot list the decision journal: %s", strerror(errno));
    }
    int lock_fd = -1;
    struct dirent *e;
    while (rc == 0 && (e = readdir(dir)) != NULL) {
        if (!sv_docid_is_valid(e->d_name))
            continue;
        if (lock_fd < 0 && (rc = intake_lock_decisions(data_dir, &lock_fd)) != 0)
            break;
        if ((rc = reconcile(store, e->d_name)) == 0) {
            unlinkat(dirfd(dir), e->d_name, 0);
            (*n_replayed)++;
        }
    }
    closedir(dir);
    if (lock_fd >= 0)
        close(lock_fd);
    return rc;
}
