/* natter-account-page.h: the preferences' Account page (feature
 * accounts): the display name, the password, the devices signed in,
 * the users blocked. */
#pragma once

#include <adwaita.h>

#include "natter-core.h"

G_BEGIN_DECLS

#define NATTER_TYPE_ACCOUNT_PAGE (natter_account_page_get_type ())
G_DECLARE_FINAL_TYPE (NatterAccountPage, natter_account_page, NATTER, ACCOUNT_PAGE, AdwPreferencesPage)

/* For a client signed in with the feature accounts
 * (natter_client_get_accounts). */
AdwPreferencesPage *natter_account_page_new (NatterClient *client);

/* The devices' list, as last loaded (rows with their session's id as
 * their name): for tests. */
GtkListBox         *natter_account_page_get_devices (NatterAccountPage *self);
/* Makes @file our picture, as choosing it does (tests: no file chooser). */
void                natter_account_page_set_picture_file (NatterAccountPage *self,
                                                          GFile             *file);
/* The blocked users' list, as last loaded (rows named by username). */
GtkListBox         *natter_account_page_get_blocked (NatterAccountPage *self);

G_END_DECLS
