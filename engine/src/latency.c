/* Log-linear latency histograms in the HdrHistogram layout.
 *
 * Layout (u = unit_magnitude, H = sub_half_magnitude, half = 2^H = sub_count / 2):
 *   - bucket b (0 <= b < bucket_count) holds values in [half << (b + u), sub_count << (b + u))
 *     in half bins of width 2^(b + u); bucket 0 also holds [0, half << u) in half more bins
 *     of width 2^u. So bin widths double from bucket to bucket while a bin never spans more
 *     than 1/half of the values in it, and half >= 10^sigfigs.
 *   - counts[] is bucket 0's sub_count bins followed by the upper half of every later
 *     bucket: n_counts = (bucket_count + 1) * half, and index i maps to a value by
 *     value_from_index below.
 * Invariants of an initialised fw_hist:
 *   - 1 <= lowest, 2 * lowest <= highest <= INT64_MAX / 2, u + H <= 61: every bin bound,
 *     including the exclusive upper bound of the last bin, fits in an int64 (<= 2^62).
 *   - every value counted lies in [lowest, highest] (clamped on the way in), so its index is
 *     in [0, n_counts); total = sum of counts[]; min <= max whenever total > 0.
 *   - recording never allocates; merging is element-wise addition of equal layouts. */
#include "flywheel/latency.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* floor(log2(v)) for v >= 1. */
static int floor_log2(uint64_t v)
{
    assert(v != 0);
    return 63 - __builtin_clzll(v);
}

static int32_t counts_index(const fw_hist *h, int64_t value)
{
    uint64_t v = (uint64_t)value;
    uint64_t sub_mask = ((uint64_t)h->sub_count - 1) << h->unit_magnitude;
    /* The bucket is how far v's top bit lies above the first bucket's top bit. */
    int bucket = floor_log2(v | sub_mask) - (h->unit_magnitude + h->sub_half_magnitude);
    int32_t sub = (int32_t)(v >> (bucket + h->unit_magnitude));
    int32_t half = h->sub_count / 2;
    assert(bucket >= 0 && bucket < h->bucket_count);
    assert(sub < h->sub_count && (bucket == 0 || sub >= half));
    return ((int32_t)(bucket + 1) << h->sub_half_magnitude) + (sub - half);
}

/* The bucket and sub-bin of counts index i; the inverse of counts_index. */
static void index_split(const fw_hist *h, int32_t i, int *bucket, int32_t *sub)
{
    int32_t half = h->sub_count / 2;
    int b = (i >> h->sub_half_magnitude) - 1;
    int32_t s = (i & (half - 1)) + half;
    if (b < 0) {
        s -= half;
        b = 0;
    }
    *bucket = b;
    *sub = s;
}

int64_t fw_hist_bin_lower(const fw_hist *h, int32_t index)
{
    int bucket;
    int32_t sub;
    assert(index >= 0 && index < h->n_counts);
    index_split(h, index, &bucket, &sub);
    return (int64_t)((uint64_t)sub << (bucket + h->unit_magnitude));
}

int64_t fw_hist_bin_upper(const fw_hist *h, int32_t index)
{
    int bucket;
    int32_t sub;
    assert(index >= 0 && index < h->n_counts);
    index_split(h, index, &bucket, &sub);
    return (int64_t)((uint64_t)(sub + 1) << (bucket + h->unit_magnitude));
}

static int64_t clamp(const fw_hist *h, int64_t value)
{
    if (value < h->lowest)
        return h->lowest;
    if (value > h->highest)
        return h->highest;
    return value;
}

int32_t fw_hist_index(const fw_hist *h, int64_t value)
{
    return counts_index(h, clamp(h, value));
}

fw_err fw_hist_init(fw_hist *h, int64_t lowest, int64_t highest, int sigfigs)
{
    memset(h, 0, sizeof *h);
    h->min = INT64_MAX;
    if (sigfigs < 1 || sigfigs > 5 || lowest < 1 || highest > INT64_MAX / 2
        || highest < 2 * lowest)
        return FW_ERR_INVAL;

    /* Single-unit resolution up to 2 * 10^sigfigs keeps every bin within 10^-sigfigs of
     * the values it holds: sub_count is the next power of two at or above that. */
    int64_t single_unit = 2;
    for (int i = 0; i < sigfigs; i++)
        single_unit *= 10;
    int sub_count_magnitude = floor_log2((uint64_t)single_unit);
    if ((INT64_C(1) << sub_count_magnitude) < single_unit)
        sub_count_magnitude++;
    int sub_half_magnitude = sub_count_magnitude - 1;
    int unit_magnitude = floor_log2((uint64_t)lowest);
    if (unit_magnitude + sub_half_magnitude > 61)
        return FW_ERR_INVAL;

    /* Add buckets until the range covers highest. Every step doubles a power of two that
     * starts at <= 2^62 and stops at the first value above highest < 2^62: no overflow. */
    uint64_t untrackable = (uint64_t)1 << (sub_count_magnitude + unit_magnitude);
    int32_t bucket_count = 1;
    while (untrackable <= (uint64_t)highest) {
        untrackable <<= 1;
        bucket_count++;
    }

    int32_t sub_count = (int32_t)1 << sub_count_magnitude;
    int32_t n_counts = (bucket_count + 1) * (sub_count / 2);
    uint64_t *counts = calloc((size_t)n_counts, sizeof *counts);
    if (counts == NULL)
        return FW_ERR_NOMEM;

    h->lowest = lowest;
    h->highest = highest;
    h->sigfigs = sigfigs;
    h->unit_magnitude = unit_magnitude;
    h->sub_half_magnitude = sub_half_magnitude;
    h->sub_count = sub_count;
    h->bucket_count = bucket_count;
    h->n_counts = n_counts;
    h->counts = counts;
    fw_hist_reset(h);
    return FW_OK;
}

void fw_hist_fini(fw_hist *h)
{
    if (h == NULL)
        return;
    free(h->counts);
    memset(h, 0, sizeof *h);
    h->min = INT64_MAX;
}

void fw_hist_reset(fw_hist *h)
{
    if (h->counts != NULL)
        memset(h->counts, 0, (size_t)h->n_counts * sizeof *h->counts);
    h->total = 0;
    h->n_clamped = 0;
    h->min = INT64_MAX;
    h->max = 0;
    h->sum = 0.0;
}

void fw_hist_record_n(fw_hist *h, int64_t value, uint64_t n)
{
    assert(h->counts != NULL);
    if (n == 0)
        return;
    int64_t v = clamp(h, value);
    if (v != value)
        h->n_clamped += n;
    h->counts[counts_index(h, v)] += n;
    h->total += n;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
    h->sum += (double)v * (double)n;
}

fw_err fw_hist_merge(fw_hist *dst, const fw_hist *src)
{
    if (dst->counts == NULL || src->counts == NULL || dst->lowest != src->lowest
        || dst->highest != src->highest || dst->sigfigs != src->sigfigs)
        return FW_ERR_INVAL;
    assert(dst->n_counts == src->n_counts);
    for (int32_t i = 0; i < dst->n_counts; i++)
        dst->counts[i] += src->counts[i];
    dst->total += src->total;
    dst->n_clamped += src->n_clamped;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
    dst->sum += src->sum;
    return FW_OK;
}

/* Percentile rule (HdrHistogram's Java getValueAtPercentile):
 *   - pct is clamped to [0, 100] (NaN counts as 0) and nudged one ulp down, so that
 *     pct/100 * total landing a rounding error above an integer does not skip a rank;
 *   - rank = max(1, ceil(pct/100 * total)); the answer comes from the bin holding the
 *     rank-th smallest value: its highest equivalent value (upper bound - 1), capped at max;
 *   - pct 0 returns that bin's lowest equivalent value instead, i.e. the lower bound of the
 *     bin holding min (<= min, within the histogram's precision of it);
 *   - 0 when the histogram is empty. */
int64_t fw_hist_percentile(const fw_hist *h, double pct)
{
    if (h->total == 0 || h->counts == NULL)
        return 0;
    int zero = !(pct > 0.0);
    double p = zero ? 0.0 : fmin(nextafter(pct, -INFINITY), 100.0);
    double rank_fp = ceil(p / 100.0 * (double)h->total);
    uint64_t rank = rank_fp < 1.0 ? 1 : (uint64_t)rank_fp;
    if (rank > h->total)
        rank = h->total;

    uint64_t seen = 0;
    for (int32_t i = 0; i < h->n_counts; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            if (zero)
                return fw_hist_bin_lower(h, i);
            int64_t v = fw_hist_bin_upper(h, i) - 1;
            return v < h->max ? v : h->max;
        }
    }
    assert(0 && "total disagrees with counts");
    return h->max;
}

double fw_hist_mean(const fw_hist *h)
{
    if (h->total == 0)
        return 0.0;
    return h->sum / (double)h->total;
}
