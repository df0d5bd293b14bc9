/* natter-message.c: one message. Immutable once stored, apart from its
 * sending state. */
#define G_LOG_DOMAIN "natter-message"

#include "natter-error.h"
#include "natter-fields.h"
#include "natter-message-private.h"
#include "natter-validate.h"

struct _NatterMessage
{
  GObject parent_instance;

  gint64              id;
  gint64              timestamp;
  char               *conversation;
  char               *sender;
  char               *body;
  char               *client_msg_id;
  NatterMessageState  state;
  gboolean            outgoing;
  gboolean            notice;
  gint64              after_id;   /* a notice's place: after this message id */
};

G_DEFINE_FINAL_TYPE (NatterMessage, natter_message, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ID,
  PROP_CONVERSATION,
  PROP_SENDER,
  PROP_BODY,
  PROP_TIMESTAMP,
  PROP_CLIENT_MSG_ID,
  PROP_STATE,
  PROP_OUTGOING,
  N_PROPS,
};

static GParamSpec *properties[N_PROPS];

static void
natter_message_finalize (GObject *object)
{
  NatterMessage *self = NATTER_MESSAGE (object);

  g_free (self->conversation);
  g_free (self->sender);
  g_free (self->body);
  g_free (self->client_msg_id);

  G_OBJECT_CLASS (natter_message_parent_class)->finalize (object);
}

static void
natter_message_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  NatterMessage *self = NATTER_MESSAGE (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_int64 (value, self->id);
      break;
    case PROP_CONVERSATION:
      g_value_set_string (value, self->conversation);
      break;
    case PROP_SENDER:
      g_value_set_string (value, self->sender);
      break;
    case PROP_BODY:
      g_value_set_string (value, self->body);
      break;
    case PROP_TIMESTAMP:
      g_value_set_int64 (value, self->timestamp);
      break;
    case PROP_CLIENT_MSG_ID:
      g_value_set_string (value, self->client_msg_id);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_OUTGOING:
      g_value_set_boolean (value, self->outgoing);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_message_class_init (NatterMessageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = natter_message_finalize;
  object_class->get_property = natter_message_get_property;

  properties[PROP_ID] =
    g_param_spec_int64 ("id", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_CONVERSATION] =
    g_param_spec_string ("conversation", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_SENDER] =
    g_param_spec_string ("sender", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_BODY] =
    g_param_spec_string ("body", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_TIMESTAMP] =
    g_param_spec_int64 ("timestamp", NULL, NULL, G_MININT64, G_MAXINT64, 0,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_CLIENT_MSG_ID] =
    g_param_spec_string ("client-msg-id", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL,
                       NATTER_TYPE_MESSAGE_STATE, NATTER_MESSAGE_STATE_SENT,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_OUTGOING] =
    g_param_spec_boolean ("outgoing", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
natter_message_init (NatterMessage *self)
{
  self->state = NATTER_MESSAGE_STATE_SENT;
}

NatterMessage *
natter_message_new_pending (const char *conversation,
                            const char *sender,
                            const char *body,
                            const char *client_msg_id,
                            gint64      timestamp)
{
  NatterMessage *self = g_object_new (NATTER_TYPE_MESSAGE, NULL);

  self->conversation = g_strdup (conversation);
  self->sender = g_strdup (sender);
  self->body = g_strdup (body);
  self->client_msg_id = g_strdup (client_msg_id);
  self->timestamp = timestamp;
  self->state = NATTER_MESSAGE_STATE_SENDING;
  self->outgoing = TRUE;
  return self;
}

NatterMessage *
natter_message_new_notice (const char *conversation,
                           const char *body,
                           gint64      timestamp,
                           gint64      after_id)
{
  NatterMessage *self = g_object_new (NATTER_TYPE_MESSAGE, NULL);

  self->conversation = g_strdup (conversation);
  self->sender = g_strdup ("");
  self->body = g_strdup (body);
  self->timestamp = timestamp;
  self->state = NATTER_MESSAGE_STATE_SENT;
  self->notice = TRUE;
  self->after_id = after_id;
  return self;
}

gboolean
natter_message_is_notice (NatterMessage *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE (self), FALSE);
  return self->notice;
}

gint64
natter_message_get_after_id (NatterMessage *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE (self), 0);
  return self->after_id;
}

static gboolean
address_is_valid (const char *address)
{
  NatterAddressKind kind;
  g_autofree char *name = NULL;

  return natter_address_parse (address, &kind, &name, NULL);
}

NatterMessage *
natter_message_new_from_json (JsonObject  *message,
                              const char  *me,
                              GError     **error)
{
  NatterMessage *self;
  const char *conversation, *from, *body, *client_msg_id = NULL;
  gint64 id, ts;

  if (!natter_fields_get_int (message, "id", TRUE, NULL, &id, error) ||
      !natter_fields_get_string (message, "conversation", TRUE, &conversation, error) ||
      !natter_fields_get_string (message, "from", TRUE, &from, error) ||
      !natter_fields_get_string (message, "body", TRUE, &body, error) ||
      !natter_fields_get_int (message, "ts", TRUE, NULL, &ts, error))
    return NULL;

  /* client_msg_id is only meaningful for our own messages; tolerate junk. */
  if (!natter_fields_get_string (message, "client_msg_id", FALSE, &client_msg_id, NULL))
    client_msg_id = NULL;

  if (id <= 0 || !address_is_valid (conversation))
    {
      g_set_error (error, NATTER_ERROR, NATTER_ERROR_INVALID_ARGUMENT,
                   "Message with an invalid id or conversation");
      return NULL;
    }

  self = g_object_new (NATTER_TYPE_MESSAGE, NULL);
  self->id = id;
  self->timestamp = ts;
  self->conversation = g_strdup (conversation);
  self->sender = g_strdup (from);
  self->body = g_strdup (body);
  self->client_msg_id = g_strdup (client_msg_id);
  self->outgoing = me != NULL && g_strcmp0 (me, from) == 0;
  return self;
}

void
natter_message_set_sent (NatterMessage *self,
                         gint64         id,
                         gint64         timestamp)
{
  g_return_if_fail (NATTER_IS_MESSAGE (self));

  g_object_freeze_notify (G_OBJECT (self));
  if (self->id != id)
    {
      self->id = id;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ID]);
    }
  if (self->timestamp != timestamp)
    {
      self->timestamp = timestamp;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TIMESTAMP]);
    }
  natter_message_set_state (self, NATTER_MESSAGE_STATE_SENT);
  g_object_thaw_notify (G_OBJECT (self));
}

void
natter_message_set_state (NatterMessage      *self,
                          NatterMessageState  state)
{
  g_return_if_fail (NATTER_IS_MESSAGE (self));

  if (self->state == state)
    return;
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

gint64
natter_message_get_id (NatterMessage *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE (self), 0);
  return self->id;
}

const char *
natter_message_get_conversation (NatterMessage *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE (self), NULL);
  return self->conversation;
}

const char *
natter_message_get_sender (NatterMessage *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE (self), NULL);
  return self->sender;
}

const char *
natter_message_get_body (NatterMessage *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE (self), NULL);
  return self->body;
}

gint64
natter_message_get_timestamp (NatterMessage *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE (self), 0);
  return self->timestamp;
}

const char *
natter_message_get_client_msg_id (NatterMessage *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE (self), NULL);
  return self->client_msg_id;
}

NatterMessageState
natter_message_get_state (NatterMessage *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE (self), NATTER_MESSAGE_STATE_SENT);
  return self->state;
}

gboolean
natter_message_get_outgoing (NatterMessage *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE (self), FALSE);
  return self->outgoing;
}
