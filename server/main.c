#define G_LOG_DOMAIN "natterd"

#include "config.h"

#include <glib-unix.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <signal.h>
#include <sys/resource.h>
#include <sodium.h>

#include "natterd-chat.h"
#include "natterd-config.h"
#include "natterd-server.h"
#include "natterd-store.h"

static gboolean
quit_cb (gpointer user_data)
{
  GMainLoop *loop = user_data;

  g_message ("Stopping");
  g_main_loop_quit (loop);
  return G_SOURCE_CONTINUE;
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

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(NatterdServer) server = NULL;
  NatterdStore *store = NULL;
  NatterdDirectory *chat = NULL;
  NatterdConfig *config;
  gboolean just_exit = FALSE;

#ifdef __GLIBC__
  /* Fan-out allocates and frees in waves; glibc would hand the top of the
   * heap back to the kernel after each and fault it in again (measured:
   * half of natterd's CPU per delivery). Keep it. */
  mallopt (M_TRIM_THRESHOLD, 256 * 1024 * 1024);
  mallopt (M_TOP_PAD, 16 * 1024 * 1024);
#endif

  /* A peer that hangs up while we write must not kill the process. */
  signal (SIGPIPE, SIG_IGN);
  raise_file_limit ();

  config = natterd_config_from_args (&argc, &argv, &just_exit, &error);
  if (just_exit)
    return 0;
  if (config == NULL)
    {
      g_printerr ("natterd: %s\n", error->message);
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

  store = natterd_store_open (config->data_dir, config->synchronous_full, &error);
  if (store == NULL || (chat = natterd_chat_start (server, store, &error)) == NULL ||
      !natterd_server_listen (server, &error))
    {
      g_printerr ("natterd: %s\n", error->message);
      natterd_server_shutdown (server);
      natterd_chat_stop (chat);
      g_clear_pointer (&store, natterd_store_close);
      return 1;
    }

  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, quit_cb, loop);
  g_unix_signal_add (SIGINT, quit_cb, loop);
  g_main_loop_run (loop);

  natterd_server_shutdown (server);
  natterd_chat_stop (chat);
  natterd_store_close (store);
  return 0;
}
