/* Private to the engine: the layout of fw_engine and fw_engine_ctx. */
#ifndef FLYWHEEL_ENGINE_INT_H
#define FLYWHEEL_ENGINE_INT_H

#include <math.h>
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
} fw_feed_state;

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
};

static inline int64_t fw_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
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

#endif
