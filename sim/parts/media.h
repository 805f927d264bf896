/* The media part's hold (issue 20): the notes the platform's publishing pipeline
 * (flywheel/media.h) has not yet released, with their content, in submission order.
 * Owns: the held notes and embeddings.  Borrows: the run.  Never touches: the pipeline's
 * queues (the engine's). */
#ifndef FLYWHEEL_PARTS_MEDIA_H
#define FLYWHEEL_PARTS_MEDIA_H

#include "driver/sim.h"

struct fw_media_hold;

/* Barrier, in place of the driver's direct publication when S->media is set: submits the
 * notes written in tick t of the day (S->pend, advancing pend_done) to the pipeline, runs
 * the pipeline's tick and publishes what it released, in order, each with the current tick
 * as its publication tick (created_tick). */
fw_err fw_media_hold_tick(fw_sim *S, uint32_t t);

#endif
