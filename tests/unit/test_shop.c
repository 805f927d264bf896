/* Unit tests for the shop (flywheel/shop.h) through the public headers only: the order
 * lifecycle (paid, shipped, delivered, the return window) and its change log, returns and
 * refunds, payment failures with retries and cancellation, idempotent checkout, contention
 * for the last units, bad requests, the money and stock invariants after a mixed run,
 * product cards (exact, switched off, measured recall and precision over many notes, and
 * fw_shop_attach), carts, and the shop tab (in-stock pages, transaction and community
 * profiles, best sellers refreshed at tick ends). Two tests pin down bugs in shop.c
 * as found (a late return stuck in RETURNED; refused events feeding the profile): they fail
 * until it is fixed. Coupons: claim and redeem (fixed and brand percentage, thresholds),
 * expiry, budget exhaustion, release on cancellation and give-back on refund, the sale, bad
 * definitions, and fw_shop_check failing when the coupon books are tampered with (the one
 * internal hook, shop_int.h).
 *
 * The catalog is built by hand: 4 users, 2 topics (= categories), 2 brands, 6 products and 6
 * notes, 24 ticks a day. Unless a test is about them, payments never fail and the lifecycle
 * knobs make every step fall on a known tick: 12 h (12 ticks) from payment to shipping,
 * exactly 2 days' delivery, a 3-day return window and 6 h (6 ticks) to refund. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>

#include "flywheel/engine.h"
#include "flywheel/shop.h"
#include "fixture_engine.h"
#include "fixture_rig.h"
#include "../../engine/src/shop_int.h"   /* fw_shop_coupon_tamper: tests only */

#define TPD 24u
#define N_USERS 4u
#define N_TOPICS 2u
#define N_BRANDS 2u
#define PAGE_MAX 100u

/* Lifecycle steps under shop_cfg(), in ticks. */
#define SHIP 12
#define DELIVERY (2 * (int32_t)TPD)
#define WINDOW (3 * (int32_t)TPD)
#define REFUND 6

/* ---- the catalog --------------------------------------------------------------------- */

enum { P_A = 0, P_B, P_C, P_D, P_E, P_F, N_PRODUCTS };

/* Categories 0: A, B, F; 1: C, D (sold out from the start), E. Brands 0: A, B, E; 1: C, D, F. */
static const fw_product_info products[N_PRODUCTS] = {
    [P_A] = {.brand = 0, .category = 0, .price_cents = 1000, .stock = 5},
    [P_B] = {.brand = 0, .category = 0, .price_cents = 2500, .stock = 1},
    [P_C] = {.brand = 1, .category = 1, .price_cents = 4000, .stock = 3},
    [P_D] = {.brand = 1, .category = 1, .price_cents = 999, .stock = 0},
    [P_E] = {.brand = 0, .category = 1, .price_cents = 1500, .stock = 10},
    [P_F] = {.brand = 1, .category = 0, .price_cents = 500, .stock = 2},
};

/* The small catalog's notes: topic and the product each shows. */
#define N_NOTES 6u
static const uint16_t note_topic[N_NOTES] = {0, 1, 0, 1, 1, 0};
static const uint32_t note_shows[N_NOTES] = {P_A, P_C, FW_NONE, FW_NONE, P_E, FW_NONE};

static fw_note_info note_info(uint32_t id, uint32_t topic)
{
    return (fw_note_info){.creator = id % N_USERS, .topic = (uint16_t)topic,
                          .format = FW_FORMAT_IMAGE, .created_tick = -100};
}

static fw_engine *build_notes(const fw_note_info *notes, const uint32_t *shows, uint32_t n_notes,
                              const fw_engine_cfg *cfgs, uint32_t n_arms)
{
    fw_catalog cat = {.n_users = N_USERS, .n_topics = N_TOPICS, .ticks_per_day = TPD,
                      .n_notes = n_notes, .notes = notes, .n_brands = N_BRANDS,
                      .n_products = N_PRODUCTS, .products = products, .note_products = shows};
    fw_err err = FW_OK;
    fw_engine *e = fw_engine_create(&cat, cfgs, n_arms, &err);
    assert_int_equal(err, FW_OK);
    assert_non_null(e);
    return e;
}

/* The small catalog under cfgs[0..n_arms). */
static fw_engine *build(const fw_engine_cfg *cfgs, uint32_t n_arms)
{
    fw_note_info notes[N_NOTES];
    for (uint32_t i = 0; i < N_NOTES; i++)
        notes[i] = note_info(i, note_topic[i]);
    return build_notes(notes, note_shows, N_NOTES, cfgs, n_arms);
}

/* Defaults with payments that never fail, fixed lifecycle times and exact cards. */
static fw_engine_cfg shop_cfg(void)
{
    fw_engine_cfg cfg = fixture_engine_cfg();
    cfg.shop.payment_fail_rate = 0.0;
    cfg.shop.payment_retries = 2;
    cfg.shop.ship_hours = 12.0;
    cfg.shop.delivery_days_min = cfg.shop.delivery_days_max = 2;
    cfg.shop.return_days = 3;
    cfg.shop.refund_hours = 6.0;
    cfg.shop.recognition_recall = 1.0;
    cfg.shop.recognition_precision = 1.0;
    return cfg;
}

/* The small catalog under shop_cfg() (one arm), in the rig. */
static fw_engine *open_shop(void **state, fw_engine_ctx **c)
{
    fw_engine_cfg cfg = shop_cfg();
    return fixture_rig_open(state, build(&cfg, 1), c);
}

/* ---- helpers ------------------------------------------------------------------------- */

static fw_order_req order_req(uint64_t rid, uint32_t user, uint32_t arm, uint32_t product, uint32_t qty,
                              int32_t tick)
{
    return (fw_order_req){.request_id = rid, .user = user, .arm = arm, .product = product,
                          .qty = qty, .tick = tick};
}

/* Places one order under arm 0. */
static fw_order_outcome place(fw_engine *e, fw_engine_ctx *c, uint64_t rid, uint32_t user,
                              uint32_t product, uint32_t qty, int32_t tick)
{
    fw_order_req q = order_req(rid, user, 0, product, qty, tick);
    fw_order_outcome out = {0, 0};
    assert_int_equal(fw_shop_place_orders(e, c, &q, 1, &out), FW_OK);
    return out;
}

/* Ends ticks from..to (inclusive), in order. */
static void end_ticks(fw_engine *e, fw_engine_ctx *c, int32_t from, int32_t to)
{
    for (int32_t t = from; t <= to; t++)
        assert_int_equal(fw_engine_end_tick(e, c, t), FW_OK);
}

static fw_order_info order_of(const fw_engine *e, uint32_t id)
{
    fw_order_info oi;
    assert_int_equal(fw_shop_order(e, id, &oi), FW_OK);
    return oi;
}

static uint32_t status_of(const fw_engine *e, uint32_t id)
{
    return order_of(e, id).status;
}

static fw_product_stock stock_of(const fw_engine *e, uint32_t product)
{
    fw_product_stock st;
    assert_int_equal(fw_shop_stock(e, product, &st), FW_OK);
    return st;
}

static void assert_stock(const fw_engine *e, uint32_t product, uint64_t available, uint64_t reserved,
                         uint64_t sold)
{
    fw_product_stock st = stock_of(e, product);
    assert_int_equal(st.available, available);
    assert_int_equal(st.reserved, reserved);
    assert_int_equal(st.sold, sold);
}

static size_t n_changes(const fw_engine *e)
{
    size_t n = 0;
    fw_shop_changes(e, &n);
    return n;
}

static void assert_change(const fw_order_change *ch, uint32_t order, uint32_t kind, int32_t tick)
{
    assert_int_equal(ch->order, order);
    assert_int_equal(ch->kind, kind);
    assert_int_equal(ch->tick, tick);
}

/* fw_shop_check passes and the totals satisfy the header's identities; per-brand revenue and
 * units summed over arms give net GMV and units sold. */
static void assert_books(const fw_engine *e, uint32_t n_arms)
{
    fixture_assert_check(fw_shop_check, "fw_shop_check", e);
    fw_shop_totals t = fw_shop_total(e);
    assert_int_equal(t.units_available + t.units_reserved + t.units_sold, t.units_initial + t.units_restocked);
    assert_int_equal(t.gmv_cents, t.paid_cents - t.refunded_cents);
    assert_true(t.refunded_cents >= 0 && t.refunded_cents <= t.paid_cents);
    int64_t units = 0, revenue = 0;
    for (uint32_t b = 0; b < N_BRANDS; b++)
        for (uint32_t a = 0; a < n_arms; a++) {
            int64_t u = 0, r = 0;
            assert_int_equal(fw_shop_brand_sales(e, b, a, &u, &r), FW_OK);
            units += u;
            revenue += r;
        }
    assert_int_equal(revenue, t.gmv_cents);
    assert_int_equal(units, (int64_t)t.units_sold);
    for (uint32_t p = 0; p < N_PRODUCTS; p++) {
        fw_product_stock st = stock_of(e, p);
        assert_int_equal(st.available + st.reserved + st.sold, st.initial + st.restocked);
        assert_true(st.available <= st.initial + st.restocked);   /* never "negative" */
    }
}

static uint32_t shop_page(fw_engine *e, fw_engine_ctx *c, uint32_t user, uint32_t arm, int32_t tick,
                          uint32_t *out, uint32_t cap)
{
    fw_shop_req q = {.user = user, .arm = arm, .tick = tick};
    return fw_shop_request(e, c, &q, out, cap);
}

/* A page is at most min(cap, page_size) long, has no duplicates and only products in stock. */
static void assert_page_sane(const fw_engine *e, const uint32_t *page, uint32_t n, uint32_t limit)
{
    assert_true(n <= limit);
    for (uint32_t i = 0; i < n; i++) {
        assert_true(page[i] < N_PRODUCTS);
        assert_false(fixture_has(page, i, page[i]));
        assert_true(stock_of(e, page[i]).available > 0);
    }
}

/* A deterministic scramble for building scenarios (not the engine's). */
static uint32_t scramble(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
}

/* ---- 1. the lifecycle ------------------------------------------------------------------ */

static void test_lifecycle(void **state)
{
    fw_engine_ctx *c;
    fw_engine *e = open_shop(state, &c);
    const int32_t t = 5, shipped = t + SHIP, delivered = shipped + DELIVERY;
    end_ticks(e, c, 0, t - 1);

    fw_order_outcome o = place(e, c, 101, 1, P_A, 2, t);
    assert_int_equal(o.result, FW_ORDER_OK);
    assert_int_equal(o.order, 0);
    assert_int_equal(fw_shop_n_orders(e), 1);
    fw_order_info oi = order_of(e, 0);
    assert_int_equal(oi.request_id, 101);
    assert_int_equal(oi.user, 1);
    assert_int_equal(oi.arm, 0);
    assert_int_equal(oi.product, P_A);
    assert_int_equal(oi.qty, 2);
    assert_int_equal(oi.value_cents, 2000);
    assert_int_equal(oi.status, FW_ORDER_PAID);
    assert_int_equal(oi.pay_attempts, 1);
    assert_int_equal(oi.created_tick, t);
    assert_int_equal(oi.paid_tick, t);
    assert_int_equal(oi.delivered_tick, -1);
    assert_stock(e, P_A, 3, 0, 2);
    fw_shop_totals tot = fw_shop_total(e);
    assert_int_equal(tot.paid_cents, 2000);
    assert_int_equal(tot.gmv_cents, 2000);
    assert_int_equal(tot.orders, 1);
    assert_int_equal(tot.paid_orders, 1);

    /* Shipped ship_hours after payment, not a tick earlier. */
    end_ticks(e, c, t, shipped - 1);
    assert_int_equal(status_of(e, 0), FW_ORDER_PAID);
    end_ticks(e, c, shipped, shipped);
    assert_int_equal(status_of(e, 0), FW_ORDER_SHIPPED);
    /* Delivered delivery_days later. */
    end_ticks(e, c, shipped + 1, delivered - 1);
    assert_int_equal(status_of(e, 0), FW_ORDER_SHIPPED);
    assert_int_equal(order_of(e, 0).delivered_tick, -1);
    end_ticks(e, c, delivered, delivered);
    oi = order_of(e, 0);
    assert_int_equal(oi.status, FW_ORDER_DELIVERED);
    assert_int_equal(oi.delivered_tick, delivered);
    /* The return window closes; the order stays delivered and can no longer be returned. */
    end_ticks(e, c, delivered + 1, delivered + WINDOW + 5);
    assert_int_equal(status_of(e, 0), FW_ORDER_DELIVERED);
    assert_int_equal(fw_shop_request_return(e, 0, 1, delivered + WINDOW + 5), FW_ERR_INVAL);
    assert_int_equal(status_of(e, 0), FW_ORDER_DELIVERED);
    assert_string_equal(fw_order_status_name(FW_ORDER_DELIVERED), "delivered");

    size_t n = 0;
    const fw_order_change *ch = fw_shop_changes(e, &n);
    assert_int_equal(n, 4);
    assert_change(&ch[0], 0, FW_OC_CREATED, t);
    assert_change(&ch[1], 0, FW_OC_PAID, t);
    assert_change(&ch[2], 0, FW_OC_SHIPPED, shipped);
    assert_change(&ch[3], 0, FW_OC_DELIVERED, delivered);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(ch[i].user, 1);
        assert_int_equal(ch[i].arm, 0);
        assert_int_equal(ch[i].product, P_A);
        assert_int_equal(ch[i].value_cents, 2000);
    }
    fw_shop_clear_changes(e);
    assert_int_equal(n_changes(e), 0);
    end_ticks(e, c, delivered + WINDOW + 6, delivered + WINDOW + 30);
    assert_int_equal(n_changes(e), 0);

    tot = fw_shop_total(e);
    assert_int_equal(tot.paid_cents, 2000);
    assert_int_equal(tot.refunded_cents, 0);
    assert_int_equal(tot.gmv_cents, 2000);
    assert_stock(e, P_A, 3, 0, 2);
    assert_books(e, 1);
}

/* ---- 2. returns and refunds -------------------------------------------------------------- */

static void test_returns_and_refunds(void **state)
{
    fw_engine_ctx *c;
    fw_engine *e = open_shop(state, &c);
    /* Orders 0 (user 1, 2 C = 8000), 1 (user 2, 1 E = 1500), 2 (user 3, 1 A = 1000), all at
     * tick 0: shipped at 12, delivered at 60, returnable through 60 + 72 = 132. */
    fw_order_req q[3] = {order_req(1, 1, 0, P_C, 2, 0), order_req(2, 2, 0, P_E, 1, 0),
                         order_req(3, 3, 0, P_A, 1, 0)};
    fw_order_outcome out[3];
    assert_int_equal(fw_shop_place_orders(e, c, q, 3, out), FW_OK);
    for (uint32_t i = 0; i < 3; i++) {
        assert_int_equal(out[i].result, FW_ORDER_OK);
        assert_int_equal(out[i].order, i);
    }
    const int32_t d = SHIP + DELIVERY;
    end_ticks(e, c, 0, d - 1);
    /* Not delivered yet: rejected, nothing changes. */
    size_t n0 = n_changes(e);
    assert_int_equal(status_of(e, 0), FW_ORDER_SHIPPED);
    assert_int_equal(fw_shop_request_return(e, 0, 1, d - 1), FW_ERR_INVAL);
    assert_int_equal(status_of(e, 0), FW_ORDER_SHIPPED);
    assert_int_equal(n_changes(e), n0);
    end_ticks(e, c, d, d);
    for (uint32_t i = 0; i < 3; i++)
        assert_int_equal(status_of(e, i), FW_ORDER_DELIVERED);

    /* Another user's return, an unknown order, a tick before delivery: rejected. */
    n0 = n_changes(e);
    assert_int_equal(fw_shop_request_return(e, 0, 2, d + 1), FW_ERR_INVAL);
    assert_int_equal(fw_shop_request_return(e, 99, 1, d + 1), FW_ERR_INVAL);
    assert_int_equal(fw_shop_request_return(e, 0, 1, d - 1), FW_ERR_INVAL);
    assert_int_equal(status_of(e, 0), FW_ORDER_DELIVERED);
    assert_int_equal(n_changes(e), n0);
    fw_shop_totals tot = fw_shop_total(e);
    assert_int_equal(tot.paid_cents, 9500 + 1000);
    assert_int_equal(tot.refunded_cents, 0);

    /* The buyer's return within the window: returned now, refunded refund_hours later. */
    const int32_t r = d + 10;
    end_ticks(e, c, d + 1, r - 1);
    assert_int_equal(fw_shop_request_return(e, 0, 1, r), FW_OK);
    assert_int_equal(status_of(e, 0), FW_ORDER_RETURNED);
    size_t n = 0;
    const fw_order_change *ch = fw_shop_changes(e, &n);
    assert_int_equal(n, n0 + 1);
    assert_change(&ch[n - 1], 0, FW_OC_RETURNED, r);
    assert_int_equal(ch[n - 1].value_cents, 8000);
    assert_stock(e, P_C, 1, 0, 2);   /* units come back with the refund, not before */
    end_ticks(e, c, r, r + REFUND - 1);
    assert_int_equal(status_of(e, 0), FW_ORDER_RETURNED);
    assert_int_equal(fw_shop_total(e).refunded_cents, 0);
    end_ticks(e, c, r + REFUND, r + REFUND);
    assert_int_equal(status_of(e, 0), FW_ORDER_REFUNDED);
    ch = fw_shop_changes(e, &n);
    assert_change(&ch[n - 1], 0, FW_OC_REFUNDED, r + REFUND);
    assert_int_equal(ch[n - 1].value_cents, 8000);
    assert_stock(e, P_C, 3, 0, 0);
    tot = fw_shop_total(e);
    assert_int_equal(tot.paid_cents, 10500);   /* payments are never undone */
    assert_int_equal(tot.refunded_cents, 8000);
    assert_int_equal(tot.gmv_cents, 2500);
    assert_int_equal(tot.refunded_orders, 1);
    /* A refunded order cannot be returned again. */
    assert_int_equal(fw_shop_request_return(e, 0, 1, r + REFUND + 1), FW_ERR_INVAL);
    assert_int_equal(status_of(e, 0), FW_ORDER_REFUNDED);

    /* The window's last tick is inside it (order 2); the tick after is not (order 1). */
    const int32_t last = d + WINDOW;
    end_ticks(e, c, r + REFUND + 1, last - 1);
    assert_int_equal(fw_shop_request_return(e, 2, 3, last), FW_OK);
    assert_int_equal(status_of(e, 2), FW_ORDER_RETURNED);
    n0 = n_changes(e);
    assert_int_equal(fw_shop_request_return(e, 1, 2, last + 1), FW_ERR_INVAL);
    assert_int_equal(status_of(e, 1), FW_ORDER_DELIVERED);
    assert_int_equal(n_changes(e), n0);
    end_ticks(e, c, last, last + REFUND + 30);
    assert_int_equal(status_of(e, 1), FW_ORDER_DELIVERED);
    assert_int_equal(status_of(e, 2), FW_ORDER_REFUNDED);
    assert_int_equal(fw_shop_request_return(e, 1, 2, last + REFUND + 30), FW_ERR_INVAL);

    tot = fw_shop_total(e);
    assert_int_equal(tot.paid_cents, 10500);
    assert_int_equal(tot.refunded_cents, 9000);
    assert_int_equal(tot.gmv_cents, 1500);
    assert_stock(e, P_A, 5, 0, 0);
    assert_stock(e, P_E, 9, 0, 1);
    int64_t units = 0, rev = 0;
    assert_int_equal(fw_shop_brand_sales(e, 1, 0, &units, &rev), FW_OK);   /* C: refunded */
    assert_int_equal(units, 0);
    assert_int_equal(rev, 0);
    assert_int_equal(fw_shop_brand_sales(e, 0, 0, &units, &rev), FW_OK);   /* E kept, A refunded */
    assert_int_equal(units, 1);
    assert_int_equal(rev, 1500);
    assert_books(e, 1);
}

/* ---- 3. payment failures and retries ------------------------------------------------------ */

static void test_payment_failure_and_retries(void **state)
{
    /* Arm 0 retries twice, arm 1 not at all; every attempt fails on both. */
    fw_engine_cfg cfgs[2] = {shop_cfg(), shop_cfg()};
    cfgs[0].shop.payment_fail_rate = 1.0;
    cfgs[0].shop.payment_retries = 2;
    cfgs[1].shop.payment_fail_rate = 1.0;
    cfgs[1].shop.payment_retries = 0;
    fw_engine_ctx *c;
    fw_engine *e = fixture_rig_open(state, build(cfgs, 2), &c);
    const int32_t t = 10;
    end_ticks(e, c, 0, t - 1);
    fw_order_req q[2] = {order_req(201, 1, 0, P_A, 2, t), order_req(202, 2, 1, P_E, 3, t)};
    fw_order_outcome out[2];
    assert_int_equal(fw_shop_place_orders(e, c, q, 2, out), FW_OK);
    assert_int_equal(out[0].result, FW_ORDER_OK);   /* created; the payment is what failed */
    assert_int_equal(out[1].result, FW_ORDER_OK);
    fw_order_info oi = order_of(e, out[0].order);
    assert_int_equal(oi.status, FW_ORDER_CREATED);
    assert_int_equal(oi.pay_attempts, 1);
    assert_int_equal(oi.paid_tick, -1);
    assert_stock(e, P_A, 3, 2, 0);   /* reserved while payment is pending */
    /* Without retries: cancelled at once, units released. */
    oi = order_of(e, out[1].order);
    assert_int_equal(oi.status, FW_ORDER_CANCELLED);
    assert_int_equal(oi.pay_attempts, 1);
    assert_stock(e, P_E, 10, 0, 0);
    size_t n = 0;
    const fw_order_change *ch = fw_shop_changes(e, &n);
    assert_int_equal(n, 5);
    assert_change(&ch[0], out[0].order, FW_OC_CREATED, t);
    assert_change(&ch[1], out[0].order, FW_OC_PAY_FAILED, t);
    assert_change(&ch[2], out[1].order, FW_OC_CREATED, t);
    assert_change(&ch[3], out[1].order, FW_OC_PAY_FAILED, t);
    assert_change(&ch[4], out[1].order, FW_OC_CANCELLED, t);
    fw_shop_clear_changes(e);
    /* Units held by a pending order are not available to others. */
    assert_int_equal(place(e, c, 203, 3, P_A, 4, t).result, FW_ORDER_NO_STOCK);

    /* Retries at the following ticks' ends, one per tick; cancelled after the last. */
    end_ticks(e, c, t, t);
    assert_int_equal(order_of(e, out[0].order).pay_attempts, 1);
    end_ticks(e, c, t + 1, t + 1);
    oi = order_of(e, out[0].order);
    assert_int_equal(oi.status, FW_ORDER_CREATED);
    assert_int_equal(oi.pay_attempts, 2);
    assert_stock(e, P_A, 3, 2, 0);
    end_ticks(e, c, t + 2, t + 2);
    oi = order_of(e, out[0].order);
    assert_int_equal(oi.status, FW_ORDER_CANCELLED);
    assert_int_equal(oi.pay_attempts, 3);
    assert_int_equal(oi.paid_tick, -1);
    assert_stock(e, P_A, 5, 0, 0);
    ch = fw_shop_changes(e, &n);
    assert_int_equal(n, 3);
    assert_change(&ch[0], out[0].order, FW_OC_PAY_FAILED, t + 1);
    assert_change(&ch[1], out[0].order, FW_OC_PAY_FAILED, t + 2);
    assert_change(&ch[2], out[0].order, FW_OC_CANCELLED, t + 2);
    /* Nothing more ever happens to a cancelled order. */
    end_ticks(e, c, t + 3, t + 60);
    assert_int_equal(n_changes(e), 3);
    assert_int_equal(status_of(e, out[0].order), FW_ORDER_CANCELLED);
    fw_shop_totals tot = fw_shop_total(e);
    assert_int_equal(tot.paid_cents, 0);
    assert_int_equal(tot.gmv_cents, 0);
    assert_int_equal(tot.paid_orders, 0);
    assert_int_equal(tot.cancelled_orders, 2);
    assert_int_equal(tot.units_available, tot.units_initial);
    assert_books(e, 2);

    /* Rate 0 never fails; rate 0.5 (no retries) fails about half the orders. */
    cfgs[0] = shop_cfg();
    cfgs[0].shop.payment_fail_rate = 0.0;
    cfgs[0].shop.payment_retries = 0;
    cfgs[1] = cfgs[0];
    cfgs[1].shop.payment_fail_rate = 0.5;
    e = fixture_rig_open(state, build(cfgs, 2), &c);
    enum { N = 200 };
    assert_int_equal(fw_shop_restock(e, P_E, 2 * N, 0), FW_OK);
    fw_order_req many[2 * N];
    fw_order_outcome res[2 * N];
    for (uint32_t k = 0; k < 2 * N; k++)
        many[k] = order_req(1000 + k, k % N_USERS, k < N ? 0 : 1, P_E, 1, 0);
    assert_int_equal(fw_shop_place_orders(e, c, many, 2 * N, res), FW_OK);
    uint32_t cancelled = 0;
    for (uint32_t k = 0; k < 2 * N; k++) {
        assert_int_equal(res[k].result, FW_ORDER_OK);
        oi = order_of(e, res[k].order);
        assert_int_equal(oi.pay_attempts, 1);
        if (k < N)
            assert_int_equal(oi.status, FW_ORDER_PAID);
        else
            cancelled += oi.status == FW_ORDER_CANCELLED;
    }
    assert_true(cancelled > N / 2 - 30 && cancelled < N / 2 + 30);
    ch = fw_shop_changes(e, &n);
    for (size_t i = 0; i < n; i++)
        if (ch[i].kind == FW_OC_PAY_FAILED)
            assert_int_equal(ch[i].arm, 1);
    assert_int_equal(fw_shop_total(e).paid_orders, 2 * N - cancelled);
    assert_books(e, 2);
}

/* ---- 4. idempotency ----------------------------------------------------------------------- */

static void test_idempotency(void **state)
{
    fw_engine_ctx *c;
    fw_engine *e = open_shop(state, &c);
    /* The same request twice in one batch. */
    fw_order_req q[2] = {order_req(7, 1, 0, P_A, 2, 3), order_req(7, 1, 0, P_A, 2, 3)};
    fw_order_outcome out[2];
    assert_int_equal(fw_shop_place_orders(e, c, q, 2, out), FW_OK);
    assert_int_equal(out[0].result, FW_ORDER_OK);
    assert_int_equal(out[1].result, FW_ORDER_DUPLICATE);
    assert_int_equal(out[1].order, out[0].order);
    assert_int_equal(fw_shop_n_orders(e), 1);
    assert_stock(e, P_A, 3, 0, 2);

    /* Again in a later batch (whatever the rest of the request says), next to a new one. */
    fw_order_req q2[2] = {order_req(7, 2, 0, P_E, 1, 4), order_req(8, 2, 0, P_E, 1, 4)};
    assert_int_equal(fw_shop_place_orders(e, c, q2, 2, out), FW_OK);
    assert_int_equal(out[0].result, FW_ORDER_DUPLICATE);
    assert_int_equal(out[0].order, 0);
    assert_int_equal(out[1].result, FW_ORDER_OK);
    assert_int_equal(out[1].order, 1);
    assert_int_equal(fw_shop_n_orders(e), 2);
    assert_stock(e, P_A, 3, 0, 2);
    assert_stock(e, P_E, 9, 0, 1);

    /* Within a batch the first served is the earliest (tick, user), not the first given. */
    fw_order_req q3[2] = {order_req(9, 2, 0, P_F, 1, 6), order_req(9, 1, 0, P_F, 2, 5)};
    assert_int_equal(fw_shop_place_orders(e, c, q3, 2, out), FW_OK);
    assert_int_equal(out[1].result, FW_ORDER_OK);
    assert_int_equal(out[0].result, FW_ORDER_DUPLICATE);
    assert_int_equal(out[0].order, out[1].order);
    assert_int_equal(order_of(e, out[1].order).user, 1);
    assert_stock(e, P_F, 0, 0, 2);

    /* One CREATED and one PAID per order in the log; every request counted as work. */
    size_t n = 0;
    const fw_order_change *ch = fw_shop_changes(e, &n);
    uint32_t created[3] = {0}, paid[3] = {0};
    for (size_t i = 0; i < n; i++) {
        assert_true(ch[i].order < 3);
        created[ch[i].order] += ch[i].kind == FW_OC_CREATED;
        paid[ch[i].order] += ch[i].kind == FW_OC_PAID;
    }
    for (uint32_t i = 0; i < 3; i++) {
        assert_int_equal(created[i], 1);
        assert_int_equal(paid[i], 1);
    }
    assert_int_equal(fw_shop_total(e).paid_cents, 2000 + 1500 + 1000);
    assert_int_equal(fw_engine_ctx_work(c, FW_WORK_ORDERS_PLACED), 6);
    assert_int_equal(fw_engine_ctx_latency(c, FW_STAGE_SHOP_CHECKOUT)->total, 3);
    assert_books(e, 1);
}

/* ---- 5. contention ------------------------------------------------------------------------ */

static void test_contention(void **state)
{
    fw_engine_ctx *c;
    fw_engine *e = open_shop(state, &c);
    /* B has one unit. Same tick, given in reverse user order: the lower user id gets it. */
    fw_order_req q[2] = {order_req(21, 3, 0, P_B, 1, 8), order_req(22, 1, 0, P_B, 1, 8)};
    fw_order_outcome out[2];
    assert_int_equal(fw_shop_place_orders(e, c, q, 2, out), FW_OK);
    assert_int_equal(out[1].result, FW_ORDER_OK);
    assert_int_equal(order_of(e, out[1].order).user, 1);
    assert_int_equal(out[0].result, FW_ORDER_NO_STOCK);
    assert_int_equal(out[0].order, FW_NONE);
    assert_int_equal(fw_shop_n_orders(e), 1);
    assert_stock(e, P_B, 0, 0, 1);

    /* One more unit; different ticks: the earlier tick wins though its user id is higher. */
    assert_int_equal(fw_shop_restock(e, P_B, 1, 9), FW_OK);
    fw_order_req q2[2] = {order_req(31, 0, 0, P_B, 1, 10), order_req(32, 3, 0, P_B, 1, 9)};
    assert_int_equal(fw_shop_place_orders(e, c, q2, 2, out), FW_OK);
    assert_int_equal(out[1].result, FW_ORDER_OK);
    assert_int_equal(order_of(e, out[1].order).user, 3);
    assert_int_equal(out[0].result, FW_ORDER_NO_STOCK);
    assert_stock(e, P_B, 0, 0, 2);

    /* Quantities: more than available is refused whole; exactly what is left is served. */
    assert_int_equal(place(e, c, 41, 2, P_F, 3, 11).result, FW_ORDER_NO_STOCK);
    assert_int_equal(place(e, c, 42, 2, P_F, 2, 11).result, FW_ORDER_OK);
    assert_int_equal(place(e, c, 43, 0, P_F, 1, 11).result, FW_ORDER_NO_STOCK);
    assert_int_equal(place(e, c, 44, 0, P_D, 1, 11).result, FW_ORDER_NO_STOCK);
    assert_stock(e, P_F, 0, 0, 2);
    assert_stock(e, P_D, 0, 0, 0);

    /* Many buyers for few units in one batch: exactly the stock is sold, in (tick, user) order. */
    enum { N = 12 };
    assert_int_equal(fw_shop_restock(e, P_C, 2, 12), FW_OK);   /* 5 units */
    fw_order_req many[N];
    fw_order_outcome res[N];
    for (uint32_t k = 0; k < N; k++)   /* ticks 20..17 cycling, users reversed */
        many[k] = order_req(500 + k, N_USERS - 1 - k % N_USERS, 0, P_C, 1, 20 - (int32_t)(k / N_USERS));
    assert_int_equal(fw_shop_place_orders(e, c, many, N, res), FW_OK);
    uint32_t ok = 0;
    for (uint32_t k = 0; k < N; k++) {
        if (res[k].result == FW_ORDER_OK) {
            ok++;
            /* Served: every request of an earlier tick, and lower users at the same tick. */
            for (uint32_t j = 0; j < N; j++)
                if (many[j].tick < many[k].tick ||
                    (many[j].tick == many[k].tick && many[j].user < many[k].user))
                    assert_int_equal(res[j].result, FW_ORDER_OK);
        } else {
            assert_int_equal(res[k].result, FW_ORDER_NO_STOCK);
        }
    }
    assert_int_equal(ok, 5);
    assert_stock(e, P_C, 0, 0, 5);
    assert_books(e, 1);
}

/* ---- bad requests --------------------------------------------------------------------------- */

static void test_bad_requests(void **state)
{
    fw_engine_cfg cfg = shop_cfg();
    fw_engine_ctx *c;
    fw_engine *e = fixture_rig_open(state, build(&cfg, 1), &c);
    fw_order_req q[5] = {order_req(1, N_USERS, 0, P_A, 1, 0), order_req(2, 0, 0, N_PRODUCTS, 1, 0),
                         order_req(3, 0, 1, P_A, 1, 0), order_req(4, 0, 0, P_A, 0, 0),
                         order_req(5, 0, 0, P_A, 1, 0)};
    fw_order_outcome out[5];
    assert_int_equal(fw_shop_place_orders(e, c, q, 5, out), FW_OK);
    for (uint32_t i = 0; i < 4; i++) {
        assert_int_equal(out[i].result, FW_ORDER_BAD);
        assert_int_equal(out[i].order, FW_NONE);
    }
    assert_int_equal(out[4].result, FW_ORDER_OK);
    assert_int_equal(fw_shop_n_orders(e), 1);
    assert_stock(e, P_A, 4, 0, 1);

    fw_order_info oi;
    fw_product_stock st;
    int64_t units = 0, rev = 0;
    assert_int_equal(fw_shop_order(e, 1, &oi), FW_ERR_INVAL);
    assert_int_equal(fw_shop_stock(e, N_PRODUCTS, &st), FW_ERR_INVAL);
    assert_int_equal(fw_shop_restock(e, N_PRODUCTS, 5, 0), FW_ERR_INVAL);
    assert_int_equal(fw_shop_brand_sales(e, N_BRANDS, 0, &units, &rev), FW_ERR_INVAL);
    assert_int_equal(fw_shop_brand_sales(e, 0, 1, &units, &rev), FW_ERR_INVAL);
    assert_int_equal(fw_shop_total(e).units_restocked, 0);
    assert_books(e, 1);

    /* A catalog the shop cannot sell from is refused at creation. */
    fw_product_info bad = {.brand = 0, .category = N_TOPICS, .price_cents = 100, .stock = 1};
    fw_catalog cat = {.n_users = N_USERS, .n_topics = N_TOPICS, .ticks_per_day = TPD,
                      .n_brands = N_BRANDS, .n_products = 1, .products = &bad};
    fw_err err = FW_OK;
    assert_null(fw_engine_create(&cat, &cfg, 1, &err));
    assert_int_equal(err, FW_ERR_INVAL);
    bad = (fw_product_info){.brand = 0, .category = 0, .price_cents = 0, .stock = 1};
    assert_null(fw_engine_create(&cat, &cfg, 1, &err));
    assert_int_equal(err, FW_ERR_INVAL);
}

/* The books cannot overflow (see booked in engine/src/shop.c): a price above
 * FW_PRICE_MAX_CENTS is refused at creation, and an order whose value, or whose value beside
 * every order booked so far, would pass int64 cents fails the call and leaves the books as
 * they were; the orders before it are paid to the cent. */
static void test_books_cannot_overflow(void **state)
{
    fw_engine_cfg cfg = shop_cfg();
    const int64_t P = FW_PRICE_MAX_CENTS;
    fw_product_info dear[2] = {{.brand = 0, .category = 0, .price_cents = P + 1, .stock = UINT32_MAX},
                               {.brand = 1, .category = 1, .price_cents = 1, .stock = 10}};
    fw_note_info notes[N_NOTES];
    uint32_t shows[N_NOTES];
    for (uint32_t i = 0; i < N_NOTES; i++) {
        notes[i] = note_info(i, note_topic[i]);
        shows[i] = FW_NONE;
    }
    fw_catalog cat = {.n_users = N_USERS, .n_topics = N_TOPICS, .ticks_per_day = TPD, .n_notes = N_NOTES,
                      .notes = notes, .n_brands = N_BRANDS, .n_products = 2, .products = dear, .note_products = shows};
    fw_err err = FW_OK;
    assert_null(fw_engine_create(&cat, &cfg, 1, &err));
    assert_int_equal(err, FW_ERR_INVAL);
    dear[0].price_cents = P;
    fw_engine *e = fw_engine_create(&cat, &cfg, 1, &err);
    assert_non_null(e);
    fw_engine_ctx *c;
    fixture_rig_open(state, e, &c);

    /* A price times a quantity past int64. */
    fw_order_req q = order_req(1, 0, 0, 0, UINT32_MAX, 0);
    fw_order_outcome out;
    assert_int_equal(fw_shop_place_orders(e, c, &q, 1, &out), FW_ERR_RANGE);
    assert_int_equal(out.order, FW_NONE);
    assert_non_null(strstr(fw_engine_error(e), "world.price_median_cents"));
    assert_int_equal(fw_shop_n_orders(e), 0);
    assert_stock(e, 0, UINT32_MAX, 0, 0);

    /* 9223 units fit (9.223e18 cents, paid at once); one more unit does not. */
    q = order_req(2, 0, 0, 0, 9223, 0);
    assert_int_equal(fw_shop_place_orders(e, c, &q, 1, &out), FW_OK);
    assert_int_equal(out.result, FW_ORDER_OK);
    assert_int_equal(fw_shop_total(e).paid_cents, 9223 * P);
    q = order_req(3, 1, 0, 0, 1, 0);
    assert_int_equal(fw_shop_place_orders(e, c, &q, 1, &out), FW_ERR_RANGE);
    assert_int_equal(out.order, FW_NONE);
    assert_int_equal(fw_shop_n_orders(e), 1);
    assert_stock(e, 0, UINT32_MAX - 9223, 0, 9223);
    /* What is left of the room still takes a cheap order. */
    q = order_req(4, 1, 0, 1, 7, 0);
    assert_int_equal(fw_shop_place_orders(e, c, &q, 1, &out), FW_OK);
    assert_int_equal(out.result, FW_ORDER_OK);
    fw_shop_totals t = fw_shop_total(e);
    assert_int_equal(t.paid_cents, 9223 * P + 7);
    assert_int_equal(t.gmv_cents, 9223 * P + 7);
    int64_t units = 0, rev = 0;
    assert_int_equal(fw_shop_brand_sales(e, 0, 0, &units, &rev), FW_OK);
    assert_int_equal(units, 9223);
    assert_int_equal(rev, 9223 * P);
    assert_int_equal(fw_shop_brand_sales(e, 1, 0, &units, &rev), FW_OK);
    assert_int_equal(units, 7);
    assert_int_equal(rev, 7);
    fixture_assert_check(fw_shop_check, "fw_shop_check", e);
}

/* ---- 6. invariants after a mixed run ------------------------------------------------------ */

static void test_invariants_mixed(void **state)
{
    /* Arm 0 always pays; arm 1 fails 40% of attempts with one retry. Short lifecycle times so
     * many orders go all the way through in six days. */
    fw_engine_cfg cfgs[2] = {shop_cfg(), shop_cfg()};
    for (uint32_t a = 0; a < 2; a++) {
        cfgs[a].shop.ship_hours = 2.0;
        cfgs[a].shop.delivery_days_min = 0;
        cfgs[a].shop.delivery_days_max = 2;
        cfgs[a].shop.return_days = 1;
        cfgs[a].shop.refund_hours = 3.0;
    }
    cfgs[1].shop.payment_fail_rate = 0.4;
    cfgs[1].shop.payment_retries = 1;
    fw_engine_ctx *c;
    fw_engine *e = fixture_rig_open(state, build(cfgs, 2), &c);
    enum { DAYS = 6, PER_TICK = 3, MAX_ORDERS = DAYS * TPD * (PER_TICK + 1) };
    static uint8_t returned[MAX_ORDERS];
    memset(returned, 0, sizeof returned);
    uint32_t seen[4] = {0};   /* outcomes by fw_order_result */
    for (int32_t t = 0; t < (int32_t)(DAYS * TPD); t++) {
        fw_order_req q[PER_TICK + 1];
        fw_order_outcome out[PER_TICK + 1];
        uint32_t n = 0;
        for (uint32_t k = 0; k < PER_TICK; k++) {
            uint32_t h = scramble((uint32_t)t * PER_TICK + k);
            uint32_t user = h % N_USERS;
            q[n++] = order_req((uint64_t)t * PER_TICK + k, user, user % 2, (h >> 8) % N_PRODUCTS,
                               1 + (h >> 16) % 2, t);
        }
        if (t % 7 == 6)   /* a client retrying the previous tick's first request */
            q[n++] = order_req((uint64_t)(t - 1) * PER_TICK, 0, 0, P_A, 1, t);
        assert_int_equal(fw_shop_place_orders(e, c, q, n, out), FW_OK);
        for (uint32_t k = 0; k < n; k++) {
            assert_true(out[k].result <= FW_ORDER_BAD);
            seen[out[k].result]++;
        }
        if (t % 4 == 0)
            assert_int_equal(fw_shop_restock(e, (uint32_t)(t / 4) % N_PRODUCTS, 3, t), FW_OK);
        /* Every third delivered order is returned by its buyer; someone else's try fails. */
        for (uint32_t id = 0; id < fw_shop_n_orders(e); id++) {
            assert_true(id < MAX_ORDERS);
            fw_order_info oi = order_of(e, id);
            if (oi.status != FW_ORDER_DELIVERED || returned[id])
                continue;
            if (id % 3 == 0) {
                assert_int_equal(fw_shop_request_return(e, id, (oi.user + 1) % N_USERS, t), FW_ERR_INVAL);
                assert_int_equal(fw_shop_request_return(e, id, oi.user, t), FW_OK);
                returned[id] = 1;
            }
        }
        assert_int_equal(fw_engine_end_tick(e, c, t), FW_OK);
        if ((uint32_t)(t + 1) % TPD == 0)
            assert_int_equal(fw_engine_end_day(e, c, (uint32_t)t / TPD), FW_OK);
        assert_books(e, 2);
    }
    /* The run exercised every path. */
    fw_shop_totals tot = fw_shop_total(e);
    assert_true(seen[FW_ORDER_OK] > 0 && seen[FW_ORDER_NO_STOCK] > 0 && seen[FW_ORDER_DUPLICATE] > 0);
    assert_int_equal(seen[FW_ORDER_BAD], 0);
    assert_true(tot.paid_orders > 0 && tot.refunded_orders > 0 && tot.cancelled_orders > 0);
    assert_true(tot.units_restocked > 0 && tot.refunded_cents > 0);
    assert_int_equal(tot.orders, seen[FW_ORDER_OK]);
    /* The change log agrees with the books. */
    size_t n = 0;
    const fw_order_change *ch = fw_shop_changes(e, &n);
    int64_t paid = 0, refunded = 0;
    uint64_t n_created = 0, n_paid = 0, n_refunded = 0, n_cancelled = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            assert_true(ch[i].tick >= ch[i - 1].tick);   /* in the order it happened */
        switch (ch[i].kind) {
        case FW_OC_CREATED: n_created++; break;
        case FW_OC_PAID: n_paid++; paid += ch[i].value_cents; break;
        case FW_OC_REFUNDED: n_refunded++; refunded += ch[i].value_cents; break;
        case FW_OC_CANCELLED: n_cancelled++; break;
        default: break;
        }
    }
    assert_int_equal(n_created, tot.orders);
    assert_int_equal(n_paid, tot.paid_orders);
    assert_int_equal(n_refunded, tot.refunded_orders);
    assert_int_equal(n_cancelled, tot.cancelled_orders);
    assert_int_equal(paid, tot.paid_cents);
    assert_int_equal(refunded, tot.refunded_cents);
}

/* ---- 7. product cards ---------------------------------------------------------------------- */

static void test_cards_exact_and_attach(void **state)
{
    /* Arm 0 recognises perfectly; arm 1 not at all. */
    fw_engine_cfg cfgs[2] = {shop_cfg(), shop_cfg()};
    cfgs[1].shop.recognition_recall = 0.0;
    fw_engine_ctx *c;
    fw_engine *e = fixture_rig_open(state, build(cfgs, 2), &c);
    for (uint32_t note = 0; note < N_NOTES; note++) {
        assert_int_equal(fw_shop_card(e, note, 0), note_shows[note]);
        assert_int_equal(fw_shop_card(e, note, 0), fw_shop_card(e, note, 0));
        assert_int_equal(fw_shop_card(e, note, 1), FW_NONE);
    }
    assert_int_equal(fw_shop_card(e, N_NOTES, 0), FW_NONE);   /* unknown note */
    assert_int_equal(fw_shop_card(e, 0, 2), FW_NONE);         /* unknown arm */

    /* A published note gets its card through fw_shop_attach, and loses it the same way. */
    fw_note_info ni = note_info(N_NOTES, 1);
    uint32_t id = FW_NONE;
    assert_int_equal(fw_engine_publish(e, c, &ni, &id), FW_OK);
    assert_int_equal(id, N_NOTES);
    assert_int_equal(fw_shop_card(e, id, 0), FW_NONE);
    assert_int_equal(fw_shop_attach(e, id, P_E), FW_OK);
    assert_int_equal(fw_shop_card(e, id, 0), P_E);
    assert_int_equal(fw_shop_card(e, id, 1), FW_NONE);
    assert_int_equal(fw_shop_attach(e, 2, P_F), FW_OK);   /* a catalog note, re-attached */
    assert_int_equal(fw_shop_card(e, 2, 0), P_F);
    assert_int_equal(fw_shop_attach(e, id, FW_NONE), FW_OK);
    assert_int_equal(fw_shop_card(e, id, 0), FW_NONE);
    /* Bad note or product: refused, nothing changes. */
    assert_int_equal(fw_shop_attach(e, id + 1, P_A), FW_ERR_INVAL);
    assert_int_equal(fw_shop_attach(e, 2, N_PRODUCTS), FW_ERR_INVAL);
    assert_int_equal(fw_shop_card(e, 2, 0), P_F);
    assert_int_equal(fw_shop_card(e, id + 1, 0), FW_NONE);
}

static void test_cards_measured(void **state)
{
    (void)state;
    /* 4000 notes alternating topics in pairs; the even ones show a product of their topic
     * (2000 showing: one standard deviation of the measured recall is about 1 point). */
    enum { N = 4000 };
    static const uint32_t by_cat[N_TOPICS][3] = {{P_A, P_B, P_F}, {P_C, P_D, P_E}};
    fw_note_info *notes = malloc(N * sizeof *notes);
    uint32_t *shows = malloc(N * sizeof *shows);
    assert_non_null(notes);
    assert_non_null(shows);
    for (uint32_t i = 0; i < N; i++) {
        uint32_t topic = (i >> 1) & 1;
        notes[i] = note_info(i, topic);
        shows[i] = i % 2 == 0 ? by_cat[topic][(i >> 2) % 3] : FW_NONE;
    }
    const double recall[2] = {0.8, 0.5}, precision[2] = {0.9, 0.6};
    fw_engine_cfg cfgs[2] = {shop_cfg(), shop_cfg()};
    for (uint32_t a = 0; a < 2; a++) {
        cfgs[a].shop.recognition_recall = recall[a];
        cfgs[a].shop.recognition_precision = precision[a];
    }
    fw_engine *e = build_notes(notes, shows, N, cfgs, 2);
    fw_engine *e2 = build_notes(notes, shows, N, cfgs, 2);   /* the same catalog again */
    for (uint32_t a = 0; a < 2; a++) {
        uint32_t showing = 0, right = 0, cards = 0;
        for (uint32_t i = 0; i < N; i++) {
            uint32_t card = fw_shop_card(e, i, a);
            assert_int_equal(card, fw_shop_card(e, i, a));
            assert_int_equal(card, fw_shop_card(e2, i, a));
            showing += shows[i] != FW_NONE;
            if (card == FW_NONE)
                continue;
            cards++;
            assert_true(card < N_PRODUCTS);
            if (card == shows[i])
                right++;
            else   /* a wrong card: a product of the note's topic, on a note showing none */
                assert_true(shows[i] == FW_NONE && products[card].category == notes[i].topic);
        }
        double r = (double)right / showing, p = (double)right / cards;
        print_message("arm %u: recall %.3f (knob %.2f), precision %.3f (knob %.2f)\n", a, r, recall[a], p,
                      precision[a]);
        assert_true(fabs(r - recall[a]) < 0.03);
        assert_true(fabs(p - precision[a]) < 0.03);
    }
    fw_engine_destroy(e);
    fw_engine_destroy(e2);
    free(notes);
    free(shows);
}

/* ---- 8. carts ------------------------------------------------------------------------------ */

static fw_shop_event shop_ev(uint32_t user, uint32_t product, int32_t tick, uint32_t type)
{
    return (fw_shop_event){.user = user, .product = product, .tick = tick, .type = type};
}

static void assert_cart(const fw_engine *e, uint32_t user, const uint32_t *want, uint32_t n_want)
{
    uint32_t n = 99;
    const uint32_t *got = fw_shop_cart(e, user, &n);
    assert_int_equal(n, n_want);
    for (uint32_t i = 0; i < n; i++)
        assert_int_equal(got[i], want[i]);
}

static void test_carts(void **state)
{
    fw_engine_cfg cfg = shop_cfg();
    cfg.shop.cart_days = 2;
    cfg.shop.cart_cap = 3;
    fw_engine_ctx *c;
    fw_engine *e = fixture_rig_open(state, build(&cfg, 1), &c);
    fw_shop_event ev[4] = {shop_ev(1, P_A, 5, FW_SHOP_CART_ADD), shop_ev(1, P_C, 30, FW_SHOP_CART_ADD)};
    assert_int_equal(fw_shop_log(e, c, ev, 2), FW_OK);
    assert_cart(e, 1, (const uint32_t[]){P_A, P_C}, 2);
    assert_cart(e, 0, NULL, 0);

    /* Bad user, product and type are refused; the good event after them is applied. */
    ev[0] = shop_ev(N_USERS, P_A, 31, FW_SHOP_CART_ADD);
    ev[1] = shop_ev(1, N_PRODUCTS, 31, FW_SHOP_CART_ADD);
    ev[2] = shop_ev(1, P_B, 31, FW_SHOP_EV__COUNT);
    ev[3] = shop_ev(1, P_E, 31, FW_SHOP_CART_ADD);
    assert_int_equal(fw_shop_log(e, c, ev, 4), FW_ERR_INVAL);
    assert_cart(e, 1, (const uint32_t[]){P_A, P_C, P_E}, 3);
    uint32_t n = 99;
    assert_null(fw_shop_cart(e, N_USERS, &n));
    assert_int_equal(n, 0);

    /* Buying from the cart takes the product out; a refused order does not. */
    assert_int_equal(place(e, c, 1, 1, P_C, 1, 32).result, FW_ORDER_OK);
    assert_cart(e, 1, (const uint32_t[]){P_A, P_E}, 2);
    ev[0] = shop_ev(3, P_D, 32, FW_SHOP_CART_ADD);
    assert_int_equal(fw_shop_log(e, c, ev, 1), FW_OK);
    assert_int_equal(place(e, c, 2, 3, P_D, 1, 33).result, FW_ORDER_NO_STOCK);
    assert_cart(e, 3, (const uint32_t[]){P_D}, 1);
    /* Removing; re-adding makes it the newest. */
    ev[0] = shop_ev(1, P_E, 33, FW_SHOP_CART_REMOVE);
    ev[1] = shop_ev(1, P_E, 40, FW_SHOP_CART_ADD);
    assert_int_equal(fw_shop_log(e, c, ev, 1), FW_OK);
    assert_cart(e, 1, (const uint32_t[]){P_A}, 1);
    assert_int_equal(fw_shop_log(e, c, &ev[1], 1), FW_OK);
    assert_cart(e, 1, (const uint32_t[]){P_A, P_E}, 2);

    /* cart_days = 2: an item stays through the end of the day after the one it was added on
     * and is dropped at the end of the next (A at tick 5, day 0; E at tick 40, day 1). */
    assert_int_equal(fw_engine_end_day(e, c, 0), FW_OK);
    assert_int_equal(fw_engine_end_day(e, c, 1), FW_OK);
    assert_cart(e, 1, (const uint32_t[]){P_A, P_E}, 2);
    assert_int_equal(fw_engine_end_day(e, c, 2), FW_OK);
    assert_cart(e, 1, (const uint32_t[]){P_E}, 1);
    assert_int_equal(fw_engine_end_day(e, c, 3), FW_OK);
    assert_cart(e, 1, NULL, 0);
    assert_cart(e, 3, NULL, 0);

    /* cart_cap = 3: a fourth product drops the oldest; re-adding one drops nothing. */
    const int32_t t = 4 * (int32_t)TPD;
    fw_shop_event adds[4] = {shop_ev(2, P_A, t, FW_SHOP_CART_ADD), shop_ev(2, P_B, t + 1, FW_SHOP_CART_ADD),
                             shop_ev(2, P_C, t + 2, FW_SHOP_CART_ADD), shop_ev(2, P_E, t + 3, FW_SHOP_CART_ADD)};
    assert_int_equal(fw_shop_log(e, c, adds, 4), FW_OK);
    assert_cart(e, 2, (const uint32_t[]){P_B, P_C, P_E}, 3);
    adds[0] = shop_ev(2, P_B, t + 4, FW_SHOP_CART_ADD);
    assert_int_equal(fw_shop_log(e, c, adds, 1), FW_OK);
    assert_cart(e, 2, (const uint32_t[]){P_C, P_E, P_B}, 3);
    adds[0] = shop_ev(2, P_F, t + 5, FW_SHOP_CART_ADD);
    assert_int_equal(fw_shop_log(e, c, adds, 1), FW_OK);
    assert_cart(e, 2, (const uint32_t[]){P_E, P_B, P_F}, 3);
    assert_books(e, 1);
}

/* ---- 9. the shop tab -------------------------------------------------------------------------- */

/* Arms: 0 unified (page 10), 1 separate (page 10), 2 unified with a 3-product page. */
static fw_engine *build_tab(void)
{
    fw_engine_cfg cfgs[3] = {shop_cfg(), shop_cfg(), shop_cfg()};
    cfgs[0].shop.profile = FW_PROFILE_UNIFIED;
    cfgs[1].shop.profile = FW_PROFILE_SEPARATE;
    cfgs[2].shop.profile = FW_PROFILE_UNIFIED;
    cfgs[2].shop.page_size = 3;
    /* Community signals count as much as transactions here, so that one reader's profile
     * bonus (w_profile x share 1) outranks a few views of popularity. */
    for (int a = 0; a < 3; a++)
        cfgs[a].shop.community_weight = 1.0;
    return build(cfgs, 3);
}

static void test_shop_tab_pages(void **state)
{
    fw_engine_ctx *c;
    fw_engine *e = fixture_rig_open(state, build_tab(), &c);
    uint32_t page[PAGE_MAX], n;
    /* Nobody has a profile: the overall best sellers, every product in stock (D is not),
     * equal popularity broken by id. */
    n = shop_page(e, c, 3, 0, 0, page, PAGE_MAX);
    fixture_assert_page(page, n, (const uint32_t[]){P_A, P_B, P_C, P_E, P_F}, 5);
    assert_page_sane(e, page, n, 10);
    n = shop_page(e, c, 3, 2, 0, page, PAGE_MAX);   /* page_size 3 */
    fixture_assert_page(page, n, (const uint32_t[]){P_A, P_B, P_C}, 3);
    n = shop_page(e, c, 3, 0, 0, page, 2);          /* cap 2 */
    fixture_assert_page(page, n, (const uint32_t[]){P_A, P_B}, 2);
    assert_int_equal(shop_page(e, c, N_USERS, 0, 0, page, PAGE_MAX), 0);   /* bad user */
    assert_int_equal(shop_page(e, c, 0, 3, 0, page, PAGE_MAX), 0);         /* bad arm */

    /* Views in category 1 put category 1 first, under either profile. */
    fw_shop_event ev = shop_ev(2, P_E, 0, FW_SHOP_VIEW);
    assert_int_equal(fw_shop_log(e, c, &ev, 1), FW_OK);
    for (uint32_t arm = 0; arm < 2; arm++) {
        n = shop_page(e, c, 2, arm, 0, page, PAGE_MAX);
        assert_int_equal(n, 5);
        assert_page_sane(e, page, n, 10);
        assert_int_equal(products[page[0]].category, 1);
        assert_int_equal(products[page[1]].category, 1);
        for (uint32_t i = 2; i < n; i++)
            assert_int_equal(products[page[i]].category, 0);
    }

    /* Best sellers are refreshed at the tick's end, not per event: F's views count from then. */
    fw_shop_event views[5];
    for (uint32_t k = 0; k < 5; k++)
        views[k] = shop_ev(0, P_F, 0, FW_SHOP_VIEW);
    assert_int_equal(fw_shop_log(e, c, views, 5), FW_OK);
    n = shop_page(e, c, 3, 0, 0, page, PAGE_MAX);
    fixture_assert_page(page, n, (const uint32_t[]){P_A, P_B, P_C, P_E, P_F}, 5);
    end_ticks(e, c, 0, 0);
    n = shop_page(e, c, 3, 0, 1, page, PAGE_MAX);   /* F 5 views, E 1, the rest 0 */
    fixture_assert_page(page, n, (const uint32_t[]){P_F, P_E, P_A, P_B, P_C}, 5);
    /* User 2's category-1 page now ranks E (viewed) over C. */
    n = shop_page(e, c, 2, 0, 1, page, PAGE_MAX);
    fixture_assert_page(page, n, (const uint32_t[]){P_E, P_C, P_F, P_A, P_B}, 5);

    /* A sold-out product leaves every page from the next refresh on. */
    assert_int_equal(place(e, c, 1, 1, P_B, 1, 1).result, FW_ORDER_OK);
    end_ticks(e, c, 1, 1);
    for (uint32_t u = 0; u < N_USERS; u++)
        for (uint32_t arm = 0; arm < 3; arm++) {
            n = shop_page(e, c, u, arm, 2, page, PAGE_MAX);
            assert_true(n > 0);
            assert_page_sane(e, page, n, arm == 2 ? 3 : 10);
            assert_false(fixture_has(page, n, P_B));
            assert_false(fixture_has(page, n, P_D));
        }
    uint64_t before = fw_engine_ctx_work(c, FW_WORK_SHOP_REQUESTS);
    shop_page(e, c, 0, 0, 2, page, PAGE_MAX);
    assert_int_equal(fw_engine_ctx_work(c, FW_WORK_SHOP_REQUESTS), before + 1);
}

static void test_shop_tab_profiles(void **state)
{
    fw_engine_ctx *c;
    fw_engine *e = fixture_rig_open(state, build_tab(), &c);
    uint32_t page[PAGE_MAX], best[PAGE_MAX], n, n_best;
    /* Category 0 sells best (views by user 0), refreshed at the tick's end. */
    fw_shop_event views[3] = {shop_ev(0, P_F, 0, FW_SHOP_VIEW), shop_ev(0, P_F, 0, FW_SHOP_VIEW),
                              shop_ev(0, P_A, 0, FW_SHOP_VIEW)};
    assert_int_equal(fw_shop_log(e, c, views, 3), FW_OK);
    end_ticks(e, c, 0, 0);
    n_best = shop_page(e, c, 3, 0, 1, best, PAGE_MAX);
    fixture_assert_page(best, n_best, (const uint32_t[]){P_F, P_A, P_B, P_C, P_E}, 5);

    /* User 3 only reads notes of topic 1 (community signals; impressions and follows are
     * not interest signals). */
    fw_event ev[4] = {{.user = 3, .note = 1, .tick = 1, .type = FW_EV_OPEN},
                      {.user = 3, .note = 3, .tick = 1, .type = FW_EV_OPEN},
                      {.user = 3, .note = 4, .tick = 1, .type = FW_EV_OPEN},
                      {.user = 3, .note = 0, .tick = 1, .type = FW_EV_IMPRESSION}};
    assert_int_equal(fw_engine_log_events(e, c, ev, 4), FW_OK);
    /* Unified: category 1 first (C and E: popularity 0 + the profile bonus 2, by id), then
     * the best sellers by popularity (F: log 3, A: log 2, B: 0). */
    n = shop_page(e, c, 3, 0, 1, page, PAGE_MAX);
    fixture_assert_page(page, n, (const uint32_t[]){P_C, P_E, P_F, P_A, P_B}, 5);
    /* Separate: the profile ignores community signals: the overall best sellers. */
    n = shop_page(e, c, 3, 1, 1, page, PAGE_MAX);
    fixture_assert_page(page, n, best, n_best);
    /* A transaction counts under both. */
    fw_shop_event v = shop_ev(3, P_E, 2, FW_SHOP_VIEW);
    assert_int_equal(fw_shop_log(e, c, &v, 1), FW_OK);
    n = shop_page(e, c, 3, 1, 2, page, PAGE_MAX);
    assert_int_equal(n, 5);
    assert_int_equal(products[page[0]].category, 1);
    assert_int_equal(products[page[1]].category, 1);
}

/* ---- 10. engine.shop.read_cards ------------------------------------------------------------ */

/* Arms: 0 unified, read_cards 2; 1 separate, read_cards 2; 2 unified, read_cards 0; 3 unified,
 * read_cards 1. */
static fw_engine *build_read_cards(void)
{
    fw_engine_cfg cfgs[4] = {shop_cfg(), shop_cfg(), shop_cfg(), shop_cfg()};
    const uint32_t rc[4] = {2, 2, 0, 1};
    for (uint32_t a = 0; a < 4; a++) {
        cfgs[a].shop.profile = a == 1 ? FW_PROFILE_SEPARATE : FW_PROFILE_UNIFIED;
        cfgs[a].shop.read_cards = rc[a];
    }
    return build(cfgs, 4);
}

/* User 0 shops in category 0 (carts and views of A, B, F): that is the strongest category of
 * the profile under either setting, whatever the community side adds. */
static void shop_in_category_0(fw_engine *e, fw_engine_ctx *c)
{
    fw_shop_event ev[5] = {shop_ev(0, P_A, 0, FW_SHOP_CART_ADD), shop_ev(0, P_B, 0, FW_SHOP_CART_ADD),
                           shop_ev(0, P_F, 0, FW_SHOP_CART_ADD), shop_ev(0, P_B, 0, FW_SHOP_VIEW),
                           shop_ev(0, P_F, 0, FW_SHOP_VIEW)};
    assert_int_equal(fw_shop_log(e, c, ev, 5), FW_OK);
    end_ticks(e, c, 0, 0);
}

/* Liked and saved notes with a card put their products first, newest first, up to
 * read_cards of them, under the unified profile only. */
static void test_read_cards_liked_and_saved_first(void **state)
{
    fw_engine_ctx *c;
    fw_engine *e = fixture_rig_open(state, build_read_cards(), &c);
    uint32_t page[PAGE_MAX], n;
    shop_in_category_0(e, c);
    for (uint32_t arm = 0; arm < 4; arm++) {
        n = shop_page(e, c, 0, arm, 1, page, PAGE_MAX);
        assert_int_equal(n, 5);
        assert_int_equal(products[page[0]].category, 0);
    }

    /* Likes note 4 (card E, category 1). */
    fixture_log(e, c, 0, 4, 2, FW_EV_LIKE);
    for (uint32_t arm = 0; arm < 4; arm++) {
        n = shop_page(e, c, 0, arm, 2, page, PAGE_MAX);
        assert_int_equal(n, 5);
        assert_page_sane(e, page, n, 10);
        assert_true(fixture_has(page, n, P_E));
        if (arm == 0 || arm == 3) {
            assert_int_equal(page[0], P_E);
            assert_int_equal(products[page[1]].category, 0);   /* then the profile */
        } else {   /* separate, or read_cards 0: the profile's category first */
            assert_int_equal(products[page[0]].category, 0);
        }
    }

    /* Saves note 1 (card C): the newest comes first. */
    fixture_log(e, c, 0, 1, 3, FW_EV_SAVE);
    n = shop_page(e, c, 0, 0, 3, page, PAGE_MAX);
    assert_int_equal(n, 5);
    assert_int_equal(page[0], P_C);
    assert_int_equal(page[1], P_E);
    assert_int_equal(products[page[2]].category, 0);
    n = shop_page(e, c, 0, 3, 3, page, PAGE_MAX);   /* read_cards 1: C only */
    assert_int_equal(page[0], P_C);
    assert_int_equal(products[page[1]].category, 0);
    for (uint32_t arm = 1; arm < 3; arm++) {
        n = shop_page(e, c, 0, arm, 3, page, PAGE_MAX);
        assert_int_equal(products[page[0]].category, 0);
    }

    /* Likes note 0 (card A): A and C open the page; E, third newest, is not forced in. */
    fixture_log(e, c, 0, 0, 4, FW_EV_LIKE);
    n = shop_page(e, c, 0, 0, 4, page, PAGE_MAX);
    assert_int_equal(n, 5);
    assert_int_equal(page[0], P_A);
    assert_int_equal(page[1], P_C);
    assert_int_equal(products[page[2]].category, 0);
    assert_int_not_equal(page[2], P_E);
    /* Liking an older note again makes it the newest, once. */
    fixture_log(e, c, 0, 4, 5, FW_EV_LIKE);
    n = shop_page(e, c, 0, 0, 5, page, PAGE_MAX);
    assert_int_equal(n, 5);
    assert_page_sane(e, page, n, 10);
    assert_int_equal(page[0], P_E);
    assert_int_equal(page[1], P_A);
    /* The separate profile never sees them. */
    n = shop_page(e, c, 0, 1, 5, page, PAGE_MAX);
    assert_int_equal(products[page[0]].category, 0);
    assert_int_not_equal(page[0], P_E);
    /* Another user's likes are theirs alone: user 1 has none, the overall best sellers. */
    uint32_t best[PAGE_MAX], n_best = shop_page(e, c, 1, 1, 5, best, PAGE_MAX);
    n = shop_page(e, c, 1, 0, 5, page, PAGE_MAX);
    fixture_assert_page(page, n, best, n_best);
}

/* Plain opens (from the feed or from search), comments and impressions of a note with a card
 * never put its product first; a like from search does. */
static void test_read_cards_not_from_opens(void **state)
{
    fw_engine_ctx *c;
    fw_engine *e = fixture_rig_open(state, build_read_cards(), &c);
    uint32_t page[PAGE_MAX], n;
    shop_in_category_0(e, c);
    fixture_log(e, c, 0, 4, 1, FW_EV_IMPRESSION);
    fixture_log(e, c, 0, 4, 1, FW_EV_OPEN);
    fixture_log(e, c, 0, 1, 1, FW_EV_OPEN | FW_EV_SEARCH);
    fixture_log(e, c, 0, 1, 1, FW_EV_COMMENT);
    fixture_log(e, c, 0, 4, 1, FW_EV_FOLLOW);
    for (uint32_t arm = 0; arm < 4; arm++) {
        n = shop_page(e, c, 0, arm, 1, page, PAGE_MAX);
        assert_int_equal(n, 5);
        assert_int_equal(products[page[0]].category, 0);
        assert_int_not_equal(page[0], P_E);
        assert_int_not_equal(page[0], P_C);
    }
    /* Likes of notes without a card (notes 2, 3: no product, exact recognition) add nothing. */
    fixture_log(e, c, 0, 2, 2, FW_EV_LIKE);
    fixture_log(e, c, 0, 3, 2, FW_EV_SAVE);
    n = shop_page(e, c, 0, 0, 2, page, PAGE_MAX);
    assert_int_equal(products[page[0]].category, 0);
    fixture_log(e, c, 0, 4, 3, FW_EV_LIKE | FW_EV_SEARCH);
    n = shop_page(e, c, 0, 0, 3, page, PAGE_MAX);
    assert_int_equal(page[0], P_E);
    assert_int_equal(products[page[1]].category, 0);
}

/* Sold-out products (and units held by orders awaiting payment) leave every page at once,
 * before the tick's end refreshes the best sellers: read cards, the profile's categories and
 * the overall best sellers all check stock now; the next read card fills the place. */
static void test_sold_out_never_on_page_mid_tick(void **state)
{
    fw_engine_cfg cfgs[4] = {shop_cfg(), shop_cfg(), shop_cfg(), shop_cfg()};
    cfgs[0].shop.read_cards = 2;
    cfgs[1].shop.profile = FW_PROFILE_SEPARATE;
    cfgs[2].shop.read_cards = 8;
    cfgs[3].shop.payment_fail_rate = 1.0;   /* its orders hold their units, then are cancelled */
    cfgs[3].shop.payment_retries = 1;
    fw_engine_ctx *c;
    fw_engine *e = fixture_rig_open(state, build(cfgs, 4), &c);
    uint32_t page[PAGE_MAX], n;
    /* User 1 liked E's note, then A's: A, E open the page. User 2 views category 0. */
    fixture_log(e, c, 1, 4, 0, FW_EV_LIKE);
    fixture_log(e, c, 1, 0, 0, FW_EV_LIKE);
    fw_shop_event v = shop_ev(2, P_B, 0, FW_SHOP_VIEW);
    assert_int_equal(fw_shop_log(e, c, &v, 1), FW_OK);
    end_ticks(e, c, 0, 0);
    n = shop_page(e, c, 1, 0, 1, page, PAGE_MAX);
    assert_int_equal(page[0], P_A);
    assert_int_equal(page[1], P_E);

    /* Tick 1: A sells out (5 units). Its read card is skipped (E, the next, comes first) and
     * nothing else changes: the page is one shorter. */
    assert_int_equal(place(e, c, 1, 3, P_A, 5, 1).result, FW_ORDER_OK);
    assert_stock(e, P_A, 0, 0, 5);
    for (uint32_t arm = 0; arm < 3; arm++)
        for (uint32_t u = 0; u < N_USERS; u++) {
            n = shop_page(e, c, u, arm, 1, page, PAGE_MAX);
            assert_int_equal(n, 4);   /* B, C, E, F */
            assert_page_sane(e, page, n, 10);
            assert_false(fixture_has(page, n, P_A));
        }
    n = shop_page(e, c, 1, 0, 1, page, PAGE_MAX);
    assert_int_equal(page[0], P_E);
    /* B (the best of category 0 for user 2) and F sell out; E sells out too. */
    fw_order_req q[3] = {order_req(2, 3, 0, P_B, 1, 1), order_req(3, 3, 0, P_F, 2, 1),
                         order_req(4, 3, 0, P_E, 10, 1)};
    fw_order_outcome out[3];
    assert_int_equal(fw_shop_place_orders(e, c, q, 3, out), FW_OK);
    for (uint32_t k = 0; k < 3; k++)
        assert_int_equal(out[k].result, FW_ORDER_OK);
    for (uint32_t arm = 0; arm < 3; arm++)
        for (uint32_t u = 0; u < N_USERS; u++) {
            n = shop_page(e, c, u, arm, 1, page, PAGE_MAX);
            fixture_assert_page(page, n, (const uint32_t[]){P_C}, 1);
        }
    /* C's units held by an order whose payment keeps failing (arm 3): nothing on sale. */
    fw_order_req qc = order_req(5, 3, 3, P_C, 3, 1);
    assert_int_equal(fw_shop_place_orders(e, c, &qc, 1, out), FW_OK);
    assert_int_equal(out[0].result, FW_ORDER_OK);
    assert_int_equal(status_of(e, out[0].order), FW_ORDER_CREATED);
    assert_stock(e, P_C, 0, 3, 0);
    for (uint32_t arm = 0; arm < 4; arm++)
        for (uint32_t u = 0; u < N_USERS; u++)
            assert_int_equal(shop_page(e, c, u, arm, 1, page, PAGE_MAX), 0);
    /* The retry at tick 2's end fails too: cancelled, C back on every page. */
    end_ticks(e, c, 1, 2);
    assert_int_equal(status_of(e, out[0].order), FW_ORDER_CANCELLED);
    assert_stock(e, P_C, 3, 0, 0);
    for (uint32_t arm = 0; arm < 4; arm++)
        for (uint32_t u = 0; u < N_USERS; u++) {
            n = shop_page(e, c, u, arm, 3, page, PAGE_MAX);
            fixture_assert_page(page, n, (const uint32_t[]){P_C}, 1);
        }
    assert_books(e, 4);
}

/* ---- known bugs: these fail against shop.c as it stands (see the helper's report) -------- */

/* A return whose tick is inside the window but that arrives after fw_engine_end_tick has
 * closed the window must be refused or else refunded refund_hours later. shop.c accepts it
 * (its window check looks at the tick only) although the order has left the open list, so the
 * order stays RETURNED for good: never refunded, units never back, fw_shop_check silent. */
static void test_late_return_is_not_stuck(void **state)
{
    fw_engine_ctx *c;
    fw_engine *e = open_shop(state, &c);
    assert_int_equal(place(e, c, 1, 1, P_A, 1, 0).result, FW_ORDER_OK);
    const int32_t d = SHIP + DELIVERY, last = d + WINDOW;
    end_ticks(e, c, 0, last + 1);   /* the window closes at the end of tick last + 1 */
    assert_int_equal(status_of(e, 0), FW_ORDER_DELIVERED);
    fw_err rc = fw_shop_request_return(e, 0, 1, last);
    end_ticks(e, c, last + 2, last + 2 + REFUND + (int32_t)TPD);
    if (rc == FW_OK) {
        assert_int_equal(status_of(e, 0), FW_ORDER_REFUNDED);
        assert_int_equal(fw_shop_total(e).refunded_cents, 1000);
    } else {
        assert_int_equal(rc, FW_ERR_INVAL);
        assert_int_equal(status_of(e, 0), FW_ORDER_DELIVERED);
    }
}

/* An event fw_engine_log refuses (here a type with unknown flag bits) must not feed the shop
 * profile. shop.c's fw_shop_on_events skips bad users and notes only, so it counts as an open. */
static void test_refused_events_leave_profile_alone(void **state)
{
    fw_engine_ctx *c;
    fw_engine *e = fixture_rig_open(state, build_tab(), &c);
    uint32_t page[PAGE_MAX], n;
    fw_event ev = {.user = 3, .note = 1, .tick = 0, .type = FW_EV_OPEN | 0x400u};
    assert_int_equal(fw_engine_log_events(e, c, &ev, 1), FW_ERR_INVAL);
    assert_int_equal(fw_engine_note_count(e, 1, FW_EV_OPEN), 0);
    n = shop_page(e, c, 3, 0, 0, page, PAGE_MAX);
    fixture_assert_page(page, n, (const uint32_t[]){P_A, P_B, P_C, P_E, P_F}, 5);
}

/* ---- cells: carts by their owner's arm, stock-outs owed to other arms --------------------- */

/* Users 0 and 1 in cell 0, 2 and 3 in cell 1. */
static fw_engine *build_cells(const fw_engine_cfg *cfgs)
{
    static const uint8_t cells[N_USERS] = {0, 0, 1, 1};
    fw_note_info notes[N_NOTES];
    for (uint32_t i = 0; i < N_NOTES; i++)
        notes[i] = note_info(i, note_topic[i]);
    fw_catalog cat = {.n_users = N_USERS, .n_topics = N_TOPICS, .ticks_per_day = TPD,
                      .n_notes = N_NOTES, .notes = notes, .n_brands = N_BRANDS,
                      .n_products = N_PRODUCTS, .products = products, .note_products = note_shows,
                      .user_cell = cells, .isolation = FW_ISOLATION_PER_ARM, .budget_split = 1};
    fw_err err = FW_OK;
    fw_engine *e = fw_engine_create(&cat, cfgs, 2, &err);
    assert_int_equal(err, FW_OK);
    assert_non_null(e);
    return e;
}

/* cart_cap and cart_days are each cart's owner's cell's. */
static void test_carts_per_cell(void **state)
{
    fw_engine_cfg cfgs[2] = {shop_cfg(), shop_cfg()};
    cfgs[0].shop.cart_cap = 3;
    cfgs[0].shop.cart_days = 7;
    cfgs[1].shop.cart_cap = 1;
    cfgs[1].shop.cart_days = 1;
    fw_engine_ctx *c;
    fw_engine *e = fixture_rig_open(state, build_cells(cfgs), &c);
    for (uint32_t u = 1; u <= 2; u++) {
        fw_shop_event ev[2] = {shop_ev(u, P_A, 5, FW_SHOP_CART_ADD), shop_ev(u, P_C, 6, FW_SHOP_CART_ADD)};
        assert_int_equal(fw_shop_log(e, c, ev, 2), FW_OK);
    }
    assert_cart(e, 1, (const uint32_t[]){P_A, P_C}, 2);   /* cell 0: room for 3 */
    assert_cart(e, 2, (const uint32_t[]){P_C}, 1);        /* cell 1: room for 1 */
    /* An item stays through the end of the day after the one it was added on under
     * cart_days = 2 (test_carts); under 1, through the end of its own day. */
    assert_int_equal(fw_engine_end_day(e, c, 0), FW_OK);
    assert_cart(e, 2, (const uint32_t[]){P_C}, 1);
    assert_int_equal(fw_engine_end_day(e, c, 1), FW_OK);
    assert_cart(e, 1, (const uint32_t[]){P_A, P_C}, 2);   /* 7 days */
    assert_cart(e, 2, NULL, 0);                           /* 1 day */
}

/* A request refused for no stock counts for its cell as lost to the other cells when the
 * units they reserved today would have covered it; a stock-out of the cell's own making does
 * not; the count starts over each day. */
static void test_stockouts_from_other_cells(void **state)
{
    fw_engine_cfg cfgs[2] = {shop_cfg(), shop_cfg()};
    fw_engine_ctx *c;
    fw_engine *e = fixture_rig_open(state, build_cells(cfgs), &c);
    uint64_t orders, units;
    int64_t value;
    /* C has 3 units: cell 1 (user 2) takes 2, cell 0 (user 0) 1; then a request of cell 0
     * for 2 fails: 0 left + 2 taken by cell 1 today >= 2, lost to the other arm. */
    fw_order_req q[3] = {order_req(1, 2, 1, P_C, 2, 3), order_req(2, 0, 0, P_C, 1, 3), order_req(3, 1, 0, P_C, 2, 4)};
    fw_order_outcome out[3];
    assert_int_equal(fw_shop_place_orders(e, c, q, 3, out), FW_OK);
    assert_int_equal(out[0].result, FW_ORDER_OK);
    assert_int_equal(out[1].result, FW_ORDER_OK);
    assert_int_equal(out[2].result, FW_ORDER_NO_STOCK);
    assert_int_equal(fw_shop_cell_stockouts(e, 0, &orders, &units, &value), FW_OK);
    assert_int_equal(orders, 1);
    assert_int_equal(units, 2);
    assert_int_equal(value, 8000);
    /* Cell 1 asking for 2 more: only 1 unit was cell 0's today, so it is not owed to it. */
    fw_order_req q2 = order_req(4, 3, 1, P_C, 2, 5);
    assert_int_equal(fw_shop_place_orders(e, c, &q2, 1, out), FW_OK);
    assert_int_equal(out[0].result, FW_ORDER_NO_STOCK);
    assert_int_equal(fw_shop_cell_stockouts(e, 1, &orders, &units, &value), FW_OK);
    assert_int_equal(orders, 0);
    /* Sold out from the start (D): nobody's doing. */
    fw_order_req q3 = order_req(5, 0, 0, P_D, 1, 6);
    assert_int_equal(fw_shop_place_orders(e, c, &q3, 1, out), FW_OK);
    assert_int_equal(fw_shop_cell_stockouts(e, 0, &orders, &units, &value), FW_OK);
    assert_int_equal(orders, 1);
    /* A new day: yesterday's purchases by cell 1 no longer count. */
    assert_int_equal(fw_engine_end_day(e, c, 0), FW_OK);
    fw_order_req q4 = order_req(6, 1, 0, P_C, 1, (int32_t)TPD + 1);
    assert_int_equal(fw_shop_place_orders(e, c, &q4, 1, out), FW_OK);
    assert_int_equal(out[0].result, FW_ORDER_NO_STOCK);
    assert_int_equal(fw_shop_cell_stockouts(e, 0, &orders, &units, &value), FW_OK);
    assert_int_equal(orders, 1);
    assert_int_equal(fw_shop_cell_stockouts(e, 2, &orders, &units, &value), FW_ERR_INVAL);
    assert_books(e, 2);
}

/* ---- coupons ------------------------------------------------------------------------- */

/* Coupon 0: the platform's, 300 off orders of at least 1000 (budget 1000); coupon 1: brand 1's,
 * 10% off its products at any value (budget 10000). Claimable at ticks [0, 10 days), usable
 * for one day after the claim, by every cell. */
static fw_coupon_def coupon_fixed(int64_t off, int64_t threshold, int64_t budget)
{
    return (fw_coupon_def){.issuer = FW_COUPON_PLATFORM, .kind = FW_COUPON_FIXED, .off_cents = off,
                           .threshold_cents = threshold, .budget_cents = budget, .claim_from = 0,
                           .claim_until = 10 * (int32_t)TPD, .valid_ticks = (int32_t)TPD, .cells = ~UINT64_C(0)};
}

static fw_coupon_def coupon_brand_pct(uint32_t brand, double pct, int64_t budget)
{
    return (fw_coupon_def){.issuer = FW_COUPON_BRAND, .brand = brand, .kind = FW_COUPON_PERCENT, .percent = pct,
                           .budget_cents = budget, .claim_from = 0, .claim_until = 10 * (int32_t)TPD,
                           .valid_ticks = (int32_t)TPD, .cells = ~UINT64_C(0)};
}

static fw_err claim_on(fw_engine *e, fw_engine_ctx *c, uint32_t user, uint32_t coupon, uint32_t product, int32_t tick)
{
    fw_shop_event ev = {.user = user, .product = product, .tick = tick, .type = FW_SHOP_COUPON_CLAIM,
                        .coupon = coupon};
    return fw_shop_log(e, c, &ev, 1);
}

static fw_coupon_books books_of(const fw_engine *e, uint32_t coupon)
{
    fw_coupon_books b;
    assert_int_equal(fw_shop_coupon_books(e, coupon, &b), FW_OK);
    return b;
}

/* The last coupon change is kind for user (and order). */
static void assert_last_cc(const fw_engine *e, uint32_t kind, uint32_t user, uint32_t order, int64_t cents)
{
    size_t n = 0;
    const fw_coupon_change *cc = fw_shop_coupon_changes(e, &n);
    assert_true(n > 0);
    assert_int_equal(cc[n - 1].kind, kind);
    assert_int_equal(cc[n - 1].user, user);
    assert_int_equal(cc[n - 1].order, order);
    assert_int_equal(cc[n - 1].cents, cents);
}

static void test_coupon_claim_and_redeem(void **state)
{
    fw_engine_ctx *c;
    fw_engine *e = open_shop(state, &c);
    fw_coupon_def d[2] = {coupon_fixed(300, 1000, 1000), coupon_brand_pct(1, 10.0, 10000)};
    assert_int_equal(fw_shop_coupons_define(e, d, 2), FW_OK);
    assert_int_equal(fw_shop_n_coupons(e), 2);
    int64_t off = -1;
    /* Nothing held yet: no discount. */
    assert_int_equal(fw_shop_coupon_best(e, 0, P_A, 1, &off), FW_NONE);
    assert_int_equal(off, 0);
    /* The brand's coupon is claimable on its own products only. */
    assert_true(fw_shop_coupon_claimable(e, 0, 0, P_A, 1));
    assert_false(fw_shop_coupon_claimable(e, 0, 1, P_A, 1));
    assert_true(fw_shop_coupon_claimable(e, 0, 1, P_C, 1));
    assert_int_equal(claim_on(e, c, 0, 0, P_A, 1), FW_OK);
    assert_last_cc(e, FW_CC_CLAIMED, 0, FW_NONE, 0);
    assert_false(fw_shop_coupon_claimable(e, 0, 0, P_A, 2));   /* once per user */
    assert_int_equal(claim_on(e, c, 0, 0, P_A, 2), FW_OK);      /* a second claim is refused */
    assert_last_cc(e, FW_CC_REFUSED, 0, FW_NONE, 0);
    assert_int_equal(books_of(e, 0).claims, 1);
    /* Below the threshold (F costs 500) it does not apply; A (1000) takes 300. */
    assert_int_equal(fw_shop_coupon_best(e, 0, P_F, 2, &off), FW_NONE);
    assert_int_equal(fw_shop_coupon_face(e, 0, P_F), 0);
    assert_int_equal(fw_shop_coupon_best(e, 0, P_A, 2, &off), 0);
    assert_int_equal(off, 300);
    fw_order_outcome o = place(e, c, 1, 0, P_A, 1, 2);
    assert_int_equal(o.result, FW_ORDER_OK);
    fw_order_info oi = order_of(e, o.order);
    assert_int_equal(oi.status, FW_ORDER_PAID);
    assert_int_equal(oi.value_cents, 1000);   /* GMV counts the order's value */
    assert_int_equal(oi.coupon, 0);
    assert_int_equal(oi.discount_cents, 300);
    assert_last_cc(e, FW_CC_REDEEMED, 0, o.order, 300);
    fw_coupon_books b = books_of(e, 0);
    assert_int_equal(b.applied, 1);
    assert_int_equal(b.redeemed, 1);
    assert_int_equal(b.held_cents, 0);
    assert_int_equal(b.redeemed_cents, 300);
    assert_int_equal(fw_shop_coupon_cost(e, FW_COUPON_PLATFORM), 300);
    assert_int_equal(fw_shop_total(e).gmv_cents, 1000);
    /* Used: the next order pays full price. */
    o = place(e, c, 2, 0, P_A, 1, 3);
    assert_int_equal(order_of(e, o.order).coupon, FW_NONE);
    assert_int_equal(order_of(e, o.order).discount_cents, 0);
    /* The brand's 10% on 2 C (8000): 800, paid by the brand. */
    assert_int_equal(claim_on(e, c, 1, 1, P_C, 4), FW_OK);
    o = place(e, c, 3, 1, P_C, 2, 5);
    assert_int_equal(order_of(e, o.order).discount_cents, 800);
    assert_int_equal(fw_shop_coupon_cost(e, FW_COUPON_BRAND), 800);
    assert_int_equal(fw_shop_coupon_cost(e, FW_COUPON_PLATFORM), 300);
    assert_books(e, 1);
}

/* A claim is usable for valid_ticks; unused, it expires at the end of the day it runs out. */
static void test_coupon_expiry(void **state)
{
    fw_engine_ctx *c;
    fw_engine *e = open_shop(state, &c);
    fw_coupon_def d = coupon_fixed(300, 1000, 1000);
    assert_int_equal(fw_shop_coupons_define(e, &d, 1), FW_OK);
    assert_int_equal(claim_on(e, c, 2, 0, P_A, 5), FW_OK);   /* usable at ticks < 29 */
    int64_t off;
    assert_int_equal(fw_shop_coupon_best(e, 2, P_A, 28, &off), 0);
    assert_int_equal(fw_shop_coupon_best(e, 2, P_A, 29, &off), FW_NONE);
    end_ticks(e, c, 0, (int32_t)TPD - 1);   /* day 0 ends: still valid */
    assert_int_equal(books_of(e, 0).expired, 0);
    fw_shop_clear_coupon_changes(e);
    end_ticks(e, c, (int32_t)TPD, 2 * (int32_t)TPD - 1);   /* day 1 ends: expired */
    size_t n_cc = 0;
    fw_shop_coupon_changes(e, &n_cc);
    assert_int_equal(n_cc, 1);
    assert_int_equal(books_of(e, 0).expired, 1);
    assert_last_cc(e, FW_CC_EXPIRED, 2, FW_NONE, 0);
    /* An order after expiry pays full price; the user cannot claim it again. */
    fw_order_outcome o = place(e, c, 1, 2, P_A, 1, 2 * (int32_t)TPD);
    assert_int_equal(order_of(e, o.order).coupon, FW_NONE);
    assert_false(fw_shop_coupon_claimable(e, 2, 0, P_A, 2 * (int32_t)TPD));
    /* Outside its claim window nobody can claim it. */
    assert_false(fw_shop_coupon_claimable(e, 3, 0, P_A, 10 * (int32_t)TPD));
    assert_true(fw_shop_coupon_claimable(e, 3, 0, P_A, 10 * (int32_t)TPD - 1));
    assert_books(e, 1);
}

/* A budget of 700 covers two 300 coupons: the third is not handed out, and a claim made
 * before the budget ran out is not applied when its face value no longer fits. */
static void test_coupon_budget_exhaustion(void **state)
{
    fw_engine_ctx *c;
    fw_engine *e = open_shop(state, &c);
    fw_coupon_def d = coupon_fixed(300, 1000, 700);
    assert_int_equal(fw_shop_coupons_define(e, &d, 1), FW_OK);
    for (uint32_t u = 0; u < 3; u++)
        assert_int_equal(claim_on(e, c, u, 0, P_E, 1), FW_OK);
    assert_int_equal(books_of(e, 0).claims, 3);
    assert_int_equal(order_of(e, place(e, c, 1, 0, P_E, 1, 2).order).discount_cents, 300);
    assert_int_equal(order_of(e, place(e, c, 2, 1, P_E, 1, 2).order).discount_cents, 300);
    fw_coupon_books b = books_of(e, 0);
    assert_int_equal(b.redeemed_cents, 600);
    /* 100 left: user 3 cannot claim it, user 2's claim is not applied. */
    assert_false(fw_shop_coupon_claimable(e, 3, 0, P_E, 3));
    assert_int_equal(claim_on(e, c, 3, 0, P_E, 3), FW_OK);
    assert_last_cc(e, FW_CC_REFUSED, 3, FW_NONE, 0);
    int64_t off;
    assert_int_equal(fw_shop_coupon_best(e, 2, P_E, 3, &off), FW_NONE);
    fw_order_outcome o = place(e, c, 3, 2, P_E, 1, 3);
    assert_int_equal(o.result, FW_ORDER_OK);
    assert_int_equal(order_of(e, o.order).coupon, FW_NONE);
    b = books_of(e, 0);
    assert_int_equal(b.claims, 3);
    assert_int_equal(b.redeemed, 2);
    assert_true(b.held_cents + b.redeemed_cents <= b.budget_cents);
    assert_int_equal(fw_shop_coupon_cost(e, FW_COUPON_PLATFORM), 600);
    assert_books(e, 1);
}

/* A cancelled order releases its coupon (usable again); a refunded one gives its face value
 * back to the budget and the issuer's cost, and the claim stays used. */
static void test_coupon_cancel_and_refund(void **state)
{
    fw_engine_cfg cfg = shop_cfg();
    cfg.shop.payment_fail_rate = 1.0;
    cfg.shop.payment_retries = 0;
    fw_engine_ctx *c;
    fw_engine *e = fixture_rig_open(state, build(&cfg, 1), &c);
    fw_coupon_def d = coupon_fixed(300, 1000, 1000);
    assert_int_equal(fw_shop_coupons_define(e, &d, 1), FW_OK);
    assert_int_equal(claim_on(e, c, 1, 0, P_A, 0), FW_OK);
    fw_order_outcome o = place(e, c, 1, 1, P_A, 1, 1);
    assert_int_equal(status_of(e, o.order), FW_ORDER_CANCELLED);
    assert_last_cc(e, FW_CC_RELEASED, 1, o.order, 300);
    fw_coupon_books b = books_of(e, 0);
    assert_int_equal(b.applied, 1);
    assert_int_equal(b.released, 1);
    assert_int_equal(b.held_cents + b.redeemed_cents, 0);
    int64_t off;
    assert_int_equal(fw_shop_coupon_best(e, 1, P_A, 2, &off), 0);
    assert_books(e, 1);
    fixture_rig_close(*state);

    e = open_shop(state, &c);
    assert_int_equal(fw_shop_coupons_define(e, &d, 1), FW_OK);
    assert_int_equal(claim_on(e, c, 1, 0, P_A, 0), FW_OK);
    o = place(e, c, 1, 1, P_A, 1, 0);
    assert_int_equal(fw_shop_coupon_cost(e, FW_COUPON_PLATFORM), 300);
    const int32_t dl = SHIP + DELIVERY;
    end_ticks(e, c, 0, dl);
    assert_int_equal(fw_shop_request_return(e, o.order, 1, dl + 1), FW_OK);
    end_ticks(e, c, dl + 1, dl + 1 + REFUND);
    assert_int_equal(status_of(e, o.order), FW_ORDER_REFUNDED);
    b = books_of(e, 0);
    assert_int_equal(b.refunded, 1);
    assert_int_equal(b.redeemed_cents, 0);
    assert_int_equal(fw_shop_coupon_cost(e, FW_COUPON_PLATFORM), 0);
    assert_int_equal(fw_shop_coupon_best(e, 1, P_A, dl + 2, &off), FW_NONE);   /* used */
    fw_shop_totals t = fw_shop_total(e);
    assert_int_equal(t.gmv_cents, t.paid_cents - t.refunded_cents);
    assert_int_equal(t.gmv_cents, 0);
    assert_books(e, 1);
}

/* A sale prices new orders below list; a percentage coupon takes its share of the sale price. */
static void test_sale_and_percent_coupon(void **state)
{
    fw_engine_ctx *c;
    fw_engine *e = open_shop(state, &c);
    fw_coupon_def d = coupon_brand_pct(0, 15.0, 100000);
    assert_int_equal(fw_shop_coupons_define(e, &d, 1), FW_OK);
    assert_int_equal(fw_shop_set_sale(e, 100.0), FW_ERR_INVAL);
    assert_int_equal(fw_shop_set_sale(e, -1.0), FW_ERR_INVAL);
    assert_int_equal(fw_shop_set_sale(e, 20.0), FW_OK);
    assert_int_equal(claim_on(e, c, 0, 0, P_E, 0), FW_OK);
    assert_int_equal(fw_shop_coupon_face(e, 0, P_E), 180);   /* 15% of 1200 */
    fw_order_outcome o = place(e, c, 1, 0, P_E, 1, 1);
    fw_order_info oi = order_of(e, o.order);
    assert_int_equal(oi.value_cents, 1200);
    assert_int_equal(oi.discount_cents, 180);
    assert_int_equal(fw_shop_set_sale(e, 0.0), FW_OK);
    o = place(e, c, 2, 1, P_E, 1, 2);
    assert_int_equal(order_of(e, o.order).value_cents, 1500);
    assert_int_equal(fw_shop_total(e).paid_cents, 2700);
    assert_books(e, 1);
}

/* Definitions outside their ranges, a second definition and claims of unknown coupons are
 * refused. */
static void test_coupon_bad_definitions(void **state)
{
    fw_engine_ctx *c;
    fw_engine *e = open_shop(state, &c);
    fw_coupon_def bad[] = {coupon_fixed(1200, 1000, 1000), coupon_fixed(0, 1000, 1000), coupon_fixed(300, 1000, 0),
                           coupon_brand_pct(0, 0.0, 1000), coupon_brand_pct(0, 100.0, 1000),
                           coupon_brand_pct(N_BRANDS, 10.0, 1000), coupon_fixed(300, 1000, 1000)};
    bad[6].valid_ticks = 0;
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        assert_int_equal(fw_shop_coupons_define(e, &bad[k], 1), FW_ERR_INVAL);
    assert_int_equal(fw_shop_n_coupons(e), 0);
    assert_int_equal(fw_shop_coupons_define(e, NULL, 0), FW_OK);
    fw_coupon_def d = coupon_fixed(300, 300, 1000);   /* no threshold beyond the face value */
    assert_int_equal(fw_shop_coupons_define(e, &d, 1), FW_OK);
    assert_int_equal(fw_shop_coupons_define(e, &d, 1), FW_ERR_INVAL);
    assert_int_equal(claim_on(e, c, 0, 1, P_A, 0), FW_ERR_INVAL);
    fw_coupon_books b;
    assert_int_equal(fw_shop_coupon_books(e, 1, &b), FW_ERR_INVAL);
    assert_books(e, 1);
}

/* fw_shop_check catches coupon books that disagree with the orders and wallets. */
static void test_coupon_check_can_fail(void **state)
{
    fw_engine_ctx *c;
    fw_engine *e = open_shop(state, &c);
    fw_coupon_def d = coupon_fixed(300, 1000, 1000);
    assert_int_equal(fw_shop_coupons_define(e, &d, 1), FW_OK);
    assert_int_equal(claim_on(e, c, 0, 0, P_A, 0), FW_OK);
    place(e, c, 1, 0, P_A, 1, 0);
    assert_books(e, 1);
    static const char *const says[] = {"coupon 0: held", "coupon 0: held", "coupon cost of issuer 0", "coupon 0: 2 claims"};
    static const int64_t delta[] = {50, 800, 1, 1};
    char why[512];
    for (int which = 0; which < 4; which++) {
        assert_int_equal(fw_shop_coupon_tamper(e, 0, which, delta[which]), FW_OK);
        why[0] = '\0';
        assert_int_equal(fw_shop_check(e, why, sizeof why), FW_ERR_INTERNAL);
        assert_non_null(strstr(why, says[which]));
        assert_int_equal(fw_shop_coupon_tamper(e, 0, which, -delta[which]), FW_OK);
        assert_int_equal(fw_shop_check(e, why, sizeof why), FW_OK);
    }
    assert_int_equal(fw_shop_coupon_tamper(e, 0, 9, 0), FW_ERR_INVAL);
    assert_books(e, 1);
}

/* ---- product titles: the product result of a search page (engine.search.product_match) ---- */

/* Titles over a vocabulary of 20 words: A {1 2 3 3 4}, B {5 6 7 8 9}, C {1 10 11 12 13},
 * D {14 .. 18} (sold out), E {10 11 19 19 19}, F {2 5}. */
#define N_TITLE_TERMS 20u
static const uint32_t titles[N_PRODUCTS * FW_PRODUCT_TERMS] = {
    1, 2, 3, 3, 4, FW_NONE,           5, 6, 7, 8, 9, FW_NONE,
    1, 10, 11, 12, 13, FW_NONE,       14, 15, 16, 17, 18, FW_NONE,
    10, 11, 19, 19, 19, FW_NONE,      2, 5, FW_NONE, FW_NONE, FW_NONE, FW_NONE,
};

static fw_engine *build_titles(fw_product_match match, double w_sales)
{
    fw_engine_cfg cfg = shop_cfg();
    cfg.search.product_slot = 1;
    cfg.search.product_match = match;
    cfg.search.product_w_sales = w_sales;
    fw_note_info notes[N_NOTES];
    for (uint32_t i = 0; i < N_NOTES; i++)
        notes[i] = note_info(i, note_topic[i]);
    fw_catalog cat = {.n_users = N_USERS, .n_topics = N_TOPICS, .ticks_per_day = TPD,
                      .n_notes = N_NOTES, .notes = notes, .n_terms = N_TITLE_TERMS, .n_brands = N_BRANDS,
                      .n_products = N_PRODUCTS, .products = products, .note_products = note_shows,
                      .product_terms = titles};
    fw_err err = FW_OK;
    fw_engine *e = fw_engine_create(&cat, &cfg, 1, &err);
    assert_int_equal(err, FW_OK);
    assert_non_null(e);
    return e;
}

static uint32_t product_for(const fw_engine *e, uint32_t topic, uint32_t n, const uint32_t *words)
{
    fw_search_req q = {.user = 0, .arm = 0, .tick = 0, .n_terms = n};
    memcpy(q.terms, words, n * sizeof *words);
    return fw_shop_search_product_for(e, &q, topic);
}

static void test_product_titles(void **state)
{
    (void)state;
    fw_engine *e = build_titles(FW_PRODUCT_MATCH_TITLE, 0.3);
    /* The one title with the word; a repeated query word counts once. */
    assert_int_equal(product_for(e, FW_NONE, 1, (uint32_t[]){3}), P_A);
    assert_int_equal(product_for(e, 1, 2, (uint32_t[]){3, 3}), P_A);   /* C, of topic 1, has no 3 */
    /* Equal BM25 (word 1 once in A and in C, titles of 5 words): the query's intent decides;
     * without one, ties go to the lower id (popularity is 0 for all). */
    assert_int_equal(product_for(e, FW_NONE, 1, (uint32_t[]){1}), P_A);
    assert_int_equal(product_for(e, 1, 1, (uint32_t[]){1}), P_C);
    /* Term frequency: E has 19 three times and 10 once, C only 10. */
    assert_int_equal(product_for(e, FW_NONE, 2, (uint32_t[]){10, 19}), P_E);
    /* Only a sold-out title matches, or no title (a word past the vocabulary, an unindexed
     * word): the best seller of the query's category in stock, never D. */
    uint32_t best1 = fw_shop_search_product(e, 1), best0 = fw_shop_search_product(e, 0);
    assert_int_not_equal(best1, FW_NONE);
    assert_int_not_equal(best1, P_D);
    assert_int_equal(product_for(e, 1, 1, (uint32_t[]){14}), best1);
    assert_int_equal(product_for(e, 0, 1, (uint32_t[]){999}), best0);
    assert_int_equal(product_for(e, 0, 1, (uint32_t[]){0}), best0);
    assert_int_equal(product_for(e, FW_NONE, 1, (uint32_t[]){14}), FW_NONE);
    fw_engine_destroy(e);
    /* Sales: viewed twice, C overtakes A on the word they share (product_w_sales x log(1 +
     * pop), scaled to C's); E, with the better title for {10, 19}, keeps its place at weight
     * 0.3 and loses it to C's sales at weight 2. */
    for (int k = 0; k < 2; k++) {
        e = build_titles(FW_PRODUCT_MATCH_TITLE, k ? 2.0 : 0.3);
        fw_engine_ctx *c = fw_engine_ctx_create(e);
        assert_non_null(c);
        fw_shop_event views[2] = {shop_ev(0, P_C, 0, FW_SHOP_VIEW), shop_ev(1, P_C, 0, FW_SHOP_VIEW)};
        assert_int_equal(fw_shop_log(e, c, views, 2), FW_OK);
        assert_int_equal(product_for(e, FW_NONE, 1, (uint32_t[]){1}), P_C);
        assert_int_equal(product_for(e, FW_NONE, 2, (uint32_t[]){10, 19}), k ? P_C : P_E);
        fw_engine_ctx_destroy(c);
        fw_engine_destroy(e);
    }
    /* bestseller: the category's best seller, whatever the words. */
    e = build_titles(FW_PRODUCT_MATCH_BESTSELLER, 0.3);
    assert_int_equal(product_for(e, 1, 1, (uint32_t[]){3}), fw_shop_search_product(e, 1));
    assert_int_equal(product_for(e, 0, 1, (uint32_t[]){19}), fw_shop_search_product(e, 0));
    fw_engine_destroy(e);
}

/* A title word past the vocabulary is bad input: the engine refuses the catalog. */
static void test_product_titles_refused(void **state)
{
    (void)state;
    uint32_t bad[N_PRODUCTS * FW_PRODUCT_TERMS];
    memcpy(bad, titles, sizeof bad);
    bad[7] = N_TITLE_TERMS;
    fw_engine_cfg cfg = shop_cfg();
    cfg.search.product_slot = 1;
    fw_note_info notes[N_NOTES];
    for (uint32_t i = 0; i < N_NOTES; i++)
        notes[i] = note_info(i, note_topic[i]);
    fw_catalog cat = {.n_users = N_USERS, .n_topics = N_TOPICS, .ticks_per_day = TPD,
                      .n_notes = N_NOTES, .notes = notes, .n_terms = N_TITLE_TERMS, .n_brands = N_BRANDS,
                      .n_products = N_PRODUCTS, .products = products, .product_terms = bad};
    fw_err err = FW_OK;
    assert_null(fw_engine_create(&cat, &cfg, 1, &err));
    assert_int_equal(err, FW_ERR_INVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_product_titles),
        cmocka_unit_test(test_product_titles_refused),
        fixture_rig_test(test_lifecycle),
        fixture_rig_test(test_returns_and_refunds),
        fixture_rig_test(test_payment_failure_and_retries),
        fixture_rig_test(test_idempotency),
        fixture_rig_test(test_contention),
        fixture_rig_test(test_bad_requests),
        fixture_rig_test(test_books_cannot_overflow),
        fixture_rig_test(test_invariants_mixed),
        fixture_rig_test(test_cards_exact_and_attach),
        cmocka_unit_test(test_cards_measured),
        fixture_rig_test(test_carts),
        fixture_rig_test(test_carts_per_cell),
        fixture_rig_test(test_stockouts_from_other_cells),
        fixture_rig_test(test_shop_tab_pages),
        fixture_rig_test(test_shop_tab_profiles),
        fixture_rig_test(test_read_cards_liked_and_saved_first),
        fixture_rig_test(test_read_cards_not_from_opens),
        fixture_rig_test(test_sold_out_never_on_page_mid_tick),
        fixture_rig_test(test_late_return_is_not_stuck),
        fixture_rig_test(test_refused_events_leave_profile_alone),
        fixture_rig_test(test_coupon_claim_and_redeem),
        fixture_rig_test(test_coupon_expiry),
        fixture_rig_test(test_coupon_budget_exhaustion),
        fixture_rig_test(test_coupon_cancel_and_refund),
        fixture_rig_test(test_sale_and_percent_coupon),
        fixture_rig_test(test_coupon_bad_definitions),
        fixture_rig_test(test_coupon_check_can_fail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
