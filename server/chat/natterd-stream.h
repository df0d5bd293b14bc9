/* natterd-stream.h: committed messages delivered in id order, whichever
 * node committed them.
 *
 * On PostgreSQL several nodes commit into one database, and message ids
 * increase in commit order across all of them (natterd-store-pg.c). A
 * client remembers the highest id it has seen and syncs from there after a
 * reconnect, so a node must hand its clients messages in id order: had it
 * delivered 25 (its own) before 22 (another node's, still on the bus), a
 * client that dropped in between would sync from 25 and never see 22.
 *
 * A stream receives runs of committed messages, each a range of ids
 * [first, last] with no id of another run inside (one transaction's
 * messages: the counter row is locked from its BEGIN to its COMMIT), from
 * this node's writer and from the bus, in any order, and delivers them in
 * id order. Ids may have holes (a transaction that failed after taking
 * some), so a run that does not follow the last delivered id may be
 * waiting for a run still on its way, or for nothing at all; after
 * @gap_wait_ms the stream asks its owner to read the gap from the
 * database, which is the truth: every id below a committed one is
 * committed or never will be. Nothing therefore rests on the bus: a run it
 * lost is read back, late but in order.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _NatterdStream NatterdStream;

/* Delivers @run's messages whose ids are @from_id or more (those below
 * were delivered already, from another source: a read of a gap that
 * overlapped it). Called once for every run handed in, in id order, also
 * when nothing of it is left to deliver (@from_id > its last id): the
 * owner then releases it (a node's own sends are acknowledged then). */
typedef void (*NatterdStreamDeliverFunc) (gpointer run,
                                          gint64   from_id,
                                          gpointer user_data);
/* Asks the owner to read the committed messages with @after < id <
 * @before and hand them in with natterd_stream_add_read(). One read at a
 * time. */
typedef void (*NatterdStreamReadFunc)    (NatterdStream *stream,
                                          gint64         after,
                                          gint64         before,
                                          gpointer       user_data);

/* @delivered_up_to: the last id committed when the node started (nothing
 * at or below it is delivered). */
NatterdStream *natterd_stream_new  (gint64                    delivered_up_to,
                                    guint                     gap_wait_ms,
                                    NatterdStreamDeliverFunc  deliver,
                                    NatterdStreamReadFunc     read,
                                    gpointer                  user_data);
/* Runs still held are delivered (what can be) and then released with
 * @from_id past their end. */
void           natterd_stream_free (NatterdStream *self);

/* A node that stops: delivers the runs that follow what was delivered,
 * and releases the rest (@from_id past their end) without delivering
 * them, since the gaps before them will not be filled now. */
void           natterd_stream_flush (NatterdStream *self);
/* Releases undelivered every run held that starts above
 * @committed_up_to (the database's last id: such a run was never
 * committed). Call while a read is under way, before its answer. */
void           natterd_stream_forget_beyond (NatterdStream *self,
                                             gint64         committed_up_to);

/* A run of committed messages with ids in [@first_id, @last_id]. */
void           natterd_stream_add  (NatterdStream *self,
                                    gint64         first_id,
                                    gint64         last_id,
                                    gpointer       run);
/* The answer to a read: @run holds the messages committed with @after <
 * id < @before (perhaps none: pass NULL). */
void           natterd_stream_add_read (NatterdStream *self,
                                        gint64         after,
                                        gint64         before,
                                        gpointer       run);
/* The answer to a read that stopped at a page's end: @run holds the
 * messages committed with @after < id <= @last_read; the rest of the gap
 * is asked for at once. */
void           natterd_stream_add_read_page (NatterdStream *self,
                                             gint64         after,
                                             gint64         last_read,
                                             gpointer       run);
/* Everything up to @committed_up_to is committed (the database said so):
 * whatever of it has not come in after the gap's wait is read. What a node calls when it may have missed bus traffic (the bus
 * reconnected) and now and then, since a lost run is otherwise noticed
 * only when a later one arrives. */
void           natterd_stream_catch_up (NatterdStream *self,
                                        gint64         committed_up_to);
/* The highest id delivered so far. */
gint64         natterd_stream_get_delivered_up_to (NatterdStream *self);
/* Reads of gaps so far (for tests and the bench). */
guint64        natterd_stream_get_reads (NatterdStream *self);

/* How long a gap waits for the bus before it is read from the database. */
#define NATTERD_STREAM_GAP_WAIT_MS 50

G_END_DECLS
