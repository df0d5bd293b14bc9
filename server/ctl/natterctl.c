/* natterctl: the operator's tool. It talks to a running natterd over the
 * admin socket in natterd's data directory (server/chat/natterd-admin.c;
 * docs/server.md, "natterctl"): one JSON request line, one reply line.
 *
 * Exit status: 0 done; 1 natterd refused or failed the request (its
 * message on stderr); 2 a bad command line; 3 natterd could not be
 * reached (not running, another data directory, no permission); 4 what
 * was named does not exist (a user, a session, an invitation, a room, a
 * member); 5 natterctl backup on a database it cannot copy (PostgreSQL:
 * use pg_dump). A room delete the operator answered no to exits 1, as
 * does a backup to a file that exists.
 */
#define G_LOG_DOMAIN "natterctl"

#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <json-glib/json-glib.h>
#include <sodium.h>

#include "natter-json.h"

#define EXIT_REFUSED     1
#define EXIT_USAGE       2
#define EXIT_UNREACHABLE 3
#define EXIT_NOT_FOUND   4
#define EXIT_UNSUPPORTED 5

#define SOCKET_NAME      "natterd.sock"
#define MAX_REPLY        (16 * 1024 * 1024)
#define TIMEOUT_SECONDS  60

static char *opt_data_dir;
static char *opt_socket;
static gboolean opt_json;
/* Seconds natterctl waits for natterd (0: no limit, for a backup). */
static guint call_timeout = TIMEOUT_SECONDS;
/* How an error "forbidden" exits (backup: the database cannot be copied). */
static int exit_forbidden = EXIT_REFUSED;

/* --- talking to natterd --- */

/* natterd's own default data directory (docs/server.md). */
static char *
default_socket_path (void)
{
  const char *state_dir = g_getenv ("STATE_DIRECTORY");

  if (opt_socket != NULL)
    return g_strdup (opt_socket);
  if (opt_data_dir != NULL)
    return g_build_filename (opt_data_dir, SOCKET_NAME, NULL);
  if (state_dir != NULL && *state_dir != '\0')
    return g_build_filename (state_dir, SOCKET_NAME, NULL);
  return g_build_filename (g_get_user_data_dir (), "natterd", SOCKET_NAME, NULL);
}

/* Sends @request (a JSON object's text) and returns natterd's reply, or
 * exits with a message. */
static JsonObject *
call (const char *request)
{
  g_autofree char *path = default_socket_path ();
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketAddress) address = g_unix_socket_address_new (path);
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GDataInputStream) in = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *line = NULL;
  g_autofree char *framed = g_strconcat (request, "\n", NULL);
  JsonObject *reply = NULL;
  gsize len = 0;

  g_socket_client_set_timeout (client, call_timeout);
  connection = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (address), NULL, &error);
  if (connection == NULL)
    {
      g_printerr ("natterctl: cannot reach natterd at %s: %s\n", path, error->message);
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) ||
          g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
        g_printerr ("natterctl: is natterd running with this data directory? (--data-dir DIR or --socket PATH)\n");
      else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED))
        g_printerr ("natterctl: run natterctl as natterd's user, or as root\n");
      exit (EXIT_UNREACHABLE);
    }
  if (!g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (connection)),
                                  framed, strlen (framed), NULL, NULL, &error))
    {
      g_printerr ("natterctl: cannot write to natterd: %s\n", error->message);
      exit (EXIT_UNREACHABLE);
    }
  in = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (connection)));
  g_buffered_input_stream_set_buffer_size (G_BUFFERED_INPUT_STREAM (in), 65536);
  line = g_data_input_stream_read_line (in, &len, NULL, &error);
  if (line == NULL || len > MAX_REPLY)
    {
      g_printerr ("natterctl: natterd did not answer: %s\n", error != NULL ? error->message : "connection closed");
      exit (EXIT_UNREACHABLE);
    }
  node = natter_json_parse_frame (line, len, &reply, &error);
  if (node == NULL)
    {
      g_printerr ("natterctl: natterd's answer is not understood: %s\n", error->message);
      exit (EXIT_REFUSED);
    }
  reply = json_object_ref (reply);
  if (g_str_equal (json_object_get_string_member (reply, "type"), "error"))
    {
      const char *code = json_object_get_string_member_with_default (reply, "code", "");

      g_printerr ("natterctl: %s\n", json_object_get_string_member_with_default (reply, "message", code));
      exit (g_str_equal (code, "not_found") ? EXIT_NOT_FOUND
            : g_str_equal (code, "forbidden") ? exit_forbidden : EXIT_REFUSED);
    }
  return reply;
}

/* A request object's text from key/value pairs (strings, NULL ends;
 * a NULL value leaves the key out). */
static char *
request_text (const char *type,
              ...)
{
  GString *out = g_string_new (NULL);
  NatterJsonWriter w;
  va_list args;
  const char *key;

  natter_json_writer_init (&w, out);
  natter_json_writer_begin_object (&w);
  natter_json_writer_key (&w, "type");
  natter_json_writer_string (&w, type);
  va_start (args, type);
  while ((key = va_arg (args, const char *)) != NULL)
    {
      const char *value = va_arg (args, const char *);

      if (value == NULL)
        continue;
      natter_json_writer_key (&w, key);
      /* A leading '=' marks a JSON value written as it is (numbers, booleans). */
      if (value[0] == '=')
        natter_json_writer_raw (&w, value + 1, strlen (value + 1));
      else
        natter_json_writer_string (&w, value);
    }
  va_end (args);
  natter_json_writer_end_object (&w);
  return g_string_free (out, FALSE);
}

/* With --json, the reply as natterd gave it, without its "type". */
static gboolean
print_json (JsonObject *reply)
{
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *text = NULL;

  if (!opt_json)
    return FALSE;
  json_object_remove_member (reply, "type");
  node = json_node_init_object (json_node_alloc (), reply);
  text = natter_json_to_string (node);
  g_print ("%s\n", text);
  return TRUE;
}

static char *
format_time (gint64 ms)
{
  g_autoptr(GDateTime) time = NULL;

  if (ms <= 0)
    return g_strdup ("-");
  time = g_date_time_new_from_unix_utc (ms / 1000);
  return g_date_time_format (time, "%Y-%m-%d %H:%M:%SZ");
}

/* --- command lines --- */

typedef struct Command Command;
struct Command {
  const char *group;     /* "user", or NULL for a command of its own */
  const char *name;
  const char *args;      /* for the usage line */
  const char *summary;
  int (*run) (const Command *command, int argc, char **argv);
  const GOptionEntry *options;
};

/* Parses @command's options (and --help) out of argv; @n_args is how
 * many words must be left after them (-1: any). */
static void
parse_command (const Command *command,
               int           *argc,
               char        ***argv,
               int            n_args)
{
  g_autofree char *usage = g_strdup_printf ("%s%s%s %s", command->group ? command->group : "",
                                            command->group ? " " : "", command->name, command->args);
  g_autoptr(GOptionContext) context = g_option_context_new (usage);
  g_autoptr(GError) error = NULL;

  g_option_context_set_summary (context, command->summary);
  if (command->options != NULL)
    g_option_context_add_main_entries (context, command->options, NULL);
  if (!g_option_context_parse (context, argc, argv, &error))
    {
      g_printerr ("natterctl: %s\n", error->message);
      exit (EXIT_USAGE);
    }
  /* argv[0] is the command's name. */
  if (n_args >= 0 && *argc - 1 != n_args)
    {
      g_printerr ("natterctl: usage: natterctl %s\n", usage);
      exit (EXIT_USAGE);
    }
}

/* A password from standard input: one line, or, on a terminal, typed
 * twice without echo. Never from the command line, where every user of
 * the machine could read it in the process list. */
static char *
read_password (void)
{
  char buffer[2048];
  g_autofree char *first = NULL;
  struct termios saved, quiet;
  gboolean tty = isatty (STDIN_FILENO);

  for (int round = 0; round < (tty ? 2 : 1); round++)
    {
      char *line;

      if (tty)
        {
          g_printerr (round == 0 ? "New password: " : "Again: ");
          tcgetattr (STDIN_FILENO, &saved);
          quiet = saved;
          quiet.c_lflag &= ~ECHO;
          tcsetattr (STDIN_FILENO, TCSANOW, &quiet);
        }
      line = fgets (buffer, sizeof buffer, stdin);
      if (tty)
        {
          tcsetattr (STDIN_FILENO, TCSANOW, &saved);
          g_printerr ("\n");
        }
      if (line == NULL)
        {
          g_printerr ("natterctl: no password on standard input\n");
          exit (EXIT_USAGE);
        }
      buffer[strcspn (buffer, "\r\n")] = '\0';
      if (round == 0)
        first = g_strdup (buffer);
      else if (!g_str_equal (first, buffer))
        {
          sodium_memzero (buffer, sizeof buffer);
          g_printerr ("natterctl: the passwords differ\n");
          exit (EXIT_USAGE);
        }
    }
  sodium_memzero (buffer, sizeof buffer);
  return g_steal_pointer (&first);
}

/* 20 random letters and digits: ~119 bits. */
static char *
generate_secret (gsize length)
{
  static const char alphabet[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  char *out = g_malloc (length + 1);

  for (gsize i = 0; i < length; i++)
    out[i] = alphabet[randombytes_uniform (sizeof alphabet - 1)];
  out[length] = '\0';
  return out;
}

static gboolean opt_generate;
static char *opt_display_name;

static const GOptionEntry password_options[] = {
  { "generate-password", 'g', 0, G_OPTION_ARG_NONE, &opt_generate,
    "Make up a password and print it, instead of reading one from standard input", NULL },
  { NULL }
};

static const GOptionEntry add_options[] = {
  { "display-name", 'n', 0, G_OPTION_ARG_STRING, &opt_display_name, "The name shown (default: the username)", "NAME" },
  { "generate-password", 'g', 0, G_OPTION_ARG_NONE, &opt_generate,
    "Make up a password and print it, instead of reading one from standard input", NULL },
  { NULL }
};

/* The password the operator gives or natterctl makes (printed then). */
static char *
new_password (void)
{
  if (opt_generate)
    return generate_secret (20);
  return read_password ();
}

static void
finish_password (JsonObject *reply,
                 const char *password)
{
  if (opt_json)
    {
      if (opt_generate)
        json_object_set_string_member (reply, "password", password);
      print_json (reply);
    }
  else if (opt_generate)
    g_print ("%s\n", password);
}

/* --- the commands --- */

static int
run_status (const Command *command, int argc, char **argv)
{
  g_autoptr(JsonObject) reply = NULL;
  gint64 uptime;

  parse_command (command, &argc, &argv, 0);
  reply = call ("{\"type\":\"status\"}");
  if (print_json (reply))
    return 0;
  uptime = json_object_get_int_member (reply, "uptime");
  g_print ("version              %s\n", json_object_get_string_member (reply, "version"));
  g_print ("uptime               %" G_GINT64_FORMAT "d %02" G_GINT64_FORMAT ":%02" G_GINT64_FORMAT ":%02" G_GINT64_FORMAT "\n",
           uptime / 86400, uptime / 3600 % 24, uptime / 60 % 60, uptime % 60);
  g_print ("connections          %" G_GINT64_FORMAT "\n", json_object_get_int_member (reply, "connections"));
  g_print ("users online         %" G_GINT64_FORMAT "\n", json_object_get_int_member (reply, "users_online"));
  g_print ("users                %" G_GINT64_FORMAT "\n", json_object_get_int_member (reply, "users"));
  g_print ("rooms                %" G_GINT64_FORMAT "\n", json_object_get_int_member (reply, "rooms"));
  g_print ("messages stored      %" G_GINT64_FORMAT "\n", json_object_get_int_member (reply, "messages_stored"));
  g_print ("database size        %.1f MiB (%s)\n", json_object_get_int_member (reply, "database_bytes") / 1048576.0,
           json_object_get_string_member (reply, "database"));
  g_print ("messages per second  %.2f (last minute)\n", json_object_get_double_member (reply, "messages_per_second"));
  g_print ("registration         %s\n", json_object_get_string_member (reply, "registration"));
  g_print ("logins abandoned     %" G_GINT64_FORMAT " (their client left before a hash thread was free)\n",
           json_object_get_int_member (reply, "logins_abandoned"));
  return 0;
}

static int
run_registration (const Command *command, int argc, char **argv)
{
  g_autoptr(JsonObject) reply = NULL;
  g_autofree char *request = NULL;

  parse_command (command, &argc, &argv, -1);
  if (argc > 2 || (argc == 2 && !g_str_equal (argv[1], "open") && !g_str_equal (argv[1], "closed") &&
                   !g_str_equal (argv[1], "invite")))
    {
      g_printerr ("natterctl: usage: natterctl registration [open|closed|invite]\n");
      return EXIT_USAGE;
    }
  request = request_text ("registration", "mode", argc == 2 ? argv[1] : NULL, NULL);
  reply = call (request);
  if (!print_json (reply))
    g_print ("%s\n", json_object_get_string_member (reply, "mode"));
  return 0;
}

static int
run_room_list (const Command *command, int argc, char **argv)
{
  g_autoptr(JsonObject) reply = NULL;
  JsonArray *rooms;

  parse_command (command, &argc, &argv, 0);
  reply = call ("{\"type\":\"room_list\"}");
  if (print_json (reply))
    return 0;
  rooms = json_object_get_array_member (reply, "rooms");
  for (guint i = 0; i < json_array_get_length (rooms); i++)
    {
      JsonObject *room = json_array_get_object_element (rooms, i);

      g_print ("%-24s %5" G_GINT64_FORMAT " members  owner %-16s %s\n",
               json_object_get_string_member (room, "room"), json_object_get_int_member (room, "member_count"),
               json_object_get_string_member (room, "owner"), json_object_get_string_member (room, "topic"));
    }
  return 0;
}

/* "#general", or "general" with its '#' added: an unquoted # starts a
 * comment in the shell. */
static char *
room_arg (const char *text)
{
  return text[0] == '#' ? g_strdup (text) : g_strconcat ("#", text, NULL);
}

static gboolean opt_yes;

static const GOptionEntry delete_options[] = {
  { "yes", 'y', 0, G_OPTION_ARG_NONE, &opt_yes, "Do not ask: delete (needed when standard input is not a terminal)", NULL },
  { NULL }
};

/* Whether the operator typed yes to @question on the terminal. */
static gboolean
confirm (const char *question)
{
  char answer[64];

  g_printerr ("%s [y/N] ", question);
  if (fgets (answer, sizeof answer, stdin) == NULL)
    return FALSE;
  g_strstrip (answer);
  return g_ascii_strcasecmp (answer, "y") == 0 || g_ascii_strcasecmp (answer, "yes") == 0;
}

/* Nothing brings a deleted room or account back: a person says so, or a
 * script says --yes; a script that forgot it must not delete by accident.
 * 0 to go on, or the exit status. */
static int
confirm_delete (const Command *command,
                const char    *what,
                const char    *question)
{
  if (opt_yes)
    return 0;
  if (!isatty (STDIN_FILENO))
    {
      g_printerr ("natterctl: %s %s asks on a terminal; without one, give --yes\n", command->group, command->name);
      return EXIT_USAGE;
    }
  if (!confirm (question))
    {
      g_printerr ("natterctl: %s not deleted\n", what);
      return EXIT_REFUSED;
    }
  return 0;
}

static int
run_room_delete (const Command *command, int argc, char **argv)
{
  g_autoptr(JsonObject) reply = NULL;
  g_autofree char *request = NULL;
  g_autofree char *room = NULL;
  g_autofree char *question = NULL;
  int status;

  parse_command (command, &argc, &argv, 1);
  room = room_arg (argv[1]);
  question = g_strdup_printf ("Delete %s, its messages and files, for everyone? This cannot be undone.", room);
  if ((status = confirm_delete (command, room, question)) != 0)
    return status;
  request = request_text ("room_delete", "room", room, NULL);
  reply = call (request);
  if (!print_json (reply))
    g_print ("deleted %s\n", json_object_get_string_member (reply, "room"));
  return 0;
}

static int
run_room_set_owner (const Command *command, int argc, char **argv)
{
  g_autoptr(JsonObject) reply = NULL;
  g_autofree char *request = NULL;
  g_autofree char *room = NULL;

  parse_command (command, &argc, &argv, 2);
  room = room_arg (argv[1]);
  request = request_text ("room_set_owner", "room", room, "username", argv[2], NULL);
  reply = call (request);
  if (!print_json (reply))
    g_print ("%s is owned by %s\n", json_object_get_string_member (reply, "room"),
             json_object_get_string_member (reply, "owner"));
  return 0;
}

static int
run_user_list (const Command *command, int argc, char **argv)
{
  g_autoptr(JsonObject) reply = NULL;
  JsonArray *users;

  parse_command (command, &argc, &argv, 0);
  reply = call ("{\"type\":\"user_list\"}");
  if (print_json (reply))
    return 0;
  users = json_object_get_array_member (reply, "users");
  for (guint i = 0; i < json_array_get_length (users); i++)
    {
      JsonObject *user = json_array_get_object_element (users, i);

      g_print ("%-32s %-8s %3" G_GINT64_FORMAT " connections  %s%s\n",
               json_object_get_string_member (user, "username"), json_object_get_string_member (user, "presence"),
               json_object_get_int_member (user, "connections"), json_object_get_string_member (user, "display_name"),
               json_object_get_boolean_member_with_default (user, "disabled", FALSE) ? "  (disabled)" :
               json_object_get_boolean_member_with_default (user, "deleted", FALSE) ? "  (deleted)" : "");
    }
  return 0;
}

/* One username, a short answer. */
static int
call_user_simple (const char *username, const char *type, const char *done)
{
  g_autoptr(JsonObject) reply = NULL;
  g_autofree char *request = NULL;

  request = request_text (type, "username", username, NULL);
  reply = call (request);
  if (!print_json (reply))
    g_print ("%s %s (%" G_GINT64_FORMAT " sessions revoked)\n", done, json_object_get_string_member (reply, "username"),
             json_object_get_int_member_with_default (reply, "sessions_revoked", 0));
  return 0;
}

/* "user disable NAME" and the like. */
static int
run_user_simple (const Command *command, int argc, char **argv, const char *type, const char *done)
{
  parse_command (command, &argc, &argv, 1);
  return call_user_simple (argv[1], type, done);
}

static int
run_user_disable (const Command *command, int argc, char **argv)
{
  return run_user_simple (command, argc, argv, "user_disable", "disabled");
}

/* As account_delete, without the password: the account's connections
 * closed, its contacts, rooms and invitations gone, its messages kept
 * under its username, which nobody can take again. */
static int
run_user_delete (const Command *command, int argc, char **argv)
{
  g_autofree char *question = NULL;
  int status;

  parse_command (command, &argc, &argv, 1);
  question = g_strdup_printf ("Delete the account %s? Its messages stay in others' conversations; "
                              "the account cannot be brought back.", argv[1]);
  if ((status = confirm_delete (command, argv[1], question)) != 0)
    return status;
  return call_user_simple (argv[1], "user_delete", "deleted");
}

static int
run_user_enable (const Command *command, int argc, char **argv)
{
  return run_user_simple (command, argc, argv, "user_enable", "enabled");
}

/* user add and user reset-password: a username and a new password. */
static int
run_password_command (const Command *command, int argc, char **argv, const char *type)
{
  g_autoptr(JsonObject) reply = NULL;
  g_autofree char *request = NULL;
  g_autofree char *password = NULL;

  parse_command (command, &argc, &argv, 1);
  password = new_password ();
  request = request_text (type, "username", argv[1], "password", password, "display_name", opt_display_name, NULL);
  reply = call (request);
  sodium_memzero (request, strlen (request));
  if (!opt_json && !opt_generate)
    g_print ("%s %s (%" G_GINT64_FORMAT " sessions revoked)\n", command->name,
             json_object_get_string_member (reply, "username"),
             json_object_get_int_member_with_default (reply, "sessions_revoked", 0));
  finish_password (reply, password);
  sodium_memzero (password, strlen (password));
  return 0;
}

static int
run_user_add (const Command *command, int argc, char **argv)
{
  return run_password_command (command, argc, argv, "user_add");
}

static int
run_user_reset_password (const Command *command, int argc, char **argv)
{
  return run_password_command (command, argc, argv, "user_reset_password");
}

static int
run_user_sessions (const Command *command, int argc, char **argv)
{
  g_autoptr(JsonObject) reply = NULL;
  g_autofree char *request = NULL;
  JsonArray *sessions;

  parse_command (command, &argc, &argv, 1);
  request = request_text ("user_sessions", "username", argv[1], NULL);
  reply = call (request);
  if (print_json (reply))
    return 0;
  sessions = json_object_get_array_member (reply, "sessions");
  for (guint i = 0; i < json_array_get_length (sessions); i++)
    {
      JsonObject *session = json_array_get_object_element (sessions, i);
      JsonNode *created = json_object_get_member (session, "created");
      g_autofree char *created_text = format_time (JSON_NODE_HOLDS_NULL (created) ? 0 : json_node_get_int (created));
      JsonNode *last_used = json_object_get_member (session, "last_used");
      g_autofree char *expires_text = format_time (json_object_get_int_member (session, "expires"));
      g_autofree char *last_text = format_time (last_used == NULL || JSON_NODE_HOLDS_NULL (last_used)
                                                ? 0 : json_node_get_int (last_used));

      g_print ("%s  created %-20s  last login %-20s  expires %-20s  %" G_GINT64_FORMAT " connections\n",
               json_object_get_string_member (session, "session"), created_text, last_text, expires_text,
               json_object_get_int_member (session, "connections"));
    }
  return 0;
}

static gboolean opt_all;

static const GOptionEntry revoke_options[] = {
  { "all", 'a', 0, G_OPTION_ARG_NONE, &opt_all, "Every session of the user", NULL },
  { NULL }
};

static int
run_user_revoke (const Command *command, int argc, char **argv)
{
  g_autoptr(JsonObject) reply = NULL;
  g_autofree char *request = NULL;

  parse_command (command, &argc, &argv, -1);
  if (argc != (opt_all ? 2 : 3))
    {
      g_printerr ("natterctl: usage: natterctl user revoke %s\n", command->args);
      return EXIT_USAGE;
    }
  request = request_text ("user_revoke", "username", argv[1], "session", opt_all ? NULL : argv[2],
                          "all", opt_all ? "=true" : NULL, NULL);
  reply = call (request);
  if (!print_json (reply))
    g_print ("%" G_GINT64_FORMAT " sessions of %s revoked\n", json_object_get_int_member (reply, "sessions_revoked"),
             json_object_get_string_member (reply, "username"));
  return 0;
}

static int opt_uses = 1;
static char *opt_expires;

static const GOptionEntry invite_options[] = {
  { "uses", 'u', 0, G_OPTION_ARG_INT, &opt_uses, "How many accounts it may make (default 1)", "N" },
  { "expires", 'e', 0, G_OPTION_ARG_STRING, &opt_expires,
    "How long it works: 30m, 12h, 7d, 2w, or seconds (default: until used up or revoked)", "DURATION" },
  { NULL }
};

/* "90", "30m", "12h", "7d", "2w": seconds, or 0 when not understood. */
static gint64
parse_duration (const char *text)
{
  char *end = NULL;
  gint64 value = g_ascii_strtoll (text, &end, 10);
  gint64 unit = 1;

  if (end == text || value <= 0)
    return 0;
  if (g_str_equal (end, "") || g_str_equal (end, "s"))
    unit = 1;
  else if (g_str_equal (end, "m"))
    unit = 60;
  else if (g_str_equal (end, "h"))
    unit = 3600;
  else if (g_str_equal (end, "d"))
    unit = 86400;
  else if (g_str_equal (end, "w"))
    unit = 7 * 86400;
  else
    return 0;
  if (value > G_MAXINT64 / unit)
    return 0;
  return value * unit;
}

static int
run_invite_create (const Command *command, int argc, char **argv)
{
  g_autoptr(JsonObject) reply = NULL;
  g_autofree char *request = NULL;
  g_autofree char *uses = NULL;
  g_autofree char *expires = NULL;

  parse_command (command, &argc, &argv, 0);
  if (opt_uses < 1)
    {
      g_printerr ("natterctl: --uses must be 1 or more\n");
      return EXIT_USAGE;
    }
  if (opt_expires != NULL)
    {
      gint64 seconds = parse_duration (opt_expires);

      if (seconds == 0)
        {
          g_printerr ("natterctl: --expires: '%s' is not a duration (30m, 12h, 7d, 2w, or seconds)\n", opt_expires);
          return EXIT_USAGE;
        }
      expires = g_strdup_printf ("=%" G_GINT64_FORMAT, seconds);
    }
  uses = g_strdup_printf ("=%d", opt_uses);
  request = request_text ("invite_create", "uses", uses, "expires_in", expires, NULL);
  reply = call (request);
  if (!print_json (reply))
    g_print ("%s\n", json_object_get_string_member (reply, "code"));
  return 0;
}

static int
run_invite_list (const Command *command, int argc, char **argv)
{
  g_autoptr(JsonObject) reply = NULL;
  JsonArray *invites;

  parse_command (command, &argc, &argv, 0);
  reply = call ("{\"type\":\"invite_list\"}");
  if (print_json (reply))
    return 0;
  invites = json_object_get_array_member (reply, "invites");
  for (guint i = 0; i < json_array_get_length (invites); i++)
    {
      JsonObject *invite = json_array_get_object_element (invites, i);
      JsonNode *expires = json_object_get_member (invite, "expires");
      g_autofree char *expires_text = JSON_NODE_HOLDS_NULL (expires) ? g_strdup ("never")
                                                                    : format_time (json_node_get_int (expires));

      g_print ("%s  %-8s %4" G_GINT64_FORMAT " uses left  expires %s\n",
               json_object_get_string_member (invite, "code"), json_object_get_string_member (invite, "state"),
               json_object_get_int_member (invite, "uses_left"), expires_text);
    }
  return 0;
}

static int
run_invite_revoke (const Command *command, int argc, char **argv)
{
  g_autoptr(JsonObject) reply = NULL;
  g_autofree char *request = NULL;

  parse_command (command, &argc, &argv, 1);
  request = request_text ("invite_revoke", "code", argv[1], NULL);
  reply = call (request);
  if (!print_json (reply))
    g_print ("revoked %s\n", argv[1]);
  return 0;
}

/* natterd writes the copy: the path is made absolute here, where the
 * operator's working directory is known. */
static int
run_backup (const Command *command, int argc, char **argv)
{
  g_autoptr(JsonObject) reply = NULL;
  g_autofree char *request = NULL;
  g_autofree char *path = NULL;

  parse_command (command, &argc, &argv, 1);
  if (argv[1][0] == '\0')
    {
      g_printerr ("natterctl: usage: natterctl backup FILE\n");
      return EXIT_USAGE;
    }
  path = g_canonicalize_filename (argv[1], NULL);
  request = request_text ("backup", "path", path, NULL);
  /* A big database takes as long as the disk needs; natterd goes on
   * with the copy if natterctl is interrupted. */
  call_timeout = 0;
  exit_forbidden = EXIT_UNSUPPORTED;
  reply = call (request);
  if (!print_json (reply))
    g_print ("%s: %.1f MiB in %.1f s\n", json_object_get_string_member (reply, "path"),
             json_object_get_int_member (reply, "bytes") / 1048576.0,
             json_object_get_double_member (reply, "seconds"));
  return 0;
}

static const Command commands[] = {
  { NULL,     "status",         "",                   "How natterd is doing: version, uptime, connections, users online, messages stored, database size, messages per second over the last minute.", run_status, NULL },
  { NULL,     "registration",   "[open|closed|invite]", "Show, or change until natterd restarts, who may create an account ([server] registration).", run_registration, NULL },
  { "room",   "list",           "",                   "Every room: name, members, owner, topic.", run_room_list, NULL },
  { "room",   "delete",         "ROOM [--yes]",       "Delete a room (#name, or name) and erase its messages and files; its members are told. Asks first on a terminal; without one, --yes is needed.", run_room_delete, delete_options },
  { "room",   "set-owner",      "ROOM USERNAME",      "Make a member of the room its owner; the old owner, if a member, becomes an admin. The members are told.", run_room_set_owner, NULL },
  { "user",   "list",           "",                   "Every account: username, presence, open connections, display name.", run_user_list, NULL },
  { "user",   "add",            "USERNAME",           "Make an account. The password is read from standard input (typed twice on a terminal), or made up with --generate-password and printed.", run_user_add, add_options },
  { "user",   "disable",        "USERNAME",           "Disable an account: its sessions are revoked, its clients disconnected, and it cannot log in until enabled.", run_user_disable, NULL },
  { "user",   "enable",         "USERNAME",           "Let a disabled account log in again.", run_user_enable, NULL },
  { "user",   "delete",         "USERNAME [--yes]",   "Delete an account: its clients are disconnected, it leaves its contacts and rooms (a room it owns passes to an admin or member, or is deleted when empty), its messages stay in others' conversations marked deleted, and its username is never given again. Asks first on a terminal; without one, --yes is needed.", run_user_delete, delete_options },
  { "user",   "reset-password", "USERNAME",           "Set a new password (from standard input, or --generate-password) and revoke every session of the account.", run_user_reset_password, password_options },
  { "user",   "sessions",       "USERNAME",           "The account's sessions (login tokens): id, when made, when they expire, connections open with each now.", run_user_sessions, NULL },
  { "user",   "revoke",         "USERNAME SESSION|--all", "Revoke one session (its id from user sessions), or every one: the clients using it are disconnected and must log in again.", run_user_revoke, revoke_options },
  { "invite", "create",         "[--uses N] [--expires DURATION]", "Make an invitation code for registration = invite, and print it.", run_invite_create, invite_options },
  { "invite", "list",           "",                   "Every invitation code: state, uses left, expiry.", run_invite_list, NULL },
  { "invite", "revoke",         "CODE",               "Delete an invitation code.", run_invite_revoke, NULL },
  { NULL,     "backup",         "FILE",               "Copy the SQLite database to FILE (a new file, mode 0600) while natterd serves: consistent, written beside FILE and renamed at the end; an existing FILE is refused (exit 1), PostgreSQL too (exit 5: use pg_dump). search.db is not copied (natterd makes it again); copy files/ after it.", run_backup, NULL },
};

/* The list of commands, for --help and a bad command line. */
static char *
commands_text (void)
{
  GString *text = g_string_new ("Commands:\n");

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    g_string_append_printf (text, "  %s%s%s %s\n", commands[i].group ? commands[i].group : "",
                            commands[i].group ? " " : "", commands[i].name, commands[i].args);
  g_string_append (text, "\n`natterctl COMMAND --help` describes each.\n"
                         "Exit status: 0 done, 1 natterd refused, 2 bad command line, 3 natterd unreachable, 4 not found,\n"
                         "5 backup not possible on this database (PostgreSQL: use pg_dump).\n");
  return g_string_free (text, FALSE);
}

int
main (int   argc,
      char *argv[])
{
  static gboolean opt_version;
  static const GOptionEntry entries[] = {
    { "data-dir", 'd', 0, G_OPTION_ARG_FILENAME, &opt_data_dir,
      "natterd's data directory (default as natterd's: $STATE_DIRECTORY, else ~/.local/share/natterd)", "DIR" },
    { "socket", 's', 0, G_OPTION_ARG_FILENAME, &opt_socket, "natterd's admin socket (default: DIR/natterd.sock)", "PATH" },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &opt_json, "Print natterd's answer as JSON, for scripts", NULL },
    { "version", 'V', 0, G_OPTION_ARG_NONE, &opt_version, "Print the version and exit", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("COMMAND [ARGUMENTS]");
  g_autoptr(GError) error = NULL;
  g_autofree char *description = NULL;

  setlocale (LC_ALL, "");
  if (sodium_init () < 0)
    {
      g_printerr ("natterctl: libsodium could not initialise\n");
      return EXIT_REFUSED;
    }
  g_option_context_set_summary (context, "Manage a running natterd: its users, rooms, invitations and registration.");
  description = commands_text ();
  g_option_context_set_description (context, description);
  g_option_context_add_main_entries (context, entries, NULL);
  /* Options after the command are the command's own. */
  g_option_context_set_strict_posix (context, TRUE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("natterctl: %s\n", error->message);
      return EXIT_USAGE;
    }
  if (opt_version)
    {
      g_print ("natterctl " PACKAGE_VERSION "\n");
      return 0;
    }
  if (argc < 2)
    {
      g_printerr ("%s", description);
      return EXIT_USAGE;
    }

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      const Command *command = &commands[i];

      if (command->group == NULL && g_str_equal (argv[1], command->name))
        return command->run (command, argc - 1, argv + 1);
      if (command->group != NULL && g_str_equal (argv[1], command->group) && argc >= 3 &&
          g_str_equal (argv[2], command->name))
        return command->run (command, argc - 2, argv + 2);
    }
  g_printerr ("natterctl: unknown command '%s%s%s'\n", argv[1], argc >= 3 ? " " : "", argc >= 3 ? argv[2] : "");
  g_printerr ("%s", description);
  return EXIT_USAGE;
}
