#define G_LOG_DOMAIN "natter-protocol"

#include "natter-error.h"

#include <string.h>

G_DEFINE_QUARK (natter-error-quark, natter_error)

/* Indexed by NatterErrorCode; these strings are the wire contract. */
static const char * const error_strings[NATTER_N_ERRORS] = {
  [NATTER_ERROR_BAD_FRAME]             = "bad_frame",
  [NATTER_ERROR_FRAME_TOO_LARGE]       = "frame_too_large",
  [NATTER_ERROR_UNKNOWN_TYPE]          = "unknown_type",
  [NATTER_ERROR_INVALID_ARGUMENT]      = "invalid_argument",
  [NATTER_ERROR_NOT_AUTHENTICATED]     = "not_authenticated",
  [NATTER_ERROR_ALREADY_AUTHENTICATED] = "already_authenticated",
  [NATTER_ERROR_AUTH_FAILED]           = "auth_failed",
  [NATTER_ERROR_USERNAME_TAKEN]        = "username_taken",
  [NATTER_ERROR_INVALID_USERNAME]      = "invalid_username",
  [NATTER_ERROR_WEAK_PASSWORD]         = "weak_password",
  [NATTER_ERROR_REGISTRATION_CLOSED]   = "registration_closed",
  [NATTER_ERROR_FORBIDDEN]             = "forbidden",
  [NATTER_ERROR_NOT_FOUND]             = "not_found",
  [NATTER_ERROR_CONFLICT]              = "conflict",
  [NATTER_ERROR_RATE_LIMITED]          = "rate_limited",
  [NATTER_ERROR_SERVER_BUSY]           = "server_busy",
  [NATTER_ERROR_INTERNAL]              = "internal",
  [NATTER_ERROR_FILE_TOO_LARGE]        = "file_too_large",
  [NATTER_ERROR_QUOTA_EXCEEDED]        = "quota_exceeded",
  [NATTER_ERROR_TOO_MANY_UPLOADS]      = "too_many_uploads",
  [NATTER_ERROR_HASH_MISMATCH]         = "hash_mismatch",
};

const char *
natter_error_code_to_string (NatterErrorCode code)
{
  /* An out-of-range code is a programming error; "internal" is the only
   * honest thing to tell a peer about it. */
  if ((guint) code >= NATTER_N_ERRORS)
    return "internal";

  return error_strings[code];
}

gboolean
natter_error_code_from_string (const char      *str,
                               NatterErrorCode *out_code)
{
  if (str == NULL)
    return FALSE;

  for (guint i = 0; i < NATTER_N_ERRORS; i++)
    {
      if (strcmp (str, error_strings[i]) == 0)
        {
          if (out_code != NULL)
            *out_code = (NatterErrorCode) i;
          return TRUE;
        }
    }

  return FALSE;
}
