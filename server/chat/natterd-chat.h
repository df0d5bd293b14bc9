/* natterd-chat.h: the chat layer as a whole, as main.c starts it.
 *
 * Builds the directory (loaded from the store) and its pipelines, and
 * installs the chat layer on the server as its service
 * (natterd-service.h): the request table and the calls the network layer
 * makes back up.
 */
#pragma once

#include "natterd-directory.h"

G_BEGIN_DECLS

NatterdDirectory *natterd_chat_start (NatterdServer     *server,
                                      NatterdStore      *store,
                                      GError           **error);
/* After natterd_server_shutdown: waits for the hashes under way, commits
 * what is left, stops the threads and frees the directory. The store
 * stays open (the caller closes it). */
void              natterd_chat_stop  (NatterdDirectory  *directory);

G_END_DECLS
