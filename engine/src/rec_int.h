/* What other modules may read of the recommender (rec.c): its learned vectors and priors.
 * Owns: nothing here.  Borrows: the engine.  Never touches: anything; reads only, safe in
 * concurrent requests. Every call answers "nothing learned" when the recommender is off. */
#ifndef FLYWHEEL_REC_INT_H
#define FLYWHEEL_REC_INT_H

#include "engine_int.h"

/* The platform's smoothed open rate per impression, (opens + 1) / (impressions + 12) over
 * every event the learner serving user u in cell has seen; otherwise when the recommender is
 * off or cell's feed does not learn (a baseline cell reads nothing learned, whatever other
 * arms run). */
double fw_rec_ctr_prior(const fw_engine *e, uint32_t cell, uint32_t u, double otherwise);

/* The learned user . topic score of (u, t) in the learner serving u in cell into *dot; 0 (nothing
 * written) when the recommender is off, cell's feed does not learn or t is not a topic. */
int fw_rec_user_topic(const fw_engine *e, uint32_t cell, uint32_t u, uint32_t t, double *dot);

/* The learned vectors of the learner serving user u in cell (read only, safe in requests;
 * valid until the next barrier): their length (0 when the recommender is off), the user's
 * vector ([dim], borrowed), and note n's embedding -- its topic's, format's and residual
 * vectors summed -- into out[dim], so that their dot product is the embedding score the
 * recommender ranks with. fw_rec_max_dim: the longest of any learner (0: off);
 * fw_rec_learner_dim: learner l's (fw_learner; 0: off). */
uint32_t fw_rec_vec_dim(const fw_engine *e, uint32_t cell, uint32_t u);
uint32_t fw_rec_max_dim(const fw_engine *e);
uint32_t fw_rec_learner_dim(const fw_engine *e, uint32_t learner);
const float *fw_rec_user_vec(const fw_engine *e, uint32_t cell, uint32_t u);
void fw_rec_note_vec(const fw_engine *e, uint32_t cell, uint32_t u, uint32_t n, float *out);

/* The retention window's day end (engine.privacy.retention_days, privacy.c calls it): erases
 * every recent open and note-opener entry of a user in a cell with a window of N days that is
 * older than N days as of the end of day, and resets the user vectors and counts whose N-day
 * rotation (staggered by user) ends today. Adds what it erased and reset to the counters.
 * Nothing when the recommender is off. */
void fw_rec_forget(fw_engine *e, uint32_t day, uint64_t *forgotten, uint64_t *reset);

#endif
