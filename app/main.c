/* main.c: runs the natter app; everything else lives in natter_ui_lib. */
#define G_LOG_DOMAIN "natter"

#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "natter-application.h"
#include "natter-platform.h"
#include "natter-tls-priority.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(NatterApplication) app = NULL;
  const char *locale_dir;

  setlocale (LC_ALL, "");
  /* NATTER_LOCALEDIR: the translations of a build tree (its po/ folder,
   * where meson puts LANG/LC_MESSAGES/natter.mo), so that the app run
   * from the build (build-aux/run.sh) speaks the user's language without
   * an install. */
  locale_dir = g_getenv ("NATTER_LOCALEDIR");
  bindtextdomain (GETTEXT_PACKAGE, locale_dir != NULL && *locale_dir != '\0' ? locale_dir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  /* Before any thread and any connection: the versions and suites
   * natterd allows, so that the app never agrees to less with a server
   * that offers less (GnuTLS's default still takes TLS 1.0). A
   * G_TLS_GNUTLS_PRIORITY of the user's own is kept. */
  natter_tls_priority_use (NATTER_TLS_PRIORITY);
  natter_platform_remember_program (argv[0]);
  app = natter_application_new ();

  return g_application_run (G_APPLICATION (app), argc, argv);
}
