/* natter-client-connection.c: the connection: connecting (TLS, trust on
 * first use), losing it, and reconnecting with backoff and the token.
 *
 * A server may have several addresses (natter-server-address.h). Each
 * attempt is a round over them, in the order given, from the one in
 * turn: an address that cannot be reached (or closes before its welcome)
 * passes the turn to the next at once, and the backoff waits only between
 * rounds. When a connected server dies the next round starts at the next
 * address, so a dead node costs one failed connect at most. A certificate
 * is trusted per host:port, as with one address: a changed one stops the
 * round (UNTRUSTED) exactly as before, whichever address it is on.
 */
#define G_LOG_DOMAIN "natter-client"

#include "config.h"

#include "natter-client-private.h"
#include "natter-known-hosts.h"

#define RECONNECT_MIN_MS       500
#define RECONNECT_MAX_MS       30000

/* ---- losing the connection --------------------------------------------- */

void
natter_client_connection_drop (NatterClient *self)
{
  g_autoptr(NatterConnection) conn = g_steal_pointer (&self->connection);

  if (conn == NULL)
    return;
  g_signal_handlers_disconnect_by_data (conn, self);
  natter_connection_close (conn);
  g_hash_table_remove_all (self->in_flight);
  self->generation++;
  natter_client_presence_set_stale (self, TRUE);
}

static void
connection_closed_cb (NatterConnection *conn,
                      const GError     *error,
                      NatterClient     *self)
{
  gboolean was_signed_in = self->state == NATTER_CLIENT_STATE_AUTHENTICATING ||
                           self->state == NATTER_CLIENT_STATE_READY ||
                           self->state == NATTER_CLIENT_STATE_RECONNECTING;

  if (conn != self->connection)
    return;

  g_debug ("Connection closed: %s", error != NULL ? error->message : "by us");
  natter_client_connection_drop (self);
  natter_client_presence_clear_all_typing (self);

  if (was_signed_in && self->token != NULL)
    {
      /* Whatever killed it may still hold that address: start elsewhere. */
      natter_client_connection_next_address (self);
      natter_client_set_state (self, NATTER_CLIENT_STATE_RECONNECTING);
      natter_client_connection_schedule_reconnect (self);
      return;
    }

  natter_client_set_state (self, NATTER_CLIENT_STATE_DISCONNECTED);
  if (error != NULL)
    natter_client_emit_error (self, error);
}

/* ---- connecting -------------------------------------------------------- */

static NatterConnection *
new_connection (NatterClient *self)
{
  NatterConnection *conn = natter_connection_new (self->known_hosts);

  g_signal_connect (conn, "event", G_CALLBACK (natter_client_events_dispatch_cb), self);
  g_signal_connect (conn, "closed", G_CALLBACK (connection_closed_cb), self);
  self->generation++;
  return conn;
}

void
natter_client_connection_next_address (NatterClient *self)
{
  if (self->addresses != NULL && self->addresses->len > 0)
    self->address_index = (self->address_index + 1) % self->addresses->len;
}

/* The fingerprints trusted for the server's addresses other than the
 * current one. */
static GStrv
trusted_elsewhere (NatterClient *self)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  for (guint i = 0; i < self->addresses->len; i++)
    {
      const NatterServerAddress *address = g_ptr_array_index (self->addresses, i);
      const char *fp = natter_known_hosts_lookup (self->known_hosts, address->host, address->port);

      if (i != self->address_index && fp != NULL)
        g_strv_builder_add (builder, fp);
    }
  return g_strv_builder_end (builder);
}

/* Opens a new connection to the address in turn. */
static void
open_address (NatterClient        *self,
              GCancellable        *cancellable,
              GAsyncReadyCallback  callback,
              gpointer             user_data)
{
  const NatterServerAddress *address = g_ptr_array_index (self->addresses, self->address_index);
  g_auto(GStrv) elsewhere = trusted_elsewhere (self);

  natter_client_connection_drop (self);
  natter_client_set_host_port (self, address->host, address->port);
  g_clear_pointer (&self->fingerprint, g_free);
  g_debug ("Connecting to %s:%u (address %u of %u)", address->host, address->port,
           self->address_index + 1, self->addresses->len);

  self->connection = new_connection (self);
  natter_connection_set_trusted_elsewhere (self->connection, (const char *const *) elsewhere);
  natter_connection_open_async (self->connection, address->host, address->port, self->use_tls,
                                cancellable, callback, user_data);
}

static void
start_round (NatterClient *self)
{
  self->round_left = self->addresses->len - 1;
}

/* After a failed open: moves the turn to the next address and says
 * whether this round goes on there. A certificate to decide about, or a
 * cancelled connect, ends the round where it is, so that trusting that
 * certificate and resuming try the same address again. */
static gboolean
round_goes_on (NatterClient *self,
               const GError *error)
{
  if (g_error_matches (error, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_CERTIFICATE_CHANGED) ||
      g_error_matches (error, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_CERTIFICATE_UNKNOWN) ||
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return FALSE;

  natter_client_connection_next_address (self);
  if (self->round_left == 0)
    return FALSE;
  self->round_left--;
  return TRUE;
}

/* An open succeeded: a certificate accepted because another address of
 * the server has it is pinned for this one too, so that it is checked
 * like any other from now on. */
static void
pin_adopted (NatterClient     *self,
             NatterConnection *conn)
{
  g_autoptr(GError) error = NULL;
  const char *fp = natter_connection_get_peer_fingerprint (conn);

  if (!natter_connection_get_adopted (conn) || fp == NULL)
    return;
  if (!natter_known_hosts_trust (self->known_hosts, self->host, self->port, fp, &error))
    g_warning ("Cannot remember the certificate of %s:%u: %s", self->host, self->port, error->message);
}

static void
apply_welcome (NatterClient *self,
               JsonObject   *welcome)
{
  gboolean open = FALSE, present = FALSE;

  natter_fields_get_bool (welcome, "registration", FALSE, &present, &open, NULL);
  if (present)
    natter_client_set_registration_open (self, open);
}

static void
remember_fingerprint (NatterClient     *self,
                      NatterConnection *conn)
{
  const char *fp = natter_connection_get_peer_fingerprint (conn);

  if (fp != NULL && g_strcmp0 (fp, self->fingerprint) != 0)
    {
      g_free (self->fingerprint);
      self->fingerprint = g_strdup (fp);
    }
}

static void
open_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  NatterClient *self = g_task_get_source_object (task);
  NatterConnection *conn = NATTER_CONNECTION (object);
  g_autoptr(JsonObject) welcome = NULL;
  GError *error = NULL;

  welcome = natter_connection_open_finish (conn, result, &error);
  remember_fingerprint (self, conn);

  if (conn != self->connection)
    {
      /* Superseded by another connect or a disconnect. */
      g_clear_error (&error);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Connecting was superseded");
      return;
    }

  if (welcome == NULL)
    {
      if (round_goes_on (self, error))
        {
          GCancellable *cancellable = g_task_get_cancellable (task);

          g_debug ("Trying the next address: %s", error->message);
          g_clear_error (&error);
          open_address (self, cancellable, open_cb, g_steal_pointer (&task));
          return;
        }
      natter_client_connection_drop (self);
      natter_client_set_state (self, NATTER_CLIENT_STATE_DISCONNECTED);
      g_task_return_error (task, error);
      return;
    }

  pin_adopted (self, conn);
  apply_welcome (self, welcome);
  natter_client_set_state (self, NATTER_CLIENT_STATE_CONNECTED);
  g_task_return_boolean (task, TRUE);
}

/* Takes @addresses (transfer full), or fails @task with @error. */
static void
connect_addresses (NatterClient *self,
                   GPtrArray    *addresses,
                   GError       *error,
                   GTask        *task)
{
  if (addresses == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }

  /* A fresh connect replaces whatever was going on, reconnects included. */
  g_clear_handle_id (&self->reconnect_id, g_source_remove);
  natter_client_connection_drop (self);
  if (self->state == NATTER_CLIENT_STATE_READY ||
      self->state == NATTER_CLIENT_STATE_AUTHENTICATING ||
      self->state == NATTER_CLIENT_STATE_RECONNECTING ||
      self->state == NATTER_CLIENT_STATE_UNTRUSTED)
    {
      /* Signing in again is the caller's business now. */
      g_clear_pointer (&self->token, g_free);
    }

  g_clear_pointer (&self->addresses, g_ptr_array_unref);
  self->addresses = addresses;
  self->address_index = 0;
  start_round (self);
  natter_client_set_state (self, NATTER_CLIENT_STATE_CONNECTING);
  open_address (self, g_task_get_cancellable (task), open_cb, task);
}

void
natter_client_connect_async (NatterClient        *self,
                             const char          *host,
                             guint16              port,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  GTask *task;
  GPtrArray *addresses;

  g_return_if_fail (NATTER_IS_CLIENT (self));
  g_return_if_fail (host != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, natter_client_connect_async);
  addresses = g_ptr_array_new_with_free_func ((GDestroyNotify) natter_server_address_free);
  g_ptr_array_add (addresses, natter_server_address_new (host, port));
  connect_addresses (self, addresses, NULL, task);
}

void
natter_client_connect_server_async (NatterClient        *self,
                                    const char          *addresses,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  GTask *task;
  GError *error = NULL;
  GPtrArray *list;

  g_return_if_fail (NATTER_IS_CLIENT (self));
  g_return_if_fail (addresses != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, natter_client_connect_server_async);
  list = natter_server_address_parse_list (addresses, &error);
  connect_addresses (self, list, error, task);
}

char *
natter_client_dup_server (NatterClient *self)
{
  g_return_val_if_fail (NATTER_IS_CLIENT (self), NULL);

  if (self->addresses == NULL)
    return NULL;
  return natter_server_address_list_to_string (self->addresses);
}

gboolean
natter_client_connect_finish (NatterClient  *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
natter_client_disconnect (NatterClient *self)
{
  g_return_if_fail (NATTER_IS_CLIENT (self));

  g_clear_handle_id (&self->reconnect_id, g_source_remove);
  g_clear_handle_id (&self->retry_flush_id, g_source_remove);
  natter_client_connection_drop (self);
  self->reconnect_attempt = 0;
  natter_client_set_state (self, NATTER_CLIENT_STATE_DISCONNECTED);
  if (self->save_id != 0)
    natter_client_save_state_now (self);
}

const char *
natter_client_get_peer_fingerprint (NatterClient *self)
{
  g_return_val_if_fail (NATTER_IS_CLIENT (self), NULL);
  return self->fingerprint;
}

const char *
natter_client_get_trusted_fingerprint (NatterClient *self)
{
  g_return_val_if_fail (NATTER_IS_CLIENT (self), NULL);

  if (self->host == NULL)
    return NULL;
  return natter_known_hosts_lookup (self->known_hosts, self->host, self->port);
}

gboolean
natter_client_trust_fingerprint (NatterClient  *self,
                                 const char    *host,
                                 guint16        port,
                                 const char    *fingerprint,
                                 GError       **error)
{
  g_return_val_if_fail (NATTER_IS_CLIENT (self), FALSE);
  g_return_val_if_fail (host != NULL && fingerprint != NULL, FALSE);

  return natter_known_hosts_trust (self->known_hosts, host, port, fingerprint, error);
}

/* ---- reconnecting ---------------------------------------------------------- */

static void reconnect_login_cb (GObject *object, GAsyncResult *result, gpointer user_data);

static void
reconnect_open_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(NatterClient) self = user_data;
  NatterConnection *conn = NATTER_CONNECTION (object);
  g_autoptr(JsonObject) welcome = NULL;
  g_autoptr(JsonObject) req = NULL;
  g_autoptr(GError) error = NULL;

  welcome = natter_connection_open_finish (conn, result, &error);
  remember_fingerprint (self, conn);
  if (conn != self->connection)
    return;

  if (welcome == NULL)
    {
      g_debug ("Reconnect failed: %s", error->message);
      natter_client_connection_drop (self);
      if (g_error_matches (error, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_CERTIFICATE_CHANGED) ||
          g_error_matches (error, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_CERTIFICATE_UNKNOWN))
        {
          /* Only the user can decide about a new certificate: no more
           * attempts until they do, and nothing of the session (token,
           * models, outbox) is dropped meanwhile. The error goes first, so
           * that whoever reacts to the state knows why. */
          self->reconnect_attempt = 0;
          natter_client_emit_error (self, error);
          natter_client_set_state (self, NATTER_CLIENT_STATE_UNTRUSTED);
          return;
        }
      if (round_goes_on (self, error))
        {
          open_address (self, NULL, reconnect_open_cb, g_object_ref (self));
          return;
        }
      natter_client_connection_schedule_reconnect (self);
      return;
    }

  pin_adopted (self, conn);
  apply_welcome (self, welcome);

  req = new_request ("login");
  json_object_set_string_member (req, "token", self->token);
  natter_client_actions_add_features (self, req);
  natter_connection_request_async (conn, req, NULL, reconnect_login_cb, g_object_ref (self));
}

static void
reconnect_login_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(NatterClient) self = user_data;
  NatterConnection *conn = NATTER_CONNECTION (object);
  g_autoptr(JsonObject) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = natter_connection_request_finish (conn, result, &error);
  if (conn != self->connection)
    return;

  if (reply != NULL && !natter_client_session_apply_sign_in (self, reply, &error))
    g_clear_pointer (&reply, json_object_unref);

  if (reply == NULL)
    {
      if (g_error_matches (error, NATTER_ERROR, NATTER_ERROR_AUTH_FAILED))
        {
          /* The token was revoked or expired: the user must sign in. */
          g_clear_pointer (&self->token, g_free);
          natter_client_connection_drop (self);
          natter_client_set_state (self, NATTER_CLIENT_STATE_DISCONNECTED);
          natter_client_emit_error (self, error);
          return;
        }
      /* That node answered but could not sign us in (its database may be
       * what failed): the next round starts at another. */
      natter_client_connection_drop (self);
      natter_client_connection_next_address (self);
      natter_client_connection_schedule_reconnect (self);
      return;
    }

  natter_client_session_start (self, TRUE);
}

static gboolean
reconnect_cb (gpointer user_data)
{
  NatterClient *self = user_data;

  self->reconnect_id = 0;
  if (self->state != NATTER_CLIENT_STATE_RECONNECTING || self->host == NULL)
    return G_SOURCE_REMOVE;

  g_debug ("Reconnecting (round %u)", self->reconnect_attempt);
  start_round (self);
  open_address (self, NULL, reconnect_open_cb, g_object_ref (self));
  return G_SOURCE_REMOVE;
}

void
natter_client_connection_schedule_reconnect (NatterClient *self)
{
  double delay;

  g_clear_handle_id (&self->reconnect_id, g_source_remove);

  /* 0.5 s doubling to 30 s, ±20 % so that clients that lost the same
   * server do not all come back in the same instant. */
  delay = RECONNECT_MIN_MS * (double) (1u << MIN (self->reconnect_attempt, 16u));
  delay = MIN (delay, RECONNECT_MAX_MS);
  delay *= g_random_double_range (0.8, 1.2);
  self->reconnect_attempt++;

  natter_client_set_state (self, NATTER_CLIENT_STATE_RECONNECTING);
  self->reconnect_id = g_timeout_add ((guint) delay, reconnect_cb, self);
}

void
natter_client_resume (NatterClient *self)
{
  g_return_if_fail (NATTER_IS_CLIENT (self));

  if (self->state != NATTER_CLIENT_STATE_UNTRUSTED || self->token == NULL)
    return;
  g_clear_handle_id (&self->reconnect_id, g_source_remove);
  self->reconnect_attempt = 0;
  natter_client_set_state (self, NATTER_CLIENT_STATE_RECONNECTING);
  reconnect_cb (self);
}

void
natter_client_reconnect_now (NatterClient *self)
{
  g_return_if_fail (NATTER_IS_CLIENT (self));

  if (self->state != NATTER_CLIENT_STATE_RECONNECTING || self->reconnect_id == 0)
    return;
  g_clear_handle_id (&self->reconnect_id, g_source_remove);
  reconnect_cb (self);
}
