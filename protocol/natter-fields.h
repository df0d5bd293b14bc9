/* natter-fields.h: reading a request's fields with the contract's rules.
 *
 * Each getter sets a NATTER_ERROR_INVALID_ARGUMENT error naming the field when
 * a required field is missing, or a present field has the wrong JSON type. A
 * field that is present but null counts as missing. Integers must be JSON
 * integers (a double like 3.0 or 1e2 is accepted only if it is integral) and
 * within ±2^53.
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define NATTER_MAX_SAFE_INTEGER G_GINT64_CONSTANT (9007199254740992) /* 2^53 */

gboolean natter_fields_get_string   (JsonObject  *obj,
                                     const char  *key,
                                     gboolean     required,
                                     const char **out,      /* NULL when absent */
                                     GError     **error);
gboolean natter_fields_get_int      (JsonObject  *obj,
                                     const char  *key,
                                     gboolean     required,
                                     gboolean    *out_present,
                                     gint64      *out,
                                     GError     **error);
gboolean natter_fields_get_bool     (JsonObject  *obj,
                                     const char  *key,
                                     gboolean     required,
                                     gboolean    *out_present,
                                     gboolean    *out,
                                     GError     **error);

/* The request "id": absent → *out_id NULL; an integer within ±2^53 or a
 * string of at most 64 bytes → a borrowed node; anything else is
 * invalid_argument (and the reply goes out with "re":null). */
gboolean natter_fields_get_request_id (JsonObject  *obj,
                                       JsonNode   **out_id,
                                       GError     **error);

/* An optional "limit": absent → @default_limit; below 1 → invalid_argument;
 * above @cap → @cap (the contract says caps are applied silently). */
gboolean natter_fields_get_limit    (JsonObject  *obj,
                                     gint64       default_limit,
                                     gint64       cap,
                                     gint64      *out,
                                     GError     **error);

G_END_DECLS
