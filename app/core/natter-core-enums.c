/* natter-core-enums.c: GTypes for the client core's enums. */
#define G_LOG_DOMAIN "natter-core"

#include "natter-core-enums.h"

G_DEFINE_ENUM_TYPE (NatterPresence, natter_presence,
  G_DEFINE_ENUM_VALUE (NATTER_PRESENCE_OFFLINE, "offline"),
  G_DEFINE_ENUM_VALUE (NATTER_PRESENCE_AWAY, "away"),
  G_DEFINE_ENUM_VALUE (NATTER_PRESENCE_BUSY, "busy"),
  G_DEFINE_ENUM_VALUE (NATTER_PRESENCE_ONLINE, "online"))

G_DEFINE_ENUM_TYPE (NatterClientState, natter_client_state,
  G_DEFINE_ENUM_VALUE (NATTER_CLIENT_STATE_DISCONNECTED, "disconnected"),
  G_DEFINE_ENUM_VALUE (NATTER_CLIENT_STATE_CONNECTING, "connecting"),
  G_DEFINE_ENUM_VALUE (NATTER_CLIENT_STATE_CONNECTED, "connected"),
  G_DEFINE_ENUM_VALUE (NATTER_CLIENT_STATE_AUTHENTICATING, "authenticating"),
  G_DEFINE_ENUM_VALUE (NATTER_CLIENT_STATE_READY, "ready"),
  G_DEFINE_ENUM_VALUE (NATTER_CLIENT_STATE_RECONNECTING, "reconnecting"),
  G_DEFINE_ENUM_VALUE (NATTER_CLIENT_STATE_UNTRUSTED, "untrusted"))

G_DEFINE_ENUM_TYPE (NatterMessageState, natter_message_state,
  G_DEFINE_ENUM_VALUE (NATTER_MESSAGE_STATE_SENDING, "sending"),
  G_DEFINE_ENUM_VALUE (NATTER_MESSAGE_STATE_SENT, "sent"),
  G_DEFINE_ENUM_VALUE (NATTER_MESSAGE_STATE_FAILED, "failed"))

G_DEFINE_ENUM_TYPE (NatterClientError, natter_client_error,
  G_DEFINE_ENUM_VALUE (NATTER_CLIENT_ERROR_CERTIFICATE_UNKNOWN, "certificate-unknown"),
  G_DEFINE_ENUM_VALUE (NATTER_CLIENT_ERROR_CERTIFICATE_CHANGED, "certificate-changed"),
  G_DEFINE_ENUM_VALUE (NATTER_CLIENT_ERROR_UNREACHABLE, "unreachable"),
  G_DEFINE_ENUM_VALUE (NATTER_CLIENT_ERROR_PROTOCOL, "protocol"),
  G_DEFINE_ENUM_VALUE (NATTER_CLIENT_ERROR_NOT_CONNECTED, "not-connected"),
  G_DEFINE_ENUM_VALUE (NATTER_CLIENT_ERROR_CLOSED, "closed"))

G_DEFINE_QUARK (natter-client-error-quark, natter_client_error)

G_DEFINE_ENUM_TYPE (NatterNotifyLevel, natter_notify_level,
  G_DEFINE_ENUM_VALUE (NATTER_NOTIFY_LEVEL_ALL, "all"),
  G_DEFINE_ENUM_VALUE (NATTER_NOTIFY_LEVEL_MENTIONS, "mentions"),
  G_DEFINE_ENUM_VALUE (NATTER_NOTIFY_LEVEL_NONE, "none"))

/* The enum's nicks are the wire names. */
const char *
natter_notify_level_to_string (NatterNotifyLevel level)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (NATTER_TYPE_NOTIFY_LEVEL);
  GEnumValue *value = g_enum_get_value (klass, level);

  return value != NULL ? value->value_nick : "all";
}

gboolean
natter_notify_level_from_string (const char        *name,
                                 NatterNotifyLevel *level)
{
  g_autoptr(GEnumClass) klass = NULL;
  GEnumValue *value;

  if (name == NULL)
    return FALSE;
  klass = g_type_class_ref (NATTER_TYPE_NOTIFY_LEVEL);
  value = g_enum_get_value_by_nick (klass, name);
  if (value == NULL)
    return FALSE;
  *level = value->value;
  return TRUE;
}
