/* natterd-features.c: the "features" field of login and register. */
#define G_LOG_DOMAIN "natterd-session"

#include "config.h"

#include <string.h>

#include "natter-error.h"
#include "natterd-connection.h"
#include "natterd-features.h"
#include "natterd-server.h"

gboolean
natterd_features_read (NatterdRequest *request,
                       guint          *out_features,
                       gboolean       *out_present)
{
  JsonObject *frame = natterd_request_get_frame (request);
  JsonNode *node = json_object_get_member (frame, "features");
  JsonArray *names;
  guint n;

  *out_features = 0;
  *out_present = node != NULL;
  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node) ||
      (n = json_array_get_length (names = json_node_get_array (node))) > NATTER_FEATURES_MAX)
    goto bad;
  for (guint i = 0; i < n; i++)
    {
      JsonNode *name = json_array_get_element (names, i);
      const char *s;
      gsize len;

      if (!JSON_NODE_HOLDS_VALUE (name) || json_node_get_value_type (name) != G_TYPE_STRING)
        goto bad;
      s = json_node_get_string (name);
      len = strlen (s);
      if (len < 1 || len > NATTER_FEATURE_NAME_MAX)
        goto bad;
      /* Names this server does not offer are ignored: a newer client
       * asks for features an older server never heard of. */
      *out_features |= natter_feature_from_name (s);
    }
  /* Only those this server offers. */
  *out_features &= natterd_config_features_offered (
      natterd_server_get_config (natterd_connection_get_server (natterd_request_get_connection (request))));
  return TRUE;

bad:
  natterd_request_error (request, NATTER_ERROR_INVALID_ARGUMENT,
                         "features must be an array of at most 16 names of 1 to 64 bytes");
  return FALSE;
}

void
natterd_features_write (NatterJsonWriter *w,
                        guint             features)
{
  natter_json_writer_key (w, "features");
  natter_json_writer_begin_array (w);
  for (guint i = 0; natter_features_offered[i] != NULL; i++)
    if (features & (1u << i))
      natter_json_writer_string (w, natter_features_offered[i]);
  natter_json_writer_end_array (w);
}
