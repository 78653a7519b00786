/*
 * store_review.c - the review queue, the clerks' daily work: list what waits,
 * show one document with its MRN candidates, and the three decisions a
 * person takes (assign an MRN, reject, reassign a misfiled document).
 *
 * A decision changes two places that must agree: the vault object's sealed
 * metadata (the truth that `reindex` rebuilds from) and the index. The order
 * is: audit the decision, rewrite the object's header (atomic), then one
 * index transaction. A crash between the last two leaves the index one step
 * behind the vault: the decision can simply be taken again (it is
 * idempotent), and `verify` names the document until then. Decisions on one
 * data directory are serialised by an exclusive lock on spool/review.lock
 * (intake_lock_decisions), so two reviewers cannot interleave their header
 * rewrites, and reindex and key rotation, which hold it too, never miss
 * one; the service may run meanwhile (it never rewrites an existing object).
 *
 * The audit lines carry the docid and blind values, never the MRN.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "intake_internal.h"

/* The reason a reviewer's rejection leaves in the index and the object. */
#define REJECTED_REASON "rejected"

const char *sv_store_reason_words(const char *code)
{
    if (code == NULL || code[0] == '\0')
        return "";
    if (strcmp(code, REJECTED_REASON) == 0)
        return "rejected by a reviewer";
#define SV_STORE_REASON_WORDS(name, reason_code, words) \
    if (strcmp(code, reason_code) == 0)                 \
        return words;
    SV_OCR_REASONS(SV_STORE_REASON_WORDS)
#undef SV_STORE_REASON_WORDS
    return code;
}

/* ---- list and show ----------------------------------------------------- */

typedef struct queue_walk {
    sv_store_review_item *items;
    size_t n, cap;
} queue_walk;

static int collect_entry(const sv_index_review_entry *e, void *ctx)
{
    queue_walk *w = ctx;
    if (w->n == w->cap) {
        size_t cap = w->cap == 0 ? 64 : w->cap * 2;
        if (cap > SIZE_MAX / sizeof *w->items)
            return SV_ENOMEM;
        sv_store_review_item *grown = realloc(w->items, cap * sizeof *grown);
        if (grown == NULL)
            return SV_ENOMEM;
        w->items = grown;
        w->cap = cap;
    }
    sv_store_review_item *it = &w->items[w->n++];
    memset(it, 0, sizeof *it);
    memcpy(it->docid, e->docid, sizeof it->docid);
    memcpy(it->reason, e->reason, sizeof it->reason);
    it->since = e->since;
    return 0;
}

int sv_store_review_list(sv_store *store, sv_store_review_item **items, size_t *n)
{
    intake_clear_error();
    *items = NULL;
    *n = 0;
    queue_walk w = {0};
    sv_index *ix = sv_store_index(store);
    int rc = sv_index_review_each(ix, collect_entry, &w);
    if (rc != 0) {
        rc = intake_fail(rc, "%s", rc == SV_ENOMEM ? "out of memory listing the review queue"
                                                   : sv_index_last_error());
        goto out;
    }
    /* The records after the walk: a callback may not call the index. */
    for (size_t i = 0; i < w.n; i++) {
        sv_index_record rec;
        if (sv_index_get(ix, w.items[i].docid, &rec) != 0)
            continue; /* decided by someone else meanwhile: still listed, type unknown */
        memcpy(w.items[i].type, rec.type, sizeof w.items[i].type);
        w.items[i].pages = rec.pages;
        w.items[i].size = rec.size;
        w.items[i].intake_time = rec.intake_time;
    }
    char result[64];
    snprintf(result, sizeof result, "hits=%zu", w.n);
    if ((rc = intake_audit(store, "review_list", NULL, result)) != 0) {
        rc = intake_fail(rc, "the listing could not be audited, so nothing is shown: %s",
                         sv_crypto_last_error());
        goto out;
    }
    *items = w.items;
    *n = w.n;
    w.items = NULL;
out:
    free(w.items);
    return rc;
}

/* The record of docid, which must be in one of the given states. */
static int load_in_state(sv_store *store, const char *docid, unsigned states,
                         sv_index_record *rec, const char *what_to_do)
{
    if (docid == NULL || !sv_docid_is_valid(docid))
        return intake_fail(SV_EINVAL, "not a document id (26 letters and digits, with an "
                                      "optional site prefix)");
    int rc = sv_index_get(sv_store_index(store), docid, rec);
    if (rc == SV_ENOTFOUND)
        return intake_fail(rc, "no document %s in the index", docid);
    if (rc != 0)
        return intake_fail(rc, "%s", sv_index_last_error());
    if ((states & (1u << rec->state)) == 0)
        return intake_fail(SV_EINVAL, "%s is %s, not in review; %s", docid,
                           sv_index_state_name(rec->state), what_to_do);
    return 0;
}

#define IN_REVIEW (1u << SV_INDEX_REVIEW)
#define IN_QUARANTINE (1u << SV_INDEX_QUARANTINED)
#define IS_FILED (1u << SV_INDEX_FILED)

int sv_store_review_show(sv_store *store, const char *docid, int out_fd, sv_vault_meta *meta_out)
{
    if (out_fd < 0)
        return sv_store_review_show_to(store, docid, NULL, NULL, meta_out);
    return sv_store_review_show_to(store, docid, sv_vault_sink_fd, &out_fd, meta_out);
}

int sv_store_review_show_to(sv_store *store, const char *docid, sv_vault_sink sink,
                            void *sink_ctx, sv_vault_meta *meta_out)
{
    intake_clear_error();
    memset(meta_out, 0, sizeof *meta_out);
    sv_index_record rec;
    int rc = load_in_state(store, docid, IN_REVIEW | IN_QUARANTINE, &rec,
                           "'scanvault get' retrieves filed documents");
    if (rc != 0)
        return rc;
    /* sv_store_get_to authenticates everything, audits "get", then writes. */
    if (sink != NULL)
        return sv_store_get_to(store, docid, sink, sink_ctx, meta_out);
    rc = sv_vault_read_meta(sv_store_vault(store), sv_store_keyring(store), docid, meta_out);
    if (rc != 0)
        return intake_fail(rc, "%s: %s", docid, sv_crypto_last_error());
    if ((rc = intake_audit(store, "review_show", docid, "ok")) != 0) {
        sv_vault_meta_wipe(meta_out);
        return intake_fail(rc, "%s: the look could not be audited, so nothing is shown: %s",
                           docid, sv_crypto_last_error());
    }
    return 0;
}

/* ---- decisions --------------------------------------------------------- */

/* The MRN typed twice: both must pass the rules (format, check digit, the
 * known-MRN list when one is configured) and name the same digits. */
static int check_typed_mrn(sv_store *store, const sv_ocr_rules *rules, const char *mrn,
                           const char *confirm, char digits[SV_MRN_MAX + 1],
                           uint8_t blind[SV_BLIND_LEN])
{
    char again[SV_MRN_MAX + 1];
    if (mrn == NULL || confirm == NULL)
        return intake_fail(SV_EINVAL, "the MRN must be given twice (the second to confirm)");
    sv_ocr_reason why = sv_ocr_check_mrn(rules, mrn, digits);
    if (why != SV_REASON_NONE) {
        memset(digits, 0, SV_MRN_MAX + 1);
        return intake_fail(SV_EINVAL, "the MRN given is refused: %s; nothing changed",
                           sv_ocr_reason_words(why));
    }
    why = sv_ocr_check_mrn(rules, confirm, again);
    bool is_same = why == SV_REASON_NONE && strcmp(digits, again) == 0;
    memset(again, 0, sizeof again);
    if (!is_same) {
        memset(digits, 0, SV_MRN_MAX + 1);
        return intake_fail(SV_EINVAL, "the confirmation does not match the MRN; nothing changed");
    }
    int rc = sv_crypto_blind_mrn(sv_store_keyring(store), digits, blind);
    if (rc != 0) {
        memset(digits, 0, SV_MRN_MAX + 1);
        return intake_fail(rc, "%s", sv_crypto_last_error());
    }
    return 0;
}

/* Audit a decision before it is taken: a change that cannot be audited is
 * not made. */
static int audit_decision(sv_store *store, const char *action, const char *docid,
                          const char *result)
{
    int rc = intake_audit(store, action, docid, result);
    if (rc != 0)
        return intake_fail(rc, "%s: the decision could not be audited, so it was not made: %s",
                           docid, sv_crypto_last_error());
    return 0;
}

/* Rewrite the object's sealed metadata with *updated, then run the index
 * change; when the index refuses, put the old metadata back. */
typedef int (*index_change_fn)(sv_index *ix, const char *docid, const void *arg);

static int apply_decision(sv_store *store, const char *action, const sv_vault_meta *old_meta,
                          const sv_vault_meta *updated, index_change_fn change, const void *arg)
{
    const char *docid = updated->docid;
    const char *data_dir = sv_store_data_dir(store);
    /* Noted first: a process killed between the header and the index leaves
     * the note, and the next read-write open completes the index. */
    int rc = intake_journal_begin(data_dir, docid);
    if (rc != 0)
        return rc;
    rc = sv_vault_update_meta(sv_store_vault(store), sv_store_keyring(store), updated);
    if (rc != 0) {
        rc = intake_fail(rc, "%s: the vault object could not be updated: %s; nothing changed",
                         docid, sv_crypto_last_error());
        intake_journal_end(data_dir, docid);
        intake_audit(store, action, docid, "failed=vault");
        return rc;
    }
#ifdef SV_TEST_HOOKS
    if (getenv("SCANVAULT_TEST_KILL_AFTER_HEADER") != NULL)
        raise(SIGKILL); /* the crash test of the journal (review_test.py) */
#endif
    rc = change(sv_store_index(store), docid, arg);
    if (rc == 0) {
        intake_journal_end(data_dir, docid);
        return 0;
    }
    char why[256];
    snprintf(why, sizeof why, "%s", sv_index_last_error());
    int back = sv_vault_update_meta(sv_store_vault(store), sv_store_keyring(store), old_meta);
    if (back == 0)
        intake_journal_end(data_dir, docid);
    intake_audit(store, action, docid, back == 0 ? "failed=index" : "failed=index vault_changed");
    if (back == 0)
        return intake_fail(rc, "%s: the index refused the change: %s; nothing changed", docid,
                           why);
    return intake_fail(rc, "%s: the index refused the change (%s) and the vault object keeps "
                           "the decision; take the decision again, or run 'scanvault reindex'",
                       docid, why);
}

typedef struct file_arg {
    const uint8_t *blind;
    const char *type;
} file_arg;

static int file_in_index(sv_index *ix, const char *docid, const void *arg)
{
    const file_arg *a = arg;
    return sv_index_file_review(ix, docid, a->blind, a->type);
}

static int reject_in_index(sv_index *ix, const char *docid, const void *arg)
{
    (void)arg;
    return sv_index_reject_review(ix, docid, REJECTED_REASON);
}

static int reassign_in_index(sv_index *ix, const char *docid, const void *arg)
{
    return sv_index_reassign(ix, docid, arg);
}

/* The object's current metadata (header authenticated), into two copies:
 * the old one to fall back to and the one the decision edits. */
static int load_meta_pair(sv_store *store, const char *docid, sv_vault_meta **old_out,
                          sv_vault_meta **new_out)
{
    *old_out = calloc(1, sizeof **old_out);
    *new_out = calloc(1, sizeof **new_out);
    if (*old_out == NULL || *new_out == NULL)
        return intake_fail(SV_ENOMEM, "out of memory");
    int rc = sv_vault_read_meta(sv_store_vault(store), sv_store_keyring(store), docid, *old_out);
    if (rc != 0)
        return intake_fail(rc, "%s: %s", docid, sv_crypto_last_error());
    **new_out = **old_out;
    return 0;
}

static void free_meta_pair(sv_vault_meta *a, sv_vault_meta *b)
{
    sv_vault_meta_wipe(a);
    sv_vault_meta_wipe(b);
    free(a);
    free(b);
}

int sv_store_review_assign(sv_store *store, const sv_ocr_rules *rules, const char *docid,
                           const char *mrn, const char *confirm, const char *type)
{
    intake_clear_error();
    if (type != NULL && type[0] != '\0' && !sv_index_type_ok(type))
        return intake_fail(SV_EINVAL, "--type: a type name is 1 to 31 of a-z and _");
    if (type != NULL && type[0] == '\0')
        type = NULL;
    char digits[SV_MRN_MAX + 1];
    uint8_t blind[SV_BLIND_LEN];
    sv_vault_meta *old_meta = NULL, *meta = NULL;
    int lock_fd = -1;
    int rc = check_typed_mrn(store, rules, mrn, confirm, digits, blind);
    if (rc != 0)
        return rc;
    sv_index_record rec;
    if ((rc = intake_lock_decisions(sv_store_data_dir(store), &lock_fd)) != 0 ||
        (rc = intake_store_index_is_current(store)) != 0 ||
        (rc = load_in_state(store, docid, IN_REVIEW, &rec,
                            "to move a filed document use 'review reassign'")) != 0 ||
        (rc = load_meta_pair(store, docid, &old_meta, &meta)) != 0)
        goto out;
    char blind_hex[2 * SV_BLIND_LEN + 1], result[160];
    intake_hex(blind, sizeof blind, blind_hex);
    snprintf(result, sizeof result, "blind=%s type=%s was=%s", blind_hex,
             type != NULL ? type : rec.type, rec.reason);
    if ((rc = audit_decision(store, "review_assign", docid, result)) != 0)
        goto out;
    meta->state = SV_VAULT_FILED;
    memcpy(meta->mrn, digits, sizeof meta->mrn);
    memset(meta->reason, 0, sizeof meta->reason);
    if (type != NULL)
        snprintf(meta->type, sizeof meta->type, "%s", type);
    file_arg arg = {blind, type};
    rc = apply_decision(store, "review_assign", old_meta, meta, file_in_index, &arg);
out:
    free_meta_pair(old_meta, meta);
    memset(digits, 0, sizeof digits);
    memset(blind, 0, sizeof blind);
    if (lock_fd >= 0)
        close(lock_fd);
    return rc;
}

/* A reviewer's note: 1..SV_META_NOTE_MAX bytes, no control characters (it
 * is printed on terminals). It may hold PHI: it is only ever sealed. */
static int check_note(const char *note)
{
    size_t len = note == NULL ? 0 : strlen(note);
    if (len == 0 || len > SV_META_NOTE_MAX)
        return intake_fail(SV_EINVAL, "--reason: give 1 to %d bytes of text", SV_META_NOTE_MAX);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)note[i] < 0x20 || note[i] == 0x7f)
            return intake_fail(SV_EINVAL, "--reason: no control characters or line breaks");
    return 0;
}

int sv_store_review_reject(sv_store *store, const char *docid, const char *note)
{
    intake_clear_error();
    int rc = check_note(note);
    if (rc != 0)
        return rc;
    sv_vault_meta *old_meta = NULL, *meta = NULL;
    int lock_fd = -1;
    sv_index_record rec;
    if ((rc = intake_lock_decisions(sv_store_data_dir(store), &lock_fd)) != 0 ||
        (rc = intake_store_index_is_current(store)) != 0 ||
        (rc = load_in_state(store, docid, IN_REVIEW, &rec, "only a held document is rejected")) !=
            0 ||
        (rc = load_meta_pair(store, docid, &old_meta, &meta)) != 0)
        goto out;
    char result[96];
    snprintf(result, sizeof result, "reason=%s was=%s", REJECTED_REASON, rec.reason);
    if ((rc = audit_decision(store, "review_reject", docid, result)) != 0)
        goto out;
    meta->state = SV_VAULT_QUARANTINED;
    memset(meta->mrn, 0, sizeof meta->mrn);
    snprintf(meta->reason, sizeof meta->reason, "%s", REJECTED_REASON);
    snprintf(meta->review_note, sizeof meta->review_note, "%s", note);
    rc = apply_decision(store, "review_reject", old_meta, meta, reject_in_index, NULL);
out:
    free_meta_pair(old_meta, meta);
    if (lock_fd >= 0)
        close(lock_fd);
    return rc;
}

int sv_store_review_reassign(sv_store *store, const sv_ocr_rules *rules, const char *docid,
                             const char *new_mrn, const char *confirm)
{
    intake_clear_error();
    char digits[SV_MRN_MAX + 1];
    uint8_t blind[SV_BLIND_LEN];
    sv_vault_meta *old_meta = NULL, *meta = NULL;
    int lock_fd = -1;
    int rc = check_typed_mrn(store, rules, new_mrn, confirm, digits, blind);
    if (rc != 0)
        return rc;
    sv_index_record rec;
    if ((rc = intake_lock_decisions(sv_store_data_dir(store), &lock_fd)) != 0 ||
        (rc = intake_store_index_is_current(store)) != 0 ||
        (rc = load_in_state(store, docid, IS_FILED, &rec,
                            "a held document is filed with 'review assign'")) != 0)
        goto out;
    if (memcmp(rec.blind_mrn, blind, sizeof blind) == 0) {
        rc = intake_fail(SV_EEXIST, "%s is already filed under that MRN; nothing changed", docid);
        goto out;
    }
    if ((rc = load_meta_pair(store, docid, &old_meta, &meta)) != 0)
        goto out;
    /* Both blind values: the old filing stays in the audit trail. */
    char from_hex[2 * SV_BLIND_LEN + 1], to_hex[2 * SV_BLIND_LEN + 1], result[160];
    intake_hex(rec.blind_mrn, sizeof rec.blind_mrn, from_hex);
    intake_hex(blind, sizeof blind, to_hex);
    snprintf(result, sizeof result, "from=%s to=%s", from_hex, to_hex);
    if ((rc = audit_decision(store, "review_reassign", docid, result)) != 0)
        goto out;
    memcpy(meta->mrn, digits, sizeof meta->mrn);
    rc = apply_decision(store, "review_reassign", old_meta, meta, reassign_in_index, blind);
out:
    free_meta_pair(old_meta, meta);
    memset(digits, 0, sizeof digits);
    memset(blind, 0, sizeof blind);
    if (lock_fd >= 0)
        close(lock_fd);
    return rc;
}
