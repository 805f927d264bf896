/* A simulation run: world, engine, behaviour and recorder driven through days of ticks.
 * Owns: everything it creates during fw_run.  Borrows: the scenario and options.
 * Never touches: command-line parsing or signals (main does), except reading *stop. */
#ifndef FLYWHEEL_RUN_H
#define FLYWHEEL_RUN_H

#include <signal.h>
#include <stdio.h>

#include "driver/ckpt.h"
#include "io/scenario.h"

typedef struct fw_run_opts {
    const char *output_path;            /* final result path */
    int threads;                        /* < 1: OpenMP's default */
    int progress;                       /* draw a progress line on stderr */
    int progress_log;                   /* with progress, stderr is no terminal (--progress into a log):
                                         * a plain line every 30 s and at each day's end, not a redrawn one */
    volatile sig_atomic_t *stop;        /* set asynchronously to stop after the current tick */
    FILE *out;                          /* where the summary goes (stdout) */
    uint32_t replicates;                /* > 1: also rerun with seeds seed+1 .. seed+K-1 */
    int plant_stage;                    /* with plant_ns > 0: fw_engine_plant_delay(stage, ns) */
    int64_t plant_ns;                   /* (a test of benchmarks; timings only) */
    /* Resume (issue 21): the checkpoint of the run at output_path, already checked against s
     * by the caller (version, seed, fw_run_scenario_hash), and the days its partial file holds (resume->days_done or one
     * more: a kill between the partial's rename and the checkpoint's). Those days are
     * re-simulated without writing anything, each checked against its digest; the partial
     * file is first rewritten after day resume_days. NULL: a fresh run. */
    const fw_ckpt *resume;
    uint32_t resume_days;
    /* State snapshots (driver/snapshot.h): off with --no-snapshot. A resumed run loads the
     * snapshot beside the partial file when it can, whatever this says. */
    int no_snapshot;
    /* Write each day's snapshot in this process, the simulation waiting for it
     * (--snapshot-foreground), instead of in a forked child beside the next day. */
    int snapshot_foreground;
    /* Fork no snapshot writer, silently (a library run: fw_flywheel_run does not fork its host);
     * unlike snapshot_foreground, never refused where no snapshot is written. */
    int no_fork;
    /* A test's stop (FLYWHEEL_STOP_AFTER_DAY): as if a signal came once this many days are
     * finished and written (0: never). */
    uint32_t stop_after_days;
    /* A benchmark's record (FLYWHEEL_SESSION_COSTS): each recorded tick's users' session
     * nanoseconds and the barrier's, for bench/schedule.py (NULL: none). Not under several
     * ranks, and not in side runs. */
    FILE *session_costs;
    /* Run in this process alone even under mpirun (several ranks): a side run (a replicate, a
     * counterfactual world), which one rank runs whole while the others run other ones. */
    int local;
} fw_run_opts;

/* Who writes a run's daily snapshots: a forked child beside the next day (the default), or
 * the run's own process, the run waiting (--snapshot-foreground; an MPI process, whose
 * transports need not survive a fork; a library run, which does not fork its host). */
typedef enum fw_snap_writer {
    FW_SNAP_FORKED,
    FW_SNAP_IN_PROCESS_OPTION,
    FW_SNAP_IN_PROCESS_MPI,
    FW_SNAP_IN_PROCESS_LIBRARY,
} fw_snap_writer;

typedef struct fw_run_report {
    uint32_t days_done;
    int interrupted;
    double wall_s, generation_s, sim_s;
    double peak_rss_mb;
    uint64_t sessions, active_user_days;
    /* Issue 22, the figure of merit: impressions served (feed notes, search results and ads
     * examined, each counter where its part runs) per second of simulation per thread used,
     * fw_run_impressions_per_core_s. The seconds split into the ticks' parallel phases (the
     * sessions), their barriers (merge, the engine's log and tick end, the parts' hooks) and
     * the days' starts, ends and records. */
    uint64_t impressions;
    int threads;
    double par_s, barrier_s, day_s;
    char result_path[4096];
    char prev_path[4096];               /* where an earlier result at the path was kept, or "" */
    int refused;                        /* several ranks (mpirun) cannot run what was asked:
                                           bad input, said on stderr (exit 2) */
    int stopped_together;               /* several ranks stopped at the same barrier (a stop
                                           request travels in the exchange): each may end
                                           normally, none is left waiting */
    size_t ckpt_bytes;                  /* the last checkpoint's size (0: none written) */
    double ckpt_s;                      /* time spent writing checkpoints, all days */
    uint32_t replayed;                  /* resume: finished days re-simulated */
    double replay_s;                    /* ... and the time that took */
    /* State snapshots: whether the run wrote them (else why not), the last one's size and the
     * seconds spent writing them; resuming, the day of the snapshot loaded (0: none, and why
     * not, when one was looked for), its size and the seconds it took. */
    int snap_on;
    char snap_refusal[320];
    uint64_t snap_bytes;
    double snap_s;
    fw_snap_writer snap_writer;  /* who writes them: forked children, or the run's process and why */
    double snap_wait_s;          /* the run's own time in them: forks and waits for a child */
    uint32_t snap_tight;         /* of them, written in the run's process for want of memory, a pipe or a fork */
    uint32_t snap_huge;          /* of them, written in the run's process because it held transparent huge pages */
    double snap_huge_mb;         /* the most it held then, MiB */
    uint32_t snap_forked;        /* of them, handed to a forked writer */
    uint32_t snap_loaded_day;
    uint64_t snap_load_bytes;
    double snap_load_s;
    char snap_unused[512];
    uint32_t warmup_days;               /* issue 18: days simulated before day 0 (world.warmup_days) */
    double warmup_s;                    /* ... and the time they took */
    uint32_t warmup_pilot_days;         /* ... of which the pilot's (world.warmup_pilot_users) */
    double warmup_active[2];            /* mean active users a day: the pilot's days, the full days */
} fw_run_report;

/* The most threads a run uses, whatever asks for more (-t, OMP_NUM_THREADS). */
#define FW_RUN_MAX_THREADS 4096

/* The threads a run of s uses: requested (< 1: OpenMP's default, OMP_NUM_THREADS else every
 * core), capped at FW_RUN_MAX_THREADS and at one thread per FW_RUN_USERS_PER_THREAD users:
 * a tick's work comes in chunks of a few users, so more threads only idle, each with its own
 * engine context and buffers (4096 threads on 300 users took 3.2 GB). Results do not depend
 * on it. */
#define FW_RUN_USERS_PER_THREAD 64
int fw_run_threads(const fw_scenario *s, int requested);

/* An up-front estimate of a run's peak memory in bytes, from the scenario (users, notes at
 * the start and published during the run, whether an arm runs the recommender) and the thread
 * count, calibrated on measured peak RSS (run.c says how); rounded up by 15%. Side runs
 * (replicates, counterfactuals) are not counted: fw_run runs only as many at once as half
 * the available memory holds. Deterministic; allocates nothing. */
double fw_run_memory_estimate(const fw_scenario *s, int threads);

/* The most users and notes a run of s can hold: every arrival of the run and its warm-up
 * (issue 18) has its rows from the start, and at most world.notes_per_dau notes are published
 * for every user on every day of both (an upper bound: everyone active and posting). */
void fw_run_population(const fw_scenario *s, double *users, double *notes);

/* Runs scenario s. Returns FW_OK when every day ran and the result is at its final path;
 * FW_ERR_INTERRUPT when *stop ended it early (the partial file holds finished days);
 * another code (with a message on stderr) when it failed. With o->replicates = K > 1 the
 * world is first rerun with seeds seed+1 .. seed+K-1 and assignment salts salt+1 ..
 * salt+K-1 (one thread each, as many at once as there are threads and as half the
 * available memory holds by an estimate of a world's size), keeping only their experiment
 * tables; then the run with the scenario's own seed is recorded as usual, with every
 * replicate's tests under /replicates, so simulation noise can be told from treatment
 * effects. */
fw_err fw_run(const fw_scenario *s, const fw_run_opts *o, fw_run_report *rep);

/* impressions / (sim_s * threads); 0 when nothing ran. */
double fw_run_impressions_per_core_s(const fw_run_report *rep);

/* The hash of s as resolved (its fw_scenario_write_yaml text, what a result file records as
 * scenario_resolved): what a checkpoint is tied to. FW_ERR_NOMEM. */
fw_err fw_run_scenario_hash(const fw_scenario *s, uint64_t *hash);

/* The checkpoint's path for a result at path (path.ckpt), in buf; -1 when it does not fit. */
int fw_run_ckpt_path(const char *path, char *buf, size_t n);

/* Generates the world only and reports time and peak memory (for `flywheel generate`). */
fw_err fw_run_generate_only(const fw_scenario *s, FILE *out);

#endif
