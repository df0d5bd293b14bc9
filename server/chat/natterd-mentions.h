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
 * longest prefix of the run that is someone's username. *@out_unknown
 * (may be NULL): whether some "@" followed by a name's worth of username
 * characters named no user. */
char *natterd_mentions_find (NatterdDirectory *directory,
                             const char       *body,
                             gsize             body_len,
                             gboolean         *out_unknown);

/* natterd_mentions_find() for a request that stores @body (send, edit):
 * FALSE when it now waits for a refresh of the directory and is handled
 * again from the start. That is when a mention names no user this node
 * knows while it may have missed another node's registrations (its bus
 * was down: natterd_cluster_directory_may_lag). Call it before anything
 * a second run must not do twice (the rate limit). */
gboolean natterd_mentions_find_for (NatterdRequest *request,
                                    const char     *body,
                                    gsize           body_len,
                                    char          **out_mentions);

G_END_DECLS
