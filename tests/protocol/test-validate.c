#define G_LOG_DOMAIN "natter-test"

#include <string.h>

#include "natter-error.h"
#include "natter-validate.h"

/* Builds @unit repeated @n times (for length limits). */
static char *
repeat (const char *unit,
        guint       n)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < n; i++)
    g_string_append (s, unit);
  return g_string_free (s, FALSE);
}

/* Cases whose input is built at run time carry a recipe instead. */
typedef struct {
  const char *unit;   /* repeated... */
  guint       count;  /* ...this many times, after @prefix */
  const char *prefix;
} Recipe;

static char *
make (const char   *literal,
      const Recipe *recipe)
{
  g_autofree char *body = NULL;

  if (recipe->unit == NULL)
    return g_strdup (literal);

  body = repeat (recipe->unit, recipe->count);
  return g_strconcat (recipe->prefix ? recipe->prefix : "", body, NULL);
}

/* ---- usernames ---- */

typedef struct {
  const char *input;
  Recipe      recipe;
  const char *normalized; /* NULL: invalid */
} UsernameCase;

static const UsernameCase username_cases[] = {
  { "alice", { 0 }, "alice" },
  { "Alice", { 0 }, "alice" },
  { "ALICE", { 0 }, "alice" },
  { "bob", { 0 }, "bob" },
  { "a12", { 0 }, "a12" },
  { "a_b.c-d", { 0 }, "a_b.c-d" },
  { "ABC_DEF.G-H", { 0 }, "abc_def.g-h" },
  { "z..", { 0 }, "z.." },
  { NULL, { "a", 32, NULL }, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
  { NULL, { "A", 32, NULL }, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
  { NULL, { "a", 33, NULL }, NULL },
  { NULL, { "b", 31, "a" }, "abbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" },
  { "", { 0 }, NULL },
  { "a", { 0 }, NULL },
  { "ab", { 0 }, NULL },
  { "A1", { 0 }, NULL },
  { "1abc", { 0 }, NULL },
  { "_abc", { 0 }, NULL },
  { ".abc", { 0 }, NULL },
  { "-abc", { 0 }, NULL },
  { "ab c", { 0 }, NULL },
  { " abc", { 0 }, NULL },
  { "abc ", { 0 }, NULL },
  { "ab@c", { 0 }, NULL },
  { "@abc", { 0 }, NULL },
  { "#abc", { 0 }, NULL },
  { "ab+c", { 0 }, NULL },
  { "ab/c", { 0 }, NULL },
  { "abc\n", { 0 }, NULL },
  { "abc\t", { 0 }, NULL },
  /* Any non-ASCII: no Unicode case folding tricks. */
  { "ab\xc3\xa7", { 0 }, NULL },             /* ç */
  { "\xc3\x80" "bc", { 0 }, NULL },          /* À */
  { "\xef\xbc\xa1" "bc", { 0 }, NULL },      /* fullwidth A */
  { "\xe2\x84\xaa" "elvin", { 0 }, NULL },   /* Kelvin sign folds to k elsewhere */
  { "\xc4\xb0stanbul", { 0 }, NULL },        /* İ */
  { "abc\xff", { 0 }, NULL },
};

static void
test_username (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (username_cases); i++)
    {
      const UsernameCase *c = &username_cases[i];
      g_autofree char *input = make (c->input, &c->recipe);
      g_autoptr(GError) error = NULL;
      g_autofree char *out = natter_username_normalize (input, &error);
      g_autofree char *shown = g_strescape (input, NULL);

      g_test_message ("username #%u: %s", i, shown);
      if (c->normalized != NULL)
        {
          g_assert_no_error (error);
          g_assert_cmpstr (out, ==, c->normalized);
          g_assert_true (natter_username_is_valid (out));
          /* is_valid() takes only the normalised form. */
          g_assert_cmpint (natter_username_is_valid (input), ==, strcmp (input, c->normalized) == 0);
        }
      else
        {
          g_assert_null (out);
          g_assert_error (error, NATTER_ERROR, NATTER_ERROR_INVALID_USERNAME);
          g_assert_false (natter_username_is_valid (input));
        }
    }

  {
    g_autoptr(GError) error = NULL;
    g_assert_null (natter_username_normalize (NULL, &error));
    g_assert_error (error, NATTER_ERROR, NATTER_ERROR_INVALID_USERNAME);
    g_assert_false (natter_username_is_valid (NULL));
    /* A NULL error is allowed. */
    g_assert_null (natter_username_normalize ("x", NULL));
  }
}

/* ---- rooms and addresses ---- */

typedef struct {
  const char *input;
  Recipe      recipe;
  gboolean    valid;
} ValidCase;

static const ValidCase room_cases[] = {
  { "#general", { 0 }, TRUE },
  { "#a", { 0 }, TRUE },
  { "#1", { 0 }, TRUE },
  { "#_", { 0 }, TRUE },
  { "#-", { 0 }, TRUE },
  { "#a_b-c9", { 0 }, TRUE },
  { NULL, { "x", 64, "#" }, TRUE },
  { NULL, { "x", 65, "#" }, FALSE },
  { "#", { 0 }, FALSE },
  { "", { 0 }, FALSE },
  { "general", { 0 }, FALSE },
  { "@general", { 0 }, FALSE },
  { "#General", { 0 }, FALSE },
  { "#GENERAL", { 0 }, FALSE },
  { "#gen eral", { 0 }, FALSE },
  { "#gen.eral", { 0 }, FALSE },
  { "##general", { 0 }, FALSE },
  { "#general#", { 0 }, FALSE },
  { " #general", { 0 }, FALSE },
  { "#general\n", { 0 }, FALSE },
  { "#caf\xc3\xa9", { 0 }, FALSE },
  { "#\xff", { 0 }, FALSE },
};

static void
test_room_name (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (room_cases); i++)
    {
      g_autofree char *input = make (room_cases[i].input, &room_cases[i].recipe);
      g_autofree char *shown = g_strescape (input, NULL);

      g_test_message ("room #%u: %s", i, shown);
      g_assert_cmpint (natter_room_name_is_valid (input), ==, room_cases[i].valid);
    }
  g_assert_false (natter_room_name_is_valid (NULL));
}

typedef struct {
  const char       *input;
  gboolean          valid;
  NatterAddressKind kind;
  const char       *name;
} AddressCase;

static const AddressCase address_cases[] = {
  { "@bob", TRUE, NATTER_ADDRESS_USER, "bob" },
  { "@Bob", TRUE, NATTER_ADDRESS_USER, "bob" },
  { "@B_O.B-1", TRUE, NATTER_ADDRESS_USER, "b_o.b-1" },
  { "#general", TRUE, NATTER_ADDRESS_ROOM, "#general" },
  { "#a", TRUE, NATTER_ADDRESS_ROOM, "#a" },
  { "@bo", FALSE, 0, NULL },
  { "@", FALSE, 0, NULL },
  { "@1bob", FALSE, 0, NULL },
  { "@@bob", FALSE, 0, NULL },
  { "@ bob", FALSE, 0, NULL },
  { "@bob ", FALSE, 0, NULL },
  { "@b\xc3\xb6" "b", FALSE, 0, NULL },
  { "bob", FALSE, 0, NULL },
  { "#", FALSE, 0, NULL },
  { "#General", FALSE, 0, NULL },
  { "#gen.eral", FALSE, 0, NULL },
  { "", FALSE, 0, NULL },
  { "general", FALSE, 0, NULL },
  { "@#general", FALSE, 0, NULL },
  { "#@bob", FALSE, 0, NULL },
};

static void
test_address (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (address_cases); i++)
    {
      const AddressCase *c = &address_cases[i];
      NatterAddressKind kind = 99;
      g_autofree char *name = NULL;
      g_autoptr(GError) error = NULL;
      gboolean ok = natter_address_parse (c->input, &kind, &name, &error);
      g_autofree char *shown = g_strescape (c->input, NULL);

      g_test_message ("address #%u: %s", i, shown);
      if (c->valid)
        {
          g_assert_no_error (error);
          g_assert_true (ok);
          g_assert_cmpint (kind, ==, c->kind);
          g_assert_cmpstr (name, ==, c->name);
        }
      else
        {
          g_assert_false (ok);
          g_assert_null (name);
          g_assert_error (error, NATTER_ERROR, NATTER_ERROR_INVALID_ARGUMENT);
        }
    }

  {
    g_autoptr(GError) error = NULL;

    g_assert_false (natter_address_parse (NULL, NULL, NULL, &error));
    g_assert_error (error, NATTER_ERROR, NATTER_ERROR_INVALID_ARGUMENT);
    g_assert_true (natter_address_parse ("@bob", NULL, NULL, NULL));
  }
}

/* ---- free text ---- */

static const ValidCase display_name_cases[] = {
  { "Alice", { 0 }, TRUE },
  { "A", { 0 }, TRUE },
  { "Alice Smith", { 0 }, TRUE },
  { " Alice ", { 0 }, TRUE },
  { "\xf0\x9f\x98\x80", { 0 }, TRUE },
  { "Ren\xc3\xa9\xe2\x80\x8b", { 0 }, TRUE },   /* a format char (Cf) is not Cc */
  { NULL, { "\xc3\xa9", 64, NULL }, TRUE },     /* 64 characters, 128 bytes */
  { NULL, { "\xc3\xa9", 65, NULL }, FALSE },
  { NULL, { "a", 64, NULL }, TRUE },
  { NULL, { "a", 65, NULL }, FALSE },
  { NULL, { "\xf0\x9f\x98\x80", 64, NULL }, TRUE },
  { "", { 0 }, FALSE },
  { " ", { 0 }, FALSE },
  { "   ", { 0 }, FALSE },
  { "\xc2\xa0", { 0 }, FALSE },                 /* no-break space only */
  { "\xe3\x80\x80", { 0 }, FALSE },             /* ideographic space only */
  { " \xe2\x80\x83 ", { 0 }, FALSE },           /* em space */
  { "a\nb", { 0 }, FALSE },
  { "a\tb", { 0 }, FALSE },
  { "a\rb", { 0 }, FALSE },
  { "a\x1b[31m", { 0 }, FALSE },
  { "a\x7f", { 0 }, FALSE },
  { "a\xc2\x85", { 0 }, FALSE },                /* NEL, C1 */
  { "a\xc2\x9b", { 0 }, FALSE },                /* CSI, C1 */
  { "a\xff", { 0 }, FALSE },
  { "a\xc0\x80", { 0 }, FALSE },                /* overlong NUL */
  { "a\xed\xa0\x80", { 0 }, FALSE },            /* surrogate */
};

static const ValidCase status_text_cases[] = {
  { "", { 0 }, TRUE },
  { "lunch", { 0 }, TRUE },
  { " ", { 0 }, TRUE },
  { NULL, { "\xc3\xa9", 128, NULL }, TRUE },
  { NULL, { "\xc3\xa9", 129, NULL }, FALSE },
  { NULL, { "x", 128, NULL }, TRUE },
  { NULL, { "x", 129, NULL }, FALSE },
  { "a\nb", { 0 }, FALSE },
  { "a\tb", { 0 }, FALSE },
  { "\x7f", { 0 }, FALSE },
  { "\xc2\x80", { 0 }, FALSE },
  { "\xfe", { 0 }, FALSE },
};

static const ValidCase topic_cases[] = {
  { "", { 0 }, TRUE },
  { "Talk about anything", { 0 }, TRUE },
  { NULL, { "\xc3\xa9", 512, NULL }, TRUE },
  { NULL, { "\xc3\xa9", 513, NULL }, FALSE },
  { NULL, { "t", 512, NULL }, TRUE },
  { NULL, { "t", 513, NULL }, FALSE },
  { "a\nb", { 0 }, FALSE },
  { "a\tb", { 0 }, FALSE },
  { "a\x01", { 0 }, FALSE },
  { "a\xc2\x9f", { 0 }, FALSE },
  { "\xe0\x80\xaf", { 0 }, FALSE },
};

static const ValidCase client_msg_id_cases[] = {
  { "c1", { 0 }, TRUE },
  { "x", { 0 }, TRUE },
  { " ", { 0 }, TRUE },
  { "550e8400-e29b-41d4-a716-446655440000", { 0 }, TRUE },
  { NULL, { "i", 64, NULL }, TRUE },
  { NULL, { "i", 65, NULL }, FALSE },
  { NULL, { "\xc3\xa9", 32, NULL }, TRUE },     /* 64 bytes */
  { NULL, { "\xc3\xa9", 33, NULL }, FALSE },    /* 66 bytes, 33 characters */
  { "", { 0 }, FALSE },
  { "a\tb", { 0 }, FALSE },
  { "a\nb", { 0 }, FALSE },
  { "\x7f", { 0 }, FALSE },
  { "\xc2\x85", { 0 }, FALSE },
  { "\xff", { 0 }, FALSE },
};

static void
run_valid_cases (const char     *what,
                 const ValidCase *cases,
                 guint           n,
                 gboolean      (*check) (const char *))
{
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *input = make (cases[i].input, &cases[i].recipe);
      g_autofree char *shown = g_strescape (input, NULL);

      g_test_message ("%s #%u: %s", what, i, shown);
      if (check (input) != cases[i].valid)
        g_error ("%s #%u (%s): want %s", what, i, shown, cases[i].valid ? "valid" : "invalid");
    }
  g_assert_false (check (NULL));
}

static void
test_display_name (void)
{
  run_valid_cases ("display name", display_name_cases, G_N_ELEMENTS (display_name_cases),
                   natter_display_name_is_valid);
}

static void
test_status_text (void)
{
  run_valid_cases ("status text", status_text_cases, G_N_ELEMENTS (status_text_cases),
                   natter_status_text_is_valid);
}

static void
test_topic (void)
{
  run_valid_cases ("topic", topic_cases, G_N_ELEMENTS (topic_cases), natter_topic_is_valid);
}

static void
test_client_msg_id (void)
{
  run_valid_cases ("client_msg_id", client_msg_id_cases, G_N_ELEMENTS (client_msg_id_cases),
                   natter_client_msg_id_is_valid);
}

/* Bodies carry a length: NUL is a byte like any other, and invalid. */
typedef struct {
  const char *input;
  gssize      len;    /* -1: strlen */
  Recipe      recipe;
  gboolean    valid;
} BodyCase;

static const BodyCase body_cases[] = {
  { "hi", -1, { 0 }, TRUE },
  { "x", -1, { 0 }, TRUE },
  { " x ", -1, { 0 }, TRUE },
  { "line one\nline two\n\tindented", -1, { 0 }, TRUE },
  { "\xf0\x9f\x98\x80", -1, { 0 }, TRUE },
  { "a\xe2\x80\xa8" "b", -1, { 0 }, TRUE },    /* U+2028 is not a control */
  { "\xc2\xa0x", -1, { 0 }, TRUE },
  { NULL, -1, { "a", 16384, NULL }, TRUE },
  { NULL, -1, { "a", 16385, NULL }, FALSE },
  { NULL, -1, { "\xc3\xa9", 8192, NULL }, TRUE },   /* 16384 bytes */
  { NULL, -1, { "a", 16383, "\xc3\xa9" }, FALSE },  /* 16385 bytes */
  { NULL, -1, { " ", 16383, "z" }, TRUE },
  { NULL, -1, { " ", 16384, NULL }, FALSE },
  { "", -1, { 0 }, FALSE },
  { " ", -1, { 0 }, FALSE },
  { "\n", -1, { 0 }, FALSE },
  { "\t \n", -1, { 0 }, FALSE },
  { "\xc2\xa0", -1, { 0 }, FALSE },            /* no-break space */
  { "\xe3\x80\x80\xe2\x80\x83", -1, { 0 }, FALSE },
  { "\xe2\x80\xa8", -1, { 0 }, FALSE },        /* line separator only */
  { "a\rb", -1, { 0 }, FALSE },
  { "a\r\nb", -1, { 0 }, FALSE },
  { "a\x01", -1, { 0 }, FALSE },
  { "a\x0b", -1, { 0 }, FALSE },
  { "a\x0c", -1, { 0 }, FALSE },
  { "a\x1b[2J", -1, { 0 }, FALSE },
  { "a\x7f", -1, { 0 }, FALSE },
  { "a\xc2\x80", -1, { 0 }, FALSE },
  { "a\xc2\x85", -1, { 0 }, FALSE },
  { "a\xc2\x9f", -1, { 0 }, FALSE },
  { "a\0b", 3, { 0 }, FALSE },
  { "ab\0", 3, { 0 }, FALSE },
  { "a\xff", -1, { 0 }, FALSE },
  { "a\xc3", -1, { 0 }, FALSE },
  { "a\xc0\xaf", -1, { 0 }, FALSE },
  { "a\xed\xa0\x80", -1, { 0 }, FALSE },
  { "a\xf4\x90\x80\x80", -1, { 0 }, FALSE },
  /* A length that cuts a character in half. */
  { "a\xc3\xa9", 2, { 0 }, FALSE },
  { "abc", 2, { 0 }, TRUE },
};

static void
test_body (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (body_cases); i++)
    {
      const BodyCase *c = &body_cases[i];
      g_autofree char *input = c->recipe.unit ? make (NULL, &c->recipe) : NULL;
      const char *text = input ? input : c->input;
      gsize len = c->len >= 0 ? (gsize) c->len : strlen (text);
      /* An exact-size copy, so ASan sees reads past @len. */
      g_autofree char *copy = g_memdup2 (text, MAX (len, 1));

      g_test_message ("body #%u (%" G_GSIZE_FORMAT " bytes)", i, len);
      g_assert_cmpint (natter_body_is_valid (copy, len), ==, c->valid);
    }
  g_assert_false (natter_body_is_valid (NULL, 0));
  g_assert_false (natter_body_is_valid (NULL, 5));
}

/* ---- passwords ---- */

static const ValidCase password_cases[] = {
  { "12345678", { 0 }, TRUE },
  { "correct horse battery staple", { 0 }, TRUE },
  { "        ", { 0 }, TRUE },
  { "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", { 0 }, TRUE }, /* 8 chars */
  { "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", { 0 }, FALSE },        /* 7 chars, 14 bytes */
  { "1234567", { 0 }, FALSE },
  { "", { 0 }, FALSE },
  { NULL, { "p", 1024, NULL }, TRUE },
  { NULL, { "p", 1025, NULL }, FALSE },
  { NULL, { "\xc3\xa9", 512, NULL }, TRUE },
  { NULL, { "\xc3\xa9", 513, NULL }, FALSE },
  { "1234567\xff", { 0 }, FALSE },
  { "12345678\xff", { 0 }, FALSE },
  { "\xed\xa0\x80" "12345678", { 0 }, FALSE },
};

static void
test_password (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (password_cases); i++)
    {
      g_autofree char *input = make (password_cases[i].input, &password_cases[i].recipe);
      g_autoptr(GError) error = NULL;
      gboolean ok = natter_password_check (input, &error);

      g_test_message ("password #%u (%" G_GSIZE_FORMAT " bytes)", i, strlen (input));
      g_assert_cmpint (ok, ==, password_cases[i].valid);
      if (ok)
        g_assert_no_error (error);
      else
        {
          g_assert_error (error, NATTER_ERROR, NATTER_ERROR_WEAK_PASSWORD);
          /* The message never echoes the password. */
          if (input[0] != '\0')
            g_assert_null (strstr (error->message, input));
        }
    }

  {
    g_autoptr(GError) error = NULL;
    g_assert_false (natter_password_check (NULL, &error));
    g_assert_error (error, NATTER_ERROR, NATTER_ERROR_WEAK_PASSWORD);
  }
}

/* ---- presence ---- */

static void
test_presence (void)
{
  const struct {
    const char    *str;
    NatterPresence presence;
  } names[] = {
    { "offline", NATTER_PRESENCE_OFFLINE },
    { "away", NATTER_PRESENCE_AWAY },
    { "busy", NATTER_PRESENCE_BUSY },
    { "online", NATTER_PRESENCE_ONLINE },
  };
  const char *bad[] = { "", "Online", "ONLINE", "invisible", "online ", "idle", "dnd" };
  NatterPresence p;

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      gboolean is_offline = names[i].presence == NATTER_PRESENCE_OFFLINE;

      g_assert_cmpstr (natter_presence_to_string (names[i].presence), ==, names[i].str);
      p = 99;
      g_assert_true (natter_presence_from_string (names[i].str, TRUE, &p));
      g_assert_cmpint (p, ==, names[i].presence);
      p = 99;
      g_assert_cmpint (natter_presence_from_string (names[i].str, FALSE, &p), ==, !is_offline);
      if (is_offline)
        g_assert_cmpint (p, ==, 99);
    }

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_false (natter_presence_from_string (bad[i], TRUE, &p));
      g_assert_false (natter_presence_from_string (bad[i], FALSE, &p));
    }
  g_assert_false (natter_presence_from_string (NULL, TRUE, &p));

  /* The contract's order of availability: online > busy > away > offline. */
  g_assert_cmpint (NATTER_PRESENCE_ONLINE, >, NATTER_PRESENCE_BUSY);
  g_assert_cmpint (NATTER_PRESENCE_BUSY, >, NATTER_PRESENCE_AWAY);
  g_assert_cmpint (NATTER_PRESENCE_AWAY, >, NATTER_PRESENCE_OFFLINE);
}

/* ---- error codes ---- */

static void
test_error_codes (void)
{
  /* The contract's list, in the enum's order. */
  const char *contract[] = {
    "bad_frame", "frame_too_large", "unknown_type", "invalid_argument",
    "not_authenticated", "already_authenticated", "auth_failed",
    "username_taken", "invalid_username", "weak_password",
    "registration_closed", "forbidden", "not_found", "conflict",
    "rate_limited", "server_busy", "internal",
    /* feature files */
    "file_too_large", "quota_exceeded", "too_many_uploads", "hash_mismatch",
  };
  const char *unknown[] = { "", "Bad_Frame", "bad-frame", "bad_frame ", "ok", "error" };
  NatterErrorCode code;

  g_assert_cmpuint (G_N_ELEMENTS (contract), ==, NATTER_N_ERRORS);
  g_assert_cmpstr (g_quark_to_string (NATTER_ERROR), ==, "natter-error-quark");

  for (guint i = 0; i < G_N_ELEMENTS (contract); i++)
    {
      g_assert_cmpstr (natter_error_code_to_string ((NatterErrorCode) i), ==, contract[i]);
      code = 99;
      g_assert_true (natter_error_code_from_string (contract[i], &code));
      g_assert_cmpint (code, ==, i);
    }

  for (guint i = 0; i < G_N_ELEMENTS (unknown); i++)
    g_assert_false (natter_error_code_from_string (unknown[i], &code));
  g_assert_false (natter_error_code_from_string (NULL, &code));
  g_assert_true (natter_error_code_from_string ("conflict", NULL));

  /* A code out of range is a bug; it still names something on the wire. */
  g_assert_cmpstr (natter_error_code_to_string (NATTER_N_ERRORS), ==, "internal");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/validate/username", test_username);
  g_test_add_func ("/validate/room-name", test_room_name);
  g_test_add_func ("/validate/address", test_address);
  g_test_add_func ("/validate/display-name", test_display_name);
  g_test_add_func ("/validate/status-text", test_status_text);
  g_test_add_func ("/validate/topic", test_topic);
  g_test_add_func ("/validate/client-msg-id", test_client_msg_id);
  g_test_add_func ("/validate/body", test_body);
  g_test_add_func ("/validate/password", test_password);
  g_test_add_func ("/validate/presence", test_presence);
  g_test_add_func ("/error/codes", test_error_codes);

  return g_test_run ();
}
