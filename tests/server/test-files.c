/* test-files.c: the feature files (docs/protocol.md, "Files"): uploads in
 * chunks in any order and resumed on another connection, what a bad
 * chunk or a wrong hash gets, the limits at upload_begin, downloads only
 * for who may read, a kill -9 in the middle of an upload, expiry.
 */
#define G_LOG_DOMAIN "natter-test"

#include <string.h>

#include "server-test-util.h"

#define CHUNK 32768
#define FILES_ON "[server]\nfiles=true\n" UTIL_RELAXED_LIMITS
#define NOT_ON_A_CLUSTER "a server of several nodes does not offer files yet (docs/cluster.md)"

static NatterTestClient *
files_login (NatterTestServer *srv,
             const char       *username)
{
  NatterTestClient *c = natter_test_client_new (srv);
  g_autoptr(JsonObject) r = natter_test_client_request_ok (c,
      "{\"type\":\"login\",\"username\":\"%s\",\"password\":\"%s\",\"features\":[\"files\"]}",
      username, NATTER_TEST_PASSWORD);

  return c;
}

/* @len bytes that differ from chunk to chunk. */
static GBytes *
make_bytes (gsize   len,
            guint32 seed)
{
  guint8 *data = g_malloc (len);

  for (gsize i = 0; i < len; i++)
    {
      seed = seed * 1103515245u + 12345u;
      data[i] = seed >> 24;
    }
  return g_bytes_new_take (data, len);
}

static char *
sha256_of (GBytes *bytes)
{
  return g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes);
}

static gint64
chunks_of (GBytes *bytes)
{
  return (g_bytes_get_size (bytes) + CHUNK - 1) / CHUNK;
}

/* upload_begin; the upload object. */
static JsonObject *
begin (NatterTestClient *c,
       GBytes           *bytes)
{
  g_autofree char *sha = sha256_of (bytes);
  g_autoptr(JsonObject) r = natter_test_client_request_ok (c,
      "{\"type\":\"upload_begin\",\"size\":%" G_GSIZE_FORMAT ",\"sha256\":\"%s\"}",
      g_bytes_get_size (bytes), sha);
  JsonObject *u = natter_test_get_object (r, "upload");

  g_assert_cmpint (natter_test_get_int (u, "size"), ==, g_bytes_get_size (bytes));
  g_assert_cmpstr (natter_test_get_str (u, "sha256"), ==, sha);
  g_assert_cmpint (natter_test_get_int (u, "chunk_size"), ==, CHUNK);
  g_assert_cmpint (natter_test_get_int (u, "chunks"), ==, chunks_of (bytes));
  g_assert_true (natter_test_is_null (u, "file"));
  return json_object_ref (u);
}

static char *
chunk_request (gint64  upload,
               GBytes *bytes,
               gint64  index)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  gsize len = MIN ((gsize) CHUNK, size - index * CHUNK);
  g_autofree char *b64 = g_base64_encode (data + index * CHUNK, len);

  return g_strdup_printf ("{\"type\":\"upload_chunk\",\"upload\":%" G_GINT64_FORMAT ",\"index\":%"
                          G_GINT64_FORMAT ",\"data\":\"%s\"}", upload, index, b64);
}

/* Sends chunk @index, asserting ok; the reply's file (0: null). */
static gint64
put_chunk (NatterTestClient *c,
           gint64            upload,
           GBytes           *bytes,
           gint64            index)
{
  g_autofree char *json = chunk_request (upload, bytes, index);
  g_autoptr(JsonObject) r = natter_test_client_request (c, json);

  natter_assert_ok (r);
  g_assert_cmpint (natter_test_get_int (r, "upload"), ==, upload);
  g_assert_cmpint (natter_test_get_int (r, "index"), ==, index);
  return natter_test_is_null (r, "file") ? 0 : natter_test_get_int (r, "file");
}

/* Downloads file @file whole (chunk by chunk) and asserts it is @bytes. */
static void
assert_download (NatterTestClient *c,
                 gint64            file,
                 GBytes           *bytes)
{
  g_autoptr(GByteArray) got = g_byte_array_new ();
  g_autoptr(GBytes) all = NULL;

  for (gint64 i = 0; i < chunks_of (bytes); i++)
    {
      g_autoptr(JsonObject) r = natter_test_client_request_ok (c,
          "{\"type\":\"download\",\"file\":%" G_GINT64_FORMAT ",\"index\":%" G_GINT64_FORMAT "}", file, i);
      gsize len;
      g_autofree guint8 *data = g_base64_decode (natter_test_get_str (r, "data"), &len);

      g_assert_cmpint (natter_test_get_int (r, "file"), ==, file);
      g_assert_cmpint (natter_test_get_int (r, "index"), ==, i);
      g_byte_array_append (got, data, len);
    }
  all = g_byte_array_free_to_bytes (g_steal_pointer (&got));
  g_assert_true (g_bytes_equal (all, bytes));
}

/* SQLite keeps a finished file in the data directory under its hash
 * (docs/architecture.md, "Files"), and nothing half-made beside it. */
static void
assert_file_on_disk (NatterTestServer *srv,
                     GBytes           *bytes)
{
  g_autofree char *sha = sha256_of (bytes);
  char prefix[3] = { sha[0], sha[1], '\0' };
  g_autofree char *path = g_build_filename (natter_test_server_get_data_dir (srv), "files", prefix, sha, NULL);
  g_autofree char *contents = NULL;
  gsize len = 0;

  if (natter_test_on_postgresql ())
    return; /* in the database, which every node reaches */
  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  g_assert_cmpmem (contents, len, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

/* The "missing" ranges of an upload object, as "[a,b)..." text. */
static char *
missing_text (JsonObject *u)
{
  JsonArray *missing = natter_test_get_array (u, "missing");
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < json_array_get_length (missing); i++)
    {
      JsonArray *r = json_array_get_array_element (missing, i);

      g_string_append_printf (s, "[%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT ")",
                              json_array_get_int_element (r, 0), json_array_get_int_element (r, 1));
    }
  return g_string_free (s, FALSE);
}

static JsonObject *
status (NatterTestClient *c,
        gint64            upload)
{
  g_autoptr(JsonObject) r = natter_test_client_request_ok (c,
      "{\"type\":\"upload_status\",\"upload\":%" G_GINT64_FORMAT "}", upload);

  return json_object_ref (natter_test_get_object (r, "upload"));
}

static void
test_not_offered_by_default (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) c = natter_test_client_new (srv);
  g_autoptr(JsonObject) ok = NULL, e = NULL;

  util_assert_strings (natter_test_get_array (natter_test_client_get_welcome (c), "features"),
                       "message_actions", "room_management", "accounts", NULL);
  ok = natter_test_client_request_ok (c,
      "{\"type\":\"register\",\"username\":\"alice\",\"password\":\"%s\",\"features\":[\"files\"]}",
      NATTER_TEST_PASSWORD);
  util_assert_strings (natter_test_get_array (ok, "features"), NULL);
  e = natter_test_client_request_error (c, "unknown_type",
      "{\"type\":\"upload_begin\",\"size\":1,\"sha256\":\"%064d\"}", 0);
}

/* A connection without the feature: the requests do not exist for it. */
static void
test_protocol1 (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (FILES_ON, NULL);
  g_autoptr(NatterTestClient) c = natter_test_client_new (srv);
  static const char *const types[] = { "upload_begin", "upload_chunk", "upload_status", "download" };

  util_assert_strings (natter_test_get_array (natter_test_client_get_welcome (c), "features"),
                       "message_actions", "room_management", "files", "accounts", NULL);
  natter_test_client_register (c, "alice", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    {
      g_autoptr(JsonObject) e = natter_test_client_request_error (c, "unknown_type",
          "{\"type\":\"%s\",\"upload\":1,\"file\":1,\"index\":0,\"size\":1}", types[i]);
    }
}

/* In order, out of order, a chunk sent twice, a file of one chunk, a
 * file whose size is a multiple of the chunk: each downloads back whole. */
static void
test_upload_orders (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (FILES_ON, NULL);
  g_autoptr(NatterTestClient) c = util_feature_user (srv, "alice", "files");
  static const gsize sizes[] = { 1, CHUNK, 3 * CHUNK, 5 * CHUNK + 17 };

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    for (guint order = 0; order < 3; order++)
      {
        g_autoptr(GBytes) bytes = make_bytes (sizes[s], s * 10 + order);
        g_autoptr(JsonObject) u = begin (c, bytes);
        gint64 id = natter_test_get_int (u, "upload"), n = chunks_of (bytes), file = 0;
        g_autofree char *all_missing = g_strdup_printf ("[0,%" G_GINT64_FORMAT ")", n);
        g_autofree char *m = missing_text (u);

        g_assert_cmpstr (m, ==, all_missing);
        for (gint64 k = 0; k < n; k++)
          {
            /* 0: in order; 1: backwards; 2: odd ones first. */
            gint64 i = order == 0 ? k : order == 1 ? n - 1 - k
                     : (k < n / 2 ? 2 * k + 1 : 2 * (k - n / 2));
            gint64 f;

            if (i >= n)
              i = n - 1;
            f = put_chunk (c, id, bytes, i);
            if (f != 0)
              file = f;
          }
        g_assert_cmpint (file, >, 0);
        /* Again after the end: ok with the file (a lost reply resent). */
        g_assert_cmpint (put_chunk (c, id, bytes, 0), ==, file);
        assert_download (c, file, bytes);
        assert_file_on_disk (srv, bytes);
      }
}

/* Half an upload, the connection gone; another connection asks where it
 * stands, sends the rest and gets the file. Chunks pipelined past the
 * window (8) all get their answers. */
static void
test_resume (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (FILES_ON, NULL);
  g_autoptr(NatterTestClient) c = util_feature_user (srv, "alice", "files");
  g_autoptr(NatterTestClient) c2 = NULL;
  g_autoptr(GBytes) bytes = make_bytes (40 * CHUNK + 5, 7);
  g_autoptr(JsonObject) u = begin (c, bytes), u2 = NULL;
  gint64 id = natter_test_get_int (u, "upload"), file = 0;
  g_autofree char *m = NULL;

  for (gint64 i = 0; i < 12; i++)
    put_chunk (c, id, bytes, i);
  put_chunk (c, id, bytes, 20);
  g_clear_pointer (&c, natter_test_client_free);

  c2 = files_login (srv, "alice");
  u2 = status (c2, id);
  m = missing_text (u2);
  g_assert_cmpstr (m, ==, "[12,20)[21,41)");
  /* Pipelined: every frame first, then the replies, in order. */
  for (gint64 i = 12; i <= 40; i++)
    if (i != 20)
      {
        g_autofree char *json = chunk_request (id, bytes, i);
        g_autofree char *framed = g_strdup_printf ("{\"id\":%" G_GINT64_FORMAT ",%s\n", 1000 + i, json + 1);

        natter_test_client_send_raw (c2, framed, strlen (framed));
      }
  for (gint64 i = 12; i <= 40; i++)
    if (i != 20)
      {
        g_autoptr(JsonObject) r = natter_test_client_wait_re (c2, 1000 + i);

        natter_assert_ok (r);
        if (!natter_test_is_null (r, "file"))
          file = natter_test_get_int (r, "file");
      }
  g_assert_cmpint (file, >, 0);
  g_clear_pointer (&u2, json_object_unref);
  u2 = status (c2, id);
  g_assert_cmpint (natter_test_get_int (u2, "file"), ==, file);
  g_assert_cmpuint (json_array_get_length (natter_test_get_array (u2, "missing")), ==, 0);
  assert_download (c2, file, bytes);
}

/* With a frame bucket of 10 tokens refilling once a second, 30 good
 * chunks pipelined all pass (the window paces them, not the bucket);
 * bad ones cost a token each, so past the bucket they are rate_limited. */
static void
test_flow (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (
      "[server]\nfiles=true\n[limits]\nframes_per_second=1\nframe_burst=10\n", NULL);
  g_autoptr(NatterTestClient) c = util_feature_user (srv, "alice", "files");
  g_autoptr(GBytes) bytes = make_bytes (30 * CHUNK, 5);
  g_autoptr(JsonObject) u = begin (c, bytes);
  gint64 id = natter_test_get_int (u, "upload"), file = 0;
  guint limited = 0;

  for (gint64 i = 0; i < 30; i++)
    {
      g_autofree char *json = chunk_request (id, bytes, i);
      g_autofree char *framed = g_strdup_printf ("{\"id\":%" G_GINT64_FORMAT ",%s\n", 100 + i, json + 1);

      natter_test_client_send_raw (c, framed, strlen (framed));
    }
  for (gint64 i = 0; i < 30; i++)
    {
      g_autoptr(JsonObject) r = natter_test_client_wait_re (c, 100 + i);

      natter_assert_ok (r);
      if (!natter_test_is_null (r, "file"))
        file = natter_test_get_int (r, "file");
    }
  g_assert_cmpint (file, >, 0);
  for (gint64 i = 0; i < 20; i++)
    {
      g_autofree char *framed = g_strdup_printf (
          "{\"type\":\"upload_chunk\",\"id\":%" G_GINT64_FORMAT ",\"upload\":%" G_GINT64_FORMAT
          ",\"index\":0,\"data\":\"!\"}\n", 200 + i, id);

      natter_test_client_send_raw (c, framed, strlen (framed));
    }
  for (gint64 i = 0; i < 20; i++)
    {
      g_autoptr(JsonObject) r = natter_test_client_wait_re (c, 200 + i);

      if (g_strcmp0 (natter_test_get_str (r, "code"), "rate_limited") == 0)
        limited++;
      else
        natter_assert_error (r, "invalid_argument");
    }
  g_assert_cmpuint (limited, >=, 5);
}

/* Sends every frame of @type for chunks [0, @n) of @bytes (upload_chunk
 * to @upload, or download of @file) before reading any reply, ids from
 * @first_id; returns the bytes downloaded (NULL for an upload) and the
 * file an upload made. */
static GBytes *
pipeline (NatterTestClient *c,
          gboolean          upload,
          gint64            id,
          GBytes           *bytes,
          gint64            first_id,
          gint64           *out_file)
{
  gint64 n = chunks_of (bytes);
  g_autoptr(GByteArray) got = g_byte_array_new ();

  for (gint64 i = 0; i < n; i++)
    {
      g_autofree char *json = upload ? chunk_request (id, bytes, i)
                                     : g_strdup_printf ("{\"type\":\"download\",\"file\":%" G_GINT64_FORMAT
                                                        ",\"index\":%" G_GINT64_FORMAT "}", id, i);
      g_autofree char *framed = g_strdup_printf ("{\"id\":%" G_GINT64_FORMAT ",%s\n", first_id + i, json + 1);

      natter_test_client_send_raw (c, framed, strlen (framed));
    }
  for (gint64 i = 0; i < n; i++)
    {
      g_autoptr(JsonObject) r = natter_test_client_wait_re (c, first_id + i);

      natter_assert_ok (r);
      if (upload && !natter_test_is_null (r, "file"))
        *out_file = natter_test_get_int (r, "file");
      if (!upload)
        {
          gsize len;
          g_autofree guint8 *data = g_base64_decode (natter_test_get_str (r, "data"), &len);

          g_byte_array_append (got, data, len);
        }
    }
  return upload ? NULL : g_byte_array_free_to_bytes (g_steal_pointer (&got));
}

/* natterd streams: a 16 MiB file uploaded and downloaded with every
 * frame sent before any reply is read costs it far less than the file
 * (the window, and for the download the replies the client has not read
 * yet, hold it back), and the connection is not dropped as a slow reader. */
static void
test_memory_flat (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (FILES_ON, NULL);
  g_autoptr(NatterTestClient) c = util_feature_user (srv, "alice", "files");
  g_autoptr(GBytes) warm = make_bytes (1024 * 1024, 21);
  g_autoptr(GBytes) big = make_bytes (16 * 1024 * 1024, 22);
  g_autoptr(GBytes) got = NULL, got_warm = NULL;
  g_autoptr(JsonObject) u1 = begin (c, warm), u2 = NULL;
  gint64 file = 0, before, start;

  pipeline (c, TRUE, natter_test_get_int (u1, "upload"), warm, 1000000, &file);
  got_warm = pipeline (c, FALSE, file, warm, 2000000, NULL);
  g_assert_true (g_bytes_equal (got_warm, warm));
  before = util_natterd_peak_kb (srv);

  u2 = begin (c, big);
  start = g_get_monotonic_time ();
  pipeline (c, TRUE, natter_test_get_int (u2, "upload"), big, 3000000, &file);
  g_test_message ("upload: %.1f MB/s", 16.0 * 1048576 / (g_get_monotonic_time () - start));
  start = g_get_monotonic_time ();
  got = pipeline (c, FALSE, file, big, 4000000, NULL);
  g_test_message ("download: %.1f MB/s", 16.0 * 1048576 / (g_get_monotonic_time () - start));
  g_assert_true (g_bytes_equal (got, big));
  g_test_message ("natterd's peak grew by %" G_GINT64_FORMAT " KiB", util_natterd_peak_kb (srv) - before);
#ifndef __SANITIZE_ADDRESS__
  /* (ASan's quarantine keeps up to 256 MiB of what was freed.) */
  g_assert_cmpint (util_natterd_peak_kb (srv) - before, <, 8 * 1024);
#endif
}

/* Bad chunks are refused and leave the chunk missing; wrong bytes under
 * the right length are found at the end: hash_mismatch, upload gone. */
static void
test_bad_chunks (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (FILES_ON, NULL);
  g_autoptr(NatterTestClient) c = util_feature_user (srv, "alice", "files");
  g_autoptr(GBytes) bytes = make_bytes (2 * CHUNK + 100, 3);
  g_autoptr(JsonObject) u = begin (c, bytes), u2 = NULL, e = NULL;
  gint64 id = natter_test_get_int (u, "upload");
  g_autofree char *short_b64 = g_base64_encode ((const guint8 *) "abc", 3);
  g_autofree char *m = NULL;
  static const char *const bad_data[] = { "not base64!", "QQ", "QR==", "QQ==QQ==", "" };
  g_autoptr(GBytes) wrong = NULL;
  gsize size;
  guint8 *flipped;

  for (guint i = 0; i < G_N_ELEMENTS (bad_data); i++)
    {
      g_autoptr(JsonObject) r = natter_test_client_request_error (c, "invalid_argument",
          "{\"type\":\"upload_chunk\",\"upload\":%" G_GINT64_FORMAT ",\"index\":2,\"data\":\"%s\"}", id, bad_data[i]);
    }
  {
    /* A length other than the chunk's; an index past the end; negative. */
    g_autoptr(JsonObject) r1 = natter_test_client_request_error (c, "invalid_argument",
        "{\"type\":\"upload_chunk\",\"upload\":%" G_GINT64_FORMAT ",\"index\":0,\"data\":\"%s\"}", id, short_b64);
    g_autoptr(JsonObject) r2 = natter_test_client_request_error (c, "invalid_argument",
        "{\"type\":\"upload_chunk\",\"upload\":%" G_GINT64_FORMAT ",\"index\":3,\"data\":\"%s\"}", id, short_b64);
    g_autoptr(JsonObject) r3 = natter_test_client_request_error (c, "invalid_argument",
        "{\"type\":\"upload_chunk\",\"upload\":%" G_GINT64_FORMAT ",\"index\":-1,\"data\":\"%s\"}", id, short_b64);
    g_autoptr(JsonObject) r4 = natter_test_client_request_error (c, "not_found",
        "{\"type\":\"upload_chunk\",\"upload\":%" G_GINT64_FORMAT ",\"index\":0,\"data\":\"%s\"}", id + 1000, short_b64);
  }
  u2 = status (c, id);
  m = missing_text (u2);
  g_assert_cmpstr (m, ==, "[0,3)");

  /* One byte of the middle chunk changed. */
  size = g_bytes_get_size (bytes);
  flipped = g_memdup2 (g_bytes_get_data (bytes, NULL), size);
  flipped[CHUNK + 5] ^= 0x40;
  wrong = g_bytes_new_take (flipped, size);
  put_chunk (c, id, wrong, 0);
  put_chunk (c, id, wrong, 1);
  {
    g_autofree char *json = chunk_request (id, wrong, 2);
    g_autoptr(JsonObject) r = natter_test_client_request (c, json);

    natter_assert_error (r, "hash_mismatch");
  }
  e = natter_test_client_request_error (c, "not_found",
      "{\"type\":\"upload_status\",\"upload\":%" G_GINT64_FORMAT "}", id);
}

/* Every limit answers at upload_begin, before a byte is sent. */
static void
test_limits (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (
      FILES_ON "max_file_bytes=100000\nquota_bytes_per_user=250000\nuploads_per_user=3\n", NULL);
  g_autoptr(NatterTestClient) c = util_feature_user (srv, "alice", "files");
  g_autoptr(NatterTestClient) bob = util_feature_user (srv, "bob", "files");
  g_autofree char *sha = g_strnfill (64, 'a');
  g_autoptr(JsonObject) e1 = NULL, e2 = NULL, e3 = NULL, e4 = NULL, e5 = NULL, ok = NULL;
  g_autoptr(GBytes) small = make_bytes (1000, 1);
  g_autoptr(JsonObject) u = NULL;
  gint64 id;

  e1 = natter_test_client_request_error (c, "file_too_large",
      "{\"type\":\"upload_begin\",\"size\":100001,\"sha256\":\"%s\"}", sha);
  e2 = natter_test_client_request_error (c, "invalid_argument",
      "{\"type\":\"upload_begin\",\"size\":0,\"sha256\":\"%s\"}", sha);
  e3 = natter_test_client_request_error (c, "invalid_argument",
      "{\"type\":\"upload_begin\",\"size\":10,\"sha256\":\"%.63s\"}", sha);
  g_clear_pointer (&e3, json_object_unref);
  e3 = natter_test_client_request_error (c, "invalid_argument",
      "{\"type\":\"upload_begin\",\"size\":10,\"sha256\":\"%.63sA\"}", sha);
  /* 100000 + 100000 fit the quota; a third of 100000 would not. */
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(JsonObject) r = natter_test_client_request_ok (c,
          "{\"type\":\"upload_begin\",\"size\":100000,\"sha256\":\"%s\"}", sha);
    }
  e4 = natter_test_client_request_error (c, "quota_exceeded",
      "{\"type\":\"upload_begin\",\"size\":100000,\"sha256\":\"%s\"}", sha);
  /* A third upload fits the quota; a fourth is one too many. */
  u = begin (c, small);
  e5 = natter_test_client_request_error (c, "too_many_uploads",
      "{\"type\":\"upload_begin\",\"size\":10,\"sha256\":\"%s\"}", sha);
  /* Others are not counted against each other. */
  ok = natter_test_client_request_ok (bob, "{\"type\":\"upload_begin\",\"size\":100000,\"sha256\":\"%s\"}", sha);
  /* A finished upload is no longer in progress (it still takes quota). */
  id = natter_test_get_int (u, "upload");
  g_assert_cmpint (put_chunk (c, id, small, 0), >, 0);
  g_clear_pointer (&e5, json_object_unref);
  e5 = natter_test_client_request_error (c, "quota_exceeded",
      "{\"type\":\"upload_begin\",\"size\":50000,\"sha256\":\"%s\"}", sha);
  g_clear_pointer (&ok, json_object_unref);
  ok = natter_test_client_request_ok (c, "{\"type\":\"upload_begin\",\"size\":10,\"sha256\":\"%s\"}", sha);
}

/* Someone else's upload and file: not_found, as for none at all. */
static void
test_stranger (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (FILES_ON, NULL);
  g_autoptr(NatterTestClient) a = util_feature_user (srv, "alice", "files");
  g_autoptr(NatterTestClient) m = util_feature_user (srv, "mallory", "files");
  g_autoptr(GBytes) bytes = make_bytes (CHUNK + 1, 9);
  g_autoptr(JsonObject) u = begin (a, bytes), e1 = NULL, e2 = NULL, e3 = NULL, e4 = NULL;
  gint64 id = natter_test_get_int (u, "upload"), file;
  g_autofree char *json = chunk_request (id, bytes, 0);

  e1 = natter_test_client_request (m, json);
  natter_assert_error (e1, "not_found");
  e2 = natter_test_client_request_error (m, "not_found",
      "{\"type\":\"upload_status\",\"upload\":%" G_GINT64_FORMAT "}", id);
  put_chunk (a, id, bytes, 0);
  file = put_chunk (a, id, bytes, 1);
  g_assert_cmpint (file, >, 0);
  e3 = natter_test_client_request_error (m, "not_found",
      "{\"type\":\"download\",\"file\":%" G_GINT64_FORMAT ",\"index\":0}", file);
  e4 = natter_test_client_request_error (m, "not_found",
      "{\"type\":\"download\",\"file\":%" G_GINT64_FORMAT ",\"index\":0}", file + 1000);
  /* The same bytes uploaded by mallory make mallory's own file: the
   * same one, readable now because it is mallory's upload too. */
  {
    g_autoptr(JsonObject) u2 = begin (m, bytes);
    gint64 id2 = natter_test_get_int (u2, "upload");

    put_chunk (m, id2, bytes, 1);
    g_assert_cmpint (put_chunk (m, id2, bytes, 0), ==, file);
    assert_download (m, file, bytes);
  }
}

/* kill -9 with chunks acknowledged: after the restart they are there,
 * nothing else is, and the upload finishes. */
static void
test_kill_mid_upload (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (FILES_ON, NULL);
  g_autoptr(NatterTestClient) c = util_feature_user (srv, "alice", "files");
  g_autoptr(NatterTestClient) c2 = NULL;
  g_autoptr(GBytes) bytes = make_bytes (6 * CHUNK, 11);
  g_autoptr(JsonObject) u = begin (c, bytes), u2 = NULL;
  gint64 id = natter_test_get_int (u, "upload"), file = 0;
  g_autofree char *m = NULL;

  put_chunk (c, id, bytes, 0);
  put_chunk (c, id, bytes, 2);
  {
    /* Sent, never acknowledged before the kill: may or may not be kept. */
    g_autofree char *json = chunk_request (id, bytes, 4);

    natter_test_client_sendf (c, "%s\n", json);
  }
  natter_test_server_kill (srv);
  g_clear_pointer (&c, natter_test_client_free);
  natter_test_server_restart (srv);

  c2 = files_login (srv, "alice");
  u2 = status (c2, id);
  m = missing_text (u2);
  g_assert_true (g_str_equal (m, "[1,2)[3,6)") || g_str_equal (m, "[1,2)[3,4)[5,6)"));
  for (gint64 i = 0; i < 6; i++)
    {
      gint64 f = put_chunk (c2, id, bytes, i);

      if (f != 0)
        file = f;
    }
  g_assert_cmpint (file, >, 0);

  /* And after the last acknowledgement: the file survives a kill. */
  natter_test_server_kill (srv);
  g_clear_pointer (&c2, natter_test_client_free);
  natter_test_server_restart (srv);
  c2 = files_login (srv, "alice");
  assert_download (c2, file, bytes);
  assert_file_on_disk (srv, bytes);
}

/* An upload with no chunk for longer than upload_expiry is gone at the next check. */
static void
test_expiry (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (FILES_ON "upload_expiry=1\n", NULL);
  g_autoptr(NatterTestClient) c = util_feature_user (srv, "alice", "files");
  g_autoptr(GBytes) bytes = make_bytes (10, 1);
  g_autoptr(GBytes) done = make_bytes (CHUNK + 3, 2);
  g_autoptr(JsonObject) u = begin (c, bytes), u2 = begin (c, done), e = NULL, e2 = NULL;
  gint64 id = natter_test_get_int (u, "upload"), file;

  /* A finished upload never sent in a message goes too, and its file. */
  put_chunk (c, natter_test_get_int (u2, "upload"), done, 0);
  file = put_chunk (c, natter_test_get_int (u2, "upload"), done, 1);
  g_assert_cmpint (file, >, 0);

  /* Expiry runs at start (and every 10 minutes): a restart more than the
   * second of upload_expiry later drops it. The wait is the clock the
   * limit measures, not a synchronisation. */
  g_clear_pointer (&e, json_object_unref);
  e = status (c, id);
  g_usleep (1100 * 1000);
  natter_test_server_restart (srv);
  g_clear_pointer (&c, natter_test_client_free);
  c = files_login (srv, "alice");
  e = natter_test_client_request_error (c, "not_found",
      "{\"type\":\"upload_status\",\"upload\":%" G_GINT64_FORMAT "}", id);
  e2 = natter_test_client_request_error (c, "not_found",
      "{\"type\":\"download\",\"file\":%" G_GINT64_FORMAT ",\"index\":0}", file);
}

/* A server of several nodes does not offer files, even when asked to:
 * a message's files do not travel on the bus yet. Only in cluster mode. */
static void
test_cluster_not_offered (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (FILES_ON, NULL);
  g_autoptr(NatterTestClient) c = natter_test_client_new (srv);
  g_autoptr(JsonObject) ok = NULL, e = NULL;

  util_assert_strings (natter_test_get_array (natter_test_client_get_welcome (c), "features"),
                       "message_actions", NULL);
  ok = natter_test_client_request_ok (c,
      "{\"type\":\"register\",\"username\":\"alice\",\"password\":\"%s\",\"features\":[\"files\"]}",
      NATTER_TEST_PASSWORD);
  util_assert_strings (natter_test_get_array (ok, "features"), NULL);
  e = natter_test_client_request_error (c, "unknown_type",
      "{\"type\":\"upload_begin\",\"size\":1,\"sha256\":\"%064d\"}", 0);
}

int
main (int   argc,
      char *argv[])
{
  natter_test_init (&argc, &argv);
  natter_test_add_single_node ("/files/not-offered-by-default", test_not_offered_by_default, NOT_ON_A_CLUSTER);
  natter_test_add_single_node ("/files/protocol1", test_protocol1, NOT_ON_A_CLUSTER);
  natter_test_add_single_node ("/files/upload-orders", test_upload_orders, NOT_ON_A_CLUSTER);
  natter_test_add_single_node ("/files/resume", test_resume, NOT_ON_A_CLUSTER);
  natter_test_add_single_node ("/files/bad-chunks", test_bad_chunks, NOT_ON_A_CLUSTER);
  natter_test_add_single_node ("/files/flow", test_flow, NOT_ON_A_CLUSTER);
  natter_test_add_single_node ("/files/memory-flat", test_memory_flat, "measures one natterd's memory");
  natter_test_add_single_node ("/files/limits", test_limits, NOT_ON_A_CLUSTER);
  natter_test_add_single_node ("/files/stranger", test_stranger, NOT_ON_A_CLUSTER);
  natter_test_add_single_node ("/files/kill-mid-upload", test_kill_mid_upload, "restarts its natterd");
  natter_test_add_single_node ("/files/expiry", test_expiry, "restarts its natterd");
  if (natter_test_cluster_size () > 1)
    natter_test_add ("/files/cluster-not-offered", test_cluster_not_offered);
  return g_test_run ();
}
