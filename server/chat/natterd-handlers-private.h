/* natterd-handlers-private.h: what the handler files share: argument
 * readers that answer the request themselves on a bad argument, and every
 * handler of the dispatch table.
 */
#pragma once

#include "natter-fields.h"
#include "natter-validate.h"
#include "natterd-auth.h"
#include "natterd-commit.h"
#include "natterd-directory.h"
#include "natterd-event.h"
#include "natterd-message-object.h"
#include "natterd-model-write.h"
#include "natterd-presence.h"
#include "natterd-request.h"
#include "natterd-search-feed.h"
#include "natterd-session.h"

G_BEGIN_DECLS

/* Each returns FALSE after answering the request with invalid_argument. */
gboolean natterd_arg_string (NatterdRequest  *request,
                             const char      *key,
                             gboolean         required,
                             const char     **out);
gboolean natterd_arg_int    (NatterdRequest  *request,
                             const char      *key,
                             gboolean         required,
                             gboolean        *out_present,
                             gint64          *out);
/* Strict standard base64 with padding (RFC 4648 §4), canonical: the
 * bytes (free them), or NULL for anything else. */
guint8  *natterd_base64_decode_strict (const char *s,
                                       gsize      *out_len);
/* An ok carrying the user's own user object ({"user":…}). */
void     natterd_reply_user (NatterdRequest *request,
                             NatterdUser    *user);
/* An optional boolean; *out FALSE when absent. */
gboolean natterd_arg_bool   (NatterdRequest  *request,
                             const char      *key,
                             gboolean        *out_present,
                             gboolean        *out);
/* A message id: a positive integer (0 when absent and not @required). */
gboolean natterd_arg_message_id (NatterdRequest *request,
                                 const char     *key,
                                 gboolean        required,
                                 gint64         *out);
gboolean natterd_arg_limit  (NatterdRequest  *request,
                             gint64           default_limit,
                             gint64           cap,
                             gint64          *out);
/* A username field naming an existing user: invalid_argument when
 * malformed, not_found when nobody has it. NULL after answering, or when
 * the request waits for a refresh of the directory to look again
 * (natterd-directory-refresh.h): the same for the room and conversation
 * readers below. */
NatterdUser *natterd_arg_user (NatterdRequest *request,
                               const char     *key);
/* The same, but a deleted account (account_delete) is not_found there,
 * and found here (user_info shows it, "deleted": true). */
NatterdUser *natterd_arg_user_or_deleted (NatterdRequest *request,
                                          const char     *key);
/* A room field: invalid_argument when malformed, not_found when it does
 * not exist, forbidden when @must_be_member and the user is not in it. */
NatterdRoom *natterd_arg_room (NatterdRequest *request,
                               const char     *key,
                               gboolean        must_be_member);
/* A conversation address the user may read. A direct conversation that
 * has no message yet gives *out_conv NULL and TRUE. FALSE after answering
 * or deferring. */
gboolean natterd_arg_conversation (NatterdRequest       *request,
                                   const char           *key,
                                   gboolean              required,
                                   NatterdConversation **out_conv,
                                   NatterdUser         **out_peer);

/* A login's or registration's "device" (feature accounts): NULL when
 * absent or when the request does not turn the feature on; FALSE after
 * answering invalid_argument (natterd-handlers-accounts.c). */
gboolean natterd_arg_device (NatterdRequest  *request,
                             const char     **out);

/* messages_per_minute_per_user, shared by sends and the changes of
 * message actions: takes one (0) or says in how many ms one is free. */
gint64 natterd_message_rate_take (NatterdRequest *request,
                                  NatterdUser    *me);
/* "all", "mentions", "none" (docs/protocol.md, notify_level). */
const char *natterd_notify_level_name (NatterdNotifyLevel level);

/* Answers ok with "room": the room object in the form the request's
 * connection reads (natterd-handlers-rooms.c). */
void natterd_reply_room (NatterdRequest *request,
                         NatterdRoom    *room);

/* Answers a store error as internal, logging it. */
void natterd_request_store_error (NatterdRequest *request,
                                  const GError   *error);
/* Answers a write or read job's error: a refusal (NATTER_ERROR, set by
 * natterd_refuse) with its code, anything else as a store error. */
void natterd_request_job_error   (NatterdRequest *request,
                                  const GError   *error);
/* For a job deciding in its transaction: sets @error to @code with
 * @message and returns FALSE. */
gboolean natterd_refuse          (GError        **error,
                                  NatterErrorCode code,
                                  const char     *message);

/* Every handler of the dispatch table: natterd_handle_<type>, written in
 * the file of its family (natterd-handlers-session.c, -users.c,
 * -contacts.c, -messages.c, -rooms.c). */
#define NATTERD_REQUEST(type, flags) void natterd_handle_##type (NatterdRequest *request);
#include "natterd-requests.def"
#undef NATTERD_REQUEST

G_END_DECLS
