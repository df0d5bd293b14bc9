/* natter-json.h: strict RFC 8259 parsing into json-glib nodes, and a fast
 * compact writer.
 *
 * The parser is the only JSON parser either program uses on wire data, so no
 * two parsers can disagree on what a frame says. It rejects, as the contract
 * requires: anything but one value (white space around it is allowed),
 * comments, single quotes, hex, leading zeros, non-finite numbers (including
 * ones that overflow a double, such as 1e999), duplicate keys (compared after
 * unescaping), NUL in any string or key, lone surrogate escapes, invalid
 * UTF-8, control characters in strings, and nesting deeper than max_depth (the
 * outermost value is level 1). It never recurses, so no input can exhaust the
 * stack.
 *
 * Integers without fraction or exponent that fit in gint64 become int nodes;
 * every other number becomes a double node.
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define NATTER_JSON_MAX_DEPTH 32

/* Returns a new node, or NULL with a NATTER_ERROR_BAD_FRAME error whose
 * message says what is wrong and at which byte offset. */
JsonNode   *natter_json_parse          (const char  *text,
                                        gsize        len,
                                        guint        max_depth,
                                        GError     **error);

/* natter_json_parse() that also requires an object with a string "type".
 * Returns the object (owned by the returned node) through @out_object. */
JsonNode   *natter_json_parse_frame    (const char  *text,
                                        gsize        len,
                                        JsonObject **out_object,
                                        GError     **error);

/* A compact JSON writer into a GString; commas are placed for you.
 *
 *   NatterJsonWriter w;
 *   natter_json_writer_init (&w, str);
 *   natter_json_writer_begin_object (&w);
 *   natter_json_writer_key (&w, "type");
 *   natter_json_writer_string (&w, "ping");
 *   natter_json_writer_end_object (&w);
 */
typedef struct {
  GString *out;
  guint    depth;
  guint64  need_comma; /* one bit per level */
  gboolean after_key;
} NatterJsonWriter;

void natter_json_writer_init          (NatterJsonWriter *w, GString *out);
void natter_json_writer_begin_object  (NatterJsonWriter *w);
void natter_json_writer_end_object    (NatterJsonWriter *w);
void natter_json_writer_begin_array   (NatterJsonWriter *w);
void natter_json_writer_end_array     (NatterJsonWriter *w);
void natter_json_writer_key           (NatterJsonWriter *w, const char *key);
void natter_json_writer_string        (NatterJsonWriter *w, const char *value);
/* NULL writes null. */
void natter_json_writer_string_or_null(NatterJsonWriter *w, const char *value);
void natter_json_writer_string_len    (NatterJsonWriter *w, const char *value, gsize len);
void natter_json_writer_int           (NatterJsonWriter *w, gint64 value);
void natter_json_writer_bool          (NatterJsonWriter *w, gboolean value);
void natter_json_writer_null          (NatterJsonWriter *w);
/* Writes an already-encoded JSON value (such as a cached message object). */
void natter_json_writer_raw           (NatterJsonWriter *w, const char *json, gsize len);
/* Writes any json-glib node compactly (used for echoing a request's "id"). */
void natter_json_writer_node          (NatterJsonWriter *w, JsonNode *node);

/* Appends @value as a JSON string literal (quotes included), escaping what
 * RFC 8259 requires plus U+2028/U+2029 and DEL for safety. */
void natter_json_append_string        (GString *out, const char *value, gssize len);

/* Serialises any node compactly; never emits a raw newline. */
char *natter_json_to_string           (JsonNode *node);

G_END_DECLS
