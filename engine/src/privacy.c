/* The privacy module (engine.privacy.*, world.optout_share through fw_catalog.optout):
 * differentially private trending counts, the day's privacy accounting, the retention window's
 * day end, and the non-personalised feed of users who opted out.
 *
 * Trending counts under DP. With engine.privacy.dp on, a cell's consumers (the baseline feed's
 * score, the trending pool, the recommender's hot and content channels, a ranker plug-in's
 * trending feature) read a released aggregate instead of the exact decayed engagement: at
 * each day's end the module releases every note's weighted engagement count of the day plus
 * noise, and the released score is S_d = 2^(-day / half_life) S_(d-1) + max(0, noisy count_d)
 * -- a decayed sum of the daily releases, which is post-processing and costs no budget. The
 * released value is 0 for a note no release has covered yet, so the first day of a DP cell
 * has no trending pool: part of the utility cost, recorded as such.
 *
 * Sensitivity (argued, then enforced by clipping). Per user and day the module counts at most
 * engine.privacy.clip (C) distinct notes, each event type (open, like, save, comment) at most
 * once per note; later events of the user that day are dropped from the released counts (the
 * exact pools still see them; they never leave the engine). One user's data then changes the
 * day's count vector by at most W = w_open + w_like + w_save + w_comment (the cell's trending
 * weights) in each of at most C coordinates: L1 sensitivity C W, L2 sensitivity sqrt(C) W.
 * Laplace noise of scale (C W) / eps_r, or Gaussian noise of sigma sqrt(C) W sqrt(2 ln(1.25 /
 * delta_r)) / eps_r with eps_r = eps_a / R, delta_r = delta_a / R per release, over every note (the domain is the public list of published notes, so
 * zero counts get noise too) makes each release eps_r-DP, resp. (eps_r, delta_r)-DP, and the day's
 * R releases eps_a-DP (resp. (eps_a, delta_a)) together; a user's contribution to one release is
 * at most their day's.
 *
 * Budget. A cell releases k aggregates a day: trending, plus the co-engagement counts when the
 * recommender runs and the mechanism can release them (gaussian, or laplace with delta > 0;
 * see rec.c's rebuild_neighbours). Sequential composition: each gets eps / k (and delta / k).
 * Trending counts cover every user of the platform (pools are platform-wide with per-cell
 * weights), so k DP cells' trending releases compose over each user: the day's accounting
 * sums them. Co-engagement counts of a learner cover its own users only: learners under
 * per-arm isolation hold disjoint users (parallel composition), so the accounting takes the
 * largest. The day series record what the worst-off user spent, per aggregate, per day and in
 * total (basic composition over days), in micro-epsilon.
 *
 * Invariants:
 *  - the noise of (cell, day, aggregate, index) is a pure function of the key (flywheel/privacy.h);
 *  - a DP cell's released arrays change only at its release ticks' ends, a barrier (requests
 *    read them frozen);
 *  - per user and day, contrib_n[u] <= clip, and each (note, type) pair counted once. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#include "flywheel/privacy.h"
#include "privacy_int.h"
#include "pools.h"
#include "rank.h"
#include "rec_int.h"

/* The day series: privacy accounting and what the mechanisms did. */
#define PRIVACY_SERIES(X)                                                                                      \
    X(eps_trending_ueps, "micro-epsilon",                                                                    \
      "epsilon the day's DP trending releases spent on every user (summed over DP cells: each covers everyone)") \
    X(eps_coeng_ueps, "micro-epsilon",                                                                       \
      "epsilon the day's DP co-engagement releases spent on a user (the largest over learners: disjoint users)") \
    X(eps_day_ueps, "micro-epsilon", "epsilon spent on the worst-off user this day (sequential composition)")   \
    X(eps_total_ueps, "micro-epsilon", "epsilon spent on the worst-off user since the first day simulated (a warm-up's too; basic composition)") \
    X(delta_day_pico, "1e-12", "delta spent on the worst-off user this day")                                    \
    X(noise_draws, "draws", "noise values drawn for the day's releases")                                       \
    X(clipped_events, "events", "engagement events left out of the released counts by engine.privacy.clip")   \
    X(optout_users, "users", "users who opted out of personalisation (fw_catalog.optout)")                     \
    X(forgotten_opens, "opens", "users' recent opens and note-opener entries erased by the retention window") \
    X(reset_users, "users", "user vectors and counts reset by the retention window's rotation")
FW_DECLARE_SERIES(PRIVACY_SERIES);

/* A DP cell's released trending aggregate. */
typedef struct dp_cell {
    int on;
    double eps_agg, delta_agg;   /* this cell's share per released aggregate */
    uint32_t k;                  /* aggregates released per day */
    double scale;                /* trending noise: Laplace b or Gaussian sigma */
    double w[FW_EV__COUNT];      /* the cell's trending weights */
    double half_life_ticks;
    uint32_t releases;           /* engine.privacy.releases_per_day, at most ticks_per_day */
    int32_t released_tick;       /* the tick at whose end the last release happened */
    double *count;               /* [cap_notes] today's clipped weighted counts */
    double *released;            /* [cap_notes] decayed sum of released counts at t_rel */
    int32_t t_rel;
    uint32_t *pool;              /* the released trending pool, best first */
    double *pool_score;
    uint32_t n_pool;
} dp_cell;

typedef struct privacy {
    dp_cell *cell;              /* [n_arms] */
    int any_dp, coeng;          /* some cell is DP; the recommender (co-engagement) runs */
    uint32_t clip;              /* engine.privacy.clip (one value per run) */
    uint32_t *contrib_note;     /* [n_users * clip] notes counted today */
    uint8_t *contrib_mask;      /* [n_users * clip] event types counted per note */
    uint32_t *contrib_n, *contrib_day;   /* [n_users]; day_seq + 1 of contrib_n */
    uint32_t day_seq;           /* days ended: counts days so, not by their number (a warm-up's,
                                   issue 18, are 2^32 - W ..) */
    uint8_t *optout;            /* [n_users] or NULL */
    uint32_t n_optout;
    int retention;              /* some cell has a retention window */
    uint64_t clipped, eps_total_ueps, draws;
} privacy;

static const privacy *P_of(const fw_engine *e) { return fw_mod(e, FW_MOD_PRIVACY); }

/* ---- mechanisms (flywheel/privacy.h) ---------------------------------------------------- */

double fw_privacy_laplace_scale(double sensitivity_l1, double epsilon) { return sensitivity_l1 / epsilon; }

double fw_privacy_gaussian_sigma(double sensitivity_l2, double epsilon, double delta)
{
    return sensitivity_l2 * sqrt(2.0 * log(1.25 / delta)) / epsilon;
}

double fw_privacy_uniform(uint64_t seed, uint32_t cell, uint32_t day, uint32_t aggregate, uint64_t index)
{
    uint64_t h = fw_mix64(seed ^ UINT64_C(0x70726976616379));   /* "privacy" */
    h = fw_mix64(h ^ ((uint64_t)cell << 40 ^ (uint64_t)aggregate << 32 ^ day));
    h = fw_mix64(h ^ fw_mix64(index + UINT64_C(0x9e3779b97f4a7c15)));
    /* 53 bits, centred in their cell: strictly inside (0, 1). */
    return ((double)(h >> 11) + 0.5) * 0x1.0p-53;
}

double fw_privacy_noise(int mechanism, double scale, uint64_t seed, uint32_t cell, uint32_t day, uint32_t aggregate,
                        uint64_t index)
{
    double u = fw_privacy_uniform(seed, cell, day, aggregate, index);
    switch (mechanism) {
    case FW_DP_LAPLACE: return gsl_cdf_laplace_Pinv(u, scale);
    case FW_DP_GAUSSIAN: return gsl_cdf_gaussian_Pinv(u, scale);
    default: return 0.0;
    }
}

/* ---- read side (privacy_int.h) ------------------------------------------------------------- */

int fw_privacy_dp_cell(const fw_engine *e, uint32_t cell)
{
    const privacy *p = P_of(e);
    return p && p->cell[cell].on;
}

const double *fw_privacy_scores(const fw_engine *e, uint32_t cell) { return P_of(e)->cell[cell].released; }

double fw_privacy_decay_at(const fw_engine *e, uint32_t cell, int32_t tick)
{
    const dp_cell *c = &P_of(e)->cell[cell];
    return exp2(-(double)(tick - c->t_rel) / c->half_life_ticks);
}

const uint32_t *fw_privacy_trending(const fw_engine *e, uint32_t cell, uint32_t *n)
{
    const dp_cell *c = &P_of(e)->cell[cell];
    *n = c->n_pool;
    return c->pool;
}

int fw_privacy_opted_out(const fw_engine *e, uint32_t u)
{
    const privacy *p = P_of(e);
    return p && p->optout && u < e->n_users && p->optout[u] && fw_cfg(e, fw_user_cell(e, u))->privacy.honour_optout;
}

uint32_t fw_privacy_retention(const fw_engine *e, uint32_t cell)
{
    return P_of(e) ? fw_cfg(e, cell)->privacy.retention_days : 0;
}

/* Pairs a user contributes: at most C(window, 2) unordered pairs of distinct notes. */
static double pairs_per_user(uint32_t window) { return 0.5 * window * (window - 1.0); }

fw_dp_pairs fw_privacy_pairs(const fw_engine *e, uint32_t learner, uint32_t day)
{
    fw_dp_pairs q = {.exact = 1};
    const privacy *p = P_of(e);
    uint32_t cell = fw_learner_cell(e, learner);
    if (!p || !p->cell[cell].on)
        return q;
    const dp_cell *c = &p->cell[cell];
    const fw_privacy_cfg *pv = &fw_cfg(e, cell)->privacy;
    q.exact = 0;
    q.mechanism = pv->dp;
    q.cell = learner;   /* the noise key: learners under one cell draw apart */
    q.day = day;
    q.seed = e->seed;
    q.window = pv->clip;   /* rec.c caps it at its pair window */
    if (c->k < 2)
        return q;   /* release 0: laplace without delta */
    q.release = 1;
    /* A user changes each pair's count by at most 1, and up to P pairs: L1 sensitivity P,
     * L2 sqrt(P). A pair only one user holds exists only with them: it is released when its
     * noisy count exceeds the threshold, with probability at most delta_thr / P per pair, so
     * at most delta_thr per user (union bound). Korolova, Kenthapadi, Mishra, Ntoulas,
     * "Releasing search queries and clicks privately", WWW 2009; Desfontaines, Voss, Gipson,
     * Mandayam, "Differentially private partition selection", PoPETs 2022. */
    double P = pairs_per_user(fw_min_u32(pv->clip, 8));
    if (P < 1.0)
        P = 1.0;
    if (pv->dp == FW_DP_LAPLACE) {
        q.scale = fw_privacy_laplace_scale(P, c->eps_agg);
        /* P(1 + Lap(b) > t) = exp(-(t - 1) / b) / 2 <= delta / P. */
        q.threshold = 1.0 + q.scale * log(P / (2.0 * c->delta_agg));
    } else {
        /* Half of the aggregate's delta for the noise, half for the threshold. */
        q.scale = fw_privacy_gaussian_sigma(sqrt(P), c->eps_agg, 0.5 * c->delta_agg);
        q.threshold = 1.0 + gsl_cdf_gaussian_Qinv(0.5 * c->delta_agg / P, q.scale);
    }
    return q;
}

/* ---- the non-personalised feed -------------------------------------------------------------- */

uint32_t fw_privacy_feed(fw_engine *e, fw_engine_ctx *ctx, const fw_feed_req *req, uint32_t *out, uint32_t cap,
                         int64_t t_start)
{
    fw_rank_ctx *c = &ctx->rank;
    uint32_t cell = req->arm, u = req->user, n = 0;
    const fw_feed_cfg *f = &fw_cfg(e, cell)->feed;
    uint32_t k = fw_min_u32(fw_feed_organic_slots(f, cap), FW_PAGE_SLOTS);
    uint32_t org[FW_PAGE_SLOTS];
    uint64_t looked = 0;
    /* Popularity first (what everyone is reading, the same for every user of the cell), then
     * the newest notes when the pool runs dry; nothing about the user but what they were
     * served (no repeats). */
    uint32_t n_pool;
    const uint32_t *pool = fw_pools_trending(e, cell, &n_pool);
    for (uint32_t i = 0; i < n_pool && n < k; i++, looked++)
        if (!fw_seen_has(e, cell, u, pool[i]))
            org[n++] = pool[i];
    fw_ring fresh = fw_pools_fresh(e);
    uint32_t have = fw_min_u32(fw_ring_have(&fresh), f->n_fresh);
    for (uint32_t i = 0; i < have && n < k; i++, looked++) {
        uint32_t id = fw_ring_newest(&fresh, i);
        int dup = fw_seen_has(e, cell, u, id);
        for (uint32_t j = 0; j < n && !dup; j++)
            dup = org[j] == id;
        if (!dup)
            org[n++] = id;
    }
    c->n_cand = 0;
    c->n_scored = 0;
    uint32_t len = fw_feed_place_slots(f, org, n, out, cap);
    len = fw_seen_add_page(e, cell, u, out, len);
    fw_feed_count(ctx, looked, n, out, len);
    int64_t t_end = fw_now_ns();
    fw_hist_record(&ctx->lat[FW_STAGE_FEED], t_end - t_start);
    return len;
}

/* ---- lifetime ---------------------------------------------------------------------------- */

static int privacy_wanted(const fw_catalog *cat, const fw_engine_cfg *cfgs, uint32_t n_cells)
{
    for (uint32_t a = 0; a < n_cells; a++)
        if (cfgs[a].privacy.dp != FW_DP_OFF || cfgs[a].privacy.retention_days > 0)
            return 1;
    for (uint32_t u = 0; cat->optout && u < cat->n_users; u++)
        if (cat->optout[u])
            return 1;
    return 0;
}

static fw_err privacy_grow_notes(fw_engine *e, void *state, uint32_t old_cap, uint32_t cap)
{
    privacy *p = state;
    for (uint32_t a = 0; a < e->n_arms; a++) {
        dp_cell *c = &p->cell[a];
        if (c->on && (fw_resize(&c->count, old_cap, cap, sizeof *c->count) ||
                      fw_resize(&c->released, old_cap, cap, sizeof *c->released)))
            return FW_ERR_NOMEM;
    }
    return FW_OK;
}

static fw_err privacy_create(fw_engine *e, const fw_catalog *cat, void **state)
{
    privacy *p = *state;
    if (!fw_alloc(e, &p->cell, e->n_arms, sizeof *p->cell))
        return FW_ERR_NOMEM;
    double hours_per_tick = 24.0 / e->ticks_per_day;
    p->coeng = e->on[FW_MOD_REC];
    for (uint32_t a = 0; a < e->n_arms; a++) {
        const fw_engine_cfg *cfg = fw_cfg(e, a);
        const fw_privacy_cfg *pv = &cfg->privacy;
        dp_cell *c = &p->cell[a];
        p->retention |= pv->retention_days > 0;
        if (pv->dp == FW_DP_OFF)
            continue;
        c->on = 1;
        p->any_dp = 1;
        p->clip = pv->clip;
        const fw_feed_cfg *f = &cfg->feed;
        c->w[FW_EV_OPEN] = f->w_open;
        c->w[FW_EV_LIKE] = f->w_like;
        c->w[FW_EV_SAVE] = f->w_save;
        c->w[FW_EV_COMMENT] = f->w_comment;
        c->half_life_ticks = f->trending_half_life_h / hours_per_tick;
        c->k = 1 + (p->coeng && (pv->dp == FW_DP_GAUSSIAN || pv->delta > 0.0));
        c->eps_agg = pv->epsilon / c->k;
        c->delta_agg = pv->delta / c->k;
        double W = f->w_open + f->w_like + f->w_save + f->w_comment, C = pv->clip;
        /* R releases a day share the trending budget (sequential composition): each gets
         * eps_agg / R (and delta_agg / R); a user's contribution to one release is bounded by
         * their day's. */
        c->releases = fw_min_u32(pv->releases_per_day, e->ticks_per_day);
        c->released_tick = INT32_MIN;
        double R = c->releases;
        c->scale = pv->dp == FW_DP_LAPLACE ? fw_privacy_laplace_scale(C * W, c->eps_agg / R)
                                           : fw_privacy_gaussian_sigma(sqrt(C) * W, c->eps_agg / R, c->delta_agg / R);
        uint32_t K = fw_max_u32(f->n_trending, 1);
        if (!fw_alloc(e, &c->pool, K, sizeof *c->pool) || !fw_alloc(e, &c->pool_score, K, sizeof *c->pool_score) ||
            !fw_alloc(e, &c->count, 0, sizeof *c->count) || !fw_alloc(e, &c->released, 0, sizeof *c->released))
            return FW_ERR_NOMEM;
    }
    if (p->any_dp && (!fw_alloc(e, &p->contrib_note, (size_t)e->n_users * p->clip, sizeof *p->contrib_note) ||
                      !fw_alloc(e, &p->contrib_mask, (size_t)e->n_users * p->clip, sizeof *p->contrib_mask) ||
                      !fw_alloc(e, &p->contrib_n, e->n_users, sizeof *p->contrib_n) ||
                      !fw_alloc(e, &p->contrib_day, e->n_users, sizeof *p->contrib_day)))
        return FW_ERR_NOMEM;
    if (cat->optout) {
        if (!fw_alloc(e, &p->optout, e->n_users, 1))
            return FW_ERR_NOMEM;
        for (uint32_t u = 0; u < e->n_users; u++)
            p->n_optout += (p->optout[u] = cat->optout[u] != 0);
    }
    return privacy_grow_notes(e, p, 0, e->cap_notes);
}

/* ---- barrier: counting, release, accounting ------------------------------------------------- */

/* Whether user u's event (note, type) counts today under the contribution bound. */
static int admit(privacy *p, uint32_t u, uint32_t note, uint32_t type)
{
    if (p->contrib_day[u] != p->day_seq + 1) {
        p->contrib_day[u] = p->day_seq + 1;
        p->contrib_n[u] = 0;
    }
    uint32_t *nv = p->contrib_note + (size_t)u * p->clip;
    uint8_t *mv = p->contrib_mask + (size_t)u * p->clip, bit = (uint8_t)(1u << type);
    for (uint32_t i = 0; i < p->contrib_n[u]; i++)
        if (nv[i] == note) {
            if (mv[i] & bit)
                return 0;
            mv[i] |= bit;
            return 1;
        }
    if (p->contrib_n[u] == p->clip)
        return 0;
    nv[p->contrib_n[u]] = note;
    mv[p->contrib_n[u]++] = bit;
    return 1;
}

static fw_err privacy_log(fw_engine *e, void *state, fw_engine_ctx *ctx, const fw_log *l)
{
    (void)ctx;
    privacy *p = state;
    if (!p->any_dp)
        return FW_OK;
    for (size_t i = 0; i < l->n_ev; i++) {
        const fw_event *x = &l->ev[i];
        if (!fw_event_ok(e, x))
            continue;
        uint32_t type = FW_EV_TYPE(x->type);
        if (type != FW_EV_OPEN && type != FW_EV_LIKE && type != FW_EV_SAVE && type != FW_EV_COMMENT)
            continue;
        if (!admit(p, x->user, x->note, type)) {
            p->clipped++;
            continue;
        }
        for (uint32_t a = 0; a < e->n_arms; a++)
            if (p->cell[a].on)
                p->cell[a].count[x->note] += p->cell[a].w[type];
    }
    return FW_OK;
}

/* Releases cell a's trending counts since its last release (number `release`, counted from day
 * 0's first; a warm-up's, before it, wrap below 0 as uint32) at the end of tick: noise on every note, clamp at 0 (post-processing), decay the
 * earlier releases, rebuild the released pool. Returns the draws. */
static uint64_t release_trending(fw_engine *e, dp_cell *c, uint32_t a, uint32_t release, int32_t tick)
{
    const fw_privacy_cfg *pv = &fw_cfg(e, a)->privacy;
    int32_t now = tick + 1;
    uint32_t day = release;   /* the noise key: one per release */
    /* Nothing released yet: nothing to decay (from t_rel 0, a warm-up's first release at a tick
     * below 0 would scale the zeros by 2^(ticks / half-life), inf for a long warm-up). */
    double decay = c->released_tick == INT32_MIN ? 0.0 : exp2(-(double)(now - c->t_rel) / c->half_life_ticks);
    uint32_t K = fw_cfg(e, a)->feed.n_trending, n_pool = 0;
    for (uint32_t n = 0; n < e->n_notes; n++) {
        double v = c->count[n] + fw_privacy_noise(pv->dp, c->scale, e->seed, a, day, FW_DP_AGG_TRENDING, n);
        c->released[n] = c->released[n] * decay + (v > 0.0 ? v : 0.0);
        c->count[n] = 0.0;
        if (c->released[n] > 0.0)
            fw_topk_offer(c->pool, c->pool_score, &n_pool, K, n, c->released[n]);
    }
    fw_topk_sort(c->pool, c->pool_score, n_pool);
    c->n_pool = n_pool;
    c->t_rel = now;
    c->released_tick = tick;
    return e->n_notes;
}

/* The tick's end: the DP cells whose release falls on it release (R a day, after ticks j with
 * floor((j + 1) R / tpd) > floor(j R / tpd): evenly spread, the last at the day's end). */
static fw_err privacy_end_tick(fw_engine *e, void *state, fw_engine_ctx *ctx, int32_t tick)
{
    (void)ctx;
    privacy *p = state;
    /* A warm-up's ticks (below 0) release too: days floor, so a day's releases fall on the same
     * ticks of the day as day 0's. */
    uint32_t tpd = e->ticks_per_day;
    int32_t day = fw_tick_day(tick, tpd);
    uint32_t j = (uint32_t)((int64_t)tick - (int64_t)day * tpd);
    for (uint32_t a = 0; a < e->n_arms; a++) {
        dp_cell *c = &p->cell[a];
        if (!c->on)
            continue;
        uint64_t before = (uint64_t)j * c->releases / tpd, after = (uint64_t)(j + 1) * c->releases / tpd;
        if (after > before)
            p->draws += release_trending(e, c, a, (uint32_t)((int64_t)day * c->releases + (int64_t)before), tick);
    }
    return FW_OK;
}

int fw_privacy_released_at(const fw_engine *e, uint32_t cell, int32_t tick)
{
    const privacy *p = P_of(e);
    return p && p->cell[cell].on && p->cell[cell].released_tick == tick;
}

static fw_err privacy_end_day(fw_engine *e, void *state, fw_engine_ctx *ctx, uint32_t day, int64_t *series)
{
    (void)ctx;
    privacy *p = state;
    memset(series, 0, SER__COUNT * sizeof *series);
    /* Retention first: the recommender's day end (after this module's) pairs what is left. */
    if (p->retention) {
        uint64_t forgotten = 0, reset = 0;
        fw_rec_forget(e, day, &forgotten, &reset);
        series[SER_forgotten_opens] = (int64_t)forgotten;
        series[SER_reset_users] = (int64_t)reset;
    }
    double eps_tr = 0.0, eps_co = 0.0, delta_tr = 0.0, delta_co = 0.0;
    for (uint32_t a = 0; a < e->n_arms; a++) {
        const dp_cell *c = &p->cell[a];
        if (!c->on)
            continue;
        eps_tr += c->eps_agg;   /* over the day's releases (privacy_end_tick) */
        delta_tr += fw_cfg(e, a)->privacy.dp == FW_DP_GAUSSIAN ? c->delta_agg : 0.0;
    }
    /* The co-engagement release happens in the recommender's day end, right after. */
    for (uint32_t l = 0; p->coeng && l < e->n_learn; l++) {
        const dp_cell *c = &p->cell[fw_learner_cell(e, l)];
        if (c->on && c->k == 2) {
            eps_co = fmax(eps_co, c->eps_agg);
            delta_co = fmax(delta_co, c->delta_agg);
        }
    }
    uint64_t day_ueps = (uint64_t)llround((eps_tr + eps_co) * 1e6);
    p->eps_total_ueps += day_ueps;
    series[SER_eps_trending_ueps] = llround(eps_tr * 1e6);
    series[SER_eps_coeng_ueps] = llround(eps_co * 1e6);
    series[SER_eps_day_ueps] = (int64_t)day_ueps;
    series[SER_eps_total_ueps] = (int64_t)p->eps_total_ueps;
    series[SER_delta_day_pico] = llround((delta_tr + delta_co) * 1e12);
    series[SER_noise_draws] = (int64_t)p->draws;
    series[SER_clipped_events] = (int64_t)p->clipped;
    series[SER_optout_users] = p->n_optout;
    p->clipped = 0;
    p->draws = 0;
    p->day_seq++;
    return FW_OK;
}

static fw_err privacy_check(const fw_engine *e, const void *state, char *why, size_t cap)
{
    const privacy *p = state;
    for (uint32_t u = 0; p->any_dp && u < e->n_users; u++)
        if (p->contrib_n[u] > p->clip) {
            snprintf(why, cap, "privacy: user %u counted %u notes today, more than clip %u", u, p->contrib_n[u],
                     p->clip);
            return FW_ERR_INTERNAL;
        }
    for (uint32_t a = 0; a < e->n_arms; a++)
        for (uint32_t n = 0; p->cell[a].on && n < e->n_notes; n++)
            if (!(p->cell[a].released[n] >= 0.0)) {
                snprintf(why, cap, "privacy: cell %u released a negative trending score for note %u", a, n);
                return FW_ERR_INTERNAL;
            }
    return FW_OK;
}

/* Loading, the DP cells' per-note arrays were grown to cap_notes (zero past the notes: only a
 * note below n_notes is counted or released) and every field below is overwritten.
 *  Transferred: per DP cell today's counts and the released scores of the n_notes notes,
 *    t_rel, released_tick and the released pool; day_seq, the clipped events, the draws and
 *    the epsilon spent so far.
 *  Skipped: the cells' on, eps_agg, delta_agg, k, scale, w, half_life_ticks and releases,
 *  any_dp, coeng, clip, retention, optout and n_optout (the scenario's and the catalog's);
 *  pool_score (release_trending's scratch); and the users' contributions contrib_note,
 *  contrib_mask, contrib_n, contrib_day: a row counts for the day contrib_day names, a day's
 *  end moves day_seq past every row, and admit resets a stale row before reading it, so no
 *  row is read on a later day (n_users * clip of them would be the largest state here). */
static void privacy_snap(fw_engine *e, void *state, fw_snap *s)
{
    privacy *p = state;
    for (uint32_t a = 0; a < e->n_arms; a++) {
        dp_cell *c = &p->cell[a];
        if (!c->on)
            continue;
        fw_snap_array(s, c->count, e->n_notes, sizeof *c->count);
        fw_snap_array(s, c->released, e->n_notes, sizeof *c->released);
        fw_snap_tick(s, &c->t_rel, 0, "the trending pool's release");
        fw_snap_tick(s, &c->released_tick, 1, "the last release");
        fw_snap_u32(s, &c->n_pool);
        if (fw_snap_loading(s) && c->n_pool > fw_max_u32(fw_cfg(e, a)->feed.n_trending, 1)) {
            fw_snap_fail(s, "cell %u's released trending pool of %u notes", a, c->n_pool);
            c->n_pool = 0;
        }
        fw_snap_indexes(s, c->pool, c->n_pool, e->n_notes, e->n_notes);
    }
    fw_snap_u32(s, &p->day_seq);
    fw_snap_u64(s, &p->clipped);
    fw_snap_u64(s, &p->eps_total_ueps);
    fw_snap_u64(s, &p->draws);
}

const fw_engine_module fw_privacy_module = {
    .name = "privacy",
    .state_size = sizeof(privacy),
    .wanted = privacy_wanted,
    .create = privacy_create,
    .grow_notes = privacy_grow_notes,
    .log = privacy_log,
    .end_tick = privacy_end_tick,
    .end_day = privacy_end_day,
    .snap = privacy_snap,
    .check = privacy_check,
    FW_MODULE_SERIES("privacy: the day's differential-privacy accounting (what the worst-off user spent) and what "
                     "the privacy mechanisms did"),
};
