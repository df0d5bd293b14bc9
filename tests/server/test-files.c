/* test-files.c: the feature files (docs/protocol.md, "Files"): uploads in
 * chunks in any order and resumed on another connection, what a bad
 * chunk or a wrong hash gets, the limits at upload_begin, downloads only
 * for who may read, a kill -9 in the middle of an upload, expiry; files
 * in messages as each kind of connection reads them, who may download a
 * shared file, and the space freed when the last message holding it goes.
 */
#define G_LOG_DOMAIN "natter-test"

#include <string.h>

#include "natter-test-pg.h"
#include "server-test-util.h"

#define CHUNK 32768
#define FILES_ON "[server]\nfiles=true\n" UTIL_RELAXED_LIMITS
#define NOT_ON_A_CLUSTER "a server of several nodes does not offer files yet (docs/cluster.md)"
#define ALL_FEATURES "\"message_actions\",\"room_management\",\"files\""

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

/* --- files in messages --- */

/* A register or login (@type) with every feature on. */
static NatterTestClient *
full_client (NatterTestServer *srv,
             const char       *type,
             const char       *username)
{
  NatterTestClient *c = natter_test_client_new (srv);
  g_autoptr(JsonObject) r = natter_test_client_request_ok (c,
      "{\"type\":\"%s\",\"username\":\"%s\",\"password\":\"%s\",\"features\":[" ALL_FEATURES "]}",
      type, username, NATTER_TEST_PASSWORD);

  util_assert_strings (natter_test_get_array (r, "features"), "message_actions", "room_management", "files", NULL);
  return c;
}

/* Uploads @bytes whole: the file's id. */
static gint64
upload (NatterTestClient *c,
        GBytes           *bytes)
{
  g_autoptr(JsonObject) u = begin (c, bytes);
  gint64 id = natter_test_get_int (u, "upload"), file = 0;

  for (gint64 i = 0; i < chunks_of (bytes); i++)
    {
      gint64 f = put_chunk (c, id, bytes, i);

      if (f != 0)
        file = f;
    }
  g_assert_cmpint (file, >, 0);
  return file;
}

/* A send of @body to @to with one file, "image/jpeg" of 640x480, and a
 * preview "image/png" of 32x24 when @preview is not 0; the request's
 * text. */
static char *
send_json (const char *to,
           const char *body,
           const char *client_msg_id,
           gint64      file,
           const char *name,
           gint64      preview)
{
  g_autofree char *preview_json = preview == 0 ? g_strdup ("") : g_strdup_printf (
      ",\"preview\":{\"file\":%" G_GINT64_FORMAT ",\"mime\":\"image/png\",\"width\":32,\"height\":24}", preview);

  return g_strdup_printf ("{\"type\":\"send\",\"to\":\"%s\",\"body\":\"%s\",\"client_msg_id\":\"%s\","
                          "\"files\":[{\"file\":%" G_GINT64_FORMAT ",\"name\":\"%s\",\"mime\":\"image/jpeg\","
                          "\"width\":640,\"height\":480%s}]}", to, body, client_msg_id, file, name, preview_json);
}

/* send_json, asserting ok: the stored message. */
static JsonObject *
send_file (NatterTestClient *c,
           const char       *to,
           const char       *body,
           const char       *client_msg_id,
           gint64            file,
           const char       *name,
           gint64            preview)
{
  g_autofree char *json = send_json (to, body, client_msg_id, file, name, preview);
  g_autoptr(JsonObject) r = natter_test_client_request (c, json);

  natter_assert_ok (r);
  return json_object_ref (natter_test_get_object (r, "message"));
}

static void
assert_file_fields (JsonObject *f,
                    gint64      file,
                    GBytes     *bytes,
                    const char *mime,
                    gint64      width,
                    gint64      height)
{
  g_autofree char *sha = sha256_of (bytes);

  g_assert_cmpint (natter_test_get_int (f, "file"), ==, file);
  g_assert_cmpint (natter_test_get_int (f, "size"), ==, g_bytes_get_size (bytes));
  g_assert_cmpstr (natter_test_get_str (f, "sha256"), ==, sha);
  g_assert_cmpstr (natter_test_get_str (f, "mime"), ==, mime);
  g_assert_cmpint (natter_test_get_int (f, "width"), ==, width);
  g_assert_cmpint (natter_test_get_int (f, "height"), ==, height);
}

/* @message (a message object as a connection with files reads it)
 * carries one file, as send_file sent it. */
static void
assert_one_file (JsonObject *message,
                 gint64      file,
                 GBytes     *bytes,
                 const char *name,
                 gint64      preview,
                 GBytes     *preview_bytes)
{
  JsonArray *files = natter_test_get_array (message, "files");
  JsonObject *f;

  g_assert_cmpuint (json_array_get_length (files), ==, 1);
  f = json_array_get_object_element (files, 0);
  assert_file_fields (f, file, bytes, "image/jpeg", 640, 480);
  g_assert_cmpstr (natter_test_get_str (f, "name"), ==, name);
  if (preview == 0)
    g_assert_true (natter_test_is_null (f, "preview"));
  else
    assert_file_fields (natter_test_get_object (f, "preview"), preview, preview_bytes, "image/png", 32, 24);
}

/* The same message as a connection without files reads it: no files,
 * the text and a line per file in the body. */
static void
assert_file_lines (JsonObject *message,
                   const char *body)
{
  g_assert_false (json_object_has_member (message, "files"));
  g_assert_cmpstr (natter_test_get_str (message, "body"), ==, body);
}

/* The message @id of a history page of @conversation. */
static JsonObject *
history_message (NatterTestClient *c,
                 const char       *conversation,
                 gint64            id)
{
  g_autoptr(JsonObject) r = natter_test_client_request_ok (c,
      "{\"type\":\"history\",\"conversation\":\"%s\"}", conversation);
  JsonArray *messages = natter_test_get_array (r, "messages");

  for (guint i = 0; i < json_array_get_length (messages); i++)
    {
      JsonObject *m = json_array_get_object_element (messages, i);

      if (natter_test_get_int (m, "id") == id)
        return json_object_ref (m);
    }
  g_assert_not_reached ();
}

static void
assert_not_downloadable (NatterTestClient *c,
                         gint64            file)
{
  g_autoptr(JsonObject) e = natter_test_client_request_error (c, "not_found",
      "{\"type\":\"download\",\"file\":%" G_GINT64_FORMAT ",\"index\":0}", file);
}

/* A message with a file and its preview, in a direct conversation: the
 * ack, the event, history, sync, conversations and search give the file
 * objects on connections with files, and a line per file in the body on
 * the others; the partner downloads both; a resend answers the original. */
static void
test_send_with_files (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (FILES_ON, NULL);
  g_autoptr(NatterTestClient) alice = full_client (srv, "register", "alice");
  g_autoptr(NatterTestClient) bob = full_client (srv, "register", "bob");
  g_autoptr(NatterTestClient) bob1 = natter_test_client_new_login (srv, "bob");
  g_autoptr(NatterTestClient) mallory = full_client (srv, "register", "mallory");
  g_autoptr(GBytes) photo = make_bytes (2 * CHUNK + 10, 31), thumb = make_bytes (500, 32);
  g_autoptr(GBytes) doc = make_bytes (7, 33);
  gint64 file = upload (alice, photo), preview = upload (alice, thumb), id, doc_file;
  g_autoptr(JsonObject) m = send_file (alice, "@bob", "the beach!", "c1", file, "beach.jpg", preview);
  g_autoptr(JsonObject) ev = NULL, ev1 = NULL, h = NULL, h1 = NULL, r = NULL, again = NULL, e = NULL;
  g_autofree char *lines = g_strdup_printf ("the beach!\n[file: beach.jpg, %" G_GSIZE_FORMAT " bytes]",
                                            g_bytes_get_size (photo));
  g_autofree char *resend = send_json ("@bob", "the beach!", "c1", 999999, "other.jpg", 0);

  id = natter_test_get_int (m, "id");
  assert_one_file (m, file, photo, "beach.jpg", preview, thumb);
  g_assert_cmpstr (natter_test_get_str (m, "body"), ==, "the beach!");
  ev = util_wait_message (bob, id);
  assert_one_file (natter_test_get_object (ev, "message"), file, photo, "beach.jpg", preview, thumb);
  ev1 = util_wait_message (bob1, id);
  assert_file_lines (natter_test_get_object (ev1, "message"), lines);

  /* The partner downloads both; a stranger knowing the ids may not. */
  assert_download (bob, file, photo);
  assert_download (bob, preview, thumb);
  assert_not_downloadable (mallory, file);
  assert_not_downloadable (mallory, preview);

  h = history_message (bob, "@alice", id);
  assert_one_file (h, file, photo, "beach.jpg", preview, thumb);
  h1 = history_message (bob1, "@alice", id);
  assert_file_lines (h1, lines);
  {
    g_autoptr(JsonObject) sync = natter_test_client_request_ok (bob, "{\"type\":\"sync\",\"since\":0}");
    g_autoptr(JsonObject) sync1 = natter_test_client_request_ok (bob1, "{\"type\":\"sync\",\"since\":0}");
    g_autoptr(JsonObject) convs = natter_test_client_request_ok (bob, "{\"type\":\"conversations\"}");
    g_autoptr(JsonObject) convs1 = natter_test_client_request_ok (bob1, "{\"type\":\"conversations\"}");
    g_autoptr(JsonObject) found = natter_test_client_request_ok (bob, "{\"type\":\"search\",\"query\":\"beach\"}");
    g_autoptr(JsonObject) none = natter_test_client_request_ok (bob1, "{\"type\":\"search\",\"query\":\"bytes\"}");

    assert_one_file (natter_test_get_object (sync, "messages.0"), file, photo, "beach.jpg", preview, thumb);
    assert_file_lines (natter_test_get_object (sync1, "messages.0"), lines);
    assert_one_file (natter_test_get_object (convs, "conversations.0.last_message"), file, photo, "beach.jpg",
                     preview, thumb);
    assert_file_lines (natter_test_get_object (convs1, "conversations.0.last_message"), lines);
    assert_one_file (natter_test_get_object (found, "messages.0"), file, photo, "beach.jpg", preview, thumb);
    /* The lines are not words of the message. */
    g_assert_cmpuint (json_array_get_length (natter_test_get_array (none, "messages")), ==, 0);
  }

  /* A resend answers the original, files included, whatever it names. */
  r = natter_test_client_request (alice, resend);
  natter_assert_ok (r);
  g_assert_cmpint (natter_test_get_int (r, "message.id"), ==, id);
  assert_one_file (natter_test_get_object (r, "message"), file, photo, "beach.jpg", preview, thumb);
  /* Sent, the uploads are over: their ids are gone, the files are the
   * message's. */
  e = natter_test_client_request_error (alice, "not_found",
      "{\"type\":\"upload_status\",\"upload\":%" G_GINT64_FORMAT "}", file);
  assert_download (alice, file, photo);

  /* Files and no text; a protocol-1 connection reads the lines alone. */
  doc_file = upload (alice, doc);
  again = natter_test_client_request_ok (alice,
      "{\"type\":\"send\",\"to\":\"@bob\",\"body\":\"\",\"client_msg_id\":\"c2\","
      "\"files\":[{\"file\":%" G_GINT64_FORMAT ",\"name\":\"notes.txt\",\"mime\":\"text/plain\"}]}", doc_file);
  {
    g_autoptr(JsonObject) ev2 = util_wait_message (bob1, natter_test_get_int (again, "message.id"));
    JsonObject *f = natter_test_get_object (again, "message.files.0");

    assert_file_lines (natter_test_get_object (ev2, "message"), "[file: notes.txt, 7 bytes]");
    g_assert_cmpstr (natter_test_get_str (again, "message.body"), ==, "");
    /* No width or height given: none in the object. */
    g_assert_false (json_object_has_member (f, "width"));
    g_assert_false (json_object_has_member (f, "height"));
    g_assert_true (natter_test_is_null (f, "preview"));
  }
}

/* What a send's files may not be: each rule, and files the sender may
 * not attach (another's, none, an upload not finished). Nothing is
 * stored. A connection without files: "files" is an unknown field. */
static void
test_send_files_refused (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (FILES_ON, NULL);
  g_autoptr(NatterTestClient) alice = full_client (srv, "register", "alice");
  g_autoptr(NatterTestClient) bob = full_client (srv, "register", "bob");
  g_autoptr(NatterTestClient) alice1 = natter_test_client_new_login (srv, "alice");
  g_autoptr(GBytes) mine = make_bytes (100, 41), theirs = make_bytes (100, 42), half = make_bytes (CHUNK + 1, 43);
  gint64 file = upload (alice, mine), bobs = upload (bob, theirs), unfinished;
  g_autoptr(JsonObject) u = begin (alice, half), h = NULL, p1 = NULL;
  g_autofree char *eleven = NULL;
  static const char *const bad[] = {
    "[]", "{}", "\"x\"", "[1]",
    "[{\"file\":FILE,\"mime\":\"image/png\"}]",
    "[{\"file\":FILE,\"name\":\"a\"}]",
    "[{\"file\":0,\"name\":\"a\",\"mime\":\"image/png\"}]",
    "[{\"name\":\"a\",\"mime\":\"image/png\"}]",
    "[{\"file\":FILE,\"name\":\"a/b\",\"mime\":\"image/png\"}]",
    "[{\"file\":FILE,\"name\":\"a\\\\b\",\"mime\":\"image/png\"}]",
    "[{\"file\":FILE,\"name\":\"..\",\"mime\":\"image/png\"}]",
    "[{\"file\":FILE,\"name\":\"\",\"mime\":\"image/png\"}]",
    "[{\"file\":FILE,\"name\":\"a\\tb\",\"mime\":\"image/png\"}]",
    "[{\"file\":FILE,\"name\":\"a\",\"mime\":\"image\"}]",
    "[{\"file\":FILE,\"name\":\"a\",\"mime\":\"a/b/c\"}]",
    "[{\"file\":FILE,\"name\":\"a\",\"mime\":\"im age/png\"}]",
    "[{\"file\":FILE,\"name\":\"a\",\"mime\":\"image/png\",\"width\":10}]",
    "[{\"file\":FILE,\"name\":\"a\",\"mime\":\"image/png\",\"width\":0,\"height\":1}]",
    "[{\"file\":FILE,\"name\":\"a\",\"mime\":\"image/png\",\"width\":1,\"height\":65536}]",
    "[{\"file\":FILE,\"name\":\"a\",\"mime\":\"image/png\",\"preview\":7}]",
    "[{\"file\":FILE,\"name\":\"a\",\"mime\":\"image/png\",\"preview\":{\"file\":FILE}}]",
  };
  GString *many = g_string_new ("[");

  unfinished = natter_test_get_int (u, "upload");
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GString) files = g_string_new (bad[i]);
      g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, file);
      g_autoptr(JsonObject) e = NULL;

      g_string_replace (files, "FILE", id, 0);
      e = natter_test_client_request_error (alice, "invalid_argument",
          "{\"type\":\"send\",\"to\":\"@bob\",\"body\":\"x\",\"client_msg_id\":\"b%u\",\"files\":%s}",
          i, files->str);
    }
  for (guint i = 0; i <= 10; i++)
    g_string_append_printf (many, "%s{\"file\":%" G_GINT64_FORMAT ",\"name\":\"a\",\"mime\":\"image/png\"}",
                            i > 0 ? "," : "", file);
  g_string_append_c (many, ']');
  eleven = g_string_free (many, FALSE);
  {
    g_autoptr(JsonObject) e = natter_test_client_request_error (alice, "invalid_argument",
        "{\"type\":\"send\",\"to\":\"@bob\",\"body\":\"x\",\"client_msg_id\":\"many\",\"files\":%s}", eleven);
    /* No text without files. */
    g_autoptr(JsonObject) e2 = natter_test_client_request_error (alice, "invalid_argument",
        "{\"type\":\"send\",\"to\":\"@bob\",\"body\":\"\",\"client_msg_id\":\"empty\"}");
  }
  /* Someone else's file, none at all, an upload not finished, a preview
   * of someone else's: not_found, as alike as the download's. */
  {
    const gint64 refused[][2] = { { bobs, 0 }, { bobs + 1000, 0 }, { unfinished, 0 }, { file, bobs } };

    for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
      {
        g_autofree char *json = send_json ("@bob", "x", "nf", refused[i][0], "a.jpg", refused[i][1]);
        g_autoptr(JsonObject) e = natter_test_client_request (alice, json);

        natter_assert_error (e, "not_found");
      }
  }
  h = natter_test_client_request_ok (alice, "{\"type\":\"history\",\"conversation\":\"@bob\"}");
  g_assert_cmpuint (json_array_get_length (natter_test_get_array (h, "messages")), ==, 0);
  /* Nothing was used up: the upload is still there to send. */
  {
    g_autoptr(JsonObject) m = send_file (alice, "@bob", "now", "ok1", file, "a.jpg", 0);

    assert_one_file (m, file, mine, "a.jpg", 0, NULL);
  }

  /* Without the feature: files ignored, a body needed. */
  {
    g_autofree char *json = send_json ("@bob", "", "p0", file, "a.jpg", 0);
    g_autofree char *json1 = send_json ("@bob", "plain", "p1", 999999, "a.jpg", 0);
    g_autoptr(JsonObject) e = natter_test_client_request (alice1, json);

    natter_assert_error (e, "invalid_argument");
    p1 = natter_test_client_request (alice1, json1);
    natter_assert_ok (p1);
    assert_file_lines (natter_test_get_object (p1, "message"), "plain");
  }
}

/* Who may download a file shared in a room: its members, while they are
 * members (one who joins later too: history shows it to them); not one
 * who left or was kicked, nor anyone else, whatever they know of it. A
 * member may forward it; a former member may not. */
static void
test_download_members (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (FILES_ON, NULL);
  g_autoptr(NatterTestClient) alice = full_client (srv, "register", "alice");
  g_autoptr(NatterTestClient) bob = full_client (srv, "register", "bob");
  g_autoptr(NatterTestClient) carol = full_client (srv, "register", "carol");
  g_autoptr(NatterTestClient) dave = full_client (srv, "register", "dave");
  g_autoptr(GBytes) bytes = make_bytes (CHUNK + 100, 51);
  g_autoptr(JsonObject) m = NULL, fwd = NULL, left = NULL, kicked = NULL;
  gint64 file;

  util_room_create (alice, "#pics");
  util_room_join (bob, "#pics");
  file = upload (alice, bytes);
  m = send_file (alice, "#pics", "look", "r1", file, "pic.jpg", 0);

  assert_download (bob, file, bytes);
  assert_not_downloadable (carol, file);
  util_room_join (carol, "#pics");
  assert_download (carol, file, bytes);

  /* bob forwards it to dave, who may then download it. */
  fwd = send_file (bob, "@dave", "from #pics", "f1", file, "pic.jpg", 0);
  assert_one_file (fwd, file, bytes, "pic.jpg", 0, NULL);
  assert_download (dave, file, bytes);

  left = natter_test_client_request_ok (carol, "{\"type\":\"room_leave\",\"room\":\"#pics\"}");
  assert_not_downloadable (carol, file);
  {
    g_autofree char *json = send_json ("@dave", "x", "f2", file, "pic.jpg", 0);
    g_autoptr(JsonObject) e = natter_test_client_request (carol, json);

    natter_assert_error (e, "not_found");
  }
  kicked = natter_test_client_request_ok (alice, "{\"type\":\"room_kick\",\"room\":\"#pics\",\"username\":\"bob\"}");
  /* bob still has it through his message to dave. */
  assert_download (bob, file, bytes);
}

/* Whether @bytes are stored: SQLite, as a file of the data directory;
 * PostgreSQL, as a files row with chunks. */
static gboolean
bytes_stored (NatterTestServer *srv,
              GBytes           *bytes)
{
  g_autofree char *sha = sha256_of (bytes);

  if (natter_test_on_postgresql ())
    {
      g_autoptr(NatterTestPg) pg = natter_test_pg_attach ();
      const char *conninfo = natter_test_server_get_database (srv);
      const char *at = strstr (conninfo, "dbname=");
      g_autofree char *dbname = g_strndup (at + 7, strcspn (at + 7, " "));
      g_autofree char *rows = g_strdup_printf ("SELECT count (*) FROM files WHERE sha256 = '%s'", sha);
      g_autofree char *chunks = g_strdup_printf (
          "SELECT count (*) FROM blob_chunks c JOIN files f ON f.id = c.blob_id WHERE f.sha256 = '%s'", sha);
      gint64 n = natter_test_pg_query_int (pg, dbname, rows);

      g_assert_cmpint (n, <=, 1); /* stored once, whoever sent it */
      g_assert_cmpint (natter_test_pg_query_int (pg, dbname, chunks), ==, n * chunks_of (bytes));
      if (n == 0) /* and no chunk of it left behind under another blob */
        g_assert_cmpint (natter_test_pg_query_int (pg, dbname,
            "SELECT count (*) FROM blob_chunks WHERE blob_id NOT IN (SELECT id FROM files)"
            " AND blob_id NOT IN (SELECT id FROM uploads WHERE file_id IS NULL)"), ==, 0);
      return n == 1;
    }
  {
    char prefix[3] = { sha[0], sha[1], '\0' };
    g_autofree char *path = g_build_filename (natter_test_server_get_data_dir (srv), "files", prefix, sha, NULL);

    return g_file_test (path, G_FILE_TEST_EXISTS);
  }
}

static void
delete_message (NatterTestClient *c,
                gint64            id)
{
  g_autoptr(JsonObject) r = natter_test_client_request_ok (c,
      "{\"type\":\"delete\",\"message\":%" G_GINT64_FORMAT "}", id);
}

/* A file sent twice is stored once and counts once against the quota;
 * deleting one message keeps it, deleting the last frees it (its bytes
 * gone from the data directory or the table, its id not_found, the
 * quota back); a room's deletion frees the files of its messages. The
 * deleted message reads without files. */
static void
test_freeing (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (
      FILES_ON "max_file_bytes=250000\nquota_bytes_per_user=300000\n", NULL);
  g_autoptr(NatterTestClient) alice = full_client (srv, "register", "alice");
  g_autoptr(NatterTestClient) bob = full_client (srv, "register", "bob");
  g_autoptr(GBytes) photo = make_bytes (100000, 61), other = make_bytes (5000, 62);
  gint64 file = upload (alice, photo), m1, m2, room_file;
  g_autoptr(JsonObject) s1 = send_file (alice, "@bob", "one", "q1", file, "p.jpg", 0);
  g_autoptr(JsonObject) s2 = send_file (alice, "@bob", "two", "q2", file, "p.jpg", 0);
  g_autoptr(JsonObject) big = NULL, over = NULL, after = NULL, h = NULL, del = NULL;
  g_autofree char *sha = sha256_of (photo);

  m1 = natter_test_get_int (s1, "id");
  m2 = natter_test_get_int (s2, "id");
  g_assert_true (bytes_stored (srv, photo));
  /* 100000 once: 200000 more fits 300000, 200001 does not. */
  over = natter_test_client_request_error (alice, "quota_exceeded",
      "{\"type\":\"upload_begin\",\"size\":200001,\"sha256\":\"%s\"}", sha);
  big = natter_test_client_request_ok (alice,
      "{\"type\":\"upload_begin\",\"size\":200000,\"sha256\":\"%s\"}", sha);

  delete_message (alice, m1);
  g_assert_true (bytes_stored (srv, photo));
  assert_download (bob, file, photo);
  delete_message (alice, m2);
  g_assert_false (bytes_stored (srv, photo));
  assert_not_downloadable (bob, file);
  assert_not_downloadable (alice, file);
  h = history_message (bob, "@alice", m2);
  g_assert_false (json_object_has_member (h, "files"));
  g_assert_true (natter_test_get_bool (h, "deleted"));
  /* The 200000 in progress and 100000 more fit again. */
  after = natter_test_client_request_ok (alice,
      "{\"type\":\"upload_begin\",\"size\":100000,\"sha256\":\"%s\"}", sha);

  util_room_create (bob, "#tmp");
  room_file = upload (bob, other);
  {
    g_autoptr(JsonObject) m = send_file (bob, "#tmp", "", "t1", room_file, "o.jpg", 0);
  }
  g_assert_true (bytes_stored (srv, other));
  del = natter_test_client_request_ok (bob, "{\"type\":\"room_delete\",\"room\":\"#tmp\"}");
  g_assert_false (bytes_stored (srv, other));
  assert_not_downloadable (bob, room_file);
}

/* kill -9 after a send with a file was acknowledged: after the restart
 * the message has its file, and the file its bytes. */
static void
test_kill_after_send (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (FILES_ON, NULL);
  g_autoptr(NatterTestClient) alice = full_client (srv, "register", "alice");
  g_autoptr(NatterTestClient) bob = full_client (srv, "register", "bob");
  g_autoptr(GBytes) bytes = make_bytes (3 * CHUNK + 1, 71);
  gint64 file = upload (alice, bytes), id;
  g_autoptr(JsonObject) m = send_file (alice, "@bob", "kept", "k1", file, "k.jpg", 0), h = NULL;

  id = natter_test_get_int (m, "id");
  natter_test_server_kill (srv);
  g_clear_pointer (&bob, natter_test_client_free);
  natter_test_server_restart (srv);
  bob = full_client (srv, "login", "bob");
  h = history_message (bob, "@alice", id);
  assert_one_file (h, file, bytes, "k.jpg", 0, NULL);
  assert_download (bob, file, bytes);
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
                       "message_actions", "room_management", NULL);
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
  natter_test_add_single_node ("/files/send-with-files", test_send_with_files, NOT_ON_A_CLUSTER);
  natter_test_add_single_node ("/files/send-files-refused", test_send_files_refused, NOT_ON_A_CLUSTER);
  natter_test_add_single_node ("/files/download-members", test_download_members, NOT_ON_A_CLUSTER);
  natter_test_add_single_node ("/files/freeing", test_freeing, NOT_ON_A_CLUSTER);
  natter_test_add_single_node ("/files/kill-after-send", test_kill_after_send, "restarts its natterd");
  if (natter_test_cluster_size () > 1)
    natter_test_add ("/files/cluster-not-offered", test_cluster_not_offered);
  return g_test_run ();
}
