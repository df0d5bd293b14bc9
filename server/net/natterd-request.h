/* natterd-request.h: one request being handled, and its reply.
 *
 * The connection hands each frame to the dispatch table as a NatterdRequest.
 * The handler must finish it exactly once, with natterd_request_ok*() or
 * natterd_request_error*(), either before it returns or later (after a
 * hash in the thread pool, or once a send's transaction has committed).
 * Replies leave in the order the requests arrived, whatever order they are
 * finished in. A request whose connection closed meanwhile may still be
 * finished; the reply is simply dropped.
 *
 * A request without "id" gets no ok reply; an error reply carries "re":null.
 */
#pragma once

#include <json-glib/json-glib.h>
#include "natter-error.h"
#include "natter-json.h"
#include "natterd-connection.h"

G_BEGIN_DECLS

typedef struct _NatterdRequest NatterdRequest;

NatterdConnection *natterd_request_get_connection (NatterdRequest *self);
NatterdServer     *natterd_request_get_server     (NatterdRequest *self);
/* The frame's object; valid until the request is finished. */
JsonObject        *natterd_request_get_frame      (NatterdRequest *self);
const char        *natterd_request_get_type       (NatterdRequest *self);
gboolean           natterd_request_has_id         (NatterdRequest *self);

/* Finishing with ok: begin, add fields to the writer (it is positioned inside
 * {"type":"ok","re":ID), then finish. The writer is NULL-safe to use even
 * when the request has no id (the text is then thrown away). */
NatterJsonWriter  *natterd_request_begin_ok       (NatterdRequest *self);
void               natterd_request_finish_ok      (NatterdRequest *self);
/* An ok with no fields. */
void               natterd_request_ok             (NatterdRequest *self);

void               natterd_request_error          (NatterdRequest  *self,
                                                   NatterErrorCode  code,
                                                   const char      *message);
/* Uses error->code when error->domain is NATTER_ERROR, else internal. */
void               natterd_request_error_from     (NatterdRequest  *self,
                                                   const GError    *error);
void               natterd_request_rate_limited   (NatterdRequest  *self,
                                                   gint64           retry_after_ms);

/* Holds the reply back: a request finished while held is answered (and
 * freed, and its connection's later replies follow) only at the last
 * release. A cluster's change of the directory is answered once the
 * other nodes have read it. */
void               natterd_request_hold           (NatterdRequest  *self);
void               natterd_request_release        (NatterdRequest  *self);

/* Handlers flagged NATTERD_HANDLER_PAUSES hold back the connection's next
 * frames until they finish (a login: what follows may need its user). Other
 * handlers that finish later (a send waiting for its commit) do not: the
 * next frames are handled at once and only their replies wait their turn.
 * A handler that puts its request aside to be handled again later, before
 * anything of it is done (a lookup that missed waits for a refresh of the
 * directory), pauses the connection too with natterd_request_pause: the
 * next frames must not act before it (a send, then a logout). */
void               natterd_request_pause          (NatterdRequest  *self);
gboolean           natterd_request_get_pauses     (NatterdRequest  *self);

G_END_DECLS
