/* The event log: rows in sessions, merged at the barrier, recorded at the day's end.
 *
 * Invariants: a thread's buffer holds only the rows of users it ran this tick, each user's
 * rows contiguous (a user runs on one thread); the merge takes them in the tick's user order
 * and numbers requests in that order; the day's rows reach the recorder only at the day's
 * end, so the file never holds part of a day. Nothing here draws from a random stream or is
 * read by the simulation. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "driver/evlog.h"
#include "flywheel/ads.h"
#include "flywheel/record.h"
#include "flywheel/shop.h"

/* The impression columns (/events/impressions) and their truth (/truth/impressions). */
#define IMP_COLS(X)                                                                                 \
    X(day, U16, "day", "simulated day")                                                             \
    X(tick, U16, "ticks", "tick of the day (output: world.ticks_per_day a day)")                    \
    X(user, U32, "", "user id")                                                                     \
    X(cell, U8, "", "the user's experiment cell (with one layer: the arm's index, /arms order)")   \
    X(surface, U8, "", "where it was shown: 0 feed, 1 search, 2 shop tab, 3 feed ad, 4 search ad (attribute values)") \
    X(request, U64, "", "request id: one feed page, search page or shop-tab page; numbered in log order") \
    X(position, U16, "slots", "slot on the page, from 0 (ad slots count; search: the ad is slot 0 when ads run)") \
    X(item, U32, "", "what was shown: a note id (feed, search), product id (shop tab) or campaign id (ads)") \
    X(note, U32, "", "the note shown (an ad's creative); 4294967295 on the shop tab")              \
    X(card, U32, "", "the product card on an organic note, else 4294967295")                        \
    X(score, F32, "", "the engine's ranking score of a feed note in its request (fw_engine_ctx_score: the baseline's trending/follow/fresh score, the recommender's weighted task models); NaN on other surfaces") \
    X(propensity, F32, "probability", "probability the logging policy showed this item here: 1 (every ranking, exploration and auction is deterministic)") \
    X(open, U8, "", "1: opened (note read, ad clicked, product viewed)")                             \
    X(like, U8, "", "1: liked")                                                                     \
    X(save, U8, "", "1: saved")                                                                     \
    X(comment, U8, "", "1: commented")                                                              \
    X(follow, U8, "", "1: the note's creator followed")                                             \
    X(card_click, U8, "", "1: the note's product card clicked")                                     \
    X(cart, U8, "", "1: the product reached from it added to the cart in the session")              \
    X(order, U8, "", "1: a checkout sent at once in the session (delayed purchases from the cart are not attributed)")

#define TRUTH_COLS(X)                                                                               \
    X(p_open, F32, "probability", "the user's true probability of opening it (what the open was drawn with)") \
    X(match, F32, "", "true interest match of user and note (topic interest and taste; NaN on the shop tab)") \
    X(quality, F32, "", "the note's true quality (log scale; NaN on the shop tab)")                 \
    X(best_alternative, F32, "probability", "true open probability of the oracle's best recalled candidate " \
      "for this organic feed position (sorted best first), on requests the oracle scored (output.oracle_every); else NaN")

#define SEARCH_COLS(X)                                                                              \
    X(day, U16, "day", "simulated day")                                                             \
    X(tick, U16, "ticks", "tick of the day")                                                        \
    X(user, U32, "", "user id")                                                                     \
    X(cell, U8, "", "the user's experiment cell")                                                   \
    X(request, U64, "", "request id (the impressions of its page carry it)")                        \
    X(attempt, U8, "", "0: a first query; 1, 2: reformulations after a page without a click")       \
    X(n_terms, U8, "terms", "words in the query")                                                   \
    X(term0, U32, "", "word ids of the query (world vocabulary), 4294967295 past n_terms")          \
    X(term1, U32, "", "")                                                                           \
    X(term2, U32, "", "")                                                                           \
    X(term3, U32, "", "")                                                                           \
    X(term4, U32, "", "")                                                                           \
    X(term5, U32, "", "")                                                                           \
    X(n_results, U16, "results", "organic results on the page")

#define SEARCH_TRUTH_COLS(X) X(intent_topic, U32, "", "the topic the user meant (the query was drawn from it)")

#define ORDER_COLS(X)                                                                               \
    X(day, U16, "day", "simulated day")                                                             \
    X(tick, U16, "ticks", "tick of the day")                                                        \
    X(user, U32, "", "the buyer")                                                                   \
    X(cell, U8, "", "the buyer's experiment cell")                                                  \
    X(order, U32, "", "order id")                                                                   \
    X(product, U32, "", "product id")                                                               \
    X(change, U8, "", "0 created, 1 payment failed, 2 paid, 3 cancelled, 4 shipped, 5 delivered, 6 returned, 7 refunded") \
    X(value_cents, I64, "cents", "the order's value")

#define CHARGE_COLS(X)                                                                              \
    X(day, U16, "day", "simulated day")                                                             \
    X(tick, U16, "ticks", "tick of the day (a conversion: the tick its order was paid)")            \
    X(user, U32, "", "user id")                                                                     \
    X(cell, U8, "", "the user's experiment cell")                                                   \
    X(campaign, U32, "", "campaign id")                                                             \
    X(event, U8, "", "0 impression, 1 click, 2 conversion (an order the platform attributed)")      \
    X(price_cents, I64, "cents", "the auction's price per billable unit (conversions: 0)")          \
    X(billed_millicents, I64, "1e-3 cents", "what the campaign was billed for it (0: not billable, or over budget)") \
    X(order, U32, "", "a conversion's order id, else 4294967295")

#define COL_ENUM(name, type, unit, doc) IC_##name,
#define COL_DESC(name, type, unit, doc) {#name, FW_REC_##type, unit, doc},
enum { IMP_COLS(COL_ENUM) IC__COUNT };
#undef COL_ENUM
#define COL_ENUM(name, type, unit, doc) TC_##name,
enum { TRUTH_COLS(COL_ENUM) TC__COUNT };
#undef COL_ENUM
#define COL_ENUM(name, type, unit, doc) SC_##name,
enum { SEARCH_COLS(COL_ENUM) SC__COUNT };
#undef COL_ENUM
#define COL_ENUM(name, type, unit, doc) OC_##name,
enum { ORDER_COLS(COL_ENUM) OC__COUNT };
#undef COL_ENUM
#define COL_ENUM(name, type, unit, doc) AC_##name,
enum { CHARGE_COLS(COL_ENUM) AC__COUNT };
#undef COL_ENUM
static const fw_rec_col order_cols[] = {ORDER_COLS(COL_DESC)};
static const fw_rec_col charge_cols[] = {CHARGE_COLS(COL_DESC)};
static const fw_rec_col imp_cols[] = {IMP_COLS(COL_DESC)};
static const fw_rec_col truth_cols[] = {TRUTH_COLS(COL_DESC)};
static const fw_rec_col search_cols[] = {SEARCH_COLS(COL_DESC)};
static const fw_rec_col search_truth_cols[] = {SEARCH_TRUTH_COLS(COL_DESC)};

/* An order change or an ad charge of the day. */
typedef struct ev_order {
    int32_t tick;
    uint32_t user, order, product;
    uint8_t change;
    int64_t value_cents;
} ev_order;

typedef struct ev_charge {
    int32_t tick;
    uint32_t user, campaign, order;
    uint8_t event;
    int64_t price_cents, billed_mc;
} ev_charge;

struct fw_evlog {
    fw_sim *S;
    double sample;
    uint64_t key;               /* the sampling hash's key, from the seed */
    fw_evbuf *th;               /* [n_threads] */
    fw_ev_imp *imp;             /* the day's rows, merged */
    size_t n_imp, cap_imp;
    fw_ev_search *srch;
    size_t n_srch, cap_srch;
    uint64_t *imp_req, *srch_req;   /* the day's global request ids, parallel to imp, srch */
    size_t cap_imp_req, cap_srch_req;
    ev_order *ord;
    size_t n_ord, cap_ord;
    ev_charge *chg;
    size_t n_chg, cap_chg;
    uint64_t next_req, rows;
    uint32_t id_imp, id_truth, id_search, id_search_truth, id_orders, id_charges;
};

static uint64_t mix64(uint64_t h)
{
    h ^= h >> 31;
    h *= UINT64_C(0xbf58476d1ce4e5b9);
    h ^= h >> 29;
    h *= UINT64_C(0x94d049bb133111eb);
    h ^= h >> 32;
    return h;
}

int fw_evlog_sampled(const fw_evlog *L, uint32_t u)
{
    if (L->sample >= 1.0)
        return 1;
    return (double)(mix64(L->key ^ (uint64_t)u * UINT64_C(0x9e3779b97f4a7c15)) >> 11) * 0x1.0p-53 < L->sample;
}

fw_evbuf *fw_evlog_thread(fw_evlog *L, int slot) { return &L->th[slot]; }

uint64_t fw_evlog_rows(const fw_evlog *L) { return L->rows; }

/* Transferred: the next request id and the rows logged so far. Checked to be empty: the day's
 * rows (fw_evlog_day handed them to the recorder before the snapshot). Skipped: the sample and
 * its key (from the scenario), the recorder's ids (set at create), the threads' buffers
 * (emptied at every barrier; oom fails the run there). */
void fw_evlog_snap(fw_evlog *L, fw_snap *s)
{
    fw_snap_u64(s, &L->next_req);
    fw_snap_u64(s, &L->rows);
    fw_snap_same_u64(s, L->n_imp + L->n_srch + L->n_ord + L->n_chg, "the day's event rows");
}

fw_err fw_evlog_describe_cells(fw_sim *S, const char *path)
{
    size_t len = 1;
    for (uint32_t a = 0; a < S->n_arms; a++)
        len += strlen(S->sc->arms[a].name) + 1;
    char *names = fw_sim_calloc(S, len, 1), **name_at = fw_sim_calloc(S, 1, sizeof *name_at);
    uint32_t L = S->asg.n_layers ? S->asg.n_layers : 1, *rows = fw_sim_calloc(S, 1, sizeof *rows);
    uint32_t *map = fw_sim_calloc(S, (size_t)S->n_cells * L, sizeof *map), **map_at = fw_sim_calloc(S, 1, sizeof *map_at);
    if (!names || !name_at || !rows || !map || !map_at)
        return FW_ERR_NOMEM;
    for (uint32_t a = 0; a < S->n_arms; a++) {
        strcat(names, S->sc->arms[a].name);
        if (a + 1 < S->n_arms)
            strcat(names, "\n");
    }
    for (uint32_t c = 0; c < S->n_cells; c++)
        for (uint32_t l = 0; l < L; l++)
            map[(size_t)c * L + l] = S->asg.n_layers ? S->asg.cell_arm[c][l] : 0;
    *name_at = names;
    *map_at = map;
    *rows = S->n_cells;
    fw_rec_table t = {.path = path, .unit = "", .type = FW_REC_U32, .data = (const void *const *)map_at,
                      .rows = rows, .cols = L, .labels = {"cell", "layer"}, .attr_name = "arms",
                      .attr_value = (const char *const *)name_at,
                      .doc = "the arm (index into the arms attribute, the scenario's order) of each layer that makes "
                             "each experiment cell: the meaning of the cell columns (one layer: cell = arm index)"};
    return fw_recorder_table(S->rec, &t);
}

fw_err fw_evlog_create(fw_sim *S, fw_evlog **out)
{
    *out = NULL;
    if (!S->sc->output.events || !S->rec)
        return FW_OK;
    fw_evlog *L = calloc(1, sizeof *L);
    if (!L || !(L->th = calloc((size_t)S->n_threads, sizeof *L->th))) {
        free(L);
        return FW_ERR_NOMEM;
    }
    L->S = S;
    L->sample = S->sc->output.events_sample;
    L->key = mix64(S->sc->seed ^ UINT64_C(0x6576656e746c6f67));   /* "eventlog": no stream's key */
    fw_err rc;
    if ((rc = fw_recorder_group(S->rec, "events",
                                "the event log (output.events): one row per impression on every surface and one per "
                                "search, for the users output.events_sample chose (whole histories); rows in log "
                                "order (day, tick, user, then the user's own order)")) != FW_OK ||
        (rc = fw_recorder_group(S->rec, "truth",
                                "ground truth beside the event log, row for row (same row index as /events): what "
                                "only the simulator knows -- never visible to the engine; for off-policy evaluation "
                                "and counterfactual learning")) != FW_OK ||
        (rc = fw_recorder_log(S->rec, "events/impressions",
                              "one row per impression: feed notes, search results, shop-tab products, ads", IC__COUNT,
                              imp_cols, &L->id_imp)) != FW_OK ||
        (rc = fw_recorder_log(S->rec, "truth/impressions", "the truth of each row of /events/impressions", TC__COUNT,
                              truth_cols, &L->id_truth)) != FW_OK ||
        (rc = fw_recorder_log(S->rec, "events/searches", "one row per search query (reformulations included)",
                              SC__COUNT, search_cols, &L->id_search)) != FW_OK ||
        (rc = fw_recorder_log(S->rec, "truth/searches", "the truth of each row of /events/searches", 1,
                              search_truth_cols, &L->id_search_truth)) != FW_OK ||
        (rc = fw_recorder_log(S->rec, "events/orders",
                              "every lifecycle change of the logged users' orders (created, paid, ... refunded), in "
                              "the order the shop made them", OC__COUNT, order_cols, &L->id_orders)) != FW_OK ||
        (rc = fw_recorder_log(S->rec, "events/ad_charges",
                              "what each ad impression and click of the logged users was billed, and the conversions "
                              "the platform attributed to ads", AC__COUNT, charge_cols, &L->id_charges)) != FW_OK ||
        (rc = fw_evlog_describe_cells(S, "events/cell_arm")) != FW_OK) {
        fw_evlog_destroy(L);
        return rc;
    }
    *out = L;
    return FW_OK;
}

void fw_evlog_destroy(fw_evlog *L)
{
    if (!L)
        return;
    for (int s = 0; L->th && s < L->S->n_threads; s++) {
        free(L->th[s].imp);
        free(L->th[s].srch);
    }
    free(L->th);
    free(L->imp);
    free(L->srch);
    free(L->imp_req);
    free(L->srch_req);
    free(L->ord);
    free(L->chg);
    free(L);
}

void fw_evlog_impression(fw_session *ss, fw_ev_surface surface, uint32_t position, uint32_t item, uint32_t note,
                         uint32_t card, double score, double p_open, double match, double quality,
                         uint32_t organic_rank)
{
    fw_evbuf *b = ss->ev;
    if (!b)
        return;
    if (fw_sim_grow((void **)&b->imp, &b->cap_imp, b->n_imp + 1, sizeof *b->imp, 1024)) {
        b->oom = 1;
        ss->ev_row = -1;
        return;
    }
    float best = organic_rank < ss->ev_best_n ? ss->ev_best[organic_rank] : NAN;
    b->imp[b->n_imp] = (fw_ev_imp){.tick = ss->tick, .user = ss->user, .item = item, .note = note, .card = card,
                                   .req = ss->ev_req, .position = (uint16_t)(position > UINT16_MAX ? UINT16_MAX : position),
                                   .surface = (uint8_t)surface, .outcome = 0, .score = (float)score,
                                   .p_open = (float)p_open,
                                   .match = (float)match, .quality = (float)quality, .best = best};
    ss->ev_row = (int64_t)b->n_imp++;
}

void fw_evlog_search(fw_session *ss, const uint32_t *terms, uint32_t n_terms, uint32_t n_results, uint32_t topic,
                     uint32_t attempt)
{
    fw_evbuf *b = ss->ev;
    if (!b)
        return;
    if (fw_sim_grow((void **)&b->srch, &b->cap_srch, b->n_srch + 1, sizeof *b->srch, 1024)) {
        b->oom = 1;
        return;
    }
    fw_ev_search *q = &b->srch[b->n_srch++];
    *q = (fw_ev_search){.tick = ss->tick, .user = ss->user, .req = ss->ev_req, .topic = topic,
                        .n_results = (uint16_t)(n_results > UINT16_MAX ? UINT16_MAX : n_results),
                        .n_terms = (uint8_t)(n_terms > 6 ? 6 : n_terms), .attempt = (uint8_t)attempt};
    for (uint32_t k = 0; k < 6; k++)
        q->terms[k] = k < n_terms ? terms[k] : UINT32_MAX;
}

/* Appends one user's rows of the tick (ni impressions at imp, ns searches at srch: rows as
 * bytes, which another rank's message need not align) to the day's, numbering their requests
 * (n_req of them) from next_req. */
static fw_err append_user(fw_evlog *L, const void *imp, size_t ni, const void *srch, size_t ns, uint32_t n_req)
{
    if (fw_sim_grow((void **)&L->imp, &L->cap_imp, L->n_imp + ni, sizeof *L->imp, 1024) ||
        fw_sim_grow((void **)&L->imp_req, &L->cap_imp_req, L->n_imp + ni, sizeof *L->imp_req, 1024) ||
        fw_sim_grow((void **)&L->srch, &L->cap_srch, L->n_srch + ns, sizeof *L->srch, 1024) ||
        fw_sim_grow((void **)&L->srch_req, &L->cap_srch_req, L->n_srch + ns, sizeof *L->srch_req, 1024))
        return FW_ERR_NOMEM;
    if (ni)
        memcpy(L->imp + L->n_imp, imp, ni * sizeof *L->imp);
    if (ns)
        memcpy(L->srch + L->n_srch, srch, ns * sizeof *L->srch);
    /* Requests are numbered from 1 in a user's tick (fw_evlog_request runs first). */
    for (size_t k = 0; k < ni; k++, L->n_imp++)
        L->imp_req[L->n_imp] = L->next_req + L->imp[L->n_imp].req - 1;
    for (size_t k = 0; k < ns; k++, L->n_srch++)
        L->srch_req[L->n_srch] = L->next_req + L->srch[L->n_srch].req - 1;
    L->next_req += n_req;
    return FW_OK;
}

fw_err fw_evlog_threads_ok(const fw_evlog *L)
{
    for (int s = 0; s < L->S->n_threads; s++)
        if (L->th[s].oom)
            return FW_ERR_NOMEM;
    return FW_OK;
}

fw_err fw_evlog_merge_span(fw_evlog *L, const fw_evlog_span *r)
{
    const fw_evbuf *b = &L->th[r->slot];
    return append_user(L, b->imp + r->imp_lo, r->imp_hi - r->imp_lo, b->srch + r->srch_lo, r->srch_hi - r->srch_lo,
                       r->n_req);
}

void fw_evlog_merged(fw_evlog *L)
{
    for (int s = 0; s < L->S->n_threads; s++)
        L->th[s].n_imp = L->th[s].n_srch = 0;
}

fw_err fw_evlog_merge(fw_evlog *L, const fw_evlog_span *runs, size_t n)
{
    fw_err rc = fw_evlog_threads_ok(L);
    for (size_t i = 0; i < n && rc == FW_OK; i++)
        rc = fw_evlog_merge_span(L, &runs[i]);
    if (rc == FW_OK)
        fw_evlog_merged(L);
    return rc;
}

/* A user's packed rows: n_req, n_imp, n_srch (uint32 each), then the rows as they are (every
 * rank is the same build). */
size_t fw_evlog_span_bytes(const fw_evlog_span *r)
{
    return 3 * sizeof(uint32_t) + (r->imp_hi - r->imp_lo) * sizeof(fw_ev_imp) +
           (r->srch_hi - r->srch_lo) * sizeof(fw_ev_search);
}

unsigned char *fw_evlog_pack(const fw_evlog *L, const fw_evlog_span *r, unsigned char *p)
{
    const fw_evbuf *b = &L->th[r->slot];
    uint32_t h[3] = {r->n_req, (uint32_t)(r->imp_hi - r->imp_lo), (uint32_t)(r->srch_hi - r->srch_lo)};
    memcpy(p, h, sizeof h);
    p += sizeof h;
    memcpy(p, b->imp + r->imp_lo, h[1] * sizeof(fw_ev_imp));
    p += h[1] * sizeof(fw_ev_imp);
    memcpy(p, b->srch + r->srch_lo, h[2] * sizeof(fw_ev_search));
    return p + h[2] * sizeof(fw_ev_search);
}

const unsigned char *fw_evlog_skip(const unsigned char *p)
{
    uint32_t h[3];
    memcpy(h, p, sizeof h);
    return p + sizeof h + (size_t)h[1] * sizeof(fw_ev_imp) + (size_t)h[2] * sizeof(fw_ev_search);
}

const unsigned char *fw_evlog_unpack(fw_evlog *L, const unsigned char *p, fw_err *rc)
{
    uint32_t h[3];
    memcpy(h, p, sizeof h);
    const unsigned char *imp = p + sizeof h, *srch = imp + (size_t)h[1] * sizeof(fw_ev_imp);
    *rc = append_user(L, imp, h[1], srch, h[2], h[0]);
    return fw_evlog_skip(p);
}

fw_err fw_evlog_barrier(fw_evlog *L, const fw_record *rec, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        if (rec[k].kind != FW_RECORD_AD_EVENT || !fw_evlog_sampled(L, rec[k].u.ad.ev.user))
            continue;
        const fw_ad_event *a = &rec[k].u.ad.ev;
        if (fw_sim_grow((void **)&L->chg, &L->cap_chg, L->n_chg + 1, sizeof *L->chg, 1024))
            return FW_ERR_NOMEM;
        L->chg[L->n_chg++] = (ev_charge){.tick = a->tick, .user = a->user, .campaign = a->campaign, .order = FW_NONE,
                                         .event = (uint8_t)a->type, .price_cents = a->price_cents,
                                         .billed_mc = rec[k].u.ad.billed_mc};
    }
    return FW_OK;
}

fw_err fw_evlog_tick_end(fw_evlog *L)
{
    fw_sim *S = L->S;
    size_t n;
    const fw_order_change *ch = fw_shop_changes(S->engine, &n);
    for (size_t k = 0; k < n; k++) {
        if (ch[k].user >= S->w.n_users || !fw_evlog_sampled(L, ch[k].user))
            continue;
        if (fw_sim_grow((void **)&L->ord, &L->cap_ord, L->n_ord + 1, sizeof *L->ord, 1024))
            return FW_ERR_NOMEM;
        L->ord[L->n_ord++] = (ev_order){.tick = ch[k].tick, .user = ch[k].user, .order = ch[k].order,
                                        .product = ch[k].product, .change = (uint8_t)ch[k].kind,
                                        .value_cents = ch[k].value_cents};
    }
    const fw_ad_conversion *cv = fw_ads_conversions(S->engine, &n);
    for (size_t k = 0; k < n; k++) {
        if (cv[k].user >= S->w.n_users || !fw_evlog_sampled(L, cv[k].user))
            continue;
        if (fw_sim_grow((void **)&L->chg, &L->cap_chg, L->n_chg + 1, sizeof *L->chg, 1024))
            return FW_ERR_NOMEM;
        L->chg[L->n_chg++] = (ev_charge){.tick = S->abs_tick, .user = cv[k].user, .campaign = cv[k].campaign,
                                         .order = cv[k].order, .event = 2, .price_cents = 0,
                                         .billed_mc = cv[k].billed_mc};
    }
    return FW_OK;
}

/* Up to BLOCK rows at a time go through column scratch to the recorder. */
enum { BLOCK = 16384 };

typedef union col_scratch {
    uint8_t u8[BLOCK];
    uint16_t u16[BLOCK];
    uint32_t u32[BLOCK];
    uint64_t u64[BLOCK];
    float f32[BLOCK];
} col_scratch;

fw_err fw_evlog_day(fw_evlog *L)
{
    fw_sim *S = L->S;
    uint32_t tpd = S->tpd;
    fw_err rc = FW_OK;
    col_scratch *c = malloc((size_t)(IC__COUNT + TC__COUNT) * sizeof *c);
    const void *cols[IC__COUNT + TC__COUNT];
    if (!c)
        return FW_ERR_NOMEM;
    for (uint32_t k = 0; k < IC__COUNT + TC__COUNT; k++)
        cols[k] = &c[k];
    for (size_t at = 0; at < L->n_imp && rc == FW_OK; at += BLOCK) {
        size_t n = L->n_imp - at < BLOCK ? L->n_imp - at : BLOCK;
        col_scratch *t = c + IC__COUNT;
        for (size_t i = 0; i < n; i++) {
            const fw_ev_imp *x = &L->imp[at + i];
            c[IC_day].u16[i] = (uint16_t)(x->tick / (int32_t)tpd);
            c[IC_tick].u16[i] = (uint16_t)(x->tick % (int32_t)tpd);
            c[IC_user].u32[i] = x->user;
            c[IC_cell].u8[i] = S->cell_of[x->user];
            c[IC_surface].u8[i] = x->surface;
            c[IC_request].u64[i] = L->imp_req[at + i];
            c[IC_position].u16[i] = x->position;
            c[IC_item].u32[i] = x->item;
            c[IC_note].u32[i] = x->note;
            c[IC_card].u32[i] = x->card;
            c[IC_score].f32[i] = x->score;
            c[IC_propensity].f32[i] = 1.0f;
            static const uint8_t bit_col[8] = {IC_open, IC_like, IC_save, IC_comment, IC_follow, IC_card_click, IC_cart,
                                               IC_order};
            for (int b = 0; b < 8; b++)
                c[bit_col[b]].u8[i] = (uint8_t)((x->outcome >> b) & 1u);
            t[TC_p_open].f32[i] = x->p_open;
            t[TC_match].f32[i] = x->match;
            t[TC_quality].f32[i] = x->quality;
            t[TC_best_alternative].f32[i] = x->best;
        }
        if ((rc = fw_recorder_log_append(S->rec, L->id_imp, n, cols)) == FW_OK)
            rc = fw_recorder_log_append(S->rec, L->id_truth, n, cols + IC__COUNT);
    }
    for (size_t at = 0; at < L->n_srch && rc == FW_OK; at += BLOCK) {
        size_t n = L->n_srch - at < BLOCK ? L->n_srch - at : BLOCK;
        for (size_t i = 0; i < n; i++) {
            const fw_ev_search *q = &L->srch[at + i];
            c[SC_day].u16[i] = (uint16_t)(q->tick / (int32_t)tpd);
            c[SC_tick].u16[i] = (uint16_t)(q->tick % (int32_t)tpd);
            c[SC_user].u32[i] = q->user;
            c[SC_cell].u8[i] = S->cell_of[q->user];
            c[SC_request].u64[i] = L->srch_req[at + i];
            c[SC_attempt].u8[i] = q->attempt;
            c[SC_n_terms].u8[i] = q->n_terms;
            for (int k = 0; k < 6; k++)
                c[SC_term0 + k].u32[i] = q->terms[k];
            c[SC_n_results].u16[i] = q->n_results;
            c[SC__COUNT].u32[i] = q->topic;
        }
        if ((rc = fw_recorder_log_append(S->rec, L->id_search, n, cols)) == FW_OK)
            rc = fw_recorder_log_append(S->rec, L->id_search_truth, n, cols + SC__COUNT);
    }
    for (size_t at = 0; at < L->n_ord && rc == FW_OK; at += BLOCK) {
        size_t n = L->n_ord - at < BLOCK ? L->n_ord - at : BLOCK;
        for (size_t i = 0; i < n; i++) {
            const ev_order *o = &L->ord[at + i];
            c[OC_day].u16[i] = (uint16_t)(o->tick / (int32_t)tpd);
            c[OC_tick].u16[i] = (uint16_t)(o->tick % (int32_t)tpd);
            c[OC_user].u32[i] = o->user;
            c[OC_cell].u8[i] = S->cell_of[o->user];
            c[OC_order].u32[i] = o->order;
            c[OC_product].u32[i] = o->product;
            c[OC_change].u8[i] = o->change;
            c[OC_value_cents].u64[i] = (uint64_t)o->value_cents;
        }
        rc = fw_recorder_log_append(S->rec, L->id_orders, n, cols);
    }
    for (size_t at = 0; at < L->n_chg && rc == FW_OK; at += BLOCK) {
        size_t n = L->n_chg - at < BLOCK ? L->n_chg - at : BLOCK;
        for (size_t i = 0; i < n; i++) {
            const ev_charge *a = &L->chg[at + i];
            c[AC_day].u16[i] = (uint16_t)(a->tick / (int32_t)tpd);
            c[AC_tick].u16[i] = (uint16_t)(a->tick % (int32_t)tpd);
            c[AC_user].u32[i] = a->user;
            c[AC_cell].u8[i] = S->cell_of[a->user];
            c[AC_campaign].u32[i] = a->campaign;
            c[AC_event].u8[i] = a->event;
            c[AC_price_cents].u64[i] = (uint64_t)a->price_cents;
            c[AC_billed_millicents].u64[i] = (uint64_t)a->billed_mc;
            c[AC_order].u32[i] = a->order;
        }
        rc = fw_recorder_log_append(S->rec, L->id_charges, n, cols);
    }
    free(c);
    if (rc == FW_OK) {
        L->rows += L->n_imp;
        L->n_imp = L->n_srch = L->n_ord = L->n_chg = 0;
    }
    return rc;
}
