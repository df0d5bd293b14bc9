/* natter-validate.h: the value rules of the wire contract.
 *
 * Every rule lives here once, so that the server, the app and the tests agree
 * on what is valid. Functions that normalise return a newly allocated string,
 * or NULL with a NATTER_ERROR error of the code the contract gives for that
 * value (invalid_username for a username, invalid_argument otherwise).
 *
 * NULL is never valid: an optional field that is absent is the caller's
 * case to handle. "Characters" are Unicode code points of valid UTF-8, and
 * "control characters" are Unicode's Cc (C0, DEL and C1).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define NATTER_USERNAME_MIN        3
#define NATTER_USERNAME_MAX        32
#define NATTER_ROOM_NAME_MAX       64     /* characters after the '#' */
#define NATTER_DISPLAY_NAME_MAX    64     /* characters */
#define NATTER_BODY_MAX            16384  /* bytes */
#define NATTER_CLIENT_MSG_ID_MAX   64     /* bytes */
#define NATTER_STATUS_TEXT_MAX     128    /* characters */
#define NATTER_TOPIC_MAX           512    /* characters; the project's choice */
#define NATTER_PASSWORD_MIN        8      /* characters */
#define NATTER_PASSWORD_MAX        1024   /* bytes */
#define NATTER_REQUEST_ID_MAX      64     /* bytes of a string id */
#define NATTER_SEARCH_QUERY_MAX    256    /* bytes; the project's choice */
#define NATTER_EMOJI_MAX           32     /* bytes of a reaction; the project's choice */
#define NATTER_FILE_NAME_MAX       255    /* bytes of a shared file's name (feature files) */
#define NATTER_MIME_MIN            3      /* bytes of a shared file's type */
#define NATTER_MIME_MAX            127
#define NATTER_FILES_PER_MESSAGE   10     /* files one message may carry */
#define NATTER_IMAGE_SIDE_MAX      65535  /* an image's width or height, in pixels */

typedef enum {
  NATTER_PRESENCE_OFFLINE,
  NATTER_PRESENCE_AWAY,
  NATTER_PRESENCE_BUSY,
  NATTER_PRESENCE_ONLINE,
} NatterPresence; /* ordered: a larger value is more available */

typedef enum {
  NATTER_ADDRESS_USER, /* "@bob" */
  NATTER_ADDRESS_ROOM, /* "#general" */
} NatterAddressKind;

/* "alice" from "Alice"; invalid_username when it breaks the rules. */
char       *natter_username_normalize     (const char *username, GError **error);
/* TRUE for an already-normalised (lower-case) valid username. */
gboolean    natter_username_is_valid      (const char *username);

/* "#general" (with the '#'), unchanged; invalid_argument otherwise. */
gboolean    natter_room_name_is_valid     (const char *room);

/* "@bob" → (USER, "bob"), "#general" → (ROOM, "#general"); the user part
 * is normalised to lower case. invalid_argument for anything else. */
gboolean    natter_address_parse          (const char        *address,
                                           NatterAddressKind *out_kind,
                                           char             **out_name,
                                           GError           **error);

gboolean    natter_display_name_is_valid  (const char *name);
gboolean    natter_status_text_is_valid   (const char *text);
gboolean    natter_topic_is_valid         (const char *topic);   /* may be empty */
gboolean    natter_body_is_valid          (const char *body, gsize len);
gboolean    natter_client_msg_id_is_valid (const char *id);
/* A reaction: 1 to NATTER_EMOJI_MAX bytes of UTF-8 without white space or
 * control characters (meant to be one emoji; not checked to be one). */
gboolean    natter_emoji_is_valid         (const char *emoji);
/* A shared file's name (feature files): 1 to NATTER_FILE_NAME_MAX bytes
 * of UTF-8 without control characters, '/' or '\\', not "." or "..". */
gboolean    natter_file_name_is_valid     (const char *name);
/* A shared file's type: "type/subtype", NATTER_MIME_MIN to
 * NATTER_MIME_MAX bytes of ASCII letters, digits and !#$&-^_.+ around
 * one '/', neither side empty. */
gboolean    natter_mime_is_valid          (const char *mime);
/* A SHA-256 as the protocol writes it (a file's, a picture's): 64
 * lower-case hexadecimal digits. */
gboolean    natter_sha256_is_valid        (const char *sha256);
/* weak_password when under NATTER_PASSWORD_MIN characters or over
 * NATTER_PASSWORD_MAX bytes, or not valid UTF-8. */
gboolean    natter_password_check         (const char *password, GError **error);

const char *natter_presence_to_string     (NatterPresence presence);
/* Accepts "online", "away", "busy" and, only if @allow_offline, "offline". */
gboolean    natter_presence_from_string   (const char     *str,
                                           gboolean        allow_offline,
                                           NatterPresence *out);

G_END_DECLS
