/* Ads: campaigns, auctions for ad slots, pacing, frequency caps, billing and attribution.
 * Owns: each campaign's day (spend, pacing multiplier, throttling), its delivery counts and
 * the pCTR / pCVR estimates learned from the ad log, each user's frequency caps and recent
 * ad views and clicks (for attribution), and the books of ad revenue.
 * Borrows: the campaigns passed to fw_engine_create through fw_catalog (copied).
 * Never touches: the world's hidden truth, randomness, threads or files.
 *
 * Threading contract: as engine.h. fw_ads_fill may run concurrently for different users
 * between barrier calls (it writes only its user's frequency caps); fw_ads_log (or ad events
 * in fw_engine_log), fw_ads_attribute and fw_engine_end_tick / fw_engine_end_day (pacing,
 * attribution of the tick's purchases, the day's reset) are barrier calls. Without campaigns
 * in the catalog the ads are switched off: every call answers "no ads".
 *
 * Cells (fw_catalog): a request runs under its cell (the arm in the request), an ad event
 * and a purchase belong to the user's cell. With a budget split every campaign's daily budget
 * is divided among the cells by traffic share and each share is paced, throttled and billed
 * on its own; under per-arm isolation each cell learns its own pCTR model and campaign rates
 * (with its own priors). fw_ads_campaign reports a campaign summed over the cells.
 *
 * Money is integer cents. Invariants (fw_ads_check): every charge is at most the winner's
 * bid for its billable unit; revenue is the sum of the charges; a campaign's spend on a day
 * never exceeds its daily budget (each cell's share of it, with a split; a charge that would
 * is not billed: counted as overdelivery); the shares sum to the budget; a throttled
 * campaign never enters an auction. */
#ifndef FLYWHEEL_ADS_H
#define FLYWHEEL_ADS_H

#include "flywheel/auction.h"
#include "flywheel/engine.h"

/* What a campaign pays for: impressions (bid per thousand), clicks, or conversions
 * (optimised conversion bidding: ranked by bid x pCTR x pCVR, billed per conversion). */
typedef enum fw_ad_objective { FW_OBJ_CPM = 0, FW_OBJ_CPC, FW_OBJ_CPA, FW_OBJ__COUNT } fw_ad_objective;

/* What the advertiser wants. MANUAL (0): the campaign bids bid_cents for its objective.
 * The other goals bid through the platform's autobidder, billed per impression (objective
 * must be FW_OBJ_CPM, bid_cents the most it pays per thousand impressions): its bid per
 * impression is pCTR x pCVR x the value of a conversion x a goal multiplier, divided by 1 +
 * the budget's pacing multiplier (engine.ads.pacing), and under first price shaded: it bids a
 * share of that value learned from the minimum bids to win of its wins (what first-price
 * exchanges report back; fw_ad_fill), aiming 5% above them, never under the reserve while
 * its value is above it. The goal multiplier
 * starts at 1 and moves at every barrier (engine.ads.autobid_lr) on what the campaign's
 * share of each budget realised, decayed with a half-life of a day:
 *   MAX_CONVERSIONS  value of a conversion = target cents; the multiplier stays 1 (the
 *                    budget's pacing decides how much it buys);
 *   TARGET_CPA       value = target cents; the multiplier rises while spend / conversions
 *                    is under target and falls while over;
 *   TARGET_ROAS      value = the campaign's mean attributed order value / target (a ratio);
 *                    the multiplier rises while attributed GMV / spend is over target. */
typedef enum fw_ad_goal {
    FW_GOAL_MANUAL = 0,
    FW_GOAL_MAX_CONVERSIONS,
    FW_GOAL_TARGET_CPA,
    FW_GOAL_TARGET_ROAS,
    FW_GOAL__COUNT
} fw_ad_goal;

typedef struct fw_campaign_info {
    uint32_t brand;
    uint32_t objective;         /* fw_ad_objective */
    int64_t bid_cents;          /* per thousand impressions, per click or per conversion; > 0 */
    int64_t daily_budget_cents; /* > 0 */
    uint32_t target_topic;      /* the topic of the audience it targets, FW_NONE: everyone */
    uint32_t creative;          /* the note shown as the ad (ads are notes) */
    uint32_t goal;              /* fw_ad_goal; 0: manual */
    double target;              /* the goal's target: cents per conversion (MAX_CONVERSIONS,
                                   TARGET_CPA) or GMV per cent spent (TARGET_ROAS); > 0 */
    uint32_t first_day;         /* the day its advertiser joins: in no auction before it, its
                                   budget not counted (0: from the start; days from 2^31, a
                                   warm-up's before day 0, come before every first day) */
} fw_campaign_info;

/* A request for ad slots: user, arm, tick, and how many slots (k, at most 16). */
typedef struct fw_ad_req {
    uint32_t user, arm;
    int32_t tick;
    uint32_t topic;             /* context topic (search intent), FW_NONE in the feed */
} fw_ad_req;

typedef struct fw_ad_fill {
    uint32_t campaign;
    uint32_t note;              /* the creative */
    int64_t price_cents;        /* per billable unit (per thousand impressions for CPM) */
    int64_t min_bid_cents;      /* the least bid (same unit) that would have won the slot: the
                                   next score over the winner's quality, or the reserve -- what
                                   first-price exchanges report back to bidders; the price under GSP */
} fw_ad_fill;

/* Runs the auction for k slots (<= 16) for req: eligible campaigns are those with budget
 * left that are not throttled, under the user's frequency cap (engine.ads.freq_cap
 * impressions a day per campaign; a user sees at most 16 campaigns a day while caps are on),
 * and targeting everyone, the request's topic, or a topic of
 * the user's engagement profile; ranked by effective bid (bid / (1 + pacing multiplier)) x
 * quality (1 for CPM, pCTR for CPC, pCTR x pCVR for CPA) per impression; priced by
 * engine.ads.pay_rule with reserve engine.ads.reserve_cpm_cents per thousand impressions.
 * Writes up to k fills (best first) and returns how many; counts the fills against the
 * user's caps. */
uint32_t fw_ads_fill(fw_engine *e, fw_engine_ctx *ctx, const fw_ad_req *req, uint32_t k, fw_ad_fill *out);

typedef enum fw_ad_event_type { FW_AD_IMPRESSION = 0, FW_AD_CLICK, FW_AD_EV__COUNT } fw_ad_event_type;

typedef struct fw_ad_event {
    uint32_t user, campaign;
    int32_t tick;
    uint32_t type;              /* fw_ad_event_type */
    int64_t price_cents;        /* the fill's price */
    int64_t min_bid_cents;      /* the fill's minimum bid to win (0: unknown); an autobidder
                                   learns its first-price shading from it */
} fw_ad_event;

/* Barrier call: applies ad events in the order given: delivery counts and the pCTR
 * estimate, the users' recent views and clicks, and billing (CPM per impression at price
 * millicents -- price / 1000 cents --, CPC per click at price), each charge only while the
 * campaign's budget of the day allows it. billed_mc[n] (or NULL) receives what each event
 * was billed, in millicents (0 for an event its objective does not bill, or over budget).
 * FW_ERR_INVAL for a bad user, campaign or type, or a price above the campaign's bid
 * (skipped, billed 0). */
fw_err fw_ads_log(fw_engine *e, fw_engine_ctx *ctx, const fw_ad_event *ev, size_t n, int64_t *billed_mc);

/* Barrier call: a purchase of a brand's product by user at tick. Attributed to the campaign
 * of that brand the user last clicked within engine.ads.click_window_days, else the one they
 * last saw within view_window_days; a CPA campaign is billed its price (*billed_mc, if not
 * NULL: what was billed, in millicents). Returns the campaign credited, or FW_NONE. The
 * engine does this itself for every order the shop sees paid, at the end of the tick it was
 * paid in (see fw_ads_conversions); call it directly only for purchases made elsewhere. */
uint32_t fw_ads_attribute(fw_engine *e, uint32_t user, uint32_t brand, int32_t tick, int64_t *billed_mc);

/* A paid order the platform attributed to an ad. */
typedef struct fw_ad_conversion {
    uint32_t order, user, campaign;
    int64_t billed_mc;          /* what a conversion campaign was billed for it (0 otherwise) */
} fw_ad_conversion;

/* The conversions attributed at the end of the last fw_engine_end_tick, in the order the
 * orders were paid, and how many (*n); valid until the next fw_engine_end_tick. */
const fw_ad_conversion *fw_ads_conversions(const fw_engine *e, size_t *n);

/* A brand's books to date: ad spend (every billed charge of its campaigns, in cents, rounded
 * down) and the GMV of the orders attributed to its ads (ROAS = the second / the first).
 * FW_ERR_INVAL for a bad brand or without ads. */
fw_err fw_ads_brand_books(const fw_engine *e, uint32_t brand, int64_t *spend_cents,
                          int64_t *attributed_gmv_cents);

typedef struct fw_campaign_stats {
    int64_t spend_today_cents, spend_cents;   /* billed */
    int64_t overdelivery_cents;               /* charges not billed: the budget was spent */
    uint64_t impressions, clicks, conversions, auctions_won;
    double multiplier;                        /* pacing: bids are divided by 1 + this */
    int throttled;                            /* out of auctions for the rest of the day */
    int64_t attributed_gmv_cents;             /* GMV of the paid orders attributed to it */
    double goal_multiplier;                   /* the autobidder's (1 for manual campaigns) */
    double bid_shade;                         /* the share of its value it bids under first price (1: none) */
    uint64_t interactions;                    /* likes, saves and comments its creative got right after
                                                 its clicks (FW_EV_AD: ads are notes) */
    int64_t budget_cents;                     /* today's daily budget (rounded down), as revised;
                                                 0 before the campaign's first_day */
} fw_campaign_stats;

/* A campaign to date, summed over the cells (multiplier, goal_multiplier: cell 0's). */
fw_err fw_ads_campaign(const fw_engine *e, uint32_t campaign, fw_campaign_stats *out);
/* The same for one cell's share: the cell's under a budget split (its budget, spend,
 * delivery to its users and their attributed orders), else the whole campaign's (one budget
 * for every cell). */
fw_err fw_ads_campaign_cell(const fw_engine *e, uint32_t cell, uint32_t campaign, fw_campaign_stats *out);
uint32_t fw_ads_n_campaigns(const fw_engine *e);

/* An advertiser revises a campaign's daily budget: cell's share under a budget split (the
 * unit that spends a budget), else the whole campaign's, becomes daily_budget_cents from the
 * next day's start (it takes effect at fw_engine_end_day; the last call before it wins). 0
 * takes the campaign out of that cell's auctions: the advertiser left. The campaign's budget
 * in fw_campaign_stats and /ads/days is the sum of its cells' shares. FW_ERR_INVAL for a bad
 * cell or campaign, a negative budget, or without ads. */
fw_err fw_ads_set_budget(fw_engine *e, uint32_t cell, uint32_t campaign, int64_t daily_budget_cents);

/* Total revenue billed, in cents: the sum of the campaigns' spends as fw_ads_campaign reports
 * them (each rounded down to cents; the books inside are exact, in millicents); and
 * fw_ads_check, the invariants above recomputed from the charges: FW_OK or FW_ERR_INTERNAL
 * with the first violation in why[cap]. */
int64_t fw_ads_revenue(const fw_engine *e);
fw_err fw_ads_check(const fw_engine *e, char *why, size_t cap);

#endif
