/* natter-page.h: the base of the pages in the window's content pane
 * (conversation, contacts, search): a widget with one child and a
 * "narrow" property the window binds to the leaflet's "folded", so the
 * page's header can show its back button and title buttons; and the
 * page's search entry, if it has one. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define NATTER_TYPE_PAGE (natter_page_get_type ())
G_DECLARE_DERIVABLE_TYPE (NatterPage, natter_page, NATTER, PAGE, GtkWidget)

struct _NatterPageClass
{
  GtkWidgetClass parent_class;
};

gboolean natter_page_get_narrow       (NatterPage *self);
void     natter_page_set_narrow       (NatterPage *self,
                                       gboolean    narrow);
void     natter_page_set_search_entry (NatterPage *self,
                                       GtkWidget  *entry);
void     natter_page_focus_search     (NatterPage *self);
void     natter_page_clear_search     (NatterPage *self);

G_END_DECLS
