/* natter-user.c: one interned user. */
#define G_LOG_DOMAIN "natter-user"

#include "natter-user-private.h"

struct _NatterUser
{
  GObject parent_instance;

  char           *username;
  char           *display_name;
  char           *status_text;
  char           *avatar;         /* the picture's SHA-256 (hex), NULL: none */
  gint64          last_seen;
  NatterPresence  presence;
  gboolean        presence_stale; /* the connection is down */
};

G_DEFINE_FINAL_TYPE (NatterUser, natter_user, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_USERNAME,
  PROP_DISPLAY_NAME,
  PROP_PRESENCE,
  PROP_STATUS_TEXT,
  PROP_LAST_SEEN,
  PROP_PRESENCE_KNOWN,
  PROP_AVATAR,
  N_PROPS,
};

static GParamSpec *properties[N_PROPS];

static void
natter_user_finalize (GObject *object)
{
  NatterUser *self = NATTER_USER (object);

  g_free (self->username);
  g_free (self->display_name);
  g_free (self->status_text);
  g_free (self->avatar);

  G_OBJECT_CLASS (natter_user_parent_class)->finalize (object);
}

static void
natter_user_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  NatterUser *self = NATTER_USER (object);

  switch (prop_id)
    {
    case PROP_USERNAME:
      g_value_set_string (value, self->username);
      break;
    case PROP_DISPLAY_NAME:
      g_value_set_string (value, natter_user_get_display_name (self));
      break;
    case PROP_PRESENCE:
      g_value_set_enum (value, self->presence);
      break;
    case PROP_STATUS_TEXT:
      g_value_set_string (value, self->status_text);
      break;
    case PROP_LAST_SEEN:
      g_value_set_int64 (value, self->last_seen);
      break;
    case PROP_PRESENCE_KNOWN:
      g_value_set_boolean (value, natter_user_presence_is_known (self));
      break;
    case PROP_AVATAR:
      g_value_set_string (value, self->avatar);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_user_class_init (NatterUserClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = natter_user_finalize;
  object_class->get_property = natter_user_get_property;

  properties[PROP_USERNAME] =
    g_param_spec_string ("username", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_DISPLAY_NAME] =
    g_param_spec_string ("display-name", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PRESENCE] =
    g_param_spec_enum ("presence", NULL, NULL,
                       NATTER_TYPE_PRESENCE, NATTER_PRESENCE_OFFLINE,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STATUS_TEXT] =
    g_param_spec_string ("status-text", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_LAST_SEEN] =
    g_param_spec_int64 ("last-seen", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PRESENCE_KNOWN] =
    g_param_spec_boolean ("presence-known", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_AVATAR] =
    g_param_spec_string ("avatar", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
natter_user_init (NatterUser *self)
{
}

NatterUser *
natter_user_new (const char *username)
{
  NatterUser *self;

  g_return_val_if_fail (username != NULL, NULL);

  self = g_object_new (NATTER_TYPE_USER, NULL);
  self->username = g_strdup (username);
  return self;
}

const char *
natter_user_get_username (NatterUser *self)
{
  g_return_val_if_fail (NATTER_IS_USER (self), NULL);
  return self->username;
}

const char *
natter_user_get_display_name (NatterUser *self)
{
  g_return_val_if_fail (NATTER_IS_USER (self), NULL);
  return self->display_name != NULL ? self->display_name : self->username;
}

NatterPresence
natter_user_get_presence (NatterUser *self)
{
  g_return_val_if_fail (NATTER_IS_USER (self), NATTER_PRESENCE_OFFLINE);
  return self->presence;
}

const char *
natter_user_get_status_text (NatterUser *self)
{
  g_return_val_if_fail (NATTER_IS_USER (self), NULL);
  return self->status_text;
}

gint64
natter_user_get_last_seen (NatterUser *self)
{
  g_return_val_if_fail (NATTER_IS_USER (self), 0);
  return self->last_seen;
}

const char *
natter_user_get_avatar (NatterUser *self)
{
  g_return_val_if_fail (NATTER_IS_USER (self), NULL);
  return self->avatar;
}

gboolean
natter_user_presence_is_known (NatterUser *self)
{
  g_return_val_if_fail (NATTER_IS_USER (self), FALSE);
  return !self->presence_stale &&
         (self->presence != NATTER_PRESENCE_OFFLINE || self->last_seen > 0);
}

void
natter_user_set_presence_stale (NatterUser *self,
                                gboolean    stale)
{
  g_return_if_fail (NATTER_IS_USER (self));

  stale = !!stale;
  if (self->presence_stale == stale)
    return;
  self->presence_stale = stale;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PRESENCE_KNOWN]);
}

static gboolean
set_string (char **field, const char *value)
{
  if (g_strcmp0 (*field, value) == 0)
    return FALSE;
  g_free (*field);
  *field = g_strdup (value);
  return TRUE;
}

gboolean
natter_user_update_from_json (NatterUser     *self,
                              JsonObject     *user,
                              NatterPresence *out_old_presence)
{
  NatterPresence old = self->presence;
  gboolean was_known;
  JsonNode *node;

  g_return_val_if_fail (NATTER_IS_USER (self), FALSE);

  was_known = natter_user_presence_is_known (self);
  g_object_freeze_notify (G_OBJECT (self));

  node = json_object_get_member (user, "display_name");
  if (node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
      json_node_get_value_type (node) == G_TYPE_STRING &&
      natter_display_name_is_valid (json_node_get_string (node)))
    {
      if (set_string (&self->display_name, json_node_get_string (node)))
        g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DISPLAY_NAME]);
    }

  node = json_object_get_member (user, "presence");
  if (node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
      json_node_get_value_type (node) == G_TYPE_STRING)
    {
      NatterPresence presence;

      if (natter_presence_from_string (json_node_get_string (node), TRUE, &presence) &&
          presence != self->presence)
        {
          self->presence = presence;
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PRESENCE]);
        }
    }

  /* status_text and last_seen may be null, which means "none"/"unknown". */
  node = json_object_get_member (user, "status_text");
  if (node != NULL)
    {
      const char *text = NULL;

      if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
        text = json_node_get_string (node);
      if (text != NULL && *text == '\0')
        text = NULL;
      if (set_string (&self->status_text, text))
        g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATUS_TEXT]);
    }

  node = json_object_get_member (user, "last_seen");
  if (node != NULL)
    {
      gint64 last_seen = 0;

      if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_INT64)
        last_seen = MAX (json_node_get_int (node), 0);
      if (last_seen != self->last_seen)
        {
          self->last_seen = last_seen;
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_SEEN]);
        }
    }

  /* 64 hex digits or null; anything else (a hostile server) is ignored. */
  node = json_object_get_member (user, "avatar");
  if (node != NULL)
    {
      const char *avatar = NULL;

      if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING &&
          natter_sha256_is_valid (json_node_get_string (node)))
        avatar = json_node_get_string (node);
      if ((avatar != NULL || JSON_NODE_HOLDS_NULL (node)) && set_string (&self->avatar, avatar))
        g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_AVATAR]);
    }

  if (natter_user_presence_is_known (self) != was_known)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PRESENCE_KNOWN]);
  g_object_thaw_notify (G_OBJECT (self));

  if (out_old_presence != NULL)
    *out_old_presence = old;
  return old != self->presence;
}
