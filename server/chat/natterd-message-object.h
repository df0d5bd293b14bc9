/* natterd-message-object.h: the message object of the wire. */
#pragma once

#include "natterd-directory.h"

G_BEGIN_DECLS

/* Appends the message object with its names already resolved: what the
 * writer thread can encode without touching the directory. @address is
 * the JSON value of "conversation" ("#room" or "@peer"), NULL for null;
 * @from NULL is null too. */
void    natterd_message_object_write     (GString                   *out,
                                          const NatterdStoreMessage *message,
                                          const char                *address,
                                          const char                *from);
/* The same with the fields of message actions (docs/protocol.md, "The
 * message object, with actions"): on the main loop, since reactions,
 * mentions and the quote name users from the directory. */
void    natterd_message_object_write_actions (NatterdDirectory          *directory,
                                              GString                   *out,
                                              const NatterdStoreMessage *message,
                                              const char                *address,
                                              const char                *from);
/* Appends a stored message as @viewer sees it (names looked up in the
 * directory; no allocation), with the fields of message actions when
 * @actions. */
void    natterd_message_object_write_for (NatterdDirectory          *self,
                                          GString                   *out,
                                          const NatterdStoreMessage *message,
                                          NatterdUser               *viewer,
                                          gboolean                   actions);
/* A reply's quote of its original: at most this many bytes of its first
 * line. */
#define NATTERD_QUOTE_MAX_BYTES 200
/* A change as sync lists it, {"change":…,"kind":…,"by":…,"message":{…}}
 * (with "emoji" and "on" for a reaction), its message as @viewer sees it
 * with message actions. */
void    natterd_change_object_write      (NatterdDirectory          *directory,
                                          GString                   *out,
                                          const NatterdStoreChange  *change,
                                          NatterdUser               *viewer);
/* The same fields in a "message_changed" event. */
GBytes *natterd_change_event             (NatterdDirectory          *directory,
                                          const NatterdStoreChange  *change,
                                          NatterdUser               *viewer);
/* The "message" event around an encoded message object. */
GBytes *natterd_message_object_event     (const GString             *object);

G_END_DECLS
