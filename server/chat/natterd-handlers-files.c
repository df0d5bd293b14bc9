/* natterd-handlers-files.c: upload_begin, upload_chunk, upload_status and
 * download, the requests of the feature files (docs/protocol.md, "Files";
 * the design: docs/architecture.md, "Files").
 *
 * Writes are jobs of the writer thread, in its batches with everyone's
 * messages, and answered after their commit: an acknowledged chunk is
 * durable. Reading a file back (the SHA-256 check of a complete upload,
 * the chunks of a download) runs on a reader thread of its own
 * (dir->file_reads), so a 100 MiB check never holds up history or sync.
 * Nothing holds more than a chunk of a file at once.
 */
#define G_LOG_DOMAIN "natterd-handlers"

#include "config.h"

#include <string.h>

#include "natterd-handlers-private.h"
#include "natterd-handlers.h"
#include "natterd-reads.h"

#define CHUNK NATTERD_STORE_CHUNK_SIZE
/* How often expired uploads are looked for (docs/protocol.md). */
#define EXPIRY_CHECK_MS (10 * 60 * 1000)


/* The upload object (docs/protocol.md, upload_begin). @have: the chunk
 * numbers stored, ascending. */
static void
write_upload (NatterJsonWriter         *w,
              const NatterdStoreUpload *u,
              GArray                   *have)
{
  gint64 chunks = natterd_store_chunks_of (u->size), next = 0;

  natter_json_writer_key (w, "upload");
  natter_json_writer_begin_object (w);
  natter_json_writer_key (w, "upload");
  natter_json_writer_int (w, u->id);
  natter_json_writer_key (w, "size");
  natter_json_writer_int (w, u->size);
  natter_json_writer_key (w, "sha256");
  natter_json_writer_string (w, u->sha256);
  natter_json_writer_key (w, "chunk_size");
  natter_json_writer_int (w, CHUNK);
  natter_json_writer_key (w, "chunks");
  natter_json_writer_int (w, chunks);
  natter_json_writer_key (w, "missing");
  natter_json_writer_begin_array (w);
  if (u->file_id == 0)
    {
      for (guint i = 0; i <= (have != NULL ? have->len : 0); i++)
        {
          gint64 upto = have != NULL && i < have->len ? g_array_index (have, gint64, i) : chunks;

          if (upto > next)
            {
              natter_json_writer_begin_array (w);
              natter_json_writer_int (w, next);
              natter_json_writer_int (w, upto);
              natter_json_writer_end_array (w);
            }
          next = upto + 1;
        }
    }
  natter_json_writer_end_array (w);
  natter_json_writer_key (w, "file");
  if (u->file_id != 0)
    natter_json_writer_int (w, u->file_id);
  else
    natter_json_writer_null (w);
  natter_json_writer_end_object (w);
}

/* --- upload_begin and upload_status --- */

typedef struct {
  NatterdCommitWrite  write;
  gint64              user_id;
  gint64              now;
  gint64              max_uploads;
  gint64              quota;
  NatterdStoreUpload  upload;      /* begin: filled in; status: read */
  GArray             *have;        /* status */
} UploadJob;

static void
upload_job_free (UploadJob *j)
{
  natterd_commit_write_clear (&j->write);
  g_clear_pointer (&j->have, g_array_unref);
  g_free (j);
}

/* Writer thread: the limits and the new row, in one transaction, so that
 * two begins of one user cannot both pass the same count. */
static gboolean
begin_run (NatterdWriteJob *job,
           NatterdStore    *store,
           GError         **error)
{
  UploadJob *j = (UploadJob *) job;
  gint64 in_progress = 0, bytes = 0;

  if (!natterd_store_upload_usage (store, j->user_id, &in_progress, &bytes, error))
    return FALSE;
  if (in_progress >= j->max_uploads)
    return natterd_refuse (error, NATTER_ERROR_TOO_MANY_UPLOADS, "Too many uploads in progress");
  if (bytes + j->upload.size > j->quota)
    return natterd_refuse (error, NATTER_ERROR_QUOTA_EXCEEDED, "This file would take you past your storage quota");
  j->upload.user_id = j->user_id;
  j->upload.touched = j->now;
  return natterd_store_upload_insert (store, j->user_id, j->upload.size, j->upload.sha256, j->now,
                                      &j->upload.id, error);
}

/* Writer thread (it sees every committed chunk of the user's). */
static gboolean
status_run (NatterdWriteJob *job,
            NatterdStore    *store,
            GError         **error)
{
  UploadJob *j = (UploadJob *) job;
  gboolean found = FALSE;

  if (!natterd_store_upload_get (store, j->upload.id, &j->upload, &found, error))
    return FALSE;
  if (!found || j->upload.user_id != j->user_id)
    return natterd_refuse (error, NATTER_ERROR_NOT_FOUND, "No such upload");
  j->have = g_array_new (FALSE, FALSE, sizeof (gint64));
  return j->upload.file_id != 0 || natterd_store_chunks_list (store, j->upload.id, j->have, error);
}

static void
upload_done (NatterdWriteJob *job,
             const GError    *error)
{
  UploadJob *j = (UploadJob *) job;

  natterd_commit_write_done (&j->write);
  if (error != NULL)
    natterd_request_job_error (j->write.request, error);
  else
    {
      write_upload (natterd_request_begin_ok (j->write.request), &j->upload, j->have);
      natterd_request_finish_ok (j->write.request);
    }
  upload_job_free (j);
}

static UploadJob *
upload_job_new (NatterdRequest      *request,
                NatterdWriteRunFunc  run)
{
  UploadJob *j = g_new0 (UploadJob, 1);

  natterd_commit_write_init (&j->write, natterd_directory_from_request (request)->commit, request,
                             run, upload_done);
  j->user_id = natterd_session_request_user (request)->id;
  j->now = natterd_now_ms ();
  return j;
}

void
natterd_handle_upload_begin (NatterdRequest *request)
{
  const NatterdConfig *config = natterd_directory_get_config (natterd_directory_from_request (request));
  const char *sha256;
  gint64 size;
  UploadJob *j;

  if (!natterd_arg_int (request, "size", TRUE, NULL, &size) ||
      !natterd_arg_string (request, "sha256", TRUE, &sha256))
    return;
  if (size < 1 || !natter_sha256_is_valid (sha256))
    {
      natterd_request_error (request, NATTER_ERROR_INVALID_ARGUMENT,
                             size < 1 ? "size must be at least 1" : "sha256 must be 64 lower-case hex digits");
      return;
    }
  if ((guint64) size > config->max_file_bytes)
    {
      g_autofree char *message = g_strdup_printf ("A file may have at most %" G_GSIZE_FORMAT " bytes",
                                                  config->max_file_bytes);

      natterd_request_error (request, NATTER_ERROR_FILE_TOO_LARGE, message);
      return;
    }
  j = upload_job_new (request, begin_run);
  j->write.job.atomic = TRUE;
  j->upload.size = size;
  g_strlcpy (j->upload.sha256, sha256, sizeof j->upload.sha256);
  j->max_uploads = config->uploads_per_user;
  j->quota = (gint64) MIN (config->quota_bytes_per_user, (gsize) G_MAXINT64 / 2);
  natterd_commit_write_queue (&j->write);
}

void
natterd_handle_upload_status (NatterdRequest *request)
{
  gint64 id;
  UploadJob *j;

  if (!natterd_arg_message_id (request, "upload", TRUE, &id))
    return;
  j = upload_job_new (request, status_run);
  j->upload.id = id;
  natterd_commit_write_queue (&j->write);
}

/* --- upload_chunk --- */

typedef enum {
  CHUNK_STORE,     /* writer: store the chunk */
  CHUNK_FINISH,    /* writer: the file made, or the upload dropped */
} ChunkStep;

typedef struct {
  NatterdCommitWrite  write;
  ChunkStep           step;
  gint64              user_id;
  gint64              upload_id;
  gint64              index;
  gint64              now;
  guint8             *data;
  gsize               len;

  NatterdStoreUpload  upload;
  gboolean            complete;    /* every chunk is stored: check it */
  gboolean            hash_ok;     /* the reader's verdict */
} ChunkJob;

/* The reader's check, apart: the reads queue takes a bare job. */
typedef struct {
  NatterdWriteJob  job;
  ChunkJob        *chunk;
} VerifyJob;

static void
chunk_job_free (ChunkJob *j)
{
  natterd_commit_write_clear (&j->write);
  g_free (j->data);
  g_free (j);
}

static gboolean
chunk_store (ChunkJob      *j,
             NatterdStore  *store,
             GError       **error)
{
  gboolean found = FALSE, added = FALSE;
  gint64 chunks;

  if (!natterd_store_upload_get (store, j->upload_id, &j->upload, &found, error))
    return FALSE;
  if (!found || j->upload.user_id != j->user_id)
    return natterd_refuse (error, NATTER_ERROR_NOT_FOUND, "No such upload");
  if (j->upload.file_id != 0)
    return TRUE; /* a chunk resent after a lost reply */
  chunks = natterd_store_chunks_of (j->upload.size);
  if (j->index >= chunks)
    return natterd_refuse (error, NATTER_ERROR_INVALID_ARGUMENT, "index is past the file's last chunk");
  if (j->len != natterd_store_chunk_len (j->upload.size, j->index))
    return natterd_refuse (error, NATTER_ERROR_INVALID_ARGUMENT, "data does not have the chunk's length");
  /* A count in the row: listing the chunks at each one would cost the
   * writer a 100 MiB upload's 3200 chunks squared. */
  if (!natterd_store_chunk_put (store, j->upload_id, j->index, j->data, j->len, &added, error) ||
      !natterd_store_upload_update (store, j->upload_id, j->now, 0, added ? 1 : 0, error))
    return FALSE;
  j->complete = j->upload.received + (added ? 1 : 0) == chunks;
  return TRUE;
}

/* Writer thread, after the check: another connection of the user may
 * have finished the upload meanwhile, so it is read again. */
static gboolean
chunk_finish (ChunkJob      *j,
              NatterdStore  *store,
              GError       **error)
{
  gboolean found = FALSE;
  gint64 existing = 0;

  if (!natterd_store_upload_get (store, j->upload_id, &j->upload, &found, error))
    return FALSE;
  if (!found)
    return natterd_refuse (error, NATTER_ERROR_NOT_FOUND, "No such upload");
  if (j->upload.file_id != 0)
    return TRUE;
  /* A mismatch deletes the upload and succeeds, so that the delete
   * commits; chunk_done answers hash_mismatch. */
  if (!j->hash_ok)
    return natterd_store_upload_delete (store, j->upload_id, error);
  if (!natterd_store_file_find (store, j->upload.sha256, &existing, error))
    return FALSE;
  if (existing != 0)
    {
      /* The same bytes are stored already: this upload's go. */
      if (!natterd_store_chunks_drop (store, j->upload_id, error))
        return FALSE;
    }
  else
    {
      existing = j->upload_id;
      if (!natterd_store_file_insert (store, existing, j->upload.sha256, j->upload.size, error))
        return FALSE;
    }
  j->upload.file_id = existing;
  return natterd_store_upload_update (store, j->upload_id, j->now, existing, 0, error);
}

static gboolean
chunk_run (NatterdWriteJob *job,
           NatterdStore    *store,
           GError         **error)
{
  ChunkJob *j = (ChunkJob *) job;

  return j->step == CHUNK_STORE ? chunk_store (j, store, error) : chunk_finish (j, store, error);
}

/* Reader thread: the whole upload, a chunk at a time, through SHA-256
 * (on SQLite into its file of the data directory too). */
static gboolean
verify_run (NatterdWriteJob *job,
            NatterdStore    *store,
            GError         **error)
{
  ChunkJob *j = ((VerifyJob *) job)->chunk;

  return natterd_store_blob_verify (store, j->upload_id, j->upload.size, j->upload.sha256,
                                    &j->hash_ok, error);
}

static void chunk_done (NatterdWriteJob *job, const GError *error);

static void
verify_done (NatterdWriteJob *job,
             const GError    *error)
{
  ChunkJob *j = ((VerifyJob *) job)->chunk;

  g_free (job);
  if (error != NULL)
    {
      natterd_request_job_error (j->write.request, error);
      chunk_job_free (j);
      return;
    }
  j->step = CHUNK_FINISH;
  natterd_commit_write_queue (&j->write);
}

static void
chunk_done (NatterdWriteJob *job,
            const GError    *error)
{
  ChunkJob *j = (ChunkJob *) job;
  NatterdRequest *request = j->write.request;
  NatterJsonWriter *w;

  natterd_commit_write_done (&j->write);
  if (error != NULL)
    {
      natterd_request_job_error (request, error);
      chunk_job_free (j);
      return;
    }
  if (j->step == CHUNK_STORE && j->complete && j->upload.file_id == 0)
    {
      NatterdDirectory *dir = natterd_directory_from_request (request);
      VerifyJob *v;

      if (dir->file_reads == NULL)
        {
          /* Stopping: the chunk is stored; sent again, it finishes. */
          natterd_request_error (request, NATTER_ERROR_SERVER_BUSY, "The server is shutting down");
          chunk_job_free (j);
          return;
        }
      v = g_new0 (VerifyJob, 1);

      g_clear_pointer (&j->data, g_free);
      v->job.run = verify_run;
      v->job.done = verify_done;
      v->chunk = j;
      natterd_reads_push (dir->file_reads, &v->job);
      return;
    }
  if (j->step == CHUNK_FINISH && j->upload.file_id == 0)
    {
      natterd_request_error (request, NATTER_ERROR_HASH_MISMATCH,
                             "The file's bytes do not have the SHA-256 given at upload_begin; start again");
      chunk_job_free (j);
      return;
    }
  w = natterd_request_begin_ok (request);
  natter_json_writer_key (w, "upload");
  natter_json_writer_int (w, j->upload_id);
  natter_json_writer_key (w, "index");
  natter_json_writer_int (w, j->index);
  natter_json_writer_key (w, "file");
  if (j->upload.file_id != 0)
    natter_json_writer_int (w, j->upload.file_id);
  else
    natter_json_writer_null (w);
  natterd_request_finish_ok (request);
  chunk_job_free (j);
}

/* A non-negative integer argument. */
static gboolean
arg_index (NatterdRequest *request,
           gint64         *out)
{
  if (!natterd_arg_int (request, "index", TRUE, NULL, out))
    return FALSE;
  if (*out < 0)
    {
      natterd_request_error (request, NATTER_ERROR_INVALID_ARGUMENT, "index must not be negative");
      return FALSE;
    }
  return TRUE;
}

void
natterd_handle_upload_chunk (NatterdRequest *request)
{
  NatterdDirectory *dir = natterd_directory_from_request (request);
  const char *data;
  gint64 upload_id, index;
  ChunkJob *j;

  if (!natterd_arg_message_id (request, "upload", TRUE, &upload_id) ||
      !arg_index (request, &index) ||
      !natterd_arg_string (request, "data", TRUE, &data))
    return;
  j = g_new0 (ChunkJob, 1);
  j->data = natterd_base64_decode_strict (data, &j->len);
  if (j->data == NULL || j->len > CHUNK)
    {
      g_free (j->data);
      g_free (j);
      natterd_request_error (request, NATTER_ERROR_INVALID_ARGUMENT,
                             "data must be one chunk in standard base64 with padding");
      return;
    }
  natterd_commit_write_init (&j->write, dir->commit, request, chunk_run, chunk_done);
  j->write.job.atomic = TRUE;
  j->user_id = natterd_session_request_user (request)->id;
  j->upload_id = upload_id;
  j->index = index;
  j->now = natterd_now_ms ();
  natterd_commit_write_queue (&j->write);
}

/* --- download --- */

typedef struct {
  NatterdWriteJob     job;
  NatterdRequest     *request;
  NatterdConnection  *connection;  /* holds the request's connection */
  gint64              user_id;
  gint64              file_id;
  gint64              index;
  char               *data;        /* base64, made on the reader thread */
} DownloadJob;

static gboolean
download_run (NatterdWriteJob *job,
              NatterdStore    *store,
              GError         **error)
{
  DownloadJob *j = (DownloadJob *) job;
  g_autoptr(GBytes) bytes = NULL;
  gint64 size = -1;
  gsize len;
  gconstpointer data;

  /* Not readable and not there are one answer: knowing an id is not
   * enough to learn that a file exists. */
  if (!natterd_store_file_readable (store, j->file_id, j->user_id, &size, NULL, error))
    return FALSE;
  if (size < 0)
    return natterd_refuse (error, NATTER_ERROR_NOT_FOUND, "No such file");
  if (j->index >= natterd_store_chunks_of (size))
    return natterd_refuse (error, NATTER_ERROR_INVALID_ARGUMENT, "index is past the file's last chunk");
  if (!natterd_store_file_chunk_get (store, j->file_id, j->index, &bytes, error))
    return FALSE;
  if (bytes == NULL)
    return natterd_refuse (error, NATTER_ERROR_NOT_FOUND, "No such file"); /* freed meanwhile */
  data = g_bytes_get_data (bytes, &len);
  j->data = g_base64_encode (data, len);
  return TRUE;
}

static void
download_done (NatterdWriteJob *job,
               const GError    *error)
{
  DownloadJob *j = (DownloadJob *) job;
  NatterJsonWriter *w;

  if (error != NULL)
    natterd_request_job_error (j->request, error);
  else
    {
      w = natterd_request_begin_ok (j->request);
      natter_json_writer_key (w, "file");
      natter_json_writer_int (w, j->file_id);
      natter_json_writer_key (w, "index");
      natter_json_writer_int (w, j->index);
      natter_json_writer_key (w, "data");
      natter_json_writer_string (w, j->data);
      natterd_request_finish_ok (j->request);
    }
  natterd_connection_unref (j->connection);
  g_free (j->data);
  g_free (j);
}

void
natterd_handle_download (NatterdRequest *request)
{
  gint64 file_id, index;
  DownloadJob *j;

  if (!natterd_arg_message_id (request, "file", TRUE, &file_id) ||
      !arg_index (request, &index))
    return;
  j = g_new0 (DownloadJob, 1);
  j->job.run = download_run;
  j->job.done = download_done;
  j->request = request;
  j->connection = natterd_connection_ref (natterd_request_get_connection (request));
  j->user_id = natterd_session_request_user (request)->id;
  j->file_id = file_id;
  j->index = index;
  natterd_reads_push (natterd_directory_from_request (request)->file_reads, &j->job);
}

/* --- expiry --- */

typedef struct {
  NatterdWriteJob   job;
  NatterdDirectory *dir;
  gint64            before;
} ExpireJob;

static gboolean
expire_run (NatterdWriteJob *job,
            NatterdStore    *store,
            GError         **error)
{
  return natterd_store_files_expire (store, ((ExpireJob *) job)->before, error);
}

static gboolean
sweep_run (NatterdWriteJob *job,
           NatterdStore    *store,
           GError         **error)
{
  return natterd_store_files_sweep (store, error);
}

static void
sweep_done (NatterdWriteJob *job,
            const GError    *error)
{
  if (error != NULL)
    g_warning ("Removing freed files failed: %s", error->message);
  g_free (job);
}

/* After the rows are gone, their files on disk (SQLite), from the file
 * reader: a directory of many files takes a while to list. */
static void
expire_done (NatterdWriteJob *job,
             const GError    *error)
{
  NatterdDirectory *dir = ((ExpireJob *) job)->dir;

  if (error != NULL)
    g_warning ("Expiring uploads failed: %s", error->message);
  else if (dir->file_reads != NULL)
    {
      NatterdWriteJob *sweep = g_new0 (NatterdWriteJob, 1);

      sweep->run = sweep_run;
      sweep->done = sweep_done;
      natterd_reads_push (dir->file_reads, sweep);
    }
  g_free (job);
}

static gboolean
expire_cb (gpointer user_data)
{
  NatterdDirectory *dir = user_data;
  const NatterdConfig *config = natterd_directory_get_config (dir);
  ExpireJob *j = g_new0 (ExpireJob, 1);

  j->job.run = expire_run;
  j->job.done = expire_done;
  j->dir = dir;
  j->before = natterd_now_ms () - (gint64) config->upload_expiry * 1000;
  natterd_commit_push (dir->commit, &j->job);
  return G_SOURCE_CONTINUE;
}

guint
natterd_files_start_expiry (NatterdDirectory *dir)
{
  expire_cb (dir);
  return g_timeout_add (EXPIRY_CHECK_MS, expire_cb, dir);
}
