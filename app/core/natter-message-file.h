/* natter-message-file.h: one file of a message (feature files,
 * docs/protocol.md "Files"): what the server says of it, or, while the
 * message is still being sent, what this device knows of the local file.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define NATTER_TYPE_MESSAGE_FILE (natter_message_file_get_type ())
G_DECLARE_FINAL_TYPE (NatterMessageFile, natter_message_file, NATTER, MESSAGE_FILE, GObject)

/* The server's file id; 0 while the file is not uploaded yet. */
gint64             natter_message_file_get_id      (NatterMessageFile *self);
const char        *natter_message_file_get_name    (NatterMessageFile *self);
gint64             natter_message_file_get_size    (NatterMessageFile *self);
const char        *natter_message_file_get_mime    (NatterMessageFile *self);
/* 64 lower-case hex digits, or NULL while not known yet. */
const char        *natter_message_file_get_sha256  (NatterMessageFile *self);
/* An image's pixels as the sender measured them; 0 when not given. */
guint              natter_message_file_get_width   (NatterMessageFile *self);
guint              natter_message_file_get_height  (NatterMessageFile *self);
/* A smaller image made by the sender, or NULL. It has no name. */
NatterMessageFile *natter_message_file_get_preview (NatterMessageFile *self);

G_END_DECLS
