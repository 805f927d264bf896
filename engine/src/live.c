/* Live-stream selling (flywheel/live.h, issue 19): the run's sessions, their viewers, flash
 * stock and live prices, and the live orders' books.
 * Owns: the sessions and items (copied), each session's viewer list, each user's watching
 *   state, the per-cell day figures, the map from shop order id to live session.
 * Borrows: the shop's order path (fw_shop_place_orders_priced), the core's follow lists and
 *   user cells.
 * Never touches: randomness, threads, files.
 * Invariants: see flywheel/live.h (live_check). */
#include <stdio.h>
#include <stdlib.h>

#include "engine_int.h"
#include "flywheel/live.h"
#include "flywheel/shop.h"
#include "shop_int.h"

typedef struct live_item {
    fw_live_item d;
    uint32_t flash_left;
    uint64_t flash_sold;        /* units sold at the live price (orders created) */
} live_item;

typedef struct live_sess {
    fw_live_session_def d;
    fw_u32vec viewers;          /* watching now, join order */
    fw_live_session_stats st;
    int counted_day;            /* counted in today's sessions_on */
} live_sess;

typedef struct live_cell {
    int on, notify;
    fw_live_day day;
} live_cell;

typedef struct fw_live {
    uint32_t n_sess, n_items, defined;
    live_sess *sess;
    live_item *items;
    uint32_t n_products;
    int64_t *list_price;        /* [n_products] */
    uint32_t *watching;         /* [n_users] session + 1, 0 = none */
    uint32_t *last;             /* [n_users] the last session joined + 1 */
    int32_t *since;             /* [n_users] the tick of the current join */
    uint32_t *by_start;         /* [n_sess] session ids by (start, id) */
    int32_t max_len;            /* the longest session's ticks */
    uint32_t *on_now;           /* sessions live at the last open tick, ascending */
    uint32_t n_on;
    int32_t tick;               /* the last open tick */
    uint32_t *order_sess;       /* [cap_orders] session + 1 of each shop order, 0 = not live */
    uint8_t *order_flash;       /* [cap_orders] */
    size_t cap_orders;
    uint64_t *cell_now;         /* [n_arms] scratch */
    live_cell *cell;            /* [n_arms] */
} fw_live;

static fw_live *L_of(const fw_engine *e) { return fw_mod(e, FW_MOD_LIVE); }

static int live_wanted(const fw_catalog *cat, const fw_engine_cfg *cfgs, uint32_t n_cells)
{
    if (cat->n_products == 0)
        return 0;
    for (uint32_t c = 0; c < n_cells; c++)
        if (cfgs[c].live.enabled)
            return 1;
    return 0;
}

static fw_err live_create(fw_engine *e, const fw_catalog *cat, void **state)
{
    fw_live *s = *state;
    s->n_products = cat->n_products;
    s->tick = INT32_MIN;
    if (!fw_alloc(e, &s->list_price, cat->n_products, sizeof *s->list_price) ||
        !fw_alloc(e, &s->watching, e->n_users ? e->n_users : 1, sizeof *s->watching) ||
        !fw_alloc(e, &s->last, e->n_users ? e->n_users : 1, sizeof *s->last) ||
        !fw_alloc(e, &s->since, e->n_users ? e->n_users : 1, sizeof *s->since) ||
        !fw_alloc(e, &s->cell, e->n_arms, sizeof *s->cell) ||
        !fw_alloc(e, &s->cell_now, e->n_arms, sizeof *s->cell_now))
        return FW_ERR_NOMEM;
    for (uint32_t p = 0; p < cat->n_products; p++)
        s->list_price[p] = cat->products[p].price_cents;
    for (uint32_t c = 0; c < e->n_arms; c++) {
        s->cell[c].on = fw_cfg(e, c)->live.enabled != 0;
        s->cell[c].notify = fw_cfg(e, c)->live.notify != 0;
    }
    return FW_OK;
}

static void live_destroy(fw_engine *e, void *state)
{
    (void)e;
    fw_live *s = state;
    for (uint32_t k = 0; k < s->n_sess; k++)
        free(s->sess[k].viewers.v);
    free(s->sess);
    free(s->items);
    free(s->on_now);
    free(s->by_start);
    free(s->order_sess);
    free(s->order_flash);
}

fw_err fw_live_define(fw_engine *e, const fw_live_session_def *defs, uint32_t n, const fw_live_item *items,
                      uint32_t n_items)
{
    fw_live *s = L_of(e);
    if (n == 0)
        return FW_OK;
    if (!s || s->defined || !defs || !items)
        return FW_ERR_INVAL;
    for (uint32_t k = 0; k < n; k++) {
        const fw_live_session_def *d = &defs[k];
        if (d->n_items == 0 || d->start >= d->end || d->first_item > n_items || d->n_items > n_items - d->first_item ||
            (d->host != FW_NONE && d->host >= e->n_users))
            return FW_ERR_INVAL;
    }
    for (uint32_t i = 0; i < n_items; i++) {
        const fw_live_item *it = &items[i];
        if (it->product >= s->n_products || it->price_cents <= 0 || it->price_cents > s->list_price[it->product] ||
            it->price_from > it->price_until)
            return FW_ERR_INVAL;
    }
    s->sess = calloc(n, sizeof *s->sess);
    s->items = calloc(n_items, sizeof *s->items);
    s->on_now = calloc(n, sizeof *s->on_now);
    s->by_start = calloc(n, sizeof *s->by_start);
    if (!s->sess || !s->items || !s->on_now || !s->by_start) {
        free(s->sess);
        free(s->items);
        free(s->on_now);
        free(s->by_start);
        s->sess = NULL, s->items = NULL, s->on_now = NULL, s->by_start = NULL;
        return FW_ERR_NOMEM;
    }
    for (uint32_t k = 0; k < n; k++) {
        s->sess[k].d = defs[k];
        s->by_start[k] = k;
        if (defs[k].end - defs[k].start > s->max_len)
            s->max_len = defs[k].end - defs[k].start;
    }
    /* Insertion sort by (start, id): the schedule comes in start order, so this is linear. */
    for (uint32_t k = 1; k < n; k++) {
        uint32_t x = s->by_start[k], j = k;
        while (j > 0 && defs[s->by_start[j - 1]].start > defs[x].start) {
            s->by_start[j] = s->by_start[j - 1];
            j--;
        }
        s->by_start[j] = x;
    }
    for (uint32_t i = 0; i < n_items; i++) {
        s->items[i].d = items[i];
        s->items[i].flash_left = items[i].flash_units;
    }
    for (uint32_t k = 0; k < n; k++)
        for (uint32_t i = 0; i < defs[k].n_items; i++)
            s->sess[k].st.flash_units += items[defs[k].first_item + i].flash_units;
    s->n_sess = n;
    s->n_items = n_items;
    s->defined = 1;
    return FW_OK;
}

uint32_t fw_live_n_sessions(const fw_engine *e)
{
    const fw_live *s = L_of(e);
    return s ? s->n_sess : 0;
}

int fw_live_on(const fw_engine *e, uint32_t session, int32_t tick)
{
    const fw_live *s = L_of(e);
    return s && session < s->n_sess && tick >= s->sess[session].d.start && tick < s->sess[session].d.end;
}

uint32_t fw_live_n_on(const fw_engine *e)
{
    const fw_live *s = L_of(e);
    return s ? s->n_on : 0;
}

static int follows(const fw_engine *e, uint32_t user, uint32_t host)
{
    const fw_u32vec *f = &e->follows[user];
    for (uint32_t j = 0; j < f->n; j++)
        if (f->v[j] == host)
            return 1;
    return 0;
}

uint32_t fw_live_card(const fw_engine *e, uint32_t user, int32_t tick, int *followed)
{
    const fw_live *s = L_of(e);
    *followed = 0;
    if (!s || s->n_sess == 0 || user >= e->n_users || !s->cell[fw_user_cell(e, user)].on || s->watching[user])
        return FW_NONE;
    /* The sessions live at tick started in (tick - max_len, tick]: the last one starting at
     * or before tick, by binary search, and back from it. */
    uint32_t lo = 0, hi = s->n_sess;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (s->sess[s->by_start[mid]].d.start <= tick)
            lo = mid + 1;
        else
            hi = mid;
    }
    uint32_t best = FW_NONE, fol = FW_NONE;
    for (uint32_t j = lo; j > 0; j--) {
        uint32_t k = s->by_start[j - 1];
        const live_sess *ls = &s->sess[k];
        if ((int64_t)ls->d.start <= (int64_t)tick - s->max_len)
            break;
        if (tick >= ls->d.end || s->last[user] == k + 1)
            continue;   /* over, or just left */
        if (ls->d.host != FW_NONE && (fol == FW_NONE || k < fol) && follows(e, user, ls->d.host))
            fol = k;
        if (best == FW_NONE || ls->viewers.n > s->sess[best].viewers.n ||
            (ls->viewers.n == s->sess[best].viewers.n && k < best))
            best = k;
    }
    if (fol != FW_NONE) {
        *followed = 1;
        return fol;
    }
    return best;
}

static int cmp_join(const void *a, const void *b)
{
    const fw_live_join *x = a, *y = b;
    return x->user < y->user ? -1 : x->user > y->user;
}

/* Drops the session's viewers who no longer watch it (keeps join order). */
static void compact(fw_live *s, uint32_t k)
{
    live_sess *ls = &s->sess[k];
    uint32_t m = 0;
    for (uint32_t j = 0; j < ls->viewers.n; j++)
        if (s->watching[ls->viewers.v[j]] == k + 1)
            ls->viewers.v[m++] = ls->viewers.v[j];
    ls->viewers.n = m;
}

fw_err fw_live_open_tick(fw_engine *e, fw_engine_ctx *ctx, int32_t tick, const fw_live_join *joins, size_t n)
{
    fw_live *s = L_of(e);
    if (!s)
        return n ? FW_ERR_INVAL : FW_OK;
    int64_t t0 = fw_now_ns();
    fw_err rc = FW_OK;
    /* Sessions that have ended lose their viewers. */
    for (uint32_t j = 0; j < s->n_on; j++) {
        live_sess *ls = &s->sess[s->on_now[j]];
        if (tick < ls->d.end)
            continue;
        for (uint32_t v = 0; v < ls->viewers.n; v++)
            if (s->watching[ls->viewers.v[v]] == s->on_now[j] + 1)
                s->watching[ls->viewers.v[v]] = 0;
        ls->viewers.n = 0;
    }
    s->n_on = 0;
    for (uint32_t k = 0; k < s->n_sess; k++)
        if (tick >= s->sess[k].d.start && tick < s->sess[k].d.end)
            s->on_now[s->n_on++] = k;
    s->tick = tick;
    fw_live_join *sorted = NULL;
    if (n) {
        if (!(sorted = malloc(n * sizeof *sorted)))
            return FW_ERR_NOMEM;
        memcpy(sorted, joins, n * sizeof *sorted);
        qsort(sorted, n, sizeof *sorted, cmp_join);   /* stable enough: one join per user is kept */
    }
    for (size_t i = 0; i < n; i++) {
        const fw_live_join *j = &sorted[i];
        if (j->user >= e->n_users || j->session >= s->n_sess || j->source >= FW_LIVE_SRC__COUNT ||
            !s->cell[fw_user_cell(e, j->user)].on || s->watching[j->user] || s->last[j->user] == j->session + 1 ||
            !fw_live_on(e, j->session, tick)) {
            rc = FW_ERR_INVAL;
            continue;
        }
        live_sess *ls = &s->sess[j->session];
        if (fw_u32vec_push(&ls->viewers, j->user)) {
            free(sorted);
            return FW_ERR_NOMEM;
        }
        s->watching[j->user] = s->last[j->user] = j->session + 1;
        s->since[j->user] = tick;
        ls->st.viewers++;
        live_cell *c = &s->cell[fw_user_cell(e, j->user)];
        c->day.joins[j->source]++;
        c->day.viewers++;
    }
    free(sorted);
    /* The tick's concurrent viewers. */
    memset(s->cell_now, 0, e->n_arms * sizeof *s->cell_now);
    for (uint32_t j = 0; j < s->n_on; j++) {
        uint32_t k = s->on_now[j];
        live_sess *ls = &s->sess[k];
        compact(s, k);
        for (uint32_t v = 0; v < ls->viewers.n; v++)
            s->cell_now[fw_user_cell(e, ls->viewers.v[v])]++;
        ls->st.viewer_ticks += ls->viewers.n;
        if (ls->viewers.n > ls->st.peak_viewers)
            ls->st.peak_viewers = ls->viewers.n;
        if (!ls->counted_day) {
            ls->counted_day = 1;
            for (uint32_t c = 0; c < e->n_arms; c++)
                s->cell[c].day.sessions_on++;
        }
    }
    for (uint32_t c = 0; c < e->n_arms; c++) {
        live_cell *lc = &s->cell[c];
        lc->day.ticks_on += s->n_on > 0;
        lc->day.viewer_ticks += s->cell_now[c];
        if (s->cell_now[c] > lc->day.peak_viewers)
            lc->day.peak_viewers = s->cell_now[c];
    }
    fw_hist_record(&ctx->lat[FW_STAGE_LIVE], fw_now_ns() - t0);
    return rc;
}

const uint32_t *fw_live_viewers(const fw_engine *e, uint32_t session, uint32_t *n)
{
    const fw_live *s = L_of(e);
    if (!s || session >= s->n_sess) {
        *n = 0;
        return NULL;
    }
    *n = s->sess[session].viewers.n;
    return s->sess[session].viewers.v;
}

uint32_t fw_live_watching(const fw_engine *e, uint32_t user, int32_t *since)
{
    const fw_live *s = L_of(e);
    if (!s || user >= e->n_users || !s->watching[user])
        return FW_NONE;
    if (since)
        *since = s->since[user];
    return s->watching[user] - 1;
}

fw_err fw_live_leave(fw_engine *e, uint32_t user, int32_t tick)
{
    (void)tick;
    fw_live *s = L_of(e);
    if (!s || user >= e->n_users || !s->watching[user])
        return FW_ERR_INVAL;
    s->watching[user] = 0;   /* dropped from the viewer list at the next compaction */
    return FW_OK;
}

typedef struct buy_key {
    int32_t tick;
    uint32_t user;
    size_t i;
} buy_key;

static int cmp_buy(const void *a, const void *b)
{
    const buy_key *x = a, *y = b;
    if (x->tick != y->tick)
        return x->tick < y->tick ? -1 : 1;
    if (x->user != y->user)
        return x->user < y->user ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

static fw_err order_room(fw_live *s, uint32_t order)
{
    if (order < s->cap_orders)
        return FW_OK;
    size_t cap = s->cap_orders ? s->cap_orders : 1024;
    while (cap <= order)
        cap *= 2;
    uint32_t *a = realloc(s->order_sess, cap * sizeof *a);
    if (!a)
        return FW_ERR_NOMEM;
    s->order_sess = a;
    uint8_t *b = realloc(s->order_flash, cap * sizeof *b);
    if (!b)
        return FW_ERR_NOMEM;
    s->order_flash = b;
    memset(a + s->cap_orders, 0, (cap - s->cap_orders) * sizeof *a);
    memset(b + s->cap_orders, 0, (cap - s->cap_orders) * sizeof *b);
    s->cap_orders = cap;
    return FW_OK;
}

fw_err fw_live_buy(fw_engine *e, fw_engine_ctx *ctx, const fw_live_buy_req *req, size_t n, fw_live_buy_out *out)
{
    fw_live *s = L_of(e);
    for (size_t i = 0; i < n; i++)
        out[i] = (fw_live_buy_out){.order = FW_NONE, .result = FW_ORDER_BAD};
    if (!s || n == 0)
        return s ? FW_OK : FW_ERR_INVAL;
    int64_t t0 = fw_now_ns();
    buy_key *key = malloc(n * sizeof *key);
    if (!key)
        return FW_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        key[i] = (buy_key){req[i].tick, req[i].user, i};
    qsort(key, n, sizeof *key, cmp_buy);
    fw_err rc = FW_OK;
    /* One request at a time, in the shop's order, so that a flash unit is taken only by an
     * order the shop created (the shop answers a lone request exactly as in a batch). */
    for (size_t k = 0; k < n && rc == FW_OK; k++) {
        const fw_live_buy_req *q = &req[key[k].i];
        fw_live_buy_out *o = &out[key[k].i];
        if (q->session >= s->n_sess || q->user >= e->n_users || q->qty == 0 ||
            s->watching[q->user] != q->session + 1 || !fw_live_on(e, q->session, q->tick) ||
            q->item >= s->sess[q->session].d.n_items)
            continue;
        live_sess *ls = &s->sess[q->session];
        live_item *it = &s->items[ls->d.first_item + q->item];
        int flash = q->tick >= it->d.price_from && q->tick < it->d.price_until && it->flash_left >= q->qty;
        int64_t unit = flash ? it->d.price_cents : -1;
        fw_order_req r = {.request_id = q->request_id, .user = q->user, .arm = fw_user_cell(e, q->user),
                          .product = it->d.product, .qty = q->qty, .tick = q->tick};
        fw_order_outcome oc;
        rc = fw_shop_place_orders_priced(e, ctx, &r, 1, &unit, &oc);
        o->order = oc.order;
        o->result = oc.result;
        if (rc != FW_OK || oc.result != FW_ORDER_OK)
            continue;
        fw_order_info info;
        if ((rc = fw_shop_order(e, oc.order, &info)) != FW_OK || (rc = order_room(s, oc.order)) != FW_OK)
            break;
        o->unit_cents = info.value_cents / (int64_t)q->qty;
        /* The sale may undercut the live price: then the order is not a flash sale. */
        flash = flash && info.value_cents == it->d.price_cents * (int64_t)q->qty;
        o->flash = (uint32_t)flash;
        if (flash) {
            it->flash_left -= q->qty;
            it->flash_sold += q->qty;
            ls->st.flash_sold += q->qty;
            ls->st.flash_orders++;
        }
        s->order_sess[oc.order] = q->session + 1;
        s->order_flash[oc.order] = (uint8_t)flash;
        ls->st.orders++;
        live_cell *c = &s->cell[fw_user_cell(e, q->user)];
        c->day.orders++;
        c->day.flash_orders += (uint64_t)flash;
    }
    free(key);
    fw_hist_record(&ctx->lat[FW_STAGE_LIVE], fw_now_ns() - t0);
    return rc;
}

/* A live order's payment: its session's and its buyer's cell's books. */
static fw_err live_notice(fw_engine *e, void *state, const fw_notice *notice, size_t n)
{
    fw_live *s = state;
    for (size_t i = 0; i < n; i++) {
        const fw_notice *x = &notice[i];
        if (x->kind != FW_NOTICE_ORDER_PAID || x->order >= s->cap_orders || !s->order_sess[x->order])
            continue;
        live_sess *ls = &s->sess[s->order_sess[x->order] - 1];
        live_cell *c = &s->cell[x->user < e->n_users ? fw_user_cell(e, x->user) : 0];
        /* Parts of the shop's bounded books (its booked) in a run; checked all the same, a
         * snapshot's amounts being input. */
        int64_t sess_gmv, day_gmv;
        if (x->value_cents < 0 || __builtin_add_overflow(ls->st.gmv_cents, x->value_cents, &sess_gmv) ||
            __builtin_add_overflow(c->day.gmv_cents, x->value_cents, &day_gmv)) {
            snprintf(e->why, sizeof e->why, "live: order %u's %lld cents would take session %u's GMV (%lld cents) "
                     "past what 64-bit cents count", x->order, (long long)x->value_cents,
                     s->order_sess[x->order] - 1, (long long)ls->st.gmv_cents);
            return FW_ERR_RANGE;
        }
        ls->st.paid_orders++;
        ls->st.gmv_cents = sess_gmv;
        c->day.paid_orders++;
        c->day.gmv_cents = day_gmv;
    }
    return FW_OK;
}

static fw_err live_end_day(fw_engine *e, void *state, fw_engine_ctx *ctx, uint32_t day, int64_t *series)
{
    (void)ctx;
    (void)day;
    (void)series;
    fw_live *s = state;
    for (uint32_t c = 0; c < e->n_arms; c++)
        memset(&s->cell[c].day, 0, sizeof s->cell[c].day);
    for (uint32_t k = 0; k < s->n_sess; k++)
        s->sess[k].counted_day = 0;   /* a session live across midnight counts on both days */
    return FW_OK;
}

static fw_err live_check(const fw_engine *e, const void *state, char *why, size_t cap)
{
    const fw_live *s = state;
    uint64_t *sold = calloc(s->n_items ? s->n_items : 1, sizeof *sold);
    if (!sold) {
        snprintf(why, cap, "live: out of memory checking");
        return FW_ERR_INTERNAL;
    }
    fw_err rc = FW_OK;
    uint32_t n_orders = fw_shop_n_orders(e);
    for (uint32_t o = 0; o < n_orders && o < s->cap_orders && rc == FW_OK; o++) {
        if (!s->order_sess[o] || !s->order_flash[o])
            continue;
        fw_order_info info;
        if (fw_shop_order(e, o, &info) != FW_OK) {
            snprintf(why, cap, "live: order %u of session %u is not in the shop's books", o, s->order_sess[o] - 1);
            rc = FW_ERR_INTERNAL;
            break;
        }
        const live_sess *ls = &s->sess[s->order_sess[o] - 1];
        uint32_t j;
        for (j = 0; j < ls->d.n_items; j++)
            if (s->items[ls->d.first_item + j].d.product == info.product) {
                sold[ls->d.first_item + j] += info.qty;
                break;
            }
        if (j == ls->d.n_items) {
            snprintf(why, cap, "live: order %u's product %u is not on session %u's list", o, info.product,
                     s->order_sess[o] - 1);
            rc = FW_ERR_INTERNAL;
        }
    }
    for (uint32_t i = 0; i < s->n_items && rc == FW_OK; i++) {
        const live_item *it = &s->items[i];
        if (it->flash_sold + it->flash_left != it->d.flash_units || it->flash_sold > it->d.flash_units ||
            sold[i] != it->flash_sold) {
            snprintf(why, cap,
                     "live: item %u (product %u): flash sold %llu + left %u != units %u, or orders at the live "
                     "price hold %llu units",
                     i, it->d.product, (unsigned long long)it->flash_sold, it->flash_left, it->d.flash_units,
                     (unsigned long long)sold[i]);
            rc = FW_ERR_INTERNAL;
        }
    }
    for (uint32_t k = 0; k < s->n_sess && rc == FW_OK; k++) {
        const live_sess *ls = &s->sess[k];
        for (uint32_t v = 0; v < ls->viewers.n; v++)
            if (s->watching[ls->viewers.v[v]] != k + 1 && s->watching[ls->viewers.v[v]] != 0) {
                snprintf(why, cap, "live: user %u is on session %u's viewer list but watches %u", ls->viewers.v[v], k,
                         s->watching[ls->viewers.v[v]] - 1);
                rc = FW_ERR_INTERNAL;
                break;
            }
    }
    free(sold);
    return rc;
}

fw_err fw_live_day_stats(const fw_engine *e, uint32_t cell, fw_live_day *out)
{
    const fw_live *s = L_of(e);
    if (cell >= e->n_arms)
        return FW_ERR_INVAL;
    memset(out, 0, sizeof *out);
    if (s && s->cell[cell].on)
        *out = s->cell[cell].day;
    return FW_OK;
}

fw_err fw_live_session_stats_of(const fw_engine *e, uint32_t session, fw_live_session_stats *out)
{
    const fw_live *s = L_of(e);
    if (!s || session >= s->n_sess)
        return FW_ERR_INVAL;
    *out = s->sess[session].st;
    return FW_OK;
}

uint32_t fw_live_flash_left(const fw_engine *e, uint32_t session, uint32_t item)
{
    const fw_live *s = L_of(e);
    if (!s || session >= s->n_sess || item >= s->sess[session].d.n_items)
        return 0;
    return s->items[s->sess[session].d.first_item + item].flash_left;
}

/* ---- state snapshots (issue 21) ---------------------------------------------------------- */

_Static_assert(sizeof(fw_live_session_stats) == 9 * 8, "a session's figures are snapshot as their bytes: no padding");

/* Per session, its viewer list as of the last barrier (leavers still on it until the next
 * compaction: the live card reads its length) and its figures; per item, its flash units
 * left and sold; per user, the session watched, the last joined and the join's tick; the
 * sessions live at the last open tick (the next one takes their viewers away once ended)
 * and that tick; which shop orders are live and at the live price (a live order may be paid
 * on a later day), up to the last live one (every entry past it is 0, as order_room fills).
 *  Skipped: the schedule (n_sess, n_items, defined, each session's and item's definition,
 *  by_start, max_len: fw_live_define at the part's create, drawn from the seed), n_products,
 *  list_price, each cell's on and notify (the catalog's and the cells' settings, set at
 *  create); counted_day and the cells' day figures (zeroed by every day end, which a
 *  snapshot follows: notices, which add to them, are all delivered at a tick's end);
 *  cell_now (a tick's scratch). */
static void live_snap(fw_engine *e, void *state, fw_snap *s)
{
    fw_live *L = state;
    int loading = fw_snap_loading(s);
    fw_snap_same_u32(s, L->n_sess, "the live sessions");
    fw_snap_same_u32(s, L->n_items, "the live items");
    for (uint32_t k = 0; k < L->n_sess && !fw_snap_failed(s); k++) {
        live_sess *ls = &L->sess[k];
        fw_snap_vec32(s, (void **)&ls->viewers.v, &ls->viewers.n, &ls->viewers.cap, sizeof *ls->viewers.v,
                      e->n_users);
        for (uint32_t v = 0; loading && !fw_snap_failed(s) && v < ls->viewers.n; v++)
            if (ls->viewers.v[v] >= e->n_users)
                fw_snap_fail(s, "session %u's viewer %u is user %u, out of range", k, v, ls->viewers.v[v]);
        fw_snap_array(s, &ls->st, 1, sizeof ls->st);
    }
    for (uint32_t i = 0; i < L->n_items; i++) {
        fw_snap_u32(s, &L->items[i].flash_left);
        fw_snap_u64(s, &L->items[i].flash_sold);
    }
    /* Session ids + 1, 0 for none. */
    fw_snap_indexes(s, L->watching, e->n_users, L->n_sess + 1, L->n_sess + 1);
    fw_snap_indexes(s, L->last, e->n_users, L->n_sess + 1, L->n_sess + 1);
    fw_snap_ticks(s, L->since, e->n_users, 0, "the join tick of user");   /* the part subtracts it from now */
    fw_snap_u32(s, &L->n_on);
    if (loading && !fw_snap_failed(s) && L->n_on > L->n_sess)
        fw_snap_fail(s, "%u sessions live of %u", L->n_on, L->n_sess);
    fw_snap_indexes(s, L->on_now, L->n_on, L->n_sess, L->n_sess);
    fw_snap_tick(s, &L->tick, 1, "live selling's tick");
    /* The orders' map, up to its last live order: entries past it, 0 in a room that depends on
     * when the map grew, do not show. Loading, a new state's empty map is made that long, so
     * every entry past it is room that order_room zeroes as it grows. */
    uint32_t n_orders = fw_shop_n_orders(e);
    size_t n = L->cap_orders < n_orders ? L->cap_orders : n_orders;
    while (n > 0 && !L->order_sess[n - 1])
        n--;
    size_t n_flash = n, cap_sess = L->cap_orders, cap_flash = L->cap_orders;
    fw_snap_vec(s, (void **)&L->order_sess, &n, &cap_sess, sizeof *L->order_sess, n_orders);
    fw_snap_vec(s, (void **)&L->order_flash, &n_flash, &cap_flash, sizeof *L->order_flash, n);
    if (!loading)
        return;
    L->cap_orders = cap_sess < cap_flash ? cap_sess : cap_flash;   /* even on a failure: they may have moved */
    if (fw_snap_failed(s))
        return;
    if (n_flash != n) {
        fw_snap_fail(s, "%zu live orders' sessions but %zu flash marks", n, n_flash);
        return;
    }
    for (size_t o = 0; o < n; o++)
        if (L->order_sess[o] > L->n_sess) {
            fw_snap_fail(s, "order %zu is live from session %u of %u", o, L->order_sess[o] - 1, L->n_sess);
            return;
        }
}

const fw_engine_module fw_live_module = {
    .name = "live",
    .wanted = live_wanted,
    .state_size = sizeof(fw_live),
    .create = live_create,
    .destroy = live_destroy,
    .notice = live_notice,
    .end_day = live_end_day,
    .check = live_check,
    .snap = live_snap,
};
