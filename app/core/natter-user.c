/* natter-user.c: being written by the client-core helper. */
