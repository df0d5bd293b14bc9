/* natter-client-events.c: events from the server, handed by type to the
 * feature that owns them.
 */
#define G_LOG_DOMAIN "natter-client"

#include "config.h"

#include "natter-client-private.h"

static void
handle_error_event (NatterClient *self,
                    JsonObject   *frame)
{
  const char *code = get_string (frame, "code");
  const char *message = get_string (frame, "message");
  g_autoptr(GError) error = NULL;
  NatterErrorCode value;

  if (code == NULL || !natter_error_code_from_string (code, &value))
    value = NATTER_ERROR_INTERNAL;
  error = g_error_new_literal (NATTER_ERROR, value, message != NULL ? message : "Server error");
  natter_client_emit_error (self, error);
}

static const struct {
  const char *type;
  void (*handler) (NatterClient *self, JsonObject *frame);
} event_table[] = {
  { "message", natter_client_messages_handle_message },
  { "message_changed", natter_client_actions_handle_changed },
  { "notify_level", natter_client_actions_handle_notify_level },
  { "presence", natter_client_presence_handle_presence },
  { "contact_request", natter_client_contacts_handle_request },
  { "contact", natter_client_contacts_handle_contact },
  { "room_member", natter_client_rooms_handle_member },
  { "room_topic", natter_client_rooms_handle_topic },
  { "room_invitation", natter_client_room_admin_handle_invitation },
  { "room_updated", natter_client_room_admin_handle_updated },
  { "room_role", natter_client_room_admin_handle_role },
  { "room_removed", natter_client_room_admin_handle_removed },
  { "typing", natter_client_presence_handle_typing },
  { "read", natter_client_presence_handle_read },
  { "error", handle_error_event },
};

void
natter_client_events_dispatch_cb (NatterConnection *conn,
                                  JsonObject       *frame,
                                  NatterClient     *self)
{
  const char *type = json_object_get_string_member (frame, "type");

  for (guint i = 0; i < G_N_ELEMENTS (event_table); i++)
    if (g_str_equal (type, event_table[i].type))
      {
        event_table[i].handler (self, frame);
        return;
      }

  g_debug ("Ignoring an event of type %s", type);
}
