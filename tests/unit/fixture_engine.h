/* Test fixture: an engine configuration with every knob at its default -- the engine's own
 * fw_engine_cfg_defaults, expanded from the knob lists (the one place defaults live).
 * Header-only, for the unit-test binaries and bench/feed_bench.c. */
#ifndef FLYWHEEL_TEST_FIXTURE_ENGINE_H
#define FLYWHEEL_TEST_FIXTURE_ENGINE_H

#include "flywheel/engine_cfg.h"

static inline fw_engine_cfg fixture_engine_cfg(void)
{
    fw_engine_cfg cfg;
    fw_engine_cfg_defaults(&cfg);
    return cfg;
}

#endif
