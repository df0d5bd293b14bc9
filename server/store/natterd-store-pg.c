/* natterd-store-pg.c: the PostgreSQL engine of natterd-store.h.
 *
 * One libpq connection (PGconn) per PgStore, used by one thread at a time
 * (the main loop's, the writer thread's via open_sibling, the search feed's
 * via open_indexer). Calls block in libpq for now; the chat layer is moving
 * every store call onto store threads. Every statement is prepared once per
 * connection (PQprepare) and run with PQexecPrepared: parameters never
 * become SQL text. synchronous_commit is on, so a COMMIT that returned is
 * on the server's disk.
 *
 * Message ids in commit order. Several natterd nodes may write to one
 * database, and a client that synced up to id X asks for "id > X" next: a
 * message that commits after that with an id below X would never reach it.
 * A sequence hands ids out when a row is inserted, not when it commits, so
 * two writers can commit out of id order (Synapse tracks "persisted up to"
 * positions for the same hazard). Here the ids come from one row,
 * message_counter: the first message insert of a transaction locks it,
 * or the BEGIN of a writer's transaction (see "Lock order"), with
 * SELECT ... FOR UPDATE, which in READ COMMITTED waits for the holder's
 * COMMIT and then reads the value it committed; the transaction's
 * messages take the ids after it, counted here in C in insert order (so
 * a resend found by (sender, client_msg_id) uses none), and COMMIT is
 * preceded by one UPDATE that stores the last id used (in the COMMIT's
 * round trip). The row lock is held
 * until COMMIT, so transactions that insert messages commit one after the
 * other, each with ids above every earlier one's: id order is commit order
 * on every node; the price is that message commits of all nodes are
 * serialised on that row, which the group commit (thousands of messages
 * per transaction) amortises. The per-conversation seq and sender_seq
 * columns (unread counts, as on SQLite) are computed by statements that
 * start after the lock is taken, so they see every earlier commit.
 *
 * Lock order. A writer batch that set a read marker (a participants row
 * locked) before its first insert would then wait for the counter, while
 * another node's batch holding the counter waits for that participants
 * row (its own marker): a deadlock, which PostgreSQL breaks after
 * deadlock_timeout (1 s) by aborting one batch (40P01), whose sends would
 * all be answered with an error. So the writer's connection
 * (open_sibling: natterd-commit's writer; not the reader's or the
 * indexer's) takes the counter row at BEGIN, before any other lock: every
 * writer transaction locks the counter first, and no two can wait for
 * each other. The cost, reasoned, not measured: one more statement per
 * batch that inserts no message (sent with the BEGIN, in its round trip:
 * begin_locked); batches of the nodes
 * run one after another from BEGIN, not only from their first insert,
 * i.e. their marker updates and lookups join the serialised part, which
 * the COMMIT (the WAL flush) dominates anyway; within a node nothing
 * changes, there is one writer thread. Transactions of the main loop
 * insert no message and do not take the counter; the participants rows
 * they lock are rows they insert (a new conversation, a join and its
 * marker) or one they delete (a leave, alone), so none holds a row a
 * writer wants while waiting for another: no cycle. A main-loop
 * transaction that locked two existing participants rows would need the
 * counter first too.
 *
 * Batched inserts. A round trip per message capped the writer at about
 * 9,500 messages/s (docs/performance.md), whatever the batch. So the
 * writer's connection (open_sibling) queues its inserts (QueuedMessage)
 * and writes them all at the first statement of the transaction that
 * follows them (any statement: a read marker must see the messages before
 * it) or at COMMIT (flush_queued): one statement finds which
 * (sender, client_msg_id) pairs of the batch are stored already, for
 * arrays of pairs (unnest ... WITH ORDINALITY: text-format array
 * literals, one parameter each, so libpq's limit of 65,535 parameters
 * never applies), and COPY ... FROM STDIN writes the rest, every column
 * computed here. The counter's row is locked (above), so no other
 * transaction inserts meanwhile: the lookup cannot miss a row, and the
 * ids are counted densely in C, in queue order. seq and sender_seq go on
 * from the newest stored row of the conversation (and of its sender),
 * counted in C too: the connection keeps them in a cache (seq_cache),
 * which holds while the counter still says what this connection's last
 * commit left in it (nobody else wrote a message since: always so on a
 * single node, where the newest-seq lookup then costs no statement); a
 * conversation the cache lacks costs one statement for the batch
 * (STMT_MESSAGES_NEWEST_SEQ), and a rollback of rows it counted
 * forgets it. COPY instead of an INSERT ... SELECT FROM unnest with
 * window functions: no arrays to unpack, nothing to plan, about a third
 * less of the backend's CPU per row. A resend of a message earlier in the
 * same batch is found in C (queued_keys). The caller's callback runs at
 * the flush, so the stored row (or the original) reaches it by the
 * COMMIT at the latest; a job rolled back to its savepoint drops its
 * queued rows, and a savepoint is set only after a flush, so that it can
 * never take back an earlier job's rows. A failed flush rolls the whole
 * transaction back: its rows belong to jobs that had already succeeded.
 * Other connections (main loop, tests) write each insert at once, the
 * same way. A change of a message (edit, reaction, delete) updates the
 * message's row at once, the statements no_flush (a queued message has
 * no id: no change can name it), and queues its own row (QueuedChange),
 * written at the flush in one INSERT ... unnest with the id after the
 * messages queued before it: a change between sends used to write the
 * queue first and cut the batch into a COPY per change (docs/
 * performance.md, "Message actions: the mixed scenario"). A delete still
 * writes the queue first: the frees of its files must see the queued
 * messages' files.
 *
 * Search. Each message's words are split and folded here in C
 * (natterd-search-words.h: the same rule as SQLite's FTS5 index) and
 * stored as a tsvector (array_to_tsvector) in the message's row, in the
 * same statement, under a GIN index; a query becomes a tsquery literal of
 * quoted lexemes (":*" for prefixes), cast with ::tsquery, which involves
 * no parser or dictionary. PostgreSQL's own text search parser splits
 * otherwise ("pizza.party" is a host name to it, "3.14" a number,
 * "x-ray" one hyphenated word) and unaccent needs CREATE EXTENSION, which
 * a database owner may not be allowed; doing it in C keeps both engines'
 * answers the same. The index is never behind the messages.
 *
 * Errors. A unique (or other integrity) violation is
 * NATTERD_STORE_ERROR_CONSTRAINT; everything else FAILED. PostgreSQL
 * aborts a transaction at its first error, so the engine rolls it back at
 * once: natterd_store_in_transaction() is then FALSE, as on SQLite after a
 * rollback it did itself. The conninfo may hold a password: it is never
 * logged; errors name the database by host, port and database name only.
 *
 * A lost connection (a server restart or crash, a cut network: libpq's
 * timeouts below bound how long a call can wait for that) fails the call
 * with NATTERD_STORE_ERROR_UNAVAILABLE, and the transaction in progress
 * with it: its outcome is unknown when COMMIT was the call, and a resend
 * finds the message if it was stored (client_msg_id). A read outside a
 * transaction is run once more on a new connection. The connection is
 * made again by a later call, never by a loop of its own: the first
 * attempt at once (a restarted server is back within moments), the next
 * ones no sooner than RECONNECT_FIRST_PAUSE_MS after the last, doubling up
 * to RECONNECT_MAX_PAUSE_MS; a call before then fails at once, so a dead
 * server is not hammered by an attempt per batch or per read. Making a
 * connection blocks (connect_timeout): the writer's, reader's and
 * indexer's threads may wait, natterd's main loop may not, so its store
 * (natterd_store_set_reconnect_in_background) makes it on a short-lived
 * thread and fails its calls at once until it is there. Only the first
 * connection of the process to find the database lost logs it (a
 * warning), and only the last to get back logs that (a message); each
 * failed attempt is a debug line.
 */
#define G_LOG_DOMAIN "natterd-store"

#include "config.h"

#include <libpq-fe.h>
#include <string.h>

#include "natterd-search-words.h"
#include "natterd-store-engine.h"
#include "natterd-store-pg.h"
#include "natterd-store-pg-internal.h"

typedef struct _PgStore PgStore;

static const NatterdStoreEngine pg_engine;

/* Each entry moves the schema from version i to i+1. Never edit one that
 * shipped: add a new one. The same logical schema as SQLite's version 5
 * (natterd-store-sqlite.c), with the message counter and the words. */
static const char *const migrations[] = {
  /* 1: the first schema. */
  "CREATE TABLE users ("
  "  id            bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
  "  username      text NOT NULL UNIQUE,"
  "  display_name  text NOT NULL,"
  "  password_hash text NOT NULL,"
  "  status_text   text,"
  "  last_seen     bigint NOT NULL DEFAULT 0,"
  "  created       bigint NOT NULL"
  ");"
  "CREATE TABLE tokens ("
  "  hash    bytea PRIMARY KEY,"
  "  user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
  "  expires bigint NOT NULL"
  ");"
  "CREATE INDEX tokens_expires ON tokens (expires);"
  "CREATE TABLE contacts ("
  "  a     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
  "  b     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
  "  state integer NOT NULL,"
  "  PRIMARY KEY (a, b)"
  ");"
  "CREATE TABLE conversations ("
  "  id     bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
  "  kind   integer NOT NULL,"
  "  user_a bigint REFERENCES users (id),"
  "  user_b bigint REFERENCES users (id),"
  "  UNIQUE (user_a, user_b)"
  ");"
  "CREATE TABLE rooms ("
  "  conversation_id bigint PRIMARY KEY REFERENCES conversations (id),"
  "  name            text NOT NULL UNIQUE,"
  "  topic           text NOT NULL DEFAULT '',"
  "  owner_id        bigint NOT NULL REFERENCES users (id),"
  "  created         bigint NOT NULL"
  ");"
  "CREATE TABLE participants ("
  "  conversation_id bigint NOT NULL REFERENCES conversations (id),"
  "  user_id         bigint NOT NULL REFERENCES users (id),"
  "  read_up_to      bigint NOT NULL DEFAULT 0,"
  "  PRIMARY KEY (conversation_id, user_id)"
  ");"
  "CREATE INDEX participants_user ON participants (user_id, conversation_id);"
  /* The last message id handed out (see the top of this file). */
  "CREATE TABLE message_counter ("
  "  id      integer PRIMARY KEY CHECK (id = 1),"
  "  last_id bigint NOT NULL"
  ");"
  "INSERT INTO message_counter VALUES (1, 0);"
  "CREATE TABLE messages ("
  "  id              bigint PRIMARY KEY,"
  "  conversation_id bigint NOT NULL REFERENCES conversations (id),"
  "  sender_id       bigint NOT NULL REFERENCES users (id),"
  "  ts              bigint NOT NULL,"
  "  body            text NOT NULL,"
  "  client_msg_id   text NOT NULL,"
  "  seq             bigint NOT NULL,"
  "  sender_seq      bigint NOT NULL,"
  "  words           tsvector NOT NULL,"
  "  UNIQUE (sender_id, client_msg_id)"
  ");"
  "CREATE INDEX messages_conversation_seq ON messages (conversation_id, id) INCLUDE (seq);"
  "CREATE INDEX messages_conversation_own ON messages (conversation_id, sender_id, id) INCLUDE (sender_seq);"
  "CREATE INDEX messages_words ON messages USING gin (words);",

  /* 2: no foreign keys on messages. Their checks were a trigger call per
   * key per row, about a third of a batch insert's time
   * (docs/performance.md, "PostgreSQL, third figures"); SQLite does not
   * enforce them either (no PRAGMA foreign_keys). The writer inserts a
   * message only into a conversation it has made or found (the same
   * transaction's direct_ensure, or a room), by a user who exists, and
   * no statement deletes a user, nor a conversation but with its
   * messages (a room's deletion, STMT_ROOM_DELETE). */
  "ALTER TABLE messages DROP CONSTRAINT IF EXISTS messages_conversation_id_fkey,"
  "  DROP CONSTRAINT IF EXISTS messages_sender_id_fkey;",

  /* 3: the tokens revoked, for the nodes that were not told over the bus
   * (natterd_store_tokens_revoked). No foreign key: a note outlives
   * nothing it names for long, and is only read. */
  "CREATE TABLE token_revocations ("
  "  id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
  "  hash    bytea NOT NULL,"
  "  user_id bigint NOT NULL,"
  "  expires bigint NOT NULL"
  ");"
  "CREATE INDEX token_revocations_expires ON token_revocations (expires);",

  /* 4: message actions, as SQLite's schema 6 (natterd-store-sqlite.c):
   * replies, edits, deletes, reactions in the row, mentions, changes
   * with ids from message_counter, notification levels. The words of an
   * edited message are its new body's; a deleted one has none. */
  "ALTER TABLE messages ADD COLUMN reply_to bigint, ADD COLUMN edited_ts bigint,"
  "  ADD COLUMN deleted boolean NOT NULL DEFAULT false,"
  "  ADD COLUMN reactions text NOT NULL DEFAULT '', ADD COLUMN mentions text NOT NULL DEFAULT '';"
  "CREATE INDEX messages_deleted ON messages (conversation_id, id) INCLUDE (sender_id) WHERE deleted;"
  "CREATE TABLE changes ("
  "  id              bigint PRIMARY KEY,"
  "  conversation_id bigint NOT NULL,"
  "  actor_id        bigint NOT NULL,"
  "  ts              bigint NOT NULL,"
  "  kind            integer NOT NULL,"
  "  target_id       bigint NOT NULL,"
  "  emoji           text,"
  "  reaction_on     boolean NOT NULL DEFAULT false"
  ");"
  "CREATE INDEX changes_conversation ON changes (conversation_id, id);"
  "ALTER TABLE participants ADD COLUMN notify_level integer NOT NULL DEFAULT 0;",

  /* natterctl, as SQLite's (natterd-store-sqlite.c): when each token was
   * made; invitation codes. */
  "ALTER TABLE tokens ADD COLUMN created bigint NOT NULL DEFAULT 0;"
  "CREATE TABLE invites ("
  "  code      text PRIMARY KEY,"
  "  uses_left bigint NOT NULL,"
  "  expires   bigint NOT NULL,"
  "  created   bigint NOT NULL"
  ");",

  /* Room management, as SQLite's (natterd-store-sqlite.c). */
  "ALTER TABLE rooms ADD COLUMN display_name text, ADD COLUMN is_private boolean NOT NULL DEFAULT false;"
  "ALTER TABLE participants ADD COLUMN role integer NOT NULL DEFAULT 0;"
  "CREATE TABLE room_bans ("
  "  conversation_id bigint NOT NULL,"
  "  user_id         bigint NOT NULL,"
  "  by_id           bigint NOT NULL,"
  "  reason          text,"
  "  ts              bigint NOT NULL,"
  "  PRIMARY KEY (conversation_id, user_id)"
  ");"
  "CREATE TABLE room_invitations ("
  "  conversation_id bigint NOT NULL,"
  "  user_id         bigint NOT NULL,"
  "  by_id           bigint NOT NULL,"
  "  ts              bigint NOT NULL,"
  "  PRIMARY KEY (conversation_id, user_id)"
  ");",
  /* files, as SQLite's (natterd-store-sqlite.c): chunks of 32 KiB as
   * bytea rows, which every node reaches. Stored without compression
   * (EXTERNAL): most files (images, archives) are compressed already,
   * and pglz would spend the writer's time finding that out. */
  "CREATE TABLE uploads ("
  "  id      bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
  "  user_id bigint NOT NULL,"
  "  size    bigint NOT NULL,"
  "  sha256  text NOT NULL,"
  "  touched bigint NOT NULL,"
  "  file_id bigint,"
  "  received bigint NOT NULL DEFAULT 0"
  ");"
  "CREATE INDEX uploads_user ON uploads (user_id);"
  "CREATE INDEX uploads_touched ON uploads (touched);"
  "CREATE INDEX uploads_file ON uploads (file_id) WHERE file_id IS NOT NULL;"
  "CREATE TABLE blob_chunks ("
  "  blob_id bigint NOT NULL,"
  "  idx     integer NOT NULL,"
  "  data    bytea NOT NULL,"
  "  PRIMARY KEY (blob_id, idx)"
  ");"
  "ALTER TABLE blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL;"
  "CREATE TABLE files ("
  "  id     bigint PRIMARY KEY,"
  "  sha256 text NOT NULL UNIQUE,"
  "  size   bigint NOT NULL"
  ");"
  "CREATE TABLE message_files ("
  "  message_id      bigint NOT NULL,"
  "  file_id         bigint NOT NULL,"
  "  sender_id       bigint NOT NULL,"
  "  conversation_id bigint NOT NULL,"
  "  PRIMARY KEY (message_id, file_id)"
  ");"
  "CREATE INDEX message_files_file ON message_files (file_id, conversation_id);"
  "CREATE INDEX message_files_sender ON message_files (sender_id, file_id);",

  /* Feature accounts (docs/protocol.md, "Accounts"): the device name a
   * login gave and the address it came from, for `sessions`. */
  "ALTER TABLE tokens ADD COLUMN device text;"
  "ALTER TABLE tokens ADD COLUMN address text;",

  /* Files in messages, as SQLite's (natterd-store-sqlite.c). */
  "ALTER TABLE messages ADD COLUMN files text NOT NULL DEFAULT '';",

  /* Feature accounts: a user's picture, as SQLite's. */
  "CREATE TABLE avatars ("
  "  user_id bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,"
  "  sha256  text NOT NULL,"
  "  data    bytea NOT NULL"
  ");",
  /* Blocking, as SQLite's (natterd-store-sqlite.c). */
  "CREATE TABLE blocks ("
  "  user_id    bigint NOT NULL,"
  "  blocked_id bigint NOT NULL,"
  "  ts         bigint NOT NULL,"
  "  PRIMARY KEY (user_id, blocked_id)"
  ");"
  "ALTER TABLE messages ADD COLUMN hidden_for bigint;"
  "CREATE INDEX messages_hidden ON messages (conversation_id, hidden_for, id) WHERE hidden_for IS NOT NULL;",
};

/* Held while migrating, so that nodes starting together migrate once:
 * "natt" as an integer. */
#define MIGRATION_LOCK_KEY "1851880564"

/* A lexeme longer than this is cut (PostgreSQL takes at most 2047 bytes).
 * No search can tell: a query word is a prefix of at most 256 bytes. */
#define MAX_LEXEME_BYTES 2000

typedef enum {
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
  STMT_TOKENS_REVOKED,
  STMT_TOKENS_REVOKED_LAST,
  STMT_CONTACT_SET,
  STMT_CONTACT_DELETE,
  STMT_CONTACT_LOCK,
  STMT_CONTACT_PAIR,
  STMT_CONTACTS_ALL,
  STMT_DIRECT_ENSURE,
  STMT_ROOM_INSERT,
  STMT_ROOM_TOPIC,
  STMT_CONVERSATIONS_ALL,
  STMT_PARTICIPANT_ADD,
  STMT_PARTICIPANT_REMOVE,
  STMT_PARTICIPANTS_ALL,
  STMT_READ_MARKER_SET,
  STMT_COUNTER_LOCK,
  STMT_MESSAGES_NEWEST_SEQ,
  STMT_MESSAGES_BY_CLIENT_IDS,
  STMT_LAST_MESSAGE_ID,
  STMT_MESSAGE_BY_CLIENT_ID,
  STMT_HISTORY,
  STMT_HISTORY_BEFORE,
  STMT_MESSAGES_BETWEEN,
  STMT_SYNC,
  STMT_SEARCH,
  STMT_SEARCH_CONVERSATION,
  STMT_SUMMARIES,
  STMT_HISTORY_UNDELETED,
  STMT_HISTORY_BEFORE_UNDELETED,
  STMT_SYNC_UNDELETED,
  STMT_MESSAGE_BY_ID,
  STMT_MESSAGE_EDIT,
  STMT_MESSAGE_ERASE,
  STMT_MESSAGE_REACTIONS,
  STMT_CHANGES_INSERT,
  STMT_CHANGES_SINCE,
  STMT_CHANGES_BETWEEN,
  STMT_NOTIFY_LEVEL_SET,
  STMT_LAST_ID,
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
  STMT_ROOM_DELETE,
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
  STMT_FILE_READABLE,
  STMT_UPLOADS_EXPIRE_CHUNKS,
  STMT_UPLOADS_EXPIRE,
  STMT_FILES_FREE_CHUNKS,
  STMT_FILES_FREE,
  STMT_MESSAGE_FILES_DROP,
  STMT_MESSAGE_FILES_ADD,
  STMT_BLOCK_SET,
  STMT_BLOCK_DELETE,
  STMT_BLOCKS_ALL,
  N_STMTS,
} StmtId;

/* A message row (m) and its reply's original (r), in message_from_row's
 * order; every query that reads messages joins r with MESSAGE_REPLY. */
#define MESSAGE_COLUMNS                                                     \
  "m.id, m.conversation_id, m.sender_id, m.ts, m.body, m.client_msg_id,"    \
  " m.reply_to, m.edited_ts, m.deleted, m.reactions, m.mentions,"           \
  " r.sender_id, left (r.body, " G_STRINGIFY (NATTERD_STORE_QUOTE_CHARS) "), r.deleted, m.files,"   \
  " m.hidden_for"
#define MESSAGE_REPLY " LEFT JOIN messages r ON r.id = m.reply_to"
/* The row columns a subquery passes on as m. */
#define ROW_COLUMNS(x)                                                        \
  x ".id, " x ".conversation_id, " x ".sender_id, " x ".ts, " x ".body, " x ".client_msg_id, " \
  x ".reply_to, " x ".edited_ts, " x ".deleted, " x ".reactions, " x ".mentions, " x ".files, " \
  x ".hidden_for"
/* A change's columns before its message's (change_from_row). */
#define CHANGE_COLUMNS "c.id, c.conversation_id, c.actor_id, c.ts, c.kind, c.emoji, c.reaction_on, "

typedef struct {
  const char *sql;
  gboolean    writes;    /* runs the write hook first; never retried */
  gboolean    may_clash; /* a UNIQUE violation is an answer, not a failure */
  gboolean    no_flush;  /* reads and writes no message: queued ones may wait */
} StmtDef;

static const StmtDef stmt_defs[N_STMTS] = {
  [STMT_USER_INSERT] = {
    "INSERT INTO users (username, display_name, password_hash, created)"
    " VALUES ($1::text, $2::text, $3::text, $4::bigint) RETURNING id", TRUE, TRUE },
  [STMT_USERS_ALL] = {
    "SELECT id, username, display_name, password_hash, status_text, last_seen FROM users ORDER BY id" },
  [STMT_USER_LAST_SEEN] = { "UPDATE users SET last_seen = $2::bigint WHERE id = $1::bigint", TRUE },
  [STMT_USER_STATUS] = { "UPDATE users SET status_text = $2::text WHERE id = $1::bigint", TRUE },
  [STMT_USER_DISPLAY_NAME] = { "UPDATE users SET display_name = $2::text WHERE id = $1::bigint", TRUE },
  /* A picture is no message: queued ones need not be written first. */
  [STMT_AVATAR_SET] = {
    "INSERT INTO avatars (user_id, sha256, data) VALUES ($1::bigint, $2::text, $3::bytea)"
    " ON CONFLICT (user_id) DO UPDATE SET sha256 = excluded.sha256, data = excluded.data", TRUE, FALSE, TRUE },
  [STMT_AVATAR_DELETE] = { "DELETE FROM avatars WHERE user_id = $1::bigint", TRUE, FALSE, TRUE },
  [STMT_AVATAR_GET] = { "SELECT sha256, data FROM avatars WHERE user_id = $1::bigint", FALSE, FALSE, TRUE },
  [STMT_AVATARS_ALL] = { "SELECT user_id, sha256 FROM avatars", FALSE, FALSE, TRUE },
  [STMT_USER_DELETE] = {
    "UPDATE users SET password_hash = $2::text, display_name = $3::text, status_text = NULL"
    " WHERE id = $1::bigint", TRUE },
  [STMT_USER_UPLOADS_STALE] = {
    "UPDATE uploads SET touched = 0 WHERE user_id = $1::bigint AND file_id IS NULL", TRUE },
  [STMT_TOKEN_INSERT] = {
    "INSERT INTO tokens (hash, user_id, expires, created) VALUES ($1::bytea, $2::bigint, $3::bigint, $4::bigint)",
    TRUE, TRUE },
  /* natterctl's (natterd-admin*.c). */
  [STMT_STATS] = {
    "SELECT (SELECT count (*) FROM messages), pg_database_size (current_database ())", FALSE, FALSE, TRUE },
  [STMT_TOKENS_OF_USER] = {
    "SELECT encode (hash, 'hex'), created, expires, device, address FROM tokens WHERE user_id = $1::bigint"
    " ORDER BY created, hash",
    FALSE, FALSE, TRUE },
  [STMT_TOKEN_SET_DEVICE] = {
    "UPDATE tokens SET device = $2::text, address = $3::text WHERE hash = $1::bytea", TRUE, FALSE, TRUE },
  [STMT_USER_PASSWORD_HASH] = {
    "UPDATE users SET password_hash = $2::text WHERE id = $1::bigint", TRUE, FALSE, TRUE },
  [STMT_INVITE_INSERT] = {
    "INSERT INTO invites (code, uses_left, expires, created) VALUES ($1::text, $2::bigint, $3::bigint, $4::bigint)",
    TRUE, TRUE, TRUE },
  [STMT_INVITES_ALL] = {
    "SELECT code, uses_left, expires, created FROM invites ORDER BY created, code", FALSE, FALSE, TRUE },
  [STMT_INVITE_DELETE] = { "DELETE FROM invites WHERE code = $1::text", TRUE, FALSE, TRUE },
  [STMT_INVITE_CONSUME] = {
    "UPDATE invites SET uses_left = uses_left - 1"
    " WHERE code = $1::text AND uses_left > 0 AND (expires = 0 OR expires > $2::bigint)", TRUE, FALSE, TRUE },
  [STMT_TOKEN_LOOKUP] = { "SELECT user_id, expires FROM tokens WHERE hash = $1::bytea" },
  /* Noted for the other nodes (natterd_store_tokens_revoked). */
  [STMT_TOKEN_DELETE] = {
    "WITH gone AS (DELETE FROM tokens WHERE hash = $1::bytea RETURNING hash, user_id, expires)"
    " INSERT INTO token_revocations (hash, user_id, expires) SELECT hash, user_id, expires FROM gone",
    TRUE, FALSE, TRUE },
  [STMT_TOKENS_EXPIRE] = {
    "WITH notes AS (DELETE FROM token_revocations WHERE expires <= $1::bigint)"
    " DELETE FROM tokens WHERE expires <= $1", TRUE, FALSE, TRUE },
  [STMT_TOKENS_REVOKED] = {
    "SELECT id, encode (hash, 'hex'), user_id FROM token_revocations WHERE id > $1::bigint ORDER BY id",
    FALSE, FALSE, TRUE },
  [STMT_TOKENS_REVOKED_LAST] = {
    "SELECT coalesce (max (id), 0) FROM token_revocations", FALSE, FALSE, TRUE },
  [STMT_CONTACT_SET] = {
    "INSERT INTO contacts (a, b, state) VALUES ($1::bigint, $2::bigint, $3::integer)"
    " ON CONFLICT (a, b) DO UPDATE SET state = excluded.state", TRUE },
  [STMT_CONTACT_DELETE] = {
    "DELETE FROM contacts WHERE (a = $1::bigint AND b = $2::bigint) OR (a = $2 AND b = $1)", TRUE },
  /* A lock of the pair (lower id, higher id) until the transaction ends;
   * the two-key form, so that it never meets MIGRATION_LOCK_KEY (one key:
   * another lock space). Ids that agree in their low 31 bits share a
   * lock: such pairs only wait for each other. A statement of its own:
   * in READ COMMITTED the next statement's snapshot is taken after the
   * lock is granted, so it sees what the previous holder committed. */
  [STMT_CONTACT_LOCK] = {
    "SELECT pg_advisory_xact_lock (($1::bigint & 2147483647)::integer,"
    " ($2::bigint & 2147483647)::integer)", TRUE, FALSE, TRUE },
  [STMT_CONTACT_PAIR] = {
    "SELECT a, state FROM contacts WHERE (a = $1::bigint AND b = $2::bigint) OR (a = $2 AND b = $1)",
    FALSE, FALSE, TRUE },
  [STMT_CONTACTS_ALL] = { "SELECT a, b, state FROM contacts ORDER BY a, b" },
  [STMT_BLOCK_SET] = {
    "INSERT INTO blocks (user_id, blocked_id, ts) VALUES ($1::bigint, $2::bigint, $3::bigint)"
    " ON CONFLICT DO NOTHING", TRUE, FALSE, TRUE },
  [STMT_BLOCK_DELETE] = {
    "DELETE FROM blocks WHERE user_id = $1::bigint AND blocked_id = $2::bigint", TRUE, FALSE, TRUE },
  [STMT_BLOCKS_ALL] = {
    "SELECT user_id, blocked_id, ts FROM blocks ORDER BY user_id, ts, blocked_id", FALSE, FALSE, TRUE },
  /* Gets or makes the conversation with its participants, in one
   * statement. ON CONFLICT waits for another node's insert of the same
   * pair to commit; the SELECT's snapshot is older than that, so it then
   * returns no row, and the caller runs the statement again. */
  [STMT_DIRECT_ENSURE] = {
    "WITH made AS (INSERT INTO conversations (kind, user_a, user_b) VALUES (0, $1::bigint, $2::bigint)"
    "              ON CONFLICT (user_a, user_b) DO NOTHING RETURNING id),"
    " members AS (INSERT INTO participants (conversation_id, user_id)"
    "             SELECT DISTINCT made.id, u FROM made, (VALUES ($1), ($2)) AS v (u)"
    "             ON CONFLICT DO NOTHING)"
    " SELECT id FROM made UNION ALL"
    " SELECT id FROM conversations WHERE user_a = $1 AND user_b = $2", TRUE, FALSE, TRUE },
  /* One statement, so that a taken name leaves no conversation behind. */
  [STMT_ROOM_INSERT] = {
    "WITH c AS (INSERT INTO conversations (kind) VALUES (1) RETURNING id)"
    " INSERT INTO rooms (conversation_id, name, topic, owner_id, created)"
    " SELECT id, $1::text, $2::text, $3::bigint, $4::bigint FROM c RETURNING conversation_id", TRUE, TRUE },
  [STMT_ROOM_TOPIC] = { "UPDATE rooms SET topic = $2::text WHERE conversation_id = $1::bigint", TRUE },
  [STMT_CONVERSATIONS_ALL] = {
    "SELECT c.id, c.kind, c.user_a, c.user_b, r.name, r.topic, r.owner_id"
    " FROM conversations c LEFT JOIN rooms r ON r.conversation_id = c.id ORDER BY c.id" },
  [STMT_PARTICIPANT_ADD] = {
    "INSERT INTO participants (conversation_id, user_id) VALUES ($1::bigint, $2::bigint)"
    " ON CONFLICT DO NOTHING", TRUE },
  [STMT_PARTICIPANT_REMOVE] = {
    "DELETE FROM participants WHERE conversation_id = $1::bigint AND user_id = $2::bigint", TRUE },
  [STMT_PARTICIPANTS_ALL] = {
    "SELECT conversation_id, user_id FROM participants ORDER BY conversation_id, user_id" },
  /* Forward only, and never past the last message of the conversation.
   * Column 1 is the marker when it moved (else NULL), column 2 the marker
   * before this statement. */
  [STMT_READ_MARKER_SET] = {
    "WITH last AS (SELECT least ($3::bigint, coalesce (max (id), 0)) AS up_to"
    "              FROM messages WHERE conversation_id = $1::bigint),"
    " moved AS (UPDATE participants SET read_up_to = (SELECT up_to FROM last)"
    "           WHERE conversation_id = $1 AND user_id = $2::bigint"
    "             AND read_up_to < (SELECT up_to FROM last) RETURNING read_up_to)"
    " SELECT (SELECT read_up_to FROM moved),"
    "        (SELECT read_up_to FROM participants WHERE conversation_id = $1 AND user_id = $2)", TRUE },
  [STMT_COUNTER_LOCK] = { "SELECT last_id FROM message_counter WHERE id = 1 FOR UPDATE", TRUE },
  /* The newest seq of each conversation and sender_seq of each
   * (conversation, sender) that a batch writes to and the writer does not
   * know yet (see "Batched inserts" at the top): one index probe each. */
  [STMT_MESSAGES_NEWEST_SEQ] = {
    "SELECT d.c, d.s,"
    "  coalesce ((SELECT l.seq FROM messages l WHERE l.conversation_id = d.c ORDER BY l.id DESC LIMIT 1), 0),"
    "  coalesce ((SELECT o.sender_seq FROM messages o WHERE o.conversation_id = d.c AND o.sender_id = d.s"
    "             ORDER BY o.id DESC LIMIT 1), 0)"
    " FROM unnest ($1::bigint[], $2::bigint[]) AS d (c, s)" },
  /* Which of a batch's (sender, client_msg_id) are stored already: the
   * first column is the pair's position in the arrays, from 1. One probe
   * of the unique index per pair: the LIMIT keeps the planner from
   * flattening the subquery into a join, and a generic plan (the unnest
   * is guessed at 10 rows, a young table at a few hundred) chose a hash
   * join over a sequential scan of the whole table, every batch. */
  [STMT_MESSAGES_BY_CLIENT_IDS] = {
    "SELECT k.i, " MESSAGE_COLUMNS " FROM unnest ($1::bigint[], $2::text[]) WITH ORDINALITY AS k (s, c, i)"
    " CROSS JOIN LATERAL (SELECT " ROW_COLUMNS ("x")
    "                     FROM messages x WHERE x.sender_id = k.s AND x.client_msg_id = k.c LIMIT 1) m"
    MESSAGE_REPLY },
  [STMT_LAST_MESSAGE_ID] = { "SELECT coalesce (max (id), 0) FROM messages" },
  [STMT_MESSAGE_BY_CLIENT_ID] = {
    "SELECT " MESSAGE_COLUMNS " FROM messages m" MESSAGE_REPLY
    " WHERE m.sender_id = $1::bigint AND m.client_msg_id = $2::text" },
  [STMT_HISTORY] = {
    "SELECT " MESSAGE_COLUMNS " FROM messages m" MESSAGE_REPLY " WHERE m.conversation_id = $1::bigint"
    " AND m.hidden_for IS DISTINCT FROM $3::bigint"
    " ORDER BY m.id DESC LIMIT $2::bigint" },
  [STMT_HISTORY_BEFORE] = {
    "SELECT " MESSAGE_COLUMNS " FROM messages m" MESSAGE_REPLY
    " WHERE m.conversation_id = $1::bigint AND m.id < $3::bigint"
    " AND m.hidden_for IS DISTINCT FROM $4::bigint"
    " ORDER BY m.id DESC LIMIT $2::bigint" },
  [STMT_MESSAGES_BETWEEN] = {
    "SELECT " MESSAGE_COLUMNS " FROM messages m" MESSAGE_REPLY " WHERE m.id > $1::bigint AND m.id < $2::bigint"
    " ORDER BY m.id LIMIT $3::bigint" },
  /* The first @limit ids after "since" of each of the user's conversations
   * (an index range scan each), then the first @limit of those: the cost
   * depends on the user's conversations and the limit, never on the
   * table (as natterd-store-sqlite.c's sync). */
  [STMT_SYNC] = {
    "SELECT " MESSAGE_COLUMNS " FROM participants p CROSS JOIN LATERAL"
    "  (SELECT " ROW_COLUMNS ("x") " FROM messages x"
    "   WHERE x.conversation_id = p.conversation_id AND x.id > $2::bigint"
    "   AND x.hidden_for IS DISTINCT FROM $1::bigint"
    "   ORDER BY x.id LIMIT $3::bigint) m" MESSAGE_REPLY
    " WHERE p.user_id = $1::bigint ORDER BY m.id LIMIT $3" },
  [STMT_SYNC_UNDELETED] = {
    "SELECT " MESSAGE_COLUMNS " FROM participants p CROSS JOIN LATERAL"
    "  (SELECT " ROW_COLUMNS ("x") " FROM messages x"
    "   WHERE x.conversation_id = p.conversation_id AND x.id > $2::bigint AND NOT x.deleted"
    "   AND x.hidden_for IS DISTINCT FROM $1::bigint"
    "   ORDER BY x.id LIMIT $3::bigint) m" MESSAGE_REPLY
    " WHERE p.user_id = $1::bigint ORDER BY m.id LIMIT $3" },
  [STMT_SEARCH] = {
    "SELECT " MESSAGE_COLUMNS " FROM messages m" MESSAGE_REPLY
    " WHERE m.words @@ $2::tsquery AND m.hidden_for IS DISTINCT FROM $1::bigint AND NOT m.deleted AND m.conversation_id IN"
    "   (SELECT conversation_id FROM participants WHERE user_id = $1::bigint)"
    " ORDER BY m.id DESC LIMIT $3::bigint" },
  [STMT_SEARCH_CONVERSATION] = {
    "SELECT " MESSAGE_COLUMNS " FROM messages m" MESSAGE_REPLY
    " WHERE m.words @@ $2::tsquery AND m.hidden_for IS DISTINCT FROM $1::bigint AND NOT m.deleted AND m.conversation_id = $4::bigint AND m.conversation_id IN"
    "   (SELECT conversation_id FROM participants WHERE user_id = $1::bigint)"
    " ORDER BY m.id DESC LIMIT $3::bigint" },
  /* As SQLite's: seq arithmetic on the newest message (deleted or not),
   * less the deleted messages of others after the marker and those
   * hidden from the reader (blocking); the last message shown is the
   * newest one not deleted nor hidden. */
  [STMT_SUMMARIES] = {
    "SELECT p.conversation_id, p.read_up_to,"
    "  coalesce ((SELECT l.seq FROM messages l WHERE l.conversation_id = p.conversation_id"
    "             ORDER BY l.id DESC LIMIT 1), 0)"
    "  - coalesce ((SELECT k.seq FROM messages k WHERE k.conversation_id = p.conversation_id"
    "               AND k.id <= p.read_up_to ORDER BY k.id DESC LIMIT 1), 0)"
    "  - coalesce ((SELECT o.sender_seq FROM messages o WHERE o.conversation_id = p.conversation_id"
    "               AND o.sender_id = $1::bigint ORDER BY o.id DESC LIMIT 1), 0)"
    "  + coalesce ((SELECT o.sender_seq FROM messages o WHERE o.conversation_id = p.conversation_id"
    "               AND o.sender_id = $1 AND o.id <= p.read_up_to ORDER BY o.id DESC LIMIT 1), 0)"
    "  - (SELECT count (*) FROM messages d WHERE d.conversation_id = p.conversation_id AND d.deleted"
    "     AND d.id > p.read_up_to AND d.sender_id <> $1)"
    "  - (SELECT count (*) FROM messages h WHERE h.conversation_id = p.conversation_id"
    "     AND h.hidden_for = $1 AND h.id > p.read_up_to AND NOT h.deleted),"
    "  p.notify_level, " MESSAGE_COLUMNS
    " FROM participants p LEFT JOIN LATERAL"
    "  (SELECT " ROW_COLUMNS ("x")
    "   FROM messages x WHERE x.conversation_id = p.conversation_id AND NOT x.deleted"
    "   AND x.hidden_for IS DISTINCT FROM $1"
    "   ORDER BY x.id DESC LIMIT 1) m ON TRUE" MESSAGE_REPLY
    " WHERE p.user_id = $1"
    " ORDER BY m.id IS NULL, m.id DESC, p.conversation_id DESC" },
  [STMT_HISTORY_UNDELETED] = {
    "SELECT " MESSAGE_COLUMNS " FROM messages m" MESSAGE_REPLY
    " WHERE m.conversation_id = $1::bigint AND NOT m.deleted"
    " AND m.hidden_for IS DISTINCT FROM $3::bigint"
    " ORDER BY m.id DESC LIMIT $2::bigint" },
  [STMT_HISTORY_BEFORE_UNDELETED] = {
    "SELECT " MESSAGE_COLUMNS " FROM messages m" MESSAGE_REPLY
    " WHERE m.conversation_id = $1::bigint AND m.id < $3::bigint AND NOT m.deleted"
    " AND m.hidden_for IS DISTINCT FROM $4::bigint"
    " ORDER BY m.id DESC LIMIT $2::bigint" },
  /* A message by id, and an edit's or a reaction's update of one: no_flush,
   * since a queued message has no id yet (nobody can name it), and a
   * change between sends would otherwise cut the writer's COPY in two
   * (docs/performance.md, "Mixed"). */
  [STMT_MESSAGE_BY_ID] = {
    "SELECT " MESSAGE_COLUMNS " FROM messages m" MESSAGE_REPLY " WHERE m.id = $1::bigint",
    FALSE, FALSE, TRUE },
  [STMT_MESSAGE_EDIT] = {
    "UPDATE messages SET body = $2::text, edited_ts = $3::bigint, mentions = coalesce ($4::text, ''),"
    " words = " NATTERD_STORE_PG_WORDS ("$5::text") " WHERE id = $1::bigint", TRUE, FALSE, TRUE },
  [STMT_MESSAGE_ERASE] = {
    "UPDATE messages SET body = '', reply_to = NULL, edited_ts = NULL, reactions = '', mentions = '',"
    " files = '', deleted = true, words = ''::tsvector WHERE id = $1::bigint", TRUE },
  [STMT_MESSAGE_FILES_DROP] = { "DELETE FROM message_files WHERE message_id = $1::bigint", TRUE },
  /* A new message's files: held by it, and no longer the sender's
   * uploads (natterd_store_message_insert_full). */
  [STMT_MESSAGE_FILES_ADD] = {
    "WITH a AS (INSERT INTO message_files (message_id, file_id, sender_id, conversation_id)"
    "           SELECT $1::bigint, f, $3::bigint, $4::bigint FROM unnest ($2::bigint[]) f"
    "           ON CONFLICT DO NOTHING)"
    " DELETE FROM uploads WHERE user_id = $3 AND file_id = ANY ($2::bigint[])", TRUE },
  [STMT_MESSAGE_REACTIONS] = {
    "UPDATE messages SET reactions = coalesce ($2::text, '') WHERE id = $1::bigint", TRUE, FALSE, TRUE },
  /* The queued changes' rows (flush_queued), from text-format arrays as
   * the resend lookup's. */
  [STMT_CHANGES_INSERT] = {
    "INSERT INTO changes (id, conversation_id, actor_id, ts, kind, target_id, emoji, reaction_on)"
    " SELECT * FROM unnest ($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::integer[],"
    "                       $6::bigint[], $7::text[], $8::boolean[])", TRUE },
  [STMT_CHANGES_SINCE] = {
    "SELECT " CHANGE_COLUMNS MESSAGE_COLUMNS
    " FROM participants p JOIN changes c ON c.conversation_id = p.conversation_id AND c.id > $2::bigint"
    " JOIN messages m ON m.id = c.target_id" MESSAGE_REPLY
    " WHERE p.user_id = $1::bigint AND m.hidden_for IS DISTINCT FROM $1 ORDER BY c.id LIMIT $3::bigint" },
  [STMT_CHANGES_BETWEEN] = {
    "SELECT " CHANGE_COLUMNS MESSAGE_COLUMNS
    " FROM changes c JOIN messages m ON m.id = c.target_id" MESSAGE_REPLY
    " WHERE c.id > $1::bigint AND c.id < $2::bigint ORDER BY c.id LIMIT $3::bigint" },
  [STMT_PARTICIPANT_ROLE] = {
    "SELECT EXISTS (SELECT 1 FROM participants WHERE conversation_id = $1::bigint AND user_id = $2::bigint),"
    " EXISTS (SELECT 1 FROM rooms WHERE conversation_id = $1 AND owner_id = $2)"
    " OR EXISTS (SELECT 1 FROM participants WHERE conversation_id = $1 AND user_id = $2 AND role = 1)",
    FALSE, FALSE, TRUE },
  /* Room management: the rows of natterd_store_room_rows_foreach, by kind. */
  [STMT_ROOM_ROWS_ALL] = {
    "SELECT 0, conversation_id, 0, 0, display_name, is_private::integer FROM rooms"
    " WHERE display_name IS NOT NULL OR is_private"
    " UNION ALL SELECT 1, conversation_id, user_id, 0, NULL, 0 FROM participants WHERE role = 1"
    " UNION ALL SELECT 2, conversation_id, user_id, by_id, reason, ts FROM room_bans"
    " UNION ALL SELECT 3, conversation_id, user_id, by_id, NULL, ts FROM room_invitations", FALSE, FALSE, TRUE },
  [STMT_ROOM_SETTINGS] = {
    "UPDATE rooms SET display_name = $2::text, is_private = $3::integer <> 0 WHERE conversation_id = $1::bigint",
    TRUE, FALSE, TRUE },
  [STMT_ROOM_ROLE] = {
    "UPDATE participants SET role = $3::integer WHERE conversation_id = $1::bigint AND user_id = $2::bigint",
    TRUE, FALSE, TRUE },
  [STMT_ROOM_OWNER] = {
    "UPDATE rooms SET owner_id = $2::bigint WHERE conversation_id = $1::bigint", TRUE, FALSE, TRUE },
  [STMT_ROOM_BAN_ADD] = {
    "INSERT INTO room_bans (conversation_id, user_id, by_id, reason, ts)"
    " VALUES ($1::bigint, $2::bigint, $3::bigint, $4::text, $5::bigint) ON CONFLICT DO NOTHING", TRUE, FALSE, TRUE },
  [STMT_ROOM_BAN_REMOVE] = {
    "DELETE FROM room_bans WHERE conversation_id = $1::bigint AND user_id = $2::bigint", TRUE, FALSE, TRUE },
  [STMT_ROOM_INVITATION_ADD] = {
    "INSERT INTO room_invitations (conversation_id, user_id, by_id, ts)"
    " VALUES ($1::bigint, $2::bigint, $3::bigint, $4::bigint) ON CONFLICT DO NOTHING", TRUE, FALSE, TRUE },
  [STMT_ROOM_INVITATION_REMOVE] = {
    "DELETE FROM room_invitations WHERE conversation_id = $1::bigint AND user_id = $2::bigint", TRUE, FALSE, TRUE },
  /* One statement: the rows that name the conversation go in its CTEs,
   * and the foreign keys of rooms and participants are checked at its
   * end. The words go with the messages' rows; message_counter keeps
   * their ids from being handed out again. Queued message inserts are
   * written first (not no_flush): a send into the room that committed
   * before the delete in the same batch is deleted with it. */
  [STMT_ROOM_DELETE] = {
    "WITH p AS (DELETE FROM participants WHERE conversation_id = $1::bigint),"
    " b AS (DELETE FROM room_bans WHERE conversation_id = $1::bigint),"
    " i AS (DELETE FROM room_invitations WHERE conversation_id = $1::bigint),"
    " m AS (DELETE FROM messages WHERE conversation_id = $1::bigint),"
    " c AS (DELETE FROM changes WHERE conversation_id = $1::bigint),"
    " r AS (DELETE FROM rooms WHERE conversation_id = $1::bigint),"
    " f AS (DELETE FROM message_files WHERE conversation_id = $1::bigint)"
    " DELETE FROM conversations WHERE id = $1::bigint", TRUE },
  /* Files: none reads or writes a message (no_flush), but the frees,
   * which must see the message_files rows of the queued messages. */
  [STMT_UPLOAD_USAGE] = {
    "SELECT (SELECT count (*) FROM uploads WHERE user_id = $1::bigint AND file_id IS NULL),"
    " (SELECT coalesce (sum (size), 0) FROM uploads WHERE user_id = $1)"
    " + (SELECT coalesce (sum (f.size), 0) FROM files f"
    "    WHERE f.id IN (SELECT file_id FROM message_files WHERE sender_id = $1))", FALSE, FALSE, TRUE },
  [STMT_UPLOAD_INSERT] = {
    "INSERT INTO uploads (user_id, size, sha256, touched)"
    " VALUES ($1::bigint, $2::bigint, $3::text, $4::bigint) RETURNING id", TRUE, FALSE, TRUE },
  [STMT_UPLOAD_GET] = {
    "SELECT user_id, size, sha256, touched, coalesce (file_id, 0), received FROM uploads WHERE id = $1::bigint",
    FALSE, FALSE, TRUE },
  [STMT_UPLOAD_UPDATE] = {
    "UPDATE uploads SET touched = $2::bigint, file_id = coalesce (nullif ($3::bigint, 0), file_id),"
    " received = received + $4::bigint WHERE id = $1::bigint", TRUE, FALSE, TRUE },
  [STMT_UPLOAD_DELETE] = { "DELETE FROM uploads WHERE id = $1::bigint", TRUE, FALSE, TRUE },
  [STMT_CHUNK_PUT] = {
    "INSERT INTO blob_chunks (blob_id, idx, data) VALUES ($1::bigint, $2::integer, $3::bytea)"
    " ON CONFLICT DO NOTHING", TRUE, FALSE, TRUE },
  [STMT_CHUNK_GET] = {
    "SELECT data FROM blob_chunks WHERE blob_id = $1::bigint AND idx = $2::integer", FALSE, FALSE, TRUE },
  [STMT_CHUNKS_LIST] = {
    "SELECT idx FROM blob_chunks WHERE blob_id = $1::bigint ORDER BY idx", FALSE, FALSE, TRUE },
  [STMT_CHUNKS_DROP] = {
    "DELETE FROM blob_chunks WHERE blob_id = $1::bigint AND NOT EXISTS (SELECT 1 FROM files WHERE id = $1)",
    TRUE, FALSE, TRUE },
  [STMT_FILE_FIND] = { "SELECT id FROM files WHERE sha256 = $1::text", FALSE, FALSE, TRUE },
  [STMT_FILE_INSERT] = {
    "INSERT INTO files (id, sha256, size) VALUES ($1::bigint, $2::text, $3::bigint)", TRUE, FALSE, TRUE },
  [STMT_FILE_READABLE] = {
    "SELECT f.size, f.sha256 FROM files f WHERE f.id = $1::bigint"
    " AND (EXISTS (SELECT 1 FROM uploads u WHERE u.file_id = f.id AND u.user_id = $2::bigint)"
    "      OR EXISTS (SELECT 1 FROM message_files mf JOIN participants p"
    "                 ON p.conversation_id = mf.conversation_id AND p.user_id = $2"
    "                 WHERE mf.file_id = f.id))", FALSE, FALSE, TRUE },
  [STMT_UPLOADS_EXPIRE_CHUNKS] = {
    "DELETE FROM blob_chunks WHERE blob_id IN"
    " (SELECT id FROM uploads WHERE touched < $1::bigint AND file_id IS NULL)", TRUE, FALSE, TRUE },
  [STMT_UPLOADS_EXPIRE] = { "DELETE FROM uploads WHERE touched < $1::bigint", TRUE, FALSE, TRUE },
  [STMT_FILES_FREE_CHUNKS] = {
    "DELETE FROM blob_chunks WHERE blob_id IN (SELECT id FROM files f WHERE NOT EXISTS (SELECT 1 FROM uploads u WHERE u.file_id = f.id) AND NOT EXISTS (SELECT 1 FROM message_files mf WHERE mf.file_id = f.id))", TRUE },
  [STMT_FILES_FREE] = { "DELETE FROM files f WHERE NOT EXISTS (SELECT 1 FROM uploads u WHERE u.file_id = f.id) AND NOT EXISTS (SELECT 1 FROM message_files mf WHERE mf.file_id = f.id)", TRUE },
  [STMT_NOTIFY_LEVEL_SET] = {
    "UPDATE participants SET notify_level = $3::integer"
    " WHERE conversation_id = $1::bigint AND user_id = $2::bigint AND notify_level <> $3", TRUE, FALSE, TRUE },
  /* The newest id of messages and changes: the search index (the words
   * in each row) is complete up to it. */
  [STMT_LAST_ID] = {
    "SELECT greatest ((SELECT coalesce (max (id), 0) FROM messages),"
    "                 (SELECT coalesce (max (id), 0) FROM changes))" },
};

/* The connection parameters, shared by a store and its siblings. The
 * values may hold a password: never printed. */
typedef struct {
  gatomicrefcount  ref;
  char           **keywords;
  char           **values;
  char            *description; /* "host=... port=... dbname=...": for messages */

  /* The process's outage: the first connection to find the database
   * gone logs it, the first to be made again logs its end. */
  GMutex           outage_lock;
  gboolean         outage;      /* a connection found the database gone, none is back yet */
  gint64           lost_since;  /* monotonic, µs */
  gint64           back_at;     /* monotonic, µs: when the last outage ended (0: none yet) */
} PgParams;

typedef struct _Reconnect Reconnect;

/* A message inserted inside a transaction, written at the next statement
 * or at COMMIT (flush_queued). */
typedef struct {
  gint64                   conversation_id;
  gint64                   sender_id;
  gint64                   ts;
  char                    *body;          /* NUL-terminated copies */
  gsize                    body_len;
  char                    *client_msg_id;
  char                    *lexemes;
  gint64                   reply_to;      /* 0: none */
  char                    *mentions;      /* NULL: none */
  char                    *files;         /* NATTERD_STORE_FILES; NULL: none */
  gint64                   hidden_for;    /* 0: nobody (blocking) */
  int                      same_as;       /* an earlier queued row of the same (sender, client_msg_id), or -1 */
  gint64                   id;            /* given at the flush when new */
  int                      found_row;     /* the stored original's row in the lookup, or -1 */
  gboolean                *out_duplicate;
  NatterdStoreMessageFunc  func;
  gpointer                 user_data;
} QueuedMessage;

/* A change's own row, written with the queued messages (flush_queued):
 * its id is the next after the messages queued before it, so that ids
 * still follow the order of the writes, and the batch is not cut in two
 * (see "Batched inserts" at the top). The message's row took the change
 * at once: later statements of the transaction see it. */
typedef struct {
  guint    after;           /* how many messages were queued before it */
  gint64   conversation_id;
  gint64   actor_id;
  gint64   ts;
  int      kind;
  gint64   message_id;
  char    *emoji;           /* a reaction's; NULL otherwise */
  gboolean on;
  gint64   id;              /* given at the flush */
  gint64  *out_id;          /* set to it once its row is written */
} QueuedChange;

/* A key of the seq cache: a conversation (sender 0: users count from 1)
 * or a (conversation, sender) pair. */
typedef struct {
  gint64 conversation_id;
  gint64 sender_id;
} SeqKey;

static guint
seq_key_hash (gconstpointer key)
{
  const SeqKey *k = key;

  return (guint) (k->conversation_id * 1000003 ^ k->sender_id);
}

static gboolean
seq_key_equal (gconstpointer a,
               gconstpointer b)
{
  const SeqKey *x = a, *y = b;

  return x->conversation_id == y->conversation_id && x->sender_id == y->sender_id;
}

struct _PgStore {
  NatterdStore  parent;       /* engine: pg_engine */
  PgParams     *params;
  PGconn       *conn;
  gboolean      prepared;     /* the statements exist on this session */
  int           schema_version;
  NatterdStoreWriteHook write_hook;
  gpointer      write_hook_data;

  /* The message counter, while this transaction holds its row. */
  gboolean      custom_plans;     /* the reader's: see set_up_session */
  gboolean      counter_at_begin; /* the writer's: every BEGIN takes it */
  gboolean      counter_locked;
  gint64        counter_last_id;  /* the last id handed out */
  gboolean      counter_dirty;    /* counter_last_id must be stored before COMMIT */
  gboolean      in_job;           /* inside the writer's savepoint "job" */

  /* Messages inserted but not written yet (see "Batched inserts"). */
  GArray       *queued;           /* QueuedMessage, in insert order */
  GHashTable   *queued_keys;      /* "sender:client_msg_id" -> its first index + 1 */
  guint         queued_at_job;    /* how many queued before the job's savepoint */
  GArray       *queued_changes;   /* QueuedChange, in insert order */
  guint         changes_at_job;   /* how many of those before the job's savepoint */
  gboolean      batches;          /* the writer's: queues; others write at once */
  GHashTable   *ensured;          /* "a:b" -> conversation id (gint64 *), this transaction's
                                   * direct_ensure answers (see pg_direct_ensure) */
  gboolean      flushing;
  /* The newest seq of conversations and sender_seq of (conversation,
   * sender) pairs, as this connection last wrote them (see "Batched
   * inserts" at the top): right while the counter still says
   * seq_cache_counter, i.e. nobody else has written a message since. */
  GHashTable   *seq_cache;        /* SeqKey -> gint64 * */
  gint64        seq_cache_counter; /* -1: not known to be right */

  /* A lost connection (see "Errors" at the top). */
  gboolean      broken;           /* lost, though libpq may not know (result_lost) */
  gboolean      lost;             /* to be made again */
  guint         failed_attempts;  /* to make it again, since it was lost */
  gint64        next_attempt;     /* monotonic, µs: none before this */
  gint64        last_attempt;     /* monotonic, µs: the last attempt that failed */
  gboolean      in_background;    /* made again on a thread (the main loop's store) */
  Reconnect    *reconnect;        /* that thread's attempt */
};

/* The pause after a failed attempt to connect, doubling: the same as at
 * start (natterd_store_pg_open_full). */
#define RECONNECT_FIRST_PAUSE_MS 500
#define RECONNECT_MAX_PAUSE_MS   5000

/* --- parameters --- */

static PgParams *
pg_params_ref (PgParams *params)
{
  g_atomic_ref_count_inc (&params->ref);
  return params;
}

static void
pg_params_unref (PgParams *params)
{
  if (params == NULL || !g_atomic_ref_count_dec (&params->ref))
    return;
  /* The password does not linger in freed memory. */
  for (guint i = 0; params->keywords[i] != NULL; i++)
    memset (params->values[i], 0, strlen (params->values[i]));
  g_strfreev (params->keywords);
  g_strfreev (params->values);
  g_free (params->description);
  g_mutex_clear (&params->outage_lock);
  g_free (params);
}

static const char *
find_param (PgParams   *params,
            const char *keyword)
{
  for (guint i = 0; params->keywords[i] != NULL; i++)
    if (g_str_equal (params->keywords[i], keyword))
      return params->values[i];
  return NULL;
}

/* Reads a password file: its first line. */
static char *
read_password_file (const char  *path,
                    GError     **error)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) local_error = NULL;
  char *newline;

  if (!g_file_get_contents (path, &contents, NULL, &local_error))
    {
      g_set_error (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_FAILED,
                   "cannot read the database password file: %s", local_error->message);
      return NULL;
    }
  newline = strpbrk (contents, "\r\n");
  if (newline != NULL)
    *newline = '\0';
  if (contents[0] == '\0')
    {
      g_set_error (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_FAILED,
                   "the database password file %s is empty", path);
      return NULL;
    }
  return g_steal_pointer (&contents);
}

/* What natterd adds when neither the conninfo nor the parameter's
 * environment variable (PGCONNECT_TIMEOUT) sets it: libpq's own defaults
 * wait for ever on a host that went away (no connect timeout; the
 * kernel's keepalive after two hours idle; unacknowledged data retried
 * for about fifteen minutes). These give up within about a minute at
 * most, so that a store call fails and natterd reconnects instead of
 * waiting: a connection attempt after 10 s; an idle connection probed
 * after 30 s, then every 10 s, dropped after 3 unanswered probes; sent
 * data not acknowledged within 30 s (tcp_user_timeout, in ms, Linux).
 * None applies to a Unix socket. docs/server.md lists them. */
static const struct {
  const char *keyword;
  const char *value;
} connection_defaults[] = {
  { "connect_timeout",     "10" },
  { "keepalives_idle",     "30" },
  { "keepalives_interval", "10" },
  { "keepalives_count",    "3" },
  { "tcp_user_timeout",    "30000" },
};

static const char *
connection_default (const PQconninfoOption *option)
{
  if (option->envvar != NULL && g_getenv (option->envvar) != NULL)
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (connection_defaults); i++)
    if (g_str_equal (option->keyword, connection_defaults[i].keyword))
      return connection_defaults[i].value;
  return NULL;
}

/* Parses @conninfo with libpq's own parser (URI or key=value), keeps the
 * keys that are set, adds natterd's defaults for those that are not
 * (connection_defaults), and puts the password from @password_file in. */
static PgParams *
pg_params_new (const char  *conninfo,
               const char  *password_file,
               GError     **error)
{
  g_autofree char *password = NULL;
  g_autoptr(GPtrArray) keywords = g_ptr_array_new ();
  g_autoptr(GPtrArray) values = g_ptr_array_new ();
  PQconninfoOption *options;
  char *message = NULL;
  PgParams *params;
  const char *host, *port, *dbname;

  if (password_file != NULL && (password = read_password_file (password_file, error)) == NULL)
    return NULL;

  options = PQconninfoParse (conninfo, &message);
  if (options == NULL)
    {
      g_autofree char *cause = g_strdup (message != NULL ? message : "out of memory");

      PQfreemem (message);
      g_set_error (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_FAILED,
                   "invalid database connection string: %s", g_strchomp (cause));
      return NULL;
    }
  for (PQconninfoOption *o = options; o->keyword != NULL; o++)
    {
      const char *value = o->val != NULL ? o->val : connection_default (o);

      if (value == NULL || (password != NULL && g_str_equal (o->keyword, "password")))
        continue;
      g_ptr_array_add (keywords, g_strdup (o->keyword));
      g_ptr_array_add (values, g_strdup (value));
    }
  PQconninfoFree (options);
  if (password != NULL)
    {
      g_ptr_array_add (keywords, g_strdup ("password"));
      g_ptr_array_add (values, g_steal_pointer (&password));
    }
  /* Named in pg_stat_activity. */
  g_ptr_array_add (keywords, g_strdup ("fallback_application_name"));
  g_ptr_array_add (values, g_strdup ("natterd"));
  g_ptr_array_add (keywords, NULL);
  g_ptr_array_add (values, NULL);

  params = g_new0 (PgParams, 1);
  g_atomic_ref_count_init (&params->ref);
  g_mutex_init (&params->outage_lock);
  params->keywords = (char **) g_ptr_array_free (g_steal_pointer (&keywords), FALSE);
  params->values = (char **) g_ptr_array_free (g_steal_pointer (&values), FALSE);

  host = find_param (params, "host");
  if (host == NULL)
    host = find_param (params, "hostaddr");
  port = find_param (params, "port");
  dbname = find_param (params, "dbname");
  params->description = g_strdup_printf ("host=%s port=%s dbname=%s",
                                         host != NULL ? host : "(default)",
                                         port != NULL ? port : "(default)",
                                         dbname != NULL ? dbname : "(default)");
  return params;
}

char *
natterd_store_pg_connection_param (const char  *conninfo,
                                   const char  *keyword,
                                   GError     **error)
{
  PgParams *params = pg_params_new (conninfo, NULL, error);
  char *value;

  if (params == NULL)
    return NULL;
  value = g_strdup (find_param (params, keyword));
  pg_params_unref (params);
  return value;
}

gboolean
natterd_store_pg_is_conninfo (const char *database)
{
  return g_str_has_prefix (database, "postgresql://") ||
         g_str_has_prefix (database, "postgres://") ||
         strchr (database, '=') != NULL;
}

/* --- errors --- */

/* libpq's messages end in a newline, may span lines and pad with
 * spaces ("FATAL:  database"): one line, single spaces. */
static char *
clean_message (const char *message)
{
  g_autofree char *text = g_strdup (message != NULL && message[0] != '\0' ? message : "unknown error");
  GString *out = g_string_new (NULL);

  for (const char *p = g_strstrip (text); *p != '\0'; p++)
    {
      if (!g_ascii_isspace (*p))
        g_string_append_c (out, *p);
      else if (out->len > 0 && out->str[out->len - 1] != ' ')
        g_string_append_c (out, ' ');
    }
  return g_string_free (out, FALSE);
}

static gboolean
connection_lost (PgStore *self)
{
  return self->conn == NULL || self->broken || PQstatus (self->conn) == CONNECTION_BAD;
}

/* Whether the failed @res shows the connection gone. libpq does not
 * always mark it so: a server killed by an immediate shutdown can fail a
 * query with "server closed the connection unexpectedly" while PQstatus()
 * still says CONNECTION_OK. So an error libpq made itself (no SQLSTATE
 * from the server), a server shutting down (class 57P) and a connection
 * exception (class 08) count as lost too: the connection is made again. */
static gboolean
result_lost (PgStore  *self,
             PGresult *res)
{
  const char *state = res != NULL ? PQresultErrorField (res, PG_DIAG_SQLSTATE) : NULL;

  if (state == NULL || g_str_has_prefix (state, "57P") || g_str_has_prefix (state, "08"))
    self->broken = TRUE;
  return connection_lost (self);
}

static void clear_queued (PgStore *self,
                          guint    keep);
static void clear_queued_changes (PgStore *self,
                                  guint    keep);

static void
reset_counter (PgStore *self)
{
  clear_queued (self, 0);
  g_hash_table_remove_all (self->ensured);
  self->in_job = FALSE;
  self->counter_locked = FALSE;
  self->counter_dirty = FALSE;
  self->counter_last_id = 0;
}

/* The first call to find the connection lost: the outage starts for this
 * connection, and for the process (logged) unless another connection
 * found it first. */
static void
note_lost (PgStore    *self,
           const char *cause)
{
  PgParams *params = self->params;
  gboolean first;

  if (self->lost)
    return;
  self->lost = TRUE;
  self->failed_attempts = 0;
  self->next_attempt = 0;
  reset_counter (self);
  g_mutex_lock (&params->outage_lock);
  first = !params->outage;
  if (first)
    {
      params->outage = TRUE;
      params->lost_since = g_get_monotonic_time ();
    }
  g_mutex_unlock (&params->outage_lock);
  if (first)
    g_warning ("Lost the connection to the database (%s): %s; reconnecting",
               params->description, cause);
}

/* Ends this connection's outage. The first connection back ends the
 * process's (logged, unless @logged is FALSE: a store that closes): the
 * database answers again. Connections idle through it find out they were
 * cut when next used, and are made again then, quietly if the database
 * answers at once. */
static void
note_back (PgStore  *self,
           gboolean  logged)
{
  PgParams *params = self->params;
  gboolean ended;
  gint64 since;

  if (!self->lost)
    return;
  self->lost = FALSE;
  self->failed_attempts = 0;
  if (!logged)
    return;
  g_mutex_lock (&params->outage_lock);
  ended = params->outage;
  params->outage = FALSE;
  since = params->lost_since;
  if (ended)
    params->back_at = g_get_monotonic_time ();
  g_mutex_unlock (&params->outage_lock);
  if (ended)
    g_message ("Reconnected to the database (%s) after %.1f s", params->description,
               (g_get_monotonic_time () - since) / (double) G_USEC_PER_SEC);
}

static void
note_attempt_failed (PgStore      *self,
                     const GError *error)
{
  guint pause_ms = RECONNECT_FIRST_PAUSE_MS << MIN (self->failed_attempts, 8);

  pause_ms = MIN (pause_ms, RECONNECT_MAX_PAUSE_MS);
  self->failed_attempts++;
  self->last_attempt = g_get_monotonic_time ();
  self->next_attempt = self->last_attempt + (gint64) pause_ms * 1000;
  g_debug ("Could not reconnect to the database (attempt %u): %s; next attempt in %.1f s",
           self->failed_attempts, error->message, pause_ms / 1000.0);
}

/* A call while the connection is lost and not made again yet. */
static gboolean
set_unavailable_error (PgStore  *self,
                       GError  **error)
{
  g_set_error (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_UNAVAILABLE,
               "the database (%s) cannot be reached; reconnecting", self->params->description);
  return FALSE;
}

/* Sets @error from a failed result (or a lost connection), and rolls the
 * transaction in progress back: PostgreSQL refuses every statement after
 * an error until then. Takes @res. */
static gboolean
set_result_error (PgStore     *self,
                  PGresult    *res,
                  const char  *what,
                  GError     **error)
{
  const char *state = res != NULL ? PQresultErrorField (res, PG_DIAG_SQLSTATE) : NULL;
  const char *primary = res != NULL ? PQresultErrorField (res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
  g_autofree char *message = clean_message (primary != NULL ? primary : PQerrorMessage (self->conn));
  NatterdStoreError code = NATTERD_STORE_ERROR_FAILED;
  gboolean lost = result_lost (self, res);

  if (state != NULL && g_str_has_prefix (state, "23"))
    code = NATTERD_STORE_ERROR_CONSTRAINT;
  PQclear (res);

  if (lost)
    {
      g_set_error (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_UNAVAILABLE,
                   "%s: lost the connection to the database (%s): %s",
                   what, self->params->description, message);
      note_lost (self, message);
      reset_counter (self);
      return FALSE;
    }
  g_set_error (error, NATTERD_STORE_ERROR, code, "%s: %s", what, message);
  /* Inside a job's savepoint, the writer rolls back to it instead. */
  if (PQtransactionStatus (self->conn) == PQTRANS_INERROR && !self->in_job)
    {
      PQclear (PQexec (self->conn, "ROLLBACK"));
      reset_counter (self);
    }
  return FALSE;
}

/* --- connections --- */

static void
notice_cb (void       *arg,
           const char *message)
{
  g_autofree char *text = clean_message (message);

  g_debug ("database: %s", text);
}

/* Runs @sql (no parameters, perhaps several statements) for its effect. */
static gboolean
exec_simple (PgStore     *self,
             const char  *sql,
             const char  *what,
             GError     **error)
{
  PGresult *res = PQexec (self->conn, sql);

  if (PQresultStatus (res) != PGRES_COMMAND_OK && PQresultStatus (res) != PGRES_TUPLES_OK)
    return set_result_error (self, res, what, error);
  PQclear (res);
  return TRUE;
}

/* What every session needs: settings, then the statements. */
static gboolean
set_up_session (PgStore  *self,
                GError  **error)
{
  PQsetNoticeProcessor (self->conn, notice_cb, NULL);
  /* A COMMIT returns once the server has flushed it: nothing is
   * acknowledged that a crash of the server could lose. */
  if (!exec_simple (self, "SET synchronous_commit = on; SET client_encoding = 'UTF8'",
                    "set up the session", error))
    return FALSE;
  /* The reader's searches: after five runs of a prepared statement
   * PostgreSQL may switch to a generic plan, made without the parameter
   * values. For STMT_SEARCH that plan cannot tell a rare word from a
   * common one and walks the GIN index's whole posting list of a common
   * word before the LIMIT applies: a common-word search's p99 was
   * 169.9 ms with it, 1.72 ms with a plan per call (docs/performance.md,
   * at 1 M messages). Planning each call costs about 0.1 ms; the history
   * reads lost nothing measurable (p99 1.26 vs 1.49 ms, one run each). */
  if (self->custom_plans &&
      !exec_simple (self, "SET plan_cache_mode = force_custom_plan", "set up the session", error))
    return FALSE;
  self->prepared = FALSE;
  return TRUE;
}

static gboolean
prepare_statements (PgStore  *self,
                    GError  **error)
{
  for (guint i = 0; i < N_STMTS; i++)
    {
      char name[16];
      PGresult *res;

      g_snprintf (name, sizeof name, "s%u", i);
      res = PQprepare (self->conn, name, stmt_defs[i].sql, 0, NULL);
      if (PQresultStatus (res) != PGRES_COMMAND_OK)
        return set_result_error (self, res, "prepare", error);
      PQclear (res);
    }
  self->prepared = TRUE;
  return TRUE;
}

static gboolean
set_connect_error (PgStore     *self,
                   GError     **error)
{
  g_autofree char *message = clean_message (PQerrorMessage (self->conn));

  g_set_error (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_FAILED,
               "cannot connect to the database (%s): %s", self->params->description, message);
  return FALSE;
}

static PgStore *store_connect (PgParams  *params,
                               gboolean   primary,
                               gboolean   custom_plans,
                               GError   **error);

/* Takes the connection of @fresh (made by store_connect, statements
 * prepared) in place of the lost one. */
static void
adopt_connection (PgStore *self,
                  PgStore *fresh)
{
  PQfinish (self->conn);
  self->conn = g_steal_pointer (&fresh->conn);
  self->broken = FALSE;
  self->prepared = TRUE;
  natterd_store_close (&fresh->parent);
  reset_counter (self);
  note_back (self, TRUE);
}

/* One attempt, on the calling thread. */
/* Whether to try to connect now: the pause after the last failed attempt
 * is over, or another connection of the process has found the database
 * back since (the writer's next batch finds it first, often; the reader
 * would otherwise answer "unavailable" for up to the longest pause while
 * sends already work). */
static gboolean
may_attempt_now (PgStore *self)
{
  PgParams *params = self->params;
  gint64 back_at;

  if (g_get_monotonic_time () >= self->next_attempt)
    return TRUE;
  g_mutex_lock (&params->outage_lock);
  back_at = params->back_at;
  g_mutex_unlock (&params->outage_lock);
  return back_at > self->last_attempt;
}

static gboolean
reconnect_now (PgStore  *self,
               GError  **error)
{
  g_autoptr(GError) local_error = NULL;
  PgStore *fresh;

  if (!may_attempt_now (self))
    return set_unavailable_error (self, error);
  fresh = store_connect (self->params, FALSE, self->custom_plans, &local_error);
  if (fresh == NULL)
    {
      note_attempt_failed (self, local_error);
      return set_unavailable_error (self, error);
    }
  adopt_connection (self, fresh);
  return TRUE;
}

/* An attempt on a thread of its own, shared by the thread and the store
 * until both let go: a store closed meanwhile does not wait for it. */
struct _Reconnect {
  gatomicrefcount  ref;
  PgParams        *params;
  gboolean         custom_plans;
  GMutex           lock;
  gboolean         done;
  PgStore         *fresh;  /* the new connection, when it worked */
  GError          *error;  /* else why not */
};

static void
reconnect_unref (Reconnect *r)
{
  if (!g_atomic_ref_count_dec (&r->ref))
    return;
  if (r->fresh != NULL)
    natterd_store_close (&r->fresh->parent);
  g_clear_error (&r->error);
  pg_params_unref (r->params);
  g_mutex_clear (&r->lock);
  g_free (r);
}

static gpointer
reconnect_thread (gpointer data)
{
  Reconnect *r = data;
  GError *error = NULL;
  PgStore *fresh = store_connect (r->params, FALSE, r->custom_plans, &error);

  g_mutex_lock (&r->lock);
  r->fresh = fresh;
  r->error = error;
  r->done = TRUE;
  g_mutex_unlock (&r->lock);
  reconnect_unref (r);
  return NULL;
}

/* Never waits: starts an attempt when one is due, takes its connection
 * when it worked, and fails the call meanwhile. */
static gboolean
reconnect_in_background (PgStore  *self,
                         GError  **error)
{
  g_autoptr(GError) local_error = NULL;
  Reconnect *r = self->reconnect;
  PgStore *fresh = NULL;
  gboolean done;

  if (r == NULL)
    {
      GThread *thread;

      if (!may_attempt_now (self))
        return set_unavailable_error (self, error);
      r = g_new0 (Reconnect, 1);
      g_atomic_ref_count_init (&r->ref);
      g_atomic_ref_count_inc (&r->ref); /* the thread's */
      r->params = pg_params_ref (self->params);
      r->custom_plans = self->custom_plans;
      g_mutex_init (&r->lock);
      thread = g_thread_try_new ("natterd-pg-connect", reconnect_thread, r, &local_error);
      if (thread == NULL)
        {
          reconnect_unref (r);
          reconnect_unref (r);
          note_attempt_failed (self, local_error);
          return set_unavailable_error (self, error);
        }
      g_thread_unref (thread);
      self->reconnect = r;
    }

  g_mutex_lock (&r->lock);
  done = r->done;
  if (done)
    {
      fresh = g_steal_pointer (&r->fresh);
      local_error = g_steal_pointer (&r->error);
    }
  g_mutex_unlock (&r->lock);
  if (!done)
    return set_unavailable_error (self, error);
  g_clear_pointer (&self->reconnect, reconnect_unref);
  if (fresh == NULL)
    {
      note_attempt_failed (self, local_error);
      return set_unavailable_error (self, error);
    }
  adopt_connection (self, fresh);
  return TRUE;
}

/* The start of every call: a connection lost earlier is made again here
 * (see "Errors" at the top), the statements with it. */
static gboolean
ensure_connected (PgStore  *self,
                  GError  **error)
{
  if (connection_lost (self))
    {
      g_autofree char *cause = clean_message (PQerrorMessage (self->conn));

      note_lost (self, cause);
      if (!(self->in_background ? reconnect_in_background (self, error)
                                : reconnect_now (self, error)))
        return FALSE;
    }
  return self->prepared || prepare_statements (self, error);
}

/* Parameters for one statement: integers and NUL-terminated text in text
 * format, bytes (binary-safe) in binary format. */
#define MAX_PARAMS 10
typedef struct {
  int         n;
  const char *values[MAX_PARAMS];
  int         lengths[MAX_PARAMS];
  int         formats[MAX_PARAMS];
  char        numbers[MAX_PARAMS][24];
} Params;

static void
param_int (Params *p,
           gint64  value)
{
  g_assert (p->n < MAX_PARAMS);
  g_snprintf (p->numbers[p->n], sizeof p->numbers[p->n], "%" G_GINT64_FORMAT, value);
  p->values[p->n] = p->numbers[p->n];
  p->lengths[p->n] = 0;
  p->formats[p->n] = 0;
  p->n++;
}

/* NULL is SQL NULL. */
static void
param_text (Params     *p,
            const char *text)
{
  g_assert (p->n < MAX_PARAMS);
  p->values[p->n] = text;
  p->lengths[p->n] = 0;
  p->formats[p->n] = 0;
  p->n++;
}

/* For bytea, and for text with a length (binary text is its bytes). */
static void
param_bytes (Params        *p,
             gconstpointer  data,
             gsize          len)
{
  g_assert (p->n < MAX_PARAMS && len <= G_MAXINT);
  p->values[p->n] = data;
  p->lengths[p->n] = (int) len;
  p->formats[p->n] = 1;
  p->n++;
}

static gboolean flush_queued (PgStore  *self,
                              GError  **error);

/* Runs a prepared statement; the result (rows or none) or NULL with
 * @error. A read outside a transaction that meets a lost connection is
 * run once more on a new one. Queued messages are written first: every
 * statement sees them, but for those that touch no message (no_flush):
 * a first message to someone runs direct_ensure before its insert, and a
 * window of such sends (a client's first burst) was written one message
 * per flush, a batch of thousands taking seconds (docs/performance.md). */
static PGresult *
run (PgStore     *self,
     StmtId       id,
     Params      *p,
     const char  *what,
     GError     **error)
{
  gboolean retry = !stmt_defs[id].writes;
  char name[16];

  if ((self->queued->len > 0 || self->queued_changes->len > 0) && !self->flushing && !stmt_defs[id].no_flush &&
      !flush_queued (self, error))
    return NULL;
  g_snprintf (name, sizeof name, "s%u", (guint) id);
  for (;;)
    {
      gboolean outside = FALSE, savepoint;
      PGresult *res;
      ExecStatusType status;

      if (!ensure_connected (self, error))
        return NULL;
      outside = PQtransactionStatus (self->conn) == PQTRANS_IDLE;
      if (stmt_defs[id].writes && self->write_hook != NULL)
        self->write_hook (self->write_hook_data);
      /* PostgreSQL aborts the whole transaction at an error: a name
       * already taken would fail every other write of the writer's batch
       * (the sends too). Inside a savepoint it fails this statement only. */
      savepoint = stmt_defs[id].may_clash && !outside;
      if (savepoint && !exec_simple (self, "SAVEPOINT clash", what, error))
        return NULL;
      res = PQexecPrepared (self->conn, name, p != NULL ? p->n : 0,
                            p != NULL ? p->values : NULL, p != NULL ? p->lengths : NULL,
                            p != NULL ? p->formats : NULL, 0);
      status = PQresultStatus (res);
      if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
        {
          if (savepoint && !exec_simple (self, "RELEASE SAVEPOINT clash", what, error))
            {
              PQclear (res);
              return NULL;
            }
          return res;
        }
      if (savepoint && !result_lost (self, res))
        PQclear (PQexec (self->conn, "ROLLBACK TO SAVEPOINT clash"));
      if (retry && outside && result_lost (self, res))
        {
          g_autofree char *message = clean_message (PQerrorMessage (self->conn));

          note_lost (self, message);
          PQclear (res);
          retry = FALSE;
          continue;
        }
      set_result_error (self, res, what, error);
      return NULL;
    }
}

/* Runs a statement for its effect only. */
static gboolean
run_done (PgStore     *self,
          StmtId       id,
          Params      *p,
          const char  *what,
          GError     **error)
{
  PGresult *res = run (self, id, p, what, error);

  PQclear (res);
  return res != NULL;
}

/* The many statements whose parameters are two integers. */
static gboolean
run_done_ints (PgStore     *self,
               StmtId       id,
               gint64       a,
               gint64       b,
               const char  *what,
               GError     **error)
{
  Params p = { 0 };

  param_int (&p, a);
  param_int (&p, b);
  return run_done (self, id, &p, what, error);
}

static gint64
get_int (PGresult *res,
         int       row,
         int       column)
{
  if (PQgetisnull (res, row, column))
    return 0;
  return g_ascii_strtoll (PQgetvalue (res, row, column), NULL, 10);
}

static gboolean
get_bool (PGresult *res,
          int       row,
          int       column)
{
  return !PQgetisnull (res, row, column) && PQgetvalue (res, row, column)[0] == 't';
}

/* A bytea value (in text form, as every result is), or NULL with @error. */
static GBytes *
get_bytea (PGresult    *res,
           int          row,
           int          column,
           const char  *what,
           GError     **error)
{
  size_t len = 0;
  guint8 *data = PQunescapeBytea ((const guint8 *) PQgetvalue (res, row, column), &len);
  GBytes *bytes;

  if (data == NULL)
    {
      g_set_error (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_FAILED, "%s: out of memory", what);
      return NULL;
    }
  bytes = g_bytes_new (data, len);
  PQfreemem (data);
  return bytes;
}

static const char *
get_text (PGresult *res,
          int       row,
          int       column)
{
  return PQgetisnull (res, row, column) ? NULL : PQgetvalue (res, row, column);
}

static gboolean
migrate (PgStore  *self,
         GError  **error)
{
  PGresult *res;
  int version = 0, initial_version;

  /* DDL is transactional: the whole migration commits or nothing. */
  if (!exec_simple (self, "BEGIN;"
                          "SELECT pg_advisory_xact_lock (" MIGRATION_LOCK_KEY ");"
                          "CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)",
                    "schema version", error))
    return FALSE;
  res = PQexec (self->conn, "SELECT version FROM schema_version");
  if (PQresultStatus (res) != PGRES_TUPLES_OK)
    return set_result_error (self, res, "schema version", error);
  if (PQntuples (res) > 0)
    version = (int) get_int (res, 0, 0);
  else if (!exec_simple (self, "INSERT INTO schema_version VALUES (0)", "schema version", error))
    {
      PQclear (res);
      return FALSE;
    }
  PQclear (res);

  if (version > (int) G_N_ELEMENTS (migrations))
    {
      PQclear (PQexec (self->conn, "ROLLBACK"));
      g_set_error (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_FAILED,
                   "database schema version %d is newer than this natterd knows (%d)",
                   version, (int) G_N_ELEMENTS (migrations));
      return FALSE;
    }

  initial_version = version;
  for (; version < (int) G_N_ELEMENTS (migrations); version++)
    {
      g_autofree char *bump = g_strdup_printf ("UPDATE schema_version SET version = %d", version + 1);

      if (initial_version > 0)
        g_message ("Updating the database to schema version %d", version + 1);
      if (!exec_simple (self, migrations[version], "migrate", error) ||
          !exec_simple (self, bump, "migrate", error))
        {
          g_prefix_error (error, "migration %d: ", version + 1);
          return FALSE;
        }
    }
  if (!exec_simple (self, "COMMIT", "migrate", error))
    return FALSE;
  self->schema_version = version;
  return TRUE;
}

/* One connection; the primary also migrates the schema. */
static PgStore *
store_connect (PgParams  *params,
               gboolean   primary,
               gboolean   custom_plans,
               GError   **error)
{
  PgStore *self = g_new0 (PgStore, 1);

  self->parent.engine = &pg_engine;
  self->custom_plans = custom_plans;
  self->queued = g_array_new (FALSE, FALSE, sizeof (QueuedMessage));
  self->queued_changes = g_array_new (FALSE, FALSE, sizeof (QueuedChange));
  self->queued_keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->seq_cache = g_hash_table_new_full (seq_key_hash, seq_key_equal, g_free, g_free);
  self->seq_cache_counter = -1;
  self->ensured = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->params = pg_params_ref (params);
  self->conn = PQconnectdbParams ((const char *const *) params->keywords,
                                  (const char *const *) params->values, 0);
  if (self->conn == NULL || PQstatus (self->conn) != CONNECTION_OK)
    {
      if (self->conn != NULL)
        set_connect_error (self, error);
      else
        g_set_error_literal (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_FAILED, "out of memory");
      natterd_store_close (&self->parent);
      return NULL;
    }
  if (!set_up_session (self, error) ||
      (primary && !migrate (self, error)) ||
      !prepare_statements (self, error))
    {
      g_prefix_error (error, "%s: ", params->description);
      natterd_store_close (&self->parent);
      return NULL;
    }
  if (!primary)
    self->schema_version = G_N_ELEMENTS (migrations);
  return self;
}

NatterdStore *
natterd_store_pg_open_full (const char  *conninfo,
                            const char  *password_file,
                            guint        retry_seconds,
                            GError     **error)
{
  PgParams *params = pg_params_new (conninfo, password_file, error);
  gint64 deadline = g_get_monotonic_time () + (gint64) retry_seconds * G_USEC_PER_SEC;
  gulong pause_ms = RECONNECT_FIRST_PAUSE_MS;
  PgStore *self = NULL;

  if (params == NULL)
    return NULL;
  for (guint attempt = 1;; attempt++)
    {
      g_autoptr(GError) local_error = NULL;
      PGPing ping;
      gint64 now;

      self = store_connect (params, TRUE, FALSE, &local_error);
      if (self != NULL)
        break;
      /* Only a server that does not answer (or is starting or stopping)
       * is worth waiting for; one that answers and refuses (a wrong
       * password, no such database, a newer schema) is not. */
      ping = PQpingParams ((const char *const *) params->keywords,
                           (const char *const *) params->values, 0);
      now = g_get_monotonic_time ();
      if ((ping != PQPING_NO_RESPONSE && ping != PQPING_REJECT) || now >= deadline)
        {
          if (retry_seconds > 0 && attempt > 1)
            g_prefix_error (&local_error, "gave up after %u attempts: ", attempt);
          g_propagate_error (error, g_steal_pointer (&local_error));
          break;
        }
      pause_ms = MIN ((gint64) pause_ms, (deadline - now) / 1000 + 1);
      g_message ("The database does not answer (attempt %u): %s; trying again in %.1f s",
                 attempt, local_error->message, pause_ms / 1000.0);
      g_usleep (pause_ms * 1000);
      pause_ms = MIN (pause_ms * 2, RECONNECT_MAX_PAUSE_MS);
    }
  pg_params_unref (params);
  return (NatterdStore *) self;
}

NatterdStore *
natterd_store_pg_open (const char  *conninfo,
                       GError     **error)
{
  return natterd_store_pg_open_full (conninfo, NULL, 0, error);
}

static NatterdStore *
pg_open_sibling (NatterdStore  *store,
                 GError       **error)
{
  PgStore *self = (PgStore *) store;

  return (NatterdStore *) store_connect (self->params, FALSE, FALSE, error);
}

/* The reader's connection (natterd-reads): a plan per call (see
 * set_up_session). */
static NatterdStore *
pg_open_reader (NatterdStore  *store,
                GError       **error)
{
  PgStore *self = (PgStore *) store;

  return (NatterdStore *) store_connect (self->params, FALSE, TRUE, error);
}

/* The writer's connection (natterd-commit): its transactions take the
 * message counter at BEGIN (see the top of the file). */
static NatterdStore *
pg_open_writer (NatterdStore  *store,
                GError       **error)
{
  PgStore *writer = (PgStore *) pg_open_sibling (store, error);

  if (writer != NULL)
    {
      writer->counter_at_begin = TRUE;
      writer->batches = TRUE;
    }
  return (NatterdStore *) writer;
}

static void
pg_close (NatterdStore *store)
{
  PgStore *self = (PgStore *) store;

  if (self == NULL)
    return;
  g_clear_pointer (&self->reconnect, reconnect_unref);
  note_back (self, FALSE);
  if (self->conn != NULL && PQtransactionStatus (self->conn) == PQTRANS_INTRANS)
    {
      g_warning ("closing the store inside a transaction; rolling it back");
      PQclear (PQexec (self->conn, "ROLLBACK"));
    }
  if (self->conn != NULL)
    PQfinish (self->conn);
  pg_params_unref (self->params);
  clear_queued (self, 0);
  g_array_unref (self->queued);
  g_array_unref (self->queued_changes);
  g_hash_table_unref (self->queued_keys);
  g_hash_table_unref (self->seq_cache);
  g_hash_table_unref (self->ensured);
  g_free (self);
}

static void
pg_set_reconnect_in_background (NatterdStore *store,
                                gboolean      in_background)
{
  PgStore *self = (PgStore *) store;

  self->in_background = in_background;
}

static void
pg_set_write_hook (NatterdStore          *store,
                   NatterdStoreWriteHook  hook,
                   gpointer               data)
{
  PgStore *self = (PgStore *) store;

  self->write_hook = hook;
  self->write_hook_data = data;
}

static const char *
pg_get_path (NatterdStore *store)
{
  PgStore *self = (PgStore *) store;

  return self->params->description;
}

static int
pg_get_schema_version (NatterdStore *store)
{
  PgStore *self = (PgStore *) store;

  return self->schema_version;
}

/* --- for the rest of the store layer (natterd-store-pg-internal.h) --- */

PGconn *
natterd_store_pg_get_conn (NatterdStore *store)
{
  g_return_val_if_fail (store != NULL && store->engine == &pg_engine, NULL);
  return ((PgStore *) store)->conn;
}

gboolean
natterd_store_pg_exec (NatterdStore  *store,
                       const char    *sql,
                       const char    *what,
                       GError       **error)
{
  g_return_val_if_fail (store != NULL && store->engine == &pg_engine, FALSE);
  return exec_simple ((PgStore *) store, sql, what, error);
}

gboolean
natterd_store_pg_set_error (NatterdStore  *store,
                            PGresult      *res,
                            const char    *what,
                            GError       **error)
{
  g_return_val_if_fail (store != NULL && store->engine == &pg_engine, FALSE);
  return set_result_error ((PgStore *) store, res, what, error);
}

/* --- transactions --- */

static gboolean
pg_in_transaction (NatterdStore *store)
{
  PgStore *self = (PgStore *) store;

  PGTransactionStatusType status = connection_lost (self) ? PQTRANS_UNKNOWN
                                                         : PQtransactionStatus (self->conn);

  /* An error inside a job's savepoint leaves the transaction alive: a
   * ROLLBACK TO the savepoint takes it back. */
  return status == PQTRANS_INTRANS || (status == PQTRANS_INERROR && self->in_job);
}

/* The most entries the seq cache keeps: emptied past it. */
#define SEQ_CACHE_MAX 100000

static void
seq_cache_forget (PgStore *self)
{
  g_hash_table_remove_all (self->seq_cache);
  self->seq_cache_counter = -1;
}

/* At the counter's lock: the cache holds only if no message was written
 * since this connection's last commit of some (by this or another node,
 * or another connection of this one). */
static void
seq_cache_check (PgStore *self)
{
  if (self->counter_last_id != self->seq_cache_counter ||
      g_hash_table_size (self->seq_cache) > SEQ_CACHE_MAX)
    seq_cache_forget (self);
}

static gboolean lock_counter (PgStore  *self,
                              GError  **error);

/* The writer's BEGIN: with the counter's lock, in one round trip (a
 * simple query of two statements; PQexec returns the last one's result).
 * Each round trip is a wake-up of the server's process, which on a busy
 * machine waits for a CPU; a writer batch of a fan-out is a few tens of
 * messages, so its fixed statements count. */
static gboolean
begin_locked (PgStore  *self,
              GError  **error)
{
  PGresult *res = PQexec (self->conn, "BEGIN; SELECT last_id FROM message_counter WHERE id = 1 FOR UPDATE");

  if (PQresultStatus (res) != PGRES_TUPLES_OK || PQntuples (res) != 1)
    return set_result_error (self, res, "begin (lock the message counter)", error);
  self->counter_last_id = get_int (res, 0, 0);
  self->counter_locked = TRUE;
  self->counter_dirty = FALSE;
  PQclear (res);
  seq_cache_check (self);
  return TRUE;
}

static gboolean
pg_begin (NatterdStore *store,
          GError      **error)
{
  PgStore *self = (PgStore *) store;

  if (!ensure_connected (self, error))
    return FALSE;
  if (self->write_hook != NULL)
    self->write_hook (self->write_hook_data);
  reset_counter (self);
  /* A connection that died while idle (a server restart) loses nothing
   * yet: the writer's next batch goes on, on a new one. */
  if (self->counter_at_begin)
    {
      g_autoptr(GError) first = NULL;

      if (begin_locked (self, &first))
        return TRUE;
      if (!connection_lost (self))
        {
          g_propagate_error (error, g_steal_pointer (&first));
          return FALSE;
        }
      return ensure_connected (self, error) && begin_locked (self, error);
    }
  if (!exec_simple (self, "BEGIN", "begin", NULL) &&
      !(ensure_connected (self, error) && exec_simple (self, "BEGIN", "begin", error)))
    return FALSE;
  return TRUE;
}

static gboolean
pg_commit (NatterdStore *store,
           GError      **error)
{
  PgStore *self = (PgStore *) store;
  PGresult *res;
  gint64 stored_last_id = -1;

  if (!pg_in_transaction (store))
    {
      g_set_error_literal (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_FAILED,
                           "commit: no transaction (it was rolled back)");
      return FALSE;
    }
  if (!flush_queued (self, error))
    return FALSE;
  if (self->counter_dirty)
    {
      /* The last id used, and COMMIT, in one round trip (see
       * begin_locked). The only SQL text made from a value: a number
       * counted here, never a client's. An error in the UPDATE skips
       * the COMMIT and fails the transaction, answered below. */
      g_autofree char *sql = g_strdup_printf ("UPDATE message_counter SET last_id = %" G_GINT64_FORMAT
                                              " WHERE id = 1; COMMIT", self->counter_last_id);

      stored_last_id = self->counter_last_id;
      if (self->write_hook != NULL)
        self->write_hook (self->write_hook_data);
      reset_counter (self);
      res = PQexec (self->conn, sql);
    }
  else
    {
      reset_counter (self);
      res = PQexec (self->conn, "COMMIT");
    }
  if (PQresultStatus (res) != PGRES_COMMAND_OK)
    {
      /* A connection lost here leaves the outcome unknown: the caller
       * answers an error, and a resend finds the message if it was
       * stored (client_msg_id). */
      set_result_error (self, res, "commit", error);
      if (g_error_matches (*error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_UNAVAILABLE))
        g_prefix_error (error, "outcome unknown: ");
      return FALSE;
    }
  /* COMMIT of a failed transaction "succeeds" as a ROLLBACK. */
  if (g_strcmp0 (PQcmdStatus (res), "COMMIT") != 0)
    {
      PQclear (res);
      g_set_error_literal (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_FAILED,
                           "commit: the transaction was rolled back");
      return FALSE;
    }
  PQclear (res);
  /* What this transaction wrote is stored: the seq cache is right while
   * the counter stays here. */
  if (stored_last_id >= 0)
    self->seq_cache_counter = stored_last_id;
  return TRUE;
}

static void
pg_rollback (NatterdStore *store)
{
  PgStore *self = (PgStore *) store;

  reset_counter (self);
  if (!connection_lost (self) && PQtransactionStatus (self->conn) != PQTRANS_IDLE)
    PQclear (PQexec (self->conn, "ROLLBACK"));
}

static const char *const savepoint_sql[] = {
  [NATTERD_STORE_SAVEPOINT_SET] = "SAVEPOINT job",
  [NATTERD_STORE_SAVEPOINT_RELEASE] = "RELEASE SAVEPOINT job",
  [NATTERD_STORE_SAVEPOINT_ROLLBACK] = "ROLLBACK TO SAVEPOINT job; RELEASE SAVEPOINT job",
};

/* Also after an error: ROLLBACK TO is what an aborted transaction still
 * takes. */
static gboolean
pg_savepoint (NatterdStore          *store,
              NatterdStoreSavepoint  action,
              GError               **error)
{
  PgStore *self = (PgStore *) store;

  if (connection_lost (self))
    {
      g_set_error (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_FAILED,
                   "savepoint: lost the connection to the database (%s)", self->params->description);
      return FALSE;
    }
  /* The rows queued by earlier jobs are theirs: written before the
   * savepoint, a ROLLBACK TO it cannot take them back. */
  if (action == NATTERD_STORE_SAVEPOINT_SET && !flush_queued (self, error))
    return FALSE;
  if (action == NATTERD_STORE_SAVEPOINT_ROLLBACK)
    {
      clear_queued (self, self->queued_at_job);
      clear_queued_changes (self, self->changes_at_job);
      /* It may take back a conversation the job made, and messages
       * written since the job began (their seq are in the cache). */
      g_hash_table_remove_all (self->ensured);
      seq_cache_forget (self);
    }
  self->queued_at_job = self->queued->len;
  self->changes_at_job = self->queued_changes->len;
  self->in_job = action == NATTERD_STORE_SAVEPOINT_SET;
  if (exec_simple (self, savepoint_sql[action], "savepoint", error))
    return TRUE;
  self->in_job = FALSE;
  if (PQtransactionStatus (self->conn) == PQTRANS_INERROR)
    pg_rollback (store);
  return FALSE;
}

/* A transaction of the call's own when the caller has none open. */
typedef struct {
  gboolean own;
} Own;

static gboolean
own_begin (PgStore  *self,
           Own      *own,
           GError  **error)
{
  own->own = !pg_in_transaction (&self->parent);
  return !own->own || pg_begin (&self->parent, error);
}

static gboolean
own_end (PgStore   *self,
         Own       *own,
         gboolean   ok,
         GError   **error)
{
  if (!own->own)
    return ok;
  if (ok && pg_commit (&self->parent, error))
    return TRUE;
  pg_rollback (&self->parent);
  return FALSE;
}

/* --- users --- */

/* A statement that returns one id. */
static gboolean
run_returning_id (PgStore     *self,
                  StmtId       id,
                  Params      *p,
                  gint64      *out_id,
                  const char  *what,
                  GError     **error)
{
  PGresult *res = run (self, id, p, what, error);

  if (res == NULL)
    return FALSE;
  *out_id = PQntuples (res) > 0 ? get_int (res, 0, 0) : 0;
  PQclear (res);
  return TRUE;
}

static gboolean
pg_user_insert (NatterdStore *store,
                const char   *username,
                const char   *display_name,
                const char   *password_hash,
                gint64        created_ms,
                gint64       *out_id,
                GError      **error)
{
  PgStore *self = (PgStore *) store;
  Params p = { 0 };

  param_text (&p, username);
  param_text (&p, display_name);
  param_text (&p, password_hash);
  param_int (&p, created_ms);
  return run_returning_id (self, STMT_USER_INSERT, &p, out_id, "insert user", error);
}

static gboolean
pg_users_foreach (NatterdStore         *store,
                  NatterdStoreUserFunc  func,
                  gpointer              user_data,
                  GError              **error)
{
  PgStore *self = (PgStore *) store;
  PGresult *res = run (self, STMT_USERS_ALL, NULL, "load users", error);

  if (res == NULL)
    return FALSE;
  for (int i = 0; i < PQntuples (res); i++)
    func (get_int (res, i, 0), get_text (res, i, 1), get_text (res, i, 2), get_text (res, i, 3),
          get_text (res, i, 4), get_int (res, i, 5), user_data);
  PQclear (res);
  return TRUE;
}

static gboolean
pg_user_set_last_seen (NatterdStore *store,
                       gint64        user_id,
                       gint64        last_seen,
                       GError      **error)
{
  PgStore *self = (PgStore *) store;

  return run_done_ints (self, STMT_USER_LAST_SEEN, user_id, last_seen, "set last_seen", error);
}

static gboolean
pg_user_set_status_text (NatterdStore *store,
                         gint64        user_id,
                         const char   *status_text,
                         GError      **error)
{
  PgStore *self = (PgStore *) store;
  Params p = { 0 };

  param_int (&p, user_id);
  param_text (&p, status_text);
  return run_done (self, STMT_USER_STATUS, &p, "set status_text", error);
}

static gboolean
pg_user_set_display_name (NatterdStore *store,
                          gint64        user_id,
                          const char   *display_name,
                          GError      **error)
{
  PgStore *self = (PgStore *) store;
  Params p = { 0 };

  param_int (&p, user_id);
  param_text (&p, display_name);
  return run_done (self, STMT_USER_DISPLAY_NAME, &p, "set display_name", error);
}

/* --- avatars --- */

static gboolean
pg_avatar_set (NatterdStore  *store,
               gint64         user_id,
               GBytes        *data,
               const char    *sha256,
               GError       **error)
{
  PgStore *self = (PgStore *) store;
  Params p = { 0 };
  gsize len = 0;
  gconstpointer bytes;

  param_int (&p, user_id);
  if (data == NULL)
    return run_done (self, STMT_AVATAR_DELETE, &p, "remove avatar", error);
  bytes = g_bytes_get_data (data, &len);
  param_text (&p, sha256);
  param_bytes (&p, bytes, len);
  return run_done (self, STMT_AVATAR_SET, &p, "set avatar", error);
}

static gboolean
pg_avatar_get (NatterdStore  *store,
               gint64         user_id,
               GBytes       **out,
               char         **out_sha256,
               GError       **error)
{
  PgStore *self = (PgStore *) store;
  Params p = { 0 };
  PGresult *res;

  param_int (&p, user_id);
  res = run (self, STMT_AVATAR_GET, &p, "read avatar", error);
  if (res == NULL)
    return FALSE;
  if (PQntuples (res) > 0)
    {
      if ((*out = get_bytea (res, 0, 1, "read avatar", error)) == NULL)
        {
          PQclear (res);
          return FALSE;
        }
      *out_sha256 = g_strdup (get_text (res, 0, 0));
    }
  PQclear (res);
  return TRUE;
}

static gboolean
pg_avatars_foreach (NatterdStore           *store,
                    NatterdStoreAvatarFunc  func,
                    gpointer                user_data,
                    GError                **error)
{
  PgStore *self = (PgStore *) store;
  PGresult *res = run (self, STMT_AVATARS_ALL, NULL, "load avatars", error);

  if (res == NULL)
    return FALSE;
  for (int i = 0; i < PQntuples (res); i++)
    func (get_int (res, i, 0), get_text (res, i, 1), user_data);
  PQclear (res);
  return TRUE;
}

static gboolean
pg_user_delete (NatterdStore *store,
                gint64        user_id,
                const char   *password_hash,
                const char   *display_name,
                GError      **error)
{
  PgStore *self = (PgStore *) store;
  Params p = { 0 }, q = { 0 };

  param_int (&p, user_id);
  param_text (&p, password_hash);
  param_text (&p, display_name);
  param_int (&q, user_id);
  return run_done (self, STMT_USER_DELETE, &p, "delete user", error) &&
         run_done (self, STMT_USER_UPLOADS_STALE, &q, "stale uploads", error) &&
         run_done (self, STMT_AVATAR_DELETE, &q, "remove avatar", error);
}

/* --- tokens --- */

static gboolean
pg_token_insert (NatterdStore *store,
                 const guint8 *hash,
                 gint64        user_id,
                 gint64        expires_ms,
                 GError      **error)
{
  PgStore *self = (PgStore *) store;
  Params p = { 0 };

  param_bytes (&p, hash, NATTERD_TOKEN_HASH_LEN);
  param_int (&p, user_id);
  param_int (&p, expires_ms);
  param_int (&p, g_get_real_time () / 1000);
  return run_done (self, STMT_TOKEN_INSERT, &p, "insert token", error);
}

static gboolean
pg_token_lookup (NatterdStore *store,
                 const guint8 *hash,
                 gint64       *out_user_id,
                 gint64       *out_expires_ms,
                 GError      **error)
{
  PgStore *self = (PgStore *) store;
  Params p = { 0 };
  PGresult *res;
  gboolean found;

  param_bytes (&p, hash, NATTERD_TOKEN_HASH_LEN);
  res = run (self, STMT_TOKEN_LOOKUP, &p, "look up token", error);
  if (res == NULL)
    return FALSE;
  found = PQntuples (res) > 0;
  if (found)
    {
      *out_user_id = get_int (res, 0, 0);
      *out_expires_ms = get_int (res, 0, 1);
    }
  PQclear (res);
  return found;
}

static gboolean
pg_token_delete (NatterdStore *store,
                 const guint8 *hash,
                 GError      **error)
{
  PgStore *self = (PgStore *) store;
  Params p = { 0 };

  param_bytes (&p, hash, NATTERD_TOKEN_HASH_LEN);
  return run_done (self, STMT_TOKEN_DELETE, &p, "delete token", error);
}

static gboolean
pg_token_set_device (NatterdStore *store,
                     const guint8 *hash,
                     const char   *device,
                     const char   *address,
                     GError      **error)
{
  PgStore *self = (PgStore *) store;
  Params p = { 0 };

  param_bytes (&p, hash, NATTERD_TOKEN_HASH_LEN);
  param_text (&p, device);
  param_text (&p, address);
  return run_done (self, STMT_TOKEN_SET_DEVICE, &p, "set a token's device", error);
}

static gboolean
pg_tokens_expire (NatterdStore *store,
                  gint64        now_ms,
                  GError      **error)
{
  PgStore *self = (PgStore *) store;
  Params p = { 0 };

  param_int (&p, now_ms);
  return run_done (self, STMT_TOKENS_EXPIRE, &p, "expire tokens", error);
}

/* A token's hash as encode (hash, 'hex') gave it. */
static gboolean
token_hash_from_hex (const char *hex,
                     guint8      hash[NATTERD_TOKEN_HASH_LEN])
{
  gboolean ok = strlen (hex) == 2 * NATTERD_TOKEN_HASH_LEN;

  for (guint b = 0; ok && b < NATTERD_TOKEN_HASH_LEN; b++)
    {
      int hi = g_ascii_xdigit_value (hex[2 * b]), lo = g_ascii_xdigit_value (hex[2 * b + 1]);

      ok = hi >= 0 && lo >= 0;
      hash[b] = (guint8) (hi << 4 | lo);
    }
  return ok;
}

static gboolean
pg_tokens_revoked (NatterdStore            *store,
                   gint64                   after,
                   NatterdStoreRevokedFunc  func,
                   gpointer                 user_data,
                   gint64                  *out_last,
                   GError                 **error)
{
  PgStore *self = (PgStore *) store;
  Params p = { 0 };
  PGresult *res;

  if (func == NULL)
    {
      res = run (self, STMT_TOKENS_REVOKED_LAST, NULL, "read revoked tokens", error);
      if (res == NULL)
        return FALSE;
      *out_last = get_int (res, 0, 0);
      PQclear (res);
      return TRUE;
    }
  param_int (&p, after);
  res = run (self, STMT_TOKENS_REVOKED, &p, "read revoked tokens", error);
  if (res == NULL)
    return FALSE;
  *out_last = after;
  for (int i = 0; i < PQntuples (res); i++)
    {
      guint8 hash[NATTERD_TOKEN_HASH_LEN];
      gboolean ok = token_hash_from_hex (PQgetvalue (res, i, 1), hash);

      *out_last = get_int (res, i, 0);
      if (ok)
        func (*out_last, hash, get_int (res, i, 2), user_data);
    }
  PQclear (res);
  return TRUE;
}

/* --- natterctl --- */

/* natterctl backup: a PostgreSQL database is copied by its own tools. */
static gboolean
pg_backup (NatterdStore  *store,
           const char    *dest_path,
           GCancellable  *cancellable,
           gint64        *out_bytes,
           GError       **error)
{
  g_set_error_literal (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_NOT_SUPPORTED,
                       "The database is PostgreSQL: back it up with pg_dump");
  return FALSE;
}

static gboolean
pg_stats (NatterdStore *store,
          gint64       *out_messages,
          gint64       *out_bytes,
          GError      **error)
{
  PgStore *self = (PgStore *) store;
  PGresult *res = run (self, STMT_STATS, NULL, "count messages", error);

  if (res == NULL)
    return FALSE;
  *out_messages = get_int (res, 0, 0);
  *out_bytes = get_int (res, 0, 1);
  PQclear (res);
  return TRUE;
}

static gboolean
pg_tokens_of_user (NatterdStore          *store,
                   gint64                 user_id,
                   NatterdStoreTokenFunc  func,
                   gpointer               user_data,
                   GError               **error)
{
  PgStore *self = (PgStore *) store;
  Params p = { 0 };
  PGresult *res;

  param_int (&p, user_id);
  res = run (self, STMT_TOKENS_OF_USER, &p, "list tokens", error);
  if (res == NULL)
    return FALSE;
  for (int i = 0; i < PQntuples (res); i++)
    {
      guint8 hash[NATTERD_TOKEN_HASH_LEN];

      if (token_hash_from_hex (PQgetvalue (res, i, 0), hash))
        func (hash, get_int (res, i, 1), get_int (res, i, 2), get_text (res, i, 3),
              get_text (res, i, 4), user_data);
    }
  PQclear (res);
  return TRUE;
}

static gboolean
pg_user_set_password_hash (NatterdStore *store,
                           gint64        user_id,
                           const char   *password_hash,
                           GError      **error)
{
  PgStore *self = (PgStore *) store;
  Params p = { 0 };

  param_int (&p, user_id);
  param_text (&p, password_hash);
  return run_done (self, STMT_USER_PASSWORD_HASH, &p, "set password", error);
}

static gboolean
pg_invite_insert (NatterdStore *store,
                  const char   *code,
                  gint64        uses,
                  gint64        expires_ms,
                  gint64        created_ms,
                  GError      **error)
{
  PgStore *self = (PgStore *) store;
  Params p = { 0 };

  param_text (&p, code);
  param_int (&p, uses);
  param_int (&p, expires_ms);
  param_int (&p, created_ms);
  return run_done (self, STMT_INVITE_INSERT, &p, "insert invitation", error);
}

static gboolean
pg_invites_foreach (NatterdStore           *store,
                    NatterdStoreInviteFunc  func,
                    gpointer                user_data,
                    GError                **error)
{
  PgStore *self = (PgStore *) store;
  PGresult *res = run (self, STMT_INVITES_ALL, NULL, "list invitations", error);

  if (res == NULL)
    return FALSE;
  for (int i = 0; i < PQntuples (res); i++)
    func (get_text (res, i, 0), get_int (res, i, 1), get_int (res, i, 2), get_int (res, i, 3), user_data);
  PQclear (res);
  return TRUE;
}

/* Runs @id with @code (and @now_ms, unless negative): whether it changed a row. */
static gboolean
run_invite (PgStore     *self,
            StmtId       id,
            const char  *code,
            gint64       now_ms,
            const char  *what,
            gboolean    *out_changed,
            GError     **error)
{
  Params p = { 0 };
  PGresult *res;

  param_text (&p, code);
  if (now_ms >= 0)
    param_int (&p, now_ms);
  res = run (self, id, &p, what, error);
  if (res == NULL)
    return FALSE;
  *out_changed = g_strcmp0 (PQcmdTuples (res), "0") != 0;
  PQclear (res);
  return TRUE;
}

static gboolean
pg_invite_delete (NatterdStore *store,
                  const char   *code,
                  gboolean     *out_found,
                  GError      **error)
{
  return run_invite ((PgStore *) store, STMT_INVITE_DELETE, code, -1, "delete invitation", out_found, error);
}

static gboolean
pg_invite_consume (NatterdStore *store,
                   const char   *code,
                   gint64        now_ms,
                   gboolean     *out_ok,
                   GError      **error)
{
  return run_invite ((PgStore *) store, STMT_INVITE_CONSUME, code, now_ms, "use invitation", out_ok, error);
}

/* --- contacts --- */

static gboolean
pg_contact_set (NatterdStore             *store,
                gint64                    a,
                gint64                    b,
                NatterdStoreContactState  state,
                GError                  **error)
{
  PgStore *self = (PgStore *) store;
  Params p = { 0 };

  param_int (&p, a);
  param_int (&p, b);
  param_int (&p, state);
  return run_done (self, STMT_CONTACT_SET, &p, "set contact", error);
}

/* The lock never waits behind another node's writer in practice: every
 * writer transaction locks the message counter first (see "Lock order"),
 * so they run one after another already. The pair's own lock keeps the
 * contact decisions right without leaning on that. */
static gboolean
pg_contact_lock (NatterdStore            *store,
                 gint64                   a,
                 gint64                   b,
                 NatterdStoreContactPair *out_pair,
                 GError                 **error)
{
  PgStore *self = (PgStore *) store;
  Params p = { 0 };
  PGresult *res;

  if (!run_done_ints (self, STMT_CONTACT_LOCK, MIN (a, b), MAX (a, b), "lock contact", error))
    return FALSE;
  param_int (&p, a);
  param_int (&p, b);
  res = run (self, STMT_CONTACT_PAIR, &p, "read contact", error);
  if (res == NULL)
    return FALSE;
  *out_pair = NATTERD_STORE_PAIR_NONE;
  for (int i = 0; i < PQntuples (res); i++)
    natterd_store_contact_pair_fold (a, get_int (res, i, 0), (int) get_int (res, i, 1), out_pair);
  PQclear (res);
  return TRUE;
}

static gboolean
pg_contact_delete (NatterdStore *store,
                   gint64        a,
                   gint64        b,
                   GError      **error)
{
  PgStore *self = (PgStore *) store;

  return run_done_ints (self, STMT_CONTACT_DELETE, a, b, "delete contact", error);
}

static gboolean
pg_contacts_foreach (NatterdStore            *store,
                     NatterdStoreContactFunc  func,
                     gpointer                 user_data,
                     GError                 **error)
{
  PgStore *self = (PgStore *) store;
  PGresult *res = run (self, STMT_CONTACTS_ALL, NULL, "load contacts", error);

  if (res == NULL)
    return FALSE;
  for (int i = 0; i < PQntuples (res); i++)
    func (get_int (res, i, 0), get_int (res, i, 1), (int) get_int (res, i, 2), user_data);
  PQclear (res);
  return TRUE;
}

/* --- blocks (feature accounts) --- */

static gboolean
pg_block_set (NatterdStore *store,
              gint64        user_id,
              gint64        blocked_id,
              gint64        ts,
              GError      **error)
{
  PgStore *self = (PgStore *) store;
  Params p = { 0 };

  param_int (&p, user_id);
  param_int (&p, blocked_id);
  param_int (&p, ts);
  return run_done (self, STMT_BLOCK_SET, &p, "block", error);
}

static gboolean
pg_block_delete (NatterdStore *store,
                 gint64        user_id,
                 gint64        blocked_id,
                 GError      **error)
{
  PgStore *self = (PgStore *) store;
  Params p = { 0 };

  param_int (&p, user_id);
  param_int (&p, blocked_id);
  return run_done (self, STMT_BLOCK_DELETE, &p, "unblock", error);
}

static gboolean
pg_blocks_foreach (NatterdStore          *store,
                   NatterdStoreBlockFunc  func,
                   gpointer               user_data,
                   GError               **error)
{
  PgStore *self = (PgStore *) store;
  PGresult *res = run (self, STMT_BLOCKS_ALL, NULL, "load blocks", error);

  if (res == NULL)
    return FALSE;
  for (int i = 0; i < PQntuples (res); i++)
    func (get_int (res, i, 0), get_int (res, i, 1), get_int (res, i, 2), user_data);
  PQclear (res);
  return TRUE;
}

/* --- conversations, rooms, participants --- */

static gboolean
pg_direct_ensure (NatterdStore *store,
                  gint64        user_a,
                  gint64        user_b,
                  gint64       *out_id,
                  GError      **error)
{
  PgStore *self = (PgStore *) store;
  Params p = { 0 };
  gboolean in_transaction = pg_in_transaction (store);
  g_autofree char *key = NULL;
  gint64 *known;

  /* Inside a transaction the answer stays true until it ends (nothing
   * deletes a conversation; a job's savepoint rolled back forgets them
   * all): the writer's batch of a client's first burst asks for the same
   * pair once per send, thousands of round trips (docs/performance.md). */
  if (in_transaction)
    {
      key = g_strdup_printf ("%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT, user_a, user_b);
      known = g_hash_table_lookup (self->ensured, key);
      if (known != NULL)
        {
          *out_id = *known;
          return TRUE;
        }
    }
  param_int (&p, user_a);
  param_int (&p, user_b);
  *out_id = 0;
  /* Twice at most: see STMT_DIRECT_ENSURE. */
  for (int attempt = 0; attempt < 2 && *out_id == 0; attempt++)
    if (!run_returning_id (self, STMT_DIRECT_ENSURE, &p, out_id, "get or make conversation", error))
      return FALSE;
  if (*out_id == 0)
    {
      g_set_error_literal (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_FAILED,
                           "get or make conversation: no row");
      return FALSE;
    }
  if (in_transaction && pg_in_transaction (store))
    g_hash_table_insert (self->ensured, g_steal_pointer (&key), g_memdup2 (out_id, sizeof *out_id));
  return TRUE;
}

static gboolean
pg_room_insert (NatterdStore *store,
                const char   *room,
                const char   *topic,
                gint64        owner_id,
                gint64        created_ms,
                gint64       *out_id,
                GError      **error)
{
  PgStore *self = (PgStore *) store;
  Params p = { 0 };

  param_text (&p, room);
  param_text (&p, topic != NULL ? topic : "");
  param_int (&p, owner_id);
  param_int (&p, created_ms);
  return run_returning_id (self, STMT_ROOM_INSERT, &p, out_id, "insert room", error);
}

static gboolean
pg_room_set_topic (NatterdStore *store,
                   gint64        conversation_id,
                   const char   *topic,
                   GError      **error)
{
  PgStore *self = (PgStore *) store;
  Params p = { 0 };

  param_int (&p, conversation_id);
  param_text (&p, topic != NULL ? topic : "");
  return run_done (self, STMT_ROOM_TOPIC, &p, "set topic", error);
}

static gboolean
pg_conversations_foreach (NatterdStore                 *store,
                          NatterdStoreConversationFunc  func,
                          gpointer                      user_data,
                          GError                      **error)
{
  PgStore *self = (PgStore *) store;
  PGresult *res = run (self, STMT_CONVERSATIONS_ALL, NULL, "load conversations", error);

  if (res == NULL)
    return FALSE;
  for (int i = 0; i < PQntuples (res); i++)
    func (get_int (res, i, 0), (int) get_int (res, i, 1), get_int (res, i, 2), get_int (res, i, 3),
          get_text (res, i, 4), get_text (res, i, 5), get_int (res, i, 6), user_data);
  PQclear (res);
  return TRUE;
}

static gboolean
pg_participant_add (NatterdStore *store,
                    gint64        conversation_id,
                    gint64        user_id,
                    GError      **error)
{
  PgStore *self = (PgStore *) store;

  return run_done_ints (self, STMT_PARTICIPANT_ADD, conversation_id, user_id, "add participant", error);
}

static gboolean
pg_participant_remove (NatterdStore *store,
                       gint64        conversation_id,
                       gint64        user_id,
                       GError      **error)
{
  PgStore *self = (PgStore *) store;

  return run_done_ints (self, STMT_PARTICIPANT_REMOVE, conversation_id, user_id, "remove participant", error);
}

static gboolean
pg_participants_foreach (NatterdStore                *store,
                         NatterdStoreParticipantFunc  func,
                         gpointer                     user_data,
                         GError                     **error)
{
  PgStore *self = (PgStore *) store;
  PGresult *res = run (self, STMT_PARTICIPANTS_ALL, NULL, "load participants", error);

  if (res == NULL)
    return FALSE;
  for (int i = 0; i < PQntuples (res); i++)
    func (get_int (res, i, 0), get_int (res, i, 1), user_data);
  PQclear (res);
  return TRUE;
}

/* --- room management --- */

static gboolean
pg_room_rows_foreach (NatterdStore            *store,
                      NatterdStoreRoomRowFunc  func,
                      gpointer                 user_data,
                      GError                 **error)
{
  PgStore *self = (PgStore *) store;
  PGresult *res = run (self, STMT_ROOM_ROWS_ALL, NULL, "load room management", error);

  if (res == NULL)
    return FALSE;
  for (int i = 0; i < PQntuples (res); i++)
    func ((NatterdRoomRowKind) get_int (res, i, 0), get_int (res, i, 1), get_int (res, i, 2),
          get_int (res, i, 3), get_text (res, i, 4), get_int (res, i, 5), user_data);
  PQclear (res);
  return TRUE;
}

static gboolean
pg_room_settings_set (NatterdStore *store,
                      gint64        conversation_id,
                      const char   *display_name,
                      gboolean      is_private,
                      GError      **error)
{
  Params p = { 0 };

  param_int (&p, conversation_id);
  param_text (&p, display_name);
  param_int (&p, is_private ? 1 : 0);
  return run_done ((PgStore *) store, STMT_ROOM_SETTINGS, &p, "set room settings", error);
}

static gboolean
pg_room_role_set (NatterdStore *store,
                  gint64        conversation_id,
                  gint64        user_id,
                  gboolean      admin,
                  GError      **error)
{
  Params p = { 0 };

  param_int (&p, conversation_id);
  param_int (&p, user_id);
  param_int (&p, admin ? 1 : 0);
  return run_done ((PgStore *) store, STMT_ROOM_ROLE, &p, "set role", error);
}

static gboolean
pg_room_owner_set (NatterdStore *store,
                   gint64        conversation_id,
                   gint64        owner_id,
                   GError      **error)
{
  return run_done_ints ((PgStore *) store, STMT_ROOM_OWNER, conversation_id, owner_id, "set owner", error);
}

static gboolean
pg_room_ban_set (NatterdStore *store,
                 gint64        conversation_id,
                 gint64        user_id,
                 gboolean      banned,
                 gint64        by_id,
                 const char   *reason,
                 gint64        ts,
                 GError      **error)
{
  Params p = { 0 };

  if (!banned)
    return run_done_ints ((PgStore *) store, STMT_ROOM_BAN_REMOVE, conversation_id, user_id, "unban", error);
  param_int (&p, conversation_id);
  param_int (&p, user_id);
  param_int (&p, by_id);
  param_text (&p, reason);
  param_int (&p, ts);
  return run_done ((PgStore *) store, STMT_ROOM_BAN_ADD, &p, "ban", error);
}

static gboolean
pg_room_invitation_set (NatterdStore *store,
                        gint64        conversation_id,
                        gint64        user_id,
                        gboolean      invited,
                        gint64        by_id,
                        gint64        ts,
                        GError      **error)
{
  Params p = { 0 };

  if (!invited)
    return run_done_ints ((PgStore *) store, STMT_ROOM_INVITATION_REMOVE, conversation_id, user_id,
                          "remove invitation", error);
  param_int (&p, conversation_id);
  param_int (&p, user_id);
  param_int (&p, by_id);
  param_int (&p, ts);
  return run_done ((PgStore *) store, STMT_ROOM_INVITATION_ADD, &p, "invite", error);
}

/* The files nothing refers to any more, with their chunks: every node
 * reads them from the database, so they go in the transaction that
 * dropped their last reference. */
static gboolean
free_unreferenced (PgStore  *self,
                   GError  **error)
{
  return run_done (self, STMT_FILES_FREE_CHUNKS, NULL, "free files' chunks", error) &&
         run_done (self, STMT_FILES_FREE, NULL, "free files", error);
}

static gboolean
pg_room_delete (NatterdStore *store,
                gint64        conversation_id,
                GError      **error)
{
  Params p = { 0 };

  param_int (&p, conversation_id);
  return run_done ((PgStore *) store, STMT_ROOM_DELETE, &p, "delete a room", error) &&
         free_unreferenced ((PgStore *) store, error);
}

static gboolean
pg_read_marker_set (NatterdStore *store,
                    gint64        conversation_id,
                    gint64        user_id,
                    gint64        up_to,
                    gint64       *out_up_to,
                    gboolean     *out_moved,
                    GError      **error)
{
  PgStore *self = (PgStore *) store;
  Params p = { 0 };
  PGresult *res;

  param_int (&p, conversation_id);
  param_int (&p, user_id);
  param_int (&p, up_to);
  res = run (self, STMT_READ_MARKER_SET, &p, "set read marker", error);
  if (res == NULL)
    return FALSE;
  *out_moved = !PQgetisnull (res, 0, 0);
  *out_up_to = get_int (res, 0, *out_moved ? 0 : 1);
  PQclear (res);
  return TRUE;
}

/* --- messages --- */

static void
message_from_row (PGresult            *res,
                  int                  row,
                  int                  first,
                  NatterdStoreMessage *m)
{
  m->id = get_int (res, row, first + 0);
  m->conversation_id = get_int (res, row, first + 1);
  m->sender_id = get_int (res, row, first + 2);
  m->ts = get_int (res, row, first + 3);
  m->body = PQgetvalue (res, row, first + 4);
  m->body_len = PQgetlength (res, row, first + 4);
  m->client_msg_id = PQgetvalue (res, row, first + 5);
  m->reply_to = get_int (res, row, first + 6);
  m->edited_ts = get_int (res, row, first + 7);
  m->deleted = get_bool (res, row, first + 8);
  m->reactions = PQgetvalue (res, row, first + 9);
  m->mentions = PQgetvalue (res, row, first + 10);
  m->reply_from = get_int (res, row, first + 11);
  m->reply_body = NULL;
  m->reply_body_len = 0;
  m->reply_deleted = FALSE;
  if (m->reply_to != 0 && !PQgetisnull (res, row, first + 12))
    {
      m->reply_body = PQgetvalue (res, row, first + 12);
      m->reply_body_len = PQgetlength (res, row, first + 12);
      m->reply_deleted = get_bool (res, row, first + 13);
    }
  m->files = PQgetvalue (res, row, first + 14);
  m->hidden_for = get_int (res, row, first + 15);
}

/* A change's columns (CHANGE_COLUMNS) and then its message's. */
static void
change_from_row (PGresult           *res,
                 int                 row,
                 NatterdStoreChange *c)
{
  c->id = get_int (res, row, 0);
  c->conversation_id = get_int (res, row, 1);
  c->actor_id = get_int (res, row, 2);
  c->ts = get_int (res, row, 3);
  c->kind = (NatterdChangeKind) get_int (res, row, 4);
  c->emoji = get_text (res, row, 5);
  c->on = get_bool (res, row, 6);
  message_from_row (res, row, 7, &c->message);
}

static gboolean
foreach_change (PgStore                 *self,
                StmtId                   id,
                Params                  *p,
                NatterdStoreChangeFunc   func,
                gpointer                 user_data,
                const char              *what,
                GError                 **error)
{
  PGresult *res = run (self, id, p, what, error);

  if (res == NULL)
    return FALSE;
  for (int i = 0; i < PQntuples (res); i++)
    {
      NatterdStoreChange c;

      change_from_row (res, i, &c);
      if (!func (&c, user_data))
        break;
    }
  PQclear (res);
  return TRUE;
}

/* Runs a statement whose columns are MESSAGE_COLUMNS, calling @func per
 * row until it returns FALSE. */
static gboolean
foreach_message (PgStore                 *self,
                 StmtId                   id,
                 Params                  *p,
                 NatterdStoreMessageFunc  func,
                 gpointer                 user_data,
                 const char              *what,
                 GError                 **error)
{
  PGresult *res = run (self, id, p, what, error);

  if (res == NULL)
    return FALSE;
  for (int i = 0; i < PQntuples (res); i++)
    {
      NatterdStoreMessage m;

      message_from_row (res, i, 0, &m);
      if (!func (&m, user_data))
        break;
    }
  PQclear (res);
  return TRUE;
}

typedef struct {
  GString    *out;
  GHashTable *seen;
} Lexemes;

static void
add_lexeme_cb (const char *word,
               gsize       len,
               guint       chars,
               gpointer    user_data)
{
  Lexemes *l = user_data;
  char *folded = natterd_search_word_fold (word, len);

  if (strlen (folded) > MAX_LEXEME_BYTES)
    *g_utf8_find_prev_char (folded, folded + MAX_LEXEME_BYTES + 1) = '\0';
  if (folded[0] == '\0')
    {
      g_free (folded);
      return;
    }
  if (!g_hash_table_add (l->seen, folded))
    return;
  if (l->out->len > 0)
    g_string_append_c (l->out, ' ');
  g_string_append (l->out, folded);
}

/* A message's words, folded, each once, separated by spaces (which no
 * word holds): the insert makes them a tsvector (NATTERD_STORE_PG_WORDS). */
char *
natterd_store_pg_message_lexemes (const char *body,
                                  gsize       body_len)
{
  Lexemes l = { g_string_new (NULL), g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL) };

  natterd_search_words_foreach (body, body_len, add_lexeme_cb, &l);
  g_hash_table_unref (l.seen);
  return g_string_free (l.out, FALSE);
}

/* The message counter's row, locked until COMMIT: see the top of the
 * file. */
static gboolean
lock_counter (PgStore  *self,
              GError  **error)
{
  PGresult *res;

  if (self->counter_locked)
    return TRUE;
  res = run (self, STMT_COUNTER_LOCK, NULL, "lock the message counter", error);
  if (res == NULL)
    return FALSE;
  self->counter_last_id = get_int (res, 0, 0);
  self->counter_locked = TRUE;
  self->counter_dirty = FALSE;
  PQclear (res);
  seq_cache_check (self);
  return TRUE;
}

static gboolean
pg_message_by_client_id (NatterdStore            *store,
                         gint64                   sender_id,
                         const char              *client_msg_id,
                         NatterdStoreMessageFunc  func,
                         gpointer                 user_data,
                         GError                 **error)
{
  PgStore *self = (PgStore *) store;
  Params p = { 0 };

  param_int (&p, sender_id);
  param_text (&p, client_msg_id);
  return foreach_message (self, STMT_MESSAGE_BY_CLIENT_ID, &p, func, user_data, "find message", error);
}

/* Drops the queued changes from index @keep on, their ids not set. */
static void
clear_queued_changes (PgStore *self,
                      guint    keep)
{
  for (guint i = keep; i < self->queued_changes->len; i++)
    g_free (g_array_index (self->queued_changes, QueuedChange, i).emoji);
  if (keep < self->queued_changes->len)
    g_array_set_size (self->queued_changes, keep);
}

/* Drops the queued messages from index @keep on, their callbacks
 * uncalled; at 0, the queued changes too. */
static void
clear_queued (PgStore *self,
              guint    keep)
{
  for (guint i = keep; i < self->queued->len; i++)
    {
      QueuedMessage *q = &g_array_index (self->queued, QueuedMessage, i);

      if (q->same_as < 0 && keep > 0)
        {
          g_autofree char *key = g_strdup_printf ("%" G_GINT64_FORMAT ":%s", q->sender_id, q->client_msg_id);
          g_hash_table_remove (self->queued_keys, key);
        }
      g_free (q->body);
      g_free (q->client_msg_id);
      g_free (q->lexemes);
      g_free (q->mentions);
      g_free (q->files);
    }
  if (keep == 0)
    g_hash_table_remove_all (self->queued_keys);
  if (keep < self->queued->len)
    g_array_set_size (self->queued, keep);
  if (keep == 0)
    clear_queued_changes (self, 0);
}

/* @text between @quote characters, @quote and \ escaped with a \: an
 * element of an array literal ("), a lexeme of a tsquery literal ('). */
static void
append_quoted (GString    *out,
               const char *text,
               char        quote)
{
  g_string_append_c (out, quote);
  for (const char *c = text; *c != '\0'; c++)
    {
      if (*c == quote || *c == '\\')
        g_string_append_c (out, '\\');
      g_string_append_c (out, *c);
    }
  g_string_append_c (out, quote);
}

/* Adds @text as an element of the array literal @a ("{" at first). */
static void
array_add_text (GString    *a,
                const char *text)
{
  if (a->len > 1)
    g_string_append_c (a, ',');
  append_quoted (a, text, '"');
}

static void
array_add_int (GString *a,
               gint64   value)
{
  if (a->len > 1)
    g_string_append_c (a, ',');
  g_string_append_printf (a, "%" G_GINT64_FORMAT, value);
}

/* The seq cache's entry for @key, or NULL. */
static gint64 *
seq_cache_get (PgStore *self,
               gint64   conversation_id,
               gint64   sender_id)
{
  SeqKey key = { conversation_id, sender_id };

  return g_hash_table_lookup (self->seq_cache, &key);
}

static void
seq_cache_set (PgStore *self,
               gint64   conversation_id,
               gint64   sender_id,
               gint64   seq)
{
  SeqKey *key = g_new (SeqKey, 1);
  gint64 *value = g_new (gint64, 1);

  *key = (SeqKey) { conversation_id, sender_id };
  *value = seq;
  g_hash_table_replace (self->seq_cache, key, value);
}

/* Fills the seq cache for every (conversation, sender) of the queue's new
 * rows it lacks, in one statement; on a single node, after the first
 * batch to a conversation, it lacks none. */
static gboolean
look_up_newest_seq (PgStore        *self,
                    QueuedMessage  *q,
                    guint           n,
                    GError        **error)
{
  g_autoptr(GString) convs = g_string_new ("{");
  g_autoptr(GString) senders = g_string_new ("{");
  g_autoptr(GHashTable) asked = g_hash_table_new_full (seq_key_hash, seq_key_equal, g_free, NULL);
  Params p = { 0 };
  PGresult *res;

  for (guint i = 0; i < n; i++)
    {
      SeqKey *key;

      if (q[i].same_as >= 0 || q[i].found_row >= 0)
        continue;
      if (seq_cache_get (self, q[i].conversation_id, 0) != NULL &&
          seq_cache_get (self, q[i].conversation_id, q[i].sender_id) != NULL)
        continue;
      key = g_new (SeqKey, 1);
      *key = (SeqKey) { q[i].conversation_id, q[i].sender_id };
      if (!g_hash_table_add (asked, key))
        continue;
      array_add_int (convs, q[i].conversation_id);
      array_add_int (senders, q[i].sender_id);
    }
  if (g_hash_table_size (asked) == 0)
    return TRUE;
  g_string_append_c (convs, '}');
  g_string_append_c (senders, '}');
  param_text (&p, convs->str);
  param_text (&p, senders->str);
  res = run (self, STMT_MESSAGES_NEWEST_SEQ, &p, "find the newest seq", error);
  if (res == NULL)
    return FALSE;
  for (int r = 0; r < PQntuples (res); r++)
    {
      gint64 c = get_int (res, r, 0), sender = get_int (res, r, 1);

      /* A conversation's own entry may be newer than the database's (an
       * earlier row of this batch's pairs): keep what is known. */
      if (seq_cache_get (self, c, 0) == NULL)
        seq_cache_set (self, c, 0, get_int (res, r, 2));
      seq_cache_set (self, c, sender, get_int (res, r, 3));
    }
  PQclear (res);
  return TRUE;
}

/* @text as a field of COPY's text format: \, newline, carriage return
 * and tab escaped (a body may hold \n and \t, a client_msg_id anything). */
static void
append_copy_field (GString    *out,
                   const char *text)
{
  for (const char *c = text; *c != '\0'; c++)
    switch (*c)
      {
      case '\\': g_string_append (out, "\\\\"); break;
      case '\n': g_string_append (out, "\\n"); break;
      case '\r': g_string_append (out, "\\r"); break;
      case '\t': g_string_append (out, "\\t"); break;
      default: g_string_append_c (out, *c); break;
      }
}

/* The lexemes (separated by spaces) as a tsvector literal, each quoted
 * ('' for a quote, \\ for a backslash), written at once as a COPY field
 * (where each of those backslashes is doubled again): no copy per
 * message on the writer's path. Lexemes hold no white space. */
static void
append_copy_words (GString    *out,
                   const char *lexemes)
{
  gboolean open = FALSE, any = FALSE;

  for (const char *c = lexemes; ; c++)
    {
      if (*c == ' ' || *c == '\0')
        {
          if (open)
            g_string_append_c (out, '\'');
          open = FALSE;
          if (*c == '\0')
            return;
          continue;
        }
      if (!open)
        {
          g_string_append (out, any ? " '" : "'");
          open = any = TRUE;
        }
      if (*c == '\'')
        g_string_append (out, "''");
      else if (*c == '\\')
        g_string_append (out, "\\\\\\\\");
      else
        g_string_append_c (out, *c);
    }
}

/* Writes the queue's new rows (an id given) by COPY: no statement to
 * parse or plan, no arrays to unpack, no window functions; seq and
 * sender_seq counted here from the cache. About a third less of the
 * backend's CPU per row than INSERT ... SELECT FROM unnest
 * (docs/performance.md, "PostgreSQL, fourth figures"). */
static gboolean
copy_messages (PgStore        *self,
               QueuedMessage  *q,
               guint           n,
               GError        **error)
{
  g_autoptr(GString) rows = g_string_sized_new (n * 256);
  PGresult *res;

  for (guint i = 0; i < n; i++)
    {
      gint64 *seq, *sender_seq;

      if (q[i].same_as >= 0 || q[i].found_row >= 0)
        continue;
      seq = seq_cache_get (self, q[i].conversation_id, 0);
      sender_seq = seq_cache_get (self, q[i].conversation_id, q[i].sender_id);
      g_assert (seq != NULL && sender_seq != NULL);
      ++*seq;
      ++*sender_seq;
      g_string_append_printf (rows, "%" G_GINT64_FORMAT "\t%" G_GINT64_FORMAT "\t%" G_GINT64_FORMAT
                              "\t%" G_GINT64_FORMAT "\t",
                              q[i].id, q[i].conversation_id, q[i].sender_id, q[i].ts);
      append_copy_field (rows, q[i].body);
      g_string_append_c (rows, '\t');
      append_copy_field (rows, q[i].client_msg_id);
      g_string_append_printf (rows, "\t%" G_GINT64_FORMAT "\t%" G_GINT64_FORMAT "\t", *seq, *sender_seq);
      append_copy_words (rows, q[i].lexemes);
      /* \N: SQL's NULL, no reply. */
      if (q[i].reply_to != 0)
        g_string_append_printf (rows, "\t%" G_GINT64_FORMAT "\t", q[i].reply_to);
      else
        g_string_append (rows, "\t\\N\t");
      append_copy_field (rows, q[i].mentions != NULL ? q[i].mentions : "");
      g_string_append_c (rows, '\t');
      append_copy_field (rows, q[i].files != NULL ? q[i].files : "");
      if (q[i].hidden_for != 0)
        g_string_append_printf (rows, "\t%" G_GINT64_FORMAT "\n", q[i].hidden_for);
      else
        g_string_append (rows, "\t\\N\n");
    }

  if (self->write_hook != NULL)
    self->write_hook (self->write_hook_data);
  res = PQexec (self->conn, "COPY messages (id, conversation_id, sender_id, ts, body, client_msg_id,"
                            " seq, sender_seq, words, reply_to, mentions, files, hidden_for) FROM STDIN");
  if (PQresultStatus (res) != PGRES_COPY_IN)
    return set_result_error (self, res, "insert messages", error);
  PQclear (res);
  if (PQputCopyData (self->conn, rows->str, (int) rows->len) != 1 ||
      PQputCopyEnd (self->conn, NULL) != 1)
    {
      self->broken = TRUE;
      return set_result_error (self, NULL, "insert messages", error);
    }
  res = PQgetResult (self->conn);
  if (PQresultStatus (res) != PGRES_COMMAND_OK)
    {
      /* Drain what follows the failed result. */
      PGresult *more;

      while ((more = PQgetResult (self->conn)) != NULL)
        PQclear (more);
      return set_result_error (self, res, "insert messages", error);
    }
  PQclear (res);
  while ((res = PQgetResult (self->conn)) != NULL)
    PQclear (res);
  return TRUE;
}

/* The message_files rows of the queue's new rows with files, and the
 * senders' uploads of them ended: a statement per such message (few
 * messages carry files; the others cost nothing here). */
static gboolean
add_message_files (PgStore        *self,
                   QueuedMessage  *q,
                   guint           n,
                   GError        **error)
{
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *ids = NULL;
      Params p = { 0 };

      if (q[i].same_as >= 0 || q[i].found_row >= 0 || q[i].files == NULL)
        continue;
      ids = natterd_store_files_ids (q[i].files, NULL);
      param_int (&p, q[i].id);
      param_text (&p, ids);
      param_int (&p, q[i].sender_id);
      param_int (&p, q[i].conversation_id);
      if (!run_done (self, STMT_MESSAGE_FILES_ADD, &p, "hold a message's files", error))
        return FALSE;
    }
  return TRUE;
}

/* Writes the queued changes' rows (their ids given) in one statement,
 * and tells each its id. */
static gboolean
insert_changes (PgStore  *self,
                GError  **error)
{
  GArray *changes = self->queued_changes;
  g_autoptr(GString) ids = g_string_new ("{");
  g_autoptr(GString) convs = g_string_new ("{");
  g_autoptr(GString) actors = g_string_new ("{");
  g_autoptr(GString) tss = g_string_new ("{");
  g_autoptr(GString) kinds = g_string_new ("{");
  g_autoptr(GString) targets = g_string_new ("{");
  g_autoptr(GString) emojis = g_string_new ("{");
  g_autoptr(GString) ons = g_string_new ("{");
  GString *arrays[] = { ids, convs, actors, tss, kinds, targets, emojis, ons };
  Params p = { 0 };

  if (changes->len == 0)
    return TRUE;
  for (guint i = 0; i < changes->len; i++)
    {
      const QueuedChange *c = &g_array_index (changes, QueuedChange, i);

      array_add_int (ids, c->id);
      array_add_int (convs, c->conversation_id);
      array_add_int (actors, c->actor_id);
      array_add_int (tss, c->ts);
      array_add_int (kinds, c->kind);
      array_add_int (targets, c->message_id);
      if (c->emoji != NULL)
        array_add_text (emojis, c->emoji);
      else
        g_string_append (emojis, emojis->len > 1 ? ",NULL" : "NULL");
      g_string_append (ons, ons->len > 1 ? "," : "");
      g_string_append (ons, c->on ? "t" : "f");
    }
  for (guint i = 0; i < G_N_ELEMENTS (arrays); i++)
    {
      g_string_append_c (arrays[i], '}');
      param_text (&p, arrays[i]->str);
    }
  if (!run_done (self, STMT_CHANGES_INSERT, &p, "insert changes", error))
    return FALSE;
  for (guint i = 0; i < changes->len; i++)
    {
      const QueuedChange *c = &g_array_index (changes, QueuedChange, i);

      *c->out_id = c->id;
    }
  return TRUE;
}

/* Writes the queued messages: one statement finds those whose (sender,
 * client_msg_id) is stored already, COPY writes the others with the next
 * ids of the locked counter, in queue order (and, when the seq cache
 * lacks a conversation, one more statement finds its newest seq first); then each caller's @func
 * hears of its stored message, in queue order too. On the writer's
 * connection a failure rolls the whole transaction back: the rows belong
 * to jobs that have already succeeded, which must fail with it. */
static gboolean
flush_queued (PgStore  *self,
              GError  **error)
{
  QueuedMessage *q = (QueuedMessage *) self->queued->data;
  guint n = self->queued->len;
  g_autoptr(GArray) firsts = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr(GString) senders = g_string_new ("{");
  g_autoptr(GString) client_msg_ids = g_string_new ("{");
  PGresult *found = NULL;
  gint64 next_id = self->counter_last_id;
  guint n_new = 0;
  gboolean ok = FALSE;

  if (n == 0 && self->queued_changes->len == 0)
    return TRUE;
  self->flushing = TRUE;

  for (guint i = 0; i < n; i++)
    {
      q[i].found_row = -1;
      if (q[i].same_as >= 0)
        continue;
      g_array_append_val (firsts, i);
      array_add_int (senders, q[i].sender_id);
      array_add_text (client_msg_ids, q[i].client_msg_id);
    }
  if (firsts->len > 0)
    {
      Params p = { 0 };

      g_string_append_c (senders, '}');
      g_string_append_c (client_msg_ids, '}');
      param_text (&p, senders->str);
      param_text (&p, client_msg_ids->str);
      found = run (self, STMT_MESSAGES_BY_CLIENT_IDS, &p, "find resent messages", error);
      if (found == NULL)
        goto out;
      for (int r = 0; r < PQntuples (found); r++)
        {
          gint64 k = get_int (found, r, 0) - 1;

          if (k >= 0 && k < firsts->len)
            q[g_array_index (firsts, guint, k)].found_row = r;
        }
    }

  /* The counter's row is locked: nobody else hands out ids now. A
   * change takes the id after the messages queued before it. */
  for (guint i = 0, c = 0; i <= n; i++)
    {
      for (; c < self->queued_changes->len &&
             g_array_index (self->queued_changes, QueuedChange, c).after == i; c++)
        g_array_index (self->queued_changes, QueuedChange, c).id = ++next_id;
      if (i == n || q[i].same_as >= 0 || q[i].found_row >= 0)
        continue;
      q[i].id = ++next_id;
      n_new++;
    }
  if (!insert_changes (self, error))
    goto out;
  if (n_new > 0)
    {
      /* Until this transaction commits, the cache counts rows that may
       * yet be rolled back. */
      self->seq_cache_counter = -1;
      if (!look_up_newest_seq (self, q, n, error) || !copy_messages (self, q, n, error) ||
          !add_message_files (self, q, n, error))
        goto out;
    }
  /* Every row that took an id is written. */
  if (next_id != self->counter_last_id)
    {
      self->counter_last_id = next_id;
      self->counter_dirty = TRUE;
    }

  for (guint i = 0; i < n; i++)
    {
      const QueuedMessage *first = q[i].same_as >= 0 ? &q[q[i].same_as] : &q[i];
      PGresult *reread = NULL;
      NatterdStoreMessage m;

      if (first->found_row >= 0)
        message_from_row (found, first->found_row, 1, &m);
      else if (q[i].same_as >= 0 && first->reply_to != 0)
        {
          /* A resend of a reply earlier in the batch: answered as a resend
           * of a stored one is, with the quote, which only a read of the
           * row just written has (the first's caller had its own). */
          Params p = { 0 };

          param_int (&p, first->id);
          reread = run (self, STMT_MESSAGE_BY_ID, &p, "find resent message", error);
          if (reread == NULL)
            goto out;
          if (PQntuples (reread) != 1)
            {
              PQclear (reread);
              g_set_error_literal (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_FAILED,
                                   "A message just written is not there");
              goto out;
            }
          message_from_row (reread, 0, 0, &m);
        }
      else
        m = (NatterdStoreMessage) { .id = first->id, .conversation_id = first->conversation_id,
                                    .sender_id = first->sender_id, .ts = first->ts,
                                    .body = first->body, .body_len = first->body_len,
                                    .client_msg_id = first->client_msg_id,
                                    .reply_to = first->reply_to, .reactions = "",
                                    .mentions = first->mentions != NULL ? first->mentions : "",
                                    .files = first->files };
      /* A resend, of a stored message or of one earlier in the batch:
       * answered with the original, which uses no id. */
      if (q[i].out_duplicate != NULL)
        *q[i].out_duplicate = first->found_row >= 0 || q[i].same_as >= 0;
      q[i].func (&m, q[i].user_data);
      PQclear (reread);
    }
  ok = TRUE;

out:
  PQclear (found);
  self->flushing = FALSE;
  if (ok)
    {
      clear_queued (self, 0);
      self->queued_at_job = 0;
      self->changes_at_job = 0;
      return TRUE;
    }
  clear_queued (self, 0);
  if (self->batches)
    {
      self->in_job = FALSE;
      pg_rollback (&self->parent);
    }
  return FALSE;
}

/* Queues the message (see "Batched inserts" at the top). */
static gboolean
insert_message (PgStore                 *self,
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
  char *key = g_strdup_printf ("%" G_GINT64_FORMAT ":%s", sender_id, client_msg_id);
  QueuedMessage q = { 0 };
  gpointer first;

  if (!lock_counter (self, error))
    {
      g_free (key);
      return FALSE;
    }
  q.conversation_id = conversation_id;
  q.sender_id = sender_id;
  q.ts = ts;
  q.body = g_malloc (body_len + 1);
  memcpy (q.body, body, body_len);
  q.body[body_len] = '\0';
  q.body_len = body_len;
  q.client_msg_id = g_strdup (client_msg_id);
  q.lexemes = natterd_store_pg_message_lexemes (body, body_len);
  q.reply_to = reply_to;
  q.mentions = g_strdup (mentions);
  q.files = g_strdup (files);
  q.hidden_for = hidden_for;
  q.out_duplicate = out_duplicate;
  q.func = func;
  q.user_data = user_data;
  q.same_as = -1;
  if (g_hash_table_lookup_extended (self->queued_keys, key, NULL, &first))
    {
      q.same_as = GPOINTER_TO_INT (first) - 1;
      g_free (key);
    }
  else
    g_hash_table_insert (self->queued_keys, key, GUINT_TO_POINTER (self->queued->len + 1));
  g_array_append_val (self->queued, q);
  if (out_duplicate != NULL)
    *out_duplicate = FALSE;
  return self->batches || flush_queued (self, error);
}

static gboolean
pg_message_insert (NatterdStore            *store,
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
  PgStore *self = (PgStore *) store;
  Own own;
  gboolean ok;

  if (!own_begin (self, &own, error))
    return FALSE;
  ok = insert_message (self, conversation_id, sender_id, body, body_len, ts, client_msg_id,
                       reply_to, mentions, files, hidden_for, out_duplicate, func, user_data, error);
  return own_end (self, &own, ok, error);
}

static gboolean
pg_message_by_id (NatterdStore            *store,
                  gint64                   id,
                  NatterdStoreMessageFunc  func,
                  gpointer                 user_data,
                  GError                 **error)
{
  PgStore *self = (PgStore *) store;
  Params p = { 0 };

  param_int (&p, id);
  return foreach_message (self, STMT_MESSAGE_BY_ID, &p, func, user_data, "find message", error);
}

/* The message's row takes the change at once; the change's own row is
 * queued (QueuedChange) and takes the counter's next id at the flush,
 * after the messages queued before it, as a message would. A delete
 * writes the queued messages first, as before any statement that is not
 * no_flush: the frees of its files must see their message_files rows. */
static gboolean
insert_change (PgStore                       *self,
               const NatterdStoreChangeWrite *c,
               gint64                        *out_id,
               GError                       **error)
{
  Params p = { 0 };
  QueuedChange q = { 0 };
  gboolean ok;

  if (!lock_counter (self, error))
    return FALSE;
  switch (c->kind)
    {
    case NATTERD_CHANGE_EDIT:
      {
        g_autofree char *body = g_strndup (c->body, c->body_len);
        g_autofree char *lexemes = natterd_store_pg_message_lexemes (c->body, c->body_len);

        param_int (&p, c->message_id);
        param_text (&p, body);
        param_int (&p, c->ts);
        param_text (&p, c->mentions);
        param_text (&p, lexemes);
        ok = run_done (self, STMT_MESSAGE_EDIT, &p, "edit a message", error);
        break;
      }
    case NATTERD_CHANGE_DELETE:
      param_int (&p, c->message_id);
      ok = run_done (self, STMT_MESSAGE_ERASE, &p, "delete a message", error) &&
           run_done (self, STMT_MESSAGE_FILES_DROP, &p, "drop a message's files", error) &&
           free_unreferenced (self, error);
      break;
    case NATTERD_CHANGE_REACTION:
      param_int (&p, c->message_id);
      param_text (&p, c->reactions);
      ok = run_done (self, STMT_MESSAGE_REACTIONS, &p, "react to a message", error);
      break;
    default:
      g_return_val_if_reached (FALSE);
    }
  if (!ok)
    return FALSE;

  q.after = self->queued->len;
  q.conversation_id = c->conversation_id;
  q.actor_id = c->actor_id;
  q.ts = c->ts;
  q.kind = c->kind;
  q.message_id = c->message_id;
  q.emoji = c->kind == NATTERD_CHANGE_REACTION ? g_strdup (c->emoji) : NULL;
  q.on = c->kind == NATTERD_CHANGE_REACTION && c->on;
  q.out_id = out_id;
  g_array_append_val (self->queued_changes, q);
  return self->batches || flush_queued (self, error);
}

static gboolean
pg_change_insert (NatterdStore                  *store,
                  const NatterdStoreChangeWrite *change,
                  gint64                        *out_id,
                  GError                       **error)
{
  PgStore *self = (PgStore *) store;
  Own own;

  if (!own_begin (self, &own, error))
    return FALSE;
  return own_end (self, &own, insert_change (self, change, out_id, error), error);
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
  Params p = { 0 };

  param_int (&p, a);
  param_int (&p, b);
  param_int (&p, limit);
  return foreach_change ((PgStore *) store, id, &p, func, user_data, "changes", error);
}

static gboolean
pg_changes_since (NatterdStore            *store,
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
pg_changes_between (NatterdStore            *store,
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
pg_participant_role (NatterdStore *store,
                     gint64        conversation_id,
                     gint64        user_id,
                     gboolean     *out_participant,
                     gboolean     *out_owner,
                     GError      **error)
{
  PgStore *self = (PgStore *) store;
  Params p = { 0 };
  PGresult *res;

  param_int (&p, conversation_id);
  param_int (&p, user_id);
  res = run (self, STMT_PARTICIPANT_ROLE, &p, "participant role", error);
  if (res == NULL)
    return FALSE;
  *out_participant = get_bool (res, 0, 0);
  *out_owner = get_bool (res, 0, 1);
  PQclear (res);
  return TRUE;
}

static gboolean
pg_notify_level_set (NatterdStore        *store,
                     gint64               conversation_id,
                     gint64               user_id,
                     NatterdNotifyLevel   level,
                     gboolean            *out_changed,
                     GError             **error)
{
  PgStore *self = (PgStore *) store;
  Params p = { 0 };
  PGresult *res;

  param_int (&p, conversation_id);
  param_int (&p, user_id);
  param_int (&p, level);
  res = run (self, STMT_NOTIFY_LEVEL_SET, &p, "set notify level", error);
  if (res == NULL)
    return FALSE;
  *out_changed = g_strcmp0 (PQcmdTuples (res), "0") != 0;
  PQclear (res);
  return TRUE;
}

/* The newest id of messages and changes. */
static gboolean
last_message_id (PgStore  *self,
                 gint64   *out_id,
                 GError  **error)
{
  return run_returning_id (self, STMT_LAST_ID, NULL, out_id, "newest message", error);
}

/* The index is part of each message's row: never behind. */
static gboolean
pg_search_index_catch_up (NatterdStore  *store,
                          guint          limit,
                          gint64        *out_indexed_up_to,
                          GError       **error)
{
  return last_message_id ((PgStore *) store, out_indexed_up_to, error);
}

static gboolean
pg_search_index_state (NatterdStore  *store,
                       gint64        *out_indexed_up_to,
                       gint64        *out_last_message_id,
                       GError       **error)
{
  if (!last_message_id ((PgStore *) store, out_last_message_id, error))
    return FALSE;
  *out_indexed_up_to = *out_last_message_id;
  return TRUE;
}

static gboolean
pg_history (NatterdStore            *store,
            gint64                   viewer_id,
            gint64                   conversation_id,
            gint64                   before,
            gint64                   limit,
            gboolean                 skip_deleted,
            NatterdStoreMessageFunc  func,
            gpointer                 user_data,
            GError                 **error)
{
  PgStore *self = (PgStore *) store;
  Params p = { 0 };

  param_int (&p, conversation_id);
  param_int (&p, limit);
  if (before > 0)
    param_int (&p, before);
  param_int (&p, viewer_id);
  return foreach_message (self, before > 0 ? (skip_deleted ? STMT_HISTORY_BEFORE_UNDELETED : STMT_HISTORY_BEFORE)
                                           : (skip_deleted ? STMT_HISTORY_UNDELETED : STMT_HISTORY), &p,
                          func, user_data, "history", error);
}

static gboolean
pg_messages_between (NatterdStore            *store,
                     gint64                   after,
                     gint64                   before,
                     gint64                   limit,
                     NatterdStoreMessageFunc  func,
                     gpointer                 user_data,
                     GError                 **error)
{
  PgStore *self = (PgStore *) store;
  Params p = { 0 };

  param_int (&p, after);
  param_int (&p, before);
  param_int (&p, limit);
  return foreach_message (self, STMT_MESSAGES_BETWEEN, &p, func, user_data, "messages between", error);
}

static gboolean
pg_sync (NatterdStore            *store,
         gint64                   user_id,
         gint64                   since,
         gint64                   limit,
         gboolean                 skip_deleted,
         NatterdStoreMessageFunc  func,
         gpointer                 user_data,
         GError                 **error)
{
  PgStore *self = (PgStore *) store;
  Params p = { 0 };

  param_int (&p, user_id);
  param_int (&p, since);
  param_int (&p, limit);
  return foreach_message (self, skip_deleted ? STMT_SYNC_UNDELETED : STMT_SYNC, &p, func, user_data,
                          "sync", error);
}

/* A lexeme in a tsquery literal: quoted, with ' and \ escaped. */
static void
append_tsquery_word_cb (const char *word,
                        gsize       len,
                        guint       chars,
                        gpointer    user_data)
{
  GString *out = user_data;
  g_autofree char *folded = natterd_search_word_fold (word, len);

  if (folded[0] == '\0')
    return;
  if (out->len > 0)
    g_string_append (out, " & ");
  append_quoted (out, folded, '\'');
  /* One letter matches that word only, as on SQLite. */
  if (chars >= NATTERD_STORE_SEARCH_PREFIX_MIN)
    g_string_append (out, ":*");
}

char *
natterd_store_pg_tsquery (const char *query)
{
  return natterd_search_query_build (query, append_tsquery_word_cb);
}

static gboolean
pg_search (NatterdStore            *store,
           gint64                   user_id,
           const char              *query,
           gint64                   conversation_id,
           gint64                   limit,
           NatterdStoreMessageFunc  func,
           gpointer                 user_data,
           GError                 **error)
{
  PgStore *self = (PgStore *) store;
  g_autofree char *tsquery = natterd_store_pg_tsquery (query);
  Params p = { 0 };

  if (tsquery == NULL)
    return TRUE;
  param_int (&p, user_id);
  param_text (&p, tsquery);
  param_int (&p, limit);
  if (conversation_id > 0)
    param_int (&p, conversation_id);
  return foreach_message (self, conversation_id > 0 ? STMT_SEARCH_CONVERSATION : STMT_SEARCH, &p,
                          func, user_data, "search", error);
}

static gboolean
pg_conversation_summaries (NatterdStore            *store,
                           gint64                   user_id,
                           NatterdStoreSummaryFunc  func,
                           gpointer                 user_data,
                           GError                 **error)
{
  PgStore *self = (PgStore *) store;
  Params p = { 0 };
  PGresult *res;

  param_int (&p, user_id);
  res = run (self, STMT_SUMMARIES, &p, "conversations", error);
  if (res == NULL)
    return FALSE;
  for (int i = 0; i < PQntuples (res); i++)
    {
      NatterdStoreMessage m;
      gboolean has_last = !PQgetisnull (res, i, 4);

      if (has_last)
        message_from_row (res, i, 4, &m);
      func (get_int (res, i, 0), get_int (res, i, 1), get_int (res, i, 2),
            (NatterdNotifyLevel) get_int (res, i, 3), has_last ? &m : NULL, user_data);
    }
  PQclear (res);
  return TRUE;
}

/* --- files --- */

/* A statement whose one parameter is an integer, for its effect. */
static gboolean
run_done_int (PgStore *self, StmtId id, gint64 value, const char *what, GError **error)
{
  Params p = { 0 };

  param_int (&p, value);
  return run_done (self, id, &p, what, error);
}

static gboolean
pg_upload_usage (NatterdStore *store, gint64 user_id, gint64 *out_in_progress,
                 gint64 *out_bytes, GError **error)
{
  PgStore *self = (PgStore *) store;
  Params p = { 0 };
  PGresult *res;

  param_int (&p, user_id);
  res = run (self, STMT_UPLOAD_USAGE, &p, "upload usage", error);
  if (res == NULL)
    return FALSE;
  *out_in_progress = get_int (res, 0, 0);
  *out_bytes = get_int (res, 0, 1);
  PQclear (res);
  return TRUE;
}

static gboolean
pg_upload_insert (NatterdStore *store, gint64 user_id, gint64 size, const char *sha256,
                  gint64 now_ms, gint64 *out_id, GError **error)
{
  PgStore *self = (PgStore *) store;
  Params p = { 0 };

  param_int (&p, user_id);
  param_int (&p, size);
  param_text (&p, sha256);
  param_int (&p, now_ms);
  return run_returning_id (self, STMT_UPLOAD_INSERT, &p, out_id, "insert upload", error);
}

static gboolean
pg_upload_get (NatterdStore *store, gint64 id, NatterdStoreUpload *out,
               gboolean *out_found, GError **error)
{
  PgStore *self = (PgStore *) store;
  Params p = { 0 };
  PGresult *res;

  param_int (&p, id);
  res = run (self, STMT_UPLOAD_GET, &p, "read upload", error);
  if (res == NULL)
    return FALSE;
  *out_found = PQntuples (res) > 0;
  if (*out_found)
    {
      out->id = id;
      out->user_id = get_int (res, 0, 0);
      out->size = get_int (res, 0, 1);
      g_strlcpy (out->sha256, get_text (res, 0, 2), sizeof out->sha256);
      out->touched = get_int (res, 0, 3);
      out->file_id = get_int (res, 0, 4);
      out->received = get_int (res, 0, 5);
    }
  PQclear (res);
  return TRUE;
}

static gboolean
pg_upload_update (NatterdStore *store, gint64 id, gint64 now_ms, gint64 file_id, gint64 added,
                  GError **error)
{
  Params p = { 0 };

  param_int (&p, id);
  param_int (&p, now_ms);
  param_int (&p, file_id);
  param_int (&p, added);
  return run_done ((PgStore *) store, STMT_UPLOAD_UPDATE, &p, "update upload", error);
}

static gboolean
pg_chunks_drop (NatterdStore *store, gint64 blob_id, GError **error)
{
  return run_done_int ((PgStore *) store, STMT_CHUNKS_DROP, blob_id, "drop chunks", error);
}

static gboolean
pg_upload_delete (NatterdStore *store, gint64 id, GError **error)
{
  return pg_chunks_drop (store, id, error) &&
         run_done_int ((PgStore *) store, STMT_UPLOAD_DELETE, id, "delete upload", error);
}

static gboolean
pg_chunk_put (NatterdStore *store, gint64 blob_id, gint64 index, const guint8 *data,
              gsize len, gboolean *out_added, GError **error)
{
  PgStore *self = (PgStore *) store;
  Params p = { 0 };
  PGresult *res;

  param_int (&p, blob_id);
  param_int (&p, index);
  param_bytes (&p, data, len);
  res = run (self, STMT_CHUNK_PUT, &p, "store chunk", error);
  if (res == NULL)
    return FALSE;
  *out_added = g_strcmp0 (PQcmdTuples (res), "0") != 0;
  PQclear (res);
  return TRUE;
}

static gboolean
pg_chunk_get (NatterdStore *store, gint64 blob_id, gint64 index, GBytes **out, GError **error)
{
  PgStore *self = (PgStore *) store;
  Params p = { 0 };
  PGresult *res;

  param_int (&p, blob_id);
  param_int (&p, index);
  res = run (self, STMT_CHUNK_GET, &p, "read chunk", error);
  if (res == NULL)
    return FALSE;
  *out = NULL;
  if (PQntuples (res) > 0 && (*out = get_bytea (res, 0, 0, "read chunk", error)) == NULL)
    {
      PQclear (res);
      return FALSE;
    }
  PQclear (res);
  return TRUE;
}

static gboolean
pg_chunks_list (NatterdStore *store, gint64 blob_id, GArray *out, GError **error)
{
  PgStore *self = (PgStore *) store;
  Params p = { 0 };
  PGresult *res;

  param_int (&p, blob_id);
  res = run (self, STMT_CHUNKS_LIST, &p, "list chunks", error);
  if (res == NULL)
    return FALSE;
  for (int i = 0; i < PQntuples (res); i++)
    {
      gint64 index = get_int (res, i, 0);

      g_array_append_val (out, index);
    }
  PQclear (res);
  return TRUE;
}

static gboolean
pg_file_find (NatterdStore *store, const char *sha256, gint64 *out_id, GError **error)
{
  Params p = { 0 };

  param_text (&p, sha256);
  return run_returning_id ((PgStore *) store, STMT_FILE_FIND, &p, out_id, "find file", error);
}

static gboolean
pg_file_insert (NatterdStore *store, gint64 id, const char *sha256, gint64 size, GError **error)
{
  Params p = { 0 };

  param_int (&p, id);
  param_text (&p, sha256);
  param_int (&p, size);
  return run_done ((PgStore *) store, STMT_FILE_INSERT, &p, "insert file", error);
}

static gboolean
pg_file_readable (NatterdStore *store, gint64 file_id, gint64 user_id, gint64 *out_size,
                  char *out_sha256, GError **error)
{
  PgStore *self = (PgStore *) store;
  Params p = { 0 };
  PGresult *res;

  param_int (&p, file_id);
  param_int (&p, user_id);
  res = run (self, STMT_FILE_READABLE, &p, "file readable", error);
  if (res == NULL)
    return FALSE;
  *out_size = PQntuples (res) > 0 ? get_int (res, 0, 0) : -1;
  if (PQntuples (res) > 0 && out_sha256 != NULL)
    g_strlcpy (out_sha256, PQgetvalue (res, 0, 1), 65);
  PQclear (res);
  return TRUE;
}

static gboolean
pg_files_expire (NatterdStore *store, gint64 before_ms, GError **error)
{
  PgStore *self = (PgStore *) store;

  return run_done_int (self, STMT_UPLOADS_EXPIRE_CHUNKS, before_ms, "expire uploads' chunks", error) &&
         run_done_int (self, STMT_UPLOADS_EXPIRE, before_ms, "expire uploads", error) &&
         free_unreferenced (self, error);
}

static gboolean
pg_blob_verify (NatterdStore *store, gint64 blob_id, gint64 size, const char *sha256,
                gboolean *out_match, GError **error)
{
  return natterd_store_blob_hash (store, blob_id, size, sha256, NULL, NULL, out_match, error);
}

/* A file keeps the chunks of the upload whose id it took. */
static gboolean
pg_file_chunk_get (NatterdStore *store, gint64 file_id, gint64 index, GBytes **out, GError **error)
{
  return pg_chunk_get (store, file_id, index, out, error);
}

static gboolean
pg_files_sweep (NatterdStore *store, GError **error)
{
  return TRUE;
}

static const NatterdStoreEngine pg_engine = {
  .name = "postgresql",
  .shared = TRUE,
  .close = pg_close,
  .open_sibling = pg_open_writer,
  .open_indexer = pg_open_sibling,
  .open_reader = pg_open_reader,
  .set_write_hook = pg_set_write_hook,
  .set_reconnect_in_background = pg_set_reconnect_in_background,
  .get_path = pg_get_path,
  .get_schema_version = pg_get_schema_version,
  .begin = pg_begin,
  .commit = pg_commit,
  .rollback = pg_rollback,
  .in_transaction = pg_in_transaction,
  .savepoint = pg_savepoint,
  .user_insert = pg_user_insert,
  .users_foreach = pg_users_foreach,
  .user_set_last_seen = pg_user_set_last_seen,
  .user_set_status_text = pg_user_set_status_text,
  .user_set_display_name = pg_user_set_display_name,
  .avatar_set = pg_avatar_set,
  .avatar_get = pg_avatar_get,
  .avatars_foreach = pg_avatars_foreach,
  .user_delete = pg_user_delete,
  .token_insert = pg_token_insert,
  .stats = pg_stats,
  .backup = pg_backup,
  .tokens_of_user = pg_tokens_of_user,
  .token_set_device = pg_token_set_device,
  .user_set_password_hash = pg_user_set_password_hash,
  .invite_insert = pg_invite_insert,
  .invites_foreach = pg_invites_foreach,
  .invite_delete = pg_invite_delete,
  .invite_consume = pg_invite_consume,
  .token_lookup = pg_token_lookup,
  .token_delete = pg_token_delete,
  .tokens_expire = pg_tokens_expire,
  .tokens_revoked = pg_tokens_revoked,
  .contact_set = pg_contact_set,
  .contact_lock = pg_contact_lock,
  .contact_delete = pg_contact_delete,
  .contacts_foreach = pg_contacts_foreach,
  .block_set = pg_block_set,
  .block_delete = pg_block_delete,
  .blocks_foreach = pg_blocks_foreach,
  .direct_ensure = pg_direct_ensure,
  .room_insert = pg_room_insert,
  .room_set_topic = pg_room_set_topic,
  .conversations_foreach = pg_conversations_foreach,
  .participant_add = pg_participant_add,
  .participant_remove = pg_participant_remove,
  .participants_foreach = pg_participants_foreach,
  .room_rows_foreach = pg_room_rows_foreach,
  .room_settings_set = pg_room_settings_set,
  .room_role_set = pg_room_role_set,
  .room_owner_set = pg_room_owner_set,
  .room_ban_set = pg_room_ban_set,
  .room_invitation_set = pg_room_invitation_set,
  .room_delete = pg_room_delete,
  .read_marker_set = pg_read_marker_set,
  .message_insert = pg_message_insert,
  .search_index_catch_up = pg_search_index_catch_up,
  .search_index_state = pg_search_index_state,
  .message_by_client_id = pg_message_by_client_id,
  .message_by_id = pg_message_by_id,
  .change_insert = pg_change_insert,
  .changes_since = pg_changes_since,
  .changes_between = pg_changes_between,
  .notify_level_set = pg_notify_level_set,
  .participant_role = pg_participant_role,
  .upload_usage = pg_upload_usage,
  .upload_insert = pg_upload_insert,
  .upload_get = pg_upload_get,
  .upload_update = pg_upload_update,
  .upload_delete = pg_upload_delete,
  .chunk_put = pg_chunk_put,
  .chunk_get = pg_chunk_get,
  .chunks_list = pg_chunks_list,
  .chunks_drop = pg_chunks_drop,
  .file_find = pg_file_find,
  .file_insert = pg_file_insert,
  .file_readable = pg_file_readable,
  .files_expire = pg_files_expire,
  .blob_verify = pg_blob_verify,
  .file_chunk_get = pg_file_chunk_get,
  .files_sweep = pg_files_sweep,
  .history = pg_history,
  .messages_between = pg_messages_between,
  .sync = pg_sync,
  .search = pg_search,
  .conversation_summaries = pg_conversation_summaries,
};
