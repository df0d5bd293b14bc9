/* natter-conversation.c: being written by the client-core helper. */
