/* natter-client-actions.c: feature message_actions (docs/protocol.md,
 * "Message actions"): turning it on at sign-in, replies, edits, deletes
 * and reactions, the message_changed event and sync's changes, and
 * notification levels.
 *
 * What this device changed shows at once, before the server confirms it,
 * and survives a restart: each action is an outbox entry, and the message
 * shown is the server's copy (kept in action_bases while anything is
 * unconfirmed) with the actions still in the outbox applied on top, in
 * order. Whatever the server says of the message meanwhile (an event, a
 * sync page) replaces the copy, and the actions go on top again; so a
 * confirmed action, a refused one and someone else's change all come out
 * right without tracking which is which. A resent action the server had
 * already done is harmless: the protocol answers it with "change": null.
 */
#define G_LOG_DOMAIN "natter-client"

#include "config.h"

#include <string.h>

#include "natter-client-private.h"
#include "natter-conversation-private.h"
#include "natter-message-private.h"
#include "natter-validate.h"

#define FEATURE_MESSAGE_ACTIONS "message_actions"
#define FEATURE_ROOM_MANAGEMENT "room_management"
#define FEATURE_ACCOUNTS        "accounts"
#define FEATURE_FILES           "files"

/* ---- turning the feature on ------------------------------------------------ */

void
natter_client_actions_add_features (NatterClient *self,
                                    JsonObject   *request)
{
  JsonArray *features;

  if (self->no_features)
    return;
  features = json_array_new ();
  json_array_add_string_element (features, FEATURE_MESSAGE_ACTIONS);
  json_array_add_string_element (features, FEATURE_ROOM_MANAGEMENT);
  json_array_add_string_element (features, FEATURE_ACCOUNTS);
  /* Asked for always: a server that does not offer it ignores the name. */
  json_array_add_string_element (features, FEATURE_FILES);
  json_object_set_array_member (request, "features", features);
  /* Read by a server that turns accounts on: the name of this session
   * in the account's list of devices (natter-client-accounts.c). */
  if (natter_client_accounts_device_name () != NULL)
    json_object_set_string_member (request, "device", natter_client_accounts_device_name ());
}

/* A server that does not know features answers without the field: the
 * feature is off, and the app shows no actions. */
void
natter_client_actions_apply_features (NatterClient *self,
                                      JsonObject   *reply)
{
  JsonArray *features = get_array (reply, "features");
  gboolean on = FALSE, rooms = FALSE, accounts = FALSE, files = FALSE;

  for (guint i = 0, n = features != NULL ? json_array_get_length (features) : 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (features, i);
      const char *name = JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING
                         ? json_node_get_string (node) : NULL;

      on |= g_strcmp0 (name, FEATURE_MESSAGE_ACTIONS) == 0;
      rooms |= g_strcmp0 (name, FEATURE_ROOM_MANAGEMENT) == 0;
      accounts |= g_strcmp0 (name, FEATURE_ACCOUNTS) == 0;
      files |= g_strcmp0 (name, FEATURE_FILES) == 0;
    }
  self->accounts = accounts;
  self->files = files;
  natter_client_set_message_actions (self, on);
  /* Room management (natter-client-room-admin.c) is turned on here too:
   * one features field for the sign-in. */
  natter_client_set_room_management (self, rooms);
}

/* ---- the shown message: the server's copy and our actions on top ---------- */

static gboolean
is_action (NatterClient      *self,
           NatterOutboxEntry *e,
           gint64             id)
{
  return e->kind != NATTER_OUTBOX_SEND && e->message == id &&
         natter_client_outbox_entry_is_mine (self, e);
}

static gboolean
has_pending_actions (NatterClient *self,
                     gint64        id)
{
  GPtrArray *pending = natter_outbox_get_pending (self->outbox);

  for (guint i = 0; i < pending->len; i++)
    if (is_action (self, g_ptr_array_index (pending, i), id))
      return TRUE;
  return FALSE;
}

/* Applies the outbox's actions on @id to @message, in the order made. */
static void
apply_pending_actions (NatterClient  *self,
                       NatterMessage *message,
                       gint64         id)
{
  GPtrArray *pending = natter_outbox_get_pending (self->outbox);

  for (guint i = 0; i < pending->len; i++)
    {
      NatterOutboxEntry *e = g_ptr_array_index (pending, i);

      if (!is_action (self, e, id))
        continue;
      switch (e->kind)
        {
        case NATTER_OUTBOX_EDIT:
          natter_message_apply_edit (message, e->body, e->ts);
          break;
        case NATTER_OUTBOX_DELETE:
          natter_message_apply_delete (message);
          break;
        case NATTER_OUTBOX_REACT:
          natter_message_apply_reaction (message, e->emoji, me_name (self) != NULL ? me_name (self)
                                                                             : self->outbox_user,
                                         e->on);
          break;
        case NATTER_OUTBOX_SEND:
        default:
          break;
        }
    }
}

/* The replies to @original among @conv's messages quote it as it is now. */
static void
update_quotes (NatterConversation *conv,
               NatterMessage      *original)
{
  GListModel *model = natter_conversation_get_messages (conv);
  gint64 id = natter_message_get_id (original);

  for (guint i = 0, n = g_list_model_get_n_items (model); i < n; i++)
    {
      g_autoptr(NatterMessage) m = g_list_model_get_item (model, i);
      const NatterQuote *quote = natter_message_get_reply_to (m);

      if (quote != NULL && quote->id == id)
        natter_message_quote_original (m, original);
    }
}

/* @shown becomes its server copy with the outbox's actions on top. */
static void
recompute (NatterClient       *self,
           NatterConversation *conv,
           NatterMessage      *shown)
{
  gint64 id = natter_message_get_id (shown);
  NatterMessage *base = g_hash_table_lookup (self->action_bases, &id);
  g_autoptr(NatterMessage) work = NULL;

  if (base == NULL)
    return;
  work = natter_message_copy (base);
  apply_pending_actions (self, work, id);
  natter_message_update (shown, work);
  if (!has_pending_actions (self, id))
    g_hash_table_remove (self->action_bases, &id);
  update_quotes (conv, shown);
  natter_conversation_refresh (conv, me_name (self));
}

static void
set_base (NatterClient  *self,
          NatterMessage *server)
{
  gint64 *key = g_new (gint64, 1);

  *key = natter_message_get_id (server);
  g_hash_table_replace (self->action_bases, key, natter_message_copy (server));
}

void
natter_client_actions_apply_server (NatterClient       *self,
                                    NatterConversation *conv,
                                    NatterMessage      *server)
{
  gint64 id = natter_message_get_id (server);
  NatterMessage *shown = natter_message_list_find_id (natter_conversation_get_list (conv), id);

  /* A message we do not hold is not fetched: the list holds one run of
   * history from the newest back, and paging reaches it as it is now. */
  if (shown == NULL)
    return;

  if (g_hash_table_contains (self->action_bases, &id) || has_pending_actions (self, id))
    {
      set_base (self, server);
      recompute (self, conv, shown);
      return;
    }
  if (natter_message_update (shown, server))
    {
      update_quotes (conv, shown);
      natter_conversation_refresh (conv, me_name (self));
    }
}

void
natter_client_actions_prepare_new (NatterClient       *self,
                                   NatterConversation *conv,
                                   NatterMessage      *message)
{
  gint64 id = natter_message_get_id (message);
  const NatterQuote *quote = natter_message_get_reply_to (message);

  if (has_pending_actions (self, id))
    {
      set_base (self, message);
      apply_pending_actions (self, message, id);
    }
  if (quote != NULL && conv != NULL)
    {
      NatterMessage *original = natter_message_list_find_id (natter_conversation_get_list (conv),
                                                             quote->id);

      if (original != NULL)
        natter_message_quote_original (message, original);
    }
}

/* Someone else's message, deleted while unread here: it no longer counts
 * (the server's next conversations does not count it either). Once only:
 * the list's copy is not deleted yet. A message not in the list is left
 * to that next conversations. */
static void
forget_unread (NatterConversation *conv,
               NatterMessage      *deleted)
{
  NatterMessage *shown = natter_message_list_find_id (natter_conversation_get_list (conv),
                                                      natter_message_get_id (deleted));
  guint unread = natter_conversation_get_unread (conv);

  if (shown == NULL || natter_message_get_deleted (shown) || natter_message_get_outgoing (shown) ||
      unread == 0 || natter_message_get_id (shown) <= natter_conversation_get_read_up_to (conv))
    return;
  natter_conversation_set_unread (conv, unread - 1);
}

/* A change from the server: a message_changed event or an entry of sync's
 * changes. @advance: the change id may move last_id (frames the server
 * sends in id order). */
static void
apply_change (NatterClient *self,
              JsonObject   *change,
              gboolean      advance)
{
  JsonObject *obj = get_object (change, "message");
  g_autoptr(NatterMessage) server = NULL;
  g_autoptr(GError) error = NULL;
  NatterConversation *conv;

  if (advance)
    natter_client_note_id (self, get_int (change, "change", 0));
  if (obj == NULL || (server = natter_message_new_from_json (obj, me_name (self), &error)) == NULL)
    {
      g_debug ("Ignoring a malformed change: %s", error != NULL ? error->message : "no message");
      return;
    }
  conv = natter_client_lookup_conversation (self, natter_message_get_conversation (server), FALSE);
  if (conv == NULL)
    return;
  if (natter_message_get_deleted (server))
    forget_unread (conv, server);
  natter_client_actions_apply_server (self, conv, server);
}

void
natter_client_actions_handle_changed (NatterClient *self,
                                      JsonObject   *frame)
{
  if (self->me != NULL)
    apply_change (self, frame, TRUE);
}

void
natter_client_actions_apply_changes (NatterClient *self,
                                     JsonArray    *changes)
{
  for (guint i = 0, n = changes != NULL ? json_array_get_length (changes) : 0; i < n; i++)
    {
      JsonObject *change = array_object (changes, i);

      if (change != NULL)
        apply_change (self, change, TRUE);
    }
}

/* ---- actions: made here, kept in the outbox, sent when ready -------------- */

static NatterConversation *
stored_message_conversation (NatterClient  *self,
                             NatterMessage *message)
{
  g_return_val_if_fail (NATTER_IS_CLIENT (self), NULL);
  g_return_val_if_fail (NATTER_IS_MESSAGE (message), NULL);

  if (!self->message_actions || natter_message_get_id (message) <= 0 ||
      natter_message_is_notice (message) || natter_message_get_deleted (message))
    return NULL;
  /* Not necessarily the list's copy: a search hit is another object, and
   * a message just acknowledged notifies its id before it is settled in
   * its list. queue_action() acts on the list's copy. */
  return natter_client_lookup_conversation (self, natter_message_get_conversation (message), FALSE);
}

gboolean
natter_client_can_react (NatterClient  *self,
                         NatterMessage *message)
{
  return stored_message_conversation (self, message) != NULL;
}

gboolean
natter_client_can_edit (NatterClient  *self,
                        NatterMessage *message)
{
  return stored_message_conversation (self, message) != NULL &&
         natter_message_get_outgoing (message);
}

gboolean
natter_client_can_delete (NatterClient  *self,
                          NatterMessage *message)
{
  NatterConversation *conv = stored_message_conversation (self, message);
  NatterRoom *room;

  if (conv == NULL)
    return FALSE;
  if (natter_message_get_outgoing (message))
    return TRUE;
  /* A room's owner may take back anyone's message there. */
  room = natter_conversation_get_room (conv);
  return room != NULL && me_name (self) != NULL &&
         g_strcmp0 (natter_room_get_owner (room), me_name (self)) == 0;
}

static void
queue_action (NatterClient       *self,
              NatterConversation *conv,
              NatterMessage      *message,
              NatterOutboxEntry  *entry)
{
  g_autofree char *key = g_uuid_string_random ();
  gint64 id = natter_message_get_id (message);
  NatterMessage *shown = natter_message_list_find_id (natter_conversation_get_list (conv), id);
  g_autoptr(GError) error = NULL;

  if (shown != NULL)
    message = shown;

  entry->client_msg_id = key;
  entry->to = (char *) natter_conversation_get_address (conv);
  entry->message = id;
  entry->ts = g_get_real_time () / 1000;
  if (entry->body == NULL)
    entry->body = (char *) "";

  /* The message as the server has it, before anything of ours. */
  if (!g_hash_table_contains (self->action_bases, &id))
    set_base (self, message);

  if (!natter_outbox_add_entry (self->outbox, entry, &error))
    {
      g_warning ("Cannot write the outbox: %s", error->message);
      natter_client_emit_error (self, error);
    }
  recompute (self, conv, message);

  if (self->state == NATTER_CLIENT_STATE_READY)
    natter_client_actions_send_entry (self, natter_outbox_lookup (self->outbox, key));
}

gboolean
natter_client_edit_message (NatterClient  *self,
                            NatterMessage *message,
                            const char    *body)
{
  NatterConversation *conv;
  NatterOutboxEntry entry = { 0 };

  if (!natter_client_can_edit (self, message) ||
      body == NULL || !natter_body_is_valid (body, strlen (body)))
    return FALSE;
  conv = stored_message_conversation (self, message);
  if (g_strcmp0 (natter_message_get_body (message), body) == 0)
    return TRUE;

  entry.kind = NATTER_OUTBOX_EDIT;
  entry.body = (char *) body;
  queue_action (self, conv, message, &entry);
  return TRUE;
}

gboolean
natter_client_delete_message (NatterClient  *self,
                              NatterMessage *message)
{
  NatterOutboxEntry entry = { 0 };

  if (!natter_client_can_delete (self, message))
    return FALSE;
  entry.kind = NATTER_OUTBOX_DELETE;
  queue_action (self, stored_message_conversation (self, message), message, &entry);
  return TRUE;
}

/* protocol.md, "The message object, with actions": 1 to 32 bytes of
 * UTF-8, no white space, no control character. */
static gboolean
reaction_is_valid (const char *emoji)
{
  gsize len = strlen (emoji);

  if (len == 0 || len > 32 || !g_utf8_validate (emoji, len, NULL))
    return FALSE;
  for (const char *p = emoji; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_isspace (c) || g_unichar_iscntrl (c))
        return FALSE;
    }
  return TRUE;
}

gboolean
natter_client_react (NatterClient  *self,
                     NatterMessage *message,
                     const char    *emoji,
                     gboolean       on)
{
  NatterOutboxEntry entry = { 0 };

  if (!natter_client_can_react (self, message) || emoji == NULL ||
      !reaction_is_valid (emoji) ||
      on == natter_reaction_has_user (natter_message_find_reaction (message, emoji), me_name (self)))
    return FALSE;
  entry.kind = NATTER_OUTBOX_REACT;
  entry.emoji = (char *) emoji;
  entry.on = on;
  queue_action (self, stored_message_conversation (self, message), message, &entry);
  return TRUE;
}

NatterMessage *
natter_client_reply_to_message (NatterClient  *self,
                                NatterMessage *original,
                                const char    *body)
{
  NatterConversation *conv = stored_message_conversation (self, original);
  g_autofree char *text = NULL;

  if (conv == NULL)
    return NULL;
  text = natter_message_quote_text (natter_message_get_body (original));
  return natter_client_outbox_send (self, natter_conversation_get_address (conv), body,
                                    &(NatterQuote) { natter_message_get_id (original),
                                                     (char *) natter_message_get_sender (original),
                                                     text, FALSE });
}

/* ---- sending an action and its answer ----------------------------------- */

typedef struct {
  NatterClient *self;
  char         *key;
  gint64        message;
  char         *to;
  guint64       generation;
} ActionData;

static void
action_data_free (ActionData *d)
{
  g_object_unref (d->self);
  g_free (d->key);
  g_free (d->to);
  g_free (d);
}

static void
action_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  ActionData *d = user_data;
  NatterClient *self = d->self;
  g_autoptr(JsonObject) reply = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) local_error = NULL;
  NatterConversation *conv;
  NatterMessage *shown;

  reply = natter_connection_request_finish (NATTER_CONNECTION (object), result, &error);
  if (d->generation == self->generation)
    g_hash_table_remove (self->in_flight, d->key);

  if (reply == NULL && natter_client_outbox_error_is_temporary (self, error))
    {
      action_data_free (d);
      return;
    }
  if (reply == NULL && !g_error_matches (error, NATTER_ERROR, NATTER_ERROR_NOT_FOUND) &&
      !g_error_matches (error, NATTER_ERROR, NATTER_ERROR_FORBIDDEN) &&
      !g_error_matches (error, NATTER_ERROR, NATTER_ERROR_INVALID_ARGUMENT) &&
      !g_error_matches (error, NATTER_ERROR, NATTER_ERROR_CONFLICT) &&
      !g_error_matches (error, NATTER_ERROR, NATTER_ERROR_UNKNOWN_TYPE))
    {
      /* The connection closed: the entry waits for the next session. */
      action_data_free (d);
      return;
    }

  /* Done, or refused for good: either way it leaves the outbox, and the
   * message is the server's copy with what is still pending on top. */
  if (!natter_outbox_remove (self->outbox, d->key, &local_error))
    g_warning ("Cannot update the outbox: %s", local_error->message);

  conv = natter_client_lookup_conversation (self, d->to, FALSE);
  if (conv != NULL)
    {
      JsonObject *obj = reply != NULL ? get_object (reply, "message") : NULL;
      g_autoptr(NatterMessage) server = obj != NULL ? natter_message_new_from_json (obj, me_name (self), NULL)
                                                    : NULL;

      /* No natter_client_note_id(): a reply may overtake the events of
       * changes with smaller ids (as a send's ack does). */
      if (server != NULL && natter_message_get_id (server) == d->message)
        natter_client_actions_apply_server (self, conv, server);
      else if ((shown = natter_message_list_find_id (natter_conversation_get_list (conv), d->message)) != NULL)
        recompute (self, conv, shown);
    }
  if (reply == NULL)
    {
      g_debug ("Action refused for good: %s", error->message);
      natter_client_emit_error (self, error);
    }
  action_data_free (d);
}

gboolean
natter_client_actions_send_entry (NatterClient      *self,
                                  NatterOutboxEntry *entry)
{
  g_autoptr(JsonObject) req = NULL;
  ActionData *d;

  if (entry == NULL || entry->kind == NATTER_OUTBOX_SEND)
    return FALSE;
  /* Against a server without the feature an action waits (a server
   * upgraded, or the account signed in elsewhere, sends it later). */
  if (!natter_client_signed_in (self) || !self->message_actions ||
      g_hash_table_contains (self->in_flight, entry->client_msg_id))
    return TRUE;

  switch (entry->kind)
    {
    case NATTER_OUTBOX_EDIT:
      req = new_request ("edit");
      json_object_set_string_member (req, "body", entry->body);
      break;
    case NATTER_OUTBOX_DELETE:
      req = new_request ("delete");
      break;
    case NATTER_OUTBOX_REACT:
    case NATTER_OUTBOX_SEND:
    default:
      req = new_request ("react");
      json_object_set_string_member (req, "emoji", entry->emoji);
      json_object_set_boolean_member (req, "on", entry->on);
      break;
    }
  json_object_set_int_member (req, "message", entry->message);

  d = g_new0 (ActionData, 1);
  d->self = g_object_ref (self);
  d->key = g_strdup (entry->client_msg_id);
  d->message = entry->message;
  d->to = g_strdup (entry->to);
  d->generation = self->generation;
  g_hash_table_add (self->in_flight, g_strdup (entry->client_msg_id));
  natter_connection_request_async (self->connection, req, NULL, action_cb, d);
  return TRUE;
}

/* ---- notification levels ------------------------------------------------- */

void
natter_client_actions_set_level (NatterClient *self,
                                 const char   *address,
                                 const char   *name)
{
  NatterConversation *conv;
  NatterNotifyLevel level;

  if (!natter_notify_level_from_string (name, &level))
    return;
  /* A direct conversation with no message yet may have a level on the
   * server; it is not made here for that (it would show in the list),
   * and the next "conversations" brings its level once it has messages. */
  conv = natter_client_lookup_conversation (self, address, FALSE);
  if (conv != NULL)
    natter_conversation_set_notify_level (conv, level);
}

void
natter_client_actions_handle_notify_level (NatterClient *self,
                                           JsonObject   *frame)
{
  natter_client_actions_set_level (self, get_string (frame, "conversation"), get_string (frame, "level"));
}

static gpointer
notify_level_reply (NatterClient  *self,
                    JsonObject    *req,
                    JsonObject    *reply,
                    GError       **error)
{
  const char *address = get_string (req, "conversation");
  const char *level = get_string (reply, "level");

  natter_client_actions_set_level (self, address, level != NULL ? level : get_string (req, "level"));
  return g_object_ref (self);
}

void
natter_client_set_notify_level_async (NatterClient        *self,
                                      NatterConversation  *conversation,
                                      NatterNotifyLevel    level,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  g_autoptr(JsonObject) req = NULL;

  g_return_if_fail (NATTER_IS_CLIENT (self));
  g_return_if_fail (NATTER_IS_CONVERSATION (conversation));

  if (!self->message_actions)
    {
      g_task_report_new_error (self, callback, user_data, natter_client_set_notify_level_async,
                               NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_NOT_CONNECTED,
                               "The server does not keep notification levels");
      return;
    }
  req = request_with ("notify_level", "conversation", natter_conversation_get_address (conversation));
  json_object_set_string_member (req, "level", natter_notify_level_to_string (level));
  natter_client_request (self, req, notify_level_reply, natter_client_set_notify_level_async,
                         cancellable, callback, user_data);
}

gboolean
natter_client_set_notify_level_finish (NatterClient  *self,
                                       GAsyncResult  *result,
                                       GError       **error)
{
  g_autoptr(GObject) object = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  object = g_task_propagate_pointer (G_TASK (result), error);
  return object != NULL;
}

gboolean
natter_client_should_notify (NatterClient       *self,
                             NatterConversation *conversation,
                             NatterMessage      *message)
{
  const NatterQuote *quote;

  g_return_val_if_fail (NATTER_IS_CLIENT (self), FALSE);
  g_return_val_if_fail (NATTER_IS_CONVERSATION (conversation), FALSE);
  g_return_val_if_fail (NATTER_IS_MESSAGE (message), FALSE);

  switch (natter_conversation_get_notify_level (conversation))
    {
    case NATTER_NOTIFY_LEVEL_NONE:
      return FALSE;
    case NATTER_NOTIFY_LEVEL_MENTIONS:
      quote = natter_message_get_reply_to (message);
      return natter_message_mentions (message, me_name (self)) ||
             (quote != NULL && g_strcmp0 (quote->sender, me_name (self)) == 0);
    case NATTER_NOTIFY_LEVEL_ALL:
    default:
      return TRUE;
    }
}
