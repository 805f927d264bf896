/* The advertisers part: advertisers revise their budgets by the return they see, and some
 * leave. At each day's end every campaign's budget -- each budget cell's share under a budget
 * split (one per arm, so that an arm's results move only its own share: arms do not reach
 * each other through budgets), else the whole campaign -- is judged by its recent ROAS, the
 * attributed GMV per cent spent as the platform reports it (fw_ads_campaign_cell), summed
 * with a half-life of 2 days so that one lucky order does not decide:
 *  - leave (world.leave_roas > 0): a ROAS below leave_roas sets the budget to 0 for good;
 *  - revise (world.budget_elasticity > 0): the budget is multiplied by
 *    (ROAS / world.budget_roas_ref)^budget_elasticity, within [1/2, 2] a day and within
 *    [1/10, 10] x the share's first budget -- advertisers shift money towards what returns it
 *    and away from what does not, in steps, as a marginal-ROAS rule of thumb would.
 * A share is judged only once it has spent 1 CNY in the window (less is noise). The new
 * budgets take effect with the next day (fw_ads_set_budget). Deterministic: no draws.
 * Per day and arm: the budgets set for tomorrow, budgets raised and cut, campaigns that left,
 * campaigns still in. Runs only when one of the two knobs is above 0 and there are campaigns. */
#include <math.h>

#include "driver/part.h"
#include "flywheel/ads.h"

#define ADV_COUNTERS(X)                                                                        \
    X(ad_budget_cents, "cents", "daily budgets set for the next day: the arm's shares of every campaign") \
    X(budgets_raised, "campaigns", "campaign budgets raised at the day's end (world.budget_elasticity)") \
    X(budgets_cut, "campaigns", "campaign budgets cut at the day's end")                       \
    X(campaigns_left, "campaigns", "campaigns whose advertiser left at the day's end (world.leave_roas)") \
    X(campaigns_in, "campaigns", "campaigns with a budget for the next day")

FW_DECLARE_COUNTERS(ADV_COUNTERS);

static const fw_rate_desc rates[] = {
    {"budget_change_share", "budgets_raised", "campaigns_in", 1.0, "1", "budgets raised / campaigns in"},
};

#define HALF_LIFE_DAYS 2.0
#define MIN_SPEND_CENTS 100.0

typedef struct adv_share {
    int64_t spend_prev, gmv_prev;   /* to date, at the last day's end */
    double spend, gmv;              /* decayed sums (cents) */
    int64_t first_cents;            /* the share's budget when first judged; -1 before */
    uint8_t left;
} adv_share;

typedef struct adv_state {
    uint32_t n_bud, n;
    adv_share *sh;                  /* [n_bud * n] */
} adv_state;

static int adv_active(const fw_sim *S)
{
    return S->w.n_campaigns > 0 && (S->sc->world.budget_elasticity > 0.0 || S->sc->world.leave_roas > 0.0);
}

static fw_err adv_create(fw_sim *S, fw_part_inst *p)
{
    adv_state *st = p->state;
    /* The engine's budget cells: every cell under a budget split, else one (the scenario
     * refuses revisions with shared budgets and several cells). */
    st->n_bud = S->sc->experiment_budget_split && S->sc->experiment_unit != FW_UNIT_CREATOR ? S->n_cells : 1;
    st->n = S->w.n_campaigns;
    if (!(st->sh = fw_sim_calloc(S, (size_t)st->n_bud * st->n, sizeof *st->sh)))
        return FW_ERR_NOMEM;
    for (size_t i = 0; i < (size_t)st->n_bud * st->n; i++)
        st->sh[i].first_cents = -1;
    return FW_OK;
}

/* Adds v to counter k of every arm cell is in (one per layer). */
static void add_cell(fw_sim *S, fw_part_inst *p, uint64_t *day, uint32_t cell, int k, uint64_t v)
{
    for (uint32_t l = 0; l < S->asg.n_layers; l++)
        day[(size_t)S->asg.cell_arm[cell][l] * S->n_counters + p->base + (uint32_t)k] += v;
}

static fw_err adv_day_end(fw_sim *S, fw_part_inst *p, uint64_t *day)
{
    adv_state *st = p->state;
    const fw_scenario *sc = S->sc;
    double decay = exp2(-1.0 / HALF_LIFE_DAYS), el = sc->world.budget_elasticity;
    for (uint32_t b = 0; b < st->n_bud; b++)
        for (uint32_t k = 0; k < st->n; k++) {
            adv_share *x = &st->sh[(size_t)b * st->n + k];
            fw_campaign_stats cs;
            if (fw_ads_campaign_cell(S->engine, b, k, &cs) != FW_OK)
                return FW_ERR_INTERNAL;
            x->spend = x->spend * decay + (double)(cs.spend_cents - x->spend_prev);
            x->gmv = x->gmv * decay + (double)(cs.attributed_gmv_cents - x->gmv_prev);
            x->spend_prev = cs.spend_cents;
            x->gmv_prev = cs.attributed_gmv_cents;
            int64_t budget = cs.budget_cents, next = budget;
            if (x->first_cents < 0 && budget > 0)
                x->first_cents = budget;   /* (a cell holds no share before users are placed) */
            if (!x->left && x->first_cents > 0 && x->spend >= MIN_SPEND_CENTS) {
                double roas = x->gmv / x->spend;
                if (sc->world.leave_roas > 0.0 && roas < sc->world.leave_roas) {
                    x->left = 1;
                    next = 0;
                    add_cell(S, p, day, b, C_campaigns_left, 1);
                } else if (el > 0.0) {
                    double f = pow(roas / sc->world.budget_roas_ref, el);
                    f = f < 0.5 ? 0.5 : f > 2.0 ? 2.0 : f;
                    double v = floor((double)budget * f + 0.5), lo = ceil((double)x->first_cents / 10.0),
                           hi = 10.0 * (double)x->first_cents;
                    v = v < lo ? lo : v > hi ? hi : v;
                    next = (int64_t)v;
                    add_cell(S, p, day, b, next > budget ? C_budgets_raised : C_budgets_cut, next != budget);
                }
            }
            if (next != budget && fw_ads_set_budget(S->engine, b, k, next) != FW_OK)
                return FW_ERR_INTERNAL;
            add_cell(S, p, day, b, C_ad_budget_cents, (uint64_t)next);
            add_cell(S, p, day, b, C_campaigns_in, next > 0);
        }
    return FW_OK;
}

/* Every share's books, field by field (adv_share's padding is indeterminate). Skipped: n_bud
 * and n (the scenario's, checked). */
_Static_assert(sizeof(adv_share) == 48, "adv_share gained a field: transfer it in adv_snap");

static void adv_snap(fw_sim *S, fw_part_inst *p, fw_snap *s)
{
    (void)S;
    adv_state *st = p->state;
    fw_snap_same_u32(s, st->n_bud, "the campaigns' budget cells");
    fw_snap_same_u32(s, st->n, "the campaigns");
    for (size_t i = 0; i < (size_t)st->n_bud * st->n && !fw_snap_failed(s); i++) {
        adv_share *x = &st->sh[i];
        fw_snap_i64(s, &x->spend_prev);
        fw_snap_i64(s, &x->gmv_prev);
        fw_snap_f64(s, &x->spend);
        fw_snap_f64(s, &x->gmv);
        fw_snap_i64(s, &x->first_cents);
        fw_snap_u8(s, &x->left);
    }
}

const fw_part fw_advertisers_part = {
    .name = "advertisers",
    FW_PART_COUNTERS_AND_RATES,
    .active = adv_active,
    .state_size = sizeof(adv_state),
    .create = adv_create,
    .day_end = adv_day_end,
    .snap = adv_snap,
};
