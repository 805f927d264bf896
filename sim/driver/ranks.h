/* Users partitioned over MPI ranks (issue 21): what the driver does differently when
 * `mpirun -np R flywheel run` starts R processes (driver/mpi.h; with one process every call
 * here is a no-op and the run is the same as ever).
 * Owns: the exchange buffers, the rank's slice of users, the bytes-exchanged tally.
 * Borrows: the run's fw_sim during each call.
 * Never touches: files (every rank's recorder writes its share of the one result file,
 * collectively, and rank 0 renames it: io/recorder.h, fw_recorder_set_parallel).
 *
 * The design (docs/ARCHITECTURE.md, "Ranks"): every rank holds the whole run -- world,
 * users' state, per-user aggregates, engine -- and runs the sessions of its own contiguous
 * slice of users [lo, hi) only, with its OpenMP threads. At each tick's barrier one
 * exchange (fw_mpi_exchange) gives every rank every rank's records of the tick, which,
 * concatenated in rank order, are the tick's log in user order, and the rows of the users
 * who ran, which every rank copies into its replicas. So at every barrier every rank's state
 * is the same as the single-process run's, and every rank applies the same log to its
 * engine. What the engine keeps per user while serving requests (what a user was served, ad
 * frequency caps) stays with the user's own rank: only that rank serves that user.
 *
 * Counted once: the day's counters are each rank's increments from its own sessions and
 * schedule, plus rank 0's from the serial phases (barrier hooks count for any user; every
 * rank runs them, so the other ranks drop theirs), summed by MPI_Allreduce; the engine's
 * work the same way. */
#ifndef FLYWHEEL_RANKS_H
#define FLYWHEEL_RANKS_H

#include <stdint.h>
#include <stdio.h>

#include "driver/evlog.h"
#include "driver/mpi.h"
#include "driver/sim.h"

typedef struct fw_ranks {
    int rank, size;
    uint32_t lo, hi;            /* this rank's users */
    size_t row_bytes;           /* one user's rows in the exchange */
    fw_bytes out, all;          /* this rank's message; every rank's, in rank order */
    size_t *at;                 /* [size + 1] */
    uint64_t *saved;            /* thread 0's counters, kept across a serial phase (rank > 0) */
    uint32_t *tick_user;        /* [n_users] the users who ran in the tick, every rank's (S->tick_user) */
    uint64_t work_par[FW_WORK__COUNT];   /* the engine's work in this rank's sessions today */
    uint64_t work_mark[FW_WORK__COUNT];
    uint64_t day_work[FW_WORK__COUNT];   /* the day's work over the ranks (fw_ranks_day_end) */
    /* The tally: bytes of every rank's messages together, exchanges, user-ticks carried. */
    uint64_t bytes, max_tick_bytes, ticks, user_ticks, records;
    uint64_t ev_bytes;          /* of bytes: the event log's rows (output.events) */
    /* Seconds in the exchanges: waiting for every rank to arrive (the sizes' collective:
     * load imbalance and one latency), moving the data (the bytes' collective), and packing
     * and unpacking. */
    double t_sync, t_data, t_pack;
} fw_ranks;

/* This process's place (size 1 without MPI, or for a local run: fw_run_opts.local): slice,
 * buffers. FW_ERR_NOMEM. */
fw_err fw_ranks_init(fw_ranks *R, const fw_sim *S, int local);
void fw_ranks_fini(fw_ranks *R);

/* Whether u's sessions run here. */
static inline int fw_ranks_owns(const fw_ranks *R, uint32_t u) { return u >= R->lo && u < R->hi; }

/* Why this run cannot run on several ranks, or NULL: the features whose session or
 * barrier hooks keep state the exchange does not carry (checked once the parts are chosen:
 * names[0..n) the parts that run). */
const char *fw_ranks_refusal(const fw_sim *S, const char *const *names, uint32_t n, int local);

/* Around a serial phase (the parts' day starts, a barrier): on ranks > 0 thread 0's
 * counters are put back as they were, so what the phase counts is counted by rank 0 alone. */
void fw_ranks_serial_begin(fw_ranks *R, fw_sim *S);
void fw_ranks_serial_end(fw_ranks *R, fw_sim *S);
/* Around the sessions of a tick: the engine's work done in them (the other ranks' share). */
void fw_ranks_sessions_begin(fw_ranks *R, const fw_sim *S);
void fw_ranks_sessions_end(fw_ranks *R, const fw_sim *S);

/* The barrier's exchange: this rank's log of the tick (in user order) and the rows of its
 * users run_user[0..n_runs) go out; *log becomes the whole tick's log and every other rank's
 * users' rows are copied in, and S->tick_user the users who ran on every rank (run_user
 * itself with one process). With the event log (ev; ev_runs[i]: where run i's rows are in
 * this rank's threads' buffers) the users' event rows go too, and on several ranks the
 * exchange merges them, every rank's in user order (with one process the caller merges:
 * fw_evlog_merge). stop: this rank was asked to stop; *stop_any: some rank was. */
fw_err fw_ranks_exchange(fw_ranks *R, fw_sim *S, fw_recbuf *log, const uint32_t *run_user, size_t n_runs,
                         fw_evlog *ev, const fw_evlog_span *ev_runs, int stop, int *stop_any);

/* The day's end, before the parts' day ends: day_cells[n_cells * n_counters] summed over
 * the ranks. After the engine's day end: the engine's work of the day (rank 0's whole, the
 * others' sessions') summed over the ranks into R->day_work. */
fw_err fw_ranks_day_end(fw_ranks *R, fw_sim *S, uint64_t *day_cells);
fw_err fw_ranks_day_work(fw_ranks *R, fw_sim *S);

/* The fault hook of the tests: with FLYWHEEL_MPI_FAULT=RANK:DAY in the environment, rank
 * RANK dies (abort) as day DAY starts, so a test can see the whole run stop. */
void fw_ranks_fault(const fw_ranks *R, uint32_t day);

/* After a warm-up (issue 18): the tally starts again, so the summary counts the recorded
 * days' exchanges only. */
void fw_ranks_warmed(fw_ranks *R);

/* The run summary's line about the ranks and what they exchanged. */
void fw_ranks_summary(const fw_ranks *R, const fw_sim *S, uint32_t days, FILE *out);

#endif
