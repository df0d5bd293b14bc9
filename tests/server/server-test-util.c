#define G_LOG_DOMAIN "natter-test"

#include <stdlib.h>
#include <string.h>

#include "server-test-util.h"

void
util_make_contacts (NatterTestClient *a,
                    NatterTestClient *b)
{
  g_autofree char *bq = natter_test_json_quote (natter_test_client_get_username (b));
  g_autofree char *aq = natter_test_json_quote (natter_test_client_get_username (a));
  g_autoptr(JsonObject) r1 = NULL;
  g_autoptr(JsonObject) r2 = NULL;
  g_autoptr(JsonObject) ev1 = NULL;
  g_autoptr(JsonObject) ev2 = NULL;
  g_autoptr(JsonObject) ev3 = NULL;

  r1 = natter_test_client_request_ok (a, "{\"type\":\"contact_request\",\"username\":%s}", bq);
  ev1 = natter_test_client_wait_type (b, "contact_request");
  r2 = natter_test_client_request_ok (b, "{\"type\":\"contact_accept\",\"username\":%s}", aq);
  ev2 = natter_test_client_wait_type (a, "contact");
  ev3 = natter_test_client_wait_type (b, "contact");
  natter_assert_str (ev2, "change", "added");
  natter_assert_str (ev3, "change", "added");
  /* Presence events may follow an accept (each now sees the other). */
  natter_test_client_sync_ping (a);
  natter_test_client_sync_ping (b);
  natter_test_client_clear_queue (a);
  natter_test_client_clear_queue (b);
}

gint64
util_send (NatterTestClient *c,
           const char       *to,
           const char       *body,
           const char       *client_msg_id)
{
  g_autofree char *t = natter_test_json_quote (to);
  g_autofree char *b = natter_test_json_quote (body);
  g_autofree char *m = natter_test_json_quote (client_msg_id);
  g_autoptr(JsonObject) reply = NULL;
  gint64 id;

  reply = natter_test_client_request_ok (c, "{\"type\":\"send\",\"to\":%s,\"body\":%s,\"client_msg_id\":%s}",
                                         t, b, m);
  id = natter_test_get_int (reply, "message.id");
  g_assert_cmpint (id, >, 0);
  return id;
}

void
util_room_create (NatterTestClient *c,
                  const char       *room)
{
  g_autofree char *r = natter_test_json_quote (room);
  g_autoptr(JsonObject) reply = natter_test_client_request_ok (c, "{\"type\":\"room_create\",\"room\":%s}", r);

  natter_assert_str (reply, "room.room", room);
}

void
util_room_join (NatterTestClient *c,
                const char       *room)
{
  g_autofree char *r = natter_test_json_quote (room);
  g_autoptr(JsonObject) reply = natter_test_client_request_ok (c, "{\"type\":\"room_join\",\"room\":%s}", r);
}

/* register or login with "features":[@feature]. */
static NatterTestClient *
feature_client (NatterTestServer *srv,
                const char       *type,
                const char       *username,
                const char       *feature)
{
  NatterTestClient *c = natter_test_client_new (srv);
  g_autoptr(JsonObject) r = natter_test_client_request_ok (c,
      "{\"type\":\"%s\",\"username\":\"%s\",\"password\":\"%s\",\"features\":[\"%s\"]}",
      type, username, NATTER_TEST_PASSWORD, feature);

  util_assert_strings (natter_test_get_array (r, "features"), feature, NULL);
  return c;
}

NatterTestClient *
util_feature_user (NatterTestServer *srv,
                   const char       *username,
                   const char       *feature)
{
  return feature_client (srv, "register", username, feature);
}

NatterTestClient *
util_feature_login (NatterTestServer *srv,
                    const char       *username,
                    const char       *feature)
{
  return feature_client (srv, "login", username, feature);
}

GArray *
util_message_ids (JsonArray *messages)
{
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (gint64));

  for (guint i = 0; i < json_array_get_length (messages); i++)
    {
      JsonObject *m = json_array_get_object_element (messages, i);
      gint64 id = natter_test_get_int (m, "id");

      g_array_append_val (ids, id);
    }
  return ids;
}

static void
assert_names (JsonArray  *array,
              gboolean    users,
              va_list     args)
{
  g_autoptr(GPtrArray) expected = g_ptr_array_new ();
  g_autoptr(GPtrArray) actual = g_ptr_array_new ();
  const char *name;
  gboolean ok;

  while ((name = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (expected, (gpointer) name);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      if (users)
        {
          JsonObject *u = json_array_get_object_element (array, i);

          g_assert_nonnull (u);
          g_ptr_array_add (actual, (gpointer) natter_test_get_str (u, "username"));
        }
      else
        g_ptr_array_add (actual, (gpointer) json_array_get_string_element (array, i));
    }

  ok = expected->len == actual->len;
  for (guint i = 0; ok && i < expected->len; i++)
    {
      gboolean found = FALSE;

      for (guint j = 0; j < actual->len; j++)
        found = found || g_strcmp0 (expected->pdata[i], actual->pdata[j]) == 0;
      ok = found;
    }
  if (!ok)
    {
      g_autoptr(JsonNode) node = json_node_new (JSON_NODE_ARRAY);
      g_autofree char *text = NULL;
      GString *exp = g_string_new (NULL);

      json_node_set_array (node, array);
      text = json_to_string (node, FALSE);
      for (guint i = 0; i < expected->len; i++)
        g_string_append_printf (exp, "%s ", (char *) expected->pdata[i]);
      g_error ("expected exactly [ %s] (any order), got %.2000s", exp->str, text);
    }
}

void
util_assert_usernames (JsonArray *users,
                       ...)
{
  va_list args;

  va_start (args, users);
  assert_names (users, TRUE, args);
  va_end (args);
}

void
util_assert_strings (JsonArray *names,
                     ...)
{
  va_list args;

  va_start (args, names);
  assert_names (names, FALSE, args);
  va_end (args);
}

JsonObject *
util_find_user (JsonArray  *users,
                const char *username)
{
  for (guint i = 0; i < json_array_get_length (users); i++)
    {
      JsonObject *u = json_array_get_object_element (users, i);

      if (u != NULL && g_strcmp0 (json_object_get_string_member_with_default (u, "username", ""),
                                  username) == 0)
        return u;
    }
  return NULL;
}

JsonObject *
util_wait_presence (NatterTestClient *c,
                    const char       *username)
{
  for (;;)
    {
      JsonObject *ev = natter_test_client_wait_type (c, "presence");

      if (g_strcmp0 (natter_test_get_str (ev, "user.username"), username) == 0)
        return ev;
      json_object_unref (ev);
    }
}

JsonObject *
util_wait_message (NatterTestClient *c,
                   gint64            id)
{
  for (;;)
    {
      JsonObject *event = natter_test_client_wait_type (c, "message");
      gint64 got = natter_test_get_int (event, "message.id");

      if (got == id)
        return event;
      g_assert_cmpint (got, <, id);
      json_object_unref (event);
    }
}

static void
assert_member_type (JsonObject *obj,
                    const char *member,
                    GType       type,
                    gboolean    nullable)
{
  JsonNode *node = json_object_get_member (obj, member);
  gboolean ok;

  if (node == NULL)
    ok = FALSE;
  else if (JSON_NODE_HOLDS_NULL (node))
    ok = nullable;
  else
    ok = JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == type;
  if (!ok)
    {
      g_autofree char *text = natter_test_to_string (obj);

      g_error ("field \"%s\" missing or of the wrong type (%s%s) in %.2000s",
               member, g_type_name (type), nullable ? " or null" : "", text);
    }
}

void
util_assert_user_object (JsonObject *user)
{
  const char *presence;

  assert_member_type (user, "username", G_TYPE_STRING, FALSE);
  assert_member_type (user, "display_name", G_TYPE_STRING, FALSE);
  assert_member_type (user, "presence", G_TYPE_STRING, FALSE);
  assert_member_type (user, "status_text", G_TYPE_STRING, TRUE);
  assert_member_type (user, "last_seen", G_TYPE_INT64, TRUE);
  assert_member_type (user, "avatar", G_TYPE_STRING, TRUE);
  presence = natter_test_get_str (user, "presence");
  g_assert_true (g_str_equal (presence, "online") || g_str_equal (presence, "away")
                 || g_str_equal (presence, "busy") || g_str_equal (presence, "offline"));
}

void
util_assert_message_object (JsonObject *message)
{
  assert_member_type (message, "id", G_TYPE_INT64, FALSE);
  assert_member_type (message, "conversation", G_TYPE_STRING, FALSE);
  assert_member_type (message, "from", G_TYPE_STRING, FALSE);
  assert_member_type (message, "body", G_TYPE_STRING, FALSE);
  assert_member_type (message, "ts", G_TYPE_INT64, FALSE);
  assert_member_type (message, "client_msg_id", G_TYPE_STRING, FALSE);
  g_assert_cmpint (natter_test_get_int (message, "id"), >, 0);
  /* The server sets ts from its clock: within a minute of ours. */
  g_assert_cmpint (ABS (natter_test_get_int (message, "ts") - util_now_ms ()), <, 60000);
}

gint64
util_now_ms (void)
{
  return g_get_real_time () / 1000;
}

void
util_assert_contains (const char *haystack,
                      const char *needle)
{
  if (strstr (haystack, needle) == NULL)
    g_error ("expected \"%s\" in:\n%s", needle, haystack);
}

char *
util_repeat (char  c,
             gsize n)
{
  char *s = g_malloc (n + 1);

  memset (s, c, n);
  s[n] = '\0';
  return s;
}

void
util_assert_over_limit (NatterTestServer *server)
{
  g_autoptr(NatterTestClient) busy = NULL;
  g_autoptr(GError) error = NULL;
  gboolean saw_busy = FALSE;

  busy = natter_test_client_try_new_from (natter_test_server_get_port (server),
                                          natter_test_server_get_tls (server), NULL, FALSE, &error);
  g_assert_no_error (error);
  natter_test_client_assert_closed (busy);
  /* It got server_busy before the close, and no welcome. */
  for (;;)
    {
      g_autoptr(JsonObject) f = natter_test_client_try_next (busy, 0, NULL);

      if (f == NULL)
        break;
      g_assert_cmpstr (natter_test_get_str (f, "type"), !=, "welcome");
      if (g_strcmp0 (json_object_get_string_member_with_default (f, "code", ""), "server_busy") == 0)
        saw_busy = TRUE;
    }
  g_assert_true (saw_busy);
}

/* The process is found by its --data-dir argument: the harness keeps its
 * GSubprocess to itself. */
int
util_natterd_pid (NatterTestServer *server)
{
  const char *data_dir = natter_test_server_get_data_dir (server);
  g_autoptr(GDir) proc = g_dir_open ("/proc", 0, NULL);
  const char *name;

  g_assert_nonnull (proc);
  while ((name = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *cmdline_path = g_build_filename ("/proc", name, "cmdline", NULL);
      g_autofree char *cmdline = NULL;
      gboolean ours = FALSE;
      gsize len;

      if (!g_ascii_isdigit (name[0]) || !g_file_get_contents (cmdline_path, &cmdline, &len, NULL))
        continue;
      for (gsize i = 0; i < len; i += strlen (cmdline + i) + 1)
        ours |= g_str_equal (cmdline + i, data_dir);
      if (ours && g_str_has_suffix (cmdline, "natterd"))
        return atoi (name);
    }
  g_error ("no natterd process with --data-dir %s", data_dir);
}

gint64
util_proc_status_kb (int         pid,
                     const char *field)
{
  g_autofree char *status_path = g_strdup_printf ("/proc/%d/status", pid);
  g_autofree char *status = NULL;
  g_autofree char *key = g_strconcat ("\n", field, ":", NULL);
  const char *at;

  g_assert_true (g_file_get_contents (status_path, &status, NULL, NULL));
  at = strstr (status, key);
  g_assert_nonnull (at);
  return g_ascii_strtoll (at + strlen (key), NULL, 10);
}

gint64
util_natterd_peak_kb (NatterTestServer *server)
{
  return util_proc_status_kb (util_natterd_pid (server), "VmHWM");
}

GHashTable *
util_sync_all (NatterTestClient *c)
{
  GHashTable *by_cmid = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  gint64 since = 0, last = 0;

  for (guint round = 0; round < 100; round++)
    {
      g_autoptr(JsonObject) s = natter_test_client_request_ok (c,
          "{\"type\":\"sync\",\"since\":%" G_GINT64_FORMAT ",\"limit\":1000}", since);
      JsonArray *ms = natter_test_get_array (s, "messages");

      for (guint i = 0; i < json_array_get_length (ms); i++)
        {
          JsonObject *m = json_array_get_object_element (ms, i);
          const char *cmid = natter_test_get_str (m, "client_msg_id");
          gint64 id = natter_test_get_int (m, "id");

          if (g_hash_table_contains (by_cmid, cmid))
            g_error ("client_msg_id %s is stored twice", cmid);
          g_assert_cmpint (id, >, last);
          last = id;
          g_hash_table_insert (by_cmid, g_strdup (cmid), g_memdup2 (&id, sizeof id));
        }
      since = natter_test_get_int (s, "last_id");
      if (!natter_test_get_bool (s, "has_more"))
        return by_cmid;
    }
  g_error ("sync never ended");
}

const char *
util_last_line (const char *text)
{
  const char *end = text + strlen (text);
  const char *p = end > text ? end - 1 : end;

  while (p > text && p[-1] != '\n')
    p--;
  return p;
}
