#define G_LOG_DOMAIN "natterd-chat"

#include "config.h"

#include "natter-features.h"
#include "natterd-auth.h"
#include "natterd-chat.h"
#include "natterd-cluster.h"
#include "natterd-commit.h"
#include "natterd-directory-refresh.h"
#include "natterd-handlers.h"
#include "natterd-presence.h"
#include "natterd-reads.h"
#include "natterd-search-feed.h"
#include "natterd-session.h"

static const NatterdHandler *
lookup_cb (gpointer    data,
           const char *type)
{
  return natterd_handlers_lookup (type);
}

static void
connection_closed_cb (gpointer           data,
                      NatterdConnection *connection)
{
  natterd_session_end (data, connection);
}

static guint
count_online_cb (gpointer data)
{
  return natterd_presence_count_online (data);
}

/* Called when the server stops, before it closes the connections. */
static void
flush_cb (gpointer data)
{
  NatterdDirectory *self = data;

  self->stopping = TRUE;
  /* The waiting last_seen values go in with the last batch. */
  natterd_presence_flush (self);
  /* From here a send is delivered as soon as it commits. */
  natterd_cluster_stop (self->cluster);
  if (self->commit != NULL)
    natterd_commit_flush (self->commit);
  if (self->search_feed != NULL)
    natterd_search_feed_flush (self->search_feed);
  if (self->reads != NULL)
    natterd_reads_flush (self->reads);
  if (self->file_reads != NULL)
    natterd_reads_flush (self->file_reads);
}

static const NatterdService chat_service = {
  .lookup            = lookup_cb,
  .connection_closed = connection_closed_cb,
  .count_online      = count_online_cb,
  .flush             = flush_cb,
};

NatterdDirectory *
natterd_chat_start (NatterdServer  *server,
                    NatterdStore   *store,
                    GError        **error)
{
  NatterdDirectory *self = natterd_directory_new (server, store, error);
  const NatterdConfig *config = natterd_server_get_config (server);

  if (self == NULL)
    return NULL;
  if ((self->commit = natterd_commit_new (self, store, error)) == NULL ||
      (self->search_feed = natterd_search_feed_new (self, store, error)) == NULL ||
      (self->reads = natterd_reads_new (store, error)) == NULL ||
      (self->auth = natterd_auth_new (self, error)) == NULL)
    {
      natterd_chat_stop (self);
      return NULL;
    }
  natterd_directory_refresh_init (self);
  /* A node of a cluster: on the bus, and told of the directory's changes
   * there (natterd-cluster.h). */
  if (config->bus != NULL && (self->cluster = natterd_cluster_new (self, config, error)) == NULL)
    {
      natterd_chat_stop (self);
      return NULL;
    }
  /* The file reader (a thread and a connection of its own) only where
   * files are offered: off by default, never on a cluster. */
  if (natterd_config_features_offered (config) & NATTER_FEATURE_FILES)
    {
      if ((self->file_reads = natterd_reads_new (store, error)) == NULL)
        {
          natterd_chat_stop (self);
          return NULL;
        }
      self->files_expiry = natterd_files_start_expiry (self);
    }
  natterd_server_set_service (server, &chat_service, self);
  return self;
}

void
natterd_chat_stop (NatterdDirectory *self)
{
  if (self == NULL)
    return;
  /* The server may outlive us (its finalize shuts down again). */
  natterd_server_set_service (self->server, NULL, NULL);
  /* The auth workers may still finish requests (and so commit). */
  g_clear_pointer (&self->auth, natterd_auth_free);
  g_clear_handle_id (&self->files_expiry, g_source_remove);
  /* Each pipeline's free flushes it, in this order (commits tell the
   * search feed, which resumes searches, which queue reads); the last_seen
   * values of the connections just closed go in with the last batch.
   * flush_cb once more would index a second slice at every stop. */
  self->stopping = TRUE;
  natterd_presence_flush (self);
  natterd_cluster_stop (self->cluster);
  /* Before the commit: a check that finishes here queues its last write
   * there; a chunk committed after it no longer starts a check
   * (natterd-handlers-files.c). */
  g_clear_pointer (&self->file_reads, natterd_reads_free);
  g_clear_pointer (&self->commit, natterd_commit_free);
  g_clear_pointer (&self->search_feed, natterd_search_feed_free);
  g_clear_pointer (&self->reads, natterd_reads_free);
  /* Its reads are answered (and dropped) by now. */
  g_clear_pointer (&self->cluster, natterd_cluster_free);
  natterd_directory_refresh_free (self);
  natterd_directory_free (self);
}
