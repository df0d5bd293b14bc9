/* natterd-handlers-contacts.c: contacts, contact_request, contact_accept,
 * contact_decline, contact_remove.
 *
 * Choices the contract leaves open:
 * - contact_request to oneself is invalid_argument, to a user that does
 *   not exist not_found, to someone already a contact conflict; asking
 *   again while the request is pending answers ok and sends nothing new.
 * - contact_accept / contact_decline without a pending request from that
 *   user: not_found.
 * - contact_remove of an accepted contact tells both sides; of one's own
 *   pending request withdraws it and tells both sides too (the asked
 *   user's list of requests must lose it at once, and they knew of it
 *   already); of an incoming one declines it (only one's own connections
 *   are told, as for contact_decline); anything else is not_found.
 */
#define G_LOG_DOMAIN "natterd-handlers"

#include "config.h"

#include <string.h>

#include "natterd-handlers-private.h"

static NatterdContactState
contact_state (NatterdUser *me,
               NatterdUser *other)
{
  return GPOINTER_TO_INT (g_hash_table_lookup (me->contacts, other));
}

static void
set_state (NatterdUser         *user,
           NatterdUser         *other,
           NatterdContactState  state)
{
  if (state == NATTERD_CONTACT_NONE)
    g_hash_table_remove (user->contacts, other);
  else
    g_hash_table_insert (user->contacts, other, GINT_TO_POINTER (state));
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp ((*(NatterdUser *const *) a)->username, (*(NatterdUser *const *) b)->username);
}

void
natterd_handle_contacts (NatterdRequest *request)
{
  NatterdUser *me = natterd_session_request_user (request);
  g_autoptr(GPtrArray) accepted = g_ptr_array_new ();
  g_autoptr(GPtrArray) incoming = g_ptr_array_new ();
  g_autoptr(GPtrArray) outgoing = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key, value;
  NatterJsonWriter *w;

  g_hash_table_iter_init (&iter, me->contacts);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      switch (GPOINTER_TO_INT (value))
        {
        case NATTERD_CONTACT_ACCEPTED: g_ptr_array_add (accepted, key); break;
        case NATTERD_CONTACT_INCOMING: g_ptr_array_add (incoming, key); break;
        case NATTERD_CONTACT_OUTGOING: g_ptr_array_add (outgoing, key); break;
        default: break;
        }
    }
  g_ptr_array_sort (accepted, compare_names);
  g_ptr_array_sort (incoming, compare_names);
  g_ptr_array_sort (outgoing, compare_names);

  w = natterd_request_begin_ok (request);
  natter_json_writer_key (w, "contacts");
  natter_json_writer_begin_array (w);
  for (guint i = 0; i < accepted->len; i++)
    natterd_presence_write_user (w, accepted->pdata[i], me);
  natter_json_writer_end_array (w);
  natter_json_writer_key (w, "incoming");
  natter_json_writer_begin_array (w);
  for (guint i = 0; i < incoming->len; i++)
    natter_json_writer_string (w, ((NatterdUser *) incoming->pdata[i])->username);
  natter_json_writer_end_array (w);
  natter_json_writer_key (w, "outgoing");
  natter_json_writer_begin_array (w);
  for (guint i = 0; i < outgoing->len; i++)
    natter_json_writer_string (w, ((NatterdUser *) outgoing->pdata[i])->username);
  natter_json_writer_end_array (w);
  natterd_request_finish_ok (request);
}

/* Sends {"type":"contact","change":…,"user":@about} to @to's connections. */
static void
send_contact_event (NatterdUser *to,
                    NatterdUser *about,
                    const char  *change)
{
  g_autoptr(GBytes) frame = NULL;
  NatterdEvent event;
  NatterJsonWriter *w;

  w = natterd_event_begin (&event, "contact");
  natter_json_writer_key (w, "change");
  natter_json_writer_string (w, change);
  natter_json_writer_key (w, "user");
  natterd_presence_write_user (w, about, to);
  frame = natterd_event_finish (&event);
  natterd_user_send (to, frame, NULL);
}

/* Deletes every row between the two users; FALSE after answering. */
static gboolean
store_delete (NatterdRequest *request,
              NatterdUser    *a,
              NatterdUser    *b)
{
  NatterdDirectory *dir = natterd_directory_from_request (request);
  g_autoptr(GError) error = NULL;

  if (!natterd_store_contact_delete (dir->store, a->id, b->id, &error))
    {
      natterd_request_store_error (request, error);
      return FALSE;
    }
  return TRUE;
}

/* @me accepts @other's request. */
static void
accept (NatterdRequest *request,
        NatterdUser    *me,
        NatterdUser    *other)
{
  NatterdDirectory *dir = natterd_directory_from_request (request);
  NatterdUser *lo = me->id < other->id ? me : other;
  NatterdUser *hi = lo == me ? other : me;
  g_autoptr(GError) error = NULL;

  if (!natterd_store_begin (dir->store, &error) ||
      !natterd_store_contact_delete (dir->store, me->id, other->id, &error) ||
      !natterd_store_contact_set (dir->store, lo->id, hi->id, NATTERD_STORE_CONTACT_ACCEPTED, &error) ||
      !natterd_store_commit (dir->store, &error))
    {
      natterd_store_rollback (dir->store);
      natterd_request_store_error (request, error);
      return;
    }
  set_state (me, other, NATTERD_CONTACT_ACCEPTED);
  set_state (other, me, NATTERD_CONTACT_ACCEPTED);
  send_contact_event (me, other, "added");
  send_contact_event (other, me, "added");
  natterd_request_ok (request);
}

void
natterd_handle_contact_request (NatterdRequest *request)
{
  NatterdDirectory *dir = natterd_directory_from_request (request);
  NatterdUser *me = natterd_session_request_user (request);
  NatterdUser *other = natterd_arg_user (request, "username");
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) frame = NULL;
  NatterdEvent event;
  NatterJsonWriter *w;

  if (other == NULL)
    return;
  if (other == me)
    {
      natterd_request_error (request, NATTER_ERROR_INVALID_ARGUMENT, "You cannot add yourself");
      return;
    }

  switch (contact_state (me, other))
    {
    case NATTERD_CONTACT_ACCEPTED:
      natterd_request_error (request, NATTER_ERROR_CONFLICT, "Already a contact");
      return;
    case NATTERD_CONTACT_OUTGOING:
      natterd_request_ok (request);
      return;
    case NATTERD_CONTACT_INCOMING:
      /* They asked first: asking back accepts. */
      accept (request, me, other);
      return;
    default:
      break;
    }

  if (!natterd_store_contact_set (dir->store, me->id, other->id, NATTERD_STORE_CONTACT_PENDING, &error))
    {
      natterd_request_store_error (request, error);
      return;
    }
  set_state (me, other, NATTERD_CONTACT_OUTGOING);
  set_state (other, me, NATTERD_CONTACT_INCOMING);

  w = natterd_event_begin (&event, "contact_request");
  natter_json_writer_key (w, "from");
  natterd_presence_write_user (w, me, other);
  frame = natterd_event_finish (&event);
  natterd_user_send (other, frame, NULL);
  natterd_request_ok (request);
}

void
natterd_handle_contact_accept (NatterdRequest *request)
{
  NatterdUser *me = natterd_session_request_user (request);
  NatterdUser *other = natterd_arg_user (request, "username");

  if (other == NULL)
    return;
  if (contact_state (me, other) != NATTERD_CONTACT_INCOMING)
    {
      natterd_request_error (request, NATTER_ERROR_NOT_FOUND, "No contact request from that user");
      return;
    }
  accept (request, me, other);
}

void
natterd_handle_contact_decline (NatterdRequest *request)
{
  NatterdUser *me = natterd_session_request_user (request);
  NatterdUser *other = natterd_arg_user (request, "username");

  if (other == NULL)
    return;
  if (contact_state (me, other) != NATTERD_CONTACT_INCOMING)
    {
      natterd_request_error (request, NATTER_ERROR_NOT_FOUND, "No contact request from that user");
      return;
    }
  if (!store_delete (request, me, other))
    return;
  set_state (me, other, NATTERD_CONTACT_NONE);
  set_state (other, me, NATTERD_CONTACT_NONE);
  /* Only the decliner's side hears of it: the requester is not told no. */
  send_contact_event (me, other, "removed");
  natterd_request_ok (request);
}

void
natterd_handle_contact_remove (NatterdRequest *request)
{
  NatterdUser *me = natterd_session_request_user (request);
  NatterdUser *other = natterd_arg_user (request, "username");
  NatterdContactState state;

  if (other == NULL)
    return;
  state = contact_state (me, other);
  if (state == NATTERD_CONTACT_NONE)
    {
      natterd_request_error (request, NATTER_ERROR_NOT_FOUND, "Not a contact");
      return;
    }
  if (!store_delete (request, me, other))
    return;
  set_state (me, other, NATTERD_CONTACT_NONE);
  set_state (other, me, NATTERD_CONTACT_NONE);
  send_contact_event (me, other, "removed");
  if (state == NATTERD_CONTACT_ACCEPTED || state == NATTERD_CONTACT_OUTGOING)
    send_contact_event (other, me, "removed");
  natterd_request_ok (request);
}
