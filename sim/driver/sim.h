/* The run's state as the parts see it, and what the driver offers them.
 * Owns: nothing here (run.c creates and frees an fw_sim).  Borrows: nothing.
 * Never touches: files, threads or OpenMP (the driver's), the engine's internals.
 *
 * The contract between the driver and the parts:
 *  - during a tick's sessions (parallel), a part writes only the session's user's rows (of
 *    the world, the users' state, the per-user aggregates), the thread's record buffer and
 *    the thread's counter row (fw_session);
 *  - every other hook runs alone and may write anything it owns; shared state of the
 *    driver (the world, users' state, aggregates) only in the ways its comment says. */
#ifndef FLYWHEEL_SIM_H
#define FLYWHEEL_SIM_H

#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "experiment/experiment.h"
#include "flywheel/engine.h"
#include "flywheel/record.h"
#include "io/recorder.h"
#include "io/scenario.h"
#include "model/behaviour.h"
#include "model/world.h"

#define FW_MAX_PARTS 24

struct fw_part;
struct fw_sess_event;
struct fw_evbuf;
struct fw_evlog;

/* A part in a run: its descriptor, its state, where its counters sit in a cell's row. */
typedef struct fw_part_inst {
    const struct fw_part *def;
    void *state;
    uint32_t base;
} fw_part_inst;

/* A thread's tagged records of a tick (flywheel/record.h), in the order they were made. */
typedef struct fw_recbuf {
    fw_record *v;
    size_t n, cap;
} fw_recbuf;

/* Appends a record (room is made first); 0, or -1 when out of memory. */
int fw_recbuf_push(fw_recbuf *b, const fw_record *r);

/* Makes room for need elements of size bytes in *v, holding *cap: doubling from first (or
 * *cap), realloc keeping the contents. 0 on success; -1 out of memory or past SIZE_MAX
 * bytes (*v and *cap unchanged). */
int fw_sim_grow(void **v, size_t *cap, size_t need, size_t size, size_t first);

/* The first of the parts names[0..n) that is not in checked[0..n_checked) (NULL: all are),
 * and checked joined by ", " into list (len bytes): for the refusals of a mechanism some
 * parts were checked for (several ranks, a warm-up). */
const char *fw_sim_unchecked_part(const char *const *names, uint32_t n, const char *const *checked,
                                  size_t n_checked, char *list, size_t len);
/* Appends a note event. */
int fw_recbuf_event(fw_recbuf *b, uint32_t user, uint32_t note, int32_t tick, uint32_t type);

/* A note a creator will publish at a tick of today (queued at the day's start). */
typedef struct fw_pending_note {
    int32_t tick;          /* tick of the day */
    uint32_t creator;      /* creator index */
    uint32_t seq;          /* the creator's own order; notes go out by (tick, creator, seq) */
    uint32_t task;         /* the marketplace task it delivers, or FW_NONE */
    fw_new_note note;
    size_t emb_at;         /* its embedding in the queue's store */
    uint8_t aigc;          /* issue 20: AI-generated (truth), and declared so by its creator */
    uint8_t declared;
} fw_pending_note;

/* A thread's buffers. */
typedef struct fw_thread {
    fw_engine_ctx *ctx;
    gsl_rng *rng;          /* the driver's: FW_RNG_ACTIVITY */
    fw_recbuf rec;
    uint64_t *counters;    /* [n_cells * n_counters] */
    uint32_t *page;        /* [FW_PAGE_SLOTS] scratch */
    fw_slot *slots;        /* [FW_PAGE_SLOTS] */
    int oom;
} fw_thread;

/* Per-user rows the parts may give the ranks' exchange (fw_sim_rank_row). */
#define FW_RANK_ROWS_MAX 8

typedef struct fw_sim {
    const fw_scenario *sc;
    fw_world w;
    fw_users_state us;
    fw_behaviour_model *model;   /* [n_cells]: a cell is one arm of every layer */
    fw_engine_cfg *cell_engine;  /* [n_cells], each owning its strings */
    uint32_t n_cell_engine;      /* how many of them hold strings to free */
    fw_assignment asg;           /* units, arms and cells */
    const uint8_t *cell_of;      /* = asg.cell_of_user */
    fw_user_aggs aggs;           /* per-user counts, pre-period and experiment period */
    fw_engine *engine;
    fw_recorder *rec;            /* NULL when the run is not recorded */
    struct fw_evlog *evlog;      /* the event log (driver/evlog.h); NULL when output.events is off */
    int n_threads;
    fw_thread *th;               /* [n_threads] */
    uint32_t n_arms, n_cells, tpd, day;
    int32_t abs_tick;            /* the current tick: day * tpd + tick of the day */
    /* Issue 18: a warm-up day (world.warmup_days) is running: unrecorded, every viewer on the
     * control cell, S->day wrapped below 0 (2^32 - k for k days before day 0: its streams'
     * keys differ from every recorded day's, and day * tpd + tick is the negative tick). */
    int warm;
    /* ... and it is one of the pilot's days (world.warmup_pilot_users): only the pilot's
     * users are drawn active (fw_sim_in_pilot). */
    int pilot;
    fw_part_inst part[FW_MAX_PARTS];
    uint32_t n_parts;
    uint32_t n_counters;         /* counters in a cell's row, every part's */
    const fw_counter_desc *counter_desc;   /* [n_counters] */
    uint64_t *day_cells;         /* [n_cells * n_counters]: the day's counters summed over threads,
                                    valid in day_end hooks */
    /* The notes to publish today, sorted by (tick, creator, seq) after the parts' day starts. */
    fw_pending_note *pend;
    float *pend_emb;
    size_t n_pend, pend_cap, pend_emb_cap;
    size_t pend_done;            /* pend[0..pend_done) are published (the driver's count) */
    /* Issue 20: the media part's hold of notes in the publishing pipeline (parts/media.h);
     * NULL: notes are published at the tick they were written. */
    struct fw_media_hold *media;
    /* Issue 20: whether each published note is AI-generated ([cap_note_aigc], by note id),
     * kept by fw_sim_publish once the aigc part sets track_aigc; NULL otherwise. */
    uint8_t *note_aigc;
    size_t cap_note_aigc;
    int track_aigc;
    /* Issue 18: [n_creators] factors on the creators' base posting rates (the living part's;
     * NULL: every factor is 1), read by the notes part at a day's start. */
    const float *creator_drive;
    /* What the run owns for the parts (fw_sim_calloc, fw_sim_rng). */
    void **owned, **streams;
    size_t n_owned, cap_owned, n_streams, cap_streams;
    /* Several ranks (driver/ranks.h): the parts' per-user rows that a session writes for its
     * own user and a barrier or day hook reads (fw_sim_rank_row); the exchange carries each
     * of them for every user who ran. */
    struct fw_rank_row {
        void *base;
        size_t size;   /* bytes of one user's element; the user's is at base + u * size */
    } rank_row[FW_RANK_ROWS_MAX];
    uint32_t n_rank_rows;
    /* In a barrier's hooks: the users who ran sessions in the tick, every rank's, in id
     * order (with one process, the tick's users). */
    const uint32_t *tick_user;
    size_t n_tick_users;
} fw_sim;

/* A part's create hook: base[0..n_users) (elements of size bytes, zeroed or set for every
 * user, allocated for the run) is state the part's sessions write for their own user and its
 * barrier or day hooks read for any user. Under several ranks only the user's rank runs
 * their sessions: the exchange then copies the element of every user who ran in the tick to
 * every rank before the barrier. FW_ERR_INTERNAL past FW_RANK_ROWS_MAX rows. */
fw_err fw_sim_rank_row(fw_sim *S, void *base, size_t size);

/* FW_OK when the world's and the engine's follower counts agree for every creator; else
 * FW_ERR_INTERNAL, naming the first creator that differs on stderr. */
fw_err fw_sim_check_followers(const fw_sim *S);

/* One user's sessions in a tick, on one thread. */
typedef struct fw_session {
    fw_sim *S;
    const fw_behaviour_model *m;   /* the live cell's choice model */
    fw_world *w;
    fw_users_state *us;
    fw_engine *engine;
    fw_engine_ctx *ctx;
    uint32_t user;
    uint32_t cell;                 /* the live cell: serves the user's requests */
    int32_t tick;                  /* absolute */
    uint32_t day;
    uint64_t seed;
    int slot;                      /* the thread */
    fw_recbuf *rec;                /* the thread's records */
    size_t rec_begin;              /* where this user's records of this tick start */
    uint64_t *row;                 /* the counters of the user's assigned cell */
    uint32_t *const *agg;          /* per-user counts of the current period */
    uint32_t *page;                /* scratch */
    fw_slot *slots;                /* [page_cap + 1] */
    uint32_t page_cap;             /* the live cell's largest page */
    /* The event log (driver/evlog.h), written through its session calls only. */
    struct fw_evbuf *ev;           /* the thread's rows; NULL when this user is not logged */
    uint32_t ev_req;               /* the user's requests so far this tick */
    int64_t ev_row;                /* the current impression's row in ev, or -1 */
    uint32_t ev_best_n;            /* the oracle's best alternatives for the current request: */
    float ev_best[128];            /* true open probability of the k-th best recalled candidate */
    float ev_score[FW_PAGE_SLOTS]; /* the engine's score of each slot of the current feed page */
} fw_session;

/* The cell whose configuration serves u today as a viewer: every layer's control (cell 0)
 * during the pre-period, and always in producer-side (creator unit) experiments, where arms
 * apply to notes by their creator instead. Counters are kept by the assigned cell. */
uint32_t fw_sim_live_cell(const fw_sim *S, uint32_t u);

/* At the first day of the experiment period (after a pre-period), places every user in their
 * cell in the engine (fw_engine_set_user_cells: under per-arm isolation each arm's learned
 * state forks from the pre-period's); a no-op on any other day and in producer-side
 * experiments. A day-start hook (the feed part calls it first thing). */
fw_err fw_sim_place_users(fw_sim *S);

/* 0 during the pre-period (and the warm-up), 1 in the experiment period. */
int fw_sim_period(const fw_sim *S);

/* Whether every viewer starts on the control cell, to be placed in their cells at the start
 * of day experiment.pre_days: a pre-period, or a warm-up (world.warmup_days). */
int fw_sim_has_pre(const fw_sim *S);

/* The per-user counts of the current period ([FW_UM__COUNT][n_users]). */
uint32_t *const *fw_sim_aggs(const fw_sim *S);

/* Barrier hooks: the counter row (this day, thread 0) of user's assigned cell. */
uint64_t *fw_sim_row(fw_sim *S, uint32_t user);

/* Day-end hooks: today's counters summed over threads, per cell ([n_cells * n_counters]). */
const uint64_t *fw_sim_cell_totals(const fw_sim *S);

/* The index of counter name in a cell's row, or -1. */
int fw_sim_counter_index(const fw_sim *S, const char *name);

/* Queues a note for publication today: returns its slot (zeroed but for emb_at; the caller
 * fills it) and where its embedding goes (w.dim floats) in *emb, both valid until the next
 * call; NULL when the queue cannot grow. The driver publishes the queue at the tick barriers
 * in (tick, creator, seq) order. */
fw_pending_note *fw_sim_queue_note(fw_sim *S, float **emb);

/* Hands ev to every part's on_event (in table order); -1 when one ran out of memory. */
int fw_session_emit(fw_session *ss, struct fw_sess_event *ev);

/* What lives as long as the run, freed by fw_sim_fini (a part's tables sized once, its
 * streams): zeroed memory for n items of size bytes; a stream of purpose, sought before each
 * use; one such stream per thread slot. NULL when out of memory. */
/* Barrier: publishes p (embedding emb) in the world and the engine, which must give it the
 * same id (issue 20 moved this out of the driver so the media part publishes the same way). */
fw_err fw_sim_publish(fw_sim *S, const fw_pending_note *p, const float *emb);

void *fw_sim_calloc(fw_sim *S, size_t n, size_t size);
gsl_rng *fw_sim_rng(fw_sim *S, uint32_t purpose);
gsl_rng **fw_sim_thread_rngs(fw_sim *S, uint32_t purpose);

/* Seconds on the monotonic clock (for the driver's wall times and progress). */
double fw_now_s(void);

/* The Gini coefficient of v[0..n) (sorted here) and the share of the top `top` fraction. */
void fw_concentration(uint32_t *v, size_t n, double top, double *gini, double *share);

/* ---- building and freeing a run's state (the driver's) ------------------------------------ */

struct fw_run_opts;

/* The world (timed into *generation_s), the users' state, the assignment and per-user
 * aggregates, every cell's configuration and choice model, the engine (with opts' planted
 * delay) and the threads' engine contexts and scratch. Says on stderr what failed. */
fw_err fw_sim_create(fw_sim *S, const fw_scenario *sc, const struct fw_run_opts *opts, double *generation_s);

/* The parts that run, parts[0..n_parts) in table order: their instances (counters at base[k]
 * in a cell's row of n_counters described by desc), the threads' counter rows, and every
 * part's create (which may describe datasets to S->rec, set before). */
fw_err fw_sim_create_parts(fw_sim *S, const struct fw_part *const *parts, uint32_t n_parts,
                           const fw_counter_desc *desc, uint32_t n_counters, const uint32_t *base);

/* The parts' destroys (last first), their states and what the run owns for them
 * (fw_sim_calloc, fw_sim_rng); for a harness that built S by hand too. */
void fw_sim_fini_parts(fw_sim *S);

/* Frees everything S holds but the recorder; accepts a zeroed S. */
void fw_sim_fini(fw_sim *S);

#endif
