/* The day and tick loop over the parts (driver/part.h, parts/parts.c).
 *
 * A day: the schedule (who is active, when their sessions are), the parts' day starts, then
 * ticks; at its end the counters are summed, the parts close their books, users' day-end
 * updates run, the engine ends its day, and the day is recorded.
 * A tick: every user with a session acts in parallel (the parts' session steps); at the
 * barrier the threads' records are merged in user order into one log, the engine applies it,
 * the parts read its outcomes, the tick's notes are published, and the engine ends the tick.
 *
 * Invariants that make results independent of the thread count (the argument in one place):
 *  - every draw comes from a stream keyed by (seed, purpose, entity, day or tick);
 *  - inside a tick, user u's work runs on one thread, reads state frozen since the last
 *    barrier plus u's own rows, and writes only u's own rows and the calling thread's
 *    buffers (records, counters, latency);
 *  - at the barrier the records are merged once, in the order of the tick's user list (user
 *    id ascending, then the user's own order); everything the engine and the parts do with
 *    them follows that order; notes are published in (tick, creator, sequence) order;
 *    counters are integers summed over threads;
 *  - per-user day-end updates touch only that user's rows. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <gsl/gsl_randist.h>

#include "driver/clock.h"
#include "driver/snapshot.h"
#include "driver/counters.h"
#include "driver/evlog.h"
#include "driver/part.h"
#include "driver/ranks.h"
#include "driver/run.h"
#include "fw_version.h"
#include "model/rng.h"
#include "parts/media.h"

/* Relative session starts by hour of day for a mobile content app: quiet at night, a
 * lunch peak and a larger evening peak. An assumption of ours (no published XHS curve);
 * only its shape matters, the daily volume comes from sessions_mean. */
static const double hourly_weight[24] = {
    0.9, 0.5, 0.3, 0.2, 0.2, 0.3, 0.7, 1.3, 1.9, 2.0, 2.1, 2.4,
    3.0, 2.8, 2.2, 2.0, 2.1, 2.3, 2.7, 3.2, 3.7, 3.9, 3.4, 1.9};

static double peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;
}

/* ---- the driver's own counters ---------------------------------------------------------- */

#define CORE_COUNTERS(X)                                                                       \
    X(active_users, "users", "users with at least one session on the day")                     \
    X(prev_active_users, "users", "users active on the previous day (retention denominator)")  \
    X(retained_users, "users", "users active on the previous day and on this day")             \
    X(sessions, "sessions", "app opens (sessions)")

FW_DECLARE_COUNTERS(CORE_COUNTERS);

/* The core's counters sit first in a cell's row (base 0). Their rates (retention, sessions
 * per user) are the feed part's, where every session lands. */
static const fw_part core_part = {
    .name = "core",
    .counters = counters,
    .n_counters = C__COUNT,
};

/* ---- the driver's state ------------------------------------------------------------------- */

typedef struct driver {
    fw_sim S;
    int local;                   /* fw_run_opts.local: one process's run even under mpirun */
    fw_counters counters;
    uint32_t base[FW_MAX_PARTS + 1];   /* the core's, then each part's */
    uint32_t page_cap[256];            /* [n_cells]: the cell's largest page */
    /* The day's schedule. */
    gsl_ran_discrete_t *tick_pick;
    uint32_t *sess_n;            /* [n_users] sessions today */
    uint64_t *sess_off;          /* [n_users + 1] */
    uint16_t *sess_tick;         /* [total] */
    size_t sess_cap;
    uint64_t *tick_off;          /* [tpd + 1] */
    uint32_t *tick_user;         /* [total] */
    /* The tick: its distinct users, their session counts and where their records landed. */
    uint32_t *run_user, *run_count, *run_slot;
    size_t *run_lo, *run_hi;
    fw_evlog_span *run_ev;       /* with the event log: where each user's rows landed */
    fw_recbuf log;               /* the tick's records, merged in user order */
    int lent;                    /* the slot whose buffer log holds for the barrier, or -1 */
    /* The day's end. */
    uint64_t *day_arms;          /* [n_arms * n_counters] */
    uint64_t *totals;            /* [n_arms * n_counters] over the days run */
    fw_hist day_lat[FW_STAGE__COUNT];
    uint32_t n_series, series_id[FW_MAX_PARTS];   /* the engine's day series in the recorder */
    fw_exp_table exp;            /* the latest analysis */
    int exp_ready;
    double *values;              /* with a counterfactual: [experiment day][metric], or NULL */
    /* What the recorder borrows for the file's provenance and arms. */
    char *resolved, *overrides;
    const char *arm_names[FW_MAX_ARMS], *arm_layers[FW_MAX_ARMS];
    double arm_weights[FW_MAX_ARMS];
    /* Issue 21: this rank's users and the exchange (driver/ranks.h; one rank: no-ops). */
    fw_ranks ranks;
    volatile sig_atomic_t *stop;   /* the run's stop request, read at each barrier */
    int stop_any;                  /* some rank was asked to stop (the latest barrier) */
    int refused;                   /* the scenario asks for what several ranks cannot do */
    double t_par, t_barrier;     /* issue 22: seconds in the ticks' parallel phases, barriers */
    FILE *costs;                 /* fw_run_opts.session_costs: each tick's session costs after the warm-up */
    int64_t *run_ns;             /* with costs: each run's nanoseconds in the tick (k_sessions) */
    /* Checkpoints and resume (issue 21, driver/ckpt.h): set only when the run is recorded. */
    char *ckpt_path;             /* output_path.ckpt */
    fw_ckpt ck;                  /* the next checkpoint (its strings borrowed from the scenario) */
    const fw_ckpt *resume;       /* resuming: the checkpoint read, else NULL */
    uint32_t replay;             /* resuming: days the partial file holds, re-simulated unwritten */
    double t_replayed;           /* when the last of them ended (fw_now_s) */
    size_t ckpt_bytes;
    double ckpt_s;
    /* State snapshots (driver/snapshot.h): written beside the checkpoint at every day's end
     * when the run can be snapshot (snap_path set), else why not (snap_refusal). */
    char *snap_path, *snap_tmp;
    int snap_on;
    char snap_refusal[320];
    uint64_t snap_bytes;
    double snap_s;
    int snap_failed;             /* the last write failed (said once on stderr) */
    /* Issue 22: the snapshot written in the background. A child forked at the day's end writes
     * it from its copy-on-write image of the state while this process simulates the next
     * day; snap_pid > 0 while one runs, its result comes through snap_fd (snap_collect). */
    fw_snap_writer snap_writer;  /* forked, or written here (the run waiting) and why */
    pid_t snap_pid;
    int snap_fd;
    uint32_t snap_day;           /* the days done whose state the child writes */
    double snap_wait_s;          /* this process's time in forks and in waits for a child */
    uint32_t snap_tight;         /* days written here for want of memory, a pipe or a fork */
    uint32_t snap_huge;          /* days written here because the run held transparent huge pages */
    double snap_huge_mb;         /* the most it held then */
    uint32_t snap_forked;        /* days handed to a forked writer */
    int last_unwritten;          /* the last day is in no partial, snapshot or checkpoint (the final write follows) */
    fw_run_report *rep;          /* the run's report: its running totals are snapshot too */
    uint32_t start_day;          /* resuming from a snapshot: the first day to run, else 0 */
    double snap_load_s;
    uint64_t snap_load_bytes;
    char snap_unused[512];       /* resuming: why a snapshot beside the partial was not used */
} driver;

static fw_err drv_init(driver *D)
{
    fw_sim *S = &D->S;
    uint32_t nu = S->w.n_users;
    double tick_w[1440];
    for (uint32_t t = 0; t < S->tpd; t++)
        tick_w[t] = hourly_weight[(t * 24) / S->tpd];
    for (uint32_t c = 0; c < S->n_cells; c++) {
        const fw_engine_cfg *e = &S->cell_engine[c];
        uint32_t cap = e->feed.page_size;
        uint32_t search_cap = e->search.page_size + (e->search.product_slot > 0);   /* a product result */
        cap = search_cap > cap ? search_cap : cap;
        D->page_cap[c] = e->shop.page_size > cap ? e->shop.page_size : cap;
    }
    size_t per_arm = (size_t)S->n_arms * S->n_counters + 1;
    if (!(D->tick_pick = gsl_ran_discrete_preproc(S->tpd, tick_w)) || !(D->sess_n = calloc(nu, sizeof *D->sess_n)) ||
        !(D->sess_off = calloc((size_t)nu + 1, sizeof *D->sess_off)) ||
        !(D->tick_off = calloc((size_t)S->tpd + 1, sizeof *D->tick_off)) ||
        !(D->run_user = malloc(((size_t)nu + 1) * sizeof *D->run_user)) ||
        !(D->run_count = malloc(((size_t)nu + 1) * sizeof *D->run_count)) ||
        !(D->run_slot = malloc(((size_t)nu + 1) * sizeof *D->run_slot)) ||
        !(D->run_lo = malloc(((size_t)nu + 1) * sizeof *D->run_lo)) ||
        !(D->run_hi = malloc(((size_t)nu + 1) * sizeof *D->run_hi)) ||
        (S->evlog && !(D->run_ev = malloc(((size_t)nu + 1) * sizeof *D->run_ev))) ||
        fw_ranks_init(&D->ranks, S, D->local) != FW_OK ||
        !(D->day_arms = calloc(per_arm, sizeof *D->day_arms)) || !(D->totals = calloc(per_arm, sizeof *D->totals)))
        return FW_ERR_NOMEM;
    const fw_hist *h = fw_engine_ctx_latency(S->th[0].ctx, 0);
    for (int s = 0; s < FW_STAGE__COUNT; s++)
        if (fw_hist_init(&D->day_lat[s], h->lowest, h->highest, h->sigfigs) != FW_OK)
            return FW_ERR_NOMEM;
    return FW_OK;
}

static void drv_fini(driver *D)
{
    gsl_ran_discrete_free(D->tick_pick);
    free(D->sess_n);
    free(D->sess_off);
    free(D->sess_tick);
    free(D->tick_off);
    free(D->tick_user);
    free(D->run_user);
    free(D->run_count);
    free(D->run_ns);
    free(D->run_slot);
    free(D->run_lo);
    free(D->run_hi);
    free(D->run_ev);
    fw_evlog_destroy(D->S.evlog);
    D->S.evlog = NULL;
    free(D->log.v);
    free(D->day_arms);
    free(D->totals);
    for (int s = 0; s < FW_STAGE__COUNT; s++)
        fw_hist_fini(&D->day_lat[s]);
    fw_counters_fini(&D->counters);
    fw_ranks_fini(&D->ranks);
    fw_sim_fini(&D->S);
    free(D->resolved);
    free(D->overrides);
    free(D->ckpt_path);
    free(D->snap_path);
    free(D->snap_tmp);
    free(D->ck.day_digest);
}

/* ---- the day's schedule ----------------------------------------------------------------- */

/* Whether user u is in the warm-up's pilot (world.h: an even sample by id). */
static int in_pilot(const fw_sim *S, uint32_t u)
{
    return fw_world_in_pilot(u, fw_scenario_pilot_users(S->sc), S->sc->world.n_users);
}

static uint32_t draw_sessions(fw_sim *S, gsl_rng *r, uint32_t u)
{
    if (S->pilot && !in_pilot(S, u))
        return 0;   /* away on the pilot's days: as a user who stays away */
    const fw_behaviour_model *m = &S->model[fw_sim_live_cell(S, u)];
    fw_rng_seek(r, S->sc->seed, FW_RNG_ACTIVITY, u, S->day);
    if (gsl_rng_uniform(r) >= fw_behaviour_p_active(m, &S->w, &S->us, u))
        return 0;
    double extra = S->w.session_rate[u] - 1.0;
    const fw_promo_day *pd = S->sc->n_promo_days ? fw_scenario_promo_day(S->sc, S->day) : NULL;
    if (pd)   /* a promotion day: its traffic multiplies the user's sessions */
        extra = S->w.session_rate[u] * pd->traffic - 1.0;
    uint32_t n = 1 + (extra > 0.0 ? gsl_ran_poisson(r, extra) : 0);
    return n > 4096 ? 4096 : n;
}

static void k_activity(void *arg, size_t b, size_t e, int slot)
{
    driver *D = arg;
    fw_sim *S = &D->S;
    fw_thread *th = &S->th[slot];
    uint32_t *const *agg = fw_sim_aggs(S);
    for (size_t u = b; u < e; u++) {
        uint32_t n = draw_sessions(S, th->rng, (uint32_t)u);
        uint64_t *c = &th->counters[(size_t)S->cell_of[u] * S->n_counters];
        S->us.active_today[u] = n > 0;
        agg[FW_UM_active_days][u] += n > 0;
        /* Several ranks: every rank draws every user (the state is replicated), but only
         * the user's own rank counts them and runs their sessions. */
        if (!fw_ranks_owns(&D->ranks, (uint32_t)u))
            n = 0;
        D->sess_n[u] = n;
        if (!fw_ranks_owns(&D->ranks, (uint32_t)u))
            continue;
        c[C_active_users] += n > 0;
        c[C_prev_active_users] += S->us.active_prev[u];
        c[C_retained_users] += n > 0 && S->us.active_prev[u];
    }
}

static void k_session_ticks(void *arg, size_t b, size_t e, int slot)
{
    driver *D = arg;
    fw_sim *S = &D->S;
    gsl_rng *r = S->th[slot].rng;
    for (size_t u = b; u < e; u++) {
        if (!D->sess_n[u])
            continue;
        uint32_t n = draw_sessions(S, r, (uint32_t)u); /* same stream: same n, then ticks */
        for (uint32_t k = 0; k < n; k++)
            D->sess_tick[D->sess_off[u] + k] = (uint16_t)gsl_ran_discrete(r, D->tick_pick);
    }
}

/* Two parallel passes over users draw who is active and their session ticks; a counting
 * sort lists each tick's users in id order. */
static fw_err build_schedule(driver *D)
{
    fw_sim *S = &D->S;
    uint32_t n = S->w.n_users;
    fw_par_for(n, 1024, k_activity, D);
    D->sess_off[0] = 0;
    for (uint32_t u = 0; u < n; u++)
        D->sess_off[u + 1] = D->sess_off[u] + D->sess_n[u];
    size_t total = D->sess_off[n];
    if (total > D->sess_cap) {
        size_t cap = total + total / 4 + 1024;
        uint16_t *t = realloc(D->sess_tick, cap * sizeof *t);
        uint32_t *tu = realloc(D->tick_user, cap * sizeof *tu);
        if (t)
            D->sess_tick = t;
        if (tu)
            D->tick_user = tu;
        if (!t || !tu)
            return FW_ERR_NOMEM;
        D->sess_cap = cap;
    }
    fw_par_for(n, 1024, k_session_ticks, D);
    memset(D->tick_off, 0, (S->tpd + 1) * sizeof *D->tick_off);
    for (size_t k = 0; k < total; k++)
        D->tick_off[D->sess_tick[k] + 1]++;
    for (uint32_t t = 0; t < S->tpd; t++)
        D->tick_off[t + 1] += D->tick_off[t];
    uint64_t *fill = malloc((S->tpd + 1) * sizeof *fill);
    if (!fill)
        return FW_ERR_NOMEM;
    memcpy(fill, D->tick_off, (S->tpd + 1) * sizeof *fill);
    for (uint32_t u = 0; u < n; u++)
        for (uint64_t k = D->sess_off[u]; k < D->sess_off[u + 1]; k++)
            D->tick_user[fill[D->sess_tick[k]]++] = u;
    free(fill);
    return FW_OK;
}

static int cmp_pending(const void *a, const void *b)
{
    const fw_pending_note *x = a, *y = b;
    if (x->tick != y->tick)
        return x->tick < y->tick ? -1 : 1;
    if (x->creator != y->creator)
        return x->creator < y->creator ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* ---- a tick ------------------------------------------------------------------------------- */

/* One session: every part's opening step, then the main steps, then the closing steps. */
static int session(fw_sim *S, fw_session *ss)
{
    ss->row[C_sessions]++;
    ss->agg[FW_UM_sessions][ss->user]++;
    fw_evlog_detach(ss);
    for (uint32_t k = 0; k < S->n_parts; k++)
        if (S->part[k].def->session_arrive && S->part[k].def->session_arrive(ss, &S->part[k]))
            return -1;
    for (uint32_t k = 0; k < S->n_parts; k++)
        if (S->part[k].def->session_seek && S->part[k].def->session_seek(ss, &S->part[k]))
            return -1;
    for (uint32_t k = 0; k < S->n_parts; k++)
        if (S->part[k].def->session_browse && S->part[k].def->session_browse(ss, &S->part[k]))
            return -1;
    return 0;
}

static void k_sessions(void *arg, size_t b, size_t e, int slot)
{
    driver *D = arg;
    fw_sim *S = &D->S;
    fw_thread *th = &S->th[slot];
    fw_session ss = {.S = S, .w = &S->w, .us = &S->us, .engine = S->engine, .ctx = th->ctx, .tick = S->abs_tick,
                     .day = S->day, .seed = S->sc->seed, .slot = slot, .rec = &th->rec, .agg = fw_sim_aggs(S),
                     .page = th->page, .slots = th->slots};
    for (size_t i = b; i < e; i++) {
        double run_t0 = D->run_ns ? fw_now_s() : 0.0;   /* FLYWHEEL_SESSION_COSTS */
        uint32_t u = D->run_user[i], cell = fw_sim_live_cell(S, u);
        ss.user = u;
        ss.cell = cell;
        ss.m = &S->model[cell];
        ss.row = &th->counters[(size_t)S->cell_of[u] * S->n_counters];
        ss.page_cap = D->page_cap[cell];
        ss.rec_begin = th->rec.n;
        D->run_slot[i] = (uint32_t)slot;
        D->run_lo[i] = th->rec.n;
        fw_evbuf *ev = S->evlog ? fw_evlog_thread(S->evlog, slot) : NULL;
        ss.ev = ev && fw_evlog_sampled(S->evlog, u) ? ev : NULL;
        ss.ev_req = 0;
        ss.ev_row = -1;
        ss.ev_best_n = 0;
        if (ev)
            D->run_ev[i] = (fw_evlog_span){.slot = (uint32_t)slot, .imp_lo = ev->n_imp, .srch_lo = ev->n_srch};
        for (uint32_t k = 0; k < S->n_parts; k++)
            if (S->part[k].def->user_tick)
                S->part[k].def->user_tick(&ss, &S->part[k]);
        for (uint32_t k = 0; k < D->run_count[i] && !th->oom; k++)
            if (session(S, &ss))
                th->oom = 1;
        if (D->run_ns)
            D->run_ns[i] = (int64_t)((fw_now_s() - run_t0) * 1e9);
        D->run_hi[i] = th->rec.n;
        if (ev) {
            D->run_ev[i].imp_hi = ev->n_imp;
            D->run_ev[i].srch_hi = ev->n_srch;
            D->run_ev[i].n_req = ss.ev_req;
        }
    }
}

/* The slot that made all of the tick's records, already in user order (its runs in order,
 * back to back, and no other slot made any), or -1. One thread's ticks always are. */
static int one_slot(const driver *D, size_t n_runs)
{
    const fw_sim *S = &D->S;
    int slot = -1;
    size_t at = 0;
    for (size_t i = 0; i < n_runs; i++) {
        if (D->run_hi[i] == D->run_lo[i])
            continue;
        if ((slot >= 0 && (int)D->run_slot[i] != slot) || D->run_lo[i] != at)
            return -1;
        slot = (int)D->run_slot[i];
        at = D->run_hi[i];
    }
    for (int s = 0; s < S->n_threads; s++)
        if (S->th[s].rec.n != (s == slot ? at : 0))
            return -1;
    return slot;
}

/* Exchanges the merged log's buffer with slot s's (lending and giving back alike). */
static void swap_log(driver *D, int s)
{
    fw_recbuf t = D->log;
    D->log = D->S.th[s].rec;
    D->S.th[s].rec = t;
}

/* The tick's records, once, in user order. When one slot made them all in that order its
 * buffer is lent to the barrier as the log (given back by give_back) instead of copied:
 * a tick's records are then held once, not twice. */
static fw_err merge(driver *D, size_t n_runs)
{
    fw_sim *S = &D->S;
    D->log.n = 0;
    if ((D->lent = one_slot(D, n_runs)) >= 0) {
        swap_log(D, D->lent);
        return FW_OK;
    }
    for (size_t i = 0; i < n_runs; i++) {
        const fw_recbuf *src = &S->th[D->run_slot[i]].rec;
        size_t n = D->run_hi[i] - D->run_lo[i];
        if (!n)
            continue;
        if (D->log.n + n > D->log.cap) {
            size_t cap = D->log.cap ? D->log.cap : 4096;
            while (cap < D->log.n + n)
                cap *= 2;
            fw_record *v = realloc(D->log.v, cap * sizeof *v);
            if (!v)
                return FW_ERR_NOMEM;
            D->log.v = v;
            D->log.cap = cap;
        }
        memcpy(&D->log.v[D->log.n], &src->v[D->run_lo[i]], n * sizeof *src->v);
        D->log.n += n;
    }
    for (int s = 0; s < S->n_threads; s++)
        S->th[s].rec.n = 0;
    return FW_OK;
}

/* After the barrier: the lent buffer goes back to its slot, emptied. */
static void give_back(driver *D)
{
    if (D->lent >= 0)
        swap_log(D, D->lent);
    D->lent = -1;
    D->log.n = 0;
    for (int s = 0; s < D->S.n_threads; s++)
        D->S.th[s].rec.n = 0;
}

/* Notes written during tick t go live at its end. */
static fw_err publish(driver *D, uint32_t t)
{
    fw_sim *S = &D->S;
    fw_err rc;
    if (S->media)   /* issue 20: through the publishing pipeline (parts/media.c) */
        return fw_media_hold_tick(S, t);
    while (S->pend_done < S->n_pend && S->pend[S->pend_done].tick == (int32_t)t) {
        const fw_pending_note *p = &S->pend[S->pend_done];
        if ((rc = fw_sim_publish(S, p, &S->pend_emb[p->emb_at])) != FW_OK)
            return rc;
        S->pend_done++;
    }
    return FW_OK;
}

#define FOR_PARTS(S, p) for (fw_part_inst *p = (S)->part; p < (S)->part + (S)->n_parts; p++)

static fw_err barrier(driver *D, uint32_t t, size_t n_runs);

/* The chunk of users a thread takes at a time in a tick's sessions (fw_par_for: dynamic
 * scheduling, chunks in user order). 16 where a tick has many chunks for every thread, down
 * to 1 where it has few: a tick ends when its last chunk does, so chunks of 16 users (about a
 * millisecond of sessions) leave threads idle in a tick of few users a thread, and a long
 * user late in a large chunk holds the tick. Modelled on a tick's measured costs
 * (FLYWHEEL_SESSION_COSTS, bench/schedule.py; README, "Load balance of the ticks"): at 16
 * threads the session phase of the default scenario's day runs at 90% efficiency with chunks
 * of 16 and 95% with this rule; at 2 threads the rule keeps 16 for all but the quietest
 * ticks. Results do not depend on it (the tick's records are merged in user order). */
static size_t session_grain(size_t n_runs, int threads)
{
    size_t g = n_runs / ((size_t)(threads > 0 ? threads : 1) * 64);
    return g < 1 ? 1 : g > 16 ? 16 : g;
}

/* FLYWHEEL_SESSION_COSTS: the tick's record (README, "Load balance of the ticks"): the
 * number of runs (users with sessions in the tick) and the barrier's nanoseconds (two
 * uint64), then each run's nanoseconds (int64, in user order) and its sessions (uint32). A
 * write that fails is said once and the recording stops; the run goes on. */
static void write_costs(driver *D, size_t n_runs, double barrier_s)
{
    uint64_t head[2] = {(uint64_t)n_runs, (uint64_t)(barrier_s * 1e9)};
    if (fwrite(head, sizeof head, 1, D->costs) != 1 ||
        fwrite(D->run_ns, sizeof *D->run_ns, n_runs, D->costs) != n_runs ||
        fwrite(D->run_count, sizeof *D->run_count, n_runs, D->costs) != n_runs) {
        fprintf(stderr, "\nflywheel: warning: FLYWHEEL_SESSION_COSTS: cannot write: %s; no more ticks recorded\n",
                strerror(errno));
        free(D->run_ns);
        D->run_ns = NULL;
        D->costs = NULL;
    }
}

static fw_err run_tick(driver *D, uint32_t t)
{
    fw_sim *S = &D->S;
    S->abs_tick = (int32_t)(S->day * S->tpd + t);
    /* Distinct users of the tick, with their session counts. */
    size_t n_runs = 0;
    for (uint64_t k = D->tick_off[t]; k < D->tick_off[t + 1]; k++) {
        uint32_t u = D->tick_user[k];
        if (n_runs && D->run_user[n_runs - 1] == u) {
            D->run_count[n_runs - 1]++;
        } else {
            D->run_user[n_runs] = u;
            D->run_count[n_runs++] = 1;
        }
    }
    fw_ranks_sessions_begin(&D->ranks, S);
    double t0 = fw_now_s();
    fw_par_for(n_runs, session_grain(n_runs, S->n_threads), k_sessions, D);
    double t1 = fw_now_s();
    D->t_par += t1 - t0;
    fw_ranks_sessions_end(&D->ranks, S);
    for (int s = 0; s < S->n_threads; s++)
        if (S->th[s].oom)
            return FW_ERR_NOMEM;
    /* The barrier: serial but for what the engine runs through the parallel driver
     * (fw_engine_set_par); its time includes the ranks' exchange. */
    fw_ranks_serial_begin(&D->ranks, S);
    fw_err rc = barrier(D, t, n_runs);
    give_back(D);
    fw_ranks_serial_end(&D->ranks, S);
    double t2 = fw_now_s();
    D->t_barrier += t2 - t1;
    if (D->costs && !S->warm && rc == FW_OK)
        write_costs(D, n_runs, t2 - t1);
    return rc;
}

/* The barrier: the tick's log (with several ranks, every rank's), the engine and the parts. */
static fw_err barrier(driver *D, uint32_t t, size_t n_runs)
{
    fw_sim *S = &D->S;
    fw_err rc = merge(D, n_runs);
    if (rc == FW_OK)
        rc = fw_ranks_exchange(&D->ranks, S, &D->log, D->run_user, n_runs, S->evlog, D->run_ev,
                               D->stop && *D->stop, &D->stop_any);
    if (rc == FW_OK && S->evlog && D->ranks.size == 1)   /* several ranks: the exchange merged them */
        rc = fw_evlog_merge(S->evlog, D->run_ev, n_runs);
    FOR_PARTS(S, p)
        if (rc == FW_OK && p->def->before_log)
            rc = p->def->before_log(S, p, &D->log);
    if (rc != FW_OK)
        return rc;
    if ((rc = fw_engine_log(S->engine, S->th[0].ctx, D->log.v, D->log.n)) != FW_OK) {
        fprintf(stderr, "\nflywheel: %s\n", *fw_engine_error(S->engine) ? fw_engine_error(S->engine)
                                                                         : "the engine refused the tick's log");
        return rc;
    }
    if (S->evlog)
        rc = fw_evlog_barrier(S->evlog, D->log.v, D->log.n);
    FOR_PARTS(S, p)
        if (rc == FW_OK && p->def->after_log)
            rc = p->def->after_log(S, p, D->log.v, D->log.n);
    if (rc != FW_OK || (rc = publish(D, t)) != FW_OK)
        return rc;
    if ((rc = fw_engine_end_tick(S->engine, S->th[0].ctx, S->abs_tick)) != FW_OK) {
        fprintf(stderr, "\nflywheel: %s\n", fw_engine_error(S->engine));
        return rc;
    }
    if (S->evlog && (rc = fw_evlog_tick_end(S->evlog)) != FW_OK)
        return rc;
    FOR_PARTS(S, p)
        if (rc == FW_OK && p->def->tick_end)
            rc = p->def->tick_end(S, p);
    return rc;
}

/* ---- a day -------------------------------------------------------------------------------- */

static fw_err day_start(driver *D)
{
    fw_sim *S = &D->S;
    const fw_scenario *sc = S->sc;
    fw_err rc;
    for (int s = 0; s < S->n_threads; s++) {
        memset(S->th[s].counters, 0, (size_t)S->n_cells * S->n_counters * sizeof(uint64_t));
        fw_engine_ctx_reset_latency(S->th[s].ctx);
    }
    if (sc->experiment_unit == FW_UNIT_CREATOR && fw_sim_has_pre(S) && !S->warm && S->day == sc->experiment_pre_days &&
        (rc = fw_engine_set_producer_arms(S->engine, S->cell_of)) != FW_OK)
        return rc;
    if ((rc = build_schedule(D)) != FW_OK)
        return rc;
    S->n_pend = 0;
    fw_ranks_serial_begin(&D->ranks, S);
    FOR_PARTS(S, p)
        if (p->def->day_start && (rc = p->def->day_start(S, p)) != FW_OK)
            return rc;
    fw_ranks_serial_end(&D->ranks, S);
    if (S->n_pend > 1)   /* no creators: no queue at all (qsort of NULL is undefined) */
        qsort(S->pend, S->n_pend, sizeof *S->pend, cmp_pending);
    S->pend_done = 0;
    return FW_OK;
}

static void k_end_day(void *arg, size_t b, size_t e, int slot)
{
    fw_sim *S = arg;
    for (size_t u = b; u < e; u++)   /* the thread's stream is sought again for each user */
        fw_behaviour_end_day(&S->model[fw_sim_live_cell(S, (uint32_t)u)], &S->w, &S->us, (uint32_t)u,
                             S->th[slot].rng);
}

/* The day's counters per cell and per arm (each arm counts the cells it is part of: every
 * user once per layer), the parts' day ends, users' day-end updates, the engine's day end,
 * the parts' books. */
static fw_err day_end(driver *D)
{
    fw_sim *S = &D->S;
    size_t per_cell = (size_t)S->n_cells * S->n_counters;
    fw_err rc;
    memset(S->day_cells, 0, per_cell * sizeof *S->day_cells);
    for (int s = 0; s < S->n_threads; s++)
        for (size_t k = 0; k < per_cell; k++)
            S->day_cells[k] += S->th[s].counters[k];
    if ((rc = fw_ranks_day_end(&D->ranks, S, S->day_cells)) != FW_OK)
        return rc;
    memset(D->day_arms, 0, (size_t)S->n_arms * S->n_counters * sizeof *D->day_arms);
    for (uint32_t c = 0; c < S->n_cells; c++)
        for (uint32_t l = 0; l < S->asg.n_layers; l++)
            for (uint32_t k = 0; k < S->n_counters; k++)
                D->day_arms[(size_t)S->asg.cell_arm[c][l] * S->n_counters + k] += S->day_cells[(size_t)c * S->n_counters + k];
    FOR_PARTS(S, p)
        if (p->def->day_end && (rc = p->def->day_end(S, p, D->day_arms)) != FW_OK)
            return rc;
    fw_par_for(S->w.n_users, 4096, k_end_day, S);
    if ((rc = fw_engine_end_day(S->engine, S->th[0].ctx, S->day)) != FW_OK) {
        fprintf(stderr, "\nflywheel: %s\n", fw_engine_error(S->engine));
        return rc;
    }
    FOR_PARTS(S, p)
        if (p->def->day_close && (rc = p->def->day_close(S, p)) != FW_OK)
            return rc;
    return fw_ranks_day_work(&D->ranks, S);
}

/* The driver's own section of a snapshot: what run_days carries from day to day. */
static void driver_snap(driver *D, fw_snap *s, uint32_t days_done)
{
    fw_sim *S = &D->S;
    fw_snap_section(s, "driver");
    /* The per-day means of the summary are over every finished day; its throughput and
     * figure of merit (rep's sessions, impressions) count only what this process simulated. */
    fw_snap_array(s, D->totals, (size_t)S->n_arms * S->n_counters, sizeof *D->totals);
    uint32_t ready = (uint32_t)D->exp_ready;
    fw_snap_index(s, &ready, 2, 2);
    D->exp_ready = (int)ready;
    fw_exp_table_snap(&D->exp, s);
    if (fw_snap_loading(s) && D->exp.n_arms > S->n_arms)   /* the summary reads the scenario's arms by it */
        fw_snap_fail(s, "an experiment table of %u arms, the run has %u", D->exp.n_arms, S->n_arms);
    /* The finished days' digests: a checkpoint written after a resume names them all, also
     * a day the killed run's checkpoint did not reach (killed between snapshot and it). */
    fw_snap_array(s, D->ck.day_digest, days_done, sizeof *D->ck.day_digest);
}

/* A snapshot write's outcome: the file's size, the seconds it took and why it failed
 * ("" when it did not). The background child sends it whole through a pipe. */
typedef struct snap_msg {
    uint64_t bytes;
    double seconds;
    char why[512];
} snap_msg;

/* Writes the snapshot after day S->day: NAME.h5.snap.tmp, then rename; the outcome in *m,
 * the temporary file removed on failure. */
static void snap_write(driver *D, snap_msg *m)
{
    fw_sim *S = &D->S;
    double t0 = fw_now_s();
    memset(m, 0, sizeof *m);
    fw_snap *s = fw_snap_create(D->snap_tmp);
    if (!s) {
        snprintf(m->why, sizeof m->why, "out of memory");
    } else {
        fw_snap_id id = {.seed = S->sc->seed, .scenario_hash = D->ck.scenario_hash, .days_done = S->day + 1};
        fw_snapshot_id(s, &id);
        if (fw_sim_snap(S, s, m->why, sizeof m->why) == FW_OK)
            driver_snap(D, s, id.days_done);
        char fin[512];
        fw_err rc = fw_snap_finish(s, &m->bytes, fin, sizeof fin);
        if (!m->why[0] && rc != FW_OK)
            snprintf(m->why, sizeof m->why, "%s", fin);
        if (!m->why[0] && rename(D->snap_tmp, D->snap_path) != 0)
            snprintf(m->why, sizeof m->why, "cannot rename it into place: %s", strerror(errno));
    }
    if (m->why[0])
        unlink(D->snap_tmp);
    m->seconds = fw_now_s() - t0;
}

/* Takes a write's outcome into the run: its size and time, or its failure, said once (the
 * checkpoint still lets a resume re-simulate). */
static void snap_take(driver *D, const snap_msg *m, uint32_t days_done)
{
    if (m->why[0] && !D->snap_failed)
        fprintf(stderr, "\nflywheel: warning: cannot write the snapshot %s after day %u: %s; a resumed run will "
                        "re-simulate from the last snapshot written, or from day 0\n", D->snap_path, days_done, m->why);
    if (!m->why[0])
        D->snap_bytes = m->bytes;
    D->snap_failed = m->why[0] != '\0';
    D->snap_s += m->seconds;
}

/* Waits for the background writer, if one runs, and takes its outcome. A child that sent no
 * whole outcome (killed, or it crashed) failed; its temporary file is removed. */
static void snap_collect(driver *D)
{
    if (D->snap_pid <= 0)
        return;
    double t0 = fw_now_s();
    snap_msg m;
    size_t got = 0;
    while (got < sizeof m) {
        ssize_t r = read(D->snap_fd, (char *)&m + got, sizeof m - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    int st = 0;
    while (waitpid(D->snap_pid, &st, 0) < 0 && errno == EINTR) {
    }
    close(D->snap_fd);
    D->snap_pid = 0;
    D->snap_fd = -1;
    if (got != sizeof m) {
        memset(&m, 0, sizeof m);
        if (WIFSIGNALED(st))
            snprintf(m.why, sizeof m.why, "the process writing it was killed by signal %d", WTERMSIG(st));
        else
            snprintf(m.why, sizeof m.why, "the process writing it ended without finishing (exit %d)",
                     WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        unlink(D->snap_tmp);
    }
    m.why[sizeof m.why - 1] = '\0';
    snap_take(D, &m, D->snap_day);
    D->snap_wait_s += fw_now_s() - t0;
}

/* The value of the line "key: N kB" of a /proc file, in bytes; -1 when unknown. */
static double proc_kb(const char *path, const char *key)
{
    FILE *f = fopen(path, "r");
    char line[128];
    size_t n = strlen(key);
    double kb = -1.0;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, key, n) == 0 && line[n] == ':' && sscanf(line + n + 1, "%lf kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb >= 0.0 ? kb * 1024.0 : -1.0;
}

/* Transparent huge pages and fork: a fork shares the process's huge pages (AnonHugePages of
 * /proc/self/smaps_rollup) with the child write-protected, and the parent's first write into
 * each splits it into 4 KiB pages, which the kernel does not merge back for the rest of the
 * run: measured on bench_large (20,000 users, 1M notes, two threads) the run's huge pages
 * fell from 156 MiB to 2 MiB at the first fork, and the runs with the forked writer took
 * 15.3 / 15.7 s of simulation against 10.8 / 11.2 s writing in the process; with THP off for
 * the process, 12.0 / 13.8 against 10.6 / 12.9 (README, "Not where the run holds huge
 * pages"). */

/* The snapshot after day S->day. By default a child forked here writes it while this process
 * goes on: the state it reads is the fork's copy-on-write image of this moment, so the file
 * is the one this process would write (pages the next day changes are copied for the parent
 * first: memory grows by what the next day changes before the child is done, at most the
 * state's size). At most one child runs: the previous one is waited for first. It dies with
 * this process (PR_SET_PDEATHSIG): a run killed while it writes keeps the previous snapshot
 * and a half-written NAME.h5.snap.tmp, as a run killed in a foreground write does, and no
 * orphan can rename a snapshot in after a resumed run has started. With less memory
 * available than the process's peak (the fork's worst case: every page copied), while the
 * process holds transparent huge pages (a fork splits them: above), where a pipe or a
 * fork cannot be had, and with --snapshot-foreground, the write is done here. */
static void write_snapshot(driver *D)
{
    fw_sim *S = &D->S;
    snap_collect(D);
    double t0 = fw_now_s();
    int fds[2] = {-1, -1};
    pid_t parent = getpid(), pid = -1;
    int want_fork = D->snap_writer == FW_SNAP_FORKED;
    double huge = want_fork ? proc_kb("/proc/self/smaps_rollup", "AnonHugePages") : 0.0;
    if (huge > 0.0) {   /* a fork would split them (above): written here */
        D->snap_huge++;
        D->snap_huge_mb = fmax(D->snap_huge_mb, huge / 1048576.0);
        want_fork = 0;
    }
    /* MemAvailable: free memory and what the page cache would give back. */
    double avail = want_fork ? proc_kb("/proc/meminfo", "MemAvailable") : 0.0;
    int fork_ok = want_fork && (avail < 0.0 || avail >= peak_rss_mb() * 1048576.0);
    if (fork_ok && pipe2(fds, O_CLOEXEC) == 0 && (pid = fork()) < 0) {
        close(fds[0]);
        close(fds[1]);
    }
    if (pid == 0) {
        /* The child: the write, its outcome through the pipe, _exit (no atexit handler, no
         * stdio buffer of the parent's flushed twice). */
        close(fds[0]);
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
            _exit(1);
        /* A Ctrl-C reaches the whole process group: the run says it stops and waits for this
         * write; a second one ends the run, and this process with it. */
        signal(SIGINT, SIG_IGN);
        signal(SIGTERM, SIG_IGN);
        fw_par_forked();
        snap_msg m;
        snap_write(D, &m);
        size_t off = 0;
        while (off < sizeof m) {
            ssize_t w = write(fds[1], (const char *)&m + off, sizeof m - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                _exit(1);
            off += (size_t)w;
        }
        _exit(0);
    }
    if (pid > 0) {
        close(fds[1]);
        D->snap_forked++;
        D->snap_pid = pid;
        D->snap_fd = fds[0];
        D->snap_day = S->day + 1;
        D->snap_wait_s += fw_now_s() - t0;
        return;
    }
    snap_msg m;
    snap_write(D, &m);
    snap_take(D, &m, S->day + 1);
    if (want_fork)   /* no room to fork, or no pipe or fork to be had */
        D->snap_tight++;
    if (D->snap_writer == FW_SNAP_FORKED)
        D->snap_wait_s += fw_now_s() - t0;
}

/* After a recorded day: a day the partial file already holds (resuming) is checked against
 * the checkpoint's digest and nothing is written; any later day rewrites the partial file,
 * then the checkpoint (so a checkpoint never names a day the partial lacks). */
static fw_err day_checkpoint(driver *D, uint64_t digest, double t_start, char *errbuf, size_t errlen)
{
    fw_sim *S = &D->S;
    D->ck.day_digest[S->day] = digest;
    if (S->day < D->replay) {
        if (S->day < D->resume->days_done && digest != D->resume->day_digest[S->day]) {
            snprintf(errbuf, errlen, "re-simulating finished day %u gave a different day than the run being resumed "
                                     "recorded (day digest %016llx, checkpoint %016llx): this build, its libraries "
                                     "or a plug-in do not reproduce that run; %s is left as it was", S->day + 1,
                     (unsigned long long)digest, (unsigned long long)D->resume->day_digest[S->day],
                     fw_recorder_partial_path(S->rec));
            return FW_ERR_INTERNAL;
        }
        if (S->day + 1 == D->replay)
            D->t_replayed = fw_now_s();
        return FW_OK;
    }
    /* The run's last day: the final file, written next, holds it, and the snapshot and the
     * checkpoint would be removed as soon as it is. Writing them would cost a whole file
     * (twice the final write in all), a snapshot (1.4 GB, 7 s at a million users) and a
     * synced checkpoint for a window of one write; a run killed inside it resumes from the
     * day before and re-simulates the last day. */
    if (S->day + 1 == S->sc->days) {
        D->last_unwritten = 1;
        return FW_OK;
    }
    fw_err rc = fw_recorder_write(S->rec, "running", fw_now_s() - t_start, peak_rss_mb(), errbuf, errlen);
    if (rc != FW_OK)
        return rc;
    if (D->ranks.rank > 0)   /* the file is written collectively; the checkpoint by rank 0 */
        return FW_OK;
    if (D->snap_on)   /* before the checkpoint, which then never names a day a written snapshot lacks */
        write_snapshot(D);
    double t0 = fw_now_s();
    D->ck.days_done = S->day + 1;
    rc = fw_ckpt_write(D->ckpt_path, &D->ck, &D->ckpt_bytes, errbuf, errlen);
    D->ckpt_s += fw_now_s() - t0;
    return rc;
}

/* The day's record: the engine's day series, the experiment's daily look, the counters, the
 * latency and work, the file. */
static fw_err day_record(driver *D, double t_start, char *errbuf, size_t errlen)
{
    fw_sim *S = &D->S;
    const fw_scenario *sc = S->sc;
    fw_err rc;
    /* The day's digest for the checkpoint: every arm's counters and every engine series. */
    uint64_t digest = fw_fnv64(FW_FNV64_INIT, D->day_arms, (size_t)S->n_arms * S->n_counters * sizeof *D->day_arms);
    for (uint32_t k = 0; k < D->n_series && S->rec; k++) {
        fw_series_group g;
        if (fw_engine_series(S->engine, k, &g) != FW_OK)
            return FW_ERR_INTERNAL;
        digest = fw_fnv64(digest, g.values, (size_t)g.n * sizeof *g.values);
        if ((rc = fw_recorder_push(S->rec, D->series_id[k], g.values)) != FW_OK)
            return rc;
    }
    if (S->n_arms > 1 && S->day >= sc->experiment_pre_days) {
        /* A daily look: the always-valid p-values keep their running minimum. */
        if ((rc = fw_experiment_analyse(sc, &S->asg, &S->aggs, sc->experiment_pre_days > 0,
                                        S->day + 1 - sc->experiment_pre_days, D->exp_ready ? &D->exp : NULL,
                                        &D->exp)) != FW_OK)
            return rc;
        D->exp_ready = 1;
        if (D->values)
            fw_experiment_values(sc, &S->asg, &S->aggs,
                                 &D->values[(size_t)(S->day - sc->experiment_pre_days) * FW_EM__COUNT]);
        if (S->rec)
            fw_recorder_set_experiment(S->rec, &D->exp, fw_experiment_unit_name(sc->experiment_unit),
                                       sc->experiment_alpha);
    }
    for (size_t k = 0; k < (size_t)S->n_arms * S->n_counters; k++)
        D->totals[k] += D->day_arms[k];
    if (!S->rec)
        return FW_OK;
    for (int st = 0; st < FW_STAGE__COUNT; st++) {
        fw_hist_reset(&D->day_lat[st]);
        for (int s = 0; s < S->n_threads; s++)
            fw_hist_merge(&D->day_lat[st], fw_engine_ctx_latency(S->th[s].ctx, st));
    }
    uint64_t day_work[FW_WORK__COUNT] = {0};
    for (int s = 0; s < S->n_threads; s++)
        for (int k = 0; k < FW_WORK__COUNT; k++)
            day_work[k] += fw_engine_ctx_work(S->th[s].ctx, k);
    if (D->ranks.size > 1)   /* every rank's, summed at the day's end */
        memcpy(day_work, D->ranks.day_work, sizeof day_work);
    if ((S->evlog && (rc = fw_evlog_day(S->evlog)) != FW_OK) ||
        (rc = fw_recorder_add_day(S->rec, D->day_arms, D->day_lat, day_work)) != FW_OK) {
        snprintf(errbuf, errlen, "cannot record day %u: %s", S->day, fw_err_str(rc));
        return rc;
    }
    return day_checkpoint(D, digest, t_start, errbuf, errlen);
}

/* ---- the run ------------------------------------------------------------------------------ */

static fw_err world_summary(const fw_world *w, fw_rec_info *info)
{
    uint32_t nc = w->n_creators;
    uint32_t *v = malloc(((size_t)nc + 1) * sizeof *v);
    uint32_t *notes = calloc((size_t)nc + 1, sizeof *notes);
    if (!v || !notes) {
        free(v);
        free(notes);
        return FW_ERR_NOMEM;
    }
    for (uint32_t c = 0; c < nc; c++)
        v[c] = w->n_followers[w->creator_user[c]];
    double g;
    fw_concentration(v, nc, 0.01, &info->follower_gini, &info->top1pct_follower_share);
    for (uint32_t n = 0; n < w->n_notes; n++)
        notes[w->creator_of[w->note_info[n].creator]]++;
    fw_concentration(notes, nc, 0.10, &g, &info->top10pct_creator_note_share);
    free(v);
    free(notes);
    info->n_users = w->n_users;
    info->n_creators = nc;
    info->n_notes_initial = w->n_notes;
    info->n_follow_edges = w->n_follow_edges;
    info->n_brands = w->n_brands;
    info->n_products = w->n_products;
    info->expected_dau_mau = fw_world_expected_dau_mau(w);
    return FW_OK;
}

/* The progress line, from tick ends: on a terminal redrawn at most twice a second; into a log
 * (--progress, stderr no terminal) a line of its own every 30 s and at each day's end, which a
 * long run's log can be read and grepped by (no carriage returns, no escape codes). */
/* The progress line: days [first, days) are this process's (first > 0: resumed from a
 * snapshot), sessions_done its sessions since t0. */
static void progress(const fw_run_opts *o, uint32_t day, uint32_t tick, uint32_t tpd, uint32_t first, uint32_t days,
                     double t0, uint64_t sessions_done, double *last)
{
    double now = fw_now_s();
    if (!o->progress || (now - *last < (o->progress_log ? 30.0 : 0.5) && tick + 1 < tpd))
        return;
    *last = now;
    double el = now - t0, done = day - first + (tick + 1.0) / tpd;
    double eta = done > 0 ? el / done * (days - first - done) : 0.0;
    fprintf(stderr, "%sday %u/%u tick %u/%u  %.0f sessions/s  ETA %.0f s%s", o->progress_log ? "" : "\r\033[K",
            day + 1, days, tick + 1, tpd, el > 0 ? sessions_done / el : 0.0, eta, o->progress_log ? "\n" : "");
    fflush(stderr);
}

static void summary(const driver *D, const fw_run_report *rep, FILE *out)
{
    const fw_sim *S = &D->S;
    const fw_scenario *sc = S->sc;
    if (!out)
        return;
    fprintf(out, "flywheel: %s '%s': %u of %u days, %u users, %d thread%s, %.1f s "
                 "(world %.1f s), peak memory %.0f MiB\n",
            rep->interrupted ? "INTERRUPTED" : "ran", sc->name, rep->days_done, sc->days, S->w.n_users, S->n_threads,
            S->n_threads == 1 ? "" : "s", rep->wall_s, rep->generation_s, rep->peak_rss_mb);
    fprintf(out, "  %-12s %9s %9s %8s %8s %8s %8s %9s\n", "arm", "DAU", "sessions", "CTR", "int/read", "fol/read",
            "retain", "new notes");
    double days = rep->days_done ? rep->days_done : 1;
    int new_notes = fw_counters_find(&D->counters, "new_notes");   /* the notes part's */
    for (uint32_t a = 0; a < S->n_arms; a++) {
        const uint64_t *c = &D->totals[(size_t)a * S->n_counters];
        char ctr[16], ipr[16], fpr[16];
        fprintf(out, "  %-12s %9.0f %9.0f %8s %8s %8s %8.3f %9.0f\n", sc->arms[a].name, c[C_active_users] / days,
                c[C_sessions] / days, fw_pct_text(ctr, sizeof ctr, fw_counters_rate(&D->counters, c, "ctr"), 2),
                fw_pct_text(ipr, sizeof ipr, fw_counters_rate(&D->counters, c, "interactions_per_read"), 2),
                fw_pct_text(fpr, sizeof fpr, fw_counters_rate(&D->counters, c, "follows_per_read"), 3),
                fw_counters_rate(&D->counters, c, "retention"), new_notes >= 0 ? c[new_notes] / days : NAN);
    }
    for (uint32_t k = 0; k < S->n_parts; k++)
        if (S->part[k].def->summary)
            S->part[k].def->summary(S, &S->part[k], D->totals, days, out);
    fprintf(out, "  (per-day means; rates over all days)\n");
    fprintf(out, "  throughput: %.0f user-sessions/s\n", rep->sim_s > 0 ? rep->sessions / rep->sim_s : 0.0);
    fw_ranks_summary(&D->ranks, S, rep->days_done, out);
    if (S->rec && fw_recorder_writers(S->rec)[0])
        fprintf(out, "  %s\n", fw_recorder_writers(S->rec));
    /* Cores: every rank's threads (one rank without MPI). */
    int ranks = D->ranks.size > 0 ? D->ranks.size : 1;
    char rk[32] = "";
    if (ranks > 1)
        snprintf(rk, sizeof rk, " x %d ranks", ranks);
    fprintf(out, "  figure of merit: %.0f impressions/s/core (%llu impressions, %.1f s x %d thread%s%s); "
                 "sessions %.1f s, barriers %.1f s, day starts/ends %.1f s\n",
            fw_run_impressions_per_core_s(rep) / ranks, (unsigned long long)rep->impressions, rep->sim_s,
            rep->threads, rep->threads == 1 ? "" : "s", rk, rep->par_s, rep->barrier_s,
            rep->day_s);
    fprintf(out, "  result: %s\n", rep->result_path);
    if (rep->warmup_days && rep->warmup_pilot_days == rep->warmup_days)
        fprintf(out, "  warm-up: %u days before day 0, unrecorded, %.1f s: a pilot of %u users (%.0f active a day)\n",
                rep->warmup_days, rep->warmup_s, fw_scenario_pilot_users(sc), rep->warmup_active[0]);
    else if (rep->warmup_days && rep->warmup_pilot_days)
        fprintf(out,
                "  warm-up: %u days before day 0, unrecorded, %.1f s: a pilot of %u users for %u day%s (%.0f active a "
                "day), then everyone for %u day%s (%.0f active a day)\n",
                rep->warmup_days, rep->warmup_s, fw_scenario_pilot_users(sc), rep->warmup_pilot_days,
                rep->warmup_pilot_days == 1 ? "" : "s", rep->warmup_active[0], rep->warmup_days - rep->warmup_pilot_days,
                rep->warmup_days - rep->warmup_pilot_days == 1 ? "" : "s", rep->warmup_active[1]);
    else if (rep->warmup_days)
        fprintf(out, "  warm-up: %u day%s before day 0, unrecorded, %.1f s (%.0f active users a day)\n", rep->warmup_days,
                rep->warmup_days == 1 ? "" : "s", rep->warmup_s, rep->warmup_active[1]);
    if (rep->warmup_pilot_days)   /* measured: README, "What a pilot does not carry" and "What the first month's CTR rise is" */
        fprintf(out, "           (a pilot carries DAU and users' interests, not the recommender's history of each user "
                     "outside it nor what everyone's traffic grows (follower counts, the shop's history): a learning "
                     "feed's CTR rises over the first weeks, and creator-exposure and shop metrics start off)\n");
    if (rep->snap_loaded_day)
        fprintf(out, "  resumed: from the snapshot after day %u (%llu bytes, loaded in %.1f s)\n", rep->snap_loaded_day,
                (unsigned long long)rep->snap_load_bytes, rep->snap_load_s);
    else if (rep->snap_unused[0])
        fprintf(out, "  resumed without a snapshot: %s\n", rep->snap_unused);
    if (rep->replayed)
        fprintf(out, "  resumed: %u finished day%s re-simulated (not rewritten) in %.1f s, world included\n",
                rep->replayed, rep->replayed == 1 ? "" : "s", rep->replay_s);
    if (rep->ckpt_bytes)
        fprintf(out, "  checkpoint: %zu bytes, %.3f s to write over the run's days (%s)\n", rep->ckpt_bytes,
                rep->ckpt_s,
                !rep->interrupted ? "removed: the run completed" : "kept: flywheel run --resume continues the run");
    static const char *const in_process[] = {
        [FW_SNAP_IN_PROCESS_OPTION] = "--snapshot-foreground",
        [FW_SNAP_IN_PROCESS_MPI] = "an MPI process forks no writer",
        [FW_SNAP_IN_PROCESS_LIBRARY] = "a library run forks no writer",
    };
    char bg[512];
    if (rep->snap_writer != FW_SNAP_FORKED)
        snprintf(bg, sizeof bg, ", the run waiting for them (%s)", in_process[rep->snap_writer]);
    else if (rep->snap_huge || rep->snap_tight) {
        char huge[160] = "", tight[96] = "", forked[64] = "";
        if (rep->snap_huge)
            snprintf(huge, sizeof huge, "%u because the run held transparent huge pages (up to %.0f MiB), "
                     "which a fork splits for the rest of the run", rep->snap_huge, rep->snap_huge_mb);
        if (rep->snap_tight)
            snprintf(tight, sizeof tight, "%s%u for want of memory, a pipe or a fork", huge[0] ? "; " : "", rep->snap_tight);
        if (rep->snap_forked)
            snprintf(forked, sizeof forked, "%u in a forked process beside the next day, ", rep->snap_forked);
        snprintf(bg, sizeof bg, ", %s%s in the run's own process, the run waiting: %s%s (the run's own time in %s"
                 "those writes %.3f s)", forked, rep->snap_forked ? "the rest" : "all", huge, tight,
                 rep->snap_forked ? "forks, waits and " : "", rep->snap_wait_s);
    } else
        snprintf(bg, sizeof bg, ", in a forked process beside the next day (the run's own time in forks and waits %.3f s)",
                 rep->snap_wait_s);
    if (rep->snap_on && rep->snap_bytes)
        fprintf(out, "  snapshot: %llu bytes, %.3f s to write over the run's days%s (%s)\n",
                (unsigned long long)rep->snap_bytes, rep->snap_s, bg,
                !rep->interrupted ? "removed: the run completed" : "kept: a resume continues from it");
    else if (!rep->snap_on)
        fprintf(out, "  snapshot: none (%s); a resumed run re-simulates its finished days\n", rep->snap_refusal);
    if (rep->prev_path[0])
        fprintf(out, "  previous result kept as %s\n", rep->prev_path);
}

/* What a run hands back or is handed besides its options: its final experiment table, the
 * replicates' tables and the counterfactual values it records, or the global metric values
 * per day it computes when it is itself a counterfactual run. */
typedef struct run_extra {
    fw_exp_table *exp_out;          /* the final table, or NULL */
    uint32_t n_reps;                /* recorded with the run: the replicates' tables */
    const uint64_t *rep_seeds;
    const fw_exp_table *reps;
    const double *cf;               /* recorded: [arm][experiment day][metric], or NULL */
    double *values;                 /* computed: [experiment day][metric], or NULL */
} run_extra;

/* The result file's description of the run, and the engine's day series. */
static fw_err recorder_create(driver *D, const fw_run_opts *o, fw_rec_info *info, const run_extra *x)
{
    fw_sim *S = &D->S;
    if (world_summary(&S->w, info) != FW_OK || !(S->rec = fw_recorder_create(o->output_path, info)))
        return FW_ERR_NOMEM;
    fw_recorder_set_users(S->rec, &S->asg, &S->aggs, S->sc->experiment_pre_days);
    fw_recorder_set_followers(S->rec, S->w.n_creators, S->w.creator_user, S->w.n_followers);
    if (x->n_reps > 1)
        fw_recorder_set_replicates(S->rec, x->n_reps, x->rep_seeds, x->reps);
    if (x->cf)
        fw_recorder_set_counterfactual(S->rec, S->sc->days - S->sc->experiment_pre_days, x->cf);
    D->n_series = fw_engine_n_series_groups(S->engine);
    for (uint32_t k = 0; k < D->n_series && k < FW_MAX_PARTS; k++) {
        fw_series_group g;
        char path[64];
        if (fw_engine_series(S->engine, k, &g) != FW_OK)
            return FW_ERR_INTERNAL;
        snprintf(path, sizeof path, "%s/days", g.name);
        fw_err rc = fw_recorder_series(S->rec, path, g.doc, FW_REC_I64, g.n, g.series, &D->series_id[k]);
        if (rc != FW_OK)
            return rc;
    }
    return FW_OK;
}

/* The scenario as resolved and the overrides, one per line, for the file's provenance (new
 * strings in *resolved and *overrides); FW_ERR_NOMEM. */
static fw_err provenance(const fw_scenario *sc, char **resolved, char **overrides)
{
    size_t resolved_len = 0, ov_len = 1;
    FILE *mem = open_memstream(resolved, &resolved_len);
    if (!mem)
        return FW_ERR_NOMEM;
    fw_scenario_write_yaml(sc, mem, 0);
    fclose(mem);
    for (uint32_t k = 0; k < sc->n_overrides; k++)
        ov_len += strlen(sc->overrides[k]) + 1;
    if (!(*overrides = calloc(ov_len, 1)))
        return FW_ERR_NOMEM;
    for (uint32_t k = 0; k < sc->n_overrides; k++) {
        strcat(*overrides, sc->overrides[k]);
        strcat(*overrides, "\n");
    }
    return FW_OK;
}

/* Issue 18: what a warm-up cannot do yet (NULL: nothing), given the parts that run (names);
 * world.warmup_days is refused with it (exit 2). The parts not listed keep state by recorded
 * day or tick that a day before day 0 would break (or were not checked). */
static const char *warmup_refusal(const fw_sim *S, const char *const *names, uint32_t n)
{
    static const char *const checked[] = {"feed", "notes", "search", "shop", "ads", "reach", "oracle", "tables",
                                          "market", "adnotes", "searchprod", "advertisers", "living", "unfollow",
                                          "followback", "suggest", "safety", "aigc", "media", "notify", "promo", "live"};
    static char why[512];
    char list[200];
    if (S->sc->world.warmup_days == 0)
        return NULL;
    const char *part = fw_sim_unchecked_part(names, n, checked, sizeof checked / sizeof *checked, list, sizeof list);
    if (!part)
        return NULL;
    snprintf(why, sizeof why,
             "world.warmup_days: the scenario runs the %s part, not yet checked for days before day 0 (checked: "
             "%s); set world.warmup_days to 0",
             part, list);
    return why;
}

/* The counters (the core's first, then every part's), the recorder when the run is recorded
 * (with what x hands it), the parts and the driver's own state. */
static fw_err setup(driver *D, const fw_run_opts *o, const fw_run_report *rep, const run_extra *x)
{
    fw_sim *S = &D->S;
    const fw_scenario *sc = S->sc;
    double gen_rss = peak_rss_mb();
    char errbuf[512];
    D->local = o->local;
    D->costs = o->session_costs;
    /* The core, then the parts that run. */
    const fw_part *layout[FW_MAX_PARTS + 1] = {&core_part};
    uint32_t n_layout = 1;
    for (uint32_t k = 0; k < fw_n_parts && n_layout <= FW_MAX_PARTS; k++)
        if (!fw_parts[k]->active || fw_parts[k]->active(S))
            layout[n_layout++] = fw_parts[k];
    fw_err rc = fw_counters_build(&D->counters, layout, n_layout, D->base, errbuf, sizeof errbuf);
    if (rc != FW_OK) {
        fprintf(stderr, "flywheel: %s\n", errbuf);
        return rc;
    }
    const char *names[FW_MAX_PARTS];
    for (uint32_t k = 1; k < n_layout; k++)
        names[k - 1] = layout[k]->name;
    /* Several ranks: what the engine's requests write for their user and its barrier reads
     * goes with the users' rows (today the recommender's cell of a user's latest request). */
    void *erow[4];
    size_t esize[4];
    for (uint32_t k = 0, n = fw_engine_request_rows(S->engine, erow, esize, 4); k < n; k++)
        if ((rc = fw_sim_rank_row(S, erow[k], esize[k])) != FW_OK)
            return rc;
    const char *refusal = fw_ranks_refusal(S, names, n_layout - 1, D->local);
    if (!refusal)
        refusal = warmup_refusal(S, names, n_layout - 1);
    if (refusal) {
        if (D->local || fw_mpi_rank() == 0)
            fprintf(stderr, "flywheel run: %s\n", refusal);
        D->refused = 1;
        return FW_ERR_INVAL;
    }
    if (o->output_path) {
        for (uint32_t a = 0; a < S->n_arms; a++) {
            D->arm_names[a] = sc->arms[a].name;
            D->arm_layers[a] = sc->arms[a].layer ? sc->arms[a].layer : "main";
            D->arm_weights[a] = sc->arms[a].weight;
        }
        fw_rec_info info = {
            .version = FW_VERSION, .git_revision = FW_GIT_REVISION, .scenario_name = sc->name,
            .scenario_path = sc->source_path ? sc->source_path : "",
            .scenario_text = sc->source_text ? sc->source_text : "", .seed = sc->seed, .threads = S->n_threads,
            .ranks = D->local ? 1 : fw_mpi_size(),
            .days_planned = sc->days, .ticks_per_day = S->tpd, .n_arms = S->n_arms, .arm_names = D->arm_names,
            .arm_weights = D->arm_weights, .arm_layers = D->arm_layers, .arm_users = S->asg.users, .scenario = sc,
            .compression = sc->output.compression, .n_counters = D->counters.n, .n_rates = D->counters.n_rates,
            .counters = D->counters.desc, .rates = D->counters.rates, .generation_s = rep->generation_s,
            .generation_peak_rss_mb = gen_rss};
        if ((rc = provenance(sc, &D->resolved, &D->overrides)) == FW_OK) {
            info.scenario_resolved = D->resolved;
            info.overrides = D->overrides;
            rc = recorder_create(D, o, &info, x);
        }
        if (rc != FW_OK) {
            fprintf(stderr, "flywheel: out of memory while setting up the run\n");
            return rc;
        }
    }
    if (S->rec && (rc = fw_evlog_create(S, &S->evlog)) != FW_OK) {
        fprintf(stderr, "flywheel: out of memory while setting up the event log\n");
        return rc;
    }
    /* fw_sim_create_parts says why it failed itself. */
    if ((rc = fw_sim_create_parts(S, layout + 1, n_layout - 1, D->counters.desc, D->counters.n, D->base + 1)) != FW_OK)
        return rc;
    if ((rc = drv_init(D)) == FW_OK && D->costs) {
        uint64_t threads = (uint64_t)S->n_threads;   /* bench/schedule.py reads the file */
        if (!(D->run_ns = malloc(((size_t)S->w.n_users + 1) * sizeof *D->run_ns)))
            rc = FW_ERR_NOMEM;
        else if (fwrite("FWCOSTS1", 8, 1, D->costs) != 1 || fwrite(&threads, sizeof threads, 1, D->costs) != 1) {
            fprintf(stderr, "flywheel: FLYWHEEL_SESSION_COSTS: cannot write: %s\n", strerror(errno));
            return FW_ERR_IO;
        }
    }
    if (rc != FW_OK)
        fprintf(stderr, "flywheel: setting up the run failed: %s\n", fw_err_str(rc));
    else if (S->rec)
        fw_recorder_set_parallel(S->rec, D->ranks.rank, D->ranks.size, D->ranks.lo, D->ranks.hi);
    return rc;
}

/* Issue 22: the impressions a row of counters (a cell's day, an arm's totals) served: feed
 * notes, search results and ads examined, each where its part runs. */
static uint64_t served_impressions(const driver *D, const uint64_t *row)
{
    static const char *const served[] = {"impressions", "search_impressions", "ad_impressions"};
    uint64_t n = 0;
    for (size_t k = 0; k < sizeof served / sizeof served[0]; k++) {
        int i = fw_counters_find(&D->counters, served[k]);
        if (i >= 0)
            n += row[i];
    }
    return n;
}

double fw_run_impressions_per_core_s(const fw_run_report *rep)
{
    return rep->sim_s > 0 && rep->threads > 0 ? (double)rep->impressions / (rep->sim_s * rep->threads) : 0.0;
}

/* Issue 18: the warm-up, world.warmup_days days before day 0 (days 2^32 - W .. 2^32 - 1,
 * ticks below 0): every part and the engine run as on any day, with every viewer on the
 * control cell, but nothing is recorded (no recorder, no event log, no day record, no
 * experiment look, no checkpoint) and nothing counts toward the run's totals; the per-user
 * counts start over at day 0. Day 0 starts from the state they leave. */
static fw_err warm_up(driver *D, const fw_run_opts *o, fw_run_report *rep, int *stopped)
{
    fw_sim *S = &D->S;
    uint32_t W = S->sc->world.warmup_days;
    double t0 = fw_now_s();
    fw_recorder *rec = S->rec;
    struct fw_evlog *evlog = S->evlog;   /* detached: it logs from day 0 (request ids from 0) */
    fw_err rc = FW_OK;
    S->rec = NULL;
    S->evlog = NULL;
    /* The pilot (world.warmup_pilot_users): the first W - F days simulate its users alone. */
    uint32_t pilot_days = fw_scenario_pilot_users(S->sc) ? W - S->sc->world.warmup_full_days : 0;
    uint64_t active[2] = {0, 0}, ran[2] = {0, 0};   /* active user-days and days: the pilot's, the full */
    S->warm = 1;
    for (uint32_t d = 0; d < W && rc == FW_OK && !*stopped; d++) {
        S->day = (uint32_t)0 - (W - d);
        S->pilot = d < pilot_days;
        if ((rc = day_start(D)) != FW_OK)
            break;
        for (uint32_t t = 0; t < S->tpd && rc == FW_OK && !*stopped; t++) {
            rc = run_tick(D, t);
            *stopped = D->ranks.size > 1 ? D->stop_any : o->stop && *o->stop;   /* as run_days */
        }
        if (rc == FW_OK && !*stopped)
            rc = day_end(D);
        if (rc == FW_OK && !*stopped) {
            ran[!S->pilot]++;
            for (uint32_t c = 0; c < S->n_cells; c++)
                active[!S->pilot] += S->day_cells[(size_t)c * S->n_counters + C_active_users];
            /* The pilot's last day ended: its handover, before the full days (or day 0). */
            if (d + 1 == pilot_days && fw_world_pilot_handover(&S->w, S->th[0].rng, S->sc->world.n_users,
                                                               fw_scenario_pilot_users(S->sc)) < 0)
                rc = FW_ERR_NOMEM;
        }
        if (o->progress)
            fprintf(stderr, "%swarm-up day %u/%u%s  %.0f s%s", o->progress_log ? "" : "\r\033[K", d + 1, W,
                    S->pilot ? " (pilot)" : "", fw_now_s() - t0, o->progress_log ? "\n" : "");
    }
    S->rec = rec;
    S->evlog = evlog;
    if (rc != FW_OK)
        return rc;   /* S->warm and S->day name the day that failed */
    S->warm = 0;
    S->pilot = 0;
    rep->warmup_pilot_days = pilot_days;
    rep->warmup_active[0] = ran[0] ? (double)active[0] / (double)ran[0] : 0.0;
    rep->warmup_active[1] = ran[1] ? (double)active[1] / (double)ran[1] : 0.0;
    S->day = 0;
    for (int p = 0; p < 2; p++)
        for (int m = 0; m < FW_UM__COUNT; m++)
            memset(S->aggs.v[p][m], 0, (size_t)S->aggs.n_users * sizeof *S->aggs.v[p][m]);
    D->t_par = D->t_barrier = 0.0;
    fw_ranks_warmed(&D->ranks);
    rep->warmup_days = W;
    rep->warmup_s = fw_now_s() - t0;
    if (o->progress && !o->progress_log && W)
        fputc('\n', stderr);
    return rc;
}

/* The days, until the last, a stop request (*stopped) or a failure. */
static fw_err run_days(driver *D, const fw_run_opts *o, fw_run_report *rep, fw_exp_table *exp_out, double t_start,
                       int *stopped)
{
    fw_sim *S = &D->S;
    const fw_scenario *sc = S->sc;
    double t_sim = fw_now_s(), last_progress = 0.0;
    char errbuf[512] = "";
    fw_err rc = FW_OK;
    D->stop = o->stop;
    /* A snapshot holds the state after the warm-up too. */
    if (sc->world.warmup_days && !D->start_day && (rc = warm_up(D, o, rep, stopped)) != FW_OK)
        return rc;
    t_sim = fw_now_s();
    rep->days_done = D->start_day;   /* a snapshot's days are done (all of them: the loop does not run) */
    for (S->day = D->start_day; S->day < sc->days && !*stopped; S->day++) {
        fw_ranks_fault(&D->ranks, S->day);
        if ((rc = day_start(D)) != FW_OK)
            break;
        for (uint32_t t = 0; t < S->tpd && rc == FW_OK && !*stopped; t++) {
            rc = run_tick(D, t);
            if (o->progress) {
                uint64_t sessions = rep->sessions;
                for (int s = 0; s < S->n_threads; s++)
                    for (uint32_t c = 0; c < S->n_cells; c++)
                        sessions += S->th[s].counters[(size_t)c * S->n_counters + C_sessions];
                progress(o, S->day, t, S->tpd, D->start_day, sc->days, t_sim, sessions, &last_progress);
            }
            /* Several ranks stop together, at the barrier where one of them was asked to. */
            *stopped = D->ranks.size > 1 ? D->stop_any : o->stop && *o->stop;
        }
        if (rc != FW_OK || *stopped || (rc = day_end(D)) != FW_OK)
            break;
        for (uint32_t c = 0; c < S->n_cells; c++) {
            rep->active_user_days += S->day_cells[(size_t)c * S->n_counters + C_active_users];
            rep->sessions += S->day_cells[(size_t)c * S->n_counters + C_sessions];
            rep->impressions += served_impressions(D, &S->day_cells[(size_t)c * S->n_counters]);
        }
        if ((rc = day_record(D, t_start, errbuf, sizeof errbuf)) != FW_OK) {
            if (errbuf[0] && D->ranks.rank == 0)   /* a collective write's failure: every rank's */
                fprintf(stderr, "\nflywheel: %s\n", errbuf);
            break;
        }
        if (exp_out && D->exp_ready)
            *exp_out = D->exp;
        rep->days_done = S->day + 1;
        if (o->stop_after_days && rep->days_done >= o->stop_after_days && rep->days_done > D->replay)
            *stopped = 1;   /* a test's stop, as a signal after this day */
        /* Several ranks: none starts the next day before rank 0 has written this one, so
         * a rank that dies later leaves the file with every day finished before. */
        if (D->ranks.size > 1)
            fw_mpi_barrier();
    }
    if (o->progress && !o->progress_log)
        fputc('\n', stderr);
    rep->sim_s = fw_now_s() - t_sim;
    rep->threads = S->n_threads;
    rep->par_s = D->t_par;
    rep->barrier_s = D->t_barrier;
    rep->day_s = rep->sim_s - D->t_par - D->t_barrier;
    return rc;
}

int fw_run_ckpt_path(const char *path, char *buf, size_t n)
{
    return (size_t)snprintf(buf, n, "%s.ckpt", path) < n ? 0 : -1;
}

fw_err fw_run_scenario_hash(const fw_scenario *s, uint64_t *hash)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem)
        return FW_ERR_NOMEM;
    fw_scenario_write_yaml(s, mem, 0);
    if (fclose(mem) != 0 || !text) {
        free(text);
        return FW_ERR_NOMEM;
    }
    *hash = fw_fnv64(FW_FNV64_INIT, text, len);
    free(text);
    return FW_OK;
}

/* The checkpoint's fixed part (how the run was started) and its day digests' room. */
static fw_err ckpt_setup(driver *D, const fw_run_opts *o)
{
    const fw_scenario *sc = D->S.sc;
    size_t n = strlen(o->output_path) + 6;
    if (!(D->ckpt_path = malloc(n)) || fw_run_ckpt_path(o->output_path, D->ckpt_path, n) < 0 ||
        !(D->ck.day_digest = calloc((size_t)sc->days + 1, sizeof *D->ck.day_digest)))
        return FW_ERR_NOMEM;
    D->ck.version = (char *)FW_VERSION;
    D->ck.git_revision = (char *)FW_GIT_REVISION;
    D->ck.scenario_path = sc->source_path;
    D->ck.scenario_text = sc->source_text;
    D->ck.overrides = sc->overrides;
    D->ck.n_overrides = sc->n_overrides;
    D->ck.seed = sc->seed;
    D->ck.days_planned = sc->days;
    D->ck.replicates = o->replicates > 1 ? o->replicates : 1;
    D->ck.scenario_hash = fw_fnv64(FW_FNV64_INIT, D->resolved, strlen(D->resolved));
    D->resume = o->resume;
    D->replay = o->resume ? o->resume_days : 0;
    if (D->resume && (D->replay > sc->days || D->resume->days_done > D->replay))
        return FW_ERR_INVAL;
    size_t m = strlen(o->output_path) + 12;
    if (!(D->snap_path = malloc(m)) || !(D->snap_tmp = malloc(m)) || fw_snapshot_path(o->output_path, D->snap_path, m) < 0)
        return FW_ERR_NOMEM;
    snprintf(D->snap_tmp, m, "%s.tmp", D->snap_path);
    if (o->no_snapshot)
        snprintf(D->snap_refusal, sizeof D->snap_refusal, "--no-snapshot");
    else if (D->ranks.size > 1)   /* users' state lives on their own rank; a resume runs in one process */
        snprintf(D->snap_refusal, sizeof D->snap_refusal, "several ranks keep each user's state on the user's rank");
    else
        fw_sim_snap_refusal(&D->S, D->snap_refusal, sizeof D->snap_refusal);
    D->snap_on = !D->snap_refusal[0];
    /* Under a launcher, even as its only rank, the process is an MPI process, which may not
     * count on its transports surviving a fork: the snapshot is written in it. */
    D->snap_writer = o->snapshot_foreground ? FW_SNAP_IN_PROCESS_OPTION
                     : o->no_fork           ? FW_SNAP_IN_PROCESS_LIBRARY
                     : fw_mpi_started()     ? FW_SNAP_IN_PROCESS_MPI
                                            : FW_SNAP_FORKED;
    return FW_OK;
}

/* Resuming: loads the snapshot beside the partial file when it is this run's and this build's
 * and holds no more days than the partial; the run then starts at its day (D->start_day) and
 * re-simulates only the partial's days after it. Any other snapshot, or none, is left unused
 * (D->snap_unused says why) and the run re-simulates every finished day, as without
 * snapshots. A snapshot that is this run's but cannot be loaded is bad input: FW_ERR_PARSE
 * (exit 2), said on stderr; the state is then half-loaded and the run must not go on. */
static fw_err load_snapshot(driver *D)
{
    fw_sim *S = &D->S;
    if (!D->snap_on) {
        snprintf(D->snap_unused, sizeof D->snap_unused, "this run cannot be snapshot: %s", D->snap_refusal);
        return FW_OK;
    }
    double t0 = fw_now_s();
    fw_snap *s = fw_snap_open(D->snap_path);
    if (!s)
        return FW_ERR_NOMEM;
    fw_snap_id id = {0};
    if (!fw_snap_failed(s))
        fw_snapshot_id(s, &id);
    if (fw_snap_failed(s))
        snprintf(D->snap_unused, sizeof D->snap_unused, "%s", fw_snap_why(s));
    else if (id.seed != S->sc->seed || id.scenario_hash != D->ck.scenario_hash)
        snprintf(D->snap_unused, sizeof D->snap_unused, "%s is of another run (seed or scenario)", D->snap_path);
    else if (id.days_done == 0 || id.days_done > D->replay)
        snprintf(D->snap_unused, sizeof D->snap_unused, "%s holds the state after day %u, the partial file %u days",
                 D->snap_path, id.days_done, D->replay);
    if (D->snap_unused[0]) {
        fw_snap_close(s, NULL, 0);
        if (access(D->snap_path, F_OK) == 0)   /* one was there: say why it is not used */
            fprintf(stderr, "flywheel run --resume: not using the snapshot %s: %s; re-simulating the finished days "
                            "instead\n", D->snap_path, D->snap_unused);
        return FW_OK;
    }
    char why[512] = "", why2[512] = "";
    D->snap_load_bytes = fw_snap_bytes(s);
    fw_err rc = fw_sim_snap(S, s, why, sizeof why);
    if (rc == FW_OK)
        driver_snap(D, s, id.days_done);
    fw_err rc2 = fw_snap_close(s, why2, sizeof why2);
    if (rc != FW_OK || rc2 != FW_OK) {
        fprintf(stderr, "flywheel run --resume: the snapshot %s cannot be loaded: %s; remove it to resume by "
                        "re-simulating the finished days instead\n", D->snap_path, why[0] ? why : why2);
        D->rep->refused = 1;
        return FW_ERR_PARSE;
    }
    D->start_day = id.days_done;
    D->snap_load_s = fw_now_s() - t0;
    return FW_OK;
}

/* After a failure: the partial file keeps every finished day, marked failed (never left
 * "running"), and stderr says where it is, or why it could not be marked. */
static void mark_failed(fw_recorder *rec, double wall_s, fw_run_report *rep, uint32_t held)
{
    char errbuf[512];
    if (!rec || fw_mpi_rank() > 0)   /* rank 0 marks the file and says so */
        return;
    if (fw_recorder_fail(rec, wall_s, peak_rss_mb(), errbuf, sizeof errbuf) == FW_OK) {
        snprintf(rep->result_path, sizeof rep->result_path, "%s", fw_recorder_partial_path(rec));
        fprintf(stderr, "flywheel: the run failed; %s keeps the finished days (%u or more), marked failed%s%s\n",
                fw_recorder_partial_path(rec), held, errbuf[0] ? " " : "", errbuf);
    } else {
        fprintf(stderr, "flywheel: the run failed, and %s\n", errbuf);
    }
}

/* One simulation. It records to o->output_path when that is set (with the replicates'
 * tables x->reps[0..n_reps), whose slot 0 is this run's own, kept current in *x->exp_out,
 * and the counterfactual values x->cf), and otherwise only leaves its final experiment table
 * in *x->exp_out and its global metric values in x->values. */
static fw_err run_one(const fw_scenario *sc, const fw_run_opts *o, fw_run_report *rep, const run_extra *x)
{
    double t_start = fw_now_s();
    driver *D = calloc(1, sizeof *D);
    char errbuf[512];
    memset(rep, 0, sizeof *rep);
    if (!D) {
        fprintf(stderr, "flywheel: out of memory while setting up the run\n");
        return FW_ERR_NOMEM;
    }
    fw_sim *S = &D->S;
    D->lent = -1;
    D->rep = rep;
    int stopped = 0;
    if (o->progress)   /* at ten million users the world takes minutes */
        fprintf(stderr, "generating the world: %u users, %u notes\n", sc->world.n_users, sc->world.n_notes);
    fw_err rc = fw_sim_create(S, sc, o, &rep->generation_s);
    D->values = x->values;
    if (rc == FW_OK)
        rc = setup(D, o, rep, x);
    rep->refused = D->refused;
    if (rc == FW_OK && S->rec && (rc = ckpt_setup(D, o)) != FW_OK)
        fprintf(stderr, "flywheel: %s\n",
                rc == FW_ERR_NOMEM ? "out of memory while setting up the checkpoint"
                                   : "the checkpoint being resumed holds more days than the partial file or the run");
    if (rc == FW_OK && S->rec && o->snapshot_foreground && !D->snap_on) {   /* it would do nothing */
        if (fw_mpi_rank() == 0)
            fprintf(stderr, "flywheel run: --snapshot-foreground: this run writes no snapshot (%s)\n", D->snap_refusal);
        rep->refused = 1;
        rc = FW_ERR_INVAL;
    }
    /* An empty but valid partial file exists from the start (a resumed run keeps its own,
     * and a fresh one removes a stale checkpoint beside it). */
    if (rc == FW_OK && S->rec && !D->resume) {
        if ((rc = fw_recorder_write(S->rec, "running", fw_now_s() - t_start, peak_rss_mb(), errbuf, sizeof errbuf)) != FW_OK) {
            if (fw_mpi_rank() == 0)
                fprintf(stderr, "flywheel: %s\n", errbuf);
        } else if ((unlink(D->ckpt_path) < 0 && errno != ENOENT) || (unlink(D->snap_path) < 0 && errno != ENOENT)) {
            fprintf(stderr, "flywheel: cannot remove the stale checkpoint or snapshot beside %s: %s\n",
                    fw_recorder_partial_path(S->rec), strerror(errno));
            rc = FW_ERR_IO;
        }
    }
    if (rc == FW_OK && S->rec && D->resume) {
        if (o->progress && D->snap_on)
            fprintf(stderr, "loading the snapshot %s\n", D->snap_path);
        rc = load_snapshot(D);
        if (rc == FW_OK && o->progress && D->start_day)
            fprintf(stderr, "loaded the state after day %u (%.1f MB) in %.1f s; %u finished day%s to re-simulate\n",
                    D->start_day, D->snap_load_bytes / 1e6, D->snap_load_s, D->replay - D->start_day,
                    D->replay - D->start_day == 1 ? "" : "s");
    }
    if (rc != FW_OK)
        goto out;
    rc = run_days(D, o, rep, x->exp_out, t_start, &stopped);
    snap_collect(D);   /* the last day's snapshot is on disk before anything is said or removed */
    if (D->resume && rep->days_done < D->replay && S->rec) {
        /* Stopped or failed while re-simulating days the partial file holds: it is left as
         * it was, and the checkpoint with it (resume again). */
        if (rc == FW_OK && stopped)
            rc = FW_ERR_INTERRUPT;
        if (rc != FW_ERR_INTERRUPT)
            fprintf(stderr, "flywheel: re-simulating day %u of the run being resumed failed: %s\n", S->day + 1,
                    fw_err_str(rc));
        fprintf(stderr, "flywheel: stopped while re-simulating the %u finished days; %s and %s are left as they "
                        "were (%u of them re-simulated)\n", D->replay, fw_recorder_partial_path(S->rec),
                D->ckpt_path, rep->days_done);
        goto out;
    }
    if (rc != FW_OK) {
        /* A warm-up's days are 2^32 - k: said as -k. */
        char day[32];
        if (S->warm)
            snprintf(day, sizeof day, "%d (of the warm-up)", -(int)(UINT32_MAX - S->day) - 1);
        else
            snprintf(day, sizeof day, "%u", S->day);
        if (rc == FW_ERR_NOMEM)
            fprintf(stderr, "flywheel: out of memory on day %s\n", day);
        else
            fprintf(stderr, "flywheel: day %s failed: %s\n", day, fw_err_str(rc));
        mark_failed(S->rec, fw_now_s() - t_start, rep, rep->days_done);
        goto out;
    }
    rep->interrupted = stopped;
    rep->stopped_together = stopped && D->ranks.size > 1;   /* agreed at a barrier: no rank waits */
    rep->wall_s = fw_now_s() - t_start;
    rep->peak_rss_mb = peak_rss_mb();
    if (S->rec) {
        if ((rc = fw_recorder_write(S->rec, stopped ? "interrupted" : "complete", rep->wall_s, rep->peak_rss_mb,
                                    errbuf, sizeof errbuf)) != FW_OK) {
            if (fw_mpi_rank() == 0)
                fprintf(stderr, "flywheel: %s\n", errbuf);
            /* A failed final write: the partial is sure to hold the days before the last one (it
             * may hold them all: fw_recorder_fail writes the whole file again if it can). */
            mark_failed(S->rec, rep->wall_s, rep, rep->days_done - (uint32_t)D->last_unwritten);
            goto out;
        }
        snprintf(rep->result_path, sizeof rep->result_path, "%s",
                 stopped ? fw_recorder_partial_path(S->rec) : fw_recorder_path(S->rec));
        if (!stopped && unlink(D->ckpt_path) < 0 && errno != ENOENT)
            fprintf(stderr, "flywheel: warning: cannot remove the checkpoint %s: %s\n", D->ckpt_path, strerror(errno));
        if (!stopped && unlink(D->snap_path) < 0 && errno != ENOENT)
            fprintf(stderr, "flywheel: warning: cannot remove the snapshot %s: %s\n", D->snap_path, strerror(errno));
        rep->snap_bytes = D->snap_bytes;
        rep->snap_s = D->snap_s;
        rep->snap_writer = D->snap_writer;
        rep->snap_wait_s = D->snap_wait_s;
        rep->snap_tight = D->snap_tight;
        rep->snap_huge = D->snap_huge;
        rep->snap_forked = D->snap_forked;
        rep->snap_huge_mb = D->snap_huge_mb;
        rep->snap_on = D->snap_on && !D->snap_failed;
        snprintf(rep->snap_refusal, sizeof rep->snap_refusal, "%s", D->snap_failed ? "its last write failed" : D->snap_refusal);
        rep->snap_loaded_day = D->start_day;
        rep->snap_load_s = D->snap_load_s;
        rep->snap_load_bytes = D->snap_load_bytes;
        snprintf(rep->snap_unused, sizeof rep->snap_unused, "%s", D->snap_unused);
        rep->ckpt_bytes = D->ckpt_bytes;
        rep->ckpt_s = D->ckpt_s;
        rep->replayed = D->replay - D->start_day;
        rep->replay_s = rep->replayed ? D->t_replayed - t_start : 0.0;
        const char *prev = fw_recorder_prev_path(S->rec);
        snprintf(rep->prev_path, sizeof rep->prev_path, "%s", prev ? prev : "");
        summary(D, rep, o->out);
        if (D->exp_ready)
            fw_experiment_print(sc, &S->asg, &D->exp, o->out);
    }
    rc = stopped ? FW_ERR_INTERRUPT : FW_OK;
out:
    fw_recorder_destroy(S->rec);
    drv_fini(D);
    free(D);
    return rc;
}

/* ---- side runs: replicates and counterfactuals -------------------------------------- */

/* A run beside the recorded one: unrecorded, on one thread, with its own scenario copy (a
 * shallow one: read-only, never finalised; a counterfactual's owns its arms array). */
typedef struct side_run {
    fw_scenario sc;
    fw_arm *arms;           /* owned by a counterfactual run, else NULL */
    run_extra x;
    fw_err status;
} side_run;

typedef struct side_job {
    side_run *runs;
    const uint32_t *idx;    /* the side runs this process runs (all, or its rank's share) */
    const fw_run_opts *o;
} side_job;

static void k_side(void *arg, size_t b, size_t e, int slot)
{
    side_job *j = arg;
    (void)slot;
    for (size_t i = b; i < e; i++) {
        side_run *r = &j->runs[j->idx[i]];
        if (j->o->stop && *j->o->stop) {
            r->status = FW_ERR_INTERRUPT;
            continue;
        }
        /* local: under several ranks a side run is one rank's, whole, on one thread */
        fw_run_opts q = {.stop = j->o->stop, .local = 1};
        fw_run_report rep;
        r->status = run_one(&r->sc, &q, &rep, &r->x);
    }
}

/* The counterfactual world of arm a: the same scenario and seed with every unit on a in a's
 * layer and on the control in every other layer (a = FW_NONE: on every layer's control).
 * The assignment hashes units as usual; the weights leave one arm per layer to land on. */
static fw_err force_arm(const fw_scenario *sc, uint32_t a, side_run *r)
{
    if (!(r->arms = malloc(sc->n_arms * sizeof *r->arms)))
        return FW_ERR_NOMEM;
    memcpy(r->arms, sc->arms, sc->n_arms * sizeof *r->arms);
    for (uint32_t l = 0; l < sc->n_layers; l++) {
        const fw_layer *ly = &sc->layers[l];
        uint32_t target = ly->arm[0];
        for (uint32_t i = 0; i < ly->n_arms; i++)
            if (ly->arm[i] == a)
                target = a;
        for (uint32_t i = 0; i < ly->n_arms; i++)
            r->arms[ly->arm[i]].weight = ly->arm[i] == target ? 1.0 : 0.0;
    }
    r->sc = *sc;
    r->sc.arms = r->arms;
    /* Rolled out to everyone, an arm's models learn from everyone: one learned state per
     * arm, whatever groups the A/B run deals its users into (what that costs the A/B
     * estimate is part of its bias). */
    r->sc.experiment_learners_per_arm = 1;
    return FW_OK;
}

/* Share of replicates whose primary p is below alpha, and the mean and sd of the lift. */
static void print_replicates(const fw_scenario *sc, uint32_t K, const fw_exp_table *t, FILE *f)
{
    uint32_t ctl_of[FW_MAX_ARMS];
    for (uint32_t l = 0; l < sc->n_layers; l++)
        for (uint32_t i = 0; i < sc->layers[l].n_arms; i++)
            ctl_of[sc->layers[l].arm[i]] = sc->layers[l].arm[0];
    if (!f || sc->n_arms < 2)
        return;
    fprintf(f, "\nreplicates: %u seeds (%llu..%llu); per metric over replicates:\n", K,
            (unsigned long long)sc->seed, (unsigned long long)(sc->seed + K - 1));
    for (uint32_t arm = 0; arm < sc->n_arms; arm++) {
        uint32_t ctl = ctl_of[arm];
        if (arm == ctl)
            continue;
        fprintf(f, "  %s vs %s\n  %-22s %10s %10s %12s %12s %10s\n", sc->arms[arm].name, sc->arms[ctl].name,
                "metric", "mean lift", "sd lift", "p < alpha", "p_seq < alpha", "spread/se");
        for (int m = 0; m < FW_EM__COUNT; m++) {
            if (!fw_experiment_metric_applies(sc, m))
                continue;
            double sum = 0, sum2 = 0, dsum = 0, dsum2 = 0, se2 = 0;
            unsigned n = 0, nl = 0, sig = 0, seq = 0;
            for (uint32_t k = 0; k < K; k++) {
                const fw_exp_row *r = &t[k].row[arm][m];
                if (!r->ok)
                    continue;
                /* The primary difference and its standard error: their spread over the
                 * replicates against the standard error one run reports. */
                const fw_stat_result *d = r->cuped ? &r->cuped_abs : &r->abs;
                dsum += d->delta;
                dsum2 += d->delta * d->delta;
                se2 += d->se * d->se;
                /* The lift is undefined where the control was too sparse: left out of its mean. */
                double l = r->cuped ? r->cuped_rel.delta : r->rel.delta;
                if (isfinite(l)) {
                    sum += l;
                    sum2 += l * l;
                    nl++;
                }
                n++;
                sig += r->p < sc->experiment_alpha;
                seq += r->p_seq < sc->experiment_alpha;
            }
            char c_mean[16], c_sd[16];
            fw_experiment_pct(c_mean, sizeof c_mean, nl ? sum / nl : NAN);
            double var = nl > 1 ? fmax(0.0, (sum2 - sum * sum / nl) / (nl - 1)) : NAN;
            fw_experiment_pct(c_sd, sizeof c_sd, sqrt(var));
            if (c_sd[0] == '+')   /* a spread has no sign */
                memmove(c_sd, c_sd + 1, strlen(c_sd));
            /* sd of the difference over the replicates / root mean square of its standard error:
             * about 1 when one run's standard error is the run-to-run spread. */
            double dvar = n > 1 ? fmax(0.0, (dsum2 - dsum * dsum / n) / (n - 1)) : NAN;
            char c_spread[16] = "n/a";
            if (n > 1 && se2 > 0.0)
                snprintf(c_spread, sizeof c_spread, "%.2f", sqrt(dvar / (se2 / n)));
            if (n == 0) {
                fprintf(f, "  %-22s %10s %10s %12s %13s %10s\n", fw_experiment_metric_name[m], "n/a", "n/a", "n/a",
                        "n/a", "n/a");
                continue;
            }
            fprintf(f, "  %-22s %10s %10s %11.1f%% %12.1f%% %10s\n", fw_experiment_metric_name[m], c_mean, c_sd,
                    100.0 * sig / n, 100.0 * seq / n, c_spread);
        }
    }
    fprintf(f, "  (spread/se: sd of the primary difference over the replicates / its standard error in one run,\n"
               "   root mean square; about 1 when one run's interval is honest, above 1 when the arms differ by\n"
               "   more than their users, e.g. each arm's own learned state under isolation per_arm)\n");
}

/* Per treatment arm and metric: the A/B estimate against the global treatment effect of the
 * counterfactual runs over as many experiment days (cf: [arm][experiment day][metric]). */
static void print_counterfactual(const fw_scenario *sc, const fw_exp_table *t, const double *cf, FILE *f)
{
    uint32_t E = sc->days - sc->experiment_pre_days;
    if (!f || t->days == 0 || t->days > E)
        return;
    fprintf(f, "\ncounterfactual: the same world and seed with everyone on one arm, over %u experiment day%s\n",
            t->days, t->days == 1 ? "" : "s");
    for (uint32_t l = 0; l < sc->n_layers; l++)
        for (uint32_t i = 1; i < sc->layers[l].n_arms; i++) {
            uint32_t arm = sc->layers[l].arm[i], ctl = sc->layers[l].arm[0];
            const double *vt = &cf[((size_t)arm * E + t->days - 1) * FW_EM__COUNT];
            const double *vc = &cf[((size_t)ctl * E + t->days - 1) * FW_EM__COUNT];
            fprintf(f, "  %s vs %s\n  %-22s %10s %10s %10s %10s\n", sc->arms[arm].name, sc->arms[ctl].name,
                    "metric", "A/B lift", "GTE", "bias", "A/B CI");
            for (int m = 0; m < FW_EM__COUNT; m++) {
                const fw_exp_row *r = &t->row[arm][m];
                if (!fw_experiment_metric_applies(sc, m))
                    continue;
                double gte = vt[m] / vc[m] - 1.0, lift = r->ok ? r->rel.delta : NAN;
                /* No interval (a test undefined, or a control too sparse for a ratio): n/a. */
                int have_ci = r->ok && isfinite(r->rel.ci_lo) && isfinite(r->rel.ci_hi) && isfinite(gte);
                int covered = have_ci && gte >= r->rel.ci_lo && gte <= r->rel.ci_hi;
                char c_lift[16], c_gte[16], c_bias[16];
                fw_experiment_pct(c_lift, sizeof c_lift, lift);
                fw_experiment_pct(c_gte, sizeof c_gte, gte);
                fw_experiment_pct(c_bias, sizeof c_bias, lift - gte);
                fprintf(f, "  %-22s %10s %10s %10s %10s\n", fw_experiment_metric_name[m], c_lift, c_gte, c_bias,
                        !have_ci ? "n/a" : covered ? "covers" : "misses");
            }
        }
    fprintf(f, "  (GTE = value with everyone on the arm / value with everyone on the control - 1;\n"
               "   bias = A/B lift - GTE; all in /experiment/<arm>/gte, bias and /experiment/counterfactual)\n");
}

/* The side runs fw_run needs: replicates 1..K-1, then, with a counterfactual, everyone on the
 * controls and everyone on each treatment arm in turn. */
typedef struct side_plan {
    uint32_t K, n_cf, E;    /* replicates, counterfactual runs, experiment days */
    side_run *runs;         /* [K - 1 + n_cf] */
    fw_exp_table *tables;   /* [K]: slot 0 is the recorded run's */
    uint64_t *seeds;        /* [K] */
    uint32_t cf_run[FW_MAX_ARMS];   /* arm -> its counterfactual run (controls share run 0) */
    double *values;         /* [n_cf][E][metric] */
    double *cf;             /* [n_arms][E][metric] */
} side_plan;

static void plan_fini(side_plan *p)
{
    for (uint32_t i = 0; p->runs && i < p->K - 1 + p->n_cf; i++)
        free(p->runs[i].arms);
    free(p->runs);
    free(p->tables);
    free(p->seeds);
    free(p->values);
    free(p->cf);
}

static fw_err plan_init(side_plan *p, const fw_scenario *sc, const fw_run_opts *o)
{
    memset(p, 0, sizeof *p);
    p->K = o->replicates > 1 ? o->replicates : 1;
    p->E = sc->days - sc->experiment_pre_days;
    if (sc->experiment_counterfactual && sc->n_arms > 1) {
        p->n_cf = 1;
        for (uint32_t l = 0; l < sc->n_layers; l++)
            for (uint32_t i = 0; i < sc->layers[l].n_arms; i++)
                p->cf_run[sc->layers[l].arm[i]] = i ? p->n_cf++ : 0;
    }
    size_t per_run = (size_t)p->E * FW_EM__COUNT;
    if (!(p->runs = calloc(p->K - 1 + p->n_cf, sizeof *p->runs)) || !(p->tables = calloc(p->K, sizeof *p->tables)) ||
        !(p->seeds = calloc(p->K, sizeof *p->seeds)) || !(p->values = calloc(p->n_cf * per_run + 1, sizeof *p->values)) ||
        !(p->cf = calloc((size_t)sc->n_arms * per_run + 1, sizeof *p->cf)))
        return FW_ERR_NOMEM;
    for (uint32_t k = 0; k < p->K; k++)
        p->seeds[k] = sc->seed + k;
    for (uint32_t k = 1; k < p->K; k++) {
        side_run *r = &p->runs[k - 1];
        r->sc = *sc;
        r->sc.seed = sc->seed + k;
        r->sc.experiment_salt = sc->experiment_salt + k;   /* a fresh assignment too */
        r->x.exp_out = &p->tables[k];
    }
    for (uint32_t a = 0; a < sc->n_arms && p->n_cf; a++) {
        uint32_t j = p->cf_run[a];
        side_run *r = &p->runs[p->K - 1 + j];
        if (j == 0 && a != sc->layers[0].arm[0])
            continue;   /* a later layer's control: the same all-controls run */
        fw_err rc = force_arm(sc, j ? a : FW_NONE, r);
        if (rc != FW_OK)
            return rc;
        r->x.values = &p->values[j * per_run];
    }
    return FW_OK;
}

/* Several ranks: every rank ran its share of the side runs (run i on rank i mod size); every
 * rank gets every run's status and results -- a replicate's experiment table, a
 * counterfactual world's values -- as the rank that ran it holds them, bit for bit (summed
 * over the ranks as 64-bit words, every other rank's words 0). */
static fw_err share_side_runs(side_plan *p, uint32_t n_side)
{
    int rank = fw_mpi_rank(), size = fw_mpi_size();
    uint64_t *st = calloc(n_side + 1, sizeof *st);
    if (!st)
        return FW_ERR_NOMEM;
    for (uint32_t i = 0; i < n_side; i++)
        st[i] = (int)(i % (uint32_t)size) == rank ? (uint64_t)p->runs[i].status : 0;
    fw_err rc = fw_mpi_sum_u64(st, n_side);
    for (uint32_t i = 0; i < n_side && rc == FW_OK; i++)
        p->runs[i].status = (fw_err)st[i];
    free(st);
    if (rc != FW_OK)
        return rc;
    /* Replicate k (side run k - 1) fills tables[k]; the counterfactual worlds fill values. */
    _Static_assert(sizeof(fw_exp_table) % sizeof(uint64_t) == 0, "the table goes as 64-bit words");
    for (uint32_t k = 1; k < p->K && rc == FW_OK; k++) {
        if ((int)((k - 1) % (uint32_t)size) != rank)
            memset(&p->tables[k], 0, sizeof p->tables[k]);
        rc = fw_mpi_sum_u64((uint64_t *)(void *)&p->tables[k], sizeof p->tables[k] / sizeof(uint64_t));
    }
    size_t per_run = (size_t)p->E * FW_EM__COUNT;
    for (uint32_t j = 0; j < p->n_cf && rc == FW_OK; j++) {
        double *v = &p->values[j * per_run];
        if ((int)((p->K - 1 + j) % (uint32_t)size) != rank)
            memset(v, 0, per_run * sizeof *v);
        rc = fw_mpi_sum_u64((uint64_t *)(void *)v, per_run);
    }
    return rc;
}

void fw_run_population(const fw_scenario *s, double *users, double *notes)
{
    double days = (double)s->days + s->world.warmup_days;
    *users = (double)s->world.n_users + (double)s->world.arrivals_per_day * days;
    *notes = s->world.n_notes + s->world.notes_per_dau * *users * days;
}

/* Calibration (peak RSS by GNU time, one-day runs on one thread, after issue 21's second
 * round of cuts): scenarios/default.yaml at 100k users and 100k notes 196,784 KiB, 200k/200k
 * 345,676 KiB, 100k/300k 252,128 KiB: 1,241 bytes a user, 283 a note, about 47 MiB fixed;
 * scenarios/bench_large.yaml (the recommender for everyone) at 100k/100k 235,940 KiB and
 * 200k/200k 438,552 KiB, 2,075 bytes a user with its note, so the recommender adds about 550
 * bytes a user with a note: its per-note state (the learner term below, about 0.25 kB at dim
 * 16) and 0.3 kB a user. After the first round the fit was 1.53 kB a user and 0.32 kB a
 * note; before the cuts 2.3 kB and 0.36 kB, and the recommender 1.25 kB a user: a 10M-user
 * bench_large was estimated at 42 GiB against a measured line through 21.6 GiB. Threads:
 * 1.3 MiB each (engine context and buffers; 10k/20k on 64 threads 148 MiB before the cuts).
 * The search index's split by topic (issue 22, December 2026: the postings of lists of 1,024
 * or more held again by the note's topic) added 71 bytes a note to bench_large at 100k/100k
 * (245,332 -> 252,444 KiB) and 91 at 50k users and 1M notes; the note term takes 90 more.
 * The split's parts then held local ids (a note's rank within its topic, and the map back:
 * 8 bytes a note, touched as notes arrive): 687,860 -> 691,940 KiB at 50k users and 1M
 * notes; the note term takes the 8. Dense parts' codes (one byte a local id, grown by
 * doubling) and the first pass's selection scratch (16 bytes a local id of the largest
 * topic, per thread): 695,080 -> 708,928 KiB on the same day (14 bytes a note); the note
 * term takes 14.
 * The estimate stays an upper bound: every user is taken to post at notes_per_dau every
 * day, and 15% is added. */
double fw_run_memory_estimate(const fw_scenario *s, int threads)
{
    const double MiB = 1024.0 * 1024.0;
    double users, notes;
    fw_run_population(s, &users, &notes);
    int rec = 0;
    double learner = 0.0;   /* bytes of the largest per-arm learned state */
    for (uint32_t a = 0; a < s->n_arms; a++) {
        fw_behaviour_cfg b;
        fw_engine_cfg e;
        fw_diag diag;
        if (fw_scenario_cfg_copy(s, &b, &e) != FW_OK)
            continue;
        int ok = fw_scenario_apply(s->arms[a].set, s->arms[a].n_set, &b, &e, &diag) == FW_OK;
        fw_scenario_cfg_free(&b, &e);
        if (ok && e.feed.algorithm == FW_FEED_REC) {
            rec = 1;
            /* A learner's state per note (rec.c, rec_cell_bytes): the embedding residual, the
             * openers' ring and count, the note's 64-byte block (its feature row), the
             * neighbours; per user the creator counts. */
            double l = notes * (4.0 * e.rec.dim + 100.0 + 4.0 * e.rec.neighbours) + 8.0 * users;
            learner = l > learner ? l : learner;
        }
    }
    /* Per-arm isolation: a learned state per cell and learner group beyond the first. */
    double cells = 1.0;
    for (uint32_t l = 0; l < s->n_layers; l++)
        cells *= s->layers[l].n_arms;
    double extra = s->experiment_isolation == FW_ISOLATION_PER_ARM ? cells * fw_scenario_learners(s) - 1.0 : 0.0;
    /* The event log is held compressed and the file's image twice while it is written (3x its
     * size), and a day's rows uncompressed (about 7x a day's compressed size). */
    double ev = fw_scenario_events_bytes(s);
    /* Rows made at a user's first use (seen filters, ad caps, shop profiles): a day's active
     * users have them after one day; over more days nearly everyone (default, 7 days, two
     * threads: 172.8 MiB after the second round of cuts, estimated 183 MiB). */
    double later = (double)s->days + s->world.warmup_days > 1.0 ? 300.0 * users : 0.0;
    double est = 47.0 * MiB + 1250.0 * users + later + 402.0 * notes + 1.3 * MiB * (threads > 0 ? threads : 1) +
                 (rec ? 300.0 * users + learner : 0.0) + extra * learner + 3.0 * ev +
                 7.0 * ev / (s->days ? s->days : 1);
    return 1.15 * est;
}

int fw_run_threads(const fw_scenario *s, int requested)
{
    fw_par_set_threads(requested);
    long n = fw_par_threads(), by_work = (long)(s->world.n_users / FW_RUN_USERS_PER_THREAD);
    if (n > FW_RUN_MAX_THREADS)
        n = FW_RUN_MAX_THREADS;
    if (n > by_work)
        n = by_work;
    return n < 1 ? 1 : (int)n;
}

fw_err fw_run(const fw_scenario *sc, const fw_run_opts *o, fw_run_report *rep)
{
    memset(rep, 0, sizeof *rep);
    /* Several ranks (driver/ranks.h): one recorded run, rank 0 recording and reporting. */
    fw_run_opts ranked;
    if (fw_mpi_size() > 1) {
        if (fw_mpi_rank() > 0) {   /* its recorder writes its share of the file (parallel HDF5) */
            ranked = *o;
            ranked.out = NULL;
            ranked.progress = 0;
            o = &ranked;
        }
    }
    side_plan p;
    fw_err rc = plan_init(&p, sc, o);
    if (rc != FW_OK) {
        fprintf(stderr, "flywheel: out of memory for the side runs\n");
        goto out;
    }
    uint32_t n_side = p.K - 1 + p.n_cf;
    if (n_side == 0) {
        rc = run_one(sc, o, rep, &(run_extra){0});
        goto out;
    }
    if (o->progress && p.K > 1)
        fprintf(stderr, "flywheel: running replicates 2..%u (seeds %llu..%llu), several at once\n", p.K,
                (unsigned long long)p.seeds[1], (unsigned long long)p.seeds[p.K - 1]);
    if (o->progress && p.n_cf)
        fprintf(stderr, "flywheel: running %u counterfactual worlds (everyone on the controls, then on each "
                        "treatment arm), several at once\n", p.n_cf);
    /* The side runs go first, one per thread, as many at once as there are threads and as
     * memory allows: a world takes about 2.7 kB per user and 0.2 kB per note at its peak
     * (measured: 135 MiB for 50k users and 100k notes), and side runs may use half of the
     * memory available now. The notes are those the run and its warm-up may publish too: a
     * 60-day warm-up may add up to 0.08 x 60, about 5 notes a user (every user posting daily). */
    int threads = fw_run_threads(sc, o->threads);
    fw_par_set_threads(threads);
    double users, notes;
    fw_run_population(sc, &users, &notes);
    double per_world = 2700.0 * users + 200.0 * notes + 16e6;
    double avail = (double)sysconf(_SC_AVPHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    int at_once = avail > 0 ? (int)(0.5 * avail / per_world) : threads;
    if (at_once < 1)
        at_once = 1;
    if (at_once < threads) {
        if (o->progress)
            fprintf(stderr, "flywheel: memory allows %d side runs at once (of %d threads)\n", at_once, threads);
        fw_par_set_threads(at_once);
    }
    /* Under several ranks each rank runs its share (run i on rank i mod size), then they
     * share the results (share_side_runs): the same tables as one process's, sooner. */
    uint32_t *idx = malloc((size_t)n_side * sizeof *idx), n_mine = 0;
    if (!idx) {
        rc = FW_ERR_NOMEM;
        fprintf(stderr, "flywheel: out of memory for the side runs\n");
        goto out;
    }
    for (uint32_t i = 0; i < n_side; i++)
        if ((int)(i % (uint32_t)fw_mpi_size()) == fw_mpi_rank())
            idx[n_mine++] = i;
    side_job job = {.runs = p.runs, .idx = idx, .o = o};
    fw_par_for(n_mine, 1, k_side, &job);
    free(idx);
    fw_par_set_threads(threads);
    if (fw_mpi_size() > 1 && (rc = share_side_runs(&p, n_side)) != FW_OK) {
        fprintf(stderr, "flywheel: sharing the side runs' results between the ranks failed: %s\n", fw_err_str(rc));
        goto out;
    }
    for (uint32_t i = 0; i < n_side && rc == FW_OK; i++)
        rc = p.runs[i].status;
    if (rc != FW_OK) {
        if (rc != FW_ERR_INTERRUPT && fw_mpi_rank() == 0)   /* every rank knows it (share_side_runs) */
            fprintf(stderr, "flywheel: a replicate or counterfactual run failed: %s\n", fw_err_str(rc));
        goto out;
    }
    size_t per_run = (size_t)p.E * FW_EM__COUNT;
    for (uint32_t a = 0; a < sc->n_arms && p.n_cf; a++)
        memcpy(&p.cf[a * per_run], &p.values[p.cf_run[a] * per_run], per_run * sizeof *p.cf);
    run_extra x = {.exp_out = &p.tables[0], .n_reps = p.K, .rep_seeds = p.seeds, .reps = p.tables,
                   .cf = p.n_cf ? p.cf : NULL};
    rc = run_one(sc, o, rep, &x);
    if (rc == FW_OK && p.K > 1)
        print_replicates(sc, p.K, p.tables, o->out);
    if (rc == FW_OK && p.n_cf)
        print_counterfactual(sc, &p.tables[0], p.cf, o->out);
out:
    plan_fini(&p);
    return rc;
}

fw_err fw_run_generate_only(const fw_scenario *sc, FILE *out)
{
    double t0 = fw_now_s();
    fw_world w;
    fw_err rc = fw_world_generate(&sc->world, sc->seed, &w);
    if (rc != FW_OK) {
        fprintf(stderr, "flywheel: generating the world failed: %s\n", fw_err_str(rc));
        return rc;
    }
    double el = fw_now_s() - t0;
    fw_rec_info info = {0};
    rc = world_summary(&w, &info);
    if (rc == FW_OK)
        fprintf(out,
                "flywheel: generated %u users (%u creators), %u notes, %llu follows, %u brands, "
                "%u products in %.2f s; peak memory %.0f MiB\n"
                "  expected DAU/MAU %.3f; follower Gini %.3f, top 1%% of creators hold %.1f%% of "
                "follows; top 10%% write %.1f%% of notes\n",
                w.n_users, w.n_creators, w.n_notes, (unsigned long long)w.n_follow_edges, w.n_brands, w.n_products,
                el, peak_rss_mb(), info.expected_dau_mau, info.follower_gini, 100 * info.top1pct_follower_share,
                100 * info.top10pct_creator_note_share);
    fw_world_fini(&w);
    return rc;
}
