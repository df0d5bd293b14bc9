/* natter-core-enums.c: being written by the client-core helper. */
