/* fuzz-natterd.c: natterd in-process for a fuzz target (see
 * fuzz-natterd.h).
 */
#include <stdlib.h>

#include <glib/gstdio.h>

#include "natterd-config.h"
#include "fuzz-natterd.h"

static FuzzNatterd *started;

static void
stop (void)
{
  natterd_server_shutdown (started->server);
  natterd_chat_stop (started->chat);
  natterd_store_close (started->store);
  g_clear_object (&started->server);
  {
    const char *rm[] = { "rm", "-rf", started->dir, NULL };
    g_spawn_sync (NULL, (char **) rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
  }
  g_free (started->dir);
}

void
fuzz_natterd_start (FuzzNatterd         *self,
                    const char          *config_text,
                    FuzzNatterdSeedFunc  seed)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *config_path = NULL;
  NatterdConfig *config = natterd_config_new_defaults ();

  g_assert_null (started);
  self->dir = g_dir_make_tmp ("natter-fuzz-XXXXXX", &error);
  g_assert_no_error (error);
  config_path = g_build_filename (self->dir, "natterd.conf", NULL);
  g_file_set_contents (config_path, config_text, -1, &error);
  g_assert_no_error (error);
  natterd_config_load_file (config, config_path, &error);
  g_assert_no_error (error);
  g_free (config->data_dir);
  config->data_dir = g_strdup (self->dir);

  self->server = natterd_server_new (config, &error);
  g_assert_no_error (error);
  config = (NatterdConfig *) natterd_server_get_config (self->server);
  self->store = natterd_store_open_database (config->database, config->password_file,
                                             config->data_dir, config->synchronous_full, &error);
  g_assert_no_error (error);
  if (seed != NULL)
    seed (self->store);
  self->chat = natterd_chat_start (self->server, self->store, &error);
  g_assert_no_error (error);
  started = self;
  atexit (stop);
}
