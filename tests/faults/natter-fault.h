/* natter-fault.h: the control block shared by the fault shim
 * (natter-fault-shim.c, preloaded into natterd) and the test that drives
 * it (test-disk-faults.c). See the shim for the design.
 *
 * The block is the whole content of a small file, mapped MAP_SHARED by
 * both processes: the test changes a field, and natterd's next write sees
 * it, with no signal, no re-read and no restart.
 */
#pragma once

#include <stdint.h>

#define NATTER_FAULT_MAGIC 0x4e464c54u /* "NFLT" */

/* Which calls a fault hits (ops). */
#define NATTER_FAULT_OP_WRITE    0x1u  /* write, pwrite, pwrite64, writev, pwritev */
#define NATTER_FAULT_OP_SYNC     0x2u  /* fsync, fdatasync */
#define NATTER_FAULT_OP_TRUNCATE 0x4u  /* ftruncate, ftruncate64 */
#define NATTER_FAULT_OP_ALLOCATE 0x8u  /* fallocate, fallocate64, posix_fallocate */
#define NATTER_FAULT_OP_ALL      0xfu

typedef struct {
  uint32_t magic;
  /* Set by the test. A change of generation makes the shim forget what it
   * knows of every fd (which paths match): set it after the pattern. */
  uint32_t generation;
  uint32_t armed;       /* 0: every call goes through (the calls are still counted) */
  uint32_t ops;         /* NATTER_FAULT_OP_* */
  int32_t  error;       /* the errno a failed call sets: ENOSPC, EIO */
  uint32_t after;       /* matching calls let through before the first failure */
  uint32_t max_failures;/* 0: fail every matching call after @after while armed */
  char     pattern[240];/* fnmatch(3) pattern (no flags) on the file's path */

  /* Counted by the shim (atomically), reset by the test. */
  uint32_t seen;        /* matching calls, failed or not */
  uint32_t failed;      /* of them, failed */
  uint32_t reserved[4];
} NatterFaultControl;
