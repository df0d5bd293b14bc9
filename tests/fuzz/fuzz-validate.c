/* fuzz-validate: the field rules of every request type.
 *
 * The input is a frame. It is read as each request type in turn, with the
 * getters (natter-fields) and value rules (natter-validate) the handlers
 * use for that type's fields (server/chat/natterd-handlers-*.c, the
 * fields of docs/protocol.md), and what each rule accepts is checked
 * against what it promises: a normalised username is valid and stays the
 * same when normalised again, an address names a valid user or room, an
 * accepted integer is within ±2^53, a limit within 1..cap, and so on.
 * The requests of the feature message_actions too (edit, delete, react,
 * notify_level; send's reply_to; login's and register's features).
 */
#include <string.h>

#include "natter-error.h"
#include "natter-features.h"
#include "natter-fields.h"
#include "natter-json.h"
#include "natter-validate.h"
#include "fuzz-target.h"

typedef enum {
  USERNAME,     /* a username to look up (normalised) */
  NEW_USERNAME, /* register's: normalised, invalid_username */
  PASSWORD,
  TOKEN,
  DISPLAY_NAME,
  PRESENCE,
  STATUS_TEXT,
  ADDRESS,      /* "@user" or "#room" */
  ROOM,
  TOPIC,
  BODY,
  CLIENT_MSG_ID,
  TYPING_STATE,
  QUERY,
  INTEGER,
  MESSAGE_ID,   /* a positive integer (natterd_arg_message_id) */
  EMOJI,
  NOTIFY_LEVEL, /* all, mentions or none */
  BOOLEAN,
  FEATURES,     /* an array of feature names (natterd-features.c) */
} Rule;

typedef struct {
  const char *key;
  Rule        rule;
  gboolean    required;
} Field;

typedef struct {
  const char *type;
  gint64      limit_default; /* 0: no "limit" */
  gint64      limit_cap;
  Field       fields[4];
} Request;

/* Every request type of natterd-requests.def, with the fields its handler
 * reads, in the order it reads them. */
static const Request requests[] = {
  { "contact_accept",  0, 0,    { { "username", USERNAME, TRUE } } },
  { "contact_decline", 0, 0,    { { "username", USERNAME, TRUE } } },
  { "contact_remove",  0, 0,    { { "username", USERNAME, TRUE } } },
  { "contact_request", 0, 0,    { { "username", USERNAME, TRUE } } },
  { "contacts",        0, 0,    { { NULL } } },
  { "conversations",   0, 0,    { { NULL } } },
  { "delete",          0, 0,    { { "message", MESSAGE_ID, TRUE } } },
  { "edit",            0, 0,    { { "body", BODY, TRUE }, { "message", MESSAGE_ID, TRUE } } },
  { "history",         50, 200, { { "conversation", ADDRESS, TRUE }, { "before", INTEGER, FALSE } } },
  { "login",           0, 0,    { { "token", TOKEN, FALSE }, { "username", USERNAME, TRUE },
                                  { "password", PASSWORD, TRUE }, { "features", FEATURES, FALSE } } },
  { "logout",          0, 0,    { { NULL } } },
  { "notify_level",    0, 0,    { { "conversation", ADDRESS, TRUE }, { "level", NOTIFY_LEVEL, TRUE } } },
  { "react",           0, 0,    { { "emoji", EMOJI, TRUE }, { "on", BOOLEAN, TRUE },
                                  { "message", MESSAGE_ID, TRUE } } },
  { "read",            0, 0,    { { "conversation", ADDRESS, TRUE }, { "up_to", INTEGER, TRUE } } },
  { "register",        0, 0,    { { "username", NEW_USERNAME, TRUE }, { "password", PASSWORD, TRUE },
                                  { "display_name", DISPLAY_NAME, FALSE }, { "features", FEATURES, FALSE } } },
  { "room_create",     0, 0,    { { "room", ROOM, TRUE }, { "topic", TOPIC, FALSE } } },
  { "room_directory",  50, 200, { { "query", QUERY, FALSE } } },
  { "room_join",       0, 0,    { { "room", ROOM, TRUE } } },
  { "room_leave",      0, 0,    { { "room", ROOM, TRUE } } },
  { "room_members",    0, 0,    { { "room", ROOM, TRUE } } },
  { "room_topic",      0, 0,    { { "room", ROOM, TRUE }, { "topic", TOPIC, TRUE } } },
  { "rooms",           0, 0,    { { NULL } } },
  { "search",          50, 200, { { "query", QUERY, TRUE }, { "conversation", ADDRESS, FALSE } } },
  { "send",            0, 0,    { { "to", ADDRESS, TRUE }, { "body", BODY, TRUE },
                                  { "client_msg_id", CLIENT_MSG_ID, TRUE }, { "reply_to", MESSAGE_ID, FALSE } } },
  { "set_presence",    0, 0,    { { "presence", PRESENCE, TRUE }, { "status_text", STATUS_TEXT, FALSE } } },
  { "sync",            500, 1000, { { "since", INTEGER, FALSE } } },
  { "typing",          0, 0,    { { "to", ADDRESS, TRUE }, { "state", TYPING_STATE, TRUE } } },
  { "user_info",       0, 0,    { { "username", USERNAME, TRUE } } },
  { "user_search",     20, 50,  { { "query", QUERY, TRUE } } },
};


static void
check_username (const char *value,
                NatterErrorCode expected_code)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *name = natter_username_normalize (value, &error);

  if (name == NULL)
    {
      g_assert_error (error, NATTER_ERROR, (gint) expected_code);
      g_assert_false (natter_username_is_valid (value));
      return;
    }
  g_assert_true (natter_username_is_valid (name));
  g_assert_cmpuint (strlen (name), ==, strlen (value));
  g_assert_cmpint (g_ascii_strcasecmp (name, value), ==, 0);
  if (natter_username_is_valid (value))
    g_assert_cmpstr (name, ==, value);
  {
    g_autofree char *again = natter_username_normalize (name, NULL);
    g_assert_cmpstr (again, ==, name);
  }
}

static void
check_address (const char *value)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;
  NatterAddressKind kind;

  if (!natter_address_parse (value, &kind, &name, &error))
    {
      g_assert_error (error, NATTER_ERROR, NATTER_ERROR_INVALID_ARGUMENT);
      return;
    }
  if (kind == NATTER_ADDRESS_USER)
    {
      g_assert_true (value[0] == '@');
      g_assert_true (natter_username_is_valid (name));
      g_assert_cmpint (g_ascii_strcasecmp (name, value + 1), ==, 0);
    }
  else
    {
      g_assert_cmpint (kind, ==, NATTER_ADDRESS_ROOM);
      g_assert_true (natter_room_name_is_valid (name));
      g_assert_cmpstr (name, ==, value);
    }
}

/* What a text rule that accepted @value promises. */
static void
check_text (const char *value,
            gboolean    valid,
            glong       min_chars,
            glong       max_chars)
{
  if (!valid)
    return;
  g_assert_true (g_utf8_validate (value, -1, NULL));
  g_assert_cmpint (g_utf8_strlen (value, -1), >=, min_chars);
  g_assert_cmpint (g_utf8_strlen (value, -1), <=, max_chars);
  for (const char *p = value; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      g_assert_true (c == '\n' || c == '\t' || g_unichar_type (c) != G_UNICODE_CONTROL);
    }
}

static void
check_string (Rule        rule,
              const char *value)
{
  gsize len = strlen (value);

  switch (rule)
    {
    case USERNAME:
    case NEW_USERNAME:
      check_username (value, NATTER_ERROR_INVALID_USERNAME);
      break;
    case PASSWORD:
      {
        g_autoptr(GError) error = NULL;

        if (natter_password_check (value, &error))
          {
            g_assert_cmpuint (len, <=, NATTER_PASSWORD_MAX);
            g_assert_cmpint (g_utf8_strlen (value, -1), >=, NATTER_PASSWORD_MIN);
          }
        else
          {
            g_assert_error (error, NATTER_ERROR, NATTER_ERROR_WEAK_PASSWORD);
            /* The message never quotes the password. */
            g_assert_true (len < 8 || strstr (error->message, value) == NULL);
          }
      }
      break;
    case TOKEN:
    case QUERY:
      break; /* opaque: looked up or searched, never validated here */
    case DISPLAY_NAME:
      check_text (value, natter_display_name_is_valid (value), 1, NATTER_DISPLAY_NAME_MAX);
      break;
    case STATUS_TEXT:
      check_text (value, natter_status_text_is_valid (value), 0, NATTER_STATUS_TEXT_MAX);
      break;
    case TOPIC:
      check_text (value, natter_topic_is_valid (value), 0, NATTER_TOPIC_MAX);
      break;
    case BODY:
      check_text (value, natter_body_is_valid (value, len), 1, NATTER_BODY_MAX);
      g_assert_true (!natter_body_is_valid (value, len) || len <= NATTER_BODY_MAX);
      break;
    case CLIENT_MSG_ID:
      check_text (value, natter_client_msg_id_is_valid (value), 1, NATTER_CLIENT_MSG_ID_MAX);
      g_assert_true (!natter_client_msg_id_is_valid (value) || len <= NATTER_CLIENT_MSG_ID_MAX);
      break;
    case PRESENCE:
      {
        NatterPresence presence;

        if (natter_presence_from_string (value, FALSE, &presence))
          {
            g_assert_cmpint (presence, !=, NATTER_PRESENCE_OFFLINE);
            g_assert_cmpstr (natter_presence_to_string (presence), ==, value);
          }
        g_assert_true (natter_presence_from_string (value, TRUE, NULL) ==
                       (natter_presence_from_string (value, FALSE, NULL) ||
                        g_str_equal (value, "offline")));
      }
      break;
    case ADDRESS:
      check_address (value);
      break;
    case ROOM:
      if (natter_room_name_is_valid (value))
        check_address (value);
      break;
    case EMOJI:
      if (natter_emoji_is_valid (value))
        {
          g_assert_cmpuint (len, >=, 1);
          g_assert_cmpuint (len, <=, NATTER_EMOJI_MAX);
          g_assert_true (g_utf8_validate (value, -1, NULL));
          for (const char *p = value; *p != '\0'; p = g_utf8_next_char (p))
            {
              gunichar c = g_utf8_get_char (p);
              g_assert_false (g_unichar_isspace (c) || g_unichar_type (c) == G_UNICODE_CONTROL);
            }
        }
      break;
    case NOTIFY_LEVEL:
    case TYPING_STATE:
    case INTEGER:
      break;
    default:
      g_assert_not_reached ();
    }
}

/* The rules of natterd_features_read (server/chat/natterd-features.c):
 * an array of at most NATTER_FEATURES_MAX strings of 1 to
 * NATTER_FEATURE_NAME_MAX bytes; what it turns on is only features this
 * build knows. */
static void
check_features (JsonObject *frame)
{
  JsonNode *node = json_object_get_member (frame, "features");
  JsonArray *names;
  guint mask = 0;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node) ||
      json_array_get_length (names = json_node_get_array (node)) > NATTER_FEATURES_MAX)
    return;
  for (guint i = 0; i < json_array_get_length (names); i++)
    {
      JsonNode *name = json_array_get_element (names, i);
      const char *s;

      if (!JSON_NODE_HOLDS_VALUE (name) || json_node_get_value_type (name) != G_TYPE_STRING)
        return;
      s = json_node_get_string (name);
      if (strlen (s) < 1 || strlen (s) > NATTER_FEATURE_NAME_MAX)
        return;
      mask |= natter_feature_from_name (s);
      if (natter_feature_from_name (s) != 0)
        g_assert_cmpstr (natter_feature_name (natter_feature_from_name (s)), ==, s);
    }
  for (guint i = 0; natter_features_offered[i] != NULL; i++)
    mask &= ~(1u << i);
  g_assert_cmpuint (mask, ==, 0);
}

static void
check_field (JsonObject  *frame,
             const Field *field)
{
  g_autoptr(GError) error = NULL;

  if (field->rule == INTEGER || field->rule == MESSAGE_ID)
    {
      gboolean present = FALSE;
      gint64 v = 0;

      if (natter_fields_get_int (frame, field->key, field->required, &present, &v, &error))
        {
          g_assert_true (present || !field->required);
          g_assert_true (v >= -NATTER_MAX_SAFE_INTEGER && v <= NATTER_MAX_SAFE_INTEGER);
        }
      else
        g_assert_error (error, NATTER_ERROR, NATTER_ERROR_INVALID_ARGUMENT);
      return;
    }
  if (field->rule == BOOLEAN)
    {
      gboolean present = FALSE, v = FALSE;

      if (natter_fields_get_bool (frame, field->key, field->required, &present, &v, &error))
        g_assert_true ((present || !field->required) && (v == TRUE || v == FALSE));
      else
        g_assert_error (error, NATTER_ERROR, NATTER_ERROR_INVALID_ARGUMENT);
      return;
    }
  if (field->rule == FEATURES)
    {
      check_features (frame);
      return;
    }

  {
    const char *value = NULL;

    if (!natter_fields_get_string (frame, field->key, field->required, &value, &error))
      {
        g_assert_error (error, NATTER_ERROR, NATTER_ERROR_INVALID_ARGUMENT);
        g_assert_null (value);
        return;
      }
    if (value == NULL)
      g_assert_false (field->required);
    else
      check_string (field->rule, value);
  }
}

static void
check_request (JsonObject    *frame,
               const Request *request)
{
  for (guint i = 0; i < G_N_ELEMENTS (request->fields) && request->fields[i].key != NULL; i++)
    check_field (frame, &request->fields[i]);

  if (request->limit_default > 0)
    {
      g_autoptr(GError) error = NULL;
      gint64 limit = 0;

      if (natter_fields_get_limit (frame, request->limit_default, request->limit_cap, &limit, &error))
        g_assert_true (limit >= 1 && limit <= request->limit_cap);
      else
        g_assert_error (error, NATTER_ERROR, NATTER_ERROR_INVALID_ARGUMENT);
    }
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonObject *frame = NULL;
  JsonNode *id = NULL;
  const char *type;

  root = natter_json_parse_frame ((const char *) data, size, &frame, &error);
  if (root == NULL)
    return 0;

  if (natter_fields_get_request_id (frame, &id, &error))
    {
      g_assert_true (id == NULL || JSON_NODE_HOLDS_VALUE (id));
      if (id != NULL && json_node_get_value_type (id) == G_TYPE_STRING)
        g_assert_cmpuint (strlen (json_node_get_string (id)), <=, NATTER_REQUEST_ID_MAX);
    }
  else
    {
      g_assert_error (error, NATTER_ERROR, NATTER_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
    }

  /* Its own type first, then every other: a field's rule must hold
   * whichever request carries it. */
  type = json_object_get_string_member (frame, "type");
  for (guint i = 0; i < G_N_ELEMENTS (requests); i++)
    if (g_str_equal (requests[i].type, type))
      check_request (frame, &requests[i]);
  for (guint i = 0; i < G_N_ELEMENTS (requests); i++)
    check_request (frame, &requests[i]);
  return 0;
}
