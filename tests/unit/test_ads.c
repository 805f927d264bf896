/* Unit tests for ads (flywheel/ads.h) through the public headers only: the auction behind
 * fw_ads_fill (scores per objective from the smoothed pCTR / pCVR, GSP and first-price prices
 * in cents per billable unit, the reserve, k distinct slots, two arms), engagement
 * targeting, frequency caps, billing per objective in exact millicents, daily budgets
 * (overdelivery, throttling, the day's reset), pacing (dual multiplier, throttle, none),
 * attribution windows, bad input, and determinism with the invariants over a mixed run.
 * The last tests (test_bug_*) pin down doubtful behaviour of ads.c as found: they fail until
 * it is fixed (see each one's comment).
 *
 * The catalog is built by hand: 4 users, 2 topics, 8 notes (topics alternate 0, 1), 2
 * brands with a product each, 24 ticks a day; each test passes its own campaigns. Unless a
 * test is about them, pacing is off, there is no frequency cap and the priors make the
 * numbers easy to work by hand: pCTR = (clicks + 0.0123 * 100) / (impressions + 100), so
 * 0.0123 with no history, and pCVR 0.2 with no history; with history pCVR = (conversions +
 * 0.2 w) / (clicks + w), w = 100 x 0.0123 prior clicks (ads.c's reading of prior_weight). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <math.h>

#include "flywheel/ads.h"
#include "flywheel/engine.h"
#include "fixture_engine.h"
#include "fixture_rig.h"

#define TPD 24u
#define N_USERS 4u
#define N_TOPICS 2u
#define N_BRANDS 2u
#define N_NOTES 8u
#define MAX_CAMPAIGNS 16u
#define SLOTS 16u

/* Priors of ads_cfg(). */
#define CTR_PRIOR 0.0123
#define CVR_PRIOR 0.2
#define PRIOR_W 100.0

/* ---- the catalog --------------------------------------------------------------------- */

static const fw_product_info products[2] = {
    {.brand = 0, .category = 0, .price_cents = 1000, .stock = 100},
    {.brand = 1, .category = 1, .price_cents = 2000, .stock = 100},
};

static uint32_t note_topic(uint32_t note)
{
    return note % N_TOPICS;
}

static fw_catalog catalog(fw_note_info *notes, const fw_campaign_info *camps, uint32_t n_camps)
{
    for (uint32_t i = 0; i < N_NOTES; i++)
        notes[i] = (fw_note_info){.creator = i % N_USERS, .topic = (uint16_t)note_topic(i),
                                  .format = FW_FORMAT_IMAGE, .created_tick = -100};
    return (fw_catalog){.n_users = N_USERS, .n_topics = N_TOPICS, .ticks_per_day = TPD,
                        .n_notes = N_NOTES, .notes = notes, .n_brands = N_BRANDS,
                        .n_products = 2, .products = products, .n_campaigns = n_camps,
                        .campaigns = camps};
}

static fw_engine *build(const fw_campaign_info *camps, uint32_t n_camps, const fw_engine_cfg *cfgs,
                        uint32_t n_arms)
{
    fw_note_info notes[N_NOTES];
    fw_catalog cat = catalog(notes, camps, n_camps);
    fw_err err = FW_OK;
    fw_engine *e = fw_engine_create(&cat, cfgs, n_arms, &err);
    assert_int_equal(err, FW_OK);
    assert_non_null(e);
    assert_int_equal(fw_ads_n_campaigns(e), n_camps);
    return e;
}

/* Defaults with pacing off, no frequency cap, GSP, a reserve of 150.5 per thousand
 * impressions and the priors above. */
static fw_engine_cfg ads_cfg(void)
{
    fw_engine_cfg cfg = fixture_engine_cfg();
    cfg.ads.pay_rule = FW_PAY_GSP;
    cfg.ads.reserve_cpm_cents = 150.5;
    cfg.ads.pacing = FW_PACING_NONE;
    cfg.ads.pacing_lr = 0.5;
    cfg.ads.freq_cap = 0;
    cfg.ads.ctr_prior = CTR_PRIOR;
    cfg.ads.cvr_prior = CVR_PRIOR;
    cfg.ads.prior_weight = PRIOR_W;
    cfg.ads.click_window_days = 2;
    cfg.ads.view_window_days = 1;
    return cfg;
}

static fw_campaign_info camp(uint32_t brand, uint32_t objective, int64_t bid, int64_t budget,
                             uint32_t target_topic, uint32_t creative)
{
    return (fw_campaign_info){.brand = brand, .objective = objective, .bid_cents = bid,
                              .daily_budget_cents = budget, .target_topic = target_topic,
                              .creative = creative};
}

/* ---- helpers ------------------------------------------------------------------------- */

/* A purchase attributed without asking what was billed. */
static uint32_t ads_attribute(fw_engine *e, uint32_t user, uint32_t brand, int32_t tick)
{
    return fw_ads_attribute(e, user, brand, tick, NULL);
}

/* Logs one event, which must be accepted; returns what it was billed (millicents). */
static int64_t log1(fw_engine *e, fw_engine_ctx *ctx, uint32_t user, uint32_t campaign, int32_t tick,
                    uint32_t type, int64_t price)
{
    fw_ad_event ev = {.user = user, .campaign = campaign, .tick = tick, .type = type,
                      .price_cents = price};
    int64_t billed = -7;
    assert_int_equal(fw_ads_log(e, ctx, &ev, 1, &billed), FW_OK);
    assert_true(billed >= 0);
    return billed;
}

static void log_n(fw_engine *e, fw_engine_ctx *ctx, uint32_t user, uint32_t campaign, int32_t tick,
                  uint32_t type, int64_t price, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        log1(e, ctx, user, campaign, tick, type, price);
}

/* A purchase that must be credited to want, billed want_mc millicents. */
static void assert_attributed(fw_engine *e, uint32_t user, uint32_t brand, int32_t tick, uint32_t want,
                              int64_t want_mc)
{
    int64_t billed = -7;
    uint32_t got = fw_ads_attribute(e, user, brand, tick, &billed);
    if (got != want || billed != want_mc)
        fail_msg("purchase of brand %u by user %u at %d: campaign %u billed %lld, want %u billed %lld",
                 brand, user, tick, got, (long long)billed, want, (long long)want_mc);
}

static fw_campaign_stats stats(const fw_engine *e, uint32_t campaign)
{
    fw_campaign_stats st;
    assert_int_equal(fw_ads_campaign(e, campaign, &st), FW_OK);
    return st;
}

/* A campaign's delivery as the ad log counted it. */
static void assert_delivery(const fw_campaign_stats *st, uint64_t impressions, uint64_t clicks,
                            uint64_t conversions)
{
    assert_int_equal(st->impressions, impressions);
    assert_int_equal(st->clicks, clicks);
    assert_int_equal(st->conversions, conversions);
}

/* Fills k slots for user under arm at tick with the request's topic; checks what every fill
 * must satisfy (a known campaign, its creative, distinct campaigns, a price in [0, bid]). */
static uint32_t fill(fw_engine *e, fw_engine_ctx *ctx, uint32_t user, uint32_t arm, int32_t tick,
                     uint32_t topic, uint32_t k, fw_ad_fill *out, const fw_campaign_info *camps)
{
    fw_ad_req q = {.user = user, .arm = arm, .tick = tick, .topic = topic};
    uint32_t n = fw_ads_fill(e, ctx, &q, k, out);
    assert_true(n <= k && n <= SLOTS);
    for (uint32_t j = 0; j < n; j++) {
        assert_true(out[j].campaign < fw_ads_n_campaigns(e));
        assert_int_equal(out[j].note, camps[out[j].campaign].creative);
        assert_true(out[j].price_cents >= 0);
        assert_true(out[j].price_cents <= camps[out[j].campaign].bid_cents);
        for (uint32_t i = 0; i < j; i++)
            assert_int_not_equal(out[i].campaign, out[j].campaign);
    }
    return n;
}

/* The winning campaigns of one fill must be want[0..n), best first, at prices price[0..n). */
static void assert_fills(const fw_ad_fill *got, uint32_t n_got, const uint32_t *want,
                         const int64_t *price, uint32_t n)
{
    if (n_got != n)
        fail_msg("%u fills, want %u", n_got, n);
    for (uint32_t j = 0; j < n; j++) {
        if (got[j].campaign != want[j] || (price && got[j].price_cents != price[j]))
            fail_msg("slot %u: campaign %u at %lld, want campaign %u at %lld", j, got[j].campaign,
                     (long long)got[j].price_cents, want[j], price ? (long long)price[j] : -1LL);
    }
}

/* Whether campaign is among the fills. */
static int filled(const fw_ad_fill *f, uint32_t n, uint32_t campaign)
{
    for (uint32_t j = 0; j < n; j++)
        if (f[j].campaign == campaign)
            return 1;
    return 0;
}

/* fw_ads_check passes, every spend today is within its budget, and the revenue in cents is
 * the campaigns' spend up to their rounding to cents (one cent each at most). */
static void assert_books(const fw_engine *e, const fw_campaign_info *camps)
{
    fixture_assert_check(fw_ads_check, "fw_ads_check", e);
    int64_t sum = 0;
    uint32_t n = fw_ads_n_campaigns(e);
    for (uint32_t c = 0; c < n; c++) {
        fw_campaign_stats st = stats(e, c);
        assert_true(st.spend_today_cents >= 0 && st.spend_today_cents <= camps[c].daily_budget_cents);
        assert_true(st.spend_today_cents <= st.spend_cents);
        assert_true(st.overdelivery_cents >= 0);
        assert_true(st.multiplier >= 0.0);
        sum += st.spend_cents;
    }
    int64_t rev = fw_ads_revenue(e);
    assert_true(rev >= sum && rev <= sum + (int64_t)n);
}

/* Tests are deterministic: "random" values come from this fixed sequence (splitmix64). */
static uint64_t next_value(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* ---- the auction --------------------------------------------------------------------- */

/* Scores per impression with no history (pCTR 0.0123, pCVR 0.2), reserve 0.1505:
 *   0 CPM 3001  -> 3.001          3 CPM 1500 -> 1.5
 *   1 CPC  201  -> 2.4723         4 CPM  150 -> 0.150 (below the reserve)
 *   2 CPA  703  -> 1.729378
 * A CPM bid not divided by 1000, or a CPC / CPA bid not weighted by its quality, would put
 * 3, 1 or 2 first. GSP prices (next score / own quality, per thousand for CPM, rounded down):
 *   0: 2.4723 * 1000 = 2472.3 -> 2472     2: 1.5 / 0.00246 = 609.76 -> 609
 *   1: 1.729378 / 0.0123 = 140.6 -> 140   3: the reserve, 150.5 -> 150 */
static const fw_campaign_info auction_camps[] = {
    {.brand = 0, .objective = FW_OBJ_CPM, .bid_cents = 3001, .daily_budget_cents = 1000000,
     .target_topic = FW_NONE, .creative = 0},
    {.brand = 0, .objective = FW_OBJ_CPC, .bid_cents = 201, .daily_budget_cents = 1000000,
     .target_topic = FW_NONE, .creative = 1},
    {.brand = 1, .objective = FW_OBJ_CPA, .bid_cents = 703, .daily_budget_cents = 1000000,
     .target_topic = FW_NONE, .creative = 2},
    {.brand = 0, .objective = FW_OBJ_CPM, .bid_cents = 1500, .daily_budget_cents = 1000000,
     .target_topic = FW_NONE, .creative = 3},
    {.brand = 0, .objective = FW_OBJ_CPM, .bid_cents = 150, .daily_budget_cents = 1000000,
     .target_topic = FW_NONE, .creative = 4},
};
#define N_AUCTION 5u

static void test_auction_scores_and_prices(void **state)
{
    fw_engine_cfg cfgs[2] = {ads_cfg(), ads_cfg()};
    cfgs[1].ads.pay_rule = FW_PAY_FIRST;
    fw_engine_ctx *ctx;
    fw_engine *e = fixture_rig_open(state, build(auction_camps, N_AUCTION, cfgs, 2), &ctx);
    fw_ad_fill f[SLOTS];
    uint32_t n;

    /* GSP, every k: the best k, distinct, best first, at the same prices. */
    const uint32_t order[] = {0, 1, 2, 3};
    const int64_t gsp[] = {2472, 140, 609, 150};
    for (uint32_t k = 1; k <= 4; k++) {
        n = fill(e, ctx, 0, 0, 5, FW_NONE, k, f, auction_camps);
        assert_fills(f, n, order, gsp, k);
    }
    /* More slots than campaigns above the reserve: 4, never the one below it; k past 16 is
     * capped. */
    n = fill(e, ctx, 1, 0, 5, FW_NONE, SLOTS, f, auction_camps);
    assert_fills(f, n, order, gsp, 4);
    fw_ad_fill big[40];
    fw_ad_req q = {.user = 2, .arm = 0, .tick = 5, .topic = FW_NONE};
    assert_int_equal(fw_ads_fill(e, ctx, &q, 40, big), 4);

    /* First price (arm 1): the own bid. */
    const int64_t first[] = {3001, 201, 703, 1500};
    n = fill(e, ctx, 0, 1, 5, FW_NONE, SLOTS, f, auction_camps);
    assert_fills(f, n, order, first, 4);

    /* Nothing for k 0, a bad user or a bad arm. */
    q = (fw_ad_req){.user = 0, .arm = 0, .tick = 5, .topic = FW_NONE};
    assert_int_equal(fw_ads_fill(e, ctx, &q, 0, f), 0);
    q.user = N_USERS;
    assert_int_equal(fw_ads_fill(e, ctx, &q, 4, f), 0);
    q = (fw_ad_req){.user = 0, .arm = 2, .tick = 5, .topic = FW_NONE};
    assert_int_equal(fw_ads_fill(e, ctx, &q, 4, f), 0);

    /* Delivery counts are the ad log's, not the fills'. */
    for (uint32_t c = 0; c < N_AUCTION; c++) {
        fw_campaign_stats st = stats(e, c);
        assert_int_equal(st.impressions, 0);
        assert_int_equal(st.auctions_won, 0);
        assert_int_equal(st.spend_cents, 0);
    }
    fw_campaign_stats st;
    assert_int_equal(fw_ads_campaign(e, N_AUCTION, &st), FW_ERR_INVAL);
    assert_books(e, auction_camps);
}

/* A campaign alone below the reserve never fills; at the reserve's level it does. */
static void test_auction_reserve(void **state)
{
    fw_engine_cfg cfg = ads_cfg();
    const fw_campaign_info below[] = {camp(0, FW_OBJ_CPM, 150, 100000, FW_NONE, 0),
                                      camp(0, FW_OBJ_CPC, 12, 100000, FW_NONE, 1)};
    /* CPC 12 x 0.0123 = 0.1476 per impression: below 0.1505 too. */
    fw_engine_ctx *ctx;
    fw_engine *e = fixture_rig_open(state, build(below, 2, &cfg, 1), &ctx);
    fw_ad_fill f[SLOTS];
    for (uint32_t u = 0; u < N_USERS; u++)
        assert_int_equal(fill(e, ctx, u, 0, 0, FW_NONE, SLOTS, f, below), 0);

    /* CPC 13 x 0.0123 = 0.1599: above; priced at the reserve, 0.1505 / 0.0123 = 12.24 -> 12. */
    const fw_campaign_info above[] = {camp(0, FW_OBJ_CPM, 150, 100000, FW_NONE, 0),
                                      camp(0, FW_OBJ_CPC, 13, 100000, FW_NONE, 1)};
    e = fixture_rig_open(state, build(above, 2, &cfg, 1), &ctx);
    uint32_t n = fill(e, ctx, 0, 0, 0, FW_NONE, SLOTS, f, above);
    assert_fills(f, n, (const uint32_t[]){1}, (const int64_t[]){12}, 1);
}

/* The estimates learn from the ad log. After 100 impressions and 5 clicks of campaign 1
 * (CPC): pCTR = (5 + 1.23) / 200 = 0.03115, score 6.26115, first; it pays 3.001 / 0.03115 =
 * 96.34 -> 96 and campaign 0 the next score, 1.729378 -> 1729 per thousand. After 50
 * impressions, 4 clicks and 2 attributed conversions of campaign 2 (CPA): pCTR = 5.23 / 150,
 * pCVR = (2 + 0.2 w) / (4 + w) with w = 100 x 0.0123 = 1.23 prior clicks (ads.c's reading of
 * prior_weight for pCVR: the prior's weight in clicks), score 10.526, first; it pays
 * 6.26115 / q = 418.15 -> 418. */
static void test_auction_learned_estimates(void **state)
{
    fw_engine_cfg cfg = ads_cfg();
    fw_engine_ctx *ctx;
    fw_engine *e = fixture_rig_open(state, build(auction_camps, N_AUCTION, &cfg, 1), &ctx);
    fw_ad_fill f[SLOTS];
    uint32_t n;

    log_n(e, ctx, 3, 1, 0, FW_AD_IMPRESSION, 140, 100);
    log_n(e, ctx, 3, 1, 0, FW_AD_CLICK, 140, 5);
    n = fill(e, ctx, 0, 0, 1, FW_NONE, SLOTS, f, auction_camps);
    /* (Prices and the lower slots depend on the learned pCTR model, trained by these calls --
     * impressions logged apart from their clicks count as unclicked --: the clicked campaign
     * leading is what is checked; test_auction_scores_and_prices has exact prices.) */
    assert_int_equal(n, 4);
    assert_int_equal(f[0].campaign, 1);

    /* Campaign 2 (brand 1): users 0 and 1 see and click it; two purchases of brand 1. */
    log_n(e, ctx, 0, 2, 1, FW_AD_IMPRESSION, 609, 25);
    log_n(e, ctx, 1, 2, 1, FW_AD_IMPRESSION, 609, 25);
    log_n(e, ctx, 0, 2, 1, FW_AD_CLICK, 609, 2);
    log_n(e, ctx, 1, 2, 1, FW_AD_CLICK, 609, 2);
    assert_int_equal(ads_attribute(e, 0, 1, 2), 2);
    assert_int_equal(ads_attribute(e, 1, 1, 2), 2);
    fw_campaign_stats st = stats(e, 2);
    assert_delivery(&st, 50, 4, 2);
    assert_int_equal(st.spend_cents, 2 * 609);
    n = fill(e, ctx, 2, 0, 3, FW_NONE, SLOTS, f, auction_camps);
    assert_int_equal(n, 4);
    assert_int_equal(f[0].campaign, 2);   /* clicked and converting: it leads now */
    assert_books(e, auction_camps);
}

/* ---- targeting ----------------------------------------------------------------------- */

static void log_engagement(fw_engine *e, fw_engine_ctx *ctx, uint32_t user, uint32_t topic,
                           uint32_t n_impr, uint32_t n_open, int32_t tick)
{
    for (uint32_t i = 0; i < n_impr + n_open; i++) {
        uint32_t note = (2 * i + topic) % N_NOTES;   /* a note of the topic */
        assert_int_equal(note_topic(note), topic);
        fixture_log(e, ctx, user, note, tick, i < n_impr ? FW_EV_IMPRESSION : FW_EV_OPEN);
    }
}

/* Campaign 0 targets topic 1 and outbids campaign 1, which targets everyone; campaign 2
 * targets topic 0. */
static void test_targeting(void **state)
{
    fw_engine_cfg cfg = ads_cfg();
    const fw_campaign_info camps[] = {camp(0, FW_OBJ_CPM, 5000, 100000, 1, 1),
                                      camp(1, FW_OBJ_CPM, 1000, 100000, FW_NONE, 2),
                                      camp(0, FW_OBJ_CPM, 2000, 100000, 0, 0)};
    fw_engine_ctx *ctx;
    fw_engine *e = fixture_rig_open(state, build(camps, 3, &cfg, 1), &ctx);
    fw_ad_fill f[SLOTS];
    uint32_t n;

    /* Nobody engages with anything yet: only the untargeted campaign, or the request's topic. */
    n = fill(e, ctx, 0, 0, 0, FW_NONE, SLOTS, f, camps);
    assert_fills(f, n, (const uint32_t[]){1}, NULL, 1);
    n = fill(e, ctx, 0, 0, 0, 1, SLOTS, f, camps);
    assert_fills(f, n, (const uint32_t[]){0, 1}, NULL, 2);
    n = fill(e, ctx, 0, 0, 0, 0, SLOTS, f, camps);
    assert_fills(f, n, (const uint32_t[]){2, 1}, NULL, 2);

    /* The population: users 1 and 3 see topic 0 and open a tenth; user 2 sees topic 1 a lot
     * and opens nothing. User 0 opens every topic-1 note they see. */
    log_engagement(e, ctx, 1, 0, 20, 2, 0);
    log_engagement(e, ctx, 3, 0, 20, 2, 0);
    log_engagement(e, ctx, 2, 1, 20, 0, 0);
    log_engagement(e, ctx, 0, 1, 10, 10, 0);

    n = fill(e, ctx, 0, 0, 1, FW_NONE, SLOTS, f, camps);
    assert_fills(f, n, (const uint32_t[]){0, 1}, NULL, 2);
    for (uint32_t u = 1; u < N_USERS; u++) {   /* seeing is not engaging */
        n = fill(e, ctx, u, 0, 1, FW_NONE, SLOTS, f, camps);
        assert_false(filled(f, n, 0));
        assert_true(filled(f, n, 1));
    }
    n = fill(e, ctx, 2, 0, 1, 1, SLOTS, f, camps);
    assert_fills(f, n, (const uint32_t[]){0, 1}, NULL, 2);
}

/* ---- frequency caps ------------------------------------------------------------------ */

static void test_frequency_cap(void **state)
{
    fw_engine_cfg cfg = ads_cfg();
    cfg.ads.freq_cap = 2;
    const fw_campaign_info camps[] = {camp(0, FW_OBJ_CPM, 3000, 100000, FW_NONE, 0),
                                      camp(1, FW_OBJ_CPM, 2000, 100000, FW_NONE, 1)};
    fw_engine_ctx *ctx;
    fw_engine *e = fixture_rig_open(state, build(camps, 2, &cfg, 1), &ctx);
    fw_ad_fill f[SLOTS];
    uint32_t n;

    /* One slot at a time: campaign 0 twice, then 1 twice, then nothing, all on day 0. */
    const uint32_t seq[] = {0, 0, 1, 1};
    for (uint32_t i = 0; i < 4; i++) {
        n = fill(e, ctx, 0, 0, (int32_t)(3 * i), FW_NONE, 1, f, camps);
        assert_fills(f, n, &seq[i], NULL, 1);
    }
    assert_int_equal(fill(e, ctx, 0, 0, 23, FW_NONE, 1, f, camps), 0);

    /* Other users are unaffected; two slots count against both campaigns. */
    n = fill(e, ctx, 1, 0, 23, FW_NONE, 1, f, camps);
    assert_fills(f, n, (const uint32_t[]){0}, NULL, 1);
    for (uint32_t i = 0; i < 2; i++) {
        n = fill(e, ctx, 2, 0, 10, FW_NONE, 2, f, camps);
        assert_fills(f, n, (const uint32_t[]){0, 1}, NULL, 2);
    }
    assert_int_equal(fill(e, ctx, 2, 0, 10, FW_NONE, 2, f, camps), 0);

    /* The next day, again. */
    assert_int_equal(fw_engine_end_day(e, ctx, 0), FW_OK);
    for (uint32_t i = 0; i < 4; i++) {
        n = fill(e, ctx, 0, 0, (int32_t)TPD + (int32_t)i, FW_NONE, 1, f, camps);
        assert_fills(f, n, &seq[i], NULL, 1);
    }
    assert_int_equal(fill(e, ctx, 0, 0, (int32_t)TPD + 4, FW_NONE, 1, f, camps), 0);
}

/* ---- billing ------------------------------------------------------------------------- */

static void test_billing_per_objective(void **state)
{
    fw_engine_cfg cfg = ads_cfg();
    cfg.ads.click_window_days = 7;
    const fw_campaign_info camps[] = {camp(0, FW_OBJ_CPM, 2000, 100000, FW_NONE, 0),
                                      camp(0, FW_OBJ_CPC, 300, 100000, FW_NONE, 1),
                                      camp(1, FW_OBJ_CPA, 5000, 100000, FW_NONE, 2)};
    fw_engine_ctx *ctx;
    fw_engine *e = fixture_rig_open(state, build(camps, 3, &cfg, 1), &ctx);

    /* CPM: 1234 per thousand is 1234 millicents an impression, kept exactly: after i
     * impressions the spend is floor(1234 i / 1000) cents (1 a time would give i). */
    for (int64_t i = 1; i <= 9; i++) {
        assert_int_equal(log1(e, ctx, 0, 0, 0, FW_AD_IMPRESSION, 1234), 1234);
        assert_int_equal(stats(e, 0).spend_cents, 1234 * i / 1000);
        assert_int_equal(stats(e, 0).spend_today_cents, 1234 * i / 1000);
    }
    for (int i = 0; i < 3; i++)   /* clicks: not billed */
        assert_int_equal(log1(e, ctx, 0, 0, 0, FW_AD_CLICK, 1234), 0);
    /* CPC: impressions are not billed, clicks are, at the fill's price. */
    for (int i = 0; i < 4; i++)
        assert_int_equal(log1(e, ctx, 1, 1, 0, FW_AD_IMPRESSION, 250), 0);
    assert_int_equal(stats(e, 1).spend_cents, 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(log1(e, ctx, 1, 1, 0, FW_AD_CLICK, 250), 250000);
    assert_int_equal(stats(e, 1).spend_cents, 500);
    /* CPA: neither impressions nor clicks; an attributed conversion at the fill's price. */
    assert_int_equal(log1(e, ctx, 2, 2, 0, FW_AD_IMPRESSION, 4000), 0);
    assert_int_equal(log1(e, ctx, 2, 2, 0, FW_AD_CLICK, 4000), 0);
    assert_int_equal(stats(e, 2).spend_cents, 0);
    assert_attributed(e, 2, 1, 3, 2, 4000000);
    assert_int_equal(stats(e, 2).spend_cents, 4000);
    /* A purchase by a user who touched only CPM and CPC campaigns bills neither. */
    assert_attributed(e, 0, 0, 3, 0, 0);
    assert_attributed(e, 1, 0, 3, 1, 0);
    assert_attributed(e, 3, 0, 3, FW_NONE, 0);

    fw_campaign_stats s0 = stats(e, 0), s1 = stats(e, 1), s2 = stats(e, 2);
    assert_int_equal(s0.spend_cents, 11);   /* 11106 millicents */
    assert_int_equal(s1.spend_cents, 500);
    assert_int_equal(s2.spend_cents, 4000);
    assert_delivery(&s0, 9, 3, 1);
    assert_int_equal(s0.auctions_won, 9);
    assert_delivery(&s1, 4, 2, 1);
    assert_delivery(&s2, 1, 1, 1);
    for (uint32_t c = 0; c < 3; c++)
        assert_int_equal(stats(e, c).overdelivery_cents, 0);
    /* Revenue: 11106 + 500000 + 4000000 millicents = 4511 cents = the sum of the spends. */
    assert_int_equal(fw_ads_revenue(e), 11 + 500 + 4000);
    assert_books(e, camps);
    /* The day's spend resets; the totals stay. */
    assert_int_equal(fw_engine_end_day(e, ctx, 0), FW_OK);
    assert_int_equal(stats(e, 1).spend_today_cents, 0);
    assert_int_equal(stats(e, 1).spend_cents, 500);
    assert_int_equal(fw_ads_revenue(e), 4511);
    assert_books(e, camps);
}

/* ---- budgets ------------------------------------------------------------------------- */

/* Campaign 0 (CPC 100, budget 250 a day) outranks 1 (CPM 500). */
static void test_budget_throttles_and_resets(void **state)
{
    fw_engine_cfg cfg = ads_cfg();
    const fw_campaign_info camps[] = {camp(0, FW_OBJ_CPC, 100, 250, FW_NONE, 0),
                                      camp(1, FW_OBJ_CPM, 500, 100000, FW_NONE, 1)};
    fw_engine_ctx *ctx;
    fw_engine *e = fixture_rig_open(state, build(camps, 2, &cfg, 1), &ctx);
    fw_ad_fill f[SLOTS];
    uint32_t n = fill(e, ctx, 0, 0, 0, FW_NONE, SLOTS, f, camps);
    assert_fills(f, n, (const uint32_t[]){0, 1}, NULL, 2);

    log1(e, ctx, 0, 0, 0, FW_AD_CLICK, 100);
    fw_campaign_stats st = stats(e, 0);
    assert_int_equal(st.spend_today_cents, 100);
    assert_false(st.throttled);
    log1(e, ctx, 1, 0, 0, FW_AD_CLICK, 100);   /* 50 left: less than a click at the bid */
    st = stats(e, 0);
    assert_int_equal(st.spend_today_cents, 200);
    assert_true(st.throttled);
    n = fill(e, ctx, 2, 0, 1, FW_NONE, SLOTS, f, camps);
    assert_fills(f, n, (const uint32_t[]){1}, NULL, 1);
    /* Clicks already served still come: not billed past the budget, counted as overdelivery;
     * one that fits (40 <= 50) is billed. */
    assert_int_equal(log1(e, ctx, 2, 0, 1, FW_AD_CLICK, 100), 0);
    assert_int_equal(log1(e, ctx, 3, 0, 1, FW_AD_CLICK, 100), 0);
    assert_int_equal(log1(e, ctx, 3, 0, 1, FW_AD_CLICK, 40), 40000);
    st = stats(e, 0);
    assert_int_equal(st.spend_today_cents, 240);
    assert_int_equal(st.spend_cents, 240);
    assert_int_equal(st.overdelivery_cents, 200);
    assert_int_equal(st.clicks, 5);
    assert_true(st.throttled);
    assert_int_equal(fw_ads_revenue(e), 240);
    assert_books(e, camps);
    for (int32_t t = 1; t < (int32_t)TPD; t++) {
        assert_int_equal(fw_engine_end_tick(e, ctx, t), FW_OK);
        n = fill(e, ctx, 0, 0, t, FW_NONE, SLOTS, f, camps);
        assert_false(filled(f, n, 0));
    }

    /* The next day it is back, with a fresh budget. */
    assert_int_equal(fw_engine_end_day(e, ctx, 0), FW_OK);
    st = stats(e, 0);
    assert_false(st.throttled);
    assert_int_equal(st.spend_today_cents, 0);
    assert_int_equal(st.spend_cents, 240);
    n = fill(e, ctx, 0, 0, (int32_t)TPD, FW_NONE, SLOTS, f, camps);
    assert_int_equal(n, 2);
    assert_int_equal(f[0].campaign, 0);
    log1(e, ctx, 0, 0, (int32_t)TPD, FW_AD_CLICK, 100);
    assert_int_equal(stats(e, 0).spend_today_cents, 100);
    assert_int_equal(stats(e, 0).spend_cents, 340);
    assert_books(e, camps);
}

/* A campaign whose day's budget cannot pay its bid once is out of every auction from the
 * day's start, not only after its first charge. Found in the GSP arm of
 * scenarios/auction_formats.yaml: a conversion campaign (bid 74.99 CNY, a third of 12.03 CNY a
 * day in each arm) won 5,855 impressions in a week and was credited 4 conversions, all
 * overdelivery (CNY 0 spent): only a conversion's charge throttled it, so it entered the
 * auctions free every morning until its first attributed purchase. Campaign 0 (conversions,
 * bid 5000, budget 1000) would outrank 1 and 2; 2 (bid 4000, budget 4000) affords its bid. */
static void test_budget_below_bid_stays_out(void **state)
{
    fw_engine_cfg cfg = ads_cfg();
    fw_campaign_info camps[] = {camp(0, FW_OBJ_CPA, 5000, 1000, FW_NONE, 0),
                                camp(1, FW_OBJ_CPM, 500, 100000, FW_NONE, 1),
                                camp(1, FW_OBJ_CPA, 4000, 4000, FW_NONE, 2)};
    fw_engine_ctx *ctx;
    fw_engine *e = fixture_rig_open(state, build(camps, 3, &cfg, 1), &ctx);
    fw_ad_fill f[SLOTS];
    assert_true(stats(e, 0).throttled);
    assert_false(stats(e, 2).throttled);
    uint32_t n = fill(e, ctx, 0, 0, 0, FW_NONE, SLOTS, f, camps);
    assert_fills(f, n, (const uint32_t[]){2, 1}, NULL, 2);
    /* The next day's budget is as small: still out. */
    assert_int_equal(fw_engine_end_day(e, ctx, 0), FW_OK);
    assert_true(stats(e, 0).throttled);
    n = fill(e, ctx, 1, 0, (int32_t)TPD, FW_NONE, SLOTS, f, camps);
    assert_fills(f, n, (const uint32_t[]){2, 1}, NULL, 2);
    /* A budget raised to its bid brings it back with the day after. */
    assert_int_equal(fw_ads_set_budget(e, 0, 0, 5000), FW_OK);
    assert_int_equal(fw_engine_end_day(e, ctx, 1), FW_OK);
    assert_false(stats(e, 0).throttled);
    camps[0].daily_budget_cents = 5000;   /* what fill() and assert_books() check against */
    n = fill(e, ctx, 2, 0, 2 * (int32_t)TPD, FW_NONE, SLOTS, f, camps);
    assert_fills(f, n, (const uint32_t[]){0, 2, 1}, NULL, 3);
    assert_books(e, camps);
}

/* Many clicks at prices from 1 to the bid against a small budget: the spend follows the
 * rule exactly (a charge that would pass the budget is overdelivery), never passes the
 * budget, and the campaign is throttled exactly when a click at its bid no longer fits. */
static void test_budget_property(void **state)
{
    fw_engine_cfg cfg = ads_cfg();
    const int64_t bid = 97, budget = 1000;
    const fw_campaign_info camps[] = {camp(0, FW_OBJ_CPC, bid, budget, FW_NONE, 0)};
    fw_engine_ctx *ctx;
    fw_engine *e = fixture_rig_open(state, build(camps, 1, &cfg, 1), &ctx);
    uint64_t seed = 42;
    for (uint32_t day = 0; day < 3; day++) {
        int64_t spend = 0, over = 0, total_before = stats(e, 0).spend_cents;
        int64_t over_before = stats(e, 0).overdelivery_cents;
        for (int i = 0; i < 60; i++) {
            int64_t p = 1 + (int64_t)(next_value(&seed) % (uint64_t)bid);
            int64_t billed = log1(e, ctx, (uint32_t)i % N_USERS, 0, (int32_t)(day * TPD), FW_AD_CLICK, p);
            if (spend + p > budget) {
                over += p;
                assert_int_equal(billed, 0);
            } else {
                spend += p;
                assert_int_equal(billed, p * 1000);
            }
            fw_campaign_stats st = stats(e, 0);
            assert_int_equal(st.spend_today_cents, spend);
            assert_int_equal(st.spend_cents, total_before + spend);
            assert_int_equal(st.overdelivery_cents, over_before + over);
            assert_true(st.spend_today_cents <= budget);
            assert_int_equal(st.throttled, budget - spend < bid);
        }
        assert_true(over > 0);
        assert_books(e, camps);
        assert_int_equal(fw_engine_end_day(e, ctx, day), FW_OK);
    }
}

/* ---- pacing -------------------------------------------------------------------------- */

/* Campaign 0: CPM 5000 with 2400 a day (an even 100 a tick); campaign 1: CPM 3000, rich. */
static const fw_campaign_info pacing_camps[] = {
    {.brand = 0, .objective = FW_OBJ_CPM, .bid_cents = 5000, .daily_budget_cents = 2400,
     .target_topic = FW_NONE, .creative = 0},
    {.brand = 1, .objective = FW_OBJ_CPM, .bid_cents = 3000, .daily_budget_cents = 1000000,
     .target_topic = FW_NONE, .creative = 1},
};

static void assert_mult(const fw_engine *e, uint32_t c, double want)
{
    double got = stats(e, c).multiplier;
    if (!(fabs(got - want) <= 1e-12))
        fail_msg("campaign %u multiplier %.17g, want %.17g", c, got, want);
}

/* Tick 0: 60 impressions at 5000 = 300 cents, three times the even share (100): the
 * multiplier rises past 2/3 (by 0.5 x (300 - 100) / 100 = 1 against the even share; ads.c
 * measures against the rest of the budget after the tick, 2100 / 24, and steps 1.21), so 5000
 * bids under 3000 and campaign 1, first, pays campaign 0's effective bid. Each tick with
 * nothing spent steps it down by exactly pacing_lr (0.5 x (0 - t) / t) until 0, never below;
 * then campaign 0 is first again. */
/* ---- autobidding ------------------------------------------------------------------------ */

static fw_campaign_info goal_camp(uint32_t brand, uint32_t goal, double target, int64_t cap_cpm, int64_t budget,
                                  uint32_t creative)
{
    fw_campaign_info c = camp(brand, FW_OBJ_CPM, cap_cpm, budget, FW_NONE, creative);
    c.goal = goal;
    c.target = target;
    return c;
}

/* First-price shading: a fresh target-CPA campaign values an impression at pCTR x pCVR x
 * target = 0.0123 x 0.2 x 100000 = 246 cents (the priors; goal multiplier 1), so 246,000 per
 * thousand. Under GSP it bids that and pays the manual rival's 50,000, its minimum bid to
 * win. Under first price it starts bidding its value (shade 1) and pays it, told that 50,000
 * would have won; from its wins it learns to shade: each tick's bid falls for a week of ticks,
 * it keeps winning (a huge prior weight holds its value steady), and its last bid is within
 * 10% over the 50,000 that wins (from 246,000). The manual rival never shades. */
static void test_autobid_first_price_shades(void **state)
{
    const fw_campaign_info camps[2] = {goal_camp(0, FW_GOAL_TARGET_CPA, 100000.0, 1000000, INT64_C(100000000000), 0),
                                       camp(1, FW_OBJ_CPM, 50000, INT64_C(100000000000), FW_NONE, 1)};
    fw_engine_cfg cfg = ads_cfg();
    cfg.ads.prior_weight = 1e9;   /* the campaign's CTR estimate stays at its prior: a steady value */
    fw_ad_fill f[SLOTS];
    fw_engine_ctx *ctx;
    fw_engine *e = fixture_rig_open(state, build(camps, 2, &cfg, 1), &ctx);
    assert_fills(f, fill(e, ctx, 0, 0, 0, FW_NONE, 1, f, camps), (const uint32_t[]){0}, (const int64_t[]){50000}, 1);
    assert_int_equal(f[0].min_bid_cents, 50000);

    cfg.ads.pay_rule = FW_PAY_FIRST;
    e = fixture_rig_open(state, build(camps, 2, &cfg, 1), &ctx);
    assert_fills(f, fill(e, ctx, 0, 0, 0, FW_NONE, 2, f, camps), (const uint32_t[]){0, 1},
                 (const int64_t[]){246000, 50000}, 2);
    assert_int_equal(f[0].min_bid_cents, 50000);
    int64_t prev = f[0].price_cents;
    uint32_t lost = 0;
    for (int32_t t = 0; t < 40; t++) {
        uint32_t n = fill(e, ctx, (uint32_t)t % N_USERS, 0, t, FW_NONE, 1, f, camps);
        assert_int_equal(n, 1);
        assert_true(f[0].price_cents >= f[0].min_bid_cents);
        if (f[0].campaign != 0) {   /* the rival won at its own bid: nothing for the autobidder */
            assert_int_equal(f[0].price_cents, 50000);
            lost++;
            assert_int_equal(fw_engine_end_tick(e, ctx, t), FW_OK);
            continue;
        }
        if (t > 0 && t < 8 && !(f[0].price_cents < prev))
            fail_msg("tick %d: bid %lld, not below the last tick's %lld", t, (long long)f[0].price_cents, (long long)prev);
        prev = f[0].price_cents;
        fw_ad_event ev = {.user = (uint32_t)t % N_USERS, .campaign = 0, .tick = t, .type = FW_AD_IMPRESSION,
                          .price_cents = f[0].price_cents, .min_bid_cents = f[0].min_bid_cents};
        assert_int_equal(fw_ads_log(e, ctx, &ev, 1, NULL), FW_OK);
        assert_int_equal(fw_engine_end_tick(e, ctx, t), FW_OK);
    }
    double shade = stats(e, 0).bid_shade;
    if (!(prev >= 50000 && prev <= 55000 && shade < 0.3 && lost == 0))
        fail_msg("after 40 ticks (%u lost): last winning bid %lld per thousand (min bid to win 50000), shade %.3f", lost,
                 (long long)prev, shade);
    assert_true(stats(e, 1).bid_shade == 1.0);
    assert_books(e, camps);
}

/* A deterministic uniform in [0, 1) for the simulated market (xorshift64*). */
static double market_uniform(uint64_t *x)
{
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return (double)((*x * UINT64_C(2685821657736338717)) >> 11) * 0x1p-53;
}

/* A target-CPA campaign reaches its target within 10% on a stationary market: every request
 * is one first-price slot against a manual rival, an ad shown is clicked with probability
 * 0.1 and a click converts with probability 0.5 at once. The platform's estimates start at
 * the priors (0.0123, 0.2) and learn the truth from the log, and its first-price shading is
 * learned as it goes: the goal multiplier has to make up whatever they leave off target. Realised CPA over days 15-29 (spend / conversions)
 * must be within 10% of the target 400 cents, and the multiplier must have moved (the
 * shading it learns from its minimum bids to win moves the prices it pays too). */
static void test_autobid_target_cpa_reaches_target(void **state)
{
    const double target = 400.0;
    const fw_campaign_info camps[2] = {goal_camp(0, FW_GOAL_TARGET_CPA, target, 10000000, INT64_C(1000000000), 0),
                                       camp(1, FW_OBJ_CPM, 300, INT64_C(1000000000), FW_NONE, 1)};
    fw_engine_cfg cfg = ads_cfg();
    cfg.ads.pay_rule = FW_PAY_FIRST;
    cfg.ads.reserve_cpm_cents = 0.0;
    cfg.ads.autobid_lr = 0.05;
    fw_engine_ctx *ctx;
    fw_engine *e = fixture_rig_open(state, build(camps, 2, &cfg, 1), &ctx);
    uint64_t rng = 88172645463325252u;
    fw_ad_fill f[SLOTS];
    int64_t spend0 = 0;
    uint64_t conv0 = 0;
    const uint32_t days = 30, per_tick = 40;   /* per_tick <= the buffers below */
    for (uint32_t d = 0; d < days; d++) {
        if (d == days / 2) {
            spend0 = stats(e, 0).spend_cents;
            conv0 = stats(e, 0).conversions;
        }
        for (uint32_t t = 0; t < TPD; t++) {
            /* The tick's requests, then its barrier: the ad log in one call (the pCTR model
             * pairs an impression with the click that follows it there), the purchases. */
            int32_t tick = (int32_t)(d * TPD + t);
            fw_ad_event ev[2 * 40];
            uint32_t buyer[40], n_ev = 0, n_buy = 0;
            for (uint32_t r = 0; r < per_tick; r++) {
                uint32_t u = r % N_USERS;
                uint32_t n = fill(e, ctx, u, 0, tick, FW_NONE, 1, f, camps);
                if (n == 0)
                    continue;
                fw_ad_event x = {.user = u, .campaign = f[0].campaign, .tick = tick, .type = FW_AD_IMPRESSION,
                                 .price_cents = f[0].price_cents};
                ev[n_ev++] = x;
                if (market_uniform(&rng) < 0.1) {
                    x.type = FW_AD_CLICK;
                    ev[n_ev++] = x;
                    if (f[0].campaign == 0 && market_uniform(&rng) < 0.5)
                        buyer[n_buy++] = u;
                }
            }
            assert_int_equal(fw_ads_log(e, ctx, ev, n_ev, NULL), FW_OK);
            for (uint32_t b = 0; b < n_buy; b++)
                assert_int_equal(fw_ads_attribute(e, buyer[b], 0, tick, NULL), 0);
            assert_int_equal(fw_engine_end_tick(e, ctx, tick), FW_OK);
        }
        assert_int_equal(fw_engine_end_day(e, ctx, d), FW_OK);
    }
    fw_campaign_stats st = stats(e, 0);
    double cpa = (double)(st.spend_cents - spend0) / (double)(st.conversions - conv0);
    print_message("target CPA %.0f: realised %.1f cents over %llu conversions, goal multiplier %.3f\n", target, cpa,
                  (unsigned long long)(st.conversions - conv0), st.goal_multiplier);
    if (!(fabs(cpa - target) <= 0.1 * target) || !(fabs(st.goal_multiplier - 1.0) > 0.05))
        fail_msg("realised CPA %.1f cents over %llu conversions (target %.0f), goal multiplier %.3f", cpa,
                 (unsigned long long)(st.conversions - conv0), target, st.goal_multiplier);
    assert_books(e, camps);
}

static void test_pacing_dual(void **state)
{
    fw_engine_cfg cfg = ads_cfg();
    cfg.ads.pacing = FW_PACING_DUAL;
    cfg.ads.reserve_cpm_cents = 0.0;
    fw_engine_ctx *ctx;
    fw_engine *e = fixture_rig_open(state, build(pacing_camps, 2, &cfg, 1), &ctx);
    fw_ad_fill f[SLOTS];
    uint32_t n = fill(e, ctx, 0, 0, 0, FW_NONE, 2, f, pacing_camps);
    assert_fills(f, n, (const uint32_t[]){0, 1}, (const int64_t[]){3000, 0}, 2);

    log_n(e, ctx, 0, 0, 0, FW_AD_IMPRESSION, 5000, 60);
    log_n(e, ctx, 1, 1, 0, FW_AD_IMPRESSION, 3000, 1);
    assert_mult(e, 0, 0.0);   /* only at the tick's end */
    assert_int_equal(fw_engine_end_tick(e, ctx, 0), FW_OK);
    double m = stats(e, 0).multiplier;
    if (!(m >= 1.0 && m <= 1.25))
        fail_msg("multiplier %.17g after spending 3 even shares, want 1 (1.21 by the rest)", m);
    assert_mult(e, 1, 0.0);   /* under its share: stays at 0 */
    assert_false(stats(e, 0).throttled);
    n = fill(e, ctx, 1, 0, 1, FW_NONE, 2, f, pacing_camps);
    assert_fills(f, n, (const uint32_t[]){1, 0},
                 (const int64_t[]){(int64_t)floor(5000.0 / (1.0 + m)), 0}, 2);

    int32_t t = 1;
    for (; m > 0.0; t++) {
        assert_int_equal(fw_engine_end_tick(e, ctx, t), FW_OK);
        m = m > 0.5 ? m - 0.5 : 0.0;
        assert_mult(e, 0, m);
        assert_mult(e, 1, 0.0);
    }
    assert_true(t <= 4);
    assert_int_equal(fw_engine_end_tick(e, ctx, t), FW_OK);
    assert_mult(e, 0, 0.0);
    n = fill(e, ctx, 2, 0, t + 1, FW_NONE, 2, f, pacing_camps);
    assert_fills(f, n, (const uint32_t[]){0, 1}, (const int64_t[]){3000, 0}, 2);
    assert_int_equal(stats(e, 0).spend_today_cents, 300);
    assert_books(e, pacing_camps);
}

/* Throttle: a campaign whose spend runs ahead of the day's elapsed share is out at the
 * tick's end for the rest of the day; one behind it stays; the next day both are back. */
static void test_pacing_throttle(void **state)
{
    fw_engine_cfg cfg = ads_cfg();
    cfg.ads.pacing = FW_PACING_THROTTLE;
    const fw_campaign_info camps[] = {pacing_camps[0],
                                      camp(1, FW_OBJ_CPM, 3000, 2400, FW_NONE, 1)};
    fw_engine_ctx *ctx;
    fw_engine *e = fixture_rig_open(state, build(camps, 2, &cfg, 1), &ctx);
    fw_ad_fill f[SLOTS];
    log_n(e, ctx, 0, 0, 0, FW_AD_IMPRESSION, 5000, 30);   /* 150 > 100 = 1/24 of 2400 */
    log_n(e, ctx, 1, 1, 0, FW_AD_IMPRESSION, 2500, 20);   /* 50 */
    assert_false(stats(e, 0).throttled);
    assert_int_equal(fw_engine_end_tick(e, ctx, 0), FW_OK);
    assert_true(stats(e, 0).throttled);
    assert_false(stats(e, 1).throttled);
    assert_mult(e, 0, 0.0);
    uint32_t n = fill(e, ctx, 0, 0, 1, FW_NONE, SLOTS, f, camps);
    assert_fills(f, n, (const uint32_t[]){1}, NULL, 1);
    /* Campaign 1 at 150 by the end of tick 1 (share 200) stays; at 350 by the end of tick 2
     * (share 300) it is out too. */
    log_n(e, ctx, 1, 1, 1, FW_AD_IMPRESSION, 2500, 40);
    assert_int_equal(fw_engine_end_tick(e, ctx, 1), FW_OK);
    assert_false(stats(e, 1).throttled);
    log_n(e, ctx, 1, 1, 2, FW_AD_IMPRESSION, 2500, 80);
    assert_int_equal(fw_engine_end_tick(e, ctx, 2), FW_OK);
    assert_true(stats(e, 1).throttled);
    assert_int_equal(fill(e, ctx, 0, 0, 3, FW_NONE, SLOTS, f, camps), 0);
    for (int32_t t = 3; t < (int32_t)TPD; t++)
        assert_int_equal(fw_engine_end_tick(e, ctx, t), FW_OK);
    assert_true(stats(e, 0).throttled);

    assert_int_equal(fw_engine_end_day(e, ctx, 0), FW_OK);
    assert_false(stats(e, 0).throttled);
    assert_false(stats(e, 1).throttled);
    n = fill(e, ctx, 0, 0, (int32_t)TPD, FW_NONE, SLOTS, f, camps);
    assert_fills(f, n, (const uint32_t[]){0, 1}, NULL, 2);
    /* Day 1 counts from its own start: 95 in its first tick is within its share (100). */
    log_n(e, ctx, 0, 0, (int32_t)TPD, FW_AD_IMPRESSION, 5000, 19);
    assert_int_equal(fw_engine_end_tick(e, ctx, (int32_t)TPD), FW_OK);
    assert_false(stats(e, 0).throttled);
    assert_mult(e, 0, 0.0);
    assert_books(e, camps);
}

/* None: overspending moves nothing. */
static void test_pacing_none(void **state)
{
    fw_engine_cfg cfg = ads_cfg();
    cfg.ads.reserve_cpm_cents = 0.0;
    fw_engine_ctx *ctx;
    fw_engine *e = fixture_rig_open(state, build(pacing_camps, 2, &cfg, 1), &ctx);
    fw_ad_fill f[SLOTS];
    for (int32_t t = 0; t < 4; t++) {
        log_n(e, ctx, 0, 0, t, FW_AD_IMPRESSION, 5000, 60);
        assert_int_equal(fw_engine_end_tick(e, ctx, t), FW_OK);
        assert_mult(e, 0, 0.0);
        assert_false(stats(e, 0).throttled);
        uint32_t n = fill(e, ctx, 0, 0, t + 1, FW_NONE, 2, f, pacing_camps);
        assert_fills(f, n, (const uint32_t[]){0, 1}, (const int64_t[]){3000, 0}, 2);
    }
    assert_int_equal(stats(e, 0).spend_today_cents, 1200);
    assert_books(e, pacing_camps);
}

/* ---- attribution --------------------------------------------------------------------- */

/* Windows: clicks 2 days (48 ticks), views 1 day (24). Campaigns 0 (CPC) and 1 (CPM) are
 * brand 0's; 2 (CPA) and 3 (CPM) brand 1's. */
static void test_attribution(void **state)
{
    fw_engine_cfg cfg = ads_cfg();
    const fw_campaign_info camps[] = {camp(0, FW_OBJ_CPC, 300, 100000, FW_NONE, 0),
                                      camp(0, FW_OBJ_CPM, 2000, 100000, FW_NONE, 1),
                                      camp(1, FW_OBJ_CPA, 5000, 100000, FW_NONE, 2),
                                      camp(1, FW_OBJ_CPM, 2000, 100000, FW_NONE, 3)};
    fw_engine_ctx *ctx;
    fw_engine *e = fixture_rig_open(state, build(camps, 4, &cfg, 1), &ctx);

    /* User 0 clicks 0 at tick 10 and later sees 1: the click wins; another brand: none. */
    log1(e, ctx, 0, 0, 10, FW_AD_IMPRESSION, 200);
    log1(e, ctx, 0, 0, 10, FW_AD_CLICK, 200);
    log1(e, ctx, 0, 1, 20, FW_AD_IMPRESSION, 1500);
    assert_attributed(e, 0, 0, 30, 0, 0);
    assert_int_equal(ads_attribute(e, 0, 1, 30), FW_NONE);
    /* Past the click window (10 + 48), the view of 1 at 20 is past its window too. */
    assert_int_equal(ads_attribute(e, 0, 0, 10 + 48 + 1), FW_NONE);

    /* User 1 only sees 1 at tick 10: a view within a day is credited, one past it is not. */
    log1(e, ctx, 1, 1, 10, FW_AD_IMPRESSION, 1500);
    assert_int_equal(ads_attribute(e, 1, 0, 10 + 24 - 1), 1);
    assert_int_equal(ads_attribute(e, 1, 0, 10 + 24 + 1), FW_NONE);
    /* A purchase before the touch is not its conversion. */
    assert_int_equal(ads_attribute(e, 1, 0, 9), FW_NONE);

    /* User 2 clicks 0 at tick 0: credited up to 48 ticks later, not after. */
    log1(e, ctx, 2, 0, 0, FW_AD_IMPRESSION, 250);
    log1(e, ctx, 2, 0, 0, FW_AD_CLICK, 250);
    assert_int_equal(ads_attribute(e, 2, 0, 47), 0);
    assert_int_equal(ads_attribute(e, 2, 0, 49), FW_NONE);

    /* User 3 sees 3, clicks 2 (CPA, at 800), then sees 3 again: 2 is credited and billed 800. */
    log1(e, ctx, 3, 3, 0, FW_AD_IMPRESSION, 1000);
    log1(e, ctx, 3, 2, 1, FW_AD_IMPRESSION, 800);
    log1(e, ctx, 3, 2, 1, FW_AD_CLICK, 800);
    log1(e, ctx, 3, 3, 2, FW_AD_IMPRESSION, 1000);
    assert_attributed(e, 3, 1, 5, 2, 800000);
    assert_int_equal(stats(e, 2).spend_cents, 800);
    assert_int_equal(ads_attribute(e, 3, 0, 5), FW_NONE);

    /* Bad user: none. */
    assert_int_equal(ads_attribute(e, N_USERS, 0, 5), FW_NONE);

    assert_int_equal(stats(e, 0).conversions, 2);
    assert_int_equal(stats(e, 1).conversions, 1);
    assert_int_equal(stats(e, 2).conversions, 1);
    assert_int_equal(stats(e, 3).conversions, 0);
    /* Only the CPA campaign bills conversions. */
    assert_int_equal(stats(e, 0).spend_cents, 200 + 250);   /* its two clicks */
    assert_int_equal(stats(e, 1).spend_cents, 3);           /* 2 x 1500 millicents */
    assert_int_equal(stats(e, 3).spend_cents, 2);           /* 2 x 1000 millicents */
    assert_int_equal(fw_ads_revenue(e), 450 + 3 + 2 + 800);
    assert_books(e, camps);

    /* A later view of a clicked campaign does not undo the click: clicked at 0, seen at 10,
     * bought at 40 (within the click window, past the view's). */
    e = fixture_rig_open(state, build(camps, 4, &cfg, 1), &ctx);
    log1(e, ctx, 0, 0, 0, FW_AD_IMPRESSION, 250);
    log1(e, ctx, 0, 0, 0, FW_AD_CLICK, 250);
    log1(e, ctx, 0, 0, 10, FW_AD_IMPRESSION, 250);
    assert_attributed(e, 0, 0, 40, 0, 0);
    assert_int_equal(stats(e, 0).conversions, 1);
}

/* ---- bad input ----------------------------------------------------------------------- */

static void test_bad_input(void **state)
{
    fw_engine_cfg cfg = ads_cfg();
    const fw_campaign_info good[] = {camp(0, FW_OBJ_CPM, 2000, 100000, FW_NONE, 0),
                                     camp(1, FW_OBJ_CPA, 500, 100000, 1, N_NOTES - 1)};
    fw_engine_ctx *ctx;
    fw_engine *e = fixture_rig_open(state, build(good, 2, &cfg, 1), &ctx);
    const fw_ad_event ev[] = {
        {.user = 0, .campaign = 0, .tick = 0, .type = FW_AD_IMPRESSION, .price_cents = 1000},
        {.user = N_USERS, .campaign = 0, .tick = 0, .type = FW_AD_IMPRESSION, .price_cents = 1000},
        {.user = 1, .campaign = 0, .tick = 0, .type = FW_AD_IMPRESSION, .price_cents = 1000},
        {.user = 1, .campaign = 2, .tick = 0, .type = FW_AD_IMPRESSION, .price_cents = 1000},
        {.user = 1, .campaign = 0, .tick = 0, .type = FW_AD_EV__COUNT, .price_cents = 1000},
        {.user = 1, .campaign = 0, .tick = 0, .type = FW_AD_IMPRESSION, .price_cents = -1},
        {.user = 2, .campaign = 0, .tick = 0, .type = FW_AD_CLICK, .price_cents = 1000},
    };
    int64_t billed[7] = {-7, -7, -7, -7, -7, -7, -7};
    assert_int_equal(fw_ads_log(e, ctx, ev, 7, billed), FW_ERR_INVAL);
    const int64_t want_billed[7] = {1000, 0, 1000, 0, 0, 0, 0};
    assert_memory_equal(billed, want_billed, sizeof billed);
    fw_campaign_stats st = stats(e, 0);
    assert_int_equal(st.impressions, 2);
    assert_int_equal(st.clicks, 1);
    assert_int_equal(st.spend_cents, 2);
    assert_int_equal(stats(e, 1).impressions, 0);
    assert_int_equal(fw_ads_revenue(e), 2);
    assert_int_equal(fw_ads_log(e, ctx, ev, 0, NULL), FW_OK);
    assert_int_equal(fw_ads_log(e, ctx, &ev[1], 1, NULL), FW_ERR_INVAL);
    assert_int_equal(fw_ads_log(e, ctx, &ev[2], 1, NULL), FW_OK);   /* NULL: billed all the same */
    assert_int_equal(fw_ads_revenue(e), 3);
    assert_books(e, good);

    /* Creation refuses a bad campaign. */
    for (uint32_t i = 0; i < 7; i++) {
        fw_campaign_info two[2] = {good[1], good[0]};
        switch (i) {
        case 0: two[1].bid_cents = 0; break;
        case 1: two[1].bid_cents = -5; break;
        case 2: two[1].daily_budget_cents = 0; break;
        case 3: two[1].objective = FW_OBJ__COUNT; break;
        case 4: two[1].creative = N_NOTES; break;
        case 5: two[1].target_topic = N_TOPICS; break;
        default: two[1].brand = N_BRANDS; break;
        }
        fw_note_info notes[N_NOTES];
        fw_catalog cat = catalog(notes, two, 2);
        fw_err err = FW_OK;
        fw_engine *b = fw_engine_create(&cat, &cfg, 1, &err);
        if (b || err != FW_ERR_INVAL)
            fail_msg("bad campaign %u: engine %p, err %d", i, (void *)b, (int)err);
    }
    /* No campaigns: nothing fills, nothing is billed. */
    fw_note_info notes[N_NOTES];
    fw_catalog cat = catalog(notes, NULL, 0);
    fw_err err = FW_OK;
    e = fw_engine_create(&cat, &cfg, 1, &err);
    assert_non_null(e);
    fixture_rig_open(state, e, &ctx);
    assert_int_equal(fw_ads_n_campaigns(e), 0);
    fw_ad_fill f[SLOTS];
    fw_ad_req q = {.user = 0, .arm = 0, .tick = 0, .topic = FW_NONE};
    assert_int_equal(fw_ads_fill(e, ctx, &q, 4, f), 0);
    assert_int_equal(fw_ads_log(e, ctx, ev, 1, NULL), FW_ERR_INVAL);
    assert_attributed(e, 0, 0, 0, FW_NONE, 0);
    assert_int_equal(fw_ads_revenue(e), 0);
    assert_int_equal(fw_ads_check(e, (char[64]){0}, 64), FW_OK);
}

/* The books cannot overflow (see over_total_mc in engine/src/ads.c): budgets whose day could
 * take the billed books past int64 millicents are refused when set, and a charge beyond a
 * budget that would take overdelivery past it fails the log; the books stay as they were. */
static void test_books_cannot_overflow(void **state)
{
    fw_engine_cfg cfg = ads_cfg();
    const int64_t B = INT64_MAX / 1000;   /* the largest budget or bid in cents */
    fw_note_info notes[N_NOTES];
    char why[1024];
    fw_err err = FW_OK;
    /* At creation: each budget fits, two together do not. */
    fw_campaign_info two[2] = {camp(0, FW_OBJ_CPC, 100, B, FW_NONE, 0), camp(1, FW_OBJ_CPC, 100, 1, FW_NONE, 1)};
    fw_catalog cat = catalog(notes, two, 2);
    fw_engine *e = fw_engine_create_why(&cat, &cfg, 1, &err, why, sizeof why);
    assert_null(e);
    assert_int_equal(err, FW_ERR_RANGE);
    assert_non_null(strstr(why, "world.ad_budget_cents"));
    two[1].daily_budget_cents = 0;   /* one alone: INT64_MAX - 807 millicents */
    cat = catalog(notes, two, 1);
    assert_non_null(e = fw_engine_create_why(&cat, &cfg, 1, &err, why, sizeof why));
    fw_engine_destroy(e);
    for (int i = 0; i < 2; i++) {   /* past B, a bid or a budget is not a millicent amount */
        fw_campaign_info c = camp(0, FW_OBJ_CPC, i ? B + 1 : 100, i ? 100 : B + 1, FW_NONE, 0);
        cat = catalog(notes, &c, 1);
        assert_null(fw_engine_create(&cat, &cfg, 1, &err));
        assert_int_equal(err, FW_ERR_INVAL);
    }

    /* Day by day: 4e18 millicents billed a day fit twice (8e18), not three times. */
    const int64_t P = INT64_C(1000000000000000);   /* 1e15 cents a click */
    const fw_campaign_info cpc[] = {camp(0, FW_OBJ_CPC, P, 4 * P, FW_NONE, 0)};
    fw_engine_ctx *ctx;
    e = fixture_rig_open(state, build(cpc, 1, &cfg, 1), &ctx);
    log_n(e, ctx, 0, 0, 0, FW_AD_CLICK, P, 4);
    assert_int_equal(stats(e, 0).spend_cents, 4 * P);
    assert_int_equal(fw_engine_end_day(e, ctx, 0), FW_OK);
    log_n(e, ctx, 0, 0, (int32_t)TPD, FW_AD_CLICK, P, 4);
    assert_int_equal(stats(e, 0).spend_cents, 8 * P);
    assert_int_equal(fw_ads_revenue(e), 8 * P);
    assert_int_equal(fw_engine_end_day(e, ctx, 1), FW_ERR_RANGE);
    assert_non_null(strstr(fw_engine_error(e), "world.ad_budget_cents"));

    /* Overdelivery: a budget of 1 cent, clicks at 9e15 cents; the second would pass int64. */
    const int64_t Q = 9 * P;
    const fw_campaign_info over[] = {camp(0, FW_OBJ_CPC, Q, 1, FW_NONE, 0)};
    e = fixture_rig_open(state, build(over, 1, &cfg, 1), &ctx);
    assert_int_equal(log1(e, ctx, 0, 0, 0, FW_AD_CLICK, Q), 0);
    assert_int_equal(stats(e, 0).overdelivery_cents, Q);
    fw_ad_event ev = {.user = 0, .campaign = 0, .tick = 0, .type = FW_AD_CLICK, .price_cents = Q};
    int64_t billed = -7;
    assert_int_equal(fw_ads_log(e, ctx, &ev, 1, &billed), FW_ERR_RANGE);
    assert_int_equal(billed, 0);
    assert_non_null(strstr(fw_engine_error(e), "overdelivery"));
    assert_int_equal(stats(e, 0).overdelivery_cents, Q);   /* as it was */
    assert_int_equal(stats(e, 0).clicks, 2);
    fixture_assert_check(fw_ads_check, "fw_ads_check", e);
}

/* A price above the bid is either refused or caught by fw_ads_check. */
static void test_check_catches_price_above_bid(void **state)
{
    fw_engine_cfg cfg = ads_cfg();
    const fw_campaign_info camps[] = {camp(0, FW_OBJ_CPC, 100, 100000, FW_NONE, 0)};
    fw_engine_ctx *ctx;
    fw_engine *e = fixture_rig_open(state, build(camps, 1, &cfg, 1), &ctx);
    fw_ad_event ev = {.user = 0, .campaign = 0, .tick = 0, .type = FW_AD_CLICK, .price_cents = 101};
    char why[256] = "";
    if (fw_ads_log(e, ctx, &ev, 1, NULL) == FW_OK)
        assert_int_equal(fw_ads_check(e, why, sizeof why), FW_ERR_INTERNAL);
    else
        assert_int_equal(fw_ads_revenue(e), 0);
}

/* ---- determinism and invariants over a mixed run ------------------------------------- */

/* Six campaigns of every objective and targeting, tight budgets, dual pacing and a cap of 6. */
static const fw_campaign_info mixed_camps[] = {
    {.brand = 0, .objective = FW_OBJ_CPM, .bid_cents = 4000, .daily_budget_cents = 30,
     .target_topic = FW_NONE, .creative = 0},
    {.brand = 0, .objective = FW_OBJ_CPC, .bid_cents = 250, .daily_budget_cents = 300,
     .target_topic = FW_NONE, .creative = 1},
    {.brand = 1, .objective = FW_OBJ_CPA, .bid_cents = 9000, .daily_budget_cents = 12000,
     .target_topic = 1, .creative = 2},
    {.brand = 1, .objective = FW_OBJ_CPM, .bid_cents = 2500, .daily_budget_cents = 20,
     .target_topic = 0, .creative = 3},
    {.brand = 0, .objective = FW_OBJ_CPC, .bid_cents = 120, .daily_budget_cents = 200,
     .target_topic = 1, .creative = 4},
    {.brand = 1, .objective = FW_OBJ_CPM, .bid_cents = 900, .daily_budget_cents = 100000,
     .target_topic = FW_NONE, .creative = 5},
};
#define N_MIXED 6u
#define MIXED_TICKS (2 * (int32_t)TPD)
#define MIXED_FILLS (MIXED_TICKS * (int32_t)N_USERS * 2)

typedef struct run_trace {
    fw_ad_fill fills[MIXED_FILLS];
    uint32_t n_fills[MIXED_TICKS * N_USERS];
    uint32_t attributed[MIXED_TICKS * N_USERS];
    fw_campaign_stats st[N_MIXED];
    int64_t revenue;
    uint32_t throttled_ticks;   /* campaign-ticks spent throttled */
} run_trace;

/* Ticks as the simulator runs them: every user's fill first, then one batch of ad events
 * (impressions, some clicks) at the barrier, purchases, and the tick's end. */
static void run_mixed(void **state, run_trace *tr)
{
    fw_engine_cfg cfg = ads_cfg();
    cfg.ads.pacing = FW_PACING_DUAL;
    cfg.ads.freq_cap = 6;
    fw_engine_ctx *ctx;
    fw_engine *e = fixture_rig_open(state, build(mixed_camps, N_MIXED, &cfg, 1), &ctx);
    memset(tr, 0, sizeof *tr);
    uint64_t seed = 7;
    uint32_t fi = 0;
    int64_t billed_mc[N_MIXED] = {0}, total_mc = 0;
    log_engagement(e, ctx, 0, 1, 4, 4, -1);
    log_engagement(e, ctx, 1, 0, 10, 1, -1);
    for (int32_t t = 0; t < MIXED_TICKS; t++) {
        uint8_t throttled[N_MIXED];
        for (uint32_t c = 0; c < N_MIXED; c++) {
            throttled[c] = (uint8_t)stats(e, c).throttled;
            tr->throttled_ticks += throttled[c];
        }
        fw_ad_event ev[N_USERS * 4];
        int64_t billed[N_USERS * 4];
        size_t n_ev = 0;
        for (uint32_t u = 0; u < N_USERS; u++) {
            uint32_t topic = next_value(&seed) % 3 == 0 ? (uint32_t)(next_value(&seed) % N_TOPICS) : FW_NONE;
            fw_ad_fill *f = &tr->fills[fi];
            uint32_t n = fill(e, ctx, u, 0, t, topic, 2, f, mixed_camps);
            tr->n_fills[t * (int32_t)N_USERS + (int32_t)u] = n;
            fi += 2;
            for (uint32_t j = 0; j < n; j++) {
                assert_false(throttled[f[j].campaign]);   /* a throttled campaign never enters */
                ev[n_ev++] = (fw_ad_event){.user = u, .campaign = f[j].campaign, .tick = t,
                                           .type = FW_AD_IMPRESSION, .price_cents = f[j].price_cents};
                if (next_value(&seed) % 2 == 0) {
                    ev[n_ev] = ev[n_ev - 1];
                    ev[n_ev++].type = FW_AD_CLICK;
                }
            }
        }
        assert_int_equal(fw_ads_log(e, ctx, ev, n_ev, billed), FW_OK);
        for (size_t i = 0; i < n_ev; i++) {
            assert_true(billed[i] >= 0);
            billed_mc[ev[i].campaign] += billed[i];
        }
        for (uint32_t u = 0; u < N_USERS; u++) {
            uint32_t a = FW_NONE;
            if (next_value(&seed) % 6 == 0) {
                int64_t b = -7;
                a = fw_ads_attribute(e, u, (uint32_t)(next_value(&seed) % N_BRANDS), t, &b);
                assert_true(b >= 0 && (b == 0 || (a != FW_NONE && mixed_camps[a].objective == FW_OBJ_CPA)));
                if (a != FW_NONE)
                    billed_mc[a] += b;
            }
            tr->attributed[t * (int32_t)N_USERS + (int32_t)u] = a;
        }
        assert_int_equal(fw_engine_end_tick(e, ctx, t), FW_OK);
        assert_books(e, mixed_camps);
        if ((t + 1) % (int32_t)TPD == 0)
            assert_int_equal(fw_engine_end_day(e, ctx, (uint32_t)(t / (int32_t)TPD)), FW_OK);
    }
    /* What each event was billed adds up to the spends and the revenue (in cents, between
     * the sum of the spends' cents and the cents of the sum). */
    int64_t spend = 0;
    for (uint32_t c = 0; c < N_MIXED; c++) {
        tr->st[c] = stats(e, c);
        assert_int_equal(tr->st[c].spend_cents, billed_mc[c] / 1000);
        total_mc += billed_mc[c];
        spend += tr->st[c].spend_cents;
    }
    tr->revenue = fw_ads_revenue(e);
    assert_true(tr->revenue >= spend && tr->revenue <= total_mc / 1000);
}

static void test_determinism_and_invariants(void **state)
{
    (void)state;
    static run_trace a, b;
    run_mixed(state, &a);
    run_mixed(state, &b);
    assert_memory_equal(a.n_fills, b.n_fills, sizeof a.n_fills);
    assert_memory_equal(a.fills, b.fills, sizeof a.fills);
    assert_memory_equal(a.attributed, b.attributed, sizeof a.attributed);
    assert_memory_equal(a.st, b.st, sizeof a.st);
    assert_int_equal(a.revenue, b.revenue);
    /* The run did something: money was billed, some budgets ran out, something converted. */
    uint64_t conv = 0, filled_n = 0;
    int64_t over = 0;
    for (uint32_t c = 0; c < N_MIXED; c++) {
        conv += a.st[c].conversions;
        over += a.st[c].overdelivery_cents;
    }
    for (size_t i = 0; i < sizeof a.n_fills / sizeof a.n_fills[0]; i++)
        filled_n += a.n_fills[i];
    assert_true(a.revenue > 0);
    assert_true(conv > 0);
    assert_true(filled_n > 0);
    /* Budgets ran out (throttling); whether a batch also overran one (overdelivery) depends
     * on who wins, which the learned pCTR decides: test_budget_throttles_and_resets covers it. */
    (void)over;
    assert_true(a.throttled_ticks > 0);
    assert_int_equal(a.throttled_ticks, b.throttled_ticks);
}

/* ---- doubtful behaviour of ads.c, pinned -------------------------------------------- */

/* Frequency caps hold for every campaign: with freq_cap 2 and five campaigns, none is filled
 * to one user more than twice a day. ads.c remembers only FCAP_K = 4 campaigns per user per
 * day (cap_of returns NULL for a fifth, and fw_ads_fill treats "not remembered" as "never
 * shown"), so the fifth campaign is filled every time. */
static void test_bug_freq_cap_fifth_campaign(void **state)
{
    fw_engine_cfg cfg = ads_cfg();
    cfg.ads.freq_cap = 2;
    fw_campaign_info camps[5];
    for (uint32_t c = 0; c < 5; c++)
        camps[c] = camp(0, FW_OBJ_CPM, 5000 - 500 * (int64_t)c, 100000, FW_NONE, c);
    fw_engine_ctx *ctx;
    fw_engine *e = fixture_rig_open(state, build(camps, 5, &cfg, 1), &ctx);
    fw_ad_fill f[SLOTS];
    uint32_t count[5] = {0};
    for (int32_t t = 0; t < 4; t++) {
        uint32_t n = fill(e, ctx, 0, 0, t, FW_NONE, 5, f, camps);
        for (uint32_t j = 0; j < n; j++)
            count[f[j].campaign]++;
    }
    for (uint32_t c = 0; c < 5; c++)
        if (count[c] != 2)
            fail_msg("campaign %u filled %u times to one user in a day, cap 2", c, count[c]);
}

/* The click window runs from the click. ads.c's remember() keeps one touch per campaign and
 * user: a later view of a clicked campaign moves the touch's tick to the view while keeping
 * "clicked", so the click window restarts at every later view. Here a click at tick 0, a view
 * at 40 and a purchase at 60 (click window 48, view window 0) are credited. */
static void test_bug_click_window_from_click(void **state)
{
    fw_engine_cfg cfg = ads_cfg();
    cfg.ads.view_window_days = 0;
    const fw_campaign_info camps[] = {camp(0, FW_OBJ_CPC, 300, 100000, FW_NONE, 0)};
    fw_engine_ctx *ctx;
    fw_engine *e = fixture_rig_open(state, build(camps, 1, &cfg, 1), &ctx);
    log1(e, ctx, 0, 0, 0, FW_AD_IMPRESSION, 100);
    log1(e, ctx, 0, 0, 0, FW_AD_CLICK, 100);
    log1(e, ctx, 0, 0, 40, FW_AD_IMPRESSION, 100);
    assert_int_equal(ads_attribute(e, 0, 0, 60), FW_NONE);
}

/* Under first price a CPM campaign pays its bid. ads.c works the price out as
 * (bid / 1000.0) * 1000.0 and truncates: for 1001 that is 1000.9999999999999 -> 1000 (so are
 * 187 of the bids up to 20000); under GSP a CPM runner-up bidding 1001 likewise sets a
 * price of 1000. */
static void test_bug_first_price_cpm_is_bid(void **state)
{
    fw_engine_cfg cfg = ads_cfg();
    cfg.ads.pay_rule = FW_PAY_FIRST;
    const fw_campaign_info camps[] = {camp(0, FW_OBJ_CPM, 1001, 100000, FW_NONE, 0),
                                      camp(0, FW_OBJ_CPM, 1000, 100000, FW_NONE, 1)};
    fw_engine_ctx *ctx;
    fw_engine *e = fixture_rig_open(state, build(camps, 2, &cfg, 1), &ctx);
    fw_ad_fill f[SLOTS];
    uint32_t n = fill(e, ctx, 0, 0, 0, FW_NONE, 2, f, camps);
    assert_fills(f, n, (const uint32_t[]){0, 1}, (const int64_t[]){1001, 1000}, 2);
}

/* Revenue in cents is the sum of the campaigns' spends in cents. ads.c rounds the revenue
 * and each spend down to cents separately: two CPM campaigns charged 1.5 cents each report
 * spends of 1 + 1 and a revenue of 3. */
static void test_bug_revenue_is_sum_of_spends(void **state)
{
    fw_engine_cfg cfg = ads_cfg();
    const fw_campaign_info camps[] = {camp(0, FW_OBJ_CPM, 2000, 100000, FW_NONE, 0),
                                      camp(0, FW_OBJ_CPM, 2000, 100000, FW_NONE, 1)};
    fw_engine_ctx *ctx;
    fw_engine *e = fixture_rig_open(state, build(camps, 2, &cfg, 1), &ctx);
    log1(e, ctx, 0, 0, 0, FW_AD_IMPRESSION, 1500);
    log1(e, ctx, 0, 1, 0, FW_AD_IMPRESSION, 1500);
    assert_int_equal(fw_ads_revenue(e), stats(e, 0).spend_cents + stats(e, 1).spend_cents);
}

/* Spending exactly the even share keeps the dual multiplier where it is. ads.c's target for
 * a tick is the budget left after the tick's spend over the ticks left counting this one
 * (fw_ads_end_tick: remaining / (left + 1)), so a campaign on pace, 100 of 2400 in the first
 * of 24 ticks, is measured against 2300 / 24 = 95.8 and its multiplier rises (to 0.0217),
 * and again every tick on pace. */
static void test_bug_dual_on_pace_is_neutral(void **state)
{
    fw_engine_cfg cfg = ads_cfg();
    cfg.ads.pacing = FW_PACING_DUAL;
    fw_engine_ctx *ctx;
    fw_engine *e = fixture_rig_open(state, build(pacing_camps, 2, &cfg, 1), &ctx);
    for (int32_t t = 0; t < 12; t++) {
        log_n(e, ctx, 0, 0, t, FW_AD_IMPRESSION, 5000, 20);   /* 100 cents a tick */
        assert_int_equal(fw_engine_end_tick(e, ctx, t), FW_OK);
        double m = stats(e, 0).multiplier;
        if (!(m <= 1e-9))
            fail_msg("tick %d on pace: multiplier %.17g, want 0", t, m);
    }
}

/* ---- cells: per-arm knobs, isolation, budget split ------------------------------------- */

/* Users 0 and 1 in cell 0, 2 and 3 in cell 1. */
static const uint8_t two_cells[N_USERS] = {0, 0, 1, 1};

static fw_engine *build_cells(const fw_campaign_info *camps, uint32_t n_camps, const fw_engine_cfg *cfgs,
                              uint32_t isolation, uint32_t split, const double *share)
{
    fw_note_info notes[N_NOTES];
    fw_catalog cat = catalog(notes, camps, n_camps);
    cat.user_cell = two_cells;
    cat.isolation = isolation;
    cat.budget_split = split;
    cat.cell_share = share;
    fw_err err = FW_OK;
    fw_engine *e = fw_engine_create(&cat, cfgs, 2, &err);
    assert_int_equal(err, FW_OK);
    assert_non_null(e);
    return e;
}

/* With a budget split each cell spends only its share (by traffic weight) and is throttled
 * on its own: a cell that sells more cannot take what the other would have sold. One budget
 * (no split) is spent by whichever cell comes first. */
static void test_budget_split(void **state)
{
    fw_engine_cfg cfgs[2] = {ads_cfg(), ads_cfg()};
    /* A CPM at 1000 cents per thousand: 1000 millicents an impression; 10 cents a day. */
    const fw_campaign_info camps[] = {camp(0, FW_OBJ_CPM, 1000, 10, FW_NONE, 0)};
    const double share[2] = {0.3, 0.7};
    fw_engine_ctx *ctx;
    fw_engine *e = fixture_rig_open(state, build_cells(camps, 1, cfgs, FW_ISOLATION_PER_ARM, 1, share), &ctx);
    fw_ad_fill f[SLOTS];
    /* Cell 1 (user 2) has 7000 millicents: 7 impressions, then it is out for the day ... */
    for (int k = 0; k < 7; k++)
        assert_int_equal(log1(e, ctx, 2, 0, 0, FW_AD_IMPRESSION, 1000), 1000);
    assert_int_equal(log1(e, ctx, 2, 0, 0, FW_AD_IMPRESSION, 1000), 0);
    assert_int_equal(fill(e, ctx, 3, 1, 1, FW_NONE, 1, f, camps), 0);
    /* ... while cell 0 (users 0, 1) still has its 3000. */
    assert_int_equal(fill(e, ctx, 0, 0, 1, FW_NONE, 1, f, camps), 1);
    for (int k = 0; k < 3; k++)
        assert_int_equal(log1(e, ctx, 1, 0, 1, FW_AD_IMPRESSION, 1000), 1000);
    assert_int_equal(log1(e, ctx, 0, 0, 1, FW_AD_IMPRESSION, 1000), 0);
    fw_campaign_stats st = stats(e, 0);
    assert_int_equal(st.spend_today_cents, 10);
    assert_int_equal(st.overdelivery_cents, 2);   /* 2 impressions of 1000 millicents refused */
    assert_true(st.throttled);
    assert_int_equal(fw_engine_end_day(e, ctx, 0), FW_OK);   /* the invariants, shares included */
    assert_false(stats(e, 0).throttled);

    /* One budget: cell 1 spends all 10 cents and cell 0 gets nothing. */
    fw_engine *one = build_cells(camps, 1, cfgs, FW_ISOLATION_SHARED, 0, share);
    fw_engine_ctx *c1 = fw_engine_ctx_create(one);
    assert_non_null(c1);
    for (int k = 0; k < 10; k++)
        assert_int_equal(log1(one, c1, 2, 0, 0, FW_AD_IMPRESSION, 1000), 1000);
    assert_int_equal(fill(one, c1, 0, 0, 1, FW_NONE, 1, f, camps), 0);
    fw_engine_ctx_destroy(c1);
    fw_engine_destroy(one);
}

/* Until users are placed in cells (a pre-period), cell 0 holds the whole budget; placing them
 * splits it, and every cell's pacing starts from cell 0's multiplier. */
static void test_budget_split_after_placement(void **state)
{
    fw_engine_cfg cfgs[2] = {ads_cfg(), ads_cfg()};
    const fw_campaign_info camps[] = {camp(0, FW_OBJ_CPM, 1000, 10, FW_NONE, 0)};
    fw_note_info notes[N_NOTES];
    fw_catalog cat = catalog(notes, camps, 1);
    cat.budget_split = 1;   /* equal shares; user_cell NULL: everyone in cell 0 */
    fw_err err = FW_OK;
    fw_engine_ctx *ctx;
    fw_engine *e = fixture_rig_open(state, fw_engine_create(&cat, cfgs, 2, &err), &ctx);
    for (int k = 0; k < 10; k++)
        assert_int_equal(log1(e, ctx, 2, 0, 0, FW_AD_IMPRESSION, 1000), 1000);
    assert_int_equal(fw_engine_end_day(e, ctx, 0), FW_OK);
    const uint8_t bad[N_USERS] = {0, 0, 2, 1};
    assert_int_equal(fw_engine_set_user_cells(e, bad), FW_ERR_INVAL);
    assert_int_equal(fw_engine_set_user_cells(e, two_cells), FW_OK);
    for (int k = 0; k < 5; k++)
        assert_int_equal(log1(e, ctx, 2, 0, (int32_t)TPD, FW_AD_IMPRESSION, 1000), 1000);
    assert_int_equal(log1(e, ctx, 3, 0, (int32_t)TPD, FW_AD_IMPRESSION, 1000), 0);
    assert_int_equal(log1(e, ctx, 0, 0, (int32_t)TPD, FW_AD_IMPRESSION, 1000), 1000);
    assert_true(fw_engine_cell_state_bytes(e) > 0);
}

/* A purchase is attributed under its buyer's cell's windows. */
static void test_attribution_windows_per_cell(void **state)
{
    fw_engine_cfg cfgs[2] = {ads_cfg(), ads_cfg()};
    cfgs[1].ads.click_window_days = 0;
    cfgs[1].ads.view_window_days = 0;
    const fw_campaign_info camps[] = {camp(0, FW_OBJ_CPC, 300, 100000, FW_NONE, 0)};
    fw_engine_ctx *ctx;
    fw_engine *e = fixture_rig_open(state, build_cells(camps, 1, cfgs, FW_ISOLATION_PER_ARM, 1, NULL), &ctx);
    for (uint32_t u = 0; u < N_USERS; u++) {
        log1(e, ctx, u, 0, 10, FW_AD_IMPRESSION, 200);
        log1(e, ctx, u, 0, 10, FW_AD_CLICK, 200);
    }
    /* A day after the click: cell 0 (window 2 days) credits it, cell 1 (0 days) does not. */
    assert_attributed(e, 0, 0, 10 + (int32_t)TPD, 0, 0);
    assert_int_equal(ads_attribute(e, 2, 0, 10 + (int32_t)TPD), FW_NONE);
    /* The same tick is within any window. */
    assert_attributed(e, 3, 0, 10, 0, 0);
}

/* Under per-arm isolation a cell's pCTR learns from its own users' ad events only: clicks in
 * cell 1 lift a campaign there, not in cell 0; under shared isolation both move. Each cell's
 * priors are its own (its campaign rates start at its ctr_prior). */
static void test_pctr_isolation(void **state)
{
    (void)state;
    fw_engine_cfg cfgs[2] = {ads_cfg(), ads_cfg()};
    /* Two CPC campaigns: 0 bids more, so with no history it ranks first. */
    const fw_campaign_info camps[] = {camp(0, FW_OBJ_CPC, 60, 100000, FW_NONE, 0),
                                      camp(1, FW_OBJ_CPC, 50, 100000, FW_NONE, 2)};
    for (uint32_t iso = 0; iso < 2; iso++) {
        fw_engine *e = build_cells(camps, 2, cfgs, iso ? FW_ISOLATION_PER_ARM : FW_ISOLATION_SHARED, 1, NULL);
        fw_engine_ctx *ctx = fw_engine_ctx_create(e);
        assert_non_null(ctx);
        /* Cell 1's users see both and click campaign 1 every time. */
        for (int k = 0; k < 40; k++)
            for (uint32_t u = 2; u < 4; u++) {
                log1(e, ctx, u, 0, 1, FW_AD_IMPRESSION, 10);
                log1(e, ctx, u, 1, 1, FW_AD_IMPRESSION, 10);
                log1(e, ctx, u, 1, 1, FW_AD_CLICK, 10);
            }
        fw_ad_fill f[SLOTS];
        assert_int_equal(fill(e, ctx, 3, 1, 2, FW_NONE, 1, f, camps), 1);
        assert_int_equal(f[0].campaign, 1);
        assert_int_equal(fill(e, ctx, 0, 0, 2, FW_NONE, 1, f, camps), 1);
        assert_int_equal(f[0].campaign, iso ? 0u : 1u);
        fw_engine_ctx_destroy(ctx);
        fw_engine_destroy(e);
    }
    /* Per-cell priors: a high ctr_prior in cell 1 alone ranks the CPC campaign above a CPM. */
    fw_engine_cfg pri[2] = {ads_cfg(), ads_cfg()};
    pri[1].ads.ctr_prior = 0.9;
    const fw_campaign_info mix[] = {camp(0, FW_OBJ_CPM, 400, 100000, FW_NONE, 0),
                                    camp(1, FW_OBJ_CPC, 20, 100000, FW_NONE, 2)};
    fw_engine *e = build_cells(mix, 2, pri, FW_ISOLATION_PER_ARM, 1, NULL);
    fw_engine_ctx *ctx = fw_engine_ctx_create(e);
    assert_non_null(ctx);
    fw_ad_fill f[SLOTS];
    assert_int_equal(fill(e, ctx, 0, 0, 0, FW_NONE, 1, f, mix), 1);
    assert_int_equal(f[0].campaign, 0);   /* 0.4 per impression against 20 x 0.0123 */
    assert_int_equal(fill(e, ctx, 2, 1, 0, FW_NONE, 1, f, mix), 1);
    assert_int_equal(f[0].campaign, 1);   /* against about 20 x 0.9 */
    fw_engine_ctx_destroy(ctx);
    fw_engine_destroy(e);
}

/* An advertiser's revision (fw_ads_set_budget) takes effect with the next day, not before;
 * the last call before the day's end wins; the books and /ads/days budget follow; 0 takes the
 * campaign out of every auction on every later day; bad calls are refused. */
static void test_set_budget(void **state)
{
    fw_engine_cfg cfg = ads_cfg();
    const fw_campaign_info camps[] = {camp(0, FW_OBJ_CPC, 100, 250, FW_NONE, 0),
                                      camp(1, FW_OBJ_CPM, 500, 100000, FW_NONE, 1)};
    fw_engine_ctx *ctx;
    fw_engine *e = fixture_rig_open(state, build(camps, 2, &cfg, 1), &ctx);
    fw_ad_fill f[SLOTS];
    assert_int_equal(stats(e, 0).budget_cents, 250);
    assert_int_equal(fw_ads_set_budget(e, 0, 0, 1000), FW_OK);
    assert_int_equal(fw_ads_set_budget(e, 0, 0, 400), FW_OK);   /* the last call wins */
    assert_int_equal(stats(e, 0).budget_cents, 250);            /* not before the day's end */
    log1(e, ctx, 0, 0, 0, FW_AD_CLICK, 100);
    log1(e, ctx, 1, 0, 0, FW_AD_CLICK, 100);
    assert_true(stats(e, 0).throttled);                          /* today's 250 is spent */
    assert_int_equal(fw_engine_end_day(e, ctx, 0), FW_OK);
    fw_campaign_stats st = stats(e, 0);
    assert_int_equal(st.budget_cents, 400);
    assert_false(st.throttled);
    for (int k = 0; k < 3; k++)                                  /* 400 buys three clicks of 100 */
        assert_int_equal(log1(e, ctx, 2, 0, TPD + 1, FW_AD_CLICK, 100), 100000);
    assert_false(stats(e, 0).throttled);
    /* The advertiser leaves: from the next day on campaign 0 is in no auction. */
    assert_int_equal(fw_ads_set_budget(e, 0, 0, 0), FW_OK);
    uint32_t n = fill(e, ctx, 3, 0, TPD + 2, FW_NONE, SLOTS, f, camps);
    assert_true(filled(f, n, 0));
    assert_int_equal(fw_engine_end_day(e, ctx, 1), FW_OK);
    for (uint32_t day = 2; day < 4; day++) {
        n = fill(e, ctx, 3, 0, (int32_t)(day * TPD), FW_NONE, SLOTS, f, camps);
        assert_fills(f, n, (const uint32_t[]){1}, NULL, 1);
        assert_int_equal(stats(e, 0).budget_cents, 0);
        assert_int_equal(fw_engine_end_day(e, ctx, day), FW_OK);
    }
    assert_int_equal(fw_ads_set_budget(e, 0, 0, -1), FW_ERR_INVAL);
    assert_int_equal(fw_ads_set_budget(e, 0, 2, 10), FW_ERR_INVAL);
    assert_int_equal(fw_ads_set_budget(e, 1, 0, 10), FW_ERR_INVAL);   /* one cell */
    assert_int_equal(fw_ads_set_budget(e, 0, 0, INT64_MAX), FW_ERR_INVAL);
    char why[256];
    assert_int_equal(fw_ads_check(e, why, sizeof why), FW_OK);
}

/* ---- ads are notes ------------------------------------------------------------------- */

/* A like, save or comment flagged FW_EV_AD is credited to the campaign of the user's latest
 * click on an ad showing that creative (campaigns 0 and 1 share creative 0), to none without
 * such a click, and the flag is refused on anything but a like, save or comment. */
static void test_ad_engagement_credit(void **state)
{
    fw_engine_cfg cfg = ads_cfg();
    const fw_campaign_info camps[] = {camp(0, FW_OBJ_CPC, 50, 100000, FW_NONE, 0),
                                      camp(0, FW_OBJ_CPC, 50, 100000, FW_NONE, 0),
                                      camp(1, FW_OBJ_CPC, 50, 100000, FW_NONE, 2)};
    fw_engine_ctx *ctx;
    fw_engine *e = fixture_rig_open(state, build(camps, 3, &cfg, 1), &ctx);
    log1(e, ctx, 0, 0, 1, FW_AD_IMPRESSION, 10);
    log1(e, ctx, 0, 0, 1, FW_AD_CLICK, 10);
    fixture_log(e, ctx, 0, 0, 1, FW_EV_LIKE | FW_EV_AD);
    assert_int_equal(stats(e, 0).interactions, 1);
    /* User 1 has clicked nothing yet: not credited. */
    fixture_log(e, ctx, 1, 0, 1, FW_EV_SAVE | FW_EV_AD);
    /* User 1 clicks campaign 0, then campaign 1 (same creative): the comment is campaign 1's. */
    log1(e, ctx, 1, 0, 1, FW_AD_CLICK, 10);
    log1(e, ctx, 1, 1, 2, FW_AD_CLICK, 10);
    fixture_log(e, ctx, 1, 0, 2, FW_EV_COMMENT | FW_EV_AD);
    fixture_log(e, ctx, 1, 0, 2, FW_EV_SAVE | FW_EV_SEARCH | FW_EV_AD);   /* on a search page */
    /* A like of campaign 2's creative by a user who never clicked it: not credited. */
    fixture_log(e, ctx, 0, 2, 2, FW_EV_LIKE | FW_EV_AD);
    /* An organic like of the creative is not an ad's. */
    fixture_log(e, ctx, 1, 0, 3, FW_EV_LIKE);
    /* Only a like, save or comment may carry the flag. */
    static const uint32_t bad[] = {FW_EV_IMPRESSION, FW_EV_OPEN, FW_EV_FOLLOW};
    for (int k = 0; k < 3; k++) {
        fw_event ev = {.user = 0, .note = 0, .tick = 3, .type = bad[k] | FW_EV_AD};
        assert_int_equal(fw_engine_log_events(e, ctx, &ev, 1), FW_ERR_INVAL);
    }
    assert_int_equal(stats(e, 0).interactions, 1);
    assert_int_equal(stats(e, 1).interactions, 2);
    assert_int_equal(stats(e, 2).interactions, 0);
    fw_campaign_stats cell;
    assert_int_equal(fw_ads_campaign_cell(e, 0, 1, &cell), FW_OK);
    assert_int_equal(cell.interactions, 2);
    char why[256];
    assert_int_equal(fw_ads_check(e, why, sizeof why), FW_OK);
}

/* The pCTR model learns from the creative's engagement: two engines see the same ads, clicks
 * and training samples (campaign 0 clicked, campaign 1 not), and in one of them campaign 0's
 * creative is liked after its clicks. There the model weighs the engagement feature, so it
 * rates campaign 0 higher and campaign 1 lower than the other engine does, and under GSP
 * campaign 0, first in both, pays less (its price is campaign 1's score / its own pCTR). In
 * the engine without engagement the feature stays 0 (the model it trained before ads were
 * notes). */
static void test_ad_engagement_trains_pctr(void **state)
{
    (void)state;
    fw_engine_cfg cfg = ads_cfg();
    const fw_campaign_info camps[] = {camp(0, FW_OBJ_CPC, 5000, 100000000, FW_NONE, 0),
                                      camp(1, FW_OBJ_CPC, 5000, 100000000, FW_NONE, 2)};
    int64_t price[2];
    for (int liked = 0; liked < 2; liked++) {
        fw_engine *e = build(camps, 2, &cfg, 1);
        fw_engine_ctx *ctx = fw_engine_ctx_create(e);
        assert_non_null(ctx);
        for (int k = 0; k < 10; k++)
            for (uint32_t u = 0; u < N_USERS; u++) {
                for (uint32_t c = 0; c < 2; c++) {
                    log1(e, ctx, u, c, 1, FW_AD_IMPRESSION, 100);
                    log1(e, ctx, u, c, 1, FW_AD_CLICK, 100);
                }
                if (liked)
                    fixture_log(e, ctx, u, 0, 1, FW_EV_LIKE | FW_EV_AD);
            }
        for (int k = 0; k < 50; k++)
            for (uint32_t u = 0; u < N_USERS; u++) {
                fw_ad_event ev[3] = {{.user = u, .campaign = 0, .tick = 2, .type = FW_AD_IMPRESSION, .price_cents = 100},
                                     {.user = u, .campaign = 0, .tick = 2, .type = FW_AD_CLICK, .price_cents = 100},
                                     {.user = u, .campaign = 1, .tick = 2, .type = FW_AD_IMPRESSION, .price_cents = 100}};
                assert_int_equal(fw_ads_log(e, ctx, ev, 3, NULL), FW_OK);
            }
        assert_int_equal(stats(e, 0).interactions, liked ? 10u * N_USERS : 0u);
        fw_ad_fill f[SLOTS];
        assert_int_equal(fill(e, ctx, 0, 0, 3, FW_NONE, 1, f, camps), 1);
        assert_int_equal(f[0].campaign, 0);
        price[liked] = f[0].price_cents;
        char why[256];
        assert_int_equal(fw_ads_check(e, why, sizeof why), FW_OK);
        fw_engine_ctx_destroy(ctx);
        fw_engine_destroy(e);
    }
    if (!(price[1] < price[0]))
        fail_msg("campaign 0's GSP price with its creative liked %lld, without %lld: the engagement feature "
                 "did not raise its pCTR against campaign 1's", (long long)price[1], (long long)price[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        fixture_rig_test(test_auction_scores_and_prices),
        fixture_rig_test(test_auction_reserve),
        fixture_rig_test(test_auction_learned_estimates),
        fixture_rig_test(test_targeting),
        fixture_rig_test(test_frequency_cap),
        fixture_rig_test(test_billing_per_objective),
        fixture_rig_test(test_budget_throttles_and_resets),
        fixture_rig_test(test_budget_property),
        fixture_rig_test(test_budget_below_bid_stays_out),
        fixture_rig_test(test_pacing_dual),
        fixture_rig_test(test_pacing_throttle),
        fixture_rig_test(test_pacing_none),
        fixture_rig_test(test_attribution),
        fixture_rig_test(test_bad_input),
        fixture_rig_test(test_books_cannot_overflow),
        fixture_rig_test(test_check_catches_price_above_bid),
        fixture_rig_test(test_budget_split),
        fixture_rig_test(test_budget_split_after_placement),
        fixture_rig_test(test_attribution_windows_per_cell),
        cmocka_unit_test(test_pctr_isolation),
        fixture_rig_test(test_ad_engagement_credit),
        fixture_rig_test(test_set_budget),
        cmocka_unit_test(test_ad_engagement_trains_pctr),
        fixture_rig_test(test_autobid_first_price_shades),
        fixture_rig_test(test_autobid_target_cpa_reaches_target),
        fixture_rig_test(test_determinism_and_invariants),
        fixture_rig_test(test_bug_freq_cap_fifth_campaign),
        fixture_rig_test(test_bug_click_window_from_click),
        fixture_rig_test(test_bug_first_price_cpm_is_bid),
        fixture_rig_test(test_bug_revenue_is_sum_of_spends),
        fixture_rig_test(test_bug_dual_on_pace_is_neutral),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
