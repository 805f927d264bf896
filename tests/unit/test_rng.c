/* Unit tests for sim/rng: Philox4x32-10 known answers (Random123's kat_vectors), the
 * gsl_rng wrapper, stream keying, and statistical sanity of the streams. Every test uses
 * fixed keys, so the statistical thresholds are deterministic, not flaky. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_statistics_double.h>

#include "model/rng.h"

#define TEST_SEED UINT64_C(0x0123456789abcdef)

/* Random123 kat_vectors, "philox4x32 10" lines: counter, key, expected output. */
static const struct {
    uint32_t ctr[4];
    uint32_t key[2];
    uint32_t out[4];
} kat[] = {
    { { 0, 0, 0, 0 }, { 0, 0 }, { 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8 } },
    { { 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff },
      { 0xffffffff, 0xffffffff },
      { 0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd } },
    { { 0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344 },
      { 0xa4093822, 0x299f31d0 },
      { 0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1 } },
};

static void test_philox_kat(void **state)
{
    (void)state;
    for (size_t v = 0; v < sizeof kat / sizeof kat[0]; v++) {
        uint32_t out[4];
        fw_philox4x32_10(kat[v].ctr, kat[v].key, out);
        for (int i = 0; i < 4; i++)
            assert_int_equal(out[i], kat[v].out[i]);
    }
}

static void test_type_properties(void **state)
{
    (void)state;
    gsl_rng *r = gsl_rng_alloc(fw_rng_philox);
    assert_non_null(r);
    assert_string_equal(gsl_rng_name(r), "fw-philox4x32-10");
    assert_int_equal(gsl_rng_min(r), 0);
    assert_int_equal(gsl_rng_max(r), UINT32_C(0xffffffff));
    gsl_rng_free(r);
}

/* Known answer through the gsl_rng API: key (seed 0, purpose 0, entity 0, day 0) starts at
 * counter {0, 0, 0, 0}, key {0, 0}: the first KAT vector. gsl_rng_set(r, 0) and
 * fw_rng_create(0, 0, 0, 0) must both give it. */
static void test_gsl_kat(void **state)
{
    (void)state;
    gsl_rng *a = gsl_rng_alloc(fw_rng_philox);
    assert_non_null(a);
    gsl_rng_set(a, 0);
    gsl_rng *b = fw_rng_create(0, 0, 0, 0);
    assert_non_null(b);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(gsl_rng_get(a), kat[0].out[i]);
        assert_int_equal(gsl_rng_get(b), kat[0].out[i]);
    }
    gsl_rng_free(a);
    gsl_rng_free(b);
}

/* The wrapper's n-th output is word n % 4 of block {n / 4, day, entity, purpose} under key
 * {seed low, seed high}; checked over several blocks with every key word non-zero. */
static void test_gsl_matches_raw_blocks(void **state)
{
    (void)state;
    const uint64_t seed = UINT64_C(0x299f31d0a4093822);
    const uint32_t purpose = 0x03707344, entity = 0x13198a2e, day = 0x85a308d3;
    const uint32_t key[2] = { 0xa4093822, 0x299f31d0 };
    gsl_rng *r = fw_rng_create(seed, purpose, entity, day);
    assert_non_null(r);
    for (uint32_t block = 0; block < 5; block++) {
        const uint32_t ctr[4] = { block, day, entity, purpose };
        uint32_t out[4];
        fw_philox4x32_10(ctr, key, out);
        for (int i = 0; i < 4; i++)
            assert_int_equal(gsl_rng_get(r), out[i]);
    }

    /* gsl_rng_set(r, s) is fw_rng_seek(r, s, 0, 0, 0). */
    gsl_rng_set(r, seed);
    const uint32_t ctr0[4] = { 0, 0, 0, 0 };
    uint32_t out0[4];
    fw_philox4x32_10(ctr0, key, out0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(gsl_rng_get(r), out0[i]);
    gsl_rng_free(r);
}

/* gsl_rng_uniform is exactly get() * 2^-32. */
static void test_uniform_is_scaled_get(void **state)
{
    (void)state;
    gsl_rng *a = fw_rng_create(TEST_SEED, FW_RNG_TEST, 7, 3);
    gsl_rng *b = fw_rng_create(TEST_SEED, FW_RNG_TEST, 7, 3);
    assert_non_null(a);
    assert_non_null(b);
    for (int i = 0; i < 1000; i++) {
        double u = gsl_rng_uniform(a);
        unsigned long k = gsl_rng_get(b);
        assert_true(u == (double)k / 4294967296.0);
        assert_true(u >= 0.0 && u < 1.0);
    }
    gsl_rng_free(a);
    gsl_rng_free(b);
}

/* Seeking to a key restarts its stream wherever the stream was, whatever came between. */
static void test_seek_repeats(void **state)
{
    (void)state;
    enum { N = 37 }; /* not a multiple of 4: the second seek must drop a partial block */
    unsigned long first[N];
    gsl_rng *r = fw_rng_create(1, 2, 3, 4);
    assert_non_null(r);
    fw_rng_seek(r, TEST_SEED, FW_RNG_SESSION, 42, 9);
    for (int i = 0; i < N; i++)
        first[i] = gsl_rng_get(r);
    fw_rng_seek(r, TEST_SEED + 1, FW_RNG_SESSION, 42, 9);
    (void)gsl_rng_get(r);
    fw_rng_seek(r, TEST_SEED, FW_RNG_SESSION, 42, 9);
    for (int i = 0; i < N; i++)
        assert_int_equal(gsl_rng_get(r), first[i]);

    /* A clone continues the same stream independently. */
    gsl_rng *c = gsl_rng_clone(r);
    assert_non_null(c);
    for (int i = 0; i < N; i++)
        assert_int_equal(gsl_rng_get(r), gsl_rng_get(c));
    gsl_rng_free(c);
    gsl_rng_free(r);
}

/* Chi-square goodness of fit of gsl_rng_uniform over 100 equal bins, 10^6 draws. */
static void test_chisq_uniform(void **state)
{
    (void)state;
    enum { BINS = 100, DRAWS = 1000000 };
    static unsigned long counts[BINS];
    memset(counts, 0, sizeof counts);
    gsl_rng *r = fw_rng_create(TEST_SEED, FW_RNG_TEST, 0, 0);
    assert_non_null(r);
    for (int i = 0; i < DRAWS; i++)
        counts[(int)(gsl_rng_uniform(r) * BINS)]++;
    gsl_rng_free(r);
    const double expected = (double)DRAWS / BINS;
    double chi2 = 0.0;
    for (int b = 0; b < BINS; b++) {
        double d = (double)counts[b] - expected;
        chi2 += d * d / expected;
    }
    double p = gsl_cdf_chisq_Q(chi2, BINS - 1);
    print_message("chi2 %.2f (df %d), p %.4f\n", chi2, BINS - 1, p);
    assert_true(p > 1e-4);
}

/* Pearson correlation of N paired uniforms from two streams. */
static double stream_correlation(gsl_rng *a, gsl_rng *b)
{
    enum { N = 100000 };
    double *x = malloc(N * sizeof *x);
    double *y = malloc(N * sizeof *y);
    assert_non_null(x);
    assert_non_null(y);
    for (int i = 0; i < N; i++) {
        x[i] = gsl_rng_uniform(a);
        y[i] = gsl_rng_uniform(b);
    }
    double rho = gsl_stats_correlation(x, 1, y, 1, N);
    free(x);
    free(y);
    return rho;
}

/* Streams whose keys differ by one in a single field must look unrelated. */
static void test_adjacent_keys_uncorrelated(void **state)
{
    (void)state;
    const uint64_t s = TEST_SEED;
    const uint32_t p = FW_RNG_USER, e = 1000, d = 17;
    static const char *const what[] = { "entity", "day", "purpose", "seed", "seed word" };
    const struct {
        uint64_t seed;
        uint32_t purpose, entity, day;
    } other[] = {
        { s, p, e + 1, d },
        { s, p, e, d + 1 },
        { s, p + 1, e, d },
        { s + 1, p, e, d },
        { s + (UINT64_C(1) << 32), p, e, d }, /* the high key word alone */
    };
    for (size_t k = 0; k < sizeof other / sizeof other[0]; k++) {
        gsl_rng *a = fw_rng_create(s, p, e, d);
        gsl_rng *b = fw_rng_create(other[k].seed, other[k].purpose, other[k].entity, other[k].day);
        assert_non_null(a);
        assert_non_null(b);
        double rho = stream_correlation(a, b);
        print_message("adjacent %-9s r = %+.5f\n", what[k], rho);
        assert_true(rho > -0.02 && rho < 0.02);
        gsl_rng_free(a);
        gsl_rng_free(b);
    }
}

/* gsl_ran_* distributions run on the stream unchanged and land near the truth. */
static void test_gsl_distributions(void **state)
{
    (void)state;
    gsl_rng *r = fw_rng_create(TEST_SEED, FW_RNG_TEST, 1, 2);
    assert_non_null(r);

    enum { NG = 200000 };
    const double sigma = 2.0, mu = 3.0;
    double sum = 0.0, sum_sq = 0.0;
    for (int i = 0; i < NG; i++) {
        double x = mu + gsl_ran_gaussian(r, sigma);
        sum += x;
        sum_sq += x * x;
    }
    double mean = sum / NG;
    double var = (sum_sq - sum * sum / NG) / (NG - 1);
    /* Standard errors: mean sigma/sqrt(n) = 0.0045; variance sigma^2 sqrt(2/n) = 0.013. */
    assert_true(mean > mu - 0.03 && mean < mu + 0.03);
    assert_true(var > sigma * sigma - 0.08 && var < sigma * sigma + 0.08);

    enum { ND = 20000, K = 3 };
    const double alpha[K] = { 1.0, 2.0, 3.0 };
    double theta[K], mean_theta[K] = { 0.0, 0.0, 0.0 };
    for (int i = 0; i < ND; i++) {
        gsl_ran_dirichlet(r, K, alpha, theta);
        double total = 0.0;
        for (int j = 0; j < K; j++) {
            assert_true(theta[j] >= 0.0 && theta[j] <= 1.0);
            total += theta[j];
            mean_theta[j] += theta[j] / ND;
        }
        assert_true(total > 1.0 - 1e-9 && total < 1.0 + 1e-9);
    }
    /* E theta_j = alpha_j / 6; standard errors are below 0.0035. */
    for (int j = 0; j < K; j++)
        assert_true(mean_theta[j] > alpha[j] / 6.0 - 0.01 && mean_theta[j] < alpha[j] / 6.0 + 0.01);
    gsl_rng_free(r);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void test_hash64(void **state)
{
    (void)state;
    /* splitmix64's first output from state 0 (its well-known reference value). */
    assert_true(fw_hash64(0) == UINT64_C(0xe220a8397b1dcdaf));
    assert_true(fw_hash64(1) == UINT64_C(0x910a2dec89025cc1));

    /* Adjacent inputs: all outputs distinct, and on average half the bits flip. */
    enum { N = 10000 };
    uint64_t *h = malloc(N * sizeof *h);
    assert_non_null(h);
    double flips = 0.0;
    for (int i = 0; i < N; i++) {
        h[i] = fw_hash64((uint64_t)i);
        if (i > 0)
            flips += __builtin_popcountll(h[i] ^ h[i - 1]);
    }
    flips /= N - 1;
    print_message("hash64: mean bits flipped between adjacent inputs %.3f\n", flips);
    assert_true(flips > 31.5 && flips < 32.5);
    qsort(h, N, sizeof *h, cmp_u64);
    for (int i = 1; i < N; i++)
        assert_true(h[i] != h[i - 1]);
    free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_philox_kat),
        cmocka_unit_test(test_type_properties),
        cmocka_unit_test(test_gsl_kat),
        cmocka_unit_test(test_gsl_matches_raw_blocks),
        cmocka_unit_test(test_uniform_is_scaled_get),
        cmocka_unit_test(test_seek_repeats),
        cmocka_unit_test(test_chisq_uniform),
        cmocka_unit_test(test_adjacent_keys_uncorrelated),
        cmocka_unit_test(test_gsl_distributions),
        cmocka_unit_test(test_hash64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
