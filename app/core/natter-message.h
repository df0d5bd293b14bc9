/* natter-message.h: one chat message, stored or still on its way out. */
#pragma once

#include <gio/gio.h>

#include "natter-core-enums.h"
#include "natter-message-file.h"

G_BEGIN_DECLS

/* What a reply shows of the message it answers (feature message_actions):
 * the sender and the first line of its current text, at most 200 bytes
 * (the protocol does not say whether it was cut: widgets ellipsize). */
typedef struct {
  gint64    id;
  char     *sender;
  char     *body;
  gboolean  deleted;
} NatterQuote;

#define NATTER_TYPE_QUOTE (natter_quote_get_type ())
GType        natter_quote_get_type (void);
NatterQuote *natter_quote_copy     (const NatterQuote *quote);
void         natter_quote_free     (NatterQuote       *quote);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NatterQuote, natter_quote_free)

/* One emoji on a message and who put it there, in the order they did. */
typedef struct {
  char  *emoji;
  GStrv  users;
} NatterReaction;

#define NATTER_TYPE_REACTION (natter_reaction_get_type ())
GType           natter_reaction_get_type (void);
NatterReaction *natter_reaction_copy     (const NatterReaction *reaction);
void            natter_reaction_free     (NatterReaction       *reaction);
gboolean        natter_reaction_has_user (const NatterReaction *reaction,
                                          const char           *username);

#define NATTER_TYPE_MESSAGE (natter_message_get_type ())
G_DECLARE_FINAL_TYPE (NatterMessage, natter_message, NATTER, MESSAGE, GObject)

/* The server's id; 0 while the message is still being sent. */
gint64              natter_message_get_id            (NatterMessage *self);
/* The conversation address as this client sees it: "@bob" or "#general". */
const char         *natter_message_get_conversation  (NatterMessage *self);
/* The sender's username. */
const char         *natter_message_get_sender        (NatterMessage *self);
const char         *natter_message_get_body          (NatterMessage *self);
/* Milliseconds since the epoch (server time once stored; local time while sending). */
gint64              natter_message_get_timestamp     (NatterMessage *self);
/* NULL for messages from others that did not carry one. */
const char         *natter_message_get_client_msg_id (NatterMessage *self);
NatterMessageState  natter_message_get_state         (NatterMessage *self);
/* TRUE when we sent it (from this or another device). */
gboolean            natter_message_get_outgoing      (NatterMessage *self);
/* TRUE for a line the app adds itself among a room's messages ("bob
 * joined", "alice changed the topic…"), from live events: no id, no
 * sender (""), the text in the body. Protocol 1 keeps no such lines, so
 * they are not in history and do not survive a restart. */
gboolean            natter_message_is_notice         (NatterMessage *self);

/* Feature message_actions. A stored message changes in place (its
 * properties notify) when it is edited, deleted or reacted to. */

/* The message this one answers, or NULL. */
const NatterQuote  *natter_message_get_reply_to      (NatterMessage *self);
/* ms since the epoch of the last edit; 0 when never edited. */
gint64              natter_message_get_edited_ts     (NatterMessage *self);
/* TRUE once deleted: the body is then "". */
gboolean            natter_message_get_deleted       (NatterMessage *self);
/* NatterReaction, in the order each emoji was first added (never NULL;
 * borrowed, valid until the message changes). */
GPtrArray          *natter_message_get_reactions     (NatterMessage *self);
/* The reaction @emoji, or NULL. */
const NatterReaction *natter_message_find_reaction   (NatterMessage *self,
                                                      const char    *emoji);
/* The usernames the body mentions (never NULL). */
const char * const *natter_message_get_mentions      (NatterMessage *self);
gboolean            natter_message_mentions          (NatterMessage *self,
                                                      const char    *username);

/* Feature files: the message's NatterMessageFile, in the order sent
 * (never NULL, empty for a message without files; borrowed). A message
 * being sent lists its local files (id 0) until the server's come. */
GListModel         *natter_message_get_files         (NatterMessage *self);
/* The first line of @body, at most 200 bytes cut on a character
 * boundary: what a reply quotes of it, as the server does. */
char               *natter_message_quote_text        (const char    *body);

G_END_DECLS
