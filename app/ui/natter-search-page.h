/* natter-search-page.h: full-text search over every conversation. */
#pragma once

#include <gtk/gtk.h>

#include "natter-core.h"
#include "natter-page.h"

G_BEGIN_DECLS

#define NATTER_TYPE_SEARCH_PAGE (natter_search_page_get_type ())
G_DECLARE_FINAL_TYPE (NatterSearchPage, natter_search_page, NATTER, SEARCH_PAGE, NatterPage)

void natter_search_page_set_client (NatterSearchPage *self,
                                    NatterClient     *client);

G_END_DECLS
