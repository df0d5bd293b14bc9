/* natterd-handlers.c: the dispatch table (after Redis's command table), and
 * the argument readers every handler shares.
 */
#define G_LOG_DOMAIN "natterd-handlers"

#include "config.h"

#include <string.h>

#include "natterd-auth.h"
#include "natterd-handlers.h"
#include "natterd-handlers-private.h"

#define AUTH   NATTERD_HANDLER_NEEDS_AUTH
#define BEFORE NATTERD_HANDLER_BEFORE_AUTH
#define PAUSES NATTERD_HANDLER_PAUSES

/* Sorted by type, for bsearch. */
static const NatterdHandler handlers[] = {
  { "contact_accept",  natterd_handle_contact_accept,  AUTH },
  { "contact_decline", natterd_handle_contact_decline, AUTH },
  { "contact_remove",  natterd_handle_contact_remove,  AUTH },
  { "contact_request", natterd_handle_contact_request, AUTH },
  { "contacts",        natterd_handle_contacts,        AUTH },
  { "conversations",   natterd_handle_conversations,   AUTH },
  { "history",         natterd_handle_history,         AUTH },
  { "login",           natterd_handle_login,           BEFORE | PAUSES },
  { "logout",          natterd_handle_logout,          AUTH | PAUSES },
  { "read",            natterd_handle_read,            AUTH },
  { "register",        natterd_handle_register,        BEFORE | PAUSES },
  { "room_create",     natterd_handle_room_create,     AUTH },
  { "room_directory",  natterd_handle_room_directory,  AUTH },
  { "room_join",       natterd_handle_room_join,       AUTH },
  { "room_leave",      natterd_handle_room_leave,      AUTH },
  { "room_members",    natterd_handle_room_members,    AUTH },
  { "room_topic",      natterd_handle_room_topic,      AUTH },
  { "rooms",           natterd_handle_rooms,           AUTH },
  { "search",          natterd_handle_search,          AUTH },
  { "send",            natterd_handle_send,            AUTH },
  { "set_presence",    natterd_handle_set_presence,    AUTH },
  { "sync",            natterd_handle_sync,            AUTH },
  { "typing",          natterd_handle_typing,          AUTH },
  { "user_info",       natterd_handle_user_info,       AUTH },
  { "user_search",     natterd_handle_user_search,     AUTH },
};

static int
compare_handler (const void *key,
                 const void *element)
{
  return strcmp (key, ((const NatterdHandler *) element)->type);
}

const NatterdHandler *
natterd_handlers_lookup (const char *type)
{
  if (type == NULL)
    return NULL;
  return bsearch (type, handlers, G_N_ELEMENTS (handlers), sizeof handlers[0], compare_handler);
}

/* --- argument readers --- */

NatterdUser *
natterd_request_get_user (NatterdRequest *request)
{
  return natterd_connection_get_user (natterd_request_get_connection (request));
}

void
natterd_request_store_error (NatterdRequest *request,
                             const GError   *error)
{
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

NatterdUser *
natterd_arg_user (NatterdRequest *request,
                  const char     *key)
{
  NatterdDirectory *dir = natterd_request_get_directory (request);
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
  if (user == NULL)
    natterd_request_error (request, NATTER_ERROR_NOT_FOUND, "No such user");
  return user;
}

NatterdRoom *
natterd_arg_room (NatterdRequest *request,
                  const char     *key,
                  gboolean        must_be_member)
{
  NatterdDirectory *dir = natterd_request_get_directory (request);
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
      natterd_request_error (request, NATTER_ERROR_NOT_FOUND, "No such room");
      return NULL;
    }
  if (must_be_member && !natterd_room_has_member (room, natterd_request_get_user (request)))
    {
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
  NatterdDirectory *dir = natterd_request_get_directory (request);
  NatterdUser *me = natterd_request_get_user (request);
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
          natterd_request_error (request, NATTER_ERROR_NOT_FOUND, "No such room");
          return FALSE;
        }
      if (!natterd_room_has_member (room, me))
        {
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
        natterd_request_error (request, NATTER_ERROR_NOT_FOUND, "No such user");
        return FALSE;
      }
    if (out_peer)
      *out_peer = peer;
    *out_conv = natterd_directory_find_direct (dir, me, peer);
  }
  return TRUE;
}
