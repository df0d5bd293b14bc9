/* natter-platform.c: see natter-platform.h. */
#define G_LOG_DOMAIN "natter-platform"

#include "config.h"

#include "natter-platform.h"

#include <string.h>

#include <glib/gstdio.h>
#ifdef G_OS_UNIX
#include <unistd.h> /* fdatasync; fsync, which g_fsync calls here */
#endif

static char *program_path;

gboolean
natter_platform_sync_data (int fd)
{
#ifdef NATTER_LINUX_CALLS
  return fdatasync (fd) == 0;
#else
  return g_fsync (fd) == 0;
#endif
}

void
natter_platform_remember_program (const char *argv0)
{
  g_clear_pointer (&program_path, g_free);
  if (argv0 == NULL || *argv0 == '\0')
    return;
  /* A path (absolute, or relative to where we were started: resolved
   * now, before anything changes the working folder), or a name that
   * the shell found in PATH. */
  if (strchr (argv0, G_DIR_SEPARATOR) != NULL || strchr (argv0, '/') != NULL)
    program_path = g_canonicalize_filename (argv0, NULL);
  else
    program_path = g_find_program_in_path (argv0);
}

char *
natter_platform_program_dir (void)
{
  return program_path != NULL ? g_path_get_dirname (program_path) : NULL;
}
