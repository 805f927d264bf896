/* The report's trust-and-safety section (issue 20): what moderation did, per run and arm.
 * Owns: nothing.  Borrows: the results and the open index.html, during the call.
 * Never touches: HDF5, gnuplot, files other than the stream it is handed. */
#ifndef FLYWHEEL_REPORT_SAFETY_H
#define FLYWHEEL_REPORT_SAFETY_H

#include <stdio.h>

#include "io/results.h"

/* Writes the section into h (HTML) when some run has the safety part's counters
 * (/days/<arm>/safety_impressions); nothing otherwise. Deterministic given the results. */
void fw_report_safety_html(FILE *h, const fw_results *const *runs, int n_runs);

#endif
