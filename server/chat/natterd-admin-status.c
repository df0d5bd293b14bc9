/* natterd-admin-status.c: natterctl status and registration
 * (natterd-admin-private.h).
 */
#define G_LOG_DOMAIN "natterd-admin"

#include "config.h"

#include <string.h>

#include "natterd-admin-private.h"
#include "natterd-auth.h"
#include "natterd-presence.h"

/* The counts the store keeps, read on the reader thread. */
typedef struct {
  NatterdAdminWrite read;
  gint64            messages;
  gint64            bytes;
} StatsRead;

static gboolean
stats_run (NatterdWriteJob *job,
           NatterdStore    *store,
           GError         **error)
{
  StatsRead *r = (StatsRead *) job;

  return natterd_store_stats (store, &r->messages, &r->bytes, error);
}

static void
stats_apply (NatterdAdminWrite *read,
             NatterdDirectory  *dir,
             const GError      *error)
{
  StatsRead *r = (StatsRead *) read;
  NatterdAdminRequest *request = read->request;
  char rate[G_ASCII_DTOSTR_BUF_SIZE];
  NatterJsonWriter *w;

  if (!natterd_admin_check_done (request, dir, error))
    return;
  w = natterd_admin_begin_ok (request);
  natter_json_writer_key (w, "version");
  natter_json_writer_string (w, PACKAGE_VERSION);
  natter_json_writer_key (w, "uptime");
  natter_json_writer_int (w, (g_get_monotonic_time () - natterd_admin_request_started (request)) / G_USEC_PER_SEC);
  natter_json_writer_key (w, "connections");
  natter_json_writer_int (w, natterd_server_count_connections (dir->server));
  natter_json_writer_key (w, "users_online");
  natter_json_writer_int (w, natterd_presence_count_online (dir));
  natter_json_writer_key (w, "users");
  natter_json_writer_int (w, g_hash_table_size (dir->users_by_name));
  natter_json_writer_key (w, "rooms");
  natter_json_writer_int (w, g_hash_table_size (dir->rooms));
  natter_json_writer_key (w, "messages_stored");
  natter_json_writer_int (w, r->messages);
  natter_json_writer_key (w, "database_bytes");
  natter_json_writer_int (w, r->bytes);
  natter_json_writer_key (w, "messages_per_second");
  g_ascii_formatd (rate, sizeof rate, "%.2f", natterd_rate_per_second (&dir->message_rate));
  natter_json_writer_raw (w, rate, strlen (rate));
  natter_json_writer_key (w, "logins_abandoned");
  natter_json_writer_int (w, (gint64) natterd_auth_count_abandoned (dir->auth));
  natter_json_writer_key (w, "registration");
  natter_json_writer_string (w, natterd_registration_to_string (natterd_directory_get_config (dir)->registration));
  natter_json_writer_key (w, "database");
  natter_json_writer_string (w, natterd_store_is_shared (dir->store) ? "postgresql" : "sqlite");
  natterd_admin_finish_ok (request);
}

/* {"type":"status"} */
void
natterd_admin_status (NatterdAdminRequest *request,
                      JsonObject          *args)
{
  natterd_admin_read_start (g_malloc0 (sizeof (StatsRead)), request, stats_run, stats_apply, NULL);
}

/* {"type":"registration","mode":"closed"}: mode absent only asks. */
void
natterd_admin_registration (NatterdAdminRequest *request,
                            JsonObject          *args)
{
  NatterdDirectory *dir = natterd_admin_request_directory (request);
  NatterdRegistration mode;
  NatterJsonWriter *w;
  const char *text;

  if (!natterd_admin_arg_string (request, args, "mode", FALSE, &text))
    return;
  if (text != NULL)
    {
      if (!natterd_registration_from_string (text, &mode) || g_str_equal (text, "true") ||
          g_str_equal (text, "false"))
        {
          natterd_admin_error (request, NATTER_ERROR_INVALID_ARGUMENT, "mode must be open, closed or invite");
          return;
        }
      /* Until natterd stops: the config file says what it starts with. */
      if (natterd_directory_get_config (dir)->registration != mode)
        {
          natterd_server_set_registration (dir->server, mode);
          g_message ("registration is now %s (natterctl)", text);
        }
    }
  w = natterd_admin_begin_ok (request);
  natter_json_writer_key (w, "mode");
  natter_json_writer_string (w, natterd_registration_to_string (natterd_directory_get_config (dir)->registration));
  natterd_admin_finish_ok (request);
}
