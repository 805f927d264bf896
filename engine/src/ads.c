/* Ads (flywheel/ads.h): campaign state, eligibility, the auction call, pacing, billing and
 * attribution.
 *
 * Money inside is in millicents (1/1000 cent), so a CPM charge (price per thousand
 * impressions, in cents) is exactly price millicents per impression; what the API reports
 * is cents, rounded down. Budgets are checked per charge at the barrier, in the order the
 * events come (the simulator's user order), which resolves a budget running out mid-tick by
 * rule: the charges that no longer fit are not billed (overdelivery). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "flywheel/ads.h"
#include "plugin_int.h"
#include "safety_int.h"
#include "shop_int.h"

/* The ads' books at a day's end: the series of /ads/days. X(name, unit, description). */
#define FW_ADS_DAY_SERIES(X)                                                                   \
    X(revenue_cents, "cents", "ad revenue billed on the day")                                  \
    X(overdelivery_cents, "cents", "charges not billed on the day: the campaign's budget was spent") \
    X(budget_cents, "cents", "the campaigns' daily budgets, summed")                          \
    X(budget_utilisation_ppm, "1e-6", "revenue / budgets (x 1e6)")                             \
    X(pacing_error_ppm, "1e-6", "mean over campaigns of |share of the day's budget spent by midday - 0.5| (x 1e6): 0 is even pacing") \
    X(campaigns_exhausted, "campaigns", "campaigns throttled by their budget at the day's end")

/* With a budget split, each cell's share of a campaign counts as a campaign in the pacing
 * error (its midday share against its own cell's traffic) and in campaigns_exhausted. */

FW_DECLARE_SERIES(FW_ADS_DAY_SERIES);

#define FCAP_K 16   /* campaigns a user may see per day: caps are exact for that many */
#define TOUCH_K 4   /* recent ad views and clicks remembered per user (attribution) */
#define MAX_SLOTS 16
#define AD_LR 0.02  /* SGD step of the pCTR model */

/* Features of the pCTR model: bias, the campaign's smoothed CTR (logit), the user's ad CTR
 * lift (logit against the prior), whether the creative's topic is one the user engages
 * with or the request's context, and the creative's engagement after clicks (ads are notes:
 * the likes, saves and comments it got right after the campaign's clicks, a logit lift
 * against the learner's rate; 0 while the learner has seen none, so a world whose ads get no
 * likes trains exactly the model it did before). Weights start at (0, 1, 0, 0, 0): the
 * campaign's rate. */
enum { AD_F_BIAS, AD_F_CAMPAIGN, AD_F_USER, AD_F_MATCH, AD_F_ENGAGE, AD_F__COUNT };

/* Pseudo-clicks of the engagement feature's prior: a campaign's creative needs about this
 * many clicks before its own interaction rate moves the feature halfway from the learner's. */
#define ENGAGE_PRIOR_CLICKS 20.0

typedef struct fcap {
    uint32_t campaign;
    uint16_t count;
    uint16_t day;   /* day + 1; 0 = empty */
} fcap;

/* A campaign's upper bound on its auction score in a slot (engine.ads.scan bounded). */
typedef struct ad_bound {
    double ub;
    uint32_t campaign;
} ad_bound;

typedef struct touch {
    uint32_t campaign;   /* FW_NONE: empty */
    int32_t view_tick;   /* the latest impression */
    int32_t click_tick;  /* the latest click, or INT32_MIN */
    uint32_t pad;        /* 0: the padding named, so that a row's bytes (snapshot whole) are all set */
    int64_t price_cents; /* the fill's price, billed per conversion for CPA */
} touch;

/* A user's frequency caps and recent touches: allocated at the user's first ad (most users
 * of a short run never see one), 224 bytes against 8 for the pointer. */
typedef struct ads_user {
    fcap cap[FCAP_K];
    touch t[TOUCH_K];
} ads_user;

/* Read by users who have none yet: no cap today (day tag 0), no touch. */
static const ads_user no_ads = {.t = {{.campaign = FW_NONE}, {.campaign = FW_NONE}, {.campaign = FW_NONE},
                                      {.campaign = FW_NONE}}};

/* A learner's pCTR model (logistic regression). */
typedef struct ad_model {
    double w[AD_F__COUNT];
    uint64_t trained;
} ad_model;

/* Campaign state comes in three kinds (see fw_catalog's cells):
 *  - budget state, per budget cell b (n_bud: every cell with a budget split, else one) and
 *    campaign k at [b * n + k]: the cell's share of the daily budget, its spend and pacing;
 *  - learned state, per learner l (n_learn: n_buckets per cell under per-arm isolation, else one):
 *    the pCTR model and the campaign rates it learns from, at [l * n + k];
 *  - books per campaign (delivery, spend to date), and per user (caps, touches, ad CTR): a
 *    user is in one cell, so these need no copy.
 * A cell reads and writes only its own budget cell and learner. */
struct fw_ads {
    uint32_t n;
    fw_campaign_info *c;
    uint32_t n_bud, n_learn;
    int64_t *budget_mc, *spend_today_mc, *over_mc, *spend_tick_mc;   /* [n_bud * n] */
    /* Advertisers' revisions (fw_ads_set_budget): each campaign's daily budget summed over
     * the cells ([n], its catalog budget until revised), and the budget cells' shares set for
     * the next day ([n_bud * n], -1: none pending). */
    int64_t *total_mc, *next_mc;
    double *mult;                     /* [n_bud * n] */
    uint8_t *throttled;               /* [n_bud * n] */
    /* Autobidding (goal campaigns), per budget cell: the goal multiplier and what the share
     * realised, decayed to half each day (ab_decay). */
    double *kappa, *ab_spend, *ab_conv, *ab_gmv;   /* [n_bud * n] */
    /* First-price shading, per budget cell: the share of its value a goal campaign bids,
     * learned from the minimum bids to win of its wins (sh_sum, sh_n: this tick's). */
    double *shade, *sh_sum;           /* [n_bud * n] */
    uint32_t *sh_n;                   /* [n_bud * n] */
    double *aov0;                     /* [n] prior mean order value (its brand's mean price) */
    double ab_decay;                  /* per tick: 2^(-1 / ticks_per_day) */
    /* Books per budget cell, to date (fw_ads_campaign_cell): delivery to the cell's users,
     * their attributed orders and their GMV, and the cell's spend. */
    uint64_t *b_impr, *b_clicks, *b_conv;    /* [n_bud * n] */
    int64_t *b_spend_mc, *b_gmv;             /* [n_bud * n] */
    int64_t *spend_mc;                /* [n] to date, every cell */
    uint64_t *impr, *clicks, *conv, *won;   /* [n] books, every cell */
    int64_t revenue_mc, charges_mc;   /* two books of the same money: must agree */
    /* The books' bounds. Billed money: a campaign is billed at most its day's budget, so
     * while revenue_mc plus every campaign's daily budget fits an int64 -- checked when the
     * budgets are set (books_room: at create and at each day's end) -- no book of billed
     * money (spend, revenue, charges, the brands' spend) overflows on the next day. Charges
     * beyond a budget (overdelivery) and the GMV attributed to ads have no such bound: their
     * totals are kept here and every addition is checked (a charge or an attribution that
     * would pass int64 sets overflow, and the barrier fails with FW_ERR_RANGE). Derived:
     * summed again when a snapshot loads, checked by fw_ads_check. */
    int64_t over_total_mc, gmv_total;
    int overflow;
    uint64_t price_over_bid;          /* charges found above their bid (must stay 0) */
    uint64_t impr_total, clicks_total, conv_total;
    ad_model *model;                  /* [n_learn] */
    uint64_t *l_impr, *l_clicks, *l_conv;   /* [n_learn * n] what each learner has seen */
    uint64_t *l_inter;                /* [n_learn * n] likes, saves and comments on the creative after its clicks */
    uint64_t *inter, *b_inter;        /* [n] and [n_bud * n]: the same, every cell and per budget cell */
    double *xc;                       /* [n_slots * n] each slot's campaign CTR feature, as of the last barrier */
    double *xe;                       /* [n_slots * n] each slot's creative engagement feature, likewise */
    /* engine.ads.scan bounded: per slot, every campaign's upper bound on its auction score for a
     * user whose own factor is 1 (bound_of), and the campaigns in descending order of it, as of
     * the last barrier hook (rebuild_bounds). */
    ad_bound *bnd;                    /* [n_slots * n] */
    int bounded;                      /* some cell scans bounded */
    uint32_t *u_impr, *u_click;       /* [n_users] ads seen and clicked by each user */
    ads_user **urow;                  /* [n_users] caps and touches (newest first), NULL: none yet */
    int oom;                          /* a user's row could not be allocated: the next barrier fails */
    int32_t day_start;                /* first tick of the current day */
    /* The day's books per budget cell: traffic (ad events logged) and each campaign's spend
     * by midday, for the pacing error; overdelivery as of yesterday's end. */
    uint64_t *traffic_day, *traffic_mid;          /* [n_bud] */
    int64_t *mid_spend_cents, *over_prev_cents;   /* [n_bud * n] */
    /* Per brand, to date: spend (millicents) and the GMV of orders attributed to its ads. */
    uint32_t n_brands;
    int64_t *brand_spend_mc, *brand_gmv;
    /* The conversions attributed at the last tick's end (fw_ads_conversions). */
    fw_ad_conversion *conv_log;
    size_t n_conv_log, cap_conv_log;
    /* The tick's pCTR samples (log_ads), one per ad record: scratch of a barrier. */
    struct ad_sample *smp;
    size_t cap_smp;
};

/* A pCTR sample (log_ads): an impression's features and label, and its learner; model
 * FW_NONE for a record that is not a valid impression. */
typedef struct ad_sample {
    double f[AD_F__COUNT], y;
    uint32_t model;
} ad_sample;

typedef struct ads_ctx {
    fw_bid *bids;               /* [n] the auction's input */
    uint32_t *map, *scratch;    /* [n] */
} ads_ctx;

static void refresh_xc(const fw_engine *e, struct fw_ads *a);
static void rebuild_bounds(const fw_engine *e, struct fw_ads *a);
static void split_budgets(const fw_engine *e, struct fw_ads *a);

/* The budget cell that pays for a cell's traffic. */
static inline uint32_t bud_of(const struct fw_ads *a, uint32_t cell) { return a->n_bud > 1 ? cell : 0; }

/* The ads' state; NULL when the catalog has no campaigns (ads are switched off). */
static struct fw_ads *A_of(const fw_engine *e) { return fw_mod(e, FW_MOD_ADS); }

/* *room (what was billed before the day) plus every campaign's daily budget; 0 with the
 * campaign at which it passes int64 (or whose budget is negative) in *bad. */
static int room_fits(const struct fw_ads *a, int64_t *room, uint32_t *bad)
{
    for (uint32_t k = 0; k < a->n; k++)
        if (!fw_add_nonneg(room, a->total_mc[k])) {
            *bad = k;
            return 0;
        }
    return 1;
}

/* FW_ERR_RANGE with e->why when a day's billing could take the books of billed money past
 * int64 (see over_total_mc); FW_OK else. Called when no spend of the day has been billed yet
 * (create, a day's end), so that revenue_mc is what was billed before the day. */
static fw_err books_room(fw_engine *e, const struct fw_ads *a)
{
    int64_t room = a->revenue_mc;
    uint32_t k;
    if (room_fits(a, &room, &k))
        return FW_OK;
    snprintf(e->why, sizeof e->why,
             "ads: the campaigns' daily budgets (campaign %u: %lld cents) with the %lld cents billed so far would "
             "take the ads' books past what 64-bit millicents count; lower world.ad_budget_cents or world.n_campaigns",
             k, (long long)(a->total_mc[k] / 1000), (long long)(a->revenue_mc / 1000));
    return FW_ERR_RANGE;
}

/* The barrier's error once a->overflow is set (see over_total_mc). */
static fw_err overflow_err(fw_engine *e, const struct fw_ads *a)
{
    snprintf(e->why, sizeof e->why,
             "ads: overdelivery (%lld cents) or the GMV attributed to ads (%lld cents) would pass what 64-bit "
             "counts hold; lower the bids (world.cpm_bid_cents, cpc_bid_cents, cpa_bid_cents) or "
             "world.price_median_cents",
             (long long)(a->over_total_mc / 1000), (long long)a->gmv_total);
    return FW_ERR_RANGE;
}

/* Whether campaign c in budget cell slot i cannot afford its largest possible charge (its bid
 * per impression, click or conversion) with what is left of its day's budget, or has no budget:
 * such a campaign is out of the cell's auctions until a new day brings a budget that affords
 * it. Checked after every charge and whenever a budget is set (a day's start, the split into
 * cells, the engine's creation), so that a campaign whose daily budget is below its bid -- a
 * conversion campaign, typically -- is not served free until its first conversion finds it
 * broke. */
static int unaffordable(const struct fw_ads *a, size_t i, uint32_t c)
{
    int64_t max_mc = a->c[c].objective == FW_OBJ_CPM ? a->c[c].bid_cents : a->c[c].bid_cents * 1000;
    return a->budget_mc[i] == 0 || a->budget_mc[i] - a->spend_today_mc[i] < max_mc;
}

uint32_t fw_ads_n_campaigns(const fw_engine *e)
{
    const struct fw_ads *a = A_of(e);
    return a ? a->n : 0;
}

static int ads_wanted(const fw_catalog *cat, const fw_engine_cfg *cfgs, uint32_t n_cells)
{
    (void)cfgs;
    (void)n_cells;
    return cat->campaigns && cat->n_campaigns > 0;
}

static fw_err ads_create(fw_engine *e, const fw_catalog *cat, void **state)
{
    struct fw_ads *a = *state;
    uint32_t n = cat->campaigns ? cat->n_campaigns : 0, m = n ? n : 1;
    a->n = n;
    a->n_bud = e->budget_split ? e->n_arms : 1;
    a->n_learn = e->n_learn;
    size_t mb = (size_t)a->n_bud * m, ml = (size_t)a->n_learn * m;
    fw_alloc(e, &a->c, m, sizeof *a->c);
    fw_alloc(e, &a->budget_mc, mb, sizeof *a->budget_mc);
    fw_alloc(e, &a->total_mc, m, sizeof *a->total_mc);
    fw_alloc(e, &a->next_mc, mb, sizeof *a->next_mc);
    fw_alloc(e, &a->spend_today_mc, mb, sizeof *a->spend_today_mc);
    fw_alloc(e, &a->spend_mc, m, sizeof *a->spend_mc);
    fw_alloc(e, &a->over_mc, mb, sizeof *a->over_mc);
    fw_alloc(e, &a->spend_tick_mc, mb, sizeof *a->spend_tick_mc);
    fw_alloc(e, &a->impr, m, sizeof *a->impr);
    fw_alloc(e, &a->clicks, m, sizeof *a->clicks);
    fw_alloc(e, &a->conv, m, sizeof *a->conv);
    fw_alloc(e, &a->won, m, sizeof *a->won);
    fw_alloc(e, &a->mult, mb, sizeof *a->mult);
    fw_alloc(e, &a->throttled, mb, 1);
    fw_alloc(e, &a->kappa, mb, sizeof *a->kappa);
    fw_alloc(e, &a->ab_spend, mb, sizeof *a->ab_spend);
    fw_alloc(e, &a->ab_conv, mb, sizeof *a->ab_conv);
    fw_alloc(e, &a->ab_gmv, mb, sizeof *a->ab_gmv);
    fw_alloc(e, &a->aov0, m, sizeof *a->aov0);
    fw_alloc(e, &a->shade, mb, sizeof *a->shade);
    fw_alloc(e, &a->sh_sum, mb, sizeof *a->sh_sum);
    fw_alloc(e, &a->sh_n, mb, sizeof *a->sh_n);
    fw_alloc(e, &a->b_impr, mb, sizeof *a->b_impr);
    fw_alloc(e, &a->b_clicks, mb, sizeof *a->b_clicks);
    fw_alloc(e, &a->b_conv, mb, sizeof *a->b_conv);
    fw_alloc(e, &a->b_spend_mc, mb, sizeof *a->b_spend_mc);
    fw_alloc(e, &a->b_gmv, mb, sizeof *a->b_gmv);
    fw_alloc(e, &a->model, a->n_learn, sizeof *a->model);
    fw_alloc(e, &a->l_impr, ml, sizeof *a->l_impr);
    fw_alloc(e, &a->l_clicks, ml, sizeof *a->l_clicks);
    fw_alloc(e, &a->l_conv, ml, sizeof *a->l_conv);
    fw_alloc(e, &a->l_inter, ml, sizeof *a->l_inter);
    fw_alloc(e, &a->inter, m, sizeof *a->inter);
    fw_alloc(e, &a->b_inter, mb, sizeof *a->b_inter);
    fw_alloc(e, &a->xc, (size_t)fw_n_slots(e) * m, sizeof *a->xc);
    fw_alloc(e, &a->xe, (size_t)fw_n_slots(e) * m, sizeof *a->xe);
    fw_alloc(e, &a->bnd, (size_t)fw_n_slots(e) * m, sizeof *a->bnd);
    fw_alloc(e, &a->traffic_day, a->n_bud, sizeof *a->traffic_day);
    fw_alloc(e, &a->traffic_mid, a->n_bud, sizeof *a->traffic_mid);
    fw_alloc(e, &a->mid_spend_cents, mb, sizeof *a->mid_spend_cents);
    fw_alloc(e, &a->over_prev_cents, mb, sizeof *a->over_prev_cents);
    a->n_brands = cat->n_brands;
    fw_alloc(e, &a->brand_spend_mc, (size_t)a->n_brands + 1, sizeof *a->brand_spend_mc);
    fw_alloc(e, &a->brand_gmv, (size_t)a->n_brands + 1, sizeof *a->brand_gmv);
    fw_alloc(e, &a->conv_log, 0, sizeof *a->conv_log);   /* grows; the engine frees whatever it holds */
    fw_alloc(e, &a->smp, 0, sizeof *a->smp);             /* likewise */
    if (!a->c || !a->budget_mc || !a->spend_today_mc || !a->spend_mc || !a->over_mc ||
        !a->spend_tick_mc || !a->impr || !a->clicks || !a->conv || !a->won || !a->mult ||
        !a->throttled || !a->xc || !a->mid_spend_cents || !a->over_prev_cents || !a->brand_spend_mc ||
        !a->brand_gmv || !a->conv_log || !a->model || !a->l_impr || !a->l_clicks || !a->l_conv ||
        !a->traffic_day || !a->traffic_mid || !a->kappa || !a->ab_spend || !a->ab_conv || !a->ab_gmv || !a->aov0 ||
        !a->b_impr || !a->b_clicks || !a->b_conv || !a->b_spend_mc || !a->b_gmv || !a->shade || !a->sh_sum || !a->sh_n ||
        !a->l_inter || !a->inter || !a->b_inter || !a->xe || !a->total_mc || !a->next_mc || !a->bnd)
        return FW_ERR_NOMEM;
    a->ab_decay = exp2(-1.0 / e->ticks_per_day);
    for (uint32_t k = 0; k < n; k++) {
        const fw_campaign_info *ci = &cat->campaigns[k];
        if (ci->objective >= FW_OBJ__COUNT || ci->bid_cents <= 0 || ci->daily_budget_cents <= 0 ||
            ci->bid_cents > INT64_MAX / 1000 || ci->daily_budget_cents > INT64_MAX / 1000 ||
            ci->creative >= cat->n_notes || (ci->target_topic != FW_NONE && ci->target_topic >= e->n_topics) ||
            (cat->n_brands && ci->brand >= cat->n_brands) || ci->goal >= FW_GOAL__COUNT ||
            (ci->goal != FW_GOAL_MANUAL && (ci->objective != FW_OBJ_CPM || !(ci->target > 0.0) || !isfinite(ci->target))))
            return FW_ERR_INVAL;
        a->c[k] = *ci;
        a->total_mc[k] = ci->daily_budget_cents * 1000;
    }
    /* A ROAS campaign's prior order value: its brand's mean product price (1 CNY without).
     * The brands' sums are taken once, in product order (the same additions, so the same bits
     * as a campaign's own pass over the products, which made creation O(campaigns x
     * products): minutes at ten million campaigns). Without brands there is no product (the
     * shop refuses a catalog whose products have no brand to belong to). */
    double *bsum = cat->n_brands ? calloc(cat->n_brands, sizeof *bsum) : NULL;
    uint32_t *bcnt = cat->n_brands ? calloc(cat->n_brands, sizeof *bcnt) : NULL;
    if (cat->n_brands && (!bsum || !bcnt)) {
        free(bsum);
        free(bcnt);
        return FW_ERR_NOMEM;
    }
    for (uint32_t p = 0; bsum && cat->products && p < cat->n_products; p++)
        if (cat->products[p].brand < cat->n_brands) {   /* another brand no campaign has */
            bsum[cat->products[p].brand] += (double)cat->products[p].price_cents;
            bcnt[cat->products[p].brand]++;
        }
    for (uint32_t k = 0; k < n; k++) {
        uint32_t brand = cat->campaigns[k].brand;   /* < n_brands: checked above */
        uint32_t cnt = bcnt ? bcnt[brand] : 0;
        a->aov0[k] = cnt ? bsum[brand] / cnt : 100.0;
    }
    free(bsum);
    free(bcnt);
    fw_err rc = books_room(e, a);
    if (rc != FW_OK)
        return rc;
    for (size_t i = 0; i < mb; i++) {
        a->kappa[i] = a->shade[i] = 1.0;
        a->next_mc[i] = -1;
    }
    split_budgets(e, a);
    for (size_t i = 0; i < mb && n; i++)
        a->throttled[i] = (uint8_t)unaffordable(a, i, (uint32_t)(i % n));
    for (uint32_t l = 0; l < a->n_learn; l++)
        a->model[l].w[AD_F_CAMPAIGN] = 1.0;
    for (uint32_t slot = 0; slot < fw_n_slots(e); slot++)
        a->bounded |= fw_cfg(e, fw_slot_cell(e, slot))->ads.scan == FW_SCAN_BOUNDED;
    refresh_xc(e, a);
    for (size_t i = 0; n && i < (size_t)fw_n_slots(e) * n; i++)
        a->bnd[i].campaign = (uint32_t)(i % n);   /* rebuild_bounds starts from the last order */
    rebuild_bounds(e, a);
    if (n) {
        fw_alloc(e, &a->u_impr, e->n_users, sizeof *a->u_impr);
        fw_alloc(e, &a->u_click, e->n_users, sizeof *a->u_click);
        if (!a->u_impr || !a->u_click)
            return FW_ERR_NOMEM;
        if (!fw_alloc(e, &a->urow, e->n_users, sizeof *a->urow))
            return FW_ERR_NOMEM;
    }
    return FW_OK;
}

static void ads_destroy(fw_engine *e, void *state)
{
    struct fw_ads *a = state;
    for (uint32_t u = 0; a && a->urow && u < e->n_users; u++)
        free(a->urow[u]);
}

static void ads_ctx_destroy(void *ctx)
{
    ads_ctx *c = ctx;
    if (!c)
        return;
    free(c->bids);
    free(c->map);
    free(c->scratch);
    free(c);
}

static fw_err ads_ctx_create(const fw_engine *e, const void *state, void **ctx)
{
    (void)e;
    const struct fw_ads *a = state;
    ads_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return FW_ERR_NOMEM;
    *ctx = c;
    uint32_t m = a->n ? a->n : 1;
    c->bids = malloc(m * sizeof *c->bids);
    c->map = malloc(m * sizeof *c->map);
    c->scratch = malloc(m * sizeof *c->scratch);
    return c->bids && c->map && c->scratch ? FW_OK : FW_ERR_NOMEM;
}

/* ---- estimates ------------------------------------------------------------------------ */

static double logit_of(double p)
{
    p = p < 1e-6 ? 1e-6 : p > 1.0 - 1e-6 ? 1.0 - 1e-6 : p;
    return log(p / (1.0 - p));
}

/* Every campaign's daily budget (as revised so far) split across the budget cells by the
 * cells' traffic shares (millicents rounded down, the rest to cell 0); until users are placed
 * in cells, cell 0 holds every budget. */
static void split_budgets(const fw_engine *e, struct fw_ads *a)
{
    for (uint32_t k = 0; k < a->n; k++) {
        int64_t whole = a->total_mc[k], rest = whole;
        for (uint32_t b = 1; b < a->n_bud; b++) {
            int64_t share = e->placed ? (int64_t)floor((double)whole * e->cell_share[b]) : 0;
            share = share < 0 ? 0 : share > rest ? rest : share;
            a->budget_mc[(size_t)b * a->n + k] = share;
            rest -= share;
        }
        a->budget_mc[k] = rest;
    }
}

/* The campaign's CTR as a slot's learner has seen it, smoothed towards its cell's prior. */
static double camp_ctr(const fw_engine *e, const struct fw_ads *a, uint32_t slot, uint32_t k)
{
    const fw_ads_cfg *g = &fw_cfg(e, fw_slot_cell(e, slot))->ads;
    size_t i = (size_t)fw_slot_learner(e, slot) * a->n + k;
    return (a->l_clicks[i] + g->ctr_prior * g->prior_weight) / (a->l_impr[i] + g->prior_weight);
}

/* Every slot's campaign features, recomputed at each barrier (they change only there). The
 * engagement feature is the logit lift of the creative's interactions per click (smoothed
 * towards the learner's rate with ENGAGE_PRIOR_CLICKS) over that rate; exactly 0 while the
 * learner has seen no interaction on any ad. */
static void refresh_xc(const fw_engine *e, struct fw_ads *a)
{
    for (uint32_t slot = 0; slot < fw_n_slots(e); slot++) {
        size_t l = (size_t)fw_slot_learner(e, slot) * a->n;
        uint64_t inter = 0, clicks = 0;
        for (uint32_t k = 0; k < a->n; k++) {
            inter += a->l_inter[l + k];
            clicks += a->l_clicks[l + k];
        }
        /* Interactions per click can exceed 1 (a like, a save and a comment): the logit is of
         * the rate over the three kinds. */
        double p0 = ((double)inter + 1.0) / (3.0 * (double)clicks + 10.0);
        double lp0 = inter ? logit_of(p0) : 0.0;   /* the slot's, once (a log a campaign saved) */
        for (uint32_t k = 0; k < a->n; k++) {
            a->xc[(size_t)slot * a->n + k] = logit_of(camp_ctr(e, a, slot, k));
            double pk = ((double)a->l_inter[l + k] + ENGAGE_PRIOR_CLICKS * 3.0 * p0) /
                        (3.0 * ((double)a->l_clicks[l + k] + ENGAGE_PRIOR_CLICKS));
            a->xe[(size_t)slot * a->n + k] = inter ? logit_of(pk) - lp0 : 0.0;
        }
    }
}

/* The user's ad CTR lift (logit against the prior of the cell serving them). */
static double user_feature(const fw_engine *e, const struct fw_ads *a, uint32_t cell, uint32_t user)
{
    const fw_ads_cfg *g = &fw_cfg(e, cell)->ads;
    double ur = (a->u_click[user] + g->ctr_prior * 20.0) / (a->u_impr[user] + 20.0);
    return logit_of(ur) - logit_of(g->ctr_prior);
}

static void ad_features(const struct fw_ads *a, uint32_t slot, double xu, uint32_t k, int match, double *x)
{
    x[AD_F_BIAS] = 1.0;
    x[AD_F_CAMPAIGN] = a->xc[(size_t)slot * a->n + k];
    x[AD_F_USER] = xu;
    x[AD_F_MATCH] = match ? 1.0 : 0.0;
    x[AD_F_ENGAGE] = a->xe[(size_t)slot * a->n + k];
}

static double p_model(const ad_model *m, const double *x)
{
    double z = 0.0;
    for (int f = 0; f < AD_F__COUNT; f++)
        z += m->w[f] * x[f];
    return 1.0 / (1.0 + exp(-z));
}

/* Whether campaign k's creative is on one of the user's topics (topics[n]) or the context. */
static int topic_match(const fw_engine *e, const struct fw_ads *a, uint32_t k, const uint32_t *topics,
                       uint32_t n, uint32_t context)
{
    uint32_t t = e->notes[a->c[k].creative].topic;
    if (t == context)
        return 1;
    for (uint32_t j = 0; j < n; j++)
        if (topics[j] == t)
            return 1;
    return 0;
}

/* pCTR of campaign k for a user served by slot (their feature xu): the slot's learned model. */
static double p_ctr(const fw_engine *e, const struct fw_ads *a, uint32_t slot, double xu, uint32_t k, int match)
{
    double x[AD_F__COUNT];
    ad_features(a, slot, xu, k, match, x);
    return p_model(&a->model[fw_slot_learner(e, slot)], x);
}

static double p_cvr(const fw_engine *e, const struct fw_ads *a, uint32_t slot, uint32_t k)
{
    const fw_ads_cfg *g = &fw_cfg(e, fw_slot_cell(e, slot))->ads;
    size_t i = (size_t)fw_slot_learner(e, slot) * a->n + k;
    double w = g->prior_weight * g->ctr_prior;   /* the prior's weight in clicks */
    return (a->l_conv[i] + g->cvr_prior * w) / (a->l_clicks[i] + w);
}

/* ---- autobidding ------------------------------------------------------------------------ */

/* A ROAS campaign's mean attributed order value in budget cell slot i: its decayed GMV over
 * its decayed conversions, with one order at its brand's mean price as the prior. */
static double mean_order_value(const struct fw_ads *a, size_t i, uint32_t c)
{
    return (a->ab_gmv[i] + a->aov0[c]) / (a->ab_conv[i] + 1.0);
}

/* A goal campaign's value of one impression to user (cents): pCTR x pCVR x the value of a
 * conversion x its goal multiplier in budget cell slot i (flywheel/ads.h, fw_ad_goal). */
static double autobid_value(const struct fw_ads *a, size_t i, uint32_t c, double pc, double pv)
{
    const fw_campaign_info *ci = &a->c[c];
    double conv_value = ci->goal == FW_GOAL_TARGET_ROAS ? mean_order_value(a, i, c) / ci->target : ci->target;
    return pc * pv * conv_value * a->kappa[i];
}

/* One barrier of a goal campaign's controller in budget cell slot i: the tick's spend into
 * the decayed books, then the goal multiplier moved by autobid_lr times the relative error
 * of the realised CPA or ROAS (each with one order at target as its prior, so that no
 * conversion yet reads as on target, and clipped to [-1, 1]), kept in [0.05, 20]. */
static void autobid_step(struct fw_ads *a, const fw_ads_cfg *g, size_t i, uint32_t c)
{
    const fw_campaign_info *ci = &a->c[c];
    a->ab_spend[i] = a->ab_spend[i] * a->ab_decay + (double)a->spend_tick_mc[i] / 1000.0;
    a->ab_conv[i] *= a->ab_decay;
    a->ab_gmv[i] *= a->ab_decay;
    double err = 0.0;
    if (ci->goal == FW_GOAL_TARGET_CPA) {
        double cpa = (a->ab_spend[i] + ci->target) / (a->ab_conv[i] + 1.0);
        err = (ci->target - cpa) / ci->target;
    } else if (ci->goal == FW_GOAL_TARGET_ROAS) {
        double s0 = a->aov0[c] / ci->target;   /* the spend of one order at target */
        double roas = (a->ab_gmv[i] + a->aov0[c]) / (a->ab_spend[i] + s0);
        err = (roas - ci->target) / ci->target;
    }
    err = err < -1.0 ? -1.0 : err > 1.0 ? 1.0 : err;
    double k = a->kappa[i] * exp(g->autobid_lr * err);
    a->kappa[i] = k < 0.05 ? 0.05 : k > 20.0 ? 20.0 : k;
}

/* First-price shading, at a barrier: with wins this tick, the shade moves a fifth of the way
 * to the one that would have bid 5% over their mean minimum bid to win (shade x mean(min bid /
 * price) x 1.05), kept in [0.05, 1]; without, it creeps up 0.1% (towards bidding the value),
 * so that a campaign shaded out of every auction finds its way back. The minimum bid to win
 * is what first-price exchanges report to bidders. */
static void autobid_shade_step(struct fw_ads *a, size_t i)
{
    double s = a->shade[i];
    if (a->sh_n[i]) {
        double want = s * (a->sh_sum[i] / a->sh_n[i]) * 1.05;
        want = want < 0.05 ? 0.05 : want > 1.0 ? 1.0 : want;
        s = 0.8 * s + 0.2 * want;
    } else {
        s *= 1.001;
    }
    a->shade[i] = s > 1.0 ? 1.0 : s < 0.05 ? 0.05 : s;
    a->sh_sum[i] = 0.0;
    a->sh_n[i] = 0;
}

/* ---- serving -------------------------------------------------------------------------- */

/* ---- the bounded scan (engine.ads.scan bounded) ------------------------------------------ */

/* An upper bound on campaign k's auction score (bid x quality) in any request served by slot,
 * to be multiplied by the request's own factor (user_factor). The score is bid x q x w: the
 * safety weight w is 0, 1 or a down-rank in [0, 1]; q is 1 (CPM, autobidders), the pCTR (CPC)
 * or pCTR x pCVR (conversions), clamped to [1e-9, 1]. The pCTR is sigma(s + c), with the
 * campaign's side s = w_bias + w_campaign xc + w_engage xe and the request's c = w_user xu +
 * w_match match, and sigma(s + c) <= sigma(s) max(1, e^c) (for c >= 0: (1 + e^-s) <= e^c (1 +
 * e^-(s+c)) as 1 <= e^c). An autobidder bids min(its value, its cap) over 1 + its pacing
 * multiplier, its value linear in the pCTR, times its shade under first price when the shade is
 * above 1 (the reserve only lifts a shaded bid to at most its unshaded value). A plug-in's campaign has no bound: its bidder is
 * asked in every auction, as under the full scan. A throttled campaign bids in none: -1, last.
 * One part in 10^9 covers the rounding of the
 * exact path's arithmetic (same terms, another order). */
static double bound_of(const fw_engine *e, const struct fw_ads *a, uint32_t slot, uint32_t bud, uint32_t k)
{
    const fw_campaign_info *ci = &a->c[k];
    size_t i = (size_t)bud * a->n + k;
    if (fw_bidder_controls(e, bud, k))
        return INFINITY;
    if (a->throttled[i])
        return -1.0;   /* out of every auction until a hook clears it (and rebuilds) */
    const ad_model *m = &a->model[fw_slot_learner(e, slot)];
    size_t x = (size_t)slot * a->n + k;
    double z = m->w[AD_F_BIAS] + m->w[AD_F_CAMPAIGN] * a->xc[x] + m->w[AD_F_ENGAGE] * a->xe[x];
    double pc = 1.0 / (1.0 + exp(-z)), ub;   /* the pCTR's bound at a user factor of 1 */
    if (ci->goal != FW_GOAL_MANUAL) {
        /* min(value, cap) <= min(value at factor 1, cap) x f for f >= 1: the value is linear in the pCTR. */
        double v = autobid_value(a, i, k, pc, p_cvr(e, a, slot, k)), cap = (double)ci->bid_cents / 1000.0;
        int first = fw_cfg(e, fw_slot_cell(e, slot))->ads.pay_rule == FW_PAY_FIRST;
        ub = (v < cap ? v : cap) / (1.0 + a->mult[i]) * (first && a->shade[i] > 1.0 ? a->shade[i] : 1.0);
    } else if (ci->objective == FW_OBJ_CPM) {
        ub = (double)ci->bid_cents / (1.0 + a->mult[i]) / 1000.0;
    } else {
        double q = ci->objective == FW_OBJ_CPC ? pc : pc * p_cvr(e, a, slot, k);
        ub = (double)ci->bid_cents / (1.0 + a->mult[i]) * (q > 1e-9 ? q : 1e-9);
    }
    ub *= 1.0 + 1e-9;
    return ub >= 0.0 ? ub : INFINITY;   /* NaN: no bound */
}

static int cmp_bound(const void *x, const void *y)
{
    const ad_bound *p = x, *q = y;
    if (p->ub != q->ub)
        return p->ub > q->ub ? -1 : 1;
    return p->campaign < q->campaign ? -1 : p->campaign > q->campaign;
}

/* Sorts b[0..n) by cmp_bound from the order it is in: an insertion sort, about n compares on
 * the nearly sorted arrays successive rebuilds give (bounds move little between barriers),
 * handing over to qsort once it has moved entries more than 8n + 64 places in all. The order
 * is total (campaigns are distinct), so the array is the one a qsort of any order gives. */
static void sort_bounds(ad_bound *b, uint32_t n)
{
    uint64_t moved = 0, limit = 8 * (uint64_t)n + 64;
    for (uint32_t i = 1; i < n; i++) {
        ad_bound x = b[i];
        uint32_t j = i;
        while (j > 0 && cmp_bound(&x, &b[j - 1]) < 0) {
            b[j] = b[j - 1];
            j--;
        }
        b[j] = x;
        if ((moved += i - j) > limit) {
            qsort(b, n, sizeof *b, cmp_bound);
            return;
        }
    }
}

/* Every bounded slot's campaigns in descending order of their bound. Called by every hook that
 * moves what a bound reads (the models and features, pCVRs, multipliers, shades, throttles), so requests
 * between barriers read bounds of the state they bid with. Each slot's array holds a permutation
 * of the campaigns (ads_create sets the identity, ads_snap refuses a loaded order that is
 * not one), re-sorted from the last rebuild's order: sorting from scratch at several hooks a
 * tick in every bounded slot was about 15% of a 16-arm run (perf: qsort and cmp_bound). */
static void rebuild_bounds(const fw_engine *e, struct fw_ads *a)
{
    if (!a->bounded)
        return;
    for (uint32_t slot = 0; slot < fw_n_slots(e); slot++) {
        uint32_t cell = fw_slot_cell(e, slot);
        if (fw_cfg(e, cell)->ads.scan != FW_SCAN_BOUNDED)
            continue;
        ad_bound *b = a->bnd + (size_t)slot * a->n;
        for (uint32_t k = 0; k < a->n; k++)
            b[k].ub = bound_of(e, a, slot, bud_of(a, cell), b[k].campaign);
        sort_bounds(b, a->n);
    }
}

/* The request's factor on every pCTR bound: max(1, e^c) with c's largest value for this user,
 * w_user xu + max(0, w_match). */
static double user_factor(const fw_engine *e, const struct fw_ads *a, uint32_t slot, double xu)
{
    const ad_model *m = &a->model[fw_slot_learner(e, slot)];
    double c = m->w[AD_F_USER] * xu + (m->w[AD_F_MATCH] > 0.0 ? m->w[AD_F_MATCH] : 0.0);
    return c > 0.0 ? exp(c) * (1.0 + 1e-9) : 1.0;
}

static uint32_t day_of(const fw_engine *e, int32_t tick)
{
    /* A tick before 0 (a warm-up's, issue 18) is on day 2^32 - k, k days before day 0, as the
     * simulator numbers them: its frequency caps are its own day's. */
    return (uint32_t)fw_tick_day(tick, e->ticks_per_day);
}

/* A frequency cap's day tag: day + 1 (0 is an empty slot); a warm-up's day 2^32 - k gets
 * 65536 - k, never 0 and never a recorded day's (at most 3651). */
static uint16_t cap_tag(uint32_t day)
{
    return day < UINT32_C(0x80000000) ? (uint16_t)(day + 1) : (uint16_t)(0x8000u | (day & 0x7fffu));
}

/* User u's row, for reading: the empty one while u has none. */
static const ads_user *urow_of(const struct fw_ads *a, uint32_t u)
{
    return a->urow[u] ? a->urow[u] : &no_ads;
}

/* User u's row, made at the first write (only u's request or a barrier writes it); NULL out
 * of memory, which a->oom makes the next barrier report. */
static ads_user *urow_make(struct fw_ads *a, uint32_t u)
{
    if (!a->urow[u]) {
        ads_user *x = malloc(sizeof *x);
        if (!x) {
            __atomic_store_n(&a->oom, 1, __ATOMIC_RELAXED);
            return NULL;
        }
        *x = no_ads;
        a->urow[u] = x;
    }
    return a->urow[u];
}

static fcap *cap_of(struct fw_ads *a, uint32_t user, uint32_t campaign, uint32_t day, int make)
{
    if (!a->urow[user] && !make)
        return NULL;   /* no cap today: as the empty row answers */
    ads_user *x = urow_make(a, user);
    if (!x)
        return NULL;
    fcap *row = x->cap;
    int free_k = -1;
    for (int k = 0; k < FCAP_K; k++) {
        if (row[k].day == cap_tag(day) && row[k].campaign == campaign)
            return &row[k];
        if (row[k].day != cap_tag(day) && free_k < 0)
            free_k = k;
    }
    if (!make || free_k < 0)
        return NULL;
    row[free_k] = (fcap){.campaign = campaign, .count = 0, .day = cap_tag(day)};
    return &row[free_k];
}

/* What every campaign's bid in one request reads (fw_ads_fill). */
typedef struct fill_req {
    const fw_ad_req *req;
    const fw_ads_cfg *g;
    uint32_t cell, bud, slot, day, n_slots;
    size_t bo;   /* the budget cell's offset */
    double xu;   /* the user's ad CTR feature */
    uint32_t topics[16], n_topics;
    uint32_t capped[FCAP_K], n_capped;
    int full;    /* the user's cap table is full today */
} fill_req;

/* Whether an advertiser who joins on first_day is there on day. The world's advertisers
 * (first_day 0) were there before the run, so on a warm-up's days too; one who joins later
 * (world.join_share: days 1 ..) joins on a recorded day. Days are signed here: a warm-up's
 * (2^32 - W .., the ticks below 0) come before every later first day. */
static int joined_on(uint32_t day, uint32_t first_day)
{
    return first_day == 0 || ((int32_t)day >= 0 && day >= first_day);
}

/* Campaign c's bid and quality in the request (as the auction takes them: the quality times
 * the safety weight, an autobidder's bid shaded under first price), or 0 when it stays out. */
static int bid_of(fw_engine *e, fw_engine_ctx *ctx, struct fw_ads *a, const fill_req *r, uint32_t c, fw_bid *out)
{
    const fw_campaign_info *ci = &a->c[c];
    const fw_ads_cfg *g = r->g;
    if (a->throttled[r->bo + c] || !joined_on(r->day, ci->first_day))
        return 0;
    /* Ads are notes: moderation's action on the creative holds in the auction too (out, or its
     * quality score times the down-rank). */
    double safety_w = fw_safety_w(e, r->cell, r->req->user, ci->creative);
    if (safety_w == 0.0)
        return 0;
    if (ci->target_topic != FW_NONE && ci->target_topic != r->req->topic) {
        uint32_t j = 0;
        while (j < r->n_topics && r->topics[j] != ci->target_topic)
            j++;
        if (j == r->n_topics)
            return 0;
    }
    if (g->freq_cap) {
        uint32_t j = 0;
        while (j < r->n_capped && r->capped[j] != c)
            j++;
        if (j < r->n_capped || (r->full && !cap_of(a, r->req->user, c, r->day, 0)))
            return 0;
    }
    double bid, q;
    if (fw_bidder_controls(e, r->bud, c)) {
        /* A bidder plug-in bids, outside the platform's pacing, with the platform's estimates. */
        int match = topic_match(e, a, c, r->topics, r->n_topics, r->req->topic);
        double pc = p_ctr(e, a, r->slot, r->xu, c, match), pv = p_cvr(e, a, r->slot, c);
        size_t bi = r->bo + c;
        fw_bid_request br = {
            .campaign = c, .user = r->req->user, .cell = r->cell, .tick = r->req->tick,
            .tick_of_day = (uint32_t)((int64_t)r->req->tick - (int64_t)(int32_t)r->day * e->ticks_per_day),
            .context_topic = r->req->topic, .n_slots = r->n_slots, .topic_match = (uint32_t)match,
            .user_ad_impressions = a->u_impr[r->req->user], .user_ad_clicks = a->u_click[r->req->user],
            .p_ctr = pc, .p_cvr = pv, .budget_cents = a->budget_mc[bi] / 1000.0,
            .spent_today_cents = a->spend_today_mc[bi] / 1000.0};
        bid = fw_bidder_bid(e, ctx, r->bud, &br);
        if (!(bid > 0.0))
            return 0;   /* stays out (0), or a fault the barrier reports */
        q = ci->objective == FW_OBJ_CPM ? 1.0 : ci->objective == FW_OBJ_CPC ? pc : pc * pv;
        if (ci->objective == FW_OBJ_CPM)
            bid /= 1000.0;
    } else if (ci->goal != FW_GOAL_MANUAL) {
        /* The platform's autobidder: the impression's value, paced; billed per impression. */
        int match = topic_match(e, a, c, r->topics, r->n_topics, r->req->topic);
        double v = autobid_value(a, r->bo + c, c, p_ctr(e, a, r->slot, r->xu, c, match), p_cvr(e, a, r->slot, c));
        double cap = (double)ci->bid_cents / 1000.0;
        bid = (v < cap ? v : cap) / (1.0 + a->mult[r->bo + c]);
        q = 1.0;
        if (g->pay_rule == FW_PAY_FIRST) {
            /* Under first price it shades by what it learned (autobid_shade_step), but not under
             * the reserve while the value clears it (it would lose for nothing). */
            double reserve = g->reserve_cpm_cents / 1000.0, sh = bid * a->shade[r->bo + c];
            bid = bid >= reserve && sh < reserve ? reserve : sh;
        }
    } else {
        bid = (double)ci->bid_cents / (1.0 + a->mult[r->bo + c]);
        int match = ci->objective == FW_OBJ_CPM ? 0 : topic_match(e, a, c, r->topics, r->n_topics, r->req->topic);
        switch (ci->objective) {
        case FW_OBJ_CPM: bid /= 1000.0; q = 1.0; break;   /* per impression */
        case FW_OBJ_CPC: q = p_ctr(e, a, r->slot, r->xu, c, match); break;
        default: q = p_ctr(e, a, r->slot, r->xu, c, match) * p_cvr(e, a, r->slot, c); break;
        }
    }
    if (!(q > 0.0) || q > 1.0)
        q = q > 1.0 ? 1.0 : 1e-9;
    *out = (fw_bid){.id = c, .bid = bid, .quality = q * safety_w};
    return 1;
}

/* Keeps top[0..*n) the largest scores seen, descending, at most m of them. */
static void keep_top(double *top, uint32_t *n, uint32_t m, double score)
{
    uint32_t j = *n < m ? (*n)++ : m;
    if (j == m && !(score > top[m - 1]))
        return;
    if (j == m)
        j = m - 1;
    while (j > 0 && top[j - 1] < score) {
        top[j] = top[j - 1];
        j--;
    }
    top[j] = score;
}

uint32_t fw_ads_fill(fw_engine *e, fw_engine_ctx *ctx, const fw_ad_req *req, uint32_t k, fw_ad_fill *out)
{
    int64_t t0 = fw_now_ns();
    struct fw_ads *a = A_of(e);
    if (!a || a->n == 0 || req->user >= e->n_users || req->arm >= e->n_arms || k == 0)
        return 0;
    if (k > MAX_SLOTS)
        k = MAX_SLOTS;
    ads_ctx *ac = ctx->mod[FW_MOD_ADS];
    fill_req r = {.req = req, .g = &fw_cfg(e, req->arm)->ads, .cell = req->arm, .n_slots = k,
                  .day = day_of(e, req->tick)};
    const fw_ads_cfg *g = r.g;
    /* The user's side, once per request: the topics they engage with, the campaigns they
     * have seen up to the cap today, and whether their cap table is full (a campaign it
     * cannot hold is capped too: caps stay exact, at most FCAP_K campaigns a day). */
    r.n_topics = fw_shop_engaged_topics(e, req->user, r.topics, 16);
    r.bud = bud_of(a, r.cell);
    r.bo = (size_t)r.bud * a->n;   /* the cell's budget state */
    r.slot = fw_slot_of(e, r.cell, req->user);   /* the user's learner */
    r.xu = user_feature(e, a, r.cell, req->user);
    if (g->freq_cap) {
        const fcap *row = urow_of(a, req->user)->cap;
        r.full = 1;
        for (int j = 0; j < FCAP_K; j++) {
            if (row[j].day != cap_tag(r.day))
                r.full = 0;
            else if (row[j].count >= g->freq_cap)
                r.capped[r.n_capped++] = row[j].campaign;
        }
    }
    uint32_t nb = 0;
    if (g->scan == FW_SCAN_BOUNDED && r.full) {
        /* A full cap table leaves only its own campaigns under their cap today (bid_of's cap
         * test): they are the candidates, whatever their bounds. */
        const fcap *row = urow_of(a, req->user)->cap;
        for (int j = 0; j < FCAP_K; j++)
            if (row[j].count < g->freq_cap && bid_of(e, ctx, a, &r, row[j].campaign, &ac->bids[nb]))
                ac->map[nb++] = row[j].campaign;
    } else if (g->scan == FW_SCAN_BOUNDED) {
        /* Campaigns in descending order of their bound; the auction ranks by score and prices
         * with the k + 1 best at or above the reserve (flywheel/auction.h), so once a bound
         * falls below the (k + 1)-th best score found (or the reserve), no campaign left can
         * change a winner or a price: the same outcome as the full scan. */
        const ad_bound *b = a->bnd + (size_t)r.slot * a->n;
        double f = user_factor(e, a, r.slot, r.xu), reserve = g->reserve_cpm_cents / 1000.0;
        double top[MAX_SLOTS + 1];
        uint32_t n_top = 0;
        for (uint32_t j = 0; j < a->n; j++) {
            double floor_score = n_top == k + 1 && top[k] > reserve ? top[k] : reserve;
            if (b[j].ub * f < floor_score)
                break;
            if (!bid_of(e, ctx, a, &r, b[j].campaign, &ac->bids[nb]))
                continue;
            double sc = ac->bids[nb].bid * ac->bids[nb].quality;
            if (sc >= reserve)
                keep_top(top, &n_top, k + 1, sc);
            ac->map[nb] = b[j].campaign;
            nb++;
        }
    } else {
        for (uint32_t c = 0; c < a->n; c++)
            if (bid_of(e, ctx, a, &r, c, &ac->bids[nb]))
                ac->map[nb++] = c;
    }
    double slot_ctr[MAX_SLOTS];
    for (uint32_t j = 0; j < k; j++)
        slot_ctr[j] = 1.0;   /* feed ad slots are alike: one impression each */
    fw_win wins[MAX_SLOTS];
    fw_err err;
    uint32_t n = fw_auction_run(ac->bids, nb, slot_ctr, k, g->reserve_cpm_cents / 1000.0,
                                (fw_pay_rule)g->pay_rule, ac->scratch, wins, &err);
    /* Each winner's minimum bid to win: the GSP price of its slot (the same ranking). */
    fw_win mbw[MAX_SLOTS];
    if (g->pay_rule != FW_PAY_GSP && n > 0 &&
        fw_auction_run(ac->bids, nb, slot_ctr, k, g->reserve_cpm_cents / 1000.0, FW_PAY_GSP, ac->scratch, mbw, &err) != n)
        n = 0;   /* cannot happen: the ranking does not depend on the payment rule */
    for (uint32_t j = 0; j < n; j++) {
        uint32_t c = ac->map[wins[j].bidder];
        double price = wins[j].price * (a->c[c].objective == FW_OBJ_CPM ? 1000.0 : 1.0);
        /* Rounded down (never above the bid), but not below what the double meant: bid / 1000
         * * 1000 can land a hair under the bid. */
        int64_t cents = (int64_t)floor(price + 1e-6);
        if (cents > a->c[c].bid_cents)
            cents = a->c[c].bid_cents;
        double least = (g->pay_rule == FW_PAY_GSP ? wins[j].price : mbw[j].price) *
                       (a->c[c].objective == FW_OBJ_CPM ? 1000.0 : 1.0);
        int64_t least_cents = (int64_t)floor(least + 1e-6);
        if (least_cents > a->c[c].bid_cents)   /* never above a bid it could make */
            least_cents = a->c[c].bid_cents;
        out[j] = (fw_ad_fill){.campaign = c, .note = a->c[c].creative, .price_cents = cents,
                              .min_bid_cents = least_cents};
        fcap *fc = g->freq_cap ? cap_of(a, req->user, c, r.day, 1) : NULL;
        if (fc)
            fc->count++;
    }
    ctx->work[FW_WORK_AUCTIONS]++;
    ctx->work[FW_WORK_AD_BIDDERS] += nb;
    fw_hist_record(&ctx->lat[FW_STAGE_ADS], fw_now_ns() - t0);
    return n;
}

/* ---- billing -------------------------------------------------------------------------- */

/* Bills charge_mc to campaign c in budget cell b if its budget of the day allows; else
 * overdelivery. A campaign that cannot afford its largest possible charge leaves the cell's
 * auctions for the day. */
static int64_t charge(struct fw_ads *a, uint32_t b, uint32_t c, int64_t charge_mc, int64_t bid_mc)
{
    int64_t billed = 0;
    size_t i = (size_t)b * a->n + c;
    if (charge_mc > bid_mc)
        a->price_over_bid++;
    if (charge_mc > a->budget_mc[i] - a->spend_today_mc[i]) {   /* 0 <= spent <= budget: no overflow */
        int64_t total;
        if (__builtin_add_overflow(a->over_total_mc, charge_mc, &total)) {
            a->overflow = 1;   /* the barrier fails (overflow_err); the books keep what they held */
        } else {
            a->over_total_mc = total;
            a->over_mc[i] += charge_mc;
        }
    } else {
        billed = charge_mc;
        a->spend_today_mc[i] += charge_mc;
        a->spend_mc[c] += charge_mc;
        a->spend_tick_mc[i] += charge_mc;
        a->b_spend_mc[i] += charge_mc;
        a->revenue_mc += charge_mc;
        a->charges_mc += charge_mc;
    }
    if (unaffordable(a, i, c))
        a->throttled[i] = 1;
    return billed;
}

static void remember(struct fw_ads *a, uint32_t user, uint32_t c, int32_t tick, int64_t price, int clicked)
{
    ads_user *x = urow_make(a, user);
    if (!x)
        return;   /* a->oom: log_ads fails */
    touch *row = x->t;
    uint32_t k = 0;
    while (k < TOUCH_K - 1 && row[k].campaign != c)
        k++;
    touch t = row[k].campaign == c ? row[k] : (touch){.campaign = c, .view_tick = tick, .click_tick = INT32_MIN};
    if (clicked)
        t.click_tick = tick;
    else
        t.view_tick = tick;
    t.price_cents = price;
    memmove(&row[1], &row[0], k * sizeof *row);
    row[0] = t;
}

/* The tick's likes, saves and comments on ads' creatives (FW_EV_AD), each credited to the
 * campaign of the user's latest click on an ad showing that creative (a brand's campaigns may
 * share one); none credited without such a click. After log_ads: this tick's clicks are in
 * the touches. */
static void log_ad_engagement(const fw_engine *e, struct fw_ads *a, const fw_log *l)
{
    for (size_t i = 0; a && a->n && i < l->n_ev; i++) {
        const fw_event *x = &l->ev[i];
        if (!(x->type & FW_EV_AD) || !fw_event_ok(e, x))
            continue;
        const touch *row = urow_of(a, x->user)->t;
        const touch *best = NULL;
        for (int k = 0; k < TOUCH_K; k++)
            if (row[k].campaign != FW_NONE && a->c[row[k].campaign].creative == x->note &&
                row[k].click_tick != INT32_MIN && row[k].click_tick <= x->tick &&
                (!best || row[k].click_tick > best->click_tick))
                best = &row[k];
        if (!best)
            continue;
        uint32_t c = best->campaign, cell = fw_user_cell(e, x->user);
        a->l_inter[(size_t)fw_user_learner(e, x->user) * a->n + c]++;
        a->b_inter[(size_t)bud_of(a, cell) * a->n + c]++;
        a->inter[c]++;
    }
}

/* The i-th ad event of the tick's log. */
static inline fw_record *ad_at(const fw_log *l, size_t i) { return fw_log_at(l, FW_RECORD_AD_EVENT, i); }

/* The tick's ad events, billed in place (u.ad.billed_mc). */
/* log_ads' three parts. The pCTR model trains on the state the tick's requests saw: each
 * impression is a sample, clicked when the same user clicks the same campaign before seeing
 * it again. Its features read only state the books change (the users' ad counts) or later
 * hooks change (the campaigns' features, the shop's profiles), so every sample's features
 * come first, in parallel (k_ad_samples); then the SGD steps, in record order, run beside
 * the books (fw_par2), which do not read the models. */
typedef struct ads_log_job {
    fw_engine *e;
    struct fw_ads *a;
    const fw_log *l;
    size_t n;
    fw_err rc;   /* the books' */
} ads_log_job;

static void k_ad_samples(void *arg, size_t b, size_t end, int slot)
{
    const ads_log_job *j = arg;
    const fw_engine *e = j->e;
    const struct fw_ads *a = j->a;
    (void)slot;
    for (size_t i = b; i < end; i++) {
        const fw_ad_event *x = &ad_at(j->l, i)->u.ad.ev;
        ad_sample *sm = &a->smp[i];
        sm->model = FW_NONE;
        if (x->type != FW_AD_IMPRESSION || x->user >= e->n_users || x->campaign >= a->n)
            continue;
        sm->y = 0.0;
        for (size_t k = i + 1; k < j->n && ad_at(j->l, k)->u.ad.ev.user == x->user; k++) {
            const fw_ad_event *z = &ad_at(j->l, k)->u.ad.ev;
            if (z->campaign != x->campaign)
                continue;
            if (z->type == FW_AD_CLICK)
                sm->y = 1.0;
            break;
        }
        uint32_t topics[16], nt = fw_shop_engaged_topics(e, x->user, topics, 16);
        uint32_t cell = fw_user_cell(e, x->user);
        sm->model = fw_user_learner(e, x->user);
        ad_features(a, fw_slot_of(e, cell, x->user), user_feature(e, a, cell, x->user), x->campaign,
                    topic_match(e, a, x->campaign, topics, nt, FW_NONE), sm->f);
    }
}

static void ad_train(void *arg)
{
    ads_log_job *j = arg;
    struct fw_ads *a = j->a;
    for (size_t i = 0; i < j->n; i++) {
        const ad_sample *sm = &a->smp[i];
        if (sm->model == FW_NONE)
            continue;
        ad_model *m = &a->model[sm->model];
        double g = p_model(m, sm->f) - sm->y;
        for (int k = 0; k < AD_F__COUNT; k++)
            m->w[k] -= AD_LR * g * sm->f[k];
        m->trained++;
    }
}

static void ad_books(void *arg)
{
    ads_log_job *j = arg;
    fw_engine *e = j->e;
    struct fw_ads *a = j->a;
    const fw_log *l = j->l;
    for (size_t i = 0; i < j->n; i++) {
        fw_record *r = ad_at(l, i);
        const fw_ad_event *x = &r->u.ad.ev;
        int64_t billed = 0;
        r->u.ad.billed_mc = 0;
        uint32_t cell = a && x->user < e->n_users ? fw_user_cell(e, x->user) : 0, b = a ? bud_of(a, cell) : 0;
        if (a)
            a->traffic_day[b]++;
        if (!a || x->user >= e->n_users || x->campaign >= a->n || x->type >= FW_AD_EV__COUNT ||
            x->price_cents < 0 || x->price_cents > a->c[x->campaign].bid_cents) {
            j->rc = FW_ERR_INVAL;
            continue;
        }
        uint32_t c = x->campaign;
        size_t li = (size_t)fw_user_learner(e, x->user) * a->n + c;
        const fw_campaign_info *ci = &a->c[c];
        if (x->type == FW_AD_IMPRESSION) {
            a->b_impr[(size_t)b * a->n + c]++;
            a->impr[c]++;
            a->l_impr[li]++;
            a->impr_total++;
            a->u_impr[x->user]++;
            a->won[c]++;
            remember(a, x->user, c, x->tick, x->price_cents, 0);
            if (ci->goal != FW_GOAL_MANUAL && x->price_cents > 0 && x->min_bid_cents > 0 &&
                fw_cfg(e, cell)->ads.pay_rule == FW_PAY_FIRST) {
                size_t bi = (size_t)b * a->n + c;
                a->sh_sum[bi] += (double)x->min_bid_cents / (double)x->price_cents;
                a->sh_n[bi]++;
            }
            if (ci->objective == FW_OBJ_CPM)
                billed = charge(a, b, c, x->price_cents, ci->bid_cents);
        } else {
            a->b_clicks[(size_t)b * a->n + c]++;
            a->clicks[c]++;
            a->l_clicks[li]++;
            a->clicks_total++;
            a->u_click[x->user]++;
            remember(a, x->user, c, x->tick, x->price_cents, 1);
            if (ci->objective == FW_OBJ_CPC)
                billed = charge(a, b, c, x->price_cents * 1000, ci->bid_cents * 1000);
        }
        r->u.ad.billed_mc = billed;
        if (ci->brand < a->n_brands)
            a->brand_spend_mc[ci->brand] += billed;
    }
}

static fw_err log_ads(fw_engine *e, struct fw_ads *a, const fw_log *l)
{
    ads_log_job j = {.e = e, .a = a, .l = l, .n = fw_log_n(l, FW_RECORD_AD_EVENT), .rc = FW_OK};
    if (!a) {   /* no campaigns: every ad record is refused */
        ad_books(&j);
        return j.rc;
    }
    if (fw_grow((void **)&a->smp, &a->cap_smp, j.n, sizeof *a->smp, 256))
        return FW_ERR_NOMEM;
    fw_par(e, j.n, 256, k_ad_samples, &j);
    fw_par2(e, ad_train, ad_books, &j);
    log_ad_engagement(e, a, l);
    refresh_xc(e, a);
    rebuild_bounds(e, a);
    if (a->oom)
        return FW_ERR_NOMEM;
    if (a->overflow)
        return overflow_err(e, a);
    return j.rc;
}

static fw_err ads_log(fw_engine *e, void *state, fw_engine_ctx *ctx, const fw_log *l)
{
    (void)ctx;
    return log_ads(e, state, l);
}

fw_err fw_ads_log(fw_engine *e, fw_engine_ctx *ctx, const fw_ad_event *ev, size_t n, int64_t *billed_mc)
{
    (void)ctx;
    fw_record *rec = malloc((n ? n : 1) * sizeof *rec);
    if (!rec)
        return FW_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        rec[i] = (fw_record){.kind = FW_RECORD_AD_EVENT, .u.ad.ev = ev[i]};
    fw_log l = fw_log_of(rec, n, FW_RECORD_AD_EVENT);
    fw_err rc = log_ads(e, A_of(e), &l);
    for (size_t i = 0; billed_mc && i < n; i++)
        billed_mc[i] = rec[i].u.ad.billed_mc;
    free(rec);
    return rc;
}

uint32_t fw_ads_attribute(fw_engine *e, uint32_t user, uint32_t brand, int32_t tick, int64_t *billed_mc)
{
    struct fw_ads *a = A_of(e);
    if (billed_mc)
        *billed_mc = 0;
    if (!a || a->n == 0 || user >= e->n_users)
        return FW_NONE;
    /* The buyer's cell: its windows, its learner's conversions, its share of the budget. */
    uint32_t cell = fw_user_cell(e, user);
    const fw_ads_cfg *g = &fw_cfg(e, cell)->ads;
    const touch *row = urow_of(a, user)->t;
    int32_t click_w = (int32_t)(g->click_window_days * e->ticks_per_day);
    int32_t view_w = (int32_t)(g->view_window_days * e->ticks_per_day);
    int best = -1;
    for (int pass = 0; pass < 2 && best < 0; pass++)   /* clicks first, then views */
        for (int k = 0; k < TOUCH_K && best < 0; k++) {
            const touch *t = &row[k];
            if (t->campaign == FW_NONE || a->c[t->campaign].brand != brand)
                continue;
            int32_t at = pass == 0 ? t->click_tick : t->view_tick;
            if (at != INT32_MIN && tick >= at && tick - at <= (pass == 0 ? click_w : view_w))
                best = k;
        }
    if (best < 0)
        return FW_NONE;
    uint32_t c = row[best].campaign;
    size_t bi = (size_t)bud_of(a, cell) * a->n + c;
    a->b_conv[bi]++;
    a->ab_conv[bi] += 1.0;
    a->conv[c]++;
    a->l_conv[(size_t)fw_user_learner(e, user) * a->n + c]++;
    a->conv_total++;
    if (a->c[c].objective == FW_OBJ_CPA) {
        int64_t billed = charge(a, bud_of(a, cell), c, row[best].price_cents * 1000, a->c[c].bid_cents * 1000);
        if (billed_mc)
            *billed_mc = billed;
    }
    return c;
}

/* ---- pacing ----------------------------------------------------------------------------- */

static fw_err ads_end_tick(fw_engine *e, void *state, fw_engine_ctx *ctx, int32_t tick)
{
    (void)ctx;
    struct fw_ads *a = state;
    a->n_conv_log = 0;   /* the conversions of this tick's end are attributed anew */
    if (tick < a->day_start)   /* a warm-up's first day (issue 18): the day began before tick 0 */
        a->day_start = (int32_t)((int64_t)fw_tick_day(tick, e->ticks_per_day) * e->ticks_per_day);
    int32_t left = a->day_start + (int32_t)e->ticks_per_day - tick - 1;   /* ticks left today */
    /* Each budget cell paces its share under its own cell's knobs (with one budget, the
     * knobs are one value per run: cell 0's). */
    for (uint32_t b = 0; b < a->n_bud; b++) {
        const fw_ads_cfg *g = &fw_cfg(e, b)->ads;
        for (uint32_t c = 0; c < a->n; c++) {
            size_t i = (size_t)b * a->n + c;
            if (fw_bidder_controls(e, b, c)) {   /* a bidder plug-in paces itself */
                a->spend_tick_mc[i] = 0;
                continue;
            }
            if (a->c[c].goal != FW_GOAL_MANUAL) {
                autobid_step(a, g, i, c);
                if (a->sh_n[i] || g->pay_rule == FW_PAY_FIRST)   /* wins under first price, or its creep */
                    autobid_shade_step(a, i);
            }
            /* The even share of what was left when this tick began, over the ticks left then. */
            int64_t remaining = a->budget_mc[i] - a->spend_today_mc[i] + a->spend_tick_mc[i];
            double target = (double)remaining / (left + 1);
            if (g->pacing == FW_PACING_DUAL && target > 0.0) {
                /* Dual gradient on the spend rate: spend above the even share raises the
                 * multiplier (lower effective bids), below lowers it, never under 0. */
                double m = a->mult[i] + g->pacing_lr * ((double)a->spend_tick_mc[i] - target) / target;
                a->mult[i] = m > 0.0 ? (m < 100.0 ? m : 100.0) : 0.0;
            } else if (g->pacing == FW_PACING_THROTTLE) {
                /* Out for the rest of the day once spend runs ahead of the day's elapsed share. */
                double elapsed = (double)(tick - a->day_start + 1) / e->ticks_per_day;
                if ((double)a->spend_today_mc[i] > elapsed * a->budget_mc[i])
                    a->throttled[i] = 1;
            }
            a->spend_tick_mc[i] = 0;
        }
    }
    /* Midday: how much of its day each campaign has spent, against the day's traffic. */
    if (tick - a->day_start + 1 == (int32_t)(e->ticks_per_day / 2)) {
        for (uint32_t b = 0; b < a->n_bud; b++)
            a->traffic_mid[b] = a->traffic_day[b];
        for (size_t i = 0; i < (size_t)a->n_bud * a->n; i++)
            a->mid_spend_cents[i] = a->spend_today_mc[i] / 1000;
    }
    if (!e->n_notices)   /* else ads_notice, delivered next, rebuilds once for both */
        rebuild_bounds(e, a);   /* the multipliers and shades moved */
    return FW_OK;
}

/* Purchases paid this tick: the platform attributes each to an ad of the brand, if any, and
 * bills conversion campaigns (in the order the shop paid them). */
static fw_err ads_notice(fw_engine *e, void *state, const fw_notice *notice, size_t n)
{
    struct fw_ads *a = state;
    for (size_t i = 0; i < n; i++) {
        const fw_notice *x = &notice[i];
        if (x->kind != FW_NOTICE_ORDER_PAID)
            continue;
        int64_t billed;
        uint32_t camp = fw_ads_attribute(e, x->user, x->brand, x->tick, &billed);
        if (camp == FW_NONE)
            continue;
        if (fw_grow((void **)&a->conv_log, &a->cap_conv_log, a->n_conv_log + 1, sizeof *a->conv_log, 256))
            return FW_ERR_NOMEM;
        a->conv_log[a->n_conv_log++] = (fw_ad_conversion){.order = x->order, .user = x->user,
                                                          .campaign = camp, .billed_mc = billed};
        size_t bi = (size_t)bud_of(a, fw_user_cell(e, x->user)) * a->n + camp;
        int64_t total;
        if (x->value_cents < 0 || __builtin_add_overflow(a->gmv_total, x->value_cents, &total)) {
            a->overflow = 1;
            continue;
        }
        a->gmv_total = total;   /* every other GMV book is a part of it */
        a->b_gmv[bi] += x->value_cents;
        a->ab_gmv[bi] += (double)x->value_cents;
        if (x->brand < a->n_brands) {
            a->brand_spend_mc[x->brand] += billed;
            a->brand_gmv[x->brand] += x->value_cents;
        }
    }
    rebuild_bounds(e, a);   /* attributed conversions moved the pCVRs */
    return a->overflow ? overflow_err(e, a) : FW_OK;
}

/* The day's end: the books of the day (before its spend is reset), checked, then a new day. */
static fw_err ads_end_day(fw_engine *e, void *state, fw_engine_ctx *ctx, uint32_t day, int64_t *series)
{
    (void)ctx;
    struct fw_ads *a = state;
    fw_err rc = fw_ads_check(e, e->why, sizeof e->why);
    if (rc != FW_OK)
        return rc;
    memset(series, 0, SER__COUNT * sizeof *series);
    double err_sum = 0.0;
    uint32_t n_err = 0;
    for (uint32_t c = 0; c < a->n; c++)
        series[SER_budget_cents] += joined_on(day, a->c[c].first_day) ? a->total_mc[c] / 1000 : 0;
    for (uint32_t b = 0; b < a->n_bud; b++) {
        double mid_share = a->traffic_day[b] ? (double)a->traffic_mid[b] / a->traffic_day[b] : 0.5;
        for (uint32_t c = 0; c < a->n; c++) {
            size_t i = (size_t)b * a->n + c;
            int64_t spend_cents = a->spend_today_mc[i] / 1000, over_cents = a->over_mc[i] / 1000;
            series[SER_revenue_cents] += spend_cents;
            series[SER_overdelivery_cents] += over_cents - a->over_prev_cents[i];
            a->over_prev_cents[i] = over_cents;
            series[SER_campaigns_exhausted] += a->throttled[i];
            if (spend_cents > 0) {
                err_sum += fabs((double)a->mid_spend_cents[i] / spend_cents - mid_share);
                n_err++;
            }
        }
        a->traffic_day[b] = a->traffic_mid[b] = 0;
    }
    series[SER_budget_utilisation_ppm] =
        series[SER_budget_cents] ? llround(1e6 * series[SER_revenue_cents] / (double)series[SER_budget_cents]) : 0;
    series[SER_pacing_error_ppm] = n_err ? llround(1e6 * err_sum / n_err) : 0;
    for (size_t i = 0; i < (size_t)a->n_bud * a->n; i++) {
        a->spend_today_mc[i] = 0;
        if (a->next_mc[i] >= 0) {   /* an advertiser's revision takes effect with the new day */
            /* the other cells' shares (a part of the total, so no overflow) plus the new one */
            int64_t total = a->total_mc[i % a->n] - a->budget_mc[i];
            if (__builtin_add_overflow(total, a->next_mc[i], &total)) {
                snprintf(e->why, sizeof e->why,
                         "ads: campaign %zu's revised daily budget (%lld cents in cell %zu) would pass what 64-bit "
                         "millicents count", i % a->n, (long long)(a->next_mc[i] / 1000), i / a->n);
                return FW_ERR_RANGE;
            }
            a->total_mc[i % a->n] = total;
            a->budget_mc[i] = a->next_mc[i];
            a->next_mc[i] = -1;
        }
        a->throttled[i] = (uint8_t)unaffordable(a, i, (uint32_t)(i % a->n));   /* or an advertiser left */
    }
    if ((rc = books_room(e, a)) != FW_OK)   /* the new day's budgets */
        return rc;
    a->day_start = (int32_t)((day + 1) * e->ticks_per_day);
    rebuild_bounds(e, a);   /* the throttled are back */
    return FW_OK;
}

/* ---- accessors --------------------------------------------------------------------------- */

void fw_ads_budget(const fw_engine *e, uint32_t bud, uint32_t c, int64_t *budget_mc, int64_t *spent_mc,
                   int *throttled)
{
    const struct fw_ads *a = A_of(e);
    size_t i = (size_t)bud * a->n + c;
    *budget_mc = a->budget_mc[i];
    *spent_mc = a->spend_today_mc[i];
    *throttled = a->throttled[i] != 0;
}

/* Whether campaign c's advertiser has joined by the current day. */
static int joined(const fw_engine *e, const struct fw_ads *a, uint32_t c)
{
    return joined_on((uint32_t)fw_tick_day(a->day_start, e->ticks_per_day), a->c[c].first_day);
}

fw_err fw_ads_set_budget(fw_engine *e, uint32_t cell, uint32_t c, int64_t daily_budget_cents)
{
    struct fw_ads *a = A_of(e);
    if (!a || c >= a->n || cell >= e->n_arms || daily_budget_cents < 0 || daily_budget_cents > INT64_MAX / 1000)
        return FW_ERR_INVAL;
    a->next_mc[(size_t)bud_of(a, cell) * a->n + c] = daily_budget_cents * 1000;
    return FW_OK;
}

fw_err fw_ads_campaign(const fw_engine *e, uint32_t c, fw_campaign_stats *out)
{
    const struct fw_ads *a = A_of(e);
    if (!a || c >= a->n)
        return FW_ERR_INVAL;
    /* Summed over the budget cells; the multiplier is cell 0's; throttled in every cell. */
    int64_t today = 0, over = 0;
    int throttled = 1;
    for (uint32_t b = 0; b < a->n_bud; b++) {
        size_t i = (size_t)b * a->n + c;
        today += a->spend_today_mc[i];
        over += a->over_mc[i];
        throttled &= a->throttled[i] != 0;
    }
    *out = (fw_campaign_stats){.spend_today_cents = today / 1000,
                               .spend_cents = a->spend_mc[c] / 1000,
                               .overdelivery_cents = over / 1000,
                               .impressions = a->impr[c], .clicks = a->clicks[c],
                               .conversions = a->conv[c], .auctions_won = a->won[c],
                               .multiplier = a->mult[c], .throttled = throttled,
                               .goal_multiplier = a->kappa[c], .bid_shade = a->shade[c],
                               .interactions = a->inter[c],
                               .budget_cents = joined(e, a, c) ? a->total_mc[c] / 1000 : 0};
    for (uint32_t b = 0; b < a->n_bud; b++)
        out->attributed_gmv_cents += a->b_gmv[(size_t)b * a->n + c];
    return FW_OK;
}

fw_err fw_ads_campaign_cell(const fw_engine *e, uint32_t cell, uint32_t c, fw_campaign_stats *out)
{
    const struct fw_ads *a = A_of(e);
    if (!a || c >= a->n || cell >= e->n_arms)
        return FW_ERR_INVAL;
    size_t i = (size_t)bud_of(a, cell) * a->n + c;
    *out = (fw_campaign_stats){.spend_today_cents = a->spend_today_mc[i] / 1000, .spend_cents = a->b_spend_mc[i] / 1000,
                               .overdelivery_cents = a->over_mc[i] / 1000, .impressions = a->b_impr[i],
                               .clicks = a->b_clicks[i], .conversions = a->b_conv[i], .auctions_won = a->b_impr[i],
                               .multiplier = a->mult[i], .throttled = a->throttled[i] != 0,
                               .attributed_gmv_cents = a->b_gmv[i], .goal_multiplier = a->kappa[i],
                               .bid_shade = a->shade[i], .interactions = a->b_inter[i],
                               .budget_cents = joined(e, a, c) ? a->budget_mc[i] / 1000 : 0};
    return FW_OK;
}

int64_t fw_ads_revenue(const fw_engine *e)
{
    int64_t sum = 0;   /* the campaigns' spends as reported (each rounded down to cents) */
    const struct fw_ads *a = A_of(e);
    for (uint32_t c = 0; a && c < a->n; c++)
        sum += a->spend_mc[c] / 1000;
    return sum;
}

/* The books' bounds (see over_total_mc), checked first: every sum below then fits. The
 * billed books' room is what was billed before today plus every campaign's budget. */
static fw_err check_bounds(const struct fw_ads *a, char *why, size_t cap)
{
    int64_t today = 0, over = 0, gmv = 0, brands = 0, brand_gmv = 0;
    for (size_t i = 0; i < (size_t)a->n_bud * a->n; i++)
        if (!fw_add_nonneg(&today, a->spend_today_mc[i]) || today > a->revenue_mc) {
            snprintf(why, cap, "today's spends (campaign %zu in cell %zu: %lld millicents) are negative or pass the "
                     "%lld billed in all", i % a->n, i / a->n, (long long)a->spend_today_mc[i],
                     (long long)a->revenue_mc);
            return FW_ERR_INTERNAL;
        }
    int64_t room = a->revenue_mc - today;
    uint32_t k;
    if (!room_fits(a, &room, &k)) {
        snprintf(why, cap, "campaign %u: a budget of %lld millicents, beside %lld billed before today: negative, or "
                 "past what the books count", k, (long long)a->total_mc[k], (long long)(a->revenue_mc - today));
        return FW_ERR_INTERNAL;
    }
    for (k = 0; k < a->n; k++)
        if (a->spend_mc[k] < 0) {
            snprintf(why, cap, "campaign %u: a spend of %lld millicents", k, (long long)a->spend_mc[k]);
            return FW_ERR_INTERNAL;
        }
    for (size_t i = 0; i < (size_t)a->n_bud * a->n; i++)
        if (a->budget_mc[i] < 0 || a->spend_tick_mc[i] < 0 ||
            a->spend_tick_mc[i] > a->b_spend_mc[i] || a->b_spend_mc[i] < 0 || !fw_add_nonneg(&over, a->over_mc[i]) ||
            a->over_prev_cents[i] < 0 || a->over_prev_cents[i] > a->over_mc[i] / 1000 || !fw_add_nonneg(&gmv, a->b_gmv[i])) {
            snprintf(why, cap, "campaign %zu in cell %zu: an amount is negative or out of order, or overdelivery or "
                     "attributed GMV overflows", i % (a->n ? a->n : 1), i / (a->n ? a->n : 1));
            return FW_ERR_INTERNAL;
        }
    for (uint32_t b = 0; b <= a->n_brands; b++)
        if (!fw_add_nonneg(&brands, a->brand_spend_mc[b]) || !fw_add_nonneg(&brand_gmv, a->brand_gmv[b])) {
            snprintf(why, cap, "brand %u: a spend of %lld millicents or an attributed GMV of %lld cents that is "
                     "negative or overflows", b, (long long)a->brand_spend_mc[b], (long long)a->brand_gmv[b]);
            return FW_ERR_INTERNAL;
        }
    if (over != a->over_total_mc || gmv != a->gmv_total || brands > a->revenue_mc || brand_gmv > gmv) {
        snprintf(why, cap, "overdelivery %lld millicents in all, %lld by campaign; attributed GMV %lld cents in all, "
                 "%lld by campaign, %lld by brand; brands' spend %lld of %lld millicents billed",
                 (long long)a->over_total_mc, (long long)over, (long long)a->gmv_total, (long long)gmv,
                 (long long)brand_gmv, (long long)brands, (long long)a->revenue_mc);
        return FW_ERR_INTERNAL;
    }
    return FW_OK;
}

fw_err fw_ads_check(const fw_engine *e, char *why, size_t cap)
{
    const struct fw_ads *a = A_of(e);
    if (!a)
        return FW_OK;
    if (a->price_over_bid) {
        snprintf(why, cap, "%llu charges above their bid", (unsigned long long)a->price_over_bid);
        return FW_ERR_INTERNAL;
    }
    fw_err rc = check_bounds(a, why, cap);
    if (rc != FW_OK)
        return rc;
    int64_t sum = 0;
    for (uint32_t b = 0; b < a->n_bud; b++)
        for (uint32_t c = 0; c < a->n; c++) {
            size_t i = (size_t)b * a->n + c;
            if (a->spend_today_mc[i] > a->budget_mc[i]) {
                snprintf(why, cap, "campaign %u spent %lld of a %lld millicent budget today (cell %u)", c,
                         (long long)a->spend_today_mc[i], (long long)a->budget_mc[i], b);
                return FW_ERR_INTERNAL;
            }
        }
    for (uint32_t c = 0; c < a->n; c++) {
        int64_t whole = 0;
        int fits = 1;
        for (uint32_t b = 0; b < a->n_bud; b++)
            fits &= fw_add_nonneg(&whole, a->budget_mc[(size_t)b * a->n + c]);
        if (!fits || whole != a->total_mc[c]) {
            snprintf(why, cap, "campaign %u: the cells' budget shares sum to %lld millicents, not its budget (%lld)",
                     c, (long long)whole, (long long)a->total_mc[c]);
            return FW_ERR_INTERNAL;
        }
        if (!fw_add_nonneg(&sum, a->spend_mc[c])) {
            snprintf(why, cap, "the campaigns' spends overflow (campaign %u: %lld millicents)", c,
                     (long long)a->spend_mc[c]);
            return FW_ERR_INTERNAL;
        }
        if (!joined(e, a, c) && (a->spend_mc[c] != 0 || a->impr[c] != 0)) {
            snprintf(why, cap, "campaign %u joins on day %u but has spent %lld millicents on %llu impressions", c,
                     a->c[c].first_day, (long long)a->spend_mc[c], (unsigned long long)a->impr[c]);
            return FW_ERR_INTERNAL;
        }
        uint64_t inter = 0;
        for (uint32_t b = 0; b < a->n_bud; b++)
            inter += a->b_inter[(size_t)b * a->n + c];
        if (inter != a->inter[c]) {
            snprintf(why, cap, "campaign %u: %llu creative interactions after clicks, its cells' sum to %llu", c,
                     (unsigned long long)a->inter[c], (unsigned long long)inter);
            return FW_ERR_INTERNAL;
        }
        int64_t cells = 0;
        fits = 1;
        for (uint32_t b = 0; b < a->n_bud; b++)
            fits &= fw_add_nonneg(&cells, a->b_spend_mc[(size_t)b * a->n + c]);
        if (!fits || cells != a->spend_mc[c]) {
            snprintf(why, cap, "campaign %u: the cells' spends sum to %lld millicents, its spend is %lld", c,
                     (long long)cells, (long long)a->spend_mc[c]);
            return FW_ERR_INTERNAL;
        }
    }
    if (sum != a->revenue_mc || a->charges_mc != a->revenue_mc) {
        snprintf(why, cap, "revenue %lld millicents, charges %lld, campaigns' spend %lld",
                 (long long)a->revenue_mc, (long long)a->charges_mc, (long long)sum);
        return FW_ERR_INTERNAL;
    }
    return FW_OK;
}

const fw_ad_conversion *fw_ads_conversions(const fw_engine *e, size_t *n)
{
    const struct fw_ads *a = A_of(e);
    *n = a ? a->n_conv_log : 0;
    return a ? a->conv_log : NULL;
}

fw_err fw_ads_brand_books(const fw_engine *e, uint32_t brand, int64_t *spend_cents, int64_t *attributed_gmv_cents)
{
    const struct fw_ads *a = A_of(e);
    if (!a || brand >= a->n_brands)
        return FW_ERR_INVAL;
    *spend_cents = a->brand_spend_mc[brand] / 1000;
    *attributed_gmv_cents = a->brand_gmv[brand];
    return FW_OK;
}

/* Users were placed in cells: every learner starts from learner 0's model and rates, every
 * budget cell from cell 0's pacing, with its share of the budgets. */
static fw_err ads_fork(fw_engine *e, void *state)
{
    struct fw_ads *a = state;
    size_t n = a->n;
    for (uint32_t l = 1; l < a->n_learn; l++) {
        a->model[l] = a->model[0];
        memcpy(a->l_impr + l * n, a->l_impr, n * sizeof *a->l_impr);
        memcpy(a->l_clicks + l * n, a->l_clicks, n * sizeof *a->l_clicks);
        memcpy(a->l_conv + l * n, a->l_conv, n * sizeof *a->l_conv);
        memcpy(a->l_inter + l * n, a->l_inter, n * sizeof *a->l_inter);
    }
    if (a->n_bud > 1) {
        for (uint32_t b = 1; b < a->n_bud; b++) {
            memcpy(a->mult + b * n, a->mult, n * sizeof *a->mult);
            memcpy(a->kappa + b * n, a->kappa, n * sizeof *a->kappa);
            memcpy(a->ab_spend + b * n, a->ab_spend, n * sizeof *a->ab_spend);
            memcpy(a->ab_conv + b * n, a->ab_conv, n * sizeof *a->ab_conv);
            memcpy(a->ab_gmv + b * n, a->ab_gmv, n * sizeof *a->ab_gmv);
            memcpy(a->shade + b * n, a->shade, n * sizeof *a->shade);
        }
        split_budgets(e, a);
        /* Cells beyond the first held no budget until now; cell 0 keeps its day's throttling,
         * and any share too small for its campaign's bid is out. */
        for (size_t i = 0; i < (size_t)a->n_bud * n; i++)
            a->throttled[i] = (uint8_t)((i >= n ? 0 : a->throttled[i]) | unaffordable(a, i, (uint32_t)(i % n)));
    }
    refresh_xc(e, a);
    rebuild_bounds(e, a);
    return FW_OK;
}

/* ---- state snapshots (issue 21) ------------------------------------------------------- */

_Static_assert(sizeof(ads_user) == FCAP_K * sizeof(fcap) + TOUCH_K * sizeof(touch) && sizeof(fcap) == 8 &&
                   sizeof(touch) == 24,
               "a user's row is snapshot as its bytes: no padding");
_Static_assert(sizeof(ad_model) == (AD_F__COUNT + 1) * 8, "ad_model is snapshot as its bytes: no padding");

/* User u's caps and touches: loading, the row is made by fw_snap_vec (a new state has none)
 * and its campaigns checked, as a request's auction indexes the campaigns by them. */
static void urow_snap(struct fw_ads *a, uint32_t u, fw_snap *s)
{
    size_t one = a->urow[u] != NULL;
    fw_snap_vec(s, (void **)&a->urow[u], &one, NULL, sizeof *a->urow[u], 1);
    if (!fw_snap_loading(s) || fw_snap_failed(s) || !a->urow[u])
        return;
    const ads_user *x = a->urow[u];
    for (int k = 0; k < FCAP_K; k++)
        if (x->cap[k].campaign >= a->n) {
            fw_snap_fail(s, "user %u caps campaign %u of %u", u, x->cap[k].campaign, a->n);
            return;
        }
    for (int k = 0; k < TOUCH_K; k++)
        if (x->t[k].campaign != FW_NONE &&
            (x->t[k].campaign >= a->n || x->t[k].price_cents < 0 || x->t[k].price_cents > a->c[x->t[k].campaign].bid_cents)) {
            fw_snap_fail(s, "user %u was touched by campaign %u of %u at a price of %lld cents (0 to its bid)", u,
                         x->t[k].campaign, a->n, (long long)x->t[k].price_cents);
            return;
        }
}

/* Every campaign's budgets, spend, pacing, autobidding and books per budget cell and in all;
 * every learner's model and rates; every slot's features and bounds; the users' ad counts and
 * rows (the users that have one, ascending, each with its row); the brands' books; the day.
 *  Skipped: the campaigns, aov0, ab_decay, bounded and the sizes (the catalog's and the
 *  cells' settings, fixed at create; the sizes are checked); conv_log (emptied at every tick's
 *  end before that tick's conversions fill it, and read only within that tick's end: a new
 *  day's first tick end empties what the last one left); oom and overflow (0 after every
 *  barrier that succeeded, and a snapshot follows a day's end); over_total_mc and gmv_total
 *  (derived: summed from the books loaded). */
static void ads_snap(fw_engine *e, void *state, fw_snap *s)
{
    struct fw_ads *a = state;
    fw_snap_same_u32(s, a->n, "the campaigns");
    fw_snap_same_u32(s, a->n_bud, "the ads' budget cells");
    fw_snap_same_u32(s, a->n_learn, "the ads' learners");
    fw_snap_same_u32(s, a->n_brands, "the brands");
    size_t n = a->n, mb = (size_t)a->n_bud * n, ml = (size_t)a->n_learn * n, ms = (size_t)fw_n_slots(e) * n;
    /* Per budget cell: the day's budget, spend and pacing, autobidding and shading, books. */
    fw_snap_array(s, a->budget_mc, mb, sizeof *a->budget_mc);
    fw_snap_array(s, a->spend_today_mc, mb, sizeof *a->spend_today_mc);
    fw_snap_array(s, a->over_mc, mb, sizeof *a->over_mc);
    fw_snap_array(s, a->spend_tick_mc, mb, sizeof *a->spend_tick_mc);   /* a CPA charge at the last tick's end */
    fw_snap_array(s, a->next_mc, mb, sizeof *a->next_mc);   /* revised after the day's end, for the next */
    fw_snap_array(s, a->mult, mb, sizeof *a->mult);
    fw_snap_array(s, a->throttled, mb, sizeof *a->throttled);
    fw_snap_array(s, a->kappa, mb, sizeof *a->kappa);
    fw_snap_array(s, a->ab_spend, mb, sizeof *a->ab_spend);
    fw_snap_array(s, a->ab_conv, mb, sizeof *a->ab_conv);
    fw_snap_array(s, a->ab_gmv, mb, sizeof *a->ab_gmv);
    fw_snap_array(s, a->shade, mb, sizeof *a->shade);
    fw_snap_array(s, a->sh_sum, mb, sizeof *a->sh_sum);
    fw_snap_array(s, a->sh_n, mb, sizeof *a->sh_n);
    fw_snap_array(s, a->b_impr, mb, sizeof *a->b_impr);
    fw_snap_array(s, a->b_clicks, mb, sizeof *a->b_clicks);
    fw_snap_array(s, a->b_conv, mb, sizeof *a->b_conv);
    fw_snap_array(s, a->b_spend_mc, mb, sizeof *a->b_spend_mc);
    fw_snap_array(s, a->b_gmv, mb, sizeof *a->b_gmv);
    fw_snap_array(s, a->b_inter, mb, sizeof *a->b_inter);
    fw_snap_array(s, a->mid_spend_cents, mb, sizeof *a->mid_spend_cents);
    fw_snap_array(s, a->over_prev_cents, mb, sizeof *a->over_prev_cents);
    if (fw_snap_loading(s) && !fw_snap_failed(s)) {   /* derived (see over_total_mc) */
        a->over_total_mc = a->gmv_total = 0;
        for (size_t i = 0; i < mb; i++)
            if (!fw_add_nonneg(&a->over_total_mc, a->over_mc[i]) || !fw_add_nonneg(&a->gmv_total, a->b_gmv[i])) {
                fw_snap_fail(s, "the ads' overdelivery or attributed GMV (campaign %zu, cell %zu) is negative or "
                             "overflows", i % n, i / n);
                break;
            }
    }
    fw_snap_array(s, a->traffic_day, a->n_bud, sizeof *a->traffic_day);
    fw_snap_array(s, a->traffic_mid, a->n_bud, sizeof *a->traffic_mid);
    /* Per campaign, every cell. */
    fw_snap_array(s, a->total_mc, n, sizeof *a->total_mc);
    fw_snap_array(s, a->spend_mc, n, sizeof *a->spend_mc);
    fw_snap_array(s, a->impr, n, sizeof *a->impr);
    fw_snap_array(s, a->clicks, n, sizeof *a->clicks);
    fw_snap_array(s, a->conv, n, sizeof *a->conv);
    fw_snap_array(s, a->won, n, sizeof *a->won);
    fw_snap_array(s, a->inter, n, sizeof *a->inter);
    fw_snap_i64(s, &a->revenue_mc);
    fw_snap_i64(s, &a->charges_mc);
    fw_snap_u64(s, &a->price_over_bid);
    fw_snap_u64(s, &a->impr_total);
    fw_snap_u64(s, &a->clicks_total);
    fw_snap_u64(s, &a->conv_total);
    /* Per learner: the pCTR model and the rates it learns from. */
    fw_snap_array(s, a->model, a->n_learn, sizeof *a->model);
    fw_snap_array(s, a->l_impr, ml, sizeof *a->l_impr);
    fw_snap_array(s, a->l_clicks, ml, sizeof *a->l_clicks);
    fw_snap_array(s, a->l_conv, ml, sizeof *a->l_conv);
    fw_snap_array(s, a->l_inter, ml, sizeof *a->l_inter);
    /* Per slot, as of the last barrier: carried rather than recomputed, so that the next
     * requests read exactly what they would have (bnd only where some cell scans bounded). */
    fw_snap_array(s, a->xc, ms, sizeof *a->xc);
    fw_snap_array(s, a->xe, ms, sizeof *a->xe);
    for (size_t i = 0; a->bounded && i < ms; i++) {
        fw_snap_f64(s, &a->bnd[i].ub);
        fw_snap_index(s, &a->bnd[i].campaign, a->n, a->n);
    }
    if (a->bounded && fw_snap_loading(s) && !fw_snap_failed(s) && ms) {
        /* rebuild_bounds re-sorts each slot's campaigns in place: a permutation, or a
         * campaign twice would stay twice and another never bid */
        uint8_t *in = calloc(n, 1);
        if (!in)
            fw_snap_fail(s, "out of memory checking the ads' bound order");
        for (size_t slot = 0; in && slot < ms / n && !fw_snap_failed(s); slot++) {
            memset(in, 0, n);
            for (size_t k = 0; k < n; k++) {
                uint32_t c = a->bnd[slot * n + k].campaign;
                if (in[c]++) {
                    fw_snap_fail(s, "the ads' bound order of slot %zu lists campaign %u twice", slot, c);
                    break;
                }
            }
        }
        free(in);
    }
    fw_snap_array(s, a->brand_spend_mc, (size_t)a->n_brands + 1, sizeof *a->brand_spend_mc);
    fw_snap_array(s, a->brand_gmv, (size_t)a->n_brands + 1, sizeof *a->brand_gmv);
    fw_snap_tick(s, &a->day_start, 0, "the ads' day start");
    /* Per user. */
    fw_snap_array(s, a->u_impr, e->n_users, sizeof *a->u_impr);
    fw_snap_array(s, a->u_click, e->n_users, sizeof *a->u_click);
    uint32_t n_rows = 0, next = 0;   /* next: the lowest user the next row may be */
    for (uint32_t u = 0; !fw_snap_loading(s) && u < e->n_users; u++)
        n_rows += a->urow[u] != NULL;
    fw_snap_index(s, &n_rows, e->n_users + 1, e->n_users + 1);
    for (uint32_t k = 0; k < n_rows && !fw_snap_failed(s); k++) {
        uint32_t u = next;
        while (!fw_snap_loading(s) && !a->urow[u])
            u++;
        fw_snap_index(s, &u, e->n_users, e->n_users);
        if (fw_snap_failed(s) || u < next) {
            fw_snap_fail(s, "the users' ad rows out of order");
            return;
        }
        urow_snap(a, u, s);
        next = u + 1;
    }
}

static size_t ads_cell_bytes(const fw_engine *e, const void *state)
{
    const struct fw_ads *a = state;
    size_t per_learner = sizeof(ad_model) + 4 * (size_t)a->n * sizeof(uint64_t);
    size_t per_bud = (size_t)a->n * (8 * sizeof(int64_t) + 7 * sizeof(double) + 4 * sizeof(uint64_t) + 5) +
                     2 * sizeof(uint64_t);
    return (a->n_learn - 1) * per_learner + (a->n_bud - 1) * per_bud +
           (size_t)(fw_n_slots(e) - 1) * a->n * (2 * sizeof(double) + sizeof(ad_bound));
}

static fw_err ads_check(const fw_engine *e, const void *state, char *why, size_t cap)
{
    (void)state;
    return fw_ads_check(e, why, cap);
}

/* The ads' books at a day's end (global: campaigns serve every cell). */
const fw_engine_module fw_ads_module = {
    .name = "ads",
    .wanted = ads_wanted,
    .state_size = sizeof(struct fw_ads),
    .create = ads_create,
    .destroy = ads_destroy,
    .ctx_create = ads_ctx_create,
    .ctx_destroy = ads_ctx_destroy,
    .log = ads_log,
    .end_tick = ads_end_tick,
    .notice = ads_notice,
    .end_day = ads_end_day,
    .fork = ads_fork,
    .cell_bytes = ads_cell_bytes,
    .snap = ads_snap,
    .check = ads_check,
    FW_MODULE_SERIES("the ads' books at each day's end"),
};
