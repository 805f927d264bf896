/* AI-generated notes on the world's side (issue 20): who has adopted the AIGC tool, and what
 * the tool does to a note. The notes part calls these while it draws the day's notes; the
 * aigc part (parts/aigc.c) measures the day's new notes.
 * Owns: the tool's template vector per topic (fw_aigc_tool).  Borrows: the run (fw_sim).
 * Never touches: the engine (it sees a note's declaration, and the truth only through its
 * detector stand-in, flywheel/aigc.h).
 *
 * Adoption: each creator has a fixed threshold u ~ U(0, 1) (stream AIGC, entity the creator's
 * user, day 0); on day d they have adopted when u < min(1, (d + 1) x
 * behaviour.aigc_adoption_per_day) of their cell (control's during a pre-period), so
 * adoption only grows and an arm's adopters at a lower rate are a subset of a higher one's.
 * An adopter posts Poisson(rate x world.aigc_rate_boost) notes a day, all AI-generated:
 * quality skill + aigc_quality_shift + the human residual x aigc_quality_sigma /
 * note_quality_sigma (so the draws are the human ones, rescaled), and embedding
 * (1 - h) x the human draw + h x the tool's template of the topic, h = aigc_homogenise (the
 * template: the topic's centroid plus the tool's "house style", one N(0, 0.6) vector -- the
 * scale of a note's own noise -- shared by every topic, from stream AIGC, entity n_topics:
 * the tool's notes resemble each other across topics as well as within one). A share aigc_declare_share of AI-generated notes are
 * declared by their creator (a coin per note from stream AIGC, entity the creator, day + 1).
 * With adoption 0 in every arm nothing here runs and no draw changes. */
#ifndef FLYWHEEL_PARTS_AIGC_H
#define FLYWHEEL_PARTS_AIGC_H

#include "driver/sim.h"

typedef struct fw_aigc_tool {
    float *tmpl;       /* [n_topics * dim], NULL: no arm adopts (the tool is off) */
    gsl_rng *rng;      /* stream AIGC, sought before every use */
} fw_aigc_tool;

/* Whether some arm of the scenario adopts the tool (behaviour.aigc_adoption_per_day > 0). */
int fw_aigc_on(const fw_scenario *sc);

/* Fills t (templates from the run's allocations): off (tmpl NULL) unless fw_aigc_on. */
fw_err fw_aigc_tool_init(fw_sim *S, fw_aigc_tool *t);

/* Whether creator c (index) has adopted the tool today; when it has, t's stream is left at
 * the creator's declarations of the day. 0 with the tool off. */
int fw_aigc_adopted(fw_aigc_tool *t, const fw_sim *S, uint32_t c);

/* Makes pn (with embedding emb, drawn as a human note) the adopter's AI-generated note:
 * quality, embedding, truth and declaration (one draw from t's stream). */
void fw_aigc_make(fw_aigc_tool *t, const fw_sim *S, fw_pending_note *pn, float *emb);

#endif
