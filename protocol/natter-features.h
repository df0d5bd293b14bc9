/* natter-features.h: the extensions of protocol 1 ("features",
 * docs/protocol.md, Session). The server lists the ones it offers in
 * welcome.features; a login or registration turns some on for its
 * connection. A connection's features are a bit mask of these.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  NATTER_FEATURE_MESSAGE_ACTIONS  = 1 << 0, /* replies, edits, deletes, reactions, mentions */
  NATTER_FEATURE_ROOM_MANAGEMENT  = 1 << 1, /* roles, private rooms, invitations, kicks, bans, deletion */
  NATTER_FEATURE_FILES            = 1 << 2, /* chunked uploads and downloads of files */
  NATTER_FEATURE_ACCOUNTS         = 1 << 3, /* password change, sessions (devices), display name */
} NatterFeature;

/* The names a request's "features" array may hold at most, and their
 * length in bytes. */
#define NATTER_FEATURES_MAX      16
#define NATTER_FEATURE_NAME_MAX  64

/* The features this build offers, in the server's order; NULL-terminated. */
extern const char *const natter_features_offered[];

/* The feature called @name, or 0 when none is. */
NatterFeature natter_feature_from_name (const char *name);
/* The name of one feature (a single bit). */
const char   *natter_feature_name      (NatterFeature feature);

G_END_DECLS
