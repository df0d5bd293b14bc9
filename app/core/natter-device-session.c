/* natter-device-session.c: one of the user's sessions (feature accounts).
 */
#define G_LOG_DOMAIN "natter-client"

#include "config.h"

#include "natter-device-session-private.h"

struct _NatterDeviceSession {
  GObject  parent_instance;

  char    *id;
  char    *device;
  char    *address;
  gint64   created;
  gint64   last_active;
  gboolean current;
  guint    connections;
};

G_DEFINE_FINAL_TYPE (NatterDeviceSession, natter_device_session, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ID,
  PROP_DEVICE,
  PROP_ADDRESS,
  PROP_CREATED,
  PROP_LAST_ACTIVE,
  PROP_CURRENT,
  PROP_CONNECTIONS,
  N_PROPS,
};

static GParamSpec *properties[N_PROPS];

static void
natter_device_session_finalize (GObject *object)
{
  NatterDeviceSession *self = NATTER_DEVICE_SESSION (object);

  g_free (self->id);
  g_free (self->device);
  g_free (self->address);
  G_OBJECT_CLASS (natter_device_session_parent_class)->finalize (object);
}

static void
natter_device_session_get_property (GObject    *object,
                                    guint       prop_id,
                                    GValue     *value,
                                    GParamSpec *pspec)
{
  NatterDeviceSession *self = NATTER_DEVICE_SESSION (object);

  switch (prop_id)
    {
    case PROP_ID:          g_value_set_string (value, self->id); break;
    case PROP_DEVICE:      g_value_set_string (value, self->device); break;
    case PROP_ADDRESS:     g_value_set_string (value, self->address); break;
    case PROP_CREATED:     g_value_set_int64 (value, self->created); break;
    case PROP_LAST_ACTIVE: g_value_set_int64 (value, self->last_active); break;
    case PROP_CURRENT:     g_value_set_boolean (value, self->current); break;
    case PROP_CONNECTIONS: g_value_set_uint (value, self->connections); break;
    default:               G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_device_session_class_init (NatterDeviceSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->finalize = natter_device_session_finalize;
  object_class->get_property = natter_device_session_get_property;

  properties[PROP_ID] = g_param_spec_string ("id", NULL, NULL, NULL, flags);
  properties[PROP_DEVICE] = g_param_spec_string ("device", NULL, NULL, NULL, flags);
  properties[PROP_ADDRESS] = g_param_spec_string ("address", NULL, NULL, NULL, flags);
  properties[PROP_CREATED] = g_param_spec_int64 ("created", NULL, NULL, 0, G_MAXINT64, 0, flags);
  properties[PROP_LAST_ACTIVE] = g_param_spec_int64 ("last-active", NULL, NULL, 0, G_MAXINT64, 0, flags);
  properties[PROP_CURRENT] = g_param_spec_boolean ("current", NULL, NULL, FALSE, flags);
  properties[PROP_CONNECTIONS] = g_param_spec_uint ("connections", NULL, NULL, 0, G_MAXUINT, 0, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
natter_device_session_init (NatterDeviceSession *self)
{
}

NatterDeviceSession *
natter_device_session_new (const char *id,
                           const char *device,
                           const char *address,
                           gint64      created,
                           gint64      last_active,
                           gboolean    current,
                           guint       connections)
{
  NatterDeviceSession *self = g_object_new (NATTER_TYPE_DEVICE_SESSION, NULL);

  self->id = g_strdup (id);
  self->device = g_strdup (device);
  self->address = g_strdup (address);
  self->created = MAX (created, 0);
  self->last_active = MAX (last_active, 0);
  self->current = current;
  self->connections = connections;
  return self;
}

const char *
natter_device_session_get_id (NatterDeviceSession *self)
{
  g_return_val_if_fail (NATTER_IS_DEVICE_SESSION (self), NULL);
  return self->id;
}

const char *
natter_device_session_get_device (NatterDeviceSession *self)
{
  g_return_val_if_fail (NATTER_IS_DEVICE_SESSION (self), NULL);
  return self->device;
}

const char *
natter_device_session_get_address (NatterDeviceSession *self)
{
  g_return_val_if_fail (NATTER_IS_DEVICE_SESSION (self), NULL);
  return self->address;
}

gint64
natter_device_session_get_created (NatterDeviceSession *self)
{
  g_return_val_if_fail (NATTER_IS_DEVICE_SESSION (self), 0);
  return self->created;
}

gint64
natter_device_session_get_last_active (NatterDeviceSession *self)
{
  g_return_val_if_fail (NATTER_IS_DEVICE_SESSION (self), 0);
  return self->last_active;
}

gboolean
natter_device_session_get_current (NatterDeviceSession *self)
{
  g_return_val_if_fail (NATTER_IS_DEVICE_SESSION (self), FALSE);
  return self->current;
}

guint
natter_device_session_get_connections (NatterDeviceSession *self)
{
  g_return_val_if_fail (NATTER_IS_DEVICE_SESSION (self), 0);
  return self->connections;
}
