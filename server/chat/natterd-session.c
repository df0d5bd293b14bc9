#define G_LOG_DOMAIN "natterd-session"

#include "config.h"

#include <string.h>

#include "natterd-auth.h"
#include "natterd-presence.h"
#include "natterd-session.h"

typedef struct {
  NatterdUser    *user;
  NatterPresence  presence;
  guint8          token_hash[NATTERD_TOKEN_HASH_LEN];
} NatterdSession;

static const guint8 no_token_hash[NATTERD_TOKEN_HASH_LEN];

NatterdUser *
natterd_session_get_user (NatterdConnection *connection)
{
  NatterdSession *session = natterd_connection_get_session (connection);

  return session != NULL ? session->user : NULL;
}

const guint8 *
natterd_session_get_token_hash (NatterdConnection *connection)
{
  NatterdSession *session = natterd_connection_get_session (connection);

  return session != NULL ? session->token_hash : no_token_hash;
}

NatterPresence
natterd_session_get_presence (NatterdConnection *connection)
{
  NatterdSession *session = natterd_connection_get_session (connection);

  return session != NULL ? session->presence : NATTER_PRESENCE_OFFLINE;
}

NatterdUser *
natterd_session_request_user (NatterdRequest *request)
{
  return natterd_session_get_user (natterd_request_get_connection (request));
}

void
natterd_session_set_presence (NatterdConnection *connection,
                              NatterPresence     presence)
{
  NatterdSession *session = natterd_connection_get_session (connection);

  g_return_if_fail (session != NULL);
  session->presence = presence;
}

void
natterd_session_attach (NatterdDirectory  *dir,
                        NatterdConnection *connection,
                        NatterdUser       *user,
                        const guint8      *token_hash)
{
  /* The connection's own link, not one of the session's: a fan-out walks
   * user->connections and writes to each, and a link in the connection's
   * memory saves a cache miss per delivery (measured: 15 % of the main
   * loop's CPU in a fan-out to 1,000 members). Its data is the connection
   * already. */
  GList *link = natterd_connection_get_service_link (connection);
  NatterdSession *session;

  g_return_if_fail (natterd_connection_get_session (connection) == NULL);

  session = g_new0 (NatterdSession, 1);

  session->user = user;
  session->presence = NATTER_PRESENCE_ONLINE;
  if (token_hash != NULL)
    memcpy (session->token_hash, token_hash, sizeof session->token_hash);
  natterd_connection_set_session (connection, session);

  link->prev = NULL;
  link->next = user->connections;
  if (user->connections != NULL)
    user->connections->prev = link;
  user->connections = link;
  if (user->n_connections++ == 0)
    natterd_presence_user_online (dir, user);
  natterd_presence_update (dir, user, FALSE, connection);
}

void
natterd_session_end (NatterdDirectory  *dir,
                     NatterdConnection *connection)
{
  NatterdSession *session = natterd_connection_get_session (connection);
  NatterdUser *user;

  if (session == NULL)
    return;
  user = session->user;
  /* The session's last activity (the feature accounts' sessions). */
  if (dir->auth != NULL)
    natterd_auth_token_touch (dir->auth, session->token_hash);
  user->connections = g_list_remove_link (user->connections,
                                          natterd_connection_get_service_link (connection));
  natterd_connection_set_session (connection, NULL);
  /* Features belong to the login: the next one says again. */
  natterd_connection_set_features (connection, 0);
  g_free (session);

  g_assert (user->n_connections > 0);
  if (--user->n_connections == 0)
    natterd_presence_user_offline (dir, user);
  /* At shutdown every connection closes: telling each of the others of
   * each close would cost O(n²) frames nobody will read. */
  if (!dir->stopping)
    natterd_presence_update (dir, user, FALSE, connection);
}
