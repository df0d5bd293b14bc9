/* natterd-room-diff.c: room management's part of a refresh (see
 * natterd-room-diff.h).
 */
#define G_LOG_DOMAIN "natterd-directory"

#include "config.h"

#include "natterd-directory-refresh.h"
#include "natterd-room-diff.h"
#include "natterd-room-events.h"

typedef struct {
  NatterdRoomRowKind kind;
  gint64             user_id;
  gint64             by_id;
  char              *text;
  gint64             value;
} Row;

struct _NatterdRoomRows {
  GHashTable *rooms;  /* gint64* conversation id -> GArray of Row */
};

/* A change another node told of (natterd_room_note_change). */
typedef struct {
  gint64 by_id;
  gint64 run;   /* the refresh run that reads after it */
} Told;

static void
row_clear (gpointer data)
{
  g_free (((Row *) data)->text);
}

static void
row_cb (NatterdRoomRowKind  kind,
        gint64              conversation_id,
        gint64              user_id,
        gint64              by_id,
        const char         *text,
        gint64              value,
        gpointer            user_data)
{
  NatterdRoomRows *rows = user_data;
  GArray *of = g_hash_table_lookup (rows->rooms, &conversation_id);
  Row row = { kind, user_id, by_id, g_strdup (text), value };

  if (of == NULL)
    {
      gint64 *key = g_new (gint64, 1);

      *key = conversation_id;
      of = g_array_new (FALSE, FALSE, sizeof (Row));
      g_array_set_clear_func (of, row_clear);
      g_hash_table_insert (rows->rooms, key, of);
    }
  g_array_append_val (of, row);
}

NatterdRoomRows *
natterd_room_rows_read (NatterdStore  *store,
                        GError       **error)
{
  NatterdRoomRows *rows = g_new0 (NatterdRoomRows, 1);

  rows->rooms = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
                                       (GDestroyNotify) g_array_unref);
  if (!natterd_store_room_rows_foreach (store, row_cb, rows, error))
    {
      natterd_room_rows_free (rows);
      return NULL;
    }
  return rows;
}

void
natterd_room_rows_free (NatterdRoomRows *rows)
{
  if (rows == NULL)
    return;
  g_hash_table_unref (rows->rooms);
  g_free (rows);
}

static Row *
find_row (NatterdRoomRows    *rows,
          NatterdRoom        *room,
          NatterdRoomRowKind  kind,
          gint64              user_id)
{
  GArray *of = g_hash_table_lookup (rows->rooms, &room->conversation->id);

  for (guint i = 0; of != NULL && i < of->len; i++)
    {
      Row *row = &g_array_index (of, Row, i);

      if (row->kind == kind && row->user_id == user_id)
        return row;
    }
  return NULL;
}

static char *
told_key (gint64   conversation_id,
          gint64   user_id,
          gboolean removal)
{
  return g_strdup_printf ("%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT ":%c", conversation_id, user_id,
                          removal ? 'r' : 'c');
}

static Told *
find_told (NatterdDirectory *dir,
           gint64            conversation_id,
           gint64            user_id,
           gboolean          removal)
{
  g_autofree char *key = NULL;

  if (dir->room_changes_told == NULL)
    return NULL;
  key = told_key (conversation_id, user_id, removal);
  return g_hash_table_lookup (dir->room_changes_told, key);
}

/* Who made a change, as its node said; NULL when not said. */
static NatterdUser *
told_by (NatterdDirectory *dir,
         gint64            conversation_id,
         gint64            user_id,
         gboolean          removal)
{
  Told *told = find_told (dir, conversation_id, user_id, removal);

  return told != NULL ? natterd_directory_find_user_id (dir, told->by_id) : NULL;
}

const char *
natterd_room_rows_why_gone (NatterdDirectory *dir,
                            NatterdRoomRows  *rows,
                            NatterdRoom      *room,
                            NatterdUser      *user,
                            NatterdUser     **by,
                            const char      **ban_reason)
{
  Row *ban = find_row (rows, room, NATTERD_ROOM_ROW_BAN, user->id);
  Told *removal = find_told (dir, room->conversation->id, user->id, TRUE);

  *ban_reason = NULL;
  if (ban != NULL && natterd_room_find_ban (room, user) == NULL)
    {
      *by = natterd_directory_find_user_id (dir, ban->by_id);
      *ban_reason = ban->text;
      return "banned";
    }
  if (removal != NULL)
    {
      *by = natterd_directory_find_user_id (dir, removal->by_id);
      return "kicked";
    }
  *by = NULL;
  return NULL;
}

NatterdUser *
natterd_room_deleted_by (NatterdDirectory *dir,
                         gint64            conversation_id)
{
  return told_by (dir, conversation_id, 0, TRUE);
}

/* Admins: members only, never the owner (as natterd_room_admin_load).
 * The members whose role changed go into @changed. */
static void
apply_admins (NatterdDirectory *dir,
              NatterdRoomRows  *rows,
              NatterdRoom      *room,
              GPtrArray        *changed)
{
  for (guint i = 0; i < room->members->len; i++)
    {
      NatterdUser *member = room->members->pdata[i];
      gboolean want = member != room->owner &&
                      find_row (rows, room, NATTERD_ROOM_ROW_ADMIN, member->id) != NULL;
      gboolean have = room->admins != NULL && g_hash_table_contains (room->admins, member);

      if (want == have)
        continue;
      natterd_room_set_admin (room, member, want);
      g_ptr_array_add (changed, member);
    }
  /* An owner made an admin elsewhere, the moment before ownership moved. */
  if (room->owner != NULL)
    natterd_room_set_admin (room, room->owner, FALSE);
}

/* The users of @table (a room's bans or invitations; may be NULL) that
 * @want lacks: collected first, since removing them edits @table. */
static GPtrArray *
users_not_wanted (GHashTable *table,
                  GHashTable *want)
{
  GPtrArray *gone = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer user;

  if (table == NULL)
    return gone;
  g_hash_table_iter_init (&iter, table);
  while (g_hash_table_iter_next (&iter, &user, NULL))
    if (!g_hash_table_contains (want, user))
      g_ptr_array_add (gone, user);
  return gone;
}

/* Bans: nobody is told (a banned member was, as they left: see
 * natterd_room_rows_why_gone; an unban tells nobody). */
static void
apply_bans (NatterdDirectory *dir,
            GArray           *of,
            NatterdRoom      *room)
{
  g_autoptr(GHashTable) want = g_hash_table_new (NULL, NULL);
  g_autoptr(GPtrArray) gone = NULL;

  for (guint i = 0; of != NULL && i < of->len; i++)
    {
      Row *row = &g_array_index (of, Row, i);
      NatterdUser *banned = natterd_directory_find_user_id (dir, row->user_id);
      NatterdUser *by = natterd_directory_find_user_id (dir, row->by_id);

      if (row->kind != NATTERD_ROOM_ROW_BAN || banned == NULL)
        continue;
      g_hash_table_add (want, banned);
      /* As loaded: a ban by someone unknown still bans. */
      if (natterd_room_find_ban (room, banned) == NULL)
        natterd_room_set_ban (room, banned, by != NULL ? by : room->owner, row->text, row->value);
    }
  gone = users_not_wanted (room->bans, want);
  for (guint i = 0; i < gone->len; i++)
    natterd_room_set_ban (room, gone->pdata[i], NULL, NULL, 0);
}

/* Invitations: each one made or gone is told to the invited user, as the
 * handlers tell it (a decline, an accepting join, a withdrawal, a ban:
 * "removed"). */
static void
apply_invitations (NatterdDirectory *dir,
                   GArray           *of,
                   NatterdRoom      *room)
{
  g_autoptr(GHashTable) want = g_hash_table_new (NULL, NULL);
  g_autoptr(GPtrArray) gone = NULL;

  for (guint i = 0; of != NULL && i < of->len; i++)
    {
      Row *row = &g_array_index (of, Row, i);
      NatterdUser *invited = natterd_directory_find_user_id (dir, row->user_id);
      NatterdUser *by = natterd_directory_find_user_id (dir, row->by_id);

      if (row->kind != NATTERD_ROOM_ROW_INVITATION || invited == NULL || by == NULL)
        continue;
      g_hash_table_add (want, invited);
      if (natterd_room_find_invitation (room, invited) != NULL)
        continue;
      natterd_room_set_invitation (room, invited, by, row->value);
      natterd_events_room_invitation (room, invited, TRUE, NULL);
    }
  gone = users_not_wanted (room->invitations, want);
  for (guint i = 0; i < gone->len; i++)
    {
      natterd_events_room_invitation (room, gone->pdata[i], FALSE, NULL);
      natterd_room_set_invitation (room, gone->pdata[i], NULL, 0);
    }
}

void
natterd_room_rows_apply (NatterdDirectory *dir,
                         NatterdRoomRows  *rows,
                         NatterdRoom      *room,
                         NatterdUser      *owner_before,
                         gboolean          is_new)
{
  GArray *of = g_hash_table_lookup (rows->rooms, &room->conversation->id);
  g_autoptr(GPtrArray) roles = g_ptr_array_new ();
  const char *display_name = NULL;
  gboolean is_private = FALSE;
  gboolean updated = room->owner != owner_before;

  for (guint i = 0; of != NULL && i < of->len; i++)
    {
      Row *row = &g_array_index (of, Row, i);

      if (row->kind == NATTERD_ROOM_ROW_SETTINGS)
        {
          display_name = row->text;
          is_private = row->value != 0;
        }
    }
  if (g_strcmp0 (display_name, room->display_name) != 0 || is_private != room->is_private)
    {
      g_free (room->display_name);
      room->display_name = g_strdup (display_name);
      room->is_private = is_private;
      updated = TRUE;
    }
  apply_admins (dir, rows, room, roles);
  apply_bans (dir, of, room);
  apply_invitations (dir, of, room);
  if (is_new)
    return;
  /* room_transfer and room_update tell room_updated (whose room carries
   * the admins); room_role tells each role. */
  if (updated)
    {
      /* room_update says it of the room, room_transfer of the new owner. */
      NatterdUser *by = told_by (dir, room->conversation->id, 0, FALSE);

      if (by == NULL && room->owner != NULL)
        by = told_by (dir, room->conversation->id, room->owner->id, FALSE);
      natterd_events_room_updated (room, by, NULL);
    }
  else
    for (guint i = 0; i < roles->len; i++)
      natterd_events_room_role (room, roles->pdata[i],
                                told_by (dir, room->conversation->id, ((NatterdUser *) roles->pdata[i])->id, FALSE),
                                NULL);
}

void
natterd_room_note_change (NatterdDirectory *dir,
                          gint64            conversation_id,
                          gint64            user_id,
                          gboolean          removal,
                          gint64            by_id)
{
  Told *told = g_new0 (Told, 1);

  if (dir->room_changes_told == NULL)
    dir->room_changes_told = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  told->by_id = by_id;
  /* The change is committed (it is said after the commit, before the
   * notice): the run that reads after this call sees it. */
  told->run = natterd_directory_refresh (dir);
  g_hash_table_replace (dir->room_changes_told, told_key (conversation_id, user_id, removal), told);
}

void
natterd_room_forget_changes (NatterdDirectory *dir,
                             gint64            run)
{
  GHashTableIter iter;
  gpointer value;

  if (dir->room_changes_told == NULL)
    return;
  g_hash_table_iter_init (&iter, dir->room_changes_told);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (((Told *) value)->run <= run)
      g_hash_table_iter_remove (&iter);
}
