/* The promotions part: the scenario's coupons and promotion days (promotions section).
 *  - Run start: the coupons are defined in the engine's shop (fw_shop_coupons_define), each
 *    claimable by the cells whose arm (in any layer) it names, on its days.
 *  - Day start: a promotion day's site-wide price cut is the shop's sale (fw_shop_set_sale);
 *    its traffic (sessions) and intent (planting) multipliers are applied by the driver's
 *    schedule and the shop part.
 *  - Tick end: the shop's coupon changes counted per cell (claims, redemptions, the issuers'
 *    cost), the log cleared.
 *  - Day close: the books to date, from the shop (global: every arm's orders): the coupon cost
 *    by issuer (/promotions/days) and each coupon's books (/promotions/coupon_books).
 * What shoppers do with coupons (claiming on product pages, the lower effective price) is the
 * shop part's session step: it knows the page and the price. Coupons and promotion days are
 * the recorded run's calendar: a warm-up's days (world.warmup_days; their ticks below 0, their
 * numbers 2^32 - W ..) are in no claim window and are no promotion day. The part is active only when the
 * scenario has coupons or promotion days, so that a run without them records what it did
 * before. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "driver/counters.h"
#include "driver/part.h"

#define PROMO_COUNTERS(X)                                                                      \
    X(coupon_claims, "claims", "coupons claimed (shown on a product page, taken into the wallet)") \
    X(coupon_claims_refused, "claims", "claims refused at the barrier (the coupon was no longer claimable)") \
    X(coupon_redemptions, "orders", "orders paid with a coupon")                               \
    X(coupon_cost_cents, "cents", "face value of the coupons redeemed on the day (the issuers' cost, gross of refunds)") \
    X(coupon_cost_platform_cents, "cents", "coupon_cost_cents of platform coupons")            \
    X(coupon_cost_brand_cents, "cents", "coupon_cost_cents of brand coupons")                  \
    X(coupon_released, "orders", "coupons given back to the wallet by a cancelled order")      \
    X(coupon_refunded_cents, "cents", "face value given back to the issuers by refunded orders") \
    X(coupon_expired, "claims", "claims that expired unused")

FW_DECLARE_COUNTERS(PROMO_COUNTERS);

static const fw_rate_desc rates[] = {
    {"coupon_redemption_rate", "coupon_redemptions", "coupon_claims", 1.0, "1",
     "orders paid with a coupon / coupons claimed (same day; a lagging ratio)"},
    {"coupon_cost_per_order", "coupon_cost_cents", "paid_orders", 1.0, "cents",
     "coupon cost / all orders paid (what the coupons cost per order)"},
};

/* /promotions/days: the books at each day's end (global, to date). */
static const fw_counter_desc day_cols[] = {
    {"coupon_cost_platform_cents", "cents", "platform coupons' cost to date: face value of paid orders not refunded"},
    {"coupon_cost_brand_cents", "cents", "brand coupons' cost to date: face value of paid orders not refunded"},
    {"coupon_held_cents", "cents", "face value held by orders awaiting payment"},
    {"promotion_day", "1", "1 on a promotion day of the calendar"},
    {"sale_basis_points", "1e-4", "the day's site-wide price cut (discount_percent x 100)"},
};
enum { D_PLATFORM, D_BRAND, D_HELD, D_PROMO, D_SALE, D__COUNT };

/* /promotions/coupon_books: one row per coupon, the columns of fw_coupon_books in the order
 * the table's doc lists them. */
enum { B__COUNT = 9 };

typedef struct promo_state {
    uint32_t series;              /* /promotions/days */
    uint32_t n_coupons;           /* rows of books */
    int64_t *books;               /* [n_coupons * B__COUNT] */
    char *names;                  /* the coupons, one per line */
} promo_state;

static int promo_active(const fw_sim *S)
{
    return S->sc->n_coupons > 0 || S->sc->n_promo_days > 0;
}

/* Whether arm name is one of the coupon's arms (every arm when it names none). */
static int offers(const fw_coupon_cfg *c, const char *name)
{
    for (uint32_t j = 0; j < c->n_arms; j++)
        if (strcmp(c->arms[j], name) == 0)
            return 1;
    return c->n_arms == 0;
}

/* Describes the datasets. */
static fw_err promo_record(fw_sim *S, promo_state *ps)
{
    const fw_scenario *sc = S->sc;
    fw_err rc = fw_recorder_group(S->rec, "promotions", "coupons and promotion days: the books to date at each "
                                                        "day's end (global: every arm's orders)");
    if (rc == FW_OK)
        rc = fw_recorder_series(S->rec, "promotions/days", NULL, FW_REC_I64, D__COUNT, day_cols, &ps->series);
    if (rc != FW_OK || sc->n_coupons == 0)
        return rc;
    size_t len = 1;
    for (uint32_t k = 0; k < sc->n_coupons; k++)
        len += strlen(sc->coupons[k].name) + 1;
    if (!(ps->names = fw_sim_calloc(S, len, 1)))
        return FW_ERR_NOMEM;
    for (uint32_t k = 0; k < sc->n_coupons; k++) {
        strcat(ps->names, sc->coupons[k].name);
        if (k + 1 < sc->n_coupons)
            strcat(ps->names, "\n");
    }
    fw_rec_table t = {.path = "promotions/coupon_books", .unit = "",
                      .doc = "each coupon's books to date (row; the coupons attribute names them): claims, expired, "
                             "applied, redeemed, released, refunded (counts), held_cents, redeemed_cents (outstanding), "
                             "budget_cents; held_cents + redeemed_cents never exceeds budget_cents",
                      .type = FW_REC_I64, .data = (const void *const *)&ps->books, .rows = &ps->n_coupons,
                      .cols = B__COUNT, .labels = {"coupon", "column"}, .attr_name = "coupons",
                      .attr_value = (const char *const *)&ps->names};
    return fw_recorder_table(S->rec, &t);
}

static fw_err promo_create(fw_sim *S, fw_part_inst *p)
{
    promo_state *ps = p->state;
    const fw_scenario *sc = S->sc;
    if (sc->n_coupons > 0 && !(ps->books = fw_sim_calloc(S, (size_t)sc->n_coupons * B__COUNT, sizeof *ps->books)))
        return FW_ERR_NOMEM;
    fw_err rc = S->rec ? promo_record(S, ps) : FW_OK;
    if (rc != FW_OK || sc->n_coupons == 0 || S->w.n_products == 0)
        return rc;   /* no shop: nothing to claim */
    fw_coupon_def *d = fw_sim_calloc(S, sc->n_coupons, sizeof *d);
    if (!d)
        return FW_ERR_NOMEM;
    int32_t tpd = (int32_t)S->tpd;
    for (uint32_t k = 0; k < sc->n_coupons; k++) {
        const fw_coupon_cfg *c = &sc->coupons[k];
        uint32_t last = c->last_day < sc->days ? c->last_day : sc->days - 1;
        d[k] = (fw_coupon_def){.issuer = c->issuer, .brand = c->brand, .kind = c->kind,
                               .off_cents = (int64_t)c->off_cents, .percent = c->percent,
                               .threshold_cents = (int64_t)c->threshold_cents, .budget_cents = (int64_t)c->budget_cents,
                               .claim_from = (int32_t)c->first_day * tpd, .claim_until = (int32_t)(last + 1) * tpd,
                               .valid_ticks = (int32_t)c->validity_days * tpd};
        /* A cell offers the coupon when its arm in some layer does (every cell when it names
         * no arm). */
        for (uint32_t cell = 0; cell < S->n_cells; cell++)
            for (uint32_t l = 0; l < S->asg.n_layers; l++)
                if (offers(c, sc->arms[S->asg.cell_arm[cell][l]].name))
                    d[k].cells |= UINT64_C(1) << cell;
    }
    rc = fw_shop_coupons_define(S->engine, d, sc->n_coupons);
    if (rc == FW_OK)
        ps->n_coupons = sc->n_coupons;
    return rc;
}

/* The books to date, from the shop. */
static fw_err promo_day_close(fw_sim *S, fw_part_inst *p)
{
    promo_state *ps = p->state;
    const fw_promo_day *pd = fw_scenario_promo_day(S->sc, S->day);
    int64_t row[D__COUNT] = {[D_PLATFORM] = fw_shop_coupon_cost(S->engine, FW_COUPON_PLATFORM),
                             [D_BRAND] = fw_shop_coupon_cost(S->engine, FW_COUPON_BRAND),
                             [D_PROMO] = pd != NULL,
                             [D_SALE] = pd ? (int64_t)llround(pd->discount_percent * 100.0) : 0};
    for (uint32_t k = 0; k < ps->n_coupons; k++) {
        fw_coupon_books b;
        if (fw_shop_coupon_books(S->engine, k, &b) != FW_OK)
            return FW_ERR_INTERNAL;
        int64_t *r = &ps->books[(size_t)k * B__COUNT];
        int64_t v[B__COUNT] = {(int64_t)b.claims, (int64_t)b.expired, (int64_t)b.applied, (int64_t)b.redeemed,
                               (int64_t)b.released, (int64_t)b.refunded, b.held_cents, b.redeemed_cents,
                               b.budget_cents};
        memcpy(r, v, sizeof v);
        row[D_HELD] += b.held_cents;
    }
    return S->rec ? fw_recorder_push(S->rec, ps->series, row) : FW_OK;
}

/* The coupons' books are the recorder's copy of the shop's, made at every day's close: they
 * go, so the file a resumed run writes is right before its first day closes. Skipped: the
 * series id, n_coupons and the names (set at create); the day's sale is the engine's. */
static void promo_snap(fw_sim *S, fw_part_inst *p, fw_snap *s)
{
    (void)S;
    promo_state *ps = p->state;
    fw_snap_array(s, ps->books, (size_t)ps->n_coupons * B__COUNT, sizeof *ps->books);
}

static fw_err promo_day_start(fw_sim *S, fw_part_inst *p)
{
    (void)p;
    if (S->w.n_products == 0)
        return FW_OK;
    const fw_promo_day *pd = fw_scenario_promo_day(S->sc, S->day);
    return fw_shop_set_sale(S->engine, pd ? pd->discount_percent : 0.0);
}

#define BCOUNT(user, k) (fw_sim_row(S, user)[p->base + C_##k])

static fw_err promo_tick_end(fw_sim *S, fw_part_inst *p)
{
    size_t n;
    const fw_coupon_change *cc = fw_shop_coupon_changes(S->engine, &n);
    for (size_t k = 0; k < n; k++) {
        uint32_t u = cc[k].user;
        uint64_t cents = cc[k].cents > 0 ? (uint64_t)cc[k].cents : 0;
        switch (cc[k].kind) {
        case FW_CC_CLAIMED: BCOUNT(u, coupon_claims)++; break;
        case FW_CC_REFUSED: BCOUNT(u, coupon_claims_refused)++; break;
        case FW_CC_REDEEMED:
            BCOUNT(u, coupon_redemptions)++;
            BCOUNT(u, coupon_cost_cents) += cents;
            if (cc[k].issuer == FW_COUPON_BRAND)
                BCOUNT(u, coupon_cost_brand_cents) += cents;
            else
                BCOUNT(u, coupon_cost_platform_cents) += cents;
            break;
        case FW_CC_RELEASED: BCOUNT(u, coupon_released)++; break;
        case FW_CC_REFUNDED: BCOUNT(u, coupon_refunded_cents) += cents; break;
        case FW_CC_EXPIRED: BCOUNT(u, coupon_expired)++; break;
        default: break;
        }
    }
    fw_shop_clear_coupon_changes(S->engine);
    return FW_OK;
}

static void promo_summary(const fw_sim *S, const fw_part_inst *p, const uint64_t *totals, double days, FILE *out)
{
    fprintf(out, "  %-12s %9s %9s %11s %11s %11s\n", "coupons", "claims", "redeemed", "cost (CNY)", "platform",
            "brand");
    for (uint32_t a = 0; a < S->n_arms; a++) {
        const uint64_t *c = &totals[(size_t)a * S->n_counters];
        const uint64_t *mine = c + p->base;
        fprintf(out, "  %-12s %9.0f %9.0f %11.2f %11.2f %11.2f\n", S->sc->arms[a].name, mine[C_coupon_claims] / days,
                mine[C_coupon_redemptions] / days, mine[C_coupon_cost_cents] / 100.0 / days,
                mine[C_coupon_cost_platform_cents] / 100.0 / days, mine[C_coupon_cost_brand_cents] / 100.0 / days);
    }
}

const fw_part fw_promo_part = {
    .name = "promo",
    FW_PART_COUNTERS_AND_RATES,
    .active = promo_active,
    .state_size = sizeof(promo_state),
    .create = promo_create,
    .day_close = promo_day_close,
    .day_start = promo_day_start,
    .tick_end = promo_tick_end,
    .summary = promo_summary,
    .snap = promo_snap,
};
