/* Reading a result file back: everything `flywheel run` wrote that a report needs, loaded
 * into plain C arrays so that nothing downstream includes hdf5.h.
 * Owns: the fw_results it returns, with every string and array in it.
 * Borrows: nothing; the file is opened read-only and closed before fw_results_load returns.
 * Never touches: the result file's contents (read-only), gnuplot, HTML, the simulation.
 *
 * Everything is read by name, so files from older or newer Flywheels load too: a group the
 * file lacks is simply absent (count 0, NULL pointer), and a dataset the reader does not know
 * is kept under its own name. Per-user data (/users), /replicates and the experiment's looks
 * (/experiment/days) are not read.
 *
 * A file is untrusted input: it must be a regular file; every size taken from it is bounded
 * by what it stores; a column that does not fit its group's length is an error, not skipped;
 * strings are checked before HDF5 reads them; and datasets written with Fletcher-32 (all but
 * strings, since issue 15) fail to read when a bit has flipped. Scalar attributes carry no
 * checksum: their values are read as they are. */
#ifndef FLYWHEEL_RESULTS_H
#define FLYWHEEL_RESULTS_H

#include <stddef.h>
#include <stdint.h>

#include "flywheel/err.h"

/* One attribute: text always set ("%.6g" for floats, decimal for integers); num is its
 * value for numbers and NaN for strings. */
typedef struct fw_results_value {
    char *name, *text;
    double num;
    int is_text;
} fw_results_value;

typedef struct fw_results_attrs {
    uint32_t n;
    fw_results_value *v;
} fw_results_attrs;

/* A named column of doubles (integers converted), n long where n is fixed by the owner. */
typedef struct fw_results_series {
    char *name, *units;   /* units "" when the file gives none */
    double *v;
} fw_results_series;

typedef struct fw_results_cols {
    uint32_t n;
    fw_results_series *col;
} fw_results_cols;

typedef struct fw_results_arm {
    char *name;
    fw_results_attrs attrs;   /* /arms/<arm>: weight, users, layer (empty when absent) */
    fw_results_cols days;     /* /days/<arm>/<counter or rate>, each n_days long */
    fw_results_cols aigc;     /* issue 20: /aigc/arms/<arm>/<series>, each n_days long (n 0 when absent) */
} fw_results_arm;

typedef struct fw_results_stage {
    char *name;
    uint64_t *counts;         /* [n_lat_days * n_bins], NULL when absent */
    fw_results_cols stats;    /* p50 p90 p99 p999 max mean count, ns, each n_lat_days long */
} fw_results_stage;

typedef struct fw_results_test {
    char *arm;
    fw_results_attrs attrs;   /* control, layer, srm_p */
    fw_results_cols fields;   /* control, treatment, lift, lift_ci_lo, ..., each n_metrics long */
} fw_results_test;

#define FW_RESULTS_RANKS 10

typedef struct fw_results {
    char *path;
    fw_results_attrs root;    /* provenance: flywheel_version, scenario_name, seed, status, ... */
    uint32_t n_days;
    int32_t *day;             /* /days/day */
    uint32_t n_arms;
    fw_results_arm *arms;     /* in the file's (name) order */
    int has_world;
    fw_results_attrs world;
    uint32_t n_creators;
    uint32_t *creator_followers;   /* NULL when absent */
    uint32_t n_lat_days, n_bins, n_stages;
    int64_t *bin_lower_ns, *bin_upper_ns;   /* NULL when /latency is absent */
    fw_results_stage *stages;
    fw_results_cols work;     /* /work/<counter>, each n_days long (n 0 when absent) */
    fw_results_cols aigc_days, media_days;   /* issue 20: /aigc/days, /media/days (n 0 when absent) */
    int has_experiment;
    fw_results_attrs experiment;
    uint32_t n_metrics, n_tests;
    char **metric;
    char **metric_unit;       /* [n_metrics] /experiment/units; NULL in files without it */
    fw_results_test *tests;   /* one per treatment arm: the groups of /experiment with a
                                 `control` attribute (not /experiment/days, the looks) */
    /* /entities (output.entities), summed over days and cells; has_entities 0 when absent. */
    int has_entities;
    uint32_t n_ent_notes;        /* rows of /entities/notes */
    double *note_impressions;    /* [n_ent_notes] impressions over the run */
    double rank_examined[FW_RESULTS_RANKS], rank_clicked[FW_RESULTS_RANKS];   /* search, rank 1.. */
    double *cohort;              /* [n_days * n_days]: users first active on day d (row) who are
                                    active on day d + k (column k); column 0 is the cohort's size */
    uint32_t n_ent_campaigns;    /* rows of /entities/campaigns */
    double *campaign_spend, *campaign_budget;   /* [n_ent_campaigns] cents over the run */
} fw_results;

/* Loads the result file at path. On success *out is a new fw_results (free it with
 * fw_results_destroy) and FW_OK is returned. On failure *out is untouched and errbuf says
 * why, naming the file: FW_ERR_NOTFOUND when it cannot be opened, FW_ERR_PARSE when it is
 * not a regular file, not HDF5, not a Flywheel result (no flywheel_version attribute or no
 * /days) or not laid out as one (a column of /days/ARM, /work, a stage or a test that is not
 * 1-D numeric of the right length; days not increasing; no arm; corrupt string storage; an
 * array declaring more elements than the file stores), FW_ERR_IO when a present object
 * cannot be read (a dataset whose Fletcher-32 checksum fails included), FW_ERR_NOMEM.
 * Nothing read from the file sizes an allocation beyond what the file holds. Deterministic
 * given the file. */
fw_err fw_results_load(const char *path, fw_results **out, char *errbuf, size_t errlen);

/* fw_results_load reads the file twice: first in a child process (fw_h5_isolated, given this
 * many seconds), where a crash or a hang of libhdf5 on a corrupt file is caught, then here. */
#define FW_RESULTS_CHECK_TIMEOUT_S 300u

/* fw_results_load without the child: everything in this process (what a fuzzer must see). */
fw_err fw_results_load_here(const char *path, fw_results **out, char *errbuf, size_t errlen);

/* The most days a result file may have; more is a corrupt or crafted file. */
#define FW_RESULTS_MAX_DAYS 1000000u

/* Opens path, validates it and reads everything of it that `flywheel report` reads, exactly as
 * fw_results_load does, touches every value once and frees it all: FW_OK when report would
 * accept the file, else fw_results_load's error, with its message in errbuf. Starts no process
 * and writes nothing; for fuzzers and checks. Deterministic given the file. */
fw_err fw_results_check(const char *path, char *errbuf, size_t errlen);

/* Frees r and everything in it; accepts NULL. */
void fw_results_destroy(fw_results *r);

/* The attribute called name, or NULL. */
const fw_results_value *fw_results_attr(const fw_results_attrs *a, const char *name);

/* The column called name, or NULL. */
const double *fw_results_col(const fw_results_cols *c, const char *name);

/* The arm called name, or NULL. */
const fw_results_arm *fw_results_find_arm(const fw_results *r, const char *name);

#endif
