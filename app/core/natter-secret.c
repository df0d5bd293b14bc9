/* natter-secret.c: being written by the client-core helper. */
