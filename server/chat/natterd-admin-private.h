/* natterd-admin-private.h: what the admin channel's files share
 * (natterd-admin.c: the socket and its requests; natterd-admin-status.c,
 * natterd-admin-users.c, natterd-admin-invites.c, natterd-admin-rooms.c,
 * natterd-admin-backup.c: the commands).
 */
#pragma once

#include <json-glib/json-glib.h>

#include "natterd-admin.h"
#include "natterd-writer.h"
#include "natter-error.h"
#include "natter-json.h"

G_BEGIN_DECLS

typedef struct _NatterdAdminRequest NatterdAdminRequest;

/* A command: reads @args (the request object) and finishes @request,
 * now or later, exactly once. */
typedef void (*NatterdAdminFunc) (NatterdAdminRequest *request,
                                  JsonObject          *args);

/* The directory, or NULL once natterd is stopping (a request that came
 * back from the writer then touches nothing and is dropped). */
NatterdDirectory *natterd_admin_request_directory (NatterdAdminRequest *request);
/* The backup under way (natterd-admin-backup.c; one at a time), NULL
 * when none: the slot itself is NULL once natterd is stopping. */
typedef struct _NatterdAdminBackup NatterdAdminBackup;
NatterdAdminBackup **natterd_admin_request_backup (NatterdAdminRequest *request);
/* natterd is stopping: cancels the backup and waits for its thread. */
void              natterd_admin_backup_stop (NatterdAdminBackup *backup);
/* When the channel started (monotonic µs). */
gint64            natterd_admin_request_started   (NatterdAdminRequest *request);

/* The reply: {"type":"ok", then the caller's fields, then finish. */
NatterJsonWriter *natterd_admin_begin_ok  (NatterdAdminRequest *request);
void              natterd_admin_finish_ok (NatterdAdminRequest *request);
void              natterd_admin_ok        (NatterdAdminRequest *request);
void              natterd_admin_error     (NatterdAdminRequest *request,
                                           NatterErrorCode      code,
                                           const char          *format,
                                           ...) G_GNUC_PRINTF (3, 4);
/* A store error: logged, answered internal. */
void              natterd_admin_store_error (NatterdAdminRequest *request,
                                             const GError        *error);

/* For an apply function: FALSE when the request was answered already
 * (@error: internal; @directory NULL: natterd is stopping). */
gboolean          natterd_admin_check_done (NatterdAdminRequest *request,
                                            NatterdDirectory    *directory,
                                            const GError        *error);

/* A text the request keeps for its reply (a session id named in an
 * error), copied; NULL when none. */
void              natterd_admin_request_set_arg   (NatterdAdminRequest *request,
                                                   const char          *arg);
const char       *natterd_admin_request_arg       (NatterdAdminRequest *request);

/* Argument readers: FALSE when missing (if @required) or ill-typed, and
 * the request is then answered invalid_argument. */
gboolean          natterd_admin_arg_string (NatterdAdminRequest *request,
                                            JsonObject          *args,
                                            const char          *key,
                                            gboolean             required,
                                            const char         **out);
gboolean          natterd_admin_arg_int    (NatterdAdminRequest *request,
                                            JsonObject          *args,
                                            const char          *key,
                                            gint64               min,
                                            gint64               max,
                                            gint64               fallback,
                                            gint64              *out);
/* "username": an existing user, else not_found. */
NatterdUser      *natterd_admin_arg_user   (NatterdAdminRequest *request,
                                            JsonObject          *args);

/* A write of natterctl's, on the writer thread: @run there, then @apply
 * on the main loop after the commit, with the directory (NULL when
 * natterd is stopping: answer and touch nothing). It takes the model
 * writes' turn (natterd-model-write.h) from before it is queued until it
 * is applied, so that a refresh of the directory on a shared store never
 * reads the rows from before it and undoes it after. Embed first; the
 * struct is freed with g_free after @apply (and @clear, if set). */
typedef struct _NatterdAdminWrite NatterdAdminWrite;
typedef void (*NatterdAdminApplyFunc) (NatterdAdminWrite *write,
                                       NatterdDirectory  *directory,
                                       const GError      *error);
/* Called on the main loop once the turn is held, before the job is
 * queued: checks against the directory as the writes before left it
 * (as a handler does after natterd_model_write_wait). FALSE after
 * answering: nothing is written. */
typedef gboolean (*NatterdAdminTurnFunc) (NatterdAdminWrite *write,
                                          NatterdDirectory  *directory);
struct _NatterdAdminWrite {
  NatterdWriteJob        job;
  NatterdAdminRequest   *request;
  NatterdAdminApplyFunc  apply;
  GDestroyNotify         clear;
  NatterdAdminTurnFunc   turn;    /* may be NULL; set before starting */
  /*< private >*/
  NatterdDirectory      *directory;
  guint                  retry_source;
};
void natterd_admin_write_start (NatterdAdminWrite     *write,
                                NatterdAdminRequest   *request,
                                NatterdWriteRunFunc    run,
                                NatterdAdminApplyFunc  apply,
                                GDestroyNotify         clear);
/* Answers @request with @code and @message and frees @write unstarted
 * (@clear first, if not NULL): a write that failed before its job. */
void natterd_admin_write_fail  (NatterdAdminWrite     *write,
                                GDestroyNotify         clear,
                                NatterErrorCode        code,
                                const char            *message);
/* The values of @table sorted with @compare (which gets pointers to
 * them), for the lists. */
GPtrArray *natterd_admin_sorted_values (GHashTable    *table,
                                        GCompareFunc   compare);
/* A read of natterctl's on the reader thread, the same way (no turn). */
void natterd_admin_read_start  (NatterdAdminWrite     *read,
                                NatterdAdminRequest   *request,
                                NatterdWriteRunFunc    run,
                                NatterdAdminApplyFunc  apply,
                                GDestroyNotify         clear);

/* The commands, by file. */
void natterd_admin_status        (NatterdAdminRequest *request, JsonObject *args);
void natterd_admin_registration  (NatterdAdminRequest *request, JsonObject *args);
void natterd_admin_room_list     (NatterdAdminRequest *request, JsonObject *args);
void natterd_admin_room_delete   (NatterdAdminRequest *request, JsonObject *args);
void natterd_admin_room_set_owner (NatterdAdminRequest *request, JsonObject *args);
void natterd_admin_user_list     (NatterdAdminRequest *request, JsonObject *args);
void natterd_admin_user_add      (NatterdAdminRequest *request, JsonObject *args);
void natterd_admin_user_disable  (NatterdAdminRequest *request, JsonObject *args);
void natterd_admin_user_enable   (NatterdAdminRequest *request, JsonObject *args);
void natterd_admin_user_reset_password (NatterdAdminRequest *request, JsonObject *args);
void natterd_admin_user_sessions (NatterdAdminRequest *request, JsonObject *args);
void natterd_admin_user_revoke   (NatterdAdminRequest *request, JsonObject *args);
void natterd_admin_user_delete   (NatterdAdminRequest *request, JsonObject *args);
void natterd_admin_invite_create (NatterdAdminRequest *request, JsonObject *args);
void natterd_admin_invite_list   (NatterdAdminRequest *request, JsonObject *args);
void natterd_admin_invite_revoke (NatterdAdminRequest *request, JsonObject *args);
void natterd_admin_backup        (NatterdAdminRequest *request, JsonObject *args);

G_END_DECLS
