/*
 * sv_intake_api.h - part of sv_intake.h, the intake module's one public
 * header; include that, never this file (docs/decisions.md). The local API:
 * the service's socket server, and the client the `scanvault` command uses
 * to reach it. docs/access.md is the admin's page (roles, groups, protocol,
 * direct mode, what is audited).
 */
#ifndef SV_INTAKE_H
#error "include sv_intake.h, not sv_intake_api.h"
#endif
#ifndef SV_INTAKE_API_H
#define SV_INTAKE_API_H

/* ==== the socket server (server*.c) ========================================
 *
 * `scanvault run` holds the key; people do not. Their commands reach it over
 * a Unix stream socket ([access] socket, mode 0660, group [access]
 * socket_group). For each connection the server asks the kernel who is
 * calling (SO_PEERCRED, SO_PEERGROUPS: never a name the client sends), gives
 * the caller a role by OS group ([access] *_groups; uid 0 and the service's
 * own uid are admin) and refuses a caller without one. Each request is
 * checked against the role and, for retrievals, the role's hourly cap, then
 * runs the same sv_store_* call the command runs in direct mode, on a view
 * of the service's store that audits under the caller's uid and name
 * (sv_store_create_view). Every request, allowed or refused, leaves at least
 * one audit line. Decrypted bytes only ever go to the caller's socket.
 *
 * Threads: one accepts, one serves each connection (at most
 * SV_SERVER_CONNECTIONS at once; more get a "busy" error). They share the
 * store, which is safe for this use (the index is MDB_NOTLS, the audit log
 * has a mutex, the vault and key ring are read-only, review decisions take
 * spool/review.lock on a descriptor of their own).
 */

#define SV_SERVER_CONNECTIONS 16
/* Seconds a connection may sit idle between requests, or take to send the
 * rest of a message, before it is closed; also the send timeout. */
#define SV_SERVER_IO_TIMEOUT_S 30
/* Seconds a stop waits for requests in flight before cutting them off. */
#define SV_SERVER_STOP_GRACE_S 30

typedef struct sv_server sv_server;

/*
 * Listen on settings->access_socket: a stale socket left by a crash is
 * replaced, a missing parent directory is made (0755); the socket gets mode
 * 0660 and group settings->access_socket_group when that group exists (else
 * a warning is logged). Roles and caps come from settings. Requests are
 * served once a store is attached; until then they get "unavailable".
 * Returns 0; SV_EEXIST (another service answers on that socket); SV_ELIMIT
 * (path too long); SV_EERRNO (directory, socket, bind, listen, thread). The
 * message is in sv_intake_last_error(). *out NULL on failure.
 */
int sv_server_create(sv_server **out, const sv_intake_settings *settings);

/*
 * Serve requests on store with rules (both must stay valid until detached),
 * with the roles and caps of settings (the socket itself is not changed).
 * Group names are looked up now; a group that does not exist is logged and
 * gives nobody a role.
 */
void sv_server_attach(sv_server *srv, sv_store *store, const sv_ocr_rules *rules,
                      const sv_intake_settings *settings);

/* Stop using the store: waits until the requests in flight have finished;
 * requests until the next attach get "unavailable". */
void sv_server_detach(sv_server *srv);

/* The status JSON `scanvault status` shows (the service's own, as written
 * to [service] status_file); copied. */
void sv_server_set_status(sv_server *srv, const char *json);

/*
 * Stop: close the listening socket and remove it, let the requests in
 * flight finish (up to SV_SERVER_STOP_GRACE_S, then their connections are
 * cut and they end at their next write), join every thread, free. NULL is
 * fine. The attached store is not touched.
 */
void sv_server_destroy(sv_server *srv);

/* ==== the client (client*.c) ================================================
 *
 * What the `scanvault` command calls when the service runs: the same
 * operations as the sv_store_* calls, with the same arguments, results and
 * returns, carried over the socket. Errors the service reports come back
 * with its message in sv_intake_last_error(); a refusal (by role, or by the
 * hourly cap) is SV_EPERM; a service that hung up mid-answer SV_ETRUNC;
 * busy or restarting SV_ETIMEOUT. One connection serves any number of calls,
 * one at a time; it is not for sharing between threads.
 */

typedef struct sv_client sv_client;

/*
 * Connect to the service at socket_path and introduce this process; data_dir
 * (NULL: whatever the service serves) is the data directory the caller
 * means. Returns 0; SV_ENOTFOUND (no socket there, or no service listening:
 * use direct mode); SV_EINVAL (the service there serves another data
 * directory: use direct mode); SV_EPERM (the socket or the service refuses
 * this user); SV_ETIMEOUT (busy or restarting: try again); SV_EVERSION /
 * SV_EFORMAT (another release of scanvault); SV_ELIMIT (path too long);
 * SV_EERRNO. The message is in sv_intake_last_error(). *out NULL on failure.
 */
int sv_client_connect(sv_client **out, const char *socket_path, const char *data_dir);

/* Hang up and free. NULL is fine. */
void sv_client_destroy(sv_client *c);

/* The role the service gave this caller ("admin", "clerk", "reviewer"),
 * and the data directory it serves. */
const char *sv_client_role(const sv_client *c);
const char *sv_client_data_dir(const sv_client *c);

/* As sv_store_find(). */
int sv_client_find(sv_client *c, const char *mrn, const sv_index_filter *filter,
                   sv_store_doc **docs, size_t *n);

/* As sv_store_get(): the bytes go to out_fd; the service has authenticated
 * the whole document before the first byte arrives. meta is not sent.
 * SV_ETRUNC when the stream ended early. */
int sv_client_get(sv_client *c, const char *docid, int out_fd);

/* As sv_store_review_list(). */
int sv_client_review_list(sv_client *c, sv_store_review_item **items, size_t *n);

/* As sv_store_review_show(): out_fd < 0 for the metadata only. meta_out gets
 * what a reviewer is shown (docid, state, reason, type, pages, size, intake
 * time, note, OCR summary), never the scanner's file name; wipe it. */
int sv_client_review_show(sv_client *c, const char *docid, int out_fd, sv_vault_meta *meta_out);

/* As sv_store_review_assign(), _reject() and _reassign(); the service checks
 * the MRN against its own rules. */
int sv_client_review_assign(sv_client *c, const char *docid, const char *mrn,
                            const char *confirm, const char *type);
int sv_client_review_reject(sv_client *c, const char *docid, const char *note);
int sv_client_review_reassign(sv_client *c, const char *docid, const char *new_mrn,
                              const char *confirm);

/* The service's status JSON (one line, as in [service] status_file) into
 * buf. SV_ELIMIT when it does not fit len. */
int sv_client_status(sv_client *c, char *buf, size_t len);

/* As sv_store_list(): fn gets each record (no MRN). */
int sv_client_list(sv_client *c, sv_index_state state, sv_store_list_fn fn, void *ctx);

/* As sv_store_get_stats(). */
int sv_client_get_stats(sv_client *c, sv_store_stats *st);

/* As sv_verify_run() on the service's store. */
int sv_client_verify(sv_client *c, const sv_verify_options *o, sv_verify_report *rep);

/* As sv_store_audit_read() and sv_store_audit_verify(). */
int sv_client_audit_read(sv_client *c, const sv_store_audit_filter *filter,
                         sv_audit_entry_fn fn, void *ctx, sv_store_audit_report *rep);
int sv_client_audit_verify(sv_client *c, const sv_store_audit_verify_options *opts,
                           sv_store_audit_report *rep);

/*
 * As sv_store_export(): the service checks, audits and streams the
 * documents; this process writes out_dir (temp directory beside it, every
 * file hashed against the sealed SHA-256 the service sends, manifests,
 * rename), so the service never writes decrypted bytes to disk.
 */
int sv_client_export(sv_client *c, const char *mrn, const char *out_dir,
                     const sv_store_export_options *opts, sv_store_export_summary *summary);

/* ==== end of the local API ================================================= */

#endif
