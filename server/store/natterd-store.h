/* natterd-store.h: the storage layer's interface: everything natterd
 * keeps, behind functions a storage engine implements
 * (natterd-store-engine.h). The engines are SQLite, the embedded default
 * (natterd-store-sqlite.c: WAL, versioned schema, prepared statements
 * only), and PostgreSQL (natterd-store-pg.c), for a database several
 * nodes share. The chat layer sees only these types, never an engine's.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _NatterdStore NatterdStore;

/* Opens the store natterd is configured with: SQLite in DATA_DIR
 * (natter.db, creating and migrating it). Fails, naming the
 * file and the cause, when natter.db or search.db cannot be written (a
 * read-only file or directory): never deletes anything for that. */
NatterdStore *natterd_store_open  (const char  *data_dir,
                                   gboolean     synchronous_full,
                                   GError     **error);
/* Opens the database natterd is configured with ([storage] database):
 * @database "sqlite" (or NULL) is natterd_store_open() in @data_dir;
 * anything else is a PostgreSQL connection string (a "postgresql://" URI
 * or key=value pairs), with the password read from @password_file when it
 * is not NULL. A PostgreSQL server that does not answer is tried again,
 * each attempt logged, for up to NATTERD_STORE_CONNECT_RETRY_SECONDS; a
 * wrong password, a missing database or a newer schema fail at once. */
NatterdStore *natterd_store_open_database (const char  *database,
                                           const char  *password_file,
                                           const char  *data_dir,
                                           gboolean     synchronous_full,
                                           GError     **error);
#define NATTERD_STORE_CONNECT_RETRY_SECONDS 30
void          natterd_store_close (NatterdStore *self);

/* Errors of the store. CONSTRAINT is a UNIQUE violation the caller may
 * want to tell apart (a username or room name already taken); CORRUPT is
 * SQLite's SQLITE_CORRUPT or SQLITE_NOTADB, the only errors that prove a
 * file damaged (only then may a derived file such as search.db be made
 * again); UNAVAILABLE is a database server that cannot be reached (the
 * connection was lost, or is being made again): the call and the
 * transaction in progress failed, except that a COMMIT's outcome is then
 * unknown, and a later call may work; NOT_SUPPORTED is a call the engine
 * does not offer (natterd_store_backup on PostgreSQL); everything else is
 * FAILED. All of them but CONSTRAINT should be answered "internal". */
#define NATTERD_STORE_ERROR (natterd_store_error_quark ())
typedef enum {
  NATTERD_STORE_ERROR_FAILED,
  NATTERD_STORE_ERROR_CONSTRAINT,
  NATTERD_STORE_ERROR_CORRUPT,
  NATTERD_STORE_ERROR_UNAVAILABLE,
  NATTERD_STORE_ERROR_NOT_SUPPORTED,
} NatterdStoreError;
GQuark natterd_store_error_quark (void);

/* A second connection to the same database file, for another thread (the
 * writer: natterd-writer.h). WAL lets it commit while this one reads; a
 * write on one waits (busy timeout, 5 s) while the other holds the write
 * lock. Fails for an in-memory database. */
NatterdStore *natterd_store_open_sibling (NatterdStore  *self,
                                          GError       **error);
/* The search indexer's connection: search.db (the full-text index, a file
 * of its own next to the database) writable, the messages read-only in
 * effect; its transactions take no lock a message commit needs. The other
 * connections read search.db only. */
NatterdStore *natterd_store_open_indexer (NatterdStore  *self,
                                          GError       **error);
/* A connection for reads on another thread (natterd-reads.h): its
 * transactions (one per batch of reads) take no write lock and see what
 * was committed when they began. Fails for an in-memory database. */
NatterdStore *natterd_store_open_reader (NatterdStore  *self,
                                         GError       **error);
/* Called on the store's own thread before every statement that writes
 * (and before BEGIN IMMEDIATE); NULL removes it. natterd's main
 * connection uses it as a guard: every write goes through the writer
 * thread, and one on the main loop is a bug it reports. */
typedef void (*NatterdStoreWriteHook) (gpointer data);
void          natterd_store_set_write_hook (NatterdStore          *self,
                                            NatterdStoreWriteHook  hook,
                                            gpointer               data);
/* For a store whose thread must never wait for a connection to be made
 * (natterd's main loop): a lost connection to a database server is made
 * again on a thread of its own, and until it is there every call fails at
 * once with NATTERD_STORE_ERROR_UNAVAILABLE. Without it (the default) the
 * call that finds the connection lost makes it again itself, waiting up to
 * the connect timeout. Nothing to do for SQLite. */
void          natterd_store_set_reconnect_in_background (NatterdStore *self,
                                                         gboolean      in_background);
/* natter.db's path, for messages (":memory:" for an in-memory store). */
const char   *natterd_store_get_path (NatterdStore *self);
/* TRUE when other natterd nodes may change the database under this one
 * (PostgreSQL): what natterd holds in memory may then be behind it
 * (natterd-directory-refresh.h). A plain field of the engine: free. */
gboolean      natterd_store_is_shared (NatterdStore *self);
/* The schema version after migrations (PRAGMA user_version). */
int           natterd_store_get_schema_version (NatterdStore *self);

/* Explicit transactions. The group commit of sends keeps one open while
 * sends accumulate; anything else that writes must commit that batch first
 * (the directory does) so that no reply goes out for an uncommitted write. */
gboolean natterd_store_begin          (NatterdStore *self, GError **error);
gboolean natterd_store_commit         (NatterdStore *self, GError **error);
void     natterd_store_rollback       (NatterdStore *self);
gboolean natterd_store_in_transaction (NatterdStore *self);

/* A savepoint inside a transaction: the writer runs a job of several
 * statements (a room and its first member, an account and its token)
 * inside one, so that the job keeps all of its writes or none while the
 * rest of the batch commits. ROLLBACK goes back to it and ends it. */
typedef enum {
  NATTERD_STORE_SAVEPOINT_SET,
  NATTERD_STORE_SAVEPOINT_RELEASE,
  NATTERD_STORE_SAVEPOINT_ROLLBACK,
} NatterdStoreSavepoint;
gboolean natterd_store_savepoint (NatterdStore          *self,
                                  NatterdStoreSavepoint  action,
                                  GError               **error);

/* --- users --- */

typedef void (*NatterdStoreUserFunc) (gint64      id,
                                      const char *username,
                                      const char *display_name,
                                      const char *password_hash,
                                      const char *status_text,  /* may be NULL */
                                      gint64      last_seen,    /* 0: never */
                                      gpointer    user_data);

/* NATTERD_STORE_ERROR_CONSTRAINT when @username exists. */
gboolean natterd_store_user_insert          (NatterdStore *self,
                                             const char   *username,
                                             const char   *display_name,
                                             const char   *password_hash,
                                             gint64        created_ms,
                                             gint64       *out_id,
                                             GError      **error);
gboolean natterd_store_users_foreach        (NatterdStore         *self,
                                             NatterdStoreUserFunc  func,
                                             gpointer              user_data,
                                             GError              **error);
gboolean natterd_store_user_set_last_seen   (NatterdStore *self,
                                             gint64        user_id,
                                             gint64        last_seen,
                                             GError      **error);
gboolean natterd_store_user_set_status_text (NatterdStore *self,
                                             gint64        user_id,
                                             const char   *status_text, /* NULL clears */
                                             GError      **error);
/* Feature accounts: a new display name (profile_update). */
gboolean natterd_store_user_set_display_name (NatterdStore *self,
                                              gint64        user_id,
                                              const char   *display_name,
                                              GError      **error);
/* Feature accounts, account_delete: the user's row stays (its username
 * taken for ever) with @password_hash (a marker no password matches),
 * @display_name, no status text and no picture; its uploads in progress are made
 * stale, so that the next files expiry drops them with their chunks. */
gboolean natterd_store_user_delete (NatterdStore *self,
                                    gint64        user_id,
                                    const char   *password_hash,
                                    const char   *display_name,
                                    GError      **error);

/* --- avatars (feature accounts): a small picture per user, its bytes
 * as the user's app made them (natterd never decodes them), named by
 * their SHA-256 in lower-case hex. --- */

#define NATTERD_STORE_AVATAR_MAX_BYTES 32768

typedef void (*NatterdStoreAvatarFunc) (gint64      user_id,
                                        const char *sha256,
                                        gpointer    user_data);

/* @data NULL removes the user's picture. */
gboolean natterd_store_avatar_set      (NatterdStore  *self,
                                        gint64         user_id,
                                        GBytes        *data,
                                        const char    *sha256,
                                        GError       **error);
/* *@out and *@out_sha256 NULL when the user has none. */
gboolean natterd_store_avatar_get      (NatterdStore  *self,
                                        gint64         user_id,
                                        GBytes       **out,
                                        char         **out_sha256,
                                        GError       **error);
/* Which users have one (the directory keeps the hashes). */
gboolean natterd_store_avatars_foreach (NatterdStore           *self,
                                        NatterdStoreAvatarFunc  func,
                                        gpointer                user_data,
                                        GError                **error);

/* --- tokens: only SHA-256 hashes of them are stored --- */

#define NATTERD_TOKEN_HASH_LEN 32

gboolean natterd_store_token_insert  (NatterdStore *self,
                                      const guint8 *hash,
                                      gint64        user_id,
                                      gint64        expires_ms,
                                      GError      **error);
/* TRUE and the user when the token exists (expired or not: the caller
 * compares @out_expires_ms); FALSE without error when it does not. */
gboolean natterd_store_token_lookup  (NatterdStore *self,
                                      const guint8 *hash,
                                      gint64       *out_user_id,
                                      gint64       *out_expires_ms,
                                      GError      **error);
/* Feature accounts: the device name a login gave (NULL: none) and the
 * address it came from (a limit key, natterd-address.h), for the list of
 * the user's sessions. */
gboolean natterd_store_token_set_device (NatterdStore *self,
                                         const guint8 *hash,
                                         const char   *device,
                                         const char   *address,
                                         GError      **error);
gboolean natterd_store_token_delete  (NatterdStore *self,
                                      const guint8 *hash,
                                      GError      **error);
gboolean natterd_store_tokens_expire (NatterdStore *self,
                                      gint64        now_ms,
                                      GError      **error);

/* Tokens revoked (deleted by natterd_store_token_delete, as a logout
 * does) on a store other nodes share: each is noted with its user, under
 * an id that increases in commit order (PostgreSQL: the writer's
 * transactions, which alone delete tokens, lock the message counter from
 * BEGIN to COMMIT, so they commit one after the other), so that a node
 * that was not told over the bus can read what was revoked since the
 * last id it read. A note goes once its token would have expired
 * (natterd_store_tokens_expire). @func NULL: only *@out_last, the newest
 * id (0: none); else @func for each id above @after, in id order, and
 * *@out_last the last of them (@after when none). SQLite is one
 * process's: nothing is noted, *@out_last is @after. */
typedef void (*NatterdStoreRevokedFunc) (gint64        id,
                                         const guint8 *hash,
                                         gint64        user_id,
                                         gpointer      user_data);
gboolean natterd_store_tokens_revoked (NatterdStore            *self,
                                       gint64                   after,
                                       NatterdStoreRevokedFunc  func,
                                       gpointer                 user_data,
                                       gint64                  *out_last,
                                       GError                 **error);

/* --- what natterctl asks (chat/natterd-admin*.c): run on the reader
 * or the writer thread, never the main loop's connection --- */

/* How many messages are stored (deleted ones included), and the
 * database's size in bytes (SQLite: natter.db without its WAL;
 * PostgreSQL: pg_database_size). */
gboolean natterd_store_stats (NatterdStore *self,
                              gint64       *out_messages,
                              gint64       *out_bytes,
                              GError      **error);
/* natterctl backup: a consistent copy of the database, made while the
 * other connections go on reading and writing, at @dest_path (absolute),
 * mode 0600. Nothing is ever at @dest_path but the whole copy: it is
 * written to a temporary file beside it (removed on failure) and linked
 * into place at the end, and an existing @dest_path is never replaced
 * (G_IO_ERROR_EXISTS, also when it appears meanwhile). Other G_IO_ERRORs
 * name a folder that cannot be written. Takes as long as the copy does:
 * call on a thread of its own, never the main loop; it uses only the
 * store's path, from connections of its own, so any thread may call it
 * with any of the store's connections while others use them. Stops
 * between steps when @cancellable is (G_IO_ERROR_CANCELLED). @out_bytes:
 * the copy's size.
 * SQLite: natter.db only (search.db is made again from it at start), by
 * the online backup API in one read transaction (in WAL a reader holds
 * nothing a commit waits for, and the snapshot keeps commits during the
 * copy from restarting it), a slice of pages per step.
 * PostgreSQL: NATTERD_STORE_ERROR_NOT_SUPPORTED (pg_dump is the tool). */
gboolean natterd_store_backup (NatterdStore  *self,
                               const char    *dest_path,
                               GCancellable  *cancellable,
                               gint64        *out_bytes,
                               GError       **error);
/* @user_id's tokens, oldest first: @created_ms is 0 for a token made
 * before natterd noted it; @device and @address are NULL when no login
 * gave them (natterd_store_token_set_device). */
typedef void (*NatterdStoreTokenFunc) (const guint8 *hash,
                                       gint64        created_ms,
                                       gint64        expires_ms,
                                       const char   *device,
                                       const char   *address,
                                       gpointer      user_data);
gboolean natterd_store_tokens_of_user (NatterdStore          *self,
                                       gint64                 user_id,
                                       NatterdStoreTokenFunc  func,
                                       gpointer               user_data,
                                       GError               **error);
/* A new password hash (a reset), or the same locked or unlocked
 * (natterctl user disable and enable, natterd-admin-users.c). */
gboolean natterd_store_user_set_password_hash (NatterdStore *self,
                                               gint64        user_id,
                                               const char   *password_hash,
                                               GError      **error);
/* Invitation codes ([server] registration = invite). @expires_ms 0:
 * never. NATTERD_STORE_ERROR_CONSTRAINT when @code exists. */
gboolean natterd_store_invite_insert  (NatterdStore *self,
                                       const char   *code,
                                       gint64        uses,
                                       gint64        expires_ms,
                                       gint64        created_ms,
                                       GError      **error);
typedef void (*NatterdStoreInviteFunc) (const char *code,
                                        gint64      uses_left,
                                        gint64      expires_ms,
                                        gint64      created_ms,
                                        gpointer    user_data);
gboolean natterd_store_invites_foreach (NatterdStore           *self,
                                        NatterdStoreInviteFunc  func,
                                        gpointer                user_data,
                                        GError                **error);
gboolean natterd_store_invite_delete  (NatterdStore *self,
                                       const char   *code,
                                       gboolean     *out_found,
                                       GError      **error);
/* Takes one use of @code if it has one left and has not expired at
 * @now_ms (*out_ok), in one statement: two registrations with the last
 * use, on any nodes, cannot both have it. */
gboolean natterd_store_invite_consume (NatterdStore *self,
                                       const char   *code,
                                       gint64        now_ms,
                                       gboolean     *out_ok,
                                       GError      **error);

/* --- contacts: (a, b, PENDING) is a request from a to b; an accepted pair
 * is stored once as (min, max, ACCEPTED) --- */

typedef enum {
  NATTERD_STORE_CONTACT_PENDING  = 0,
  NATTERD_STORE_CONTACT_ACCEPTED = 1,
} NatterdStoreContactState;

typedef void (*NatterdStoreContactFunc) (gint64 a, gint64 b, int state, gpointer user_data);

gboolean natterd_store_contact_set      (NatterdStore *self,
                                         gint64        a,
                                         gint64        b,
                                         NatterdStoreContactState state,
                                         GError      **error);
/* What the rows between a and b say, from a's side: read inside a
 * transaction under a lock of the pair held until it ends, so that a
 * change decided on this answer and written in the same transaction
 * cannot cross another's change of the pair (PostgreSQL: a transaction
 * of another node that locks the same pair waits for this one's end, and
 * then reads what it committed; SQLite: one process, whose writer's
 * transactions already exclude each other). Both requests pending (left
 * by a version that decided on its own copy) reads as B_ASKED: asking
 * back, or accepting, makes them contacts. */
typedef enum {
  NATTERD_STORE_PAIR_NONE,
  NATTERD_STORE_PAIR_ACCEPTED,
  NATTERD_STORE_PAIR_A_ASKED,  /* a's request to b is pending */
  NATTERD_STORE_PAIR_B_ASKED,  /* b's request to a is pending */
} NatterdStoreContactPair;

gboolean natterd_store_contact_lock     (NatterdStore            *self,
                                         gint64                   a,
                                         gint64                   b,
                                         NatterdStoreContactPair *out_pair,
                                         GError                 **error);
/* Deletes every row between a and b, in either direction. */
gboolean natterd_store_contact_delete   (NatterdStore *self,
                                         gint64        a,
                                         gint64        b,
                                         GError      **error);
gboolean natterd_store_contacts_foreach (NatterdStore            *self,
                                         NatterdStoreContactFunc  func,
                                         gpointer                 user_data,
                                         GError                 **error);

/* --- blocks (feature accounts, docs/protocol.md "Blocking") --- */

/* @user_id blocks @blocked_id since @ts (ms). */
typedef void (*NatterdStoreBlockFunc) (gint64 user_id, gint64 blocked_id, gint64 ts, gpointer user_data);

/* Blocking an already blocked user keeps the first ts. */
gboolean natterd_store_block_set      (NatterdStore          *self,
                                       gint64                 user_id,
                                       gint64                 blocked_id,
                                       gint64                 ts,
                                       GError               **error);
gboolean natterd_store_block_delete   (NatterdStore          *self,
                                       gint64                 user_id,
                                       gint64                 blocked_id,
                                       GError               **error);
/* Every block, by user, oldest first. */
gboolean natterd_store_blocks_foreach (NatterdStore          *self,
                                       NatterdStoreBlockFunc  func,
                                       gpointer               user_data,
                                       GError               **error);

/* --- conversations, rooms, participants --- */

typedef enum {
  NATTERD_CONVERSATION_DIRECT = 0,
  NATTERD_CONVERSATION_ROOM   = 1,
} NatterdConversationKind;

typedef void (*NatterdStoreConversationFunc) (gint64      id,
                                              int         kind,
                                              gint64      user_a,     /* direct only */
                                              gint64      user_b,
                                              const char *room,       /* room only */
                                              const char *topic,
                                              gint64      owner_id,
                                              gpointer    user_data);
typedef void (*NatterdStoreParticipantFunc) (gint64   conversation_id,
                                             gint64   user_id,
                                             gpointer user_data);

/* The direct conversation between two users (a may equal b: notes to
 * self; the caller orders a <= b): its id, and when it did not exist yet
 * (nor by another node's doing), it is made, with both as participants.
 * Getting or making in one call lets a send to someone new make the
 * conversation in the send's own transaction. */
gboolean natterd_store_direct_ensure        (NatterdStore *self,
                                             gint64        user_a,
                                             gint64        user_b,
                                             gint64       *out_id,
                                             GError      **error);
/* CONSTRAINT when the name exists. */
gboolean natterd_store_room_insert          (NatterdStore *self,
                                             const char   *room,
                                             const char   *topic,
                                             gint64        owner_id,
                                             gint64        created_ms,
                                             gint64       *out_id,
                                             GError      **error);
gboolean natterd_store_room_set_topic       (NatterdStore *self,
                                             gint64        conversation_id,
                                             const char   *topic,
                                             GError      **error);
gboolean natterd_store_conversations_foreach (NatterdStore                 *self,
                                              NatterdStoreConversationFunc  func,
                                              gpointer                      user_data,
                                              GError                      **error);
gboolean natterd_store_participant_add      (NatterdStore *self,
                                             gint64        conversation_id,
                                             gint64        user_id,
                                             GError      **error);
gboolean natterd_store_participant_remove   (NatterdStore *self,
                                             gint64        conversation_id,
                                             gint64        user_id,
                                             GError      **error);
gboolean natterd_store_participants_foreach (NatterdStore                *self,
                                             NatterdStoreParticipantFunc  func,
                                             gpointer                     user_data,
                                             GError                     **error);
/* --- room management (feature room_management, docs/protocol.md) --- */

/* What natterd_store_room_rows_foreach() reads, one kind per row. */
typedef enum {
  NATTERD_ROOM_ROW_SETTINGS   = 0, /* a room with a display name or private: text, value (1 private) */
  NATTERD_ROOM_ROW_ADMIN      = 1, /* user_id is an admin of the room */
  NATTERD_ROOM_ROW_BAN        = 2, /* user_id banned by by_id: text (reason, may be NULL), value (ts) */
  NATTERD_ROOM_ROW_INVITATION = 3, /* user_id invited by by_id: value (ts) */
} NatterdRoomRowKind;

typedef void (*NatterdStoreRoomRowFunc) (NatterdRoomRowKind  kind,
                                         gint64              conversation_id,
                                         gint64              user_id,
                                         gint64              by_id,
                                         const char         *text,
                                         gint64              value,
                                         gpointer            user_data);

/* Every room's display name and privacy (those that have either), its
 * admins, bans and pending invitations: loaded at start. */
gboolean natterd_store_room_rows_foreach   (NatterdStore            *self,
                                            NatterdStoreRoomRowFunc  func,
                                            gpointer                 user_data,
                                            GError                 **error);
/* @display_name NULL: none. */
gboolean natterd_store_room_settings_set   (NatterdStore *self,
                                            gint64        conversation_id,
                                            const char   *display_name,
                                            gboolean      is_private,
                                            GError      **error);
/* A member's role: admin or not (the owner is the room's owner_id). */
gboolean natterd_store_room_role_set       (NatterdStore *self,
                                            gint64        conversation_id,
                                            gint64        user_id,
                                            gboolean      admin,
                                            GError      **error);
gboolean natterd_store_room_owner_set      (NatterdStore *self,
                                            gint64        conversation_id,
                                            gint64        owner_id,
                                            GError      **error);
/* @banned FALSE removes the ban (by_id, reason and ts are then unused). */
gboolean natterd_store_room_ban_set        (NatterdStore *self,
                                            gint64        conversation_id,
                                            gint64        user_id,
                                            gboolean      banned,
                                            gint64        by_id,
                                            const char   *reason,
                                            gint64        ts,
                                            GError      **error);
/* @invited FALSE removes the invitation. */
gboolean natterd_store_room_invitation_set (NatterdStore *self,
                                            gint64        conversation_id,
                                            gint64        user_id,
                                            gboolean      invited,
                                            gint64        by_id,
                                            gint64        ts,
                                            GError      **error);
/* The room and everything of it: members, bans, invitations, messages
 * and their changes, and (SQLite) the messages' words in the search
 * index, which its indexer forgets behind. The message ids it used are
 * never handed out again. */
gboolean natterd_store_room_delete         (NatterdStore *self,
                                            gint64        conversation_id,
                                            GError      **error);

/* Moves the read marker forward only, and never past the conversation's
 * last message. *out_up_to is the marker afterwards; *out_moved tells
 * whether it changed. */
gboolean natterd_store_read_marker_set      (NatterdStore *self,
                                             gint64        conversation_id,
                                             gint64        user_id,
                                             gint64        up_to,
                                             gint64       *out_up_to,
                                             gboolean     *out_moved,
                                             GError      **error);

/* --- messages --- */

/* Borrowed: valid only during the callback. The fields after
 * client_msg_id are the message actions' (docs/protocol.md, "Message
 * actions"): a row read from the store has them all (strings never NULL,
 * "" when empty); a message just inserted has reply_to and mentions, and
 * the quote only when the caller filled it in. */
typedef struct {
  gint64      id;
  gint64      conversation_id;
  gint64      sender_id;
  gint64      ts;
  const char *body;
  gsize       body_len;
  const char *client_msg_id;

  gint64      reply_to;       /* the message this one answers; 0: none */
  gint64      reply_from;     /* the original's sender (0: not read) */
  const char *reply_body;     /* the start of the original's current body
                               * (at least NATTERD_STORE_QUOTE_CHARS
                               * characters of it when longer); NULL: not read */
  gsize       reply_body_len;
  gboolean    reply_deleted;  /* the original is deleted */
  gint64      edited_ts;      /* the last edit's time; 0: never edited */
  gboolean    deleted;        /* body, reply_to, reactions, mentions erased */
  const char *reactions;      /* NATTERD_STORE_REACTIONS lines; NULL or "": none */
  const char *mentions;       /* user ids, separated by spaces; NULL or "": none */
  const char *files;          /* NATTERD_STORE_FILES lines (feature files); NULL or "": none */
  gint64      hidden_for;     /* the user it is hidden from (blocking); 0: nobody */
} NatterdStoreMessage;

/* A message's files (feature files, docs/protocol.md "send, with
 * files"), as the store keeps them in its row: one line per file, in the
 * order sent, each of tab-separated fields
 *   file size sha256 width height mime name
 *   preview_file preview_size preview_sha256 preview_width preview_height preview_mime
 * (width and height 0 when not given; preview_file 0 when there is no
 * preview, its other fields then 0 or empty). A name or a type holds no
 * tab or line break (the send's rules). Written once by the send, with
 * the size and hash of the stored file, and erased by a delete; reads
 * take it with the row, no join. The same ids are rows of message_files,
 * which downloads, quotas and freeing ask. */
typedef struct {
  gint64      file;          /* 0: none (a preview left out) */
  gint64      size;
  const char *sha256;        /* 64 characters, not NUL-terminated */
  gint64      width;         /* 0: not given */
  gint64      height;
  const char *mime;
  gsize       mime_len;
} NatterdStoreFileSpec;

typedef struct {
  NatterdStoreFileSpec  main;
  const char           *name;
  gsize                 name_len;
  NatterdStoreFileSpec  preview;
} NatterdStoreFileRef;

/* Reads the line at *@at into @out (pointing into the line) and moves
 * *@at past it; FALSE at the end, or at a line that does not parse. */
gboolean natterd_store_files_next (const char          **at,
                                   NatterdStoreFileRef  *out);
/* The ids a NATTERD_STORE_FILES text names, previews too, each once, in
 * the order they come: "{81,82}", an array literal of PostgreSQL's, and
 * into @out (gint64) when not NULL. */
char    *natterd_store_files_ids  (const char          *files,
                                   GArray              *out);

/* How much of a reply's original the reads bring (the wire's quote is at
 * most 200 bytes of its first line, cut by the encoder). */
#define NATTERD_STORE_QUOTE_CHARS 200

/* A message's reactions, as the store keeps them in its row: one line
 * per distinct reaction, in the order each was first added, each the
 * emoji then the ids of the users who chose it, in the order they did,
 * separated by single spaces ("👍 3 7\n🎉 7\n"). An emoji holds no white
 * space (natter_emoji_is_valid), so nothing needs escaping. Small (at most
 * 20 lines) and always read with the message: a table of its own would
 * cost every page of history a join and a grouping on both engines. */

/* A copy that outlives the callback, in one allocation: g_free it. */
NatterdStoreMessage *natterd_store_message_copy (const NatterdStoreMessage *message);

/* A stored change of a message (docs/protocol.md, "Changes and their
 * ids"): its id comes from the same sequence as message ids. */
typedef enum {
  NATTERD_CHANGE_EDIT     = 1,
  NATTERD_CHANGE_DELETE   = 2,
  NATTERD_CHANGE_REACTION = 3,
} NatterdChangeKind;

/* Borrowed: valid only during the callback. */
typedef struct {
  gint64              id;
  gint64              conversation_id;
  gint64              actor_id;
  gint64              ts;
  NatterdChangeKind   kind;
  const char         *emoji;    /* REACTION only; else NULL */
  gboolean            on;       /* REACTION: added (TRUE) or removed */
  NatterdStoreMessage message;  /* the changed message as it is now */
} NatterdStoreChange;

/* A copy that outlives the callback: natterd_store_change_free it. */
NatterdStoreChange  *natterd_store_change_copy (const NatterdStoreChange *change);
void                 natterd_store_change_free (NatterdStoreChange       *change);

typedef gboolean (*NatterdStoreChangeFunc) (const NatterdStoreChange *change,
                                            gpointer                  user_data);

/* What a change writes: the message's new state and the change's row. */
typedef struct {
  NatterdChangeKind  kind;
  gint64             message_id;
  gint64             conversation_id;
  gint64             actor_id;
  gint64             ts;
  const char        *body;       /* EDIT: the new body and its mentions */
  gsize              body_len;
  const char        *mentions;
  const char        *emoji;      /* REACTION: what changed, and the */
  gboolean           on;         /* message's reactions afterwards */
  const char        *reactions;
} NatterdStoreChangeWrite;

/* Return FALSE to stop the iteration. */
typedef gboolean (*NatterdStoreMessageFunc) (const NatterdStoreMessage *message,
                                             gpointer                   user_data);

/* Inserts a message, or, when (sender, client_msg_id) exists already,
 * finds that one instead (*out_duplicate). @func is called once with the
 * stored message either way, and *out_duplicate set before it: at once,
 * or, on PostgreSQL's writer connection (natterd_store_open_sibling), as
 * late as the commit, which writes the transaction's messages in one
 * statement; a failed commit calls it not at all. The message is not searchable until
 * natterd_store_search_index_catch_up() has run. */
gboolean natterd_store_message_insert (NatterdStore            *self,
                                       gint64                   conversation_id,
                                       gint64                   sender_id,
                                       const char              *body,
                                       gsize                    body_len,
                                       gint64                   ts,
                                       const char              *client_msg_id,
                                       gboolean                *out_duplicate,
                                       NatterdStoreMessageFunc  func,
                                       gpointer                 user_data,
                                       GError                 **error);
/* natterd_store_message_insert() with a reply (@reply_to: 0 for none;
 * the caller checked it, natterd_store_message_by_id), the message's
 * mentions (user ids separated by spaces; NULL for none) and its files
 * (NATTERD_STORE_FILES; NULL for none: the caller checked that the
 * sender may attach each, natterd_store_file_readable). A new message
 * with files also writes their message_files rows and ends the sender's
 * uploads of them (their bytes now count through the message); a resend
 * writes neither. @hidden_for (0: nobody) is the user of a direct
 * conversation who blocks the sender: every read of theirs leaves the
 * message out (natterd_store_history_as, sync, search, summaries,
 * changes). */
gboolean natterd_store_message_insert_full (NatterdStore            *self,
                                            gint64                   conversation_id,
                                            gint64                   sender_id,
                                            const char              *body,
                                            gsize                    body_len,
                                            gint64                   ts,
                                            const char              *client_msg_id,
                                            gint64                   reply_to,
                                            const char              *mentions,
                                            const char              *files,
                                            gint64                   hidden_for,
                                            gboolean                *out_duplicate,
                                            NatterdStoreMessageFunc  func,
                                            gpointer                 user_data,
                                            GError                 **error);
/* The message @id as it is now: @func is called once, or not at all. On
 * PostgreSQL's writer connection the messages queued in this transaction
 * are not seen (they have no id yet, so nobody can name one). */
gboolean natterd_store_message_by_id (NatterdStore            *self,
                                      gint64                   id,
                                      NatterdStoreMessageFunc  func,
                                      gpointer                 user_data,
                                      GError                 **error);
/* Stores a change the caller decided on (it read the message with
 * natterd_store_message_by_id in the same transaction): the message's row
 * takes its new state (an edit's body, words and mentions; a delete
 * erases the text, reactions, mentions and reply link, from the search
 * index too; a reaction's new list), and the change a row of its own
 * with the next id of the message sequence, *out_id. On PostgreSQL's
 * writer connection that row is queued with the messages and *out_id is
 * written at their flush (by the COMMIT at the latest): @out_id must stay
 * valid until then. */
gboolean natterd_store_change_insert (NatterdStore                  *self,
                                      const NatterdStoreChangeWrite *change,
                                      gint64                        *out_id,
                                      GError                       **error);
/* Oldest first, the changes with an id above @since in the conversations
 * @user_id takes part in, at most @limit, each with its message as it is
 * now. */
gboolean natterd_store_changes_since (NatterdStore            *self,
                                      gint64                   user_id,
                                      gint64                   since,
                                      gint64                   limit,
                                      NatterdStoreChangeFunc   func,
                                      gpointer                 user_data,
                                      GError                 **error);
/* Oldest first, every conversation, @after < id < @before, at most
 * @limit: the changes natterd_store_messages_between() does not read. */
gboolean natterd_store_changes_between (NatterdStore            *self,
                                        gint64                   after,
                                        gint64                   before,
                                        gint64                   limit,
                                        NatterdStoreChangeFunc   func,
                                        gpointer                 user_data,
                                        GError                 **error);
/* Whether @user_id takes part in the conversation (a member of the room,
 * one of the direct conversation's two), and whether they moderate it (a
 * room's owner or one of its admins): what a change of a message may do,
 * decided by the writer in the change's own transaction. */
gboolean natterd_store_participant_role (NatterdStore *self,
                                         gint64        conversation_id,
                                         gint64        user_id,
                                         gboolean     *out_participant,
                                         gboolean     *out_owner,
                                         GError      **error);
/* --- Files (feature files; docs/protocol.md "Files", docs/architecture.md) ---
 *
 * Bytes live in chunks of NATTERD_STORE_CHUNK_SIZE, rows of a blob: an
 * upload's blob id is its own id, and a file keeps the blob of the upload
 * that first stored its bytes (a file's id is that upload's id). Every
 * write is the writer thread's. */
#define NATTERD_STORE_CHUNK_SIZE 32768

/* How many chunks a file of @size bytes has, and the length of chunk
 * @index of it (the last one holds the remainder). */
static inline gint64
natterd_store_chunks_of (gint64 size)
{
  return (size + NATTERD_STORE_CHUNK_SIZE - 1) / NATTERD_STORE_CHUNK_SIZE;
}

static inline gsize
natterd_store_chunk_len (gint64 size,
                         gint64 index)
{
  return (gsize) MIN ((gint64) NATTERD_STORE_CHUNK_SIZE, size - index * NATTERD_STORE_CHUNK_SIZE);
}

typedef struct {
  gint64 id;
  gint64 user_id;
  gint64 size;
  gint64 touched;    /* ms: its start or its last chunk */
  gint64 file_id;    /* 0 while in progress */
  gint64 received;   /* chunks stored */
  char   sha256[65]; /* lower-case hex */
} NatterdStoreUpload;

/* @user_id's uploads in progress, and stored bytes (docs/protocol.md). */
gboolean natterd_store_upload_usage  (NatterdStore *self, gint64 user_id, gint64 *out_in_progress,
                                      gint64 *out_bytes, GError **error);
gboolean natterd_store_upload_insert (NatterdStore *self, gint64 user_id, gint64 size,
                                      const char *sha256, gint64 now_ms, gint64 *out_id,
                                      GError **error);
/* *out_found FALSE when no upload has @id. */
gboolean natterd_store_upload_get    (NatterdStore *self, gint64 id, NatterdStoreUpload *out,
                                      gboolean *out_found, GError **error);
/* Sets touched to @now_ms, the file when @file_id is not 0, and counts
 * @added more chunks received. */
gboolean natterd_store_upload_update (NatterdStore *self, gint64 id, gint64 now_ms, gint64 file_id,
                                      gint64 added, GError **error);
/* The upload's row, and its blob's chunks unless a file holds them. */
gboolean natterd_store_upload_delete (NatterdStore *self, gint64 id, GError **error);
/* Stores chunk @index of blob @blob_id unless it is there: *out_added. */
gboolean natterd_store_chunk_put     (NatterdStore *self, gint64 blob_id, gint64 index,
                                      const guint8 *data, gsize len, gboolean *out_added,
                                      GError **error);
/* The chunk numbers stored for @blob_id, ascending, appended (gint64). */
gboolean natterd_store_chunks_list   (NatterdStore *self, gint64 blob_id, GArray *out,
                                      GError **error);
/* Drops the chunks of @blob_id unless a file holds them. */
gboolean natterd_store_chunks_drop   (NatterdStore *self, gint64 blob_id, GError **error);
/* The file with that content: *out_id 0 when none. */
gboolean natterd_store_file_find     (NatterdStore *self, const char *sha256, gint64 *out_id,
                                      GError **error);
gboolean natterd_store_file_insert   (NatterdStore *self, gint64 id, const char *sha256, gint64 size,
                                      GError **error);
/* The size of file @file_id when @user_id may read it (their own upload
 * of it, or a message holding it in a conversation they take part in);
 * -1 when not, or when it does not exist. Its SHA-256 into
 * @out_sha256 (65 bytes) when that is not NULL and it may. */
gboolean natterd_store_file_readable (NatterdStore *self, gint64 file_id, gint64 user_id,
                                      gint64 *out_size, char *out_sha256, GError **error);
/* Deletes the uploads touched before @before_ms (with the chunks of
 * those in progress) and every file nothing refers to any more. Any
 * write that drops the last reference to a file (this, a delete of a
 * message, room_delete) frees the file in its transaction: its row and
 * chunks (PostgreSQL), its file of the data directory once the
 * transaction has committed (SQLite, unless a row names it again by
 * then). */
gboolean natterd_store_files_expire  (NatterdStore *self, gint64 before_ms, GError **error);
/* Reads blob @blob_id (@size bytes) a chunk at a time and tells whether
 * it hashes to @sha256. On SQLite the bytes also go to a file of the
 * data directory (files/ab/abcdef...: written, fsynced, renamed into
 * place only when they match), which the file's downloads read; file_insert
 * there drops the chunks. Reads only the database: any thread. */
gboolean natterd_store_blob_verify   (NatterdStore *self, gint64 blob_id, gint64 size,
                                      const char *sha256, gboolean *out_match, GError **error);
/* Chunk @index of file @file_id (NULL when there is none). */
gboolean natterd_store_file_chunk_get (NatterdStore *self, gint64 file_id, gint64 index,
                                       GBytes **out, GError **error);
/* SQLite: removes the files of the data directory no files row names
 * (a file freed by files_expire, a check cut short by a crash) once they
 * are 10 minutes old, so that one being made now is left alone.
 * PostgreSQL: nothing to do. */
gboolean natterd_store_files_sweep   (NatterdStore *self, GError **error);

/* How @user_id wants to hear of a conversation (docs/protocol.md,
 * notify_level); *out_changed is FALSE when it had that level already. */
typedef enum {
  NATTERD_NOTIFY_ALL      = 0,
  NATTERD_NOTIFY_MENTIONS = 1,
  NATTERD_NOTIFY_NONE     = 2,
} NatterdNotifyLevel;
gboolean natterd_store_notify_level_set (NatterdStore        *self,
                                         gint64               conversation_id,
                                         gint64               user_id,
                                         NatterdNotifyLevel   level,
                                         gboolean            *out_changed,
                                         GError             **error);
/* Adds up to @limit messages not yet in the search index to it, oldest
 * first, in one go (the index costs far less per message in bulk than one
 * message per commit: FTS5 writes a segment per transaction), and says up
 * to which message id the index is now complete. The index is search.db:
 * call on the indexer's connection (natterd_store_open_indexer), or on an
 * in-memory store; inside a transaction, or on its own. */
gboolean natterd_store_search_index_catch_up (NatterdStore  *self,
                                              guint          limit,
                                              gint64        *out_indexed_up_to,
                                              GError       **error);
/* How far the search index goes, and the newest message's id. The
 * index is complete up to an id when it holds every message and every
 * change (an edit's new words, a delete's erasure) up to it. */
gboolean natterd_store_search_index_state    (NatterdStore  *self,
                                              gint64        *out_indexed_up_to,
                                              gint64        *out_last_message_id,
                                              GError       **error);
/* The message (sender, client_msg_id), if stored: @func is called once, or
 * not at all. */
gboolean natterd_store_message_by_client_id (NatterdStore            *self,
                                             gint64                   sender_id,
                                             const char              *client_msg_id,
                                             NatterdStoreMessageFunc  func,
                                             gpointer                 user_data,
                                             GError                 **error);
/* Newest first, ids below @before (0: no bound), at most @limit. */
gboolean natterd_store_history        (NatterdStore            *self,
                                       gint64                   conversation_id,
                                       gint64                   before,
                                       gint64                   limit,
                                       NatterdStoreMessageFunc  func,
                                       gpointer                 user_data,
                                       GError                 **error);
/* Oldest first, every conversation, @after < id < @before, at most
 * @limit: what another node committed that this one missed on the bus
 * (natterd-stream.h). */
gboolean natterd_store_messages_between (NatterdStore            *self,
                                         gint64                   after,
                                         gint64                   before,
                                         gint64                   limit,
                                         NatterdStoreMessageFunc  func,
                                         gpointer                 user_data,
                                         GError                 **error);
/* Oldest first, every conversation @user_id takes part in, ids above
 * @since, at most @limit. */
gboolean natterd_store_sync           (NatterdStore            *self,
                                       gint64                   user_id,
                                       gint64                   since,
                                       gint64                   limit,
                                       NatterdStoreMessageFunc  func,
                                       gpointer                 user_data,
                                       GError                 **error);
/* natterd_store_history() or its _undeleted form (@skip_deleted) as
 * @viewer_id reads it: without the messages hidden from them (blocking).
 * The two above read as nobody. */
gboolean natterd_store_history_as     (NatterdStore            *self,
                                       gint64                   viewer_id,
                                       gint64                   conversation_id,
                                       gint64                   before,
                                       gint64                   limit,
                                       gboolean                 skip_deleted,
                                       NatterdStoreMessageFunc  func,
                                       gpointer                 user_data,
                                       GError                 **error);
/* history and sync without the deleted messages (what a connection
 * without message actions reads). sync, search, the summaries and the
 * changes leave out the messages hidden from @user_id. */
gboolean natterd_store_history_undeleted (NatterdStore            *self,
                                          gint64                   conversation_id,
                                          gint64                   before,
                                          gint64                   limit,
                                          NatterdStoreMessageFunc  func,
                                          gpointer                 user_data,
                                          GError                 **error);
gboolean natterd_store_sync_undeleted    (NatterdStore            *self,
                                          gint64                   user_id,
                                          gint64                   since,
                                          gint64                   limit,
                                          NatterdStoreMessageFunc  func,
                                          gpointer                 user_data,
                                          GError                 **error);
/* Newest first; @query is free text from the user (made safe here);
 * @conversation_id 0 searches every conversation of the user. Never a
 * deleted message, and an edited one only by its current words. */
gboolean natterd_store_search         (NatterdStore            *self,
                                       gint64                   user_id,
                                       const char              *query,
                                       gint64                   conversation_id,
                                       gint64                   limit,
                                       NatterdStoreMessageFunc  func,
                                       gpointer                 user_data,
                                       GError                 **error);
/* Words of this many letters or more match as prefixes. */
#define NATTERD_STORE_SEARCH_PREFIX_MIN 2

/* One row per conversation of @user_id, most recent first (conversations
 * without messages last). @last is the newest message that is not
 * deleted, NULL when there is none; @unread does not count deleted
 * messages. */
typedef void (*NatterdStoreSummaryFunc) (gint64                     conversation_id,
                                         gint64                     read_up_to,
                                         gint64                     unread,
                                         NatterdNotifyLevel         notify_level,
                                         const NatterdStoreMessage *last,
                                         gpointer                   user_data);
gboolean natterd_store_conversation_summaries (NatterdStore            *self,
                                               gint64                   user_id,
                                               NatterdStoreSummaryFunc  func,
                                               gpointer                 user_data,
                                               GError                 **error);

G_END_DECLS
