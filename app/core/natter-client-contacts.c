/* natter-client-contacts.c: contacts and contact requests, and finding
 * users: their requests, replies and events.
 */
#define G_LOG_DOMAIN "natter-client"

#include "config.h"

#include "natter-client-private.h"

void
natter_client_contacts_handle_request (NatterClient *self,
                                       JsonObject   *frame)
{
  NatterUser *from = natter_client_intern_user_json (self, get_object (frame, "from"));

  if (from == NULL)
    return;
  store_add_unique (self->incoming, from);
  natter_client_emit_contact_request (self, from);
}

void
natter_client_contacts_handle_contact (NatterClient *self,
                                       JsonObject   *frame)
{
  const char *change = get_string (frame, "change");
  NatterUser *user = natter_client_intern_user_json (self, get_object (frame, "user"));

  if (user == NULL || change == NULL)
    return;

  store_remove_item (self->incoming, user);
  store_remove_item (self->outgoing, user);
  if (g_str_equal (change, "added"))
    store_add_unique (self->contacts, user);
  else if (g_str_equal (change, "removed"))
    store_remove_item (self->contacts, user);
}

/* The contacts and requests a session loads (the reply to "contacts"). */
void
natter_client_contacts_apply_list (NatterClient *self,
                                   JsonObject   *reply)
{
  JsonArray *contacts = get_array (reply, "contacts");
  JsonArray *incoming = get_array (reply, "incoming");
  JsonArray *outgoing = get_array (reply, "outgoing");
  g_autoptr(GPtrArray) users = g_ptr_array_new ();

  for (guint i = 0; i < json_array_get_length (contacts); i++)
    {
      NatterUser *u = natter_client_intern_user_json (self, array_object (contacts, i));
      if (u != NULL)
        g_ptr_array_add (users, u);
    }
  g_list_store_splice (self->contacts, 0, g_list_model_get_n_items (G_LIST_MODEL (self->contacts)),
                       users->pdata, users->len);

  for (guint k = 0; k < 2; k++)
    {
      JsonArray *names = k == 0 ? incoming : outgoing;
      GListStore *store = k == 0 ? self->incoming : self->outgoing;

      g_ptr_array_set_size (users, 0);
      for (guint i = 0; names != NULL && i < json_array_get_length (names); i++)
        {
          JsonNode *node = json_array_get_element (names, i);
          NatterUser *u = NULL;

          if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
            u = natter_client_lookup_user (self, json_node_get_string (node));
          else if (JSON_NODE_HOLDS_OBJECT (node))
            u = natter_client_intern_user_json (self, json_node_get_object (node));
          if (u != NULL)
            g_ptr_array_add (users, u);
        }
      g_list_store_splice (store, 0, g_list_model_get_n_items (G_LIST_MODEL (store)),
                           users->pdata, users->len);
    }
}

static void
contact_request (NatterClient        *self,
                 const char          *type,
                 const char          *username,
                 gpointer             source_tag,
                 GCancellable        *cancellable,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data)
{
  g_autoptr(JsonObject) req = NULL;

  g_return_if_fail (NATTER_IS_CLIENT (self));
  g_return_if_fail (username != NULL);

  req = request_with (type, "username", username);
  natter_client_request (self, req, NULL, source_tag, cancellable, callback, user_data);
}

static void
contact_request_done_cb (GObject      *object,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  NatterClient *self = NATTER_CLIENT (object);
  const char *username = g_task_get_task_data (task);
  GError *error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_task_return_error (task, error);
      return;
    }

  /* Unless it turned into an acceptance (then a contact event came). */
  {
    NatterUser *user = natter_client_lookup_user (self, username);

    if (user != NULL && !store_contains (self->contacts, user, NULL))
      store_add_unique (self->outgoing, user);
  }
  g_task_return_boolean (task, TRUE);
}

void
natter_client_contact_request_async (NatterClient        *self,
                                     const char          *username,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  GTask *task;
  g_autofree char *normalized = NULL;

  g_return_if_fail (NATTER_IS_CLIENT (self));
  g_return_if_fail (username != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, natter_client_contact_request_async);
  normalized = g_ascii_strdown (username, -1);
  g_task_set_task_data (task, g_strdup (normalized), g_free);
  contact_request (self, "contact_request", username, natter_client_contact_request_async,
                   cancellable, contact_request_done_cb, task);
}

gboolean
natter_client_contact_request_finish (NatterClient  *self,
                                      GAsyncResult  *result,
                                      GError       **error)
{
  return natter_client_request_finish_boolean (self, result, natter_client_contact_request_async, error);
}

void
natter_client_contact_accept_async (NatterClient        *self,
                                    const char          *username,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  contact_request (self, "contact_accept", username, natter_client_contact_accept_async,
                   cancellable, callback, user_data);
}

gboolean
natter_client_contact_accept_finish (NatterClient  *self,
                                     GAsyncResult  *result,
                                     GError       **error)
{
  return natter_client_request_finish_boolean (self, result, natter_client_contact_accept_async, error);
}

static void
contact_decline_done_cb (GObject      *object,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  NatterClient *self = NATTER_CLIENT (object);
  GError *error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_task_return_error (task, error);
      return;
    }
  {
    NatterUser *user = natter_client_lookup_user (self, g_task_get_task_data (task));

    if (user != NULL)
      store_remove_item (self->incoming, user);
  }
  g_task_return_boolean (task, TRUE);
}

void
natter_client_contact_decline_async (NatterClient        *self,
                                     const char          *username,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (NATTER_IS_CLIENT (self));
  g_return_if_fail (username != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, natter_client_contact_decline_async);
  g_task_set_task_data (task, g_ascii_strdown (username, -1), g_free);
  contact_request (self, "contact_decline", username, natter_client_contact_decline_async,
                   cancellable, contact_decline_done_cb, task);
}

gboolean
natter_client_contact_decline_finish (NatterClient  *self,
                                      GAsyncResult  *result,
                                      GError       **error)
{
  return natter_client_request_finish_boolean (self, result, natter_client_contact_decline_async, error);
}

void
natter_client_contact_remove_async (NatterClient        *self,
                                    const char          *username,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  contact_request (self, "contact_remove", username, natter_client_contact_remove_async,
                   cancellable, callback, user_data);
}

gboolean
natter_client_contact_remove_finish (NatterClient  *self,
                                     GAsyncResult  *result,
                                     GError       **error)
{
  return natter_client_request_finish_boolean (self, result, natter_client_contact_remove_async, error);
}

/* ---- finding users ----------------------------------------------------- */

static gpointer
user_from_json (NatterClient *self,
                JsonObject   *obj)
{
  NatterUser *user = natter_client_intern_user_json (self, obj);
  return user != NULL ? g_object_ref (user) : NULL;
}

gpointer
natter_client_contacts_users_reply (NatterClient  *self,
                                    JsonObject    *req,
                                    JsonObject    *reply,
                                    GError       **error)
{
  /* user_search answers "users", room_members "members". */
  const char *key = get_array (reply, "users") != NULL ? "users" : "members";

  return natter_client_request_model_from_reply (self, reply, key, NATTER_TYPE_USER,
                                                 user_from_json, error);
}

void
natter_client_user_search_async (NatterClient        *self,
                                 const char          *query,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(JsonObject) req = NULL;

  g_return_if_fail (NATTER_IS_CLIENT (self));
  g_return_if_fail (query != NULL);

  req = request_with ("user_search", "query", query);
  json_object_set_int_member (req, "limit", 20);
  natter_client_request (self, req, natter_client_contacts_users_reply,
                         natter_client_user_search_async, cancellable, callback, user_data);
}

GListModel *
natter_client_user_search_finish (NatterClient  *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  return natter_client_request_finish_model (self, result, natter_client_user_search_async, error);
}
