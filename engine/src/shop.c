/* The shop (flywheel/shop.h): catalog, cards, carts, orders, payment, stock, after-sales,
 * the shop-tab profile and best sellers.
 *
 * Orders live in one table indexed by order id (ids are dense, in creation order); an
 * open-addressing map from request id to order id makes checkout idempotent. Orders that
 * still have a step ahead (a payment retry, shipping, delivery, the end of the return
 * window, a refund) are kept in an "open" list in id order; each tick end walks it once, so
 * lifecycle work is proportional to open orders, not to every order ever placed.
 *
 * Randomness a real shop has (a payment declined, a parcel's delivery time, a recogniser's
 * mistake) is a hash of ids, so the engine stays deterministic without a random stream.
 *
 * Coupons (none unless fw_shop_coupons_define): every coupon's face value on an order is in
 * exactly one of the coupon's sums -- held (order CREATED), spent (paid, not refunded) -- or in
 * neither (cancelled: released; refunded: given back), so held + spent is what its budget
 * covers, and a checkout applies a coupon only when budget - held - spent covers its face.
 * Each claim's state follows its order: IN_USE while held, USED once paid, USABLE again (or
 * EXPIRED) when released. check_coupons recomputes all of it from the orders and wallets. */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "flywheel/shop.h"
#include "shop_int.h"

/* The shop's books at a day's end: the series of /shop/days. X(name, unit, description). */
#define FW_SHOP_DAY_SERIES(X)                                                                  \
    X(gmv_cents, "cents", "net GMV to date: payments minus refunds, as the shop keeps it")    \
    X(paid_cents, "cents", "payments to date")                                                 \
    X(refunded_cents, "cents", "refunds to date")                                              \
    X(orders, "orders", "orders created to date")                                              \
    X(units_available, "units", "units on sale at the day's end")                              \
    X(units_reserved, "units", "units reserved by orders awaiting payment")                    \
    X(units_sold, "units", "units of paid orders not refunded, to date")                       \
    X(units_restocked, "units", "units brands restocked, to date")                             \
    X(stocked_out_products, "products", "products with no unit on sale at the day's end (before restocking)")

FW_DECLARE_SERIES(FW_SHOP_DAY_SERIES);

/* Profile weights of each signal (relative; a save says more than an open). */
#define W_OPEN 1.0f
#define W_LIKE 1.0f
#define W_SAVE 2.0f
#define W_COMMENT 1.0f
#define W_VIEW 1.0f
#define W_CART 3.0f
#define W_ORDER 5.0f
/* Popularity of a product: views count 1, cart adds 3, paid units 10. */
#define POP_VIEW 1.0
#define POP_CART 3.0
#define POP_SOLD 10.0

typedef struct prof_entry {
    uint16_t cat;
    uint16_t pad;    /* 0: the padding named, so that a row's bytes (snapshot whole) are all set */
    float w;
} prof_entry;

/* The community side of a user's profile, per topic: notes seen and the engagement they got
 * (reads, likes, saves, comments, weighted). What it says is how much more than everyone
 * the user engages with what they are shown of a topic -- counts alone would only echo
 * what the feed pushes. */
typedef struct comm_entry {
    uint16_t cat;
    uint16_t pad;    /* 0, as in prof_entry */
    float impr, eng;
} comm_entry;

#define FW_SHOP_COMM_K 8
#define COMM_PRIOR 20.0   /* impressions of prior at the population rate (smoothing) */

typedef struct cart {
    uint32_t *p;
    int32_t *t;
    uint32_t n, cap;
} cart;

/* Widest fields first and the padding named: the orders are snapshot as their bytes. */
typedef struct order_rec {
    uint64_t request_id;
    int64_t value, refunded;
    int64_t discount;            /* the coupon's face value: the issuer's share of value */
    uint32_t user, arm, product, qty;
    uint32_t coupon;             /* applied at checkout, FW_NONE for none */
    int32_t created, paid, delivered, next;   /* next: tick of the next lifecycle step */
    uint8_t status, attempts, pay_count, pad;   /* pad: 0 */
} order_rec;

/* A user's claim of a coupon (one per user and coupon), in the user's wallet. */
enum { CL_USABLE = 0, CL_IN_USE, CL_USED, CL_EXPIRED, CL__COUNT };
typedef struct claim_rec {
    uint32_t coupon;
    int32_t expires;             /* usable at ticks < expires */
    uint32_t state;              /* CL_* (32 bits: no padding, a wallet is snapshot as its bytes) */
} claim_rec;

typedef struct wallet {
    claim_rec *v;
    uint32_t n, cap;
} wallet;

/* A coupon's books (fw_coupon_books without the budget). */
typedef struct coupon_book {
    uint64_t claims, expired, applied, redeemed, released, refunded;
    int64_t held, spent;         /* cents held by pending orders, redeemed by paid orders not refunded */
} coupon_book;

struct fw_shop {
    uint32_t n_products, n_brands, n_topics;
    fw_product_info *prod;
    fw_product_stock *stock;
    double *pop;                 /* [n_products] decayed popularity */
    uint32_t *cat_off, *cat_prod;   /* products by category */
    uint32_t *best, *best_n;     /* [n_topics * best_cap], [n_topics]: in stock, by popularity */
    uint32_t best_cap;
    uint32_t *best_all;          /* [best_cap] over every category */
    double *best_pop, *best_all_pop;   /* log(1 + popularity) as of the refresh (pages rank by it) */
    uint32_t n_best_all;
    int dirty;                   /* popularity or stock changed since the last refresh */
    double decay;                /* per-day factor of profiles and popularity */

    /* Product titles (fw_catalog.product_terms), an inverted index over them when some arm
     * blends products into search: word w's products, ascending, are title_prod[title_off[w]
     * .. title_off[w + 1]) with their counts of w in title_tf; title_len [n_products] words
     * per title, title_avg their mean. NULL without titles. */
    uint32_t n_terms;
    uint32_t *title_off, *title_prod, *title_len;
    uint8_t *title_tf;
    double title_avg;

    uint32_t *note_shown;        /* [note_cap] what each note shows (FW_NONE) */
    uint32_t note_cap;
    double fp_rate[FW_MAX_ENGINE_ARMS];   /* P(card | note shows nothing), per arm */

    order_rec *orders;
    uint32_t n_orders, cap_orders;
    uint64_t *map_key;           /* request id + 1 (0 = empty) */
    uint32_t *map_val;
    size_t map_mask, n_map;
    uint32_t *open, n_open, cap_open;

    cart *carts;                 /* [n_users] */
    /* Per user, made at the user's first event of the kind (NULL: all zero; most users of a
     * short run have none): [FW_SHOP_PROFILE_K] transactions per category and
     * [FW_SHOP_COMM_K] impressions and engagement per topic. */
    prof_entry **tx;
    comm_entry **community;
    int oom;                     /* a row could not be made: the barrier fails with NOMEM */
    double all_impr, all_eng;    /* everyone's, for the population rate */
    float *comm_c;               /* [2 x the tick's note events] log_community's scratch */
    size_t cap_comm_c;
    uint32_t *read_cards;        /* [n_users * FW_SHOP_READ_CARDS], NULL when no arm uses them:
                                    newest first, notes with a card the user liked or saved */

    fw_order_change *log;
    size_t n_log, cap_log;

    int64_t paid, refunded, gmv;
    uint64_t n_paid, n_refunded, n_cancelled;
    /* The value of every order ever created, and of every order lost to another cell's
     * stock-out (lost_value): the most the books can hold. Payments, GMV, refunds, the brands'
     * revenue and the coupons' discounts are parts of created orders' values, each counted
     * once, so while booked fits an int64 (log_orders refuses an order that would take it
     * past) no sum of money overflows. Derived: summed again when a snapshot loads, checked by
     * fw_shop_check. */
    int64_t booked;
    int64_t *brand_units, *brand_rev;   /* [n_arms * n_brands] */
    /* Stock-outs caused by other cells (fw_shop_cell_stockouts), with more than one cell:
     * units of each product reserved since the last day end, in all and by each cell. */
    uint32_t *taken_today;       /* [n_products] */
    uint32_t *taken_cell;        /* [n_products * n_arms] */
    uint64_t *lost_orders, *lost_units;   /* [n_arms] */
    int64_t *lost_value;         /* [n_arms] */

    /* Coupons (fw_shop_coupons_define; none by default, and then nothing below is used). */
    fw_coupon_def *coupons;      /* [n_coupons] */
    coupon_book *cbook;          /* [n_coupons] */
    uint32_t n_coupons;
    int coupons_defined;
    wallet *wallets;             /* [n_users], NULL without coupons */
    int64_t coupon_cost[FW_COUPON_ISSUER__COUNT];
    fw_coupon_change *clog;
    size_t n_clog, cap_clog;
    double sale;                 /* percent off list price of orders created now (a promotion day) */
    const int64_t *unit_price;   /* fw_shop_place_orders_priced's prices during its call, else NULL */
};

#define FW_SHOP_PROFILE_K 6
#define FW_SHOP_READ_CARDS 8

/* The shop's state; NULL when the catalog has no products (the shop is switched off). */
static struct fw_shop *S_of(const fw_engine *e) { return fw_mod(e, FW_MOD_SHOP); }

static const char *const status_names[FW_ORDER__COUNT] = {
    "created", "paid", "shipped", "delivered", "returned", "refunded", "cancelled"};

const char *fw_order_status_name(fw_order_status s)
{
    return (unsigned)s < FW_ORDER__COUNT ? status_names[s] : "?";
}

static inline uint64_t mix64(uint64_t x)
{
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

/* A uniform in [0, 1) from a hash of (a, b, purpose). */
static inline double hash_unit(uint64_t a, uint64_t b, uint64_t purpose)
{
    uint64_t h = mix64(a * UINT64_C(0x9e3779b97f4a7c15) + mix64(b + purpose * UINT64_C(0xd1b54a32d192ed03)));
    return (double)(h >> 11) * 0x1.0p-53;
}

static int64_t hours_to_ticks(const fw_engine *e, double h)
{
    double t = h * e->ticks_per_day / 24.0;
    return t < 0.5 ? 0 : (int64_t)(t + 0.5);
}

/* ---- creation ------------------------------------------------------------------------ */

static fw_err grow_note_shown(struct fw_shop *s, uint32_t need)
{
    if (need <= s->note_cap)
        return FW_OK;
    uint32_t cap = s->note_cap ? s->note_cap : 1024;
    while (cap < need)
        cap = cap > UINT32_MAX / 2 ? need : 2 * cap;
    uint32_t *v = realloc(s->note_shown, (size_t)cap * sizeof *v);
    if (!v)
        return FW_ERR_NOMEM;
    for (uint32_t k = s->note_cap; k < cap; k++)
        v[k] = FW_NONE;
    s->note_shown = v;
    s->note_cap = cap;
    return FW_OK;
}

static void refresh_best(const fw_engine *e, struct fw_shop *s);

static int shop_wanted(const fw_catalog *cat, const fw_engine_cfg *cfgs, uint32_t n_cells)
{
    (void)cfgs;
    (void)n_cells;
    return cat->products && cat->n_products > 0;
}

static fw_err shop_grow_notes(fw_engine *e, void *state, uint32_t old_cap, uint32_t cap)
{
    (void)e;
    (void)old_cap;
    return grow_note_shown(state, cap);
}

/* The titles' inverted index (struct fw_shop): counting, then filling, product by product,
 * so every word's products come out ascending. A title word past the vocabulary is refused. */
static fw_err index_titles(fw_engine *e, struct fw_shop *s, const fw_catalog *cat)
{
    uint32_t np = s->n_products, V = cat->n_terms;
    s->n_terms = V;
    if (!fw_alloc(e, &s->title_off, (size_t)V + 1, sizeof *s->title_off) ||
        !fw_alloc(e, &s->title_len, np, sizeof *s->title_len))
        return FW_ERR_NOMEM;
    uint64_t total = 0, words = 0;
    for (uint32_t p = 0; p < np; p++) {
        const uint32_t *t = &cat->product_terms[(size_t)p * FW_PRODUCT_TERMS];
        for (int k = 0; k < FW_PRODUCT_TERMS; k++) {
            if (t[k] == FW_NONE)
                continue;
            if (t[k] >= V)
                return FW_ERR_INVAL;
            s->title_len[p]++;
            words++;
            int first = 1;   /* a word counts once per title in the postings */
            for (int j = 0; j < k && first; j++)
                first = t[j] != t[k];
            if (first) {
                s->title_off[t[k] + 1]++;
                total++;
            }
        }
    }
    s->title_avg = np ? (double)words / np : 0.0;
    for (uint32_t w = 0; w < V; w++)
        s->title_off[w + 1] += s->title_off[w];
    if (!fw_alloc(e, &s->title_prod, total ? total : 1, sizeof *s->title_prod) ||
        !fw_alloc(e, &s->title_tf, total ? total : 1, sizeof *s->title_tf))
        return FW_ERR_NOMEM;
    uint32_t *fill = malloc((size_t)V * sizeof *fill);
    if (!fill)
        return FW_ERR_NOMEM;
    memcpy(fill, s->title_off, (size_t)V * sizeof *fill);
    for (uint32_t p = 0; p < np; p++) {
        const uint32_t *t = &cat->product_terms[(size_t)p * FW_PRODUCT_TERMS];
        for (int k = 0; k < FW_PRODUCT_TERMS; k++) {
            if (t[k] == FW_NONE)
                continue;
            int first = 1;
            uint8_t tf = 1;
            for (int j = 0; j < k && first; j++)
                first = t[j] != t[k];
            if (!first)
                continue;
            for (int j = k + 1; j < FW_PRODUCT_TERMS; j++)
                tf += t[j] == t[k];
            s->title_prod[fill[t[k]]] = p;
            s->title_tf[fill[t[k]]++] = tf;
        }
    }
    free(fill);
    return FW_OK;
}

static fw_err shop_create(fw_engine *e, const fw_catalog *cat, void **state)
{
    struct fw_shop *s = *state;
    uint32_t np = cat->products ? cat->n_products : 0, T = e->n_topics ? e->n_topics : 1;
    s->n_products = np;
    s->n_brands = cat->n_brands;
    s->n_topics = T;
    s->best_cap = fw_cfg(e, 0)->shop.best_sellers;
    for (uint32_t a = 1; a < e->n_arms; a++)
        if (fw_cfg(e, a)->shop.best_sellers > s->best_cap)
            s->best_cap = fw_cfg(e, a)->shop.best_sellers;
    s->decay = pow(0.5, 1.0 / fw_cfg(e, 0)->shop.profile_half_life_days);
    if (e->n_arms > 1 &&
        (!fw_alloc(e, &s->taken_today, np ? np : 1, sizeof *s->taken_today) ||
         !fw_alloc(e, &s->taken_cell, (size_t)(np ? np : 1) * e->n_arms, sizeof *s->taken_cell) ||
         !fw_alloc(e, &s->lost_orders, e->n_arms, sizeof *s->lost_orders) ||
         !fw_alloc(e, &s->lost_units, e->n_arms, sizeof *s->lost_units) ||
         !fw_alloc(e, &s->lost_value, e->n_arms, sizeof *s->lost_value)))
        return FW_ERR_NOMEM;
    fw_alloc(e, &s->prod, np ? np : 1, sizeof *s->prod);
    fw_alloc(e, &s->stock, np ? np : 1, sizeof *s->stock);
    fw_alloc(e, &s->pop, np ? np : 1, sizeof *s->pop);
    fw_alloc(e, &s->cat_off, (size_t)T + 1, sizeof *s->cat_off);
    fw_alloc(e, &s->cat_prod, np ? np : 1, sizeof *s->cat_prod);
    fw_alloc(e, &s->best, (size_t)T * s->best_cap, sizeof *s->best);
    fw_alloc(e, &s->best_n, T, sizeof *s->best_n);
    fw_alloc(e, &s->best_all, (size_t)s->best_cap, sizeof *s->best_all);
    fw_alloc(e, &s->best_pop, (size_t)T * s->best_cap, sizeof *s->best_pop);
    fw_alloc(e, &s->best_all_pop, (size_t)s->best_cap, sizeof *s->best_all_pop);
    fw_alloc(e, &s->carts, e->n_users, sizeof *s->carts);
    fw_alloc(e, &s->community, e->n_users, sizeof *s->community);
    fw_alloc(e, &s->tx, e->n_users, sizeof *s->tx);
    uint32_t want_cards = 0;   /* the rings cost 32 bytes a user: only when some arm uses them */
    for (uint32_t a = 0; a < e->n_arms; a++)
        want_cards |= fw_cfg(e, a)->shop.read_cards;
    if (want_cards &&
        !fw_alloc(e, &s->read_cards, (size_t)e->n_users * FW_SHOP_READ_CARDS, sizeof *s->read_cards))
        return FW_ERR_NOMEM;

    fw_alloc(e, &s->brand_units, (size_t)e->n_arms * (s->n_brands ? s->n_brands : 1), sizeof *s->brand_units);
    fw_alloc(e, &s->brand_rev, (size_t)e->n_arms * (s->n_brands ? s->n_brands : 1), sizeof *s->brand_rev);
    s->map_mask = 1023;
    fw_alloc(e, &s->map_key, s->map_mask + 1, sizeof *s->map_key);
    fw_alloc(e, &s->map_val, s->map_mask + 1, sizeof *s->map_val);
    /* These grow; the engine frees whatever they hold. */
    if (!fw_alloc(e, &s->note_shown, 0, sizeof *s->note_shown) || !fw_alloc(e, &s->orders, 0, sizeof *s->orders) ||
        !fw_alloc(e, &s->open, 0, sizeof *s->open) || !fw_alloc(e, &s->log, 0, sizeof *s->log) ||
        !fw_alloc(e, &s->comm_c, 0, sizeof *s->comm_c))
        return FW_ERR_NOMEM;
    if (!s->prod || !s->stock || !s->pop || !s->cat_off || !s->cat_prod || !s->best || !s->best_n ||
        !s->best_all || !s->best_pop || !s->best_all_pop || !s->carts || !s->community || !s->tx || !s->brand_units ||
        !s->brand_rev || !s->map_key || !s->map_val)
        return FW_ERR_NOMEM;
    for (size_t k = 0; s->read_cards && k < (size_t)e->n_users * FW_SHOP_READ_CARDS; k++)
        s->read_cards[k] = FW_NONE;
    for (uint32_t p = 0; p < np; p++) {
        const fw_product_info *pi = &cat->products[p];
        if (pi->category >= T || pi->price_cents <= 0 || pi->price_cents > FW_PRICE_MAX_CENTS ||
            (s->n_brands && pi->brand >= s->n_brands) ||
            !s->n_brands)
            return FW_ERR_INVAL;
        s->prod[p] = *pi;
        s->stock[p].initial = s->stock[p].available = pi->stock;
        s->cat_off[pi->category + 1]++;
    }
    for (uint32_t t = 0; t < T; t++)
        s->cat_off[t + 1] += s->cat_off[t];
    uint32_t *fill = malloc(((size_t)T + 1) * sizeof *fill);
    if (!fill)
        return FW_ERR_NOMEM;
    memcpy(fill, s->cat_off, ((size_t)T + 1) * sizeof *fill);
    for (uint32_t p = 0; p < np; p++)
        s->cat_prod[fill[s->prod[p].category]++] = p;
    free(fill);

    /* Cards: the false-positive rate that gives each arm its precision, from the share of
     * the catalog's notes that show a product (the platform's prior; 0 without notes). */
    fw_err rc = grow_note_shown(s, e->cap_notes > cat->n_notes ? e->cap_notes : cat->n_notes);
    if (rc != FW_OK)
        return rc;
    uint64_t showing = 0;
    if (cat->note_products)
        for (uint32_t n = 0; n < cat->n_notes; n++) {
            uint32_t p = cat->note_products[n];
            if (p != FW_NONE && p >= np)
                return FW_ERR_INVAL;
            s->note_shown[n] = p;
            showing += p != FW_NONE;
        }
    double share = cat->n_notes ? (double)showing / cat->n_notes : 0.0;
    for (uint32_t a = 0; a < e->n_arms; a++) {
        const fw_shop_cfg *c = &fw_cfg(e, a)->shop;
        double fp = share < 1.0 ? c->recognition_recall * share * (1.0 - c->recognition_precision) /
                                      (c->recognition_precision * (1.0 - share))
                                : 0.0;
        s->fp_rate[a] = fp > 1.0 ? 1.0 : fp;
    }
    int titles = 0;
    for (uint32_t a = 0; a < e->n_arms; a++)
        titles |= fw_cfg(e, a)->search.product_slot > 0 && fw_cfg(e, a)->search.product_match == FW_PRODUCT_MATCH_TITLE;
    if (titles && cat->product_terms && np && (rc = index_titles(e, s, cat)) != FW_OK)
        return rc;
    s->dirty = 1;
    refresh_best(e, s);
    return FW_OK;
}

static void shop_destroy(fw_engine *e, void *state)
{
    struct fw_shop *s = state;
    if (s->carts)
        for (uint32_t u = 0; u < e->n_users; u++) {
            free(s->carts[u].p);
            free(s->carts[u].t);
        }
    if (s->wallets)
        for (uint32_t u = 0; u < e->n_users; u++)
            free(s->wallets[u].v);
    for (uint32_t u = 0; s->tx && u < e->n_users; u++)
        free(s->tx[u]);
    for (uint32_t u = 0; s->community && u < e->n_users; u++)
        free(s->community[u]);
}

/* ---- cards --------------------------------------------------------------------------- */

fw_err fw_shop_attach(fw_engine *e, uint32_t note, uint32_t product)
{
    struct fw_shop *s = S_of(e);
    if (!s)
        return product == FW_NONE && note < e->n_notes ? FW_OK : FW_ERR_INVAL;
    if (note >= e->n_notes || (product != FW_NONE && product >= s->n_products))
        return FW_ERR_INVAL;
    fw_err rc = grow_note_shown(s, note + 1);
    if (rc != FW_OK)
        return rc;
    s->note_shown[note] = product;
    return FW_OK;
}

uint32_t fw_shop_card(const fw_engine *e, uint32_t note, uint32_t arm)
{
    const struct fw_shop *s = S_of(e);
    if (!s || note >= e->n_notes || arm >= e->n_arms || s->n_products == 0)
        return FW_NONE;
    uint32_t shown = note < s->note_cap ? s->note_shown[note] : FW_NONE;
    double u = hash_unit(note, 0, 1);
    if (shown != FW_NONE)
        return u < fw_cfg(e, arm)->shop.recognition_recall ? shown : FW_NONE;
    if (u >= s->fp_rate[arm])
        return FW_NONE;
    /* A wrong card: a product of the note's topic (what a confused recogniser would see). */
    uint32_t t = e->notes[note].topic < s->n_topics ? e->notes[note].topic : 0;
    uint32_t lo = s->cat_off[t], hi = s->cat_off[t + 1];
    if (hi == lo)
        return FW_NONE;
    return s->cat_prod[lo + (uint32_t)(hash_unit(note, 0, 2) * (hi - lo))];
}

uint32_t fw_shop_search_product(const fw_engine *e, uint32_t topic)
{
    const struct fw_shop *s = S_of(e);
    if (!s || s->n_products == 0 || topic >= s->n_topics || s->best_n[topic] == 0)
        return FW_NONE;
    return s->best[(size_t)topic * s->best_cap];
}

/* One pass over the postings of the query's distinct words, merged by product id (each list
 * ascending): every product with a query word in its title, its BM25 over titles (k1, b of
 * the arm) with the idf of word frequency among titles. Pass 1 (best NULL) returns the
 * largest BM25 and sets *max_pop, the largest log(1 + popularity) in stock; pass 2 picks the
 * in-stock product with the most w_text * bm25 / top + w_intent * [its category is topic] +
 * product_w_sales * log(1 + popularity) / top_pop (relevance, the query's intent, and
 * sales, as shop search ranks), ties to the more popular, then the lower id. */
static double title_pass(const struct fw_shop *s, const fw_search_cfg *c, const uint32_t *words, uint32_t n,
                         uint32_t topic, double top, double top_pop, uint32_t *best, double *max_pop)
{
    uint32_t at[FW_QUERY_TERMS], end[FW_QUERY_TERMS];
    double idf[FW_QUERY_TERMS];
    for (uint32_t i = 0; i < n; i++) {
        at[i] = s->title_off[words[i]];
        end[i] = s->title_off[words[i] + 1];
        double df = end[i] - at[i], N = s->n_products;
        idf[i] = log(1.0 + (N - df + 0.5) / (df + 0.5));
    }
    double best_v = -1.0, max_bm = 0.0;
    uint32_t best_p = FW_NONE;
    for (;;) {
        uint32_t p = FW_NONE;
        for (uint32_t i = 0; i < n; i++)
            if (at[i] < end[i] && (p == FW_NONE || s->title_prod[at[i]] < p))
                p = s->title_prod[at[i]];
        if (p == FW_NONE)
            break;
        double bm = 0.0, norm = c->k1 * (1.0 - c->b + c->b * s->title_len[p] / s->title_avg);
        for (uint32_t i = 0; i < n; i++)   /* in query order: the same sum in both passes */
            if (at[i] < end[i] && s->title_prod[at[i]] == p) {
                double tf = s->title_tf[at[i]++];
                bm += idf[i] * tf * (c->k1 + 1.0) / (tf + norm);
            }
        if (s->stock[p].available == 0)
            continue;
        double lp = log1p(s->pop[p]);
        if (!best) {
            max_bm = bm > max_bm ? bm : max_bm;
            *max_pop = lp > *max_pop ? lp : *max_pop;
            continue;
        }
        double v = c->w_text * bm / top + (s->prod[p].category == topic ? c->w_intent : 0.0) +
                   (top_pop > 0.0 ? c->product_w_sales * lp / top_pop : 0.0);
        if (best_p == FW_NONE || v > best_v ||
            (v == best_v && (s->pop[p] > s->pop[best_p] || (s->pop[p] == s->pop[best_p] && p < best_p)))) {
            best_v = v;
            best_p = p;
        }
    }
    if (best)
        *best = best_p;
    return max_bm;
}

uint32_t fw_shop_search_product_for(const fw_engine *e, const fw_search_req *q, uint32_t topic)
{
    const struct fw_shop *s = S_of(e);
    if (!s || s->n_products == 0 || q->arm >= e->n_arms)
        return FW_NONE;
    const fw_search_cfg *c = &fw_cfg(e, q->arm)->search;
    if (c->product_match != FW_PRODUCT_MATCH_TITLE || !s->title_off)
        return fw_shop_search_product(e, topic);
    uint32_t words[FW_QUERY_TERMS], n = 0;
    for (uint32_t k = 0; k < q->n_terms && k < FW_QUERY_TERMS; k++) {
        uint32_t w = q->terms[k];
        int dup = w >= s->n_terms || s->title_off[w] == s->title_off[w + 1];
        for (uint32_t j = 0; j < n && !dup; j++)
            dup = words[j] == w;
        if (!dup)
            words[n++] = w;
    }
    uint32_t best = FW_NONE;
    double top_pop = 0.0, top = n ? title_pass(s, c, words, n, topic, 0.0, 0.0, NULL, &top_pop) : 0.0;
    if (top > 0.0)
        title_pass(s, c, words, n, topic, top, top_pop, &best, NULL);
    /* No title in stock shares a word with the query (colloquial words, typos): the best
     * seller of the category the engine reads in it. */
    return best != FW_NONE ? best : fw_shop_search_product(e, topic);
}

/* ---- profiles ------------------------------------------------------------------------ */

static const prof_entry no_tx[FW_SHOP_PROFILE_K];
static const comm_entry no_comm[FW_SHOP_COMM_K];

/* User u's rows for reading (the zero row while u has none) and for writing (made zeroed
 * at the first write, at a barrier; NULL out of memory, noted in s->oom). */
static const prof_entry *tx_of(const struct fw_shop *s, uint32_t u) { return s->tx[u] ? s->tx[u] : no_tx; }
static const comm_entry *comm_of(const struct fw_shop *s, uint32_t u) { return s->community[u] ? s->community[u] : no_comm; }

static prof_entry *tx_make(struct fw_shop *s, uint32_t u)
{
    if (!s->tx[u] && !(s->tx[u] = calloc(FW_SHOP_PROFILE_K, sizeof *s->tx[u])))
        s->oom = 1;
    return s->tx[u];
}

static comm_entry *comm_make(struct fw_shop *s, uint32_t u)
{
    if (!s->community[u] && !(s->community[u] = calloc(FW_SHOP_COMM_K, sizeof *s->community[u])))
        __atomic_store_n(&s->oom, 1, __ATOMIC_RELAXED);   /* log_community's parts run in parallel */
    return s->community[u];
}

static void prof_add(prof_entry *row, uint32_t cat, float w)
{
    int empty = -1, low = 0;
    for (int k = 0; k < FW_SHOP_PROFILE_K; k++) {
        if (row[k].w > 0.0f && row[k].cat == cat) {
            row[k].w += w;
            return;
        }
        if (row[k].w <= 0.0f && empty < 0)
            empty = k;
        if (row[k].w < row[low].w)
            low = k;
    }
    int k = empty >= 0 ? empty : low;
    if (empty < 0 && row[low].w >= w)
        return;   /* a stronger interest keeps its place */
    row[k].cat = (uint16_t)cat;
    row[k].w = w;
}

/* Adds impressions and engagement of topic t to a community row; a topic not in a full row
 * takes the place of the one seen least. */
static void comm_add(comm_entry *row, uint32_t t, float impr, float eng)
{
    int low = 0;
    for (int k = 0; k < FW_SHOP_COMM_K; k++) {
        if (row[k].impr + row[k].eng > 0.0f && row[k].cat == t) {
            row[k].impr += impr;
            row[k].eng += eng;
            return;
        }
        if (row[k].impr + row[k].eng < row[low].impr + row[low].eng)
            low = k;
    }
    row[low] = (comm_entry){.cat = (uint16_t)t, .impr = impr, .eng = eng};
}

/* The community side of the profiles, from the tick's note events. A user's row and ring
 * change only with the user's own events, in their order, so the users are cut into parts
 * (blocks of 64 ids dealt round-robin: rows apart) that run in parallel, each walking the
 * log for its users' events in order: the same rows and rings for any number of parts. Each
 * event's share of the population totals goes to comm_c, summed after in log order, as the
 * one loop summed them. */
typedef struct comm_job {
    const fw_engine *e;
    struct fw_shop *s;
    const fw_log *l;
    uint32_t n_part;
} comm_job;

static void k_community(void *arg, size_t b, size_t end, int slot)
{
    const comm_job *j = arg;
    const fw_engine *e = j->e;
    struct fw_shop *s = j->s;
    (void)slot;
    for (size_t part = b; part < end; part++)
        for (size_t i = 0; i < j->l->n_ev; i++) {
            const fw_event *x = &j->l->ev[i];
            if ((x->user >> 6) % j->n_part != part)
                continue;
            float *c = &s->comm_c[2 * i];
            c[0] = c[1] = 0.0f;
            if (!fw_event_ok(e, x))
                continue;   /* the core rejects these: they change nothing here either */
            float w;
            switch (FW_EV_TYPE(x->type)) {
            case FW_EV_IMPRESSION: w = 0.0f; break;
            case FW_EV_OPEN: w = W_OPEN; break;
            case FW_EV_LIKE: w = W_LIKE; break;
            case FW_EV_SAVE: w = W_SAVE; break;
            case FW_EV_COMMENT: w = W_COMMENT; break;
            default: continue;
            }
            uint32_t t = e->notes[x->note].topic;
            if (t < s->n_topics) {
                float impr = FW_EV_TYPE(x->type) == FW_EV_IMPRESSION ? 1.0f : 0.0f;
                comm_entry *row = comm_make(s, x->user);
                if (!row)
                    continue;   /* s->oom: shop_log fails */
                comm_add(row, t, impr, w);
                c[0] = impr;
                c[1] = w;
            }
            if (!s->read_cards || (FW_EV_TYPE(x->type) != FW_EV_LIKE && FW_EV_TYPE(x->type) != FW_EV_SAVE))
                continue;
            /* A liked or saved note with a product card (under some arm): remembered, newest
             * first -- a save is how people keep a product note to buy from later. */
            int card = 0;
            for (uint32_t a = 0; a < e->n_arms && !card; a++)
                card = fw_shop_card(e, x->note, a) != FW_NONE;
            if (!card)
                continue;
            uint32_t *ring = &s->read_cards[(size_t)x->user * FW_SHOP_READ_CARDS];
            uint32_t k = 0;
            while (k < FW_SHOP_READ_CARDS - 1 && ring[k] != x->note)
                k++;
            memmove(&ring[1], &ring[0], k * sizeof *ring);
            ring[0] = x->note;
        }
}

static void log_community(fw_engine *e, struct fw_shop *s, const fw_log *l)
{
    if (fw_grow((void **)&s->comm_c, &s->cap_comm_c, 2 * l->n_ev, sizeof *s->comm_c, 1024)) {
        s->oom = 1;
        return;
    }
    comm_job j = {.e = e, .s = s, .l = l, .n_part = e->n_par_slots > 1 ? (uint32_t)e->n_par_slots : 1};
    fw_par(e, j.n_part, 1, k_community, &j);
    for (size_t i = 0; i < l->n_ev; i++) {   /* adding 0 where the loop added nothing: the same sums */
        s->all_impr += s->comm_c[2 * i];
        s->all_eng += s->comm_c[2 * i + 1];
    }
}

/* ---- coupons ------------------------------------------------------------------------- */

/* Room for extra more coupon change-log entries. */
static fw_err clog_room(struct fw_shop *s, size_t extra)
{
    if (s->n_clog + extra > s->cap_clog) {
        size_t cap = s->cap_clog ? 2 * s->cap_clog : 256;
        while (cap < s->n_clog + extra)
            cap *= 2;
        fw_coupon_change *v = realloc(s->clog, cap * sizeof *v);
        if (!v)
            return FW_ERR_NOMEM;
        s->clog = v;
        s->cap_clog = cap;
    }
    return FW_OK;
}

/* Appends a coupon change; the caller made room (clog_room). */
static void clog_add(const fw_engine *e, struct fw_shop *s, uint32_t user, uint32_t coupon, uint32_t order,
                     int32_t tick, uint32_t kind, int64_t cents)
{
    assert(s->n_clog < s->cap_clog);
    /* Field by field over zeroes: the log is snapshot as its bytes, padding included. */
    fw_coupon_change *c = &s->clog[s->n_clog++];
    memset(c, 0, sizeof *c);
    c->user = user;
    c->arm = fw_user_cell(e, user);
    c->coupon = coupon;
    c->order = order;
    c->tick = tick;
    c->kind = kind;
    c->issuer = s->coupons[coupon].issuer;
    c->cents = cents;
}

/* floor(v * pct / 100) for v >= 0 and pct in [0, 100], at most v: the double product can
 * round up to 2^63 when v is near INT64_MAX, which no int64 holds. */
static int64_t pct_floor(int64_t v, double pct)
{
    double f = floor((double)v * pct / 100.0);
    return f < 0.0 ? 0 : f >= 0x1p63 || (int64_t)f > v ? v : (int64_t)f;
}

/* What an order of qty units of product created now is worth: list price less the sale; 0
 * when the list price times qty passes what int64 cents hold. */
static int order_value(const struct fw_shop *s, uint32_t product, uint32_t qty, int64_t *value)
{
    int64_t list;
    if (__builtin_mul_overflow(s->prod[product].price_cents, (int64_t)qty, &list))
        return 0;
    *value = s->sale > 0.0 ? list - pct_floor(list, s->sale) : list;
    return 1;
}

/* Whether the books have room for an order (or a lost one) worth value: FW_ERR_RANGE with
 * e->why when booked + value would pass what int64 cents hold (see booked). */
static fw_err book_room(fw_engine *e, const struct fw_shop *s, int ok, int64_t value, uint32_t product, uint32_t qty)
{
    int64_t sum;
    if (ok && !__builtin_add_overflow(s->booked, value, &sum))
        return FW_OK;
    snprintf(e->why, sizeof e->why,
             "shop: an order of %u units of product %u at %lld cents would take the shop's books past what "
             "64-bit cents count (%lld booked so far); lower world.price_median_cents or world.price_sigma",
             qty, product, (long long)s->prod[product].price_cents, (long long)s->booked);
    return FW_ERR_RANGE;
}

/* The face value coupon c takes off an order of product worth value (0: it does not apply). */
static int64_t face_of(const struct fw_shop *s, uint32_t c, uint32_t product, int64_t value)
{
    const fw_coupon_def *d = &s->coupons[c];
    if ((d->issuer == FW_COUPON_BRAND && s->prod[product].brand != d->brand) || value < d->threshold_cents)
        return 0;
    int64_t f = d->kind == FW_COUPON_FIXED ? d->off_cents : pct_floor(value, d->percent);
    return f < value ? f : value;
}

static int64_t remaining(const struct fw_shop *s, uint32_t c)
{
    return s->coupons[c].budget_cents - s->cbook[c].held - s->cbook[c].spent;
}

static claim_rec *wallet_find(const struct fw_shop *s, uint32_t user, uint32_t c)
{
    const wallet *w = &s->wallets[user];
    for (uint32_t k = 0; k < w->n; k++)
        if (w->v[k].coupon == c)
            return &w->v[k];
    return NULL;
}

/* The best usable coupon of user for an order of product worth value at tick: the largest
 * face value its budget covers (ties: lower id); FW_NONE and *face 0 for none. */
static uint32_t best_claim(const struct fw_shop *s, uint32_t user, uint32_t product, int64_t value, int32_t tick,
                           int64_t *face)
{
    uint32_t best = FW_NONE;
    *face = 0;
    if (!s->wallets)
        return FW_NONE;
    const wallet *w = &s->wallets[user];
    for (uint32_t k = 0; k < w->n; k++) {
        const claim_rec *cl = &w->v[k];
        if (cl->state != CL_USABLE || cl->expires <= tick)
            continue;
        int64_t f = face_of(s, cl->coupon, product, value);
        if (f > 0 && f <= remaining(s, cl->coupon) && (f > *face || (f == *face && cl->coupon < best))) {
            *face = f;
            best = cl->coupon;
        }
    }
    return best;
}

static int claimable(const fw_engine *e, const struct fw_shop *s, uint32_t user, uint32_t c, uint32_t product,
                     int32_t tick)
{
    if (!s->wallets || c >= s->n_coupons || user >= e->n_users || product >= s->n_products)
        return 0;
    const fw_coupon_def *d = &s->coupons[c];
    uint32_t cell = fw_user_cell(e, user);
    if (cell >= 64 || !(d->cells >> cell & 1) || tick < d->claim_from || tick >= d->claim_until)
        return 0;
    if (d->issuer == FW_COUPON_BRAND && s->prod[product].brand != d->brand)
        return 0;
    if (remaining(s, c) < (d->kind == FW_COUPON_FIXED ? d->off_cents : 1))
        return 0;   /* its budget is spent: no longer handed out */
    return wallet_find(s, user, c) == NULL;
}

fw_err fw_shop_coupons_define(fw_engine *e, const fw_coupon_def *defs, uint32_t n)
{
    struct fw_shop *s = S_of(e);
    if (n == 0)
        return FW_OK;
    if (!s || s->coupons_defined || !defs)
        return FW_ERR_INVAL;
    for (uint32_t c = 0; c < n; c++) {
        const fw_coupon_def *d = &defs[c];
        int ok = d->issuer < FW_COUPON_ISSUER__COUNT && (d->issuer != FW_COUPON_BRAND || d->brand < s->n_brands) &&
                 d->threshold_cents >= 0 && d->budget_cents > 0 && d->valid_ticks > 0 &&
                 d->claim_from < d->claim_until;
        if (d->kind == FW_COUPON_FIXED)
            ok = ok && d->off_cents > 0 && d->off_cents <= d->threshold_cents;
        else
            ok = ok && d->kind == FW_COUPON_PERCENT && d->percent > 0.0 && d->percent < 100.0;
        if (!ok)
            return FW_ERR_INVAL;
    }
    if (!fw_alloc(e, &s->coupons, n, sizeof *s->coupons) || !fw_alloc(e, &s->cbook, n, sizeof *s->cbook) ||
        !fw_alloc(e, &s->wallets, e->n_users ? e->n_users : 1, sizeof *s->wallets) ||
        !fw_alloc(e, &s->clog, 0, sizeof *s->clog))
        return FW_ERR_NOMEM;
    memcpy(s->coupons, defs, (size_t)n * sizeof *defs);
    s->n_coupons = n;
    s->coupons_defined = 1;
    return FW_OK;
}

uint32_t fw_shop_n_coupons(const fw_engine *e)
{
    const struct fw_shop *s = S_of(e);
    return s ? s->n_coupons : 0;
}

fw_err fw_shop_set_sale(fw_engine *e, double percent)
{
    struct fw_shop *s = S_of(e);
    if (!s || !(percent >= 0.0 && percent < 100.0))
        return FW_ERR_INVAL;
    s->sale = percent;
    return FW_OK;
}

double fw_shop_sale(const fw_engine *e)
{
    const struct fw_shop *s = S_of(e);
    return s ? s->sale : 0.0;
}

int fw_shop_coupon_claimable(const fw_engine *e, uint32_t user, uint32_t coupon, uint32_t product, int32_t tick)
{
    const struct fw_shop *s = S_of(e);
    return s && claimable(e, s, user, coupon, product, tick);
}

uint32_t fw_shop_coupon_best(const fw_engine *e, uint32_t user, uint32_t product, int32_t tick, int64_t *off_cents)
{
    const struct fw_shop *s = S_of(e);
    *off_cents = 0;
    if (!s || !s->wallets || user >= e->n_users || product >= s->n_products)
        return FW_NONE;
    int64_t value = 0;
    order_value(s, product, 1, &value);   /* a price times 1 */
    return best_claim(s, user, product, value, tick, off_cents);
}

int64_t fw_shop_coupon_face(const fw_engine *e, uint32_t coupon, uint32_t product)
{
    const struct fw_shop *s = S_of(e);
    if (!s || coupon >= s->n_coupons || product >= s->n_products)
        return 0;
    int64_t value = 0;
    order_value(s, product, 1, &value);   /* a price times 1 */
    return face_of(s, coupon, product, value);
}

fw_err fw_shop_coupon_books(const fw_engine *e, uint32_t coupon, fw_coupon_books *out)
{
    const struct fw_shop *s = S_of(e);
    if (!s || coupon >= s->n_coupons)
        return FW_ERR_INVAL;
    const coupon_book *b = &s->cbook[coupon];
    *out = (fw_coupon_books){.claims = b->claims, .expired = b->expired, .applied = b->applied,
                             .redeemed = b->redeemed, .released = b->released, .refunded = b->refunded,
                             .held_cents = b->held, .redeemed_cents = b->spent,
                             .budget_cents = s->coupons[coupon].budget_cents};
    return FW_OK;
}

int64_t fw_shop_coupon_cost(const fw_engine *e, uint32_t issuer)
{
    const struct fw_shop *s = S_of(e);
    return s && issuer < FW_COUPON_ISSUER__COUNT ? s->coupon_cost[issuer] : 0;
}

const fw_coupon_change *fw_shop_coupon_changes(const fw_engine *e, size_t *n)
{
    const struct fw_shop *s = S_of(e);
    *n = s ? s->n_clog : 0;
    return s ? s->clog : NULL;
}

fw_err fw_shop_coupon_tamper(fw_engine *e, uint32_t coupon, int which, int64_t delta)
{
    struct fw_shop *s = S_of(e);
    if (!s || coupon >= s->n_coupons)
        return FW_ERR_INVAL;
    coupon_book *b = &s->cbook[coupon];
    switch (which) {
    case 0: b->held += delta; break;
    case 1: b->spent += delta; break;
    case 2: s->coupon_cost[s->coupons[coupon].issuer] += delta; break;
    case 3: b->claims += (uint64_t)delta; break;
    default: return FW_ERR_INVAL;
    }
    return FW_OK;
}

/* A claim event: taken into the user's wallet when claimable at its tick, else refused. */
static fw_err claim(fw_engine *e, struct fw_shop *s, const fw_shop_event *x)
{
    if (!s->wallets || x->coupon >= s->n_coupons)
        return FW_ERR_INVAL;
    if (clog_room(s, 1) != FW_OK)
        return FW_ERR_NOMEM;
    if (!claimable(e, s, x->user, x->coupon, x->product, x->tick)) {
        clog_add(e, s, x->user, x->coupon, FW_NONE, x->tick, FW_CC_REFUSED, 0);
        return FW_OK;
    }
    wallet *w = &s->wallets[x->user];
    if (w->n == w->cap) {
        uint32_t cap = w->cap ? 2 * w->cap : 2;
        claim_rec *v = realloc(w->v, (size_t)cap * sizeof *v);
        if (!v)
            return FW_ERR_NOMEM;
        w->v = v;
        w->cap = cap;
    }
    const fw_coupon_def *d = &s->coupons[x->coupon];
    int64_t until = (int64_t)x->tick + d->valid_ticks;
    w->v[w->n++] = (claim_rec){.coupon = x->coupon, .expires = until > INT32_MAX ? INT32_MAX : (int32_t)until,
                               .state = CL_USABLE};
    s->cbook[x->coupon].claims++;
    clog_add(e, s, x->user, x->coupon, FW_NONE, x->tick, FW_CC_CLAIMED, 0);
    return FW_OK;
}

/* Claims not used by the end of tick expire (run at each day's last tick end). */
static fw_err expire_claims(fw_engine *e, struct fw_shop *s, int32_t tick)
{
    for (uint32_t u = 0; s->wallets && u < e->n_users; u++) {
        wallet *w = &s->wallets[u];
        for (uint32_t k = 0; k < w->n; k++) {
            claim_rec *cl = &w->v[k];
            if (cl->state != CL_USABLE || cl->expires > tick + 1)
                continue;
            if (clog_room(s, 1) != FW_OK)
                return FW_ERR_NOMEM;
            cl->state = CL_EXPIRED;
            s->cbook[cl->coupon].expired++;
            clog_add(e, s, u, cl->coupon, FW_NONE, tick, FW_CC_EXPIRED, 0);
        }
    }
    return FW_OK;
}

/* ---- carts and shop events ----------------------------------------------------------- */

static int cart_find(const cart *c, uint32_t p)
{
    for (uint32_t k = 0; k < c->n; k++)
        if (c->p[k] == p)
            return (int)k;
    return -1;
}

static void cart_drop(cart *c, uint32_t k)
{
    memmove(&c->p[k], &c->p[k + 1], (size_t)(c->n - k - 1) * sizeof *c->p);
    memmove(&c->t[k], &c->t[k + 1], (size_t)(c->n - k - 1) * sizeof *c->t);
    c->n--;
}

static fw_err cart_add(cart *c, uint32_t p, int32_t tick, uint32_t cap)
{
    int k = cart_find(c, p);
    if (k >= 0)
        cart_drop(c, (uint32_t)k);   /* re-added: it becomes the newest */
    else if (c->n >= cap)
        cart_drop(c, 0);
    if (c->n == c->cap) {
        uint32_t nc = c->cap ? 2 * c->cap : 4;
        uint32_t *np = realloc(c->p, (size_t)nc * sizeof *np);
        if (!np)
            return FW_ERR_NOMEM;
        c->p = np;
        int32_t *nt = realloc(c->t, (size_t)nc * sizeof *nt);
        if (!nt)
            return FW_ERR_NOMEM;
        c->t = nt;
        c->cap = nc;
    }
    c->p[c->n] = p;
    c->t[c->n++] = tick;
    return FW_OK;
}

/* The tick's shop events: popularity, carts, the transaction profile. */
static fw_err log_shop_events(fw_engine *e, struct fw_shop *s, const fw_log *l)
{
    fw_err rc = FW_OK;
    for (size_t i = 0, n = fw_log_n(l, FW_RECORD_SHOP_EVENT); i < n; i++) {
        const fw_shop_event *x = &fw_log_at(l, FW_RECORD_SHOP_EVENT, i)->u.shop;
        if (x->user >= e->n_users || x->product >= s->n_products || x->type >= FW_SHOP_EV__COUNT) {
            rc = FW_ERR_INVAL;
            continue;
        }
        if (x->type == FW_SHOP_COUPON_CLAIM) {   /* the wallet only: no profile, no popularity */
            fw_err r = claim(e, s, x);
            if (r == FW_ERR_NOMEM)
                return r;
            if (r != FW_OK)
                rc = r;
            continue;
        }
        prof_entry *row = tx_make(s, x->user);
        if (!row)
            return FW_ERR_NOMEM;
        uint32_t cat = s->prod[x->product].category;
        cart *c = &s->carts[x->user];
        switch (x->type) {
        case FW_SHOP_VIEW:
            prof_add(row, cat, W_VIEW);
            s->pop[x->product] += POP_VIEW;
            break;
        case FW_SHOP_CART_ADD:
            prof_add(row, cat, W_CART);
            s->pop[x->product] += POP_CART;
            /* A cart is its owner's: its cell's cap. */
            if (cart_add(c, x->product, x->tick, fw_cfg(e, fw_user_cell(e, x->user))->shop.cart_cap) != FW_OK)
                return FW_ERR_NOMEM;
            break;
        case FW_SHOP_CART_REMOVE: {
            int k = cart_find(c, x->product);
            if (k >= 0)
                cart_drop(c, (uint32_t)k);
            break;
        }
        }
        s->dirty = 1;
    }
    return rc;
}

fw_err fw_shop_log(fw_engine *e, fw_engine_ctx *ctx, const fw_shop_event *ev, size_t n)
{
    (void)ctx;
    struct fw_shop *s = S_of(e);
    if (!s)
        return n ? FW_ERR_INVAL : FW_OK;
    fw_record *rec = malloc((n ? n : 1) * sizeof *rec);
    if (!rec)
        return FW_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        rec[i] = (fw_record){.kind = FW_RECORD_SHOP_EVENT, .u.shop = ev[i]};
    fw_log l = fw_log_of(rec, n, FW_RECORD_SHOP_EVENT);
    fw_err rc = log_shop_events(e, s, &l);
    free(rec);
    return rc;
}

const uint32_t *fw_shop_cart(const fw_engine *e, uint32_t user, uint32_t *n)
{
    const struct fw_shop *s = S_of(e);
    if (!s || user >= e->n_users) {
        *n = 0;
        return NULL;
    }
    const cart *c = &s->carts[user];
    *n = c->n;
    return c->p;
}

/* ---- orders -------------------------------------------------------------------------- */

/* Room for extra more change-log entries. */
static fw_err log_room(struct fw_shop *s, size_t extra)
{
    if (s->n_log + extra > s->cap_log) {
        size_t cap = s->cap_log ? 2 * s->cap_log : 1024;
        while (cap < s->n_log + extra)
            cap *= 2;
        fw_order_change *v = realloc(s->log, cap * sizeof *v);
        if (!v)
            return FW_ERR_NOMEM;
        s->log = v;
        s->cap_log = cap;
    }
    return FW_OK;
}

static fw_err log_change(struct fw_shop *s, const order_rec *o, uint32_t id, int32_t tick,
                         fw_order_change_kind kind)
{
    if (log_room(s, 1) != FW_OK)
        return FW_ERR_NOMEM;
    s->log[s->n_log++] = (fw_order_change){.order = id, .user = o->user, .arm = o->arm,
                                           .product = o->product, .tick = tick, .kind = kind,
                                           .value_cents = o->value};
    return FW_OK;
}

static size_t map_slot(const struct fw_shop *s, uint64_t key)
{
    size_t i = (size_t)mix64(key) & s->map_mask;
    while (s->map_key[i] && s->map_key[i] != key + 1)
        i = (i + 1) & s->map_mask;
    return i;
}

static fw_err map_grow(struct fw_shop *s)
{
    size_t cap = 2 * (s->map_mask + 1);
    uint64_t *k = calloc(cap, sizeof *k);
    uint32_t *v = calloc(cap, sizeof *v);
    if (!k || !v) {
        free(k);
        free(v);
        return FW_ERR_NOMEM;
    }
    uint64_t *ok = s->map_key;
    uint32_t *ov = s->map_val;
    size_t old = s->map_mask + 1;
    s->map_key = k;
    s->map_val = v;
    s->map_mask = cap - 1;
    for (size_t i = 0; i < old; i++)
        if (ok[i]) {
            size_t j = map_slot(s, ok[i] - 1);
            s->map_key[j] = ok[i];
            s->map_val[j] = ov[i];
        }
    free(ok);
    free(ov);
    return FW_OK;
}

/* Room for one more open order and a few change-log entries, so that nothing can fail
 * between creating an order and scheduling it. */
static fw_err reserve_room(fw_engine *e, struct fw_shop *s)
{
    if (log_room(s, 4) != FW_OK || fw_engine_reserve_notices(e, 1) != FW_OK)
        return FW_ERR_NOMEM;
    if (s->n_open == s->cap_open) {
        uint32_t cap = s->cap_open ? 2 * s->cap_open : 1024;
        uint32_t *v = realloc(s->open, (size_t)cap * sizeof *v);
        if (!v)
            return FW_ERR_NOMEM;
        s->open = v;
        s->cap_open = cap;
    }
    return FW_OK;
}

/* A cancelled order's coupon: its hold released, the claim usable again while valid (else
 * expired). The caller made room for two coupon changes. */
static void release_coupon(fw_engine *e, struct fw_shop *s, const order_rec *o, uint32_t id, int32_t tick)
{
    coupon_book *b = &s->cbook[o->coupon];
    claim_rec *cl = wallet_find(s, o->user, o->coupon);
    b->held -= o->discount;
    b->released++;
    clog_add(e, s, o->user, o->coupon, id, tick, FW_CC_RELEASED, o->discount);
    if (cl->expires > tick) {
        cl->state = CL_USABLE;
    } else {
        cl->state = CL_EXPIRED;
        b->expired++;
        clog_add(e, s, o->user, o->coupon, FW_NONE, tick, FW_CC_EXPIRED, 0);
    }
}

/* One payment attempt of order id at tick: paid (units sold, money taken, shipping
 * scheduled) or failed (a retry next tick, or cancelled when none is left). */
static fw_err pay(fw_engine *e, uint32_t id, int32_t tick)
{
    struct fw_shop *s = S_of(e);
    order_rec *o = &s->orders[id];
    const fw_shop_cfg *c = &fw_cfg(e, o->arm)->shop;
    fw_product_stock *st = &s->stock[o->product];
    if (o->coupon != FW_NONE && clog_room(s, 2) != FW_OK)
        return FW_ERR_NOMEM;
    o->attempts++;
    if (hash_unit(o->request_id, o->attempts, 3) < c->payment_fail_rate) {
        fw_err rc = log_change(s, o, id, tick, FW_OC_PAY_FAILED);
        if (o->attempts <= c->payment_retries) {
            o->next = tick + 1;
            return rc;
        }
        o->status = FW_ORDER_CANCELLED;
        st->reserved -= o->qty;
        st->available += o->qty;
        s->n_cancelled++;
        s->dirty = 1;
        if (o->coupon != FW_NONE)   /* room made when the order was created */
            release_coupon(e, s, o, id, tick);
        return rc != FW_OK ? rc : log_change(s, o, id, tick, FW_OC_CANCELLED);
    }
    o->status = FW_ORDER_PAID;
    o->pay_count++;
    o->paid = tick;
    o->next = tick + (int32_t)hours_to_ticks(e, c->ship_hours);
    st->reserved -= o->qty;
    st->sold += o->qty;
    s->paid += o->value;
    s->gmv += o->value;
    s->n_paid++;
    s->pop[o->product] += POP_SOLD * o->qty;
    s->dirty = 1;
    if (s->n_brands) {
        size_t b = (size_t)o->arm * s->n_brands + s->prod[o->product].brand;
        s->brand_units[b] += o->qty;
        s->brand_rev[b] += o->value;
    }
    prof_entry *row = tx_make(s, o->user);
    if (!row)
        return FW_ERR_NOMEM;
    prof_add(row, s->prod[o->product].category, W_ORDER);
    if (o->coupon != FW_NONE) {   /* room made when the order was created */
        coupon_book *b = &s->cbook[o->coupon];
        b->held -= o->discount;
        b->spent += o->discount;
        b->redeemed++;
        s->coupon_cost[s->coupons[o->coupon].issuer] += o->discount;
        wallet_find(s, o->user, o->coupon)->state = CL_USED;
        clog_add(e, s, o->user, o->coupon, id, tick, FW_CC_REDEEMED, o->discount);
    }
    fw_err rc = log_change(s, o, id, tick, FW_OC_PAID);
    /* Tell the other capabilities at the tick's end (the ads attribute the purchase). */
    fw_notice paid = {.kind = FW_NOTICE_ORDER_PAID, .order = id, .user = o->user, .product = o->product,
                      .brand = s->prod[o->product].brand, .tick = tick, .value_cents = o->value};
    fw_err rn = fw_engine_post(e, &paid);
    return rc != FW_OK ? rc : rn;
}

typedef struct req_key {
    int32_t tick;
    uint32_t user;
    size_t i;
} req_key;

static int cmp_req(const void *a, const void *b)
{
    const req_key *x = a, *y = b;
    if (x->tick != y->tick)
        return x->tick < y->tick ? -1 : 1;
    if (x->user != y->user)
        return x->user < y->user ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* The tick's checkouts, answered in place. Contention for the last units is resolved by
 * rule: requests are served in (tick, user, position) order, whatever order they come in. */
static fw_err log_orders(fw_engine *e, struct fw_shop *s, fw_engine_ctx *ctx, const fw_log *l)
{
    size_t n_req = fw_log_n(l, FW_RECORD_ORDER);
    if (n_req == 0)
        return FW_OK;
    int64_t t0 = fw_now_ns();
    fw_err rc = FW_OK;
    req_key *key = malloc(n_req * sizeof *key);
    if (!key) {
        for (size_t i = 0; i < n_req; i++)
            fw_log_at(l, FW_RECORD_ORDER, i)->u.order.out = (fw_order_outcome){FW_NONE, FW_ORDER_BAD};
        return FW_ERR_NOMEM;
    }
    for (size_t i = 0; i < n_req; i++) {
        const fw_order_req *q = &fw_log_at(l, FW_RECORD_ORDER, i)->u.order.req;
        key[i] = (req_key){q->tick, q->user, i};
    }
    qsort(key, n_req, sizeof *key, cmp_req);
    for (size_t k = 0; k < n_req; k++) {
        fw_record *r = fw_log_at(l, FW_RECORD_ORDER, key[k].i);
        const fw_order_req *q = &r->u.order.req;
        fw_order_outcome *out = &r->u.order.out;
        *out = (fw_order_outcome){FW_NONE, FW_ORDER_BAD};
        if (rc != FW_OK || q->user >= e->n_users || q->product >= s->n_products || q->arm >= e->n_arms ||
            q->qty == 0 || q->request_id == UINT64_MAX)
            continue;
        size_t slot = map_slot(s, q->request_id);
        if (s->map_key[slot]) {
            *out = (fw_order_outcome){s->map_val[slot], FW_ORDER_DUPLICATE};
            continue;
        }
        if (2 * (s->n_map + 1) > s->map_mask + 1) {
            if ((rc = map_grow(s)) != FW_OK)
                continue;
            slot = map_slot(s, q->request_id);
        }
        fw_product_stock *st = &s->stock[q->product];
        if (st->available < q->qty) {
            /* Did the other cells' orders of today take what this one needed? */
            if (s->taken_today) {
                size_t p = q->product;
                uint64_t others = s->taken_today[p] - s->taken_cell[p * e->n_arms + q->arm];
                if ((uint64_t)st->available + others >= q->qty) {
                    int64_t lost;
                    int ok = !__builtin_mul_overflow(s->prod[p].price_cents, (int64_t)q->qty, &lost);
                    if ((rc = book_room(e, s, ok, lost, q->product, q->qty)) != FW_OK)
                        continue;
                    s->lost_orders[q->arm]++;
                    s->lost_units[q->arm] += q->qty;
                    s->lost_value[q->arm] += lost;
                    s->booked += lost;
                }
            }
            /* Remembered too: the same request again gets the same answer, not an order. */
            s->map_key[slot] = q->request_id + 1;
            s->map_val[slot] = FW_NONE;
            s->n_map++;
            out->result = FW_ORDER_NO_STOCK;
            continue;
        }
        /* What the order is worth: a live price (fw_shop_place_orders_priced) replaces the list
         * price when it is lower than what the order would be worth otherwise. */
        int64_t value, live;
        int ok = order_value(s, q->product, q->qty, &value);
        if (ok && s->unit_price && s->unit_price[key[k].i] >= 0 &&
            !__builtin_mul_overflow(s->unit_price[key[k].i], (int64_t)q->qty, &live) && live < value)
            value = live;
        if ((rc = book_room(e, s, ok, value, q->product, q->qty)) != FW_OK)
            continue;
        if (s->n_orders == s->cap_orders) {
            uint32_t cap = s->cap_orders ? 2 * s->cap_orders : 1024;
            order_rec *v = realloc(s->orders, (size_t)cap * sizeof *v);
            if (!v) {
                rc = FW_ERR_NOMEM;
                continue;
            }
            s->orders = v;
            s->cap_orders = cap;
        }
        if ((rc = reserve_room(e, s)) != FW_OK || (s->wallets && (rc = clog_room(s, 4)) != FW_OK))
            continue;
        uint32_t id = s->n_orders++;
        order_rec *o = &s->orders[id];
        *o = (order_rec){.request_id = q->request_id, .user = q->user, .arm = q->arm,
                         .product = q->product, .qty = q->qty,
                         .value = value, .coupon = FW_NONE,
                         .status = FW_ORDER_CREATED, .created = q->tick, .paid = -1,
                         .delivered = -1, .next = q->tick};
        s->booked += value;   /* book_room said it fits */
        /* The buyer's best coupon is applied and held until payment. */
        o->coupon = best_claim(s, q->user, q->product, o->value, q->tick, &o->discount);
        if (o->coupon != FW_NONE) {
            s->cbook[o->coupon].held += o->discount;
            s->cbook[o->coupon].applied++;
            wallet_find(s, q->user, o->coupon)->state = CL_IN_USE;
            clog_add(e, s, q->user, o->coupon, id, q->tick, FW_CC_APPLIED, o->discount);
        }
        s->map_key[slot] = q->request_id + 1;
        s->map_val[slot] = id;
        s->n_map++;
        st->available -= q->qty;
        st->reserved += q->qty;
        if (s->taken_today) {
            s->taken_today[q->product] += q->qty;
            s->taken_cell[(size_t)q->product * e->n_arms + q->arm] += q->qty;
        }
        s->dirty = 1;
        cart *c = &s->carts[q->user];
        int ck = cart_find(c, q->product);
        if (ck >= 0)
            cart_drop(c, (uint32_t)ck);   /* bought from the cart */
        *out = (fw_order_outcome){id, FW_ORDER_OK};
        /* Cannot fail: reserve_room made space for these entries, the notice and the open slot. */
        log_change(s, o, id, q->tick, FW_OC_CREATED);
        pay(e, id, q->tick);
        s->open[s->n_open++] = id;
    }
    free(key);
    ctx->work[FW_WORK_ORDERS_PLACED] += n_req;
    fw_hist_record(&ctx->lat[FW_STAGE_SHOP_CHECKOUT], fw_now_ns() - t0);
    return rc;
}

fw_err fw_shop_place_orders(fw_engine *e, fw_engine_ctx *ctx, const fw_order_req *req, size_t n,
                            fw_order_outcome *out)
{
    struct fw_shop *s = S_of(e);
    fw_record *rec = s ? malloc((n ? n : 1) * sizeof *rec) : NULL;
    if (!rec) {
        for (size_t i = 0; i < n; i++)
            out[i] = (fw_order_outcome){FW_NONE, FW_ORDER_BAD};
        return s ? FW_ERR_NOMEM : FW_ERR_INVAL;
    }
    for (size_t i = 0; i < n; i++)
        rec[i] = (fw_record){.kind = FW_RECORD_ORDER, .u.order.req = req[i]};
    fw_log l = fw_log_of(rec, n, FW_RECORD_ORDER);
    fw_err rc = log_orders(e, s, ctx, &l);
    for (size_t i = 0; i < n; i++)
        out[i] = rec[i].u.order.out;
    free(rec);
    return rc;
}

fw_err fw_shop_place_orders_priced(fw_engine *e, fw_engine_ctx *ctx, const fw_order_req *req, size_t n,
                                   const int64_t *unit_cents, fw_order_outcome *out)
{
    struct fw_shop *s = S_of(e);
    if (s)
        s->unit_price = unit_cents;
    fw_err rc = fw_shop_place_orders(e, ctx, req, n, out);
    if (s)
        s->unit_price = NULL;
    return rc;
}

fw_err fw_shop_request_return(fw_engine *e, uint32_t order, uint32_t user, int32_t tick)
{
    struct fw_shop *s = S_of(e);
    if (!s || order >= s->n_orders)
        return FW_ERR_INVAL;
    order_rec *o = &s->orders[order];
    const fw_shop_cfg *c = &fw_cfg(e, o->arm)->shop;
    if (o->user != user || o->status != FW_ORDER_DELIVERED || o->next == INT32_MAX ||
        tick > o->delivered + (int32_t)(c->return_days * e->ticks_per_day) || tick < o->delivered)
        return FW_ERR_INVAL;   /* (next == INT32_MAX: the window closed and the order is done) */
    o->status = FW_ORDER_RETURNED;
    o->next = tick + (int32_t)hours_to_ticks(e, c->refund_hours);
    return log_change(s, o, order, tick, FW_OC_RETURNED);   /* still in the open list */
}

/* The tick's return requests, answered in place, in the order they come. */
static fw_err log_returns(fw_engine *e, const fw_log *l)
{
    fw_err rc = FW_OK;
    for (size_t i = 0, n = fw_log_n(l, FW_RECORD_RETURN); i < n; i++) {
        fw_record *x = fw_log_at(l, FW_RECORD_RETURN, i);
        fw_err r = fw_shop_request_return(e, x->u.ret.order, x->u.ret.user, x->u.ret.tick);
        x->u.ret.result = r;
        if (r == FW_ERR_NOMEM)
            return r;
        if (r != FW_OK)
            rc = FW_ERR_INVAL;
    }
    return rc;
}

/* The shop's part of a tick's log: the community side of the profiles from note events,
 * then shop events, checkouts and returns, each in the order given. */
static fw_err shop_log(fw_engine *e, void *state, fw_engine_ctx *ctx, const fw_log *l)
{
    struct fw_shop *s = state;
    log_community(e, s, l);
    if (s->oom)
        return FW_ERR_NOMEM;
    fw_err rc = log_shop_events(e, s, l), r;
    if (rc != FW_OK && rc != FW_ERR_INVAL)
        return rc;
    if ((r = log_orders(e, s, ctx, l)) != FW_OK)
        return r;
    r = log_returns(e, l);
    return r != FW_OK ? r : rc;
}

fw_err fw_shop_restock(fw_engine *e, uint32_t product, uint32_t units, int32_t tick)
{
    (void)tick;
    struct fw_shop *s = S_of(e);
    if (!s || product >= s->n_products)
        return FW_ERR_INVAL;
    s->stock[product].available += units;
    s->stock[product].restocked += units;
    s->dirty = 1;
    return FW_OK;
}

/* Advances every open order whose next step is due at tick (a barrier, in id order). */
static fw_err shop_end_tick(fw_engine *e, void *state, fw_engine_ctx *ctx, int32_t tick)
{
    int64_t t0 = fw_now_ns();
    struct fw_shop *s = state;
    fw_err rc = FW_OK;
    uint32_t keep = 0;
    for (uint32_t k = 0; k < s->n_open; k++) {
        uint32_t id = s->open[k];
        order_rec *o = &s->orders[id];
        const fw_shop_cfg *c = &fw_cfg(e, o->arm)->shop;
        if (o->next <= tick && rc == FW_OK) {
            switch (o->status) {
            case FW_ORDER_CREATED:
                rc = pay(e, id, tick);
                break;
            case FW_ORDER_PAID: {
                uint32_t lo = c->delivery_days_min, hi = c->delivery_days_max < lo ? lo : c->delivery_days_max;
                uint32_t days = lo + (uint32_t)(hash_unit(o->request_id, 0, 4) * (hi - lo + 1));
                o->status = FW_ORDER_SHIPPED;
                o->next = tick + (int32_t)(days * e->ticks_per_day);
                if (o->next == tick)
                    o->next = tick + 1;
                rc = log_change(s, o, id, tick, FW_OC_SHIPPED);
                break;
            }
            case FW_ORDER_SHIPPED:
                o->status = FW_ORDER_DELIVERED;
                o->delivered = tick;
                o->next = tick + (int32_t)(c->return_days * e->ticks_per_day) + 1;
                rc = log_change(s, o, id, tick, FW_OC_DELIVERED);
                break;
            case FW_ORDER_DELIVERED:
                o->status = FW_ORDER_DELIVERED;   /* the return window has closed: done */
                o->next = INT32_MAX;
                break;
            case FW_ORDER_RETURNED: {
                fw_product_stock *st = &s->stock[o->product];
                o->status = FW_ORDER_REFUNDED;
                o->refunded += o->value;
                st->sold -= o->qty;
                st->available += o->qty;
                s->refunded += o->value;
                s->gmv -= o->value;
                s->n_refunded++;
                s->dirty = 1;
                if (s->n_brands) {
                    size_t b = (size_t)o->arm * s->n_brands + s->prod[o->product].brand;
                    s->brand_units[b] -= o->qty;
                    s->brand_rev[b] -= o->value;
                }
                if (o->coupon != FW_NONE && (rc = clog_room(s, 1)) == FW_OK) {
                    s->cbook[o->coupon].spent -= o->discount;
                    s->cbook[o->coupon].refunded++;
                    s->coupon_cost[s->coupons[o->coupon].issuer] -= o->discount;
                    clog_add(e, s, o->user, o->coupon, id, tick, FW_CC_REFUNDED, o->discount);
                }
                if (rc == FW_OK)
                    rc = log_change(s, o, id, tick, FW_OC_REFUNDED);
                break;
            }
            default:
                break;
            }
        }
        int done = o->status == FW_ORDER_CANCELLED || o->status == FW_ORDER_REFUNDED ||
                   (o->status == FW_ORDER_DELIVERED && o->next == INT32_MAX);
        if (!done)
            s->open[keep++] = id;
    }
    ctx->work[FW_WORK_ORDERS_ADVANCED] += s->n_open;
    s->n_open = keep;
    if (rc == FW_OK && s->wallets && (tick + 1) % (int32_t)e->ticks_per_day == 0)
        rc = expire_claims(e, s, tick);   /* the day's last tick */
    refresh_best(e, s);
    fw_hist_record(&ctx->lat[FW_STAGE_SHOP_LIFECYCLE], fw_now_ns() - t0);
    return rc;
}

/* Day end: profiles and popularity decay; stale cart items are dropped; the books. */
static fw_err shop_end_day(fw_engine *e, void *state, fw_engine_ctx *ctx, uint32_t day, int64_t *series)
{
    (void)ctx;
    struct fw_shop *s = state;
    float d = (float)s->decay;
    if (s->taken_today) {   /* a new day: other cells' purchases count from zero */
        memset(s->taken_today, 0, (size_t)s->n_products * sizeof *s->taken_today);
        memset(s->taken_cell, 0, (size_t)s->n_products * e->n_arms * sizeof *s->taken_cell);
    }
    for (uint32_t u = 0; u < e->n_users; u++) {   /* a row never made stays zero */
        for (int k = 0; s->tx[u] && k < FW_SHOP_PROFILE_K; k++)
            s->tx[u][k].w *= d;
        for (int k = 0; s->community[u] && k < FW_SHOP_COMM_K; k++) {
            s->community[u][k].impr *= d;
            s->community[u][k].eng *= d;
        }
    }
    s->all_impr *= s->decay;
    s->all_eng *= s->decay;
    for (uint32_t p = 0; p < s->n_products; p++)
        s->pop[p] *= s->decay;
    int32_t now = (int32_t)((day + 1) * e->ticks_per_day);
    for (uint32_t u = 0; u < e->n_users; u++) {
        cart *c = &s->carts[u];
        /* A cart is its owner's: its cell's cart_days. */
        int32_t oldest = now - (int32_t)(fw_cfg(e, fw_user_cell(e, u))->shop.cart_days * e->ticks_per_day);
        uint32_t keep = 0;
        for (uint32_t k = 0; k < c->n; k++)
            if (c->t[k] >= oldest) {
                c->p[keep] = c->p[k];
                c->t[keep++] = c->t[k];
            }
        c->n = keep;
    }
    s->dirty = 1;
    fw_shop_totals t = fw_shop_total(e);
    int64_t v[] = {[SER_gmv_cents] = t.gmv_cents, [SER_paid_cents] = t.paid_cents,
                   [SER_refunded_cents] = t.refunded_cents, [SER_orders] = (int64_t)t.orders,
                   [SER_units_available] = (int64_t)t.units_available,
                   [SER_units_reserved] = (int64_t)t.units_reserved, [SER_units_sold] = (int64_t)t.units_sold,
                   [SER_units_restocked] = (int64_t)t.units_restocked, [SER_stocked_out_products] = 0};
    for (uint32_t p = 0; p < s->n_products; p++)
        v[SER_stocked_out_products] += s->stock[p].available == 0;
    memcpy(series, v, sizeof v);
    return FW_OK;
}

/* ---- best sellers and the shop tab --------------------------------------------------- */

/* Keeps the best_cap most popular products of ids[0..n) that are in stock, best first
 * (ties: lower id), into out; returns how many. */
static uint32_t top_products(const struct fw_shop *s, const uint32_t *ids, uint32_t n, uint32_t *out)
{
    uint32_t m = 0, cap = s->best_cap;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t p = ids[k];
        if (s->stock[p].available == 0)
            continue;
        double v = s->pop[p];
        if (m == cap && (v < s->pop[out[m - 1]] || (v == s->pop[out[m - 1]] && p > out[m - 1])))
            continue;
        uint32_t j = m < cap ? m++ : m - 1;
        while (j > 0 && (s->pop[out[j - 1]] < v || (s->pop[out[j - 1]] == v && out[j - 1] > p))) {
            out[j] = out[j - 1];
            j--;
        }
        out[j] = p;
    }
    return m;
}

/* Each category's best sellers and their log popularity, categories [b, end): each writes
 * only its own rows. */
static void k_best(void *arg, size_t b, size_t end, int slot)
{
    struct fw_shop *s = arg;
    (void)slot;
    for (size_t t = b; t < end; t++) {
        uint32_t *best = &s->best[t * s->best_cap];
        s->best_n[t] = top_products(s, &s->cat_prod[s->cat_off[t]], s->cat_off[t + 1] - s->cat_off[t], best);
        for (uint32_t k = 0; k < s->best_n[t]; k++)
            s->best_pop[t * s->best_cap + k] = log1p(s->pop[best[k]]);
    }
}

static void refresh_best(const fw_engine *e, struct fw_shop *s)
{
    if (!s->dirty)
        return;
    fw_par(e, s->n_topics, 1, k_best, s);
    /* Overall: the best of each category's best. */
    uint32_t m = 0;
    for (uint32_t t = 0; t < s->n_topics; t++) {
        uint32_t tmp_n = s->best_n[t];
        const uint32_t *b = &s->best[(size_t)t * s->best_cap];
        for (uint32_t k = 0; k < tmp_n; k++) {
            uint32_t p = b[k];
            double v = s->pop[p];
            if (m == s->best_cap &&
                (v < s->pop[s->best_all[m - 1]] || (v == s->pop[s->best_all[m - 1]] && p > s->best_all[m - 1])))
                break;   /* the rest of this category is worse still */
            uint32_t j = m < s->best_cap ? m++ : m - 1;
            while (j > 0 && (s->pop[s->best_all[j - 1]] < v ||
                             (s->pop[s->best_all[j - 1]] == v && s->best_all[j - 1] > p))) {
                s->best_all[j] = s->best_all[j - 1];
                j--;
            }
            s->best_all[j] = p;
        }
    }
    s->n_best_all = m;
    for (uint32_t k = 0; k < m; k++)
        s->best_all_pop[k] = log1p(s->pop[s->best_all[k]]);
    s->dirty = 0;
}

static int page_has(const uint32_t *out, uint32_t n, uint32_t p)
{
    for (uint32_t k = 0; k < n; k++)
        if (out[k] == p)
            return 1;
    return 0;
}

uint32_t fw_shop_request(fw_engine *e, fw_engine_ctx *ctx, const fw_shop_req *req, uint32_t *out,
                         uint32_t cap)
{
    int64_t t0 = fw_now_ns();
    const struct fw_shop *s = S_of(e);
    if (!s || req->user >= e->n_users || req->arm >= e->n_arms || s->n_products == 0)
        return 0;
    const fw_shop_cfg *c = &fw_cfg(e, req->arm)->shop;
    uint32_t want = c->page_size < cap ? c->page_size : cap, n = 0;
    /* The profile: per category, transactions plus (unified) community signals. */
    enum { MAXC = FW_SHOP_PROFILE_K + FW_SHOP_COMM_K };
    double scores[100];   /* page_size <= 100 */
    uint16_t cats[MAXC];
    float w[MAXC], sw[FW_SHOP_COMM_K];
    uint16_t sc[FW_SHOP_COMM_K];
    uint32_t nc = 0;
    for (int src = 0; src < 2; src++) {
        if (src == 1 && c->profile != FW_PROFILE_UNIFIED)
            break;
        /* Each source's category weights as shares of its total: transactions by their
         * weights, community topics by their engagement lift over the population's rate
         * (smoothed; topics the user engages with less than everyone count nothing). */
        uint32_t m = 0;
        if (src == 0) {
            const prof_entry *row = tx_of(s, req->user);
            for (int k = 0; k < FW_SHOP_PROFILE_K; k++)
                if (row[k].w > 0.0f) {
                    sc[m] = row[k].cat;
                    sw[m++] = row[k].w;
                }
        } else if (s->all_impr > 0.0) {
            const comm_entry *row = comm_of(s, req->user);
            double p = s->all_eng / s->all_impr;
            for (int k = 0; k < FW_SHOP_COMM_K; k++) {
                double lift = (row[k].eng + COMM_PRIOR * p) / ((row[k].impr + COMM_PRIOR) * p) - 1.0;
                if (row[k].impr + row[k].eng > 0.0f && lift > 0.0) {
                    sc[m] = row[k].cat;
                    sw[m++] = (float)lift;
                }
            }
        }
        float total = 0.0f;
        for (uint32_t k = 0; k < m; k++)
            total += sw[k];
        for (uint32_t k = 0; k < m; k++) {
            uint32_t j = 0;
            while (j < nc && cats[j] != sc[k])
                j++;
            if (j == nc) {
                cats[nc] = sc[k];
                w[nc++] = 0.0f;
            }
            w[j] += (src ? (float)c->community_weight : 1.0f) * sw[k] / total;
        }
    }
    /* The strongest categories first (ties: lower category). */
    for (uint32_t i = 1; i < nc; i++)
        for (uint32_t j = i; j > 0 && (w[j] > w[j - 1] || (w[j] == w[j - 1] && cats[j] < cats[j - 1])); j--) {
            float tw = w[j]; w[j] = w[j - 1]; w[j - 1] = tw;
            uint16_t tc = cats[j]; cats[j] = cats[j - 1]; cats[j - 1] = tc;
        }
    if (nc > c->profile_categories)
        nc = c->profile_categories;
    /* Unified: first the products of the cards on notes the user read, newest first. */
    uint64_t scanned = 0;
    if (c->profile == FW_PROFILE_UNIFIED && c->read_cards > 0) {
        const uint32_t *ring = &s->read_cards[(size_t)req->user * FW_SHOP_READ_CARDS];
        uint32_t taken = 0;
        for (uint32_t k = 0; k < FW_SHOP_READ_CARDS && ring[k] != FW_NONE && taken < c->read_cards && n < want; k++) {
            uint32_t p = fw_shop_card(e, ring[k], req->arm);
            scanned++;
            if (p != FW_NONE && s->stock[p].available > 0 && !page_has(out, n, p)) {
                out[n++] = p;
                taken++;
            }
        }
    }
    /* Ranking: candidates are the overall best sellers and those of the profile's strongest
     * categories; score = log(1 + popularity) + w_profile * the category's profile share, so
     * a page mixes what sells everywhere with what sells where the user's interests are.
     * Sold-out products (the lists drop them only at the tick's end) are skipped. The page
     * after the read-card products is kept best first in out[n0..n). */
    uint32_t n0 = n;
    for (uint32_t j = 0; j <= nc; j++) {
        const uint32_t *b;
        const double *bp;
        uint32_t len;
        float aff_list;
        if (j < nc) {
            b = &s->best[(size_t)cats[j] * s->best_cap];
            bp = &s->best_pop[(size_t)cats[j] * s->best_cap];
            len = s->best_n[cats[j]];
            aff_list = w[j];
        } else {
            b = s->best_all;
            bp = s->best_all_pop;
            len = s->n_best_all;
            aff_list = -1.0f;   /* look the category up per product */
        }
        for (uint32_t k = 0; k < len; k++) {
            uint32_t p = b[k];
            scanned++;
            if (s->stock[p].available == 0 || page_has(out, n0, p))
                continue;
            float aff = aff_list;
            if (aff < 0.0f) {
                aff = 0.0f;
                for (uint32_t q = 0; q < nc; q++)
                    if (cats[q] == s->prod[p].category)
                        aff = w[q];
            }
            double score = bp[k] + c->w_profile * aff;
            /* Insert into out[n0..n) (best first; ties: lower id), skipping duplicates. */
            uint32_t at = n, dup = 0;
            for (uint32_t q = n0; q < n && !dup; q++)
                dup = out[q] == p;
            if (dup)
                continue;
            while (at > n0 && (scores[at - 1 - n0] < score ||
                               (scores[at - 1 - n0] == score && out[at - 1] > p)))
                at--;
            if (at - n0 >= want - n0)
                continue;
            uint32_t last = n < want ? n : want - 1;
            for (uint32_t q = last; q > at; q--) {
                out[q] = out[q - 1];
                scores[q - n0] = scores[q - 1 - n0];
            }
            out[at] = p;
            scores[at - n0] = score;
            if (n < want)
                n++;
        }
    }
    ctx->work[FW_WORK_SHOP_REQUESTS]++;
    ctx->work[FW_WORK_SHOP_SCANNED] += scanned;
    fw_hist_record(&ctx->lat[FW_STAGE_SHOP], fw_now_ns() - t0);
    return n;
}

void fw_shop_tx_shares(const fw_engine *e, uint32_t user, double *share)
{
    const struct fw_shop *s = S_of(e);
    if (!s)
        return;
    const prof_entry *row = tx_of(s, user);
    double total = 0.0;
    for (int k = 0; k < FW_SHOP_PROFILE_K; k++)
        total += row[k].w > 0.0f ? row[k].w : 0.0f;
    for (int k = 0; k < FW_SHOP_PROFILE_K && total > 0.0; k++)
        if (row[k].w > 0.0f && row[k].cat < e->n_topics)
            share[row[k].cat] += row[k].w / total;
}

double fw_shop_tx_share(const fw_engine *e, uint32_t user, uint32_t topic)
{
    const struct fw_shop *s = S_of(e);
    if (!s)
        return 0.0;
    const prof_entry *row = tx_of(s, user);
    double total = 0.0, mine = 0.0;
    for (int k = 0; k < FW_SHOP_PROFILE_K; k++)
        if (row[k].w > 0.0f) {
            total += row[k].w;
            mine += row[k].cat == topic ? row[k].w : 0.0f;
        }
    return total > 0.0 ? mine / total : 0.0;
}

uint32_t fw_shop_engaged_topics(const fw_engine *e, uint32_t user, uint32_t *out, uint32_t cap)
{
    const struct fw_shop *s = S_of(e);
    if (!s || user >= e->n_users || s->all_impr <= 0.0)
        return 0;
    const comm_entry *row = comm_of(s, user);
    double p = s->all_eng / s->all_impr;
    uint32_t n = 0;
    for (int k = 0; k < FW_SHOP_COMM_K && n < cap; k++)
        if (row[k].impr + row[k].eng > 0.0f &&
            (row[k].eng + COMM_PRIOR * p) / ((row[k].impr + COMM_PRIOR) * p) > 1.0)
            out[n++] = row[k].cat;
    return n;
}

/* ---- accessors and invariants -------------------------------------------------------- */

const fw_order_change *fw_shop_changes(const fw_engine *e, size_t *n)
{
    const struct fw_shop *s = S_of(e);
    *n = s ? s->n_log : 0;
    return s ? s->log : NULL;
}

void fw_shop_clear_changes(fw_engine *e)
{
    struct fw_shop *s = S_of(e);
    if (s)
        s->n_log = 0;
}

void fw_shop_clear_coupon_changes(fw_engine *e)
{
    struct fw_shop *s = S_of(e);
    if (s)
        s->n_clog = 0;
}

uint32_t fw_shop_n_orders(const fw_engine *e)
{
    const struct fw_shop *s = S_of(e);
    return s ? s->n_orders : 0;
}

fw_err fw_shop_order(const fw_engine *e, uint32_t order, fw_order_info *out)
{
    const struct fw_shop *s = S_of(e);
    if (!s || order >= s->n_orders)
        return FW_ERR_INVAL;
    const order_rec *o = &s->orders[order];
    *out = (fw_order_info){.request_id = o->request_id, .user = o->user, .arm = o->arm,
                           .product = o->product, .qty = o->qty, .value_cents = o->value,
                           .coupon = o->coupon, .discount_cents = o->discount,
                           .status = o->status, .pay_attempts = o->attempts,
                           .created_tick = o->created, .paid_tick = o->paid,
                           .delivered_tick = o->delivered};
    return FW_OK;
}

fw_err fw_shop_stock(const fw_engine *e, uint32_t product, fw_product_stock *out)
{
    const struct fw_shop *s = S_of(e);
    if (!s || product >= s->n_products)
        return FW_ERR_INVAL;
    *out = s->stock[product];
    return FW_OK;
}

fw_shop_totals fw_shop_total(const fw_engine *e)
{
    const struct fw_shop *s = S_of(e);
    if (!s)
        return (fw_shop_totals){0};
    fw_shop_totals t = {.paid_cents = s->paid, .refunded_cents = s->refunded, .gmv_cents = s->gmv,
                        .orders = s->n_orders, .paid_orders = s->n_paid,
                        .refunded_orders = s->n_refunded, .cancelled_orders = s->n_cancelled};
    for (uint32_t p = 0; p < s->n_products; p++) {
        t.units_initial += s->stock[p].initial;
        t.units_restocked += s->stock[p].restocked;
        t.units_available += s->stock[p].available;
        t.units_reserved += s->stock[p].reserved;
        t.units_sold += s->stock[p].sold;
    }
    return t;
}

fw_err fw_shop_brand_sales(const fw_engine *e, uint32_t brand, uint32_t arm, int64_t *units,
                           int64_t *revenue_cents)
{
    const struct fw_shop *s = S_of(e);
    if (!s || brand >= s->n_brands || arm >= e->n_arms)
        return FW_ERR_INVAL;
    *units = s->brand_units[(size_t)arm * s->n_brands + brand];
    *revenue_cents = s->brand_rev[(size_t)arm * s->n_brands + brand];
    return FW_OK;
}

fw_err fw_shop_cell_stockouts(const fw_engine *e, uint32_t cell, uint64_t *orders, uint64_t *units,
                              int64_t *value_cents)
{
    const struct fw_shop *s = S_of(e);
    if (!s || cell >= e->n_arms)
        return FW_ERR_INVAL;
    *orders = s->lost_orders ? s->lost_orders[cell] : 0;
    *units = s->lost_units ? s->lost_units[cell] : 0;
    *value_cents = s->lost_value ? s->lost_value[cell] : 0;
    return FW_OK;
}

/* The coupons' books against the orders and the wallets (fw_shop_check). */
static fw_err check_coupons(const fw_engine *e, const struct fw_shop *s, char *why, size_t cap)
{
    int64_t cost[FW_COUPON_ISSUER__COUNT] = {0};
    uint32_t nc = s->n_coupons;
    int64_t *held = calloc(nc ? nc : 1, sizeof *held), *spent = calloc(nc ? nc : 1, sizeof *spent);
    uint64_t *state = calloc((size_t)(nc ? nc : 1) * CL__COUNT, sizeof *state);
    uint64_t *pending = calloc(nc ? nc : 1, sizeof *pending);
    fw_err rc = FW_ERR_NOMEM;
    if (!held || !spent || !state || !pending) {
        snprintf(why, cap, "out of memory while checking");
        goto out;
    }
    rc = FW_ERR_INTERNAL;
    for (uint32_t id = 0; id < s->n_orders; id++) {
        const order_rec *o = &s->orders[id];
        if (o->coupon == FW_NONE) {
            if (o->discount != 0) {
                snprintf(why, cap, "order %u has a discount of %lld cents without a coupon", id, (long long)o->discount);
                goto out;
            }
            continue;
        }
        if (o->coupon >= nc || o->discount <= 0 || o->discount > o->value) {
            snprintf(why, cap, "order %u: coupon %u takes %lld cents off %lld", id, o->coupon,
                     (long long)o->discount, (long long)o->value);
            goto out;
        }
        if (o->status == FW_ORDER_CREATED) {
            held[o->coupon] += o->discount;
            pending[o->coupon]++;
        } else if (o->status != FW_ORDER_CANCELLED && o->status != FW_ORDER_REFUNDED) {
            spent[o->coupon] += o->discount;
            cost[s->coupons[o->coupon].issuer] += o->discount;
        }
    }
    for (uint32_t u = 0; s->wallets && u < e->n_users; u++)
        for (uint32_t k = 0; k < s->wallets[u].n; k++) {
            const claim_rec *cl = &s->wallets[u].v[k];
            if (cl->coupon >= nc || cl->state >= CL__COUNT) {
                snprintf(why, cap, "user %u holds a claim of coupon %u in state %u", u, cl->coupon, cl->state);
                goto out;
            }
            state[(size_t)cl->coupon * CL__COUNT + cl->state]++;
        }
    for (int i = 0; i < FW_COUPON_ISSUER__COUNT; i++)
        if (cost[i] != s->coupon_cost[i]) {
            snprintf(why, cap, "coupon cost of issuer %d is %lld cents in the books, %lld redeemed in the orders", i,
                     (long long)s->coupon_cost[i], (long long)cost[i]);
            goto out;
        }
    for (uint32_t c = 0; c < nc; c++) {
        const coupon_book *b = &s->cbook[c];
        const uint64_t *n = &state[(size_t)c * CL__COUNT];
        if (b->held != held[c] || b->spent != spent[c]) {
            snprintf(why, cap, "coupon %u: held %lld / redeemed %lld cents in the books, %lld / %lld in the orders", c,
                     (long long)b->held, (long long)b->spent, (long long)held[c], (long long)spent[c]);
            goto out;
        }
        if (b->held < 0 || b->spent < 0 || b->held + b->spent > s->coupons[c].budget_cents) {
            snprintf(why, cap, "coupon %u: held %lld + redeemed %lld cents outside its budget [0, %lld]", c,
                     (long long)b->held, (long long)b->spent, (long long)s->coupons[c].budget_cents);
            goto out;
        }
        if (n[CL_USABLE] + n[CL_IN_USE] + n[CL_USED] + n[CL_EXPIRED] != b->claims || n[CL_IN_USE] != pending[c] ||
            n[CL_USED] != b->redeemed || n[CL_EXPIRED] != b->expired) {
            snprintf(why, cap,
                     "coupon %u: %llu claims in the books, wallets hold %llu usable + %llu in use (%llu pending "
                     "orders) + %llu used (%llu redeemed) + %llu expired (%llu)", c, (unsigned long long)b->claims,
                     (unsigned long long)n[CL_USABLE], (unsigned long long)n[CL_IN_USE], (unsigned long long)pending[c],
                     (unsigned long long)n[CL_USED], (unsigned long long)b->redeemed, (unsigned long long)n[CL_EXPIRED],
                     (unsigned long long)b->expired);
            goto out;
        }
    }
    rc = FW_OK;
out:
    free(held);
    free(spent);
    free(state);
    free(pending);
    return rc;
}

/* booked as defined: the orders' values and the lost orders' summed; 0 when an amount is
 * negative or the sum passes what int64 cents hold. */
static int sum_booked(const fw_engine *e, const struct fw_shop *s, int64_t *sum)
{
    int64_t b = 0;
    for (uint32_t id = 0; id < s->n_orders; id++)
        if (!fw_add_nonneg(&b, s->orders[id].value))
            return 0;
    for (uint32_t a = 0; s->lost_value && a < e->n_arms; a++)
        if (!fw_add_nonneg(&b, s->lost_value[a]))
            return 0;
    *sum = b;
    return 1;
}

fw_err fw_shop_check(const fw_engine *e, char *why, size_t cap)
{
    const struct fw_shop *s = S_of(e);
    if (!s)
        return FW_OK;
    /* First the bound every sum below relies on (values >= 0, their total fits). */
    int64_t booked;
    if (!sum_booked(e, s, &booked) || booked != s->booked) {
        snprintf(why, cap, "%lld cents booked, but the orders' values (and the lost orders') are negative, "
                 "overflow or sum to another amount", (long long)s->booked);
        return FW_ERR_INTERNAL;
    }
    fw_err rc = FW_ERR_NOMEM;
    size_t nab = (size_t)e->n_arms * (s->n_brands ? s->n_brands : 1);
    uint64_t *res = calloc(s->n_products ? s->n_products : 1, sizeof *res);
    uint64_t *sold = calloc(s->n_products ? s->n_products : 1, sizeof *sold);
    int64_t *units = calloc(nab, sizeof *units), *rev = calloc(nab, sizeof *rev);
    if (!res || !sold || !units || !rev) {
        snprintf(why, cap, "out of memory while checking");
        goto out;
    }
    rc = FW_ERR_INTERNAL;
    int64_t paid = 0, refunded = 0;
    for (uint32_t id = 0; id < s->n_orders; id++) {
        const order_rec *o = &s->orders[id];
        if (o->pay_count > 1) {
            snprintf(why, cap, "order %u was paid %u times", id, o->pay_count);
            goto out;
        }
        int was_paid = o->status != FW_ORDER_CREATED && o->status != FW_ORDER_CANCELLED;
        if (was_paid != (o->pay_count == 1)) {
            snprintf(why, cap, "order %u is %s but was paid %u times", id,
                     fw_order_status_name(o->status), o->pay_count);
            goto out;
        }
        if (o->refunded > (was_paid ? o->value : 0) || o->refunded < 0) {
            snprintf(why, cap, "order %u refunded %lld cents of %lld paid", id, (long long)o->refunded,
                     (long long)(was_paid ? o->value : 0));
            goto out;
        }
        if (was_paid)
            paid += o->value;
        refunded += o->refunded;
        if (o->status == FW_ORDER_CREATED)
            res[o->product] += o->qty;
        else if (was_paid && o->status != FW_ORDER_REFUNDED)
            sold[o->product] += o->qty;
        if (was_paid && o->status != FW_ORDER_REFUNDED && s->n_brands) {
            size_t b = (size_t)o->arm * s->n_brands + s->prod[o->product].brand;
            units[b] += o->qty;
            rev[b] += o->value;
        }
    }
    for (size_t b = 0; s->n_brands && b < nab; b++)
        if (units[b] != s->brand_units[b] || rev[b] != s->brand_rev[b]) {
            snprintf(why, cap, "brand %zu in arm %zu: %lld units and %lld cents sold in the books, %lld and %lld "
                     "by the orders paid and not refunded", b % s->n_brands, b / s->n_brands,
                     (long long)s->brand_units[b], (long long)s->brand_rev[b], (long long)units[b], (long long)rev[b]);
            goto out;
        }
    if (paid != s->paid || refunded != s->refunded) {
        snprintf(why, cap, "payments %lld / refunds %lld cents in the books, %lld / %lld in the orders",
                 (long long)s->paid, (long long)s->refunded, (long long)paid, (long long)refunded);
        goto out;
    }
    if (s->gmv != paid - refunded) {
        snprintf(why, cap, "GMV %lld cents is not payments %lld minus refunds %lld", (long long)s->gmv,
                 (long long)paid, (long long)refunded);
        goto out;
    }
    if (refunded > paid) {
        snprintf(why, cap, "refunds %lld exceed payments %lld cents", (long long)refunded, (long long)paid);
        goto out;
    }
    for (uint32_t p = 0; p < s->n_products; p++) {
        const fw_product_stock *st = &s->stock[p];
        if (st->available + st->reserved + st->sold != st->initial + st->restocked) {
            snprintf(why, cap,
                     "product %u: available %llu + reserved %llu + sold %llu != initial %llu + restocked %llu",
                     p, (unsigned long long)st->available, (unsigned long long)st->reserved,
                     (unsigned long long)st->sold, (unsigned long long)st->initial,
                     (unsigned long long)st->restocked);
            goto out;
        }
        if (st->reserved != res[p] || st->sold != sold[p]) {
            snprintf(why, cap, "product %u: reserved %llu / sold %llu in stock, %llu / %llu in the orders", p,
                     (unsigned long long)st->reserved, (unsigned long long)st->sold,
                     (unsigned long long)res[p], (unsigned long long)sold[p]);
            goto out;
        }
    }
    rc = check_coupons(e, s, why, cap);
out:
    free(res);
    free(sold);
    free(units);
    free(rev);
    return rc;
}

static fw_err shop_check(const fw_engine *e, const void *state, char *why, size_t cap)
{
    (void)state;
    return fw_shop_check(e, why, cap);
}

static fw_err shop_publish(fw_engine *e, void *state, fw_engine_ctx *ctx, uint32_t id, const fw_publication *p)
{
    (void)state;
    (void)ctx;
    return fw_shop_attach(e, id, p->product);
}

/* ---- state snapshots (issue 21) ------------------------------------------------------- */

_Static_assert(sizeof(prof_entry) == 8 && sizeof(comm_entry) == 12 && sizeof(claim_rec) == 12 &&
                   sizeof(order_rec) == 72 && sizeof(fw_order_change) == 32 && sizeof(coupon_book) == 64 &&
                   sizeof(fw_product_stock) == 40,
               "rows, orders, logs and books are snapshot as their bytes: no padding");

/* Which of a user's rows hold something (a snapshot carries only those). */
enum { ROW_TX = 1, ROW_COMM = 2, ROW_CART = 4, ROW_WALLET = 8, ROW__ALL = 15 };

static unsigned rows_of(const struct fw_shop *s, uint32_t u)
{
    return (s->tx[u] ? ROW_TX : 0) | (s->community[u] ? ROW_COMM : 0) | (s->carts[u].n ? ROW_CART : 0) |
           (s->wallets && s->wallets[u].n ? ROW_WALLET : 0);
}

/* A profile row of k entries of size bytes at *row: loading, made by fw_snap_vec (a new state
 * has none) and checked whole. */
static void profile_snap(fw_snap *sn, void **row, uint32_t k, size_t size)
{
    size_t n = *row ? k : 0;
    fw_snap_vec(sn, row, &n, NULL, size, k);
    if (fw_snap_loading(sn) && !fw_snap_failed(sn) && n != k)
        fw_snap_fail(sn, "a profile row of %zu entries, not %u", n, k);
}

/* User u's rows that mask names. Loading, each is made by fw_snap_vec (a new state has none)
 * and what it indexes is checked: categories and topics the shop tab indexes its lists by,
 * products, coupons. */
static void user_snap(struct fw_shop *s, uint32_t u, unsigned mask, uint32_t cart_max, fw_snap *sn)
{
    int loading = fw_snap_loading(sn);
    if (mask & ROW_TX) {
        profile_snap(sn, (void **)&s->tx[u], FW_SHOP_PROFILE_K, sizeof *s->tx[u]);
        for (int k = 0; loading && !fw_snap_failed(sn) && k < FW_SHOP_PROFILE_K; k++)
            if (s->tx[u][k].cat >= s->n_topics)
                fw_snap_fail(sn, "user %u bought from category %u of %u", u, s->tx[u][k].cat, s->n_topics);
    }
    if (mask & ROW_COMM) {
        profile_snap(sn, (void **)&s->community[u], FW_SHOP_COMM_K, sizeof *s->community[u]);
        for (int k = 0; loading && !fw_snap_failed(sn) && k < FW_SHOP_COMM_K; k++)
            if (s->community[u][k].cat >= s->n_topics)
                fw_snap_fail(sn, "user %u engaged with topic %u of %u", u, s->community[u][k].cat, s->n_topics);
    }
    if (mask & ROW_CART) {
        /* The products and their ticks are two arrays of one capacity. */
        cart *c = &s->carts[u];
        uint32_t n_t = c->n, cap_p = c->cap, cap_t = c->cap;
        fw_snap_vec32(sn, (void **)&c->p, &c->n, &cap_p, sizeof *c->p, cart_max);
        fw_snap_vec32(sn, (void **)&c->t, &n_t, &cap_t, sizeof *c->t, cart_max);
        c->cap = fw_min_u32(cap_p, cap_t);
        if (loading && !fw_snap_failed(sn) && n_t != c->n)
            fw_snap_fail(sn, "user %u's cart holds %u products and %u ticks", u, c->n, n_t);
        for (uint32_t k = 0; loading && !fw_snap_failed(sn) && k < c->n; k++)
            if (c->p[k] >= s->n_products)
                fw_snap_fail(sn, "user %u's cart holds product %u of %u", u, c->p[k], s->n_products);
    }
    if (mask & ROW_WALLET) {
        wallet *w = &s->wallets[u];
        fw_snap_vec32(sn, (void **)&w->v, &w->n, &w->cap, sizeof *w->v, s->n_coupons);   /* a claim per coupon */
        for (uint32_t k = 0; loading && !fw_snap_failed(sn) && k < w->n; k++)
            if (w->v[k].coupon >= s->n_coupons || w->v[k].state >= CL__COUNT)
                fw_snap_fail(sn, "user %u holds a claim of coupon %u in state %u", u, w->v[k].coupon, w->v[k].state);
    }
}

/* Loading, after the transfers: the orders, the open list, the request map and the change logs
 * index only what exists (orders, users, cells, products, coupons), and the map is a map. */
static void check_loaded(const fw_engine *e, const struct fw_shop *s, fw_snap *sn)
{
    for (uint32_t id = 0; id < s->n_orders; id++) {
        const order_rec *o = &s->orders[id];
        if (o->user >= e->n_users || o->arm >= e->n_arms || o->product >= s->n_products ||
            (o->coupon != FW_NONE && o->coupon >= s->n_coupons) || o->status >= FW_ORDER__COUNT) {
            fw_snap_fail(sn, "order %u of user %u, cell %u, product %u, coupon %u, status %u: out of range", id,
                         o->user, o->arm, o->product, o->coupon, o->status);
            return;
        }
    }
    for (uint32_t k = 0; k < s->n_open; k++)
        if (s->open[k] >= s->n_orders || (k && s->open[k] <= s->open[k - 1])) {
            fw_snap_fail(sn, "open order %u (%u of %u orders) out of range or out of order", k, s->open[k],
                         s->n_orders);
            return;
        }
    size_t slots = s->map_mask + 1, used = 0;
    for (size_t i = 0; i < slots; i++) {
        used += s->map_key[i] != 0;
        if (s->map_key[i] && s->map_val[i] != FW_NONE && s->map_val[i] >= s->n_orders) {
            fw_snap_fail(sn, "the request map answers order %u of %u", s->map_val[i], s->n_orders);
            return;
        }
    }
    if (used != s->n_map || 2 * s->n_map > slots) {
        fw_snap_fail(sn, "the request map holds %zu requests in %zu slots, it says %zu", used, slots, s->n_map);
        return;
    }
    for (size_t k = 0; k < s->n_log; k++) {
        const fw_order_change *x = &s->log[k];
        if (x->order >= s->n_orders || x->user >= e->n_users || x->arm >= e->n_arms || x->product >= s->n_products) {
            fw_snap_fail(sn, "order change %zu: order %u, user %u, cell %u, product %u out of range", k, x->order,
                         x->user, x->arm, x->product);
            return;
        }
    }
    for (size_t k = 0; k < s->n_clog; k++) {
        const fw_coupon_change *x = &s->clog[k];
        if (x->user >= e->n_users || x->arm >= e->n_arms || x->coupon >= s->n_coupons ||
            (x->order != FW_NONE && x->order >= s->n_orders) || x->issuer >= FW_COUPON_ISSUER__COUNT) {
            fw_snap_fail(sn, "coupon change %zu: user %u, cell %u, coupon %u, order %u, issuer %u out of range", k,
                         x->user, x->arm, x->coupon, x->order, x->issuer);
            return;
        }
    }
}

/* Stock and popularity; the best sellers as of the last refresh and whether one is due (a
 * day's end decays popularity and restocking adds units, neither refreshing: the next day's
 * first requests read the lists as they are); what each note shows; the orders, the open list,
 * the request map and the change logs; the books, per cell sales and stock-outs; the users'
 * profiles, carts and wallets (the users that have one, ascending, each with which rows it has
 * and those rows) and read cards; the population rates; the coupons' books; the sale.
 *  Skipped: the products, categories, titles, decay, fp_rate and coupon definitions (the
 *  catalog's and the settings, fixed at create; the sizes are checked); taken_today and
 *  taken_cell (zeroed by every day's end; only a tick's orders add to them); oom (0 after every
 *  barrier that succeeded); unit_price (set only within a call); capacities (fw_snap_vec's, or
 *  note_cap: the core grew the notes' arrays to the snapshot's before this hook). */
static void shop_snap(fw_engine *e, void *state, fw_snap *sn)
{
    struct fw_shop *s = state;
    int loading = fw_snap_loading(sn);
    fw_snap_same_u32(sn, s->n_products, "the products");
    fw_snap_same_u32(sn, s->n_brands, "the brands");
    fw_snap_same_u32(sn, s->n_topics, "the shop's categories");
    fw_snap_same_u32(sn, s->best_cap, "the best sellers kept");
    fw_snap_same_u32(sn, s->n_coupons, "the coupons");
    fw_snap_same_u32(sn, s->read_cards != NULL, "whether some cell reads cards");
    if (s->note_cap < e->n_notes) {
        fw_snap_fail(sn, "room for %u notes' products, %u notes (a bug in flywheel)", s->note_cap, e->n_notes);
        return;
    }
    fw_snap_array(sn, s->stock, s->n_products, sizeof *s->stock);
    fw_snap_array(sn, s->pop, s->n_products, sizeof *s->pop);
    size_t nb = (size_t)s->n_topics * s->best_cap;
    fw_snap_indexes(sn, s->best, nb, s->n_products, s->n_products);
    fw_snap_indexes(sn, s->best_n, s->n_topics, s->best_cap + 1, s->best_cap + 1);   /* counts up to best_cap */
    fw_snap_array(sn, s->best_pop, nb, sizeof *s->best_pop);
    fw_snap_indexes(sn, s->best_all, s->best_cap, s->n_products, s->n_products);
    fw_snap_index(sn, &s->n_best_all, s->best_cap + 1, s->best_cap + 1);
    fw_snap_array(sn, s->best_all_pop, s->best_cap, sizeof *s->best_all_pop);
    uint8_t dirty = s->dirty != 0;
    fw_snap_u8(sn, &dirty);
    s->dirty = dirty != 0;
    fw_snap_indexes(sn, s->note_shown, e->n_notes, s->n_products, FW_NONE);

    fw_snap_vec32(sn, (void **)&s->orders, &s->n_orders, &s->cap_orders, sizeof *s->orders, FW_NONE);
    fw_snap_vec32(sn, (void **)&s->open, &s->n_open, &s->cap_open, sizeof *s->open, s->n_orders);
    size_t slots = s->map_mask + 1, vals = slots;
    fw_snap_size(sn, &s->n_map);
    fw_snap_vec(sn, (void **)&s->map_key, &slots, NULL, sizeof *s->map_key, SIZE_MAX / sizeof *s->map_key);
    fw_snap_vec(sn, (void **)&s->map_val, &vals, NULL, sizeof *s->map_val, slots);
    if (loading && !fw_snap_failed(sn)) {
        if (vals != slots || slots == 0 || (slots & (slots - 1)) != 0)
            fw_snap_fail(sn, "a request map of %zu keys and %zu values (a power of two expected)", slots, vals);
        else
            s->map_mask = slots - 1;
    }
    fw_snap_vec(sn, (void **)&s->log, &s->n_log, &s->cap_log, sizeof *s->log, SIZE_MAX / sizeof *s->log);
    /* Without coupons there is no coupon log, nor room the engine would free for one. */
    fw_snap_vec(sn, (void **)&s->clog, &s->n_clog, &s->cap_clog, sizeof *s->clog,
                s->clog ? SIZE_MAX / sizeof *s->clog : 0);

    fw_snap_i64(sn, &s->paid);
    fw_snap_i64(sn, &s->refunded);
    fw_snap_i64(sn, &s->gmv);
    fw_snap_u64(sn, &s->n_paid);
    fw_snap_u64(sn, &s->n_refunded);
    fw_snap_u64(sn, &s->n_cancelled);
    size_t nab = (size_t)e->n_arms * (s->n_brands ? s->n_brands : 1);
    fw_snap_array(sn, s->brand_units, nab, sizeof *s->brand_units);
    fw_snap_array(sn, s->brand_rev, nab, sizeof *s->brand_rev);
    if (s->lost_orders) {   /* more than one cell */
        fw_snap_array(sn, s->lost_orders, e->n_arms, sizeof *s->lost_orders);
        fw_snap_array(sn, s->lost_units, e->n_arms, sizeof *s->lost_units);
        fw_snap_array(sn, s->lost_value, e->n_arms, sizeof *s->lost_value);
    }
    if (loading && !fw_snap_failed(sn) && !sum_booked(e, s, &s->booked))   /* derived (see booked) */
        fw_snap_fail(sn, "the orders' values (or the lost orders') are negative or overflow 64-bit cents");
    fw_snap_array(sn, s->cbook, s->n_coupons, sizeof *s->cbook);
    fw_snap_array(sn, s->coupon_cost, FW_COUPON_ISSUER__COUNT, sizeof *s->coupon_cost);
    fw_snap_f64(sn, &s->sale);
    fw_snap_f64(sn, &s->all_impr);
    fw_snap_f64(sn, &s->all_eng);

    if (s->read_cards)
        fw_snap_indexes(sn, s->read_cards, (size_t)e->n_users * FW_SHOP_READ_CARDS, e->n_notes, FW_NONE);
    uint32_t cart_max = 0;   /* a cart holds at most its owner's cell's cap */
    for (uint32_t a = 0; a < e->n_arms; a++)
        cart_max = fw_max_u32(cart_max, fw_cfg(e, a)->shop.cart_cap);
    uint32_t n_rows = 0, next = 0;   /* next: the lowest user the next rows may be */
    for (uint32_t u = 0; !loading && u < e->n_users; u++)
        n_rows += rows_of(s, u) != 0;
    fw_snap_index(sn, &n_rows, e->n_users + 1, e->n_users + 1);
    for (uint32_t k = 0; k < n_rows && !fw_snap_failed(sn); k++) {
        uint32_t u = next;
        while (!loading && !rows_of(s, u))
            u++;
        uint8_t mask = loading ? 0 : (uint8_t)rows_of(s, u);
        fw_snap_index(sn, &u, e->n_users, e->n_users);
        fw_snap_u8(sn, &mask);
        if (fw_snap_failed(sn) || u < next || mask == 0 || mask > ROW__ALL || ((mask & ROW_WALLET) && !s->wallets)) {
            fw_snap_fail(sn, "the users' shop rows out of order, or rows %u of user %u", mask, u);
            return;
        }
        user_snap(s, u, mask, cart_max, sn);
        next = u + 1;
    }
    if (loading && !fw_snap_failed(sn))
        check_loaded(e, s, sn);
}

/* The shop's books at a day's end (global: every cell buys from the same stock). */
const fw_engine_module fw_shop_module = {
    .name = "shop",
    .wanted = shop_wanted,
    .state_size = sizeof(struct fw_shop),
    .create = shop_create,
    .destroy = shop_destroy,
    .grow_notes = shop_grow_notes,
    .publish = shop_publish,
    .log = shop_log,
    .end_tick = shop_end_tick,
    .end_day = shop_end_day,
    .snap = shop_snap,
    .check = shop_check,
    FW_MODULE_SERIES("the shop's books at each day's end"),
};
