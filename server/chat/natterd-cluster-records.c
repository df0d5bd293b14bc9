/* natterd-cluster-records.c: a message or a change as a record of a
 * publish on the messages channel (the layout in
 * natterd-cluster-records.h).
 */
#define G_LOG_DOMAIN "natterd-cluster"

#include "config.h"

#include <string.h>

#include "natter-validate.h"
#include "natterd-cluster-records.h"
#include "natterd-cluster-wire.h"

#define STATE_FIXED (7 * 8 + 1 + 4 + 2 + 2 + 4 + 2)
#define CHANGE_FIXED (3 * 8 + 3)

enum {
  FLAG_DELETED       = 1 << 0,
  FLAG_REPLY_DELETED = 1 << 1,
  FLAG_QUOTE         = 1 << 2,
};

static gsize
length_of (const char *s)
{
  return s != NULL ? strlen (s) : 0;
}

static gsize
quote_length (const NatterdStoreMessage *m)
{
  return m->reply_body != NULL ? MIN (m->reply_body_len, NATTERD_CLUSTER_RECORD_QUOTE_MAX) : 0;
}

gsize
natterd_cluster_record_size (const NatterdStoreMessage *m)
{
  return 1 + 8 + CHANGE_FIXED + NATTER_EMOJI_MAX + STATE_FIXED + m->body_len +
         length_of (m->client_msg_id) + quote_length (m) + length_of (m->reactions) +
         length_of (m->mentions);
}

static void
put_state (GByteArray                *out,
           const NatterdStoreMessage *m)
{
  gsize id_len = MIN (length_of (m->client_msg_id), NATTER_CLIENT_MSG_ID_MAX);
  gsize reactions_len = length_of (m->reactions), mentions_len = MIN (length_of (m->mentions), G_MAXUINT16);
  gsize quote_len = quote_length (m);
  guint8 flags = (m->deleted ? FLAG_DELETED : 0) | (m->reply_deleted ? FLAG_REPLY_DELETED : 0) |
                 (m->reply_body != NULL ? FLAG_QUOTE : 0);

  natterd_wire_put_u64 (out, m->id);
  natterd_wire_put_u64 (out, m->conversation_id);
  natterd_wire_put_u64 (out, m->sender_id);
  natterd_wire_put_u64 (out, m->ts);
  natterd_wire_put_u64 (out, m->reply_to);
  natterd_wire_put_u64 (out, m->reply_from);
  natterd_wire_put_u64 (out, m->edited_ts);
  g_byte_array_append (out, &flags, 1);
  natterd_wire_put_u32 (out, (guint32) m->body_len);
  natterd_wire_put_u16 (out, (guint16) id_len);
  natterd_wire_put_u16 (out, (guint16) quote_len);
  natterd_wire_put_u32 (out, (guint32) reactions_len);
  natterd_wire_put_u16 (out, (guint16) mentions_len);
  g_byte_array_append (out, (const guint8 *) m->body, m->body_len);
  g_byte_array_append (out, (const guint8 *) m->client_msg_id, id_len);
  g_byte_array_append (out, (const guint8 *) m->reply_body, quote_len);
  g_byte_array_append (out, (const guint8 *) m->reactions, reactions_len);
  g_byte_array_append (out, (const guint8 *) m->mentions, mentions_len);
}

void
natterd_cluster_record_put_message (GByteArray                *out,
                                    const NatterdStoreMessage *m,
                                    gint64                     peer_id)
{
  g_byte_array_append (out, (const guint8 *) "M", 1);
  natterd_wire_put_u64 (out, peer_id);
  put_state (out, m);
}

void
natterd_cluster_record_put_change (GByteArray               *out,
                                   const NatterdStoreChange *change)
{
  guint8 fixed[3] = {
    (guint8) change->kind, change->on ? 1 : 0,
    (guint8) MIN (length_of (change->emoji), NATTER_EMOJI_MAX),
  };

  g_byte_array_append (out, (const guint8 *) "C", 1);
  natterd_wire_put_u64 (out, change->id);
  natterd_wire_put_u64 (out, change->actor_id);
  natterd_wire_put_u64 (out, change->ts);
  g_byte_array_append (out, fixed, 3);
  g_byte_array_append (out, (const guint8 *) change->emoji, fixed[2]);
  put_state (out, &change->message);
}

/* A message's state read off the wire: its strings NUL-terminated
 * copies, freed with decoded_clear. */
typedef struct {
  NatterdStoreMessage m;
  char               *client_msg_id;
  char               *reactions;
  char               *mentions;
} Decoded;

static void
decoded_clear (Decoded *d)
{
  g_free (d->client_msg_id);
  g_free (d->reactions);
  g_free (d->mentions);
}

/* A string of the wire that the store keeps NUL-terminated: none inside. */
static gboolean
take_string (const guint8 *p,
             gsize         len,
             char        **out)
{
  if (len == 0)
    return TRUE;
  if (memchr (p, '\0', len) != NULL)
    return FALSE;
  *out = g_strndup ((const char *) p, len);
  return TRUE;
}

/* The state at *@p (advanced past it); FALSE when it is cut short or
 * malformed. */
static gboolean
read_state (const guint8 **p,
            const guint8  *end,
            Decoded       *d)
{
  const guint8 *q = *p;
  guint32 body_len, reactions_len;
  guint16 id_len, quote_len, mentions_len;
  guint8 flags;

  if ((gsize) (end - q) < STATE_FIXED)
    return FALSE;
  d->m.id = (gint64) natterd_wire_get_u64 (q);
  d->m.conversation_id = (gint64) natterd_wire_get_u64 (q + 8);
  d->m.sender_id = (gint64) natterd_wire_get_u64 (q + 16);
  d->m.ts = (gint64) natterd_wire_get_u64 (q + 24);
  d->m.reply_to = (gint64) natterd_wire_get_u64 (q + 32);
  d->m.reply_from = (gint64) natterd_wire_get_u64 (q + 40);
  d->m.edited_ts = (gint64) natterd_wire_get_u64 (q + 48);
  flags = q[56];
  body_len = natterd_wire_get_u32 (q + 57);
  id_len = natterd_wire_get_u16 (q + 61);
  quote_len = natterd_wire_get_u16 (q + 63);
  reactions_len = natterd_wire_get_u32 (q + 65);
  mentions_len = natterd_wire_get_u16 (q + 69);
  q += STATE_FIXED;
  if (d->m.id <= 0 || body_len > NATTER_BODY_MAX || id_len > NATTER_CLIENT_MSG_ID_MAX ||
      quote_len > NATTERD_CLUSTER_RECORD_QUOTE_MAX ||
      (gsize) (end - q) < (gsize) body_len + id_len + quote_len + reactions_len + mentions_len)
    return FALSE;
  d->m.deleted = (flags & FLAG_DELETED) != 0;
  d->m.reply_deleted = (flags & FLAG_REPLY_DELETED) != 0;
  d->m.body = (const char *) q;
  d->m.body_len = body_len;
  q += body_len;
  if (!take_string (q, id_len, &d->client_msg_id))
    return FALSE;
  q += id_len;
  if (flags & FLAG_QUOTE)
    {
      d->m.reply_body = (const char *) q;
      d->m.reply_body_len = quote_len;
    }
  q += quote_len;
  if (!take_string (q, reactions_len, &d->reactions))
    return FALSE;
  q += reactions_len;
  if (!take_string (q, mentions_len, &d->mentions))
    return FALSE;
  q += mentions_len;
  d->m.client_msg_id = d->client_msg_id;
  d->m.reactions = d->reactions;
  d->m.mentions = d->mentions;
  *p = q;
  return TRUE;
}

gboolean
natterd_cluster_records_read (const guint8             *data,
                              gsize                     len,
                              NatterdClusterRecordFunc  func,
                              gpointer                  user_data)
{
  const guint8 *p = data, *end = data + len;
  gint64 previous = 0;

  while (p < end)
    {
      Decoded d = { 0 };
      NatterdStoreChange change = { 0 };
      char emoji[NATTER_EMOJI_MAX + 1];
      gint64 id = 0, peer_id = 0;
      gboolean ok;
      char kind = (char) *p++;

      if (kind == 'M' && (gsize) (end - p) >= 8)
        {
          peer_id = (gint64) natterd_wire_get_u64 (p);
          p += 8;
          ok = read_state (&p, end, &d);
          id = d.m.id;
        }
      else if (kind == 'C' && (gsize) (end - p) >= CHANGE_FIXED && p[CHANGE_FIXED - 1] <= NATTER_EMOJI_MAX &&
               (gsize) (end - p) >= (gsize) CHANGE_FIXED + p[CHANGE_FIXED - 1])
        {
          guint8 emoji_len = p[CHANGE_FIXED - 1];

          change.id = id = (gint64) natterd_wire_get_u64 (p);
          change.actor_id = (gint64) natterd_wire_get_u64 (p + 8);
          change.ts = (gint64) natterd_wire_get_u64 (p + 16);
          change.kind = (NatterdChangeKind) p[24];
          change.on = p[25] != 0;
          memcpy (emoji, p + CHANGE_FIXED, emoji_len);
          emoji[emoji_len] = '\0';
          p += CHANGE_FIXED + emoji_len;
          ok = (change.kind == NATTERD_CHANGE_EDIT || change.kind == NATTERD_CHANGE_DELETE ||
                (change.kind == NATTERD_CHANGE_REACTION && natter_emoji_is_valid (emoji))) &&
               read_state (&p, end, &d) && d.m.id < change.id;
          if (change.kind == NATTERD_CHANGE_REACTION)
            change.emoji = emoji;
          change.conversation_id = d.m.conversation_id;
          change.message = d.m;
        }
      else
        ok = FALSE;
      if (!ok || id <= previous)
        {
          decoded_clear (&d);
          return FALSE;
        }
      func (id, kind == 'M' ? &d.m : NULL, peer_id, kind == 'C' ? &change : NULL, user_data);
      decoded_clear (&d);
      previous = id;
    }
  return TRUE;
}
