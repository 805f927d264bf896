/* World generation. Heavy tails come from mechanisms, not histograms: creators' posting
 * rates are lognormal (a few write most notes), the initial corpus is allocated by those
 * rates, and follows grow by preferential attachment (Price's urn) tempered by taste
 * homophily (the best of a few urn draws by the follower's interest in the creator's niche).
 *
 * Invariants: every array has n_* (or cap_*) entries; interest rows sum to 1; notes are in
 * publication order (created tick ascending, ties by draw index); follow lists hold no
 * self-follows and no duplicates. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "flywheel/mem.h"

#include "model/rng.h"
#include "model/world.h"

/* calloc that never asks for 0 bytes, so an empty array is still a valid pointer; a large one
 * is advised onto huge pages (fw_mem_huge: rows by user are read at random). */
static void *alloc0(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    fw_mem_huge(p, n * size);
    return p;
}
#define ALLOC(p, n) ((p) = alloc0((size_t)(n), sizeof *(p)))

static uint32_t sample_cdf(const double *w, uint32_t n, double u)
{
    /* w holds weights summing to ~1; a linear walk is fine for a few dozen topics. */
    double acc = 0.0;
    for (uint32_t i = 0; i < n; i++) {
        acc += w[i];
        if (u < acc)
            return i;
    }
    return n - 1;
}

uint32_t fw_world_draw_topic(const float *w, uint32_t n, double u)
{
    double acc = 0.0;
    for (uint32_t i = 0; i < n; i++) {
        acc += w[i];
        if (u < acc)
            return i;
    }
    return n - 1;
}

static double beta_safe(gsl_rng *r, double mean, double conc)
{
    if (mean <= 0.0)
        return 0.0;
    if (mean >= 1.0)
        return 1.0;
    return gsl_ran_beta(r, mean * conc, (1.0 - mean) * conc);
}

void fw_world_draw_note(const fw_world *w, const fw_world_cfg *cfg, gsl_rng *r, uint32_t c,
                        int32_t tick, fw_new_note *out, float *emb)
{
    uint32_t topic = w->creator_niche[c];
    if (gsl_rng_uniform(r) >= cfg->niche_focus)
        topic = sample_cdf(w->topic_pop, w->n_topics, gsl_rng_uniform(r));
    out->info.creator = w->creator_user[c];
    out->info.topic = (uint16_t)topic;
    out->info.format = gsl_rng_uniform(r) < w->creator_video[c] ? FW_FORMAT_VIDEO : FW_FORMAT_IMAGE;
    out->info.created_tick = tick;
    out->quality = (float)(w->creator_skill[c] + gsl_ran_gaussian(r, cfg->note_quality_sigma));
    out->product = FW_NONE;
    for (int k = 0; k < FW_NOTE_TERMS; k++)
        out->terms[k] = FW_NONE;
    uint32_t lo = w->category_off[topic], hi = w->category_off[topic + 1];
    if (hi > lo && gsl_rng_uniform(r) < cfg->product_note_share)
        out->product = w->category_products[lo + gsl_rng_uniform_int(r, hi - lo)];
    for (uint32_t d = 0; d < w->dim; d++)
        emb[d] = w->topic_centroid[(size_t)topic * w->dim + d] + (float)gsl_ran_gaussian(r, 0.6);
}

void fw_world_draw_terms(const fw_world *w, gsl_rng *r, uint32_t topic, uint32_t *terms)
{
    int k = 0;
    for (; k < 11; k++)
        terms[k] = topic * w->terms_per_topic + (uint32_t)gsl_ran_discrete(r, w->term_pick);
    for (; k < 14; k++)
        terms[k] = w->generic_base + (uint32_t)gsl_rng_uniform_int(r, w->generic_terms);
    uint32_t other = w->n_topics > 1 ? (topic + 1 + (uint32_t)gsl_rng_uniform_int(r, w->n_topics - 1)) % w->n_topics
                                     : topic;
    terms[k++] = other * w->terms_per_topic + (uint32_t)gsl_ran_discrete(r, w->term_pick);
    for (; k < FW_NOTE_TERMS; k++)
        terms[k] = FW_NONE;
}

void fw_world_draw_title(const fw_world *w, gsl_rng *r, uint32_t category, uint32_t *terms)
{
    int k = 0;
    for (; k < FW_PRODUCT_TERMS - 1; k++)
        terms[k] = category * w->terms_per_topic + (uint32_t)gsl_ran_discrete(r, w->term_pick);
    terms[k] = w->generic_base + (uint32_t)gsl_rng_uniform_int(r, w->generic_terms);
}

/* Products' titles, once the vocabulary exists: each from the product's own stream (day 1),
 * so no other draw moves. */
static fw_err gen_titles(fw_world *w, gsl_rng *r, uint64_t seed)
{
    if (!ALLOC(w->product_terms, (size_t)w->n_products * FW_PRODUCT_TERMS))
        return FW_ERR_NOMEM;
    for (uint32_t p = 0; p < w->n_products; p++) {
        fw_rng_seek(r, seed, FW_RNG_PRODUCT, p, 1);
        fw_world_draw_title(w, r, w->product_category[p], &w->product_terms[(size_t)p * FW_PRODUCT_TERMS]);
    }
    return FW_OK;
}

/* The vocabulary's layout and the Zipf table over a topic's words (no randomness). */
static fw_err gen_vocabulary(fw_world *w, const fw_world_cfg *cfg)
{
    w->terms_per_topic = cfg->terms_per_topic;
    w->generic_terms = cfg->generic_terms;
    w->colloquial_per_topic = cfg->colloquial_per_topic;
    w->generic_base = w->n_topics * w->terms_per_topic;
    w->colloquial_base = w->generic_base + w->generic_terms;
    w->typo_base = w->colloquial_base + w->n_topics * w->colloquial_per_topic;
    w->n_terms = w->typo_base + FW_WORLD_TYPO_TERMS;
    double *zw = malloc((size_t)w->terms_per_topic * sizeof *zw);
    if (!zw)
        return FW_ERR_NOMEM;
    for (uint32_t k = 0; k < w->terms_per_topic; k++)
        zw[k] = pow(k + 1.0, -cfg->term_zipf);
    w->term_pick = gsl_ran_discrete_preproc(w->terms_per_topic, zw);
    free(zw);
    return w->term_pick ? FW_OK : FW_ERR_NOMEM;
}

static fw_err set_note_cap(fw_world *w, uint32_t cap);

static fw_err grow_notes(fw_world *w, uint32_t need)
{
    if (need <= w->cap_notes)
        return FW_OK;
    return set_note_cap(w, need > w->cap_notes + w->cap_notes / 2 ? need : w->cap_notes + w->cap_notes / 2);
}

/* Reallocates every per-note array to cap entries (cap >= n_notes). */
static fw_err set_note_cap(fw_world *w, uint32_t cap)
{
    fw_note_info *info = realloc(w->note_info, (size_t)cap * sizeof *info);
    if (!info)
        return FW_ERR_NOMEM;
    w->note_info = info;
    float *q = realloc(w->note_quality, (size_t)cap * sizeof *q);
    if (!q)
        return FW_ERR_NOMEM;
    w->note_quality = q;
    float *emb = realloc(w->note_emb, (size_t)cap * w->dim * sizeof *emb);
    if (!emb)
        return FW_ERR_NOMEM;
    w->note_emb = emb;
    uint32_t *p = realloc(w->note_product, (size_t)cap * sizeof *p);
    if (!p)
        return FW_ERR_NOMEM;
    w->note_product = p;
    uint32_t *nt = realloc(w->note_terms, (size_t)cap * FW_NOTE_TERMS * sizeof *nt);
    if (!nt)
        return FW_ERR_NOMEM;
    w->note_terms = nt;
    uint32_t *likes = realloc(w->note_likes, (size_t)cap * sizeof *likes);
    if (!likes)
        return FW_ERR_NOMEM;
    w->note_likes = likes;
    w->cap_notes = cap;
    /* Sessions read notes' rows at random (open probabilities, search, products). */
    fw_mem_huge(info, (size_t)cap * sizeof *info);
    fw_mem_huge(q, (size_t)cap * sizeof *q);
    fw_mem_huge(emb, (size_t)cap * w->dim * sizeof *emb);
    fw_mem_huge(p, (size_t)cap * sizeof *p);
    fw_mem_huge(nt, (size_t)cap * FW_NOTE_TERMS * sizeof *nt);
    fw_mem_huge(likes, (size_t)cap * sizeof *likes);
    return FW_OK;
}

fw_err fw_world_reserve_notes(fw_world *w, uint32_t cap)
{
    return cap > w->cap_notes ? set_note_cap(w, cap) : FW_OK;
}

fw_err fw_world_add_note(fw_world *w, const fw_new_note *n, const float *emb, uint32_t *id)
{
    fw_err rc = grow_notes(w, w->n_notes + 1);
    if (rc != FW_OK)
        return rc;
    uint32_t k = w->n_notes++;
    w->note_info[k] = n->info;
    w->note_quality[k] = n->quality;
    w->note_product[k] = n->product;
    w->note_likes[k] = 0;
    memcpy(&w->note_terms[(size_t)k * FW_NOTE_TERMS], n->terms, sizeof n->terms);
    memcpy(&w->note_emb[(size_t)k * w->dim], emb, w->dim * sizeof *emb);
    *id = k;
    return FW_OK;
}

static fw_err gen_topics(fw_world *w, const fw_world_cfg *cfg, gsl_rng *r, uint64_t seed)
{
    if (!ALLOC(w->topic_pop, w->n_topics) || !ALLOC(w->topic_centroid, (size_t)w->n_topics * w->dim))
        return FW_ERR_NOMEM;
    fw_rng_seek(r, seed, FW_RNG_TOPICS, 0, 0);
    double sum = 0.0;
    for (uint32_t t = 0; t < w->n_topics; t++)
        sum += w->topic_pop[t] = pow(t + 1.0, -cfg->topic_zipf);
    for (uint32_t t = 0; t < w->n_topics; t++)
        w->topic_pop[t] /= sum;
    for (size_t i = 0; i < (size_t)w->n_topics * w->dim; i++)
        w->topic_centroid[i] = (float)gsl_ran_gaussian(r, 1.0);
    return FW_OK;
}

/* The first draws of user u's stream: interests over T topics into row[T]. */
static void draw_interest(gsl_rng *r, uint64_t seed, uint32_t u, uint32_t T, const double *alpha, double *theta,
                          float *row)
{
    fw_rng_seek(r, seed, FW_RNG_USER, u, 0);
    gsl_ran_dirichlet(r, T, alpha, theta);
    double s = 0.0;
    for (uint32_t t = 0; t < T; t++)
        s += theta[t];
    for (uint32_t t = 0; t < T; t++)
        row[t] = (float)(s > 0.0 ? theta[t] / s : 1.0 / T);
}

void fw_world_own_interest(const fw_world *w, gsl_rng *r, uint32_t u, double *theta, float *out)
{
    draw_interest(r, w->seed, u, w->n_topics, w->interest_alpha, theta, out);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#define PILOT_DECILES 10

/* A user's bucket for the pilot's handover: their own favourite topic and the decile (bounds
 * lim[0..8], the pilot's) of their activity, the world's p_active x sessions a day. */
static uint32_t pilot_bucket(const fw_world *w, uint32_t u, const float *own, const double *lim)
{
    uint32_t top = 0, dec = 0;
    for (uint32_t t = 1; t < w->n_topics; t++)
        if (own[t] > own[top])
            top = t;
    double a = (double)w->p_active[u] * w->session_rate[u];
    while (dec < PILOT_DECILES - 1 && a > lim[dec])
        dec++;
    return top * PILOT_DECILES + dec;
}

/* The pilot's handover (world.h). Pilot users are found again by the rule (P of them among
 * the first N at most); their drifts are kept, bucketed by counting sort, then every other
 * user of the first N is served in id order. */
int fw_world_pilot_handover(fw_world *w, gsl_rng *r, uint32_t N, uint32_t P)
{
    uint32_t T = w->n_topics, B = T * PILOT_DECILES;
    double theta[FW_WORLD_MAX_TOPICS], lim[PILOT_DECILES - 1];
    float own[FW_WORLD_MAX_TOPICS];
    double *act = malloc((size_t)P * sizeof *act);
    float *drift = malloc((size_t)P * T * sizeof *drift);
    uint32_t *off = calloc((size_t)B + 1, sizeof *off), *member = malloc((size_t)P * sizeof *member),
             *bucket = malloc((size_t)P * sizeof *bucket), *pid = malloc((size_t)P * sizeof *pid);
    int rc = -1;
    if (!act || !drift || !off || !member || !bucket || !pid)
        goto done;
    uint32_t k = 0;
    for (uint32_t u = 0; u < N && k < P; u++)
        if (fw_world_in_pilot(u, P, N)) {
            act[k] = (double)w->p_active[u] * w->session_rate[u];
            pid[k++] = u;
        }
    P = k;
    if (P == 0)
        goto ok;
    qsort(act, P, sizeof *act, cmp_double);
    for (uint32_t d = 0; d < PILOT_DECILES - 1; d++)
        lim[d] = act[(size_t)(d + 1) * P / PILOT_DECILES < P ? (size_t)(d + 1) * P / PILOT_DECILES : P - 1];
    for (uint32_t i = 0; i < P; i++) {
        uint32_t v = pid[i];
        fw_world_own_interest(w, r, v, theta, own);
        for (uint32_t t = 0; t < T; t++)
            drift[(size_t)i * T + t] = w->interest[(size_t)v * T + t] - own[t];
        bucket[i] = pilot_bucket(w, v, own, lim);
        off[bucket[i] + 1]++;
    }
    for (uint32_t b = 0; b < B; b++)
        off[b + 1] += off[b];
    for (uint32_t i = 0; i < P; i++)   /* counting sort: each bucket's pilot users in id order */
        member[off[bucket[i]]++] = i;
    for (uint32_t b = B; b > 0; b--)
        off[b] = off[b - 1];
    off[0] = 0;
    for (uint32_t u = 0; u < N; u++) {
        if (fw_world_in_pilot(u, P, N))
            continue;
        fw_world_own_interest(w, r, u, theta, own);
        uint32_t b = pilot_bucket(w, u, own, lim), base = b - b % PILOT_DECILES, dec = b % PILOT_DECILES;
        /* The user's decile, else the nearest with a pilot user (lower first). */
        for (uint32_t step = 1; off[b + 1] == off[b] && step < PILOT_DECILES; step++)
            if (dec >= step && off[base + dec - step + 1] > off[base + dec - step])
                b = base + dec - step;
            else if (dec + step < PILOT_DECILES && off[base + dec + step + 1] > off[base + dec + step])
                b = base + dec + step;
        if (off[b + 1] == off[b])
            continue;
        uint32_t n = off[b + 1] - off[b];
        const float *dv = &drift[(size_t)member[off[b] + fw_hash64(w->seed ^ ((uint64_t)u << 24) ^ 0x70696c6f74ull) % n] * T];
        float *row = &w->interest[(size_t)u * T];
        double sum = 0.0, x[FW_WORLD_MAX_TOPICS];
        for (uint32_t t = 0; t < T; t++) {
            x[t] = (double)own[t] + dv[t];
            x[t] = x[t] > 0.0 ? x[t] : 0.0;
            sum += x[t];
        }
        for (uint32_t t = 0; t < T; t++)
            row[t] = sum > 0.0 ? (float)(x[t] / sum) : own[t];
    }
ok:
    rc = 0;
done:
    free(act);
    free(drift);
    free(off);
    free(member);
    free(bucket);
    free(pid);
    return rc;
}

/* User u's hidden traits (stream FW_RNG_USER of u): interests (alpha: the Dirichlet's
 * parameters, theta: scratch, n_topics each), taste, activity, formats, search, shopping.
 * Returns the draw that decides whether u is a creator (below creator_share). */
static double draw_user(fw_world *w, const fw_world_cfg *cfg, gsl_rng *r, uint64_t seed, uint32_t u,
                        const double *alpha, double *theta)
{
    uint32_t T = w->n_topics, D = w->dim;
    float *row = &w->interest[(size_t)u * T];
    draw_interest(r, seed, u, T, alpha, theta, row);
    for (uint32_t d = 0; d < D; d++) {
        double x = 0.0;
        for (uint32_t t = 0; t < T; t++)
            x += row[t] * w->topic_centroid[(size_t)t * D + d];
        w->taste[(size_t)u * D + d] = (float)(x + gsl_ran_gaussian(r, 0.5));
    }
    double p = gsl_ran_beta(r, cfg->activity_a, cfg->activity_b);
    w->p_active[u] = (float)(p > 0.98 ? 0.98 : p);
    double rate = gsl_ran_gamma(r, cfg->sessions_shape, cfg->sessions_mean / cfg->sessions_shape);
    w->session_rate[u] = (float)(rate < 1.0 ? 1.0 : rate);
    w->video_pref[u] = (float)(2.0 * gsl_ran_beta(r, 2.0, 2.0) - 1.0);
    w->search_prop[u] = (float)gsl_ran_beta(r, 2.0, 2.0);
    w->purchase_prop[u] = (float)gsl_ran_beta(r, 1.0, 30.0);
    w->price_sens[u] = (float)gsl_ran_lognormal(r, 0.0, 0.5);
    w->budget_cents[u] = (int64_t)llround(gsl_ran_lognormal(r, log(cfg->budget_median_cents), 1.0));
    return gsl_rng_uniform(r);
}

static fw_err gen_users(fw_world *w, const fw_world_cfg *cfg, gsl_rng *r, uint64_t seed)
{
    uint32_t n = w->n_users, T = w->n_topics, D = w->dim;
    if (!ALLOC(w->interest, (size_t)n * T) || !ALLOC(w->interest_alpha, T) ||
        !ALLOC(w->taste, (size_t)n * D) ||
        !ALLOC(w->p_active, n) || !ALLOC(w->session_rate, n) || !ALLOC(w->video_pref, n) ||
        !ALLOC(w->search_prop, n) || !ALLOC(w->purchase_prop, n) || !ALLOC(w->price_sens, n) ||
        !ALLOC(w->budget_cents, n) || !ALLOC(w->creator_of, n))
        return FW_ERR_NOMEM;
    double *alpha = w->interest_alpha, *theta = malloc(T * sizeof *theta);
    if (!theta)
        return FW_ERR_NOMEM;
    w->seed = seed;
    for (uint32_t t = 0; t < T; t++)
        alpha[t] = cfg->interest_concentration * T * w->topic_pop[t];
    uint32_t n_creators = 0, closest = 0;
    double closest_draw = 2.0;
    for (uint32_t u = 0; u < n; u++) {
        double draw = draw_user(w, cfg, r, seed, u, alpha, theta);
        w->creator_of[u] = draw < cfg->creator_share ? (int32_t)n_creators++ : -1;
        if (draw < closest_draw) {
            closest_draw = draw;
            closest = u;
        }
    }
    /* Notes exist only if someone posts: a positive creator_share too small for this many
     * users to draw a creator (0.001 of 200 users, often) still gives one, the user whose draw
     * came closest, rather than a world of no notes. The scenario refuses creator_share 0. */
    if (n_creators == 0 && cfg->creator_share > 0.0 && n > 0)
        w->creator_of[closest] = (int32_t)n_creators++;
    free(theta);
    w->n_creators = n_creators;
    return FW_OK;
}

static fw_err gen_creators(fw_world *w, const fw_world_cfg *cfg, gsl_rng *r, uint64_t seed)
{
    uint32_t nc = w->n_creators, T = w->n_topics;
    if (!ALLOC(w->creator_user, nc) || !ALLOC(w->creator_niche, nc) || !ALLOC(w->creator_rate, nc) ||
        !ALLOC(w->creator_skill, nc) || !ALLOC(w->creator_video, nc))
        return FW_ERR_NOMEM;
    double mean_active = 0.0;
    for (uint32_t u = 0; u < w->n_users; u++)
        mean_active += w->p_active[u];
    /* Expected new notes per day = notes_per_dau * E[DAU], shared by lognormal rates. */
    double total = cfg->notes_per_dau * mean_active;
    double mean_rate = nc ? total / nc : 0.0;
    double sigma = cfg->creator_rate_sigma;
    double mu = mean_rate > 0.0 ? log(mean_rate) - 0.5 * sigma * sigma : 0.0;
    for (uint32_t u = 0; u < w->n_users; u++) {
        int32_t c = w->creator_of[u];
        if (c < 0)
            continue;
        fw_rng_seek(r, seed, FW_RNG_CREATOR, u, 0);
        w->creator_user[c] = u;
        w->creator_niche[c] = (uint16_t)fw_world_draw_topic(&w->interest[(size_t)u * T], T, gsl_rng_uniform(r));
        w->creator_rate[c] = mean_rate > 0.0 ? (float)gsl_ran_lognormal(r, mu, sigma) : 0.0f;
        w->creator_skill[c] = (float)gsl_ran_gaussian(r, cfg->creator_skill_sigma);
        w->creator_video[c] = (float)beta_safe(r, cfg->video_share, 4.0);
    }
    return FW_OK;
}

static fw_err gen_commerce(fw_world *w, const fw_world_cfg *cfg, gsl_rng *r, uint64_t seed)
{
    uint32_t nb = w->n_brands, np = w->n_products, T = w->n_topics;
    if (!ALLOC(w->brand_category, nb) || !ALLOC(w->brand_budget_cents, nb) ||
        !ALLOC(w->product_brand, np) || !ALLOC(w->product_category, np) ||
        !ALLOC(w->product_price_cents, np) || !ALLOC(w->product_stock, np) ||
        !ALLOC(w->product_appeal, np) || !ALLOC(w->category_off, T + 1) ||
        !ALLOC(w->category_products, np))
        return FW_ERR_NOMEM;
    for (uint32_t b = 0; b < nb; b++) {
        fw_rng_seek(r, seed, FW_RNG_BRAND, b, 0);
        w->brand_category[b] = (uint16_t)sample_cdf(w->topic_pop, T, gsl_rng_uniform(r));
        w->brand_budget_cents[b] = (int64_t)llround(gsl_ran_lognormal(r, log(1.0e7), 1.0));
    }
    double stock_sigma = 1.0, stock_mu = log(cfg->stock_mean > 0 ? cfg->stock_mean : 1.0) - 0.5;
    for (uint32_t p = 0; p < np; p++) {
        fw_rng_seek(r, seed, FW_RNG_PRODUCT, p, 0);
        uint32_t b = (uint32_t)gsl_rng_uniform_int(r, nb);
        w->product_brand[p] = b;
        w->product_category[p] = w->brand_category[b];
        /* Capped at the engine's FW_PRICE_MAX_CENTS (10^13 CNY): reached only in the far tail
         * of extreme settings (median 1e9 cents, sigma 5), where an uncapped draw could pass
         * what int64 cents hold. */
        double price = gsl_ran_lognormal(r, log(cfg->price_median_cents), cfg->price_sigma);
        w->product_price_cents[p] = price < 1.0                         ? 1
                                    : price >= (double)FW_PRICE_MAX_CENTS ? FW_PRICE_MAX_CENTS
                                                                          : (int64_t)llround(price);
        w->product_stock[p] = cfg->stock_mean > 0
                                  ? (uint32_t)llround(gsl_ran_lognormal(r, stock_mu, stock_sigma))
                                  : 0;
        w->product_appeal[p] = (float)gsl_ran_gaussian(r, 1.0);
        w->category_off[w->product_category[p] + 1]++;
    }
    for (uint32_t t = 0; t < T; t++)
        w->category_off[t + 1] += w->category_off[t];
    uint32_t *fill = malloc((T + 1) * sizeof *fill);
    if (!fill)
        return FW_ERR_NOMEM;
    memcpy(fill, w->category_off, (T + 1) * sizeof *fill);
    for (uint32_t p = 0; p < np; p++)
        w->category_products[fill[w->product_category[p]]++] = p;
    free(fill);
    return FW_OK;
}

/* Campaigns: a random brand; CPM, CPC or conversion objective with equal odds; lognormal
 * bids around the knobs' medians (sigma 0.5) and budgets (sigma 1); half target the brand's
 * category, half everyone. The creative is the first note showing one of the brand's
 * products, else the first note of its category, else note 0. */
static fw_err gen_campaigns(fw_world *w, const fw_world_cfg *cfg, gsl_rng *r, uint64_t seed)
{
    uint32_t n = w->n_notes && w->n_brands ? cfg->n_campaigns : 0;
    w->n_campaigns = n;
    if (n == 0)
        return FW_OK;
    if (!ALLOC(w->campaigns, n))
        return FW_ERR_NOMEM;
    uint32_t *by_brand = malloc((size_t)w->n_brands * sizeof *by_brand);
    uint32_t *by_topic = malloc((size_t)w->n_topics * sizeof *by_topic);
    if (!by_brand || !by_topic) {
        free(by_brand);
        free(by_topic);
        return FW_ERR_NOMEM;
    }
    for (uint32_t b = 0; b < w->n_brands; b++)
        by_brand[b] = FW_NONE;
    for (uint32_t t = 0; t < w->n_topics; t++)
        by_topic[t] = FW_NONE;
    for (uint32_t k = 0; k < w->n_notes; k++) {
        uint32_t p = w->note_product[k], t = w->note_info[k].topic;
        if (p != FW_NONE && by_brand[w->product_brand[p]] == FW_NONE)
            by_brand[w->product_brand[p]] = k;
        if (by_topic[t] == FW_NONE)
            by_topic[t] = k;
    }
    for (uint32_t c = 0; c < n; c++) {
        fw_rng_seek(r, seed, FW_RNG_CAMPAIGN, c, 0);
        fw_campaign_info *ci = &w->campaigns[c];
        ci->brand = (uint32_t)gsl_rng_uniform_int(r, w->n_brands);
        ci->objective = (uint32_t)gsl_rng_uniform_int(r, FW_OBJ__COUNT);
        double median = ci->objective == FW_OBJ_CPM   ? cfg->cpm_bid_cents
                        : ci->objective == FW_OBJ_CPC ? cfg->cpc_bid_cents
                                                      : cfg->cpa_bid_cents;
        double bid = gsl_ran_lognormal(r, log(median), 0.5);
        ci->bid_cents = bid < 1.0 ? 1 : (int64_t)llround(bid);
        double budget = gsl_ran_lognormal(r, log(cfg->ad_budget_cents), 1.0);
        ci->daily_budget_cents = budget < 1.0 ? 1 : (int64_t)llround(budget);
        uint32_t cat = w->brand_category[ci->brand];
        ci->target_topic = gsl_rng_uniform(r) < 0.5 ? cat : FW_NONE;
        ci->creative = by_brand[ci->brand] != FW_NONE ? by_brand[ci->brand]
                       : by_topic[cat] != FW_NONE    ? by_topic[cat]
                                                     : 0;
        /* Goals (autobidding), drawn after everything above so that with no goal shares the
         * campaigns are as before: billed per impression, the drawn bid times 5 as the most
         * it pays per thousand, a target around the knobs' medians. */
        double goal_share = cfg->goal_max_conversions + cfg->goal_target_cpa + cfg->goal_target_roas;
        if (goal_share > 0.0) {
            double u = gsl_rng_uniform(r);
            ci->goal = u < cfg->goal_max_conversions                            ? FW_GOAL_MAX_CONVERSIONS
                       : u < cfg->goal_max_conversions + cfg->goal_target_cpa ? FW_GOAL_TARGET_CPA
                       : u < goal_share                                        ? FW_GOAL_TARGET_ROAS
                                                                               : FW_GOAL_MANUAL;
            double cpm = gsl_ran_lognormal(r, log(cfg->cpm_bid_cents), 0.5);
            double target = ci->goal == FW_GOAL_TARGET_ROAS ? gsl_ran_lognormal(r, log(cfg->target_roas), 0.3)
                                                            : gsl_ran_lognormal(r, log(cfg->cpa_bid_cents), 0.5);
            if (ci->goal != FW_GOAL_MANUAL) {
                ci->objective = FW_OBJ_CPM;
                ci->bid_cents = 5.0 * cpm < 1.0 ? 1 : (int64_t)llround(5.0 * cpm);
                ci->target = target;
            }
        }
        /* Joining advertisers, from a stream of their own so that the terms above are as
         * without them. */
        if (cfg->join_share > 0.0) {
            fw_rng_seek(r, seed, FW_RNG_CAMPAIGN, c, 1);
            if (gsl_rng_uniform(r) < cfg->join_share)
                ci->first_day = 1 + (uint32_t)gsl_rng_uniform_int(r, cfg->join_days);
        }
    }
    free(by_brand);
    free(by_topic);
    return FW_OK;
}

typedef struct note_order {
    int32_t tick;
    uint32_t index;
} note_order;

static int cmp_note_order(const void *a, const void *b)
{
    const note_order *x = a, *y = b;
    if (x->tick != y->tick)
        return x->tick < y->tick ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* The long phases (notes, follows) also look at *stop every few thousand items: at 500k
 * users each takes seconds. */
#define STOP_EVERY 4096

static fw_err gen_notes(fw_world *w, const fw_world_cfg *cfg, gsl_rng *r, uint64_t seed,
                        const volatile sig_atomic_t *stop)
{
    uint32_t n = cfg->n_notes, D = w->dim;
    fw_err rc = FW_ERR_NOMEM;
    if (grow_notes(w, n) != FW_OK)
        return FW_ERR_NOMEM;
    if (w->n_creators == 0)
        return FW_OK;
    double *rates = malloc((size_t)w->n_creators * sizeof *rates);
    note_order *order = malloc((size_t)n * sizeof *order);
    fw_new_note *tmp = malloc((size_t)n * sizeof *tmp);
    float *emb = malloc((size_t)n * D * sizeof *emb);
    gsl_ran_discrete_t *pick = NULL;
    if (!rates || !order || !tmp || !emb)
        goto out;
    double total = 0.0;
    for (uint32_t c = 0; c < w->n_creators; c++)
        total += rates[c] = w->creator_rate[c];
    if (total <= 0.0)
        for (uint32_t c = 0; c < w->n_creators; c++)
            rates[c] = 1.0;
    if (!(pick = gsl_ran_discrete_preproc(w->n_creators, rates)))
        goto out;
    /* With a warm-up (world.warmup_days) its days publish the latest notes: the initial ones
     * come before it. */
    double span = cfg->history_days * w->ticks_per_day;
    int32_t before = (int32_t)(cfg->warmup_days * w->ticks_per_day);
    for (uint32_t i = 0; i < n; i++) {
        if (i % STOP_EVERY == 0 && stop && *stop) {
            rc = FW_ERR_INTERRUPT;
            goto out;
        }
        fw_rng_seek(r, seed, FW_RNG_NOTE, i, 0);
        uint32_t c = (uint32_t)gsl_ran_discrete(r, pick);
        int32_t tick = -1 - before - (int32_t)floor(gsl_rng_uniform(r) * span);
        fw_world_draw_note(w, cfg, r, c, tick, &tmp[i], &emb[(size_t)i * D]);
        /* The text from its own stream, so the rest of the world does not depend on it. */
        fw_rng_seek(r, seed, FW_RNG_TEXT, i, 0);
        fw_world_draw_terms(w, r, tmp[i].info.topic, tmp[i].terms);
        order[i].tick = tick;
        order[i].index = i;
    }
    qsort(order, n, sizeof *order, cmp_note_order);
    for (uint32_t k = 0; k < n; k++) {
        uint32_t id;   /* cannot fail: capacity for n notes was reserved above */
        (void)fw_world_add_note(w, &tmp[order[k].index], &emb[(size_t)order[k].index * D], &id);
    }
    w->n_notes_generated = w->n_notes;
    rc = FW_OK;
out:
    gsl_ran_discrete_free(pick);
    free(rates);
    free(order);
    free(tmp);
    free(emb);
    return rc;
}

/* A uniform index in [0, n): gsl_rng_uniform_int below the generator's 32-bit range (the
 * draws of every world that fits), two 32-bit draws beyond it, where gsl_rng_uniform_int
 * would fail (the urn grows past 2^32 entries with the follow graph). */
static size_t uniform_index(gsl_rng *r, size_t n)
{
    if (n <= gsl_rng_max(r) - gsl_rng_min(r))
        return (size_t)gsl_rng_uniform_int(r, n);
    uint64_t hi = gsl_rng_get(r), lo = gsl_rng_get(r);
    return (size_t)(((hi << 32) | lo) % n);  /* bias below n / 2^64: nil */
}

/* Pass 1 of either graph: how many creators each user follows, into follow_off (CSR offsets)
 * and n_follow_edges; allocates follow_off, follow_dst and n_followers. */
static fw_err follow_counts(fw_world *w, const fw_world_cfg *cfg, gsl_rng *r, uint64_t seed)
{
    uint32_t n = w->n_users, nc = w->n_creators;
    if (!ALLOC(w->follow_off, (size_t)n + 1) || !ALLOC(w->n_followers, n))
        return FW_ERR_NOMEM;
    /* Pass 1: how many creators each user follows (heavy-tailed: Poisson-Gamma). Edge counts
     * and offsets are 64-bit: n_users x FW_WORLD_MAX_FOLLOWS reaches far past 2^32. */
    uint64_t total = 0;
    for (uint32_t u = 0; u < n; u++) {
        fw_rng_seek(r, seed, FW_RNG_FOLLOW, u, 0);
        uint32_t k = 0;
        if (nc > 1 && cfg->follows_mean > 0.0) {
            double g = gsl_ran_gamma(r, 0.7, cfg->follows_mean / 0.7);
            k = gsl_ran_poisson(r, g);
            uint32_t most = w->creator_of[u] >= 0 ? nc - 1 : nc;
            if (k > most)
                k = most;
            if (k > FW_WORLD_MAX_FOLLOWS)
                k = FW_WORLD_MAX_FOLLOWS;
        }
        w->follow_off[u + 1] = k;
        total += k;
    }
    for (uint32_t u = 0; u < n; u++)
        w->follow_off[u + 1] += w->follow_off[u];
    w->n_follow_edges = total;
    if (!ALLOC(w->follow_dst, total))
        return FW_ERR_NOMEM;
    return FW_OK;
}

/* The static graph (world.follow_graph: static, the graph before issue 18): every creator is
 * in the urn from the start, so the urn is a Polya urn over a fixed set and the follower tail
 * comes out exponential, not heavy. Kept unchanged so that scenarios pinned to it give the
 * same worlds. */
static fw_err follow_static(fw_world *w, const fw_world_cfg *cfg, gsl_rng *r, uint64_t seed,
                            const volatile sig_atomic_t *stop)
{
    uint32_t n = w->n_users, nc = w->n_creators, T = w->n_topics;
    uint64_t total = w->n_follow_edges;
    /* Pass 2: Price's urn. The urn holds each creator once plus once per follower, so a
     * uniform urn draw picks creators in proportion to followers + 1. */
    uint32_t *urn = malloc(((size_t)nc + total) * sizeof *urn);
    if (!urn)
        return FW_ERR_NOMEM;
    size_t urn_n = 0;
    for (uint32_t c = 0; c < nc; c++)
        urn[urn_n++] = c;
    for (uint32_t u = 0; u < n; u++) {
        if (stop && *stop) {   /* every user: one may take milliseconds */
            free(urn);
            return FW_ERR_INTERRUPT;
        }
        uint64_t lo = w->follow_off[u], hi = w->follow_off[u + 1], filled = lo;
        if (lo == hi)
            continue;
        fw_rng_seek(r, seed, FW_RNG_FOLLOW, u, 1);
        const float *row = &w->interest[(size_t)u * T];
        for (uint64_t k = lo; k < hi; k++) {
            for (int attempt = 0; attempt < 16; attempt++) {
                /* Draw every choice first and prefetch its urn slot: the urn is far larger
                 * than the cache, and overlapping the misses makes this loop several times
                 * faster for a million users. */
                size_t slot[64];
                int uniform[64];
                uint32_t choices = cfg->follow_choices < 64 ? cfg->follow_choices : 64;
                for (uint32_t j = 0; j < choices; j++) {
                    uniform[j] = gsl_rng_uniform(r) < cfg->follow_uniform;
                    slot[j] = uniform[j] ? gsl_rng_uniform_int(r, nc) : uniform_index(r, urn_n);
                    if (!uniform[j])
                        __builtin_prefetch(&urn[slot[j]]);
                }
                uint32_t best = 0;
                float best_aff = -1.0f;
                for (uint32_t j = 0; j < choices; j++) {
                    uint32_t c = uniform[j] ? (uint32_t)slot[j] : urn[slot[j]];
                    float aff = row[w->creator_niche[c]];
                    if (aff > best_aff) {
                        best_aff = aff;
                        best = c;
                    }
                }
                uint32_t cu = w->creator_user[best];
                int dup = cu == u;
                for (uint64_t j = lo; j < filled && !dup; j++)
                    dup = w->follow_dst[j] == cu;
                if (dup)
                    continue;
                w->follow_dst[filled++] = cu;
                w->n_followers[cu]++;
                urn[urn_n++] = best;
                break;
            }
        }
        /* Rare: no fresh creator found in 16 attempts. Compact so CSR stays dense. */
        if (filled < hi) {
            uint64_t missing = hi - filled;
            memmove(&w->follow_dst[filled], &w->follow_dst[hi],
                    (size_t)(w->follow_off[n] - hi) * sizeof *w->follow_dst);
            for (uint32_t v = u + 1; v <= n; v++)
                w->follow_off[v] -= missing;
            w->n_follow_edges -= missing;
        }
    }
    free(urn);
    return FW_OK;
}

/* How many events ahead the growth loop draws a follow's first candidates (stage 1: fetch
 * their urn slots) and reads those slots (stage 2: fetch their vectors); the ring holds the
 * draws of the events in between. */
#define AHEAD_1 8
#define AHEAD_2 4
#define AHEAD_RING 16

/* Follow event i's streams (FOLLOW, entity i mod 2^32): part 0 its first candidates, part 1
 * the rest. The days, 3 + 2 (i / 2^32) + part, stay clear of the user-keyed FOLLOW streams'
 * (0 to 2). */
static void event_stream(gsl_rng *r, uint64_t seed, uint64_t i, uint32_t part)
{
    fw_rng_seek(r, seed, FW_RNG_FOLLOW, (uint32_t)i, 3 + 2 * (uint32_t)(i >> 32) + part);
}

/* A position in [0, n) from 64 random bits x (multiply-shift; bias below n / 2^64). */
static uint64_t below(uint64_t x, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)x * n) >> 64);
}

/* One candidate's draws: 64 random bits for its position, the lowest set when it is drawn
 * uniformly (probability p_uniform) rather than from the urn. */
static uint64_t draw_candidate(gsl_rng *r, double p_uniform)
{
    int uniform = gsl_rng_uniform(r) < p_uniform;
    uint64_t hi = gsl_rng_get(r);
    return ((hi << 32 | gsl_rng_get(r)) & ~(uint64_t)1) | (uint64_t)uniform;
}

/* The creator index a candidate's draws x pick among `arrived` creators and an urn of
 * n_targets follows so far; *slot gets its urn slot (events[*slot]) or UINT64_MAX. */
static uint32_t candidate_at(uint64_t x, uint32_t arrived, uint64_t n_targets, uint64_t *slot)
{
    *slot = UINT64_MAX;
    if (x & 1)
        return (uint32_t)below(x, arrived);
    uint64_t at = below(x, arrived + n_targets);
    if (at < arrived)
        return (uint32_t)at;
    *slot = at - arrived;
    return FW_NONE;
}

/* Whether row[0, n) holds v. */
static int follows_already(const uint32_t *row, uint32_t n, uint32_t v)
{
    for (uint32_t j = 0; j < n; j++)
        if (row[j] == v)
            return 1;
    return 0;
}

/* row[0, T) scaled to unit length, in 1/255ths: the cosine of two rows is then an integer dot
 * product (exact, so the same on every build), within about 1% of the float cosine. */
static void unit_vector(const float *row, uint32_t T, uint8_t *out)
{
    double ss = 0.0;
    for (uint32_t t = 0; t < T; t++)
        ss += (double)row[t] * row[t];
    float scale = ss > 0.0 ? (float)(255.0 / sqrt(ss)) : 0.0f;
    for (uint32_t t = 0; t < T; t++)
        out[t] = (uint8_t)(row[t] * scale + 0.5f);
}

/* The cosine of two unit vectors in units of 255^-2 (integers: exact in any order). */
static uint32_t unit_cos(const uint8_t *a, const uint8_t *b, uint32_t T)
{
    uint32_t cos = 0;
#pragma omp simd reduction(+ : cos)
    for (uint32_t x = 0; x < T; x++)
        cos += (uint32_t)a[x] * b[x];
    return cos;
}

/* The grown graph (world.follow_graph: growth). The day-0 graph is the end of a growth process
 * over simulated history, so that the follower distribution is an outcome, not an input:
 *
 * - Arrival. Users arrive one per step in id order (their traits are drawn independently per
 *   id, so id order is a random order); a creator becomes followable on arrival. Each user
 *   makes the follows pass 1 gave them at steps drawn uniformly from their arrival to day 0
 *   (a steady rate over their life on the platform), so a late creator still gains followers
 *   from those already there and the first users are not confined to the first creators.
 * - Preferential attachment (Barabasi & Albert 1999; Price 1976 for directed graphs): a
 *   candidate comes from the urn that holds every arrived creator once plus once per follower
 *   so far, so in proportion to followers + 1; with probability follow_uniform it is drawn
 *   uniformly among the arrived creators instead (discovery that ignores popularity, which acts
 *   as an initial attractiveness: Dorogovtsev, Mendes & Samukhin 2000).
 * - Interest homophily: of follow_choices candidates the follower takes the one whose interest
 *   vector is nearest theirs (cosine): popularity and similarity trade off as in Papadopoulos
 *   et al. (2012, "Popularity versus similarity in growing networks", Nature 489), here in a
 *   tournament form that keeps the attachment linear in followers.
 * - Reciprocity among small accounts (Kumar, Novak & Tomkins 2006; Kwak et al. 2010 measured
 *   22% of Twitter's follows reciprocated, between accounts of similar size far more than
 *   with celebrities): when a creator with no more followers than follows makes a follow, it
 *   is, with probability follow_reciprocity, a follow-back of one of the last two creators who
 *   followed it and whom it does not follow yet.
 * No knob sets the shape of the follower distribution. (In Price's model, m follows per new
 * account and an initial attractiveness a give a tail exponent 2 + a/m; here a comes from the
 * uniform share and m from follows_mean / creator_share, homophily and reciprocity bend it,
 * and the heavy tail is what growth does with them.)
 *
 * Memory: one uint32 per follow (the follow events by step) that doubles as the urn: event i's
 * follower is read before anything is written at an index <= i, and the targets drawn so far
 * (creator indexes) are events[0, n_targets). Users' and creators' interests are held as
 * unit vectors in bytes (one cache line each at 32 topics): n_users x n_topics bytes more
 * while the graph grows. Deterministic: serial; the steps of a user's follows come from its
 * FOLLOW stream (entity user, day 2); each follow's first candidates from its own stream and
 * its follow-back coin and further candidates from a second (event_stream: events are numbered
 * by step, then follower, then draw), which lets the loop draw an event's first candidates a
 * few events ahead and fetch their urn slots and vectors before it needs them. Creator indexes
 * are in user id order (gen_users). */
static fw_err follow_growth(fw_world *w, const fw_world_cfg *cfg, gsl_rng *r, uint64_t seed,
                            const volatile sig_atomic_t *stop)
{
    uint32_t n = w->n_users, nc = w->n_creators, T = w->n_topics;
    uint64_t total = w->n_follow_edges;
    if (total == 0)
        return FW_OK;
    fw_err rc = FW_ERR_NOMEM;
    uint32_t choices = cfg->follow_choices < 64 ? cfg->follow_choices : 64, arrived = 0;
    uint64_t *step_end = calloc((size_t)n + 1, sizeof *step_end);
    uint32_t *events = malloc(total * sizeof *events);
    uint32_t *filled = calloc(n, sizeof *filled);
    uint32_t *backs = malloc(2 * (size_t)nc * sizeof *backs);
    uint8_t *unit = malloc((size_t)nc * T), *user_unit = malloc((size_t)n * T);
    /* The growth loop reads these, the urn (events) and the follow rows at random. */
    fw_mem_huge(events, total * sizeof *events);
    fw_mem_huge(unit, (size_t)nc * T);
    fw_mem_huge(user_unit, (size_t)n * T);
    fw_mem_huge(filled, (size_t)n * sizeof *filled);
    uint64_t *ring = malloc(AHEAD_RING * (size_t)choices * sizeof *ring);
    if (!step_end || !events || !filled || !backs || !unit || !user_unit || !ring)
        goto out;
    /* When each follow happens: counted per step, then placed (same draws), users ascending
     * within a step. step_end[t] ends up as the end of step t's events. */
    for (int place = 0; place < 2; place++) {
        for (uint32_t u = 0; u < n; u++) {
            if (u % STOP_EVERY == 0 && stop && *stop) {
                rc = FW_ERR_INTERRUPT;
                goto out;
            }
            uint64_t k = w->follow_off[u + 1] - w->follow_off[u];
            if (k == 0)
                continue;
            fw_rng_seek(r, seed, FW_RNG_FOLLOW, u, 2);
            for (uint64_t j = 0; j < k; j++) {
                uint32_t t = u + (uint32_t)gsl_rng_uniform_int(r, n - u);
                if (place)
                    events[step_end[t]++] = u;
                else
                    step_end[t + 1]++;
            }
        }
        if (!place)
            for (uint32_t t = 0; t < n; t++)
                step_end[t + 1] += step_end[t];
    }
    for (size_t c = 0; c < 2 * (size_t)nc; c++)
        backs[c] = FW_NONE;
    for (uint32_t u = 0; u < n; u++)
        unit_vector(&w->interest[(size_t)u * T], T, &user_unit[(size_t)u * T]);
    for (uint32_t c = 0; c < nc; c++)
        memcpy(&unit[(size_t)c * T], &user_unit[(size_t)w->creator_user[c] * T], T);
    for (uint64_t e = 0; e < AHEAD_1 && e < total; e++) {
        event_stream(r, seed, e, 0);
        for (uint32_t j = 0; j < choices; j++)
            ring[e % AHEAD_RING * choices + j] = draw_candidate(r, cfg->follow_uniform);
    }
    uint64_t n_targets = 0, i = 0;
    for (uint32_t t = 0; t < n; t++) {
        if (w->creator_of[t] >= 0)
            arrived = (uint32_t)w->creator_of[t] + 1;
        for (; i < step_end[t]; i++) {
            if (i % STOP_EVERY == 0 && stop && *stop) {   /* by follows: late steps hold hundreds */
                rc = FW_ERR_INTERRUPT;
                goto out;
            }
            /* Memory latency rules this loop (the followers' rows and the urn are far larger
             * than the cache at a million users), so it works a few events ahead: stage 1
             * draws an event's first candidates and fetches its follower's rows and the
             * candidates' urn slots; stage 2 fetches the follower's follow list and the
             * candidates' vectors. (Ahead, the urn's size is a guess; only speed depends on it.) */
            if (i + AHEAD_1 < total) {
                uint64_t e = i + AHEAD_1, slot;
                uint32_t v = events[e];
                __builtin_prefetch(&user_unit[(size_t)v * T]);
                __builtin_prefetch(&w->follow_off[v]);
                __builtin_prefetch(&filled[v]);
                __builtin_prefetch(&w->creator_of[v]);
                __builtin_prefetch(&w->n_followers[v]);
                uint64_t *x = &ring[e % AHEAD_RING * choices];
                event_stream(r, seed, e, 0);
                for (uint32_t j = 0; j < choices; j++) {
                    x[j] = draw_candidate(r, cfg->follow_uniform);
                    if (candidate_at(x[j], arrived ? arrived : 1, n_targets + AHEAD_1, &slot) == FW_NONE)
                        __builtin_prefetch(&events[slot]);
                }
            }
            if (i + AHEAD_2 < total && arrived > 0) {
                uint64_t e = i + AHEAD_2, slot;
                uint32_t v = events[e];
                __builtin_prefetch(&w->follow_dst[w->follow_off[v]]);
                __builtin_prefetch(&w->follow_dst[w->follow_off[v] + filled[v]]);
                const uint64_t *x = &ring[e % AHEAD_RING * choices];
                for (uint32_t j = 0; j < choices; j++) {
                    uint32_t c = candidate_at(x[j], arrived, n_targets + AHEAD_2, &slot);
                    if (c == FW_NONE)
                        c = events[slot];
                    if (c < nc)
                        __builtin_prefetch(&unit[(size_t)c * T]);
                }
            }
            uint32_t u = events[i], pick = FW_NONE;
            if (arrived == 0)
                continue;   /* nobody to follow yet: the follow is lost (the first steps only) */
            uint64_t lo = w->follow_off[u], k = w->follow_off[u + 1] - lo;
            uint32_t *mine = &w->follow_dst[lo];
            const uint8_t *mine_unit = &user_unit[(size_t)u * T];
            int32_t me = w->creator_of[u];
            const uint64_t *first = &ring[i % AHEAD_RING * choices];
            event_stream(r, seed, i, 1);
            /* A follow-back by a small account. */
            if (me >= 0 && cfg->follow_reciprocity > 0.0 && w->n_followers[u] <= k &&
                gsl_rng_uniform(r) < cfg->follow_reciprocity) {
                for (int b = 0; b < 2 && pick == FW_NONE; b++) {
                    uint32_t v = backs[2 * (size_t)me + b];
                    if (v == FW_NONE)
                        continue;
                    backs[2 * (size_t)me + b] = FW_NONE;
                    if (!follows_already(mine, filled[u], v))
                        pick = (uint32_t)w->creator_of[v];
                }
            }
            for (int attempt = 0; attempt < 16 && pick == FW_NONE; attempt++) {
                uint32_t cand[64];
                uint64_t slot[64];
                for (uint32_t j = 0; j < choices; j++) {
                    uint64_t x = attempt == 0 ? first[j] : draw_candidate(r, cfg->follow_uniform);
                    cand[j] = candidate_at(x, arrived, n_targets, &slot[j]);
                    if (cand[j] == FW_NONE)
                        __builtin_prefetch(&events[slot[j]]);
                }
                uint32_t best = FW_NONE, best_cos = 0;
                for (uint32_t j = 0; j < choices; j++) {
                    uint32_t c = cand[j] != FW_NONE ? cand[j] : events[slot[j]];
                    uint32_t cos = unit_cos(mine_unit, &unit[(size_t)c * T], T);
                    if (best == FW_NONE || cos > best_cos) {
                        best_cos = cos;
                        best = c;
                    }
                }
                uint32_t cu = w->creator_user[best];
                if (cu != u && !follows_already(mine, filled[u], cu))
                    pick = best;
            }
            if (pick == FW_NONE)
                continue;   /* rare: no fresh creator in 16 tries */
            uint32_t cu = w->creator_user[pick];
            mine[filled[u]++] = cu;
            w->n_followers[cu]++;
            events[n_targets++] = pick;
            if (me >= 0) {
                backs[2 * (size_t)pick + 1] = backs[2 * (size_t)pick];
                backs[2 * (size_t)pick] = u;
            }
        }
    }
    /* Lost follows leave holes at the ends of rows: close them so the CSR stays dense. */
    uint64_t at = 0;
    for (uint32_t u = 0; u < n; u++) {
        uint64_t lo = w->follow_off[u];
        memmove(&w->follow_dst[at], &w->follow_dst[lo], (size_t)filled[u] * sizeof *w->follow_dst);
        w->follow_off[u] = at;
        at += filled[u];
    }
    w->follow_off[n] = at;
    w->n_follow_edges = at;
    rc = FW_OK;
out:
    free(step_end);
    free(events);
    free(filled);
    free(backs);
    free(unit);
    free(user_unit);
    free(ring);
    return rc;
}

static fw_err gen_follows(fw_world *w, const fw_world_cfg *cfg, gsl_rng *r, uint64_t seed,
                          const volatile sig_atomic_t *stop)
{
    fw_err rc = follow_counts(w, cfg, r, seed);
    if (rc != FW_OK)
        return rc;
    return cfg->follow_graph == FW_FOLLOW_GRAPH_STATIC ? follow_static(w, cfg, r, seed, stop)
                                                       : follow_growth(w, cfg, r, seed, stop);
}

fw_err fw_world_generate(const fw_world_cfg *cfg, uint64_t seed, fw_world *w)
{
    return fw_world_generate_until(cfg, seed, NULL, w);
}

/* Set when *stop is: checked between the generation's phases. */
#define STOPPED(stop) ((stop) && *(stop) ? FW_ERR_INTERRUPT : FW_OK)

fw_err fw_world_generate_until(const fw_world_cfg *cfg, uint64_t seed, const volatile sig_atomic_t *stop, fw_world *w)
{
    memset(w, 0, sizeof *w);
    w->n_users = cfg->n_users;
    w->n_topics = cfg->n_topics;
    w->dim = cfg->embed_dim;
    w->ticks_per_day = cfg->ticks_per_day;
    w->n_brands = cfg->n_brands;
    w->n_products = cfg->n_products;
    gsl_rng *r = fw_rng_create(seed, 0, 0, 0);
    fw_err rc = FW_ERR_NOMEM;
    if (!r)
        goto fail;
    if ((rc = gen_topics(w, cfg, r, seed)) || (rc = STOPPED(stop)) || (rc = gen_users(w, cfg, r, seed)) ||
        (rc = STOPPED(stop)) || (rc = gen_creators(w, cfg, r, seed)) || (rc = STOPPED(stop)) ||
        (rc = gen_commerce(w, cfg, r, seed)) || (rc = STOPPED(stop)) || (rc = gen_vocabulary(w, cfg)) || (rc = gen_titles(w, r, seed)) ||
        (rc = STOPPED(stop)) || (rc = gen_notes(w, cfg, r, seed, stop)) || (rc = STOPPED(stop)) ||
        (rc = gen_follows(w, cfg, r, seed, stop)) || (rc = STOPPED(stop)) || (rc = gen_campaigns(w, cfg, r, seed)))
        goto fail;
    gsl_rng_free(r);
    return FW_OK;
fail:
    gsl_rng_free(r);
    fw_world_fini(w);
    return rc;
}

void fw_world_fini(fw_world *w)
{
    void *p[] = {w->topic_pop, w->topic_centroid, w->interest, w->interest_alpha, w->taste, w->p_active,
                 w->session_rate, w->video_pref, w->search_prop, w->purchase_prop, w->price_sens,
                 w->budget_cents, w->creator_of, w->creator_user, w->creator_niche,
                 w->creator_rate, w->creator_skill, w->creator_video, w->follow_off,
                 w->follow_dst, w->n_followers, w->brand_category, w->brand_budget_cents,
                 w->product_brand, w->product_category, w->product_price_cents,
                 w->product_stock, w->product_appeal, w->product_terms, w->category_off, w->category_products,
                 w->note_info, w->note_quality, w->note_emb, w->note_product, w->note_terms,
                 w->note_likes, w->campaigns};
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++)
        free(p[i]);
    gsl_ran_discrete_free(w->term_pick);
    memset(w, 0, sizeof *w);
}

double fw_world_expected_dau_mau(const fw_world *w)
{
    double dau = 0.0, mau = 0.0;
    for (uint32_t u = 0; u < w->n_users; u++) {
        dau += w->p_active[u];
        mau += 1.0 - pow(1.0 - w->p_active[u], 30.0);
    }
    return mau > 0.0 ? dau / mau : 0.0;
}

/* Grows a per-user array of n_old items of size bytes to n items, the new ones zeroed. */
static int grow_users(void **a, size_t n_old, size_t n, size_t size)
{
    void *v = realloc(*a, n * size);
    if (!v)
        return -1;
    memset((char *)v + n_old * size, 0, (n - n_old) * size);
    *a = v;
    return 0;
}

fw_err fw_world_add_arrivals(fw_world *w, const fw_world_cfg *cfg, uint64_t seed, uint32_t n_new)
{
    uint32_t n0 = w->n_users, T = w->n_topics, D = w->dim;
    if (n_new == 0)
        return FW_OK;
    if ((uint64_t)n0 + n_new > UINT32_MAX - 1 || seed != w->seed)
        return FW_ERR_INVAL;
    size_t n = (size_t)n0 + n_new;
    if (grow_users((void **)&w->interest, (size_t)n0 * T, n * T, sizeof *w->interest) ||
        grow_users((void **)&w->taste, (size_t)n0 * D, n * D, sizeof *w->taste) ||
        grow_users((void **)&w->p_active, n0, n, sizeof *w->p_active) ||
        grow_users((void **)&w->session_rate, n0, n, sizeof *w->session_rate) ||
        grow_users((void **)&w->video_pref, n0, n, sizeof *w->video_pref) ||
        grow_users((void **)&w->search_prop, n0, n, sizeof *w->search_prop) ||
        grow_users((void **)&w->purchase_prop, n0, n, sizeof *w->purchase_prop) ||
        grow_users((void **)&w->price_sens, n0, n, sizeof *w->price_sens) ||
        grow_users((void **)&w->budget_cents, n0, n, sizeof *w->budget_cents) ||
        grow_users((void **)&w->creator_of, n0, n, sizeof *w->creator_of) ||
        grow_users((void **)&w->follow_off, (size_t)n0 + 1, n + 1, sizeof *w->follow_off) ||
        grow_users((void **)&w->n_followers, n0, n, sizeof *w->n_followers))
        return FW_ERR_NOMEM;
    gsl_rng *r = fw_rng_create(seed, 0, 0, 0);
    double *alpha = malloc(T * sizeof *alpha), *theta = malloc(T * sizeof *theta);
    fw_err rc = FW_ERR_NOMEM;
    if (!r || !alpha || !theta)
        goto out;
    for (uint32_t t = 0; t < T; t++)
        alpha[t] = cfg->interest_concentration * T * w->topic_pop[t];
    /* The same draws as gen_users' for the same id (the creator draw is thrown away: an
     * arrival joins as a reader); no follows in the day-0 graph: they arrive cold. */
    for (size_t u = n0; u < n; u++) {
        (void)draw_user(w, cfg, r, seed, (uint32_t)u, alpha, theta);
        w->creator_of[u] = -1;
        w->follow_off[u + 1] = w->follow_off[n0];
    }
    w->n_users = (uint32_t)n;
    w->n_arrivals = n_new;
    rc = FW_OK;
out:
    free(alpha);
    free(theta);
    gsl_rng_free(r);
    return rc;
}

void fw_world_unit_vector(const float *row, uint32_t T, uint8_t *out)
{
    unit_vector(row, T, out);
}

uint32_t fw_world_unit_cos(const uint8_t *a, const uint8_t *b, uint32_t T)
{
    return unit_cos(a, b, T);
}

/* ---- state snapshots (issue 21) ---------------------------------------------------------- */

/* Notes' rows travel a chunk at a time: loading, the per-note arrays grow chunk by chunk, so
 * a crafted count fails at the first chunk the file lacks rather than reserving room for it;
 * and the visible info goes field by field, since fw_note_info's padding byte is indeterminate
 * (generation copies it from malloc'd memory) and would make two snapshots of one state differ. */
#define SNAP_CHUNK 4096u
_Static_assert(sizeof(fw_note_info) == 12, "fw_note_info gained a field: transfer it in snap_note_rows");

/* Rows [at, at + k) of every per-note array but the likes; k <= SNAP_CHUNK. */
static void snap_note_rows(fw_world *w, fw_snap *s, uint32_t at, uint32_t k)
{
    uint32_t creator[SNAP_CHUNK];
    uint16_t topic[SNAP_CHUNK];
    uint8_t format[SNAP_CHUNK];
    int32_t tick[SNAP_CHUNK];
    int loading = fw_snap_loading(s);
    if (loading && grow_notes(w, at + k) != FW_OK) {
        fw_snap_fail(s, "out of memory for %u notes", at + k);
        return;
    }
    for (uint32_t i = 0; i < k && !loading; i++) {
        const fw_note_info *ni = &w->note_info[at + i];
        creator[i] = ni->creator;
        topic[i] = ni->topic;
        format[i] = ni->format;
        tick[i] = ni->created_tick;
    }
    fw_snap_indexes(s, creator, k, w->n_users, w->n_users);
    fw_snap_array(s, topic, k, sizeof *topic);
    fw_snap_array(s, format, k, sizeof *format);
    fw_snap_array(s, tick, k, sizeof *tick);
    fw_snap_array(s, &w->note_quality[at], k, sizeof *w->note_quality);
    fw_snap_array(s, &w->note_emb[(size_t)at * w->dim], (size_t)k * w->dim, sizeof *w->note_emb);
    fw_snap_indexes(s, &w->note_product[at], k, w->n_products, FW_NONE);
    fw_snap_indexes(s, &w->note_terms[(size_t)at * FW_NOTE_TERMS], (size_t)k * FW_NOTE_TERMS, w->n_terms, FW_NONE);
    if (!loading || fw_snap_failed(s))
        return;
    for (uint32_t i = 0; i < k; i++) {
        /* Parts index creator rows by a note's author (creator_of) and tables by its topic. */
        if (w->creator_of[creator[i]] < 0 || topic[i] >= w->n_topics || format[i] > FW_FORMAT_VIDEO) {
            fw_snap_fail(s, "note %u: author %u is no creator, or topic %u or format %u out of range", at + i,
                         creator[i], topic[i], format[i]);
            return;
        }
        w->note_info[at + i] = (fw_note_info){
            .creator = creator[i], .topic = topic[i], .format = format[i], .created_tick = tick[i]};
    }
}

/* Skipped, fixed at generation (or at fw_world_add_arrivals, before the run): topics, every
 * user's traits but interests and p_active, creators' rows, the day-0 follow graph (never
 * written once the engine exists: the run's follows and unfollows are fw_users_state's), brands,
 * products (their stock is the engine's; product_stock is the initial one), campaigns (their
 * budgets as revised are the engine's), the vocabulary, the generation's notes' rows but their
 * likes, and capacities (cap_notes: room only). Checked to be the same: the sizes. */
void fw_world_snap(fw_world *w, fw_snap *s)
{
    fw_snap_same_u32(s, w->n_users, "world.n_users (with arrivals)");
    fw_snap_same_u32(s, w->n_arrivals, "the arrivals");
    fw_snap_same_u32(s, w->n_topics, "world.n_topics");
    fw_snap_same_u32(s, w->dim, "world.embed_dim");
    fw_snap_same_u32(s, w->n_creators, "the creators");
    fw_snap_same_u32(s, w->n_products, "world.n_products");
    fw_snap_same_u32(s, w->n_terms, "the vocabulary");
    fw_snap_same_u32(s, w->n_notes_generated, "the generated notes");
    /* Notes published during the run (and a warm-up), in id order. */
    uint32_t n = w->n_notes;
    fw_snap_u32(s, &n);
    if (fw_snap_loading(s) && !fw_snap_failed(s) && (n < w->n_notes_generated || n == FW_NONE))
        fw_snap_fail(s, "%u notes: fewer than the %u generated, or past the last id", n, w->n_notes_generated);
    for (uint32_t at = w->n_notes_generated; at < n && !fw_snap_failed(s); at += SNAP_CHUNK)
        snap_note_rows(w, s, at, n - at < SNAP_CHUNK ? n - at : SNAP_CHUNK);
    if (fw_snap_loading(s) && !fw_snap_failed(s))
        w->n_notes = n;
    fw_snap_array(s, w->note_likes, w->n_notes, sizeof *w->note_likes);
    /* Users: interests drift (feed, day-end reversion); p_active is the living part's (leavers
     * and arrivals); creators' follower counts follow the run's follows and unfollows. */
    fw_snap_array(s, w->interest, (size_t)w->n_users * w->n_topics, sizeof *w->interest);
    fw_snap_array(s, w->p_active, w->n_users, sizeof *w->p_active);
    fw_snap_array(s, w->n_followers, w->n_users, sizeof *w->n_followers);
}
