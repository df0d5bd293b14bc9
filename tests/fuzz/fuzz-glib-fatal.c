/* fuzz-glib-fatal.c: the start of the protocol targets. A GLib warning or
 * critical (a g_return_if_fail that an input reached) is a bug the fuzzer
 * should stop at and report, like a crash. */
#include <glib.h>

#include "fuzz-target.h"

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  return 0;
}
