/* fuzz-natterd.h: natterd in-process for the fuzz targets that drive it
 * (fuzz-server, fuzz-cluster-bus): the network layer, a SQLite store in a
 * temporary directory and the chat layer, wired as main.c wires them.
 */
#pragma once

#include "natterd-chat.h"
#include "natterd-server.h"
#include "natterd-store.h"

typedef struct {
  char             *dir;
  NatterdServer    *server;
  NatterdStore     *store;
  NatterdDirectory *chat;
} FuzzNatterd;

/* Writes before the chat layer loads the store (users, rooms an input
 * can name). */
typedef void (*FuzzNatterdSeedFunc) (NatterdStore *store);

/* Starts natterd with @config_text, read as natterd reads its config
 * file, without data_dir (the temporary directory is set here); @seed may
 * be NULL. Nothing listens yet. At exit natterd is stopped and the
 * directory removed. Asserts on any failure. */
void fuzz_natterd_start (FuzzNatterd         *self,
                         const char          *config_text,
                         FuzzNatterdSeedFunc  seed);
