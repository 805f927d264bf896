/* The shop: the commerce half of the platform (种草 -> 拔草).
 * Owns: the catalog as the platform sells it (price, brand, category), stock (available and
 * reserved), product cards on notes, carts, orders and their lifecycle (created, paid,
 * shipped, delivered, returned, refunded, or cancelled when payment keeps failing), payment
 * with retries, restocking, returns and refunds, per-brand sales, the lifecycle log the
 * simulator reads back, the user profile the shop tab recommends from, and coupons (their
 * books, users' wallets, their change log) and the site-wide sale of a promotion day.
 * Borrows: the products passed to fw_engine_create through fw_catalog (copied).
 * Never touches: the world's hidden truth (product appeal, users' intents), randomness
 * (payment failures, recognition errors and delivery delays are hashes of ids, so the same
 * calls give the same results), threads or files.
 *
 * Threading contract: as engine.h. fw_shop_request, fw_shop_card, fw_shop_cart and the other
 * read-only accessors may run concurrently between barrier calls; every call that changes
 * shop state (fw_shop_log, fw_shop_place_orders, fw_shop_request_return, fw_shop_restock,
 * fw_shop_attach, fw_shop_coupons_define, fw_shop_set_sale, the clear calls, and
 * fw_engine_end_tick / fw_engine_end_day, which advance orders and expire claims) is a
 * barrier call.
 *
 * Money is integer cents throughout. Invariants (fw_shop_check):
 *   net GMV = sum of paid order values - refunds;
 *   available + reserved + sold = initial stock + restocked, per product, where reserved
 *   counts units of orders awaiting payment and sold the units of paid orders not refunded
 *   (refunded units go back on sale);
 *   no order is paid twice; refunds never exceed payments (per order and in total). */
#ifndef FLYWHEEL_SHOP_H
#define FLYWHEEL_SHOP_H

#include "flywheel/engine.h"

/* ---- product cards ------------------------------------------------------------------ */

/* Barrier call: note's pictures and text show product (FW_NONE: none). This is the input of
 * the engine's product recogniser, never used as a link directly: the card a note carries is
 * fw_shop_card, right with probability engine.shop.recognition_recall when a product is
 * shown, and wrong (another product of the note's topic) often enough that a share
 * engine.shop.recognition_precision of cards are right. The rate of wrong cards is set at
 * fw_engine_create from the share of the catalog's notes that show a product, so precision
 * drifts from the knob when later notes show products at another rate, and it is higher
 * where a topic has no products to confuse. FW_ERR_INVAL for an unknown note or product.
 * Notes of the catalog are attached by fw_engine_create (fw_catalog.note_products). */
fw_err fw_shop_attach(fw_engine *e, uint32_t note, uint32_t product);

/* The product card the platform shows on note under arm's configuration, or FW_NONE. A pure
 * function of (note, what it shows, arm's recognition knobs): cheap, safe in requests. */
uint32_t fw_shop_card(const fw_engine *e, uint32_t note, uint32_t arm);

/* ---- shop events (the transaction side of the profile) ------------------------------ */

typedef enum fw_shop_event_type {
    FW_SHOP_VIEW = 0,       /* a product page viewed (from a card, the shop tab or the cart) */
    FW_SHOP_CART_ADD,       /* added to the user's cart (kept at most engine.shop.cart_days) */
    FW_SHOP_CART_REMOVE,    /* taken out of the cart without buying */
    FW_SHOP_COUPON_CLAIM,   /* coupon claimed from the page of product (see the coupons below) */
    FW_SHOP_EV__COUNT
} fw_shop_event_type;

typedef struct fw_shop_event {
    uint32_t user, product;
    int32_t tick;
    uint32_t type;          /* fw_shop_event_type */
    uint32_t coupon;        /* FW_SHOP_COUPON_CLAIM: the coupon claimed; unread otherwise */
} fw_shop_event;

/* Barrier call: applies shop events in the order given (product popularity, carts, the
 * transaction profile). FW_ERR_INVAL for a bad user, product or type (skipped, the rest
 * applied); FW_ERR_NOMEM when a cart cannot grow. */
fw_err fw_shop_log(fw_engine *e, fw_engine_ctx *ctx, const fw_shop_event *ev, size_t n);

/* The user's cart: product ids, oldest first, and how many (*n). Valid until the next
 * barrier call. */
const uint32_t *fw_shop_cart(const fw_engine *e, uint32_t user, uint32_t *n);

/* ---- orders ------------------------------------------------------------------------- */

typedef enum fw_order_status {
    FW_ORDER_CREATED = 0,   /* stock reserved, payment not yet through */
    FW_ORDER_PAID,
    FW_ORDER_SHIPPED,
    FW_ORDER_DELIVERED,
    FW_ORDER_RETURNED,      /* return accepted, refund pending */
    FW_ORDER_REFUNDED,
    FW_ORDER_CANCELLED,     /* payment failed after every retry; stock released */
    FW_ORDER__COUNT
} fw_order_status;

const char *fw_order_status_name(fw_order_status s);

/* A checkout: one product line. request_id is the client's idempotency key: a request id
 * seen before never creates a second order (UINT64_MAX is reserved: FW_ORDER_BAD). */
typedef struct fw_order_req {
    uint64_t request_id;
    uint32_t user, arm, product, qty;
    int32_t tick;
} fw_order_req;

typedef enum fw_order_result {
    FW_ORDER_OK = 0,        /* created; payment attempted (see the order's status) */
    FW_ORDER_DUPLICATE,     /* request_id seen before: order is the earlier order, or FW_NONE
                               when the earlier request was refused for stock */
    FW_ORDER_NO_STOCK,      /* not enough units available: no order */
    FW_ORDER_BAD,           /* unknown user, product or arm, or qty 0: no order */
} fw_order_result;

typedef struct fw_order_outcome {
    uint32_t order;         /* order id (FW_NONE when none) */
    uint32_t result;        /* fw_order_result */
} fw_order_outcome;

/* Barrier call: places orders. Contention for the last units is resolved by rule: requests
 * are served in (tick, user, position in req) order, whatever order they come in. Each new
 * order reserves its units, then its first payment is attempted; a failed payment is retried
 * at each following tick end up to engine.shop.payment_retries times, then the order is
 * cancelled and its units released. out[i] answers req[i]. FW_ERR_NOMEM when the order table
 * cannot grow (requests from that one on are answered FW_ORDER_BAD). */
fw_err fw_shop_place_orders(fw_engine *e, fw_engine_ctx *ctx, const fw_order_req *req, size_t n,
                            fw_order_outcome *out);

/* Barrier call: the buyer returns a delivered order within engine.shop.return_days of
 * delivery. The order becomes RETURNED and is refunded engine.shop.refund_hours later (its
 * units back on sale). FW_ERR_INVAL when the order is not the user's, not delivered, or the
 * window has closed -- by tick, or because a tick end after the window already closed the
 * order (nothing changes). */
fw_err fw_shop_request_return(fw_engine *e, uint32_t order, uint32_t user, int32_t tick);

/* Barrier call: a brand puts units more of product on sale. FW_ERR_INVAL for a bad product. */
fw_err fw_shop_restock(fw_engine *e, uint32_t product, uint32_t units, int32_t tick);

/* Every status change (and failed payment attempt), in the order it happened: what the
 * simulator counts per arm and day. fw_shop_changes returns the log since the last
 * fw_shop_clear_changes (a barrier call). */
typedef enum fw_order_change_kind {
    FW_OC_CREATED = 0, FW_OC_PAY_FAILED, FW_OC_PAID, FW_OC_CANCELLED, FW_OC_SHIPPED,
    FW_OC_DELIVERED, FW_OC_RETURNED, FW_OC_REFUNDED, FW_OC__COUNT
} fw_order_change_kind;

typedef struct fw_order_change {
    uint32_t order, user, arm, product;
    int32_t tick;
    uint32_t kind;          /* fw_order_change_kind */
    int64_t value_cents;    /* the order's value */
} fw_order_change;

const fw_order_change *fw_shop_changes(const fw_engine *e, size_t *n);
void fw_shop_clear_changes(fw_engine *e);

typedef struct fw_order_info {
    uint64_t request_id;
    uint32_t user, arm, product, qty;
    int64_t value_cents;
    uint32_t coupon;        /* the coupon applied at checkout, FW_NONE for none */
    int64_t discount_cents; /* its face value (the issuer pays it; the buyer pays the rest) */
    uint32_t status;        /* fw_order_status */
    uint32_t pay_attempts;
    int32_t created_tick, paid_tick, delivered_tick;   /* -1 until it happens */
} fw_order_info;

/* FW_ERR_INVAL for an unknown order. */
fw_err fw_shop_order(const fw_engine *e, uint32_t order, fw_order_info *out);
uint32_t fw_shop_n_orders(const fw_engine *e);

/* ---- stock, money, invariants -------------------------------------------------------- */

typedef struct fw_product_stock {
    uint64_t initial, restocked, available, reserved, sold;
} fw_product_stock;

/* FW_ERR_INVAL for a bad product. */
fw_err fw_shop_stock(const fw_engine *e, uint32_t product, fw_product_stock *out);

typedef struct fw_shop_totals {
    int64_t paid_cents;       /* every payment ever taken */
    int64_t refunded_cents;   /* every refund ever made */
    int64_t gmv_cents;        /* paid - refunded, kept as its own running sum */
    uint64_t orders, paid_orders, refunded_orders, cancelled_orders;
    uint64_t units_initial, units_restocked, units_available, units_reserved, units_sold;
} fw_shop_totals;

fw_shop_totals fw_shop_total(const fw_engine *e);

/* Sales of brand's products to users served under arm: net units and net revenue (paid
 * minus refunded, cents). FW_ERR_INVAL for a bad brand or arm. */
fw_err fw_shop_brand_sales(const fw_engine *e, uint32_t brand, uint32_t arm, int64_t *units,
                           int64_t *revenue_cents);

/* Stock-outs one arm owes to the others, to date: checkout requests served under cell that
 * were refused for no stock although the product's units available then plus the units that
 * orders of other cells reserved since the last day end (gross of later cancellations) would
 * have covered them -- the other arms bought what this one would have. Requests, units and
 * their value (cents at list price) into *orders, *units, *value_cents. Stock is one
 * inventory for every arm; this is what an A/B comparison of commerce metrics should read
 * beside them. Zeros with one cell; FW_ERR_INVAL for a bad cell or without the shop. */
fw_err fw_shop_cell_stockouts(const fw_engine *e, uint32_t cell, uint64_t *orders, uint64_t *units,
                              int64_t *value_cents);

/* Checks every invariant above (and the coupons' below) over all orders, products, coupons
 * and claims. FW_OK, or FW_ERR_INTERNAL with the first violation described in why[cap]. */
fw_err fw_shop_check(const fw_engine *e, char *why, size_t cap);

/* ---- coupons and sales ---------------------------------------------------------------
 *
 * A coupon is issued by the platform or by a brand (for that brand's products only), takes a
 * fixed amount or a percentage off an order whose value reaches its threshold, and has a
 * budget: the most face value it may have outstanding (held by orders awaiting payment plus
 * redeemed by paid orders not refunded). Users claim it (FW_SHOP_COUPON_CLAIM, one claim per
 * user and coupon) while it is claimable for their cell; a claim is usable for valid_ticks,
 * then expires (at the day end). At checkout the shop applies the buyer's best usable coupon
 * (largest discount; ties: lower id) whose budget covers it: the order keeps its value (what
 * GMV counts), the buyer pays value - discount and the issuer the discount. The discount is
 * held while payment is pending, redeemed (the issuer's cost) when it goes through, released
 * (the claim usable again while valid) when the order is cancelled, and given back to the
 * issuer's budget when the order is refunded (the claim stays used). Invariants
 * (fw_shop_check): coupon cost by issuer = the face value of the coupons of paid orders not
 * refunded; each coupon's held and redeemed sums match its orders and 0 <= held + redeemed <=
 * budget; claims = usable + in use + used + expired, per coupon. */
typedef enum fw_coupon_issuer { FW_COUPON_PLATFORM = 0, FW_COUPON_BRAND, FW_COUPON_ISSUER__COUNT } fw_coupon_issuer;
typedef enum fw_coupon_kind { FW_COUPON_FIXED = 0, FW_COUPON_PERCENT } fw_coupon_kind;

typedef struct fw_coupon_def {
    uint32_t issuer;            /* fw_coupon_issuer */
    uint32_t brand;             /* FW_COUPON_BRAND: the issuing brand (< n_brands) */
    uint32_t kind;              /* fw_coupon_kind */
    int64_t off_cents;          /* FIXED: the face value, in (0, threshold_cents] */
    double percent;             /* PERCENT: the share off, in (0, 100); face = floor(value x percent / 100) */
    int64_t threshold_cents;    /* the least order value it applies to (>= 0) */
    int64_t budget_cents;       /* > 0 */
    int32_t claim_from, claim_until;   /* claimable at ticks [claim_from, claim_until) */
    int32_t valid_ticks;        /* a claim is usable this many ticks after it is made (> 0) */
    uint64_t cells;             /* bit c set: users of cell c may claim it */
} fw_coupon_def;

/* Barrier call, once, before any order: the run's coupons (copied; ids are their indexes).
 * FW_ERR_INVAL for a definition outside the ranges above, a second call, or without the
 * shop (n = 0 is always accepted and changes nothing); FW_ERR_NOMEM. */
fw_err fw_shop_coupons_define(fw_engine *e, const fw_coupon_def *defs, uint32_t n);
uint32_t fw_shop_n_coupons(const fw_engine *e);

/* Barrier call: the site-wide sale (a promotion day): orders created from now on are valued at
 * list price less percent (in [0, 100); 0 ends the sale; the brands sell for less). */
fw_err fw_shop_set_sale(fw_engine *e, double percent);
double fw_shop_sale(const fw_engine *e);

/* Whether user may claim coupon at tick on the page of product: claimable for the user's
 * cell, applies to product, not claimed by the user yet, and its remaining budget covers at
 * least one discount. Read-only, safe in requests. */
int fw_shop_coupon_claimable(const fw_engine *e, uint32_t user, uint32_t coupon, uint32_t product, int32_t tick);

/* The coupon the shop would apply if user bought product at tick (with what they hold now and
 * the budgets as they stand), its discount into *off_cents (0 and FW_NONE for none). Read-only. */
uint32_t fw_shop_coupon_best(const fw_engine *e, uint32_t user, uint32_t product, int32_t tick, int64_t *off_cents);

/* The face value coupon would take off product at list price (after the sale), 0 when it does
 * not apply (brand or threshold). Read-only. */
int64_t fw_shop_coupon_face(const fw_engine *e, uint32_t coupon, uint32_t product);

/* A coupon's books to date. */
typedef struct fw_coupon_books {
    uint64_t claims, expired, applied, redeemed, released, refunded;   /* counts */
    int64_t held_cents, redeemed_cents;   /* outstanding now: pending orders, paid orders not refunded */
    int64_t budget_cents;
} fw_coupon_books;

fw_err fw_shop_coupon_books(const fw_engine *e, uint32_t coupon, fw_coupon_books *out);

/* The coupon cost by issuer to date: the face value redeemed by paid orders not refunded. */
int64_t fw_shop_coupon_cost(const fw_engine *e, uint32_t issuer);

/* Every coupon event, in the order it happened, since the last fw_shop_clear_coupon_changes
 * (a barrier call): what the simulator counts per cell. */
typedef enum fw_coupon_change_kind {
    FW_CC_CLAIMED = 0, FW_CC_REFUSED,   /* a claim taken, or refused (not claimable any more) */
    FW_CC_APPLIED,      /* applied to a new order (held) */
    FW_CC_REDEEMED,     /* its order paid: the issuer's cost */
    FW_CC_RELEASED,     /* its order cancelled: usable again while valid */
    FW_CC_REFUNDED,     /* its order refunded: the face value back to the issuer */
    FW_CC_EXPIRED,      /* a claim not used in time */
    FW_CC__COUNT
} fw_coupon_change_kind;

typedef struct fw_coupon_change {
    uint32_t user, arm, coupon, order;   /* arm: the user's cell; order FW_NONE when none */
    int32_t tick;
    uint32_t kind;          /* fw_coupon_change_kind */
    uint32_t issuer;        /* the coupon's fw_coupon_issuer */
    int64_t cents;          /* APPLIED, REDEEMED, RELEASED, REFUNDED: the face value */
} fw_coupon_change;

const fw_coupon_change *fw_shop_coupon_changes(const fw_engine *e, size_t *n);
void fw_shop_clear_coupon_changes(fw_engine *e);

/* ---- the shop tab -------------------------------------------------------------------- */

typedef struct fw_shop_req {
    uint32_t user, arm;
    int32_t tick;
} fw_shop_req;

/* Serves a shop-tab page: up to min(cap, engine.shop.page_size) products in stock, best
 * first; returns how many. With engine.shop.profile unified, a page opens with the
 * products of the cards on the notes the user liked or saved most recently
 * (engine.shop.read_cards of them). Then it ranks products from the user's profile: the
 * categories the user
 * engages with, from community signals (notes read, liked, saved, commented, in the feed or
 * in search) and transactions (product views -- card clicks included --, carts, orders)
 * when engine.shop.profile is unified, from transactions alone when separate; then each of
 * the engine.shop.profile_categories strongest categories' best sellers, round-robin. Users
 * the profile knows nothing of get the overall best sellers. Concurrency as
 * fw_feed_request. */
uint32_t fw_shop_request(fw_engine *e, fw_engine_ctx *ctx, const fw_shop_req *req, uint32_t *out,
                         uint32_t cap);

#endif
