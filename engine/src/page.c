/* Finished pages (fw_feed_page, fw_search_page): the ranking of the cell's feed algorithm or
 * of search, its ad slots sold by the ads' auction, and every organic note's product card --
 * what the platform's client renders. Composed here, in the engine, so that the simulator
 * only renders outcomes: it never computes an engine-side signal (which ad, at what price,
 * for which topic, with which card).
 *
 * Invariants: a page writes nothing shared (the auction writes only its user's frequency
 * caps); the ranking's work and latency are counted as fw_feed_request's and
 * fw_search_request's, the auction's as fw_ads_fill's. */
#include "engine_int.h"
#include "flywheel/ads.h"
#include "flywheel/shop.h"
#include "search_int.h"
#include "shop_int.h"

static fw_slot organic(const fw_engine *e, uint32_t note, uint32_t cell)
{
    return (fw_slot){.note = note, .campaign = FW_NONE, .price_cents = 0, .card = fw_shop_card(e, note, cell)};
}

static fw_slot ad(const fw_ad_fill *f)
{
    return (fw_slot){.note = f->note, .campaign = f->campaign, .price_cents = f->price_cents, .card = FW_NONE,
                     .min_bid_cents = f->min_bid_cents};
}

static const fw_slot empty_ad = {.note = FW_NONE, .campaign = FW_NONE, .price_cents = 0, .card = FW_NONE};

uint32_t fw_feed_page(fw_engine *e, fw_engine_ctx *ctx, const fw_feed_req *req, fw_slot *out, uint32_t cap)
{
    uint32_t *ids = ctx->page;
    uint32_t n = fw_feed_request(e, ctx, req, ids, fw_min_u32(cap, FW_PAGE_SLOTS));
    /* The reserved slots, best ad first, in page order. */
    uint32_t holes = 0, n_fills = 0, next = 0;
    for (uint32_t i = 0; i < n; i++)
        holes += ids[i] == FW_NONE;
    fw_ad_fill fills[16];
    if (holes) {
        fw_ad_req ar = {.user = req->user, .arm = req->arm, .tick = req->tick, .topic = FW_NONE};
        n_fills = fw_ads_fill(e, ctx, &ar, fw_min_u32(holes, 16), fills);
    }
    for (uint32_t i = 0; i < n; i++)
        out[i] = ids[i] != FW_NONE ? organic(e, ids[i], req->arm) : next < n_fills ? ad(&fills[next++]) : empty_ad;
    return n;
}

uint32_t fw_search_page(fw_engine *e, fw_engine_ctx *ctx, const fw_search_req *q, fw_slot *out, uint32_t cap)
{
    cap = fw_min_u32(cap, FW_PAGE_SLOTS);
    int ads = fw_ads_n_campaigns(e) > 0;
    if (cap <= (uint32_t)ads)
        return 0;
    uint32_t *ids = ctx->page;
    uint32_t pslot = q->arm < e->n_arms ? fw_cfg(e, q->arm)->search.product_slot : 0;
    uint32_t n = fw_search_request(e, ctx, q, ids, cap - (uint32_t)ads), k = 0;
    uint32_t topic = n > 0 && (ads || pslot) ? fw_search_query_topic(e, ctx, q) : FW_NONE;
    if (n > 0 && ads) {
        /* One ad at the top of the results, sold for the topic the engine reads in the query. */
        fw_ad_req ar = {.user = q->user, .arm = q->arm, .tick = q->tick, .topic = topic};
        fw_ad_fill fill;
        out[k++] = fw_ads_fill(e, ctx, &ar, 1, &fill) == 1 ? ad(&fill) : empty_ad;
    }
    /* Blended results: the product result (engine.search.product_match) at its position, in
     * place of the last result when the page is full. */
    uint32_t product = pslot && n > 0 ? fw_shop_search_product_for(e, q, topic) : FW_NONE;
    if (product != FW_NONE && k + n >= cap)
        n--;
    uint32_t at = product == FW_NONE ? UINT32_MAX : fw_min_u32(pslot - 1, n);
    for (uint32_t i = 0; i <= n; i++) {
        if (i == at)
            out[k++] = (fw_slot){.note = FW_NONE, .campaign = FW_NONE, .card = product};
        if (i < n)
            out[k++] = organic(e, ids[i], q->arm);
    }
    return k;
}
