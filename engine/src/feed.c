/* The baseline feed: recall from followed creators, the trending pool and the fresh pool;
 * score by follow bonus + log decayed engagement + freshness, times a recency decay;
 * de-duplicate against what the user was served recently; top-k with ties broken on
 * (score desc, id asc). It learns only from logged events.
 *
 * Invariants: a request reads only state frozen between barriers, plus its own user's seen
 * filters; ctx's id set is valid only for entries whose stamp equals ctx->stamp. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"

void fw_feed_rebase(fw_engine *e, fw_feed_state *st, int32_t tick)
{
    double scale = fw_feed_decay_at(st, tick);
    for (uint32_t n = 0; n < e->n_notes; n++)
        st->trend[n] *= scale;
    st->t0 = tick;
    st->factor_tick = INT32_MIN;
}

double fw_feed_factor(fw_engine *e, fw_feed_state *st, int32_t tick)
{
    if (tick != st->factor_tick) {
        if ((double)(tick - st->t0) / st->half_life_ticks > FW_FEED_MAX_EXPONENT)
            fw_feed_rebase(e, st, tick);
        st->factor = exp2((double)(tick - st->t0) / st->half_life_ticks);
        st->factor_tick = tick;
    }
    return st->factor;
}

/* True when a ranks before b: higher score first, then lower id. */
static inline int better(double sa, uint32_t ia, double sb, uint32_t ib)
{
    return sa > sb || (sa == sb && ia < ib);
}

/* Keeps the k best of a stream in a min-heap (worst on top). */
typedef struct topk {
    uint32_t *id;
    double *score;
    uint32_t n, k;
} topk;

static void topk_sift_down(topk *t, uint32_t i)
{
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < t->n && better(t->score[w], t->id[w], t->score[l], t->id[l]))
            w = l;
        if (r < t->n && better(t->score[w], t->id[w], t->score[r], t->id[r]))
            w = r;
        if (w == i)
            return;
        uint32_t ti = t->id[i]; t->id[i] = t->id[w]; t->id[w] = ti;
        double ts = t->score[i]; t->score[i] = t->score[w]; t->score[w] = ts;
        i = w;
    }
}

static void topk_offer(topk *t, uint32_t id, double score)
{
    if (t->k == 0)
        return;
    if (t->n < t->k) {
        uint32_t i = t->n++;
        t->id[i] = id;
        t->score[i] = score;
        while (i > 0) {   /* sift up: parent must be worse than child */
            uint32_t p = (i - 1) / 2;
            if (!better(t->score[p], t->id[p], t->score[i], t->id[i]))
                break;
            uint32_t ti = t->id[i]; t->id[i] = t->id[p]; t->id[p] = ti;
            double ts = t->score[i]; t->score[i] = t->score[p]; t->score[p] = ts;
            i = p;
        }
        return;
    }
    if (better(score, id, t->score[0], t->id[0])) {
        t->id[0] = id;
        t->score[0] = score;
        topk_sift_down(t, 0);
    }
}

/* Pops the heap into best-first order in place. */
static void topk_sort(topk *t)
{
    uint32_t n = t->n;
    while (t->n > 1) {
        uint32_t last = --t->n;
        uint32_t ti = t->id[0]; t->id[0] = t->id[last]; t->id[last] = ti;
        double ts = t->score[0]; t->score[0] = t->score[last]; t->score[last] = ts;
        topk_sift_down(t, 0);
    }
    t->n = n;
}

void fw_feed_topk_offer(uint32_t *id, double *score, uint32_t *n, uint32_t k, uint32_t x, double sc)
{
    topk t = {.id = id, .score = score, .n = *n, .k = k};
    topk_offer(&t, x, sc);
    *n = t.n;
}

void fw_feed_topk_sort(uint32_t *id, double *score, uint32_t n)
{
    topk t = {.id = id, .score = score, .n = n, .k = n};
    topk_sort(&t);
}

static int reserved_slot(const fw_feed_cfg *f, uint32_t p1)
{
    return f->ad_first_slot && p1 >= f->ad_first_slot &&
           (p1 == f->ad_first_slot || (f->ad_every && (p1 - f->ad_first_slot) % f->ad_every == 0));
}

uint32_t fw_feed_organic_slots(const fw_feed_cfg *f, uint32_t cap)
{
    uint32_t len = cap < f->page_size ? cap : f->page_size, n = 0;
    for (uint32_t p1 = 1; p1 <= len; p1++)
        n += !reserved_slot(f, p1);
    return n;
}

uint32_t fw_feed_place_slots(const fw_feed_cfg *f, const uint32_t *org, uint32_t n, uint32_t *out,
                             uint32_t cap)
{
    uint32_t len = cap < f->page_size ? cap : f->page_size, k = 0, pos;
    for (pos = 0; pos < len; pos++) {
        if (reserved_slot(f, pos + 1))   /* 1-based position */
            out[pos] = FW_NONE;
        else if (k < n)
            out[pos] = org[k++];
        else
            break;
    }
    /* A trailing reserved slot with no organic note after it is dropped. */
    while (pos > 0 && out[pos - 1] == FW_NONE)
        pos--;
    return pos;
}

void fw_feed_rebuild_pool(fw_engine *e, fw_feed_state *st)
{
    topk t = {.id = st->pool, .score = st->pool_score, .n = 0, .k = st->cfg.feed.n_trending};
    for (uint32_t n = 0; n < e->n_notes; n++)
        if (st->trend[n] > 0.0)
            topk_offer(&t, n, st->trend[n]);
    topk_sort(&t);
    st->n_pool = t.n;
}

uint64_t fw_feed_refresh_pool(fw_engine *e, fw_feed_state *st)
{
    uint64_t offers = 0;
    uint32_t n_prev = st->n_pool;
    memcpy(st->pool_prev, st->pool, (size_t)n_prev * sizeof *st->pool);
    topk t = {.id = st->pool, .score = st->pool_score, .n = 0, .k = st->cfg.feed.n_trending};
    for (uint32_t k = 0; k < e->n_touched; k++) {
        uint32_t n = e->touched[k];
        if (st->trend[n] > 0.0) {
            topk_offer(&t, n, st->trend[n]);
            offers++;
        }
    }
    for (uint32_t k = 0; k < n_prev; k++) {
        uint32_t n = st->pool_prev[k];
        if (e->touched_epoch[n] != e->epoch && st->trend[n] > 0.0) {
            topk_offer(&t, n, st->trend[n]);
            offers++;
        }
    }
    topk_sort(&t);
    st->n_pool = t.n;
    return offers;
}

/* Remembers id as served to u; FW_ERR_NOMEM when the filters cannot be allocated. */
fw_err fw_feed_seen_add(fw_engine *e, const fw_feed_state *st, uint32_t u, uint32_t id)
{
    uint32_t words = st->seen_words;
    if (!e->seen[u] && !(e->seen[u] = calloc(2 * (size_t)words, sizeof(uint64_t))))
        return FW_ERR_NOMEM;
    uint32_t cur = e->seen_fill[u] >> 31, fill = e->seen_fill[u] & 0x7fffffffu;
    if (fill >= st->seen_half) {   /* rotate: forget the older generation */
        cur ^= 1;
        memset(e->seen[u] + (size_t)cur * words, 0, words * sizeof(uint64_t));
        fill = 0;
    }
    fw_bloom_add(e->seen[u] + (size_t)cur * words, words, fw_note_hash(id));
    e->seen_fill[u] = cur << 31 | (fill + 1);
    return FW_OK;
}

uint32_t fw_feed_request(fw_engine *e, fw_engine_ctx *c, const fw_feed_req *req,
                         uint32_t *out, uint32_t cap)
{
    int64_t t_start = fw_now_ns();
    if (req->user >= e->n_users || req->arm >= e->n_arms)
        return 0;
    fw_feed_state *st = &e->arm[req->arm];
    const fw_feed_cfg *f = &st->cfg.feed;
    uint32_t u = req->user;
    if (f->algorithm == FW_FEED_REC)
        return fw_rec_request(e, c, req, st, out, cap, t_start);

    /* Recall. */
    fw_feed_set_clear(c);

    uint32_t n = 0;
    uint64_t looked = 0;   /* candidates looked at, for the work counters */
    const fw_u32vec *fl = &e->follows[u];
    uint32_t n_creators = fl->n < f->follow_max_creators ? fl->n : f->follow_max_creators;
    for (uint32_t k = 0; k < n_creators; k++) {
        uint32_t cr = fl->v[fl->n - 1 - k];
        uint32_t have = e->recent_total[cr] < e->recent_cap ? e->recent_total[cr] : e->recent_cap;
        if (have > f->follow_recent)
            have = f->follow_recent;
        looked += have;
        for (uint32_t j = 0; j < have; j++) {
            uint32_t id = e->recent[(size_t)cr * e->recent_cap +
                                    (e->recent_total[cr] - 1 - j) % e->recent_cap];
            if (!fw_feed_seen_has(e, st, u, id) && !fw_feed_set_insert(c, id)) {
                c->cand[n] = id;
                c->cand_follow[n++] = 1;
            }
        }
    }
    uint32_t taken = 0, p = 0;
    for (; p < st->n_pool && taken < f->sample_trending; p++)
        if (!fw_feed_seen_has(e, st, u, st->pool[p]) && !fw_feed_set_insert(c, st->pool[p])) {
            c->cand[n] = st->pool[p];
            c->cand_follow[n++] = 0;
            taken++;
        }
    looked += p;
    uint32_t fresh_have = e->fresh_total < e->fresh_cap ? (uint32_t)e->fresh_total : e->fresh_cap;
    if (fresh_have > f->n_fresh)
        fresh_have = f->n_fresh;
    taken = 0;
    for (p = 0; p < fresh_have && taken < f->sample_fresh; p++) {
        uint32_t id = e->fresh[(e->fresh_total - 1 - p) % e->fresh_cap];
        if (!fw_feed_seen_has(e, st, u, id) && !fw_feed_set_insert(c, id)) {
            c->cand[n] = id;
            c->cand_follow[n++] = 0;
            taken++;
        }
    }
    looked += p;
    fw_plant_wait(e, FW_STAGE_FEED_RECALL);
    int64_t t_recall = fw_now_ns();

    /* Rank. The decayed engagement of every note shares one factor per tick and arm. In a
     * producer-side experiment each note is scored under its creator's arm. */
    double decay[FW_MAX_ENGINE_ARMS];
    int producer = e->producer_arm != NULL;
    for (uint32_t a = 0; a < (producer ? e->n_arms : 1); a++)
        decay[a] = fw_feed_decay_at(producer ? &e->arm[a] : st, req->tick);
    c->n_cand = n;
    topk t = {.id = c->order, .score = c->cand_score, .n = 0, .k = fw_feed_organic_slots(f, cap)};
    /* cand_score doubles as the heap's score storage: scores are computed on the fly. */
    for (uint32_t k = 0; k < n; k++) {
        uint32_t id = c->cand[k];
        uint32_t pa = producer ? e->producer_arm[e->notes[id].creator] : 0;
        const fw_feed_state *ps = producer ? &e->arm[pa] : st;
        const fw_feed_cfg *pf = &ps->cfg.feed;
        double age = (double)(req->tick - e->notes[id].created_tick);
        if (age < 0.0)
            age = 0.0;
        double tr = ps->trend[id];   /* most follow and fresh candidates have none: skip log1p */
        double s = tr > 0.0 ? pf->w_trending * log1p(tr * decay[pa]) : 0.0;
        if (c->cand_follow[k])
            s += pf->w_follow;
        if (age < ps->fresh_age_ticks)
            s += pf->w_fresh;
        s *= exp2(-age / ps->recency_half_life_ticks);
        topk_offer(&t, id, s);
    }
    topk_sort(&t);
    uint32_t len = fw_feed_place_slots(f, t.id, t.n, out, cap);
    fw_plant_wait(e, FW_STAGE_FEED_RANK);

    /* Remember what was served; if that is impossible, serve nothing rather than repeat. */
    for (uint32_t k = 0; k < len; k++)
        if (out[k] != FW_NONE && fw_feed_seen_add(e, st, u, out[k]) != FW_OK) {
            t.n = len = 0;
            break;
        }
    c->work[FW_WORK_FEED_REQUESTS]++;
    c->work[FW_WORK_RECALLED] += looked;
    c->work[FW_WORK_SCORED] += n;
    for (uint32_t k = 0; k < len; k++)
        c->work[FW_WORK_SERVED] += out[k] != FW_NONE;
    int64_t t_end = fw_now_ns();
    fw_hist_record(&c->lat[FW_STAGE_FEED_RECALL], t_recall - t_start);
    fw_hist_record(&c->lat[FW_STAGE_FEED_RANK], t_end - t_recall);
    fw_hist_record(&c->lat[FW_STAGE_FEED], t_end - t_start);
    return len;
}

int fw_feed_was_served(const fw_engine *e, uint32_t user, uint32_t arm, uint32_t note)
{
    if (user >= e->n_users || arm >= e->n_arms)
        return 0;
    return fw_feed_seen_has(e, &e->arm[arm], user, note);
}
