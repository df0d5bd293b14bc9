/* fuzz-json: the strict JSON parser and the writer.
 *
 * Whatever natter_json_parse accepts must serialise (natter_json_to_string)
 * to text that parses again to a tree that serialises to the same text:
 * what the server echoes (a request's "id") or stores must read back the
 * same. A frame natter_json_parse_frame accepts is an object with a string
 * "type". Neither may crash, leak or warn on any input.
 */
#include <string.h>

#include "natter-error.h"
#include "natter-json.h"
#include "fuzz-target.h"


/* The writer's own output never holds a raw newline: a frame is one line. */
static void
check_round_trip (JsonNode *root)
{
  g_autofree char *text = natter_json_to_string (root);
  g_autofree char *again = NULL;
  g_autoptr(JsonNode) reparsed = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_null (strchr (text, '\n'));
  reparsed = natter_json_parse (text, strlen (text), NATTER_JSON_MAX_DEPTH, &error);
  if (reparsed == NULL)
    g_error ("the writer's output does not parse: %s: %s", error->message, text);
  again = natter_json_to_string (reparsed);
  g_assert_cmpstr (text, ==, again);
  g_assert_true (json_node_equal (root, reparsed));
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  const char *text = (const char *) data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonNode) frame = NULL;
  JsonObject *object = NULL;

  root = natter_json_parse (text, size, NATTER_JSON_MAX_DEPTH, &error);
  if (root == NULL)
    {
      g_assert_error (error, NATTER_ERROR, NATTER_ERROR_BAD_FRAME);
      g_clear_error (&error);
    }
  else
    check_round_trip (root);

  frame = natter_json_parse_frame (text, size, &object, &error);
  if (frame == NULL)
    {
      g_assert_error (error, NATTER_ERROR, NATTER_ERROR_BAD_FRAME);
      g_assert_null (object);
      g_clear_error (&error);
    }
  else
    {
      g_assert_nonnull (root);
      g_assert_true (JSON_NODE_HOLDS_OBJECT (frame));
      g_assert_true (object == json_node_get_object (frame));
      g_assert_nonnull (json_object_get_string_member (object, "type"));
    }

  /* The string writer must make valid JSON of any bytes, valid UTF-8 or
   * not: it replaces what is not. */
  {
    g_autoptr(GString) out = g_string_new (NULL);
    g_autoptr(JsonNode) string = NULL;

    natter_json_append_string (out, text, (gssize) size);
    string = natter_json_parse (out->str, out->len, 1, &error);
    if (string == NULL && memchr (text, '\0', size) == NULL)
      g_error ("append_string made invalid JSON: %s", error->message);
    g_clear_error (&error);
  }
  return 0;
}
