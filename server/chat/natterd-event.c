#define G_LOG_DOMAIN "natterd-event"

#include "natterd-event.h"

NatterJsonWriter *
natterd_event_begin (NatterdEvent *event,
                     const char   *type)
{
  event->frame = g_string_sized_new (256);
  natter_json_writer_init (&event->writer, event->frame);
  natter_json_writer_begin_object (&event->writer);
  natter_json_writer_key (&event->writer, "type");
  natter_json_writer_string (&event->writer, type);
  return &event->writer;
}

GBytes *
natterd_event_finish (NatterdEvent *event)
{
  natter_json_writer_end_object (&event->writer);
  return natterd_frame_finish (g_steal_pointer (&event->frame));
}

GBytes *
natterd_frame_finish (GString *frame)
{
  g_string_append_c (frame, '\n');
  return g_string_free_to_bytes (frame);
}
