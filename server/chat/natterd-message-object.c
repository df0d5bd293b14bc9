/* natterd-message-object.c: the message object of the wire, for history
 * and sync pages, replies and the "message" event.
 */
#define G_LOG_DOMAIN "natterd-message"

#include "config.h"

#include <string.h>

#include "natter-features.h"
#include "natterd-event.h"
#include "natterd-message-object.h"

guint
natterd_message_form (NatterdConnection *connection)
{
  guint features = natterd_connection_get_features (connection);

  return ((features & NATTER_FEATURE_MESSAGE_ACTIONS) != 0 ? NATTERD_FORM_ACTIONS : 0) |
         ((features & NATTER_FEATURE_FILES) != 0 ? NATTERD_FORM_FILES : 0);
}

gboolean
natterd_message_has_files (const NatterdStoreMessage *m)
{
  return m->files != NULL && m->files[0] != '\0' && !m->deleted;
}

/* The body as a connection without files reads it: the text, then a
 * line per file (docs/protocol.md, "What a protocol-1 connection sees
 * of files"). */
static void
write_body_with_file_lines (NatterJsonWriter          *w,
                            const NatterdStoreMessage *m)
{
  g_autoptr(GString) body = g_string_new_len (m->body, m->body_len);
  const char *at = m->files;
  NatterdStoreFileRef f;

  while (natterd_store_files_next (&at, &f))
    {
      if (body->len > 0)
        g_string_append_c (body, '\n');
      g_string_append (body, "[file: ");
      g_string_append_len (body, f.name, f.name_len);
      g_string_append_printf (body, ", %" G_GINT64_FORMAT " bytes]", f.main.size);
    }
  natter_json_writer_string_len (w, body->str, body->len);
}

/* "file", "size", "mime", "sha256" and "width"/"height" when given, of
 * a file object into an open object. */
static void
write_file_fields (NatterJsonWriter           *w,
                   const NatterdStoreFileSpec *spec)
{
  natter_json_writer_key (w, "file");
  natter_json_writer_int (w, spec->file);
  natter_json_writer_key (w, "size");
  natter_json_writer_int (w, spec->size);
  natter_json_writer_key (w, "mime");
  natter_json_writer_string_len (w, spec->mime, spec->mime_len);
  natter_json_writer_key (w, "sha256");
  natter_json_writer_string_len (w, spec->sha256, 64);
  if (spec->width != 0)
    {
      natter_json_writer_key (w, "width");
      natter_json_writer_int (w, spec->width);
      natter_json_writer_key (w, "height");
      natter_json_writer_int (w, spec->height);
    }
}

/* "files":[file objects], for a connection with files, when the
 * message has any (docs/protocol.md, "Sizes and values"). */
static void
write_files (NatterJsonWriter          *w,
             const NatterdStoreMessage *m,
             gboolean                   files)
{
  const char *at = m->files;
  NatterdStoreFileRef f;

  if (!files || !natterd_message_has_files (m))
    return;
  natter_json_writer_key (w, "files");
  natter_json_writer_begin_array (w);
  while (natterd_store_files_next (&at, &f))
    {
      natter_json_writer_begin_object (w);
      write_file_fields (w, &f.main);
      natter_json_writer_key (w, "name");
      natter_json_writer_string_len (w, f.name, f.name_len);
      natter_json_writer_key (w, "preview");
      if (f.preview.file != 0)
        {
          natter_json_writer_begin_object (w);
          write_file_fields (w, &f.preview);
          natter_json_writer_end_object (w);
        }
      else
        natter_json_writer_null (w);
      natter_json_writer_end_object (w);
    }
  natter_json_writer_end_array (w);
}

/* The fields of protocol 1, the object left open; with @files, the body
 * is the text alone (write_files adds the files). */
static void
write_base (NatterJsonWriter          *w,
            const NatterdStoreMessage *m,
            const char                *address,
            const char                *from,
            gboolean                   files)
{
  natter_json_writer_begin_object (w);
  natter_json_writer_key (w, "id");
  natter_json_writer_int (w, m->id);
  natter_json_writer_key (w, "conversation");
  natter_json_writer_string_or_null (w, address);
  natter_json_writer_key (w, "from");
  natter_json_writer_string_or_null (w, from);
  natter_json_writer_key (w, "body");
  if (!files && natterd_message_has_files (m))
    write_body_with_file_lines (w, m);
  else
    natter_json_writer_string_len (w, m->body, m->body_len);
  natter_json_writer_key (w, "ts");
  natter_json_writer_int (w, m->ts);
  natter_json_writer_key (w, "client_msg_id");
  natter_json_writer_string (w, m->client_msg_id);
}

/* The message object with the names already resolved: what the writer
 * thread can encode without touching the directory. @address is the JSON
 * value of "conversation" ("#room" or "@peer"), NULL for null. */
void
natterd_message_object_write (GString                   *out,
                              const NatterdStoreMessage *m,
                              const char                *address,
                              const char                *from,
                              gboolean                   files)
{
  NatterJsonWriter w;

  natter_json_writer_init (&w, out);
  write_base (&w, m, address, from, files);
  write_files (&w, m, files);
  natter_json_writer_end_object (&w);
}

static void
write_username (NatterJsonWriter *w,
                NatterdDirectory *directory,
                gint64            user_id)
{
  NatterdUser *user = natterd_directory_find_user_id (directory, user_id);

  natter_json_writer_string_or_null (w, user != NULL ? user->username : NULL);
}

/* The quote of a reply's original: the first line of its body, at most
 * NATTERD_QUOTE_MAX_BYTES, cut on a character boundary. */
static void
write_quote (NatterJsonWriter          *w,
             NatterdDirectory          *directory,
             const NatterdStoreMessage *m)
{
  const char *body = m->reply_body != NULL && !m->reply_deleted ? m->reply_body : "";
  gsize len = m->reply_body != NULL && !m->reply_deleted ? m->reply_body_len : 0;
  const char *newline = memchr (body, '\n', len);

  if (newline != NULL)
    len = newline - body;
  if (len > NATTERD_QUOTE_MAX_BYTES)
    {
      const char *cut = body + NATTERD_QUOTE_MAX_BYTES;

      /* Back to the start of the character the cut falls in. */
      while (cut > body && ((guchar) *cut & 0xC0) == 0x80)
        cut--;
      len = cut - body;
    }
  natter_json_writer_begin_object (w);
  natter_json_writer_key (w, "id");
  natter_json_writer_int (w, m->reply_to);
  natter_json_writer_key (w, "from");
  write_username (w, directory, m->reply_from);
  natter_json_writer_key (w, "body");
  natter_json_writer_string_len (w, body, len);
  natter_json_writer_key (w, "deleted");
  natter_json_writer_bool (w, m->reply_deleted);
  natter_json_writer_end_object (w);
}

/* The store's reaction lines (NATTERD_STORE_REACTIONS in natterd-store.h)
 * as [{"emoji":…,"users":[…]},…]. */
static void
write_reactions (NatterJsonWriter *w,
                 NatterdDirectory *directory,
                 const char       *reactions)
{
  const char *line = reactions != NULL ? reactions : "";

  natter_json_writer_begin_array (w);
  while (*line != '\0')
    {
      const char *end = strchr (line, '\n');
      const char *space;

      if (end == NULL)
        end = line + strlen (line);
      space = memchr (line, ' ', end - line);
      if (space == NULL)
        space = end;
      natter_json_writer_begin_object (w);
      natter_json_writer_key (w, "emoji");
      natter_json_writer_string_len (w, line, space - line);
      natter_json_writer_key (w, "users");
      natter_json_writer_begin_array (w);
      for (const char *id = space; id < end; )
        {
          char *after;
          gint64 user_id = g_ascii_strtoll (id + 1, &after, 10);

          write_username (w, directory, user_id);
          id = after > id + 1 ? after : end;
        }
      natter_json_writer_end_array (w);
      natter_json_writer_end_object (w);
      line = *end == '\n' ? end + 1 : end;
    }
  natter_json_writer_end_array (w);
}

/* User ids separated by spaces, as usernames (those the directory knows). */
static void
write_mentions (NatterJsonWriter *w,
                NatterdDirectory *directory,
                const char       *mentions)
{
  const char *id = mentions != NULL ? mentions : "";

  natter_json_writer_begin_array (w);
  while (*id != '\0')
    {
      char *after;
      NatterdUser *user = natterd_directory_find_user_id (directory, g_ascii_strtoll (id, &after, 10));

      if (after == id)
        break;
      if (user != NULL)
        natter_json_writer_string (w, user->username);
      id = *after == ' ' ? after + 1 : after;
    }
  natter_json_writer_end_array (w);
}

void
natterd_message_object_write_actions (NatterdDirectory          *directory,
                                      GString                   *out,
                                      const NatterdStoreMessage *m,
                                      const char                *address,
                                      const char                *from,
                                      gboolean                   files)
{
  NatterJsonWriter w;

  natter_json_writer_init (&w, out);
  write_base (&w, m, address, from, files);
  natter_json_writer_key (&w, "reply_to");
  if (m->reply_to != 0 && !m->deleted)
    write_quote (&w, directory, m);
  else
    natter_json_writer_null (&w);
  natter_json_writer_key (&w, "edited_ts");
  if (m->edited_ts != 0 && !m->deleted)
    natter_json_writer_int (&w, m->edited_ts);
  else
    natter_json_writer_null (&w);
  natter_json_writer_key (&w, "deleted");
  natter_json_writer_bool (&w, m->deleted);
  natter_json_writer_key (&w, "reactions");
  write_reactions (&w, directory, m->deleted ? NULL : m->reactions);
  natter_json_writer_key (&w, "mentions");
  write_mentions (&w, directory, m->deleted ? NULL : m->mentions);
  write_files (&w, m, files);
  natter_json_writer_end_object (&w);
}

void
natterd_message_object_write_for (NatterdDirectory          *self,
                                  GString                   *out,
                                  const NatterdStoreMessage *m,
                                  NatterdUser               *viewer,
                                  guint                      form)
{
  NatterdConversation *conv = natterd_directory_find_conversation (self, m->conversation_id);
  NatterdUser *sender = natterd_directory_find_user_id (self, m->sender_id);
  char buf[NATTER_USERNAME_MAX + 2];
  const char *address = conv ? natterd_conversation_address_into (conv, viewer, buf) : NULL;

  /* Once per message of every history and sync page: no allocation. */
  if ((form & NATTERD_FORM_ACTIONS) != 0)
    natterd_message_object_write_actions (self, out, m, address, sender ? sender->username : NULL,
                                          (form & NATTERD_FORM_FILES) != 0);
  else
    natterd_message_object_write (out, m, address, sender ? sender->username : NULL,
                                  (form & NATTERD_FORM_FILES) != 0);
}


static const char *const change_kinds[] = {
  [NATTERD_CHANGE_EDIT] = "edit",
  [NATTERD_CHANGE_DELETE] = "delete",
  [NATTERD_CHANGE_REACTION] = "reaction",
};

/* "change", "kind", "by", for a reaction "emoji" and "on", then
 * "message", into an open object. */
static void
write_change_fields (NatterJsonWriter         *w,
                     NatterdDirectory         *directory,
                     const NatterdStoreChange *c,
                     GString                  *message)
{
  natter_json_writer_key (w, "change");
  natter_json_writer_int (w, c->id);
  natter_json_writer_key (w, "kind");
  natter_json_writer_string (w, change_kinds[c->kind]);
  natter_json_writer_key (w, "by");
  write_username (w, directory, c->actor_id);
  if (c->kind == NATTERD_CHANGE_REACTION)
    {
      natter_json_writer_key (w, "emoji");
      natter_json_writer_string (w, c->emoji != NULL ? c->emoji : "");
      natter_json_writer_key (w, "on");
      natter_json_writer_bool (w, c->on);
    }
  natter_json_writer_key (w, "message");
  natter_json_writer_raw (w, message->str, message->len);
}

/* The change's fields around its message as @viewer sees it, into
 * @w's open object. */
static void
write_change (NatterJsonWriter         *w,
              NatterdDirectory         *directory,
              const NatterdStoreChange *change,
              NatterdUser              *viewer,
              gboolean                  files)
{
  g_autoptr(GString) message = g_string_sized_new (change->message.body_len + 256);

  natterd_message_object_write_for (directory, message, &change->message, viewer,
                                    NATTERD_FORM_ACTIONS | (files ? NATTERD_FORM_FILES : 0));
  write_change_fields (w, directory, change, message);
}

void
natterd_change_object_write (NatterdDirectory         *directory,
                             GString                  *out,
                             const NatterdStoreChange *change,
                             NatterdUser              *viewer,
                             gboolean                  files)
{
  NatterJsonWriter w;

  natter_json_writer_init (&w, out);
  natter_json_writer_begin_object (&w);
  write_change (&w, directory, change, viewer, files);
  natter_json_writer_end_object (&w);
}

GBytes *
natterd_change_event (NatterdDirectory         *directory,
                      const NatterdStoreChange *change,
                      NatterdUser              *viewer,
                      gboolean                  files)
{
  NatterdEvent event;

  write_change (natterd_event_begin (&event, "message_changed"), directory, change, viewer, files);
  return natterd_event_finish (&event);
}

/* Encoded once per message (and viewer), shared by every recipient. */
GBytes *
natterd_message_object_event (const GString *object)
{
  GString *s = g_string_sized_new (object->len + 32);

  g_string_append_len (s, "{\"type\":\"message\",\"message\":", 28);
  g_string_append_len (s, object->str, object->len);
  g_string_append_c (s, '}');
  return natterd_frame_finish (s);
}
