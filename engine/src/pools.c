/* The pools module: decayed engagement and the trending pools per cell, the fresh ring and
 * the per-creator rings of recent notes (pools.h).
 *
 * Invariants:
 *  - every cell's scores array has cap_notes entries, 0 for a note never engaged with;
 *  - touched[0..n_touched) lists each note whose score changed since the list was last
 *    reset, once; touched_epoch[note] == epoch marks membership. The list of a tick is reset
 *    by the first barrier call of the next tick (not at the tick's end: the recommender's
 *    end_tick, which runs after this module's, still reads it);
 *  - a pool refresh offers the touched notes and the old pool's untouched members, which
 *    gives the same pool as offering every note: an untouched note keeps its score (rebasing
 *    scales all alike) and was not above the old pool's last entry. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rank.h"
#include "pools.h"
#include "privacy_int.h"

#define MAX_EXPONENT 64.0

typedef struct cell_trend {
    double *trend;          /* [cap_notes] */
    int32_t t0;
    double half_life_ticks;
    int32_t factor_tick;    /* tick for which factor is cached */
    double factor;          /* 2^((factor_tick - t0) / half_life) */
    uint32_t *pool;         /* trending pool, best first */
    uint32_t *pool_prev;    /* scratch: the pool before a refresh */
    double *pool_score;     /* scratch of the pool refresh */
    uint32_t n_pool;
} cell_trend;

typedef struct pools {
    cell_trend *cell;       /* [n_arms] */
    uint32_t *fresh;        /* ring of the most recently published notes */
    uint32_t fresh_cap;
    uint64_t fresh_total;   /* notes ever pushed; head = fresh_total % fresh_cap */
    uint32_t recent_cap;    /* per-creator ring of recent notes */
    uint32_t *recent;       /* [n_users * recent_cap] */
    uint32_t *recent_total; /* [n_users] notes ever pushed per creator */
    uint32_t *touched, n_touched;
    size_t cap_touched;
    uint32_t *touched_epoch;   /* [cap_notes] */
    uint32_t epoch;            /* >= 1 */
    int closed;                /* a tick ended since the touched list began */
} pools;

static pools *T_of(const fw_engine *e) { return fw_mod(e, FW_MOD_POOLS); }

/* A cell under engine.privacy.dp reads the released aggregate (privacy.c), never the exact one. */
const double *fw_pools_scores(const fw_engine *e, uint32_t cell)
{
    return fw_privacy_dp_cell(e, cell) ? fw_privacy_scores(e, cell) : T_of(e)->cell[cell].trend;
}

double fw_pools_decay_at(const fw_engine *e, uint32_t cell, int32_t tick)
{
    if (fw_privacy_dp_cell(e, cell))
        return fw_privacy_decay_at(e, cell, tick);
    const cell_trend *ct = &T_of(e)->cell[cell];
    return exp2(-(double)(tick - ct->t0) / ct->half_life_ticks);
}

const uint32_t *fw_pools_trending(const fw_engine *e, uint32_t cell, uint32_t *n)
{
    if (fw_privacy_dp_cell(e, cell))
        return fw_privacy_trending(e, cell, n);
    const cell_trend *ct = &T_of(e)->cell[cell];
    *n = ct->n_pool;
    return ct->pool;
}

const uint32_t *fw_pools_touched(const fw_engine *e, uint32_t *n)
{
    const pools *t = T_of(e);
    *n = t->n_touched;
    return t->touched;
}

int fw_pools_was_touched(const fw_engine *e, uint32_t note)
{
    const pools *t = T_of(e);
    return t->touched_epoch[note] == t->epoch;
}

fw_ring fw_pools_fresh(const fw_engine *e)
{
    const pools *t = T_of(e);
    return (fw_ring){.v = t->fresh, .cap = t->fresh_cap, .total = t->fresh_total};
}

fw_ring fw_pools_recent(const fw_engine *e, uint32_t creator)
{
    const pools *t = T_of(e);
    return (fw_ring){.v = t->recent + (size_t)creator * t->recent_cap, .cap = t->recent_cap,
                     .total = t->recent_total[creator]};
}

void fw_pools_recent_prefetch(const fw_engine *e, uint32_t creator)
{
    const pools *t = T_of(e);
    const uint32_t *v = t->recent + (size_t)creator * t->recent_cap;
    __builtin_prefetch(&t->recent_total[creator]);
    __builtin_prefetch(v);
    if (t->recent_cap)
        __builtin_prefetch(v + t->recent_cap - 1);
}

/* A published note enters the fresh ring and its creator's ring. */
static void push_rings(const fw_engine *e, pools *t, uint32_t id)
{
    const fw_note_info *n = &e->notes[id];
    if (t->fresh_cap) {
        t->fresh[t->fresh_total % t->fresh_cap] = id;
        t->fresh_total++;
    }
    if (t->recent_cap && n->creator < e->n_users) {
        uint32_t c = n->creator;
        t->recent[(size_t)c * t->recent_cap + t->recent_total[c] % t->recent_cap] = id;
        t->recent_total[c]++;
    }
}

static fw_err pools_publish(fw_engine *e, void *state, fw_engine_ctx *ctx, uint32_t id, const fw_publication *p)
{
    (void)ctx;
    (void)p;
    push_rings(e, state, id);
    return FW_OK;
}

/* Moves ct's reference time to tick, rescaling every score. */
static void rebase(const fw_engine *e, cell_trend *ct, int32_t tick)
{
    double scale = exp2(-(double)(tick - ct->t0) / ct->half_life_ticks);
    for (uint32_t n = 0; n < e->n_notes; n++)
        ct->trend[n] *= scale;
    ct->t0 = tick;
    ct->factor_tick = INT32_MIN;
}

/* 2^((tick - t0) / half_life) for logging an event at tick, cached for runs of events at one
 * tick. Moves the reference time to tick first when the exponent would exceed MAX_EXPONENT,
 * so scores stay finite at any half-life. */
static double factor(const fw_engine *e, cell_trend *ct, int32_t tick)
{
    if (tick != ct->factor_tick) {
        if ((double)(tick - ct->t0) / ct->half_life_ticks > MAX_EXPONENT)
            rebase(e, ct, tick);
        ct->factor = exp2((double)(tick - ct->t0) / ct->half_life_ticks);
        ct->factor_tick = tick;
    }
    return ct->factor;
}

/* A new tick's first barrier call starts a new touched list. */
static void open_tick(const fw_engine *e, pools *t)
{
    if (!t->closed)
        return;
    t->closed = 0;
    t->n_touched = 0;
    if (++t->epoch == 0) {   /* wrapped after 2^32 ticks: clear the marks once */
        memset(t->touched_epoch, 0, (size_t)e->cap_notes * sizeof *t->touched_epoch);
        t->epoch = 1;
    }
}

static void rebuild_pool(const fw_engine *e, cell_trend *ct, uint32_t k)
{
    uint32_t n = 0;
    for (uint32_t note = 0; note < e->n_notes; note++)
        if (ct->trend[note] > 0.0)
            fw_topk_offer(ct->pool, ct->pool_score, &n, k, note, ct->trend[note]);
    fw_topk_sort(ct->pool, ct->pool_score, n);
    ct->n_pool = n;
}

/* Returns the number of notes offered to the pool. */
static uint64_t refresh_pool(const pools *t, cell_trend *ct, uint32_t k)
{
    uint64_t offers = 0;
    uint32_t n_prev = ct->n_pool, n = 0;
    memcpy(ct->pool_prev, ct->pool, (size_t)n_prev * sizeof *ct->pool);
    for (uint32_t i = 0; i < t->n_touched; i++) {
        uint32_t note = t->touched[i];
        if (ct->trend[note] > 0.0) {
            fw_topk_offer(ct->pool, ct->pool_score, &n, k, note, ct->trend[note]);
            offers++;
        }
    }
    for (uint32_t i = 0; i < n_prev; i++) {
        uint32_t note = ct->pool_prev[i];
        if (t->touched_epoch[note] != t->epoch && ct->trend[note] > 0.0) {
            fw_topk_offer(ct->pool, ct->pool_score, &n, k, note, ct->trend[note]);
            offers++;
        }
    }
    fw_topk_sort(ct->pool, ct->pool_score, n);
    ct->n_pool = n;
    return offers;
}

static fw_err pools_grow_notes(fw_engine *e, void *state, uint32_t old_cap, uint32_t cap)
{
    pools *t = state;
    if (fw_resize(&t->touched_epoch, old_cap, cap, sizeof *t->touched_epoch))
        return FW_ERR_NOMEM;
    for (uint32_t a = 0; a < e->n_arms; a++)
        if (fw_resize(&t->cell[a].trend, old_cap, cap, sizeof *t->cell[a].trend))
            return FW_ERR_NOMEM;
    return FW_OK;
}

static fw_err pools_create(fw_engine *e, const fw_catalog *cat, void **state)
{
    (void)cat;
    pools *t = *state;
    if (!fw_alloc(e, &t->cell, e->n_arms, sizeof *t->cell))
        return FW_ERR_NOMEM;
    double hours_per_tick = 24.0 / e->ticks_per_day;
    for (uint32_t a = 0; a < e->n_arms; a++) {
        cell_trend *ct = &t->cell[a];
        const fw_feed_cfg *f = &fw_cfg(e, a)->feed;
        uint32_t k = fw_max_u32(f->n_trending, 1);
        ct->half_life_ticks = f->trending_half_life_h / hours_per_tick;
        ct->factor_tick = INT32_MIN;
        /* trend grows with the notes (pools_grow_notes); the engine frees whatever it holds. */
        if (!fw_alloc(e, &ct->pool, k, sizeof *ct->pool) || !fw_alloc(e, &ct->pool_prev, k, sizeof *ct->pool_prev) ||
            !fw_alloc(e, &ct->pool_score, k, sizeof *ct->pool_score) || !fw_alloc(e, &ct->trend, 0, sizeof *ct->trend))
            return FW_ERR_NOMEM;
    }
    for (uint32_t a = 0; a < e->n_arms; a++) {
        t->fresh_cap = fw_max_u32(t->fresh_cap, fw_cfg(e, a)->feed.n_fresh);
        t->recent_cap = fw_max_u32(t->recent_cap, fw_cfg(e, a)->feed.follow_recent);
    }
    if ((t->fresh_cap && !fw_alloc(e, &t->fresh, t->fresh_cap, sizeof *t->fresh)) ||
        (t->recent_cap && !fw_alloc(e, &t->recent, (size_t)e->n_users * t->recent_cap, sizeof *t->recent)) ||
        !fw_alloc(e, &t->recent_total, e->n_users, sizeof *t->recent_total) ||
        !fw_alloc(e, &t->touched, 0, sizeof *t->touched) || !fw_alloc(e, &t->touched_epoch, 0, sizeof *t->touched_epoch))
        return FW_ERR_NOMEM;
    fw_err rc = pools_grow_notes(e, t, 0, e->cap_notes);
    if (rc != FW_OK)
        return rc;
    /* The catalog's notes, as if published one by one. */
    for (uint32_t id = 0; id < e->n_notes; id++)
        push_rings(e, t, id);
    /* Pools as of the first tick: nothing is trending until events arrive. */
    t->epoch = 1;
    for (uint32_t a = 0; a < e->n_arms; a++)
        rebuild_pool(e, &t->cell[a], fw_cfg(e, a)->feed.n_trending);
    return FW_OK;
}

static double event_weight(const fw_feed_cfg *f, uint32_t type)
{
    switch (type) {
    case FW_EV_OPEN: return f->w_open;
    case FW_EV_LIKE: return f->w_like;
    case FW_EV_SAVE: return f->w_save;
    case FW_EV_COMMENT: return f->w_comment;
    default: return 0.0;
    }
}

static fw_err pools_log(fw_engine *e, void *state, fw_engine_ctx *ctx, const fw_log *l)
{
    (void)ctx;
    pools *t = state;
    open_tick(e, t);
    for (size_t i = 0; i < l->n_ev; i++) {
        const fw_event *x = &l->ev[i];
        if (!fw_event_ok(e, x))
            continue;
        uint32_t type = FW_EV_TYPE(x->type);
        if (type == FW_EV_IMPRESSION || type == FW_EV_FOLLOW)
            continue;
        for (uint32_t a = 0; a < e->n_arms; a++) {
            cell_trend *ct = &t->cell[a];
            double w = event_weight(&fw_cfg(e, a)->feed, type);
            if (w > 0.0)
                ct->trend[x->note] += w * factor(e, ct, x->tick);
        }
        if (t->touched_epoch[x->note] != t->epoch) {
            if (fw_grow((void **)&t->touched, &t->cap_touched, (size_t)t->n_touched + 1, sizeof *t->touched,
                        1024))
                return FW_ERR_NOMEM;
            t->touched_epoch[x->note] = t->epoch;
            t->touched[t->n_touched++] = x->note;
        }
    }
    return FW_OK;
}

static fw_err pools_end_tick(fw_engine *e, void *state, fw_engine_ctx *ctx, int32_t tick)
{
    pools *t = state;
    open_tick(e, t);
    for (uint32_t a = 0; a < e->n_arms; a++) {
        cell_trend *ct = &t->cell[a];
        /* Keep the next tick's requests' decay meaningful at short half-lives. */
        if ((double)(tick + 1 - ct->t0) / ct->half_life_ticks > MAX_EXPONENT)
            rebase(e, ct, tick + 1);
        ctx->work[FW_WORK_POOL_OFFERS] += refresh_pool(t, ct, fw_cfg(e, a)->feed.n_trending);
    }
    t->closed = 1;
    return FW_OK;
}

static fw_err pools_end_day(fw_engine *e, void *state, fw_engine_ctx *ctx, uint32_t day, int64_t *series)
{
    (void)ctx;
    (void)series;
    pools *t = state;
    /* Move the reference time to the day's end so scores stay far from overflow; ranking
     * and decayed values are unchanged by construction. */
    int32_t now = (int32_t)((day + 1) * e->ticks_per_day);
    for (uint32_t a = 0; a < e->n_arms; a++)
        rebase(e, &t->cell[a], now);
    return FW_OK;
}

/* Loading, the per-note arrays were grown to cap_notes (zero past the notes: only a note
 * below n_notes is ever engaged with or touched) and every field below is overwritten.
 *  Transferred: per cell its scores of the n_notes notes, t0, the cached factor and its tick,
 *    and the trending pool; the touched list, the notes' marks, epoch and closed (a day ends
 *    on a closed tick, whose list the next tick's first log or end_tick resets; the list is
 *    carried whole rather than argued dead).
 *  Rebuilt: the fresh ring, the creators' rings and their totals, by push_rings for notes
 *    0 .. n_notes in order from empty rings: the run pushed exactly these, once each and in
 *    id order (the catalog's at create, then every publication: this module's publish cannot
 *    fail, and a note the first module refused never reaches it), so every slot it wrote is
 *    written again in the same order and the others stay 0. The creators are the core's,
 *    restored first. Carrying the rings instead would cost n_users * recent_cap ids.
 *  Skipped: half_life_ticks, fresh_cap and recent_cap (the scenario's), pool_prev and
 *  pool_score (refresh_pool's and rebuild_pool's scratch, filled before they are read), and
 *  cap_touched (the touched list's capacity, which fw_snap_vec grows). */
static void pools_snap(fw_engine *e, void *state, fw_snap *s)
{
    pools *t = state;
    for (uint32_t a = 0; a < e->n_arms; a++) {
        cell_trend *ct = &t->cell[a];
        fw_snap_array(s, ct->trend, e->n_notes, sizeof *ct->trend);
        fw_snap_tick(s, &ct->t0, 0, "the trend's origin");
        fw_snap_tick(s, &ct->factor_tick, 1, "the trend factor's tick");
        fw_snap_f64(s, &ct->factor);
        fw_snap_u32(s, &ct->n_pool);
        if (fw_snap_loading(s) && ct->n_pool > fw_max_u32(fw_cfg(e, a)->feed.n_trending, 1)) {
            fw_snap_fail(s, "cell %u's trending pool of %u notes", a, ct->n_pool);
            ct->n_pool = 0;
        }
        fw_snap_indexes(s, ct->pool, ct->n_pool, e->n_notes, e->n_notes);
    }
    size_t n_touched = t->n_touched;
    fw_snap_vec(s, (void **)&t->touched, &n_touched, &t->cap_touched, sizeof *t->touched, e->n_notes);
    t->n_touched = (uint32_t)n_touched;
    for (uint32_t i = 0; fw_snap_loading(s) && !fw_snap_failed(s) && i < t->n_touched; i++)
        if (t->touched[i] >= e->n_notes)
            fw_snap_fail(s, "touched note %u of %u notes", t->touched[i], e->n_notes);
    fw_snap_array(s, t->touched_epoch, e->n_notes, sizeof *t->touched_epoch);
    fw_snap_u32(s, &t->epoch);
    int32_t closed = t->closed;
    fw_snap_i32(s, &closed);
    t->closed = closed != 0;
    if (!fw_snap_loading(s) || fw_snap_failed(s))
        return;
    if (t->epoch == 0)
        fw_snap_fail(s, "a touched epoch of 0 (it starts at 1)");
    t->fresh_total = 0;
    memset(t->recent_total, 0, (size_t)e->n_users * sizeof *t->recent_total);
    for (uint32_t id = 0; id < e->n_notes; id++)
        push_rings(e, t, id);
}

const fw_engine_module fw_pools_module = {
    .name = "pools",
    .state_size = sizeof(pools),
    .create = pools_create,
    .grow_notes = pools_grow_notes,
    .publish = pools_publish,
    .log = pools_log,
    .end_tick = pools_end_tick,
    .end_day = pools_end_day,
    .snap = pools_snap,
};
