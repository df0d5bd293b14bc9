/* natterd-mentions.c: finding the "@username" mentions of a body, against
 * the users the directory holds (on the main loop, before the message or
 * its edit is queued: the store keeps the ids).
 */
#define G_LOG_DOMAIN "natterd-mentions"

#include "config.h"

#include <string.h>

#include "natterd-cluster.h"
#include "natterd-directory-refresh.h"
#include "natterd-mentions.h"

static gboolean
is_username_char (char c)
{
  return g_ascii_isalnum (c) || c == '_' || c == '.' || c == '-';
}

/* Whether a '@' after the character before @at may start a mention: not
 * inside a word or an address ("a@bob", "x.@bob", "@@bob"). */
static gboolean
may_start_mention (const char *body,
                   const char *at)
{
  gunichar before;

  if (at == body)
    return TRUE;
  before = g_utf8_get_char_validated (g_utf8_find_prev_char (body, at), at - body);
  if (before == (gunichar) -1 || before == (gunichar) -2)
    return TRUE;
  return !(g_unichar_isalnum (before) || g_unichar_ismark (before) ||
           before == '_' || before == '.' || before == '-' || before == '@');
}

/* The user named by the longest prefix of the run @name (@len bytes of
 * username characters) that is a username, or NULL. */
static NatterdUser *
longest_user (NatterdDirectory *directory,
              const char       *name,
              gsize             len)
{
  char lower[NATTER_USERNAME_MAX + 1];

  for (gsize n = MIN (len, NATTER_USERNAME_MAX); n >= NATTER_USERNAME_MIN; n--)
    {
      NatterdUser *user;

      for (gsize i = 0; i < n; i++)
        lower[i] = g_ascii_tolower (name[i]);
      lower[n] = '\0';
      user = natterd_directory_find_user (directory, lower);
      if (user != NULL)
        return user;
    }
  return NULL;
}

char *
natterd_mentions_find (NatterdDirectory *directory,
                       const char       *body,
                       gsize             body_len,
                       gboolean         *out_unknown)
{
  const char *end = body + body_len;
  GString *ids = NULL;
  gint64 found[NATTERD_MENTIONS_MAX];
  guint n_found = 0;

  if (out_unknown != NULL)
    *out_unknown = FALSE;

  for (const char *at = memchr (body, '@', body_len); at != NULL && n_found < NATTERD_MENTIONS_MAX;
       at = memchr (at + 1, '@', end - at - 1))
    {
      const char *name = at + 1, *run_end = name;
      NatterdUser *user;
      gboolean seen = FALSE;

      if (!may_start_mention (body, at))
        continue;
      while (run_end < end && is_username_char (*run_end))
        run_end++;
      user = longest_user (directory, name, run_end - name);
      if (user == NULL)
        {
          if (out_unknown != NULL && run_end - name >= NATTER_USERNAME_MIN)
            *out_unknown = TRUE;
          continue;
        }
      for (guint i = 0; i < n_found && !seen; i++)
        seen = found[i] == user->id;
      if (seen)
        continue;
      found[n_found++] = user->id;
      if (ids == NULL)
        ids = g_string_new (NULL);
      else
        g_string_append_c (ids, ' ');
      g_string_append_printf (ids, "%" G_GINT64_FORMAT, user->id);
    }
  return ids != NULL ? g_string_free (ids, FALSE) : NULL;
}

gboolean
natterd_mentions_find_for (NatterdRequest *request,
                           const char     *body,
                           gsize           body_len,
                           char          **out_mentions)
{
  NatterdDirectory *dir = natterd_directory_from_request (request);
  gboolean unknown = FALSE;

  *out_mentions = natterd_mentions_find (dir, body, body_len, &unknown);
  if (unknown && natterd_cluster_directory_may_lag (dir->cluster) &&
      natterd_directory_refresh_wait (dir, request))
    {
      g_clear_pointer (out_mentions, g_free);
      return FALSE;
    }
  return TRUE;
}
