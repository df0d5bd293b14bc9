/* natterd-directory.h: users, rooms, memberships and contacts held in
 * memory (loaded from the store at start, written through to it), and the
 * hub every handler reaches from its request: the directory owns the
 * chat layer's pipelines (natterd-commit.h, natterd-search-feed.h,
 * natterd-auth.h) and keeps presence's state (natterd-presence.h).
 */
#pragma once

#include "natterd-config.h"
#include "natterd-connection.h"
#include "natterd-request.h"
#include "natterd-server.h"
#include "natterd-store.h"
#include "natterd-rate.h"
#include "natterd-token-bucket.h"
#include "natter-json.h"
#include "natter-validate.h"

G_BEGIN_DECLS

typedef struct _NatterdDirectory    NatterdDirectory;
typedef struct _NatterdUser         NatterdUser;
typedef struct _NatterdRoom         NatterdRoom;
typedef struct _NatterdConversation NatterdConversation;
typedef struct _NatterdAuth         NatterdAuth;        /* natterd-auth.h */
typedef struct _NatterdCommit       NatterdCommit;      /* natterd-commit.h */
typedef struct _NatterdSearchFeed   NatterdSearchFeed;  /* natterd-search-feed.h */
typedef struct _NatterdReads        NatterdReads;       /* natterd-reads.h */
typedef struct _NatterdCluster      NatterdCluster;     /* natterd-cluster.h */
typedef struct _NatterdRefresh      NatterdRefresh;     /* natterd-directory-refresh.h */

typedef enum {
  NATTERD_CONTACT_NONE     = 0,
  NATTERD_CONTACT_ACCEPTED = 1,
  NATTERD_CONTACT_OUTGOING = 2, /* this user asked the other */
  NATTERD_CONTACT_INCOMING = 3, /* the other asked this user */
} NatterdContactState;

struct _NatterdUser {
  gint64          id;
  char           *username;       /* lower case */
  char           *display_name;
  char           *display_folded; /* display_name case-folded, for user_search */
  char           *password_hash;  /* argon2id, encoded */
  char           *status_text;    /* NULL: none */
  gint64          last_seen;      /* 0: never */
  char           *avatar;         /* the picture's SHA-256 in hex, NULL: none (natterd-handlers-avatar.c) */

  GList          *connections;    /* NatterdConnection*, by their service links (natterd-session.c) */
  guint           n_connections;
  NatterPresence  presence;       /* the most available of the connections', on every node */
  NatterPresence  presence_here;  /* ... of this node's connections (natterd-cluster-presence.h) */

  GHashTable     *contacts;       /* NatterdUser* -> NatterdContactState */
  GPtrArray      *rooms;          /* NatterdRoom* this user is a member of */
  GHashTable     *directs;        /* peer NatterdUser* -> NatterdConversation* */
  GPtrArray      *invited;        /* NatterdRoom* with a pending invitation of this user (natterd-room-admin.h) */
  GHashTable     *blocked;        /* NatterdUser* this user blocks -> gint64* since (natterd-blocks.h); NULL: none */

  guint64         mark;           /* de-duplicates recipients of one event */
  gboolean        last_seen_dirty;/* last_seen not yet written to the store */
  guint64         local_stamp;    /* directory->local_stamp when its status text changed here (or came from another node) */
  NatterdTokenBucket send_bucket; /* messages_per_minute_per_user */
};

struct _NatterdConversation {
  gint64                   id;
  NatterdConversationKind  kind;
  NatterdRoom             *room;    /* ROOM */
  NatterdUser             *user_a;  /* DIRECT; a == b for notes to self */
  NatterdUser             *user_b;
  /* Writer jobs and deliveries that point at it (natterd_conversation_hold):
   * a deleted room's conversation and room are freed once none is left. */
  guint                    holds;
};

struct _NatterdRoom {
  char                *name;        /* "#general" */
  char                *topic;       /* never NULL; "" when none */
  NatterdUser         *owner;
  NatterdConversation *conversation;
  GPtrArray           *members;     /* NatterdUser*, for fast fan-out */
  GHashTable          *member_index;/* NatterdUser* -> index in members + 1 */

  /* Room management (natterd-room-admin.h); the tables are made when
   * first needed. */
  char                *display_name; /* NULL: none */
  gboolean             is_private;
  gboolean             deleted;      /* gone from the directory, kept for those who hold it */
  gboolean             erased;       /* ... and its deletion committed: freed with the last hold */
  GHashTable          *admins;       /* NatterdUser* members who are admins */
  GHashTable          *bans;         /* NatterdUser* -> NatterdRoomBan* */
  GHashTable          *invitations;  /* NatterdUser* -> NatterdRoomInvitation* */
};

struct _NatterdDirectory {
  NatterdServer     *server;        /* borrowed */
  NatterdStore      *store;         /* borrowed: the main loop's connection */

  /* The pipelines, owned (natterd-chat.c makes them). */
  NatterdAuth       *auth;
  NatterdCommit     *commit;
  NatterdSearchFeed *search_feed;
  NatterdReads      *reads;
  NatterdReads      *file_reads;    /* feature files: checks and downloads, apart from reads */
  guint              files_expiry;  /* its timeout */
  NatterdCluster    *cluster;       /* NULL: a single node */
  NatterdRefresh    *refresh;       /* NULL unless the store is shared */

  GHashTable    *users_by_name;     /* owns the users */
  GHashTable    *users_by_id;       /* gint64* -> NatterdUser* */
  GHashTable    *rooms;             /* name -> NatterdRoom*, owns them */
  GHashTable    *conversations;     /* gint64* -> NatterdConversation*, owns them */

  /* Presence (natterd-presence.c). */
  guint          n_online;
  guint64        mark_generation;   /* de-duplicates recipients of one event */
  GPtrArray     *dirty_last_seen;   /* NatterdUser* whose last_seen waits to be written */
  guint          last_seen_source;  /* writes them within a second */

  /* Requests being handled again (natterd-deferred.c): they have waited
   * their turn, so they must not be deferred again. */
  NatterdRequest *resuming;         /* after its connection's writes */
  NatterdRequest *resuming_search;  /* ... and after the search index */
  NatterdRequest *resuming_refreshed; /* ... after a refresh, having missed (natterd-directory-refresh.h) */

  /* Counts the changes of user fields made on this node (a status text):
   * a refresh that read the store before one was written leaves it alone. */
  guint64        local_stamp;

  /* Changes of rooms other nodes said they made (natterd-room-diff.h):
   * "conversation:user:kind" -> who, until a refresh has read them. */
  GHashTable    *room_changes_told;

  /* The last token revocation read from a shared store (natterd-directory-diff.h):
   * the refresh reads those after it. */
  gint64         revoked_up_to;

  /* Writes that change the directory, one at a time (natterd-model-write.c). */
  gboolean       model_write_busy;
  GQueue         model_waiting;     /* requests waiting for their turn */

  gboolean       stopping;          /* shutting down: no presence fan-out as connections close */

  NatterdRate    message_rate;      /* messages stored here, for natterctl status */

  /* Since natterd started, on this node, for the metrics (natterd-metrics.c);
   * counted on the main loop. */
  struct {
    guint64 logins_ok;      /* sign-ins answered ok: password, token, registration */
    guint64 logins_failed;  /* answered auth_failed: a wrong password or token, a disabled account */
    guint64 sends;          /* messages stored by a send (a resend answered with its original: not) */
    guint64 deliveries;     /* message events queued to a connection by the fan-out */
  } counts;
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

/* Loads everything it keeps in memory from @store (borrowed). */
NatterdDirectory   *natterd_directory_new  (NatterdServer     *server,
                                            NatterdStore      *store,
                                            GError           **error);
void                natterd_directory_free (NatterdDirectory  *self);

/* The directory of the chat layer that handles @request. */
NatterdDirectory   *natterd_directory_from_request (NatterdRequest *request);
const NatterdConfig *natterd_directory_get_config (NatterdDirectory *self);

NatterdUser        *natterd_directory_find_user    (NatterdDirectory *self, const char *username);
NatterdUser        *natterd_directory_find_user_id (NatterdDirectory *self, gint64 id);
NatterdRoom        *natterd_directory_find_room    (NatterdDirectory *self, const char *room);
NatterdConversation *natterd_directory_find_conversation (NatterdDirectory *self, gint64 id);
/* Adds a user just stored (the store gave @id); the one already there
 * when a refresh has added it first. */
NatterdUser        *natterd_directory_add_user     (NatterdDirectory *self,
                                                    gint64            id,
                                                    const char       *username,
                                                    const char       *display_name,
                                                    const char       *password_hash);

/* A request handled again when what it waited for is done. */
typedef void (*NatterdDeferredFunc) (NatterdRequest *request);

/* Sends an event (@frame ends with '\n') to each of @user's connections
 * but @except. */
void                natterd_user_send (NatterdUser *user, GBytes *frame, NatterdConnection *except);
/* The same in two forms: @plain to the connections without message
 * actions, @actions to those with them (natterd-features.h); a NULL form
 * is sent to nobody. */
void                natterd_user_send_forms (NatterdUser *user, GBytes *plain, GBytes *actions,
                                             NatterdConnection *except);
/* The same for any @feature (a NatterFeature bit): @without to the
 * connections without it, @with to those with it. */
void                natterd_user_send_feature_forms (NatterdUser *user, guint feature,
                                                     GBytes *without, GBytes *with,
                                                     NatterdConnection *except);

/* Sets @user's side of a contact and @other's side to match (OUTGOING
 * there is INCOMING here); NONE removes both. */
void                natterd_user_set_contact (NatterdUser *user, NatterdUser *other,
                                              NatterdContactState state);

/* Rooms and conversations. */
gboolean            natterd_room_has_member (NatterdRoom *room, NatterdUser *user);
void                natterd_room_add_member (NatterdRoom *room, NatterdUser *user);
void                natterd_room_remove_member (NatterdRoom *room, NatterdUser *user);
NatterdRoom        *natterd_directory_add_room (NatterdDirectory *self,
                                                gint64            conversation_id,
                                                const char       *name,
                                                const char       *topic,
                                                NatterdUser      *owner);
/* Takes a room and its conversation out of the directory (its name is
 * free again, its id found no more) before its deletion is written;
 * natterd_directory_restore_room() puts them back when the write failed,
 * natterd_directory_erase_room() says it committed: the room and its
 * conversation are then freed as soon as nothing holds them. */
void                natterd_directory_hide_room    (NatterdDirectory *self, NatterdRoom *room);
void                natterd_directory_restore_room (NatterdDirectory *self, NatterdRoom *room);
void                natterd_directory_erase_room   (NatterdDirectory *self, NatterdRoom *room);
/* A job that keeps @conv (may be NULL) past the main loop's turn holds it
 * (returned, for assignment) and releases it when done with it. */
NatterdConversation *natterd_conversation_hold    (NatterdConversation *conv);
void                natterd_conversation_release (NatterdConversation *conv);
/* The direct conversation between two users, or NULL when none exists yet. */
NatterdConversation *natterd_directory_find_direct (NatterdDirectory *self,
                                                    NatterdUser      *a,
                                                    NatterdUser      *b);
/* The one stored with @id (natterd_store_direct_ensure), added to the
 * directory unless it is there already (two sends to someone new, one
 * batch: both made or found the same row). */
NatterdConversation *natterd_directory_note_direct (NatterdDirectory *self,
                                                    gint64            id,
                                                    NatterdUser      *a,
                                                    NatterdUser      *b);
/* The other user of a direct conversation (@user itself in a conversation
 * with oneself). */
NatterdUser        *natterd_conversation_peer    (NatterdConversation *conv,
                                                  NatterdUser         *user);
/* The conversation's name as @viewer sees it: the room's "#name", or the
 * peer's username for a direct conversation (without the '@'). */
const char         *natterd_conversation_address (NatterdConversation *conv,
                                                  NatterdUser         *viewer);
/* "#room", or "@peer" as @viewer sees the conversation: the room's own
 * name, or "@peer" written into @buf. */
const char         *natterd_conversation_address_into (NatterdConversation *conv,
                                                       NatterdUser         *viewer,
                                                       char                 buf[NATTER_USERNAME_MAX + 2]);
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

G_END_DECLS
