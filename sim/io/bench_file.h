/* Bench files: the record of `flywheel bench` (figures per repetition) and the comparison
 * with a baseline, as data, and their HDF5 file format.
 * Owns: the fw_bench records it fills (free with fw_bench_fini) and the files it writes.
 * Borrows: the records and comparisons it saves.
 * Never touches: how figures are collected or judged (program/bench.c does that).
 *
 * Kinds: measured timings (TIME: lower is better; RATE: higher is better) and
 * deterministic figures (WORK: lower is better; QUALITY: higher is better); INFO figures
 * are recorded, never judged. */
#ifndef FLYWHEEL_BENCH_FILE_H
#define FLYWHEEL_BENCH_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "flywheel/err.h"

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

/* Bench files (HDF5): a record, and the comparison when cmp is not NULL. The
 * file is written to PATH.tmp and renamed, so a killed write leaves nothing at path. */
fw_err fw_bench_save(const char *path, const fw_bench *b, const fw_bench_cmp *cmp, char *errbuf,
                     size_t errlen);
/* Loads the record of a bench file into b (initialised here). FW_ERR_NOTFOUND, FW_ERR_PARSE
 * (not a regular file, not a bench file, or sizes and layout it cannot have: repetitions
 * outside 1..1000000, values not [figures, repetitions], more values declared than stored,
 * columns of other lengths, corrupt string storage), FW_ERR_IO (a checksum that fails
 * included), FW_ERR_NOMEM, with errbuf naming the file and what is wrong. */
fw_err fw_bench_load(const char *path, fw_bench *b, char *errbuf, size_t errlen);

/* fw_bench_load's checks and reads, in this process, everything freed again (the fuzz entry;
 * fw_bench_load runs it first in a child, given FW_BENCH_CHECK_TIMEOUT_S seconds). */
fw_err fw_bench_check(const char *path, char *errbuf, size_t errlen);
#define FW_BENCH_CHECK_TIMEOUT_S 300u

#endif
