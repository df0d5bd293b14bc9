/* natter-conversation-private.h: what the client core changes on a
 * NatterConversation. */
#pragma once

#include "natter-conversation.h"
#include "natter-message-list.h"

G_BEGIN_DECLS

typedef struct _NatterClient NatterClient;

/* @client is a weak back-pointer (for paging history). */
NatterConversation *natter_conversation_new        (NatterClient *client,
                                                    const char   *address,
                                                    NatterUser   *peer);
NatterMessageList  *natter_conversation_get_list   (NatterConversation *self);
void                natter_conversation_set_room   (NatterConversation *self,
                                                    NatterRoom         *room);
/* Recomputes last-message, last-activity and unread after the list changed. */
void                natter_conversation_refresh    (NatterConversation *self,
                                                    const char         *me);
void                natter_conversation_set_unread (NatterConversation *self,
                                                    guint               unread);
/* Never moves back. */
void                natter_conversation_set_read_up_to      (NatterConversation *self,
                                                             gint64              id);
void                natter_conversation_set_peer_read_up_to (NatterConversation *self,
                                                             gint64              id);
void                natter_conversation_set_notify_level (NatterConversation *self,
                                                          NatterNotifyLevel   level);
void                natter_conversation_set_has_more_history (NatterConversation *self,
                                                              gboolean            has_more);
/* Typing: @active TRUE sets "<name> is typing…" for 6 s; FALSE clears it. */
void                natter_conversation_set_user_typing (NatterConversation *self,
                                                         NatterUser         *user,
                                                         gboolean            active);
/* Forgets everyone's typing (the connection is gone: no "paused" will come). */
void                natter_conversation_clear_typing    (NatterConversation *self);
void                natter_conversation_detach_client (NatterConversation *self);
/* Notices among a room's messages, from live events, standing after the
 * message @after_id (the newest the client had when the event came). */
void                natter_conversation_note_member   (NatterConversation *self,
                                                       NatterUser         *user,
                                                       gboolean            joined,
                                                       gint64              after_id);
/* @by NULL when the event did not say who (the topic is then shown
 * alone). */
void                natter_conversation_note_topic    (NatterConversation *self,
                                                       NatterUser         *by,
                                                       const char         *topic,
                                                       gint64              after_id);

G_END_DECLS
