/* fuzz-client: the client core (app/core) against a hostile server.
 *
 * A real NatterClient connects over loopback TCP (use-tls off) to a tiny
 * peer in this process that speaks with the lines of the input: the first
 * line is the greeting, every later one a frame, sent in order. A line
 * may name the request it answers, since the client numbers its requests
 * itself:
 *
 *   $re        the oldest request not yet answered, whatever its type
 *   $TYPE      the oldest unanswered request of that type ($login, $sync,
 *              $send, $history, $conversations, ...)
 *   $last      the newest request seen (answered or not: a duplicate)
 *   $next      an id the client never used (a reply to nothing)
 *   $pad       70,000 'x' (a frame longer than the client's read buffer)
 *
 * A line waits until the request it names has arrived; when the client is
 * idle and the request never comes, the line names an id never used and
 * goes anyway. So every input is played to its end, and replies can come
 * out of order, twice, late or unasked. A first line "#!FLAGS" sets how
 * the client starts: 'r' registers instead of a password login, 't' signs
 * in with a token, 's' has a state dir that knows the account (its last
 * id, so sync starts at 5 and not from the conversations list), 'o' adds
 * a message to the outbox before connecting (with 's').
 *
 * When the client has signed in and synced (READY) it makes one request of
 * every kind it has (send, history, search, rooms, contacts, read marker,
 * presence, typing), so that a line can answer each. When the connection
 * drops with lines left, the client is told to reconnect at once and the
 * peer goes on with the next line as the new connection's greeting. When
 * the lines are out the peer closes, and the main loop runs until nothing
 * is left to do: a loop that never goes idle is a hang libFuzzer reports.
 *
 * After each input the client's promises are checked (check_client): each
 * conversation's messages in id order without duplicates, pending ones
 * last, each in its own conversation; a conversation listed once; the
 * unread total the sum of the conversations'; a message sent either
 * acknowledged (and in its list) or still in the outbox on disk; the
 * client finalized once dropped. A GLib critical or warning aborts, except
 * the three warnings with which the client reports a server's error
 * reply to the steps after sign-in (see log_writer).
 *
 * NATTER_FUZZ_ECHO=1 prints both directions to stderr.
 */
#define G_LOG_DOMAIN "fuzz-client"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>

#include "natter-core.h"
#include "natter-json.h"
#include "natter-outbox.h"
#include "fuzz-target.h"

#define PAD_BYTES 70000
/* How long the main loop must stay quiet to count as idle: loopback
 * delivery is immediate unless softirqs were deferred to ksoftirqd. */
#define IDLE_CONFIRM_MS 1

typedef struct {
  gint64  id;
  char   *type;
} Request;

typedef struct {
  GSocketService    *service;
  guint16            port;

  /* This input's lines and the next one to send. */
  GPtrArray         *lines;     /* GBytes, without the newline */
  guint              next_line;

  GSocketConnection *conn;      /* NULL between connections */
  GCancellable      *cancel;
  GDataInputStream  *in;
  GQueue             out;       /* GBytes to write, in order */
  GBytes            *writing;
  gboolean           greeted;   /* this connection's first line went */
  guint              accepted;  /* connections so far */

  GQueue             unanswered; /* Request *, in arrival order */
  gint64             last_id;   /* the newest request seen, 0: none */
  gint64             max_id;
} Peer;

static Peer         peer;
static gboolean     echo;
static char        *state_dir;

static void peer_pump (gboolean idle);
static void read_next (void);

static void
request_free (Request *r)
{
  g_free (r->type);
  g_free (r);
}

/* ---- the log ---------------------------------------------------------- */

/* A critical or warning is a bug the fuzzer must stop at, like a crash.
 * Three warnings are what the client says when the server answers a step
 * after sign-in with an error: a hostile server may, and the client copes
 * (it retries, or goes on without that list). */
static const char *const allowed_warnings[] = {
  "Sync failed: ",
  "Cannot load the conversations: ",
  "Loading after sign-in failed: ",
};

static GLogWriterOutput
log_writer (GLogLevelFlags   level,
            const GLogField *fields,
            gsize            n_fields,
            gpointer         user_data)
{
  const char *message = "";
  gboolean fatal = (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING)) != 0;

  for (gsize i = 0; i < n_fields; i++)
    if (g_str_equal (fields[i].key, "MESSAGE") && fields[i].length < 0)
      message = fields[i].value;

  if ((level & G_LOG_LEVEL_WARNING) != 0)
    for (guint i = 0; i < G_N_ELEMENTS (allowed_warnings); i++)
      if (g_str_has_prefix (message, allowed_warnings[i]))
        fatal = FALSE;

  if (fatal || (echo && (level & G_LOG_LEVEL_DEBUG) == 0) || (echo && g_getenv ("G_MESSAGES_DEBUG")))
    g_log_writer_standard_streams (level, fields, n_fields, user_data);
  if (fatal)
    abort ();
  return G_LOG_WRITER_HANDLED;
}

/* ---- the peer: writing -------------------------------------------------- */

static void
write_next (void);

static void
write_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_output_stream_write_all_finish (G_OUTPUT_STREAM (object), result, NULL, NULL);
  g_clear_pointer (&peer.writing, g_bytes_unref);
  write_next ();
}

static void
write_next (void)
{
  if (peer.writing != NULL || peer.conn == NULL || g_queue_is_empty (&peer.out))
    return;
  peer.writing = g_queue_pop_head (&peer.out);
  /* Async: the client reads on this same main loop. */
  g_output_stream_write_all_async (g_io_stream_get_output_stream (G_IO_STREAM (peer.conn)),
                                   g_bytes_get_data (peer.writing, NULL),
                                   g_bytes_get_size (peer.writing),
                                   G_PRIORITY_DEFAULT, peer.cancel, write_cb, NULL);
}

static void
peer_close (void)
{
  if (peer.conn == NULL)
    return;
  g_cancellable_cancel (peer.cancel);
  g_io_stream_close (G_IO_STREAM (peer.conn), NULL, NULL);
  g_clear_object (&peer.in);
  g_clear_object (&peer.conn);
  g_clear_object (&peer.cancel);
  g_queue_clear_full (&peer.out, (GDestroyNotify) g_bytes_unref);
  g_queue_clear_full (&peer.unanswered, (GDestroyNotify) request_free);
}

/* ---- the peer: the lines ------------------------------------------------ */

static Request *
take_request (const char *type)
{
  for (GList *l = peer.unanswered.head; l != NULL; l = l->next)
    {
      Request *r = l->data;

      if (type == NULL || g_str_equal (r->type, type))
        {
          g_queue_delete_link (&peer.unanswered, l);
          return r;
        }
    }
  return NULL;
}

/* Expands the $words of @line into @out. FALSE when a request it names
 * has not come yet and the client is not @idle (the line must wait);
 * idle, an id never used stands in for it. */
static gboolean
expand_line (const char *line,
             gsize       len,
             gboolean    idle,
             GString    *out)
{
  GPtrArray *taken = g_ptr_array_new_with_free_func ((GDestroyNotify) request_free);
  gboolean complete = TRUE;

  for (gsize i = 0; i < len; )
    {
      gsize start = i + 1, end = start;
      g_autofree char *word = NULL;

      if (line[i] != '$')
        {
          g_string_append_c (out, line[i++]);
          continue;
        }
      while (end < len && (g_ascii_islower (line[end]) || line[end] == '_'))
        end++;
      word = g_strndup (line + start, end - start);
      i = end;

      if (g_str_equal (word, "pad"))
        {
          for (guint k = 0; k < PAD_BYTES; k++)
            g_string_append_c (out, 'x');
        }
      else if (g_str_equal (word, "last"))
        g_string_append_printf (out, "%" G_GINT64_FORMAT, peer.last_id);
      else if (g_str_equal (word, "next") || word[0] == '\0')
        g_string_append_printf (out, "%" G_GINT64_FORMAT, peer.max_id + 1000);
      else
        {
          Request *r = take_request (g_str_equal (word, "re") ? NULL : word);

          if (r == NULL && !idle)
            {
              complete = FALSE;
              break;
            }
          g_string_append_printf (out, "%" G_GINT64_FORMAT, r != NULL ? r->id : peer.max_id + 1000);
          if (r != NULL)
            g_ptr_array_add (taken, r);
        }
    }

  if (!complete)
    {
      /* Put back what this line took, in its place at the front. */
      for (guint k = taken->len; k > 0; k--)
        g_queue_push_head (&peer.unanswered, g_ptr_array_steal_index (taken, k - 1));
      g_string_truncate (out, 0);
    }
  g_ptr_array_unref (taken);
  return complete;
}

/* Sends the lines that can go now. @idle: the client has nothing left to
 * do, so a line waiting for a request goes with an id never used. */
static void
peer_pump (gboolean idle)
{
  while (peer.conn != NULL && peer.next_line < peer.lines->len)
    {
      GBytes *bytes = g_ptr_array_index (peer.lines, peer.next_line);
      gsize len;
      const char *line = g_bytes_get_data (bytes, &len);
      g_autoptr(GString) out = g_string_new (NULL);

      /* The greeting answers nothing. */
      if (!expand_line (line, len, idle || !peer.greeted, out))
        break;
      /* Once per wait: the next line waits for its own request. */
      idle = FALSE;
      /* The client skips blank lines, also while it waits for the
       * welcome. */
      if (out->len > 0 && !(out->len == 1 && out->str[0] == '\r'))
        peer.greeted = TRUE;
      peer.next_line++;
      if (echo)
        g_printerr ("fuzz-client < %.*s\n", (int) MIN (out->len, 300), out->str);
      g_string_append_c (out, '\n');
      g_queue_push_tail (&peer.out, g_bytes_new (out->str, out->len));
    }
  write_next ();
}

/* ---- the peer: reading -------------------------------------------------- */

static void
line_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autofree char *line = NULL;
  g_autoptr(JsonNode) node = NULL;
  JsonObject *frame = NULL;
  gsize len;

  line = g_data_input_stream_read_line_finish (G_DATA_INPUT_STREAM (object), result, &len, NULL);
  if (line == NULL)
    {
      /* The client closed (or we did). */
      if (G_DATA_INPUT_STREAM (object) == peer.in)
        peer_close ();
      return;
    }
  if (echo)
    g_printerr ("fuzz-client > %s\n", line);
  node = natter_json_parse_frame (line, len, &frame, NULL);
  /* Whatever the server said, the client sends valid frames. */
  g_assert_nonnull (node);
  if (json_object_has_member (frame, "id") &&
      JSON_NODE_HOLDS_VALUE (json_object_get_member (frame, "id")) &&
      json_node_get_value_type (json_object_get_member (frame, "id")) == G_TYPE_INT64)
    {
      Request *r = g_new0 (Request, 1);

      r->id = json_object_get_int_member (frame, "id");
      r->type = g_strdup (json_object_get_string_member (frame, "type"));
      peer.last_id = r->id;
      peer.max_id = MAX (peer.max_id, r->id);
      g_queue_push_tail (&peer.unanswered, r);
    }
  peer_pump (FALSE);
  read_next ();
}

static void
read_next (void)
{
  if (peer.in != NULL)
    g_data_input_stream_read_line_async (peer.in, G_PRIORITY_DEFAULT, peer.cancel, line_cb, NULL);
}

static gboolean
incoming_cb (GSocketService    *service,
             GSocketConnection *connection,
             GObject           *source,
             gpointer           user_data)
{
  /* One connection at a time: a new one means the client gave up the
   * old one. */
  peer_close ();
  peer.conn = g_object_ref (connection);
  peer.accepted++;
  peer.cancel = g_cancellable_new ();
  peer.in = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (connection)));
  peer.greeted = FALSE;
  peer_pump (FALSE);
  read_next ();
  return TRUE;
}

/* ---- the client's side -------------------------------------------------- */

typedef gboolean (*FinishBool)  (NatterClient *, GAsyncResult *, GError **);
typedef GListModel *(*FinishModel) (NatterClient *, GAsyncResult *, GError **);

static void
finish_bool_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  FinishBool finish = (FinishBool) user_data;
  g_autoptr(GError) error = NULL;

  if (!finish (NATTER_CLIENT (object), result, &error))
    g_assert_nonnull (error);
}

static void
finish_model_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  FinishModel finish = (FinishModel) user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GListModel) model = finish (NATTER_CLIENT (object), result, &error);

  g_assert_true ((model == NULL) != (error == NULL));
}

static void
history_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  gint added = natter_conversation_load_older_finish (NATTER_CONVERSATION (object), result, &error);

  g_assert_true ((added < 0) == (error != NULL));
}

typedef struct {
  NatterClient  *client;
  NatterMessage *sent;       /* the message sent when READY (a ref) */
  NatterMessage *queued;     /* the one in the outbox before connecting */
  gboolean       acted;
  guint          me_changes;  /* notify::me: a new account clears the models */
  guint          me_at_send;
  char           flags[8];
} Run;

#define BOOL_CB(f)  finish_bool_cb, (gpointer) (FinishBool) (f)
#define MODEL_CB(f) finish_model_cb, (gpointer) (FinishModel) (f)

/* One request of every kind, for the lines to answer. */
static void
act (Run *run)
{
  NatterClient *c = run->client;
  NatterConversation *bob;

  run->acted = TRUE;
  run->me_at_send = run->me_changes;
  run->sent = natter_client_send_message (c, "@bob", "hello bob");
  if (run->sent != NULL)
    g_object_ref (run->sent);
  bob = natter_client_lookup_conversation (c, "@bob", TRUE);
  if (bob != NULL)
    {
      natter_client_set_open_conversation (c, bob);
      natter_conversation_load_older_async (bob, NULL, history_cb, NULL);
      natter_client_mark_read (c, bob);
    }
  natter_client_send_typing (c, "@bob", TRUE);
  natter_client_set_presence (c, NATTER_PRESENCE_AWAY, "lunch");
  natter_client_search_async (c, "hel", NULL, NULL, MODEL_CB (natter_client_search_finish));
  natter_client_user_search_async (c, "bo", NULL, MODEL_CB (natter_client_user_search_finish));
  natter_client_room_directory_async (c, "", NULL, MODEL_CB (natter_client_room_directory_finish));
  natter_client_room_members_async (c, "#general", NULL, MODEL_CB (natter_client_room_members_finish));
  natter_client_room_create_async (c, "#lunch", "food", NULL, BOOL_CB (natter_client_room_create_finish));
  natter_client_room_join_async (c, "#general", NULL, BOOL_CB (natter_client_room_join_finish));
  natter_client_room_set_topic_async (c, "#general", "news", NULL, BOOL_CB (natter_client_room_set_topic_finish));
  natter_client_room_leave_async (c, "#old", NULL, BOOL_CB (natter_client_room_leave_finish));
  natter_client_contact_request_async (c, "carol", NULL, BOOL_CB (natter_client_contact_request_finish));
  natter_client_contact_accept_async (c, "dave", NULL, BOOL_CB (natter_client_contact_accept_finish));
  natter_client_contact_decline_async (c, "erin", NULL, BOOL_CB (natter_client_contact_decline_finish));
  natter_client_contact_remove_async (c, "frank", NULL, BOOL_CB (natter_client_contact_remove_finish));
}

static void
state_cb (NatterClient *client,
          GParamSpec   *pspec,
          Run          *run)
{
  if (!run->acted && natter_client_get_state (client) == NATTER_CLIENT_STATE_READY)
    act (run);
}

static void
me_cb (NatterClient *client,
       GParamSpec   *pspec,
       Run          *run)
{
  run->me_changes++;
}

static void
connect_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  NatterClient *client = NATTER_CLIENT (object);
  Run *run = user_data;

  if (!natter_client_connect_finish (client, result, NULL))
    return;
  if (strchr (run->flags, 'r') != NULL)
    natter_client_register_async (client, "alice", "password123", "Alice", NULL,
                                  BOOL_CB (natter_client_register_finish));
  else if (strchr (run->flags, 't') != NULL)
    natter_client_login_token_async (client, "tok", NULL, BOOL_CB (natter_client_login_token_finish));
  else
    natter_client_login_async (client, "alice", "password123", NULL,
                               BOOL_CB (natter_client_login_finish));
}

/* ---- the promises ------------------------------------------------------- */

static void
check_conversation (NatterClient       *client,
                    NatterConversation *conv)
{
  GListModel *messages = natter_conversation_get_messages (conv);
  const char *address = natter_conversation_get_address (conv);
  gint64 prev = 0;
  gboolean pending = FALSE;

  g_assert_true (natter_client_lookup_conversation (client, address, FALSE) == conv);
  for (guint i = 0, n = g_list_model_get_n_items (messages); i < n; i++)
    {
      g_autoptr(NatterMessage) msg = g_list_model_get_item (messages, i);
      gint64 id = natter_message_get_id (msg);

      if (natter_message_is_notice (msg))
        {
          g_assert_false (pending);
          continue;
        }
      /* Each message in the conversation it names (as the client looks
       * addresses up: "@Bob" is "@bob"). */
      if (natter_client_lookup_conversation (client, natter_message_get_conversation (msg), FALSE) != conv)
        g_error ("a message of %s in %s", natter_message_get_conversation (msg), address);
      if (id == 0)
        {
          pending = TRUE;
          continue;
        }
      /* Stored ones in id order, once each, before the pending ones. */
      g_assert_false (pending);
      g_assert_cmpint (id, >, prev);
      prev = id;
    }
}

static void
check_client (Run *run)
{
  NatterClient *client = run->client;
  GListModel *convs = natter_client_get_conversations (client);
  guint64 unread = 0;

  for (guint i = 0, n = g_list_model_get_n_items (convs); i < n; i++)
    {
      g_autoptr(NatterConversation) conv = g_list_model_get_item (convs, i);

      check_conversation (client, conv);
      unread += natter_conversation_get_unread (conv);
      for (guint j = 0; j < i; j++)
        {
          g_autoptr(NatterConversation) other = g_list_model_get_item (convs, j);

          g_assert_true (other != conv);
        }
    }
  /* The total the window's title shows. */
  g_assert_cmpuint (natter_client_get_unread_total (client), ==, unread);

  /* Acknowledged: in its conversation under its id (as itself, or as
   * the copy that came first), unless the account changed since. */
  if (run->sent != NULL && natter_message_get_state (run->sent) == NATTER_MESSAGE_STATE_SENT &&
      run->me_changes == run->me_at_send)
    {
      NatterConversation *conv =
        natter_client_lookup_conversation (client, natter_message_get_conversation (run->sent), FALSE);
      GListModel *messages;
      gboolean found = FALSE;

      g_assert_nonnull (conv);
      g_assert_cmpint (natter_message_get_id (run->sent), >, 0);
      messages = natter_conversation_get_messages (conv);
      for (guint i = 0, n = g_list_model_get_n_items (messages); i < n; i++)
        {
          g_autoptr(NatterMessage) msg = g_list_model_get_item (messages, i);

          if (!natter_message_is_notice (msg) &&
              natter_message_get_id (msg) == natter_message_get_id (run->sent))
            found = TRUE;
        }
      g_assert_true (found);
    }
}

/* A message not acknowledged is still in the outbox on disk. */
static void
check_outbox (NatterMessage *msg)
{
  g_autofree char *path = NULL;
  g_autoptr(NatterOutbox) outbox = NULL;
  GPtrArray *entries;
  gboolean found = FALSE;

  if (msg == NULL || natter_message_get_state (msg) == NATTER_MESSAGE_STATE_SENT)
    return;
  path = g_build_filename (state_dir, "outbox.log", NULL);
  outbox = natter_outbox_new (path);
  entries = natter_outbox_get_pending (outbox);
  for (guint i = 0; i < entries->len; i++)
    {
      NatterOutboxEntry *entry = g_ptr_array_index (entries, i);

      if (g_strcmp0 (entry->client_msg_id, natter_message_get_client_msg_id (msg)) == 0)
        found = TRUE;
    }
  g_assert_true (found);
}

/* ---- one input ---------------------------------------------------------- */

/* Runs the main loop until nothing is ready; then TRUE when it stayed
 * quiet for IDLE_CONFIRM_MS too. */
static gboolean
timeout_flag_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
run_until_idle (void)
{
  gboolean fired = FALSE;
  guint id;
  gboolean busy = FALSE;

  while (g_main_context_iteration (NULL, FALSE))
    busy = TRUE;
  if (busy)
    return FALSE;
  id = g_timeout_add (IDLE_CONFIRM_MS, timeout_flag_cb, &fired);
  g_main_context_iteration (NULL, TRUE);
  if (fired)
    {
      /* Only the timer woke us. Another source may have become ready in
       * the same wake-up; it is seen next time round. */
      return !g_main_context_pending (NULL);
    }
  g_source_remove (id);
  return FALSE;
}

static void
clear_state_dir (void)
{
  static const char *const files[] = { "state.ini", "outbox.log", "known-hosts" };

  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_build_filename (state_dir, files[i], NULL);

      g_unlink (path);
    }
}

/* 's': the state dir knows alice on this server. */
static void
write_known_state (void)
{
  g_autoptr(GKeyFile) file = g_key_file_new ();
  g_autofree char *key = g_strdup_printf ("alice@127.0.0.1:%u", peer.port);
  g_autofree char *path = g_build_filename (state_dir, "state.ini", NULL);

  g_key_file_set_string (file, "client", "account", key);
  g_key_file_set_string (file, "client", "username", "alice");
  g_key_file_set_int64 (file, "last-id", key, 5);
  g_assert_true (g_key_file_save_to_file (file, path, NULL));
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) effective = NULL;
  g_autoptr(GError) error = NULL;

  echo = g_getenv ("NATTER_FUZZ_ECHO") != NULL;
  g_log_set_writer_func (log_writer, NULL, NULL);
  /* The client reconnects by itself; its keepalive must not fire. */
  g_setenv ("NATTER_CLIENT_KEEPALIVE_MS", "3600000", TRUE);
  /* No proxy lookup (libproxy answers from a thread, so the client would
   * look idle while it waits) and no dconf: the peer is on loopback. */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_setenv ("GIO_USE_VFS", "local", TRUE);

  state_dir = g_dir_make_tmp ("fuzz-client-XXXXXX", &error);
  g_assert_no_error (error);

  peer.service = g_socket_service_new ();
  g_socket_listener_add_address (G_SOCKET_LISTENER (peer.service), address, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, NULL, &effective, &error);
  g_assert_no_error (error);
  peer.port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  g_signal_connect (peer.service, "incoming", G_CALLBACK (incoming_cb), NULL);
  g_socket_service_start (peer.service);
  return 0;
}

static void
split_lines (const uint8_t *data,
             size_t         size)
{
  gsize start = 0;

  peer.lines = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  for (gsize i = 0; i <= size; i++)
    if (i == size || data[i] == '\n')
      {
        if (i > start || i < size)
          g_ptr_array_add (peer.lines, g_bytes_new (data + start, i - start));
        start = i + 1;
      }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  Run run = { 0 };
  GObject *weak;
  guint reconnected_at = G_MAXUINT;
  guint accepted_before = 0;

  split_lines (data, size);
  peer.next_line = 0;
  peer.last_id = peer.max_id = 0;
  clear_state_dir ();

  if (peer.lines->len > 0)
    {
      gsize len;
      const char *first = g_bytes_get_data (g_ptr_array_index (peer.lines, 0), &len);

      if (len >= 2 && first[0] == '#' && first[1] == '!')
        {
          memcpy (run.flags, first + 2, MIN (len - 2, sizeof run.flags - 1));
          peer.next_line = 1;
        }
    }
  if (strchr (run.flags, 's') != NULL)
    write_known_state ();

  run.client = natter_client_new (state_dir);
  natter_client_set_use_tls (run.client, FALSE);
  g_signal_connect (run.client, "notify::state", G_CALLBACK (state_cb), &run);
  g_signal_connect (run.client, "notify::me", G_CALLBACK (me_cb), &run);
  if (strchr (run.flags, 'o') != NULL)
    {
      run.queued = natter_client_send_message (run.client, "@carol", "written offline");
      if (run.queued != NULL)
        g_object_ref (run.queued);
    }
  natter_client_connect_async (run.client, "127.0.0.1", peer.port, NULL, connect_cb, &run);

  for (;;)
    {
      /* Connecting waits on timers (GSocketClient holds a connection
       * back 50 ms, GNetworkAddress's wait for an IPv6 sibling), not on
       * the peer: until the client has its connection and has read the
       * greeting (which ends CONNECTING either way), no line goes for
       * want of a request. */
      NatterClientState state = natter_client_get_state (run.client);

      if ((state == NATTER_CLIENT_STATE_CONNECTING && (peer.conn == NULL || peer.greeted)) ||
          (state == NATTER_CLIENT_STATE_RECONNECTING && peer.conn == NULL &&
           reconnected_at == peer.next_line && peer.accepted == accepted_before))
        {
          run_until_idle ();
          continue;
        }
      if (!run_until_idle ())
        continue;
      if (peer.conn != NULL && peer.next_line < peer.lines->len)
        {
          /* The client waits for a reply it will not get: the line goes
           * with an id never used. */
          peer_pump (TRUE);
          continue;
        }
      if (peer.next_line < peer.lines->len && reconnected_at != peer.next_line &&
          natter_client_get_state (run.client) == NATTER_CLIENT_STATE_RECONNECTING)
        {
          /* Once per line: a reconnect that gets nowhere ends the input. */
          reconnected_at = peer.next_line;
          accepted_before = peer.accepted;
          natter_client_reconnect_now (run.client);
          continue;
        }
      if (peer.conn != NULL && peer.writing == NULL && g_queue_is_empty (&peer.out))
        {
          /* Everything said: hang up, and let the client notice. */
          peer_close ();
          continue;
        }
      break;
    }

  check_client (&run);

  weak = G_OBJECT (run.client);
  g_object_add_weak_pointer (weak, (gpointer *) &weak);
  natter_client_disconnect (run.client);
  g_object_unref (run.client);
  while (!run_until_idle ())
    ;
  /* Nothing keeps the client alive once its callbacks ran. */
  g_assert_null (weak);

  check_outbox (run.sent);
  check_outbox (run.queued);
  g_clear_object (&run.sent);
  g_clear_object (&run.queued);
  peer_close ();
  g_clear_pointer (&peer.lines, g_ptr_array_unref);
  return 0;
}
