#define G_LOG_DOMAIN "natterd"

#include "config.h"

#include <glib.h>
#ifdef G_OS_UNIX
#include <glib-unix.h>
#endif
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sodium.h>

#include "natterd-admin.h"
#include "natterd-metrics.h"
#include "natterd-chat.h"
#include "natterd-config.h"
#include "natterd-platform.h"
#include "natterd-server.h"
#include "natterd-store.h"
#include "natterd-store-import.h"
#include "natterd-tls-policy.h"

/* g_print and g_printerr convert to the locale's charset and turn what it
 * cannot show into '?': under LANG=C (a bare service, a container) GLib's
 * own quotes and ellipses, in its messages and in --help ("Key file
 * contains line \u201cfoo\u201d", "[OPTION\u2026]"), came out as "?foo?".
 * natterd's own messages are ASCII; these handlers give GLib's typographic
 * marks their ASCII look-alikes when the charset cannot show them. */
static void
print_folded (const char *string,
              FILE       *stream)
{
  const char *charset;
  g_autoptr(GString) folded = NULL;
  g_autofree char *converted = NULL;

  if (g_get_charset (&charset))
    {
      fputs (string, stream);
      fflush (stream);
      return;
    }
  folded = g_string_new (NULL);
  for (const char *p = string; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char_validated (p, -1);

      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          /* Not UTF-8 (a file name): left to the conversion below. */
          g_string_append (folded, p);
          break;
        }
      if (c == 0x2018 || c == 0x2019 || c == 0x201C || c == 0x201D)
        g_string_append_c (folded, '\'');
      else if (c == 0x2013 || c == 0x2014)
        g_string_append_c (folded, '-');
      else if (c == 0x2026)
        g_string_append (folded, "...");
      else
        g_string_append_unichar (folded, c);
    }
  converted = g_convert_with_fallback (folded->str, -1, charset, "UTF-8", "?", NULL, NULL, NULL);
  fputs (converted != NULL ? converted : folded->str, stream);
  fflush (stream);
}

static void
print_cb (const char *string)
{
  print_folded (string, stdout);
}

static void
printerr_cb (const char *string)
{
  print_folded (string, stderr);
}

static gboolean
quit_cb (gpointer user_data)
{
  GMainLoop *loop = user_data;

  g_message ("Stopping");
  g_main_loop_quit (loop);
  return G_SOURCE_CONTINUE;
}

/* natterd --import-sqlite FILE: copies FILE into the PostgreSQL database
 * and exits, serving nothing and touching no data directory. */
static int
import_sqlite (const NatterdConfig *config)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *counts_text = NULL;
  NatterdStoreImportCounts counts;
  gint64 start = g_get_monotonic_time ();

  if (!natterd_store_import_sqlite (config->import_sqlite, config->database,
                                    config->password_file, &counts, &error))
    {
      g_printerr ("natterd: import failed: %s\n", error->message);
      return 1;
    }
  counts_text = natterd_store_import_counts_format (&counts);
  g_print ("imported %s: %s: all match (%.1f s)\n", config->import_sqlite, counts_text,
           (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC);
  return 0;
}

/* Each connection is a file descriptor; the usual soft limit of 1024 would
 * cap a server far below what it can hold. */
static void
raise_file_limit (void)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max)
    {
      limit.rlim_cur = limit.rlim_max;
      if (setrlimit (RLIMIT_NOFILE, &limit) != 0)
        g_debug ("Could not raise the file limit");
    }
}

/* glibc hands back the top of a heap when it is freed, but never the
 * free pages between live allocations: after a burst (a login storm,
 * a fan-out wave) they stay resident until malloc_trim gives them back.
 * Once a minute costs the bursts little (docs/reliability.md, "Soak"). */
#define RELEASE_MEMORY_SECONDS 60

static gboolean
release_memory_cb (gpointer user_data)
{
  natterd_platform_release_free_memory ();
  return G_SOURCE_CONTINUE;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(NatterdServer) server = NULL;
  NatterdStore *store = NULL;
  NatterdDirectory *chat = NULL;
  NatterdAdmin *admin = NULL;
  NatterdMetrics *metrics = NULL;
  NatterdConfig *config;
  gboolean just_exit = FALSE;

  /* SIGPIPE ignored; malloc tuned for fan-out's waves (glibc). */
  natterd_platform_init ();

  /* Only for the charset of messages (see print_folded): natterd formats
   * nothing by locale. */
  setlocale (LC_CTYPE, "");
  g_set_print_handler (print_cb);
  g_set_printerr_handler (printerr_cb);
  /* The log is stderr, every level of it: GLib would write debug and info
   * lines to stdout, where nobody may read them (a pipe that fills then
   * blocks the thread that logs) and where they would mix with the
   * "listening" line. */
  g_log_writer_default_set_use_stderr (TRUE);

  /* Every file natterd makes (natter.db and search.db with their -wal and
   * -shm, which SQLite creates 0644 less the umask, the certificate, its
   * key) holds accounts or messages, or is ours alone: whatever the data
   * directory and the caller's umask, nobody else may read them. */
  umask (S_IRWXG | S_IRWXO);
  raise_file_limit ();

  config = natterd_config_from_args (&argc, &argv, &just_exit, &error);
  if (just_exit)
    return 0;
  if (config == NULL)
    {
      g_printerr ("natterd: %s\n", error->message);
      return 2;
    }

  if (config->import_sqlite != NULL)
    {
      int status = import_sqlite (config);

      natterd_config_free (config);
      return status;
    }

  /* Before any thread or TLS connection exists (it sets the environment
   * glib-networking reads at the first connection). */
  if (config->tls && !natterd_tls_policy_apply (&error))
    {
      g_printerr ("natterd: %s\n", error->message);
      natterd_config_free (config);
      return 2;
    }

  if (sodium_init () < 0)
    {
      g_printerr ("natterd: libsodium could not initialise\n");
      return 1;
    }

  /* The three layers (docs/architecture.md): the network layer locks the
   * data directory first, then the store opens in it and the chat layer
   * loads from it and installs itself as the server's service. */
  server = natterd_server_new (config, &error);
  if (server == NULL)
    {
      g_printerr ("natterd: %s\n", error->message);
      return 1;
    }
  config = (NatterdConfig *) natterd_server_get_config (server);

  store = natterd_store_open_database (config->database, config->password_file,
                                       config->data_dir, config->synchronous_full, &error);
  /* The main loop's store: a lost database is connected again off the
   * loop, which never waits for it (the other threads' stores may). */
  if (store != NULL)
    natterd_store_set_reconnect_in_background (store, TRUE);

  /* Before natterd says "listening": a SIGTERM right after (a test, or
   * systemd stopping a service it just started) must stop it cleanly, not
   * kill it with the default action. One that comes while it starts is
   * handled once the loop runs. Not before the store is open: waiting for
   * a PostgreSQL server that does not answer (up to 30 s) runs no loop, and
   * a SIGTERM then must end natterd at once (it has nothing to close yet),
   * not be held until the wait gives up. */
  loop = g_main_loop_new (NULL, FALSE);
#ifdef G_OS_UNIX
  g_unix_signal_add (SIGTERM, quit_cb, loop);
  g_unix_signal_add (SIGINT, quit_cb, loop);
#endif

  /* natterctl's socket is there before natterd says "listening". */
  if (store == NULL || (chat = natterd_chat_start (server, store, &error)) == NULL ||
      (admin = natterd_admin_new (chat, &error)) == NULL ||
      (config->metrics != NULL && (metrics = natterd_metrics_new (chat, config->metrics, &error)) == NULL) ||
      !natterd_server_listen (server, &error))
    {
      g_printerr ("natterd: %s\n", error->message);
      natterd_metrics_free (metrics);
      natterd_admin_free (admin);
      natterd_server_shutdown (server);
      natterd_chat_stop (chat);
      g_clear_pointer (&store, natterd_store_close);
      return 1;
    }

  g_timeout_add_seconds (RELEASE_MEMORY_SECONDS, release_memory_cb, NULL);
  g_main_loop_run (loop);

  /* natterctl first: nothing it asks may start while the rest stops. */
  natterd_metrics_free (metrics);
  natterd_admin_free (admin);
  natterd_server_shutdown (server);
  natterd_chat_stop (chat);
  natterd_store_close (store);
  return 0;
}
