/* natter-message-file-private.h: how the client core makes message files. */
#pragma once

#include <json-glib/json-glib.h>

#include "natter-message-file.h"

G_BEGIN_DECLS

/* A file object of a message (docs/protocol.md, "Sizes and values");
 * NULL when its id, size or sha256 is missing or invalid. */
NatterMessageFile *natter_message_file_new_from_json (JsonObject *obj);
/* A file of a message not sent yet: id 0, no hash. */
NatterMessageFile *natter_message_file_new_local     (const char *name,
                                                      gint64      size,
                                                      const char *mime);

G_END_DECLS
