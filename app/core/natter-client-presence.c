/* natter-client-presence.c: presence, typing and read markers: their events
 * and requests.
 */
#define G_LOG_DOMAIN "natter-client"

#include "config.h"

#include "natter-client-private.h"
#include "natter-conversation-private.h"
#include "natter-user-private.h"
#include "natter-validate.h"

#define TYPING_RESEND_US       (3 * G_USEC_PER_SEC)

/* ---- presence ---------------------------------------------------------- */

void
natter_client_presence_handle_presence (NatterClient *self,
                                        JsonObject   *frame)
{
  NatterUser *user = natter_client_intern_user_json (self, get_object (frame, "user"));
  GHashTableIter iter;
  gpointer conv;

  /* The status text is the user's, shared by all devices: one set on
   * another device is the one to send again after a reconnect. */
  if (user != NULL && user == self->me && self->presence_set)
    {
      g_free (self->status_text);
      self->status_text = g_strdup (natter_user_get_status_text (user));
    }

  if (user == NULL || natter_user_get_presence (user) != NATTER_PRESENCE_OFFLINE)
    return;
  /* Gone: no "paused" will come, so nobody should watch them type for the
   * rest of the typing timeout. */
  g_hash_table_iter_init (&iter, self->conversations_by_address);
  while (g_hash_table_iter_next (&iter, NULL, &conv))
    natter_conversation_set_user_typing (conv, user, FALSE);
}

/* Without a connection, what the server said last about anyone's presence
 * is not live; it is again once a sign-in has synced (session_ready). */
void
natter_client_presence_set_stale (NatterClient *self,
                                  gboolean      stale)
{
  GHashTableIter iter;
  gpointer user;

  g_hash_table_iter_init (&iter, self->users);
  while (g_hash_table_iter_next (&iter, NULL, &user))
    natter_user_set_presence_stale (user, stale);
}

/* Our chosen presence and status as a wire user object's fields; no
 * status is null. */
JsonObject *
natter_client_presence_own_json (NatterClient *self)
{
  JsonObject *obj = json_object_new ();

  json_object_set_string_member (obj, "presence", natter_presence_to_string (self->presence));
  if (self->status_text != NULL)
    json_object_set_string_member (obj, "status_text", self->status_text);
  else
    json_object_set_null_member (obj, "status_text");
  return obj;
}

void
natter_client_presence_send_own (NatterClient *self)
{
  g_autoptr(JsonObject) req = new_request ("set_presence");

  json_object_set_string_member (req, "presence", natter_presence_to_string (self->presence));
  /* Left out, the server would keep the status text it has (it belongs
   * to the user, not the connection): "" is how to clear it. */
  json_object_set_string_member (req, "status_text",
                                 self->status_text != NULL ? self->status_text : "");
  natter_connection_send (self->connection, req);
}

void
natter_client_set_presence (NatterClient   *self,
                            NatterPresence  presence,
                            const char     *status_text)
{
  g_return_if_fail (NATTER_IS_CLIENT (self));
  g_return_if_fail (presence != NATTER_PRESENCE_OFFLINE);

  if (status_text != NULL && (*status_text == '\0' || !natter_status_text_is_valid (status_text)))
    status_text = NULL;

  self->presence = presence;
  self->presence_set = TRUE;
  g_free (self->status_text);
  self->status_text = g_strdup (status_text);

  if (natter_client_signed_in (self))
    natter_client_presence_send_own (self);

  /* The server tells our other devices, not this one: update ourselves. */
  if (self->me != NULL)
    {
      g_autoptr(JsonObject) obj = natter_client_presence_own_json (self);
      NatterPresence old;

      if (natter_user_update_from_json (self->me, obj, &old))
        natter_client_emit_presence_changed (self, self->me, old);
    }
}

/* ---- typing ------------------------------------------------------------ */

void
natter_client_presence_handle_typing (NatterClient *self,
                                      JsonObject   *frame)
{
  NatterConversation *conv;
  NatterUser *user = natter_client_lookup_user (self, get_string (frame, "user"));
  const char *state = get_string (frame, "state");

  if (user == NULL || state == NULL || user == self->me)
    return;
  /* Someone merely typing does not make a conversation appear. */
  conv = natter_client_lookup_conversation (self, get_string (frame, "conversation"), FALSE);
  if (conv == NULL)
    return;
  natter_conversation_set_user_typing (conv, user, g_str_equal (state, "active"));
}

/* Typing shown when the connection went stays until its timeout otherwise:
 * "bob is typing…" above a reconnect banner. */
void
natter_client_presence_clear_all_typing (NatterClient *self)
{
  GHashTableIter iter;
  gpointer conv;

  g_hash_table_iter_init (&iter, self->conversations_by_address);
  while (g_hash_table_iter_next (&iter, NULL, &conv))
    natter_conversation_clear_typing (conv);
}

void
natter_client_send_typing (NatterClient *self,
                           const char   *address,
                           gboolean      active)
{
  NatterConversation *conv;
  g_autoptr(JsonObject) req = NULL;
  gint64 now = g_get_monotonic_time ();
  gint64 *last;
  const char *key;

  g_return_if_fail (NATTER_IS_CLIENT (self));

  if (!natter_client_signed_in (self))
    return;
  conv = natter_client_lookup_conversation (self, address, FALSE);
  if (conv == NULL)
    return;
  key = natter_conversation_get_address (conv);
  last = g_hash_table_lookup (self->typing_sent, key);

  if (active)
    {
      if (!self->send_typing)
        return;
      /* Peers show "typing" for 6 s; refreshing every 3 s is enough. */
      if (last != NULL && now - *last < TYPING_RESEND_US)
        return;
      if (last == NULL)
        {
          last = g_new (gint64, 1);
          g_hash_table_insert (self->typing_sent, g_strdup (key), last);
        }
      *last = now;
    }
  else
    {
      /* "paused" only matters if we said "active". */
      if (last == NULL)
        return;
      g_hash_table_remove (self->typing_sent, key);
    }

  req = new_request ("typing");
  json_object_set_string_member (req, "to", key);
  json_object_set_string_member (req, "state", active ? "active" : "paused");
  natter_connection_send (self->connection, req);
}

/* ---- read markers ------------------------------------------------------ */

void
natter_client_presence_handle_read (NatterClient *self,
                                    JsonObject   *frame)
{
  NatterConversation *conv;
  NatterUser *user = natter_client_lookup_user (self, get_string (frame, "user"));
  gint64 up_to = get_int (frame, "up_to", 0);

  if (user == NULL || up_to <= 0)
    return;
  conv = natter_client_lookup_conversation (self, get_string (frame, "conversation"), FALSE);
  if (conv == NULL)
    return;

  if (user == self->me)
    {
      NatterMessageList *list = natter_conversation_get_list (conv);

      natter_conversation_set_read_up_to (conv, up_to);
      natter_conversation_set_unread (conv,
        natter_message_list_count_after (list, natter_conversation_get_read_up_to (conv),
                                         me_name (self)));
    }
  else
    natter_conversation_set_peer_read_up_to (conv, up_to);
}

void
natter_client_mark_read (NatterClient       *self,
                         NatterConversation *conversation)
{
  NatterMessage *newest;
  g_autoptr(JsonObject) req = NULL;
  gint64 id;

  g_return_if_fail (NATTER_IS_CLIENT (self));
  g_return_if_fail (NATTER_IS_CONVERSATION (conversation));

  newest = natter_message_list_get_newest_stored (natter_conversation_get_list (conversation));
  if (newest == NULL)
    return;
  id = natter_message_get_id (newest);

  /* The UI may call this on every new message while the conversation is
   * shown: only a marker that moves goes on the wire. */
  if (id <= natter_conversation_get_read_up_to (conversation))
    {
      natter_conversation_set_unread (conversation, 0);
      return;
    }

  natter_conversation_set_read_up_to (conversation, id);
  natter_conversation_set_unread (conversation, 0);

  if (!natter_client_signed_in (self) || !self->send_read_receipts)
    return;
  req = new_request ("read");
  json_object_set_string_member (req, "conversation", natter_conversation_get_address (conversation));
  json_object_set_int_member (req, "up_to", id);
  natter_connection_send (self->connection, req);
}
