/* bench_feed: latency and single-core throughput of the learning recommender's feed request
 * at scale (default 1M users, 1M notes), next to the cost of scoring the same candidates
 * alone (one 16-float dot product per candidate).
 *
 * What it does, in order:
 *  1. generates the world (sim/world.h, every knob at its default except the sizes) and
 *     calibrates the behaviour model (every knob at its default);
 *  2. creates the engine with one arm: engine.feed.algorithm = rec, recall quotas and the
 *     trending and topic pools raised so that a warmed user's request recalls 500+
 *     candidates (BENCH_QUOTAS, BENCH_POOLS), every other knob at its default;
 *  3. warms the learned state up: for warm_days simulated days, a fixed deterministic sample
 *     of users (warm_share of them) has warm_sessions sessions a day at ticks drawn over the
 *     day, each requesting warm_pages pages; opens are decided with the true probability
 *     fw_behaviour_p_open, likes and saves at the behaviour model's average rates; each
 *     tick's events go to fw_engine_log in user order, creators publish at their own rates
 *     (as sim/run.c draws them), then fw_engine_end_tick; each day ends with
 *     fw_engine_end_day (timed: the day-end retraining cost at this scale);
 *  4. measures `requests` feed requests on one thread for users drawn from the warmed
 *     sample (the active users; --measure-all draws from every user), with the engine's own
 *     per-stage histograms and an exact external timing, flags requests during which the
 *     thread was preempted (other work on the machine), and copies each request's scored
 *     candidates;
 *  5. times, separately, one dot product per copied candidate between the user's taste
 *     vector and the candidate's row of the world's [n_notes * dim] note embeddings: the
 *     scoring-only cost of the same requests, with the same random-access pattern.
 *
 * With --vs-plugin PATH.so it measures the baseline feed instead, against a ranker plug-in
 * (flywheel/policy.h) serving the same candidates: one engine with two cells, cell 0
 * engine.feed.algorithm = baseline and cell 1 = plugin PATH.so, every other knob the same;
 * the warm-up runs on cell 0 (the trending pools, which both cells read, learn from every
 * cell's events), then the measured requests alternate between the cells, each with its own
 * ctx, so that both see the same users, ticks and machine. With the baseline as a plug-in
 * (build/policies/baseline.so) the difference is the plug-in path's own cost.
 *
 * Every random draw comes from a keyed stream (sim/rng.h); the run is deterministic apart
 * from the timings. Usage: bench_feed --help. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "bench_util.h"
#include "model/behaviour.h"
#include "fixture_engine.h"   /* every knob at its default (tests/unit/) */
#include "fixture_world.h"
#include "flywheel/engine.h"
#include "flywheel/policy.h"
#include "model/knobs.h"
#include "model/rng.h"
#include "model/world.h"

/* Recall quotas of the benchmark's arm (engine.rec.*), raised from the defaults so that a
 * request of a warmed user recalls 500+ candidates after de-duplication and the seen
 * filter. X(knob, value). */
#define BENCH_QUOTAS(X) \
    X(social, 96)       \
    X(hot, 192)         \
    X(content, 256)     \
    X(cf, 96)           \
    X(graph, 64)        \
    X(fresh, 64)

/* Pools the hot and content channels draw from, enlarged with their quotas: a warmed user
 * has been served hundreds of notes, which the seen filter removes from recall.
 * X(section, knob, value). */
#define BENCH_POOLS(X)           \
    X(feed, n_trending, 2000)    \
    X(rec, topic_pool, 256)

/* Keys of the warm-up sample (FW_RNG_ACTIVITY of each user at a "day" no simulated day
 * reaches) and of the measured users' draws (FW_RNG_ACTIVITY of an entity no user has). */
#define SAMPLE_DAY UINT32_MAX
#define MEASURE_ENTITY UINT32_MAX

typedef struct bench_opts {
    uint32_t users, notes, requests, warm_days, warm_sessions, warm_pages;
    double warm_share;
    uint64_t seed;
    int measure_all;
    const char *vs_plugin;   /* --vs-plugin: the baseline against this ranker plug-in */
} bench_opts;

static const stage_row report_stages[] = {
    {FW_STAGE_FEED, "feed (whole request)"},
    {FW_STAGE_FEED_RECALL, "  recall (all channels)"},
    {FW_STAGE_RECALL_SOCIAL, "    recall_social"},
    {FW_STAGE_RECALL_HOT, "    recall_hot"},
    {FW_STAGE_RECALL_CONTENT, "    recall_content"},
    {FW_STAGE_RECALL_CF, "    recall_cf"},
    {FW_STAGE_RECALL_GRAPH, "    recall_graph"},
    {FW_STAGE_RECALL_FRESH, "    recall_fresh"},
    {FW_STAGE_FEED_RANK, "  feed_rank"},
    {FW_STAGE_FEED_RERANK, "  feed_rerank"},
};
#define N_REPORT_STAGES (sizeof report_stages / sizeof *report_stages)

static double mean_i64(const int64_t *v, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)v[i];
    return n ? s / (double)n : 0.0;
}

typedef struct lat_summary {
    size_t n;
    double p50_us, p99_us, p999_us, mean_us;
} lat_summary;

/* Exact percentiles of v[i] (ns) over the i where skip is NULL or skip[i] is 0 (scratch
 * holds n values). */
static lat_summary summarize(const int64_t *v, const uint8_t *skip, size_t n, int64_t *scratch)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!skip || !skip[i])
            scratch[m++] = v[i];
    qsort(scratch, m, sizeof *scratch, cmp_i64);
    return (lat_summary){.n = m, .p50_us = pct_sorted(scratch, m, 50.0) / 1e3,
                         .p99_us = pct_sorted(scratch, m, 99.0) / 1e3,
                         .p999_us = pct_sorted(scratch, m, 99.9) / 1e3,
                         .mean_us = mean_i64(scratch, m) / 1e3};
}

static void print_summary_row(const char *label, lat_summary s)
{
    printf("  %-40s %10.2f %10.2f %10.2f %10.2f %10zu\n", label, s.p50_us, s.p99_us, s.p999_us,
           s.mean_us, s.n);
}

/* The scoring-only kernel: one dot product of a dim-float user vector with a candidate's
 * row of the embedding table, as the ranker's embedding feature does. */
static float dot_row(const float *a, const float *b, uint32_t dim)
{
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (uint32_t d = 0; d < dim; d++)
        s += a[d] * b[d];
    return s;
}


static const char usage[] =
    "usage: bench_feed [options]\n"
    "\n"
    "Benchmarks the learning recommender's feed request (engine.feed.algorithm = rec) on one\n"
    "thread: generates a world, warms the engine's models up with simulated days, then times\n"
    "feed requests per stage and compares them with scoring the same candidates alone.\n"
    "\n"
    "options:\n"
    "  --users N          world.n_users (default 1000000)\n"
    "  --notes N          world.n_notes (default 1000000)\n"
    "  --requests N       measured feed requests (default 200000)\n"
    "  --warm-days N      simulated warm-up days (default 2; 0 = measure a cold engine)\n"
    "  --warm-share X     share of users in the warm-up sample (default 0.05)\n"
    "  --warm-sessions N  sessions per sampled user per warm-up day (default 4)\n"
    "  --warm-pages N     feed pages per warm-up session (default 3)\n"
    "  --measure-all      draw measured users from every user, not only the warmed sample\n"
    "  --vs-plugin PATH   measure the baseline feed against the ranker plug-in PATH (a .so,\n"
    "                     flywheel/policy.h) on the same candidates, requests alternating\n"
    "  --seed S           master seed (default: the scenario default)\n"
    "  -h, --help         this help\n";

/* The options on the command line (a bad one exits 2: bench_parse_args). */
static bench_opts parse_args(int argc, char **argv)
{
    bench_opts o = {.users = 1000000, .notes = 1000000, .requests = 200000, .warm_days = 2,
                    .warm_sessions = 4, .warm_pages = 3, .warm_share = 0.05, .seed = seed_default()};
    const bench_opt opts[] = {
        {.name = "--users", .kind = BENCH_U32, .dst = &o.users, .lo = 10, .hi = 50000000},
        {.name = "--notes", .kind = BENCH_U32, .dst = &o.notes, .lo = 10, .hi = 50000000},
        {.name = "--requests", .kind = BENCH_U32, .dst = &o.requests, .lo = 1, .hi = 100000000},
        {.name = "--warm-days", .kind = BENCH_U32, .dst = &o.warm_days, .lo = 0, .hi = 365},
        {.name = "--warm-share", .kind = BENCH_SHARE_POS, .dst = &o.warm_share},
        {.name = "--warm-sessions", .kind = BENCH_U32, .dst = &o.warm_sessions, .lo = 1, .hi = 1000},
        {.name = "--warm-pages", .kind = BENCH_U32, .dst = &o.warm_pages, .lo = 1, .hi = 1000},
        {.name = "--measure-all", .kind = BENCH_FLAG, .dst = &o.measure_all},
        {.name = "--vs-plugin", .kind = BENCH_STR, .dst = &o.vs_plugin},
        {.name = "--seed", .kind = BENCH_U64, .dst = &o.seed, .lo = 0, .hi = UINT64_MAX},
    };
    bench_parse_args("bench_feed", usage, opts, sizeof opts / sizeof *opts, argc, argv);
    return o;
}

/* What the warm-up measured on one day. */
typedef struct day_stats {
    double wall_s;        /* ticks of the day: requests, logging, end_tick (not end_day) */
    double end_day_s;     /* the fw_engine_end_day call alone */
    double request_s, log_s, publish_s, end_tick_s;
    uint64_t requests, impressions, opens, likes, saves, published;
} day_stats;

/* The day's events, as fw_engine_log_events takes them. */
typedef struct evbuf {
    fw_event *v;
    size_t n, cap;
} evbuf;

static int evbuf_push(evbuf *b, uint32_t user, uint32_t note, int32_t tick, uint32_t type)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 4096;
        fw_event *v = realloc(b->v, cap * sizeof *v);
        if (!v)
            return -1;
        b->v = v;
        b->cap = cap;
    }
    b->v[b->n++] = (fw_event){.user = user, .note = note, .tick = tick, .type = type};
    return 0;
}

/* Decides what user u does with the page just served at tick, pushing the events. */
static int react(const fw_behaviour_model *m, const fw_world *w, gsl_rng *r, uint32_t u,
                 int32_t tick, const uint32_t *page, uint32_t n, evbuf *ev, day_stats *ds)
{
    /* Likes and saves per open at the behaviour model's average rates (the simulator's own
     * rates depend on the hidden affinity, which sim/behaviour.h does not export). */
    double p_like = m->cfg.interact_rate * m->cfg.like_share;
    double p_save = m->cfg.interact_rate * m->cfg.save_share;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t note = page[i];
        if (note == FW_NONE)
            continue;
        if (evbuf_push(ev, u, note, tick, FW_EV_IMPRESSION))
            return -1;
        ds->impressions++;
        if (gsl_rng_uniform(r) >= fw_behaviour_p_open(m, w, u, note))
            continue;
        if (evbuf_push(ev, u, note, tick, FW_EV_OPEN))
            return -1;
        ds->opens++;
        if (gsl_rng_uniform(r) < p_like) {
            if (evbuf_push(ev, u, note, tick, FW_EV_LIKE))
                return -1;
            ds->likes++;
        }
        if (gsl_rng_uniform(r) < p_save) {
            if (evbuf_push(ev, u, note, tick, FW_EV_SAVE))
                return -1;
            ds->saves++;
        }
    }
    return 0;
}

/* A note to publish during a warm-up day. */
typedef struct pending_note {
    int32_t tick;      /* tick of the day */
    uint32_t creator;  /* creator index */
    uint32_t seq;
    fw_new_note note;
    size_t emb_at;
} pending_note;

typedef struct postings {
    pending_note *v;
    float *emb;
    size_t n, cap;
} postings;

static int cmp_pending(const void *a, const void *b)
{
    const pending_note *x = a, *y = b;
    if (x->tick != y->tick)
        return x->tick < y->tick ? -1 : 1;
    if (x->creator != y->creator)
        return x->creator < y->creator ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The day's new notes, as the simulator draws them (sim/run.c): each creator posts
 * Poisson(rate) notes at uniform ticks, from the creator's FW_RNG_POSTING stream of the day. */
static fw_err build_postings(const fw_world *w, const fw_world_cfg *wc, uint64_t seed, uint32_t day,
                             gsl_rng *r, postings *p)
{
    uint32_t tpd = w->ticks_per_day;
    p->n = 0;
    for (uint32_t c = 0; c < w->n_creators; c++) {
        fw_rng_seek(r, seed, FW_RNG_POSTING, w->creator_user[c], day);
        unsigned k = gsl_ran_poisson(r, w->creator_rate[c]);
        for (unsigned j = 0; j < k; j++) {
            if (p->n == p->cap) {
                size_t cap = p->cap ? 2 * p->cap : 1024;
                pending_note *v = realloc(p->v, cap * sizeof *v);
                if (v)
                    p->v = v;
                float *e = realloc(p->emb, cap * w->dim * sizeof *e);
                if (e)
                    p->emb = e;
                if (!v || !e)
                    return FW_ERR_NOMEM;
                p->cap = cap;
            }
            pending_note *x = &p->v[p->n];
            x->tick = (int32_t)gsl_rng_uniform_int(r, tpd);
            x->creator = c;
            x->seq = j;
            x->emb_at = p->n * w->dim;
            fw_world_draw_note(w, wc, r, c, (int32_t)(day * tpd) + x->tick, &x->note,
                               &p->emb[x->emb_at]);
            p->n++;
        }
    }
    qsort(p->v, p->n, sizeof *p->v, cmp_pending);
    return FW_OK;
}

/* One warm-up day: the sampled users' sessions (sched_user[sched_off[t]..sched_off[t+1]),
 * users ascending within a tick), each tick's log, end_tick, then end_day. */
static fw_err warm_day(fw_engine *e, fw_engine_ctx *ctx, const fw_behaviour_model *m,
                       fw_world *w, const bench_opts *o, uint32_t day,
                       const uint32_t *sched_off, const uint32_t *sched_user, const postings *post,
                       gsl_rng *r, evbuf *ev, uint32_t *page, uint32_t page_cap, day_stats *ds)
{
    uint32_t tpd = w->ticks_per_day;
    size_t pend_at = 0;
    fw_err rc;
    memset(ds, 0, sizeof *ds);
    double t_day = now_s();
    for (uint32_t t = 0; t < tpd; t++) {
        int32_t tick = (int32_t)(day * tpd + t);
        ev->n = 0;
        uint32_t prev = FW_NONE;
        for (uint32_t k = sched_off[t]; k < sched_off[t + 1]; k++) {
            uint32_t u = sched_user[k];
            if (u != prev)   /* one stream per (user, tick), as the simulator's sessions */
                fw_rng_seek(r, o->seed, FW_RNG_SESSION, u, (uint32_t)tick);
            prev = u;
            fw_feed_req req = {.user = u, .arm = 0, .tick = tick};
            for (uint32_t p = 0; p < o->warm_pages; p++) {
                double q0 = now_s();
                uint32_t n = fw_feed_request(e, ctx, &req, page, page_cap);
                ds->request_s += now_s() - q0;
                ds->requests++;
                if (react(m, w, r, u, tick, page, n, ev, ds))
                    return FW_ERR_NOMEM;
            }
        }
        double t1 = now_s();
        if ((rc = fw_engine_log_events(e, ctx, ev->v, ev->n)) != FW_OK)
            return rc;
        double t2 = now_s();
        /* Notes written during this tick go live at its end (as in the simulator). */
        while (pend_at < post->n && post->v[pend_at].tick == (int32_t)t) {
            const pending_note *x = &post->v[pend_at++];
            uint32_t wid, eid;
            if ((rc = fw_world_add_note(w, &x->note, &post->emb[x->emb_at], &wid)) != FW_OK ||
                (rc = fw_engine_publish(e, ctx, &x->note.info, &eid)) != FW_OK)
                return rc;
            if (wid != eid)
                return FW_ERR_INTERNAL;
            ds->published++;
        }
        double t3 = now_s();
        fw_engine_end_tick(e, ctx, tick);
        double t4 = now_s();
        ds->log_s += t2 - t1;
        ds->publish_s += t3 - t2;
        ds->end_tick_s += t4 - t3;
    }
    ds->wall_s = now_s() - t_day;
    double t5 = now_s();
    rc = fw_engine_end_day(e, ctx, day);
    ds->end_day_s = now_s() - t5;
    return rc;
}

/* The day's schedule: each sampled user's warm_sessions ticks, from the user's
 * FW_RNG_ACTIVITY stream of that day, counting-sorted by tick (users stay ascending). */
static void build_schedule(const bench_opts *o, uint32_t day, uint32_t tpd, const uint32_t *sample,
                           uint32_t n_sample, gsl_rng *r, uint32_t *tick_of, uint32_t *sched_off,
                           uint32_t *sched_user)
{
    size_t n = (size_t)n_sample * o->warm_sessions;
    memset(sched_off, 0, ((size_t)tpd + 1) * sizeof *sched_off);
    for (uint32_t i = 0; i < n_sample; i++) {
        fw_rng_seek(r, o->seed, FW_RNG_ACTIVITY, sample[i], day);
        for (uint32_t s = 0; s < o->warm_sessions; s++) {
            uint32_t t = (uint32_t)gsl_rng_uniform_int(r, tpd);
            tick_of[(size_t)i * o->warm_sessions + s] = t;
            sched_off[t + 1]++;
        }
    }
    for (uint32_t t = 0; t < tpd; t++)
        sched_off[t + 1] += sched_off[t];
    /* Stable placement; sessions of one user at the same tick stay adjacent. */
    uint32_t *at = sched_off;   /* reuse as cursors, then restore */
    for (size_t k = 0; k < n; k++)
        sched_user[at[tick_of[k]]++] = sample[k / o->warm_sessions];
    for (uint32_t t = tpd; t > 0; t--)
        sched_off[t] = sched_off[t - 1];
    sched_off[0] = 0;
}

/* The benchmark's arm, on one line: what differs from the defaults. */
static void print_arm(const fw_engine_cfg *ec)
{
    if (ec->feed.algorithm == FW_FEED_BASELINE) {
        printf("engine.feed.algorithm = baseline (cell 0) vs plugin %s (cell 1); pools", ec->feed.plugin);
#define P(section, knob, value) printf(" engine.%s.%s %u", #section, #knob, ec->section.knob);
        BENCH_POOLS(P)
#undef P
        return;
    }
    printf("engine.feed.algorithm = rec; recall quotas");
#define Q(knob, value) printf(" %s %u", #knob, ec->rec.knob);
    BENCH_QUOTAS(Q)
#undef Q
    printf(" (sum %u); pools",
           ec->rec.social + ec->rec.hot + ec->rec.content + ec->rec.cf + ec->rec.graph + ec->rec.fresh);
#define P(section, knob, value) printf(" engine.%s.%s %u", #section, #knob, ec->section.knob);
    BENCH_POOLS(P)
#undef P
}

int main(int argc, char **argv)
{
    bench_opts o = parse_args(argc, argv);
    int status = 1;
    fw_err rc = FW_OK;
    fw_world w;
    int have_world = 0;
    fw_engine *e = NULL;
    fw_engine_ctx *ctx = NULL, *ctx1 = NULL;   /* ctx1: cell 1's requests (--vs-plugin) */
    gsl_rng *r = NULL;
    evbuf ev = {0};
    postings post = {0};
    uint32_t *sample = NULL, *tick_of = NULL, *sched_off = NULL, *sched_user = NULL, *page = NULL;
    uint32_t *m_user = NULL, *cand = NULL;
    size_t *cand_off = NULL;
    int64_t *feed_ns = NULL, *score_ns = NULL, *ncand = NULL, *scratch = NULL;
    uint8_t *feed_pre = NULL, *score_pre = NULL;
    day_stats *days = NULL;
    double t_begin = now_s();

    /* ---- world and behaviour model -------------------------------------------------- */
    fw_world_cfg wc = fixture_world_cfg(o.users, o.notes, 0, 0);   /* products, brands: defaults */
    printf("bench_feed: the learning recommender's feed request, one thread\n");
    print_load("at start");
    printf("world: %u users, %u notes, %u topics, dim %u, %u ticks/day (other world knobs at "
           "their defaults), seed %llu\n",
           wc.n_users, wc.n_notes, wc.n_topics, wc.embed_dim, wc.ticks_per_day,
           (unsigned long long)o.seed);
    double t0 = now_s();
    if ((rc = fw_world_generate(&wc, o.seed, &w)) != FW_OK) {
        fprintf(stderr, "bench_feed: generating the world failed: %s\n", fw_err_str(rc));
        goto out;
    }
    have_world = 1;
    printf("  generated in %.1f s: %u notes, %u creators, %llu follow edges; peak RSS %.0f MiB\n",
           now_s() - t0, w.n_notes, w.n_creators, (unsigned long long)w.n_follow_edges,
           peak_rss_mib());
    fw_behaviour_cfg bc = fixture_behaviour_cfg();
    fw_behaviour_model model;
    t0 = now_s();
    if (fw_behaviour_calibrate(&model, &bc, &w, o.seed) != FW_OK) {
        fprintf(stderr, "feed_bench: out of memory calibrating the behaviour model\n");
        exit(1);
    }
    printf("  behaviour model calibrated in %.1f s (defaults: open_rate %.3f)\n", now_s() - t0,
           bc.open_rate);

    /* ---- engine ------------------------------------------------------------------------ */
    fw_engine_cfg ec = fixture_engine_cfg();
    ec.feed.ad_first_slot = 0;   /* the organic feed: ads are benchmarked by their own stage */
    ec.feed.algorithm = o.vs_plugin ? FW_FEED_BASELINE : FW_FEED_REC;
    fw_engine_cfg cells[2] = {ec, ec};
    if (o.vs_plugin) {
        char why[1024];
        cells[0].feed.algorithm = FW_FEED_BASELINE;
        cells[1].feed.algorithm = FW_FEED_PLUGIN;
        cells[0].feed.plugin = cells[1].feed.plugin = (char *)o.vs_plugin;   /* read, never written */
        if (fw_policy_check_ranker(&cells[1], o.users, 32, 96, o.seed, why, sizeof why) != FW_OK) {
            fprintf(stderr, "bench_feed: --vs-plugin: %s\n", why);
            status = 2;
            goto out;
        }
        ec.feed.plugin = cells[0].feed.plugin;
    }
#define Q(knob, value) ec.rec.knob = value;
    BENCH_QUOTAS(Q)
#undef Q
#define P(section, knob, value) ec.section.knob = value; cells[0].section.knob = value; cells[1].section.knob = value;
    BENCH_POOLS(P)
#undef P
    printf("engine: %s, ", o.vs_plugin ? "two cells" : "one arm");
    print_arm(&ec);
    printf("\n  other knobs at their defaults (page_size %u, seen_window %u, dim %u, walks %u, "
           "content_topics %u, history %u, neighbours %u, n_fresh %u)\n",
           ec.feed.page_size, ec.feed.seen_window, ec.rec.dim, ec.rec.walks, ec.rec.content_topics,
           ec.rec.history, ec.rec.neighbours, ec.feed.n_fresh);
    fw_catalog cat = {.n_users = w.n_users, .n_topics = w.n_topics, .ticks_per_day = w.ticks_per_day,
                      .n_notes = w.n_notes, .notes = w.note_info, .follow_offsets = w.follow_off,
                      .follows = w.follow_dst};
    t0 = now_s();
    if (!(e = o.vs_plugin ? fw_engine_create(&cat, cells, 2, &rc) : fw_engine_create(&cat, &ec, 1, &rc))) {
        fprintf(stderr, "bench_feed: creating the engine failed: %s\n", fw_err_str(rc));
        goto out;
    }
    if (!(ctx = fw_engine_ctx_create(e)) || (o.vs_plugin && !(ctx1 = fw_engine_ctx_create(e)))) {
        fprintf(stderr, "bench_feed: out of memory creating the engine ctx\n");
        goto out;
    }
    printf("  created in %.1f s; peak RSS %.0f MiB\n", now_s() - t0, peak_rss_mib());

    uint32_t tpd = w.ticks_per_day, page_cap = ec.feed.page_size;
    if (!(r = fw_rng_create(o.seed, FW_RNG_ACTIVITY, 0, 0)) ||
        !(sample = malloc((size_t)w.n_users * sizeof *sample)) ||
        !(page = malloc(page_cap * sizeof *page)) ||
        !(days = calloc(o.warm_days ? o.warm_days : 1, sizeof *days)))
        goto oom;

    /* ---- the warm-up sample ------------------------------------------------------------ */
    uint32_t n_sample = 0;
    for (uint32_t u = 0; u < w.n_users; u++) {
        fw_rng_seek(r, o.seed, FW_RNG_ACTIVITY, u, SAMPLE_DAY);
        if (gsl_rng_uniform(r) < o.warm_share)
            sample[n_sample++] = u;
    }
    if (n_sample == 0) {
        fprintf(stderr, "bench_feed: the warm-up sample is empty; raise --warm-share\n");
        goto out;
    }

    /* ---- warm-up ----------------------------------------------------------------------- */
    size_t n_sched = (size_t)n_sample * o.warm_sessions;
    if (!(tick_of = malloc(n_sched * sizeof *tick_of)) ||
        !(sched_user = malloc(n_sched * sizeof *sched_user)) ||
        !(sched_off = malloc(((size_t)tpd + 1) * sizeof *sched_off)))
        goto oom;
    printf("warm-up: %u days; each day %u sampled users (%.1f%% of users, the same every day) "
           "have %u sessions at random ticks, %u pages of %u notes each: %llu requests a day.\n"
           "  Opens drawn with the true p_open (fw_behaviour_p_open), likes/saves at the average "
           "rates %.4f/%.4f per open;\n  events logged per tick in user order; creators publish "
           "at their own rates as in the simulator (Poisson(rate) a day, at the end of the tick);\n"
           "  end_tick every tick, end_day every day.\n",
           o.warm_days, n_sample, 100.0 * n_sample / w.n_users, o.warm_sessions, o.warm_pages,
           page_cap, (unsigned long long)n_sched * o.warm_pages,
           bc.interact_rate * bc.like_share, bc.interact_rate * bc.save_share);
    for (uint32_t d = 0; d < o.warm_days; d++) {
        build_schedule(&o, d, tpd, sample, n_sample, r, tick_of, sched_off, sched_user);
        if ((rc = build_postings(&w, &wc, o.seed, d, r, &post)) != FW_OK) {
            fprintf(stderr, "bench_feed: drawing day %u's notes failed: %s\n", d, fw_err_str(rc));
            goto out;
        }
        day_stats *ds = &days[d];
        if ((rc = warm_day(e, ctx, &model, &w, &o, d, sched_off, sched_user, &post, r, &ev, page,
                           page_cap, ds)) != FW_OK) {
            fprintf(stderr, "bench_feed: warm-up day %u failed: %s\n", d, fw_err_str(rc));
            goto out;
        }
        printf("  day %u: %llu requests, %llu impressions, %llu opens (CTR %.4f), %llu likes, "
               "%llu saves, %llu notes published\n"
               "         day wall %.2f s (requests %.2f s, log+train %.2f s, publish %.2f s, "
               "end_tick %.2f s); end_day %.3f s; peak RSS %.0f MiB\n",
               d, (unsigned long long)ds->requests, (unsigned long long)ds->impressions,
               (unsigned long long)ds->opens, ds->impressions ? (double)ds->opens / ds->impressions : 0.0,
               (unsigned long long)ds->likes, (unsigned long long)ds->saves,
               (unsigned long long)ds->published, ds->wall_s, ds->request_s, ds->log_s,
               ds->publish_s, ds->end_tick_s, ds->end_day_s, peak_rss_mib());
    }
    if (o.warm_days) {
        const fw_hist *h = fw_engine_ctx_latency(ctx, FW_STAGE_FEED);
        printf("  warm-up feed requests: p50 %.1f us, p99 %.1f us over %llu requests "
               "(the models changing as they learn)\n",
               fw_hist_percentile(h, 50.0) / 1e3, fw_hist_percentile(h, 99.0) / 1e3,
               (unsigned long long)h->total);
        fw_model_stats ms = fw_engine_model_stats(e, FW_TASK_OPEN);
        if (ms.weight > 0)
            printf("  open model on the last warm-up day: log loss %.4f, predicted %.4f vs "
                   "observed %.4f (weighted means)\n",
                   ms.log_loss / ms.weight, ms.predicted / ms.weight, ms.observed / ms.weight);
    }
    double rss_before_measure = peak_rss_mib();

    /* ---- measurement: feed requests ---------------------------------------------------- */
    fw_engine_ctx_reset_latency(ctx);
    size_t N = o.requests, cand_cap = (size_t)N * 64;
    if (!(m_user = malloc(N * sizeof *m_user)) || !(feed_ns = malloc(N * sizeof *feed_ns)) ||
        !(score_ns = malloc(N * sizeof *score_ns)) || !(ncand = malloc(N * sizeof *ncand)) ||
        !(cand_off = malloc((N + 1) * sizeof *cand_off)) ||
        !(scratch = malloc(N * sizeof *scratch)) || !(feed_pre = malloc(N)) || !(score_pre = malloc(N)) ||
        !(cand = malloc(cand_cap * sizeof *cand)))
        goto oom;
    fw_rng_seek(r, o.seed, FW_RNG_ACTIVITY, MEASURE_ENTITY, o.warm_days);
    for (size_t i = 0; i < N; i++)
        m_user[i] = o.measure_all ? (uint32_t)gsl_rng_uniform_int(r, w.n_users)
                                  : sample[gsl_rng_uniform_int(r, n_sample)];
    /* The clock's own cost: the engine reads it around every stage (about ten times per
     * request), so it is part of every latency below. */
    double clock_ns = clock_cost_ns();
    int32_t base_tick = (int32_t)(o.warm_days * tpd);
    printf("measure: %zu feed requests on one thread for users drawn uniformly from %s, at "
           "ticks spread over day %u;\n  no events are logged (the engine state is frozen apart "
           "from each user's seen filter); clock_gettime costs %.1f ns\n",
           N, o.measure_all ? "every user" : "the warm-up sample (the active users)", o.warm_days,
           clock_ns);
    cand_off[0] = 0;
    double t_feed = now_s();
    for (size_t i = 0; i < N; i++) {
        uint32_t arm = o.vs_plugin ? (uint32_t)(i & 1) : 0;   /* --vs-plugin: alternate the cells */
        fw_engine_ctx *c = arm ? ctx1 : ctx;
        fw_feed_req req = {.user = m_user[i], .arm = arm,
                           .tick = base_tick + (int32_t)((uint64_t)i * tpd / N)};
        long pre = preemptions();
        int64_t q0 = now_ns();
        fw_feed_request(e, c, &req, page, page_cap);
        feed_ns[i] = now_ns() - q0;
        feed_pre[i] = preemptions() != pre;
        uint32_t nc;
        const uint32_t *cv = fw_engine_ctx_candidates(c, &nc);
        ncand[i] = nc;
        if (cand_off[i] + nc > cand_cap) {
            size_t cap = 2 * cand_cap + nc;
            uint32_t *p = realloc(cand, cap * sizeof *p);
            if (!p)
                goto oom;
            cand = p;
            cand_cap = cap;
        }
        memcpy(cand + cand_off[i], cv, nc * sizeof *cv);
        cand_off[i + 1] = cand_off[i] + nc;
    }
    double feed_wall_s = now_s() - t_feed;

    /* ---- measurement: scoring only ----------------------------------------------------- */
    uint32_t D = w.dim;
    volatile float sink = 0.0f;
    double t_score = now_s();
    for (size_t i = 0; i < N; i++) {
        const float *pu = w.taste + (size_t)m_user[i] * D;
        long pre = preemptions();
        int64_t q0 = now_ns();
        float s = 0.0f;
        for (size_t k = cand_off[i]; k < cand_off[i + 1]; k++)
            s += dot_row(pu, w.note_emb + (size_t)cand[k] * D, D);
        score_ns[i] = now_ns() - q0;
        score_pre[i] = preemptions() != pre;
        sink += s;
    }
    double score_wall_s = now_s() - t_score;
    (void)sink;

    /* ---- report ------------------------------------------------------------------------ */
    uint64_t scored = fw_engine_ctx_work(ctx, FW_WORK_SCORED);
    uint64_t reqs = fw_engine_ctx_work(ctx, FW_WORK_FEED_REQUESTS);
    double mean_cand = reqs ? (double)scored / reqs : 0.0;
    qsort(ncand, N, sizeof *ncand, cmp_i64);
    size_t under500 = 0;
    while (under500 < N && ncand[under500] < 500)
        under500++;
    const fw_hist *hf = fw_engine_ctx_latency(ctx, FW_STAGE_FEED);
    double feed_p50 = (double)fw_hist_percentile(hf, 50.0) / 1e3;
    double feed_p99 = (double)fw_hist_percentile(hf, 99.0) / 1e3;
    double feed_mean = fw_hist_mean(hf) / 1e3;
    lat_summary fe_all = summarize(feed_ns, NULL, N, scratch);
    lat_summary fe_clean = summarize(feed_ns, feed_pre, N, scratch);
    lat_summary sc_all = summarize(score_ns, NULL, N, scratch);
    lat_summary sc_clean = summarize(score_ns, score_pre, N, scratch);
    double cand_mb = cand_off[N] * sizeof *cand / 1048576.0;

    printf("\n==== result: bench_feed --users %u --notes %u --requests %u --warm-days %u "
           "--warm-share %g --warm-sessions %u --warm-pages %u --seed %llu%s ====\n",
           o.users, o.notes, o.requests, o.warm_days, o.warm_share, o.warm_sessions, o.warm_pages,
           (unsigned long long)o.seed, o.measure_all ? " --measure-all" : "");
    printf("arm: ");
    print_arm(&ec);
    printf("\nwarm-up: %u days x %u users (%.1f%%) x %u sessions x %u pages; measured users: %s\n",
           o.warm_days, n_sample, 100.0 * n_sample / w.n_users, o.warm_sessions, o.warm_pages,
           o.measure_all ? "all" : "the warm-up sample");
    printf("\nlatency of %zu feed requests on one thread (engine histograms: %d significant "
           "digits; external: exact):\n",
           N, hf->sigfigs);
    stage_stats st[N_REPORT_STAGES];
    stage_stats_of(ctx, report_stages, N_REPORT_STAGES, st);
    print_stage_table(report_stages, st, N_REPORT_STAGES, 40);
    print_summary_row("feed, externally timed, all requests", fe_all);
    print_summary_row("feed, externally timed, not preempted", fe_clean);
    print_summary_row("scoring only, all requests", sc_all);
    print_summary_row("scoring only, not preempted", sc_clean);
    printf("  (preempted: this thread was switched out by other work during the request -- "
           "%zu feed requests, %zu scoring passes)\n",
           N - fe_clean.n, N - sc_clean.n);
    printf("\ncandidates scored per request: mean %.1f (work counter candidates_scored / "
           "feed_requests); min %lld, p1 %lld, p50 %lld, max %lld; %zu requests (%.2f%%) under 500\n",
           mean_cand, (long long)ncand[0], (long long)pct_sorted(ncand, N, 1.0),
           (long long)pct_sorted(ncand, N, 50.0), (long long)ncand[N - 1], under500,
           100.0 * under500 / N);
    printf("  added per request by channel:");
    static const fw_work chan[] = {FW_WORK_REC_SOCIAL, FW_WORK_REC_HOT, FW_WORK_REC_CONTENT,
                                   FW_WORK_REC_CF, FW_WORK_REC_GRAPH, FW_WORK_REC_FRESH};
    for (size_t k = 0; k < sizeof chan / sizeof *chan; k++)
        printf(" %s %.1f", fw_work_name(chan[k]) + strlen("recalled_"),
               reqs ? (double)fw_engine_ctx_work(ctx, chan[k]) / reqs : 0.0);
    printf("\n  looked at by recall %.1f, walk steps %.1f, notes served %.2f per request\n",
           reqs ? (double)fw_engine_ctx_work(ctx, FW_WORK_RECALLED) / reqs : 0.0,
           reqs ? (double)fw_engine_ctx_work(ctx, FW_WORK_WALK_STEPS) / reqs : 0.0,
           reqs ? (double)fw_engine_ctx_work(ctx, FW_WORK_SERVED) / reqs : 0.0);
    printf("\nthroughput on one core: %.0f requests/s from the mean latency of requests not "
           "preempted;\n  %.0f requests/s from the mean FEED histogram; %.0f requests/s from the "
           "request loop's wall time (%.2f s, incl. preemption, copying candidates and "
           "reading rusage)\n",
           fe_clean.mean_us > 0 ? 1e6 / fe_clean.mean_us : 0.0,
           feed_mean > 0 ? 1e6 / feed_mean : 0.0, N / feed_wall_s, feed_wall_s);
    printf("\nscoring only: one %u-float dot product per candidate, world taste[user] . "
           "note_emb[candidate], the same candidates in the same order;\n  %.2f ns per candidate "
           "(mean, not preempted); scoring loop wall %.2f s\n",
           D, cand_off[N] && sc_clean.n ? sc_clean.mean_us * 1e3 * N / cand_off[N] : 0.0,
           score_wall_s);
    printf("  ratio feed p50 (engine histogram) / scoring-only p50: %.1fx (not preempted, "
           "external: %.1fx)\n",
           sc_all.p50_us > 0 ? feed_p50 / sc_all.p50_us : 0.0,
           sc_clean.p50_us > 0 ? fe_clean.p50_us / sc_clean.p50_us : 0.0);
    printf("  ratio feed mean / scoring-only mean: %.1fx (not preempted: %.1fx)\n",
           sc_all.mean_us > 0 ? feed_mean / sc_all.mean_us : 0.0,
           sc_clean.mean_us > 0 ? fe_clean.mean_us / sc_clean.mean_us : 0.0);

    if (o.vs_plugin) {
        /* Each cell's requests alone: external timings of the requests not preempted, and each
         * ctx's own engine histograms. */
        uint8_t *skip = feed_pre;   /* reused: a request is skipped when preempted or the other cell's */
        lat_summary cell_sum[2];
        uint64_t cell_scored[2], cell_reqs[2];
        for (uint32_t a = 0; a < 2; a++) {
            for (size_t i = 0; i < N; i++)
                skip[i] = (uint8_t)((skip[i] & 1) | ((i & 1) != a) << 1);
            size_t m = 0;
            for (size_t i = 0; i < N; i++)
                if (!skip[i])
                    scratch[m++] = feed_ns[i];
            qsort(scratch, m, sizeof *scratch, cmp_i64);
            cell_sum[a] = (lat_summary){.n = m, .p50_us = pct_sorted(scratch, m, 50.0) / 1e3,
                                        .p99_us = pct_sorted(scratch, m, 99.0) / 1e3,
                                        .p999_us = pct_sorted(scratch, m, 99.9) / 1e3,
                                        .mean_us = mean_i64(scratch, m) / 1e3};
            for (size_t i = 0; i < N; i++)
                skip[i] &= 1;
            fw_engine_ctx *c = a ? ctx1 : ctx;
            cell_scored[a] = fw_engine_ctx_work(c, FW_WORK_SCORED);
            cell_reqs[a] = fw_engine_ctx_work(c, FW_WORK_FEED_REQUESTS);
        }
        printf("\nbaseline (cell 0) vs plug-in %s (cell 1), %zu requests each, alternating:\n", o.vs_plugin, N / 2);
        printf("  %-40s %10s %10s %10s %10s %10s\n", "", "p50_us", "p99_us", "p999_us", "mean_us", "n");
        print_summary_row("baseline, external, not preempted", cell_sum[0]);
        print_summary_row("plug-in, external, not preempted", cell_sum[1]);
        for (uint32_t a = 0; a < 2; a++) {
            fw_engine_ctx *c = a ? ctx1 : ctx;
            const fw_hist *h = fw_engine_ctx_latency(c, FW_STAGE_FEED), *hr = fw_engine_ctx_latency(c, FW_STAGE_FEED_RANK);
            printf("  %-40s feed p50 %.2f us, p99 %.2f us; feed_rank p50 %.2f us; %.1f candidates scored a request\n",
                   a ? "plug-in, engine histograms" : "baseline, engine histograms",
                   fw_hist_percentile(h, 50.0) / 1e3, fw_hist_percentile(h, 99.0) / 1e3,
                   fw_hist_percentile(hr, 50.0) / 1e3, cell_reqs[a] ? (double)cell_scored[a] / cell_reqs[a] : 0.0);
        }
        printf("  plug-in / baseline: p50 %.3fx, mean %.3fx (external, not preempted)\n",
               cell_sum[0].p50_us > 0 ? cell_sum[1].p50_us / cell_sum[0].p50_us : 0.0,
               cell_sum[0].mean_us > 0 ? cell_sum[1].mean_us / cell_sum[0].mean_us : 0.0);
    }

    printf("\nwarm-up and day end (%u warm-up days):\n", o.warm_days);
    printf("  %-4s %9s %9s %11s %11s %12s %10s %11s %10s\n", "day", "requests", "new_notes",
           "day_wall_s", "requests_s", "log_train_s", "publish_s", "end_tick_s", "end_day_s");
    for (uint32_t d = 0; d < o.warm_days; d++)
        printf("  %-4u %9llu %9llu %11.2f %11.2f %12.2f %10.2f %11.2f %10.3f\n", d,
               (unsigned long long)days[d].requests, (unsigned long long)days[d].published,
               days[d].wall_s, days[d].request_s, days[d].log_s, days[d].publish_s,
               days[d].end_tick_s, days[d].end_day_s);
    printf("  (a warm-up day is a partial day: %.1f%% of users, %u sessions each; a full "
           "simulated day has every active user's sessions)\n",
           100.0 * n_sample / w.n_users, o.warm_sessions);

    printf("\nmemory: peak RSS %.0f MiB (%.0f MiB before the measurement; the measurement's "
           "copied candidates take %.0f MiB)\n",
           peak_rss_mib(), rss_before_measure, cand_mb);
    double ratio = sc_all.p50_us > 0 ? feed_p50 / sc_all.p50_us : 0.0;
    printf("aims (issue 22): feed p99 %.1f us (engine histogram; %.1f us not preempted) vs 300 us: %s; "
           "feed p50 %.1fx scoring-only p50 vs 3x: %s\n",
           feed_p99, fe_clean.p99_us, feed_p99 < 300.0 ? "met" : "NOT met", ratio,
           ratio > 0 && ratio <= 3.0 ? "met" : "NOT met");
    printf("RATIO feed / scoring-only (target <= 3x): p50 %.1fx, mean %.1fx; not preempted, "
           "external: p50 %.1fx, mean %.1fx\n",
           ratio, sc_all.mean_us > 0 ? feed_mean / sc_all.mean_us : 0.0,
           sc_clean.p50_us > 0 ? fe_clean.p50_us / sc_clean.p50_us : 0.0,
           sc_clean.mean_us > 0 ? fe_clean.mean_us / sc_clean.mean_us : 0.0);
    print_end(t_begin);
    status = 0;
    goto out;
oom:
    fprintf(stderr, "bench_feed: out of memory\n");
out:
    free(days);
    free(cand);
    free(cand_off);
    free(ncand);
    free(score_ns);
    free(scratch);
    free(feed_pre);
    free(score_pre);
    free(feed_ns);
    free(m_user);
    free(page);
    free(sched_off);
    free(sched_user);
    free(tick_of);
    free(sample);
    free(ev.v);
    free(post.v);
    free(post.emb);
    if (r)
        gsl_rng_free(r);
    fw_engine_ctx_destroy(ctx);
    fw_engine_ctx_destroy(ctx1);
    fw_engine_destroy(e);
    if (have_world)
        fw_world_fini(&w);
    return status;
}
