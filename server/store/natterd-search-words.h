/* natterd-search-words.h: what a word is for search, shared by every
 * engine so that they match alike (docs/protocol.md, "search"): a run of
 * letters, digits and the combining marks of a letter; anything else
 * separates words.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* @word is borrowed, @len bytes long, not NUL-terminated; @chars counts
 * its characters without the combining marks. */
typedef void (*NatterdSearchWordFunc) (const char *word,
                                       gsize       len,
                                       guint       chars,
                                       gpointer    user_data);

/* Calls @func for each word of the @len bytes of @text (-1: up to its
 * NUL), in order. @text must be valid UTF-8. */
void  natterd_search_words_foreach (const char            *text,
                                    gssize                 len,
                                    NatterdSearchWordFunc  func,
                                    gpointer               user_data);
/* An engine's query for the words of @query: @append_word is called for
 * each with a GString (its user_data) to append to. Returns the string,
 * or NULL when it stayed empty: a query without a word finds nothing. */
char *natterd_search_query_build   (const char            *query,
                                    NatterdSearchWordFunc  append_word);
/* A word as it is compared: case folded, diacritics removed (decomposed,
 * marks dropped), as SQLite's unicode61 tokenizer with remove_diacritics 2
 * does. Newly allocated. */
char *natterd_search_word_fold     (const char            *word,
                                    gsize                  len);

G_END_DECLS
