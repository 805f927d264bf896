/* Private to the engine: what the ranking code reads of the aigc module (flywheel/aigc.h).
 * Owns: nothing.  Borrows: the module's flags.  Never touches: the module's counts. */
#ifndef FLYWHEEL_AIGC_INT_H
#define FLYWHEEL_AIGC_INT_H

#include "engine_int.h"
#include "flywheel/aigc.h"

/* The flags array the down-rank of cell reads ([cap_notes], FW_AIGC_*), or NULL when the
 * cell's engine.aigc.downrank_unlabelled is 1 or the detector is off: nothing to do. */
const uint8_t *fw_aigc_downrank_flags(const fw_engine *e, uint32_t cell, double *mult);

/* score of note after the down-rank (flags from fw_aigc_downrank_flags, NULL: unchanged). A
 * multiplier lowers a positive score; a negative one (a logit) is divided by it, so a
 * down-ranked note always falls (mult 0: to 0 or -inf). */
static inline double fw_aigc_score(const uint8_t *flags, double mult, uint32_t note, double score)
{
    if (flags == NULL || !(flags[note] & FW_AIGC_DOWNRANKED))
        return score;
    return score >= 0.0 ? score * mult : score / mult;
}

#endif
