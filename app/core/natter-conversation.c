/* natter-conversation.c: one conversation and its message model. */
#define G_LOG_DOMAIN "natter-conversation"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "natter-client-private.h"
#include "natter-conversation-private.h"
#include "natter-message-private.h"

/* How long "is typing" shows without a refresh from the typist. */
#define TYPING_TIMEOUT_SECONDS 6

struct _NatterConversation
{
  GObject parent_instance;

  /* borrowed references */
  NatterClient      *client;   /* weak: the client owns us */

  /* owned references */
  NatterUser        *peer;
  NatterRoom        *room;
  NatterMessageList *list;
  NatterMessage     *last_message;
  GHashTable        *typists;  /* NatterUser → GSource id of its timeout */

  char              *address;
  char              *typing;
  gint64             last_activity;
  gint64             read_up_to;
  gint64             peer_read_up_to;
  guint              unread;
  NatterNotifyLevel  notify_level;
  gboolean           has_more_history;
};

G_DEFINE_FINAL_TYPE (NatterConversation, natter_conversation, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ADDRESS,
  PROP_TITLE,
  PROP_PEER,
  PROP_ROOM,
  PROP_LAST_MESSAGE,
  PROP_LAST_ACTIVITY,
  PROP_UNREAD,
  PROP_READ_UP_TO,
  PROP_PEER_READ_UP_TO,
  PROP_TYPING,
  PROP_HAS_MORE_HISTORY,
  PROP_NOTIFY_LEVEL,
  N_PROPS,
};

static GParamSpec *properties[N_PROPS];

static void
remove_source (gpointer data)
{
  g_source_remove (GPOINTER_TO_UINT (data));
}

static void
peer_display_name_cb (NatterConversation *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TITLE]);
}

static void
natter_conversation_dispose (GObject *object)
{
  NatterConversation *self = NATTER_CONVERSATION (object);

  if (self->typists != NULL)
    g_hash_table_remove_all (self->typists);
  if (self->peer != NULL)
    g_signal_handlers_disconnect_by_func (self->peer, peer_display_name_cb, self);
  g_clear_object (&self->peer);
  g_clear_object (&self->room);
  g_clear_object (&self->last_message);
  g_clear_object (&self->list);
  self->client = NULL;

  G_OBJECT_CLASS (natter_conversation_parent_class)->dispose (object);
}

static void
natter_conversation_finalize (GObject *object)
{
  NatterConversation *self = NATTER_CONVERSATION (object);

  g_clear_pointer (&self->typists, g_hash_table_unref);
  g_free (self->address);
  g_free (self->typing);

  G_OBJECT_CLASS (natter_conversation_parent_class)->finalize (object);
}

static void
natter_conversation_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  NatterConversation *self = NATTER_CONVERSATION (object);

  switch (prop_id)
    {
    case PROP_ADDRESS:
      g_value_set_string (value, self->address);
      break;
    case PROP_TITLE:
      g_value_set_string (value, natter_conversation_get_title (self));
      break;
    case PROP_PEER:
      g_value_set_object (value, self->peer);
      break;
    case PROP_ROOM:
      g_value_set_object (value, self->room);
      break;
    case PROP_LAST_MESSAGE:
      g_value_set_object (value, self->last_message);
      break;
    case PROP_LAST_ACTIVITY:
      g_value_set_int64 (value, self->last_activity);
      break;
    case PROP_UNREAD:
      g_value_set_uint (value, self->unread);
      break;
    case PROP_READ_UP_TO:
      g_value_set_int64 (value, self->read_up_to);
      break;
    case PROP_PEER_READ_UP_TO:
      g_value_set_int64 (value, self->peer_read_up_to);
      break;
    case PROP_TYPING:
      g_value_set_string (value, self->typing);
      break;
    case PROP_HAS_MORE_HISTORY:
      g_value_set_boolean (value, self->has_more_history);
      break;
    case PROP_NOTIFY_LEVEL:
      g_value_set_enum (value, self->notify_level);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_conversation_class_init (NatterConversationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = natter_conversation_dispose;
  object_class->finalize = natter_conversation_finalize;
  object_class->get_property = natter_conversation_get_property;

  properties[PROP_ADDRESS] =
    g_param_spec_string ("address", NULL, NULL, NULL, ro);
  properties[PROP_TITLE] =
    g_param_spec_string ("title", NULL, NULL, NULL, ro);
  properties[PROP_PEER] =
    g_param_spec_object ("peer", NULL, NULL, NATTER_TYPE_USER, ro);
  properties[PROP_ROOM] =
    g_param_spec_object ("room", NULL, NULL, NATTER_TYPE_ROOM, ro);
  properties[PROP_LAST_MESSAGE] =
    g_param_spec_object ("last-message", NULL, NULL, NATTER_TYPE_MESSAGE, ro);
  properties[PROP_LAST_ACTIVITY] =
    g_param_spec_int64 ("last-activity", NULL, NULL, G_MININT64, G_MAXINT64, 0, ro);
  properties[PROP_UNREAD] =
    g_param_spec_uint ("unread", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[PROP_READ_UP_TO] =
    g_param_spec_int64 ("read-up-to", NULL, NULL, 0, G_MAXINT64, 0, ro);
  properties[PROP_PEER_READ_UP_TO] =
    g_param_spec_int64 ("peer-read-up-to", NULL, NULL, 0, G_MAXINT64, 0, ro);
  properties[PROP_TYPING] =
    g_param_spec_string ("typing", NULL, NULL, NULL, ro);
  properties[PROP_HAS_MORE_HISTORY] =
    g_param_spec_boolean ("has-more-history", NULL, NULL, TRUE, ro);
  properties[PROP_NOTIFY_LEVEL] =
    g_param_spec_enum ("notify-level", NULL, NULL, NATTER_TYPE_NOTIFY_LEVEL,
                       NATTER_NOTIFY_LEVEL_ALL, ro);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
natter_conversation_init (NatterConversation *self)
{
  self->list = natter_message_list_new ();
  self->typists = g_hash_table_new_full (NULL, NULL, g_object_unref, remove_source);
  self->has_more_history = TRUE;
}

NatterConversation *
natter_conversation_new (NatterClient *client,
                         const char   *address,
                         NatterUser   *peer)
{
  NatterConversation *self = g_object_new (NATTER_TYPE_CONVERSATION, NULL);

  self->client = client;
  self->address = g_strdup (address);
  if (peer != NULL)
    {
      self->peer = g_object_ref (peer);
      g_signal_connect_object (peer, "notify::display-name",
                               G_CALLBACK (peer_display_name_cb), self,
                               G_CONNECT_SWAPPED);
    }
  return self;
}

void
natter_conversation_detach_client (NatterConversation *self)
{
  g_return_if_fail (NATTER_IS_CONVERSATION (self));
  self->client = NULL;
}

NatterMessageList *
natter_conversation_get_list (NatterConversation *self)
{
  g_return_val_if_fail (NATTER_IS_CONVERSATION (self), NULL);
  return self->list;
}

void
natter_conversation_set_room (NatterConversation *self,
                              NatterRoom         *room)
{
  g_return_if_fail (NATTER_IS_CONVERSATION (self));

  if (g_set_object (&self->room, room))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ROOM]);
}

void
natter_conversation_refresh (NatterConversation *self,
                             const char         *me)
{
  NatterMessage *last;

  g_return_if_fail (NATTER_IS_CONVERSATION (self));

  last = natter_message_list_get_last (self->list);
  if (g_set_object (&self->last_message, last))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_MESSAGE]);

  if (last != NULL && natter_message_get_timestamp (last) != self->last_activity)
    {
      self->last_activity = natter_message_get_timestamp (last);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_ACTIVITY]);
    }
}

void
natter_conversation_set_unread (NatterConversation *self,
                                guint               unread)
{
  g_return_if_fail (NATTER_IS_CONVERSATION (self));

  if (self->unread == unread)
    return;
  self->unread = unread;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_UNREAD]);
}

void
natter_conversation_set_read_up_to (NatterConversation *self,
                                    gint64              id)
{
  g_return_if_fail (NATTER_IS_CONVERSATION (self));

  if (id <= self->read_up_to)
    return;
  self->read_up_to = id;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_READ_UP_TO]);
}

void
natter_conversation_set_peer_read_up_to (NatterConversation *self,
                                         gint64              id)
{
  g_return_if_fail (NATTER_IS_CONVERSATION (self));

  if (id <= self->peer_read_up_to)
    return;
  self->peer_read_up_to = id;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PEER_READ_UP_TO]);
}

void
natter_conversation_set_has_more_history (NatterConversation *self,
                                          gboolean            has_more)
{
  g_return_if_fail (NATTER_IS_CONVERSATION (self));

  has_more = !!has_more;
  if (self->has_more_history == has_more)
    return;
  self->has_more_history = has_more;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_MORE_HISTORY]);
}

static void
update_typing_text (NatterConversation *self)
{
  g_autofree char *text = NULL;
  guint n = g_hash_table_size (self->typists);

  if (n == 1)
    {
      GHashTableIter iter;
      gpointer user;

      g_hash_table_iter_init (&iter, self->typists);
      g_hash_table_iter_next (&iter, &user, NULL);
      text = g_strdup_printf (_("%s is typing…"), natter_user_get_display_name (user));
    }
  else if (n == 2)
    {
      GList *users = g_hash_table_get_keys (self->typists);

      text = g_strdup_printf (_("%s and %s are typing…"),
                              natter_user_get_display_name (users->data),
                              natter_user_get_display_name (users->next->data));
      g_list_free (users);
    }
  else if (n > 2)
    text = g_strdup (_("Several people are typing…"));

  if (g_strcmp0 (text, self->typing) == 0)
    return;
  g_free (self->typing);
  self->typing = g_steal_pointer (&text);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TYPING]);
}

typedef struct {
  NatterConversation *self;
  NatterUser         *user;
} TypingTimeout;

static gboolean
typing_timeout_cb (gpointer data)
{
  TypingTimeout *t = data;

  /* Steal first: the table's value destroy would remove this very source. */
  g_hash_table_steal (t->self->typists, t->user);
  g_object_unref (t->user);
  update_typing_text (t->self);
  return G_SOURCE_REMOVE;
}

void
natter_conversation_set_user_typing (NatterConversation *self,
                                     NatterUser         *user,
                                     gboolean            active)
{
  g_return_if_fail (NATTER_IS_CONVERSATION (self));
  g_return_if_fail (NATTER_IS_USER (user));

  if (!active)
    {
      if (g_hash_table_remove (self->typists, user))
        update_typing_text (self);
      return;
    }

  {
    TypingTimeout *t = g_new (TypingTimeout, 1);
    guint id;

    t->self = self;
    t->user = user;
    id = g_timeout_add_seconds_full (G_PRIORITY_DEFAULT, TYPING_TIMEOUT_SECONDS,
                                     typing_timeout_cb, t, g_free);
    /* Replacing an entry removes the old timeout through the value destroy. */
    g_hash_table_replace (self->typists, g_object_ref (user), GUINT_TO_POINTER (id));
  }
  update_typing_text (self);
}

void
natter_conversation_clear_typing (NatterConversation *self)
{
  g_return_if_fail (NATTER_IS_CONVERSATION (self));

  if (g_hash_table_size (self->typists) == 0)
    return;
  g_hash_table_remove_all (self->typists);
  update_typing_text (self);
}

const char *
natter_conversation_get_address (NatterConversation *self)
{
  g_return_val_if_fail (NATTER_IS_CONVERSATION (self), NULL);
  return self->address;
}

const char *
natter_conversation_get_title (NatterConversation *self)
{
  g_return_val_if_fail (NATTER_IS_CONVERSATION (self), NULL);

  if (self->peer != NULL)
    return natter_user_get_display_name (self->peer);
  return self->address;
}

NatterUser *
natter_conversation_get_peer (NatterConversation *self)
{
  g_return_val_if_fail (NATTER_IS_CONVERSATION (self), NULL);
  return self->peer;
}

NatterRoom *
natter_conversation_get_room (NatterConversation *self)
{
  g_return_val_if_fail (NATTER_IS_CONVERSATION (self), NULL);
  return self->room;
}

gboolean
natter_conversation_is_room (NatterConversation *self)
{
  g_return_val_if_fail (NATTER_IS_CONVERSATION (self), FALSE);
  return self->address[0] == '#';
}

NatterMessage *
natter_conversation_get_last_message (NatterConversation *self)
{
  g_return_val_if_fail (NATTER_IS_CONVERSATION (self), NULL);
  return self->last_message;
}

NatterUser *
natter_conversation_get_last_sender (NatterConversation *self)
{
  g_return_val_if_fail (NATTER_IS_CONVERSATION (self), NULL);
  if (self->last_message == NULL || self->client == NULL)
    return NULL;
  return natter_client_lookup_user (self->client, natter_message_get_sender (self->last_message));
}

gint64
natter_conversation_get_last_activity (NatterConversation *self)
{
  g_return_val_if_fail (NATTER_IS_CONVERSATION (self), 0);
  return self->last_activity;
}

guint
natter_conversation_get_unread (NatterConversation *self)
{
  g_return_val_if_fail (NATTER_IS_CONVERSATION (self), 0);
  return self->unread;
}

gint64
natter_conversation_get_read_up_to (NatterConversation *self)
{
  g_return_val_if_fail (NATTER_IS_CONVERSATION (self), 0);
  return self->read_up_to;
}

gint64
natter_conversation_get_peer_read_up_to (NatterConversation *self)
{
  g_return_val_if_fail (NATTER_IS_CONVERSATION (self), 0);
  return self->peer_read_up_to;
}

const char *
natter_conversation_get_typing (NatterConversation *self)
{
  g_return_val_if_fail (NATTER_IS_CONVERSATION (self), NULL);
  return self->typing;
}

gboolean
natter_conversation_get_has_more_history (NatterConversation *self)
{
  g_return_val_if_fail (NATTER_IS_CONVERSATION (self), FALSE);
  return self->has_more_history;
}

GListModel *
natter_conversation_get_messages (NatterConversation *self)
{
  g_return_val_if_fail (NATTER_IS_CONVERSATION (self), NULL);
  return G_LIST_MODEL (self->list);
}

static void
load_older_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  gint added;

  added = natter_client_load_history_finish (NATTER_CLIENT (object), result, &error);
  if (added < 0)
    g_task_return_error (task, error);
  else
    g_task_return_int (task, added);
}

void
natter_conversation_load_older_async (NatterConversation  *self,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (NATTER_IS_CONVERSATION (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, natter_conversation_load_older_async);

  if (self->client == NULL)
    {
      g_task_return_new_error (task, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_NOT_CONNECTED,
                               "The client of this conversation is gone");
      return;
    }

  natter_client_load_history_async (self->client, self, cancellable,
                                    load_older_cb, g_steal_pointer (&task));
}

gint
natter_conversation_load_older_finish (NatterConversation  *self,
                                       GAsyncResult        *result,
                                       GError             **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), -1);
  return (gint) g_task_propagate_int (G_TASK (result), error);
}

static void
add_notice (NatterConversation *self,
            const char         *text,
            gint64              after_id)
{
  g_autoptr(NatterMessage) notice = natter_message_new_notice (self->address, text,
                                                               g_get_real_time () / 1000, after_id);

  natter_message_list_insert_notice (self->list, notice);
}

void
natter_conversation_note_member (NatterConversation *self,
                                 NatterUser         *user,
                                 gboolean            joined,
                                 gint64              after_id)
{
  g_autofree char *text = NULL;

  g_return_if_fail (NATTER_IS_CONVERSATION (self));
  g_return_if_fail (NATTER_IS_USER (user));

  if (joined)
    /* Translators: a line in a room's conversation; %s is a person's name. */
    text = g_strdup_printf (_("%s joined"), natter_user_get_display_name (user));
  else
    /* Translators: a line in a room's conversation; %s is a person's name. */
    text = g_strdup_printf (_("%s left"), natter_user_get_display_name (user));
  add_notice (self, text, after_id);
}

void
natter_conversation_note_topic (NatterConversation *self,
                                NatterUser         *by,
                                const char         *topic,
                                gint64              after_id)
{
  g_autofree char *text = NULL;

  g_return_if_fail (NATTER_IS_CONVERSATION (self));

  if (topic == NULL || *topic == '\0')
    text = by != NULL
           /* Translators: a line in a room's conversation; %s is a person's name. */
           ? g_strdup_printf (_("%s cleared the topic"), natter_user_get_display_name (by))
           : g_strdup (_("The topic was cleared"));
  else
    text = by != NULL
           /* Translators: a line in a room's conversation; the first %s is a
            * person's name, the second the new topic. */
           ? g_strdup_printf (_("%s changed the topic to “%s”"), natter_user_get_display_name (by), topic)
           /* Translators: a line in a room's conversation; %s is the new topic. */
           : g_strdup_printf (_("The topic is now “%s”"), topic);
  add_notice (self, text, after_id);
}

NatterNotifyLevel
natter_conversation_get_notify_level (NatterConversation *self)
{
  g_return_val_if_fail (NATTER_IS_CONVERSATION (self), NATTER_NOTIFY_LEVEL_ALL);
  return self->notify_level;
}

void
natter_conversation_set_notify_level (NatterConversation *self,
                                      NatterNotifyLevel   level)
{
  g_return_if_fail (NATTER_IS_CONVERSATION (self));

  if (self->notify_level == level)
    return;
  self->notify_level = level;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NOTIFY_LEVEL]);
}
