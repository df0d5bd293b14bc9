/* soak-malloc-stats.c: what glibc's malloc holds inside natterd during a
 * soak, for build-aux/soak.sh MALLOC_STATS=1 (docs/reliability.md,
 * "Soak"). Preloaded into natterd only: a thread that every 10 s appends
 * to $SOAK_MALLOC_STATS "seconds,in_use_kb,free_kb,mapped_kb" (mallinfo2:
 * bytes in live allocations, bytes free inside malloc's heaps, bytes in
 * chunks of their own mapping), and every minute writes malloc_info()'s
 * XML (one <heap> per arena) next to it. Both take malloc's locks as any
 * malloc does, so they are safe at any moment, unlike a debugger calling
 * them into a stopped process (which can deadlock on an arena's lock).
 * An investigation tool: natterd itself does not depend on it. */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static const char *path;

static void *
sample_main (void *data)
{
  (void) data;
  time_t start = time (NULL);

  for (unsigned n = 0;; n++)
    {
      struct mallinfo2 m = mallinfo2 ();
      long seconds = (long) (time (NULL) - start);
      FILE *f = fopen (path, "a");

      if (f != NULL)
        {
          fprintf (f, "%ld,%zu,%zu,%zu\n", seconds, m.uordblks / 1024, m.fordblks / 1024, m.hblkhd / 1024);
          fclose (f);
        }
      if (n % 6 == 0)
        {
          char xml[4096];
          FILE *x;

          snprintf (xml, sizeof xml, "%s.%ld.xml", path, seconds);
          if ((x = fopen (xml, "w")) != NULL)
            {
              malloc_info (0, x);
              fclose (x);
            }
        }
      sleep (10);
    }
  return NULL;
}

__attribute__ ((constructor)) static void
start_sampling (void)
{
  pthread_t thread;

  path = getenv ("SOAK_MALLOC_STATS");
  if (path == NULL || *path == '\0')
    return;
  /* Not inherited by what natterd might start. */
  unsetenv ("LD_PRELOAD");
  if (pthread_create (&thread, NULL, sample_main, NULL) == 0)
    pthread_detach (thread);
}
