/* The behaviour model.
 *
 * Affinity of user u to note n (hidden): x = log(T * interest[u][topic] + 0.1)
 *   + taste[u] . emb[n] / dim; format match f = +/- video_pref[u].
 * Open (cover click) on examination: sigmoid(b_open + open_affinity * x
 *   + open_quality * quality + format_weight * f).
 * After opening: interaction intensity pi = sigmoid(b_interact + x + quality), split into
 *   like / save / comment by like_share, save_share and the rest; follow with
 *   sigmoid(b_follow + x + quality).
 * Session end: after each note, stop with (stop_base + fatigue * k) *
 *   exp(-satisfaction_weight * (s / open_rate - 1)), s an EWMA of per-note reward
 *   (0 not opened, 1 + interactions opened). Reading drifts interest to the note's topic,
 *   and each day's end pulls it back towards the user's own by drift_reversion, so tastes
 *   wander with what is read without collapsing onto it.
 * Coming back: active tomorrow with p_active[u] * S^churn_sensitivity (capped at 0.99),
 *   S the day-level satisfaction (EWMA of today's CTR / the expected CTR; drifts back to 1
 *   on days away), so a feed that pleases more than users expect brings them back and one
 *   that bores loses them. The expectation is the population's CTR, adapting slowly. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "model/behaviour.h"
#include "experiment/experiment.h"
#include "driver/metrics.h"
#include "model/rng.h"

static inline double sigmoid(double z) { return 1.0 / (1.0 + exp(-z)); }

static inline double logit(double p)
{
    p = p < 1e-9 ? 1e-9 : p > 1.0 - 1e-9 ? 1.0 - 1e-9 : p;
    return log(p / (1.0 - p));
}

/* The price term: sensitivity times how far the price is above the catalog's norm. */
static double price_term(const fw_behaviour_model *m, const fw_world *w, uint32_t u, uint32_t p)
{
    return m->cfg.price_weight * w->price_sens[u] * (log((double)w->product_price_cents[p]) - m->log_price_ref);
}

static inline double affinity(const fw_world *w, uint32_t u, uint32_t n)
{
    uint32_t T = w->n_topics, D = w->dim;
    const fw_note_info *ni = &w->note_info[n];
    double x = log(T * (double)w->interest[(size_t)u * T + ni->topic] + 0.1);
    const float *a = &w->taste[(size_t)u * D], *b = &w->note_emb[(size_t)n * D];
    float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
    for (uint32_t d = 0; d < D; d++)
        dot += a[d] * b[d];
    return x + (double)dot / D;
}

static inline double format_match(const fw_world *w, uint32_t u, uint32_t n)
{
    return w->note_info[n].format == FW_FORMAT_VIDEO ? w->video_pref[u] : -w->video_pref[u];
}

/* Solves mean_i(weight_i * sigmoid(b + z_i)) / mean_i(weight_i) = target for b. */
static double solve_intercept(const double *z, const double *weight, size_t n, double target)
{
    double lo = -40.0, hi = 40.0, wsum = 0.0;
    for (size_t i = 0; i < n; i++)
        wsum += weight ? weight[i] : 1.0;
    for (int it = 0; it < 80; it++) {
        double mid = 0.5 * (lo + hi), acc = 0.0;
        for (size_t i = 0; i < n; i++)
            acc += (weight ? weight[i] : 1.0) * sigmoid(mid + z[i]);
        if (acc / wsum < target)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

/* Notes grouped by topic, for drawing "a note on topic t". */
typedef struct topic_index {
    uint32_t *off, *notes;
} topic_index;

static int topic_index_build(topic_index *ix, const fw_world *w)
{
    ix->off = calloc((size_t)w->n_topics + 1, sizeof *ix->off);
    ix->notes = malloc((size_t)w->n_notes * sizeof *ix->notes);
    uint32_t *fill = malloc(((size_t)w->n_topics + 1) * sizeof *fill);
    if (!ix->off || !ix->notes || !fill) {
        free(fill);
        return -1;
    }
    for (uint32_t n = 0; n < w->n_notes; n++)
        ix->off[w->note_info[n].topic + 1]++;
    for (uint32_t t = 0; t < w->n_topics; t++)
        ix->off[t + 1] += ix->off[t];
    memcpy(fill, ix->off, ((size_t)w->n_topics + 1) * sizeof *fill);
    for (uint32_t n = 0; n < w->n_notes; n++)
        ix->notes[fill[w->note_info[n].topic]++] = n;
    free(fill);
    return 0;
}

/* The calibration exposure: a random user shown a random note on a topic drawn from the
 * user's own interest mix -- what a feed that knows its user roughly serves. Random
 * (user, note) pairs would anchor the rates on notes no feed would show. */
static uint32_t exposure_note(const fw_world *w, const topic_index *ix, gsl_rng *r, uint32_t u)
{
    const float *row = &w->interest[(size_t)u * w->n_topics];
    for (int attempt = 0; attempt < 8; attempt++) {
        uint32_t t = fw_world_draw_topic(row, w->n_topics, gsl_rng_uniform(r));
        uint32_t lo = ix->off[t], hi = ix->off[t + 1];
        if (hi > lo)
            return ix->notes[lo + gsl_rng_uniform_int(r, hi - lo)];
    }
    return (uint32_t)gsl_rng_uniform_int(r, w->n_notes);
}

void fw_behaviour_calibrate(fw_behaviour_model *m, const fw_behaviour_cfg *cfg, const fw_world *w,
                            uint64_t seed)
{
    enum { N = 20000 };
    m->cfg = *cfg;
    m->b_open = m->b_interact = m->b_follow = 0.0;
    m->b_card = logit(cfg->card_click_rate);
    m->b_cart = logit(cfg->cart_rate);
    m->b_shop = logit(cfg->shop_click_rate);
    m->log_price_ref = 0.0;
    for (uint32_t p = 0; p < w->n_products; p++)
        m->log_price_ref += log((double)w->product_price_cents[p]) / w->n_products;
    if (w->n_notes == 0 || w->n_users == 0)
        return;
    double *z_open = malloc(N * sizeof *z_open), *z_post = malloc(N * sizeof *z_post);
    double *p_open = malloc(N * sizeof *p_open);
    gsl_rng *r = fw_rng_create(seed, FW_RNG_CALIBRATE, 0, 0);
    topic_index ix = {0};
    if (!z_open || !z_post || !p_open || !r || topic_index_build(&ix, w))
        goto out;   /* intercepts stay 0: calibration is an improvement, not a requirement */
    for (size_t i = 0; i < N; i++) {
        uint32_t u = (uint32_t)gsl_rng_uniform_int(r, w->n_users);
        uint32_t n = exposure_note(w, &ix, r, u);
        double x = affinity(w, u, n), q = w->note_quality[n];
        z_open[i] = cfg->open_affinity * x + cfg->open_quality * q + cfg->format_weight * format_match(w, u, n);
        z_post[i] = x + q;
    }
    m->b_open = solve_intercept(z_open, NULL, N, cfg->open_rate);
    for (size_t i = 0; i < N; i++)
        p_open[i] = sigmoid(m->b_open + z_open[i]);
    /* Interaction and follow rates are per read: weight pairs by their chance of a read. */
    m->b_interact = solve_intercept(z_post, p_open, N, cfg->interact_rate);
    m->b_follow = solve_intercept(z_post, p_open, N, cfg->follow_rate);
    /* Shopping: pairs of a user and a product of a category drawn from the user's interests,
     * with no intent yet; the intercepts make the knobs' rates the means over such pairs. */
    if (w->n_products) {
        double *z_card = z_post, *z_shop = p_open;
        for (size_t i = 0; i < N; i++) {
            uint32_t u = (uint32_t)gsl_rng_uniform_int(r, w->n_users), p = FW_NONE;
            const float *row = &w->interest[(size_t)u * w->n_topics];
            for (int attempt = 0; attempt < 8 && p == FW_NONE; attempt++) {
                uint32_t t = fw_world_draw_topic(row, w->n_topics, gsl_rng_uniform(r));
                if (w->category_off[t + 1] > w->category_off[t])
                    p = w->category_products[w->category_off[t] +
                                             gsl_rng_uniform_int(r, w->category_off[t + 1] - w->category_off[t])];
            }
            if (p == FW_NONE)
                p = (uint32_t)gsl_rng_uniform_int(r, w->n_products);
            double x = log(w->n_topics * (double)row[w->product_category[p]] + 0.1);
            z_card[i] = cfg->appeal_weight * w->product_appeal[p] - price_term(m, w, u, p);
            z_shop[i] = z_card[i] + cfg->open_affinity * x;
        }
        m->b_card = solve_intercept(z_card, NULL, N, cfg->card_click_rate);
        m->b_cart = solve_intercept(z_card, NULL, N, cfg->cart_rate);
        m->b_shop = solve_intercept(z_shop, NULL, N, cfg->shop_click_rate);
    }
out:
    free(ix.off);
    free(ix.notes);
    free(z_open);
    free(z_post);
    free(p_open);
    gsl_rng_free(r);
}

int fw_evbuf_push(fw_evbuf *b, uint32_t user, uint32_t note, int32_t tick, uint32_t type)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 4096;
        fw_event *v = realloc(b->v, cap * sizeof *v);
        if (!v)
            return -1;
        b->v = v;
        b->cap = cap;
    }
    b->v[b->n++] = (fw_event){.user = user, .note = note, .tick = tick, .type = type};
    return 0;
}

int fw_u32list_push(fw_u32list *l, uint32_t x)
{
    if (l->n == l->cap) {
        uint32_t cap = l->cap ? 2 * l->cap : 4;
        uint32_t *v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = x;
    return 0;
}

fw_err fw_users_state_init(fw_users_state *s, uint32_t n)
{
    memset(s, 0, sizeof *s);
    s->satisfaction = malloc((size_t)n * sizeof *s->satisfaction);
    s->day_impressions = calloc(n, sizeof *s->day_impressions);
    s->day_opens = calloc(n, sizeof *s->day_opens);
    s->active_prev = calloc(n, 1);
    s->active_today = calloc(n, 1);
    s->searched_today = calloc(n, 1);
    s->new_follows = calloc(n, sizeof *s->new_follows);
    s->intent = malloc((size_t)n * FW_INTENTS * sizeof *s->intent);
    s->spent_cents = calloc(n, sizeof *s->spent_cents);
    s->bought_today = calloc(n, 1);
    if (!s->satisfaction || !s->day_impressions || !s->day_opens || !s->active_prev ||
        !s->active_today || !s->searched_today || !s->new_follows || !s->intent ||
        !s->spent_cents || !s->bought_today) {
        fw_users_state_fini(s, 0);
        return FW_ERR_NOMEM;
    }
    for (uint32_t u = 0; u < n; u++)
        s->satisfaction[u] = 1.0f;
    for (size_t k = 0; k < (size_t)n * FW_INTENTS; k++)
        s->intent[k] = (fw_intent){.product = FW_NONE};
    return FW_OK;
}

void fw_users_state_fini(fw_users_state *s, uint32_t n)
{
    if (s->new_follows)
        for (uint32_t u = 0; u < n; u++)
            free(s->new_follows[u].v);
    free(s->new_follows);
    free(s->satisfaction);
    free(s->day_impressions);
    free(s->day_opens);
    free(s->active_prev);
    free(s->active_today);
    free(s->searched_today);
    free(s->intent);
    free(s->spent_cents);
    free(s->bought_today);
    memset(s, 0, sizeof *s);
}

int fw_users_follows(const fw_world *w, const fw_users_state *s, uint32_t u, uint32_t cu)
{
    for (uint32_t k = w->follow_off[u]; k < w->follow_off[u + 1]; k++)
        if (w->follow_dst[k] == cu)
            return 1;
    const fw_u32list *l = &s->new_follows[u];
    for (uint32_t k = 0; k < l->n; k++)
        if (l->v[k] == cu)
            return 1;
    return 0;
}

static int followed_this_tick(const fw_world *w, const fw_evbuf *ev, size_t begin, uint32_t cu)
{
    for (size_t k = begin; k < ev->n; k++)
        if (ev->v[k].type == FW_EV_FOLLOW && w->note_info[ev->v[k].note].creator == cu)
            return 1;
    return 0;
}

double fw_behaviour_p_open(const fw_behaviour_model *m, const fw_world *w, uint32_t u, uint32_t n)
{
    const fw_behaviour_cfg *c = &m->cfg;
    return sigmoid(m->b_open + c->open_affinity * affinity(w, u, n) + c->open_quality * w->note_quality[n] +
                   c->format_weight * format_match(w, u, n));
}

static int ensure_oracle(fw_session_io *io, size_t need)
{
    if (need <= io->oracle_cap)
        return 0;
    size_t cap = need < 1024 ? 1024 : 2 * need;
    double *u = realloc(io->oracle_util, cap * sizeof *u);
    if (u)
        io->oracle_util = u;
    uint32_t *id = realloc(io->oracle_id, cap * sizeof *id);
    if (id)
        io->oracle_id = id;
    if (!u || !id)
        return -1;
    io->oracle_cap = cap;
    return 0;
}

static int dbl_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

/* Min-heap of (util, id) keeping the k largest; ties keep the lower id. */
static void heap_offer(double *hu, uint32_t *hi, uint32_t *n, uint32_t k, double util, uint32_t id)
{
#define WORSE(a, b) (hu[a] < hu[b] || (hu[a] == hu[b] && hi[a] > hi[b]))
    if (*n < k) {
        uint32_t i = (*n)++;
        hu[i] = util;
        hi[i] = id;
        while (i > 0) {
            uint32_t p = (i - 1) / 2;
            if (!WORSE(i, p))
                break;
            double tu = hu[i]; hu[i] = hu[p]; hu[p] = tu;
            uint32_t ti = hi[i]; hi[i] = hi[p]; hi[p] = ti;
            i = p;
        }
        return;
    }
    if (util < hu[0] || (util == hu[0] && id > hi[0]))
        return;
    hu[0] = util;
    hi[0] = id;
    for (uint32_t i = 0;;) {
        uint32_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < *n && WORSE(l, w))
            w = l;
        if (r < *n && WORSE(r, w))
            w = r;
        if (w == i)
            break;
        double tu = hu[i]; hu[i] = hu[w]; hu[w] = tu;
        uint32_t ti = hi[i]; hi[i] = hi[w]; hi[w] = ti;
        i = w;
    }
#undef WORSE
}

int fw_behaviour_oracle(const fw_behaviour_model *m, const fw_world *w, uint32_t u, uint32_t arm,
                        const uint32_t *page, uint32_t n, int corpus, fw_session_io *io)
{
    uint32_t n_cand;
    const uint32_t *cand = fw_engine_ctx_candidates(io->ctx, &n_cand);
    uint32_t k = 0;
    double slate[128], dcg = 0.0, slate_sum = 0.0;
    for (uint32_t i = 0; i < n && k < 128; i++)
        if (page[i] != FW_NONE) {
            slate[k] = fw_behaviour_p_open(m, w, u, page[i]);
            dcg += slate[k] / log2(k + 2.0);
            slate_sum += slate[k++];
        }
    if (k == 0 || ensure_oracle(io, (size_t)n_cand + k + 64))
        return k == 0 ? 0 : -1;
    double *util = io->oracle_util;
    for (uint32_t i = 0; i < n_cand; i++)
        util[i] = fw_behaviour_p_open(m, w, u, cand[i]);
    qsort(util, n_cand, sizeof *util, dbl_desc);
    double idcg = 0.0, best = 0.0;
    for (uint32_t i = 0; i < k && i < n_cand; i++) {
        idcg += util[i] / log2(i + 2.0);
        best += util[i];
    }
    uint64_t *cnt = io->counters;
    double ndcg = idcg > 0.0 ? dcg / idcg : 1.0;
    if (ndcg > 1.0)
        ndcg = 1.0;   /* a page can hold a note outside the candidates only by a bug; stay in range */
    double regret = best - slate_sum;
    cnt[FW_DC_oracle_requests]++;
    cnt[FW_DC_oracle_ndcg_micro] += (uint64_t)llround(ndcg * 1e6);
    cnt[FW_DC_oracle_opens_micro] += (uint64_t)llround(slate_sum * 1e6);
    cnt[FW_DC_oracle_regret_recalled_micro] += (uint64_t)llround((regret > 0.0 ? regret : 0.0) * 1e6);
    if (!corpus)
        return 0;
    /* The best k notes u has not been served (or is being served now): keep the k + 64
     * best by true utility, then drop those already served. */
    uint32_t hk = k + 64, hn = 0;
    double *hu = io->oracle_util;
    uint32_t *hid = io->oracle_id;
    for (uint32_t note = 0; note < w->n_notes; note++)
        heap_offer(hu, hid, &hn, hk, fw_behaviour_p_open(m, w, u, note), note);
    /* Sort the kept ones best first (small: insertion sort). */
    for (uint32_t i = 1; i < hn; i++)
        for (uint32_t j = i; j > 0 && (hu[j] > hu[j - 1] || (hu[j] == hu[j - 1] && hid[j] < hid[j - 1])); j--) {
            double tu = hu[j]; hu[j] = hu[j - 1]; hu[j - 1] = tu;
            uint32_t ti = hid[j]; hid[j] = hid[j - 1]; hid[j - 1] = ti;
        }
    double cbest = 0.0;
    uint32_t taken = 0;
    for (uint32_t i = 0; i < hn && taken < k; i++) {
        int on_page = 0;
        for (uint32_t j = 0; j < n; j++)
            on_page |= page[j] == hid[i];
        if (on_page || !fw_feed_was_served(io->engine, u, arm, hid[i])) {
            cbest += hu[i];
            taken++;
        }
    }
    double cregret = cbest - slate_sum;
    cnt[FW_DC_oracle_corpus_requests]++;
    cnt[FW_DC_oracle_regret_corpus_micro] += (uint64_t)llround((cregret > 0.0 ? cregret : 0.0) * 1e6);
    return 0;
}


/* ---- shopping --------------------------------------------------------------------------- */

static double decayed(const fw_behaviour_model *m, const fw_world *w, const fw_intent *it, int32_t tick)
{
    double half = m->cfg.intent_half_life_days * w->ticks_per_day;
    return it->strength * exp2(-(double)(tick - it->tick) / half);
}

double fw_behaviour_intent(const fw_behaviour_model *m, const fw_world *w, const fw_users_state *s,
                           uint32_t u, uint32_t p, int32_t tick, uint8_t *src)
{
    const fw_intent *row = &s->intent[(size_t)u * FW_INTENTS];
    for (int k = 0; k < FW_INTENTS; k++)
        if (row[k].product == p) {
            if (src)
                *src = row[k].source;
            return decayed(m, w, &row[k], tick);
        }
    if (src)
        *src = FW_SRC_SHOP;
    return 0.0;
}

/* Adds amount of intent for p (the weakest intent makes room for a new product). */
static void plant(const fw_behaviour_model *m, const fw_world *w, fw_users_state *s, uint32_t u,
                  uint32_t p, double amount, int32_t tick, uint8_t source)
{
    fw_intent *row = &s->intent[(size_t)u * FW_INTENTS];
    int k = 0, weakest = 0;
    double weakest_v = INFINITY;
    for (; k < FW_INTENTS && row[k].product != p; k++) {
        double v = row[k].product == FW_NONE ? -1.0 : decayed(m, w, &row[k], tick);
        if (v < weakest_v) {
            weakest_v = v;
            weakest = k;
        }
    }
    double now = 0.0;
    if (k == FW_INTENTS)
        k = weakest;
    else
        now = decayed(m, w, &row[k], tick);
    row[k] = (fw_intent){.product = p, .strength = (float)(now + amount), .tick = tick, .source = source};
}

double fw_behaviour_p_return(const fw_behaviour_model *m, const fw_world *w, uint32_t u, uint32_t p)
{
    (void)u;
    return sigmoid(logit(m->cfg.return_rate) - w->product_appeal[p]);
}

static int shop_event(fw_session_io *io, uint32_t u, uint32_t p, int32_t tick, uint32_t type)
{
    fw_shopbuf *b = io->shop;
    if (b->n_ev == b->cap_ev) {
        size_t cap = b->cap_ev ? 2 * b->cap_ev : 1024;
        fw_shop_event *v = realloc(b->ev, cap * sizeof *v);
        if (!v)
            return -1;
        b->ev = v;
        b->cap_ev = cap;
    }
    b->ev[b->n_ev++] = (fw_shop_event){.user = u, .product = p, .tick = tick, .type = type};
    return 0;
}

static int push_order(fw_shopbuf *b, const fw_order_req *q, uint8_t src)
{
    if (b->n_ord == b->cap_ord) {
        size_t cap = b->cap_ord ? 2 * b->cap_ord : 256;
        fw_order_req *v = realloc(b->ord, cap * sizeof *v);
        if (!v)
            return -1;
        b->ord = v;
        uint8_t *sv = realloc(b->src, cap);
        if (!sv)
            return -1;
        b->src = sv;
        b->cap_ord = cap;
    }
    b->ord[b->n_ord] = *q;
    b->src[b->n_ord++] = src;
    return 0;
}

/* Sends a checkout for p if the month's budget allows it and no checkout of p by u is
 * already on its way this tick. The request id is a hash of (seed, user, tick, k): a retry
 * by the app (double_submit) sends the same id again. */
static int checkout(const fw_behaviour_model *m, const fw_world *w, fw_users_state *s, uint32_t u,
                    uint32_t arm, int32_t tick, uint32_t p, uint8_t src, fw_session_io *io)
{
    fw_shopbuf *b = io->shop;
    for (size_t k = io->ord_begin; k < b->n_ord; k++)
        if (b->ord[k].product == p)
            return 0;
    int64_t price = w->product_price_cents[p];
    if (s->spent_cents[u] + price > w->budget_cents[u])
        return 0;
    s->spent_cents[u] += price;
    uint64_t h = io->seed * UINT64_C(0x9e3779b97f4a7c15) ^ ((uint64_t)u << 32 | (uint32_t)tick);
    h = (h ^ (h >> 31)) * UINT64_C(0xbf58476d1ce4e5b9);
    h ^= (uint64_t)(b->n_ord - io->ord_begin) * UINT64_C(0x94d049bb133111eb);
    h = (h ^ (h >> 29)) * UINT64_C(0xbf58476d1ce4e5b9);
    h ^= h >> 32;
    if (h == UINT64_MAX)
        h--;   /* UINT64_MAX is not a valid request id */
    fw_order_req q = {.request_id = h, .user = u, .arm = arm, .product = p, .qty = 1, .tick = tick};
    if (push_order(b, &q, src))
        return -1;
    io->counters[FW_DC_order_requests]++;
    if (gsl_rng_uniform(io->shop_rng) < m->cfg.double_submit) {
        if (push_order(b, &q, src))
            return -1;
        io->counters[FW_DC_order_requests]++;
    }
    return 0;
}

/* A product page view and what follows: add to cart, then pay now or leave it there. */
static int product_view(const fw_behaviour_model *m, const fw_world *w, fw_users_state *s, uint32_t u,
                        uint32_t arm, int32_t tick, uint32_t p, fw_session_io *io)
{
    const fw_behaviour_cfg *c = &m->cfg;
    gsl_rng *r = io->shop_rng;
    uint8_t src;
    double intent = fw_behaviour_intent(m, w, s, u, p, tick, &src);
    if (shop_event(io, u, p, tick, FW_SHOP_VIEW))
        return -1;
    io->counters[FW_DC_product_views]++;
    io->user_counts[FW_UM_product_views][u]++;
    double z = m->b_cart + c->intent_weight * log1p(intent) + c->appeal_weight * w->product_appeal[p] -
               price_term(m, w, u, p);
    if (gsl_rng_uniform(r) >= sigmoid(z))
        return 0;
    if (shop_event(io, u, p, tick, FW_SHOP_CART_ADD))
        return -1;
    io->counters[FW_DC_cart_adds]++;
    io->user_counts[FW_UM_cart_adds][u]++;
    if (gsl_rng_uniform(r) < c->buy_now)
        return checkout(m, w, s, u, arm, tick, p, src, io);
    return 0;
}

/* A session's look into a non-empty cart: each item is bought, removed or kept. */
static int cart_visit(const fw_behaviour_model *m, const fw_world *w, fw_users_state *s, uint32_t u,
                      uint32_t arm, int32_t tick, fw_session_io *io)
{
    const fw_behaviour_cfg *c = &m->cfg;
    gsl_rng *r = io->shop_rng;
    uint32_t n;
    const uint32_t *items = fw_shop_cart(io->engine, u, &n);
    if (n == 0 || gsl_rng_uniform(r) >= c->cart_revisit)
        return 0;
    io->counters[FW_DC_cart_visits]++;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t p = items[k];
        uint8_t src;
        fw_behaviour_intent(m, w, s, u, p, tick, &src);   /* only for the source of the order */
        double pb = c->buy_later;   /* the intent put it in the cart; buying later is its own decision */
        double x = gsl_rng_uniform(r);
        if (x < pb) {
            if (shop_event(io, u, p, tick, FW_SHOP_VIEW))
                return -1;
            io->counters[FW_DC_product_views]++;
            io->user_counts[FW_UM_product_views][u]++;
            if (checkout(m, w, s, u, arm, tick, p, src, io))
                return -1;
        } else if (x < pb + (1.0 - pb) * c->cart_abandon) {
            if (shop_event(io, u, p, tick, FW_SHOP_CART_REMOVE))
                return -1;
        }
    }
    return 0;
}

/* An opened note: the product it shows plants intent; its card (the engine's link, maybe
 * wrong or missing) may be clicked. */
static int opened_note(const fw_behaviour_model *m, const fw_world *w, fw_users_state *s, uint32_t u,
                       uint32_t arm, int32_t tick, uint32_t note, uint32_t card, double extra, uint8_t source,
                       fw_session_io *io)
{
    const fw_behaviour_cfg *c = &m->cfg;
    uint32_t shown = w->note_product[note];
    uint64_t *cnt = io->counters;
    if (shown != FW_NONE) {
        /* Planting scales with the user's propensity to buy what notes plant (world: Beta(1,
         * 30), mean 1/31): most readers are barely moved, a few are moved a lot. */
        plant(m, w, s, u, shown, (c->plant_open + extra) * 31.0 * w->purchase_prop[u], tick, source);
        cnt[FW_DC_card_recall_den]++;
        cnt[card == shown ? FW_DC_card_correct : card == FW_NONE ? FW_DC_card_missed : FW_DC_card_wrong]++;
    } else if (card != FW_NONE) {
        cnt[FW_DC_card_wrong]++;
    }
    if (card == FW_NONE)
        return 0;
    cnt[FW_DC_card_impressions]++;
    double intent = fw_behaviour_intent(m, w, s, u, card, tick, NULL);
    double z = m->b_card + c->intent_weight * log1p(intent) +
               c->appeal_weight * w->product_appeal[card] - price_term(m, w, u, card);
    if (gsl_rng_uniform(io->shop_rng) >= sigmoid(z))
        return 0;
    cnt[FW_DC_card_clicks]++;
    return product_view(m, w, s, u, arm, tick, card, io);
}

/* The shop tab: a page from the engine, examined with position bias. */
static int shop_tab(const fw_behaviour_model *m, const fw_world *w, fw_users_state *s, uint32_t u,
                    uint32_t arm, int32_t tick, fw_session_io *io)
{
    const fw_behaviour_cfg *c = &m->cfg;
    gsl_rng *r = io->shop_rng;
    if (gsl_rng_uniform(r) >= c->shop_visit_rate)
        return 0;
    fw_shop_req q = {.user = u, .arm = arm, .tick = tick};
    uint32_t n = fw_shop_request(io->engine, io->ctx, &q, io->page, io->page_cap);
    io->counters[FW_DC_shop_visits]++;
    uint32_t T = w->n_topics;
    for (uint32_t i = 0; i < n; i++) {
        if (gsl_rng_uniform(r) >= pow(1.0 / (i + 1.0), c->search_eta))
            continue;
        uint32_t p = io->page[i];
        io->counters[FW_DC_shop_impressions]++;
        double x = log(T * (double)w->interest[(size_t)u * T + w->product_category[p]] + 0.1);
        double intent = fw_behaviour_intent(m, w, s, u, p, tick, NULL);
        double z = m->b_shop + c->open_affinity * x + c->intent_weight * log1p(intent) +
                   c->appeal_weight * w->product_appeal[p] - price_term(m, w, u, p);
        if (gsl_rng_uniform(r) >= sigmoid(z))
            continue;
        io->counters[FW_DC_shop_clicks]++;
        if (product_view(m, w, s, u, arm, tick, p, io))
            return -1;
    }
    return 0;
}

static int clickbuf_push(fw_clickbuf *b, const fw_search_click *c)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 1024;
        fw_search_click *v = realloc(b->v, cap * sizeof *v);
        if (!v)
            return -1;
        b->v = v;
        b->cap = cap;
    }
    b->v[b->n++] = *c;
    return 0;
}

/* A query for intent topic: 1-3 words, each the topic's (Zipf) or, with the knobs'
 * probabilities, one of its colloquial words or a misspelling; sometimes a generic word. */
static void draw_query(const fw_behaviour_cfg *c, const fw_world *w, gsl_rng *r, uint32_t topic,
                       fw_search_req *q)
{
    uint32_t n = 1 + (uint32_t)gsl_rng_uniform_int(r, 3);
    q->n_terms = 0;
    for (uint32_t k = 0; k < n; k++) {
        double x = gsl_rng_uniform(r);
        uint32_t t;
        if (x < c->search_colloquial && w->colloquial_per_topic)
            t = w->colloquial_base + topic * w->colloquial_per_topic +
                (uint32_t)gsl_rng_uniform_int(r, w->colloquial_per_topic);
        else if (x < c->search_colloquial + c->search_typo)
            t = w->typo_base + (uint32_t)gsl_rng_uniform_int(r, FW_WORLD_TYPO_TERMS);
        else
            t = topic * w->terms_per_topic + (uint32_t)gsl_ran_discrete(r, w->term_pick);
        q->terms[q->n_terms++] = t;
    }
    if (gsl_rng_uniform(r) < c->search_generic && q->n_terms < FW_QUERY_TERMS)
        q->terms[q->n_terms++] = w->generic_base + (uint32_t)gsl_rng_uniform_int(r, w->generic_terms);
}

/* Whether u searches at all today: a pure function of (seed, user, day). */
static int searches_today(const fw_world *w, uint64_t seed, uint32_t u, uint32_t day)
{
    uint64_t h = seed * UINT64_C(0x9e3779b97f4a7c15) ^ ((uint64_t)u << 32 | day);
    h ^= h >> 31;
    h *= UINT64_C(0xbf58476d1ce4e5b9);
    h ^= h >> 29;
    h *= UINT64_C(0x94d049bb133111eb);
    h ^= h >> 32;
    return (double)(h >> 11) * 0x1.0p-53 < w->search_prop[u];
}


/* An ad in the feed: a note like any other, opened with a penalty for being an ad. An open
 * is the ad's click: it plants intent for the product the creative shows and lands on that
 * product's page. Ads are on screen like notes (they count in the day's impressions and
 * opens that satisfaction is made of), and each one seen adds behaviour.ad_fatigue to the
 * session's stop probability. Returns -1 when out of memory. */
static int ad_slot(const fw_behaviour_model *m, const fw_world *w, fw_users_state *s, uint32_t u,
                   uint32_t arm, int32_t tick, const fw_ad_fill *f, fw_session_io *io, gsl_rng *rng,
                   double bonus, double *sat)
{
    const fw_behaviour_cfg *c = &m->cfg;
    fw_adbuf *b = io->ads;
    if (b->n + 2 > b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 1024;
        fw_ad_event *v = realloc(b->v, cap * sizeof *v);
        if (!v)
            return -1;
        b->v = v;
        b->cap = cap;
    }
    uint32_t note = f->note;
    b->v[b->n++] = (fw_ad_event){.user = u, .campaign = f->campaign, .tick = tick, .type = FW_AD_IMPRESSION,
                                 .price_cents = f->price_cents};
    io->counters[FW_DC_ad_impressions]++;
    io->user_counts[FW_UM_ad_impressions][u]++;
    s->day_impressions[u]++;
    double z = m->b_open + c->open_affinity * affinity(w, u, note) + c->open_quality * w->note_quality[note] +
               c->format_weight * format_match(w, u, note) - c->ad_penalty + bonus;
    double reward = 0.0;
    if (gsl_rng_uniform(rng) < sigmoid(z)) {
        b->v[b->n++] = (fw_ad_event){.user = u, .campaign = f->campaign, .tick = tick, .type = FW_AD_CLICK,
                                     .price_cents = f->price_cents};
        io->counters[FW_DC_ad_clicks]++;
        io->user_counts[FW_UM_ad_clicks][u]++;
        s->day_opens[u]++;
        reward = 1.0;
        uint32_t p = w->note_product[note];
        if (io->shop && p != FW_NONE) {
            plant(m, w, s, u, p, c->plant_open * 31.0 * w->purchase_prop[u], tick, FW_SRC_FEED);
            if (product_view(m, w, s, u, arm, tick, p, io))
                return -1;
        }
    }
    *sat = 0.8 * *sat + 0.2 * reward;
    return 0;
}

/* The search part of a session (see behaviour.h). Returns -1 when out of memory. */
static int search_session(const fw_behaviour_model *m, const fw_world *w, fw_users_state *s, uint32_t u,
                          uint32_t arm, int32_t tick, fw_session_io *io)
{
    const fw_behaviour_cfg *c = &m->cfg;
    gsl_rng *r = io->srng;
    if (!r || c->searches_per_searcher <= 0.0 || !searches_today(w, io->seed, u, io->day))
        return 0;
    double p = c->searches_per_searcher / w->session_rate[u];
    if (gsl_rng_uniform(r) >= (p < 1.0 ? p : 1.0))
        return 0;
    uint64_t *cnt = io->counters;
    uint32_t *const *uc = io->user_counts;
    uint32_t T = w->n_topics, topic = fw_world_draw_topic(&w->interest[(size_t)u * T], T, gsl_rng_uniform(r));
    double comment_share = 1.0 - c->like_share - c->save_share;
    if (comment_share < 0.0)
        comment_share = 0.0;
    for (int attempt = 0; attempt < 3; attempt++) {
        fw_search_req q = {.user = u, .arm = arm, .tick = tick};
        draw_query(c, w, r, topic, &q);
        cnt[FW_DC_searches]++;
        uc[FW_UM_searches][u]++;
        if (!s->searched_today[u]) {
            s->searched_today[u] = 1;
            cnt[FW_DC_searchers]++;
        }
        if (attempt > 0)
            cnt[FW_DC_search_reformulations]++;
        uint32_t n = fw_search_page(io->engine, io->ctx, &q, io->slots, io->page_cap + 1);
        if (n == 0)
            cnt[FW_DC_search_zero_results]++;
        const fw_slot *res = io->slots;
        if (io->ads && n > 0) {
            /* The ad slot at the top of the results (the engine sold it for the topic it reads
             * in the query), examined like the first result. */
            double sat_unused = 0.0;
            cnt[FW_DC_ad_slots]++;
            if (res[0].campaign != FW_NONE) {
                fw_ad_fill fill = {.campaign = res[0].campaign, .note = res[0].note, .price_cents = res[0].price_cents};
                cnt[FW_DC_ad_fills]++;
                cnt[FW_DC_search_ad_impressions]++;
                double bonus = w->note_info[fill.note].topic == topic ? c->search_intent_bonus : -c->search_intent_bonus;
                if (ad_slot(m, w, s, u, arm, tick, &fill, io, r, bonus, &sat_unused))
                    return -1;
            }
            res++;
            n--;
        }
        double dcg = 0.0, idcg = 0.0;
        for (uint32_t i = 0; i < n; i++) {
            dcg += (w->note_info[res[i].note].topic == topic) / log2(i + 2.0);
            idcg += 1.0 / log2(i + 2.0);
        }
        if (n > 0)
            cnt[FW_DC_search_ndcg_micro] += (uint64_t)llround(dcg / idcg * 1e6);
        int clicked = 0;
        for (uint32_t i = 0; i < n; i++) {
            if (gsl_rng_uniform(r) >= pow(1.0 / (i + 1.0), c->search_eta))
                continue;   /* not examined */
            uint32_t note = res[i].note;
            if (fw_evbuf_push(io->events, u, note, tick, FW_EV_IMPRESSION | FW_EV_SEARCH))
                return -1;
            cnt[FW_DC_search_impressions]++;
            uc[FW_UM_search_impressions][u]++;
            double x = affinity(w, u, note), qual = w->note_quality[note];
            double bonus = w->note_info[note].topic == topic ? c->search_intent_bonus : -c->search_intent_bonus;
            double p_open = sigmoid(m->b_open + c->open_affinity * x + c->open_quality * qual +
                                    c->format_weight * format_match(w, u, note) + bonus);
            if (gsl_rng_uniform(r) >= p_open)
                continue;
            if (fw_evbuf_push(io->events, u, note, tick, FW_EV_OPEN | FW_EV_SEARCH))
                return -1;
            cnt[FW_DC_search_clicks]++;
            uc[FW_UM_search_clicks][u]++;
            if (!clicked) {
                cnt[FW_DC_search_with_click]++;
                cnt[FW_DC_search_first_click_pos] += i + 1;
            }
            clicked = 1;
            fw_search_click sc = {.user = u, .note = note, .tick = tick, .n_terms = q.n_terms};
            memcpy(sc.terms, q.terms, sizeof sc.terms);
            if (clickbuf_push(io->clicks, &sc))
                return -1;
            double pi = sigmoid(m->b_interact + x + qual);
            static const uint32_t kinds[3] = {FW_EV_LIKE, FW_EV_SAVE, FW_EV_COMMENT};
            double share[3] = {c->like_share, c->save_share, comment_share};
            double extra = 0.0;
            for (int k = 0; k < 3; k++)
                if (gsl_rng_uniform(r) < pi * share[k]) {
                    if (fw_evbuf_push(io->events, u, note, tick, kinds[k] | FW_EV_SEARCH))
                        return -1;
                    cnt[FW_DC_search_interactions]++;
                    extra += k < 2 ? c->plant_save : 0.0;
                }
            if (io->shop && opened_note(m, w, s, u, arm, tick, note, res[i].card, extra, FW_SRC_SEARCH, io))
                return -1;
        }
        if (clicked || gsl_rng_uniform(r) >= c->search_reformulate)
            break;
    }
    return 0;
}

static int feed_session(const fw_behaviour_model *m, fw_world *w, fw_users_state *s, uint32_t u,
                        uint32_t arm, int32_t tick, size_t ev_begin, fw_session_io *io);

int fw_behaviour_session(const fw_behaviour_model *m, fw_world *w, fw_users_state *s,
                         uint32_t u, uint32_t arm, int32_t tick, size_t ev_begin,
                         fw_session_io *io)
{
    io->counters[FW_DC_sessions]++;
    io->user_counts[FW_UM_sessions][u]++;
    if (io->shop && cart_visit(m, w, s, u, arm, tick, io))
        return -1;
    if (search_session(m, w, s, u, arm, tick, io))
        return -1;
    int rc = feed_session(m, w, s, u, arm, tick, ev_begin, io);
    if (rc == 0 && io->shop)
        rc = shop_tab(m, w, s, u, arm, tick, io);
    return rc;
}

/* The feed part of a session. */
static int feed_session(const fw_behaviour_model *m, fw_world *w, fw_users_state *s, uint32_t u,
                        uint32_t arm, int32_t tick, size_t ev_begin, fw_session_io *io)
{
    const fw_behaviour_cfg *c = &m->cfg;
    gsl_rng *r = io->rng;
    uint64_t *cnt = io->counters;
    uint32_t T = w->n_topics;
    float *interest = &w->interest[(size_t)u * T];
    double sat = c->open_rate;
    double comment_share = 1.0 - c->like_share - c->save_share;
    if (comment_share < 0.0)
        comment_share = 0.0;
    uint32_t seen = 0, ads_seen = 0;
    fw_feed_req req = {.user = u, .arm = arm, .tick = tick};
    uint32_t *const *uc = io->user_counts;
    for (uint32_t page_no = 0;; page_no++) {
        uint32_t n = fw_feed_page(io->engine, io->ctx, &req, io->slots, io->page_cap);
        cnt[FW_DC_feed_requests]++;
        if (n == 0)
            return 0;
        /* The page's organic notes (ad slots FW_NONE), for the oracle. */
        uint32_t n_slots = 0, n_fills = 0;
        for (uint32_t i = 0; i < n; i++) {
            int organic = io->slots[i].campaign == FW_NONE && io->slots[i].note != FW_NONE;
            io->page[i] = organic ? io->slots[i].note : FW_NONE;
            n_slots += !organic;
            n_fills += io->slots[i].campaign != FW_NONE;
        }
        if (io->oracle_every) {
            /* A sample keyed by (user, tick, page, session), independent of the rng stream. */
            uint64_t h = ((uint64_t)u << 32 | (uint32_t)tick) * UINT64_C(0x9e3779b97f4a7c15) ^
                         ((uint64_t)page_no << 48 | uc[FW_UM_sessions][u]);
            h ^= h >> 31;
            h *= UINT64_C(0xbf58476d1ce4e5b9);
            h ^= h >> 29;
            if (h % io->oracle_every == 0 &&
                fw_behaviour_oracle(m, w, u, arm, io->page, n,
                                    (h / io->oracle_every) % io->oracle_corpus_every == 0, io))
                return -1;
        }
        /* The page's reserved ad slots, as the engine's auction sold them. */
        cnt[FW_DC_ad_slots] += n_slots;
        cnt[FW_DC_ad_fills] += n_fills;
        for (uint32_t i = 0; i < n; i++) {
            const fw_slot *sl = &io->slots[i];
            uint32_t note = sl->note;
            if (sl->campaign != FW_NONE || note == FW_NONE) {
                if (sl->campaign == FW_NONE)
                    continue;   /* a reserved slot the auction left empty */
                fw_ad_fill fill = {.campaign = sl->campaign, .note = sl->note, .price_cents = sl->price_cents};
                int rc = ad_slot(m, w, s, u, arm, tick, &fill, io, r, 0.0, &sat);
                if (rc < 0)
                    return -1;
                seen++;
                ads_seen++;
                double p_stop = (c->stop_base + c->fatigue * seen + c->ad_fatigue * ads_seen) *
                                exp(-c->satisfaction_weight * (sat / c->open_rate - 1.0));
                if (seen >= c->max_notes || gsl_rng_uniform(r) < p_stop)
                    return 0;
                continue;
            }
            if (fw_evbuf_push(io->events, u, note, tick, FW_EV_IMPRESSION))
                return -1;
            cnt[FW_DC_impressions]++;
            uc[FW_UM_impressions][u]++;
            s->day_impressions[u]++;
            double x = affinity(w, u, note), q = w->note_quality[note];
            double p_open = sigmoid(m->b_open + c->open_affinity * x + c->open_quality * q +
                                    c->format_weight * format_match(w, u, note));
            double reward = 0.0;
            if (gsl_rng_uniform(r) < p_open) {
                if (fw_evbuf_push(io->events, u, note, tick, FW_EV_OPEN))
                    return -1;
                cnt[FW_DC_opens]++;
                uc[FW_UM_opens][u]++;
                s->day_opens[u]++;
                reward = 1.0;
                double pi = sigmoid(m->b_interact + x + q);
                static const uint32_t kinds[3] = {FW_EV_LIKE, FW_EV_SAVE, FW_EV_COMMENT};
                static const fw_day_counter counters[3] = {FW_DC_likes, FW_DC_saves, FW_DC_comments};
                static const fw_user_metric user_metrics[3] = {FW_UM_likes, FW_UM_saves, FW_UM_comments};
                double share[3] = {c->like_share, c->save_share, comment_share};
                double extra = 0.0;
                for (int k = 0; k < 3; k++)
                    if (gsl_rng_uniform(r) < pi * share[k]) {
                        if (fw_evbuf_push(io->events, u, note, tick, kinds[k]))
                            return -1;
                        cnt[counters[k]]++;
                        cnt[FW_DC_interactions]++;
                        uc[user_metrics[k]][u]++;
                        uc[FW_UM_interactions][u]++;
                        reward += 1.0;
                        extra += k < 2 ? c->plant_save : 0.0;
                    }
                if (io->shop && opened_note(m, w, s, u, arm, tick, note, sl->card, extra, FW_SRC_FEED, io))
                    return -1;
                if (gsl_rng_uniform(r) < sigmoid(m->b_follow + x + q)) {
                    uint32_t cu = w->note_info[note].creator;
                    if (cu != u && !fw_users_follows(w, s, u, cu) &&
                        !followed_this_tick(w, io->events, ev_begin, cu)) {
                        if (fw_evbuf_push(io->events, u, note, tick, FW_EV_FOLLOW))
                            return -1;
                        cnt[FW_DC_follows]++;
                        uc[FW_UM_follows][u]++;
                    }
                }
                /* Interests drift towards what the user reads (the row stays normalised). */
                if (c->drift > 0.0) {
                    for (uint32_t t = 0; t < T; t++)
                        interest[t] *= (float)(1.0 - c->drift);
                    interest[w->note_info[note].topic] += (float)c->drift;
                }
            }
            sat = 0.8 * sat + 0.2 * reward;
            seen++;
            double p_stop = (c->stop_base + c->fatigue * seen + c->ad_fatigue * ads_seen) *
                            exp(-c->satisfaction_weight * (sat / c->open_rate - 1.0));
            if (seen >= c->max_notes || gsl_rng_uniform(r) < p_stop)
                return 0;
        }
    }
}

void fw_behaviour_end_day(const fw_behaviour_model *m, fw_world *w, fw_users_state *s,
                          uint32_t u)
{
    double rev = m->cfg.drift_reversion;
    if (rev > 0.0) {
        float *row = &w->interest[(size_t)u * w->n_topics];
        const float *own = &w->interest0[(size_t)u * w->n_topics];
        for (uint32_t t = 0; t < w->n_topics; t++)
            row[t] = (float)((1.0 - rev) * row[t] + rev * own[t]);
    }
    double today = 1.0;
    if (s->active_today[u] && s->day_impressions[u] > 0 && s->expected_ctr > 0.0)
        today = (double)s->day_opens[u] / s->day_impressions[u] / s->expected_ctr;
    s->satisfaction[u] = (float)(m->cfg.memory * s->satisfaction[u] + (1.0 - m->cfg.memory) * today);
    s->day_impressions[u] = s->day_opens[u] = 0;
    s->active_prev[u] = s->active_today[u];
    s->active_today[u] = 0;
    s->searched_today[u] = 0;
    s->bought_today[u] = 0;
}

double fw_behaviour_p_active(const fw_behaviour_model *m, const fw_world *w,
                             const fw_users_state *s, uint32_t u)
{
    double p = w->p_active[u] * pow(s->satisfaction[u] > 0.0f ? s->satisfaction[u] : 1e-3,
                                    m->cfg.churn_sensitivity);
    return p > 0.99 ? 0.99 : p;
}
