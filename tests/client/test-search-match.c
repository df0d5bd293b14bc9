/* test-search-match.c: the search page's highlighting of hits
 * (natter_search_highlight_markup): the server's matching rule, shown on
 * the original text, as valid Pango markup.
 */
#define G_LOG_DOMAIN "natter-test"

#include "natter-search-match.h"

#define H(s) "<span font_weight=\"bold\" bgcolor=\"#f6d32d\" bgalpha=\"45%\">" s "</span>"

static void
test_highlight (void)
{
  static const struct {
    const char *text;
    const char *query;
    const char *markup;
  } cases[] = {
    /* Prefixes, in any case, of every word. */
    { "Pizza party tonight", "piz", H ("Piz") "za party tonight" },
    { "Pizza Party", "PIZZA par", H ("Pizza") " " H ("Par") "ty" },
    { "pizza, Pizza! PIZZA?", "pizza", H ("pizza") ", " H ("Pizza") "! " H ("PIZZA") "?" },
    /* Only at the start of a word. */
    { "spizza", "piz", "spizza" },
    /* The longest of several query words wins. */
    { "pizzeria", "pi pizze", H ("pizze") "ria" },
    /* Diacritics aside, both ways; the highlight keeps the original. */
    { "Café crème", "cafe cre", H ("Café") " " H ("crè") "me" },
    { "cafe", "CAFÉ", H ("cafe") },
    { "e\xcc\x81" "cole", "ec", H ("e\xcc\x81" "c") "ole" },
    { "Ärger", "ar", H ("Är") "ger" },
    /* A one-letter query word is a whole word only. */
    { "a apple", "a", H ("a") " apple" },
    { "x-ray", "x", H ("x") "-ray" },
    /* Markup in the text is escaped, inside a highlight too. */
    { "<b>pizza & co</b>", "pizza", "&lt;b&gt;" H ("pizza") " &amp; co&lt;/b&gt;" },
    { "a<b", "b", "a&lt;" H ("b") },
    /* Punctuation in the query separates words and matches nothing. */
    { "pizza \"party\"", "\"party\" *", "pizza &quot;" H ("party") "&quot;" },
    { "x & y", "&", "x &amp; y" },
    /* Other scripts. */
    { "Привет мир", "при", H ("При") "вет мир" },
    { "猫咪 cat", "猫咪", H ("猫咪") " cat" },
    /* Nothing to match. */
    { "lunch", "", "lunch" },
    { "", "pizza", "" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *markup = natter_search_highlight_markup (cases[i].text, cases[i].query);

      g_test_message ("%s / %s", cases[i].text, cases[i].query);
      g_assert_cmpstr (markup, ==, cases[i].markup);
      /* Always markup Pango (and GMarkup) can parse. */
      {
        g_autoptr(GMarkupParseContext) ctx = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *wrapped = g_strdup_printf ("<markup>%s</markup>", markup);
        static const GMarkupParser parser = { 0 };

        ctx = g_markup_parse_context_new (&parser, 0, NULL, NULL);
        g_assert_true (g_markup_parse_context_parse (ctx, wrapped, -1, &error));
        g_assert_no_error (error);
      }
    }
}

/* Invalid UTF-8 never crashes nor makes invalid markup. */
static void
test_invalid_utf8 (void)
{
  g_autofree char *markup = natter_search_highlight_markup ("pi\xffzza pizza", "piz\xfe");

  g_assert_true (g_utf8_validate (markup, -1, NULL));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/search-match/highlight", test_highlight);
  g_test_add_func ("/search-match/invalid-utf8", test_invalid_utf8);

  return g_test_run ();
}
