/* The bidder plug-in (engine.ads.bidder: plugin; the ABI is flywheel/policy.h): an
 * advertiser's bidding agent, loaded with dlopen, bidding auction by auction for the campaigns
 * engine.ads.bidder_campaigns names, and learning from its wins, prices and conversions at
 * the barriers.
 * Owns: the instances (one per budget cell), the outcomes waiting for the next observe, and
 * the per-user fault slots and stream counters.
 * Borrows: the ads' campaigns, budgets and conversion log (read only, through fw_ads_budget
 * and fw_ads_conversions), the tick's ad events with what the ads billed for them.
 * Never touches: an auction's ranking or pricing (the ads run them with the bid it returns),
 * or anything a feed request reads.
 *
 * Invariants:
 *  - Instances follow the budgets they spend: one per budget cell (each arm under
 *    experiment.budget_split, else one for the run, built from cell 0's knobs: the bidder
 *    knobs are then one value per run, SPLIT scope). Budget cell b with engine.ads.bidder
 *    fixed has none, and the ads bid as before for every campaign there.
 *  - An auction writes only its user's rows (seq, the fault slots) and its ctx, like every
 *    request; `faulted` is the one word several may write, atomically. The barrier reports
 *    the fault of the lowest user id, so the message does not depend on the thread count.
 *  - A faulty bid keeps its campaign out of that auction and fails the run at the tick's
 *    end (exit 1), the finished days kept.
 *  - Randomness: each bid's stream is keyed by (seed, budget cell, user, tick, campaign, the
 *    user's count of bids asked), all fixed by the simulation, never by the thread.
 *  - Outcomes reach observe in the order the platform applied them: the tick's wins and
 *    clicks in the log's order, then the conversions attributed after the tick's end, at the
 *    next barrier (or the day's end, before end_day). */
#include <dlfcn.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "flywheel/ads.h"
#include "plugin_int.h"

typedef struct binst {
    void *dl;
    const fw_bidder_table *api;
    void *state;
    char *label;                /* "'NAME' (PATH)" for messages */
    uint32_t n_camp;            /* bids for campaigns 0 .. n_camp - 1 */
    fw_bid_outcome *out;        /* outcomes waiting for observe */
    size_t n_out, cap_out;
    fw_bid_status *status;      /* [n_camp] */
    double *max_bid;            /* [n_camp] each campaign's bid: the most it may bid */
} binst;

enum bid_fault { BF_NONE = 0, BF_RC, BF_NAN, BF_NEG, BF_ABOVE };

typedef struct bidder_state {
    binst *in;                  /* [n_bud] */
    uint32_t n_bud;
    uint32_t *seq;              /* [n_users] bids asked for each user's auctions: the streams' counter */
    uint8_t *fault;             /* [n_users] the first fault of the user's auctions this tick */
    int32_t *fault_tick;
    uint32_t *fault_camp;
    double *fault_bid;
    atomic_uint faulted;
    int32_t last_tick;          /* the last tick ended */
} bidder_state;

typedef struct bidder_ctx {
    uint32_t n;
    void **pctx;                /* [n] each instance's per-thread scratch */
    void (**fini)(void *);      /* [n] */
} bidder_ctx;

static bidder_state *B_of(const fw_engine *e) { return fw_mod(e, FW_MOD_BIDDER); }

/* Loads and checks a bidder plug-in; on success *dl and *api are set. */
static fw_err load(const char *path, void **dl_out, const fw_bidder_table **api_out, char *why, size_t cap)
{
    void *dl, *sym;
    fw_err rc = fw_plugin_open(path, "bidder", "engine.ads.bidder_plugin", FW_BIDDER_SYMBOL, &dl, &sym, why, cap);
    if (rc != FW_OK)
        return rc;
    fw_bidder_entry entry;
    memcpy(&entry, &sym, sizeof entry);   /* POSIX: a dlsym'd function */
    const fw_bidder_table *api = entry();
    const char *missing = api ? fw_plugin_missing(api->create != NULL, api->destroy != NULL, api->bid != NULL, "bid",
                                                  api->ctx_create != NULL, api->ctx_destroy != NULL)
                              : NULL;
    rc = fw_plugin_check_table(dl, path, "bidder", FW_BIDDER_SYMBOL, api != NULL, api ? api->abi_version : 0, missing,
                               why, cap);
    if (rc != FW_OK)
        return rc;
    *dl_out = dl;
    *api_out = api;
    return FW_OK;
}

/* Loads cfg's bidder and creates an instance for env; on failure why says what. */
static fw_err open_inst(const fw_engine_cfg *cfg, const fw_bidder_env *env, binst *in, char *why, size_t cap)
{
    const char *path = cfg->ads.bidder_plugin;
    fw_err rc = load(path, &in->dl, &in->api, why, cap);
    if (rc != FW_OK)
        return rc;
    char said[512] = "";
    in->state = in->api->create(cfg->ads.bidder_args ? cfg->ads.bidder_args : "", env, said, sizeof said);
    said[sizeof said - 1] = '\0';
    rc = fw_plugin_started(in->state != NULL, path, "bidder", said, in->api->name, &in->dl, &in->label, why, cap);
    if (!in->state)
        in->api = NULL;
    return rc;
}

static void close_inst(binst *in)
{
    if (in->api && in->state)
        in->api->destroy(in->state);
    if (in->dl)
        dlclose(in->dl);
    free(in->label);
    free(in->out);
    free(in->status);
    free(in->max_bid);
    memset(in, 0, sizeof *in);
}

static fw_bidder_env env_of(const fw_engine_cfg *cfg, uint32_t cell, uint32_t n_cells, uint32_t tpd,
                            uint32_t n_topics, uint64_t seed)
{
    return (fw_bidder_env){.abi_version = FW_POLICY_ABI_VERSION, .cell = cell, .n_cells = n_cells,
                           .ticks_per_day = tpd, .n_topics = n_topics, .pay_rule = cfg->ads.pay_rule,
                           .reserve_cpm_cents = cfg->ads.reserve_cpm_cents, .seed = seed};
}

fw_err fw_policy_check_bidder(const fw_engine_cfg *cfg, uint32_t n_topics, uint32_t ticks_per_day, uint64_t seed,
                              char *why, size_t cap)
{
    if (!cfg || cfg->ads.bidder != FW_BIDDER_PLUGIN || ticks_per_day == 0) {
        snprintf(why, cap, "engine.ads.bidder is not plugin");
        return FW_ERR_INVAL;
    }
    fw_bidder_env env = env_of(cfg, 0, 1, ticks_per_day, n_topics, seed);   /* no campaigns: the argument check */
    binst in = {0};
    fw_err rc = open_inst(cfg, &env, &in, why, cap);
    close_inst(&in);
    return rc;
}

/* ---- the module ------------------------------------------------------------------------- */

static int bidder_wanted(const fw_catalog *cat, const fw_engine_cfg *cfgs, uint32_t n_cells)
{
    if (!cat->campaigns || cat->n_campaigns == 0)
        return 0;
    for (uint32_t a = 0; a < n_cells; a++)
        if (cfgs[a].ads.bidder == FW_BIDDER_PLUGIN)
            return 1;
    return 0;
}

static fw_err bidder_create(fw_engine *e, const fw_catalog *cat, void **state)
{
    bidder_state *B = *state;
    uint32_t n = e->n_users;
    B->n_bud = e->budget_split ? e->n_arms : 1;   /* as the ads split budgets */
    B->last_tick = -1;
    if (!fw_alloc(e, &B->in, B->n_bud, sizeof *B->in) || !fw_alloc(e, &B->seq, n, sizeof *B->seq) ||
        !fw_alloc(e, &B->fault, n, 1) || !fw_alloc(e, &B->fault_tick, n, sizeof *B->fault_tick) ||
        !fw_alloc(e, &B->fault_camp, n, sizeof *B->fault_camp) || !fw_alloc(e, &B->fault_bid, n, sizeof *B->fault_bid))
        return FW_ERR_NOMEM;
    atomic_init(&B->faulted, 0);
    for (uint32_t b = 0; b < B->n_bud; b++) {
        const fw_engine_cfg *cfg = &e->cell[b].cfg;
        if (cfg->ads.bidder != FW_BIDDER_PLUGIN)
            continue;
        uint32_t m = cfg->ads.bidder_campaigns ? cfg->ads.bidder_campaigns : cat->n_campaigns;
        if (m > cat->n_campaigns) {
            snprintf(e->why, sizeof e->why,
                     "engine.ads.bidder_campaigns: %u campaigns named, the world has %u", m, cat->n_campaigns);
            return FW_ERR_INVAL;
        }
        fw_bidder_campaign *camp = calloc(m, sizeof *camp);
        binst *in = &B->in[b];
        if (!camp || !(in->status = calloc(m, sizeof *in->status)) || !(in->max_bid = calloc(m, sizeof *in->max_bid))) {
            free(camp);
            return FW_ERR_NOMEM;
        }
        for (uint32_t k = 0; k < m; k++) {
            const fw_campaign_info *ci = &cat->campaigns[k];
            camp[k] = (fw_bidder_campaign){.id = k, .brand = ci->brand, .objective = ci->objective,
                                           .max_bid_cents = (double)ci->bid_cents,
                                           .daily_budget_cents = (double)ci->daily_budget_cents,
                                           .target_topic = ci->target_topic,
                                           .creative_topic = ci->creative < cat->n_notes ? cat->notes[ci->creative].topic
                                                                                        : FW_NONE};
            in->max_bid[k] = (double)ci->bid_cents;
        }
        fw_bidder_env env = env_of(cfg, b, B->n_bud, e->ticks_per_day, e->n_topics, e->seed);
        env.n_campaigns = m;
        env.campaigns = camp;
        char why[600];
        fw_err rc = open_inst(cfg, &env, in, why, sizeof why);
        free(camp);
        in->n_camp = m;
        if (rc != FW_OK) {
            snprintf(e->why, sizeof e->why, "bidder: %s", why);
            return rc;
        }
    }
    return FW_OK;
}

static void bidder_destroy(fw_engine *e, void *state)
{
    bidder_state *B = state;
    (void)e;
    for (uint32_t b = 0; B->in && b < B->n_bud; b++)
        close_inst(&B->in[b]);
}

static void bidder_ctx_destroy(void *ctx)
{
    bidder_ctx *X = ctx;
    if (!X)
        return;
    for (uint32_t b = 0; X->pctx && b < X->n; b++)
        if (X->pctx[b] && X->fini[b])
            X->fini[b](X->pctx[b]);
    free(X->pctx);
    free(X->fini);
    free(X);
}

static fw_err bidder_ctx_create(const fw_engine *e, const void *state, void **ctx)
{
    const bidder_state *B = state;
    (void)e;
    bidder_ctx *X = calloc(1, sizeof *X);
    if (!X)
        return FW_ERR_NOMEM;
    *ctx = X;   /* fw_engine_ctx_destroy frees it whatever happens next */
    X->n = B->n_bud;
    if (!(X->pctx = calloc(X->n, sizeof *X->pctx)) || !(X->fini = calloc(X->n, sizeof *X->fini)))
        return FW_ERR_NOMEM;
    for (uint32_t b = 0; b < X->n; b++) {
        const binst *in = &B->in[b];
        if (!in->api || !in->api->ctx_create)
            continue;
        if (!(X->pctx[b] = in->api->ctx_create(in->state)))
            return FW_ERR_NOMEM;
        X->fini[b] = in->api->ctx_destroy;
    }
    return FW_OK;
}

int fw_bidder_controls(const fw_engine *e, uint32_t bud, uint32_t c)
{
    const bidder_state *B = B_of(e);
    return B && bud < B->n_bud && B->in[bud].api && c < B->in[bud].n_camp;
}

static uint64_t stream_key(uint64_t seed, uint32_t bud, uint32_t u, int32_t tick, uint32_t camp, uint32_t seq)
{
    uint64_t k = fw_mix64(seed ^ UINT64_C(0x6269646465722d62));   /* "bidder-b": this purpose */
    k = fw_mix64(k ^ ((uint64_t)bud << 32 | u));
    k = fw_mix64(k ^ ((uint64_t)(uint32_t)tick << 32 | camp));
    return fw_mix64(k ^ seq);
}

double fw_bidder_bid(fw_engine *e, fw_engine_ctx *ctx, uint32_t bud, fw_bid_request *req)
{
    bidder_state *B = B_of(e);
    bidder_ctx *X = ctx->mod[FW_MOD_BIDDER];
    const binst *in = &B->in[bud];
    uint32_t u = req->user, c = req->campaign;
    req->index = c;   /* campaigns 0 .. n_camp - 1: the index is the id */
    req->rng = (fw_policy_stream){.key = stream_key(e->seed, bud, u, req->tick, c, B->seq[u]++)};
    double bid = NAN;
    int rc = in->api->bid(in->state, X->pctx[bud], req, &bid);
    int kind = rc < 0 ? BF_RC : !isfinite(bid) ? BF_NAN : bid < 0.0 ? BF_NEG : bid > in->max_bid[c] ? BF_ABOVE : BF_NONE;
    if (kind == BF_NONE)
        return bid;
    if (!B->fault[u]) {
        B->fault[u] = (uint8_t)kind;
        B->fault_tick[u] = req->tick;
        B->fault_camp[u] = c;
        B->fault_bid[u] = kind == BF_RC ? rc : bid;
    }
    atomic_store_explicit(&B->faulted, 1u, memory_order_relaxed);
    return -1.0;
}

/* Appends an outcome to instance in's batch. */
static fw_err push(binst *in, const fw_bid_outcome *o)
{
    if (fw_grow((void **)&in->out, &in->cap_out, in->n_out + 1, sizeof *in->out, 256))
        return FW_ERR_NOMEM;
    in->out[in->n_out++] = *o;
    return FW_OK;
}

/* The budget cell that pays for user u's auctions. */
static uint32_t bud_of_user(const fw_engine *e, const bidder_state *B, uint32_t u)
{
    return B->n_bud > 1 ? fw_user_cell(e, u) : 0;
}

/* Barrier: the tick's wins and clicks of the campaigns a plug-in bids for, with what the ads
 * billed for them (the ads logged them first). */
static fw_err bidder_log(fw_engine *e, void *state, fw_engine_ctx *ctx, const fw_log *l)
{
    bidder_state *B = state;
    (void)ctx;
    size_t n = fw_log_n(l, FW_RECORD_AD_EVENT);
    for (size_t i = 0; i < n; i++) {
        const fw_record *r = fw_log_at(l, FW_RECORD_AD_EVENT, i);
        const fw_ad_event *x = &r->u.ad.ev;
        if (x->user >= e->n_users || x->type >= FW_AD_EV__COUNT)
            continue;   /* the ads refused it */
        uint32_t b = bud_of_user(e, B, x->user);
        if (!fw_bidder_controls(e, b, x->campaign))
            continue;
        fw_bid_outcome o = {.type = x->type == FW_AD_IMPRESSION ? FW_BID_WIN : FW_BID_CLICK, .campaign = x->campaign,
                            .index = x->campaign, .user = x->user, .tick = x->tick,
                            .price_cents = (double)x->price_cents, .billed_cents = r->u.ad.billed_mc / 1000.0};
        if (push(&B->in[b], &o) != FW_OK)
            return FW_ERR_NOMEM;
    }
    return FW_OK;
}

/* Orders paid after the tick's end: the ads attributed them first (fw_ads_conversions, in the
 * order of the paid-order notices); the order's value comes from its notice. */
static fw_err bidder_notice(fw_engine *e, void *state, const fw_notice *notice, size_t n)
{
    bidder_state *B = state;
    size_t n_conv, j = 0;
    const fw_ad_conversion *conv = fw_ads_conversions(e, &n_conv);
    for (size_t k = 0; k < n_conv; k++) {
        const fw_ad_conversion *cv = &conv[k];
        while (j < n && !(notice[j].kind == FW_NOTICE_ORDER_PAID && notice[j].order == cv->order))
            j++;
        if (j == n) {   /* a conversion without its notice: the logs disagree */
            snprintf(e->why, sizeof e->why, "bidder: the ads attributed order %u, which no paid-order notice of "
                     "the tick names", cv->order);
            return FW_ERR_INTERNAL;
        }
        const fw_notice *x = &notice[j++];
        uint32_t b = bud_of_user(e, B, cv->user);
        if (!fw_bidder_controls(e, b, cv->campaign))
            continue;
        fw_bid_outcome o = {.type = FW_BID_CONVERSION, .campaign = cv->campaign, .index = cv->campaign,
                            .user = cv->user, .tick = x->tick, .billed_cents = cv->billed_mc / 1000.0,
                            .value_cents = (double)x->value_cents};
        if (push(&B->in[b], &o) != FW_OK)
            return FW_ERR_NOMEM;
    }
    return FW_OK;
}

/* Hands every instance its waiting outcomes and its campaigns' books. */
static fw_err flush(fw_engine *e, bidder_state *B, int32_t tick)
{
    for (uint32_t b = 0; b < B->n_bud; b++) {
        binst *in = &B->in[b];
        if (!in->api)
            continue;
        for (uint32_t c = 0; c < in->n_camp; c++) {
            int64_t budget_mc, spent_mc;
            int throttled;
            fw_ads_budget(e, b, c, &budget_mc, &spent_mc, &throttled);
            in->status[c] = (fw_bid_status){.budget_cents = budget_mc / 1000.0, .spent_today_cents = spent_mc / 1000.0,
                                            .throttled = (uint32_t)throttled};
        }
        int rc = 0;
        if (in->api->observe) {
            fw_bid_batch batch = {.cell = b, .tick = tick, .n = in->n_out, .out = in->out, .status = in->status};
            rc = in->api->observe(in->state, &batch);
        }
        in->n_out = 0;
        if (rc < 0) {
            snprintf(e->why, sizeof e->why, "bidder %s (budget of cell %u): observe of tick %d returned %d", in->label,
                     b, tick, rc);
            return FW_ERR_PLUGIN;
        }
    }
    return FW_OK;
}

/* Barrier: a faulty bid fails the run here (the lowest user id's is named); else every
 * instance observes the barrier's outcomes. */
static fw_err bidder_end_tick(fw_engine *e, void *state, fw_engine_ctx *ctx, int32_t tick)
{
    bidder_state *B = state;
    (void)ctx;
    B->last_tick = tick;
    if (atomic_load_explicit(&B->faulted, memory_order_relaxed)) {
        for (uint32_t u = 0; u < e->n_users; u++) {
            if (!B->fault[u])
                continue;
            uint32_t b = bud_of_user(e, B, u), c = B->fault_camp[u];
            const binst *in = &B->in[b];
            double v = B->fault_bid[u];
            int32_t t = B->fault_tick[u], tpd = (int32_t)e->ticks_per_day;
            char what[200];
            switch (B->fault[u]) {
            case BF_RC: snprintf(what, sizeof what, "bid returned %d", (int)v); break;
            case BF_NAN: snprintf(what, sizeof what, "the bid is NaN or infinite"); break;
            case BF_NEG: snprintf(what, sizeof what, "the bid %.6g cents is negative", v); break;
            default:
                snprintf(what, sizeof what, "the bid %.6g cents is above the campaign's max bid %.6g", v, in->max_bid[c]);
                break;
            }
            snprintf(e->why, sizeof e->why,
                     "bidder %s: auction for campaign %u, user %u (cell %u) at tick %d (day %d, tick %d): %s",
                     in->label ? in->label : "?", c, u, fw_user_cell(e, u), t, fw_tick_day(t, (uint32_t)tpd),
                     t - fw_tick_day(t, (uint32_t)tpd) * tpd, what);
            return FW_ERR_PLUGIN;
        }
    }
    return flush(e, B, tick);
}

/* The day's end: the conversions paid after the last tick's end, then end_day. */
static fw_err bidder_end_day(fw_engine *e, void *state, fw_engine_ctx *ctx, uint32_t day, int64_t *series)
{
    bidder_state *B = state;
    (void)ctx;
    (void)series;
    fw_err rc = flush(e, B, B->last_tick);
    for (uint32_t b = 0; rc == FW_OK && b < B->n_bud; b++) {
        const binst *in = &B->in[b];
        int r;
        if (in->api && in->api->end_day && (r = in->api->end_day(in->state, day)) < 0) {
            snprintf(e->why, sizeof e->why, "bidder %s (budget of cell %u): end_day of day %d returned %d", in->label, b,
                     (int32_t)day, r);   /* a warm-up's days are below 0 */
            rc = FW_ERR_PLUGIN;
        }
    }
    return rc;
}

const fw_engine_module fw_bidder_module = {
    .name = "bidder",
    .state_size = sizeof(bidder_state),
    .wanted = bidder_wanted,
    .create = bidder_create,
    .destroy = bidder_destroy,
    .ctx_create = bidder_ctx_create,
    .ctx_destroy = bidder_ctx_destroy,
    .log = bidder_log,
    .end_tick = bidder_end_tick,
    .notice = bidder_notice,
    .end_day = bidder_end_day,
};
