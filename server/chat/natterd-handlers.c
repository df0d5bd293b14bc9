/* natterd-handlers.c: the dispatch table (after Redis's command table), and
 * the argument readers every handler shares.
 */
#define G_LOG_DOMAIN "natterd-handlers"

#include "config.h"

#include <string.h>

#include "natterd-directory-refresh.h"
#include "natter-features.h"
#include "natterd-handlers.h"
#include "natterd-handlers-private.h"

#define AUTH   NATTERD_HANDLER_NEEDS_AUTH
#define BEFORE NATTERD_HANDLER_BEFORE_AUTH
#define PAUSES NATTERD_HANDLER_PAUSES
#define BULK   NATTERD_HANDLER_BULK
#define ACTIONS (NATTER_FEATURE_MESSAGE_ACTIONS << NATTERD_HANDLER_FEATURE_SHIFT)
#define ROOMS   (NATTER_FEATURE_ROOM_MANAGEMENT << NATTERD_HANDLER_FEATURE_SHIFT)
#define FILES   (NATTER_FEATURE_FILES << NATTERD_HANDLER_FEATURE_SHIFT)
#define ACCOUNTS (NATTER_FEATURE_ACCOUNTS << NATTERD_HANDLER_FEATURE_SHIFT)

/* Sorted by type, for bsearch. */
static const NatterdHandler handlers[] = {
#define NATTERD_REQUEST(type, flags) { #type, natterd_handle_##type, flags },
#include "natterd-requests.def"
#undef NATTERD_REQUEST
};

static int
compare_handler (const void *key,
                 const void *element)
{
  return strcmp (key, ((const NatterdHandler *) element)->type);
}

gboolean
natterd_handlers_check_sorted (void)
{
  for (gsize i = 1; i < G_N_ELEMENTS (handlers); i++)
    if (strcmp (handlers[i - 1].type, handlers[i].type) >= 0)
      return FALSE;
  return TRUE;
}

const NatterdHandler *
natterd_handlers_lookup (const char *type)
{
  if (type == NULL)
    return NULL;
  return bsearch (type, handlers, G_N_ELEMENTS (handlers), sizeof handlers[0], compare_handler);
}

/* --- argument readers --- */

void
natterd_request_job_error (NatterdRequest *request,
                           const GError   *error)
{
  if (error->domain == NATTER_ERROR)
    natterd_request_error_from (request, error);
  else
    natterd_request_store_error (request, error);
}

gboolean
natterd_refuse (GError        **error,
                NatterErrorCode code,
                const char     *message)
{
  g_set_error_literal (error, NATTER_ERROR, code, message);
  return FALSE;
}

void
natterd_request_store_error (NatterdRequest *request,
                             const GError   *error)
{
  /* An unreachable database fails every request until it is back: the
   * store logged the outage once, the requests are not logged each. */
  if (g_error_matches (error, NATTERD_STORE_ERROR, NATTERD_STORE_ERROR_UNAVAILABLE))
    {
      g_debug ("%s: %s", natterd_request_get_type (request), error->message);
      natterd_request_error (request, NATTER_ERROR_INTERNAL, "The database is unavailable; try again");
      return;
    }
  g_warning ("%s: storage error: %s", natterd_request_get_type (request),
             error ? error->message : "unknown");
  natterd_request_error (request, NATTER_ERROR_INTERNAL, "Storage error");
}

gboolean
natterd_arg_string (NatterdRequest  *request,
                    const char      *key,
                    gboolean         required,
                    const char     **out)
{
  g_autoptr(GError) error = NULL;

  if (!natter_fields_get_string (natterd_request_get_frame (request), key, required, out, &error))
    {
      natterd_request_error_from (request, error);
      return FALSE;
    }
  return TRUE;
}

/* A character's value in standard base64, or -1. By ranges, not a
 * search of the alphabet: every byte of an upload passes here. */
static int
base64_value (char c)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+')
    return 62;
  return c == '/' ? 63 : -1;
}

/* Strict standard base64 with padding (RFC 4648 §4): g_base64_decode
 * skips what it does not know, and a chunk or a picture must never be
 * guessed at. */
guint8 *
natterd_base64_decode_strict (const char *s,
                              gsize      *out_len)
{
  gsize len = strlen (s), pad = 0;
  int last;

  if (len == 0 || len % 4 != 0)
    return NULL;
  if (s[len - 1] == '=')
    pad = s[len - 2] == '=' ? 2 : 1;
  for (gsize i = 0; i < len - pad; i++)
    if (base64_value (s[i]) < 0)
      return NULL;
  /* Non-canonical padding bits ("QQ==" vs "QR=="): refused too. The
   * last character before the padding may not set the bits that the
   * padding drops (4 of them with "==", 2 with "="). */
  last = base64_value (s[len - pad - 1]);
  if ((pad == 2 && (last & 0x0f) != 0) || (pad == 1 && (last & 0x03) != 0))
    return NULL;
  return g_base64_decode (s, out_len);
}

gboolean
natterd_arg_bool (NatterdRequest  *request,
                  const char      *key,
                  gboolean        *out_present,
                  gboolean        *out)
{
  g_autoptr(GError) error = NULL;

  if (!natter_fields_get_bool (natterd_request_get_frame (request), key, FALSE, out_present, out,
                               &error))
    {
      natterd_request_error_from (request, error);
      return FALSE;
    }
  return TRUE;
}

gboolean
natterd_arg_int (NatterdRequest  *request,
                 const char      *key,
                 gboolean         required,
                 gboolean        *out_present,
                 gint64          *out)
{
  g_autoptr(GError) error = NULL;

  if (!natter_fields_get_int (natterd_request_get_frame (request), key, required,
                              out_present, out, &error))
    {
      natterd_request_error_from (request, error);
      return FALSE;
    }
  return TRUE;
}

gboolean
natterd_arg_message_id (NatterdRequest *request,
                        const char     *key,
                        gboolean        required,
                        gint64         *out)
{
  gboolean present = FALSE;

  *out = 0;
  if (!natterd_arg_int (request, key, required, &present, out))
    return FALSE;
  if (present && *out <= 0)
    {
      g_autofree char *message = g_strdup_printf ("%s must be a positive message id", key);

      natterd_request_error (request, NATTER_ERROR_INVALID_ARGUMENT, message);
      return FALSE;
    }
  return TRUE;
}

gboolean
natterd_arg_limit (NatterdRequest *request,
                   gint64          default_limit,
                   gint64          cap,
                   gint64         *out)
{
  g_autoptr(GError) error = NULL;

  if (!natter_fields_get_limit (natterd_request_get_frame (request), default_limit, cap, out, &error))
    {
      natterd_request_error_from (request, error);
      return FALSE;
    }
  return TRUE;
}

static NatterdUser *
arg_user (NatterdRequest *request,
          const char     *key,
          gboolean        deleted_too)
{
  NatterdDirectory *dir = natterd_directory_from_request (request);
  g_autoptr(GError) error = NULL;
  g_autofree char *username = NULL;
  const char *raw;
  NatterdUser *user;

  if (!natterd_arg_string (request, key, TRUE, &raw))
    return NULL;
  username = natter_username_normalize (raw, &error);
  if (username == NULL)
    {
      /* A malformed name in a request (not a registration) is a bad
       * argument, not invalid_username. */
      g_autofree char *message = g_strdup_printf ("%s is not a valid username", key);
      natterd_request_error (request, NATTER_ERROR_INVALID_ARGUMENT, message);
      return NULL;
    }
  user = natterd_directory_find_user (dir, username);
  if (user == NULL && !natterd_directory_refresh_wait (dir, request))
    natterd_request_error (request, NATTER_ERROR_NOT_FOUND, "No such user");
  else if (user != NULL && !deleted_too && natterd_auth_hash_is_deleted (user->password_hash))
    {
      natterd_request_error (request, NATTER_ERROR_NOT_FOUND, "That account was deleted");
      return NULL;
    }
  return user;
}

NatterdUser *
natterd_arg_user (NatterdRequest *request,
                  const char     *key)
{
  return arg_user (request, key, FALSE);
}

NatterdUser *
natterd_arg_user_or_deleted (NatterdRequest *request,
                             const char     *key)
{
  return arg_user (request, key, TRUE);
}

NatterdRoom *
natterd_arg_room (NatterdRequest *request,
                  const char     *key,
                  gboolean        must_be_member)
{
  NatterdDirectory *dir = natterd_directory_from_request (request);
  const char *name;
  NatterdRoom *room;

  if (!natterd_arg_string (request, key, TRUE, &name))
    return NULL;
  if (!natter_room_name_is_valid (name))
    {
      g_autofree char *message = g_strdup_printf ("%s must be # then 1 to 64 of a-z 0-9 _ -", key);
      natterd_request_error (request, NATTER_ERROR_INVALID_ARGUMENT, message);
      return NULL;
    }
  room = natterd_directory_find_room (dir, name);
  if (room == NULL)
    {
      if (!natterd_directory_refresh_wait (dir, request))
        natterd_request_error (request, NATTER_ERROR_NOT_FOUND, "No such room");
      return NULL;
    }
  if (must_be_member && !natterd_room_has_member (room, natterd_session_request_user (request)))
    {
      /* Perhaps joined through another node. */
      if (!natterd_directory_refresh_wait (dir, request))
        natterd_request_error (request, NATTER_ERROR_FORBIDDEN, "You are not a member of that room");
      return NULL;
    }
  return room;
}

gboolean
natterd_arg_conversation (NatterdRequest       *request,
                          const char           *key,
                          gboolean              required,
                          NatterdConversation **out_conv,
                          NatterdUser         **out_peer)
{
  NatterdDirectory *dir = natterd_directory_from_request (request);
  NatterdUser *me = natterd_session_request_user (request);
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;
  NatterAddressKind kind;
  const char *address;

  *out_conv = NULL;
  if (out_peer)
    *out_peer = NULL;
  if (!natterd_arg_string (request, key, required, &address))
    return FALSE;
  if (address == NULL)
    return TRUE;
  if (!natter_address_parse (address, &kind, &name, &error))
    {
      natterd_request_error_from (request, error);
      return FALSE;
    }

  if (kind == NATTER_ADDRESS_ROOM)
    {
      NatterdRoom *room = natterd_directory_find_room (dir, name);
      if (room == NULL)
        {
          if (!natterd_directory_refresh_wait (dir, request))
            natterd_request_error (request, NATTER_ERROR_NOT_FOUND, "No such room");
          return FALSE;
        }
      if (!natterd_room_has_member (room, me))
        {
          if (!natterd_directory_refresh_wait (dir, request))
            natterd_request_error (request, NATTER_ERROR_FORBIDDEN, "You are not a member of that room");
          return FALSE;
        }
      *out_conv = room->conversation;
      return TRUE;
    }

  {
    NatterdUser *peer = natterd_directory_find_user (dir, name);
    if (peer == NULL)
      {
        if (!natterd_directory_refresh_wait (dir, request))
          natterd_request_error (request, NATTER_ERROR_NOT_FOUND, "No such user");
        return FALSE;
      }
    *out_conv = natterd_directory_find_direct (dir, me, peer);
    /* None here yet: on a shared store another node may have made it
     * (the first message sent through it). */
    if (*out_conv == NULL && natterd_directory_refresh_wait (dir, request))
      return FALSE;
    if (out_peer)
      *out_peer = peer;
  }
  return TRUE;
}
