/* natter-core-enums.h: the enums of the client core, and their GTypes so
 * they can be GObject properties and be bound from .ui files.
 */
#pragma once

#include <glib-object.h>

#include "natter-validate.h"

G_BEGIN_DECLS

/* NatterPresence itself lives in protocol/natter-validate.h (OFFLINE < AWAY
 * < BUSY < ONLINE); this is only its GType. */
#define NATTER_TYPE_PRESENCE (natter_presence_get_type ())
GType natter_presence_get_type (void);

typedef enum {
  NATTER_CLIENT_STATE_DISCONNECTED,
  NATTER_CLIENT_STATE_CONNECTING,
  NATTER_CLIENT_STATE_CONNECTED,      /* welcome seen, not signed in */
  NATTER_CLIENT_STATE_AUTHENTICATING, /* signed in, syncing */
  NATTER_CLIENT_STATE_READY,          /* signed in and synced */
  NATTER_CLIENT_STATE_RECONNECTING,   /* lost the connection after READY; retrying */
  NATTER_CLIENT_STATE_UNTRUSTED,      /* signed in, but reconnecting met a certificate
                                       * other than the trusted one: stopped, with the
                                       * token, models and outbox kept, until the user
                                       * decides (natter_client_resume()) */
} NatterClientState;

#define NATTER_TYPE_CLIENT_STATE (natter_client_state_get_type ())
GType natter_client_state_get_type (void);

typedef enum {
  NATTER_MESSAGE_STATE_SENDING, /* in the outbox, not acknowledged yet */
  NATTER_MESSAGE_STATE_SENT,    /* stored by the server (has an id) */
  NATTER_MESSAGE_STATE_FAILED,  /* refused for good (not_found, forbidden, invalid_argument) */
} NatterMessageState;

#define NATTER_TYPE_MESSAGE_STATE (natter_message_state_get_type ())
GType natter_message_state_get_type (void);

/* How a conversation notifies (feature message_actions; kept on the
 * server, so it follows the user to their other devices). */
typedef enum {
  NATTER_NOTIFY_LEVEL_ALL,      /* every message from someone else */
  NATTER_NOTIFY_LEVEL_MENTIONS, /* messages that mention us or answer ours */
  NATTER_NOTIFY_LEVEL_NONE,
} NatterNotifyLevel;

#define NATTER_TYPE_NOTIFY_LEVEL (natter_notify_level_get_type ())
GType natter_notify_level_get_type (void);

/* The wire name of @level ("all", "mentions", "none"), and back (FALSE
 * for an unknown name). */
const char *natter_notify_level_to_string   (NatterNotifyLevel  level);
gboolean    natter_notify_level_from_string (const char        *name,
                                             NatterNotifyLevel *level);

#define NATTER_CLIENT_ERROR (natter_client_error_quark ())
GQuark natter_client_error_quark (void);

typedef enum {
  NATTER_CLIENT_ERROR_CERTIFICATE_UNKNOWN, /* not trusted by the system, not in known hosts */
  NATTER_CLIENT_ERROR_CERTIFICATE_CHANGED, /* differs from the fingerprint in known hosts */
  NATTER_CLIENT_ERROR_UNREACHABLE,         /* resolve, connect or TLS handshake failed */
  NATTER_CLIENT_ERROR_PROTOCOL,            /* the server broke the wire contract */
  NATTER_CLIENT_ERROR_NOT_CONNECTED,       /* a request needs a connection (or a sign-in) */
  NATTER_CLIENT_ERROR_CLOSED,              /* the connection closed before the reply came */
} NatterClientError;

#define NATTER_TYPE_CLIENT_ERROR (natter_client_error_get_type ())
GType natter_client_error_get_type (void);

G_END_DECLS
