#include <math.h>

#include "driver/metrics.h"

#define NAME(name, ...) #name,
#define UNIT(name, unit, doc) unit,
#define DOC(name, unit, doc) doc,
const char *const fw_day_counter_name[FW_DC__COUNT] = {FW_DAY_COUNTERS(NAME)};
const char *const fw_day_counter_unit[FW_DC__COUNT] = {FW_DAY_COUNTERS(UNIT)};
const char *const fw_day_counter_doc[FW_DC__COUNT] = {FW_DAY_COUNTERS(DOC)};
#undef UNIT
#undef DOC
#define UNIT(name, num, den, scale, unit, doc) unit,
#define DOC(name, num, den, scale, unit, doc) doc,
const char *const fw_day_rate_name[FW_DR__COUNT] = {FW_DAY_RATES(NAME)};
const char *const fw_day_rate_unit[FW_DR__COUNT] = {FW_DAY_RATES(UNIT)};
const char *const fw_day_rate_doc[FW_DR__COUNT] = {FW_DAY_RATES(DOC)};

void fw_metrics_rates(const uint64_t *c, double *rate)
{
#define RATE(name, num, den, scale, unit, doc)                                                 \
    rate[FW_DR_##name] = c[FW_DC_##den] ? (scale) * (double)c[FW_DC_##num] / (double)c[FW_DC_##den] : NAN;
    FW_DAY_RATES(RATE)
#undef RATE
}
