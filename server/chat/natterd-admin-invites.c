/* natterd-admin-invites.c: natterctl invite create, list and revoke: the
 * invitation codes [server] registration = invite asks for
 * (natterd-admin-private.h). A code is used up by the registration's own
 * transaction (natterd-auth.c), on whichever node.
 */
#define G_LOG_DOMAIN "natterd-admin"

#include "config.h"

#include <sodium.h>
#include <string.h>

#include "natterd-admin-private.h"

/* 16 letters and digits (no 0/O, 1/l/I to misread): ~92 bits. */
#define CODE_LEN 16
#define USES_MAX G_GINT64_CONSTANT (1000000)
/* Ten years, in seconds. */
#define EXPIRES_MAX G_GINT64_CONSTANT (315360000)

typedef struct {
  NatterdAdminWrite write;
  char              code[CODE_LEN + 1];
  gint64            uses;
  gint64            expires;   /* ms; 0: never */
  gboolean          found;     /* revoke */
  GArray           *invites;   /* list: Invite */
} InviteJob;

typedef struct {
  char   *code;
  gint64  uses_left;
  gint64  expires;
  gint64  created;
} Invite;

static void
invite_clear (gpointer data)
{
  InviteJob *j = data;

  if (j->invites != NULL)
    {
      for (guint i = 0; i < j->invites->len; i++)
        g_free (g_array_index (j->invites, Invite, i).code);
      g_array_unref (j->invites);
    }
}

static void
write_expires (NatterJsonWriter *w,
               gint64            expires)
{
  natter_json_writer_key (w, "expires");
  if (expires > 0)
    natter_json_writer_int (w, expires);
  else
    natter_json_writer_null (w);
}

/* --- create --- */

static gboolean
create_run (NatterdWriteJob *job,
            NatterdStore    *store,
            GError         **error)
{
  InviteJob *j = (InviteJob *) job;

  return natterd_store_invite_insert (store, j->code, j->uses, j->expires, natterd_now_ms (), error);
}

static void
create_apply (NatterdAdminWrite *write,
              NatterdDirectory  *dir,
              const GError      *error)
{
  InviteJob *j = (InviteJob *) write;
  NatterJsonWriter *w;

  if (!natterd_admin_check_done (write->request, dir, error))
    return;
  g_message ("invitation created (natterctl): %" G_GINT64_FORMAT " uses", j->uses);
  w = natterd_admin_begin_ok (write->request);
  natter_json_writer_key (w, "code");
  natter_json_writer_string (w, j->code);
  natter_json_writer_key (w, "uses");
  natter_json_writer_int (w, j->uses);
  write_expires (w, j->expires);
  natterd_admin_finish_ok (write->request);
}

/* {"type":"invite_create","uses"?:N,"expires_in"?:SECONDS} ->
 * {"code","uses","expires":TS|null}. One use and no expiry by default. */
void
natterd_admin_invite_create (NatterdAdminRequest *request,
                             JsonObject          *args)
{
  static const char alphabet[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  gint64 uses, expires_in;
  InviteJob *j;

  if (!natterd_admin_arg_int (request, args, "uses", 1, USES_MAX, 1, &uses) ||
      !natterd_admin_arg_int (request, args, "expires_in", 1, EXPIRES_MAX, 0, &expires_in))
    return;
  j = g_new0 (InviteJob, 1);
  for (guint i = 0; i < CODE_LEN; i++)
    j->code[i] = alphabet[randombytes_uniform (sizeof alphabet - 1)];
  j->uses = uses;
  j->expires = expires_in > 0 ? natterd_now_ms () + expires_in * 1000 : 0;
  natterd_admin_write_start (&j->write, request, create_run, create_apply, invite_clear);
}

/* --- list --- */

static void
add_invite (const char *code,
            gint64      uses_left,
            gint64      expires_ms,
            gint64      created_ms,
            gpointer    user_data)
{
  Invite invite = { g_strdup (code), uses_left, expires_ms, created_ms };

  g_array_append_val (((InviteJob *) user_data)->invites, invite);
}

static gboolean
list_run (NatterdWriteJob *job,
          NatterdStore    *store,
          GError         **error)
{
  return natterd_store_invites_foreach (store, add_invite, job, error);
}

static void
list_apply (NatterdAdminWrite *read,
            NatterdDirectory  *dir,
            const GError      *error)
{
  InviteJob *j = (InviteJob *) read;
  gint64 now = natterd_now_ms ();
  NatterJsonWriter *w;

  if (!natterd_admin_check_done (read->request, dir, error))
    return;
  w = natterd_admin_begin_ok (read->request);
  natter_json_writer_key (w, "invites");
  natter_json_writer_begin_array (w);
  for (guint i = 0; i < j->invites->len; i++)
    {
      Invite *invite = &g_array_index (j->invites, Invite, i);

      natter_json_writer_begin_object (w);
      natter_json_writer_key (w, "code");
      natter_json_writer_string (w, invite->code);
      natter_json_writer_key (w, "uses_left");
      natter_json_writer_int (w, invite->uses_left);
      write_expires (w, invite->expires);
      natter_json_writer_key (w, "created");
      natter_json_writer_int (w, invite->created);
      natter_json_writer_key (w, "state");
      natter_json_writer_string (w, invite->uses_left <= 0 ? "used up"
                                    : invite->expires > 0 && invite->expires <= now ? "expired" : "valid");
      natter_json_writer_end_object (w);
    }
  natter_json_writer_end_array (w);
  natterd_admin_finish_ok (read->request);
}

/* {"type":"invite_list"} -> {"invites":[{"code","uses_left","expires",
 * "created","state"}…]}, oldest first. */
void
natterd_admin_invite_list (NatterdAdminRequest *request,
                           JsonObject          *args)
{
  InviteJob *j = g_new0 (InviteJob, 1);

  j->invites = g_array_new (FALSE, FALSE, sizeof (Invite));
  natterd_admin_read_start (&j->write, request, list_run, list_apply, invite_clear);
}

/* --- revoke --- */

static gboolean
revoke_run (NatterdWriteJob *job,
            NatterdStore    *store,
            GError         **error)
{
  InviteJob *j = (InviteJob *) job;

  return natterd_store_invite_delete (store, natterd_admin_request_arg (j->write.request), &j->found, error);
}

static void
revoke_apply (NatterdAdminWrite *write,
              NatterdDirectory  *dir,
              const GError      *error)
{
  InviteJob *j = (InviteJob *) write;

  if (!natterd_admin_check_done (write->request, dir, error))
    return;
  if (!j->found)
    natterd_admin_error (write->request, NATTER_ERROR_NOT_FOUND, "No invitation %s",
                         natterd_admin_request_arg (write->request));
  else
    natterd_admin_ok (write->request);
}

/* {"type":"invite_revoke","code"} */
void
natterd_admin_invite_revoke (NatterdAdminRequest *request,
                             JsonObject          *args)
{
  const char *code;

  if (!natterd_admin_arg_string (request, args, "code", TRUE, &code))
    return;
  /* Read on the writer thread: the request keeps a copy. */
  natterd_admin_request_set_arg (request, code);
  natterd_admin_write_start (g_malloc0 (sizeof (InviteJob)), request, revoke_run, revoke_apply, invite_clear);
}
