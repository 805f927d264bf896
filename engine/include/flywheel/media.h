/* The publishing pipeline (issue 20): upload -> transcode -> review, each stage a FIFO queue
 * with a capacity in work units per tick (engine.media.*). A note is published -- visible to
 * the feed, search, notifications, every module -- only when it leaves review: until then the
 * platform holds it and the caller keeps its content.
 * Owns: the queue of notes in the pipeline (their format and the tick they were submitted),
 * and the day's queue lengths and publish delays (engine/src/media.c).
 * Borrows: nothing beyond a call.  Never touches: the notes' content, randomness, threads,
 * files.
 *
 * Work: an image costs 1 unit at each stage; a video engine.media.video_<stage>_units. Each
 * tick every stage spends its capacity on its queue's head, in order; a note that finishes a
 * stage joins the next stage's queue in the same tick (so with ample capacity it crosses
 * all three at once), and a note only partly processed keeps its progress. Because every
 * stage is first in, first out, notes leave review in the order they were submitted. A stage
 * of capacity 0 is unlimited; with all three unlimited the pipeline is off (fw_media_on 0):
 * publish directly, at the tick the note was written, as before the pipeline existed.
 *
 * Delay of a note = tick it leaves review - tick it was submitted (0 with ample capacity).
 * The day series (media) hold the queue lengths at the day's end and their peak over the
 * day's ticks, and the delay percentiles (p50, p99, nearest rank) of the day's releases. */
#ifndef FLYWHEEL_MEDIA_H
#define FLYWHEEL_MEDIA_H

#include "flywheel/engine.h"

typedef enum fw_media_stage {
    FW_MEDIA_UPLOAD = 0,
    FW_MEDIA_TRANSCODE,
    FW_MEDIA_REVIEW,
    FW_MEDIA__STAGES
} fw_media_stage;

/* Whether the pipeline runs (some stage has a capacity). */
int fw_media_on(const fw_engine *e);

/* Barrier call: a note of format (fw_format) written at tick enters the upload queue.
 * FW_ERR_INVAL with the pipeline off or a bad format; FW_ERR_NOMEM when the queue cannot
 * grow (nothing queued). */
fw_err fw_media_submit(fw_engine *e, uint8_t format, int32_t tick);

/* Barrier call, once per tick after the tick's submissions: every stage spends its capacity.
 * Writes to *n_released how many notes left review: the oldest *n_released submitted and not
 * yet released, to be published now (fw_engine_publish_note) in submission order.
 * FW_ERR_INVAL with the pipeline off. Deterministic given the calls. */
fw_err fw_media_step(fw_engine *e, int32_t tick, uint32_t *n_released);

/* The notes waiting in each stage now (q[FW_MEDIA__STAGES]); all 0 with the pipeline off. */
void fw_media_queues(const fw_engine *e, uint64_t *q);

#endif
