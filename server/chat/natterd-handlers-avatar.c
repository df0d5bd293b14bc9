/* natterd-handlers-avatar.c: a user's picture, feature accounts
 * (docs/protocol.md, "avatar_set, avatar").
 *
 * natterd keeps the bytes as the user's app made them and never decodes
 * them (an image decoder is the largest attack surface a server could
 * add): it checks only the size and that they begin as a PNG, JPEG or
 * WebP file does, so that no app is handed something else as a picture,
 * and the receiving app decodes them under its own pixel limit. The
 * directory keeps each picture's SHA-256, which every user object
 * carries (apps cache pictures by it); the bytes stay in the store and
 * are read on the reader thread when an app asks for them.
 */
#define G_LOG_DOMAIN "natterd-accounts"

#include "config.h"

#include <string.h>

#include "natterd-handlers-private.h"
#include "natterd-model-write.h"
#include "natterd-presence.h"
#include "natterd-reads.h"

/* PNG, JPEG and WebP, by their first bytes. */
static gboolean
looks_like_picture (const guint8 *data,
                    gsize         len)
{
  static const guint8 png[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  static const guint8 jpeg[] = { 0xff, 0xd8, 0xff };

  if (len >= sizeof png && memcmp (data, png, sizeof png) == 0)
    return TRUE;
  if (len >= sizeof jpeg && memcmp (data, jpeg, sizeof jpeg) == 0)
    return TRUE;
  return len >= 12 && memcmp (data, "RIFF", 4) == 0 && memcmp (data + 8, "WEBP", 4) == 0;
}

/* --- avatar_set --- */

typedef struct {
  NatterdModelWrite write;
  NatterdUser      *user;
  gint64            user_id;
  GBytes           *data;    /* NULL: removed */
  char             *sha256;
} AvatarSet;

static void
avatar_set_clear (gpointer data)
{
  AvatarSet *a = data;

  g_clear_pointer (&a->data, g_bytes_unref);
  g_free (a->sha256);
}

static gboolean
avatar_set_run (NatterdWriteJob *job,
                NatterdStore    *store,
                GError         **error)
{
  AvatarSet *a = (AvatarSet *) job;

  return natterd_store_avatar_set (store, a->user_id, a->data, a->sha256, error);
}

static void
avatar_set_apply (NatterdModelWrite *write,
                  const GError      *error)
{
  AvatarSet *a = (AvatarSet *) write;
  NatterdRequest *request = write->write.request;

  if (error != NULL)
    {
      natterd_request_job_error (request, error);
      return;
    }
  g_free (a->user->avatar);
  a->user->avatar = g_steal_pointer (&a->sha256);
  /* Told as a new display name is: where presence goes. */
  natterd_presence_update (natterd_directory_from_request (request), a->user, TRUE,
                           natterd_request_get_connection (request));
  natterd_reply_user (request, a->user);
}

void
natterd_handle_avatar_set (NatterdRequest *request)
{
  NatterdDirectory *dir = natterd_directory_from_request (request);
  NatterdUser *me = natterd_session_request_user (request);
  JsonNode *node = json_object_get_member (natterd_request_get_frame (request), "data");
  g_autofree guint8 *bytes = NULL;
  g_autofree char *sha256 = NULL;
  const char *text = NULL;
  gsize len = 0;
  AvatarSet *a;

  if (node == NULL || !JSON_NODE_HOLDS_NULL (node))
    {
      if (!natterd_arg_string (request, "data", TRUE, &text))
        return;
      /* Longer text cannot decode to an allowed size: not decoded. */
      if (strlen (text) > (NATTERD_STORE_AVATAR_MAX_BYTES + 2) / 3 * 4 ||
          (bytes = natterd_base64_decode_strict (text, &len)) == NULL)
        {
          natterd_request_error (request, NATTER_ERROR_INVALID_ARGUMENT,
                                 "data must be a picture of at most 32768 bytes in standard base64 with padding");
          return;
        }
      if (len > NATTERD_STORE_AVATAR_MAX_BYTES)
        {
          natterd_request_error (request, NATTER_ERROR_INVALID_ARGUMENT,
                                 "data must be a picture of at most 32768 bytes in standard base64 with padding");
          return;
        }
      if (!looks_like_picture (bytes, len))
        {
          natterd_request_error (request, NATTER_ERROR_INVALID_ARGUMENT, "data must be a PNG, JPEG or WebP picture");
          return;
        }
      sha256 = g_compute_checksum_for_data (G_CHECKSUM_SHA256, bytes, len);
    }
  if (natterd_model_write_wait (dir, request, natterd_handle_avatar_set))
    return;
  /* The same picture, or none again: nothing to store or tell. */
  if (g_strcmp0 (sha256, me->avatar) == 0)
    {
      natterd_reply_user (request, me);
      return;
    }
  a = g_new0 (AvatarSet, 1);
  a->user = me;
  a->user_id = me->id;
  a->sha256 = g_steal_pointer (&sha256);
  if (bytes != NULL)
    a->data = g_bytes_new_take (g_steal_pointer (&bytes), len);
  natterd_model_write_start (&a->write, request, avatar_set_run, avatar_set_apply, avatar_set_clear);
}

/* --- avatar --- */

typedef struct {
  NatterdWriteJob    job;
  NatterdRequest    *request;
  NatterdConnection *connection;  /* holds the request's connection */
  char              *username;
  gint64             user_id;
  GBytes            *data;
  char              *sha256;
} AvatarRead;

static gboolean
avatar_read_run (NatterdWriteJob *job,
                 NatterdStore    *store,
                 GError         **error)
{
  AvatarRead *r = (AvatarRead *) job;

  return natterd_store_avatar_get (store, r->user_id, &r->data, &r->sha256, error);
}

static void
avatar_read_done (NatterdWriteJob *job,
                  const GError    *error)
{
  AvatarRead *r = (AvatarRead *) job;

  if (error != NULL)
    natterd_request_job_error (r->request, error);
  else if (r->data == NULL)
    /* Removed since the user object was read. */
    natterd_request_error (r->request, NATTER_ERROR_NOT_FOUND, "That user has no picture");
  else
    {
      NatterJsonWriter *w = natterd_request_begin_ok (r->request);
      gsize len;
      gconstpointer data = g_bytes_get_data (r->data, &len);
      g_autofree char *text = g_base64_encode (data, len);

      natter_json_writer_key (w, "username");
      natter_json_writer_string (w, r->username);
      natter_json_writer_key (w, "avatar");
      natter_json_writer_string (w, r->sha256);
      natter_json_writer_key (w, "data");
      natter_json_writer_string (w, text);
      natterd_request_finish_ok (r->request);
    }
  natterd_connection_unref (r->connection);
  g_clear_pointer (&r->data, g_bytes_unref);
  g_free (r->sha256);
  g_free (r->username);
  g_free (r);
}

void
natterd_handle_avatar (NatterdRequest *request)
{
  NatterdDirectory *dir = natterd_directory_from_request (request);
  NatterdUser *user = natterd_arg_user (request, "username");
  AvatarRead *r;

  if (user == NULL)
    return;
  if (user->avatar == NULL)
    {
      natterd_request_error (request, NATTER_ERROR_NOT_FOUND, "That user has no picture");
      return;
    }
  r = g_new0 (AvatarRead, 1);
  r->job.run = avatar_read_run;
  r->job.done = avatar_read_done;
  r->request = request;
  r->connection = natterd_connection_ref (natterd_request_get_connection (request));
  r->username = g_strdup (user->username);
  r->user_id = user->id;
  natterd_reads_push (dir->reads, &r->job);
}
