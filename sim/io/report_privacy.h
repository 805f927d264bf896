/* The report's privacy figures (report_privacy.c): CTR, retention (active days per user) and
 * GMV per user of each privacy arm against its control, with the A/B test's 95% intervals,
 * plotted against the arm's epsilon (engine.privacy.dp arms) or retention window
 * (engine.privacy.retention_days arms).
 * Owns: nothing.  Borrows: the fw_results and the FILEs handed in, during the call.
 * Never touches: files of its own or gnuplot (report.c opens the data file and runs it). */
#ifndef FLYWHEEL_REPORT_PRIVACY_H
#define FLYWHEEL_REPORT_PRIVACY_H

#include <stdio.h>

#include "io/results.h"

typedef enum fw_report_privacy_kind {
    FW_REPORT_PRIVACY_EPSILON = 0,   /* lift against epsilon, Laplace and Gaussian apart */
    FW_REPORT_PRIVACY_RETENTION = 1  /* lift against the retention window in days */
} fw_report_privacy_kind;

/* Whether r's experiment has a test of an arm of this kind (its resolved scenario sets dp on,
 * resp. retention_days > 0, for the arm) and the metrics the figure plots. */
int fw_report_privacy_has(const fw_results *r, fw_report_privacy_kind kind);

/* Writes the figure's data into data (the report's data/privacy_<kind>.dat, named dat_name
 * in the plot) and its gnuplot body into gp. 0, or -1 when data cannot be written. */
int fw_report_privacy_plot(const fw_results *r, fw_report_privacy_kind kind, const char *dat_name, FILE *data,
                           FILE *gp);

#endif
