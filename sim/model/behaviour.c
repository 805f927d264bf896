/* The behaviour model.
 *
 * Affinity of user u to note n (hidden): x = log(T * interest[u][topic] + 0.1)
 *   + taste[u] . emb[n] / dim; format match f = +/- video_pref[u].
 * Open (cover click) on examination: sigmoid(b_open + open_affinity * x
 *   + open_quality * quality + format_weight * f).
 * After opening: interaction intensity pi = sigmoid(b_interact + x + quality), split into
 *   like / save / comment by like_share, save_share and the rest; follow with
 *   sigmoid(b_follow + x + quality).
 * Session end (the feed part runs sessions, sim/parts/feed.c): after each note, stop with
 *   (stop_base + fatigue * k) * exp(-satisfaction_weight * (s / open_rate - 1)), s an EWMA of
 *   per-note reward (0 not opened, 1 + interactions opened). Reading drifts interest to the
 *   note's topic, and each day's end pulls it back towards the user's own by drift_reversion,
 *   so tastes wander with what is read without collapsing onto it.
 * Satiation and social proof (issue 18; both off at 0): the open logit also falls by
 *   satiation x L, L the user's satiation with the note's topic -- each open of the topic adds
 *   1 and L halves every satiation_half_life_hours (a dynamic attribute satiation model,
 *   McAlister 1982, J. Consumer Research 9), so reading one topic on and on makes its next note
 *   less tempting and a varied page worth more than a page of the favourite topic -- and rises
 *   by social_proof x log(1 + likes), the note's visible like count (Salganik, Dodds & Watts
 *   2006, Science 311: shown popularity raises choice). Counts start at 0 at day 0 (the initial
 *   notes have no history here) and grow at tick barriers, so a session sees the counts as of
 *   its tick's start, whatever the thread count.
 * Coming back: active tomorrow with p_active[u] * S^churn_sensitivity (capped at 0.99),
 *   S the day-level satisfaction (EWMA of today's CTR / the expected CTR; drifts back to 1
 *   on days away), so a feed that pleases more than users expect brings them back and one
 *   that bores loses them. The expectation is the population's CTR, adapting slowly. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "model/behaviour.h"
#include "model/rng.h"

static inline double logit(double p)
{
    p = p < 1e-9 ? 1e-9 : p > 1.0 - 1e-9 ? 1.0 - 1e-9 : p;
    return log(p / (1.0 - p));
}

/* The price term: sensitivity times how far the price is above the catalog's norm. */
double fw_behaviour_price_term(const fw_behaviour_model *m, const fw_world *w, uint32_t u, uint32_t p)
{
    return m->cfg.price_weight * w->price_sens[u] * (log((double)w->product_price_cents[p]) - m->log_price_ref);
}

/* The deal term: a reference-price (transaction-utility) response, Thaler 1985, Marketing
 * Science 4(3); Kalyanaram & Winer 1995, Marketing Science 14(3). The price term alone mixes
 * which products people choose among (a high weight sends everyone to cheap items) with how
 * they answer a cut on a product they look at; this term is the second. Not scaled by the
 * user's price sensitivity: deal_weight is the mean response itself.
 * Default 1.15: a logit coefficient b on log price gives the choice an elasticity of
 * -b (1 - P), about -b when P is small (card clicks, carts: a few percent). A shop purchase
 * passes two such choices (a click, then the add to cart), each weighing the price term and
 * this one, so its deal elasticity is about -2 (deal_weight + price_weight x 1.13, the mean
 * sensitivity): -2 (1.15 + 0.17) = -2.6, the mean price elasticity of Bijmolt, van Heerde &
 * Pieters' meta-analysis (2005, J. Marketing Research 42(2): 141-156). They find temporary
 * (promotional) cuts answered more strongly than regular price differences, so this is if
 * anything low for a coupon. */
double fw_behaviour_deal_term(const fw_behaviour_cfg *c, double list, double pay)
{
    return c->deal_weight > 0.0 && pay < list ? c->deal_weight * log(list / pay) : 0.0;
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
            acc += (weight ? weight[i] : 1.0) * fw_sigmoid(mid + z[i]);
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

fw_err fw_behaviour_calibrate(fw_behaviour_model *m, const fw_behaviour_cfg *cfg, const fw_world *w,
                              uint64_t seed)
{
    fw_err rc = FW_OK;
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
        return FW_OK;
    double *z_open = malloc(N * sizeof *z_open), *z_post = malloc(N * sizeof *z_post);
    double *p_open = malloc(N * sizeof *p_open);
    gsl_rng *r = fw_rng_create(seed, FW_RNG_CALIBRATE, 0, 0);
    topic_index ix = {0};
    if (!z_open || !z_post || !p_open || !r || topic_index_build(&ix, w)) {
        rc = FW_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < N; i++) {
        uint32_t u = (uint32_t)gsl_rng_uniform_int(r, w->n_users);
        uint32_t n = exposure_note(w, &ix, r, u);
        double x = fw_behaviour_affinity(w, u, n), q = w->note_quality[n];
        z_open[i] = cfg->open_affinity * x + cfg->open_quality * q + cfg->format_weight * fw_behaviour_format_match(w, u, n);
        z_post[i] = x + q;
    }
    m->b_open = solve_intercept(z_open, NULL, N, cfg->open_rate);
    for (size_t i = 0; i < N; i++)
        p_open[i] = fw_sigmoid(m->b_open + z_open[i]);
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
            z_card[i] = cfg->appeal_weight * w->product_appeal[p] - fw_behaviour_price_term(m, w, u, p);
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
    return rc;
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
    s->day0_moved = calloc((size_t)n / 64 + 1, sizeof *s->day0_moved);
    s->intent = malloc((size_t)n * FW_INTENTS * sizeof *s->intent);
    s->satiation = calloc((size_t)n * FW_SATIATIONS, sizeof *s->satiation);
    s->spent_cents = calloc(n, sizeof *s->spent_cents);
    s->bought_today = calloc(n, 1);
    if (!s->satisfaction || !s->day_impressions || !s->day_opens || !s->active_prev ||
        !s->active_today || !s->searched_today || !s->new_follows || !s->day0_moved || !s->intent || !s->satiation ||
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
    free(s->day0_moved);
    free(s->satisfaction);
    free(s->day_impressions);
    free(s->day_opens);
    free(s->active_prev);
    free(s->active_today);
    free(s->searched_today);
    free(s->intent);
    free(s->satiation);
    free(s->spent_cents);
    free(s->bought_today);
    memset(s, 0, sizeof *s);
}

/* ---- state snapshots (issue 21) ---------------------------------------------------------- */

/* Per-user rows travel a chunk of users at a time; rows of structs with padding (fw_intent,
 * fw_satiation) go field by field, since their padding is indeterminate and would make two
 * snapshots of one state differ. */
#define SNAP_CHUNK 4096u
_Static_assert(sizeof(fw_intent) == 16, "fw_intent gained a field: transfer it in snap_intents");
_Static_assert(sizeof(fw_satiation) == 12, "fw_satiation gained a field: transfer it in snap_satiations");

static void snap_intents(fw_snap *s, fw_intent *v, size_t n, uint32_t n_products)
{
    uint32_t product[SNAP_CHUNK];
    float strength[SNAP_CHUNK];
    int32_t tick[SNAP_CHUNK];
    uint8_t source[SNAP_CHUNK];
    int loading = fw_snap_loading(s);
    for (size_t at = 0; at < n && !fw_snap_failed(s); at += SNAP_CHUNK) {
        size_t k = n - at < SNAP_CHUNK ? n - at : SNAP_CHUNK;
        for (size_t i = 0; i < k && !loading; i++) {
            product[i] = v[at + i].product;
            strength[i] = v[at + i].strength;
            tick[i] = v[at + i].tick;
            source[i] = v[at + i].source;
        }
        fw_snap_indexes(s, product, k, n_products, FW_NONE);
        fw_snap_array(s, strength, k, sizeof *strength);
        fw_snap_array(s, tick, k, sizeof *tick);
        fw_snap_array(s, source, k, sizeof *source);
        for (size_t i = 0; i < k && loading && !fw_snap_failed(s); i++) {
            if (source[i] >= FW_SRC__COUNT)
                fw_snap_fail(s, "an intent's source %u out of range", source[i]);
            v[at + i] = (fw_intent){.product = product[i], .strength = strength[i], .tick = tick[i], .source = source[i]};
        }
    }
}

static void snap_satiations(fw_snap *s, fw_satiation *v, size_t n, uint32_t n_topics)
{
    float level[SNAP_CHUNK];
    int32_t tick[SNAP_CHUNK];
    uint16_t topic[SNAP_CHUNK];
    int loading = fw_snap_loading(s);
    for (size_t at = 0; at < n && !fw_snap_failed(s); at += SNAP_CHUNK) {
        size_t k = n - at < SNAP_CHUNK ? n - at : SNAP_CHUNK;
        for (size_t i = 0; i < k && !loading; i++) {
            level[i] = v[at + i].level;
            tick[i] = v[at + i].tick;
            topic[i] = v[at + i].topic;
        }
        fw_snap_array(s, level, k, sizeof *level);
        fw_snap_array(s, tick, k, sizeof *tick);
        fw_snap_array(s, topic, k, sizeof *topic);
        for (size_t i = 0; i < k && loading && !fw_snap_failed(s); i++) {
            if (topic[i] >= n_topics)
                fw_snap_fail(s, "a satiation's topic %u out of range", topic[i]);
            v[at + i] = (fw_satiation){.level = level[i], .tick = tick[i], .topic = topic[i]};
        }
    }
}

/* The run's follow lists: a chunk's lengths in one array, then each non-empty list (a
 * follow of a creator each: parts index creator rows by it). */
static void snap_follows(fw_snap *s, fw_u32list *l, const fw_world *w)
{
    uint32_t len[SNAP_CHUNK];
    int loading = fw_snap_loading(s);
    for (uint32_t at = 0; at < w->n_users && !fw_snap_failed(s); at += SNAP_CHUNK) {
        uint32_t k = w->n_users - at < SNAP_CHUNK ? w->n_users - at : SNAP_CHUNK;
        for (uint32_t i = 0; i < k; i++)
            len[i] = l[at + i].n;
        fw_snap_array(s, len, k, sizeof *len);
        for (uint32_t i = 0; i < k && !fw_snap_failed(s); i++) {
            fw_u32list *x = &l[at + i];
            if (len[i] == 0)
                continue;
            fw_snap_vec32(s, (void **)&x->v, &x->n, &x->cap, sizeof *x->v, w->n_creators);
            if (!loading || fw_snap_failed(s))
                continue;
            if (x->n != len[i])
                fw_snap_fail(s, "user %u follows %u creators, %u said", at + i, x->n, len[i]);
            for (uint32_t j = 0; j < x->n && !fw_snap_failed(s); j++)
                if (x->v[j] >= w->n_users || w->creator_of[x->v[j]] < 0)
                    fw_snap_fail(s, "user %u follows user %u, no creator", at + i, x->v[j]);
        }
    }
}

/* Skipped: day_impressions, day_opens, active_today, searched_today and bought_today, which
 * fw_behaviour_end_day zeroes for every user at every day's end, before the snapshot (a day
 * starts with them at 0, as a fresh state does). */
void fw_users_snap(fw_users_state *us, const fw_world *w, fw_snap *s)
{
    uint32_t n = w->n_users;
    fw_snap_same_u32(s, n, "users");
    fw_snap_f64(s, &us->expected_ctr);
    fw_snap_array(s, us->satisfaction, n, sizeof *us->satisfaction);
    fw_snap_array(s, us->active_prev, n, sizeof *us->active_prev);
    fw_snap_array(s, us->day0_moved, (size_t)n / 64 + 1, sizeof *us->day0_moved);
    snap_follows(s, us->new_follows, w);
    snap_intents(s, us->intent, (size_t)n * FW_INTENTS, w->n_products);
    snap_satiations(s, us->satiation, (size_t)n * FW_SATIATIONS, w->n_topics);
    fw_snap_array(s, us->spent_cents, n, sizeof *us->spent_cents);
}

/* Whether u's day-0 follows are still read from the world's graph (not moved). */
static int day0_in_graph(const fw_users_state *s, uint32_t u)
{
    return !(s->day0_moved[u / 64] >> (u % 64) & 1u);
}

int fw_users_follows(const fw_world *w, const fw_users_state *s, uint32_t u, uint32_t cu)
{
    if (day0_in_graph(s, u))
        for (uint64_t k = w->follow_off[u]; k < w->follow_off[u + 1]; k++)
            if (w->follow_dst[k] == cu)
                return 1;
    const fw_u32list *l = &s->new_follows[u];
    for (uint32_t k = 0; k < l->n; k++)
        if (l->v[k] == cu)
            return 1;
    return 0;
}

uint64_t fw_users_n_follows(const fw_world *w, const fw_users_state *s, uint32_t u)
{
    return s->new_follows[u].n + (day0_in_graph(s, u) ? w->follow_off[u + 1] - w->follow_off[u] : 0);
}

/* u's day-0 follows but cu, ahead of the run's in new_follows; u's graph row is no longer
 * read. -1 out of memory (nothing changes). */
static int move_day0(const fw_world *w, fw_users_state *s, uint32_t u, uint32_t cu)
{
    fw_u32list *l = &s->new_follows[u];
    uint64_t lo = w->follow_off[u], hi = w->follow_off[u + 1];
    size_t n = (size_t)(hi - lo) - 1 + l->n;
    uint32_t *v = malloc((n ? n : 1) * sizeof *v), at = 0;
    if (!v)
        return -1;
    for (uint64_t k = lo; k < hi; k++)
        if (w->follow_dst[k] != cu)
            v[at++] = w->follow_dst[k];
    if (l->n)   /* l->v may be NULL: no run follows yet */
        memcpy(&v[at], l->v, (size_t)l->n * sizeof *v);
    free(l->v);
    l->v = v;
    l->n = l->cap = (uint32_t)n;
    s->day0_moved[u / 64] |= (uint64_t)1 << (u % 64);
    return 0;
}

int fw_users_unfollow(fw_world *w, fw_users_state *s, uint32_t u, uint32_t cu)
{
    if (day0_in_graph(s, u))
        for (uint64_t k = w->follow_off[u]; k < w->follow_off[u + 1]; k++)
            if (w->follow_dst[k] == cu) {
                if (move_day0(w, s, u, cu))
                    return -1;
                w->n_followers[cu]--;
                return 1;
            }
    fw_u32list *l = &s->new_follows[u];
    for (uint32_t k = 0; k < l->n; k++)
        if (l->v[k] == cu) {
            memmove(&l->v[k], &l->v[k + 1], (size_t)(l->n - k - 1) * sizeof *l->v);
            l->n--;
            w->n_followers[cu]--;
            return 1;
        }
    return 0;
}

double fw_behaviour_p_open(const fw_behaviour_model *m, const fw_world *w, uint32_t u, uint32_t n)
{
    const fw_behaviour_cfg *c = &m->cfg;
    return fw_sigmoid(m->b_open + c->open_affinity * fw_behaviour_affinity(w, u, n) + c->open_quality * w->note_quality[n] +
                   c->format_weight * fw_behaviour_format_match(w, u, n));
}

static double satiation_now(const fw_behaviour_model *m, const fw_world *w, const fw_satiation *x, int32_t tick)
{
    double half = m->cfg.satiation_half_life_hours * w->ticks_per_day / 24.0;
    return x->level * exp2(-(double)(tick - x->tick) / half);
}

double fw_behaviour_satiation(const fw_behaviour_model *m, const fw_world *w, const fw_users_state *s,
                              uint32_t u, uint32_t topic, int32_t tick)
{
    const fw_satiation *row = &s->satiation[(size_t)u * FW_SATIATIONS];
    for (int k = 0; k < FW_SATIATIONS; k++)
        if (row[k].level > 0.0f && row[k].topic == topic)
            return satiation_now(m, w, &row[k], tick);
    return 0.0;
}

void fw_behaviour_satiate(const fw_behaviour_model *m, const fw_world *w, fw_users_state *s, uint32_t u,
                          uint32_t topic, int32_t tick, double amount)
{
    if (m->cfg.satiation <= 0.0)
        return;
    fw_satiation *row = &s->satiation[(size_t)u * FW_SATIATIONS];
    int k = 0, least = 0;
    double least_v = INFINITY;
    for (; k < FW_SATIATIONS && !(row[k].level > 0.0f && row[k].topic == topic); k++) {
        double v = row[k].level > 0.0f ? satiation_now(m, w, &row[k], tick) : -1.0;
        if (v < least_v) {
            least_v = v;
            least = k;
        }
    }
    double now = 0.0;
    if (k == FW_SATIATIONS)
        k = least;
    else
        now = satiation_now(m, w, &row[k], tick);
    row[k] = (fw_satiation){.level = (float)(now + amount), .tick = tick, .topic = (uint16_t)topic};
}

double fw_behaviour_open_shift(const fw_behaviour_model *m, const fw_world *w, const fw_users_state *s,
                               uint32_t u, uint32_t n, int32_t tick)
{
    double shift = 0.0;
    if (m->cfg.satiation > 0.0)
        shift -= m->cfg.satiation * fw_behaviour_satiation(m, w, s, u, w->note_info[n].topic, tick);
    if (m->cfg.social_proof > 0.0)
        shift += m->cfg.social_proof * log1p((double)w->note_likes[n]);
    return shift;
}

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

void fw_behaviour_plant(const fw_behaviour_model *m, const fw_world *w, fw_users_state *s, uint32_t u,
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
    return fw_sigmoid(logit(m->cfg.return_rate) - w->product_appeal[p]);
}

void fw_behaviour_end_day(const fw_behaviour_model *m, fw_world *w, fw_users_state *s,
                          uint32_t u, gsl_rng *r)
{
    double rev = m->cfg.drift_reversion;
    if (rev > 0.0) {
        float *row = &w->interest[(size_t)u * w->n_topics], own[FW_WORLD_MAX_TOPICS];
        double theta[FW_WORLD_MAX_TOPICS];
        fw_world_own_interest(w, r, u, theta, own);
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
