/* natter-client-private.h: NatterClient's insides, shared by the files
 * that hold its features (as gnome-text-editor splits EditorWindow), and
 * what the other core classes ask of the client.
 *
 * natter-client.c                the GObject: state, properties, signals; the
 *                                persisted last id; interning users and rooms
 * natter-client-connection.c     connecting, TLS trust, reconnecting
 * natter-client-session.c        signing in and out, the session after sign-in
 * natter-client-events.c         events, handed by type to their feature
 * natter-client-outbox.c         sending, the outbox, retry and discard
 * natter-client-conversations.c  the conversations model
 * natter-client-messages.c       merging messages by id, history, search
 * natter-client-presence.c       presence, typing, read markers
 * natter-client-contacts.c       contacts, contact requests, finding users
 * natter-client-rooms.c          rooms
 * natter-client-request.c        a simple request and its reply as a GTask
 * natter-client-files.c          feature files: uploads before a send
 * natter-client-download.c       ... and downloads
 *
 * A feature's file holds its requests, the handling of their replies and
 * its events; what one file calls in another is declared here, named after
 * the file that holds it (natter_client_outbox_flush() is in
 * natter-client-outbox.c).
 */
#pragma once

#include <json-glib/json-glib.h>

#include "natter-client.h"
#include "natter-connection.h"
#include "natter-fields.h"
#include "natter-known-hosts.h"
#include "natter-outbox.h"
#include "natter-server-address.h"

G_BEGIN_DECLS

struct _NatterClient
{
  GObject parent_instance;

  /* owned references */
  NatterKnownHosts  *known_hosts;
  NatterOutbox      *outbox;
  char              *outbox_account;  /* "user@host:port" whose entries show and are sent */
  char              *outbox_user;     /* ... its username */
  char              *legacy_owner;    /* who wrote entries that name no account */
  NatterConnection  *connection;
  NatterUser        *me;
  GHashTable        *users;           /* username → NatterUser */
  GHashTable        *avatars;         /* SHA-256 hex → GBytes: pictures read (natter-client-avatars.c) */
  GHashTable        *avatars_waiting; /* SHA-256 hex → GPtrArray of GTask: pictures on their way */
  GHashTable        *rooms_by_name;   /* "#name" → NatterRoom (any we heard of) */
  GHashTable        *conversations_by_address; /* address → NatterConversation */
  GListStore        *conversations;   /* most recent first */
  GListStore        *contacts;
  GListStore        *incoming;
  GListStore        *outgoing;
  GListStore        *rooms;           /* ours */
  GHashTable        *sending;         /* client_msg_id → NatterMessage (pending) */
  GHashTable        *in_flight;       /* client_msg_id set: sent on this connection */
  GHashTable        *typing_sent;     /* address → gint64* monotonic time of the last "active" */
  GHashTable        *action_bases;    /* message id (gint64*) → NatterMessage: the server's
                                       * copy of a message this device changed and the
                                       * server has not confirmed yet */
  GKeyFile          *state_file;
  GPtrArray         *addresses;       /* NatterServerAddress: the server's, in the order given */

  char              *state_dir;
  char              *state_path;
  char              *host;            /* the address being tried or in use */
  char              *fingerprint;
  char              *token;
  char              *status_text;
  char              *open_address;    /* the conversation on screen */
  char              *emptied_address; /* the open one, emptied by a discard */
  gint64             last_id;         /* the highest message id we have for certain */
  guint64            generation;      /* bumped for each connection */
  guint              reconnect_attempt; /* rounds over every address that failed */
  guint              address_index;     /* into addresses: host and port */
  guint              round_left;        /* addresses still to try in this round */
  guint              reconnect_id;
  guint              save_id;
  guint              retry_flush_id;
  guint              unread_total;
  NatterClientState  state;
  NatterPresence     presence;
  guint16            port;
  gboolean           use_tls;
  gboolean           presence_set;
  gboolean           registration_open;
  gboolean           send_read_receipts; /* off: read markers stay on this device */
  gboolean           send_typing;        /* off: no "typing" goes out */
  gboolean           message_actions;    /* the server turned the feature on at sign-in */
  gboolean           room_management;    /* ... and this one */
  GListStore        *invitations;        /* NatterRoom* we are invited to (room_management) */
  gboolean           accounts;           /* the feature accounts is on */
  gboolean           files;              /* ... and files */
  GHashTable        *uploads;            /* client_msg_id → the upload of a send with files
                                          * (natter-client-files.c) */
  gboolean           no_features;        /* tests: sign in as a protocol-1 client */
};

/* ---- small helpers ------------------------------------------------------- */

static inline JsonArray *
get_array (JsonObject *obj,
           const char *key)
{
  JsonNode *node = obj != NULL ? json_object_get_member (obj, key) : NULL;

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

static inline JsonObject *
get_object (JsonObject *obj,
            const char *key)
{
  JsonNode *node = obj != NULL ? json_object_get_member (obj, key) : NULL;

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static inline JsonObject *
array_object (JsonArray *array,
              guint      i)
{
  JsonNode *node = json_array_get_element (array, i);

  return JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static inline const char *
get_string (JsonObject *obj,
            const char *key)
{
  const char *value = NULL;

  if (obj == NULL || !natter_fields_get_string (obj, key, FALSE, &value, NULL))
    return NULL;
  return value;
}

static inline gint64
get_int (JsonObject *obj,
         const char *key,
         gint64      fallback)
{
  gboolean present = FALSE;
  gint64 value = 0;

  if (obj == NULL || !natter_fields_get_int (obj, key, FALSE, &present, &value, NULL) || !present)
    return fallback;
  return value;
}

static inline JsonObject *
new_request (const char *type)
{
  JsonObject *req = json_object_new ();

  json_object_set_string_member (req, "type", type);
  return req;
}

static inline JsonObject *
request_with (const char *type,
              const char *key,
              const char *value)
{
  JsonObject *req = new_request (type);

  json_object_set_string_member (req, key, value);
  return req;
}

static inline const char *
me_name (NatterClient *self)
{
  return self->me != NULL ? natter_user_get_username (self->me) : NULL;
}

static inline gboolean
store_contains (GListStore *store,
                gpointer    item,
                guint      *out_position)
{
  return g_list_store_find (store, item, out_position);
}

static inline void
store_remove_item (GListStore *store,
                   gpointer    item)
{
  guint pos;

  if (g_list_store_find (store, item, &pos))
    g_list_store_remove (store, pos);
}

static inline void
store_add_unique (GListStore *store,
                  gpointer    item)
{
  if (!store_contains (store, item, NULL))
    g_list_store_append (store, item);
}

/* natter-client.c */
void        natter_client_set_state             (NatterClient      *self,
                                                 NatterClientState  state);
gboolean    natter_client_signed_in             (NatterClient *self);
void        natter_client_emit_error            (NatterClient *self,
                                                 const GError *error);
void        natter_client_emit_message_received (NatterClient       *self,
                                                 NatterConversation *conversation,
                                                 NatterMessage      *message);
void        natter_client_emit_presence_changed (NatterClient   *self,
                                                 NatterUser     *user,
                                                 NatterPresence  old);
void        natter_client_emit_contact_request  (NatterClient *self,
                                                 NatterUser   *from);
void        natter_client_emit_send_failed      (NatterClient  *self,
                                                 NatterMessage *message,
                                                 const GError  *error);
void        natter_client_set_unread_total      (NatterClient *self,
                                                 guint         total);
void        natter_client_set_me                (NatterClient *self,
                                                 NatterUser   *me);
void        natter_client_set_host_port         (NatterClient *self,
                                                 const char   *host,
                                                 guint16       port);
void        natter_client_set_registration_open (NatterClient *self,
                                                 gboolean      open);
void        natter_client_set_message_actions   (NatterClient *self,
                                                 gboolean      on);
void        natter_client_set_room_management   (NatterClient *self,
                                                 gboolean      on);
void        natter_client_emit_room_removed     (NatterClient *self,
                                                 NatterRoom   *room,
                                                 const char   *reason,
                                                 const char   *by,
                                                 const char   *ban_reason);
char       *natter_client_account_key_for       (NatterClient *self,
                                                 const char   *username);
char       *natter_client_account_key           (NatterClient *self);
void        natter_client_save_state_now        (NatterClient *self);
void        natter_client_note_id               (NatterClient *self,
                                                 gint64        id);
NatterUser *natter_client_intern_user_json      (NatterClient *self,
                                                 JsonObject   *obj);
NatterRoom *natter_client_intern_room           (NatterClient *self,
                                                 const char   *name);
NatterRoom *natter_client_intern_room_json      (NatterClient *self,
                                                 JsonObject   *obj);
void        natter_client_clear_models          (NatterClient *self);

/* natter-client-accounts.c: this device's name for the server's
 * sessions (the host name), or NULL. */
const char *natter_client_accounts_device_name (void);

/* natter-client-connection.c */
void natter_client_connection_drop               (NatterClient *self);
void natter_client_connection_schedule_reconnect (NatterClient *self);
void natter_client_connection_next_address       (NatterClient *self);

/* natter-client-session.c */
void     natter_client_session_start         (NatterClient *self,
                                              gboolean      reconnecting);
gboolean natter_client_session_apply_sign_in (NatterClient  *self,
                                              JsonObject    *reply,
                                              GError       **error);

/* natter-client-outbox.c */
void natter_client_outbox_flush       (NatterClient *self);
gboolean natter_client_outbox_entry_is_mine (NatterClient      *self,
                                             NatterOutboxEntry *entry);
/* A failure worth trying again in a moment (rate limited, busy, internal):
 * the retry is scheduled and TRUE returned. */
gboolean natter_client_outbox_error_is_temporary (NatterClient *self,
                                                  const GError *error);
/* A new message to @address, a reply when @quote is not NULL. */
NatterMessage *natter_client_outbox_send (NatterClient      *self,
                                          const char        *address,
                                          const char        *body,
                                          const NatterQuote *quote);
void natter_client_outbox_restore     (NatterClient *self);
void natter_client_outbox_set_account (NatterClient *self,
                                       const char   *account,
                                       const char   *username);

/* A new message with files (@files: the outbox entry's JSON, see
 * natter-outbox.h) to @address. */
NatterMessage *natter_client_outbox_send_files (NatterClient *self,
                                                const char   *address,
                                                const char   *body,
                                                const char   *files);

/* natter-client-files.c, natter-client-download.c: the protocol's
 * chunk size, and how many chunks this client leaves unanswered at once
 * (docs/protocol.md, "Fairness and flow": the app keeps 4). */
#define NATTER_FILES_CHUNK_SIZE 32768
#define NATTER_FILES_WINDOW     4

/* natter-client-files.c */
/* TRUE when @entry's send can go now (no files, or all uploaded: their
 * ids are added to @req); FALSE when its files are being uploaded (the
 * send goes when they are) or it failed. */
gboolean       natter_client_files_prepare_send (NatterClient      *self,
                                                 NatterOutboxEntry *entry,
                                                 JsonObject        *req);
/* The send of @client_msg_id was acknowledged (@error NULL) or refused
 * for good (@error): its upload is over, or waits for Retry. */
void           natter_client_files_forget       (NatterClient      *self,
                                                 const char        *client_msg_id,
                                                 NatterMessage     *stored,
                                                 const GError      *error);
/* A message discarded: its upload goes too. */
void           natter_client_files_discard      (NatterClient      *self,
                                                 const char        *client_msg_id);
/* The previews this client made for @client_msg_id's outbox entry
 * (kept in the state dir for the outbox's sake) removed from the disk:
 * called before the entry leaves the outbox. */
void           natter_client_files_drop_previews (NatterClient     *self,
                                                  const char       *client_msg_id);
/* The files of @entry as NatterMessageFile (id 0), to show while sending. */
GListModel    *natter_client_files_local_files  (NatterOutboxEntry *entry);
/* The value destroy function of the uploads table. */
GDestroyNotify natter_client_files_upload_free_func (void);

/* natter-client-conversations.c */
gint64 natter_client_conversations_apply_list          (NatterClient *self,
                                                        JsonArray    *list,
                                                        gboolean      then_sync);
void   natter_client_conversations_forget_if_empty     (NatterClient       *self,
                                                        NatterConversation *conv);
void   natter_client_conversations_forget_if_left_room (NatterClient       *self,
                                                        NatterConversation *conv);

/* natter-client-presence.c */
void        natter_client_presence_handle_presence  (NatterClient *self,
                                                     JsonObject   *frame);
void        natter_client_presence_set_stale        (NatterClient *self,
                                                     gboolean      stale);
JsonObject *natter_client_presence_own_json         (NatterClient *self);
void        natter_client_presence_send_own         (NatterClient *self);
void        natter_client_presence_handle_typing    (NatterClient *self,
                                                     JsonObject   *frame);
void        natter_client_presence_clear_all_typing (NatterClient *self);
void        natter_client_presence_handle_read      (NatterClient *self,
                                                     JsonObject   *frame);

/* natter-client-contacts.c */
void     natter_client_contacts_handle_request (NatterClient *self,
                                                JsonObject   *frame);
void     natter_client_contacts_handle_contact (NatterClient *self,
                                                JsonObject   *frame);
void     natter_client_contacts_apply_list     (NatterClient *self,
                                                JsonObject   *reply);
gpointer natter_client_contacts_users_reply    (NatterClient  *self,
                                                JsonObject    *req,
                                                JsonObject    *reply,
                                                GError       **error);

/* natter-client-rooms.c */
void natter_client_rooms_handle_member (NatterClient *self,
                                        JsonObject   *frame);
void natter_client_rooms_handle_topic  (NatterClient *self,
                                        JsonObject   *frame);
void natter_client_rooms_apply_list    (NatterClient *self,
                                        JsonArray    *rooms);
void natter_client_rooms_leave_locally (NatterClient *self,
                                        NatterRoom   *room);

/* natter-client-room-admin.c */
void natter_client_room_admin_apply_invitations (NatterClient *self,
                                                 JsonArray    *invitations);
void natter_client_room_admin_forget_invitation (NatterClient *self,
                                                 NatterRoom   *room);
void natter_client_room_admin_handle_invitation (NatterClient *self,
                                                 JsonObject   *frame);
void natter_client_room_admin_handle_updated    (NatterClient *self,
                                                 JsonObject   *frame);
void natter_client_room_admin_handle_role       (NatterClient *self,
                                                 JsonObject   *frame);
void natter_client_room_admin_handle_removed    (NatterClient *self,
                                                 JsonObject   *frame);

/* natter-client-actions.c */
void      natter_client_actions_add_features   (NatterClient *self,
                                                JsonObject   *request);
void      natter_client_actions_apply_features (NatterClient *self,
                                                JsonObject   *reply);
void      natter_client_actions_handle_changed (NatterClient *self,
                                                JsonObject   *frame);
void      natter_client_actions_apply_changes  (NatterClient *self,
                                                JsonArray    *changes);
void      natter_client_actions_handle_notify_level (NatterClient *self,
                                                     JsonObject   *frame);
/* @name ("all", "mentions", "none") for the conversation at @address;
 * unknown names are ignored. */
void      natter_client_actions_set_level      (NatterClient *self,
                                                const char   *address,
                                                const char   *name);
gboolean  natter_client_actions_send_entry     (NatterClient      *self,
                                                NatterOutboxEntry *entry);
/* A message as the server has it now (an event, a reply, a page): the
 * copy shown takes it over, with this device's unconfirmed actions on
 * top, and the quotes of replies to it follow. */
void      natter_client_actions_apply_server   (NatterClient       *self,
                                                NatterConversation *conv,
                                                NatterMessage      *server);
/* A message about to be shown for the first time gets this device's
 * unconfirmed actions on top (they wait in the outbox after a restart),
 * and a reply the quote of an original that changed since. */
void      natter_client_actions_prepare_new    (NatterClient       *self,
                                                NatterConversation *conv,
                                                NatterMessage      *message);

/* natter-client-request.c */
/* Turns an ok reply into the task's result; NULL with @error to fail. */
typedef gpointer (*NatterClientReplyFunc) (NatterClient  *self,
                                           JsonObject    *request,
                                           JsonObject    *reply,
                                           GError       **error);

/* natter-client-accounts.c: a reply that carries our own user object
 * ({"user":…}), interned; its result our NatterUser. */
gpointer    natter_client_reply_own_user (NatterClient  *self,
                                          JsonObject    *req,
                                          JsonObject    *reply,
                                          GError       **error);

/* Turns a new reference, or NULL to skip, out of one item of a reply. */
typedef gpointer (*NatterClientItemFromJson) (NatterClient *self,
                                              JsonObject   *obj);

void        natter_client_request                  (NatterClient          *self,
                                                    JsonObject            *req,
                                                    NatterClientReplyFunc  func,
                                                    gpointer               source_tag,
                                                    GCancellable          *cancellable,
                                                    GAsyncReadyCallback    callback,
                                                    gpointer               user_data);
gboolean    natter_client_request_finish_boolean   (NatterClient  *self,
                                                    GAsyncResult  *result,
                                                    gpointer       source_tag,
                                                    GError       **error);
GListModel *natter_client_request_finish_model     (NatterClient  *self,
                                                    GAsyncResult  *result,
                                                    gpointer       source_tag,
                                                    GError       **error);
GListStore *natter_client_request_model_from_reply (NatterClient              *self,
                                                    JsonObject                *reply,
                                                    const char                *key,
                                                    GType                      type,
                                                    NatterClientItemFromJson   item_from_json,
                                                    GError                   **error);

/* natter-client-events.c */
void natter_client_events_dispatch_cb (NatterConnection *conn,
                                       JsonObject       *frame,
                                       NatterClient     *self);

/* natter-client-messages.c */
gboolean natter_client_messages_settle_pending (NatterClient  *self,
                                                NatterMessage *stored);
/* Shows @msg (stored) in @conv: a new message is inserted (TRUE), one
 * held already takes over @msg's text, reactions and quote. */
gboolean natter_client_messages_put            (NatterClient       *self,
                                                NatterConversation *conv,
                                                NatterMessage      *msg);
void     natter_client_messages_add_single     (NatterClient *self,
                                                JsonObject   *obj,
                                                gboolean      notify,
                                                gboolean      advance);
void     natter_client_messages_handle_message (NatterClient *self,
                                                JsonObject   *frame);
guint    natter_client_messages_add_batch      (NatterClient       *self,
                                                JsonArray          *array,
                                                NatterConversation *only,
                                                gboolean            notify);

/* Pages older history of @conversation into its model (see
 * natter_conversation_load_older_async()). */
void  natter_client_load_history_async  (NatterClient        *self,
                                         NatterConversation  *conversation,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data);
gint  natter_client_load_history_finish (NatterClient        *self,
                                         GAsyncResult        *result,
                                         GError             **error);

G_END_DECLS
