/* The report builder: turns one or two loaded result files into a self-contained folder of
 * gnuplot figures, their data and an index.html.
 * Owns: the files it writes under opts->dir (index.html; .dat files in data/; .gp, .png and
 * .svg files in figures/) and the gnuplot processes it starts (one per figure, each in a
 * process group of its own, waited for before it returns and killed with its group when it
 * runs past opts->timeout_s).
 * Borrows: the fw_results, read only during the call.
 * Never touches: HDF5 (it is handed fw_results), the result files, the environment; it is the
 * only module that starts gnuplot, always as an argument vector, never through a shell. */
#ifndef FLYWHEEL_REPORT_H
#define FLYWHEEL_REPORT_H

#include <stdio.h>

#include "flywheel/err.h"
#include "io/results.h"

typedef struct fw_report_opts {
    const char *dir;       /* the report folder; it and its figures/ and data/ must exist */
    const char *gnuplot;   /* the program to run, found on PATH; NULL means "gnuplot" */
    FILE *err;             /* where problems are printed; NULL means stderr */
    int timeout_s;         /* the most one gnuplot run may take before it is killed and its
                              figure noted as failed (later figures are then not drawn);
                              0 or less means FW_REPORT_GNUPLOT_TIMEOUT_S */
} fw_report_opts;

/* How long one gnuplot run (one figure, PNG and SVG) may take by default: far more than any
 * figure of ours needs, so that only a gnuplot that hangs reaches it. */
#define FW_REPORT_GNUPLOT_TIMEOUT_S 60

typedef struct fw_report_summary {
    int n_figures;         /* figures whose data exists */
    int n_failed;          /* of those, how many gnuplot could not draw */
} fw_report_summary;

/* Writes the report of runs[0..n_runs) (1 or 2; with 2 the daily and latency figures
 * overlay both runs) into opts->dir. A figure gnuplot cannot draw is reported on opts->err,
 * naming the figure and why, noted in index.html, and counted in sum->n_failed; the other
 * figures and index.html are still written, and FW_OK is returned. FW_ERR_IO (reported)
 * when a data file, script or index.html cannot be written; FW_ERR_INVAL for a bad
 * n_runs. *sum is written on FW_OK. Deterministic apart from what gnuplot does. */
fw_err fw_report_build(const fw_results *const *runs, int n_runs, const fw_report_opts *opts,
                       fw_report_summary *sum);

#endif
