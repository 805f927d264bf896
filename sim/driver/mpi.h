/* The message-passing layer (issue 21): the few collectives the driver needs, over MPI when
 * the build has it (FW_MPI=ON) and the program was started by mpirun, and trivial for one
 * process otherwise (the default build has no MPI at all).
 * Owns: MPI's initialisation and the world communicator's size and rank.  Borrows: nothing.
 * Never touches: simulation state; callers pack and unpack their own bytes.
 *
 * Only the main thread calls these (MPI_THREAD_FUNNELED), and every rank calls the same
 * collectives in the same order: a rank that stops calling them leaves the others waiting
 * until mpirun ends the job (fw_mpi_abort). */
#ifndef FLYWHEEL_MPI_H
#define FLYWHEEL_MPI_H

#include <stddef.h>
#include <stdint.h>

#include "flywheel/err.h"

/* Initialises MPI when this build has it and an MPI launcher started the process (its
 * environment says so); otherwise the process is rank 0 of 1. Call first thing in main. */
void fw_mpi_init(int *argc, char ***argv);
/* Finalises what fw_mpi_init started (a no-op otherwise). */
void fw_mpi_finalize(void);
/* Ends every rank of the job with exit status code (exit(code) without MPI). */
_Noreturn void fw_mpi_abort(int code);

int fw_mpi_rank(void);
int fw_mpi_size(void);
/* 1 when this build was made with FW_MPI=ON. */
int fw_mpi_built(void);
/* 1 when this process started MPI (it runs under a launcher, even as its only rank). */
int fw_mpi_started(void);

/* A growable byte buffer. */
typedef struct fw_bytes {
    unsigned char *v;
    size_t n, cap;
} fw_bytes;

/* Room for n more bytes at the end; a pointer to them (b->n grows by n), or NULL. */
void *fw_bytes_add(fw_bytes *b, size_t n);
void fw_bytes_free(fw_bytes *b);

/* Every rank contributes mine[0..n) and a flag; all ranks receive the concatenation in rank
 * order in *all (rank r's bytes at all->v[at[r] .. at[r + 1]), at[size + 1]) and the OR of
 * the flags in *flag_any. One MPI_Allgather of the sizes and one MPI_Allgatherv of the bytes.
 * *sync_s gets the seconds in the first, where a rank waits for the last to arrive (load
 * imbalance plus one small collective's latency); the second's are the data's. A total
 * above 2 GiB (MPI's int counts) goes in several MPI_Allgatherv rounds of at most 2 GiB
 * (FLYWHEEL_MPI_ROUND_BYTES: smaller rounds, for tests). FW_ERR_NOMEM when a buffer cannot
 * grow. */
fw_err fw_mpi_exchange(const void *mine, size_t n, int flag, fw_bytes *all, size_t *at, int *flag_any,
                       double *sync_s);

/* Every rank waits here until all have come (MPI_Barrier). */
void fw_mpi_barrier(void);

/* v[0..n) summed over the ranks, in place on every rank (MPI_Allreduce of integers: exact; in
 * rounds of at most INT_MAX values). */
fw_err fw_mpi_sum_u64(uint64_t *v, size_t n);
/* The same for 32-bit counts: per-user arrays whose rows only the owning rank counted (the
 * others' are 0), so the sum is the owner's count. */
fw_err fw_mpi_sum_u32(uint32_t *v, size_t n);

#endif
