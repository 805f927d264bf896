/* The day and tick loop.
 *
 * Invariants that make results independent of the thread count:
 *  - every draw comes from a stream keyed by (seed, purpose, entity, day or tick);
 *  - inside a tick, user i's work runs on one thread, reads state frozen since the last
 *    barrier plus u's own rows, and writes only u's own rows and the calling thread's
 *    buffers (events, counters, latency);
 *  - at the barrier, events are applied in the order of the tick's user list (user id
 *    ascending, then the user's own order), notes are published in (tick, creator, draw)
 *    order, and counters are integers summed over threads;
 *  - per-user day-end updates touch only that user's rows. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <gsl/gsl_randist.h>

#include "model/behaviour.h"
#include "driver/clock.h"
#include "experiment/experiment.h"
#include "driver/metrics.h"
#include "io/recorder.h"
#include "model/rng.h"
#include "fw_version.h"
#include "driver/run.h"
#include "flywheel/record.h"
#include "model/world.h"

/* Relative session starts by hour of day for a mobile content app: quiet at night, a
 * lunch peak and a larger evening peak. An assumption of ours (no published XHS curve);
 * only its shape matters, the daily volume comes from sessions_mean. */
static const double hourly_weight[24] = {
    0.9, 0.5, 0.3, 0.2, 0.2, 0.3, 0.7, 1.3, 1.9, 2.0, 2.1, 2.4,
    3.0, 2.8, 2.2, 2.0, 2.1, 2.3, 2.7, 3.2, 3.7, 3.9, 3.4, 1.9};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;
}

/* Per-thread buffers. */
typedef struct tbuf {
    fw_engine_ctx *ctx;
    gsl_rng *rng;
    uint32_t *page;
    fw_slot *slots;
    fw_evbuf ev;
    gsl_rng *srng;         /* FW_RNG_SEARCH */
    fw_clickbuf clicks;    /* search clicks of the tick */
    gsl_rng *shop_rng;     /* FW_RNG_SHOP */
    fw_shopbuf shop;       /* shop events and checkouts of the tick */
    fw_adbuf ads;          /* ad events of the tick */
    uint64_t *counters;    /* [n_cells * FW_DC__COUNT] */
    double *oracle_util;   /* oracle scratch (fw_session_io) */
    uint32_t *oracle_id;
    size_t oracle_cap;
    int oom;
} tbuf;

typedef struct pending_note {
    int32_t tick;          /* tick of the day */
    uint32_t creator;      /* creator index */
    uint32_t seq;
    uint32_t task;         /* the marketplace task it delivers, or FW_NONE */
    fw_new_note note;
    size_t emb_at;
} pending_note;

/* A return the buyer has decided on, sent at the barrier of its tick. */
typedef struct pending_return {
    int32_t tick;
    uint32_t order, user;
} pending_return;

typedef struct sim {
    const fw_scenario *sc;
    fw_world w;
    fw_users_state us;
    fw_behaviour_model *model;   /* [n_cells]: a cell is one arm of every layer */
    fw_engine_cfg *cell_engine;  /* [n_cells] */
    fw_assignment asg;           /* units, arms and cells */
    const uint8_t *cell_of;      /* = asg.cell_of_user */
    fw_user_aggs aggs;           /* per-user counts, pre-period and experiment period */
    fw_exp_table exp;            /* the latest analysis */
    int exp_ready;
    fw_engine *engine;
    int n_threads;
    tbuf *tb;
    uint32_t n_arms, n_cells, tpd, day;
    gsl_ran_discrete_t *tick_pick;
    gsl_rng *text_rng;           /* FW_RNG_TEXT: new notes' words */
    /* Day schedule. */
    uint32_t *sess_n;            /* [n_users] sessions today */
    uint64_t *sess_off;          /* [n_users + 1] */
    uint16_t *sess_tick;         /* [total] */
    size_t sess_cap;
    uint64_t *tick_off;          /* [tpd + 1] */
    uint32_t *tick_user;         /* [total] */
    /* The current tick's distinct users and where their events and search clicks landed. */
    uint32_t *run_user, *run_count, *ev_slot;
    size_t *ev_lo, *ev_hi, *ck_lo, *ck_hi;
    fw_clickbuf merged_clicks;
    size_t *sev_lo, *sev_hi, *ord_lo, *ord_hi;   /* the tick's shop events and checkouts per run */
    size_t *ad_lo, *ad_hi;                       /* and ad events */
    fw_adbuf merged_ads;
    int64_t *billed;                             /* what each merged ad event was billed */
    size_t billed_cap;
    int64_t *brand_ad_spend, *brand_ad_gmv;      /* [n_brands]: ad spend (millicents), GMV of attributed orders */
    int64_t *brand_ad_spend_cents;               /* [n_brands] the same spend in cents, for the file */
    int64_t *ad_mid_spend, *ad_over_prev;        /* [n_campaigns]: spend by midday, overdelivery before today */
    uint64_t ad_impr_mid, ad_impr_day;           /* ad events by midday and all day (pacing error) */
    int64_t *task_cols;                          /* the marketplace's task table for the file */
    uint32_t *income_scratch;                    /* [n_creators] */
    fw_shopbuf merged_shop;
    fw_order_outcome *outcomes;
    size_t outcome_cap;
    uint8_t *order_src;          /* [orders] fw_source of each order's intent */
    size_t order_src_cap;
    pending_return *returns;     /* returns decided, not yet sent */
    int64_t *brand_units, *brand_rev;   /* [n_arms * n_brands]: per-brand sales per arm, to date */
    size_t n_returns, returns_cap;
    size_t run_cap;
    int32_t abs_tick;
    fw_evbuf merged;
    fw_record *recs;             /* the tick's log, every kind, for fw_engine_log */
    size_t recs_cap;
    /* Per-arm exposure of the day: notes shown (bitmap) and impressions per creator. */
    uint64_t *shown;             /* [n_arms * shown_words] */
    size_t shown_words;
    uint32_t *creator_impr;      /* [n_arms * n_creators] */
    uint32_t *gini_scratch;      /* [n_creators] */
    /* Notes to publish today. */
    pending_note *pend;
    float *pend_emb;
    size_t n_pend, pend_cap, pend_emb_cap;
} sim;

static fw_err tbufs_create(sim *S)
{
    S->tb = calloc((size_t)S->n_threads, sizeof *S->tb);
    if (!S->tb)
        return FW_ERR_NOMEM;
    uint32_t page_cap = 1;
    for (uint32_t c = 0; c < S->n_cells; c++) {
        if (S->cell_engine[c].feed.page_size > page_cap)
            page_cap = S->cell_engine[c].feed.page_size;
        if (S->cell_engine[c].search.page_size > page_cap)
            page_cap = S->cell_engine[c].search.page_size;
        if (S->cell_engine[c].shop.page_size > page_cap)
            page_cap = S->cell_engine[c].shop.page_size;
    }
    for (int t = 0; t < S->n_threads; t++) {
        tbuf *b = &S->tb[t];
        b->ctx = fw_engine_ctx_create(S->engine);
        b->rng = fw_rng_create(S->sc->seed, 0, 0, 0);
        b->srng = fw_rng_create(S->sc->seed, FW_RNG_SEARCH, 0, 0);
        b->shop_rng = fw_rng_create(S->sc->seed, FW_RNG_SHOP, 0, 0);
        b->page = calloc(page_cap, sizeof *b->page);
        b->slots = calloc((size_t)page_cap + 1, sizeof *b->slots);
        b->counters = calloc((size_t)S->n_cells * FW_DC__COUNT, sizeof *b->counters);
        if (!b->ctx || !b->rng || !b->srng || !b->shop_rng || !b->page || !b->slots || !b->counters)
            return FW_ERR_NOMEM;
    }
    return FW_OK;
}

static void sim_fini(sim *S)
{
    if (S->tb)
        for (int t = 0; t < S->n_threads; t++) {
            fw_engine_ctx_destroy(S->tb[t].ctx);
            gsl_rng_free(S->tb[t].rng);
            gsl_rng_free(S->tb[t].srng);
            gsl_rng_free(S->tb[t].shop_rng);
            free(S->tb[t].shop.ev);
            free(S->tb[t].shop.ord);
            free(S->tb[t].shop.src);
            free(S->tb[t].ads.v);
            free(S->tb[t].clicks.v);
            free(S->tb[t].page);
            free(S->tb[t].slots);
            free(S->tb[t].ev.v);
            free(S->tb[t].counters);
            free(S->tb[t].oracle_util);
            free(S->tb[t].oracle_id);
        }
    free(S->tb);
    fw_engine_destroy(S->engine);
    gsl_rng_free(S->text_rng);
    free(S->shown);
    free(S->creator_impr);
    free(S->ck_lo);
    free(S->ck_hi);
    free(S->merged_clicks.v);
    free(S->sev_lo);
    free(S->sev_hi);
    free(S->ord_lo);
    free(S->ord_hi);
    free(S->merged_shop.ev);
    free(S->merged_shop.ord);
    free(S->merged_shop.src);
    free(S->outcomes);
    free(S->order_src);
    free(S->returns);
    free(S->ad_lo);
    free(S->ad_hi);
    free(S->merged_ads.v);
    free(S->billed);
    free(S->brand_ad_spend);
    free(S->brand_ad_gmv);
    free(S->brand_ad_spend_cents);
    free(S->ad_mid_spend);
    free(S->ad_over_prev);
    free(S->task_cols);
    free(S->income_scratch);
    free(S->brand_units);
    free(S->brand_rev);
    free(S->gini_scratch);
    fw_users_state_fini(&S->us, S->w.n_users);
    fw_world_fini(&S->w);
    free(S->model);
    free(S->cell_engine);
    fw_assignment_fini(&S->asg);
    fw_user_aggs_fini(&S->aggs);
    gsl_ran_discrete_free(S->tick_pick);
    free(S->sess_n);
    free(S->sess_off);
    free(S->sess_tick);
    free(S->tick_off);
    free(S->tick_user);
    free(S->run_user);
    free(S->run_count);
    free(S->ev_slot);
    free(S->ev_lo);
    free(S->ev_hi);
    free(S->merged.v);
    free(S->recs);
    free(S->pend);
    free(S->pend_emb);
}

/* The cell whose configuration serves u today as a viewer: every layer's control (cell 0)
 * during the pre-period, and always in producer-side (creator unit) experiments, where
 * arms apply to notes by their creator instead. Counters are kept by the assigned cell. */
static inline uint32_t live_cell(const sim *S, uint32_t u)
{
    return S->day < S->sc->experiment_pre_days || S->sc->experiment_unit == FW_UNIT_CREATOR
               ? 0
               : S->cell_of[u];
}

static inline int period(const sim *S)
{
    return S->day < S->sc->experiment_pre_days ? 0 : 1;
}

/* ---- day schedule ------------------------------------------------------------------- */

static uint32_t draw_sessions(sim *S, gsl_rng *r, uint32_t u)
{
    const fw_behaviour_model *m = &S->model[live_cell(S, u)];
    fw_rng_seek(r, S->sc->seed, FW_RNG_ACTIVITY, u, S->day);
    if (gsl_rng_uniform(r) >= fw_behaviour_p_active(m, &S->w, &S->us, u))
        return 0;
    double extra = S->w.session_rate[u] - 1.0;
    uint32_t n = 1 + (extra > 0.0 ? gsl_ran_poisson(r, extra) : 0);
    return n > 4096 ? 4096 : n;
}

static void k_activity(void *arg, size_t b, size_t e, int slot)
{
    sim *S = arg;
    tbuf *tb = &S->tb[slot];
    for (size_t u = b; u < e; u++) {
        uint32_t n = draw_sessions(S, tb->rng, (uint32_t)u);
        S->sess_n[u] = n;
        uint64_t *c = &tb->counters[(size_t)S->cell_of[u] * FW_DC__COUNT];
        S->us.active_today[u] = n > 0;
        c[FW_DC_active_users] += n > 0;
        c[FW_DC_prev_active_users] += S->us.active_prev[u];
        c[FW_DC_retained_users] += n > 0 && S->us.active_prev[u];
        S->aggs.v[period(S)][FW_UM_active_days][u] += n > 0;
    }
}

static void k_session_ticks(void *arg, size_t b, size_t e, int slot)
{
    sim *S = arg;
    gsl_rng *r = S->tb[slot].rng;
    for (size_t u = b; u < e; u++) {
        if (!S->sess_n[u])
            continue;
        uint32_t n = draw_sessions(S, r, (uint32_t)u); /* same stream: same n, then ticks */
        for (uint32_t k = 0; k < n; k++)
            S->sess_tick[S->sess_off[u] + k] = (uint16_t)gsl_ran_discrete(r, S->tick_pick);
    }
}

static fw_err build_schedule(sim *S)
{
    uint32_t n = S->w.n_users;
    fw_par_for(n, 1024, k_activity, S);
    S->sess_off[0] = 0;
    for (uint32_t u = 0; u < n; u++)
        S->sess_off[u + 1] = S->sess_off[u] + S->sess_n[u];
    size_t total = S->sess_off[n];
    if (total > S->sess_cap) {
        size_t cap = total + total / 4 + 1024;
        uint16_t *t = realloc(S->sess_tick, cap * sizeof *t);
        uint32_t *tu = realloc(S->tick_user, cap * sizeof *tu);
        if (t)
            S->sess_tick = t;
        if (tu)
            S->tick_user = tu;
        if (!t || !tu)
            return FW_ERR_NOMEM;
        S->sess_cap = cap;
    }
    fw_par_for(n, 1024, k_session_ticks, S);
    /* Counting sort by tick, users ascending within a tick. */
    memset(S->tick_off, 0, (S->tpd + 1) * sizeof *S->tick_off);
    for (size_t k = 0; k < total; k++)
        S->tick_off[S->sess_tick[k] + 1]++;
    for (uint32_t t = 0; t < S->tpd; t++)
        S->tick_off[t + 1] += S->tick_off[t];
    uint64_t *fill = malloc((S->tpd + 1) * sizeof *fill);
    if (!fill)
        return FW_ERR_NOMEM;
    memcpy(fill, S->tick_off, (S->tpd + 1) * sizeof *fill);
    for (uint32_t u = 0; u < n; u++)
        for (uint64_t k = S->sess_off[u]; k < S->sess_off[u + 1]; k++)
            S->tick_user[fill[S->sess_tick[k]]++] = u;
    free(fill);
    return FW_OK;
}

static int cmp_pending(const void *a, const void *b)
{
    const pending_note *x = a, *y = b;
    if (x->tick != y->tick)
        return x->tick < y->tick ? -1 : 1;
    if (x->creator != y->creator)
        return x->creator < y->creator ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Room for one more pending note and its embedding. */
static fw_err pend_reserve(sim *S)
{
    if (S->n_pend < S->pend_cap)
        return FW_OK;
    size_t cap = S->pend_cap ? 2 * S->pend_cap : 1024;
    pending_note *p = realloc(S->pend, cap * sizeof *p);
    if (p)
        S->pend = p;
    float *e = realloc(S->pend_emb, cap * S->w.dim * sizeof *e);
    if (e)
        S->pend_emb = e;
    if (!p || !e)
        return FW_ERR_NOMEM;
    S->pend_cap = cap;
    return FW_OK;
}

/* Today's new notes: each creator posts Poisson(rate) notes at uniform ticks. */
static fw_err build_postings(sim *S, gsl_rng *r)
{
    fw_world *w = &S->w;
    const fw_world_cfg *cfg = &S->sc->world;
    S->n_pend = 0;
    size_t n_emb = 0;
    for (uint32_t c = 0; c < w->n_creators; c++) {
        fw_rng_seek(r, S->sc->seed, FW_RNG_POSTING, w->creator_user[c], S->day);
        unsigned k = gsl_ran_poisson(r, w->creator_rate[c]);
        for (unsigned j = 0; j < k; j++) {
            if (pend_reserve(S) != FW_OK)
                return FW_ERR_NOMEM;
            pending_note *p = &S->pend[S->n_pend++];
            p->tick = (int32_t)gsl_rng_uniform_int(r, S->tpd);
            p->creator = c;
            p->seq = j;
            p->task = FW_NONE;
            p->emb_at = n_emb;
            fw_world_draw_note(w, cfg, r, c, (int32_t)(S->day * S->tpd) + p->tick, &p->note,
                               &S->pend_emb[n_emb]);
            fw_rng_seek(S->text_rng, S->sc->seed, FW_RNG_TEXT, w->creator_user[c], (S->day + 1) << 12 | (j & 0xfff));
            fw_world_draw_terms(w, S->text_rng, p->note.info.topic, p->note.terms);
            n_emb += w->dim;
        }
    }
    /* Sponsored notes: every matched task's creator writes one today (again after a review
     * failed), on the task's niche, showing its product. */
    uint32_t n_tasks = fw_market_n_tasks(S->engine);
    for (uint32_t t = 0; t < n_tasks; t++) {
        fw_task_info ti;
        if (fw_market_task(S->engine, t, &ti) != FW_OK)
            return FW_ERR_INTERNAL;
        int32_t ci = ti.creator != FW_NONE ? w->creator_of[ti.creator] : -1;
        if (ti.status != FW_MTASK_MATCHED || ci < 0)
            continue;
        if (pend_reserve(S) != FW_OK)
            return FW_ERR_NOMEM;
        gsl_rng *tr = S->text_rng;
        fw_rng_seek(tr, S->sc->seed, FW_RNG_TASK, ti.creator, S->day << 20 | (t & 0xfffff));
        pending_note *p = &S->pend[S->n_pend++];
        p->tick = (int32_t)gsl_rng_uniform_int(tr, S->tpd);
        p->creator = (uint32_t)ci;
        p->seq = 1u << 30 | t;
        p->task = t;
        p->emb_at = n_emb;
        fw_world_draw_note(w, cfg, tr, (uint32_t)ci, (int32_t)(S->day * S->tpd) + p->tick, &p->note,
                           &S->pend_emb[n_emb]);
        p->note.info.topic = (uint16_t)ti.post.niche;
        p->note.product = ti.post.product;
        for (uint32_t d = 0; d < w->dim; d++)
            S->pend_emb[n_emb + d] = w->topic_centroid[(size_t)ti.post.niche * w->dim + d] +
                                     (float)gsl_ran_gaussian(tr, 0.6);
        fw_world_draw_terms(w, tr, p->note.info.topic, p->note.terms);
        n_emb += w->dim;
    }
    qsort(S->pend, S->n_pend, sizeof *S->pend, cmp_pending);
    return FW_OK;
}

/* The marketplace's day start: brands post tasks (world.task_rate each), creators of the
 * niche within each open task's follower range quote (world.quotes_per_task of them, their
 * price from their followers and read rate), and the platform matches. The platform's
 * prediction of a creator's reads is their followers times their notes' logged read rate. */
static fw_err market_day_start(sim *S)
{
    fw_world *w = &S->w;
    const fw_world_cfg *cfg = &S->sc->world;
    gsl_rng *r = S->text_rng;
    int32_t now = (int32_t)(S->day * S->tpd);
    uint32_t *const *got = S->aggs.v[period(S)];
    for (uint32_t b = 0; b < w->n_brands && cfg->task_rate > 0.0; b++) {
        fw_rng_seek(r, S->sc->seed, FW_RNG_TASK, b, S->day);
        if (gsl_rng_uniform(r) >= cfg->task_rate)
            continue;
        uint32_t cat = w->brand_category[b], product = FW_NONE;
        for (uint32_t k = w->category_off[cat]; k < w->category_off[cat + 1] && product == FW_NONE; k++)
            if (w->product_brand[w->category_products[k]] == b)
                product = w->category_products[k];
        double budget = gsl_ran_lognormal(r, log(cfg->task_budget_cents), 0.7);
        uint32_t fmin = (uint32_t)gsl_ran_lognormal(r, log(20.0), 1.0);
        fw_task_post post = {.brand = b, .niche = cat, .product = product,
                             .budget_cents = budget < 1.0 ? 1 : (int64_t)llround(budget),
                             .followers_min = fmin, .followers_max = fmin * 100 + 100, .tick = now};
        uint32_t id;
        fw_err rc = fw_market_post(S->engine, &post, &id);
        if (rc != FW_OK)
            return rc;
    }
    /* Quotes for every open task. */
    size_t nq = 0, capq = 0;
    fw_quote *q = NULL;
    uint32_t n_tasks = fw_market_n_tasks(S->engine);
    for (uint32_t t = 0; t < n_tasks; t++) {
        fw_task_info ti;
        if (fw_market_task(S->engine, t, &ti) != FW_OK) {
            free(q);
            return FW_ERR_INTERNAL;
        }
        if (ti.status != FW_MTASK_OPEN)
            continue;
        uint32_t taken = 0;
        for (uint32_t c = 0; c < w->n_creators && taken < cfg->quotes_per_task; c++) {
            uint32_t u = w->creator_user[c], f = fw_market_followers(S->engine, u);
            if (w->creator_niche[c] != ti.post.niche || f < ti.post.followers_min || f > ti.post.followers_max)
                continue;
            /* The creator's logged read rate (reads / impressions of their notes), smoothed. */
            double rate = (got[FW_UM_opens_received][u] + 1.0) / (got[FW_UM_impressions_received][u] + 12.0);
            fw_rng_seek(r, S->sc->seed, FW_RNG_TASK, u, (S->day + 1) << 20 | (t & 0xfffff));
            double price = f * cfg->quote_per_follower_cents * (rate / 0.08) * gsl_ran_lognormal(r, 0.0, 0.3);
            if (nq == capq) {
                capq = capq ? 2 * capq : 256;
                fw_quote *v = realloc(q, capq * sizeof *v);
                if (!v) {
                    free(q);
                    return FW_ERR_NOMEM;
                }
                q = v;
            }
            q[nq++] = (fw_quote){.task = t, .creator = u, .price_cents = price < 1.0 ? 1 : (int64_t)llround(price),
                                 .predicted_reads = f * rate};
            taken++;
        }
    }
    fw_market_match(S->engine, q, nq, now);
    free(q);
    return FW_OK;
}

/* ---- a tick ------------------------------------------------------------------------- */

static void k_sessions(void *arg, size_t b, size_t e, int slot)
{
    sim *S = arg;
    tbuf *tb = &S->tb[slot];
    fw_session_io io = {.engine = S->engine, .ctx = tb->ctx, .rng = tb->rng, .page = tb->page, .slots = tb->slots,
                        .page_cap = 0, .events = &tb->ev, .user_counts = S->aggs.v[period(S)],
                        .oracle_every = S->sc->output.oracle_every,
                        .oracle_corpus_every = S->sc->output.oracle_corpus_every,
                        .oracle_util = tb->oracle_util, .oracle_id = tb->oracle_id,
                        .oracle_cap = tb->oracle_cap, .srng = tb->srng, .clicks = &tb->clicks,
                        .shop_rng = tb->shop_rng, .shop = S->w.n_products ? &tb->shop : NULL,
                        .ads = S->w.n_campaigns ? &tb->ads : NULL,
                        .seed = S->sc->seed, .day = S->day};
    for (size_t i = b; i < e; i++) {
        uint32_t u = S->run_user[i], cell = live_cell(S, u);
        io.counters = &tb->counters[(size_t)S->cell_of[u] * FW_DC__COUNT];
        const fw_engine_cfg *ec = &S->cell_engine[cell];
        io.page_cap = ec->feed.page_size;
        if (ec->search.page_size > io.page_cap)
            io.page_cap = ec->search.page_size;
        if (ec->shop.page_size > io.page_cap)
            io.page_cap = ec->shop.page_size;
        S->ev_slot[i] = (uint32_t)slot;
        S->ev_lo[i] = tb->ev.n;
        S->ck_lo[i] = tb->clicks.n;
        S->sev_lo[i] = tb->shop.n_ev;
        S->ord_lo[i] = io.ord_begin = tb->shop.n_ord;
        S->ad_lo[i] = tb->ads.n;
        fw_rng_seek(tb->rng, S->sc->seed, FW_RNG_SESSION, u, (uint32_t)S->abs_tick);
        fw_rng_seek(tb->srng, S->sc->seed, FW_RNG_SEARCH, u, (uint32_t)S->abs_tick);
        fw_rng_seek(tb->shop_rng, S->sc->seed, FW_RNG_SHOP, u, (uint32_t)S->abs_tick);
        for (uint32_t k = 0; k < S->run_count[i] && !tb->oom; k++)
            if (fw_behaviour_session(&S->model[cell], &S->w, &S->us, u, cell, S->abs_tick,
                                     S->ev_lo[i], &io))
                tb->oom = 1;
        S->ev_hi[i] = tb->ev.n;
        S->ck_hi[i] = tb->clicks.n;
        S->sev_hi[i] = tb->shop.n_ev;
        S->ord_hi[i] = tb->shop.n_ord;
        S->ad_hi[i] = tb->ads.n;
    }
    tb->oracle_util = io.oracle_util;
    tb->oracle_id = io.oracle_id;
    tb->oracle_cap = io.oracle_cap;
}


/* ---- the shop at the barrier ------------------------------------------------------------ */

static int grow(void **v, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 256;
    while (c < need)
        c *= 2;
    void *n = realloc(*v, c * size);
    if (!n)
        return -1;
    *v = n;
    *cap = c;
    return 0;
}

/* The tick's shop events and checkouts, in the tick's user order. */
static fw_err merge_shop(sim *S, size_t n_runs)
{
    fw_shopbuf *m = &S->merged_shop;
    m->n_ev = m->n_ord = 0;
    S->merged_ads.n = 0;
    for (size_t i = 0; i < n_runs; i++) {
        const fw_shopbuf *src = &S->tb[S->ev_slot[i]].shop;
        size_t na = S->ad_hi[i] - S->ad_lo[i];
        if (na) {
            fw_adbuf *ma = &S->merged_ads;
            if (grow((void **)&ma->v, &ma->cap, ma->n + na, sizeof *ma->v))
                return FW_ERR_NOMEM;
            memcpy(&ma->v[ma->n], &S->tb[S->ev_slot[i]].ads.v[S->ad_lo[i]], na * sizeof *ma->v);
            ma->n += na;
        }
        size_t ne = S->sev_hi[i] - S->sev_lo[i], no = S->ord_hi[i] - S->ord_lo[i];
        if (ne) {   /* (most users shop nothing: their buffers may not exist yet) */
            if (grow((void **)&m->ev, &m->cap_ev, m->n_ev + ne, sizeof *m->ev))
                return FW_ERR_NOMEM;
            memcpy(&m->ev[m->n_ev], &src->ev[S->sev_lo[i]], ne * sizeof *m->ev);
            m->n_ev += ne;
        }
        if (no) {
            size_t cap = m->cap_ord;
            if (grow((void **)&m->ord, &cap, m->n_ord + no, sizeof *m->ord) ||
                grow((void **)&m->src, &m->cap_ord, m->n_ord + no, 1))
                return FW_ERR_NOMEM;
            memcpy(&m->ord[m->n_ord], &src->ord[S->ord_lo[i]], no * sizeof *m->ord);
            memcpy(&m->src[m->n_ord], &src->src[S->ord_lo[i]], no);
            m->n_ord += no;
        }
    }
    return FW_OK;
}

static inline uint64_t *cell_counter(sim *S, uint32_t user, fw_day_counter k)
{
    return &S->tb[0].counters[(size_t)S->cell_of[user] * FW_DC__COUNT + k];
}

static void give_back(sim *S, uint32_t user, int64_t cents)
{
    int64_t *sp = &S->us.spent_cents[user];
    *sp = *sp > cents ? *sp - cents : 0;
}

/* Ad events, in user order, before the note events: the ad model trains on the state the
 * tick's requests saw, and billing goes against the budgets by rule. */
static fw_err ads_barrier(sim *S, const fw_record *rec, size_t n)
{
    uint32_t *const *uc = S->aggs.v[period(S)];
    for (size_t k = 0; k < n; k++) {
        if (rec[k].kind != FW_RECORD_AD_EVENT)
            continue;
        const fw_ad_event *ev = &rec[k].u.ad.ev;
        int64_t billed = rec[k].u.ad.billed_mc;
        *cell_counter(S, ev->user, FW_DC_ad_revenue_millicents) += (uint64_t)billed;
        uint64_t r = (uint64_t)uc[FW_UM_ad_revenue_millicents][ev->user] + (uint64_t)billed;
        uc[FW_UM_ad_revenue_millicents][ev->user] = r > UINT32_MAX ? UINT32_MAX : (uint32_t)r;
    }
    return FW_OK;
}

/* Shop events, checkouts (in user order; the engine serves them by its contention rule),
 * then the returns due this tick. */
static fw_err shop_barrier(sim *S, const fw_record *rec, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        if (rec[k].kind == FW_RECORD_RETURN) {
            if (rec[k].u.ret.result != FW_OK)
                return FW_ERR_INTERNAL;   /* decided inside the window: the shop must accept it */
            continue;
        }
        if (rec[k].kind != FW_RECORD_ORDER)
            continue;
        const fw_order_req *q = &rec[k].u.order.req;
        const fw_order_outcome *o = &rec[k].u.order.out;
        switch (o->result) {
        case FW_ORDER_OK:
            if (grow((void **)&S->order_src, &S->order_src_cap, (size_t)o->order + 1, 1))
                return FW_ERR_NOMEM;
            S->order_src[o->order] = (uint8_t)rec[k].aux;
            break;
        case FW_ORDER_DUPLICATE:
            (*cell_counter(S, q->user, FW_DC_duplicate_requests))++;
            break;
        case FW_ORDER_NO_STOCK:
            (*cell_counter(S, q->user, FW_DC_stockout_rejections))++;
            give_back(S, q->user, S->w.product_price_cents[q->product] * (int64_t)q->qty);
            break;
        default:
            return FW_ERR_INTERNAL;   /* the simulator sent a request the shop cannot read */
        }
    }
    return FW_OK;
}

/* The tick's log in one array: ads, note events, clicks, shop events, checkouts, returns due. */
static fw_err build_records(sim *S, size_t *out_n)
{
    size_t n = S->merged_ads.n + S->merged.n + S->merged_clicks.n + S->merged_shop.n_ev + S->merged_shop.n_ord +
               S->n_returns;
    if (grow((void **)&S->recs, &S->recs_cap, n + 1, sizeof *S->recs))
        return FW_ERR_NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < S->merged_ads.n; i++)
        S->recs[k++] = (fw_record){.kind = FW_RECORD_AD_EVENT, .u.ad.ev = S->merged_ads.v[i]};
    for (size_t i = 0; i < S->merged.n; i++)
        S->recs[k++] = (fw_record){.kind = FW_RECORD_EVENT, .u.ev = S->merged.v[i]};
    for (size_t i = 0; i < S->merged_clicks.n; i++)
        S->recs[k++] = (fw_record){.kind = FW_RECORD_SEARCH_CLICK, .u.click = S->merged_clicks.v[i]};
    for (size_t i = 0; i < S->merged_shop.n_ev; i++)
        S->recs[k++] = (fw_record){.kind = FW_RECORD_SHOP_EVENT, .u.shop = S->merged_shop.ev[i]};
    for (size_t i = 0; i < S->merged_shop.n_ord; i++)
        S->recs[k++] = (fw_record){.kind = FW_RECORD_ORDER, .aux = S->merged_shop.src[i],
                                   .u.order.req = S->merged_shop.ord[i]};
    /* Returns decided earlier whose day has come, in the order they were decided. */
    size_t keep = 0;
    for (size_t i = 0; i < S->n_returns; i++) {
        pending_return *r = &S->returns[i];
        if (r->tick > S->abs_tick) {
            S->returns[keep++] = *r;
            continue;
        }
        S->recs[k++] = (fw_record){.kind = FW_RECORD_RETURN,
                                   .u.ret = {.order = r->order, .user = r->user, .tick = S->abs_tick}};
    }
    S->n_returns = keep;
    *out_n = k;
    return FW_OK;
}

/* Counts the shop's lifecycle changes of this tick per cell, and lets each buyer decide at
 * delivery whether (and when, within the window) to return the product. */
static fw_err shop_changes(sim *S)
{
    size_t n;
    const fw_order_change *ch = fw_shop_changes(S->engine, &n);
    uint32_t *const *uc = S->aggs.v[period(S)];
    for (size_t k = 0; k < n; k++) {
        const fw_order_change *c = &ch[k];
        uint32_t u = c->user;
        switch (c->kind) {
        case FW_OC_CREATED: (*cell_counter(S, u, FW_DC_orders))++; break;
        case FW_OC_PAY_FAILED: (*cell_counter(S, u, FW_DC_payment_failures))++; break;
        case FW_OC_PAID: {
            static const fw_day_counter by_src[FW_SRC__COUNT] = {FW_DC_paid_from_feed, FW_DC_paid_from_search,
                                                                 FW_DC_paid_from_shop};
            (*cell_counter(S, u, FW_DC_paid_orders))++;
            *cell_counter(S, u, FW_DC_gmv_cents) += (uint64_t)c->value_cents;
            uint8_t src = c->order < S->order_src_cap ? S->order_src[c->order] : FW_SRC_SHOP;
            (*cell_counter(S, u, by_src[src < FW_SRC__COUNT ? src : FW_SRC_SHOP]))++;
            if (!S->us.bought_today[u]) {
                S->us.bought_today[u] = 1;
                (*cell_counter(S, u, FW_DC_buyers))++;
            }
            uc[FW_UM_paid_orders][u]++;
            uint64_t g = (uint64_t)uc[FW_UM_gmv_cents][u] + (uint64_t)c->value_cents;
            uc[FW_UM_gmv_cents][u] = g > UINT32_MAX ? UINT32_MAX : (uint32_t)g;
            break;
        }
        case FW_OC_CANCELLED:
            (*cell_counter(S, u, FW_DC_cancelled_orders))++;
            give_back(S, u, c->value_cents);
            break;
        case FW_OC_SHIPPED: (*cell_counter(S, u, FW_DC_shipped_orders))++; break;
        case FW_OC_DELIVERED: {
            (*cell_counter(S, u, FW_DC_delivered_orders))++;
            const fw_behaviour_model *m = &S->model[live_cell(S, u)];
            gsl_rng *r = S->tb[0].shop_rng;
            fw_rng_seek(r, S->sc->seed, FW_RNG_RETURN, c->order, 0);
            uint32_t window = S->cell_engine[c->arm].shop.return_days * S->tpd;
            if (window > 0 && gsl_rng_uniform(r) < fw_behaviour_p_return(m, &S->w, u, c->product)) {
                int32_t at = c->tick + 1 + (int32_t)gsl_rng_uniform_int(r, window);
                if (grow((void **)&S->returns, &S->returns_cap, S->n_returns + 1, sizeof *S->returns))
                    return FW_ERR_NOMEM;
                S->returns[S->n_returns++] = (pending_return){at, c->order, u};
            }
            break;
        }
        case FW_OC_RETURNED: (*cell_counter(S, u, FW_DC_returns))++; break;
        case FW_OC_REFUNDED:
            (*cell_counter(S, u, FW_DC_refunds))++;
            *cell_counter(S, u, FW_DC_refund_cents) += (uint64_t)c->value_cents;
            give_back(S, u, c->value_cents);
            break;
        }
    }
    fw_shop_clear_changes(S->engine);
    /* Purchases the platform attributed to an ad at the tick's end. */
    size_t n_conv;
    const fw_ad_conversion *conv = fw_ads_conversions(S->engine, &n_conv);
    for (size_t k = 0; k < n_conv; k++) {
        uint32_t u = conv[k].user;
        (*cell_counter(S, u, FW_DC_ad_conversions))++;
        *cell_counter(S, u, FW_DC_ad_revenue_millicents) += (uint64_t)conv[k].billed_mc;
        uint64_t r = (uint64_t)uc[FW_UM_ad_revenue_millicents][u] + (uint64_t)conv[k].billed_mc;
        uc[FW_UM_ad_revenue_millicents][u] = r > UINT32_MAX ? UINT32_MAX : (uint32_t)r;
    }
    return FW_OK;
}

/* Day end: brands restock sold-out products (each on a day with probability
 * 1 / world.restock_days) to their initial stock, and the books are checked. */
/* The engine's day series of a capability into v (zeros when it is off). */
static void engine_series(const sim *S, const char *name, int64_t *v, uint32_t n)
{
    memset(v, 0, n * sizeof *v);
    for (uint32_t k = 0; k < fw_engine_n_series_groups(S->engine); k++) {
        fw_series_group g;
        if (fw_engine_series(S->engine, k, &g) == FW_OK && strcmp(g.name, name) == 0 && g.n == n)
            memcpy(v, g.values, n * sizeof *v);
    }
}

static fw_err shop_end_day(sim *S, int64_t *series)
{
    fw_err rc;
    engine_series(S, "shop", series, FW_SS__COUNT);
    /* Per-brand sales: each cell's sales count for every arm the cell is part of. */
    size_t nb = S->w.n_brands;
    memset(S->brand_units, 0, (size_t)S->n_arms * nb * sizeof *S->brand_units);
    memset(S->brand_rev, 0, (size_t)S->n_arms * nb * sizeof *S->brand_rev);
    for (uint32_t c = 0; c < S->n_cells; c++)
        for (uint32_t b = 0; b < nb; b++) {
            int64_t units, rev;
            if (fw_shop_brand_sales(S->engine, b, c, &units, &rev) != FW_OK)
                return FW_ERR_INTERNAL;
            for (uint32_t l = 0; l < S->asg.n_layers; l++) {
                size_t at = (size_t)S->asg.cell_arm[c][l] * nb + b;
                S->brand_units[at] += units;
                S->brand_rev[at] += rev;
            }
        }
    double days = S->sc->world.restock_days;
    gsl_rng *r = S->tb[0].shop_rng;
    for (uint32_t p = 0; p < S->w.n_products; p++) {
        fw_product_stock st;
        if (fw_shop_stock(S->engine, p, &st) != FW_OK)
            return FW_ERR_INTERNAL;
        if (st.available > 0)
            continue;
        if (days <= 0.0)
            continue;
        fw_rng_seek(r, S->sc->seed, FW_RNG_RESTOCK, p, S->day);
        if (gsl_rng_uniform(r) < 1.0 / days && S->w.product_stock[p] > 0 &&
            (rc = fw_shop_restock(S->engine, p, S->w.product_stock[p], S->abs_tick)) != FW_OK)
            return rc;
    }
    if ((S->day + 1) % 30 == 0)   /* a new month: budgets start over */
        memset(S->us.spent_cents, 0, (size_t)S->w.n_users * sizeof *S->us.spent_cents);
    return FW_OK;
}

static fw_err run_tick(sim *S, uint32_t t, size_t *pend_at)
{
    S->abs_tick = (int32_t)(S->day * S->tpd + t);
    /* Distinct users of the tick, with their session counts. */
    size_t n_runs = 0;
    for (uint64_t k = S->tick_off[t]; k < S->tick_off[t + 1]; k++) {
        uint32_t u = S->tick_user[k];
        if (n_runs && S->run_user[n_runs - 1] == u) {
            S->run_count[n_runs - 1]++;
        } else {
            S->run_user[n_runs] = u;
            S->run_count[n_runs++] = 1;
        }
    }
    fw_par_for(n_runs, 16, k_sessions, S);
    for (int s = 0; s < S->n_threads; s++)
        if (S->tb[s].oom)
            return FW_ERR_NOMEM;

    /* Barrier: events in user order. */
    S->merged.n = 0;
    uint32_t *const *got = S->aggs.v[period(S)];   /* what creators receive, this period */
    for (size_t i = 0; i < n_runs; i++) {
        const fw_evbuf *src = &S->tb[S->ev_slot[i]].ev;
        for (size_t k = S->ev_lo[i]; k < S->ev_hi[i]; k++) {
            const fw_event *x = &src->v[k];
            if (fw_evbuf_push(&S->merged, x->user, x->note, x->tick, x->type))
                return FW_ERR_NOMEM;
            uint32_t cu = S->w.note_info[x->note].creator;
            if (x->type & FW_EV_SEARCH)
                continue;   /* search engagement: for the engine, not the feed's exposure or creators' counts */
            if (x->type == FW_EV_IMPRESSION) {
                uint32_t cell = S->cell_of[x->user];
                if (S->w.n_followers[cu] < 10)
                    S->tb[0].counters[(size_t)cell * FW_DC__COUNT + FW_DC_small_creator_impressions]++;
                int32_t ci = S->w.creator_of[cu];
                for (uint32_t l = 0; l < S->asg.n_layers; l++) {
                    uint32_t a = S->asg.cell_arm[cell][l];
                    S->shown[(size_t)a * S->shown_words + x->note / 64] |= UINT64_C(1) << (x->note % 64);
                    if (ci >= 0)
                        S->creator_impr[(size_t)a * S->w.n_creators + (uint32_t)ci]++;
                }
            }
            switch (x->type) {
            case FW_EV_IMPRESSION: got[FW_UM_impressions_received][cu]++; break;
            case FW_EV_OPEN: got[FW_UM_opens_received][cu]++; break;
            case FW_EV_FOLLOW: got[FW_UM_follows_received][cu]++; break;
            default: got[FW_UM_interactions_received][cu]++; break;
            }
            if (x->type == FW_EV_FOLLOW) {
                if (fw_u32list_push(&S->us.new_follows[x->user], cu))
                    return FW_ERR_NOMEM;
                S->w.n_followers[cu]++;
            }
        }
    }
    /* Search clicks, in the same user order. */
    S->merged_clicks.n = 0;
    for (size_t i = 0; i < n_runs; i++) {
        const fw_clickbuf *src = &S->tb[S->ev_slot[i]].clicks;
        for (size_t k = S->ck_lo[i]; k < S->ck_hi[i]; k++) {
            if (S->merged_clicks.n == S->merged_clicks.cap) {
                size_t cap = S->merged_clicks.cap ? 2 * S->merged_clicks.cap : 1024;
                fw_search_click *v = realloc(S->merged_clicks.v, cap * sizeof *v);
                if (!v)
                    return FW_ERR_NOMEM;
                S->merged_clicks.v = v;
                S->merged_clicks.cap = cap;
            }
            S->merged_clicks.v[S->merged_clicks.n++] = src->v[k];
        }
    }
    if (merge_shop(S, n_runs) != FW_OK)
        return FW_ERR_NOMEM;
    for (int s = 0; s < S->n_threads; s++) {
        S->tb[s].ev.n = 0;
        S->tb[s].clicks.n = 0;
        S->tb[s].shop.n_ev = S->tb[s].shop.n_ord = 0;
        S->tb[s].ads.n = 0;
    }
    fw_engine_ctx *ctx0 = S->tb[0].ctx;
    size_t n_recs;
    fw_err rc = build_records(S, &n_recs);
    if (rc != FW_OK)
        return rc;
    if ((rc = fw_engine_log(S->engine, ctx0, S->recs, n_recs)) != FW_OK) {
        fprintf(stderr, "\nflywheel: %s\n", fw_engine_error(S->engine));
        return rc;
    }
    if ((rc = ads_barrier(S, S->recs, n_recs)) != FW_OK || (rc = shop_barrier(S, S->recs, n_recs)) != FW_OK)
        return rc;

    /* Notes written during this tick go live at its end. */
    while (*pend_at < S->n_pend && S->pend[*pend_at].tick == (int32_t)t) {
        const pending_note *p = &S->pend[(*pend_at)++];
        uint32_t wid, eid;
        fw_publication pub = {.info = p->note.info, .terms = p->note.terms, .product = p->note.product,
                              .task = p->task};
        if ((rc = fw_world_add_note(&S->w, &p->note, &S->pend_emb[p->emb_at], &wid)) != FW_OK ||
            (rc = fw_engine_publish_note(S->engine, ctx0, &pub, &eid)) != FW_OK)
            return rc;
        if (wid != eid)
            return FW_ERR_INTERNAL;
        uint32_t cell = S->cell_of[p->note.info.creator];
        S->tb[0].counters[(size_t)cell * FW_DC__COUNT + FW_DC_new_notes]++;
        S->aggs.v[period(S)][FW_UM_notes_published][p->note.info.creator]++;
    }
    if ((rc = fw_engine_end_tick(S->engine, ctx0, S->abs_tick)) != FW_OK)
        return rc;
    return shop_changes(S);
}

static void concentration(uint32_t *v, size_t n, double top, double *gini, double *share);

/* The marketplace at the day's end (after the engine's: settled): the books, the income
 * concentration over creators who earned, and the tasks' table. */
static fw_err market_day_end(sim *S, int64_t *series)
{
    engine_series(S, "market", series, FW_MS__COUNT);
    uint32_t nt = fw_market_n_tasks(S->engine);
    free(S->task_cols);
    if (!(S->task_cols = malloc(((size_t)nt * FW_MF__COUNT + 1) * sizeof *S->task_cols)))
        return FW_ERR_NOMEM;
    for (uint32_t k = 0; k < nt; k++) {
        fw_task_info ti;
        if (fw_market_task(S->engine, k, &ti) != FW_OK)
            return FW_ERR_INTERNAL;
        int64_t v[FW_MF__COUNT] = {
            [FW_MF_brand] = ti.post.brand, [FW_MF_niche] = ti.post.niche,
            [FW_MF_budget_cents] = ti.post.budget_cents, [FW_MF_status] = ti.status,
            [FW_MF_creator] = ti.creator == FW_NONE ? -1 : (int64_t)ti.creator,
            [FW_MF_price_cents] = ti.price_cents,
            [FW_MF_note] = ti.note == FW_NONE ? -1 : (int64_t)ti.note,
            [FW_MF_impressions] = (int64_t)ti.impressions, [FW_MF_reads] = (int64_t)ti.reads,
            [FW_MF_interactions] = (int64_t)ti.interactions, [FW_MF_saves] = (int64_t)ti.saves};
        for (int f = 0; f < FW_MF__COUNT; f++)
            S->task_cols[(size_t)f * nt + k] = v[f];
    }
    return FW_OK;
}

/* The ads' day: the engine's books, and per-brand spend and attributed GMV. */
static fw_err ads_end_day(sim *S, int64_t *series)
{
    engine_series(S, "ads", series, FW_AS__COUNT);
    for (uint32_t b = 0; b < S->w.n_brands; b++)
        if (fw_ads_brand_books(S->engine, b, &S->brand_ad_spend_cents[b], &S->brand_ad_gmv[b]) != FW_OK)
            return FW_ERR_INTERNAL;
    return FW_OK;
}

/* Clears the day's exposure record, sized for every note that can exist by its end. */
static fw_err exposure_reset(sim *S)
{
    size_t words = ((size_t)S->w.n_notes + S->n_pend + 63) / 64;
    if (words > S->shown_words) {
        uint64_t *b = realloc(S->shown, (size_t)S->n_arms * words * sizeof *b);
        if (!b)
            return FW_ERR_NOMEM;
        S->shown = b;
        S->shown_words = words;
    }
    memset(S->shown, 0, (size_t)S->n_arms * S->shown_words * sizeof *S->shown);
    if (!S->creator_impr &&
        (!(S->creator_impr = malloc(((size_t)S->n_arms * S->w.n_creators + 1) * sizeof *S->creator_impr)) ||
         !(S->gini_scratch = malloc(((size_t)S->w.n_creators + 1) * sizeof *S->gini_scratch))))
        return FW_ERR_NOMEM;
    memset(S->creator_impr, 0, (size_t)S->n_arms * S->w.n_creators * sizeof *S->creator_impr);
    return FW_OK;
}

static int cmp_u32_asc(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Per-arm coverage and creator concentration of the day: integer counters, so exact. The
 * Gini of x over n creators is (2 sum_i i x_(i) - (n + 1) sum x) / (n sum x), i = 1..n
 * ascending. */
static void exposure_counters(sim *S, uint64_t *day_counters)
{
    uint32_t nc = S->w.n_creators;
    for (uint32_t a = 0; a < S->n_arms; a++) {
        uint64_t *c = &day_counters[(size_t)a * FW_DC__COUNT];
        uint64_t shown = 0;
        for (size_t k = 0; k < S->shown_words; k++)
            shown += (uint64_t)__builtin_popcountll(S->shown[(size_t)a * S->shown_words + k]);
        c[FW_DC_notes_shown] = shown;
        c[FW_DC_notes_live] = S->w.n_notes;
        memcpy(S->gini_scratch, &S->creator_impr[(size_t)a * nc], (size_t)nc * sizeof *S->gini_scratch);
        qsort(S->gini_scratch, nc, sizeof *S->gini_scratch, cmp_u32_asc);
        uint64_t sum = 0, weighted = 0;
        for (uint32_t i = 0; i < nc; i++) {
            sum += S->gini_scratch[i];
            weighted += (uint64_t)(i + 1) * S->gini_scratch[i];
        }
        c[FW_DC_gini_num] = 2 * weighted - ((uint64_t)nc + 1) * sum;
        c[FW_DC_gini_den] = (uint64_t)nc * sum;
    }
}

static void k_end_day(void *arg, size_t b, size_t e, int slot)
{
    sim *S = arg;
    (void)slot;
    for (size_t u = b; u < e; u++)
        fw_behaviour_end_day(&S->model[live_cell(S, (uint32_t)u)], &S->w, &S->us, (uint32_t)u);
}

/* Users judge today's feed against what they have come to expect: the population's CTR.
 * Day 0 sets the expectation; later days move it by expectation_adaptation. Computed from
 * integer totals, so it is the same for any thread count. */
static void update_expectation(sim *S, const uint64_t *cell_counters)
{
    uint64_t opens = 0, impressions = 0;
    for (uint32_t c = 0; c < S->n_cells; c++) {
        opens += cell_counters[(size_t)c * FW_DC__COUNT + FW_DC_opens];
        impressions += cell_counters[(size_t)c * FW_DC__COUNT + FW_DC_impressions];
    }
    if (impressions == 0)
        return;
    double ctr = (double)opens / (double)impressions;
    if (S->us.expected_ctr <= 0.0)
        S->us.expected_ctr = ctr;
    else
        S->us.expected_ctr += S->sc->world.expectation_adaptation * (ctr - S->us.expected_ctr);
}

/* ---- world summary ---------------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Gini coefficient and the share held by the top `top` fraction of a sorted sample. */
static void concentration(uint32_t *v, size_t n, double top, double *gini, double *share)
{
    *gini = *share = 0.0;
    if (n == 0)
        return;
    qsort(v, n, sizeof *v, cmp_u32);
    double sum = 0.0, weighted = 0.0;
    for (size_t i = 0; i < n; i++) {
        sum += v[i];
        weighted += (double)(i + 1) * v[i];
    }
    if (sum <= 0.0)
        return;
    *gini = (2.0 * weighted) / (n * sum) - (n + 1.0) / n;
    size_t k = (size_t)ceil(top * n), i0 = n - (k ? k : 1);
    double s = 0.0;
    for (size_t i = i0; i < n; i++)
        s += v[i];
    *share = s / sum;
}

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
    concentration(v, nc, 0.01, &info->follower_gini, &info->top1pct_follower_share);
    for (uint32_t n = 0; n < w->n_notes; n++)
        notes[w->creator_of[w->note_info[n].creator]]++;
    concentration(notes, nc, 0.10, &g, &info->top10pct_creator_note_share);
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

/* ---- the run ------------------------------------------------------------------------ */

/* The progress line: redrawn at most twice a second, from tick ends. */
static void progress(const fw_run_opts *o, uint32_t day, uint32_t tick, uint32_t tpd,
                     uint32_t days, double t0, uint64_t sessions_done, double *last)
{
    double now = now_s();
    if (!o->progress || (now - *last < 0.5 && tick + 1 < tpd))
        return;
    *last = now;
    double el = now - t0, done = day + (tick + 1.0) / tpd;
    double eta = done > 0 ? el / done * (days - done) : 0.0;
    fprintf(stderr, "\r\033[Kday %u/%u tick %u/%u  %.0f sessions/s  ETA %.0f s", day + 1, days,
            tick + 1, tpd, el > 0 ? sessions_done / el : 0.0, eta);
    fflush(stderr);
}

static void summary(const fw_scenario *sc, const sim *S, const uint64_t *totals,
                    const fw_run_report *rep, FILE *out)
{
    if (!out)
        return;
    fprintf(out, "flywheel: %s '%s': %u of %u days, %u users, %d thread%s, %.1f s "
                 "(world %.1f s), peak memory %.0f MiB\n",
            rep->interrupted ? "INTERRUPTED" : "ran", sc->name, rep->days_done, sc->days,
            S->w.n_users, S->n_threads, S->n_threads == 1 ? "" : "s", rep->wall_s,
            rep->generation_s, rep->peak_rss_mb);
    fprintf(out, "  %-12s %9s %9s %8s %8s %8s %8s %9s\n", "arm", "DAU", "sessions", "CTR",
            "int/read", "fol/read", "retain", "new notes");
    for (uint32_t a = 0; a < S->n_arms; a++) {
        const uint64_t *c = &totals[(size_t)a * FW_DC__COUNT];
        double r[FW_DR__COUNT];
        fw_metrics_rates(c, r);
        double days = rep->days_done ? rep->days_done : 1;
        fprintf(out, "  %-12s %9.0f %9.0f %7.2f%% %7.2f%% %7.3f%% %8.3f %9.0f\n",
                sc->arms[a].name, c[FW_DC_active_users] / days, c[FW_DC_sessions] / days,
                100 * r[FW_DR_ctr], 100 * r[FW_DR_interactions_per_read],
                100 * r[FW_DR_follows_per_read], r[FW_DR_retention], c[FW_DC_new_notes] / days);
    }
    fprintf(out, "  %-12s %9s %11s %9s %9s %9s %8s\n", "shop", "orders", "GMV (CNY)", "buyers",
            "clk->buy", "cart->buy", "refunds");
    for (uint32_t a = 0; a < S->n_arms; a++) {
        const uint64_t *c = &totals[(size_t)a * FW_DC__COUNT];
        double r[FW_DR__COUNT];
        fw_metrics_rates(c, r);
        double days = rep->days_done ? rep->days_done : 1;
        fprintf(out, "  %-12s %9.0f %11.0f %9.0f %8.2f%% %8.1f%% %8.0f\n", sc->arms[a].name,
                c[FW_DC_paid_orders] / days, c[FW_DC_gmv_cents] / 100.0 / days, c[FW_DC_buyers] / days,
                100 * r[FW_DR_click_to_purchase], 100 * r[FW_DR_cart_to_purchase], c[FW_DC_refunds] / days);
    }
    fprintf(out, "  (per-day means; rates over all days)\n");
    fprintf(out, "  throughput: %.0f user-sessions/s\n",
            rep->sim_s > 0 ? rep->sessions / rep->sim_s : 0.0);
    fprintf(out, "  result: %s\n", rep->result_path);
}

/* One simulation. It records to o->output_path when that is set (with the replicates'
 * tables reps[0..n_reps), whose slot 0 is this run's own, kept current in *exp_out), and
 * otherwise only leaves its final experiment table in *exp_out. */
static fw_err run_one(const fw_scenario *sc, const fw_run_opts *o, fw_run_report *rep,
                      fw_exp_table *exp_out, uint32_t n_reps, const uint64_t *rep_seeds,
                      const fw_exp_table *reps)
{
    double t_start = now_s();
    sim S_ = {0}, *S = &S_;
    fw_recorder *rec = NULL;
    fw_hist day_lat[FW_STAGE__COUNT];
    uint64_t *day_counters = NULL, *cell_counters = NULL, *totals = NULL;
    char *resolved = NULL, *overrides = NULL;
    size_t resolved_len = 0;
    char errbuf[512];
    fw_err rc = FW_ERR_NOMEM;
    memset(day_lat, 0, sizeof day_lat);
    memset(rep, 0, sizeof *rep);

    S->sc = sc;
    S->n_arms = sc->n_arms;
    S->tpd = sc->world.ticks_per_day;
    fw_par_set_threads(o->threads);
    S->n_threads = fw_par_threads();

    /* The world. */
    if ((rc = fw_world_generate(&sc->world, sc->seed, &S->w)) != FW_OK) {
        fprintf(stderr, "flywheel: generating the world failed: %s\n", fw_err_str(rc));
        goto out;
    }
    rep->generation_s = now_s() - t_start;
    double gen_rss = peak_rss_mb();
    rc = FW_ERR_NOMEM;
    if (fw_users_state_init(&S->us, S->w.n_users) != FW_OK)
        goto oom;
    if ((rc = fw_assignment_init(&S->asg, sc, &S->w)) != FW_OK) {
        fprintf(stderr, "flywheel: assigning arms failed: %s\n", fw_err_str(rc));
        goto out;
    }
    rc = FW_ERR_NOMEM;
    S->n_cells = S->asg.n_cells;
    S->cell_of = S->asg.cell_of_user;
    if (!(S->model = calloc(S->n_cells, sizeof *S->model)) ||
        !(S->cell_engine = calloc(S->n_cells, sizeof *S->cell_engine)) ||
        fw_user_aggs_init(&S->aggs, S->w.n_users) != FW_OK)
        goto oom;
    /* A cell's configuration: the base plus the overrides of its arm in every layer (the
     * layers set disjoint keys, so their order does not matter). */
    for (uint32_t c = 0; c < S->n_cells; c++) {
        fw_behaviour_cfg b = sc->behaviour;
        fw_engine_cfg e = sc->engine;
        fw_diag diag;
        for (uint32_t l = 0; l < S->asg.n_layers; l++) {
            const fw_arm *arm = &sc->arms[S->asg.cell_arm[c][l]];
            if ((rc = fw_scenario_apply(arm->set, arm->n_set, &b, &e, &diag)) != FW_OK) {
                fprintf(stderr, "flywheel: %s\n", diag.msg);
                goto out;
            }
        }
        S->cell_engine[c] = e;
        fw_behaviour_calibrate(&S->model[c], &b, &S->w, sc->seed);
    }
    rc = FW_ERR_NOMEM;

    /* The engine sees the catalog: notes as published and who follows whom. */
    fw_catalog cat = {.n_users = S->w.n_users, .n_topics = S->w.n_topics, .ticks_per_day = S->tpd,
                      .n_notes = S->w.n_notes, .notes = S->w.note_info,
                      .follow_offsets = S->w.follow_off, .follows = S->w.follow_dst,
                      .n_terms = S->w.n_terms, .note_terms = S->w.note_terms,
                      .n_brands = S->w.n_brands, .n_products = S->w.n_products,
                      .note_products = S->w.note_product,
                      .n_campaigns = S->w.n_campaigns, .campaigns = S->w.campaigns};
    /* Producer-side: notes are scored under their creator's cell once the pre-period ends;
     * until then under the control cell (the engine starts with every creator in cell 0). */
    uint8_t *producer0 = NULL;
    if (sc->experiment_unit == FW_UNIT_CREATOR) {
        if (!(producer0 = calloc(S->w.n_users, 1)))
            goto oom;
        cat.producer_arm = sc->experiment_pre_days > 0 ? producer0 : S->cell_of;
    }
    fw_product_info *products = malloc(((size_t)S->w.n_products + 1) * sizeof *products);
    if (!products)
        goto oom;
    for (uint32_t p = 0; p < S->w.n_products; p++)
        products[p] = (fw_product_info){.brand = S->w.product_brand[p], .category = S->w.product_category[p],
                                        .price_cents = S->w.product_price_cents[p],
                                        .stock = S->w.product_stock[p]};
    cat.products = products;
    S->engine = fw_engine_create(&cat, S->cell_engine, S->n_cells, &rc);
    free(products);
    free(producer0);
    if (!S->engine) {
        fprintf(stderr, "flywheel: creating the engine failed: %s\n", fw_err_str(rc));
        goto out;
    }
    if (o->plant_ns > 0 &&
        (rc = fw_engine_plant_delay(S->engine, (fw_stage)o->plant_stage, o->plant_ns)) != FW_OK) {
        fprintf(stderr, "flywheel: cannot plant a delay in stage %s\n", fw_stage_name((fw_stage)o->plant_stage));
        goto out;
    }
    rc = FW_ERR_NOMEM;
    if (tbufs_create(S) != FW_OK || !(S->text_rng = fw_rng_create(sc->seed, FW_RNG_TEXT, 0, 0)))
        goto oom;

    double tick_w[1440];
    for (uint32_t t = 0; t < S->tpd; t++)
        tick_w[t] = hourly_weight[(t * 24) / S->tpd];
    if (!(S->tick_pick = gsl_ran_discrete_preproc(S->tpd, tick_w)))
        goto oom;
    if (!(S->sess_n = calloc(S->w.n_users, sizeof *S->sess_n)) ||
        !(S->sess_off = calloc((size_t)S->w.n_users + 1, sizeof *S->sess_off)) ||
        !(S->tick_off = calloc((size_t)S->tpd + 1, sizeof *S->tick_off)))
        goto oom;
    S->run_cap = S->w.n_users;
    if (!(S->run_user = malloc(S->run_cap * sizeof *S->run_user)) ||
        !(S->run_count = malloc(S->run_cap * sizeof *S->run_count)) ||
        !(S->ev_slot = malloc(S->run_cap * sizeof *S->ev_slot)) ||
        !(S->ev_lo = malloc(S->run_cap * sizeof *S->ev_lo)) ||
        !(S->ev_hi = malloc(S->run_cap * sizeof *S->ev_hi)) ||
        !(S->ck_lo = malloc(S->run_cap * sizeof *S->ck_lo)) ||
        !(S->ck_hi = malloc(S->run_cap * sizeof *S->ck_hi)) ||
        !(S->sev_lo = malloc(S->run_cap * sizeof *S->sev_lo)) ||
        !(S->sev_hi = malloc(S->run_cap * sizeof *S->sev_hi)) ||
        !(S->ord_lo = malloc(S->run_cap * sizeof *S->ord_lo)) ||
        !(S->ord_hi = malloc(S->run_cap * sizeof *S->ord_hi)) ||
        !(S->ad_lo = malloc(S->run_cap * sizeof *S->ad_lo)) ||
        !(S->ad_hi = malloc(S->run_cap * sizeof *S->ad_hi)) ||
        !(S->brand_ad_spend = calloc((size_t)S->w.n_brands + 1, sizeof *S->brand_ad_spend)) ||
        !(S->brand_ad_gmv = calloc((size_t)S->w.n_brands + 1, sizeof *S->brand_ad_gmv)) ||
        !(S->brand_ad_spend_cents = calloc((size_t)S->w.n_brands + 1, sizeof *S->brand_ad_spend_cents)) ||
        !(S->ad_mid_spend = calloc((size_t)S->w.n_campaigns + 1, sizeof *S->ad_mid_spend)) ||
        !(S->ad_over_prev = calloc((size_t)S->w.n_campaigns + 1, sizeof *S->ad_over_prev)))
        goto oom;
    for (int s = 0; s < FW_STAGE__COUNT; s++)
        if (fw_hist_init(&day_lat[s], fw_engine_ctx_latency(S->tb[0].ctx, s)->lowest,
                         fw_engine_ctx_latency(S->tb[0].ctx, s)->highest,
                         fw_engine_ctx_latency(S->tb[0].ctx, s)->sigfigs) != FW_OK)
            goto oom;
    if (!(S->brand_units = calloc((size_t)S->n_arms * S->w.n_brands + 1, sizeof *S->brand_units)) ||
        !(S->brand_rev = calloc((size_t)S->n_arms * S->w.n_brands + 1, sizeof *S->brand_rev)))
        goto oom;
    if (!(day_counters = calloc((size_t)S->n_arms * FW_DC__COUNT, sizeof *day_counters)) ||
        !(cell_counters = calloc((size_t)S->n_cells * FW_DC__COUNT, sizeof *cell_counters)) ||
        !(totals = calloc((size_t)S->n_arms * FW_DC__COUNT, sizeof *totals)))
        goto oom;

    /* Provenance. */
    FILE *mem = open_memstream(&resolved, &resolved_len);
    if (!mem)
        goto oom;
    fw_scenario_write_yaml(sc, mem, 0);
    fclose(mem);
    size_t ov_len = 1;
    for (uint32_t k = 0; k < sc->n_overrides; k++)
        ov_len += strlen(sc->overrides[k]) + 1;
    overrides = calloc(ov_len, 1);
    const char *arm_names[FW_MAX_ARMS], *arm_layers[FW_MAX_ARMS];
    double arm_weights[FW_MAX_ARMS];
    const uint64_t *arm_users = S->asg.users;
    if (!overrides)
        goto oom;
    for (uint32_t k = 0; k < sc->n_overrides; k++) {
        strcat(overrides, sc->overrides[k]);
        strcat(overrides, "\n");
    }
    for (uint32_t a = 0; a < S->n_arms; a++) {
        arm_names[a] = sc->arms[a].name;
        arm_layers[a] = sc->arms[a].layer ? sc->arms[a].layer : "main";
        arm_weights[a] = sc->arms[a].weight;
    }
    fw_rec_info info = {
        .version = FW_VERSION, .git_revision = FW_GIT_REVISION, .scenario_name = sc->name,
        .scenario_path = sc->source_path ? sc->source_path : "",
        .scenario_text = sc->source_text ? sc->source_text : "", .scenario_resolved = resolved,
        .overrides = overrides, .seed = sc->seed, .threads = S->n_threads,
        .days_planned = sc->days, .ticks_per_day = S->tpd, .n_arms = S->n_arms,
        .arm_names = arm_names, .arm_weights = arm_weights, .arm_layers = arm_layers,
        .arm_users = arm_users,
        .compression = sc->output.compression, .generation_s = rep->generation_s,
        .generation_peak_rss_mb = gen_rss};
    if (world_summary(&S->w, &info) != FW_OK)
        goto oom;
    if (o->output_path) {
        if (!(rec = fw_recorder_create(o->output_path, &info)))
            goto oom;
        fw_recorder_set_users(rec, &S->asg, &S->aggs, sc->experiment_pre_days);
        fw_recorder_set_followers(rec, S->w.n_creators, S->w.creator_user, S->w.n_followers);
        fw_recorder_set_brands(rec, S->w.n_brands, S->brand_units, S->brand_rev);
        fw_recorder_set_ad_brands(rec, S->w.n_brands, S->brand_ad_spend_cents, S->brand_ad_gmv);
        if (n_reps > 1)
            fw_recorder_set_replicates(rec, n_reps, rep_seeds, reps);
        /* An empty but valid partial file exists from the start. */
        if ((rc = fw_recorder_write(rec, "running", now_s() - t_start, peak_rss_mb(), errbuf,
                                    sizeof errbuf)) != FW_OK) {
            fprintf(stderr, "flywheel: %s\n", errbuf);
            goto out;
        }
    }

    double t_sim = now_s(), last_progress = 0.0;
    uint64_t users_done = 0;
    int stopped = 0;
    for (S->day = 0; S->day < sc->days && !stopped; S->day++) {
        for (int s = 0; s < S->n_threads; s++) {
            memset(S->tb[s].counters, 0, (size_t)S->n_cells * FW_DC__COUNT * sizeof(uint64_t));
            fw_engine_ctx_reset_latency(S->tb[s].ctx);
        }
        if (sc->experiment_unit == FW_UNIT_CREATOR && sc->experiment_pre_days > 0 &&
            S->day == sc->experiment_pre_days &&
            (rc = fw_engine_set_producer_arms(S->engine, S->cell_of)) != FW_OK)
            break;
        if ((rc = build_schedule(S)) != FW_OK || (rc = market_day_start(S)) != FW_OK ||
            (rc = build_postings(S, S->tb[0].rng)) != FW_OK)
            break;
        if ((rc = exposure_reset(S)) != FW_OK)
            break;
        size_t pend_at = 0;
        for (uint32_t t = 0; t < S->tpd; t++) {
            if ((rc = run_tick(S, t, &pend_at)) != FW_OK)
                break;
            if (o->progress) {
                uint64_t sessions = rep->sessions;
                for (int s = 0; s < S->n_threads; s++)
                    for (uint32_t c = 0; c < S->n_cells; c++)
                        sessions += S->tb[s].counters[(size_t)c * FW_DC__COUNT + FW_DC_sessions];
                progress(o, S->day, t, S->tpd, sc->days, t_sim, sessions, &last_progress);
            }
            if (o->stop && *o->stop) {
                stopped = 1;
                break;
            }
        }
        if (rc != FW_OK || stopped)
            break;
        memset(cell_counters, 0, (size_t)S->n_cells * FW_DC__COUNT * sizeof *cell_counters);
        for (int s = 0; s < S->n_threads; s++)
            for (size_t k = 0; k < (size_t)S->n_cells * FW_DC__COUNT; k++)
                cell_counters[k] += S->tb[s].counters[k];
        /* Each arm counts the cells it is part of: every user once per layer. */
        memset(day_counters, 0, (size_t)S->n_arms * FW_DC__COUNT * sizeof *day_counters);
        for (uint32_t c = 0; c < S->n_cells; c++)
            for (uint32_t l = 0; l < S->asg.n_layers; l++)
                for (int k = 0; k < FW_DC__COUNT; k++)
                    day_counters[(size_t)S->asg.cell_arm[c][l] * FW_DC__COUNT + k] +=
                        cell_counters[(size_t)c * FW_DC__COUNT + k];
        exposure_counters(S, day_counters);
        update_expectation(S, cell_counters);
        fw_par_for(S->w.n_users, 4096, k_end_day, S);
        int64_t shop_series[FW_SS__COUNT], ads_series[FW_AS__COUNT], market_series[FW_MS__COUNT];
        if ((rc = fw_engine_end_day(S->engine, S->tb[0].ctx, S->day)) != FW_OK) {
            fprintf(stderr, "\nflywheel: %s\n", fw_engine_error(S->engine));
            break;
        }
        if ((S->w.n_campaigns && (rc = ads_end_day(S, ads_series)) != FW_OK) ||
            (rc = shop_end_day(S, shop_series)) != FW_OK || (rc = market_day_end(S, market_series)) != FW_OK)
            break;
        if (rec && (rc = fw_recorder_add_market(rec, market_series)) != FW_OK)
            break;
        if (rec)
            fw_recorder_set_market_tasks(rec, fw_market_n_tasks(S->engine), S->task_cols);
        if (rec && (rc = fw_recorder_add_shop(rec, shop_series)) != FW_OK)
            break;
        if (rec && S->w.n_campaigns && (rc = fw_recorder_add_ads(rec, ads_series)) != FW_OK)
            break;
        if (S->n_arms > 1 && S->day >= sc->experiment_pre_days) {
            /* A daily look: the always-valid p-values keep their running minimum. */
            if ((rc = fw_experiment_analyse(sc, &S->asg, &S->aggs, sc->experiment_pre_days > 0,
                                            S->day + 1 - sc->experiment_pre_days,
                                            S->exp_ready ? &S->exp : NULL, &S->exp)) != FW_OK)
                break;
            S->exp_ready = 1;
            if (exp_out)
                *exp_out = S->exp;
            if (rec)
                fw_recorder_set_experiment(rec, &S->exp, fw_experiment_unit_name(sc->experiment_unit),
                                           sc->experiment_alpha);
        }
        for (size_t k = 0; k < (size_t)S->n_arms * FW_DC__COUNT; k++)
            totals[k] += day_counters[k];
        for (int st = 0; st < FW_STAGE__COUNT; st++) {
            fw_hist_reset(&day_lat[st]);
            for (int s = 0; s < S->n_threads; s++)
                fw_hist_merge(&day_lat[st], fw_engine_ctx_latency(S->tb[s].ctx, st));
        }
        for (uint32_t c = 0; c < S->n_cells; c++) {
            users_done += cell_counters[(size_t)c * FW_DC__COUNT + FW_DC_active_users];
            rep->sessions += cell_counters[(size_t)c * FW_DC__COUNT + FW_DC_sessions];
        }
        uint64_t day_work[FW_WORK__COUNT] = {0};
        for (int s = 0; s < S->n_threads; s++)
            for (int k = 0; k < FW_WORK__COUNT; k++)
                day_work[k] += fw_engine_ctx_work(S->tb[s].ctx, k);
        if (rec && fw_engine_has_rec(S->engine)) {
            fw_model_stats ms[FW_TASK__COUNT];
            for (int k = 0; k < FW_TASK__COUNT; k++)
                ms[k] = fw_engine_model_stats(S->engine, (fw_rec_task)k);
            if ((rc = fw_recorder_add_model(rec, ms)) != FW_OK)
                break;
        }
        if (rec && ((rc = fw_recorder_add_day(rec, day_counters, day_lat, day_work)) != FW_OK ||
                    (rc = fw_recorder_write(rec, "running", now_s() - t_start, peak_rss_mb(),
                                            errbuf, sizeof errbuf)) != FW_OK)) {
            fprintf(stderr, "\nflywheel: %s\n", errbuf);
            break;
        }
        rep->days_done = S->day + 1;
    }
    if (o->progress)
        fputc('\n', stderr);
    rep->sim_s = now_s() - t_sim;
    rep->active_user_days = users_done;
    if (rc != FW_OK) {
        if (rc == FW_ERR_NOMEM)
            fprintf(stderr, "flywheel: out of memory on day %u\n", S->day);
        else
            fprintf(stderr, "flywheel: day %u failed: %s\n", S->day, fw_err_str(rc));
        /* Keep what finished readable, marked as failed. */
        if (rec)
            fw_recorder_write(rec, "failed", now_s() - t_start, peak_rss_mb(), errbuf, sizeof errbuf);
        goto out;
    }
    rep->interrupted = stopped;
    rep->wall_s = now_s() - t_start;
    rep->peak_rss_mb = peak_rss_mb();
    if (rec) {
        if ((rc = fw_recorder_write(rec, stopped ? "interrupted" : "complete", rep->wall_s,
                                    rep->peak_rss_mb, errbuf, sizeof errbuf)) != FW_OK) {
            fprintf(stderr, "flywheel: %s\n", errbuf);
            goto out;
        }
        snprintf(rep->result_path, sizeof rep->result_path, "%s",
                 stopped ? fw_recorder_partial_path(rec) : fw_recorder_path(rec));
        summary(sc, S, totals, rep, o->out);
        if (S->exp_ready)
            fw_experiment_print(sc, &S->asg, &S->exp, o->out);
    }
    rc = stopped ? FW_ERR_INTERRUPT : FW_OK;
    goto out;
oom:
    rc = FW_ERR_NOMEM;
    fprintf(stderr, "flywheel: out of memory while setting up the run\n");
out:
    for (int s = 0; s < FW_STAGE__COUNT; s++)
        fw_hist_fini(&day_lat[s]);
    free(day_counters);
    free(cell_counters);
    free(totals);
    free(resolved);
    free(overrides);
    fw_recorder_destroy(rec);
    sim_fini(S);
    return rc;
}

/* ---- replicates ------------------------------------------------------------------- */

typedef struct replicate_job {
    const fw_scenario *sc;
    const fw_run_opts *o;
    fw_exp_table *tables;   /* [K] */
    fw_err *status;         /* [K] */
} replicate_job;

/* Replicates 1 + [b, e): the scenario with seed + replicate, unrecorded, one thread each
 * (the nested parallel loops inside run on the calling thread). */
static void k_replicate(void *arg, size_t b, size_t e, int slot)
{
    replicate_job *j = arg;
    (void)slot;
    for (size_t i = b; i < e; i++) {
        size_t k = i + 1;
        if (j->o->stop && *j->o->stop) {
            j->status[k] = FW_ERR_INTERRUPT;
            continue;
        }
        fw_scenario copy = *j->sc;   /* shallow: read-only, never finalised */
        copy.seed = j->sc->seed + k;
        copy.experiment_salt = j->sc->experiment_salt + k;   /* a fresh assignment too */
        fw_run_opts q = {.stop = j->o->stop};
        fw_run_report r;
        j->status[k] = run_one(&copy, &q, &r, &j->tables[k], 0, NULL, NULL);
    }
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
        fprintf(f, "  %s vs %s\n  %-22s %10s %10s %12s %12s\n", sc->arms[arm].name,
                sc->arms[ctl].name, "metric", "mean lift", "sd lift", "p < alpha", "p_seq < alpha");
        for (int m = 0; m < FW_EM__COUNT; m++) {
            double sum = 0, sum2 = 0;
            unsigned n = 0, sig = 0, seq = 0;
            for (uint32_t k = 0; k < K; k++) {
                const fw_exp_row *r = &t[k].row[arm][m];
                if (!r->ok)
                    continue;
                double l = r->cuped ? r->cuped_rel.delta : r->rel.delta;
                sum += l;
                sum2 += l * l;
                n++;
                sig += r->p < sc->experiment_alpha;
                seq += r->p_msprt < sc->experiment_alpha;
            }
            double mean = n ? sum / n : NAN, sd = n > 1 ? sqrt((sum2 - sum * sum / n) / (n - 1)) : NAN;
            fprintf(f, "  %-22s %+9.2f%% %9.2f%% %11.1f%% %12.1f%%\n", fw_experiment_metric_name[m],
                    100 * mean, 100 * sd, n ? 100.0 * sig / n : NAN, n ? 100.0 * seq / n : NAN);
        }
    }
}

fw_err fw_run(const fw_scenario *sc, const fw_run_opts *o, fw_run_report *rep)
{
    uint32_t K = o->replicates > 1 ? o->replicates : 1;
    memset(rep, 0, sizeof *rep);
    if (K == 1)
        return run_one(sc, o, rep, NULL, 0, NULL, NULL);
    fw_exp_table *tables = calloc(K, sizeof *tables);
    uint64_t *seeds = calloc(K, sizeof *seeds);
    fw_err *status = calloc(K, sizeof *status);
    fw_err rc = FW_ERR_NOMEM;
    if (!tables || !seeds || !status) {
        fprintf(stderr, "flywheel: out of memory for %u replicates\n", K);
        goto out;
    }
    for (uint32_t k = 0; k < K; k++)
        seeds[k] = sc->seed + k;
    if (o->progress)
        fprintf(stderr, "flywheel: running replicates 2..%u (seeds %llu..%llu), several at once\n",
                K, (unsigned long long)seeds[1], (unsigned long long)seeds[K - 1]);
    /* Replicate 0 is the recorded run below; the others run first, one per thread, as many
     * at once as there are threads and as memory allows: a world takes about 2.7 kB per user
     * and 0.2 kB per note at its peak (measured: 135 MiB for 50k users and 100k notes), and
     * replicates may use half of the memory available now. */
    fw_par_set_threads(o->threads);
    int threads = fw_par_threads();
    double per_world = 2700.0 * sc->world.n_users + 200.0 * sc->world.n_notes + 16e6;
    double avail = (double)sysconf(_SC_AVPHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    int at_once = avail > 0 ? (int)(0.5 * avail / per_world) : threads;
    if (at_once < 1)
        at_once = 1;
    if (at_once < threads) {
        if (o->progress)
            fprintf(stderr, "flywheel: memory allows %d replicates at once (of %d threads)\n",
                    at_once, threads);
        fw_par_set_threads(at_once);
    }
    replicate_job job = {.sc = sc, .o = o, .tables = tables, .status = status};
    fw_par_for(K - 1, 1, k_replicate, &job);
    fw_par_set_threads(threads);
    rc = FW_OK;
    for (uint32_t k = 1; k < K && rc == FW_OK; k++)
        if (status[k] != FW_OK)
            rc = status[k];
    if (rc != FW_OK) {
        if (rc != FW_ERR_INTERRUPT)
            fprintf(stderr, "flywheel: a replicate failed: %s\n", fw_err_str(rc));
        goto out;
    }
    rc = run_one(sc, o, rep, &tables[0], K, seeds, tables);
    if (rc == FW_OK)
        print_replicates(sc, K, tables, o->out);
out:
    free(tables);
    free(seeds);
    free(status);
    return rc;
}

fw_err fw_run_generate_only(const fw_scenario *sc, FILE *out)
{
    double t0 = now_s();
    fw_world w;
    fw_err rc = fw_world_generate(&sc->world, sc->seed, &w);
    if (rc != FW_OK) {
        fprintf(stderr, "flywheel: generating the world failed: %s\n", fw_err_str(rc));
        return rc;
    }
    double el = now_s() - t0;
    fw_rec_info info = {0};
    rc = world_summary(&w, &info);
    if (rc == FW_OK)
        fprintf(out,
                "flywheel: generated %u users (%u creators), %u notes, %llu follows, %u brands, "
                "%u products in %.2f s; peak memory %.0f MiB\n"
                "  expected DAU/MAU %.3f; follower Gini %.3f, top 1%% of creators hold %.1f%% of "
                "follows; top 10%% write %.1f%% of notes\n",
                w.n_users, w.n_creators, w.n_notes, (unsigned long long)w.n_follow_edges,
                w.n_brands, w.n_products, el, peak_rss_mb(), info.expected_dau_mau,
                info.follower_gini, 100 * info.top1pct_follower_share,
                100 * info.top10pct_creator_note_share);
    fw_world_fini(&w);
    return rc;
}
