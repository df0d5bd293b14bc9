/* natter-tls-priority.c: see natter-tls-priority.h. GnuTLS's own default
 * (3.7, Debian 12), which glib-networking uses with %COMPAT appended,
 * still offers TLS 1.0 and 1.1 and CBC suites with SHA-1 MACs. */
#include "natter-tls-priority.h"

gboolean
natter_tls_priority_use (const char *priority)
{
  if (g_getenv (NATTER_TLS_PRIORITY_VARIABLE) != NULL)
    return FALSE;
  g_setenv (NATTER_TLS_PRIORITY_VARIABLE, priority, TRUE);
  return TRUE;
}
