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

#include "natterd-directory-events.h"
#include "natterd-directory-refresh.h"
#include "natterd-handlers-private.h"
#include "natterd-blocks.h"

static NatterdContactState
contact_state (NatterdUser *me,
               NatterdUser *other)
{
  return GPOINTER_TO_INT (g_hash_table_lookup (me->contacts, other));
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

/* A contact change: decided and written by the writer thread, then
 * applied to both users (natterd-model-write.h).
 *
 * The decision is the database's, not the directory's: the job locks the
 * pair's rows (natterd_store_contact_lock) and decides on what they say,
 * in the transaction that writes the outcome. Nodes of a cluster each
 * check a request against their own copy of the directory, which may be
 * behind another node's change of the same pair a moment ago (crossed
 * requests made at once on two nodes, an accept while the asker
 * withdraws); under the lock the second of two such changes sees the
 * first's rows, and crossed requests make contacts. On a single node the
 * rows always say what the directory says. */
typedef enum {
  CONTACT_ASK,     /* me asks other (or accepts their request: crossed) */
  CONTACT_ACCEPT,  /* me accepts other's request */
  CONTACT_DECLINE, /* me declines other's request */
  CONTACT_REMOVE,  /* me removes other, whatever the state was */
} ContactChange;

/* What the writer did, decided on the rows. */
typedef enum {
  EFFECT_NONE,     /* wrote nothing */
  EFFECT_ASK,      /* (me, other) pending */
  EFFECT_ACCEPT,   /* a request of other's made the pair contacts */
  EFFECT_DELETE,   /* every row of the pair gone */
} ContactEffect;

/* How the request is answered. */
typedef enum {
  ANSWER_OK,
  ANSWER_CONFLICT,   /* already contacts */
  ANSWER_NOT_FOUND,  /* no such request, or not a contact */
} ContactAnswer;

typedef struct {
  NatterdModelWrite    model;
  ContactChange        change;
  NatterdUser         *me;      /* main loop only */
  NatterdUser         *other;
  gint64               me_id;
  gint64               other_id;
  /* Set by the writer thread, read after its completion. */
  NatterdContactState  was;     /* what the rows said, from me's side */
  ContactEffect        effect;
  ContactAnswer        answer;
} ContactWrite;

static NatterdContactState
state_of_pair (NatterdStoreContactPair pair)
{
  switch (pair)
    {
    case NATTERD_STORE_PAIR_ACCEPTED: return NATTERD_CONTACT_ACCEPTED;
    case NATTERD_STORE_PAIR_A_ASKED: return NATTERD_CONTACT_OUTGOING;
    case NATTERD_STORE_PAIR_B_ASKED: return NATTERD_CONTACT_INCOMING;
    case NATTERD_STORE_PAIR_NONE:
    default: return NATTERD_CONTACT_NONE;
    }
}

/* The outcome of @change when the rows say @was. */
static ContactEffect
decide (ContactChange        change,
        NatterdContactState  was,
        ContactAnswer       *answer)
{
  *answer = ANSWER_OK;
  switch (change)
    {
    case CONTACT_ASK:
      switch (was)
        {
        case NATTERD_CONTACT_NONE: return EFFECT_ASK;
        case NATTERD_CONTACT_INCOMING: return EFFECT_ACCEPT;  /* they asked first */
        case NATTERD_CONTACT_ACCEPTED: *answer = ANSWER_CONFLICT; return EFFECT_NONE;
        case NATTERD_CONTACT_OUTGOING:
        default: return EFFECT_NONE;                          /* asked again */
        }
    case CONTACT_ACCEPT:
    case CONTACT_DECLINE:
      if (was != NATTERD_CONTACT_INCOMING)
        {
          *answer = ANSWER_NOT_FOUND;
          return EFFECT_NONE;
        }
      return change == CONTACT_ACCEPT ? EFFECT_ACCEPT : EFFECT_DELETE;
    case CONTACT_REMOVE:
      if (was == NATTERD_CONTACT_NONE)
        {
          *answer = ANSWER_NOT_FOUND;
          return EFFECT_NONE;
        }
      return EFFECT_DELETE;
    default:
      g_assert_not_reached ();
    }
}

/* Writer thread. An accepted pair is one row (min, max); a request is
 * (asker, asked). */
static gboolean
contact_run (NatterdWriteJob *job,
             NatterdStore    *store,
             GError         **error)
{
  ContactWrite *w = (ContactWrite *) job;
  NatterdStoreContactPair pair;

  if (!natterd_store_contact_lock (store, w->me_id, w->other_id, &pair, error))
    return FALSE;
  w->was = state_of_pair (pair);
  w->effect = decide (w->change, w->was, &w->answer);
  w->model.unchanged = w->effect == EFFECT_NONE;
  switch (w->effect)
    {
    case EFFECT_NONE:
      return TRUE;
    case EFFECT_ASK:
      return natterd_store_contact_set (store, w->me_id, w->other_id,
                                        NATTERD_STORE_CONTACT_PENDING, error);
    case EFFECT_ACCEPT:
      return natterd_store_contact_delete (store, w->me_id, w->other_id, error) &&
             natterd_store_contact_set (store, MIN (w->me_id, w->other_id), MAX (w->me_id, w->other_id),
                                        NATTERD_STORE_CONTACT_ACCEPTED, error);
    case EFFECT_DELETE:
      return natterd_store_contact_delete (store, w->me_id, w->other_id, error);
    default:
      g_assert_not_reached ();
    }
}

static void
contact_apply (NatterdModelWrite *model,
               const GError      *error)
{
  ContactWrite *w = (ContactWrite *) model;
  NatterdRequest *request = w->model.write.request;
  NatterdUser *me = w->me, *other = w->other;

  if (error != NULL)
    {
      natterd_request_store_error (request, error);
      return;
    }
  /* The directory may have been behind the rows (changed through another
   * node and not read yet): first what a refresh would have told, then
   * this change. */
  natterd_events_contact_to (me, other, w->was);
  switch (w->effect)
    {
    case EFFECT_NONE:
      break;
    case EFFECT_ASK:
      natterd_user_set_contact (me, other, NATTERD_CONTACT_OUTGOING);
      natterd_events_contact_request (me, other);
      break;
    case EFFECT_ACCEPT:
      natterd_user_set_contact (me, other, NATTERD_CONTACT_ACCEPTED);
      natterd_events_contact (me, other, "added");
      natterd_events_contact (other, me, "added");
      break;
    case EFFECT_DELETE:
      natterd_user_set_contact (me, other, NATTERD_CONTACT_NONE);
      natterd_events_contact (me, other, "removed");
      /* The requester is not told no (a decline, or an incoming request
       * removed). */
      if (w->change == CONTACT_REMOVE &&
          (w->was == NATTERD_CONTACT_ACCEPTED || w->was == NATTERD_CONTACT_OUTGOING))
        natterd_events_contact (other, me, "removed");
      break;
    default:
      g_assert_not_reached ();
    }
  switch (w->answer)
    {
    case ANSWER_OK:
      natterd_request_ok (request);
      break;
    case ANSWER_CONFLICT:
      natterd_request_error (request, NATTER_ERROR_CONFLICT, "Already a contact");
      break;
    default:
      natterd_request_error (request, NATTER_ERROR_NOT_FOUND,
                             w->change == CONTACT_REMOVE ? "Not a contact"
                                                         : "No contact request from that user");
      break;
    }
}

static void
start_change (NatterdRequest *request,
              ContactChange   change,
              NatterdUser    *me,
              NatterdUser    *other)
{
  ContactWrite *w = g_new0 (ContactWrite, 1);

  w->change = change;
  w->me = me;
  w->other = other;
  w->me_id = me->id;
  w->other_id = other->id;
  natterd_model_write_start (&w->model, request, contact_run, contact_apply, NULL);
}

/* The user named by the request, once no other change of the directory is
 * in flight (natterd-model-write.h): NULL when the request waits or has
 * been answered. */
static NatterdUser *
other_user (NatterdRequest      *request,
            NatterdDeferredFunc  handler)
{
  if (natterd_model_write_wait (natterd_directory_from_request (request), request, handler))
    return NULL;
  return natterd_arg_user (request, "username");
}

void
natterd_handle_contact_request (NatterdRequest *request)
{
  NatterdUser *me = natterd_session_request_user (request);
  NatterdUser *other = other_user (request, natterd_handle_contact_request);

  if (other == NULL)
    return;
  if (other == me)
    {
      natterd_request_error (request, NATTER_ERROR_INVALID_ARGUMENT, "You cannot add yourself");
      return;
    }

  /* Asked by someone they block: answered as if sent, stored nowhere,
   * told to nobody (natterd-blocks.h). */
  if (contact_state (me, other) == NATTERD_CONTACT_NONE && natterd_user_blocks (other, me))
    {
      natterd_request_ok (request);
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
    default:
      /* Asking back accepts when they asked first: the rows decide
       * (contact_run), which a request through another node a moment ago
       * may have changed. */
      start_change (request, CONTACT_ASK, me, other);
      return;
    }
}

/* contact_accept and contact_decline: of a pending request from the
 * user named. */
static void
answer_request (NatterdRequest      *request,
                NatterdDeferredFunc  handler,
                ContactChange        change)
{
  NatterdUser *me = natterd_session_request_user (request);
  NatterdUser *other = other_user (request, handler);

  if (other == NULL)
    return;
  if (contact_state (me, other) != NATTERD_CONTACT_INCOMING)
    {
      /* Perhaps asked through another node. */
      if (!natterd_directory_refresh_wait (natterd_directory_from_request (request), request))
        natterd_request_error (request, NATTER_ERROR_NOT_FOUND, "No contact request from that user");
      return;
    }
  start_change (request, change, me, other);
}

void
natterd_handle_contact_accept (NatterdRequest *request)
{
  answer_request (request, natterd_handle_contact_accept, CONTACT_ACCEPT);
}

void
natterd_handle_contact_decline (NatterdRequest *request)
{
  answer_request (request, natterd_handle_contact_decline, CONTACT_DECLINE);
}

void
natterd_handle_contact_remove (NatterdRequest *request)
{
  NatterdUser *me = natterd_session_request_user (request);
  NatterdUser *other = other_user (request, natterd_handle_contact_remove);

  if (other == NULL)
    return;
  if (contact_state (me, other) == NATTERD_CONTACT_NONE)
    {
      if (!natterd_directory_refresh_wait (natterd_directory_from_request (request), request))
        natterd_request_error (request, NATTER_ERROR_NOT_FOUND, "Not a contact");
      return;
    }
  start_change (request, CONTACT_REMOVE, me, other);
}
