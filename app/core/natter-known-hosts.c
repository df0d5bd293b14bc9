/* natter-known-hosts.c: being written by the client-core helper. */
