/* natter-message-list.c: a conversation's messages as a GListModel.
 *
 * The items live in one buffer with free room at both ends: paging in
 * older history prepends a page, and with room only at the end (a
 * GPtrArray) every page moved every message already held, which made
 * paging back through a conversation quadratic (a quarter of the time of
 * paging back through 1,000,000 messages went to memmove). An insert
 * moves the shorter side instead.
 */
#define G_LOG_DOMAIN "natter-message-list"

#include <string.h>

#include "natter-message-list.h"
#include "natter-message-private.h"

struct _NatterMessageList
{
  GObject parent_instance;

  /* owned NatterMessage at buf[head] .. buf[head + len - 1]: [0, n_stored)
   * by id, then pending */
  NatterMessage **buf;
  guint       head;
  guint       len;
  guint       cap;
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
  return NATTER_MESSAGE_LIST (model)->len;
}

static gpointer
get_item (GListModel *model,
          guint       position)
{
  NatterMessageList *self = NATTER_MESSAGE_LIST (model);

  if (position >= self->len)
    return NULL;
  return g_object_ref (self->buf[self->head + position]);
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
  for (guint i = 0; i < self->len; i++)
    g_object_unref (self->buf[self->head + i]);
  g_free (self->buf);

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
  self->pending = g_hash_table_new (g_str_hash, g_str_equal);
}

NatterMessageList *
natter_message_list_new (void)
{
  return g_object_new (NATTER_TYPE_MESSAGE_LIST, NULL);
}

/* The message at position @i (borrowed). */
static inline NatterMessage *
item_at (NatterMessageList *self,
         guint              i)
{
  return self->buf[self->head + i];
}

/* The stored part's order: a message with id N sorts as 2N, a notice
 * after N (natter_message_new_notice) as 2N + 1, so it stands after
 * message N and before N + 1. */
static inline gint64
sort_key (NatterMessage *message)
{
  if (natter_message_is_notice (message))
    return 2 * natter_message_get_after_id (message) + 1;
  return 2 * natter_message_get_id (message);
}

static inline gint64
stored_key (NatterMessageList *self,
            guint              i)
{
  return sort_key (item_at (self, i));
}

/* The index of the first stored item with a sort key >= @key. */
static guint
lower_bound_key (NatterMessageList *self,
                 gint64             key)
{
  guint lo = 0, hi = self->n_stored;

  /* Fast path: new messages are nearly always the newest. */
  if (hi == 0 || stored_key (self, hi - 1) < key)
    return hi;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (stored_key (self, mid) < key)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

/* The index of the first stored item at or after the message @id. */
static guint
lower_bound (NatterMessageList *self,
             gint64             id)
{
  return lower_bound_key (self, 2 * id);
}

static gboolean
has_id_at (NatterMessageList *self,
           guint              pos,
           gint64             id)
{
  return pos < self->n_stored && stored_key (self, pos) == 2 * id;
}

/* A new buffer twice the size needed for @k more, the items in its middle. */
static void
grow (NatterMessageList *self,
      guint              k)
{
  guint cap = MAX (16, 2 * (self->len + k));
  guint head = (cap - self->len) / 2;
  NatterMessage **buf = g_new (NatterMessage *, cap);

  if (self->len > 0)
    memcpy (&buf[head], &self->buf[self->head], self->len * sizeof (gpointer));
  g_free (self->buf);
  self->buf = buf;
  self->head = head;
  self->cap = cap;
}

/* Inserts @k new references to @src's messages at @pos without emitting,
 * moving whichever side of @pos is shorter. */
static void
insert_block (NatterMessageList  *self,
              guint               pos,
              NatterMessage     **src,
              guint               k)
{
  if (pos < self->len - pos)
    {
      if (self->head < k)
        grow (self, k);
      memmove (&self->buf[self->head - k], &self->buf[self->head], pos * sizeof (gpointer));
      self->head -= k;
    }
  else
    {
      if (self->head + self->len + k > self->cap)
        grow (self, k);
      memmove (&self->buf[self->head + pos + k], &self->buf[self->head + pos],
               (self->len - pos) * sizeof (gpointer));
    }
  self->len += k;
  for (guint i = 0; i < k; i++)
    self->buf[self->head + pos + i] = g_object_ref (src[i]);
}

/* Drops the item at @pos without emitting; returns the reference it held. */
static NatterMessage *
steal_at (NatterMessageList *self,
          guint              pos)
{
  NatterMessage *message = item_at (self, pos);

  if (pos < self->len - 1 - pos)
    {
      memmove (&self->buf[self->head + 1], &self->buf[self->head], pos * sizeof (gpointer));
      self->head++;
    }
  else
    memmove (&self->buf[self->head + pos], &self->buf[self->head + pos + 1],
             (self->len - 1 - pos) * sizeof (gpointer));
  self->len--;
  return message;
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
      sort_key (g_ptr_array_index (fresh, 0)) > stored_key (self, self->n_stored - 1))
    {
      /* Newer than everything (sync, catching up): one block at the end. */
      guint pos = self->n_stored;

      insert_block (self, pos, (NatterMessage **) fresh->pdata, fresh->len);
      self->n_stored += fresh->len;
      g_list_model_items_changed (G_LIST_MODEL (self), pos, 0, fresh->len);
    }
  else if (sort_key (g_ptr_array_index (fresh, fresh->len - 1)) < stored_key (self, 0))
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

  insert_block (self, self->len, &message, 1);
  g_hash_table_replace (self->pending, (gpointer) client_msg_id, message);
  g_list_model_items_changed (G_LIST_MODEL (self), self->len - 1, 0, 1);
}

/* The index of @pending among the pending messages, or self->len. */
static guint
pending_index (NatterMessageList *self,
               NatterMessage     *pending)
{
  guint idx;

  for (idx = self->n_stored; idx < self->len; idx++)
    if (item_at (self, idx) == pending)
      break;
  return idx;
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

  idx = pending_index (self, pending);
  if (idx == self->len)
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

  steal_at (self, idx);
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

gboolean
natter_message_list_remove_pending (NatterMessageList *self,
                                    NatterMessage     *pending)
{
  guint idx;

  g_return_val_if_fail (NATTER_IS_MESSAGE_LIST (self), FALSE);
  g_return_val_if_fail (NATTER_IS_MESSAGE (pending), FALSE);

  idx = pending_index (self, pending);
  if (idx == self->len)
    return FALSE;

  g_hash_table_remove (self->pending, natter_message_get_client_msg_id (pending));
  steal_at (self, idx);
  g_list_model_items_changed (G_LIST_MODEL (self), idx, 1, 0);
  g_object_unref (pending);
  return TRUE;
}

NatterMessage *
natter_message_list_find_id (NatterMessageList *self,
                             gint64             id)
{
  guint pos;

  g_return_val_if_fail (NATTER_IS_MESSAGE_LIST (self), NULL);

  pos = lower_bound (self, id);
  return has_id_at (self, pos, id) ? item_at (self, pos) : NULL;
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

gint
natter_message_list_find_position (NatterMessageList *self,
                                    gint64             id)
{
  guint pos;

  g_return_val_if_fail (NATTER_IS_MESSAGE_LIST (self), -1);

  pos = lower_bound (self, id);
  return has_id_at (self, pos, id) ? (gint) pos : -1;
}

void
natter_message_list_insert_notice (NatterMessageList *self,
                                   NatterMessage     *notice)
{
  guint pos;

  g_return_if_fail (NATTER_IS_MESSAGE_LIST (self));
  g_return_if_fail (NATTER_IS_MESSAGE (notice) && natter_message_is_notice (notice));

  /* After the notices already there for that place, in arrival order. */
  pos = lower_bound_key (self, sort_key (notice) + 1);
  insert_block (self, pos, &notice, 1);
  self->n_stored++;
  g_list_model_items_changed (G_LIST_MODEL (self), pos, 0, 1);
}

/* Notices are few and never more than a handful in a row: the scans
 * below that step over them are short. */
NatterMessage *
natter_message_list_get_oldest (NatterMessageList *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE_LIST (self), NULL);

  for (guint i = 0; i < self->n_stored; i++)
    if (!natter_message_is_notice (item_at (self, i)))
      return item_at (self, i);
  return NULL;
}

NatterMessage *
natter_message_list_get_newest_stored (NatterMessageList *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE_LIST (self), NULL);

  for (guint i = self->n_stored; i > 0; i--)
    if (!natter_message_is_notice (item_at (self, i - 1)))
      return item_at (self, i - 1);
  return NULL;
}

NatterMessage *
natter_message_list_get_last (NatterMessageList *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE_LIST (self), NULL);

  if (self->len > self->n_stored)
    return item_at (self, self->len - 1);
  return natter_message_list_get_newest_stored (self);
}

guint
natter_message_list_count_after (NatterMessageList *self,
                                 gint64             after_id,
                                 const char        *me)
{
  guint count = 0;

  g_return_val_if_fail (NATTER_IS_MESSAGE_LIST (self), 0);

  for (guint i = lower_bound (self, after_id + 1); i < self->n_stored; i++)
    if (!natter_message_is_notice (item_at (self, i)) &&
        g_strcmp0 (natter_message_get_sender (item_at (self, i)), me) != 0)
      count++;
  return count;
}

void
natter_message_list_clear (NatterMessageList *self)
{
  guint n;

  g_return_if_fail (NATTER_IS_MESSAGE_LIST (self));

  n = self->len;
  if (n == 0)
    return;
  g_hash_table_remove_all (self->pending);
  for (guint i = 0; i < n; i++)
    g_object_unref (item_at (self, i));
  self->len = 0;
  self->head = self->cap / 2;
  self->n_stored = 0;
  g_list_model_items_changed (G_LIST_MODEL (self), 0, n, 0);
}
