/* natter-client-conversations.c: the conversations model: the list, sorted
 * by activity, the unread total, the reply to "conversations", and when a
 * conversation leaves the list.
 */
#define G_LOG_DOMAIN "natter-client"

#include "config.h"

#include "natter-client-private.h"
#include "natter-conversation-private.h"
#include "natter-message-private.h"
#include "natter-validate.h"

static int
compare_conversations (gconstpointer a,
                       gconstpointer b,
                       gpointer      user_data)
{
  NatterConversation *ca = (NatterConversation *) a;
  NatterConversation *cb = (NatterConversation *) b;
  gint64 ta = natter_conversation_get_last_activity (ca);
  gint64 tb = natter_conversation_get_last_activity (cb);

  if (ta != tb)
    return ta > tb ? -1 : 1;
  return g_strcmp0 (natter_conversation_get_address (ca), natter_conversation_get_address (cb));
}

/* Keeps the list sorted after @conv's activity changed; does nothing (and
 * emits nothing) when it is already in place, which is the common case of
 * a busy conversation that stays on top. */
static void
reposition_conversation (NatterClient       *self,
                         NatterConversation *conv)
{
  GListModel *model = G_LIST_MODEL (self->conversations);
  guint pos, n = g_list_model_get_n_items (model);
  gboolean in_place = TRUE;

  if (!g_list_store_find (self->conversations, conv, &pos))
    return;

  if (pos > 0)
    {
      g_autoptr(NatterConversation) prev = g_list_model_get_item (model, pos - 1);
      in_place = compare_conversations (prev, conv, NULL) <= 0;
    }
  if (in_place && pos + 1 < n)
    {
      g_autoptr(NatterConversation) next = g_list_model_get_item (model, pos + 1);
      in_place = compare_conversations (conv, next, NULL) <= 0;
    }
  if (in_place)
    return;

  g_object_ref (conv);
  g_list_store_remove (self->conversations, pos);
  g_list_store_insert_sorted (self->conversations, conv, compare_conversations, NULL);
  g_object_unref (conv);
}

/* Holds the unread count of a conversation as the total last counted it. */
static G_DEFINE_QUARK (natter-counted-unread, counted_unread)

/* The total moves by the difference: summing every conversation again cost
 * O(conversations) for each incoming message (natter-client-bench stream
 * -c 1000: 55 µs more main-thread CPU per message). */
static void
conversation_unread_cb (NatterClient       *self,
                        GParamSpec         *pspec,
                        NatterConversation *conv)
{
  guint counted = GPOINTER_TO_UINT (g_object_get_qdata (G_OBJECT (conv), counted_unread_quark ()));
  guint unread = natter_conversation_get_unread (conv);

  g_object_set_qdata (G_OBJECT (conv), counted_unread_quark (), GUINT_TO_POINTER (unread));
  natter_client_set_unread_total (self, self->unread_total - counted + unread);
}

static void
conversation_activity_cb (NatterConversation *conv,
                          GParamSpec         *pspec,
                          NatterClient       *self)
{
  reposition_conversation (self, conv);
}

/* Normalises @address ("@Bob" → "@bob"); NULL when invalid. */
static char *
normalize_address (const char        *address,
                   NatterAddressKind *out_kind,
                   char             **out_name)
{
  NatterAddressKind kind;
  g_autofree char *name = NULL;
  char *normalized;

  if (address == NULL || !natter_address_parse (address, &kind, &name, NULL))
    return NULL;
  normalized = kind == NATTER_ADDRESS_USER ? g_strconcat ("@", name, NULL) : g_strdup (name);
  if (out_kind != NULL)
    *out_kind = kind;
  if (out_name != NULL)
    *out_name = g_steal_pointer (&name);
  return normalized;
}

NatterConversation *
natter_client_lookup_conversation (NatterClient *self,
                                   const char   *address,
                                   gboolean      create)
{
  g_autofree char *normalized = NULL;
  g_autofree char *name = NULL;
  NatterAddressKind kind;
  NatterConversation *conv;

  g_return_val_if_fail (NATTER_IS_CLIENT (self), NULL);

  conv = address != NULL ? g_hash_table_lookup (self->conversations_by_address, address) : NULL;
  if (conv != NULL)
    return conv;

  normalized = normalize_address (address, &kind, &name);
  if (normalized == NULL)
    return NULL;
  conv = g_hash_table_lookup (self->conversations_by_address, normalized);
  if (conv != NULL || !create)
    return conv;

  conv = natter_conversation_new (self, normalized,
                                  kind == NATTER_ADDRESS_USER ?
                                  natter_client_lookup_user (self, name) : NULL);
  if (kind == NATTER_ADDRESS_ROOM)
    {
      NatterRoom *room = g_hash_table_lookup (self->rooms_by_name, normalized);

      if (room != NULL && store_contains (self->rooms, room, NULL))
        natter_conversation_set_room (conv, room);
    }

  g_hash_table_insert (self->conversations_by_address, g_strdup (normalized), conv);
  g_signal_connect_object (conv, "notify::unread", G_CALLBACK (conversation_unread_cb),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (conv, "notify::last-activity", G_CALLBACK (conversation_activity_cb),
                           self, 0);
  g_list_store_insert_sorted (self->conversations, conv, compare_conversations, NULL);
  return conv;
}

/* The reply to "conversations": each one's newest message, read marker and
 * unread count. @then_sync: it came before the sync, as a fresh client asks
 * for it, so its newest messages are not news. Returns the highest message
 * id it held, 0 for none. */
gint64
natter_client_conversations_apply_list (NatterClient *self,
                                        JsonArray    *list,
                                        gboolean      then_sync)
{
  gint64 newest = 0;

  for (guint i = 0; list != NULL && i < json_array_get_length (list); i++)
    {
      JsonObject *item = array_object (list, i);
      JsonObject *last = get_object (item, "last_message");
      NatterConversation *conv;
      gint64 unread;

      conv = natter_client_lookup_conversation (self, get_string (item, "conversation"), TRUE);
      if (conv == NULL)
        continue;

      if (last != NULL)
        {
          g_autoptr(NatterMessage) msg = natter_message_new_from_json (last, me_name (self), NULL);

          /* Another conversation's message is not this one's newest. */
          if (msg != NULL &&
              natter_client_lookup_conversation (self, natter_message_get_conversation (msg), FALSE) != conv)
            g_clear_object (&msg);
          /* The newest message never leaves a gap: whatever the list holds
           * came from sync or events, which are all newer than last_id. */
          if (msg != NULL && natter_message_get_id (msg) > self->last_id && !then_sync)
            {
              /* Newer than the sync that just ended: it raced ahead of its
               * own event, so it is news. It must not move last_id, as
               * events of other conversations may still be on their way. */
              natter_client_messages_add_single (self, last, TRUE, FALSE);
            }
          else if (msg != NULL)
            {
              newest = MAX (newest, natter_message_get_id (msg));
              if (!natter_client_messages_settle_pending (self, msg) &&
                  natter_client_messages_put (self, conv, msg))
                natter_conversation_refresh (conv, me_name (self));
            }
        }

      natter_client_actions_set_level (self, natter_conversation_get_address (conv),
                                       get_string (item, "notify_level"));
      natter_conversation_set_read_up_to (conv, get_int (item, "read_up_to", 0));
      unread = get_int (item, "unread", -1);
      /* Read here without telling the server (receipts off): the server's
       * count is of messages we have read since. */
      if (natter_conversation_get_read_up_to (conv) > get_int (item, "read_up_to", 0))
        unread = natter_message_list_count_after (natter_conversation_get_list (conv),
                                                  natter_conversation_get_read_up_to (conv),
                                                  me_name (self));
      if (unread >= 0 && unread <= G_MAXUINT)
        natter_conversation_set_unread (conv, (guint) unread);
    }

  return newest;
}

/* ---- leaving the list -------------------------------------------------- */

/* Drops @conv from the models when the server would not list it and it
 * holds nothing local: no stored message, nothing pending or failed, and
 * no room we are in. A direct conversation exists on the server only once
 * a message was stored. The open conversation stays until it is left. */
static void
forget_conversation (NatterClient       *self,
                     NatterConversation *conv)
{
  const char *address = natter_conversation_get_address (conv);
  guint counted = GPOINTER_TO_UINT (g_object_get_qdata (G_OBJECT (conv), counted_unread_quark ()));

  /* Its unread messages leave the total with it. */
  g_object_set_qdata (G_OBJECT (conv), counted_unread_quark (), NULL);
  natter_client_set_unread_total (self, self->unread_total - counted);
  store_remove_item (self->conversations, conv);
  g_signal_handlers_disconnect_by_data (conv, self);
  natter_conversation_detach_client (conv);
  g_hash_table_remove (self->conversations_by_address, address);
}

void
natter_client_conversations_forget_if_empty (NatterClient       *self,
                                             NatterConversation *conv)
{
  const char *address = natter_conversation_get_address (conv);

  if (g_list_model_get_n_items (natter_conversation_get_messages (conv)) > 0 ||
      natter_conversation_get_room (conv) != NULL ||
      g_strcmp0 (address, self->open_address) == 0)
    return;
  forget_conversation (self, conv);
}

/* A room we are not in (left, here or on another device) has no place in
 * the list: the server lists only rooms we are in, and would refuse its
 * history. It goes as soon as it is not the open conversation. */
void
natter_client_conversations_forget_if_left_room (NatterClient       *self,
                                                 NatterConversation *conv)
{
  NatterMessageList *list = natter_conversation_get_list (conv);

  /* A message still sending or failed stays visible: the server refuses it
   * now, and its "Not sent" must show somewhere (Delete then empties it). */
  if (!natter_conversation_is_room (conv) ||
      natter_conversation_get_room (conv) != NULL ||
      g_strcmp0 (natter_conversation_get_address (conv), self->open_address) == 0 ||
      natter_message_list_get_last (list) != natter_message_list_get_newest_stored (list))
    return;
  forget_conversation (self, conv);
}

void
natter_client_set_open_conversation (NatterClient       *self,
                                     NatterConversation *conversation)
{
  const char *address = conversation != NULL ? natter_conversation_get_address (conversation) : NULL;
  g_autofree char *emptied = NULL;
  g_autofree char *previous = NULL;
  NatterConversation *left, *left_room;

  g_return_if_fail (NATTER_IS_CLIENT (self));
  g_return_if_fail (conversation == NULL || NATTER_IS_CONVERSATION (conversation));

  previous = g_steal_pointer (&self->open_address);
  self->open_address = g_strdup (address);
  left_room = previous != NULL ? g_hash_table_lookup (self->conversations_by_address, previous) : NULL;
  if (left_room != NULL)
    natter_client_conversations_forget_if_left_room (self, left_room);

  /* Left after its last message was deleted: it goes now. */
  if (g_strcmp0 (self->emptied_address, address) == 0)
    return;
  emptied = g_steal_pointer (&self->emptied_address);
  left = emptied != NULL ? g_hash_table_lookup (self->conversations_by_address, emptied) : NULL;
  if (left != NULL)
    natter_client_conversations_forget_if_empty (self, left);
}
