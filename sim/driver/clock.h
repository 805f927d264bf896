/* The parallel driver: the one place in Flywheel with OpenMP.
 * Owns: nothing.  Borrows: the kernel and its argument for the duration of a call.
 * Never touches: model state; kernels are plain serial functions over [begin, end).
 *
 * Results never depend on the thread count: a kernel writes only its own outputs and the
 * per-thread buffer selected by slot, and callers merge buffers in a fixed order. The slot
 * picks a buffer, never a random stream. */
#ifndef FLYWHEEL_CLOCK_H
#define FLYWHEEL_CLOCK_H

#include <stddef.h>

typedef void (*fw_par_kernel)(void *arg, size_t begin, size_t end, int slot);

/* Threads a parallel loop will use (1 when built without OpenMP). */
int fw_par_threads(void);

/* Sets the thread count; values < 1 leave the OpenMP default (OMP_NUM_THREADS, else all
 * cores). No effect without OpenMP. */
void fw_par_set_threads(int n);

/* Calls kernel over [0, n) in chunks of grain (dynamic schedule), slot in
 * [0, fw_par_threads()). Returns when every chunk is done. */
void fw_par_for(size_t n, size_t grain, fw_par_kernel kernel, void *arg);

/* In a process forked from a running simulation (the background snapshot writer): every later
 * fw_par_for runs its chunks in order on the calling thread. The child has only the thread
 * that forked, and OpenMP's thread pool is not fork-safe. */
void fw_par_forked(void);

#endif
