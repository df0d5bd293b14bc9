/* natterd-handlers-session.c: register, login (password or token) and
 * logout. The work (hashing, tokens, limits) is natterd-auth.c's.
 */
#define G_LOG_DOMAIN "natterd-session"

#include "config.h"

#include <string.h>

#include "natterd-auth.h"
#include "natterd-cluster.h"
#include "natterd-commit.h"
#include "natterd-features.h"
#include "natterd-search-feed.h"
#include "natterd-handlers-private.h"
#include "natterd-session.h"

void
natterd_handle_register (NatterdRequest *request)
{
  NatterdDirectory *dir = natterd_directory_from_request (request);
  const NatterdConfig *config = natterd_directory_get_config (dir);
  g_autoptr(GError) error = NULL;
  g_autofree char *username = NULL;
  const char *raw_username, *password, *display_name, *invite_code, *device;
  guint features;
  gboolean has_features;

  if (config->registration == NATTERD_REGISTRATION_CLOSED)
    {
      natterd_request_error (request, NATTER_ERROR_REGISTRATION_CLOSED, "Registration is closed");
      return;
    }
  if (!natterd_arg_string (request, "username", TRUE, &raw_username) ||
      !natterd_arg_string (request, "password", TRUE, &password) ||
      !natterd_arg_string (request, "display_name", FALSE, &display_name) ||
      !natterd_arg_string (request, "invite_code", FALSE, &invite_code) ||
      !natterd_features_read (request, &features, &has_features) ||
      !natterd_arg_device (request, &device))
    return;

  username = natter_username_normalize (raw_username, &error);
  if (username == NULL)
    {
      natterd_request_error_from (request, error);
      return;
    }
  if (!natter_password_check (password, &error))
    {
      natterd_request_error_from (request, error);
      return;
    }
  if (display_name != NULL && !natter_display_name_is_valid (display_name))
    {
      natterd_request_error (request, NATTER_ERROR_INVALID_ARGUMENT,
                             "display_name must be 1 to 64 characters without control characters");
      return;
    }
  /* After the checks of the account, before any hashing. Open
   * registration needs no code (one given is not used up). */
  if (config->registration != NATTERD_REGISTRATION_INVITE)
    invite_code = NULL;
  else if (invite_code == NULL)
    {
      natterd_request_error (request, NATTER_ERROR_REGISTRATION_CLOSED,
                             "This server registers only with an invitation code");
      return;
    }
  else if (!natterd_invite_code_is_valid (invite_code))
    {
      natterd_request_error (request, NATTER_ERROR_REGISTRATION_CLOSED, NATTERD_INVITE_REFUSED);
      return;
    }
  natterd_auth_register (dir->auth, request, g_steal_pointer (&username), password, display_name,
                         invite_code);
}

void
natterd_handle_login (NatterdRequest *request)
{
  NatterdDirectory *dir = natterd_directory_from_request (request);
  const char *token, *raw_username, *password, *device;
  guint features;
  gboolean has_features;

  /* Checked now; turned on by the login itself (natterd-auth.c). */
  if (!natterd_arg_string (request, "token", FALSE, &token) ||
      !natterd_features_read (request, &features, &has_features) ||
      !natterd_arg_device (request, &device))
    return;
  if (token != NULL)
    {
      natterd_auth_login_token (dir->auth, request, token);
      return;
    }

  if (!natterd_arg_string (request, "username", TRUE, &raw_username) ||
      !natterd_arg_string (request, "password", TRUE, &password))
    return;
  natterd_auth_login_password (dir->auth, request, raw_username, password);
}

/* The token's row is gone (or could not be deleted). */
static void
token_revoked_cb (NatterdRequest *request,
                  const guint8   *hash,
                  const GError   *error)
{
  NatterdDirectory *dir = natterd_directory_from_request (request);
  NatterdConnection *connection = natterd_request_get_connection (request);
  NatterdUser *user = natterd_session_get_user (connection);

  if (error != NULL)
    {
      natterd_request_store_error (request, error);
      return;
    }
  /* The other nodes of a cluster drop it too, and close their
   * connections that logged in with it. */
  natterd_cluster_relay_revoked (dir->cluster, user != NULL ? user->id : 0, hash);
  /* Closed meanwhile: the session ended with it. */
  if (user == NULL)
    {
      natterd_request_ok (request);
      return;
    }

  natterd_session_end (dir, connection);

  /* The token is revoked: every other connection that logged in with it
   * goes too. They leave the user's list when their close completes. */
  if (dir->auth != NULL)
    natterd_auth_forget_token (dir->auth, user, hash);
  natterd_request_ok (request);
}

void
natterd_handle_logout (NatterdRequest *request)
{
  NatterdDirectory *dir = natterd_directory_from_request (request);
  NatterdConnection *connection = natterd_request_get_connection (request);

  /* The requests of this connection that wait (reads after its writes, a
   * search for the index) were asked while logged in: they go first, as
   * the user who asked them. */
  if (natterd_commit_defer_read (dir->commit, request, natterd_handle_logout) ||
      natterd_search_feed_defer (dir->search_feed, request, natterd_handle_logout))
    return;

  natterd_auth_revoke_token (dir->auth, request, natterd_session_get_token_hash (connection),
                             token_revoked_cb);
}
