/* natterd-message-object.h: the message object of the wire. */
#pragma once

#include "natterd-directory.h"

G_BEGIN_DECLS

/* The forms of the message object: which of the features that change it
 * a connection has on (docs/protocol.md: message actions' fields; with
 * files, "files" instead of a line per file in the body). A form is an
 * index below NATTERD_N_FORMS; a message without files reads the same
 * with NATTERD_FORM_FILES and without. */
#define NATTERD_FORM_ACTIONS 1
#define NATTERD_FORM_FILES   2
#define NATTERD_N_FORMS      4
guint    natterd_message_form      (NatterdConnection         *connection);
/* TRUE when @message reads differently with files than without: it has
 * files and is not deleted. */
gboolean natterd_message_has_files (const NatterdStoreMessage *message);

/* Appends the message object with its names already resolved: what the
 * writer thread can encode without touching the directory. @address is
 * the JSON value of "conversation" ("#room" or "@peer"), NULL for null;
 * @from NULL is null too. @files: the form with files. */
void    natterd_message_object_write     (GString                   *out,
                                          const NatterdStoreMessage *message,
                                          const char                *address,
                                          const char                *from,
                                          gboolean                   files);
/* The same with the fields of message actions (docs/protocol.md, "The
 * message object, with actions"): on the main loop, since reactions,
 * mentions and the quote name users from the directory. */
void    natterd_message_object_write_actions (NatterdDirectory          *directory,
                                              GString                   *out,
                                              const NatterdStoreMessage *message,
                                              const char                *address,
                                              const char                *from,
                                              gboolean                   files);
/* Appends a stored message as @viewer sees it (names looked up in the
 * directory; no allocation but for a message with files), in @form. */
void    natterd_message_object_write_for (NatterdDirectory          *self,
                                          GString                   *out,
                                          const NatterdStoreMessage *message,
                                          NatterdUser               *viewer,
                                          guint                      form);
/* A reply's quote of its original: at most this many bytes of its first
 * line. */
#define NATTERD_QUOTE_MAX_BYTES 200
/* A change as sync lists it, {"change":…,"kind":…,"by":…,"message":{…}}
 * (with "emoji" and "on" for a reaction), its message as @viewer sees it
 * with message actions (and with @files, in that form). */
void    natterd_change_object_write      (NatterdDirectory          *directory,
                                          GString                   *out,
                                          const NatterdStoreChange  *change,
                                          NatterdUser               *viewer,
                                          gboolean                   files);
/* The same fields in a "message_changed" event. */
GBytes *natterd_change_event             (NatterdDirectory          *directory,
                                          const NatterdStoreChange  *change,
                                          NatterdUser               *viewer,
                                          gboolean                   files);
/* The "message" event around an encoded message object. */
GBytes *natterd_message_object_event     (const GString             *object);

G_END_DECLS
