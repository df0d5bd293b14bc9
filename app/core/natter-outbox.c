/* natter-outbox.c: being written by the client-core helper. */
