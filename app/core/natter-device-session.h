/* natter-device-session.h: one of the user's sessions (a signed-in
 * device), as the feature accounts' "sessions" lists it
 * (docs/protocol.md, "Accounts"). Immutable: a new list is asked for to
 * see changes.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define NATTER_TYPE_DEVICE_SESSION (natter_device_session_get_type ())
G_DECLARE_FINAL_TYPE (NatterDeviceSession, natter_device_session, NATTER, DEVICE_SESSION, GObject)

/* The id natter_client_revoke_session_async() takes (16 hex digits). */
const char *natter_device_session_get_id          (NatterDeviceSession *self);
/* The device name given at sign-in, or NULL. */
const char *natter_device_session_get_device      (NatterDeviceSession *self);
/* Where it is connected from, as the server saw it, or NULL. */
const char *natter_device_session_get_address     (NatterDeviceSession *self);
/* Milliseconds since the epoch; 0: unknown. */
gint64      natter_device_session_get_created     (NatterDeviceSession *self);
gint64      natter_device_session_get_last_active (NatterDeviceSession *self);
/* TRUE for this client's own session. */
gboolean    natter_device_session_get_current     (NatterDeviceSession *self);
/* Connections signed in with it now. */
guint       natter_device_session_get_connections (NatterDeviceSession *self);

G_END_DECLS
