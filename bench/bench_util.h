/* Helpers shared by the benchmark programs (bench_feed, bench_search): clocks, memory,
 * preemption counts, percentiles of sorted samples, the default seed, the load line.
 * Header-only; every function is static inline. */
#ifndef FLYWHEEL_BENCH_UTIL_H
#define FLYWHEEL_BENCH_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "model/knobs.h"

static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static inline int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline double peak_rss_mib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;
}

/* Involuntary context switches of the calling thread so far: a request during which this
 * changes was descheduled by other work on the machine, and its latency shows it. */
static inline long preemptions(void)
{
    struct rusage ru;
    getrusage(RUSAGE_THREAD, &ru);
    return ru.ru_nivcsw;
}

static inline int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The nearest-rank percentile of sorted v[0..n): the ceil(pct/100 * n)-th smallest. */
static inline int64_t pct_sorted(const int64_t *v, size_t n, double pct)
{
    if (n == 0)
        return 0;
    size_t k = (size_t)ceil(pct / 100.0 * (double)n);
    return v[k ? k - 1 : 0];
}

/* The scenario's default master seed (sim/knobs.h FW_TOP_KNOBS), expanded, not copied. */
static inline uint64_t seed_default(void)
{
    struct {
        FW_TOP_KNOBS(FW_KNOB_FIELD)
    } top;
#define D(sec, scope, type, name, def, lo, hi, unit, doc) top.name = def;
    FW_TOP_KNOBS(D)
#undef D
    return top.seed;
}

/* Other work on the machine skews every timing: say how busy it was. */
static inline void print_load(const char *when)
{
    double la[3];
    if (getloadavg(la, 3) == 3)
        printf("load average %s: %.2f %.2f %.2f (%ld cores online)\n", when, la[0], la[1], la[2],
               sysconf(_SC_NPROCESSORS_ONLN));
}

#endif
