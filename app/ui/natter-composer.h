/* natter-composer.h: the message entry under a conversation. */
#pragma once

#include <gtk/gtk.h>

#include "natter-core.h"

G_BEGIN_DECLS

#define NATTER_TYPE_COMPOSER (natter_composer_get_type ())
G_DECLARE_FINAL_TYPE (NatterComposer, natter_composer, NATTER, COMPOSER, GtkWidget)

void        natter_composer_set_client       (NatterComposer     *self,
                                              NatterClient       *client);
/* The conversation messages go to; the draft of the previous one is kept
 * for when it comes back. */
void        natter_composer_set_conversation (NatterComposer     *self,
                                              NatterConversation *conversation);
/* The text being written (for tests and drafts). */
char       *natter_composer_dup_text         (NatterComposer     *self);
void        natter_composer_set_text         (NatterComposer     *self,
                                              const char         *text);
void        natter_composer_focus            (NatterComposer     *self);
/* Answers @message with the next message sent (a bar quotes it). */
void        natter_composer_reply            (NatterComposer     *self,
                                              NatterMessage      *message);
/* Puts @message's text (one of ours) in the entry; sending edits it. */
void        natter_composer_edit             (NatterComposer     *self,
                                              NatterMessage      *message);
/* Stops answering or editing (an edit's text goes with it). */
void        natter_composer_cancel           (NatterComposer     *self);
/* The message answered or edited, or NULL; and which of the two. */
NatterMessage *natter_composer_get_target    (NatterComposer     *self);
gboolean    natter_composer_is_editing       (NatterComposer     *self);
/* Sends @files (1 to 10) to the open conversation as a message of their
 * own, as the attach button does: each image gets its size and a
 * preview, made off the main loop, before the message goes into the
 * outbox; "sent" is emitted then. */
void        natter_composer_attach_files     (NatterComposer     *self,
                                              GFile             **files,
                                              guint               n_files);

/* Signals:
 *   sent (NatterMessage *message): a message was handed to the client.
 */

G_END_DECLS
