/* natterd-store-import.h: copying a SQLite natter.db into an empty
 * PostgreSQL database (natterd --import-sqlite; docs/server.md, "Moving
 * to PostgreSQL").
 */
#pragma once

#include "natterd-store.h"

G_BEGIN_DECLS

/* What was copied, table by table (members are the participants rows,
 * each with its read marker). */
typedef struct {
  gint64 users;
  gint64 tokens;
  gint64 avatars;     /* pictures of users (feature accounts) */
  gint64 contacts;
  gint64 conversations;
  gint64 rooms;
  gint64 members;
  gint64 bans;        /* of rooms (room_management) */
  gint64 invitations; /* of rooms, pending */
  gint64 blocks;      /* who blocks whom (feature accounts) */
  gint64 messages;
  gint64 changes;   /* of messages (message actions) */
} NatterdStoreImportCounts;

/* Copies every user (with its password hash), token hash, contact,
 * conversation, room, member (with its read marker) and message (with its
 * id) of the SQLite database @source_path, opened read-only and never
 * changed, into the PostgreSQL database @database (a connection string;
 * the password from @password_file unless NULL), whose schema is made or
 * migrated first. Refuses a source that is not a natter.db of the current
 * schema version, and a target that holds any user, token, contact,
 * conversation, room, member or message (naming them). Everything is
 * copied in one transaction, which commits only when every table's row
 * count in the target equals the source's; otherwise nothing is left.
 * search.db is not read: the words are made from the bodies. */
gboolean natterd_store_import_sqlite        (const char               *source_path,
                                             const char               *database,
                                             const char               *password_file,
                                             NatterdStoreImportCounts *out_counts,
                                             GError                  **error);
/* "users 3, tokens 5, ..., messages 400". */
char    *natterd_store_import_counts_format (const NatterdStoreImportCounts *counts);

G_END_DECLS
