/* The shop part: what shoppers do and what the shop's outcomes do to them.
 *  - Sessions (FW_RNG_SHOP stream of the user and tick, so the shop changes no feed or
 *    search draw): a session may first open a non-empty cart (buy later, or remove); reading
 *    a note that shows a product plants intent for it and its card (the engine's, maybe
 *    wrong or missing) may be clicked (view -> cart -> pay now, or leave it in the cart); an
 *    ad's creative opened does the same; a session may end on the shop tab (products
 *    examined with position bias, clicked by interest, intent, appeal and price). Checkouts
 *    respect the user's monthly budget.
 *  - Barrier: checkouts' outcomes (a refused one gives the budget back), returns decided
 *    earlier sent on their day; after the tick's end, the shop's lifecycle changes counted per
 *    cell, and each buyer's return decision at delivery (stream FW_RNG_RETURN, by order).
 *  - Day: per-brand sales per arm, brands restocking sold-out products (FW_RNG_RESTOCK), and
 *    a new month's budgets.
 *  - Promotions (only when the scenario has coupons or promotion days; otherwise none of this
 *    runs and no draw moves): a product page shows the coupons the user may claim for it, each
 *    claimed with its claim_rate (stream FW_RNG_COUPON of the user and tick, so claims move no
 *    shopping draw); every choice about a product (card click, shop-tab click, add to cart)
 *    weighs the price the user would pay -- list price less the day's sale and the best coupon
 *    held or just claimed -- through the behaviour model's own price term and its deal term
 *    (behaviour.deal_weight x log(list / that price)); a promotion day
 *    multiplies what notes plant by its intent. Checkouts still reserve the list price
 *    against the month's budget. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/counters.h"
#include "driver/evlog.h"
#include "driver/part.h"
#include "model/rng.h"
#include "parts/safety.h"

#define SHOP_COUNTERS(X)                                                                       \
    X(card_impressions, "cards", "product cards seen (in opened notes that carry one)")        \
    X(card_clicks, "clicks", "product cards clicked")                                          \
    X(card_correct, "notes", "opened notes showing a product whose card is that product")      \
    X(card_wrong, "notes", "opened notes whose card is not the product they show")            \
    X(card_missed, "notes", "opened notes showing a product that carry no card")              \
    X(card_recall_den, "notes", "opened notes showing a product (card_correct + wrong-product cards + card_missed)") \
    X(shop_visits, "visits", "shop-tab pages requested")                                      \
    X(shop_impressions, "products", "shop-tab products examined (position bias)")             \
    X(shop_clicks, "clicks", "shop-tab products clicked")                                     \
    X(product_views, "views", "product pages viewed (from cards, the shop tab and the cart)")  \
    X(cart_adds, "items", "products added to carts")                                           \
    X(cart_visits, "visits", "sessions that opened a non-empty cart")                          \
    X(order_requests, "requests", "checkout requests sent (duplicates included)")             \
    X(duplicate_requests, "requests", "checkout requests that repeated a request id (no order made)") \
    X(stockout_rejections, "requests", "checkout requests refused: not enough stock")          \
    X(orders, "orders", "orders created (stock reserved)")                                     \
    X(payment_failures, "attempts", "payment attempts that failed")                            \
    X(paid_orders, "orders", "orders paid")                                                    \
    X(cancelled_orders, "orders", "orders cancelled after every payment retry failed")         \
    X(gmv_cents, "cents", "value of the orders paid on the day (gross merchandise value)")     \
    X(buyers, "users", "users with an order paid on the day")                                  \
    X(paid_from_feed, "orders", "orders paid whose intent was planted by a feed note")         \
    X(paid_from_search, "orders", "orders paid whose intent was planted by a note found in search") \
    X(paid_from_shop, "orders", "orders paid without a planting note (found in the shop tab)") \
    X(shipped_orders, "orders", "orders shipped")                                              \
    X(delivered_orders, "orders", "orders delivered")                                          \
    X(returns, "orders", "returns accepted")                                                   \
    X(refunds, "orders", "orders refunded")                                                    \
    X(refund_cents, "cents", "money refunded")                                                 \
    X(stockouts_from_other_arms, "requests",                                                   \
      "checkout requests refused for no stock that the units other arms' orders reserved since the day's start would have covered (fw_shop_cell_stockouts)") \
    X(stockout_units_from_other_arms, "units", "the units of those requests")

FW_DECLARE_COUNTERS(SHOP_COUNTERS);

static const fw_rate_desc rates[] = {
    {"card_ctr", "card_clicks", "card_impressions", 1.0, "1", "product-card clicks / cards seen"},
    {"shop_ctr", "shop_clicks", "shop_impressions", 1.0, "1", "shop-tab clicks / products examined"},
    {"click_to_purchase", "paid_orders", "product_views", 1.0, "1",
     "orders paid / product views (calibration: product click -> purchase 0.5-2%)"},
    {"view_to_cart", "cart_adds", "product_views", 1.0, "1", "add-to-cart / product views"},
    {"cart_to_purchase", "paid_orders", "cart_adds", 1.0, "1", "orders paid / add-to-cart (calibration: about a third)"},
    {"payment_failure_rate", "payment_failures", "orders", 1.0, "1", "failed payment attempts / orders created"},
    {"average_order_value", "gmv_cents", "paid_orders", 1.0, "cents", "GMV / orders paid"},
    {"return_rate", "refunds", "paid_orders", 1.0, "1", "orders refunded / orders paid (same day; a lagging ratio)"},
    {"recognition_precision", "card_correct", "card_impressions", 1.0, "1", "product cards that are right / cards seen"},
    {"recognition_recall", "card_correct", "card_recall_den", 1.0, "1",
     "opened product notes with the right card / opened notes showing a product"},
};

/* A return the buyer has decided on, sent at the barrier of its tick. */
typedef struct pending_return {
    int32_t tick;
    uint32_t order, user;
} pending_return;

typedef struct shop_state {
    int on;                       /* the world sells products */
    int promo;                    /* the scenario has coupons or promotion days */
    gsl_rng **crng;               /* [n_threads] FW_RNG_COUPON (promo only) */
    gsl_rng **rng;                /* [n_threads] FW_RNG_SHOP */
    gsl_rng *barrier_rng;         /* FW_RNG_RETURN, FW_RNG_RESTOCK: sought before every draw */
    uint8_t *order_src;           /* [orders] fw_source of each order's intent */
    size_t order_src_cap;
    pending_return *returns;      /* decided, not yet sent */
    size_t n_returns, returns_cap;
    uint32_t n_brands, n_arms;
    int64_t *brand_units, *brand_rev;   /* [n_arms * n_brands]: per-brand sales per arm, to date */
    char *arm_names;              /* the arms, one per line: the rows of the brand tables */
    uint64_t lost_orders[FW_MAX_CELLS], lost_units[FW_MAX_CELLS];   /* fw_shop_cell_stockouts as last counted */
} shop_state;

#define COUNT(k) (ss->row[p->base + C_##k])

/* ---- sessions ----------------------------------------------------------------------------- */

static gsl_rng *rng_of(const fw_session *ss, const fw_part_inst *p)
{
    return ((const shop_state *)p->state)->rng[ss->slot];
}

static int shop_event(fw_session *ss, uint32_t product, uint32_t type)
{
    fw_record r = {.kind = FW_RECORD_SHOP_EVENT,
                   .u.shop = {.user = ss->user, .product = product, .tick = ss->tick, .type = type}};
    return fw_recbuf_push(ss->rec, &r);
}

/* Sends a checkout for product if the month's budget allows it and no checkout of it by the
 * user is already on its way this tick. The request id is a hash of (seed, user, tick, k),
 * k the user's checkouts so far this tick: a retry by the app (double_submit) sends the same
 * id again. The intent's source rides along in the record's aux. */
static int checkout(fw_session *ss, fw_part_inst *p, uint32_t product, uint8_t src)
{
    const fw_world *w = ss->w;
    fw_users_state *s = ss->us;
    uint32_t u = ss->user, mine = 0;
    for (size_t k = ss->rec_begin; k < ss->rec->n; k++)
        if (ss->rec->v[k].kind == FW_RECORD_ORDER) {
            if (ss->rec->v[k].u.order.req.product == product)
                return 0;
            mine++;
        }
    int64_t price = w->product_price_cents[product];
    if (s->spent_cents[u] + price > w->budget_cents[u])
        return 0;
    s->spent_cents[u] += price;
    uint64_t h = ss->seed * UINT64_C(0x9e3779b97f4a7c15) ^ ((uint64_t)u << 32 | (uint32_t)ss->tick);
    h = (h ^ (h >> 31)) * UINT64_C(0xbf58476d1ce4e5b9);
    h ^= (uint64_t)mine * UINT64_C(0x94d049bb133111eb);
    h = (h ^ (h >> 29)) * UINT64_C(0xbf58476d1ce4e5b9);
    h ^= h >> 32;
    if (h == UINT64_MAX)
        h--;   /* UINT64_MAX is not a valid request id */
    fw_evlog_outcome(ss, FW_EVO_ORDER);
    fw_record r = {.kind = FW_RECORD_ORDER, .aux = src,
                   .u.order.req = {.request_id = h, .user = u, .arm = ss->cell, .product = product, .qty = 1,
                                   .tick = ss->tick}};
    if (fw_recbuf_push(ss->rec, &r))
        return -1;
    COUNT(order_requests)++;
    if (gsl_rng_uniform(rng_of(ss, p)) < ss->m->cfg.double_submit) {
        if (fw_recbuf_push(ss->rec, &r))
            return -1;
        COUNT(order_requests)++;
    }
    return 0;
}

/* ---- promotions ---------------------------------------------------------------------------- */

/* Whether the user claimed coupon earlier in this tick (the engine sees it at the barrier). */
static int claimed_now(const fw_session *ss, uint32_t coupon)
{
    for (size_t k = ss->rec_begin; k < ss->rec->n; k++)
        if (ss->rec->v[k].kind == FW_RECORD_SHOP_EVENT && ss->rec->v[k].u.shop.type == FW_SHOP_COUPON_CLAIM &&
            ss->rec->v[k].u.shop.coupon == coupon)
            return 1;
    return 0;
}

/* The product page shows the coupons the user may claim for product; each is claimed with
 * its claim_rate. */
static int claim_coupons(fw_session *ss, fw_part_inst *p, uint32_t product)
{
    const shop_state *st = p->state;
    const fw_scenario *sc = ss->S->sc;
    for (uint32_t c = 0; c < sc->n_coupons; c++) {
        if (!fw_shop_coupon_claimable(ss->engine, ss->user, c, product, ss->tick) || claimed_now(ss, c) ||
            gsl_rng_uniform(st->crng[ss->slot]) >= sc->coupons[c].claim_rate)
            continue;
        fw_record r = {.kind = FW_RECORD_SHOP_EVENT,
                       .u.shop = {.user = ss->user, .product = product, .tick = ss->tick,
                                  .type = FW_SHOP_COUPON_CLAIM, .coupon = c}};
        if (fw_recbuf_push(ss->rec, &r))
            return -1;
    }
    return 0;
}

/* The behaviour model's price term for product at the price the user would pay now: list
 * price less the day's sale and the best coupon held (or claimed this tick) that applies.
 * A discount lowers the effective price, log scale, as the model judges any price, and is
 * answered as a deal too (less the deal term, behaviour.deal_weight). Without promotions, the
 * model's term as it is. */
static double price_term(const fw_session *ss, const shop_state *st, uint32_t product)
{
    double term = fw_behaviour_price_term(ss->m, ss->w, ss->user, product);
    if (!st->promo)
        return term;
    int64_t price = ss->w->product_price_cents[product], off = 0;
    double sale = fw_shop_sale(ss->engine);
    int64_t value = sale > 0.0 ? price - (int64_t)floor((double)price * sale / 100.0) : price;
    fw_shop_coupon_best(ss->engine, ss->user, product, ss->tick, &off);
    for (size_t k = ss->rec_begin; k < ss->rec->n; k++)
        if (ss->rec->v[k].kind == FW_RECORD_SHOP_EVENT && ss->rec->v[k].u.shop.type == FW_SHOP_COUPON_CLAIM) {
            int64_t f = fw_shop_coupon_face(ss->engine, ss->rec->v[k].u.shop.coupon, product);
            off = f > off ? f : off;
        }
    int64_t pay = value - off > 1 ? value - off : 1;
    if (pay == price)
        return term;
    term += ss->m->cfg.price_weight * ss->w->price_sens[ss->user] * (log((double)pay) - log((double)price));
    return term - fw_behaviour_deal_term(&ss->m->cfg, (double)price, (double)pay);
}

/* The intent multiplier of today (a promotion day's, else 1). */
static double intent_boost(const fw_session *ss, const shop_state *st)
{
    const fw_promo_day *pd = st->promo ? fw_scenario_promo_day(ss->S->sc, ss->day) : NULL;
    return pd ? pd->intent : 1.0;
}

/* A product page view and what follows: add to cart, then pay now or leave it there. */
static int product_view(fw_session *ss, fw_part_inst *p, uint32_t product)
{
    const fw_behaviour_model *m = ss->m;
    const fw_behaviour_cfg *c = &m->cfg;
    const fw_world *w = ss->w;
    uint32_t u = ss->user;
    gsl_rng *r = rng_of(ss, p);
    uint8_t src;
    double intent = fw_behaviour_intent(m, w, ss->us, u, product, ss->tick, &src);
    if (shop_event(ss, product, FW_SHOP_VIEW))
        return -1;
    COUNT(product_views)++;
    ss->agg[FW_UM_product_views][u]++;
    const shop_state *st = p->state;
    if (st->promo && ss->S->sc->n_coupons > 0 && claim_coupons(ss, p, product))
        return -1;
    double z = m->b_cart + c->intent_weight * log1p(intent) + c->appeal_weight * w->product_appeal[product] -
               price_term(ss, st, product);
    if (gsl_rng_uniform(r) >= fw_sigmoid(z))
        return 0;
    if (shop_event(ss, product, FW_SHOP_CART_ADD))
        return -1;
    COUNT(cart_adds)++;
    ss->agg[FW_UM_cart_adds][u]++;
    fw_evlog_outcome(ss, FW_EVO_CART);
    if (gsl_rng_uniform(r) < c->buy_now)
        return checkout(ss, p, product, src);
    return 0;
}

static void shop_user_tick(fw_session *ss, fw_part_inst *p)
{
    shop_state *st = p->state;
    if (st->on)
        fw_rng_seek(st->rng[ss->slot], ss->seed, FW_RNG_SHOP, ss->user, (uint32_t)ss->tick);
    if (st->on && st->promo)
        fw_rng_seek(st->crng[ss->slot], ss->seed, FW_RNG_COUPON, ss->user, (uint32_t)ss->tick);
}

/* A session's look into a non-empty cart: each item is bought, removed or kept. */
static int shop_cart(fw_session *ss, fw_part_inst *p)
{
    shop_state *st = p->state;
    if (!st->on)
        return 0;
    const fw_behaviour_model *m = ss->m;
    const fw_behaviour_cfg *c = &m->cfg;
    gsl_rng *r = rng_of(ss, p);
    uint32_t n, u = ss->user;
    const uint32_t *items = fw_shop_cart(ss->engine, u, &n);
    fw_evlog_detach(ss);   /* what the cart leads to is no impression's outcome */
    if (n == 0 || gsl_rng_uniform(r) >= c->cart_revisit)
        return 0;
    COUNT(cart_visits)++;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t product = items[k];
        uint8_t src;
        fw_behaviour_intent(m, ss->w, ss->us, u, product, ss->tick, &src);   /* only for the order's source */
        double pb = c->buy_later;   /* the intent put it in the cart; buying later is its own decision */
        double x = gsl_rng_uniform(r);
        if (x < pb) {
            if (shop_event(ss, product, FW_SHOP_VIEW))
                return -1;
            COUNT(product_views)++;
            ss->agg[FW_UM_product_views][u]++;
            if (checkout(ss, p, product, src))
                return -1;
        } else if (x < pb + (1.0 - pb) * c->cart_abandon) {
            if (shop_event(ss, product, FW_SHOP_CART_REMOVE))
                return -1;
        }
    }
    return 0;
}

/* The shop tab: a page from the engine, product k examined with probability (1/k)^shop_eta.
 * The tab is a waterfall scrolled like the feed, not a ranked result list: the default 0
 * looks at the whole page (with the search page's eta 1, which the shop tab used before
 * issue 19's volume calibration, a visit saw 2.9 of its 10 products). */
static int shop_tab(fw_session *ss, fw_part_inst *p)
{
    shop_state *st = p->state;
    if (!st->on)
        return 0;
    const fw_behaviour_model *m = ss->m;
    const fw_behaviour_cfg *c = &m->cfg;
    const fw_world *w = ss->w;
    gsl_rng *r = rng_of(ss, p);
    uint32_t u = ss->user;
    if (gsl_rng_uniform(r) >= c->shop_visit_rate)
        return 0;
    fw_shop_req q = {.user = u, .arm = ss->cell, .tick = ss->tick};
    uint32_t n = fw_shop_request(ss->engine, ss->ctx, &q, ss->page, ss->page_cap);
    COUNT(shop_visits)++;
    fw_evlog_request(ss);
    uint32_t T = w->n_topics;
    for (uint32_t i = 0; i < n; i++) {
        if (gsl_rng_uniform(r) >= pow(1.0 / (i + 1.0), c->shop_eta))
            continue;
        uint32_t product = ss->page[i];
        COUNT(shop_impressions)++;
        double x = log(T * (double)w->interest[(size_t)u * T + w->product_category[product]] + 0.1);
        double intent = fw_behaviour_intent(m, w, ss->us, u, product, ss->tick, NULL);
        double z = m->b_shop + c->open_affinity * x + c->intent_weight * log1p(intent) +
                   c->appeal_weight * w->product_appeal[product] - price_term(ss, st, product);
        fw_evlog_impression(ss, FW_EVS_SHOP, i, product, FW_NONE, FW_NONE, NAN, fw_sigmoid(z), NAN, NAN, UINT32_MAX);
        if (gsl_rng_uniform(r) >= fw_sigmoid(z))
            continue;
        fw_evlog_outcome(ss, FW_EVO_OPEN);
        COUNT(shop_clicks)++;
        if (product_view(ss, p, product))
            return -1;
    }
    return 0;
}

/* An opened note: the product it shows plants intent; its card may be clicked. An opened
 * ad: the product its creative shows plants intent and its page is viewed. */
static int shop_on_event(fw_session *ss, fw_part_inst *p, fw_sess_event *ev)
{
    shop_state *st = p->state;
    if (!st->on)
        return 0;
    const fw_behaviour_model *m = ss->m;
    const fw_behaviour_cfg *c = &m->cfg;
    const fw_world *w = ss->w;
    uint32_t u = ss->user;
    if (ev->kind == FW_SE_PRODUCT_RESULT) {
        /* A product result of a search: clicked like a card, more readily on the searched
         * category; a click plants intent from search and opens the product page. */
        uint32_t product = ev->card;
        double intent = fw_behaviour_intent(m, w, ss->us, u, product, ss->tick, NULL);
        double z = m->b_card + c->intent_weight * log1p(intent) + c->appeal_weight * w->product_appeal[product] -
                   price_term(ss, st, product) + ev->bonus;
        if (gsl_rng_uniform(rng_of(ss, p)) >= fw_sigmoid(z))
            return 0;
        ev->handled = 1;
        fw_behaviour_plant(m, w, ss->us, u, product, c->plant_open * 31.0 * w->purchase_prop[u] * intent_boost(ss, st),
                           ss->tick, FW_SRC_SEARCH);
        return product_view(ss, p, product);
    }
    if (ev->kind == FW_SE_AD_OPENED) {
        uint32_t product = w->note_product[ev->page->note];
        if (product == FW_NONE)
            return 0;
        fw_behaviour_plant(m, w, ss->us, u, product, c->plant_open * 31.0 * w->purchase_prop[u] * intent_boost(ss, st),
                           ss->tick, FW_SRC_FEED);
        return product_view(ss, p, product);
    }
    if (ev->kind != FW_SE_NOTE_OPENED)
        return 0;
    uint32_t shown = w->note_product[ev->note], card = ev->card;
    if (shown != FW_NONE) {
        /* Planting scales with the user's propensity to buy what notes plant (world: Beta(1,
         * 30), mean 1/31): most readers are barely moved, a few are moved a lot. */
        fw_behaviour_plant(m, w, ss->us, u, shown,
                           (c->plant_open + ev->extra) * 31.0 * w->purchase_prop[u] * intent_boost(ss, st), ss->tick,
                           ev->source);
        COUNT(card_recall_den)++;
        if (card == shown)
            COUNT(card_correct)++;
        else if (card == FW_NONE)
            COUNT(card_missed)++;
        else
            COUNT(card_wrong)++;
    } else if (card != FW_NONE) {
        COUNT(card_wrong)++;
    }
    if (card == FW_NONE)
        return 0;
    COUNT(card_impressions)++;
    double intent = fw_behaviour_intent(m, w, ss->us, u, card, ss->tick, NULL);
    double z = m->b_card + c->intent_weight * log1p(intent) + c->appeal_weight * w->product_appeal[card] -
               price_term(ss, st, card) - fw_safety_sim_card_penalty(ss->S, u, card);
    if (gsl_rng_uniform(rng_of(ss, p)) >= fw_sigmoid(z))
        return 0;
    COUNT(card_clicks)++;
    fw_evlog_outcome(ss, FW_EVO_CARD_CLICK);
    return product_view(ss, p, card);
}

/* ---- the barrier ---------------------------------------------------------------------------- */

#define BCOUNT(user, k) (fw_sim_row(S, user)[p->base + C_##k])

static void give_back(fw_sim *S, uint32_t user, int64_t cents)
{
    int64_t *sp = &S->us.spent_cents[user];
    *sp = *sp > cents ? *sp - cents : 0;
}

/* Returns decided earlier whose day has come, in the order they were decided. */
static fw_err shop_before_log(fw_sim *S, fw_part_inst *p, fw_recbuf *log)
{
    shop_state *st = p->state;
    size_t keep = 0;
    for (size_t k = 0; k < st->n_returns; k++) {
        pending_return *r = &st->returns[k];
        if (r->tick > S->abs_tick) {
            st->returns[keep++] = *r;
            continue;
        }
        fw_record rec = {.kind = FW_RECORD_RETURN, .u.ret = {.order = r->order, .user = r->user, .tick = S->abs_tick}};
        if (fw_recbuf_push(log, &rec))
            return FW_ERR_NOMEM;
    }
    st->n_returns = keep;
    return FW_OK;
}

/* Checkouts' outcomes and returns' results, as the engine wrote them into the records. */
static fw_err shop_after_log(fw_sim *S, fw_part_inst *p, const fw_record *rec, size_t n)
{
    shop_state *st = p->state;
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
        case FW_ORDER_OK: {
            /* Orders that never pass a checkout here (live orders, fw_live_buy) keep the grown
             * entries' value, so it must be set: realloc's leftovers made their paid_from_*
             * differ between thread counts. They count as found without a planting note. */
            size_t had = st->order_src_cap;
            if (fw_sim_grow((void **)&st->order_src, &st->order_src_cap, (size_t)o->order + 1, 1, 256))
                return FW_ERR_NOMEM;
            memset(st->order_src + had, FW_SRC_SHOP, st->order_src_cap - had);
            st->order_src[o->order] = (uint8_t)rec[k].aux;
            break;
        }
        case FW_ORDER_DUPLICATE:
            BCOUNT(q->user, duplicate_requests)++;
            break;
        case FW_ORDER_NO_STOCK:
            BCOUNT(q->user, stockout_rejections)++;
            give_back(S, q->user, S->w.product_price_cents[q->product] * (int64_t)q->qty);
            break;
        default:
            return FW_ERR_INTERNAL;   /* the simulator sent a request the shop cannot read */
        }
    }
    return FW_OK;
}

/* The shop's lifecycle changes of the tick, counted per cell; each buyer decides at delivery
 * whether (and when, within the window) to return the product. */
static fw_err shop_tick_end(fw_sim *S, fw_part_inst *p)
{
    shop_state *st = p->state;
    size_t n;
    const fw_order_change *ch = fw_shop_changes(S->engine, &n);
    uint32_t *const *uc = fw_sim_aggs(S);
    for (size_t k = 0; k < n; k++) {
        const fw_order_change *c = &ch[k];
        uint32_t u = c->user;
        switch (c->kind) {
        case FW_OC_CREATED: BCOUNT(u, orders)++; break;
        case FW_OC_PAY_FAILED: BCOUNT(u, payment_failures)++; break;
        case FW_OC_PAID: {
            static const uint32_t by_src[FW_SRC__COUNT] = {C_paid_from_feed, C_paid_from_search, C_paid_from_shop};
            BCOUNT(u, paid_orders)++;
            BCOUNT(u, gmv_cents) += (uint64_t)c->value_cents;
            uint8_t src = c->order < st->order_src_cap ? st->order_src[c->order] : FW_SRC_SHOP;
            fw_sim_row(S, u)[p->base + by_src[src < FW_SRC__COUNT ? src : FW_SRC_SHOP]]++;
            if (!S->us.bought_today[u]) {
                S->us.bought_today[u] = 1;
                BCOUNT(u, buyers)++;
            }
            uc[FW_UM_paid_orders][u]++;
            uint64_t g = (uint64_t)uc[FW_UM_gmv_cents][u] + (uint64_t)c->value_cents;
            uc[FW_UM_gmv_cents][u] = g > UINT32_MAX ? UINT32_MAX : (uint32_t)g;
            break;
        }
        case FW_OC_CANCELLED:
            BCOUNT(u, cancelled_orders)++;
            give_back(S, u, c->value_cents);
            break;
        case FW_OC_SHIPPED: BCOUNT(u, shipped_orders)++; break;
        case FW_OC_DELIVERED: {
            BCOUNT(u, delivered_orders)++;
            const fw_behaviour_model *m = &S->model[fw_sim_live_cell(S, u)];
            gsl_rng *r = st->barrier_rng;
            fw_rng_seek(r, S->sc->seed, FW_RNG_RETURN, c->order, 0);
            uint32_t window = S->cell_engine[c->arm].shop.return_days * S->tpd;
            if (window > 0 && gsl_rng_uniform(r) < fw_safety_sim_return(S, u, c->product,
                                                                         fw_behaviour_p_return(m, &S->w, u, c->product))) {
                int32_t at = c->tick + 1 + (int32_t)gsl_rng_uniform_int(r, window);
                if (fw_sim_grow((void **)&st->returns, &st->returns_cap, st->n_returns + 1, sizeof *st->returns, 256))
                    return FW_ERR_NOMEM;
                st->returns[st->n_returns++] = (pending_return){at, c->order, u};
            }
            break;
        }
        case FW_OC_RETURNED:
            BCOUNT(u, returns)++;
            fw_safety_sim_returned(S, u, c->product);   /* fake planting costs brand trust */
            break;
        case FW_OC_REFUNDED:
            BCOUNT(u, refunds)++;
            BCOUNT(u, refund_cents) += (uint64_t)c->value_cents;
            give_back(S, u, c->value_cents);
            break;
        }
    }
    fw_shop_clear_changes(S->engine);
    /* Stock-outs each cell owes to the others this tick (the engine's totals to date). */
    for (uint32_t cell = 0; S->n_cells > 1 && cell < S->n_cells; cell++) {
        uint64_t orders, units;
        int64_t value;
        if (fw_shop_cell_stockouts(S->engine, cell, &orders, &units, &value) != FW_OK)
            break;
        uint64_t *row = &S->th[0].counters[(size_t)cell * S->n_counters + p->base];
        row[C_stockouts_from_other_arms] += orders - st->lost_orders[cell];
        row[C_stockout_units_from_other_arms] += units - st->lost_units[cell];
        st->lost_orders[cell] = orders;
        st->lost_units[cell] = units;
    }
    return FW_OK;
}

/* ---- the day -------------------------------------------------------------------------------- */

/* Per-brand sales (each cell's sales count for every arm the cell is part of); brands
 * restock sold-out products (each on a day with probability 1 / world.restock_days) to their
 * initial stock; a new month's budgets. */
static fw_err shop_day_close(fw_sim *S, fw_part_inst *p)
{
    shop_state *st = p->state;
    size_t nb = st->n_brands;
    memset(st->brand_units, 0, (size_t)S->n_arms * nb * sizeof *st->brand_units);
    memset(st->brand_rev, 0, (size_t)S->n_arms * nb * sizeof *st->brand_rev);
    for (uint32_t c = 0; c < S->n_cells && st->on; c++)
        for (uint32_t b = 0; b < nb; b++) {
            int64_t units, rev;
            if (fw_shop_brand_sales(S->engine, b, c, &units, &rev) != FW_OK)
                return FW_ERR_INTERNAL;
            for (uint32_t l = 0; l < S->asg.n_layers; l++) {
                size_t at = (size_t)S->asg.cell_arm[c][l] * nb + b;
                st->brand_units[at] += units;
                st->brand_rev[at] += rev;
            }
        }
    double days = S->sc->world.restock_days;
    fw_err rc;
    for (uint32_t pr = 0; pr < S->w.n_products && st->on; pr++) {
        fw_product_stock ps;
        if (fw_shop_stock(S->engine, pr, &ps) != FW_OK)
            return FW_ERR_INTERNAL;
        if (ps.available > 0 || days <= 0.0)
            continue;
        fw_rng_seek(st->barrier_rng, S->sc->seed, FW_RNG_RESTOCK, pr, S->day);
        if (gsl_rng_uniform(st->barrier_rng) < 1.0 / days && S->w.product_stock[pr] > 0 &&
            (rc = fw_shop_restock(S->engine, pr, S->w.product_stock[pr], S->abs_tick)) != FW_OK)
            return rc;
    }
    /* A new month: budgets start over (signed: a warm-up's days, issue 18, are below 0, and
     * its last day's end starts day 0's month). */
    if (((int64_t)(int32_t)S->day + 1) % 30 == 0)
        memset(S->us.spent_cents, 0, (size_t)S->w.n_users * sizeof *S->us.spent_cents);
    return FW_OK;
}

static void shop_summary(const fw_sim *S, const fw_part_inst *p, const uint64_t *totals, double days, FILE *out)
{
    int gmv = fw_sim_counter_index(S, "gmv_cents");
    fprintf(out, "  %-12s %9s %11s %9s %9s %9s %8s\n", "shop", "orders", "GMV (CNY)", "buyers", "clk->buy",
            "cart->buy", "refunds");
    for (uint32_t a = 0; a < S->n_arms; a++) {
        const uint64_t *c = &totals[(size_t)a * S->n_counters];
        const uint64_t *mine = c + p->base;
        double click_to_purchase = mine[C_product_views] ? (double)mine[C_paid_orders] / (double)mine[C_product_views] : NAN;
        double cart_to_purchase = mine[C_cart_adds] ? (double)mine[C_paid_orders] / (double)mine[C_cart_adds] : NAN;
        char v2p[16], c2p[16];
        fprintf(out, "  %-12s %9.0f %11.0f %9.0f %9s %9s %8.0f\n", S->sc->arms[a].name, mine[C_paid_orders] / days,
                c[gmv] / 100.0 / days, mine[C_buyers] / days, fw_pct_text(v2p, sizeof v2p, click_to_purchase, 2),
                fw_pct_text(c2p, sizeof c2p, cart_to_purchase, 1), mine[C_refunds] / days);
    }
}

/* ---- the run -------------------------------------------------------------------------------- */

/* Skipped: on, promo, n_brands, n_arms, arm_names (set at create), the streams (sought before
 * every draw). The orders' sources go up to the last that is not FW_SRC_SHOP, which is what
 * every entry past them holds, as its readers take an entry past the room (so the room, which
 * depends on when it grew, does not show in the snapshot). The brand tables are the
 * recorder's copies of the shop's books, made at every day's close: they go too, so the file
 * a resumed run writes is right before its first day closes. */
_Static_assert(sizeof(pending_return) == 12, "pending_return travels whole: it must hold no padding");

static void shop_snap(fw_sim *S, fw_part_inst *p, fw_snap *s)
{
    shop_state *st = p->state;
    uint32_t n_orders = fw_shop_n_orders(S->engine);
    size_t n_src = st->order_src_cap < n_orders ? st->order_src_cap : n_orders;
    while (n_src > 0 && st->order_src[n_src - 1] == FW_SRC_SHOP)
        n_src--;
    fw_snap_vec(s, (void **)&st->order_src, &n_src, &st->order_src_cap, sizeof *st->order_src, n_orders);
    fw_snap_vec(s, (void **)&st->returns, &st->n_returns, &st->returns_cap, sizeof *st->returns, n_orders);
    for (size_t k = 0; k < st->n_returns && fw_snap_loading(s) && !fw_snap_failed(s); k++)
        if (st->returns[k].user >= S->w.n_users)
            fw_snap_fail(s, "a return by user %u, out of range", st->returns[k].user);
    fw_snap_array(s, st->brand_units, (size_t)S->n_arms * st->n_brands, sizeof *st->brand_units);
    fw_snap_array(s, st->brand_rev, (size_t)S->n_arms * st->n_brands, sizeof *st->brand_rev);
    fw_snap_array(s, st->lost_orders, S->n_cells, sizeof *st->lost_orders);
    fw_snap_array(s, st->lost_units, S->n_cells, sizeof *st->lost_units);
}

static void shop_destroy(fw_sim *S, fw_part_inst *p)
{
    shop_state *st = p->state;
    (void)S;
    free(st->order_src);   /* these grow; the rest is the run's */
    free(st->returns);
}

static fw_err shop_create(fw_sim *S, fw_part_inst *p)
{
    shop_state *st = p->state;
    st->on = S->w.n_products > 0;
    st->promo = S->sc->n_coupons > 0 || S->sc->n_promo_days > 0;
    if (st->promo && !(st->crng = fw_sim_thread_rngs(S, FW_RNG_COUPON)))
        return FW_ERR_NOMEM;
    st->n_brands = S->w.n_brands;
    st->n_arms = S->n_arms;
    if (!(st->rng = fw_sim_thread_rngs(S, FW_RNG_SHOP)) ||
        !(st->barrier_rng = fw_sim_rng(S, FW_RNG_SHOP)) ||
        !(st->brand_units = fw_sim_calloc(S, (size_t)S->n_arms * st->n_brands, sizeof *st->brand_units)) ||
        !(st->brand_rev = fw_sim_calloc(S, (size_t)S->n_arms * st->n_brands, sizeof *st->brand_rev)))
        return FW_ERR_NOMEM;
    if (!S->rec)
        return FW_OK;
    /* Rows are the scenario's arms in its order, named by the attribute "arms". */
    size_t len = 1;
    for (uint32_t a = 0; a < S->n_arms; a++)
        len += strlen(S->sc->arms[a].name) + 1;
    if (!(st->arm_names = fw_sim_calloc(S, len, 1)))
        return FW_ERR_NOMEM;
    for (uint32_t a = 0; a < S->n_arms; a++) {
        strcat(st->arm_names, S->sc->arms[a].name);
        if (a + 1 < S->n_arms)
            strcat(st->arm_names, "\n");
    }
    fw_err rc = fw_recorder_group(S->rec, "shop", "the shop's books (global: every arm buys from the same stock) "
                                                  "and per-brand sales per arm");
    fw_rec_table units = {.path = "shop/brand_units", .unit = "units",
                          .doc = "net units sold to date per arm (row; the arms attribute names them) and brand",
                          .type = FW_REC_I64, .data = (const void *const *)&st->brand_units, .rows = &st->n_arms,
                          .cols = st->n_brands, .labels = {"arm", "brand"}, .attr_name = "arms",
                          .attr_value = (const char *const *)&st->arm_names};
    fw_rec_table revenue = units;
    revenue.path = "shop/brand_revenue_cents";
    revenue.unit = "cents";
    revenue.doc = "net revenue (payments minus refunds) to date per arm (row) and brand";
    revenue.data = (const void *const *)&st->brand_rev;
    if (rc == FW_OK && st->n_brands > 0 && (rc = fw_recorder_table(S->rec, &units)) == FW_OK)
        rc = fw_recorder_table(S->rec, &revenue);
    return rc;
}

const fw_part fw_shop_part = {
    .name = "shop",
    FW_PART_COUNTERS_AND_RATES,
    .state_size = sizeof(shop_state),
    .create = shop_create,
    .destroy = shop_destroy,
    .snap = shop_snap,
    .user_tick = shop_user_tick,
    .session_arrive = shop_cart,
    .session_browse = shop_tab,
    .on_event = shop_on_event,
    .before_log = shop_before_log,
    .after_log = shop_after_log,
    .tick_end = shop_tick_end,
    .day_close = shop_day_close,
    .summary = shop_summary,
};
