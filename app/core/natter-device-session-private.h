/* natter-device-session-private.h: made by the client core from a
 * "sessions" reply (natter-client-accounts.c). */
#pragma once

#include "natter-device-session.h"

G_BEGIN_DECLS

NatterDeviceSession *natter_device_session_new (const char *id,
                                                const char *device,
                                                const char *address,
                                                gint64      created,
                                                gint64      last_active,
                                                gboolean    current,
                                                guint       connections);

G_END_DECLS
