/* natterd-commit.c: the group commit of sends and read-your-writes.
 *
 * The main loop queues each send (with copies of the names it needs) as a
 * job for the writer thread (natterd-writer.h); the thread commits many in
 * one transaction and hands them back. Only then are they fanned out and
 * acknowledged, in order, in slices (NATTERD_DELIVERY_BUDGET): nothing is
 * delivered or acknowledged that is not durable. A read of the same
 * connection (history, sync, search, conversations) waits for that
 * connection's writes, since the main connection sees only committed rows.
 */
#define G_LOG_DOMAIN "natterd-commit"

#include "config.h"

#include "natterd-cluster.h"
#include "natterd-commit.h"
#include "natterd-deferred.h"
#include "natterd-features.h"
#include "natterd-message-files.h"
#include "natterd-message-object.h"
#include "natterd-blocks.h"
#include "natterd-reads.h"
#include "natterd-search-feed.h"

struct _NatterdCommit {
  NatterdDirectory *directory;        /* borrowed */
  NatterdStore     *store;            /* borrowed: the main loop's connection */
  NatterdWriter    *writer;           /* owned, with its own connection */
  GQueue            deliveries;       /* PendingSend* committed, not yet fanned out and acked */
  guint             delivery_source;
  GHashTable       *writes_in_flight; /* NatterdConnection* -> InFlight (defer_read) */
};

/* A send on its way through the writer thread. The inputs are copies, so
 * that the thread never reads the directory; it fills in the outputs.
 * Also a message another node committed (natterd_commit_deliver_foreign):
 * then it has no request and no connection, and only the outputs. */
typedef struct {
  NatterdCommitWrite   write;       /* its connection is not delivered to */
  NatterdUser         *sender;
  NatterdConversation *conversation;/* of the stored message; NULL until stored when new */
  NatterdUser         *peer;        /* direct only */

  gint64               conversation_id; /* 0: a direct one to get or make */
  gint64               sender_id;
  gint64               peer_id;
  gint64               ts;
  char                *body;
  gsize                body_len;
  char                *client_msg_id;
  char                *from;        /* the sender's username */
  char                *address_for_sender;
  char                *address_for_peer; /* direct with someone else only */

  gint64               reply_to;    /* 0: none */
  char                *mentions;    /* user ids (natterd-mentions.h); NULL: none */
  NatterdSendFiles    *files;       /* feature files; NULL: none */
  char                *files_lines; /* the writer's NATTERD_STORE_FILES of them */
  gint64               hidden_for;  /* the peer, who blocks the sender (natterd-blocks.h); 0: nobody */

  gboolean             duplicate;
  NatterdStoreMessage *original;    /* a duplicate from another conversation: a copy */
  NatterdStoreMessage *stored;      /* the stored message (or the original of a resend): a copy */
  NatterdStoreMessage *replied;     /* reply_to's message, read when checked: a copy */
  gint64               stored_id;
  /* The message object as the sender sees it, and the "message" event
   * frames, in each form (natterd_message_form): those without message
   * actions encoded by the writer thread, those with them on the main
   * loop (the quote, reactions and mentions name users). A form with
   * files is NULL when the message has none: it reads as the form
   * without (form_of). A NULL event is not sent. */
  GString             *as_sender[NATTERD_N_FORMS];
  GBytes              *for_sender[NATTERD_N_FORMS];
  GBytes              *for_peer[NATTERD_N_FORMS];

  /* Not a send: a turn in the deliveries' order (natterd_commit_deliver_in_turn). */
  NatterdCommitTurnFunc turn;
  gpointer             turn_data;
} PendingSend;

static void
pending_send_free (PendingSend *p)
{
  if (p == NULL)
    return;
  natterd_commit_write_clear (&p->write);
  natterd_conversation_release (p->conversation);
  for (guint f = 0; f < NATTERD_N_FORMS; f++)
    {
      if (p->as_sender[f] != NULL)
        g_string_free (p->as_sender[f], TRUE);
      g_clear_pointer (&p->for_sender[f], g_bytes_unref);
      g_clear_pointer (&p->for_peer[f], g_bytes_unref);
    }
  natterd_send_files_free (p->files);
  g_free (p->files_lines);
  g_free (p->original);
  g_free (p->stored);
  g_free (p->replied);
  g_free (p->mentions);
  g_free (p->body);
  g_free (p->client_msg_id);
  g_free (p->from);
  g_free (p->address_for_sender);
  g_free (p->address_for_peer);
  g_free (p);
}

/* What a connection reading @form gets of @forms (see PendingSend). */
static gpointer
form_of (gpointer const *forms,
         guint           form)
{
  return forms[form] != NULL ? forms[form] : forms[form & ~NATTERD_FORM_FILES];
}

/* Returns how many frames it queued. */
static guint
send_to_user (NatterdUser       *user,
              GBytes           **forms,
              NatterdConnection *except)
{
  GList *l = user->connections;
  guint n = 0;

  while (l != NULL)
    {
      GList *next = l->next;
      GBytes *frame = form_of ((gpointer *) forms, natterd_message_form (l->data));

      if (l->data != except && frame != NULL)
        {
          natterd_connection_send_bytes (l->data, frame);
          n++;
        }
      l = next;
    }
  return n;
}

/* Returns how many frames it queued. */
static guint
deliver (PendingSend *p)
{
  NatterdConversation *conv = p->conversation;
  guint n = 0;

  if (conv->kind == NATTERD_CONVERSATION_ROOM)
    {
      GPtrArray *members = conv->room->members;

      /* The hot loop of fan-out: one shared GBytes per form, one queue
       * push per connection. The sender gets it on its other connections. */
      for (guint i = 0; i < members->len; i++)
        {
          NatterdUser *member = members->pdata[i];

          n += send_to_user (member, p->for_sender, p->write.connection);
        }
      return n;
    }

  n += send_to_user (p->sender, p->for_sender, p->write.connection);
  if (p->for_peer[0] != NULL || p->for_peer[NATTERD_FORM_ACTIONS] != NULL)
    {
      NatterdUser *peer = natterd_conversation_peer (conv, p->sender);

      n += send_to_user (peer, p->for_peer, NULL);
    }
  return n;
}

static void
ack (PendingSend *p)
{
  GString *object;

  if (p->write.request == NULL)
    return; /* another node's message */
  object = form_of ((gpointer *) p->as_sender, natterd_message_form (p->write.connection));
  /* The connection may have signed in again, with other features, since
   * the send's forms were made (fuzz-server found it): any form made
   * answers, never a missing one. */
  for (guint f = 0; object == NULL && f < NATTERD_N_FORMS; f++)
    object = p->as_sender[f];
  if (natterd_request_has_id (p->write.request) && object != NULL)
    {
      NatterJsonWriter *w = natterd_request_begin_ok (p->write.request);
      natter_json_writer_key (w, "message");
      natter_json_writer_raw (w, object->str, object->len);
      natterd_request_finish_ok (p->write.request);
    }
  else
    natterd_request_ok (p->write.request);
}

/* Fans out committed messages in order and acks each after its fan-out, at
 * most @budget frames (0: all). Acking after the fan-out, not at the
 * commit, keeps the senders' windows as the brake: a sender cannot run
 * ahead of the deliveries. */
static void
deliver_some (NatterdCommit *self,
              guint          budget)
{
  guint done = 0;
  PendingSend *p;

  while ((budget == 0 || done < budget) &&
         (p = g_queue_pop_head (&self->deliveries)) != NULL)
    {
      if (p->turn != NULL)
        {
          p->turn (p->turn_data);
          done++;
        }
      else
        {
          guint n = p->duplicate ? 0 : deliver (p);

          done += n;
          self->directory->counts.deliveries += n;
          ack (p);
        }
      pending_send_free (p);
    }
}

static gboolean
delivery_idle_cb (gpointer user_data)
{
  NatterdCommit *self = user_data;

  deliver_some (self, NATTERD_DELIVERY_BUDGET);
  if (g_queue_is_empty (&self->deliveries))
    {
      self->delivery_source = 0;
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static void
schedule_deliveries (NatterdCommit *self)
{

  if (self->delivery_source != 0 || g_queue_is_empty (&self->deliveries))
    return;
  /* Default priority, as the sockets have; attached now, it runs in this
   * same main-loop iteration after the writer's completions. */
  self->delivery_source = g_idle_add_full (G_PRIORITY_DEFAULT, delivery_idle_cb, self, NULL);
  g_source_set_name_by_id (self->delivery_source, "natterd-deliveries");
}

/* The message object in @form (@directory may be NULL for a form
 * without message actions: the writer thread's). */
static GString *
encode_form (NatterdDirectory          *directory,
             const NatterdStoreMessage *m,
             const char                *address,
             const char                *from,
             guint                      form)
{
  GString *object = g_string_sized_new (m->body_len + 256);
  gboolean files = (form & NATTERD_FORM_FILES) != 0;

  if ((form & NATTERD_FORM_ACTIONS) != 0)
    natterd_message_object_write_actions (directory, object, m, address, from, files);
  else
    natterd_message_object_write (object, m, address, from, files);
  return object;
}

/* The forms with @actions (or without) of @p's message @m: the sender's
 * objects, and unless @p is a resend (answered, not delivered again) the
 * events, with @events_too. */
static void
encode_forms (PendingSend               *p,
              NatterdDirectory          *directory,
              const NatterdStoreMessage *m,
              gboolean                   actions,
              gboolean                   events_too)
{
  for (guint f = 0; f < NATTERD_N_FORMS; f++)
    {
      if (((f & NATTERD_FORM_ACTIONS) != 0) != actions ||
          ((f & NATTERD_FORM_FILES) != 0 && !natterd_message_has_files (m)))
        continue;
      p->as_sender[f] = encode_form (directory, m, p->address_for_sender, p->from, f);
      if (p->duplicate || !events_too)
        continue;
      p->for_sender[f] = natterd_message_object_event (p->as_sender[f]);
      if (p->address_for_peer != NULL)
        {
          g_autoptr(GString) as_peer = encode_form (directory, m, p->address_for_peer, p->from, f);

          p->for_peer[f] = natterd_message_object_event (as_peer);
        }
    }
}

/* Writer thread: called by the store with the stored message. */
static gboolean
send_inserted_cb (const NatterdStoreMessage *m,
                  gpointer                   user_data)
{
  PendingSend *p = user_data;

  if (m->conversation_id != p->conversation_id)
    {
      /* A resend of a client_msg_id first used in another conversation:
       * the original is the answer; its names are looked up on the main
       * loop. */
      p->original = natterd_store_message_copy (m);
      return TRUE;
    }
  p->ts = m->ts;
  p->stored_id = m->id;
  p->stored = natterd_store_message_copy (m);
  encode_forms (p, NULL, m, FALSE, TRUE);
  return TRUE;
}

static gboolean
copy_original_cb (const NatterdStoreMessage *m,
                  gpointer                   user_data);

/* A reply must answer a message of its conversation that is not deleted
 * (docs/protocol.md, "send, with a reply"); a resend is answered with its
 * original whatever its reply_to. FALSE with not_found. */
static gboolean
check_reply (PendingSend   *p,
             NatterdStore  *store,
             GError       **error)
{
  g_autofree NatterdStoreMessage *resent = NULL;

  if (p->reply_to == 0)
    return TRUE;
  if (!natterd_store_message_by_id (store, p->reply_to, copy_original_cb, &p->replied, error))
    return FALSE;
  if (p->replied != NULL && p->replied->conversation_id == p->conversation_id && !p->replied->deleted)
    return TRUE;
  if (!natterd_store_message_by_client_id (store, p->sender_id, p->client_msg_id,
                                           copy_original_cb, &resent, error))
    return FALSE;
  if (resent != NULL)
    return TRUE;
  g_set_error_literal (error, NATTER_ERROR, NATTER_ERROR_NOT_FOUND,
                       "reply_to is not a message of this conversation");
  return FALSE;
}

/* The files must be the sender's to attach (docs/protocol.md, "send,
 * with files"); a resend is answered with its original whatever files it
 * names. FALSE with not_found. */
static gboolean
check_files (PendingSend   *p,
             NatterdStore  *store,
             GError       **error)
{
  g_autofree NatterdStoreMessage *resent = NULL;
  g_autoptr(GError) refused = NULL;

  if (p->files == NULL)
    return TRUE;
  g_clear_pointer (&p->files_lines, g_free);
  if (natterd_send_files_lines (p->files, store, p->sender_id, &p->files_lines, &refused))
    return TRUE;
  if (refused->domain != NATTER_ERROR)
    {
      g_propagate_error (error, g_steal_pointer (&refused));
      return FALSE;
    }
  if (!natterd_store_message_by_client_id (store, p->sender_id, p->client_msg_id,
                                           copy_original_cb, &resent, error))
    return FALSE;
  if (resent != NULL)
    return TRUE;
  g_propagate_error (error, g_steal_pointer (&refused));
  return FALSE;
}

static gboolean
send_run (NatterdWriteJob *job,
          NatterdStore    *store,
          GError         **error)
{
  PendingSend *p = (PendingSend *) job;

  if (!check_reply (p, store, error) || !check_files (p, store, error))
    return FALSE;

  /* A first message to someone: the conversation commits with it, or
   * neither does. */
  if (p->conversation_id == 0 &&
      !natterd_store_direct_ensure (store, MIN (p->sender_id, p->peer_id), MAX (p->sender_id, p->peer_id),
                                    &p->conversation_id, error))
    return FALSE;
  /* send_inserted_cb may run later, by the COMMIT at the latest (an
   * engine may batch the inserts): send_done checks that it did. */
  return natterd_store_message_insert_full (store, p->conversation_id, p->sender_id, p->body, p->body_len,
                                            p->ts, p->client_msg_id, p->reply_to, p->mentions, p->files_lines,
                                            p->hidden_for, &p->duplicate, send_inserted_cb, p, error);
}

/* The stored message with its reply's quote: a new message's quote is the
 * original read when the reply was checked; a resend's original was read
 * whole from the store. */
static NatterdStoreMessage
stored_with_quote (PendingSend *p)
{
  NatterdStoreMessage m = *p->stored;

  if (!p->duplicate && p->replied != NULL)
    {
      m.reply_from = p->replied->sender_id;
      m.reply_body = p->replied->body;
      m.reply_body_len = p->replied->body_len;
      m.reply_deleted = p->replied->deleted;
    }
  return m;
}

/* Main loop: the forms of the send for connections with message actions. */
static void
encode_actions (NatterdCommit *self,
                PendingSend   *p)
{
  NatterdStoreMessage m = stored_with_quote (p);

  encode_forms (p, self->directory, &m, TRUE, TRUE);
}

/* The stored message @original as its sender sees it. */
static GString *
encode_original (NatterdDirectory          *directory,
                 const NatterdStoreMessage *original,
                 NatterdUser               *sender,
                 NatterdConnection         *connection)
{
  GString *object = g_string_sized_new (original->body_len + 160);

  natterd_message_object_write_for (directory, object, original, sender, natterd_message_form (connection));
  return object;
}

/* A rate-limited send that may be a resend, looked up by the reader
 * thread. */
typedef struct {
  NatterdWriteJob      job;
  NatterdRequest      *request;
  NatterdUser         *sender;
  gint64               sender_id;
  char                *client_msg_id;
  gint64               retry_after_ms;
  NatterdStoreMessage *original;       /* a copy, when found */
} ResendLookup;

static gboolean
copy_original_cb (const NatterdStoreMessage *m,
                  gpointer                   user_data)
{
  NatterdStoreMessage **out = user_data;

  *out = natterd_store_message_copy (m);
  return FALSE;
}

static gboolean
resend_lookup_run (NatterdWriteJob *job,
                   NatterdStore    *store,
                   GError         **error)
{
  ResendLookup *l = (ResendLookup *) job;

  return natterd_store_message_by_client_id (store, l->sender_id, l->client_msg_id,
                                             copy_original_cb, &l->original, error);
}

static void
resend_lookup_done (NatterdWriteJob *job,
                    const GError    *error)
{
  ResendLookup *l = (ResendLookup *) job;

  if (error != NULL)
    g_warning ("Could not look up a resent message: %s", error->message);
  if (l->original != NULL)
    {
      g_autoptr(GString) object = encode_original (natterd_directory_from_request (l->request),
                                                   l->original, l->sender,
                                                   natterd_request_get_connection (l->request));
      NatterJsonWriter *w = natterd_request_begin_ok (l->request);

      natter_json_writer_key (w, "message");
      natter_json_writer_raw (w, object->str, object->len);
      natterd_request_finish_ok (l->request);
    }
  else
    natterd_request_rate_limited (l->request, l->retry_after_ms);
  g_free (l->original);
  g_free (l->client_msg_id);
  g_free (l);
}

void
natterd_commit_answer_resend (NatterdCommit  *self,
                              NatterdRequest *request,
                              NatterdUser    *sender,
                              const char     *client_msg_id,
                              gint64          retry_after_ms)
{
  ResendLookup *l = g_new0 (ResendLookup, 1);

  l->job.run = resend_lookup_run;
  l->job.done = resend_lookup_done;
  l->request = request;
  l->sender = sender;
  l->sender_id = sender->id;
  l->client_msg_id = g_strdup (client_msg_id);
  l->retry_after_ms = retry_after_ms;
  natterd_reads_push (self->directory->reads, &l->job);
}

/* Main loop, after the commit. */
static void
send_done (NatterdWriteJob *job,
           const GError    *error)
{
  PendingSend *p = (PendingSend *) job;
  NatterdCommit *self = p->write.commit;
  g_autoptr(GError) not_found = NULL;

  /* Committed, yet the store never told what it stored. */
  if (error == NULL && p->stored == NULL && p->original == NULL)
    error = not_found = g_error_new_literal (NATTER_ERROR, NATTER_ERROR_INTERNAL, "stored message not found");
  /* The search feed hears of the message before the reads that waited
   * for this write run: a search among them must wait for the index to
   * have it (it ran at once, and missed it, before). */
  if (error == NULL && !p->duplicate)
    {
      natterd_search_feed_note_committed (self->directory->search_feed, p->stored_id);
      natterd_rate_add (&self->directory->message_rate);
      self->directory->counts.sends++;
    }
  /* So does the directory of a conversation the send made: a history of
   * it that waited must find it. */
  if (error == NULL && p->conversation == NULL)
    p->conversation = natterd_conversation_hold (natterd_directory_note_direct (self->directory, p->conversation_id,
                                                                                p->sender, p->peer));
  natterd_commit_write_done (&p->write);

  if (error == NULL && p->original != NULL)
    p->as_sender[0] = encode_original (self->directory, p->original, p->sender, p->write.connection);
  else if (error == NULL)
    encode_actions (self, p);
  if (error != NULL && error->domain == NATTER_ERROR)
    {
      /* Refused by the writer (a reply to nothing it may answer). */
      natterd_request_error_from (p->write.request, error);
      pending_send_free (p);
      return;
    }
  if (error != NULL && g_error_matches (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_UNAVAILABLE))
    {
      /* Not stored, or (a COMMIT cut off) not known to be: the resend
       * with the same client_msg_id stores it or answers the original. */
      g_debug ("A send waits for the database: %s", error->message);
      natterd_request_error (p->write.request, NATTER_ERROR_INTERNAL,
                             "The database is unavailable; send it again");
      pending_send_free (p);
      return;
    }
  if (error != NULL)
    {
      g_warning ("Could not store a message: %s", error->message);
      natterd_request_error (p->write.request, NATTER_ERROR_INTERNAL, "The message could not be stored");
      pending_send_free (p);
      return;
    }
  /* Durable now: fanned out (and acked) in order, in slices; deliveries of
   * earlier batches go first. In a cluster, a new message is told to the
   * other nodes and waits for the ids below it that they committed
   * (natterd-cluster.h); an answer with a message stored before is new to
   * nobody. */
  if (self->directory->cluster != NULL && !p->duplicate && p->original == NULL)
    {
      NatterdStoreMessage m = stored_with_quote (p);

      natterd_cluster_own_committed (self->directory->cluster, &m, p->peer_id, p);
      return;
    }
  natterd_commit_deliver_own (self, p, FALSE);
}

void
natterd_commit_deliver_own (NatterdCommit *self,
                            gpointer       send,
                            gboolean       delivered_already)
{
  PendingSend *p = send;

  /* Read back from the database, in order, before its own turn came: the
   * others have it; the sender still gets its answer. */
  if (delivered_already)
    p->duplicate = TRUE;
  g_queue_push_tail (&self->deliveries, p);
  schedule_deliveries (self);
}

NatterdCommit *
natterd_commit_of_send (gpointer send)
{
  return ((PendingSend *) send)->write.commit;
}

void
natterd_commit_deliver_in_turn (NatterdCommit         *self,
                                NatterdCommitTurnFunc  func,
                                gpointer               data)
{
  PendingSend *p = g_new0 (PendingSend, 1);

  p->write.commit = self;
  p->turn = func;
  p->turn_data = data;
  g_queue_push_tail (&self->deliveries, p);
  schedule_deliveries (self);
}

gboolean
natterd_commit_deliver_foreign (NatterdCommit             *self,
                                const NatterdStoreMessage *m,
                                gint64                     peer_id)
{
  NatterdDirectory *directory = self->directory;
  NatterdConversation *conv = natterd_directory_find_conversation (directory, m->conversation_id);
  NatterdUser *sender = natterd_directory_find_user_id (directory, m->sender_id);
  NatterdUser *peer = peer_id != 0 ? natterd_directory_find_user_id (directory, peer_id) : NULL;
  char address[NATTER_USERNAME_MAX + 2];
  PendingSend *p;

  if (sender == NULL)
    return FALSE;
  /* A first message between two users, sent on another node: the
   * conversation was made with it. */
  if (conv == NULL && peer != NULL)
    conv = natterd_directory_note_direct (directory, m->conversation_id, sender, peer);
  if (conv == NULL)
    return FALSE;

  p = g_new0 (PendingSend, 1);
  p->write.commit = self;
  p->sender = sender;
  p->conversation = natterd_conversation_hold (conv);
  p->from = g_strdup (sender->username);
  p->address_for_sender = g_strdup (natterd_conversation_address_into (conv, sender, address));
  if (conv->kind == NATTERD_CONVERSATION_DIRECT && conv->user_a != conv->user_b)
    p->address_for_peer = g_strdup (natterd_conversation_address_into (conv, natterd_conversation_peer (conv, sender),
                                                                       address));
  encode_forms (p, directory, m, FALSE, TRUE);
  encode_forms (p, directory, m, TRUE, TRUE);
  /* Deleted since (read back from the database): a connection without
   * message actions never sees it. */
  if (m->deleted)
    {
      g_clear_pointer (&p->for_sender[0], g_bytes_unref);
      g_clear_pointer (&p->for_peer[0], g_bytes_unref);
    }
  natterd_commit_deliver_own (self, p, FALSE);
  return TRUE;
}

void
natterd_commit_queue_send (NatterdCommit       *self,
                           NatterdRequest      *request,
                           NatterdUser         *sender,
                           NatterdConversation *conversation,
                           NatterdUser         *peer,
                           const char          *body,
                           gsize                body_len,
                           const char          *client_msg_id,
                           gint64               reply_to,
                           char                *mentions,
                           NatterdSendFiles    *files)
{
  PendingSend *p = g_new0 (PendingSend, 1);

  g_return_if_fail (conversation != NULL || peer != NULL);

  natterd_commit_write_init (&p->write, self, request, send_run, send_done);
  p->sender = sender;
  p->conversation = natterd_conversation_hold (conversation);
  p->conversation_id = conversation != NULL ? conversation->id : 0;
  if (peer == NULL && conversation->kind == NATTERD_CONVERSATION_DIRECT)
    peer = natterd_conversation_peer (conversation, sender);
  p->peer = peer;
  p->peer_id = peer != NULL ? peer->id : 0;
  p->sender_id = sender->id;
  p->ts = natterd_now_ms ();
  p->body = g_strndup (body, body_len);
  p->body_len = body_len;
  p->client_msg_id = g_strdup (client_msg_id);
  p->reply_to = reply_to;
  p->mentions = mentions;
  p->files = files;
  p->from = g_strdup (sender->username);
  /* A direct conversation is "@the other one" to each of the two. */
  if (peer == NULL)
    p->address_for_sender = g_strdup (conversation->room->name);
  else
    p->address_for_sender = g_strconcat ("@", peer->username, NULL);
  if (peer != NULL && peer != sender)
    p->address_for_peer = g_strconcat ("@", sender->username, NULL);
  /* The peer blocks the sender: stored hidden from the peer, who is sent
   * nothing (no address, no event); the sender is answered as ever. */
  if (peer != NULL && peer != sender && natterd_user_blocks (peer, sender))
    {
      p->hidden_for = peer->id;
      g_clear_pointer (&p->address_for_peer, g_free);
    }
  natterd_commit_write_queue (&p->write);
}

/* The main store's write hook (natterd_store_set_write_hook). Every
 * write goes through the writer thread: the main loop never waits on the
 * database (a commit's fsync, a PostgreSQL round trip), nor on SQLite's
 * write lock, which its busy handler polls for. A write on the main loop's
 * connection is a bug, said loudly (fatal in the tests). */
static void
main_loop_wrote (gpointer data)
{
  g_critical ("A write on the main loop's store connection: it belongs on the writer thread");
}

/* A connection's write jobs finish in the order they were queued (one
 * writer, one queue), so counting is enough: a read that arrived after the
 * connection's n-th write waits until n have finished, and never for the
 * writes that came after it (a client that keeps sending would starve it). */
typedef struct {
  gint64  started;   /* write jobs of the connection queued so far */
  gint64  finished;  /* ... and done */
  GQueue  deferred;  /* Deferred, in arrival order */
} InFlight;

static void
in_flight_free (InFlight *f)
{
  natterd_deferred_clear (&f->deferred);
  g_free (f);
}

static void
write_started (NatterdCommit     *self,
               NatterdConnection *connection)
{
  InFlight *f = g_hash_table_lookup (self->writes_in_flight, connection);

  if (f == NULL)
    {
      f = g_new0 (InFlight, 1);
      g_hash_table_insert (self->writes_in_flight, connection, f);
    }
  f->started++;
}

static void
write_finished (NatterdCommit     *self,
                NatterdConnection *connection)
{
  InFlight *f = g_hash_table_lookup (self->writes_in_flight, connection);

  g_return_if_fail (f != NULL && f->finished < f->started);
  f->finished++;
  /* f stays in the table until below, whatever the handlers queue. */
  natterd_deferred_resume (self->directory, &f->deferred, f->finished, FALSE);
  if (f->finished == f->started && g_queue_is_empty (&f->deferred))
    g_hash_table_remove (self->writes_in_flight, connection);
}

void
natterd_commit_write_init (NatterdCommitWrite   *self,
                           NatterdCommit        *commit,
                            NatterdRequest       *request,
                            NatterdWriteRunFunc   run,
                            NatterdWriteDoneFunc  done)
{
  self->job.run = run;
  self->job.done = done;
  self->commit = commit;
  self->request = request;
  self->connection = natterd_connection_ref (natterd_request_get_connection (request));
}

void
natterd_commit_write_queue (NatterdCommitWrite *self)
{
  self->in_flight = TRUE;
  write_started (self->commit, self->connection);
  natterd_writer_push (self->commit->writer, &self->job);
}

void
natterd_commit_write_done (NatterdCommitWrite *self)
{
  if (!self->in_flight)
    return;
  self->in_flight = FALSE;
  write_finished (self->commit, self->connection);
}

void
natterd_commit_write_clear (NatterdCommitWrite *self)
{
  natterd_commit_write_done (self);
  g_clear_pointer (&self->connection, natterd_connection_unref);
}

gboolean
natterd_commit_defer_read (NatterdCommit       *self,
                           NatterdRequest      *request,
                           NatterdDeferredFunc  handler)
{
  InFlight *f = g_hash_table_lookup (self->writes_in_flight,
                                     natterd_request_get_connection (request));

  if (f == NULL || f->finished == f->started || request == self->directory->resuming)
    return FALSE;
  natterd_deferred_push (&f->deferred, request, handler, f->started);
  return TRUE;
}

void
natterd_commit_push (NatterdCommit   *self,
                     NatterdWriteJob *job)
{
  natterd_writer_push (self->writer, job);
}

NatterdCommit *
natterd_commit_new (NatterdDirectory  *directory,
                    NatterdStore      *store,
                    GError           **error)
{
  NatterdStore *writer_store = natterd_store_open_sibling (store, error);
  NatterdCommit *self;

  if (writer_store == NULL)
    return NULL;
  self = g_new0 (NatterdCommit, 1);
  self->directory = directory;
  self->store = store;
  self->writes_in_flight = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) in_flight_free);
  self->writer = natterd_writer_new ("natterd-writer", writer_store, NULL);
  natterd_store_set_write_hook (store, main_loop_wrote, self);
  return self;
}

void
natterd_commit_flush (NatterdCommit *self)
{
  natterd_writer_drain (self->writer);
  /* What waits in a cluster's order goes out too (natterd-cluster.h). */
  if (self->directory->cluster != NULL)
    natterd_cluster_flush (self->directory->cluster);
  deliver_some (self, 0);
  g_clear_handle_id (&self->delivery_source, g_source_remove);
}

void
natterd_commit_free (NatterdCommit *self)
{
  if (self == NULL)
    return;
  natterd_commit_flush (self);
  natterd_store_set_write_hook (self->store, NULL, NULL);
  g_clear_pointer (&self->writer, natterd_writer_free);
  g_clear_pointer (&self->writes_in_flight, g_hash_table_unref);
  g_free (self);
}

void
natterd_commit_get_writer_stats (NatterdCommit      *self,
                                 NatterdWriterStats *out)
{
  natterd_writer_get_stats (self->writer, out);
}
