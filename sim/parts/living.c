/* The living part (issue 18): creators who respond, people who arrive and leave for good.
 * Owns: the creators' memories and factors, the arrivals' held p_active, who has left.
 * Borrows: the world (writes p_active of arrivals and leavers), the engine's market books
 * (reads income). Never touches: sessions (every hook is serial, at barriers and day ends).
 *  - Creators: every note published (the notes' and the market's) and the attention their
 *    notes earn at the barriers (likes, saves, comments, shares and follows, feed and search)
 *    go into each creator's memory (model/living.h; post memories start from the creator's
 *    initial notes, attention and income at 0: the initial notes have no recorded
 *    engagement). At a day's close the memory decays; when a creator_* response is on, the
 *    creator's factor on tomorrow's base rate is set (fw_sim.creator_drive, which the notes
 *    part multiplies in); and the day's active, new and quiet creators are counted. A creator
 *    is active while their last note is under world.creator_quiet_days old, new on the day of
 *    their first note ever (a creator of the world with no note before: a user who becomes a
 *    creator), gone quiet on the day their last note turns creator_quiet_days old. A creator
 *    who left for good posts nothing (factor 0).
 *  - Arrivals: the world holds (warmup_days + days) x arrivals_per_day users beyond
 *    world.n_users (fw_world_add_arrivals), in id order by arrival day, a warm-up's days first
 *    (arrival slot = day + warmup_days, in uint32 arithmetic: 0 for the first day simulated).
 *    Their p_active is held at 0 (the schedule never picks them) until their day, set at the
 *    previous day's close (the first day's at create); at their day's first barrier each follows world.arrivals_follows creators, the
 *    most followed creator (with a note) of each of their top interest topics. They are in
 *    every per-user table from the start and in their arm by the usual hash of their id, so
 *    the assignment stays deterministic and balanced; before they arrive they are users with
 *    nothing recorded, like users who stay away.
 *  - Churn: at a day's close (after the users' day-end update of their satisfaction) every
 *    present user leaves for good with fw_living_churn_p of their
 *    satisfaction (stream FW_RNG_CHURN of the user and day); their p_active drops to 0 and
 *    stays there.
 * Serial hooks only, in id order: identical for any thread count. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "driver/part.h"
#include "flywheel/market.h"
#include "model/living.h"
#include "model/rng.h"

#define LIVING_COUNTERS(X)                                                                     \
    X(active_creators, "creators", "creators whose last note is under world.creator_quiet_days old (by the creator's arm)") \
    X(new_creators, "creators", "creators who published their first note ever on the day")   \
    X(quiet_creators, "creators", "creators whose last note turned world.creator_quiet_days old on the day (gone quiet)") \
    X(users_present, "users", "users who have arrived and not left for good, at the day's end") \
    X(arrivals, "users", "users who joined on the day (world.arrivals_per_day)")              \
    X(leavers, "users", "users who left for good at the day's end (world.churn_base)")

FW_DECLARE_COUNTERS(LIVING_COUNTERS);

static const fw_rate_desc rates[] = {
    {"leave_rate", "leavers", "users_present", 1.0, "1", "users who left for good / users present"},
};

#define NEVER INT32_MIN

typedef struct living_state {
    int creators_on;            /* a creator_* response is on: creator_drive is set */
    double decay;               /* fw_living_decay(creator_memory_days) */
    fw_creator_memory *mem;     /* [n_creators] */
    float *drive;               /* [n_creators]: tomorrow's factor (S->creator_drive) */
    int64_t *income_seen;       /* [n_creators]: marketplace income counted so far */
    int32_t *last_day;          /* [n_creators]: day of the last note, NEVER before the first */
    int32_t *first_day;         /* [n_creators]: day of the first note, NEVER before it */
    uint32_t *last_note;        /* [n_creators]: the newest note, FW_NONE before the first */
    uint32_t *today_att, *today_posts;   /* [n_creators] */
    uint32_t notes_seen;        /* notes of the world taken into the creators' records */
    /* Arrivals and churn. */
    uint32_t first_arrival;     /* id of the first arrival (world.n_users) */
    float *join_p;              /* [n_arrivals]: p_active once joined */
    uint8_t *gone;              /* [n_users]: left for good */
    int32_t follows_day;        /* the day whose arrivals made their onboarding follows */
    uint32_t *pick_creator, *pick_note;   /* [n_topics]: onboarding suggestion per topic */
    gsl_rng *churn_rng;         /* FW_RNG_CHURN: sought per user and day */
    uint64_t *day_row;          /* the day's per-arm counters (day_end's), filled at day_close */
} living_state;

static int living_active(const fw_sim *S)
{
    const fw_world_cfg *c = &S->sc->world;
    return c->creator_response > 0.0 || c->creator_income_response > 0.0 || c->creator_fatigue > 0.0 ||
           c->arrivals_per_day > 0 || c->churn_base > 0.0;
}

/* The notes published since the last call: each creator's newest note and today's posts. */
static void take_notes(fw_sim *S, living_state *st, int count_today)
{
    const fw_world *w = &S->w;
    for (; st->notes_seen < w->n_notes; st->notes_seen++) {
        const fw_note_info *ni = &w->note_info[st->notes_seen];
        int32_t c = w->creator_of[ni->creator];
        if (c < 0)
            continue;
        int32_t d = fw_tick_day(ni->created_tick, S->tpd);
        if (st->first_day[c] == NEVER || d < st->first_day[c])
            st->first_day[c] = d;
        if (st->last_day[c] == NEVER || d >= st->last_day[c]) {
            st->last_day[c] = d;
            st->last_note[c] = st->notes_seen;
        }
        if (count_today)
            st->today_posts[c]++;
    }
}

/* Day d's arrival slot: days counted from the first one simulated (a warm-up's first day,
 * 2^32 - W, is 0; day 0 is W). */
static uint32_t slot(const fw_sim *S, uint32_t d)
{
    return d + S->sc->world.warmup_days;
}

/* Users joining on day d: p_active restored. */
static void admit(fw_sim *S, living_state *st, uint32_t d)
{
    uint32_t A = S->sc->world.arrivals_per_day;
    if (!A || slot(S, d) >= S->sc->days + S->sc->world.warmup_days)
        return;
    uint32_t lo = st->first_arrival + slot(S, d) * A;
    for (uint32_t u = lo; u < lo + A; u++)
        S->w.p_active[u] = st->join_p[u - st->first_arrival];
}

static fw_err living_create(fw_sim *S, fw_part_inst *p)
{
    living_state *st = p->state;
    fw_world *w = &S->w;
    const fw_world_cfg *c = &S->sc->world;
    uint32_t nc = w->n_creators;
    st->creators_on = c->creator_response > 0.0 || c->creator_income_response > 0.0 || c->creator_fatigue > 0.0;
    st->decay = fw_living_decay(c->creator_memory_days);
    st->first_arrival = w->n_users - w->n_arrivals;
    st->follows_day = INT32_MIN;   /* no day: -1 is a warm-up's last (2^32 - 1 as int32) */
    if (!(st->mem = fw_sim_calloc(S, nc, sizeof *st->mem)) || !(st->drive = fw_sim_calloc(S, nc, sizeof *st->drive)) ||
        !(st->income_seen = fw_sim_calloc(S, nc, sizeof *st->income_seen)) ||
        !(st->last_day = fw_sim_calloc(S, nc, sizeof *st->last_day)) ||
        !(st->first_day = fw_sim_calloc(S, nc, sizeof *st->first_day)) ||
        !(st->last_note = fw_sim_calloc(S, nc, sizeof *st->last_note)) ||
        !(st->today_att = fw_sim_calloc(S, nc, sizeof *st->today_att)) ||
        !(st->today_posts = fw_sim_calloc(S, nc, sizeof *st->today_posts)) ||
        !(st->join_p = fw_sim_calloc(S, w->n_arrivals, sizeof *st->join_p)) ||
        !(st->gone = fw_sim_calloc(S, w->n_users, sizeof *st->gone)) ||
        !(st->pick_creator = fw_sim_calloc(S, w->n_topics, sizeof *st->pick_creator)) ||
        !(st->pick_note = fw_sim_calloc(S, w->n_topics, sizeof *st->pick_note)) ||
        !(st->churn_rng = fw_sim_rng(S, FW_RNG_CHURN)))
        return FW_ERR_NOMEM;
    for (uint32_t k = 0; k < nc; k++) {
        st->last_day[k] = st->first_day[k] = NEVER;
        st->last_note[k] = FW_NONE;
        st->drive[k] = 1.0f;
    }
    take_notes(S, st, 0);   /* the initial notes: who has posted before day 0, and when */
    /* The creators' histories: their initial notes in their post memories as of day 0's start
     * (a note of day d < 0 weighs decay^(-1 - d)), and their habits the same, so that nobody
     * starts tired; attention and income start at 0 (the initial notes have no recorded
     * engagement). */
    double log_decay = log(st->decay);
    for (uint32_t n = 0; n < w->n_notes; n++) {
        int32_t k = w->creator_of[w->note_info[n].creator];
        int32_t d = fw_tick_day(w->note_info[n].created_tick, S->tpd);
        if (k >= 0 && d < 0)
            st->mem[k].posts += exp(log_decay * (-1.0 - d));
    }
    for (uint32_t k = 0; k < nc; k++)
        st->mem[k].habit = st->mem[k].posts;
    for (uint32_t k = 0; k < w->n_arrivals; k++) {
        st->join_p[k] = w->p_active[st->first_arrival + k];
        w->p_active[st->first_arrival + k] = 0.0f;
    }
    admit(S, st, 0u - S->sc->world.warmup_days);   /* the first day simulated */
    if (st->creators_on || c->churn_base > 0.0)   /* 1 each until a response or a leaver changes it */
        S->creator_drive = st->drive;
    return FW_OK;
}

static void living_destroy(fw_sim *S, fw_part_inst *p)
{
    (void)p;
    S->creator_drive = NULL;   /* the drive is the run's memory, freed after */
}

/* Today's arrivals follow their onboarding picks at the day's first barrier: a follow event on
 * the creator's newest note (the card an onboarding screen shows), which the engine applies to
 * its follow lists and the reach part to the world's follower counts; the arrival's per-user
 * follows count it. */
static fw_err living_before_log(fw_sim *S, fw_part_inst *p, fw_recbuf *log)
{
    living_state *st = p->state;
    const fw_world *w = &S->w;
    uint32_t A = S->sc->world.arrivals_per_day, K = S->sc->world.arrivals_follows, T = w->n_topics;
    if (!A || !K || st->follows_day == (int32_t)S->day)
        return FW_OK;
    st->follows_day = (int32_t)S->day;
    take_notes(S, st, 1);
    /* Per topic: the most followed creator present with a note (ties: lower creator index). */
    for (uint32_t t = 0; t < T; t++)
        st->pick_creator[t] = FW_NONE;
    for (uint32_t c = 0; c < w->n_creators; c++) {
        uint32_t u = w->creator_user[c], t = w->creator_niche[c], b = st->pick_creator[t];
        if (st->last_note[c] == FW_NONE || st->gone[u])
            continue;
        if (b == FW_NONE || w->n_followers[u] > w->n_followers[w->creator_user[b]]) {
            st->pick_creator[t] = c;
            st->pick_note[t] = st->last_note[c];
        }
    }
    uint32_t lo = st->first_arrival + slot(S, S->day) * A;
    for (uint32_t u = lo; u < lo + A; u++) {
        float in[FW_WORLD_MAX_TOPICS];   /* the arrival's own interests */
        double theta[FW_WORLD_MAX_TOPICS];
        fw_world_own_interest(w, st->churn_rng, u, theta, in);   /* sought again before each use */
        uint32_t taken[100];
        for (uint32_t k = 0; k < K && k < T; k++) {
            /* The k-th strongest interest (ties: lower topic). */
            uint32_t best = FW_NONE;
            for (uint32_t t = 0; t < T; t++) {
                int used = 0;
                for (uint32_t j = 0; j < k && !used; j++)
                    used = taken[j] == t;
                if (!used && (best == FW_NONE || in[t] > in[best]))
                    best = t;
            }
            taken[k] = best;
            if (st->pick_creator[best] == FW_NONE)
                continue;   /* nobody of that topic has posted */
            if (fw_recbuf_event(log, u, st->pick_note[best], S->abs_tick, FW_EV_FOLLOW))
                return FW_ERR_NOMEM;
            fw_sim_aggs(S)[FW_UM_follows][u]++;   /* the reach part counts the creator's side */
        }
    }
    return FW_OK;
}

/* Attention the creators' notes earned at this barrier. */
static fw_err living_after_log(fw_sim *S, fw_part_inst *p, const fw_record *rec, size_t n)
{
    living_state *st = p->state;
    for (size_t k = 0; k < n; k++) {
        if (rec[k].kind != FW_RECORD_EVENT)
            continue;
        uint32_t type = rec[k].u.ev.type & ~(uint32_t)FW_EV_SEARCH;
        if (type == FW_EV_IMPRESSION || type == FW_EV_OPEN)
            continue;
        int32_t c = S->w.creator_of[S->w.note_info[rec[k].u.ev.note].creator];
        if (c >= 0)
            st->today_att[c]++;
    }
    return FW_OK;
}

static fw_err living_tick_end(fw_sim *S, fw_part_inst *p)
{
    take_notes(S, p->state, 1);
    return FW_OK;
}

/* Adds v to counter k of every arm of user u's cell. */
static void add(fw_sim *S, fw_part_inst *p, uint64_t *day, uint32_t u, int k, uint64_t v)
{
    uint32_t cell = S->cell_of[u];
    for (uint32_t l = 0; l < S->asg.n_layers; l++)
        day[(size_t)S->asg.cell_arm[cell][l] * S->n_counters + p->base + (uint32_t)k] += v;
}

/* The day's counters are the arms' row the driver passes to day_end and records after every
 * part's day_close (run.c: day_end, then day_record): kept here for day_close, which runs
 * after the users' day-end updates (today's satisfaction) and the engine's day end (today's
 * settled income). */
static fw_err living_day_end(fw_sim *S, fw_part_inst *p, uint64_t *day)
{
    (void)S;
    ((living_state *)p->state)->day_row = day;
    return FW_OK;
}

static fw_err living_day_close(fw_sim *S, fw_part_inst *p)
{
    living_state *st = p->state;
    uint64_t *day = st->day_row;
    fw_world *w = &S->w;
    const fw_world_cfg *cfg = &S->sc->world;
    int32_t d = (int32_t)S->day, quiet = (int32_t)cfg->creator_quiet_days;
    take_notes(S, st, 1);
    /* Creators: memory and the day's counts. */
    double sum_att = 0.0, sum_posts = 0.0;
    for (uint32_t c = 0; c < w->n_creators; c++) {
        uint32_t u = w->creator_user[c];
        fw_creator_memory *m = &st->mem[c];
        int64_t inc = fw_market_income(S->engine, u);
        m->attention = st->decay * m->attention + st->today_att[c];
        m->posts = st->decay * m->posts + st->today_posts[c];
        m->income_cents = st->decay * m->income_cents + (double)(inc - st->income_seen[c]);
        m->habit = st->decay * m->habit + w->creator_rate[c];
        st->income_seen[c] = inc;
        sum_att += m->attention;
        sum_posts += m->posts;
        int32_t last = st->last_day[c];
        if (last != NEVER && d - last < quiet)
            add(S, p, day, u, C_active_creators, 1);
        if (last != NEVER && d - last == quiet)
            add(S, p, day, u, C_quiet_creators, 1);
        if (st->first_day[c] == d)
            add(S, p, day, u, C_new_creators, 1);
        st->today_att[c] = st->today_posts[c] = 0;
    }
    /* Tomorrow's posting rates. */
    if (st->creators_on) {
        double mean = sum_posts > 0.0 ? sum_att / sum_posts : 0.0;
        for (uint32_t c = 0; c < w->n_creators; c++)
            st->drive[c] = st->gone[w->creator_user[c]]
                               ? 0.0f
                               : (float)fw_living_rate_factor(cfg, &st->mem[c], mean);
    }
    /* Arrivals of today, leavers, who is present; tomorrow's arrivals. */
    uint32_t A = cfg->arrivals_per_day;
    uint32_t today = slot(S, S->day);
    uint32_t joined = st->first_arrival + (today + 1) * A;   /* users with an id below have arrived */
    for (uint32_t u = 0; u < joined; u++) {
        if (st->gone[u])
            continue;
        if (u >= st->first_arrival && (u - st->first_arrival) / A == today)
            add(S, p, day, u, C_arrivals, 1);
        if (cfg->churn_base > 0.0) {
            fw_rng_seek(st->churn_rng, S->sc->seed, FW_RNG_CHURN, u, S->day);
            if (gsl_rng_uniform(st->churn_rng) < fw_living_churn_p(cfg, S->us.satisfaction[u])) {
                st->gone[u] = 1;
                w->p_active[u] = 0.0f;
                add(S, p, day, u, C_leavers, 1);
                if (w->creator_of[u] >= 0)   /* a creator who left posts nothing */
                    st->drive[w->creator_of[u]] = 0.0f;
                continue;
            }
        }
        add(S, p, day, u, C_users_present, 1);
    }
    admit(S, st, S->day + 1);
    return FW_OK;
}

static void living_summary(const fw_sim *S, const fw_part_inst *p, const uint64_t *totals, double days, FILE *out)
{
    for (uint32_t a = 0; a < S->n_arms; a++) {
        const uint64_t *c = &totals[(size_t)a * S->n_counters + p->base];
        fprintf(out,
                "  %-12s living: %.0f active creators, %.1f new and %.1f gone quiet a day; %.0f users present, "
                "%.1f arrivals and %.1f leavers a day\n",
                S->sc->arms[a].name, c[C_active_creators] / days, c[C_new_creators] / days,
                c[C_quiet_creators] / days, c[C_users_present] / days, c[C_arrivals] / days, c[C_leavers] / days);
    }
}

/* Transferred: the creators' memories, tomorrow's factors (what S->creator_drive points at),
 * the income counted so far, each creator's first and last note and its day, the notes taken
 * into them, who has left for good and the day of the last onboarding follows. Skipped: the
 * knobs' values (creators_on, decay, first_arrival); join_p (the arrivals' generated p_active,
 * read at create from a world not yet loaded, never written after: the world's p_active says
 * who has arrived); today_att and today_posts (zeroed at every day's close, before the
 * snapshot); pick_creator and pick_note (rebuilt at every onboarding before use); churn_rng
 * (sought per user and day); day_row (set at every day's end). The arrivals need no more of
 * the world than fw_world_snap's rows (p_active, interests, follower counts): they are its
 * users from the start, and none becomes a creator. */
static void living_snap(fw_sim *S, fw_part_inst *p, fw_snap *s)
{
    living_state *st = p->state;
    const fw_world *w = &S->w;
    uint32_t nc = w->n_creators;
    _Static_assert(sizeof(fw_creator_memory) == 4 * sizeof(double), "fw_creator_memory travels whole: no padding");
    fw_snap_array(s, st->mem, nc, sizeof *st->mem);
    fw_snap_array(s, st->drive, nc, sizeof *st->drive);
    fw_snap_array(s, st->income_seen, nc, sizeof *st->income_seen);
    fw_snap_array(s, st->last_day, nc, sizeof *st->last_day);
    fw_snap_array(s, st->first_day, nc, sizeof *st->first_day);
    fw_snap_u32(s, &st->notes_seen);
    /* The world's notes came first: its count bounds the notes taken. */
    if (fw_snap_loading(s) && !fw_snap_failed(s) &&
        (st->notes_seen < w->n_notes_generated || st->notes_seen > w->n_notes))
        fw_snap_fail(s, "notes taken %u: outside the generated %u and the world's %u", st->notes_seen,
                     w->n_notes_generated, w->n_notes);
    fw_snap_indexes(s, st->last_note, nc, w->n_notes, FW_NONE);
    /* A creator's last note is theirs and of their last day, their first day no later; and
     * day_close subtracts the last day from today's, which must not overflow (a note's tick
     * is the world's section's, unbounded there). */
    for (uint32_t c = 0; c < nc && fw_snap_loading(s) && !fw_snap_failed(s); c++) {
        uint32_t n = st->last_note[c];
        int ok = n == FW_NONE ? st->last_day[c] == NEVER && st->first_day[c] == NEVER
                              : n < st->notes_seen && w->creator_of[w->note_info[n].creator] == (int32_t)c &&
                                    st->last_day[c] == fw_tick_day(w->note_info[n].created_tick, S->tpd) &&
                                    st->last_day[c] >= INT32_MIN / 2 && st->first_day[c] != NEVER &&
                                    st->first_day[c] <= st->last_day[c];
        if (!ok)
            fw_snap_fail(s, "creator %u: last note %u of day %d, first day %d", c, n, st->last_day[c],
                         st->first_day[c]);
    }
    /* day_close subtracts what was seen from the market's income to date, which only grows
     * (the engine's section came first and its check held): seen lies in [0, income]. */
    for (uint32_t c = 0; c < nc && fw_snap_loading(s) && !fw_snap_failed(s); c++) {
        int64_t inc = fw_market_income(S->engine, w->creator_user[c]);
        if (st->income_seen[c] < 0 || st->income_seen[c] > inc)
            fw_snap_fail(s, "creator %u: income seen %lld cents, the market's %lld to date", c,
                         (long long)st->income_seen[c], (long long)inc);
    }
    fw_snap_array(s, st->gone, w->n_users, sizeof *st->gone);
    fw_snap_tick(s, &st->follows_day, 1, "the follows' day");
}

const fw_part fw_living_part = {
    .name = "living",
    FW_PART_COUNTERS_AND_RATES,
    .active = living_active,
    .state_size = sizeof(living_state),
    .create = living_create,
    .destroy = living_destroy,
    .before_log = living_before_log,
    .after_log = living_after_log,
    .tick_end = living_tick_end,
    .day_end = living_day_end,
    .day_close = living_day_close,
    .summary = living_summary,
    .snap = living_snap,
};
