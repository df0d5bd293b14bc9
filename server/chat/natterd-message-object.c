/* natterd-message-object.c: the message object of the wire, for history
 * and sync pages, replies and the "message" event.
 */
#define G_LOG_DOMAIN "natterd-message"

#include "config.h"

#include "natterd-event.h"
#include "natterd-message-object.h"

/* The message object with the names already resolved: what the writer
 * thread can encode without touching the directory. @address is the JSON
 * value of "conversation" ("#room" or "@peer"), NULL for null. */
void
natterd_message_object_write (GString                   *out,
                              const NatterdStoreMessage *m,
                              const char                *address,
                              const char                *from)
{
  NatterJsonWriter w;

  natter_json_writer_init (&w, out);
  natter_json_writer_begin_object (&w);
  natter_json_writer_key (&w, "id");
  natter_json_writer_int (&w, m->id);
  natter_json_writer_key (&w, "conversation");
  natter_json_writer_string_or_null (&w, address);
  natter_json_writer_key (&w, "from");
  natter_json_writer_string_or_null (&w, from);
  natter_json_writer_key (&w, "body");
  natter_json_writer_string_len (&w, m->body, m->body_len);
  natter_json_writer_key (&w, "ts");
  natter_json_writer_int (&w, m->ts);
  natter_json_writer_key (&w, "client_msg_id");
  natter_json_writer_string (&w, m->client_msg_id);
  natter_json_writer_end_object (&w);
}

void
natterd_message_object_write_for (NatterdDirectory          *self,
                                  GString                   *out,
                                  const NatterdStoreMessage *m,
                                  NatterdUser               *viewer)
{
  NatterdConversation *conv = natterd_directory_find_conversation (self, m->conversation_id);
  NatterdUser *sender = natterd_directory_find_user_id (self, m->sender_id);
  char buf[NATTER_USERNAME_MAX + 2];

  /* Once per message of every history and sync page: no allocation. */
  natterd_message_object_write (out, m, conv ? natterd_conversation_address_into (conv, viewer, buf) : NULL,
                                sender ? sender->username : NULL);
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
