/* natter-features.c: the names of the extensions of protocol 1. */
#include "config.h"

#include <string.h>

#include "natter-features.h"

/* In the same order as their bits. */
const char *const natter_features_offered[] = {
  "message_actions",
  "room_management",
  "files",
  "accounts",
  NULL,
};

NatterFeature
natter_feature_from_name (const char *name)
{
  for (guint i = 0; natter_features_offered[i] != NULL; i++)
    if (g_strcmp0 (name, natter_features_offered[i]) == 0)
      return (NatterFeature) (1u << i);
  return 0;
}

const char *
natter_feature_name (NatterFeature feature)
{
  for (guint i = 0; natter_features_offered[i] != NULL; i++)
    if (feature == (NatterFeature) (1u << i))
      return natter_features_offered[i];
  return NULL;
}
