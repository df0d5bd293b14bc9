/* natter-ui-util.c: text helpers shared by the widgets. */
#define G_LOG_DOMAIN "natter-ui-util"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "natter-error.h"
#include "natter-ui-util.h"
#include "natter-user-avatar.h"

const char *
natter_presence_css_class (NatterPresence presence)
{
  switch (presence)
    {
    case NATTER_PRESENCE_ONLINE: return "online";
    case NATTER_PRESENCE_AWAY:   return "away";
    case NATTER_PRESENCE_BUSY:   return "busy";
    case NATTER_PRESENCE_OFFLINE:
    default:                     return "offline";
    }
}

const char *
natter_presence_label (NatterPresence presence)
{
  switch (presence)
    {
    case NATTER_PRESENCE_ONLINE: return _("Online");
    case NATTER_PRESENCE_AWAY:   return _("Away");
    case NATTER_PRESENCE_BUSY:   return _("Busy");
    case NATTER_PRESENCE_OFFLINE:
    default:                     return _("Offline");
    }
}

char *
natter_presence_status_text (NatterUser *user)
{
  const char *status = natter_user_get_status_text (user);
  const char *presence = natter_presence_label (natter_user_get_presence (user));

  if (status != NULL && *status != '\0')
    /* Translators: a presence and a status text, "Busy — In a meeting". */
    return g_strdup_printf (_("%s — %s"), presence, status);
  return g_strdup (presence);
}

static GDateTime *
local_from_ms (gint64 ms)
{
  g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (ms / 1000);

  if (utc == NULL)
    return g_date_time_new_now_local ();
  return g_date_time_to_local (utc);
}

/* Days between the local calendar dates of @dt and now (0 = today). */
static int
days_ago (GDateTime *dt)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  GDate a, b;

  g_date_clear (&a, 1);
  g_date_clear (&b, 1);
  g_date_set_dmy (&a, g_date_time_get_day_of_month (dt),
                  g_date_time_get_month (dt), g_date_time_get_year (dt));
  g_date_set_dmy (&b, g_date_time_get_day_of_month (now),
                  g_date_time_get_month (now), g_date_time_get_year (now));
  return g_date_days_between (&a, &b);
}

char *
natter_format_clock (gint64 ms)
{
  g_autoptr(GDateTime) dt = local_from_ms (ms);

  return g_date_time_format (dt, "%H:%M");
}

char *
natter_format_time_short (gint64 ms)
{
  g_autoptr(GDateTime) dt = NULL;
  int days;

  if (ms <= 0)
    return g_strdup ("");

  dt = local_from_ms (ms);
  days = days_ago (dt);
  if (days <= 0)
    return g_date_time_format (dt, "%H:%M");
  if (days == 1)
    return g_strdup (_("Yesterday"));
  if (days < 7)
    return g_date_time_format (dt, "%a");
  /* Translators: a short date in the conversation list, see strftime(3). */
  return g_date_time_format (dt, _("%e %b"));
}

/* Minutes of the clock from @ms to @now_ms, not spans of 60 s: "1 min"
 * appears when the clock turns, as the window's timer (aligned to the
 * minute) refreshes. */
static gint64
clock_minutes (gint64 ms,
               gint64 now_ms)
{
  return now_ms / 60000 - ms / 60000;
}

char *
natter_format_time_relative (gint64 ms,
                             gint64 now_ms)
{
  gint64 minutes;

  if (ms <= 0)
    return g_strdup ("");

  minutes = clock_minutes (ms, now_ms);
  if (minutes <= 0)
    /* Translators: the time of a message sent in this very minute. */
    return g_strdup (_("Now"));
  if (minutes < 60)
    /* Translators: how long ago, in the conversation list; keep it short. */
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d min", "%d min", (gulong) minutes),
                            (int) minutes);
  return natter_format_time_short (ms);
}

char *
natter_format_last_seen (gint64 ms,
                         gint64 now_ms)
{
  gint64 minutes = clock_minutes (ms, now_ms);
  g_autofree char *when = NULL;

  if (minutes <= 0)
    /* Translators: the subtitle of a conversation with someone offline. */
    return g_strdup (_("Last seen just now"));
  if (minutes < 60)
    /* Translators: the subtitle of a conversation with someone offline. */
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Last seen %d minute ago",
                                         "Last seen %d minutes ago", (gulong) minutes),
                            (int) minutes);
  when = natter_format_time_short (ms);
  /* Translators: %s is a time ("14:03") or a day ("Yesterday"). */
  return g_strdup_printf (_("Last seen %s"), when);
}

char *
natter_format_day (gint64 ms)
{
  g_autoptr(GDateTime) dt = local_from_ms (ms);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  int days = days_ago (dt);

  if (days <= 0)
    return g_strdup (_("Today"));
  if (days == 1)
    return g_strdup (_("Yesterday"));
  if (g_date_time_get_year (dt) == g_date_time_get_year (now))
    /* Translators: a day separator in a conversation, see strftime(3). */
    return g_date_time_format (dt, _("%A, %e %B"));
  /* Translators: a day separator in a conversation, see strftime(3). */
  return g_date_time_format (dt, _("%A, %e %B %Y"));
}

gboolean
natter_same_day (gint64 a_ms,
                 gint64 b_ms)
{
  g_autoptr(GDateTime) a = local_from_ms (a_ms);
  g_autoptr(GDateTime) b = local_from_ms (b_ms);

  return g_date_time_get_year (a) == g_date_time_get_year (b) &&
         g_date_time_get_day_of_year (a) == g_date_time_get_day_of_year (b);
}

static void
append_escaped (GString    *out,
                const char *text,
                gssize      len)
{
  g_autofree char *escaped = g_markup_escape_text (text, len);

  g_string_append (out, escaped);
}

static gboolean
is_username_char (char c)
{
  return g_ascii_isalnum (c) || c == '_' || c == '.' || c == '-';
}

/* Escapes @len bytes of @text, with each mention of @mention ("@bob",
 * case aside, where protocol.md's rule would see one) in bold. */
static void
append_plain (GString    *out,
              const char *text,
              gssize      len,
              const char *mention)
{
  const char *end = len < 0 ? text + strlen (text) : text + len;
  const char *done = text;
  gsize n = mention != NULL ? strlen (mention) : 0;

  for (const char *p = text; n > 0 && p + 1 + n <= end; p++)
    {
      if (*p != '@' || (p > text && (is_username_char (p[-1]) || p[-1] == '@')) ||
          g_ascii_strncasecmp (p + 1, mention, n) != 0 ||
          (p + 1 + n < end && (g_ascii_isalnum (p[1 + n]) || p[1 + n] == '_')))
        continue;
      append_escaped (out, done, p - done);
      g_string_append (out, "<b>");
      append_escaped (out, p, 1 + n);
      g_string_append (out, "</b>");
      done = p + 1 + n;
      p = done - 1;
    }
  append_escaped (out, done, end - done);
}

char *
natter_linkify (const char *text)
{
  return natter_linkify_mention (text, NULL);
}

char *
natter_linkify_mention (const char *text,
                        const char *mention)
{
  static GRegex *url_regex;
  g_autoptr(GMatchInfo) match = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  const char *done = text;

  /* Matched on the raw text, so each piece is escaped exactly once and a
   * URL can never break out of its attribute. */
  if (g_once_init_enter (&url_regex))
    g_once_init_leave (&url_regex,
                       g_regex_new ("https?://[^\\s<>\"'`]+", G_REGEX_OPTIMIZE, 0, NULL));

  if (text == NULL)
    return g_strdup ("");

  g_regex_match (url_regex, text, 0, &match);
  while (g_match_info_matches (match))
    {
      int start, end;

      g_match_info_fetch_pos (match, 0, &start, &end);

      /* Sentence punctuation after a URL is not part of it. */
      while (end > start && strchr (".,;:!?)]}", text[end - 1]) != NULL)
        end--;

      if (end - start > (int) strlen ("https://"))
        {
          g_autofree char *url = g_markup_escape_text (text + start, end - start);

          append_plain (out, done, text + start - done, mention);
          g_string_append_printf (out, "<a href=\"%s\">%s</a>", url, url);
          done = text + end;
        }

      g_match_info_next (match, NULL);
    }
  append_plain (out, done, -1, mention);

  return g_string_free (g_steal_pointer (&out), FALSE);
}

char *
natter_describe_error (const GError *error)
{
  if (error == NULL)
    return g_strdup (_("Something went wrong."));

  if (error->domain == NATTER_CLIENT_ERROR)
    {
      switch ((NatterClientError) error->code)
        {
        case NATTER_CLIENT_ERROR_UNREACHABLE:
          return g_strdup (_("The server cannot be reached. Check the address and your network connection."));
        case NATTER_CLIENT_ERROR_NOT_CONNECTED:
        case NATTER_CLIENT_ERROR_CLOSED:
          return g_strdup (_("Not connected to the server right now. Try again in a moment."));
        case NATTER_CLIENT_ERROR_PROTOCOL:
          return g_strdup (_("The server answered in a way Natter does not understand."));
        case NATTER_CLIENT_ERROR_CERTIFICATE_UNKNOWN:
          return g_strdup (_("The server’s certificate is not known yet."));
        case NATTER_CLIENT_ERROR_CERTIFICATE_CHANGED:
          return g_strdup (_("The server’s certificate has changed."));
        default:
          break;
        }
    }
  else if (error->domain == NATTER_ERROR)
    {
      switch ((NatterErrorCode) error->code)
        {
        case NATTER_ERROR_AUTH_FAILED:
          return g_strdup (_("Wrong username or password."));
        case NATTER_ERROR_USERNAME_TAKEN:
          return g_strdup (_("That username is taken. Try another one."));
        case NATTER_ERROR_INVALID_USERNAME:
          return g_strdup (_("Usernames are 3 to 32 letters, digits, “_”, “.” or “-”, starting with a letter."));
        case NATTER_ERROR_WEAK_PASSWORD:
          return g_strdup (_("The password is too weak: use at least 8 characters."));
        case NATTER_ERROR_REGISTRATION_CLOSED:
          return g_strdup (_("This server does not accept new accounts."));
        case NATTER_ERROR_FORBIDDEN:
          return g_strdup (_("You are not allowed to do that."));
        case NATTER_ERROR_NOT_FOUND:
          return g_strdup (_("It does not exist (any more)."));
        case NATTER_ERROR_CONFLICT:
          return g_strdup (_("That name is already in use."));
        case NATTER_ERROR_RATE_LIMITED:
          return g_strdup (_("Too many attempts. Wait a little and try again."));
        case NATTER_ERROR_SERVER_BUSY:
          return g_strdup (_("The server is busy. Try again later."));
        case NATTER_ERROR_INVALID_ARGUMENT:
          return g_strdup (_("The server did not accept this: check what you entered."));
        default:
          break;
        }
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return g_strdup (_("Cancelled."));

  return g_strdup (_("Something went wrong. Try again."));
}

const char *
natter_user_title (NatterUser *user)
{
  if (user == NULL)
    return "";
  return natter_user_get_display_name (user);
}

void
natter_widget_unparent_children (GtkWidget *widget)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (widget)) != NULL)
    gtk_widget_unparent (child);
}

static void
user_row_update_subtitle (AdwActionRow *row,
                          GParamSpec   *pspec,
                          NatterUser   *user)
{
  g_autofree char *subtitle = NULL;

  if (!natter_user_presence_is_known (user))
    subtitle = g_strdup_printf ("@%s", natter_user_get_username (user));
  else
    {
      g_autofree char *presence = natter_presence_status_text (user);

      subtitle = g_strdup_printf ("@%s · %s", natter_user_get_username (user), presence);
    }
  adw_action_row_set_subtitle (row, subtitle);
}

GtkWidget *
natter_user_row_new (NatterUser *user,
                     int         avatar_size)
{
  GtkWidget *row = adw_action_row_new ();

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  g_object_bind_property (user, "display-name", row, "title", G_BINDING_SYNC_CREATE);
  /* Interned users change under our eyes: presence, status, and whether we
   * may see them at all (last_seen). */
  g_signal_connect_object (user, "notify", G_CALLBACK (user_row_update_subtitle), row, G_CONNECT_SWAPPED);
  user_row_update_subtitle (ADW_ACTION_ROW (row), NULL, user);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), natter_user_avatar_new (user, avatar_size));
  return row;
}

char *
natter_contact_request_notification_id (NatterUser *from)
{
  return g_strdup_printf ("contact-request-%s", natter_user_get_username (from));
}

char *
natter_contact_request_title (NatterUser *from)
{
  /* Translators: a toast and a notification for a contact request. */
  return g_strdup_printf (_("%s wants to add you as a contact"), natter_user_title (from));
}
