/* The tables part (output.entities): per-entity tables for research -- what each note,
 * creator, product, campaign and user did each day, and search examinations and clicks by
 * rank -- written as logs (io/recorder.h: append-only column tables) under /entities.
 *  - Sessions: counts each session and each examined search result by rank (the user's own
 *    row, the thread's rank counters).
 *  - Barrier: reads the tick's merged log (note events, shop events, checkouts).
 *  - Day end: one row per note, creator, product, campaign, user that did something today.
 * Draws nothing and is read by no one, so the run's outcomes are the same with it on or off;
 * every count comes from the merged log or integer sums over threads, so the tables are the
 * same for any thread count. Runs only when output.entities is on. On several ranks (issue 21)
 * every rank runs every hook on replicated state and the log; the two counts sessions make
 * on the user's own rank (u_sessions, the rank rows) are summed over the ranks at the day's
 * end, and rank 0 alone writes the tables (io/recorder.h: logs on several ranks).
 * A warm-up (issue 18: S->warm, days before 0, the recorder detached) runs every hook, so
 * the day's counts start afresh at day 0 and the books to date (creators' notes and income,
 * units sold, campaigns' stats) count from its first day, but nothing described once (notes,
 * products, campaigns) is marked written and no user's first active day is taken. */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "driver/evlog.h"
#include "driver/mpi.h"
#include "driver/part.h"
#include "flywheel/ads.h"
#include "flywheel/market.h"
#include "flywheel/shop.h"

#define RANKS 10   /* search ranks 1..10; deeper results count in rank 10's row */

enum { N_NOTE = 6, N_DAY = 7 };

typedef struct tables_state {
    /* Per note, today (grown with the notes). */
    uint32_t *nd;               /* [cap_notes * N_DAY]: impressions, opens, likes, saves, comments, search impressions, search opens */
    size_t cap_notes;
    uint32_t notes_logged;      /* notes described so far in /entities/notes */
    uint32_t notes_counted;     /* notes counted in their creators' cr_notes */
    uint8_t *seen;              /* [n_users] the user was active on an earlier day of the run */
    /* Per creator (by user id), today and to date. */
    uint32_t *cr_imp, *cr_open, *cr_notes;   /* [n_users] */
    /* Per product, today. */
    uint32_t *pv, *pc, *po, *ps, *pr;        /* views, cart adds, orders, stock-outs, refunds */
    uint32_t *pr_total;                      /* refunds to date (from the orders) */
    uint32_t products_logged;
    /* Per campaign: yesterday's cumulative stats. */
    fw_campaign_stats *camp_prev;
    fw_campaign_stats *cell_prev;   /* [n_cells * n_campaigns] yesterday's per-arm shares (budget split) */
    int64_t *camp_gmv;          /* [n_campaigns] today's attributed GMV */
    int campaigns_logged;
    int closed;                 /* a day has closed (a warm-up day too): camp_prev is its end */
    /* Per user, today. */
    uint32_t *u_sessions, *u_orders;
    uint32_t *u_paid_prev;      /* [n_users] paid orders of the period at the last day's end */
    int period_prev;
    /* Search ranks: [n_threads][n_cells][RANKS][2] examined, clicked. */
    uint64_t *rank;
    uint32_t id_notes, id_note_days, id_creator_days, id_products, id_product_days, id_campaigns, id_campaign_days,
        id_user_days, id_search_rank, id_campaign_arm_days;
} tables_state;

#define C(name, type, unit, doc) {#name, FW_REC_##type, unit, doc}

static const fw_rec_col notes_cols[] = {
    C(creator, U32, "", "user id of the author"),
    C(topic, U16, "", "topic"),
    C(format, U8, "", "0 image, 1 video"),
    C(product, U32, "", "the product the note truly shows, 4294967295 if none"),
    C(published_tick, I32, "ticks", "absolute tick of publication (day x ticks_per_day + tick; < 0: before day 0)"),
    C(quality, F32, "", "true quality (log scale; hidden from the engine)"),
};
static const fw_rec_col note_day_cols[] = {
    C(day, U16, "day", "simulated day"),
    C(note, U32, "", "note id (row of /entities/notes)"),
    C(impressions, U32, "impressions", "times shown (feed and search)"),
    C(opens, U32, "opens", "times opened"),
    C(likes, U32, "events", "likes"),
    C(saves, U32, "events", "saves"),
    C(comments, U32, "events", "comments"),
    C(search_impressions, U32, "impressions", "of impressions, on search result pages"),
    C(search_opens, U32, "opens", "of opens, from search result pages"),
};
static const fw_rec_col creator_day_cols[] = {
    C(day, U16, "day", "simulated day"),
    C(creator, U32, "", "user id of the creator"),
    C(followers, U32, "users", "followers at the day's end"),
    C(notes, U32, "notes", "notes published to date (before day 0 included)"),
    C(impressions, U32, "impressions", "impressions of the creator's notes today"),
    C(opens, U32, "opens", "opens of the creator's notes today"),
    C(income_cents, I64, "cents", "marketplace income to date (completed tasks)"),
};
static const fw_rec_col product_cols[] = {
    C(brand, U32, "", "brand id"),
    C(category, U16, "", "category (a topic)"),
    C(price_cents, I64, "cents", "price"),
    C(initial_stock, U32, "units", "units on sale at the start (before the warm-up, if world.warmup_days)"),
};
static const fw_rec_col product_day_cols[] = {
    C(day, U16, "day", "simulated day"),
    C(product, U32, "", "product id (row of /entities/products)"),
    C(views, U32, "views", "product page views"),
    C(carts, U32, "events", "cart adds"),
    C(orders, U32, "orders", "orders created (checkouts accepted)"),
    C(stockouts, U32, "requests", "checkouts refused: out of stock"),
    C(refunds, U32, "orders", "orders refunded today"),
    C(sold, U64, "units", "units sold to date (the shop's books, end of day)"),
    C(available, U64, "units", "units available at the day's end"),
};
static const fw_rec_col campaign_cols[] = {
    C(brand, U32, "", "brand id"),
    C(objective, U8, "", "0 CPM, 1 CPC, 2 conversion"),
    C(bid_cents, I64, "cents", "bid per thousand impressions, per click or per conversion"),
    C(daily_budget_cents, I64, "cents", "daily budget"),
    C(target_topic, U32, "", "targeted topic, 4294967295: everyone"),
    C(creative, U32, "", "the note shown as the ad"),
    C(goal, U8, "", "0 manual, 1 max conversions, 2 target CPA, 3 target ROAS (autobidding, flywheel/ads.h)"),
    C(target, F64, "", "the goal's target: cents per conversion (1, 2) or GMV per cent spent (3); 0 manual"),
    C(first_day, U32, "day", "the day its advertiser joined (world.join_share; 0: from the start)"),
};
static const fw_rec_col campaign_day_cols[] = {
    C(day, U16, "day", "simulated day"),
    C(campaign, U32, "", "campaign id (row of /entities/campaigns)"),
    C(spend_cents, I64, "cents", "billed today"),
    C(budget_cents, I64, "cents", "today's daily budget (as advertisers revised it: world.budget_elasticity, leave_roas)"),
    C(impressions, U64, "ads", "ad impressions today"),
    C(clicks, U64, "clicks", "ad clicks today"),
    C(conversions, U64, "orders", "attributed conversions today"),
    C(attributed_gmv_cents, I64, "cents", "value of the orders attributed to the campaign today"),
    C(overdelivery_cents, I64, "cents", "charges not billed today: the budget was spent"),
    C(pacing_multiplier, F64, "", "pacing at the day's end: bids are divided by 1 + this"),
    C(throttled, U8, "", "1: out of auctions at the day's end"),
    C(goal_multiplier, F64, "", "the autobidder's goal multiplier at the day's end (cell 0's; 1 for manual campaigns)"),
};
/* With a budget split, every campaign's share in every arm (the unit that spends a budget). */
static const fw_rec_col campaign_arm_day_cols[] = {
    C(day, U16, "day", "simulated day"),
    C(cell, U32, "", "the arm's cell (row of /entities/cell_arm) whose share this is"),
    C(campaign, U32, "", "campaign id (row of /entities/campaigns)"),
    C(spend_cents, I64, "cents", "billed to the arm's share today"),
    C(impressions, U64, "ads", "ad impressions to the arm's users today"),
    C(clicks, U64, "clicks", "ad clicks by the arm's users today"),
    C(conversions, U64, "orders", "the arm's users' orders attributed to the campaign today"),
    C(attributed_gmv_cents, I64, "cents", "their value"),
    C(pacing_multiplier, F64, "", "the share's pacing at the day's end"),
    C(goal_multiplier, F64, "", "the share's autobidder goal multiplier at the day's end (1: manual)"),
    C(bid_shade, F64, "", "the share of its value the share's autobidder bids under first price (1: none)"),
};
static const fw_rec_col user_day_cols[] = {
    C(day, U16, "day", "simulated day"),
    C(user, U32, "", "user id (only users active on the day have a row)"),
    C(cell, U8, "", "the user's experiment cell"),
    C(sessions, U32, "sessions", "sessions (app opens)"),
    C(impressions, U32, "impressions", "feed notes and ads examined (search results not included)"),
    C(opens, U32, "opens", "feed notes opened and ads clicked"),
    C(orders, U32, "orders", "orders created (checkouts accepted)"),
    C(paid_orders, U32, "orders", "orders paid (purchases; an order may be paid a day after it was created)"),
    C(first_day, U8, "", "1: the user's first active day in the run"),
};
static const fw_rec_col search_rank_cols[] = {
    C(day, U16, "day", "simulated day"),
    C(cell, U8, "", "experiment cell of the searchers"),
    C(rank, U8, "", "organic result rank, 1..10 (10 includes deeper results)"),
    C(examined, U64, "results", "results examined at this rank"),
    C(clicked, U64, "results", "results opened at this rank"),
};
#undef C
#define NCOLS(a) ((uint32_t)(sizeof a / sizeof a[0]))

/* A day's columns for one log: n_cols arrays of rows values, freed by cols_free. */
typedef struct cols {
    void *v[16];
    uint32_t n;
} cols;

static size_t esize(fw_rec_type t)
{
    switch (t) {
    case FW_REC_U8: return 1;
    case FW_REC_U16: return 2;
    case FW_REC_U32: case FW_REC_I32: case FW_REC_F32: return 4;
    default: return 8;
    }
}

static int cols_alloc(cols *c, const fw_rec_col *d, uint32_t n, size_t rows)
{
    assert(n <= sizeof c->v / sizeof c->v[0]);
    memset(c, 0, sizeof *c);
    c->n = n;
    for (uint32_t k = 0; k < n; k++)
        if (!(c->v[k] = malloc((rows ? rows : 1) * esize(d[k].type))))
            return -1;
    return 0;
}

static void cols_free(cols *c)
{
    for (uint32_t k = 0; k < c->n; k++) {
        free(c->v[k]);
        c->v[k] = NULL;
    }
    c->n = 0;
}

static fw_err cols_append(fw_sim *S, uint32_t id, cols *c, size_t rows)
{
    fw_err rc = rows && S->rec ? fw_recorder_log_append(S->rec, id, rows, (const void *const *)c->v) : FW_OK;
    cols_free(c);
    return rc;
}

#define U8(c, k) ((uint8_t *)(c).v[k])
#define U16(c, k) ((uint16_t *)(c).v[k])
#define U32(c, k) ((uint32_t *)(c).v[k])
#define I32(c, k) ((int32_t *)(c).v[k])
#define U64(c, k) ((uint64_t *)(c).v[k])
#define I64(c, k) ((int64_t *)(c).v[k])
#define F32(c, k) ((float *)(c).v[k])
#define F64(c, k) ((double *)(c).v[k])

/* Asked before the recorder exists: an unrecorded run (a side run) keeps counting but writes
 * nothing. */
static int tables_active(const fw_sim *S) { return S->sc->output.entities; }

static int grow_notes(tables_state *st, size_t need)
{
    if (need <= st->cap_notes)
        return 0;
    size_t cap = st->cap_notes ? st->cap_notes : 1024;
    while (cap < need)
        cap *= 2;
    uint32_t *v = realloc(st->nd, cap * N_DAY * sizeof *v);
    if (!v)
        return -1;
    memset(v + st->cap_notes * N_DAY, 0, (cap - st->cap_notes) * N_DAY * sizeof *v);
    st->nd = v;
    st->cap_notes = cap;
    return 0;
}

static fw_err tables_create(fw_sim *S, fw_part_inst *p)
{
    tables_state *st = p->state;
    uint32_t nu = S->w.n_users, np = S->w.n_products;
    if (grow_notes(st, S->w.n_notes + 1) || !(st->cr_imp = fw_sim_calloc(S, nu, sizeof(uint32_t))) ||
        !(st->cr_open = fw_sim_calloc(S, nu, sizeof(uint32_t))) ||
        !(st->cr_notes = fw_sim_calloc(S, nu, sizeof(uint32_t))) ||
        !(st->u_sessions = fw_sim_calloc(S, nu, sizeof(uint32_t))) ||
        !(st->u_orders = fw_sim_calloc(S, nu, sizeof(uint32_t))) || !(st->pv = fw_sim_calloc(S, np + 1, sizeof(uint32_t))) ||
        !(st->pc = fw_sim_calloc(S, np + 1, sizeof(uint32_t))) || !(st->po = fw_sim_calloc(S, np + 1, sizeof(uint32_t))) ||
        !(st->ps = fw_sim_calloc(S, np + 1, sizeof(uint32_t))) || !(st->pr = fw_sim_calloc(S, np + 1, sizeof(uint32_t))) ||
        !(st->pr_total = fw_sim_calloc(S, np + 1, sizeof(uint32_t))) ||
        !(st->camp_prev = fw_sim_calloc(S, S->w.n_campaigns + 1, sizeof(fw_campaign_stats))) ||
        !(st->camp_gmv = fw_sim_calloc(S, S->w.n_campaigns + 1, sizeof(int64_t))) ||
        !(st->cell_prev = fw_sim_calloc(S, (size_t)S->n_cells * S->w.n_campaigns + 1, sizeof(fw_campaign_stats))) ||
        !(st->u_paid_prev = fw_sim_calloc(S, nu, sizeof(uint32_t))) ||
        !(st->rank = fw_sim_calloc(S, (size_t)S->n_threads * S->n_cells * RANKS * 2, sizeof(uint64_t))))
        return FW_ERR_NOMEM;
    if (!(st->seen = fw_sim_calloc(S, nu, 1)))
        return FW_ERR_NOMEM;
    for (uint32_t n = 0; n < S->w.n_notes; n++)
        st->cr_notes[S->w.note_info[n].creator]++;
    st->notes_counted = S->w.n_notes;
    if (!S->rec)
        return FW_OK;
    fw_err rc;
    if ((rc = fw_recorder_group(S->rec, "entities",
                                "per-entity tables (output.entities): one row per note, product and campaign "
                                "(row index = id), and per day one row per entity that did something")) != FW_OK ||
        (rc = fw_recorder_log(S->rec, "entities/notes", "every note (row = note id): who, what, when, true quality",
                              NCOLS(notes_cols), notes_cols, &st->id_notes)) != FW_OK ||
        (rc = fw_recorder_log(S->rec, "entities/note_days", "per day, every note with an impression or event: counts",
                              NCOLS(note_day_cols), note_day_cols, &st->id_note_days)) != FW_OK ||
        (rc = fw_recorder_log(S->rec, "entities/creator_days", "per day, every creator: followers, notes, reach, income",
                              NCOLS(creator_day_cols), creator_day_cols, &st->id_creator_days)) != FW_OK ||
        (rc = fw_recorder_log(S->rec, "entities/products", "every product (row = product id)", NCOLS(product_cols),
                              product_cols, &st->id_products)) != FW_OK ||
        (rc = fw_recorder_log(S->rec, "entities/product_days", "per day, every product with any shop activity",
                              NCOLS(product_day_cols), product_day_cols, &st->id_product_days)) != FW_OK ||
        (rc = fw_recorder_log(S->rec, "entities/campaigns", "every ad campaign (row = campaign id)",
                              NCOLS(campaign_cols), campaign_cols, &st->id_campaigns)) != FW_OK ||
        (rc = fw_recorder_log(S->rec, "entities/campaign_days", "per day, every campaign: spend, delivery, pacing",
                              NCOLS(campaign_day_cols), campaign_day_cols, &st->id_campaign_days)) != FW_OK ||
        (rc = fw_recorder_log(S->rec, "entities/campaign_arm_days",
                              "per day, every campaign's share in every arm (rows only with experiment.budget_split "
                              "and more than one arm)",
                              NCOLS(campaign_arm_day_cols), campaign_arm_day_cols, &st->id_campaign_arm_days)) != FW_OK ||
        (rc = fw_recorder_log(S->rec, "entities/user_days", "per day, every active user: activity (cohorts, retention)",
                              NCOLS(user_day_cols), user_day_cols, &st->id_user_days)) != FW_OK ||
        (rc = fw_recorder_log(S->rec, "entities/search_rank", "per day, cell and organic rank: search results examined and opened",
                              NCOLS(search_rank_cols), search_rank_cols, &st->id_search_rank)) != FW_OK ||
        (rc = fw_evlog_describe_cells(S, "entities/cell_arm")) != FW_OK)
        return rc;
    return FW_OK;
}

static int tables_arrive(fw_session *ss, fw_part_inst *p)
{
    tables_state *st = p->state;
    st->u_sessions[ss->user]++;   /* the user's own row */
    return 0;
}

static int tables_on_event(fw_session *ss, fw_part_inst *p, fw_sess_event *ev)
{
    if (ev->kind != FW_SE_EXAMINED)
        return 0;
    tables_state *st = p->state;
    uint32_t r = ev->slot_no < RANKS ? ev->slot_no : RANKS - 1;
    uint64_t *row = &st->rank[(((size_t)ss->slot * ss->S->n_cells + ss->S->cell_of[ss->user]) * RANKS + r) * 2];
    row[0]++;
    row[1] += ev->handled != 0;
    return 0;
}

static fw_err tables_after_log(fw_sim *S, fw_part_inst *p, const fw_record *rec, size_t n)
{
    tables_state *st = p->state;
    if (grow_notes(st, S->w.n_notes + 1))
        return FW_ERR_NOMEM;
    for (size_t k = 0; k < n; k++) {
        const fw_record *x = &rec[k];
        if (x->kind == FW_RECORD_EVENT) {
            uint32_t note = x->u.ev.note, t = FW_EV_TYPE(x->u.ev.type);
            int search = (x->u.ev.type & FW_EV_SEARCH) != 0;
            if (note >= S->w.n_notes)
                continue;
            uint32_t *d = &st->nd[(size_t)note * N_DAY], cu = S->w.note_info[note].creator;
            switch (t) {
            case FW_EV_IMPRESSION: d[0]++; d[5] += search; st->cr_imp[cu]++; break;
            case FW_EV_OPEN: d[1]++; d[6] += search; st->cr_open[cu]++; break;
            case FW_EV_LIKE: d[2]++; break;
            case FW_EV_SAVE: d[3]++; break;
            case FW_EV_COMMENT: d[4]++; break;
            default: break;
            }
        } else if (x->kind == FW_RECORD_SHOP_EVENT && x->u.shop.product < S->w.n_products) {
            if (x->u.shop.type == FW_SHOP_VIEW)
                st->pv[x->u.shop.product]++;
            else if (x->u.shop.type == FW_SHOP_CART_ADD)
                st->pc[x->u.shop.product]++;
        } else if (x->kind == FW_RECORD_ORDER && x->u.order.req.product < S->w.n_products) {
            uint32_t pr = x->u.order.req.product;
            if (x->u.order.out.result == FW_ORDER_OK) {
                st->po[pr]++;
                if (x->u.order.req.user < S->w.n_users)
                    st->u_orders[x->u.order.req.user]++;
            } else if (x->u.order.out.result == FW_ORDER_NO_STOCK) {
                st->ps[pr]++;
            }
        }
    }
    return FW_OK;
}

/* Notes published today, described once. */
static fw_err log_notes(fw_sim *S, tables_state *st)
{
    const fw_world *w = &S->w;
    size_t n = w->n_notes - st->notes_logged;
    cols c = {0};
    if (cols_alloc(&c, notes_cols, NCOLS(notes_cols), n)) {
        cols_free(&c);
        return FW_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t id = st->notes_logged + (uint32_t)i;
        const fw_note_info *ni = &w->note_info[id];
        U32(c, 0)[i] = ni->creator;
        U16(c, 1)[i] = ni->topic;
        U8(c, 2)[i] = ni->format;
        U32(c, 3)[i] = w->note_product[id];
        I32(c, 4)[i] = ni->created_tick;
        F32(c, 5)[i] = w->note_quality[id];
    }
    st->notes_logged = w->n_notes;
    return cols_append(S, st->id_notes, &c, n);
}

static fw_err tables_day_end(fw_sim *S, fw_part_inst *p, uint64_t *day)
{
    (void)day;
    tables_state *st = p->state;
    const fw_world *w = &S->w;
    uint16_t d = (uint16_t)S->day;
    fw_err rc;
    /* Notes published today count for their creators. */
    for (uint32_t n = st->notes_counted; n < w->n_notes; n++)
        st->cr_notes[w->note_info[n].creator]++;
    st->notes_counted = w->n_notes;
    if (!S->warm && (rc = log_notes(S, st)) != FW_OK)   /* the warm-up's notes too, at day 0 */
        return rc;
    /* Note days. */
    size_t rows = 0;
    for (uint32_t n = 0; n < w->n_notes; n++) {
        const uint32_t *x = &st->nd[(size_t)n * N_DAY];
        rows += (x[0] | x[1] | x[2] | x[3] | x[4]) != 0;
    }
    cols c = {0};
    if (cols_alloc(&c, note_day_cols, NCOLS(note_day_cols), rows)) {
        cols_free(&c);
        return FW_ERR_NOMEM;
    }
    size_t i = 0;
    for (uint32_t n = 0; n < w->n_notes; n++) {
        uint32_t *x = &st->nd[(size_t)n * N_DAY];
        if (!(x[0] | x[1] | x[2] | x[3] | x[4]))
            continue;
        U16(c, 0)[i] = d;
        U32(c, 1)[i] = n;
        for (int k = 0; k < N_DAY; k++)
            U32(c, 2 + k)[i] = x[k];
        memset(x, 0, N_DAY * sizeof *x);
        i++;
    }
    if ((rc = cols_append(S, st->id_note_days, &c, rows)) != FW_OK)
        return rc;
    /* Creator days (every creator). */
    if (cols_alloc(&c, creator_day_cols, NCOLS(creator_day_cols), w->n_creators)) {
        cols_free(&c);
        return FW_ERR_NOMEM;
    }
    for (uint32_t k = 0; k < w->n_creators; k++) {
        uint32_t cu = w->creator_user[k];
        U16(c, 0)[k] = d;
        U32(c, 1)[k] = cu;
        U32(c, 2)[k] = w->n_followers[cu];
        U32(c, 3)[k] = st->cr_notes[cu];
        U32(c, 4)[k] = st->cr_imp[cu];
        U32(c, 5)[k] = st->cr_open[cu];
        I64(c, 6)[k] = fw_market_income(S->engine, cu);
        st->cr_imp[cu] = st->cr_open[cu] = 0;
    }
    if ((rc = cols_append(S, st->id_creator_days, &c, w->n_creators)) != FW_OK)
        return rc;
    /* User days (active users), with whether today is their first active day. Paid orders are
     * the period's per-user count (experiment/), which starts again with the period. */
    const uint32_t *paid = fw_sim_aggs(S)[FW_UM_paid_orders];
    int period = S->warm ? -1 : fw_sim_period(S);   /* the counts start again at day 0 */
    if (period != st->period_prev) {
        memset(st->u_paid_prev, 0, w->n_users * sizeof *st->u_paid_prev);
        st->period_prev = period;
    }
    /* Sessions are counted by the user's own rank alone (several ranks: every other rank's
     * row is 0), so the sum over the ranks is every user's count on every rank. */
    if ((rc = fw_mpi_sum_u32(st->u_sessions, w->n_users)) != FW_OK)
        return rc;
    rows = 0;
    for (uint32_t u = 0; u < w->n_users; u++)
        rows += S->us.active_today[u] != 0;
    if (cols_alloc(&c, user_day_cols, NCOLS(user_day_cols), rows)) {
        cols_free(&c);
        return FW_ERR_NOMEM;
    }
    i = 0;
    for (uint32_t u = 0; u < w->n_users; u++) {
        if (!S->us.active_today[u])
            continue;
        U16(c, 0)[i] = d;
        U32(c, 1)[i] = u;
        U8(c, 2)[i] = S->cell_of[u];
        U32(c, 3)[i] = st->u_sessions[u];
        U32(c, 4)[i] = S->us.day_impressions[u];
        U32(c, 5)[i] = S->us.day_opens[u];
        U32(c, 6)[i] = st->u_orders[u];
        U32(c, 7)[i] = paid[u] - st->u_paid_prev[u];
        U8(c, 8)[i] = !st->seen[u];
        st->seen[u] |= !S->warm;   /* first active day of the recorded days */
        i++;
    }
    rc = cols_append(S, st->id_user_days, &c, rows);
    memcpy(st->u_paid_prev, paid, w->n_users * sizeof *paid);
    memset(st->u_sessions, 0, w->n_users * sizeof *st->u_sessions);
    memset(st->u_orders, 0, w->n_users * sizeof *st->u_orders);
    if (rc != FW_OK)
        return rc;
    /* Search by rank, per cell, summed over threads into thread 0's rows, then over the
     * ranks (each counts its own users' sessions). */
    rows = (size_t)S->n_cells * RANKS;
    uint64_t *sum = st->rank;   /* thread 0's [n_cells][RANKS][2] */
    for (int s = 1; s < S->n_threads; s++) {
        uint64_t *x = &st->rank[(size_t)s * rows * 2];
        for (size_t k = 0; k < rows * 2; k++) {
            sum[k] += x[k];
            x[k] = 0;
        }
    }
    if ((rc = fw_mpi_sum_u64(sum, rows * 2)) != FW_OK)
        return rc;
    if (cols_alloc(&c, search_rank_cols, NCOLS(search_rank_cols), rows)) {
        cols_free(&c);
        return FW_ERR_NOMEM;
    }
    for (uint32_t cell = 0; cell < S->n_cells; cell++)
        for (uint32_t r = 0; r < RANKS; r++) {
            size_t at = (size_t)cell * RANKS + r;
            U16(c, 0)[at] = d;
            U8(c, 1)[at] = (uint8_t)cell;
            U8(c, 2)[at] = (uint8_t)(r + 1);
            U64(c, 3)[at] = sum[at * 2];
            U64(c, 4)[at] = sum[at * 2 + 1];
        }
    memset(sum, 0, rows * 2 * sizeof *sum);
    return cols_append(S, st->id_search_rank, &c, rows);
}

/* After the engine's day end: the shop's and the ads' books of the day. */
static fw_err tables_day_close(fw_sim *S, fw_part_inst *p)
{
    tables_state *st = p->state;
    const fw_world *w = &S->w;
    uint16_t d = (uint16_t)S->day;
    fw_err rc;
    cols c = {0};
    if (!st->products_logged && w->n_products && !S->warm) {
        if (cols_alloc(&c, product_cols, NCOLS(product_cols), w->n_products)) {
            cols_free(&c);
            return FW_ERR_NOMEM;
        }
        for (uint32_t k = 0; k < w->n_products; k++) {
            U32(c, 0)[k] = w->product_brand[k];
            U16(c, 1)[k] = w->product_category[k];
            I64(c, 2)[k] = w->product_price_cents[k];
            U32(c, 3)[k] = w->product_stock[k];
        }
        if ((rc = cols_append(S, st->id_products, &c, w->n_products)) != FW_OK)
            return rc;
        st->products_logged = 1;
    }
    /* Refunds to date per product, from the orders; today's are the difference. */
    uint32_t n_orders = fw_shop_n_orders(S->engine);
    for (uint32_t k = 0; k < w->n_products; k++)
        st->pr[k] = 0;
    for (uint32_t o = 0; o < n_orders; o++) {
        fw_order_info oi;
        if (fw_shop_order(S->engine, o, &oi) == FW_OK && oi.status == FW_ORDER_REFUNDED && oi.product < w->n_products)
            st->pr[oi.product]++;
    }
    size_t rows = 0;
    for (uint32_t k = 0; k < w->n_products; k++) {
        uint32_t today = st->pr[k] - st->pr_total[k];
        st->pr_total[k] = st->pr[k];
        st->pr[k] = today;
        rows += (st->pv[k] | st->pc[k] | st->po[k] | st->ps[k] | today) != 0;
    }
    if (cols_alloc(&c, product_day_cols, NCOLS(product_day_cols), rows)) {
        cols_free(&c);
        return FW_ERR_NOMEM;
    }
    size_t i = 0;
    for (uint32_t k = 0; k < w->n_products; k++) {
        if (!(st->pv[k] | st->pc[k] | st->po[k] | st->ps[k] | st->pr[k]))
            continue;
        fw_product_stock ps = {0};
        fw_shop_stock(S->engine, k, &ps);
        U16(c, 0)[i] = d;
        U32(c, 1)[i] = k;
        U32(c, 2)[i] = st->pv[k];
        U32(c, 3)[i] = st->pc[k];
        U32(c, 4)[i] = st->po[k];
        U32(c, 5)[i] = st->ps[k];
        U32(c, 6)[i] = st->pr[k];
        U64(c, 7)[i] = ps.sold;
        U64(c, 8)[i] = ps.available;
        st->pv[k] = st->pc[k] = st->po[k] = st->ps[k] = st->pr[k] = 0;
        i++;
    }
    if ((rc = cols_append(S, st->id_product_days, &c, rows)) != FW_OK)
        return rc;
    /* Campaigns. */
    uint32_t nc = fw_ads_n_campaigns(S->engine);
    if (nc == 0)
        return FW_OK;
    if (!st->campaigns_logged && !S->warm) {
        if (cols_alloc(&c, campaign_cols, NCOLS(campaign_cols), nc)) {
            cols_free(&c);
            return FW_ERR_NOMEM;
        }
        for (uint32_t k = 0; k < nc && k < w->n_campaigns; k++) {
            const fw_campaign_info *ci = &w->campaigns[k];
            U32(c, 0)[k] = ci->brand;
            U8(c, 1)[k] = (uint8_t)ci->objective;
            I64(c, 2)[k] = ci->bid_cents;
            I64(c, 3)[k] = ci->daily_budget_cents;
            U32(c, 4)[k] = ci->target_topic;
            U32(c, 5)[k] = ci->creative;
            U8(c, 6)[k] = (uint8_t)ci->goal;
            F64(c, 7)[k] = ci->goal ? ci->target : 0.0;
            U32(c, 8)[k] = ci->first_day;
        }
        if ((rc = cols_append(S, st->id_campaigns, &c, nc < w->n_campaigns ? nc : w->n_campaigns)) != FW_OK)
            return rc;
        st->campaigns_logged = 1;
    }
    if (cols_alloc(&c, campaign_day_cols, NCOLS(campaign_day_cols), nc)) {
        cols_free(&c);
        return FW_ERR_NOMEM;
    }
    for (uint32_t k = 0; k < nc; k++) {
        fw_campaign_stats cs = {0}, *prev = &st->camp_prev[k];
        if (fw_ads_campaign(S->engine, k, &cs) != FW_OK) {
            cols_free(&c);
            return FW_ERR_INTERNAL;
        }
        U16(c, 0)[k] = d;
        U32(c, 1)[k] = k;
        I64(c, 2)[k] = cs.spend_cents - prev->spend_cents;
        /* Today's (the engine's day has ended: cs holds tomorrow's): yesterday's end set it,
         * a warm-up's last day's for day 0. */
        I64(c, 3)[k] = st->closed ? prev->budget_cents
                       : k < w->n_campaigns && w->campaigns[k].first_day == 0 ? w->campaigns[k].daily_budget_cents
                                                                               : 0;
        U64(c, 4)[k] = cs.impressions - prev->impressions;
        U64(c, 5)[k] = cs.clicks - prev->clicks;
        U64(c, 6)[k] = cs.conversions - prev->conversions;
        I64(c, 7)[k] = st->camp_gmv[k];
        I64(c, 8)[k] = cs.overdelivery_cents - prev->overdelivery_cents;
        F64(c, 9)[k] = cs.multiplier;
        U8(c, 10)[k] = (uint8_t)(cs.throttled != 0);
        F64(c, 11)[k] = cs.goal_multiplier;
        st->camp_gmv[k] = 0;
        *prev = cs;
    }
    st->closed = 1;
    if ((rc = cols_append(S, st->id_campaign_days, &c, nc)) != FW_OK)
        return rc;
    /* Each arm's share, when each arm spends its own (the engine's budget cells are the cells). */
    if (!S->sc->experiment_budget_split || S->sc->experiment_unit == FW_UNIT_CREATOR || S->n_cells < 2)
        return FW_OK;
    size_t arm_rows = (size_t)S->n_cells * nc;
    if (cols_alloc(&c, campaign_arm_day_cols, NCOLS(campaign_arm_day_cols), arm_rows)) {
        cols_free(&c);
        return FW_ERR_NOMEM;
    }
    size_t j = 0;
    for (uint32_t cell = 0; cell < S->n_cells; cell++)
        for (uint32_t k = 0; k < nc; k++, j++) {
            fw_campaign_stats cs = {0}, *prev = &st->cell_prev[(size_t)cell * nc + k];
            if (fw_ads_campaign_cell(S->engine, cell, k, &cs) != FW_OK) {
                cols_free(&c);
                return FW_ERR_INTERNAL;
            }
            U16(c, 0)[j] = d;
            U32(c, 1)[j] = cell;
            U32(c, 2)[j] = k;
            I64(c, 3)[j] = cs.spend_cents - prev->spend_cents;
            U64(c, 4)[j] = cs.impressions - prev->impressions;
            U64(c, 5)[j] = cs.clicks - prev->clicks;
            U64(c, 6)[j] = cs.conversions - prev->conversions;
            I64(c, 7)[j] = cs.attributed_gmv_cents - prev->attributed_gmv_cents;
            F64(c, 8)[j] = cs.multiplier;
            F64(c, 9)[j] = cs.goal_multiplier;
            F64(c, 10)[j] = cs.bid_shade;
            *prev = cs;
        }
    return cols_append(S, st->id_campaign_arm_days, &c, arm_rows);
}

/* The purchases the ads were credited with at this tick's end, valued from the order. */
static fw_err tables_tick_end(fw_sim *S, fw_part_inst *p)
{
    tables_state *st = p->state;
    size_t n;
    const fw_ad_conversion *cv = fw_ads_conversions(S->engine, &n);
    for (size_t k = 0; k < n; k++) {
        fw_order_info oi;
        if (cv[k].campaign < S->w.n_campaigns && fw_shop_order(S->engine, cv[k].order, &oi) == FW_OK)
            st->camp_gmv[cv[k].campaign] += oi.value_cents;
    }
    return FW_OK;
}

/* A campaign's stats field by field: fw_campaign_stats has padding after throttled, whose
 * indeterminate bytes would make two snapshots of one state differ. */
_Static_assert(sizeof(fw_campaign_stats) == 14 * 8, "fw_campaign_stats gained a field: transfer it in snap_stats");

static void snap_stats(fw_snap *s, fw_campaign_stats *x)
{
    int32_t throttled = x->throttled;
    fw_snap_i64(s, &x->spend_today_cents);
    fw_snap_i64(s, &x->spend_cents);
    fw_snap_i64(s, &x->overdelivery_cents);
    fw_snap_u64(s, &x->impressions);
    fw_snap_u64(s, &x->clicks);
    fw_snap_u64(s, &x->conversions);
    fw_snap_u64(s, &x->auctions_won);
    fw_snap_f64(s, &x->multiplier);
    fw_snap_i32(s, &throttled);
    x->throttled = throttled;
    fw_snap_i64(s, &x->attributed_gmv_cents);
    fw_snap_f64(s, &x->goal_multiplier);
    fw_snap_f64(s, &x->bid_shade);
    fw_snap_u64(s, &x->interactions);
    fw_snap_i64(s, &x->budget_cents);
}

/* An int flag as 32 bits. */
static void snap_int(fw_snap *s, int *v)
{
    int32_t x = *v;
    fw_snap_i32(s, &x);
    *v = x;
}

/* Transferred: what counts to date (creators' notes, products' refunds, each user's first
 * active day and paid orders as of the last day's end, campaigns' stats as of it), what has
 * been described once, and the period last seen. Skipped: the day's counts, zeroed at every
 * day's end (nd, cr_imp, cr_open, u_sessions, u_orders, rank) or close (pv, pc, po, ps, pr,
 * camp_gmv), before the snapshot; cap_notes (room: nd grows with the notes at every barrier);
 * the recorder's ids (set at create). */
static void tables_snap(fw_sim *S, fw_part_inst *p, fw_snap *s)
{
    tables_state *st = p->state;
    const fw_world *w = &S->w;
    size_t nc = w->n_campaigns;
    fw_snap_u32(s, &st->notes_logged);
    fw_snap_u32(s, &st->notes_counted);
    if (fw_snap_loading(s) && !fw_snap_failed(s) && (st->notes_logged > w->n_notes || st->notes_counted > w->n_notes))
        fw_snap_fail(s, "notes described %u, counted %u: past the %u notes", st->notes_logged, st->notes_counted,
                     w->n_notes);
    fw_snap_array(s, st->seen, w->n_users, sizeof *st->seen);
    fw_snap_array(s, st->cr_notes, w->n_users, sizeof *st->cr_notes);
    fw_snap_array(s, st->pr_total, (size_t)w->n_products + 1, sizeof *st->pr_total);
    fw_snap_u32(s, &st->products_logged);
    for (size_t k = 0; k < nc + 1 && !fw_snap_failed(s); k++)
        snap_stats(s, &st->camp_prev[k]);
    for (size_t k = 0; k < (size_t)S->n_cells * nc + 1 && !fw_snap_failed(s); k++)
        snap_stats(s, &st->cell_prev[k]);
    snap_int(s, &st->campaigns_logged);
    snap_int(s, &st->closed);
    fw_snap_array(s, st->u_paid_prev, w->n_users, sizeof *st->u_paid_prev);
    snap_int(s, &st->period_prev);
}

static void tables_destroy(fw_sim *S, fw_part_inst *p)
{
    (void)S;
    tables_state *st = p->state;
    if (st)
        free(st->nd);
}

const fw_part fw_tables_part = {
    .name = "tables",
    .active = tables_active,
    .state_size = sizeof(tables_state),
    .create = tables_create,
    .destroy = tables_destroy,
    .session_arrive = tables_arrive,
    .on_event = tables_on_event,
    .after_log = tables_after_log,
    .tick_end = tables_tick_end,
    .day_end = tables_day_end,
    .day_close = tables_day_close,
    .snap = tables_snap,
};
