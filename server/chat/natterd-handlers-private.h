/* natterd-handlers-private.h: what the handler files share: argument
 * readers that answer the request themselves on a bad argument, and every
 * handler of the dispatch table.
 */
#pragma once

#include "natter-fields.h"
#include "natter-validate.h"
#include "natterd-directory.h"
#include "natterd-request.h"

G_BEGIN_DECLS

/* The authenticated user of the request's connection (NEEDS_AUTH handlers). */
NatterdUser *natterd_request_get_user (NatterdRequest *request);

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
gboolean natterd_arg_limit  (NatterdRequest  *request,
                             gint64           default_limit,
                             gint64           cap,
                             gint64          *out);
/* A username field naming an existing user: invalid_argument when
 * malformed, not_found when nobody has it. NULL after answering. */
NatterdUser *natterd_arg_user (NatterdRequest *request,
                               const char     *key);
/* A room field: invalid_argument when malformed, not_found when it does
 * not exist, forbidden when @must_be_member and the user is not in it. */
NatterdRoom *natterd_arg_room (NatterdRequest *request,
                               const char     *key,
                               gboolean        must_be_member);
/* A conversation address the user may read. A direct conversation that
 * has no message yet gives *out_conv NULL and TRUE. FALSE after answering. */
gboolean natterd_arg_conversation (NatterdRequest       *request,
                                   const char           *key,
                                   gboolean              required,
                                   NatterdConversation **out_conv,
                                   NatterdUser         **out_peer);

/* Answers a store error as internal, logging it. */
void natterd_request_store_error (NatterdRequest *request,
                                  const GError   *error);

/* Handlers: users and presence (natterd-handlers-users.c). */
void natterd_handle_set_presence    (NatterdRequest *request);
void natterd_handle_user_search     (NatterdRequest *request);
void natterd_handle_user_info       (NatterdRequest *request);

/* Contacts (natterd-handlers-contacts.c). */
void natterd_handle_contacts        (NatterdRequest *request);
void natterd_handle_contact_request (NatterdRequest *request);
void natterd_handle_contact_accept  (NatterdRequest *request);
void natterd_handle_contact_decline (NatterdRequest *request);
void natterd_handle_contact_remove  (NatterdRequest *request);

/* Messages (natterd-handlers-messages.c). */
void natterd_handle_send            (NatterdRequest *request);
void natterd_handle_history         (NatterdRequest *request);
void natterd_handle_sync            (NatterdRequest *request);
void natterd_handle_conversations   (NatterdRequest *request);
void natterd_handle_search          (NatterdRequest *request);
void natterd_handle_typing          (NatterdRequest *request);
void natterd_handle_read            (NatterdRequest *request);

/* Rooms (natterd-handlers-rooms.c). */
void natterd_handle_room_create     (NatterdRequest *request);
void natterd_handle_room_members    (NatterdRequest *request);
void natterd_handle_room_join       (NatterdRequest *request);
void natterd_handle_room_leave      (NatterdRequest *request);
void natterd_handle_rooms           (NatterdRequest *request);
void natterd_handle_room_directory  (NatterdRequest *request);
void natterd_handle_room_topic      (NatterdRequest *request);

G_END_DECLS
