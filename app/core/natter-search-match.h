/* natter-search-match.h: where a search query matches a message's text,
 * by the server's rule (docs/protocol.md, search): each word of the query
 * matches the words that begin with it, case and diacritics aside; a
 * one-letter word only that same word. For showing hits, not for finding
 * them.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* @text as Pango markup (escaped), with the part of each word that a word
 * of @query matches wrapped in a highlight span. @text and @query are
 * UTF-8; invalid bytes are shown as U+FFFD. */
char *natter_search_highlight_markup (const char *text,
                                      const char *query);

G_END_DECLS
