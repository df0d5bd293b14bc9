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
/* Appends a stored message as @viewer sees it (names looked up in the
 * directory; no allocation). */
void    natterd_message_object_write_for (NatterdDirectory          *self,
                                          GString                   *out,
                                          const NatterdStoreMessage *message,
                                          NatterdUser               *viewer);
/* The "message" event around an encoded message object. */
GBytes *natterd_message_object_event     (const GString             *object);

G_END_DECLS
