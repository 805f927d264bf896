/* The living world's rules (issue 18): how a creator's posting rate responds to what their
 * notes earn, and how likely a user is to leave for good. Pure functions of their inputs;
 * the living part (sim/parts/living.c) keeps the state and applies them.
 * Owns: nothing.  Borrows: the world knobs passed in.  Never touches: the world, the engine,
 * random streams. Deterministic. */
#ifndef FLYWHEEL_LIVING_H
#define FLYWHEEL_LIVING_H

#include "model/knobs.h"

/* The largest factor a creator's response may put on their base posting rate. */
#define FW_LIVING_MAX_FACTOR 20.0

/* Per day, the weight a memory keeps: 0.5^(1 / half_life_days). */
double fw_living_decay(double half_life_days);

/* A creator's recent record: attention (interactions and new followers their notes earned),
 * notes posted and marketplace income (cents), each a sum over past days weighted by
 * fw_living_decay(creator_memory_days)^age. */
typedef struct fw_creator_memory {
    double attention, posts, income_cents;
    double habit;   /* the same sum of the creator's base rate: the posts of their habit */
} fw_creator_memory;

/* The factor on a creator's base posting rate given their memory m and the average attention
 * per note over every creator's memory, mean_per_note:
 *   (q / mean_per_note)^creator_response, q = (attention + mean_per_note) / (posts + 1)
 *     (attention per note, shrunk towards the average by one pseudo-note: a creator who has
 *     posted nothing is average);
 * x (1 + income / task_budget_cents)^creator_income_response;
 * / (1 + creator_fatigue x max(0, (posts - habit) / (habit + 1))), the recent posts beyond the
 *     creator's habit, relative to it (the + 1 keeps one note of a rare poster from counting
 *     as a huge excess);
 * capped at FW_LIVING_MAX_FACTOR. Exactly 1 when the three knobs are 0; the attention term is
 * skipped when no note got any attention (mean_per_note 0). */
double fw_living_rate_factor(const fw_world_cfg *cfg, const fw_creator_memory *m, double mean_per_note);

/* The probability of leaving for good today at satisfaction s (1 = as expected): a
 * proportional hazard churn_base x exp(churn_dissatisfaction x (1 - s)), as a day's
 * probability 1 - exp(-hazard); 0 when churn_base is 0. */
double fw_living_churn_p(const fw_world_cfg *cfg, double s);

/* Unfollows (behaviour.unfollow_rate, unfollow_open_keep): a follower's disinterest d in a
 * creator they follow. After a feed impression of one of the creator's notes that the follower
 * did not open: d + 1, and *p the probability of unfollowing now, min(1, rate x (d + 1))
 * (0 when rate is 0). After an open of one: d x keep. */
double fw_unfollow_ignored(double d, double rate, double *p);
double fw_unfollow_opened(double d, double keep);

#endif
