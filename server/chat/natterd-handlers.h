/* natterd-handlers.h: the chat layer's dispatch table (natterd-requests.def).
 */
#pragma once

#include "natterd-directory.h"
#include "natterd-service.h"

G_BEGIN_DECLS

/* Looks up @type in the table (every request type of the contract but
 * "ping"/"pong", which the connection answers itself). NULL: unknown_type. */
const NatterdHandler *natterd_handlers_lookup (const char *type);

/* TRUE when the table is sorted, as bsearch needs (a unit test asks). */
gboolean              natterd_handlers_check_sorted (void);

/* The events of a typing notice and of a moved read marker, to this
 * node's connections: for a request here, and for one another node of
 * the cluster relayed (natterd-cluster.c). Typing goes to a @room's
 * members but @user, or to @peer. */
void natterd_tell_typing (NatterdConversation *room,
                          NatterdUser         *peer,
                          NatterdUser         *user,
                          gboolean             active);
void natterd_tell_read   (NatterdConversation *conv,
                          NatterdUser         *me,
                          gint64               up_to);
/* Deletes expired uploads and unreferenced files now and every 10
 * minutes (natterd-handlers-files.c); the timeout's id. */
guint natterd_files_start_expiry (NatterdDirectory *dir);

/* A stored change of a message (natterd-handlers-actions.c), as a
 * "message_changed" event to the connections with message actions of
 * the conversation's participants, but @except (the one that asked: it
 * gets the reply). Nobody is told when the directory does not know the
 * conversation (made through another node a moment ago). */
void natterd_tell_change (NatterdDirectory         *dir,
                          const NatterdStoreChange *change,
                          NatterdConnection        *except);
/* @me's new notification level of @conv, to @me's connections with
 * message actions but @except. */
void natterd_tell_notify_level (NatterdConversation *conv,
                                NatterdUser         *me,
                                NatterdNotifyLevel   level,
                                NatterdConnection   *except);

G_END_DECLS
