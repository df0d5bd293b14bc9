/* natter-message-private.h: what the client core changes on a NatterMessage. */
#pragma once

#include <json-glib/json-glib.h>

#include "natter-message.h"

G_BEGIN_DECLS

NatterMessage *natter_message_new_pending (const char *conversation,
                                           const char *sender,
                                           const char *body,
                                           const char *client_msg_id,
                                           gint64      timestamp);
/* A stored message from a wire message object; NULL (with @error) when a
 * required field is missing or invalid. @conversation overrides the
 * frame's own when not NULL. @me decides `outgoing`. */
NatterMessage *natter_message_new_from_json (JsonObject  *message,
                                             const char  *me,
                                             GError     **error);
/* A notice (natter_message_is_notice()) that stands after the message
 * @after_id: every message with an id up to it came before the event. */
NatterMessage *natter_message_new_notice  (const char *conversation,
                                           const char *body,
                                           gint64      timestamp,
                                           gint64      after_id);
gint64         natter_message_get_after_id (NatterMessage *self);
/* SENDING → SENT with the server's id and timestamp. */
void           natter_message_set_sent    (NatterMessage *self,
                                           gint64         id,
                                           gint64         timestamp);
void           natter_message_set_state   (NatterMessage      *self,
                                           NatterMessageState  state);

/* A copy of the parts that change (body, edited_ts, deleted, reply_to,
 * reactions, mentions) with the identity (id, sender, conversation). */
NatterMessage *natter_message_copy        (NatterMessage *self);
/* Takes over @from's changing parts, notifying those that differ. TRUE
 * when anything changed. */
gboolean       natter_message_update      (NatterMessage *self,
                                           NatterMessage *from);
/* The quote of a pending reply. */
void           natter_message_set_reply_to (NatterMessage     *self,
                                            const NatterQuote *quote);
/* A reply's quote follows its original: @original as it is now. */
void           natter_message_quote_original (NatterMessage *self,
                                              NatterMessage *original);
/* What this device did but the server has not confirmed yet, applied on
 * top of what the server said (natter-client-actions.c). */
void           natter_message_apply_edit     (NatterMessage *self,
                                              const char    *body,
                                              gint64         ts);
void           natter_message_apply_delete   (NatterMessage *self);
void           natter_message_apply_reaction (NatterMessage *self,
                                              const char    *emoji,
                                              const char    *username,
                                              gboolean       on);

/* Feature files: the message's files become @files' items
 * (NatterMessageFile, immutable): a pending message's local files, then the
 * server's once it is acknowledged. */
void           natter_message_set_files      (NatterMessage *self,
                                              GListModel    *files);

G_END_DECLS
