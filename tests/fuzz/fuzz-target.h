/* fuzz-target.h: the functions libFuzzer calls in every target of this
 * folder, declared once (the build wants a prototype for each). */
#pragma once

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);
/* Optional; fuzz-glib-fatal.c has the protocol targets' one. */
int LLVMFuzzerInitialize   (int *argc, char ***argv);
