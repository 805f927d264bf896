/* AI-generated notes on the platform side (issue 20): a detector, a labelling policy and a
 * down-rank of flagged notes their creators did not declare.
 * Owns: one byte of flags per note (engine/src/aigc.c) and the day's detector counts.
 * Borrows: nothing beyond a call.
 * Never touches: the world's truth beyond fw_publication.ai_generated, which only the
 * detector stand-in reads; randomness (its coins are keyed hashes of the catalog seed and
 * the note id, so flags are the same for any thread count); threads; files.
 *
 * The detector stand-in. A platform's AIGC classifier is an operating point: it flags a
 * share `recall` of AI-generated notes and some human notes. Here a note of truth AIGC is
 * flagged when a keyed uniform falls below engine.aigc.detect_recall; a human note when it
 * falls below the false-positive rate that gives precision engine.aigc.detect_precision at
 * the AIGC share of the notes published today and yesterday (this one included):
 *     fpr = recall * A / H * (1 - precision) / precision,   A, H = AIGC and human notes,
 * capped at 1 (a precision that low cannot be reached) and 0 while no AIGC note is in the
 * window. So the measured precision and recall (the day series) match the knobs up to the
 * coins while the AIGC share holds still; while it grows, the window's share lags today's
 * and precision runs a little above the knob (a detector calibrated on yesterday's traffic
 * behaves the same way).
 *
 * What the platform can know. It never knows which notes are AI-generated; it knows what the
 * creator declared and what the detector flagged. A note is labelled when declared, or
 * flagged under engine.aigc.label_detected. "Unlabelled AIGC" as a ranking policy can only
 * mean "flagged but not declared" (undisclosed, as far as the detector can tell):
 * engine.aigc.downrank_unlabelled multiplies those notes' ranking scores in the feed (every
 * algorithm, the plug-in's candidates excepted) and in search, in the viewer's cell; the
 * detector's false positives are down-ranked too (creator harm, counted).
 * Pre-existing catalog notes carry no flags (they predate the tools). With the detector off
 * (the default) the module does not run and costs nothing. */
#ifndef FLYWHEEL_AIGC_H
#define FLYWHEEL_AIGC_H

#include "flywheel/engine.h"

/* A note's flags (fw_aigc_note). */
enum {
    FW_AIGC_DECLARED = 1u,     /* the creator declared it AI-generated */
    FW_AIGC_FLAGGED = 2u,      /* the detector flagged it */
    FW_AIGC_LABELLED = 4u,     /* shown with the AIGC label */
    FW_AIGC_DOWNRANKED = 8u    /* flagged and not declared: engine.aigc.downrank_unlabelled applies */
};

/* The flags of note (0 for an unknown note, a catalog note, or with the detector off).
 * Read-only; safe between barriers. Deterministic given the publications. */
unsigned fw_aigc_note(const fw_engine *e, uint32_t note);

#endif
