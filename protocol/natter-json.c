#define G_LOG_DOMAIN "natter-protocol"

#include "natter-json.h"
#include "natter-error.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------------------------
 * Parser
 *
 * One pass, no recursion: open containers live on an explicit stack whose
 * size is bounded by max_depth, so hostile nesting costs an error, not the
 * stack. Every node is attached to its parent as soon as it exists, so on
 * error freeing the root frees everything, and an object key only has to
 * live until its value starts.
 * ------------------------------------------------------------------------ */

typedef struct {
  JsonNode   *node;   /* the container's node, for json_node_set_parent() */
  JsonObject *object; /* exactly one of these is set */
  JsonArray  *array;
  GHashTable *key_hashes; /* see check_key_hash(); usually NULL */
} Frame;

/* JsonObject keeps its members in a GHashTable hashed with g_str_hash(),
 * which has no secret seed: keys that share a hash are easy to make, and
 * each insert then compares the new key with every earlier one. 2000 such
 * keys in one 64 KiB frame cost over 100 ms of the server's only thread.
 * So an object past KEY_HASH_CHECK_AFTER members counts its keys per hash
 * value, and refuses more than MAX_KEYS_PER_HASH alike: honest keys share
 * a 32-bit hash almost never, and small objects (every request) pay
 * nothing. */
#define KEY_HASH_CHECK_AFTER 32
#define MAX_KEYS_PER_HASH    4

/* A growable buffer that starts on the stack: most keys and strings of a
 * frame fit, so parsing them costs no allocation of ours. */
typedef struct {
  char  *buf;
  gsize  len;
  gsize  cap;
  char   local[256];
} Scratch;

typedef struct {
  const guchar *start;
  const guchar *p;
  const guchar *end;
  const guchar *key_at; /* where the key in @key starts, for errors */
  Scratch       key;    /* the key whose value is being read */
  Scratch       str;    /* a string value */
  GError      **error;
} Parser;

static void
scratch_init (Scratch *s)
{
  s->buf = s->local;
  s->len = 0;
  s->cap = sizeof s->local;
}

static void
scratch_clear (Scratch *s)
{
  if (s->buf != s->local)
    g_free (s->buf);
  s->buf = NULL;
}

static G_GNUC_NO_INLINE void
scratch_grow (Scratch *s,
              gsize    extra)
{
  gsize want = s->len + extra + 1;
  gsize cap = s->cap;

  while (cap < want)
    cap *= 2;

  if (s->buf == s->local)
    {
      s->buf = g_malloc (cap);
      memcpy (s->buf, s->local, s->len);
    }
  else
    s->buf = g_realloc (s->buf, cap);
  s->cap = cap;
}

/* Keeps room for @extra bytes and a terminating NUL. */
static inline void
scratch_append (Scratch    *s,
                const void *data,
                gsize       n)
{
  if (G_UNLIKELY (s->len + n + 1 > s->cap))
    scratch_grow (s, n);
  memcpy (s->buf + s->len, data, n);
  s->len += n;
}

static inline void
scratch_append_c (Scratch *s,
                  char     c)
{
  if (G_UNLIKELY (s->len + 2 > s->cap))
    scratch_grow (s, 1);
  s->buf[s->len++] = c;
}

/* Bytes that end the fast scan of a string: '"', '\\' and control chars.
 * Bytes >= 0x80 were already validated as UTF-8 for the whole input. */
static const guint8 string_stop[256] = {
  [0x00] = 1, [0x01] = 1, [0x02] = 1, [0x03] = 1, [0x04] = 1, [0x05] = 1,
  [0x06] = 1, [0x07] = 1, [0x08] = 1, [0x09] = 1, [0x0a] = 1, [0x0b] = 1,
  [0x0c] = 1, [0x0d] = 1, [0x0e] = 1, [0x0f] = 1, [0x10] = 1, [0x11] = 1,
  [0x12] = 1, [0x13] = 1, [0x14] = 1, [0x15] = 1, [0x16] = 1, [0x17] = 1,
  [0x18] = 1, [0x19] = 1, [0x1a] = 1, [0x1b] = 1, [0x1c] = 1, [0x1d] = 1,
  [0x1e] = 1, [0x1f] = 1, ['"'] = 1, ['\\'] = 1,
};

G_GNUC_PRINTF (3, 4)
static void
fail_at (Parser       *ps,
         const guchar *where,
         const char   *format,
         ...)
{
  g_autofree char *what = NULL;
  va_list args;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);

  g_set_error (ps->error, NATTER_ERROR, NATTER_ERROR_BAD_FRAME,
               "invalid JSON at byte %" G_GSIZE_FORMAT ": %s",
               (gsize) (where - ps->start), what);
}

static inline void
skip_ws (Parser *ps)
{
  const guchar *p = ps->p;

  while (p < ps->end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
    p++;
  ps->p = p;
}

static inline int
hex_value (guchar c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Reads the 4 hex digits of a \u escape at @p; -1 if they are not there. */
static int
read_hex4 (const guchar *p,
           const guchar *end)
{
  int v = 0;

  if (end - p < 4)
    return -1;

  for (int i = 0; i < 4; i++)
    {
      int h = hex_value (p[i]);
      if (h < 0)
        return -1;
      v = (v << 4) | h;
    }

  return v;
}

/* Reads a string literal (ps->p at the opening quote) into @out, which is
 * reset first. */
static gboolean
parse_string (Parser  *ps,
              Scratch *out)
{
  const guchar *p = ps->p + 1;
  const guchar *end = ps->end;

  out->len = 0;

  for (;;)
    {
      const guchar *run = p;

      while (p < end && !string_stop[*p])
        p++;
      if (p > run)
        scratch_append (out, run, (gsize) (p - run));

      if (p >= end)
        {
          fail_at (ps, ps->p, "unterminated string");
          return FALSE;
        }

      if (*p == '"')
        {
          /* scratch_append() always leaves room for this. */
          if (out->len + 1 > out->cap)
            scratch_grow (out, 0);
          out->buf[out->len] = '\0';
          ps->p = p + 1;
          return TRUE;
        }

      if (*p != '\\')
        {
          fail_at (ps, p, "unescaped control character in string");
          return FALSE;
        }

      /* An escape. */
      if (p + 1 >= end)
        {
          fail_at (ps, p, "unterminated escape");
          return FALSE;
        }

      switch (p[1])
        {
        case '"': scratch_append_c (out, '"'); p += 2; break;
        case '\\': scratch_append_c (out, '\\'); p += 2; break;
        case '/': scratch_append_c (out, '/'); p += 2; break;
        case 'b': scratch_append_c (out, '\b'); p += 2; break;
        case 'f': scratch_append_c (out, '\f'); p += 2; break;
        case 'n': scratch_append_c (out, '\n'); p += 2; break;
        case 'r': scratch_append_c (out, '\r'); p += 2; break;
        case 't': scratch_append_c (out, '\t'); p += 2; break;
        case 'u':
          {
            int u = read_hex4 (p + 2, end);
            gunichar c;
            char utf8[8];
            int n;

            if (u < 0)
              {
                fail_at (ps, p, "bad \\u escape");
                return FALSE;
              }
            if (u == 0)
              {
                fail_at (ps, p, "NUL in string");
                return FALSE;
              }
            if (u >= 0xdc00 && u <= 0xdfff)
              {
                fail_at (ps, p, "lone low surrogate escape");
                return FALSE;
              }
            if (u >= 0xd800 && u <= 0xdbff)
              {
                int lo = -1;

                if (end - p >= 12 && p[6] == '\\' && p[7] == 'u')
                  lo = read_hex4 (p + 8, end);
                if (lo < 0xdc00 || lo > 0xdfff)
                  {
                    fail_at (ps, p, "lone high surrogate escape");
                    return FALSE;
                  }
                c = 0x10000 + (((gunichar) u - 0xd800) << 10) + ((gunichar) lo - 0xdc00);
                p += 12;
              }
            else
              {
                c = (gunichar) u;
                p += 6;
              }

            n = g_unichar_to_utf8 (c, utf8);
            scratch_append (out, utf8, (gsize) n);
          }
          break;
        default:
          fail_at (ps, p, "bad escape");
          return FALSE;
        }
    }
}

/* Reads a number at ps->p into a new node. */
static JsonNode *
parse_number (Parser *ps)
{
  const guchar *start = ps->p;
  const guchar *p = start;
  const guchar *end = ps->end;
  gboolean negative = FALSE;
  gboolean is_int = TRUE;
  guint64 mag = 0;
  gboolean overflow = FALSE;
  gdouble d;
  char local[64];
  char *buf;
  char *endptr = NULL;
  gsize len;

  if (*p == '-')
    {
      negative = TRUE;
      p++;
    }

  if (p >= end || !g_ascii_isdigit (*p))
    {
      fail_at (ps, start, "bad number");
      return NULL;
    }

  if (*p == '0')
    {
      p++;
      if (p < end && g_ascii_isdigit (*p))
        {
          fail_at (ps, start, "leading zero in number");
          return NULL;
        }
    }
  else
    {
      while (p < end && g_ascii_isdigit (*p))
        {
          guint digit = *p - '0';

          if (mag > (G_MAXUINT64 - digit) / 10)
            overflow = TRUE;
          else
            mag = mag * 10 + digit;
          p++;
        }
    }

  if (p < end && *p == '.')
    {
      is_int = FALSE;
      p++;
      if (p >= end || !g_ascii_isdigit (*p))
        {
          fail_at (ps, start, "bad fraction in number");
          return NULL;
        }
      while (p < end && g_ascii_isdigit (*p))
        p++;
    }

  if (p < end && (*p == 'e' || *p == 'E'))
    {
      is_int = FALSE;
      p++;
      if (p < end && (*p == '+' || *p == '-'))
        p++;
      if (p >= end || !g_ascii_isdigit (*p))
        {
          fail_at (ps, start, "bad exponent in number");
          return NULL;
        }
      while (p < end && g_ascii_isdigit (*p))
        p++;
    }

  ps->p = p;

  if (is_int && !overflow)
    {
      if (!negative && mag <= (guint64) G_MAXINT64)
        return json_node_init_int (json_node_alloc (), (gint64) mag);
      if (negative && mag <= (guint64) G_MAXINT64 + 1)
        return json_node_init_int (json_node_alloc (),
                                   mag == (guint64) G_MAXINT64 + 1 ? G_MININT64 : -(gint64) mag);
    }

  /* g_ascii_strtod needs a terminated copy; the grammar above already
   * proved the syntax, so this only converts. */
  len = (gsize) (p - start);
  buf = len < sizeof local ? local : g_malloc (len + 1);
  memcpy (buf, start, len);
  buf[len] = '\0';
  d = g_ascii_strtod (buf, &endptr);
  if (buf != local)
    g_free (buf);

  if (!isfinite (d))
    {
      fail_at (ps, start, "number out of range");
      return NULL;
    }

  return json_node_init_double (json_node_alloc (), d);
}

static void
count_key_hash (GHashTable *counts,
                guint       hash)
{
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (counts, GUINT_TO_POINTER (hash)));

  g_hash_table_insert (counts, GUINT_TO_POINTER (hash), GUINT_TO_POINTER (n + 1));
}

/* FALSE when @key would be one key too many with the same g_str_hash(). */
static gboolean
check_key_hash (Frame      *frame,
                const char *key)
{
  guint hash = g_str_hash (key);

  if (frame->key_hashes == NULL)
    {
      JsonObjectIter iter;
      const char *name;

      frame->key_hashes = g_hash_table_new (NULL, NULL);
      json_object_iter_init (&iter, frame->object);
      while (json_object_iter_next (&iter, &name, NULL))
        count_key_hash (frame->key_hashes, g_str_hash (name));
    }

  if (GPOINTER_TO_UINT (g_hash_table_lookup (frame->key_hashes, GUINT_TO_POINTER (hash))) >=
      MAX_KEYS_PER_HASH)
    return FALSE;

  count_key_hash (frame->key_hashes, hash);
  return TRUE;
}

static void
pop_frame (Frame *frame)
{
  g_clear_pointer (&frame->key_hashes, g_hash_table_unref);
}

static gboolean
match_literal (Parser     *ps,
               const char *word,
               gsize       len)
{
  if ((gsize) (ps->end - ps->p) < len || memcmp (ps->p, word, len) != 0)
    {
      fail_at (ps, ps->p, "unexpected character");
      return FALSE;
    }

  ps->p += len;
  return TRUE;
}

/* Reads an object key and the ':' after it into ps->key. */
static gboolean
parse_key (Parser *ps)
{
  const guchar *key_start;

  skip_ws (ps);
  if (ps->p >= ps->end || *ps->p != '"')
    {
      fail_at (ps, ps->p, "expected a string key");
      return FALSE;
    }

  key_start = ps->p;
  if (!parse_string (ps, &ps->key))
    return FALSE;
  ps->key_at = key_start;

  /* Duplicates are found when the value is attached (see there). */

  skip_ws (ps);
  if (ps->p >= ps->end || *ps->p != ':')
    {
      fail_at (ps, ps->p, "expected ':'");
      return FALSE;
    }
  ps->p++;

  return TRUE;
}

JsonNode *
natter_json_parse (const char  *text,
                   gsize        len,
                   guint        max_depth,
                   GError     **error)
{
  Frame local_stack[NATTER_JSON_MAX_DEPTH];
  Frame *stack = local_stack;
  guint stack_size = G_N_ELEMENTS (local_stack);
  guint depth = 0;
  JsonNode *root = NULL;
  const char *invalid = NULL;
  Parser ps;

  g_return_val_if_fail (text != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  ps.start = (const guchar *) text;
  ps.p = ps.start;
  ps.end = ps.start + len;
  ps.error = error;

  /* Validating the whole input up front also rejects every raw NUL, and
   * lets the string scanner copy non-ASCII bytes without looking at them. */
  if (len > 0 && !g_utf8_validate_len (text, len, &invalid))
    {
      if (*invalid == '\0')
        fail_at (&ps, (const guchar *) invalid, "NUL byte");
      else
        fail_at (&ps, (const guchar *) invalid, "invalid UTF-8");
      return NULL;
    }

  /* Scratch strings, reused for every key and string of this input: the
   * only per-string allocation is json-glib's own copy. */
  scratch_init (&ps.key);
  scratch_init (&ps.str);
  ps.key_at = NULL;

  skip_ws (&ps);
  if (ps.p >= ps.end)
    {
      fail_at (&ps, ps.p, "empty input");
      goto fail;
    }

  for (;;)
    {
      JsonNode *node = NULL;
      guchar opener = 0;
      Frame *top;

      /* A value starts here. */
      skip_ws (&ps);
      if (ps.p >= ps.end)
        {
          fail_at (&ps, ps.p, "unexpected end of input");
          goto fail;
        }

      switch (*ps.p)
        {
        case '{':
        case '[':
          if (depth >= max_depth)
            {
              fail_at (&ps, ps.p, "nesting deeper than %u levels", max_depth);
              goto fail;
            }
          opener = *ps.p;
          node = json_node_alloc ();
          if (opener == '{')
            {
              JsonObject *object = json_object_new ();
              json_node_init_object (node, object);
              json_object_unref (object); /* the node holds it */
            }
          else
            {
              JsonArray *array = json_array_new ();
              json_node_init_array (node, array);
              json_array_unref (array);
            }
          break;
        case '"':
          if (!parse_string (&ps, &ps.str))
            goto fail;
          node = json_node_init_string (json_node_alloc (), ps.str.buf);
          break;
        case '-': case '0': case '1': case '2': case '3': case '4':
        case '5': case '6': case '7': case '8': case '9':
          node = parse_number (&ps);
          if (node == NULL)
            goto fail;
          break;
        case 't':
          if (!match_literal (&ps, "true", 4))
            goto fail;
          node = json_node_init_boolean (json_node_alloc (), TRUE);
          break;
        case 'f':
          if (!match_literal (&ps, "false", 5))
            goto fail;
          node = json_node_init_boolean (json_node_alloc (), FALSE);
          break;
        case 'n':
          if (!match_literal (&ps, "null", 4))
            goto fail;
          node = json_node_init_null (json_node_alloc ());
          break;
        default:
          fail_at (&ps, ps.p, "unexpected character");
          goto fail;
        }

      /* Attach the node to its parent right away (see above). */
      if (depth == 0)
        root = node;
      else
        {
          /* As JsonParser does, so json_node_get_parent() works. */
          json_node_set_parent (node, stack[depth - 1].node);
          if (stack[depth - 1].array != NULL)
            json_array_add_element (stack[depth - 1].array, node);
          else
            {
              JsonObject *object = stack[depth - 1].object;
              guint size = json_object_get_size (object);

              if (G_UNLIKELY (size >= KEY_HASH_CHECK_AFTER) &&
                  !check_key_hash (&stack[depth - 1], ps.key.buf))
                {
                  if (json_object_has_member (object, ps.key.buf))
                    fail_at (&ps, ps.key_at, "duplicate key");
                  else
                    fail_at (&ps, ps.key_at, "too many keys with the same hash");
                  json_node_unref (node);
                  goto fail;
                }

              /* A duplicate replaces the earlier member, so the size does
               * not grow: one hash lookup instead of two. No key holds a
               * NUL (rejected above), so the C-string comparison of the
               * hash table compares the unescaped bytes. The replaced
               * value is freed with the rest of the tree. */
              json_object_set_member (object, ps.key.buf, node);
              if (json_object_get_size (object) == size)
                {
                  fail_at (&ps, ps.key_at, "duplicate key");
                  goto fail;
                }
            }
        }

      if (opener != 0)
        {
          gboolean is_object = opener == '{';

          if (depth == stack_size)
            {
              guint new_size = MIN (MAX (stack_size * 2, 1), max_depth);

              if (stack == local_stack)
                {
                  stack = g_new (Frame, new_size);
                  memcpy (stack, local_stack, sizeof local_stack);
                }
              else
                stack = g_renew (Frame, stack, new_size);
              stack_size = new_size;
            }

          top = &stack[depth++];
          ps.p++;
          top->node = node;
          top->key_hashes = NULL;
          top->object = is_object ? json_node_get_object (node) : NULL;
          top->array = is_object ? NULL : json_node_get_array (node);

          skip_ws (&ps);
          if (ps.p < ps.end && *ps.p == (is_object ? '}' : ']'))
            {
              ps.p++;
              depth--;
            }
          else
            {
              if (is_object && !parse_key (&ps))
                goto fail;
              continue;
            }
        }

      /* A value ended: close containers, or find the next element. */
      for (;;)
        {
          if (depth == 0)
            goto done;

          top = &stack[depth - 1];
          skip_ws (&ps);
          if (ps.p >= ps.end)
            {
              fail_at (&ps, ps.p, "unexpected end of input");
              goto fail;
            }

          if (*ps.p == ',')
            {
              ps.p++;
              if (top->object != NULL && !parse_key (&ps))
                goto fail;
              break;
            }

          if (*ps.p == (top->object != NULL ? '}' : ']'))
            {
              ps.p++;
              pop_frame (top);
              depth--;
              continue;
            }

          fail_at (&ps, ps.p, top->object != NULL ? "expected ',' or '}'" : "expected ',' or ']'");
          goto fail;
        }
    }

done:
  skip_ws (&ps);
  if (ps.p != ps.end)
    {
      fail_at (&ps, ps.p, "trailing data after the value");
      goto fail;
    }

  if (stack != local_stack)
    g_free (stack);
  scratch_clear (&ps.key);
  scratch_clear (&ps.str);
  return root;

fail:
  for (guint i = 0; i < depth; i++)
    pop_frame (&stack[i]);
  if (stack != local_stack)
    g_free (stack);
  scratch_clear (&ps.key);
  scratch_clear (&ps.str);
  g_clear_pointer (&root, json_node_unref);
  return NULL;
}

JsonNode *
natter_json_parse_frame (const char  *text,
                         gsize        len,
                         JsonObject **out_object,
                         GError     **error)
{
  g_autoptr(JsonNode) root = NULL;
  JsonObject *object;
  JsonNode *type;

  if (out_object != NULL)
    *out_object = NULL;

  root = natter_json_parse (text, len, NATTER_JSON_MAX_DEPTH, error);
  if (root == NULL)
    return NULL;

  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (error, NATTER_ERROR, NATTER_ERROR_BAD_FRAME,
                           "frame is not a JSON object");
      return NULL;
    }

  object = json_node_get_object (root);
  type = json_object_get_member (object, "type");
  if (type == NULL || json_node_get_value_type (type) != G_TYPE_STRING)
    {
      g_set_error_literal (error, NATTER_ERROR, NATTER_ERROR_BAD_FRAME,
                           "frame has no string \"type\"");
      return NULL;
    }

  if (out_object != NULL)
    *out_object = object;

  return g_steal_pointer (&root);
}

/* ------------------------------------------------------------------------
 * Writer
 * ------------------------------------------------------------------------ */

/* Bytes below 0x80 that a string literal cannot hold as they are. */
static const guint8 needs_escape[128] = {
  [0x00] = 1, [0x01] = 1, [0x02] = 1, [0x03] = 1, [0x04] = 1, [0x05] = 1,
  [0x06] = 1, [0x07] = 1, [0x08] = 1, [0x09] = 1, [0x0a] = 1, [0x0b] = 1,
  [0x0c] = 1, [0x0d] = 1, [0x0e] = 1, [0x0f] = 1, [0x10] = 1, [0x11] = 1,
  [0x12] = 1, [0x13] = 1, [0x14] = 1, [0x15] = 1, [0x16] = 1, [0x17] = 1,
  [0x18] = 1, [0x19] = 1, [0x1a] = 1, [0x1b] = 1, [0x1c] = 1, [0x1d] = 1,
  [0x1e] = 1, [0x1f] = 1, ['"'] = 1, ['\\'] = 1, [0x7f] = 1,
};

/* Length of the well-formed UTF-8 sequence at @p (no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0. */
static gsize
utf8_sequence_len (const guchar *p,
                   const guchar *end)
{
  guchar c = p[0];
  gsize avail = (gsize) (end - p);

  if (c < 0x80)
    return 1;
  if (c >= 0xc2 && c <= 0xdf)
    return avail >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef)
    {
      if (avail < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
        return 0;
      if (c == 0xe0 && p[1] < 0xa0)
        return 0; /* overlong */
      if (c == 0xed && p[1] >= 0xa0)
        return 0; /* surrogate */
      return 3;
    }
  if (c >= 0xf0 && c <= 0xf4)
    {
      if (avail < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
          (p[3] & 0xc0) != 0x80)
        return 0;
      if (c == 0xf0 && p[1] < 0x90)
        return 0; /* overlong */
      if (c == 0xf4 && p[1] >= 0x90)
        return 0; /* above U+10FFFF */
      return 4;
    }
  return 0;
}

void
natter_json_append_string (GString    *out,
                           const char *value,
                           gssize      len)
{
  static const char hex[] = "0123456789abcdef";
  const guchar *p;
  const guchar *end;

  g_return_if_fail (out != NULL);

  if (value == NULL)
    {
      value = "";
      len = 0;
    }
  if (len < 0)
    len = (gssize) strlen (value);

  p = (const guchar *) value;
  end = p + len;

  g_string_append_c (out, '"');

  while (p < end)
    {
      const guchar *run = p;
      gsize seq;

      /* Copy the longest run that needs nothing. */
      while (p < end && *p < 0x80 && !needs_escape[*p])
        p++;
      if (p > run)
        g_string_append_len (out, (const char *) run, p - run);
      if (p >= end)
        break;

      if (*p < 0x80)
        {
          switch (*p)
            {
            case '"': g_string_append_len (out, "\\\"", 2); break;
            case '\\': g_string_append_len (out, "\\\\", 2); break;
            case '\n': g_string_append_len (out, "\\n", 2); break;
            case '\t': g_string_append_len (out, "\\t", 2); break;
            case '\r': g_string_append_len (out, "\\r", 2); break;
            case '\b': g_string_append_len (out, "\\b", 2); break;
            case '\f': g_string_append_len (out, "\\f", 2); break;
            default:
              {
                char esc[6] = { '\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 0xf] };
                g_string_append_len (out, esc, 6);
              }
              break;
            }
          p++;
          continue;
        }

      seq = utf8_sequence_len (p, end);
      if (seq == 0)
        {
          /* Never put invalid UTF-8 on the wire: the peer would have to
           * reject the whole frame. */
          g_string_append_len (out, "\\ufffd", 6);
          p++;
          continue;
        }

      /* U+2028 and U+2029 are valid JSON but end lines in JavaScript. */
      if (seq == 3 && p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9))
        g_string_append_len (out, p[2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
      else
        g_string_append_len (out, (const char *) p, seq);
      p += seq;
    }

  g_string_append_c (out, '"');
}

/* need_comma has one bit per open container, level 1 in bit 0: a top-level
 * value never needs a comma. */
#define WRITER_MAX_LEVELS 64

static inline void
before_value (NatterJsonWriter *w)
{
  if (w->after_key)
    {
      w->after_key = FALSE;
      return;
    }

  if (w->depth > 0 && w->depth <= WRITER_MAX_LEVELS &&
      (w->need_comma & (G_GUINT64_CONSTANT (1) << (w->depth - 1))) != 0)
    g_string_append_c (w->out, ',');
}

static inline void
after_value (NatterJsonWriter *w)
{
  if (w->depth > 0 && w->depth <= WRITER_MAX_LEVELS)
    w->need_comma |= G_GUINT64_CONSTANT (1) << (w->depth - 1);
}

static inline void
open_container (NatterJsonWriter *w,
                char              c)
{
  before_value (w);
  after_value (w);
  g_string_append_c (w->out, c);

  /* Deeper than the bitfield cannot place commas; that is a bug in the
   * caller, and the contract caps depth far below it. */
  g_warn_if_fail (w->depth < WRITER_MAX_LEVELS);
  w->depth++;
  if (w->depth <= WRITER_MAX_LEVELS)
    w->need_comma &= ~(G_GUINT64_CONSTANT (1) << (w->depth - 1));
}

static inline void
close_container (NatterJsonWriter *w,
                 char              c)
{
  g_return_if_fail (w->depth > 0);

  g_string_append_c (w->out, c);
  w->depth--;
  w->after_key = FALSE;
}

void
natter_json_writer_init (NatterJsonWriter *w,
                         GString          *out)
{
  g_return_if_fail (w != NULL);
  g_return_if_fail (out != NULL);

  w->out = out;
  w->depth = 0;
  w->need_comma = 0;
  w->after_key = FALSE;
}

void
natter_json_writer_begin_object (NatterJsonWriter *w)
{
  open_container (w, '{');
}

void
natter_json_writer_end_object (NatterJsonWriter *w)
{
  close_container (w, '}');
}

void
natter_json_writer_begin_array (NatterJsonWriter *w)
{
  open_container (w, '[');
}

void
natter_json_writer_end_array (NatterJsonWriter *w)
{
  close_container (w, ']');
}

void
natter_json_writer_key (NatterJsonWriter *w,
                        const char       *key)
{
  before_value (w);
  after_value (w);
  natter_json_append_string (w->out, key, -1);
  g_string_append_c (w->out, ':');
  w->after_key = TRUE;
}

void
natter_json_writer_string (NatterJsonWriter *w,
                           const char       *value)
{
  before_value (w);
  natter_json_append_string (w->out, value, -1);
  after_value (w);
}

void
natter_json_writer_string_or_null (NatterJsonWriter *w,
                                   const char       *value)
{
  if (value == NULL)
    natter_json_writer_null (w);
  else
    natter_json_writer_string (w, value);
}

void
natter_json_writer_string_len (NatterJsonWriter *w,
                               const char       *value,
                               gsize             len)
{
  before_value (w);
  natter_json_append_string (w->out, value, (gssize) len);
  after_value (w);
}

void
natter_json_writer_int (NatterJsonWriter *w,
                        gint64            value)
{
  /* By hand: printf's parsing of the format showed in the send path's
   * profile, and every message carries two of these. */
  char digits[24];
  char *p = digits + sizeof digits;
  guint64 magnitude = value < 0 ? -(guint64) value : (guint64) value;

  do
    {
      *--p = (char) ('0' + magnitude % 10);
      magnitude /= 10;
    }
  while (magnitude != 0);
  if (value < 0)
    *--p = '-';
  before_value (w);
  g_string_append_len (w->out, p, digits + sizeof digits - p);
  after_value (w);
}

void
natter_json_writer_bool (NatterJsonWriter *w,
                         gboolean          value)
{
  before_value (w);
  if (value)
    g_string_append_len (w->out, "true", 4);
  else
    g_string_append_len (w->out, "false", 5);
  after_value (w);
}

void
natter_json_writer_null (NatterJsonWriter *w)
{
  before_value (w);
  g_string_append_len (w->out, "null", 4);
  after_value (w);
}

void
natter_json_writer_raw (NatterJsonWriter *w,
                        const char       *json,
                        gsize             len)
{
  before_value (w);
  g_string_append_len (w->out, json, (gssize) len);
  after_value (w);
}

/* Appends a double so that it reads back as the same double, and as a
 * double: "3.0", not "3". Non-finite values cannot be JSON; they become
 * null. */
static void
append_double (GString *out,
               gdouble  d)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  const char *s;

  if (!isfinite (d))
    {
      g_string_append_len (out, "null", 4);
      return;
    }

  s = g_ascii_dtostr (buf, sizeof buf, d);
  g_string_append (out, s);
  if (strpbrk (s, ".eE") == NULL)
    g_string_append_len (out, ".0", 2);
}

/* Writes a scalar (or null) node; containers are handled by the caller. */
static void
append_scalar (GString  *out,
               JsonNode *node)
{
  if (JSON_NODE_TYPE (node) != JSON_NODE_VALUE)
    {
      g_string_append_len (out, "null", 4);
      return;
    }

  switch (json_node_get_value_type (node))
    {
    case G_TYPE_INT64:
      g_string_append_printf (out, "%" G_GINT64_FORMAT, json_node_get_int (node));
      break;
    case G_TYPE_DOUBLE:
      append_double (out, json_node_get_double (node));
      break;
    case G_TYPE_BOOLEAN:
      if (json_node_get_boolean (node))
        g_string_append_len (out, "true", 4);
      else
        g_string_append_len (out, "false", 5);
      break;
    case G_TYPE_STRING:
      natter_json_append_string (out, json_node_get_string (node), -1);
      break;
    default:
      g_string_append_len (out, "null", 4);
      break;
    }
}

typedef struct {
  JsonNode      *node;
  JsonObjectIter iter;  /* objects */
  guint          index; /* arrays */
  gboolean       first;
} WriteFrame;

/* Serialises @node into @out without recursion (json-glib trees built by
 * other code may be arbitrarily deep). */
static void
append_node (GString  *out,
             JsonNode *node)
{
  g_autoptr(GArray) stack = NULL;

  if (node == NULL)
    {
      g_string_append_len (out, "null", 4);
      return;
    }

  stack = g_array_new (FALSE, FALSE, sizeof (WriteFrame));

  for (;;)
    {
      WriteFrame *top;
      JsonNode *child = NULL;

      /* Write @node, descending into it if it is a non-empty container. */
      if (node != NULL)
        {
          WriteFrame frame;

          memset (&frame, 0, sizeof frame);
          frame.node = node;
          frame.first = TRUE;

          if (JSON_NODE_HOLDS_OBJECT (node))
            {
              g_string_append_c (out, '{');
              json_object_iter_init_ordered (&frame.iter, json_node_get_object (node));
              g_array_append_val (stack, frame);
            }
          else if (JSON_NODE_HOLDS_ARRAY (node))
            {
              g_string_append_c (out, '[');
              g_array_append_val (stack, frame);
            }
          else
            append_scalar (out, node);
          node = NULL;
        }

      if (stack->len == 0)
        return;

      /* Find the next child of the innermost open container. */
      top = &g_array_index (stack, WriteFrame, stack->len - 1);
      if (JSON_NODE_HOLDS_OBJECT (top->node))
        {
          const char *name;

          if (json_object_iter_next_ordered (&top->iter, &name, &child))
            {
              if (!top->first)
                g_string_append_c (out, ',');
              natter_json_append_string (out, name, -1);
              g_string_append_c (out, ':');
            }
          else
            child = NULL;
        }
      else
        {
          JsonArray *array = json_node_get_array (top->node);

          if (top->index < json_array_get_length (array))
            {
              child = json_array_get_element (array, top->index++);
              if (!top->first)
                g_string_append_c (out, ',');
            }
        }

      if (child != NULL)
        {
          top->first = FALSE;
          node = child;
        }
      else
        {
          g_string_append_c (out, JSON_NODE_HOLDS_OBJECT (top->node) ? '}' : ']');
          g_array_set_size (stack, stack->len - 1);
        }
    }
}

void
natter_json_writer_node (NatterJsonWriter *w,
                         JsonNode         *node)
{
  before_value (w);
  append_node (w->out, node);
  after_value (w);
}

char *
natter_json_to_string (JsonNode *node)
{
  GString *out = g_string_sized_new (64);

  append_node (out, node);
  return g_string_free (out, FALSE);
}
