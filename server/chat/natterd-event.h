/* natterd-event.h: building an event frame, as natterd_request_begin_ok
 * and natterd_request_finish_ok build a reply.
 *
 * An event is encoded once into a GBytes and the same bytes are queued on
 * every recipient's connection:
 *
 *   NatterdEvent event;
 *   NatterJsonWriter *w = natterd_event_begin (&event, "room_topic");
 *   natter_json_writer_key (w, "room"); …
 *   g_autoptr(GBytes) frame = natterd_event_finish (&event);
 */
#pragma once

#include <glib.h>
#include "natter-json.h"

G_BEGIN_DECLS

typedef struct {
  GString          *frame;
  NatterJsonWriter  writer;
} NatterdEvent;

/* Positions the writer inside {"type":@type — add the other fields. */
NatterJsonWriter *natterd_event_begin  (NatterdEvent *event,
                                        const char   *type);
/* Closes the object and ends the line; the frame to send. */
GBytes           *natterd_event_finish (NatterdEvent *event);

/* Ends a frame built by hand ('\n') and hands over its bytes. */
GBytes           *natterd_frame_finish (GString      *frame);

G_END_DECLS
