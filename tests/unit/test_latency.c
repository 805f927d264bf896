/* Unit tests for engine latency histograms: HdrHistogram's published layout and percentile
 * case (../shared/vectors/README.md), the bin geometry, clamping, merging, the percentile
 * rule's edges, and allocation failure. */
#define _POSIX_C_SOURCE 200809L /* setrlimit, for the allocation-failure test */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <math.h>
#include <sys/resource.h>

#include "flywheel/latency.h"

/* Tests are deterministic: "random" values come from this fixed sequence (an xorshift64*). */
static uint64_t next_value(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}

static void assert_near_rel(double got, double want, double rel)
{
    if (fabs(got - want) > rel * fabs(want))
        fail_msg("got %.17g, want %.17g (relative tolerance %g)", got, want, rel);
}

/* Range (1, 3.6e9) at 3 significant figures -> 23552 counters. */
static void test_layout_vector(void **state)
{
    (void)state;
    fw_hist h;
    assert_int_equal(fw_hist_init(&h, 1, INT64_C(3600000000), 3), FW_OK);
    assert_int_equal(h.n_counts, 23552);
    assert_int_equal(h.sub_count, 2048);
    assert_int_equal(h.sub_half_magnitude, 10);
    assert_int_equal(h.unit_magnitude, 0);
    assert_int_equal(h.bucket_count, 22);
    assert_int_equal(h.total, 0);
    assert_true(h.min == INT64_MAX);
    /* The last bin can hold highest; one bin past it does not exist. */
    assert_true(fw_hist_index(&h, h.highest) < h.n_counts);
    assert_true(fw_hist_bin_upper(&h, h.n_counts - 1) > h.highest);
    fw_hist_fini(&h);

    /* unit_magnitude follows floor(log2(lowest)). */
    assert_int_equal(fw_hist_init(&h, 1000, INT64_C(3600000000), 3), FW_OK);
    assert_int_equal(h.unit_magnitude, 9);
    fw_hist_fini(&h);
}

static void check_hdr_case(const fw_hist *h)
{
    assert_int_equal(h->total, 10001);
    assert_int_equal(h->n_clamped, 0);
    assert_true(h->min == 1000);
    assert_true(h->max == 100000000);
    assert_near_rel((double)fw_hist_percentile(h, 30.0), 1000.0, 1e-3);
    assert_near_rel((double)fw_hist_percentile(h, 99.0), 1000.0, 1e-3);
    assert_near_rel((double)fw_hist_percentile(h, 99.99), 1000.0, 1e-3);
    assert_near_rel((double)fw_hist_percentile(h, 99.999), 1e8, 1e-3);
    assert_near_rel((double)fw_hist_percentile(h, 100.0), 1e8, 1e-3);
    assert_near_rel(fw_hist_mean(h), (10000.0 * 1000.0 + 1e8) / 10001.0, 1e-12);
}

/* HdrHistogram's published case: 1000 ten thousand times and 10^8 once. */
static void test_hdr_vector(void **state)
{
    (void)state;
    fw_hist a, b;
    assert_int_equal(fw_hist_init(&a, 1, INT64_C(3600000000), 3), FW_OK);
    assert_int_equal(fw_hist_init(&b, 1, INT64_C(3600000000), 3), FW_OK);
    for (int i = 0; i < 10000; i++)
        fw_hist_record(&a, 1000);
    fw_hist_record(&a, 100000000);
    fw_hist_record_n(&b, 1000, 10000);
    fw_hist_record_n(&b, 100000000, 1);
    fw_hist_record_n(&b, 5, 0); /* n = 0 records nothing, not even min */
    check_hdr_case(&a);
    check_hdr_case(&b);
    assert_memory_equal(a.counts, b.counts, (size_t)a.n_counts * sizeof *a.counts);
    fw_hist_fini(&a);
    fw_hist_fini(&b);
}

static void assert_same_hist(const fw_hist *x, const fw_hist *y)
{
    assert_int_equal(x->n_counts, y->n_counts);
    assert_memory_equal(x->counts, y->counts, (size_t)x->n_counts * sizeof *x->counts);
    assert_int_equal(x->total, y->total);
    assert_int_equal(x->n_clamped, y->n_clamped);
    assert_true(x->min == y->min);
    assert_true(x->max == y->max);
    assert_near_rel(x->sum, y->sum, 1e-12);
    static const double pcts[] = { 0, 1, 10, 25, 30, 50, 75, 90, 99, 99.9, 99.99, 99.999, 100 };
    for (size_t i = 0; i < sizeof pcts / sizeof pcts[0]; i++)
        assert_true(fw_hist_percentile(x, pcts[i]) == fw_hist_percentile(y, pcts[i]));
}

/* Merging per-thread histograms equals recording everything in one. */
static void test_merge_equals_single(void **state)
{
    (void)state;
    fw_hist one, part[2], merged;
    const int64_t highest = INT64_C(3600000000);
    assert_int_equal(fw_hist_init(&one, 1, highest, 3), FW_OK);
    assert_int_equal(fw_hist_init(&merged, 1, highest, 3), FW_OK);
    for (int k = 0; k < 2; k++)
        assert_int_equal(fw_hist_init(&part[k], 1, highest, 3), FW_OK);

    /* The published case split across two histograms, plus log-spread values (some out of
     * range, to carry n_clamped through the merge). */
    for (int i = 0; i < 10000; i++) {
        fw_hist_record(&one, 1000);
        fw_hist_record(&part[i % 2], 1000);
    }
    fw_hist_record(&one, 100000000);
    fw_hist_record(&part[1], 100000000);
    uint64_t s = 42;
    for (int i = 0; i < 50000; i++) {
        uint64_t bits = next_value(&s);
        int64_t v = (int64_t)(bits >> (next_value(&s) % 64));
        if (i % 1000 == 0)
            v = -v;
        fw_hist_record(&one, v);
        fw_hist_record(&part[(i / 7) % 2], v);
    }
    for (int k = 0; k < 2; k++)
        assert_int_equal(fw_hist_merge(&merged, &part[k]), FW_OK);
    assert_true(one.n_clamped > 0);
    assert_same_hist(&one, &merged);

    /* Merging into a histogram that already holds data, in the other order, agrees too. */
    assert_int_equal(fw_hist_merge(&part[1], &part[0]), FW_OK);
    assert_same_hist(&one, &part[1]);

    fw_hist_fini(&one);
    fw_hist_fini(&merged);
    for (int k = 0; k < 2; k++)
        fw_hist_fini(&part[k]);
}

/* Each value lands in a bin [lower, upper) that contains it; bins tile the range without
 * gaps; at 2 significant figures a bin is at most 1% as wide as any value >= 100 in it. */
static void test_bin_geometry(void **state)
{
    (void)state;
    fw_hist h;
    assert_int_equal(fw_hist_init(&h, 1, INT64_C(1000000000), 2), FW_OK);
    assert_int_equal(h.sub_count, 256);

    for (int32_t i = 0; i < h.n_counts; i++) {
        int64_t lo = fw_hist_bin_lower(&h, i), hi = fw_hist_bin_upper(&h, i);
        assert_true(lo < hi);
        if (i + 1 < h.n_counts)
            assert_true(hi == fw_hist_bin_lower(&h, i + 1));
        if (lo >= h.lowest && lo <= h.highest)
            assert_int_equal(fw_hist_index(&h, lo), i);
        if (hi - 1 >= h.lowest && hi - 1 <= h.highest)
            assert_int_equal(fw_hist_index(&h, hi - 1), i);
    }
    assert_true(fw_hist_bin_lower(&h, 0) == 0);

    enum { N = 20000 };
    for (int k = 0; k <= N; k++) {
        int64_t v = (int64_t)llround(pow(10.0, 9.0 * k / N));
        int32_t i = fw_hist_index(&h, v);
        assert_true(i >= 0 && i < h.n_counts);
        int64_t lo = fw_hist_bin_lower(&h, i), hi = fw_hist_bin_upper(&h, i);
        if (!(lo <= v && v < hi))
            fail_msg("value %lld in bin %d = [%lld, %lld)", (long long)v, (int)i, (long long)lo,
                     (long long)hi);
        if (v >= 100 && (double)(hi - lo) > 0.01 * (double)v)
            fail_msg("value %lld: bin width %lld over 1%%", (long long)v, (long long)(hi - lo));
    }
    fw_hist_fini(&h);
}

/* Values outside [lowest, highest] are counted at the nearest bound and in n_clamped. */
static void test_clamping(void **state)
{
    (void)state;
    fw_hist h;
    assert_int_equal(fw_hist_init(&h, 10, 100000, 3), FW_OK);
    assert_int_equal(fw_hist_index(&h, -5), fw_hist_index(&h, 10));
    assert_int_equal(fw_hist_index(&h, 0), fw_hist_index(&h, 10));
    assert_int_equal(fw_hist_index(&h, INT64_MAX), fw_hist_index(&h, 100000));
    assert_int_equal(fw_hist_index(&h, INT64_MIN), fw_hist_index(&h, 10));

    fw_hist_record(&h, INT64_MIN);
    fw_hist_record(&h, 0);
    fw_hist_record(&h, 9);
    fw_hist_record_n(&h, INT64_MAX, 2);
    fw_hist_record(&h, 10);     /* at the bounds: not clamped */
    fw_hist_record(&h, 100000);
    assert_int_equal(h.total, 7);
    assert_int_equal(h.n_clamped, 5);
    assert_true(h.min == 10);
    assert_true(h.max == 100000);
    assert_int_equal(h.counts[fw_hist_index(&h, 10)], 4);
    assert_int_equal(h.counts[fw_hist_index(&h, 100000)], 3);
    assert_near_rel(fw_hist_mean(&h), (4.0 * 10 + 3.0 * 100000) / 7.0, 1e-12);
    assert_true(fw_hist_percentile(&h, 100) == 100000);

    fw_hist_reset(&h);
    assert_int_equal(h.total, 0);
    assert_int_equal(h.n_clamped, 0);
    assert_true(h.min == INT64_MAX);
    for (int32_t i = 0; i < h.n_counts; i++)
        assert_int_equal(h.counts[i], 0);
    fw_hist_fini(&h);
}

static void test_merge_mismatch(void **state)
{
    (void)state;
    fw_hist dst, other;
    assert_int_equal(fw_hist_init(&dst, 1, 1000000, 3), FW_OK);
    fw_hist_record_n(&dst, 500, 3);
    const struct {
        int64_t lowest, highest;
        int sigfigs;
    } bad[] = { { 1, 1000000, 2 }, { 1, 2000000, 3 }, { 2, 1000000, 3 } };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        assert_int_equal(fw_hist_init(&other, bad[k].lowest, bad[k].highest, bad[k].sigfigs),
                         FW_OK);
        fw_hist_record(&other, 700);
        assert_int_equal(fw_hist_merge(&dst, &other), FW_ERR_INVAL);
        fw_hist_fini(&other);
    }
    /* A zeroed (never initialised, or finalised) histogram is rejected too. */
    memset(&other, 0, sizeof other);
    assert_int_equal(fw_hist_merge(&dst, &other), FW_ERR_INVAL);
    assert_int_equal(fw_hist_merge(&other, &dst), FW_ERR_INVAL);

    /* dst unchanged. */
    assert_int_equal(dst.total, 3);
    assert_true(dst.min == 500 && dst.max == 500);
    assert_int_equal(dst.counts[fw_hist_index(&dst, 500)], 3);
    assert_int_equal(dst.counts[fw_hist_index(&dst, 700)], 0);
    fw_hist_fini(&dst);
}

static void test_empty(void **state)
{
    (void)state;
    fw_hist h;
    assert_int_equal(fw_hist_init(&h, 1, 1000000, 3), FW_OK);
    assert_true(fw_hist_percentile(&h, 0) == 0);
    assert_true(fw_hist_percentile(&h, 50) == 0);
    assert_true(fw_hist_percentile(&h, 100) == 0);
    assert_true(fw_hist_mean(&h) == 0.0);
    fw_hist_fini(&h);
}

/* The percentile rule's edges where bins are one unit wide, so answers are exact. */
static void test_percentile_rule(void **state)
{
    (void)state;
    fw_hist h;
    assert_int_equal(fw_hist_init(&h, 1, 1000000, 3), FW_OK);
    for (int64_t v = 1; v <= 100; v++)
        fw_hist_record(&h, v);
    assert_true(fw_hist_percentile(&h, 0) == 1);
    assert_true(fw_hist_percentile(&h, 1) == 1);
    assert_true(fw_hist_percentile(&h, 1.0001) == 2);  /* rank ceil(1.0001) = 2 */
    assert_true(fw_hist_percentile(&h, 50) == 50);
    assert_true(fw_hist_percentile(&h, 99.5) == 100);
    assert_true(fw_hist_percentile(&h, 100) == 100);
    assert_true(fw_hist_percentile(&h, 250) == 100);   /* clamped to 100 */
    assert_true(fw_hist_percentile(&h, -3) == 1);      /* clamped to 0 */
    assert_true(fw_hist_percentile(&h, NAN) == 1);     /* treated as 0 */
    /* Every whole percentile is exactly its rank, also where pct/100 * total rounds to
     * just above an integer in floating point (7, 14, 28, 55, 56). */
    for (int k = 1; k <= 100; k++)
        assert_true(fw_hist_percentile(&h, k) == k);
    fw_hist_fini(&h);

    /* Wide bins: the answer is the bin's highest equivalent value, capped at max; pct 0 is
     * the lowest value equivalent to min. */
    assert_int_equal(fw_hist_init(&h, 1, INT64_C(3600000000), 3), FW_OK);
    fw_hist_record(&h, 3000);        /* bin [3000, 3002) */
    fw_hist_record(&h, 1000001);     /* bin [999936, 1000448) */
    fw_hist_record(&h, 1000003);
    int32_t i = fw_hist_index(&h, 3000);
    assert_true(fw_hist_bin_lower(&h, i) == 3000 && fw_hist_bin_upper(&h, i) == 3002);
    i = fw_hist_index(&h, 1000001);
    assert_true(fw_hist_bin_lower(&h, i) == 999936 && fw_hist_bin_upper(&h, i) == 1000448);
    assert_true(fw_hist_percentile(&h, 0) == 3000);
    assert_true(fw_hist_percentile(&h, 33) == 3001);
    assert_true(fw_hist_percentile(&h, 50) == 1000003); /* capped at max */
    fw_hist_record(&h, 5);
    assert_true(fw_hist_percentile(&h, 50) == 3001);
    assert_true(fw_hist_percentile(&h, 75) == 1000003);

    /* Monotone in pct. */
    int64_t prev = fw_hist_percentile(&h, 0);
    for (int k = 1; k <= 1000; k++) {
        int64_t cur = fw_hist_percentile(&h, k / 10.0);
        assert_true(cur >= prev);
        prev = cur;
    }
    fw_hist_fini(&h);
}

static void test_init_errors(void **state)
{
    (void)state;
    fw_hist h;
    const struct {
        int64_t lowest, highest;
        int sigfigs;
    } bad[] = {
        { 1, 1000, 0 }, { 1, 1000, 6 }, { 0, 1000, 3 }, { -1, 1000, 3 },
        { 100, 199, 3 }, { 1, INT64_MAX / 2 + 1, 3 }, { INT64_C(1) << 50, INT64_MAX / 2, 5 },
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        memset(&h, 0xa5, sizeof h);
        assert_int_equal(fw_hist_init(&h, bad[k].lowest, bad[k].highest, bad[k].sigfigs),
                         FW_ERR_INVAL);
        fw_hist_fini(&h); /* safe after failure */
    }
    memset(&h, 0, sizeof h);
    fw_hist_fini(&h); /* and on a zeroed struct */
    fw_hist_fini(NULL);

    /* The widest accepted ranges, for every precision, keep every bound representable. */
    for (int sf = 1; sf <= 5; sf++) {
        assert_int_equal(fw_hist_init(&h, 1, INT64_MAX / 2, sf), FW_OK);
        int32_t last = fw_hist_index(&h, h.highest);
        assert_true(last < h.n_counts);
        assert_true(fw_hist_bin_upper(&h, h.n_counts - 1) > h.highest);
        fw_hist_record(&h, INT64_MAX);
        assert_true(fw_hist_percentile(&h, 100) == INT64_MAX / 2);
        fw_hist_fini(&h);
        fw_hist_fini(&h); /* twice is harmless */
    }
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define FW_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) \
    || __has_feature(memory_sanitizer)
#define FW_TEST_SANITIZED 1
#endif
#endif

/* With the address space capped, calloc fails and init reports FW_ERR_NOMEM. */
static void test_nomem(void **state)
{
    (void)state;
#ifdef FW_TEST_SANITIZED
    skip(); /* sanitizer allocators abort instead of returning NULL */
#else
    struct rlimit old;
    if (getrlimit(RLIMIT_AS, &old) != 0)
        skip();
    struct rlimit tight = old;
    tight.rlim_cur = 1u << 20; /* far below what the process already maps */
    if (setrlimit(RLIMIT_AS, &tight) != 0)
        skip();
    fw_hist h;
    /* 5 significant figures over the widest range: tens of megabytes of counters. */
    fw_err rc = fw_hist_init(&h, 1, INT64_MAX / 2, 5);
    int restored = setrlimit(RLIMIT_AS, &old) == 0;
    assert_true(restored);
    assert_int_equal(rc, FW_ERR_NOMEM);
    assert_null(h.counts);
    fw_hist_fini(&h);
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_vector),
        cmocka_unit_test(test_hdr_vector),
        cmocka_unit_test(test_merge_equals_single),
        cmocka_unit_test(test_bin_geometry),
        cmocka_unit_test(test_clamping),
        cmocka_unit_test(test_merge_mismatch),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_percentile_rule),
        cmocka_unit_test(test_init_errors),
        cmocka_unit_test(test_nomem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
