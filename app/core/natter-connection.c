/* natter-connection.c: being written by the client-core helper. */
