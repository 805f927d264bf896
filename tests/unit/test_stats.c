/* Unit tests for sim/stats: every A/B case of ../shared/vectors/README.md to the digits given;
 * reference values for the log-ratio lift, the MDE, absolute CUPED and ratio tests and the
 * sequential test, derived independently with scipy by tests/e2e/stats_reference.py (its
 * output is quoted next to each constant); then properties a formula test cannot show
 * (identical and swapped arms, ratio = Welch when every denominator is 1, CUPED never widening
 * the interval, the absolute test calibrated on a sparse heavy-tailed metric where the old
 * relative test was not, the sequential test staying at or below alpha over 14 correlated
 * daily looks while a peeked test does not), then each documented error. Simulations use
 * gsl_rng_mt19937 with fixed seeds, so every threshold is deterministic, not flaky. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "experiment/stats.h"

/* A vector value given to `decimals` places matches when the relative error is <= 1e-4, or
 * when the computed value rounds to the digits given (0.0291 is printed from 0.029096). */
static int near_digits(double got, double want, int decimals)
{
    double err = fabs(got - want);
    return err <= 1e-4 * fabs(want) || err <= 0.5 * pow(10.0, -decimals) * (1 + 1e-9);
}

#define assert_digits(got, want, decimals)                                                 \
    do {                                                                                   \
        double got_ = (got);                                                               \
        if (!near_digits(got_, (want), (decimals)))                                        \
            fail_msg("%s = %.9g, want %.*f", #got, got_, (decimals), (double)(want));     \
    } while (0)

#define assert_close(a, b, rel)                                                            \
    do {                                                                                   \
        double a_ = (a), b_ = (b);                                                         \
        if (!(fabs(a_ - b_) <= (rel) * fmax(fabs(a_), fabs(b_)) + 1e-300))                 \
            fail_msg("%s = %.17g vs %s = %.17g", #a, a_, #b, b_);                          \
    } while (0)

static const fw_stat_moments vec_c = { 3407, 1396.87, 52377.9767 };
static const fw_stat_moments vec_t = { 3461, 2422.7, 134698.29 };

/* A result against its published vector: delta and se to the decimals given, the CI bounds
 * and p to 5 (as every vector here prints them). */
static void assert_vector(const fw_stat_result *r, double delta, int delta_dec, double se, int se_dec,
                          double ci_lo, double ci_hi, double p)
{
    assert_digits(r->delta, delta, delta_dec);
    assert_digits(r->se, se, se_dec);
    assert_digits(r->ci_lo, ci_lo, 5);
    assert_digits(r->ci_hi, ci_hi, 5);
    assert_digits(r->p, p, 5);
}

/* A multiple-testing adjustment (fw_stat_holm, fw_stat_bh) of p[0..n) against its published
 * values, to decimals. */
static void assert_adjusted(void (*adjust)(const double *, size_t, double *), const double *p,
                            const double *want, size_t n, int decimals)
{
    double adj[16];
    assert_true(n <= 16);
    adjust(p, n, adj);
    for (size_t i = 0; i < n; i++)
        assert_digits(adj[i], want[i], decimals);
}

/* ---- the published vectors ------------------------------------------------------------- */

static void test_vector_welch_relative(void **state)
{
    (void)state;
    fw_stat_result r;
    assert_int_equal(fw_stat_welch(&vec_c, &vec_t, 1, 0.05, &r), FW_OK);
    assert_digits(r.control, 0.41, 2);
    assert_digits(r.treatment, 0.7, 1);
    assert_vector(&r, 0.70732, 5, 0.37879, 5, -0.03526, 1.44989, 0.06191);
}

static void test_vector_welch_absolute(void **state)
{
    (void)state;
    fw_stat_result r;
    assert_int_equal(fw_stat_welch(&vec_c, &vec_t, 0, 0.05, &r), FW_OK);
    assert_vector(&r, 0.29, 2, 0.12478, 5, 0.04538, 0.53462, 0.02016);
    /* Welch-Satterthwaite df, the same for the relative case. */
    fw_stat_result rel;
    assert_int_equal(fw_stat_welch(&vec_c, &vec_t, 1, 0.05, &rel), FW_OK);
    assert_true(r.df == rel.df);
    assert_true(r.df > 5841 && r.df < 5842);
}

/* 14/28 vs 16/30: the CI is t(df = 55.7)-based, wider than +/-1.96 se. */
static void test_vector_proportion_relative(void **state)
{
    (void)state;
    fw_stat_result r;
    assert_int_equal(fw_stat_proportion(14, 28, 16, 30, 1, 0.05, &r), FW_OK);
    assert_digits(r.control, 0.5, 1);
    assert_vector(&r, 0.06667, 5, 0.2717, 4, -0.47767, 0.61101, 0.80707);
    assert_true(r.df > 55 && r.df < 56);
    assert_true(r.ci_hi - r.delta > 1.96 * r.se * 1.02);
}

static void test_vector_holm(void **state)
{
    (void)state;
    const double p[] = { 0.01, 0.04, 0.03, 0.005, 0.55, 0.6 };
    const double want[] = { 0.05, 0.12, 0.12, 0.03, 1, 1 };
    assert_adjusted(fw_stat_holm, p, want, 6, 2);
}

static void test_vector_bh(void **state)
{
    (void)state;
    const double p[] = { 0.898, 0.138, 0.007, 0.964, 0.538, 0.006, 0.138 };
    const double want[] = { 0.964, 0.2415, 0.0245, 0.964, 0.7532, 0.0245, 0.2415 };
    assert_adjusted(fw_stat_bh, p, want, 7, 4);
}

static void test_vector_srm(void **state)
{
    (void)state;
    const double w[] = { 1, 1, 1 };
    struct {
        double obs[3];
        size_t k;
        double chi2, p;
        int chi2_dec, p_dec;
    } cases[] = {
        { { 5000, 5000 }, 2, 0, 1, 4, 4 },
        { { 5100, 4900 }, 2, 4.0, 0.0455, 1, 4 },
        { { 1000, 1100 }, 2, 4.7619, 0.0291, 4, 4 },
        { { 3000, 3200, 3100 }, 3, 6.4516, 0.0397, 4, 4 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double chi2 = -1, p = -1;
        assert_int_equal(fw_stat_srm(cases[i].obs, w, cases[i].k, &chi2, &p), FW_OK);
        assert_digits(chi2, cases[i].chi2, cases[i].chi2_dec);
        assert_digits(p, cases[i].p, cases[i].p_dec);
    }
    /* Only the shares of the weights matter. */
    const double obs[] = { 5100, 4900 }, w2[] = { 0.5, 0.5 }, w3[] = { 51, 49 };
    double chi2, p;
    assert_int_equal(fw_stat_srm(obs, w2, 2, &chi2, &p), FW_OK);
    assert_digits(chi2, 4.0, 1);
    assert_int_equal(fw_stat_srm(obs, w3, 2, &chi2, &p), FW_OK);
    assert_true(chi2 < 1e-20 && p == 1);
}

/* ---- helpers for simulated data -------------------------------------------------------- */

static gsl_rng *rng_new(unsigned long seed)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    assert_non_null(r);
    gsl_rng_set(r, seed);
    return r;
}

static void add_y(fw_stat_moments *m, double y)
{
    m->n += 1;
    m->sum += y;
    m->sum_sq += y * y;
}

static void add_yx(fw_stat_cuped_moments *m, double y, double x)
{
    m->n += 1;
    m->sum_y += y;
    m->sum_x += x;
    m->sum_yy += y * y;
    m->sum_xx += x * x;
    m->sum_xy += x * y;
}

static fw_stat_moments y_only(const fw_stat_cuped_moments *m)
{
    return (fw_stat_moments){ m->n, m->sum_y, m->sum_yy };
}

/* ---- properties ------------------------------------------------------------------------ */

static void test_identical_arms(void **state)
{
    (void)state;
    fw_stat_result r;
    for (int rel = 0; rel <= 1; rel++) {
        assert_int_equal(fw_stat_welch(&vec_c, &vec_c, rel, 0.05, &r), FW_OK);
        assert_true(r.delta == 0 && r.p == 1);
        assert_true(r.ci_lo < 0 && r.ci_hi > 0 && r.ci_lo == -r.ci_hi);
        assert_int_equal(fw_stat_proportion(30, 100, 30, 100, rel, 0.05, &r), FW_OK);
        assert_true(r.delta == 0 && r.p == 1);
        const fw_stat_ratio_moments q = { 100, 40, 400, 50, 2000, 250 };
        assert_int_equal(fw_stat_ratio(&q, &q, rel, 0.05, &r), FW_OK);
        assert_true(r.delta == 0 && r.p == 1);
        const fw_stat_cuped_moments cm = { 100, 40, 30, 50, 40, 20 };
        assert_int_equal(fw_stat_cuped(&cm, &cm, rel, 0.05, &r, NULL), FW_OK);
        assert_true(fabs(r.delta) < 1e-15 && r.p > 1 - 1e-12);
    }
}

static void test_swap_negates_absolute_delta(void **state)
{
    (void)state;
    fw_stat_result ab, ba;
    assert_int_equal(fw_stat_welch(&vec_c, &vec_t, 0, 0.05, &ab), FW_OK);
    assert_int_equal(fw_stat_welch(&vec_t, &vec_c, 0, 0.05, &ba), FW_OK);
    assert_true(ab.delta == -ba.delta && ab.se == ba.se && ab.p == ba.p && ab.df == ba.df);
    assert_true(ab.ci_lo == -ba.ci_hi && ab.ci_hi == -ba.ci_lo);
    assert_int_equal(fw_stat_proportion(14, 28, 16, 30, 0, 0.1, &ab), FW_OK);
    assert_int_equal(fw_stat_proportion(16, 30, 14, 28, 0, 0.1, &ba), FW_OK);
    assert_true(ab.delta == -ba.delta && ab.se == ba.se && ab.p == ba.p);
}

/* Narrower alpha gives a narrower CI; the CI excludes 0 exactly when p < alpha. */
static void test_ci_agrees_with_p(void **state)
{
    (void)state;
    fw_stat_result r90, r95, r99;
    assert_int_equal(fw_stat_welch(&vec_c, &vec_t, 0, 0.10, &r90), FW_OK);
    assert_int_equal(fw_stat_welch(&vec_c, &vec_t, 0, 0.05, &r95), FW_OK);
    assert_int_equal(fw_stat_welch(&vec_c, &vec_t, 0, 0.01, &r99), FW_OK);
    assert_true(r90.ci_hi - r90.ci_lo < r95.ci_hi - r95.ci_lo);
    assert_true(r95.ci_hi - r95.ci_lo < r99.ci_hi - r99.ci_lo);
    assert_true(r95.p < 0.05 && r95.ci_lo > 0);  /* p = 0.020 */
    assert_true(r99.p > 0.01 && r99.ci_lo < 0);
    /* At alpha = p the CI touches 0. */
    fw_stat_result edge;
    assert_int_equal(fw_stat_welch(&vec_c, &vec_t, 0, r95.p, &edge), FW_OK);
    assert_true(fabs(edge.ci_lo) < 1e-9);
}

/* Every unit with x = 1: the ratio of sums is the mean of y and the delta method is Welch. */
static void test_ratio_unit_denominator_is_welch(void **state)
{
    (void)state;
    gsl_rng *g = rng_new(11);
    fw_stat_moments c = { 0 }, t = { 0 };
    fw_stat_ratio_moments rc = { 0 }, rt = { 0 };
    for (int i = 0; i < 700; i++) {
        double y = gsl_ran_poisson(g, 3.0);
        add_y(&c, y);
        rc = (fw_stat_ratio_moments){ rc.n + 1, rc.sum_y + y, rc.sum_x + 1, rc.sum_yy + y * y,
                                      rc.sum_xx + 1, rc.sum_xy + y };
    }
    for (int i = 0; i < 650; i++) {
        double y = gsl_ran_poisson(g, 3.3);
        add_y(&t, y);
        rt = (fw_stat_ratio_moments){ rt.n + 1, rt.sum_y + y, rt.sum_x + 1, rt.sum_yy + y * y,
                                      rt.sum_xx + 1, rt.sum_xy + y };
    }
    gsl_rng_free(g);
    for (int rel = 0; rel <= 1; rel++) {
        fw_stat_result a, b;
        assert_int_equal(fw_stat_welch(&c, &t, rel, 0.05, &a), FW_OK);
        assert_int_equal(fw_stat_ratio(&rc, &rt, rel, 0.05, &b), FW_OK);
        assert_close(a.control, b.control, 1e-12);
        assert_close(a.treatment, b.treatment, 1e-12);
        assert_close(a.delta, b.delta, 1e-12);
        assert_close(a.se, b.se, 1e-12);
        assert_close(a.ci_lo, b.ci_lo, 1e-12);
        assert_close(a.ci_hi, b.ci_hi, 1e-12);
        assert_close(a.p, b.p, 1e-12);
        assert_close(a.df, b.df, 1e-12);
    }
}

/* A CTR-like ratio checked against the delta method done the long way: keep every unit, form
 * the linearised values (y - R x) / mean_x and take their two-pass sample variance. */
static void test_ratio_matches_linearisation(void **state)
{
    (void)state;
    enum { N = 400 };
    static double y[2][N], x[2][N];
    gsl_rng *g = rng_new(12);
    fw_stat_ratio_moments m[2];
    memset(m, 0, sizeof m);
    for (int a = 0; a < 2; a++) {
        for (int i = 0; i < N; i++) {
            x[a][i] = 1 + gsl_ran_poisson(g, 20.0);              /* impressions */
            y[a][i] = gsl_ran_binomial(g, a ? 0.11 : 0.10, (unsigned)x[a][i]);  /* opens */
            m[a].n += 1;
            m[a].sum_y += y[a][i];
            m[a].sum_x += x[a][i];
            m[a].sum_yy += y[a][i] * y[a][i];
            m[a].sum_xx += x[a][i] * x[a][i];
            m[a].sum_xy += x[a][i] * y[a][i];
        }
    }
    gsl_rng_free(g);
    double r[2], v[2];
    for (int a = 0; a < 2; a++) {
        r[a] = m[a].sum_y / m[a].sum_x;
        double mx = m[a].sum_x / N, mean_u = 0, ss = 0;
        for (int i = 0; i < N; i++)
            mean_u += (y[a][i] - r[a] * x[a][i]) / mx / N;
        for (int i = 0; i < N; i++) {
            double d = (y[a][i] - r[a] * x[a][i]) / mx - mean_u;
            ss += d * d;
        }
        v[a] = ss / (N - 1) / N;  /* var(R) */
    }
    fw_stat_result res;
    assert_int_equal(fw_stat_ratio(&m[0], &m[1], 0, 0.05, &res), FW_OK);
    assert_close(res.control, r[0], 1e-12);
    assert_close(res.treatment, r[1], 1e-12);
    assert_close(res.se, sqrt(v[0] + v[1]), 1e-8);
    assert_int_equal(fw_stat_ratio(&m[0], &m[1], 1, 0.05, &res), FW_OK);
    assert_close(res.delta, r[1] / r[0] - 1, 1e-12);
    double q = r[1] / r[0];
    assert_close(res.se, sqrt(v[1] + q * q * v[0]) / r[0], 1e-8);
}

/* Draws n_c + n_t units with x ~ N(0, 1) and y = beta x + N(0, 1) (+ effect in treatment). */
static void draw_cuped(gsl_rng *g, int n_c, int n_t, double beta, double effect,
                       fw_stat_cuped_moments *c, fw_stat_cuped_moments *t)
{
    *c = (fw_stat_cuped_moments){ 0 };
    *t = (fw_stat_cuped_moments){ 0 };
    for (int i = 0; i < n_c + n_t; i++) {
        double x = 5 + gsl_ran_gaussian_ziggurat(g, 1.0);
        double y = 10 + beta * (x - 5) + gsl_ran_gaussian_ziggurat(g, 1.0);
        if (i < n_c)
            add_yx(c, y, x);
        else
            add_yx(t, y + effect, x);
    }
}

/* One draw (draw_cuped, from a generator seeded seed) analysed both ways, absolute at alpha
 * 0.05: Welch on y alone (w) and CUPED (cu, with its theta). */
typedef struct cuped_run {
    fw_stat_cuped_moments c, t;
    fw_stat_result w, cu;
    double theta;
} cuped_run;

static cuped_run run_cuped(unsigned long seed, int n_c, int n_t, double beta, double effect)
{
    cuped_run r = { .theta = NAN };
    gsl_rng *g = rng_new(seed);
    draw_cuped(g, n_c, n_t, beta, effect, &r.c, &r.t);
    gsl_rng_free(g);
    fw_stat_moments yc = y_only(&r.c), yt = y_only(&r.t);
    assert_int_equal(fw_stat_welch(&yc, &yt, 0, 0.05, &r.w), FW_OK);
    assert_int_equal(fw_stat_cuped(&r.c, &r.t, 0, 0.05, &r.cu, &r.theta), FW_OK);
    return r;
}

static void test_cuped_independent_covariate(void **state)
{
    (void)state;
    cuped_run r = run_cuped(21, 2000, 2000, 0.0, 0.1);
    assert_true(fabs(r.theta) < 0.05);  /* sd of theta-hat ~ 1/sqrt(4000) = 0.016 */
    assert_true(fabs(r.cu.delta - r.w.delta) < 0.01);
    assert_true(fabs(r.cu.se / r.w.se - 1) < 0.005);
    assert_true(fabs(r.cu.p - r.w.p) < 0.05);
}

static void test_cuped_correlated_covariate(void **state)
{
    (void)state;
    cuped_run r = run_cuped(22, 1000, 1200, 3.0, 0.1);  /* corr(x, y) = 3/sqrt(10) = 0.95 */
    assert_true(fabs(r.theta - 3.0) < 0.1);
    /* Residual sd 1 instead of sqrt(10): the CI shrinks about 3.2 times. */
    assert_true(r.cu.ci_hi - r.cu.ci_lo < 0.4 * (r.w.ci_hi - r.w.ci_lo));
    assert_true(fabs(r.cu.delta - 0.1) < 4 * r.cu.se);
    assert_true(r.cu.ci_lo > 0);
    /* Relative lift on the adjusted means. */
    fw_stat_result rel;
    assert_int_equal(fw_stat_cuped(&r.c, &r.t, 1, 0.05, &rel, NULL), FW_OK);
    assert_close(rel.delta, r.cu.treatment / r.cu.control - 1, 1e-12);
}

/* With theta estimated on the pooled data the CUPED interval is never wider than Welch's when
 * x carries signal (checked on 300 draws, unequal arms, correlations 0.2 to 0.95). With no
 * signal at all theta-hat is pure noise and may cost a hair of width, O(1/n): bounded here. */
static void test_cuped_never_wider(void **state)
{
    (void)state;
    gsl_rng *g = rng_new(23);
    const double betas[] = { 0.2, 0.5, 1.0, 3.0 };
    double worst_null = 0;
    for (int draw = 0; draw < 300; draw++) {
        fw_stat_cuped_moments c, t;
        double beta = draw < 60 ? 0.0 : betas[draw % 4];
        draw_cuped(g, 300 + draw % 7 * 50, 300 + draw % 5 * 80, beta, 0.05, &c, &t);
        fw_stat_moments yc = y_only(&c), yt = y_only(&t);
        fw_stat_result w, cu;
        assert_int_equal(fw_stat_welch(&yc, &yt, draw & 1, 0.05, &w), FW_OK);
        assert_int_equal(fw_stat_cuped(&c, &t, draw & 1, 0.05, &cu, NULL), FW_OK);
        double ratio = (cu.ci_hi - cu.ci_lo) / (w.ci_hi - w.ci_lo);
        if (beta > 0)
            assert_true(ratio <= 1.0);
        else if (ratio - 1 > worst_null)
            worst_null = ratio - 1;
    }
    gsl_rng_free(g);
    assert_true(worst_null < 0.01);
}

static void test_cuped_constant_covariate(void **state)
{
    (void)state;
    /* No pre-period data: x = 0 for everyone. theta = 0 and the result is plain Welch. */
    const fw_stat_cuped_moments c = { 100, 40, 0, 50, 0, 0 }, t = { 120, 60, 0, 70, 0, 0 };
    const fw_stat_moments yc = { 100, 40, 50 }, yt = { 120, 60, 70 };
    fw_stat_result a, b;
    double theta = NAN;
    assert_int_equal(fw_stat_cuped(&c, &t, 0, 0.05, &a, &theta), FW_OK);
    assert_int_equal(fw_stat_welch(&yc, &yt, 0, 0.05, &b), FW_OK);
    assert_true(theta == 0);
    assert_true(a.delta == b.delta && a.se == b.se && a.p == b.p);
}

/* ---- reference values (tests/e2e/stats_reference.py, scipy) ------------------------------ */

#define assert_ref(got, want) assert_close((got), (want), 1e-8)

/* Vector case 1's lift with the log-ratio interval: the point is the vector's, the interval
 * asymmetric and inside (-1, inf). */
static void test_reference_log_lift(void **state)
{
    (void)state;
    fw_stat_result abs, rel;
    assert_int_equal(fw_stat_welch(&vec_c, &vec_t, 0, 0.05, &abs), FW_OK);
    assert_int_equal(fw_stat_lift(&abs, 0.05, &rel), FW_OK);
    /* {'lift': '0.7073170732', 'se_log': '0.221865269', 'lo': '0.1051544768',
     *  'hi': '1.637578411', 'p': '0.01593833832'} df 5841.742032 */
    assert_ref(rel.delta, 0.7073170732);
    assert_ref(rel.se, 0.221865269);
    assert_ref(rel.ci_lo, 0.1051544768);
    assert_ref(rel.ci_hi, 1.637578411);
    assert_ref(rel.p, 0.01593833832);
    assert_ref(rel.df, 5841.742032);
    assert_true(rel.control == abs.control && rel.treatment == abs.treatment);
    assert_digits(abs.delta / abs.se, 0.29 / 0.12478, 3);   /* the primary test is unchanged */
}

static void test_reference_mde(void **state)
{
    (void)state;
    fw_stat_result abs;
    assert_int_equal(fw_stat_welch(&vec_c, &vec_t, 0, 0.05, &abs), FW_OK);
    /* MDE at power 0.8: 0.3496503398; at power 0.9: 0.4045568516 */
    assert_ref(fw_stat_mde(abs.se, abs.df, 0.05, 0.8), 0.3496503398);
    assert_ref(fw_stat_mde(abs.se, abs.df, 0.05, 0.9), 0.4045568516);
    /* The normal limit: (1.959964 + 0.841621) se. */
    assert_close(fw_stat_mde(1.0, INFINITY, 0.05, 0.8), 2.8015852, 1e-6);
    assert_true(fw_stat_mde(0.0, 10, 0.05, 0.8) == 0.0);
    assert_true(isnan(fw_stat_mde(-1, 10, 0.05, 0.8)));
    assert_true(isnan(fw_stat_mde(1, 0, 0.05, 0.8)));
    assert_true(isnan(fw_stat_mde(1, 10, 0.0, 0.8)));
    assert_true(isnan(fw_stat_mde(1, 10, 0.05, 1.0)));
    assert_true(isnan(fw_stat_mde(NAN, 10, 0.05, 0.8)));
}

static fw_stat_moments moments_of(const double *y, size_t n)
{
    fw_stat_moments m = { 0 };
    for (size_t i = 0; i < n; i++)
        add_y(&m, y[i]);
    return m;
}

/* A sparse, GMV-like pair (40 units per arm, 6 and 3 buyers): the absolute test, an
 * undefined lift (control within t standard errors of 0), and the old relative p. */
static void test_reference_sparse_pair(void **state)
{
    (void)state;
    double c[40] = { 0 }, t[40] = { 0 };
    const double buy_c[] = { 1200, 350, 99, 4500, 780, 2100 }, buy_t[] = { 640, 150, 9900 };
    memcpy(c + 34, buy_c, sizeof buy_c);
    memcpy(t + 37, buy_t, sizeof buy_t);
    fw_stat_moments mc = moments_of(c, 40), mt = moments_of(t, 40);
    fw_stat_result r, rel;
    assert_int_equal(fw_stat_welch(&mc, &mt, 0, 0.05, &r), FW_OK);
    /* {'delta': '41.525', 'se': '277.7979199', 'df': '57.9628071', 'lo': '-514.5555501',
     *  'hi': '597.6055501', 'p': '0.8816944525', 'm_c': '225.725', 'm_t': '267.25',
     *  'se_c': '126.0917197', 'se_t': '247.5329524'} */
    assert_ref(r.delta, 41.525);
    assert_ref(r.se, 277.7979199);
    assert_ref(r.df, 57.9628071);
    assert_ref(r.ci_lo, -514.5555501);
    assert_ref(r.ci_hi, 597.6055501);
    assert_ref(r.p, 0.8816944525);
    assert_ref(r.se_control, 126.0917197);
    assert_ref(r.se_treatment, 247.5329524);
    /* lift: None (225.725 / 126.09 = 1.79 < t = 2.00) */
    rel.delta = 12345;
    assert_int_equal(fw_stat_lift(&r, 0.05, &rel), FW_ERR_RANGE);
    assert_true(rel.delta == 12345);   /* untouched */
    /* old relative p: 0.8862734898 (the delta method on the lift scale) */
    fw_stat_result old;
    assert_int_equal(fw_stat_welch(&mc, &mt, 1, 0.05, &old), FW_OK);
    assert_ref(old.p, 0.8862734898);
    /* MDE 80%: 791.6161001 */
    assert_ref(fw_stat_mde(r.se, r.df, 0.05, 0.8), 791.6161001);
}

/* 2 buyers in 100: m_c / se_c = 1.42 < t = 1.98, the lift is undefined; the absolute test is
 * still there. */
static void test_reference_too_sparse(void **state)
{
    (void)state;
    fw_stat_result r, rel;
    assert_int_equal(fw_stat_proportion(2, 100, 10, 100, 0, 0.05, &r), FW_OK);
    assert_int_equal(fw_stat_lift(&r, 0.05, &rel), FW_ERR_RANGE);
    /* ... but defined with more buyers, and never below -100%. */
    assert_int_equal(fw_stat_proportion(40, 100, 1, 100, 0, 0.05, &r), FW_OK);
    assert_int_equal(fw_stat_lift(&r, 0.05, &rel), FW_OK);
    assert_true(rel.delta == 1.0 / 40 - 1);
    assert_true(rel.ci_lo > -1 && rel.ci_lo < rel.delta && rel.ci_hi > rel.delta);
    /* A treatment with no events has no log ratio. */
    assert_int_equal(fw_stat_proportion(40, 100, 0, 100, 0, 0.05, &r), FW_OK);
    assert_int_equal(fw_stat_lift(&r, 0.05, &rel), FW_ERR_RANGE);
}

static void test_reference_cuped_absolute(void **state)
{
    (void)state;
    const double x_c[] = { 3, 0, 5, 2, 8, 1, 0, 4, 6, 2, 7, 3 };
    const double y_c[] = { 4, 1, 6, 2, 9, 0, 1, 5, 8, 3, 6, 4 };
    const double x_t[] = { 2, 5, 1, 0, 7, 3, 4, 6, 2, 9, 1, 3, 5 };
    const double y_t[] = { 3, 7, 2, 1, 9, 5, 4, 8, 2, 11, 3, 3, 7 };
    fw_stat_cuped_moments c = { 0 }, t = { 0 };
    for (size_t i = 0; i < 12; i++)
        add_yx(&c, y_c[i], x_c[i]);
    for (size_t i = 0; i < 13; i++)
        add_yx(&t, y_t[i], x_t[i]);
    fw_stat_result r, rel;
    double theta = NAN;
    assert_int_equal(fw_stat_cuped(&c, &t, 0, 0.05, &r, &theta), FW_OK);
    /* theta 1.093656344 {'delta': '0.6152101104', 'se': '0.3385023798', 'df': '21.77060316',
     *  'lo': '-0.08722998442', 'hi': '1.317650205', 'p': '0.08293960365', 'm_c': '4.240090743',
     *  'm_t': '4.855300853', 'se_c': '0.2615390668', 'se_t': '0.2148980634'} */
    assert_ref(theta, 1.093656344);
    assert_ref(r.delta, 0.6152101104);
    assert_ref(r.se, 0.3385023798);
    assert_ref(r.df, 21.77060316);
    assert_ref(r.ci_lo, -0.08722998442);
    assert_ref(r.ci_hi, 1.317650205);
    assert_ref(r.p, 0.08293960365);
    assert_ref(r.control, 4.240090743);
    assert_ref(r.treatment, 4.855300853);
    assert_ref(r.se_control, 0.2615390668);
    assert_ref(r.se_treatment, 0.2148980634);
    /* cuped lift: {'lift': '0.1450936189', 'se_log': '0.07591912419', 'lo': '-0.02181500874',
     *  'hi': '0.3404820231', 'p': '0.08826745086'} */
    assert_int_equal(fw_stat_lift(&r, 0.05, &rel), FW_OK);
    assert_ref(rel.delta, 0.1450936189);
    assert_ref(rel.se, 0.07591912419);
    assert_ref(rel.ci_lo, -0.02181500874);
    assert_ref(rel.ci_hi, 0.3404820231);
    assert_ref(rel.p, 0.08826745086);
}

static void test_reference_ratio_absolute(void **state)
{
    (void)state;
    const double xc[] = { 10, 4, 7, 0, 12, 3, 9, 5 }, yc[] = { 2, 0, 1, 0, 3, 1, 1, 0 };
    const double xt[] = { 6, 11, 2, 8, 5, 14, 3, 9, 7 }, yt[] = { 1, 3, 0, 2, 2, 4, 1, 1, 2 };
    fw_stat_ratio_moments m[2];
    memset(m, 0, sizeof m);
    for (int a = 0; a < 2; a++)
        for (size_t i = 0; i < (a ? 9u : 8u); i++) {
            double x = a ? xt[i] : xc[i], y = a ? yt[i] : yc[i];
            m[a] = (fw_stat_ratio_moments){ m[a].n + 1, m[a].sum_y + y, m[a].sum_x + x, m[a].sum_yy + y * y,
                                            m[a].sum_xx + x * x, m[a].sum_xy + x * y };
        }
    fw_stat_result r;
    assert_int_equal(fw_stat_ratio(&m[0], &m[1], 0, 0.05, &r), FW_OK);
    /* R_c 0.16 R_t 0.2461538462 delta 0.08615384615 se 0.04608869293 df 13.79224903
     * p 0.08296101834 */
    assert_ref(r.control, 0.16);
    assert_ref(r.treatment, 0.2461538462);
    assert_ref(r.delta, 0.08615384615);
    assert_ref(r.se, 0.04608869293);
    assert_ref(r.df, 13.79224903);
    assert_ref(r.p, 0.08296101834);
}

/* The lift's interval never reaches -100%, and its bounds bracket the lift, whatever the draw. */
static void test_lift_range(void **state)
{
    (void)state;
    gsl_rng *g = rng_new(41);
    int defined = 0;
    for (int draw = 0; draw < 2000; draw++) {
        fw_stat_moments c = { 0 }, t = { 0 };
        int n = 20 + draw % 200;
        double pc = 0.02 + 0.3 * gsl_rng_uniform(g), pt = pc * (0.05 + 2 * gsl_rng_uniform(g));
        for (int i = 0; i < n; i++) {
            add_y(&c, gsl_rng_uniform(g) < pc ? gsl_ran_lognormal(g, 5, 1.5) : 0);
            add_y(&t, gsl_rng_uniform(g) < pt ? gsl_ran_lognormal(g, 5, 1.5) : 0);
        }
        fw_stat_result r, rel;
        if (fw_stat_welch(&c, &t, 0, 0.05, &r) != FW_OK)
            continue;
        double tq = gsl_cdf_tdist_Qinv(0.025, r.df);
        fw_err e = fw_stat_lift(&r, 0.05, &rel);
        int want = r.control > tq * r.se_control && r.treatment > 0;
        assert_int_equal(e, want ? FW_OK : FW_ERR_RANGE);
        if (e != FW_OK)
            continue;
        defined++;
        assert_true(rel.ci_lo > -1);
        assert_true(rel.ci_lo <= rel.delta && rel.delta <= rel.ci_hi);
        assert_close(rel.delta, r.treatment / r.control - 1, 1e-12);
    }
    gsl_rng_free(g);
    assert_true(defined > 500);
}

/* ---- the sequential test ------------------------------------------------------------------ */

static void test_seq_shares(void **state)
{
    (void)state;
    /* shares [0.0833.., 0.0833.., 0.0833.., 0.75] sum 1.0 (K = 4) */
    assert_ref(fw_stat_seq_share(1, 4), 0.25 / 3);
    assert_ref(fw_stat_seq_share(3, 4), 0.25 / 3);
    assert_true(fw_stat_seq_share(4, 4) == 0.75);
    assert_true(fw_stat_seq_share(1, 1) == 1.0);
    assert_true(fw_stat_seq_share(0, 4) == 0.0 && fw_stat_seq_share(5, 4) == 0.0);
    assert_true(fw_stat_seq_share(1, 0) == 0.0);
    /* Haybittle-Peto's 0.001 at 14 looks: 0.05 / 52 = 0.00096. */
    assert_close(0.05 * fw_stat_seq_share(7, 14), 0.05 / 52, 1e-12);
    for (uint32_t K = 1; K <= 400; K++) {
        double sum = 0;
        for (uint32_t k = 1; k <= K + 3; k++)
            sum += fw_stat_seq_share(k, K);
        assert_close(sum, 1.0, 1e-12);
    }
}

static void test_seq_p(void **state)
{
    (void)state;
    /* p [0.02, 0.004, 0.3, 0.03] -> p_seq ['0.24', '0.048', '0.048', '0.04'] (K = 4) */
    const double p[] = { 0.02, 0.004, 0.3, 0.03 }, want[] = { 0.24, 0.048, 0.048, 0.04 };
    double run = 1.0;
    for (uint32_t k = 0; k < 4; k++) {
        run = fw_stat_seq_p(run, p[k], k + 1, 4);
        assert_ref(run, want[k]);
    }
    /* No test that day, or a look past the plan: unchanged. Capped at 1. */
    assert_true(fw_stat_seq_p(0.3, NAN, 2, 4) == 0.3);
    assert_true(fw_stat_seq_p(0.3, 0.0001, 5, 4) == 0.3);
    assert_true(fw_stat_seq_p(1.0, 0.5, 1, 4) == 1.0);
    assert_true(fw_stat_seq_p(1.0, 0.0, 1, 4) == 0.0);
}

/* A/A with the looks the simulator makes: a fixed set of units whose cumulative totals are
 * re-read every day, each unit with its own persistent rate (a heavy user is heavy every
 * day), so the looks are strongly correlated and no i.i.d. stream model holds. 14 looks.
 * Peeking at the fixed-horizon test every day rejects far more than alpha; the sequential p
 * stays at or below alpha; the last look alone is near alpha. With an effect (+40% on a metric
 * whose unit-to-unit spread is large: z about 3.4 at the last look) it has power. */
static void run_looks(gsl_rng *g, int n_seq, double effect, double *peek_rate, double *seq_rate,
                      double *final_rate)
{
    enum { LOOKS = 14, N = 300 };
    static double rate[2][N], total[2][N];
    int peek = 0, seq = 0, final = 0;
    for (int s = 0; s < n_seq; s++) {
        for (int a = 0; a < 2; a++)
            for (int i = 0; i < N; i++) {
                rate[a][i] = gsl_ran_gamma(g, 0.5, 2.0) * (a ? 1 + effect : 1);
                total[a][i] = 0;
            }
        double p_seq = 1.0;
        int peek_hit = 0;
        for (uint32_t day = 1; day <= LOOKS; day++) {
            fw_stat_moments m[2];
            memset(m, 0, sizeof m);
            for (int a = 0; a < 2; a++)
                for (int i = 0; i < N; i++) {
                    total[a][i] += gsl_ran_poisson(g, rate[a][i]);
                    add_y(&m[a], total[a][i]);
                }
            fw_stat_result r;
            assert_int_equal(fw_stat_welch(&m[0], &m[1], 0, 0.05, &r), FW_OK);
            peek_hit |= r.p < 0.05;
            p_seq = fw_stat_seq_p(p_seq, r.p, day, LOOKS);
            if (day == LOOKS)
                final += r.p < 0.05;
        }
        peek += peek_hit;
        seq += p_seq <= 0.05;
    }
    *peek_rate = (double)peek / n_seq;
    *seq_rate = (double)seq / n_seq;
    *final_rate = (double)final / n_seq;
}

static void test_seq_aa_simulation(void **state)
{
    (void)state;
    gsl_rng *g = rng_new(31);
    double peek, seq, final;
    run_looks(g, 3000, 0.0, &peek, &seq, &final);
    print_message("A/A, 3000 x 14 correlated looks: peeked test %.4f, sequential %.4f, last look %.4f\n",
                  peek, seq, final);
    /* 3000 runs: a binomial sd of 0.004 at 0.05. */
    assert_true(peek > 0.08);
    assert_true(seq <= 0.05);
    assert_true(final > 0.035 && final < 0.065);
    run_looks(g, 300, 0.4, &peek, &seq, &final);
    print_message("effect +40%%, 300 x 14 looks: sequential power %.4f, last look alone at alpha %.4f\n", seq,
                  final);
    assert_true(seq > 0.7);   /* the union bound's price: below the last look alone at alpha */
    gsl_rng_free(g);
}

/* A sparse, heavy-tailed metric (GMV per user: 2% of 1000 users per arm buy, lognormal
 * amounts), A/A: the absolute test's false-positive rate is near alpha, the old relative
 * test's (the delta method on the lift, se at the estimated ratio) is about twice it -- the
 * bug of issue 14, always with a negative lift. 4000 draws: binomial sd 0.0034 at 0.05. */
static void test_sparse_calibration(void **state)
{
    (void)state;
    enum { N = 1000, DRAWS = 4000 };
    gsl_rng *g = rng_new(51);
    int rej_abs = 0, rej_rel = 0, rel_negative = 0, n = 0;
    for (int d = 0; d < DRAWS; d++) {
        fw_stat_moments m[2];
        memset(m, 0, sizeof m);
        for (int a = 0; a < 2; a++)
            for (int i = 0; i < N; i++)
                add_y(&m[a], gsl_rng_uniform(g) < 0.02 ? gsl_ran_lognormal(g, 8, 1) : 0);
        fw_stat_result ab, rel;
        if (fw_stat_welch(&m[0], &m[1], 0, 0.05, &ab) != FW_OK ||
            fw_stat_welch(&m[0], &m[1], 1, 0.05, &rel) != FW_OK)
            continue;
        n++;
        rej_abs += ab.p < 0.05;
        rej_rel += rel.p < 0.05;
        rel_negative += rel.p < 0.05 && rel.delta < 0;
    }
    gsl_rng_free(g);
    double fa = (double)rej_abs / n, fr = (double)rej_rel / n;
    print_message("sparse A/A, %d draws: absolute test %.4f, old relative test %.4f (%.0f%% of its "
                  "rejections negative)\n", n, fa, fr, 100.0 * rel_negative / (rej_rel ? rej_rel : 1));
    assert_true(fa >= 0.03 && fa <= 0.065);
    assert_true(fr > 0.08);
    assert_true(rel_negative > 0.7 * rej_rel);
}

/* With the right split the SRM p-value is uniform: about 5% of 2000 draws fall below 0.05. */
static void test_srm_uniform_under_null(void **state)
{
    (void)state;
    gsl_rng *g = rng_new(41);
    const double w[] = { 1, 1, 2 };
    int below05 = 0, below50 = 0;
    for (int i = 0; i < 2000; i++) {
        unsigned counts[3];
        const double probs[] = { 0.25, 0.25, 0.5 };
        gsl_ran_multinomial(g, 3, 20000, probs, counts);
        const double obs[] = { counts[0], counts[1], counts[2] };
        double chi2, p;
        assert_int_equal(fw_stat_srm(obs, w, 3, &chi2, &p), FW_OK);
        below05 += p < 0.05;
        below50 += p < 0.5;
    }
    gsl_rng_free(g);
    assert_true(below05 > 70 && below05 < 130);
    assert_true(below50 > 900 && below50 < 1100);
}

static void test_multiple_testing_properties(void **state)
{
    (void)state;
    /* Empty and single inputs. */
    fw_stat_holm(NULL, 0, NULL);
    fw_stat_bh(NULL, 0, NULL);
    double one = 0.03, adj1 = -1;
    fw_stat_holm(&one, 1, &adj1);
    assert_true(adj1 == 0.03);
    fw_stat_bh(&one, 1, &adj1);
    assert_true(adj1 == 0.03);

    /* Ties share one adjusted value; adjusted >= p; order of p is kept; BH <= Holm. */
    const double p[] = { 0.02, 0.01, 0.02, 0.5, 0.02, 0.001, 1.0, 0.0 };
    enum { N = sizeof p / sizeof p[0] };
    double holm[N], bh[N];
    fw_stat_holm(p, N, holm);
    fw_stat_bh(p, N, bh);
    for (int i = 0; i < N; i++) {
        assert_true(holm[i] >= p[i] && holm[i] <= 1);
        assert_true(bh[i] >= p[i] && bh[i] <= 1);
        assert_true(bh[i] <= holm[i]);
        for (int j = 0; j < N; j++) {
            if (p[i] <= p[j]) {
                assert_true(holm[i] <= holm[j]);
                assert_true(bh[i] <= bh[j]);
            }
        }
    }
    assert_true(holm[0] == holm[2] && holm[0] == holm[4]);
    assert_true(bh[0] == bh[2] && bh[0] == bh[4]);
    /* Sorted: 0, .001, .01, .02 x3, .5, 1. Holm: .02 at rank 4 of 8 -> 5 * .02 = 0.1. */
    assert_close(holm[0], 0.1, 1e-12);
    /* BH: .02 at highest tied rank 6 -> 8 * .02 / 6. */
    assert_close(bh[0], 8 * 0.02 / 6, 1e-12);
    assert_true(holm[7] == 0 && bh[7] == 0);

    /* A p-value outside [0, 1] or NaN makes every adjusted value NaN. */
    const double bad[] = { 0.1, NAN, 0.2 }, bad2[] = { 0.1, 1.5 };
    double out[3];
    fw_stat_holm(bad, 3, out);
    for (int i = 0; i < 3; i++)
        assert_true(isnan(out[i]));
    fw_stat_bh(bad2, 2, out);
    assert_true(isnan(out[0]) && isnan(out[1]));
}

/* ---- documented errors ----------------------------------------------------------------- */

static int untouched(const fw_stat_result *r)
{
    static const unsigned char sentinel[sizeof *r] = { 0 };
    return memcmp(r, sentinel, sizeof *r) == 0;
}

static void test_errors(void **state)
{
    (void)state;
    fw_stat_result r = { 0 };
    const fw_stat_moments one = { 1, 2, 4 }, zero_mean = { 10, 0, 5 };
    const fw_stat_moments flat_a = { 10, 20, 40 }, flat_b = { 12, 36, 108 };

    /* n < 2 */
    assert_int_equal(fw_stat_welch(&one, &vec_t, 0, 0.05, &r), FW_ERR_RANGE);
    assert_int_equal(fw_stat_welch(&vec_c, &one, 0, 0.05, &r), FW_ERR_RANGE);
    assert_int_equal(fw_stat_proportion(1, 1, 3, 10, 0, 0.05, &r), FW_ERR_RANGE);
    /* zero control mean, relative only */
    assert_int_equal(fw_stat_welch(&zero_mean, &vec_t, 1, 0.05, &r), FW_ERR_RANGE);
    assert_int_equal(fw_stat_proportion(0, 50, 3, 50, 1, 0.05, &r), FW_ERR_RANGE);
    assert_true(untouched(&r));
    assert_int_equal(fw_stat_welch(&zero_mean, &vec_t, 0, 0.05, &r), FW_OK);
    r = (fw_stat_result){ 0 };
    /* zero variance in both arms (constant 2 vs constant 3; 0% vs 100%) */
    assert_int_equal(fw_stat_welch(&flat_a, &flat_b, 0, 0.05, &r), FW_ERR_RANGE);
    assert_int_equal(fw_stat_proportion(0, 50, 50, 50, 0, 0.05, &r), FW_ERR_RANGE);
    /* ... one arm with zero variance is fine: df is the other arm's n - 1 */
    fw_stat_result ok;
    assert_int_equal(fw_stat_welch(&flat_a, &vec_t, 0, 0.05, &ok), FW_OK);
    assert_close(ok.df, vec_t.n - 1, 1e-12);
    /* relative with se 0: treatment all 0 gives lift -1 with a delta-method se of 0 */
    const fw_stat_moments zeros = { 10, 0, 0 };
    assert_int_equal(fw_stat_welch(&vec_c, &zeros, 1, 0.05, &r), FW_ERR_RANGE);

    /* invalid arguments */
    assert_int_equal(fw_stat_welch(NULL, &vec_t, 0, 0.05, &r), FW_ERR_INVAL);
    assert_int_equal(fw_stat_welch(&vec_c, &vec_t, 0, 0.05, NULL), FW_ERR_INVAL);
    assert_int_equal(fw_stat_welch(&vec_c, &vec_t, 0, 0.0, &r), FW_ERR_INVAL);
    assert_int_equal(fw_stat_welch(&vec_c, &vec_t, 0, 1.0, &r), FW_ERR_INVAL);
    assert_int_equal(fw_stat_welch(&vec_c, &vec_t, 0, NAN, &r), FW_ERR_INVAL);
    const fw_stat_moments impossible = { 10, 10, 1 }, negative = { -3, 1, 1 };
    const fw_stat_moments nan_sum = { 10, NAN, 1 };
    assert_int_equal(fw_stat_welch(&impossible, &vec_t, 0, 0.05, &r), FW_ERR_INVAL);
    assert_int_equal(fw_stat_welch(&negative, &vec_t, 0, 0.05, &r), FW_ERR_INVAL);
    assert_int_equal(fw_stat_welch(&nan_sum, &vec_t, 0, 0.05, &r), FW_ERR_INVAL);
    assert_int_equal(fw_stat_proportion(11, 10, 3, 10, 0, 0.05, &r), FW_ERR_INVAL);
    assert_int_equal(fw_stat_proportion(-1, 10, 3, 10, 0, 0.05, &r), FW_ERR_INVAL);
    assert_true(untouched(&r));

    /* ratio: zero denominators, impossible covariance, n < 2 */
    const fw_stat_ratio_moments q = { 100, 40, 400, 50, 2000, 250 };
    const fw_stat_ratio_moments no_x = { 100, 0, 0, 0, 0, 0 };
    const fw_stat_ratio_moments bad_cov = { 100, 40, 400, 50, 2000, 5000 };
    const fw_stat_ratio_moments q1 = { 1, 1, 5, 1, 25, 5 };
    const fw_stat_ratio_moments zero_y = { 100, 0, 400, 0, 2000, 0 };
    assert_int_equal(fw_stat_ratio(&no_x, &q, 0, 0.05, &r), FW_ERR_RANGE);
    assert_int_equal(fw_stat_ratio(&bad_cov, &q, 0, 0.05, &r), FW_ERR_INVAL);
    assert_int_equal(fw_stat_ratio(&q1, &q, 0, 0.05, &r), FW_ERR_RANGE);
    assert_int_equal(fw_stat_ratio(&zero_y, &q, 1, 0.05, &r), FW_ERR_RANGE);
    assert_int_equal(fw_stat_ratio(&q, NULL, 0, 0.05, &r), FW_ERR_INVAL);

    /* CUPED: as Welch, and theta_out untouched on failure */
    const fw_stat_cuped_moments cm = { 100, 40, 30, 50, 40, 20 }, cm1 = { 1, 1, 1, 1, 1, 1 };
    const fw_stat_cuped_moments cm0 = { 100, 0, 30, 0, 40, 0 };
    double theta = 42;
    assert_int_equal(fw_stat_cuped(&cm1, &cm, 0, 0.05, &r, &theta), FW_ERR_RANGE);
    assert_int_equal(fw_stat_cuped(&cm, &cm, 0, 2.0, &r, &theta), FW_ERR_INVAL);
    assert_int_equal(fw_stat_cuped(&cm0, &cm0, 0, 0.05, &r, &theta), FW_ERR_RANGE);
    assert_true(theta == 42);
    assert_true(untouched(&r));

    /* lift: invalid arguments and an input that is no result */
    fw_stat_result good, bad_df;
    assert_int_equal(fw_stat_welch(&vec_c, &vec_t, 0, 0.05, &good), FW_OK);
    bad_df = good;
    bad_df.df = 0;
    assert_int_equal(fw_stat_lift(NULL, 0.05, &r), FW_ERR_INVAL);
    assert_int_equal(fw_stat_lift(&good, 0.05, NULL), FW_ERR_INVAL);
    assert_int_equal(fw_stat_lift(&good, 1.5, &r), FW_ERR_INVAL);
    assert_int_equal(fw_stat_lift(&bad_df, 0.05, &r), FW_ERR_INVAL);
    assert_true(untouched(&r));

    /* SRM */
    const double obs[] = { 10, 20 }, w[] = { 1, 1 }, w_bad[] = { 1, 0 };
    const double obs_neg[] = { 10, -1 }, obs_zero[] = { 0, 0 };
    double chi2 = 7, p = 7;
    assert_int_equal(fw_stat_srm(obs, w, 1, &chi2, &p), FW_ERR_INVAL);
    assert_int_equal(fw_stat_srm(obs, w_bad, 2, &chi2, &p), FW_ERR_INVAL);
    assert_int_equal(fw_stat_srm(obs_neg, w, 2, &chi2, &p), FW_ERR_INVAL);
    assert_int_equal(fw_stat_srm(obs, NULL, 2, &chi2, &p), FW_ERR_INVAL);
    assert_int_equal(fw_stat_srm(obs_zero, w, 2, &chi2, &p), FW_ERR_RANGE);
    assert_true(chi2 == 7 && p == 7);
}

/* Mann-Whitney: hand-counted exact cases, symmetry, and the normal approximation close to
 * the exact distribution where both apply. */
static void test_mann_whitney(void **state)
{
    (void)state;
    double u;
    const double a3[] = {1, 2, 3}, b3[] = {4, 5, 6};
    /* All 3 y above all 3 x: only 1 of C(6,3) = 20 orders gives U = 9. */
    assert_float_equal(fw_stat_mann_whitney_greater(a3, 3, b3, 3, &u), 1.0 / 20.0, 1e-12);
    assert_float_equal(u, 9.0, 0);
    assert_float_equal(fw_stat_mann_whitney_greater(b3, 3, a3, 3, &u), 1.0, 1e-12);
    assert_float_equal(u, 0.0, 0);
    const double a5[] = {1, 2, 3, 4, 5}, b5[] = {6, 7, 8, 9, 10};
    assert_float_equal(fw_stat_mann_whitney_greater(a5, 5, b5, 5, NULL), 1.0 / 252.0, 1e-12);
    /* x = {1, 3}, y = {2, 4}: U = 3 (2>1, 4>1, 4>3); orders of 2+2 with U >= 3: U in {3, 4},
     * counts 1 and 1 of 6 -> 2/6. */
    const double x2[] = {1, 3}, y2[] = {2, 4};
    assert_float_equal(fw_stat_mann_whitney_greater(x2, 2, y2, 2, &u), 2.0 / 6.0, 1e-12);
    assert_float_equal(u, 3.0, 0);
    /* Interleaved samples: no evidence either way. */
    double x[20], y[20], xs[21], ys[21];
    for (int i = 0; i < 20; i++) {
        x[i] = 2 * i;
        y[i] = 2 * i + 1;
    }
    double p = fw_stat_mann_whitney_greater(x, 20, y, 20, &u);
    assert_true(p > 0.3 && p < 0.7);
    /* Exact (20 vs 20) and the approximation (21 vs 21, the same kind of shift) agree. */
    for (int i = 0; i < 21; i++) {
        xs[i] = i;
        ys[i] = i + 6.5;
    }
    double p_exact = fw_stat_mann_whitney_greater(xs, 20, ys, 20, NULL);
    double p_approx = fw_stat_mann_whitney_greater(xs, 21, ys, 21, NULL);
    assert_true(p_exact > 0.001 && p_exact < 0.1);
    assert_true(fabs(p_exact - p_approx) < 0.02);
    /* Ties: identical samples give p around one half, not significance. */
    const double t[] = {1, 1, 2, 2, 3};
    p = fw_stat_mann_whitney_greater(t, 5, t, 5, &u);
    assert_float_equal(u, 12.5, 0);
    assert_true(p > 0.4 && p < 0.7);
    assert_true(isnan(fw_stat_mann_whitney_greater(t, 0, t, 5, NULL)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector_welch_relative),
        cmocka_unit_test(test_vector_welch_absolute),
        cmocka_unit_test(test_vector_proportion_relative),
        cmocka_unit_test(test_vector_holm),
        cmocka_unit_test(test_vector_bh),
        cmocka_unit_test(test_vector_srm),
        cmocka_unit_test(test_identical_arms),
        cmocka_unit_test(test_swap_negates_absolute_delta),
        cmocka_unit_test(test_ci_agrees_with_p),
        cmocka_unit_test(test_ratio_unit_denominator_is_welch),
        cmocka_unit_test(test_ratio_matches_linearisation),
        cmocka_unit_test(test_cuped_independent_covariate),
        cmocka_unit_test(test_cuped_correlated_covariate),
        cmocka_unit_test(test_cuped_never_wider),
        cmocka_unit_test(test_cuped_constant_covariate),
        cmocka_unit_test(test_reference_log_lift),
        cmocka_unit_test(test_reference_mde),
        cmocka_unit_test(test_reference_sparse_pair),
        cmocka_unit_test(test_reference_too_sparse),
        cmocka_unit_test(test_reference_cuped_absolute),
        cmocka_unit_test(test_reference_ratio_absolute),
        cmocka_unit_test(test_lift_range),
        cmocka_unit_test(test_seq_shares),
        cmocka_unit_test(test_seq_p),
        cmocka_unit_test(test_seq_aa_simulation),
        cmocka_unit_test(test_sparse_calibration),
        cmocka_unit_test(test_srm_uniform_under_null),
        cmocka_unit_test(test_multiple_testing_properties),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_mann_whitney),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
