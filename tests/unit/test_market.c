/* Unit tests for the brand-creator marketplace (flywheel/market.h) through the public headers
 * only: posting, greedy and stable matching (hand cases where they differ, the stable
 * tie-break, and random instances checked against reference implementations and for
 * stability), delivery and review, settlement, expiry and delivery deadlines at day ends, the
 * sponsored note's performance, the books' invariants after mixed runs, and follower counts.
 *
 * The hand catalog: 8 users, 2 topics, 24 ticks a day. Users 0..3 are creators with two notes
 * each (note i is by creator i % 4, topic i % 2); the follow graph gives them 4, 3, 2 and 0
 * followers (user 1's self-follow does not count). Unless a test is about them, the lifecycle
 * knobs are: an open task expires after 2 days, a matched one must deliver within 2 days, a
 * delivered one is paid 1 day later. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>

#include "flywheel/engine.h"
#include "flywheel/market.h"
#include "fixture_engine.h"
#include "fixture_rig.h"

#define TPD 24u
#define N_USERS 8u
#define N_TOPICS 2u
#define N_NOTES 8u

enum { C0 = 0, C1, C2, C3 };   /* creators (user ids) */

/* Followers of C0..C3 in the hand catalog. */
static const uint32_t hand_followers[4] = {4, 3, 2, 0};

/* user 0 -> C2; user 1 -> itself; users 2, 3 -> none; 4 -> C0 C1 C2; 5, 6 -> C0 C1; 7 -> C0. */
static const uint64_t follow_off[N_USERS + 1] = {0, 1, 2, 2, 2, 5, 7, 9, 10};
static const uint32_t follow_dst[] = {C2, C1, C0, C1, C2, C0, C1, C0, C1, C0};

/* A deterministic generator for building scenarios (splitmix64; not the engine's). */
typedef struct gen {
    uint64_t s;
} gen;

static uint64_t gen_next(gen *g)
{
    uint64_t x = (g->s += UINT64_C(0x9e3779b97f4a7c15));
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

/* Uniform in [0, n). */
static uint32_t gen_below(gen *g, uint32_t n) { return (uint32_t)(gen_next(g) % n); }

static int gen_chance(gen *g, double p) { return (double)(gen_next(g) >> 11) * 0x1.0p-53 < p; }

/* ---- engines --------------------------------------------------------------------------- */

/* Defaults with the lifecycle knobs above and the given matching and review pass rate. */
static fw_engine_cfg market_cfg(fw_matching matching, double review_pass)
{
    fw_engine_cfg cfg = fixture_engine_cfg();
    cfg.market.matching = matching;
    cfg.market.review_pass = review_pass;
    cfg.market.expire_days = 2;
    cfg.market.deliver_days = 2;
    cfg.market.settle_days = 1;
    return cfg;
}

static fw_engine *build(const fw_engine_cfg *cfg)
{
    fw_note_info notes[N_NOTES];
    for (uint32_t i = 0; i < N_NOTES; i++)
        notes[i] = (fw_note_info){.creator = i % 4, .topic = (uint16_t)(i % N_TOPICS),
                                  .format = FW_FORMAT_IMAGE, .created_tick = -100};
    fw_catalog cat = {.n_users = N_USERS, .n_topics = N_TOPICS, .ticks_per_day = TPD,
                      .n_notes = N_NOTES, .notes = notes, .follow_offsets = follow_off,
                      .follows = follow_dst};
    fw_err err = FW_OK;
    fw_engine *e = fw_engine_create(&cat, cfg, 1, &err);
    assert_int_equal(err, FW_OK);
    assert_non_null(e);
    return e;
}

/* The hand catalog under market_cfg(matching, review_pass), in the rig, with a context into *c
 * unless c is NULL. */
static fw_engine *open_hand(void **state, fw_matching matching, double review_pass, fw_engine_ctx **c)
{
    fw_engine_cfg cfg = market_cfg(matching, review_pass);
    return fixture_rig_open(state, build(&cfg), c);
}

/* ---- helpers --------------------------------------------------------------------------- */

static uint32_t post(fw_engine *e, uint32_t niche, int64_t budget, uint32_t fmin, uint32_t fmax, int32_t tick)
{
    fw_task_post p = {.brand = 0, .niche = niche, .product = FW_NONE, .budget_cents = budget,
                      .followers_min = fmin, .followers_max = fmax, .tick = tick};
    uint32_t id = FW_NONE;
    assert_int_equal(fw_market_post(e, &p, &id), FW_OK);
    return id;
}

/* A task anyone in the hand catalog may take, budget 1000. */
static uint32_t post_any(fw_engine *e, int32_t tick) { return post(e, 0, 1000, 0, 100, tick); }

static fw_quote quote(uint32_t task, uint32_t creator, int64_t price, double reads)
{
    return (fw_quote){.task = task, .creator = creator, .price_cents = price, .predicted_reads = reads};
}

static fw_task_info task_of(const fw_engine *e, uint32_t id)
{
    fw_task_info ti;
    assert_int_equal(fw_market_task(e, id, &ti), FW_OK);
    return ti;
}

static uint32_t status_of(const fw_engine *e, uint32_t id) { return task_of(e, id).status; }

static void assert_matched(const fw_engine *e, uint32_t id, uint32_t creator, int64_t price, int32_t tick)
{
    fw_task_info ti = task_of(e, id);
    assert_string_equal(fw_task_status_name((fw_task_status)ti.status), "matched");
    assert_int_equal(ti.creator, creator);
    assert_int_equal(ti.price_cents, price);
    assert_int_equal(ti.matched_tick, tick);
}

static void assert_open(const fw_engine *e, uint32_t id)
{
    fw_task_info ti = task_of(e, id);
    assert_string_equal(fw_task_status_name((fw_task_status)ti.status), "open");
    assert_int_equal(ti.creator, FW_NONE);
}

/* The matched creator delivers: returns whether the review passed. */
static int deliver(fw_engine *e, uint32_t task, uint32_t note, int32_t tick)
{
    int passed = -1;
    assert_int_equal(fw_market_deliver(e, task, note, tick, &passed), FW_OK);
    assert_true(passed == 0 || passed == 1);
    return passed;
}

/* The market's totals so far: tasks completed, expired and failed, and what creators were paid. */
static void assert_settled(const fw_engine *e, uint64_t completed, uint64_t expired, uint64_t failed,
                           int64_t payments)
{
    fw_market_totals tot = fw_market_total(e);
    assert_int_equal(tot.completed, completed);
    assert_int_equal(tot.expired, expired);
    assert_int_equal(tot.failed, failed);
    assert_int_equal(tot.payments_cents, payments);
}

static void end_days(fw_engine *e, fw_engine_ctx *c, uint32_t from, uint32_t to)
{
    for (uint32_t d = from; d <= to; d++)
        assert_int_equal(fw_engine_end_day(e, c, d), FW_OK);
}

/* fw_market_check passes and the totals, the tasks and the creators' incomes agree: every
 * counter is the number of tasks that reached its state, payments = the completed tasks'
 * prices = the creators' incomes (each creator's: their own completed tasks'), committed =
 * the matched tasks' prices, and no agreed price is above its budget. */
static void assert_books(const fw_engine *e, uint32_t n_users)
{
    fixture_assert_check(fw_market_check, "fw_market_check", e);
    fw_market_totals tot = fw_market_total(e);
    uint32_t n = fw_market_n_tasks(e);
    uint64_t by_status[FW_MTASK__COUNT] = {0};
    int64_t paid = 0, committed = 0;
    int64_t *income = calloc(n_users, sizeof *income);
    assert_non_null(income);
    for (uint32_t k = 0; k < n; k++) {
        fw_task_info ti = task_of(e, k);
        assert_true(ti.status < FW_MTASK__COUNT);
        by_status[ti.status]++;
        if (ti.status == FW_MTASK_OPEN || ti.status == FW_MTASK_EXPIRED) {
            assert_int_equal(ti.creator, FW_NONE);
            assert_int_equal(ti.note, FW_NONE);
            continue;
        }
        assert_true(ti.creator < n_users);
        assert_true(ti.price_cents > 0);
        assert_true(ti.price_cents <= ti.post.budget_cents);
        committed += ti.price_cents;
        if (ti.status == FW_MTASK_DELIVERED || ti.status == FW_MTASK_COMPLETED)
            assert_int_not_equal(ti.note, FW_NONE);
        if (ti.status == FW_MTASK_COMPLETED) {
            paid += ti.price_cents;
            income[ti.creator] += ti.price_cents;
        }
    }
    assert_int_equal(tot.posted, n);
    assert_int_equal(tot.matched, by_status[FW_MTASK_MATCHED] + by_status[FW_MTASK_DELIVERED] +
                                      by_status[FW_MTASK_COMPLETED] + by_status[FW_MTASK_FAILED]);
    assert_int_equal(tot.delivered, by_status[FW_MTASK_DELIVERED] + by_status[FW_MTASK_COMPLETED]);
    assert_int_equal(tot.completed, by_status[FW_MTASK_COMPLETED]);
    assert_int_equal(tot.expired, by_status[FW_MTASK_EXPIRED]);
    assert_int_equal(tot.failed, by_status[FW_MTASK_FAILED]);
    assert_int_equal(tot.payments_cents, paid);
    assert_int_equal(tot.committed_cents, committed);
    int64_t incomes = 0;
    for (uint32_t u = 0; u < n_users; u++) {
        assert_int_equal(fw_market_income(e, u), income[u]);
        incomes += fw_market_income(e, u);
    }
    assert_int_equal(incomes, paid);
    free(income);
}

/* ---- matching references ---------------------------------------------------------------- */

/* Whether the engine must consider quote q: fields in range, price within the budget, the
 * task open (open_before: statuses before the call) and the creator's followers in range. */
static int quote_valid(const fw_engine *e, const uint8_t *open_before, uint32_t n_tasks, uint32_t n_users,
                       const fw_quote *q)
{
    if (q->task >= n_tasks || q->creator >= n_users || q->price_cents <= 0 || !(q->predicted_reads >= 0.0) ||
        !open_before[q->task])
        return 0;
    fw_task_info ti = task_of(e, q->task);
    uint32_t f = fw_market_followers(e, q->creator);
    return q->price_cents <= ti.post.budget_cents && f >= ti.post.followers_min && f <= ti.post.followers_max;
}

static double value_of(const fw_quote *q) { return q->predicted_reads / (double)q->price_cents; }

/* Quote indexes sorted by predicted reads per cent, ties to the earlier quote. */
static const fw_quote *sort_quotes;
static int cmp_value(const void *a, const void *b)
{
    uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
    double vi = value_of(&sort_quotes[i]), vj = value_of(&sort_quotes[j]);
    if (vi != vj)
        return vi > vj ? -1 : 1;
    return (i > j) - (i < j);
}

/* The reference matching of one call: match[t] = the index of the quote task t is matched by,
 * or FW_NONE. Greedy: pairs by value, a task and a creator each taken once. Stable: textbook
 * Gale-Shapley with a queue of free tasks (the brand-optimal stable matching is unique under
 * strict preferences, so the order of proposals does not matter): tasks by value (ties: the
 * earlier quote), creators by price (ties: the lower task id). */
static void reference_match(const fw_engine *e, const uint8_t *open_before, uint32_t n_tasks, uint32_t n_users,
                            const fw_quote *q, uint32_t n, int stable, uint32_t *match)
{
    uint32_t *idx = malloc((n ? n : 1) * sizeof *idx), nv = 0;
    uint32_t *held = malloc(n_users * sizeof *held);   /* creator -> quote index */
    assert_non_null(idx);
    assert_non_null(held);
    for (uint32_t k = 0; k < n; k++)
        if (quote_valid(e, open_before, n_tasks, n_users, &q[k]))
            idx[nv++] = k;
    sort_quotes = q;
    qsort(idx, nv, sizeof *idx, cmp_value);
    for (uint32_t t = 0; t < n_tasks; t++)
        match[t] = FW_NONE;
    for (uint32_t u = 0; u < n_users; u++)
        held[u] = FW_NONE;
    if (!stable) {
        for (uint32_t k = 0; k < nv; k++) {
            const fw_quote *x = &q[idx[k]];
            if (match[x->task] == FW_NONE && held[x->creator] == FW_NONE) {
                match[x->task] = idx[k];
                held[x->creator] = idx[k];
            }
        }
    } else {
        uint32_t *next = calloc(n_tasks ? n_tasks : 1, sizeof *next);   /* position in idx */
        uint32_t *queue = malloc((n_tasks ? n_tasks : 1) * sizeof *queue), head = 0, tail = 0;
        assert_non_null(next);
        assert_non_null(queue);
        for (uint32_t t = 0; t < n_tasks; t++)
            if (open_before[t])
                queue[tail++ % n_tasks] = t;
        while (head != tail) {
            uint32_t t = queue[head++ % n_tasks];
            while (next[t] < nv && q[idx[next[t]]].task != t)
                next[t]++;
            if (next[t] >= nv)
                continue;   /* t has nobody left: stays open */
            uint32_t k = idx[next[t]++];
            uint32_t c = q[k].creator, h = held[c];
            if (h == FW_NONE) {
                held[c] = k;
                match[t] = k;
            } else if (q[k].price_cents > q[h].price_cents ||
                       (q[k].price_cents == q[h].price_cents && t < q[h].task)) {
                held[c] = k;
                match[t] = k;
                match[q[h].task] = FW_NONE;
                queue[tail++ % n_tasks] = q[h].task;
            } else {
                queue[tail++ % n_tasks] = t;
            }
        }
        free(next);
        free(queue);
    }
    free(idx);
    free(held);
}

/* Blocking pairs of the matching the engine made in one call (tasks open before it and
 * matched at tick, by the valid quotes): a task and a creator with a valid quote who both
 * strictly prefer each other to what they got in this call (a task: more predicted reads per
 * cent; a creator: a higher price, or the same price from a lower task id). Quotes name each
 * (task, creator) pair at most once. */
static uint32_t blocking_pairs(const fw_engine *e, const uint8_t *open_before, uint32_t n_tasks, uint32_t n_users,
                               const fw_quote *q, uint32_t n, int32_t tick)
{
    uint32_t *task_q = malloc((n_tasks ? n_tasks : 1) * sizeof *task_q);   /* task -> its quote */
    uint32_t *creator_q = malloc(n_users * sizeof *creator_q);            /* creator -> quote */
    assert_non_null(task_q);
    assert_non_null(creator_q);
    for (uint32_t t = 0; t < n_tasks; t++)
        task_q[t] = FW_NONE;
    for (uint32_t u = 0; u < n_users; u++)
        creator_q[u] = FW_NONE;
    for (uint32_t t = 0; t < n_tasks; t++) {
        if (!open_before[t])
            continue;
        fw_task_info ti = task_of(e, t);
        if (ti.status != FW_MTASK_MATCHED || ti.matched_tick != tick)
            continue;
        for (uint32_t k = 0; k < n; k++)
            if (q[k].task == t && q[k].creator == ti.creator) {
                assert_int_equal(q[k].price_cents, ti.price_cents);
                assert_true(quote_valid(e, open_before, n_tasks, n_users, &q[k]));
                task_q[t] = k;
            }
        assert_int_not_equal(task_q[t], FW_NONE);
        assert_int_equal(creator_q[ti.creator], FW_NONE);   /* one task per creator per call */
        creator_q[ti.creator] = task_q[t];
    }
    uint32_t blocking = 0;
    for (uint32_t k = 0; k < n; k++) {
        const fw_quote *x = &q[k];
        if (!quote_valid(e, open_before, n_tasks, n_users, x) || task_q[x->task] == k)
            continue;
        uint32_t tq = task_q[x->task], cq = creator_q[x->creator];
        int task_prefers = tq == FW_NONE || value_of(x) > value_of(&q[tq]);
        int creator_prefers = cq == FW_NONE || x->price_cents > q[cq].price_cents ||
                              (x->price_cents == q[cq].price_cents && x->task < q[cq].task);
        blocking += task_prefers && creator_prefers;
    }
    free(task_q);
    free(creator_q);
    return blocking;
}

/* ---- 1. posting ------------------------------------------------------------------------ */

static void test_post(void **state)
{
    fw_engine *e = open_hand(state, FW_MATCH_GREEDY, 1.0, NULL);
    assert_int_equal(fw_market_n_tasks(e), 0);
    assert_int_equal(fw_market_total(e).posted, 0);
    assert_int_equal(post(e, 0, 1000, 0, 10, 0), 0);
    assert_int_equal(post(e, 1, 1, 3, 3, 5), 1);   /* the smallest budget; min = max */
    assert_int_equal(post(e, 1, 250000, 2, 100, 7), 2);

    const fw_task_post bad[] = {
        {.niche = 0, .budget_cents = 0, .followers_min = 0, .followers_max = 10},
        {.niche = 0, .budget_cents = -500, .followers_min = 0, .followers_max = 10},
        {.niche = N_TOPICS, .budget_cents = 1000, .followers_min = 0, .followers_max = 10},
        {.niche = UINT32_MAX, .budget_cents = 1000, .followers_min = 0, .followers_max = 10},
        {.niche = 0, .budget_cents = 1000, .followers_min = 5, .followers_max = 4},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        uint32_t id = 777;
        assert_int_equal(fw_market_post(e, &bad[i], &id), FW_ERR_INVAL);
        assert_int_equal(id, 777);   /* written only on success */
    }
    assert_int_equal(fw_market_n_tasks(e), 3);
    assert_int_equal(fw_market_total(e).posted, 3);
    assert_int_equal(post(e, 0, 1000, 0, 10, 9), 3);   /* ids stay dense after refusals */
    assert_int_equal(fw_market_total(e).posted, 4);

    /* A new task is open, nobody's, with the post as given. */
    fw_task_info ti = task_of(e, 1);
    assert_int_equal(ti.status, FW_MTASK_OPEN);
    assert_int_equal(ti.post.niche, 1);
    assert_int_equal(ti.post.budget_cents, 1);
    assert_int_equal(ti.post.followers_min, 3);
    assert_int_equal(ti.post.followers_max, 3);
    assert_int_equal(ti.post.tick, 5);
    assert_int_equal(ti.post.product, FW_NONE);
    assert_int_equal(ti.creator, FW_NONE);
    assert_int_equal(ti.note, FW_NONE);
    assert_int_equal(ti.reviews, 0);
    assert_int_equal(ti.impressions + ti.reads + ti.interactions + ti.saves, 0);
    assert_int_equal(fw_market_task(e, 4, &ti), FW_ERR_INVAL);
    assert_int_equal(fw_market_task(e, FW_NONE, &ti), FW_ERR_INVAL);

    assert_string_equal(fw_task_status_name(FW_MTASK_OPEN), "open");
    assert_string_equal(fw_task_status_name(FW_MTASK_COMPLETED), "completed");
    assert_string_equal(fw_task_status_name(FW_MTASK_FAILED), "failed");
    assert_string_equal(fw_task_status_name(FW_MTASK__COUNT), "?");
    assert_books(e, N_USERS);
}

/* ---- 2. greedy matching ------------------------------------------------------------------ */

/* The pair of most reads per cent goes first; neither the order of the quotes, nor task ids,
 * nor raw predicted reads decide. */
static void test_greedy_order(void **state)
{
    fw_engine *e = open_hand(state, FW_MATCH_GREEDY, 1.0, NULL);
    uint32_t t0 = post_any(e, 0), t1 = post_any(e, 0);
    const fw_quote q[] = {
        quote(t0, C0, 100, 1000),   /* 10 reads per cent: T0's favourite, but C0 goes to T1 */
        quote(t0, C1, 100, 900),    /* 9 */
        quote(t0, C2, 1000, 5000),  /* 5: the most reads, the least per cent */
        quote(t1, C1, 100, 300),    /* 3 */
        quote(t1, C0, 100, 1200),   /* 12: first */
    };
    assert_int_equal(fw_market_match(e, q, 5, 7), 2);
    assert_matched(e, t1, C0, 100, 7);
    assert_matched(e, t0, C1, 100, 7);
    fw_market_totals tot = fw_market_total(e);
    assert_int_equal(tot.matched, 2);
    assert_int_equal(tot.committed_cents, 200);
    assert_int_equal(tot.payments_cents, 0);

    /* Prices count, not just reads: C3 (0 followers) predicted 600 reads at 200 (3 per cent),
     * C2 500 reads at 100 (5 per cent): C2 wins though C3 predicts more and quoted first. */
    uint32_t t2 = post(e, 1, 5000, 0, 5, 8);
    const fw_quote r[] = {quote(t2, C3, 200, 600), quote(t2, C2, 100, 500)};
    assert_int_equal(fw_market_match(e, r, 2, 9), 1);
    assert_matched(e, t2, C2, 100, 9);
    tot = fw_market_total(e);
    assert_int_equal(tot.matched, 3);
    assert_int_equal(tot.committed_cents, 300);
    assert_books(e, N_USERS);
}

/* A creator takes at most one task per call (but may take another in a later call). */
static void test_greedy_one_task_per_creator(void **state)
{
    fw_engine *e = open_hand(state, FW_MATCH_GREEDY, 1.0, NULL);
    uint32_t t0 = post_any(e, 0), t1 = post_any(e, 0), t2 = post_any(e, 0);
    const fw_quote q[] = {quote(t1, C0, 300, 2700), quote(t0, C0, 200, 2000), quote(t2, C0, 100, 950)};
    assert_int_equal(fw_market_match(e, q, 3, 1), 1);
    assert_matched(e, t0, C0, 200, 1);   /* 10 per cent beats 9 and 9.5 */
    assert_open(e, t1);
    assert_open(e, t2);
    assert_int_equal(fw_market_match(e, q, 3, 2), 1);
    assert_matched(e, t0, C0, 200, 1);   /* untouched */
    assert_matched(e, t2, C0, 100, 2);
    assert_open(e, t1);
    assert_int_equal(fw_market_match(e, q, 3, 3), 1);
    assert_matched(e, t1, C0, 300, 3);
    assert_int_equal(fw_market_match(e, q, 3, 4), 0);   /* nothing open is quoted for */
    assert_int_equal(fw_market_total(e).committed_cents, 600);
    assert_int_equal(fw_market_match(e, NULL, 0, 5), 0);
    assert_books(e, N_USERS);
}

/* Quotes that must be ignored, each better (more reads per cent) than the one good quote. */
static void test_ignored_quotes(void **state)
{
    fw_engine_ctx *c;
    fw_engine *e = open_hand(state, FW_MATCH_GREEDY, 1.0, &c);
    uint32_t expired = post_any(e, 0);
    end_days(e, c, 0, 1);
    assert_int_equal(status_of(e, expired), FW_MTASK_EXPIRED);
    uint32_t t = post(e, 0, 1000, 2, 3, 50);     /* C1 (3) and C2 (2) qualify; C0 (4), C3 (0) not */
    uint32_t taken = post_any(e, 50);
    const fw_quote first = quote(taken, C3, 500, 1000);
    assert_int_equal(fw_market_match(e, &first, 1, 50), 1);
    assert_matched(e, taken, C3, 500, 50);

    const fw_quote bad[] = {
        quote(t, C1, 1001, 1e9),          /* above the budget */
        quote(t, C0, 100, 1e9),           /* too many followers */
        quote(t, C3, 100, 1e9),           /* too few */
        quote(taken, C1, 100, 1e9),       /* the task is matched already */
        quote(expired, C1, 100, 1e9),     /* ... expired */
        quote(99, C1, 100, 1e9),          /* no such task */
        quote(t, N_USERS, 100, 1e9),      /* no such creator */
        quote(t, FW_NONE, 100, 1e9),
        quote(t, C1, 0, 1e9),             /* no price */
        quote(t, C1, -100, 1e9),
        quote(t, C1, 100, -1.0),          /* negative reads */
        quote(t, C1, 100, NAN),
    };
    const size_t n_bad = sizeof bad / sizeof *bad;
    for (size_t i = 0; i < n_bad; i++) {
        assert_int_equal(fw_market_match(e, &bad[i], 1, 51), 0);
        assert_open(e, t);
    }
    assert_int_equal(status_of(e, expired), FW_MTASK_EXPIRED);
    assert_matched(e, taken, C3, 500, 50);
    assert_int_equal(fw_market_total(e).matched, 1);
    assert_int_equal(fw_market_total(e).committed_cents, 500);

    /* All of them and two good quotes (exactly the budget, at the range's ends): the better
     * good one wins. */
    fw_quote all[16];
    memcpy(all, bad, sizeof bad);
    all[n_bad] = quote(t, C2, 1000, 2);       /* 0.002 per cent, min followers */
    all[n_bad + 1] = quote(t, C1, 1000, 1);   /* 0.001, max followers */
    assert_int_equal(fw_market_match(e, all, n_bad + 2, 52), 1);
    assert_matched(e, t, C2, 1000, 52);
    assert_matched(e, taken, C3, 500, 50);
    assert_int_equal(fw_market_total(e).committed_cents, 1500);

    /* Boundaries the other way: min = max = 3 takes C1 alone. */
    uint32_t u = post(e, 1, 700, 3, 3, 53);
    const fw_quote v[] = {quote(u, C2, 700, 1e6), quote(u, C0, 700, 1e6), quote(u, C1, 700, 1)};
    assert_int_equal(fw_market_match(e, v, 3, 53), 1);
    assert_matched(e, u, C1, 700, 53);
    assert_books(e, N_USERS);
}

/* ---- 3. stable matching ------------------------------------------------------------------ */

/* Runs quotes q[n] on a fresh hand engine under matching; returns the engine. */
static fw_engine *run_hand(fw_matching matching, uint32_t n_tasks, const fw_quote *q, uint32_t n,
                           uint32_t expect_matched, uint32_t *blocking)
{
    fw_engine_cfg cfg = market_cfg(matching, 1.0);
    fw_engine *e = build(&cfg);
    uint8_t open_before[8];
    assert_true(n_tasks <= 8);
    for (uint32_t t = 0; t < n_tasks; t++) {
        assert_int_equal(post_any(e, 0), t);
        open_before[t] = 1;
    }
    assert_int_equal(fw_market_match(e, q, n, 3), expect_matched);
    *blocking = blocking_pairs(e, open_before, n_tasks, N_USERS, q, n, 3);
    assert_books(e, N_USERS);
    return e;
}

/* Brands propose by reads per cent, creators keep the best-paying offer: where greedy gives
 * C0 to the pair of most reads per cent, stable gives it to the task that pays it more. */
static void test_stable_differs_from_greedy(void **state)
{
    (void)state;
    const fw_quote q[] = {
        quote(0, C0, 100, 1000),   /* 10 per cent */
        quote(0, C1, 100, 500),    /* 5 */
        quote(1, C0, 200, 1800),   /* 9: C0 is paid more by T1 */
        quote(1, C1, 200, 200),    /* 1 */
    };
    uint32_t blocking = 0;
    fw_engine *g = run_hand(FW_MATCH_GREEDY, 2, q, 4, 2, &blocking);
    assert_matched(g, 0, C0, 100, 3);
    assert_matched(g, 1, C1, 200, 3);
    assert_int_equal(blocking, 1);   /* T1 and C0 prefer each other */
    fw_engine *s = run_hand(FW_MATCH_STABLE, 2, q, 4, 2, &blocking);
    assert_matched(s, 0, C1, 100, 3);
    assert_matched(s, 1, C0, 200, 3);
    assert_int_equal(blocking, 0);
    assert_int_equal(fw_market_total(s).committed_cents, 300);
    fw_engine_destroy(g);
    fw_engine_destroy(s);
}

/* A creator offered the same price by two tasks keeps the lower task id, even when the higher
 * one proposed first: T0 goes to C1 first, is displaced by T2 (pays C1 more), then proposes
 * to C0, who holds T1 at the same price and must switch to T0. */
static void test_stable_tie_to_lower_task(void **state)
{
    (void)state;
    const fw_quote q[] = {
        quote(2, C1, 200, 1800),   /* T2: only C1, 9 per cent, pays 200 */
        quote(1, C0, 100, 800),    /* T1: only C0, 8 */
        quote(0, C0, 100, 500),    /* T0: second choice C0, 5 */
        quote(0, C1, 100, 1000),   /* T0: first choice C1, 10 */
    };
    uint32_t blocking = 0;
    fw_engine *s = run_hand(FW_MATCH_STABLE, 3, q, 4, 2, &blocking);
    assert_matched(s, 0, C0, 100, 3);
    assert_open(s, 1);
    assert_matched(s, 2, C1, 200, 3);
    assert_int_equal(blocking, 0);
    fw_engine *g = run_hand(FW_MATCH_GREEDY, 3, q, 4, 2, &blocking);
    assert_matched(g, 0, C1, 100, 3);
    assert_matched(g, 1, C0, 100, 3);
    assert_open(g, 2);
    assert_int_equal(blocking, 1);   /* T2 and C1 */
    fw_engine_destroy(s);
    fw_engine_destroy(g);

    /* A higher price beats a lower task id: C0 keeps T1 paying 150 over T0 paying 100. */
    const fw_quote r[] = {quote(0, C0, 100, 1000), quote(1, C0, 150, 300), quote(0, C1, 100, 100)};
    s = run_hand(FW_MATCH_STABLE, 2, r, 3, 2, &blocking);
    assert_matched(s, 0, C1, 100, 3);
    assert_matched(s, 1, C0, 150, 3);
    assert_int_equal(blocking, 0);
    fw_engine_destroy(s);
}

/* Random instances: users 0..R_CREATORS-1 are creators with random follower counts (fans
 * R_CREATORS.. follow the first so many), one note each. Each instance makes two calls (a few
 * quotes, then all of them, so some tasks are no longer open) under greedy and under stable;
 * every call must equal the reference matching, and stable's must have no blocking pair. */
#define R_CREATORS 16u
#define R_FANS 32u
#define R_USERS (R_CREATORS + R_FANS)
#define R_MAX_TASKS 12u
#define R_MAX_QUOTES (R_MAX_TASKS * R_CREATORS + 8u)

typedef struct rcat {
    uint32_t followers[R_CREATORS];
    uint64_t off[R_USERS + 1];
    uint32_t dst[R_USERS * R_CREATORS];
    fw_note_info notes[R_CREATORS];
} rcat;

static void rcat_make(rcat *rc, gen *g)
{
    for (uint32_t c = 0; c < R_CREATORS; c++) {
        rc->followers[c] = gen_below(g, R_FANS + 1);
        rc->notes[c] = (fw_note_info){.creator = c, .topic = (uint16_t)(c % N_TOPICS),
                                      .format = FW_FORMAT_IMAGE, .created_tick = -10};
    }
    uint32_t k = 0;
    for (uint32_t u = 0; u < R_USERS; u++) {
        rc->off[u] = k;
        if (u >= R_CREATORS)
            for (uint32_t c = 0; c < R_CREATORS; c++)
                if (u - R_CREATORS < rc->followers[c])
                    rc->dst[k++] = c;
    }
    rc->off[R_USERS] = k;
}

static fw_engine *rcat_engine(const rcat *rc, const fw_engine_cfg *cfg)
{
    fw_catalog cat = {.n_users = R_USERS, .n_topics = N_TOPICS, .ticks_per_day = TPD, .n_notes = R_CREATORS,
                      .notes = rc->notes, .follow_offsets = rc->off, .follows = rc->dst};
    fw_err err = FW_OK;
    fw_engine *e = fw_engine_create(&cat, cfg, 1, &err);
    assert_int_equal(err, FW_OK);
    assert_non_null(e);
    for (uint32_t c = 0; c < R_CREATORS; c++)
        assert_int_equal(fw_market_followers(e, c), rc->followers[c]);
    for (uint32_t u = R_CREATORS; u < R_USERS; u++)
        assert_int_equal(fw_market_followers(e, u), 0);
    return e;
}

/* One call on e checked against the reference; writes the creator each task got in it. */
static uint32_t checked_call(fw_engine *e, int stable, const fw_quote *q, uint32_t n, int32_t tick,
                             uint32_t *got)
{
    uint32_t n_tasks = fw_market_n_tasks(e);
    uint8_t open_before[R_MAX_TASKS];
    uint32_t want[R_MAX_TASKS], n_want = 0;
    assert_true(n_tasks <= R_MAX_TASKS);
    for (uint32_t t = 0; t < n_tasks; t++)
        open_before[t] = status_of(e, t) == FW_MTASK_OPEN;
    reference_match(e, open_before, n_tasks, R_USERS, q, n, stable, want);
    int64_t committed = fw_market_total(e).committed_cents;
    uint32_t matched = fw_market_match(e, q, n, tick);
    for (uint32_t t = 0; t < n_tasks; t++) {
        fw_task_info ti = task_of(e, t);
        got[t] = FW_NONE;
        if (!open_before[t]) {
            assert_int_not_equal(ti.matched_tick, tick);
            continue;
        }
        if (want[t] == FW_NONE) {
            assert_int_equal(ti.status, FW_MTASK_OPEN);
            continue;
        }
        n_want++;
        committed += q[want[t]].price_cents;
        assert_int_equal(ti.status, FW_MTASK_MATCHED);
        assert_int_equal(ti.creator, q[want[t]].creator);
        assert_int_equal(ti.price_cents, q[want[t]].price_cents);
        assert_int_equal(ti.matched_tick, tick);
        got[t] = ti.creator;
    }
    assert_int_equal(matched, n_want);
    assert_int_equal(fw_market_total(e).committed_cents, committed);
    if (stable)
        assert_int_equal(blocking_pairs(e, open_before, n_tasks, R_USERS, q, n, tick), 0);
    assert_books(e, R_USERS);
    return matched;
}

static void test_random_matchings(void **state)
{
    (void)state;
    gen g = {UINT64_C(20240611)};
    static rcat rc;
    static fw_quote q[R_MAX_QUOTES];
    fw_engine_cfg cfg_g = market_cfg(FW_MATCH_GREEDY, 1.0), cfg_s = market_cfg(FW_MATCH_STABLE, 1.0);
    uint32_t differ = 0, total_matched = 0, unstable_greedy = 0;
    for (uint32_t inst = 0; inst < 300; inst++) {
        rcat_make(&rc, &g);
        fw_engine *eg = rcat_engine(&rc, &cfg_g), *es = rcat_engine(&rc, &cfg_s);
        uint32_t n_tasks = 1 + gen_below(&g, R_MAX_TASKS);
        for (uint32_t t = 0; t < n_tasks; t++) {
            uint32_t lo = gen_below(&g, R_FANS / 2), hi = lo + gen_below(&g, R_FANS);
            int64_t budget = 300 + gen_below(&g, 1700);
            assert_int_equal(post(eg, t % N_TOPICS, budget, lo, hi, 0), t);
            assert_int_equal(post(es, t % N_TOPICS, budget, lo, hi, 0), t);
        }
        /* Each (task, creator) pair quotes at most once, in a shuffled order; prices on a coarse
         * grid so creators are offered equal prices now and then (reads are continuous: equal
         * reads per cent, whose tie-break market.h leaves open, do not occur); a few quotes are
         * malformed. */
        uint32_t n = 0;
        for (uint32_t t = 0; t < n_tasks; t++)
            for (uint32_t c = 0; c < R_CREATORS; c++)
                if (gen_chance(&g, 0.45))
                    q[n++] = quote(t, c, 100 * (1 + (int64_t)gen_below(&g, 20)),
                                   (double)(gen_next(&g) >> 11) * 0x1.0p-53 * 10000.0);
        for (uint32_t k = 0; k < n; k++) {
            uint32_t j = k + gen_below(&g, n - k);
            fw_quote x = q[k];
            q[k] = q[j];
            q[j] = x;
        }
        for (uint32_t k = 0; k < n; k++)
            if (gen_chance(&g, 0.03)) {
                switch (gen_below(&g, 4)) {
                case 0: q[k].price_cents = 0; break;
                case 1: q[k].predicted_reads = -1.0; break;
                case 2: q[k].creator = R_USERS + gen_below(&g, 4); break;
                default: q[k].task = n_tasks + gen_below(&g, 4); break;
                }
            }
        uint32_t got_g[R_MAX_TASKS], got_s[R_MAX_TASKS];
        uint32_t n_first = n / 4;
        for (uint32_t call = 0; call < 2; call++) {
            const fw_quote *qq = q;
            uint32_t nn = call == 0 ? n_first : n;
            int32_t tick = 1 + (int32_t)call;
            uint8_t open_g[R_MAX_TASKS];
            for (uint32_t t = 0; t < n_tasks; t++)
                open_g[t] = status_of(eg, t) == FW_MTASK_OPEN;
            total_matched += checked_call(eg, 0, qq, nn, tick, got_g);
            unstable_greedy += blocking_pairs(eg, open_g, n_tasks, R_USERS, qq, nn, tick) > 0;
            total_matched += checked_call(es, 1, qq, nn, tick, got_s);
            if (memcmp(got_g, got_s, n_tasks * sizeof *got_g) != 0)
                differ++;
        }
        fw_engine_destroy(eg);
        fw_engine_destroy(es);
    }
    /* The instances were interesting: many matches, and greedy and stable often differ. */
    assert_true(total_matched > 1000);
    assert_true(differ > 20);
    assert_true(unstable_greedy > 10);
}

/* ---- 4. delivery and review ---------------------------------------------------------------- */

static void test_deliver_and_review(void **state)
{
    fw_engine_cfg cfg = market_cfg(FW_MATCH_GREEDY, 1.0);
    fw_engine_ctx *c;
    fw_engine *e = fixture_rig_open(state, build(&cfg), &c);
    uint32_t t0 = post_any(e, 0), t1 = post_any(e, 0);
    const fw_quote q = quote(t0, C1, 600, 3000);
    assert_int_equal(fw_market_match(e, &q, 1, 2), 1);
    int passed = -1;
    /* Someone else's note, a task nobody was matched to, ids out of range. */
    assert_int_equal(fw_market_deliver(e, t0, 0 /* C0's */, 5, &passed), FW_ERR_INVAL);
    assert_int_equal(fw_market_deliver(e, t0, 2 /* C2's */, 5, &passed), FW_ERR_INVAL);
    assert_int_equal(fw_market_deliver(e, t1, 1, 5, &passed), FW_ERR_INVAL);
    assert_int_equal(fw_market_deliver(e, 99, 1, 5, &passed), FW_ERR_INVAL);
    assert_int_equal(fw_market_deliver(e, t0, N_NOTES, 5, &passed), FW_ERR_INVAL);
    assert_int_equal(fw_market_deliver(e, t0, FW_NONE, 5, &passed), FW_ERR_INVAL);
    assert_int_equal(task_of(e, t0).reviews, 0);
    assert_int_equal(status_of(e, t0), FW_MTASK_MATCHED);

    /* The creator's new note passes (review_pass 1). */
    uint32_t note = FW_NONE;
    fw_note_info ni = {.creator = C1, .topic = 0, .format = FW_FORMAT_VIDEO, .created_tick = 4};
    assert_int_equal(fw_engine_publish(e, c, &ni, &note), FW_OK);
    assert_int_equal(note, N_NOTES);
    assert_int_equal(deliver(e, t0, note, 5), 1);
    fw_task_info ti = task_of(e, t0);
    assert_string_equal(fw_task_status_name((fw_task_status)ti.status), "delivered");
    assert_int_equal(ti.note, note);
    assert_int_equal(ti.delivered_tick, 5);
    assert_int_equal(ti.reviews, 1);
    assert_int_equal(ti.creator, C1);
    assert_int_equal(ti.price_cents, 600);
    assert_int_equal(fw_market_total(e).delivered, 1);
    /* Not matched any more: a second delivery is refused and changes nothing. */
    assert_int_equal(fw_market_deliver(e, t0, 5, 6, &passed), FW_ERR_INVAL);
    ti = task_of(e, t0);
    assert_int_equal(ti.note, note);
    assert_int_equal(ti.reviews, 1);
    assert_int_equal(fw_market_total(e).delivered, 1);
    assert_books(e, N_USERS);

    /* review_pass 0: the first failure leaves the task matched, the second fails it. */
    cfg = market_cfg(FW_MATCH_GREEDY, 0.0);
    e = fixture_rig_open(state, build(&cfg), &c);
    t0 = post_any(e, 0);
    t1 = post_any(e, 0);
    const fw_quote r[] = {quote(t0, C2, 400, 3000), quote(t1, C3, 300, 1000)};
    assert_int_equal(fw_market_match(e, r, 2, 1), 2);
    assert_int_equal(deliver(e, t0, 2, 3), 0);
    ti = task_of(e, t0);
    assert_int_equal(ti.status, FW_MTASK_MATCHED);
    assert_int_equal(ti.reviews, 1);
    assert_int_equal(ti.note, FW_NONE);
    assert_int_equal(fw_market_total(e).failed, 0);
    assert_int_equal(fw_market_deliver(e, t0, 7 /* C3's */, 4, &passed), FW_ERR_INVAL);
    assert_int_equal(task_of(e, t0).reviews, 1);
    assert_int_equal(deliver(e, t0, 6, 4), 0);   /* C2's other note */
    ti = task_of(e, t0);
    assert_int_equal(ti.status, FW_MTASK_FAILED);
    assert_int_equal(ti.reviews, 2);
    assert_int_equal(ti.note, FW_NONE);
    fw_market_totals tot = fw_market_total(e);
    assert_int_equal(tot.failed, 1);
    assert_int_equal(tot.delivered, 0);
    assert_int_equal(fw_market_deliver(e, t0, 2, 5, &passed), FW_ERR_INVAL);   /* failed */
    assert_int_equal(task_of(e, t0).reviews, 2);
    /* One failed review, then the deadline: matched at tick 1, 47 ticks old at day 1's end,
     * failed at day 2's end. */
    assert_int_equal(deliver(e, t1, 3, 2), 0);
    end_days(e, c, 0, 1);
    assert_int_equal(status_of(e, t1), FW_MTASK_MATCHED);
    assert_int_equal(task_of(e, t1).reviews, 1);
    end_days(e, c, 2, 2);
    assert_int_equal(status_of(e, t1), FW_MTASK_FAILED);
    assert_int_equal(fw_market_total(e).failed, 2);
    assert_int_equal(fw_market_total(e).payments_cents, 0);
    assert_books(e, N_USERS);
}

/* Review outcomes are a function of (task, attempt): two engines fed the same calls agree,
 * and at review_pass 0.5 about half of first attempts pass. */
static void test_review_deterministic(void **state)
{
    (void)state;
    enum { N = 200 };
    fw_engine_cfg cfg = market_cfg(FW_MATCH_GREEDY, 0.5);
    fw_engine *a = build(&cfg), *b = build(&cfg);
    uint32_t first_pass = 0, passed_a[N], passed_b[N];
    for (uint32_t k = 0; k < N; k++) {
        uint32_t cr = k % 4;
        const fw_quote q = quote(k, cr, 100, 100);
        assert_int_equal(post_any(a, 0), k);
        assert_int_equal(post_any(b, 0), k);
        assert_int_equal(fw_market_match(a, &q, 1, 1), 1);
        assert_int_equal(fw_market_match(b, &q, 1, 1), 1);
        passed_a[k] = (uint32_t)deliver(a, k, cr, 2);
        passed_b[k] = (uint32_t)deliver(b, k, cr, 2);
        first_pass += passed_a[k];
        if (!passed_a[k]) {
            passed_a[k] = 2 + (uint32_t)deliver(a, k, cr + 4, 3);
            passed_b[k] = 2 + (uint32_t)deliver(b, k, cr + 4, 3);
        }
        assert_int_equal(passed_a[k], passed_b[k]);
    }
    assert_true(first_pass > N * 35 / 100 && first_pass < N * 65 / 100);
    fw_market_totals ta = fw_market_total(a), tb = fw_market_total(b);
    assert_int_equal(ta.delivered, tb.delivered);
    assert_int_equal(ta.failed, tb.failed);
    assert_int_equal(ta.delivered + ta.failed, N);
    assert_true(ta.failed > 0 && ta.delivered > first_pass);
    assert_books(a, N_USERS);
    fw_engine_destroy(a);
    fw_engine_destroy(b);
}

/* ---- 5. settlement, expiry and deadlines at day ends -------------------------------------- */

static void test_settle_expire_fail(void **state)
{
    fw_engine_cfg cfg = market_cfg(FW_MATCH_GREEDY, 1.0);   /* expire 2, deliver 2, settle 1 */
    fw_engine_ctx *c;
    fw_engine *e = fixture_rig_open(state, build(&cfg), &c);
    uint32_t t0 = post_any(e, 0);   /* delivered at tick 5: paid at day 1's end */
    uint32_t t1 = post_any(e, 3);   /* never matched, posted at 3: expires at day 2's end */
    uint32_t t2 = post_any(e, 0);   /* matched at 2, never delivered: fails at day 2's end */
    uint32_t t3 = post_any(e, 0);   /* matched at 1, delivered at 30: paid at day 2's end */
    uint32_t t4 = post_any(e, 0);   /* never matched, posted at 0: expires at day 1's end */
    const fw_quote q1[] = {quote(t0, C1, 700, 7000), quote(t3, C2, 400, 2000)};
    assert_int_equal(fw_market_match(e, q1, 2, 1), 2);
    const fw_quote q2 = quote(t2, C0, 300, 3000);
    assert_int_equal(fw_market_match(e, &q2, 1, 2), 1);
    assert_int_equal(deliver(e, t0, 5 /* C1's */, 5), 1);

    end_days(e, c, 0, 0);
    assert_int_equal(status_of(e, t0), FW_MTASK_DELIVERED);
    assert_int_equal(status_of(e, t1), FW_MTASK_OPEN);
    assert_int_equal(status_of(e, t2), FW_MTASK_MATCHED);
    assert_int_equal(status_of(e, t3), FW_MTASK_MATCHED);
    assert_int_equal(status_of(e, t4), FW_MTASK_OPEN);
    assert_int_equal(fw_market_total(e).payments_cents, 0);
    for (uint32_t u = 0; u < N_USERS; u++)
        assert_int_equal(fw_market_income(e, u), 0);
    assert_books(e, N_USERS);

    assert_int_equal(deliver(e, t3, 2 /* C2's */, 30), 1);
    end_days(e, c, 1, 1);
    fw_task_info ti = task_of(e, t0);
    assert_string_equal(fw_task_status_name((fw_task_status)ti.status), "completed");
    assert_int_equal(ti.settled_tick, 2 * (int32_t)TPD);
    assert_int_equal(fw_market_income(e, C1), 700);
    assert_int_equal(status_of(e, t1), FW_MTASK_OPEN);
    assert_int_equal(status_of(e, t2), FW_MTASK_MATCHED);
    assert_int_equal(status_of(e, t3), FW_MTASK_DELIVERED);
    assert_string_equal(fw_task_status_name((fw_task_status)status_of(e, t4)), "expired");
    assert_settled(e, 1, 1, 0, 700);
    assert_books(e, N_USERS);

    end_days(e, c, 2, 2);
    assert_int_equal(status_of(e, t1), FW_MTASK_EXPIRED);
    assert_int_equal(status_of(e, t2), FW_MTASK_FAILED);
    ti = task_of(e, t3);
    assert_int_equal(ti.status, FW_MTASK_COMPLETED);
    assert_int_equal(ti.settled_tick, 3 * (int32_t)TPD);
    assert_int_equal(fw_market_income(e, C2), 400);
    assert_int_equal(fw_market_income(e, C0), 0);   /* failed: unpaid */
    assert_settled(e, 2, 2, 1, 1100);
    assert_int_equal(fw_market_total(e).committed_cents, 1400);
    int passed = -1;
    assert_int_equal(fw_market_deliver(e, t2, 0, 80, &passed), FW_ERR_INVAL);   /* too late */
    const fw_quote late = quote(t1, C0, 100, 1e6);
    assert_int_equal(fw_market_match(e, &late, 1, 80), 0);   /* expired */
    assert_books(e, N_USERS);

    /* More day ends (one of them repeated) pay nobody twice. */
    end_days(e, c, 3, 9);
    end_days(e, c, 9, 9);
    assert_settled(e, 2, 2, 1, 1100);
    assert_int_equal(fw_market_income(e, C1), 700);
    assert_int_equal(fw_market_income(e, C2), 400);
    assert_int_equal(task_of(e, t0).settled_tick, 2 * (int32_t)TPD);
    assert_books(e, N_USERS);

    /* settle_days 0: paid at the end of the delivery day; expire_days 1. */
    cfg.market.settle_days = 0;
    cfg.market.expire_days = 1;
    e = fixture_rig_open(state, build(&cfg), &c);
    t0 = post_any(e, 10);
    t1 = post_any(e, 10);
    const fw_quote q = quote(t0, C3, 250, 10);
    assert_int_equal(fw_market_match(e, &q, 1, 12), 1);
    end_days(e, c, 0, 0);
    assert_int_equal(status_of(e, t0), FW_MTASK_MATCHED);
    assert_int_equal(status_of(e, t1), FW_MTASK_OPEN);   /* 14 ticks old */
    assert_int_equal(deliver(e, t0, 3, 40), 1);
    end_days(e, c, 1, 1);
    assert_int_equal(status_of(e, t0), FW_MTASK_COMPLETED);
    assert_int_equal(status_of(e, t1), FW_MTASK_EXPIRED);
    assert_int_equal(fw_market_income(e, C3), 250);
    end_days(e, c, 2, 4);
    assert_int_equal(fw_market_income(e, C3), 250);
    assert_int_equal(fw_market_total(e).payments_cents, 250);
    assert_books(e, N_USERS);
}

/* Each deadline falls at the first day end at least that many days after the event: exactly
 * then, not a tick earlier (expire 2, deliver 2, settle 1). */
/* The books never overflow: a task is refused (FW_ERR_RANGE, the engine's error naming the
 * knob) when the committed prices plus the open budgets would pass INT64_MAX cents, and at the
 * edge the most that fits is taken, matched, delivered and paid with every sum exact.
 * Expired and matched tasks give their budget's room back. */
static void test_books_cannot_overflow(void **state)
{
    fw_engine_cfg cfg = market_cfg(FW_MATCH_GREEDY, 1.0);   /* expire 2, deliver 2, settle 1 */
    fw_engine_ctx *c;
    fw_engine *e = fixture_rig_open(state, build(&cfg), &c);
    uint32_t big = post(e, 0, INT64_MAX - 1000, 0, 100, 0);
    fw_task_post p = {.brand = 0, .niche = 0, .product = FW_NONE, .budget_cents = 1001, .followers_min = 0,
                      .followers_max = 100, .tick = 0};
    uint32_t id = FW_NONE;
    assert_int_equal(fw_market_post(e, &p, &id), FW_ERR_RANGE);
    assert_int_equal(id, FW_NONE);
    assert_non_null(strstr(fw_engine_error(e), "world.task_budget_cents"));
    assert_int_equal(fw_market_n_tasks(e), 1);
    uint32_t small = post(e, 0, 1000, 0, 100, 0);   /* exactly INT64_MAX in all */
    assert_books(e, N_USERS);

    /* Matched at a price under its budget: the difference is room again. */
    const fw_quote q[] = {quote(big, C0, INT64_MAX - 5000, 1e9), quote(small, C1, 1000, 1.0)};
    assert_int_equal(fw_market_match(e, q, 2, 1), 2);
    assert_books(e, N_USERS);
    p.budget_cents = 4000;
    assert_int_equal(fw_market_post(e, &p, &id), FW_OK);
    p.budget_cents = 1;
    assert_int_equal(fw_market_post(e, &p, &id), FW_ERR_RANGE);
    assert_int_equal(deliver(e, big, 0 /* C0's */, 2), 1);
    assert_int_equal(deliver(e, small, 1 /* C1's */, 2), 1);
    end_days(e, c, 0, 1);   /* both paid at day 1's end; the 4000 task expires */
    assert_int_equal(fw_market_total(e).payments_cents, INT64_MAX - 4000);
    assert_int_equal(fw_market_total(e).committed_cents, INT64_MAX - 4000);
    assert_int_equal(fw_market_income(e, C0), INT64_MAX - 5000);
    assert_int_equal(fw_market_income(e, C1), 1000);
    assert_books(e, N_USERS);
    p.budget_cents = 4000;   /* the expired task's room is free again */
    assert_int_equal(fw_market_post(e, &p, &id), FW_OK);
    p.budget_cents = 1;
    assert_int_equal(fw_market_post(e, &p, &id), FW_ERR_RANGE);
    assert_books(e, N_USERS);
}

static void test_deadline_boundaries(void **state)
{
    fw_engine_ctx *c;
    fw_engine *e = open_hand(state, FW_MATCH_GREEDY, 1.0, &c);
    const int32_t D = (int32_t)TPD;
    uint32_t exp_on = post_any(e, 0);    /* 48 ticks old at day 1's end: expires then */
    uint32_t exp_late = post_any(e, 1);  /* 47: still open; expires at day 2's end */
    uint32_t fail_on = post_any(e, 0);   /* matched at 24: 48 ticks at day 2's end */
    uint32_t fail_late = post_any(e, 0); /* matched at 25: 47 at day 2's end, fails at day 3's */
    uint32_t pay_on = post_any(e, 0);    /* delivered at 24: paid at day 1's end */
    uint32_t pay_late = post_any(e, 0);  /* delivered at 25: paid at day 2's end */
    const fw_quote q[] = {quote(pay_on, C0, 100, 1000), quote(pay_late, C1, 200, 1000)};
    assert_int_equal(fw_market_match(e, q, 2, 1), 2);
    end_days(e, c, 0, 0);
    assert_int_equal(deliver(e, pay_on, 0, D), 1);
    assert_int_equal(deliver(e, pay_late, 1, D + 1), 1);
    const fw_quote f0 = quote(fail_on, C2, 300, 1000), f1 = quote(fail_late, C3, 400, 1000);
    assert_int_equal(fw_market_match(e, &f0, 1, D), 1);
    assert_int_equal(fw_market_match(e, &f1, 1, D + 1), 1);

    end_days(e, c, 1, 1);
    assert_int_equal(status_of(e, exp_on), FW_MTASK_EXPIRED);
    assert_int_equal(status_of(e, exp_late), FW_MTASK_OPEN);
    assert_int_equal(status_of(e, pay_on), FW_MTASK_COMPLETED);
    assert_int_equal(task_of(e, pay_on).settled_tick, 2 * D);
    assert_int_equal(fw_market_income(e, C0), 100);
    assert_int_equal(status_of(e, pay_late), FW_MTASK_DELIVERED);
    assert_int_equal(fw_market_income(e, C1), 0);
    assert_int_equal(status_of(e, fail_on), FW_MTASK_MATCHED);
    assert_int_equal(status_of(e, fail_late), FW_MTASK_MATCHED);

    end_days(e, c, 2, 2);
    assert_int_equal(status_of(e, exp_late), FW_MTASK_EXPIRED);
    assert_int_equal(status_of(e, pay_late), FW_MTASK_COMPLETED);
    assert_int_equal(task_of(e, pay_late).settled_tick, 3 * D);
    assert_int_equal(fw_market_income(e, C1), 200);
    assert_int_equal(status_of(e, fail_on), FW_MTASK_FAILED);
    assert_int_equal(status_of(e, fail_late), FW_MTASK_MATCHED);

    end_days(e, c, 3, 3);
    assert_int_equal(status_of(e, fail_late), FW_MTASK_FAILED);
    assert_settled(e, 2, 2, 2, 300);
    assert_books(e, N_USERS);
}

/* ---- 6. performance ------------------------------------------------------------------------ */

static void test_performance(void **state)
{
    fw_engine_ctx *c;
    fw_engine *e = open_hand(state, FW_MATCH_GREEDY, 1.0, &c);
    uint32_t t = post_any(e, 0);
    const fw_quote q = quote(t, C1, 500, 5000);
    assert_int_equal(fw_market_match(e, &q, 1, 1), 1);
    uint32_t note = FW_NONE;
    fw_note_info ni = {.creator = C1, .topic = 1, .format = FW_FORMAT_IMAGE, .created_tick = 3};
    assert_int_equal(fw_engine_publish(e, c, &ni, &note), FW_OK);
    /* Events on the creator's other note never count. */
    for (uint32_t k = 0; k < 5; k++)
        fixture_log(e, c, 4 + k % 4, 1, 3, FW_EV_OPEN);
    fw_task_info ti = task_of(e, t);
    assert_int_equal(ti.impressions + ti.reads + ti.interactions + ti.saves, 0);
    assert_int_equal(deliver(e, t, note, 4), 1);
    ti = task_of(e, t);
    assert_int_equal(ti.impressions + ti.reads + ti.interactions + ti.saves, 0);

    fw_event ev[32];
    uint32_t n = 0;
    for (uint32_t k = 0; k < 10; k++)
        ev[n++] = (fw_event){.user = 2 + k % 6, .note = note, .tick = 5, .type = FW_EV_IMPRESSION};
    for (uint32_t k = 0; k < 4; k++)   /* two of the reads from search */
        ev[n++] = (fw_event){.user = 2 + k, .note = note, .tick = 6,
                             .type = FW_EV_OPEN | (k < 2 ? FW_EV_SEARCH : 0u)};
    for (uint32_t k = 0; k < 3; k++)
        ev[n++] = (fw_event){.user = 2 + k, .note = note, .tick = 6, .type = FW_EV_LIKE};
    for (uint32_t k = 0; k < 2; k++)
        ev[n++] = (fw_event){.user = 3 + k, .note = note, .tick = 6, .type = FW_EV_SAVE};
    ev[n++] = (fw_event){.user = 4, .note = note, .tick = 6, .type = FW_EV_COMMENT};
    ev[n++] = (fw_event){.user = 5, .note = 5, .tick = 6, .type = FW_EV_SAVE};   /* C1's other */
    assert_int_equal(fw_engine_log_events(e, c, ev, n), FW_OK);
    ti = task_of(e, t);
    assert_int_equal(ti.impressions, 10);
    assert_int_equal(ti.reads, 4);
    assert_int_equal(ti.interactions, 3 + 2 + 1);
    assert_int_equal(ti.saves, 2);

    /* A refused event (unknown flag bits) does not count; the rest of its batch does. */
    n = 0;
    ev[n++] = (fw_event){.user = 6, .note = note, .tick = 7, .type = FW_EV_SAVE | 0x400u};   /* 0x200 is FW_EV_AD */
    ev[n++] = (fw_event){.user = 6, .note = note, .tick = 7, .type = FW_EV_SAVE};
    ev[n++] = (fw_event){.user = 7, .note = note, .tick = 7, .type = FW_EV_IMPRESSION};
    assert_int_equal(fw_engine_log_events(e, c, ev, n), FW_ERR_INVAL);
    ti = task_of(e, t);
    assert_int_equal(ti.impressions, 11);
    assert_int_equal(ti.reads, 4);
    assert_int_equal(ti.interactions, 7);
    assert_int_equal(ti.saves, 3);

    /* Still reported once settled. */
    end_days(e, c, 0, 2);
    ti = task_of(e, t);
    assert_int_equal(ti.status, FW_MTASK_COMPLETED);
    assert_int_equal(ti.impressions, 11);
    assert_int_equal(ti.saves, 3);
    assert_int_equal(fw_engine_note_count(e, note, FW_EV_OPEN), ti.reads);
    assert_books(e, N_USERS);
}

/* ---- 7. invariants after mixed runs --------------------------------------------------------- */

/* Ten days of random posts, quotes, matches, deliveries (some by the wrong creator), follows
 * and day ends, under each matching; the books hold after every step. Followers are tracked
 * here from the follow graph and the logged follows. */
static void mixed_run(void **state, fw_matching matching, uint64_t seed)
{
    gen g = {seed};
    static rcat rc;
    rcat_make(&rc, &g);
    fw_engine_cfg cfg = market_cfg(matching, 0.7);
    fw_engine_ctx *c;
    fw_engine *e = fixture_rig_open(state, rcat_engine(&rc, &cfg), &c);
    static uint8_t follows[R_USERS][R_CREATORS];
    uint32_t followers[R_USERS] = {0};
    memset(follows, 0, sizeof follows);
    for (uint32_t u = 0; u < R_USERS; u++)
        for (uint64_t k = rc.off[u]; k < rc.off[u + 1]; k++) {
            follows[u][rc.dst[k]] = 1;
            followers[rc.dst[k]]++;
        }
    enum { DAYS = 10, POSTS = 3, MAX_TASKS = DAYS * POSTS };
    static fw_quote q[MAX_TASKS * R_CREATORS];
    uint32_t wrong = 0;
    for (uint32_t d = 0; d < DAYS; d++) {
        int32_t base = (int32_t)(d * TPD);
        for (uint32_t k = 0; k < POSTS; k++) {
            uint32_t lo = gen_below(&g, R_FANS / 2);
            post(e, gen_below(&g, N_TOPICS), 500 + gen_below(&g, 2500), lo, lo + gen_below(&g, R_FANS), base + 1);
        }
        uint32_t n = 0, n_tasks = fw_market_n_tasks(e);
        for (uint32_t t = 0; t < n_tasks; t++)
            if (status_of(e, t) == FW_MTASK_OPEN && gen_chance(&g, 0.6))
                for (uint32_t cr = 0; cr < R_CREATORS; cr++)
                    if (gen_chance(&g, 0.3))
                        q[n++] = quote(t, cr, 200 + gen_below(&g, 3300), (double)gen_below(&g, 10000));
        fw_market_match(e, q, n, base + 2);
        assert_books(e, R_USERS);
        for (uint32_t t = 0; t < n_tasks; t++) {
            fw_task_info ti = task_of(e, t);
            if (ti.status != FW_MTASK_MATCHED || !gen_chance(&g, 0.5))
                continue;
            int passed = -1;
            if (gen_chance(&g, 0.25)) {   /* someone else's note first: refused, not reviewed */
                uint32_t other = (ti.creator + 1 + gen_below(&g, R_CREATORS - 1)) % R_CREATORS;
                assert_int_equal(fw_market_deliver(e, t, other, base + 5, &passed), FW_ERR_INVAL);
                assert_int_equal(task_of(e, t).reviews, ti.reviews);
                wrong++;
            }
            deliver(e, t, ti.creator, base + 5);   /* note c is creator c's */
        }
        assert_books(e, R_USERS);
        /* Some fans follow some creators (repeats included). */
        for (uint32_t k = 0; k < 6; k++) {
            uint32_t u = gen_below(&g, R_USERS), cr = gen_below(&g, R_CREATORS);
            fixture_log(e, c, u, cr, base + 8, FW_EV_FOLLOW);
            if (u != cr && !follows[u][cr]) {
                follows[u][cr] = 1;
                followers[cr]++;
            }
        }
        assert_int_equal(fw_engine_end_day(e, c, d), FW_OK);
        assert_books(e, R_USERS);
    }
    end_days(e, c, DAYS, DAYS + 5);
    assert_books(e, R_USERS);
    fw_market_totals tot = fw_market_total(e);
    assert_true(tot.completed > 0 && tot.expired > 0 && tot.failed > 0 && wrong > 0);
    assert_true(tot.payments_cents > 0 && tot.payments_cents <= tot.committed_cents);
    /* Nothing is left in flight once the deadlines have passed. */
    assert_int_equal(tot.completed + tot.expired + tot.failed, tot.posted);
    for (uint32_t u = 0; u < R_USERS; u++)
        assert_int_equal(fw_market_followers(e, u), followers[u]);
}

static void test_invariants_mixed(void **state)
{
    for (uint64_t s = 1; s <= 4; s++) {
        mixed_run(state, FW_MATCH_GREEDY, s);
        mixed_run(state, FW_MATCH_STABLE, s);
    }
}

/* ---- 8. followers ---------------------------------------------------------------------------- */

static void test_followers(void **state)
{
    fw_engine_ctx *c;
    fw_engine *e = open_hand(state, FW_MATCH_GREEDY, 1.0, &c);
    for (uint32_t u = 0; u < 4; u++)
        assert_int_equal(fw_market_followers(e, u), hand_followers[u]);
    for (uint32_t u = 4; u < N_USERS; u++)
        assert_int_equal(fw_market_followers(e, u), 0);
    assert_int_equal(fw_market_followers(e, N_USERS), 0);
    assert_int_equal(fw_market_followers(e, FW_NONE), 0);

    /* C3 has nobody yet: a task for 2 followers ignores its quote. */
    uint32_t t = post(e, 0, 1000, 2, 2, 0);
    const fw_quote q = quote(t, C3, 100, 1000);
    assert_int_equal(fw_market_match(e, &q, 1, 0), 0);

    fixture_log(e, c, 7, 1 /* C1's note */, 1, FW_EV_FOLLOW);   /* new: C1 3 -> 4 */
    assert_int_equal(fw_market_followers(e, C1), 4);
    fixture_log(e, c, 7, 5 /* C1's other note */, 2, FW_EV_FOLLOW);   /* again: no change */
    assert_int_equal(fw_market_followers(e, C1), 4);
    fixture_log(e, c, 4, 0, 2, FW_EV_FOLLOW);   /* user 4 follows C0 in the catalog already */
    assert_int_equal(fw_market_followers(e, C0), 4);
    fixture_log(e, c, 2, 2, 2, FW_EV_FOLLOW);   /* C2 follows itself: not a follower */
    assert_int_equal(fw_market_followers(e, C2), 2);
    fixture_log(e, c, 1, 1, 2, FW_EV_FOLLOW);   /* nor C1 (also a self-follow in the catalog) */
    assert_int_equal(fw_market_followers(e, C1), 4);
    /* The same new follow twice in one batch counts once; one from search counts too. */
    fw_event ev[] = {
        {.user = 5, .note = 3, .tick = 3, .type = FW_EV_FOLLOW},
        {.user = 5, .note = 7, .tick = 3, .type = FW_EV_FOLLOW},
        {.user = 0, .note = 3, .tick = 3, .type = FW_EV_FOLLOW | FW_EV_SEARCH},
        {.user = 6, .note = 3, .tick = 3, .type = FW_EV_OPEN},   /* not a follow */
    };
    assert_int_equal(fw_engine_log_events(e, c, ev, 4), FW_OK);
    assert_int_equal(fw_market_followers(e, C3), 2);
    /* Refused events change nothing. */
    fw_event badev[] = {
        {.user = 6, .note = N_NOTES + 5, .tick = 3, .type = FW_EV_FOLLOW},
        {.user = N_USERS, .note = 3, .tick = 3, .type = FW_EV_FOLLOW},
        {.user = 6, .note = 3, .tick = 3, .type = FW_EV_FOLLOW | 0x400u},
    };
    assert_int_equal(fw_engine_log_events(e, c, badev, 3), FW_ERR_INVAL);
    assert_int_equal(fw_market_followers(e, C3), 2);
    assert_int_equal(fw_market_followers(e, 6), 0);
    /* A follow of a note published since counts for its creator. */
    uint32_t note = FW_NONE;
    fw_note_info ni = {.creator = C2, .topic = 0, .format = FW_FORMAT_IMAGE, .created_tick = 4};
    assert_int_equal(fw_engine_publish(e, c, &ni, &note), FW_OK);
    fixture_log(e, c, 3, note, 4, FW_EV_FOLLOW);
    assert_int_equal(fw_market_followers(e, C2), 3);
    for (uint32_t u = 4; u < N_USERS; u++)
        assert_int_equal(fw_market_followers(e, u), 0);

    /* Now C3 has 2 followers: its quote is taken. */
    assert_int_equal(fw_market_match(e, &q, 1, 5), 1);
    assert_matched(e, t, C3, 100, 5);
    assert_books(e, N_USERS);
}

/* ---- a bug in market.c, pinned down ---------------------------------------------------------- */

/* Equal predicted reads per cent must not be decided by the order of the quotes: market.h takes
 * quotes "in any order", and ties break on ids (STYLE.md: score desc, id asc), so the lower
 * creator id wins a task and the lower task id wins a creator, whichever way the quotes come.
 * market.c's cmp_ranked breaks such ties on the quote's index in the array instead, so
 * reversing the quotes changes the matching. Fails until that is fixed. */
/* The same two quotes the other way round. */
static void swap2(fw_quote *q)
{
    fw_quote x = q[0];
    q[0] = q[1];
    q[1] = x;
}

static void test_value_ties_ignore_quote_order(void **state)
{
    for (int stable = 0; stable < 2; stable++) {
        fw_engine_cfg cfg = market_cfg(stable ? FW_MATCH_STABLE : FW_MATCH_GREEDY, 1.0);
        for (int rev = 0; rev < 2; rev++) {
            /* One task, two creators at 10 reads per cent each: C1 (the lower id) gets it. */
            fw_engine *e = fixture_rig_open(state, build(&cfg), NULL);
            uint32_t t = post_any(e, 0);
            fw_quote q[2] = {quote(t, C1, 100, 1000), quote(t, C2, 200, 2000)};
            if (rev)
                swap2(q);
            assert_int_equal(fw_market_match(e, q, 2, 1), 1);
            if (task_of(e, t).creator != C1)
                fail_msg("%s, quotes %s: tie for task %u went to creator %u, not %u",
                         stable ? "stable" : "greedy", rev ? "reversed" : "in order", t, task_of(e, t).creator, C1);
            if (stable)
                continue;   /* stable: the creator takes the better-paying task, no tie */
            /* Greedy: one creator, two tasks at 10 reads per cent each: T0 (the lower id). */
            e = fixture_rig_open(state, build(&cfg), NULL);
            uint32_t t0 = post_any(e, 0), t1 = post_any(e, 0);
            fw_quote r[2] = {quote(t0, C1, 100, 1000), quote(t1, C1, 200, 2000)};
            if (rev)
                swap2(r);
            assert_int_equal(fw_market_match(e, r, 2, 1), 1);
            if (status_of(e, t0) != FW_MTASK_MATCHED)
                fail_msg("greedy, quotes %s: tie for creator %u went to task %u, not %u",
                         rev ? "reversed" : "in order", C1, t1, t0);
        }
    }
}

/* A matched task is its creator's cell's: review, the delivery deadline and settlement follow
 * that cell's knobs (C0, C1 in cell 0; C2, C3 in cell 1). */
static void test_task_knobs_per_creator_cell(void **state)
{
    static const uint8_t cells[N_USERS] = {0, 0, 1, 1, 0, 0, 1, 1};
    fw_engine_cfg cfgs[2] = {market_cfg(FW_MATCH_GREEDY, 1.0), market_cfg(FW_MATCH_GREEDY, 0.0)};
    cfgs[0].market.settle_days = 1;
    cfgs[1].market.deliver_days = 1;
    cfgs[1].market.settle_days = 3;
    fw_note_info notes[N_NOTES];
    for (uint32_t i = 0; i < N_NOTES; i++)
        notes[i] = (fw_note_info){.creator = i % 4, .topic = (uint16_t)(i % N_TOPICS),
                                  .format = FW_FORMAT_IMAGE, .created_tick = -100};
    fw_catalog cat = {.n_users = N_USERS, .n_topics = N_TOPICS, .ticks_per_day = TPD,
                      .n_notes = N_NOTES, .notes = notes, .follow_offsets = follow_off,
                      .follows = follow_dst, .user_cell = cells};
    fw_err err = FW_OK;
    fw_engine_ctx *c;
    fw_engine *e = fixture_rig_open(state, fw_engine_create(&cat, cfgs, 2, &err), &c);
    uint32_t a = post_any(e, 0), b = post_any(e, 0), d = post_any(e, 0), f = post_any(e, 0);
    const fw_quote q[] = {quote(a, C1, 500, 5000), quote(b, C2, 400, 4000), quote(d, C0, 300, 3000),
                          quote(f, C3, 200, 2000)};
    assert_int_equal(fw_market_match(e, q, 2, 1), 2);
    assert_int_equal(fw_market_match(e, q + 2, 2, 0), 2);   /* matched at the day's start */
    /* Review: cell 0 passes everything, cell 1 nothing (C2's note fails twice). */
    assert_int_equal(deliver(e, a, 1 /* C1's */, 5), 1);
    assert_int_equal(deliver(e, b, 2 /* C2's */, 5), 0);
    assert_int_equal(deliver(e, b, 6 /* C2's */, 6), 0);
    assert_int_equal(status_of(e, b), FW_MTASK_FAILED);
    /* Deadline: C0 (cell 0, 2 days) is still matched after day 0; C3 (cell 1, 1 day) failed. */
    end_days(e, c, 0, 0);
    assert_int_equal(status_of(e, d), FW_MTASK_MATCHED);
    assert_int_equal(status_of(e, f), FW_MTASK_FAILED);
    /* Settlement: cell 0 pays a day after delivery. */
    end_days(e, c, 1, 1);
    assert_int_equal(status_of(e, a), FW_MTASK_COMPLETED);
    assert_int_equal(fw_market_income(e, C1), 500);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        fixture_rig_test(test_post),
        fixture_rig_test(test_greedy_order),
        fixture_rig_test(test_greedy_one_task_per_creator),
        fixture_rig_test(test_ignored_quotes),
        cmocka_unit_test(test_stable_differs_from_greedy),
        cmocka_unit_test(test_stable_tie_to_lower_task),
        cmocka_unit_test(test_random_matchings),
        fixture_rig_test(test_deliver_and_review),
        cmocka_unit_test(test_review_deterministic),
        fixture_rig_test(test_settle_expire_fail),
        fixture_rig_test(test_deadline_boundaries),
        fixture_rig_test(test_books_cannot_overflow),
        fixture_rig_test(test_performance),
        fixture_rig_test(test_invariants_mixed),
        fixture_rig_test(test_followers),
        fixture_rig_test(test_value_ties_ignore_quote_order),
        fixture_rig_test(test_task_knobs_per_creator_cell),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
