/* Test fixture: an engine configuration with every knob at its default, expanded from the
 * knob lists (the one place defaults live). Header-only, for the unit-test binaries and bench/feed_bench.c. */
#ifndef FLYWHEEL_TEST_FIXTURE_ENGINE_H
#define FLYWHEEL_TEST_FIXTURE_ENGINE_H

#include <string.h>

#include "flywheel/engine_cfg.h"

static inline fw_engine_cfg fixture_engine_cfg(void)
{
    fw_engine_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
#define D(type, name, def, lo, hi, unit, doc) cfg.name = def;
    FW_ENGINE_KNOBS(D)
#undef D
#define D(type, name, def, lo, hi, unit, doc) cfg.feed.name = def;
    FW_FEED_KNOBS(D)
#undef D
#define D(type, name, def, lo, hi, unit, doc) cfg.rec.name = def;
    FW_REC_KNOBS(D)
#undef D
#define D(type, name, def, lo, hi, unit, doc) cfg.search.name = def;
    FW_SEARCH_KNOBS(D)
#undef D
#define D(type, name, def, lo, hi, unit, doc) cfg.shop.name = def;
    FW_SHOP_KNOBS(D)
#undef D
#define D(type, name, def, lo, hi, unit, doc) cfg.ads.name = def;
    FW_ADS_KNOBS(D)
#undef D
#define D(type, name, def, lo, hi, unit, doc) cfg.market.name = def;
    FW_MARKET_KNOBS(D)
#undef D
    return cfg;
}

#endif
