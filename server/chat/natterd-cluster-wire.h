/* natterd-cluster-wire.h: the little-endian fields of what the nodes of a
 * cluster publish on the bus (natterd-cluster.c, natterd-cluster-presence.c).
 * Every publish opens with four bytes of magic and the sender's instance
 * (a random number each node draws at start), so that a node skips its
 * own and a publish of another version is refused.
 */
#pragma once

#include <string.h>

#include <glib.h>

#define NATTERD_WIRE_HEADER_LEN 12

static inline void
natterd_wire_put_u64 (GByteArray *out, guint64 v)
{
  guint64 le = GUINT64_TO_LE (v);
  g_byte_array_append (out, (const guint8 *) &le, 8);
}

static inline void
natterd_wire_put_u32 (GByteArray *out, guint32 v)
{
  guint32 le = GUINT32_TO_LE (v);
  g_byte_array_append (out, (const guint8 *) &le, 4);
}

static inline void
natterd_wire_put_u16 (GByteArray *out, guint16 v)
{
  guint16 le = GUINT16_TO_LE (v);
  g_byte_array_append (out, (const guint8 *) &le, 2);
}

static inline guint64
natterd_wire_get_u64 (const guint8 *p)
{
  guint64 le;
  memcpy (&le, p, 8);
  return GUINT64_FROM_LE (le);
}

static inline guint32
natterd_wire_get_u32 (const guint8 *p)
{
  guint32 le;
  memcpy (&le, p, 4);
  return GUINT32_FROM_LE (le);
}

static inline guint16
natterd_wire_get_u16 (const guint8 *p)
{
  guint16 le;
  memcpy (&le, p, 2);
  return GUINT16_FROM_LE (le);
}

static inline void
natterd_wire_put_header (GByteArray *out, const char magic[4], guint64 instance)
{
  g_byte_array_append (out, (const guint8 *) magic, 4);
  natterd_wire_put_u64 (out, instance);
}

/* A publish of @kind (one byte after the header): the channels that carry
 * several kinds. */
static inline GByteArray *
natterd_wire_begin (const char magic[4], guint64 instance, char kind)
{
  GByteArray *out = g_byte_array_new ();

  natterd_wire_put_header (out, magic, instance);
  g_byte_array_append (out, (const guint8 *) &kind, 1);
  return out;
}

/* TRUE when @data opens with @magic; the instance in *@out_instance. */
static inline gboolean
natterd_wire_check_header (const guint8 *data, gsize len, const char magic[4], guint64 *out_instance)
{
  if (len < NATTERD_WIRE_HEADER_LEN || memcmp (data, magic, 4) != 0)
    return FALSE;
  *out_instance = natterd_wire_get_u64 (data + 4);
  return TRUE;
}
