/* natter-message-list.c: a conversation's messages as a GListModel. */
#define G_LOG_DOMAIN "natter-message-list"

#include <string.h>

#include "natter-message-list.h"

struct _NatterMessageList
{
  GObject parent_instance;

  GPtrArray  *items;     /* owned NatterMessage: [0, n_stored) by id, then pending */
  guint       n_stored;
  GHashTable *pending;   /* client_msg_id → NatterMessage (borrowed from items) */
};

static void list_model_iface_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (NatterMessageList, natter_message_list, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_iface_init))

static GType
get_item_type (GListModel *model)
{
  return NATTER_TYPE_MESSAGE;
}

static guint
get_n_items (GListModel *model)
{
  return NATTER_MESSAGE_LIST (model)->items->len;
}

static gpointer
get_item (GListModel *model,
          guint       position)
{
  NatterMessageList *self = NATTER_MESSAGE_LIST (model);

  if (position >= self->items->len)
    return NULL;
  return g_object_ref (g_ptr_array_index (self->items, position));
}

static void
list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = get_item_type;
  iface->get_n_items = get_n_items;
  iface->get_item = get_item;
}

static void
natter_message_list_finalize (GObject *object)
{
  NatterMessageList *self = NATTER_MESSAGE_LIST (object);

  g_hash_table_unref (self->pending);
  g_ptr_array_unref (self->items);

  G_OBJECT_CLASS (natter_message_list_parent_class)->finalize (object);
}

static void
natter_message_list_class_init (NatterMessageListClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = natter_message_list_finalize;
}

static void
natter_message_list_init (NatterMessageList *self)
{
  self->items = g_ptr_array_new_with_free_func (g_object_unref);
  self->pending = g_hash_table_new (g_str_hash, g_str_equal);
}

NatterMessageList *
natter_message_list_new (void)
{
  return g_object_new (NATTER_TYPE_MESSAGE_LIST, NULL);
}

static inline gint64
stored_id (NatterMessageList *self,
           guint              i)
{
  return natter_message_get_id (g_ptr_array_index (self->items, i));
}

/* The index of the first stored message with an id >= @id. */
static guint
lower_bound (NatterMessageList *self,
             gint64             id)
{
  guint lo = 0, hi = self->n_stored;

  /* Fast path: new messages are nearly always the newest. */
  if (hi == 0 || stored_id (self, hi - 1) < id)
    return hi;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (stored_id (self, mid) < id)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

static gboolean
has_id_at (NatterMessageList *self,
           guint              pos,
           gint64             id)
{
  return pos < self->n_stored && stored_id (self, pos) == id;
}

/* Inserts @k owned references from @src at @pos without emitting. */
static void
insert_block (NatterMessageList  *self,
              guint               pos,
              NatterMessage     **src,
              guint               k)
{
  guint old_len = self->items->len;

  g_ptr_array_set_size (self->items, old_len + k);
  memmove (&self->items->pdata[pos + k], &self->items->pdata[pos],
           (old_len - pos) * sizeof (gpointer));
  for (guint i = 0; i < k; i++)
    self->items->pdata[pos + i] = g_object_ref (src[i]);
}

gboolean
natter_message_list_insert (NatterMessageList *self,
                            NatterMessage     *message)
{
  gint64 id;
  guint pos;

  g_return_val_if_fail (NATTER_IS_MESSAGE_LIST (self), FALSE);
  g_return_val_if_fail (NATTER_IS_MESSAGE (message), FALSE);

  id = natter_message_get_id (message);
  g_return_val_if_fail (id > 0, FALSE);

  pos = lower_bound (self, id);
  if (has_id_at (self, pos, id))
    return FALSE;

  insert_block (self, pos, &message, 1);
  self->n_stored++;
  g_list_model_items_changed (G_LIST_MODEL (self), pos, 0, 1);
  return TRUE;
}

static int
compare_by_id (gconstpointer a,
               gconstpointer b)
{
  gint64 ia = natter_message_get_id (*(NatterMessage **) a);
  gint64 ib = natter_message_get_id (*(NatterMessage **) b);

  return ia < ib ? -1 : ia > ib ? 1 : 0;
}

guint
natter_message_list_merge (NatterMessageList *self,
                           GPtrArray         *messages)
{
  g_autoptr(GPtrArray) fresh = NULL;
  gint64 prev = 0;
  guint added = 0;

  g_return_val_if_fail (NATTER_IS_MESSAGE_LIST (self), 0);

  if (messages == NULL || messages->len == 0)
    return 0;

  /* Sorted and without duplicates among themselves or with what we have. */
  fresh = g_ptr_array_new_full (messages->len, g_object_unref);
  for (guint i = 0; i < messages->len; i++)
    g_ptr_array_add (fresh, g_object_ref (g_ptr_array_index (messages, i)));
  g_ptr_array_sort (fresh, compare_by_id);
  for (guint i = 0; i < fresh->len; )
    {
      NatterMessage *m = g_ptr_array_index (fresh, i);
      gint64 id = natter_message_get_id (m);
      guint pos;

      if (id <= 0 || id == prev || (pos = lower_bound (self, id), has_id_at (self, pos, id)))
        {
          g_ptr_array_remove_index (fresh, i);
          continue;
        }
      prev = id;
      i++;
    }

  if (fresh->len == 0)
    return 0;

  added = fresh->len;

  if (self->n_stored == 0 ||
      natter_message_get_id (g_ptr_array_index (fresh, 0)) > stored_id (self, self->n_stored - 1))
    {
      /* Newer than everything (sync, catching up): one block at the end. */
      guint pos = self->n_stored;

      insert_block (self, pos, (NatterMessage **) fresh->pdata, fresh->len);
      self->n_stored += fresh->len;
      g_list_model_items_changed (G_LIST_MODEL (self), pos, 0, fresh->len);
    }
  else if (natter_message_get_id (g_ptr_array_index (fresh, fresh->len - 1)) < stored_id (self, 0))
    {
      /* Older than everything (paging history): one block at the start. */
      insert_block (self, 0, (NatterMessage **) fresh->pdata, fresh->len);
      self->n_stored += fresh->len;
      g_list_model_items_changed (G_LIST_MODEL (self), 0, 0, fresh->len);
    }
  else
    {
      /* Interleaved (rare): one by one. */
      for (guint i = 0; i < fresh->len; i++)
        natter_message_list_insert (self, g_ptr_array_index (fresh, i));
    }

  return added;
}

void
natter_message_list_append_pending (NatterMessageList *self,
                                    NatterMessage     *message)
{
  const char *client_msg_id;

  g_return_if_fail (NATTER_IS_MESSAGE_LIST (self));
  g_return_if_fail (NATTER_IS_MESSAGE (message));

  client_msg_id = natter_message_get_client_msg_id (message);
  g_return_if_fail (client_msg_id != NULL);

  g_ptr_array_add (self->items, g_object_ref (message));
  g_hash_table_replace (self->pending, (gpointer) client_msg_id, message);
  g_list_model_items_changed (G_LIST_MODEL (self), self->items->len - 1, 0, 1);
}

gboolean
natter_message_list_settle (NatterMessageList *self,
                            NatterMessage     *pending)
{
  gint64 id;
  guint idx, pos;
  gboolean kept;

  g_return_val_if_fail (NATTER_IS_MESSAGE_LIST (self), FALSE);
  g_return_val_if_fail (NATTER_IS_MESSAGE (pending), FALSE);

  id = natter_message_get_id (pending);
  g_return_val_if_fail (id > 0, FALSE);

  for (idx = self->n_stored; idx < self->items->len; idx++)
    if (g_ptr_array_index (self->items, idx) == pending)
      break;
  if (idx == self->items->len)
    return FALSE;

  g_hash_table_remove (self->pending, natter_message_get_client_msg_id (pending));

  pos = lower_bound (self, id);
  kept = !has_id_at (self, pos, id);

  if (kept && pos == idx)
    {
      /* The usual case: the oldest pending message becomes the newest
       * stored one without moving. */
      self->n_stored++;
      return TRUE;
    }

  g_object_ref (pending);
  g_ptr_array_remove_index (self->items, idx);
  g_list_model_items_changed (G_LIST_MODEL (self), idx, 1, 0);
  if (kept)
    {
      insert_block (self, pos, &pending, 1);
      self->n_stored++;
      g_list_model_items_changed (G_LIST_MODEL (self), pos, 0, 1);
    }
  g_object_unref (pending);
  return kept;
}

NatterMessage *
natter_message_list_find_id (NatterMessageList *self,
                             gint64             id)
{
  guint pos;

  g_return_val_if_fail (NATTER_IS_MESSAGE_LIST (self), NULL);

  pos = lower_bound (self, id);
  return has_id_at (self, pos, id) ? g_ptr_array_index (self->items, pos) : NULL;
}

NatterMessage *
natter_message_list_find_pending (NatterMessageList *self,
                                  const char        *client_msg_id)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE_LIST (self), NULL);

  if (client_msg_id == NULL)
    return NULL;
  return g_hash_table_lookup (self->pending, client_msg_id);
}

NatterMessage *
natter_message_list_get_oldest (NatterMessageList *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE_LIST (self), NULL);
  return self->n_stored > 0 ? g_ptr_array_index (self->items, 0) : NULL;
}

NatterMessage *
natter_message_list_get_newest_stored (NatterMessageList *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE_LIST (self), NULL);
  return self->n_stored > 0 ? g_ptr_array_index (self->items, self->n_stored - 1) : NULL;
}

NatterMessage *
natter_message_list_get_last (NatterMessageList *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE_LIST (self), NULL);
  return self->items->len > 0 ? g_ptr_array_index (self->items, self->items->len - 1) : NULL;
}

guint
natter_message_list_count_after (NatterMessageList *self,
                                 gint64             after_id,
                                 const char        *me)
{
  guint count = 0;

  g_return_val_if_fail (NATTER_IS_MESSAGE_LIST (self), 0);

  for (guint i = lower_bound (self, after_id + 1); i < self->n_stored; i++)
    if (g_strcmp0 (natter_message_get_sender (g_ptr_array_index (self->items, i)), me) != 0)
      count++;
  return count;
}

void
natter_message_list_clear (NatterMessageList *self)
{
  guint n;

  g_return_if_fail (NATTER_IS_MESSAGE_LIST (self));

  n = self->items->len;
  if (n == 0)
    return;
  g_hash_table_remove_all (self->pending);
  g_ptr_array_set_size (self->items, 0);
  self->n_stored = 0;
  g_list_model_items_changed (G_LIST_MODEL (self), 0, n, 0);
}
