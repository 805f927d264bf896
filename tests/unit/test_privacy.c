/* Unit tests for the privacy mechanisms (flywheel/privacy.h, engine/src/privacy.c):
 *  - the DP noise on 10^5 keyed draws: mean ~0, Laplace scale b = sensitivity / epsilon
 *    (mean |x| = b, variance 2 b^2) and Gaussian sigma from the classic formula (variance
 *    sigma^2), at several epsilons; the keyed draws are a function of their key alone;
 *  - the knob rules (epsilon <= 0 with dp on, gaussian delta outside (0, 1), ...);
 *  - through the engine: DP trending counts released at the day's end (noise on every note,
 *    the budget's effect on the ranking), the contribution bound (clip), the accounting series,
 *    the retention window forgetting opens and rotating user vectors, the opt-out feed and its
 *    users' events kept out of the ranking models' training.
 * Tolerances are several standard errors of the estimators (see each test), and the draws are
 * deterministic, so these tests cannot flake; each fails when its mechanism is wrong by a few
 * percent (e.g. b = 2 sensitivity / epsilon, or a variance of b^2). */
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
#include "flywheel/privacy.h"
#include "fixture_engine.h"
#include "fixture_rig.h"

#define DRAWS 100000u
#define TPD 24u
#define OLD (-1000)

/* ---- mechanisms ------------------------------------------------------------------------ */

typedef struct moments {
    double mean, var, mean_abs;
} moments;

static moments draw_moments(int mech, double scale, uint32_t cell, uint32_t day)
{
    double s = 0.0, s2 = 0.0, sa = 0.0;
    for (uint32_t i = 0; i < DRAWS; i++) {
        double x = fw_privacy_noise(mech, scale, 42, cell, day, FW_DP_AGG_TRENDING, i);
        s += x;
        s2 += x * x;
        sa += fabs(x);
    }
    moments m = {.mean = s / DRAWS, .mean_abs = sa / DRAWS};
    m.var = s2 / DRAWS - m.mean * m.mean;
    return m;
}

/* Laplace(b): mean 0 (sd of the mean sqrt(2) b / sqrt(n) = 0.0045 b), E|x| = b (sd b / sqrt(n)
 * = 0.0032 b), variance 2 b^2 (sd sqrt(20 / n) b^2 = 0.014 b^2, 0.7% of it). */
static void test_laplace_scale(void **state)
{
    (void)state;
    const double sens = 16.0 * 11.0;   /* clip 16 notes x the default trending weights 1+2+4+4 */
    const double eps[] = {0.1, 1.0, 10.0};
    for (size_t k = 0; k < sizeof eps / sizeof eps[0]; k++) {
        double b = fw_privacy_laplace_scale(sens, eps[k]);
        assert_true(fabs(b - sens / eps[k]) < 1e-12 * b);
        moments m = draw_moments(FW_DP_LAPLACE, b, (uint32_t)k, 3);
        assert_true(fabs(m.mean) < 0.025 * b);
        assert_true(fabs(m.mean_abs / b - 1.0) < 0.02);
        assert_true(fabs(m.var / (2.0 * b * b) - 1.0) < 0.04);
    }
}

/* The classic Gaussian mechanism (Dwork & Roth 2014, Theorem A.1): sigma = sens sqrt(2
 * ln(1.25 / delta)) / epsilon, checked against a hand-worked value and on the draws' variance
 * (sd of the sample variance sqrt(2 / n) sigma^2, 0.45%). */
static void test_gaussian_sigma(void **state)
{
    (void)state;
    /* sens 1, eps 0.5, delta 1e-5: sqrt(2 ln 125000) / 0.5 = sqrt(23.4722) / 0.5 = 9.68961. */
    assert_true(fabs(fw_privacy_gaussian_sigma(1.0, 0.5, 1e-5) - 9.68961) < 1e-4);
    const double eps[] = {0.05, 0.3, 0.9};
    for (size_t k = 0; k < sizeof eps / sizeof eps[0]; k++) {
        double sigma = fw_privacy_gaussian_sigma(4.0, eps[k], 1e-6);
        assert_true(fabs(sigma - 4.0 * sqrt(2.0 * log(1.25e6)) / eps[k]) < 1e-9 * sigma);
        moments m = draw_moments(FW_DP_GAUSSIAN, sigma, 7, (uint32_t)k);
        assert_true(fabs(m.mean) < 0.02 * sigma);
        assert_true(fabs(m.var / (sigma * sigma) - 1.0) < 0.025);
        assert_true(fabs(m.mean_abs / (sigma * sqrt(2.0 / M_PI)) - 1.0) < 0.02);
    }
    /* Off draws nothing. */
    assert_true(fw_privacy_noise(FW_DP_OFF, 5.0, 1, 2, 3, 0, 4) == 0.0);
}

/* A draw is a function of (seed, cell, day, aggregate, index) alone: the same in any order,
 * and each key component moves it; the uniforms stay inside (0, 1) and are uniform. */
static void test_keyed_draws(void **state)
{
    (void)state;
    double fwd[64];
    for (uint32_t i = 0; i < 64; i++)
        fwd[i] = fw_privacy_noise(FW_DP_LAPLACE, 1.0, 9, 1, 2, FW_DP_AGG_COENG, i);
    for (uint32_t i = 64; i-- > 0;)
        assert_true(fw_privacy_noise(FW_DP_LAPLACE, 1.0, 9, 1, 2, FW_DP_AGG_COENG, i) == fwd[i]);
    double base = fw_privacy_uniform(9, 1, 2, 1, 5);
    assert_true(fw_privacy_uniform(10, 1, 2, 1, 5) != base);
    assert_true(fw_privacy_uniform(9, 0, 2, 1, 5) != base);
    assert_true(fw_privacy_uniform(9, 1, 3, 1, 5) != base);
    assert_true(fw_privacy_uniform(9, 1, 2, 0, 5) != base);
    assert_true(fw_privacy_uniform(9, 1, 2, 1, 6) != base);
    uint32_t below[4] = {0};
    for (uint32_t i = 0; i < DRAWS; i++) {
        double u = fw_privacy_uniform(1, 0, 0, 0, i);
        assert_true(u > 0.0 && u < 1.0);
        below[(int)(u * 4.0)]++;
    }
    /* Each quarter holds 25000 +- 137 (sd): 1000 is 7 sd. */
    for (int q = 0; q < 4; q++)
        assert_true(abs((int)below[q] - 25000) < 1000);
}

/* ---- knob rules -------------------------------------------------------------------------- */

static void expect_rule(fw_engine_cfg cfg, const char *key)
{
    char why[512];
    assert_int_equal(fw_engine_cfg_check(&cfg, why, sizeof why), FW_ERR_RANGE);
    if (strncmp(why, key, strlen(key)) != 0)
        fail_msg("expected a message about %s, got \"%s\"", key, why);
}

static void test_rules(void **state)
{
    (void)state;
    fw_engine_cfg c = fixture_engine_cfg();
    char why[512];
    assert_int_equal(fw_engine_cfg_check(&c, why, sizeof why), FW_OK);   /* off by default */
    c.privacy.dp = FW_DP_LAPLACE;
    expect_rule(c, "engine.privacy.epsilon");   /* on without a budget */
    c.privacy.epsilon = -1.0;
    expect_rule(c, "engine.privacy.epsilon");   /* negative: out of range */
    c.privacy.epsilon = 2.0;
    assert_int_equal(fw_engine_cfg_check(&c, why, sizeof why), FW_OK);
    c.privacy.dp = FW_DP_GAUSSIAN;
    expect_rule(c, "engine.privacy.epsilon");   /* classic Gaussian: epsilon < 1 */
    c.privacy.epsilon = 0.5;
    expect_rule(c, "engine.privacy.delta");     /* gaussian without delta */
    c.privacy.delta = 1.0;
    expect_rule(c, "engine.privacy.delta");     /* delta 1 promises nothing */
    c.privacy.delta = 1e-6;
    assert_int_equal(fw_engine_cfg_check(&c, why, sizeof why), FW_OK);
    c.privacy.dp = FW_DP_OFF;
    expect_rule(c, "engine.privacy.epsilon");   /* off with a budget: ambiguous */
    c = fixture_engine_cfg();
    c.privacy.retention_days = 3;
    expect_rule(c, "engine.privacy.retention_days");   /* the baseline keeps no user signal */
    c.feed.algorithm = FW_FEED_REC;
    assert_int_equal(fw_engine_cfg_check(&c, why, sizeof why), FW_OK);
}

/* ---- through the engine -------------------------------------------------------------------- */

#define N_NOTES 40u
#define N_USERS 32u

typedef struct world {
    fw_note_info notes[N_NOTES];
    uint64_t off[N_USERS + 1];
    uint32_t fol[1];
    uint8_t optout[N_USERS];
    fw_catalog cat;
} world;

static world *make_world(void **state, int optout0)
{
    world *w = fixture_rig_alloc(state, sizeof *w);
    for (uint32_t n = 0; n < N_NOTES; n++)
        w->notes[n] = (fw_note_info){.creator = N_USERS - 1 - n % 4, .topic = (uint16_t)(n % 4), .format = 0,
                                     .created_tick = OLD};
    w->optout[0] = (uint8_t)optout0;
    w->cat = (fw_catalog){.n_users = N_USERS, .n_topics = 4, .ticks_per_day = TPD, .n_notes = N_NOTES,
                          .notes = w->notes, .follow_offsets = w->off, .follows = w->fol, .seed = 11,
                          .optout = optout0 ? w->optout : NULL};
    return w;
}

/* The series of group name as of the last day end, or fails. */
static int64_t series(const fw_engine *e, const char *group, const char *name)
{
    for (uint32_t k = 0; k < fw_engine_n_series_groups(e); k++) {
        fw_series_group g;
        assert_int_equal(fw_engine_series(e, k, &g), FW_OK);
        if (strcmp(g.name, group) != 0)
            continue;
        for (uint32_t i = 0; i < g.n; i++)
            if (strcmp(g.series[i].name, name) == 0)
                return g.values[i];
    }
    fail_msg("no series %s/%s", group, name);
    return -1;
}

static int has_group(const fw_engine *e, const char *group)
{
    for (uint32_t k = 0; k < fw_engine_n_series_groups(e); k++) {
        fw_series_group g;
        assert_int_equal(fw_engine_series(e, k, &g), FW_OK);
        if (strcmp(g.name, group) == 0)
            return 1;
    }
    return 0;
}

static void end_day(fw_engine *e, fw_engine_ctx *c, uint32_t day)
{
    assert_int_equal(fw_engine_end_tick(e, c, (int32_t)((day + 1) * TPD - 1)), FW_OK);
    assert_int_equal(fw_engine_end_day(e, c, day), FW_OK);
}

/* Notes 0..4 get a save from each of 16 users (64 distinct, weights 4); the rest nothing. The
 * baseline page of a fresh user (every note old, no follows) is ranked by trending alone. */
static uint32_t engaged_page(void **state, fw_engine_cfg cfg, uint32_t *page)
{
    world *w = make_world(state, 0);
    fw_err err;
    fw_engine_ctx *c;
    fw_engine *e = fixture_rig_open(state, fw_engine_create(&w->cat, &cfg, 1, &err), &c);
    assert_non_null(e);
    for (uint32_t u = 1; u <= 16; u++)
        for (uint32_t n = 0; n < 5; n++)
            fixture_log(e, c, u, n, 3, FW_EV_SAVE);
    end_day(e, c, 0);
    return fixture_serve(e, c, 20, 0, TPD + 1, page, 5);
}

static int top5_are_engaged(const uint32_t *page, uint32_t n)
{
    uint32_t hit = 0;
    for (uint32_t i = 0; i < n; i++)
        hit += page[i] < 5;
    return n == 5 && hit == 5;
}

/* Exact, a large budget (noise b = 16 x 11 / 500 = 0.35 against counts of 64) and a tiny one
 * (b = 176000): the first two rank the engaged notes first, the last ranks noise. The
 * accounting series say what was spent, and the DP cell's pool is empty before its first
 * release. */
static void test_dp_trending(void **state)
{
    uint32_t page[5];
    fw_engine_cfg cfg = fixture_engine_cfg();
    cfg.feed.ad_first_slot = 0;
    assert_true(top5_are_engaged(page, engaged_page(state, cfg, page)));
    fixture_rig *r = *state;
    assert_false(has_group(r->e, "privacy"));   /* off: the module does not exist */

    cfg.privacy.dp = FW_DP_LAPLACE;
    cfg.privacy.epsilon = 1000.0;
    assert_true(top5_are_engaged(page, engaged_page(state, cfg, page)));
    assert_int_equal(series(r->e, "privacy", "eps_trending_ueps"), 1000000000);   /* k = 1: no rec */
    assert_int_equal(series(r->e, "privacy", "eps_coeng_ueps"), 0);
    assert_int_equal(series(r->e, "privacy", "eps_total_ueps"), 1000000000);
    assert_int_equal(series(r->e, "privacy", "noise_draws"), N_NOTES);
    assert_int_equal(series(r->e, "privacy", "clipped_events"), 0);
    end_day(r->e, r->c, 1);
    assert_int_equal(series(r->e, "privacy", "eps_total_ueps"), 2000000000);   /* composition over days */

    cfg.privacy.epsilon = 0.001;
    assert_false(top5_are_engaged(page, engaged_page(state, cfg, page)));

    /* Before the first release a DP cell has no trending: a page of old notes only from the
     * fresh ring, in recency order (id order here), whatever was engaged with. */
    cfg.privacy.epsilon = 1000.0;
    world *w = make_world(state, 0);
    fw_err err;
    fw_engine_ctx *c;
    fw_engine *e = fixture_rig_open(state, fw_engine_create(&w->cat, &cfg, 1, &err), &c);
    for (uint32_t u = 1; u <= 16; u++)
        fixture_log(e, c, u, 30, 3, FW_EV_SAVE);
    assert_int_equal(fw_engine_end_tick(e, c, 3), FW_OK);
    uint32_t n = fixture_serve(e, c, 20, 0, 4, page, 5);
    assert_int_equal(n, 5);
    assert_false(fixture_has(page, n, 30));

    /* Released every tick (releases_per_day 24, each with 1/24 of the budget: b = 4.2 against a
     * count of 64), the same engagement tops the page one tick later, and the day's accounting
     * is unchanged. */
    cfg.privacy.releases_per_day = 24;
    e = fixture_rig_open(state, fw_engine_create(&w->cat, &cfg, 1, &err), &c);
    for (uint32_t u = 1; u <= 16; u++)
        fixture_log(e, c, u, 30, 3, FW_EV_SAVE);
    assert_int_equal(fw_engine_end_tick(e, c, 3), FW_OK);
    n = fixture_serve(e, c, 20, 0, 4, page, 5);
    assert_int_equal(n, 5);
    assert_int_equal(page[0], 30);
    end_day(e, c, 0);
    assert_int_equal(series(e, "privacy", "eps_trending_ueps"), 1000000000);
    assert_int_equal(series(e, "privacy", "noise_draws"), 2 * N_NOTES);   /* ticks 3 and 23 */
}

/* clip 4: a user's events count towards 4 notes a day, each type once per note. */
static void test_clip(void **state)
{
    fw_engine_cfg cfg = fixture_engine_cfg();
    cfg.privacy.dp = FW_DP_LAPLACE;
    cfg.privacy.epsilon = 1.0;
    cfg.privacy.clip = 4;
    world *w = make_world(state, 0);
    fw_err err;
    fw_engine_ctx *c;
    fw_engine *e = fixture_rig_open(state, fw_engine_create(&w->cat, &cfg, 1, &err), &c);
    for (uint32_t n = 0; n < 10; n++)
        fixture_log(e, c, 1, n, 2, FW_EV_OPEN);   /* 6 past the bound */
    fixture_log(e, c, 1, 0, 2, FW_EV_OPEN);       /* the same type again */
    fixture_log(e, c, 1, 0, 2, FW_EV_LIKE);       /* another type: counts */
    end_day(e, c, 0);
    assert_int_equal(series(e, "privacy", "clipped_events"), 7);
    for (uint32_t n = 0; n < 10; n++)
        fixture_log(e, c, 1, n, TPD + 2, FW_EV_OPEN);   /* a new day: a new bound */
    end_day(e, c, 1);
    assert_int_equal(series(e, "privacy", "clipped_events"), 6);
}

/* Retention 2 days with the recommender: user 1's 5 opens of day 0 (5 recent opens + 5
 * note-opener entries) are kept through days 1 and 2 and erased at the end of day 2; every
 * user's vector is reset once in each 2 days. */
static void test_retention(void **state)
{
    fw_engine_cfg cfg = fixture_engine_cfg();
    cfg.feed.algorithm = FW_FEED_REC;
    cfg.privacy.retention_days = 2;
    world *w = make_world(state, 0);
    fw_err err;
    fw_engine_ctx *c;
    fw_engine *e = fixture_rig_open(state, fw_engine_create(&w->cat, &cfg, 1, &err), &c);
    assert_non_null(e);
    for (uint32_t n = 0; n < 5; n++) {
        fixture_log(e, c, 1, n, 2, FW_EV_IMPRESSION);
        fixture_log(e, c, 1, n, 2, FW_EV_OPEN);
    }
    int64_t resets = 0;
    end_day(e, c, 0);
    assert_int_equal(series(e, "privacy", "forgotten_opens"), 0);
    resets += series(e, "privacy", "reset_users");
    fixture_log(e, c, 2, 7, TPD + 2, FW_EV_OPEN);   /* a day-1 open: kept longer */
    end_day(e, c, 1);
    assert_int_equal(series(e, "privacy", "forgotten_opens"), 0);
    resets += series(e, "privacy", "reset_users");
    assert_int_equal(resets, N_USERS);
    end_day(e, c, 2);
    assert_int_equal(series(e, "privacy", "forgotten_opens"), 10);
    end_day(e, c, 3);
    assert_int_equal(series(e, "privacy", "forgotten_opens"), 2);
    end_day(e, c, 4);
    assert_int_equal(series(e, "privacy", "forgotten_opens"), 0);
}

/* An opted-out user's page is the trending pool in order (the same for anyone opted out), and
 * their impressions train no ranking model. */
static void test_optout(void **state)
{
    fw_engine_cfg cfg = fixture_engine_cfg();
    cfg.feed.algorithm = FW_FEED_REC;
    cfg.feed.ad_first_slot = 0;
    cfg.rec.neg_sample = 1;   /* every impression is a sample */
    world *w = make_world(state, 1);
    fw_err err;
    fw_engine_ctx *c;
    fw_engine *e = fixture_rig_open(state, fw_engine_create(&w->cat, &cfg, 1, &err), &c);
    assert_non_null(e);
    const uint32_t order[3] = {17, 3, 29};
    for (uint32_t k = 0; k < 3; k++)
        for (uint32_t u = 1; u <= 3 - k; u++)
            fixture_log(e, c, 10 + u, order[k], 1, FW_EV_SAVE);
    assert_int_equal(fw_engine_end_tick(e, c, 1), FW_OK);
    uint32_t page[10];
    uint32_t n = fixture_serve(e, c, 0, 0, 2, page, 10);
    assert_true(n >= 3);
    for (uint32_t k = 0; k < 3; k++)
        assert_int_equal(page[k], order[k]);
    /* Training: user 0's impressions are no samples, user 5's are. */
    for (uint32_t k = 0; k < 8; k++)
        fixture_log(e, c, 0, 20 + k, 3, FW_EV_IMPRESSION);
    end_day(e, c, 0);
    assert_int_equal(fw_engine_model_stats(e, FW_TASK_OPEN).samples, 0);
    assert_int_equal(series(e, "privacy", "optout_users"), 1);
    for (uint32_t k = 0; k < 8; k++)
        fixture_log(e, c, 5, 20 + k, TPD + 3, FW_EV_IMPRESSION);
    end_day(e, c, 1);
    assert_true(fw_engine_model_stats(e, FW_TASK_OPEN).samples > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_laplace_scale),
        cmocka_unit_test(test_gaussian_sigma),
        cmocka_unit_test(test_keyed_draws),
        cmocka_unit_test(test_rules),
        fixture_rig_test(test_dp_trending),
        fixture_rig_test(test_clip),
        fixture_rig_test(test_retention),
        fixture_rig_test(test_optout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
