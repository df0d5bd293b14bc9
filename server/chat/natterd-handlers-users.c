/* natterd-handlers-users.c: set_presence, user_search, user_info. */
#define G_LOG_DOMAIN "natterd-handlers"

#include "config.h"

#include <string.h>

#include "natterd-handlers-private.h"

#define USER_SEARCH_DEFAULT 20
#define USER_SEARCH_CAP     50

/* {"type":"set_presence","presence":"away","status_text":"lunch"}.
 * status_text absent keeps the current one; "" clears it. */
void
natterd_handle_set_presence (NatterdRequest *request)
{
  NatterdDirectory *dir = natterd_directory_from_request (request);
  NatterdConnection *connection = natterd_request_get_connection (request);
  NatterdUser *user = natterd_session_request_user (request);
  const char *presence_str, *status_text;
  NatterPresence presence;
  gboolean status_changed = FALSE;

  if (!natterd_arg_string (request, "presence", TRUE, &presence_str) ||
      !natterd_arg_string (request, "status_text", FALSE, &status_text))
    return;
  if (!natter_presence_from_string (presence_str, FALSE, &presence))
    {
      natterd_request_error (request, NATTER_ERROR_INVALID_ARGUMENT,
                             "presence must be online, away or busy");
      return;
    }
  if (status_text != NULL && *status_text != '\0' && !natter_status_text_is_valid (status_text))
    {
      natterd_request_error (request, NATTER_ERROR_INVALID_ARGUMENT,
                             "status_text must be at most 128 characters without control characters");
      return;
    }

  if (status_text != NULL)
    {
      const char *new_text = *status_text ? status_text : NULL;

      if (g_strcmp0 (new_text, user->status_text) != 0)
        {
          /* Written with the next group commit: the status needs no
           * fsync of its own, and is answered at once. */
          natterd_presence_store_status_text (dir, user, new_text);
          g_free (user->status_text);
          user->status_text = g_strdup (new_text);
          status_changed = TRUE;
        }
    }

  natterd_session_set_presence (connection, presence);
  natterd_presence_update (dir, user, status_changed, connection);
  natterd_request_ok (request);
}

static int
compare_users (gconstpointer a,
               gconstpointer b)
{
  const NatterdUser *ua = *(NatterdUser *const *) a;
  const NatterdUser *ub = *(NatterdUser *const *) b;
  return strcmp (ua->username, ub->username);
}

/* Prefix match on the username or the display name, case-insensitive,
 * sorted by username. Scans memory: users are all there. */
void
natterd_handle_user_search (NatterdRequest *request)
{
  NatterdDirectory *dir = natterd_directory_from_request (request);
  NatterdUser *me = natterd_session_request_user (request);
  g_autoptr(GPtrArray) found = g_ptr_array_new ();
  g_autofree char *folded = NULL;
  const char *query;
  GHashTableIter iter;
  gpointer value;
  gint64 limit;
  NatterJsonWriter *w;

  if (!natterd_arg_string (request, "query", TRUE, &query) ||
      !natterd_arg_limit (request, USER_SEARCH_DEFAULT, USER_SEARCH_CAP, &limit))
    return;
  if (*query == '\0' || strlen (query) > NATTER_SEARCH_QUERY_MAX)
    {
      natterd_request_error (request, NATTER_ERROR_INVALID_ARGUMENT,
                             "query must be 1 to 256 bytes");
      return;
    }
  folded = g_utf8_casefold (query, -1);

  g_hash_table_iter_init (&iter, dir->users_by_name);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      NatterdUser *user = value;

      /* Nobody finds a deleted account (it is nobody to talk to). */
      if (natterd_auth_hash_is_deleted (user->password_hash))
        continue;
      if (g_str_has_prefix (user->username, folded) ||
          g_str_has_prefix (user->display_folded, folded))
        g_ptr_array_add (found, user);
    }
  g_ptr_array_sort (found, compare_users);

  w = natterd_request_begin_ok (request);
  natter_json_writer_key (w, "users");
  natter_json_writer_begin_array (w);
  for (guint i = 0; i < found->len && i < limit; i++)
    natterd_presence_write_user (w, found->pdata[i], me);
  natter_json_writer_end_array (w);
  natterd_request_finish_ok (request);
}

void
natterd_handle_user_info (NatterdRequest *request)
{
  NatterdUser *me = natterd_session_request_user (request);
  NatterdUser *user = natterd_arg_user_or_deleted (request, "username");
  NatterJsonWriter *w;

  if (user == NULL)
    return;
  w = natterd_request_begin_ok (request);
  natter_json_writer_key (w, "user");
  natterd_presence_write_user (w, user, me);
  natterd_request_finish_ok (request);
}
