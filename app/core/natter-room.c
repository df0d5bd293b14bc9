/* natter-room.c: being written by the client-core helper. */
