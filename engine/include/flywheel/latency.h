/* Log-linear latency histograms (the HdrHistogram layout) for timing engine calls.
 * Owns: the counts array of each fw_hist it initialises.
 * Borrows: nothing.  Never touches: clocks or threads; callers time and record, and merge
 * per-thread histograms themselves, in a fixed order, at a barrier. */
#ifndef FLYWHEEL_LATENCY_H
#define FLYWHEEL_LATENCY_H

#include <stddef.h>
#include <stdint.h>

#include "flywheel/err.h"

/* A histogram of non-negative integer values (nanoseconds here) in [lowest, highest],
 * keeping sigfigs significant decimal digits: every recorded value v is counted in a bin
 * whose width is at most v * 10^-sigfigs, so percentiles carry that relative error. Values
 * outside the range are clamped to it (and counted in n_clamped). Layout: bucket b covers
 * [2^(b + unit) * half, 2^(b + unit + 1) * half) in sub_count/2 equal bins, bucket 0 also
 * covers [0, 2^unit * half) -- so recording is O(1) bit arithmetic and merging is adding
 * arrays. */
typedef struct fw_hist {
    int64_t lowest;          /* smallest value resolvable (>= 1) */
    int64_t highest;         /* largest value trackable */
    int sigfigs;             /* 1..5 */
    int unit_magnitude;      /* floor(log2(lowest)) */
    int sub_half_magnitude;  /* log2(sub_count / 2) */
    int32_t sub_count;       /* bins per bucket, a power of two */
    int32_t bucket_count;
    int32_t n_counts;        /* length of counts[] */
    uint64_t total;          /* values recorded */
    uint64_t n_clamped;      /* values that fell outside [lowest, highest] */
    int64_t min, max;        /* of recorded (clamped) values; min = INT64_MAX when empty */
    double sum;              /* of recorded (clamped) values, for the mean */
    uint64_t *counts;
} fw_hist;

/* Initialises h for values in [lowest, highest] with sigfigs significant digits (1..5).
 * Allocates counts; returns FW_ERR_INVAL for a bad range (lowest < 1, highest < 2 * lowest,
 * highest > INT64_MAX / 2) or precision, FW_ERR_NOMEM.
 * On failure h is left safe to pass to fw_hist_fini. */
fw_err fw_hist_init(fw_hist *h, int64_t lowest, int64_t highest, int sigfigs);

/* Frees what fw_hist_init allocated; accepts a zeroed or failed h. */
void fw_hist_fini(fw_hist *h);

/* Forgets every recorded value, keeping the layout. */
void fw_hist_reset(fw_hist *h);

/* Records value n times. O(1), no allocation; deterministic. */
void fw_hist_record_n(fw_hist *h, int64_t value, uint64_t n);
static inline void fw_hist_record(fw_hist *h, int64_t value) { fw_hist_record_n(h, value, 1); }

/* Adds every count of src to dst. Both must have been initialised with the same arguments;
 * returns FW_ERR_INVAL (dst unchanged) when they were not. */
fw_err fw_hist_merge(fw_hist *dst, const fw_hist *src);

/* The value at percentile pct (0..100): the highest value equivalent to the bin that holds
 * the ceil(pct/100 * total)-th smallest recorded value (HdrHistogram's rule), capped at max.
 * 0 when the histogram is empty. pct is clamped to [0, 100]; pct 0 (or NaN) returns the
 * lowest value equivalent to min's bin (HdrHistogram's rule again), so it may sit below min
 * by up to the histogram's precision. Deterministic; O(n_counts). */
int64_t fw_hist_percentile(const fw_hist *h, double pct);

/* Mean of recorded values, 0 when empty. */
double fw_hist_mean(const fw_hist *h);

/* Index of the bin that value falls in (after clamping); and each bin's inclusive lower
 * bound and exclusive upper bound, for writing the layout out next to the counts. */
int32_t fw_hist_index(const fw_hist *h, int64_t value);
int64_t fw_hist_bin_lower(const fw_hist *h, int32_t index);
int64_t fw_hist_bin_upper(const fw_hist *h, int32_t index);

#endif
