/* natterd-cluster-records.h: the records of a publish on the messages
 * channel (natterd-cluster.c): a message or a change of a message, each
 * with everything a node needs to tell its own connections without
 * reading the database (the message's reply quote and mentions; for a
 * change, the message as it is after it). Little-endian, as every
 * publish (natterd-cluster-wire.h):
 *
 *   a message:  'M', peer u64 (0: a room), then the message's state
 *   a change:   'C', change id u64, actor u64, ts u64, kind u8 (1 edit,
 *               2 delete, 3 reaction), on u8, emoji length u8, the emoji,
 *               then the message's state after the change
 *   the state:  id u64, conversation u64, sender u64, ts u64, reply_to
 *               u64, reply_from u64, edited_ts u64, flags u8 (1 deleted,
 *               2 the original of the reply is deleted, 4 the quote is
 *               there), body length u32, client_msg_id length u16, quote
 *               length u16, reactions length u32, mentions length u16,
 *               then the body, the client_msg_id, the quote (the start
 *               of the original's body, at most
 *               NATTERD_CLUSTER_RECORD_QUOTE_MAX bytes), the reactions
 *               (NATTERD_STORE_REACTIONS lines) and the mentions (user
 *               ids separated by spaces).
 *
 * A record's id is the message's or the change's: both come from one
 * sequence, and a publish holds its records in ascending id order.
 */
#pragma once

#include "natterd-store.h"

G_BEGIN_DECLS

/* The quote a record carries at most: more than the wire's quote of 200
 * bytes, which the encoder cuts on a character boundary from it. */
#define NATTERD_CLUSTER_RECORD_QUOTE_MAX 1024

/* What a record carries about a message beside its fields: the
 * conversation's other user, for the first message of a direct
 * conversation (0: a room, or not known). */
void     natterd_cluster_record_put_message (GByteArray                *out,
                                             const NatterdStoreMessage *m,
                                             gint64                     peer_id);
void     natterd_cluster_record_put_change  (GByteArray                *out,
                                             const NatterdStoreChange  *change);
/* About how many bytes the record of @m takes (to cut publishes). */
gsize    natterd_cluster_record_size        (const NatterdStoreMessage *m);

/* Called once per record read; @message or @change is set (borrowed for
 * the call). */
typedef void (*NatterdClusterRecordFunc) (gint64                     id,
                                          const NatterdStoreMessage *message,
                                          gint64                     peer_id,
                                          const NatterdStoreChange  *change,
                                          gpointer                   user_data);

/* Reads the records of @data (after the publish's header). FALSE at the
 * first record cut short, malformed or not above the one before: the
 * records before it were handed to @func. */
gboolean natterd_cluster_records_read       (const guint8             *data,
                                             gsize                     len,
                                             NatterdClusterRecordFunc  func,
                                             gpointer                  user_data);

G_END_DECLS
