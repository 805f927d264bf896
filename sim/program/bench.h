/* Benchmark mode (`flywheel bench`): a scenario run N times, its figures collected, and a
 * comparison against a saved baseline that a CI pipeline can gate on.
 * Owns: the fw_bench records and comparison tables it creates (free with the _fini calls).
 * Borrows: the scenario and result files it reads.
 * Never touches: HDF5 directly (io/bench_file.c reads and writes bench files), the engine's
 * internals, gnuplot.
 *
 * Figures are of four kinds. Measured timings (TIME: lower is better; RATE: higher is
 * better) vary from run to run and are judged with a one-sided Mann-Whitney U test over
 * the repetitions plus a minimum effect size, so noise alone does not fail a build.
 * Deterministic figures (WORK: what the engine did, lower is better; QUALITY: outcomes,
 * higher is better) are identical for a seed on any machine and are compared exactly, or
 * within a stated tolerance. INFO figures are recorded, never judged. */
#ifndef FLYWHEEL_BENCH_H
#define FLYWHEEL_BENCH_H

#include <stdint.h>
#include <stdio.h>

#include "flywheel/err.h"
#include "driver/run.h"
#include "io/results.h"

#include "io/bench_file.h"

/* Adds repetition rep's figures from a finished run: throughput and wall time from rr,
 * per-stage p50/p99 latency from the result's histograms (pooled over days), work counter
 * totals from /work, and per-arm quality (CTR, interactions per read, retention, oracle
 * NDCG) from /days. Stages with fewer than 1000 calls are INFO (too few for a p99). */
fw_err fw_bench_collect(fw_bench *b, uint32_t rep, const fw_results *r, const fw_run_report *rr);

typedef struct fw_bench_opts {
    double tolerance;            /* smallest relative change of a timing that can fail */
    double alpha;                /* significance of the Mann-Whitney test */
    double work_tolerance;       /* relative; 0 = exact */
    double quality_tolerance;    /* relative; 0 = exact */
    int no_timings;              /* timings recorded, not judged (INFO) */
} fw_bench_opts;

/* The smallest p a one-sided Mann-Whitney test of n runs against m can give: 1 / C(n + m, n). */
double fw_bench_p_min(uint32_t n, uint32_t m);

/* The fewest runs (at least 3) that, against m baseline runs, can give p < alpha; 0 when m < 3
 * (timings need 3 runs on each side) or when no count up to max can. */
uint32_t fw_bench_runs_needed(uint32_t m, double alpha, uint32_t max);



/* Judges now against base (base may be NULL: every row is judged only for determinism).
 * Both records must outlive out. FW_ERR_NOMEM on failure. Deterministic given the records. */
fw_err fw_bench_compare(const fw_bench *base, const fw_bench *now, const fw_bench_opts *o,
                        fw_bench_cmp *out);
void fw_bench_cmp_fini(fw_bench_cmp *c);

/* The table: figure, kind, baseline, now, change, p, verdict; then a one-line summary. */
void fw_bench_print(const fw_bench_cmp *c, int have_base, FILE *f);

#endif
