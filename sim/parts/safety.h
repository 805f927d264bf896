/* The safety part's hooks for the shop part (sim/parts/safety.c): what fake planting notes do
 * to returns and brand trust. Each is a no-op (returns its input, or 0) when the safety part
 * does not run.
 * Owns: nothing.  Borrows: the run.  Never touches: the engine. */
#ifndef FLYWHEEL_PARTS_SAFETY_H
#define FLYWHEEL_PARTS_SAFETY_H

#include <stdint.h>

#include "driver/sim.h"

/* Barrier: the probability p that user u returns a delivered product, raised by
 * world.violation_fake_return (in logit) when a fake planting note planted the product in u
 * (the planted promise is not kept); counts the delivery. */
double fw_safety_sim_return(fw_sim *S, uint32_t u, uint32_t product, double p);

/* Barrier: u returned product; a return of a fake-planted product costs its brand u's trust. */
void fw_safety_sim_returned(fw_sim *S, uint32_t u, uint32_t product);

/* Session (u's own row): the logit penalty of clicking a card of product for u -- 
 * world.violation_fake_distrust when u has distrusted its brand, else 0. */
double fw_safety_sim_card_penalty(const fw_sim *S, uint32_t u, uint32_t product);

#endif
