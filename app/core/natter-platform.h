/* natter-platform.h: the app's calls that differ between systems (see
 * server/net/natterd-platform.h for natterd's, and docs/building.md).
 * Linux gets its own calls unless -Dportable=true; everywhere else,
 * GLib's portable ones. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Makes what was written to @fd durable (fdatasync on Linux: the file's
 * data without its times; g_fsync elsewhere). */
gboolean  natter_platform_sync_data         (int         fd);
/* Remembers how the program was started (argv[0]), from main(). */
void      natter_platform_remember_program  (const char *argv0);
/* The folder of the running program's file, or NULL when it cannot be
 * told: argv[0] made absolute against the working folder at start, or
 * found in PATH. No /proc: Windows and macOS have none. */
char     *natter_platform_program_dir       (void);

G_END_DECLS
