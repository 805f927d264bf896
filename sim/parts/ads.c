/* The ads part: ads as people meet them, and the ads' outcomes per cell.
 *  - Sessions: the feed's and search's pages carry ad slots the engine sold (counted here);
 *    an ad is a note like any other, examined in the flow of its surface (the surface's
 *    stream), opened with a penalty for being an ad; an open is the ad's click, after which
 *    the shop part plants intent for the product the creative shows and views its page, and
 *    the adnotes part may have the creative liked, saved or commented on. Ads
 *    count in the day's impressions and opens that satisfaction is made of.
 *  - Barrier: what each ad event was billed; after the tick's end, the purchases the engine
 *    attributed to ads.
 *  - Day: the per-brand books in the result file (the engine keeps them). */
#include <stdlib.h>
#include <string.h>

#include "driver/evlog.h"
#include "driver/part.h"

#define ADS_COUNTERS(X)                                                                        \
    X(ad_slots, "slots", "ad slots offered: the feed's reserved slots (engine.feed.ad_first_slot, ad_every) and the top of each search page with results") \
    X(ad_fills, "slots", "ad slots filled by an auction")                                      \
    X(ad_impressions, "ads", "ads examined on screen")                                         \
    X(search_ad_impressions, "ads", "ads examined at the top of search results (part of ad_impressions)") \
    X(ad_clicks, "clicks", "ads opened")                                                       \
    X(ad_conversions, "orders", "orders paid that the platform attributed to an ad (click or view window)") \
    X(ad_revenue_millicents, "1e-3 cents", "ad revenue billed (CPM impressions, CPC clicks, conversions)")

FW_DECLARE_COUNTERS(ADS_COUNTERS);

static const fw_rate_desc rates[] = {
    {"fill_rate", "ad_fills", "ad_slots", 1.0, "1", "ad slots filled / ad slots"},
    {"ad_ctr", "ad_clicks", "ad_impressions", 1.0, "1", "ads opened / ads examined"},
    {"ecpm", "ad_revenue_millicents", "ad_impressions", 1.0, "cents",
     "ad revenue per thousand ads examined (revenue / impressions x 1000)"},
    {"ad_revenue_cents", "ad_revenue_millicents", "sessions", 1e-3, "cents", "ad revenue per session"},
    {"ad_load", "ad_impressions", "impressions", 1.0, "1", "ads examined / notes examined in the feed"},
};

typedef struct ads_state {
    uint32_t n_brands;
    int64_t *spend_cents, *gmv_cents;   /* [n_brands] the engine's per-brand books, to date */
} ads_state;

#define COUNT(k) (ss->row[p->base + C_##k])

static void add_revenue(uint32_t *const *uc, uint32_t u, int64_t billed)
{
    uint64_t r = (uint64_t)uc[FW_UM_ad_revenue_millicents][u] + (uint64_t)billed;
    uc[FW_UM_ad_revenue_millicents][u] = r > UINT32_MAX ? UINT32_MAX : (uint32_t)r;
}

static int ads_on_event(fw_session *ss, fw_part_inst *p, fw_sess_event *ev)
{
    if (ev->kind == FW_SE_PAGE) {
        for (uint32_t i = 0; i < ev->n; i++) {
            const fw_slot *sl = &ev->page[i];
            COUNT(ad_slots) += sl->campaign != FW_NONE || (sl->note == FW_NONE && sl->card == FW_NONE);
            COUNT(ad_fills) += sl->campaign != FW_NONE;
        }
        return 0;
    }
    if (ev->kind != FW_SE_AD)
        return 0;
    const fw_behaviour_model *m = ss->m;
    const fw_behaviour_cfg *c = &m->cfg;
    const fw_world *w = ss->w;
    fw_users_state *s = ss->us;
    const fw_slot *ad = ev->page;
    uint32_t u = ss->user, note = ad->note;
    ev->handled = 1;
    fw_record r = {.kind = FW_RECORD_AD_EVENT,
                   .u.ad.ev = {.user = u, .campaign = ad->campaign, .tick = ss->tick, .type = FW_AD_IMPRESSION,
                               .price_cents = ad->price_cents, .min_bid_cents = ad->min_bid_cents}};
    if (fw_recbuf_push(ss->rec, &r))
        return -1;
    COUNT(ad_impressions)++;
    if (ev->surface == FW_SURFACE_SEARCH)
        COUNT(search_ad_impressions)++;
    ss->agg[FW_UM_ad_impressions][u]++;
    s->day_impressions[u]++;
    double z = m->b_open + c->open_affinity * fw_behaviour_affinity(w, u, note) + c->open_quality * w->note_quality[note] +
               c->format_weight * fw_behaviour_format_match(w, u, note) - c->ad_penalty + ev->bonus;
    double reward = 0.0;
    fw_evlog_impression(ss, ev->surface == FW_SURFACE_SEARCH ? FW_EVS_SEARCH_AD : FW_EVS_FEED_AD, ev->slot_no,
                        ad->campaign, note, FW_NONE, NAN, fw_sigmoid(z), fw_behaviour_affinity(w, u, note),
                        w->note_quality[note], UINT32_MAX);
    if (gsl_rng_uniform(ev->rng) < fw_sigmoid(z)) {
        fw_evlog_outcome(ss, FW_EVO_OPEN);
        r.u.ad.ev.type = FW_AD_CLICK;
        if (fw_recbuf_push(ss->rec, &r))
            return -1;
        COUNT(ad_clicks)++;
        ss->agg[FW_UM_ad_clicks][u]++;
        s->day_opens[u]++;
        reward = 1.0;
        fw_sess_event opened = {.kind = FW_SE_AD_OPENED, .surface = ev->surface, .page = ad, .rng = ev->rng};
        if (fw_session_emit(ss, &opened))
            return -1;
        reward += opened.extra;   /* the creative's likes, saves and comments (adnotes) */
    }
    *ev->sat = 0.8 * *ev->sat + 0.2 * reward;
    return 0;
}

/* What each ad event was billed (the engine wrote it into the record). */
static fw_err ads_after_log(fw_sim *S, fw_part_inst *p, const fw_record *rec, size_t n)
{
    uint32_t *const *uc = fw_sim_aggs(S);
    for (size_t k = 0; k < n; k++) {
        if (rec[k].kind != FW_RECORD_AD_EVENT)
            continue;
        uint32_t u = rec[k].u.ad.ev.user;
        int64_t billed = rec[k].u.ad.billed_mc;
        fw_sim_row(S, u)[p->base + C_ad_revenue_millicents] += (uint64_t)billed;
        add_revenue(uc, u, billed);
    }
    return FW_OK;
}

/* Purchases the platform attributed to an ad at the tick's end. */
static fw_err ads_tick_end(fw_sim *S, fw_part_inst *p)
{
    size_t n;
    const fw_ad_conversion *conv = fw_ads_conversions(S->engine, &n);
    uint32_t *const *uc = fw_sim_aggs(S);
    for (size_t k = 0; k < n; k++) {
        uint64_t *row = fw_sim_row(S, conv[k].user) + p->base;
        row[C_ad_conversions]++;
        row[C_ad_revenue_millicents] += (uint64_t)conv[k].billed_mc;
        add_revenue(uc, conv[k].user, conv[k].billed_mc);
    }
    return FW_OK;
}

static fw_err ads_day_close(fw_sim *S, fw_part_inst *p)
{
    ads_state *st = p->state;
    for (uint32_t b = 0; b < st->n_brands && S->w.n_campaigns; b++)
        if (fw_ads_brand_books(S->engine, b, &st->spend_cents[b], &st->gmv_cents[b]) != FW_OK)
            return FW_ERR_INTERNAL;
    return FW_OK;
}

/* The brand tables are the recorder's copies of the engine's books, made at every day's close:
 * they go, so the file a resumed run writes is right before its first day closes. Skipped:
 * n_brands (the world's). */
static void ads_snap(fw_sim *S, fw_part_inst *p, fw_snap *s)
{
    (void)S;
    ads_state *st = p->state;
    fw_snap_array(s, st->spend_cents, st->n_brands, sizeof *st->spend_cents);
    fw_snap_array(s, st->gmv_cents, st->n_brands, sizeof *st->gmv_cents);
}

static fw_err ads_create(fw_sim *S, fw_part_inst *p)
{
    ads_state *st = p->state;
    st->n_brands = S->w.n_brands;
    if (!(st->spend_cents = fw_sim_calloc(S, st->n_brands, sizeof *st->spend_cents)) ||
        !(st->gmv_cents = fw_sim_calloc(S, st->n_brands, sizeof *st->gmv_cents)))
        return FW_ERR_NOMEM;
    if (!S->rec || !S->w.n_campaigns)
        return FW_OK;
    fw_err rc = fw_recorder_group(S->rec, "ads", "the ads' books (global: campaigns serve every arm) and per-brand "
                                                 "spend and attributed GMV");
    fw_rec_table spend = {.path = "ads/brand_spend_cents", .unit = "cents", .doc = "ad spend to date per brand",
                          .type = FW_REC_I64, .data = (const void *const *)&st->spend_cents, .rows = &st->n_brands,
                          .labels = {"brand"}};
    fw_rec_table gmv = spend;
    gmv.path = "ads/brand_attributed_gmv_cents";
    gmv.doc = "GMV of the orders attributed to the brand's ads, to date (ROAS = this / spend)";
    gmv.data = (const void *const *)&st->gmv_cents;
    if (rc == FW_OK && (rc = fw_recorder_table(S->rec, &spend)) == FW_OK)
        rc = fw_recorder_table(S->rec, &gmv);
    return rc;
}

const fw_part fw_ads_part = {
    .name = "ads",
    FW_PART_COUNTERS_AND_RATES,
    .state_size = sizeof(ads_state),
    .create = ads_create,
    .on_event = ads_on_event,
    .after_log = ads_after_log,
    .tick_end = ads_tick_end,
    .day_close = ads_day_close,
    .snap = ads_snap,
};
