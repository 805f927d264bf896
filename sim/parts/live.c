/* The live part (issue 19): live-stream selling, the simulator's side.
 * Owns: the run's live schedule (drawn once at the start), each user's join of the tick, the
 *   tick's join, buy and leave scratch, the per-session table.
 * Borrows: the world (interests, products, creators), the engine's live module
 *   (flywheel/live.h), which holds viewers, flash stock and the books.
 * Never touches: the shop part's state (live orders skip the shop part's monthly budget check:
 *   a limit of this first version), other parts' streams.
 *  - Run start: the schedule. Day d draws Poisson(world.live_sessions_per_day) sessions from
 *    FW_RNG_LIVE_SCHEDULE (entity 0, day d): a start tick uniform in the day, a duration
 *    uniform in [live_duration_min_ticks, max], a host (a brand with share live_brand_share,
 *    else a uniform creator), a uniform brand with products, live_products_per_session of its
 *    products without replacement, each with live_flash_units flash units at list x (1 -
 *    live_discount) for the first live_price_ticks ticks. Sessions are numbered by (start,
 *    draw order) and handed to the engine (fw_live_define). A warm-up's days (world.warmup_days,
 *    d = -W .. -1, stream day (uint32_t)d, their ticks below 0) draw theirs the same way, first
 *    in start order: selling live is part of the history; the recorded days' sessions are the
 *    ones a run without a warm-up draws, and /live/sessions lists those alone (a warm-up
 *    session still live at day 0 counts in the days' counters, not in the table).
 *  - Sessions (parallel): a user in a session while some session is live is shown the engine's
 *    live card (fw_live_card); with interest i = n_topics x the user's interest in the
 *    session's category, a followed host's push is opened with behaviour.live_notify_open
 *    (engine.live.notify on), else the card with live_follow_join (followed host) or
 *    live_card_click, x sqrt(i). Draws: FW_RNG_LIVE_JOIN (user, tick). The user's first join
 *    of the tick is kept in the user's row (join_tick, join_what: rows several ranks exchange).
 *  - Before the tick's log (barrier): the joins of the tick's users, in user order, open the
 *    engine's tick (fw_live_open_tick: ended sessions drop their viewers, viewers are
 *    counted). Then every
 *    viewer of every live session, in join order, draws from FW_RNG_LIVE_VIEW (session, tick):
 *    an order with probability live_buy x sqrt(i) x (list / price)^(price_weight + deal_weight)
 *    (price: the live price while it holds and flash units are left; the deal term once, as
 *    the order is one decision; a promotion day's sale and coupons, which the checkout also
 *    applies, are not weighed here), a uniform item; and leaving with
 *    hazard live_leave x (1 + live_fatigue x ticks watched) / sqrt(i). Orders go through the
 *    engine (fw_live_buy: the shop's order path, so the shop part counts them as orders and
 *    GMV too); leavers leave after the tick.
 *  - Day end: the engine's per-cell figures into the arms' counters. Day close: the sessions'
 *    figures to date (/live/sessions).
 * Active only when world.live_sessions_per_day > 0, the world has products and some cell
 * shows live sessions (engine.live.enabled): otherwise nothing in the result file changes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/part.h"
#include "flywheel/live.h"
#include "model/rng.h"

#define LIVE_COUNTERS(X)                                                                            \
    X(live_sessions, "sessions", "live sessions live at some tick of the day (every arm with live selling)") \
    X(live_ticks_on, "ticks", "ticks of the day with some session live")                              \
    X(live_viewer_ticks, "viewer-ticks", "the arm's concurrent live viewers summed over the day's ticks") \
    X(live_peak_viewers, "viewers", "the arm's most concurrent live viewers in one tick (summed over its cells)") \
    X(live_viewers, "joins", "viewers who joined a live session (a user once per session in a row)")     \
    X(live_joins_feed, "joins", "joins from the live card in the feed")                                 \
    X(live_joins_follow, "joins", "joins from the card of a followed host")                             \
    X(live_joins_notify, "joins", "joins from the push to the host's followers")                        \
    X(live_orders, "orders", "live orders created (through the shop's order path)")                    \
    X(live_flash_orders, "orders", "live orders at the live price (flash units)")                       \
    X(live_paid_orders, "orders", "live orders paid")                                                  \
    X(live_gmv_cents, "cents", "value of the live orders paid on the day (live GMV, part of gmv_cents)")

FW_DECLARE_COUNTERS(LIVE_COUNTERS);

static const fw_rate_desc rates[] = {
    {"live_mean_viewers", "live_viewer_ticks", "live_ticks_on", 1.0, "viewers",
     "mean concurrent live viewers over the ticks with some session live"},
    {"live_orders_per_viewer", "live_paid_orders", "live_viewers", 1.0, "orders", "live orders paid / live joins"},
    {"live_gmv_share", "live_gmv_cents", "gmv_cents", 1.0, "1", "live GMV / all GMV of the day"},
};

/* /live/sessions: one row per session, these columns. */
#define SESSION_COLS(X)                                                                                 \
    X(start_tick) X(end_tick) X(host) X(brand) X(products) X(viewers) X(peak_viewers) X(viewer_ticks) \
    X(orders) X(flash_orders) X(paid_orders) X(gmv_cents) X(flash_units) X(flash_sold)
#define COL_ENUM_(n) T_##n,
enum { SESSION_COLS(COL_ENUM_) T__COUNT };

typedef struct live_state {
    uint32_t n_sess, n_items;
    fw_live_session_def *defs;      /* [n_sess] */
    fw_live_item *items;            /* [n_items] */
    uint16_t *cat;                  /* [n_sess] the session's category (its brand's) */
    /* The user's first join of the tick: the tick (another tick: none) and the session and
     * source (session << 2 | source: a run has far fewer than 2^30 sessions, at most 1,000 a day
     * by world.live_sessions_per_day's range). Rows of the user's own (fw_sim_rank_row): a session
     * writes its user's, the barrier reads the tick's users'. */
    int32_t *join_tick;             /* [n_users] */
    uint32_t *join_what;            /* [n_users] */
    fw_live_join *joins;            /* the barrier's scratch */
    size_t cap_joins;
    gsl_rng **jrng;                 /* [n_threads] FW_RNG_LIVE_JOIN */
    gsl_rng *vrng;                  /* FW_RNG_LIVE_VIEW */
    fw_live_buy_req *buys;
    fw_live_buy_out *outs;
    uint32_t *leavers;
    size_t cap_buys, cap_leavers;
    uint32_t first_live;            /* sessions before it have ended */
    uint32_t n_warm;                /* the warm-up's sessions, first (start < 0) */
    int64_t *table;                 /* [(n_sess - n_warm) * T__COUNT]: the recorded days' */
    uint32_t table_rows;            /* 0 until the first day close */
} live_state;

static int live_active(const fw_sim *S)
{
    if (!(S->sc->world.live_sessions_per_day > 0.0) || S->w.n_products == 0)
        return 0;
    for (uint32_t c = 0; c < S->n_cells; c++)
        if (S->cell_engine[c].live.enabled)
            return 1;
    return 0;
}

typedef struct draw_sess {
    fw_live_session_def d;
    uint32_t seq;
} draw_sess;

static int cmp_draw(const void *a, const void *b)
{
    const draw_sess *x = a, *y = b;
    if (x->d.start != y->d.start)
        return x->d.start < y->d.start ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Draws the run's schedule (see the top). */
static fw_err schedule(fw_sim *S, live_state *st)
{
    const fw_world *w = &S->w;
    const fw_world_cfg *c = &S->sc->world;
    fw_err rc = FW_ERR_NOMEM;
    /* Each brand's products, in id order. */
    uint32_t *off = calloc((size_t)w->n_brands + 1, sizeof *off), *prod = malloc((size_t)w->n_products * sizeof *prod);
    uint32_t *sellers = malloc(((size_t)w->n_brands + 1) * sizeof *sellers), n_sellers = 0;
    uint32_t *pick = malloc(((size_t)w->n_products + 1) * sizeof *pick);
    draw_sess *ds = NULL;
    uint32_t *ds_items = NULL;   /* [n drawn * per] the products of each drawn session */
    size_t n_ds = 0, cap_ds = 0, cap_it = 0;
    gsl_rng *r = fw_sim_rng(S, FW_RNG_LIVE_SCHEDULE);
    if (!off || !prod || !sellers || !pick || !r)
        goto out;
    for (uint32_t p = 0; p < w->n_products; p++)
        off[w->product_brand[p] + 1]++;
    for (uint32_t b = 0; b < w->n_brands; b++) {
        if (off[b + 1] > 0)
            sellers[n_sellers++] = b;
        off[b + 1] += off[b];
    }
    {
        uint32_t *fill = calloc((size_t)w->n_brands, sizeof *fill);
        if (!fill)
            goto out;
        for (uint32_t p = 0; p < w->n_products; p++) {
            uint32_t b = w->product_brand[p];
            prod[off[b] + fill[b]++] = p;
        }
        free(fill);
    }
    uint32_t per = c->live_products_per_session, tpd = S->tpd;
    uint32_t dmin = c->live_duration_min_ticks, dmax = c->live_duration_max_ticks;
    for (int64_t d = -(int64_t)c->warmup_days; d < (int64_t)S->sc->days && n_sellers > 0; d++) {
        fw_rng_seek(r, S->sc->seed, FW_RNG_LIVE_SCHEDULE, 0, (uint32_t)d);
        uint32_t n = gsl_ran_poisson(r, c->live_sessions_per_day);
        for (uint32_t i = 0; i < n; i++) {
            int32_t start = (int32_t)(d * tpd + (int64_t)gsl_rng_uniform_int(r, tpd));
            int32_t len = (int32_t)(dmin + gsl_rng_uniform_int(r, dmax - dmin + 1));
            int brand_host = gsl_rng_uniform(r) < c->live_brand_share;
            uint32_t brand = sellers[gsl_rng_uniform_int(r, n_sellers)];
            uint32_t host = FW_NONE;
            if (!brand_host && w->n_creators > 0)
                host = w->creator_user[gsl_rng_uniform_int(r, w->n_creators)];
            uint32_t have = off[brand + 1] - off[brand], k = per < have ? per : have;
            memcpy(pick, &prod[off[brand]], have * sizeof *pick);
            for (uint32_t j = 0; j < k; j++) {   /* partial Fisher-Yates: k distinct products */
                uint32_t x = j + (uint32_t)gsl_rng_uniform_int(r, have - j), t = pick[j];
                pick[j] = pick[x];
                pick[x] = t;
            }
            if (fw_sim_grow((void **)&ds, &cap_ds, n_ds + 1, sizeof *ds, 64) ||
                fw_sim_grow((void **)&ds_items, &cap_it, (n_ds + 1) * per, sizeof *ds_items, 64))
                goto out;
            ds[n_ds] = (draw_sess){.d = {.host = host, .brand = brand, .start = start, .end = start + len,
                                         .first_item = 0, .n_items = k},
                                   .seq = (uint32_t)n_ds};
            memcpy(&ds_items[n_ds * per], pick, k * sizeof *pick);
            n_ds++;
        }
    }
    qsort(ds, n_ds, sizeof *ds, cmp_draw);
    size_t n_items = 0;
    for (size_t i = 0; i < n_ds; i++)
        n_items += ds[i].d.n_items;
    st->defs = fw_sim_calloc(S, n_ds ? n_ds : 1, sizeof *st->defs);
    st->items = fw_sim_calloc(S, n_items ? n_items : 1, sizeof *st->items);
    st->cat = fw_sim_calloc(S, n_ds ? n_ds : 1, sizeof *st->cat);
    while (st->n_warm < n_ds && ds[st->n_warm].d.start < 0)
        st->n_warm++;
    size_t n_rec = n_ds - st->n_warm;
    st->table = fw_sim_calloc(S, (n_rec ? n_rec : 1) * T__COUNT, sizeof *st->table);
    if (!st->defs || !st->items || !st->cat || !st->table)
        goto out;
    uint32_t at = 0;
    for (size_t i = 0; i < n_ds; i++) {
        fw_live_session_def d = ds[i].d;
        d.first_item = at;
        for (uint32_t j = 0; j < d.n_items; j++) {
            uint32_t p = ds_items[(size_t)ds[i].seq * per + j];
            int64_t list = w->product_price_cents[p];
            int64_t live = (int64_t)floor((double)list * (1.0 - c->live_discount));
            st->items[at++] = (fw_live_item){.product = p, .price_cents = live < 1 ? 1 : (live > list ? list : live),
                                             .flash_units = c->live_flash_units, .price_from = d.start,
                                             .price_until = d.start + (int32_t)c->live_price_ticks};
        }
        st->defs[i] = d;
        st->cat[i] = w->brand_category[d.brand];
    }
    st->n_sess = (uint32_t)n_ds;
    st->n_items = at;
    rc = fw_live_define(S->engine, st->defs, st->n_sess, st->items, st->n_items);
out:
    free(off);
    free(prod);
    free(sellers);
    free(pick);
    free(ds);
    free(ds_items);
    return rc;
}

static fw_err live_create(fw_sim *S, fw_part_inst *p)
{
    live_state *st = p->state;
    uint32_t U = S->w.n_users ? S->w.n_users : 1;
    if (!(st->join_tick = fw_sim_calloc(S, U, sizeof *st->join_tick)) ||
        !(st->join_what = fw_sim_calloc(S, U, sizeof *st->join_what)) ||
        !(st->jrng = fw_sim_thread_rngs(S, FW_RNG_LIVE_JOIN)) || !(st->vrng = fw_sim_rng(S, FW_RNG_LIVE_VIEW)))
        return FW_ERR_NOMEM;
    for (uint32_t u = 0; u < U; u++)
        st->join_tick[u] = INT32_MIN;   /* no tick: warm-up ticks are negative */
    fw_err rc;
    if ((rc = fw_sim_rank_row(S, st->join_tick, sizeof *st->join_tick)) != FW_OK ||
        (rc = fw_sim_rank_row(S, st->join_what, sizeof *st->join_what)) != FW_OK)
        return rc;
    rc = schedule(S, st);
    if (rc != FW_OK || !S->rec)
        return rc;
    rc = fw_recorder_group(S->rec, "live", "live-stream selling: the run's sessions and their figures to date");
    if (rc != FW_OK)
        return rc;
    static const char *const cols_attr = "start_tick, end_tick, host, brand, products, viewers, peak_viewers, "
                                         "viewer_ticks, orders, flash_orders, paid_orders, gmv_cents, "
                                         "flash_units, flash_sold";
    fw_rec_table t = {.path = "live/sessions", .unit = "",
                      .doc = "each live session (row, in start order) to date: start_tick, end_tick (live at [start, "
                             "end)), host (the creator's user id; -1: the brand), brand, products (on its list), "
                             "viewers (joins), peak_viewers, viewer_ticks, orders (created), flash_orders (at the live "
                             "price), paid_orders, gmv_cents (paid, gross of refunds), flash_units (over its list), "
                             "flash_sold (units; never above flash_units)",
                      .type = FW_REC_I64, .data = (const void *const *)&st->table, .rows = &st->table_rows,
                      .cols = T__COUNT, .labels = {"session", "column"}, .attr_name = "columns",
                      .attr_value = &cols_attr};
    return fw_recorder_table(S->rec, &t);
}

/* The first session that may still be live (a cache: rebuilt the same from 0 at the next
 * tick, but it goes, as every field a day changes does) and the /live/sessions table as of the
 * last day close (the recorder's copy of the engine's figures, so the file a resumed run writes
 * is right before its first day closes).
 *  Skipped: the schedule (n_sess, n_items, defs, items, cat, n_warm: drawn from the seed at
 *  create: the engine's section checks their counts); join_tick and join_what (read only at
 *  the barrier of the tick they name, and a resumed run's ticks come after every tick the
 *  rows can name); jrng and vrng (sought before every draw); joins, buys, outs, leavers (a
 *  tick's scratch). */
static void live_snap(fw_sim *S, fw_part_inst *p, fw_snap *s)
{
    (void)S;
    live_state *st = p->state;
    uint32_t n_rec = st->n_sess - st->n_warm;
    fw_snap_index(s, &st->first_live, st->n_sess + 1, st->n_sess + 1);
    fw_snap_u32(s, &st->table_rows);
    if (fw_snap_loading(s) && !fw_snap_failed(s) && st->table_rows != 0 && st->table_rows != n_rec)
        fw_snap_fail(s, "the sessions' table has %u rows, not 0 or %u", st->table_rows, n_rec);
    fw_snap_array(s, st->table, (size_t)n_rec * T__COUNT, sizeof *st->table);
}

static void live_destroy(fw_sim *S, fw_part_inst *p)
{
    (void)S;
    live_state *st = p->state;
    free(st->joins);
    free(st->buys);
    free(st->outs);
    free(st->leavers);
}

/* The user's interest in topic relative to a uniform one (1 on average), kept in [0.05, 20]. */
static double interest(const fw_world *w, uint32_t u, uint32_t topic)
{
    double i = (double)w->n_topics * w->interest[(size_t)u * w->n_topics + topic];
    return i < 0.05 ? 0.05 : i > 20.0 ? 20.0 : i;
}

static void live_user_tick(fw_session *ss, fw_part_inst *p)
{
    live_state *st = p->state;
    fw_rng_seek(st->jrng[ss->slot], ss->seed, FW_RNG_LIVE_JOIN, ss->user, (uint32_t)ss->tick);
}

static int live_browse(fw_session *ss, fw_part_inst *p)
{
    live_state *st = p->state;
    int followed = 0;
    uint32_t k = fw_live_card(ss->engine, ss->user, ss->tick, &followed);
    if (k == FW_NONE)
        return 0;
    const fw_behaviour_cfg *b = &ss->m->cfg;
    gsl_rng *r = st->jrng[ss->slot];
    double si = sqrt(interest(ss->w, ss->user, st->cat[k]));
    uint32_t src = FW_LIVE_FROM_FEED;
    double u1 = gsl_rng_uniform(r), u2 = gsl_rng_uniform(r);
    if (followed && ss->S->cell_engine[ss->cell].live.notify && u1 < b->live_notify_open)
        src = FW_LIVE_FROM_NOTIFY;
    else if (u2 < fmin(1.0, (followed ? b->live_follow_join : b->live_card_click) * si))
        src = followed ? FW_LIVE_FROM_FOLLOW : FW_LIVE_FROM_FEED;
    else
        return 0;
    /* The first join of the tick counts (a later one would find the user watching). */
    if (st->join_tick[ss->user] != ss->tick) {
        st->join_tick[ss->user] = ss->tick;
        st->join_what[ss->user] = k << 2 | src;
    }
    return 0;
}

/* The request id of user's live order from session at tick (salted apart from the shop part's). */
static uint64_t live_request_id(uint64_t seed, uint32_t user, uint32_t session, int32_t tick)
{
    uint64_t h = fw_hash64(seed ^ UINT64_C(0x4c495645));   /* "LIVE" */
    h = fw_hash64(h ^ ((uint64_t)user << 32 | (uint32_t)tick));
    h = fw_hash64(h ^ session);
    return h == UINT64_MAX ? h - 1 : h;
}

static fw_err live_before_log(fw_sim *S, fw_part_inst *p, fw_recbuf *log)
{
    (void)log;
    live_state *st = p->state;
    int32_t tick = S->abs_tick;
    fw_engine_ctx *ctx = S->th[0].ctx;
    /* The tick's joins, in user order: each user's first of the tick (the users who ran, every
     * rank's: their rows came with the exchange). */
    size_t n = 0;
    for (size_t i = 0; i < S->n_tick_users; i++) {
        uint32_t u = S->tick_user[i];
        if (st->join_tick[u] != tick)
            continue;
        if (fw_sim_grow((void **)&st->joins, &st->cap_joins, n + 1, sizeof *st->joins, 64))
            return FW_ERR_NOMEM;
        st->joins[n++] = (fw_live_join){.user = u, .session = st->join_what[u] >> 2, .source = st->join_what[u] & 3};
    }
    fw_err rc = fw_live_open_tick(S->engine, ctx, tick, st->joins, n);
    if (rc != FW_OK && rc != FW_ERR_INVAL)
        return rc;
    /* Every viewer of every live session: buy, then maybe leave. */
    while (st->first_live < st->n_sess && st->defs[st->first_live].end <= tick &&
           st->defs[st->first_live].start <= tick)
        st->first_live++;
    size_t nb = 0, nl = 0;
    for (uint32_t k = st->first_live; k < st->n_sess && st->defs[k].start <= tick; k++) {
        const fw_live_session_def *d = &st->defs[k];
        if (tick >= d->end)
            continue;
        uint32_t nv;
        const uint32_t *v = fw_live_viewers(S->engine, k, &nv);
        fw_rng_seek(st->vrng, S->sc->seed, FW_RNG_LIVE_VIEW, k, (uint32_t)tick);
        for (uint32_t j = 0; j < nv; j++) {
            uint32_t u = v[j];
            double ub = gsl_rng_uniform(st->vrng), ul = gsl_rng_uniform(st->vrng);
            uint32_t item = (uint32_t)gsl_rng_uniform_int(st->vrng, d->n_items);
            const fw_behaviour_cfg *b = &S->model[fw_sim_live_cell(S, u)].cfg;
            const fw_live_item *it = &st->items[d->first_item + item];
            double list = (double)S->w.product_price_cents[it->product], price = list;
            if (tick >= it->price_from && tick < it->price_until && fw_live_flash_left(S->engine, k, item) > 0)
                price = (double)it->price_cents;
            double si = sqrt(interest(&S->w, u, st->cat[k]));
            double deal = exp(fw_behaviour_deal_term(b, list, price));
            if (ub < fmin(1.0, b->live_buy * si * pow(list / price, b->price_weight) * deal)) {
                if (fw_sim_grow((void **)&st->buys, &st->cap_buys, nb + 1, sizeof *st->buys, 64))
                    return FW_ERR_NOMEM;
                st->buys[nb++] = (fw_live_buy_req){.request_id = live_request_id(S->sc->seed, u, k, tick), .user = u,
                                                   .session = k, .item = item, .qty = 1, .tick = tick};
            }
            int32_t since = tick;
            fw_live_watching(S->engine, u, &since);
            double h = b->live_leave * (1.0 + b->live_fatigue * (double)(tick - since)) / si;
            if (ul < fmin(1.0, h)) {
                if (fw_sim_grow((void **)&st->leavers, &st->cap_leavers, nl + 1, sizeof *st->leavers, 64))
                    return FW_ERR_NOMEM;
                st->leavers[nl++] = u;
            }
        }
    }
    if (nb) {
        fw_live_buy_out *o = realloc(st->outs, nb * sizeof *o);
        if (!o)
            return FW_ERR_NOMEM;
        st->outs = o;
        if ((rc = fw_live_buy(S->engine, ctx, st->buys, nb, st->outs)) != FW_OK)
            return rc;
    }
    for (size_t i = 0; i < nl; i++)
        if ((rc = fw_live_leave(S->engine, st->leavers[i], tick)) != FW_OK)
            return rc;
    return FW_OK;
}

static fw_err live_day_end(fw_sim *S, fw_part_inst *p, uint64_t *day)
{
    for (uint32_t c = 0; c < S->n_cells; c++) {
        fw_live_day d;
        fw_err rc = fw_live_day_stats(S->engine, c, &d);
        if (rc != FW_OK)
            return rc;
        for (uint32_t l = 0; l < S->asg.n_layers; l++) {
            uint32_t a = S->asg.cell_arm[c][l];
            uint64_t *row = &day[(size_t)a * S->n_counters + p->base];
            if (d.sessions_on > row[C_live_sessions])
                row[C_live_sessions] = d.sessions_on;
            if (d.ticks_on > row[C_live_ticks_on])
                row[C_live_ticks_on] = d.ticks_on;
            row[C_live_viewer_ticks] += d.viewer_ticks;
            row[C_live_peak_viewers] += d.peak_viewers;
            row[C_live_viewers] += d.viewers;
            row[C_live_joins_feed] += d.joins[FW_LIVE_FROM_FEED];
            row[C_live_joins_follow] += d.joins[FW_LIVE_FROM_FOLLOW];
            row[C_live_joins_notify] += d.joins[FW_LIVE_FROM_NOTIFY];
            row[C_live_orders] += d.orders;
            row[C_live_flash_orders] += d.flash_orders;
            row[C_live_paid_orders] += d.paid_orders;
            row[C_live_gmv_cents] += d.gmv_cents > 0 ? (uint64_t)d.gmv_cents : 0;
        }
    }
    return FW_OK;
}

static fw_err live_day_close(fw_sim *S, fw_part_inst *p)
{
    live_state *st = p->state;
    for (uint32_t k = st->n_warm; k < st->n_sess; k++) {
        fw_live_session_stats s;
        if (fw_live_session_stats_of(S->engine, k, &s) != FW_OK)
            return FW_ERR_INTERNAL;
        const fw_live_session_def *d = &st->defs[k];
        int64_t row[T__COUNT] = {
            [T_start_tick] = d->start, [T_end_tick] = d->end,
            [T_host] = d->host == FW_NONE ? -1 : (int64_t)d->host, [T_brand] = d->brand,
            [T_products] = d->n_items, [T_viewers] = (int64_t)s.viewers, [T_peak_viewers] = (int64_t)s.peak_viewers,
            [T_viewer_ticks] = (int64_t)s.viewer_ticks, [T_orders] = (int64_t)s.orders,
            [T_flash_orders] = (int64_t)s.flash_orders, [T_paid_orders] = (int64_t)s.paid_orders,
            [T_gmv_cents] = s.gmv_cents, [T_flash_units] = (int64_t)s.flash_units,
            [T_flash_sold] = (int64_t)s.flash_sold};
        memcpy(&st->table[(size_t)(k - st->n_warm) * T__COUNT], row, sizeof row);
    }
    st->table_rows = st->n_sess - st->n_warm;
    return FW_OK;
}

static void live_summary(const fw_sim *S, const fw_part_inst *p, const uint64_t *totals, double days, FILE *out)
{
    int gmv = fw_sim_counter_index(S, "gmv_cents");
    fprintf(out, "  %-12s %9s %9s %9s %9s %12s %9s %9s\n", "live", "sessions", "viewers", "peak", "orders",
            "GMV (CNY)", "ord/view", "GMV share");
    for (uint32_t a = 0; a < S->n_arms; a++) {
        const uint64_t *c = &totals[(size_t)a * S->n_counters];
        const uint64_t *mine = c + p->base;
        double opv = mine[C_live_viewers] ? (double)mine[C_live_paid_orders] / (double)mine[C_live_viewers] : NAN;
        double share = gmv >= 0 && c[gmv] ? (double)mine[C_live_gmv_cents] / (double)c[gmv] : NAN;
        fprintf(out, "  %-12s %9.1f %9.0f %9.0f %9.1f %12.2f %9.4f %8.1f%%\n", S->sc->arms[a].name,
                mine[C_live_sessions] / days, mine[C_live_viewers] / days, mine[C_live_peak_viewers] / days,
                mine[C_live_paid_orders] / days, mine[C_live_gmv_cents] / 100.0 / days, opv, 100.0 * share);
    }
}

const fw_part fw_live_part = {
    .name = "live",
    FW_PART_COUNTERS_AND_RATES,
    .active = live_active,
    .state_size = sizeof(live_state),
    .create = live_create,
    .destroy = live_destroy,
    .snap = live_snap,
    .user_tick = live_user_tick,
    .session_browse = live_browse,
    .before_log = live_before_log,
    .day_end = live_day_end,
    .day_close = live_day_close,
    .summary = live_summary,
};
