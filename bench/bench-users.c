/* bench-users.c: benchmark accounts and rooms, made once and remembered.
 *
 * Registering costs an argon2id hash (tens of milliseconds of server CPU), so
 * accounts are registered in parallel once and their tokens kept in a cache
 * file ("user NAME TOKEN" lines); later runs log in with the tokens, which
 * costs no hashing. "mark TEXT" lines remember setup that is done (a room
 * with its members).
 */
#define G_LOG_DOMAIN "natter-bench"

#include "config.h"

#include <string.h>

#include "bench.h"

BenchUsers *
bench_users_load (const char *cache_path)
{
  BenchUsers *u = g_new0 (BenchUsers, 1);
  g_autofree char *text = NULL;

  u->cache_path = g_strdup (cache_path);
  u->tokens = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  u->marks = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  if (cache_path && g_file_get_contents (cache_path, &text, NULL, NULL))
    {
      g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
      guint i;

      for (i = 0; lines[i]; i++)
        {
          if (g_str_has_prefix (lines[i], "user "))
            {
              g_auto(GStrv) f = g_strsplit (lines[i] + 5, " ", 2);

              if (f[0] && f[1])
                g_hash_table_replace (u->tokens, g_strdup (f[0]), g_strdup (f[1]));
            }
          else if (g_str_has_prefix (lines[i], "mark "))
            g_hash_table_add (u->marks, g_strdup (lines[i] + 5));
        }
    }
  return u;
}

static void
users_save (BenchUsers *u)
{
  GString *s;
  GHashTableIter it;
  gpointer k, v;
  g_autoptr(GError) error = NULL;

  if (!u->cache_path)
    return;
  s = g_string_new (NULL);
  g_hash_table_iter_init (&it, u->tokens);
  while (g_hash_table_iter_next (&it, &k, &v))
    g_string_append_printf (s, "user %s %s\n", (char *) k, (char *) v);
  g_hash_table_iter_init (&it, u->marks);
  while (g_hash_table_iter_next (&it, &k, NULL))
    g_string_append_printf (s, "mark %s\n", (char *) k);
  if (!g_file_set_contents_full (u->cache_path, s->str, s->len, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error))
    g_printerr ("natter-bench: cannot save %s: %s\n", u->cache_path, error->message);
  g_string_free (s, TRUE);
}

void
bench_users_free (BenchUsers *u)
{
  if (!u)
    return;
  g_hash_table_unref (u->tokens);
  g_hash_table_unref (u->marks);
  g_free (u->cache_path);
  g_free (u);
}

const char *
bench_users_token (BenchUsers *u, const char *username)
{
  return g_hash_table_lookup (u->tokens, username);
}

gboolean
bench_users_has_mark (BenchUsers *u, const char *mark)
{
  return g_hash_table_contains (u->marks, mark);
}

void
bench_users_add_mark (BenchUsers *u, const char *mark)
{
  g_hash_table_add (u->marks, g_strdup (mark));
  users_save (u);
}

char *
bench_username (const char *prefix, guint i)
{
  return g_strdup_printf ("%s%u", prefix, i);
}

/* ---- registration ------------------------------------------------------- */

typedef struct {
  guint64     done;
  guint64     failed;
  const char *room;     /* for joins */
  gboolean    create;   /* room_create instead of room_join */
} SetupGroup;

static void
reg_ready (BenchConn *c, gint64 now)
{
  SetupGroup *g = c->group;

  bench_conn_close (c);
  __atomic_fetch_add (&g->done, 1, __ATOMIC_RELEASE);
}

static void
reg_line (BenchConn *c, char *line, gsize len, gint64 now)
{
}

static void
reg_closed (BenchConn *c, const char *why)
{
  SetupGroup *g = c->group;

  if (c->auth == BENCH_AUTH_REGISTER && c->error_code && g_str_equal (c->error_code, "username_taken"))
    {
      /* Registered by an earlier run whose cache is gone: log in instead. */
      c->auth = BENCH_AUTH_PASSWORD;
      bench_conn_restart (c);
      return;
    }
  if (c->error_code && g_str_equal (c->error_code, "rate_limited"))
    {
      bench_conn_restart (c);
      return;
    }
  g_printerr ("natter-bench: %s: %s (%s)\n", c->username, why, c->error_code ? c->error_code : "-");
  __atomic_fetch_add (&g->failed, 1, __ATOMIC_RELEASE);
  __atomic_fetch_add (&g->done, 1, __ATOMIC_RELEASE);
}

static const BenchConnOps reg_ops = { reg_ready, reg_line, reg_closed };

gboolean
bench_users_ensure (BenchUsers *u, BenchEngine *e, const char *prefix, guint count, GError **error)
{
  g_autoptr(GPtrArray) conns = g_ptr_array_new ();
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  SetupGroup g = { 0 };
  gint64 t0 = bench_now_ns ();
  guint i, missing = 0;

  for (i = 0; i < count; i++)
    {
      char *name = bench_username (prefix, i);

      if (bench_users_token (u, name))
        {
          g_free (name);
          continue;
        }
      g_ptr_array_add (names, name);
    }
  missing = names->len;
  if (missing == 0)
    return TRUE;
  g_print ("registering %u users %s0..%s%u (argon2id, once; tokens kept in %s)\n",
           missing, prefix, prefix, count - 1, u->cache_path ? u->cache_path : "memory");
  for (i = 0; i < missing; i++)
    {
      BenchConn *c = bench_conn_new (bench_engine_worker (e, i), &reg_ops, &g, i,
                                     BENCH_AUTH_REGISTER, names->pdata[i], BENCH_PASSWORD);

      g_ptr_array_add (conns, c);
      bench_conn_start (c);
    }
  bench_wait_counter (&g.done, missing, G_MAXINT64);
  for (i = 0; i < missing; i++)
    {
      BenchConn *c = conns->pdata[i];

      if (c->token)
        g_hash_table_replace (u->tokens, g_strdup (c->username), g_strdup (c->token));
    }
  bench_engine_drop_conns (e);
  users_save (u);
  g_print ("registered %u users in %.1f s (%.1f/s)\n", missing,
           (bench_now_ns () - t0) / 1e9, missing / ((bench_now_ns () - t0) / 1e9));
  if (g.failed)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%" G_GUINT64_FORMAT " users could not be registered", g.failed);
      return FALSE;
    }
  return TRUE;
}

/* ---- rooms -------------------------------------------------------------- */

static void
join_ready (BenchConn *c, gint64 now)
{
  SetupGroup *g = c->group;

  bench_conn_sendf (c, "{\"type\":\"%s\",\"id\":2,\"room\":\"%s\"}\n",
                    g->create ? "room_create" : "room_join", g->room);
}

static void
join_line (BenchConn *c, char *line, gsize len, gint64 now)
{
  SetupGroup *g = c->group;
  char type[32];

  if (!bench_frame_type (line, len, type, sizeof type))
    return;
  if (g_str_equal (type, "error") && bench_frame_int (line, len, "re") == 2)
    {
      g_autoptr(JsonNode) node = NULL;
      JsonObject *obj = bench_parse_object (line, len, &node);
      const char *code = obj ? json_object_get_string_member_with_default (obj, "code", "?") : "?";

      /* A member already (an earlier run), or a room made already: fine. */
      if (!g_str_equal (code, "conflict") && !g_str_equal (code, "already_member"))
        {
          g_printerr ("natter-bench: %s on %s: %s\n", c->username, g->room, code);
          __atomic_fetch_add (&g->failed, 1, __ATOMIC_RELEASE);
        }
    }
  else if (!g_str_equal (type, "ok"))
    return; /* an event */
  bench_conn_close (c);
  __atomic_fetch_add (&g->done, 1, __ATOMIC_RELEASE);
}

static void
join_closed (BenchConn *c, const char *why)
{
  SetupGroup *g = c->group;

  g_printerr ("natter-bench: %s: %s (%s)\n", c->username, why, c->error_code ? c->error_code : "-");
  __atomic_fetch_add (&g->failed, 1, __ATOMIC_RELEASE);
  __atomic_fetch_add (&g->done, 1, __ATOMIC_RELEASE);
}

static const BenchConnOps join_ops = { join_ready, join_line, join_closed };

static gboolean
run_joins (BenchUsers *u, BenchEngine *e, SetupGroup *g, const char *prefix,
           guint from, guint to, GError **error)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  guint i, n = to - from;

  for (i = from; i < to; i++)
    {
      char *name = bench_username (prefix, i);
      BenchConn *c;

      g_ptr_array_add (names, name);
      c = bench_conn_new (bench_engine_worker (e, i), &join_ops, g, i, BENCH_AUTH_TOKEN,
                          name, bench_users_token (u, name));
      bench_conn_start (c);
    }
  bench_wait_counter (&g->done, n, G_MAXINT64);
  bench_engine_drop_conns (e);
  if (g->failed)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%" G_GUINT64_FORMAT " joins of %s failed",
                   g->failed, g->room);
      return FALSE;
    }
  return TRUE;
}

gboolean
bench_room_ensure (BenchUsers *u, BenchEngine *e, const char *room, const char *prefix,
                   guint count, GError **error)
{
  g_autofree char *mark = g_strdup_printf ("room %s %s %u", room, prefix, count);
  SetupGroup create = { .room = room, .create = TRUE };
  SetupGroup join = { .room = room };
  gint64 t0 = bench_now_ns ();
  guint i, have = 0;

  if (bench_users_has_mark (u, mark))
    return TRUE;
  /* A smaller room made by an earlier run: join only the rest. */
  for (i = count; i > 0; i--)
    {
      g_autofree char *m = g_strdup_printf ("room %s %s %u", room, prefix, i);

      if (bench_users_has_mark (u, m))
        {
          have = i;
          break;
        }
    }
  if (have == 0 && !run_joins (u, e, &create, prefix, 0, 1, error))
    return FALSE;
  if (!run_joins (u, e, &join, prefix, MAX (have, 1), count, error))
    return FALSE;
  bench_users_add_mark (u, mark);
  g_print ("room %s: %u members ready in %.1f s\n", room, count, (bench_now_ns () - t0) / 1e9);
  return TRUE;
}
