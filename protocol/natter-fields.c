#define G_LOG_DOMAIN "natter-protocol"

#include "natter-fields.h"
#include "natter-error.h"
#include "natter-validate.h"

#include <math.h>
#include <string.h>

/* A member that is absent or null; the contract treats both as missing. */
static JsonNode *
get_present (JsonObject *obj,
             const char *key)
{
  JsonNode *node = obj != NULL ? json_object_get_member (obj, key) : NULL;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return NULL;

  return node;
}

static gboolean
missing (const char  *key,
         gboolean     required,
         GError     **error)
{
  if (!required)
    return TRUE;

  g_set_error (error, NATTER_ERROR, NATTER_ERROR_INVALID_ARGUMENT,
               "field '%s' is required", key);
  return FALSE;
}

/* The integer a number node holds, when it is integral and within ±2^53. */
static gboolean
node_to_safe_int (JsonNode *node,
                  gint64   *out)
{
  if (JSON_NODE_TYPE (node) != JSON_NODE_VALUE)
    return FALSE;

  switch (json_node_get_value_type (node))
    {
    case G_TYPE_INT64:
      {
        gint64 v = json_node_get_int (node);

        if (v < -NATTER_MAX_SAFE_INTEGER || v > NATTER_MAX_SAFE_INTEGER)
          return FALSE;
        *out = v;
        return TRUE;
      }
    case G_TYPE_DOUBLE:
      {
        gdouble d = json_node_get_double (node);

        if (!isfinite (d) || floor (d) != d ||
            d < (gdouble) -NATTER_MAX_SAFE_INTEGER ||
            d > (gdouble) NATTER_MAX_SAFE_INTEGER)
          return FALSE;
        *out = (gint64) d;
        return TRUE;
      }
    default:
      return FALSE;
    }
}

gboolean
natter_fields_get_string (JsonObject  *obj,
                          const char  *key,
                          gboolean     required,
                          const char **out,
                          GError     **error)
{
  JsonNode *node = get_present (obj, key);

  g_return_val_if_fail (key != NULL, FALSE);

  if (out != NULL)
    *out = NULL;

  if (node == NULL)
    return missing (key, required, error);

  if (JSON_NODE_TYPE (node) != JSON_NODE_VALUE ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    {
      g_set_error (error, NATTER_ERROR, NATTER_ERROR_INVALID_ARGUMENT,
                   "field '%s' must be a string", key);
      return FALSE;
    }

  if (out != NULL)
    *out = json_node_get_string (node);

  return TRUE;
}

gboolean
natter_fields_get_int (JsonObject  *obj,
                       const char  *key,
                       gboolean     required,
                       gboolean    *out_present,
                       gint64      *out,
                       GError     **error)
{
  JsonNode *node = get_present (obj, key);
  gint64 v = 0;

  g_return_val_if_fail (key != NULL, FALSE);

  if (out_present != NULL)
    *out_present = FALSE;

  if (node == NULL)
    return missing (key, required, error);

  if (!node_to_safe_int (node, &v))
    {
      g_set_error (error, NATTER_ERROR, NATTER_ERROR_INVALID_ARGUMENT,
                   "field '%s' must be an integer", key);
      return FALSE;
    }

  if (out_present != NULL)
    *out_present = TRUE;
  if (out != NULL)
    *out = v;

  return TRUE;
}

gboolean
natter_fields_get_bool (JsonObject  *obj,
                        const char  *key,
                        gboolean     required,
                        gboolean    *out_present,
                        gboolean    *out,
                        GError     **error)
{
  JsonNode *node = get_present (obj, key);

  g_return_val_if_fail (key != NULL, FALSE);

  if (out_present != NULL)
    *out_present = FALSE;

  if (node == NULL)
    return missing (key, required, error);

  if (JSON_NODE_TYPE (node) != JSON_NODE_VALUE ||
      json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    {
      g_set_error (error, NATTER_ERROR, NATTER_ERROR_INVALID_ARGUMENT,
                   "field '%s' must be true or false", key);
      return FALSE;
    }

  if (out_present != NULL)
    *out_present = TRUE;
  if (out != NULL)
    *out = json_node_get_boolean (node);

  return TRUE;
}

gboolean
natter_fields_get_request_id (JsonObject  *obj,
                              JsonNode   **out_id,
                              GError     **error)
{
  JsonNode *node = get_present (obj, "id");
  gint64 v;

  g_return_val_if_fail (out_id != NULL, FALSE);

  *out_id = NULL;
  if (node == NULL)
    return TRUE;

  if (node_to_safe_int (node, &v) ||
      (JSON_NODE_TYPE (node) == JSON_NODE_VALUE &&
       json_node_get_value_type (node) == G_TYPE_STRING &&
       strlen (json_node_get_string (node)) <= NATTER_REQUEST_ID_MAX))
    {
      *out_id = node;
      return TRUE;
    }

  g_set_error (error, NATTER_ERROR, NATTER_ERROR_INVALID_ARGUMENT,
               "field 'id' must be an integer or a string of at most %d bytes",
               NATTER_REQUEST_ID_MAX);
  return FALSE;
}

gboolean
natter_fields_get_limit (JsonObject  *obj,
                         gint64       default_limit,
                         gint64       cap,
                         gint64      *out,
                         GError     **error)
{
  gboolean present = FALSE;
  gint64 v = 0;

  g_return_val_if_fail (out != NULL, FALSE);

  if (!natter_fields_get_int (obj, "limit", FALSE, &present, &v, error))
    return FALSE;

  if (!present)
    {
      *out = MIN (default_limit, cap);
      return TRUE;
    }

  if (v < 1)
    {
      g_set_error_literal (error, NATTER_ERROR, NATTER_ERROR_INVALID_ARGUMENT,
                           "field 'limit' must be at least 1");
      return FALSE;
    }

  *out = MIN (v, cap);
  return TRUE;
}
