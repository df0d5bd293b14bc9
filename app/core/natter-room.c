/* natter-room.c: a room we know about. */
#define G_LOG_DOMAIN "natter-room"

#include "natter-fields.h"
#include "natter-room-private.h"

struct _NatterRoom
{
  GObject parent_instance;

  char  *name;
  char  *topic;
  char  *owner;
  guint  member_count;

  /* Feature room_management (docs/protocol.md): unknown (NULL, FALSE)
   * from a server without it. */
  char     *display_name;
  gboolean  is_private;
  GStrv     admins;       /* sorted usernames; never NULL */
  char     *invited_by;   /* who invited us, while the invitation is pending */
};

G_DEFINE_FINAL_TYPE (NatterRoom, natter_room, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_NAME,
  PROP_TOPIC,
  PROP_OWNER,
  PROP_MEMBER_COUNT,
  PROP_DISPLAY_NAME,
  PROP_PRIVATE,
  PROP_ADMINS,
  PROP_INVITED_BY,
  N_PROPS,
};

static GParamSpec *properties[N_PROPS];

static void
natter_room_finalize (GObject *object)
{
  NatterRoom *self = NATTER_ROOM (object);

  g_free (self->name);
  g_free (self->topic);
  g_free (self->owner);
  g_free (self->display_name);
  g_strfreev (self->admins);
  g_free (self->invited_by);

  G_OBJECT_CLASS (natter_room_parent_class)->finalize (object);
}

static void
natter_room_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  NatterRoom *self = NATTER_ROOM (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_TOPIC:
      g_value_set_string (value, natter_room_get_topic (self));
      break;
    case PROP_OWNER:
      g_value_set_string (value, self->owner);
      break;
    case PROP_MEMBER_COUNT:
      g_value_set_uint (value, self->member_count);
      break;
    case PROP_DISPLAY_NAME:
      g_value_set_string (value, self->display_name);
      break;
    case PROP_PRIVATE:
      g_value_set_boolean (value, self->is_private);
      break;
    case PROP_ADMINS:
      g_value_set_boxed (value, self->admins);
      break;
    case PROP_INVITED_BY:
      g_value_set_string (value, self->invited_by);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_room_class_init (NatterRoomClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = natter_room_finalize;
  object_class->get_property = natter_room_get_property;

  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_TOPIC] =
    g_param_spec_string ("topic", NULL, NULL, "",
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_OWNER] =
    g_param_spec_string ("owner", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MEMBER_COUNT] =
    g_param_spec_uint ("member-count", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_DISPLAY_NAME] =
    g_param_spec_string ("display-name", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PRIVATE] =
    g_param_spec_boolean ("private", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ADMINS] =
    g_param_spec_boxed ("admins", NULL, NULL, G_TYPE_STRV,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_INVITED_BY] =
    g_param_spec_string ("invited-by", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
natter_room_init (NatterRoom *self)
{
  self->admins = g_new0 (char *, 1);
}

NatterRoom *
natter_room_new (const char *name)
{
  NatterRoom *self = g_object_new (NATTER_TYPE_ROOM, NULL);

  self->name = g_strdup (name);
  return self;
}

void
natter_room_set_topic (NatterRoom *self,
                       const char *topic)
{
  g_return_if_fail (NATTER_IS_ROOM (self));

  if (topic != NULL && *topic == '\0')
    topic = NULL;
  if (g_strcmp0 (self->topic, topic) == 0)
    return;
  g_free (self->topic);
  self->topic = g_strdup (topic);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOPIC]);
}

void
natter_room_set_member_count (NatterRoom *self,
                              guint       count)
{
  g_return_if_fail (NATTER_IS_ROOM (self));

  if (self->member_count == count)
    return;
  self->member_count = count;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MEMBER_COUNT]);
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

/* Takes @names and its strings. */
static void
set_admins (NatterRoom *self,
            GPtrArray  *names)
{
  g_ptr_array_sort (names, compare_strings);
  g_ptr_array_add (names, NULL);
  if (g_strv_equal ((const char *const *) self->admins, (const char *const *) names->pdata))
    {
      g_strfreev ((GStrv) g_ptr_array_free (names, FALSE));
      return;
    }
  g_strfreev (self->admins);
  self->admins = (GStrv) g_ptr_array_free (names, FALSE);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ADMINS]);
}

/* The fields of room_management, when the object has them. */
static void
update_management_from_json (NatterRoom *self,
                             JsonObject *room)
{
  const char *display_name = NULL;
  gboolean present = FALSE, is_private = FALSE;
  JsonNode *admins = json_object_get_member (room, "admins");

  if (json_object_has_member (room, "display_name") &&
      natter_fields_get_string (room, "display_name", FALSE, &display_name, NULL) &&
      g_strcmp0 (display_name, self->display_name) != 0)
    {
      g_free (self->display_name);
      self->display_name = g_strdup (display_name);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DISPLAY_NAME]);
    }
  if (natter_fields_get_bool (room, "private", FALSE, &present, &is_private, NULL) && present &&
      is_private != self->is_private)
    {
      self->is_private = is_private;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PRIVATE]);
    }
  if (admins != NULL && JSON_NODE_HOLDS_ARRAY (admins))
    {
      JsonArray *array = json_node_get_array (admins);
      GPtrArray *names = g_ptr_array_new ();

      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          JsonNode *name = json_array_get_element (array, i);

          if (JSON_NODE_HOLDS_VALUE (name) && json_node_get_value_type (name) == G_TYPE_STRING)
            g_ptr_array_add (names, g_strdup (json_node_get_string (name)));
        }
      set_admins (self, names);
    }
}

void
natter_room_set_admin (NatterRoom *self,
                       const char *username,
                       gboolean    admin)
{
  GPtrArray *names = g_ptr_array_new ();

  g_return_if_fail (NATTER_IS_ROOM (self));
  for (guint i = 0; self->admins[i] != NULL; i++)
    if (!g_str_equal (self->admins[i], username))
      g_ptr_array_add (names, g_strdup (self->admins[i]));
  if (admin)
    g_ptr_array_add (names, g_strdup (username));
  set_admins (self, names);
}

void
natter_room_set_invited_by (NatterRoom *self,
                            const char *username)
{
  g_return_if_fail (NATTER_IS_ROOM (self));
  if (g_strcmp0 (self->invited_by, username) == 0)
    return;
  g_free (self->invited_by);
  self->invited_by = g_strdup (username);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_INVITED_BY]);
}

const char *
natter_room_get_display_name (NatterRoom *self)
{
  g_return_val_if_fail (NATTER_IS_ROOM (self), NULL);
  return self->display_name;
}

gboolean
natter_room_get_private (NatterRoom *self)
{
  g_return_val_if_fail (NATTER_IS_ROOM (self), FALSE);
  return self->is_private;
}

const char *const *
natter_room_get_admins (NatterRoom *self)
{
  g_return_val_if_fail (NATTER_IS_ROOM (self), NULL);
  return (const char *const *) self->admins;
}

const char *
natter_room_get_invited_by (NatterRoom *self)
{
  g_return_val_if_fail (NATTER_IS_ROOM (self), NULL);
  return self->invited_by;
}

NatterRoomRole
natter_room_get_role (NatterRoom *self,
                      const char *username)
{
  g_return_val_if_fail (NATTER_IS_ROOM (self), NATTER_ROOM_ROLE_MEMBER);
  if (username == NULL)
    return NATTER_ROOM_ROLE_MEMBER;
  if (g_strcmp0 (self->owner, username) == 0)
    return NATTER_ROOM_ROLE_OWNER;
  if (g_strv_contains ((const char *const *) self->admins, username))
    return NATTER_ROOM_ROLE_ADMIN;
  return NATTER_ROOM_ROLE_MEMBER;
}

void
natter_room_update_from_json (NatterRoom *self,
                              JsonObject *room)
{
  const char *topic = NULL, *owner = NULL;
  gint64 count = 0;
  gboolean present = FALSE;

  g_return_if_fail (NATTER_IS_ROOM (self));

  g_object_freeze_notify (G_OBJECT (self));

  if (json_object_has_member (room, "topic") &&
      natter_fields_get_string (room, "topic", FALSE, &topic, NULL))
    natter_room_set_topic (self, topic);

  if (natter_fields_get_string (room, "owner", FALSE, &owner, NULL) &&
      owner != NULL && g_strcmp0 (owner, self->owner) != 0)
    {
      g_free (self->owner);
      self->owner = g_strdup (owner);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OWNER]);
    }

  if (natter_fields_get_int (room, "member_count", FALSE, &present, &count, NULL) &&
      present && count >= 0 && count <= G_MAXUINT)
    natter_room_set_member_count (self, (guint) count);
  update_management_from_json (self, room);

  g_object_thaw_notify (G_OBJECT (self));
}

const char *
natter_room_get_name (NatterRoom *self)
{
  g_return_val_if_fail (NATTER_IS_ROOM (self), NULL);
  return self->name;
}

const char *
natter_room_get_topic (NatterRoom *self)
{
  g_return_val_if_fail (NATTER_IS_ROOM (self), NULL);
  return self->topic != NULL ? self->topic : "";
}

const char *
natter_room_get_owner (NatterRoom *self)
{
  g_return_val_if_fail (NATTER_IS_ROOM (self), NULL);
  return self->owner;
}

guint
natter_room_get_member_count (NatterRoom *self)
{
  g_return_val_if_fail (NATTER_IS_ROOM (self), 0);
  return self->member_count;
}
