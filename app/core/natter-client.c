/* natter-client.c: being written by the client-core helper. */
