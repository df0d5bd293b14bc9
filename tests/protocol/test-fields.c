#define G_LOG_DOMAIN "natter-test"

#include <string.h>

#include "natter-error.h"
#include "natter-fields.h"
#include "natter-json.h"

/* Every case is a request object as it comes off the wire. */
static JsonNode *
parse (const char  *json,
       JsonObject **out_object)
{
  g_autoptr(GError) error = NULL;
  JsonNode *node = natter_json_parse (json, strlen (json), NATTER_JSON_MAX_DEPTH, &error);

  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  *out_object = json_node_get_object (node);
  return node;
}

static void
assert_invalid (const GError *error,
                const char   *key)
{
  g_autofree char *quoted = g_strdup_printf ("'%s'", key);

  g_assert_error (error, NATTER_ERROR, NATTER_ERROR_INVALID_ARGUMENT);
  /* The message names the field. */
  g_assert_nonnull (strstr (error->message, quoted));
}

/* ---- strings ---- */

typedef struct {
  const char *json;
  gboolean    required;
  gboolean    ok;
  const char *value; /* NULL: absent */
} StringCase;

static const StringCase string_cases[] = {
  { "{\"f\":\"x\"}", TRUE, TRUE, "x" },
  { "{\"f\":\"x\"}", FALSE, TRUE, "x" },
  { "{\"f\":\"\"}", TRUE, TRUE, "" },
  { "{\"f\":\"\\u00e9\\n\"}", TRUE, TRUE, "\xc3\xa9\n" },
  { "{}", TRUE, FALSE, NULL },
  { "{}", FALSE, TRUE, NULL },
  { "{\"F\":\"x\"}", TRUE, FALSE, NULL },
  { "{\"f\":null}", TRUE, FALSE, NULL },
  { "{\"f\":null}", FALSE, TRUE, NULL },
  { "{\"f\":1}", TRUE, FALSE, NULL },
  { "{\"f\":1}", FALSE, FALSE, NULL },
  { "{\"f\":1.5}", FALSE, FALSE, NULL },
  { "{\"f\":true}", FALSE, FALSE, NULL },
  { "{\"f\":[]}", FALSE, FALSE, NULL },
  { "{\"f\":[\"x\"]}", FALSE, FALSE, NULL },
  { "{\"f\":{}}", FALSE, FALSE, NULL },
};

static void
test_string (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (string_cases); i++)
    {
      const StringCase *c = &string_cases[i];
      JsonObject *obj;
      g_autoptr(JsonNode) node = parse (c->json, &obj);
      g_autoptr(GError) error = NULL;
      const char *out = "untouched";
      gboolean ok = natter_fields_get_string (obj, "f", c->required, &out, &error);

      g_test_message ("string #%u: %s (%s)", i, c->json, c->required ? "required" : "optional");
      g_assert_cmpint (ok, ==, c->ok);
      if (ok)
        {
          g_assert_no_error (error);
          g_assert_cmpstr (out, ==, c->value);
        }
      else
        {
          assert_invalid (error, "f");
          g_assert_null (out);
        }
    }
}

/* ---- integers ---- */

typedef struct {
  const char *json;
  gboolean    required;
  gboolean    ok;
  gboolean    present;
  gint64      value;
} IntCase;

static const IntCase int_cases[] = {
  { "{\"n\":5}", TRUE, TRUE, TRUE, 5 },
  { "{\"n\":0}", TRUE, TRUE, TRUE, 0 },
  { "{\"n\":-0}", TRUE, TRUE, TRUE, 0 },
  { "{\"n\":-5}", TRUE, TRUE, TRUE, -5 },
  { "{\"n\":9007199254740992}", TRUE, TRUE, TRUE, G_GINT64_CONSTANT (9007199254740992) },
  { "{\"n\":-9007199254740992}", TRUE, TRUE, TRUE, -G_GINT64_CONSTANT (9007199254740992) },
  { "{\"n\":9007199254740993}", TRUE, FALSE, FALSE, 0 },
  { "{\"n\":-9007199254740993}", TRUE, FALSE, FALSE, 0 },
  { "{\"n\":9223372036854775807}", TRUE, FALSE, FALSE, 0 },
  { "{\"n\":-9223372036854775808}", TRUE, FALSE, FALSE, 0 },
  { "{\"n\":9223372036854775808}", TRUE, FALSE, FALSE, 0 },
  { "{\"n\":1e300}", TRUE, FALSE, FALSE, 0 },
  /* Integral doubles count. */
  { "{\"n\":3.0}", TRUE, TRUE, TRUE, 3 },
  { "{\"n\":1e2}", TRUE, TRUE, TRUE, 100 },
  { "{\"n\":-2.5e1}", TRUE, TRUE, TRUE, -25 },
  { "{\"n\":-0.0}", TRUE, TRUE, TRUE, 0 },
  { "{\"n\":9007199254740992.0}", TRUE, TRUE, TRUE, G_GINT64_CONSTANT (9007199254740992) },
  { "{\"n\":9007199254740994.0}", TRUE, FALSE, FALSE, 0 },
  { "{\"n\":-9007199254740994.0}", TRUE, FALSE, FALSE, 0 },
  { "{\"n\":3.5}", TRUE, FALSE, FALSE, 0 },
  { "{\"n\":1e-1}", TRUE, FALSE, FALSE, 0 },
  { "{\"n\":0.0000001}", TRUE, FALSE, FALSE, 0 },
  /* Other types. */
  { "{\"n\":\"5\"}", TRUE, FALSE, FALSE, 0 },
  { "{\"n\":\"5\"}", FALSE, FALSE, FALSE, 0 },
  { "{\"n\":true}", FALSE, FALSE, FALSE, 0 },
  { "{\"n\":[5]}", FALSE, FALSE, FALSE, 0 },
  { "{\"n\":{}}", FALSE, FALSE, FALSE, 0 },
  /* Missing. */
  { "{}", TRUE, FALSE, FALSE, 0 },
  { "{}", FALSE, TRUE, FALSE, 0 },
  { "{\"n\":null}", TRUE, FALSE, FALSE, 0 },
  { "{\"n\":null}", FALSE, TRUE, FALSE, 0 },
};

static void
test_int (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (int_cases); i++)
    {
      const IntCase *c = &int_cases[i];
      JsonObject *obj;
      g_autoptr(JsonNode) node = parse (c->json, &obj);
      g_autoptr(GError) error = NULL;
      gboolean present = 99;
      gint64 value = 12345;
      gboolean ok = natter_fields_get_int (obj, "n", c->required, &present, &value, &error);

      g_test_message ("int #%u: %s (%s)", i, c->json, c->required ? "required" : "optional");
      g_assert_cmpint (ok, ==, c->ok);
      if (ok)
        {
          g_assert_no_error (error);
          g_assert_cmpint (present, ==, c->present);
          if (c->present)
            g_assert_cmpint (value, ==, c->value);
        }
      else
        {
          assert_invalid (error, "n");
          g_assert_false (present);
          if (strcmp (c->json, "{}") != 0 && strstr (c->json, "null") == NULL)
            g_assert_cmpstr (error->message, ==, "field 'n' must be an integer");
        }
    }

  /* out_present and out may be NULL. */
  {
    JsonObject *obj;
    g_autoptr(JsonNode) node = parse ("{\"n\":1}", &obj);
    g_assert_true (natter_fields_get_int (obj, "n", TRUE, NULL, NULL, NULL));
  }
}

/* ---- booleans ---- */

typedef struct {
  const char *json;
  gboolean    required;
  gboolean    ok;
  gboolean    present;
  gboolean    value;
} BoolCase;

static const BoolCase bool_cases[] = {
  { "{\"b\":true}", TRUE, TRUE, TRUE, TRUE },
  { "{\"b\":false}", TRUE, TRUE, TRUE, FALSE },
  { "{}", TRUE, FALSE, FALSE, FALSE },
  { "{}", FALSE, TRUE, FALSE, FALSE },
  { "{\"b\":null}", FALSE, TRUE, FALSE, FALSE },
  { "{\"b\":null}", TRUE, FALSE, FALSE, FALSE },
  { "{\"b\":1}", FALSE, FALSE, FALSE, FALSE },
  { "{\"b\":0}", FALSE, FALSE, FALSE, FALSE },
  { "{\"b\":\"true\"}", FALSE, FALSE, FALSE, FALSE },
  { "{\"b\":[true]}", FALSE, FALSE, FALSE, FALSE },
};

static void
test_bool (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (bool_cases); i++)
    {
      const BoolCase *c = &bool_cases[i];
      JsonObject *obj;
      g_autoptr(JsonNode) node = parse (c->json, &obj);
      g_autoptr(GError) error = NULL;
      gboolean present = 99;
      gboolean value = 99;
      gboolean ok = natter_fields_get_bool (obj, "b", c->required, &present, &value, &error);

      g_test_message ("bool #%u: %s", i, c->json);
      g_assert_cmpint (ok, ==, c->ok);
      if (ok)
        {
          g_assert_no_error (error);
          g_assert_cmpint (present, ==, c->present);
          if (c->present)
            g_assert_cmpint (value, ==, c->value);
        }
      else
        assert_invalid (error, "b");
    }
}

/* ---- the request id ---- */

typedef struct {
  const char *json;
  gboolean    ok;
  const char *echo; /* the id as written back in "re"; NULL: no id */
} IdCase;

static const IdCase id_cases[] = {
  { "{\"type\":\"ping\"}", TRUE, NULL },
  { "{\"id\":null}", TRUE, NULL },
  { "{\"id\":1}", TRUE, "1" },
  { "{\"id\":0}", TRUE, "0" },
  { "{\"id\":-7}", TRUE, "-7" },
  { "{\"id\":9007199254740992}", TRUE, "9007199254740992" },
  { "{\"id\":-9007199254740992}", TRUE, "-9007199254740992" },
  { "{\"id\":2.0}", TRUE, "2.0" },
  { "{\"id\":\"abc\"}", TRUE, "\"abc\"" },
  { "{\"id\":\"\"}", TRUE, "\"\"" },
  { "{\"id\":\"a\\nb\"}", TRUE, "\"a\\nb\"" },
  { "{\"id\":\"0123456789012345678901234567890123456789012345678901234567890123\"}", TRUE,
    "\"0123456789012345678901234567890123456789012345678901234567890123\"" },
  { "{\"id\":\"01234567890123456789012345678901234567890123456789012345678901234\"}", FALSE, NULL },
  /* 32 é are 64 bytes; 33 are 66. */
  { "{\"id\":\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
    "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"}", TRUE, NULL },
  { "{\"id\":\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
    "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"}", FALSE, NULL },
  { "{\"id\":9007199254740993}", FALSE, NULL },
  { "{\"id\":1e300}", FALSE, NULL },
  { "{\"id\":1.5}", FALSE, NULL },
  { "{\"id\":true}", FALSE, NULL },
  { "{\"id\":[1]}", FALSE, NULL },
  { "{\"id\":{}}", FALSE, NULL },
};

static void
test_request_id (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (id_cases); i++)
    {
      const IdCase *c = &id_cases[i];
      JsonObject *obj;
      g_autoptr(JsonNode) node = parse (c->json, &obj);
      g_autoptr(GError) error = NULL;
      JsonNode *id = (JsonNode *) 0x1;
      gboolean ok = natter_fields_get_request_id (obj, &id, &error);

      g_test_message ("id #%u: %s", i, c->json);
      g_assert_cmpint (ok, ==, c->ok);
      if (!ok)
        {
          assert_invalid (error, "id");
          g_assert_null (id);
          continue;
        }

      g_assert_no_error (error);
      if (c->echo == NULL && strstr (c->json, "\\u00e9") == NULL)
        g_assert_null (id);
      else
        {
          g_autofree char *echo = natter_json_to_string (id);

          /* Borrowed from the request. */
          g_assert_true (id == json_object_get_member (obj, "id"));
          if (c->echo != NULL)
            g_assert_cmpstr (echo, ==, c->echo);
        }
    }
}

/* ---- limit ---- */

typedef struct {
  const char *json;
  gboolean    ok;
  gint64      value;
} LimitCase;

/* With a default of 50 and a cap of 200, as history has. */
static const LimitCase limit_cases[] = {
  { "{}", TRUE, 50 },
  { "{\"limit\":null}", TRUE, 50 },
  { "{\"limit\":1}", TRUE, 1 },
  { "{\"limit\":20}", TRUE, 20 },
  { "{\"limit\":200}", TRUE, 200 },
  { "{\"limit\":201}", TRUE, 200 },
  { "{\"limit\":9007199254740992}", TRUE, 200 },
  { "{\"limit\":1e2}", TRUE, 100 },
  { "{\"limit\":0}", FALSE, 0 },
  { "{\"limit\":-1}", FALSE, 0 },
  { "{\"limit\":-9007199254740992}", FALSE, 0 },
  { "{\"limit\":9007199254740993}", FALSE, 0 },
  { "{\"limit\":2.5}", FALSE, 0 },
  { "{\"limit\":\"10\"}", FALSE, 0 },
  { "{\"limit\":true}", FALSE, 0 },
};

static void
test_limit (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (limit_cases); i++)
    {
      const LimitCase *c = &limit_cases[i];
      JsonObject *obj;
      g_autoptr(JsonNode) node = parse (c->json, &obj);
      g_autoptr(GError) error = NULL;
      gint64 value = -12345;
      gboolean ok = natter_fields_get_limit (obj, 50, 200, &value, &error);

      g_test_message ("limit #%u: %s", i, c->json);
      g_assert_cmpint (ok, ==, c->ok);
      if (ok)
        {
          g_assert_no_error (error);
          g_assert_cmpint (value, ==, c->value);
        }
      else
        assert_invalid (error, "limit");
    }

  /* The exact message the brief gives for an ill-typed limit. */
  {
    JsonObject *obj;
    g_autoptr(JsonNode) node = parse ("{\"limit\":\"x\"}", &obj);
    g_autoptr(GError) error = NULL;
    gint64 value;

    g_assert_false (natter_fields_get_limit (obj, 50, 200, &value, &error));
    g_assert_cmpstr (error->message, ==, "field 'limit' must be an integer");
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/fields/string", test_string);
  g_test_add_func ("/fields/int", test_int);
  g_test_add_func ("/fields/bool", test_bool);
  g_test_add_func ("/fields/request-id", test_request_id);
  g_test_add_func ("/fields/limit", test_limit);

  return g_test_run ();
}
