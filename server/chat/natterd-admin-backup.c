/* natterd-admin-backup.c: natterctl backup (natterd-admin-private.h;
 * docs/server.md, "Backups").
 *
 * The copy takes as long as the database is big, so it runs on a thread
 * of its own (natterd_store_backup: its own connections, the store's path
 * only), never on the main loop, which only starts it and answers when
 * the thread says it is done. One at a time: a second is refused busy
 * rather than halve the disk's speed for both. natterd stopping cancels
 * it and waits for the thread (natterd_admin_backup_stop).
 */
#define G_LOG_DOMAIN "natterd-admin"

#include "config.h"

#include <string.h>

#include "natterd-admin-private.h"

struct _NatterdAdminBackup {
  NatterdAdminRequest *request;
  NatterdAdminBackup **slot;    /* the admin channel's; NULL once it stopped */
  NatterdStore        *store;   /* the directory's; outlives the thread */
  char                *path;
  GCancellable        *cancellable;
  GThread             *thread;  /* NULL once joined */
  GError              *error;
  gint64               bytes;
  gint64               started; /* monotonic µs */
};

static void
backup_free (NatterdAdminBackup *b)
{
  g_clear_object (&b->cancellable);
  g_clear_error (&b->error);
  g_free (b->path);
  g_free (b);
}

static void
answer (NatterdAdminBackup *b)
{
  NatterdAdminRequest *request = b->request;
  const GError *error = b->error;
  char seconds[G_ASCII_DTOSTR_BUF_SIZE];
  NatterJsonWriter *w;

  if (error == NULL)
    {
      g_message ("natterctl backup: %s written (%" G_GINT64_FORMAT " bytes)", b->path, b->bytes);
      w = natterd_admin_begin_ok (request);
      natter_json_writer_key (w, "path");
      natter_json_writer_string (w, b->path);
      natter_json_writer_key (w, "bytes");
      natter_json_writer_int (w, b->bytes);
      natter_json_writer_key (w, "seconds");
      g_ascii_formatd (seconds, sizeof seconds, "%.3f", (g_get_monotonic_time () - b->started) / 1e6);
      natter_json_writer_raw (w, seconds, strlen (seconds));
      natterd_admin_finish_ok (request);
    }
  else if (g_error_matches (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_NOT_SUPPORTED))
    natterd_admin_error (request, NATTER_ERROR_FORBIDDEN,
                         "%s (natterctl backup copies SQLite only; docs/server.md, \"Backups\")", error->message);
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_EXISTS))
    natterd_admin_error (request, NATTER_ERROR_CONFLICT, "%s: natterctl backup never replaces a file", b->path);
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    natterd_admin_error (request, NATTER_ERROR_SERVER_BUSY, "natterd is stopping: no backup written");
  else if (error->domain == G_IO_ERROR)
    natterd_admin_error (request, NATTER_ERROR_INVALID_ARGUMENT, "%s", error->message);
  else
    natterd_admin_store_error (request, error);
}

static gboolean
backup_done_cb (gpointer user_data)
{
  NatterdAdminBackup *b = user_data;

  if (b->thread != NULL)
    g_thread_join (g_steal_pointer (&b->thread));
  /* Even when natterctl went away meanwhile: the next may start. */
  if (b->slot != NULL && *b->slot == b)
    *b->slot = NULL;
  answer (b);
  backup_free (b);
  return G_SOURCE_REMOVE;
}

static gpointer
backup_thread (gpointer user_data)
{
  NatterdAdminBackup *b = user_data;

  natterd_store_backup (b->store, b->path, b->cancellable, &b->bytes, &b->error);
  g_idle_add (backup_done_cb, b);
  return NULL;
}

/* {"type":"backup","path":"/var/backups/natter.db"}: the path absolute
 * (natterctl makes it so: natterd's working directory is not the
 * operator's). */
void
natterd_admin_backup (NatterdAdminRequest *request,
                      JsonObject          *args)
{
  NatterdDirectory *dir = natterd_admin_request_directory (request);
  NatterdAdminBackup **slot = natterd_admin_request_backup (request);
  NatterdAdminBackup *b;
  const char *path;

  if (!natterd_admin_arg_string (request, args, "path", TRUE, &path))
    return;
  if (!g_path_is_absolute (path))
    {
      natterd_admin_error (request, NATTER_ERROR_INVALID_ARGUMENT, "path must be absolute");
      return;
    }
  if (*slot != NULL)
    {
      natterd_admin_error (request, NATTER_ERROR_SERVER_BUSY, "A backup to %s is under way", (*slot)->path);
      return;
    }
  b = g_new0 (NatterdAdminBackup, 1);
  b->request = request;
  b->slot = slot;
  b->store = dir->store;
  b->path = g_strdup (path);
  b->cancellable = g_cancellable_new ();
  b->started = g_get_monotonic_time ();
  *slot = b;
  b->thread = g_thread_new ("natterd-backup", backup_thread, b);
}

void
natterd_admin_backup_stop (NatterdAdminBackup *b)
{
  if (b == NULL)
    return;
  /* The thread's idle stays queued, and answers nobody if it ever runs. */
  b->slot = NULL;
  g_cancellable_cancel (b->cancellable);
  g_thread_join (g_steal_pointer (&b->thread));
}
