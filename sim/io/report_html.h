/* What the report's sections share (report.c and report_*.c): HTML escaping, a number cell,
 * and a per-arm day column read from the results (its sum, one day, its largest value).
 * Owns: nothing.  Borrows: the stream and the results, during each call.
 * Never touches: HDF5, gnuplot, files other than the stream it is handed. */
#ifndef FLYWHEEL_REPORT_HTML_H
#define FLYWHEEL_REPORT_HTML_H

#include <stdint.h>
#include <stdio.h>

#include "io/results.h"

/* s with & < > " ' escaped (NULL: nothing). */
void fw_html_esc(FILE *h, const char *s);

/* A table cell: v with `decimals` decimals and suffix; a dash when v is not finite. */
void fw_html_num(FILE *h, double v, int decimals, const char *suffix);

/* Arm a's day column name (/days/<arm>/<name>): summed over the run's days, on day d, and its
 * largest value; NAN when the column is absent. */
double fw_day_sum(const fw_results *r, const fw_results_arm *a, const char *name);
double fw_day_at(const fw_results_arm *a, const char *name, uint32_t d);
double fw_day_max(const fw_results *r, const fw_results_arm *a, const char *name);

#endif
