/* The report's section on AI-generated notes and the publishing pipeline (issue 20).
 * Owns: nothing; writes HTML to the stream it is handed.  Borrows: the loaded results during
 * the call.  Never touches: HDF5, files, gnuplot. */
#ifndef FLYWHEEL_REPORT_AIGC_H
#define FLYWHEEL_REPORT_AIGC_H

#include <stdio.h>

#include "io/results.h"

/* Writes the section (tables: per arm, the detector's days, the pipeline's days) of the runs
 * that have AIGC or pipeline series; nothing when none has. Deterministic. */
void fw_report_aigc_html(FILE *h, const fw_results *const *runs, int n_runs);

#endif
