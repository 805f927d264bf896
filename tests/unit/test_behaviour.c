/* Unit tests for sim/model/behaviour and the feed part's session: calibration against its own
 * exposure distribution (checked by re-sampling it independently), feed sessions (the feed
 * part, parts/feed.c, driven alone the way the driver drives it) against a real engine built
 * from the world's catalog (event order, counters, follows, interest drift), the day-end
 * update of satisfaction, activity and interests, and the small growable buffers.
 *
 * One small world (defaults scaled down) is generated for the group; tests that change it
 * (sessions drift interests) generate their own. Statistical thresholds use fixed seeds,
 * so they are deterministic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <math.h>

#include <gsl/gsl_rng.h>

#include "model/behaviour.h"
#include "fixture_engine.h"
#include "fixture_world.h"
#include "experiment/experiment.h"
#include "driver/part.h"
#include "model/rng.h"
#include "model/world.h"

#define SEED UINT64_C(777)

static fw_world_cfg world_cfg(void)
{
    return fixture_world_cfg(2000, 6000, 500, 50);
}

#define behaviour_cfg fixture_behaviour_cfg
#define engine_cfg fixture_engine_cfg

static int setup(void **state)
{
    return fixture_world_setup(state, world_cfg(), SEED);
}

#define teardown fixture_world_teardown

static double sigmoid(double z) { return 1.0 / (1.0 + exp(-z)); }

/* The model's definitions, restated from the header comment of behaviour.c. */
static double affinity(const fw_world *w, uint32_t u, uint32_t n)
{
    uint32_t T = w->n_topics, D = w->dim;
    double x = log(T * (double)w->interest[(size_t)u * T + w->note_info[n].topic] + 0.1);
    double dot = 0.0;
    for (uint32_t d = 0; d < D; d++)
        dot += (double)w->taste[(size_t)u * D + d] * w->note_emb[(size_t)n * D + d];
    return x + dot / D;
}

static double format_match(const fw_world *w, uint32_t u, uint32_t n)
{
    return w->note_info[n].format == FW_FORMAT_VIDEO ? w->video_pref[u] : -w->video_pref[u];
}

/* Rates implied by model m on pairs drawn by the calibration's exposure -- a random user, a
 * topic from the user's interest mix, a random note on that topic -- (on_interest = 1) or
 * on uniformly random pairs (0), from the test's own stream: the mean open probability, and
 * the interactions and follows per read (weighted by the chance of a read). */
typedef struct rates {
    double open, interact, follow;
} rates;

static rates sample_rates(const fw_behaviour_model *m, const fw_world *w, int on_interest,
                          uint32_t n_pairs)
{
    uint32_t T = w->n_topics;
    uint32_t *off = calloc(T + 1, sizeof *off), *by_topic = malloc(w->n_notes * sizeof *by_topic);
    uint32_t *fill = malloc((T + 1) * sizeof *fill);
    assert_non_null(off);
    assert_non_null(by_topic);
    assert_non_null(fill);
    for (uint32_t n = 0; n < w->n_notes; n++)
        off[w->note_info[n].topic + 1]++;
    for (uint32_t t = 0; t < T; t++)
        off[t + 1] += off[t];
    memcpy(fill, off, (T + 1) * sizeof *fill);
    for (uint32_t n = 0; n < w->n_notes; n++)
        by_topic[fill[w->note_info[n].topic]++] = n;

    gsl_rng *r = fw_rng_create(SEED, FW_RNG_TEST, 42, 0);
    assert_non_null(r);
    const fw_behaviour_cfg *c = &m->cfg;
    double open = 0.0, inter = 0.0, fol = 0.0;
    for (uint32_t i = 0; i < n_pairs; i++) {
        uint32_t u = (uint32_t)gsl_rng_uniform_int(r, w->n_users), n = UINT32_MAX;
        if (on_interest) {
            const float *row = &w->interest[(size_t)u * T];
            for (int attempt = 0; attempt < 8 && n == UINT32_MAX; attempt++) {
                double x = gsl_rng_uniform(r), acc = 0.0;
                uint32_t t = 0;
                for (; t + 1 < T; t++)
                    if (x < (acc += row[t]))
                        break;
                if (off[t + 1] > off[t])
                    n = by_topic[off[t] + gsl_rng_uniform_int(r, off[t + 1] - off[t])];
            }
        }
        if (n == UINT32_MAX)
            n = (uint32_t)gsl_rng_uniform_int(r, w->n_notes);
        double x = affinity(w, u, n), q = w->note_quality[n];
        double p = sigmoid(m->b_open + c->open_affinity * x + c->open_quality * q +
                           c->format_weight * format_match(w, u, n));
        open += p;
        inter += p * sigmoid(m->b_interact + x + q);
        fol += p * sigmoid(m->b_follow + x + q);
    }
    gsl_rng_free(r);
    free(off);
    free(by_topic);
    free(fill);
    return (rates){.open = open / n_pairs, .interact = inter / open, .follow = fol / open};
}

static int close_rel(double got, double want, double rel) { return fabs(got - want) <= rel * want; }

/* ---- calibration ------------------------------------------------------------------- */

/* Calibrated intercepts reproduce open_rate, interact_rate and follow_rate on fresh draws
 * of the calibration's exposure (within 10%), for the defaults and for other targets; on
 * random pairs, which a feed would not serve, the open rate is clearly lower. */
static void test_calibrate_hits_targets(void **state)
{
    fixture *f = *state;
    fw_behaviour_cfg cfg = behaviour_cfg();
    fw_behaviour_model m;
    assert_int_equal(fw_behaviour_calibrate(&m, &cfg, &f->w, SEED), FW_OK);
    assert_memory_equal(&m.cfg, &cfg, sizeof cfg);
    assert_true(m.b_open > -40.0 && m.b_open < 40.0);
    rates got = sample_rates(&m, &f->w, 1, 60000);
    assert_true(close_rel(got.open, cfg.open_rate, 0.10));
    assert_true(close_rel(got.interact, cfg.interact_rate, 0.10));
    assert_true(close_rel(got.follow, cfg.follow_rate, 0.10));
    rates off = sample_rates(&m, &f->w, 0, 60000);
    assert_true(off.open < 0.9 * cfg.open_rate);

    cfg.open_rate = 0.3;
    cfg.interact_rate = 0.2;
    cfg.follow_rate = 0.02;
    assert_int_equal(fw_behaviour_calibrate(&m, &cfg, &f->w, SEED), FW_OK);
    got = sample_rates(&m, &f->w, 1, 60000);
    assert_true(close_rel(got.open, 0.3, 0.10));
    assert_true(close_rel(got.interact, 0.2, 0.10));
    assert_true(close_rel(got.follow, 0.02, 0.10));
}

/* Calibration is a pure function of (cfg, world, seed). */
static void test_calibrate_deterministic(void **state)
{
    fixture *f = *state;
    fw_behaviour_cfg cfg = behaviour_cfg();
    fw_behaviour_model a, b, c;
    memset(&b, 0xa5, sizeof b);
    assert_int_equal(fw_behaviour_calibrate(&a, &cfg, &f->w, SEED), FW_OK);
    assert_int_equal(fw_behaviour_calibrate(&b, &cfg, &f->w, SEED), FW_OK);
    assert_true(a.b_open == b.b_open);
    assert_true(a.b_interact == b.b_interact);
    assert_true(a.b_follow == b.b_follow);
    /* Another seed draws other pairs: close, not bit-identical. */
    assert_int_equal(fw_behaviour_calibrate(&c, &cfg, &f->w, SEED + 1), FW_OK);
    assert_true(a.b_open != c.b_open || a.b_interact != c.b_interact);
    assert_true(fabs(a.b_open - c.b_open) < 0.2);
    /* A higher target needs a higher intercept. */
    cfg.open_rate = 0.1;
    assert_int_equal(fw_behaviour_calibrate(&c, &cfg, &f->w, SEED), FW_OK);
    assert_true(c.b_open > a.b_open);
}

/* ---- sessions ---------------------------------------------------------------------- */

/* The feed part's counters sit at BASE in a row of ROW counters; the slots around them are
 * guards the part must not touch. */
#define BASE 2
#define ROW 24

/* Everything a run of sessions needs, wired as the driver wires it (one thread, one arm, the
 * feed part alone). */
typedef struct harness {
    fw_world_cfg wcfg;
    fw_world w;
    fw_behaviour_model m;
    fw_users_state us;
    fw_engine_cfg ecfg;
    fw_engine *e;
    fw_engine_ctx *ctx;
    uint32_t *page;
    fw_slot *slots;
    fw_scenario sc;
    fw_sim S;                       /* what the part sees of the run */
    const fw_part *feed;
    fw_recbuf ev;
    uint64_t counters[ROW];
    fw_user_aggs aggs;              /* per-user counts; sessions write period 1 */
    uint64_t tally[FW_EV__COUNT];   /* events emitted, by type */
    uint64_t digest;                /* FNV-1a over every event emitted, in order */
    uint64_t sessions;
    uint32_t longest;               /* most impressions in one session */
} harness;

static void harness_init(harness *h, const fw_behaviour_cfg *bcfg)
{
    memset(h, 0, sizeof *h);
    h->digest = UINT64_C(0xcbf29ce484222325);
    h->wcfg = world_cfg();
    h->wcfg.n_users = 400;
    h->wcfg.n_notes = 3000;
    h->wcfg.follows_mean = 5.0;
    assert_int_equal(fw_world_generate(&h->wcfg, SEED, &h->w), FW_OK);
    assert_int_equal(fw_behaviour_calibrate(&h->m, bcfg, &h->w, SEED), FW_OK);
    assert_int_equal(fw_users_state_init(&h->us, h->w.n_users), FW_OK);
    assert_int_equal(fw_user_aggs_init(&h->aggs, h->w.n_users), FW_OK);
    h->ecfg = engine_cfg();
    fw_catalog cat = {.n_users = h->w.n_users, .n_topics = h->w.n_topics,
                      .ticks_per_day = h->w.ticks_per_day, .n_notes = h->w.n_notes,
                      .notes = h->w.note_info, .follow_offsets = h->w.follow_off,
                      .follows = h->w.follow_dst};
    fw_err err = FW_OK;
    h->e = fw_engine_create(&cat, &h->ecfg, 1, &err);
    assert_non_null(h->e);
    h->ctx = fw_engine_ctx_create(h->e);
    assert_non_null(h->ctx);
    h->page = calloc(h->ecfg.feed.page_size, sizeof *h->page);
    h->slots = calloc((size_t)h->ecfg.feed.page_size + 1, sizeof *h->slots);
    assert_non_null(h->page);
    assert_non_null(h->slots);
    h->feed = fw_part_by_name("feed");
    assert_non_null(h->feed);
    assert_true(BASE + h->feed->n_counters <= ROW);
    h->sc.seed = SEED;
    h->S.sc = &h->sc;
    h->S.engine = h->e;
    h->S.n_threads = 1;
    h->S.n_parts = 1;
    h->S.n_counters = ROW;
    h->S.part[0] = (fw_part_inst){.def = h->feed, .base = BASE, .state = calloc(1, h->feed->state_size)};
    assert_non_null(h->S.part[0].state);
    assert_int_equal(h->feed->create(&h->S, &h->S.part[0]), FW_OK);
}

/* The feed part's counter called name. */
static uint64_t count(const harness *h, const char *name)
{
    for (uint32_t k = 0; k < h->feed->n_counters; k++)
        if (!strcmp(h->feed->counters[k].name, name))
            return h->counters[BASE + k];
    fail_msg("the feed part has no counter %s", name);
    return 0;
}

/* One session of u at tick, the first of the user's tick when first (the part seeks its
 * stream then), as the driver runs it; returns the step's status. */
static int session(harness *h, uint32_t u, int32_t tick, int first, size_t rec_begin, uint32_t page_cap)
{
    fw_session ss = {.S = &h->S, .m = &h->m, .w = &h->w, .us = &h->us, .engine = h->e, .ctx = h->ctx,
                     .user = u, .cell = 0, .tick = tick, .day = 0, .seed = SEED, .slot = 0, .rec = &h->ev,
                     .rec_begin = rec_begin, .row = h->counters, .agg = h->aggs.v[1], .page = h->page,
                     .slots = h->slots, .page_cap = page_cap};
    if (first)
        h->feed->user_tick(&ss, &h->S.part[0]);
    return h->feed->session_browse(&ss, &h->S.part[0]);
}

static void harness_fini(harness *h)
{
    free(h->page);
    free(h->slots);
    free(h->ev.v);
    fw_sim_fini_parts(&h->S);
    fw_engine_ctx_destroy(h->ctx);
    fw_engine_destroy(h->e);
    fw_users_state_fini(&h->us, h->w.n_users);
    fw_user_aggs_fini(&h->aggs);
    fw_world_fini(&h->w);
}

/* Checks the events of one session [lo, hi): all by u at tick; each note's events come as
 * IMPRESSION [OPEN [LIKE] [SAVE] [COMMENT] [FOLLOW]]; at most max_notes impressions. */
static void check_session_events(harness *h, size_t lo, size_t hi, uint32_t u, int32_t tick)
{
    uint32_t cur = FW_NONE, impressions = 0;
    int last = -1;   /* type of the previous event of the current impression */
    for (size_t k = lo; k < hi; k++) {
        assert_int_equal(h->ev.v[k].kind, FW_RECORD_EVENT);   /* the feed alone makes note events */
        const fw_event *x = &h->ev.v[k].u.ev;
        assert_int_equal(x->user, u);
        assert_int_equal(x->tick, tick);
        assert_true(x->note < h->w.n_notes);
        if (x->type == FW_EV_IMPRESSION) {
            cur = x->note;
            last = FW_EV_IMPRESSION;
            impressions++;
            continue;
        }
        assert_int_equal(x->note, cur);   /* about the note on screen */
        if (x->type == FW_EV_OPEN)
            assert_int_equal(last, FW_EV_IMPRESSION);
        else
            assert_true(last >= FW_EV_OPEN && (int)x->type > last);   /* after the open, in order */
        last = (int)x->type;
    }
    assert_true(impressions <= h->m.cfg.max_notes);
    if (impressions > h->longest)
        h->longest = impressions;
}

/* Runs ticks [t0, t0 + ticks); in each, users (t * 37 + k) % n_users for k < per_tick have
 * one session, or two in a row for odd users (sharing rec_begin, as the driver does), then
 * the barrier applies follows to the users' state as the reach part does and logs
 * everything to the engine. Checks every session's events, and that nobody follows a creator they already
 * follow (from day 0 or earlier in the run), or themself. Tallies events by type. */
static void run_ticks(harness *h, uint32_t t0, uint32_t ticks, uint32_t per_tick)
{
    for (uint32_t t = t0; t < t0 + ticks; t++) {
        int32_t tick = (int32_t)t;
        h->ev.n = 0;
        for (uint32_t k = 0; k < per_tick; k++) {
            uint32_t u = (t * 37 + k) % h->w.n_users;
            size_t rec_begin = h->ev.n;
            for (uint32_t s = 0; s < 1 + (u % 2); s++) {
                size_t lo = h->ev.n;
                assert_int_equal(session(h, u, tick, s == 0, rec_begin, h->ecfg.feed.page_size), 0);
                check_session_events(h, lo, h->ev.n, u, tick);
                h->sessions++;
            }
            h->us.active_today[u] = 1;
        }
        /* Barrier. */
        for (size_t k = 0; k < h->ev.n; k++) {
            const fw_event *x = &h->ev.v[k].u.ev;
            h->tally[x->type]++;
            const uint32_t words[4] = {x->user, x->note, (uint32_t)x->tick, x->type};
            for (int i = 0; i < 4; i++)
                h->digest = (h->digest ^ words[i]) * UINT64_C(0x100000001b3);
            if (x->type != FW_EV_FOLLOW)
                continue;
            uint32_t cu = h->w.note_info[x->note].creator;
            assert_int_not_equal(cu, x->user);
            assert_false(fw_users_follows(&h->w, &h->us, x->user, cu));
            assert_int_equal(fw_u32list_push(&h->us.new_follows[x->user], cu), 0);
            h->w.n_followers[cu]++;
        }
        assert_int_equal(fw_engine_log(h->e, h->ctx, h->ev.v, h->ev.n), FW_OK);
        fw_engine_end_tick(h->e, h->ctx, tick);
    }
}

/* An eager population: everything happens often enough to be checked. */
static fw_behaviour_cfg eager_cfg(void)
{
    fw_behaviour_cfg cfg = behaviour_cfg();
    cfg.open_rate = 0.5;
    cfg.interact_rate = 0.8;
    cfg.follow_rate = 0.3;
    cfg.drift = 0.02;
    cfg.max_notes = 40;
    return cfg;
}

static void check_counters(const harness *h)
{
    assert_int_equal(count(h, "impressions"), h->tally[FW_EV_IMPRESSION]);
    assert_int_equal(count(h, "opens"), h->tally[FW_EV_OPEN]);
    assert_int_equal(count(h, "likes"), h->tally[FW_EV_LIKE]);
    assert_int_equal(count(h, "saves"), h->tally[FW_EV_SAVE]);
    assert_int_equal(count(h, "comments"), h->tally[FW_EV_COMMENT]);
    assert_int_equal(count(h, "interactions"),
                     h->tally[FW_EV_LIKE] + h->tally[FW_EV_SAVE] + h->tally[FW_EV_COMMENT]);
    assert_int_equal(count(h, "follows"), h->tally[FW_EV_FOLLOW]);
    /* Each request serves at most a page; each session asks at least once. */
    assert_true(count(h, "feed_requests") >= h->sessions);
    assert_true(count(h, "feed_requests") * h->ecfg.feed.page_size >= count(h, "impressions"));
    /* Users' day counters add up to the same totals. */
    uint64_t imp = 0, opens = 0;
    for (uint32_t u = 0; u < h->w.n_users; u++) {
        imp += h->us.day_impressions[u];
        opens += h->us.day_opens[u];
    }
    assert_int_equal(imp, count(h, "impressions"));
    assert_int_equal(opens, count(h, "opens"));
    /* The part counts only in its own columns of the row. */
    for (uint32_t k = 0; k < ROW; k++)
        if (k < BASE || k >= BASE + h->feed->n_counters)
            assert_int_equal(h->counters[k], 0);
}

static void check_interest_rows(const fw_world *w, double tol)
{
    for (uint32_t u = 0; u < w->n_users; u++) {
        double s = 0.0;
        for (uint32_t t = 0; t < w->n_topics; t++) {
            float x = w->interest[(size_t)u * w->n_topics + t];
            assert_true(x >= 0.0f);
            s += x;
        }
        assert_true(fabs(s - 1.0) < tol);
    }
}

/* Sessions of an eager population over two days of ticks: consistent event order, counters
 * equal to the events emitted, no repeated or self follows across sessions and barriers,
 * interests drift yet stay normalised. */
static void test_session_events(void **state)
{
    (void)state;
    harness h;
    fw_behaviour_cfg cfg = eager_cfg();
    harness_init(&h, &cfg);
    run_ticks(&h, 0, 2 * h.w.ticks_per_day, 12);
    for (int t = 0; t < FW_EV__COUNT; t++)
        assert_true(h.tally[t] > 0);   /* every kind of event happened */
    assert_true(h.tally[FW_EV_FOLLOW] > 50);
    check_counters(&h);
    check_interest_rows(&h.w, 1e-3);
    /* Reading moved interests: some row is no longer the user's own. */
    uint32_t drifted = 0;
    gsl_rng *r = fw_rng_create(1, FW_RNG_TEST, 0, 0);
    assert_non_null(r);
    for (uint32_t u = 0; u < h.w.n_users; u++) {
        float own[FW_WORLD_MAX_TOPICS];
        double theta[FW_WORLD_MAX_TOPICS];
        fw_world_own_interest(&h.w, r, u, theta, own);
        for (uint32_t t = 0; t < h.w.n_topics; t++)
            drifted += h.w.interest[(size_t)u * h.w.n_topics + t] != own[t];
    }
    gsl_rng_free(r);
    assert_true(drifted > 0);
    /* Reads are about as frequent as the model's open rate says (the feed is not the
     * calibration's exposure, so only roughly). */
    double ctr = (double)h.tally[FW_EV_OPEN] / h.tally[FW_EV_IMPRESSION];
    assert_true(ctr > 0.2 && ctr < 0.8);
    harness_fini(&h);
}

/* With the default behaviour, sessions end by themselves, long before max_notes on average
 * (stop_base 0.06), and a session's choices depend only on its stream's key: the same runs
 * on a second harness emit identical events (compared through a digest of all of them). */
static void test_session_deterministic(void **state)
{
    (void)state;
    fw_behaviour_cfg cfg = behaviour_cfg();
    harness a, b;
    harness_init(&a, &cfg);
    harness_init(&b, &cfg);
    run_ticks(&a, 0, 20, 20);
    run_ticks(&b, 0, 20, 20);
    check_counters(&a);
    assert_true(a.tally[FW_EV_OPEN] > 0);
    assert_int_equal(a.digest, b.digest);
    assert_memory_equal(a.tally, b.tally, sizeof a.tally);
    assert_memory_equal(a.counters, b.counters, sizeof a.counters);
    assert_memory_equal(a.w.interest, b.w.interest,
                        (size_t)a.w.n_users * a.w.n_topics * sizeof *a.w.interest);
    double per_session = (double)a.tally[FW_EV_IMPRESSION] / a.sessions;
    assert_true(per_session > 3.0 && per_session < 0.5 * cfg.max_notes);
    harness_fini(&a);
    harness_fini(&b);
}

/* Mean impressions per session of the default population with cfg changed by the caller;
 * the longest session into *longest. */
static double session_length(const fw_behaviour_cfg *cfg, uint32_t *longest)
{
    harness h;
    harness_init(&h, cfg);
    run_ticks(&h, 0, 10, 30);
    double len = (double)h.tally[FW_EV_IMPRESSION] / h.sessions;
    if (longest)
        *longest = h.longest;
    harness_fini(&h);
    return len;
}

/* The stop rule's knobs act in the documented direction: a higher stop_base or fatigue ends
 * sessions sooner; max_notes caps them; and where reading is rewarding (an eager population,
 * whose per-note reward runs above open_rate) a larger satisfaction_weight keeps users
 * longer, while without that weight their sessions are as short as a bored user's. */
static void test_session_length_knobs(void **state)
{
    (void)state;
    fw_behaviour_cfg cfg = behaviour_cfg();
    uint32_t longest = 0;
    double base = session_length(&cfg, &longest);
    assert_true(longest > 40);   /* the default rule has a long tail */
    cfg.stop_base = 0.2;
    double stop = session_length(&cfg, NULL);
    cfg = behaviour_cfg();
    cfg.fatigue = 0.05;
    double tired = session_length(&cfg, NULL);
    cfg = behaviour_cfg();
    cfg.max_notes = 3;
    double capped = session_length(&cfg, NULL);
    assert_true(stop < 0.6 * base);
    assert_true(tired < 0.8 * base);
    assert_true(capped <= 3.0 && capped > 2.0);
    /* Fatigue alone (no base rate, no satisfaction term): the stop probability after the
     * k-th note is 0.05 k, so no session outlasts 20 notes. */
    cfg = behaviour_cfg();
    cfg.stop_base = 0.0;
    cfg.fatigue = 0.05;
    cfg.satisfaction_weight = 0.0;
    assert_true(session_length(&cfg, &longest) > 3.0);
    assert_true(longest <= 20);
    cfg = eager_cfg();
    cfg.max_notes = 200;
    cfg.satisfaction_weight = 0.0;
    double indifferent = session_length(&cfg, NULL);
    cfg.satisfaction_weight = 1.0;
    double engaged = session_length(&cfg, NULL);
    assert_true(engaged > 1.3 * indifferent);
}

/* A user with no notes left to see ends the session at once, emitting nothing. */
static void test_session_empty_feed(void **state)
{
    (void)state;
    fw_behaviour_cfg cfg = behaviour_cfg();
    harness h;
    harness_init(&h, &cfg);
    /* page_cap 0: the engine returns nothing. */
    assert_int_equal(session(&h, 3, 0, 1, 0, 0), 0);
    assert_int_equal(h.ev.n, 0);
    assert_int_equal(count(&h, "feed_requests"), 1);
    assert_int_equal(count(&h, "impressions"), 0);
    harness_fini(&h);
}

/* ---- the day's end ------------------------------------------------------------------ */

/* Satisfaction follows today's CTR relative to the expected CTR (EWMA with memory), and
 * tomorrow's activity follows satisfaction: a user who opened more than expected comes back
 * more than one who opened less. Inactive users drift back to neutral. Day counters reset. */
static void test_end_day_satisfaction(void **state)
{
    fixture *f = *state;
    fw_behaviour_cfg cfg = behaviour_cfg();
    cfg.drift_reversion = 0.0;   /* leave the shared world's interests alone */
    gsl_rng *rng = NULL;         /* so no own interests are drawn */
    fw_behaviour_model m;
    assert_int_equal(fw_behaviour_calibrate(&m, &cfg, &f->w, SEED), FW_OK);
    fw_users_state s;
    assert_int_equal(fw_users_state_init(&s, f->w.n_users), FW_OK);
    for (uint32_t u = 0; u < f->w.n_users; u++)
        assert_true(s.satisfaction[u] == 1.0f);
    assert_true(s.expected_ctr == 0.0);
    s.expected_ctr = 0.05;
    const uint32_t hi = 10, lo = 11, idle = 12;
    s.active_today[hi] = s.active_today[lo] = 1;
    s.day_impressions[hi] = s.day_impressions[lo] = 100;
    s.day_opens[hi] = 10;   /* CTR 0.10: twice what is expected */
    s.day_opens[lo] = 2;    /* CTR 0.02 */
    s.satisfaction[idle] = 0.5f;
    fw_world w = f->w;   /* shallow: only p_active is changed below, and restored */
    fw_behaviour_end_day(&m, &w, &s, hi, rng);
    fw_behaviour_end_day(&m, &w, &s, lo, rng);
    fw_behaviour_end_day(&m, &w, &s, idle, rng);
    double mem = cfg.memory;
    assert_true(fabs(s.satisfaction[hi] - (mem + (1.0 - mem) * 2.0)) < 1e-6);
    assert_true(s.satisfaction[hi] > 1.0f);
    assert_true(fabs(s.satisfaction[lo] - (mem + (1.0 - mem) * 0.4)) < 1e-6);
    assert_true(fabs(s.satisfaction[idle] - (mem * 0.5 + (1.0 - mem))) < 1e-6);
    /* Same base activity for both: the satisfied one is likelier to come back. */
    float p_hi = w.p_active[hi], p_lo = w.p_active[lo];
    w.p_active[hi] = w.p_active[lo] = 0.5f;
    double a_hi = fw_behaviour_p_active(&m, &w, &s, hi), a_lo = fw_behaviour_p_active(&m, &w, &s, lo);
    assert_true(a_hi > 0.5 && a_lo < 0.5 && a_hi > a_lo);
    assert_true(fabs(a_hi - 0.5 * pow(s.satisfaction[hi], cfg.churn_sensitivity)) < 1e-9);
    /* Capped at 0.99, and a zero satisfaction does not blow up. */
    s.satisfaction[hi] = 100.0f;
    assert_true(fw_behaviour_p_active(&m, &w, &s, hi) == 0.99);
    s.satisfaction[lo] = 0.0f;
    double z = fw_behaviour_p_active(&m, &w, &s, lo);
    assert_true(z >= 0.0 && z < 0.01);
    w.p_active[hi] = p_hi;
    w.p_active[lo] = p_lo;
    /* The day's counters are consumed and today's activity becomes yesterday's. */
    assert_int_equal(s.day_impressions[hi], 0);
    assert_int_equal(s.day_opens[hi], 0);
    assert_int_equal(s.active_prev[hi], 1);
    assert_int_equal(s.active_today[hi], 0);
    assert_int_equal(s.active_prev[idle], 0);
    /* Before any expectation exists (day 0), a day counts as neutral. */
    s.expected_ctr = 0.0;
    s.satisfaction[20] = 1.0f;
    s.active_today[20] = 1;
    s.day_impressions[20] = 50;
    s.day_opens[20] = 40;
    fw_behaviour_end_day(&m, &w, &s, 20, rng);
    assert_true(s.satisfaction[20] == 1.0f);
    fw_users_state_fini(&s, f->w.n_users);
}

/* drift_reversion pulls a drifted interest row back towards the user's own (day 0's) by that fraction per
 * day, keeping it normalised; with 0 the row stays where it drifted. */
static void test_drift_reversion(void **state)
{
    (void)state;
    fw_world_cfg wcfg = world_cfg();
    wcfg.n_users = 50;
    wcfg.n_notes = 100;
    fw_world w;
    assert_int_equal(fw_world_generate(&wcfg, SEED, &w), FW_OK);
    uint32_t T = w.n_topics, u = 7;
    float *row = &w.interest[(size_t)u * T], own[FW_WORLD_MAX_TOPICS];
    double theta[FW_WORLD_MAX_TOPICS];
    gsl_rng *rng = fw_rng_create(1, FW_RNG_TEST, 0, 0);
    assert_non_null(rng);
    fw_world_own_interest(&w, rng, u, theta, own);
    assert_memory_equal(row, own, T * sizeof(float));   /* drawn again: the generated row */
    for (uint32_t t = 0; t < T; t++)   /* drifted entirely onto one topic */
        row[t] = t == 3 ? 1.0f : 0.0f;
    fw_behaviour_cfg cfg = behaviour_cfg();
    fw_behaviour_model m;
    assert_int_equal(fw_behaviour_calibrate(&m, &cfg, &w, SEED), FW_OK);
    fw_users_state s;
    assert_int_equal(fw_users_state_init(&s, w.n_users), FW_OK);

    double dist_before = 0.0;
    for (uint32_t t = 0; t < T; t++)
        dist_before += fabs(row[t] - own[t]);
    assert_true(dist_before > 0.1);
    fw_behaviour_end_day(&m, &w, &s, u, rng);
    double dist = 0.0, sum = 0.0;
    for (uint32_t t = 0; t < T; t++) {
        double before = t == 3 ? 1.0 : 0.0;
        assert_true(fabs(row[t] - ((1.0 - cfg.drift_reversion) * before + cfg.drift_reversion * own[t])) < 1e-6);
        dist += fabs(row[t] - own[t]);
        sum += row[t];
    }
    assert_true(fabs(dist - (1.0 - cfg.drift_reversion) * dist_before) < 1e-5);
    assert_true(fabs(sum - 1.0) < 1e-5);
    /* Many days later the row is (nearly) the user's own again. */
    for (int d = 0; d < 200; d++)
        fw_behaviour_end_day(&m, &w, &s, u, rng);
    for (uint32_t t = 0; t < T; t++)
        assert_true(fabs(row[t] - own[t]) < 1e-4);
    /* Other users' rows are untouched. */
    for (uint32_t v = 0; v < u; v++) {
        float other[FW_WORLD_MAX_TOPICS];
        fw_world_own_interest(&w, rng, v, theta, other);
        assert_memory_equal(&w.interest[(size_t)v * T], other, T * sizeof(float));
    }

    /* Without reversion the drift stays. */
    for (uint32_t t = 0; t < T; t++)
        row[t] = t == 3 ? 1.0f : 0.0f;
    cfg.drift_reversion = 0.0;
    assert_int_equal(fw_behaviour_calibrate(&m, &cfg, &w, SEED), FW_OK);
    fw_behaviour_end_day(&m, &w, &s, u, rng);
    for (uint32_t t = 0; t < T; t++)
        assert_true(row[t] == (t == 3 ? 1.0f : 0.0f));
    gsl_rng_free(rng);
    fw_users_state_fini(&s, w.n_users);
    fw_world_fini(&w);
}

/* ---- buffers and follow lookup --------------------------------------------------------- */

static void test_buffers_grow(void **state)
{
    (void)state;
    fw_u32list l = {0};
    for (uint32_t i = 0; i < 10000; i++) {
        assert_int_equal(fw_u32list_push(&l, i * 3 + 1), 0);
        assert_int_equal(l.n, i + 1);
        assert_true(l.cap >= l.n);
    }
    for (uint32_t i = 0; i < 10000; i++)
        assert_int_equal(l.v[i], i * 3 + 1);
    assert_true(l.cap < 2 * 10000 + 4);   /* geometric growth, not wildly over-allocated */
    free(l.v);

    fw_recbuf b = {0};
    for (uint32_t i = 0; i < 20000; i++) {
        assert_int_equal(fw_recbuf_event(&b, i, i + 1, -(int32_t)i, i % FW_EV__COUNT), 0);
        assert_int_equal(b.n, (size_t)i + 1);
        assert_true(b.cap >= b.n);
    }
    for (uint32_t i = 0; i < 20000; i++) {
        assert_int_equal(b.v[i].kind, FW_RECORD_EVENT);
        assert_int_equal(b.v[i].u.ev.user, i);
        assert_int_equal(b.v[i].u.ev.note, i + 1);
        assert_int_equal(b.v[i].u.ev.tick, -(int32_t)i);
        assert_int_equal(b.v[i].u.ev.type, i % FW_EV__COUNT);
    }
    /* Reuse after a reset keeps the capacity and overwrites in place. */
    size_t cap = b.cap;
    b.n = 0;
    fw_record r = {.kind = FW_RECORD_SEARCH_CLICK, .aux = 5};
    assert_int_equal(fw_recbuf_push(&b, &r), 0);
    assert_int_equal(b.cap, cap);
    assert_int_equal(b.v[0].kind, FW_RECORD_SEARCH_CLICK);
    assert_int_equal(b.v[0].aux, 5);
    free(b.v);
}

/* fw_users_follows sees both the day-0 graph and follows made during the run. */
static void test_users_follows(void **state)
{
    fixture *f = *state;
    const fw_world *w = &f->w;
    fw_users_state s;
    assert_int_equal(fw_users_state_init(&s, w->n_users), FW_OK);
    uint32_t u = 0;
    while (w->follow_off[u + 1] == w->follow_off[u])
        u++;
    uint32_t cu = w->follow_dst[w->follow_off[u]];
    assert_true(fw_users_follows(w, &s, u, cu));
    /* A creator u does not follow yet. */
    uint32_t other = FW_NONE;
    for (uint32_t c = 0; c < w->n_creators && other == FW_NONE; c++) {
        uint32_t v = w->creator_user[c];
        if (v != u && !fw_users_follows(w, &s, u, v))
            other = v;
    }
    assert_int_not_equal(other, FW_NONE);
    assert_int_equal(fw_u32list_push(&s.new_follows[u], other), 0);
    assert_true(fw_users_follows(w, &s, u, other));
    /* ... and only for u: a user with no follows at all still follows nobody. */
    uint32_t v = 0;
    while (v == u || w->follow_off[v + 1] != w->follow_off[v])
        v++;
    assert_false(fw_users_follows(w, &s, v, other));
    assert_false(fw_users_follows(w, &s, v, cu));
    fw_users_state_fini(&s, w->n_users);
    assert_null(s.satisfaction);
}

/* ---- satiation and social proof (issue 18) ------------------------------------------ */

/* Satiation: each open adds 1 to the topic's level, which halves every half-life; a fifth
 * topic makes the least satiated one forgotten; with satiation 0 nothing is recorded. */
static void test_satiation_decays(void **state)
{
    fixture *f = *state;
    const fw_world *w = &f->w;
    fw_behaviour_cfg cfg = behaviour_cfg();
    cfg.satiation = 1.0;
    cfg.satiation_half_life_hours = 6.0;   /* a quarter day: ticks_per_day / 4 ticks */
    fw_behaviour_model m;
    assert_int_equal(fw_behaviour_calibrate(&m, &cfg, w, SEED), FW_OK);
    fw_users_state s;
    assert_int_equal(fw_users_state_init(&s, w->n_users), FW_OK);
    int32_t half = (int32_t)(w->ticks_per_day / 4);
    for (int k = 0; k < 3; k++)
        fw_behaviour_satiate(&m, w, &s, 7, 3, 0, 1.0);
    assert_true(fabs(fw_behaviour_satiation(&m, w, &s, 7, 3, 0) - 3.0) < 1e-6);
    assert_true(fabs(fw_behaviour_satiation(&m, w, &s, 7, 3, half) - 1.5) < 1e-6);
    assert_true(fabs(fw_behaviour_satiation(&m, w, &s, 7, 3, 2 * half) - 0.75) < 1e-6);
    assert_true(fw_behaviour_satiation(&m, w, &s, 7, 4, 0) == 0.0);   /* another topic */
    assert_true(fw_behaviour_satiation(&m, w, &s, 8, 3, 0) == 0.0);   /* another user */
    /* Four more topics, each opened once at half: topic 3 (level 1.5 then) stays, and the
     * first of the others (level 1, like the rest: the first least) is forgotten for the last. */
    for (uint32_t t = 10; t < 14; t++)
        fw_behaviour_satiate(&m, w, &s, 7, t, half, 1.0);
    assert_true(fabs(fw_behaviour_satiation(&m, w, &s, 7, 3, half) - 1.5) < 1e-6);
    assert_true(fw_behaviour_satiation(&m, w, &s, 7, 10, half) == 0.0);
    assert_true(fabs(fw_behaviour_satiation(&m, w, &s, 7, 13, half) - 1.0) < 1e-6);
    /* The logit shift of a note of topic 3 is -satiation x level. */
    uint32_t n = 0;
    while (w->note_info[n].topic != 3)
        n++;
    assert_true(fabs(fw_behaviour_open_shift(&m, w, &s, 7, n, half) + 1.5) < 1e-6);
    /* Off: nothing recorded, no shift. */
    cfg.satiation = 0.0;
    assert_int_equal(fw_behaviour_calibrate(&m, &cfg, w, SEED), FW_OK);
    fw_behaviour_satiate(&m, w, &s, 9, 3, 0, 1.0);
    assert_true(fw_behaviour_satiation(&m, w, &s, 9, 3, 0) == 0.0);
    assert_true(fw_behaviour_open_shift(&m, w, &s, 7, n, half) == 0.0);
    fw_users_state_fini(&s, w->n_users);
}

static double logit_of(double p) { return log(p / (1.0 - p)); }

/* Expected opens of a page read in order at one tick: each note opens with its probability
 * given the user's satiation so far, and adds that probability to it (the expectation of
 * reading it). The user's satiation starts empty. */
static double page_opens(const fw_behaviour_model *m, const fw_world *w, fw_users_state *s, uint32_t u,
                         const uint32_t *page, uint32_t n)
{
    memset(&s->satiation[(size_t)u * FW_SATIATIONS], 0, FW_SATIATIONS * sizeof *s->satiation);
    double opens = 0.0;
    for (uint32_t i = 0; i < n; i++) {
        double p = sigmoid(logit_of(fw_behaviour_p_open(m, w, u, page[i])) +
                           fw_behaviour_open_shift(m, w, s, u, page[i], 100));
        fw_behaviour_satiate(m, w, s, u, w->note_info[page[i]].topic, 100, p);
        opens += p;
    }
    return opens;
}

/* Satiation gives diversity its value (issue 18): for the same user, a page of ten notes of
 * their best topic beats a page spread over their three best topics when satiation is off
 * (every note of the best topic is the better one), and loses to it when it is on. The
 * notes are made alike (quality 0, image, the topic's centroid as embedding) so that only
 * the topic differs; the user is the one whose three best topics are closest. */
static void test_satiation_diverse_page_wins(void **state)
{
    (void)state;
    fw_world_cfg wc = world_cfg();
    fw_world w;
    assert_int_equal(fw_world_generate(&wc, SEED, &w), FW_OK);
    uint32_t T = w.n_topics, D = w.dim;
    uint32_t *made = malloc(T * sizeof *made);   /* a note per topic */
    assert_non_null(made);
    for (uint32_t t = 0; t < T; t++) {
        fw_new_note nn = {.info = {.creator = w.creator_user[0], .topic = (uint16_t)t, .format = FW_FORMAT_IMAGE,
                                   .created_tick = 0},
                          .quality = 0.0f, .product = FW_NONE};
        for (int k = 0; k < FW_NOTE_TERMS; k++)
            nn.terms[k] = FW_NONE;
        assert_int_equal(fw_world_add_note(&w, &nn, &w.topic_centroid[(size_t)t * D], &made[t]), FW_OK);
    }
    /* Each user's three best topics by the affinity to those notes; keep the user whose
     * first and third are closest. */
    uint32_t best_u = 0, top[3] = {0, 0, 0};
    double best_gap = INFINITY;
    for (uint32_t u = 0; u < w.n_users; u++) {
        uint32_t t3[3] = {0, 0, 0};
        double a3[3] = {-INFINITY, -INFINITY, -INFINITY};
        for (uint32_t t = 0; t < T; t++) {
            double a = affinity(&w, u, made[t]) + 0.5 * format_match(&w, u, made[t]);
            for (int k = 0; k < 3; k++)
                if (a > a3[k]) {
                    for (int j = 2; j > k; j--) {
                        a3[j] = a3[j - 1];
                        t3[j] = t3[j - 1];
                    }
                    a3[k] = a;
                    t3[k] = t;
                    break;
                }
        }
        if (a3[0] - a3[2] < best_gap && a3[0] - a3[2] > 0.0) {
            best_gap = a3[0] - a3[2];
            best_u = u;
            memcpy(top, t3, sizeof top);
        }
    }
    uint32_t single[10], diverse[10];
    for (int i = 0; i < 10; i++) {
        single[i] = made[top[0]];
        diverse[i] = made[top[i % 3]];
    }
    fw_users_state s;
    assert_int_equal(fw_users_state_init(&s, w.n_users), FW_OK);
    fw_behaviour_cfg cfg = behaviour_cfg();
    fw_behaviour_model m;
    assert_int_equal(fw_behaviour_calibrate(&m, &cfg, &w, SEED), FW_OK);
    assert_true(page_opens(&m, &w, &s, best_u, single, 10) > page_opens(&m, &w, &s, best_u, diverse, 10));
    cfg.satiation = 1.0;
    assert_int_equal(fw_behaviour_calibrate(&m, &cfg, &w, SEED), FW_OK);
    assert_true(page_opens(&m, &w, &s, best_u, diverse, 10) > page_opens(&m, &w, &s, best_u, single, 10));
    fw_users_state_fini(&s, w.n_users);
    free(made);
    fw_world_fini(&w);
}

/* Social proof: the open probability rises strictly with the note's visible likes, and not
 * at all with social_proof 0. */
static void test_social_proof_monotone(void **state)
{
    fixture *f = *state;
    fw_world *w = &f->w;
    fw_users_state s;
    assert_int_equal(fw_users_state_init(&s, w->n_users), FW_OK);
    fw_behaviour_cfg cfg = behaviour_cfg();
    fw_behaviour_model on, off;
    cfg.social_proof = 0.3;
    assert_int_equal(fw_behaviour_calibrate(&on, &cfg, w, SEED), FW_OK);
    cfg.social_proof = 0.0;
    assert_int_equal(fw_behaviour_calibrate(&off, &cfg, w, SEED), FW_OK);
    static const uint32_t likes[] = {0, 1, 2, 5, 10, 100, 1000, 100000};
    uint32_t n = 5, u = 11, keep = w->note_likes[n];
    double base = logit_of(fw_behaviour_p_open(&on, w, u, n)), prev = -1.0;
    for (size_t i = 0; i < sizeof likes / sizeof likes[0]; i++) {
        w->note_likes[n] = likes[i];
        double p = sigmoid(base + fw_behaviour_open_shift(&on, w, &s, u, n, 0));
        assert_true(p > prev);
        prev = p;
        assert_true(fabs(fw_behaviour_open_shift(&on, w, &s, u, n, 0) - 0.3 * log1p(likes[i])) < 1e-12);
        assert_true(fw_behaviour_open_shift(&off, w, &s, u, n, 0) == 0.0);
    }
    w->note_likes[n] = keep;
    fw_users_state_fini(&s, w->n_users);
}

/* The deal term (behaviour.deal_weight): w x log(list / pay) on a discount, so a choice's odds
 * rise by exactly (list / pay)^w and a rare choice's probability by about that factor (the
 * elasticity reading of the default); nothing at full price or above; exactly 0 at w = 0. */
static void test_deal_term(void **state)
{
    (void)state;
    fw_behaviour_cfg cfg = behaviour_cfg();
    cfg.deal_weight = 1.15;
    double list = 16800.0, pay = 12800.0, factor = pow(list / pay, 1.15);
    assert_true(fabs(fw_behaviour_deal_term(&cfg, list, pay) - 1.15 * log(list / pay)) < 1e-12);
    assert_true(fw_behaviour_deal_term(&cfg, list, list) == 0.0);
    assert_true(fw_behaviour_deal_term(&cfg, list, list + 1.0) == 0.0);
    double z = logit_of(0.01), p1 = sigmoid(z + fw_behaviour_deal_term(&cfg, list, pay));
    double odds = p1 / (1.0 - p1) / (0.01 / 0.99);
    assert_true(fabs(odds / factor - 1.0) < 1e-9);
    assert_true(p1 / 0.01 > 0.98 * factor && p1 / 0.01 < factor);   /* 1 - P of the elasticity */
    cfg.deal_weight = 0.0;
    assert_true(fw_behaviour_deal_term(&cfg, list, pay) == 0.0);
    assert_true(fw_behaviour_deal_term(&cfg, list, 1.0) == 0.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calibrate_hits_targets),
        cmocka_unit_test(test_calibrate_deterministic),
        cmocka_unit_test(test_session_events),
        cmocka_unit_test(test_session_deterministic),
        cmocka_unit_test(test_session_length_knobs),
        cmocka_unit_test(test_session_empty_feed),
        cmocka_unit_test(test_end_day_satisfaction),
        cmocka_unit_test(test_drift_reversion),
        cmocka_unit_test(test_buffers_grow),
        cmocka_unit_test(test_users_follows),
        cmocka_unit_test(test_satiation_decays),
        cmocka_unit_test(test_satiation_diverse_page_wins),
        cmocka_unit_test(test_social_proof_monotone),
        cmocka_unit_test(test_deal_term),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
