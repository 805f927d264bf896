/* Who opts out of personalisation (world.optout_share): the user side of engine.privacy.
 * Owns: nothing (returns a new array).  Borrows: nothing.
 * Never touches: the engine; the simulator hands the array to it through fw_catalog.optout. */
#ifndef FLYWHEEL_OPTOUT_H
#define FLYWHEEL_OPTOUT_H

#include <stdint.h>

#include "flywheel/err.h"

/* Draws each user's opt-out (probability share, one keyed stream per user: the same users opt
 * out at any thread count and in every arm) into a new array [n_users] of 0/1 at *out, or
 * NULL when share is 0 (nobody: the engine's privacy module stays off). FW_ERR_NOMEM. */
fw_err fw_optout_draw(uint64_t seed, uint32_t n_users, double share, uint8_t **out);

#endif
