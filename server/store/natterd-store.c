/* natterd-store.c: the storage interface: every call goes to the engine
 * the store was opened with (natterd-store-engine.h): SQLite
 * (natterd-store-sqlite.c) or PostgreSQL (natterd-store-pg.c).
 */
#define G_LOG_DOMAIN "natterd-store"

#include "config.h"

#include <string.h>

#include "natterd-store-engine.h"
#include "natterd-store-pg.h"
#include "natterd-store-sqlite.h"

G_DEFINE_QUARK (natterd-store-error-quark, natterd_store_error)

/* The strings of a message, in the order they are laid out in a copy. */
static gsize
string_size (const char *s, gsize len)
{
  return s != NULL ? len + 1 : 0;
}

static const char *
copy_string (char **at, const char *s, gsize len)
{
  char *copy = *at;

  if (s == NULL)
    return NULL;
  memcpy (copy, s, len);
  copy[len] = '\0';
  *at += len + 1;
  return copy;
}

NatterdStoreMessage *
natterd_store_message_copy (const NatterdStoreMessage *m)
{
  gsize id_len = m->client_msg_id != NULL ? strlen (m->client_msg_id) : 0;
  gsize reactions_len = m->reactions != NULL ? strlen (m->reactions) : 0;
  gsize mentions_len = m->mentions != NULL ? strlen (m->mentions) : 0;
  gsize files_len = m->files != NULL ? strlen (m->files) : 0;
  NatterdStoreMessage *copy = g_malloc (sizeof *copy + m->body_len + 1 +
                                        string_size (m->client_msg_id, id_len) +
                                        string_size (m->reply_body, m->reply_body_len) +
                                        string_size (m->reactions, reactions_len) +
                                        string_size (m->mentions, mentions_len) +
                                        string_size (m->files, files_len));
  char *at = (char *) (copy + 1);

  *copy = *m;
  copy->body = copy_string (&at, m->body != NULL ? m->body : "", m->body_len);
  copy->client_msg_id = copy_string (&at, m->client_msg_id, id_len);
  copy->reply_body = copy_string (&at, m->reply_body, m->reply_body_len);
  copy->reactions = copy_string (&at, m->reactions, reactions_len);
  copy->mentions = copy_string (&at, m->mentions, mentions_len);
  copy->files = copy_string (&at, m->files, files_len);
  return copy;
}

/* --- a message's files (NATTERD_STORE_FILES) --- */

#define FILE_FIELDS 13

/* The six fields of a file or its preview, from @field. */
static void
spec_read (const char *const    *field,
           const gsize          *len,
           NatterdStoreFileSpec *out)
{
  out->file = g_ascii_strtoll (field[0], NULL, 10);
  out->size = g_ascii_strtoll (field[1], NULL, 10);
  out->sha256 = field[2];
  out->width = g_ascii_strtoll (field[3], NULL, 10);
  out->height = g_ascii_strtoll (field[4], NULL, 10);
  out->mime = field[5];
  out->mime_len = len[5];
}

gboolean
natterd_store_files_next (const char          **at,
                          NatterdStoreFileRef  *out)
{
  const char *field[FILE_FIELDS];
  gsize len[FILE_FIELDS];
  const char *p = *at;
  guint n = 0;

  if (p == NULL || *p == '\0')
    return FALSE;
  while (n < FILE_FIELDS)
    {
      const char *end = p + strcspn (p, "\t\n");

      field[n] = p;
      len[n++] = end - p;
      p = end;
      if (*p != '\t')
        break;
      p++;
    }
  if (n != FILE_FIELDS || len[2] != 64 || (len[9] != 64 && len[9] != 0))
    return FALSE;
  *at = *p == '\n' ? p + 1 : p;
  spec_read (field, len, &out->main);
  out->name = field[6];
  out->name_len = len[6];
  spec_read (field + 7, len + 7, &out->preview);
  return TRUE;
}

static void
add_file_id (GString *literal,
             GArray  *ids,
             gint64   id)
{
  for (guint i = 0; i < ids->len; i++)
    if (g_array_index (ids, gint64, i) == id)
      return;
  g_array_append_val (ids, id);
  g_string_append_printf (literal, "%s%" G_GINT64_FORMAT, ids->len > 1 ? "," : "", id);
}

char *
natterd_store_files_ids (const char *files,
                         GArray     *out)
{
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  GString *literal = g_string_new ("{");
  const char *at = files;
  NatterdStoreFileRef f;

  while (natterd_store_files_next (&at, &f))
    {
      add_file_id (literal, ids, f.main.file);
      if (f.preview.file != 0)
        add_file_id (literal, ids, f.preview.file);
    }
  if (out != NULL)
    g_array_append_vals (out, ids->data, ids->len);
  g_string_append_c (literal, '}');
  return g_string_free (literal, FALSE);
}

/* A copy of a change keeps its message's copy (the strings live there)
 * and its emoji behind it. */
typedef struct {
  NatterdStoreChange   change;
  NatterdStoreMessage *message;
} ChangeCopy;

NatterdStoreChange *
natterd_store_change_copy (const NatterdStoreChange *change)
{
  gsize emoji_len = change->emoji != NULL ? strlen (change->emoji) : 0;
  ChangeCopy *copy = g_malloc (sizeof *copy + string_size (change->emoji, emoji_len));
  char *at = (char *) (copy + 1);

  copy->change = *change;
  copy->message = natterd_store_message_copy (&change->message);
  copy->change.message = *copy->message;
  copy->change.emoji = copy_string (&at, change->emoji, emoji_len);
  return &copy->change;
}

void
natterd_store_change_free (NatterdStoreChange *change)
{
  ChangeCopy *copy = (ChangeCopy *) change;

  if (copy == NULL)
    return;
  g_free (copy->message);
  g_free (copy);
}

NatterdStore *
natterd_store_open (const char  *data_dir,
                    gboolean     synchronous_full,
                    GError     **error)
{
  return natterd_store_sqlite_open (data_dir, synchronous_full, error);
}

NatterdStore *
natterd_store_open_database (const char  *database,
                             const char  *password_file,
                             const char  *data_dir,
                             gboolean     synchronous_full,
                             GError     **error)
{
  if (database == NULL || g_str_equal (database, "sqlite"))
    {
      if (password_file != NULL)
        {
          g_set_error_literal (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_FAILED,
                               "a database password file is for PostgreSQL only (database=sqlite)");
          return NULL;
        }
      return natterd_store_open (data_dir, synchronous_full, error);
    }
  if (natterd_store_pg_is_conninfo (database))
    return natterd_store_pg_open_full (database, password_file,
                                       NATTERD_STORE_CONNECT_RETRY_SECONDS, error);
  /* Not echoed: it may be a connection string with a password, mistyped. */
  g_set_error_literal (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_FAILED,
                       "unknown database: expected 'sqlite', a postgresql:// URI "
                       "or key=value connection parameters");
  return NULL;
}

void
natterd_store_close (NatterdStore *self)
{
  if (self != NULL)
    self->engine->close (self);
}

NatterdStore *
natterd_store_open_sibling (NatterdStore *self,
                            GError **error)
{
  return self->engine->open_sibling (self, error);
}

NatterdStore *
natterd_store_open_indexer (NatterdStore *self,
                            GError **error)
{
  return self->engine->open_indexer (self, error);
}

NatterdStore *
natterd_store_open_reader (NatterdStore *self,
                           GError **error)
{
  return self->engine->open_reader (self, error);
}

void
natterd_store_set_write_hook (NatterdStore *self,
                              NatterdStoreWriteHook hook,
                              gpointer data)
{
  self->engine->set_write_hook (self, hook, data);
}

void
natterd_store_set_reconnect_in_background (NatterdStore *self,
                                           gboolean      in_background)
{
  self->engine->set_reconnect_in_background (self, in_background);
}

const char *
natterd_store_get_path (NatterdStore *self)
{
  return self->engine->get_path (self);
}

gboolean
natterd_store_is_shared (NatterdStore *self)
{
  return self->engine->shared;
}

int
natterd_store_get_schema_version (NatterdStore *self)
{
  return self->engine->get_schema_version (self);
}

gboolean
natterd_store_begin (NatterdStore *self,
                     GError **error)
{
  return self->engine->begin (self, error);
}

gboolean
natterd_store_commit (NatterdStore *self,
                      GError **error)
{
  return self->engine->commit (self, error);
}

void
natterd_store_rollback (NatterdStore *self)
{
  self->engine->rollback (self);
}

gboolean
natterd_store_in_transaction (NatterdStore *self)
{
  return self->engine->in_transaction (self);
}

gboolean
natterd_store_savepoint (NatterdStore *self,
                         NatterdStoreSavepoint action,
                         GError **error)
{
  return self->engine->savepoint (self, action, error);
}

gboolean
natterd_store_user_insert (NatterdStore *self,
                           const char *username,
                           const char *display_name,
                           const char *password_hash,
                           gint64 created_ms,
                           gint64 *out_id,
                           GError **error)
{
  return self->engine->user_insert (self, username, display_name, password_hash, created_ms, out_id, error);
}

gboolean
natterd_store_users_foreach (NatterdStore *self,
                             NatterdStoreUserFunc func,
                             gpointer user_data,
                             GError **error)
{
  return self->engine->users_foreach (self, func, user_data, error);
}

gboolean
natterd_store_user_set_last_seen (NatterdStore *self,
                                  gint64 user_id,
                                  gint64 last_seen,
                                  GError **error)
{
  return self->engine->user_set_last_seen (self, user_id, last_seen, error);
}

gboolean
natterd_store_user_set_status_text (NatterdStore *self,
                                    gint64 user_id,
                                    const char *status_text,
                                    GError **error)
{
  return self->engine->user_set_status_text (self, user_id, status_text, error);
}

gboolean
natterd_store_user_set_display_name (NatterdStore *self,
                                     gint64        user_id,
                                     const char   *display_name,
                                     GError      **error)
{
  return self->engine->user_set_display_name (self, user_id, display_name, error);
}

gboolean
natterd_store_avatar_set (NatterdStore  *self,
                          gint64         user_id,
                          GBytes        *data,
                          const char    *sha256,
                          GError       **error)
{
  return self->engine->avatar_set (self, user_id, data, sha256, error);
}

gboolean
natterd_store_avatar_get (NatterdStore  *self,
                          gint64         user_id,
                          GBytes       **out,
                          char         **out_sha256,
                          GError       **error)
{
  *out = NULL;
  *out_sha256 = NULL;
  return self->engine->avatar_get (self, user_id, out, out_sha256, error);
}

gboolean
natterd_store_avatars_foreach (NatterdStore           *self,
                               NatterdStoreAvatarFunc  func,
                               gpointer                user_data,
                               GError                **error)
{
  return self->engine->avatars_foreach (self, func, user_data, error);
}

gboolean
natterd_store_user_delete (NatterdStore *self,
                           gint64        user_id,
                           const char   *password_hash,
                           const char   *display_name,
                           GError      **error)
{
  return self->engine->user_delete (self, user_id, password_hash, display_name, error);
}

gboolean
natterd_store_token_insert (NatterdStore *self,
                            const guint8 *hash,
                            gint64 user_id,
                            gint64 expires_ms,
                            GError **error)
{
  return self->engine->token_insert (self, hash, user_id, expires_ms, error);
}

gboolean
natterd_store_token_lookup (NatterdStore *self,
                            const guint8 *hash,
                            gint64 *out_user_id,
                            gint64 *out_expires_ms,
                            GError **error)
{
  return self->engine->token_lookup (self, hash, out_user_id, out_expires_ms, error);
}

gboolean
natterd_store_stats (NatterdStore *self, gint64 *out_messages, gint64 *out_bytes, GError **error)
{
  return self->engine->stats (self, out_messages, out_bytes, error);
}

gboolean
natterd_store_backup (NatterdStore  *self,
                      const char    *dest_path,
                      GCancellable  *cancellable,
                      gint64        *out_bytes,
                      GError       **error)
{
  return self->engine->backup (self, dest_path, cancellable, out_bytes, error);
}

gboolean
natterd_store_token_set_device (NatterdStore *self,
                                const guint8 *hash,
                                const char   *device,
                                const char   *address,
                                GError      **error)
{
  return self->engine->token_set_device (self, hash, device, address, error);
}

gboolean
natterd_store_tokens_of_user (NatterdStore *self, gint64 user_id, NatterdStoreTokenFunc func,
                              gpointer user_data, GError **error)
{
  return self->engine->tokens_of_user (self, user_id, func, user_data, error);
}

gboolean
natterd_store_user_set_password_hash (NatterdStore *self, gint64 user_id, const char *password_hash,
                                      GError **error)
{
  return self->engine->user_set_password_hash (self, user_id, password_hash, error);
}

gboolean
natterd_store_invite_insert (NatterdStore *self, const char *code, gint64 uses, gint64 expires_ms,
                             gint64 created_ms, GError **error)
{
  return self->engine->invite_insert (self, code, uses, expires_ms, created_ms, error);
}

gboolean
natterd_store_invites_foreach (NatterdStore *self, NatterdStoreInviteFunc func, gpointer user_data,
                               GError **error)
{
  return self->engine->invites_foreach (self, func, user_data, error);
}

gboolean
natterd_store_invite_delete (NatterdStore *self, const char *code, gboolean *out_found, GError **error)
{
  return self->engine->invite_delete (self, code, out_found, error);
}

gboolean
natterd_store_invite_consume (NatterdStore *self, const char *code, gint64 now_ms, gboolean *out_ok,
                              GError **error)
{
  return self->engine->invite_consume (self, code, now_ms, out_ok, error);
}

gboolean
natterd_store_token_delete (NatterdStore *self,
                            const guint8 *hash,
                            GError **error)
{
  return self->engine->token_delete (self, hash, error);
}

gboolean
natterd_store_tokens_expire (NatterdStore *self,
                             gint64 now_ms,
                             GError **error)
{
  return self->engine->tokens_expire (self, now_ms, error);
}

gboolean
natterd_store_tokens_revoked (NatterdStore            *self,
                              gint64                   after,
                              NatterdStoreRevokedFunc  func,
                              gpointer                 user_data,
                              gint64                  *out_last,
                              GError                 **error)
{
  return self->engine->tokens_revoked (self, after, func, user_data, out_last, error);
}

gboolean
natterd_store_contact_set (NatterdStore *self,
                           gint64 a,
                           gint64 b,
                           NatterdStoreContactState state,
                           GError **error)
{
  return self->engine->contact_set (self, a, b, state, error);
}

gboolean
natterd_store_contact_lock (NatterdStore            *self,
                            gint64                   a,
                            gint64                   b,
                            NatterdStoreContactPair *out_pair,
                            GError                 **error)
{
  g_return_val_if_fail (natterd_store_in_transaction (self), FALSE);
  return self->engine->contact_lock (self, a, b, out_pair, error);
}

gboolean
natterd_store_contact_delete (NatterdStore *self,
                              gint64 a,
                              gint64 b,
                              GError **error)
{
  return self->engine->contact_delete (self, a, b, error);
}

gboolean
natterd_store_block_set (NatterdStore *self,
                         gint64 user_id,
                         gint64 blocked_id,
                         gint64 ts,
                         GError **error)
{
  return self->engine->block_set (self, user_id, blocked_id, ts, error);
}

gboolean
natterd_store_block_delete (NatterdStore *self,
                            gint64 user_id,
                            gint64 blocked_id,
                            GError **error)
{
  return self->engine->block_delete (self, user_id, blocked_id, error);
}

gboolean
natterd_store_blocks_foreach (NatterdStore *self,
                              NatterdStoreBlockFunc func,
                              gpointer user_data,
                              GError **error)
{
  return self->engine->blocks_foreach (self, func, user_data, error);
}

gboolean
natterd_store_contacts_foreach (NatterdStore *self,
                                NatterdStoreContactFunc func,
                                gpointer user_data,
                                GError **error)
{
  return self->engine->contacts_foreach (self, func, user_data, error);
}

gboolean
natterd_store_direct_ensure (NatterdStore *self,
                             gint64 user_a,
                             gint64 user_b,
                             gint64 *out_id,
                             GError **error)
{
  return self->engine->direct_ensure (self, user_a, user_b, out_id, error);
}

gboolean
natterd_store_room_insert (NatterdStore *self,
                           const char *room,
                           const char *topic,
                           gint64 owner_id,
                           gint64 created_ms,
                           gint64 *out_id,
                           GError **error)
{
  return self->engine->room_insert (self, room, topic, owner_id, created_ms, out_id, error);
}

gboolean
natterd_store_room_set_topic (NatterdStore *self,
                              gint64 conversation_id,
                              const char *topic,
                              GError **error)
{
  return self->engine->room_set_topic (self, conversation_id, topic, error);
}

gboolean
natterd_store_conversations_foreach (NatterdStore *self,
                                     NatterdStoreConversationFunc func,
                                     gpointer user_data,
                                     GError **error)
{
  return self->engine->conversations_foreach (self, func, user_data, error);
}

gboolean
natterd_store_participant_add (NatterdStore *self,
                               gint64 conversation_id,
                               gint64 user_id,
                               GError **error)
{
  return self->engine->participant_add (self, conversation_id, user_id, error);
}

gboolean
natterd_store_participant_remove (NatterdStore *self,
                                  gint64 conversation_id,
                                  gint64 user_id,
                                  GError **error)
{
  return self->engine->participant_remove (self, conversation_id, user_id, error);
}

gboolean
natterd_store_room_rows_foreach (NatterdStore *self,
                                 NatterdStoreRoomRowFunc func,
                                 gpointer user_data,
                                 GError **error)
{
  return self->engine->room_rows_foreach (self, func, user_data, error);
}

gboolean
natterd_store_room_settings_set (NatterdStore *self,
                                 gint64 conversation_id,
                                 const char *display_name,
                                 gboolean is_private,
                                 GError **error)
{
  return self->engine->room_settings_set (self, conversation_id, display_name, is_private, error);
}

gboolean
natterd_store_room_role_set (NatterdStore *self,
                             gint64 conversation_id,
                             gint64 user_id,
                             gboolean admin,
                             GError **error)
{
  return self->engine->room_role_set (self, conversation_id, user_id, admin, error);
}

gboolean
natterd_store_room_owner_set (NatterdStore *self,
                              gint64 conversation_id,
                              gint64 owner_id,
                              GError **error)
{
  return self->engine->room_owner_set (self, conversation_id, owner_id, error);
}

gboolean
natterd_store_room_ban_set (NatterdStore *self,
                            gint64 conversation_id,
                            gint64 user_id,
                            gboolean banned,
                            gint64 by_id,
                            const char *reason,
                            gint64 ts,
                            GError **error)
{
  return self->engine->room_ban_set (self, conversation_id, user_id, banned, by_id, reason, ts, error);
}

gboolean
natterd_store_room_invitation_set (NatterdStore *self,
                                   gint64 conversation_id,
                                   gint64 user_id,
                                   gboolean invited,
                                   gint64 by_id,
                                   gint64 ts,
                                   GError **error)
{
  return self->engine->room_invitation_set (self, conversation_id, user_id, invited, by_id, ts, error);
}

gboolean
natterd_store_room_delete (NatterdStore *self,
                           gint64 conversation_id,
                           GError **error)
{
  return self->engine->room_delete (self, conversation_id, error);
}

gboolean
natterd_store_participants_foreach (NatterdStore *self,
                                    NatterdStoreParticipantFunc func,
                                    gpointer user_data,
                                    GError **error)
{
  return self->engine->participants_foreach (self, func, user_data, error);
}

gboolean
natterd_store_read_marker_set (NatterdStore *self,
                               gint64 conversation_id,
                               gint64 user_id,
                               gint64 up_to,
                               gint64 *out_up_to,
                               gboolean *out_moved,
                               GError **error)
{
  return self->engine->read_marker_set (self, conversation_id, user_id, up_to, out_up_to, out_moved, error);
}

gboolean
natterd_store_message_insert (NatterdStore *self,
                              gint64 conversation_id,
                              gint64 sender_id,
                              const char *body,
                              gsize body_len,
                              gint64 ts,
                              const char *client_msg_id,
                              gboolean *out_duplicate,
                              NatterdStoreMessageFunc func,
                              gpointer user_data,
                              GError **error)
{
  return self->engine->message_insert (self, conversation_id, sender_id, body, body_len, ts, client_msg_id,
                                       0, NULL, NULL, 0, out_duplicate, func, user_data, error);
}

gboolean
natterd_store_message_insert_full (NatterdStore *self,
                                   gint64 conversation_id,
                                   gint64 sender_id,
                                   const char *body,
                                   gsize body_len,
                                   gint64 ts,
                                   const char *client_msg_id,
                                   gint64 reply_to,
                                   const char *mentions,
                                   const char *files,
                                   gint64 hidden_for,
                                   gboolean *out_duplicate,
                                   NatterdStoreMessageFunc func,
                                   gpointer user_data,
                                   GError **error)
{
  return self->engine->message_insert (self, conversation_id, sender_id, body, body_len, ts, client_msg_id,
                                       reply_to, mentions, files != NULL && *files != '\0' ? files : NULL,
                                       hidden_for, out_duplicate, func, user_data, error);
}

gboolean
natterd_store_message_by_id (NatterdStore *self,
                             gint64 id,
                             NatterdStoreMessageFunc func,
                             gpointer user_data,
                             GError **error)
{
  return self->engine->message_by_id (self, id, func, user_data, error);
}

gboolean
natterd_store_change_insert (NatterdStore *self,
                             const NatterdStoreChangeWrite *change,
                             gint64 *out_id,
                             GError **error)
{
  return self->engine->change_insert (self, change, out_id, error);
}

gboolean
natterd_store_changes_since (NatterdStore *self,
                             gint64 user_id,
                             gint64 since,
                             gint64 limit,
                             NatterdStoreChangeFunc func,
                             gpointer user_data,
                             GError **error)
{
  return self->engine->changes_since (self, user_id, since, limit, func, user_data, error);
}

gboolean
natterd_store_changes_between (NatterdStore *self,
                               gint64 after,
                               gint64 before,
                               gint64 limit,
                               NatterdStoreChangeFunc func,
                               gpointer user_data,
                               GError **error)
{
  return self->engine->changes_between (self, after, before, limit, func, user_data, error);
}

gboolean
natterd_store_participant_role (NatterdStore *self,
                                gint64 conversation_id,
                                gint64 user_id,
                                gboolean *out_participant,
                                gboolean *out_owner,
                                GError **error)
{
  return self->engine->participant_role (self, conversation_id, user_id, out_participant, out_owner, error);
}

gboolean
natterd_store_notify_level_set (NatterdStore *self,
                                gint64 conversation_id,
                                gint64 user_id,
                                NatterdNotifyLevel level,
                                gboolean *out_changed,
                                GError **error)
{
  return self->engine->notify_level_set (self, conversation_id, user_id, level, out_changed, error);
}

gboolean
natterd_store_search_index_catch_up (NatterdStore *self,
                                     guint limit,
                                     gint64 *out_indexed_up_to,
                                     GError **error)
{
  return self->engine->search_index_catch_up (self, limit, out_indexed_up_to, error);
}

gboolean
natterd_store_search_index_state (NatterdStore *self,
                                  gint64 *out_indexed_up_to,
                                  gint64 *out_last_message_id,
                                  GError **error)
{
  return self->engine->search_index_state (self, out_indexed_up_to, out_last_message_id, error);
}

gboolean
natterd_store_message_by_client_id (NatterdStore *self,
                                    gint64 sender_id,
                                    const char *client_msg_id,
                                    NatterdStoreMessageFunc func,
                                    gpointer user_data,
                                    GError **error)
{
  return self->engine->message_by_client_id (self, sender_id, client_msg_id, func, user_data, error);
}

gboolean
natterd_store_history (NatterdStore *self,
                       gint64 conversation_id,
                       gint64 before,
                       gint64 limit,
                       NatterdStoreMessageFunc func,
                       gpointer user_data,
                       GError **error)
{
  return self->engine->history (self, 0, conversation_id, before, limit, FALSE, func, user_data, error);
}

gboolean
natterd_store_history_undeleted (NatterdStore *self,
                                 gint64 conversation_id,
                                 gint64 before,
                                 gint64 limit,
                                 NatterdStoreMessageFunc func,
                                 gpointer user_data,
                                 GError **error)
{
  return self->engine->history (self, 0, conversation_id, before, limit, TRUE, func, user_data, error);
}

gboolean
natterd_store_history_as (NatterdStore *self,
                          gint64 viewer_id,
                          gint64 conversation_id,
                          gint64 before,
                          gint64 limit,
                          gboolean skip_deleted,
                          NatterdStoreMessageFunc func,
                          gpointer user_data,
                          GError **error)
{
  return self->engine->history (self, viewer_id, conversation_id, before, limit, skip_deleted,
                                func, user_data, error);
}

gboolean
natterd_store_messages_between (NatterdStore *self,
                                gint64 after,
                                gint64 before,
                                gint64 limit,
                                NatterdStoreMessageFunc func,
                                gpointer user_data,
                                GError **error)
{
  return self->engine->messages_between (self, after, before, limit, func, user_data, error);
}

gboolean
natterd_store_sync (NatterdStore *self,
                    gint64 user_id,
                    gint64 since,
                    gint64 limit,
                    NatterdStoreMessageFunc func,
                    gpointer user_data,
                    GError **error)
{
  return self->engine->sync (self, user_id, since, limit, FALSE, func, user_data, error);
}

gboolean
natterd_store_sync_undeleted (NatterdStore *self,
                              gint64 user_id,
                              gint64 since,
                              gint64 limit,
                              NatterdStoreMessageFunc func,
                              gpointer user_data,
                              GError **error)
{
  return self->engine->sync (self, user_id, since, limit, TRUE, func, user_data, error);
}

gboolean
natterd_store_search (NatterdStore *self,
                      gint64 user_id,
                      const char *query,
                      gint64 conversation_id,
                      gint64 limit,
                      NatterdStoreMessageFunc func,
                      gpointer user_data,
                      GError **error)
{
  return self->engine->search (self, user_id, query, conversation_id, limit, func, user_data, error);
}

gboolean
natterd_store_conversation_summaries (NatterdStore *self,
                                      gint64 user_id,
                                      NatterdStoreSummaryFunc func,
                                      gpointer user_data,
                                      GError **error)
{
  return self->engine->conversation_summaries (self, user_id, func, user_data, error);
}

/* --- files --- */

gboolean
natterd_store_upload_usage (NatterdStore *self, gint64 user_id, gint64 *out_in_progress,
                            gint64 *out_bytes, GError **error)
{
  return self->engine->upload_usage (self, user_id, out_in_progress, out_bytes, error);
}

gboolean
natterd_store_upload_insert (NatterdStore *self, gint64 user_id, gint64 size, const char *sha256,
                             gint64 now_ms, gint64 *out_id, GError **error)
{
  return self->engine->upload_insert (self, user_id, size, sha256, now_ms, out_id, error);
}

gboolean
natterd_store_upload_get (NatterdStore *self, gint64 id, NatterdStoreUpload *out,
                          gboolean *out_found, GError **error)
{
  return self->engine->upload_get (self, id, out, out_found, error);
}

gboolean
natterd_store_upload_update (NatterdStore *self, gint64 id, gint64 now_ms, gint64 file_id,
                             gint64 added, GError **error)
{
  return self->engine->upload_update (self, id, now_ms, file_id, added, error);
}

gboolean
natterd_store_upload_delete (NatterdStore *self, gint64 id, GError **error)
{
  return self->engine->upload_delete (self, id, error);
}

gboolean
natterd_store_chunk_put (NatterdStore *self, gint64 blob_id, gint64 index, const guint8 *data,
                         gsize len, gboolean *out_added, GError **error)
{
  return self->engine->chunk_put (self, blob_id, index, data, len, out_added, error);
}

gboolean
natterd_store_chunks_list (NatterdStore *self, gint64 blob_id, GArray *out, GError **error)
{
  return self->engine->chunks_list (self, blob_id, out, error);
}

gboolean
natterd_store_chunks_drop (NatterdStore *self, gint64 blob_id, GError **error)
{
  return self->engine->chunks_drop (self, blob_id, error);
}

gboolean
natterd_store_file_find (NatterdStore *self, const char *sha256, gint64 *out_id, GError **error)
{
  return self->engine->file_find (self, sha256, out_id, error);
}

gboolean
natterd_store_file_insert (NatterdStore *self, gint64 id, const char *sha256, gint64 size,
                           GError **error)
{
  return self->engine->file_insert (self, id, sha256, size, error);
}

gboolean
natterd_store_file_readable (NatterdStore *self, gint64 file_id, gint64 user_id, gint64 *out_size,
                             char *out_sha256, GError **error)
{
  return self->engine->file_readable (self, file_id, user_id, out_size, out_sha256, error);
}

gboolean
natterd_store_files_expire (NatterdStore *self, gint64 before_ms, GError **error)
{
  return self->engine->files_expire (self, before_ms, error);
}

gboolean
natterd_store_blob_verify (NatterdStore *self, gint64 blob_id, gint64 size, const char *sha256,
                           gboolean *out_match, GError **error)
{
  return self->engine->blob_verify (self, blob_id, size, sha256, out_match, error);
}

gboolean
natterd_store_file_chunk_get (NatterdStore *self, gint64 file_id, gint64 index, GBytes **out,
                              GError **error)
{
  return self->engine->file_chunk_get (self, file_id, index, out, error);
}

gboolean
natterd_store_files_sweep (NatterdStore *self, GError **error)
{
  return self->engine->files_sweep (self, error);
}

gboolean
natterd_store_blob_hash (NatterdStore *store, gint64 blob_id, gint64 size, const char *sha256,
                         NatterdStoreChunkSink sink, gpointer sink_data, gboolean *out_match,
                         GError **error)
{
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  gint64 chunks = natterd_store_chunks_of (size);

  *out_match = FALSE;
  for (gint64 i = 0; i < chunks; i++)
    {
      g_autoptr(GBytes) bytes = NULL;
      gconstpointer data;
      gsize len;

      if (!store->engine->chunk_get (store, blob_id, i, &bytes, error))
        return FALSE;
      if (bytes == NULL)
        return TRUE;
      data = g_bytes_get_data (bytes, &len);
      g_checksum_update (sum, data, len);
      if (sink != NULL && !sink (data, len, sink_data, error))
        return FALSE;
    }
  *out_match = g_str_equal (g_checksum_get_string (sum), sha256);
  return TRUE;
}
