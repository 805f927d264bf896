/* Notifications: a daily digest of the followed creators' notes. Each day a user's digest
 * lists, best first, up to engine.notify.digest_size of the notes the creators they follow
 * published the day before, ranked by the notes' smoothed open rate so far
 * ((opens + 1) / (impressions + 10), the newer note first on a tie).
 * Owns: the previous day's notes grouped by creator (engine/src/notify.c).
 * Borrows: nothing beyond a call.
 * Never touches: the world's truth, randomness, threads, files.
 *
 * fw_notify_digest is a request call (concurrent calls are safe between barriers); the
 * digest pool moves forward at each fw_engine_end_day. With digest_size 0 in every cell
 * (the default) the module is off and costs nothing. */
#ifndef FLYWHEEL_NOTIFY_H
#define FLYWHEEL_NOTIFY_H

#include "flywheel/engine.h"

/* The most notes in one digest (the knob's maximum). */
#define FW_NOTIFY_MAX_DIGEST 50u

/* Writes user's digest for today, as cell configures it, into out[0..cap) (best first) and
 * returns its length: 0 when the cell sends none, the user follows nobody who posted
 * yesterday, or the module is off. */
uint32_t fw_notify_digest(const fw_engine *e, uint32_t user, uint32_t cell, uint32_t *out, uint32_t cap);

#endif
