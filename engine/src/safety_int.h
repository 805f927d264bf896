/* Private to the engine: what serving code asks the safety module (engine/src/safety.c).
 * Owns: nothing.  Borrows: the engine.  Never touches: module state other than safety's.
 *
 * Every place that serves notes -- the feed's candidates (baseline and ranker plug-ins),
 * the recommender's candidates and scores, search's final ranking, the notify digest --
 * asks fw_safety_w for each note it would serve: 0 = never serve it to this user, otherwise
 * a factor on its ranking score (1 unless the note is down-ranked). */
#ifndef FLYWHEEL_SAFETY_INT_H
#define FLYWHEEL_SAFETY_INT_H

#include "engine_int.h"

/* The weight of note for user's request in cell (the module is on). Request-safe: reads only
 * state frozen between barriers. */
double fw_safety_weight(const fw_engine *e, uint32_t cell, uint32_t user, uint32_t note);

static inline double fw_safety_w(const fw_engine *e, uint32_t cell, uint32_t user, uint32_t note)
{
    return e->mod[FW_MOD_SAFETY] ? fw_safety_weight(e, cell, user, note) : 1.0;
}

/* A ranking score under weight w > 0: scaled down when positive, pushed further down when
 * negative (plug-in scores may be either), so a smaller weight always ranks lower. */
static inline double fw_safety_scale(double score, double w)
{
    return w == 1.0 ? score : score >= 0.0 ? score * w : score / w;
}

#endif
