/* test-client-files.c: feature files in the client core
 * (natter-client-files.c) against a real natterd with files on: a
 * message with text and a file goes to another client, whose download
 * gives back the same bytes; an upload cancelled midway fails its
 * message and resumes on Retry; an upload cut by the server's crash
 * resumes after the reconnect, sending only what the server lacks, and
 * so does a download cut by it, and an upload cut by the app's own
 * restart; a
 * message with a file written offline survives a restart of the client;
 * a file past the server's limit fails before a byte is sent; an image's
 * preview goes with it, across a restart, and downloads. */
#define G_LOG_DOMAIN "test-client-files"

#include "client-test-util.h"

#define FILES_ON "[server]\nfiles=true\n" TEST_SERVER_CONFIG
#define CHUNK    32768
#define WINDOW   4       /* natter-client-files.c's */

static NatterTestServer *server;

typedef struct {
  NatterMessage *message;
  GError        *error;
} Failure;

static void
send_failed_cb (NatterClient  *client,
                NatterMessage *message,
                const GError  *error,
                Failure       *failure)
{
  failure->message = message;
  g_clear_error (&failure->error);
  failure->error = g_error_copy (error);
}

static void
received_cb (NatterClient        *client,
             NatterConversation  *conv,
             NatterMessage       *message,
             NatterMessage      **slot)
{
  g_set_object (slot, message);
}

/* A file of @size random bytes named @name in @dir; its bytes. */
static GBytes *
make_file (const char  *dir,
           const char  *name,
           gsize        size,
           GFile      **out_file)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  guint8 *data = g_malloc (size);

  for (gsize i = 0; i < size; i++)
    data[i] = g_random_int_range (0, 256);
  g_assert_true (g_file_set_contents (path, (const char *) data, size, NULL));
  *out_file = g_file_new_for_path (path);
  return g_bytes_new_take (data, size);
}

static char *
sha256_of (GBytes *bytes)
{
  return g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes);
}

static NatterMessageFile *
first_file (NatterMessage *message)
{
  GListModel *files = natter_message_get_files (message);
  g_autoptr(NatterMessageFile) file = NULL;

  g_assert_cmpuint (g_list_model_get_n_items (files), ==, 1);
  file = g_list_model_get_item (files, 0);
  return file; /* the message holds it */
}

static gboolean
is_sent (NatterMessage *message)
{
  return natter_message_get_state (message) == NATTER_MESSAGE_STATE_SENT;
}

static void
test_send_and_download (void)
{
  g_autofree char *alice_dir = test_make_state_dir ();
  g_autofree char *bob_dir = test_make_state_dir ();
  g_autofree char *files_dir = test_make_state_dir ();
  g_autofree char *alice = test_username ("alice");
  g_autofree char *bob = test_username ("bob");
  g_autofree char *to_bob = g_strconcat ("@", bob, NULL);
  g_autofree char *dest_path = g_build_filename (files_dir, "saved.bin", NULL);
  g_autofree char *part_path = g_strconcat (dest_path, ".part", NULL);
  g_autofree char *expected_sha = NULL;
  g_autofree char *saved = NULL;
  g_autoptr(GFile) source = NULL;
  g_autoptr(GFile) dest = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(NatterMessage) got = NULL;
  g_autoptr(NatterFileTransfer) download = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;
  NatterClient *alice_client, *bob_client;
  NatterFileTransfer *upload;
  NatterMessageFile *file, *theirs;
  NatterMessage *msg;
  gsize saved_len = 0;

  bob_client = test_client_new (server, bob_dir);
  test_client_sign_up (bob_client, server, bob);
  g_signal_connect (bob_client, "message-received", G_CALLBACK (received_cb), &got);
  alice_client = test_client_new (server, alice_dir);
  test_client_sign_up (alice_client, server, alice);
  g_assert_true (natter_client_get_files_enabled (alice_client));

  /* Four chunks, the last one short. */
  bytes = make_file (files_dir, "report.pdf", 3 * CHUNK + 1234, &source);
  expected_sha = sha256_of (bytes);
  msg = natter_client_send_files (alice_client, to_bob, &source, 1, "the report", &error);
  g_assert_no_error (error);
  g_assert_nonnull (msg);

  /* Shown at once with the local file, not uploaded yet. */
  file = first_file (msg);
  g_assert_cmpint (natter_message_file_get_id (file), ==, 0);
  g_assert_cmpstr (natter_message_file_get_name (file), ==, "report.pdf");
  g_assert_cmpint (natter_message_file_get_size (file), ==, 3 * CHUNK + 1234);
  g_assert_cmpstr (natter_message_file_get_mime (file), ==, "application/pdf");
  upload = natter_client_get_upload (alice_client, msg);
  g_assert_nonnull (upload);
  g_object_ref (upload);
  g_assert_true (natter_file_transfer_get_upload (upload));
  g_assert_cmpint (natter_file_transfer_get_bytes_total (upload), ==, 3 * CHUNK + 1234);

  WAIT_FOR (is_sent (msg));
  g_assert_true (natter_file_transfer_get_finished (upload));
  g_assert_null (natter_file_transfer_get_error (upload));
  g_assert_cmpint (natter_file_transfer_get_bytes_done (upload), ==, 3 * CHUNK + 1234);
  g_assert_cmpuint (natter_file_transfer_get_chunks_sent (upload), ==, 4);
  g_object_unref (upload);
  /* The sender's copy now has the server's file. */
  file = first_file (msg);
  g_assert_cmpint (natter_message_file_get_id (file), >, 0);
  g_assert_cmpstr (natter_message_file_get_sha256 (file), ==, expected_sha);
  g_assert_null (natter_client_get_upload (alice_client, msg));

  /* The receiver gets the text and the file. */
  WAIT_FOR (got != NULL);
  g_assert_cmpstr (natter_message_get_body (got), ==, "the report");
  theirs = first_file (got);
  g_assert_cmpint (natter_message_file_get_id (theirs), ==, natter_message_file_get_id (file));
  g_assert_cmpstr (natter_message_file_get_name (theirs), ==, "report.pdf");
  g_assert_cmpint (natter_message_file_get_size (theirs), ==, 3 * CHUNK + 1234);
  g_assert_cmpstr (natter_message_file_get_mime (theirs), ==, "application/pdf");
  g_assert_cmpstr (natter_message_file_get_sha256 (theirs), ==, expected_sha);
  g_assert_null (natter_message_file_get_preview (theirs));

  /* ... and downloads the same bytes, renamed from the .part at the end. */
  dest = g_file_new_for_path (dest_path);
  download = natter_client_download_file_async (bob_client, theirs, dest, NULL, test_result_cb, &result);
  g_assert_false (natter_file_transfer_get_upload (download));
  g_assert_true (natter_client_download_file_finish (bob_client, test_wait_result (&result), &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  g_assert_true (g_file_get_contents (dest_path, &saved, &saved_len, NULL));
  g_assert_cmpmem (saved, saved_len, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  g_assert_false (g_file_test (part_path, G_FILE_TEST_EXISTS));
  g_assert_true (natter_file_transfer_get_finished (download));
  g_assert_cmpint (natter_file_transfer_get_bytes_done (download), ==, 3 * CHUNK + 1234);

  /* A .part left by a download that stopped is resumed from: two chunks
   * on disk, two fetched. */
  g_assert_true (g_file_set_contents (part_path, g_bytes_get_data (bytes, NULL), 2 * CHUNK + 100, NULL));
  g_assert_true (g_file_delete (dest, NULL, NULL));
  g_clear_object (&download);
  download = natter_client_download_file_async (bob_client, theirs, dest, NULL, test_result_cb, &result);
  g_assert_true (natter_client_download_file_finish (bob_client, test_wait_result (&result), &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  g_assert_cmpuint (natter_file_transfer_get_chunks_sent (download), ==, 2);
  g_clear_pointer (&saved, g_free);
  g_assert_true (g_file_get_contents (dest_path, &saved, &saved_len, NULL));
  g_assert_cmpmem (saved, saved_len, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));

  /* A .part whose bytes are wrong fails the check, and is dropped. */
  {
    g_autofree char *wrong = g_malloc0 (2 * CHUNK);

    g_assert_true (g_file_set_contents (part_path, wrong, 2 * CHUNK, NULL));
  }
  g_clear_object (&download);
  download = natter_client_download_file_async (bob_client, theirs, dest, NULL, test_result_cb, &result);
  g_assert_false (natter_client_download_file_finish (bob_client, test_wait_result (&result), &error));
  g_assert_error (error, NATTER_ERROR, NATTER_ERROR_HASH_MISMATCH);
  g_clear_error (&error);
  g_clear_object (&result);
  g_assert_false (g_file_test (part_path, G_FILE_TEST_EXISTS));

  test_client_free (alice_client);
  test_client_free (bob_client);
  test_remove_dir (alice_dir);
  test_remove_dir (bob_dir);
  test_remove_dir (files_dir);
}

static void
test_cancel_and_retry (void)
{
  g_autofree char *alice_dir = test_make_state_dir ();
  g_autofree char *bob_dir = test_make_state_dir ();
  g_autofree char *files_dir = test_make_state_dir ();
  g_autofree char *alice = test_username ("alice");
  g_autofree char *bob = test_username ("bob");
  g_autofree char *to_bob = g_strconcat ("@", bob, NULL);
  g_autoptr(GFile) source = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(NatterFileTransfer) upload = NULL;
  NatterClient *alice_client, *bob_client;
  NatterFileTransfer *again;
  Failure failure = { 0 };
  NatterMessage *msg;
  guint chunks = 96;

  bob_client = test_client_new (server, bob_dir);
  test_client_sign_up (bob_client, server, bob);
  alice_client = test_client_new (server, alice_dir);
  test_client_sign_up (alice_client, server, alice);
  g_signal_connect (alice_client, "send-failed", G_CALLBACK (send_failed_cb), &failure);

  bytes = make_file (files_dir, "big.bin", chunks * CHUNK, &source);
  msg = natter_client_send_files (alice_client, to_bob, &source, 1, NULL, &error);
  g_assert_no_error (error);
  upload = g_object_ref (natter_client_get_upload (alice_client, msg));
  WAIT_FOR (natter_file_transfer_get_bytes_done (upload) > 0);
  natter_file_transfer_cancel (upload);

  WAIT_FOR (natter_file_transfer_get_finished (upload));
  g_assert_error (natter_file_transfer_get_error (upload), G_IO_ERROR, G_IO_ERROR_CANCELLED);
  WAIT_FOR (failure.message == msg);
  g_assert_error (failure.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (natter_message_get_state (msg), ==, NATTER_MESSAGE_STATE_FAILED);
  g_assert_cmpuint (natter_file_transfer_get_chunks_sent (upload), <, chunks);

  /* Retry resumes with a new transfer: the chunks the server acknowledged
   * are not sent again. */
  g_assert_true (natter_client_retry_message (alice_client, msg));
  again = natter_client_get_upload (alice_client, msg);
  g_assert_true (again != upload);
  g_object_ref (again);
  WAIT_FOR (is_sent (msg));
  g_assert_null (natter_file_transfer_get_error (again));
  g_assert_cmpuint (natter_file_transfer_get_chunks_sent (upload) +
                    natter_file_transfer_get_chunks_sent (again), <=, chunks + WINDOW);
  g_assert_cmpint (natter_message_file_get_id (first_file (msg)), >, 0);
  g_object_unref (again);

  g_clear_error (&failure.error);
  test_client_free (alice_client);
  test_client_free (bob_client);
  test_remove_dir (alice_dir);
  test_remove_dir (bob_dir);
  test_remove_dir (files_dir);
}

static void
test_reconnect_resumes (void)
{
  g_autoptr(NatterTestServer) own = natter_test_server_start (FILES_ON, NULL);
  g_autofree char *alice_dir = test_make_state_dir ();
  g_autofree char *bob_dir = test_make_state_dir ();
  g_autofree char *files_dir = test_make_state_dir ();
  g_autofree char *alice = test_username ("alice");
  g_autofree char *bob = test_username ("bob");
  g_autofree char *to_bob = g_strconcat ("@", bob, NULL);
  g_autofree char *expected_sha = NULL;
  g_autoptr(GFile) source = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(NatterFileTransfer) upload = NULL;
  g_autoptr(NatterFileTransfer) download = NULL;
  g_autoptr(NatterMessage) got = NULL;
  g_autoptr(GFile) dest = NULL;
  g_autofree char *dest_path = NULL;
  g_autofree char *saved = NULL;
  GAsyncResult *result = NULL;
  NatterClient *alice_client, *bob_client;
  NatterMessage *msg;
  gsize saved_len = 0;
  guint chunks = 96, acked;

  bob_client = test_client_new (own, bob_dir);
  test_client_sign_up (bob_client, own, bob);
  g_signal_connect (bob_client, "message-received", G_CALLBACK (received_cb), &got);
  alice_client = test_client_new (own, alice_dir);
  test_client_sign_up (alice_client, own, alice);

  bytes = make_file (files_dir, "big.bin", chunks * CHUNK, &source);
  expected_sha = sha256_of (bytes);
  dest_path = g_build_filename (files_dir, "saved.bin", NULL);
  msg = natter_client_send_files (alice_client, to_bob, &source, 1, "", &error);
  g_assert_no_error (error);
  upload = g_object_ref (natter_client_get_upload (alice_client, msg));
  WAIT_FOR (natter_file_transfer_get_bytes_done (upload) >= 10 * CHUNK);

  /* An acknowledged chunk survives the server's crash. */
  acked = natter_file_transfer_get_bytes_done (upload) / CHUNK;
  natter_test_server_kill (own);
  natter_test_server_restart (own);

  WAIT_FOR (is_sent (msg));
  g_assert_true (natter_file_transfer_get_finished (upload));
  g_assert_null (natter_file_transfer_get_error (upload));
  /* Resumed, not started over: at most the chunks unanswered at the
   * crash went twice. */
  g_assert_cmpuint (acked, >=, 10);
  g_assert_cmpuint (natter_file_transfer_get_chunks_sent (upload), <=, chunks + WINDOW);
  g_assert_cmpstr (natter_message_file_get_sha256 (first_file (msg)), ==, expected_sha);

  /* A download cut the same way goes on by itself once the client is
   * back, from what its .part holds. */
  WAIT_FOR (got != NULL);
  dest = g_file_new_for_path (dest_path);
  download = natter_client_download_file_async (bob_client, first_file (got), dest, NULL, test_result_cb, &result);
  WAIT_FOR (natter_file_transfer_get_bytes_done (download) >= 10 * CHUNK);
  natter_test_server_kill (own);
  natter_test_server_restart (own);
  g_assert_true (natter_client_download_file_finish (bob_client, test_wait_result (&result), &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  g_assert_cmpuint (natter_file_transfer_get_chunks_sent (download), <=, chunks + WINDOW);
  g_assert_true (g_file_get_contents (dest_path, &saved, &saved_len, NULL));
  g_assert_cmpmem (saved, saved_len, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));

  test_client_free (alice_client);
  test_client_free (bob_client);
  test_remove_dir (alice_dir);
  test_remove_dir (bob_dir);
  test_remove_dir (files_dir);
}

static void
test_outbox_across_restart (void)
{
  g_autofree char *alice_dir = test_make_state_dir ();
  g_autofree char *bob_dir = test_make_state_dir ();
  g_autofree char *files_dir = test_make_state_dir ();
  g_autofree char *alice = test_username ("alice");
  g_autofree char *bob = test_username ("bob");
  g_autofree char *to_bob = g_strconcat ("@", bob, NULL);
  g_autofree char *token = NULL;
  g_autofree char *expected_sha = NULL;
  g_autoptr(GFile) source = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(NatterMessage) got = NULL;
  NatterClient *alice_client, *bob_client;
  NatterConversation *conv;
  NatterMessage *msg;
  guint received = 0;

  bob_client = test_client_new (server, bob_dir);
  test_client_sign_up (bob_client, server, bob);
  g_signal_connect (bob_client, "message-received", G_CALLBACK (received_cb), &got);
  alice_client = test_client_new (server, alice_dir);
  test_client_sign_up (alice_client, server, alice);
  token = g_strdup (natter_client_get_token (alice_client));

  /* Written offline: in the outbox, nothing uploaded. */
  natter_client_disconnect (alice_client);
  bytes = make_file (files_dir, "notes.txt", 50000, &source);
  expected_sha = sha256_of (bytes);
  msg = natter_client_send_files (alice_client, to_bob, &source, 1, "written offline", &error);
  g_assert_no_error (error);
  g_assert_cmpint (natter_message_get_state (msg), ==, NATTER_MESSAGE_STATE_SENDING);
  test_client_free (alice_client);

  /* After a restart it shows with its file, and goes once signed in. */
  alice_client = test_client_new (server, alice_dir);
  conv = natter_client_lookup_conversation (alice_client, to_bob, FALSE);
  g_assert_nonnull (conv);
  g_assert_cmpuint (test_count_messages (conv), ==, 1);
  msg = natter_conversation_get_last_message (conv);
  g_assert_cmpstr (natter_message_get_body (msg), ==, "written offline");
  g_assert_cmpstr (natter_message_file_get_name (first_file (msg)), ==, "notes.txt");
  g_assert_cmpint (natter_message_file_get_id (first_file (msg)), ==, 0);

  test_client_sign_in_token (alice_client, server, token);
  WAIT_FOR (is_sent (msg));
  g_assert_cmpstr (natter_message_file_get_sha256 (first_file (msg)), ==, expected_sha);

  WAIT_FOR (got != NULL);
  g_assert_cmpstr (natter_message_get_body (got), ==, "written offline");
  g_assert_cmpstr (natter_message_file_get_sha256 (first_file (got)), ==, expected_sha);
  g_assert_cmpint (natter_message_file_get_size (first_file (got)), ==, 50000);

  /* Sent once: a new start has nothing left to send. */
  test_client_free (alice_client);
  alice_client = test_client_new (server, alice_dir);
  test_client_sign_in_token (alice_client, server, token);
  conv = natter_client_lookup_conversation (alice_client, to_bob, FALSE);
  g_assert_nonnull (conv);
  for (guint i = 0, n = g_list_model_get_n_items (natter_conversation_get_messages (conv)); i < n; i++)
    {
      g_autoptr(NatterMessage) m = g_list_model_get_item (natter_conversation_get_messages (conv), i);

      received += g_strcmp0 (natter_message_get_body (m), "written offline") == 0;
      g_assert_true (is_sent (m));
    }
  g_assert_cmpuint (received, ==, 1);

  test_client_free (alice_client);
  test_client_free (bob_client);
  test_remove_dir (alice_dir);
  test_remove_dir (bob_dir);
  test_remove_dir (files_dir);
}

/* An image with the preview its app made: written offline (the preview's
 * bytes wait in the state dir with the outbox entry), sent after a
 * restart with the image's size and the preview as a file of its own,
 * which the receiver downloads byte for byte; the kept copy goes once
 * the message is sent. */
static void
test_image_preview (void)
{
  g_autofree char *alice_dir = test_make_state_dir ();
  g_autofree char *bob_dir = test_make_state_dir ();
  g_autofree char *files_dir = test_make_state_dir ();
  g_autofree char *alice = test_username ("alice");
  g_autofree char *bob = test_username ("bob");
  g_autofree char *to_bob = g_strconcat ("@", bob, NULL);
  g_autofree char *previews_dir = g_build_filename (alice_dir, "previews", NULL);
  g_autofree char *dest_path = g_build_filename (files_dir, "preview.png", NULL);
  g_autofree char *token = NULL;
  g_autofree char *saved = NULL;
  g_autoptr(GFile) source = NULL;
  g_autoptr(GFile) dest = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GBytes) preview = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(NatterMessage) got = NULL;
  g_autoptr(NatterFileTransfer) download = NULL;
  g_autoptr(GDir) dir = NULL;
  GAsyncResult *result = NULL;
  NatterFileAttachment attachment = { 0 };
  NatterClient *alice_client, *bob_client;
  NatterConversation *conv;
  NatterMessageFile *theirs, *their_preview;
  NatterMessage *msg;
  gsize saved_len = 0;

  bob_client = test_client_new (server, bob_dir);
  test_client_sign_up (bob_client, server, bob);
  g_signal_connect (bob_client, "message-received", G_CALLBACK (received_cb), &got);
  alice_client = test_client_new (server, alice_dir);
  test_client_sign_up (alice_client, server, alice);
  token = g_strdup (natter_client_get_token (alice_client));

  natter_client_disconnect (alice_client);
  bytes = make_file (files_dir, "beach.jpg", 2 * CHUNK + 77, &source);
  /* The core never decodes: any bytes do for a preview here. */
  preview = make_file (files_dir, "small.png", 5000, &dest);
  g_clear_object (&dest);
  attachment.file = source;
  attachment.width = 4032;
  attachment.height = 3024;
  attachment.preview = preview;
  attachment.preview_mime = "image/png";
  attachment.preview_width = 320;
  attachment.preview_height = 240;
  msg = natter_client_send_attachments (alice_client, to_bob, &attachment, 1, "", &error);
  g_assert_no_error (error);
  g_assert_nonnull (msg);
  /* Shown with its one file (the preview is not a file of its own). */
  g_assert_cmpstr (natter_message_file_get_name (first_file (msg)), ==, "beach.jpg");
  dir = g_dir_open (previews_dir, 0, &error);
  g_assert_no_error (error);
  g_assert_nonnull (g_dir_read_name (dir));
  g_clear_pointer (&dir, g_dir_close);
  test_client_free (alice_client);

  alice_client = test_client_new (server, alice_dir);
  conv = natter_client_lookup_conversation (alice_client, to_bob, FALSE);
  g_assert_nonnull (conv);
  msg = natter_conversation_get_last_message (conv);
  test_client_sign_in_token (alice_client, server, token);
  WAIT_FOR (is_sent (msg));
  g_assert_nonnull (natter_message_file_get_preview (first_file (msg)));
  /* The kept preview is gone with the outbox entry. */
  dir = g_dir_open (previews_dir, 0, &error);
  g_assert_no_error (error);
  g_assert_null (g_dir_read_name (dir));

  WAIT_FOR (got != NULL);
  theirs = first_file (got);
  g_assert_cmpstr (natter_message_file_get_name (theirs), ==, "beach.jpg");
  g_assert_cmpstr (natter_message_file_get_mime (theirs), ==, "image/jpeg");
  g_assert_cmpuint (natter_message_file_get_width (theirs), ==, 4032);
  g_assert_cmpuint (natter_message_file_get_height (theirs), ==, 3024);
  their_preview = natter_message_file_get_preview (theirs);
  g_assert_nonnull (their_preview);
  g_assert_cmpint (natter_message_file_get_id (their_preview), >, 0);
  g_assert_cmpint (natter_message_file_get_id (their_preview), !=, natter_message_file_get_id (theirs));
  g_assert_null (natter_message_file_get_name (their_preview));
  g_assert_cmpstr (natter_message_file_get_mime (their_preview), ==, "image/png");
  g_assert_cmpuint (natter_message_file_get_width (their_preview), ==, 320);
  g_assert_cmpuint (natter_message_file_get_height (their_preview), ==, 240);
  g_assert_cmpint (natter_message_file_get_size (their_preview), ==, 5000);

  dest = g_file_new_for_path (dest_path);
  download = natter_client_download_file_async (bob_client, their_preview, dest, NULL, test_result_cb, &result);
  g_assert_true (natter_client_download_file_finish (bob_client, test_wait_result (&result), &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  g_assert_true (g_file_get_contents (dest_path, &saved, &saved_len, NULL));
  g_assert_cmpmem (saved, saved_len, g_bytes_get_data (preview, NULL), g_bytes_get_size (preview));

  test_client_free (alice_client);
  test_client_free (bob_client);
  test_remove_dir (alice_dir);
  test_remove_dir (bob_dir);
  test_remove_dir (files_dir);
}

/* The app quits in the middle of an upload: the next run hashes the file
 * again and, the hash unchanged, goes on with the same upload. */
static void
test_restart_mid_upload (void)
{
  g_autofree char *alice_dir = test_make_state_dir ();
  g_autofree char *files_dir = test_make_state_dir ();
  g_autofree char *alice = test_username ("alice");
  g_autofree char *bob = test_username ("bob");
  g_autofree char *to_bob = g_strconcat ("@", bob, NULL);
  g_autofree char *token = NULL;
  g_autofree char *expected_sha = NULL;
  g_autoptr(GFile) source = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(NatterFileTransfer) upload = NULL;
  NatterClient *client;
  NatterConversation *conv;
  NatterMessage *msg;
  guint chunks = 96, acked;

  client = test_client_new (server, alice_dir);
  test_client_sign_up (client, server, bob);
  test_client_free (client);
  test_remove_dir (alice_dir);
  g_free (alice_dir);
  alice_dir = test_make_state_dir ();

  client = test_client_new (server, alice_dir);
  test_client_sign_up (client, server, alice);
  token = g_strdup (natter_client_get_token (client));
  bytes = make_file (files_dir, "big.bin", chunks * CHUNK, &source);
  expected_sha = sha256_of (bytes);
  msg = natter_client_send_files (client, to_bob, &source, 1, "across a restart", &error);
  g_assert_no_error (error);
  upload = g_object_ref (natter_client_get_upload (client, msg));
  WAIT_FOR (natter_file_transfer_get_bytes_done (upload) >= 10 * CHUNK);
  acked = natter_file_transfer_get_bytes_done (upload) / CHUNK;
  natter_client_disconnect (client);
  test_client_free (client);
  g_clear_object (&upload);

  client = test_client_new (server, alice_dir);
  conv = natter_client_lookup_conversation (client, to_bob, FALSE);
  g_assert_nonnull (conv);
  msg = natter_conversation_get_last_message (conv);
  upload = g_object_ref (natter_client_get_upload (client, msg));
  test_client_sign_in_token (client, server, token);
  WAIT_FOR (is_sent (msg));
  g_assert_null (natter_file_transfer_get_error (upload));
  g_assert_cmpstr (natter_message_file_get_sha256 (first_file (msg)), ==, expected_sha);
  /* Only what the server lacked went in the second run. */
  g_assert_cmpuint (acked, >=, 10);
  g_assert_cmpuint (natter_file_transfer_get_chunks_sent (upload), <=, chunks - acked + WINDOW);

  test_client_free (client);
  test_remove_dir (alice_dir);
  test_remove_dir (files_dir);
}

static void
test_too_large (void)
{
  g_autoptr(NatterTestServer) own = natter_test_server_start (FILES_ON "max_file_bytes=100000\n", NULL);
  g_autofree char *alice_dir = test_make_state_dir ();
  g_autofree char *files_dir = test_make_state_dir ();
  g_autofree char *alice = test_username ("alice");
  g_autofree char *to_bob = g_strconcat ("@", alice, "x", NULL);
  g_autoptr(GFile) source = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(NatterFileTransfer) upload = NULL;
  NatterClient *client;
  Failure failure = { 0 };
  NatterMessage *msg;

  client = test_client_new (own, alice_dir);
  test_client_sign_up (client, own, alice);
  g_signal_connect (client, "send-failed", G_CALLBACK (send_failed_cb), &failure);

  bytes = make_file (files_dir, "huge.bin", 100001, &source);
  msg = natter_client_send_files (client, to_bob, &source, 1, "too big", &error);
  g_assert_no_error (error);
  upload = g_object_ref (natter_client_get_upload (client, msg));
  WAIT_FOR (failure.message == msg);
  g_assert_error (failure.error, NATTER_ERROR, NATTER_ERROR_FILE_TOO_LARGE);
  g_assert_cmpint (natter_message_get_state (msg), ==, NATTER_MESSAGE_STATE_FAILED);
  g_assert_true (natter_file_transfer_get_finished (upload));
  g_assert_error (natter_file_transfer_get_error (upload), NATTER_ERROR, NATTER_ERROR_FILE_TOO_LARGE);
  /* Refused at upload_begin: not one chunk went. */
  g_assert_cmpuint (natter_file_transfer_get_chunks_sent (upload), ==, 0);
  g_assert_cmpint (natter_file_transfer_get_bytes_done (upload), ==, 0);

  g_clear_error (&failure.error);
  test_client_free (client);
  test_remove_dir (alice_dir);
  test_remove_dir (files_dir);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  test_init ();
  g_test_init (&argc, &argv, NULL);

  server = natter_test_server_start (FILES_ON, NULL);

  g_test_add_func ("/client/files/send-and-download", test_send_and_download);
  g_test_add_func ("/client/files/cancel-and-retry", test_cancel_and_retry);
  g_test_add_func ("/client/files/reconnect-resumes", test_reconnect_resumes);
  g_test_add_func ("/client/files/outbox-across-restart", test_outbox_across_restart);
  g_test_add_func ("/client/files/restart-mid-upload", test_restart_mid_upload);
  g_test_add_func ("/client/files/too-large", test_too_large);
  g_test_add_func ("/client/files/image-preview", test_image_preview);

  ret = g_test_run ();
  natter_test_server_free (server);
  return ret;
}
