/* natter-room-entry.c: one ban or pending invitation of a room. Values,
 * not live: a list of them is a reply, fetched again when it may have
 * changed. */
#define G_LOG_DOMAIN "natter-room-entry"

#include "natter-room-entry-private.h"

struct _NatterRoomEntry
{
  GObject parent_instance;

  /* owned references */
  NatterUser *user;
  char       *by;
  char       *reason;
  gint64      ts;
};

G_DEFINE_FINAL_TYPE (NatterRoomEntry, natter_room_entry, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_USER,
  PROP_BY,
  PROP_REASON,
  PROP_TS,
  N_PROPS,
};

static GParamSpec *properties[N_PROPS];

static void
natter_room_entry_dispose (GObject *object)
{
  NatterRoomEntry *self = NATTER_ROOM_ENTRY (object);

  g_clear_object (&self->user);

  G_OBJECT_CLASS (natter_room_entry_parent_class)->dispose (object);
}

static void
natter_room_entry_finalize (GObject *object)
{
  NatterRoomEntry *self = NATTER_ROOM_ENTRY (object);

  g_free (self->by);
  g_free (self->reason);

  G_OBJECT_CLASS (natter_room_entry_parent_class)->finalize (object);
}

static void
natter_room_entry_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  NatterRoomEntry *self = NATTER_ROOM_ENTRY (object);

  switch (prop_id)
    {
    case PROP_USER:
      g_value_set_object (value, self->user);
      break;
    case PROP_BY:
      g_value_set_string (value, self->by);
      break;
    case PROP_REASON:
      g_value_set_string (value, self->reason);
      break;
    case PROP_TS:
      g_value_set_int64 (value, self->ts);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_room_entry_class_init (NatterRoomEntryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = natter_room_entry_dispose;
  object_class->finalize = natter_room_entry_finalize;
  object_class->get_property = natter_room_entry_get_property;

  properties[PROP_USER] =
    g_param_spec_object ("user", NULL, NULL, NATTER_TYPE_USER,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_BY] =
    g_param_spec_string ("by", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_REASON] =
    g_param_spec_string ("reason", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_TS] =
    g_param_spec_int64 ("ts", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
natter_room_entry_init (NatterRoomEntry *self)
{
}

NatterRoomEntry *
natter_room_entry_new (NatterUser *user,
                       const char *by,
                       const char *reason,
                       gint64      ts)
{
  NatterRoomEntry *self;

  g_return_val_if_fail (NATTER_IS_USER (user), NULL);

  self = g_object_new (NATTER_TYPE_ROOM_ENTRY, NULL);
  self->user = g_object_ref (user);
  self->by = g_strdup (by);
  self->reason = g_strdup (reason);
  self->ts = MAX (ts, 0);
  return self;
}

NatterUser *
natter_room_entry_get_user (NatterRoomEntry *self)
{
  g_return_val_if_fail (NATTER_IS_ROOM_ENTRY (self), NULL);
  return self->user;
}

const char *
natter_room_entry_get_by (NatterRoomEntry *self)
{
  g_return_val_if_fail (NATTER_IS_ROOM_ENTRY (self), NULL);
  return self->by;
}

const char *
natter_room_entry_get_reason (NatterRoomEntry *self)
{
  g_return_val_if_fail (NATTER_IS_ROOM_ENTRY (self), NULL);
  return self->reason;
}

gint64
natter_room_entry_get_ts (NatterRoomEntry *self)
{
  g_return_val_if_fail (NATTER_IS_ROOM_ENTRY (self), 0);
  return self->ts;
}
