/* natter-outbox.h: messages written but not yet acknowledged, on disk.
 *
 * An append-only log in the state dir: each line is a JSON object, either
 * {"op":"add","client_msg_id","to","body","ts","account"} (a send; with
 * "reply_to", "reply_from", "reply_body" for a reply; or with "kind"
 * "edit", "delete" or "react", "message" and, for a reaction, "emoji" and
 * "on": an action on a stored message, keyed by a client_msg_id of its
 * own; or with "kind" "send_files" and "files", a send with files) or
 * {"op":"files","client_msg_id","files"} (a send's files as they stand
 * now: what was uploaded, so that an app restart resumes the upload), or
 * {"op":"done","client_msg_id"} or {"op":"failed","client_msg_id"} (the
 * server refused it for good: it is kept, to be retried or removed, but
 * not sent by itself; a later add of the same id makes it pending again). An add is written (so it survives the
 * app crashing) before the call returns, and fdatasync'd at the end of the
 * main-loop iteration (one sync for a burst of sends; so it survives a
 * power cut too). When every entry is done the log is truncated; when it
 * grows large it is compacted with an atomic g_file_set_contents().
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum {
  NATTER_OUTBOX_SEND,
  NATTER_OUTBOX_EDIT,
  NATTER_OUTBOX_DELETE,
  NATTER_OUTBOX_REACT,
} NatterOutboxKind;

typedef struct {
  char   *client_msg_id;
  char   *to;          /* conversation address */
  char   *body;
  gint64  ts;          /* local time it was written, ms */
  gboolean failed;     /* refused for good: not to be sent until retried */
  char   *account;     /* "user@host:port" that wrote it; NULL: written
                        * before entries named their account */
  /* feature message_actions */
  NatterOutboxKind kind;
  gint64  message;     /* an action's message id */
  char   *emoji;       /* a reaction's */
  gboolean on;         /* a reaction added (TRUE) or taken back */
  gint64  reply_to;    /* a send's original, 0 for none */
  char   *reply_from;  /* ...its sender and quoted line, to show it */
  char   *reply_body;  /*    again after a restart */
  /* feature files: a send's files, NULL for none: a JSON array of
   * {"path","name","mime","size"} (natter-client-files.c), kept as
   * text. On disk such a send has "kind":"send_files" and "files". */
  char   *files;
} NatterOutboxEntry;

#define NATTER_TYPE_OUTBOX (natter_outbox_get_type ())
G_DECLARE_FINAL_TYPE (NatterOutbox, natter_outbox, NATTER, OUTBOX, GObject)

/* Loads @path; a corrupt tail (a torn last line) is ignored. */
NatterOutbox *natter_outbox_new       (const char    *path);

/* The account later adds belong to ("user@host:port"): a device may be
 * shared, and what one account wrote must never be sent as another. */
void          natter_outbox_set_account (NatterOutbox *self,
                                         const char   *account);
/* Adding an id that is there already (a failed entry, retried) makes it
 * pending again. */
gboolean      natter_outbox_add       (NatterOutbox  *self,
                                       const char    *client_msg_id,
                                       const char    *to,
                                       const char    *body,
                                       gint64         ts,
                                       GError       **error);
/* Adds a copy of @entry (its account is the outbox's own). */
gboolean      natter_outbox_add_entry (NatterOutbox            *self,
                                       const NatterOutboxEntry *entry,
                                       GError                 **error);
/* Replaces the files of the send @client_msg_id (see NatterOutboxEntry);
 * unknown ids are ignored. Not synced: were the line lost, the upload
 * would only begin again. */
gboolean      natter_outbox_set_files (NatterOutbox *self,
                                       const char   *client_msg_id,
                                       const char   *files,
                                       GError      **error);
/* Marks an entry refused for good: it stays (failed) until added again or
 * removed. Unknown ids are ignored. */
gboolean      natter_outbox_mark_failed (NatterOutbox *self,
                                       const char    *client_msg_id,
                                       GError       **error);
/* Removes an entry (acknowledged, or a failed one deleted); unknown ids
 * are ignored. */
gboolean      natter_outbox_remove    (NatterOutbox  *self,
                                       const char    *client_msg_id,
                                       GError       **error);
/* The entry @client_msg_id, or NULL (borrowed; valid until the next change). */
NatterOutboxEntry *natter_outbox_lookup (NatterOutbox *self,
                                         const char   *client_msg_id);
/* Entries in the order they were added, failed ones included (borrowed;
 * valid until the next change). */
GPtrArray    *natter_outbox_get_pending (NatterOutbox *self);
guint         natter_outbox_get_n_pending (NatterOutbox *self);
/* fdatasyncs now what was written (done by itself at idle, and on finalize). */
void          natter_outbox_sync      (NatterOutbox  *self);

G_END_DECLS
