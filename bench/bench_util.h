/* Helpers shared by the benchmark programs (bench_feed, bench_search): clocks, memory,
 * preemption counts, percentiles of sorted samples, the default seed, the load line, the
 * command line (a table of options), and the table of the engine's per-stage histograms.
 * Header-only; every function is static inline. */
#ifndef FLYWHEEL_BENCH_UTIL_H
#define FLYWHEEL_BENCH_UTIL_H

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "flywheel/engine.h"
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

/* The last lines of a report: the load at the end and the run's total wall time. */
static inline void print_end(double t_begin)
{
    print_load("at end");
    printf("total wall %.1f s\n", now_s() - t_begin);
}

/* The cost of one now_ns() call, ns: the engine reads the clock around every stage, so it is
 * part of every latency measured. */
static inline double clock_cost_ns(void)
{
    volatile int64_t clock_sink = 0;
    int64_t c0 = now_ns();
    for (int k = 0; k < 100000; k++)
        clock_sink += now_ns();
    return (double)(now_ns() - c0) / 100000;
}

/* ---- the engine's per-stage histograms --------------------------------------------------- */

typedef struct stage_row {
    fw_stage stage;
    const char *label;
} stage_row;

typedef struct stage_stats {
    double p50_us, p99_us, p999_us, mean_us;
    uint64_t calls;
} stage_stats;

/* st[i]: the histogram of rows[i].stage in ctx so far, in microseconds. */
static inline void stage_stats_of(const fw_engine_ctx *ctx, const stage_row *rows, size_t n, stage_stats *st)
{
    for (size_t i = 0; i < n; i++) {
        const fw_hist *h = fw_engine_ctx_latency(ctx, rows[i].stage);
        st[i] = (stage_stats){.p50_us = fw_hist_percentile(h, 50.0) / 1e3,
                              .p99_us = fw_hist_percentile(h, 99.0) / 1e3,
                              .p999_us = fw_hist_percentile(h, 99.9) / 1e3,
                              .mean_us = fw_hist_mean(h) / 1e3,
                              .calls = h->total};
    }
}

/* The stage table of a report: a row per stage, its label in a column width wide. */
static inline void print_stage_table(const stage_row *rows, const stage_stats *st, size_t n, int width)
{
    printf("  %-*s %10s %10s %10s %10s %10s\n", width, "stage (engine histograms)", "p50_us", "p99_us",
           "p99.9_us", "mean_us", "calls");
    for (size_t i = 0; i < n; i++)
        printf("  %-*s %10.2f %10.2f %10.2f %10.2f %10llu\n", width, rows[i].label, st[i].p50_us,
               st[i].p99_us, st[i].p999_us, st[i].mean_us, (unsigned long long)st[i].calls);
}

/* ---- the command line ----------------------------------------------------------------------- */

/* What an option's argument becomes. */
typedef enum bench_opt_kind {
    BENCH_U32,         /* an integer in [lo, hi], into a uint32_t */
    BENCH_U64,         /* an integer in [lo, hi], into a uint64_t */
    BENCH_SHARE,       /* a number in [0, 1], into a double */
    BENCH_SHARE_POS,   /* a number in (0, 1], into a double */
    BENCH_NAME,        /* one of names[0..hi), into an int: its index */
    BENCH_FLAG,        /* no argument: sets an int to 1 */
    BENCH_STR,         /* any non-empty text, into a const char * (borrowed from argv) */
} bench_opt_kind;

/* One option of a benchmark program. */
typedef struct bench_opt {
    const char *name;           /* with its dashes: "--users" */
    bench_opt_kind kind;
    void *dst;                  /* what the argument is stored in, of the kind's type */
    uint64_t lo, hi;            /* BENCH_U32, BENCH_U64: the accepted range; BENCH_NAME: hi names */
    const char *const *names;   /* BENCH_NAME: the accepted values */
    const char *expect;         /* BENCH_NAME: what the error says a value must be */
} bench_opt;

enum { BENCH_MAX_OPTS = 16 };

/* Stores o's argument arg in o->dst; or reports on stderr, as "PROG: ...", why it cannot and
 * returns -1. */
static inline int bench_opt_set(const char *prog, const bench_opt *o, const char *arg)
{
    char *end;
    errno = 0;
    switch (o->kind) {
    case BENCH_U32:
    case BENCH_U64: {
        unsigned long long v = strtoull(arg, &end, 10);
        if (errno || end == arg || *end || arg[0] == '-' || v < o->lo || v > o->hi) {
            fprintf(stderr, "%s: %s must be an integer in [%llu, %llu], got '%s'\n", prog, o->name,
                    (unsigned long long)o->lo, (unsigned long long)o->hi, arg);
            return -1;
        }
        if (o->kind == BENCH_U32)
            *(uint32_t *)o->dst = (uint32_t)v;
        else
            *(uint64_t *)o->dst = v;
        return 0;
    }
    case BENCH_SHARE:
    case BENCH_SHARE_POS: {
        int pos = o->kind == BENCH_SHARE_POS;
        double x = strtod(arg, &end);
        if (errno || end == arg || *end || !((pos ? x > 0.0 : x >= 0.0) && x <= 1.0)) {
            fprintf(stderr, "%s: %s must be in %s, got '%s'\n", prog, o->name, pos ? "(0, 1]" : "[0, 1]", arg);
            return -1;
        }
        *(double *)o->dst = x;
        return 0;
    }
    case BENCH_NAME:
        for (uint64_t k = 0; k < o->hi; k++)
            if (!strcmp(arg, o->names[k])) {
                *(int *)o->dst = (int)k;
                return 0;
            }
        fprintf(stderr, "%s: %s must be %s, got '%s'\n", prog, o->name, o->expect, arg);
        return -1;
    case BENCH_FLAG:
        *(int *)o->dst = 1;
        return 0;
    case BENCH_STR:
        if (!arg[0]) {
            fprintf(stderr, "%s: %s needs a value\n", prog, o->name);
            return -1;
        }
        *(const char **)o->dst = arg;
        return 0;
    }
    return -1;
}

/* Parses argv by opts[0..n) (n <= BENCH_MAX_OPTS; their order is getopt_long's, which lists
 * the candidates of an ambiguous abbreviation in it) and -h/--help, which prints usage on
 * stdout and exits 0. A bad value, an unknown option (with usage) or an argument that is not
 * an option (with usage) is reported on stderr and exits 2, the programs' code for bad input.
 * Then stdout becomes line-buffered, so that a long run's progress shows as it happens, also
 * through a pipe. */
static inline void bench_parse_args(const char *prog, const char *usage, const bench_opt *opts, size_t n, int argc,
                                   char **argv)
{
    struct option longs[BENCH_MAX_OPTS + 2] = {{0}};
    if (n > BENCH_MAX_OPTS)
        abort();
    for (size_t i = 0; i < n; i++)
        longs[i] = (struct option){opts[i].name + 2, opts[i].kind == BENCH_FLAG ? no_argument : required_argument,
                                   NULL, 256 + (int)i};
    longs[n] = (struct option){"help", no_argument, NULL, 'h'};
    int c;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        if (c == 'h') {
            fputs(usage, stdout);
            exit(0);
        }
        if (c < 256 || c >= 256 + (int)n) {
            fputs(usage, stderr);
            exit(2);
        }
        if (bench_opt_set(prog, &opts[c - 256], optarg))
            exit(2);
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument '%s'\n%s", prog, argv[optind], usage);
        exit(2);
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
}

#endif
