/* Page-building helpers shared by the feed algorithms (the baseline feed, the recommender)
 * and search: top-k by (score desc, id asc), the per-request candidate set, the served
 * filters, and the layout of reserved ad slots on a page.
 * Owns: nothing (the served filters live in the core; the candidate scratch in each ctx).
 * Borrows: the arrays it is handed.  Never touches: any module's state; no module depends on
 * another through this file, so the arrows point one way: feed.c, rec.c, search.c -> rank. */
#ifndef FLYWHEEL_RANK_H
#define FLYWHEEL_RANK_H

#include "engine_int.h"

/* True when (sa, ia) ranks before (sb, ib): higher score first, then lower id. */
static inline int fw_topk_better(double sa, uint32_t ia, double sb, uint32_t ib)
{
    return sa > sb || (sa == sb && ia < ib);
}

/* Keeps the k best of a stream in id[0..*n) / score[0..*n) (a min-heap, worst on top):
 * offer x with score s. Ties break on the lower id. Once *n == k, an offer that is not
 * fw_topk_better than the top (id[0], score[0]) changes nothing. */
void fw_topk_offer(uint32_t *id, double *score, uint32_t *n, uint32_t k, uint32_t x, double s);
/* Pops the heap into best-first order in place. */
void fw_topk_sort(uint32_t *id, double *score, uint32_t n);
/* The k-th largest of v[0..n) (1 <= k <= n, no NaN), overwriting v and tmp[0..n). */
double fw_kth_largest(double *v, double *tmp, uint32_t n, uint32_t k);

/* The per-thread candidate scratch: allocated for cand_cap candidates; NULL-safe fini. */
fw_err fw_rank_ctx_init(fw_rank_ctx *c, uint32_t cand_cap);
void fw_rank_ctx_fini(fw_rank_ctx *c);

/* Inserts id into ctx's set; returns 1 when it was already there. */
static inline int fw_rank_set_insert(fw_rank_ctx *c, uint32_t id)
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

/* The slot of id in ctx's set: set_key[slot] == id with the current stamp when it is there,
 * else the free slot where fw_rank_set_put would insert it. One probe sequence for a look-up
 * followed by an insert. */
static inline uint32_t fw_rank_set_slot(const fw_rank_ctx *c, uint32_t id)
{
    uint32_t i = fw_hash_u32(id) & c->set_mask;
    while (c->set_stamp[i] == c->stamp && c->set_key[i] != id)
        i = (i + 1) & c->set_mask;
    return i;
}

static inline int fw_rank_set_at(const fw_rank_ctx *c, uint32_t slot)
{
    return c->set_stamp[slot] == c->stamp;
}

/* Inserts id at the free slot fw_rank_set_slot gave (no insert in between). */
static inline void fw_rank_set_put(fw_rank_ctx *c, uint32_t slot, uint32_t id)
{
    c->set_stamp[slot] = c->stamp;
    c->set_key[slot] = id;
}

/* Whether id is in ctx's set. */
static inline int fw_rank_set_has(const fw_rank_ctx *c, uint32_t id)
{
    for (uint32_t i = fw_hash_u32(id) & c->set_mask; c->set_stamp[i] == c->stamp; i = (i + 1) & c->set_mask)
        if (c->set_key[i] == id)
            return 1;
    return 0;
}

/* Empties the set (in O(1): bumps the stamp). */
static inline void fw_rank_set_clear(fw_rank_ctx *c)
{
    if (++c->stamp == 0) {  /* wrapped: really clear once every 2^32 requests */
        memset(c->set_stamp, 0, ((size_t)c->set_mask + 1) * sizeof *c->set_stamp);
        c->stamp = 1;
    }
}

/* ---- served filters ---------------------------------------------------------------- */

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
    return fw_mix64(id + UINT64_C(0x9e3779b97f4a7c15));
}

/* u's filters as served under cell, read once for many tests (fw_seen_ref_has): a loop
 * that tests through e reloads the filters' address and size for every id. */
typedef struct fw_seen_ref {
    const uint64_t *s;   /* NULL: nothing served yet */
    uint32_t words;
    int both;            /* the second (previous period's) filter is live too */
} fw_seen_ref;

static inline fw_seen_ref fw_seen_ref_of(const fw_engine *e, uint32_t cell, uint32_t u)
{
    fw_seen_ref r = {e->seen[u], e->cell[cell].seen_words, 0};
    r.both = r.s && (e->seen_fill[u] & FW_SEEN_BOTH);
    return r;
}

static inline int fw_seen_ref_has(fw_seen_ref r, uint32_t id)
{
    if (!r.s)
        return 0;
    uint64_t h = fw_note_hash(id);
    return fw_bloom_has(r.s, r.words, h) || (r.both && fw_bloom_has(r.s + r.words, r.words, h));
}

/* fw_seen_ref_has without branches on the probes: every probe of both generations is read
 * and the bits are ANDed, the same answer (all five probes of the current generation set, or
 * all five of the previous one while it is live). For walks where many ids tested were served
 * (the baseline's trending pool, walked past what the user has seen; the recommender's recall
 * for a user whose two generations are live, add_run): there the early exit of fw_bloom_has
 * seldom comes and its branches mispredict on the ones that are new; where most ids are new
 * (the recommender's recall for a user who has been served less) the early exit is cheaper. */
static inline int fw_seen_ref_has_dense(fw_seen_ref r, uint32_t id)
{
    if (!r.s)
        return 0;
    uint64_t h = fw_note_hash(id), mask = (uint64_t)r.words * 64 - 1, h2 = (h >> 32) | 1;
    const uint64_t *g1 = r.s + (r.both ? r.words : 0);   /* the live previous one, or again the current */
    uint64_t a = 1, b = 1;
    for (int i = 0; i < FW_SEEN_PROBES; i++, h += h2) {
        uint64_t w = (h & mask) >> 6;
        a &= r.s[w] >> (h & 63);
        b &= g1[w] >> (h & 63);
    }
    return (int)((a | b) & 1);
}

/* Whether u (served under cell) was served id recently. Reads only u's filters. */
static inline int fw_seen_has(const fw_engine *e, uint32_t cell, uint32_t u, uint32_t id)
{
    return fw_seen_ref_has(fw_seen_ref_of(e, cell, u), id);
}

/* Remembers id as served to u; FW_ERR_NOMEM when the filters cannot be allocated. Writes
 * only u's filters: safe in concurrent requests for other users. */
fw_err fw_seen_add(fw_engine *e, uint32_t cell, uint32_t u, uint32_t id);

/* Remembers the notes of out[0..len) as served to u (FW_NONE skipped). Returns len, or 0
 * when that is impossible: a page is served whole or not at all, never repeated. */
uint32_t fw_seen_add_page(fw_engine *e, uint32_t cell, uint32_t u, const uint32_t *out, uint32_t len);

/* ---- ad slots on a feed page --------------------------------------------------------- */

/* Page positions not reserved for ads among the first min(cap, page_size). */
uint32_t fw_feed_organic_slots(const fw_feed_cfg *f, uint32_t cap);
/* Places the organic page org[0..n) into out[0..cap) leaving the reserved ad positions
 * FW_NONE; returns the page length (a trailing reserved slot is dropped). */
uint32_t fw_feed_place_slots(const fw_feed_cfg *f, const uint32_t *org, uint32_t n, uint32_t *out,
                             uint32_t cap);

/* The work counters every feed request adds: one request, what recall looked at, what was
 * scored, the notes served. */
void fw_feed_count(fw_engine_ctx *c, uint64_t looked, uint64_t scored, const uint32_t *out, uint32_t len);

#endif
