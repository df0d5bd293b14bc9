/* natterd-store-engine.h: what a storage engine implements.
 *
 * natterd-store.h is the interface the chat layer uses; each of its
 * functions on a NatterdStore calls the engine the store was opened with.
 * An engine embeds NatterdStore first in its own connection struct and
 * fills in every member of its NatterdStoreEngine: the SQLite engine is
 * natterd-store-sqlite.c. Only engines include this header.
 */
#pragma once

#include "natterd-store.h"

G_BEGIN_DECLS

typedef struct _NatterdStoreEngine NatterdStoreEngine;

struct _NatterdStore {
  const NatterdStoreEngine *engine;
};

/* One member per function of natterd-store.h that takes a store; each
 * has that function's contract. */
struct _NatterdStoreEngine {
  const char *name;
  /* Other processes may write the database too (natterd_store_is_shared). */
  gboolean    shared;
  void (*close) (NatterdStore *store);
  NatterdStore *(*open_sibling) (NatterdStore *store, GError **error);
  NatterdStore *(*open_indexer) (NatterdStore *store, GError **error);
  NatterdStore *(*open_reader) (NatterdStore *store, GError **error);
  void (*set_write_hook) (NatterdStore *store, NatterdStoreWriteHook hook, gpointer data);
  void (*set_reconnect_in_background) (NatterdStore *store, gboolean in_background);
  const char *(*get_path) (NatterdStore *store);
  int (*get_schema_version) (NatterdStore *store);
  gboolean (*begin) (NatterdStore *store, GError **error);
  gboolean (*commit) (NatterdStore *store, GError **error);
  void (*rollback) (NatterdStore *store);
  gboolean (*in_transaction) (NatterdStore *store);
  gboolean (*savepoint) (NatterdStore *store, NatterdStoreSavepoint action, GError **error);
  gboolean (*user_insert) (NatterdStore *store, const char *username, const char *display_name,
                           const char *password_hash, gint64 created_ms, gint64 *out_id,
                           GError **error);
  gboolean (*users_foreach) (NatterdStore *store, NatterdStoreUserFunc func,
                             gpointer user_data, GError **error);
  gboolean (*user_set_last_seen) (NatterdStore *store, gint64 user_id, gint64 last_seen,
                                  GError **error);
  gboolean (*user_set_status_text) (NatterdStore *store, gint64 user_id,
                                    const char *status_text, GError **error);
  gboolean (*user_set_display_name) (NatterdStore *store, gint64 user_id,
                                     const char *display_name, GError **error);
  gboolean (*avatar_set) (NatterdStore *store, gint64 user_id, GBytes *data, const char *sha256,
                          GError **error);
  gboolean (*avatar_get) (NatterdStore *store, gint64 user_id, GBytes **out, char **out_sha256,
                          GError **error);
  gboolean (*avatars_foreach) (NatterdStore *store, NatterdStoreAvatarFunc func, gpointer user_data,
                               GError **error);
  gboolean (*user_delete) (NatterdStore *store, gint64 user_id, const char *password_hash,
                           const char *display_name, GError **error);
  gboolean (*token_insert) (NatterdStore *store, const guint8 *hash, gint64 user_id,
                            gint64 expires_ms, GError **error);
  gboolean (*token_lookup) (NatterdStore *store, const guint8 *hash, gint64 *out_user_id,
                            gint64 *out_expires_ms, GError **error);
  gboolean (*token_delete) (NatterdStore *store, const guint8 *hash, GError **error);
  gboolean (*token_set_device) (NatterdStore *store, const guint8 *hash, const char *device,
                                const char *address, GError **error);
  gboolean (*stats) (NatterdStore *store, gint64 *out_messages, gint64 *out_bytes, GError **error);
  gboolean (*backup) (NatterdStore *store, const char *dest_path, GCancellable *cancellable,
                      gint64 *out_bytes, GError **error);
  gboolean (*tokens_of_user) (NatterdStore *store, gint64 user_id, NatterdStoreTokenFunc func,
                              gpointer user_data, GError **error);
  gboolean (*user_set_password_hash) (NatterdStore *store, gint64 user_id, const char *password_hash,
                                      GError **error);
  gboolean (*invite_insert) (NatterdStore *store, const char *code, gint64 uses, gint64 expires_ms,
                             gint64 created_ms, GError **error);
  gboolean (*invites_foreach) (NatterdStore *store, NatterdStoreInviteFunc func, gpointer user_data,
                               GError **error);
  gboolean (*invite_delete) (NatterdStore *store, const char *code, gboolean *out_found, GError **error);
  gboolean (*invite_consume) (NatterdStore *store, const char *code, gint64 now_ms, gboolean *out_ok,
                              GError **error);
  gboolean (*tokens_expire) (NatterdStore *store, gint64 now_ms, GError **error);
  gboolean (*tokens_revoked) (NatterdStore *store, gint64 after, NatterdStoreRevokedFunc func,
                              gpointer user_data, gint64 *out_last, GError **error);
  gboolean (*contact_set) (NatterdStore *store, gint64 a, gint64 b,
                           NatterdStoreContactState state, GError **error);
  gboolean (*contact_lock) (NatterdStore *store, gint64 a, gint64 b,
                            NatterdStoreContactPair *out_pair, GError **error);
  gboolean (*contact_delete) (NatterdStore *store, gint64 a, gint64 b, GError **error);
  gboolean (*contacts_foreach) (NatterdStore *store, NatterdStoreContactFunc func,
                                gpointer user_data, GError **error);
  gboolean (*block_set) (NatterdStore *store, gint64 user_id, gint64 blocked_id, gint64 ts,
                         GError **error);
  gboolean (*block_delete) (NatterdStore *store, gint64 user_id, gint64 blocked_id, GError **error);
  gboolean (*blocks_foreach) (NatterdStore *store, NatterdStoreBlockFunc func, gpointer user_data,
                              GError **error);
  gboolean (*direct_ensure) (NatterdStore *store, gint64 user_a, gint64 user_b, gint64 *out_id,
                             GError **error);
  gboolean (*room_insert) (NatterdStore *store, const char *room, const char *topic,
                           gint64 owner_id, gint64 created_ms, gint64 *out_id, GError **error);
  gboolean (*room_set_topic) (NatterdStore *store, gint64 conversation_id, const char *topic,
                              GError **error);
  gboolean (*conversations_foreach) (NatterdStore *store, NatterdStoreConversationFunc func,
                                     gpointer user_data, GError **error);
  gboolean (*participant_add) (NatterdStore *store, gint64 conversation_id, gint64 user_id,
                               GError **error);
  gboolean (*participant_remove) (NatterdStore *store, gint64 conversation_id, gint64 user_id,
                                  GError **error);
  gboolean (*participants_foreach) (NatterdStore *store, NatterdStoreParticipantFunc func,
                                    gpointer user_data, GError **error);
  gboolean (*room_rows_foreach) (NatterdStore *store, NatterdStoreRoomRowFunc func,
                                 gpointer user_data, GError **error);
  gboolean (*room_settings_set) (NatterdStore *store, gint64 conversation_id,
                                 const char *display_name, gboolean is_private, GError **error);
  gboolean (*room_role_set) (NatterdStore *store, gint64 conversation_id, gint64 user_id,
                             gboolean admin, GError **error);
  gboolean (*room_owner_set) (NatterdStore *store, gint64 conversation_id, gint64 owner_id,
                              GError **error);
  gboolean (*room_ban_set) (NatterdStore *store, gint64 conversation_id, gint64 user_id,
                            gboolean banned, gint64 by_id, const char *reason, gint64 ts,
                            GError **error);
  gboolean (*room_invitation_set) (NatterdStore *store, gint64 conversation_id, gint64 user_id,
                                   gboolean invited, gint64 by_id, gint64 ts, GError **error);
  gboolean (*room_delete) (NatterdStore *store, gint64 conversation_id, GError **error);
  gboolean (*read_marker_set) (NatterdStore *store, gint64 conversation_id, gint64 user_id,
                               gint64 up_to, gint64 *out_up_to, gboolean *out_moved,
                               GError **error);
  gboolean (*message_insert) (NatterdStore *store, gint64 conversation_id, gint64 sender_id,
                              const char *body, gsize body_len, gint64 ts,
                              const char *client_msg_id, gint64 reply_to, const char *mentions,
                              const char *files, gint64 hidden_for, gboolean *out_duplicate,
                              NatterdStoreMessageFunc func, gpointer user_data,
                              GError **error);
  gboolean (*search_index_catch_up) (NatterdStore *store, guint limit,
                                     gint64 *out_indexed_up_to, GError **error);
  gboolean (*search_index_state) (NatterdStore *store, gint64 *out_indexed_up_to,
                                  gint64 *out_last_message_id, GError **error);
  gboolean (*message_by_client_id) (NatterdStore *store, gint64 sender_id,
                                    const char *client_msg_id, NatterdStoreMessageFunc func,
                                    gpointer user_data, GError **error);
  gboolean (*message_by_id) (NatterdStore *store, gint64 id, NatterdStoreMessageFunc func,
                             gpointer user_data, GError **error);
  gboolean (*change_insert) (NatterdStore *store, const NatterdStoreChangeWrite *change,
                             gint64 *out_id, GError **error);
  gboolean (*changes_since) (NatterdStore *store, gint64 user_id, gint64 since, gint64 limit,
                             NatterdStoreChangeFunc func, gpointer user_data, GError **error);
  gboolean (*changes_between) (NatterdStore *store, gint64 after, gint64 before, gint64 limit,
                               NatterdStoreChangeFunc func, gpointer user_data, GError **error);
  gboolean (*participant_role) (NatterdStore *store, gint64 conversation_id, gint64 user_id,
                                gboolean *out_participant, gboolean *out_owner, GError **error);
  gboolean (*upload_usage) (NatterdStore *store, gint64 user_id, gint64 *out_in_progress,
                            gint64 *out_bytes, GError **error);
  gboolean (*upload_insert) (NatterdStore *store, gint64 user_id, gint64 size, const char *sha256,
                             gint64 now_ms, gint64 *out_id, GError **error);
  gboolean (*upload_get) (NatterdStore *store, gint64 id, NatterdStoreUpload *out,
                          gboolean *out_found, GError **error);
  gboolean (*upload_update) (NatterdStore *store, gint64 id, gint64 now_ms, gint64 file_id,
                             gint64 added, GError **error);
  gboolean (*upload_delete) (NatterdStore *store, gint64 id, GError **error);
  gboolean (*chunk_put) (NatterdStore *store, gint64 blob_id, gint64 index, const guint8 *data,
                         gsize len, gboolean *out_added, GError **error);
  gboolean (*chunk_get) (NatterdStore *store, gint64 blob_id, gint64 index, GBytes **out,
                         GError **error);
  gboolean (*chunks_list) (NatterdStore *store, gint64 blob_id, GArray *out, GError **error);
  gboolean (*chunks_drop) (NatterdStore *store, gint64 blob_id, GError **error);
  gboolean (*file_find) (NatterdStore *store, const char *sha256, gint64 *out_id, GError **error);
  gboolean (*file_insert) (NatterdStore *store, gint64 id, const char *sha256, gint64 size,
                           GError **error);
  gboolean (*file_readable) (NatterdStore *store, gint64 file_id, gint64 user_id, gint64 *out_size,
                             char *out_sha256, GError **error);
  gboolean (*files_expire) (NatterdStore *store, gint64 before_ms, GError **error);
  gboolean (*blob_verify) (NatterdStore *store, gint64 blob_id, gint64 size, const char *sha256,
                           gboolean *out_match, GError **error);
  gboolean (*file_chunk_get) (NatterdStore *store, gint64 file_id, gint64 index, GBytes **out,
                              GError **error);
  gboolean (*files_sweep) (NatterdStore *store, GError **error);
  gboolean (*notify_level_set) (NatterdStore *store, gint64 conversation_id, gint64 user_id,
                                NatterdNotifyLevel level, gboolean *out_changed, GError **error);
  /* history and sync: @skip_deleted for natterd_store_*_undeleted. */
  gboolean (*history) (NatterdStore *store, gint64 viewer_id, gint64 conversation_id, gint64 before,
                       gint64 limit, gboolean skip_deleted, NatterdStoreMessageFunc func,
                       gpointer user_data, GError **error);
  gboolean (*messages_between) (NatterdStore *store, gint64 after, gint64 before, gint64 limit,
                                NatterdStoreMessageFunc func, gpointer user_data, GError **error);
  gboolean (*sync) (NatterdStore *store, gint64 user_id, gint64 since, gint64 limit,
                    gboolean skip_deleted, NatterdStoreMessageFunc func, gpointer user_data,
                    GError **error);
  gboolean (*search) (NatterdStore *store, gint64 user_id, const char *query,
                      gint64 conversation_id, gint64 limit, NatterdStoreMessageFunc func,
                      gpointer user_data, GError **error);
  gboolean (*conversation_summaries) (NatterdStore *store, gint64 user_id,
                                      NatterdStoreSummaryFunc func, gpointer user_data,
                                      GError **error);
};

/* For blob_verify: hashes blob @blob_id's chunks in order, handing each
 * to @sink too (NULL: none; FALSE from it stops with its error), and
 * tells whether they hash to @sha256 (a missing chunk: they do not). */
typedef gboolean (*NatterdStoreChunkSink) (gconstpointer data, gsize len, gpointer user_data,
                                           GError **error);
gboolean natterd_store_blob_hash (NatterdStore *store, gint64 blob_id, gint64 size,
                                  const char *sha256, NatterdStoreChunkSink sink, gpointer sink_data,
                                  gboolean *out_match, GError **error);

/* For contact_lock: folds one row (@row_a, the other, @state) between a
 * and b into *@pair, from a's side (natterd-store.h). Start from NONE. */
static inline void
natterd_store_contact_pair_fold (gint64                   a,
                                 gint64                   row_a,
                                 int                      state,
                                 NatterdStoreContactPair *pair)
{
  if (state == NATTERD_STORE_CONTACT_ACCEPTED)
    *pair = NATTERD_STORE_PAIR_ACCEPTED;
  else if (*pair == NATTERD_STORE_PAIR_ACCEPTED)
    return;
  else if (row_a != a)
    *pair = NATTERD_STORE_PAIR_B_ASKED;
  else if (*pair == NATTERD_STORE_PAIR_NONE)
    *pair = NATTERD_STORE_PAIR_A_ASKED;
}

G_END_DECLS
