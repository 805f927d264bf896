/* Benchmark mode (`flywheel bench`): a scenario run N times, its figures collected, and a
 * comparison against a saved baseline that a CI pipeline can gate on.
 * Owns: the fw_bench records and comparison tables it creates (free with the _fini calls).
 * Borrows: the scenario and result files it reads.
 * Never touches: HDF5 directly (bench_io.c in the results module reads and writes bench
 * files), the engine's internals, gnuplot.
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
#include "results.h"
#include "run.h"

typedef enum fw_bench_kind {
    FW_BENCH_TIME = 0,
    FW_BENCH_RATE = 1,
    FW_BENCH_WORK = 2,
    FW_BENCH_QUALITY = 3,
    FW_BENCH_INFO = 4,
    FW_BENCH__KINDS
} fw_bench_kind;

const char *fw_bench_kind_name(fw_bench_kind k);

typedef struct fw_bench_figure {
    char *name, *unit;
    int kind;              /* fw_bench_kind */
    double *v;             /* [n_rep]; NaN where a repetition lacked it */
} fw_bench_figure;

typedef struct fw_bench {
    char *scenario_name, *scenario_resolved, *version, *git_revision;
    uint64_t seed;
    int threads;
    uint32_t n_rep;
    uint32_t n_fig, cap_fig;
    fw_bench_figure *fig;
} fw_bench;

/* Prepares an empty record for n_rep repetitions; strings are copied (NULL = ""). */
fw_err fw_bench_init(fw_bench *b, uint32_t n_rep, const char *scenario_name,
                     const char *scenario_resolved, const char *version, const char *git_revision,
                     uint64_t seed, int threads);
void fw_bench_fini(fw_bench *b);

/* Sets figure name (created on first use with unit and kind) for repetition rep. */
fw_err fw_bench_set(fw_bench *b, const char *name, const char *unit, fw_bench_kind kind, uint32_t rep,
                    double v);
const fw_bench_figure *fw_bench_find(const fw_bench *b, const char *name);

/* Adds repetition rep's figures from a finished run: throughput and wall time from rr,
 * per-stage p50/p99 latency from the result's histograms (pooled over days), work counter
 * totals from /work, and per-arm quality (CTR, interactions per read, retention, oracle
 * NDCG) from /days. Stages with fewer than 1000 calls are INFO (too few for a p99). */
fw_err fw_bench_collect(fw_bench *b, uint32_t rep, const fw_results *r, const fw_run_report *rr);

typedef enum fw_bench_verdict {
    FW_VERDICT_OK = 0,
    FW_VERDICT_REGRESSED,
    FW_VERDICT_IMPROVED,
    FW_VERDICT_INFO,
    FW_VERDICT_NEW,
    FW_VERDICT_MISSING,
    FW_VERDICT_NONDETERMINISTIC,   /* a deterministic figure differed between repetitions */
    FW_VERDICT_TOO_FEW,            /* timings need 3 repetitions on each side */
    FW_VERDICT__COUNT
} fw_bench_verdict;

const char *fw_bench_verdict_name(fw_bench_verdict v);

typedef struct fw_bench_opts {
    double tolerance;            /* smallest relative change of a timing that can fail */
    double alpha;                /* significance of the Mann-Whitney test */
    double work_tolerance;       /* relative; 0 = exact */
    double quality_tolerance;    /* relative; 0 = exact */
} fw_bench_opts;

typedef struct fw_bench_row {
    const char *name, *unit;     /* borrowed from the records */
    int kind;
    double base, now;            /* medians (deterministic figures: the value) */
    double change;               /* now / base - 1 (NaN when base is 0 or absent) */
    double p;                    /* Mann-Whitney p of a worse timing; NaN otherwise */
    int verdict;                 /* fw_bench_verdict */
} fw_bench_row;

typedef struct fw_bench_cmp {
    uint32_t n;
    fw_bench_row *row;
    uint32_t n_regressed;        /* REGRESSED + NONDETERMINISTIC rows */
} fw_bench_cmp;

/* Judges now against base (base may be NULL: every row is judged only for determinism).
 * Both records must outlive out. FW_ERR_NOMEM on failure. Deterministic given the records. */
fw_err fw_bench_compare(const fw_bench *base, const fw_bench *now, const fw_bench_opts *o,
                        fw_bench_cmp *out);
void fw_bench_cmp_fini(fw_bench_cmp *c);

/* The table: figure, kind, baseline, now, change, p, verdict; then a one-line summary. */
void fw_bench_print(const fw_bench_cmp *c, int have_base, FILE *f);

/* Bench files (bench_io.c, HDF5): a record, and the comparison when cmp is not NULL. The
 * file is written to PATH.tmp and renamed, so a killed write leaves nothing at path. */
fw_err fw_bench_save(const char *path, const fw_bench *b, const fw_bench_cmp *cmp, char *errbuf,
                     size_t errlen);
/* Loads the record of a bench file into b (initialised here). FW_ERR_NOTFOUND, FW_ERR_PARSE
 * (not a bench file), FW_ERR_IO, FW_ERR_NOMEM, with errbuf naming the file. */
fw_err fw_bench_load(const char *path, fw_bench *b, char *errbuf, size_t errlen);

#endif
