/* natterd-directory.h: users, rooms, memberships and contacts held in
 * memory (loaded from the store at start, written through to it), who is
 * connected, and presence.
 *
 * Owned by the data/handlers side; the server core calls only what is
 * declared in the first block.
 */
#pragma once

#include "natterd-connection.h"
#include "natterd-server.h"

G_BEGIN_DECLS

/* --- called by the server core --- */

/* Loads everything it keeps in memory from @store (borrowed). */
NatterdDirectory *natterd_directory_new               (NatterdServer     *server,
                                                       NatterdStore      *store,
                                                       GError           **error);
/* Commits what is pending (sends waiting for their group commit) and answers
 * them; called once at shutdown before the store closes. */
void              natterd_directory_flush             (NatterdDirectory  *self);
void              natterd_directory_free              (NatterdDirectory  *self);
/* A connection that had a user is going away: update presence, last_seen. */
void              natterd_directory_connection_closed (NatterdDirectory  *self,
                                                       NatterdConnection *connection);
/* Users with at least one authenticated connection (the UDP probe). */
guint             natterd_directory_count_online      (NatterdDirectory  *self);

/* --- the rest is the data side's own --- */

#include "natterd-store.h"
#include "natterd-request.h"
#include "natterd-writer.h"
#include "natter-json.h"

typedef struct _NatterdRoom         NatterdRoom;
typedef struct _NatterdConversation NatterdConversation;
typedef struct _NatterdAuth         NatterdAuth;     /* natterd-auth.h */

typedef enum {
  NATTERD_CONTACT_NONE     = 0,
  NATTERD_CONTACT_ACCEPTED = 1,
  NATTERD_CONTACT_OUTGOING = 2, /* this user asked the other */
  NATTERD_CONTACT_INCOMING = 3, /* the other asked this user */
} NatterdContactState;

/* A token bucket: @capacity tokens, refilled evenly over @window_ms. */
typedef struct {
  double tokens;
  gint64 updated_ms;
  gboolean started;
} NatterdBucket;

/* 0 when a token was taken; else the milliseconds until one is available
 * (nothing is taken). A capacity of 0 means no limit. */
gint64 natterd_bucket_take (NatterdBucket *bucket, guint capacity, gint64 window_ms, gint64 now_ms);
/* Like take, but only looks. */
gint64 natterd_bucket_peek (NatterdBucket *bucket, guint capacity, gint64 window_ms, gint64 now_ms);

struct _NatterdUser {
  gint64          id;
  char           *username;       /* lower case */
  char           *display_name;
  char           *display_folded; /* display_name case-folded, for user_search */
  char           *password_hash;  /* argon2id, encoded */
  char           *status_text;    /* NULL: none */
  gint64          last_seen;      /* 0: never */

  GList          *connections;    /* intrusive links (natterd_connection_get_user_link) */
  guint           n_connections;
  NatterPresence  presence;       /* the most available of the connections' */

  GHashTable     *contacts;       /* NatterdUser* -> NatterdContactState */
  GPtrArray      *rooms;          /* NatterdRoom* this user is a member of */
  GHashTable     *directs;        /* peer NatterdUser* -> NatterdConversation* */

  guint64         mark;           /* de-duplicates recipients of one event */
  gboolean        last_seen_dirty;/* last_seen not yet written to the store */
  NatterdBucket   send_bucket;    /* messages_per_minute_per_user */
};

struct _NatterdConversation {
  gint64                   id;
  NatterdConversationKind  kind;
  NatterdRoom             *room;    /* ROOM */
  NatterdUser             *user_a;  /* DIRECT; a == b for notes to self */
  NatterdUser             *user_b;
};

struct _NatterdRoom {
  char                *name;        /* "#general" */
  char                *topic;       /* never NULL; "" when none */
  NatterdUser         *owner;
  NatterdConversation *conversation;
  GPtrArray           *members;     /* NatterdUser*, for fast fan-out */
  GHashTable          *member_index;/* NatterdUser* -> index in members + 1 */
};

struct _NatterdDirectory {
  NatterdServer *server;            /* borrowed */
  NatterdStore  *store;             /* borrowed */
  NatterdAuth   *auth;              /* owned */

  GHashTable    *users_by_name;     /* owns the users */
  GHashTable    *users_by_id;       /* gint64* -> NatterdUser* */
  GHashTable    *rooms;             /* name -> NatterdRoom*, owns them */
  GHashTable    *conversations;     /* gint64* -> NatterdConversation*, owns them */
  guint          n_online;
  guint64        mark_generation;

  /* The group commit of sends: the writer thread commits, the main loop
   * fans out. */
  NatterdWriter *writer;
  NatterdWriter *indexer;           /* writes search.db, never natter.db */
  guint          writer_pause_source; /* resumes the writer after a main-loop write */
  GQueue         deliveries;        /* PendingSend* committed, not yet fanned out and acked */
  GHashTable    *writes_in_flight;  /* NatterdConnection* -> InFlight (defer_read) */
  /* The search index, written in bulk behind the messages. */
  gint64         last_committed_id; /* newest message known committed */
  gint64         indexed_up_to;     /* the index is complete up to here */
  gboolean       index_queued;      /* an index job is with the indexer */
  guint          index_source;      /* indexes what waited too long */
  gboolean       index_rebuilding;  /* a big catch-up, logged when done */
  GQueue         waiting_searches;  /* Deferred (natterd_directory_defer_search) */
  NatterdRequest *resuming;         /* a deferred read being handled again */
  NatterdRequest *resuming_search;  /* ... and one that waited for the index */
  guint          delivery_source;

  guint          expire_source;     /* hourly removal of expired tokens */
  GPtrArray     *dirty_last_seen;   /* NatterdUser* whose last_seen waits to be written */
  gboolean       stopping;          /* shutting down: no presence fan-out as connections close */
  guint          last_seen_source;  /* writes them within a second */
};

/* Maximum size of a server frame (the contract's 4 MiB); pages are cut
 * short below it, with room left for the frame's own fields. */
#define NATTERD_MAX_SERVER_FRAME   (4 * 1024 * 1024)
#define NATTERD_PAGE_BUDGET        (NATTERD_MAX_SERVER_FRAME - 4096)
/* The search index is brought up to date when this many messages wait
 * for it, or when the oldest has waited NATTERD_INDEX_DELAY_MS, or when a
 * search needs it, whichever comes first. */
#define NATTERD_INDEX_BATCH        1024
#define NATTERD_INDEX_DELAY_MS     500
/* Messages indexed per transaction at most: a backlog (the index rebuilt
 * after an upgrade) goes in slices, so that memory stays bounded and a
 * search sees progress. */
#define NATTERD_INDEX_SLICE        16384
/* The indexer thread's nice value (natterd's own is 0). */
#define NATTERD_INDEX_NICE         10
/* Frames fanned out per main-loop dispatch at most, so that the writes of
 * the connections run in between and a big batch into a big room never
 * piles up gigabytes before the first byte leaves (about 64 MB queued at
 * most with 250-byte frames). Not much less either: each connection's
 * frames of one dispatch leave in one sendmsg, and at 65,536 a
 * 10,000-member room got 6 frames per sendmsg (1.44 M deliveries/s; 2.78 M
 * at this value, docs/performance.md). */
#define NATTERD_DELIVERY_BUDGET    262144

NatterdDirectory   *natterd_request_get_directory (NatterdRequest *request);
const NatterdConfig *natterd_directory_get_config (NatterdDirectory *self);

NatterdUser        *natterd_directory_find_user    (NatterdDirectory *self, const char *username);
NatterdUser        *natterd_directory_find_user_id (NatterdDirectory *self, gint64 id);
NatterdRoom        *natterd_directory_find_room    (NatterdDirectory *self, const char *room);
NatterdConversation *natterd_directory_find_conversation (NatterdDirectory *self, gint64 id);
/* Adds a user just stored (the store gave @id). */
NatterdUser        *natterd_directory_add_user     (NatterdDirectory *self,
                                                    gint64            id,
                                                    const char       *username,
                                                    const char       *display_name,
                                                    const char       *password_hash);

/* Read-your-writes on one connection: a request that reads messages
 * (history, sync, search, conversations) right after its connection's
 * sends must see them, but they commit on the writer's connection. Returns
 * TRUE when the connection still has writes in flight: @handler is then
 * called again with @request once they are committed. */
typedef void (*NatterdDeferredFunc) (NatterdRequest *request);
gboolean            natterd_directory_defer_read (NatterdDirectory    *self,
                                                  NatterdRequest      *request,
                                                  NatterdDeferredFunc  handler);
/* A write job that answers a request (a send, a read marker): embed it
 * first in the job's struct. While queued it holds the request's
 * connection and counts as that connection's write in flight. */
typedef struct {
  NatterdWriteJob    job;
  NatterdDirectory  *directory;
  NatterdRequest    *request;
  NatterdConnection *connection;  /* owned until natterd_request_write_clear */
  gboolean           in_flight;
} NatterdRequestWrite;

void                natterd_request_write_init  (NatterdRequestWrite  *self,
                                                 NatterdDirectory     *directory,
                                                 NatterdRequest       *request,
                                                 NatterdWriteRunFunc   run,
                                                 NatterdWriteDoneFunc  done);
/* Hands the (filled in) job to the writer thread. */
void                natterd_request_write_queue (NatterdRequestWrite  *self);
/* First thing in the job's done function: reads of the connection that
 * waited for it may go now. */
void                natterd_request_write_done  (NatterdRequestWrite  *self);
/* Done (if not yet) and releases the connection: when freeing the job. */
void                natterd_request_write_clear (NatterdRequestWrite  *self);

/* Search sees every message committed before it was asked: TRUE when the
 * index is behind; an index job is queued and @handler is called again
 * with @request once it is done. */
gboolean            natterd_directory_defer_search (NatterdDirectory    *self,
                                                    NatterdRequest      *request,
                                                    NatterdDeferredFunc  handler);

/* Stores a user's status text with the next group commit (no reply
 * waits for it; a failure is logged). @text NULL clears it. */
void                natterd_directory_store_status_text (NatterdDirectory *self,
                                                         NatterdUser      *user,
                                                         const char       *text);

/* Authentication state of a connection. */
void                natterd_directory_attach (NatterdDirectory  *self,
                                              NatterdConnection *connection,
                                              NatterdUser       *user,
                                              const guint8      *token_hash);
/* Logout: leaves the connection unauthenticated. */
void                natterd_directory_detach (NatterdDirectory  *self,
                                              NatterdConnection *connection);

/* Presence. @except is a connection not to tell (the one that caused the
 * change, which gets a reply instead); may be NULL. */
void                natterd_directory_update_presence (NatterdDirectory  *self,
                                                       NatterdUser       *user,
                                                       gboolean           force_push,
                                                       NatterdConnection *except);
gboolean            natterd_directory_can_see (NatterdUser *viewer, NatterdUser *user);
gboolean            natterd_directory_share_room (NatterdUser *a, NatterdUser *b);
/* Writes a user object as @viewer may see it (@viewer NULL: fully). */
void                natterd_directory_write_user (NatterJsonWriter *writer,
                                                  NatterdUser      *user,
                                                  NatterdUser      *viewer);

/* Sending events: @frame ends with '\n'. */
void                natterd_user_send (NatterdUser *user, GBytes *frame, NatterdConnection *except);
GBytes             *natterd_frame_finish (GString *frame);

/* Rooms and conversations. */
gboolean            natterd_room_has_member (NatterdRoom *room, NatterdUser *user);
void                natterd_room_add_member (NatterdRoom *room, NatterdUser *user);
void                natterd_room_remove_member (NatterdRoom *room, NatterdUser *user);
NatterdRoom        *natterd_directory_add_room (NatterdDirectory *self,
                                                gint64            conversation_id,
                                                const char       *name,
                                                const char       *topic,
                                                NatterdUser      *owner);
/* The direct conversation between two users, or NULL when none exists yet. */
NatterdConversation *natterd_directory_find_direct (NatterdDirectory *self,
                                                    NatterdUser      *a,
                                                    NatterdUser      *b);
/* Finds or creates (and stores) it; NULL with @error on a store failure. */
NatterdConversation *natterd_directory_ensure_direct (NatterdDirectory *self,
                                                      NatterdUser      *a,
                                                      NatterdUser      *b,
                                                      GError          **error);
/* The other user of a direct conversation (@user itself in a conversation
 * with oneself). */
NatterdUser        *natterd_conversation_peer    (NatterdConversation *conv,
                                                  NatterdUser         *user);
/* The conversation's name as @viewer sees it: the room's "#name", or the
 * peer's username for a direct conversation (without the '@'). */
const char         *natterd_conversation_address (NatterdConversation *conv,
                                                  NatterdUser         *viewer);
/* Writes "#room" or "@peer" as a JSON string. */
void                natterd_conversation_write_address (NatterJsonWriter    *writer,
                                                        NatterdConversation *conv,
                                                        NatterdUser         *viewer);
gboolean            natterd_conversation_has_member (NatterdConversation *conv,
                                                     NatterdUser         *user);
/* Calls @func for each member (once each). */
typedef void (*NatterdUserFunc) (NatterdUser *user, gpointer user_data);
void                natterd_conversation_foreach_member (NatterdConversation *conv,
                                                         NatterdUserFunc      func,
                                                         gpointer             user_data);

/* Encodes a stored message as @viewer sees it into @out (appends). */
void                natterd_directory_write_message (NatterdDirectory          *self,
                                                     GString                   *out,
                                                     const NatterdStoreMessage *message,
                                                     NatterdUser               *viewer);

/* A send the rate limit would refuse may be the resend of a stored
 * message (an outbox after a reconnect): then it is answered with the
 * original, as an unlimited send would be, and TRUE is returned. */
gboolean            natterd_directory_answer_resend (NatterdDirectory *self,
                                                     NatterdRequest   *request,
                                                     NatterdUser      *sender,
                                                     const char       *client_msg_id);

/* Queues a send for the group commit; the request is answered after the
 * commit. */
void                natterd_directory_queue_send (NatterdDirectory    *self,
                                                  NatterdRequest      *request,
                                                  NatterdUser         *sender,
                                                  NatterdConversation *conversation,
                                                  const char          *body,
                                                  gsize                body_len,
                                                  const char          *client_msg_id);

G_END_DECLS
