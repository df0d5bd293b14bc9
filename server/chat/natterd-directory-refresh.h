/* natterd-directory-refresh.h: how a node learns what other nodes changed
 * in a database they share.
 *
 * The directory (natterd-directory.h) is loaded at start and written
 * through by this node's own changes; on PostgreSQL other nodes change the
 * same tables. A refresh reads the directory's durable state again (users,
 * rooms, memberships, contacts, direct conversations) on the reader thread
 * and applies the difference on the main loop, telling the local clients
 * with the events the handlers send for the same change made here. It is
 * asked for by the cluster bus (another node says the directory changed,
 * or the bus reconnected), by a request that looks up what the directory
 * does not have (natterd_directory_refresh_wait), and every
 * [cluster] directory_refresh_ms as a safety net.
 *
 * On SQLite natterd is the database's only writer: none of this exists
 * (directory->refresh is NULL) and a miss is answered at once.
 */
#pragma once

#include "natterd-directory.h"

G_BEGIN_DECLS

/* [cluster] directory_refresh_ms's default: how often a node on a shared
 * store refreshes without being asked. */
#define NATTERD_DIRECTORY_REFRESH_MS_DEFAULT 30000

/* Makes self->refresh when the store is shared, with its timer. */
void     natterd_directory_refresh_init (NatterdDirectory *self);
/* At the end, once the pipelines are flushed (self->stopping is set). */
void     natterd_directory_refresh_free (NatterdDirectory *self);

/* Called after each run that read the store (@completed: how many runs
 * are done), on the main loop. */
typedef void (*NatterdRefreshDoneFunc) (NatterdDirectory *self,
                                        gint64            completed,
                                        gpointer          user_data);
void     natterd_directory_refresh_set_done_func (NatterdDirectory       *self,
                                                  NatterdRefreshDoneFunc  func,
                                                  gpointer                user_data);

/* Schedules a refresh, and returns the number of the run that will cover
 * this call (its read begins after it; 0 on SQLite). Coalesced: a call
 * while one reads the store makes exactly one more run after it; a call
 * before its read has begun is covered by it. Nothing on SQLite. */
gint64   natterd_directory_refresh      (NatterdDirectory *self);

/* For a request that looked up a username, room or conversation the
 * directory does not have: TRUE when it now waits for a refresh that reads
 * the store after this call, and is then handled again from the start
 * (its handler, from the dispatch table). FALSE when the miss is real: the
 * store is not shared, or the request has waited once already (it is
 * then answered not_found or the like, as on SQLite). */
gboolean natterd_directory_refresh_wait (NatterdDirectory *self,
                                         NatterdRequest   *request);

/* natterd-model-write.c, when the turn of the directory's writes is free:
 * TRUE when a refresh that waited for it has taken it. */
gboolean natterd_directory_refresh_take_turn (NatterdDirectory *self);

G_END_DECLS
