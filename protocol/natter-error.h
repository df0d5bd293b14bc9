/* natter-error.h: the error codes of the wire contract (protocol 1).
 *
 * Every error a peer can be told about has one code here, and one string
 * that travels in the `code` field of an `error` frame.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define NATTER_ERROR (natter_error_quark ())

typedef enum {
  NATTER_ERROR_BAD_FRAME,
  NATTER_ERROR_FRAME_TOO_LARGE,
  NATTER_ERROR_UNKNOWN_TYPE,
  NATTER_ERROR_INVALID_ARGUMENT,
  NATTER_ERROR_NOT_AUTHENTICATED,
  NATTER_ERROR_ALREADY_AUTHENTICATED,
  NATTER_ERROR_AUTH_FAILED,
  NATTER_ERROR_USERNAME_TAKEN,
  NATTER_ERROR_INVALID_USERNAME,
  NATTER_ERROR_WEAK_PASSWORD,
  NATTER_ERROR_REGISTRATION_CLOSED,
  NATTER_ERROR_FORBIDDEN,
  NATTER_ERROR_NOT_FOUND,
  NATTER_ERROR_CONFLICT,
  NATTER_ERROR_RATE_LIMITED,
  NATTER_ERROR_SERVER_BUSY,
  NATTER_ERROR_INTERNAL,
  /* Feature files (docs/protocol.md, "Files"). */
  NATTER_ERROR_FILE_TOO_LARGE,
  NATTER_ERROR_QUOTA_EXCEEDED,
  NATTER_ERROR_TOO_MANY_UPLOADS,
  NATTER_ERROR_HASH_MISMATCH,
  NATTER_N_ERRORS,
} NatterErrorCode;

GQuark      natter_error_quark       (void);

/* The wire string of @code, such as "bad_frame". */
const char *natter_error_code_to_string   (NatterErrorCode code);

/* The code of a wire string; FALSE for a string this version does not know. */
gboolean    natter_error_code_from_string (const char      *str,
                                           NatterErrorCode *out_code);

G_END_DECLS
