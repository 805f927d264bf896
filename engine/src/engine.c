/* The engine object: catalog, logged events, follows, barrier calls.
 *
 * Invariants:
 *  - notes[0..n_notes) are in publication order; ids never change; every per-note array
 *    (counts, each arm's trend) has cap_notes entries.
 *  - State written by fw_feed_request is per user (seen ring); everything else changes only
 *    in barrier calls, so concurrent requests read a frozen view.
 *  - Every call is timed into the caller's ctx, never into shared state. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"

static const char *const stage_names[] = {
#define STAGE_NAME(e, name, doc) name,
    FW_STAGES(STAGE_NAME)
#undef STAGE_NAME
};
static const char *const stage_docs[] = {
#define STAGE_DOC(e, name, doc) doc,
    FW_STAGES(STAGE_DOC)
#undef STAGE_DOC
};

const char *fw_stage_name(fw_stage s)
{
    return (unsigned)s < FW_STAGE__COUNT ? stage_names[s] : "unknown";
}

const char *fw_stage_doc(fw_stage s)
{
    return (unsigned)s < FW_STAGE__COUNT ? stage_docs[s] : "unknown";
}

static const char *const work_names[] = {
#define WORK_NAME(e, name, doc) name,
    FW_WORK_COUNTERS(WORK_NAME)
#undef WORK_NAME
};
static const char *const work_docs[] = {
#define WORK_DOC(e, name, doc) doc,
    FW_WORK_COUNTERS(WORK_DOC)
#undef WORK_DOC
};

const char *fw_work_name(fw_work w)
{
    return (unsigned)w < FW_WORK__COUNT ? work_names[w] : "unknown";
}

const char *fw_work_doc(fw_work w)
{
    return (unsigned)w < FW_WORK__COUNT ? work_docs[w] : "unknown";
}

static uint32_t max_u32(uint32_t a, uint32_t b) { return a > b ? a : b; }

static int vec_push(fw_u32vec *v, uint32_t x)
{
    if (v->n == v->cap) {
        uint32_t cap = v->cap ? v->cap * 2 : 4;
        uint32_t *p = realloc(v->v, (size_t)cap * sizeof *p);
        if (!p)
            return -1;
        v->v = p;
        v->cap = cap;
    }
    v->v[v->n++] = x;
    return 0;
}

static fw_err grow_notes(fw_engine *e, uint32_t need)
{
    if (need <= e->cap_notes)
        return FW_OK;
    fw_err rc;
    uint32_t cap = max_u32(need, e->cap_notes + e->cap_notes / 2 + 1024);
    fw_note_info *notes = realloc(e->notes, (size_t)cap * sizeof *notes);
    if (!notes)
        return FW_ERR_NOMEM;
    e->notes = notes;
    uint32_t *counts = realloc(e->counts, (size_t)cap * FW_EV__COUNT * sizeof *counts);
    if (!counts)
        return FW_ERR_NOMEM;
    e->counts = counts;
    memset(counts + (size_t)e->cap_notes * FW_EV__COUNT, 0,
           (size_t)(cap - e->cap_notes) * FW_EV__COUNT * sizeof *counts);
    uint32_t *te = realloc(e->touched_epoch, (size_t)cap * sizeof *te);
    if (!te)
        return FW_ERR_NOMEM;
    e->touched_epoch = te;
    memset(te + e->cap_notes, 0, (size_t)(cap - e->cap_notes) * sizeof *te);
    for (uint32_t a = 0; a < e->n_arms; a++) {
        double *t = realloc(e->arm[a].trend, (size_t)cap * sizeof *t);
        if (!t)
            return FW_ERR_NOMEM;
        memset(t + e->cap_notes, 0, (size_t)(cap - e->cap_notes) * sizeof *t);
        e->arm[a].trend = t;
    }
    if (e->rec && (rc = fw_rec_grow_notes(e, e->cap_notes, cap)) != FW_OK)
        return rc;
    e->cap_notes = cap;
    return FW_OK;
}

static void push_note_rings(fw_engine *e, uint32_t id)
{
    const fw_note_info *n = &e->notes[id];
    if (e->fresh_cap) {
        e->fresh[e->fresh_total % e->fresh_cap] = id;
        e->fresh_total++;
    }
    if (e->recent_cap && n->creator < e->n_users) {
        uint32_t c = n->creator;
        e->recent[(size_t)c * e->recent_cap + e->recent_total[c] % e->recent_cap] = id;
        e->recent_total[c]++;
    }
    if (e->rec)
        fw_rec_on_publish(e, id);
}

fw_engine *fw_engine_create(const fw_catalog *cat, const fw_engine_cfg *cfgs, uint32_t n_arms,
                            fw_err *err)
{
    fw_err rc = FW_ERR_NOMEM;
    if (!cat || !cfgs || n_arms == 0 || n_arms > FW_MAX_ENGINE_ARMS || cat->n_users == 0 ||
        cat->ticks_per_day == 0) {
        *err = FW_ERR_INVAL;
        return NULL;
    }
    char why[256];
    for (uint32_t a = 0; a < n_arms; a++)
        if (fw_engine_cfg_check(&cfgs[a], why, sizeof why) != FW_OK) {
            *err = FW_ERR_RANGE;
            return NULL;
        }
    fw_engine *e = calloc(1, sizeof *e);
    if (!e)
        goto fail;
    e->n_users = cat->n_users;
    e->n_topics = cat->n_topics;
    e->ticks_per_day = cat->ticks_per_day;
    e->n_arms = n_arms;
    e->arm = calloc(n_arms, sizeof *e->arm);
    if (!e->arm)
        goto fail;
    double hours_per_tick = 24.0 / cat->ticks_per_day;
    uint32_t fresh_cap = 0, follow_cand = 0, samples = 0;
    for (uint32_t a = 0; a < n_arms; a++) {
        fw_feed_state *st = &e->arm[a];
        const fw_feed_cfg *f = &cfgs[a].feed;
        st->cfg = cfgs[a];
        st->half_life_ticks = f->trending_half_life_h / hours_per_tick;
        st->recency_half_life_ticks = f->recency_half_life_h / hours_per_tick;
        st->fresh_age_ticks = f->fresh_age_h / hours_per_tick;
        st->factor_tick = INT32_MIN;
        st->pool = calloc(max_u32(f->n_trending, 1), sizeof *st->pool);
        st->pool_prev = calloc(max_u32(f->n_trending, 1), sizeof *st->pool_prev);
        st->pool_score = calloc(max_u32(f->n_trending, 1), sizeof *st->pool_score);
        if (!st->pool || !st->pool_prev || !st->pool_score)
            goto fail;
        fresh_cap = max_u32(fresh_cap, f->n_fresh);
        e->recent_cap = max_u32(e->recent_cap, f->follow_recent);
        /* Each generation holds seen_window ids, so at least the last seen_window served
         * notes are remembered. 8 bits per id with 5 probes: about 2% false positives. */
        st->seen_half = f->seen_window;
        st->seen_words = 1;
        while ((uint64_t)st->seen_words * 64 < (uint64_t)st->seen_half * 8)
            st->seen_words *= 2;
        follow_cand = max_u32(follow_cand, f->follow_max_creators * f->follow_recent);
        samples = max_u32(samples, f->sample_trending + f->sample_fresh);
        if (f->algorithm == FW_FEED_REC) {
            const fw_rec_cfg *q = &cfgs[a].rec;
            samples = max_u32(samples, q->social + q->hot + q->content + q->cf + q->graph + q->fresh);
            samples = max_u32(samples, 2 * q->walks);   /* graph recall ranks its visits in ctx->order */
        }
        if (cfgs[a].latency_sigfigs > (uint32_t)e->sigfigs)
            e->sigfigs = (int)cfgs[a].latency_sigfigs;
    }
    e->cand_cap = follow_cand + samples + 1;
    for (uint32_t a = 0; a < n_arms; a++)
        if (cfgs[a].feed.algorithm == FW_FEED_REC) {
            if (e->n_topics > FW_REC_MAX_TOPICS) {
                rc = FW_ERR_INVAL;
                goto fail;
            }
            if (!e->rec && (rc = fw_rec_create(e, &cfgs[0])) != FW_OK)
                goto fail;
            if ((rc = fw_rec_arm_init(e, &e->arm[a])) != FW_OK)
                goto fail;
        }
    rc = FW_ERR_NOMEM;
    e->fresh_cap = fresh_cap;
    if (fresh_cap && !(e->fresh = calloc(fresh_cap, sizeof *e->fresh)))
        goto fail;
    if (e->recent_cap &&
        !(e->recent = calloc((size_t)e->n_users * e->recent_cap, sizeof *e->recent)))
        goto fail;
    if (!(e->recent_total = calloc(e->n_users, sizeof *e->recent_total)))
        goto fail;
    if (!(e->follows = calloc(e->n_users, sizeof *e->follows)))
        goto fail;
    if (cat->producer_arm) {
        if (!(e->producer_arm = malloc(e->n_users)))
            goto fail;
        memcpy(e->producer_arm, cat->producer_arm, e->n_users);
        rc = FW_ERR_INVAL;
        for (uint32_t u = 0; u < e->n_users; u++)
            if (e->producer_arm[u] >= n_arms)
                goto fail;
        rc = FW_ERR_NOMEM;
    }
    if (!(e->seen = calloc(e->n_users, sizeof *e->seen)))
        goto fail;
    if (!(e->seen_fill = calloc(e->n_users, sizeof *e->seen_fill)))
        goto fail;


    if ((rc = grow_notes(e, cat->n_notes)) != FW_OK)
        goto fail;
    rc = FW_ERR_INVAL;
    for (uint32_t i = 0; i < cat->n_notes; i++) {
        if (cat->notes[i].creator >= e->n_users || (e->rec && cat->notes[i].topic >= e->n_topics))
            goto fail;
        e->notes[i] = cat->notes[i];
        e->n_notes = i + 1;
        push_note_rings(e, i);
    }
    rc = FW_ERR_NOMEM;
    if (cat->follow_offsets) {
        for (uint32_t u = 0; u < e->n_users; u++)
            for (uint32_t k = cat->follow_offsets[u]; k < cat->follow_offsets[u + 1]; k++) {
                uint32_t c = cat->follows[k];
                if (c >= e->n_users) {
                    rc = FW_ERR_INVAL;
                    goto fail;
                }
                if (c != u && vec_push(&e->follows[u], c))
                    goto fail;   /* rc is FW_ERR_NOMEM */
            }
    }
    /* Pools as of the first tick: the fresh ring is already filled; trending is empty until
     * events arrive, so rank by nothing yet. */
    e->epoch = 1;
    for (uint32_t a = 0; a < n_arms; a++) {
        fw_feed_rebuild_pool(e, &e->arm[a]);
        if (e->arm[a].tpool)
            fw_rec_refresh_topic_pools(e, &e->arm[a], 1);
    }
    if ((rc = fw_search_create(e, cat)) != FW_OK)
        goto fail;
    if ((rc = fw_shop_create(e, cat, cfgs)) != FW_OK || (rc = fw_ads_create(e, cat)) != FW_OK ||
        (rc = fw_market_create(e, cat)) != FW_OK)
        goto fail;
    return e;
fail:
    fw_engine_destroy(e);
    *err = rc;
    return NULL;
}

void fw_engine_destroy(fw_engine *e)
{
    if (!e)
        return;
    if (e->arm)
        for (uint32_t a = 0; a < e->n_arms; a++) {
            free(e->arm[a].trend);
            free(e->arm[a].pool);
            free(e->arm[a].pool_prev);
            free(e->arm[a].pool_score);
            fw_rec_arm_fini(&e->arm[a]);
        }
    fw_rec_destroy(e->rec);
    fw_search_destroy(e->search);
    fw_shop_destroy(e->shop, e->n_users);
    fw_ads_destroy(e->ads);
    fw_market_destroy(e->market);
    free(e->arm);
    free(e->notes);
    free(e->counts);
    free(e->touched);
    free(e->touched_epoch);
    free(e->fresh);
    free(e->recent);
    free(e->recent_total);
    if (e->follows)
        for (uint32_t u = 0; u < e->n_users; u++)
            free(e->follows[u].v);
    free(e->follows);
    free(e->producer_arm);
    if (e->seen)
        for (uint32_t u = 0; u < e->n_users; u++)
            free(e->seen[u]);
    free(e->seen);
    free(e->seen_fill);
    free(e);
}

fw_engine_ctx *fw_engine_ctx_create(const fw_engine *e)
{
    fw_engine_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    for (int s = 0; s < FW_STAGE__COUNT; s++)
        /* 1 ns .. 100 s covers every call we time. */
        if (fw_hist_init(&c->lat[s], 1, INT64_C(100000000000), e->sigfigs) != FW_OK)
            goto fail;
    uint32_t need = 4 * e->cand_cap, size = 64;
    while (size < need)
        size *= 2;
    c->set_mask = size - 1;
    c->set_key = calloc(size, sizeof *c->set_key);
    c->set_stamp = calloc(size, sizeof *c->set_stamp);
    c->cand = calloc(e->cand_cap, sizeof *c->cand);
    c->cand_follow = calloc(e->cand_cap, sizeof *c->cand_follow);
    c->cand_score = calloc(e->cand_cap, sizeof *c->cand_score);
    c->order = calloc(e->cand_cap, sizeof *c->order);
    c->order_score = calloc(e->cand_cap, sizeof *c->order_score);
    if (!c->set_key || !c->set_stamp || !c->cand || !c->cand_follow || !c->cand_score ||
        !c->order || !c->order_score)
        goto fail;
    if (e->rec && fw_rec_ctx_init(e, c) != FW_OK)
        goto fail;
    if (fw_search_ctx_init(e, c) != FW_OK || fw_ads_ctx_init(e, c) != FW_OK)
        goto fail;
    return c;
fail:
    fw_engine_ctx_destroy(c);
    return NULL;
}

void fw_engine_ctx_destroy(fw_engine_ctx *c)
{
    if (!c)
        return;
    for (int s = 0; s < FW_STAGE__COUNT; s++)
        fw_hist_fini(&c->lat[s]);
    free(c->set_key);
    free(c->set_stamp);
    free(c->cand);
    free(c->cand_follow);
    free(c->cand_score);
    free(c->order);
    free(c->order_score);
    fw_rec_ctx_fini(c);
    fw_search_ctx_fini(c);
    fw_ads_ctx_fini(c);
    free(c);
}

const fw_hist *fw_engine_ctx_latency(const fw_engine_ctx *c, fw_stage s)
{
    return &c->lat[s];
}

void fw_engine_ctx_reset_latency(fw_engine_ctx *c)
{
    for (int s = 0; s < FW_STAGE__COUNT; s++)
        fw_hist_reset(&c->lat[s]);
    memset(c->work, 0, sizeof c->work);
}

uint64_t fw_engine_ctx_work(const fw_engine_ctx *c, fw_work w)
{
    return (unsigned)w < FW_WORK__COUNT ? c->work[w] : 0;
}

static double event_weight(const fw_feed_cfg *f, uint32_t type)
{
    switch (type) {
    case FW_EV_OPEN: return f->w_open;
    case FW_EV_LIKE: return f->w_like;
    case FW_EV_SAVE: return f->w_save;
    case FW_EV_COMMENT: return f->w_comment;
    default: return 0.0;
    }
}

fw_err fw_engine_log(fw_engine *e, fw_engine_ctx *ctx, const fw_event *ev, size_t n)
{
    int64_t t0 = fw_now_ns();
    fw_err rc = FW_OK;
    if (e->rec && fw_rec_log(e, ctx, ev, n) != FW_OK)
        return FW_ERR_NOMEM;
    fw_shop_on_events(e, ev, n);
    for (size_t i = 0; i < n; i++) {
        const fw_event *x = &ev[i];
        uint32_t type = FW_EV_TYPE(x->type);
        if (x->note >= e->n_notes || x->user >= e->n_users || type >= FW_EV__COUNT ||
            (x->type & ~(FW_EV_SEARCH | 0xffu))) {
            rc = FW_ERR_INVAL;
            continue;
        }
        e->counts[(size_t)x->note * FW_EV__COUNT + type]++;
        if (type == FW_EV_FOLLOW) {
            uint32_t c = e->notes[x->note].creator;
            fw_u32vec *fl = &e->follows[x->user];
            int have = 0;
            for (uint32_t k = 0; k < fl->n && !have; k++)
                have = fl->v[k] == c;
            if (!have && c != x->user && vec_push(fl, c))
                return FW_ERR_NOMEM;
            if (!have && c != x->user)
                fw_market_on_follow(e, c);
            continue;
        }
        if (type == FW_EV_IMPRESSION)
            continue;
        for (uint32_t a = 0; a < e->n_arms; a++) {
            fw_feed_state *st = &e->arm[a];
            double w = event_weight(&st->cfg.feed, type);
            if (w > 0.0)
                st->trend[x->note] += w * fw_feed_factor(e, st, x->tick);
        }
        if (e->touched_epoch[x->note] != e->epoch) {
            if (e->n_touched == e->cap_touched) {
                uint32_t cap = e->cap_touched ? 2 * e->cap_touched : 1024;
                uint32_t *t = realloc(e->touched, (size_t)cap * sizeof *t);
                if (!t)
                    return FW_ERR_NOMEM;
                e->touched = t;
                e->cap_touched = cap;
            }
            e->touched_epoch[x->note] = e->epoch;
            e->touched[e->n_touched++] = x->note;
        }
    }
    ctx->work[FW_WORK_EVENTS] += n;
    fw_plant_wait(e, FW_STAGE_LOG);
    fw_hist_record(&ctx->lat[FW_STAGE_LOG], fw_now_ns() - t0);
    return rc;
}

fw_err fw_engine_publish(fw_engine *e, fw_engine_ctx *ctx, const fw_note_info *note,
                         uint32_t *id)
{
    return fw_engine_publish_text(e, ctx, note, NULL, id);
}

fw_err fw_engine_publish_text(fw_engine *e, fw_engine_ctx *ctx, const fw_note_info *note,
                              const uint32_t *terms, uint32_t *id)
{
    int64_t t0 = fw_now_ns();
    if (note->creator >= e->n_users || (e->rec && note->topic >= e->n_topics))
        return FW_ERR_INVAL;
    fw_err rc = grow_notes(e, e->n_notes + 1);
    if (rc != FW_OK)
        return rc;
    uint32_t k = e->n_notes++;
    e->notes[k] = *note;
    if ((rc = fw_search_index(e, k, terms)) != FW_OK) {
        e->n_notes--;   /* not published: the index could not take it (and holds nothing of it) */
        return rc;
    }
    push_note_rings(e, k);
    *id = k;
    fw_hist_record(&ctx->lat[FW_STAGE_PUBLISH], fw_now_ns() - t0);
    return FW_OK;
}

fw_err fw_engine_end_tick(fw_engine *e, fw_engine_ctx *ctx, int32_t tick)
{
    fw_err rc = fw_shop_end_tick(e, ctx, tick);
    fw_ads_end_tick(e, tick);
    int64_t t0 = fw_now_ns();
    for (uint32_t a = 0; a < e->n_arms; a++) {
        fw_feed_state *st = &e->arm[a];
        /* Keep the next tick's requests' decay meaningful at short half-lives. */
        if ((double)(tick + 1 - st->t0) / st->half_life_ticks > FW_FEED_MAX_EXPONENT)
            fw_feed_rebase(e, st, tick + 1);
        ctx->work[FW_WORK_POOL_OFFERS] += fw_feed_refresh_pool(e, st);
        if (st->tpool)
            fw_rec_refresh_topic_pools(e, st, 0);
    }
    if (e->rec)
        fw_rec_end_tick(e);
    fw_plant_wait(e, FW_STAGE_END_TICK);
    e->n_touched = 0;
    if (++e->epoch == 0) {   /* wrapped after 2^32 ticks: clear the marks once */
        memset(e->touched_epoch, 0, (size_t)e->cap_notes * sizeof *e->touched_epoch);
        e->epoch = 1;
    }
    fw_hist_record(&ctx->lat[FW_STAGE_END_TICK], fw_now_ns() - t0);
    return rc;
}

fw_err fw_engine_end_day(fw_engine *e, fw_engine_ctx *ctx, uint32_t day)
{
    fw_err rc = FW_OK;
    int64_t t0 = fw_now_ns();
    int32_t now = (int32_t)((day + 1) * e->ticks_per_day);
    /* Move the reference time to the day's end so scores stay far from overflow; ranking
     * and decayed values are unchanged by construction. */
    for (uint32_t a = 0; a < e->n_arms; a++)
        fw_feed_rebase(e, &e->arm[a], now);
    if (e->rec)
        rc = fw_rec_end_day(e, ctx, day);
    fw_shop_end_day(e, day);
    fw_ads_end_day(e, day);
    fw_market_end_day(e, day);
    fw_hist_record(&ctx->lat[FW_STAGE_END_DAY], fw_now_ns() - t0);
    return rc;
}

fw_err fw_engine_set_producer_arms(fw_engine *e, const uint8_t *producer_arm)
{
    if (!e->producer_arm || !producer_arm)
        return FW_ERR_INVAL;
    for (uint32_t u = 0; u < e->n_users; u++)
        if (producer_arm[u] >= e->n_arms)
            return FW_ERR_INVAL;
    memcpy(e->producer_arm, producer_arm, e->n_users);
    return FW_OK;
}

uint32_t fw_engine_n_notes(const fw_engine *e)
{
    return e->n_notes;
}

uint64_t fw_engine_note_count(const fw_engine *e, uint32_t note, fw_event_type type)
{
    if (note >= e->n_notes || (unsigned)type >= FW_EV__COUNT)
        return 0;
    return e->counts[(size_t)note * FW_EV__COUNT + type];
}

const uint32_t *fw_engine_ctx_candidates(const fw_engine_ctx *c, uint32_t *n)
{
    *n = c->n_cand;
    return c->cand;
}

int fw_engine_has_rec(const fw_engine *e)
{
    return e->rec != NULL;
}

fw_model_stats fw_engine_model_stats(const fw_engine *e, fw_rec_task task)
{
    fw_model_stats s = {0};
    if (e->rec && (unsigned)task < FW_TASK__COUNT)
        s = e->rec->last[task];
    return s;
}

fw_err fw_engine_plant_delay(fw_engine *e, fw_stage s, int64_t ns)
{
    if (ns < 0 || (s != FW_STAGE_FEED_RECALL && s != FW_STAGE_FEED_RANK && s != FW_STAGE_LOG &&
                   s != FW_STAGE_END_TICK))
        return FW_ERR_INVAL;
    e->plant_ns[s] = ns;
    return FW_OK;
}
