/* natter-message.c: being written by the client-core helper. */
