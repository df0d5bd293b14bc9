/* natterd-search-words.c: words for search (see natterd-search-words.h). */
#define G_LOG_DOMAIN "natterd-store"

#include "config.h"

#include <string.h>

#include "natterd-search-words.h"

/* What the tokenizer (unicode61) keeps in a word: letters and digits,
 * and the combining marks of a decomposed letter (it folds "e\u0301" to
 * "e"). Everything else separates words. */
static gboolean
is_word_char (gunichar c)
{
  return g_unichar_isalnum (c) || g_unichar_ismark (c);
}

void
natterd_search_words_foreach (const char            *text,
                              gssize                 len,
                              NatterdSearchWordFunc  func,
                              gpointer               user_data)
{
  const char *p = text;
  const char *end = len < 0 ? text + strlen (text) : text + len;

  while (p < end)
    {
      const char *start;
      guint chars = 0;

      while (p < end && !is_word_char (g_utf8_get_char (p)))
        p = g_utf8_next_char (p);
      if (p >= end)
        break;
      start = p;
      for (; p < end && is_word_char (g_utf8_get_char (p)); p = g_utf8_next_char (p))
        if (!g_unichar_ismark (g_utf8_get_char (p)))
          chars++;
      func (start, p - start, chars, user_data);
    }
}

char *
natterd_search_query_build (const char            *query,
                            NatterdSearchWordFunc  append_word)
{
  GString *out = g_string_new (NULL);

  natterd_search_words_foreach (query, -1, append_word, out);
  if (out->len == 0)
    {
      g_string_free (out, TRUE);
      return NULL;
    }
  return g_string_free (out, FALSE);
}

char *
natterd_search_word_fold (const char *word,
                          gsize       len)
{
  g_autofree char *decomposed = g_utf8_normalize (word, len, G_NORMALIZE_NFD);
  g_autofree char *folded = g_utf8_casefold (decomposed != NULL ? decomposed : "", -1);
  GString *out = g_string_sized_new (strlen (folded));

  for (const char *p = folded; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (!g_unichar_ismark (c))
        g_string_append_unichar (out, c);
    }
  return g_string_free (out, FALSE);
}
