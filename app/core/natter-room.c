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
};

G_DEFINE_FINAL_TYPE (NatterRoom, natter_room, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_NAME,
  PROP_TOPIC,
  PROP_OWNER,
  PROP_MEMBER_COUNT,
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

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
natter_room_init (NatterRoom *self)
{
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
