/* natter-search-match.c: highlighting a search's hits.
 *
 * Words and folding follow natterd (natterd_store_fts_query and SQLite's
 * unicode61 tokenizer with remove_diacritics 2): a word is a run of
 * letters, digits and combining marks; letters compare lower-cased with
 * their diacritics removed. Each character of a word is folded on its own,
 * so that the end of a matched prefix falls on a character of the original
 * text and the highlight never splits one.
 */
#define G_LOG_DOMAIN "natter-search-match"

#include <string.h>

#include "natter-search-match.h"

/* Words of this many letters or more match as prefixes (the server's
 * NATTERD_STORE_SEARCH_PREFIX_MIN). */
#define PREFIX_MIN 2

/* The highlight: bold, on the accent yellow at a strength that reads on a
 * light and a dark background alike. */
#define HIGHLIGHT_OPEN  "<span font_weight=\"bold\" bgcolor=\"#f6d32d\" bgalpha=\"45%\">"
#define HIGHLIGHT_CLOSE "</span>"

static gboolean
is_word_char (gunichar c)
{
  return g_unichar_isalnum (c) || g_unichar_ismark (c);
}

/* Appends @c folded: decomposed, marks dropped, lower-cased. */
static void
append_folded (GString  *out,
               gunichar  c)
{
  gunichar decomposed[G_UNICHAR_MAX_DECOMPOSITION_LENGTH];
  gsize n = g_unichar_fully_decompose (c, FALSE, decomposed, G_N_ELEMENTS (decomposed));

  for (gsize i = 0; i < n; i++)
    {
      char buf[6];
      g_autofree char *lower = NULL;

      if (g_unichar_ismark (decomposed[i]))
        continue;
      lower = g_utf8_casefold (buf, g_unichar_to_utf8 (decomposed[i], buf));
      g_string_append (out, lower);
    }
}

/* The folded words of @query; each with the number of letters it had. */
typedef struct {
  char  *folded;
  guint  letters;
} QueryWord;

static GArray *
query_words (const char *query)
{
  GArray *words = g_array_new (FALSE, FALSE, sizeof (QueryWord));
  const char *p = query;

  while (*p != '\0')
    {
      GString *folded;
      QueryWord w = { NULL, 0 };

      while (*p != '\0' && !is_word_char (g_utf8_get_char (p)))
        p = g_utf8_next_char (p);
      if (*p == '\0')
        break;
      folded = g_string_new (NULL);
      for (; *p != '\0' && is_word_char (g_utf8_get_char (p)); p = g_utf8_next_char (p))
        {
          gunichar c = g_utf8_get_char (p);

          if (!g_unichar_ismark (c))
            w.letters++;
          append_folded (folded, c);
        }
      if (folded->len == 0)
        {
          g_string_free (folded, TRUE);
          continue;
        }
      w.folded = g_string_free (folded, FALSE);
      g_array_append_val (words, w);
    }
  return words;
}

static void
query_word_clear (gpointer data)
{
  g_free (((QueryWord *) data)->folded);
}

/* How many bytes of the word at @word (@len bytes) @w matches: up to the
 * character that completes the query word's folded text, or the whole
 * word for a one-letter query word that equals it; 0 for no match. */
static gsize
match_one (const char      *word,
           gsize            len,
           const QueryWord *w)
{
  g_autoptr(GString) folded = g_string_new (NULL);
  gsize qlen = strlen (w->folded);
  const char *p;

  for (p = word; p < word + len && folded->len < qlen; p = g_utf8_next_char (p))
    append_folded (folded, g_utf8_get_char (p));
  if (folded->len < qlen || strncmp (folded->str, w->folded, qlen) != 0)
    return 0;
  /* Marks after the last letter belong to it. */
  while (p < word + len && g_unichar_ismark (g_utf8_get_char (p)))
    p = g_utf8_next_char (p);
  if (w->letters < PREFIX_MIN && (p < word + len || folded->len != qlen))
    return 0;
  return p - word;
}

/* The longest match of any query word at the start of the word. */
static gsize
match_length (const char *word,
              gsize       len,
              GArray     *words)
{
  gsize best = 0;

  for (guint i = 0; i < words->len; i++)
    best = MAX (best, match_one (word, len, &g_array_index (words, QueryWord, i)));
  return best;
}

static void
append_escaped (GString    *out,
                const char *text,
                gsize       len)
{
  g_autofree char *escaped = g_markup_escape_text (text, (gssize) len);

  g_string_append (out, escaped);
}

char *
natter_search_highlight_markup (const char *text,
                                const char *query)
{
  g_autofree char *valid_text = g_utf8_make_valid (text, -1);
  g_autofree char *valid_query = g_utf8_make_valid (query, -1);
  g_autoptr(GArray) words = query_words (valid_query);
  GString *out = g_string_new (NULL);
  const char *p = valid_text;

  g_array_set_clear_func (words, query_word_clear);
  while (*p != '\0')
    {
      const char *start = p;
      gsize matched;

      if (!is_word_char (g_utf8_get_char (p)))
        {
          while (*p != '\0' && !is_word_char (g_utf8_get_char (p)))
            p = g_utf8_next_char (p);
          append_escaped (out, start, p - start);
          continue;
        }
      while (*p != '\0' && is_word_char (g_utf8_get_char (p)))
        p = g_utf8_next_char (p);

      matched = words->len > 0 ? match_length (start, p - start, words) : 0;
      if (matched > 0)
        {
          g_string_append (out, HIGHLIGHT_OPEN);
          append_escaped (out, start, matched);
          g_string_append (out, HIGHLIGHT_CLOSE);
        }
      append_escaped (out, start + matched, p - start - matched);
    }
  return g_string_free (out, FALSE);
}
