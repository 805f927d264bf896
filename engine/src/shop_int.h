/* What other modules may read of the shop (shop.c): the users' profiles.
 * Owns: nothing here.  Borrows: the engine.  Never touches: anything; reads only, safe in
 * concurrent requests. Every call answers "nothing known" when the shop is off. */
#ifndef FLYWHEEL_SHOP_INT_H
#define FLYWHEEL_SHOP_INT_H

#include "engine_int.h"

/* The unified profile's purchase side for the feed: the share of each topic in the user's
 * transactions (views, carts, orders), added into share[n_topics] (which the caller zeroed);
 * and the share of one topic. */
void fw_shop_tx_shares(const fw_engine *e, uint32_t user, double *share);
double fw_shop_tx_share(const fw_engine *e, uint32_t user, uint32_t topic);

/* The topics user engages with more than the population (at most cap), into out: the
 * community side of the profile (the ads target with it). */
uint32_t fw_shop_engaged_topics(const fw_engine *e, uint32_t user, uint32_t *out, uint32_t cap);

#endif
