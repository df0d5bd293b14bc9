/* natterd-mentions.h: the users a message body names as "@username"
 * (docs/protocol.md, "The message object, with actions": mentions).
 */
#pragma once

#include "natterd-directory.h"

G_BEGIN_DECLS

/* Mentions a message keeps at most. */
#define NATTERD_MENTIONS_MAX 50

/* The ids of the existing users @body mentions, distinct, in the order of
 * their first mention, at most NATTERD_MENTIONS_MAX, separated by spaces
 * (the store's form); NULL when it mentions nobody. A mention is a '@' at
 * the start or after a character that is not a letter, digit, '_', '.',
 * '-' or '@', followed by a run of username characters; it names the
 * longest prefix of the run that is someone's username. */
char *natterd_mentions_find (NatterdDirectory *directory,
                             const char       *body,
                             gsize             body_len);

G_END_DECLS
