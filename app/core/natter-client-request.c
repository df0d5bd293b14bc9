/* natter-client-request.c: one request and its reply as a GTask: what the
 * features' simple requests share.
 */
#define G_LOG_DOMAIN "natter-client"

#include "config.h"

#include "natter-client-private.h"

typedef struct {
  JsonObject            *request;
  NatterClientReplyFunc  func;
} RequestData;

static void
request_data_free (RequestData *d)
{
  json_object_unref (d->request);
  g_free (d);
}

static void
request_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  NatterClient *self = g_task_get_source_object (task);
  RequestData *d = g_task_get_task_data (task);
  g_autoptr(JsonObject) reply = NULL;
  GError *error = NULL;
  gpointer value;

  reply = natter_connection_request_finish (NATTER_CONNECTION (object), result, &error);
  if (reply == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (d->func == NULL)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  value = d->func (self, d->request, reply, &error);
  if (value == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, value, g_object_unref);
}

void
natter_client_request (NatterClient          *self,
                       JsonObject            *req,
                       NatterClientReplyFunc  func,
                       gpointer               source_tag,
                       GCancellable          *cancellable,
                       GAsyncReadyCallback    callback,
                       gpointer               user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  RequestData *d = g_new0 (RequestData, 1);

  g_task_set_source_tag (task, source_tag);
  d->request = json_object_ref (req);
  d->func = func;
  g_task_set_task_data (task, d, (GDestroyNotify) request_data_free);

  if (!natter_client_signed_in (self))
    {
      g_task_return_new_error (task, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_NOT_CONNECTED,
                               "Not signed in");
      return;
    }
  natter_connection_request_async (self->connection, req, cancellable,
                                   request_cb, g_steal_pointer (&task));
}

gboolean
natter_client_request_finish_boolean (NatterClient  *self,
                                      GAsyncResult  *result,
                                      gpointer       source_tag,
                                      GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

GListModel *
natter_client_request_finish_model (NatterClient  *self,
                                    GAsyncResult  *result,
                                    gpointer       source_tag,
                                    GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* The array @key of a reply as a model of @type; a missing array is a
 * protocol error, an item the converter refuses is skipped. */
GListStore *
natter_client_request_model_from_reply (NatterClient              *self,
                                        JsonObject                *reply,
                                        const char                *key,
                                        GType                      type,
                                        NatterClientItemFromJson   item_from_json,
                                        GError                   **error)
{
  JsonArray *items = get_array (reply, key);
  GListStore *store;

  if (items == NULL)
    {
      g_set_error (error, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_PROTOCOL,
                   "The server's reply lacks the %s", key);
      return NULL;
    }

  store = g_list_store_new (type);
  for (guint i = 0; i < json_array_get_length (items); i++)
    {
      JsonObject *obj = array_object (items, i);
      g_autoptr(GObject) item = obj != NULL ? item_from_json (self, obj) : NULL;

      if (item != NULL)
        g_list_store_append (store, item);
    }
  return store;
}
