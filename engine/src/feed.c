/* The baseline feed (engine.feed.algorithm: baseline): recall from followed creators, the
 * cell's trending pool and the fresh pool; score by follow bonus + log decayed engagement +
 * freshness, times a recency decay; de-duplicate against what the user was served recently;
 * top-k with ties broken on (score desc, id asc). It learns only from logged events (through
 * the trending module) and keeps no state of its own.
 *
 * Invariants: a request reads only state frozen between barriers, plus its own user's served
 * filters; ctx's id set is valid only for entries whose stamp equals its stamp. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aigc_int.h"
#include "feed_int.h"
#include "pools.h"
#include "safety_int.h"

/* The baseline runs when some cell uses it. */
static int feed_wanted(const fw_catalog *cat, const fw_engine_cfg *cfgs, uint32_t n_cells)
{
    (void)cat;
    for (uint32_t a = 0; a < n_cells; a++)
        if (cfgs[a].feed.algorithm == FW_FEED_BASELINE)
            return 1;
    return 0;
}

/* Some state must exist for the core to know the module is on; the baseline has none. */
static fw_err feed_create(fw_engine *e, const fw_catalog *cat, void **state)
{
    (void)e;
    (void)cat;
    static const char on = 1;
    *state = (void *)&on;
    return FW_OK;
}

uint32_t fw_feed_cand_need(const fw_engine_cfg *cfg)
{
    const fw_feed_cfg *f = &cfg->feed;
    return f->follow_max_creators * f->follow_recent + f->sample_trending + f->sample_fresh + 1;
}

/* What a recall walk reads for every candidate, read once: the user's served filters (the
 * stores into the candidate list and the request's set may alias the engine's fields, so a
 * test through e reloads them per candidate) and whether moderation is on. */
typedef struct walk {
    fw_seen_ref seen;
    int safety;
    uint32_t cell, u;
} walk;

/* Adds id to the candidates when the user was not served it and it is new to the request. */
static inline __attribute__((always_inline)) int take(const fw_engine *e, fw_rank_ctx *c, const walk *w, uint32_t id,
                                                      uint8_t follow, uint32_t *n)
{
    if (fw_seen_ref_has_dense(w->seen, id) || (w->safety && fw_safety_weight(e, w->cell, w->u, id) == 0.0) ||
        fw_rank_set_insert(c, id))
        return 0;
    c->cand[*n] = id;
    c->cand_follow[(*n)++] = follow;
    return 1;
}

uint32_t fw_feed_recall(fw_engine *e, fw_rank_ctx *c, const fw_feed_req *req, uint64_t *looked_out)
{
    uint32_t cell = req->arm, u = req->user;
    const fw_feed_cfg *f = &e->cell[cell].cfg.feed;
    fw_rank_set_clear(c);
    const walk w = {fw_seen_ref_of(e, cell, u), e->mod[FW_MOD_SAFETY] != NULL, cell, u};
    uint32_t n = 0;
    uint64_t looked = 0;   /* candidates looked at, for the work counters */
    const fw_u32vec *fl = &e->follows[u];
    uint32_t n_creators = fw_min_u32(fl->n, f->follow_max_creators);
    for (uint32_t k = 0; k < n_creators; k++) {
        fw_ring recent = fw_pools_recent(e, fl->v[fl->n - 1 - k]);
        uint32_t have = fw_min_u32(fw_ring_have(&recent), f->follow_recent);
        looked += have;
        for (uint32_t j = 0; j < have; j++)
            take(e, c, &w, fw_ring_newest(&recent, j), 1, &n);
    }
    uint32_t n_pool, taken = 0, p = 0;
    const uint32_t *pool = fw_pools_trending(e, cell, &n_pool);
    for (; p < n_pool && taken < f->sample_trending; p++)
        taken += take(e, c, &w, pool[p], 0, &n);
    looked += p;
    fw_ring fresh = fw_pools_fresh(e);
    uint32_t fresh_have = fw_min_u32(fw_ring_have(&fresh), f->n_fresh);
    for (taken = 0, p = 0; p < fresh_have && taken < f->sample_fresh; p++)
        taken += take(e, c, &w, fw_ring_newest(&fresh, p), 0, &n);
    looked += p;
    *looked_out = looked;
    return n;
}

static uint32_t feed_request(fw_engine *e, void *state, fw_engine_ctx *ctx, const fw_feed_req *req,
                             uint32_t *out, uint32_t cap, int64_t t_start)
{
    (void)state;
    fw_rank_ctx *c = &ctx->rank;
    uint32_t cell = req->arm, u = req->user;
    const fw_cell *cl = &e->cell[cell];
    const fw_feed_cfg *f = &cl->cfg.feed;

    /* Recall. */
    uint64_t looked;
    uint32_t n = fw_feed_recall(e, c, req, &looked);
    fw_plant_wait(e, FW_STAGE_FEED_RECALL);
    int64_t t_recall = fw_now_ns();

    /* Rank. The decayed engagement of every note shares one factor per tick and cell. In a
     * producer-side experiment each note is scored under its creator's cell. */
    double decay[FW_MAX_ENGINE_ARMS];
    const double *scores[FW_MAX_ENGINE_ARMS];
    int producer = e->producer_arm != NULL;
    for (uint32_t a = 0; a < (producer ? e->n_arms : 1); a++) {
        decay[a] = fw_pools_decay_at(e, producer ? a : cell, req->tick);
        scores[a] = fw_pools_scores(e, producer ? a : cell);
    }
    c->n_cand = n;
    uint32_t k = fw_feed_organic_slots(f, cap), n_top = 0;
    double aigc_mult;   /* issue 20: flagged, undeclared notes down-ranked (aigc_int.h) */
    const uint8_t *aigc_flags = fw_aigc_downrank_flags(e, cell, &aigc_mult);
    /* cand_score doubles as the heap's score storage: scores are computed on the fly. */
    for (uint32_t i = 0; i < n; i++) {
        uint32_t id = c->cand[i];
        uint32_t pa = producer ? e->producer_arm[e->notes[id].creator] : 0;
        const fw_cell *pc = producer ? &e->cell[pa] : cl;
        const fw_feed_cfg *pf = &pc->cfg.feed;
        double age = (double)(req->tick - e->notes[id].created_tick);
        if (age < 0.0)
            age = 0.0;
        double tr = scores[pa][id];   /* most follow and fresh candidates have none: skip log1p */
        double s = tr > 0.0 ? pf->w_trending * log1p(tr * decay[pa]) : 0.0;
        if (c->cand_follow[i])
            s += pf->w_follow;
        if (age < pc->fresh_age_ticks)
            s += pf->w_fresh;
        s *= exp2(-age / pc->recency_half_life_ticks);
        s = fw_safety_scale(s, fw_safety_w(e, cell, u, id));   /* moderation's down-rank */
        s = fw_aigc_score(aigc_flags, aigc_mult, id, s);
        fw_topk_offer(c->order, c->cand_score, &n_top, k, id, s);
    }
    fw_topk_sort(c->order, c->cand_score, n_top);
    c->scored_id = c->order;   /* the page comes from the top n_top, with these scores */
    c->scored = c->cand_score;
    c->n_scored = n_top;
    uint32_t len = fw_feed_place_slots(f, c->order, n_top, out, cap);
    fw_plant_wait(e, FW_STAGE_FEED_RANK);

    /* Remember what was served; if that is impossible, serve nothing rather than repeat. */
    len = fw_seen_add_page(e, cell, u, out, len);
    fw_feed_count(ctx, looked, n, out, len);
    int64_t t_end = fw_now_ns();
    fw_hist_record(&ctx->lat[FW_STAGE_FEED_RECALL], t_recall - t_start);
    fw_hist_record(&ctx->lat[FW_STAGE_FEED_RANK], t_end - t_recall);
    fw_hist_record(&ctx->lat[FW_STAGE_FEED], t_end - t_start);
    return len;
}

/* Nothing to transfer: the baseline keeps no state (its pools are the trending module's, its
 * served filters and follow lists the core's; ctx's scratch is rebuilt by every request). */
static void feed_snap(fw_engine *e, void *state, fw_snap *s)
{
    (void)e;
    (void)state;
    (void)s;
}

const fw_engine_module fw_feed_module = {
    .name = "feed",
    .wanted = feed_wanted,
    .create = feed_create,
    .algorithm = FW_FEED_BASELINE,
    .cand_need = fw_feed_cand_need,
    .feed = feed_request,
    .snap = feed_snap,
};
