#define G_LOG_DOMAIN "natter-protocol"

#include "natter-validate.h"
#include "natter-error.h"

#include <string.h>

static gboolean
is_username_char (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '_' || c == '.' || c == '-';
}

/* Checks a username, optionally folding ASCII upper case into @folded
 * (at least NATTER_USERNAME_MAX + 1 bytes). Any non-ASCII byte is invalid,
 * so byte and character counts agree. */
static gboolean
check_username (const char *username,
                gboolean    fold,
                char       *folded)
{
  gsize len;

  if (username == NULL)
    return FALSE;

  len = strlen (username);
  if (len < NATTER_USERNAME_MIN || len > NATTER_USERNAME_MAX)
    return FALSE;

  for (gsize i = 0; i < len; i++)
    {
      char c = username[i];

      if (fold && c >= 'A' && c <= 'Z')
        c = (char) (c - 'A' + 'a');
      if (!is_username_char (c))
        return FALSE;
      if (i == 0 && !(c >= 'a' && c <= 'z'))
        return FALSE;
      if (folded != NULL)
        folded[i] = c;
    }

  if (folded != NULL)
    folded[len] = '\0';

  return TRUE;
}

char *
natter_username_normalize (const char  *username,
                           GError     **error)
{
  char folded[NATTER_USERNAME_MAX + 1];

  if (!check_username (username, TRUE, folded))
    {
      g_set_error_literal (error, NATTER_ERROR, NATTER_ERROR_INVALID_USERNAME,
                           "a username is 3 to 32 characters of a-z, 0-9, '_', '.' "
                           "and '-', starting with a letter");
      return NULL;
    }

  return g_strdup (folded);
}

gboolean
natter_username_is_valid (const char *username)
{
  return check_username (username, FALSE, NULL);
}

gboolean
natter_room_name_is_valid (const char *room)
{
  gsize len;

  if (room == NULL || room[0] != '#')
    return FALSE;

  len = strlen (room + 1);
  if (len < 1 || len > NATTER_ROOM_NAME_MAX)
    return FALSE;

  for (const char *p = room + 1; *p != '\0'; p++)
    {
      char c = *p;

      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
        return FALSE;
    }

  return TRUE;
}

gboolean
natter_address_parse (const char         *address,
                      NatterAddressKind  *out_kind,
                      char              **out_name,
                      GError            **error)
{
  char folded[NATTER_USERNAME_MAX + 1];

  if (address != NULL && address[0] == '@' &&
      check_username (address + 1, TRUE, folded))
    {
      if (out_kind != NULL)
        *out_kind = NATTER_ADDRESS_USER;
      if (out_name != NULL)
        *out_name = g_strdup (folded);
      return TRUE;
    }

  if (natter_room_name_is_valid (address))
    {
      if (out_kind != NULL)
        *out_kind = NATTER_ADDRESS_ROOM;
      if (out_name != NULL)
        *out_name = g_strdup (address);
      return TRUE;
    }

  g_set_error_literal (error, NATTER_ERROR, NATTER_ERROR_INVALID_ARGUMENT,
                       "an address is \"@username\" or \"#room\"");
  return FALSE;
}

typedef enum {
  ALLOW_NEWLINE_TAB = 1 << 0, /* \n and \t may appear */
  REQUIRE_NON_SPACE = 1 << 1, /* not only white space */
} TextFlags;

/* The shared rule: valid UTF-8 (no NUL), @min_chars..@max_chars characters,
 * no control characters (Unicode Cc: C0, DEL and C1) but the allowed ones. */
static gboolean
check_text (const char *text,
            gssize      len,
            glong       min_chars,
            glong       max_chars,
            TextFlags   flags)
{
  const char *end;
  const char *p;
  glong chars = 0;
  gboolean seen_non_space = FALSE;

  if (text == NULL)
    return FALSE;
  if (len < 0)
    len = (gssize) strlen (text);
  if (!g_utf8_validate_len (text, (gsize) len, NULL))
    return FALSE;

  end = text + len;
  for (p = text; p < end; p = g_utf8_next_char (p))
    {
      guchar byte = (guchar) *p;
      gunichar c;

      if (++chars > max_chars)
        return FALSE;

      if (byte < 0x80)
        {
          /* ASCII, most of any message: the same rules as below without
           * the Unicode tables, which cost a send a few percent of its
           * CPU (profile of natterd, docs/performance.md). */
          if (byte < 0x20 || byte == 0x7f)
            {
              if (!((flags & ALLOW_NEWLINE_TAB) && (byte == '\n' || byte == '\t')))
                return FALSE;
            }
          else if (byte != ' ')
            seen_non_space = TRUE;
          continue;
        }

      c = g_utf8_get_char (p);
      if (g_unichar_type (c) == G_UNICODE_CONTROL)
        {
          if (!((flags & ALLOW_NEWLINE_TAB) && (c == '\n' || c == '\t')))
            return FALSE;
        }

      if (!g_unichar_isspace (c))
        seen_non_space = TRUE;
    }

  if (chars < min_chars)
    return FALSE;

  if ((flags & REQUIRE_NON_SPACE) && !seen_non_space)
    return FALSE;

  return TRUE;
}

gboolean
natter_display_name_is_valid (const char *name)
{
  return check_text (name, -1, 1, NATTER_DISPLAY_NAME_MAX, REQUIRE_NON_SPACE);
}

gboolean
natter_status_text_is_valid (const char *text)
{
  return check_text (text, -1, 0, NATTER_STATUS_TEXT_MAX, 0);
}

gboolean
natter_topic_is_valid (const char *topic)
{
  return check_text (topic, -1, 0, NATTER_TOPIC_MAX, 0);
}

gboolean
natter_body_is_valid (const char *body,
                      gsize       len)
{
  if (body == NULL || len < 1 || len > NATTER_BODY_MAX)
    return FALSE;

  /* At most NATTER_BODY_MAX bytes means at most that many characters. */
  return check_text (body, (gssize) len, 1, NATTER_BODY_MAX,
                     ALLOW_NEWLINE_TAB | REQUIRE_NON_SPACE);
}

gboolean
natter_client_msg_id_is_valid (const char *id)
{
  gsize len;

  if (id == NULL)
    return FALSE;

  len = strlen (id);
  if (len < 1 || len > NATTER_CLIENT_MSG_ID_MAX)
    return FALSE;

  return check_text (id, (gssize) len, 1, NATTER_CLIENT_MSG_ID_MAX, 0);
}

gboolean
natter_emoji_is_valid (const char *emoji)
{
  gsize len;

  if (emoji == NULL)
    return FALSE;
  len = strlen (emoji);
  if (len < 1 || len > NATTER_EMOJI_MAX || !g_utf8_validate (emoji, (gssize) len, NULL))
    return FALSE;
  /* No white space (of any script) and no control character: a reaction
   * is shown as one glyph, and the store keeps a message's reactions as
   * "emoji user user" lines, split at spaces. */
  for (const char *p = emoji; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_isspace (c) || g_unichar_iscntrl (c) ||
          g_unichar_type (c) == G_UNICODE_SPACE_SEPARATOR ||
          g_unichar_type (c) == G_UNICODE_LINE_SEPARATOR ||
          g_unichar_type (c) == G_UNICODE_PARAGRAPH_SEPARATOR)
        return FALSE;
    }
  return TRUE;
}

gboolean
natter_password_check (const char  *password,
                       GError     **error)
{
  gsize len = password != NULL ? strlen (password) : 0;

  if (password == NULL || len > NATTER_PASSWORD_MAX ||
      !g_utf8_validate_len (password, len, NULL) ||
      g_utf8_strlen (password, (gssize) len) < NATTER_PASSWORD_MIN)
    {
      /* The message never quotes the password. */
      g_set_error_literal (error, NATTER_ERROR, NATTER_ERROR_WEAK_PASSWORD,
                           "a password is 8 to 1024 bytes of UTF-8, "
                           "at least 8 characters");
      return FALSE;
    }

  return TRUE;
}

static const char * const presence_strings[] = {
  [NATTER_PRESENCE_OFFLINE] = "offline",
  [NATTER_PRESENCE_AWAY]    = "away",
  [NATTER_PRESENCE_BUSY]    = "busy",
  [NATTER_PRESENCE_ONLINE]  = "online",
};

const char *
natter_presence_to_string (NatterPresence presence)
{
  if ((guint) presence >= G_N_ELEMENTS (presence_strings))
    return "offline";

  return presence_strings[presence];
}

gboolean
natter_presence_from_string (const char     *str,
                             gboolean        allow_offline,
                             NatterPresence *out)
{
  if (str == NULL)
    return FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (presence_strings); i++)
    {
      if (strcmp (str, presence_strings[i]) != 0)
        continue;
      if (i == NATTER_PRESENCE_OFFLINE && !allow_offline)
        return FALSE;
      if (out != NULL)
        *out = (NatterPresence) i;
      return TRUE;
    }

  return FALSE;
}

gboolean
natter_file_name_is_valid (const char *name)
{
  gsize len;

  if (name == NULL)
    return FALSE;
  len = strlen (name);
  if (len < 1 || len > NATTER_FILE_NAME_MAX || strpbrk (name, "/\\") != NULL ||
      strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
    return FALSE;
  return check_text (name, (gssize) len, 1, NATTER_FILE_NAME_MAX, 0);
}

gboolean
natter_sha256_is_valid (const char *sha256)
{
  gsize i;

  if (sha256 == NULL)
    return FALSE;
  for (i = 0; sha256[i] != '\0'; i++)
    if (!g_ascii_isdigit (sha256[i]) && !(sha256[i] >= 'a' && sha256[i] <= 'f'))
      return FALSE;
  return i == 64;
}

gboolean
natter_mime_is_valid (const char *mime)
{
  const char *slash;
  gsize len;

  if (mime == NULL)
    return FALSE;
  len = strlen (mime);
  slash = strchr (mime, '/');
  if (len < NATTER_MIME_MIN || len > NATTER_MIME_MAX || slash == NULL || slash == mime ||
      slash[1] == '\0' || strchr (slash + 1, '/') != NULL)
    return FALSE;
  for (const char *p = mime; *p != '\0'; p++)
    if (p != slash && !g_ascii_isalnum (*p) && strchr ("!#$&-^_.+", *p) == NULL)
      return FALSE;
  return TRUE;
}
