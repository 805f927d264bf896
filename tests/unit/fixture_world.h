/* Test fixture: default world and behaviour configurations at a chosen size (0 = default), and a cmocka
 * setup/teardown pair that generates a world once per test group. Header-only (also used by
 * bench/feed_bench.c). */
#ifndef FLYWHEEL_TEST_FIXTURE_WORLD_H
#define FLYWHEEL_TEST_FIXTURE_WORLD_H

#include <stdlib.h>
#include <string.h>

#include "model/knobs.h"
#include "model/world.h"

static inline fw_world_cfg fixture_world_cfg(uint32_t users, uint32_t notes, uint32_t products,
                                             uint32_t brands)
{
    fw_world_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
#define D(sec, scope, type, name, def, lo, hi, unit, doc) cfg.name = def;
    FW_WORLD_KNOBS(D)
#undef D
    /* 0 keeps the default. */
    cfg.n_users = users ? users : cfg.n_users;
    cfg.n_notes = notes ? notes : cfg.n_notes;
    cfg.n_products = products ? products : cfg.n_products;
    cfg.n_brands = brands ? brands : cfg.n_brands;
    return cfg;
}

static inline fw_behaviour_cfg fixture_behaviour_cfg(void)
{
    fw_behaviour_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
#define D(sec, scope, type, name, def, lo, hi, unit, doc) cfg.name = def;
    FW_BEHAVIOUR_KNOBS(D)
#undef D
    return cfg;
}

typedef struct fixture {
    fw_world_cfg cfg;
    fw_world w;
} fixture;

/* Generates a world of cfg with seed into a new fixture at *state; -1 when that fails. */
static inline int fixture_world_setup(void **state, fw_world_cfg cfg, uint64_t seed)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    f->cfg = cfg;
    if (fw_world_generate(&f->cfg, seed, &f->w) != FW_OK) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static inline int fixture_world_teardown(void **state)
{
    fixture *f = *state;
    fw_world_fini(&f->w);
    free(f);
    return 0;
}

#endif
