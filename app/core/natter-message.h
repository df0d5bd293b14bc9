/* natter-message.h: one chat message, stored or still on its way out. */
#pragma once

#include <glib-object.h>

#include "natter-core-enums.h"

G_BEGIN_DECLS

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

G_END_DECLS
