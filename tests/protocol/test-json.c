#define G_LOG_DOMAIN "natter-test"

#include <math.h>
#include <string.h>

#include "natter-error.h"
#include "natter-json.h"

/* Inputs with a NUL in them carry their length; the others use strlen. */
#define S(lit) lit, sizeof (lit) - 1
#define Z(lit) lit, -1

typedef struct {
  const char *input;
  gssize      len;
  const char *expected; /* natter_json_to_string() of the result */
} AcceptCase;

static const AcceptCase accept_cases[] = {
  /* Containers and white space around the value. */
  { Z ("{}"), "{}" },
  { Z ("[]"), "[]" },
  { Z (" \t\r\n{ } \r\n\t"), "{}" },
  { Z ("[ ]"), "[]" },
  { Z ("{\"a\":1}"), "{\"a\":1}" },
  { Z ("{ \"a\" : 1 , \"b\" : [ 1 , 2 ] }"), "{\"a\":1,\"b\":[1,2]}" },
  { Z ("{\"b\":1,\"a\":2,\"c\":3}"), "{\"b\":1,\"a\":2,\"c\":3}" },
  { Z ("{\"a\":{\"b\":[1,{\"c\":null}]},\"d\":[[],{}]}"), "{\"a\":{\"b\":[1,{\"c\":null}]},\"d\":[[],{}]}" },
  { Z ("{\"\":1}"), "{\"\":1}" },
  { Z ("{\"a\":1,\"A\":2}"), "{\"a\":1,\"A\":2}" },
  { Z ("{\"a\":1,\"\\u0062\":2}"), "{\"a\":1,\"b\":2}" },
  { Z ("{\"x\":{\"a\":1},\"y\":{\"a\":1}}"), "{\"x\":{\"a\":1},\"y\":{\"a\":1}}" },
  { Z ("[1,\"a\",true,false,null,{},[]]"), "[1,\"a\",true,false,null,{},[]]" },

  /* Scalars at the top. */
  { Z ("true"), "true" },
  { Z ("false"), "false" },
  { Z ("null"), "null" },
  { Z ("\"\""), "\"\"" },
  { Z (" 1 "), "1" },

  /* Integers. */
  { Z ("0"), "0" },
  { Z ("-0"), "0" },
  { Z ("7"), "7" },
  { Z ("-1"), "-1" },
  { Z ("1234567890"), "1234567890" },
  { Z ("9007199254740993"), "9007199254740993" },
  { Z ("9223372036854775807"), "9223372036854775807" },
  { Z ("-9223372036854775808"), "-9223372036854775808" },
  /* Beyond gint64: a double. */
  { Z ("9223372036854775808"), "9.2233720368547758e+18" },
  { Z ("-9223372036854775809"), "-9.2233720368547758e+18" },
  { Z ("123456789012345678901234567890"), "1.2345678901234568e+29" },

  /* Doubles: written back so that they read back as doubles. */
  { Z ("1.5"), "1.5" },
  { Z ("-2.5"), "-2.5" },
  { Z ("0.5"), "0.5" },
  { Z ("-0.0"), "-0.0" },
  { Z ("1.0"), "1.0" },
  { Z ("1e2"), "100.0" },
  { Z ("1E2"), "100.0" },
  { Z ("1e+2"), "100.0" },
  { Z ("-1.5e3"), "-1500.0" },
  { Z ("25e-1"), "2.5" },
  { Z ("0e0"), "0.0" },
  { Z ("1e308"), "1e+308" },
  { Z ("-1.7976931348623157e308"), "-1.7976931348623157e+308" },
  /* Underflow is finite: zero. */
  { Z ("1e-400"), "0.0" },
  { Z ("[1.5,2]"), "[1.5,2]" },

  /* Strings and escapes. */
  { Z ("\"abc\""), "\"abc\"" },
  { Z ("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\""), "\"\\\"\\\\/\\b\\f\\n\\r\\t\"" },
  { Z ("\"\\u0041\\u00e9\\u00E9\""), "\"A\xc3\xa9\xc3\xa9\"" },
  { Z ("\"\\u0001\\u001f\""), "\"\\u0001\\u001f\"" },
  { Z ("\"\\u007f\""), "\"\\u007f\"" },
  { Z ("\"\\u2028\\u2029\""), "\"\\u2028\\u2029\"" },
  { Z ("\"\\ud83d\\ude00\""), "\"\xf0\x9f\x98\x80\"" },
  { Z ("\"\\uD83D\\uDE00\""), "\"\xf0\x9f\x98\x80\"" },
  { Z ("\"\\udbff\\udfff\""), "\"\xf4\x8f\xbf\xbf\"" },
  { Z ("\"\\uffff\\ufeff\""), "\"\xef\xbf\xbf\xef\xbb\xbf\"" },
  /* Raw UTF-8 of every length, up to U+10FFFF. */
  { Z ("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\""),
    "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\"" },
  /* Raw U+2028 is valid JSON; the writer escapes it. */
  { Z ("\"\xe2\x80\xa8\""), "\"\\u2028\"" },
  /* DEL and C1 controls are not JSON control characters. */
  { Z ("\"\x7f\""), "\"\\u007f\"" },
  { Z ("\"\xc2\x85\""), "\"\xc2\x85\"" },
  { Z ("{\"\xc3\xa9\":\"\xc3\xa9\"}"), "{\"\xc3\xa9\":\"\xc3\xa9\"}" },
  /* A trailing '\r' of a CRLF line is white space. */
  { Z ("{\"type\":\"ping\"}\r"), "{\"type\":\"ping\"}" },
};

typedef struct {
  const char *input;
  gssize      len;
  int         offset; /* the byte offset the error names; -1: not checked */
} RejectCase;

static const RejectCase reject_cases[] = {
  /* Empty. */
  { Z (""), 0 },
  { Z ("   "), 3 },
  { Z ("\r\n"), 2 },

  /* Anything after the value. */
  { Z ("{\"a\":1} {\"b\":2}"), 8 },
  { Z ("{}{}"), 2 },
  { Z ("1 2"), 2 },
  { Z ("{}x"), 2 },
  { Z ("[]]"), 2 },
  { Z ("{}}"), 2 },
  { Z ("{} ,"), 3 },
  { Z ("\"a\"\"b\""), 3 },

  /* Comments. */
  { Z ("// c\n{}"), 0 },
  { Z ("{} // c"), 3 },
  { Z ("/* c */{}"), 0 },
  { Z ("{\"a\":1/* c */}"), 6 },
  { Z ("# c\n{}"), 0 },

  /* Single quotes. */
  { Z ("'a'"), 0 },
  { Z ("{'a':1}"), 1 },
  { Z ("[\"a']"), -1 },

  /* Numbers. */
  { Z ("0x10"), 1 },
  { Z ("0X1"), 1 },
  { Z ("01"), 0 },
  { Z ("-01"), 0 },
  { Z ("00"), 0 },
  { Z ("[007]"), 1 },
  { Z ("+1"), 0 },
  { Z (".5"), 0 },
  { Z ("1."), 0 },
  { Z ("1.e5"), 0 },
  { Z ("-"), 0 },
  { Z ("-.5"), 0 },
  { Z ("- 1"), 0 },
  { Z ("--1"), 0 },
  { Z ("1e"), 0 },
  { Z ("1e+"), 0 },
  { Z ("1E-"), 0 },
  { Z ("1.5e"), 0 },
  { Z ("1e5.5"), 3 },
  { Z ("1_000"), 1 },
  { Z ("NaN"), 0 },
  { Z ("nan"), -1 },
  { Z ("Infinity"), 0 },
  { Z ("-Infinity"), 0 },
  { Z ("inf"), -1 },
  { Z ("[1e999]"), 1 },
  { Z ("1e999"), 0 },
  { Z ("-1e999"), 0 },
  { Z ("1.8e308"), 0 },
  { Z ("{\"a\":1E400}"), 5 },

  /* Duplicate keys, compared after unescaping. */
  { Z ("{\"a\":1,\"a\":2}"), 7 },
  { Z ("{\"a\":1,\"\\u0061\":2}"), 7 },
  { Z ("{\"\\u0061\":1,\"a\":2}"), 12 },
  { Z ("{\"\\n\":1,\"\\u000a\":2}"), 8 },
  { Z ("{\"a\":{},\"a\":[]}"), 8 },
  { Z ("{\"a\":null,\"a\":null}"), 10 },
  { Z ("{\"x\":{\"a\":1,\"a\":1}}"), 12 },
  { Z ("{\"\":1,\"\":2}"), 6 },
  { Z ("{\"\xc3\xa9\":1,\"\\u00e9\":2}"), 8 },
  { Z ("[{\"k\":1},{\"k\":1,\"k\":1}]"), 16 },

  /* NUL anywhere. */
  { Z ("\"\\u0000\""), 1 },
  { Z ("\"a\\u0000b\""), 2 },
  { Z ("{\"\\u0000\":1}"), 2 },
  { Z ("{\"a\\u0000\":1}"), 3 },
  { S ("\"a\0b\""), 2 },
  { S ("{\"a\0\":1}"), 3 },
  { S ("{}\0"), 2 },
  { S ("\0{}"), 0 },
  { S ("[1,\0 2]"), 3 },

  /* Lone surrogate escapes. */
  { Z ("\"\\ud800\""), 1 },
  { Z ("\"\\udbff\""), 1 },
  { Z ("\"\\ud800x\""), 1 },
  { Z ("\"\\ud800\\u0041\""), 1 },
  { Z ("\"\\ud800\\ud800\""), 1 },
  { Z ("\"\\ud800\\\""), 1 },
  { Z ("\"\\ud800\\u\""), 1 },
  { Z ("\"\\udc00\""), 1 },
  { Z ("\"\\udfff\""), 1 },
  { Z ("\"\\udc00\\ud800\""), 1 },
  { Z ("{\"\\ud800\":1}"), 2 },
  { Z ("\"x\\ud83d\""), 2 },

  /* Invalid UTF-8: overlongs, encoded surrogates, above U+10FFFF, stray
   * and missing continuation bytes, bytes that never appear. */
  { Z ("\"\xc0\xaf\""), 1 },
  { Z ("\"\xc1\xbf\""), 1 },
  { Z ("\"\xe0\x80\xaf\""), 1 },
  { Z ("\"\xe0\x9f\xbf\""), 1 },
  { Z ("\"\xf0\x80\x80\xaf\""), 1 },
  { Z ("\"\xf0\x8f\xbf\xbf\""), 1 },
  { Z ("\"\xed\xa0\x80\""), 1 },
  { Z ("\"\xed\xbf\xbf\""), 1 },
  { Z ("\"\xed\xa0\xbd\xed\xb8\x80\""), 1 },
  { Z ("\"\xf4\x90\x80\x80\""), 1 },
  { Z ("\"\xf5\x80\x80\x80\""), 1 },
  { Z ("\"\xf8\x88\x80\x80\x80\""), 1 },
  { Z ("\"\xff\""), 1 },
  { Z ("\"\xfe\""), 1 },
  { Z ("\"\x80\""), 1 },
  { Z ("\"a\xbf\""), 2 },
  { Z ("\"\xc3\""), 1 },
  { Z ("\"\xe2\x82\""), 1 },
  { Z ("\"\xf0\x9f\x98\""), 1 },
  { Z ("\xc3\xa9"), 0 },
  { Z ("\xef\xbb\xbf{}"), 0 }, /* a byte order mark is not JSON */
  { Z ("{\"a\xff\":1}"), 3 },

  /* Control characters in strings. */
  { Z ("\"\x01\""), 1 },
  { Z ("\"a\nb\""), 2 },
  { Z ("\"\t\""), 1 },
  { Z ("\"\r\""), 1 },
  { Z ("\"\x1f\""), 1 },
  { Z ("{\"a\x08\":1}"), 3 },

  /* Escapes. */
  { Z ("\"\\x41\""), 1 },
  { Z ("\"\\a\""), 1 },
  { Z ("\"\\'\""), 1 },
  { Z ("\"\\U0041\""), 1 },
  { Z ("\"\\u12\""), 1 },
  { Z ("\"\\u12G4\""), 1 },
  { Z ("\"\\u\""), 1 },
  { Z ("\"\\"), 1 },
  { Z ("\"\\ "), 1 },

  /* Unterminated. */
  { Z ("\"abc"), 0 },
  { Z ("\""), 0 },
  { Z ("{"), 1 },
  { Z ("["), 1 },
  { Z ("[1,2"), 4 },
  { Z ("{\"a\""), 4 },
  { Z ("{\"a\":"), 5 },
  { Z ("{\"a\":1"), 6 },
  { Z ("{\"a\":1,"), 7 },
  { Z ("[[[]]"), 5 },

  /* Structure. */
  { Z ("[1,]"), 3 },
  { Z ("[,1]"), 1 },
  { Z ("[1,,2]"), 3 },
  { Z ("{\"a\":1,}"), 7 },
  { Z ("{,}"), 1 },
  { Z ("{\"a\"}"), 4 },
  { Z ("{1:2}"), 1 },
  { Z ("{null:2}"), 1 },
  { Z ("{\"a\"::1}"), 5 },
  { Z ("{\"a\"=1}"), 4 },
  { Z ("[1 2]"), 3 },
  { Z ("{\"a\":1 \"b\":2}"), 7 },
  { Z ("{\"a\":1;\"b\":2}"), 6 },
  { Z ("[1}"), 2 },
  { Z ("{\"a\":1]"), 6 },
  { Z ("}"), 0 },
  { Z ("]"), 0 },
  { Z (","), 0 },
  { Z (":"), 0 },
  { Z ("{\"a\":}"), 5 },

  /* Literals. */
  { Z ("tru"), 0 },
  { Z ("True"), 0 },
  { Z ("nul"), 0 },
  { Z ("nulll"), 4 },
  { Z ("truefalse"), 4 },
  { Z ("undefined"), 0 },
  { Z ("[fals]"), 1 },

  /* White space JSON does not know. */
  { Z ("\x0b{}"), 0 },
  { Z ("\x0c{}"), 0 },
  { Z ("{}\xc2\xa0"), 2 },
};

static void
assert_bad_frame (const GError *error,
                  int           offset)
{
  g_assert_error (error, NATTER_ERROR, NATTER_ERROR_BAD_FRAME);
  if (offset >= 0)
    {
      g_autofree char *want = g_strdup_printf ("at byte %d:", offset);

      if (strstr (error->message, want) == NULL)
        g_error ("message \"%s\" does not name byte %d", error->message, offset);
    }
}

static gsize
case_len (const char *input,
          gssize      len)
{
  return len < 0 ? strlen (input) : (gsize) len;
}

static void
test_accept (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (accept_cases); i++)
    {
      const AcceptCase *c = &accept_cases[i];
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) node = NULL;
      g_autofree char *out = NULL;

      g_test_message ("accept #%u: %s", i, c->input);
      node = natter_json_parse (c->input, case_len (c->input, c->len),
                                NATTER_JSON_MAX_DEPTH, &error);
      g_assert_no_error (error);
      g_assert_nonnull (node);
      out = natter_json_to_string (node);
      g_assert_cmpstr (out, ==, c->expected);
    }
}

static void
test_reject (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (reject_cases); i++)
    {
      const RejectCase *c = &reject_cases[i];
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) node = NULL;
      g_autofree char *shown = g_strescape (c->input, NULL);

      g_test_message ("reject #%u: %s", i, shown);
      node = natter_json_parse (c->input, case_len (c->input, c->len),
                                NATTER_JSON_MAX_DEPTH, &error);
      if (node != NULL)
        {
          g_autofree char *out = natter_json_to_string (node);
          g_error ("reject #%u (%s) was accepted as %s", i, shown, out);
        }
      assert_bad_frame (error, c->offset);
    }
}

/* The parser must not read past @len: every accepted input, cut short, is
 * parsed from an exact-size heap copy (ASan sees any overread). */
static void
test_truncated (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (accept_cases); i++)
    {
      const AcceptCase *c = &accept_cases[i];
      gsize len = case_len (c->input, c->len);

      for (gsize cut = 0; cut <= len; cut++)
        {
          g_autofree char *copy = g_memdup2 (c->input, cut == 0 ? 1 : cut);
          g_autoptr(GError) error = NULL;
          g_autoptr(JsonNode) node = natter_json_parse (copy, cut,
                                                        NATTER_JSON_MAX_DEPTH, &error);

          if (node == NULL)
            g_assert_error (error, NATTER_ERROR, NATTER_ERROR_BAD_FRAME);
        }
    }
}

static char *
nest (const char *open,
      const char *inner,
      const char *close,
      guint       depth)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < depth; i++)
    g_string_append (s, open);
  g_string_append (s, inner);
  for (guint i = 0; i < depth; i++)
    g_string_append (s, close);

  return g_string_free (s, FALSE);
}

typedef struct {
  const char *open;
  const char *inner;
  const char *close;
  guint       levels_per_step;
} NestShape;

static const NestShape nest_shapes[] = {
  { "[", "", "]", 1 },
  { "[", "1", "]", 1 },
  { "{\"a\":", "1", "}", 1 },
  { "[{\"a\":", "1", "}]", 2 },
  { "{\"a\":[", "", "]}", 2 },
  { "[1,", "2", "]", 1 },
};

static void
test_depth (void)
{
  for (guint s = 0; s < G_N_ELEMENTS (nest_shapes); s++)
    {
      const NestShape *shape = &nest_shapes[s];
      guint per_step = shape->levels_per_step;

      for (guint levels = 1; levels <= 34; levels++)
        {
          g_autofree char *text = NULL;
          g_autoptr(GError) error = NULL;
          g_autoptr(JsonNode) node = NULL;

          if (levels % per_step != 0)
            continue;

          text = nest (shape->open, shape->inner, shape->close, levels / per_step);
          node = natter_json_parse (text, strlen (text), NATTER_JSON_MAX_DEPTH, &error);
          if (levels <= 32)
            {
              g_assert_no_error (error);
              g_assert_nonnull (node);
            }
          else
            {
              g_assert_null (node);
              assert_bad_frame (error, -1);
              g_assert_nonnull (strstr (error->message, "nesting"));
            }
        }
    }
}

/* Exactly 32 and 33 levels, spelled out, and through the frame API. */
static void
test_depth_frame (void)
{
  GString *s32 = g_string_new ("{\"type\":\"x\",\"a\":");
  GString *s33;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  JsonObject *object = NULL;

  /* Level 1 is the frame's object; 31 arrays make 32 levels. */
  for (int i = 0; i < 31; i++)
    g_string_append_c (s32, '[');
  for (int i = 0; i < 31; i++)
    g_string_append_c (s32, ']');
  g_string_append_c (s32, '}');

  node = natter_json_parse_frame (s32->str, s32->len, &object, &error);
  g_assert_no_error (error);
  g_assert_nonnull (node);
  g_assert_nonnull (object);
  g_clear_pointer (&node, json_node_unref);

  s33 = g_string_new ("{\"type\":\"x\",\"a\":");
  for (int i = 0; i < 32; i++)
    g_string_append_c (s33, '[');
  for (int i = 0; i < 32; i++)
    g_string_append_c (s33, ']');
  g_string_append_c (s33, '}');

  node = natter_json_parse_frame (s33->str, s33->len, &object, &error);
  g_assert_null (node);
  g_assert_null (object);
  assert_bad_frame (error, 47);

  g_string_free (s32, TRUE);
  g_string_free (s33, TRUE);
}

static void
test_depth_custom (void)
{
  struct {
    const char *input;
    guint       max_depth;
    gboolean    ok;
  } cases[] = {
    { "1", 0, TRUE },
    { "\"a\"", 0, TRUE },
    { "[]", 0, FALSE },
    { "{}", 0, FALSE },
    { "[]", 1, TRUE },
    { "[1,2,3]", 1, TRUE },
    { "[[]]", 1, FALSE },
    { "[[]]", 2, TRUE },
    { "[[],[],{}]", 2, TRUE },
    { "[[],[[]]]", 2, FALSE },
    { "{\"a\":{\"b\":{}}}", 3, TRUE },
    { "{\"a\":{\"b\":{}}}", 2, FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) node = natter_json_parse (cases[i].input, strlen (cases[i].input),
                                                    cases[i].max_depth, &error);

      g_test_message ("%s at max_depth %u", cases[i].input, cases[i].max_depth);
      if (cases[i].ok)
        {
          g_assert_no_error (error);
          g_assert_nonnull (node);
        }
      else
        {
          g_assert_null (node);
          assert_bad_frame (error, -1);
        }
    }

  /* A larger limit than the built-in stack holds grows it. */
  {
    g_autofree char *deep = nest ("[", "0", "]", 1000);
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) node = natter_json_parse (deep, strlen (deep), 1000, &error);
    g_autofree char *out = NULL;

    g_assert_no_error (error);
    g_assert_nonnull (node);
    g_clear_pointer (&node, json_node_unref);
    node = natter_json_parse (deep, strlen (deep), 999, &error);
    g_assert_null (node);
    assert_bad_frame (error, 999);
  }
}

/* Hostile nesting costs an error, never the stack. */
static void
test_depth_hostile (void)
{
  const NestShape shapes[] = {
    { "[", "", "]", 1 },
    { "{\"a\":", "1", "}", 1 },
    { "[", "", "", 1 },        /* never closed */
    { "{\"a\":", "", "", 1 },
  };

  for (guint s = 0; s < G_N_ELEMENTS (shapes); s++)
    {
      g_autofree char *text = nest (shapes[s].open, shapes[s].inner, shapes[s].close, 100000);
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) node = natter_json_parse (text, strlen (text),
                                                    NATTER_JSON_MAX_DEPTH, &error);

      g_assert_null (node);
      assert_bad_frame (error, (int) (32 * strlen (shapes[s].open)));

      /* With no limit the parser builds a deep tree without recursion, and
       * the writer writes it without recursion. (Not 100000 levels here:
       * json-glib frees its trees recursively, which is why the limit
       * exists.) */
      if (shapes[s].close[0] != '\0')
        {
          g_autofree char *out = NULL;

          g_free (text);
          text = nest (shapes[s].open, shapes[s].inner, shapes[s].close, 3000);
          g_clear_error (&error);
          node = natter_json_parse (text, strlen (text), G_MAXUINT, &error);
          g_assert_no_error (error);
          g_assert_nonnull (node);
          out = natter_json_to_string (node);
          g_assert_cmpstr (out, ==, text);
        }
    }
}

/* Wide, not deep: many elements and long strings. */
static void
test_large (void)
{
  GString *s = g_string_new ("[");
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *out = NULL;
  g_autofree char *big = NULL;
  GString *obj;

  for (int i = 0; i < 100000; i++)
    g_string_append_printf (s, "%s%d", i ? "," : "", i);
  g_string_append_c (s, ']');

  node = natter_json_parse (s->str, s->len, NATTER_JSON_MAX_DEPTH, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (node)), ==, 100000);
  g_assert_cmpint (json_array_get_int_element (json_node_get_array (node), 99999), ==, 99999);
  out = natter_json_to_string (node);
  g_assert_cmpstr (out, ==, s->str);
  g_string_free (s, TRUE);
  g_clear_pointer (&node, json_node_unref);

  /* A 1 MiB string with escapes spread through it. */
  s = g_string_new ("\"");
  for (int i = 0; i < (1 << 20) / 16; i++)
    g_string_append (s, "abcdefgh\\n\\u00e9xy");
  g_string_append_c (s, '"');
  node = natter_json_parse (s->str, s->len, NATTER_JSON_MAX_DEPTH, &error);
  g_assert_no_error (error);
  big = natter_json_to_string (node);
  g_assert_cmpuint (strlen (json_node_get_string (node)), ==, (gsize) ((1 << 20) / 16) * 13);
  g_string_free (s, TRUE);

  /* Many keys: duplicates found among thousands. */
  obj = g_string_new ("{");
  for (int i = 0; i < 5000; i++)
    g_string_append_printf (obj, "%s\"k%d\":%d", i ? "," : "", i, i);
  g_string_append (obj, ",\"k2500\":0}");
  g_clear_pointer (&node, json_node_unref);
  node = natter_json_parse (obj->str, obj->len, NATTER_JSON_MAX_DEPTH, &error);
  g_assert_null (node);
  assert_bad_frame (error, -1);
  g_string_free (obj, TRUE);
}

/* Keys made to share one g_str_hash() value ("Ab" and "BA" hash alike)
 * would make each insert into a JsonObject compare with every earlier key:
 * refused past a few, while as many honest keys are fine. */
static void
test_hash_flood (void)
{
  GString *flood = g_string_new ("{\"type\":\"x\"");
  GString *honest = g_string_new ("{\"type\":\"x\"");
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  gint64 start;

  for (guint i = 0; i < 2048; i++)
    {
      g_string_append (flood, ",\"");
      for (guint b = 0; b < 11; b++)
        g_string_append (flood, (i >> b) & 1 ? "Ab" : "BA");
      g_string_append (flood, "\":0");
      g_string_append_printf (honest, ",\"%022x\":0", i);
    }
  g_string_append_c (flood, '}');
  g_string_append_c (honest, '}');

  start = g_get_monotonic_time ();
  node = natter_json_parse (flood->str, flood->len, NATTER_JSON_MAX_DEPTH, &error);
  g_assert_null (node);
  assert_bad_frame (error, -1);
  g_assert_nonnull (strstr (error->message, "same hash"));
  g_test_message ("flood refused in %" G_GINT64_FORMAT " us", g_get_monotonic_time () - start);
  g_clear_error (&error);

  /* The same inside an array of objects, and in a nested object. */
  {
    g_autofree char *nested = g_strdup_printf ("[{\"a\":%s}]", flood->str);
    node = natter_json_parse (nested, strlen (nested), NATTER_JSON_MAX_DEPTH, &error);
    g_assert_null (node);
    assert_bad_frame (error, -1);
    g_clear_error (&error);
  }

  node = natter_json_parse (honest->str, honest->len, NATTER_JSON_MAX_DEPTH, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_object_get_size (json_node_get_object (node)), ==, 2049);

  g_string_free (flood, TRUE);
  g_string_free (honest, TRUE);
}

typedef struct {
  const char *input;
  gboolean    ok;
  const char *type;
} FrameCase;

static const FrameCase frame_cases[] = {
  { "{\"type\":\"ping\"}", TRUE, "ping" },
  { "{\"id\":1,\"type\":\"send\",\"x\":[1]}", TRUE, "send" },
  { "{\"type\":\"\"}", TRUE, "" },
  { " {\"type\":\"ping\"} \r", TRUE, "ping" },
  { "{}", FALSE, NULL },
  { "[]", FALSE, NULL },
  { "[{\"type\":\"ping\"}]", FALSE, NULL },
  { "\"type\"", FALSE, NULL },
  { "1", FALSE, NULL },
  { "null", FALSE, NULL },
  { "{\"type\":1}", FALSE, NULL },
  { "{\"type\":null}", FALSE, NULL },
  { "{\"type\":true}", FALSE, NULL },
  { "{\"type\":[\"ping\"]}", FALSE, NULL },
  { "{\"type\":{}}", FALSE, NULL },
  { "{\"Type\":\"ping\"}", FALSE, NULL },
  { "{\"type\":\"ping\"} x", FALSE, NULL },
  { "{\"type\":\"ping\",\"type\":\"pong\"}", FALSE, NULL },
  { "{\"type\":\"ping\"}{\"type\":\"ping\"}", FALSE, NULL },
  { "", FALSE, NULL },
};

static void
test_frame (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (frame_cases); i++)
    {
      const FrameCase *c = &frame_cases[i];
      g_autoptr(GError) error = NULL;
      JsonObject *object = (JsonObject *) 0x1;
      g_autoptr(JsonNode) node = natter_json_parse_frame (c->input, strlen (c->input),
                                                          &object, &error);

      g_test_message ("frame #%u: %s", i, c->input);
      if (c->ok)
        {
          g_assert_no_error (error);
          g_assert_nonnull (node);
          g_assert_true (object == json_node_get_object (node));
          g_assert_cmpstr (json_object_get_string_member (object, "type"), ==, c->type);
        }
      else
        {
          g_assert_null (node);
          g_assert_null (object);
          g_assert_error (error, NATTER_ERROR, NATTER_ERROR_BAD_FRAME);
        }
    }

  /* out_object may be NULL. */
  {
    g_autoptr(JsonNode) node = natter_json_parse_frame (S ("{\"type\":\"a\"}"), NULL, NULL);
    g_assert_nonnull (node);
  }
}

/* Types and values of what the parser builds. */
static void
test_node_types (void)
{
  const char *text = "{\"i\":42,\"big\":9223372036854775807,\"d\":0.25,\"e\":1e3,"
                     "\"neg\":-7,\"t\":true,\"f\":false,\"n\":null,\"s\":\"x\","
                     "\"a\":[1],\"o\":{}}";
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = natter_json_parse (text, strlen (text), NATTER_JSON_MAX_DEPTH, &error);
  JsonObject *o;

  g_assert_no_error (error);
  o = json_node_get_object (node);
  g_assert_cmpuint (json_object_get_size (o), ==, 11);
  g_assert_cmpint (json_node_get_value_type (json_object_get_member (o, "i")), ==, G_TYPE_INT64);
  g_assert_cmpint (json_object_get_int_member (o, "i"), ==, 42);
  g_assert_cmpint (json_object_get_int_member (o, "big"), ==, G_MAXINT64);
  g_assert_cmpint (json_object_get_int_member (o, "neg"), ==, -7);
  g_assert_cmpint (json_node_get_value_type (json_object_get_member (o, "d")), ==, G_TYPE_DOUBLE);
  g_assert_cmpfloat (json_object_get_double_member (o, "d"), ==, 0.25);
  g_assert_cmpint (json_node_get_value_type (json_object_get_member (o, "e")), ==, G_TYPE_DOUBLE);
  g_assert_cmpfloat (json_object_get_double_member (o, "e"), ==, 1000.0);
  g_assert_true (json_object_get_boolean_member (o, "t"));
  g_assert_false (json_object_get_boolean_member (o, "f"));
  g_assert_true (json_object_get_null_member (o, "n"));
  g_assert_cmpstr (json_object_get_string_member (o, "s"), ==, "x");
  g_assert_true (JSON_NODE_HOLDS_ARRAY (json_object_get_member (o, "a")));
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_object_get_member (o, "o")));
  g_assert_true (json_node_get_parent (json_object_get_member (o, "a")) == node);
}

static void
assert_round_trip (const char *input,
                   gsize       len)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) first = natter_json_parse (input, len, G_MAXUINT, &error);
  g_autoptr(JsonNode) second = NULL;
  g_autofree char *out1 = NULL;
  g_autofree char *out2 = NULL;

  g_assert_no_error (error);
  out1 = natter_json_to_string (first);
  g_assert_null (strchr (out1, '\n'));
  second = natter_json_parse (out1, strlen (out1), G_MAXUINT, &error);
  g_assert_no_error (error);
  g_assert_true (json_node_equal (first, second));
  out2 = natter_json_to_string (second);
  g_assert_cmpstr (out1, ==, out2);
}

static void
test_round_trip (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (accept_cases); i++)
    assert_round_trip (accept_cases[i].input,
                       case_len (accept_cases[i].input, accept_cases[i].len));

  /* Doubles keep every bit. */
  {
    const double values[] = { 0.1, 1.0 / 3.0, 2.2250738585072014e-308, 4.9e-324,
                              1.7976931348623157e308, -123456.789e-20, 9007199254740993.0 };

    for (guint i = 0; i < G_N_ELEMENTS (values); i++)
      {
        g_autoptr(JsonNode) node = json_node_init_double (json_node_alloc (), values[i]);
        g_autofree char *out = natter_json_to_string (node);
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) back = natter_json_parse (out, strlen (out), 1, &error);

        g_assert_no_error (error);
        g_assert_cmpint (json_node_get_value_type (back), ==, G_TYPE_DOUBLE);
        g_assert_true (json_node_get_double (back) == values[i]);
      }
  }

  /* Every code point class, through the writer and back. */
  {
    GString *s = g_string_new (NULL);
    g_autofree char *json = NULL;
    g_autoptr(JsonNode) node = NULL;
    g_autoptr(GError) error = NULL;

    for (gunichar c = 1; c < 0x110000; c += (c < 0x3000 ? 1 : 97))
      if (c < 0xd800 || c > 0xdfff)
        g_string_append_unichar (s, c);

    {
      GString *out = g_string_new (NULL);
      natter_json_append_string (out, s->str, (gssize) s->len);
      json = g_string_free (out, FALSE);
    }
    g_assert_null (strchr (json, '\n'));
    node = natter_json_parse (json, strlen (json), 1, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (json_node_get_string (node), ==, s->str);
    g_string_free (s, TRUE);
  }
}

/* Mutated valid documents: whatever the parser accepts round-trips, and
 * whatever it rejects is a clean bad_frame. */
static void
test_mutations (void)
{
  static const char *seeds[] = {
    "{\"type\":\"send\",\"id\":12,\"to\":\"@bob\",\"body\":\"h\\u00e9 \\ud83d\\ude00\\n\",\"x\":[1.5e3,-0,true,null,{}]}",
    "[{\"a\":[[],[{}]]},\"\xc3\xa9\",0.001,-12E-3]",
  };
  const char alphabet[] = "{}[]\":,\\u0123456789abcdefeE+-.tnrl \x80\xc3\xa9\xed\xf4\x00";
  g_autoptr(GRand) rand = g_rand_new_with_seed (20261124);

  for (guint round = 0; round < 20000; round++)
    {
      const char *seed = seeds[round % G_N_ELEMENTS (seeds)];
      g_autofree char *text = g_strdup (seed);
      gsize len = strlen (text);
      guint edits = g_rand_int_range (rand, 1, 4);
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) node = NULL;

      for (guint e = 0; e < edits; e++)
        {
          gsize at = g_rand_int_range (rand, 0, (gint32) len);

          text[at] = alphabet[g_rand_int_range (rand, 0, sizeof alphabet - 1)];
        }

      node = natter_json_parse (text, len, NATTER_JSON_MAX_DEPTH, &error);
      if (node != NULL)
        {
          g_assert_no_error (error);
          assert_round_trip (text, len);
        }
      else
        g_assert_error (error, NATTER_ERROR, NATTER_ERROR_BAD_FRAME);
    }
}

typedef struct {
  const char *input;
  gssize      len;
  const char *expected;
} EscapeCase;

static const EscapeCase escape_cases[] = {
  { Z (""), "\"\"" },
  { Z ("plain"), "\"plain\"" },
  { Z ("a\"b"), "\"a\\\"b\"" },
  { Z ("a\\b"), "\"a\\\\b\"" },
  { Z ("/"), "\"/\"" },
  { Z ("\n\t\r\b\f"), "\"\\n\\t\\r\\b\\f\"" },
  { Z ("\x01\x1f\x0b"), "\"\\u0001\\u001f\\u000b\"" },
  { Z ("\x7f"), "\"\\u007f\"" },
  { S ("a\0b"), "\"a\\u0000b\"" },
  { Z ("\xe2\x80\xa8\xe2\x80\xa9"), "\"\\u2028\\u2029\"" },
  { Z ("\xe2\x80\xa7\xe2\x80\xaa"), "\"\xe2\x80\xa7\xe2\x80\xaa\"" },
  { Z ("\xc3\xa9\xf0\x9f\x98\x80"), "\"\xc3\xa9\xf0\x9f\x98\x80\"" },
  { Z ("\xc2\x85"), "\"\xc2\x85\"" },
  /* Invalid UTF-8 never reaches the wire. */
  { Z ("a\xffz"), "\"a\\ufffdz\"" },
  { Z ("\xc0\xaf"), "\"\\ufffd\\ufffd\"" },
  { Z ("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"" },
  { Z ("\xf4\x90\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },
  { Z ("\xe2\x82"), "\"\\ufffd\\ufffd\"" },
  /* A length shorter than the string. */
  { "abcdef", 3, "\"abc\"" },
  { "\xc3\xa9", 1, "\"\\ufffd\"" },
};

static void
test_escape (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (escape_cases); i++)
    {
      GString *out = g_string_new ("prefix:");

      natter_json_append_string (out, escape_cases[i].input, escape_cases[i].len);
      g_assert_true (g_str_has_prefix (out->str, "prefix:"));
      g_assert_cmpstr (out->str + 7, ==, escape_cases[i].expected);
      g_string_free (out, TRUE);
    }

  /* Every C0 control. */
  for (int c = 1; c < 0x20; c++)
    {
      char in[2] = { (char) c, 0 };
      GString *out = g_string_new (NULL);
      g_autoptr(JsonNode) node = NULL;
      g_autoptr(GError) error = NULL;

      natter_json_append_string (out, in, -1);
      g_assert_cmpuint (out->len, >=, 4);
      for (gsize k = 0; k < out->len; k++)
        g_assert_cmpint ((guchar) out->str[k], >=, 0x20);
      node = natter_json_parse (out->str, out->len, 1, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (json_node_get_string (node), ==, in);
      g_string_free (out, TRUE);
    }
}

static void
test_writer (void)
{
  GString *out = g_string_new (NULL);
  NatterJsonWriter w;
  g_autoptr(JsonNode) id = json_node_init_int (json_node_alloc (), 7);
  g_autoptr(JsonNode) sid = json_node_init_string (json_node_alloc (), "r-1");

  natter_json_writer_init (&w, out);
  natter_json_writer_begin_object (&w);
  natter_json_writer_key (&w, "type");
  natter_json_writer_string (&w, "ok");
  natter_json_writer_key (&w, "re");
  natter_json_writer_node (&w, id);
  natter_json_writer_key (&w, "re2");
  natter_json_writer_node (&w, sid);
  natter_json_writer_key (&w, "none");
  natter_json_writer_node (&w, NULL);
  natter_json_writer_key (&w, "n");
  natter_json_writer_int (&w, G_MININT64);
  natter_json_writer_key (&w, "b");
  natter_json_writer_bool (&w, TRUE);
  natter_json_writer_key (&w, "c");
  natter_json_writer_bool (&w, FALSE);
  natter_json_writer_key (&w, "z");
  natter_json_writer_null (&w);
  natter_json_writer_key (&w, "s1");
  natter_json_writer_string_or_null (&w, NULL);
  natter_json_writer_key (&w, "s2");
  natter_json_writer_string_or_null (&w, "x\ny");
  natter_json_writer_key (&w, "s3");
  natter_json_writer_string_len (&w, "abc\0def", 7);
  natter_json_writer_key (&w, "list");
  natter_json_writer_begin_array (&w);
  natter_json_writer_int (&w, 1);
  natter_json_writer_begin_object (&w);
  natter_json_writer_end_object (&w);
  natter_json_writer_begin_array (&w);
  natter_json_writer_end_array (&w);
  natter_json_writer_raw (&w, "{\"m\":1}", 7);
  natter_json_writer_begin_object (&w);
  natter_json_writer_key (&w, "k");
  natter_json_writer_begin_array (&w);
  natter_json_writer_string (&w, "v");
  natter_json_writer_string (&w, "w");
  natter_json_writer_end_array (&w);
  natter_json_writer_key (&w, "k2");
  natter_json_writer_int (&w, -1);
  natter_json_writer_end_object (&w);
  natter_json_writer_end_array (&w);
  natter_json_writer_key (&w, "\"q\"");
  natter_json_writer_int (&w, 0);
  natter_json_writer_end_object (&w);

  g_assert_cmpstr (out->str, ==,
                   "{\"type\":\"ok\",\"re\":7,\"re2\":\"r-1\",\"none\":null,"
                   "\"n\":-9223372036854775808,\"b\":true,\"c\":false,\"z\":null,"
                   "\"s1\":null,\"s2\":\"x\\ny\",\"s3\":\"abc\\u0000def\","
                   "\"list\":[1,{},[],{\"m\":1},{\"k\":[\"v\",\"w\"],\"k2\":-1}],"
                   "\"\\\"q\\\"\":0}");
  g_assert_cmpuint (w.depth, ==, 0);

  /* A second value written with the same writer state after reset. */
  g_string_truncate (out, 0);
  natter_json_writer_init (&w, out);
  natter_json_writer_begin_array (&w);
  natter_json_writer_end_array (&w);
  g_assert_cmpstr (out->str, ==, "[]");
  g_string_free (out, TRUE);
}

/* Commas stay right at every one of the 64 levels the bitfield covers. */
static void
test_writer_deep (void)
{
  GString *out = g_string_new (NULL);
  GString *want = g_string_new (NULL);
  NatterJsonWriter w;

  natter_json_writer_init (&w, out);
  for (int level = 1; level <= 64; level++)
    {
      natter_json_writer_begin_array (&w);
      natter_json_writer_int (&w, level);
      g_string_append_printf (want, "[%d,", level);
    }
  for (int level = 64; level >= 1; level--)
    {
      natter_json_writer_int (&w, -level);
      natter_json_writer_end_array (&w);
      g_string_append_printf (want, "%d]", -level);
      if (level > 1)
        g_string_append_c (want, ',');
    }
  g_assert_cmpstr (out->str, ==, want->str);
  g_assert_cmpuint (w.depth, ==, 0);

  {
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) node = natter_json_parse (out->str, out->len, 64, &error);
    g_assert_no_error (error);
  }

  g_string_free (out, TRUE);
  g_string_free (want, TRUE);
}

static void
test_writer_node_special (void)
{
  g_autoptr(JsonNode) nan = json_node_init_double (json_node_alloc (), NAN);
  g_autoptr(JsonNode) inf = json_node_init_double (json_node_alloc (), -INFINITY);
  g_autoptr(JsonNode) d = json_node_init_double (json_node_alloc (), 3.0);
  g_autoptr(JsonNode) obj = json_node_alloc ();
  g_autofree char *s1 = natter_json_to_string (nan);
  g_autofree char *s2 = natter_json_to_string (inf);
  g_autofree char *s3 = natter_json_to_string (d);
  g_autofree char *s4 = natter_json_to_string (NULL);
  g_autofree char *s5 = NULL;
  JsonObject *o = json_object_new ();

  json_node_init_object (obj, o);
  json_object_unref (o); /* the node holds it */
  g_assert_cmpstr (s1, ==, "null");
  g_assert_cmpstr (s2, ==, "null");
  g_assert_cmpstr (s3, ==, "3.0");
  g_assert_cmpstr (s4, ==, "null");

  json_object_set_string_member (o, "line", "a\nb\xe2\x80\xa8");
  json_object_set_double_member (o, "nan", NAN);
  json_object_set_null_member (o, "n");
  s5 = natter_json_to_string (obj);
  g_assert_cmpstr (s5, ==, "{\"line\":\"a\\nb\\u2028\",\"nan\":null,\"n\":null}");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/json/accept", test_accept);
  g_test_add_func ("/json/reject", test_reject);
  g_test_add_func ("/json/truncated", test_truncated);
  g_test_add_func ("/json/depth", test_depth);
  g_test_add_func ("/json/depth-frame", test_depth_frame);
  g_test_add_func ("/json/depth-custom", test_depth_custom);
  g_test_add_func ("/json/depth-hostile", test_depth_hostile);
  g_test_add_func ("/json/large", test_large);
  g_test_add_func ("/json/hash-flood", test_hash_flood);
  g_test_add_func ("/json/frame", test_frame);
  g_test_add_func ("/json/node-types", test_node_types);
  g_test_add_func ("/json/round-trip", test_round_trip);
  g_test_add_func ("/json/mutations", test_mutations);
  g_test_add_func ("/json/escape", test_escape);
  g_test_add_func ("/json/writer", test_writer);
  g_test_add_func ("/json/writer-deep", test_writer_deep);
  g_test_add_func ("/json/writer-node-special", test_writer_node_special);

  return g_test_run ();
}
