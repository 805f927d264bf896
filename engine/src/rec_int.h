/* What other modules may read of the recommender (rec.c): its learned vectors and priors.
 * Owns: nothing here.  Borrows: the engine.  Never touches: anything; reads only, safe in
 * concurrent requests. Every call answers "nothing learned" when the recommender is off. */
#ifndef FLYWHEEL_REC_INT_H
#define FLYWHEEL_REC_INT_H

#include "engine_int.h"

/* The platform's smoothed open rate per impression, (opens + 1) / (impressions + 12) over
 * every event the learner serving user u in cell has seen; otherwise when the recommender is
 * off. */
double fw_rec_ctr_prior(const fw_engine *e, uint32_t cell, uint32_t u, double otherwise);

/* The learned user . topic score of (u, t) in the learner serving u in cell into *dot; 0 (nothing
 * written) when the recommender is off or t is not a topic. */
int fw_rec_user_topic(const fw_engine *e, uint32_t cell, uint32_t u, uint32_t t, double *dot);

#endif
