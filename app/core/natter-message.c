/* natter-message.c: one message. Its identity (id, sender, conversation,
 * time) never changes once stored; its text, reactions and quote do, in
 * place, so that a row showing it updates without being rebuilt (and
 * keeps its focus). */
#define G_LOG_DOMAIN "natter-message"

#include <string.h>

#include "natter-error.h"
#include "natter-fields.h"
#include "natter-message-file-private.h"
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

  /* feature message_actions */
  NatterQuote        *reply_to;
  gint64              edited_ts;
  gboolean            deleted;
  GPtrArray          *reactions;  /* NatterReaction */
  GStrv               mentions;

  /* feature files */
  GListStore         *files;      /* NatterMessageFile, in the order sent */
};

G_DEFINE_BOXED_TYPE (NatterQuote, natter_quote, natter_quote_copy, natter_quote_free)
G_DEFINE_BOXED_TYPE (NatterReaction, natter_reaction, natter_reaction_copy, natter_reaction_free)

NatterQuote *
natter_quote_copy (const NatterQuote *quote)
{
  NatterQuote *copy = g_new0 (NatterQuote, 1);

  copy->id = quote->id;
  copy->sender = g_strdup (quote->sender);
  copy->body = g_strdup (quote->body);
  copy->deleted = quote->deleted;
  return copy;
}

void
natter_quote_free (NatterQuote *quote)
{
  if (quote == NULL)
    return;
  g_free (quote->sender);
  g_free (quote->body);
  g_free (quote);
}

static gboolean
quote_equal (const NatterQuote *a,
             const NatterQuote *b)
{
  if (a == NULL || b == NULL)
    return a == b;
  return a->id == b->id && a->deleted == b->deleted &&
         g_strcmp0 (a->sender, b->sender) == 0 && g_strcmp0 (a->body, b->body) == 0;
}

NatterReaction *
natter_reaction_copy (const NatterReaction *reaction)
{
  NatterReaction *copy = g_new0 (NatterReaction, 1);

  copy->emoji = g_strdup (reaction->emoji);
  copy->users = g_strdupv (reaction->users);
  return copy;
}

void
natter_reaction_free (NatterReaction *reaction)
{
  if (reaction == NULL)
    return;
  g_free (reaction->emoji);
  g_strfreev (reaction->users);
  g_free (reaction);
}

gboolean
natter_reaction_has_user (const NatterReaction *reaction,
                          const char           *username)
{
  return reaction != NULL && username != NULL &&
         g_strv_contains ((const char * const *) reaction->users, username);
}

static gboolean
reactions_equal (GPtrArray *a,
                 GPtrArray *b)
{
  if (a->len != b->len)
    return FALSE;
  for (guint i = 0; i < a->len; i++)
    {
      NatterReaction *ra = g_ptr_array_index (a, i);
      NatterReaction *rb = g_ptr_array_index (b, i);

      if (g_strcmp0 (ra->emoji, rb->emoji) != 0 ||
          !g_strv_equal ((const char * const *) ra->users, (const char * const *) rb->users))
        return FALSE;
    }
  return TRUE;
}

static gpointer
reaction_copy_func (gconstpointer src,
                    gpointer      data)
{
  return natter_reaction_copy (src);
}

static GPtrArray *
reactions_copy (GPtrArray *reactions)
{
  GPtrArray *copy = g_ptr_array_copy (reactions, reaction_copy_func, NULL);

  g_ptr_array_set_free_func (copy, (GDestroyNotify) natter_reaction_free);
  return copy;
}

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
  PROP_REPLY_TO,
  PROP_EDITED_TS,
  PROP_DELETED,
  PROP_REACTIONS,
  PROP_MENTIONS,
  PROP_FILES,
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
  natter_quote_free (self->reply_to);
  g_ptr_array_unref (self->reactions);
  g_strfreev (self->mentions);
  g_object_unref (self->files);

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
    case PROP_REPLY_TO:
      g_value_set_boxed (value, self->reply_to);
      break;
    case PROP_EDITED_TS:
      g_value_set_int64 (value, self->edited_ts);
      break;
    case PROP_DELETED:
      g_value_set_boolean (value, self->deleted);
      break;
    case PROP_REACTIONS:
      g_value_set_boxed (value, self->reactions);
      break;
    case PROP_MENTIONS:
      g_value_set_boxed (value, self->mentions);
      break;
    case PROP_FILES:
      g_value_set_object (value, self->files);
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
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
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

  properties[PROP_REPLY_TO] =
    g_param_spec_boxed ("reply-to", NULL, NULL, NATTER_TYPE_QUOTE,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_EDITED_TS] =
    g_param_spec_int64 ("edited-ts", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_DELETED] =
    g_param_spec_boolean ("deleted", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_REACTIONS] =
    g_param_spec_boxed ("reactions", NULL, NULL, G_TYPE_PTR_ARRAY,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MENTIONS] =
    g_param_spec_boxed ("mentions", NULL, NULL, G_TYPE_STRV,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* The model itself never changes; it notifies when its items are
   * replaced (a sent message takes the server's files over). */
  properties[PROP_FILES] =
    g_param_spec_object ("files", NULL, NULL, G_TYPE_LIST_MODEL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
natter_message_init (NatterMessage *self)
{
  self->state = NATTER_MESSAGE_STATE_SENT;
  self->reactions = g_ptr_array_new_with_free_func ((GDestroyNotify) natter_reaction_free);
  self->mentions = g_new0 (char *, 1);
  self->files = g_list_store_new (NATTER_TYPE_MESSAGE_FILE);
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

static JsonArray *
array_member (JsonObject *obj,
              const char *key)
{
  JsonNode *node = json_object_get_member (obj, key);

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

static char **
strings_of (JsonArray *array)
{
  GStrvBuilder *builder = g_strv_builder_new ();
  char **strv;

  for (guint i = 0, n = array != NULL ? json_array_get_length (array) : 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (array, i);

      if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
        g_strv_builder_add (builder, json_node_get_string (node));
    }
  strv = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);
  return strv;
}

/* The fields of feature message_actions. A server without it sends none
 * of them, which reads as a message never replied to, edited or reacted
 * to; anything malformed is left out rather than failing the message. */
static void
parse_actions (NatterMessage *self,
               JsonObject    *message)
{
  JsonNode *node;
  JsonArray *reactions;
  const char *from = NULL, *body = NULL;
  gboolean deleted = FALSE;
  gint64 id = 0;

  node = json_object_get_member (message, "reply_to");
  if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *quote = json_node_get_object (node);

      if (natter_fields_get_int (quote, "id", TRUE, NULL, &id, NULL) && id > 0 &&
          natter_fields_get_string (quote, "from", TRUE, &from, NULL) &&
          natter_fields_get_string (quote, "body", TRUE, &body, NULL))
        {
          natter_fields_get_bool (quote, "deleted", FALSE, NULL, &deleted, NULL);
          self->reply_to = natter_quote_copy (&(NatterQuote) { id, (char *) from, (char *) body, deleted });
        }
    }

  natter_fields_get_int (message, "edited_ts", FALSE, NULL, &self->edited_ts, NULL);
  natter_fields_get_bool (message, "deleted", FALSE, NULL, &self->deleted, NULL);

  reactions = array_member (message, "reactions");
  for (guint i = 0, n = reactions != NULL ? json_array_get_length (reactions) : 0; i < n; i++)
    {
      JsonNode *item = json_array_get_element (reactions, i);
      const char *emoji = NULL;
      NatterReaction *reaction;

      if (!JSON_NODE_HOLDS_OBJECT (item) ||
          !natter_fields_get_string (json_node_get_object (item), "emoji", TRUE, &emoji, NULL))
        continue;
      reaction = g_new0 (NatterReaction, 1);
      reaction->emoji = g_strdup (emoji);
      reaction->users = strings_of (array_member (json_node_get_object (item), "users"));
      if (reaction->users[0] == NULL)
        natter_reaction_free (reaction);
      else
        g_ptr_array_add (self->reactions, reaction);
    }

  g_strfreev (self->mentions);
  self->mentions = strings_of (array_member (message, "mentions"));
}

/* Feature files: a file object that cannot be read is left out, the
 * message still shows. */
static void
parse_files (NatterMessage *self,
             JsonObject    *message)
{
  JsonNode *node = json_object_get_member (message, "files");
  JsonArray *files;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return;
  files = json_node_get_array (node);
  for (guint i = 0, n = json_array_get_length (files); i < n; i++)
    {
      JsonNode *element = json_array_get_element (files, i);
      g_autoptr(NatterMessageFile) file = NULL;

      if (JSON_NODE_HOLDS_OBJECT (element))
        file = natter_message_file_new_from_json (json_node_get_object (element));
      if (file != NULL)
        g_list_store_append (self->files, file);
    }
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
  parse_actions (self, message);
  parse_files (self, message);
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

const NatterQuote *
natter_message_get_reply_to (NatterMessage *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE (self), NULL);
  return self->reply_to;
}

gint64
natter_message_get_edited_ts (NatterMessage *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE (self), 0);
  return self->edited_ts;
}

gboolean
natter_message_get_deleted (NatterMessage *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE (self), FALSE);
  return self->deleted;
}

GPtrArray *
natter_message_get_reactions (NatterMessage *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE (self), NULL);
  return self->reactions;
}

const NatterReaction *
natter_message_find_reaction (NatterMessage *self,
                              const char    *emoji)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE (self), NULL);

  for (guint i = 0; i < self->reactions->len; i++)
    {
      NatterReaction *reaction = g_ptr_array_index (self->reactions, i);

      if (g_strcmp0 (reaction->emoji, emoji) == 0)
        return reaction;
    }
  return NULL;
}

const char * const *
natter_message_get_mentions (NatterMessage *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE (self), NULL);
  return (const char * const *) self->mentions;
}

gboolean
natter_message_mentions (NatterMessage *self,
                         const char    *username)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE (self), FALSE);
  return username != NULL && g_strv_contains ((const char * const *) self->mentions, username);
}

NatterMessage *
natter_message_copy (NatterMessage *self)
{
  NatterMessage *copy;

  g_return_val_if_fail (NATTER_IS_MESSAGE (self), NULL);

  copy = g_object_new (NATTER_TYPE_MESSAGE, NULL);
  copy->id = self->id;
  copy->timestamp = self->timestamp;
  copy->conversation = g_strdup (self->conversation);
  copy->sender = g_strdup (self->sender);
  copy->body = g_strdup (self->body);
  copy->client_msg_id = g_strdup (self->client_msg_id);
  copy->state = self->state;
  copy->outgoing = self->outgoing;
  copy->reply_to = self->reply_to != NULL ? natter_quote_copy (self->reply_to) : NULL;
  copy->edited_ts = self->edited_ts;
  copy->deleted = self->deleted;
  g_ptr_array_unref (copy->reactions);
  copy->reactions = reactions_copy (self->reactions);
  g_strfreev (copy->mentions);
  copy->mentions = g_strdupv (self->mentions);
  natter_message_set_files (copy, G_LIST_MODEL (self->files));
  return copy;
}

static void
set_body (NatterMessage *self,
          const char    *body)
{
  if (g_strcmp0 (self->body, body) == 0)
    return;
  g_free (self->body);
  self->body = g_strdup (body);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BODY]);
}

static void
set_quote (NatterMessage     *self,
           const NatterQuote *quote)
{
  if (quote_equal (self->reply_to, quote))
    return;
  natter_quote_free (self->reply_to);
  self->reply_to = quote != NULL ? natter_quote_copy (quote) : NULL;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REPLY_TO]);
}

static void
set_edited_ts (NatterMessage *self,
               gint64         ts)
{
  if (self->edited_ts == ts)
    return;
  self->edited_ts = ts;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_EDITED_TS]);
}

static void
set_deleted (NatterMessage *self,
             gboolean       deleted)
{
  if (self->deleted == deleted)
    return;
  self->deleted = deleted;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DELETED]);
}

/* Files never change once sent: the same ids in the same order are the
 * same files. */
static gboolean
files_equal (GListModel *a,
             GListModel *b)
{
  guint n = g_list_model_get_n_items (a);

  if (n != g_list_model_get_n_items (b))
    return FALSE;
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(NatterMessageFile) fa = g_list_model_get_item (a, i);
      g_autoptr(NatterMessageFile) fb = g_list_model_get_item (b, i);

      if (natter_message_file_get_id (fa) != natter_message_file_get_id (fb))
        return FALSE;
    }
  return TRUE;
}

void
natter_message_set_files (NatterMessage *self,
                          GListModel    *files)
{
  guint n = g_list_model_get_n_items (files);
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (g_object_unref);

  g_return_if_fail (NATTER_IS_MESSAGE (self));

  for (guint i = 0; i < n; i++)
    g_ptr_array_add (items, g_list_model_get_item (files, i));
  g_list_store_splice (self->files, 0, g_list_model_get_n_items (G_LIST_MODEL (self->files)),
                       items->pdata, items->len);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FILES]);
}

GListModel *
natter_message_get_files (NatterMessage *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE (self), NULL);
  return G_LIST_MODEL (self->files);
}

gboolean
natter_message_update (NatterMessage *self,
                       NatterMessage *from)
{
  gboolean changed = FALSE;
  guint n_notified = 0;

  g_return_val_if_fail (NATTER_IS_MESSAGE (self), FALSE);
  g_return_val_if_fail (NATTER_IS_MESSAGE (from), FALSE);

  g_object_freeze_notify (G_OBJECT (self));
  changed = g_strcmp0 (self->body, from->body) != 0 || !quote_equal (self->reply_to, from->reply_to) ||
            self->edited_ts != from->edited_ts || self->deleted != from->deleted;
  set_body (self, from->body);
  set_quote (self, from->reply_to);
  set_edited_ts (self, from->edited_ts);
  set_deleted (self, from->deleted);
  if (!reactions_equal (self->reactions, from->reactions))
    {
      g_ptr_array_unref (self->reactions);
      self->reactions = reactions_copy (from->reactions);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REACTIONS]);
      n_notified++;
    }
  if (!g_strv_equal ((const char * const *) self->mentions, (const char * const *) from->mentions))
    {
      g_strfreev (self->mentions);
      self->mentions = g_strdupv (from->mentions);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MENTIONS]);
      n_notified++;
    }
  /* A copy without files is one that never had any, or a deleted one
   * (whose files go); a pending message keeps its local ones until then. */
  if ((g_list_model_get_n_items (G_LIST_MODEL (from->files)) > 0 || from->deleted) &&
      !files_equal (G_LIST_MODEL (self->files), G_LIST_MODEL (from->files)))
    {
      natter_message_set_files (self, G_LIST_MODEL (from->files));
      n_notified++;
    }
  g_object_thaw_notify (G_OBJECT (self));
  return changed || n_notified > 0;
}

void
natter_message_set_reply_to (NatterMessage     *self,
                             const NatterQuote *quote)
{
  g_return_if_fail (NATTER_IS_MESSAGE (self));
  set_quote (self, quote);
}

char *
natter_message_quote_text (const char *body)
{
  const char *nl = strchr (body, '\n');
  gsize len = nl != NULL ? (gsize) (nl - body) : strlen (body);
  const char *end;

  if (len > 200)
    len = 200;
  /* Back to a character boundary: never half a UTF-8 sequence. */
  end = body + len;
  if (len == 200 && ((guchar) *end & 0xC0) == 0x80)
    end = g_utf8_find_prev_char (body, end + 1);
  return g_strndup (body, end - body);
}

void
natter_message_quote_original (NatterMessage *self,
                               NatterMessage *original)
{
  g_autofree char *text = NULL;

  g_return_if_fail (NATTER_IS_MESSAGE (self));
  g_return_if_fail (NATTER_IS_MESSAGE (original));

  text = original->deleted ? g_strdup ("") : natter_message_quote_text (original->body);
  set_quote (self, &(NatterQuote) { original->id, original->sender, text, original->deleted });
}

void
natter_message_apply_edit (NatterMessage *self,
                           const char    *body,
                           gint64         ts)
{
  g_return_if_fail (NATTER_IS_MESSAGE (self));

  if (self->deleted || g_strcmp0 (self->body, body) == 0)
    return;
  set_body (self, body);
  set_edited_ts (self, ts);
}

void
natter_message_apply_delete (NatterMessage *self)
{
  g_return_if_fail (NATTER_IS_MESSAGE (self));

  /* What the server keeps of a deleted message (protocol.md, delete). */
  g_object_freeze_notify (G_OBJECT (self));
  set_body (self, "");
  set_quote (self, NULL);
  set_edited_ts (self, 0);
  set_deleted (self, TRUE);
  if (self->reactions->len > 0)
    {
      g_ptr_array_set_size (self->reactions, 0);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REACTIONS]);
    }
  if (self->mentions[0] != NULL)
    {
      g_strfreev (self->mentions);
      self->mentions = g_new0 (char *, 1);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MENTIONS]);
    }
  g_object_thaw_notify (G_OBJECT (self));
}

void
natter_message_apply_reaction (NatterMessage *self,
                               const char    *emoji,
                               const char    *username,
                               gboolean       on)
{
  NatterReaction *reaction = NULL;
  guint index = 0;

  g_return_if_fail (NATTER_IS_MESSAGE (self));

  if (self->deleted || username == NULL)
    return;

  for (index = 0; index < self->reactions->len; index++)
    if (g_strcmp0 (((NatterReaction *) g_ptr_array_index (self->reactions, index))->emoji, emoji) == 0)
      {
        reaction = g_ptr_array_index (self->reactions, index);
        break;
      }

  if (on == natter_reaction_has_user (reaction, username))
    return;

  if (on && reaction == NULL)
    {
      reaction = g_new0 (NatterReaction, 1);
      reaction->emoji = g_strdup (emoji);
      reaction->users = g_new0 (char *, 1);
      g_ptr_array_add (self->reactions, reaction);
    }

  {
    GStrvBuilder *builder = g_strv_builder_new ();

    for (guint i = 0; reaction->users[i] != NULL; i++)
      if (on || g_strcmp0 (reaction->users[i], username) != 0)
        g_strv_builder_add (builder, reaction->users[i]);
    if (on)
      g_strv_builder_add (builder, username);
    g_strfreev (reaction->users);
    reaction->users = g_strv_builder_end (builder);
    g_strv_builder_unref (builder);
  }

  if (reaction->users[0] == NULL)
    g_ptr_array_remove_index (self->reactions, index);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REACTIONS]);
}
