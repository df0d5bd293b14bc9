/* natterd-store-sqlite.c: the SQLite engine of natterd-store.h.
 *
 * One connection per SqliteStore, each used by one thread only (the main
 * loop's, and a sibling for the writer thread). WAL mode so that a commit
 * is one append and fsync; synchronous=FULL by default so that a commit that
 * returned survives a crash of the machine, not only of the process. The
 * schema is versioned with PRAGMA user_version and a list of migrations, each
 * applied in its own transaction. Every statement is prepared once at open
 * and reused.
 */
#define G_LOG_DOMAIN "natterd-store"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sqlite3.h>
#include <string.h>

#include <glib/gstdio.h>

#include "natterd-search-words.h"
#include "natterd-store-engine.h"
#include "natterd-store-sqlite.h"

typedef struct _SqliteStore SqliteStore;

static const NatterdStoreEngine sqlite_engine;


/* Each entry moves the schema from version i to i+1. Never edit one that
 * shipped: add a new one. */
static const char *const migrations[] = {
  /* 1: the first schema. */
  "CREATE TABLE users ("
  "  id            INTEGER PRIMARY KEY,"
  "  username      TEXT NOT NULL UNIQUE,"
  "  display_name  TEXT NOT NULL,"
  "  password_hash TEXT NOT NULL,"
  "  status_text   TEXT,"
  "  last_seen     INTEGER NOT NULL DEFAULT 0,"
  "  created       INTEGER NOT NULL"
  ");"
  "CREATE TABLE tokens ("
  "  hash    BLOB PRIMARY KEY,"
  "  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
  "  expires INTEGER NOT NULL"
  ") WITHOUT ROWID;"
  "CREATE INDEX tokens_expires ON tokens (expires);"
  "CREATE TABLE contacts ("
  "  a     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
  "  b     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
  "  state INTEGER NOT NULL,"
  "  PRIMARY KEY (a, b)"
  ") WITHOUT ROWID;"
  "CREATE TABLE conversations ("
  "  id     INTEGER PRIMARY KEY,"
  "  kind   INTEGER NOT NULL,"
  "  user_a INTEGER REFERENCES users (id),"
  "  user_b INTEGER REFERENCES users (id),"
  "  UNIQUE (user_a, user_b)"
  ");"
  "CREATE TABLE rooms ("
  "  conversation_id INTEGER PRIMARY KEY REFERENCES conversations (id),"
  "  name            TEXT NOT NULL UNIQUE,"
  "  topic           TEXT NOT NULL DEFAULT '',"
  "  owner_id        INTEGER NOT NULL REFERENCES users (id),"
  "  created         INTEGER NOT NULL"
  ");"
  "CREATE TABLE participants ("
  "  conversation_id INTEGER NOT NULL REFERENCES conversations (id),"
  "  user_id         INTEGER NOT NULL REFERENCES users (id),"
  "  read_up_to      INTEGER NOT NULL DEFAULT 0,"
  "  PRIMARY KEY (conversation_id, user_id)"
  ") WITHOUT ROWID;"
  "CREATE INDEX participants_user ON participants (user_id, conversation_id);"
  "CREATE TABLE messages ("
  "  id              INTEGER PRIMARY KEY,"
  "  conversation_id INTEGER NOT NULL REFERENCES conversations (id),"
  "  sender_id       INTEGER NOT NULL REFERENCES users (id),"
  "  ts              INTEGER NOT NULL,"
  "  body            TEXT NOT NULL,"
  "  client_msg_id   TEXT NOT NULL,"
  "  UNIQUE (sender_id, client_msg_id)"
  ");"
  "CREATE INDEX messages_conversation ON messages (conversation_id, id);"
  /* External content: the text lives once, in messages; the index is
   * written in the same transaction as the row. */
  "CREATE VIRTUAL TABLE messages_fts USING fts5 ("
  "  body, content='messages', content_rowid='id',"
  "  tokenize='unicode61 remove_diacritics 2'"
  ");",

  /* 2: the conversation index also carries the sender, so that counting
   * a conversation's unread messages (those from others) reads the index
   * only, never the rows with their bodies. */
  "CREATE INDEX messages_conversation_sender ON messages (conversation_id, id, sender_id);"
  "DROP INDEX messages_conversation;",

  /* 3: each message's place in its conversation (seq: 1, 2, 3, ...) and
   * among its sender's messages there (sender_seq), so that an unread
   * count is arithmetic on a few index entries: (last seq - seq at the
   * read marker) - (the reader's own last sender_seq - their sender_seq at
   * the marker). Counting the unread rows cost `conversations` 50 ms per
   * 1,000,000 unread (natter-client-bench, docs/performance.md). Messages
   * are never deleted, so neither has gaps. */
  "ALTER TABLE messages ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;"
  "ALTER TABLE messages ADD COLUMN sender_seq INTEGER NOT NULL DEFAULT 0;"
  "UPDATE messages SET seq = r.n, sender_seq = r.own FROM"
  "  (SELECT id,"
  "     row_number () OVER (PARTITION BY conversation_id ORDER BY id) AS n,"
  "     row_number () OVER (PARTITION BY conversation_id, sender_id ORDER BY id) AS own"
  "   FROM messages) AS r"
  "  WHERE messages.id = r.id;"
  "CREATE INDEX messages_conversation_seq ON messages (conversation_id, id, seq);"
  "CREATE INDEX messages_conversation_own ON messages (conversation_id, sender_id, id, sender_seq);"
  "DROP INDEX messages_conversation_sender;",

  /* 4: the search index is written in bulk, behind the messages (see
   * natterd_store_search_index_catch_up), and this row says how far it
   * has got. Until now every message was indexed as it was stored. */
  "CREATE TABLE search_state ("
  "  id            INTEGER PRIMARY KEY CHECK (id = 1),"
  "  indexed_up_to INTEGER NOT NULL"
  ");"
  "INSERT INTO search_state VALUES (1, (SELECT coalesce (max (id), 0) FROM messages));",

  /* 5: the search index moves to a database file of its own (search.db,
   * see ensure_search_db), written by a thread of its own: its bulk
   * inserts and FTS5's segment merges (up to 50 ms at a million messages)
   * held the write lock that every message commit needs. It is rebuilt
   * there from the messages, in the background. */
  "DROP TABLE messages_fts;"
  "DROP TABLE search_state;",

  /* 6: message actions (docs/protocol.md): replies, edits, deletes,
   * reactions (kept in the row, see NATTERD_STORE_REACTIONS in
   * natterd-store.h), mentions (user ids), notification levels. A change
   * is a row of its own in changes, small and without text (an edit's
   * text lives only in its message), whose id comes from the message
   * sequence: messages and changes take max (both tables) + 1, from the
   * writer, the only connection that writes them. search_removals holds
   * what the search index must forget (an edit's old words, a delete's),
   * written in the change's transaction and applied by the indexer
   * (natterd_store_search_index_catch_up); deleted messages are counted
   * out of the unread counts through their own small index. */
  "ALTER TABLE messages ADD COLUMN reply_to INTEGER;"
  "ALTER TABLE messages ADD COLUMN edited_ts INTEGER;"
  "ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;"
  "ALTER TABLE messages ADD COLUMN reactions TEXT NOT NULL DEFAULT '';"
  "ALTER TABLE messages ADD COLUMN mentions TEXT NOT NULL DEFAULT '';"
  "CREATE INDEX messages_deleted ON messages (conversation_id, id, sender_id) WHERE deleted = 1;"
  "CREATE TABLE changes ("
  "  id              INTEGER PRIMARY KEY,"
  "  conversation_id INTEGER NOT NULL,"
  "  actor_id        INTEGER NOT NULL,"
  "  ts              INTEGER NOT NULL,"
  "  kind            INTEGER NOT NULL,"
  "  target_id       INTEGER NOT NULL,"
  "  emoji           TEXT,"
  "  reaction_on     INTEGER NOT NULL DEFAULT 0"
  ");"
  "CREATE INDEX changes_conversation ON changes (conversation_id, id);"
  "CREATE TABLE search_removals ("
  "  id         INTEGER PRIMARY KEY," /* the change's */
  "  message_id INTEGER NOT NULL,"
  "  old_body   TEXT NOT NULL,"
  "  new_body   TEXT"                 /* NULL: deleted */
  ");"
  "ALTER TABLE participants ADD COLUMN notify_level INTEGER NOT NULL DEFAULT 0;",

  /* natterctl (docs/server.md): when each token was made, for `user
   * sessions` (0: made before this); invitation codes for [server]
   * registration = invite, each with the registrations it has left and
   * when it stops working (0: never). */
  "ALTER TABLE tokens ADD COLUMN created INTEGER NOT NULL DEFAULT 0;"
  "CREATE TABLE invites ("
  "  code      TEXT PRIMARY KEY,"
  "  uses_left INTEGER NOT NULL,"
  "  expires   INTEGER NOT NULL,"
  "  created   INTEGER NOT NULL"
  ");",

  /* Room management (docs/protocol.md, feature room_management): a
   * room's display name and privacy, a member's role (1: admin; the
   * owner stays rooms.owner_id), bans and pending invitations. */
  "ALTER TABLE rooms ADD COLUMN display_name TEXT;"
  "ALTER TABLE rooms ADD COLUMN is_private INTEGER NOT NULL DEFAULT 0;"
  "ALTER TABLE participants ADD COLUMN role INTEGER NOT NULL DEFAULT 0;"
  "CREATE TABLE room_bans ("
  "  conversation_id INTEGER NOT NULL,"
  "  user_id         INTEGER NOT NULL,"
  "  by_id           INTEGER NOT NULL,"
  "  reason          TEXT,"
  "  ts              INTEGER NOT NULL,"
  "  PRIMARY KEY (conversation_id, user_id)"
  ") WITHOUT ROWID;"
  "CREATE TABLE room_invitations ("
  "  conversation_id INTEGER NOT NULL,"
  "  user_id         INTEGER NOT NULL,"
  "  by_id           INTEGER NOT NULL,"
  "  ts              INTEGER NOT NULL,"
  "  PRIMARY KEY (conversation_id, user_id)"
  ") WITHOUT ROWID;",
  /* files (feature files, docs/architecture.md "Files"): uploads in
   * progress and files, their bytes as chunk rows of a blob (an upload's
   * id; a file keeps the blob of the upload that first stored it), and
   * which messages hold which files (sends with files fill it).
   * AUTOINCREMENT: an id is never reused, since a file takes its
   * upload's. */
  "CREATE TABLE uploads ("
  "  id      INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  user_id INTEGER NOT NULL,"
  "  size    INTEGER NOT NULL,"
  "  sha256  TEXT NOT NULL,"
  "  touched INTEGER NOT NULL,"
  "  file_id INTEGER,"
  "  received INTEGER NOT NULL DEFAULT 0"
  ");"
  "CREATE INDEX uploads_user ON uploads (user_id);"
  "CREATE INDEX uploads_touched ON uploads (touched);"
  "CREATE INDEX uploads_file ON uploads (file_id) WHERE file_id IS NOT NULL;"
  "CREATE TABLE blob_chunks ("
  "  blob_id INTEGER NOT NULL,"
  "  idx     INTEGER NOT NULL,"
  "  data    BLOB NOT NULL,"
  "  UNIQUE (blob_id, idx)"
  ");"
  "CREATE TABLE files ("
  "  id     INTEGER PRIMARY KEY,"
  "  sha256 TEXT NOT NULL UNIQUE,"
  "  size   INTEGER NOT NULL"
  ");"
  "CREATE TABLE message_files ("
  "  message_id      INTEGER NOT NULL,"
  "  file_id         INTEGER NOT NULL,"
  "  sender_id       INTEGER NOT NULL,"
  "  conversation_id INTEGER NOT NULL,"
  "  PRIMARY KEY (message_id, file_id)"
  ");"
  "CREATE INDEX message_files_file ON message_files (file_id, conversation_id);"
  "CREATE INDEX message_files_sender ON message_files (sender_id, file_id);",

  /* Feature accounts (docs/protocol.md, "Accounts"): the device name a
   * login gave and the address it came from, for `sessions`. */
  "ALTER TABLE tokens ADD COLUMN device TEXT;"
  "ALTER TABLE tokens ADD COLUMN address TEXT;",

  /* Files in messages (feature files): the files a message carries, as
   * its row keeps them (NATTERD_STORE_FILES in natterd-store.h), read
   * with the row; message_files (above) holds the same ids for
   * downloads, quotas and freeing. */
  "ALTER TABLE messages ADD COLUMN files TEXT NOT NULL DEFAULT '';",

  /* Feature accounts: a user's picture (avatar_set), at most
   * NATTERD_STORE_AVATAR_MAX_BYTES, apart from users so that loading
   * the directory never reads the bytes. */
  "CREATE TABLE avatars ("
  "  user_id INTEGER PRIMARY KEY,"
  "  sha256  TEXT NOT NULL,"
  "  data    BLOB NOT NULL"
  ");",
  /* Blocking (feature accounts, docs/protocol.md "Blocking"): who blocks
   * whom since when; a direct message sent to someone who blocks its
   * sender is stored hidden from them (hidden_for, their id; NULL for
   * every other message), and every read of theirs leaves it out. The
   * partial index counts the hidden ones out of an unread count. */
  "CREATE TABLE blocks ("
  "  user_id    INTEGER NOT NULL,"
  "  blocked_id INTEGER NOT NULL,"
  "  ts         INTEGER NOT NULL,"
  "  PRIMARY KEY (user_id, blocked_id)"
  ") WITHOUT ROWID;"
  "ALTER TABLE messages ADD COLUMN hidden_for INTEGER;"
  "CREATE INDEX messages_hidden ON messages (conversation_id, hidden_for, id) WHERE hidden_for IS NOT NULL;",
};

/* The search database: derived from the messages, and contentless (the
 * text lives once, in natter.db). Written with synchronous = FULL all the
 * same, one fsync per index batch: with NORMAL its dirty pages piled up in
 * the page cache, and an ext4 journal commit forced by the writer's next
 * fdatasync had to flush them first, stalling message commits for 200-600
 * ms now and then (natter-bench fanout --rate, docs/performance.md F15). */
static const char search_schema[] =
  "PRAGMA search.journal_mode = WAL;"
  "CREATE TABLE IF NOT EXISTS search.search_state ("
  "  id            INTEGER PRIMARY KEY CHECK (id = 1),"
  "  indexed_up_to INTEGER NOT NULL"
  ");"
  "INSERT OR IGNORE INTO search.search_state VALUES (1, 0);"
  /* The search_removals (in natter.db) applied to the index, up to
   * this change id: committed with the index, so that none is applied
   * twice (a contentless FTS5 'delete' of words it does not hold would
   * damage the index) and none is lost. */
  "CREATE TABLE IF NOT EXISTS search.removals_state ("
  "  id            INTEGER PRIMARY KEY CHECK (id = 1),"
  "  applied_up_to INTEGER NOT NULL"
  ");"
  "INSERT OR IGNORE INTO search.removals_state VALUES (1, 0);";

/* The index's own format, in search.db's user_version: an index of
 * another format is emptied, made again with this definition, and
 * refilled in the background. Version 1 adds prefix indexes of 2 and 3
 * characters, for prefix search (natterd_store_sqlite_fts_query): without them a
 * 2-letter prefix merged the doclists of every word it begins, 2 ms at a
 * million messages for a word in 1 of 20 of them, where with them it
 * reads one doclist newest first and stops at the page (0.07 ms). Longer
 * prefixes narrow quickly; one letter is not a prefix at all. The index
 * is 2.2 times the size (45 to 100 MB at a million messages). */
#define SEARCH_INDEX_VERSION 1
static const char search_index_make[] =
  "DROP TABLE IF EXISTS search.messages_fts;"
  "CREATE VIRTUAL TABLE search.messages_fts USING fts5 ("
  "  body, content='', prefix='2 3',"
  "  tokenize='unicode61 remove_diacritics 2'"
  ");"
  "UPDATE search.search_state SET indexed_up_to = 0;"
  "PRAGMA search.user_version = " G_STRINGIFY (SEARCH_INDEX_VERSION) ";";

/* How far the index goes, and the newest message's id. */
#define SEARCH_STATE_SQL                                      \
  "SELECT (SELECT indexed_up_to FROM search.search_state),"   \
  "       (SELECT coalesce (max (id), 0) FROM main.messages)"
/* An index ahead of the messages belongs to another history (a restored
 * backup rolled the ids back): start it again. */
static const char search_reset[] =
  "INSERT INTO search.messages_fts (messages_fts) VALUES ('delete-all');"
  "UPDATE search.search_state SET indexed_up_to = 0;";

typedef enum {
  STMT_BEGIN,
  STMT_BEGIN_DEFERRED,
  STMT_COMMIT,
  STMT_ROLLBACK,
  STMT_USER_INSERT,
  STMT_USERS_ALL,
  STMT_USER_LAST_SEEN,
  STMT_USER_STATUS,
  STMT_USER_DISPLAY_NAME,
  STMT_AVATAR_SET,
  STMT_AVATAR_DELETE,
  STMT_AVATAR_GET,
  STMT_AVATARS_ALL,
  STMT_USER_DELETE,
  STMT_USER_UPLOADS_STALE,
  STMT_TOKEN_INSERT,
  STMT_TOKEN_LOOKUP,
  STMT_TOKEN_DELETE,
  STMT_TOKENS_EXPIRE,
  STMT_CONTACT_SET,
  STMT_CONTACT_DELETE,
  STMT_CONTACT_PAIR,
  STMT_CONTACTS_ALL,
  STMT_DIRECT_FIND,
  STMT_DIRECT_INSERT,
  STMT_CONVERSATION_ROOM_INSERT,
  STMT_ROOM_INSERT,
  STMT_ROOM_TOPIC,
  STMT_CONVERSATIONS_ALL,
  STMT_PARTICIPANT_ADD,
  STMT_PARTICIPANT_REMOVE,
  STMT_PARTICIPANTS_ALL,
  STMT_READ_MARKER_SET,
  STMT_READ_MARKER_GET,
  STMT_MESSAGE_INSERT,
  STMT_SEARCH_INDEX_CATCH_UP,
  STMT_SEARCH_INDEX_MARK,
  STMT_SEARCH_INDEX_STATE,
  STMT_MESSAGE_BY_CLIENT_ID,
  STMT_HISTORY,
  STMT_MESSAGES_BETWEEN,
  STMT_HISTORY_BEFORE,
  STMT_SYNC_CONVERSATIONS,
  STMT_SYNC_IDS,
  STMT_MESSAGE_BY_ID,
  STMT_MESSAGES_RANGE,
  STMT_SEARCH,
  STMT_SEARCH_CONVERSATION,
  STMT_SUMMARIES,
  STMT_HISTORY_UNDELETED,
  STMT_HISTORY_BEFORE_UNDELETED,
  STMT_SYNC_IDS_UNDELETED,
  STMT_NEXT_ID,
  STMT_REMOVAL_INSERT,
  STMT_REMOVALS_TRIM,
  STMT_MESSAGE_EDIT,
  STMT_MESSAGE_ERASE,
  STMT_MESSAGE_REACTIONS,
  STMT_CHANGE_INSERT,
  STMT_CHANGES_SINCE,
  STMT_CHANGES_BETWEEN,
  STMT_NOTIFY_LEVEL_SET,
  STMT_REMOVALS_PENDING,
  STMT_FTS_DELETE,
  STMT_FTS_INSERT,
  STMT_REMOVALS_MARK,
  STMT_SEARCH_INDEX_TOP,
  STMT_PARTICIPANT_ROLE,
  STMT_STATS,
  STMT_TOKENS_OF_USER,
  STMT_TOKEN_SET_DEVICE,
  STMT_USER_PASSWORD_HASH,
  STMT_INVITE_INSERT,
  STMT_INVITES_ALL,
  STMT_INVITE_DELETE,
  STMT_INVITE_CONSUME,
  STMT_ROOM_ROWS_ALL,
  STMT_ROOM_SETTINGS,
  STMT_ROOM_ROLE,
  STMT_ROOM_OWNER,
  STMT_ROOM_BAN_ADD,
  STMT_ROOM_BAN_REMOVE,
  STMT_ROOM_INVITATION_ADD,
  STMT_ROOM_INVITATION_REMOVE,
  STMT_ROOM_DELETE_REMOVALS,
  STMT_ROOM_DELETE_MARKER,
  STMT_ROOM_DELETE_CHANGES,
  STMT_ROOM_DELETE_MESSAGES,
  STMT_ROOM_DELETE_PARTICIPANTS,
  STMT_ROOM_DELETE_BANS,
  STMT_ROOM_DELETE_INVITATIONS,
  STMT_ROOM_DELETE_ROOM,
  STMT_ROOM_DELETE_CONVERSATION,
  STMT_UPLOAD_USAGE,
  STMT_UPLOAD_INSERT,
  STMT_UPLOAD_GET,
  STMT_UPLOAD_UPDATE,
  STMT_UPLOAD_DELETE,
  STMT_CHUNK_PUT,
  STMT_CHUNK_GET,
  STMT_CHUNKS_LIST,
  STMT_CHUNKS_DROP,
  STMT_FILE_FIND,
  STMT_FILE_INSERT,
  STMT_FILE_CHUNKS_GONE,
  STMT_FILE_SHA256,
  STMT_FILE_READABLE,
  STMT_UPLOADS_EXPIRE_CHUNKS,
  STMT_UPLOADS_EXPIRE,
  STMT_FILES_FREE_CHUNKS,
  STMT_FILES_FREE,
  STMT_MESSAGE_FILES_DROP,
  STMT_MESSAGE_FILES_ADD,
  STMT_MESSAGE_FILES_UPLOADS_END,
  STMT_ROOM_DELETE_FILES,
  STMT_FILES_UNREFERENCED,
  STMT_BLOCK_SET,
  STMT_BLOCK_DELETE,
  STMT_BLOCKS_ALL,
  N_STMTS,
} StmtId;

/* A message row and its reply's original (r), in message_from_row's
 * order; every query that reads messages joins r with MESSAGE_REPLY. */
#define MESSAGE_COLUMNS                                                     \
  "m.id, m.conversation_id, m.sender_id, m.ts, m.body, m.client_msg_id,"    \
  " m.reply_to, m.edited_ts, m.deleted, m.reactions, m.mentions,"           \
  " r.sender_id, substr (r.body, 1, " G_STRINGIFY (NATTERD_STORE_QUOTE_CHARS) "), r.deleted, m.files,"  \
  " m.hidden_for"
#define MESSAGE_REPLY " LEFT JOIN main.messages r ON r.id = m.reply_to"
/* The ids of conversation ?1 hidden from user ?4 (blocking). */
#define SYNC_HIDDEN_SQL                                                      \
  " (SELECT h.id FROM messages h INDEXED BY messages_hidden"                 \
  "  WHERE h.conversation_id = ?1 AND h.hidden_for = ?4 AND h.id > ?2)"
/* The next id of the sequence messages and changes share. */
#define NEXT_ID_SQL                                                          \
  "(SELECT max (coalesce ((SELECT max (id) FROM main.messages), 0),"         \
  "             coalesce ((SELECT max (id) FROM main.changes), 0)) + 1)"
/* A change's columns before its message's (change_from_row). */
#define CHANGE_COLUMNS "c.id, c.conversation_id, c.actor_id, c.ts, c.kind, c.emoji, c.reaction_on, "

static const char *const stmt_sql[N_STMTS] = {
  /* Room management: the rows of natterd_store_room_rows_foreach, by kind. */
  [STMT_ROOM_ROWS_ALL] =
    "SELECT 0, conversation_id, 0, 0, display_name, is_private FROM rooms"
    " WHERE display_name IS NOT NULL OR is_private <> 0"
    " UNION ALL SELECT 1, conversation_id, user_id, 0, NULL, 0 FROM participants WHERE role = 1"
    " UNION ALL SELECT 2, conversation_id, user_id, by_id, reason, ts FROM room_bans"
    " UNION ALL SELECT 3, conversation_id, user_id, by_id, NULL, ts FROM room_invitations",
  [STMT_ROOM_SETTINGS] = "UPDATE rooms SET display_name = ?2, is_private = ?3 WHERE conversation_id = ?1",
  [STMT_ROOM_ROLE] = "UPDATE participants SET role = ?3 WHERE conversation_id = ?1 AND user_id = ?2",
  [STMT_ROOM_OWNER] = "UPDATE rooms SET owner_id = ?2 WHERE conversation_id = ?1",
  [STMT_ROOM_BAN_ADD] =
    "INSERT OR IGNORE INTO room_bans (conversation_id, user_id, by_id, reason, ts) VALUES (?1, ?2, ?3, ?4, ?5)",
  [STMT_ROOM_BAN_REMOVE] = "DELETE FROM room_bans WHERE conversation_id = ?1 AND user_id = ?2",
  [STMT_ROOM_INVITATION_ADD] =
    "INSERT OR IGNORE INTO room_invitations (conversation_id, user_id, by_id, ts) VALUES (?1, ?2, ?3, ?4)",
  [STMT_ROOM_INVITATION_REMOVE] = "DELETE FROM room_invitations WHERE conversation_id = ?1 AND user_id = ?2",
  /* A deleted room's words, for the indexer to take out of search.db
   * (contentless: it needs them), with ids from the message sequence
   * from ?2 on, as an edit's removal takes its change's id. */
  [STMT_ROOM_DELETE_REMOVALS] =
    "INSERT INTO search_removals (id, message_id, old_body, new_body)"
    " SELECT ?2 + row_number () OVER (ORDER BY id) - 1, id, body, NULL FROM messages"
    " WHERE conversation_id = ?1 AND deleted = 0",
  /* A change row no one reads (the room has no participants left) that
   * keeps the sequence past every id the room and its removals used:
   * an id a client has seen must never come back. */
  [STMT_ROOM_DELETE_MARKER] =
    "INSERT INTO changes (id, conversation_id, actor_id, ts, kind, target_id) VALUES (?2, ?1, 0, 0, 0, 0)",
  [STMT_ROOM_DELETE_CHANGES] = "DELETE FROM changes WHERE conversation_id = ?1",
  [STMT_ROOM_DELETE_MESSAGES] = "DELETE FROM messages WHERE conversation_id = ?1",
  [STMT_ROOM_DELETE_PARTICIPANTS] = "DELETE FROM participants WHERE conversation_id = ?1",
  [STMT_ROOM_DELETE_BANS] = "DELETE FROM room_bans WHERE conversation_id = ?1",
  [STMT_ROOM_DELETE_INVITATIONS] = "DELETE FROM room_invitations WHERE conversation_id = ?1",
  [STMT_ROOM_DELETE_ROOM] = "DELETE FROM rooms WHERE conversation_id = ?1",
  [STMT_ROOM_DELETE_CONVERSATION] = "DELETE FROM conversations WHERE id = ?1",
  [STMT_BEGIN] = "BEGIN IMMEDIATE",
  /* The indexer's: it reads main and writes only search. IMMEDIATE would
   * take the write lock of every attached database, main's included. */
  [STMT_BEGIN_DEFERRED] = "BEGIN",
  [STMT_COMMIT] = "COMMIT",
  [STMT_ROLLBACK] = "ROLLBACK",
  [STMT_USER_INSERT] =
    "INSERT INTO users (username, display_name, password_hash, created) VALUES (?1, ?2, ?3, ?4)",
  [STMT_USERS_ALL] =
    "SELECT id, username, display_name, password_hash, status_text, last_seen FROM users ORDER BY id",
  [STMT_USER_LAST_SEEN] = "UPDATE users SET last_seen = ?2 WHERE id = ?1",
  [STMT_USER_STATUS] = "UPDATE users SET status_text = ?2 WHERE id = ?1",
  [STMT_USER_DISPLAY_NAME] = "UPDATE users SET display_name = ?2 WHERE id = ?1",
  [STMT_AVATAR_SET] = "INSERT INTO avatars (user_id, sha256, data) VALUES (?1, ?2, ?3)"
                      " ON CONFLICT (user_id) DO UPDATE SET sha256 = excluded.sha256, data = excluded.data",
  [STMT_AVATAR_DELETE] = "DELETE FROM avatars WHERE user_id = ?1",
  [STMT_AVATAR_GET] = "SELECT sha256, data FROM avatars WHERE user_id = ?1",
  [STMT_AVATARS_ALL] = "SELECT user_id, sha256 FROM avatars",
  [STMT_USER_DELETE] =
    "UPDATE users SET password_hash = ?2, display_name = ?3, status_text = NULL WHERE id = ?1",
  [STMT_USER_UPLOADS_STALE] = "UPDATE uploads SET touched = 0 WHERE user_id = ?1 AND file_id IS NULL",
  [STMT_TOKEN_INSERT] = "INSERT INTO tokens (hash, user_id, expires, created) VALUES (?1, ?2, ?3, ?4)",
  /* natterctl's: rare, and none on a path a client waits on. */
  [STMT_STATS] =
    "SELECT (SELECT count (*) FROM main.messages),"
    "       (SELECT page_count * page_size FROM pragma_page_count (), pragma_page_size ())",
  [STMT_TOKENS_OF_USER] = "SELECT hash, created, expires, device, address FROM tokens WHERE user_id = ?1 ORDER BY created, hash",
  [STMT_TOKEN_SET_DEVICE] = "UPDATE tokens SET device = ?2, address = ?3 WHERE hash = ?1",
  [STMT_USER_PASSWORD_HASH] = "UPDATE users SET password_hash = ?2 WHERE id = ?1",
  [STMT_INVITE_INSERT] = "INSERT INTO invites (code, uses_left, expires, created) VALUES (?1, ?2, ?3, ?4)",
  [STMT_INVITES_ALL] = "SELECT code, uses_left, expires, created FROM invites ORDER BY created, code",
  [STMT_INVITE_DELETE] = "DELETE FROM invites WHERE code = ?1",
  [STMT_INVITE_CONSUME] =
    "UPDATE invites SET uses_left = uses_left - 1"
    " WHERE code = ?1 AND uses_left > 0 AND (expires = 0 OR expires > ?2)",
  [STMT_TOKEN_LOOKUP] = "SELECT user_id, expires FROM tokens WHERE hash = ?1",
  [STMT_TOKEN_DELETE] = "DELETE FROM tokens WHERE hash = ?1",
  [STMT_TOKENS_EXPIRE] = "DELETE FROM tokens WHERE expires <= ?1",
  [STMT_CONTACT_SET] = "INSERT OR REPLACE INTO contacts (a, b, state) VALUES (?1, ?2, ?3)",
  [STMT_CONTACT_DELETE] =
    "DELETE FROM contacts WHERE (a = ?1 AND b = ?2) OR (a = ?2 AND b = ?1)",
  [STMT_CONTACT_PAIR] =
    "SELECT a, state FROM contacts WHERE (a = ?1 AND b = ?2) OR (a = ?2 AND b = ?1)",
  [STMT_CONTACTS_ALL] = "SELECT a, b, state FROM contacts",
  [STMT_DIRECT_FIND] =
    "SELECT id FROM conversations WHERE user_a = ?1 AND user_b = ?2",
  [STMT_DIRECT_INSERT] =
    "INSERT INTO conversations (kind, user_a, user_b) VALUES (0, ?1, ?2)",
  [STMT_CONVERSATION_ROOM_INSERT] = "INSERT INTO conversations (kind) VALUES (1)",
  [STMT_ROOM_INSERT] =
    "INSERT INTO rooms (conversation_id, name, topic, owner_id, created) VALUES (?1, ?2, ?3, ?4, ?5)",
  [STMT_ROOM_TOPIC] = "UPDATE rooms SET topic = ?2 WHERE conversation_id = ?1",
  [STMT_CONVERSATIONS_ALL] =
    "SELECT c.id, c.kind, c.user_a, c.user_b, r.name, r.topic, r.owner_id"
    " FROM conversations c LEFT JOIN rooms r ON r.conversation_id = c.id ORDER BY c.id",
  [STMT_PARTICIPANT_ADD] =
    "INSERT OR IGNORE INTO participants (conversation_id, user_id) VALUES (?1, ?2)",
  [STMT_PARTICIPANT_REMOVE] =
    "DELETE FROM participants WHERE conversation_id = ?1 AND user_id = ?2",
  [STMT_PARTICIPANTS_ALL] = "SELECT conversation_id, user_id FROM participants",
  /* Forward only, and never past the last message of the conversation. */
  [STMT_READ_MARKER_SET] =
    "UPDATE participants SET read_up_to = min(?3,"
    "   coalesce((SELECT max(id) FROM messages WHERE conversation_id = ?1), 0))"
    " WHERE conversation_id = ?1 AND user_id = ?2 AND read_up_to < min(?3,"
    "   coalesce((SELECT max(id) FROM messages WHERE conversation_id = ?1), 0))",
  [STMT_READ_MARKER_GET] =
    "SELECT read_up_to FROM participants WHERE conversation_id = ?1 AND user_id = ?2",
  [STMT_MESSAGE_INSERT] =
    "INSERT INTO messages (id, conversation_id, sender_id, ts, body, client_msg_id, reply_to, mentions,"
    "                      files, hidden_for, seq, sender_seq)"
    " VALUES (" NEXT_ID_SQL ", ?1, ?2, ?3, ?4, ?5, nullif (?6, 0), coalesce (?7, ''), coalesce (?8, ''),"
    "   nullif (?9, 0),"
    "   coalesce ((SELECT l.seq FROM messages l WHERE l.conversation_id = ?1"
    "              ORDER BY l.id DESC LIMIT 1), 0) + 1,"
    "   coalesce ((SELECT o.sender_seq FROM messages o WHERE o.conversation_id = ?1"
    "              AND o.sender_id = ?2 ORDER BY o.id DESC LIMIT 1), 0) + 1)"
    " ON CONFLICT (sender_id, client_msg_id) DO NOTHING",
  [STMT_SEARCH_INDEX_CATCH_UP] =
    "INSERT INTO search.messages_fts (rowid, body)"
    " SELECT id, body FROM main.messages"
    " WHERE id > (SELECT indexed_up_to FROM search.search_state)"
    " ORDER BY id LIMIT ?1",
  /* The same rows as the insert: it runs first, in the same transaction. */
  [STMT_SEARCH_INDEX_MARK] =
    "UPDATE search.search_state SET indexed_up_to = coalesce ("
    "  (SELECT max (id) FROM (SELECT id FROM main.messages WHERE id > indexed_up_to"
    "                         ORDER BY id LIMIT ?1)), indexed_up_to)"
    " RETURNING indexed_up_to",
  [STMT_SEARCH_INDEX_STATE] = SEARCH_STATE_SQL,
  [STMT_MESSAGE_BY_CLIENT_ID] =
    "SELECT " MESSAGE_COLUMNS " FROM messages m" MESSAGE_REPLY " WHERE m.sender_id = ?1 AND m.client_msg_id = ?2",
  [STMT_HISTORY] =
    "SELECT " MESSAGE_COLUMNS " FROM messages m" MESSAGE_REPLY " WHERE m.conversation_id = ?1"
    " AND m.hidden_for IS NOT ?4 ORDER BY m.id DESC LIMIT ?2",
  [STMT_MESSAGES_BETWEEN] =
    "SELECT " MESSAGE_COLUMNS " FROM messages m" MESSAGE_REPLY " WHERE m.id > ?1 AND m.id < ?2 ORDER BY m.id LIMIT ?3",
  [STMT_HISTORY_BEFORE] =
    "SELECT " MESSAGE_COLUMNS " FROM messages m" MESSAGE_REPLY " WHERE m.conversation_id = ?1 AND m.id < ?3"
    " AND m.hidden_for IS NOT ?4 ORDER BY m.id DESC LIMIT ?2",
  /* Sync in three steps (see natterd_store_sync): the user's
   * conversations, the ids after "since" in each, then the rows. */
  [STMT_SYNC_CONVERSATIONS] = "SELECT conversation_id FROM participants WHERE user_id = ?1",
  /* The ids hidden from the reader (blocking) come from their own
   * partial index, once: the scan of the ids stays on the index alone. */
  [STMT_SYNC_IDS] =
    "SELECT id FROM messages INDEXED BY messages_conversation_seq"
    " WHERE conversation_id = ?1 AND id > ?2 AND id NOT IN" SYNC_HIDDEN_SQL " ORDER BY id LIMIT ?3",
  [STMT_MESSAGE_BY_ID] = "SELECT " MESSAGE_COLUMNS " FROM messages m" MESSAGE_REPLY " WHERE m.id = ?1",
  [STMT_MESSAGES_RANGE] =
    "SELECT " MESSAGE_COLUMNS " FROM messages m" MESSAGE_REPLY " WHERE m.id >= ?1 AND m.id <= ?2 ORDER BY m.id",
  /* ORDER BY the FTS rowid lets FTS5 walk its index newest first and stop
   * at the limit, instead of sorting every match. */
  [STMT_SEARCH] =
    "SELECT " MESSAGE_COLUMNS " FROM search.messages_fts f"
    " JOIN main.messages m ON m.id = f.rowid" MESSAGE_REPLY
    " WHERE messages_fts MATCH ?2 AND m.hidden_for IS NOT ?1 AND m.deleted = 0 AND m.conversation_id IN"
    "   (SELECT conversation_id FROM participants WHERE user_id = ?1)"
    " ORDER BY f.rowid DESC LIMIT ?3",
  [STMT_SEARCH_CONVERSATION] =
    "SELECT " MESSAGE_COLUMNS " FROM search.messages_fts f"
    " JOIN main.messages m ON m.id = f.rowid" MESSAGE_REPLY
    " WHERE messages_fts MATCH ?2 AND m.hidden_for IS NOT ?1 AND m.deleted = 0 AND m.conversation_id = ?4 AND m.conversation_id IN"
    "   (SELECT conversation_id FROM participants WHERE user_id = ?1)"
    " ORDER BY f.rowid DESC LIMIT ?3",
  /* The unread count is seq arithmetic (migration 3) on the newest
   * message, deleted or not (l), less the deleted messages of others
   * after the marker (their own partial index) and those hidden from the
   * reader (blocking: their partial index too); the last message shown
   * is the newest one not deleted (m). */
  [STMT_SUMMARIES] =
    "SELECT p.conversation_id, p.read_up_to,"
    "  coalesce ((SELECT l.seq FROM messages l WHERE l.conversation_id = p.conversation_id"
    "             ORDER BY l.id DESC LIMIT 1), 0)"
    "  - coalesce ((SELECT k.seq FROM messages k WHERE k.conversation_id = p.conversation_id"
    "               AND k.id <= p.read_up_to ORDER BY k.id DESC LIMIT 1), 0)"
    "  - coalesce ((SELECT o.sender_seq FROM messages o WHERE o.conversation_id = p.conversation_id"
    "               AND o.sender_id = ?1 ORDER BY o.id DESC LIMIT 1), 0)"
    "  + coalesce ((SELECT o.sender_seq FROM messages o WHERE o.conversation_id = p.conversation_id"
    "               AND o.sender_id = ?1 AND o.id <= p.read_up_to ORDER BY o.id DESC LIMIT 1), 0)"
    "  - (SELECT count (*) FROM messages d WHERE d.conversation_id = p.conversation_id AND d.deleted = 1"
    "     AND d.id > p.read_up_to AND d.sender_id <> ?1)"
    "  - (SELECT count (*) FROM messages h INDEXED BY messages_hidden WHERE h.conversation_id = p.conversation_id"
    "     AND h.hidden_for = ?1 AND h.id > p.read_up_to AND h.deleted = 0),"
    "  p.notify_level, " MESSAGE_COLUMNS
    " FROM participants p"
    " LEFT JOIN messages m ON m.id ="
    "   (SELECT max(id) FROM messages x WHERE x.conversation_id = p.conversation_id AND x.deleted = 0"
    "    AND x.hidden_for IS NOT ?1)"
    MESSAGE_REPLY
    " WHERE p.user_id = ?1"
    " ORDER BY m.id IS NULL, m.id DESC, p.conversation_id DESC",
  [STMT_HISTORY_UNDELETED] =
    "SELECT " MESSAGE_COLUMNS " FROM messages m" MESSAGE_REPLY " WHERE m.conversation_id = ?1 AND m.deleted = 0"
    " AND m.hidden_for IS NOT ?4 ORDER BY m.id DESC LIMIT ?2",
  [STMT_HISTORY_BEFORE_UNDELETED] =
    "SELECT " MESSAGE_COLUMNS " FROM messages m" MESSAGE_REPLY " WHERE m.conversation_id = ?1 AND m.id < ?3"
    " AND m.deleted = 0 AND m.hidden_for IS NOT ?4 ORDER BY m.id DESC LIMIT ?2",
  [STMT_SYNC_IDS_UNDELETED] =
    "SELECT id FROM messages INDEXED BY messages_conversation_seq"
    " WHERE conversation_id = ?1 AND id > ?2 AND deleted = 0 AND id NOT IN" SYNC_HIDDEN_SQL
    " ORDER BY id LIMIT ?3",
  [STMT_NEXT_ID] = "SELECT " NEXT_ID_SQL,
  /* What the index must forget of message ?2 (its body now), and learn
   * (?3, NULL for a delete): applied by the indexer, in change order. */
  [STMT_REMOVAL_INSERT] =
    "INSERT INTO search_removals (id, message_id, old_body, new_body)"
    " SELECT ?1, id, body, ?3 FROM messages WHERE id = ?2",
  /* Those the index has applied (its mark is in search.db). */
  [STMT_REMOVALS_TRIM] =
    "DELETE FROM search_removals WHERE id <= (SELECT applied_up_to FROM search.removals_state)",
  [STMT_MESSAGE_EDIT] =
    "UPDATE messages SET body = ?2, edited_ts = ?3, mentions = coalesce (?4, '') WHERE id = ?1",
  [STMT_MESSAGE_ERASE] =
    "UPDATE messages SET body = '', reply_to = NULL, edited_ts = NULL, reactions = '', mentions = '',"
    " files = '', deleted = 1 WHERE id = ?1",
  [STMT_MESSAGE_FILES_DROP] = "DELETE FROM message_files WHERE message_id = ?1",
  /* A new message's files (json_each reads the ids, an array literal
   * made JSON's): held by it, and no longer the sender's uploads. */
  [STMT_MESSAGE_FILES_ADD] =
    "INSERT OR IGNORE INTO message_files (message_id, file_id, sender_id, conversation_id)"
    " SELECT ?1, j.value, ?3, ?4 FROM json_each (?2) j",
  [STMT_MESSAGE_FILES_UPLOADS_END] =
    "DELETE FROM uploads WHERE user_id = ?2 AND file_id IN (SELECT j.value FROM json_each (?1) j)",
  [STMT_ROOM_DELETE_FILES] = "DELETE FROM message_files WHERE conversation_id = ?1",
  /* What a free is about to drop: its file of the data directory goes
   * after the commit (sqlite_commit). */
  [STMT_FILES_UNREFERENCED] =
    "SELECT sha256 FROM files f WHERE NOT EXISTS (SELECT 1 FROM uploads u WHERE u.file_id = f.id)"
    " AND NOT EXISTS (SELECT 1 FROM message_files mf WHERE mf.file_id = f.id)",
  [STMT_BLOCK_SET] = "INSERT OR IGNORE INTO blocks (user_id, blocked_id, ts) VALUES (?1, ?2, ?3)",
  [STMT_BLOCK_DELETE] = "DELETE FROM blocks WHERE user_id = ?1 AND blocked_id = ?2",
  [STMT_BLOCKS_ALL] = "SELECT user_id, blocked_id, ts FROM blocks ORDER BY user_id, ts, blocked_id",
  [STMT_MESSAGE_REACTIONS] = "UPDATE messages SET reactions = coalesce (?2, '') WHERE id = ?1",
  [STMT_CHANGE_INSERT] =
    "INSERT INTO changes (id, conversation_id, actor_id, ts, kind, target_id, emoji, reaction_on)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
  [STMT_CHANGES_SINCE] =
    "SELECT " CHANGE_COLUMNS MESSAGE_COLUMNS
    " FROM participants p JOIN changes c ON c.conversation_id = p.conversation_id AND c.id > ?2"
    " JOIN messages m ON m.id = c.target_id" MESSAGE_REPLY
    " WHERE p.user_id = ?1 AND m.hidden_for IS NOT ?1 ORDER BY c.id LIMIT ?3",
  [STMT_CHANGES_BETWEEN] =
    "SELECT " CHANGE_COLUMNS MESSAGE_COLUMNS
    " FROM changes c JOIN messages m ON m.id = c.target_id" MESSAGE_REPLY
    " WHERE c.id > ?1 AND c.id < ?2 ORDER BY c.id LIMIT ?3",
  [STMT_PARTICIPANT_ROLE] =
    "SELECT EXISTS (SELECT 1 FROM participants WHERE conversation_id = ?1 AND user_id = ?2),"
    " EXISTS (SELECT 1 FROM rooms WHERE conversation_id = ?1 AND owner_id = ?2)"
    " OR EXISTS (SELECT 1 FROM participants WHERE conversation_id = ?1 AND user_id = ?2 AND role = 1)",
  [STMT_UPLOAD_USAGE] =
    "SELECT (SELECT count (*) FROM uploads WHERE user_id = ?1 AND file_id IS NULL),"
    " (SELECT coalesce (sum (size), 0) FROM uploads WHERE user_id = ?1)"
    " + (SELECT coalesce (sum (f.size), 0) FROM files f"
    "    WHERE f.id IN (SELECT file_id FROM message_files WHERE sender_id = ?1))",
  [STMT_UPLOAD_INSERT] =
    "INSERT INTO uploads (user_id, size, sha256, touched) VALUES (?1, ?2, ?3, ?4)",
  [STMT_UPLOAD_GET] =
    "SELECT user_id, size, sha256, touched, coalesce (file_id, 0), received FROM uploads WHERE id = ?1",
  [STMT_UPLOAD_UPDATE] =
    "UPDATE uploads SET touched = ?2, file_id = coalesce (nullif (?3, 0), file_id), received = received + ?4"
    " WHERE id = ?1",
  [STMT_UPLOAD_DELETE] = "DELETE FROM uploads WHERE id = ?1",
  [STMT_CHUNK_PUT] = "INSERT OR IGNORE INTO blob_chunks (blob_id, idx, data) VALUES (?1, ?2, ?3)",
  [STMT_CHUNK_GET] = "SELECT data FROM blob_chunks WHERE blob_id = ?1 AND idx = ?2",
  [STMT_CHUNKS_LIST] = "SELECT idx FROM blob_chunks WHERE blob_id = ?1 ORDER BY idx",
  [STMT_CHUNKS_DROP] =
    "DELETE FROM blob_chunks WHERE blob_id = ?1 AND NOT EXISTS (SELECT 1 FROM files WHERE id = ?1)",
  [STMT_FILE_FIND] = "SELECT id FROM files WHERE sha256 = ?1",
  [STMT_FILE_INSERT] = "INSERT INTO files (id, sha256, size) VALUES (?1, ?2, ?3)",
  /* The file's bytes are on disk now (sqlite_blob_verify). */
  [STMT_FILE_CHUNKS_GONE] = "DELETE FROM blob_chunks WHERE blob_id = ?1",
  [STMT_FILE_SHA256] = "SELECT sha256, size FROM files WHERE id = ?1",
  [STMT_FILE_READABLE] =
    "SELECT f.size, f.sha256 FROM files f WHERE f.id = ?1"
    " AND (EXISTS (SELECT 1 FROM uploads u WHERE u.file_id = f.id AND u.user_id = ?2)"
    "      OR EXISTS (SELECT 1 FROM message_files mf JOIN participants p"
    "                 ON p.conversation_id = mf.conversation_id AND p.user_id = ?2"
    "                 WHERE mf.file_id = f.id))",
  [STMT_UPLOADS_EXPIRE_CHUNKS] =
    "DELETE FROM blob_chunks WHERE blob_id IN"
    " (SELECT id FROM uploads WHERE touched < ?1 AND file_id IS NULL)",
  [STMT_UPLOADS_EXPIRE] = "DELETE FROM uploads WHERE touched < ?1",
  [STMT_FILES_FREE_CHUNKS] =
    "DELETE FROM blob_chunks WHERE blob_id IN (SELECT id FROM files f WHERE NOT EXISTS (SELECT 1 FROM uploads u WHERE u.file_id = f.id) AND NOT EXISTS (SELECT 1 FROM message_files mf WHERE mf.file_id = f.id))",
  [STMT_FILES_FREE] = "DELETE FROM files AS f WHERE NOT EXISTS (SELECT 1 FROM uploads u WHERE u.file_id = f.id) AND NOT EXISTS (SELECT 1 FROM message_files mf WHERE mf.file_id = f.id)",
  [STMT_NOTIFY_LEVEL_SET] =
    "UPDATE participants SET notify_level = ?3"
    " WHERE conversation_id = ?1 AND user_id = ?2 AND notify_level <> ?3",
  /* The indexer's: the removals it has not applied, in change order. */
  [STMT_REMOVALS_PENDING] =
    "SELECT r.id, r.message_id, r.old_body, r.new_body FROM main.search_removals r"
    " WHERE r.id > (SELECT applied_up_to FROM search.removals_state) ORDER BY r.id",
  [STMT_FTS_DELETE] =
    "INSERT INTO search.messages_fts (messages_fts, rowid, body) VALUES ('delete', ?1, ?2)",
  [STMT_FTS_INSERT] = "INSERT INTO search.messages_fts (rowid, body) VALUES (?1, ?2)",
  [STMT_REMOVALS_MARK] = "UPDATE search.removals_state SET applied_up_to = max (applied_up_to, ?1)",
  /* Messages indexed up to; the first removal not applied (0: none); the
   * newest id of messages and changes. */
  [STMT_SEARCH_INDEX_TOP] =
    "SELECT (SELECT indexed_up_to FROM search.search_state),"
    "  coalesce ((SELECT min (id) FROM main.search_removals"
    "             WHERE id > (SELECT applied_up_to FROM search.removals_state)), 0),"
    "  (SELECT coalesce (max (id), 0) FROM main.messages),"
    "  " NEXT_ID_SQL " - 1",
};

/* What a connection is for: which database it may write. */
typedef enum {
  STORE_PRIMARY, /* the main loop's: migrates; search.db read-only */
  STORE_WRITER,  /* the writer thread's: search.db read-only */
  STORE_INDEXER, /* the indexer thread's: writes search.db only */
  STORE_READER,  /* the reader thread's: reads only; search.db read-only */
} StoreRole;

struct _SqliteStore {
  NatterdStore  parent;       /* engine: sqlite_engine */
  sqlite3      *db;
  sqlite3_stmt *stmts[N_STMTS];
  int           schema_version;
  StoreRole     role;
  NatterdStoreWriteHook write_hook; /* before any statement that writes */
  gpointer      write_hook_data;

  /* The WAL checkpointer: a thread with its own connection, so that
   * copying the WAL into the database (and its fsync) never stalls the
   * main loop the way SQLite's automatic checkpoint on commit would. */
  char         *path;
  gboolean      synchronous_full;
  GThread      *checkpointer;
  GMutex        checkpoint_mutex;
  GCond         checkpoint_cond;
  gboolean      checkpoint_stop;

  /* The SHA-256s of the files this transaction freed: their files of the
   * data directory go once it has committed (free_unreferenced). */
  GPtrArray    *freed;
};

/* How often the checkpointer runs. */
#define CHECKPOINT_INTERVAL_USEC (G_USEC_PER_SEC / 2)

static NatterdStoreError
error_code (int rc)
{
  switch (rc & 0xff)
    {
    case SQLITE_CONSTRAINT:
      return NATTERD_STORE_ERROR_CONSTRAINT;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return NATTERD_STORE_ERROR_CORRUPT;
    default:
      return NATTERD_STORE_ERROR_FAILED;
    }
}

static gboolean
set_error (SqliteStore *self,
           GError      **error,
           int           rc,
           const char   *what)
{
  g_set_error (error, NATTERD_STORE_ERROR, error_code (rc), "%s: %s", what,
               self->db ? sqlite3_errmsg (self->db) : sqlite3_errstr (rc));
  return FALSE;
}

/* A database file natterd cannot open, or cannot write: named, with the
 * cause and, for a matter of permissions (the usual case: the folder was
 * made, or natterd run once, by another user), what to check. */
static gboolean
set_open_error (GError     **error,
                int          rc,
                const char  *file,
                const char  *cause)
{
  g_autofree char *dir = g_path_get_dirname (file);
  g_autofree char *hint = NULL;

  if (rc == SQLITE_READONLY_DIRECTORY)
    hint = g_strdup_printf ("natterd cannot create files in %s: check the folder's owner and permissions", dir);
  else if ((rc & 0xff) == SQLITE_READONLY || (rc & 0xff) == SQLITE_CANTOPEN ||
           (rc & 0xff) == SQLITE_PERM || (rc & 0xff) == SQLITE_AUTH)
    hint = g_strdup_printf ("check the owner and permissions of %s, of its -wal and -shm files and of %s",
                            file, dir);

  if (hint != NULL)
    g_set_error (error, NATTERD_STORE_ERROR, error_code (rc),
                 "cannot open %s for writing: %s (%s)", file, cause, hint);
  else
    g_set_error (error, NATTERD_STORE_ERROR, error_code (rc), "cannot open %s: %s", file, cause);
  return FALSE;
}

/* SQLite opens a file it may not write read-only, without a word: every
 * write would fail later, one at a time. Checked at once instead. */
static gboolean
check_writable (SqliteStore  *self,
                const char    *schema,
                const char    *file,
                GError       **error)
{
  if (sqlite3_db_readonly (self->db, schema) != 1)
    return TRUE;
  g_set_error (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_FAILED,
               "cannot open %s for writing: attempt to write a readonly database "
               "(check the file's owner and permissions)", file);
  return FALSE;
}

/* Gets a reset statement with no bindings; runs the write hook first when
 * the statement writes. BEGIN IMMEDIATE takes the write lock, yet SQLite
 * counts transaction control as read-only: it is named here. */
static sqlite3_stmt *
stmt (SqliteStore *self,
      StmtId        id)
{
  sqlite3_stmt *s = self->stmts[id];

  if (self->write_hook != NULL && (id == STMT_BEGIN || !sqlite3_stmt_readonly (s)))
    self->write_hook (self->write_hook_data);

  sqlite3_reset (s);
  sqlite3_clear_bindings (s);
  return s;
}

/* Runs a statement that returns no rows. */
static gboolean
step_done (SqliteStore  *self,
           sqlite3_stmt  *s,
           const char    *what,
           GError       **error)
{
  int rc = sqlite3_step (s);

  sqlite3_reset (s);
  if (rc != SQLITE_DONE)
    return set_error (self, error, rc, what);
  return TRUE;
}

static gboolean
exec (SqliteStore  *self,
      const char    *sql,
      GError       **error)
{
  char *msg = NULL;
  int rc = sqlite3_exec (self->db, sql, NULL, NULL, &msg);

  if (rc != SQLITE_OK)
    {
      g_set_error (error, NATTERD_STORE_ERROR, error_code (rc),
                   "%s", msg ? msg : sqlite3_errstr (rc));
      sqlite3_free (msg);
      return FALSE;
    }
  return TRUE;
}

static gboolean
migrate (SqliteStore  *self,
         GError       **error)
{
  sqlite3_stmt *s = NULL;
  int version = 0, initial_version;

  if (sqlite3_prepare_v2 (self->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
    return set_error (self, error, sqlite3_errcode (self->db), "user_version");
  if (sqlite3_step (s) == SQLITE_ROW)
    version = sqlite3_column_int (s, 0);
  sqlite3_finalize (s);

  if (version > (int) G_N_ELEMENTS (migrations))
    {
      g_set_error (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_FAILED,
                   "database schema version %d is newer than this natterd knows (%d)",
                   version, (int) G_N_ELEMENTS (migrations));
      return FALSE;
    }

  initial_version = version;
  for (; version < (int) G_N_ELEMENTS (migrations); version++)
    {
      g_autofree char *bump = g_strdup_printf ("PRAGMA user_version = %d", version + 1);

      /* Said at message level: on a big database a migration can take
       * seconds (schema 3 rewrites every message: ~9 s per million). */
      if (initial_version > 0)
        g_message ("Updating the database to schema version %d", version + 1);
      if (!exec (self, "BEGIN IMMEDIATE", error))
        return FALSE;
      if (!exec (self, migrations[version], error) || !exec (self, bump, error))
        {
          exec (self, "ROLLBACK", NULL);
          g_prefix_error (error, "migration %d: ", version + 1);
          return FALSE;
        }
      if (!exec (self, "COMMIT", error))
        return FALSE;
      g_debug ("migrated the database to schema version %d", version + 1);
    }

  self->schema_version = version;
  return TRUE;
}

static gpointer
checkpointer_main (gpointer data)
{
  SqliteStore *self = data;
  sqlite3 *db = NULL;

  if (sqlite3_open_v2 (self->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
    {
      g_warning ("The WAL checkpointer could not open the database: %s",
                 db ? sqlite3_errmsg (db) : "out of memory");
      sqlite3_close_v2 (db);
      return NULL;
    }
  sqlite3_busy_timeout (db, 1000);
  sqlite3_exec (db, self->synchronous_full ? "PRAGMA synchronous = FULL"
                                           : "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);

  g_mutex_lock (&self->checkpoint_mutex);
  while (!self->checkpoint_stop)
    {
      gint64 until = g_get_monotonic_time () + CHECKPOINT_INTERVAL_USEC;
      int log_frames = 0, done_frames = 0;
      int rc;

      while (!self->checkpoint_stop &&
             g_cond_wait_until (&self->checkpoint_cond, &self->checkpoint_mutex, until))
        ;
      if (self->checkpoint_stop)
        break;
      g_mutex_unlock (&self->checkpoint_mutex);
      /* PASSIVE: never waits for, nor blocks, the main connection. */
      rc = sqlite3_wal_checkpoint_v2 (db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log_frames, &done_frames);
      if (rc != SQLITE_OK && rc != SQLITE_BUSY)
        g_warning ("WAL checkpoint failed: %s", sqlite3_errmsg (db));
      g_mutex_lock (&self->checkpoint_mutex);
    }
  g_mutex_unlock (&self->checkpoint_mutex);
  sqlite3_close_v2 (db);
  return NULL;
}

static gboolean
is_memory (const char *path)
{
  return g_strcmp0 (path, ":memory:") == 0 || path[0] == '\0';
}

static void
start_checkpointer (SqliteStore *self,
                    const char   *path,
                    gboolean      synchronous_full)
{
  if (is_memory (path))
    return;
  self->path = g_strdup (path);
  self->synchronous_full = synchronous_full;
  g_mutex_init (&self->checkpoint_mutex);
  g_cond_init (&self->checkpoint_cond);
  /* Thread names stop at 15 characters on Linux. */
  self->checkpointer = g_thread_new ("natterd-wal", checkpointer_main, self);
  /* The main connection checkpoints on commit only as a safety net: under
   * steady writes the passive checkpoints above rarely catch up with the
   * last frame, and the WAL can only restart from its beginning after one
   * that did. Right after its own commit the main connection has nothing
   * newer, so its checkpoint completes (and is short: the thread has copied
   * most frames already). */
  sqlite3_wal_autocheckpoint (self->db, 4000);
}

static void
stop_checkpointer (SqliteStore *self)
{
  if (self->checkpointer == NULL)
    return;
  g_mutex_lock (&self->checkpoint_mutex);
  self->checkpoint_stop = TRUE;
  g_cond_signal (&self->checkpoint_cond);
  g_mutex_unlock (&self->checkpoint_mutex);
  g_thread_join (g_steal_pointer (&self->checkpointer));
  g_mutex_clear (&self->checkpoint_mutex);
  g_cond_clear (&self->checkpoint_cond);
}

/* search.db, next to natter.db. */
static char *
search_path_for (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);

  return g_build_filename (dir, "search.db", NULL);
}

/* Takes the write lock on every attached database and lets go at once:
 * fails when a file SQLite must write is not writable (another user's
 * -wal or -shm file, a folder where it cannot make them), which opening
 * and reading do not show. */
static gboolean
probe_write (SqliteStore  *self,
             const char    *file,
             GError       **error)
{
  g_autoptr(GError) local_error = NULL;

  if (!exec (self, "BEGIN IMMEDIATE", &local_error))
    return set_open_error (error, sqlite3_extended_errcode (self->db), file, local_error->message);
  return exec (self, "ROLLBACK", error);
}

/* Attaches search.db (in memory for an in-memory store) as "search",
 * read-only unless @writable: a read-only database takes no write lock in
 * BEGIN IMMEDIATE, so the writer never waits on the indexer nor the
 * indexer on it. */
static gboolean
attach_search (SqliteStore  *self,
               const char    *path,
               gboolean       writable,
               GError       **error)
{
  g_autofree char *search_path = NULL;
  g_autofree char *uri = NULL;
  sqlite3_stmt *s = NULL;
  int rc;

  if (is_memory (path))
    uri = g_strdup (":memory:");
  else
    {
      g_autofree char *escaped = NULL;

      search_path = search_path_for (path);
      escaped = g_uri_escape_string (search_path, "/", FALSE);
      uri = g_strdup_printf ("file:%s?mode=%s", escaped, writable ? "rwc" : "ro");
    }
  rc = sqlite3_prepare_v2 (self->db, "ATTACH DATABASE ?1 AS search", -1, &s, NULL);
  if (rc == SQLITE_OK)
    {
      sqlite3_bind_text (s, 1, uri, -1, SQLITE_STATIC);
      rc = sqlite3_step (s);
    }
  sqlite3_finalize (s);
  if (rc != SQLITE_OK && rc != SQLITE_DONE)
    return set_open_error (error, sqlite3_extended_errcode (self->db),
                           search_path != NULL ? search_path : "search.db", sqlite3_errmsg (self->db));
  if (writable && search_path != NULL && !check_writable (self, "search", search_path, error))
    return FALSE;
  return TRUE;
}

/* Reads the integers of @sql's one row into @values, as many as it has
 * columns, at most @n (the statements are not prepared yet when
 * search.db is set up). */
static gboolean
query_ints (SqliteStore  *self,
            const char    *sql,
            gint64        *values,
            int            n,
            GError       **error)
{
  sqlite3_stmt *s = NULL;
  int rc;

  rc = sqlite3_prepare_v2 (self->db, sql, -1, &s, NULL);
  if (rc == SQLITE_OK && (rc = sqlite3_step (s)) == SQLITE_ROW)
    for (int i = 0; i < MIN (n, sqlite3_column_count (s)); i++)
      values[i] = sqlite3_column_int64 (s, i);
  sqlite3_finalize (s);
  if (rc != SQLITE_ROW)
    return set_error (self, error, rc, "read search.db");
  return TRUE;
}

/* Creates search.db's tables if missing, makes an index of another format
 * again (see SEARCH_INDEX_VERSION), and empties an index that is ahead of
 * the messages. Runs on the primary, with search.db writable. */
static gboolean
ensure_search_db (SqliteStore  *self,
                  GError       **error)
{
  gint64 version = 0, has_index = 0, state[2] = { 0, 0 };

  if (!exec (self, search_schema, error) ||
      !query_ints (self, "PRAGMA search.user_version", &version, 1, error) ||
      !query_ints (self, "SELECT EXISTS (SELECT 1 FROM search.sqlite_master WHERE name = 'messages_fts')",
                   &has_index, 1, error))
    return FALSE;
  if (version != SEARCH_INDEX_VERSION)
    {
      if (has_index)
        g_message ("The search index has an older or newer format (%" G_GINT64_FORMAT ", now %d): "
                   "rebuilding it", version, SEARCH_INDEX_VERSION);
      if (!exec (self, "BEGIN", error))
        return FALSE;
      if (!exec (self, search_index_make, error) || !exec (self, "COMMIT", error))
        {
          exec (self, "ROLLBACK", NULL);
          return FALSE;
        }
    }

  /* indexed_up_to, and the newest message's id. */
  if (!query_ints (self, SEARCH_STATE_SQL, state, 2, error))
    return FALSE;
  if (state[0] > state[1])
    {
      g_message ("The search index is ahead of the messages (a restored backup?): rebuilding it");
      if (!exec (self, search_reset, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
try_set_up_search_db (SqliteStore  *self,
                      const char    *path,
                      GError       **error)
{
  g_autofree char *search_path = search_path_for (path);
  gboolean ok = attach_search (self, path, TRUE, error) && probe_write (self, search_path, error);

  if (ok && !ensure_search_db (self, error))
    {
      g_prefix_error (error, "%s: ", search_path);
      ok = FALSE;
    }
  /* Detached either way; after a failure, so that the file can go. */
  if (!exec (self, "DETACH DATABASE search", ok ? error : NULL))
    ok = FALSE;
  return ok;
}

/* search.db holds nothing that natter.db does not: one that SQLite finds
 * damaged (SQLITE_CORRUPT, SQLITE_NOTADB) is removed and made again, and
 * its index rebuilt in the background, rather than keep natterd from
 * starting. Any other error (a read-only file or folder, a full disk)
 * proves nothing about the file: it is left alone and natterd stops. */
static gboolean
set_up_search_db (SqliteStore  *self,
                  const char    *path,
                  GError       **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *dir = NULL;
  static const char *const files[] = { "search.db", "search.db-wal", "search.db-shm" };

  if (try_set_up_search_db (self, path, &local_error))
    return TRUE;
  if (!g_error_matches (local_error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_CORRUPT))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  g_message ("search.db is damaged (%s): making it again", local_error->message);
  dir = g_path_get_dirname (path);
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *file = g_build_filename (dir, files[i], NULL);

      if (g_unlink (file) != 0 && errno != ENOENT)
        {
          int saved = errno;
          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                       "cannot remove %s: %s", file, g_strerror (saved));
          return FALSE;
        }
    }
  return try_set_up_search_db (self, path, error);
}

/* Opens one connection with the settings every connection shares. The
 * primary also checks that it may write, migrates the schema, prepares
 * search.db and starts the checkpointer; siblings only attach search.db
 * and prepare their statements. Every error names the file. */
static SqliteStore *
store_connect (const char  *path,
               gboolean     synchronous_full,
               StoreRole    role,
               GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  SqliteStore *self = g_new0 (SqliteStore, 1);
  gboolean primary = role == STORE_PRIMARY;
  int rc;

  self->parent.engine = &sqlite_engine;
  self->role = role;
  rc = sqlite3_open_v2 (path, &self->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
                        SQLITE_OPEN_URI,
                        NULL);
  if (rc != SQLITE_OK)
    {
      set_open_error (error, self->db != NULL ? sqlite3_extended_errcode (self->db) : rc, path,
                      self->db != NULL ? sqlite3_errmsg (self->db) : sqlite3_errstr (rc));
      natterd_store_close (&self->parent);
      return NULL;
    }
  sqlite3_extended_result_codes (self->db, 1);
  /* Another process holding the database briefly (a backup), or the other
   * connection of this process committing, should not fail a request. */
  sqlite3_busy_timeout (self->db, 5000);

  if (!is_memory (path) && !check_writable (self, "main", path, error))
    {
      natterd_store_close (&self->parent);
      return NULL;
    }
  if (!exec (self, "PRAGMA journal_mode = WAL", &local_error) ||
      !exec (self, synchronous_full ? "PRAGMA synchronous = FULL"
                                    : "PRAGMA synchronous = NORMAL", &local_error) ||
      !exec (self, "PRAGMA foreign_keys = ON", &local_error) ||
      !exec (self, "PRAGMA temp_store = MEMORY", &local_error) ||
      /* A WAL that grew in a burst is cut back when it restarts. */
      !exec (self, "PRAGMA journal_size_limit = 33554432", &local_error))
    {
      set_open_error (error, sqlite3_extended_errcode (self->db), path, local_error->message);
      natterd_store_close (&self->parent);
      return NULL;
    }
  if (primary && (!probe_write (self, path, error) || !migrate (self, &local_error)))
    {
      if (local_error != NULL)
        g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "%s: ", path);
      natterd_store_close (&self->parent);
      return NULL;
    }
  self->schema_version = primary ? self->schema_version : (int) G_N_ELEMENTS (migrations);

  /* The primary makes search.db writable once, to set it up; in memory it
   * stays so, there being no indexer. */
  if (primary && !is_memory (path) && !set_up_search_db (self, path, error))
    {
      natterd_store_close (&self->parent);
      return NULL;
    }
  if (!attach_search (self, path, role == STORE_INDEXER || is_memory (path), error) ||
      (is_memory (path) && !ensure_search_db (self, error)) ||
      (role == STORE_INDEXER && !exec (self, "PRAGMA search.synchronous = FULL", error)))
    {
      natterd_store_close (&self->parent);
      return NULL;
    }

  for (guint i = 0; i < N_STMTS; i++)
    {
      rc = sqlite3_prepare_v3 (self->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                               &self->stmts[i], NULL);
      if (rc != SQLITE_OK)
        {
          set_error (self, error, rc, "prepare");
          g_prefix_error (error, "%s: ", path);
          natterd_store_close (&self->parent);
          return NULL;
        }
    }

  if (primary)
    start_checkpointer (self, path, synchronous_full);
  else
    {
      self->path = g_strdup (path);
      self->synchronous_full = synchronous_full;
      /* The same safety net as the primary's (start_checkpointer); the
       * indexer's also checkpoints search.db, on its own thread. */
      sqlite3_wal_autocheckpoint (self->db, 4000);
    }
  return self;
}

int
natterd_store_sqlite_schema_version (void)
{
  return G_N_ELEMENTS (migrations);
}

NatterdStore *
natterd_store_sqlite_open_path (const char  *path,
                                gboolean     synchronous_full,
                                GError     **error)
{
  return (NatterdStore *) store_connect (path, synchronous_full, STORE_PRIMARY, error);
}

static SqliteStore *
open_sibling (SqliteStore  *self,
              StoreRole      role,
              GError       **error)
{
  if (self->path == NULL)
    {
      g_set_error_literal (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_FAILED,
                           "an in-memory database has no second connection");
      return NULL;
    }
  return store_connect (self->path, self->synchronous_full, role, error);
}

static NatterdStore *
sqlite_open_sibling (NatterdStore *store,
                     GError       **error)
{
  SqliteStore *self = (SqliteStore *) store;

  return (NatterdStore *) open_sibling (self, STORE_WRITER, error);
}

static NatterdStore *
sqlite_open_reader (NatterdStore  *store,
                    GError       **error)
{
  SqliteStore *self = (SqliteStore *) store;

  return (NatterdStore *) open_sibling (self, STORE_READER, error);
}

static NatterdStore *
sqlite_open_indexer (NatterdStore *store,
                     GError       **error)
{
  SqliteStore *self = (SqliteStore *) store;

  return (NatterdStore *) open_sibling (self, STORE_INDEXER, error);
}

NatterdStore *
natterd_store_sqlite_open (const char  *data_dir,
                           gboolean     synchronous_full,
                           GError     **error)
{
  g_autofree char *path = NULL;

  if (g_mkdir_with_parents (data_dir, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   "cannot create %s: %s", data_dir, g_strerror (saved));
      return NULL;
    }
  path = g_build_filename (data_dir, "natter.db", NULL);
  return natterd_store_sqlite_open_path (path, synchronous_full, error);
}

static void
sqlite_close (NatterdStore *store)
{
  SqliteStore *self = (SqliteStore *) store;

  if (self == NULL)
    return;
  stop_checkpointer (self);
  if (self->db != NULL && !sqlite3_get_autocommit (self->db))
    {
      g_warning ("closing the store inside a transaction; rolling it back");
      exec (self, "ROLLBACK", NULL);
    }
  for (guint i = 0; i < N_STMTS; i++)
    sqlite3_finalize (self->stmts[i]);
  if (self->db != NULL)
    {
      /* Folds the WAL back so the next start has nothing to replay. */
      sqlite3_wal_checkpoint_v2 (self->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
      sqlite3_close_v2 (self->db);
    }
  g_clear_pointer (&self->freed, g_ptr_array_unref);
  g_free (self->path);
  g_free (self);
}

static void
sqlite_set_write_hook (NatterdStore *store,
                       NatterdStoreWriteHook  hook,
                       gpointer               data)
{
  SqliteStore *self = (SqliteStore *) store;

  self->write_hook = hook;
  self->write_hook_data = data;
}

/* A file has no connection to lose. */
static void
sqlite_set_reconnect_in_background (NatterdStore *store,
                                    gboolean      in_background)
{
}

static const char *
sqlite_get_path (NatterdStore *store)
{
  SqliteStore *self = (SqliteStore *) store;

  return self->path != NULL ? self->path : ":memory:";
}

static int
sqlite_get_schema_version (NatterdStore *store)
{
  SqliteStore *self = (SqliteStore *) store;

  return self->schema_version;
}

/* --- transactions --- */

static gboolean
sqlite_begin (NatterdStore *store, GError **error)
{
  SqliteStore *self = (SqliteStore *) store;

  return step_done (self, stmt (self, self->role == STORE_INDEXER || self->role == STORE_READER
                                ? STMT_BEGIN_DEFERRED : STMT_BEGIN),
                    "begin", error);
}

/* Files (below, "files"): what messages, rooms and commits call. */
static void     unlink_freed      (SqliteStore *self);
static gboolean free_unreferenced (SqliteStore *self, GError **error);
static gboolean run_int           (SqliteStore *self, StmtId id, gint64 value, const char *what,
                                   GError **error);
static char    *file_path         (SqliteStore *self, const char *sha256);

static gboolean
sqlite_commit (NatterdStore *store, GError **error)
{
  SqliteStore *self = (SqliteStore *) store;

  if (!step_done (self, stmt (self, STMT_COMMIT), "commit", error))
    return FALSE;
  unlink_freed (self);
  return TRUE;
}

static void
sqlite_rollback (NatterdStore *store)
{
  SqliteStore *self = (SqliteStore *) store;

  if (!sqlite3_get_autocommit (self->db))
    step_done (self, stmt (self, STMT_ROLLBACK), "rollback", NULL);
  /* Rows that came back name their files again: unlink_freed asks. */
  unlink_freed (self);
}

static gboolean
sqlite_in_transaction (NatterdStore *store)
{
  SqliteStore *self = (SqliteStore *) store;

  return !sqlite3_get_autocommit (self->db);
}

static const char *const savepoint_sql[] = {
  [NATTERD_STORE_SAVEPOINT_SET] = "SAVEPOINT job",
  [NATTERD_STORE_SAVEPOINT_RELEASE] = "RELEASE job",
  [NATTERD_STORE_SAVEPOINT_ROLLBACK] = "ROLLBACK TO job; RELEASE job",
};

static gboolean
sqlite_savepoint (NatterdStore          *store,
                  NatterdStoreSavepoint  action,
                  GError               **error)
{
  return exec ((SqliteStore *) store, savepoint_sql[action], error);
}

/* --- users --- */

static gboolean
sqlite_user_insert (NatterdStore *store,
                    const char   *username,
                    const char   *display_name,
                    const char   *password_hash,
                    gint64        created_ms,
                    gint64       *out_id,
                    GError      **error)
{
  SqliteStore *self = (SqliteStore *) store;

  sqlite3_stmt *s = stmt (self, STMT_USER_INSERT);

  sqlite3_bind_text (s, 1, username, -1, SQLITE_STATIC);
  sqlite3_bind_text (s, 2, display_name, -1, SQLITE_STATIC);
  sqlite3_bind_text (s, 3, password_hash, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (s, 4, created_ms);
  if (!step_done (self, s, "insert user", error))
    return FALSE;
  *out_id = sqlite3_last_insert_rowid (self->db);
  return TRUE;
}

static gboolean
sqlite_users_foreach (NatterdStore *store,
                      NatterdStoreUserFunc  func,
                      gpointer              user_data,
                      GError              **error)
{
  SqliteStore *self = (SqliteStore *) store;

  sqlite3_stmt *s = stmt (self, STMT_USERS_ALL);
  int rc;

  while ((rc = sqlite3_step (s)) == SQLITE_ROW)
    func (sqlite3_column_int64 (s, 0),
          (const char *) sqlite3_column_text (s, 1),
          (const char *) sqlite3_column_text (s, 2),
          (const char *) sqlite3_column_text (s, 3),
          (const char *) sqlite3_column_text (s, 4),
          sqlite3_column_int64 (s, 5),
          user_data);
  sqlite3_reset (s);
  if (rc != SQLITE_DONE)
    return set_error (self, error, rc, "load users");
  return TRUE;
}

static gboolean
sqlite_user_set_last_seen (NatterdStore *store,
                           gint64        user_id,
                           gint64        last_seen,
                           GError      **error)
{
  SqliteStore *self = (SqliteStore *) store;

  sqlite3_stmt *s = stmt (self, STMT_USER_LAST_SEEN);

  sqlite3_bind_int64 (s, 1, user_id);
  sqlite3_bind_int64 (s, 2, last_seen);
  return step_done (self, s, "set last_seen", error);
}

static gboolean
sqlite_user_set_status_text (NatterdStore *store,
                             gint64        user_id,
                             const char   *status_text,
                             GError      **error)
{
  SqliteStore *self = (SqliteStore *) store;

  sqlite3_stmt *s = stmt (self, STMT_USER_STATUS);

  sqlite3_bind_int64 (s, 1, user_id);
  if (status_text != NULL)
    sqlite3_bind_text (s, 2, status_text, -1, SQLITE_STATIC);
  return step_done (self, s, "set status_text", error);
}

static gboolean
sqlite_user_set_display_name (NatterdStore *store,
                              gint64        user_id,
                              const char   *display_name,
                              GError      **error)
{
  SqliteStore *self = (SqliteStore *) store;
  sqlite3_stmt *s = stmt (self, STMT_USER_DISPLAY_NAME);

  sqlite3_bind_int64 (s, 1, user_id);
  sqlite3_bind_text (s, 2, display_name, -1, SQLITE_STATIC);
  return step_done (self, s, "set display_name", error);
}

/* --- avatars --- */

static gboolean
sqlite_avatar_set (NatterdStore  *store,
                   gint64         user_id,
                   GBytes        *data,
                   const char    *sha256,
                   GError       **error)
{
  SqliteStore *self = (SqliteStore *) store;
  sqlite3_stmt *s = stmt (self, data != NULL ? STMT_AVATAR_SET : STMT_AVATAR_DELETE);
  gsize len = 0;
  gconstpointer bytes = data != NULL ? g_bytes_get_data (data, &len) : NULL;

  sqlite3_bind_int64 (s, 1, user_id);
  if (data != NULL)
    {
      sqlite3_bind_text (s, 2, sha256, -1, SQLITE_STATIC);
      sqlite3_bind_blob (s, 3, bytes, (int) len, SQLITE_STATIC);
    }
  return step_done (self, s, "set avatar", error);
}

static gboolean
sqlite_avatar_get (NatterdStore  *store,
                   gint64         user_id,
                   GBytes       **out,
                   char         **out_sha256,
                   GError       **error)
{
  SqliteStore *self = (SqliteStore *) store;
  sqlite3_stmt *s = stmt (self, STMT_AVATAR_GET);
  int rc;

  sqlite3_bind_int64 (s, 1, user_id);
  rc = sqlite3_step (s);
  if (rc == SQLITE_ROW)
    {
      *out_sha256 = g_strdup ((const char *) sqlite3_column_text (s, 0));
      *out = g_bytes_new (sqlite3_column_blob (s, 1), (gsize) sqlite3_column_bytes (s, 1));
    }
  sqlite3_reset (s);
  return rc == SQLITE_ROW || rc == SQLITE_DONE || set_error (self, error, rc, "read avatar");
}

static gboolean
sqlite_avatars_foreach (NatterdStore           *store,
                        NatterdStoreAvatarFunc  func,
                        gpointer                user_data,
                        GError                **error)
{
  SqliteStore *self = (SqliteStore *) store;
  sqlite3_stmt *s = stmt (self, STMT_AVATARS_ALL);
  int rc;

  while ((rc = sqlite3_step (s)) == SQLITE_ROW)
    func (sqlite3_column_int64 (s, 0), (const char *) sqlite3_column_text (s, 1), user_data);
  sqlite3_reset (s);
  return rc == SQLITE_DONE || set_error (self, error, rc, "load avatars");
}

static gboolean
sqlite_user_delete (NatterdStore *store,
                    gint64        user_id,
                    const char   *password_hash,
                    const char   *display_name,
                    GError      **error)
{
  SqliteStore *self = (SqliteStore *) store;
  sqlite3_stmt *s = stmt (self, STMT_USER_DELETE);

  sqlite3_bind_int64 (s, 1, user_id);
  sqlite3_bind_text (s, 2, password_hash, -1, SQLITE_STATIC);
  sqlite3_bind_text (s, 3, display_name, -1, SQLITE_STATIC);
  if (!step_done (self, s, "delete user", error))
    return FALSE;
  s = stmt (self, STMT_USER_UPLOADS_STALE);
  sqlite3_bind_int64 (s, 1, user_id);
  if (!step_done (self, s, "stale uploads", error))
    return FALSE;
  s = stmt (self, STMT_AVATAR_DELETE);
  sqlite3_bind_int64 (s, 1, user_id);
  return step_done (self, s, "remove avatar", error);
}

/* --- tokens --- */

static gboolean
sqlite_token_insert (NatterdStore *store,
                     const guint8 *hash,
                     gint64        user_id,
                     gint64        expires_ms,
                     GError      **error)
{
  SqliteStore *self = (SqliteStore *) store;

  sqlite3_stmt *s = stmt (self, STMT_TOKEN_INSERT);

  sqlite3_bind_blob (s, 1, hash, NATTERD_TOKEN_HASH_LEN, SQLITE_STATIC);
  sqlite3_bind_int64 (s, 2, user_id);
  sqlite3_bind_int64 (s, 3, expires_ms);
  sqlite3_bind_int64 (s, 4, g_get_real_time () / 1000);
  return step_done (self, s, "insert token", error);
}

static gboolean
sqlite_token_lookup (NatterdStore *store,
                     const guint8 *hash,
                     gint64       *out_user_id,
                     gint64       *out_expires_ms,
                     GError      **error)
{
  SqliteStore *self = (SqliteStore *) store;

  sqlite3_stmt *s = stmt (self, STMT_TOKEN_LOOKUP);
  gboolean found = FALSE;
  int rc;

  sqlite3_bind_blob (s, 1, hash, NATTERD_TOKEN_HASH_LEN, SQLITE_STATIC);
  rc = sqlite3_step (s);
  if (rc == SQLITE_ROW)
    {
      *out_user_id = sqlite3_column_int64 (s, 0);
      *out_expires_ms = sqlite3_column_int64 (s, 1);
      found = TRUE;
    }
  sqlite3_reset (s);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return set_error (self, error, rc, "look up token");
  return found;
}

static gboolean
sqlite_token_delete (NatterdStore *store,
                     const guint8 *hash,
                     GError      **error)
{
  SqliteStore *self = (SqliteStore *) store;

  sqlite3_stmt *s = stmt (self, STMT_TOKEN_DELETE);

  sqlite3_bind_blob (s, 1, hash, NATTERD_TOKEN_HASH_LEN, SQLITE_STATIC);
  return step_done (self, s, "delete token", error);
}

static gboolean
sqlite_token_set_device (NatterdStore *store,
                         const guint8 *hash,
                         const char   *device,
                         const char   *address,
                         GError      **error)
{
  SqliteStore *self = (SqliteStore *) store;
  sqlite3_stmt *s = stmt (self, STMT_TOKEN_SET_DEVICE);

  sqlite3_bind_blob (s, 1, hash, NATTERD_TOKEN_HASH_LEN, SQLITE_STATIC);
  sqlite3_bind_text (s, 2, device, -1, SQLITE_STATIC);
  sqlite3_bind_text (s, 3, address, -1, SQLITE_STATIC);
  return step_done (self, s, "set a token's device", error);
}

static gboolean
sqlite_tokens_expire (NatterdStore *store,
                      gint64        now_ms,
                      GError      **error)
{
  SqliteStore *self = (SqliteStore *) store;

  sqlite3_stmt *s = stmt (self, STMT_TOKENS_EXPIRE);

  sqlite3_bind_int64 (s, 1, now_ms);
  return step_done (self, s, "expire tokens", error);
}

/* One process: nobody else needs telling (natterd-store.h). */
static gboolean
sqlite_tokens_revoked (NatterdStore            *store,
                       gint64                   after,
                       NatterdStoreRevokedFunc  func,
                       gpointer                 user_data,
                       gint64                  *out_last,
                       GError                 **error)
{
  *out_last = after;
  return TRUE;
}

/* --- natterctl --- */

static gboolean
sqlite_stats (NatterdStore *store,
              gint64       *out_messages,
              gint64       *out_bytes,
              GError      **error)
{
  SqliteStore *self = (SqliteStore *) store;
  sqlite3_stmt *s = stmt (self, STMT_STATS);
  int rc = sqlite3_step (s);

  if (rc == SQLITE_ROW)
    {
      *out_messages = sqlite3_column_int64 (s, 0);
      *out_bytes = sqlite3_column_int64 (s, 1);
    }
  sqlite3_reset (s);
  if (rc != SQLITE_ROW)
    return set_error (self, error, rc, "count messages");
  return TRUE;
}

/* natterctl backup: pages copied per step of the online backup (4 MiB
 * of 4 KiB pages), so that a cancel is seen soon; the copy's own read
 * transaction, not the slices, is what keeps commits going meanwhile. */
#define BACKUP_PAGES_PER_STEP 1024

/* Copies natter.db at @path into the empty database file @temp_path. */
static gboolean
backup_copy (const char    *path,
             const char    *temp_path,
             GCancellable  *cancellable,
             GError       **error)
{
  sqlite3 *src = NULL, *dest = NULL;
  sqlite3_backup *backup;
  gboolean ok = FALSE;
  int rc;

  rc = sqlite3_open_v2 (path, &src, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc == SQLITE_OK)
    {
      sqlite3_busy_timeout (src, 5000);
      /* One snapshot for the whole copy: without it each step sees the
       * commits since the last and the backup starts over, forever under
       * a steady stream of sends. */
      rc = sqlite3_exec (src, "BEGIN; SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
    }
  if (rc != SQLITE_OK)
    {
      g_set_error (error, NATTERD_STORE_ERROR, error_code (sqlite3_extended_errcode (src)), "read %s: %s", path,
                   src != NULL ? sqlite3_errmsg (src) : sqlite3_errstr (rc));
      goto out;
    }
  rc = sqlite3_open_v2 (temp_path, &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
  backup = rc == SQLITE_OK ? sqlite3_backup_init (dest, "main", src, "main") : NULL;
  if (backup == NULL)
    {
      g_set_error (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_FAILED, "write %s: %s", temp_path,
                   dest != NULL ? sqlite3_errmsg (dest) : sqlite3_errstr (rc));
      goto out;
    }
  do
    {
      if (g_cancellable_is_cancelled (cancellable))
        break;
      rc = sqlite3_backup_step (backup, BACKUP_PAGES_PER_STEP);
      if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
        g_usleep (10 * 1000);
    }
  while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
  sqlite3_backup_finish (backup);
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    goto out;
  if (rc != SQLITE_DONE)
    {
      g_set_error (error, NATTERD_STORE_ERROR, error_code (rc), "copy %s to %s: %s", path, temp_path,
                   sqlite3_errmsg (dest));
      goto out;
    }
  /* The copy says WAL, as natter.db does: made a rollback-journal
   * database again, it is one file that any reader leaves alone (natterd
   * turns WAL on at start). */
  if (sqlite3_exec (dest, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL) != SQLITE_OK)
    {
      g_set_error (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_FAILED, "write %s: %s", temp_path,
                   sqlite3_errmsg (dest));
      goto out;
    }
  ok = TRUE;

out:
  if (src != NULL)
    sqlite3_exec (src, "COMMIT", NULL, NULL, NULL);
  sqlite3_close_v2 (src);
  /* The backup's last step committed (and synced) the copy. */
  sqlite3_close_v2 (dest);
  return ok;
}

static gboolean
sqlite_backup (NatterdStore  *store,
               const char    *dest_path,
               GCancellable  *cancellable,
               gint64        *out_bytes,
               GError       **error)
{
  const char *path = sqlite_get_path (store);
  g_autofree char *temp_path = NULL;
  g_autofree char *dir = NULL;
  GStatBuf st;
  int fd, saved;

  if (is_memory (path))
    {
      g_set_error_literal (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_NOT_SUPPORTED,
                           "The database is in memory: there is no file to copy");
      return FALSE;
    }
  if (g_lstat (dest_path, &st) == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS, "%s exists already", dest_path);
      return FALSE;
    }
  /* Made here, 0600 whatever natterd's umask (SQLite would create it
   * with 0644 less the umask); its journal takes its mode. */
  temp_path = g_strconcat (dest_path, ".XXXXXX", NULL);
  fd = g_mkstemp_full (temp_path, O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "Cannot create a file beside %s: %s",
                   dest_path, g_strerror (saved));
      return FALSE;
    }
  close (fd);
  if (!backup_copy (path, temp_path, cancellable, error))
    {
      g_unlink (temp_path);
      return FALSE;
    }
  /* link, not rename: it fails rather than replace a file that appeared
   * at @dest_path meanwhile. */
  if (link (temp_path, dest_path) != 0)
    {
      saved = errno;
      g_unlink (temp_path);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "Cannot put the copy at %s: %s", dest_path,
                   saved == EEXIST ? "it exists already" : g_strerror (saved));
      return FALSE;
    }
  g_unlink (temp_path);
  /* The new name is on disk too once natterctl says done. */
  dir = g_path_get_dirname (dest_path);
  fd = g_open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (fd >= 0)
    {
      fsync (fd);
      close (fd);
    }
  if (out_bytes != NULL)
    *out_bytes = g_stat (dest_path, &st) == 0 ? (gint64) st.st_size : 0;
  return TRUE;
}

static gboolean
sqlite_tokens_of_user (NatterdStore          *store,
                       gint64                 user_id,
                       NatterdStoreTokenFunc  func,
                       gpointer               user_data,
                       GError               **error)
{
  SqliteStore *self = (SqliteStore *) store;
  sqlite3_stmt *s = stmt (self, STMT_TOKENS_OF_USER);
  int rc;

  sqlite3_bind_int64 (s, 1, user_id);
  while ((rc = sqlite3_step (s)) == SQLITE_ROW)
    if (sqlite3_column_bytes (s, 0) == NATTERD_TOKEN_HASH_LEN)
      func (sqlite3_column_blob (s, 0), sqlite3_column_int64 (s, 1), sqlite3_column_int64 (s, 2),
            (const char *) sqlite3_column_text (s, 3), (const char *) sqlite3_column_text (s, 4), user_data);
  sqlite3_reset (s);
  if (rc != SQLITE_DONE)
    return set_error (self, error, rc, "list tokens");
  return TRUE;
}

static gboolean
sqlite_user_set_password_hash (NatterdStore *store,
                               gint64        user_id,
                               const char   *password_hash,
                               GError      **error)
{
  SqliteStore *self = (SqliteStore *) store;
  sqlite3_stmt *s = stmt (self, STMT_USER_PASSWORD_HASH);

  sqlite3_bind_int64 (s, 1, user_id);
  sqlite3_bind_text (s, 2, password_hash, -1, SQLITE_STATIC);
  return step_done (self, s, "set password", error);
}

static gboolean
sqlite_invite_insert (NatterdStore *store,
                      const char   *code,
                      gint64        uses,
                      gint64        expires_ms,
                      gint64        created_ms,
                      GError      **error)
{
  SqliteStore *self = (SqliteStore *) store;
  sqlite3_stmt *s = stmt (self, STMT_INVITE_INSERT);

  sqlite3_bind_text (s, 1, code, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (s, 2, uses);
  sqlite3_bind_int64 (s, 3, expires_ms);
  sqlite3_bind_int64 (s, 4, created_ms);
  return step_done (self, s, "insert invitation", error);
}

static gboolean
sqlite_invites_foreach (NatterdStore           *store,
                        NatterdStoreInviteFunc  func,
                        gpointer                user_data,
                        GError                **error)
{
  SqliteStore *self = (SqliteStore *) store;
  sqlite3_stmt *s = stmt (self, STMT_INVITES_ALL);
  int rc;

  while ((rc = sqlite3_step (s)) == SQLITE_ROW)
    func ((const char *) sqlite3_column_text (s, 0), sqlite3_column_int64 (s, 1),
          sqlite3_column_int64 (s, 2), sqlite3_column_int64 (s, 3), user_data);
  sqlite3_reset (s);
  if (rc != SQLITE_DONE)
    return set_error (self, error, rc, "list invitations");
  return TRUE;
}

static gboolean
sqlite_invite_delete (NatterdStore *store,
                      const char   *code,
                      gboolean     *out_found,
                      GError      **error)
{
  SqliteStore *self = (SqliteStore *) store;
  sqlite3_stmt *s = stmt (self, STMT_INVITE_DELETE);

  sqlite3_bind_text (s, 1, code, -1, SQLITE_STATIC);
  if (!step_done (self, s, "delete invitation", error))
    return FALSE;
  *out_found = sqlite3_changes (self->db) > 0;
  return TRUE;
}

static gboolean
sqlite_invite_consume (NatterdStore *store,
                       const char   *code,
                       gint64        now_ms,
                       gboolean     *out_ok,
                       GError      **error)
{
  SqliteStore *self = (SqliteStore *) store;
  sqlite3_stmt *s = stmt (self, STMT_INVITE_CONSUME);

  sqlite3_bind_text (s, 1, code, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (s, 2, now_ms);
  if (!step_done (self, s, "use invitation", error))
    return FALSE;
  *out_ok = sqlite3_changes (self->db) > 0;
  return TRUE;
}

/* --- contacts --- */

static gboolean
sqlite_contact_set (NatterdStore *store,
                    gint64                    a,
                    gint64                    b,
                    NatterdStoreContactState  state,
                    GError                  **error)
{
  SqliteStore *self = (SqliteStore *) store;

  sqlite3_stmt *s = stmt (self, STMT_CONTACT_SET);

  sqlite3_bind_int64 (s, 1, a);
  sqlite3_bind_int64 (s, 2, b);
  sqlite3_bind_int (s, 3, state);
  return step_done (self, s, "set contact", error);
}

/* No lock to take: one process, and its writer's transactions (BEGIN
 * IMMEDIATE) exclude each other. */
static gboolean
sqlite_contact_lock (NatterdStore            *store,
                     gint64                   a,
                     gint64                   b,
                     NatterdStoreContactPair *out_pair,
                     GError                 **error)
{
  SqliteStore *self = (SqliteStore *) store;
  sqlite3_stmt *s = stmt (self, STMT_CONTACT_PAIR);
  int rc;

  sqlite3_bind_int64 (s, 1, a);
  sqlite3_bind_int64 (s, 2, b);
  *out_pair = NATTERD_STORE_PAIR_NONE;
  while ((rc = sqlite3_step (s)) == SQLITE_ROW)
    natterd_store_contact_pair_fold (a, sqlite3_column_int64 (s, 0), sqlite3_column_int (s, 1),
                                     out_pair);
  sqlite3_reset (s);
  if (rc != SQLITE_DONE)
    return set_error (self, error, rc, "read contact");
  return TRUE;
}

static gboolean
sqlite_contact_delete (NatterdStore *store,
                       gint64        a,
                       gint64        b,
                       GError      **error)
{
  SqliteStore *self = (SqliteStore *) store;

  sqlite3_stmt *s = stmt (self, STMT_CONTACT_DELETE);

  sqlite3_bind_int64 (s, 1, a);
  sqlite3_bind_int64 (s, 2, b);
  return step_done (self, s, "delete contact", error);
}

static gboolean
sqlite_contacts_foreach (NatterdStore *store,
                         NatterdStoreContactFunc  func,
                         gpointer                 user_data,
                         GError                 **error)
{
  SqliteStore *self = (SqliteStore *) store;

  sqlite3_stmt *s = stmt (self, STMT_CONTACTS_ALL);
  int rc;

  while ((rc = sqlite3_step (s)) == SQLITE_ROW)
    func (sqlite3_column_int64 (s, 0), sqlite3_column_int64 (s, 1),
          sqlite3_column_int (s, 2), user_data);
  sqlite3_reset (s);
  if (rc != SQLITE_DONE)
    return set_error (self, error, rc, "load contacts");
  return TRUE;
}

/* --- blocks (feature accounts) --- */

static gboolean
sqlite_block_set (NatterdStore *store,
                  gint64        user_id,
                  gint64        blocked_id,
                  gint64        ts,
                  GError      **error)
{
  SqliteStore *self = (SqliteStore *) store;
  sqlite3_stmt *s = stmt (self, STMT_BLOCK_SET);

  sqlite3_bind_int64 (s, 1, user_id);
  sqlite3_bind_int64 (s, 2, blocked_id);
  sqlite3_bind_int64 (s, 3, ts);
  return step_done (self, s, "block", error);
}

static gboolean
sqlite_block_delete (NatterdStore *store,
                     gint64        user_id,
                     gint64        blocked_id,
                     GError      **error)
{
  SqliteStore *self = (SqliteStore *) store;
  sqlite3_stmt *s = stmt (self, STMT_BLOCK_DELETE);

  sqlite3_bind_int64 (s, 1, user_id);
  sqlite3_bind_int64 (s, 2, blocked_id);
  return step_done (self, s, "unblock", error);
}

static gboolean
sqlite_blocks_foreach (NatterdStore          *store,
                       NatterdStoreBlockFunc  func,
                       gpointer               user_data,
                       GError               **error)
{
  SqliteStore *self = (SqliteStore *) store;
  sqlite3_stmt *s = stmt (self, STMT_BLOCKS_ALL);
  int rc;

  while ((rc = sqlite3_step (s)) == SQLITE_ROW)
    func (sqlite3_column_int64 (s, 0), sqlite3_column_int64 (s, 1), sqlite3_column_int64 (s, 2), user_data);
  sqlite3_reset (s);
  if (rc != SQLITE_DONE)
    return set_error (self, error, rc, "load blocks");
  return TRUE;
}

/* --- conversations, rooms, participants --- */

static gboolean sqlite_participant_add (NatterdStore *store,
                                        gint64        conversation_id,
                                        gint64        user_id,
                                        GError      **error);

/* One writer at a time (SQLite's write lock): a find that misses cannot
 * race another insert of the same pair. */
static gboolean
sqlite_direct_ensure (NatterdStore *store,
                      gint64        user_a,
                      gint64        user_b,
                      gint64       *out_id,
                      GError      **error)
{
  SqliteStore *self = (SqliteStore *) store;
  gboolean own_transaction = sqlite3_get_autocommit (self->db);
  sqlite3_stmt *s = stmt (self, STMT_DIRECT_FIND);
  gint64 id;
  int rc;

  sqlite3_bind_int64 (s, 1, user_a);
  sqlite3_bind_int64 (s, 2, user_b);
  rc = sqlite3_step (s);
  id = rc == SQLITE_ROW ? sqlite3_column_int64 (s, 0) : 0;
  sqlite3_reset (s);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return set_error (self, error, rc, "find conversation");
  if (id != 0)
    {
      *out_id = id;
      return TRUE;
    }

  if (own_transaction && !natterd_store_begin (&self->parent, error))
    return FALSE;
  s = stmt (self, STMT_DIRECT_INSERT);
  sqlite3_bind_int64 (s, 1, user_a);
  sqlite3_bind_int64 (s, 2, user_b);
  if (!step_done (self, s, "insert conversation", error))
    goto fail;
  id = sqlite3_last_insert_rowid (self->db);
  if (!sqlite_participant_add (store, id, user_a, error) ||
      (user_b != user_a && !sqlite_participant_add (store, id, user_b, error)))
    goto fail;
  if (own_transaction && !natterd_store_commit (&self->parent, error))
    goto fail;
  *out_id = id;
  return TRUE;

fail:
  if (own_transaction)
    natterd_store_rollback (&self->parent);
  return FALSE;
}

static gboolean
sqlite_room_insert (NatterdStore *store,
                    const char   *room,
                    const char   *topic,
                    gint64        owner_id,
                    gint64        created_ms,
                    gint64       *out_id,
                    GError      **error)
{
  SqliteStore *self = (SqliteStore *) store;

  gboolean own_transaction = sqlite3_get_autocommit (self->db);
  sqlite3_stmt *s;
  gint64 id;

  if (own_transaction && !natterd_store_begin (&self->parent, error))
    return FALSE;
  if (!step_done (self, stmt (self, STMT_CONVERSATION_ROOM_INSERT), "insert conversation", error))
    goto fail;
  id = sqlite3_last_insert_rowid (self->db);
  s = stmt (self, STMT_ROOM_INSERT);
  sqlite3_bind_int64 (s, 1, id);
  sqlite3_bind_text (s, 2, room, -1, SQLITE_STATIC);
  sqlite3_bind_text (s, 3, topic ? topic : "", -1, SQLITE_STATIC);
  sqlite3_bind_int64 (s, 4, owner_id);
  sqlite3_bind_int64 (s, 5, created_ms);
  if (!step_done (self, s, "insert room", error))
    goto fail;
  if (own_transaction && !natterd_store_commit (&self->parent, error))
    goto fail;
  *out_id = id;
  return TRUE;

fail:
  if (own_transaction)
    natterd_store_rollback (&self->parent);
  return FALSE;
}

static gboolean
sqlite_room_set_topic (NatterdStore *store,
                       gint64        conversation_id,
                       const char   *topic,
                       GError      **error)
{
  SqliteStore *self = (SqliteStore *) store;

  sqlite3_stmt *s = stmt (self, STMT_ROOM_TOPIC);

  sqlite3_bind_int64 (s, 1, conversation_id);
  sqlite3_bind_text (s, 2, topic ? topic : "", -1, SQLITE_STATIC);
  return step_done (self, s, "set topic", error);
}

static gboolean
sqlite_conversations_foreach (NatterdStore *store,
                              NatterdStoreConversationFunc  func,
                              gpointer                      user_data,
                              GError                      **error)
{
  SqliteStore *self = (SqliteStore *) store;

  sqlite3_stmt *s = stmt (self, STMT_CONVERSATIONS_ALL);
  int rc;

  while ((rc = sqlite3_step (s)) == SQLITE_ROW)
    func (sqlite3_column_int64 (s, 0),
          sqlite3_column_int (s, 1),
          sqlite3_column_int64 (s, 2),
          sqlite3_column_int64 (s, 3),
          (const char *) sqlite3_column_text (s, 4),
          (const char *) sqlite3_column_text (s, 5),
          sqlite3_column_int64 (s, 6),
          user_data);
  sqlite3_reset (s);
  if (rc != SQLITE_DONE)
    return set_error (self, error, rc, "load conversations");
  return TRUE;
}

static gboolean
sqlite_participant_add (NatterdStore *store,
                        gint64        conversation_id,
                        gint64        user_id,
                        GError      **error)
{
  SqliteStore *self = (SqliteStore *) store;

  sqlite3_stmt *s = stmt (self, STMT_PARTICIPANT_ADD);

  sqlite3_bind_int64 (s, 1, conversation_id);
  sqlite3_bind_int64 (s, 2, user_id);
  return step_done (self, s, "add participant", error);
}

static gboolean
sqlite_participant_remove (NatterdStore *store,
                           gint64        conversation_id,
                           gint64        user_id,
                           GError      **error)
{
  SqliteStore *self = (SqliteStore *) store;

  sqlite3_stmt *s = stmt (self, STMT_PARTICIPANT_REMOVE);

  sqlite3_bind_int64 (s, 1, conversation_id);
  sqlite3_bind_int64 (s, 2, user_id);
  return step_done (self, s, "remove participant", error);
}

/* --- room management --- */

static gboolean step_int (SqliteStore *self, sqlite3_stmt *s, gint64 *out, const char *what,
                          GError **error);

static gboolean
sqlite_room_rows_foreach (NatterdStore            *store,
                          NatterdStoreRoomRowFunc  func,
                          gpointer                 user_data,
                          GError                 **error)
{
  SqliteStore *self = (SqliteStore *) store;
  sqlite3_stmt *s = stmt (self, STMT_ROOM_ROWS_ALL);
  int rc;

  while ((rc = sqlite3_step (s)) == SQLITE_ROW)
    func ((NatterdRoomRowKind) sqlite3_column_int (s, 0),
          sqlite3_column_int64 (s, 1),
          sqlite3_column_int64 (s, 2),
          sqlite3_column_int64 (s, 3),
          (const char *) sqlite3_column_text (s, 4),
          sqlite3_column_int64 (s, 5),
          user_data);
  sqlite3_reset (s);
  if (rc != SQLITE_DONE)
    return set_error (self, error, rc, "load room management");
  return TRUE;
}

static gboolean
sqlite_room_settings_set (NatterdStore *store,
                          gint64        conversation_id,
                          const char   *display_name,
                          gboolean      is_private,
                          GError      **error)
{
  SqliteStore *self = (SqliteStore *) store;
  sqlite3_stmt *s = stmt (self, STMT_ROOM_SETTINGS);

  sqlite3_bind_int64 (s, 1, conversation_id);
  if (display_name != NULL)
    sqlite3_bind_text (s, 2, display_name, -1, SQLITE_STATIC);
  sqlite3_bind_int (s, 3, is_private ? 1 : 0);
  return step_done (self, s, "set room settings", error);
}

/* The statements whose parameters are the room and a user. */
static gboolean
run_room_user (SqliteStore  *self,
               StmtId        id,
               gint64        conversation_id,
               gint64        user_id,
               const char   *what,
               GError      **error)
{
  sqlite3_stmt *s = stmt (self, id);

  sqlite3_bind_int64 (s, 1, conversation_id);
  sqlite3_bind_int64 (s, 2, user_id);
  return step_done (self, s, what, error);
}

static gboolean
sqlite_room_role_set (NatterdStore *store,
                      gint64        conversation_id,
                      gint64        user_id,
                      gboolean      admin,
                      GError      **error)
{
  SqliteStore *self = (SqliteStore *) store;
  sqlite3_stmt *s = stmt (self, STMT_ROOM_ROLE);

  sqlite3_bind_int64 (s, 1, conversation_id);
  sqlite3_bind_int64 (s, 2, user_id);
  sqlite3_bind_int (s, 3, admin ? 1 : 0);
  return step_done (self, s, "set role", error);
}

static gboolean
sqlite_room_owner_set (NatterdStore *store,
                       gint64        conversation_id,
                       gint64        owner_id,
                       GError      **error)
{
  return run_room_user ((SqliteStore *) store, STMT_ROOM_OWNER, conversation_id, owner_id,
                        "set owner", error);
}

static gboolean
sqlite_room_ban_set (NatterdStore *store,
                     gint64        conversation_id,
                     gint64        user_id,
                     gboolean      banned,
                     gint64        by_id,
                     const char   *reason,
                     gint64        ts,
                     GError      **error)
{
  SqliteStore *self = (SqliteStore *) store;
  sqlite3_stmt *s;

  if (!banned)
    return run_room_user (self, STMT_ROOM_BAN_REMOVE, conversation_id, user_id, "unban", error);
  s = stmt (self, STMT_ROOM_BAN_ADD);
  sqlite3_bind_int64 (s, 1, conversation_id);
  sqlite3_bind_int64 (s, 2, user_id);
  sqlite3_bind_int64 (s, 3, by_id);
  if (reason != NULL)
    sqlite3_bind_text (s, 4, reason, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (s, 5, ts);
  return step_done (self, s, "ban", error);
}

static gboolean
sqlite_room_invitation_set (NatterdStore *store,
                            gint64        conversation_id,
                            gint64        user_id,
                            gboolean      invited,
                            gint64        by_id,
                            gint64        ts,
                            GError      **error)
{
  SqliteStore *self = (SqliteStore *) store;
  sqlite3_stmt *s;

  if (!invited)
    return run_room_user (self, STMT_ROOM_INVITATION_REMOVE, conversation_id, user_id,
                          "remove invitation", error);
  s = stmt (self, STMT_ROOM_INVITATION_ADD);
  sqlite3_bind_int64 (s, 1, conversation_id);
  sqlite3_bind_int64 (s, 2, user_id);
  sqlite3_bind_int64 (s, 3, by_id);
  sqlite3_bind_int64 (s, 4, ts);
  return step_done (self, s, "invite", error);
}

/* In the writer's transaction. The search removals take ids from the
 * message sequence (next, next + 1, ...) and a marker change the id after
 * them, so that the sequence never hands out again an id of the room's
 * messages (a client synced past them) nor one of the removals (their
 * table is keyed by id, and the indexer applies them in id order). */
static gboolean
sqlite_room_delete (NatterdStore *store,
                    gint64        conversation_id,
                    GError      **error)
{
  static const StmtId deletes[] = {
    STMT_ROOM_DELETE_FILES, STMT_ROOM_DELETE_MESSAGES, STMT_ROOM_DELETE_PARTICIPANTS, STMT_ROOM_DELETE_BANS,
    STMT_ROOM_DELETE_INVITATIONS, STMT_ROOM_DELETE_ROOM, STMT_ROOM_DELETE_CONVERSATION,
  };
  SqliteStore *self = (SqliteStore *) store;
  gint64 next = 0;
  sqlite3_stmt *s;

  if (!step_int (self, stmt (self, STMT_NEXT_ID), &next, "next change id", error))
    return FALSE;
  s = stmt (self, STMT_ROOM_DELETE_REMOVALS);
  sqlite3_bind_int64 (s, 1, conversation_id);
  sqlite3_bind_int64 (s, 2, next);
  if (!step_done (self, s, "forget a room's words", error))
    return FALSE;
  next += sqlite3_changes (self->db);
  s = stmt (self, STMT_ROOM_DELETE_CHANGES);
  sqlite3_bind_int64 (s, 1, conversation_id);
  if (!step_done (self, s, "delete a room's changes", error))
    return FALSE;
  s = stmt (self, STMT_ROOM_DELETE_MARKER);
  sqlite3_bind_int64 (s, 1, conversation_id);
  sqlite3_bind_int64 (s, 2, next);
  if (!step_done (self, s, "mark a room's deletion", error))
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (deletes); i++)
    {
      s = stmt (self, deletes[i]);
      sqlite3_bind_int64 (s, 1, conversation_id);
      if (!step_done (self, s, "delete a room", error))
        return FALSE;
    }
  return free_unreferenced (self, error);
}

static gboolean
sqlite_participants_foreach (NatterdStore *store,
                             NatterdStoreParticipantFunc  func,
                             gpointer                     user_data,
                             GError                     **error)
{
  SqliteStore *self = (SqliteStore *) store;

  sqlite3_stmt *s = stmt (self, STMT_PARTICIPANTS_ALL);
  int rc;

  while ((rc = sqlite3_step (s)) == SQLITE_ROW)
    func (sqlite3_column_int64 (s, 0), sqlite3_column_int64 (s, 1), user_data);
  sqlite3_reset (s);
  if (rc != SQLITE_DONE)
    return set_error (self, error, rc, "load participants");
  return TRUE;
}

static gboolean
sqlite_read_marker_set (NatterdStore *store,
                        gint64        conversation_id,
                        gint64        user_id,
                        gint64        up_to,
                        gint64       *out_up_to,
                        gboolean     *out_moved,
                        GError      **error)
{
  SqliteStore *self = (SqliteStore *) store;

  sqlite3_stmt *s = stmt (self, STMT_READ_MARKER_SET);
  int rc;

  sqlite3_bind_int64 (s, 1, conversation_id);
  sqlite3_bind_int64 (s, 2, user_id);
  sqlite3_bind_int64 (s, 3, up_to);
  if (!step_done (self, s, "set read marker", error))
    return FALSE;
  *out_moved = sqlite3_changes (self->db) > 0;

  s = stmt (self, STMT_READ_MARKER_GET);
  sqlite3_bind_int64 (s, 1, conversation_id);
  sqlite3_bind_int64 (s, 2, user_id);
  rc = sqlite3_step (s);
  *out_up_to = rc == SQLITE_ROW ? sqlite3_column_int64 (s, 0) : 0;
  sqlite3_reset (s);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return set_error (self, error, rc, "get read marker");
  return TRUE;
}

/* --- messages --- */

static void
message_from_row (sqlite3_stmt        *s,
                  int                  first,
                  NatterdStoreMessage *m)
{
  m->id = sqlite3_column_int64 (s, first + 0);
  m->conversation_id = sqlite3_column_int64 (s, first + 1);
  m->sender_id = sqlite3_column_int64 (s, first + 2);
  m->ts = sqlite3_column_int64 (s, first + 3);
  m->body = (const char *) sqlite3_column_text (s, first + 4);
  m->body_len = sqlite3_column_bytes (s, first + 4);
  m->client_msg_id = (const char *) sqlite3_column_text (s, first + 5);
  if (m->body == NULL)
    m->body = "";
  if (m->client_msg_id == NULL)
    m->client_msg_id = "";
  m->reply_to = sqlite3_column_int64 (s, first + 6);
  m->edited_ts = sqlite3_column_int64 (s, first + 7);
  m->deleted = sqlite3_column_int (s, first + 8) != 0;
  m->reactions = (const char *) sqlite3_column_text (s, first + 9);
  m->mentions = (const char *) sqlite3_column_text (s, first + 10);
  m->reply_from = sqlite3_column_int64 (s, first + 11);
  m->reply_body = NULL;
  m->reply_body_len = 0;
  m->reply_deleted = FALSE;
  if (m->reply_to != 0 && sqlite3_column_type (s, first + 12) != SQLITE_NULL)
    {
      m->reply_body = (const char *) sqlite3_column_text (s, first + 12);
      m->reply_body_len = sqlite3_column_bytes (s, first + 12);
      m->reply_deleted = sqlite3_column_int (s, first + 13) != 0;
    }
  m->files = (const char *) sqlite3_column_text (s, first + 14);
  m->hidden_for = sqlite3_column_int64 (s, first + 15);
}

/* A change's columns (CHANGE_COLUMNS) and then its message's. */
static void
change_from_row (sqlite3_stmt       *s,
                 NatterdStoreChange *c)
{
  c->id = sqlite3_column_int64 (s, 0);
  c->conversation_id = sqlite3_column_int64 (s, 1);
  c->actor_id = sqlite3_column_int64 (s, 2);
  c->ts = sqlite3_column_int64 (s, 3);
  c->kind = sqlite3_column_int (s, 4);
  c->emoji = (const char *) sqlite3_column_text (s, 5);
  c->on = sqlite3_column_int (s, 6) != 0;
  message_from_row (s, 7, &c->message);
}

static gboolean
foreach_change (SqliteStore             *self,
                sqlite3_stmt             *s,
                NatterdStoreChangeFunc    func,
                gpointer                  user_data,
                const char               *what,
                GError                  **error)
{
  int rc;

  while ((rc = sqlite3_step (s)) == SQLITE_ROW)
    {
      NatterdStoreChange c;

      change_from_row (s, &c);
      if (!func (&c, user_data))
        {
          rc = SQLITE_DONE;
          break;
        }
    }
  sqlite3_reset (s);
  if (rc != SQLITE_DONE)
    return set_error (self, error, rc, what);
  return TRUE;
}

/* Steps a statement whose columns are MESSAGE_COLUMNS, calling @func per
 * row until it returns FALSE. */
static gboolean
foreach_message (SqliteStore             *self,
                 sqlite3_stmt             *s,
                 NatterdStoreMessageFunc   func,
                 gpointer                  user_data,
                 const char               *what,
                 GError                  **error)
{
  int rc;

  while ((rc = sqlite3_step (s)) == SQLITE_ROW)
    {
      NatterdStoreMessage m;

      message_from_row (s, 0, &m);
      if (!func (&m, user_data))
        {
          rc = SQLITE_DONE;
          break;
        }
    }
  sqlite3_reset (s);
  if (rc != SQLITE_DONE)
    return set_error (self, error, rc, what);
  return TRUE;
}

/* A new message's files: its message_files rows, and the sender's
 * uploads of them ended (natterd_store_message_insert_full). */
static gboolean
add_message_files (SqliteStore                *self,
                   const NatterdStoreMessage  *m,
                   GError                    **error)
{
  g_autofree char *ids = natterd_store_files_ids (m->files, NULL);
  sqlite3_stmt *s;

  /* {81,82} as JSON, for json_each. */
  ids[0] = '[';
  ids[strlen (ids) - 1] = ']';
  s = stmt (self, STMT_MESSAGE_FILES_ADD);
  sqlite3_bind_int64 (s, 1, m->id);
  sqlite3_bind_text (s, 2, ids, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (s, 3, m->sender_id);
  sqlite3_bind_int64 (s, 4, m->conversation_id);
  if (!step_done (self, s, "hold a message's files", error))
    return FALSE;
  s = stmt (self, STMT_MESSAGE_FILES_UPLOADS_END);
  sqlite3_bind_text (s, 1, ids, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (s, 2, m->sender_id);
  return step_done (self, s, "end the uploads of a message's files", error);
}

static gboolean
sqlite_message_insert (NatterdStore *store,
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
                       GError                 **error)
{
  SqliteStore *self = (SqliteStore *) store;

  sqlite3_stmt *s = stmt (self, STMT_MESSAGE_INSERT);
  NatterdStoreMessage m = { 0 };

  sqlite3_bind_int64 (s, 1, conversation_id);
  sqlite3_bind_int64 (s, 2, sender_id);
  sqlite3_bind_int64 (s, 3, ts);
  sqlite3_bind_text (s, 4, body, (int) body_len, SQLITE_STATIC);
  sqlite3_bind_text (s, 5, client_msg_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (s, 6, reply_to);
  if (mentions != NULL)
    sqlite3_bind_text (s, 7, mentions, -1, SQLITE_STATIC);
  if (files != NULL)
    sqlite3_bind_text (s, 8, files, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (s, 9, hidden_for);
  if (!step_done (self, s, "insert message", error))
    return FALSE;

  if (sqlite3_changes (self->db) == 0)
    {
      /* (sender, client_msg_id) exists: a resend. Answer the original. */
      *out_duplicate = TRUE;
      return natterd_store_message_by_client_id (&self->parent, sender_id, client_msg_id,
                                                 func, user_data, error);
    }

  *out_duplicate = FALSE;
  m.id = sqlite3_last_insert_rowid (self->db);
  m.conversation_id = conversation_id;
  m.sender_id = sender_id;
  m.ts = ts;
  m.body = body;
  m.body_len = body_len;
  m.client_msg_id = client_msg_id;
  m.reply_to = reply_to;
  m.reactions = "";
  m.mentions = mentions != NULL ? mentions : "";
  m.files = files;
  if (files != NULL && !add_message_files (self, &m, error))
    return FALSE;

  func (&m, user_data);
  return TRUE;
}

static gboolean
sqlite_message_by_id (NatterdStore            *store,
                      gint64                   id,
                      NatterdStoreMessageFunc  func,
                      gpointer                 user_data,
                      GError                 **error)
{
  SqliteStore *self = (SqliteStore *) store;
  sqlite3_stmt *s = stmt (self, STMT_MESSAGE_BY_ID);

  sqlite3_bind_int64 (s, 1, id);
  return foreach_message (self, s, func, user_data, "find message", error);
}

/* Runs a statement whose only value is one integer. */
static gboolean
step_int (SqliteStore  *self,
          sqlite3_stmt  *s,
          gint64        *out,
          const char    *what,
          GError       **error)
{
  int rc = sqlite3_step (s);

  if (rc == SQLITE_ROW)
    *out = sqlite3_column_int64 (s, 0);
  sqlite3_reset (s);
  if (rc != SQLITE_ROW)
    return set_error (self, error, rc, what);
  return TRUE;
}

/* An edit or a delete: what the search index holds of the message is
 * written down for the indexer to take out (see
 * sqlite_search_index_catch_up), in this transaction, so that a crash
 * cannot lose it. */
static gboolean
note_search_removal (SqliteStore                   *self,
                     gint64                         change_id,
                     const NatterdStoreChangeWrite *c,
                     GError                       **error)
{
  sqlite3_stmt *s = stmt (self, STMT_REMOVALS_TRIM);

  if (!step_done (self, s, "trim search removals", error))
    return FALSE;
  s = stmt (self, STMT_REMOVAL_INSERT);
  sqlite3_bind_int64 (s, 1, change_id);
  sqlite3_bind_int64 (s, 2, c->message_id);
  if (c->kind == NATTERD_CHANGE_EDIT)
    sqlite3_bind_text (s, 3, c->body, (int) c->body_len, SQLITE_STATIC);
  return step_done (self, s, "note a search removal", error);
}

static gboolean
sqlite_change_insert (NatterdStore                  *store,
                      const NatterdStoreChangeWrite *c,
                      gint64                        *out_id,
                      GError                       **error)
{
  SqliteStore *self = (SqliteStore *) store;
  sqlite3_stmt *s;
  gint64 id = 0;

  if (!step_int (self, stmt (self, STMT_NEXT_ID), &id, "next change id", error))
    return FALSE;
  switch (c->kind)
    {
    case NATTERD_CHANGE_EDIT:
      if (!note_search_removal (self, id, c, error))
        return FALSE;
      s = stmt (self, STMT_MESSAGE_EDIT);
      sqlite3_bind_int64 (s, 1, c->message_id);
      sqlite3_bind_text (s, 2, c->body, (int) c->body_len, SQLITE_STATIC);
      sqlite3_bind_int64 (s, 3, c->ts);
      if (c->mentions != NULL)
        sqlite3_bind_text (s, 4, c->mentions, -1, SQLITE_STATIC);
      break;
    case NATTERD_CHANGE_DELETE:
      if (!note_search_removal (self, id, c, error) ||
          !run_int (self, STMT_MESSAGE_FILES_DROP, c->message_id, "drop a message's files", error) ||
          !free_unreferenced (self, error))
        return FALSE;
      s = stmt (self, STMT_MESSAGE_ERASE);
      sqlite3_bind_int64 (s, 1, c->message_id);
      break;
    case NATTERD_CHANGE_REACTION:
      s = stmt (self, STMT_MESSAGE_REACTIONS);
      sqlite3_bind_int64 (s, 1, c->message_id);
      if (c->reactions != NULL)
        sqlite3_bind_text (s, 2, c->reactions, -1, SQLITE_STATIC);
      break;
    default:
      g_return_val_if_reached (FALSE);
    }
  if (!step_done (self, s, "change a message", error))
    return FALSE;

  s = stmt (self, STMT_CHANGE_INSERT);
  sqlite3_bind_int64 (s, 1, id);
  sqlite3_bind_int64 (s, 2, c->conversation_id);
  sqlite3_bind_int64 (s, 3, c->actor_id);
  sqlite3_bind_int64 (s, 4, c->ts);
  sqlite3_bind_int (s, 5, c->kind);
  sqlite3_bind_int64 (s, 6, c->message_id);
  if (c->kind == NATTERD_CHANGE_REACTION)
    sqlite3_bind_text (s, 7, c->emoji, -1, SQLITE_STATIC);
  sqlite3_bind_int (s, 8, c->kind == NATTERD_CHANGE_REACTION && c->on);
  if (!step_done (self, s, "insert change", error))
    return FALSE;
  *out_id = id;
  return TRUE;
}

/* The two reads of changes, each a statement of three integers. */
static gboolean
read_changes (NatterdStore            *store,
              StmtId                   id,
              gint64                   a,
              gint64                   b,
              gint64                   limit,
              NatterdStoreChangeFunc   func,
              gpointer                 user_data,
              GError                 **error)
{
  SqliteStore *self = (SqliteStore *) store;
  sqlite3_stmt *s = stmt (self, id);

  sqlite3_bind_int64 (s, 1, a);
  sqlite3_bind_int64 (s, 2, b);
  sqlite3_bind_int64 (s, 3, limit);
  return foreach_change (self, s, func, user_data, "changes", error);
}

static gboolean
sqlite_changes_since (NatterdStore            *store,
                      gint64                   user_id,
                      gint64                   since,
                      gint64                   limit,
                      NatterdStoreChangeFunc   func,
                      gpointer                 user_data,
                      GError                 **error)
{
  return read_changes (store, STMT_CHANGES_SINCE, user_id, since, limit, func, user_data, error);
}

static gboolean
sqlite_changes_between (NatterdStore            *store,
                        gint64                   after,
                        gint64                   before,
                        gint64                   limit,
                        NatterdStoreChangeFunc   func,
                        gpointer                 user_data,
                        GError                 **error)
{
  return read_changes (store, STMT_CHANGES_BETWEEN, after, before, limit, func, user_data, error);
}

static gboolean
sqlite_participant_role (NatterdStore *store,
                         gint64        conversation_id,
                         gint64        user_id,
                         gboolean     *out_participant,
                         gboolean     *out_owner,
                         GError      **error)
{
  SqliteStore *self = (SqliteStore *) store;
  sqlite3_stmt *s = stmt (self, STMT_PARTICIPANT_ROLE);
  int rc;

  sqlite3_bind_int64 (s, 1, conversation_id);
  sqlite3_bind_int64 (s, 2, user_id);
  rc = sqlite3_step (s);
  if (rc == SQLITE_ROW)
    {
      *out_participant = sqlite3_column_int (s, 0) != 0;
      *out_owner = sqlite3_column_int (s, 1) != 0;
    }
  sqlite3_reset (s);
  if (rc != SQLITE_ROW)
    return set_error (self, error, rc, "participant role");
  return TRUE;
}

static gboolean
sqlite_notify_level_set (NatterdStore        *store,
                         gint64               conversation_id,
                         gint64               user_id,
                         NatterdNotifyLevel   level,
                         gboolean            *out_changed,
                         GError             **error)
{
  SqliteStore *self = (SqliteStore *) store;
  sqlite3_stmt *s = stmt (self, STMT_NOTIFY_LEVEL_SET);

  sqlite3_bind_int64 (s, 1, conversation_id);
  sqlite3_bind_int64 (s, 2, user_id);
  sqlite3_bind_int (s, 3, level);
  if (!step_done (self, s, "set notify level", error))
    return FALSE;
  *out_changed = sqlite3_changes (self->db) > 0;
  return TRUE;
}

/* STMT_SEARCH_INDEX_TOP's four values. */
static gboolean
search_index_top (SqliteStore  *self,
                  gint64        values[4],
                  GError      **error)
{
  sqlite3_stmt *s = stmt (self, STMT_SEARCH_INDEX_TOP);
  int rc = sqlite3_step (s);

  if (rc == SQLITE_ROW)
    for (int i = 0; i < 4; i++)
      values[i] = sqlite3_column_int64 (s, i);
  sqlite3_reset (s);
  if (rc != SQLITE_ROW)
    return set_error (self, error, rc, "search index state");
  return TRUE;
}

/* The indexer's, in its transaction: the search_removals it has not
 * applied, in change order, and the mark that says so, which commits with
 * the index (search.db). The writer empties the applied ones. */
static gboolean
apply_search_removals (SqliteStore  *self,
                       gint64        indexed_up_to,
                       GError      **error)
{
  sqlite3_stmt *pending = stmt (self, STMT_REMOVALS_PENDING);
  gint64 last = 0;
  gboolean ok = TRUE;
  int rc;

  while ((rc = sqlite3_step (pending)) == SQLITE_ROW)
    {
      gint64 message_id = sqlite3_column_int64 (pending, 1);
      sqlite3_stmt *s;

      last = sqlite3_column_int64 (pending, 0);
      if (message_id > indexed_up_to)
        continue;
      s = stmt (self, STMT_FTS_DELETE);
      sqlite3_bind_int64 (s, 1, message_id);
      sqlite3_bind_value (s, 2, sqlite3_column_value (pending, 2));
      if (!(ok = step_done (self, s, "remove words from the search index", error)))
        break;
      if (sqlite3_column_type (pending, 3) == SQLITE_NULL)
        continue;
      s = stmt (self, STMT_FTS_INSERT);
      sqlite3_bind_int64 (s, 1, message_id);
      sqlite3_bind_value (s, 2, sqlite3_column_value (pending, 3));
      if (!(ok = step_done (self, s, "index an edit", error)))
        break;
    }
  sqlite3_reset (pending);
  if (!ok)
    return FALSE;
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    return set_error (self, error, rc, "search removals");
  if (last == 0)
    return TRUE;
  {
    sqlite3_stmt *s = stmt (self, STMT_REMOVALS_MARK);

    sqlite3_bind_int64 (s, 1, last);
    return step_done (self, s, "mark the search removals", error);
  }
}

static gboolean
sqlite_search_index_catch_up (NatterdStore *store,
                              guint          limit,
                              gint64        *out_indexed_up_to,
                              GError       **error)
{
  SqliteStore *self = (SqliteStore *) store;

  sqlite3_stmt *s;
  gint64 indexed_up_to = 0, top[4];

  /* Edits and deletes first, against what the index holds before this
   * batch of messages: one it holds loses the words it was indexed with,
   * the old body (and gets the new one); one it does not hold yet is
   * skipped, and the catch-up below indexes its current body. */
  if (!step_int (self, stmt (self, STMT_SEARCH_INDEX_TOP), &indexed_up_to, "search index state", error) ||
      !apply_search_removals (self, indexed_up_to, error))
    return FALSE;

  s = stmt (self, STMT_SEARCH_INDEX_CATCH_UP);
  sqlite3_bind_int64 (s, 1, limit);
  if (!step_done (self, s, "index messages", error))
    return FALSE;
  s = stmt (self, STMT_SEARCH_INDEX_MARK);
  sqlite3_bind_int64 (s, 1, limit);
  if (!step_int (self, s, &indexed_up_to, "mark the search index", error) ||
      !search_index_top (self, top, error))
    return FALSE;
  /* Every message indexed: complete up to the newest change too. */
  *out_indexed_up_to = indexed_up_to >= top[2] ? MAX (top[3], indexed_up_to) : indexed_up_to;
  return TRUE;
}

static gboolean
sqlite_search_index_state (NatterdStore *store,
                           gint64        *out_indexed_up_to,
                           gint64        *out_last_message_id,
                           GError       **error)
{
  SqliteStore *self = (SqliteStore *) store;
  gint64 top[4];

  if (!search_index_top (self, top, error))
    return FALSE;
  /* Complete up to the newest message and change when every message is
   * in and no removal waits; else up to the first that is missing. */
  *out_indexed_up_to = top[0];
  if (top[1] != 0)
    *out_indexed_up_to = MIN (top[0], top[1] - 1);
  else if (top[0] >= top[2])
    *out_indexed_up_to = MAX (top[0], top[3]);
  *out_last_message_id = top[3];
  return TRUE;
}

static gboolean
sqlite_message_by_client_id (NatterdStore *store,
                             gint64                   sender_id,
                             const char              *client_msg_id,
                             NatterdStoreMessageFunc  func,
                             gpointer                 user_data,
                             GError                 **error)
{
  SqliteStore *self = (SqliteStore *) store;

  sqlite3_stmt *s = stmt (self, STMT_MESSAGE_BY_CLIENT_ID);

  sqlite3_bind_int64 (s, 1, sender_id);
  sqlite3_bind_text (s, 2, client_msg_id, -1, SQLITE_STATIC);
  return foreach_message (self, s, func, user_data, "find message", error);
}

static gboolean
sqlite_history (NatterdStore *store,
                gint64                   viewer_id,
                gint64                   conversation_id,
                gint64                   before,
                gint64                   limit,
                gboolean                 skip_deleted,
                NatterdStoreMessageFunc  func,
                gpointer                 user_data,
                GError                 **error)
{
  SqliteStore *self = (SqliteStore *) store;

  sqlite3_stmt *s = stmt (self, before > 0 ? (skip_deleted ? STMT_HISTORY_BEFORE_UNDELETED : STMT_HISTORY_BEFORE)
                                           : (skip_deleted ? STMT_HISTORY_UNDELETED : STMT_HISTORY));

  sqlite3_bind_int64 (s, 1, conversation_id);
  sqlite3_bind_int64 (s, 2, limit);
  if (before > 0)
    sqlite3_bind_int64 (s, 3, before);
  sqlite3_bind_int64 (s, 4, viewer_id);
  return foreach_message (self, s, func, user_data, "history", error);
}

static gboolean
sqlite_messages_between (NatterdStore            *store,
                         gint64                   after,
                         gint64                   before,
                         gint64                   limit,
                         NatterdStoreMessageFunc  func,
                         gpointer                 user_data,
                         GError                 **error)
{
  SqliteStore *self = (SqliteStore *) store;
  sqlite3_stmt *s = stmt (self, STMT_MESSAGES_BETWEEN);

  sqlite3_bind_int64 (s, 1, after);
  sqlite3_bind_int64 (s, 2, before);
  sqlite3_bind_int64 (s, 3, limit);
  return foreach_message (self, s, func, user_data, "messages between", error);
}

static gint
compare_ids (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return x < y ? -1 : x > y;
}

/* One query joining participants and messages would either sort every
 * message after "since" of every conversation of the user (slow after a
 * long absence in a big room) or walk the whole table by id (slow for a
 * user of a small conversation in a big deployment). Instead: the first
 * @limit ids after @since of each conversation (index range scans, no
 * sort), merged in memory, then those rows by primary key. The cost
 * depends on the user's conversations and @limit, never on the table. */
static gboolean
sqlite_sync (NatterdStore *store,
             gint64                   user_id,
             gint64                   since,
             gint64                   limit,
             gboolean                 skip_deleted,
             NatterdStoreMessageFunc  func,
             gpointer                 user_data,
             GError                 **error)
{
  SqliteStore *self = (SqliteStore *) store;

  g_autoptr(GArray) conversations = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  sqlite3_stmt *s;
  int rc;

  s = stmt (self, STMT_SYNC_CONVERSATIONS);
  sqlite3_bind_int64 (s, 1, user_id);
  while ((rc = sqlite3_step (s)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (s, 0);
      g_array_append_val (conversations, id);
    }
  sqlite3_reset (s);
  if (rc != SQLITE_DONE)
    return set_error (self, error, rc, "sync");

  for (guint i = 0; i < conversations->len; i++)
    {
      s = stmt (self, skip_deleted ? STMT_SYNC_IDS_UNDELETED : STMT_SYNC_IDS);
      sqlite3_bind_int64 (s, 1, g_array_index (conversations, gint64, i));
      sqlite3_bind_int64 (s, 2, since);
      sqlite3_bind_int64 (s, 3, limit);
      sqlite3_bind_int64 (s, 4, user_id);
      while ((rc = sqlite3_step (s)) == SQLITE_ROW)
        {
          gint64 id = sqlite3_column_int64 (s, 0);
          g_array_append_val (ids, id);
        }
      sqlite3_reset (s);
      if (rc != SQLITE_DONE)
        return set_error (self, error, rc, "sync");
    }

  g_array_sort (ids, compare_ids);
  if (ids->len > (guint64) limit)
    g_array_set_size (ids, limit);

  if (ids->len == 0)
    return TRUE;

  /* The rows: when the chosen ids are dense (the usual case: the user's
   * conversations are most of the traffic), one scan of the id range,
   * skipping rows of other conversations; when they are sparse, one
   * primary-key lookup each. */
  if (g_array_index (ids, gint64, ids->len - 1) - g_array_index (ids, gint64, 0) < 4 * (gint64) ids->len)
    {
      guint next = 0;

      s = stmt (self, STMT_MESSAGES_RANGE);
      sqlite3_bind_int64 (s, 1, g_array_index (ids, gint64, 0));
      sqlite3_bind_int64 (s, 2, g_array_index (ids, gint64, ids->len - 1));
      while (next < ids->len && (rc = sqlite3_step (s)) == SQLITE_ROW)
        {
          NatterdStoreMessage m;
          gint64 id = sqlite3_column_int64 (s, 0);

          if (id != g_array_index (ids, gint64, next))
            continue;
          next++;
          message_from_row (s, 0, &m);
          if (!func (&m, user_data))
            break;
        }
      sqlite3_reset (s);
      if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return set_error (self, error, rc, "sync");
      return TRUE;
    }

  for (guint i = 0; i < ids->len; i++)
    {
      gboolean go_on = TRUE;

      s = stmt (self, STMT_MESSAGE_BY_ID);
      sqlite3_bind_int64 (s, 1, g_array_index (ids, gint64, i));
      rc = sqlite3_step (s);
      if (rc == SQLITE_ROW)
        {
          NatterdStoreMessage m;
          message_from_row (s, 0, &m);
          go_on = func (&m, user_data);
        }
      sqlite3_reset (s);
      if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return set_error (self, error, rc, "sync");
      if (!go_on)
        break;
    }
  return TRUE;
}

static void
append_fts_word_cb (const char *word,
                    gsize       len,
                    guint       chars,
                    gpointer    user_data)
{
  GString *out = user_data;

  if (out->len > 0)
    g_string_append_c (out, ' ');
  g_string_append_c (out, '"');
  g_string_append_len (out, word, len);
  g_string_append_c (out, '"');
  /* A word of one letter matches only that word: as a prefix it would
   * merge the doclists of a good part of the vocabulary (40 ms at a
   * million messages), for results nobody reads. */
  if (chars >= NATTERD_STORE_SEARCH_PREFIX_MIN)
    g_string_append_c (out, '*');
}

char *
natterd_store_sqlite_fts_query (const char *query)
{
  /* The query is split into words here, as the tokenizer splits the
   * messages (natterd-search-words.h), and each word becomes a quoted
   * FTS5 string: no operator, column filter or bareword syntax of the
   * user's text (NEAR, OR, *, -, ^, :, quotes) reaches the FTS5 parser,
   * and punctuation alone, which would be an empty phrase that matches
   * nothing, drops out of the AND. A word cannot hold a '"', so nothing
   * needs escaping inside the quotes. */
  return natterd_search_query_build (query, append_fts_word_cb);
}

static gboolean
sqlite_search (NatterdStore *store,
               gint64                   user_id,
               const char              *query,
               gint64                   conversation_id,
               gint64                   limit,
               NatterdStoreMessageFunc  func,
               gpointer                 user_data,
               GError                 **error)
{
  SqliteStore *self = (SqliteStore *) store;

  g_autofree char *fts = natterd_store_sqlite_fts_query (query);
  sqlite3_stmt *s;

  if (fts == NULL)
    return TRUE;

  s = stmt (self, conversation_id > 0 ? STMT_SEARCH_CONVERSATION : STMT_SEARCH);
  sqlite3_bind_int64 (s, 1, user_id);
  sqlite3_bind_text (s, 2, fts, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (s, 3, limit);
  if (conversation_id > 0)
    sqlite3_bind_int64 (s, 4, conversation_id);
  return foreach_message (self, s, func, user_data, "search", error);
}

static gboolean
sqlite_conversation_summaries (NatterdStore *store,
                               gint64                   user_id,
                               NatterdStoreSummaryFunc  func,
                               gpointer                 user_data,
                               GError                 **error)
{
  SqliteStore *self = (SqliteStore *) store;

  sqlite3_stmt *s = stmt (self, STMT_SUMMARIES);
  int rc;

  sqlite3_bind_int64 (s, 1, user_id);
  while ((rc = sqlite3_step (s)) == SQLITE_ROW)
    {
      NatterdStoreMessage m;
      gboolean has_last = sqlite3_column_type (s, 4) != SQLITE_NULL;

      if (has_last)
        message_from_row (s, 4, &m);
      func (sqlite3_column_int64 (s, 0), sqlite3_column_int64 (s, 1),
            sqlite3_column_int64 (s, 2), sqlite3_column_int (s, 3), has_last ? &m : NULL, user_data);
    }
  sqlite3_reset (s);
  if (rc != SQLITE_DONE)
    return set_error (self, error, rc, "conversations");
  return TRUE;
}

/* --- files --- */

static gboolean
sqlite_upload_usage (NatterdStore *store, gint64 user_id, gint64 *out_in_progress,
                     gint64 *out_bytes, GError **error)
{
  SqliteStore *self = (SqliteStore *) store;
  sqlite3_stmt *s = stmt (self, STMT_UPLOAD_USAGE);
  int rc;

  sqlite3_bind_int64 (s, 1, user_id);
  rc = sqlite3_step (s);
  if (rc == SQLITE_ROW)
    {
      *out_in_progress = sqlite3_column_int64 (s, 0);
      *out_bytes = sqlite3_column_int64 (s, 1);
    }
  sqlite3_reset (s);
  return rc == SQLITE_ROW || set_error (self, error, rc, "upload usage");
}

static gboolean
sqlite_upload_insert (NatterdStore *store, gint64 user_id, gint64 size, const char *sha256,
                      gint64 now_ms, gint64 *out_id, GError **error)
{
  SqliteStore *self = (SqliteStore *) store;
  sqlite3_stmt *s = stmt (self, STMT_UPLOAD_INSERT);

  sqlite3_bind_int64 (s, 1, user_id);
  sqlite3_bind_int64 (s, 2, size);
  sqlite3_bind_text (s, 3, sha256, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (s, 4, now_ms);
  if (!step_done (self, s, "insert upload", error))
    return FALSE;
  *out_id = sqlite3_last_insert_rowid (self->db);
  return TRUE;
}

static gboolean
sqlite_upload_get (NatterdStore *store, gint64 id, NatterdStoreUpload *out,
                   gboolean *out_found, GError **error)
{
  SqliteStore *self = (SqliteStore *) store;
  sqlite3_stmt *s = stmt (self, STMT_UPLOAD_GET);
  int rc;

  sqlite3_bind_int64 (s, 1, id);
  rc = sqlite3_step (s);
  *out_found = rc == SQLITE_ROW;
  if (rc == SQLITE_ROW)
    {
      out->id = id;
      out->user_id = sqlite3_column_int64 (s, 0);
      out->size = sqlite3_column_int64 (s, 1);
      g_strlcpy (out->sha256, (const char *) sqlite3_column_text (s, 2), sizeof out->sha256);
      out->touched = sqlite3_column_int64 (s, 3);
      out->file_id = sqlite3_column_int64 (s, 4);
      out->received = sqlite3_column_int64 (s, 5);
    }
  sqlite3_reset (s);
  return rc == SQLITE_ROW || rc == SQLITE_DONE || set_error (self, error, rc, "read upload");
}

static gboolean
sqlite_upload_update (NatterdStore *store, gint64 id, gint64 now_ms, gint64 file_id, gint64 added,
                      GError **error)
{
  SqliteStore *self = (SqliteStore *) store;
  sqlite3_stmt *s = stmt (self, STMT_UPLOAD_UPDATE);

  sqlite3_bind_int64 (s, 1, id);
  sqlite3_bind_int64 (s, 2, now_ms);
  sqlite3_bind_int64 (s, 3, file_id);
  sqlite3_bind_int64 (s, 4, added);
  return step_done (self, s, "update upload", error);
}

/* A statement whose one parameter is an integer, for its effect. */
static gboolean
run_int (SqliteStore *self, StmtId id, gint64 value, const char *what, GError **error)
{
  sqlite3_stmt *s = stmt (self, id);

  sqlite3_bind_int64 (s, 1, value);
  return step_done (self, s, what, error);
}

static gboolean
sqlite_chunks_drop (NatterdStore *store, gint64 blob_id, GError **error)
{
  return run_int ((SqliteStore *) store, STMT_CHUNKS_DROP, blob_id, "drop chunks", error);
}

static gboolean
sqlite_upload_delete (NatterdStore *store, gint64 id, GError **error)
{
  return sqlite_chunks_drop (store, id, error) &&
         run_int ((SqliteStore *) store, STMT_UPLOAD_DELETE, id, "delete upload", error);
}

static gboolean
sqlite_chunk_put (NatterdStore *store, gint64 blob_id, gint64 index, const guint8 *data,
                  gsize len, gboolean *out_added, GError **error)
{
  SqliteStore *self = (SqliteStore *) store;
  sqlite3_stmt *s = stmt (self, STMT_CHUNK_PUT);

  sqlite3_bind_int64 (s, 1, blob_id);
  sqlite3_bind_int64 (s, 2, index);
  sqlite3_bind_blob64 (s, 3, data, len, SQLITE_STATIC);
  if (!step_done (self, s, "store chunk", error))
    return FALSE;
  *out_added = sqlite3_changes (self->db) > 0;
  return TRUE;
}

static gboolean
sqlite_chunk_get (NatterdStore *store, gint64 blob_id, gint64 index, GBytes **out, GError **error)
{
  SqliteStore *self = (SqliteStore *) store;
  sqlite3_stmt *s = stmt (self, STMT_CHUNK_GET);
  int rc;

  sqlite3_bind_int64 (s, 1, blob_id);
  sqlite3_bind_int64 (s, 2, index);
  rc = sqlite3_step (s);
  *out = NULL;
  if (rc == SQLITE_ROW)
    *out = g_bytes_new (sqlite3_column_blob (s, 0), sqlite3_column_bytes (s, 0));
  sqlite3_reset (s);
  return rc == SQLITE_ROW || rc == SQLITE_DONE || set_error (self, error, rc, "read chunk");
}

static gboolean
sqlite_chunks_list (NatterdStore *store, gint64 blob_id, GArray *out, GError **error)
{
  SqliteStore *self = (SqliteStore *) store;
  sqlite3_stmt *s = stmt (self, STMT_CHUNKS_LIST);
  int rc;

  sqlite3_bind_int64 (s, 1, blob_id);
  while ((rc = sqlite3_step (s)) == SQLITE_ROW)
    {
      gint64 index = sqlite3_column_int64 (s, 0);

      g_array_append_val (out, index);
    }
  sqlite3_reset (s);
  return rc == SQLITE_DONE || set_error (self, error, rc, "list chunks");
}

static gboolean
sqlite_file_find (NatterdStore *store, const char *sha256, gint64 *out_id, GError **error)
{
  SqliteStore *self = (SqliteStore *) store;
  sqlite3_stmt *s = stmt (self, STMT_FILE_FIND);
  int rc;

  sqlite3_bind_text (s, 1, sha256, -1, SQLITE_STATIC);
  rc = sqlite3_step (s);
  *out_id = rc == SQLITE_ROW ? sqlite3_column_int64 (s, 0) : 0;
  sqlite3_reset (s);
  return rc == SQLITE_ROW || rc == SQLITE_DONE || set_error (self, error, rc, "find file");
}

static gboolean
sqlite_file_insert (NatterdStore *store, gint64 id, const char *sha256, gint64 size, GError **error)
{
  SqliteStore *self = (SqliteStore *) store;
  sqlite3_stmt *s = stmt (self, STMT_FILE_INSERT);
  g_autofree char *path = file_path (self, sha256);

  /* Freed and unlinked (unlink_freed) between its check and now: the
   * upload keeps its chunks, and its last chunk sent again checks it
   * anew. */
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_FAILED,
                   "The file's bytes went while it was checked; send its last chunk again");
      return FALSE;
    }
  sqlite3_bind_int64 (s, 1, id);
  sqlite3_bind_text (s, 2, sha256, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (s, 3, size);
  return step_done (self, s, "insert file", error) &&
         run_int (self, STMT_FILE_CHUNKS_GONE, id, "drop the file's chunks", error);
}

static gboolean
sqlite_file_readable (NatterdStore *store, gint64 file_id, gint64 user_id, gint64 *out_size,
                      char *out_sha256, GError **error)
{
  SqliteStore *self = (SqliteStore *) store;
  sqlite3_stmt *s = stmt (self, STMT_FILE_READABLE);
  int rc;

  sqlite3_bind_int64 (s, 1, file_id);
  sqlite3_bind_int64 (s, 2, user_id);
  rc = sqlite3_step (s);
  *out_size = rc == SQLITE_ROW ? sqlite3_column_int64 (s, 0) : -1;
  if (rc == SQLITE_ROW && out_sha256 != NULL)
    g_strlcpy (out_sha256, (const char *) sqlite3_column_text (s, 1), 65);
  sqlite3_reset (s);
  return rc == SQLITE_ROW || rc == SQLITE_DONE || set_error (self, error, rc, "file readable");
}

static gboolean
sqlite_files_expire (NatterdStore *store, gint64 before_ms, GError **error)
{
  SqliteStore *self = (SqliteStore *) store;

  return run_int (self, STMT_UPLOADS_EXPIRE_CHUNKS, before_ms, "expire uploads' chunks", error) &&
         run_int (self, STMT_UPLOADS_EXPIRE, before_ms, "expire uploads", error) &&
         free_unreferenced (self, error);
}

/* Files of the data directory (docs/architecture.md, "Files"): a file
 * is files/ab/abcdef... by its SHA-256; files/tmp holds the ones being
 * written. */
static char *
files_dir (SqliteStore *self,
           const char  *sub)
{
  g_autofree char *data_dir = g_path_get_dirname (self->path != NULL ? self->path : ".");

  return g_build_filename (data_dir, "files", sub, NULL);
}

static char *
file_path (SqliteStore *self,
           const char  *sha256)
{
  char prefix[3] = { sha256[0], sha256[1], '\0' };
  g_autofree char *dir = files_dir (self, prefix);

  return g_build_filename (dir, sha256, NULL);
}

/* The files nothing refers to any more: their rows and chunks now,
 * their files of the data directory after the commit (unlink_freed),
 * so that a rollback cannot leave a row without its bytes. */
static gboolean
free_unreferenced (SqliteStore  *self,
                   GError      **error)
{
  sqlite3_stmt *s = stmt (self, STMT_FILES_UNREFERENCED);
  int rc;

  while ((rc = sqlite3_step (s)) == SQLITE_ROW)
    {
      if (self->freed == NULL)
        self->freed = g_ptr_array_new_with_free_func (g_free);
      g_ptr_array_add (self->freed, g_strdup ((const char *) sqlite3_column_text (s, 0)));
    }
  sqlite3_reset (s);
  if (rc != SQLITE_DONE)
    return set_error (self, error, rc, "find unreferenced files");
  if (!step_done (self, stmt (self, STMT_FILES_FREE_CHUNKS), "free files' chunks", error) ||
      !step_done (self, stmt (self, STMT_FILES_FREE), "free files", error))
    return FALSE;
  if (sqlite3_get_autocommit (self->db))
    unlink_freed (self);
  return TRUE;
}

/* After a commit (or a rollback): the files of the data directory of
 * the files freed, unless a row names the same bytes again (a later job
 * of the transaction stored them anew; sqlite_file_insert makes sure
 * the file is there when it writes such a row, so an unlink here that
 * raced a new check's rename is found there). */
static void
unlink_freed (SqliteStore *self)
{
  for (guint i = 0; self->freed != NULL && i < self->freed->len; i++)
    {
      const char *sha256 = self->freed->pdata[i];
      gint64 id = 1;

      if (sqlite_file_find (&self->parent, sha256, &id, NULL) && id == 0)
        {
          g_autofree char *path = file_path (self, sha256);

          g_unlink (path);
        }
    }
  if (self->freed != NULL)
    g_ptr_array_set_size (self->freed, 0);
}

static gboolean
set_io_error (GError    **error,
              const char *what,
              const char *path,
              int         errsv)
{
  g_set_error (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_FAILED, "%s %s: %s",
               what, path, g_strerror (errsv));
  return FALSE;
}

static gboolean
write_all_cb (gconstpointer data, gsize len, gpointer user_data, GError **error)
{
  int fd = GPOINTER_TO_INT (user_data);
  const char *at = data;

  while (len > 0)
    {
      gssize n = write (fd, at, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return set_io_error (error, "write", "a file being checked", errno);
      at += n;
      len -= n;
    }
  return TRUE;
}

/* Makes @dir and makes its entry durable in its parent. */
static gboolean
sync_dir (const char  *dir,
          GError     **error)
{
  int fd = g_open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  gboolean ok;

  if (fd < 0)
    return set_io_error (error, "open", dir, errno);
  ok = fsync (fd) == 0 || set_io_error (error, "fsync", dir, errno);
  close (fd);
  return ok;
}

/* The chunks go through the hash into files/tmp/ID.part, which becomes
 * files/ab/SHA256 only when they match, after an fsync of the bytes and,
 * after the rename, of the folder: a crash leaves a whole file or a
 * .part the sweep removes, never half a file under a file's name. */
static gboolean
sqlite_blob_verify (NatterdStore *store, gint64 blob_id, gint64 size, const char *sha256,
                    gboolean *out_match, GError **error)
{
  SqliteStore *self = (SqliteStore *) store;
  g_autofree char *tmp_dir = files_dir (self, "tmp");
  g_autofree char *name = g_strdup_printf ("%" G_GINT64_FORMAT ".part", blob_id);
  g_autofree char *part = g_build_filename (tmp_dir, name, NULL);
  g_autofree char *final = file_path (self, sha256);
  g_autofree char *final_dir = g_path_get_dirname (final);
  gboolean ok;
  int fd;

  if (g_mkdir_with_parents (tmp_dir, 0700) != 0 || g_mkdir_with_parents (final_dir, 0700) != 0)
    return set_io_error (error, "make the folders of", final, errno);
  fd = g_open (part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return set_io_error (error, "create", part, errno);
  ok = natterd_store_blob_hash (store, blob_id, size, sha256, write_all_cb, GINT_TO_POINTER (fd),
                                out_match, error) &&
       (!*out_match || fsync (fd) == 0 || set_io_error (error, "fsync", part, errno));
  close (fd);
  if (ok && *out_match)
    ok = (g_rename (part, final) == 0 || set_io_error (error, "rename", part, errno)) &&
         sync_dir (final_dir, error);
  if (!ok || !*out_match)
    g_unlink (part);
  return ok;
}

static gboolean
sqlite_file_chunk_get (NatterdStore *store, gint64 file_id, gint64 index, GBytes **out, GError **error)
{
  SqliteStore *self = (SqliteStore *) store;
  sqlite3_stmt *s = stmt (self, STMT_FILE_SHA256);
  g_autofree char *path = NULL;
  gint64 size = 0;
  gsize len;
  guint8 *data;
  gssize n;
  int rc, fd;

  sqlite3_bind_int64 (s, 1, file_id);
  rc = sqlite3_step (s);
  if (rc == SQLITE_ROW)
    {
      path = file_path (self, (const char *) sqlite3_column_text (s, 0));
      size = sqlite3_column_int64 (s, 1);
    }
  sqlite3_reset (s);
  *out = NULL;
  if (rc != SQLITE_ROW)
    return rc == SQLITE_DONE || set_error (self, error, rc, "read file");
  if (index * NATTERD_STORE_CHUNK_SIZE >= size)
    return TRUE;
  len = natterd_store_chunk_len (size, index);
  fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    return set_io_error (error, "open", path, errno);
  data = g_malloc (len);
  do
    n = pread (fd, data, len, index * NATTERD_STORE_CHUNK_SIZE);
  while (n < 0 && errno == EINTR);
  close (fd);
  if (n != (gssize) len)
    {
      g_free (data);
      return set_io_error (error, "read", path, n < 0 ? errno : EIO);
    }
  *out = g_bytes_new_take (data, len);
  return TRUE;
}

/* How old a file of the data directory no row names must be before the
 * sweep removes it: a check renames its file into place a moment before
 * the writer commits its row. */
#define SWEEP_AGE_S (10 * 60)

static void
unlink_if_old (const char *path,
               gint64      now_s)
{
  GStatBuf st;

  if (g_stat (path, &st) == 0 && now_s - (gint64) st.st_mtime >= SWEEP_AGE_S)
    g_unlink (path);
}

static gboolean
sqlite_files_sweep (NatterdStore *store, GError **error)
{
  SqliteStore *self = (SqliteStore *) store;
  g_autofree char *top = files_dir (self, NULL);
  g_autoptr(GDir) dir = g_dir_open (top, 0, NULL);
  gint64 now_s = g_get_real_time () / G_USEC_PER_SEC;
  const char *sub;

  if (dir == NULL)
    return TRUE; /* no file yet */
  while ((sub = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *sub_path = g_build_filename (top, sub, NULL);
      g_autoptr(GDir) inner = g_dir_open (sub_path, 0, NULL);
      const char *name;

      while (inner != NULL && (name = g_dir_read_name (inner)) != NULL)
        {
          g_autofree char *path = g_build_filename (sub_path, name, NULL);
          gint64 known_id = 1;

          if (!g_str_equal (sub, "tmp") && !sqlite_file_find (store, name, &known_id, error))
            return FALSE;
          if (known_id == 0 || g_str_equal (sub, "tmp"))
            unlink_if_old (path, now_s);
        }
    }
  return TRUE;
}

static const NatterdStoreEngine sqlite_engine = {
  .name = "sqlite",
  .shared = FALSE, /* natterd locks its data dir: one process writes natter.db */
  .close = sqlite_close,
  .open_sibling = sqlite_open_sibling,
  .open_indexer = sqlite_open_indexer,
  .open_reader = sqlite_open_reader,
  .set_write_hook = sqlite_set_write_hook,
  .set_reconnect_in_background = sqlite_set_reconnect_in_background,
  .get_path = sqlite_get_path,
  .get_schema_version = sqlite_get_schema_version,
  .begin = sqlite_begin,
  .commit = sqlite_commit,
  .rollback = sqlite_rollback,
  .in_transaction = sqlite_in_transaction,
  .savepoint = sqlite_savepoint,
  .user_insert = sqlite_user_insert,
  .users_foreach = sqlite_users_foreach,
  .user_set_last_seen = sqlite_user_set_last_seen,
  .user_set_status_text = sqlite_user_set_status_text,
  .user_set_display_name = sqlite_user_set_display_name,
  .avatar_set = sqlite_avatar_set,
  .avatar_get = sqlite_avatar_get,
  .avatars_foreach = sqlite_avatars_foreach,
  .user_delete = sqlite_user_delete,
  .token_insert = sqlite_token_insert,
  .stats = sqlite_stats,
  .backup = sqlite_backup,
  .tokens_of_user = sqlite_tokens_of_user,
  .token_set_device = sqlite_token_set_device,
  .user_set_password_hash = sqlite_user_set_password_hash,
  .invite_insert = sqlite_invite_insert,
  .invites_foreach = sqlite_invites_foreach,
  .invite_delete = sqlite_invite_delete,
  .invite_consume = sqlite_invite_consume,
  .token_lookup = sqlite_token_lookup,
  .token_delete = sqlite_token_delete,
  .tokens_expire = sqlite_tokens_expire,
  .tokens_revoked = sqlite_tokens_revoked,
  .contact_set = sqlite_contact_set,
  .contact_lock = sqlite_contact_lock,
  .contact_delete = sqlite_contact_delete,
  .contacts_foreach = sqlite_contacts_foreach,
  .block_set = sqlite_block_set,
  .block_delete = sqlite_block_delete,
  .blocks_foreach = sqlite_blocks_foreach,
  .direct_ensure = sqlite_direct_ensure,
  .room_insert = sqlite_room_insert,
  .room_set_topic = sqlite_room_set_topic,
  .conversations_foreach = sqlite_conversations_foreach,
  .participant_add = sqlite_participant_add,
  .participant_remove = sqlite_participant_remove,
  .participants_foreach = sqlite_participants_foreach,
  .room_rows_foreach = sqlite_room_rows_foreach,
  .room_settings_set = sqlite_room_settings_set,
  .room_role_set = sqlite_room_role_set,
  .room_owner_set = sqlite_room_owner_set,
  .room_ban_set = sqlite_room_ban_set,
  .room_invitation_set = sqlite_room_invitation_set,
  .room_delete = sqlite_room_delete,
  .read_marker_set = sqlite_read_marker_set,
  .message_insert = sqlite_message_insert,
  .search_index_catch_up = sqlite_search_index_catch_up,
  .search_index_state = sqlite_search_index_state,
  .message_by_client_id = sqlite_message_by_client_id,
  .message_by_id = sqlite_message_by_id,
  .change_insert = sqlite_change_insert,
  .changes_since = sqlite_changes_since,
  .changes_between = sqlite_changes_between,
  .notify_level_set = sqlite_notify_level_set,
  .participant_role = sqlite_participant_role,
  .upload_usage = sqlite_upload_usage,
  .upload_insert = sqlite_upload_insert,
  .upload_get = sqlite_upload_get,
  .upload_update = sqlite_upload_update,
  .upload_delete = sqlite_upload_delete,
  .chunk_put = sqlite_chunk_put,
  .chunk_get = sqlite_chunk_get,
  .chunks_list = sqlite_chunks_list,
  .chunks_drop = sqlite_chunks_drop,
  .file_find = sqlite_file_find,
  .file_insert = sqlite_file_insert,
  .file_readable = sqlite_file_readable,
  .files_expire = sqlite_files_expire,
  .blob_verify = sqlite_blob_verify,
  .file_chunk_get = sqlite_file_chunk_get,
  .files_sweep = sqlite_files_sweep,
  .history = sqlite_history,
  .messages_between = sqlite_messages_between,
  .sync = sqlite_sync,
  .search = sqlite_search,
  .conversation_summaries = sqlite_conversation_summaries,
};
