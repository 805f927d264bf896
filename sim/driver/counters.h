/* The day counters of a run: every part's counters side by side in one row per cell (the
 * driver's own first), and the rates over them, resolved by name.
 * Owns: the table it builds (free with fw_counters_fini).  Borrows: the parts' descriptors.
 * Never touches: the counts themselves; they live in the threads' rows and the recorder. */
#ifndef FLYWHEEL_COUNTERS_H
#define FLYWHEEL_COUNTERS_H

#include <stdint.h>

#include "driver/part.h"

typedef struct fw_counters {
    uint32_t n, n_rates;
    fw_counter_desc *desc;   /* [n] */
    fw_rec_rate *rates;      /* [n_rates] */
} fw_counters;

/* Lays out the counters of parts[0..n_parts) in that order, writing each part's first index to
 * base[k], and resolves their rates. FW_ERR_INVAL (why written) when a rate names a counter no
 * part has or two counters share a name; FW_ERR_NOMEM. */
fw_err fw_counters_build(fw_counters *c, const fw_part *const *parts, uint32_t n_parts, uint32_t *base,
                         char *why, size_t cap);
void fw_counters_fini(fw_counters *c);

/* The index of counter name, or -1. */
int fw_counters_find(const fw_counters *c, const char *name);

/* The rate called name over row (NaN when its denominator is 0 or it does not exist). */
double fw_counters_rate(const fw_counters *c, const uint64_t *row, const char *name);

/* A rate as a percentage with `decimals` decimals ("8.25%"), or "n/a" when it is not finite
 * (no denominator: a world without impressions, a day without product views): buf, for
 * printing with %s. */
const char *fw_pct_text(char *buf, size_t n, double rate, int decimals);

#endif
