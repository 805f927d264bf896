/* Private to the engine: the layout of fw_engine and fw_engine_ctx. */
#ifndef FLYWHEEL_ENGINE_INT_H
#define FLYWHEEL_ENGINE_INT_H

#include <math.h>
#include <string.h>
#include <time.h>

#include "flywheel/engine.h"

/* Most configurations (arms) one engine serves. */
#define FW_MAX_ENGINE_ARMS 256

typedef struct fw_u32vec {
    uint32_t *v;
    uint32_t n, cap;
} fw_u32vec;

/* Per-arm feed state. Decayed engagement is kept in "reference time" units: a note's
 * score S grows by w * 2^((t - t0) / half_life) per weighted event at tick t, so the decayed
 * value at tick t is S * 2^(-(t - t0) / half_life) and ranking by S ranks by the decayed
 * value at any time without touching every note each tick. t0 moves forward (and every S
 * is rescaled) at a day's end before the exponent grows large. */
typedef struct fw_feed_state {
    fw_engine_cfg cfg;
    double *trend;          /* [cap_notes] */
    int32_t t0;
    double half_life_ticks;
    double recency_half_life_ticks;
    double fresh_age_ticks;
    int32_t factor_tick;    /* tick for which factor is cached */
    double factor;          /* 2^((factor_tick - t0) / half_life) */
    uint32_t seen_half;     /* served ids per seen generation = seen_window (users stay in one arm) */
    uint32_t seen_words;    /* 64-bit words per generation (a power of two) */
    uint32_t *pool;         /* trending pool, best first */
    uint32_t *pool_prev;    /* scratch: the pool before a refresh */
    double *pool_score;     /* scratch of the pool refresh */
    uint32_t n_pool;
    /* rec: per-topic pools of the notes with the most decayed engagement, best first:
     * tpool[t * topic_pool + k] for k < tpool_n[t]; refreshed with the trending pool. */
    uint32_t *tpool, *tpool_prev, *tpool_n, *tpool_prev_n;
    double *tpool_score;
} fw_feed_state;

/* Ranking features of a (user, note) pair. X(ENUM). */
#define FW_REC_FEATURES(X) \
    X(BIAS) X(EMB) X(NOTE_CTR) X(NOTE_TASK) X(CREATOR_CTR) X(USER_CTR) X(FOLLOWED) X(AGE) X(SHOP)
typedef enum {
#define FW_RF_ENUM(e) FW_RF_##e,
    FW_REC_FEATURES(FW_RF_ENUM)
#undef FW_RF_ENUM
    FW_RF__COUNT
} fw_rec_feature;

/* The recommender's learned state, shared by every arm (see engine_cfg.h). Everything here
 * changes only in barrier calls.
 *  - Embeddings: a note's vector is its topic's plus its format's plus its own residual,
 *    so a note nobody has seen already has the content vector of its tags; the user's
 *    vector is learned from what they open (logistic matrix factorisation on impressions).
 *  - Ranking: one logistic regression per task over FW_REC_FEATURES, trained online.
 *  - Graph: per-user ring of recent opens, per-note ring of recent openers; co-engagement
 *    neighbours (CSR) rebuilt at each day's end. */
typedef struct fw_rec {
    fw_rec_cfg cfg;              /* the first arm's: learning knobs */
    uint32_t dim;
    float *user_vec;             /* [n_users * dim] */
    float *topic_vec;            /* [n_topics * dim] */
    float *format_vec;           /* [2 * dim] */
    float *note_vec;             /* [cap_notes * dim] residuals */
    double mf_bias;
    double w[FW_TASK__COUNT][FW_RF__COUNT];
    uint64_t total[FW_EV__COUNT];     /* events of each type ever logged: smoothing priors */
    uint32_t *user_counts;            /* [n_users * 2]: impressions, opens seen by the user */
    uint8_t *user_arm;                /* [n_users] the arm of the user's latest feed request:
                                         whether the SHOP feature may read their purchases */
    uint32_t *creator_counts;         /* [n_users * 2]: impressions, opens of the creator's notes */
    uint32_t hist_cap;
    uint32_t *hist, *hist_total;      /* [n_users * hist_cap], [n_users]: recent opens */
    uint32_t *openers, *openers_total; /* [cap_notes * FW_REC_OPENERS], [cap_notes] */
    uint32_t *topic_recent;           /* [n_topics * FW_REC_TOPIC_RECENT] */
    uint64_t *topic_total;            /* [n_topics] */
    /* Co-engagement neighbours of notes [0, nb_notes), best first. */
    uint32_t nb_notes;
    uint32_t *nb_off, *nb;
    /* Users who opened something today (CF rebuild input), each once. */
    uint32_t *day_users, n_day_users, cap_day_users;
    uint32_t *day_mark;               /* [n_users]: day + 1 of the last mark */
    uint32_t day;
    fw_model_stats stats[FW_TASK__COUNT], last[FW_TASK__COUNT];
    /* Per-note feature rows (FW_NF floats), recomputed at each tick's end for the notes with
     * events in it: a candidate's note features are one cache line, no dependent loads. */
    float *nf;                        /* [cap_notes * FW_NF] */
    uint32_t *nf_mark;                /* [cap_notes]: nf_epoch when listed in nf_touched */
    uint32_t *nf_touched, n_nf_touched, cap_nf_touched, nf_epoch;
} fw_rec;

enum { FW_NF_CTR = 0, FW_NF_TASK = 1, FW_NF_CREATOR_CTR = 1 + FW_TASK__COUNT, FW_NF = 8 };

#define FW_REC_MAX_TOPICS 1024   /* the recommender keeps per-topic scores on the stack */
#define FW_REC_OPENERS 8
#define FW_REC_TOPIC_RECENT 64
#define FW_REC_PAIR_WINDOW 8     /* recent opens per user paired at day end */

struct fw_engine {
    uint32_t n_users, n_topics, ticks_per_day, n_arms;
    fw_feed_state *arm;     /* [n_arms] */

    uint32_t n_notes, cap_notes;
    fw_note_info *notes;    /* [cap_notes] */
    uint32_t *counts;       /* [cap_notes * FW_EV__COUNT] logged events per note */

    /* Notes whose trend changed since the last pool refresh, each once: touched[k] for
     * k < n_touched, and touched_epoch[note] == epoch marks membership. */
    uint32_t *touched, n_touched, cap_touched;
    uint32_t *touched_epoch;   /* [cap_notes] */
    uint32_t epoch;            /* >= 1 */

    uint32_t *fresh;        /* ring of the most recently published notes */
    uint32_t fresh_cap;
    uint64_t fresh_total;   /* notes ever pushed; head = fresh_total % fresh_cap */

    uint32_t recent_cap;    /* per-creator ring of recent notes */
    uint32_t *recent;       /* [n_users * recent_cap] */
    uint32_t *recent_total; /* [n_users] notes ever pushed per creator */

    fw_u32vec *follows;     /* [n_users] creators followed, in follow order */
    uint8_t *producer_arm;  /* [n_users] or NULL: see fw_catalog */

    /* What each user has been served: two Bloom filters ("generations") per user,
     * allocated on the user's first request. New ids go into the current generation;
     * when it holds seen_window ids the older one is cleared and becomes current, so the
     * last seen_window..2*seen_window served notes are remembered (false positives, ~2%,
     * only skip a note). Platforms dedupe feeds this way; a ring of ids would forget within a
     * day of heavy scrolling and re-serve the same trending notes. */
    uint64_t **seen;        /* [n_users] -> [2 * seen_words] */
    uint32_t *seen_fill;    /* [n_users]: ids in the current generation; bit 31 = which */

    fw_rec *rec;            /* NULL unless some arm runs the recommender */
    struct fw_search *search;   /* the search index and learned intents (search.c) */
    struct fw_shop *shop;       /* catalog, orders, carts, profiles (shop.c) */
    struct fw_ads *ads;         /* campaigns, pacing, billing (ads.c) */
    struct fw_market *market;   /* brand-creator tasks (market.c) */

    int64_t plant_ns[FW_STAGE__COUNT];   /* fw_engine_plant_delay: busy wait per call */

    uint32_t cand_cap;      /* most candidates one request can recall */
    int sigfigs;
};

struct fw_engine_ctx {
    fw_hist lat[FW_STAGE__COUNT];
    uint64_t work[FW_WORK__COUNT];
    /* Open-addressing set of note ids, cleared by bumping stamp. */
    uint32_t *set_key, *set_stamp, set_mask, stamp;
    uint32_t *cand;         /* [cand_cap] */
    uint8_t *cand_follow;   /* [cand_cap] */
    double *cand_score;     /* [cand_cap] */
    uint32_t n_cand;        /* candidates of the last request */
    /* rec scratch */
    uint32_t *cset_key, *cset_stamp, cset_mask;   /* followed creators of the request */
    uint32_t *order;        /* [cand_cap] candidate ids ranked */
    double *order_score;    /* [cand_cap] */
    uint32_t *walk;         /* [walk_cap] notes visited by random walks */
    uint32_t walk_cap;
    float *uvec;            /* [dim] */
    struct fw_search_ctx *search;   /* search scratch (search.c) */
    struct fw_bid *ad_bids;         /* ads scratch [n_campaigns] (ads.c) */
    uint32_t *ad_map, *ad_scratch;
};

static inline int64_t fw_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The planted delay of stage s (fw_engine_plant_delay), if any. */
static inline void fw_plant_wait(const fw_engine *e, fw_stage s)
{
    if (e->plant_ns[s] > 0) {
        int64_t end = fw_now_ns() + e->plant_ns[s];
        while (fw_now_ns() < end)
            ;
    }
}

/* Feed internals (feed.c). The pool is rebuilt from every note at creation; afterwards it
 * is refreshed from the old pool and the notes touched since, which gives the same pool
 * because an untouched note keeps its score (rebasing scales all alike) and was not above
 * the old pool's last entry. */
void fw_feed_rebuild_pool(fw_engine *e, fw_feed_state *st);
/* Returns the number of notes offered to the pool. */
uint64_t fw_feed_refresh_pool(fw_engine *e, fw_feed_state *st);
/* 2^(-(tick - t0) / half_life): the decay from reference time to tick. Pure, safe in
 * concurrent requests; underflows to 0 rather than overflowing. */
static inline double fw_feed_decay_at(const fw_feed_state *st, int32_t tick)
{
    return exp2(-(double)(tick - st->t0) / st->half_life_ticks);
}
/* 2^((tick - t0) / half_life) for logging an event at tick, cached for runs of events at
 * one tick. Moves the reference time to tick first when the exponent would exceed
 * FW_FEED_MAX_EXPONENT, so scores stay finite at any half-life. Barrier calls only. */
double fw_feed_factor(fw_engine *e, fw_feed_state *st, int32_t tick);
/* Moves st's reference time to tick, rescaling every score. Barrier calls only. */
void fw_feed_rebase(fw_engine *e, fw_feed_state *st, int32_t tick);
#define FW_FEED_MAX_EXPONENT 64.0

/* Shared helpers of feed.c and rec.c (feed.c). */
void fw_feed_topk_offer(uint32_t *id, double *score, uint32_t *n, uint32_t k, uint32_t x, double s);
void fw_feed_topk_sort(uint32_t *id, double *score, uint32_t n);
fw_err fw_feed_seen_add(fw_engine *e, const fw_feed_state *st, uint32_t u, uint32_t id);
/* Places the organic page org[0..n) into out[0..cap) leaving the reserved ad positions
 * FW_NONE; returns the page length. */
/* Page positions not reserved for ads among the first min(cap, page_size). */
uint32_t fw_feed_organic_slots(const fw_feed_cfg *f, uint32_t cap);
uint32_t fw_feed_place_slots(const fw_feed_cfg *f, const uint32_t *org, uint32_t n, uint32_t *out,
                             uint32_t cap);

static inline uint32_t fw_hash_u32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

/* Inserts id into ctx's set; returns 1 when it was already there. */
static inline int fw_feed_set_insert(fw_engine_ctx *c, uint32_t id)
{
    uint32_t i = fw_hash_u32(id) & c->set_mask;
    while (c->set_stamp[i] == c->stamp) {
        if (c->set_key[i] == id)
            return 1;
        i = (i + 1) & c->set_mask;
    }
    c->set_stamp[i] = c->stamp;
    c->set_key[i] = id;
    return 0;
}

static inline void fw_feed_set_clear(fw_engine_ctx *c)
{
    if (++c->stamp == 0) {  /* wrapped: really clear once every 2^32 requests */
        memset(c->set_stamp, 0, ((size_t)c->set_mask + 1) * sizeof *c->set_stamp);
        c->stamp = 1;
    }
}

enum { FW_SEEN_PROBES = 5 };

static inline int fw_bloom_has(const uint64_t *g, uint32_t words, uint64_t h)
{
    uint64_t mask = (uint64_t)words * 64 - 1, h2 = (h >> 32) | 1;
    for (int i = 0; i < FW_SEEN_PROBES; i++, h += h2)
        if (!(g[(h & mask) >> 6] >> (h & 63) & 1))
            return 0;
    return 1;
}

static inline void fw_bloom_add(uint64_t *g, uint32_t words, uint64_t h)
{
    uint64_t mask = (uint64_t)words * 64 - 1, h2 = (h >> 32) | 1;
    for (int i = 0; i < FW_SEEN_PROBES; i++, h += h2)
        g[(h & mask) >> 6] |= UINT64_C(1) << (h & 63);
}

static inline uint64_t fw_note_hash(uint32_t id)
{
    uint64_t x = id + UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

static inline int fw_feed_seen_has(const fw_engine *e, const fw_feed_state *st, uint32_t u, uint32_t id)
{
    const uint64_t *s = e->seen[u];
    if (!s)
        return 0;
    uint64_t h = fw_note_hash(id);
    return fw_bloom_has(s, st->seen_words, h) || fw_bloom_has(s + st->seen_words, st->seen_words, h);
}

/* Search (search.c): an inverted index over note terms with BM25, and query intents
 * learned from clicks. fw_search_create runs at the end of fw_engine_create (the catalog's
 * notes are loaded); fw_search_index at every publish (terms may be NULL: nothing indexed). */
fw_err fw_search_create(fw_engine *e, const fw_catalog *cat);
void fw_search_destroy(struct fw_search *s);
fw_err fw_search_index(fw_engine *e, uint32_t id, const uint32_t *terms);
fw_err fw_search_ctx_init(const fw_engine *e, fw_engine_ctx *c);
void fw_search_ctx_fini(fw_engine_ctx *c);

/* The shop (shop.c). fw_shop_create runs in fw_engine_create after the notes are loaded;
 * fw_shop_on_events feeds the community side of the profile from fw_engine_log;
 * fw_shop_end_tick advances orders (part of fw_engine_end_tick), fw_shop_end_day decays
 * profiles and drops stale cart items. */
fw_err fw_shop_create(fw_engine *e, const fw_catalog *cat, const fw_engine_cfg *cfgs);
void fw_shop_destroy(struct fw_shop *s, uint32_t n_users);
void fw_shop_on_events(fw_engine *e, const fw_event *ev, size_t n);
fw_err fw_shop_end_tick(fw_engine *e, fw_engine_ctx *ctx, int32_t tick);
void fw_shop_end_day(fw_engine *e, uint32_t day);
/* The unified profile's purchase side for the feed: the share of each topic in the user's
 * transactions (views, carts, orders), added into share[n_topics] (which the caller zeroed);
 * and the share of one topic. */
void fw_shop_tx_shares(const fw_engine *e, uint32_t user, double *share);
double fw_shop_tx_share(const fw_engine *e, uint32_t user, uint32_t topic);

/* Ads (ads.c). fw_ads_create runs in fw_engine_create; end_tick (pacing) and end_day
 * (the day's reset) are part of the engine's. */
fw_err fw_ads_create(fw_engine *e, const fw_catalog *cat);
void fw_ads_destroy(struct fw_ads *a);
fw_err fw_ads_ctx_init(const fw_engine *e, fw_engine_ctx *c);
void fw_ads_ctx_fini(fw_engine_ctx *c);
void fw_ads_end_tick(fw_engine *e, int32_t tick);
void fw_ads_end_day(fw_engine *e, uint32_t day);
/* The marketplace (market.c). */
fw_err fw_market_create(fw_engine *e, const fw_catalog *cat);
void fw_market_destroy(struct fw_market *m);
void fw_market_on_follow(fw_engine *e, uint32_t creator);
void fw_market_end_day(fw_engine *e, uint32_t day);
/* The topics user engages with more than the population (at most cap), into out. */
uint32_t fw_shop_engaged_topics(const fw_engine *e, uint32_t user, uint32_t *out, uint32_t cap);

/* The recommender (rec.c). */
fw_err fw_rec_create(fw_engine *e, const fw_engine_cfg *cfg0);
void fw_rec_destroy(fw_rec *r);
fw_err fw_rec_grow_notes(fw_engine *e, uint32_t old_cap, uint32_t cap);
fw_err fw_rec_ctx_init(const fw_engine *e, fw_engine_ctx *c);
void fw_rec_ctx_fini(fw_engine_ctx *c);
fw_err fw_rec_arm_init(fw_engine *e, fw_feed_state *st);
void fw_rec_arm_fini(fw_feed_state *st);
void fw_rec_refresh_topic_pools(fw_engine *e, fw_feed_state *st, int rebuild);
void fw_rec_on_publish(fw_engine *e, uint32_t id);
/* Trains on and then records events ev[0..n) (called by fw_engine_log before it applies
 * them); FW_ERR_NOMEM when a list cannot grow. */
fw_err fw_rec_log(fw_engine *e, fw_engine_ctx *ctx, const fw_event *ev, size_t n);
fw_err fw_rec_end_day(fw_engine *e, fw_engine_ctx *ctx, uint32_t day);
/* Refreshes the feature rows of the notes with events since the last call. */
void fw_rec_end_tick(fw_engine *e);
uint32_t fw_rec_request(fw_engine *e, fw_engine_ctx *c, const fw_feed_req *req, fw_feed_state *st,
                        uint32_t *out, uint32_t cap, int64_t t_start);

#endif
