/* What other modules may read of the shop (shop.c): the users' profiles.
 * Owns: nothing here.  Borrows: the engine.  Never touches: anything; reads only, safe in
 * concurrent requests. Every call answers "nothing known" when the shop is off. */
#ifndef FLYWHEEL_SHOP_INT_H
#define FLYWHEEL_SHOP_INT_H

#include "engine_int.h"

/* The unified profile's purchase side for the feed: the share of each topic in the user's
 * transactions (views, carts, orders), added into share[n_topics] (which the caller zeroed);
 * and the share of one topic. */
void fw_shop_tx_shares(const fw_engine *e, uint32_t user, double *share);
double fw_shop_tx_share(const fw_engine *e, uint32_t user, uint32_t topic);

/* The topics user engages with more than the population (at most cap), into out: the
 * community side of the profile (the ads target with it). */
uint32_t fw_shop_engaged_topics(const fw_engine *e, uint32_t user, uint32_t *out, uint32_t cap);

/* The product search shows for a query the engine reads as topic: the category's best seller
 * in stock as of the last barrier, or FW_NONE (no such product, no topic, or no shop). */
uint32_t fw_shop_search_product(const fw_engine *e, uint32_t topic);

/* The product result of search request q (engine.search.product_slot), under its arm's
 * engine.search.product_match: title = the in-stock product whose title best matches the
 * query's words (BM25 over titles, scaled to the best match, times w_text, plus w_intent when
 * its category is topic, the engine's reading of the query, plus product_w_sales times
 * log(1 + popularity) scaled to the best; ties to the more popular, then the lower id), else,
 * when no title shares a word with the query, what bestseller gives; bestseller =
 * fw_shop_search_product(topic). Reads only state changed at barriers. */
uint32_t fw_shop_search_product_for(const fw_engine *e, const fw_search_req *q, uint32_t topic);

/* Barrier call (issue 19, live selling): fw_shop_place_orders with a unit price per request
 * (unit_cents[i] for req[i]; < 0: none). An order is valued at unit_cents x qty when that is
 * below what fw_shop_place_orders would value it at (list price less the sale); everything
 * else -- idempotency, stock, coupons, payment, the books -- is the ordinary order path. */
fw_err fw_shop_place_orders_priced(fw_engine *e, fw_engine_ctx *ctx, const fw_order_req *req, size_t n,
                                   const int64_t *unit_cents, fw_order_outcome *out);

/* Tests only: moves coupon's books by delta -- which 0: cents held, 1: cents redeemed, 2: its
 * issuer's coupon cost, 3: claims -- so that a test can show fw_shop_check catching books that
 * disagree with the orders and wallets. FW_ERR_INVAL for a bad coupon or which. */
fw_err fw_shop_coupon_tamper(fw_engine *e, uint32_t coupon, int which, int64_t delta);

#endif
