/* natter-contacts-page.h: contacts, requests, and finding people. */
#pragma once

#include <gtk/gtk.h>

#include "natter-core.h"
#include "natter-page.h"

G_BEGIN_DECLS

#define NATTER_TYPE_CONTACTS_PAGE (natter_contacts_page_get_type ())
G_DECLARE_FINAL_TYPE (NatterContactsPage, natter_contacts_page, NATTER, CONTACTS_PAGE, NatterPage)

void natter_contacts_page_set_client (NatterContactsPage *self,
                                      NatterClient       *client);

G_END_DECLS
