/* The pools module's read side (pools.c): what the feed algorithms recall from.
 *  - Trending, per cell: every note's engagement decayed by the cell's
 *    engine.feed.trending_half_life_h and weighted by its w_open .. w_comment, and the cell's
 *    trending pool (the n_trending notes of most decayed engagement, best first).
 *  - Fresh: a ring of the most recently published notes (the largest n_fresh of any cell).
 *  - Recent: per creator, a ring of their newest notes (the largest follow_recent).
 * Owns: nothing here (pools.c owns the state).  Borrows: the engine.
 * Never touches: anything; every function reads, and requests may call them concurrently.
 *
 * Scores are kept in "reference time" units: a note's score S grows by w * 2^((t - t0) /
 * half_life) per weighted event at tick t, so the decayed value at tick t is S * 2^(-(t -
 * t0) / half_life) and ranking by S ranks by the decayed value at any time without touching
 * every note each tick. t0 moves forward (and every S is rescaled) at a day's end and before
 * the exponent grows large. */
#ifndef FLYWHEEL_POOLS_H
#define FLYWHEEL_POOLS_H

#include "engine_int.h"

/* The cell's scores S, [n_notes]; 0 for a note nobody engaged with. */
const double *fw_pools_scores(const fw_engine *e, uint32_t cell);

/* 2^(-(tick - t0) / half_life): the decay from the cell's reference time to tick.
 * Underflows to 0 rather than overflowing. */
double fw_pools_decay_at(const fw_engine *e, uint32_t cell, int32_t tick);

/* The cell's trending pool, best first; *n entries. */
const uint32_t *fw_pools_trending(const fw_engine *e, uint32_t cell, uint32_t *n);

/* The notes whose scores changed in the current tick, each once (*n), and whether note is
 * one of them. During end_tick hooks that run after the trending module's (rec.c), these are
 * the tick being closed. */
const uint32_t *fw_pools_touched(const fw_engine *e, uint32_t *n);
int fw_pools_was_touched(const fw_engine *e, uint32_t note);

/* A ring of note ids: the k-th newest (k < min(total, cap)) is v[(total - 1 - k) % cap]. */
typedef struct fw_ring {
    const uint32_t *v;
    uint32_t cap;
    uint64_t total;         /* notes ever pushed */
} fw_ring;

/* The newest notes on the platform, and creator's newest notes. */
fw_ring fw_pools_fresh(const fw_engine *e);
fw_ring fw_pools_recent(const fw_engine *e, uint32_t creator);
/* Starts fetching what fw_pools_recent(e, creator) and its entries read (a hint only). */
void fw_pools_recent_prefetch(const fw_engine *e, uint32_t creator);

static inline uint32_t fw_ring_have(const fw_ring *r)
{
    return r->total < r->cap ? (uint32_t)r->total : r->cap;
}

static inline uint32_t fw_ring_newest(const fw_ring *r, uint32_t k)
{
    return r->v[(r->total - 1 - k) % r->cap];
}

#endif
