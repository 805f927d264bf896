/* The run's day counters (counters.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/counters.h"

int fw_counters_find(const fw_counters *c, const char *name)
{
    for (uint32_t k = 0; k < c->n; k++)
        if (strcmp(c->desc[k].name, name) == 0)
            return (int)k;
    return -1;
}

fw_err fw_counters_build(fw_counters *c, const fw_part *const *parts, uint32_t n_parts, uint32_t *base,
                         char *why, size_t cap)
{
    memset(c, 0, sizeof *c);
    uint32_t n = 0, nr = 0;
    for (uint32_t p = 0; p < n_parts; p++) {
        n += parts[p]->n_counters;
        nr += parts[p]->n_rates;
    }
    c->desc = calloc(n + 1, sizeof *c->desc);
    c->rates = calloc(nr + 1, sizeof *c->rates);
    if (!c->desc || !c->rates) {
        fw_counters_fini(c);
        return FW_ERR_NOMEM;
    }
    for (uint32_t p = 0; p < n_parts; p++) {
        base[p] = c->n;
        for (uint32_t k = 0; k < parts[p]->n_counters; k++) {
            if (fw_counters_find(c, parts[p]->counters[k].name) >= 0) {
                snprintf(why, cap, "part %s: counter %s exists twice", parts[p]->name, parts[p]->counters[k].name);
                fw_counters_fini(c);
                return FW_ERR_INVAL;
            }
            c->desc[c->n++] = parts[p]->counters[k];
        }
    }
    for (uint32_t p = 0; p < n_parts; p++)
        for (uint32_t k = 0; k < parts[p]->n_rates; k++) {
            const fw_rate_desc *r = &parts[p]->rates[k];
            int num = fw_counters_find(c, r->num), den = fw_counters_find(c, r->den);
            if (num < 0 || den < 0) {
                snprintf(why, cap, "part %s: rate %s names a counter no part has (%s)", parts[p]->name, r->name,
                         num < 0 ? r->num : r->den);
                fw_counters_fini(c);
                return FW_ERR_INVAL;
            }
            c->rates[c->n_rates++] = (fw_rec_rate){.name = r->name, .num = (uint32_t)num, .den = (uint32_t)den,
                                                   .scale = r->scale, .unit = r->unit, .doc = r->doc};
        }
    return FW_OK;
}

void fw_counters_fini(fw_counters *c)
{
    free(c->desc);
    free(c->rates);
    memset(c, 0, sizeof *c);
}

double fw_counters_rate(const fw_counters *c, const uint64_t *row, const char *name)
{
    for (uint32_t k = 0; k < c->n_rates; k++)
        if (strcmp(c->rates[k].name, name) == 0) {
            const fw_rec_rate *r = &c->rates[k];
            return row[r->den] ? (r->scale) * (double)row[r->num] / (double)row[r->den] : NAN;
        }
    return NAN;
}

const char *fw_pct_text(char *buf, size_t n, double rate, int decimals)
{
    if (isfinite(rate))
        snprintf(buf, n, "%.*f%%", decimals, 100.0 * rate);
    else
        snprintf(buf, n, "n/a");
    return buf;
}
