/* The report's live-selling section (issue 19): live sessions, viewers, live orders and live
 * GMV, per run and arm.
 * Owns: nothing.  Borrows: the results and the open index.html, during the call.
 * Never touches: HDF5, gnuplot, files other than the stream it is handed. */
#ifndef FLYWHEEL_REPORT_LIVE_H
#define FLYWHEEL_REPORT_LIVE_H

#include <stdio.h>

#include "io/results.h"

/* Writes the section into h (HTML) when some run has the live part's counters
 * (/days/<arm>/live_gmv_cents); nothing otherwise. Deterministic given the results. */
void fw_report_live_html(FILE *h, const fw_results *const *runs, int n_runs);

#endif
