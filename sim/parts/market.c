/* The marketplace part: what brands and creators do in the brand-creator marketplace.
 *  - Day start: brands post tasks (world.task_rate each; stream FW_RNG_TASK of the brand and
 *    day); creators of the niche within each open task's follower range quote
 *    (world.quotes_per_task of them; a price from their followers and read rate); the
 *    platform matches; and every matched task's creator writes its sponsored note today
 *    (again after a failed review), on the task's niche, showing its product, queued for the
 *    driver to publish (the engine delivers it to the task).
 *  - Day close: the tasks' table in the result file (the engine reports the books).
 * The prediction of a creator's reads in a quote is their followers times their notes'
 * read rate in this period's per-user counts. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "driver/part.h"
#include "flywheel/market.h"
#include "model/rng.h"

/* The tasks' table at the last day's end. X(name, unit, description), int64 each. */
#define TASK_FIELDS(X)                                                                         \
    X(brand, "brand", "the brand that posted it")                                              \
    X(niche, "topic", "the niche it wants")                                                    \
    X(budget_cents, "cents", "the brand's budget")                                             \
    X(status, "code", "0 open, 1 matched, 2 delivered, 3 completed, 4 expired, 5 failed")     \
    X(creator, "user", "the matched creator (-1: none)")                                       \
    X(price_cents, "cents", "the agreed price")                                                \
    X(note, "note", "the sponsored note (-1: none)")                                           \
    X(impressions, "notes", "the sponsored note's impressions")                                \
    X(reads, "notes", "its reads (opens)")                                                     \
    X(interactions, "events", "its likes, saves and comments")                                 \
    X(saves, "events", "its saves")

enum {
#define ENUM(name, unit, doc) F_##name,
    TASK_FIELDS(ENUM)
#undef ENUM
    F__COUNT
};

static const fw_counter_desc fields[F__COUNT] = {
#define DESC(name, unit, doc) {#name, unit, doc},
    TASK_FIELDS(DESC)
#undef DESC
};

typedef struct market_state {
    gsl_rng *rng;                /* FW_RNG_TASK: sought before every use */
    fw_quote *quotes;
    size_t cap_quotes;
    uint32_t n_tasks;
    int64_t *col[F__COUNT];      /* [n_tasks] each: the tasks' table */
} market_state;

/* Brands post tasks, creators quote, the platform matches. */
static fw_err post_and_match(fw_sim *S, market_state *st)
{
    fw_world *w = &S->w;
    const fw_world_cfg *cfg = &S->sc->world;
    gsl_rng *r = st->rng;
    int32_t now = (int32_t)(S->day * S->tpd);
    uint32_t *const *got = fw_sim_aggs(S);
    for (uint32_t b = 0; b < w->n_brands && cfg->task_rate > 0.0; b++) {
        fw_rng_seek(r, S->sc->seed, FW_RNG_TASK, b, S->day);
        if (gsl_rng_uniform(r) >= cfg->task_rate)
            continue;
        uint32_t cat = w->brand_category[b], product = FW_NONE;
        for (uint32_t k = w->category_off[cat]; k < w->category_off[cat + 1] && product == FW_NONE; k++)
            if (w->product_brand[w->category_products[k]] == b)
                product = w->category_products[k];
        double budget = gsl_ran_lognormal(r, log(cfg->task_budget_cents), 0.7);
        uint32_t fmin = (uint32_t)gsl_ran_lognormal(r, log(20.0), 1.0);
        fw_task_post post = {.brand = b, .niche = cat, .product = product,
                             .budget_cents = budget < 1.0 ? 1 : (int64_t)llround(budget),
                             .followers_min = fmin, .followers_max = fmin * 100 + 100, .tick = now};
        uint32_t id;
        fw_err rc = fw_market_post(S->engine, &post, &id);
        if (rc == FW_ERR_RANGE)   /* the books would overflow: the engine says by how much (the driver, which day) */
            fprintf(stderr, "\nflywheel: %s\n", fw_engine_error(S->engine));
        if (rc != FW_OK)
            return rc;
    }
    /* Quotes for every open task. */
    size_t nq = 0;
    uint32_t n_tasks = fw_market_n_tasks(S->engine);
    for (uint32_t t = 0; t < n_tasks; t++) {
        fw_task_info ti;
        if (fw_market_task(S->engine, t, &ti) != FW_OK)
            return FW_ERR_INTERNAL;
        if (ti.status != FW_MTASK_OPEN)
            continue;
        uint32_t taken = 0;
        for (uint32_t c = 0; c < w->n_creators && taken < cfg->quotes_per_task; c++) {
            uint32_t u = w->creator_user[c], f = fw_market_followers(S->engine, u);
            if (w->creator_niche[c] != ti.post.niche || f < ti.post.followers_min || f > ti.post.followers_max)
                continue;
            /* The creator's logged read rate (reads / impressions of their notes), smoothed. */
            double rate = (got[FW_UM_opens_received][u] + 1.0) / (got[FW_UM_impressions_received][u] + 12.0);
            fw_rng_seek(r, S->sc->seed, FW_RNG_TASK, u, (S->day + 1) << 20 | (t & 0xfffff));
            double price = f * cfg->quote_per_follower_cents * (rate / 0.08) * gsl_ran_lognormal(r, 0.0, 0.3);
            if (nq == st->cap_quotes) {
                size_t cap = st->cap_quotes ? 2 * st->cap_quotes : 256;
                fw_quote *v = realloc(st->quotes, cap * sizeof *v);
                if (!v)
                    return FW_ERR_NOMEM;
                st->quotes = v;
                st->cap_quotes = cap;
            }
            st->quotes[nq++] = (fw_quote){.task = t, .creator = u,
                                          .price_cents = price < 1.0 ? 1 : (int64_t)llround(price),
                                          .predicted_reads = f * rate};
            taken++;
        }
    }
    fw_market_match(S->engine, st->quotes, nq, now);
    return FW_OK;
}

/* Sponsored notes: every matched task's creator writes one today. */
static fw_err write_sponsored(fw_sim *S, market_state *st)
{
    fw_world *w = &S->w;
    gsl_rng *tr = st->rng;
    uint32_t n_tasks = fw_market_n_tasks(S->engine);
    for (uint32_t t = 0; t < n_tasks; t++) {
        fw_task_info ti;
        if (fw_market_task(S->engine, t, &ti) != FW_OK)
            return FW_ERR_INTERNAL;
        int32_t ci = ti.creator != FW_NONE ? w->creator_of[ti.creator] : -1;
        if (ti.status != FW_MTASK_MATCHED || ci < 0)
            continue;
        float *emb;
        fw_pending_note *pn = fw_sim_queue_note(S, &emb);
        if (!pn)
            return FW_ERR_NOMEM;
        fw_rng_seek(tr, S->sc->seed, FW_RNG_TASK, ti.creator, S->day << 20 | (t & 0xfffff));
        pn->tick = (int32_t)gsl_rng_uniform_int(tr, S->tpd);
        pn->creator = (uint32_t)ci;
        pn->seq = 1u << 30 | t;
        pn->task = t;
        fw_world_draw_note(w, &S->sc->world, tr, (uint32_t)ci, (int32_t)(S->day * S->tpd) + pn->tick, &pn->note, emb);
        pn->note.info.topic = (uint16_t)ti.post.niche;
        pn->note.product = ti.post.product;
        for (uint32_t d = 0; d < w->dim; d++)
            emb[d] = w->topic_centroid[(size_t)ti.post.niche * w->dim + d] + (float)gsl_ran_gaussian(tr, 0.6);
        fw_world_draw_terms(w, tr, pn->note.info.topic, pn->note.terms);
    }
    return FW_OK;
}

static fw_err market_day_start(fw_sim *S, fw_part_inst *p)
{
    market_state *st = p->state;
    fw_err rc = post_and_match(S, st);
    return rc != FW_OK ? rc : write_sponsored(S, st);
}

/* The tasks' table as of the day's end (after the engine settled it). */
static fw_err market_day_close(fw_sim *S, fw_part_inst *p)
{
    market_state *st = p->state;
    uint32_t nt = fw_market_n_tasks(S->engine);
    for (int f = 0; f < F__COUNT; f++) {
        int64_t *v = realloc(st->col[f], ((size_t)nt + 1) * sizeof *v);
        if (!v)
            return FW_ERR_NOMEM;
        st->col[f] = v;
    }
    for (uint32_t k = 0; k < nt; k++) {
        fw_task_info ti;
        if (fw_market_task(S->engine, k, &ti) != FW_OK)
            return FW_ERR_INTERNAL;
        int64_t v[F__COUNT] = {
            [F_brand] = ti.post.brand, [F_niche] = ti.post.niche, [F_budget_cents] = ti.post.budget_cents,
            [F_status] = ti.status, [F_creator] = ti.creator == FW_NONE ? -1 : (int64_t)ti.creator,
            [F_price_cents] = ti.price_cents, [F_note] = ti.note == FW_NONE ? -1 : (int64_t)ti.note,
            [F_impressions] = (int64_t)ti.impressions, [F_reads] = (int64_t)ti.reads,
            [F_interactions] = (int64_t)ti.interactions, [F_saves] = (int64_t)ti.saves};
        for (int f = 0; f < F__COUNT; f++)
            st->col[f][k] = v[f];
    }
    st->n_tasks = nt;
    return FW_OK;
}

/* The tasks' table is the recorder's copy of the marketplace's tasks, made at every day's
 * close: it goes, so the file a resumed run writes is right before its first day closes (a
 * column per transfer, each as long as the engine's tasks at most). Skipped: the stream
 * (sought before every use), the quotes (scratch of a day's start; cap_quotes only room). */
static void market_snap(fw_sim *S, fw_part_inst *p, fw_snap *s)
{
    market_state *st = p->state;
    uint32_t max = fw_market_n_tasks(S->engine);
    for (int f = 0; f < F__COUNT && !fw_snap_failed(s); f++) {
        uint32_t n = st->n_tasks;
        fw_snap_vec32(s, (void **)&st->col[f], &n, NULL, sizeof *st->col[f], max);
        if (!fw_snap_loading(s) || fw_snap_failed(s))
            continue;
        if (f > 0 && n != st->n_tasks)
            fw_snap_fail(s, "a tasks' column of %u rows, the first has %u", n, st->n_tasks);
        st->n_tasks = n;
    }
}

static void market_destroy(fw_sim *S, fw_part_inst *p)
{
    (void)S;
    market_state *st = p->state;
    free(st->quotes);
    for (int f = 0; f < F__COUNT; f++)
        free(st->col[f]);
}

static fw_err market_create(fw_sim *S, fw_part_inst *p)
{
    market_state *st = p->state;
    if (!(st->rng = fw_sim_rng(S, FW_RNG_TASK)))
        return FW_ERR_NOMEM;
    if (!S->rec)
        return FW_OK;
    fw_err rc = fw_recorder_group(S->rec, "market", "the brand-creator marketplace (global)");
    if (rc == FW_OK)
        rc = fw_recorder_group(S->rec, "market/tasks", "every task posted, as of the last day's end");
    for (int f = 0; f < F__COUNT && rc == FW_OK; f++) {
        char path[64];
        snprintf(path, sizeof path, "market/tasks/%s", fields[f].name);
        fw_rec_table t = {.path = path, .unit = fields[f].unit, .doc = fields[f].doc, .type = FW_REC_I64,
                          .data = (const void *const *)&st->col[f], .rows = &st->n_tasks, .labels = {"task"}};
        rc = fw_recorder_table(S->rec, &t);
    }
    return rc;
}

const fw_part fw_market_part = {
    .name = "market",
    .state_size = sizeof(market_state),
    .create = market_create,
    .destroy = market_destroy,
    .day_start = market_day_start,
    .day_close = market_day_close,
    .snap = market_snap,
};
