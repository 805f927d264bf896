/* Unit tests for the living world of issue 18 (sim/model/living.c and the world's arrivals):
 * the creators' response function (off is exactly 1; attention, income and fatigue each move
 * it the way the model says, and only where it says), the churn hazard (0 when off, rising
 * with dissatisfaction, its value at expected satisfaction), and arrivals (cold: no follows,
 * no creator role, no followers; traits drawn as a generated user of the same id; the
 * generated users untouched), and unfollows (the disinterest rule: off never unfollows, passing
 * notes over raises the hazard, opens lower it, followers who open less unfollow more; the
 * world's edge removal). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <math.h>

#include "fixture_world.h"
#include "model/behaviour.h"
#include "model/living.h"
#include "model/rng.h"
#include "model/world.h"

static fw_world_cfg cfg_on(double response, double income, double fatigue)
{
    fw_world_cfg c = fixture_world_cfg(0, 0, 0, 0);
    c.creator_response = response;
    c.creator_income_response = income;
    c.creator_fatigue = fatigue;
    return c;
}

static void test_factor_off_is_one(void **state)
{
    (void)state;
    fw_world_cfg c = cfg_on(0, 0, 0);
    fw_creator_memory m = {.attention = 0.0, .posts = 40.0, .income_cents = 1e6};
    assert_true(fw_living_rate_factor(&c, &m, 3.0) == 1.0);
    m = (fw_creator_memory){.attention = 1e5, .posts = 0.0, .income_cents = 0.0};
    assert_true(fw_living_rate_factor(&c, &m, 3.0) == 1.0);
}

static void test_factor_attention(void **state)
{
    (void)state;
    fw_world_cfg c = cfg_on(1.0, 0, 0);
    double mean = 4.0;
    /* Nothing posted yet: average (the pseudo-note). */
    fw_creator_memory none = {0};
    assert_true(fabs(fw_living_rate_factor(&c, &none, mean) - 1.0) < 1e-12);
    /* At the average per note: 1. */
    fw_creator_memory avg = {.attention = 4.0 * 5, .posts = 5};
    assert_true(fabs(fw_living_rate_factor(&c, &avg, mean) - 1.0) < 1e-12);
    /* Monotone in attention for the same posts; nothing earned on 5 notes: 1/6. */
    double prev = 0.0;
    for (double a = 0.0; a <= 100.0; a += 5.0) {
        fw_creator_memory m = {.attention = a, .posts = 5};
        double f = fw_living_rate_factor(&c, &m, mean);
        assert_true(f > prev);
        prev = f;
    }
    fw_creator_memory zero = {.attention = 0.0, .posts = 5};
    assert_true(fabs(fw_living_rate_factor(&c, &zero, mean) - 1.0 / 6.0) < 1e-12);
    /* The elasticity: squared at 2. */
    fw_world_cfg c2 = cfg_on(2.0, 0, 0);
    assert_true(fabs(fw_living_rate_factor(&c2, &zero, mean) - 1.0 / 36.0) < 1e-12);
    /* Capped. */
    fw_creator_memory huge = {.attention = 1e9, .posts = 1};
    assert_true(fw_living_rate_factor(&c, &huge, mean) == FW_LIVING_MAX_FACTOR);
    /* No attention anywhere: the term is skipped. */
    assert_true(fw_living_rate_factor(&c, &zero, 0.0) == 1.0);
}

static void test_factor_income(void **state)
{
    (void)state;
    fw_world_cfg c = cfg_on(0, 1.0, 0);
    fw_creator_memory m = {.posts = 3, .income_cents = c.task_budget_cents};
    assert_true(fabs(fw_living_rate_factor(&c, &m, 4.0) - 2.0) < 1e-12);
    m.income_cents = 0.0;
    assert_true(fw_living_rate_factor(&c, &m, 4.0) == 1.0);
    m.income_cents = 3.0 * c.task_budget_cents;
    assert_true(fabs(fw_living_rate_factor(&c, &m, 4.0) - 4.0) < 1e-12);
}

static void test_factor_fatigue(void **state)
{
    (void)state;
    fw_world_cfg c = cfg_on(0, 0, 2.0);
    double habit = 10.0;
    /* At or below the habit: no fatigue. */
    fw_creator_memory m = {.posts = habit, .habit = habit};
    assert_true(fw_living_rate_factor(&c, &m, 4.0) == 1.0);
    m.posts = 0.5 * habit;
    assert_true(fw_living_rate_factor(&c, &m, 4.0) == 1.0);
    /* 11 posts beyond a habit of 10: excess 11 / 11 = 1, so 1 / (1 + 2 x 1). */
    m.posts = 21.0;
    assert_true(fabs(fw_living_rate_factor(&c, &m, 4.0) - 1.0 / 3.0) < 1e-12);
    /* More posts, more tired. */
    double prev = 2.0;
    for (double p = habit; p < 100.0; p += 7.0) {
        m.posts = p;
        double f = fw_living_rate_factor(&c, &m, 4.0);
        assert_true(f < prev || (p == habit && f == 1.0));
        prev = f;
    }
    /* One note of a rare poster (habit 0.1) is a bounded excess: 0.9 / 1.1. */
    fw_creator_memory rare = {.posts = 1.0, .habit = 0.1};
    assert_true(fabs(fw_living_rate_factor(&c, &rare, 4.0) - 1.0 / (1.0 + 2.0 * 0.9 / 1.1)) < 1e-12);
    /* Fatigue tempers a rewarded creator: with attention the factor is lower with fatigue. */
    fw_world_cfg both = cfg_on(1.0, 0, 2.0), resp = cfg_on(1.0, 0, 0);
    fw_creator_memory r = {.attention = 200.0, .posts = 2.0 * habit, .habit = habit};
    assert_true(fw_living_rate_factor(&both, &r, 4.0) < fw_living_rate_factor(&resp, &r, 4.0));
}

static void test_decay(void **state)
{
    (void)state;
    assert_true(fabs(pow(fw_living_decay(7.0), 7.0) - 0.5) < 1e-12);
    assert_true(fabs(fw_living_decay(1.0) - 0.5) < 1e-15);
}

static void test_churn_hazard(void **state)
{
    (void)state;
    fw_world_cfg c = fixture_world_cfg(0, 0, 0, 0);
    assert_true(fw_living_churn_p(&c, 0.0) == 0.0);   /* off */
    c.churn_base = 0.01;
    c.churn_dissatisfaction = 2.0;
    assert_true(fabs(fw_living_churn_p(&c, 1.0) - (1.0 - exp(-0.01))) < 1e-15);
    double prev = 2.0;
    for (double s = 0.0; s <= 3.0; s += 0.25) {   /* more satisfied: less likely to leave */
        double p = fw_living_churn_p(&c, s);
        assert_true(p > 0.0 && p < 1.0);
        assert_true(p < prev);
        prev = p;
    }
    assert_true(fabs(fw_living_churn_p(&c, 0.5) - (1.0 - exp(-0.01 * exp(1.0)))) < 1e-15);
    c.churn_dissatisfaction = 0.0;   /* no dissatisfaction term: flat */
    assert_true(fw_living_churn_p(&c, 0.2) == fw_living_churn_p(&c, 1.8));
    c.churn_dissatisfaction = 50.0;  /* the exponent is capped: a probability still */
    double p = fw_living_churn_p(&c, -100.0);
    assert_true(p <= 1.0 && p > 0.99);
}

static void test_unfollow_rule(void **state)
{
    (void)state;
    double p = 1.0, d = 0.0;
    for (int k = 0; k < 1000; k++) {   /* off: never */
        d = fw_unfollow_ignored(d, 0.0, &p);
        assert_true(p == 0.0);
    }
    assert_true(d == 1000.0);
    d = 0.0;
    double prev = 0.0;
    for (int k = 1; k <= 10; k++) {   /* each note passed over raises the hazard, to 1 */
        d = fw_unfollow_ignored(d, 0.1, &p);
        assert_true(fabs(p - 0.1 * k) < 1e-12);
        assert_true(p > prev);
        prev = p;
    }
    d = fw_unfollow_ignored(d, 0.1, &p);
    assert_true(p == 1.0);
    assert_true(fw_unfollow_opened(d, 0.0) == 0.0);   /* an open forgets */
    assert_true(fw_unfollow_opened(d, 0.5) == 0.5 * d);
    assert_true(fw_unfollow_opened(d, 1.0) == d);
    fw_unfollow_ignored(fw_unfollow_opened(4.0, 0.5), 0.1, &p);
    assert_true(fabs(p - 0.3) < 1e-12);   /* lower than the 0.5 it would have been */
}

/* Followers shown 40 notes of a creator, each opened with probability p_open, unfollowing by
 * the rule: the share who unfollow falls as p_open rises (the notes are more interesting to
 * them), and is 0 at rate 0. */
static double unfollow_share(double p_open, double rate, double keep)
{
    gsl_rng *r = fw_rng_create(7, FW_RNG_TEST, 0, 0);
    int gone = 0;
    for (int f = 0; f < 4000; f++) {
        double d = 0.0, p;
        for (int k = 0; k < 40; k++) {
            if (gsl_rng_uniform(r) < p_open) {
                d = fw_unfollow_opened(d, keep);
                continue;
            }
            d = fw_unfollow_ignored(d, rate, &p);
            if (gsl_rng_uniform(r) < p) {
                gone++;
                break;
            }
        }
    }
    gsl_rng_free(r);
    return gone / 4000.0;
}

static void test_unfollow_interest(void **state)
{
    (void)state;
    assert_true(unfollow_share(0.1, 0.0, 0.0) == 0.0);
    double lo = unfollow_share(0.1, 0.01, 0.0), mid = unfollow_share(0.3, 0.01, 0.0),
           hi = unfollow_share(0.6, 0.01, 0.0);
    assert_true(lo > mid + 0.05 && mid > hi + 0.05);
    assert_true(unfollow_share(0.3, 0.01, 1.0) > mid + 0.05);   /* opens that forgive nothing */
}

/* fw_users_unfollow: an edge of the initial graph or of the run goes, with a follower. */
static void test_users_unfollow(void **state)
{
    (void)state;
    fw_world_cfg c = fixture_world_cfg(300, 600, 50, 10);
    fw_world w;
    fw_users_state s = {0};
    assert_int_equal(fw_world_generate(&c, 5, &w), FW_OK);
    assert_int_equal(fw_users_state_init(&s, w.n_users), FW_OK);
    uint32_t u = 0;
    while (w.follow_off[u + 1] == w.follow_off[u])
        u++;
    uint32_t cu = w.follow_dst[w.follow_off[u]], n = w.n_followers[cu];
    uint64_t deg = w.follow_off[u + 1] - w.follow_off[u];
    assert_true(fw_users_follows(&w, &s, u, cu));
    assert_int_equal(fw_users_n_follows(&w, &s, u), deg);
    assert_int_equal(fw_users_unfollow(&w, &s, u, cu), 1);
    assert_false(fw_users_follows(&w, &s, u, cu));
    assert_int_equal(w.n_followers[cu], n - 1);
    assert_int_equal(fw_users_n_follows(&w, &s, u), deg - 1);
    assert_int_equal(w.follow_dst[w.follow_off[u]], cu);   /* the graph itself is never written */
    for (uint64_t k = w.follow_off[u] + 1; k < w.follow_off[u + 1]; k++)   /* the others still followed */
        assert_true(fw_users_follows(&w, &s, u, w.follow_dst[k]));
    assert_int_equal(fw_users_unfollow(&w, &s, u, cu), 0);   /* not followed: nothing */
    assert_int_equal(w.n_followers[cu], n - 1);
    assert_int_equal(fw_u32list_push(&s.new_follows[u], cu), 0);   /* followed again in the run */
    w.n_followers[cu]++;
    assert_true(fw_users_follows(&w, &s, u, cu));
    assert_int_equal(fw_users_unfollow(&w, &s, u, cu), 1);
    assert_false(fw_users_follows(&w, &s, u, cu));
    assert_int_equal(fw_users_n_follows(&w, &s, u), deg - 1);
    assert_int_equal(w.n_followers[cu], n - 1);
    fw_users_state_fini(&s, w.n_users);
    fw_world_fini(&w);
}

static void test_arrivals_cold(void **state)
{
    (void)state;
    fw_world_cfg c = fixture_world_cfg(600, 1200, 100, 20), big = c;
    big.n_users = 700;
    fw_world w, wb, w0;
    assert_int_equal(fw_world_generate(&c, 11, &w), FW_OK);
    assert_int_equal(fw_world_generate(&c, 11, &w0), FW_OK);
    assert_int_equal(fw_world_generate(&big, 11, &wb), FW_OK);
    uint64_t edges = w.n_follow_edges;
    assert_int_equal(fw_world_add_arrivals(&w, &c, 12, 100), FW_ERR_INVAL);   /* another seed's users */
    assert_int_equal(fw_world_add_arrivals(&w, &c, 11, 100), FW_OK);
    gsl_rng *rng = fw_rng_create(1, FW_RNG_TEST, 0, 0);
    assert_non_null(rng);
    assert_int_equal(w.n_users, 700);
    assert_int_equal(w.n_arrivals, 100);
    assert_int_equal(w.n_follow_edges, edges);
    uint32_t T = w.n_topics;
    for (uint32_t u = 600; u < 700; u++) {
        assert_int_equal(w.creator_of[u], -1);
        assert_true(w.follow_off[u + 1] == w.follow_off[u]);
        assert_int_equal(w.n_followers[u], 0);
        /* the traits of a generated user of the same id */
        assert_memory_equal(&w.interest[(size_t)u * T], &wb.interest[(size_t)u * T], T * sizeof(float));
        float own[FW_WORLD_MAX_TOPICS];
        double theta[FW_WORLD_MAX_TOPICS];
        fw_world_own_interest(&w, rng, u, theta, own);   /* an arrival's own interests too */
        assert_memory_equal(own, &wb.interest[(size_t)u * T], T * sizeof(float));
        assert_true(w.p_active[u] == wb.p_active[u]);
        assert_true(w.session_rate[u] == wb.session_rate[u]);
        assert_true(w.budget_cents[u] == wb.budget_cents[u]);
    }
    /* the generated users and the graph are as they were */
    assert_memory_equal(w.interest, w0.interest, (size_t)600 * T * sizeof(float));
    assert_memory_equal(w.p_active, w0.p_active, 600 * sizeof(float));
    assert_memory_equal(w.n_followers, w0.n_followers, 600 * sizeof(uint32_t));
    assert_memory_equal(w.follow_off, w0.follow_off, 601 * sizeof(uint64_t));
    assert_int_equal(w.n_creators, w0.n_creators);
    gsl_rng_free(rng);
    fw_world_fini(&w);
    fw_world_fini(&w0);
    fw_world_fini(&wb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_factor_off_is_one), cmocka_unit_test(test_factor_attention),
        cmocka_unit_test(test_factor_income),     cmocka_unit_test(test_factor_fatigue),
        cmocka_unit_test(test_decay),             cmocka_unit_test(test_churn_hazard),
        cmocka_unit_test(test_arrivals_cold),     cmocka_unit_test(test_unfollow_rule),
        cmocka_unit_test(test_unfollow_interest), cmocka_unit_test(test_users_unfollow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
