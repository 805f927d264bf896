/* Unit tests for live-stream selling (flywheel/live.h) through the public headers: session
 * definitions refused when bad; viewers joining (only to live sessions, only in cells that
 * show them, once), leaving, and being dropped when the session ends, with per-session and
 * per-cell concurrent-viewer counts; the live card (a followed host first, else the busiest
 * session); flash stock never over-sold when more viewers ask in one tick than there are flash
 * units (served by user id whatever order they come in); the live price only inside its
 * window; live orders going through the shop's books (stock, payments, the invariants at the
 * day end) and being counted as paid from the shop's notice.
 *
 * The catalog: 8 users, 2 topics, 1 brand, 3 products, 2 notes, 24 ticks a day. Users 0..5 are
 * in cell 0 (live selling on), 6 and 7 in cell 1 (off). User 0 hosts; users 5 and 6 follow
 * user 0. Payments never fail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flywheel/engine.h"
#include "flywheel/live.h"
#include "flywheel/shop.h"
#include "fixture_engine.h"
#include "fixture_rig.h"

#define TPD 24u
#define N_USERS 8u

enum { P_A = 0, P_B, P_C, N_PRODUCTS };

static const fw_product_info products[N_PRODUCTS] = {
    [P_A] = {.brand = 0, .category = 0, .price_cents = 1000, .stock = 100},
    [P_B] = {.brand = 0, .category = 0, .price_cents = 2000, .stock = 100},
    [P_C] = {.brand = 0, .category = 1, .price_cents = 500, .stock = 2},
};

static const uint8_t user_cell[N_USERS] = {0, 0, 0, 0, 0, 0, 1, 1};

static fw_engine *open_live(void **state, fw_engine_ctx **c)
{
    static fw_note_info notes[2];
    notes[0] = (fw_note_info){.creator = 0, .topic = 0, .format = FW_FORMAT_IMAGE, .created_tick = -100};
    notes[1] = (fw_note_info){.creator = 0, .topic = 1, .format = FW_FORMAT_IMAGE, .created_tick = -100};
    static uint64_t off[N_USERS + 1];
    static uint32_t fol[2];
    const uint32_t src[2] = {5, 6}, dst[2] = {0, 0};
    fixture_follow_csr(N_USERS, 2, src, dst, off, fol);
    fw_engine_cfg cfgs[2] = {fixture_engine_cfg(), fixture_engine_cfg()};
    for (int a = 0; a < 2; a++)
        cfgs[a].shop.payment_fail_rate = 0.0;
    cfgs[0].live.enabled = 1;
    fw_catalog cat = {.n_users = N_USERS, .n_topics = 2, .ticks_per_day = TPD, .n_notes = 2, .notes = notes,
                      .follow_offsets = off, .follows = fol, .n_brands = 1, .n_products = N_PRODUCTS,
                      .products = products, .user_cell = user_cell};
    fw_err err = FW_OK;
    fw_engine *e = fw_engine_create(&cat, cfgs, 2, &err);
    assert_int_equal(err, FW_OK);
    assert_non_null(e);
    return fixture_rig_open(state, e, c);
}

/* Session 0: host user 0, ticks [2, 6), items A (800, 3 flash units, price at [2, 4)) and C
 * (400, 5 flash units, price at [2, 6)). Session 1: a brand's, ticks [4, 8), item B (1500,
 * 1 flash unit, [4, 8)). */
static void define_two(fw_engine *e)
{
    const fw_live_item items[3] = {
        {.product = P_A, .price_cents = 800, .flash_units = 3, .price_from = 2, .price_until = 4},
        {.product = P_C, .price_cents = 400, .flash_units = 5, .price_from = 2, .price_until = 6},
        {.product = P_B, .price_cents = 1500, .flash_units = 1, .price_from = 4, .price_until = 8},
    };
    const fw_live_session_def defs[2] = {
        {.host = 0, .brand = 0, .start = 2, .end = 6, .first_item = 0, .n_items = 2},
        {.host = FW_NONE, .brand = 0, .start = 4, .end = 8, .first_item = 2, .n_items = 1},
    };
    assert_int_equal(fw_live_define(e, defs, 2, items, 3), FW_OK);
    assert_int_equal(fw_live_n_sessions(e), 2);
}

static void open_tick(fw_engine *e, fw_engine_ctx *c, int32_t tick, const fw_live_join *j, size_t n, fw_err want)
{
    assert_int_equal(fw_live_open_tick(e, c, tick, j, n), want);
}

static fw_live_buy_out buy(fw_engine *e, fw_engine_ctx *c, uint64_t rid, uint32_t user, uint32_t session,
                           uint32_t item, uint32_t qty, int32_t tick)
{
    fw_live_buy_req q = {.request_id = rid, .user = user, .session = session, .item = item, .qty = qty, .tick = tick};
    fw_live_buy_out o;
    assert_int_equal(fw_live_buy(e, c, &q, 1, &o), FW_OK);
    return o;
}

static void test_define_refused(void **state)
{
    fw_engine_ctx *c;
    fw_engine *e = open_live(state, &c);
    fw_live_item it = {.product = P_A, .price_cents = 800, .flash_units = 1, .price_from = 0, .price_until = 1};
    fw_live_session_def d = {.host = 0, .start = 0, .end = 4, .first_item = 0, .n_items = 1};
    fw_live_session_def none = d;
    none.n_items = 0;   /* a session without products */
    assert_int_equal(fw_live_define(e, &none, 1, &it, 1), FW_ERR_INVAL);
    fw_live_session_def empty = d;
    empty.end = 0;
    assert_int_equal(fw_live_define(e, &empty, 1, &it, 1), FW_ERR_INVAL);
    fw_live_session_def range = d;
    range.n_items = 2;
    assert_int_equal(fw_live_define(e, &range, 1, &it, 1), FW_ERR_INVAL);
    fw_live_item dear = it;
    dear.price_cents = 1001;   /* above list */
    assert_int_equal(fw_live_define(e, &d, 1, &dear, 1), FW_ERR_INVAL);
    fw_live_item free_ = it;
    free_.price_cents = 0;
    assert_int_equal(fw_live_define(e, &d, 1, &free_, 1), FW_ERR_INVAL);
    fw_live_item bad = it;
    bad.product = N_PRODUCTS;
    assert_int_equal(fw_live_define(e, &d, 1, &bad, 1), FW_ERR_INVAL);
    fw_live_session_def host = d;
    host.host = N_USERS;
    assert_int_equal(fw_live_define(e, &host, 1, &it, 1), FW_ERR_INVAL);
    assert_int_equal(fw_live_n_sessions(e), 0);
    assert_int_equal(fw_live_define(e, &d, 1, &it, 1), FW_OK);
    assert_int_equal(fw_live_define(e, &d, 1, &it, 1), FW_ERR_INVAL);   /* once */
}

static void test_off_without_enabled_cell(void **state)
{
    fw_engine_cfg cfg = fixture_engine_cfg();
    fw_note_info note = {.creator = 0, .topic = 0, .format = FW_FORMAT_IMAGE, .created_tick = -100};
    fw_catalog cat = {.n_users = N_USERS, .n_topics = 2, .ticks_per_day = TPD, .n_notes = 1, .notes = &note,
                      .n_brands = 1, .n_products = N_PRODUCTS, .products = products};
    fw_err err = FW_OK;
    fw_engine *e = fw_engine_create(&cat, &cfg, 1, &err);
    fixture_rig_open(state, e, NULL);
    fw_live_item it = {.product = P_A, .price_cents = 800, .flash_units = 1, .price_from = 0, .price_until = 1};
    fw_live_session_def d = {.host = 0, .start = 0, .end = 4, .first_item = 0, .n_items = 1};
    assert_int_equal(fw_live_define(e, &d, 1, &it, 1), FW_ERR_INVAL);   /* the module is off */
    assert_int_equal(fw_live_n_sessions(e), 0);
    fw_live_day day;
    assert_int_equal(fw_live_day_stats(e, 0, &day), FW_OK);
    assert_int_equal(day.viewers, 0);
}

static void test_arrival_and_leaving(void **state)
{
    fw_engine_ctx *c;
    fw_engine *e = open_live(state, &c);
    define_two(e);
    /* Tick 1: nothing is live; a join is refused. */
    fw_live_join early = {.user = 1, .session = 0, .source = FW_LIVE_FROM_FEED};
    open_tick(e, c, 1, &early, 1, FW_ERR_INVAL);
    assert_int_equal(fw_live_n_on(e), 0);
    assert_int_equal(fw_live_watching(e, 1, NULL), FW_NONE);
    int followed = -1;
    assert_int_equal(fw_live_card(e, 1, 1, &followed), FW_NONE);
    /* Tick 2: users 2 and 1 join session 0 (given out of order), user 6 (cell without live
     * selling) is refused. */
    fw_live_join j2[3] = {{2, 0, FW_LIVE_FROM_FEED}, {1, 0, FW_LIVE_FROM_NOTIFY}, {6, 0, FW_LIVE_FROM_FOLLOW}};
    open_tick(e, c, 2, j2, 3, FW_ERR_INVAL);
    uint32_t n;
    const uint32_t *v = fw_live_viewers(e, 0, &n);
    assert_int_equal(n, 2);
    assert_int_equal(v[0], 1);   /* applied in user order */
    assert_int_equal(v[1], 2);
    int32_t since = -1;
    assert_int_equal(fw_live_watching(e, 2, &since), 0);
    assert_int_equal(since, 2);
    assert_int_equal(fw_live_card(e, 6, 2, &followed), FW_NONE);   /* cell 1 shows no live */
    assert_int_equal(fw_live_card(e, 1, 2, &followed), FW_NONE);   /* watching already */
    assert_int_equal(fw_live_card(e, 3, 2, &followed), 0);
    assert_int_equal(followed, 0);
    /* User 2 leaves; at tick 3 one viewer is left, and user 2 may not come straight back. */
    assert_int_equal(fw_live_leave(e, 2, 2), FW_OK);
    assert_int_equal(fw_live_leave(e, 2, 2), FW_ERR_INVAL);
    fw_live_join back = {2, 0, FW_LIVE_FROM_FEED};
    open_tick(e, c, 3, &back, 1, FW_ERR_INVAL);
    v = fw_live_viewers(e, 0, &n);
    assert_int_equal(n, 1);
    assert_int_equal(v[0], 1);
    assert_int_equal(fw_live_card(e, 2, 3, &followed), FW_NONE);   /* the only live one, just left */
    /* Tick 4: session 1 starts; users 3 and 4 join it, so it is the busier; user 5 follows
     * the host of session 0 and is shown it first. */
    fw_live_join j4[2] = {{3, 1, FW_LIVE_FROM_FEED}, {4, 1, FW_LIVE_FROM_FEED}};
    open_tick(e, c, 4, j4, 2, FW_OK);
    assert_int_equal(fw_live_n_on(e), 2);
    assert_int_equal(fw_live_card(e, 5, 4, &followed), 0);
    assert_int_equal(followed, 1);
    assert_int_equal(fw_live_card(e, 2, 4, &followed), 1);
    assert_int_equal(followed, 0);
    fw_live_day day;
    assert_int_equal(fw_live_day_stats(e, 0, &day), FW_OK);
    assert_int_equal(day.sessions_on, 2);
    assert_int_equal(day.ticks_on, 3);                  /* ticks 2, 3, 4 */
    assert_int_equal(day.viewer_ticks, 2 + 1 + 3);
    assert_int_equal(day.peak_viewers, 3);
    assert_int_equal(day.viewers, 4);
    assert_int_equal(day.joins[FW_LIVE_FROM_FEED], 3);
    assert_int_equal(day.joins[FW_LIVE_FROM_NOTIFY], 1);
    assert_int_equal(fw_live_day_stats(e, 1, &day), FW_OK);
    assert_int_equal(day.viewers, 0);
    /* Tick 6: session 0 has ended: user 1 watches nothing any more. */
    open_tick(e, c, 5, NULL, 0, FW_OK);
    open_tick(e, c, 6, NULL, 0, FW_OK);
    assert_int_equal(fw_live_watching(e, 1, NULL), FW_NONE);
    v = fw_live_viewers(e, 0, &n);
    assert_int_equal(n, 0);
    fw_live_session_stats st;
    assert_int_equal(fw_live_session_stats_of(e, 0, &st), FW_OK);
    assert_int_equal(st.viewers, 2);
    assert_int_equal(st.peak_viewers, 2);
    assert_int_equal(st.viewer_ticks, 2 + 1 + 1 + 1);   /* ticks 2..5 */
    assert_int_equal(fw_live_session_stats_of(e, 1, &st), FW_OK);
    assert_int_equal(st.peak_viewers, 2);
    assert_int_equal(fw_engine_end_day(e, c, 0), FW_OK);
    assert_int_equal(fw_live_day_stats(e, 0, &day), FW_OK);
    assert_int_equal(day.viewers, 0);   /* reset at the day end */
}

static void test_flash_never_oversold(void **state)
{
    fw_engine_ctx *c;
    fw_engine *e = open_live(state, &c);
    define_two(e);
    fw_live_join j[5] = {{5, 0, 0}, {4, 0, 0}, {3, 0, 0}, {2, 0, 0}, {1, 0, 0}};
    open_tick(e, c, 2, j, 5, FW_OK);
    /* Five viewers ask for item A (3 flash units) in one tick, highest user id first. */
    fw_live_buy_req q[5];
    fw_live_buy_out o[5];
    for (uint32_t i = 0; i < 5; i++)
        q[i] = (fw_live_buy_req){.request_id = 100 + i, .user = 5 - i, .session = 0, .item = 0, .qty = 1, .tick = 2};
    assert_int_equal(fw_live_buy(e, c, q, 5, o), FW_OK);
    uint32_t flash = 0;
    for (uint32_t i = 0; i < 5; i++) {
        assert_int_equal(o[i].result, FW_ORDER_OK);
        flash += o[i].flash;
        /* Served by user id: users 1, 2, 3 (q[4], q[3], q[2]) get the flash units. */
        assert_int_equal(o[i].flash, q[i].user <= 3);
        assert_int_equal(o[i].unit_cents, q[i].user <= 3 ? 800 : 1000);
    }
    assert_int_equal(flash, 3);
    assert_int_equal(fw_live_flash_left(e, 0, 0), 0);
    /* Item C: 5 flash units but 2 in stock: the shop refuses the third, which takes no flash unit. */
    fw_live_buy_req qc[3];
    fw_live_buy_out oc[3];
    for (uint32_t i = 0; i < 3; i++)
        qc[i] = (fw_live_buy_req){.request_id = 200 + i, .user = 1 + i, .session = 0, .item = 1, .qty = 1, .tick = 2};
    assert_int_equal(fw_live_buy(e, c, qc, 3, oc), FW_OK);
    assert_int_equal(oc[0].result, FW_ORDER_OK);
    assert_int_equal(oc[1].result, FW_ORDER_OK);
    assert_int_equal(oc[2].result, FW_ORDER_NO_STOCK);
    assert_int_equal(fw_live_flash_left(e, 0, 1), 3);
    fw_product_stock st;
    assert_int_equal(fw_shop_stock(e, P_C, &st), FW_OK);
    assert_int_equal(st.available, 0);   /* never negative */
    fw_live_session_stats ss;
    assert_int_equal(fw_live_session_stats_of(e, 0, &ss), FW_OK);
    assert_int_equal(ss.flash_sold, 5);
    assert_int_equal(ss.flash_orders, 5);
    assert_int_equal(ss.orders, 7);
    for (int32_t t = 2; t < 5; t++)
        assert_int_equal(fw_engine_end_tick(e, c, t), FW_OK);
    assert_int_equal(fw_engine_end_day(e, c, 0), FW_OK);   /* live and shop invariants hold */
}

static void test_flash_multi_unit(void **state)
{
    fw_engine_ctx *c;
    fw_engine *e = open_live(state, &c);
    define_two(e);
    fw_live_join j[2] = {{1, 1, 0}, {2, 1, 0}};
    open_tick(e, c, 4, j, 2, FW_OK);
    /* Item B has 1 flash unit: a 2-unit order pays list price, then a 1-unit order gets it. */
    fw_live_buy_out a = buy(e, c, 1, 1, 1, 0, 2, 4);
    assert_int_equal(a.result, FW_ORDER_OK);
    assert_int_equal(a.flash, 0);
    assert_int_equal(a.unit_cents, 2000);
    fw_live_buy_out b = buy(e, c, 2, 2, 1, 0, 1, 4);
    assert_int_equal(b.flash, 1);
    assert_int_equal(b.unit_cents, 1500);
    fw_live_buy_out d = buy(e, c, 3, 2, 1, 0, 1, 4);
    assert_int_equal(d.flash, 0);
    assert_int_equal(fw_live_flash_left(e, 1, 0), 0);
    /* The same request id again is the shop's duplicate: no second order, no flash unit. */
    fw_live_buy_out dup = buy(e, c, 2, 2, 1, 0, 1, 4);
    assert_int_equal(dup.result, FW_ORDER_DUPLICATE);
    assert_int_equal(dup.flash, 0);
    assert_int_equal(fw_engine_end_tick(e, c, 4), FW_OK);
    assert_int_equal(fw_engine_end_day(e, c, 0), FW_OK);
}

static void test_price_window(void **state)
{
    fw_engine_ctx *c;
    fw_engine *e = open_live(state, &c);
    define_two(e);
    /* Item A's live price applies at ticks [2, 4) only. */
    fw_live_join j = {1, 0, 0};
    open_tick(e, c, 2, &j, 1, FW_OK);
    assert_int_equal(buy(e, c, 1, 1, 0, 0, 1, 2).unit_cents, 800);
    open_tick(e, c, 3, NULL, 0, FW_OK);
    assert_int_equal(buy(e, c, 2, 1, 0, 0, 1, 3).unit_cents, 800);
    open_tick(e, c, 4, NULL, 0, FW_OK);
    fw_live_buy_out late = buy(e, c, 3, 1, 0, 0, 1, 4);
    assert_int_equal(late.result, FW_ORDER_OK);
    assert_int_equal(late.unit_cents, 1000);
    assert_int_equal(late.flash, 0);
    assert_int_equal(fw_live_flash_left(e, 0, 0), 1);
    fw_order_info oi;
    assert_int_equal(fw_shop_order(e, late.order, &oi), FW_OK);
    assert_int_equal(oi.value_cents, 1000);
    /* After the session, nothing can be bought from it. */
    open_tick(e, c, 6, NULL, 0, FW_OK);
    assert_int_equal(buy(e, c, 4, 1, 0, 0, 1, 6).result, FW_ORDER_BAD);
}

static void test_orders_through_shop(void **state)
{
    fw_engine_ctx *c;
    fw_engine *e = open_live(state, &c);
    define_two(e);
    fw_shop_totals before = fw_shop_total(e);
    fw_live_join j = {1, 0, FW_LIVE_FROM_FEED};
    open_tick(e, c, 2, &j, 1, FW_OK);
    /* Not watching, a bad item, another session: no order. */
    assert_int_equal(buy(e, c, 1, 2, 0, 0, 1, 2).result, FW_ORDER_BAD);
    assert_int_equal(buy(e, c, 2, 1, 0, 2, 1, 2).result, FW_ORDER_BAD);
    assert_int_equal(buy(e, c, 3, 1, 1, 0, 1, 2).result, FW_ORDER_BAD);
    fw_live_buy_out o = buy(e, c, 4, 1, 0, 0, 2, 2);
    assert_int_equal(o.result, FW_ORDER_OK);
    fw_order_info oi;
    assert_int_equal(fw_shop_order(e, o.order, &oi), FW_OK);
    assert_int_equal(oi.user, 1);
    assert_int_equal(oi.product, P_A);
    assert_int_equal(oi.qty, 2);
    assert_int_equal(oi.value_cents, 1600);
    assert_int_equal(oi.status, FW_ORDER_PAID);
    fw_shop_totals after = fw_shop_total(e);
    assert_int_equal(after.orders, before.orders + 1);
    assert_int_equal(after.paid_cents, before.paid_cents + 1600);
    fw_product_stock st;
    assert_int_equal(fw_shop_stock(e, P_A, &st), FW_OK);
    assert_int_equal(st.sold, 2);
    /* The paid notice arrives at the tick's end. */
    fw_live_day day;
    assert_int_equal(fw_live_day_stats(e, 0, &day), FW_OK);
    assert_int_equal(day.orders, 1);
    assert_int_equal(day.flash_orders, 1);
    assert_int_equal(day.paid_orders, 0);
    assert_int_equal(fw_engine_end_tick(e, c, 2), FW_OK);
    assert_int_equal(fw_live_day_stats(e, 0, &day), FW_OK);
    assert_int_equal(day.paid_orders, 1);
    assert_int_equal(day.gmv_cents, 1600);
    /* An ordinary shop order is not a live one. */
    fw_order_req q = {.request_id = 99, .user = 3, .arm = 0, .product = P_B, .qty = 1, .tick = 2};
    fw_order_outcome out;
    assert_int_equal(fw_shop_place_orders(e, c, &q, 1, &out), FW_OK);
    assert_int_equal(out.result, FW_ORDER_OK);
    assert_int_equal(fw_engine_end_tick(e, c, 3), FW_OK);
    assert_int_equal(fw_live_day_stats(e, 0, &day), FW_OK);
    assert_int_equal(day.paid_orders, 1);
    assert_int_equal(day.gmv_cents, 1600);
    fw_live_session_stats ss;
    assert_int_equal(fw_live_session_stats_of(e, 0, &ss), FW_OK);
    assert_int_equal(ss.gmv_cents, 1600);
    assert_int_equal(fw_engine_end_day(e, c, 0), FW_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        fixture_rig_test(test_define_refused),
        fixture_rig_test(test_off_without_enabled_cell),
        fixture_rig_test(test_arrival_and_leaving),
        fixture_rig_test(test_flash_never_oversold),
        fixture_rig_test(test_flash_multi_unit),
        fixture_rig_test(test_price_window),
        fixture_rig_test(test_orders_through_shop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
