/* natter-message-list.c: being written by the client-core helper. */
